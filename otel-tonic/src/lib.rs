//! gRPC instrumentation for [tonic](https://docs.rs/tonic): a SERVER span per
//! call on `tonic::transport::Server`, a CLIENT span per call on a `Channel`,
//! the context carried in the request metadata with otel-http's propagators
//! and trust policies (the same as otel-axum's and otel-reqwest's), and the
//! RPC call-duration metrics, on the OpenTelemetry API alone.
//!
//! ```
//! use otel_tonic::{OtelClientLayer, OtelServerLayer};
//! use tonic::transport::{Endpoint, Server};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // Server: every service added to it is traced.
//! let router = Server::builder()
//!     .layer(OtelServerLayer::new())
//!     .add_routes(tonic::service::Routes::default()); // .add_service(PaymentServer::new(..))
//! // Client: wrap the channel, hand it to the generated client.
//! let endpoint = Endpoint::from_static("http://payment.internal:50051");
//! let channel = tower::ServiceBuilder::new()
//!     .layer(OtelClientLayer::builder().target(endpoint.uri()).build())
//!     .service(endpoint.connect_lazy()); // PaymentClient::new(channel)
//! # let _ = (router, channel);
//! # }
//! ```
//!
//! What is recorded follows the RPC semantic conventions of semconv 1.45,
//! a Release Candidate there (`rpc.system.name`, `rpc.status_code` and
//! `rpc.*.call.duration` in seconds, where older instrumentations use
//! `rpc.system`, `rpc.grpc.status_code` and `rpc.*.duration` in
//! milliseconds): span name
//! `package.Service/Method`, `rpc.system.name = "grpc"`, `rpc.method`
//! (`_OTHER` plus `rpc.method_original` when not recognised),
//! `rpc.status_code` (`"OK"`, `"NOT_FOUND"`, ...), `error.type`,
//! `server.address` / `server.port`, `network.peer.address` /
//! `network.peer.port` (server; feature `tls` for a server that terminates
//! TLS itself), and this crate's `grpc.timeout` (the
//! deadline in seconds, from `grpc-timeout`); on request, chosen metadata
//! keys as `rpc.request.metadata.<key>` / `rpc.response.metadata.<key>`
//! (credentials never).
//! Metrics: `rpc.server.call.duration` and `rpc.client.call.duration` (s).
//!
//! - The span ends when the response stream ends (streaming calls), fails,
//!   or is dropped (a cancelled call: `CANCELLED`, or `DEADLINE_EXCEEDED`
//!   once the deadline passed), with the status of the `grpc-status`
//!   trailer, or of the headers for a trailers-only response.
//! - Server spans are errors only for the conventions' server-side codes
//!   (`UNKNOWN`, `DEADLINE_EXCEEDED`, `UNIMPLEMENTED`, `INTERNAL`,
//!   `UNAVAILABLE`, `DATA_LOSS`); client spans for every code but `OK`.
//! - A handler that panics, in its future or in its response stream, ends
//!   its span as the panic (`error.type` `panic`) and is answered
//!   `UNKNOWN` (`catch_panics(false)`: recorded, then unwound on).
//! - Handlers run with the SERVER span's context attached, so their
//!   `#[tracing::instrument]` spans (through tracing-opentelemetry) and
//!   their own OpenTelemetry spans nest under it.
//!
//! The tracer and meter come from OpenTelemetry's global providers when the
//! layer is built: build it after `otel_init::init_telemetry()`.
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

mod body;
mod call;
pub mod client;
mod code;
mod metadata;
mod method;
mod metrics;
mod panic;
mod scope;
pub mod server;

pub use body::OtelBody;
pub use client::{OtelClientLayer, OtelClientLayerBuilder, OtelClientService};
pub use otel_http::trust::{IncomingPolicy, OutgoingPolicy};
pub use server::{OtelServerLayer, OtelServerLayerBuilder, OtelServerService};

/// Re-exported so that users need no direct dependency.
pub use opentelemetry;
