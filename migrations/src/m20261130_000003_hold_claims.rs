//! A hold turns into at most one booking: the claim is written in the booking's own transaction,
//! and its primary key refuses a second one. The ledger counts its changes, so that a hold
//! acquisition can tell whether a booking committed while it was counting.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum HoldClaims {
    Table,
    TenantId,
    HoldId,
    BookingId,
    OwnerDigest,
    ClaimedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CapacityLedger {
    Table,
    Changes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(HoldClaims::Table)
                    .col(integer(HoldClaims::TenantId))
                    .col(string_len(HoldClaims::HoldId, 36))
                    .col(integer(HoldClaims::BookingId))
                    .col(string_len(HoldClaims::OwnerDigest, 64))
                    .col(timestamp_with_time_zone(HoldClaims::ClaimedAt))
                    .primary_key(Index::create().col(HoldClaims::TenantId).col(HoldClaims::HoldId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(HoldClaims::Table, HoldClaims::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CapacityLedger::Table)
                    .add_column(big_integer(CapacityLedger::Changes).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(CapacityLedger::Table).drop_column(CapacityLedger::Changes).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(HoldClaims::Table).to_owned()).await
    }
}
