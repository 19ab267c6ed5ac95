//! How a booking was made (`web`, `api`, `counter`, `phone`) and which staff member made it for
//! the citizen. Bookings made before this was kept count as `web`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Channel,
    BookedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Bookings::Table)
                    .add_column(string_len(Bookings::Channel, 8).default("web"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(Bookings::Table).add_column(integer_null(Bookings::BookedBy)).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Bookings::BookedBy, Bookings::Channel] {
            manager.alter_table(Table::alter().table(Bookings::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
