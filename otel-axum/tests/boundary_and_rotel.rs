//! Public-endpoint mode over real sockets, and the server span through the
//! real rotel collector.

use axum::Router;
use axum::routing::get;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use otel_axum::{IncomingPolicy, OtelLayer};
use otel_http::propagation::{PropagatorName, composite};
use otel_testing::{OtlpReceiver, ThroughRotel, attr};
use std::net::SocketAddr;
use std::time::Duration;

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    addr
}

async fn fetch(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> String {
    let client: Client<_, String> = Client::builder(TokioExecutor::new()).build_http();
    let mut req = http::Request::get(format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = client
        .request(req.body(String::new()).expect("req"))
        .await
        .expect("res");
    let body = res.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&body).into_owned()
}

fn guard(endpoint: &str, protocol: &str) -> otel_init::TelemetryGuard {
    otel_init::Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", "axum-boundary"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_LOGS_EXPORTER", "none"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "200"),
    ])
    .without_globals()
    .build()
    .expect("init")
}

fn layer(g: &otel_init::TelemetryGuard, policy: IncomingPolicy) -> OtelLayer {
    OtelLayer::builder()
        .tracer_provider(g.tracer_provider().expect("tracer"))
        .meter_provider(g.meter_provider().expect("meter"))
        .propagator(composite(&[
            PropagatorName::TraceContext,
            PropagatorName::Baggage,
        ]))
        .incoming_policy(policy)
        .build()
}

#[test]
fn public_endpoint_starts_a_new_trace_and_links_the_caller() {
    let rt = runtime();
    let receiver = rt.block_on(OtlpReceiver::start()).expect("receiver");
    let g = guard(&receiver.grpc_endpoint(), "grpc");
    let policy =
        IncomingPolicy::new().public_endpoint_if(|req| req.uri.path().starts_with("/public"));
    let app = Router::new()
        .route("/public", get(|| async { "public" }))
        .route("/internal", get(|| async { "internal" }))
        .layer(layer(&g, policy));
    rt.block_on(async {
        let addr = serve(app).await;
        fetch(addr, "/public", &[("traceparent", TP)]).await;
        fetch(addr, "/internal", &[("traceparent", TP)]).await;
    });
    assert!(g.shutdown().is_clean());
    let spans = receiver.spans();
    let public = spans
        .iter()
        .find(|s| s.name == "GET /public")
        .expect("public span");
    let internal = spans
        .iter()
        .find(|s| s.name == "GET /internal")
        .expect("internal span");
    let caller_trace: Vec<u8> = (0..16)
        .map(|i| {
            u8::from_str_radix(&"4bf92f3577b34da6a3ce929d0e0e4736"[2 * i..2 * i + 2], 16)
                .unwrap_or(0)
        })
        .collect();
    assert_ne!(
        public.trace_id, caller_trace,
        "a new trace at the public endpoint"
    );
    assert!(public.parent_span_id.is_empty(), "a root span");
    assert_eq!(public.links.len(), 1);
    assert_eq!(
        public.links[0].trace_id, caller_trace,
        "linked to the caller"
    );
    assert_eq!(
        internal.trace_id, caller_trace,
        "internal requests continue the trace"
    );
    assert!(internal.links.is_empty());
}

#[test]
fn server_span_and_metrics_reach_the_collector() {
    let Some(chain) = ThroughRotel::start(2) else {
        return;
    };
    let (rt, receiver, rotel) = (chain.receiver.runtime(), &chain.receiver, &chain.rotel);
    let g = guard(&rotel.http_endpoint(), "http/protobuf");
    let app = Router::new()
        .route("/orders/{id}", get(|| async { "order" }))
        .layer(layer(&g, IncomingPolicy::new()));
    rt.block_on(async {
        let addr = serve(app).await;
        fetch(addr, "/orders/42", &[("traceparent", TP)]).await;
    });
    assert!(g.shutdown().is_clean());
    let arrived = receiver.wait_for(Duration::from_secs(20), |r| {
        r.span_named("GET /orders/{id}").is_some()
            && r.metric_names()
                .iter()
                .any(|n| n == "http.server.request.duration")
    });
    assert!(arrived, "rotel log:\n{}", rotel.log());
    let spans = receiver.spans_with_resource();
    let (resource, scope, span) = spans
        .iter()
        .find(|(_, _, s)| s.name == "GET /orders/{id}")
        .expect("span");
    assert_eq!(
        attr(resource, "service.name").as_deref(),
        Some("axum-boundary")
    );
    assert_eq!(scope, "otel-axum");
    assert_eq!(
        attr(&span.attributes, "http.route").as_deref(),
        Some("/orders/{id}")
    );
    assert_eq!(
        attr(&span.attributes, "url.path").as_deref(),
        Some("/orders/42")
    );
    for req in receiver.requests() {
        assert!(
            req.header("user-agent")
                .is_some_and(|ua| ua.starts_with("Rotel"))
        );
    }
}
