//! sea-orm entities, one per table (see `migrations/`).

pub mod booking;
pub mod hold_claim;
pub mod idempotency_key;
pub mod ledger;
pub mod pack_file;
pub mod tenant;
