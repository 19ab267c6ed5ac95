//! The second factor: a TOTP authenticator (RFC 6238: six digits every 30 seconds, SHA-1, what
//! every authenticator app reads) and ten recovery codes for when the phone is lost. A code
//! works once: the last time step used is kept, and a recovery code is spent when used.

use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::json;
use totp_rs::{Algorithm, Secret, TOTP};

use super::StaffSession;
use super::audit::Actor;
use super::secrets::{digest, same};
use super::sessions::{attempt_keys, throttled};
use crate::app::{AppError, Sportello};
use crate::store::{RecoveryCodes, Sessions, StaffAccounts, StoredAccount};

const STEP_SECONDS: i64 = 30;
const DIGITS: usize = 6;
const RECOVERY_CODES: usize = 10;
/// Letters and digits that cannot be misread for one another.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// What an authenticator app needs to start: the secret, as a QR code and as text.
#[derive(Clone, Debug)]
pub struct Enrolment {
    /// Base32, in groups of four for typing.
    pub secret: String,
    /// `otpauth://totp/Sportello:<address>?secret=…&issuer=Sportello`
    pub uri: String,
    /// The URI as an SVG QR code (made here, from nothing the user sent).
    pub qr_svg: String,
}

#[derive(Clone, Copy, Debug)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    pub recovery_codes_left: u64,
}

fn authenticator(secret: &str, account: &str) -> Result<TOTP, AppError> {
    let bytes = Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|e| AppError::Internal(format!("a stored TOTP secret does not decode: {e:?}")))?;
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECONDS as u64, bytes, Some("Sportello".into()), account.to_owned())
        .map_err(|e| AppError::Internal(format!("TOTP: {e}")))
}

/// The time step of `code` if it is the code of the step of `now` or of the one either side (a
/// phone's clock a little off).
fn step_of(totp: &TOTP, code: &str, now: DateTime<Utc>) -> Option<i64> {
    let now = now.timestamp() / STEP_SECONDS;
    (now - 1..=now + 1).find(|step| {
        let expected = totp.generate(u64::try_from(step * STEP_SECONDS).unwrap_or_default());
        same(&expected, code)
    })
}

/// A code as typed: the six digits, or a recovery code without its dashes.
fn normalized(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let letters: Vec<char> = (0..12)
                .map(|_| {
                    let index = rng.random_range(0..RECOVERY_ALPHABET.len());
                    RECOVERY_ALPHABET.get(index).map_or('a', |b| char::from(*b))
                })
                .collect();
            letters.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
        })
        .collect()
}

impl Sportello {
    async fn own_account(&self, session: &StaffSession) -> Result<StoredAccount, AppError> {
        session.require_person()?;
        StaffAccounts::by_id(self.store.reader(), session.member.id).await?.ok_or(AppError::Unauthenticated)
    }

    pub async fn two_factor_status(&self, session: &StaffSession) -> Result<TwoFactorStatus, AppError> {
        let account = self.own_account(session).await?;
        let left = RecoveryCodes::unused(self.store.reader(), account.id).await?;
        Ok(TwoFactorStatus { enabled: account.totp_secret.is_some(), recovery_codes_left: left })
    }

    /// The secret to scan: made on the first visit and kept until a code confirms it, so that a
    /// mistyped code does not change what the app already holds.
    pub async fn start_enrolment(&self, session: &StaffSession) -> Result<Enrolment, AppError> {
        let account = self.own_account(session).await?;
        let secret = match account.totp_pending_secret {
            Some(pending) => pending,
            None => {
                let mut bytes = [0u8; 20];
                rand::rng().fill(&mut bytes);
                let Secret::Encoded(secret) = Secret::Raw(bytes.to_vec()).to_encoded() else {
                    return Err(AppError::Internal("TOTP secret not encoded".into()));
                };
                StaffAccounts::set_totp_pending(self.store.reader(), account.id, &secret).await?;
                secret
            }
        };
        let uri = authenticator(&secret, account.email.as_str())?.get_url();
        let grouped = secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>();
        Ok(Enrolment { secret: grouped.join(" "), qr_svg: crate::app::qr_svg(&uri, 200)?, uri })
    }

    /// Turns the second factor on, if `code` comes from the secret just shown; the recovery codes,
    /// shown once.
    pub async fn confirm_enrolment(&self, session: &StaffSession, code: &str) -> Result<Vec<String>, AppError> {
        let account = self.own_account(session).await?;
        let pending = account.totp_pending_secret.as_deref().ok_or_else(|| {
            AppError::field("code", "enrolment_expired", "Scan the code on this page again, then type a new code.")
        })?;
        let totp = authenticator(pending, account.email.as_str())?;
        let step = step_of(&totp, &normalized(code), self.clock.now())
            .ok_or_else(|| AppError::field("code", "wrong_code", "This code is not the one your app shows now."))?;
        let codes = new_recovery_codes();
        let current = session.session_digest()?;
        let tx = self.store.begin_write().await?;
        StaffAccounts::set_totp(tx.conn(), account.id, Some(pending), Some(step)).await?;
        RecoveryCodes::replace(
            tx.conn(),
            account.id,
            &codes.iter().map(|c| digest(&normalized(c))).collect::<Vec<_>>(),
        )
        .await?;
        // This session has just given a code; the others only ever gave the password.
        Sessions::mark_second_factor(tx.conn(), current).await?;
        Sessions::delete_for_account(tx.conn(), account.id, Some(current)).await?;
        tx.commit().await?;
        self.audit_member(&session.member, &Actor::of(session), "two_factor.enabled", json!({})).await?;
        Ok(codes)
    }

    /// Ten new recovery codes (the old ones stop working), for a code from the app.
    pub async fn renew_recovery_codes(&self, session: &StaffSession, code: &str) -> Result<Vec<String>, AppError> {
        let account = self.own_account(session).await?;
        if !self.second_factor_proves(&account, code, session.client.as_deref()).await? {
            return Err(AppError::field("code", "wrong_code", "This code is not the one your app shows now."));
        }
        let codes = new_recovery_codes();
        let digests: Vec<String> = codes.iter().map(|c| digest(&normalized(c))).collect();
        RecoveryCodes::replace(self.store.reader(), account.id, &digests).await?;
        self.audit_member(&session.member, &Actor::of(session), "two_factor.recovery_codes", json!({})).await?;
        Ok(codes)
    }

    /// Turns the second factor off: the password and a code prove it is the owner.
    pub async fn turn_off_two_factor(
        &self,
        session: &StaffSession,
        password: &str,
        code: &str,
    ) -> Result<(), AppError> {
        let account = self.own_account(session).await?;
        let client = session.client.as_deref();
        if !self.second_factor_proves(&account, code, client).await? {
            return Err(AppError::field("code", "wrong_code", "This code is not the one your app shows now."));
        }
        if !self.password_proves(&account, password, client).await? {
            return Err(AppError::field("password", "wrong_password", "This is not your password."));
        }
        let current = session.session_digest()?;
        let tx = self.store.begin_write().await?;
        StaffAccounts::set_totp(tx.conn(), account.id, None, None).await?;
        RecoveryCodes::replace(tx.conn(), account.id, &[]).await?;
        Sessions::delete_for_account(tx.conn(), account.id, Some(current)).await?;
        tx.commit().await?;
        self.audit_member(&session.member, &Actor::of(session), "two_factor.disabled", json!({})).await
    }

    /// Whether `code` is the account's current TOTP code (not used before) or one of its unused
    /// recovery codes, which it spends. Counted by the login throttle, like a password.
    pub(super) async fn second_factor_proves(
        &self,
        account: &StoredAccount,
        code: &str,
        client: Option<&str>,
    ) -> Result<bool, AppError> {
        let Some(secret) = &account.totp_secret else { return Ok(false) };
        // Code guesses have their own count, which only a right code resets.
        let (account_key, client_key) = attempt_keys(account.email.as_str(), client);
        let code_key = format!("code:{account_key}");
        self.count_attempt(&throttled(&code_key, client_key.as_deref())).await?;
        let code = normalized(code);
        let proved = if code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
            match step_of(&authenticator(secret, account.email.as_str())?, &code, self.clock.now()) {
                Some(step) => StaffAccounts::spend_totp_step(self.store.reader(), account.id, step).await?,
                None => false,
            }
        } else {
            let now = self.clock.now();
            RecoveryCodes::spend(self.store.reader(), account.id, &digest(&code), now).await?
        };
        if proved {
            self.forget_attempt(&code_key, client_key.as_deref()).await?;
        } else {
            let member = self.member(account.id, account.email.clone()).await?;
            let actor = Actor::member(&member, client);
            self.audit_member(&member, &actor, "login.failed", json!({ "reason": "wrong code" })).await?;
        }
        Ok(proved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_distinct_and_typed_either_way() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(codes.iter().all(|c| c.len() == 14 && c.matches('-').count() == 2));
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        assert_eq!(normalized(" ABCD-efgh-2345 "), "abcdefgh2345");
    }

    #[test]
    fn a_code_counts_for_its_step_and_the_ones_beside() {
        let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        let totp = authenticator(secret, "a@example.it").unwrap();
        let at = Utc::now();
        let now = at.timestamp() / STEP_SECONDS;
        for delta in [-1, 0, 1] {
            let code = totp.generate(((now + delta) * STEP_SECONDS) as u64);
            assert_eq!(step_of(&totp, &code, at), Some(now + delta));
        }
        let stale = totp.generate(((now - 3) * STEP_SECONDS) as u64);
        assert!(step_of(&totp, &stale, at).is_none_or(|step| step != now - 3));
        assert!(crate::app::qr_svg(&totp.get_url(), 200).unwrap().starts_with("<svg"));
    }
}
