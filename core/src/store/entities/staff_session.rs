use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_sessions")]
pub struct Model {
    /// SHA-256 (hex) of the session token: a stolen database does not open sessions.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_digest: String,
    pub account_id: i32,
    pub csrf_token: String,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Signed in with the password, waiting for the second factor: good for nothing else.
    pub awaiting_code: bool,
    /// Signed in with the second factor (its code), not only the password.
    pub second_factor: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
