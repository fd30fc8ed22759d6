//! The batch size, chosen from measured speed: one submission must stay well
//! under the time after which a driver's watchdog resets the GPU (about 2 s
//! on Windows, less on some mobile drivers), on whatever adapter runs.
//!
//! The first submission holds one window; each finished submission's time
//! (from queueing to its results being readable, so including any wait
//! behind the batch before it: an overestimate) gives a time per window,
//! and the next batch is as large as fits in half of [`SAFE_MS`], at most
//! twice the present one, at least one window, and never more than the
//! binding limit allows.

/// The longest one submission should take, in milliseconds.
pub const SAFE_MS: f64 = 250.0;

#[derive(Debug, Clone)]
pub struct Tuner {
    batch: usize,
    /// The size of the last submission measured.
    last: Option<usize>,
    /// The bound, [`SAFE_MS`] unless a test sets another.
    safe_ms: f64,
}

impl Default for Tuner {
    fn default() -> Self {
        Self::new()
    }
}

impl Tuner {
    pub fn new() -> Tuner {
        Tuner {
            batch: 1,
            last: None,
            safe_ms: SAFE_MS,
        }
    }

    /// Another bound than [`SAFE_MS`] (tests: a huge one makes the growth
    /// independent of the machine's speed, a tiny one keeps batch 1).
    pub fn set_bound_ms(&mut self, ms: f64) {
        self.safe_ms = ms;
    }

    /// The size of the last submission measured (`None` before any).
    pub fn last(&self) -> Option<usize> {
        self.last
    }

    /// The batch size to submit next.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// A submission of `n` windows took `ms`; `cap` is the largest batch the
    /// bindings allow.
    pub fn record(&mut self, n: usize, ms: f64, cap: usize) {
        if n == 0 {
            return;
        }
        self.last = Some(n);
        let per_window = (ms / n as f64).max(1e-3);
        let fits = (self.safe_ms / 2.0 / per_window).floor();
        let fits = if fits >= 1.0 {
            fits.min(usize::MAX as f64) as usize
        } else {
            1
        };
        // Grow only on a full batch's measure (a short last batch pays the
        // fixed costs over fewer windows).
        let most = if n >= self.batch {
            2 * self.batch
        } else {
            self.batch
        };
        self.batch = fits.min(most).min(cap).max(1);
    }
}

/// Milliseconds from an arbitrary origin (`performance`-free in the browser:
/// `Date.now()`, millisecond resolution, enough against a 250 ms bound).
pub fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        ORIGIN
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_secs_f64()
            * 1e3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_by_doubling_while_fast_and_shrinks_at_once_when_slow() {
        let mut t = Tuner::new();
        assert_eq!(t.batch(), 1);
        // 1 ms per window: doubles each time up to the cap.
        for want in [2, 4, 8, 16, 32, 64, 100, 100] {
            let b = t.batch();
            t.record(b, b as f64, 100);
            assert_eq!(t.batch(), want);
        }
        // Now 20 ms per window: 125 ms / 20 = 6.
        t.record(100, 2000.0, 100);
        assert_eq!(t.batch(), 6);
        // A software adapter: 1 s per window never goes above 1.
        t.record(6, 6000.0, 100);
        assert_eq!(t.batch(), 1);
        t.record(1, 1000.0, 100);
        assert_eq!(t.batch(), 1);
        // A short batch's measure does not grow it.
        let mut t = Tuner::new();
        for _ in 0..3 {
            let b = t.batch();
            t.record(b, 0.1, 1000);
        }
        assert_eq!(t.batch(), 8);
        t.record(3, 0.1, 1000);
        assert_eq!(t.batch(), 8);
        // Every batch is within the slowest measure's safe bound.
        let mut t = Tuner::new();
        for _ in 0..20 {
            let b = t.batch();
            t.record(b, 7.0 * b as f64, 1 << 20);
            assert!(7.0 * t.batch() as f64 <= SAFE_MS / 2.0 || t.batch() == 1);
        }
        assert_eq!(t.batch(), 17);
    }
}
