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

mod exemplars;
mod exporters;
mod extensions;
mod init;
mod prometheus;
mod resource_detection;
mod samplers;

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
    /// Exporters, processors and readers added in code.
    extensions: export::extensions::Extensions,
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
            extensions: Default::default(),
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
