//! Counting what was exported and what was lost, and saying so when losing
//! starts and when it stops (spec: performance.md), at most once per kind of
//! message and signal per interval, each message with the counts since the
//! last one: a queue that fills and drains many times a second under
//! sustained load warns once a minute, not on every batch.

use crate::config::Signal;
use crate::diag;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counters of one signal's pipeline.
#[derive(Debug)]
pub(crate) struct SignalStats {
    signal: Signal,
    exported: AtomicU64,
    dropped_queue_full: AtomicU64,
    failed: AtomicU64,
    dropped_at_shutdown: AtomicU64,
    /// The queue is full: new items are dropped.
    queue_full: Trouble,
    /// Exports fail: batches are dropped.
    failing: Trouble,
    clock: Clock,
    /// Shutdown has begun: the guard's summary reports failures instead.
    closing: AtomicBool,
    #[cfg(test)]
    said: std::sync::Mutex<Vec<String>>,
}

/// Milliseconds since the stats were made; a test drives it by hand.
#[derive(Debug)]
enum Clock {
    Real(Instant),
    #[cfg(test)]
    Manual(std::sync::Arc<AtomicU64>),
}

impl Clock {
    fn now_ms(&self) -> u64 {
        match self {
            Clock::Real(epoch) => u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX),
            #[cfg(test)]
            Clock::Manual(ms) => ms.load(Ordering::Relaxed),
        }
    }
}

/// "Never printed" in [`Limiter::last_ms`].
const NEVER: u64 = u64::MAX;

/// Lets one message through per interval.
#[derive(Debug)]
struct Limiter {
    interval_ms: u64,
    last_ms: AtomicU64,
}

impl Limiter {
    fn new(interval: Duration) -> Self {
        Self {
            interval_ms: u64::try_from(interval.as_millis()).unwrap_or(u64::MAX),
            last_ms: AtomicU64::new(NEVER),
        }
    }

    /// Whether a message may be printed at `now_ms` (and, if so, records it).
    fn allow(&self, now_ms: u64) -> bool {
        let last = self.last_ms.load(Ordering::Relaxed);
        if last != NEVER && now_ms.saturating_sub(last) < self.interval_ms {
            return false;
        }
        self.last_ms
            .compare_exchange(last, now_ms, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }
}

/// One kind of trouble (a full queue, failing exports) and its two
/// messages, "started" and "over", each rate-limited on its own and each
/// counting what happened since the last message of its kind.
#[derive(Debug)]
struct Trouble {
    active: AtomicBool,
    /// An "over" message was held back by its limiter.
    over_pending: AtomicBool,
    started: Tally,
    over: Tally,
}

/// A message kind: its limiter and what it has not reported yet.
#[derive(Debug)]
struct Tally {
    limiter: Limiter,
    lost: AtomicU64,
    starts: AtomicU64,
}

/// What a due message reports: counts since the last message of its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Since {
    lost: u64,
    starts: u64,
}

impl Tally {
    fn new(interval: Duration) -> Self {
        Self {
            limiter: Limiter::new(interval),
            lost: AtomicU64::new(0),
            starts: AtomicU64::new(0),
        }
    }

    fn take(&self) -> Since {
        Since {
            lost: self.lost.swap(0, Ordering::Relaxed),
            starts: self.starts.swap(0, Ordering::Relaxed),
        }
    }
}

impl Trouble {
    fn new(interval: Duration) -> Self {
        Self {
            active: AtomicBool::new(false),
            over_pending: AtomicBool::new(false),
            started: Tally::new(interval),
            over: Tally::new(interval),
        }
    }

    /// `n` items lost to this trouble; `Some` when a "started" message is due.
    /// While the trouble lasts this is two relaxed adds and one load.
    fn lost(&self, n: u64, now: impl FnOnce() -> u64) -> Option<Since> {
        self.started.lost.fetch_add(n, Ordering::Relaxed);
        self.over.lost.fetch_add(n, Ordering::Relaxed);
        if self.active.load(Ordering::Relaxed) || self.active.swap(true, Ordering::AcqRel) {
            return None;
        }
        self.started.starts.fetch_add(1, Ordering::Relaxed);
        self.over.starts.fetch_add(1, Ordering::Relaxed);
        self.started
            .limiter
            .allow(now())
            .then(|| self.started.take())
    }

    /// The trouble is over (or still over); `Some` when an "over" message is
    /// due: now, or later for one its limiter held back.
    fn over(&self, now: impl FnOnce() -> u64) -> Option<Since> {
        let ended =
            self.active.load(Ordering::Relaxed) && self.active.swap(false, Ordering::AcqRel);
        if !ended && !self.over_pending.load(Ordering::Relaxed) {
            return None;
        }
        if self.over.limiter.allow(now()) {
            self.over_pending.store(false, Ordering::Relaxed);
            Some(self.over.take())
        } else {
            self.over_pending.store(true, Ordering::Relaxed);
            None
        }
    }
}

/// A snapshot of one signal's counters.
///
/// ```
/// let spans = otel_init::SignalReport {
///     exported: 980,
///     dropped_queue_full: 15,
///     failed: 5,
///     dropped_at_shutdown: 0,
/// };
/// assert_eq!(spans.lost(), 20);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignalReport {
    /// Items the collector accepted.
    pub exported: u64,
    /// Items dropped because the queue was full (the exporter could not keep up).
    pub dropped_queue_full: u64,
    /// Items lost because their export failed after every retry.
    pub failed: u64,
    /// Items still queued or in flight when shutdown's deadline passed.
    pub dropped_at_shutdown: u64,
}

impl SignalReport {
    /// Everything lost, for any reason.
    ///
    /// ```
    /// use otel_init::SignalReport;
    /// let report = SignalReport { exported: 10, failed: 2, dropped_at_shutdown: 1, ..SignalReport::default() };
    /// assert_eq!(report.lost(), 3);
    /// ```
    pub fn lost(&self) -> u64 {
        self.dropped_queue_full + self.failed + self.dropped_at_shutdown
    }
}

impl SignalStats {
    /// Counters with the default interval of one minute.
    #[cfg(test)]
    pub(crate) fn new(signal: Signal) -> Self {
        Self::with_interval(signal, Duration::from_secs(60))
    }

    /// Counters whose overload messages appear at most once per `interval` each.
    pub(crate) fn with_interval(signal: Signal, interval: Duration) -> Self {
        Self::with_clock(signal, interval, Clock::Real(Instant::now()))
    }

    fn with_clock(signal: Signal, interval: Duration, clock: Clock) -> Self {
        Self {
            signal,
            exported: AtomicU64::new(0),
            dropped_queue_full: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            dropped_at_shutdown: AtomicU64::new(0),
            queue_full: Trouble::new(interval),
            failing: Trouble::new(interval),
            clock,
            closing: AtomicBool::new(false),
            #[cfg(test)]
            said: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn report(&self) -> SignalReport {
        SignalReport {
            exported: self.exported.load(Ordering::Relaxed),
            dropped_queue_full: self.dropped_queue_full.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped_at_shutdown: self.dropped_at_shutdown.load(Ordering::Relaxed),
        }
    }

    fn name(&self) -> String {
        self.signal.env_name().to_ascii_lowercase()
    }

    fn warn(&self, msg: std::fmt::Arguments<'_>) {
        #[cfg(test)]
        if let Ok(mut said) = self.said.lock() {
            said.push(msg.to_string());
        }
        diag::warn(msg);
    }

    /// " (3 times)" when the trouble started more than once since the last message.
    fn times(starts: u64) -> String {
        if starts > 1 {
            format!(" ({starts} times)")
        } else {
            String::new()
        }
    }

    /// `n` items found the queue full. Called on the application's thread:
    /// while the queue stays full, three relaxed adds and one load.
    pub(crate) fn on_queue_full(&self, n: usize, capacity: usize) {
        let n = n as u64;
        self.dropped_queue_full.fetch_add(n, Ordering::Relaxed);
        if let Some(since) = self.queue_full.lost(n, || self.clock.now_ms()) {
            self.warn(format_args!(
                "{} queue is full ({capacity}): dropping new {} until the exporter catches up; \
                 {} dropped since the last such message{}, {} in all",
                self.name(),
                self.signal.item_name(),
                since.lost,
                Self::times(since.starts),
                self.dropped_queue_full.load(Ordering::Relaxed),
            ));
        }
    }

    /// Called by the worker after an export while the queue has room.
    pub(crate) fn on_queue_room(&self) {
        if let Some(since) = self.queue_full.over(|| self.clock.now_ms()) {
            self.warn(format_args!(
                "{} queue accepts again; {} {} dropped since the last such message \
                 (the queue filled up {} time{} since), {} in all",
                self.name(),
                since.lost,
                self.signal.item_name(),
                since.starts,
                if since.starts == 1 { "" } else { "s" },
                self.dropped_queue_full.load(Ordering::Relaxed),
            ));
        }
    }

    pub(crate) fn on_exported(&self, n: usize) {
        self.exported.fetch_add(n as u64, Ordering::Relaxed);
        if let Some(since) = self.failing.over(|| self.clock.now_ms()) {
            self.warn(format_args!(
                "{} export recovered; {} {} lost since the last such message \
                 (exports started failing {} time{} since), {} in all",
                self.name(),
                since.lost,
                self.signal.item_name(),
                since.starts,
                if since.starts == 1 { "" } else { "s" },
                self.failed.load(Ordering::Relaxed),
            ));
        }
    }

    /// Shutdown has begun: failures are left to the guard's summary.
    pub(crate) fn closing(&self) {
        self.closing.store(true, Ordering::Relaxed);
    }

    pub(crate) fn on_failed(&self, n: usize, reason: &str) {
        self.failed.fetch_add(n as u64, Ordering::Relaxed);
        if self.closing.load(Ordering::Relaxed) {
            diag::debug(format_args!(
                "{} export failed at shutdown, dropping {n} {}: {reason}",
                self.name(),
                self.signal.item_name()
            ));
            return;
        }
        match self.failing.lost(n as u64, || self.clock.now_ms()) {
            Some(since) => self.warn(format_args!(
                "{} export failed, dropping {n} {}: {reason}; {} lost since the last such message{} \
                 (at most one such message per {:?})",
                self.name(),
                self.signal.item_name(),
                since.lost,
                Self::times(since.starts),
                Duration::from_millis(self.failing.started.limiter.interval_ms),
            )),
            None => diag::debug(format_args!(
                "{} export failed again, dropping {n} {}: {reason}",
                self.name(),
                self.signal.item_name()
            )),
        }
    }

    pub(crate) fn on_abandoned(&self, n: u64) {
        self.dropped_at_shutdown.fetch_add(n, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Stats with a hand-driven clock (milliseconds) and a one-minute interval.
    fn stats() -> (SignalStats, Arc<AtomicU64>) {
        let ms = Arc::new(AtomicU64::new(0));
        let stats = SignalStats::with_clock(
            Signal::Traces,
            Duration::from_secs(60),
            Clock::Manual(ms.clone()),
        );
        (stats, ms)
    }

    fn said(stats: &SignalStats) -> Vec<String> {
        std::mem::take(&mut *stats.said.lock().expect("lock"))
    }

    #[test]
    fn a_flapping_queue_says_dropping_and_recovered_once_a_minute_with_counts() {
        let (stats, ms) = stats();
        // Ten minutes of a queue that fills and drains every 100 ms,
        // dropping 5 spans each time.
        for tick in 0..6_000u64 {
            ms.store(tick * 100, Ordering::Relaxed);
            stats.on_queue_full(5, 2048);
            stats.on_queue_full(5, 2048);
            ms.store(tick * 100 + 50, Ordering::Relaxed);
            stats.on_queue_room();
        }
        let lines = said(&stats);
        let dropping: Vec<_> = lines
            .iter()
            .filter(|l| l.contains("queue is full"))
            .collect();
        let recovered: Vec<_> = lines
            .iter()
            .filter(|l| l.contains("accepts again"))
            .collect();
        assert_eq!(dropping.len(), 10, "{lines:#?}");
        assert_eq!(recovered.len(), 10, "{lines:#?}");
        // The first pair at once, with the first episode's counts.
        assert_eq!(
            lines[0],
            "traces queue is full (2048): dropping new spans until the exporter catches up; \
             5 dropped since the last such message, 5 in all"
        );
        assert_eq!(
            lines[1],
            "traces queue accepts again; 10 spans dropped since the last such message \
             (the queue filled up 1 time since), 10 in all"
        );
        // A minute later: everything dropped in between is counted.
        assert_eq!(
            lines[2],
            "traces queue is full (2048): dropping new spans until the exporter catches up; \
             6000 dropped since the last such message (600 times), 6005 in all"
        );
        let total: u64 = 6_000 * 10;
        assert_eq!(stats.report().dropped_queue_full, total);
    }

    #[test]
    fn a_held_back_recovery_is_said_on_a_later_export_once_the_interval_passed() {
        let (stats, ms) = stats();
        stats.on_queue_full(3, 8);
        stats.on_queue_room();
        ms.store(1_000, Ordering::Relaxed);
        stats.on_queue_full(4, 8); // held back: a "dropping" message 1 s ago
        ms.store(2_000, Ordering::Relaxed);
        stats.on_queue_room(); // held back: a "recovered" message 2 s ago
        assert_eq!(said(&stats).len(), 2);
        ms.store(30_000, Ordering::Relaxed);
        stats.on_queue_room();
        assert!(said(&stats).is_empty(), "still within the minute");
        ms.store(62_000, Ordering::Relaxed);
        stats.on_queue_room(); // the next export after the minute
        assert_eq!(
            said(&stats),
            [
                "traces queue accepts again; 4 spans dropped since the last such message \
              (the queue filled up 1 time since), 7 in all"
            ]
        );
        ms.store(200_000, Ordering::Relaxed);
        stats.on_queue_room();
        assert!(said(&stats).is_empty(), "said once");
    }

    #[test]
    fn export_failures_are_limited_the_same_way() {
        let (stats, ms) = stats();
        for second in 0..120u64 {
            ms.store(second * 1_000, Ordering::Relaxed);
            stats.on_failed(2, "connection refused");
            stats.on_exported(1);
        }
        let lines = said(&stats);
        assert_eq!(
            lines.iter().filter(|l| l.contains("export failed")).count(),
            2,
            "{lines:#?}"
        );
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains("export recovered"))
                .count(),
            2,
            "{lines:#?}"
        );
        assert!(
            lines[2].starts_with(
                "traces export failed, dropping 2 spans: connection refused; \
                 120 lost since the last such message (60 times)"
            ),
            "{lines:#?}"
        );
        assert_eq!(stats.report().failed, 240);
    }

    #[test]
    fn the_interval_is_configurable() {
        let ms = Arc::new(AtomicU64::new(0));
        let stats = SignalStats::with_clock(
            Signal::Logs,
            Duration::from_secs(1),
            Clock::Manual(ms.clone()),
        );
        for tick in 0..10u64 {
            ms.store(tick * 500, Ordering::Relaxed);
            stats.on_queue_full(1, 4);
            stats.on_queue_room();
        }
        let lines = said(&stats);
        // Every second, not every minute: at 0, 1, 2, 3 and 4 s.
        assert_eq!(
            lines.iter().filter(|l| l.contains("log records")).count(),
            10,
            "{lines:#?}"
        );
    }
}
