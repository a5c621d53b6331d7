//! Shared state of a receiver: the recorded requests, the attempt counter and
//! the fault-injection behaviour.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use http::HeaderMap;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// How the receiver answers the requests it gets. Settable at any time with
/// [`OtlpReceiver::set_behavior`](super::OtlpReceiver::set_behavior).
///
/// Every request counts towards
/// [`OtlpReceiver::attempts`](super::OtlpReceiver::attempts), but only
/// accepted requests are recorded.
///
/// ```
/// # use otel_testing::opentelemetry_proto::tonic::{collector::trace::v1::ExportTraceServiceRequest, trace::v1::*};
/// # use prost::Message as _;
/// # use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
/// # async fn post(addr: std::net::SocketAddr, path: &str, body: Vec<u8>) -> u16 { // one OTLP/HTTP request; its status
/// #     let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
/// #     let head = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\nx-tenant: acme\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
/// #     tcp.write_all(&[head.as_bytes(), &body].concat()).await.unwrap();
/// #     let mut response = Vec::new();
/// #     tcp.read_to_end(&mut response).await.unwrap();
/// #     String::from_utf8_lossy(&response)[9..12].parse().unwrap()
/// # }
/// # async fn send_span(addr: std::net::SocketAddr, name: &str) -> u16 { // what an SDK exporter does
/// #     let spans = vec![Span { name: name.into(), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() }];
/// #     let resource_spans = vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans, ..Default::default() }], ..Default::default() }];
/// #     post(addr, "/v1/traces", ExportTraceServiceRequest { resource_spans }.encode_to_vec()).await
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use otel_testing::{Behavior, OtlpReceiver};
///
/// let receiver = OtlpReceiver::start().await.unwrap();
/// receiver.set_behavior(Behavior::FailHttp { status: 429, retry_after: Some(1) });
/// assert_eq!(send_span(receiver.http_addr(), "throttled").await, 429);
/// receiver.set_behavior(Behavior::FailGrpc(tonic::Code::PermissionDenied)); // 403 on HTTP
/// assert_eq!(send_span(receiver.http_addr(), "denied").await, 403);
/// receiver.set_behavior(Behavior::Accept);
/// assert_eq!(send_span(receiver.http_addr(), "accepted").await, 200);
/// assert_eq!(receiver.attempts(), 3);
/// assert_eq!(receiver.spans().len(), 1);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Behavior {
    /// Decode, record and answer with a success response (the default).
    #[default]
    Accept,
    /// Fail every request. HTTP answers with `status` (and a `Retry-After`
    /// header of `retry_after` seconds when given); gRPC answers with the
    /// mapped code (429 and 503 map to `UNAVAILABLE`, 500 to `INTERNAL`, 400
    /// to `INVALID_ARGUMENT`, see [`grpc_code_for_http`]), with a
    /// `google.rpc.RetryInfo` detail when `retry_after` is given.
    FailHttp {
        /// HTTP status code to answer with.
        status: u16,
        /// Value of the `Retry-After` header, in seconds.
        retry_after: Option<u64>,
    },
    /// Fail every request: gRPC answers with this code, HTTP with the mapped
    /// status (see [`http_status_for_grpc`]).
    FailGrpc(tonic::Code),
    /// Fail the next `n` requests (counted from the moment this behaviour is
    /// set) like [`Behavior::FailHttp`] with `status` and no `Retry-After`,
    /// then accept.
    FailTimes {
        /// How many requests fail.
        n: usize,
        /// HTTP status of the failures (gRPC gets the mapped code).
        status: u16,
    },
    /// Accept the connection and read the request, but never answer.
    Blackhole,
}

/// The transport a request came in on.
///
/// ```
/// # use otel_testing::opentelemetry_proto::tonic::{collector::trace::v1::ExportTraceServiceRequest, trace::v1::*};
/// # use prost::Message as _;
/// # use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
/// # async fn post(addr: std::net::SocketAddr, path: &str, body: Vec<u8>) -> u16 { // one OTLP/HTTP request; its status
/// #     let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
/// #     let head = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\nx-tenant: acme\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
/// #     tcp.write_all(&[head.as_bytes(), &body].concat()).await.unwrap();
/// #     let mut response = Vec::new();
/// #     tcp.read_to_end(&mut response).await.unwrap();
/// #     String::from_utf8_lossy(&response)[9..12].parse().unwrap()
/// # }
/// # async fn send_span(addr: std::net::SocketAddr, name: &str) -> u16 { // what an SDK exporter does
/// #     let spans = vec![Span { name: name.into(), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() }];
/// #     let resource_spans = vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans, ..Default::default() }], ..Default::default() }];
/// #     post(addr, "/v1/traces", ExportTraceServiceRequest { resource_spans }.encode_to_vec()).await
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use otel_testing::{OtlpReceiver, Transport};
///
/// let receiver = OtlpReceiver::start().await.unwrap();
/// send_span(receiver.http_addr(), "checkout").await; // application/x-protobuf
/// assert_eq!(receiver.requests()[0].transport, Transport::HttpProtobuf);
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP with `application/x-protobuf` bodies.
    HttpProtobuf,
    /// OTLP/HTTP with `application/json` bodies.
    HttpJson,
}

/// The telemetry signal of a request.
///
/// ```
/// # use otel_testing::opentelemetry_proto::tonic::{collector::trace::v1::ExportTraceServiceRequest, trace::v1::*};
/// # use prost::Message as _;
/// # use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
/// # async fn post(addr: std::net::SocketAddr, path: &str, body: Vec<u8>) -> u16 { // one OTLP/HTTP request; its status
/// #     let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
/// #     let head = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\nx-tenant: acme\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
/// #     tcp.write_all(&[head.as_bytes(), &body].concat()).await.unwrap();
/// #     let mut response = Vec::new();
/// #     tcp.read_to_end(&mut response).await.unwrap();
/// #     String::from_utf8_lossy(&response)[9..12].parse().unwrap()
/// # }
/// # async fn send_span(addr: std::net::SocketAddr, name: &str) -> u16 { // what an SDK exporter does
/// #     let spans = vec![Span { name: name.into(), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() }];
/// #     let resource_spans = vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans, ..Default::default() }], ..Default::default() }];
/// #     post(addr, "/v1/traces", ExportTraceServiceRequest { resource_spans }.encode_to_vec()).await
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use otel_testing::{OtlpReceiver, Signal};
///
/// let receiver = OtlpReceiver::start().await.unwrap();
/// send_span(receiver.http_addr(), "checkout").await;
/// let request = &receiver.requests()[0];
/// assert_eq!(request.signal, Signal::Traces);
/// assert_eq!(request.request.signal(), Signal::Traces);
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// Traces (`/v1/traces`, `TraceService/Export`).
    Traces,
    /// Metrics (`/v1/metrics`, `MetricsService/Export`).
    Metrics,
    /// Logs (`/v1/logs`, `LogsService/Export`).
    Logs,
}

/// A decoded export request of any signal.
///
/// ```
/// # use otel_testing::opentelemetry_proto::tonic::{collector::trace::v1::ExportTraceServiceRequest, trace::v1::*};
/// # use prost::Message as _;
/// # use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
/// # async fn post(addr: std::net::SocketAddr, path: &str, body: Vec<u8>) -> u16 { // one OTLP/HTTP request; its status
/// #     let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
/// #     let head = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\nx-tenant: acme\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
/// #     tcp.write_all(&[head.as_bytes(), &body].concat()).await.unwrap();
/// #     let mut response = Vec::new();
/// #     tcp.read_to_end(&mut response).await.unwrap();
/// #     String::from_utf8_lossy(&response)[9..12].parse().unwrap()
/// # }
/// # async fn send_span(addr: std::net::SocketAddr, name: &str) -> u16 { // what an SDK exporter does
/// #     let spans = vec![Span { name: name.into(), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() }];
/// #     let resource_spans = vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans, ..Default::default() }], ..Default::default() }];
/// #     post(addr, "/v1/traces", ExportTraceServiceRequest { resource_spans }.encode_to_vec()).await
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use otel_testing::OtlpReceiver;
/// use otel_testing::receiver::ExportRequest;
///
/// let receiver = OtlpReceiver::start().await.unwrap();
/// send_span(receiver.http_addr(), "checkout").await;
/// match &receiver.requests()[0].request {
///     ExportRequest::Traces(traces) => assert_eq!(traces.resource_spans.len(), 1),
///     other => panic!("not a trace export: {other:?}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum ExportRequest {
    /// A trace export.
    Traces(ExportTraceServiceRequest),
    /// A metrics export.
    Metrics(ExportMetricsServiceRequest),
    /// A logs export.
    Logs(ExportLogsServiceRequest),
}

impl ExportRequest {
    /// The signal of this request.
    ///
    /// ```
    /// # use otel_testing::opentelemetry_proto::tonic::{collector::trace::v1::ExportTraceServiceRequest, trace::v1::*};
    /// # use prost::Message as _;
    /// # use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    /// # async fn post(addr: std::net::SocketAddr, path: &str, body: Vec<u8>) -> u16 { // one OTLP/HTTP request; its status
    /// #     let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    /// #     let head = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\nx-tenant: acme\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
    /// #     tcp.write_all(&[head.as_bytes(), &body].concat()).await.unwrap();
    /// #     let mut response = Vec::new();
    /// #     tcp.read_to_end(&mut response).await.unwrap();
    /// #     String::from_utf8_lossy(&response)[9..12].parse().unwrap()
    /// # }
    /// # async fn send_span(addr: std::net::SocketAddr, name: &str) -> u16 { // what an SDK exporter does
    /// #     let spans = vec![Span { name: name.into(), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() }];
    /// #     let resource_spans = vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans, ..Default::default() }], ..Default::default() }];
    /// #     post(addr, "/v1/traces", ExportTraceServiceRequest { resource_spans }.encode_to_vec()).await
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use otel_testing::{OtlpReceiver, Signal};
    ///
    /// let receiver = OtlpReceiver::start().await.unwrap();
    /// send_span(receiver.http_addr(), "checkout").await;
    /// assert_eq!(receiver.requests()[0].request.signal(), Signal::Traces);
    /// # }
    /// ```
    pub fn signal(&self) -> Signal {
        match self {
            ExportRequest::Traces(_) => Signal::Traces,
            ExportRequest::Metrics(_) => Signal::Metrics,
            ExportRequest::Logs(_) => Signal::Logs,
        }
    }
}

/// One accepted request, as recorded by the receiver.
///
/// ```
/// # use otel_testing::opentelemetry_proto::tonic::{collector::trace::v1::ExportTraceServiceRequest, trace::v1::*};
/// # use prost::Message as _;
/// # use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
/// # async fn post(addr: std::net::SocketAddr, path: &str, body: Vec<u8>) -> u16 { // one OTLP/HTTP request; its status
/// #     let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
/// #     let head = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\nx-tenant: acme\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
/// #     tcp.write_all(&[head.as_bytes(), &body].concat()).await.unwrap();
/// #     let mut response = Vec::new();
/// #     tcp.read_to_end(&mut response).await.unwrap();
/// #     String::from_utf8_lossy(&response)[9..12].parse().unwrap()
/// # }
/// # async fn send_span(addr: std::net::SocketAddr, name: &str) -> u16 { // what an SDK exporter does
/// #     let spans = vec![Span { name: name.into(), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() }];
/// #     let resource_spans = vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans, ..Default::default() }], ..Default::default() }];
/// #     post(addr, "/v1/traces", ExportTraceServiceRequest { resource_spans }.encode_to_vec()).await
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
/// send_span(receiver.http_addr(), "checkout").await;
/// let received = &receiver.requests()[0];
/// assert_eq!(received.headers["content-type"], "application/x-protobuf");
/// assert_eq!(received.headers["x-tenant"], "acme");
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The signal of the request.
    pub signal: Signal,
    /// The transport it came in on.
    pub transport: Transport,
    /// HTTP headers or gRPC metadata: lowercased names to values (several
    /// values of one name are joined with `", "`; non-UTF-8 values are
    /// converted lossily).
    pub headers: BTreeMap<String, String>,
    /// The decoded request.
    pub request: ExportRequest,
}

impl Received {
    /// The value of header (or metadata entry) `name`, looked up
    /// case-insensitively.
    ///
    /// ```
    /// # use otel_testing::opentelemetry_proto::tonic::{collector::trace::v1::ExportTraceServiceRequest, trace::v1::*};
    /// # use prost::Message as _;
    /// # use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    /// # async fn post(addr: std::net::SocketAddr, path: &str, body: Vec<u8>) -> u16 { // one OTLP/HTTP request; its status
    /// #     let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    /// #     let head = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\nx-tenant: acme\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
    /// #     tcp.write_all(&[head.as_bytes(), &body].concat()).await.unwrap();
    /// #     let mut response = Vec::new();
    /// #     tcp.read_to_end(&mut response).await.unwrap();
    /// #     String::from_utf8_lossy(&response)[9..12].parse().unwrap()
    /// # }
    /// # async fn send_span(addr: std::net::SocketAddr, name: &str) -> u16 { // what an SDK exporter does
    /// #     let spans = vec![Span { name: name.into(), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() }];
    /// #     let resource_spans = vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans, ..Default::default() }], ..Default::default() }];
    /// #     post(addr, "/v1/traces", ExportTraceServiceRequest { resource_spans }.encode_to_vec()).await
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
    /// send_span(receiver.http_addr(), "checkout").await;
    /// let received = &receiver.requests()[0];
    /// assert_eq!(received.header("Content-Type"), Some("application/x-protobuf"));
    /// assert_eq!(received.header("authorization"), None);
    /// # }
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// What to do with one incoming request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Accept,
    Fail(Failure),
    Blackhole,
}

/// A failure to answer with, in both transports' terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) http_status: u16,
    pub(crate) grpc_code: tonic::Code,
    pub(crate) retry_after: Option<u64>,
}

impl Failure {
    fn from_http(status: u16, retry_after: Option<u64>) -> Self {
        Failure {
            http_status: status,
            grpc_code: grpc_code_for_http(status),
            retry_after,
        }
    }
}

/// The gRPC code the receiver answers with in place of HTTP status `status`:
/// 429, 502, 503 and 504 map to `UNAVAILABLE` (retryable), 500 to `INTERNAL`,
/// 400 to `INVALID_ARGUMENT`, 401 to `UNAUTHENTICATED`, 403 to
/// `PERMISSION_DENIED`, 404 to `UNIMPLEMENTED`, 408 to `DEADLINE_EXCEEDED`,
/// 413 to `RESOURCE_EXHAUSTED`, any other 4xx to `FAILED_PRECONDITION` and
/// anything else to `UNKNOWN`.
///
/// ```
/// use otel_testing::receiver::grpc_code_for_http;
/// assert_eq!(grpc_code_for_http(503), tonic::Code::Unavailable);
/// assert_eq!(grpc_code_for_http(413), tonic::Code::ResourceExhausted);
/// assert_eq!(grpc_code_for_http(418), tonic::Code::FailedPrecondition);
/// ```
pub fn grpc_code_for_http(status: u16) -> tonic::Code {
    use tonic::Code;
    match status {
        429 | 502 | 503 | 504 => Code::Unavailable,
        500 => Code::Internal,
        400 => Code::InvalidArgument,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        408 => Code::DeadlineExceeded,
        413 => Code::ResourceExhausted,
        405..=499 => Code::FailedPrecondition,
        _ => Code::Unknown,
    }
}

/// The HTTP status the receiver answers with in place of gRPC code `code`:
/// `UNAVAILABLE` 503, `RESOURCE_EXHAUSTED` 429, `INVALID_ARGUMENT` 400,
/// `UNAUTHENTICATED` 401, `PERMISSION_DENIED` 403, `NOT_FOUND` 404,
/// `UNIMPLEMENTED` 501, `DEADLINE_EXCEEDED` 504, anything else 500.
///
/// ```
/// use otel_testing::receiver::http_status_for_grpc;
/// assert_eq!(http_status_for_grpc(tonic::Code::Unavailable), 503);
/// assert_eq!(http_status_for_grpc(tonic::Code::ResourceExhausted), 429);
/// assert_eq!(http_status_for_grpc(tonic::Code::Internal), 500);
/// ```
pub fn http_status_for_grpc(code: tonic::Code) -> u16 {
    use tonic::Code;
    match code {
        Code::Unavailable => 503,
        Code::ResourceExhausted => 429,
        Code::InvalidArgument => 400,
        Code::Unauthenticated => 401,
        Code::PermissionDenied => 403,
        Code::NotFound => 404,
        Code::Unimplemented => 501,
        Code::DeadlineExceeded => 504,
        _ => 500,
    }
}

#[derive(Debug, Default)]
struct Inner {
    behavior: Behavior,
    /// Failures left for [`Behavior::FailTimes`].
    fail_remaining: usize,
    attempts: usize,
    received: Vec<Received>,
}

/// Thread-safe store shared by the gRPC and HTTP servers and the handle.
#[derive(Debug, Default)]
pub(crate) struct Store {
    inner: Mutex<Inner>,
}

impl Store {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the data inconsistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_behavior(&self, behavior: Behavior) {
        let mut inner = self.lock();
        inner.fail_remaining = match behavior {
            Behavior::FailTimes { n, .. } => n,
            _ => 0,
        };
        inner.behavior = behavior;
    }

    pub(crate) fn behavior(&self) -> Behavior {
        self.lock().behavior.clone()
    }

    /// Counts one attempt and decides how to answer it.
    pub(crate) fn begin(&self) -> Decision {
        let mut inner = self.lock();
        inner.attempts += 1;
        match inner.behavior.clone() {
            Behavior::Accept => Decision::Accept,
            Behavior::Blackhole => Decision::Blackhole,
            Behavior::FailHttp {
                status,
                retry_after,
            } => Decision::Fail(Failure::from_http(status, retry_after)),
            Behavior::FailGrpc(code) => Decision::Fail(Failure {
                http_status: http_status_for_grpc(code),
                grpc_code: code,
                retry_after: None,
            }),
            Behavior::FailTimes { status, .. } => {
                if inner.fail_remaining > 0 {
                    inner.fail_remaining -= 1;
                    Decision::Fail(Failure::from_http(status, None))
                } else {
                    Decision::Accept
                }
            }
        }
    }

    pub(crate) fn record(&self, transport: Transport, headers: &HeaderMap, request: ExportRequest) {
        let received = Received {
            signal: request.signal(),
            transport,
            headers: header_map(headers),
            request,
        };
        self.lock().received.push(received);
    }

    pub(crate) fn attempts(&self) -> usize {
        self.lock().attempts
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Applies `f` to the recorded requests without cloning them all.
    pub(crate) fn with_received<R>(&self, f: impl FnOnce(&[Received]) -> R) -> R {
        f(&self.lock().received)
    }

    pub(crate) fn clear(&self) {
        let mut inner = self.lock();
        inner.received.clear();
        inner.attempts = 0;
    }
}

/// Lowercased header names to values, several values joined with `", "`.
fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        map.entry(name.as_str().to_ascii_lowercase())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_times_fails_n_then_accepts() {
        let store = Store::default();
        store.set_behavior(Behavior::FailTimes { n: 2, status: 503 });
        let fail = Decision::Fail(Failure {
            http_status: 503,
            grpc_code: tonic::Code::Unavailable,
            retry_after: None,
        });
        assert_eq!(store.begin(), fail);
        assert_eq!(store.begin(), fail);
        assert_eq!(store.begin(), Decision::Accept);
        assert_eq!(store.attempts(), 3);
    }

    #[test]
    fn mappings() {
        assert_eq!(grpc_code_for_http(429), tonic::Code::Unavailable);
        assert_eq!(grpc_code_for_http(503), tonic::Code::Unavailable);
        assert_eq!(grpc_code_for_http(500), tonic::Code::Internal);
        assert_eq!(grpc_code_for_http(400), tonic::Code::InvalidArgument);
        assert_eq!(http_status_for_grpc(tonic::Code::Unavailable), 503);
        assert_eq!(http_status_for_grpc(tonic::Code::Aborted), 500);
    }

    #[test]
    fn headers_are_lowercased_and_joined() {
        let mut headers = HeaderMap::new();
        headers.append("X-Test", "a".parse().expect("valid header value"));
        headers.append("x-test", "b".parse().expect("valid header value"));
        let map = header_map(&headers);
        assert_eq!(map.get("x-test").map(String::as_str), Some("a, b"));
    }
}
