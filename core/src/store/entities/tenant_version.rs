use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenant_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i64,
    pub manifest: String,
    /// JSON object: pack path → blob digest.
    pub files: String,
    /// JSON array `[content type, blob digest]`, or none.
    pub logo: Option<String>,
    pub saved_at: DateTimeUtc,
    pub saved_by: String,
    /// JSON array of sentences: what changed from the version before.
    pub changes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
