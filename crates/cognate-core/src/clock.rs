//! Time is injected so that code expiry, token lifetimes and lockouts are testable.
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64;
    fn now_secs(&self) -> i64 {
        self.now_millis().div_euclid(1000)
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the real implementation of the injected clock
    fn now_millis(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to; for tests of expiry.
#[derive(Debug)]
pub struct ManualClock {
    millis: AtomicI64,
}

impl ManualClock {
    pub fn new(start_epoch_millis: i64) -> Arc<Self> {
        Arc::new(Self {
            millis: AtomicI64::new(start_epoch_millis),
        })
    }

    /// A manual clock starting at the current wall-clock time.
    pub fn starting_now() -> Arc<Self> {
        Self::new(SystemClock.now_millis())
    }

    pub fn advance(&self, by: Duration) {
        self.millis.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }

    pub fn set(&self, epoch_millis: i64) {
        self.millis.store(epoch_millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.millis.load(Ordering::SeqCst)
    }
}
