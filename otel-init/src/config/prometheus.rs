//! `OTEL_EXPORTER_PROMETHEUS_HOST` and `OTEL_EXPORTER_PROMETHEUS_PORT`: where
//! the Prometheus exporter (`OTEL_METRICS_EXPORTER=prometheus`) listens.

use super::env::EnvReader;

/// Where the Prometheus exporter serves `/metrics`.
///
/// ```
/// use otel_init::config::{Config, PrometheusConfig};
/// let config = Config::from_source(&[
///     ("OTEL_METRICS_EXPORTER", "prometheus"),
///     ("OTEL_EXPORTER_PROMETHEUS_HOST", "0.0.0.0"),
///     ("OTEL_EXPORTER_PROMETHEUS_PORT", "9100"),
/// ]);
/// assert_eq!(config.prometheus, PrometheusConfig { host: "0.0.0.0".into(), port: 9100 });
/// assert_eq!(PrometheusConfig::default().to_string(), "localhost:9464"); // the specification's defaults
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrometheusConfig {
    /// `OTEL_EXPORTER_PROMETHEUS_HOST` (default `localhost`): a host name or
    /// an IP address (an IPv6 address with or without brackets).
    pub host: String,
    /// `OTEL_EXPORTER_PROMETHEUS_PORT` (default 9464); 0 picks a free port,
    /// which [`TelemetryGuard::prometheus_address`](crate::TelemetryGuard::prometheus_address) tells.
    pub port: u16,
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        Self {
            host: "localhost".to_owned(),
            port: 9464,
        }
    }
}

impl std::fmt::Display for PrometheusConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') && !self.host.starts_with('[') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl PrometheusConfig {
    /// Checks a host as `OTEL_EXPORTER_PROMETHEUS_HOST` would accept it.
    ///
    /// ```
    /// use otel_init::config::PrometheusConfig;
    /// assert!(PrometheusConfig::check_host("::1").is_ok());
    /// assert!(PrometheusConfig::check_host("http://localhost").is_err()); // a host, not a URL
    /// ```
    pub fn check_host(host: &str) -> Result<(), &'static str> {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if bare.is_empty() {
            return Err("a host name or IP address, not empty");
        }
        if bare.parse::<std::net::IpAddr>().is_ok() {
            return Ok(());
        }
        let name_ok = bare.len() <= 253
            && bare.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if name_ok {
            Ok(())
        } else {
            Err("a host name or IP address (no scheme, port or path)")
        }
    }

    /// The host as a socket address wants it (IPv6 without brackets).
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    pub(crate) fn bind_host(&self) -> &str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(&self.host)
    }
}

pub(super) fn read_prometheus(r: &mut EnvReader<'_>) -> PrometheusConfig {
    let mut config = PrometheusConfig::default();
    if let Some(host) = r.string("OTEL_EXPORTER_PROMETHEUS_HOST") {
        match PrometheusConfig::check_host(&host) {
            Ok(()) => config.host = host,
            Err(expected) => r.warn(
                "OTEL_EXPORTER_PROMETHEUS_HOST",
                &host,
                format!("{expected}; using localhost"),
            ),
        }
    }
    if let Some(port) = r.string("OTEL_EXPORTER_PROMETHEUS_PORT") {
        match port.parse::<u16>() {
            Ok(p) => config.port = p,
            Err(_) => r.warn(
                "OTEL_EXPORTER_PROMETHEUS_PORT",
                &port,
                "a port from 0 (any free port) to 65535; using 9464",
            ),
        }
    }
    config
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, PrometheusConfig};

    #[test]
    fn defaults_and_valid_values() {
        assert_eq!(
            Config::from_source(&[]).prometheus,
            PrometheusConfig::default()
        );
        for (host, port, shown) in [
            ("127.0.0.1", "0", "127.0.0.1:0"),
            ("::1", "9464", "[::1]:9464"),
            ("[::1]", "9464", "[::1]:9464"),
            ("metrics.internal", "65535", "metrics.internal:65535"),
        ] {
            let c = Config::from_source(&[
                ("OTEL_EXPORTER_PROMETHEUS_HOST", host),
                ("OTEL_EXPORTER_PROMETHEUS_PORT", port),
            ]);
            assert!(c.warnings.is_empty(), "{host}: {:?}", c.warnings);
            assert_eq!(c.prometheus.to_string(), shown);
        }
    }

    #[test]
    fn bad_values_warn_by_name_and_use_the_default() {
        let c = Config::from_source(&[
            (
                "OTEL_EXPORTER_PROMETHEUS_HOST",
                "http://0.0.0.0:9464/metrics",
            ),
            ("OTEL_EXPORTER_PROMETHEUS_PORT", "65536"),
        ]);
        assert_eq!(c.prometheus, PrometheusConfig::default());
        let shown: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "invalid value \"http://0.0.0.0:9464/metrics\" for OTEL_EXPORTER_PROMETHEUS_HOST: expected a host name or IP address (no scheme, port or path); using localhost",
                "invalid value \"65536\" for OTEL_EXPORTER_PROMETHEUS_PORT: expected a port from 0 (any free port) to 65535; using 9464",
            ]
        );
    }
}
