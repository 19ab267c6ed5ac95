//! Holds: a place kept for a citizen while they type their details.
//!
//! Holds are an efficiency and fairness layer: they make availability honest and spare the
//! database doomed transactions. They never decide capacity; the ledger write does.

#[cfg(test)]
mod contract;
mod memory;
mod redis;

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::slots::Unit;
use crate::domain::{Mode, OfferKey, Slug, TenantId};

pub use self::redis::RedisHolds;
pub use memory::MemoryHolds;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hold {
    pub id: Uuid,
    pub tenant: TenantId,
    pub service: Slug,
    pub office: Slug,
    pub mode: Mode,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The capacity units the slot occupies, ascending.
    pub units: Vec<Unit>,
    pub expires_at: DateTime<Utc>,
    /// Who placed it (an IP address), for the per-client limit; `None` when not limited.
    pub client: Option<String>,
    /// Proves who may confirm, move or release it: the digest of the secret its client was given.
    pub owner: OwnerDigest,
}

/// The secret a hold's client is given (or chose) when it places the hold: whoever shows it may
/// confirm, move or release the hold. Only its digest is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct HoldToken(String);

/// The SHA-256 of a `HoldToken`, in hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerDigest(String);

impl HoldToken {
    /// 256 random bits, in hex.
    pub fn generate(rng: &mut impl rand::Rng) -> Self {
        let bytes: [u8; 32] = rng.random();
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A client's own token: 32 to 128 characters of `A-Z a-z 0-9 - _`, enough to be unguessable.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok =
            (32..=128).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> OwnerDigest {
        use sha2::Digest;
        OwnerDigest(format!("{:x}", sha2::Sha256::digest(self.0.as_bytes())))
    }
}

impl std::fmt::Debug for HoldToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HoldToken(…)")
    }
}

impl OwnerDigest {
    /// A stored digest, as written by `as_str`.
    pub fn from_stored(hex: &str) -> Option<Self> {
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Self(hex.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The outcome of an acquisition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquired {
    Placed,
    /// A unit of the slot has no free place.
    Full,
    /// The client already keeps as many live holds as it may.
    ClientLimit,
    /// A hold of this id exists and belongs to someone else.
    NotOwner,
}

impl Hold {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }

    /// The service, office and mode the hold is for.
    pub fn offer(&self) -> OfferKey {
        OfferKey { service: self.service.clone(), office: self.office.clone(), mode: self.mode }
    }

    pub fn is_owned_by(&self, token: &HoldToken) -> bool {
        self.owner == token.digest()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HoldStoreError {
    #[error("hold storage is unavailable: {0}")]
    Unavailable(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HoldHealth {
    Ok,
    /// Working on a local fallback: holds are not shared between instances until it recovers.
    Degraded(String),
}

/// Where live holds are kept: in this process (embedded default) or shared between instances.
#[async_trait]
pub trait HoldStore: Send + Sync + 'static {
    /// Places `hold` if every unit still has a free place and its client keeps fewer than
    /// `max_per_client` other live holds. `free` gives, for each of the hold's units, its capacity
    /// minus confirmed bookings; live holds are counted against it. Acquiring an id again
    /// (a retry, or a renewal) replaces the earlier hold of that id, if it has the same owner.
    async fn acquire(
        &self,
        hold: &Hold,
        free: &HashMap<Unit, u32>,
        max_per_client: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<Acquired, HoldStoreError>;

    /// The hold, live or recently expired (expired holds are kept a while so that a late
    /// confirmation can still name its slot).
    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Option<Hold>, HoldStoreError>;

    /// Drops the hold; `false` if there was none.
    async fn release(&self, tenant: TenantId, id: Uuid) -> Result<bool, HoldStoreError>;

    /// Drops a hold the caller has just read, once its booking is written: unlike `release` it
    /// need not look the hold up first.
    async fn consume(&self, hold: &Hold) -> Result<(), HoldStoreError>;

    /// Live holds on each of `units` at `office` (units without any are left out).
    async fn live_counts(
        &self,
        tenant: TenantId,
        office: &str,
        units: &[Unit],
        now: DateTime<Utc>,
    ) -> Result<HashMap<Unit, u32>, HoldStoreError>;

    /// Takes a token from the bucket `key`, which refills at `per_minute` tokens a minute and holds
    /// at most `per_minute`. `None` when allowed; otherwise the seconds until a token is back.
    async fn throttle(&self, key: &str, per_minute: u32, now: DateTime<Utc>) -> Result<Option<u32>, HoldStoreError>;

    /// How the store is doing, for `/readyz`.
    async fn health(&self) -> HoldHealth;
}
