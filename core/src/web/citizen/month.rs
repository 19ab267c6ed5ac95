//! The month view that step 3 and rescheduling share: which month to show (the first with a free
//! time, unless one is asked for), a 7-column grid of its days, and the chosen day's times.

use chrono::{Datelike, Days, NaiveDate};
use chrono_tz::Tz;

use super::time;
use super::views::{GridDay, TimeChoice, WeekRow, WeekdayName};
use crate::app::{AppError, Availability, AvailabilityRequest, AvailableDay, MAX_RANGE_DAYS};
use crate::domain::{Locale, OfferKey};
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
    /// The month to show and its free days: the asked month, else the first month with a free
    /// time (a citizen should not open on an empty month while next week is free).
    pub(super) async fn month_availability(
        &self,
        tenant: &str,
        offer: &OfferKey,
        today: NaiveDate,
        asked: Option<&str>,
    ) -> Result<(MonthWindow, Availability), AppError> {
        let month = MonthWindow::new(today, asked);
        let range = AvailabilityRequest { offer, from: Some(month.from), to: Some(month.to) };
        let availability = self.app.availability(tenant, range).await?;
        if asked.is_some() || !availability.days.is_empty() {
            return Ok((month, availability));
        }
        let ahead = today.checked_add_days(Days::new(MAX_RANGE_DAYS - 1)).unwrap_or(today);
        let mut further =
            self.app.availability(tenant, AvailabilityRequest { offer, from: Some(today), to: Some(ahead) }).await?;
        let Some(first) = further.days.first().map(|d| d.date) else { return Ok((month, availability)) };
        let month = MonthWindow::new(today, Some(&first.format("%Y-%m").to_string()));
        further.days.retain(|d| (month.from..=month.to).contains(&d.date));
        Ok((month, further))
    }

    /// The weekdays' names for a grid's header, Monday first.
    pub(super) fn weekday_names(&self, locale: Locale) -> Vec<WeekdayName> {
        (1..=7)
            .map(|n| {
                let long = self.render.text(locale, &format!("weekday-{n}"), &[]);
                WeekdayName { short: long.chars().take(3).collect(), long }
            })
            .collect()
    }

    /// The month's days in weeks of seven, Monday first: days with free times carry their count
    /// and (`url`, for step 3) their link; the others show that nothing is free.
    pub(super) fn month_grid(
        &self,
        locale: Locale,
        month: &MonthWindow,
        days: &[AvailableDay],
        chosen: Option<NaiveDate>,
        url: impl Fn(NaiveDate) -> Option<String>,
    ) -> Vec<WeekRow> {
        let lead = month.start.weekday().num_days_from_monday() as usize;
        let mut cells: Vec<Option<GridDay>> = vec![None; lead];
        let mut date = month.start;
        while date.month() == month.start.month() {
            let times = days.iter().find(|d| d.date == date).map_or(0, |d| d.slots.len());
            cells.push(Some(GridDay {
                number: date.day(),
                label: self.date(locale, date),
                value: date.to_string(),
                times,
                current: Some(date) == chosen,
                url: if times > 0 { url(date) } else { None },
            }));
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        cells.resize(cells.len().div_ceil(7) * 7, None);
        cells.chunks(7).map(|week| WeekRow { days: week.to_vec() }).collect()
    }
}
