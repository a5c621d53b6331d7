//! Exemplars end to end over OTLP: an axum service instrumented with
//! otel-axum calls another service through otel-reqwest and PostgreSQL
//! through otel-sqlx; otel-init exports to an in-process OTLP receiver. The
//! three duration histograms (`http.server.request.duration`,
//! `http.client.request.duration`, `db.client.operation.duration`) carry
//! exemplars whose trace and span ids are those of the exported spans of the
//! same operation, under each `OTEL_METRICS_EXEMPLAR_FILTER`.
//!
//! Whether a request is sampled is the caller's choice (the `traceparent`
//! flags under the default parent-based sampler), so the test knows which
//! trace ids must and must not appear.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::routing::get;
use otel_init::TelemetryGuard;
use otel_testing::{ExemplarSeen, OtlpReceiver, hex, histogram_exemplars};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tower::ServiceExt as _;

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const HISTOGRAMS: [(&str, &str); 3] = [
    ("http.server.request.duration", "GET /orders/{id}"),
    ("http.client.request.duration", "GET"),
    ("db.client.operation.duration", "SELECT"),
];

#[derive(Clone)]
struct Shop {
    client: otel_reqwest::reqwest_middleware::ClientWithMiddleware,
    stock: String,
    pool: otel_sqlx::PgPool,
}

async fn order(State(shop): State<Shop>) -> &'static str {
    let stock = shop.client.get(&shop.stock).send().await;
    assert!(
        stock.is_ok_and(|r| r.status() == 200),
        "the stock service answers"
    );
    let row = sqlx::query("SELECT 1").execute(&shop.pool).await;
    assert!(row.is_ok(), "PostgreSQL answers");
    "ordered"
}

/// The service, its telemetry exporting to `receiver` with `filter`.
async fn shop(receiver: &OtlpReceiver, filter: &str) -> (Router, TelemetryGuard) {
    let endpoint = receiver.http_endpoint();
    let telemetry = otel_init::Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", "shop"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_LOGS_EXPORTER", "none"),
        ("OTEL_METRICS_EXEMPLAR_FILTER", filter),
    ])
    .without_globals()
    .build()
    .expect("telemetry");
    let tracer = telemetry.tracer_provider().expect("traces on").clone();
    let meters = telemetry
        .exemplar_meter_provider()
        .expect("metrics on")
        .clone();

    let stock = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let stock_url = format!("http://{}/stock", stock.local_addr().expect("addr"));
    tokio::spawn(async move {
        axum::serve(stock, Router::new().fallback(|| async { "12 left" })).await
    });
    let client = otel_reqwest::reqwest_middleware::ClientBuilder::new(
        otel_reqwest::reqwest_client_builder()
            .build()
            .expect("client"),
    )
    .with(
        otel_reqwest::OtelMiddleware::builder()
            .tracer_provider(&tracer)
            .meter_provider(&meters)
            .build(),
    )
    .build();
    let pool = otel_sqlx::PgPool::builder(sqlx::PgPool::connect(PG_URL).await.expect("PostgreSQL"))
        .tracer_provider(tracer.clone())
        .meter_provider(meters.clone())
        .build();
    let app = Router::new()
        .route("/orders/{id}", get(order))
        .with_state(Shop {
            client,
            stock: stock_url,
            pool,
        })
        .layer(
            otel_axum::OtelLayer::builder()
                .tracer_provider(&tracer)
                .meter_provider(&meters)
                .propagator(otel_http::propagation::W3cTraceContextPropagator::new())
                .build(),
        );
    (app, telemetry)
}

/// A request in the trace `trace` (32 hex digits), sampled or not by its caller.
async fn call(app: &Router, trace: &str, sampled: bool) {
    let flags = if sampled { "01" } else { "00" };
    let request = Request::get("/orders/7")
        .header(
            "traceparent",
            format!("00-{trace}-00f067aa0ba902b7-{flags}"),
        )
        .body(Body::empty())
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), 200);
    // The server span ends, and the duration is recorded, with the body.
    let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
}

fn trace(n: u8) -> String {
    format!("{n:02x}{}", "ab".repeat(15))
}

/// Exports everything and returns each histogram's exemplars.
async fn export(
    receiver: &OtlpReceiver,
    telemetry: TelemetryGuard,
) -> HashMap<&'static str, Vec<ExemplarSeen>> {
    telemetry.force_flush().expect("flush");
    for (metric, _) in HISTOGRAMS {
        assert!(
            receiver
                .wait_for_metric(metric, Duration::from_secs(10))
                .await,
            "{metric} exported"
        );
    }
    assert!(telemetry.shutdown().is_clean());
    HISTOGRAMS
        .iter()
        .map(|(metric, _)| (*metric, histogram_exemplars(receiver, metric)))
        .collect()
}

fn pg_reachable() -> bool {
    otel_testing::require_service("PostgreSQL", "127.0.0.1:5432")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_based_exemplars_are_the_spans_of_sampled_requests() {
    if !pg_reachable() {
        return;
    }
    let receiver = OtlpReceiver::start().await.expect("receiver");
    let (app, telemetry) = shop(&receiver, "trace_based").await;
    let sampled: Vec<String> = (1..=3).map(trace).collect();
    let unsampled: Vec<String> = (11..=13).map(trace).collect();
    for (s, u) in sampled.iter().zip(&unsampled) {
        call(&app, s, true).await;
        call(&app, u, false).await;
    }
    let exemplars = export(&receiver, telemetry).await;
    assert!(receiver.wait_for_spans(9, Duration::from_secs(10)).await);
    let spans = receiver.spans();
    for (metric, span_name) in HISTOGRAMS {
        let seen = &exemplars[metric];
        assert!(!seen.is_empty(), "{metric} has exemplars");
        for e in seen {
            assert!(
                sampled.contains(&e.trace_id),
                "{metric}: {} is a sampled request's trace",
                e.trace_id
            );
            // The exemplar names the span of the very operation it measured.
            let span = spans
                .iter()
                .find(|s| hex(&s.span_id) == e.span_id)
                .unwrap_or_else(|| panic!("{metric}: span {} was exported", e.span_id));
            assert_eq!(hex(&span.trace_id), e.trace_id);
            assert_eq!(span.name, span_name, "{metric}: {e:?}");
            assert!(e.value > 0.0 && e.time_unix_nano > 0);
        }
    }
    let exported_traces: HashSet<String> = spans.iter().map(|s| hex(&s.trace_id)).collect();
    assert!(unsampled.iter().all(|t| !exported_traces.contains(t)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_on_keeps_unsampled_requests_too_without_trace_ids() {
    if !pg_reachable() {
        return;
    }
    let receiver = OtlpReceiver::start().await.expect("receiver");
    let (app, telemetry) = shop(&receiver, "always_on").await;
    let unsampled: Vec<String> = (21..=23).map(trace).collect();
    for t in &unsampled {
        call(&app, t, false).await;
    }
    let exemplars = export(&receiver, telemetry).await;
    for (metric, _) in HISTOGRAMS {
        let seen = &exemplars[metric];
        assert!(!seen.is_empty(), "{metric} has exemplars");
        for e in seen {
            // Their traces were not exported: nothing to link to.
            assert_eq!(
                (e.trace_id.as_str(), e.span_id.as_str()),
                ("", ""),
                "{metric}"
            );
            assert!(e.value > 0.0 && e.time_unix_nano > 0);
        }
    }
    assert!(
        receiver.spans().is_empty(),
        "nothing sampled, no span exported"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_based_keeps_nothing_of_unsampled_requests_and_always_off_nothing_at_all() {
    if !pg_reachable() {
        return;
    }
    let receiver = OtlpReceiver::start().await.expect("receiver");
    let (app, telemetry) = shop(&receiver, "trace_based").await;
    for n in 31..=33 {
        call(&app, &trace(n), false).await;
    }
    for (metric, seen) in export(&receiver, telemetry).await {
        assert!(seen.is_empty(), "{metric}: {seen:?}");
    }

    let receiver = OtlpReceiver::start().await.expect("receiver");
    let (app, telemetry) = shop(&receiver, "always_off").await;
    for n in 41..=43 {
        call(&app, &trace(n), true).await;
    }
    for (metric, seen) in export(&receiver, telemetry).await {
        assert!(seen.is_empty(), "{metric}: {seen:?}");
    }
    assert!(!receiver.spans().is_empty(), "the requests were sampled");
}
