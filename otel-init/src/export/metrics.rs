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
}

impl std::fmt::Debug for MetricExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricExporter").finish_non_exhaustive()
    }
}

impl PushMetricExporter for MetricExporter {
    fn export(&self, metrics: &ResourceMetrics) -> impl Future<Output = OTelSdkResult> + Send {
        let request = ExportMetricsServiceRequest::from(metrics);
        let stats = self.stats.clone();
        let timeout = self.timeout;
        let job = match &self.target {
            MetricTarget::Console => {
                super::console::print_metrics(&request);
                None
            }
            MetricTarget::Otlp { client, handle } => {
                let client = client.clone();
                Some(handle.spawn(async move {
                    match tokio::time::timeout(timeout, client.send(OtlpRequest::Metrics(request)))
                        .await
                    {
                        Ok(r) => r,
                        Err(_) => Err(format!(
                            "no result within the export timeout of {timeout:?}"
                        )),
                    }
                }))
            }
        };
        async move {
            let Some(job) = job else {
                stats.on_exported(1);
                return Ok(());
            };
            match job.await {
                Ok(Ok(())) => {
                    stats.on_exported(1);
                    Ok(())
                }
                Ok(Err(reason)) => {
                    stats.on_failed(1, &reason);
                    Err(OTelSdkError::InternalFailure(reason))
                }
                Err(e) => {
                    stats.on_abandoned(1);
                    Err(OTelSdkError::InternalFailure(e.to_string()))
                }
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
