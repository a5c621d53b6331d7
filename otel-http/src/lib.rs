//! The HTTP pieces every instrumentation crate of this workspace shares, on
//! the OpenTelemetry API alone (no SDK):
//!
//! - [`propagation`]: strict W3C Trace Context (Level 2) and W3C Baggage
//!   propagators, B3 (single and multi header) and Jaeger for interop, and
//!   the composite that `OTEL_PROPAGATORS` selects;
//! - [`carrier`]: `http::HeaderMap` carriers that see every value of a repeated header;
//! - [`headers`]: allow-listed headers as attributes, credentials never captured;
//! - [`trust`]: trust-boundary controls for servers (public endpoints, ignoring
//!   the caller's sampling decision, dropping baggage) and clients (an allow-list
//!   of hosts that may receive the context);
//! - [`semconv`]: method normalisation, URL redaction and duration buckets of
//!   the HTTP semantic conventions.
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

pub mod carrier;
pub mod headers;
pub mod propagation;
pub mod semconv;
pub mod trust;
