//! Files a tenant pack brings besides its manifest (plugin modules, datasets), and the summary a
//! plugin adds to a booking.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PackFiles {
    Table,
    TenantId,
    Path,
    Content,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Summary,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PackFiles::Table)
                    .col(integer(PackFiles::TenantId))
                    .col(string_len(PackFiles::Path, 255))
                    .col(blob(PackFiles::Content))
                    .primary_key(Index::create().col(PackFiles::TenantId).col(PackFiles::Path))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PackFiles::Table, PackFiles::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(Bookings::Table).add_column(text_null(Bookings::Summary)).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Bookings::Table).drop_column(Bookings::Summary).to_owned()).await?;
        manager.drop_table(Table::drop().table(PackFiles::Table).to_owned()).await
    }
}
