//! Staff accounts and their roles, server-side sessions, invitations, login throttling and the
//! append-only audit log; and a tenant can be suspended.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StaffAccounts {
    Table,
    Id,
    Email,
    PasswordHash,
    Disabled,
    CreatedAt,
    PasswordChangedAt,
}

#[derive(DeriveIden)]
enum StaffGrants {
    Table,
    Id,
    AccountId,
    TenantId,
    Role,
    Offices,
}

#[derive(DeriveIden)]
enum StaffSessions {
    Table,
    TokenDigest,
    AccountId,
    CsrfToken,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum StaffInvitations {
    Table,
    TokenDigest,
    TenantId,
    Email,
    Role,
    Offices,
    InvitedBy,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
}

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Key,
    Attempts,
    LastAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    TenantId,
    At,
    ActorId,
    Actor,
    ClientAddress,
    Action,
    Detail,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    SuspendedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StaffAccounts::Table)
                    .col(pk_auto(StaffAccounts::Id))
                    .col(string_len_uniq(StaffAccounts::Email, 254))
                    .col(string_len(StaffAccounts::PasswordHash, 255))
                    .col(boolean(StaffAccounts::Disabled).default(false))
                    .col(timestamp_with_time_zone(StaffAccounts::CreatedAt))
                    .col(timestamp_with_time_zone(StaffAccounts::PasswordChangedAt))
                    .to_owned(),
            )
            .await?;
        // A platform grant has no tenant; a person may hold one role in each of several tenants.
        manager
            .create_table(
                Table::create()
                    .table(StaffGrants::Table)
                    .col(pk_auto(StaffGrants::Id))
                    .col(integer(StaffGrants::AccountId))
                    .col(integer_null(StaffGrants::TenantId))
                    .col(string_len(StaffGrants::Role, 16))
                    .col(text(StaffGrants::Offices).default("[]"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffGrants::Table, StaffGrants::AccountId)
                            .to(StaffAccounts::Table, StaffAccounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffGrants::Table, StaffGrants::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("staff_grants_account_tenant")
                    .table(StaffGrants::Table)
                    .col(StaffGrants::AccountId)
                    .col(StaffGrants::TenantId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StaffSessions::Table)
                    .col(string_len(StaffSessions::TokenDigest, 64).primary_key())
                    .col(integer(StaffSessions::AccountId))
                    .col(string_len(StaffSessions::CsrfToken, 64))
                    .col(timestamp_with_time_zone(StaffSessions::CreatedAt))
                    .col(timestamp_with_time_zone(StaffSessions::LastSeenAt))
                    .col(timestamp_with_time_zone(StaffSessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffSessions::Table, StaffSessions::AccountId)
                            .to(StaffAccounts::Table, StaffAccounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("staff_sessions_account")
                    .table(StaffSessions::Table)
                    .col(StaffSessions::AccountId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StaffInvitations::Table)
                    .col(string_len(StaffInvitations::TokenDigest, 64).primary_key())
                    .col(integer_null(StaffInvitations::TenantId))
                    .col(string_len(StaffInvitations::Email, 254))
                    .col(string_len(StaffInvitations::Role, 16))
                    .col(text(StaffInvitations::Offices).default("[]"))
                    .col(integer_null(StaffInvitations::InvitedBy))
                    .col(timestamp_with_time_zone(StaffInvitations::CreatedAt))
                    .col(timestamp_with_time_zone(StaffInvitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(StaffInvitations::AcceptedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffInvitations::Table, StaffInvitations::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginAttempts::Table)
                    .col(string_len(LoginAttempts::Key, 80).primary_key())
                    .col(integer(LoginAttempts::Attempts))
                    .col(timestamp_with_time_zone(LoginAttempts::LastAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(big_pk_auto(AuditEvents::Id))
                    .col(integer_null(AuditEvents::TenantId))
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .col(integer_null(AuditEvents::ActorId))
                    .col(string_len(AuditEvents::Actor, 254))
                    .col(string_len_null(AuditEvents::ClientAddress, 64))
                    .col(string_len(AuditEvents::Action, 48))
                    .col(text(AuditEvents::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_events_tenant_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::TenantId)
                    .col(AuditEvents::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(timestamp_with_time_zone_null(Tenants::SuspendedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::SuspendedAt).to_owned()).await?;
        for table in [
            AuditEvents::Table.into_iden(),
            LoginAttempts::Table.into_iden(),
            StaffInvitations::Table.into_iden(),
            StaffSessions::Table.into_iden(),
            StaffGrants::Table.into_iden(),
            StaffAccounts::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
