//! Reading what a receiver recorded, and waiting for it.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::OtlpReceiver;
use super::store::{ExportRequest, Received};

/// How often the `wait_for*` methods look again.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// The value of attribute `key` in `attrs` rendered as a string: string
/// values as they are, ints, bools and doubles with `to_string`. `None` when
/// the key is missing or its value is of another type (bytes, array, map).
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
/// use otel_testing::attr;
/// use otel_testing::opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
///
/// let attrs = vec![
///     KeyValue { key: "http.route".into(), value: Some(AnyValue { value: Some(Value::StringValue("/orders/{id}".into())) }), ..Default::default() },
///     KeyValue { key: "http.response.status_code".into(), value: Some(AnyValue { value: Some(Value::IntValue(200)) }), ..Default::default() },
/// ];
/// assert_eq!(attr(&attrs, "http.route").as_deref(), Some("/orders/{id}"));
/// assert_eq!(attr(&attrs, "http.response.status_code").as_deref(), Some("200"));
/// assert_eq!(attr(&attrs, "url.query"), None);
/// # }
/// ```
pub fn attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    let value = attrs
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?;
    match value {
        Value::StringValue(s) => Some(s.clone()),
        Value::IntValue(i) => Some(i.to_string()),
        Value::BoolValue(b) => Some(b.to_string()),
        Value::DoubleValue(d) => Some(d.to_string()),
        _ => None,
    }
}

fn resource_attrs(resource: Option<&Resource>) -> Vec<KeyValue> {
    resource.map(|r| r.attributes.clone()).unwrap_or_default()
}

fn scope_name(scope: Option<&InstrumentationScope>) -> String {
    scope.map(|s| s.name.clone()).unwrap_or_default()
}

impl OtlpReceiver {
    /// Every accepted request, in arrival order.
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
    /// use otel_testing::{OtlpReceiver, Signal, Transport};
    ///
    /// let receiver = OtlpReceiver::start().await.unwrap();
    /// send_span(receiver.http_addr(), "checkout").await;
    /// let requests = receiver.requests();
    /// assert_eq!(requests[0].signal, Signal::Traces);
    /// assert_eq!(requests[0].transport, Transport::HttpProtobuf);
    /// assert_eq!(requests[0].header("X-Tenant"), Some("acme"));
    /// # }
    /// ```
    pub fn requests(&self) -> Vec<Received> {
        self.store.received()
    }

    /// How many requests reached the receiver, including failed, blackholed
    /// and undecodable ones.
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
    /// receiver.set_behavior(Behavior::FailHttp { status: 500, retry_after: None });
    /// assert_eq!(send_span(receiver.http_addr(), "lost").await, 500);
    /// assert_eq!(receiver.attempts(), 1);
    /// assert!(receiver.requests().is_empty()); // failed requests are not recorded
    /// # }
    /// ```
    pub fn attempts(&self) -> usize {
        self.store.attempts()
    }

    /// Forgets every recorded request and resets [`attempts`](Self::attempts)
    /// (the behaviour is kept).
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
    /// send_span(receiver.http_addr(), "warm-up").await;
    /// receiver.clear();
    /// assert_eq!((receiver.attempts(), receiver.spans().len()), (0, 0));
    /// # }
    /// ```
    pub fn clear(&self) {
        self.store.clear();
    }

    /// The accepted trace export requests, in arrival order.
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
    /// send_span(receiver.http_addr(), "a").await;
    /// send_span(receiver.http_addr(), "b").await;
    /// let traces = receiver.traces();
    /// assert_eq!(traces.len(), 2);
    /// assert_eq!(traces[1].resource_spans[0].scope_spans[0].spans[0].name, "b");
    /// # }
    /// ```
    pub fn traces(&self) -> Vec<ExportTraceServiceRequest> {
        self.store.with_received(|received| {
            received
                .iter()
                .filter_map(|r| match &r.request {
                    ExportRequest::Traces(t) => Some(t.clone()),
                    _ => None,
                })
                .collect()
        })
    }

    /// The accepted metrics export requests, in arrival order.
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
    /// use otel_testing::opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    /// use otel_testing::opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
    ///
    /// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
    /// let metric = Metric { name: "http.server.request.duration".into(), ..Default::default() };
    /// let scope_metrics = vec![ScopeMetrics { metrics: vec![metric], ..Default::default() }];
    /// let request = ExportMetricsServiceRequest { resource_metrics: vec![ResourceMetrics { scope_metrics, ..Default::default() }] };
    /// assert_eq!(post(receiver.http_addr(), "/v1/metrics", request.encode_to_vec()).await, 200);
    /// assert_eq!(receiver.metrics(), [request]);
    /// # }
    /// ```
    pub fn metrics(&self) -> Vec<ExportMetricsServiceRequest> {
        self.store.with_received(|received| {
            received
                .iter()
                .filter_map(|r| match &r.request {
                    ExportRequest::Metrics(m) => Some(m.clone()),
                    _ => None,
                })
                .collect()
        })
    }

    /// The accepted logs export requests, in arrival order.
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
    /// use otel_testing::opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    /// use otel_testing::opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    ///
    /// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
    /// let record = LogRecord { severity_text: "WARN".into(), ..Default::default() };
    /// let scope_logs = vec![ScopeLogs { log_records: vec![record], ..Default::default() }];
    /// let request = ExportLogsServiceRequest { resource_logs: vec![ResourceLogs { scope_logs, ..Default::default() }] };
    /// assert_eq!(post(receiver.http_addr(), "/v1/logs", request.encode_to_vec()).await, 200);
    /// assert_eq!(receiver.logs(), [request]);
    /// # }
    /// ```
    pub fn logs(&self) -> Vec<ExportLogsServiceRequest> {
        self.store.with_received(|received| {
            received
                .iter()
                .filter_map(|r| match &r.request {
                    ExportRequest::Logs(l) => Some(l.clone()),
                    _ => None,
                })
                .collect()
        })
    }

    /// Every received span, flattened across requests, resources and scopes.
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
    /// send_span(receiver.http_addr(), "GET /orders/{id}").await;
    /// let spans = receiver.spans();
    /// assert_eq!(spans.len(), 1);
    /// assert_eq!(spans[0].name, "GET /orders/{id}");
    /// assert_eq!(spans[0].trace_id, vec![1; 16]);
    /// # }
    /// ```
    pub fn spans(&self) -> Vec<Span> {
        self.spans_with_resource()
            .into_iter()
            .map(|(_, _, span)| span)
            .collect()
    }

    /// Every received span with its resource attributes and instrumentation
    /// scope name (empty when absent).
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
    /// let (resource, scope, span) = &receiver.spans_with_resource()[0];
    /// // this request carried no resource and no scope:
    /// assert!(resource.is_empty());
    /// assert_eq!(scope, "");
    /// assert_eq!(span.name, "checkout");
    /// # }
    /// ```
    pub fn spans_with_resource(&self) -> Vec<(Vec<KeyValue>, String, Span)> {
        let mut out = Vec::new();
        for request in self.traces() {
            for rs in request.resource_spans {
                let resource = resource_attrs(rs.resource.as_ref());
                for ss in rs.scope_spans {
                    let scope = scope_name(ss.scope.as_ref());
                    for span in ss.spans {
                        out.push((resource.clone(), scope.clone(), span));
                    }
                }
            }
        }
        out
    }

    /// The first received span named `name`.
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
    /// send_span(receiver.http_addr(), "load_cart").await;
    /// assert!(receiver.span_named("load_cart").is_some());
    /// assert!(receiver.span_named("charge_card").is_none());
    /// # }
    /// ```
    pub fn span_named(&self, name: &str) -> Option<Span> {
        self.spans().into_iter().find(|s| s.name == name)
    }

    /// Every received metric with its resource attributes and
    /// instrumentation scope name.
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
    /// use otel_testing::opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    /// use otel_testing::opentelemetry_proto::tonic::common::v1::InstrumentationScope;
    /// use otel_testing::opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
    ///
    /// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
    /// let metric = Metric { name: "db.client.operation.duration".into(), ..Default::default() };
    /// let scope = Some(InstrumentationScope { name: "otel-sqlx".into(), ..Default::default() });
    /// let scope_metrics = vec![ScopeMetrics { scope, metrics: vec![metric], ..Default::default() }];
    /// let request = ExportMetricsServiceRequest { resource_metrics: vec![ResourceMetrics { scope_metrics, ..Default::default() }] };
    /// post(receiver.http_addr(), "/v1/metrics", request.encode_to_vec()).await;
    /// let (_resource, scope, metric) = &receiver.metrics_with_resource()[0];
    /// assert_eq!((scope.as_str(), metric.name.as_str()), ("otel-sqlx", "db.client.operation.duration"));
    /// # }
    /// ```
    pub fn metrics_with_resource(&self) -> Vec<(Vec<KeyValue>, String, Metric)> {
        let mut out = Vec::new();
        for request in self.metrics() {
            for rm in request.resource_metrics {
                let resource = resource_attrs(rm.resource.as_ref());
                for sm in rm.scope_metrics {
                    let scope = scope_name(sm.scope.as_ref());
                    for metric in sm.metrics {
                        out.push((resource.clone(), scope.clone(), metric));
                    }
                }
            }
        }
        out
    }

    /// The names of the received metrics, deduplicated, in order of first
    /// arrival.
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
    /// use otel_testing::opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    /// use otel_testing::opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
    ///
    /// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
    /// let metric = |name: &str| Metric { name: name.into(), ..Default::default() };
    /// let metrics = vec![metric("b"), metric("a"), metric("b")];
    /// let scope_metrics = vec![ScopeMetrics { metrics, ..Default::default() }];
    /// let request = ExportMetricsServiceRequest { resource_metrics: vec![ResourceMetrics { scope_metrics, ..Default::default() }] };
    /// post(receiver.http_addr(), "/v1/metrics", request.encode_to_vec()).await;
    /// assert_eq!(receiver.metric_names(), ["b", "a"]);
    /// # }
    /// ```
    pub fn metric_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (_, _, metric) in self.metrics_with_resource() {
            if !names.contains(&metric.name) {
                names.push(metric.name);
            }
        }
        names
    }

    /// Every received log record, flattened.
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
    /// use otel_testing::opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    /// use otel_testing::opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    ///
    /// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
    /// let record = LogRecord { severity_text: "WARN".into(), span_id: vec![2; 8], ..Default::default() };
    /// let scope_logs = vec![ScopeLogs { log_records: vec![record], ..Default::default() }];
    /// let request = ExportLogsServiceRequest { resource_logs: vec![ResourceLogs { scope_logs, ..Default::default() }] };
    /// post(receiver.http_addr(), "/v1/logs", request.encode_to_vec()).await;
    /// assert_eq!(receiver.log_records()[0].span_id, vec![2; 8]);
    /// # }
    /// ```
    pub fn log_records(&self) -> Vec<LogRecord> {
        self.log_records_with_resource()
            .into_iter()
            .map(|(_, _, record)| record)
            .collect()
    }

    /// Every received log record with its resource attributes and
    /// instrumentation scope name.
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
    /// use otel_testing::opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    /// use otel_testing::opentelemetry_proto::tonic::common::v1::InstrumentationScope;
    /// use otel_testing::opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    ///
    /// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
    /// let scope = Some(InstrumentationScope { name: "shop::payment".into(), ..Default::default() });
    /// let scope_logs = vec![ScopeLogs { scope, log_records: vec![LogRecord::default()], ..Default::default() }];
    /// let request = ExportLogsServiceRequest { resource_logs: vec![ResourceLogs { scope_logs, ..Default::default() }] };
    /// post(receiver.http_addr(), "/v1/logs", request.encode_to_vec()).await;
    /// let (_resource, scope, _record) = &receiver.log_records_with_resource()[0];
    /// assert_eq!(scope, "shop::payment");
    /// # }
    /// ```
    pub fn log_records_with_resource(&self) -> Vec<(Vec<KeyValue>, String, LogRecord)> {
        let mut out = Vec::new();
        for request in self.logs() {
            for rl in request.resource_logs {
                let resource = resource_attrs(rl.resource.as_ref());
                for sl in rl.scope_logs {
                    let scope = scope_name(sl.scope.as_ref());
                    for record in sl.log_records {
                        out.push((resource.clone(), scope.clone(), record));
                    }
                }
            }
        }
        out
    }

    /// Polls `f` every 20 ms until it returns true (then true) or `timeout`
    /// passes (then false). Yields to the runtime between polls, so it works
    /// on a current-thread runtime.
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
    /// use std::time::Duration;
    ///
    /// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
    /// send_span(receiver.http_addr(), "checkout").await;
    /// let found = receiver.wait_for(Duration::from_secs(5), |r| r.span_named("checkout").is_some()).await;
    /// assert!(found);
    /// let never = receiver.wait_for(Duration::from_millis(50), |r| r.spans().len() > 1).await;
    /// assert!(!never);
    /// # }
    /// ```
    pub async fn wait_for<F: Fn(&Self) -> bool>(&self, timeout: Duration, f: F) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if f(self) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until at least `n` spans were received.
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
    /// use std::time::Duration;
    ///
    /// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
    /// let addr = receiver.http_addr();
    /// tokio::spawn(async move { send_span(addr, "later").await }); // e.g. a batch exporter
    /// assert!(receiver.wait_for_spans(1, Duration::from_secs(5)).await);
    /// # }
    /// ```
    pub async fn wait_for_spans(&self, n: usize, timeout: Duration) -> bool {
        self.wait_for(timeout, |r| r.spans().len() >= n).await
    }

    /// Waits until a span named `name` was received and returns it.
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
    /// use std::time::Duration;
    ///
    /// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
    /// let addr = receiver.http_addr();
    /// tokio::spawn(async move { send_span(addr, "charge_card").await });
    /// let span = receiver.wait_for_span("charge_card", Duration::from_secs(5)).await.expect("exported");
    /// assert_eq!(span.span_id, vec![2; 8]);
    /// # }
    /// ```
    pub async fn wait_for_span(&self, name: &str, timeout: Duration) -> Option<Span> {
        self.wait_for(timeout, |r| r.span_named(name).is_some())
            .await
            .then(|| self.span_named(name))
            .flatten()
    }

    /// Waits until a metric named `name` was received.
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
    /// use otel_testing::opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    /// use otel_testing::opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
    /// use std::time::Duration;
    ///
    /// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
    /// let metric = Metric { name: "http.client.request.duration".into(), ..Default::default() };
    /// let scope_metrics = vec![ScopeMetrics { metrics: vec![metric], ..Default::default() }];
    /// let request = ExportMetricsServiceRequest { resource_metrics: vec![ResourceMetrics { scope_metrics, ..Default::default() }] };
    /// post(receiver.http_addr(), "/v1/metrics", request.encode_to_vec()).await;
    /// assert!(receiver.wait_for_metric("http.client.request.duration", Duration::from_secs(5)).await);
    /// # }
    /// ```
    pub async fn wait_for_metric(&self, name: &str, timeout: Duration) -> bool {
        self.wait_for(timeout, |r| r.metric_names().iter().any(|n| n == name))
            .await
    }

    /// Waits until at least `n` log records were received.
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
    /// use otel_testing::opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    /// use otel_testing::opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    /// use std::time::Duration;
    ///
    /// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
    /// let scope_logs = vec![ScopeLogs { log_records: vec![LogRecord::default(); 2], ..Default::default() }];
    /// let request = ExportLogsServiceRequest { resource_logs: vec![ResourceLogs { scope_logs, ..Default::default() }] };
    /// post(receiver.http_addr(), "/v1/logs", request.encode_to_vec()).await;
    /// assert!(receiver.wait_for_log_records(2, Duration::from_secs(5)).await);
    /// # }
    /// ```
    pub async fn wait_for_log_records(&self, n: usize, timeout: Duration) -> bool {
        self.wait_for(timeout, |r| r.log_records().len() >= n).await
    }

    /// Waits until at least `n` requests were accepted.
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
    /// use std::time::Duration;
    ///
    /// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
    /// send_span(receiver.http_addr(), "a").await;
    /// send_span(receiver.http_addr(), "b").await;
    /// assert!(receiver.wait_for_requests(2, Duration::from_secs(5)).await);
    /// # }
    /// ```
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        self.wait_for(timeout, |r| r.store.with_received(|v| v.len()) >= n)
            .await
    }

    /// Waits until at least `n` requests arrived, failed ones included.
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
    /// use otel_testing::Behavior;
    /// use std::time::Duration;
    ///
    /// let receiver = otel_testing::OtlpReceiver::start().await.unwrap();
    /// receiver.set_behavior(Behavior::Blackhole);
    /// let addr = receiver.http_addr();
    /// let exporter = tokio::spawn(async move { send_span(addr, "never answered").await });
    /// assert!(receiver.wait_for_attempts(1, Duration::from_secs(5)).await);
    /// assert!(receiver.requests().is_empty());
    /// exporter.abort();
    /// # }
    /// ```
    pub async fn wait_for_attempts(&self, n: usize, timeout: Duration) -> bool {
        self.wait_for(timeout, |r| r.attempts() >= n).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::AnyValue;

    fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.to_string(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    #[test]
    fn attr_renders_scalars() {
        let attrs = vec![
            kv("s", Value::StringValue("x".into())),
            kv("i", Value::IntValue(42)),
            kv("b", Value::BoolValue(true)),
            kv("d", Value::DoubleValue(1.5)),
            kv("bytes", Value::BytesValue(vec![1])),
        ];
        assert_eq!(attr(&attrs, "s").as_deref(), Some("x"));
        assert_eq!(attr(&attrs, "i").as_deref(), Some("42"));
        assert_eq!(attr(&attrs, "b").as_deref(), Some("true"));
        assert_eq!(attr(&attrs, "d").as_deref(), Some("1.5"));
        assert_eq!(attr(&attrs, "bytes"), None);
        assert_eq!(attr(&attrs, "missing"), None);
    }
}
