//! The e-mail a booking still owes its citizen, kept on the booking row itself: its confirmation
//! (due at once) and then its reminder (due at the tenant's offset before the appointment). The
//! booking's transaction, which every other booking waits for on SQLite, then writes no outbox
//! row; the worker turns due ones into outbox messages, many per transaction.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Bookings {
    Table,
    MailNext,
    MailDueAt,
}

const INDEX: &str = "bookings_mail_due";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        manager
            .alter_table(
                Table::alter().table(Bookings::Table).add_column(string_len_null(Bookings::MailNext, 12)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Bookings::Table)
                    .add_column(timestamp_with_time_zone_null(Bookings::MailDueAt))
                    .to_owned(),
            )
            .await?;
        // Only the bookings that still owe an e-mail are in it: the worker's question is cheap
        // and a booking made now adds one entry at its end.
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Bookings::Table)
                    .col(Bookings::MailDueAt)
                    .and_where(Expr::col(Bookings::MailDueAt).is_not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table(Bookings::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Bookings::Table).drop_column(Bookings::MailDueAt).to_owned()).await?;
        manager.alter_table(Table::alter().table(Bookings::Table).drop_column(Bookings::MailNext).to_owned()).await
    }
}
