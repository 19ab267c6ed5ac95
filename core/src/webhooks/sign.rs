//! Standard Webhooks signatures (https://www.standardwebhooks.com): a `whsec_`-prefixed base64
//! secret; `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per
//! secret in force, separated by spaces (during a rotation, the new and the previous one).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";
/// 24 random bytes, as the specification's libraries make them.
const SECRET_BYTES: usize = 24;

/// A signing secret: its key bytes, written `whsec_<base64>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

#[derive(Debug, thiserror::Error)]
#[error("a webhook secret is whsec_ followed by base64 of 24 to 64 bytes")]
pub struct SecretError;

impl Secret {
    pub fn generate() -> Self {
        Self((0..SECRET_BYTES).map(|_| rand::random::<u8>()).collect())
    }

    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let key = STANDARD.decode(text.strip_prefix(PREFIX).ok_or(SecretError)?).map_err(|_| SecretError)?;
        if !(SECRET_BYTES..=64).contains(&key.len()) {
            return Err(SecretError);
        }
        Ok(Self(key))
    }

    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.0))
    }

    fn sign(&self, content: &str) -> String {
        // HMAC accepts keys of any length.
        let tag = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mut mac) => {
                mac.update(content.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        };
        format!("v1,{}", STANDARD.encode(tag))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The `webhook-signature` value for message `id` sent at `timestamp` (Unix seconds) with `body`,
/// signed by each of `secrets`.
pub fn signature_header(secrets: &[&Secret], id: &str, timestamp: i64, body: &str) -> String {
    let content = format!("{id}.{timestamp}.{body}");
    secrets.iter().map(|s| s.sign(&content)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_specifications_example() {
        // The example of the Standard Webhooks specification and its reference libraries.
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        let header = signature_header(&[&secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(header, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_round_trip_and_bad_ones_are_refused() {
        let secret = Secret::generate();
        assert_eq!(Secret::parse(&secret.expose()).unwrap(), secret);
        for bad in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_***", "whsec_c2hvcnQ="] {
            assert!(Secret::parse(bad).is_err(), "{bad}");
        }
        let two = signature_header(&[&secret, &Secret::generate()], "msg_1", 1, "{}");
        assert_eq!(two.split(' ').count(), 2);
        assert!(!format!("{secret:?}").contains("whsec"), "never in logs");
    }
}
