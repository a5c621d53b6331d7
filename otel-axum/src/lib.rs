//! Server middleware for axum (and any `http` tower service) that continues
//! the caller's trace, opens a SERVER span named `{method} {http.route}` with
//! the stable HTTP server conventions, and records the RED metrics, at a cost
//! close to calling the OpenTelemetry API by hand.
//!
//! ```
//! use axum::{Router, routing::get};
//! use otel_axum::OtelLayer;
//!
//! let app: Router = Router::new()
//!     .route("/products/{id}", get(|| async { "a product" }))
//!     .layer(OtelLayer::builder().skip_paths(["/healthz"]).build());
//! ```
//!
//! - The span ends when the response body has been sent, not when the headers leave.
//! - Handlers' own `#[tracing::instrument]` spans and events nest under the
//!   server span: the request future runs with the span's OpenTelemetry
//!   context attached, which tracing-opentelemetry uses as the parent of
//!   contextual spans. Work a handler spawns keeps it with
//!   `tokio::spawn(fut.with_current_context())` (`opentelemetry::context::FutureExt`)
//!   or `fut.in_current_span()` (`tracing::Instrument`).
//! - A panicking handler is recorded as an error, the span still ends, and the
//!   client gets a 500 response.
//! - Use the layer with `Router::layer` (not around the whole `Router` as a
//!   service) so that axum's `MatchedPath` gives the route template.
//!
//! The tracer and meter come from OpenTelemetry's global providers when the
//! layer is built: build it after `otel_init::init_telemetry()`.
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

mod attributes;
mod body;
mod builder;
mod extract;
mod finish;
mod future;
mod layer;
mod metrics;
mod service;

pub use body::OtelBody;
pub use builder::OtelLayerBuilder;
pub use extract::{MissingOtelLayer, PathSkipped, TraceIds, TraceIdsRejection};
pub use future::ResponseFuture;
pub use layer::OtelLayer;
pub use otel_http::trust::IncomingPolicy;
pub use service::OtelService;

/// Re-exported so that users need no direct dependency.
pub use opentelemetry;
