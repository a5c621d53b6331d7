//! `OTEL_PROPAGATORS` turned into the global composite propagator, built from
//! otel-http's strict implementations.

use crate::config::PropagatorKind;
use opentelemetry::propagation::TextMapCompositePropagator;

pub(crate) fn build(kinds: &[PropagatorKind]) -> TextMapCompositePropagator {
    otel_http::propagation::composite(kinds)
}
