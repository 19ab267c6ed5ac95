//! Retention: when a booking's personal data was anonymised (none: it still holds them), and an
//! index of the bookings that still do, by their end, for the job that looks for those past the
//! body's retention period.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Bookings {
    Table,
    AnonymisedAt,
}

const INDEX: &str = "bookings_tenant_end_personal";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Bookings::Table)
                    .add_column(timestamp_with_time_zone_null(Bookings::AnonymisedAt))
                    .to_owned(),
            )
            .await?;
        // Partial: it holds only the bookings still to anonymise (the same SQL on both databases).
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {INDEX} ON bookings (tenant_id, ends_at) WHERE anonymised_at IS NULL"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(&format!("DROP INDEX {INDEX}")).await?;
        manager.alter_table(Table::alter().table(Bookings::Table).drop_column(Bookings::AnonymisedAt).to_owned()).await
    }
}
