//! How many times a booking changed (moved, cancelled): its calendar entry's `SEQUENCE`, so that
//! a calendar replaces the entry it has instead of keeping both.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Revision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Bookings::Table).add_column(integer(Bookings::Revision).default(0)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Bookings::Table).drop_column(Bookings::Revision).to_owned()).await
    }
}
