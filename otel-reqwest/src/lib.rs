//! Client middleware for reqwest (through `reqwest_middleware`) that carries the
//! trace to the next service and measures every call: a CLIENT span that is a
//! child of the current context, with the stable HTTP client conventions, the
//! context injected with the propagator (to the hosts you allow), and the
//! `http.client.request.duration` metric.
//!
//! ```
//! use otel_reqwest::{OtelMiddleware, UrlTemplate};
//! use otel_reqwest::reqwest_middleware::ClientBuilder;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let addr = listener.local_addr()?; // a loopback server answering "ok" to every path
//! # tokio::spawn(async move {
//! #     axum::serve(listener, axum::Router::new().fallback(|| async { "ok" })).await
//! # });
//! # let orders = format!("http://{addr}");
//! // After otel_init::init_telemetry(): the middleware uses the global providers.
//! let client = ClientBuilder::new(otel_reqwest::reqwest_client_builder().build()?)
//!     .with(OtelMiddleware::new())
//!     .build();
//! let order = 42;
//! let response = client
//!     .get(format!("{orders}/orders/{order}")) // e.g. http://orders.internal
//!     .with_extension(UrlTemplate::new("/orders/{id}")) // span "GET /orders/{id}"
//!     .send()
//!     .await?;
//! assert_eq!(response.status(), 200);
//! # Ok(()) }
//! ```
//!
//! - The parent is OpenTelemetry's current context: inside an `otel-axum`
//!   handler the server span, inside a `#[tracing::instrument]` function that
//!   function's span (tracing-opentelemetry keeps the two in step).
//! - The span ends when the response headers have arrived (or the request
//!   failed); reading the body is not part of it, as the conventions allow.
//!   A request whose future is dropped (the caller cancelled it) ends its
//!   span then, not as an error: no `error.type`, the status unset, as the
//!   conventions ask of a cancellation (semconv 1.41 and later).
//! - Status: >= 400 is an error (`error.type` is the status code); a request
//!   without a response is an error whose `error.type` is `timeout`, `connect`,
//!   `redirect`, `body`, `request`, `builder` or `_OTHER`.
//! - After a retry middleware (e.g. reqwest-retry), every attempt is a span and
//!   resends carry `http.request.resend_count`.
//! - Code that keeps a plain `reqwest::Client` uses [`send_traced`] or [`inject`].
//!
//! Everything users need is re-exported: [`reqwest`], [`reqwest_middleware`]
//! and [`opentelemetry`].
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

mod attributes;
mod builder;
mod call;
mod client;
mod extensions;
mod metrics;
mod middleware;
mod plain;

pub use builder::OtelMiddlewareBuilder;
pub use client::{reqwest_client_builder, traced_client};
pub use extensions::UrlTemplate;
pub use middleware::OtelMiddleware;
pub use plain::{inject, send_traced};

/// The extensions a request carries through the middleware chain (`http::Extensions`).
///
/// ```
/// use otel_reqwest::{Extensions, UrlTemplate};
///
/// let mut extensions = Extensions::new();
/// extensions.insert(UrlTemplate::new("/items/{id}"));
/// assert_eq!(extensions.get::<UrlTemplate>().map(UrlTemplate::as_str), Some("/items/{id}"));
/// ```
pub use http::Extensions;
/// Which hosts receive the trace context and baggage (from `otel-http`).
///
/// ```
/// use otel_reqwest::OutgoingPolicy;
///
/// let policy = OutgoingPolicy::everywhere().context_only_to(["*.internal"]);
/// assert!(policy.allows_context("orders.internal"));
/// assert!(!policy.allows_context("api.example.com"));
/// ```
pub use otel_http::trust::OutgoingPolicy;

/// Re-exported so that users need no direct dependency.
///
/// ```
/// use otel_reqwest::opentelemetry::KeyValue;
///
/// let tenant = KeyValue::new("app.tenant", "acme"); // e.g. for `request_attributes`
/// assert_eq!(tenant.key.as_str(), "app.tenant");
/// ```
pub use opentelemetry;
/// Re-exported so that users need no direct dependency.
///
/// ```
/// use otel_reqwest::reqwest::{Method, Request};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let request = Request::new(Method::GET, "http://orders.internal/orders/7".parse()?);
/// assert_eq!(request.url().host_str(), Some("orders.internal"));
/// # Ok(()) }
/// ```
pub use reqwest;
/// Re-exported so that users need no direct dependency.
///
/// ```
/// use otel_reqwest::OtelMiddleware;
/// use otel_reqwest::reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client: ClientWithMiddleware =
///     ClientBuilder::new(otel_reqwest::reqwest_client_builder().build()?)
///         .with(OtelMiddleware::new())
///         .build();
/// let request = client.post("http://orders.internal/orders").build()?;
/// assert_eq!(request.method(), "POST");
/// # Ok(()) }
/// ```
pub use reqwest_middleware;
