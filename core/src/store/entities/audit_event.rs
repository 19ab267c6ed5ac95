use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// None for platform events.
    pub tenant_id: Option<i32>,
    pub at: DateTimeUtc,
    pub actor_id: Option<i32>,
    /// The actor's sign-in address, or `system`, or `unknown account`.
    pub actor: String,
    pub client_address: Option<String>,
    pub action: String,
    /// JSON object with what changed.
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
