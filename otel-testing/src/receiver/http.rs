//! OTLP/HTTP: `POST /v1/{traces,metrics,logs}` with protobuf or JSON bodies,
//! optionally gzip- or deflate-compressed.

use std::io::Read;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::store::{Decision, ExportRequest, Failure, Store, Transport};

/// Largest request body accepted (axum's default is only 2 MiB).
const MAX_BODY_SIZE: usize = 64 * 1024 * 1024;

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// The body encodings of OTLP/HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Protobuf,
    Json,
}

impl Format {
    /// The format named by the request's `Content-Type`, if it is one.
    fn of(headers: &HeaderMap) -> Option<Format> {
        let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
        let media_type = value.split(';').next()?.trim().to_ascii_lowercase();
        match media_type.as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Format::Protobuf),
            "application/json" => Some(Format::Json),
            _ => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Protobuf => PROTOBUF,
            Format::Json => JSON,
        }
    }

    fn transport(self) -> Transport {
        match self {
            Format::Protobuf => Transport::HttpProtobuf,
            Format::Json => Transport::HttpJson,
        }
    }
}

/// The axum router serving the three OTLP/HTTP endpoints.
pub(crate) fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route("/v1/traces", post(traces))
        .route("/v1/metrics", post(metrics))
        .route("/v1/logs", post(logs))
        .layer(DefaultBodyLimit::max(MAX_BODY_SIZE))
        .with_state(store)
}

async fn traces(State(store): State<Arc<Store>>, headers: HeaderMap, body: Bytes) -> Response {
    handle::<ExportTraceServiceRequest, ExportTraceServiceResponse>(
        &store,
        &headers,
        body,
        ExportRequest::Traces,
    )
    .await
}

async fn metrics(State(store): State<Arc<Store>>, headers: HeaderMap, body: Bytes) -> Response {
    handle::<ExportMetricsServiceRequest, ExportMetricsServiceResponse>(
        &store,
        &headers,
        body,
        ExportRequest::Metrics,
    )
    .await
}

async fn logs(State(store): State<Arc<Store>>, headers: HeaderMap, body: Bytes) -> Response {
    handle::<ExportLogsServiceRequest, ExportLogsServiceResponse>(
        &store,
        &headers,
        body,
        ExportRequest::Logs,
    )
    .await
}

/// Counts the attempt, applies the configured behaviour, then decodes and
/// records the request and answers with an empty `Resp` in the request's
/// encoding.
async fn handle<Req, Resp>(
    store: &Store,
    headers: &HeaderMap,
    body: Bytes,
    wrap: fn(Req) -> ExportRequest,
) -> Response
where
    Req: prost::Message + Default + DeserializeOwned,
    Resp: prost::Message + Default + Serialize,
{
    let format = Format::of(headers);
    match store.begin() {
        Decision::Accept => {}
        Decision::Fail(failure) => {
            return failure_response(failure, format.unwrap_or(Format::Protobuf));
        }
        Decision::Blackhole => return std::future::pending().await,
    }
    let Some(format) = format else {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be {PROTOBUF} or {JSON}"),
        )
            .into_response();
    };
    let body = match decompress(headers, body) {
        Ok(body) => body,
        Err(message) => return bad_request(format, message),
    };
    let request = match format {
        Format::Protobuf => Req::decode(body.as_slice()).map_err(|e| e.to_string()),
        Format::Json => serde_json::from_slice::<Req>(&body).map_err(|e| e.to_string()),
    };
    let request = match request {
        Ok(request) => request,
        Err(error) => return bad_request(format, format!("undecodable request body: {error}")),
    };
    store.record(format.transport(), headers, wrap(request));
    encoded(StatusCode::OK, format, &Resp::default())
}

/// The body with its `Content-Encoding` (gzip, deflate or identity) undone.
fn decompress(headers: &HeaderMap, body: Bytes) -> Result<Vec<u8>, String> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    let mut out = Vec::new();
    let result = match encoding.as_str() {
        "" | "identity" => return Ok(body.to_vec()),
        "gzip" | "x-gzip" => flate2::read::GzDecoder::new(body.as_ref()).read_to_end(&mut out),
        "deflate" => flate2::read::ZlibDecoder::new(body.as_ref()).read_to_end(&mut out),
        other => return Err(format!("unsupported Content-Encoding {other:?}")),
    };
    result
        .map(|_| out)
        .map_err(|e| format!("cannot decompress {encoding} body: {e}"))
}

/// A response with `message` in the request's encoding.
fn encoded<M: prost::Message + Serialize>(
    status: StatusCode,
    format: Format,
    message: &M,
) -> Response {
    let body = match format {
        Format::Protobuf => message.encode_to_vec(),
        Format::Json => match serde_json::to_vec(message) {
            Ok(body) => body,
            Err(error) => {
                return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response();
            }
        },
    };
    (
        status,
        [(header::CONTENT_TYPE, format.content_type())],
        body,
    )
        .into_response()
}

/// A `google.rpc.Status` body, as OTLP/HTTP prescribes for failures.
fn status_response(
    status: StatusCode,
    format: Format,
    code: tonic::Code,
    message: String,
) -> Response {
    let body = match format {
        Format::Protobuf => prost::Message::encode_to_vec(&tonic_types::pb::Status {
            code: code as i32,
            message,
            details: Vec::new(),
        }),
        Format::Json => serde_json::json!({ "code": code as i32, "message": message })
            .to_string()
            .into_bytes(),
    };
    (
        status,
        [(header::CONTENT_TYPE, format.content_type())],
        body,
    )
        .into_response()
}

fn bad_request(format: Format, message: String) -> Response {
    status_response(
        StatusCode::BAD_REQUEST,
        format,
        tonic::Code::InvalidArgument,
        message,
    )
}

fn failure_response(failure: Failure, format: Format) -> Response {
    let status =
        StatusCode::from_u16(failure.http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = format!(
        "otel-testing receiver: injected failure (HTTP {})",
        failure.http_status
    );
    let mut response = status_response(status, format, failure.grpc_code, message);
    if let Some(secs) = failure.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_parsing() {
        let mut headers = HeaderMap::new();
        assert_eq!(Format::of(&headers), None);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert_eq!(Format::of(&headers), Some(Format::Json));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/X-Protobuf"),
        );
        assert_eq!(Format::of(&headers), Some(Format::Protobuf));
    }

    #[test]
    fn gzip_round_trip() {
        use flate2::Compression;
        use flate2::write::GzEncoder;
        use std::io::Write;
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(b"hello").expect("write to Vec");
        let compressed = encoder.finish().expect("finish gzip");
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        assert_eq!(
            decompress(&headers, Bytes::from(compressed)).as_deref(),
            Ok(&b"hello"[..])
        );
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        assert!(decompress(&headers, Bytes::from_static(b"x")).is_err());
    }
}
