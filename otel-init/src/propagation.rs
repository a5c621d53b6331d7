//! `OTEL_PROPAGATORS` turned into the global composite propagator, built from
//! otel-http's strict implementations.

use crate::config::PropagatorKind;
use otel_http::propagation::Propagators;

pub(crate) fn build(kinds: &[PropagatorKind]) -> Propagators {
    otel_http::propagation::composite(kinds)
}
