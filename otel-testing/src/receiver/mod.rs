//! An in-process OTLP receiver (gRPC and HTTP) that records what it gets and
//! can inject faults.
//!
//! ```
//! # use otel_testing::opentelemetry_proto::tonic::{collector::trace::v1::ExportTraceServiceRequest, trace::v1::*};
//! # use prost::Message as _;
//! # use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
//! # async fn post(addr: std::net::SocketAddr, path: &str, body: Vec<u8>) -> u16 { // one OTLP/HTTP request; its status
//! #     let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
//! #     let head = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\nx-tenant: acme\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
//! #     tcp.write_all(&[head.as_bytes(), &body].concat()).await.unwrap();
//! #     let mut response = Vec::new();
//! #     tcp.read_to_end(&mut response).await.unwrap();
//! #     String::from_utf8_lossy(&response)[9..12].parse().unwrap()
//! # }
//! # async fn send_span(addr: std::net::SocketAddr, name: &str) -> u16 { // what an SDK exporter does
//! #     let spans = vec![Span { name: name.into(), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() }];
//! #     let resource_spans = vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans, ..Default::default() }], ..Default::default() }];
//! #     post(addr, "/v1/traces", ExportTraceServiceRequest { resource_spans }.encode_to_vec()).await
//! # }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use std::time::Duration;
//! use otel_testing::receiver::OtlpReceiver;
//!
//! let receiver = OtlpReceiver::start().await?;
//! // Point the code under test at receiver.grpc_endpoint() or
//! // receiver.http_endpoint() (here: a hand-made OTLP/HTTP request), then:
//! # send_span(receiver.http_addr(), "checkout").await;
//! assert!(receiver.wait_for_spans(1, Duration::from_secs(5)).await);
//! let spans = receiver.spans();
//! assert_eq!(spans[0].name, "checkout");
//! # Ok(()) }
//! ```

mod grpc;
mod http;
mod query;
mod serve;
mod store;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use query::attr;
use store::Store;
pub use store::{
    Behavior, ExportRequest, Received, Signal, Transport, grpc_code_for_http, http_status_for_grpc,
};

/// The running servers of one receiver.
struct Running {
    grpc: JoinHandle<()>,
    http: JoinHandle<()>,
}

impl Running {
    fn spawn(store: &Arc<Store>, grpc: TcpListener, http: TcpListener) -> Self {
        Running {
            grpc: serve::spawn(grpc, grpc::GrpcRouter::new(Arc::clone(store))),
            http: serve::spawn(http, http::router(Arc::clone(store))),
        }
    }

    fn abort(&self) {
        self.grpc.abort();
        self.http.abort();
    }
}

/// An OTLP receiver listening on loopback: gRPC on one port, HTTP
/// (`/v1/traces`, `/v1/metrics`, `/v1/logs`) on another.
///
/// Every accepted request is recorded with its headers and transport; see the
/// accessors ([`spans`](Self::spans), [`requests`](Self::requests), …) and the
/// `wait_for*` methods. Faults are injected with
/// [`set_behavior`](Self::set_behavior), an outage with
/// [`pause`](Self::pause)/[`resume`](Self::resume).
///
/// Dropping the receiver stops both servers (tasks are aborted; it works on
/// current-thread and multi-thread runtimes alike).
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
/// use std::time::Duration;
///
/// let receiver = OtlpReceiver::start().await.unwrap();
/// send_span(receiver.http_addr(), "GET /orders/{id}").await; // your exporter, pointed at http_endpoint()
/// let span = receiver.wait_for_span("GET /orders/{id}", Duration::from_secs(5)).await.unwrap();
/// assert_eq!(span.trace_id, vec![1; 16]);
/// # }
/// ```
pub struct OtlpReceiver {
    store: Arc<Store>,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    running: Mutex<Option<Running>>,
}

impl std::fmt::Debug for OtlpReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpReceiver")
            .field("grpc_addr", &self.grpc_addr)
            .field("http_addr", &self.http_addr)
            .field("running", &self.is_running())
            .finish_non_exhaustive()
    }
}

impl OtlpReceiver {
    /// Binds gRPC and HTTP on `127.0.0.1:0` and starts serving. Must be called
    /// within a tokio runtime (the servers are spawned onto it).
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
    ///
    /// let receiver = OtlpReceiver::start().await.unwrap();
    /// assert_eq!(send_span(receiver.http_addr(), "checkout").await, 200);
    /// assert_eq!(receiver.spans()[0].name, "checkout");
    /// # }
    /// ```
    pub async fn start() -> io::Result<OtlpReceiver> {
        let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let grpc = serve::bind(any)?;
        let http = serve::bind(any)?;
        let grpc_addr = grpc.local_addr()?;
        let http_addr = http.local_addr()?;
        let store = Arc::new(Store::default());
        let running = Running::spawn(&store, grpc, http);
        Ok(OtlpReceiver {
            store,
            grpc_addr,
            http_addr,
            running: Mutex::new(Some(running)),
        })
    }

    /// The gRPC endpoint, `http://127.0.0.1:PORT`.
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
    /// // e.g. OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT=<this>
    /// assert_eq!(receiver.grpc_endpoint(), format!("http://127.0.0.1:{}", receiver.grpc_addr().port()));
    /// # }
    /// ```
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// The HTTP endpoint, `http://127.0.0.1:PORT` (append `/v1/traces` etc.).
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
    /// // e.g. OTEL_EXPORTER_OTLP_ENDPOINT=<this> (http/protobuf appends /v1/traces)
    /// assert_eq!(receiver.http_endpoint(), format!("http://127.0.0.1:{}", receiver.http_addr().port()));
    /// # }
    /// ```
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// The address the gRPC server listens on.
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
    /// assert!(receiver.grpc_addr().ip().is_loopback());
    /// assert_ne!(receiver.grpc_addr(), receiver.http_addr());
    /// # }
    /// ```
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The address the HTTP server listens on.
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
    /// assert!(receiver.http_addr().ip().is_loopback());
    /// assert_eq!(send_span(receiver.http_addr(), "checkout").await, 200);
    /// # }
    /// ```
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Sets how requests are answered from now on (see [`Behavior`]).
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
    /// receiver.set_behavior(Behavior::FailTimes { n: 1, status: 503 });
    /// assert_eq!(send_span(receiver.http_addr(), "first").await, 503); // an exporter would retry
    /// assert_eq!(send_span(receiver.http_addr(), "retry").await, 200);
    /// assert_eq!(receiver.attempts(), 2);
    /// assert_eq!(receiver.spans().len(), 1);
    /// # }
    /// ```
    pub fn set_behavior(&self, behavior: Behavior) {
        self.store.set_behavior(behavior);
    }

    /// The current behaviour.
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
    /// assert_eq!(receiver.behavior(), Behavior::Accept);
    /// receiver.set_behavior(Behavior::FailGrpc(tonic::Code::Unavailable));
    /// assert_eq!(receiver.behavior(), Behavior::FailGrpc(tonic::Code::Unavailable));
    /// # }
    /// ```
    pub fn behavior(&self) -> Behavior {
        self.store.behavior()
    }

    /// Whether the servers are listening (false between
    /// [`pause`](Self::pause) and [`resume`](Self::resume)).
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
    /// assert!(receiver.is_running());
    /// receiver.pause().await;
    /// assert!(!receiver.is_running());
    /// # }
    /// ```
    pub fn is_running(&self) -> bool {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Simulates an outage: closes both listeners, so new connections are
    /// refused, and drops every open connection (including requests held by
    /// [`Behavior::Blackhole`]). Recorded data is kept. Returns once the
    /// listeners are closed. Does nothing when already paused.
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
    /// receiver.pause().await;
    /// assert!(tokio::net::TcpStream::connect(receiver.http_addr()).await.is_err()); // refused
    /// receiver.resume().await.unwrap();
    /// assert_eq!(send_span(receiver.http_addr(), "after the outage").await, 200);
    /// # }
    /// ```
    pub async fn pause(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(running) = running {
            running.abort();
            // An aborted task reports back only after its future (and so the
            // listener it owns) has been dropped.
            let _ = running.grpc.await;
            let _ = running.http.await;
        }
    }

    /// Ends an outage started by [`pause`](Self::pause): listens again on the
    /// same ports. Fails if a port was taken by someone else meanwhile. Does
    /// nothing when already running.
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
    /// let port = receiver.http_addr().port();
    /// receiver.pause().await;
    /// receiver.resume().await.unwrap();
    /// assert!(receiver.is_running());
    /// assert_eq!(receiver.http_addr().port(), port); // the same ports again
    /// assert_eq!(send_span(receiver.http_addr(), "back").await, 200);
    /// # }
    /// ```
    pub async fn resume(&self) -> io::Result<()> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if running.is_none() {
            let grpc = serve::bind(self.grpc_addr)?;
            let http = serve::bind(self.http_addr)?;
            *running = Some(Running::spawn(&self.store, grpc, http));
        }
        Ok(())
    }

    /// Stops both servers and waits until their listeners are closed.
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
    /// let addr = receiver.http_addr();
    /// receiver.shutdown().await;
    /// assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    /// # }
    /// ```
    pub async fn shutdown(self) {
        self.pause().await;
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        let running = self
            .running
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(running) = running {
            running.abort();
        }
    }
}
