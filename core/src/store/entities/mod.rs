//! sea-orm entities, one per table (see `migrations/`).

pub mod api_key;
pub mod audit_event;
pub mod booking;
pub mod booking_draft;
pub mod hold_claim;
pub mod idempotency_key;
pub mod ledger;
pub mod login_attempt;
pub mod office_feed;
pub mod outbox_message;
pub mod pack_blob;
pub mod pack_file;
pub mod staff_account;
pub mod staff_grant;
pub mod staff_invitation;
pub mod staff_recovery_code;
pub mod staff_session;
pub mod tenant;
pub mod tenant_version;
pub mod webhook;
