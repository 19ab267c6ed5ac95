//! How busy this process is with citizens' bookings, so that background work (the outbox worker)
//! steps aside during a rush: a citizen waiting for a place must not wait for an e-mail, and an
//! e-mail can leave a few seconds later. Each instance knows only its own load, which is the load
//! that competes with its worker for CPU and for SQLite's one writer.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// How often a waiting worker looks again.
const LOOK_AGAIN: Duration = Duration::from_millis(20);
/// How long no booking request must have been in progress for a pause: during a rush the count
/// touches zero between two requests many times a second, and that is no pause.
const CALM: Duration = Duration::from_millis(250);
/// `last_busy` before any request.
const NEVER: u64 = 0;

#[derive(Debug)]
pub struct Pressure {
    in_flight: AtomicUsize,
    /// When a booking request last started or ended, in milliseconds since `epoch`, plus one.
    /// Only grows (`fetch_max`): a thread that read the clock earlier never moves it back.
    last_busy: AtomicU64,
    epoch: Instant,
}

impl Default for Pressure {
    fn default() -> Self {
        Self { in_flight: AtomicUsize::new(0), last_busy: AtomicU64::new(NEVER), epoch: Instant::now() }
    }
}

/// A booking request in progress; it counts until dropped (however the request ends).
#[must_use = "the request counts only while this is kept"]
pub struct Busy<'a>(&'a Pressure);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        // Seen busy until the count drops: a long request never looks like a pause.
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pressure {
    pub fn enter(&self) -> Busy<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.touch();
        Busy(self)
    }

    fn touch(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX).saturating_add(1);
        self.last_busy.fetch_max(now, Ordering::Relaxed);
    }

    /// No booking request in progress, and none for a moment (`CALM`).
    pub fn is_quiet(&self) -> bool {
        if self.in_flight.load(Ordering::Relaxed) != 0 {
            return false;
        }
        match self.last_busy.load(Ordering::Relaxed) {
            NEVER => true,
            last => {
                let since = self.epoch.elapsed().saturating_sub(Duration::from_millis(last.saturating_sub(1)));
                since >= CALM
            }
        }
    }

    /// Waits until no booking request has been in progress for a moment (`true`), or `at_most`
    /// (`false`): work that steps aside is delayed, never starved.
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
        let pause = Duration::from_millis(300) + CALM;
        assert!(waited >= pause && waited < pause + 2 * LOOK_AGAIN, "a pause, not a gap between requests: {waited:?}");
        assert!(paused && pressure.is_quiet());
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_counts_until_it_ends_however_it_ends() {
        let pressure = Pressure::default();
        let first = pressure.enter();
        let second = pressure.enter();
        drop(first);
        assert!(!pressure.is_quiet());
        drop(second);
        assert!(!pressure.is_quiet(), "just ended");
        tokio::time::advance(CALM).await;
        assert!(pressure.is_quiet());
    }

    #[tokio::test(start_paused = true)]
    async fn requests_one_after_another_are_no_pause() {
        let pressure = Pressure::default();
        let started = Instant::now();
        let (_, paused) = tokio::join!(
            async {
                // A request every 100 ms for two seconds, none in progress between them.
                for _ in 0..20 {
                    drop(pressure.enter());
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            pressure.quiet(Duration::from_secs(60)),
        );
        assert!(paused);
        assert!(started.elapsed() >= Duration::from_millis(1900) + CALM, "{:?}", started.elapsed());
    }
}
