//! The counter queue ("eliminacode"): a short ticket code for the day at check-in, and which
//! waiting citizen the next call goes to.
//!
//! The rule, in order: a walk-in passed over for longer than the cap; appointments due now
//! (their time has come, or comes within a few minutes), soonest first; walk-ins by arrival;
//! then citizens who came early for a later appointment.

use chrono::{DateTime, TimeDelta, Utc};

/// Ticket prefixes and the call rule of a body's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSettings {
    /// The letter of tickets for booked appointments (`P017`).
    pub appointment_prefix: char,
    /// The letter of tickets for walk-ins (`A023`).
    pub walk_in_prefix: char,
    /// An appointment counts as due this long before its time.
    pub due_within: TimeDelta,
    /// A walk-in is passed over by appointments for at most this long.
    pub walk_in_cap: TimeDelta,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            appointment_prefix: 'P',
            walk_in_prefix: 'A',
            due_within: TimeDelta::minutes(5),
            walk_in_cap: TimeDelta::minutes(20),
        }
    }
}

/// A ticket's code: its prefix and its number of the day, three digits at least (`P007`).
pub fn ticket_code(prefix: char, number: u32) -> String {
    format!("{prefix}{number:03}")
}

/// A citizen waiting at the counter (checked in, not called yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    pub booking: i32,
    pub walk_in: bool,
    pub start: DateTime<Utc>,
    pub arrived: DateTime<Utc>,
}

impl QueueSettings {
    /// Whether a citizen booked at the counter who arrives at `arrived` for `start` is a walk-in
    /// (their time has come): one booked there for later in the day is an appointment like any.
    pub fn is_walk_in(&self, at_counter: bool, start: DateTime<Utc>, arrived: DateTime<Utc>) -> bool {
        at_counter && start <= arrived + self.due_within
    }

    /// Who is called first, second, …: the waiting citizens in the rule's order.
    pub fn call_order(&self, mut waiting: Vec<Waiting>, now: DateTime<Utc>) -> Vec<Waiting> {
        waiting.sort_by_key(|w| {
            let (tier, at) = match (w.walk_in, now - w.arrived >= self.walk_in_cap) {
                (true, true) => (0, w.arrived),
                (false, _) if w.start <= now + self.due_within => (1, w.start),
                (true, false) => (2, w.arrived),
                (false, _) => (3, w.start),
            };
            (tier, at, w.booking)
        });
        waiting
    }
}

/// About how long until the citizens `ahead` have been served at `desks` desks, each taking the
/// day's average service so far; `None` before any service was timed.
pub fn expected_wait(ahead: usize, served: &[TimeDelta], desks: usize) -> Option<TimeDelta> {
    let count = i32::try_from(served.len()).ok().filter(|n| *n > 0)?;
    let average = served.iter().copied().sum::<TimeDelta>() / count;
    let rounds = i32::try_from(ahead.div_ceil(desks.max(1))).ok()?;
    Some(average * rounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(20_000) + TimeDelta::minutes(minute)
    }

    fn appointment(booking: i32, start: i64, arrived: i64) -> Waiting {
        Waiting { booking, walk_in: false, start: at(start), arrived: at(arrived) }
    }

    fn walk_in(booking: i32, arrived: i64) -> Waiting {
        Waiting { booking, walk_in: true, start: at(arrived), arrived: at(arrived) }
    }

    fn order(waiting: Vec<Waiting>, now: i64) -> Vec<i32> {
        QueueSettings::default().call_order(waiting, at(now)).into_iter().map(|w| w.booking).collect()
    }

    #[test]
    fn appointments_due_now_go_before_walk_ins_and_early_comers() {
        let waiting = vec![
            walk_in(1, 0),
            appointment(2, 60, 0), // early for 11:00
            appointment(3, 12, 5), // due at 10:12: within five minutes of 10:10
            appointment(4, 0, 2),
            walk_in(5, 3),
        ];
        assert_eq!(order(waiting, 10), [4, 3, 1, 5, 2]);
    }

    #[test]
    fn a_walk_in_is_not_passed_over_beyond_the_cap() {
        let waiting = vec![appointment(1, 24, 18), walk_in(2, 0), appointment(3, 22, 17), walk_in(4, 15)];
        // Minute 19: the first walk-in has waited 19 minutes; both appointments are due.
        assert_eq!(order(waiting.clone(), 19), [3, 1, 2, 4]);
        // Minute 20: twenty minutes, and it goes first.
        assert_eq!(order(waiting, 20), [2, 3, 1, 4]);
    }

    #[test]
    fn a_counter_booking_for_later_is_an_appointment() {
        let rule = QueueSettings::default();
        assert!(rule.is_walk_in(true, at(0), at(0)), "the slot under way");
        assert!(rule.is_walk_in(true, at(4), at(0)), "the next one, due within five minutes");
        assert!(!rule.is_walk_in(true, at(60), at(0)), "booked at the counter for an hour later");
        assert!(!rule.is_walk_in(false, at(0), at(0)), "booked online");
    }

    #[test]
    fn the_wait_follows_the_days_service_times() {
        let served = [TimeDelta::minutes(3), TimeDelta::minutes(5)];
        assert_eq!(expected_wait(3, &served, 1), Some(TimeDelta::minutes(12)), "three before, four minutes each");
        assert_eq!(expected_wait(3, &served, 2), Some(TimeDelta::minutes(8)), "two desks: two rounds");
        assert_eq!(expected_wait(0, &served, 1), Some(TimeDelta::zero()), "next");
        assert_eq!(expected_wait(3, &[], 1), None, "nothing timed yet");
        assert_eq!(expected_wait(2, &served, 0), Some(TimeDelta::minutes(8)), "at least one desk");
    }

    #[test]
    fn tickets_read_aloud_well() {
        assert_eq!(ticket_code('P', 7), "P007");
        assert_eq!(ticket_code('A', 23), "A023");
        assert_eq!(ticket_code('A', 1234), "A1234");
    }
}
