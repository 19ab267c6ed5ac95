//! When an office is open, and with how many desks.

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};

use super::holidays::italian_national_holiday;

/// One opening interval of a day, in the office's wall time, with `desks` parallel appointments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpeningInterval {
    start: NaiveTime,
    end: NaiveTime,
    desks: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("an interval must end after it starts")]
    EmptyInterval,
    #[error("desks must be between 1 and 500")]
    BadDesks,
    #[error("times must fall on the {0}-minute grid")]
    OffGrid(u16),
    #[error("intervals of the same day must not overlap")]
    Overlap,
}

impl OpeningInterval {
    pub fn new(start: NaiveTime, end: NaiveTime, desks: u16) -> Result<Self, ScheduleError> {
        if end <= start {
            return Err(ScheduleError::EmptyInterval);
        }
        if !(1..=500).contains(&desks) {
            return Err(ScheduleError::BadDesks);
        }
        Ok(Self { start, end, desks })
    }

    pub fn start(&self) -> NaiveTime {
        self.start
    }
    pub fn end(&self) -> NaiveTime {
        self.end
    }
    pub fn desks(&self) -> u16 {
        self.desks
    }
}

/// Opening intervals for each weekday, sorted and non-overlapping, aligned to the slot grid.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct WeeklyHours {
    /// Indexed by `Weekday::num_days_from_monday`.
    days: [Vec<OpeningInterval>; 7],
}

impl WeeklyHours {
    pub fn new(mut days: [Vec<OpeningInterval>; 7], grid_minutes: u16) -> Result<Self, (Weekday, ScheduleError)> {
        for (index, intervals) in days.iter_mut().enumerate() {
            let weekday = Weekday::try_from(index as u8).unwrap_or(Weekday::Mon);
            intervals.sort_by_key(|i| i.start);
            for interval in intervals.iter() {
                let on_grid = |t: NaiveTime| {
                    (t.signed_duration_since(NaiveTime::MIN).num_minutes()) % i64::from(grid_minutes) == 0
                };
                if !on_grid(interval.start) || !on_grid(interval.end) {
                    return Err((weekday, ScheduleError::OffGrid(grid_minutes)));
                }
            }
            if intervals.iter().zip(intervals.iter().skip(1)).any(|(earlier, later)| later.start < earlier.end) {
                return Err((weekday, ScheduleError::Overlap));
            }
        }
        Ok(Self { days })
    }

    pub fn on(&self, weekday: Weekday) -> &[OpeningInterval] {
        let index = usize::try_from(weekday.num_days_from_monday()).unwrap_or(usize::MAX);
        self.days.get(index).map_or(&[], Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }
}

/// Days an office is closed for its own reasons (inclusive range).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closure {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub reason: String,
}

/// Which holidays close an office.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HolidayPolicy {
    /// Italian national holidays close the office (the default).
    pub national: bool,
    /// The town's patron saint's day as (month, day).
    pub patron_saint: Option<(u32, u32)>,
}

impl Default for HolidayPolicy {
    fn default() -> Self {
        Self { national: true, patron_saint: None }
    }
}

impl HolidayPolicy {
    /// Why the office is closed on `date`, if a holiday closes it.
    pub fn closes(&self, date: NaiveDate) -> Option<&'static str> {
        if self.patron_saint == Some((date.month(), date.day())) {
            return Some("Santo patrono");
        }
        if self.national { italian_national_holiday(date) } else { None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn intervals_must_be_valid() {
        assert_eq!(OpeningInterval::new(t(9, 0), t(9, 0), 1), Err(ScheduleError::EmptyInterval));
        assert_eq!(OpeningInterval::new(t(9, 0), t(12, 0), 0), Err(ScheduleError::BadDesks));
    }

    #[test]
    fn weekly_hours_reject_overlaps_and_off_grid_times() {
        let day = |intervals: Vec<OpeningInterval>| {
            let mut days: [Vec<OpeningInterval>; 7] = Default::default();
            days[0] = intervals;
            days
        };
        let overlapping = day(vec![
            OpeningInterval::new(t(9, 0), t(12, 0), 1).unwrap(),
            OpeningInterval::new(t(11, 0), t(13, 0), 1).unwrap(),
        ]);
        assert_eq!(WeeklyHours::new(overlapping, 15), Err((Weekday::Mon, ScheduleError::Overlap)));
        let off_grid = day(vec![OpeningInterval::new(t(9, 10), t(12, 0), 1).unwrap()]);
        assert_eq!(WeeklyHours::new(off_grid, 15), Err((Weekday::Mon, ScheduleError::OffGrid(15))));
        let split = day(vec![
            OpeningInterval::new(t(14, 30), t(17, 0), 1).unwrap(),
            OpeningInterval::new(t(8, 30), t(12, 30), 2).unwrap(),
        ]);
        let hours = WeeklyHours::new(split, 15).unwrap();
        assert_eq!(hours.on(Weekday::Mon)[0].start(), t(8, 30), "sorted by start");
        assert!(hours.on(Weekday::Tue).is_empty());
    }

    #[test]
    fn holidays_close_unless_opted_out() {
        let easter_monday = NaiveDate::from_ymd_opt(2027, 3, 29).unwrap();
        assert!(HolidayPolicy::default().closes(easter_monday).is_some());
        let open = HolidayPolicy { national: false, patron_saint: Some((6, 24)) };
        assert_eq!(open.closes(easter_monday), None);
        assert_eq!(open.closes(NaiveDate::from_ymd_opt(2027, 6, 24).unwrap()), Some("Santo patrono"));
    }
}
