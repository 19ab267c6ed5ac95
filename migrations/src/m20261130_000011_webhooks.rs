//! Webhook subscriptions of a tenant, and webhook messages in the outbox beside e-mails (a row
//! with `webhook_id` is a webhook; its `body_text` is the JSON payload).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    TenantId,
    Url,
    Events,
    PersonalData,
    Secret,
    PreviousSecret,
    PreviousUntil,
    DisabledAt,
    DisabledReason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OutboxMessages {
    Table,
    WebhookId,
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
                    .table(Webhooks::Table)
                    .col(pk_auto(Webhooks::Id))
                    .col(integer(Webhooks::TenantId))
                    .col(string_len(Webhooks::Url, 500))
                    .col(string_len(Webhooks::Events, 200))
                    .col(boolean(Webhooks::PersonalData).default(false))
                    .col(string_len(Webhooks::Secret, 120))
                    .col(string_len_null(Webhooks::PreviousSecret, 120))
                    .col(timestamp_with_time_zone_null(Webhooks::PreviousUntil))
                    .col(timestamp_with_time_zone_null(Webhooks::DisabledAt))
                    .col(text_null(Webhooks::DisabledReason))
                    .col(timestamp_with_time_zone(Webhooks::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Webhooks::Table, Webhooks::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("webhooks_tenant").table(Webhooks::Table).col(Webhooks::TenantId).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OutboxMessages::Table)
                    .add_column(integer_null(OutboxMessages::WebhookId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(OutboxMessages::Table).drop_column(OutboxMessages::WebhookId).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(Webhooks::Table).to_owned()).await
    }
}
