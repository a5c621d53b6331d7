//! The shop's sampling policy from the source documents, configured only by
//! environment variables, applied to mixed traffic on an axum service and
//! exported through the real rotel collector:
//! health checks never, checkout always, every 5xx and every slow request
//! always (tail decision in the process), 10% of the rest.
//!
//! "Slow" is 300 ms here instead of the documents' 5 s, to keep the test short.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use otel_testing::{ThroughRotel, attr};
use std::time::Duration;
use tower::ServiceExt;

const HEALTH: usize = 30;
const CHECKOUT: usize = 20;
const ITEMS: usize = 400;
const FAILING: usize = 20;
const SLOW: usize = 5;

fn app() -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/checkout/{order}", get(|| async { "paid" }))
        .route(
            "/items/{id}",
            get(
                |axum::extract::Path(id): axum::extract::Path<u32>| async move {
                    if id >= 10_000 {
                        (StatusCode::BAD_GATEWAY, "inventory down")
                    } else {
                        (StatusCode::OK, "item")
                    }
                },
            ),
        )
        .route(
            "/report",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(350)).await;
                "report"
            }),
        )
        .layer(otel_axum::OtelLayer::new())
}

async fn call(app: &Router, path: String) -> StatusCode {
    let request = Request::get(path).body(Body::empty()).expect("request");
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    // The server span ends with the body.
    let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
    status
}

#[test]
fn the_shop_policy_holds_on_mixed_traffic_through_rotel() {
    let Some(ThroughRotel { rotel, receiver }) = ThroughRotel::start(2) else {
        return;
    };
    let rt = receiver.runtime();

    let endpoint = rotel.grpc_endpoint();
    let guard = otel_init::Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", "shop"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "10000"),
        ("OTEL_TRACES_SAMPLER", "parentbased_rules"),
        (
            "OTEL_TRACES_SAMPLER_ARG",
            "http.route=/healthz => never; http.route=/checkout/* => always; * => 0.1 max 100/s",
        ),
        ("OTEL_INIT_TAIL_SAMPLING", "true"),
        ("OTEL_INIT_TAIL_SLOWER_THAN_MS", "300"),
    ])
    .build()
    .expect("telemetry");
    assert!(guard.warnings().is_empty(), "{:?}", guard.warnings());

    let app = app();
    rt.block_on(async {
        for i in 0..HEALTH {
            assert_eq!(call(&app, "/healthz".into()).await, StatusCode::OK, "{i}");
        }
        for i in 0..CHECKOUT {
            call(&app, format!("/checkout/{i}")).await;
        }
        for i in 0..ITEMS {
            call(&app, format!("/items/{i}")).await;
        }
        for i in 0..FAILING {
            let status = call(&app, format!("/items/{}", 10_000 + i)).await;
            assert_eq!(status, StatusCode::BAD_GATEWAY);
        }
        let mut slow = tokio::task::JoinSet::new();
        for _ in 0..SLOW {
            let app = app.clone();
            slow.spawn(async move { call(&app, "/report".into()).await });
        }
        while slow.join_next().await.is_some() {}
    });
    let tail = guard.tail_sampling_report().expect("tail sampling on");
    let shutdown = guard.shutdown();
    assert!(shutdown.completed, "{shutdown:?}");

    let expected_at_least = CHECKOUT + FAILING + SLOW;
    let arrived = receiver.wait_for(Duration::from_secs(20), |r| {
        r.spans().len() >= expected_at_least
    });
    // Give rotel a moment to forward the last batch, then count.
    std::thread::sleep(Duration::from_millis(500));
    let spans = receiver.spans();
    assert!(arrived, "{} spans; rotel:\n{}", spans.len(), rotel.log());
    let route = |s: &&otel_testing::opentelemetry_proto::tonic::trace::v1::Span| {
        attr(&s.attributes, "http.route").unwrap_or_default()
    };
    let count = |r: &str| spans.iter().filter(|s| route(s) == r).count();
    let failing = spans
        .iter()
        .filter(|s| attr(&s.attributes, "http.response.status_code").as_deref() == Some("502"))
        .count();
    let items_ok = count("/items/{id}") - failing;

    assert_eq!(count("/healthz"), 0, "health checks never");
    assert_eq!(count("/checkout/{order}"), CHECKOUT, "checkout always");
    assert_eq!(failing, FAILING, "every 5xx kept: {tail:?}");
    assert_eq!(count("/report"), SLOW, "every slow request kept: {tail:?}");
    // 10% of the rest: 40 expected, 5 standard deviations (6) either side.
    assert!(
        (10..=70).contains(&items_ok),
        "{items_ok} of {ITEMS} normal requests kept, expected about 40"
    );
    // The processor's own account matches what arrived: one span per request.
    assert_eq!(
        (tail.kept_sampled + tail.kept_error + tail.kept_slow) as usize,
        spans.len(),
        "{tail:?}"
    );
    assert_eq!(
        (tail.kept_sampled + tail.kept_error + tail.kept_slow + tail.dropped) as usize,
        HEALTH + CHECKOUT + ITEMS + FAILING + SLOW,
        "{tail:?}"
    );
    assert!(rotel.stop_gracefully(Duration::from_secs(5)));
    receiver.shutdown();
}
