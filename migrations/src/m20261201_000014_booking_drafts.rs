//! What a citizen typed into the details form, kept between the form and the review so that both
//! are plain GET pages (Back and reload never resend a form). One draft per booking in progress,
//! named by the digest of the browser's hold secret; it lives as long as the hold can be
//! confirmed and is deleted when the booking is made.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BookingDrafts {
    Table,
    TenantId,
    OwnerDigest,
    Fields,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

const INDEX: &str = "booking_drafts_expiry";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BookingDrafts::Table)
                    .col(integer(BookingDrafts::TenantId))
                    .col(string_len(BookingDrafts::OwnerDigest, 64))
                    .col(text(BookingDrafts::Fields))
                    .col(timestamp_with_time_zone(BookingDrafts::ExpiresAt))
                    .primary_key(Index::create().col(BookingDrafts::TenantId).col(BookingDrafts::OwnerDigest))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BookingDrafts::Table, BookingDrafts::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name(INDEX).table(BookingDrafts::Table).col(BookingDrafts::ExpiresAt).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(BookingDrafts::Table).to_owned()).await
    }
}
