//! Webhooks: booking events POSTed to a body's systems, signed per the Standard Webhooks
//! specification (`sign.rs`), only to addresses on the public internet unless the platform allows
//! others (`target.rs`), with a short timeout and no redirects (`client.rs`). The only module that
//! knows reqwest. The outbox (`app/outbox.rs`) decides when each is sent and retried.

mod client;
mod sign;
mod target;

pub use client::{Delivery, WebhookClient};
pub use sign::{Secret, SecretError, signature_header};
pub use target::{Target, TargetError, TargetPolicy};

/// Makes ring the process's TLS provider, as reqwest (with our feature set) requires before any
/// client is built — in this process's other HTTP clients too (tests, benchmarks). Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
