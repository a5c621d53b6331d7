//! The Prometheus exporter (`OTEL_METRICS_EXPORTER=prometheus`): a pull
//! reader in the meter provider, and a small HTTP server on the export thread
//! that collects once per scrape and answers in the Prometheus text format or
//! OpenMetrics, whichever the scraper's `Accept` header prefers.
//!
//! Names, units and labels follow the specification's "Prometheus and
//! OpenMetrics Compatibility" (names.rs, encode.rs): `.` and other invalid
//! characters become `_`, the unit becomes a suffix (`s` → `_seconds`), a
//! monotonic sum gets `_total`, histograms become `_bucket{le}`, `_sum` and
//! `_count`, every sample carries `otel_scope_name` / `otel_scope_version`,
//! and the resource becomes one `target_info`.
//!
//! Exemplars (OpenMetrics only) come from an [`ExemplarSource`]
//! (exemplar.rs): a lookup by (scope name, instrument name, attributes) and
//! bucket index that defaults to none.

mod encode;
mod exemplar;
mod names;
mod server;

pub(crate) use encode::{Format, Skipped, encode};
pub(crate) use exemplar::{Exemplar, ExemplarSource, NoExemplars, SeriesKey};

use crate::config::PrometheusConfig;
use crate::export::ExportRuntime;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{InstrumentKind, ManualReader, Pipeline, Temporality};
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Binds `OTEL_EXPORTER_PROMETHEUS_HOST:_PORT` and serves scrapes on the
/// export runtime. `None` (warned): the address cannot be bound, and the
/// exporter is off; the other exporters work as configured.
pub(crate) fn start(
    config: &PrometheusConfig,
    runtime: &ExportRuntime,
    exemplars: Arc<dyn ExemplarSource>,
) -> Option<(PrometheusReader, SocketAddr)> {
    let reader = PrometheusReader::new();
    let served =
        std::net::TcpListener::bind((config.bind_host(), config.port)).and_then(|listener| {
            server::serve(
                listener,
                reader.clone(),
                exemplars,
                runtime.handle(),
                runtime.closing().clone(),
            )
        });
    match served {
        Ok(address) => {
            crate::diag::debug(format_args!("prometheus: serving http://{address}/metrics"));
            Some((reader, address))
        }
        Err(e) => {
            crate::diag::warn(format_args!(
                "cannot listen on {config} (OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_PORT): {e}; the prometheus exporter is off"
            ));
            None
        }
    }
}

/// The meter provider's side of the exporter: a cumulative pull reader that
/// the server shares (the provider owns its readers, so both hold an `Arc`).
#[derive(Debug, Clone)]
pub(crate) struct PrometheusReader(Arc<ManualReader>);

impl PrometheusReader {
    pub(crate) fn new() -> Self {
        Self(Arc::new(
            ManualReader::builder()
                .with_temporality(Temporality::Cumulative)
                .build(),
        ))
    }

    /// Collects every instrument once and encodes the result.
    pub(crate) fn scrape(
        &self,
        format: Format,
        exemplars: &dyn ExemplarSource,
    ) -> Result<(String, Skipped), String> {
        let mut metrics = ResourceMetrics::default();
        self.0.collect(&mut metrics).map_err(|e| e.to_string())?;
        let mut out = String::with_capacity(4096);
        let skipped = encode(&metrics, format, exemplars, &mut out);
        Ok((out, skipped))
    }
}

impl MetricReader for PrometheusReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }

    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}
