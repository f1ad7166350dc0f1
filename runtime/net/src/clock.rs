//! The clock the sans-IO session is fed: Unix time that never steps back.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Unix time read once, then advanced by the monotonic clock: a wall-clock step (an NTP
/// correction, a user changing the time) never makes it go back. Drift from the server is
/// corrected by the session from the server's own messages.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    origin: Instant,
    origin_unix: Duration,
}

impl Clock {
    /// A clock starting at the current wall-clock time.
    pub(crate) fn new() -> Self {
        Self {
            origin: Instant::now(),
            origin_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO),
        }
    }

    /// Time since the Unix epoch, as the sans-IO crates take it.
    pub(crate) fn now(&self) -> Duration {
        self.origin_unix + self.origin.elapsed()
    }

    /// The tokio instant at which this clock will read `at`.
    pub(crate) fn instant_at(&self, at: Duration) -> Instant {
        self.origin + at.saturating_sub(self.origin_unix)
    }
}
