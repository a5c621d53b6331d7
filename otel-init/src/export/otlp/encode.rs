//! Encoding a request once per batch, however many attempts it takes.

#[cfg(feature = "http-json")]
use super::retry::AttemptError;
use super::{OtlpRequest, log_wire, span_wire};
use crate::config::Signal;
use bytes::Bytes;
use prost::Message;

/// A request in its wire form; cloning it is cheap.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    pub signal: Signal,
    pub body: Bytes,
}

/// Binary protobuf, for gRPC and OTLP/HTTP with `application/x-protobuf`.
/// Spans and log records are written straight from the SDK's data
/// ([`span_wire`], [`log_wire`]).
pub(crate) fn protobuf(request: &OtlpRequest) -> Encoded {
    let body = match request {
        OtlpRequest::Spans(b) => span_wire::encode_request(&b.spans, &b.resource.encoded),
        OtlpRequest::Metrics(r) => r.encode_to_vec(),
        OtlpRequest::Logs(b) => log_wire::encode_request(&b.items, &b.resource.encoded, b.limits),
    };
    Encoded {
        signal: request.signal(),
        body: Bytes::from(body),
    }
}

#[cfg(feature = "http-json")]
/// The OTLP JSON encoding (spans through `opentelemetry-proto`'s types).
pub(crate) fn json(request: &OtlpRequest) -> Result<Encoded, AttemptError> {
    let body = match request {
        OtlpRequest::Spans(b) => serde_json::to_vec(&b.to_proto()),
        OtlpRequest::Metrics(r) => serde_json::to_vec(r),
        OtlpRequest::Logs(b) => serde_json::to_vec(&b.to_proto()),
    }
    .map_err(|e| AttemptError::Permanent(format!("cannot encode JSON: {e}")))?;
    Ok(Encoded {
        signal: request.signal(),
        body: Bytes::from(body),
    })
}
