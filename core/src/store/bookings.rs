//! Booking rows and their mapping to the domain `Booking`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use super::StoreError;
use super::booking_mail::OwedMail;
use super::entities::booking::{self, Column, Entity};
use crate::domain::booking::SummaryLine;
use crate::domain::{
    Booking, BookingCode, BookingDetails, BookingStatus, Channel, Citizen, Email, FiscalCode, JitsiRoom, Locale,
    Localized, Mode, ModeContact, Phone, SkypeName, Slug, TenantId,
};

/// A booking about to be written.
pub struct NewBooking<'a> {
    pub tenant: TenantId,
    pub code: &'a BookingCode,
    pub service: &'a Slug,
    pub office: &'a Slug,
    pub mode: Mode,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub timezone: chrono_tz::Tz,
    pub details: &'a BookingDetails,
    pub privacy_version: &'a str,
    pub summary: &'a [SummaryLine],
    pub channel: Channel,
    /// The staff member who made it for the citizen (at the counter, by phone).
    pub booked_by: Option<i32>,
    /// Whether it owes its citizen a confirmation e-mail (and later a reminder): false when this
    /// server sends no e-mail.
    pub owes_mail: bool,
    pub now: DateTime<Utc>,
}

/// The stored form of a booking's summary: `[{"label": {"it": …, "en": …}, "value": …}]`.
fn summary_json(summary: &[SummaryLine]) -> Option<String> {
    if summary.is_empty() {
        return None;
    }
    let lines: Vec<serde_json::Value> = summary
        .iter()
        .map(|line| {
            let label: BTreeMap<&str, &str> = line.label.translations().map(|(l, t)| (l.code(), t)).collect();
            serde_json::json!({"label": label, "value": line.value})
        })
        .collect();
    Some(serde_json::Value::Array(lines).to_string())
}

fn summary_from_json(text: Option<&str>) -> Vec<SummaryLine> {
    #[derive(serde::Deserialize)]
    struct Line {
        label: BTreeMap<String, String>,
        value: String,
    }
    let lines: Vec<Line> = text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
    lines
        .into_iter()
        .filter_map(|line| {
            let label =
                Localized::new(line.label.iter().filter_map(|(c, t)| Some((Locale::parse(c)?, t.clone()))).collect())?;
            Some(SummaryLine { label, value: line.value })
        })
        .collect()
}

pub struct Bookings;

impl Bookings {
    pub async fn insert(conn: &impl ConnectionTrait, new: NewBooking<'_>) -> Result<Booking, StoreError> {
        let citizen = &new.details.citizen;
        let answers = serde_json::to_string(&new.details.answers).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let model = booking::ActiveModel {
            tenant_id: Set(new.tenant.get()),
            code: Set(new.code.as_str().to_owned()),
            status: Set(BookingStatus::Confirmed.code().to_owned()),
            service: Set(new.service.to_string()),
            office: Set(new.office.to_string()),
            mode: Set(new.mode.code().to_owned()),
            starts_at: Set(new.start),
            ends_at: Set(new.end),
            timezone: Set(new.timezone.name().to_owned()),
            first_name: Set(citizen.first_name().to_owned()),
            last_name: Set(citizen.last_name().to_owned()),
            // No address (staff booked someone who has none) is stored empty: the column predates it.
            email: Set(citizen.email().map(ToString::to_string).unwrap_or_default()),
            phone: Set(citizen.phone().map(ToString::to_string).unwrap_or_default()),
            fiscal_code: Set(citizen.fiscal_code().map(ToString::to_string)),
            contact: Set(new.details.contact.as_str().map(str::to_owned)),
            answers: Set(answers),
            reason: Set(new.details.reason.clone()),
            details: Set(new.details.details.clone()),
            locale: Set(new.details.locale.code().to_owned()),
            privacy_version: Set(new.privacy_version.to_owned()),
            summary: Set(summary_json(new.summary)),
            channel: Set(new.channel.code().to_owned()),
            booked_by: Set(new.booked_by),
            created_at: Set(new.now),
            updated_at: Set(new.now),
            revision: Set(0),
            mail_next: Set(new.owes_mail.then(|| OwedMail::Confirmation.code().to_owned())),
            mail_due_at: Set(new.owes_mail.then_some(new.now)),
            ..Default::default()
        };
        to_domain(model.insert(conn).await?)
    }

    pub async fn by_code(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        code: &BookingCode,
    ) -> Result<Option<Booking>, StoreError> {
        let found = Entity::find()
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Code.eq(code.as_str()))
            .one(conn)
            .await?;
        found.map(to_domain).transpose()
    }

    pub async fn by_id(conn: &impl ConnectionTrait, tenant: TenantId, id: i32) -> Result<Option<Booking>, StoreError> {
        let found =
            Entity::find().filter(Column::TenantId.eq(tenant.get())).filter(Column::Id.eq(id)).one(conn).await?;
        found.map(to_domain).transpose()
    }

    /// Moves a booking from status `from` to `to`; `false` if it was no longer in `from`.
    pub async fn change_status(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: i32,
        from: BookingStatus,
        to: BookingStatus,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut update = Entity::update_many()
            .col_expr(Column::Status, to.code().into())
            .col_expr(Column::UpdatedAt, now.into())
            .col_expr(Column::Revision, Expr::col(Column::Revision).add(1));
        if to != BookingStatus::Confirmed {
            update = owes_no_more_mail(update);
        }
        let result = update
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(id))
            .filter(Column::Status.eq(from.code()))
            .exec(conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Moves a confirmed booking from `old` to a new time; `false` if it is no longer confirmed
    /// or no longer at `old` (a concurrent move won).
    pub async fn reschedule(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: i32,
        (old_start, old_end): (DateTime<Utc>, DateTime<Utc>),
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = Entity::update_many()
            .col_expr(Column::StartsAt, start.into())
            .col_expr(Column::EndsAt, end.into())
            .col_expr(Column::UpdatedAt, now.into())
            .col_expr(Column::Revision, Expr::col(Column::Revision).add(1))
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(id))
            .filter(Column::Status.eq(BookingStatus::Confirmed.code()))
            .filter(Column::StartsAt.eq(old_start))
            .filter(Column::EndsAt.eq(old_end))
            .exec(conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Every confirmed booking still to come, soonest first.
    pub async fn upcoming(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Booking>, StoreError> {
        let rows = Entity::find()
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Status.eq(BookingStatus::Confirmed.code()))
            .filter(Column::StartsAt.gt(now))
            .order_by_asc(Column::StartsAt)
            .all(conn)
            .await?;
        rows.into_iter().map(to_domain).collect()
    }

    /// An office's confirmed bookings that start in `[from, to)`, soonest first.
    pub async fn of_office_between(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        office: &str,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<Booking>, StoreError> {
        let rows = Entity::find()
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Office.eq(office))
            .filter(Column::Status.eq(BookingStatus::Confirmed.code()))
            .filter(Column::StartsAt.gte(from))
            .filter(Column::StartsAt.lt(to))
            .order_by_asc(Column::StartsAt)
            .all(conn)
            .await?;
        rows.into_iter().map(to_domain).collect()
    }

    /// Cancels a confirmed booking on the public body's side, recording why, only if it is still
    /// confirmed at `(start, end)`; `false` if it was cancelled or moved meanwhile.
    pub async fn cancel_with_reason(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: i32,
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = owes_no_more_mail(Entity::update_many())
            .col_expr(Column::Status, BookingStatus::Cancelled.code().into())
            .col_expr(Column::CancelReason, reason.into())
            .col_expr(Column::UpdatedAt, now.into())
            .col_expr(Column::Revision, Expr::col(Column::Revision).add(1))
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Id.eq(id))
            .filter(Column::Status.eq(BookingStatus::Confirmed.code()))
            .filter(Column::StartsAt.eq(start))
            .filter(Column::EndsAt.eq(end))
            .exec(conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Confirmed bookings still to come, for one service and/or office.
    pub async fn count_upcoming(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        service: Option<&str>,
        office: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut query = Entity::find()
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Status.eq(BookingStatus::Confirmed.code()))
            .filter(Column::StartsAt.gt(now));
        if let Some(service) = service {
            query = query.filter(Column::Service.eq(service));
        }
        if let Some(office) = office {
            query = query.filter(Column::Office.eq(office));
        }
        Ok(query.count(conn).await?)
    }

    /// Serialises bookings of `service` by the same person until the transaction ends, so that the
    /// per-person limit is exact under concurrency. On PostgreSQL: transaction-scoped advisory
    /// locks on each identity (sorted, so no deadlock). SQLite needs none: its write transactions
    /// already run one at a time.
    pub async fn lock_person(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        service: &Slug,
        citizen: &Citizen,
    ) -> Result<(), StoreError> {
        if conn.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let mut identities: Vec<String> = citizen.phone().map(|p| format!("p:{p}")).into_iter().collect();
        identities.extend(citizen.email().map(|e| format!("e:{}", e.as_str().to_lowercase())));
        identities.extend(citizen.fiscal_code().map(|f| format!("f:{f}")));
        identities.sort();
        for identity in identities {
            super::lock_key(conn, format!("sportello:{}:{}:{identity}", tenant.get(), service)).await?;
        }
        Ok(())
    }

    /// Confirmed future bookings of `service` by the same person: same e-mail (any case), phone
    /// or fiscal code.
    pub async fn count_upcoming_for_person(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        service: &Slug,
        citizen: &Citizen,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut same_person = Condition::any();
        if let Some(phone) = citizen.phone() {
            same_person = same_person.add(Column::Phone.eq(phone.as_str()));
        }
        if let Some(email) = citizen.email() {
            same_person =
                same_person.add(Expr::expr(Func::lower(Expr::col(Column::Email))).eq(email.as_str().to_lowercase()));
        }
        if let Some(fiscal_code) = &citizen.fiscal_code() {
            same_person = same_person.add(Column::FiscalCode.eq(fiscal_code.as_str()));
        }
        Ok(Entity::find()
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Service.eq(service.as_str()))
            .filter(Column::Status.eq(BookingStatus::Confirmed.code()))
            .filter(Column::StartsAt.gt(now))
            .filter(same_person)
            .count(conn)
            .await?)
    }

    /// Bookings of a tenant in a status (all of them: for audits and tests, not for pages).
    pub async fn count_with_status(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        status: BookingStatus,
    ) -> Result<u64, StoreError> {
        Ok(Entity::find()
            .filter(Column::TenantId.eq(tenant.get()))
            .filter(Column::Status.eq(status.code()))
            .count(conn)
            .await?)
    }
}

/// A booking no longer confirmed is owed neither its confirmation nor its reminder: the
/// cancellation says all there is to say.
pub(super) fn owes_no_more_mail(update: sea_orm::UpdateMany<Entity>) -> sea_orm::UpdateMany<Entity> {
    update
        .col_expr(Column::MailNext, Expr::value(Option::<String>::None))
        .col_expr(Column::MailDueAt, Expr::value(Option::<DateTime<Utc>>::None))
}

/// The error of a stored value that does not parse; a personal one (a contact, an address) is
/// named, never shown: the error may be logged.
fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("booking {what} {value:?}"))
}

pub(super) fn to_domain(m: booking::Model) -> Result<Booking, StoreError> {
    let mode = Mode::parse(&m.mode).ok_or_else(|| corrupt("mode", &m.mode))?;
    let details = match m.anonymised_at {
        // Nothing of the citizen is left to parse.
        Some(_) => BookingDetails {
            citizen: Citizen::erased(),
            contact: ModeContact::None,
            answers: BTreeMap::new(),
            reason: None,
            details: None,
            locale: Locale::parse(&m.locale).ok_or_else(|| corrupt("locale", &m.locale))?,
        },
        None => personal_details(&m, mode)?,
    };
    Ok(Booking {
        id: m.id,
        code: BookingCode::parse(&m.code).ok_or_else(|| corrupt("code", &m.code))?,
        status: BookingStatus::parse(&m.status).ok_or_else(|| corrupt("status", &m.status))?,
        service: Slug::parse(&m.service).map_err(|_| corrupt("service", &m.service))?,
        office: Slug::parse(&m.office).map_err(|_| corrupt("office", &m.office))?,
        mode,
        start: m.starts_at,
        end: m.ends_at,
        timezone: m.timezone.parse().map_err(|_| corrupt("timezone", &m.timezone))?,
        details,
        privacy_version: m.privacy_version,
        summary: summary_from_json(m.summary.as_deref()),
        channel: Channel::parse(&m.channel).ok_or_else(|| corrupt("channel", &m.channel))?,
        created_at: m.created_at,
        updated_at: m.updated_at,
        revision: u32::try_from(m.revision).map_err(|_| corrupt("revision", &m.revision.to_string()))?,
        anonymised_at: m.anonymised_at,
    })
}

/// The citizen's details of a booking that still holds them.
fn personal_details(m: &booking::Model, mode: Mode) -> Result<BookingDetails, StoreError> {
    let invalid_contact = || corrupt("contact", "(invalid)");
    let contact = match (mode, m.contact.as_deref()) {
        (Mode::InPerson, _) => ModeContact::None,
        (Mode::WhatsApp, Some(c)) => Phone::parse(c).map(ModeContact::Phone).ok_or_else(invalid_contact)?,
        (Mode::Skype, Some(c)) => SkypeName::parse(c).map(ModeContact::Skype).ok_or_else(invalid_contact)?,
        (Mode::Teams, Some(c)) => Email::parse(c).map(ModeContact::Email).ok_or_else(invalid_contact)?,
        (Mode::Jitsi, Some(c)) => JitsiRoom::parse(c).map(ModeContact::Room).ok_or_else(invalid_contact)?,
        (_, None) => return Err(corrupt("contact", "")),
    };
    let answers: BTreeMap<String, String> =
        serde_json::from_str(&m.answers).map_err(|_| corrupt("answers", "(not a JSON object of strings)"))?;
    let fiscal_code = match m.fiscal_code.as_deref() {
        Some(f) => Some(FiscalCode::parse(f).ok_or_else(|| corrupt("fiscal code", "(invalid)"))?),
        None => None,
    };
    Ok(BookingDetails {
        citizen: Citizen::new(
            &m.first_name,
            &m.last_name,
            match m.email.as_str() {
                "" => None,
                email => Some(Email::parse(email).ok_or_else(|| corrupt("e-mail", "(invalid)"))?),
            },
            Phone::parse(&m.phone).ok_or_else(|| corrupt("phone", "(invalid)"))?,
            fiscal_code,
        )
        .ok_or_else(|| corrupt("name", "(invalid)"))?,
        contact,
        answers,
        reason: m.reason.clone(),
        details: m.details.clone(),
        locale: Locale::parse(&m.locale).ok_or_else(|| corrupt("locale", &m.locale))?,
    })
}
