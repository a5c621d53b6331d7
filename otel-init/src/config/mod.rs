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

pub(crate) mod endpoint;
mod env;
pub(crate) mod otlp;

pub use env::{ConfigWarning, EnvSource, ProcessEnv};
pub use otlp::{Compression, OtlpConfig, Protocol, Signal};

use env::{EnvReader, parse_key_values};
use std::time::Duration;

/// Which exporter a signal uses (`OTEL_{TRACES,METRICS,LOGS}_EXPORTER`).
///
/// ```
/// use otel_init::config::{Config, ExporterKind};
/// let config = Config::from_source(&[
///     ("OTEL_TRACES_EXPORTER", "console,otlp"),
///     ("OTEL_LOGS_EXPORTER", "none"),
/// ]);
/// assert_eq!(config.traces_exporters, [ExporterKind::Console, ExporterKind::Otlp]);
/// assert_eq!(config.metrics_exporters, [ExporterKind::Otlp]); // the default
/// assert!(config.logs_exporters.is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExporterKind {
    /// OTLP to a collector.
    Otlp,
    /// Human-readable output on stderr (a waterfall per trace for spans).
    Console,
}

/// The `OTEL_TRACES_SAMPLER` choices: the specification's, and the rate-limited
/// and rule-based samplers of this workspace (see [`crate::sampling`]).
///
/// ```
/// use otel_init::config::{Config, SamplerKind};
/// let config = Config::from_source(&[
///     ("OTEL_TRACES_SAMPLER", "parentbased_ratelimited"),
///     ("OTEL_TRACES_SAMPLER_ARG", "50"),
/// ]);
/// assert_eq!(config.sampler, SamplerKind::ParentBasedRateLimited(50.0));
///
/// let rules = Config::from_source(&[
///     ("OTEL_TRACES_SAMPLER", "rules"),
///     ("OTEL_TRACES_SAMPLER_ARG", "http.route=/healthz => never; * => 0.1"),
/// ]);
/// assert!(matches!(rules.sampler, SamplerKind::Rules(r) if r.rules().len() == 2));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum SamplerKind {
    /// `always_on`
    AlwaysOn,
    /// `always_off`
    AlwaysOff,
    /// `traceidratio` with the ratio from `OTEL_TRACES_SAMPLER_ARG`; consistent
    /// across services (threshold algorithm, `ot=th:` in `tracestate`).
    TraceIdRatio(f64),
    /// `parentbased_always_on` (the default)
    ParentBasedAlwaysOn,
    /// `parentbased_always_off`
    ParentBasedAlwaysOff,
    /// `parentbased_traceidratio`
    ParentBasedTraceIdRatio(f64),
    /// `ratelimited`: at most `OTEL_TRACES_SAMPLER_ARG` traces per second (default 100).
    RateLimited(f64),
    /// `parentbased_ratelimited`
    ParentBasedRateLimited(f64),
    /// `rules`: the rules in `OTEL_TRACES_SAMPLER_ARG` (format in [`crate::sampling::RuleSampler`]).
    Rules(crate::sampling::RuleSampler),
    /// `parentbased_rules`
    ParentBasedRules(crate::sampling::RuleSampler),
}

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

/// Batch processor settings (`OTEL_BSP_*` for spans, `OTEL_BLRP_*` for logs).
///
/// ```
/// use otel_init::config::{BatchConfig, Config};
/// use std::time::Duration;
/// let config = Config::from_source(&[("OTEL_BSP_SCHEDULE_DELAY", "1000")]);
/// assert_eq!(
///     config.span_batch,
///     BatchConfig { schedule_delay: Duration::from_secs(1), ..BatchConfig::SPANS }
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// Longest wait before a partial batch is exported.
    pub schedule_delay: Duration,
    /// Deadline for one batch, retries included (`Duration::MAX` = none).
    pub export_timeout: Duration,
    /// Items held at most; beyond it new items are dropped and counted.
    pub max_queue_size: usize,
    /// Items per export request at most.
    pub max_export_batch_size: usize,
}

impl BatchConfig {
    /// The specification's span defaults: 5 s, 30 s, 2048, 512.
    ///
    /// ```
    /// use otel_init::config::{BatchConfig, Config};
    /// let nothing_set: [(&str, &str); 0] = [];
    /// assert_eq!(Config::from_source(&nothing_set).span_batch, BatchConfig::SPANS);
    /// assert_eq!(BatchConfig::SPANS.max_queue_size, 2048);
    /// ```
    pub const SPANS: Self = Self {
        schedule_delay: Duration::from_millis(5000),
        export_timeout: Duration::from_millis(30000),
        max_queue_size: 2048,
        max_export_batch_size: 512,
    };
    /// The specification's log record defaults: 1 s, 30 s, 2048, 512.
    ///
    /// ```
    /// use otel_init::config::{BatchConfig, Config};
    /// let nothing_set: [(&str, &str); 0] = [];
    /// assert_eq!(Config::from_source(&nothing_set).log_batch, BatchConfig::LOGS);
    /// assert_eq!(BatchConfig::LOGS.schedule_delay, std::time::Duration::from_secs(1));
    /// ```
    pub const LOGS: Self = Self {
        schedule_delay: Duration::from_millis(1000),
        export_timeout: Duration::from_millis(30000),
        max_queue_size: 2048,
        max_export_batch_size: 512,
    };
}

/// Aggregation temporality the metric exporter asks for.
///
/// ```
/// use otel_init::config::{Config, TemporalityPreference};
/// let config = Config::from_source(&[("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "Delta")]);
/// assert_eq!(config.temporality, TemporalityPreference::Delta);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemporalityPreference {
    /// Cumulative for every instrument (the default).
    Cumulative,
    /// Delta for counters and histograms.
    Delta,
    /// Delta for synchronous counters and histograms only.
    LowMemory,
}

/// Span and log record limits (`OTEL_*_LIMIT`). `None` means no limit.
///
/// ```
/// use otel_init::config::Config;
/// let config = Config::from_source(&[
///     ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "256"),
///     ("OTEL_SPAN_EVENT_COUNT_LIMIT", "16"),
/// ]);
/// assert_eq!(config.limits.span_attribute_value_length, Some(256));
/// assert_eq!(config.limits.log_attribute_value_length, Some(256)); // the general limit
/// assert_eq!(config.limits.span_event_count, 16);
/// assert_eq!(config.limits.span_link_count, 128); // the default
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest string attribute value on spans, events and links.
    pub span_attribute_value_length: Option<usize>,
    /// Attributes per span.
    pub span_attribute_count: usize,
    /// Events per span.
    pub span_event_count: usize,
    /// Links per span.
    pub span_link_count: usize,
    /// Attributes per span event.
    pub event_attribute_count: usize,
    /// Attributes per span link.
    pub link_attribute_count: usize,
    /// Longest string attribute value on log records.
    pub log_attribute_value_length: Option<usize>,
    /// Attributes per log record.
    pub log_attribute_count: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            span_attribute_value_length: None,
            span_attribute_count: 128,
            span_event_count: 128,
            span_link_count: 128,
            event_attribute_count: 128,
            link_attribute_count: 128,
            log_attribute_value_length: None,
            log_attribute_count: 128,
        }
    }
}

/// Everything the environment says, resolved to types, with the warnings it produced.
///
/// ```
/// use otel_init::config::{Config, ExporterKind};
/// let config = Config::from_source(&[
///     ("OTEL_SERVICE_NAME", "checkout"),
///     ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=prod,team=shop%20floor"),
///     ("OTEL_METRICS_EXPORTER", "prometheus"), // not supported: one warning, default used
/// ]);
/// assert_eq!(config.service_name.as_deref(), Some("checkout"));
/// assert_eq!(config.resource_attributes[1], ("team".to_owned(), "shop floor".to_owned()));
/// assert_eq!(config.metrics_exporters, [ExporterKind::Otlp]);
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
        let log_level = read_log_level(&mut r);
        let propagators = read_propagators(&mut r);
        let sampler = read_sampler(&mut r);
        let tail_sampling = read_tail_sampling(&mut r);
        let adaptive_sampling = read_adaptive_sampling(&mut r);
        let traces_exporters = read_exporters(&mut r, "OTEL_TRACES_EXPORTER");
        let metrics_exporters = read_exporters(&mut r, "OTEL_METRICS_EXPORTER");
        let logs_exporters = read_exporters(&mut r, "OTEL_LOGS_EXPORTER");
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
        let limits = read_limits(&mut r);
        let export_warning_interval = r
            .interval_ms("OTEL_INIT_EXPORT_WARNING_INTERVAL_MS")
            .unwrap_or(Duration::from_secs(60));
        Config {
            sdk_disabled,
            service_name,
            resource_attributes,
            log_level,
            propagators,
            sampler,
            tail_sampling,
            adaptive_sampling,
            traces_exporters,
            metrics_exporters,
            logs_exporters,
            console_ids,
            otlp_traces,
            otlp_metrics,
            otlp_logs,
            span_batch,
            log_batch,
            metric_export_interval,
            metric_export_timeout,
            temporality,
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

fn push_unique<T: PartialEq>(v: &mut Vec<T>, item: T) {
    if !v.contains(&item) {
        v.push(item);
    }
}

fn read_sampler(r: &mut EnvReader<'_>) -> SamplerKind {
    const NAMES: &[&str] = &[
        "always_on",
        "always_off",
        "traceidratio",
        "parentbased_always_on",
        "parentbased_always_off",
        "parentbased_traceidratio",
        "ratelimited",
        "parentbased_ratelimited",
        "rules",
        "parentbased_rules",
    ];
    let kind = r.choice("OTEL_TRACES_SAMPLER", NAMES);
    match kind.as_deref() {
        Some("always_on") => SamplerKind::AlwaysOn,
        Some("always_off") => SamplerKind::AlwaysOff,
        Some("traceidratio") => SamplerKind::TraceIdRatio(read_ratio(r)),
        Some("parentbased_always_off") => SamplerKind::ParentBasedAlwaysOff,
        Some("parentbased_traceidratio") => SamplerKind::ParentBasedTraceIdRatio(read_ratio(r)),
        Some("ratelimited") => SamplerKind::RateLimited(read_rate(r)),
        Some("parentbased_ratelimited") => SamplerKind::ParentBasedRateLimited(read_rate(r)),
        Some("rules") => read_rules(r).map_or(SamplerKind::ParentBasedAlwaysOn, SamplerKind::Rules),
        Some("parentbased_rules") => read_rules(r).map_or(
            SamplerKind::ParentBasedAlwaysOn,
            SamplerKind::ParentBasedRules,
        ),
        _ => SamplerKind::ParentBasedAlwaysOn,
    }
}

fn read_ratio(r: &mut EnvReader<'_>) -> f64 {
    let Some(raw) = r.string("OTEL_TRACES_SAMPLER_ARG") else {
        return 1.0;
    };
    match raw.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => p,
        _ => {
            r.warn(
                "OTEL_TRACES_SAMPLER_ARG",
                &raw,
                "a sampling probability from 0.0 to 1.0; using 1.0",
            );
            1.0
        }
    }
}

fn read_rate(r: &mut EnvReader<'_>) -> f64 {
    const DEFAULT: f64 = 100.0;
    let Some(raw) = r.string("OTEL_TRACES_SAMPLER_ARG") else {
        return DEFAULT;
    };
    match raw.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => n,
        _ => {
            r.warn(
                "OTEL_TRACES_SAMPLER_ARG",
                &raw,
                "a number of traces per second (0 or more); using 100",
            );
            DEFAULT
        }
    }
}

/// The rules, keeping the valid ones; `None` (and the default sampler) when none is valid.
fn read_rules(r: &mut EnvReader<'_>) -> Option<crate::sampling::RuleSampler> {
    let Some(raw) = r.string("OTEL_TRACES_SAMPLER_ARG") else {
        r.warn(
            "OTEL_TRACES_SAMPLER_ARG",
            "",
            "sampling rules such as `http.route=/healthz => never; * => 0.1` \
             (required by the rules samplers); using parentbased_always_on",
        );
        return None;
    };
    let (rules, errors) = crate::sampling::RuleSampler::parse_lenient(&raw);
    for e in errors {
        r.warn(
            "OTEL_TRACES_SAMPLER_ARG",
            &raw,
            format!("valid sampling rules; {e}; that rule is skipped"),
        );
    }
    if rules.rules().is_empty() {
        r.warn(
            "OTEL_TRACES_SAMPLER_ARG",
            &raw,
            "at least one valid sampling rule; using parentbased_always_on",
        );
        return None;
    }
    Some(rules)
}

fn read_tail_sampling(r: &mut EnvReader<'_>) -> Option<crate::sampling::TailSampling> {
    if !r.bool("OTEL_INIT_TAIL_SAMPLING") {
        return None;
    }
    let mut tail = crate::sampling::TailSampling::new();
    if let Some(t) = r.interval_ms("OTEL_INIT_TAIL_SLOWER_THAN_MS") {
        tail = tail.keep_slower_than(t);
    }
    if let Some(t) = r.interval_ms("OTEL_INIT_TAIL_MAX_HOLD_MS") {
        tail = tail.max_hold(t);
    }
    if let Some(n) = r.count("OTEL_INIT_TAIL_MAX_TRACES", 1) {
        tail = tail.max_traces(n);
    }
    if let Some(n) = r.count("OTEL_INIT_TAIL_MAX_SPANS", 1) {
        tail = tail.max_spans(n);
    }
    if let Some(n) = r.count("OTEL_INIT_TAIL_MAX_SPANS_PER_TRACE", 1) {
        tail = tail.max_spans_per_trace(n);
    }
    Some(tail)
}

fn read_adaptive_sampling(r: &mut EnvReader<'_>) -> Option<crate::sampling::Adaptive> {
    let threshold = read_fraction(r, "OTEL_INIT_ADAPTIVE_ERROR_RATE")?;
    let mut adaptive = crate::sampling::Adaptive::above(threshold);
    if let Some(full) = read_fraction(r, "OTEL_INIT_ADAPTIVE_FULL_AT") {
        adaptive = adaptive.full_at(full);
    }
    if let Some(w) = r.interval_ms("OTEL_INIT_ADAPTIVE_WINDOW_MS") {
        adaptive = adaptive.window(w);
    }
    if let Some(n) = r.count("OTEL_INIT_ADAPTIVE_MIN_REQUESTS", 1) {
        adaptive = adaptive.min_requests(n as u64);
    }
    Some(adaptive)
}

fn read_fraction(r: &mut EnvReader<'_>, name: &str) -> Option<f64> {
    let raw = r.string(name)?;
    match raw.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Some(p),
        _ => {
            r.warn(
                name,
                &raw,
                "an error rate from 0.0 to 1.0; adaptive sampling is off",
            );
            None
        }
    }
}

fn read_exporters(r: &mut EnvReader<'_>, name: &str) -> Vec<ExporterKind> {
    let Some(raw) = r.string(name) else {
        return vec![ExporterKind::Otlp];
    };
    let mut out = Vec::new();
    for entry in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match entry.to_ascii_lowercase().as_str() {
            "none" => return Vec::new(),
            "otlp" => push_unique(&mut out, ExporterKind::Otlp),
            "console" | "logging" => push_unique(&mut out, ExporterKind::Console),
            _ => r.warn(
                name,
                entry,
                "a comma-separated list of otlp, console or none; ignoring this entry",
            ),
        }
    }
    if out.is_empty() {
        // Only unknown entries: the spec's default is otlp.
        out.push(ExporterKind::Otlp);
    }
    out
}

fn read_batch(r: &mut EnvReader<'_>, prefix: &str, default: BatchConfig) -> BatchConfig {
    let mut b = default;
    let delay_var = format!("{prefix}_SCHEDULE_DELAY");
    if let Some(ms) = r.integer(&delay_var, 0, 86_400_000) {
        // 0 asks for export as soon as possible; the worker needs a tick.
        b.schedule_delay = Duration::from_millis(ms.max(1));
    }
    if let Some(t) = r.timeout_ms(&format!("{prefix}_EXPORT_TIMEOUT")) {
        b.export_timeout = t;
    }
    if let Some(q) = r.count(&format!("{prefix}_MAX_QUEUE_SIZE"), 1) {
        b.max_queue_size = q;
    }
    let batch_var = format!("{prefix}_MAX_EXPORT_BATCH_SIZE");
    let explicit_batch = r.count(&batch_var, 1);
    if let Some(n) = explicit_batch {
        b.max_export_batch_size = n;
    }
    if b.max_export_batch_size > b.max_queue_size {
        // The spec: the batch size must not exceed the queue. Only an
        // explicit batch size is worth a warning; the default just follows.
        if explicit_batch.is_some() {
            let value = b.max_export_batch_size.to_string();
            r.warn(
                &batch_var,
                &value,
                format!(
                    "a batch size no larger than {prefix}_MAX_QUEUE_SIZE ({}); using {}",
                    b.max_queue_size, b.max_queue_size
                ),
            );
        }
        b.max_export_batch_size = b.max_queue_size;
    }
    b
}

fn read_limits(r: &mut EnvReader<'_>) -> Limits {
    let d = Limits::default();
    let general_len = r.count("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", 0);
    let general_count = r.count("OTEL_ATTRIBUTE_COUNT_LIMIT", 0);
    Limits {
        span_attribute_value_length: r
            .count("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", 0)
            .or(general_len),
        span_attribute_count: r
            .count("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", 0)
            .or(general_count)
            .unwrap_or(d.span_attribute_count),
        span_event_count: r
            .count("OTEL_SPAN_EVENT_COUNT_LIMIT", 0)
            .unwrap_or(d.span_event_count),
        span_link_count: r
            .count("OTEL_SPAN_LINK_COUNT_LIMIT", 0)
            .unwrap_or(d.span_link_count),
        event_attribute_count: r
            .count("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", 0)
            .unwrap_or(d.event_attribute_count),
        link_attribute_count: r
            .count("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", 0)
            .unwrap_or(d.link_attribute_count),
        log_attribute_value_length: r
            .count("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", 0)
            .or(general_len),
        log_attribute_count: r
            .count("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", 0)
            .or(general_count)
            .unwrap_or(d.log_attribute_count),
    }
}
