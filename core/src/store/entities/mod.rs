//! sea-orm entities, one per table (see `migrations/`).

pub mod booking;
pub mod idempotency_key;
pub mod ledger;
pub mod tenant;
