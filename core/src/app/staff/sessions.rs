//! Logging in and out, and finding the session a request carries.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use super::api_keys::API_KEY_PREFIX;
use super::audit::Actor;
use super::secrets::{digest, new_secret, well_formed};
use super::throttle::{PER_ACCOUNT, PER_CLIENT, Policy};
use super::{Credential, StaffSession, passwords};
use crate::app::{AppError, Sportello};
use crate::domain::{NewPassword, StaffEmail, StaffMember};
use crate::store::{LoginAttempts, SessionKind, Sessions, StaffAccounts, StoredAccount};

/// A session ends after this long without a request…
pub const IDLE_TIMEOUT: TimeDelta = TimeDelta::minutes(60);
/// …and this long after login, whatever happens.
pub const ABSOLUTE_TIMEOUT: TimeDelta = TimeDelta::hours(12);
/// `last_seen_at` is written at most this often, not on every request.
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);
/// How long a password, once right, waits for the second factor.
const CODE_WAIT: TimeDelta = TimeDelta::minutes(5);

/// A session just opened: the token goes to the client once (cookie or bearer), never stored.
pub struct LoggedIn {
    pub token: String,
    pub session: StaffSession,
    /// The password was right; the session is good only for the second factor's code.
    pub awaiting_code: bool,
}

impl Sportello {
    /// Checks an e-mail address and password, throttled per account and per client, and opens a
    /// new session. `replacing` is a session token the client already carried: it ends here, so
    /// that a token planted before login is never the one that gets signed in (no fixation).
    pub async fn log_in(
        &self,
        email: &str,
        password: &str,
        client: Option<&str>,
        replacing: Option<&str>,
    ) -> Result<LoggedIn, AppError> {
        let typed: String = email.trim().to_lowercase().chars().take(254).collect();
        let (account_key, client_key) = attempt_keys(&typed, client);
        self.count_attempt(&throttled(&account_key, client_key.as_deref())).await?;

        let account = match StaffEmail::parse(&typed) {
            Some(email) => StaffAccounts::by_email(self.store.reader(), &email).await?,
            None => None,
        };
        let matches = passwords::verify(password, account.as_ref().map(|a| a.password_hash.clone())).await?;
        let account = match account {
            Some(account) if matches && !account.disabled => account,
            other => {
                self.refuse_login(other, client).await?;
                return Err(AppError::LoginFailed);
            }
        };
        self.forget_attempt(&account_key, client_key.as_deref()).await?;
        let member = self.member(account.id, account.email.clone()).await?;
        if account.totp_secret.is_some() {
            // Signed in only once the code is right too (`complete_login`); code guesses are
            // counted apart, and a right password does not reset their count.
            return self.open_session(member, client, replacing, Opening::AwaitingCode).await;
        }
        let logged_in = self.open_session(member, client, replacing, Opening::Signed { two_factor: false }).await?;
        let actor = Actor::member(&logged_in.session.member, client);
        self.audit_member(&logged_in.session.member, &actor, "login", json!({})).await?;
        Ok(logged_in)
    }

    /// The second step of a login with a second factor: `token` is the session the password
    /// opened, `code` the authenticator's or a recovery code. A new session replaces it.
    pub async fn complete_login(&self, token: &str, code: &str, client: Option<&str>) -> Result<LoggedIn, AppError> {
        let token_digest = if well_formed(token) { digest(token) } else { return Err(AppError::Unauthenticated) };
        let now = self.clock.now();
        let stored = Sessions::find(self.store.reader(), &token_digest).await?;
        let Some(stored) = stored.filter(|s| s.awaiting_code && is_live(s.expires_at, s.last_seen_at, now)) else {
            return Err(AppError::Unauthenticated);
        };
        let account = StaffAccounts::by_id(self.store.reader(), stored.account_id).await?;
        let Some(account) = account.filter(|a| !a.disabled) else { return Err(AppError::Unauthenticated) };
        if !self.second_factor_proves(&account, code, client).await? {
            return Err(AppError::field("code", "wrong_code", "This code is not the one your app shows now."));
        }
        let member = self.member(account.id, account.email).await?;
        let signed = Opening::Signed { two_factor: true };
        let logged_in = self.open_session(member, client, Some(token), signed).await?;
        let actor = Actor::member(&logged_in.session.member, client);
        self.audit_member(&logged_in.session.member, &actor, "login", json!({ "two_factor": true })).await?;
        Ok(logged_in)
    }

    /// Records a failed login where the account's admins will see it.
    async fn refuse_login(&self, account: Option<StoredAccount>, client: Option<&str>) -> Result<(), AppError> {
        match account {
            Some(account) => {
                let reason = if account.disabled { "account disabled" } else { "wrong password" };
                let member = self.member(account.id, account.email).await?;
                let actor = Actor::member(&member, client);
                self.audit_member(&member, &actor, "login.failed", json!({ "reason": reason })).await
            }
            // What was typed is not kept: people type passwords in the address field.
            None => {
                self.audit(None, &Actor::unknown(client), "login.failed", json!({ "reason": "unknown account" })).await
            }
        }
    }

    /// Signs in an account that just proved itself with its password another way (an accepted
    /// invitation): one with a second factor still has to give its code.
    pub(super) async fn open_session_for(
        &self,
        member: StaffMember,
        client: Option<&str>,
    ) -> Result<LoggedIn, AppError> {
        let two_factor =
            StaffAccounts::by_id(self.store.reader(), member.id).await?.is_some_and(|a| a.totp_secret.is_some());
        if two_factor {
            return self.open_session(member, client, None, Opening::AwaitingCode).await;
        }
        let logged_in = self.open_session(member, client, None, Opening::Signed { two_factor: false }).await?;
        self.audit_member(
            &logged_in.session.member,
            &Actor::member(&logged_in.session.member, client),
            "login",
            json!({ "via": "invitation" }),
        )
        .await?;
        Ok(logged_in)
    }

    async fn open_session(
        &self,
        member: StaffMember,
        client: Option<&str>,
        replacing: Option<&str>,
        opening: Opening,
    ) -> Result<LoggedIn, AppError> {
        let now = self.clock.now();
        let (token, csrf) = (new_secret(), new_secret());
        let (awaiting_code, two_factor) = match opening {
            Opening::AwaitingCode => (true, false),
            Opening::Signed { two_factor } => (false, two_factor),
        };
        let expires_at = now + if awaiting_code { CODE_WAIT } else { ABSOLUTE_TIMEOUT };
        let tx = self.store.begin_write().await?;
        if let Some(old) = replacing.filter(|t| well_formed(t)) {
            Sessions::delete(tx.conn(), &digest(old)).await?;
        }
        Sessions::prune(tx.conn(), now).await?;
        // Throttle counts past their memory: without this, sprayed guesses would pile up forever.
        LoginAttempts::prune(tx.conn(), now - super::throttle::FORGET_AFTER).await?;
        let kind = SessionKind { awaiting_code, second_factor: two_factor };
        Sessions::create(tx.conn(), &digest(&token), member.id, &csrf, now, expires_at, kind).await?;
        tx.commit().await?;
        let credential = Credential::Session(digest(&token));
        let session =
            StaffSession { member, csrf, client: client.map(str::to_owned), credential, expires_at, two_factor };
        Ok(LoggedIn { token, session, awaiting_code })
    }

    /// The account with its grants.
    pub(super) async fn member(&self, id: i32, email: StaffEmail) -> Result<StaffMember, AppError> {
        let grants = StaffAccounts::grants(self.store.reader(), id).await?;
        Ok(StaffMember { id, email, grants })
    }

    /// The live session behind `token`, read from the database on every request so that a
    /// logout or a password change elsewhere ends it on every instance at once.
    pub async fn staff_session(&self, token: &str, client: Option<&str>) -> Result<StaffSession, AppError> {
        if let Some(key) = token.strip_prefix(API_KEY_PREFIX) {
            return self.api_key_session(key, client).await;
        }
        if !well_formed(token) {
            return Err(AppError::Unauthenticated);
        }
        let token_digest = digest(token);
        let now = self.clock.now();
        let Some(stored) = Sessions::find(self.store.reader(), &token_digest).await? else {
            return Err(AppError::Unauthenticated);
        };
        if stored.awaiting_code {
            // Good only for the second factor (`complete_login`), which keeps it until it expires.
            return Err(AppError::Unauthenticated);
        }
        if !is_live(stored.expires_at, stored.last_seen_at, now) {
            Sessions::delete(self.store.reader(), &token_digest).await?;
            return Err(AppError::Unauthenticated);
        }
        let account = StaffAccounts::by_id(self.store.reader(), stored.account_id).await?;
        let Some(account) = account.filter(|a| !a.disabled) else { return Err(AppError::Unauthenticated) };
        if now - stored.last_seen_at >= TOUCH_EVERY {
            Sessions::touch(self.store.reader(), &token_digest, now).await?;
        }
        let member = self.member(account.id, account.email).await?;
        Ok(StaffSession {
            member,
            csrf: stored.csrf_token,
            client: client.map(str::to_owned),
            credential: Credential::Session(token_digest),
            expires_at: stored.expires_at,
            // This session's own sign-in, not the account's: a session opened before the second
            // factor was turned on does not pass for one signed in with it.
            two_factor: stored.second_factor,
        })
    }

    pub async fn log_out(&self, session: &StaffSession) -> Result<(), AppError> {
        Sessions::delete(self.store.reader(), session.session_digest()?).await?;
        self.audit_member(&session.member, &Actor::of(session), "logout", json!({})).await
    }

    /// Checks an existing account's password outside a login (a password change, an invitation
    /// accepted by an existing account), counted by the same throttle as logins: otherwise these
    /// would be ways to guess without waiting. A wrong password is audited like a failed login.
    pub(super) async fn password_proves(
        &self,
        account: &StoredAccount,
        password: &str,
        client: Option<&str>,
    ) -> Result<bool, AppError> {
        let (account_key, client_key) = attempt_keys(account.email.as_str(), client);
        self.count_attempt(&throttled(&account_key, client_key.as_deref())).await?;
        if passwords::verify(password, Some(account.password_hash.clone())).await? {
            self.forget_attempt(&account_key, client_key.as_deref()).await?;
            return Ok(true);
        }
        self.refuse_login(Some(account.clone()), client).await?;
        Ok(false)
    }

    /// Sets a new password after checking the current one; every other session of the account ends.
    pub async fn change_password(&self, session: &StaffSession, current: &str, new: &str) -> Result<(), AppError> {
        session.require_person()?;
        let account =
            StaffAccounts::by_id(self.store.reader(), session.member.id).await?.ok_or(AppError::Unauthenticated)?;
        if !self.password_proves(&account, current, session.client.as_deref()).await? {
            return Err(AppError::field("current_password", "wrong_password", "This is not your current password."));
        }
        let password = NewPassword::parse(new, &account.email)
            .map_err(|e| AppError::field("new_password", e.code(), e.to_string()))?;
        let hash = passwords::hash(&password).await?;
        let tx = self.store.begin_write().await?;
        StaffAccounts::set_password(tx.conn(), account.id, &hash, self.clock.now()).await?;
        let ended = Sessions::delete_for_account(tx.conn(), account.id, Some(session.session_digest()?)).await?;
        tx.commit().await?;
        let detail = json!({ "other_sessions_ended": ended });
        self.audit_member(&session.member, &Actor::of(session), "password.changed", detail).await
    }
}

/// How a session opens: waiting for the second factor, or signed in.
#[derive(Clone, Copy)]
enum Opening {
    AwaitingCode,
    Signed { two_factor: bool },
}

/// The throttle's keys for an address as typed and a client's line (an IPv6 client by its /64, so
/// that rotating addresses buys no fresh attempts): digests, never the values.
pub(super) fn attempt_keys(typed: &str, client: Option<&str>) -> (String, Option<String>) {
    let line = |c: &str| format!("client:{}", digest(&crate::domain::network::limit_key(c)));
    (format!("account:{}", digest(typed)), client.map(line))
}

pub(super) fn throttled(account_key: &str, client_key: Option<&str>) -> Vec<(String, Policy)> {
    let mut keys = vec![(account_key.to_owned(), PER_ACCOUNT)];
    keys.extend(client_key.map(|k| (k.to_owned(), PER_CLIENT)));
    keys
}

fn is_live(expires_at: DateTime<Utc>, last_seen_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now < expires_at && now - last_seen_at < IDLE_TIMEOUT
}
