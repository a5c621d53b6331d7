//! Adaptive sampling: when the recent error rate of the service's requests
//! passes a threshold, more traces are kept (up to all of them), and the rate
//! falls back when errors recover.

use super::probability::with_threshold;
use super::ratio::RatioSampler;
use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, ShouldSample};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// When to raise the sampling rate, and how far.
///
/// The error rate is measured over local root spans (a service's incoming
/// requests and jobs) whose status is `Error` (5xx for servers), over the
/// last one to two `window`s. Between `threshold` and `full_at` the extra
/// ratio grows linearly; at `full_at` and above every trace is kept.
///
/// ```
/// use otel_init::sampling::Adaptive;
/// use std::time::Duration;
/// // The source documents' policy: error rate above 10% -> sample 100%.
/// let adaptive = Adaptive::above(0.1).window(Duration::from_secs(10));
/// assert_eq!(adaptive.boost_for(0.05), 0.0);
/// assert_eq!(adaptive.boost_for(0.11), 1.0);
/// let ramp = Adaptive::above(0.1).full_at(0.3);
/// assert!((ramp.boost_for(0.2) - 0.5).abs() < 1e-9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adaptive {
    threshold: f64,
    full_at: f64,
    window: Duration,
    min_requests: u64,
}

impl Adaptive {
    /// Keep every trace while the error rate is above `threshold` (0..1).
    ///
    /// ```
    /// use otel_init::sampling::Adaptive;
    /// let adaptive = Adaptive::above(0.05);
    /// assert_eq!(adaptive.boost_for(0.05), 0.0); // at the threshold: no boost yet
    /// assert_eq!(adaptive.boost_for(0.06), 1.0); // above it: every trace
    /// assert_eq!(Adaptive::above(1.5).threshold(), 1.0); // clamped to 0..=1
    /// ```
    pub fn above(threshold: f64) -> Self {
        let threshold = if threshold.is_nan() {
            1.0
        } else {
            threshold.clamp(0.0, 1.0)
        };
        Self {
            threshold,
            full_at: threshold,
            window: Duration::from_secs(10),
            min_requests: 20,
        }
    }

    /// Ramp the extra ratio from 0 at the threshold to 1 at `error_rate`.
    ///
    /// ```
    /// use otel_init::sampling::Adaptive;
    /// let ramp = Adaptive::above(0.1).full_at(0.5);
    /// assert!((ramp.boost_for(0.3) - 0.5).abs() < 1e-9); // half way up the ramp
    /// assert_eq!(ramp.boost_for(0.6), 1.0);
    /// ```
    pub fn full_at(mut self, error_rate: f64) -> Self {
        if error_rate.is_finite() {
            self.full_at = error_rate.clamp(self.threshold, 1.0);
        }
        self
    }

    /// How long one measurement window lasts (default 10 s).
    ///
    /// ```
    /// use otel_init::sampling::Adaptive;
    /// use std::time::Duration;
    /// let config = otel_init::Config::from_source(&[
    ///     ("OTEL_INIT_ADAPTIVE_ERROR_RATE", "0.1"),
    ///     ("OTEL_INIT_ADAPTIVE_WINDOW_MS", "30000"),
    /// ]);
    /// assert_eq!(
    ///     config.adaptive_sampling,
    ///     Some(Adaptive::above(0.1).window(Duration::from_secs(30)))
    /// );
    /// ```
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window.max(Duration::from_millis(1));
        self
    }

    /// Requests needed in the measured windows before the rate counts (default 20),
    /// so that one failure among three requests does not open the gates.
    ///
    /// ```
    /// use otel_init::sampling::Adaptive;
    /// let config = otel_init::Config::from_source(&[
    ///     ("OTEL_INIT_ADAPTIVE_ERROR_RATE", "0.1"),
    ///     ("OTEL_INIT_ADAPTIVE_MIN_REQUESTS", "100"),
    /// ]);
    /// assert_eq!(config.adaptive_sampling, Some(Adaptive::above(0.1).min_requests(100)));
    /// ```
    pub fn min_requests(mut self, n: u64) -> Self {
        self.min_requests = n.max(1);
        self
    }

    /// The error-rate threshold.
    ///
    /// ```
    /// assert_eq!(otel_init::sampling::Adaptive::above(0.2).full_at(0.4).threshold(), 0.2);
    /// ```
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The extra ratio kept at `error_rate`.
    ///
    /// ```
    /// use otel_init::sampling::Adaptive;
    /// let ramp = Adaptive::above(0.2).full_at(0.4);
    /// assert_eq!(ramp.boost_for(0.1), 0.0);
    /// assert!((ramp.boost_for(0.25) - 0.25).abs() < 1e-9);
    /// assert_eq!(ramp.boost_for(0.9), 1.0);
    /// ```
    pub fn boost_for(&self, error_rate: f64) -> f64 {
        if error_rate <= self.threshold {
            0.0
        } else if error_rate >= self.full_at || self.full_at <= self.threshold {
            1.0
        } else {
            (error_rate - self.threshold) / (self.full_at - self.threshold)
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    total: u64,
    errors: u64,
}

#[derive(Debug)]
struct Windows {
    started: Instant,
    current: Counts,
    previous: Counts,
}

/// The recent error rate, fed by the span processor with each local root
/// span's outcome and read by the sampler with one atomic load.
#[derive(Debug)]
pub(crate) struct ErrorRate {
    config: Adaptive,
    windows: Mutex<Windows>,
    /// The current extra ratio, as f64 bits.
    boost: AtomicU64,
    /// When the windows `boost` was computed from are both over, in
    /// nanoseconds since `origin`: read later (no request has ended since),
    /// the boost is stale and counts as none.
    boost_expires: AtomicU64,
    origin: Instant,
}

impl ErrorRate {
    pub(crate) fn new(config: Adaptive) -> Self {
        let origin = Instant::now();
        Self {
            config,
            windows: Mutex::new(Windows {
                started: origin,
                current: Counts::default(),
                previous: Counts::default(),
            }),
            boost: AtomicU64::new(0f64.to_bits()),
            boost_expires: AtomicU64::new(0),
            origin,
        }
    }

    fn nanos_since_origin(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX)
    }

    pub(crate) fn record(&self, error: bool) {
        self.record_at(error, Instant::now());
    }

    pub(crate) fn record_at(&self, error: bool, now: Instant) {
        let Ok(mut w) = self.windows.lock() else {
            return;
        };
        let elapsed = now.saturating_duration_since(w.started);
        if elapsed >= self.config.window {
            // A whole window or more passed: roll once, or twice if idle that long.
            w.previous = if elapsed >= self.config.window * 2 {
                Counts::default()
            } else {
                w.current
            };
            w.current = Counts::default();
            w.started = now;
        }
        w.current.total += 1;
        w.current.errors += u64::from(error);
        let total = w.current.total + w.previous.total;
        let errors = w.current.errors + w.previous.errors;
        let boost = if total < self.config.min_requests {
            0.0
        } else {
            self.config.boost_for(errors as f64 / total as f64)
        };
        let expires = self.nanos_since_origin(w.started + self.config.window * 2);
        self.boost_expires.store(expires, Ordering::Relaxed);
        self.boost.store(boost.to_bits(), Ordering::Relaxed);
    }

    /// The extra ratio to keep now.
    pub(crate) fn boost(&self) -> f64 {
        let boost = f64::from_bits(self.boost.load(Ordering::Relaxed));
        // The clock is read only while a boost is on.
        if boost > 0.0 {
            self.boost_at(Instant::now())
        } else {
            boost
        }
    }

    /// The extra ratio to keep at `now`: none once the windows it was
    /// measured over are over, even if no request has ended since (after an
    /// idle period, the first requests are not kept on an old error rate).
    pub(crate) fn boost_at(&self, now: Instant) -> f64 {
        let boost = f64::from_bits(self.boost.load(Ordering::Relaxed));
        if self.nanos_since_origin(now) >= self.boost_expires.load(Ordering::Relaxed) {
            0.0
        } else {
            boost
        }
    }
}

/// Wraps the base sampler: a trace the base drops is still kept with the
/// current extra ratio (consistently, from the trace id).
#[derive(Debug, Clone)]
pub(crate) struct AdaptiveSampler {
    pub(crate) base: Box<dyn ShouldSample>,
    pub(crate) rate: Arc<ErrorRate>,
}

impl ShouldSample for AdaptiveSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let mut result =
            self.base
                .should_sample(parent_context, trace_id, name, span_kind, attributes, links);
        if result.decision != SamplingDecision::RecordAndSample && is_new_local_root(parent_context)
        {
            let boost = self.rate.boost();
            if boost > 0.0
                && let Some(t) = RatioSampler::new(boost).decide(trace_id, &result.trace_state)
            {
                result.decision = SamplingDecision::RecordAndSample;
                result.trace_state = with_threshold(&result.trace_state, Some(t));
            }
        }
        result
    }
}

/// True when the span has no parent in this process: it starts the trace or
/// continues a remote caller's.
pub(crate) fn is_new_local_root(parent_context: Option<&Context>) -> bool {
    use opentelemetry::trace::TraceContextExt;
    match parent_context {
        Some(cx) => {
            let span = cx.span();
            let sc = span.span_context();
            !sc.is_valid() || sc.is_remote()
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boost_rises_with_errors_and_falls_back() {
        let rate = ErrorRate::new(
            Adaptive::above(0.1)
                .window(Duration::from_secs(10))
                .min_requests(10),
        );
        let t0 = Instant::now();
        // 100 requests, 2% errors: no boost.
        for i in 0..100 {
            rate.record_at(i % 50 == 0, t0);
        }
        assert_eq!(rate.boost(), 0.0);
        // Next window: 30% errors -> combined > 10% -> everything kept.
        let t1 = t0 + Duration::from_secs(11);
        for i in 0..100 {
            rate.record_at(i % 3 == 0, t1);
        }
        assert_eq!(rate.boost_at(t1), 1.0);
        // Idle: the boost holds while its windows count, then lapses without
        // any request having ended.
        assert_eq!(rate.boost_at(t1 + Duration::from_secs(19)), 1.0);
        assert_eq!(rate.boost_at(t1 + Duration::from_secs(21)), 0.0);
        // Errors stop: after one window the previous (bad) window still counts...
        let t2 = t1 + Duration::from_secs(11);
        for _ in 0..100 {
            rate.record_at(false, t2);
        }
        assert_eq!(rate.boost_at(t2), 1.0, "34/200 errors is still above 10%");
        // ...after two, it is gone.
        let t3 = t2 + Duration::from_secs(11);
        for _ in 0..100 {
            rate.record_at(false, t3);
        }
        assert_eq!(rate.boost(), 0.0);
    }

    #[test]
    fn too_few_requests_do_not_count() {
        let rate = ErrorRate::new(Adaptive::above(0.1).min_requests(20));
        let now = Instant::now();
        for _ in 0..19 {
            rate.record_at(true, now);
        }
        assert_eq!(rate.boost(), 0.0);
        rate.record_at(true, now);
        assert_eq!(rate.boost(), 1.0);
    }
}
