//! Login attempts per account and per client, shared by every instance.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::StoreError;
use super::entities::login_attempt::{self, Column, Entity};

pub struct LoginAttempts;

impl LoginAttempts {
    /// The attempts counted under `key` and the last one's time (none yet: zero at `now`), with
    /// the row locked until the transaction ends: the row is made first if missing (a concurrent
    /// maker waits on the key), then a no-op update takes PostgreSQL's row lock; SQLite's write
    /// transaction holds the whole database anyway. Must run inside a write transaction.
    pub async fn lock(
        conn: &impl ConnectionTrait,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<(u32, DateTime<Utc>), StoreError> {
        let fresh = login_attempt::ActiveModel { key: Set(key.to_owned()), attempts: Set(0), last_at: Set(now) };
        Entity::insert(fresh).on_conflict_do_nothing().exec_without_returning(conn).await?;
        Entity::update_many()
            .col_expr(Column::Attempts, Expr::col(Column::Attempts))
            .filter(Column::Key.eq(key))
            .exec(conn)
            .await?;
        let row = Entity::find_by_id(key.to_owned()).one(conn).await?;
        Ok(row.map_or((0, now), |m| (u32::try_from(m.attempts).unwrap_or(0), m.last_at)))
    }

    pub async fn put(
        conn: &impl ConnectionTrait,
        key: &str,
        attempts: u32,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let row = login_attempt::ActiveModel {
            key: Set(key.to_owned()),
            attempts: Set(i32::try_from(attempts).unwrap_or(i32::MAX)),
            last_at: Set(at),
        };
        Entity::insert(row)
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(Column::Key)
                    .update_columns([Column::Attempts, Column::LastAt])
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }

    /// Forgets counts last touched before `before`: they no longer slow anyone down.
    pub async fn prune(conn: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(Entity::delete_many().filter(Column::LastAt.lt(before)).exec(conn).await?.rows_affected)
    }

    pub async fn clear(conn: &impl ConnectionTrait, key: &str) -> Result<(), StoreError> {
        Entity::delete_by_id(key.to_owned()).exec(conn).await?;
        Ok(())
    }
}
