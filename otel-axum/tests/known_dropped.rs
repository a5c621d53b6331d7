//! Spans the global sampler is declared to drop (`otel_http::sampling`) are
//! started without a name and attributes; nothing else changes, and a span
//! that is recorded after all still gets everything. One test: the
//! declaration and the global provider are process-wide.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use opentelemetry::global;
use otel_axum::{OtelLayer, TraceIds};
use otel_http::propagation::W3cTraceContextPropagator;
use otel_http::sampling::{KnownDecisions, declare};
use otel_testing::AskedSampler;
use tower::ServiceExt as _;

const UNSAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

fn app(layer: OtelLayer) -> Router {
    Router::new()
        .route(
            "/items/{id}",
            get(|ids: TraceIds| async move { ids.span_id.to_string() }),
        )
        .layer(layer)
}

async fn get_item(app: Router) -> String {
    let request = http::Request::get("http://shop.test/items/7")
        .header("traceparent", UNSAMPLED)
        .body(Body::empty())
        .expect("request");
    let response = app.oneshot(request).await.expect("infallible");
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    String::from_utf8_lossy(&body).into_owned()
}

#[tokio::test]
async fn declared_drops_skip_the_name_and_attributes_and_lose_nothing() {
    let asked = AskedSampler::default();
    let (provider, exporter) = asked.install_global();
    global::set_text_map_propagator(W3cTraceContextPropagator::new());

    // Nothing declared: the sampler is asked with the name and attributes.
    get_item(app(OtelLayer::new())).await;
    // Declared: an unsampled caller's span is started bare...
    declare(KnownDecisions::UnsampledParentsDropped);
    let span_id = get_item(app(OtelLayer::new())).await;
    // ...but only with the global provider, which the declaration is about.
    get_item(app(OtelLayer::builder().tracer_provider(&provider).build())).await;
    declare(KnownDecisions::Unknown);

    let asked = asked.asked();
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert_eq!(asked[0].0, "GET /items/{id}");
    assert!(asked[0].1 >= 4, "{asked:?}");
    assert_eq!(asked[1], ("GET".to_owned(), 0), "started bare");
    assert_eq!(asked[2].0, "GET /items/{id}");
    assert!(asked[2].1 >= 4, "{asked:?}");

    // This sampler kept the span after all: it has its name and attributes.
    provider.force_flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(spans.len(), 3);
    let bare_start = spans
        .iter()
        .find(|s| s.span_context.span_id().to_string() == span_id)
        .expect("the handler saw the server span's id");
    assert_eq!(bare_start.name, "GET /items/{id}");
    let value = |key: &str| {
        bare_start
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(value("http.route").as_deref(), Some("/items/{id}"));
    assert_eq!(value("url.path").as_deref(), Some("/items/7"));
    assert_eq!(value("server.address").as_deref(), Some("shop.test"));
    assert_eq!(value("http.request.method").as_deref(), Some("GET"));
    assert_eq!(value("http.response.status_code").as_deref(), Some("200"));
}
