//! Demo bookings for `sportello serve --demo --demo-bookings`, made through the real booking path
//! at each demo body's first office, so that every staff page has something to show:
//!
//! - the next open day (today if it still has free times): citizens every other free time, and
//!   when that day is today, the first three checked in with their tickets and one called by the
//!   demo operator, for the agenda and the display board;
//! - the four weeks before (and today's times already past): citizens who booked days ahead,
//!   then came and were served, did not come, or cancelled within the hour, for the statistics. The booking path
//!   is the citizen's own, run by a copy of the application whose clock says when they booked;
//!   the counter's steps are stamped with the times they would have had.
//!
//! Each part is left alone when the office already has bookings there (a restart adds nothing).

use std::sync::Arc;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};

use super::staff::StaffSession;
use super::{AppError, AvailabilityRequest, BookingProof, Clock, ConfirmRequest, HoldRequest, ProofBy, Sportello};
use crate::domain::desk::DeskAction;
use crate::domain::{BookingStatus, Channel, DetailsForm, Mode, OfferKey, Office, Service};
use crate::store::Desk;

/// Fictitious citizens (the e-mails are in a domain reserved for examples).
const CITIZENS: [(&str, &str); 12] = [
    ("Giulia", "Neri"),
    ("Marco", "Galli"),
    ("Anna", "Conti"),
    ("Luca", "Fabbri"),
    ("Sara", "Moretti"),
    ("Paolo", "Ricci"),
    ("Elena", "Bruno"),
    ("Davide", "Marini"),
    ("Chiara", "Greco"),
    ("Matteo", "Lombardi"),
    ("Francesca", "Costa"),
    ("Simone", "Rinaldi"),
];
/// The days of history before today.
const HISTORY_DAYS: u64 = 28;
/// Citizens booked on each day of history.
const PER_DAY: usize = 6;

/// What the demo made at one body.
#[derive(Debug, Default)]
pub struct DemoBooked {
    /// Citizens booked on the next open day, and on that day the office is.
    pub upcoming: usize,
    pub day: Option<NaiveDate>,
    /// Citizens of the weeks before (and of today's past times).
    pub history: usize,
}

/// A clock stopped at one moment: the demo's citizens booking in the past.
struct At(DateTime<Utc>);

impl Clock for At {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// What became of one citizen of the history, decided by their number.
enum Fate {
    Served { wait_minutes: i64, service_minutes: i64 },
    Missed,
    Cancelled,
}

fn fate(n: usize) -> Fate {
    let n = n as i64;
    match n % 10 {
        3 => Fate::Cancelled,
        7 => Fate::Missed,
        _ => Fate::Served { wait_minutes: (n * 7) % 23, service_minutes: 6 + (n * 5) % 19 },
    }
}

/// The service's minimum notice in whole days, rounded up.
fn notice_days(service: &Service) -> i64 {
    (i64::from(service.min_notice_hours) + 23) / 24
}

fn citizen_form(n: usize, service: &Service) -> DetailsForm {
    let (first, last) = CITIZENS.get(n % CITIZENS.len()).copied().unwrap_or(("Giulia", "Neri"));
    DetailsForm {
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        email: format!("{}.{}.{n}@example.org", first.to_lowercase(), last.to_lowercase()),
        phone: format!("+39 333 000 {:04}", 1000 + n % 9000),
        reason: service.reasons.first().map(|r| r.key.clone()),
        privacy_accepted: true,
        ..DetailsForm::default()
    }
}

impl Sportello {
    fn as_of(&self, moment: DateTime<Utc>) -> Sportello {
        self.clone().with_clock(Arc::new(At(moment)))
    }

    /// The demo's bookings at `slug` (see the module's text); `operator` works today's counter.
    pub async fn book_demo(&self, slug: &str, operator: Option<&StaffSession>) -> Result<DemoBooked, AppError> {
        let tenant = self.tenant(slug).await?;
        // A service that asks nothing more than the citizen's contacts.
        let plain = |s: &&Service| {
            s.active && s.fields.is_empty() && s.plugin.is_none() && !s.fiscal_code_required && s.check_first.is_empty()
        };
        let Some(service) = tenant.config.services.iter().find(plain) else { return Ok(DemoBooked::default()) };
        let Some(office) = tenant.config.offices_for(service).next() else { return Ok(DemoBooked::default()) };
        if !office.modes_for(service).contains(&Mode::InPerson) {
            return Ok(DemoBooked::default());
        }
        let offer = OfferKey { service: service.slug.clone(), office: office.slug.clone(), mode: Mode::InPerson };
        let mut booked = DemoBooked::default();
        if let Some((day, codes)) = self.book_next_day(slug, (service, office), &offer).await? {
            booked.upcoming = codes.len();
            booked.day = Some(day);
            let today = self.clock.now().with_timezone(&office.timezone).date_naive();
            if let (true, Some(operator)) = (day == today, operator) {
                for code in codes.iter().take(3) {
                    self.desk_step(operator, slug, code, (DeskAction::CheckIn, None)).await?;
                }
                self.call_next(operator, slug, office.slug.as_str(), "Sportello 1").await?;
            }
        }
        booked.history = self.book_history(slug, (service, office), &offer).await?;
        Ok(booked)
    }

    /// Citizens every other free time of the next open day; its date and their codes. Today's
    /// times still to come count (booked, as the citizens would have, a few days ago), then the
    /// first day a citizen could book now.
    async fn book_next_day(
        &self,
        slug: &str,
        (service, office): (&Service, &Office),
        offer: &OfferKey,
    ) -> Result<Option<(NaiveDate, Vec<String>)>, AppError> {
        let tenant = self.tenant(slug).await?;
        let now = self.clock.now();
        let today = now.with_timezone(&office.timezone).date_naive();
        let booked_at = now - TimeDelta::days(notice_days(service) + 1);
        let earlier = self.as_of(booked_at);
        let today_seen = earlier.availability(slug, AvailabilityRequest { offer, from: Some(today), to: Some(today) });
        let later_today: Vec<_> = match today_seen.await {
            Ok(seen) => seen.days.into_iter().flat_map(|d| d.slots).filter(|s| s.start > now).collect(),
            Err(_) => Vec::new(),
        };
        let (day, starts, app) = if later_today.is_empty() {
            let availability = self.availability(slug, AvailabilityRequest { offer, from: None, to: None }).await?;
            let Some(day) = availability.days.into_iter().find(|d| !d.slots.is_empty()) else { return Ok(None) };
            (day.date, day.slots.iter().map(|s| s.start).collect::<Vec<_>>(), self.clone())
        } else {
            (today, later_today.iter().map(|s| s.start).collect(), earlier)
        };
        let from = super::staff::local_midnight(day, office.timezone)?;
        let booked =
            Desk::between(self.store.reader(), tenant.id, office.slug.as_str(), (from, from + TimeDelta::days(1)));
        if !booked.await?.is_empty() {
            return Ok(None);
        }
        let mut codes = Vec::new();
        for (n, start) in starts.into_iter().step_by(2).take(CITIZENS.len()).enumerate() {
            codes.push(self.book_as_citizen(&app, slug, (offer, start), citizen_form(n, service), Channel::Web).await?);
        }
        Ok(Some((day, codes)))
    }

    /// Books `form` at `start` through the citizen's path as `app` (whose clock may be stopped in
    /// the past); the booking's code.
    async fn book_as_citizen(
        &self,
        app: &Sportello,
        slug: &str,
        (offer, start): (&OfferKey, DateTime<Utc>),
        form: DetailsForm,
        channel: Channel,
    ) -> Result<String, AppError> {
        let hold = HoldRequest { offer, start, id: None, token: None, client: None };
        let placed = app.place_hold(slug, hold).await?;
        let request = ConfirmRequest {
            hold_id: placed.hold.id,
            hold_token: placed.token,
            form,
            idempotency: None,
            client: None,
            channel,
        };
        Ok(app.confirm(slug, request).await?.booking.code.to_string())
    }

    /// The weeks before today, and today's times already past, as they would have gone; how many
    /// citizens were booked.
    async fn book_history(
        &self,
        slug: &str,
        (service, office): (&Service, &Office),
        offer: &OfferKey,
    ) -> Result<usize, AppError> {
        let tenant = self.tenant(slug).await?;
        let now = self.clock.now();
        let tz = office.timezone;
        let today = now.with_timezone(&tz).date_naive();
        let first = today.checked_sub_days(Days::new(HISTORY_DAYS)).unwrap_or(today);
        let span = (super::staff::local_midnight(first, tz)?, now);
        if !Desk::between(self.store.reader(), tenant.id, office.slug.as_str(), span).await?.is_empty() {
            return Ok(0);
        }
        let notice_days = notice_days(service) + 1;
        let at_nine = |date: NaiveDate| {
            tz.from_local_datetime(&date.and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default())).earliest()
        };
        let mut made = 0;
        for (index, date) in first.iter_days().take_while(|d| *d <= today).enumerate() {
            // The day's times as a citizen saw them a fortnight before.
            let Some(seen_at) = date.checked_sub_days(Days::new(14)).and_then(at_nine) else { continue };
            let request = AvailabilityRequest { offer, from: Some(date), to: Some(date) };
            let Ok(seen) = self.as_of(seen_at.to_utc()).availability(slug, request).await else { continue };
            let Some(day) = seen.days.first() else { continue };
            let past: Vec<_> = day.slots.iter().filter(|s| s.end <= now).step_by(2).take(PER_DAY).collect();
            for (i, slot) in past.into_iter().enumerate() {
                let n = index * PER_DAY + i;
                let lead = notice_days + (n as i64 * 3) % 11;
                let booked_at = slot.start - TimeDelta::days(lead) - TimeDelta::hours((n % 5) as i64);
                let channel = match n % 6 {
                    0 => Channel::Phone,
                    4 => Channel::Api,
                    _ => Channel::Web,
                };
                let form = citizen_form(n, service);
                let email = form.email.clone();
                let code =
                    self.book_as_citizen(&self.as_of(booked_at), slug, (offer, slot.start), form, channel).await?;
                self.live_through(slug, (&code, &email), (slot.start, booked_at), fate(n)).await?;
                made += 1;
            }
        }
        Ok(made)
    }

    /// What became of a citizen of the history: cancelled a day after booking, or at the counter
    /// (checked in before their time, called, served), or missed.
    async fn live_through(
        &self,
        slug: &str,
        (code, email): (&str, &str),
        (start, booked_at): (DateTime<Utc>, DateTime<Utc>),
        fate: Fate,
    ) -> Result<(), AppError> {
        let tenant = self.tenant(slug).await?;
        if let Fate::Cancelled = fate {
            let proof = BookingProof { code, by: ProofBy::Email(email), client: None };
            self.as_of(booked_at + TimeDelta::hours(1)).cancel(slug, &proof).await?;
            return Ok(());
        }
        let parsed = crate::domain::BookingCode::parse(code).ok_or(AppError::NotFound("booking"))?;
        let Some((booking, _)) = Desk::by_code(self.store.reader(), tenant.id, &parsed).await? else {
            return Err(AppError::NotFound("booking"));
        };
        let steps = match fate {
            Fate::Served { wait_minutes, service_minutes } => {
                let arrived = start - TimeDelta::minutes(5);
                let called = arrived + TimeDelta::minutes(wait_minutes);
                vec![
                    (BookingStatus::Confirmed, BookingStatus::CheckedIn, arrived),
                    (BookingStatus::CheckedIn, BookingStatus::Called, called),
                    (BookingStatus::Called, BookingStatus::Completed, called + TimeDelta::minutes(service_minutes)),
                ]
            }
            _ => vec![(BookingStatus::Confirmed, BookingStatus::NoShow, start + TimeDelta::minutes(20))],
        };
        let tx = self.store.begin_write().await?;
        for (from, to, at) in steps {
            Desk::step(tx.conn(), tenant.id, booking.id, (from, to), at).await?;
        }
        Ok(tx.commit().await?)
    }
}
