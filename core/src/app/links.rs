//! Links in e-mails that need no e-mail address: a token that names a booking (by its code, known
//! before the booking is written, so its e-mail is composed outside the transaction) and one purpose
//! (manage it, or cancel it), with an expiry, signed with the server's secret (HMAC-SHA-256).
//! Nothing personal is in it, so it may stand in a URL. A secret can be rotated: tokens are
//! signed with the current one and accepted with the current or the previous one.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{AppError, Sportello, TenantSnapshot};
use crate::domain::{Booking, BookingCode, BookingStatus, TenantId};
use crate::store::Bookings;

/// The shortest secret accepted: 32 bytes, as many as the hash.
pub const MIN_SECRET_BYTES: usize = 32;

/// What a link lets its holder do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPurpose {
    /// See the booking, move or cancel it (until 30 days after it).
    Manage,
    /// Cancel it, in one step (until it starts).
    Cancel,
}

impl LinkPurpose {
    fn code(self) -> &'static str {
        match self {
            Self::Manage => "m",
            Self::Cancel => "c",
        }
    }
}

/// The server's secrets for signing links.
pub struct LinkKeys {
    current: Vec<u8>,
    previous: Option<Vec<u8>>,
}

#[derive(Debug, thiserror::Error)]
#[error("a link secret must be at least {MIN_SECRET_BYTES} bytes")]
pub struct ShortSecret;

impl LinkKeys {
    pub fn new(current: Vec<u8>, previous: Option<Vec<u8>>) -> Result<Self, ShortSecret> {
        let short = |key: &[u8]| key.len() < MIN_SECRET_BYTES;
        if short(&current) || previous.as_deref().is_some_and(short) {
            return Err(ShortSecret);
        }
        Ok(Self { current, previous })
    }

    /// A random secret for this process alone: links it signs stop working when it ends, so a
    /// server is always given its own (`server::link_keys`).
    pub fn ephemeral() -> Self {
        Self { current: (0..MIN_SECRET_BYTES).map(|_| rand::random::<u8>()).collect(), previous: None }
    }

    fn tag(key: &[u8], payload: &str) -> Vec<u8> {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        match Hmac::<Sha256>::new_from_slice(key) {
            Ok(mut mac) => {
                mac.update(payload.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }

    /// `<payload>.<signature>`, both base64url: `tenant.code.purpose.expiry`.
    pub fn sign(&self, tenant: TenantId, code: &BookingCode, purpose: LinkPurpose, expires: DateTime<Utc>) -> String {
        let payload = format!("{}.{}.{}.{}", tenant.get(), code.as_str(), purpose.code(), expires.timestamp());
        let tag = Self::tag(&self.current, &payload);
        format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(tag))
    }

    /// The tenant and booking code a token names, if it is ours, for `purpose`, and not expired.
    pub fn verify(
        &self,
        token: &str,
        purpose: LinkPurpose,
        now: DateTime<Utc>,
    ) -> Result<(TenantId, BookingCode), AppError> {
        let (payload, tag) = token.split_once('.').ok_or(AppError::LinkInvalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok().and_then(|p| String::from_utf8(p).ok());
        let tag = URL_SAFE_NO_PAD.decode(tag).ok();
        let (Some(payload), Some(tag)) = (payload, tag) else { return Err(AppError::LinkInvalid) };
        let signed_by = |key: &[u8]| {
            Hmac::<Sha256>::new_from_slice(key).is_ok_and(|mut mac| {
                mac.update(payload.as_bytes());
                // Compared in constant time.
                mac.verify_slice(&tag).is_ok()
            })
        };
        if !(signed_by(&self.current) || self.previous.as_deref().is_some_and(signed_by)) {
            return Err(AppError::LinkInvalid);
        }
        let parts: Vec<&str> = payload.split('.').collect();
        let [tenant, booking, code, expires] = parts.as_slice() else { return Err(AppError::LinkInvalid) };
        if *code != purpose.code() {
            return Err(AppError::LinkInvalid);
        }
        let (Ok(tenant), Some(booking), Ok(expires)) =
            (tenant.parse(), BookingCode::parse(booking), expires.parse::<i64>())
        else {
            return Err(AppError::LinkInvalid);
        };
        if now.timestamp() >= expires {
            return Err(AppError::LinkExpired);
        }
        Ok((TenantId::from_stored(tenant), booking))
    }
}

/// How long after its appointment a booking's manage link works.
const MANAGE_AFTER_DAYS: i64 = 30;

/// Attempts to prove a booking by its e-mail address, per minute, per client and per code: a
/// citizen mistyping has room; someone guessing addresses does not.
pub const PROOFS_PER_MINUTE: u32 = 10;

impl Sportello {
    /// The manage link's token of a booking, and its one-click cancel link's while it is confirmed.
    pub(super) fn link_tokens(&self, tenant: TenantId, booking: &Booking) -> (String, Option<String>) {
        let expires = booking.end + chrono::TimeDelta::days(MANAGE_AFTER_DAYS);
        let manage = self.link_keys.sign(tenant, &booking.code, LinkPurpose::Manage, expires);
        let cancel = (booking.status == BookingStatus::Confirmed)
            .then(|| self.link_keys.sign(tenant, &booking.code, LinkPurpose::Cancel, booking.start));
        (manage, cancel)
    }

    /// The token of a booking's manage link: what the pages' forms and links and the API carry
    /// instead of the e-mail address, which never goes into a URL or a page it did not come from.
    pub fn manage_token(&self, tenant: TenantId, booking: &Booking) -> String {
        self.link_tokens(tenant, booking).0
    }

    /// The booking a link of tenant `slug` names, for `purpose`.
    pub async fn booking_by_link(
        &self,
        slug: &str,
        token: &str,
        purpose: LinkPurpose,
    ) -> Result<(Arc<TenantSnapshot>, Booking), AppError> {
        let tenant = self.tenant(slug).await?;
        let (named, code) = self.link_keys.verify(token, purpose, self.clock.now())?;
        // A token of another tenant is not valid here.
        if named != tenant.id {
            return Err(AppError::LinkInvalid);
        }
        let booking = Bookings::by_code(self.store.reader(), tenant.id, &code).await?.ok_or(AppError::LinkInvalid)?;
        Ok((tenant, booking))
    }

    /// The booking a citizen proves to be theirs: its code with the e-mail it was made with, or
    /// with its manage token. An unknown code and a wrong e-mail give the same answer, so codes
    /// cannot be probed; a token for another booking is not valid for this one.
    pub async fn find_booking(
        &self,
        slug: &str,
        proof: &BookingProof<'_>,
    ) -> Result<(Arc<TenantSnapshot>, Booking), AppError> {
        let code = BookingCode::parse(proof.code).ok_or(AppError::NotFound("booking"))?;
        match proof.by {
            ProofBy::Email(email) => {
                let tenant = self.tenant(slug).await?;
                // An address is guessed by trying: the tries are counted, per client and per
                // booking code, before either is looked at (the answer is the same for both).
                let now = self.clock.now();
                if let Some(client) = proof.client {
                    self.throttle(&tenant, "proofs", client, PROOFS_PER_MINUTE, now).await?;
                }
                self.throttle(&tenant, "proofs-of", code.as_str(), PROOFS_PER_MINUTE, now).await?;
                match Bookings::by_code(self.store.reader(), tenant.id, &code).await? {
                    Some(b) if b.details.citizen.email().is_some_and(|e| e.matches(email)) => Ok((tenant, b)),
                    _ => Err(AppError::NotFound("booking")),
                }
            }
            ProofBy::Token(token) => {
                let (tenant, booking) = self.booking_by_link(slug, token, LinkPurpose::Manage).await?;
                if booking.code != code {
                    return Err(AppError::LinkInvalid);
                }
                Ok((tenant, booking))
            }
        }
    }
}

/// What shows that a booking is the citizen's.
#[derive(Clone, Copy, Debug)]
pub struct BookingProof<'a> {
    pub code: &'a str,
    pub by: ProofBy<'a>,
    /// The key of the client's limits, when known: attempts by e-mail are counted under it.
    pub client: Option<&'a str>,
}

#[derive(Clone, Copy, Debug)]
pub enum ProofBy<'a> {
    /// The e-mail address the booking was made with.
    Email(&'a str),
    /// Its manage token (from an e-mail's link, a page, or the API's answer).
    Token(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> LinkKeys {
        LinkKeys::new(vec![7; 32], None).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_token_names_one_booking_for_one_purpose_until_it_expires() {
        let (tenant, now) = (TenantId::from_stored(3), at("2026-12-01T08:00:00Z"));
        let code = BookingCode::parse("ABCD-EFGH").unwrap();
        let token = keys().sign(tenant, &code, LinkPurpose::Cancel, at("2026-12-02T08:00:00Z"));
        assert!(!token.contains('@') && token.len() < 120, "{token}");
        assert_eq!(keys().verify(&token, LinkPurpose::Cancel, now).unwrap(), (tenant, code));
        assert!(matches!(keys().verify(&token, LinkPurpose::Manage, now), Err(AppError::LinkInvalid)));
        assert!(matches!(
            keys().verify(&token, LinkPurpose::Cancel, at("2026-12-02T08:00:00Z")),
            Err(AppError::LinkExpired)
        ));
        // Another secret, a changed payload, a cut signature: not ours.
        let other = LinkKeys::new(vec![8; 32], None).unwrap();
        assert!(matches!(other.verify(&token, LinkPurpose::Cancel, now), Err(AppError::LinkInvalid)));
        let (payload, tag) = token.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode("3.ABCDEFGJ.c.1796198400");
        for bad in [format!("{forged}.{tag}"), payload.to_owned(), format!("{payload}.{}", &tag[..10]), "x".into()] {
            assert!(matches!(keys().verify(&bad, LinkPurpose::Cancel, now), Err(AppError::LinkInvalid)), "{bad}");
        }
    }

    #[test]
    fn a_rotated_secret_still_accepts_the_previous_one() {
        let code = BookingCode::parse("ABCD-EFGH").unwrap();
        let token = keys().sign(TenantId::from_stored(1), &code, LinkPurpose::Manage, at("2027-01-01T00:00:00Z"));
        let rotated = LinkKeys::new(vec![9; 32], Some(vec![7; 32])).unwrap();
        assert!(rotated.verify(&token, LinkPurpose::Manage, at("2026-12-01T00:00:00Z")).is_ok());
        assert!(LinkKeys::new(vec![1; 16], None).is_err(), "too short");
    }
}
