//! An office's bookings of a date range as CSV, for a spreadsheet: an audited view of personal
//! data, for the body's admins (operators open one booking at a time). Cells a spreadsheet would
//! run as a formula are defused.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::json;

use super::StaffSession;
use super::audit::Actor;
use crate::app::{AppError, Sportello};
use crate::domain::Role;
use crate::store::Desk;

/// The longest range one export covers.
pub const MAX_EXPORT_DAYS: i64 = 92;

/// A CSV file and the name to save it as.
pub struct Export {
    pub file_name: String,
    pub csv: String,
}

const HEADER: [&str; 21] = [
    "date",
    "start",
    "end",
    "code",
    "status",
    "channel",
    "service",
    "mode",
    "first_name",
    "last_name",
    "email",
    "phone",
    "fiscal_code",
    "contact",
    "reason",
    "answers",
    "details",
    "checked_in",
    "called",
    "completed",
    "note",
];

/// A cell as text a spreadsheet shows as typed: one starting like a formula (`=`, `+`, `-`,
/// `@`, a tab or a carriage return) is prefixed with an apostrophe.
fn defused(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

impl Sportello {
    /// An office's bookings (every status) starting on `from..=to` in its zone, soonest first.
    pub async fn export_bookings(
        &self,
        session: &StaffSession,
        slug: &str,
        office: &str,
        (from, to): (NaiveDate, NaiveDate),
    ) -> Result<Export, AppError> {
        // A bulk copy of citizens' data: the body's admins only.
        self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let (tenant, office) = self.desk_office(session, slug, office).await?;
        if to < from {
            return Err(AppError::field("to", "before_from", "The last day must not be before the first."));
        }
        if (to - from).num_days() >= MAX_EXPORT_DAYS {
            return Err(AppError::field("to", "range_too_long", format!("Export at most {MAX_EXPORT_DAYS} days.")));
        }
        let after = to
            .checked_add_days(chrono::Days::new(1))
            .ok_or_else(|| AppError::field("to", "invalid_date", "Use a date such as 2026-12-01."))?;
        let tz = office.timezone;
        let span = (super::desk::local_midnight(from, tz)?, super::desk::local_midnight(after, tz)?);
        let rows = Desk::between(self.store.reader(), tenant.id, office.slug.as_str(), span).await?;
        let local = |t: DateTime<Utc>, tz: Tz| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
        let mut writer = csv::Writer::from_writer(Vec::new());
        let failed = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
        writer.write_record(HEADER).map_err(failed)?;
        for (booking, record) in &rows {
            let citizen = &booking.details.citizen;
            let start = booking.start.with_timezone(&tz);
            let answers: Vec<String> = booking.details.answers.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let stamp = |t: Option<DateTime<Utc>>| t.map(|t| local(t, tz)).unwrap_or_default();
            let cells = [
                start.format("%Y-%m-%d").to_string(),
                start.format("%H:%M").to_string(),
                booking.end.with_timezone(&tz).format("%H:%M").to_string(),
                booking.code.to_string(),
                booking.status.code().to_owned(),
                booking.channel.code().to_owned(),
                booking.service.to_string(),
                booking.mode.code().to_owned(),
                citizen.first_name().to_owned(),
                citizen.last_name().to_owned(),
                citizen.email().map(ToString::to_string).unwrap_or_default(),
                citizen.phone().map(ToString::to_string).unwrap_or_default(),
                citizen.fiscal_code().map(ToString::to_string).unwrap_or_default(),
                booking.details.contact.as_str().unwrap_or_default().to_owned(),
                booking.details.reason.clone().unwrap_or_default(),
                answers.join("; "),
                booking.details.details.clone().unwrap_or_default(),
                stamp(record.checked_in_at),
                stamp(record.called_at),
                stamp(record.completed_at),
                record.note.clone().unwrap_or_default(),
            ];
            writer.write_record(cells.iter().map(|c| defused(c))).map_err(failed)?;
        }
        let bytes = writer.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))?;
        let csv = String::from_utf8(bytes).map_err(|e| AppError::Internal(format!("csv: {e}")))?;
        let detail = json!({ "office": office.slug.as_str(), "from": from.to_string(), "to": to.to_string(),
                             "rows": rows.len() });
        self.audit(Some(tenant.id), &Actor::of(session), "bookings.exported", detail).await?;
        Ok(Export { file_name: format!("{}-{}-{from}-{to}.csv", tenant.config.slug, office.slug), csv })
    }
}

#[cfg(test)]
mod tests {
    use super::defused;

    #[test]
    fn formulas_are_shown_as_typed() {
        assert_eq!(defused("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(defused("+39 333"), "'+39 333");
        assert_eq!(defused("-1"), "'-1");
        assert_eq!(defused("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defused("Mario"), "Mario");
        assert_eq!(defused(""), "");
    }
}
