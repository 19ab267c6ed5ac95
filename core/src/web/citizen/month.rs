//! The month view that step 3 and rescheduling share: which days to look up, and the days and
//! times as choices.

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;

use super::time;
use super::views::{DayChoice, TimeChoice};
use crate::app::AvailableDay;
use crate::domain::Locale;
use crate::web::Web;

/// The month a calendar shows (`YYYY-MM` asked, else today's), and the days to look up in it:
/// from today at the earliest to the month's end.
pub(super) struct MonthWindow {
    pub start: NaiveDate,
    pub from: NaiveDate,
    pub to: NaiveDate,
    next: NaiveDate,
    today: NaiveDate,
}

impl MonthWindow {
    pub fn new(today: NaiveDate, asked: Option<&str>) -> Self {
        let start = asked
            .and_then(|m| NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok())
            .unwrap_or_else(|| today.with_day(1).unwrap_or(today));
        let from = start.max(today);
        let next = start.checked_add_months(chrono::Months::new(1)).unwrap_or(start);
        let to = next.pred_opt().unwrap_or(start).max(from);
        Self { start, from, to, next, today }
    }

    pub fn param(&self) -> String {
        self.start.format("%Y-%m").to_string()
    }

    /// The month before, unless this is the current one.
    pub fn previous(&self) -> Option<String> {
        (self.start > self.today.with_day(1).unwrap_or(self.today)).then(|| {
            self.start.checked_sub_months(chrono::Months::new(1)).unwrap_or(self.start).format("%Y-%m").to_string()
        })
    }

    /// The month after, if bookings are open in it.
    pub fn following(&self, horizon_end: NaiveDate) -> Option<String> {
        (self.next <= horizon_end).then(|| self.next.format("%Y-%m").to_string())
    }
}

/// A day's free times as a radio group's choices.
pub(super) fn time_choices(day: &AvailableDay, tz: Tz) -> Vec<TimeChoice> {
    day.slots
        .iter()
        .map(|s| TimeChoice {
            value: s.start.with_timezone(&tz).to_rfc3339(),
            label: format!("{}–{}", time(s.start, tz), time(s.end, tz)),
            id: format!("time-{}", s.start.timestamp()),
        })
        .collect()
}

impl Web {
    /// A day of a month view: its label, date, whether it is the chosen one, and its free places.
    pub(super) fn day_choice(&self, locale: Locale, day: &AvailableDay, chosen: Option<NaiveDate>) -> DayChoice {
        DayChoice {
            label: self.date(locale, day.date),
            value: day.date.to_string(),
            current: Some(day.date) == chosen,
            free: day.slots.iter().map(|s| s.remaining).sum(),
            url: None,
        }
    }
}
