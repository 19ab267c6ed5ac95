//! Database schema for Sportello, as sea-orm migrations (SQLite and PostgreSQL).

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_initial;
mod m20261127_000002_pack_files;
mod m20261130_000003_hold_claims;
mod m20261130_000004_staff;
mod m20261130_000005_config_versions;
mod m20261130_000006_cancel_reason;
mod m20261130_000007_api_keys;
mod m20261130_000008_two_factor;
mod m20261130_000009_outbox;
mod m20261130_000010_booking_revision;
mod m20261130_000011_webhooks;
mod m20261130_000012_office_feeds;
mod m20261201_000013_booking_mail;
mod m20261201_000014_booking_drafts;
mod m20261201_000015_desk;
mod m20261201_000016_booking_channel;
mod m20261201_000017_tickets;
mod m20261201_000018_statistics_index;
mod m20261201_000019_retention;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_initial::Migration),
            Box::new(m20261127_000002_pack_files::Migration),
            Box::new(m20261130_000003_hold_claims::Migration),
            Box::new(m20261130_000004_staff::Migration),
            Box::new(m20261130_000005_config_versions::Migration),
            Box::new(m20261130_000006_cancel_reason::Migration),
            Box::new(m20261130_000007_api_keys::Migration),
            Box::new(m20261130_000008_two_factor::Migration),
            Box::new(m20261130_000009_outbox::Migration),
            Box::new(m20261130_000010_booking_revision::Migration),
            Box::new(m20261130_000011_webhooks::Migration),
            Box::new(m20261130_000012_office_feeds::Migration),
            Box::new(m20261201_000013_booking_mail::Migration),
            Box::new(m20261201_000014_booking_drafts::Migration),
            Box::new(m20261201_000015_desk::Migration),
            Box::new(m20261201_000016_booking_channel::Migration),
            Box::new(m20261201_000017_tickets::Migration),
            Box::new(m20261201_000018_statistics_index::Migration),
            Box::new(m20261201_000019_retention::Migration),
        ]
    }
}
