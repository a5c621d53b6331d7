//! OTLP/gRPC over tonic.

use super::encode::Encoded;
use super::retry::{AttemptError, grpc_code_is_transient, refused_cause, unreachable};
use super::{TlsFiles, USER_AGENT, report_partial_success};
use crate::config::{OtlpConfig, Signal};
use crate::error::InitError;
use bytes::{BufMut, Bytes};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tonic_types::StatusExt;

#[derive(Debug)]
pub(crate) struct GrpcTransport {
    channel: Channel,
    metadata: MetadataMap,
    #[cfg(feature = "gzip")]
    gzip: bool,
}

impl GrpcTransport {
    pub(crate) fn new(
        signal: Signal,
        config: &OtlpConfig,
        files: &TlsFiles,
    ) -> Result<Self, InitError> {
        let err = |reason: String| InitError::Exporter {
            signal: signal.as_str(),
            endpoint: config.endpoint.clone(),
            reason,
        };
        #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
        let mut endpoint = Endpoint::from_shared(config.endpoint.clone())
            .map_err(|e| err(e.to_string()))?
            .user_agent(USER_AGENT)
            .map_err(|e| err(e.to_string()))?
            .connect_timeout(config.timeout.min(std::time::Duration::from_secs(10)));
        #[cfg(not(feature = "tls"))]
        let TlsFiles = files;
        #[cfg(feature = "tls")]
        if config
            .endpoint
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        {
            use tonic::transport::{Certificate, ClientTlsConfig, Identity};
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
            #[cfg(feature = "gzip")]
            gzip: super::support::gzip(config),
        })
    }

    pub(crate) async fn send(&self, encoded: Encoded) -> Result<(), AttemptError> {
        #[cfg_attr(not(feature = "gzip"), allow(unused_mut))]
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        #[cfg(feature = "gzip")]
        if self.gzip {
            grpc = grpc.send_compressed(tonic::codec::CompressionEncoding::Gzip);
        }
        grpc.ready()
            .await
            .map_err(|e| unreachable(format!("cannot reach the collector: {e}"), &e))?;
        let signal = encoded.signal;
        let request = self.request(encoded.body);
        let result = match signal {
            Signal::Traces => grpc
                .unary(
                    request,
                    path(TRACES),
                    PreEncoded::<ExportTraceServiceResponse>::default(),
                )
                .await
                .map(|r| {
                    r.into_inner()
                        .partial_success
                        .map(|p| (p.rejected_spans, p.error_message))
                }),
            Signal::Metrics => grpc
                .unary(
                    request,
                    path(METRICS),
                    PreEncoded::<ExportMetricsServiceResponse>::default(),
                )
                .await
                .map(|r| {
                    r.into_inner()
                        .partial_success
                        .map(|p| (p.rejected_data_points, p.error_message))
                }),
            Signal::Logs => grpc
                .unary(
                    request,
                    path(LOGS),
                    PreEncoded::<ExportLogsServiceResponse>::default(),
                )
                .await
                .map(|r| {
                    r.into_inner()
                        .partial_success
                        .map(|p| (p.rejected_log_records, p.error_message))
                }),
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

const TRACES: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const METRICS: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
const LOGS: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

fn path(p: &'static str) -> http::uri::PathAndQuery {
    http::uri::PathAndQuery::from_static(p)
}

/// A codec that sends bytes already encoded as protobuf and decodes the
/// response with prost: the batch is encoded once for all attempts.
struct PreEncoded<R>(std::marker::PhantomData<fn() -> R>);

impl<R> Default for PreEncoded<R> {
    fn default() -> Self {
        Self(std::marker::PhantomData)
    }
}

struct BytesEncoder;

impl Encoder for BytesEncoder {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        dst.put(item);
        Ok(())
    }
}

struct ProstDecoder<R>(std::marker::PhantomData<fn() -> R>);

impl<R: prost::Message + Default> Decoder for ProstDecoder<R> {
    type Item = R;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<R>, Self::Error> {
        R::decode(src)
            .map(Some)
            .map_err(|e| tonic::Status::internal(format!("cannot decode the response: {e}")))
    }
}

impl<R: prost::Message + Default + Send + 'static> Codec for PreEncoded<R> {
    type Encode = Bytes;
    type Decode = R;
    type Encoder = BytesEncoder;
    type Decoder = ProstDecoder<R>;

    fn encoder(&mut self) -> Self::Encoder {
        BytesEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstDecoder(std::marker::PhantomData)
    }
}

fn classify(status: &tonic::Status) -> AttemptError {
    let retry_after = status.get_details_retry_info().and_then(|i| i.retry_delay);
    let reason = format!("gRPC status {:?}: {}", status.code(), status.message());
    if let Some(cause) = refused_cause(status) {
        return AttemptError::Refused { reason, cause };
    }
    if grpc_code_is_transient(status.code(), retry_after.is_some()) {
        AttemptError::Transient {
            reason,
            retry_after,
        }
    } else {
        AttemptError::Permanent(reason)
    }
}
