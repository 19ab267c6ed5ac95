use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_drafts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: i32,
    /// SHA-256 (hex) of the browser's hold secret: one draft per booking in progress.
    #[sea_orm(primary_key, auto_increment = false)]
    pub owner_digest: String,
    /// The form's fields, as a JSON object of strings.
    pub fields: String,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
