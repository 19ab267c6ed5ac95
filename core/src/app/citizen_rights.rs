//! A citizen's rights over their booking (GDPR arts. 15 and 17), by its code and the same proof
//! as to see it: a copy of everything held about it — the booking, the messages sent about it,
//! and which staff opened or changed it — and erasure now (an appointment still to come is
//! cancelled first, with its e-mail; then the booking is anonymised as retention would).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::Serialize;

use super::bookings::Changed;
use super::{AppError, BookingProof, Sportello, TenantSnapshot};
use crate::domain::{Booking, BookingStatus};
use crate::store::{AuditLog, Bookings, Outbox, Retention, Waiting};

/// Everything held about one booking, as its citizen downloads it (JSON).
#[derive(Serialize)]
pub struct PersonalDataCopy {
    pub generated_at: String,
    pub controller: Controller,
    pub retention: RetentionTerms,
    pub booking: BookingCopy,
    /// E-mails to the citizen and webhook deliveries to the body's own systems, oldest first.
    pub messages: Vec<MessageCopy>,
    /// Each time staff opened, changed or noted the booking, oldest first.
    pub staff_access: Vec<StaffAccess>,
}

#[derive(Serialize)]
pub struct Controller {
    pub name: String,
    pub contacts: Option<String>,
    pub privacy_notice_url: Option<String>,
    pub legal_basis: &'static str,
}

#[derive(Serialize)]
pub struct RetentionTerms {
    pub days_after_the_appointment: u16,
    /// When its personal data are anonymised at the latest.
    pub anonymised_after: String,
    pub anonymised_at: Option<String>,
}

#[derive(Serialize)]
pub struct BookingCopy {
    pub code: String,
    pub status: &'static str,
    pub service: String,
    pub office: String,
    pub mode: &'static str,
    pub start: String,
    pub end: String,
    pub timezone: String,
    pub channel: &'static str,
    pub made_at: String,
    pub changed_at: String,
    pub privacy_notice_version: String,
    pub language: &'static str,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub fiscal_code: Option<String>,
    pub contact: Option<String>,
    pub answers: BTreeMap<String, String>,
    pub reason: Option<String>,
    pub details: Option<String>,
    /// What the service's rule reported, in the booking's language.
    pub summary: Vec<(String, String)>,
}

#[derive(Serialize)]
pub struct MessageCopy {
    /// `email` or `webhook`.
    pub kind: &'static str,
    pub topic: String,
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub state: &'static str,
    pub attempts: u32,
    pub created_at: String,
    pub sent_at: Option<String>,
}

#[derive(Serialize)]
pub struct StaffAccess {
    pub at: String,
    pub action: String,
    /// The staff member's sign-in address, as the audit log records it.
    pub by: String,
}

impl PersonalDataCopy {
    /// The copy as the file the citizen keeps: its name and its JSON.
    pub fn file(&self) -> Result<(String, Vec<u8>), AppError> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| AppError::Internal(format!("personal data: {e}")))?;
        Ok((format!("{}-personal-data.json", self.booking.code), json))
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Sportello {
    /// A copy of everything held about the booking `proof` proves.
    pub async fn personal_data(&self, slug: &str, proof: &BookingProof<'_>) -> Result<PersonalDataCopy, AppError> {
        let (tenant, booking) = self.find_booking(slug, proof).await?;
        let reader = self.store.reader();
        let messages = Outbox::of_booking(reader, tenant.id, booking.id).await?;
        let audit = AuditLog::of_booking(reader, tenant.id, &booking.code).await?;
        let config = &tenant.config;
        let locale = booking.details.locale;
        let citizen = &booking.details.citizen;
        let days = config.retention_days;
        Ok(PersonalDataCopy {
            generated_at: stamp(self.clock.now()),
            controller: Controller {
                name: config.branding.display_name.clone(),
                contacts: config.branding.contacts.clone(),
                privacy_notice_url: config.branding.privacy_notice_url.clone(),
                legal_basis: "GDPR art. 6(1)(e): a task carried out in the public interest",
            },
            retention: RetentionTerms {
                days_after_the_appointment: days,
                anonymised_after: stamp(booking.end + TimeDelta::days(i64::from(days))),
                anonymised_at: booking.anonymised_at.map(stamp),
            },
            booking: BookingCopy {
                code: booking.code.to_string(),
                status: booking.status.code(),
                service: config
                    .service(booking.service.as_str())
                    .map_or_else(|| booking.service.to_string(), |s| s.name.get(locale).to_owned()),
                office: config
                    .office(booking.office.as_str())
                    .map_or_else(|| booking.office.to_string(), |o| o.name.clone()),
                mode: booking.mode.code(),
                start: booking.start.with_timezone(&booking.timezone).to_rfc3339(),
                end: booking.end.with_timezone(&booking.timezone).to_rfc3339(),
                timezone: booking.timezone.name().to_owned(),
                channel: booking.channel.code(),
                made_at: stamp(booking.created_at),
                changed_at: stamp(booking.updated_at),
                privacy_notice_version: booking.privacy_version.clone(),
                language: locale.code(),
                first_name: citizen.first_name().to_owned(),
                last_name: citizen.last_name().to_owned(),
                email: citizen.email().map(ToString::to_string),
                phone: citizen.phone().map(ToString::to_string),
                fiscal_code: citizen.fiscal_code().map(ToString::to_string),
                contact: booking.details.contact.as_str().map(str::to_owned),
                answers: booking.details.answers.clone(),
                reason: booking.details.reason.clone(),
                details: booking.details.details.clone(),
                summary: booking.summary.iter().map(|s| (s.label.get(locale).to_owned(), s.value.clone())).collect(),
            },
            messages: messages
                .into_iter()
                .map(|m| MessageCopy {
                    kind: if m.webhook.is_some() { "webhook" } else { "email" },
                    topic: m.topic,
                    recipient: m.recipient,
                    subject: m.subject,
                    text: m.text,
                    state: m.state.code(),
                    attempts: m.attempts,
                    created_at: stamp(m.created_at),
                    sent_at: m.sent_at.map(stamp),
                })
                .collect(),
            staff_access: audit
                .into_iter()
                .map(|e| StaffAccess { at: stamp(e.at), action: e.action, by: e.actor })
                .collect(),
        })
    }

    /// Erases the personal data of the booking `proof` proves, now: an appointment still to come
    /// is cancelled first (the citizen gets the cancellation, the place is freed), then the
    /// booking and its messages are anonymised. Asked again, it answers the same.
    pub async fn erase_personal_data(&self, slug: &str, proof: &BookingProof<'_>) -> Result<Changed, AppError> {
        let (tenant, booking) = self.find_booking(slug, proof).await?;
        if booking.anonymised_at.is_some() {
            return Ok(Changed { booking, tenant });
        }
        let now = self.clock.now();
        let booking = match booking.status == BookingStatus::Confirmed && booking.start > now {
            true => self.cancel_booking(tenant.clone(), booking, None).await?.booking,
            false => booking,
        };
        let tx = self.store.begin_write().await?;
        Retention::anonymise(tx.conn(), tenant.id, &[booking.id], Waiting::Send, now).await?;
        tx.commit().await?;
        tracing::info!(tenant = %tenant.config.slug, "a citizen erased their booking's personal data");
        self.reread(tenant, booking.id).await
    }

    async fn reread(&self, tenant: Arc<TenantSnapshot>, id: i32) -> Result<Changed, AppError> {
        let booking: Booking =
            Bookings::by_id(self.store.reader(), tenant.id, id).await?.ok_or(AppError::NotFound("booking"))?;
        Ok(Changed { booking, tenant })
    }
}
