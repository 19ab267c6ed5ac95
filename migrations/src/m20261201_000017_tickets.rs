//! The counter queue: the ticket a citizen gets at check-in (`P017`: its prefix and number of the
//! day at that office, unique there), and the desk they were called to.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Bookings {
    Table,
    TenantId,
    Office,
    Ticket,
    TicketNumber,
    TicketDay,
    Desk,
}

const INDEX: &str = "bookings_office_day_ticket";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        let columns = [
            string_len_null(Bookings::Ticket, 8),
            integer_null(Bookings::TicketNumber),
            date_null(Bookings::TicketDay),
            string_len_null(Bookings::Desk, 40),
        ];
        for column in columns {
            let mut column = column;
            manager.alter_table(Table::alter().table(Bookings::Table).add_column(&mut column).to_owned()).await?;
        }
        // A number is given once a day per office and prefix (rows without a ticket do not count).
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Bookings::Table)
                    .col(Bookings::TenantId)
                    .col(Bookings::Office)
                    .col(Bookings::TicketDay)
                    .col(Bookings::Ticket)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table(Bookings::Table).to_owned()).await?;
        for column in [Bookings::Desk, Bookings::TicketDay, Bookings::TicketNumber, Bookings::Ticket] {
            manager.alter_table(Table::alter().table(Bookings::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
