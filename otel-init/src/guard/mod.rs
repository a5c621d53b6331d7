//! [`TelemetryGuard`]: keeps the providers alive and shuts them down within a
//! deadline, on any runtime flavour or none.

use crate::config::ConfigWarning;
use crate::export::extensions::AddedState;
use crate::export::otlp::{CloseFailure, OtlpClient};
use crate::export::{ExportReport, ExportRuntime, Stats};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

mod shutdown;

use shutdown::{collector_problems, describe_shutdown, failures, shut_down_providers};

/// What [`TelemetryGuard::shutdown`] did.
///
/// ```
/// use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
/// use std::time::Duration;
/// // A collector that is not there: an address nobody listens on any more.
/// let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
/// let endpoint = format!("http://{closed}");
/// let telemetry = otel_init::Telemetry::builder_from_env(&[
///     ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
///     ("OTEL_METRICS_EXPORTER", "none"),
///     ("OTEL_LOGS_EXPORTER", "none"),
/// ])
/// .shutdown_timeout(Duration::from_secs(1))
/// .without_globals()
/// .build()?;
/// let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
/// tracer.in_span("GET /cart", |_| {});
/// let report = telemetry.shutdown();
/// assert!(!report.is_clean());
/// assert_eq!(report.export.traces.exported, 0);
/// assert_eq!(report.export.traces.lost(), 1); // counted, not silently gone
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ShutdownReport {
    /// Whether every provider finished before the deadline, delivering or
    /// failing to deliver (see `export` and `errors`); `false` when shutdown
    /// gave up waiting at its deadline.
    pub completed: bool,
    /// How long shutdown took.
    pub elapsed: Duration,
    /// What was exported and lost over the guard's lifetime.
    pub export: ExportReport,
    /// Problems met while shutting down.
    pub errors: Vec<String>,
}

impl ShutdownReport {
    /// True when shutdown finished in time and nothing was ever lost.
    ///
    /// ```
    /// let guard = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .without_globals()
    /// .build()
    /// .expect("valid settings");
    /// assert!(guard.shutdown().is_clean());
    /// ```
    pub fn is_clean(&self) -> bool {
        self.completed
            && self.errors.is_empty()
            && self.export.traces.lost() + self.export.metrics.lost() + self.export.logs.lost() == 0
    }
}

pub(crate) struct Parts {
    pub tracer: Option<SdkTracerProvider>,
    pub meter: Option<crate::metrics::ExemplarMeterProvider>,
    pub logger: Option<SdkLoggerProvider>,
    pub runtime: Option<Arc<ExportRuntime>>,
    pub stats: Arc<Stats>,
    pub tail_stats: Option<Arc<crate::sampling::TailStats>>,
    /// The OTLP clients, for what shutdown says about the collector.
    pub clients: Vec<Arc<OtlpClient>>,
    /// The deadline of the exporters, processors and readers added in code.
    pub added: Option<Arc<AddedState>>,
    pub shutdown_timeout: Duration,
    pub warnings: Vec<ConfigWarning>,
    pub set_globals: bool,
    /// Where the Prometheus exporter listens, when it does.
    pub prometheus_address: Option<std::net::SocketAddr>,
}

/// Owns the telemetry pipeline. Dropping it (or calling [`shutdown`](Self::shutdown))
/// flushes what is queued and stops the providers within the shutdown timeout.
///
/// Keep it alive for the life of the program: `let _telemetry = ...;`, not `let _ = ...;`.
///
/// ```
/// let telemetry = otel_init::Telemetry::builder_from_env(&[
///     ("OTEL_TRACES_EXPORTER", "none"),
///     ("OTEL_METRICS_EXPORTER", "none"),
///     ("OTEL_LOGS_EXPORTER", "none"),
/// ])
/// .service_name("doc-example")
/// .without_globals()
/// .build()
/// .expect("valid settings");
/// let report = telemetry.shutdown();
/// assert!(report.completed);
/// ```
pub struct TelemetryGuard {
    parts: Option<Parts>,
}

impl std::fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryGuard")
            .field("active", &self.parts.is_some())
            .finish()
    }
}

impl TelemetryGuard {
    pub(crate) fn new(parts: Parts) -> Self {
        Self { parts: Some(parts) }
    }

    /// The warnings the environment produced (each was also printed once).
    ///
    /// ```
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_BSP_MAX_QUEUE_SIZE", "lots"),
    /// ])
    /// .without_globals()
    /// .build()?;
    /// let warning = &telemetry.warnings()[0];
    /// assert_eq!(warning.variable, "OTEL_BSP_MAX_QUEUE_SIZE");
    /// assert_eq!(warning.value, "lots");
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn warnings(&self) -> &[ConfigWarning] {
        self.parts
            .as_ref()
            .map(|p| p.warnings.as_slice())
            .unwrap_or(&[])
    }

    /// Exported and lost counts so far, per signal.
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "console"), // a waterfall on stderr
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    /// ])
    /// .without_globals()
    /// .build()?;
    /// let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
    /// tracer.in_span("GET /cart", |_| tracer.in_span("SELECT cart", |_| {}));
    /// telemetry.force_flush()?;
    /// let report = telemetry.export_report();
    /// assert_eq!(report.traces.exported, 2);
    /// assert_eq!(report.traces.lost(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_report(&self) -> ExportReport {
        self.parts
            .as_ref()
            .map(|p| p.stats.report())
            .unwrap_or_default()
    }

    /// What in-process tail sampling kept and dropped so far; `None` when it is off.
    ///
    /// ```
    /// use otel_init::sampling::TailSampling;
    /// let guard = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .tail_sampling(TailSampling::new())
    /// .without_globals()
    /// .build()?;
    /// assert_eq!(guard.tail_sampling_report().map(|r| r.dropped), Some(0));
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn tail_sampling_report(&self) -> Option<crate::sampling::TailReport> {
        self.parts
            .as_ref()
            .and_then(|p| p.tail_stats.as_ref())
            .map(|s| s.report())
    }

    /// The tracer provider, `None` when the SDK is disabled.
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .without_globals()
    /// .build()?;
    /// let tracer = telemetry.tracer_provider().expect("the SDK is enabled").tracer("checkout");
    /// let span = tracer.start("reserve stock");
    /// assert!(span.is_recording());
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn tracer_provider(&self) -> Option<&SdkTracerProvider> {
        self.parts.as_ref().and_then(|p| p.tracer.as_ref())
    }

    /// The SDK's meter provider, `None` when metrics are disabled. Its
    /// histograms keep no exemplars: instrument with
    /// [`exemplar_meter_provider`](Self::exemplar_meter_provider) (the
    /// global one after `init`) for those.
    ///
    /// ```
    /// use otel_init::opentelemetry::metrics::MeterProvider as _;
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "console"), // lines on stderr
    /// ])
    /// .without_globals()
    /// .build()?;
    /// let meter = telemetry.meter_provider().expect("metrics are on").meter("checkout");
    /// let orders = meter.u64_counter("orders").build();
    /// orders.add(1, &[]);
    /// telemetry.force_flush()?;
    /// assert_eq!(telemetry.export_report().metrics.exported, 1); // one data point
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn meter_provider(&self) -> Option<&SdkMeterProvider> {
        self.exemplar_meter_provider().map(|m| m.sdk())
    }

    /// The meter provider whose histograms keep exemplars (see
    /// [`crate::metrics`]), `None` when metrics are disabled: what `init`
    /// and `build` install as the global meter provider; for the
    /// instrumentation's `meter_provider(..)` when globals are off.
    ///
    /// ```
    /// use otel_init::opentelemetry::metrics::MeterProvider as _;
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "console"), // lines on stderr
    /// ])
    /// .without_globals()
    /// .build()?;
    /// let meter = telemetry.exemplar_meter_provider().expect("metrics are on").meter("checkout");
    /// meter.f64_histogram("checkout.duration").build().record(0.1, &[]);
    /// telemetry.force_flush()?;
    /// assert_eq!(telemetry.export_report().metrics.exported, 1); // one data point
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn exemplar_meter_provider(&self) -> Option<&crate::metrics::ExemplarMeterProvider> {
        self.parts.as_ref().and_then(|p| p.meter.as_ref())
    }

    /// Where the Prometheus exporter serves `/metrics`: `None` unless
    /// `OTEL_METRICS_EXPORTER` names `prometheus` and its address could be
    /// bound (with `OTEL_EXPORTER_PROMETHEUS_PORT=0`, the port picked).
    ///
    /// ```
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "prometheus"),
    ///     ("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"),
    ///     ("OTEL_EXPORTER_PROMETHEUS_PORT", "0"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .without_globals()
    /// .build()?;
    /// let address = telemetry.prometheus_address().expect("listening");
    /// assert!(address.ip().is_loopback() && address.port() != 0);
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn prometheus_address(&self) -> Option<std::net::SocketAddr> {
        self.parts.as_ref().and_then(|p| p.prometheus_address)
    }

    /// The logger provider, `None` when logs are disabled.
    ///
    /// ```
    /// use otel_init::opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "console"),
    /// ])
    /// .without_globals()
    /// .build()?;
    /// let logger = telemetry.logger_provider().expect("logs are on").logger("checkout");
    /// let mut record = logger.create_log_record();
    /// record.set_body("order placed".into());
    /// logger.emit(record);
    /// telemetry.force_flush()?;
    /// assert_eq!(telemetry.export_report().logs.exported, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn logger_provider(&self) -> Option<&SdkLoggerProvider> {
        self.parts.as_ref().and_then(|p| p.logger.as_ref())
    }

    /// The `tracing` layers that feed this pipeline (spans via
    /// tracing-opentelemetry, events via the log bridge), for users who build
    /// their own subscriber. Use with [`TelemetryBuilder::build`](crate::TelemetryBuilder::build).
    /// sqlx's own statement logs (target `sqlx::query`), whose events carry
    /// the SQL text with its literals, are not exported through it.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt;
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .without_globals()
    /// .build()
    /// .expect("valid settings");
    /// let subscriber = tracing_subscriber::registry()
    ///     .with(telemetry.layer())
    ///     .with(tracing_subscriber::fmt::layer());
    /// tracing::subscriber::with_default(subscriber, || tracing::info!("composed"));
    /// ```
    pub fn layer<S>(&self) -> Box<dyn Layer<S> + Send + Sync + 'static>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        crate::subscriber::otel_layers_without_sqlx_statements(
            self.tracer_provider(),
            self.logger_provider(),
        )
    }

    /// Exports everything queued now, waiting at most the shutdown timeout.
    ///
    /// ```
    /// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
    /// let collector = otel_testing::OtlpReceiver::start().await?; // an in-process OTLP receiver
    /// let endpoint = collector.http_endpoint();
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
    ///     ("OTEL_BSP_SCHEDULE_DELAY", "60000"), // batches wait up to a minute
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .without_globals()
    /// .build()?;
    /// let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
    /// tracer.in_span("GET /cart", |_| {});
    /// telemetry.force_flush()?; // ...but not this one
    /// assert_eq!(telemetry.export_report().traces.exported, 1);
    /// assert_eq!(collector.spans().len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn force_flush(&self) -> Result<(), String> {
        let Some(p) = &self.parts else { return Ok(()) };
        if let Some(added) = &p.added {
            added.set_deadline(Some(Instant::now() + p.shutdown_timeout));
        }
        let errors = failures([
            ("traces", p.tracer.as_ref().map(|t| t.force_flush())),
            ("metrics", p.meter.as_ref().map(|m| m.sdk().force_flush())),
            ("logs", p.logger.as_ref().map(|l| l.force_flush())),
        ]);
        if let Some(added) = &p.added {
            added.set_deadline(None);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// Flushes and shuts down every provider, then flushes otel-logging's log
    /// output, waiting at most the shutdown timeout however the collector
    /// behaves, and says what happened.
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "console"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .without_globals()
    /// .build()?;
    /// let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
    /// tracer.in_span("GET /cart", |_| {});
    /// let report = telemetry.shutdown(); // exports the queued span first
    /// assert!(report.completed);
    /// assert_eq!(report.export.traces.exported, 1);
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn shutdown(mut self) -> ShutdownReport {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> ShutdownReport {
        let start = Instant::now();
        let Some(p) = self.parts.take() else {
            return ShutdownReport {
                completed: true,
                elapsed: Duration::ZERO,
                export: ExportReport::default(),
                errors: Vec::new(),
            };
        };
        if p.set_globals {
            crate::globals::reset();
        }
        let timeout = p.shutdown_timeout;
        // The providers get a little less than the caller's budget, and we
        // wait for them a little longer than that, so that what they abandon
        // at their deadline is counted before we report.
        let margin = (timeout / 5).min(Duration::from_millis(250));
        let deadline = start + (timeout - margin);
        let wait_until = deadline + margin / 2;
        // From now on exports stop waiting between retries, and a collector
        // that refuses the connection is given up at once.
        if let Some(rt) = &p.runtime {
            rt.closing().begin();
        }
        // What fails from now on is reported once, below.
        p.stats.closing();
        if let Some(added) = &p.added {
            added.set_deadline(Some(deadline));
        }
        let (mut completed, mut errors) = shut_down_providers(
            p.tracer,
            p.meter.map(|m| m.into_sdk()),
            p.logger,
            deadline,
            wait_until,
        );
        // An exporter, processor or reader added in code that missed the
        // deadline (its error names it) was left behind.
        completed &= !p.added.as_ref().is_some_and(|a| a.timed_out());
        if let Some(rt) = p.runtime {
            let left = wait_until.saturating_duration_since(Instant::now());
            // Cancels exports still waiting for the collector; they are
            // counted as lost before the report below is taken.
            if !rt.stop(left.max(Duration::from_millis(50))) {
                errors.push("the export thread did not stop in time".to_owned());
            }
        }
        // The log lines written on stdout/stderr by otel-logging's
        // non-blocking writer: what was logged before shutdown is not lost.
        let left = wait_until.saturating_duration_since(Instant::now());
        if !otel_logging::flush_all(left.max(Duration::from_millis(100))) {
            errors.push("log output was not flushed in time".to_owned());
        }
        let export = p.stats.report();
        let collector = collector_problems(&p.clients, timeout);
        let elapsed = start.elapsed();
        let clean = completed
            && errors.is_empty()
            && collector.is_empty()
            && export.traces.lost() + export.metrics.lost() + export.logs.lost() == 0;
        if !clean {
            crate::diag::warn(describe_shutdown(
                completed, elapsed, &export, &collector, &errors,
            ));
        }
        errors.extend(collector);
        ShutdownReport {
            completed,
            elapsed,
            export,
            errors,
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if self.parts.is_some() {
            let _ = self.shutdown_inner();
        }
    }
}
