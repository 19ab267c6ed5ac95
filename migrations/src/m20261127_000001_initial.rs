//! Tenants, bookings, the capacity ledger and idempotency keys.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Slug,
    Name,
    Pack,
    Logo,
    LogoContentType,
    ConfigVersion,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
    TenantId,
    Code,
    Status,
    Service,
    Office,
    Mode,
    StartsAt,
    EndsAt,
    Timezone,
    FirstName,
    LastName,
    Email,
    Phone,
    FiscalCode,
    Contact,
    Answers,
    Reason,
    Details,
    Locale,
    PrivacyVersion,
    CreatedAt,
    UpdatedAt,
}

/// One row per (office, grid unit) that has ever been booked: `used` is the number of
/// bookings covering the unit. The conditional `used < capacity` update is the only place
/// capacity is decided.
#[derive(DeriveIden)]
enum CapacityLedger {
    Table,
    TenantId,
    Office,
    UnitStart,
    Used,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    TenantId,
    Key,
    RequestHash,
    BookingId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(pk_auto(Tenants::Id))
                    .col(string_uniq(Tenants::Slug))
                    .col(string(Tenants::Name))
                    .col(text(Tenants::Pack))
                    .col(blob_null(Tenants::Logo))
                    .col(string_null(Tenants::LogoContentType))
                    .col(big_integer(Tenants::ConfigVersion))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .col(timestamp_with_time_zone(Tenants::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Bookings::Table)
                    .col(pk_auto(Bookings::Id))
                    .col(integer(Bookings::TenantId))
                    .col(string_len(Bookings::Code, 16))
                    .col(string_len(Bookings::Status, 16))
                    .col(string_len(Bookings::Service, 63))
                    .col(string_len(Bookings::Office, 63))
                    .col(string_len(Bookings::Mode, 32))
                    .col(timestamp_with_time_zone(Bookings::StartsAt))
                    .col(timestamp_with_time_zone(Bookings::EndsAt))
                    .col(string_len(Bookings::Timezone, 64))
                    .col(string(Bookings::FirstName))
                    .col(string(Bookings::LastName))
                    .col(string(Bookings::Email))
                    .col(string_len(Bookings::Phone, 20))
                    .col(string_len_null(Bookings::FiscalCode, 16))
                    .col(string_null(Bookings::Contact))
                    .col(text(Bookings::Answers))
                    .col(string_null(Bookings::Reason))
                    .col(text_null(Bookings::Details))
                    .col(string_len(Bookings::Locale, 8))
                    .col(string_len(Bookings::PrivacyVersion, 64))
                    .col(timestamp_with_time_zone(Bookings::CreatedAt))
                    .col(timestamp_with_time_zone(Bookings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Bookings::Table, Bookings::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("bookings_tenant_code")
                    .table(Bookings::Table)
                    .col(Bookings::TenantId)
                    .col(Bookings::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("bookings_tenant_office_start")
                    .table(Bookings::Table)
                    .col(Bookings::TenantId)
                    .col(Bookings::Office)
                    .col(Bookings::StartsAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CapacityLedger::Table)
                    .col(integer(CapacityLedger::TenantId))
                    .col(string_len(CapacityLedger::Office, 63))
                    .col(big_integer(CapacityLedger::UnitStart))
                    .col(integer(CapacityLedger::Used))
                    .primary_key(
                        Index::create()
                            .col(CapacityLedger::TenantId)
                            .col(CapacityLedger::Office)
                            .col(CapacityLedger::UnitStart),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CapacityLedger::Table, CapacityLedger::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(integer(IdempotencyKeys::TenantId))
                    .col(string_len(IdempotencyKeys::Key, 255))
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    .col(integer(IdempotencyKeys::BookingId))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(Index::create().col(IdempotencyKeys::TenantId).col(IdempotencyKeys::Key))
                    .foreign_key(
                        ForeignKey::create()
                            .from(IdempotencyKeys::Table, IdempotencyKeys::BookingId)
                            .to(Bookings::Table, Bookings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            CapacityLedger::Table.into_iden(),
            Bookings::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
