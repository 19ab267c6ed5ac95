//! Statistics of bookings over a period: how long a period may be, the buckets durations are
//! counted in, the desk time an office offers, and the figures that the store's counts (rows
//! counted by group in the database, never one by one) add up to.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate};

use super::{BookingStatus, Channel, Office};

/// The longest period one report covers (a leap year).
pub const MAX_PERIOD_DAYS: i64 = 366;
/// Periods longer than this are charted week by week instead of day by day.
const DAILY_UP_TO_DAYS: i64 = 62;

/// The days a report covers, both included, in the offices' own calendars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    from: NaiveDate,
    to: NaiveDate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodError {
    /// The last day comes before the first.
    Reversed,
    TooLong,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, PeriodError> {
        if to < from {
            return Err(PeriodError::Reversed);
        }
        if (to - from).num_days() >= MAX_PERIOD_DAYS {
            return Err(PeriodError::TooLong);
        }
        Ok(Self { from, to })
    }

    /// The `days` days that end with `last`.
    pub fn ending(last: NaiveDate, days: u64) -> Self {
        let from = last.checked_sub_days(Days::new(days.saturating_sub(1))).unwrap_or(last);
        Self { from, to: last }
    }

    pub fn from(&self) -> NaiveDate {
        self.from
    }

    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// The day after the last: the period is `[from, after)`.
    pub fn after(&self) -> NaiveDate {
        self.to.succ_opt().unwrap_or(self.to)
    }

    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let to = self.to;
        self.from.iter_days().take_while(move |d| *d <= to)
    }

    pub fn step(&self) -> Step {
        if (self.to - self.from).num_days() < DAILY_UP_TO_DAYS { Step::Day } else { Step::Week }
    }
}

/// How a chart over time groups the days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Day,
    /// Monday to Sunday.
    Week,
}

impl Step {
    /// The first day of the group `date` is in.
    pub fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => date,
            Self::Week => {
                let back = u64::from(date.weekday().num_days_from_monday());
                date.checked_sub_days(Days::new(back)).unwrap_or(date)
            }
        }
    }
}

/// A histogram's buckets: each one's lower bound in seconds, ascending from 0; the last one has
/// no upper bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buckets {
    pub lower_seconds: &'static [i64],
    /// Shown in days rather than minutes.
    pub in_days: bool,
}

const MINUTE: i64 = 60;
const DAY: i64 = 86_400;

/// How long before the appointment it was booked.
pub const LEAD_TIME: Buckets =
    Buckets { lower_seconds: &[0, DAY, 2 * DAY, 4 * DAY, 8 * DAY, 15 * DAY, 31 * DAY], in_days: true };
/// From check-in to the call at the counter.
pub const WAITING_TIME: Buckets =
    Buckets { lower_seconds: &[0, 5 * MINUTE, 10 * MINUTE, 20 * MINUTE, 30 * MINUTE, 60 * MINUTE], in_days: false };
/// From the call to the end of the service.
pub const SERVICE_TIME: Buckets =
    Buckets { lower_seconds: &[0, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, 60 * MINUTE], in_days: false };

impl Buckets {
    pub fn len(&self) -> usize {
        self.lower_seconds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lower_seconds.is_empty()
    }

    /// The bucket of a duration (a negative one, a clock's hiccup, counts as the first).
    pub fn index_of(&self, seconds: f64) -> usize {
        self.lower_seconds.iter().rposition(|&lower| seconds >= lower as f64).unwrap_or(0)
    }

    /// Bucket `index`'s bounds in the unit it is shown in: `(lower, upper)`, no upper for the last.
    pub fn bounds(&self, index: usize) -> (i64, Option<i64>) {
        let unit = if self.in_days { DAY } else { MINUTE };
        let lower = self.lower_seconds.get(index).copied().unwrap_or(0) / unit;
        let upper = self.lower_seconds.get(index + 1).map(|next| next / unit);
        (lower, upper)
    }
}

/// Bookings counted by status, and the desk minutes those still held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    by_status: [u64; 6],
    kept_minutes: u64,
}

impl Tally {
    fn add(&mut self, status: BookingStatus, count: u64, minutes: u64) {
        if let Some(i) = BookingStatus::ALL.iter().position(|s| *s == status)
            && let Some(slot) = self.by_status.get_mut(i)
        {
            *slot += count;
        }
        if status.holds_capacity() {
            self.kept_minutes += minutes;
        }
    }

    fn merge(&mut self, other: &Tally) {
        for (mine, theirs) in self.by_status.iter_mut().zip(other.by_status) {
            *mine += theirs;
        }
        self.kept_minutes += other.kept_minutes;
    }

    pub fn of(&self, status: BookingStatus) -> u64 {
        BookingStatus::ALL.iter().position(|s| *s == status).and_then(|i| self.by_status.get(i)).copied().unwrap_or(0)
    }

    /// Every booking made for the period, cancelled ones included.
    pub fn made(&self) -> u64 {
        self.by_status.iter().sum()
    }

    /// Bookings that kept their place (not cancelled).
    pub fn kept(&self) -> u64 {
        self.made() - self.of(BookingStatus::Cancelled)
    }

    /// Kept bookings not yet served nor missed: still to come, waiting or at a desk.
    pub fn open(&self) -> u64 {
        self.kept() - self.of(BookingStatus::Completed) - self.of(BookingStatus::NoShow)
    }

    pub fn kept_minutes(&self) -> u64 {
        self.kept_minutes
    }
}

/// Durations counted into buckets, with their sum for the average.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    pub buckets: Buckets,
    counts: Vec<u64>,
    seconds: f64,
}

impl Histogram {
    pub fn new(buckets: Buckets) -> Self {
        Self { buckets, counts: vec![0; buckets.len()], seconds: 0.0 }
    }

    /// Adds `count` durations of bucket `index` that sum to `seconds`.
    pub fn add(&mut self, index: usize, count: u64, seconds: f64) {
        if let Some(slot) = self.counts.get_mut(index) {
            *slot += count;
            self.seconds += seconds;
        }
    }

    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn average_seconds(&self) -> Option<f64> {
        let count = self.count();
        (count > 0).then(|| self.seconds / count as f64)
    }
}

/// One day (or week) of a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayFigures {
    pub tally: Tally,
    /// Desk minutes the offices were open for.
    pub offered_minutes: u64,
}

impl DayFigures {
    /// Desk time booked over desk time offered, from 0 to 1 (above when more was booked than the
    /// hours now configured offer); none on a closed day.
    pub fn utilisation(&self) -> Option<f64> {
        (self.offered_minutes > 0).then(|| self.tally.kept_minutes as f64 / self.offered_minutes as f64)
    }
}

/// What the bookings of a period add up to.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    period: Period,
    days: BTreeMap<NaiveDate, DayFigures>,
    services: BTreeMap<String, Tally>,
    channels: [u64; 4],
    pub lead_time: Histogram,
    pub waiting_time: Histogram,
    pub service_time: Histogram,
}

impl Report {
    pub fn new(period: Period) -> Self {
        Self {
            period,
            days: period.dates().map(|d| (d, DayFigures::default())).collect(),
            services: BTreeMap::new(),
            channels: [0; 4],
            lead_time: Histogram::new(LEAD_TIME),
            waiting_time: Histogram::new(WAITING_TIME),
            service_time: Histogram::new(SERVICE_TIME),
        }
    }

    pub fn period(&self) -> Period {
        self.period
    }

    /// Counts `count` bookings of `date` in `status` lasting `minutes` together.
    pub fn add_day(&mut self, date: NaiveDate, status: BookingStatus, count: u64, minutes: u64) {
        if let Some(day) = self.days.get_mut(&date) {
            day.tally.add(status, count, minutes);
        }
    }

    /// Adds the desk time `office` offers on each day of the period, by its present hours.
    pub fn add_offered(&mut self, office: &Office) {
        for (date, day) in &mut self.days {
            day.offered_minutes += offered_desk_minutes(office, *date);
        }
    }

    /// Counts `count` bookings of `service` made through `channel`, now in `status`, booked
    /// `lead_bucket` ahead (their lead times summing to `lead_seconds`).
    pub fn add_made(
        &mut self,
        (service, channel, status): (&str, Channel, BookingStatus),
        count: u64,
        lead: (usize, f64),
    ) {
        self.services.entry(service.to_owned()).or_default().add(status, count, 0);
        if let Some(i) = Channel::ALL.iter().position(|c| *c == channel)
            && let Some(slot) = self.channels.get_mut(i)
        {
            *slot += count;
        }
        self.lead_time.add(lead.0, count, lead.1);
    }

    /// Every day of the period, grouped by its step (days, or weeks from their Monday).
    pub fn over_time(&self) -> Vec<(NaiveDate, DayFigures)> {
        let step = self.period.step();
        let mut grouped: Vec<(NaiveDate, DayFigures)> = Vec::new();
        for (date, day) in &self.days {
            let start = step.start_of(*date);
            match grouped.last_mut() {
                Some((last, sum)) if *last == start => {
                    sum.tally.merge(&day.tally);
                    sum.offered_minutes += day.offered_minutes;
                }
                _ => grouped.push((start, *day)),
            }
        }
        grouped
    }

    /// The whole period.
    pub fn total(&self) -> DayFigures {
        let mut total = DayFigures::default();
        for day in self.days.values() {
            total.tally.merge(&day.tally);
            total.offered_minutes += day.offered_minutes;
        }
        total
    }

    /// Per service (by slug), the bookings made.
    pub fn services(&self) -> impl Iterator<Item = (&str, &Tally)> {
        self.services.iter().map(|(s, t)| (s.as_str(), t))
    }

    /// Bookings made per channel.
    pub fn channels(&self) -> impl Iterator<Item = (Channel, u64)> + '_ {
        Channel::ALL.into_iter().zip(self.channels)
    }
}

/// The desk minutes `office` is open for on `date` by its weekly hours (every desk counted), none
/// when a closure or holiday closes it.
pub fn offered_desk_minutes(office: &Office, date: NaiveDate) -> u64 {
    if office.closed_on(date).is_some() {
        return 0;
    }
    office
        .hours
        .on(date.weekday())
        .iter()
        .map(|i| {
            let minutes = (i.end() - i.start()).num_minutes().max(0);
            u64::try_from(minutes).unwrap_or(0) * u64::from(i.desks())
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_period_is_at_most_a_leap_year_and_in_order() {
        assert!(Period::new(date(2026, 1, 1), date(2026, 12, 31)).is_ok());
        assert!(Period::new(date(2026, 1, 1), date(2027, 1, 1)).is_ok(), "366 days");
        assert_eq!(Period::new(date(2026, 1, 1), date(2027, 1, 2)), Err(PeriodError::TooLong));
        assert_eq!(Period::new(date(2026, 2, 1), date(2026, 1, 31)), Err(PeriodError::Reversed));
        assert_eq!(Period::ending(date(2026, 12, 1), 30).from(), date(2026, 11, 2));
        assert_eq!(Period::ending(date(2026, 12, 1), 30).dates().count(), 30);
    }

    #[test]
    fn long_periods_are_charted_by_week_from_monday() {
        let short = Period::new(date(2026, 11, 1), date(2026, 11, 30)).unwrap();
        assert_eq!(short.step(), Step::Day);
        let long = Period::new(date(2026, 1, 1), date(2026, 6, 30)).unwrap();
        assert_eq!(long.step(), Step::Week);
        // 2026-12-03 is a Thursday.
        assert_eq!(Step::Week.start_of(date(2026, 12, 3)), date(2026, 11, 30));
        assert_eq!(Step::Week.start_of(date(2026, 11, 30)), date(2026, 11, 30));
    }

    #[test]
    fn durations_fall_in_their_bucket() {
        assert_eq!(WAITING_TIME.index_of(0.0), 0);
        assert_eq!(WAITING_TIME.index_of(299.9), 0);
        assert_eq!(WAITING_TIME.index_of(300.0), 1);
        assert_eq!(WAITING_TIME.index_of(7200.0), 5);
        assert_eq!(WAITING_TIME.index_of(-3.0), 0);
        assert_eq!(LEAD_TIME.index_of(3.5 * 86_400.0), 2);
        assert_eq!(LEAD_TIME.bounds(2), (2, Some(4)));
        assert_eq!(LEAD_TIME.bounds(6), (31, None));
        assert_eq!(WAITING_TIME.bounds(1), (5, Some(10)));
    }

    #[test]
    fn a_report_adds_up_days_weeks_and_what_was_made() {
        let period = Period::new(date(2026, 11, 30), date(2026, 12, 13)).unwrap();
        let mut report = Report::new(period);
        report.add_day(date(2026, 11, 30), BookingStatus::Completed, 3, 60);
        report.add_day(date(2026, 12, 1), BookingStatus::Cancelled, 2, 40);
        report.add_day(date(2026, 12, 8), BookingStatus::NoShow, 1, 20);
        // Outside the period: not counted.
        report.add_day(date(2026, 12, 14), BookingStatus::Completed, 9, 180);
        let total = report.total();
        assert_eq!((total.tally.made(), total.tally.kept(), total.tally.open()), (6, 4, 0));
        assert_eq!(total.tally.kept_minutes(), 80);
        assert_eq!(report.over_time().len(), 14);

        report.add_made(("anagrafe", Channel::Counter, BookingStatus::Completed), 2, (0, 600.0));
        report.add_made(("anagrafe", Channel::Web, BookingStatus::Cancelled), 1, (3, 5.0 * 86_400.0));
        assert_eq!(report.channels().find(|(c, _)| *c == Channel::Counter), Some((Channel::Counter, 2)));
        assert_eq!(report.lead_time.count(), 3);
        assert_eq!(report.lead_time.average_seconds(), Some((600.0 + 5.0 * 86_400.0) / 3.0));
        let services: Vec<_> = report.services().map(|(s, t)| (s.to_owned(), t.made())).collect();
        assert_eq!(services, vec![("anagrafe".to_owned(), 3)]);
    }
}
