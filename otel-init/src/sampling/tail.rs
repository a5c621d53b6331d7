//! Tail decisions within the process: the spans of a local trace fragment are
//! held until its local root ends, then the whole fragment is kept if any span
//! failed, if the root was slow, or if the head sampler chose it; otherwise it
//! is dropped. Memory is bounded and what is dropped is counted.

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, Status, TraceId};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::adaptive::ErrorRate;

/// Settings of in-process tail sampling.
///
/// ```
/// use otel_init::sampling::TailSampling;
/// use std::time::Duration;
/// // The shop's policy: every error and every request slower than 5 s.
/// let tail = TailSampling::new().keep_slower_than(Duration::from_secs(5));
/// assert!(tail.keeps_errors());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TailSampling {
    keep_errors: bool,
    slower_than: Option<Duration>,
    max_traces: usize,
    max_spans: usize,
    max_spans_per_trace: usize,
    max_hold: Duration,
}

impl Default for TailSampling {
    fn default() -> Self {
        Self::new()
    }
}

impl TailSampling {
    /// Keep errors; no latency rule; at most 10 000 traces and 100 000 spans
    /// held, 1 000 spans per trace, each for at most 30 s.
    ///
    /// ```
    /// use otel_init::sampling::TailSampling;
    /// let tail = TailSampling::new();
    /// assert!(tail.keeps_errors());
    /// assert_eq!(tail.slower_than(), None);
    /// assert_eq!(tail, TailSampling::default());
    /// ```
    pub fn new() -> Self {
        Self {
            keep_errors: true,
            slower_than: None,
            max_traces: 10_000,
            max_spans: 100_000,
            max_spans_per_trace: 1_000,
            max_hold: Duration::from_secs(30),
        }
    }

    /// Keep fragments with any span whose status is `Error` (default: yes).
    ///
    /// ```
    /// use otel_init::sampling::TailSampling;
    /// use std::time::Duration;
    /// // Only the latency rule: failed fast requests are left to the head sampler.
    /// let slow_only = TailSampling::new().keep_errors(false).keep_slower_than(Duration::from_secs(1));
    /// assert!(!slow_only.keeps_errors());
    /// ```
    pub fn keep_errors(mut self, keep: bool) -> Self {
        self.keep_errors = keep;
        self
    }

    /// Whether fragments with an error are kept.
    ///
    /// ```
    /// assert!(otel_init::sampling::TailSampling::new().keeps_errors());
    /// ```
    pub fn keeps_errors(&self) -> bool {
        self.keep_errors
    }

    /// Keep fragments whose local root took `threshold` or longer.
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
    /// use otel_init::sampling::TailSampling;
    /// use std::time::{Duration, SystemTime};
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_SAMPLER", "always_off"), // the head sampler keeps nothing
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .tail_sampling(TailSampling::new().keep_slower_than(Duration::from_secs(2)))
    /// .without_globals()
    /// .build()?;
    /// let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
    /// let end = SystemTime::now();
    /// let mut slow = tracer.span_builder("GET /report").with_start_time(end - Duration::from_secs(3)).start(&tracer);
    /// slow.end_with_timestamp(end);
    /// let mut fast = tracer.span_builder("GET /cart").with_start_time(end - Duration::from_millis(20)).start(&tracer);
    /// fast.end_with_timestamp(end);
    /// let report = telemetry.tail_sampling_report().expect("tail sampling is on");
    /// assert_eq!((report.kept_slow, report.dropped), (1, 1));
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn keep_slower_than(mut self, threshold: Duration) -> Self {
        self.slower_than = Some(threshold);
        self
    }

    /// The latency rule, if any.
    ///
    /// ```
    /// use otel_init::sampling::TailSampling;
    /// use std::time::Duration;
    /// let tail = TailSampling::new().keep_slower_than(Duration::from_millis(500));
    /// assert_eq!(tail.slower_than(), Some(Duration::from_millis(500)));
    /// ```
    pub fn slower_than(&self) -> Option<Duration> {
        self.slower_than
    }

    /// At most `n` fragments waiting for their root (beyond: the head decision applies).
    ///
    /// ```
    /// use otel_init::sampling::TailSampling;
    /// let config = otel_init::Config::from_source(&[
    ///     ("OTEL_INIT_TAIL_SAMPLING", "true"),
    ///     ("OTEL_INIT_TAIL_MAX_TRACES", "500"),
    /// ]);
    /// assert_eq!(config.tail_sampling, Some(TailSampling::new().max_traces(500)));
    /// ```
    pub fn max_traces(mut self, n: usize) -> Self {
        self.max_traces = n;
        self
    }

    /// At most `n` spans held in all (beyond: the head decision applies).
    ///
    /// ```
    /// use otel_init::sampling::TailSampling;
    /// let config = otel_init::Config::from_source(&[
    ///     ("OTEL_INIT_TAIL_SAMPLING", "true"),
    ///     ("OTEL_INIT_TAIL_MAX_SPANS", "20000"),
    /// ]);
    /// assert_eq!(config.tail_sampling, Some(TailSampling::new().max_spans(20_000)));
    /// ```
    pub fn max_spans(mut self, n: usize) -> Self {
        self.max_spans = n;
        self
    }

    /// At most `n` spans held per fragment; later ones are dropped and counted.
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _, TracerProvider as _};
    /// use otel_init::sampling::TailSampling;
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_SAMPLER", "always_off"),
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .tail_sampling(TailSampling::new().max_spans_per_trace(1))
    /// .without_globals()
    /// .build()?;
    /// let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
    /// tracer.in_span("GET /cart", |cx| {
    ///     tracer.start_with_context("SELECT cart", &cx).end(); // held
    ///     tracer.start_with_context("SELECT prices", &cx).end(); // over the limit
    ///     assert_eq!(cx.span().span_context().is_sampled(), false);
    /// });
    /// let report = telemetry.tail_sampling_report().expect("tail sampling is on");
    /// assert_eq!((report.spans_over_limit, report.dropped), (1, 1));
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn max_spans_per_trace(mut self, n: usize) -> Self {
        self.max_spans_per_trace = n;
        self
    }

    /// A fragment whose root has not ended after `d` is decided with what is
    /// known (kept if it has an error) and released.
    ///
    /// ```
    /// use otel_init::sampling::TailSampling;
    /// use std::time::Duration;
    /// let config = otel_init::Config::from_source(&[
    ///     ("OTEL_INIT_TAIL_SAMPLING", "true"),
    ///     ("OTEL_INIT_TAIL_MAX_HOLD_MS", "5000"),
    /// ]);
    /// assert_eq!(config.tail_sampling, Some(TailSampling::new().max_hold(Duration::from_secs(5))));
    /// ```
    pub fn max_hold(mut self, d: Duration) -> Self {
        self.max_hold = d;
        self
    }
}

/// What tail sampling kept and dropped since start.
///
/// ```
/// use otel_init::opentelemetry::trace::{Span as _, Status, Tracer as _, TracerProvider as _};
/// use otel_init::sampling::TailSampling;
/// let telemetry = otel_init::Telemetry::builder_from_env(&[
///     ("OTEL_TRACES_SAMPLER", "always_off"), // the head sampler keeps nothing
///     ("OTEL_TRACES_EXPORTER", "none"),
///     ("OTEL_METRICS_EXPORTER", "none"),
///     ("OTEL_LOGS_EXPORTER", "none"),
/// ])
/// .tail_sampling(TailSampling::new())
/// .without_globals()
/// .build()?;
/// let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
/// tracer.start("GET /cart").end();
/// let mut checkout = tracer.start("POST /checkout");
/// checkout.set_status(Status::error("card declined"));
/// checkout.end();
/// let report = telemetry.tail_sampling_report().expect("tail sampling is on");
/// assert_eq!((report.kept_error, report.dropped, report.kept_sampled), (1, 1, 0));
/// # Ok::<(), otel_init::InitError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TailReport {
    /// Fragments kept because the head sampler chose them.
    pub kept_sampled: u64,
    /// Fragments kept because a span failed.
    pub kept_error: u64,
    /// Fragments kept because the root was slow.
    pub kept_slow: u64,
    /// Fragments dropped.
    pub dropped: u64,
    /// Spans dropped because a memory bound was reached.
    pub spans_over_limit: u64,
    /// Fragments released because their root did not end within the hold time.
    pub expired: u64,
}

#[derive(Debug, Default)]
pub(crate) struct TailStats {
    kept_sampled: AtomicU64,
    kept_error: AtomicU64,
    kept_slow: AtomicU64,
    dropped: AtomicU64,
    spans_over_limit: AtomicU64,
    expired: AtomicU64,
}

impl TailStats {
    pub(crate) fn report(&self) -> TailReport {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        TailReport {
            kept_sampled: l(&self.kept_sampled),
            kept_error: l(&self.kept_error),
            kept_slow: l(&self.kept_slow),
            dropped: l(&self.dropped),
            spans_over_limit: l(&self.spans_over_limit),
            expired: l(&self.expired),
        }
    }
}

#[derive(Debug)]
struct Fragment {
    spans: Vec<SpanData>,
    error: bool,
    first_seen: Instant,
}

#[derive(Debug, Clone, Copy)]
enum Verdict {
    Keep,
    Drop,
}

#[derive(Debug, Default)]
struct Shard {
    pending: HashMap<TraceId, Fragment>,
    /// Decisions already made, for spans that end after their root.
    decided: HashMap<TraceId, (Verdict, Instant)>,
    last_sweep: Option<Instant>,
}

const SHARDS: usize = 16;

/// Holds unsampled spans per trace until the local root ends (see the module
/// docs); also feeds the adaptive sampler with each local root's outcome.
pub(crate) struct OutcomeProcessor<P> {
    inner: P,
    tail: Option<TailState>,
    error_rate: Option<Arc<ErrorRate>>,
}

struct TailState {
    config: TailSampling,
    shards: Vec<Mutex<Shard>>,
    held: AtomicUsize,
    fragments: AtomicUsize,
    stats: Arc<TailStats>,
}

impl<P> std::fmt::Debug for OutcomeProcessor<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutcomeProcessor").finish_non_exhaustive()
    }
}

fn is_local_root(span: &SpanData) -> bool {
    span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote
}

fn failed(span: &SpanData) -> bool {
    matches!(span.status, Status::Error { .. })
}

fn mark_sampled(mut span: SpanData) -> SpanData {
    let sc = &span.span_context;
    span.span_context = SpanContext::new(
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags().with_sampled(true),
        sc.is_remote(),
        sc.trace_state().clone(),
    );
    span
}

impl<P: SpanProcessor> OutcomeProcessor<P> {
    pub(crate) fn new(
        inner: P,
        tail: Option<(TailSampling, Arc<TailStats>)>,
        error_rate: Option<Arc<ErrorRate>>,
    ) -> Self {
        Self {
            inner,
            tail: tail.map(|(config, stats)| TailState {
                config,
                shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
                held: AtomicUsize::new(0),
                fragments: AtomicUsize::new(0),
                stats,
            }),
            error_rate,
        }
    }

    fn forward(&self, spans: impl IntoIterator<Item = SpanData>) {
        for span in spans {
            self.inner.on_end(mark_sampled(span));
        }
    }

    fn tail_on_end(&self, tail: &TailState, span: SpanData) {
        let root = is_local_root(&span);
        let sampled = span.span_context.is_sampled();
        if sampled && !root {
            // The head sampler kept this trace: nothing to hold or decide.
            self.inner.on_end(span);
            return;
        }
        let now = Instant::now();
        let trace_id = span.span_context.trace_id();
        let shard_index = (u128::from_be_bytes(trace_id.to_bytes()) as usize) % SHARDS;
        let Some(shard) = tail.shards.get(shard_index) else {
            return;
        };
        // A panic elsewhere while holding the lock leaves consistent data: go on.
        let mut shard = shard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let released = self.sweep(tail, &mut shard, now);
        let mut out: Vec<SpanData> = Vec::new();
        if root {
            let fragment = shard.pending.remove(&trace_id);
            if let Some(f) = &fragment {
                tail.held.fetch_sub(f.spans.len(), Ordering::Relaxed);
                tail.fragments.fetch_sub(1, Ordering::Relaxed);
            }
            let error = failed(&span) || fragment.as_ref().is_some_and(|f| f.error);
            let slow = tail.config.slower_than.is_some_and(|t| {
                span.end_time
                    .duration_since(span.start_time)
                    .is_ok_and(|d| d >= t)
            });
            let counter = if sampled {
                Some(&tail.stats.kept_sampled)
            } else if error && tail.config.keep_errors {
                Some(&tail.stats.kept_error)
            } else if slow {
                Some(&tail.stats.kept_slow)
            } else {
                None
            };
            let verdict = match counter {
                Some(c) => {
                    c.fetch_add(1, Ordering::Relaxed);
                    Verdict::Keep
                }
                None => {
                    tail.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    Verdict::Drop
                }
            };
            // Late spans of a sampled trace are sampled themselves; only the
            // others need the decision remembered.
            let cap = (tail.config.max_traces / SHARDS).max(16);
            if !sampled && shard.decided.len() >= cap {
                // Forget the oldest decisions first.
                let horizon = now.checked_sub(Duration::from_secs(1)).unwrap_or(now);
                shard.decided.retain(|_, (_, at)| *at > horizon);
            }
            if !sampled && shard.decided.len() < cap {
                shard.decided.insert(trace_id, (verdict, now));
            }
            if let Verdict::Keep = verdict {
                out.extend(fragment.map(|f| f.spans).unwrap_or_default());
                out.push(span);
            }
        } else if let Some((verdict, _)) = shard.decided.get(&trace_id) {
            if let Verdict::Keep = verdict {
                out.push(span);
            }
        } else {
            self.hold(tail, &mut shard, span, now);
        }
        drop(shard);
        self.forward(released);
        self.forward(out);
    }

    fn hold(&self, tail: &TailState, shard: &mut Shard, span: SpanData, now: Instant) {
        let trace_id = span.span_context.trace_id();
        let error = failed(&span);
        let over_total = tail.held.load(Ordering::Relaxed) >= tail.config.max_spans;
        let fragment = match shard.pending.get_mut(&trace_id) {
            Some(f) => f,
            None => {
                if over_total || tail.fragments.load(Ordering::Relaxed) >= tail.config.max_traces {
                    tail.stats.spans_over_limit.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                tail.fragments.fetch_add(1, Ordering::Relaxed);
                shard.pending.entry(trace_id).or_insert(Fragment {
                    spans: Vec::new(),
                    error: false,
                    first_seen: now,
                })
            }
        };
        fragment.error |= error;
        if over_total || fragment.spans.len() >= tail.config.max_spans_per_trace {
            tail.stats.spans_over_limit.fetch_add(1, Ordering::Relaxed);
            return;
        }
        fragment.spans.push(span);
        tail.held.fetch_add(1, Ordering::Relaxed);
    }

    /// Releases fragments held longer than allowed; at most once a second per shard.
    fn sweep(&self, tail: &TailState, shard: &mut Shard, now: Instant) -> Vec<SpanData> {
        let due = shard
            .last_sweep
            .is_none_or(|at| now.saturating_duration_since(at) >= Duration::from_secs(1));
        if !due {
            return Vec::new();
        }
        shard.last_sweep = Some(now);
        let max_hold = tail.config.max_hold;
        let expired: Vec<TraceId> = shard
            .pending
            .iter()
            .filter(|(_, f)| now.saturating_duration_since(f.first_seen) >= max_hold)
            .map(|(id, _)| *id)
            .collect();
        let horizon = now.checked_sub(max_hold).unwrap_or(now);
        shard.decided.retain(|_, (_, at)| *at > horizon);
        self.release(tail, shard, expired)
    }

    fn release(&self, tail: &TailState, shard: &mut Shard, ids: Vec<TraceId>) -> Vec<SpanData> {
        let mut kept = Vec::new();
        for id in ids {
            let Some(f) = shard.pending.remove(&id) else {
                continue;
            };
            tail.held.fetch_sub(f.spans.len(), Ordering::Relaxed);
            tail.fragments.fetch_sub(1, Ordering::Relaxed);
            tail.stats.expired.fetch_add(1, Ordering::Relaxed);
            if f.error && tail.config.keep_errors {
                tail.stats.kept_error.fetch_add(1, Ordering::Relaxed);
                kept.extend(f.spans);
            } else {
                tail.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        kept
    }

    fn release_all(&self) {
        let Some(tail) = &self.tail else {
            return;
        };
        for shard in &tail.shards {
            let released = {
                let mut s = shard
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let ids: Vec<TraceId> = s.pending.keys().copied().collect();
                self.release(tail, &mut s, ids)
            };
            self.forward(released);
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for OutcomeProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        if let Some(rate) = &self.error_rate
            && is_local_root(&span)
        {
            rate.record(failed(&span));
        }
        match &self.tail {
            Some(tail) => self.tail_on_end(tail, span),
            None => self.inner.on_end(span),
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.release_all();
        self.inner.shutdown_with_timeout(timeout)
    }
}

/// Sends each span to several processors (one per exporter).
#[derive(Debug)]
pub(crate) struct Fanout<P>(pub(crate) Vec<P>);

impl<P: SpanProcessor> SpanProcessor for Fanout<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        for p in &self.0 {
            p.on_start(span, cx);
        }
    }

    fn on_end(&self, span: SpanData) {
        if let Some((last, rest)) = self.0.split_last() {
            for p in rest {
                p.on_end(span.clone());
            }
            last.on_end(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        let mut result = Ok(());
        for p in &self.0 {
            if let Err(e) = p.force_flush() {
                result = Err(e);
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let mut result = Ok(());
        for p in &self.0 {
            if let Err(e) = p.shutdown_with_timeout(timeout) {
                result = Err(e);
            }
        }
        result
    }
}
