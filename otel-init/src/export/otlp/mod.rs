//! The OTLP client: gRPC or HTTP (protobuf or JSON), with retries, TLS,
//! headers, compression and a per-attempt timeout.

mod encode;
#[cfg(feature = "grpc")]
mod grpc;
#[cfg(any(feature = "http-proto", feature = "http-json"))]
mod http;
mod log_wire;
pub(crate) mod retry;
mod span_wire;
mod support;
#[cfg(feature = "tls")]
mod tls;
mod wire;

#[cfg(not(any(feature = "grpc", feature = "http-proto", feature = "http-json")))]
compile_error!(
    "otel-init needs at least one OTLP transport feature: `grpc`, `http-proto` or `http-json`"
);

pub(crate) use support::usable;
#[cfg(feature = "tls")]
use tls::TlsFiles;

/// Without the `tls` feature there is no TLS material to load.
#[cfg(not(feature = "tls"))]
#[derive(Debug)]
pub(crate) struct TlsFiles;

use crate::config::{OtlpConfig, Protocol, Signal};
use crate::error::InitError;
use crate::export::runtime::Closing;
pub(crate) use log_wire::LogLimits;
#[cfg(feature = "http-json")]
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
#[cfg(feature = "http-json")]
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
#[cfg(feature = "http-json")]
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
#[cfg(feature = "http-json")]
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::trace::SpanData;
use retry::AttemptError;
pub use retry::RetryPolicy;
use std::sync::{Arc, Mutex};

/// The `User-Agent` every export request carries.
pub(crate) const USER_AGENT: &str = concat!(
    "OTel-OTLP-Exporter-Rust/otel-init-",
    env!("CARGO_PKG_VERSION")
);

/// One export request of any signal.
#[derive(Debug, Clone)]
pub(crate) enum OtlpRequest {
    Spans(SpanBatch),
    Metrics(ExportMetricsServiceRequest),
    Logs(LogRecordBatch),
}

impl OtlpRequest {
    pub(crate) fn signal(&self) -> Signal {
        match self {
            OtlpRequest::Spans(_) => Signal::Traces,
            OtlpRequest::Metrics(_) => Signal::Metrics,
            OtlpRequest::Logs(_) => Signal::Logs,
        }
    }
}

/// Finished spans to export, with the resource they share.
#[derive(Debug, Clone)]
pub(crate) struct SpanBatch {
    pub spans: Vec<SpanData>,
    pub resource: Arc<ExportResource>,
}

#[cfg(feature = "http-json")]
impl SpanBatch {
    /// The batch as `opentelemetry-proto`'s message (for the JSON encoding).
    pub(crate) fn to_proto(&self) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(
                self.spans.clone(),
                &self.resource.attributes,
            ),
        }
    }
}

/// Log records to export, with the resource they share and the attribute
/// limits to apply.
#[derive(Debug, Clone)]
pub(crate) struct LogRecordBatch {
    pub items: Vec<crate::export::logs::LogItem>,
    pub resource: Arc<ExportResource>,
    pub limits: LogLimits,
}

#[cfg(feature = "http-json")]
impl LogRecordBatch {
    /// The batch as `opentelemetry-proto`'s message (for the JSON encoding).
    pub(crate) fn to_proto(&self) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: crate::export::logs::encode(
                &self.items,
                &self.resource.attributes,
                self.limits.value_length,
                self.limits.count,
            ),
        }
    }
}

/// The resource of an exporter, in both forms its encodings need.
#[derive(Debug)]
pub(crate) struct ExportResource {
    encoded: wire::EncodedResource,
    #[cfg(feature = "http-json")]
    attributes: ResourceAttributesWithSchema,
}

impl ExportResource {
    pub(crate) fn new(resource: &opentelemetry_sdk::Resource) -> Self {
        Self {
            encoded: wire::EncodedResource::new(resource),
            #[cfg(feature = "http-json")]
            attributes: ResourceAttributesWithSchema::from(resource),
        }
    }
}

/// An OTLP client for one signal.
#[derive(Debug)]
pub(crate) struct OtlpClient {
    signal: Signal,
    transport: Transport,
    retry: RetryPolicy,
    timeout: std::time::Duration,
    /// The endpoint with its user-info redacted, for messages.
    endpoint: String,
    closing: Arc<Closing>,
    /// The first failure once shutdown had begun.
    at_close: Mutex<Option<CloseFailure>>,
}

/// Why an export failed once shutdown had begun.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CloseFailure {
    /// The collector refused the connection (the system's words).
    Refused(String),
    /// The export failed for another reason.
    Failed(String),
    /// The export was still waiting for the collector when it was abandoned.
    NoAnswer,
}

#[derive(Debug)]
enum Transport {
    #[cfg(feature = "grpc")]
    Grpc(grpc::GrpcTransport),
    #[cfg(any(feature = "http-proto", feature = "http-json"))]
    Http(Box<http::HttpTransport>),
}

impl OtlpClient {
    /// Builds the client; must run inside the export runtime (gRPC channels bind to it).
    /// `config` must be one [`usable`] returned: its protocol, scheme and
    /// compression are those this build has the features for.
    pub(crate) fn new(
        signal: Signal,
        config: &OtlpConfig,
        retry: RetryPolicy,
        closing: Arc<Closing>,
    ) -> Result<Self, InitError> {
        #[cfg(feature = "tls")]
        let files = tls::load(config)?;
        #[cfg(not(feature = "tls"))]
        let files = TlsFiles;
        let transport = match config.protocol {
            #[cfg(feature = "grpc")]
            Protocol::Grpc => Transport::Grpc(grpc::GrpcTransport::new(signal, config, &files)?),
            #[cfg(any(feature = "http-proto", feature = "http-json"))]
            Protocol::HttpProtobuf | Protocol::HttpJson => {
                Transport::Http(Box::new(http::HttpTransport::new(signal, config, &files)?))
            }
            #[allow(unreachable_patterns)]
            other => {
                return Err(InitError::Exporter {
                    signal: signal.as_str(),
                    endpoint: crate::redact::url(&config.endpoint),
                    reason: format!("{other:?} is not in this build (a cargo feature is off)"),
                });
            }
        };
        Ok(Self {
            signal,
            transport,
            retry,
            timeout: config.timeout,
            endpoint: crate::redact::url(&config.endpoint),
            closing,
            at_close: Mutex::new(None),
        })
    }

    /// The signal this client exports.
    pub(crate) fn signal(&self) -> Signal {
        self.signal
    }

    /// The endpoint, its user-info redacted.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The first export failure once shutdown had begun, if any.
    pub(crate) fn failure_at_close(&self) -> Option<CloseFailure> {
        self.at_close.lock().ok().and_then(|f| f.clone())
    }

    fn record_at_close(&self, failure: CloseFailure) {
        if self.closing.is_set()
            && let Ok(mut slot) = self.at_close.lock()
        {
            slot.get_or_insert(failure);
        }
    }

    /// Sends a request, retrying transient failures; `Err` explains the final failure.
    /// The request is encoded once, whatever the number of attempts.
    pub(crate) async fn send(&self, request: OtlpRequest) -> Result<(), String> {
        let encoded = match &self.transport {
            #[cfg(feature = "grpc")]
            Transport::Grpc(_) => Ok(encode::protobuf(&request)),
            #[cfg(any(feature = "http-proto", feature = "http-json"))]
            Transport::Http(t) => t.encode(&request),
        };
        drop(request);
        let encoded = match encoded {
            Ok(e) => e,
            Err(
                AttemptError::Permanent(reason)
                | AttemptError::Transient { reason, .. }
                | AttemptError::Refused { reason, .. },
            ) => {
                return Err(reason);
            }
        };
        // Notes an export abandoned during shutdown (its future dropped).
        let mut waiting = Waiting {
            client: self,
            done: false,
        };
        let result = self
            .retry
            .run(&self.closing, || {
                let encoded = encoded.clone();
                async move {
                    let attempt = async {
                        match &self.transport {
                            #[cfg(feature = "grpc")]
                            Transport::Grpc(t) => t.send(encoded).await,
                            #[cfg(any(feature = "http-proto", feature = "http-json"))]
                            Transport::Http(t) => t.send(encoded).await,
                        }
                    };
                    match tokio::time::timeout(self.timeout, attempt).await {
                        Ok(r) => r,
                        Err(_) => Err(AttemptError::Transient {
                            reason: format!("no response within {:?}", self.timeout),
                            retry_after: None,
                        }),
                    }
                }
            })
            .await;
        waiting.done = true;
        result.map_err(|gave_up| {
            self.record_at_close(match gave_up.refused {
                Some(cause) => CloseFailure::Refused(cause),
                None => CloseFailure::Failed(gave_up.reason.clone()),
            });
            format!("{} ({})", gave_up.reason, self.endpoint)
        })
    }
}

/// An export under way; dropped before it is done (the batch deadline, or
/// the export thread stopping at shutdown), it was abandoned.
struct Waiting<'a> {
    client: &'a OtlpClient,
    done: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.client.record_at_close(CloseFailure::NoAnswer);
        }
    }
}

/// Warns when the collector accepted only part of a request (never retried).
pub(crate) fn report_partial_success(signal: Signal, rejected: i64, message: &str) {
    if rejected > 0 || !message.is_empty() {
        crate::diag::warn(format_args!(
            "collector rejected {rejected} {}: {message}",
            signal.item_name()
        ));
    }
}
