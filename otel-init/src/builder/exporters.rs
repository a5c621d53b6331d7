//! Exporters, the OTLP client, retries, batching and export intervals.

use super::*;

impl TelemetryBuilder {
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
