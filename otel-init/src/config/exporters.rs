//! `OTEL_{TRACES,METRICS,LOGS}_EXPORTER`.

use super::env::EnvReader;
use super::push_unique;

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
    /// Metrics only: served for scraping on `OTEL_EXPORTER_PROMETHEUS_HOST`
    /// and `_PORT` (cargo feature `prometheus`).
    ///
    /// ```
    /// use otel_init::config::{Config, ExporterKind};
    /// let config = Config::from_source(&[
    ///     ("OTEL_METRICS_EXPORTER", "prometheus,otlp"),
    ///     ("OTEL_TRACES_EXPORTER", "prometheus"), // metrics only: warned, default used
    /// ]);
    /// assert_eq!(config.metrics_exporters, [ExporterKind::Prometheus, ExporterKind::Otlp]);
    /// assert_eq!(config.traces_exporters, [ExporterKind::Otlp]);
    /// assert_eq!(config.warnings[0].variable, "OTEL_TRACES_EXPORTER");
    /// ```
    Prometheus,
}

pub(super) fn read_exporters(r: &mut EnvReader<'_>, name: &str) -> Vec<ExporterKind> {
    let Some(raw) = r.string(name) else {
        return vec![ExporterKind::Otlp];
    };
    let mut out = Vec::new();
    for entry in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match entry.to_ascii_lowercase().as_str() {
            "none" => return Vec::new(),
            "otlp" => push_unique(&mut out, ExporterKind::Otlp),
            "console" | "logging" => push_unique(&mut out, ExporterKind::Console),
            "prometheus" if name == "OTEL_METRICS_EXPORTER" => {
                push_unique(&mut out, ExporterKind::Prometheus)
            }
            "prometheus" => r.warn(
                name,
                entry,
                "otlp, console or none (prometheus exports metrics only); ignoring this entry",
            ),
            _ if name == "OTEL_METRICS_EXPORTER" => r.warn(
                name,
                entry,
                "a comma-separated list of otlp, prometheus, console or none; ignoring this entry",
            ),
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
