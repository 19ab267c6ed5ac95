//! RFC 5545 calendar entries for bookings: one event, at the office's wall time with the office's
//! `VTIMEZONE`, a `UID` that stays with the booking and a `SEQUENCE` that counts its changes, so
//! that a calendar replaces the entry it already has when a booking moves or is cancelled.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Datelike, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};
use icalendar::{Alarm, Calendar, CalendarDateTime, Component, Event, EventLike, EventStatus, Property};

use crate::domain::{Booking, BookingStatus, Locale, Mode, Office, TenantConfig};

/// What a calendar file is for.
#[derive(Clone, Copy, Debug)]
pub enum CalendarUse<'a> {
    /// Downloaded from a page or the API and added by hand (`METHOD:PUBLISH`).
    Download,
    /// Attached to an e-mail about the booking: the public body (`organizer`, an e-mail address)
    /// invites the citizen (`METHOD:REQUEST`), or cancels (`METHOD:CANCEL`) once it is cancelled.
    Invitation { organizer: &'a str },
}

/// A one-event calendar for `booking`.
pub fn booking_calendar(tenant: &TenantConfig, booking: &Booking, purpose: CalendarUse<'_>) -> String {
    let locale = booking.details.locale;
    let cancelled = booking.status == BookingStatus::Cancelled;
    let mut event = event_of(tenant, booking);
    event
        .summary(&format!("{} – {}", service_name(tenant, booking), tenant.branding.display_name))
        .description(&format!("Codice prenotazione / booking code: {}", booking.code))
        .location(&place(tenant, booking, locale));
    if !cancelled {
        // A reminder the day before, from the citizen's own calendar.
        let reminder = format!("{} – {}", service_name(tenant, booking), booking.code);
        event.alarm(Alarm::display(&reminder, -TimeDelta::days(1)));
    }
    let method = match purpose {
        CalendarUse::Download => "PUBLISH",
        CalendarUse::Invitation { organizer } => {
            let name = quoted_name(&tenant.branding.display_name);
            let citizen = &booking.details.citizen;
            let citizen_name = quoted_name(&format!("{} {}", citizen.first_name(), citizen.last_name()));
            event.append_property(
                Property::new("ORGANIZER", format!("mailto:{organizer}")).add_parameter("CN", &name).done(),
            );
            // An invitation goes by e-mail, so its citizen has an address.
            if let Some(email) = citizen.email() {
                event.append_property(
                    Property::new("ATTENDEE", format!("mailto:{}", email.as_str()))
                        .add_parameter("CN", &citizen_name)
                        .add_parameter("ROLE", "REQ-PARTICIPANT")
                        .add_parameter("PARTSTAT", if cancelled { "DECLINED" } else { "ACCEPTED" })
                        .add_parameter("RSVP", "FALSE")
                        .done(),
                );
            }
            if cancelled { "CANCEL" } else { "REQUEST" }
        }
    };
    let mut calendar = Calendar::new();
    calendar.name(&tenant.branding.display_name).append_property(Property::new("METHOD", method));
    calendar.push(event.done());
    with_zone(calendar.done().to_string(), booking.timezone, booking.start)
}

/// An office's private feed for its staff's calendars: each confirmed booking with what the
/// operator needs — the service, the citizen's name, the code, how the call happens and the
/// contact for it — and nothing else (no e-mail address, no fiscal code).
pub fn office_feed(tenant: &TenantConfig, office: &Office, bookings: &[Booking], now: DateTime<Utc>) -> String {
    let mut calendar = Calendar::new();
    calendar
        .name(&format!("{} – {}", office.name, tenant.branding.display_name))
        .append_property(Property::new("METHOD", "PUBLISH"))
        // Calendar programs poll a feed; ask for every 15 minutes.
        .append_property(Property::new("REFRESH-INTERVAL", "PT15M").add_parameter("VALUE", "DURATION").done());
    for booking in bookings {
        let locale = tenant.default_locale();
        let citizen = &booking.details.citizen;
        let mut lines = vec![format!("Codice / code: {}", booking.code)];
        let contact = tenant
            .call_link(booking.office.as_str(), &booking.details.contact)
            .or_else(|| booking.details.contact.as_str().map(str::to_owned));
        if let Some(contact) = contact {
            lines.push(format!("{}: {contact}", video_call(booking.mode, locale)));
        }
        let mut event = event_of(tenant, booking);
        event
            .summary(&format!("{} – {} {}", service_name(tenant, booking), citizen.first_name(), citizen.last_name()))
            .description(&lines.join("\n"))
            .location(&place(tenant, booking, locale));
        calendar.push(event.done());
    }
    with_zone(calendar.done().to_string(), office.timezone, now)
}

/// What every entry of a booking has: its UID, times at the office's wall time, when it last
/// changed and how many times (`SEQUENCE`), its status.
fn event_of(tenant: &TenantConfig, booking: &Booking) -> Event {
    let zone = booking.timezone;
    let wall = |at: DateTime<Utc>| CalendarDateTime::WithTimezone {
        date_time: at.with_timezone(&zone).naive_local(),
        tzid: zone.name().to_owned(),
    };
    let cancelled = booking.status == BookingStatus::Cancelled;
    let mut event = Event::new();
    event
        .uid(&format!("{}@{}.sportello", booking.code.as_str(), tenant.slug))
        .starts(wall(booking.start))
        .ends(wall(booking.end))
        .timestamp(booking.updated_at)
        .add_property("SEQUENCE", booking.revision.to_string())
        .status(if cancelled { EventStatus::Cancelled } else { EventStatus::Confirmed });
    event
}

fn service_name<'a>(tenant: &'a TenantConfig, booking: &'a Booking) -> &'a str {
    let locale = booking.details.locale;
    tenant.service(booking.service.as_str()).map_or(booking.service.as_str(), |s| s.name.get(locale))
}

/// The office's name and address in person; how the call happens otherwise.
fn place(tenant: &TenantConfig, booking: &Booking, locale: Locale) -> String {
    match (booking.mode, tenant.office(booking.office.as_str())) {
        (Mode::InPerson, Some(o)) => format!("{}, {}", o.name, o.address),
        (mode, _) => tenant
            .call_link(booking.office.as_str(), &booking.details.contact)
            .unwrap_or_else(|| video_call(mode, locale)),
    }
}

/// The events name their zone; its definition goes before the first of them.
fn with_zone(text: String, zone: Tz, around: DateTime<Utc>) -> String {
    match text.find("BEGIN:VEVENT") {
        Some(at) => format!("{}{}{}", &text[..at], vtimezone(zone, around), &text[at..]),
        None => text,
    }
}

/// A quoted parameter value cannot hold quotes or control characters (RFC 5545 §3.2).
fn quoted_name(name: &str) -> String {
    let kept: String = name.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    format!("\"{kept}\"")
}

/// The zone's `VTIMEZONE` for entries in `around`'s year, made once per zone and year (every
/// e-mail carries one: a click day must not compute it a thousand times).
fn vtimezone(zone: Tz, around: DateTime<Utc>) -> String {
    static MADE: OnceLock<Mutex<HashMap<(Tz, i32), String>>> = OnceLock::new();
    let year = around.year();
    let made = MADE.get_or_init(Mutex::default);
    if let Some(text) = made.lock().ok().and_then(|m| m.get(&(zone, year)).cloned()) {
        return text;
    }
    let text = observances(zone, year);
    if let Ok(mut made) = made.lock() {
        made.insert((zone, year), text.clone());
    }
    text
}

/// The zone's offset at the start of the year before `year`, then each change of offset until the
/// end of the year after it (found by sampling every six hours, then to the second), as
/// observances with explicit onsets. Zones without changes get one observance.
fn observances(zone: Tz, year: i32) -> String {
    let start = |y: i32| Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0).single().unwrap_or_default();
    let (from, to) = (start(year - 1), start(year + 2));
    let mut observances = vec![observance(zone, None, from)];
    let step = TimeDelta::hours(6);
    let mut at = from;
    while at < to {
        let next = at + step;
        if offset(zone, at) != offset(zone, next) {
            let (mut before, mut after) = (at, next);
            while after - before > TimeDelta::seconds(1) {
                let middle = before + (after - before) / 2;
                if offset(zone, middle) == offset(zone, before) { before = middle } else { after = middle }
            }
            observances.push(observance(zone, Some(before), after));
        }
        at = next;
    }
    let mut text = format!("BEGIN:VTIMEZONE\r\nTZID:{}\r\n", zone.name());
    text.extend(observances);
    text.push_str("END:VTIMEZONE\r\n");
    text
}

fn offset(zone: Tz, at: DateTime<Utc>) -> i32 {
    zone.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc()
}

/// The observance that begins at `onset` (coming from the offset in force at `before`, if any).
fn observance(zone: Tz, before: Option<DateTime<Utc>>, onset: DateTime<Utc>) -> String {
    let now = zone.offset_from_utc_datetime(&onset.naive_utc());
    let to = now.fix().local_minus_utc();
    let from = before.map_or(to, |b| offset(zone, b));
    let kind = if now.dst_offset().is_zero() { "STANDARD" } else { "DAYLIGHT" };
    // The onset in the local time that was in force before it.
    let local: NaiveDateTime = onset.naive_utc() + TimeDelta::seconds(i64::from(from));
    let name = now.abbreviation().map(|n| format!("TZNAME:{n}\r\n")).unwrap_or_default();
    format!(
        "BEGIN:{kind}\r\nDTSTART:{}\r\nTZOFFSETFROM:{}\r\nTZOFFSETTO:{}\r\n{name}END:{kind}\r\n",
        local.format("%Y%m%dT%H%M%S"),
        utc_offset(from),
        utc_offset(to),
    )
}

/// `+0100`, `-0330`, `+053730` (RFC 5545 UTC-OFFSET).
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (hours, minutes, rest) = (s / 3600, s % 3600 / 60, s % 60);
    if rest == 0 { format!("{sign}{hours:02}{minutes:02}") } else { format!("{sign}{hours:02}{minutes:02}{rest:02}") }
}

/// Where a video appointment happens, in the booking's language.
fn video_call(mode: Mode, locale: Locale) -> String {
    let app = match mode {
        Mode::Skype => "Skype",
        Mode::WhatsApp => "WhatsApp",
        Mode::Teams => "Microsoft Teams",
        Mode::Jitsi => "Jitsi",
        Mode::InPerson => return String::new(),
    };
    match locale {
        Locale::It => format!("Videochiamata {app}"),
        Locale::En => format!("{app} video call"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rome_changes_twice_a_year_at_the_known_instants() {
        let around = Utc.with_ymd_and_hms(2026, 12, 2, 8, 0, 0).unwrap();
        let text = vtimezone(chrono_tz::Europe::Rome, around);
        // 29 March 2026 02:00 CET → CEST; 25 October 2026 03:00 CEST → CET.
        assert!(
            text.contains(
                "BEGIN:DAYLIGHT\r\nDTSTART:20260329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST"
            ),
            "{text}"
        );
        assert!(
            text.contains("BEGIN:STANDARD\r\nDTSTART:20261025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100"),
            "{text}"
        );
        assert_eq!(text.matches("BEGIN:DAYLIGHT").count(), 3, "2025 to 2027: {text}");
        assert_eq!(utc_offset(-12_600), "-0330");
        assert_eq!(utc_offset(2_079), "+003439");
    }

    #[test]
    fn a_zone_without_changes_has_one_observance() {
        let text = vtimezone(chrono_tz::Asia::Tokyo, Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap());
        assert_eq!(text.matches("BEGIN:STANDARD").count(), 1, "{text}");
        assert!(text.contains("TZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900"), "{text}");
    }
}
