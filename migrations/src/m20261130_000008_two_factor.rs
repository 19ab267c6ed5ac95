//! A second factor for staff: a TOTP secret per account (with the last time step used, so that a
//! code works once), recovery codes kept as digests, sessions that wait for the code; and an
//! index to prune old login-throttle counts by time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StaffAccounts {
    Table,
    Id,
    TotpSecret,
    TotpPendingSecret,
    TotpLastStep,
}

#[derive(DeriveIden)]
enum StaffSessions {
    Table,
    AwaitingCode,
    SecondFactor,
}

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    LastAt,
}

#[derive(DeriveIden)]
enum StaffRecoveryCodes {
    Table,
    Id,
    AccountId,
    CodeDigest,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            text_null(StaffAccounts::TotpSecret),
            text_null(StaffAccounts::TotpPendingSecret),
            big_integer_null(StaffAccounts::TotpLastStep),
        ] {
            let mut column = column;
            manager.alter_table(Table::alter().table(StaffAccounts::Table).add_column(&mut column).to_owned()).await?;
        }
        for column in [StaffSessions::AwaitingCode, StaffSessions::SecondFactor] {
            manager
                .alter_table(
                    Table::alter().table(StaffSessions::Table).add_column(boolean(column).default(false)).to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(StaffRecoveryCodes::Table)
                    .col(pk_auto(StaffRecoveryCodes::Id))
                    .col(integer(StaffRecoveryCodes::AccountId))
                    .col(string_len(StaffRecoveryCodes::CodeDigest, 64))
                    .col(timestamp_with_time_zone_null(StaffRecoveryCodes::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffRecoveryCodes::Table, StaffRecoveryCodes::AccountId)
                            .to(StaffAccounts::Table, StaffAccounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("staff_recovery_codes_account")
                    .table(StaffRecoveryCodes::Table)
                    .col(StaffRecoveryCodes::AccountId)
                    .to_owned(),
            )
            .await?;
        // Old throttle counts are pruned by time.
        manager
            .create_index(
                Index::create()
                    .name("login_attempts_last_at")
                    .table(LoginAttempts::Table)
                    .col(LoginAttempts::LastAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("login_attempts_last_at").table(LoginAttempts::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(StaffRecoveryCodes::Table).to_owned()).await?;
        for column in [StaffSessions::AwaitingCode, StaffSessions::SecondFactor] {
            manager.alter_table(Table::alter().table(StaffSessions::Table).drop_column(column).to_owned()).await?;
        }
        for column in [StaffAccounts::TotpSecret, StaffAccounts::TotpPendingSecret, StaffAccounts::TotpLastStep] {
            manager.alter_table(Table::alter().table(StaffAccounts::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
