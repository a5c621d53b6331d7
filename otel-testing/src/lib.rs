//! Test support for the workspace.
//!
//! - [`receiver`]: an in-process OTLP receiver (gRPC and HTTP, protobuf and
//!   JSON) that records every request and can inject faults and outages.
//! - [`rotel`]: a harness that runs the real [rotel](https://pypi.org/project/rotel/)
//!   OpenTelemetry collector as a child process, forwarding to a receiver.
//! - [`blocking`]: the two for synchronous tests: [`ReceiverOnRuntime`] (a
//!   receiver with its own runtime) and [`ThroughRotel`] (rotel forwarding to
//!   one), the set-up of the end-to-end tests.
//! - [`prometheus`]: a harness that runs a real Prometheus server scraping
//!   one target, queried through its HTTP API ([`require_prometheus`]).
//! - [`exemplars`]: the exemplars of exported histograms and the traces they
//!   link to ([`histogram_exemplars`]).
//! - [`workspace_binaries`] and [`rerun_test`]: example services, or this test
//!   binary again, run as child processes; [`service`]: such a service
//!   running, its output, HTTP requests to it, a graceful stop.
//! - [`require_rotel`], [`require_service`] and [`skip`]: the project's policy for
//!   tests that need something external: skip with a message locally, fail on
//!   CI (`CI=true`).
//!
//! ```
//! # use otel_testing::opentelemetry_proto::tonic::{collector::trace::v1::ExportTraceServiceRequest, trace::v1::*};
//! # use prost::Message as _;
//! # use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
//! # async fn post(addr: std::net::SocketAddr, path: &str, body: Vec<u8>) -> u16 { // one OTLP/HTTP request; its status
//! #     let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
//! #     let head = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\nx-tenant: acme\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
//! #     tcp.write_all(&[head.as_bytes(), &body].concat()).await.unwrap();
//! #     let mut response = Vec::new();
//! #     tcp.read_to_end(&mut response).await.unwrap();
//! #     String::from_utf8_lossy(&response)[9..12].parse().unwrap()
//! # }
//! # async fn send_span(addr: std::net::SocketAddr, name: &str) -> u16 { // what an SDK exporter does
//! #     let spans = vec![Span { name: name.into(), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() }];
//! #     let resource_spans = vec![ResourceSpans { scope_spans: vec![ScopeSpans { spans, ..Default::default() }], ..Default::default() }];
//! #     post(addr, "/v1/traces", ExportTraceServiceRequest { resource_spans }.encode_to_vec()).await
//! # }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use otel_testing::{OtlpReceiver, attr};
//! use std::time::Duration;
//!
//! let receiver = OtlpReceiver::start().await.unwrap();
//! // The code under test exports to receiver.http_endpoint() or grpc_endpoint();
//! // here a hand-made OTLP/HTTP request stands in for it.
//! send_span(receiver.http_addr(), "GET /orders/{id}").await;
//! let span = receiver.wait_for_span("GET /orders/{id}", Duration::from_secs(5)).await.unwrap();
//! assert_eq!(attr(&span.attributes, "http.route"), None);
//! # }
//! ```
#![deny(missing_docs)]

pub mod blocking;
pub mod discard;
pub mod exemplars;
pub mod memory;
mod process;
pub mod prometheus;
pub mod receiver;
pub mod redaction;
mod require;
pub mod rotel;
pub mod sampler;
pub mod service;

pub use blocking::{ReceiverOnRuntime, ThroughRotel};
pub use discard::DiscardSpans;
pub use exemplars::{ExemplarSeen, hex, histogram_exemplars};
pub use memory::{InMemory, histogram_sum, lasted, server_joined_client};
/// The OTLP protobuf types the receiver records, re-exported for assertions.
pub use opentelemetry_proto;
pub use process::{is_child_run, rerun_test, workspace_binaries};
pub use prometheus::{Prometheus, require_prometheus};
pub use receiver::{Behavior, OtlpReceiver, Received, Signal, Transport, attr};
pub use require::{is_ci, require_python_modules, require_service, skip};
pub use rotel::{Rotel, require_rotel};
pub use sampler::AskedSampler;
