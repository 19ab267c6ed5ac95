//! Every saved version of a tenant's configuration, with who saved it and what changed, so that
//! an admin can see the history and restore a version. Pack files (plugin modules, datasets,
//! templates, the logo) are kept once by content digest, however many versions use them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TenantVersions {
    Table,
    TenantId,
    Version,
    Manifest,
    Files,
    Logo,
    SavedAt,
    SavedBy,
    Changes,
}

#[derive(DeriveIden)]
enum PackBlobs {
    Table,
    Digest,
    Content,
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
                    .table(PackBlobs::Table)
                    .col(string_len(PackBlobs::Digest, 64).primary_key())
                    .col(blob(PackBlobs::Content))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TenantVersions::Table)
                    .col(integer(TenantVersions::TenantId))
                    .col(big_integer(TenantVersions::Version))
                    .col(text(TenantVersions::Manifest))
                    // JSON: path → blob digest.
                    .col(text(TenantVersions::Files))
                    // JSON: [content type, blob digest], or null.
                    .col(text_null(TenantVersions::Logo))
                    .col(timestamp_with_time_zone(TenantVersions::SavedAt))
                    .col(string_len(TenantVersions::SavedBy, 254))
                    // JSON: the typed changes from the version before, as sentences.
                    .col(text(TenantVersions::Changes))
                    .primary_key(Index::create().col(TenantVersions::TenantId).col(TenantVersions::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TenantVersions::Table, TenantVersions::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(TenantVersions::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(PackBlobs::Table).to_owned()).await
    }
}
