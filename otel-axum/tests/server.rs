//! The layer over real sockets: span tree, attributes, status rules, body-end
//! timing, panics, skipped paths, incoming contexts, HTTP/1.1 and HTTP/2, and
//! the metrics, all checked in what the in-process OTLP receiver got.

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::routing::get;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::context::FutureExt as _;
use otel_axum::{OtelLayer, TraceIds};
use otel_http::propagation::{PropagatorName, composite};
use otel_testing::opentelemetry_proto::tonic::metrics::v1::metric;
use otel_testing::opentelemetry_proto::tonic::trace::v1::Span;
use otel_testing::{OtlpReceiver, attr};
use std::net::SocketAddr;
use std::time::Duration;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

const TP_SAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TP_UNSAMPLED: &str = "00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

#[tracing::instrument]
async fn load_user(id: u32) -> String {
    tracing::info!(id, "loading user");
    // Inside a tracing span, `in_current_span` carries it into spawned work.
    tokio::spawn(async { tracing::info_span!("cache refresh").in_scope(|| ()) }.in_current_span())
        .await
        .ok();
    tokio::time::sleep(Duration::from_millis(5)).await;
    format!("user {id}")
}

async fn user(Path(id): Path<u32>, ids: TraceIds) -> String {
    let name = load_user(id).await;
    // In the handler itself the server span is an OpenTelemetry context, not a
    // tracing span: `with_current_context` carries it into spawned work.
    tokio::spawn(
        async { tracing::info_span!("background").in_scope(|| ()) }.with_current_context(),
    )
    .await
    .ok();
    format!("{name} in trace {}", ids.trace_id)
}

async fn stream() -> Body {
    let chunks = futures_util::stream::iter(0..3).then(|i| async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok::<_, std::io::Error>(format!("chunk {i}\n"))
    });
    Body::from_stream(chunks)
}

use futures_util::StreamExt;

fn app(guard: &otel_init::TelemetryGuard) -> Router {
    Router::new()
        .route("/users/{id}", get(user))
        .route(
            "/fail",
            get(|| async { (http::StatusCode::SERVICE_UNAVAILABLE, "down") }),
        )
        .route(
            "/bad",
            get(|| async { (http::StatusCode::NOT_FOUND, "nope") }),
        )
        .route(
            "/panic",
            get(|| async {
                if true {
                    panic!("boom")
                }
                "unreachable"
            }),
        )
        .route("/stream", get(stream))
        .route("/healthz", get(|| async { "ok" }))
        .layer(
            OtelLayer::builder()
                .tracer_provider(guard.tracer_provider().expect("tracer"))
                .meter_provider(guard.meter_provider().expect("meter"))
                .propagator(composite(&[
                    PropagatorName::TraceContext,
                    PropagatorName::Baggage,
                ]))
                .skip_paths(["/healthz"])
                .capture_request_headers(["x-request-id", "authorization"])
                .capture_response_headers(["content-type"])
                .trace_response_header("traceresponse")
                .build(),
        )
}

struct Server {
    addr: SocketAddr,
}

async fn serve(app: Router) -> Server {
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
    Server { addr }
}

async fn get_with(
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
    http2: bool,
) -> (http::StatusCode, http::HeaderMap, String) {
    let mut builder = Client::builder(TokioExecutor::new());
    builder.http2_only(http2);
    let client: Client<_, String> = builder.build_http();
    let mut req = http::Request::get(format!("http://{}{path}", server.addr));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = client
        .request(req.body(String::new()).expect("request"))
        .await
        .expect("response");
    let (parts, body) = res.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn span_named<'a>(spans: &'a [Span], name: &str, trace: Option<&[u8]>) -> &'a Span {
    spans
        .iter()
        .find(|s| s.name == name && trace.is_none_or(|t| s.trace_id == t))
        .unwrap_or_else(|| {
            panic!(
                "no span {name:?} in {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn server_spans_attributes_status_metrics() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let receiver = rt.block_on(OtlpReceiver::start()).expect("receiver");
    let endpoint = receiver.grpc_endpoint();
    let guard = otel_init::Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", "axum-test"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_LOGS_EXPORTER", "none"),
    ])
    .without_globals()
    .build()
    .expect("init");
    // The in-process receiver's own hyper/h2/tonic spans must not feed back into the pipeline.
    let filter = tracing_subscriber::EnvFilter::new("info,h2=off,hyper=off,tonic=off,tower=off");
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(guard.layer());
    tracing::subscriber::set_global_default(subscriber).expect("subscriber");

    let server = rt.block_on(serve(app(&guard)));
    rt.block_on(async {
        let (status, headers, body) = get_with(
            &server,
            "/users/7?x=1&sig=secret",
            &[
                ("traceparent", TP_SAMPLED),
                ("x-request-id", "r-1"),
                ("authorization", "Bearer t"),
                ("user-agent", "test-agent/1"),
            ],
            false,
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            body.starts_with("user 7 in trace 4bf92f3577b34da6a3ce929d0e0e4736"),
            "{body}"
        );
        let tr = headers["traceresponse"].to_str().expect("ascii");
        assert!(
            tr.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && tr.ends_with("-01"),
            "{tr}"
        );

        let (status, _, _) =
            get_with(&server, "/users/8", &[("traceparent", TP_UNSAMPLED)], true).await;
        assert_eq!(status, 200);
        let (status, _, _) = get_with(
            &server,
            "/users/9",
            &[("traceparent", "00-xyz-bad-01")],
            false,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(get_with(&server, "/fail", &[], false).await.0, 503);
        assert_eq!(get_with(&server, "/bad", &[], false).await.0, 404);
        assert_eq!(get_with(&server, "/no/such/route", &[], false).await.0, 404);
        let (status, _, body) = get_with(&server, "/panic", &[], false).await;
        assert_eq!(
            (status.as_u16(), body.as_str()),
            (500, "Internal Server Error")
        );
        let (status, _, body) = get_with(&server, "/stream", &[], true).await;
        assert_eq!((status.as_u16(), body.lines().count()), (200, 3));
        assert_eq!(get_with(&server, "/healthz", &[], false).await.0, 200);
    });
    guard.force_flush().expect("flush");
    std::thread::sleep(Duration::from_millis(200));
    let report = guard.shutdown();
    assert!(report.is_clean(), "{report:?}");

    let spans = receiver.spans();
    // Continued trace, every attribute, nesting.
    let trace = hex_to_bytes("4bf92f3577b34da6a3ce929d0e0e4736");
    let server_span = span_named(&spans, "GET /users/{id}", Some(&trace));
    assert_eq!(server_span.kind, 2, "SERVER");
    assert_eq!(hex(&server_span.parent_span_id), "00f067aa0ba902b7");
    let a = &server_span.attributes;
    for (k, v) in [
        ("http.request.method", "GET"),
        ("url.path", "/users/7"),
        ("url.query", "x=1&sig=REDACTED"),
        ("url.scheme", "http"),
        ("http.route", "/users/{id}"),
        ("network.protocol.version", "1.1"),
        ("server.address", "127.0.0.1"),
        ("network.peer.address", "127.0.0.1"),
        ("client.address", "127.0.0.1"),
        ("user_agent.original", "test-agent/1"),
        ("http.response.status_code", "200"),
    ] {
        assert_eq!(attr(a, k).as_deref(), Some(v), "{k}");
    }
    assert!(attr(a, "server.port").is_some() && attr(a, "network.peer.port").is_some());
    assert!(
        attr(a, "network.protocol.name").is_none(),
        "only required when not http"
    );
    assert!(
        a.iter()
            .any(|kv| kv.key == "http.request.header.x-request-id")
    );
    assert!(
        !a.iter().any(|kv| kv.key.contains("authorization")),
        "never captured"
    );
    assert!(
        a.iter()
            .any(|kv| kv.key == "http.response.header.content-type")
    );
    assert!(attr(a, "error.type").is_none());
    let child = span_named(&spans, "load_user", Some(&trace));
    assert_eq!(
        child.parent_span_id, server_span.span_id,
        "#[instrument] nests under the server span"
    );
    let bg = span_named(&spans, "background", Some(&trace));
    assert_eq!(
        bg.parent_span_id, server_span.span_id,
        "work spawned by the handler keeps the trace"
    );
    let refresh = span_named(&spans, "cache refresh", Some(&trace));
    assert_eq!(
        refresh.parent_span_id, child.span_id,
        "work spawned in an #[instrument] fn too"
    );

    // Unsampled caller: nothing exported for that trace.
    let unsampled = hex_to_bytes("5bf92f3577b34da6a3ce929d0e0e4736");
    assert!(!spans.iter().any(|s| s.trace_id == unsampled));
    // Invalid traceparent: a new trace, root span.
    let users9 = spans
        .iter()
        .find(|s| {
            s.name == "GET /users/{id}"
                && attr(&s.attributes, "url.path").as_deref() == Some("/users/9")
        })
        .expect("users/9");
    assert!(users9.parent_span_id.is_empty() && users9.trace_id != trace);
    // HTTP/2.
    let stream = span_named(&spans, "GET /stream", None);
    assert_eq!(
        attr(&stream.attributes, "network.protocol.version").as_deref(),
        Some("2")
    );
    // The span ends after the body: three chunks 100 ms apart.
    let dur_ms = (stream.end_time_unix_nano - stream.start_time_unix_nano) / 1_000_000;
    assert!(dur_ms >= 300, "stream span lasted {dur_ms} ms");
    // Status rules.
    let fail = span_named(&spans, "GET /fail", None);
    assert_eq!(attr(&fail.attributes, "error.type").as_deref(), Some("503"));
    assert_eq!(
        fail.status.as_ref().map(|s| s.code),
        Some(2),
        "5xx is an error"
    );
    let bad = span_named(&spans, "GET /bad", None);
    assert!(
        bad.status.as_ref().is_none_or(|s| s.code == 0),
        "4xx leaves status unset"
    );
    assert!(attr(&bad.attributes, "error.type").is_none());
    let unmatched = span_named(&spans, "GET", None);
    assert_eq!(
        attr(&unmatched.attributes, "http.response.status_code").as_deref(),
        Some("404")
    );
    assert!(attr(&unmatched.attributes, "http.route").is_none());
    let panicked = span_named(&spans, "GET /panic", None);
    assert_eq!(
        attr(&panicked.attributes, "error.type").as_deref(),
        Some("panic")
    );
    assert!(
        panicked
            .status
            .as_ref()
            .is_some_and(|s| s.code == 2 && s.message.contains("boom"))
    );
    // Skipped.
    assert!(
        !spans
            .iter()
            .any(|s| attr(&s.attributes, "url.path").as_deref() == Some("/healthz"))
    );

    // Metrics: route templates, never raw paths.
    let metrics = receiver.metrics_with_resource();
    let names: Vec<&str> = metrics.iter().map(|(_, _, m)| m.name.as_str()).collect();
    for n in [
        "http.server.request.duration",
        "http.server.active_requests",
        "http.server.response.body.size",
    ] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let duration = metrics
        .iter()
        .rev()
        .find(|(_, _, m)| m.name == "http.server.request.duration")
        .map(|(_, _, m)| m.clone())
        .expect("duration");
    assert_eq!(duration.unit, "s");
    let Some(metric::Data::Histogram(h)) = duration.data else {
        panic!("histogram")
    };
    assert_eq!(
        h.data_points[0].explicit_bounds,
        otel_http::semconv::DURATION_BUCKETS.to_vec()
    );
    let routes: Vec<String> = h
        .data_points
        .iter()
        .filter_map(|p| attr(&p.attributes, "http.route"))
        .collect();
    assert!(routes.contains(&"/users/{id}".to_owned()));
    assert!(!routes.iter().any(|r| r.contains("/users/7")));
    let users_count: u64 = h
        .data_points
        .iter()
        .filter(|p| attr(&p.attributes, "http.route").as_deref() == Some("/users/{id}"))
        .map(|p| p.count)
        .sum();
    assert_eq!(users_count, 3, "unsampled requests are measured too");
    assert!(
        !h.data_points
            .iter()
            .any(|p| attr(&p.attributes, "url.path").is_some())
    );
}

fn hex_to_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
        .collect()
}
