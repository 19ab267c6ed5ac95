//! Slots: generated in the office's wall time, stored and compared as UTC instants.
//!
//! A slot of a service starts at an opening interval's start plus a multiple of the service's
//! duration, and must end within the interval. Capacity is counted per *unit*: a grid-sized
//! piece of time at one office. A slot occupies every unit it covers, so services of different
//! durations share the same desks correctly; and since bookings are intervals, "at most `desks`
//! bookings on every unit" is exactly "the bookings fit on `desks` desks".

use chrono::{DateTime, Days, NaiveDate, TimeDelta, TimeZone, Utc};

use super::catalog::{Office, Service};

/// A capacity unit: the start of a grid piece, as UTC seconds since the epoch.
pub type Unit = i64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The office-local date the slot belongs to.
    pub local_date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Parallel capacity of the interval the slot lies in.
    pub desks: u16,
}

impl Slot {
    /// The capacity units this slot occupies, in ascending order.
    pub fn units(&self, grid_minutes: u16) -> Vec<Unit> {
        units_between(self.start, self.end, grid_minutes)
    }

    /// Free places: desks minus the most `used` (bookings and live holds) on any of its units.
    pub fn remaining(&self, grid_minutes: u16, used: impl Fn(Unit) -> u32) -> u32 {
        let busiest = self.units(grid_minutes).into_iter().map(used).max().unwrap_or(0);
        u32::from(self.desks).saturating_sub(busiest)
    }
}

/// The grid units covering `[start, end)`, in ascending order.
pub fn units_between(start: DateTime<Utc>, end: DateTime<Utc>, grid_minutes: u16) -> Vec<Unit> {
    let step = i64::from(grid_minutes.max(1)) * 60;
    (start.timestamp()..end.timestamp()).step_by(step as usize).collect()
}

/// The slots of one service at one office, as seen at instant `now`.
#[derive(Clone, Copy, Debug)]
pub struct SlotQuery<'a> {
    pub service: &'a Service,
    pub office: &'a Office,
    pub grid_minutes: u16,
    pub now: DateTime<Utc>,
    /// Staff booking for a citizen at the counter or on the phone: no minimum notice, and a slot
    /// already under way can still be taken (a walk-in served now).
    pub by_staff: bool,
}

impl SlotQuery<'_> {
    /// The office-local date of `now`.
    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.office.timezone).date_naive()
    }

    /// The last date that may be booked (the horizon).
    pub fn last_bookable_date(&self) -> NaiveDate {
        let today = self.today();
        today.checked_add_days(Days::new(u64::from(self.service.horizon_days))).unwrap_or(today)
    }

    /// Why the office is closed all day on `date`, if it is.
    pub fn closed_reason(&self, date: NaiveDate) -> Option<&str> {
        self.office.closed_on(date)
    }

    /// Bookable slots on `date`: open hours, not closed, after the minimum notice (for staff: not
    /// over yet), within the horizon.
    pub fn slots_on(&self, date: NaiveDate) -> Vec<Slot> {
        if date < self.today() || date > self.last_bookable_date() || self.closed_reason(date).is_some() {
            return Vec::new();
        }
        let duration = TimeDelta::minutes(i64::from(self.service.duration_minutes));
        let bookable = |start: DateTime<Utc>| match self.by_staff {
            true => start + duration > self.now,
            false => start >= self.now + TimeDelta::hours(i64::from(self.service.min_notice_hours)) && start > self.now,
        };
        let tz = self.office.timezone;
        let mut slots = Vec::new();
        for interval in self.office.hours.on(chrono::Datelike::weekday(&date)) {
            let mut local_start = date.and_time(interval.start());
            let interval_end = date.and_time(interval.end());
            while local_start + duration <= interval_end {
                // A start in the spring-forward gap does not exist; in the autumn overlap take the first.
                if let Some(start) = tz.from_local_datetime(&local_start).earliest() {
                    let start = start.with_timezone(&Utc);
                    if bookable(start) {
                        slots.push(Slot { local_date: date, start, end: start + duration, desks: interval.desks() });
                    }
                }
                local_start += duration;
            }
        }
        slots
    }

    /// Bookable slots for every date in `from..=to`.
    pub fn slots_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<Slot> {
        let first = from.max(self.today());
        let last = to.min(self.last_bookable_date());
        first.iter_days().take_while(|d| *d <= last).flat_map(|d| self.slots_on(d)).collect()
    }

    /// The bookable slot that starts exactly at `start`, if there is one.
    pub fn find(&self, start: DateTime<Utc>) -> Option<Slot> {
        let date = start.with_timezone(&self.office.timezone).date_naive();
        self.slots_on(date).into_iter().find(|s| s.start == start)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use chrono::{NaiveTime, Weekday};
    use chrono_tz::Europe::Rome;

    use super::*;
    use crate::domain::mode::Mode;
    use crate::domain::schedule::{Closure, HolidayPolicy, OpeningInterval, WeeklyHours};
    use crate::domain::text::{Locale, Localized, Slug};

    fn text(s: &str) -> Localized {
        Localized::new(BTreeMap::from([(Locale::It, s.to_owned())])).unwrap()
    }

    fn service(duration: u16) -> Service {
        Service {
            slug: Slug::parse("servizio").unwrap(),
            name: text("Servizio"),
            description: text("Descrizione"),
            duration_minutes: duration,
            modes: vec![Mode::InPerson],
            min_notice_hours: 0,
            horizon_days: 365,
            fiscal_code_required: false,
            fields: vec![],
            reasons: vec![],
            active: true,
            bring: None,
            max_active_bookings_per_person: None,
            plugin: None,
            check_first: vec![],
        }
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// An office open every day in the given intervals, closed on no holiday.
    fn office(intervals: &[(NaiveTime, NaiveTime, u16)]) -> Office {
        let day: Vec<OpeningInterval> =
            intervals.iter().map(|(s, e, d)| OpeningInterval::new(*s, *e, *d).unwrap()).collect();
        let days: [Vec<OpeningInterval>; 7] = std::array::from_fn(|_| day.clone());
        Office {
            teams_link: None,
            skype_contact: None,
            slug: Slug::parse("sede").unwrap(),
            name: "Sede".into(),
            address: "Via Roma 1".into(),
            timezone: Rome,
            modes: vec![Mode::InPerson],
            services: vec![Slug::parse("servizio").unwrap()],
            hours: WeeklyHours::new(days, 15).unwrap(),
            closures: vec![],
            holidays: HolidayPolicy { national: false, patron_saint: None },
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn query<'a>(service: &'a Service, office: &'a Office, now: &str) -> SlotQuery<'a> {
        SlotQuery { service, office, grid_minutes: 15, now: utc(now), by_staff: false }
    }

    #[test]
    fn march_dst_week_keeps_wall_time() {
        let (svc, off) = (service(30), office(&[(t(9, 0), t(12, 0), 1)]));
        let q = query(&svc, &off, "2026-03-23T00:00:00Z");
        // Saturday before the change: CET, 09:00 local is 08:00Z.
        assert_eq!(q.slots_on(date(2026, 3, 28))[0].start, utc("2026-03-28T08:00:00Z"));
        // Sunday 29 March 2026 clocks go forward; Monday 09:00 CEST is 07:00Z.
        assert_eq!(q.slots_on(date(2026, 3, 29))[0].start, utc("2026-03-29T07:00:00Z"));
        assert_eq!(q.slots_on(date(2026, 3, 30))[0].start, utc("2026-03-30T07:00:00Z"));
        assert_eq!(q.slots_on(date(2026, 3, 30)).len(), 6, "every day of the week has the same six slots");
        assert_eq!(q.slots_between(date(2026, 3, 23), date(2026, 3, 29)).len(), 42);
    }

    #[test]
    fn october_dst_week_keeps_wall_time() {
        let (svc, off) = (service(60), office(&[(t(14, 0), t(18, 0), 2)]));
        let q = query(&svc, &off, "2026-10-19T00:00:00Z");
        assert_eq!(q.slots_on(date(2026, 10, 24))[0].start, utc("2026-10-24T12:00:00Z"));
        // Sunday 25 October 2026 clocks go back: 14:00 CET is 13:00Z.
        assert_eq!(q.slots_on(date(2026, 10, 25))[0].start, utc("2026-10-25T13:00:00Z"));
        assert_eq!(q.slots_on(date(2026, 10, 26))[3].end, utc("2026-10-26T17:00:00Z"));
    }

    #[test]
    fn night_slots_skip_the_gap_and_take_the_first_of_the_overlap() {
        let (svc, off) = (service(30), office(&[(t(1, 0), t(4, 0), 1)]));
        let q = query(&svc, &off, "2026-03-01T00:00:00Z");
        let spring = q.slots_on(date(2026, 3, 29));
        // 02:00 and 02:30 do not exist that night.
        assert_eq!(spring.len(), 4);
        assert!(spring.iter().all(|s| s.start.with_timezone(&Rome).time() != t(2, 0)));
        let autumn = q.slots_on(date(2026, 10, 25));
        assert_eq!(autumn.len(), 6);
        // 02:00 happens twice; the slot is the first one (still CEST, 00:00Z).
        assert_eq!(autumn[2].start, utc("2026-10-25T00:00:00Z"));
    }

    #[test]
    fn closures_and_holidays_close_the_whole_day() {
        let (svc, mut off) = (service(30), office(&[(t(9, 0), t(12, 0), 1)]));
        off.closures.push(Closure { from: date(2026, 12, 24), to: date(2026, 12, 31), reason: "Ferie".into() });
        off.holidays = HolidayPolicy::default();
        let q = query(&svc, &off, "2026-12-01T00:00:00Z");
        assert!(q.slots_on(date(2026, 12, 23)).len() == 6);
        assert_eq!(q.closed_reason(date(2026, 12, 28)), Some("Ferie"));
        assert!(q.slots_on(date(2026, 12, 28)).is_empty());
        assert!(q.slots_on(date(2026, 12, 8)).is_empty(), "Immacolata");
        assert!(q.slots_on(date(2027, 3, 29)).is_empty(), "Easter Monday 2027");
        assert_eq!(q.slots_on(date(2027, 3, 30)).len(), 6);
    }

    #[test]
    fn minimum_notice_and_horizon_bound_the_window() {
        let (mut svc, off) = (service(30), office(&[(t(9, 0), t(12, 0), 1)]));
        svc.min_notice_hours = 24;
        svc.horizon_days = 10;
        // Now is 10:10 Rome time on 2 Dec: slots before 10:10 on 3 Dec are too soon.
        let q = query(&svc, &off, "2026-12-02T09:10:00Z");
        assert!(q.slots_on(date(2026, 12, 2)).is_empty());
        let tomorrow: Vec<_> =
            q.slots_on(date(2026, 12, 3)).iter().map(|s| s.start.with_timezone(&Rome).time()).collect();
        assert_eq!(tomorrow, vec![t(10, 30), t(11, 0), t(11, 30)]);
        assert_eq!(q.last_bookable_date(), date(2026, 12, 12));
        assert_eq!(q.slots_on(date(2026, 12, 12)).len(), 6);
        assert!(q.slots_on(date(2026, 12, 13)).is_empty());
        assert!(q.find(utc("2026-12-12T08:00:00Z")).is_some());
        assert!(q.find(utc("2026-12-12T08:15:00Z")).is_none(), "not on the service's step");
    }

    #[test]
    fn staff_book_without_notice_and_into_the_slot_under_way() {
        let (mut svc, off) = (service(30), office(&[(t(9, 0), t(12, 0), 1)]));
        svc.min_notice_hours = 24;
        // 10:10 Rome on 2 Dec: the 10:00 slot is under way.
        let citizen = query(&svc, &off, "2026-12-02T09:10:00Z");
        let staff = SlotQuery { by_staff: true, ..citizen };
        let starts = |q: &SlotQuery<'_>| -> Vec<_> {
            q.slots_on(date(2026, 12, 2)).iter().map(|s| s.start.with_timezone(&Rome).time()).collect()
        };
        assert!(starts(&citizen).is_empty(), "a citizen gives a day's notice");
        assert_eq!(starts(&staff), vec![t(10, 0), t(10, 30), t(11, 0), t(11, 30)], "not the slots already over");
        assert!(staff.find(utc("2026-12-02T09:00:00Z")).is_some());
        assert!(staff.find(utc("2026-12-02T08:30:00Z")).is_none(), "09:30 ended at 10:00");
    }

    #[test]
    fn desks_and_units_give_remaining_capacity() {
        let (short, long, off) = (service(30), service(60), office(&[(t(9, 0), t(11, 0), 3), (t(15, 0), t(16, 0), 1)]));
        let now = "2026-12-01T00:00:00Z";
        let day = date(2026, 12, 2);
        let q_short = query(&short, &off, now);
        let q_long = query(&long, &off, now);
        // One 60-minute booking 09:00–10:00 and two 30-minute bookings 09:30–10:00.
        let mut used: HashMap<Unit, u32> = HashMap::new();
        let long_slot = &q_long.slots_on(day)[0];
        for unit in long_slot.units(15) {
            *used.entry(unit).or_default() += 1;
        }
        let half_past = &q_short.slots_on(day)[1];
        for unit in half_past.units(15) {
            *used.entry(unit).or_default() += 2;
        }
        let used = |u: Unit| used.get(&u).copied().unwrap_or(0);
        let remaining: Vec<u32> = q_short.slots_on(day).iter().map(|s| s.remaining(15, used)).collect();
        // 09:00 (1 used), 09:30 (3 used), 10:00, 10:30, then the single-desk afternoon slots.
        assert_eq!(remaining, vec![2, 0, 3, 3, 1, 1]);
        let long_remaining: Vec<u32> = q_long.slots_on(day).iter().map(|s| s.remaining(15, used)).collect();
        assert_eq!(long_remaining, vec![0, 3, 1], "a 60-minute slot is as free as its busiest unit");
        assert_eq!(long_slot.units(15).len(), 4);
    }

    #[test]
    fn slots_are_generated_per_weekday() {
        let (svc, mut off) = (service(30), office(&[]));
        let mut days: [Vec<OpeningInterval>; 7] = Default::default();
        days[Weekday::Wed.num_days_from_monday() as usize] = vec![OpeningInterval::new(t(9, 0), t(10, 0), 1).unwrap()];
        off.hours = WeeklyHours::new(days, 15).unwrap();
        let q = query(&svc, &off, "2026-11-30T00:00:00Z");
        let week = q.slots_between(date(2026, 11, 30), date(2026, 12, 6));
        assert_eq!(week.len(), 2);
        assert!(week.iter().all(|s| s.local_date == date(2026, 12, 2)));
    }
}
