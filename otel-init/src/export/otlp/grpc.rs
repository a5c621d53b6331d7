//! OTLP/gRPC over tonic.

use super::retry::{AttemptError, grpc_code_is_transient};
use super::tls::TlsFiles;
use super::{OtlpRequest, USER_AGENT, report_partial_success};
use crate::config::{Compression, OtlpConfig, Signal};
use crate::error::InitError;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use tonic::codec::CompressionEncoding;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_types::StatusExt;

#[derive(Debug)]
pub(crate) struct GrpcTransport {
    channel: Channel,
    metadata: MetadataMap,
    gzip: bool,
}

impl GrpcTransport {
    pub(crate) fn new(
        signal: Signal,
        config: &OtlpConfig,
        files: &TlsFiles,
    ) -> Result<Self, InitError> {
        let err = |reason: String| InitError::Exporter {
            signal: signal_name(signal),
            endpoint: config.endpoint.clone(),
            reason,
        };
        let mut endpoint = Endpoint::from_shared(config.endpoint.clone())
            .map_err(|e| err(e.to_string()))?
            .user_agent(USER_AGENT)
            .map_err(|e| err(e.to_string()))?
            .connect_timeout(config.timeout.min(std::time::Duration::from_secs(10)));
        if config
            .endpoint
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        {
            let mut tls = ClientTlsConfig::new().with_native_roots();
            if let Some(ca) = &files.ca {
                tls = tls.ca_certificate(Certificate::from_pem(ca));
            }
            if let Some((cert, key)) = &files.identity {
                tls = tls.identity(Identity::from_pem(cert, key));
            }
            endpoint = endpoint.tls_config(tls).map_err(|e| err(e.to_string()))?;
        }
        let mut metadata = MetadataMap::new();
        for (k, v) in &config.headers {
            let key = MetadataKey::from_bytes(k.as_bytes()).map_err(|e| err(e.to_string()))?;
            let value = MetadataValue::try_from(v.as_str()).map_err(|e| err(e.to_string()))?;
            metadata.insert(key, value);
        }
        Ok(Self {
            channel: endpoint.connect_lazy(),
            metadata,
            gzip: config.compression == Some(Compression::Gzip),
        })
    }

    pub(crate) async fn send(&self, request: OtlpRequest) -> Result<(), AttemptError> {
        let signal = request.signal();
        let result = match request {
            OtlpRequest::Traces(r) => {
                let mut c = TraceServiceClient::new(self.channel.clone());
                if self.gzip {
                    c = c.send_compressed(CompressionEncoding::Gzip);
                }
                c.export(self.request(r)).await.map(|resp| {
                    resp.into_inner()
                        .partial_success
                        .map(|p| (p.rejected_spans, p.error_message))
                })
            }
            OtlpRequest::Metrics(r) => {
                let mut c = MetricsServiceClient::new(self.channel.clone());
                if self.gzip {
                    c = c.send_compressed(CompressionEncoding::Gzip);
                }
                c.export(self.request(r)).await.map(|resp| {
                    resp.into_inner()
                        .partial_success
                        .map(|p| (p.rejected_data_points, p.error_message))
                })
            }
            OtlpRequest::Logs(r) => {
                let mut c = LogsServiceClient::new(self.channel.clone());
                if self.gzip {
                    c = c.send_compressed(CompressionEncoding::Gzip);
                }
                c.export(self.request(r)).await.map(|resp| {
                    resp.into_inner()
                        .partial_success
                        .map(|p| (p.rejected_log_records, p.error_message))
                })
            }
        };
        match result {
            Ok(partial) => {
                if let Some((rejected, message)) = partial {
                    report_partial_success(signal, rejected, &message);
                }
                Ok(())
            }
            Err(status) => Err(classify(&status)),
        }
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        *request.metadata_mut() = self.metadata.clone();
        request
    }
}

fn classify(status: &tonic::Status) -> AttemptError {
    let retry_after = status.get_details_retry_info().and_then(|i| i.retry_delay);
    let reason = format!("gRPC status {:?}: {}", status.code(), status.message());
    if grpc_code_is_transient(status.code(), retry_after.is_some()) {
        AttemptError::Transient {
            reason,
            retry_after,
        }
    } else {
        AttemptError::Permanent(reason)
    }
}

fn signal_name(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "traces",
        Signal::Metrics => "metrics",
        Signal::Logs => "logs",
    }
}
