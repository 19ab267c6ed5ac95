//! Private calendar feeds of an office for its staff's calendars: one secret address per office,
//! of which only a SHA-256 digest is kept.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OfficeFeeds {
    Table,
    Id,
    TenantId,
    Office,
    TokenDigest,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OfficeFeeds::Table)
                    .col(pk_auto(OfficeFeeds::Id))
                    .col(integer(OfficeFeeds::TenantId))
                    .col(string_len(OfficeFeeds::Office, 64))
                    .col(string_len(OfficeFeeds::TokenDigest, 64))
                    .col(string_len(OfficeFeeds::CreatedBy, 300))
                    .col(timestamp_with_time_zone(OfficeFeeds::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OfficeFeeds::Table, OfficeFeeds::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("office_feeds_office")
                    .table(OfficeFeeds::Table)
                    .col(OfficeFeeds::TenantId)
                    .col(OfficeFeeds::Office)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(OfficeFeeds::Table).to_owned()).await
    }
}
