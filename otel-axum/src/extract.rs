//! An axum extractor that gives handlers the ids of the current trace.

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use opentelemetry::trace::{SpanId, TraceId};

/// The trace and span ids of the request's server span, e.g. to show a
/// support reference to the user or to put in an error body.
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use otel_axum::{OtelLayer, TraceIds};
/// use tower::ServiceExt as _;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// async fn handler(ids: TraceIds) -> String {
///     format!("support reference: {}", ids.trace_id)
/// }
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// let app: Router = Router::new()
///     .route("/", get(handler))
///     .layer(OtelLayer::builder().tracer_provider(&provider).build());
/// let response = app.oneshot(http::Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
/// let reference = std::str::from_utf8(&body).unwrap();
/// assert!(reference.starts_with("support reference: "));
/// assert_eq!(reference.len(), "support reference: ".len() + 32);
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceIds {
    /// The trace id (all zero when the SDK is disabled).
    pub trace_id: TraceId,
    /// The server span's id.
    pub span_id: SpanId,
    /// Whether the trace is sampled.
    pub sampled: bool,
}

/// The rejection when [`TraceIds`] is used on a route without [`OtelLayer`](crate::OtelLayer):
/// a 500 response saying so.
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use otel_axum::TraceIds;
/// use tower::ServiceExt as _;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app: Router = Router::new().route("/", get(|ids: TraceIds| async move { ids.trace_id.to_string() }));
/// let response = app.oneshot(http::Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(response.status(), 500);
/// let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
/// assert_eq!(&body[..], b"TraceIds needs otel_axum::OtelLayer on this route");
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingOtelLayer;

impl std::fmt::Display for MissingOtelLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceIds needs otel_axum::OtelLayer on this route")
    }
}

impl std::error::Error for MissingOtelLayer {}

impl IntoResponse for MissingOtelLayer {
    fn into_response(self) -> Response {
        (http::StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TraceIds {
    type Rejection = MissingOtelLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<TraceIds>()
            .copied()
            .ok_or(MissingOtelLayer)
    }
}
