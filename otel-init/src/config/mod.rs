//! Typed configuration resolved from the standard `OTEL_*` environment variables.
//!
//! [`Config::from_env`] never fails: each bad value produces one
//! [`ConfigWarning`] and the specification's default applies. The
//! [`Telemetry`](crate::Telemetry) builder applies explicit settings on top.
//!
//! ```
//! use otel_init::config::{Config, SamplerKind};
//! let config = Config::from_source(&[
//!     ("OTEL_TRACES_SAMPLER", "traceidratio"),
//!     ("OTEL_TRACES_SAMPLER_ARG", "1.5"), // out of range
//! ]);
//! assert_eq!(config.sampler, SamplerKind::TraceIdRatio(1.0)); // the default ratio
//! assert_eq!(config.warnings[0].variable, "OTEL_TRACES_SAMPLER_ARG");
//! ```

mod batch;
pub(crate) mod endpoint;
mod env;
mod exemplars;
mod exporters;
pub(crate) mod otlp;
mod prometheus;
mod resource;
mod sampling;

pub use batch::{BatchConfig, Limits, TemporalityPreference};
pub use env::{ConfigWarning, EnvSource, ProcessEnv};
pub use exemplars::ExemplarFilter;
pub use exporters::ExporterKind;
pub use otlp::{Compression, OtlpConfig, Protocol, Signal};
pub use prometheus::PrometheusConfig;
pub use resource::ResourceDetector;
pub use sampling::SamplerKind;

use batch::{read_batch, read_limits};
use exemplars::read_exemplar_filter;
use exporters::read_exporters;
use prometheus::read_prometheus;
use resource::read_resource_detectors;
use sampling::{read_adaptive_sampling, read_sampler, read_tail_sampling};

use env::{EnvReader, parse_key_values};
use std::time::Duration;

/// Which propagators `OTEL_PROPAGATORS` selects (`tracecontext`, `baggage`,
/// `b3`, `b3multi`, `jaeger`).
///
/// ```
/// use otel_init::config::{Config, PropagatorKind};
/// let config = Config::from_source(&[("OTEL_PROPAGATORS", "b3multi,tracecontext")]);
/// assert_eq!(config.propagators, [PropagatorKind::B3Multi, PropagatorKind::TraceContext]);
/// let default = Config::from_source(&[("OTEL_PROPAGATORS", "")]);
/// assert_eq!(default.propagators, [PropagatorKind::TraceContext, PropagatorKind::Baggage]);
/// ```
pub use otel_http::propagation::PropagatorName as PropagatorKind;

/// Verbosity of the SDK's own diagnostics on stderr (`OTEL_LOG_LEVEL`).
///
/// ```
/// use otel_init::config::{Config, DiagLevel};
/// let config = Config::from_source(&[("OTEL_LOG_LEVEL", "warn")]);
/// assert_eq!(config.log_level, DiagLevel::Warn);
/// assert!(DiagLevel::Warn < DiagLevel::Info); // less verbose
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DiagLevel {
    /// Nothing.
    Off,
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warn,
    /// Also start-up information (the default).
    Info,
    /// Also per-export details.
    Debug,
}

/// Everything the environment says, resolved to types, with the warnings it produced.
///
/// ```
/// use otel_init::config::{Config, ExporterKind};
/// let config = Config::from_source(&[
///     ("OTEL_SERVICE_NAME", "checkout"),
///     ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=prod,team=shop%20floor"),
///     ("OTEL_METRICS_EXPORTER", "prometheus,statsd"), // statsd is not supported: one warning
/// ]);
/// assert_eq!(config.service_name.as_deref(), Some("checkout"));
/// assert_eq!(config.resource_attributes[1], ("team".to_owned(), "shop floor".to_owned()));
/// assert_eq!(config.metrics_exporters, [ExporterKind::Prometheus]);
/// assert_eq!(config.warnings.len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// `OTEL_SDK_DISABLED`: no providers are started (the global ones stay
    /// no-ops); propagators still work.
    pub sdk_disabled: bool,
    /// `OTEL_SERVICE_NAME`.
    pub service_name: Option<String>,
    /// `OTEL_RESOURCE_ATTRIBUTES`, percent-decoded, in order.
    pub resource_attributes: Vec<(String, String)>,
    /// `OTEL_INIT_RESOURCE_DETECTORS` (default: all of them).
    pub resource_detectors: Vec<ResourceDetector>,
    /// `OTEL_LOG_LEVEL`.
    pub log_level: DiagLevel,
    /// `OTEL_PROPAGATORS` (empty = `none`).
    pub propagators: Vec<PropagatorKind>,
    /// `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`.
    pub sampler: SamplerKind,
    /// `OTEL_INIT_TAIL_SAMPLING` and `OTEL_INIT_TAIL_*`: in-process tail decisions.
    pub tail_sampling: Option<crate::sampling::TailSampling>,
    /// `OTEL_INIT_ADAPTIVE_ERROR_RATE` and `OTEL_INIT_ADAPTIVE_*`.
    pub adaptive_sampling: Option<crate::sampling::Adaptive>,
    /// `OTEL_TRACES_EXPORTER` (empty = `none`).
    pub traces_exporters: Vec<ExporterKind>,
    /// `OTEL_METRICS_EXPORTER` (empty = `none`).
    pub metrics_exporters: Vec<ExporterKind>,
    /// `OTEL_LOGS_EXPORTER` (empty = `none`).
    pub logs_exporters: Vec<ExporterKind>,
    /// `OTEL_EXPORTER_PROMETHEUS_HOST` and `_PORT`.
    pub prometheus: PrometheusConfig,
    /// `OTEL_INIT_CONSOLE_IDS`: the console waterfall shows each span's trace
    /// id, span id, parent span id, trace flags and tracestate (default off).
    ///
    /// ```
    /// let config = otel_init::Config::from_source(&[("OTEL_INIT_CONSOLE_IDS", "true")]);
    /// assert!(config.console_ids);
    /// let bad = otel_init::Config::from_source(&[("OTEL_INIT_CONSOLE_IDS", "yes")]);
    /// assert!(!bad.console_ids);
    /// assert_eq!(
    ///     bad.warnings[0].to_string(),
    ///     "invalid value \"yes\" for OTEL_INIT_CONSOLE_IDS: expected \"true\" or \"false\"; using false"
    /// );
    /// ```
    pub console_ids: bool,
    /// `OTEL_EXPORTER_OTLP_*` resolved for traces.
    pub otlp_traces: OtlpConfig,
    /// `OTEL_EXPORTER_OTLP_*` resolved for metrics.
    pub otlp_metrics: OtlpConfig,
    /// `OTEL_EXPORTER_OTLP_*` resolved for logs.
    pub otlp_logs: OtlpConfig,
    /// `OTEL_BSP_*`.
    pub span_batch: BatchConfig,
    /// `OTEL_BLRP_*`.
    pub log_batch: BatchConfig,
    /// `OTEL_METRIC_EXPORT_INTERVAL` (default 60 s).
    pub metric_export_interval: Duration,
    /// `OTEL_METRIC_EXPORT_TIMEOUT` (default 30 s).
    pub metric_export_timeout: Duration,
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`.
    pub temporality: TemporalityPreference,
    /// `OTEL_METRICS_EXEMPLAR_FILTER` (default `trace_based`).
    pub exemplar_filter: ExemplarFilter,
    /// The attribute, event and link limits.
    pub limits: Limits,
    /// `OTEL_INIT_EXPORT_WARNING_INTERVAL_MS` (default 60 s): each signal's
    /// "queue is full" / "accepts again" and "export failed" / "recovered"
    /// warnings appear at most once per interval each, with the counts since
    /// the last one.
    pub export_warning_interval: Duration,
    /// One entry per bad value found.
    pub warnings: Vec<ConfigWarning>,
}

impl Config {
    /// Reads the process environment.
    ///
    /// ```
    /// let config = otel_init::Config::from_env();
    /// assert!(config.span_batch.max_queue_size >= config.span_batch.max_export_batch_size);
    /// ```
    pub fn from_env() -> Self {
        Self::from_source(&ProcessEnv)
    }

    /// Reads any [`EnvSource`], e.g. an array of pairs in tests.
    ///
    /// ```
    /// use otel_init::config::{Config, SamplerKind};
    /// let config = Config::from_source(&[
    ///     ("OTEL_TRACES_SAMPLER", "traceidratio"),
    ///     ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
    /// ]);
    /// assert_eq!(config.sampler, SamplerKind::TraceIdRatio(0.25));
    /// ```
    pub fn from_source(source: &dyn EnvSource) -> Self {
        let mut r = EnvReader::new(source);
        let sdk_disabled = r.bool("OTEL_SDK_DISABLED");
        let service_name = r.string("OTEL_SERVICE_NAME");
        let resource_attributes = read_resource_attributes(&mut r);
        let resource_detectors = read_resource_detectors(&mut r);
        let log_level = read_log_level(&mut r);
        let propagators = read_propagators(&mut r);
        let sampler = read_sampler(&mut r);
        let tail_sampling = read_tail_sampling(&mut r);
        let adaptive_sampling = read_adaptive_sampling(&mut r);
        let traces_exporters = read_exporters(&mut r, "OTEL_TRACES_EXPORTER");
        let metrics_exporters = read_exporters(&mut r, "OTEL_METRICS_EXPORTER");
        let logs_exporters = read_exporters(&mut r, "OTEL_LOGS_EXPORTER");
        let prometheus = read_prometheus(&mut r);
        let console_ids = r.bool("OTEL_INIT_CONSOLE_IDS");
        let otlp_traces = OtlpConfig::read(&mut r, Signal::Traces);
        let otlp_metrics = OtlpConfig::read(&mut r, Signal::Metrics);
        let otlp_logs = OtlpConfig::read(&mut r, Signal::Logs);
        let span_batch = read_batch(&mut r, "OTEL_BSP", BatchConfig::SPANS);
        let log_batch = read_batch(&mut r, "OTEL_BLRP", BatchConfig::LOGS);
        let metric_export_interval = r
            .interval_ms("OTEL_METRIC_EXPORT_INTERVAL")
            .unwrap_or(Duration::from_secs(60));
        let metric_export_timeout = r
            .timeout_ms("OTEL_METRIC_EXPORT_TIMEOUT")
            .unwrap_or(Duration::from_secs(30));
        let temporality = match r
            .choice(
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                &["cumulative", "delta", "lowmemory"],
            )
            .as_deref()
        {
            Some("delta") => TemporalityPreference::Delta,
            Some("lowmemory") => TemporalityPreference::LowMemory,
            _ => TemporalityPreference::Cumulative,
        };
        let exemplar_filter = read_exemplar_filter(&mut r);
        let limits = read_limits(&mut r);
        let export_warning_interval = r
            .interval_ms("OTEL_INIT_EXPORT_WARNING_INTERVAL_MS")
            .unwrap_or(Duration::from_secs(60));
        Config {
            sdk_disabled,
            service_name,
            resource_attributes,
            resource_detectors,
            log_level,
            propagators,
            sampler,
            tail_sampling,
            adaptive_sampling,
            traces_exporters,
            metrics_exporters,
            logs_exporters,
            prometheus,
            console_ids,
            otlp_traces,
            otlp_metrics,
            otlp_logs,
            span_batch,
            log_batch,
            metric_export_interval,
            metric_export_timeout,
            temporality,
            exemplar_filter,
            limits,
            export_warning_interval,
            warnings: r.warnings,
        }
    }

    /// The resolved OTLP settings of one signal.
    ///
    /// ```
    /// use otel_init::config::{Config, Protocol};
    /// use otel_init::Signal;
    /// let config = Config::from_source(&[("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc")]);
    /// assert_eq!(config.otlp(Signal::Metrics).protocol, Protocol::Grpc);
    /// assert_eq!(config.otlp(Signal::Traces).protocol, Protocol::HttpProtobuf);
    /// ```
    pub fn otlp(&self, signal: Signal) -> &OtlpConfig {
        match signal {
            Signal::Traces => &self.otlp_traces,
            Signal::Metrics => &self.otlp_metrics,
            Signal::Logs => &self.otlp_logs,
        }
    }

    /// Mutable access to the OTLP settings of one signal.
    ///
    /// ```
    /// use otel_init::config::Config;
    /// use otel_init::Signal;
    /// use std::time::Duration;
    /// let mut config = Config::from_source(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "10000")]);
    /// config.otlp_mut(Signal::Logs).timeout = Duration::from_secs(1);
    /// assert_eq!(config.otlp(Signal::Logs).timeout, Duration::from_secs(1));
    /// assert_eq!(config.otlp(Signal::Traces).timeout, Duration::from_secs(10));
    /// ```
    pub fn otlp_mut(&mut self, signal: Signal) -> &mut OtlpConfig {
        match signal {
            Signal::Traces => &mut self.otlp_traces,
            Signal::Metrics => &mut self.otlp_metrics,
            Signal::Logs => &mut self.otlp_logs,
        }
    }
}

fn read_resource_attributes(r: &mut EnvReader<'_>) -> Vec<(String, String)> {
    let Some(raw) = r.string("OTEL_RESOURCE_ATTRIBUTES") else {
        return Vec::new();
    };
    let (pairs, bad) = parse_key_values(&raw);
    if !bad.is_empty() {
        // The spec: on a decoding error the whole value is discarded.
        r.warn(
            "OTEL_RESOURCE_ATTRIBUTES",
            &raw,
            format!(
                "comma-separated key=value pairs with percent-encoded values (bad member {:?}); ignoring the variable",
                bad[0].member
            ),
        );
        return Vec::new();
    }
    pairs
}

fn read_log_level(r: &mut EnvReader<'_>) -> DiagLevel {
    match r
        .choice(
            "OTEL_LOG_LEVEL",
            &["none", "off", "error", "warn", "info", "debug", "trace"],
        )
        .as_deref()
    {
        Some("none" | "off") => DiagLevel::Off,
        Some("error") => DiagLevel::Error,
        Some("warn") => DiagLevel::Warn,
        Some("debug" | "trace") => DiagLevel::Debug,
        _ => DiagLevel::Info,
    }
}

fn read_propagators(r: &mut EnvReader<'_>) -> Vec<PropagatorKind> {
    let default = vec![PropagatorKind::TraceContext, PropagatorKind::Baggage];
    let Some(raw) = r.string("OTEL_PROPAGATORS") else {
        return default;
    };
    let mut out = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if name.eq_ignore_ascii_case("none") {
            return Vec::new();
        }
        match name.parse::<PropagatorKind>() {
            Ok(kind) => push_unique(&mut out, kind),
            Err(_) => r.warn(
                "OTEL_PROPAGATORS",
                name,
                "a comma-separated list of tracecontext, baggage, b3, b3multi, jaeger or none; ignoring this entry",
            ),
        }
    }
    if out.is_empty() {
        // Only unknown entries: keep the default rather than silently cutting traces.
        return default;
    }
    out
}

pub(super) fn push_unique<T: PartialEq>(v: &mut Vec<T>, item: T) {
    if !v.contains(&item) {
        v.push(item);
    }
}
