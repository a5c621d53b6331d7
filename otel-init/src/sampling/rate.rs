//! A lock-free rate limiter (the generic cell rate algorithm, equivalent to a
//! token bucket) and the sampler built on it: at most N traces per second.

use opentelemetry::trace::{Link, SpanKind, TraceContextExt, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, ShouldSample};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Admits at most `per_second` events per second on average, and at most
/// `burst` at once after a quiet period. One atomic compare-and-swap per
/// call; never blocks, never allocates.
///
/// ```
/// use otel_init::sampling::RateLimiter;
/// // One per 1000 s on average, 10 at once: a tight loop gets exactly the burst.
/// let limiter = RateLimiter::new(0.001, 10.0);
/// let admitted = (0..1_000).filter(|_| limiter.try_acquire()).count();
/// assert_eq!(admitted, 10);
/// ```
#[derive(Debug)]
pub struct RateLimiter {
    /// Nanoseconds between two admissions at the steady rate.
    interval_ns: u64,
    /// How far ahead of now the schedule may run: the burst.
    tolerance_ns: u64,
    /// The theoretical arrival time of the next admission, in ns since `epoch`.
    next_ns: AtomicU64,
    epoch: Instant,
}

impl RateLimiter {
    /// `per_second` admissions per second (0 admits nothing), bursts of up to
    /// `burst` (at least 1).
    ///
    /// ```
    /// use otel_init::sampling::RateLimiter;
    /// assert!(!RateLimiter::new(0.0, 5.0).try_acquire()); // a rate of 0 admits nothing
    /// let limiter = RateLimiter::new(0.001, 3.0); // refills one per 1000 s
    /// assert_eq!((0..10).filter(|_| limiter.try_acquire()).count(), 3);
    /// ```
    pub fn new(per_second: f64, burst: f64) -> Self {
        let interval_ns = if per_second.is_finite() && per_second > 0.0 {
            (1e9 / per_second).max(1.0) as u64
        } else {
            u64::MAX
        };
        let burst = if burst.is_finite() {
            burst.max(1.0)
        } else {
            1.0
        };
        let tolerance_ns = ((burst - 1.0) * interval_ns as f64).min(u64::MAX as f64 / 2.0) as u64;
        Self {
            interval_ns,
            tolerance_ns,
            next_ns: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// Takes one admission if available now.
    ///
    /// ```
    /// let limiter = otel_init::sampling::RateLimiter::new(0.001, 1.0);
    /// assert!(limiter.try_acquire());
    /// assert!(!limiter.try_acquire()); // the next admission is 1000 s away
    /// ```
    pub fn try_acquire(&self) -> bool {
        let now = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.try_acquire_at(now)
    }

    /// [`try_acquire`](Self::try_acquire) at `now` ns after creation (tests use a fake clock).
    pub(crate) fn try_acquire_at(&self, now: u64) -> bool {
        if self.interval_ns == u64::MAX {
            return false;
        }
        let mut next = self.next_ns.load(Ordering::Relaxed);
        loop {
            let start = next.max(now);
            if start - now > self.tolerance_ns {
                return false;
            }
            let after = start.saturating_add(self.interval_ns);
            match self.next_ns.compare_exchange_weak(
                next,
                after,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(seen) => next = seen,
            }
        }
    }
}

/// Samples at most N new traces per second (a root sampler: wrap it in
/// [`ParentBased`](super::ParentBased) to keep traces whole).
///
/// Sampled spans carry no `ot=th` threshold: a rate is not a probability, so
/// downstream consistent samplers must not extrapolate counts from it.
///
/// ```
/// use otel_init::opentelemetry::trace::{SpanKind, TraceId};
/// use otel_init::opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};
/// use otel_init::sampling::{ParentBased, RateLimitingSampler};
/// let sampler = RateLimitingSampler::with_burst(0.001, 1.0); // one now, the next in 1000 s
/// let decide = || sampler.should_sample(None, TraceId::from(1u128), "GET /", &SpanKind::Server, &[], &[]);
/// let first = decide();
/// assert_eq!(first.decision, SamplingDecision::RecordAndSample);
/// assert_eq!(first.trace_state.get("ot"), None); // no probability to extrapolate from
/// assert_eq!(decide().decision, SamplingDecision::Drop);
/// // As configured by OTEL_TRACES_SAMPLER=parentbased_ratelimited:
/// let whole_traces = ParentBased::new(RateLimitingSampler::new(100.0));
/// # let _ = whole_traces;
/// ```
#[derive(Debug, Clone)]
pub struct RateLimitingSampler {
    limiter: Arc<RateLimiter>,
    per_second: f64,
}

impl RateLimitingSampler {
    /// At most `per_second` traces per second, with a burst of
    /// `max(1, per_second)` after a quiet period.
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::{SpanKind, TraceId};
    /// use otel_init::opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};
    /// use otel_init::sampling::RateLimitingSampler;
    /// let sampler = RateLimitingSampler::new(0.5); // one trace per 2 s, burst of 1
    /// let decide = || sampler.should_sample(None, TraceId::from(1u128), "job", &SpanKind::Internal, &[], &[]);
    /// assert_eq!(decide().decision, SamplingDecision::RecordAndSample);
    /// assert_eq!(decide().decision, SamplingDecision::Drop);
    /// ```
    pub fn new(per_second: f64) -> Self {
        Self::with_burst(per_second, per_second.max(1.0))
    }

    /// At most `per_second` traces per second and `burst` at once.
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::{SpanKind, TraceId};
    /// use otel_init::opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};
    /// use otel_init::sampling::RateLimitingSampler;
    /// let sampler = RateLimitingSampler::with_burst(0.001, 2.0);
    /// let kept = (0..5)
    ///     .map(|_| sampler.should_sample(None, TraceId::from(1u128), "job", &SpanKind::Internal, &[], &[]))
    ///     .filter(|r| r.decision == SamplingDecision::RecordAndSample)
    ///     .count();
    /// assert_eq!(kept, 2);
    /// ```
    pub fn with_burst(per_second: f64, burst: f64) -> Self {
        Self {
            limiter: Arc::new(RateLimiter::new(per_second, burst)),
            per_second,
        }
    }

    /// The configured rate.
    ///
    /// ```
    /// assert_eq!(otel_init::sampling::RateLimitingSampler::new(100.0).per_second(), 100.0);
    /// ```
    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    pub(crate) fn admit(&self) -> bool {
        self.limiter.try_acquire()
    }
}

impl ShouldSample for RateLimitingSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        _trace_id: TraceId,
        _name: &str,
        _span_kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let trace_state = parent_trace_state(parent_context);
        if self.admit() {
            SamplingResult {
                decision: SamplingDecision::RecordAndSample,
                attributes: Vec::new(),
                trace_state: super::probability::with_threshold(&trace_state, None),
            }
        } else {
            SamplingResult {
                decision: SamplingDecision::Drop,
                attributes: Vec::new(),
                trace_state,
            }
        }
    }
}

/// The parent span's trace state, or the empty one.
pub(crate) fn parent_trace_state(parent_context: Option<&Context>) -> TraceState {
    match parent_context {
        Some(cx) if cx.has_active_span() => cx.span().span_context().trace_state().clone(),
        _ => TraceState::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_rate_and_burst_on_a_fake_clock() {
        let l = RateLimiter::new(10.0, 3.0); // one per 100 ms, 3 at once
        assert!(l.try_acquire_at(0));
        assert!(l.try_acquire_at(0));
        assert!(l.try_acquire_at(0));
        assert!(!l.try_acquire_at(0), "burst exhausted");
        assert!(!l.try_acquire_at(50_000_000));
        assert!(l.try_acquire_at(100_000_000), "one refilled after 100 ms");
        assert!(!l.try_acquire_at(100_000_000));
        // After a long pause, no more than the burst at once.
        let later = 10_000_000_000;
        let n = (0..10).filter(|_| l.try_acquire_at(later)).count();
        assert_eq!(n, 3);
    }

    #[test]
    fn zero_rate_admits_nothing_and_bad_input_does_not_panic() {
        assert!(!RateLimiter::new(0.0, 5.0).try_acquire());
        assert!(!RateLimiter::new(f64::NAN, f64::NAN).try_acquire());
        assert!(!RateLimiter::new(-3.0, 1.0).try_acquire());
        let huge = RateLimiter::new(1e30, 1e30);
        assert!(huge.try_acquire());
    }
}
