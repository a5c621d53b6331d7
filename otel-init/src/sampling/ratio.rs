//! The trace-id ratio sampler, consistent across services and SDKs that
//! implement the specification's threshold algorithm.

use super::probability::{Threshold, randomness, with_threshold};
use super::rate::parent_trace_state;
use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, ShouldSample};

/// Samples a fixed fraction of traces, deciding from the trace id's
/// randomness alone, so every service configured with the same ratio keeps
/// the same traces. A sampled span records its probability as `ot=th:…` in
/// `tracestate`, so backends and collectors can extrapolate counts.
///
/// ```
/// use otel_init::sampling::RatioSampler;
/// use otel_init::opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};
/// use otel_init::opentelemetry::trace::{SpanKind, TraceId};
///
/// let sampler = RatioSampler::new(0.25);
/// // Randomness = low 56 bits of the trace id; kept when >= 0.75 * 2^56.
/// let kept = TraceId::from(0x00ff_ffff_ffff_ffffu128);
/// let dropped = TraceId::from(0x0000_0000_0000_0001u128);
/// let decide = |id| sampler.should_sample(None, id, "GET", &SpanKind::Server, &[], &[]);
/// assert_eq!(decide(kept).decision, SamplingDecision::RecordAndSample);
/// assert_eq!(decide(kept).trace_state.get("ot"), Some("th:c"));
/// assert_eq!(decide(dropped).decision, SamplingDecision::Drop);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioSampler {
    ratio: f64,
    threshold: Option<Threshold>,
}

impl RatioSampler {
    /// Keeps `ratio` of traces (clamped to 0.0..=1.0; NaN keeps none).
    ///
    /// ```
    /// use otel_init::sampling::RatioSampler;
    /// assert_eq!(RatioSampler::new(1.5).ratio(), 1.0);
    /// assert_eq!(RatioSampler::new(f64::NAN).ratio(), 0.0);
    /// ```
    pub fn new(ratio: f64) -> Self {
        let ratio = if ratio.is_nan() {
            0.0
        } else {
            ratio.clamp(0.0, 1.0)
        };
        Self {
            ratio,
            threshold: Threshold::from_probability(ratio),
        }
    }

    /// The configured ratio.
    ///
    /// ```
    /// assert_eq!(otel_init::sampling::RatioSampler::new(0.25).ratio(), 0.25);
    /// ```
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// Whether the trace is kept at this ratio, and the threshold to record.
    pub(crate) fn decide(
        &self,
        trace_id: TraceId,
        trace_state: &opentelemetry::trace::TraceState,
    ) -> Option<Threshold> {
        let t = self.threshold?;
        t.samples(randomness(trace_id, trace_state)).then_some(t)
    }
}

impl ShouldSample for RatioSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        _name: &str,
        _span_kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let trace_state = parent_trace_state(parent_context);
        match self.decide(trace_id, &trace_state) {
            Some(t) => SamplingResult {
                decision: SamplingDecision::RecordAndSample,
                attributes: Vec::new(),
                trace_state: with_threshold(&trace_state, Some(t)),
            },
            None => SamplingResult {
                decision: SamplingDecision::Drop,
                attributes: Vec::new(),
                trace_state,
            },
        }
    }
}
