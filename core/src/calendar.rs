//! RFC 5545 calendar events for bookings.

use icalendar::{Calendar, Component, Event, EventLike, EventStatus};

use crate::domain::{Booking, BookingStatus, Locale, Mode, TenantConfig};

/// A one-event calendar for `booking`, in UTC so every client shows the right local time.
pub fn booking_calendar(tenant: &TenantConfig, booking: &Booking) -> String {
    let locale = booking.details.locale;
    let service = tenant.service(booking.service.as_str()).map_or(booking.service.as_str(), |s| s.name.get(locale));
    let office = tenant.office(booking.office.as_str());
    let location = match (booking.mode, office) {
        (Mode::InPerson, Some(o)) => format!("{}, {}", o.name, o.address),
        (mode, _) => video_call(mode, locale),
    };
    let summary = format!("{service} – {}", tenant.branding.display_name);
    let description = format!("Codice prenotazione / booking code: {}", booking.code);
    let mut event = Event::new();
    event
        .uid(&format!("{}@{}.sportello", booking.code.as_str(), tenant.slug))
        .summary(&summary)
        .description(&description)
        .location(&location)
        .starts(booking.start)
        .ends(booking.end)
        .timestamp(booking.updated_at)
        .status(if booking.status == BookingStatus::Cancelled {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        });
    Calendar::new().name(&tenant.branding.display_name).push(event.done()).done().to_string()
}

/// Where a video appointment happens, in the booking's language.
fn video_call(mode: Mode, locale: Locale) -> String {
    let app = match mode {
        Mode::Skype => "Skype",
        Mode::WhatsApp => "WhatsApp",
        Mode::Teams => "Microsoft Teams",
        Mode::InPerson => return String::new(),
    };
    match locale {
        Locale::It => format!("Videochiamata {app}"),
        Locale::En => format!("{app} video call"),
    }
}
