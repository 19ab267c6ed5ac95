//! How busy this process is with citizens' bookings, so that background work (the outbox worker)
//! steps aside during a rush: a citizen waiting for a place must not wait for an e-mail, and an
//! e-mail can leave a few seconds later. Each instance knows only its own load, which is the load
//! that competes with its worker for CPU and for SQLite's one writer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// How often a waiting worker looks again.
const LOOK_AGAIN: Duration = Duration::from_millis(20);

#[derive(Debug, Default)]
pub struct Pressure {
    in_flight: AtomicUsize,
}

/// A booking request in progress; it counts until dropped (however the request ends).
#[must_use = "the request counts only while this is kept"]
pub struct Busy<'a>(&'a Pressure);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pressure {
    pub fn enter(&self) -> Busy<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Busy(self)
    }

    pub fn is_quiet(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
    }

    /// Waits until no booking request is in progress (`true`), or `at_most` (`false`): work
    /// that steps aside is delayed, never starved.
    pub async fn quiet(&self, at_most: Duration) -> bool {
        let until = Instant::now() + at_most;
        loop {
            if self.is_quiet() {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(LOOK_AGAIN).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_while_a_booking_is_in_progress_and_no_longer_than_asked() {
        let pressure = Pressure::default();
        let started = Instant::now();
        assert!(pressure.quiet(Duration::from_secs(5)).await);
        assert_eq!(started.elapsed(), Duration::ZERO, "nothing in progress: no wait");

        let busy = pressure.enter();
        let started = Instant::now();
        assert!(!pressure.quiet(Duration::from_secs(2)).await, "still busy");
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(2) && waited < Duration::from_secs(2) + 2 * LOOK_AGAIN, "{waited:?}");

        let started = Instant::now();
        let (_, paused) = tokio::join!(
            async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                drop(busy);
            },
            pressure.quiet(Duration::from_secs(60)),
        );
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_millis(300) + 2 * LOOK_AGAIN,
            "{waited:?}"
        );
        assert!(paused && pressure.is_quiet());
    }

    #[test]
    fn a_request_counts_until_it_ends_however_it_ends() {
        let pressure = Pressure::default();
        let first = pressure.enter();
        let second = pressure.enter();
        drop(first);
        assert!(!pressure.is_quiet());
        drop(second);
        assert!(pressure.is_quiet());
    }
}
