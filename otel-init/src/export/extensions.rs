//! Exporters, processors and readers that the application adds in code
//! (`TelemetryBuilder::with_span_exporter` and its siblings), and what keeps
//! them within the guard's deadline.
//!
//! Each one is wrapped so that `force_flush` and `shutdown` wait for it at
//! most until the guard's current deadline: the call runs on a thread of its
//! own, and one that does not return in time is reported and left behind,
//! as the guard does with the built-in pipelines. The application's threads
//! only ever call `on_end`/`emit`, which go straight to the added component.

use super::stats::SignalStats;
use crate::config::BatchConfig;
use opentelemetry::InstrumentationScope;
use opentelemetry::logs::Severity;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogBatch, LogExporter, LogProcessor, SdkLogRecord};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{InstrumentKind, PeriodicReader, Pipeline, Temporality};
use opentelemetry_sdk::trace::{SpanData, SpanExporter, SpanProcessor};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// What the added components of one build need to be made.
pub(crate) struct Setup<'a> {
    pub span_batch: BatchConfig,
    pub log_batch: BatchConfig,
    pub metric_export_interval: Duration,
    /// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` (the SDK applies the others).
    pub span_value_length: Option<usize>,
    pub resource: &'a Resource,
    pub stats: &'a super::Stats,
}

type MakeSpan = Box<dyn FnOnce(&Setup<'_>) -> Box<dyn SpanProcessor> + Send>;
type MakeLog = Box<dyn FnOnce(&Setup<'_>) -> Box<dyn LogProcessor> + Send>;
type MakeReader = Box<dyn FnOnce(&Setup<'_>) -> Box<dyn MetricReader> + Send>;

/// One added component, made when the providers are built (so that it gets
/// the batch settings and interval as finally configured).
struct Added<M> {
    /// For messages: `with_span_exporter(my_crate::MyExporter)`.
    name: String,
    make: M,
}

/// The components added on the builder, per signal, in the order added.
#[derive(Default)]
pub(crate) struct Extensions {
    spans: Vec<Added<MakeSpan>>,
    logs: Vec<Added<MakeLog>>,
    metrics: Vec<Added<MakeReader>>,
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn names<M>(v: &[Added<M>]) -> Vec<&str> {
            v.iter().map(|a| a.name.as_str()).collect()
        }
        f.debug_struct("Extensions")
            .field("spans", &names(&self.spans))
            .field("logs", &names(&self.logs))
            .field("metrics", &names(&self.metrics))
            .finish()
    }
}

/// `with_span_exporter(Type)`, with the type's path as written in its crate.
fn name_of<T>(method: &str) -> String {
    format!("{method}({})", std::any::type_name::<T>())
}

impl Extensions {
    /// How many components each signal has: traces, metrics, logs.
    pub(crate) fn counts(&self) -> [usize; 3] {
        [self.spans.len(), self.metrics.len(), self.logs.len()]
    }

    pub(crate) fn has_logs(&self) -> bool {
        !self.logs.is_empty()
    }

    pub(crate) fn has_metrics(&self) -> bool {
        !self.metrics.is_empty()
    }

    pub(crate) fn add_span_exporter<E: SpanExporter + 'static>(&mut self, exporter: E) {
        self.spans.push(Added {
            name: name_of::<E>("with_span_exporter"),
            make: Box::new(move |setup| {
                let exporter = CountedSpanExporter {
                    inner: exporter,
                    stats: setup.stats.traces.clone(),
                    value_length: setup.span_value_length,
                };
                let config = opentelemetry_sdk::trace::BatchConfigBuilder::default()
                    .with_max_queue_size(setup.span_batch.max_queue_size)
                    .with_max_export_batch_size(setup.span_batch.max_export_batch_size)
                    .with_scheduled_delay(setup.span_batch.schedule_delay)
                    .build();
                Box::new(
                    opentelemetry_sdk::trace::BatchSpanProcessor::builder(exporter)
                        .with_batch_config(config)
                        .build(),
                )
            }),
        });
    }

    pub(crate) fn add_span_processor<P: SpanProcessor + 'static>(&mut self, processor: P) {
        self.spans.push(Added {
            name: name_of::<P>("with_span_processor"),
            make: Box::new(move |_| Box::new(processor)),
        });
    }

    pub(crate) fn add_log_exporter<E: LogExporter + 'static>(&mut self, exporter: E) {
        self.logs.push(Added {
            name: name_of::<E>("with_log_exporter"),
            make: Box::new(move |setup| {
                let exporter = CountedLogExporter {
                    inner: exporter,
                    stats: setup.stats.logs.clone(),
                };
                let config = opentelemetry_sdk::logs::BatchConfigBuilder::default()
                    .with_max_queue_size(setup.log_batch.max_queue_size)
                    .with_max_export_batch_size(setup.log_batch.max_export_batch_size)
                    .with_scheduled_delay(setup.log_batch.schedule_delay)
                    .build();
                Box::new(
                    opentelemetry_sdk::logs::BatchLogProcessor::builder(exporter)
                        .with_batch_config(config)
                        .build(),
                )
            }),
        });
    }

    pub(crate) fn add_log_processor<P: LogProcessor + 'static>(&mut self, processor: P) {
        self.logs.push(Added {
            name: name_of::<P>("with_log_processor"),
            make: Box::new(move |_| Box::new(processor)),
        });
    }

    pub(crate) fn add_metric_exporter<E: PushMetricExporter>(&mut self, exporter: E) {
        self.metrics.push(Added {
            name: name_of::<E>("with_metric_exporter"),
            make: Box::new(move |setup| {
                Box::new(
                    PeriodicReader::builder(exporter)
                        .with_interval(setup.metric_export_interval)
                        .build(),
                )
            }),
        });
    }

    pub(crate) fn add_metric_reader<R: MetricReader>(&mut self, reader: R) {
        self.metrics.push(Added {
            name: name_of::<R>("with_metric_reader"),
            make: Box::new(move |_| Box::new(reader)),
        });
    }

    /// Makes every component, each bounded by `state`'s deadline. The
    /// resource is set here, because the span processors may end up behind
    /// the tail sampler, where the provider does not reach them.
    pub(crate) fn build(
        self,
        setup: &Setup<'_>,
        state: &Arc<AddedState>,
    ) -> (
        Vec<AddedSpanProcessor>,
        Vec<AddedLogProcessor>,
        Vec<AddedMetricReader>,
    ) {
        let bounded = |name: String| Bounded {
            name,
            state: state.clone(),
        };
        let spans = self
            .spans
            .into_iter()
            .map(|a| {
                let mut p = (a.make)(setup);
                p.set_resource(setup.resource);
                AddedSpanProcessor {
                    inner: Arc::from(p),
                    bounded: bounded(a.name),
                }
            })
            .collect();
        let logs = self
            .logs
            .into_iter()
            .map(|a| {
                let mut p = (a.make)(setup);
                p.set_resource(setup.resource);
                AddedLogProcessor {
                    inner: Arc::from(p),
                    bounded: bounded(a.name),
                }
            })
            .collect();
        let metrics = self
            .metrics
            .into_iter()
            .map(|a| AddedMetricReader {
                inner: Arc::from((a.make)(setup)),
                bounded: bounded(a.name),
            })
            .collect();
        (spans, logs, metrics)
    }
}

/// Shared by the guard and the added components: the deadline of the
/// flush or shutdown under way, and whether an added component missed it.
#[derive(Debug, Default)]
pub(crate) struct AddedState {
    deadline: Mutex<Option<Instant>>,
    timed_out: AtomicBool,
}

impl AddedState {
    /// The deadline of the flush or shutdown that starts now; `None` when it
    /// is over (a flush the SDK starts on its own then waits at most 5 s).
    pub(crate) fn set_deadline(&self, deadline: Option<Instant>) {
        if let Ok(mut d) = self.deadline.lock() {
            *d = deadline;
        }
        if deadline.is_some() {
            self.timed_out.store(false, Ordering::Relaxed);
        }
    }

    /// Whether an added component did not finish the current flush or
    /// shutdown in time.
    pub(crate) fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Relaxed)
    }

    /// The time left until the deadline, at most `at_most`.
    fn left(&self, at_most: Duration) -> Duration {
        let deadline = self.deadline.lock().ok().and_then(|d| *d);
        match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).min(at_most),
            None => at_most,
        }
    }
}

/// Runs an added component's flush or shutdown under the deadline.
#[derive(Debug)]
struct Bounded {
    name: String,
    state: Arc<AddedState>,
}

/// The longest a flush waits when the guard has set no deadline (the SDK
/// flushed the provider on its own): the guard's default shutdown timeout.
const FLUSH_WITHOUT_DEADLINE: Duration = Duration::from_secs(5);

impl Bounded {
    /// Runs `call` (given the time left) on a thread of its own and waits
    /// for it until the deadline, at most `at_most`.
    fn run(
        &self,
        what: &str,
        at_most: Duration,
        call: impl FnOnce(Duration) -> OTelSdkResult + Send + 'static,
    ) -> OTelSdkResult {
        let left = self.state.left(at_most);
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("otel-added".to_owned())
            .spawn(move || {
                let _ = tx.send(call(left));
            });
        if let Err(e) = spawned {
            return Err(OTelSdkError::InternalFailure(format!(
                "{}: cannot start a thread for its {what}: {e}",
                self.name
            )));
        }
        match rx.recv_timeout(left) {
            Ok(Ok(())) => Ok(()),
            // The SDK's batch processors and readers give up at the time
            // they are given, as we would.
            Ok(Err(OTelSdkError::Timeout(_))) | Err(_) => {
                self.state.timed_out.store(true, Ordering::Relaxed);
                Err(OTelSdkError::InternalFailure(format!(
                    "{}: {what} did not finish within {left:?}",
                    self.name
                )))
            }
            Ok(Err(e)) => Err(OTelSdkError::InternalFailure(format!(
                "{}: {what} failed: {e}",
                self.name
            ))),
        }
    }
}

/// A span processor added in code (or the batch processor around an added
/// exporter).
#[derive(Debug)]
pub(crate) struct AddedSpanProcessor {
    inner: Arc<dyn SpanProcessor>,
    bounded: Bounded,
}

impl SpanProcessor for AddedSpanProcessor {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        let inner = self.inner.clone();
        self.bounded.run("flush", FLUSH_WITHOUT_DEADLINE, move |_| {
            inner.force_flush()
        })
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let inner = self.inner.clone();
        self.bounded.run("shutdown", timeout, move |left| {
            inner.shutdown_with_timeout(left)
        })
    }
}

/// A log processor added in code (or the batch processor around an added
/// exporter).
#[derive(Debug)]
pub(crate) struct AddedLogProcessor {
    inner: Arc<dyn LogProcessor>,
    bounded: Bounded,
}

impl LogProcessor for AddedLogProcessor {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        self.inner.emit(record, scope);
    }

    fn force_flush(&self) -> OTelSdkResult {
        let inner = self.inner.clone();
        self.bounded.run("flush", FLUSH_WITHOUT_DEADLINE, move |_| {
            inner.force_flush()
        })
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let inner = self.inner.clone();
        self.bounded.run("shutdown", timeout, move |left| {
            inner.shutdown_with_timeout(left)
        })
    }

    fn event_enabled(&self, level: Severity, target: &str, name: Option<&str>) -> bool {
        self.inner.event_enabled(level, target, name)
    }
}

/// A metric reader added in code (or the periodic reader around an added
/// push exporter).
#[derive(Debug)]
pub(crate) struct AddedMetricReader {
    inner: Arc<dyn MetricReader>,
    bounded: Bounded,
}

impl MetricReader for AddedMetricReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.inner.register_pipeline(pipeline);
    }

    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.inner.collect(rm)
    }

    fn force_flush(&self) -> OTelSdkResult {
        let inner = self.inner.clone();
        self.bounded.run("flush", FLUSH_WITHOUT_DEADLINE, move |_| {
            inner.force_flush()
        })
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let inner = self.inner.clone();
        self.bounded.run("shutdown", timeout, move |left| {
            inner.shutdown_with_timeout(left)
        })
    }

    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.inner.temporality(kind)
    }
}

/// Applies the attribute value length limit to what an added span exporter
/// gets (on the batch thread, as the built-in pipeline does on its own), and
/// counts what it delivers in the guard's report.
#[derive(Debug)]
struct CountedSpanExporter<E> {
    inner: E,
    stats: Arc<SignalStats>,
    value_length: Option<usize>,
}

impl<E: SpanExporter> SpanExporter for CountedSpanExporter<E> {
    fn export(&self, mut batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        if let Some(max) = self.value_length {
            for span in &mut batch {
                super::limits::limit_span(span, max);
            }
        }
        let n = batch.len();
        let stats = self.stats.clone();
        let export = self.inner.export(batch);
        async move {
            let result = export.await;
            count(&stats, n, &result);
            result
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn shutdown(&self) -> OTelSdkResult {
        self.inner.shutdown()
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Counts what an added log exporter delivers in the guard's report.
#[derive(Debug)]
struct CountedLogExporter<E> {
    inner: E,
    stats: Arc<SignalStats>,
}

impl<E: LogExporter> LogExporter for CountedLogExporter<E> {
    fn export(&self, batch: LogBatch<'_>) -> impl Future<Output = OTelSdkResult> + Send {
        let n = batch.iter().count();
        let stats = self.stats.clone();
        let export = self.inner.export(batch);
        async move {
            let result = export.await;
            count(&stats, n, &result);
            result
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn shutdown(&self) -> OTelSdkResult {
        self.inner.shutdown()
    }

    fn event_enabled(&self, level: Severity, target: &str, name: Option<&str>) -> bool {
        self.inner.event_enabled(level, target, name)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

fn count(stats: &SignalStats, n: usize, result: &OTelSdkResult) {
    match result {
        Ok(()) => stats.on_exported(n),
        Err(e) => stats.on_failed(n, &e.to_string()),
    }
}

/// A built-in span processor or one added in code, side by side behind the
/// tail sampler.
#[derive(Debug)]
pub(crate) enum Either<B> {
    BuiltIn(B),
    Added(AddedSpanProcessor),
}

impl<B> Either<B> {
    /// The built-in processors, then the added ones.
    pub(crate) fn both(built_in: Vec<B>, added: Vec<AddedSpanProcessor>) -> Vec<Self> {
        let built_in = built_in.into_iter().map(Self::BuiltIn);
        built_in.chain(added.into_iter().map(Self::Added)).collect()
    }
}

impl<B: SpanProcessor> SpanProcessor for Either<B> {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
        match self {
            Self::BuiltIn(p) => p.on_start(span, cx),
            Self::Added(p) => p.on_start(span, cx),
        }
    }

    fn on_end(&self, span: SpanData) {
        match self {
            Self::BuiltIn(p) => p.on_end(span),
            Self::Added(p) => p.on_end(span),
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        match self {
            Self::BuiltIn(p) => p.force_flush(),
            Self::Added(p) => p.force_flush(),
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        match self {
            Self::BuiltIn(p) => p.shutdown_with_timeout(timeout),
            Self::Added(p) => p.shutdown_with_timeout(timeout),
        }
    }
}
