//! What the counter does with a booking, as a state machine: a citizen who booked checks in when
//! they arrive, is called to a desk, and is served; one who never came is marked a no-show. Each
//! step is allowed from some statuses only (no serving a cancelled booking), and the last one can
//! be undone for a short while, for the slip of a finger.

use chrono::{DateTime, TimeDelta, Utc};

use super::BookingStatus;

/// How long the last desk action of a booking can be undone.
pub const UNDO_WINDOW: TimeDelta = TimeDelta::minutes(5);

/// Longest internal note, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;

/// A step at the counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeskAction {
    /// The citizen arrived.
    CheckIn,
    /// Called to a desk (again, if they did not come at the first call).
    Call,
    /// Served.
    Complete,
    /// The time passed and nobody came.
    NoShow,
}

/// Why a desk action cannot be done now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeskRefusal {
    /// Not from the booking's present status (e.g. serving a cancelled booking).
    NotFrom(BookingStatus),
    /// Checking in happens on the appointment's day only.
    NotToday,
    /// A no-show only once the appointment's time has come.
    NotYetDue,
    /// Nothing to undo, or too late to.
    NothingToUndo,
}

impl DeskAction {
    pub const ALL: [DeskAction; 4] = [Self::CheckIn, Self::Call, Self::Complete, Self::NoShow];

    /// Its name in URLs and the API (`check-in`, `call`, `complete`, `no-show`).
    pub fn code(self) -> &'static str {
        match self {
            Self::CheckIn => "check-in",
            Self::Call => "call",
            Self::Complete => "complete",
            Self::NoShow => "no-show",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == raw)
    }

    /// The status it leads to.
    pub fn to(self) -> BookingStatus {
        match self {
            Self::CheckIn => BookingStatus::CheckedIn,
            Self::Call => BookingStatus::Called,
            Self::Complete => BookingStatus::Completed,
            Self::NoShow => BookingStatus::NoShow,
        }
    }

    /// The statuses it may start from.
    pub fn from(self) -> &'static [BookingStatus] {
        match self {
            Self::CheckIn => &[BookingStatus::Confirmed],
            Self::Call => &[BookingStatus::CheckedIn, BookingStatus::Called],
            Self::Complete => &[BookingStatus::CheckedIn, BookingStatus::Called],
            Self::NoShow => &[BookingStatus::Confirmed],
        }
    }

    /// The status a booking in `status`, starting at `start` on day `on_its_day` (as the office
    /// reckons days), moves to at `now`.
    pub fn apply(
        self,
        status: BookingStatus,
        start: DateTime<Utc>,
        on_its_day: bool,
        now: DateTime<Utc>,
    ) -> Result<BookingStatus, DeskRefusal> {
        if !self.from().contains(&status) {
            return Err(DeskRefusal::NotFrom(status));
        }
        match self {
            Self::CheckIn if !on_its_day => Err(DeskRefusal::NotToday),
            Self::NoShow if now < start => Err(DeskRefusal::NotYetDue),
            _ => Ok(self.to()),
        }
    }
}

/// The status that undoing the last desk action goes back to: the one before it, if that action
/// was at most `UNDO_WINDOW` ago and was a desk action (a cancellation is not undone: the citizen
/// was told).
pub fn undo(
    status: BookingStatus,
    previous: Option<BookingStatus>,
    changed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<BookingStatus, DeskRefusal> {
    let by_desk = DeskAction::ALL.iter().any(|a| a.to() == status);
    match (previous, changed_at) {
        (Some(previous), Some(at)) if by_desk && now - at <= UNDO_WINDOW && now >= at => Ok(previous),
        _ => Err(DeskRefusal::NothingToUndo),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BookingStatus::*;

    fn at(hour: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, 12, 2, hour, 0, 0).unwrap()
    }

    #[test]
    fn the_counter_moves_a_booking_forward_only_from_where_it_is() {
        let (start, now) = (at(9), at(8));
        assert_eq!(DeskAction::CheckIn.apply(Confirmed, start, true, now), Ok(CheckedIn));
        assert_eq!(DeskAction::CheckIn.apply(Confirmed, start, false, now), Err(DeskRefusal::NotToday));
        assert_eq!(DeskAction::Call.apply(CheckedIn, start, true, now), Ok(Called));
        assert_eq!(DeskAction::Call.apply(Called, start, true, now), Ok(Called), "called again");
        assert_eq!(DeskAction::Complete.apply(Called, start, true, now), Ok(Completed));
        assert_eq!(DeskAction::Complete.apply(Cancelled, start, true, now), Err(DeskRefusal::NotFrom(Cancelled)));
        assert_eq!(DeskAction::Complete.apply(Confirmed, start, true, now), Err(DeskRefusal::NotFrom(Confirmed)));
        assert_eq!(DeskAction::CheckIn.apply(Completed, start, true, now), Err(DeskRefusal::NotFrom(Completed)));
        assert_eq!(DeskAction::NoShow.apply(Confirmed, start, true, now), Err(DeskRefusal::NotYetDue));
        assert_eq!(DeskAction::NoShow.apply(Confirmed, start, true, at(10)), Ok(NoShow));
        assert_eq!(DeskAction::NoShow.apply(CheckedIn, start, true, at(10)), Err(DeskRefusal::NotFrom(CheckedIn)));
        for action in DeskAction::ALL {
            assert_eq!(DeskAction::parse(action.code()), Some(action));
            assert!(action.to().holds_capacity(), "served or not, the place was used");
        }
    }

    #[test]
    fn the_last_desk_action_is_undone_for_a_short_while() {
        let now = at(9);
        assert_eq!(undo(CheckedIn, Some(Confirmed), Some(now - TimeDelta::minutes(4)), now), Ok(Confirmed));
        assert_eq!(
            undo(CheckedIn, Some(Confirmed), Some(now - TimeDelta::minutes(6)), now),
            Err(DeskRefusal::NothingToUndo)
        );
        assert_eq!(undo(CheckedIn, None, Some(now), now), Err(DeskRefusal::NothingToUndo));
        assert_eq!(undo(Cancelled, Some(Confirmed), Some(now), now), Err(DeskRefusal::NothingToUndo), "told");
        assert_eq!(undo(Confirmed, Some(CheckedIn), Some(now), now), Err(DeskRefusal::NothingToUndo));
    }
}
