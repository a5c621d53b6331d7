//! The HTTP pieces every instrumentation crate of this workspace shares, on
//! the OpenTelemetry API alone (no SDK):
//!
//! - [`propagation`]: strict W3C Trace Context (Level 2) and W3C Baggage
//!   propagators, B3 (single and multi header) and Jaeger for interop, and
//!   the composite that `OTEL_PROPAGATORS` selects;
//! - [`carrier`]: `http::HeaderMap` carriers that see every value of a repeated header;
//! - [`headers`]: allow-listed headers as attributes, credentials never captured;
//! - [`trust`]: trust-boundary controls for servers (public endpoints, ignoring
//!   the caller's sampling decision, dropping baggage, the proxies whose
//!   forwarding headers name the client) and clients (an allow-list of hosts
//!   that may receive the context);
//! - [`redact`]: sensitive query values and URL credentials replaced by
//!   `REDACTED` in `url.query` and `url.full`, configurable;
//! - [`semconv`]: method normalisation and duration buckets of the HTTP
//!   semantic conventions;
//! - [`series`]: a bounded cache of bound instruments, one per attribute set;
//! - [`sampling`]: what the installed sampler is declared to decide without
//!   asking, so that spans it will drop are not built in full.
//!
//! A server reading the context a caller sent, with the propagators that
//! `OTEL_PROPAGATORS=tracecontext,baggage` names:
//!
//! ```
//! use opentelemetry::baggage::BaggageExt;
//! use opentelemetry::propagation::TextMapPropagator;
//! use opentelemetry::trace::TraceContextExt;
//! use otel_http::carrier::HeaderExtractor;
//! use otel_http::propagation::{PropagatorName, composite};
//!
//! let names = "tracecontext,baggage"
//!     .split(',')
//!     .map(str::parse)
//!     .collect::<Result<Vec<PropagatorName>, _>>()
//!     .unwrap();
//! let propagator = composite(&names);
//!
//! let mut incoming = http::HeaderMap::new();
//! incoming.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
//! incoming.insert("baggage", "tenant=acme".parse().unwrap());
//! let cx = propagator.extract(&HeaderExtractor(&incoming));
//! assert_eq!(cx.span().span_context().trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
//! assert!(cx.span().span_context().is_sampled());
//! assert_eq!(cx.baggage().get("tenant").map(|v| v.as_str()), Some("acme"));
//! ```
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

pub mod address;
pub mod carrier;
pub mod clock;
pub mod headers;
pub mod propagation;
pub mod redact;
pub mod sampling;
pub mod semconv;
pub mod series;
pub mod trust;
