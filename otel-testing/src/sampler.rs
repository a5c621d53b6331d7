//! [`AskedSampler`]: a sampler that keeps every span and remembers what it
//! was asked with, for tests of what instrumentation hands the sampler.

use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample,
};
use std::sync::{Arc, Mutex};

/// Keeps every span (`RecordAndSample`) and remembers the name and the
/// number of attributes of each span it was asked about. Clones share one
/// record.
///
/// ```
/// use opentelemetry::trace::{Tracer as _, TracerProvider as _};
/// use otel_testing::AskedSampler;
///
/// let sampler = AskedSampler::default();
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
///     .with_sampler(sampler.clone())
///     .build();
/// provider.tracer("doc").in_span("GET /items", |_| ());
/// assert_eq!(sampler.asked(), [("GET /items".to_owned(), 0)]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct AskedSampler(Arc<Mutex<Vec<(String, usize)>>>);

impl AskedSampler {
    /// The name and attribute count of every span asked about, in order.
    ///
    /// ```
    /// assert!(otel_testing::AskedSampler::default().asked().is_empty());
    /// ```
    pub fn asked(&self) -> Vec<(String, usize)> {
        self.0.lock().map(|asked| asked.clone()).unwrap_or_default()
    }

    /// A tracer provider with this sampler, its spans exported at once to
    /// the returned in-memory exporter.
    ///
    /// ```
    /// use opentelemetry::trace::{Tracer as _, TracerProvider as _};
    /// let sampler = otel_testing::AskedSampler::default();
    /// let (provider, spans) = sampler.provider();
    /// provider.tracer("doc").in_span("work", |_| ());
    /// assert_eq!(sampler.asked(), [("work".to_owned(), 0)]);
    /// assert_eq!(spans.get_finished_spans().unwrap().len(), 1);
    /// ```
    pub fn provider(&self) -> (SdkTracerProvider, InMemorySpanExporter) {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_sampler(self.clone())
            .with_simple_exporter(exporter.clone())
            .build();
        (provider, exporter)
    }

    /// [`provider`](Self::provider), installed as the global provider.
    ///
    /// ```
    /// let (provider, spans) = otel_testing::AskedSampler::default().install_global();
    /// use opentelemetry::trace::{Tracer as _, TracerProvider as _};
    /// opentelemetry::global::tracer("doc").in_span("work", |_| ());
    /// provider.force_flush().unwrap();
    /// assert_eq!(spans.get_finished_spans().unwrap().len(), 1);
    /// ```
    pub fn install_global(&self) -> (SdkTracerProvider, InMemorySpanExporter) {
        let (provider, exporter) = self.provider();
        opentelemetry::global::set_tracer_provider(provider.clone());
        (provider, exporter)
    }

    /// [`asked`](Self::asked), and forgets it: the next call starts afresh.
    ///
    /// ```
    /// let sampler = otel_testing::AskedSampler::default();
    /// assert!(sampler.take().is_empty());
    /// ```
    pub fn take(&self) -> Vec<(String, usize)> {
        self.0
            .lock()
            .map(|mut asked| std::mem::take(&mut *asked))
            .unwrap_or_default()
    }
}

impl ShouldSample for AskedSampler {
    fn should_sample(
        &self,
        _parent: Option<&Context>,
        _trace_id: TraceId,
        name: &str,
        _kind: &SpanKind,
        attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        if let Ok(mut asked) = self.0.lock() {
            asked.push((name.to_owned(), attributes.len()));
        }
        SamplingResult {
            decision: SamplingDecision::RecordAndSample,
            attributes: Vec::new(),
            trace_state: Default::default(),
        }
    }
}
