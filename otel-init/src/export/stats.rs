//! Counting what was exported and what was lost, and saying so once when
//! losing starts and once when it stops (spec: performance.md).

use crate::config::Signal;
use crate::diag;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Counters of one signal's pipeline.
#[derive(Debug)]
pub(crate) struct SignalStats {
    signal: Signal,
    exported: AtomicU64,
    dropped_queue_full: AtomicU64,
    failed: AtomicU64,
    dropped_at_shutdown: AtomicU64,
    queue_full: AtomicBool,
    failing: AtomicBool,
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
    pub(crate) fn new(signal: Signal) -> Self {
        Self {
            signal,
            exported: AtomicU64::new(0),
            dropped_queue_full: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            dropped_at_shutdown: AtomicU64::new(0),
            queue_full: AtomicBool::new(false),
            failing: AtomicBool::new(false),
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

    /// `n` items found the queue full. Called on the application's thread:
    /// one relaxed add, one load.
    pub(crate) fn on_queue_full(&self, n: usize, capacity: usize) {
        self.dropped_queue_full
            .fetch_add(n as u64, Ordering::Relaxed);
        if !self.queue_full.load(Ordering::Relaxed) && !self.queue_full.swap(true, Ordering::AcqRel)
        {
            diag::warn(format_args!(
                "{} queue is full ({capacity}): dropping new {} until the exporter catches up",
                self.signal.env_name().to_ascii_lowercase(),
                self.signal.item_name()
            ));
        }
    }

    /// Called by the worker when the queue has room again.
    pub(crate) fn on_queue_room(&self) {
        if self.queue_full.swap(false, Ordering::AcqRel) {
            diag::warn(format_args!(
                "{} queue accepts again; {} {} dropped so far",
                self.signal.env_name().to_ascii_lowercase(),
                self.dropped_queue_full.load(Ordering::Relaxed),
                self.signal.item_name()
            ));
        }
    }

    pub(crate) fn on_exported(&self, n: usize) {
        self.exported.fetch_add(n as u64, Ordering::Relaxed);
        if self.failing.swap(false, Ordering::AcqRel) {
            diag::warn(format_args!(
                "{} export recovered; {} {} lost while it failed",
                self.signal.env_name().to_ascii_lowercase(),
                self.failed.load(Ordering::Relaxed),
                self.signal.item_name()
            ));
        }
    }

    pub(crate) fn on_failed(&self, n: usize, reason: &str) {
        self.failed.fetch_add(n as u64, Ordering::Relaxed);
        if !self.failing.swap(true, Ordering::AcqRel) {
            diag::warn(format_args!(
                "{} export failed, dropping {n} {}: {reason} (warning once until it recovers)",
                self.signal.env_name().to_ascii_lowercase(),
                self.signal.item_name()
            ));
        } else {
            diag::debug(format_args!(
                "{} export failed again, dropping {n} {}: {reason}",
                self.signal.env_name().to_ascii_lowercase(),
                self.signal.item_name()
            ));
        }
    }

    pub(crate) fn on_abandoned(&self, n: u64) {
        self.dropped_at_shutdown.fetch_add(n, Ordering::Relaxed);
    }
}
