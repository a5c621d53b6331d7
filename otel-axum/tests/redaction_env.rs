//! `OTEL_HTTP_SENSITIVE_QUERY_KEYS` reaches the layer's defaults (its own test
//! binary: it sets the variable before anything else runs).

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use otel_axum::OtelLayer;
use tower::ServiceExt as _;

#[tokio::test]
async fn the_environment_adds_keys() {
    // SAFETY: the only test of this binary; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("OTEL_HTTP_SENSITIVE_QUERY_KEYS", "otp, pin") };
    let spans = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let app = Router::new()
        .route("/p", get(|| async { "ok" }))
        .layer(OtelLayer::builder().tracer_provider(&provider).build());
    let request = http::Request::get("/p?otp=1&PIN=2&token=3&page=4")
        .body(Body::empty())
        .expect("request");
    let response = app.oneshot(request).await.expect("infallible");
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let span = spans
        .get_finished_spans()
        .expect("spans")
        .pop()
        .expect("span");
    let query = span
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "url.query")
        .map(|kv| kv.value.as_str().into_owned());
    assert_eq!(
        query.as_deref(),
        Some("otp=REDACTED&PIN=REDACTED&token=REDACTED&page=4")
    );
}
