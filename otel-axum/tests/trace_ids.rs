//! `TraceIds` and `Option<TraceIds>` on traced, skipped and unlayered routes.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use otel_axum::{OtelLayer, TraceIds};
use tower::ServiceExt as _;

async fn required(ids: TraceIds) -> String {
    ids.trace_id.to_string()
}

async fn optional(ids: Option<TraceIds>) -> String {
    ids.map_or_else(|| "none".to_owned(), |ids| ids.trace_id.to_string())
}

async fn call(app: &Router, path: &str) -> (u16, String) {
    let response = app
        .clone()
        .oneshot(
            http::Request::get(path)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn routes() -> Router {
    Router::new()
        .route("/required", get(required))
        .route("/optional", get(optional))
        .route("/healthz/required", get(required))
        .route("/healthz/optional", get(optional))
}

#[tokio::test]
async fn skipped_paths_give_none_or_say_they_are_skipped() {
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let app = routes().layer(
        OtelLayer::builder()
            .tracer_provider(&provider)
            .skip_paths(["/healthz/*"])
            .build(),
    );

    let (status, traced) = call(&app, "/required").await;
    assert_eq!((status, traced.len()), (200, 32), "{traced}");
    let (status, traced) = call(&app, "/optional").await;
    assert_eq!((status, traced.len()), (200, 32), "{traced}");

    assert_eq!(
        call(&app, "/healthz/optional").await,
        (200, "none".to_owned())
    );
    let (status, message) = call(&app, "/healthz/required").await;
    assert_eq!(status, 500);
    assert_eq!(
        message,
        "TraceIds: this path is skipped by otel_axum::OtelLayer (skip_paths), \
         so it has no server span; take Option<TraceIds> in this handler"
    );
}

#[tokio::test]
async fn without_the_layer_the_rejection_names_the_layer() {
    let app = routes();
    assert_eq!(call(&app, "/optional").await, (200, "none".to_owned()));
    assert_eq!(
        call(&app, "/required").await,
        (
            500,
            "TraceIds needs otel_axum::OtelLayer on this route".to_owned()
        )
    );
}
