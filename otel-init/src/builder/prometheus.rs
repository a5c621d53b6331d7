//! Where the Prometheus exporter listens, set in code.

use super::*;
use crate::config::PrometheusConfig;

impl TelemetryBuilder {
    /// Serves the Prometheus exporter's `/metrics` on `host:port`, like
    /// `OTEL_EXPORTER_PROMETHEUS_HOST` and `_PORT` (which it overrides), and
    /// adds the exporter to the metrics exporters if they do not name it.
    /// Port 0 picks a free port
    /// ([`TelemetryGuard::prometheus_address`](crate::TelemetryGuard::prometheus_address)).
    /// A host that is not a host name or an IP address makes
    /// [`build`](Self::build) fail.
    ///
    /// ```
    /// use otel_init::{ExporterKind, InitError, Telemetry};
    /// let telemetry = Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "none"),
    ///     ("OTEL_LOGS_EXPORTER", "none"),
    /// ])
    /// .prometheus_listen("127.0.0.1", 0);
    /// assert_eq!(telemetry.config().metrics_exporters, [ExporterKind::Prometheus]);
    /// let telemetry = telemetry.without_globals().build()?;
    /// assert!(telemetry.prometheus_address().is_some());
    ///
    /// let url = Telemetry::builder_from_env(&[("OTEL_TRACES_EXPORTER", "none")])
    ///     .prometheus_listen("http://0.0.0.0", 9464)
    ///     .build();
    /// assert!(matches!(url, Err(InitError::InvalidSetting { setting: "prometheus_listen", .. })));
    /// # Ok::<(), InitError>(())
    /// ```
    pub fn prometheus_listen(mut self, host: &str, port: u16) -> Self {
        if let Err(expected) = PrometheusConfig::check_host(host) {
            self.errors
                .push(invalid("prometheus_listen", host, expected));
            return self;
        }
        self.config.prometheus = PrometheusConfig {
            host: host.to_owned(),
            port,
        };
        if !self
            .config
            .metrics_exporters
            .contains(&ExporterKind::Prometheus)
        {
            self.config.metrics_exporters.push(ExporterKind::Prometheus);
        }
        self
    }
}
