//! The outbox: every message to a citizen (and later every webhook) is a row written in the same
//! transaction as the change that causes it, then delivered by a worker with retries.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OutboxMessages {
    Table,
    Id,
    TenantId,
    BookingId,
    Topic,
    MessageId,
    Sender,
    ReplyTo,
    Recipient,
    Subject,
    BodyText,
    BodyHtml,
    Attachment,
    State,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastError,
    CreatedAt,
    SentAt,
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
                    .table(OutboxMessages::Table)
                    .col(pk_auto(OutboxMessages::Id))
                    .col(integer(OutboxMessages::TenantId))
                    .col(integer_null(OutboxMessages::BookingId))
                    .col(string_len(OutboxMessages::Topic, 30))
                    .col(string_len_uniq(OutboxMessages::MessageId, 200))
                    .col(string_len(OutboxMessages::Sender, 400))
                    .col(string_len_null(OutboxMessages::ReplyTo, 254))
                    .col(string_len(OutboxMessages::Recipient, 254))
                    .col(text(OutboxMessages::Subject))
                    .col(text(OutboxMessages::BodyText))
                    .col(text(OutboxMessages::BodyHtml))
                    .col(text_null(OutboxMessages::Attachment))
                    .col(string_len(OutboxMessages::State, 12))
                    .col(integer(OutboxMessages::Attempts).default(0))
                    .col(timestamp_with_time_zone(OutboxMessages::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(OutboxMessages::LeaseUntil))
                    .col(text_null(OutboxMessages::LastError))
                    .col(timestamp_with_time_zone(OutboxMessages::CreatedAt))
                    .col(timestamp_with_time_zone_null(OutboxMessages::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OutboxMessages::Table, OutboxMessages::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The worker's question: what is due?
        manager
            .create_index(
                Index::create()
                    .name("outbox_due")
                    .table(OutboxMessages::Table)
                    .col(OutboxMessages::State)
                    .col(OutboxMessages::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        // The delivery log, per tenant, newest first; a booking's messages.
        manager
            .create_index(
                Index::create()
                    .name("outbox_tenant")
                    .table(OutboxMessages::Table)
                    .col(OutboxMessages::TenantId)
                    .col(OutboxMessages::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_booking")
                    .table(OutboxMessages::Table)
                    .col(OutboxMessages::BookingId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(OutboxMessages::Table).to_owned()).await
    }
}
