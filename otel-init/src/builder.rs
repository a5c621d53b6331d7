//! [`TelemetryBuilder`]: explicit settings on top of the environment.

use crate::config::otlp::{
    base_of_signal_endpoint, default_endpoint, signal_endpoint_from_base, validate_url,
};
use crate::config::{
    BatchConfig, Compression, Config, EnvSource, ExporterKind, ProcessEnv, PropagatorKind,
    Protocol, SamplerKind, Signal,
};
use crate::error::InitError;
use crate::export::RetryPolicy;
use crate::guard::{Parts, TelemetryGuard};
use crate::resource::ServiceIdentity;
use crate::subscriber::BoxedLayer;
use crate::{diag, export, globals, propagation, resource, sampling, subscriber};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::ShouldSample;
use std::sync::Arc;
use std::time::Duration;

/// Entry point of the builder API; see [`TelemetryBuilder`].
///
/// ```
/// use otel_init::{ExporterKind, Telemetry};
/// // Settings from a list instead of the process environment, and no global state:
/// let telemetry = Telemetry::builder_from_env(&[
///     ("OTEL_METRICS_EXPORTER", "none"),
///     ("OTEL_LOGS_EXPORTER", "none"),
/// ])
/// .service_name("checkout")
/// .traces_exporters([ExporterKind::Console])
/// .without_globals()
/// .build()?;
/// assert!(telemetry.tracer_provider().is_some());
/// assert!(telemetry.meter_provider().is_none());
/// # Ok::<(), otel_init::InitError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Telemetry;

impl Telemetry {
    /// A builder that starts from the process environment (`OTEL_*`, `RUST_LOG`).
    ///
    /// ```no_run
    /// let _telemetry = otel_init::Telemetry::builder()
    ///     .service_name("checkout")
    ///     .service_version("1.4.2")
    ///     .init()?;
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder::from_config(Config::from_env(), &ProcessEnv)
    }

    /// A builder that reads its `OTEL_*` values (and `RUST_LOG`) from `source`
    /// instead of the process environment: for tests and embedding.
    ///
    /// ```
    /// let guard = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_SDK_DISABLED", "true"),
    /// ])
    /// .build()
    /// .expect("init");
    /// assert!(guard.tracer_provider().is_none());
    /// ```
    pub fn builder_from_env(source: &dyn EnvSource) -> TelemetryBuilder {
        TelemetryBuilder::from_config(Config::from_source(source), source)
    }
}

/// Configures and starts telemetry. Every setting made here overrides the
/// environment, except `service.name`, where `OTEL_SERVICE_NAME` wins so that
/// operators can rename a deployment without a rebuild.
///
/// Invalid explicit settings make [`build`](Self::build) and
/// [`init`](Self::init) return [`InitError::InvalidSetting`].
///
/// ```
/// use otel_init::{InitError, Telemetry};
/// use std::time::Duration;
/// let builder = Telemetry::builder_from_env(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "2000")])
///     .otlp_timeout(Duration::from_secs(5)); // overrides the environment
/// assert_eq!(builder.config().otlp_traces.timeout, Duration::from_secs(5));
///
/// let invalid = Telemetry::builder_from_env(&[("OTEL_TRACES_EXPORTER", "none")])
///     .otlp_timeout(Duration::ZERO)
///     .build();
/// assert!(matches!(invalid, Err(InitError::InvalidSetting { setting: "otlp_timeout", .. })));
/// ```
#[must_use]
pub struct TelemetryBuilder {
    config: Config,
    rust_log: Option<String>,
    /// `OTEL_INIT_LOG_FORMAT` as set.
    log_format: Option<String>,
    /// Whether the environment names an OTLP endpoint or a traces exporter.
    collector_configured: bool,
    identity: ServiceIdentity,
    custom_sampler: Option<Box<dyn ShouldSample>>,
    retry: RetryPolicy,
    shutdown_timeout: Duration,
    layers: Vec<BoxedLayer>,
    fmt_layer: bool,
    default_filter: String,
    set_globals: bool,
    errors: Vec<InitError>,
}

impl std::fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Variables that say where telemetry goes; when none is set,
/// [`TelemetryBuilder::console_unless_collector_configured`] prints instead.
const COLLECTOR_VARS: [&str; 5] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
];

fn invalid(setting: &'static str, value: impl std::fmt::Debug, expected: &str) -> InitError {
    InitError::InvalidSetting {
        setting,
        value: format!("{value:?}"),
        expected: expected.to_owned(),
    }
}

impl TelemetryBuilder {
    fn from_config(config: Config, source: &dyn EnvSource) -> Self {
        Self {
            config,
            rust_log: source.get("RUST_LOG"),
            log_format: source.get(subscriber::LOG_FORMAT_VAR),
            collector_configured: COLLECTOR_VARS
                .iter()
                .any(|v| source.get(v).is_some_and(|v| !v.trim().is_empty())),
            identity: ServiceIdentity::default(),
            custom_sampler: None,
            retry: RetryPolicy::default(),
            shutdown_timeout: Duration::from_secs(5),
            layers: Vec::new(),
            fmt_layer: true,
            default_filter: "info".to_owned(),
            set_globals: true,
            errors: Vec::new(),
        }
    }

    /// The configuration as resolved so far (environment plus explicit settings).
    ///
    /// ```
    /// let builder = otel_init::Telemetry::builder_from_env(&[("OTEL_BSP_MAX_QUEUE_SIZE", "4096")]);
    /// assert_eq!(builder.config().span_batch.max_queue_size, 4096);
    /// assert!(builder.config().warnings.is_empty());
    /// ```
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `service.name`, used unless `OTEL_SERVICE_NAME` is set.
    ///
    /// ```
    /// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let collector = otel_testing::OtlpReceiver::start().await?;
    /// # let endpoint = collector.http_endpoint();
    /// # let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()), ("OTEL_METRICS_EXPORTER", "none"), ("OTEL_LOGS_EXPORTER", "none")];
    /// // `env` points the exporter at `collector`, an in-process OTLP receiver.
    /// let telemetry = otel_init::Telemetry::builder_from_env(&env)
    ///     .service_name("checkout")
    ///     .without_globals()
    ///     .build()?;
    /// let resource = exported_resource(&telemetry, &collector).await?;
    /// assert_eq!(otel_testing::attr(&resource, "service.name").as_deref(), Some("checkout"));
    /// # Ok(()) }
    /// # async fn exported_resource(t: &otel_init::TelemetryGuard, c: &otel_testing::OtlpReceiver) -> Result<Vec<otel_testing::opentelemetry_proto::tonic::common::v1::KeyValue>, Box<dyn std::error::Error>> {
    /// #     use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
    /// #     t.tracer_provider().ok_or("disabled")?.tracer("doc").in_span("work", |_| {});
    /// #     t.force_flush()?;
    /// #     c.wait_for_span("work", std::time::Duration::from_secs(5)).await.ok_or("not exported")?;
    /// #     Ok(c.spans_with_resource().remove(0).0)
    /// # }
    /// ```
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.identity.explicit_name = Some(name.into());
        self
    }

    /// `service.version` (overrides `OTEL_RESOURCE_ATTRIBUTES`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let collector = otel_testing::OtlpReceiver::start().await?;
    /// # let endpoint = collector.http_endpoint();
    /// # let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()), ("OTEL_METRICS_EXPORTER", "none"), ("OTEL_LOGS_EXPORTER", "none"), ("OTEL_RESOURCE_ATTRIBUTES", "service.version=0.0.0")];
    /// // `env` points the exporter at `collector` and sets service.version=0.0.0.
    /// let telemetry = otel_init::Telemetry::builder_from_env(&env)
    ///     .service_version("1.4.2")
    ///     .without_globals()
    ///     .build()?;
    /// let resource = exported_resource(&telemetry, &collector).await?;
    /// assert_eq!(otel_testing::attr(&resource, "service.version").as_deref(), Some("1.4.2"));
    /// # Ok(()) }
    /// # async fn exported_resource(t: &otel_init::TelemetryGuard, c: &otel_testing::OtlpReceiver) -> Result<Vec<otel_testing::opentelemetry_proto::tonic::common::v1::KeyValue>, Box<dyn std::error::Error>> {
    /// #     use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
    /// #     t.tracer_provider().ok_or("disabled")?.tracer("doc").in_span("work", |_| {});
    /// #     t.force_flush()?;
    /// #     c.wait_for_span("work", std::time::Duration::from_secs(5)).await.ok_or("not exported")?;
    /// #     Ok(c.spans_with_resource().remove(0).0)
    /// # }
    /// ```
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.identity.version = Some(version.into());
        self
    }

    /// The calling crate's name and version, as defaults for `service.name`
    /// and `service.version` ([`init_telemetry!`](crate::init_telemetry!) passes them).
    ///
    /// ```
    /// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let collector = otel_testing::OtlpReceiver::start().await?;
    /// # let endpoint = collector.http_endpoint();
    /// # let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()), ("OTEL_METRICS_EXPORTER", "none"), ("OTEL_LOGS_EXPORTER", "none")];
    /// // `env` points the exporter at `collector`; it names no service.
    /// let telemetry = otel_init::Telemetry::builder_from_env(&env)
    ///     .crate_identity("inventory", "0.3.0")
    ///     .without_globals()
    ///     .build()?;
    /// let resource = exported_resource(&telemetry, &collector).await?;
    /// assert_eq!(otel_testing::attr(&resource, "service.name").as_deref(), Some("inventory"));
    /// assert_eq!(otel_testing::attr(&resource, "service.version").as_deref(), Some("0.3.0"));
    /// # Ok(()) }
    /// # async fn exported_resource(t: &otel_init::TelemetryGuard, c: &otel_testing::OtlpReceiver) -> Result<Vec<otel_testing::opentelemetry_proto::tonic::common::v1::KeyValue>, Box<dyn std::error::Error>> {
    /// #     use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
    /// #     t.tracer_provider().ok_or("disabled")?.tracer("doc").in_span("work", |_| {});
    /// #     t.force_flush()?;
    /// #     c.wait_for_span("work", std::time::Duration::from_secs(5)).await.ok_or("not exported")?;
    /// #     Ok(c.spans_with_resource().remove(0).0)
    /// # }
    /// ```
    pub fn crate_identity(mut self, name: &str, version: &str) -> Self {
        self.identity.crate_name = Some(name.to_owned());
        if self.identity.version.is_none() {
            self.identity.version = Some(version.to_owned());
        }
        self
    }

    /// An extra resource attribute (overrides the same key in `OTEL_RESOURCE_ATTRIBUTES`).
    /// `service.name` is the exception: it follows the precedence of
    /// [`service_name`](Self::service_name), so set it there.
    ///
    /// ```
    /// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let collector = otel_testing::OtlpReceiver::start().await?;
    /// # let endpoint = collector.http_endpoint();
    /// # let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()), ("OTEL_METRICS_EXPORTER", "none"), ("OTEL_LOGS_EXPORTER", "none"), ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=dev")];
    /// use otel_init::opentelemetry::KeyValue;
    /// // `env` points the exporter at `collector` and sets deployment.environment.name=dev.
    /// let telemetry = otel_init::Telemetry::builder_from_env(&env)
    ///     .resource_attribute(KeyValue::new("deployment.environment.name", "staging"))
    ///     .without_globals()
    ///     .build()?;
    /// let resource = exported_resource(&telemetry, &collector).await?;
    /// assert_eq!(
    ///     otel_testing::attr(&resource, "deployment.environment.name").as_deref(),
    ///     Some("staging")
    /// );
    /// # Ok(()) }
    /// # async fn exported_resource(t: &otel_init::TelemetryGuard, c: &otel_testing::OtlpReceiver) -> Result<Vec<otel_testing::opentelemetry_proto::tonic::common::v1::KeyValue>, Box<dyn std::error::Error>> {
    /// #     use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
    /// #     t.tracer_provider().ok_or("disabled")?.tracer("doc").in_span("work", |_| {});
    /// #     t.force_flush()?;
    /// #     c.wait_for_span("work", std::time::Duration::from_secs(5)).await.ok_or("not exported")?;
    /// #     Ok(c.spans_with_resource().remove(0).0)
    /// # }
    /// ```
    pub fn resource_attribute(mut self, attribute: KeyValue) -> Self {
        self.identity.attributes.push(attribute);
        self
    }

    /// `OTEL_SDK_DISABLED`: no providers at all; propagation still works.
    ///
    /// ```
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[("OTEL_SDK_DISABLED", "false")])
    ///     .sdk_disabled(true)
    ///     .without_globals()
    ///     .build()?;
    /// assert!(telemetry.tracer_provider().is_none());
    /// assert!(telemetry.meter_provider().is_none());
    /// assert!(telemetry.logger_provider().is_none());
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn sdk_disabled(mut self, disabled: bool) -> Self {
        self.config.sdk_disabled = disabled;
        self
    }

    /// The head sampler (overrides `OTEL_TRACES_SAMPLER`); ratios must be
    /// within 0.0..=1.0 and rates 0 or more.
    ///
    /// ```
    /// use otel_init::{SamplerKind, Telemetry};
    /// let builder = Telemetry::builder_from_env(&[("OTEL_SDK_DISABLED", "true")])
    ///     .sampler(SamplerKind::ParentBasedTraceIdRatio(0.1));
    /// assert_eq!(builder.config().sampler, SamplerKind::ParentBasedTraceIdRatio(0.1));
    /// ```
    pub fn sampler(mut self, kind: SamplerKind) -> Self {
        let problem = match &kind {
            SamplerKind::TraceIdRatio(p) | SamplerKind::ParentBasedTraceIdRatio(p)
                if !(0.0..=1.0).contains(p) =>
            {
                Some("a ratio from 0.0 to 1.0")
            }
            SamplerKind::RateLimited(n) | SamplerKind::ParentBasedRateLimited(n)
                if !(n.is_finite() && *n >= 0.0) =>
            {
                Some("a finite number of traces per second, 0 or more")
            }
            _ => None,
        };
        match problem {
            Some(expected) => self.errors.push(invalid("sampler", kind, expected)),
            None => self.config.sampler = kind,
        }
        self
    }

    /// Any head sampler, e.g. one of [`crate::sampling`] composed by hand.
    /// Tail and adaptive sampling still apply on top of it.
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
    /// use otel_init::sampling::{Action, ParentBased, Rule, RuleSampler};
    /// let health_checks_never = RuleSampler::new([Rule::any().name("health*").then(Action::never())]);
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .custom_sampler(ParentBased::new(health_checks_never))
    /// .without_globals()
    /// .build()?;
    /// let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
    /// assert!(!tracer.start("healthcheck").span_context().is_sampled());
    /// assert!(tracer.start("GET /cart").span_context().is_sampled()); // no rule matched
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn custom_sampler(mut self, sampler: impl ShouldSample + 'static) -> Self {
        self.custom_sampler = Some(Box::new(sampler));
        self
    }

    /// Tail decisions in this process (overrides `OTEL_INIT_TAIL_*`): keep whole
    /// local fragments with an error or a slow root, besides what the head
    /// sampler keeps. See [`TailSampling`](crate::sampling::TailSampling).
    ///
    /// ```
    /// use otel_init::sampling::TailSampling;
    /// use std::time::Duration;
    /// let tail = TailSampling::new().keep_slower_than(Duration::from_secs(2));
    /// let builder = otel_init::Telemetry::builder_from_env(&[("OTEL_INIT_TAIL_SAMPLING", "true")])
    ///     .tail_sampling(tail);
    /// assert_eq!(builder.config().tail_sampling, Some(tail));
    /// ```
    pub fn tail_sampling(mut self, tail: crate::sampling::TailSampling) -> Self {
        self.config.tail_sampling = Some(tail);
        self
    }

    /// Raise the head ratio while the error rate is high (overrides
    /// `OTEL_INIT_ADAPTIVE_*`). See [`Adaptive`](crate::sampling::Adaptive).
    ///
    /// ```
    /// use otel_init::sampling::Adaptive;
    /// let builder = otel_init::Telemetry::builder_from_env(&[("OTEL_INIT_ADAPTIVE_ERROR_RATE", "0.5")])
    ///     .adaptive_sampling(Adaptive::above(0.1));
    /// assert_eq!(builder.config().adaptive_sampling.map(|a| a.threshold()), Some(0.1));
    /// ```
    pub fn adaptive_sampling(mut self, adaptive: crate::sampling::Adaptive) -> Self {
        self.config.adaptive_sampling = Some(adaptive);
        self
    }

    /// Exporters for spans; an empty list means `none`.
    ///
    /// ```
    /// use otel_init::{ExporterKind, Telemetry};
    /// let builder = Telemetry::builder_from_env(&[("OTEL_TRACES_EXPORTER", "otlp")])
    ///     .traces_exporters([ExporterKind::Console, ExporterKind::Otlp, ExporterKind::Console]);
    /// assert_eq!(builder.config().traces_exporters, [ExporterKind::Console, ExporterKind::Otlp]);
    /// ```
    pub fn traces_exporters(mut self, kinds: impl IntoIterator<Item = ExporterKind>) -> Self {
        self.config.traces_exporters = dedup(kinds);
        self
    }

    /// Exporters for metrics; an empty list means `none`.
    ///
    /// ```
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "otlp"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .metrics_exporters([])
    /// .without_globals()
    /// .build()?;
    /// assert!(telemetry.meter_provider().is_none());
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn metrics_exporters(mut self, kinds: impl IntoIterator<Item = ExporterKind>) -> Self {
        self.config.metrics_exporters = dedup(kinds);
        self
    }

    /// Exporters for log records; an empty list means `none`.
    ///
    /// ```
    /// use otel_init::ExporterKind;
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .logs_exporters([ExporterKind::Console])
    /// .without_globals()
    /// .build()?;
    /// assert!(telemetry.logger_provider().is_some());
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn logs_exporters(mut self, kinds: impl IntoIterator<Item = ExporterKind>) -> Self {
        self.config.logs_exporters = dedup(kinds);
        self
    }

    /// The collector's base URL for every signal, like `OTEL_EXPORTER_OTLP_ENDPOINT`
    /// (OTLP/HTTP appends `/v1/traces`, `/v1/metrics`, `/v1/logs`).
    ///
    /// ```
    /// use otel_init::{InitError, Signal, Telemetry};
    /// let builder = Telemetry::builder_from_env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")])
    ///     .otlp_endpoint("https://collector.example:4318");
    /// assert_eq!(
    ///     builder.config().otlp(Signal::Logs).endpoint,
    ///     "https://collector.example:4318/v1/logs"
    /// );
    ///
    /// let missing_scheme = Telemetry::builder_from_env(&[("OTEL_TRACES_EXPORTER", "none")])
    ///     .otlp_endpoint("collector:4318")
    ///     .build();
    /// assert!(matches!(missing_scheme, Err(InitError::InvalidSetting { setting: "otlp_endpoint", .. })));
    /// ```
    pub fn otlp_endpoint(mut self, base: &str) -> Self {
        if let Err(why) = validate_url(base) {
            let shown = crate::redact::url(base);
            self.errors.push(invalid("otlp_endpoint", shown, &why));
            return self;
        }
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            let c = self.config.otlp_mut(signal);
            c.endpoint = signal_endpoint_from_base(base, signal, c.protocol);
        }
        self
    }

    /// The full URL for one signal, like `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`.
    ///
    /// ```
    /// use otel_init::{Signal, Telemetry};
    /// let builder = Telemetry::builder_from_env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")])
    ///     .otlp_signal_endpoint(Signal::Logs, "http://logs.example:4318/ingest");
    /// let config = builder.config();
    /// assert_eq!(config.otlp(Signal::Logs).endpoint, "http://logs.example:4318/ingest");
    /// assert_eq!(config.otlp(Signal::Traces).endpoint, "http://localhost:4318/v1/traces");
    /// ```
    pub fn otlp_signal_endpoint(mut self, signal: Signal, url: &str) -> Self {
        match validate_url(url) {
            Ok(()) => self.config.otlp_mut(signal).endpoint = url.to_owned(),
            Err(why) => {
                let shown = crate::redact::url(url);
                self.errors
                    .push(invalid("otlp_signal_endpoint", shown, &why));
            }
        }
        self
    }

    /// The protocol for every signal. Default endpoints follow the protocol
    /// (4317 for gRPC, 4318 with the signal path for HTTP).
    ///
    /// ```
    /// use otel_init::{Protocol, Signal, Telemetry};
    /// let builder = Telemetry::builder_from_env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")])
    ///     .otlp_protocol(Protocol::Grpc);
    /// let traces = builder.config().otlp(Signal::Traces);
    /// assert_eq!(traces.protocol, Protocol::Grpc);
    /// assert_eq!(traces.endpoint, "http://localhost:4317");
    /// ```
    pub fn otlp_protocol(mut self, protocol: Protocol) -> Self {
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            let c = self.config.otlp_mut(signal);
            let old = c.protocol;
            if c.endpoint == default_endpoint(signal, old) {
                c.endpoint = default_endpoint(signal, protocol);
            } else if old != Protocol::Grpc && protocol == Protocol::Grpc {
                if let Some(base) = base_of_signal_endpoint(&c.endpoint, signal) {
                    c.endpoint = base;
                }
            } else if old == Protocol::Grpc && protocol != Protocol::Grpc {
                c.endpoint = signal_endpoint_from_base(&c.endpoint, signal, protocol);
            }
            c.protocol = protocol;
        }
        self
    }

    /// An extra header on every export request (e.g. an API key).
    ///
    /// ```
    /// use otel_init::{Signal, Telemetry};
    /// let builder = Telemetry::builder_from_env(&[("OTEL_TRACES_EXPORTER", "otlp")])
    ///     .otlp_header("X-Api-Key", "secret");
    /// let headers = &builder.config().otlp(Signal::Metrics).headers;
    /// assert!(headers.contains(&("x-api-key".to_owned(), "secret".to_owned())));
    /// ```
    pub fn otlp_header(mut self, name: &str, value: &str) -> Self {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || http::HeaderValue::from_str(value).is_err()
        {
            self.errors.push(invalid(
                "otlp_header",
                name,
                "a valid HTTP header name and value",
            ));
            return self;
        }
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            self.config
                .otlp_mut(signal)
                .headers
                .push((name.to_ascii_lowercase(), value.to_owned()));
        }
        self
    }

    /// The deadline of one export attempt (default 10 s).
    ///
    /// ```
    /// use otel_init::{Signal, Telemetry};
    /// use std::time::Duration;
    /// let builder = Telemetry::builder_from_env(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "10000")])
    ///     .otlp_timeout(Duration::from_secs(3));
    /// assert_eq!(builder.config().otlp(Signal::Traces).timeout, Duration::from_secs(3));
    /// ```
    pub fn otlp_timeout(mut self, timeout: Duration) -> Self {
        if timeout.is_zero() {
            self.errors
                .push(invalid("otlp_timeout", timeout, "a positive duration"));
            return self;
        }
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            self.config.otlp_mut(signal).timeout = timeout;
        }
        self
    }

    /// Body compression for every signal.
    ///
    /// ```
    /// use otel_init::config::Compression;
    /// use otel_init::{Signal, Telemetry};
    /// let builder = Telemetry::builder_from_env(&[("OTEL_EXPORTER_OTLP_COMPRESSION", "none")])
    ///     .otlp_compression(Some(Compression::Gzip));
    /// assert_eq!(builder.config().otlp(Signal::Logs).compression, Some(Compression::Gzip));
    /// ```
    pub fn otlp_compression(mut self, compression: Option<Compression>) -> Self {
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            self.config.otlp_mut(signal).compression = compression;
        }
        self
    }

    /// How failed exports are retried.
    ///
    /// ```
    /// use otel_init::{InitError, RetryPolicy, Telemetry};
    /// use std::time::Duration;
    /// let patient = RetryPolicy { max_attempts: 10, max_backoff: Duration::from_secs(30), ..RetryPolicy::default() };
    /// let telemetry = Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .retry_policy(patient)
    /// .without_globals()
    /// .build();
    /// assert!(telemetry.is_ok());
    ///
    /// let no_attempt = RetryPolicy { max_attempts: 0, ..RetryPolicy::default() };
    /// let invalid = Telemetry::builder_from_env(&[("OTEL_TRACES_EXPORTER", "none")])
    ///     .retry_policy(no_attempt)
    ///     .build();
    /// assert!(matches!(invalid, Err(InitError::InvalidSetting { setting: "retry_policy", .. })));
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        if policy.max_attempts == 0 || policy.multiplier < 1.0 || !policy.multiplier.is_finite() {
            self.errors.push(invalid(
                "retry_policy",
                policy,
                "max_attempts >= 1 and a finite multiplier >= 1.0",
            ));
            return self;
        }
        self.retry = policy;
        self
    }

    /// The propagators; an empty list means `none`.
    ///
    /// ```
    /// use otel_init::{PropagatorKind, Telemetry};
    /// let builder = Telemetry::builder_from_env(&[("OTEL_PROPAGATORS", "b3")])
    ///     .propagators([PropagatorKind::TraceContext, PropagatorKind::Baggage]);
    /// assert_eq!(builder.config().propagators, [PropagatorKind::TraceContext, PropagatorKind::Baggage]);
    /// assert!(Telemetry::builder_from_env(&[]).propagators([]).config().propagators.is_empty());
    /// ```
    pub fn propagators(mut self, kinds: impl IntoIterator<Item = PropagatorKind>) -> Self {
        self.config.propagators = dedup(kinds);
        self
    }

    /// The span batch processor's settings.
    ///
    /// ```
    /// use otel_init::config::BatchConfig;
    /// use otel_init::{InitError, Telemetry};
    /// let larger = BatchConfig { max_queue_size: 8192, ..BatchConfig::SPANS };
    /// let builder = Telemetry::builder_from_env(&[("OTEL_BSP_MAX_QUEUE_SIZE", "1024")]).span_batch(larger);
    /// assert_eq!(builder.config().span_batch.max_queue_size, 8192);
    ///
    /// let batch_above_queue = BatchConfig { max_queue_size: 100, max_export_batch_size: 512, ..BatchConfig::SPANS };
    /// let invalid = Telemetry::builder_from_env(&[("OTEL_TRACES_EXPORTER", "none")])
    ///     .span_batch(batch_above_queue)
    ///     .build();
    /// assert!(matches!(invalid, Err(InitError::InvalidSetting { setting: "span_batch", .. })));
    /// ```
    pub fn span_batch(mut self, batch: BatchConfig) -> Self {
        match check_batch(batch) {
            Ok(()) => self.config.span_batch = batch,
            Err(why) => self.errors.push(invalid("span_batch", batch, why)),
        }
        self
    }

    /// The log record batch processor's settings.
    ///
    /// ```
    /// use otel_init::config::BatchConfig;
    /// use std::time::Duration;
    /// let prompt = BatchConfig { schedule_delay: Duration::from_millis(200), ..BatchConfig::LOGS };
    /// let builder = otel_init::Telemetry::builder_from_env(&[("OTEL_BLRP_SCHEDULE_DELAY", "5000")])
    ///     .log_batch(prompt);
    /// assert_eq!(builder.config().log_batch.schedule_delay, Duration::from_millis(200));
    /// ```
    pub fn log_batch(mut self, batch: BatchConfig) -> Self {
        match check_batch(batch) {
            Ok(()) => self.config.log_batch = batch,
            Err(why) => self.errors.push(invalid("log_batch", batch, why)),
        }
        self
    }

    /// How often metrics are collected and exported (default 60 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = otel_init::Telemetry::builder_from_env(&[("OTEL_METRIC_EXPORT_INTERVAL", "60000")])
    ///     .metric_export_interval(Duration::from_secs(10));
    /// assert_eq!(builder.config().metric_export_interval, Duration::from_secs(10));
    /// ```
    pub fn metric_export_interval(mut self, interval: Duration) -> Self {
        if interval.is_zero() {
            self.errors.push(invalid(
                "metric_export_interval",
                interval,
                "a positive duration",
            ));
            return self;
        }
        self.config.metric_export_interval = interval;
        self
    }

    /// How often each signal's overload warnings may appear (default one
    /// minute, `OTEL_INIT_EXPORT_WARNING_INTERVAL_MS`): "queue is full" and
    /// "accepts again", "export failed" and "recovered" at most once per
    /// interval each, each with the counts since the last one.
    ///
    /// ```
    /// use otel_init::{InitError, Telemetry};
    /// use std::time::Duration;
    /// let builder = Telemetry::builder_from_env(&[("OTEL_INIT_EXPORT_WARNING_INTERVAL_MS", "10000")])
    ///     .export_warning_interval(Duration::from_secs(300));
    /// assert_eq!(builder.config().export_warning_interval, Duration::from_secs(300));
    ///
    /// let invalid = Telemetry::builder_from_env(&[("OTEL_TRACES_EXPORTER", "none")])
    ///     .export_warning_interval(Duration::ZERO)
    ///     .build();
    /// assert!(matches!(invalid, Err(InitError::InvalidSetting { setting: "export_warning_interval", .. })));
    /// ```
    pub fn export_warning_interval(mut self, interval: Duration) -> Self {
        if interval.is_zero() {
            self.errors.push(invalid(
                "export_warning_interval",
                interval,
                "a positive duration",
            ));
            return self;
        }
        self.config.export_warning_interval = interval;
        self
    }

    /// The longest [`TelemetryGuard::shutdown`] may take (default 5 s).
    ///
    /// ```
    /// use otel_init::{InitError, Telemetry};
    /// use std::time::Duration;
    /// let telemetry = Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .shutdown_timeout(Duration::from_secs(2))
    /// .without_globals()
    /// .build()?;
    /// assert!(telemetry.shutdown().completed);
    ///
    /// let invalid = Telemetry::builder_from_env(&[("OTEL_TRACES_EXPORTER", "none")])
    ///     .shutdown_timeout(Duration::ZERO)
    ///     .build();
    /// assert!(matches!(invalid, Err(InitError::InvalidSetting { setting: "shutdown_timeout", .. })));
    /// # Ok::<(), InitError>(())
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        if timeout.is_zero() {
            self.errors
                .push(invalid("shutdown_timeout", timeout, "a positive duration"));
            return self;
        }
        self.shutdown_timeout = timeout;
        self
    }

    /// Adds a `tracing` layer to the installed subscriber (the hook
    /// `otel-logging` uses for its JSON layer). The filter from `RUST_LOG` applies to it.
    ///
    /// ```no_run
    /// // no_run: init() installs the process-wide tracing subscriber.
    /// let errors_on_stderr = tracing_subscriber::fmt::layer()
    ///     .with_writer(std::io::stderr)
    ///     .with_filter(tracing_subscriber::filter::LevelFilter::ERROR);
    /// # use tracing_subscriber::Layer as _;
    /// let _telemetry = otel_init::Telemetry::builder()
    ///     .without_fmt_layer()
    ///     .with_layer(errors_on_stderr)
    ///     .init()?;
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn with_layer<L>(mut self, layer: L) -> Self
    where
        L: tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync + 'static,
    {
        self.layers.push(Box::new(layer));
        self
    }

    /// For development: when the environment names no collector (none of
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`, the per-signal `OTEL_EXPORTER_OTLP_*_ENDPOINT`
    /// or `OTEL_TRACES_EXPORTER` is set), print each trace as a waterfall on
    /// stderr and export no metrics or log records, instead of sending them to
    /// `localhost`. With a collector configured, the environment applies as is.
    ///
    /// ```
    /// use otel_init::{ExporterKind, Telemetry};
    /// let dev = Telemetry::builder_from_env(&[("OTEL_SERVICE_NAME", "shop")])
    ///     .console_unless_collector_configured();
    /// assert_eq!(dev.config().traces_exporters, [ExporterKind::Console]);
    /// assert!(dev.config().metrics_exporters.is_empty());
    ///
    /// let prod = Telemetry::builder_from_env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")])
    ///     .console_unless_collector_configured();
    /// assert_eq!(prod.config().traces_exporters, [ExporterKind::Otlp]);
    /// ```
    pub fn console_unless_collector_configured(self) -> Self {
        if self.collector_configured {
            return self;
        }
        self.traces_exporters([ExporterKind::Console])
            .metrics_exporters([])
            .logs_exporters([])
    }

    /// Shows each span's ids in the console waterfall (overrides
    /// `OTEL_INIT_CONSOLE_IDS`; off by default): under each span a line
    /// `trace_id=… span_id=… parent_span_id=… trace_flags=01 tracestate=…`,
    /// the parent marked `(remote)` when it came from another process, `none`
    /// for no parent or an empty tracestate. For finding where a trace breaks.
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
    /// let builder = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "console"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .console_ids(true);
    /// assert!(builder.config().console_ids);
    /// let telemetry = builder.without_globals().build()?;
    /// let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
    /// tracer.in_span("GET /cart", |_| {});
    /// // Prints on stderr:
    /// // trace 5b8efff798038103d269b633813fc60c · 1 span · 31 µs
    /// //   GET /cart                                     31 µs |████████████████████████████████████████|
    /// //     trace_id=5b8efff798038103d269b633813fc60c span_id=eee19b7ec3c1b174 parent_span_id=none trace_flags=01 tracestate=none
    /// assert_eq!(telemetry.shutdown().export.traces.exported, 1);
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn console_ids(mut self, on: bool) -> Self {
        self.config.console_ids = on;
        self
    }

    /// Leaves out the default log output on stdout (human-readable or JSON,
    /// see `OTEL_INIT_LOG_FORMAT`), whatever the environment says.
    ///
    /// ```no_run
    /// // no_run: init() installs the process-wide tracing subscriber.
    /// // Telemetry goes to the collector only; nothing is printed on stdout.
    /// let _telemetry = otel_init::Telemetry::builder().without_fmt_layer().init()?;
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn without_fmt_layer(mut self) -> Self {
        self.fmt_layer = false;
        self
    }

    /// The filter used when `RUST_LOG` is unset (default `info`).
    ///
    /// ```
    /// use otel_init::{InitError, Telemetry};
    /// let builder = Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .default_filter("warn,checkout=debug"); // used by init() when RUST_LOG is unset
    /// assert!(builder.without_globals().build().is_ok());
    ///
    /// let invalid = Telemetry::builder_from_env(&[("OTEL_TRACES_EXPORTER", "none")])
    ///     .default_filter("checkout=loud")
    ///     .build();
    /// assert!(matches!(invalid, Err(InitError::InvalidSetting { setting: "default_filter", .. })));
    /// ```
    pub fn default_filter(mut self, directives: &str) -> Self {
        match tracing_subscriber::EnvFilter::try_new(directives) {
            Ok(_) => self.default_filter = directives.to_owned(),
            Err(e) => self
                .errors
                .push(invalid("default_filter", directives, &e.to_string())),
        }
        self
    }

    /// Leaves OpenTelemetry's global providers and propagator alone (for tests
    /// that run several pipelines in one process).
    ///
    /// ```
    /// use otel_init::Telemetry;
    /// // Two independent pipelines in one process, neither of them global.
    /// let env = [
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ];
    /// let first = Telemetry::builder_from_env(&env).service_name("a").without_globals().build()?;
    /// let second = Telemetry::builder_from_env(&env).service_name("b").without_globals().build()?;
    /// assert!(first.shutdown().completed && second.shutdown().completed);
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn without_globals(mut self) -> Self {
        self.set_globals = false;
        self
    }

    /// Starts the providers and registers them globally (unless
    /// [`without_globals`](Self::without_globals)), without touching the
    /// `tracing` subscriber: add [`TelemetryGuard::layer`] to your own.
    ///
    /// ```
    /// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
    /// use std::time::Duration;
    ///
    /// let collector = otel_testing::OtlpReceiver::start().await?; // an in-process OTLP receiver
    /// let endpoint = collector.http_endpoint();
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .without_globals()
    /// .build()?;
    /// let tracer = telemetry.tracer_provider().expect("the SDK is enabled").tracer("doc");
    /// tracer.in_span("GET /cart", |_| {});
    /// telemetry.force_flush()?;
    /// assert!(collector.wait_for_span("GET /cart", Duration::from_secs(5)).await.is_some());
    /// assert!(telemetry.shutdown().is_clean());
    /// # Ok(()) }
    /// ```
    pub fn build(self) -> Result<TelemetryGuard, InitError> {
        self.build_for_service().map(|(guard, _)| guard)
    }

    /// [`build`](Self::build), also returning the resolved `service.name`.
    fn build_for_service(mut self) -> Result<(TelemetryGuard, String), InitError> {
        if !self.errors.is_empty() {
            return Err(self.errors.remove(0));
        }
        let config = &self.config;
        diag::set_level(config.log_level);
        for w in &config.warnings {
            diag::warn(w);
        }
        let propagator = propagation::build(&config.propagators);
        let resource = resource::build(
            config.service_name.as_deref(),
            &config.resource_attributes,
            &self.identity,
        );
        let service = resource::get_str(&resource, "service.name").unwrap_or_default();
        if config.sdk_disabled {
            if self.set_globals {
                globals::install(propagator, None, None);
            }
            diag::info("OTEL_SDK_DISABLED=true: telemetry is not recorded");
            let guard = TelemetryGuard::new(Parts {
                tracer: None,
                meter: None,
                logger: None,
                runtime: None,
                stats: Arc::new(export::Stats::new(config.export_warning_interval)),
                tail_stats: None,
                clients: Vec::new(),
                shutdown_timeout: self.shutdown_timeout,
                warnings: config.warnings.clone(),
                set_globals: false,
            });
            return Ok((guard, service));
        }
        let head: Box<dyn ShouldSample> = match self.custom_sampler.take() {
            Some(s) => s,
            None => sampling::head_sampler(&config.sampler),
        };
        let sampling = sampling::setup(head, config.tail_sampling, config.adaptive_sampling);
        let providers = export::build(export::ProviderSettings {
            config,
            resource,
            sampling,
            retry: self.retry,
            flush_timeout: self.shutdown_timeout,
        })?;
        if self.set_globals {
            globals::install(
                propagator,
                Some(&providers.tracer),
                providers.meter.as_ref(),
            );
        }
        diag::info(describe(config, &service));
        let guard = TelemetryGuard::new(Parts {
            tracer: Some(providers.tracer),
            meter: providers.meter,
            logger: providers.logger,
            runtime: Some(providers.runtime),
            stats: providers.stats,
            tail_stats: providers.tail_stats,
            clients: providers.clients,
            shutdown_timeout: self.shutdown_timeout,
            warnings: config.warnings.clone(),
            set_globals: self.set_globals,
        });
        Ok((guard, service))
    }

    /// [`build`](Self::build), then installs the global `tracing` subscriber:
    /// the filter from `RUST_LOG`, the OpenTelemetry layers, the log output on
    /// stdout (human-readable on a terminal, JSON lines with `trace_id` and
    /// `span_id` otherwise, as `OTEL_INIT_LOG_FORMAT` may override; none with
    /// [`without_fmt_layer`](Self::without_fmt_layer)) and any
    /// [`with_layer`](Self::with_layer) layers. Records of the `log` crate are
    /// captured as events, unless a `log` logger is already installed.
    ///
    /// ```no_run
    /// // no_run: init() installs the process-wide tracing subscriber.
    /// let _telemetry = otel_init::Telemetry::builder()
    ///     .service_name("checkout")
    ///     .default_filter("info,checkout=debug")
    ///     .init()?;
    /// tracing::info!("listening"); // printed on stdout and exported as a log record
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn init(mut self) -> Result<TelemetryGuard, InitError> {
        let layers = std::mem::take(&mut self.layers);
        let default_filter = self.default_filter.clone();
        let rust_log = self.rust_log.take();
        // Bad RUST_LOG and OTEL_INIT_LOG_FORMAT values are reported with the
        // other warnings by build().
        let filter = subscriber::env_filter(rust_log, &default_filter, &mut self.config.warnings);
        let format = subscriber::log_format(self.log_format.take(), &mut self.config.warnings);
        let format = if self.fmt_layer {
            format
        } else {
            otel_logging::LogFormat::None
        };
        let (guard, service) = self.build_for_service()?;
        let output = subscriber::output_layer(format, &service);
        // The filter drops sqlx's statement logs for every layer (unless
        // RUST_LOG names them), so the OpenTelemetry layers need no filter of
        // their own here.
        let otel = subscriber::otel_layers(guard.tracer_provider(), guard.logger_provider());
        subscriber::install(otel, output, layers, filter)?;
        Ok(guard)
    }
}

fn check_batch(b: BatchConfig) -> Result<(), &'static str> {
    if b.export_timeout.is_zero() {
        Err("a positive export_timeout (Duration::MAX for none)")
    } else if b.schedule_delay > Duration::from_secs(86_400) {
        Err("a schedule_delay of at most one day")
    } else if b.max_queue_size == 0 || b.max_export_batch_size == 0 {
        Err("non-zero queue and batch sizes")
    } else if b.max_export_batch_size > b.max_queue_size {
        Err("max_export_batch_size no larger than max_queue_size")
    } else if b.schedule_delay.is_zero() {
        Err("a positive schedule_delay")
    } else {
        Ok(())
    }
}

fn dedup<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn describe(config: &Config, service: &str) -> String {
    let signal = |name: &str, kinds: &[ExporterKind], s: Signal| {
        let parts: Vec<String> = kinds
            .iter()
            .map(|k| match k {
                ExporterKind::Console => "console".to_owned(),
                ExporterKind::Otlp => {
                    let c = config.otlp(s);
                    let off = if crate::export::otlp::usable(s, c).0.is_some() {
                        ""
                    } else {
                        " (off: a cargo feature is missing, see the warning)"
                    };
                    format!(
                        "otlp {:?} {}{off}",
                        c.protocol,
                        crate::redact::url(&c.endpoint)
                    )
                }
            })
            .collect();
        format!(
            "{name}: {}",
            if parts.is_empty() {
                "none".to_owned()
            } else {
                parts.join(" + ")
            }
        )
    };
    format!(
        "service {service:?}; {}; {}; {}",
        signal("traces", &config.traces_exporters, Signal::Traces),
        signal("metrics", &config.metrics_exporters, Signal::Metrics),
        signal("logs", &config.logs_exporters, Signal::Logs)
    )
}
