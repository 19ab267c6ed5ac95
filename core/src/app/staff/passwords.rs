//! argon2id password hashes, computed off the async workers (one costs ~19 MiB and tens of
//! milliseconds by design).

use std::sync::LazyLock;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

use crate::app::AppError;
use crate::domain::NewPassword;

/// OWASP's first recommended argon2id setting: m = 19 MiB, t = 2, p = 1.
fn hasher() -> Result<Argon2<'static>, AppError> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| AppError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// At most one hash per core at once: each holds 19 MiB, and more would only queue for the CPU
/// while holding memory (a login flood from many addresses waits here instead).
static HASHING: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get)));

/// Runs `work` on a blocking thread once a hashing permit is free.
async fn off_the_workers<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let _permit = HASHING.acquire().await.map_err(|e| AppError::Internal(format!("{what}: {e}")))?;
    tokio::task::spawn_blocking(work).await.map_err(|e| AppError::Internal(format!("{what} task: {e}")))?
}

pub(crate) async fn hash(password: &NewPassword) -> Result<String, AppError> {
    let password = password.expose().to_owned();
    off_the_workers("password hashing", move || {
        // A fresh random salt from the operating system, in the PHC string with the parameters.
        hasher()?
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("argon2 hash: {e}")))
    })
    .await
}

/// Whether `password` matches `stored`. With no stored hash (an unknown address) a hash is
/// still verified, so that the answer takes as long either way.
pub(crate) async fn verify(password: &str, stored: Option<String>) -> Result<bool, AppError> {
    let password = password.to_owned();
    off_the_workers("password checking", move || {
        let argon2 = hasher()?;
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| UNKNOWN_ACCOUNT_HASH.to_owned());
        let parsed = PasswordHash::new(&phc).map_err(|e| AppError::Internal(format!("stored password hash: {e}")))?;
        Ok(argon2.verify_password(password.as_bytes(), &parsed).is_ok() && known)
    })
    .await
}

/// The hash of a password nobody knows, with the same parameters as real ones.
const UNKNOWN_ACCOUNT_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c3BvcnRlbGxvLW5vYm9keQ$N4Jzk2mXqQ0w8F2Q1m8b0kqzq2H2eJmQv3o5r1m8m1A";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::StaffEmail;

    #[tokio::test]
    async fn hashes_verify_and_carry_owasp_parameters() {
        let email = StaffEmail::parse("a@example.it").unwrap();
        let password = NewPassword::parse("argine maestro 1927", &email).unwrap();
        let stored = hash(&password).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(verify("argine maestro 1927", Some(stored.clone())).await.unwrap());
        assert!(!verify("argine maestro 1928", Some(stored)).await.unwrap());
        assert!(!verify("anything", None).await.unwrap());
    }
}
