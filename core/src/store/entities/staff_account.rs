use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Lower-case: addresses compare without regard to case.
    #[sea_orm(unique)]
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
    pub password_changed_at: DateTimeUtc,
    /// Base32 TOTP secret, once the second factor is on.
    pub totp_secret: Option<String>,
    /// A secret shown for enrolment, not yet confirmed with a code.
    pub totp_pending_secret: Option<String>,
    /// The last time step whose code was accepted: each code works once.
    pub totp_last_step: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
