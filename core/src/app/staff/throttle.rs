//! Login throttling: a few free attempts, then a doubling wait, per account and per client.
//! An attempt is counted *before* the password is checked, in a transaction that locks the
//! counter, so that ten guesses sent at once are ten attempts, not one.

use chrono::{DateTime, TimeDelta, Utc};

use crate::app::{AppError, Sportello};
use crate::store::LoginAttempts;

/// How many attempts go through without waiting.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    pub free: u32,
}

/// Guesses at one account.
pub(crate) const PER_ACCOUNT: Policy = Policy { free: 5 };
/// Guesses from one address, at any accounts (an office behind one NAT logs in many people).
pub(crate) const PER_CLIENT: Policy = Policy { free: 30 };
/// The longest wait between two attempts.
const MAX_WAIT_SECONDS: i64 = 15 * 60;
/// A counter left alone this long starts again from zero: longer than the longest wait, so that
/// pausing is no way around it.
pub(super) const FORGET_AFTER: TimeDelta = TimeDelta::hours(24);

impl Policy {
    /// Seconds to wait before attempt number `attempts + 1`, after the last one at `last`.
    pub(crate) fn wait(self, attempts: u32, last: DateTime<Utc>, now: DateTime<Utc>) -> Option<u32> {
        if now - last >= FORGET_AFTER || attempts < self.free {
            return None;
        }
        let doublings = (attempts - self.free).min(20);
        let wait = (1i64 << doublings).min(MAX_WAIT_SECONDS);
        let remaining = (last + TimeDelta::seconds(wait) - now).num_milliseconds();
        (remaining > 0).then(|| u32::try_from((remaining + 999) / 1000).unwrap_or(u32::MAX))
    }

    /// The count that goes on after `attempts` at `last`.
    fn carried(self, attempts: u32, last: DateTime<Utc>, now: DateTime<Utc>) -> u32 {
        if now - last >= FORGET_AFTER { 0 } else { attempts }
    }
}

impl Sportello {
    /// Counts one attempt under each key, or refuses with the longest wait among them; a refused
    /// attempt is not counted.
    pub(crate) async fn count_attempt(&self, keys: &[(String, Policy)]) -> Result<(), AppError> {
        let now = self.clock.now();
        let tx = self.store.begin_write().await?;
        let mut counts = Vec::with_capacity(keys.len());
        let mut wait = None;
        for (key, policy) in keys {
            let (attempts, last) = LoginAttempts::lock(tx.conn(), key, now).await?;
            let attempts = policy.carried(attempts, last, now);
            wait = wait.max(policy.wait(attempts, last, now));
            counts.push((key, attempts + 1));
        }
        if let Some(retry_after) = wait {
            return Err(AppError::RateLimited { retry_after });
        }
        for (key, attempts) in counts {
            LoginAttempts::put(tx.conn(), key, attempts, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// After a successful login: the account starts afresh and the client's attempt is given back.
    pub(crate) async fn forget_attempt(&self, account_key: &str, client_key: Option<&str>) -> Result<(), AppError> {
        let tx = self.store.begin_write().await?;
        LoginAttempts::clear(tx.conn(), account_key).await?;
        if let Some(key) = client_key {
            let (attempts, last) = LoginAttempts::lock(tx.conn(), key, self.clock.now()).await?;
            LoginAttempts::put(tx.conn(), key, attempts.saturating_sub(1), last).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_attempts() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z").unwrap().with_timezone(&Utc);
        let policy = Policy { free: 5 };
        assert_eq!(policy.wait(4, t0, t0), None);
        assert_eq!(policy.wait(5, t0, t0), Some(1));
        assert_eq!(policy.wait(8, t0, t0), Some(8));
        assert_eq!(policy.wait(8, t0, t0 + TimeDelta::seconds(8)), None);
        assert_eq!(policy.wait(40, t0, t0), Some(900));
        assert_eq!(policy.wait(40, t0, t0 + FORGET_AFTER), None);
        assert_eq!(policy.carried(40, t0, t0 + FORGET_AFTER), 0);
    }
}
