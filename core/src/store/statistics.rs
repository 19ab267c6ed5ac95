//! Bookings counted by group for the statistics: one grouped query per figure and office, the
//! database doing the counting (a busy office's year is 100,000 rows but a few hundred groups).
//! Days are the office's own: PostgreSQL converts with its time-zone database; SQLite, which has
//! none, shifts each instant by the zone's offset in force, from a list of the offset's changes
//! over the span worked out here.

use chrono::{DateTime, NaiveDate, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};

use super::StoreError;
use crate::domain::{BookingStatus, Channel, TenantId};

/// Which of an office's bookings are counted: those starting in `span`, of one service or all.
pub struct Scope<'a> {
    pub tenant: TenantId,
    pub office: &'a str,
    pub zone: Tz,
    pub span: (DateTime<Utc>, DateTime<Utc>),
    pub service: Option<&'a str>,
}

/// Bookings of one day in one status, and their minutes together.
pub struct DayCount {
    pub date: NaiveDate,
    pub status: BookingStatus,
    pub count: u64,
    pub minutes: u64,
}

/// Bookings made of one service, through one channel, now in one status, that many whole days
/// ahead of their appointment, with their lead times summed.
pub struct MadeCount {
    pub service: String,
    pub channel: Channel,
    pub status: BookingStatus,
    pub lead_days: i64,
    pub count: u64,
    pub lead_seconds: f64,
}

/// Bookings that went through the counter with a wait and a service time of that many whole
/// minutes (either absent when not measured), how many, and the seconds summed.
pub struct DeskTimes {
    pub waited_minutes: Option<i64>,
    pub served_minutes: Option<i64>,
    pub waits: u64,
    pub wait_seconds: f64,
    pub services: u64,
    pub service_seconds: f64,
}

/// The wait between booking and appointment of bookings of one service at one office.
pub struct WaitCount {
    pub office: String,
    pub service: String,
    pub count: u64,
    pub seconds: f64,
}

/// A statement under construction: its SQL and the values its placeholders stand for.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn new(backend: DbBackend) -> Self {
        Self { backend, text: String::new(), values: Vec::new() }
    }

    /// A placeholder for `value`, numbered so that it may be used more than once.
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => format!("?{}", self.values.len()),
        }
    }

    /// Whole seconds from `earlier` to `later`, two columns.
    fn seconds(&self, later: &str, earlier: &str) -> String {
        match self.backend {
            DbBackend::Postgres => format!("EXTRACT(EPOCH FROM ({later} - {earlier}))::float8"),
            _ => format!("CAST(unixepoch({later}) - unixepoch({earlier}) AS REAL)"),
        }
    }

    /// A duration in seconds as whole `unit`s (towards zero), for grouping: every bucket bound is
    /// a whole number of minutes or days, so the bucket of the whole units is the bucket of the
    /// seconds.
    fn whole(&self, seconds: &str, unit: i64) -> String {
        match self.backend {
            DbBackend::Postgres => format!("TRUNC({seconds} / {unit})::bigint"),
            _ => format!("CAST({seconds} / {unit} AS INTEGER)"),
        }
    }

    /// The office-local date of `starts_at`, as `YYYY-MM-DD`.
    fn local_date(&mut self, zone: Tz, span: (DateTime<Utc>, DateTime<Utc>)) -> String {
        if self.backend == DbBackend::Postgres {
            let zone = self.bind(zone.name());
            return format!("to_char(starts_at AT TIME ZONE {zone}, 'YYYY-MM-DD')");
        }
        let mut changes = offset_changes(zone, span);
        let last = changes.pop().map(|(_, offset)| offset).unwrap_or(0);
        let mut case = String::new();
        for (until, offset) in changes {
            let until = self.bind(until);
            let shift = self.bind(format!("{offset:+} seconds"));
            case.push_str(&format!(" WHEN starts_at < {until} THEN date(starts_at, {shift})"));
        }
        let shift = self.bind(format!("{last:+} seconds"));
        match case.is_empty() {
            true => format!("date(starts_at, {shift})"),
            false => format!("CASE{case} ELSE date(starts_at, {shift}) END"),
        }
    }

    /// `WHERE` for `scope`'s bookings.
    fn scope(&mut self, scope: &Scope<'_>) -> String {
        let tenant = self.bind(scope.tenant.get());
        let office = self.bind(scope.office);
        let from = self.bind(scope.span.0);
        let to = self.bind(scope.span.1);
        let mut filter =
            format!("tenant_id = {tenant} AND office = {office} AND starts_at >= {from} AND starts_at < {to}");
        if let Some(service) = scope.service {
            let service = self.bind(service);
            filter.push_str(&format!(" AND service = {service}"));
        }
        filter
    }

    fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// The offsets `zone` uses over `span`: each until the instant it ends, the last until the
/// span's end. Found in quarter-hour steps, as fine as any zone's transitions.
fn offset_changes(zone: Tz, (from, to): (DateTime<Utc>, DateTime<Utc>)) -> Vec<(DateTime<Utc>, i32)> {
    let offset_at = |t: DateTime<Utc>| zone.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc();
    let mut changes = Vec::new();
    let mut current = offset_at(from);
    let mut t = from;
    while t < to {
        t += TimeDelta::minutes(15);
        let offset = offset_at(t);
        if offset != current {
            changes.push((t, current));
            current = offset;
        }
    }
    changes.push((to, current));
    changes
}

fn count_of(row: &QueryResult) -> Result<u64, StoreError> {
    let count: i64 = row.try_get("", "n")?;
    u64::try_from(count).map_err(|_| StoreError::Corrupt(format!("a negative count: {count}")))
}

fn status_of(raw: &str) -> Result<BookingStatus, StoreError> {
    BookingStatus::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("unknown booking status {raw:?}")))
}

pub struct Statistics;

impl Statistics {
    /// The office's bookings per local day and status, with their minutes.
    pub async fn days(conn: &impl ConnectionTrait, scope: &Scope<'_>) -> Result<Vec<DayCount>, StoreError> {
        let mut sql = Sql::new(conn.get_database_backend());
        let day = sql.local_date(scope.zone, scope.span);
        let filter = sql.scope(scope);
        let minutes = format!("{} / 60.0", sql.seconds("ends_at", "starts_at"));
        sql.text = format!(
            "SELECT {day} AS day, status, COUNT(*) AS n, SUM({minutes}) AS minutes FROM bookings \
             WHERE {filter} GROUP BY day, status"
        );
        let rows = conn.query_all_raw(sql.statement()).await?;
        rows.iter()
            .map(|row| {
                let day: String = row.try_get("", "day")?;
                let status: String = row.try_get("", "status")?;
                let minutes: Option<f64> = row.try_get("", "minutes")?;
                Ok(DayCount {
                    date: NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                        .map_err(|_| StoreError::Corrupt(format!("a date out of the database: {day:?}")))?,
                    status: status_of(&status)?,
                    count: count_of(row)?,
                    minutes: minutes.unwrap_or(0.0).round().max(0.0) as u64,
                })
            })
            .collect()
    }

    /// The office's bookings by service, channel, status and whole days booked ahead.
    pub async fn made(conn: &impl ConnectionTrait, scope: &Scope<'_>) -> Result<Vec<MadeCount>, StoreError> {
        let mut sql = Sql::new(conn.get_database_backend());
        let filter = sql.scope(scope);
        let lead = sql.seconds("starts_at", "created_at");
        let days = sql.whole(&lead, 86_400);
        sql.text = format!(
            "SELECT service, channel, status, {days} AS days, COUNT(*) AS n, SUM({lead}) AS seconds \
             FROM bookings WHERE {filter} GROUP BY service, channel, status, days"
        );
        let rows = conn.query_all_raw(sql.statement()).await?;
        rows.iter()
            .map(|row| {
                let channel: String = row.try_get("", "channel")?;
                let status: String = row.try_get("", "status")?;
                let seconds: Option<f64> = row.try_get("", "seconds")?;
                Ok(MadeCount {
                    service: row.try_get("", "service")?,
                    channel: Channel::parse(&channel)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown channel {channel:?}")))?,
                    status: status_of(&status)?,
                    lead_days: row.try_get("", "days")?,
                    count: count_of(row)?,
                    lead_seconds: seconds.unwrap_or(0.0),
                })
            })
            .collect()
    }

    /// The office's waits (check-in to call) and service times (call to served), by whole
    /// minutes: only bookings that were called are read.
    pub async fn desk_times(conn: &impl ConnectionTrait, scope: &Scope<'_>) -> Result<Vec<DeskTimes>, StoreError> {
        let mut sql = Sql::new(conn.get_database_backend());
        let filter = sql.scope(scope);
        let wait = sql.seconds("called_at", "checked_in_at");
        let serve = sql.seconds("completed_at", "called_at");
        sql.text = format!(
            "SELECT {waited} AS waited, {served} AS served, COUNT({wait}) AS waits, SUM({wait}) AS wait_seconds, \
             COUNT({serve}) AS services, SUM({serve}) AS service_seconds \
             FROM bookings WHERE {filter} AND called_at IS NOT NULL GROUP BY waited, served",
            waited = sql.whole(&wait, 60),
            served = sql.whole(&serve, 60),
        );
        let rows = conn.query_all_raw(sql.statement()).await?;
        let count = |row: &QueryResult, column: &str| -> Result<u64, StoreError> {
            let count: i64 = row.try_get("", column)?;
            u64::try_from(count).map_err(|_| StoreError::Corrupt(format!("a negative count: {count}")))
        };
        rows.iter()
            .map(|row| {
                let wait_seconds: Option<f64> = row.try_get("", "wait_seconds")?;
                let service_seconds: Option<f64> = row.try_get("", "service_seconds")?;
                Ok(DeskTimes {
                    waited_minutes: row.try_get("", "waited")?,
                    served_minutes: row.try_get("", "served")?,
                    waits: count(row, "waits")?,
                    wait_seconds: wait_seconds.unwrap_or(0.0),
                    services: count(row, "services")?,
                    service_seconds: service_seconds.unwrap_or(0.0),
                })
            })
            .collect()
    }
}

impl Statistics {
    /// Per office and service, the bookings made since `since` online, through the API or by
    /// phone (walk-ins do not wait), with the time from booking to appointment summed.
    pub async fn recent_waits(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        since: DateTime<Utc>,
    ) -> Result<Vec<WaitCount>, StoreError> {
        let mut sql = Sql::new(conn.get_database_backend());
        let tenant = sql.bind(tenant.get());
        let since = sql.bind(since);
        let lead = sql.seconds("starts_at", "created_at");
        // Made since then, so starting since then too: the office's index narrows the search.
        sql.text = format!(
            "SELECT office, service, COUNT(*) AS n, SUM({lead}) AS seconds FROM bookings \
             WHERE tenant_id = {tenant} AND starts_at >= {since} AND created_at >= {since} \
             AND channel IN ('web', 'api', 'phone') GROUP BY office, service"
        );
        let rows = conn.query_all_raw(sql.statement()).await?;
        rows.iter()
            .map(|row| {
                let seconds: Option<f64> = row.try_get("", "seconds")?;
                Ok(WaitCount {
                    office: row.try_get("", "office")?,
                    service: row.try_get("", "service")?,
                    count: count_of(row)?,
                    seconds: seconds.unwrap_or(0.0),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rome_changes_offset_at_its_transitions_only() {
        let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        let changes = offset_changes(chrono_tz::Europe::Rome, (from, to));
        assert_eq!(
            changes,
            vec![
                (Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap(), 3600),
                (Utc.with_ymd_and_hms(2026, 10, 25, 1, 0, 0).unwrap(), 7200),
                (to, 3600),
            ]
        );
    }
}
