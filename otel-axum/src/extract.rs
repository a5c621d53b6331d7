//! An axum extractor that gives handlers the ids of the current trace.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use opentelemetry::Context;
use opentelemetry::trace::{SpanId, TraceContextExt, TraceId};
use std::convert::Infallible;

/// The trace and span ids of the request's server span, e.g. to show a
/// support reference to the user or to put in an error body.
///
/// On a path the layer skips (`skip_paths`) there is no server span: take
/// `Option<TraceIds>` in handlers that can be reached there (as with axum's
/// `MatchedPath`); `TraceIds` alone is then rejected with
/// [`TraceIdsRejection::PathSkipped`].
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
///
/// `Option<TraceIds>` on a skipped path is `None`:
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use otel_axum::{OtelLayer, TraceIds};
/// use tower::ServiceExt as _;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// async fn health(ids: Option<TraceIds>) -> String {
///     match ids {
///         Some(ids) => format!("ok, trace {}", ids.trace_id),
///         None => "ok, not traced".to_owned(),
///     }
/// }
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// let app: Router = Router::new()
///     .route("/healthz", get(health))
///     .layer(OtelLayer::builder().tracer_provider(&provider).skip_paths(["/healthz"]).build());
/// let response = app.oneshot(http::Request::get("/healthz").body(Body::empty()).unwrap()).await.unwrap();
/// let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
/// assert_eq!(&body[..], b"ok, not traced");
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

/// Put in the request's extensions by the layer on a path it skips, so that
/// [`TraceIds`] can say why it has no ids.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SkippedByLayer;

/// Why [`TraceIds`] could not be extracted: a 500 response saying so (a
/// routing mistake, not the client's).
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use otel_axum::{OtelLayer, TraceIds};
/// use tower::ServiceExt as _;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handler = get(|ids: TraceIds| async move { ids.trace_id.to_string() });
/// let body_of = |response: axum::response::Response| async move {
///     axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap()
/// };
///
/// // No layer at all.
/// let bare: Router = Router::new().route("/", handler.clone());
/// let response = bare.oneshot(http::Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(response.status(), 500);
/// assert_eq!(&body_of(response).await[..], b"TraceIds needs otel_axum::OtelLayer on this route");
///
/// // The layer is there, but skips the path.
/// let skipping: Router = Router::new()
///     .route("/healthz", handler)
///     .layer(OtelLayer::builder().skip_paths(["/healthz"]).build());
/// let response = skipping.oneshot(http::Request::get("/healthz").body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(response.status(), 500);
/// assert!(body_of(response).await.starts_with(b"TraceIds: this path is skipped by otel_axum::OtelLayer"));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceIdsRejection {
    /// No [`OtelLayer`](crate::OtelLayer) on this route.
    MissingLayer(MissingOtelLayer),
    /// The layer is there, but its `skip_paths` exclude this path.
    PathSkipped(PathSkipped),
}

/// [`TraceIds`] on a route without [`OtelLayer`](crate::OtelLayer).
///
/// ```
/// use otel_axum::MissingOtelLayer;
/// assert_eq!(MissingOtelLayer.to_string(), "TraceIds needs otel_axum::OtelLayer on this route");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingOtelLayer;

/// [`TraceIds`] on a path the layer's `skip_paths` exclude: there is no
/// server span. Take `Option<TraceIds>` there.
///
/// ```
/// use otel_axum::PathSkipped;
/// assert!(PathSkipped.to_string().contains("skip_paths"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathSkipped;

impl std::fmt::Display for MissingOtelLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceIds needs otel_axum::OtelLayer on this route")
    }
}

impl std::fmt::Display for PathSkipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "TraceIds: this path is skipped by otel_axum::OtelLayer (skip_paths), \
             so it has no server span; take Option<TraceIds> in this handler",
        )
    }
}

impl std::fmt::Display for TraceIdsRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingLayer(e) => e.fmt(f),
            Self::PathSkipped(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for MissingOtelLayer {}
impl std::error::Error for PathSkipped {}
impl std::error::Error for TraceIdsRejection {}

impl IntoResponse for TraceIdsRejection {
    fn into_response(self) -> Response {
        (http::StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

impl TraceIds {
    /// The ids of the span current where a handler runs: the layer's server
    /// span, whose context is current while the request is handled (read
    /// there rather than copied into every request's extensions).
    fn of_request(parts: &Parts) -> Result<Self, TraceIdsRejection> {
        if parts.extensions.get::<SkippedByLayer>().is_some() {
            return Err(TraceIdsRejection::PathSkipped(PathSkipped));
        }
        let cx = Context::current();
        if !cx.has_active_span() {
            return Err(TraceIdsRejection::MissingLayer(MissingOtelLayer));
        }
        let span = cx.span();
        let sc = span.span_context();
        Ok(TraceIds {
            trace_id: sc.trace_id(),
            span_id: sc.span_id(),
            sampled: sc.is_sampled(),
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TraceIds {
    type Rejection = TraceIdsRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::of_request(parts)
    }
}

/// `Option<TraceIds>`: `None` where the layer skips the path or is absent.
impl<S: Send + Sync> OptionalFromRequestParts<S> for TraceIds {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(Self::of_request(parts).ok())
    }
}
