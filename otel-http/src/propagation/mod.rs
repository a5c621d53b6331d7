//! Propagators: strict W3C Trace Context and Baggage, B3 and Jaeger for
//! interop, and their composition by name (`OTEL_PROPAGATORS`).
//!
//! Every propagator reads and writes any [`Extractor`](opentelemetry::propagation::Extractor)
//! / [`Injector`](opentelemetry::propagation::Injector); with the
//! [`carrier`](crate::carrier) ones an `http::HeaderMap` is a carrier. A
//! malformed header never fails a request: the context is simply not taken.
//!
//! ```
//! use opentelemetry::propagation::TextMapPropagator;
//! use opentelemetry::trace::TraceContextExt;
//! use otel_http::carrier::{HeaderExtractor, HeaderInjector};
//! use otel_http::propagation::{B3Propagator, W3cTraceContextPropagator};
//!
//! // A B3 caller, a W3C callee: extract with one propagator, inject with the other.
//! let mut incoming = http::HeaderMap::new();
//! incoming.insert("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1".parse().unwrap());
//! let cx = B3Propagator::default().extract(&HeaderExtractor(&incoming));
//!
//! let mut outgoing = http::HeaderMap::new();
//! W3cTraceContextPropagator::new().inject_context(&cx, &mut HeaderInjector(&mut outgoing));
//! assert_eq!(outgoing["traceparent"], "00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01");
//!
//! // Uppercase hex is invalid in a traceparent: no remote parent.
//! incoming.insert("traceparent", "00-80F198EE56343BA864FE8B2A57D3EFF7-e457b5a2e4d86bd1-01".parse().unwrap());
//! let cx = W3cTraceContextPropagator::new().extract(&HeaderExtractor(&incoming));
//! assert!(!cx.span().span_context().is_valid());
//! ```

mod b3;
mod baggage;
mod composite;
mod incoming;
mod jaeger;
mod trace_context;
mod traceparent;
mod tracestate;
pub(crate) mod w3c_set;

pub use b3::{B3Encoding, B3Propagator};
pub use baggage::{BaggageMember, W3cBaggagePropagator, parse_baggage};
pub use composite::{PropagatorName, Propagators, UnknownPropagator, composite};
pub use jaeger::JaegerPropagator;
pub use trace_context::W3cTraceContextPropagator;
pub use traceparent::{TraceParent, format_traceparent, parse_traceparent};
pub use tracestate::parse_tracestate;

use crate::carrier::HeaderInjector;
use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use std::sync::Arc;

/// The global propagator as one of its own, when it is a [`composite`] of
/// the W3C propagators only (otel-init's default): a composite of the same
/// propagators, which extracts the same context and injects the same
/// headers as the global one. `None` for any other
/// global propagator (none set yet, one with B3 or Jaeger, the
/// application's own), which cannot be copied.
///
/// otel-axum's, otel-reqwest's and otel-tonic's layers take it when they
/// are built, as they take the global tracer and meter, so that a request
/// reads no lock: OpenTelemetry keeps the global propagator behind a
/// `RwLock`, and each read of it writes the lock's count, memory that every
/// worker thread of a multi-threaded runtime shares. Where this gives
/// `None`, they look the global propagator up per request, as before, so a
/// propagator set after the layer was built is still used.
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use otel_http::propagation::{PropagatorName, composite, owned_global};
///
/// opentelemetry::global::set_text_map_propagator(composite(&[
///     PropagatorName::TraceContext,
///     PropagatorName::Baggage,
/// ]));
/// let own = owned_global().expect("a W3C composite");
/// let mut fields: Vec<&str> = own.fields().collect();
/// fields.sort();
/// assert_eq!(fields, ["baggage", "traceparent", "tracestate"]);
///
/// opentelemetry::global::set_text_map_propagator(composite(&[PropagatorName::B3]));
/// assert!(owned_global().is_none(), "looked up per request");
/// ```
pub fn owned_global() -> Option<Arc<dyn TextMapPropagator + Send + Sync>> {
    let set = opentelemetry::global::get_text_map_propagator(w3c_set::W3cSet::recognise)?;
    Some(Arc::new(composite(&set.names())))
}

/// Injects `cx` into `headers` with `propagator`: what
/// `propagator.inject_context(cx, &mut HeaderInjector(headers))` does, and
/// for the W3C propagators of [`composite`] (otel-init's default, as the
/// global propagator too) the same headers written straight into the map,
/// without a string per value and the injector's lookups. otel-reqwest,
/// otel-tonic and [`OutgoingPolicy`](crate::trust::OutgoingPolicy) inject
/// with it.
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
/// use opentelemetry::Context;
/// use otel_http::carrier::HeaderInjector;
/// use otel_http::propagation::{PropagatorName, composite, inject_headers};
///
/// let cx = Context::new().with_remote_span_context(SpanContext::new(
///     TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
///     SpanId::from(0x00f0_67aa_0ba9_02b7),
///     TraceFlags::SAMPLED,
///     true,
///     TraceState::NONE,
/// ));
/// let propagator = composite(&[PropagatorName::TraceContext, PropagatorName::Baggage]);
/// let mut direct = http::HeaderMap::new();
/// inject_headers(&propagator, &cx, &mut direct);
/// let mut through_injector = http::HeaderMap::new();
/// propagator.inject_context(&cx, &mut HeaderInjector(&mut through_injector));
/// assert_eq!(direct, through_injector);
/// assert_eq!(direct["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
/// ```
pub fn inject_headers(
    propagator: &dyn TextMapPropagator,
    cx: &Context,
    headers: &mut http::HeaderMap,
) {
    match w3c_set::W3cSet::recognise(propagator) {
        Some(set) => set.inject(cx, headers),
        None => propagator.inject_context(cx, &mut HeaderInjector(headers)),
    }
}
