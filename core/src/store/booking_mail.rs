//! The e-mail a booking still owes its citizen, kept on the booking's own row: its confirmation,
//! then its reminder. A booking's transaction (which every other booking waits for on SQLite)
//! sets two columns of the row it writes anyway; the worker turns what is due into outbox
//! messages, many per transaction, each exactly once (`advance` compares and sets).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::StoreError;
use super::bookings::to_domain;
use super::entities::booking::{Column, Entity};
use crate::domain::{Booking, TenantId};

/// Which e-mail a booking owes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum OwedMail {
    Confirmation,
    Reminder,
}

impl OwedMail {
    pub fn code(self) -> &'static str {
        match self {
            Self::Confirmation => "confirmation",
            Self::Reminder => "reminder",
        }
    }

    fn parse(code: &str) -> Option<Self> {
        [Self::Confirmation, Self::Reminder].into_iter().find(|m| m.code() == code)
    }
}

/// What a booking owes after the e-mail being queued, and when; `None`: nothing more.
pub type NextMail = Option<(OwedMail, DateTime<Utc>)>;

/// A booking whose e-mail is due, as read: its row may not make a valid booking (`booking` is
/// then the error), which must hold back no other booking's e-mail.
pub struct DueMail {
    pub tenant: TenantId,
    pub id: i32,
    /// The row's revision when read: a booking changed since is not advanced on what was read.
    pub revision: i32,
    pub owed: OwedMail,
    pub booking: Result<Booking, StoreError>,
}

/// A booking's e-mail queued (or put off): what it owes next, for the row as it was read.
#[derive(Clone, Copy, Debug)]
pub struct Advance {
    pub id: i32,
    pub revision: i32,
    pub next: NextMail,
}

pub struct BookingMail;

impl BookingMail {
    /// Bookings whose e-mail is due at `now`, longest due first, across tenants (the worker's
    /// question, like the outbox's claim).
    pub async fn due(conn: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> Result<Vec<DueMail>, StoreError> {
        let known = [OwedMail::Confirmation.code(), OwedMail::Reminder.code()];
        let rows = Entity::find()
            .filter(Column::MailDueAt.lte(now))
            .filter(Column::MailNext.is_in(known))
            .order_by_asc(Column::MailDueAt)
            .limit(limit)
            .all(conn)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let owed = row.mail_next.as_deref().and_then(OwedMail::parse)?;
                let (tenant, id, revision) = (TenantId::from_stored(row.tenant_id), row.id, row.revision);
                Some(DueMail { tenant, id, revision, owed, booking: to_domain(row) })
            })
            .collect())
    }

    /// Records that the `owed` e-mails of a tenant's bookings were queued (or put off), and what
    /// each owes next, in one statement; the ids of those that still owed it as read (not queued
    /// by another worker, nor cancelled or moved, meanwhile).
    pub async fn advance(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        owed: OwedMail,
        advances: &[Advance],
    ) -> Result<Vec<i32>, StoreError> {
        if advances.is_empty() {
            return Ok(Vec::new());
        }
        let (mut mail, mut due) = (CaseStatement::new(), CaseStatement::new());
        let mut as_read = Condition::any();
        for advance in advances {
            mail = mail.case(Column::Id.eq(advance.id), Expr::value(advance.next.map(|(m, _)| m.code())));
            due = due.case(Column::Id.eq(advance.id), Expr::value(advance.next.map(|(_, at)| at)));
            as_read = as_read.add(Column::Id.eq(advance.id).and(Column::Revision.eq(advance.revision)));
        }
        let advanced = Entity::update_many()
            .col_expr(Column::MailNext, mail.into())
            .col_expr(Column::MailDueAt, due.into())
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(as_read)
            .filter(Column::MailNext.eq(owed.code()))
            .exec_with_returning(conn)
            .await?;
        Ok(advanced.into_iter().map(|row| row.id).collect())
    }

    /// A booking moved: its reminder is due at `reminder` (none when that time has passed),
    /// unless the booking still owes its confirmation, which then says the new time and sets the
    /// reminder when it is queued. Returns whether the confirmation is still owed. Called in the
    /// move's transaction, after the row was written (and so locked).
    pub async fn follow_move(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        booking: i32,
        reminder: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let owed: Option<Option<String>> = Entity::find()
            .select_only()
            .column(Column::MailNext)
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(booking))
            .into_tuple()
            .one(conn)
            .await?;
        if owed.flatten().as_deref() == Some(OwedMail::Confirmation.code()) {
            return Ok(true);
        }
        Entity::update_many()
            .col_expr(Column::MailNext, Expr::value(reminder.map(|_| OwedMail::Reminder.code())))
            .col_expr(Column::MailDueAt, Expr::value(reminder))
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(booking))
            .exec(conn)
            .await?;
        Ok(false)
    }

    /// How many bookings' e-mails are due and not yet queued, and since when the oldest is
    /// (for the outbox's backlog).
    pub async fn backlog(
        conn: &impl ConnectionTrait,
        now: DateTime<Utc>,
    ) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
        let due = Entity::find().filter(Column::MailDueAt.lte(now));
        let count = due.clone().count(conn).await?;
        let oldest = due
            .select_only()
            .column(Column::MailDueAt)
            .order_by_asc(Column::MailDueAt)
            .into_tuple::<DateTime<Utc>>()
            .one(conn)
            .await?;
        Ok((count, oldest))
    }
}
