//! The metric exporter used by the SDK's periodic reader: it encodes on the
//! reader's thread and sends on the export runtime, under the export timeout.

use super::otlp::{OtlpClient, OtlpRequest};
use super::stats::SignalStats;
use crate::config::TemporalityPreference;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;

/// Where encoded metric requests go.
pub(crate) enum MetricTarget {
    /// An OTLP collector, through the export runtime.
    Otlp {
        client: Arc<OtlpClient>,
        handle: Handle,
    },
    /// Human-readable lines on stderr.
    Console,
}

pub(crate) struct MetricExporter {
    pub(crate) target: MetricTarget,
    pub(crate) timeout: Duration,
    pub(crate) temporality: TemporalityPreference,
    pub(crate) stats: Arc<SignalStats>,
    /// The exemplars to attach (`None` with `always_off`).
    pub(crate) exemplars: Option<Arc<crate::metrics::ExemplarStore>>,
}

impl std::fmt::Debug for MetricExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricExporter").finish_non_exhaustive()
    }
}

impl PushMetricExporter for MetricExporter {
    fn export(&self, metrics: &ResourceMetrics) -> impl Future<Output = OTelSdkResult> + Send {
        let mut request = ExportMetricsServiceRequest::from(metrics);
        if let Some(exemplars) = &self.exemplars {
            crate::metrics::attach(exemplars, &mut request);
        }
        let points = data_points(&request);
        let stats = self.stats.clone();
        let timeout = self.timeout;
        let job = match &self.target {
            MetricTarget::Console => {
                super::console::print_metrics(&request);
                stats.on_exported(points);
                None
            }
            MetricTarget::Otlp { client, handle } => {
                let client = client.clone();
                // Counted inside the task, so that an export the runtime
                // cancels at shutdown is counted before the guard reports.
                let outcome = Outcome {
                    stats: stats.clone(),
                    points,
                    settled: false,
                };
                Some(handle.spawn(async move {
                    let mut outcome = outcome;
                    let result =
                        tokio::time::timeout(timeout, client.send(OtlpRequest::Metrics(request)))
                            .await
                            .unwrap_or_else(|_| {
                                Err(format!(
                                    "no result within the export timeout of {timeout:?}"
                                ))
                            });
                    outcome.settle(&result);
                    result
                }))
            }
        };
        async move {
            let Some(job) = job else {
                return Ok(());
            };
            match job.await {
                Ok(result) => result.map_err(OTelSdkError::InternalFailure),
                Err(e) => Err(OTelSdkError::InternalFailure(e.to_string())),
            }
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        match self.temporality {
            TemporalityPreference::Cumulative => Temporality::Cumulative,
            TemporalityPreference::Delta => Temporality::Delta,
            TemporalityPreference::LowMemory => Temporality::LowMemory,
        }
    }
}

/// The data points of one export: what it delivers or loses.
fn data_points(request: &ExportMetricsServiceRequest) -> usize {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| match &m.data {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Sum(s)) => s.data_points.len(),
            Some(Data::Histogram(h)) => h.data_points.len(),
            Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
            Some(Data::Summary(s)) => s.data_points.len(),
            None => 0,
        })
        .sum()
}

/// Counts one export's points once: exported, failed, or (dropped unsettled,
/// when the export thread stops) abandoned at shutdown.
struct Outcome {
    stats: Arc<SignalStats>,
    points: usize,
    settled: bool,
}

impl Outcome {
    fn settle(&mut self, result: &Result<(), String>) {
        self.settled = true;
        match result {
            Ok(()) => self.stats.on_exported(self.points),
            Err(reason) => self.stats.on_failed(self.points, reason),
        }
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        if !self.settled {
            self.stats.on_abandoned(self.points as u64);
        }
    }
}
