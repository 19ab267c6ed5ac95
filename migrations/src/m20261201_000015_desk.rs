//! The counter's record of a booking: when the citizen checked in, was called and was served,
//! the status before the last desk action (so that it can be undone for a short while) and when
//! that action was, and the staff's internal note. (The agenda reads an office's day through the
//! initial `bookings_tenant_office_start` index.)

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Bookings {
    Table,
    CheckedInAt,
    CalledAt,
    CompletedAt,
    PreviousStatus,
    StatusChangedAt,
    StaffNote,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [Bookings::CheckedInAt, Bookings::CalledAt, Bookings::CompletedAt, Bookings::StatusChangedAt] {
            manager
                .alter_table(
                    Table::alter().table(Bookings::Table).add_column(timestamp_with_time_zone_null(column)).to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Bookings::Table)
                    .add_column(string_len_null(Bookings::PreviousStatus, 16))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(Bookings::Table).add_column(text_null(Bookings::StaffNote)).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Bookings::StaffNote,
            Bookings::PreviousStatus,
            Bookings::StatusChangedAt,
            Bookings::CompletedAt,
            Bookings::CalledAt,
            Bookings::CheckedInAt,
        ] {
            manager.alter_table(Table::alter().table(Bookings::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
