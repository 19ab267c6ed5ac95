use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    /// The tenant pack's `tenant.toml`, the source of the tenant's configuration.
    pub pack: String,
    pub logo: Option<Vec<u8>>,
    pub logo_content_type: Option<String>,
    pub config_version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// While set, the tenant's pages and API say it is temporarily unavailable.
    pub suspended_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
