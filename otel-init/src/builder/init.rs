//! Shutdown, the subscriber and global state, and `build`/`init`.

use super::*;
use otel_http::sampling::KnownDecisions;

impl TelemetryBuilder {
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
        let resource = resource::build(&resource::ResourceSettings {
            env_service_name: config.service_name.as_deref(),
            env_attributes: &config.resource_attributes,
            identity: &self.identity,
            detectors: &config.resource_detectors,
        });
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
                added: None,
                shutdown_timeout: self.shutdown_timeout,
                warnings: config.warnings.clone(),
                set_globals: false,
                prometheus_address: None,
            });
            return Ok((guard, service));
        }
        let custom = self.custom_sampler.take();
        let known = match &custom {
            Some(_) => KnownDecisions::Unknown,
            None => sampling::known_decisions(
                &config.sampler,
                config.tail_sampling.is_some() || config.adaptive_sampling.is_some(),
            ),
        };
        let head: Box<dyn ShouldSample> = match custom {
            Some(s) => s,
            None => sampling::head_sampler(&config.sampler),
        };
        let sampling = sampling::setup(head, config.tail_sampling, config.adaptive_sampling);
        let extensions = std::mem::take(&mut self.extensions);
        let added = extensions.counts();
        let providers = export::build(export::ProviderSettings {
            config,
            resource,
            sampling,
            retry: self.retry,
            flush_timeout: self.shutdown_timeout,
            extensions,
        })?;
        if self.set_globals {
            globals::install(
                propagator,
                Some((&providers.tracer, known)),
                providers.meter.as_ref(),
            );
        }
        diag::info(describe(config, &service, added));
        let guard = TelemetryGuard::new(Parts {
            tracer: Some(providers.tracer),
            meter: providers.meter,
            logger: providers.logger,
            runtime: Some(providers.runtime),
            stats: providers.stats,
            tail_stats: providers.tail_stats,
            clients: providers.clients,
            added: Some(providers.added),
            shutdown_timeout: self.shutdown_timeout,
            warnings: config.warnings.clone(),
            set_globals: self.set_globals,
            prometheus_address: providers.prometheus_address,
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

/// `added`: how many components were added in code for traces, metrics and logs.
fn describe(config: &Config, service: &str, added: [usize; 3]) -> String {
    let signal = |name: &str, kinds: &[ExporterKind], s: Signal| {
        let added = match s {
            Signal::Traces => added[0],
            Signal::Metrics => added[1],
            Signal::Logs => added[2],
        };
        let mut parts: Vec<String> = kinds
            .iter()
            .map(|k| match k {
                ExporterKind::Console => "console".to_owned(),
                ExporterKind::Prometheus if cfg!(feature = "prometheus") => {
                    format!("prometheus {}", config.prometheus)
                }
                ExporterKind::Prometheus => {
                    "prometheus (off: the `prometheus` cargo feature is missing)".to_owned()
                }
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
        if added > 0 {
            parts.push(format!("{added} added in code"));
        }
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
