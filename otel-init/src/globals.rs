//! The only place that mutates OpenTelemetry's globals.

use opentelemetry::global;
use opentelemetry::metrics::noop::NoopMeterProvider;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::noop::NoopTracerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

pub(crate) fn install(
    propagator: TextMapCompositePropagator,
    tracer: Option<&SdkTracerProvider>,
    meter: Option<&crate::metrics::ExemplarMeterProvider>,
) {
    global::set_text_map_propagator(propagator);
    if let Some(t) = tracer {
        global::set_tracer_provider(t.clone());
    }
    if let Some(m) = meter {
        global::set_meter_provider(m.clone());
    }
}

/// After shutdown the globals stop pointing at providers that no longer export.
pub(crate) fn reset() {
    global::set_tracer_provider(NoopTracerProvider::new());
    global::set_meter_provider(NoopMeterProvider::new());
}
