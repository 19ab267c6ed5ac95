//! Which upcoming bookings a new configuration would strand: their service, office or mode is
//! gone, the office is closed or no longer open at that time, or it has fewer desks than bookings.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};

use super::booking::Booking;
use super::catalog::{Office, TenantConfig};
use super::slots::{Unit, units_between};

/// Why a booking no longer fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrandReason {
    ServiceRemoved,
    OfficeRemoved,
    /// The office no longer offers the service.
    NotOfferedHere,
    ModeRemoved,
    /// A closure or a holiday now covers the day.
    Closed,
    /// The office is no longer open for the whole appointment.
    OutsideHours,
    /// The office now has fewer desks then than bookings; the newest ones are counted.
    OverCapacity,
}

impl StrandReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::ServiceRemoved => "service_removed",
            Self::OfficeRemoved => "office_removed",
            Self::NotOfferedHere => "not_offered_here",
            Self::ModeRemoved => "mode_removed",
            Self::Closed => "closed",
            Self::OutsideHours => "outside_hours",
            Self::OverCapacity => "over_capacity",
        }
    }
}

/// `upcoming`'s bookings that `config` would strand, with why, in the order given. `used` tells
/// how many bookings hold a unit of an office now (the ledger). Over capacity, the newest bookings
/// of a unit are the ones counted, after those stranded for another reason.
pub fn stranded<'a>(
    config: &TenantConfig,
    upcoming: &'a [Booking],
    used: impl Fn(&str, Unit) -> u32,
) -> Vec<(&'a Booking, StrandReason)> {
    let grid = config.grid_minutes;
    let mut found: Vec<(&Booking, StrandReason)> =
        upcoming.iter().filter_map(|b| misfit(config, b).map(|r| (b, r))).collect();
    // Units that now hold more bookings than desks, and by how many.
    let mut excess: BTreeMap<(&str, Unit), u32> = BTreeMap::new();
    for booking in upcoming {
        let Some(office) = config.office(booking.office.as_str()) else { continue };
        for unit in units_between(booking.start, booking.end, grid) {
            let key = (booking.office.as_str(), unit);
            if excess.contains_key(&key) {
                continue;
            }
            let gone = found.iter().filter(|(b, _)| b.office == booking.office && covers(b, unit, grid)).count();
            let remaining = used(key.0, unit).saturating_sub(u32::try_from(gone).unwrap_or(u32::MAX));
            let over = remaining.saturating_sub(u32::from(desks_at(office, unit)));
            excess.insert(key, over);
        }
    }
    let mut newest_first: Vec<&Booking> = upcoming.iter().collect();
    newest_first.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    for booking in newest_first {
        if found.iter().any(|(b, _)| b.id == booking.id) {
            continue;
        }
        let units = units_between(booking.start, booking.end, grid);
        let key = |unit: Unit| (booking.office.as_str(), unit);
        if units.iter().any(|u| excess.get(&key(*u)).is_some_and(|n| *n > 0)) {
            for unit in &units {
                if let Some(n) = excess.get_mut(&key(*unit)) {
                    *n = n.saturating_sub(1);
                }
            }
            found.push((booking, StrandReason::OverCapacity));
        }
    }
    found
}

/// Why `booking` does not fit `config` at all, whatever the capacity.
fn misfit(config: &TenantConfig, booking: &Booking) -> Option<StrandReason> {
    let Some(service) = config.service(booking.service.as_str()) else { return Some(StrandReason::ServiceRemoved) };
    let Some(office) = config.office(booking.office.as_str()) else { return Some(StrandReason::OfficeRemoved) };
    if !office.offers(service) {
        return Some(StrandReason::NotOfferedHere);
    }
    if !office.modes_for(service).contains(&booking.mode) {
        return Some(StrandReason::ModeRemoved);
    }
    let start = local(office, booking.start);
    let end = local(office, booking.end);
    let date = start.date();
    if office.closures.iter().any(|c| c.from <= date && date <= c.to) || office.holidays.closes(date).is_some() {
        return Some(StrandReason::Closed);
    }
    let open = office
        .hours
        .on(date.weekday())
        .iter()
        .any(|i| end.date() == date && i.start() <= start.time() && end.time() <= i.end());
    (!open).then_some(StrandReason::OutsideHours)
}

fn local(office: &Office, instant: DateTime<Utc>) -> NaiveDateTime {
    instant.with_timezone(&office.timezone).naive_local()
}

/// The desks open at the start of `unit`.
fn desks_at(office: &Office, unit: Unit) -> u16 {
    let Some(instant) = DateTime::from_timestamp(unit, 0) else { return 0 };
    let at = local(office, instant);
    office
        .hours
        .on(at.date().weekday())
        .iter()
        .find(|i| i.start() <= at.time() && at.time() < i.end())
        .map_or(0, |i| i.desks())
}

fn covers(booking: &Booking, unit: Unit, grid: u16) -> bool {
    units_between(booking.start, booking.end, grid).contains(&unit)
}
