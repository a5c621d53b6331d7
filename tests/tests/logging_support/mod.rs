//! Shared by the `logging_*` tests: a small axum service whose handler logs
//! from its own span, an `#[instrument]` function and spawned tasks; a
//! pipeline that exports through otel-init while the JSON layer writes to
//! memory; and the checks that tie lines, exported spans and exported log
//! records together.

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;
use otel_init::TelemetryGuard;
use otel_logging::{JsonLayer, LogTarget, LogWriter, MemoryBuffer};
use otel_testing::{OtlpReceiver, ReceiverOnRuntime};
use serde_json::Value;
use std::time::Duration;
use tower::ServiceExt;
use tracing::{Instrument, info, info_span, instrument};
use tracing_subscriber::layer::SubscriberExt;

/// Loki's derived field, as documented in `docs/logging.md`.
pub const LOKI_TRACE_ID: &str = r#""trace_id":"([0-9a-f]{32})""#;

/// Each message the handler logs, and the span it is logged from.
pub const HANDLER_LINES: [(&str, &str); 5] = [
    ("handler started", "get_order"),
    ("loading the order", "load_order"),
    ("audit from a task carrying the handler's span", "get_order"),
    ("receipt sent from a task with its own span", "send_receipt"),
    ("handler done", "get_order"),
];

/// The server span the middleware opens for every request.
pub const SERVER_SPAN: &str = "GET /orders/{id}";

pub fn app() -> Router {
    Router::new()
        .route("/orders/{id}", get(get_order))
        .layer(middleware::from_fn(server_span))
}

async fn server_span(request: Request, next: Next) -> Response {
    let span = info_span!(
        "GET /orders/{id}",
        otel.kind = "server",
        http.route = "/orders/{id}"
    );
    next.run(request).instrument(span).await
}

#[instrument(skip_all, fields(order.id = id))]
async fn get_order(Path(id): Path<u64>) -> String {
    info!(user.id = "ann", "handler started");
    load_order(id).await;
    tokio::spawn(
        async { info!("audit from a task carrying the handler's span") }.in_current_span(),
    )
    .await
    .expect("audit task");
    tokio::spawn(send_receipt(id).instrument(info_span!("send_receipt")))
        .await
        .expect("receipt task");
    info!(status = 200, "handler done");
    format!("order {id}")
}

#[instrument]
async fn load_order(id: u64) {
    tokio::task::yield_now().await;
    info!("loading the order");
}

async fn send_receipt(id: u64) {
    tokio::task::yield_now().await;
    info!(order.id = id, "receipt sent from a task with its own span");
}

/// Sends one request to [`app`] on a current-thread runtime (so that the
/// thread's default subscriber sees the spawned tasks too).
pub fn call_app(path: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let response =
        rt.block_on(app().oneshot(Request::get(path).body(Body::empty()).expect("request")));
    assert!(response.expect("response").status().is_success());
}

/// A receiver on its own runtime.
pub struct Receiver {
    pub receiver: ReceiverOnRuntime,
}

impl Receiver {
    pub fn start() -> Self {
        Self {
            receiver: ReceiverOnRuntime::start(1).expect("receiver"),
        }
    }

    pub fn wait_until(&self, what: &str, f: impl Fn(&OtlpReceiver) -> bool) {
        wait_until(&self.receiver, what, f);
    }
}

/// Waits up to 20 s for `f` to hold; fails the test naming `what` if it never does.
pub fn wait_until(receiver: &ReceiverOnRuntime, what: &str, f: impl Fn(&OtlpReceiver) -> bool) {
    assert!(
        receiver.wait_for(Duration::from_secs(20), f),
        "timed out waiting for {what}: {} spans, {} log records",
        receiver.spans().len(),
        receiver.log_records().len()
    );
}

/// A guard exporting spans and log records to `endpoint` (OTLP/HTTP unless
/// `extra` says otherwise), with short batch delays.
pub fn guard(endpoint: &str, extra: &[(&str, &str)]) -> TelemetryGuard {
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "100"),
    ];
    env.extend_from_slice(extra);
    otel_init::Telemetry::builder_from_env(&env)
        .service_name("shop")
        .without_globals()
        .build()
        .expect("telemetry")
}

/// Runs `f` under a subscriber of the guard's layers (tracing-opentelemetry
/// and the OTLP logs bridge) and a JSON layer writing to memory; returns the
/// lines, each checked to be one JSON object matching Loki's regex when it
/// has a trace id.
pub fn json_lines(guard: &TelemetryGuard, f: impl FnOnce()) -> Vec<Value> {
    let buffer = MemoryBuffer::new();
    let layer = JsonLayer::builder()
        .service_name("shop")
        .target(LogTarget::Memory(buffer.clone()))
        .build()
        .expect("json layer");
    let writer: LogWriter = layer.writer().clone();
    let subscriber = tracing_subscriber::registry()
        .with(guard.layer())
        .with(layer);
    tracing::subscriber::with_default(subscriber, f);
    assert!(writer.flush(Duration::from_secs(5)));
    assert_eq!(writer.stats().lost(), 0);
    parse_lines(&buffer.lines())
}

/// Parses each line, checking that it is one compact JSON object and that
/// Loki's regex finds exactly its trace id.
pub fn parse_lines(raw: &[String]) -> Vec<Value> {
    let loki = regex::Regex::new(LOKI_TRACE_ID).expect("regex");
    raw.iter()
        .map(|line| {
            let value: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            assert!(value.is_object(), "{line}");
            let matched: Vec<&str> = loki
                .captures_iter(line)
                .map(|c| c.get(1).map_or("", |m| m.as_str()))
                .collect();
            match value.get("trace_id").and_then(Value::as_str) {
                Some(id) => assert_eq!(matched, [id], "{line}"),
                None => assert!(matched.is_empty(), "{line}"),
            }
            value
        })
        .collect()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The line whose message is `message`.
pub fn line<'a>(lines: &'a [Value], message: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["message"] == message)
        .unwrap_or_else(|| panic!("no line {message:?} in {lines:#?}"))
}

pub fn str_of<'a>(line: &'a Value, key: &str) -> &'a str {
    line[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {line}"))
}

pub fn span<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no exported span {name:?}"))
}

/// The exported log record whose body is `message`.
pub fn record<'a>(records: &'a [LogRecord], message: &str) -> &'a LogRecord {
    records
        .iter()
        .find(|r| {
            r.body
                .as_ref()
                .and_then(|b| b.value.as_ref())
                .is_some_and(|v| matches!(v, AnyValue::StringValue(s) if s == message))
        })
        .unwrap_or_else(|| panic!("no exported log record {message:?}"))
}

/// Every handler line and its exported log record carry the trace id of
/// the server span and the span id of the span it was logged from.
pub fn check_handler_ids(lines: &[Value], spans: &[Span], records: &[LogRecord]) {
    let server = span(spans, SERVER_SPAN);
    let trace_id = hex(&server.trace_id);
    for (message, span_name) in HANDLER_LINES {
        let l = line(lines, message);
        let exported = span(spans, span_name);
        assert_eq!(str_of(l, "trace_id"), trace_id, "{message}");
        assert_eq!(
            str_of(l, "span_id"),
            hex(&exported.span_id),
            "{message} in {span_name}"
        );
        assert_eq!(str_of(l, "trace_flags"), "01");
        assert_eq!(str_of(l, "service.name"), "shop");
        let r = record(records, message);
        assert_eq!(hex(&r.trace_id), trace_id, "log record {message}");
        assert_eq!(
            hex(&r.span_id),
            hex(&exported.span_id),
            "log record {message}"
        );
    }
    assert_eq!(
        span(spans, "get_order").parent_span_id,
        server.span_id,
        "the handler's span is a child of the server span"
    );
}
