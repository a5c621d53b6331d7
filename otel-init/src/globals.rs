//! The only place that mutates OpenTelemetry's globals.

use opentelemetry::global;
use opentelemetry::metrics::noop::NoopMeterProvider;
use opentelemetry::trace::noop::NoopTracerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otel_http::propagation::Propagators;
use otel_http::sampling::{self, DroppedSpans, KnownDecisions};

/// Installs the globals. `known` is what the tracer provider's sampler is
/// known to decide without asking (see [`otel_http::sampling`]), declared
/// with the provider so that instrumentation never assumes it of another one.
pub(crate) fn install(
    propagator: Propagators,
    tracer: Option<(&SdkTracerProvider, KnownDecisions)>,
    meter: Option<&crate::metrics::ExemplarMeterProvider>,
) {
    global::set_text_map_propagator(propagator);
    if let Some((t, known)) = tracer {
        global::set_tracer_provider(t.clone());
        sampling::declare(known);
        // The provider keeps the SDK's default id generator, and the
        // samplers that drop an unsampled parent's child keep its trace
        // state (held against the SDK in the sampling module's tests).
        sampling::declare_dropped_spans(DroppedSpans::Plain);
    }
    if let Some(m) = meter {
        global::set_meter_provider(m.clone());
    }
}

/// After shutdown the globals stop pointing at providers that no longer export.
pub(crate) fn reset() {
    sampling::declare(KnownDecisions::Unknown);
    sampling::declare_dropped_spans(DroppedSpans::ThroughTracer);
    global::set_tracer_provider(NoopTracerProvider::new());
    global::set_meter_provider(NoopMeterProvider::new());
}
