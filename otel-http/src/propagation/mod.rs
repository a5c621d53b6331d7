//! Propagators: strict W3C Trace Context and Baggage, B3 and Jaeger for
//! interop, and their composition by name (`OTEL_PROPAGATORS`).

mod b3;
mod baggage;
mod composite;
mod jaeger;
mod trace_context;
mod traceparent;
mod tracestate;

pub use b3::{B3Encoding, B3Propagator};
pub use baggage::{BaggageMember, W3cBaggagePropagator, parse_baggage};
pub use composite::{PropagatorName, UnknownPropagator, composite};
pub use jaeger::JaegerPropagator;
pub use trace_context::W3cTraceContextPropagator;
pub use traceparent::{TraceParent, format_traceparent, parse_traceparent};
pub use tracestate::parse_tracestate;
