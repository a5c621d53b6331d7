//! Test support for the workspace.
//!
//! - [`receiver`]: an in-process OTLP receiver (gRPC and HTTP, protobuf and
//!   JSON) that records every request and can inject faults and outages.
//! - [`rotel`]: a harness that runs the real [rotel](https://pypi.org/project/rotel/)
//!   OpenTelemetry collector as a child process, forwarding to a receiver.
//! - [`require_rotel`] and [`require_service`]: the project's policy for
//!   tests that need something external: skip with a message locally, fail on
//!   CI (`CI=true`).
#![deny(missing_docs)]

pub mod receiver;
mod require;
pub mod rotel;

/// The OTLP protobuf types the receiver records, re-exported for assertions.
pub use opentelemetry_proto;
pub use receiver::{Behavior, OtlpReceiver, Received, Signal, Transport, attr};
pub use require::{is_ci, require_service};
pub use rotel::{Rotel, require_rotel};
