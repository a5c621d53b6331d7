//! Helpers shared by the integration tests: runtimes, pipelines, servers and
//! span lookups.
#![allow(dead_code)]

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use otel_http::propagation::{PropagatorName, composite};
use otel_testing::attr;
use otel_testing::opentelemetry_proto::tonic::trace::v1::Span;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub const TP_SAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
pub const UNSAMPLED_TRACE: &str = "5bf92f3577b34da6a3ce929d0e0e4736";
pub const TP_UNSAMPLED: &str = "00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A pipeline exporting to `endpoint`; `globals` also installs it as
/// OpenTelemetry's global providers and propagator.
pub fn pipeline(
    service: &str,
    endpoint: &str,
    protocol: &str,
    globals: bool,
) -> otel_init::TelemetryGuard {
    let builder = otel_init::Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", service),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_LOGS_EXPORTER", "none"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "200"),
    ]);
    let builder = if globals {
        builder
    } else {
        builder.without_globals()
    };
    builder.build().expect("init")
}

pub fn w3c() -> otel_http::propagation::Propagators {
    composite(&[PropagatorName::TraceContext, PropagatorName::Baggage])
}

/// The server layer of a service on its own pipeline.
pub fn server_layer(guard: &otel_init::TelemetryGuard) -> otel_axum::OtelLayer {
    otel_axum::OtelLayer::builder()
        .tracer_provider(guard.tracer_provider().expect("tracer"))
        .meter_provider(guard.meter_provider().expect("meter"))
        .propagator(w3c())
        .build()
}

/// The middleware on its own pipeline, W3C propagators.
pub fn middleware_builder(
    guard: &otel_init::TelemetryGuard,
) -> otel_reqwest::OtelMiddlewareBuilder {
    otel_reqwest::OtelMiddleware::builder()
        .tracer_provider(guard.tracer_provider().expect("tracer"))
        .meter_provider(guard.meter_provider().expect("meter"))
        .propagator(w3c())
}

pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .ok();
    });
    addr
}

/// What service B received: one `name=value` line per propagation header.
async fn echo(headers: HeaderMap) -> ([(&'static str, &'static str); 1], String) {
    let mut body = String::new();
    for name in ["traceparent", "tracestate", "baggage"] {
        for value in headers.get_all(name) {
            body.push_str(&format!(
                "{name}={}\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
    }
    ([("x-served-by", "service-b")], body)
}

/// Service B: `/echo/{id}` returns the propagation headers it got,
/// `/status/{code}` answers with that status, `/slow` takes two seconds,
/// `/flaky` answers 503 twice, then 200.
pub fn service_b(layer: otel_axum::OtelLayer) -> Router {
    let flaky = Arc::new(AtomicUsize::new(0));
    Router::new()
        .route("/echo/{id}", get(|headers: HeaderMap| echo(headers)))
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>| async move {
                StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT)
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                "slow"
            }),
        )
        .route(
            "/flaky",
            get(|State(calls): State<Arc<AtomicUsize>>| async move {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    (StatusCode::SERVICE_UNAVAILABLE, "try again")
                } else {
                    (StatusCode::OK, "ok")
                }
            }),
        )
        .with_state(flaky)
        .layer(layer)
}

/// A plain reqwest client (TLS provider installed).
pub fn plain_client() -> reqwest::Client {
    otel_reqwest::reqwest_client_builder()
        .build()
        .expect("client")
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn find<'a>(spans: &'a [Span], what: &str, pred: impl Fn(&Span) -> bool) -> &'a Span {
    spans.iter().find(|s| pred(s)).unwrap_or_else(|| {
        panic!(
            "no span {what} in {:#?}",
            spans
                .iter()
                .map(|s| (&s.name, s.kind, attr(&s.attributes, "url.full")))
                .collect::<Vec<_>>()
        )
    })
}

pub fn named<'a>(spans: &'a [Span], name: &str, kind: i32) -> Vec<&'a Span> {
    spans
        .iter()
        .filter(|s| s.name == name && s.kind == kind)
        .collect()
}

pub const SERVER: i32 = 2;
pub const CLIENT: i32 = 3;
pub const STATUS_ERROR: i32 = 2;

/// A string-array attribute (captured headers), as a list.
pub fn strings(
    attrs: &[otel_testing::opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<Vec<String>> {
    use otel_testing::opentelemetry_proto::tonic::common::v1::any_value::Value;
    let value = attrs
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?;
    match value {
        Value::ArrayValue(array) => Some(
            array
                .values
                .iter()
                .filter_map(|v| match v.value.as_ref()? {
                    Value::StringValue(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    }
}
