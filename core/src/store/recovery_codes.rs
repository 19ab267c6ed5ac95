//! Staff recovery codes (a way in when the authenticator is lost), each usable once, known only
//! by their digests.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use super::StoreError;
use super::entities::staff_recovery_code::{self, Column, Entity};

pub struct RecoveryCodes;

impl RecoveryCodes {
    /// Replaces the account's codes with these (digests).
    pub async fn replace(conn: &impl ConnectionTrait, account: i32, digests: &[String]) -> Result<(), StoreError> {
        Entity::delete_many().filter(Column::AccountId.eq(account)).exec(conn).await?;
        for digest in digests {
            staff_recovery_code::ActiveModel {
                account_id: Set(account),
                code_digest: Set(digest.clone()),
                used_at: Set(None),
                ..Default::default()
            }
            .insert(conn)
            .await?;
        }
        Ok(())
    }

    /// Spends the code with this digest, if unused: of two requests with it, one gets `true`.
    pub async fn spend(
        conn: &impl ConnectionTrait,
        account: i32,
        digest: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let spent = Entity::update_many()
            .col_expr(Column::UsedAt, Expr::value(now))
            .filter(Column::AccountId.eq(account))
            .filter(Column::CodeDigest.eq(digest))
            .filter(Column::UsedAt.is_null())
            .exec(conn)
            .await?;
        Ok(spent.rows_affected == 1)
    }

    pub async fn unused(conn: &impl ConnectionTrait, account: i32) -> Result<u64, StoreError> {
        Ok(Entity::find().filter(Column::AccountId.eq(account)).filter(Column::UsedAt.is_null()).count(conn).await?)
    }
}
