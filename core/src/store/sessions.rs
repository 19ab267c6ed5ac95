//! Staff sessions, server-side so that every instance sees a logout at once.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::StoreError;
use super::entities::staff_session::{self, Column, Entity};

#[derive(Clone, Debug)]
pub struct StoredSession {
    pub account_id: i32,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Signed in with the password, waiting for the second factor.
    pub awaiting_code: bool,
    /// Signed in with the second factor too.
    pub second_factor: bool,
}

/// How a session is opened.
#[derive(Clone, Copy, Debug)]
pub struct SessionKind {
    pub awaiting_code: bool,
    pub second_factor: bool,
}

pub struct Sessions;

impl Sessions {
    pub async fn create(
        conn: &impl ConnectionTrait,
        token_digest: &str,
        account_id: i32,
        csrf_token: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        kind: SessionKind,
    ) -> Result<(), StoreError> {
        staff_session::ActiveModel {
            token_digest: Set(token_digest.to_owned()),
            account_id: Set(account_id),
            csrf_token: Set(csrf_token.to_owned()),
            created_at: Set(now),
            last_seen_at: Set(now),
            expires_at: Set(expires_at),
            awaiting_code: Set(kind.awaiting_code),
            second_factor: Set(kind.second_factor),
        }
        .insert(conn)
        .await?;
        Ok(())
    }

    pub async fn find(conn: &impl ConnectionTrait, token_digest: &str) -> Result<Option<StoredSession>, StoreError> {
        Ok(Entity::find_by_id(token_digest.to_owned()).one(conn).await?.map(|m| StoredSession {
            account_id: m.account_id,
            csrf_token: m.csrf_token,
            created_at: m.created_at,
            last_seen_at: m.last_seen_at,
            expires_at: m.expires_at,
            awaiting_code: m.awaiting_code,
            second_factor: m.second_factor,
        }))
    }

    /// Marks a session as signed in with the second factor (it just turned it on).
    pub async fn mark_second_factor(conn: &impl ConnectionTrait, token_digest: &str) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::SecondFactor, Expr::value(true))
            .filter(Column::TokenDigest.eq(token_digest))
            .exec(conn)
            .await?;
        Ok(())
    }

    pub async fn touch(conn: &impl ConnectionTrait, token_digest: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::LastSeenAt, Expr::value(now))
            .filter(Column::TokenDigest.eq(token_digest))
            .exec(conn)
            .await?;
        Ok(())
    }

    pub async fn delete(conn: &impl ConnectionTrait, token_digest: &str) -> Result<(), StoreError> {
        Entity::delete_by_id(token_digest.to_owned()).exec(conn).await?;
        Ok(())
    }

    /// Ends every session of the account but `keep` (the one changing its password, say).
    pub async fn delete_for_account(
        conn: &impl ConnectionTrait,
        account_id: i32,
        keep: Option<&str>,
    ) -> Result<u64, StoreError> {
        let mut delete = Entity::delete_many().filter(Column::AccountId.eq(account_id));
        if let Some(keep) = keep {
            delete = delete.filter(Column::TokenDigest.ne(keep));
        }
        Ok(delete.exec(conn).await?.rows_affected)
    }

    /// Forgets sessions past their absolute expiry.
    pub async fn prune(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(Entity::delete_many().filter(Column::ExpiresAt.lte(now)).exec(conn).await?.rows_affected)
    }
}
