//! Demo bookings for `sportello serve --demo`: a few citizens booked at each demo body's first
//! office on its next open day, through the real booking path, so that the desk's agenda has
//! someone to receive. Once per day: an office that already has bookings that day is left alone.

use chrono::{NaiveTime, TimeDelta, TimeZone};

use super::{AppError, AvailabilityRequest, ConfirmRequest, HoldRequest, Sportello};
use crate::domain::{Channel, DetailsForm, Mode, OfferKey};
use crate::store::Desk;

/// Fictitious citizens (the e-mails are in a domain reserved for examples).
const CITIZENS: [(&str, &str); 6] = [
    ("Giulia", "Neri"),
    ("Marco", "Galli"),
    ("Anna", "Conti"),
    ("Luca", "Fabbri"),
    ("Sara", "Moretti"),
    ("Paolo", "Ricci"),
];

impl Sportello {
    /// Books the demo citizens at `slug`'s first office, every other free time of its next open
    /// day; how many were booked.
    pub async fn book_demo_day(&self, slug: &str) -> Result<usize, AppError> {
        let tenant = self.tenant(slug).await?;
        // A service that asks nothing more than the citizen's contacts.
        let plain = |s: &&crate::domain::Service| {
            s.active && s.fields.is_empty() && s.plugin.is_none() && !s.fiscal_code_required && s.check_first.is_empty()
        };
        let Some(service) = tenant.config.services.iter().find(plain) else { return Ok(0) };
        let Some(office) = tenant.config.offices_for(service).next() else { return Ok(0) };
        let modes = office.modes_for(service);
        let mode = if modes.contains(&Mode::InPerson) { Mode::InPerson } else { return Ok(0) };
        let offer = OfferKey { service: service.slug.clone(), office: office.slug.clone(), mode };
        let availability = self.availability(slug, AvailabilityRequest { offer: &offer, from: None, to: None }).await?;
        let Some(day) = availability.days.iter().find(|d| !d.slots.is_empty()) else { return Ok(0) };
        let midnight = office.timezone.from_local_datetime(&day.date.and_time(NaiveTime::MIN)).earliest();
        let Some(from) = midnight.map(|m| m.to_utc()) else { return Ok(0) };
        let booked =
            Desk::between(self.store.reader(), tenant.id, office.slug.as_str(), (from, from + TimeDelta::days(1)));
        if !booked.await?.is_empty() {
            return Ok(0);
        }
        let mut made = 0;
        for ((first, last), slot) in CITIZENS.iter().zip(day.slots.iter().step_by(2)) {
            let hold = HoldRequest { offer: &offer, start: slot.start, id: None, token: None, client: None };
            let placed = self.place_hold(slug, hold).await?;
            let form = DetailsForm {
                first_name: (*first).to_owned(),
                last_name: (*last).to_owned(),
                email: format!("{}.{}@example.org", first.to_lowercase(), last.to_lowercase()),
                phone: format!("+39 333 000 {:04}", 1000 + made),
                reason: service.reasons.first().map(|r| r.key.clone()),
                privacy_accepted: true,
                ..DetailsForm::default()
            };
            let request = ConfirmRequest {
                hold_id: placed.hold.id,
                hold_token: placed.token,
                form,
                idempotency: None,
                client: None,
                channel: Channel::Web,
            };
            self.confirm(slug, request).await?;
            made += 1;
        }
        Ok(made)
    }
}
