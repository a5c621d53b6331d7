//! `OTEL_PROPAGATORS` turned into the global composite propagator.

use crate::config::PropagatorKind;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

pub(crate) fn build(kinds: &[PropagatorKind]) -> TextMapCompositePropagator {
    let list: Vec<Box<dyn TextMapPropagator + Send + Sync>> = kinds
        .iter()
        .map(|k| -> Box<dyn TextMapPropagator + Send + Sync> {
            match k {
                PropagatorKind::TraceContext => Box::new(TraceContextPropagator::new()),
                PropagatorKind::Baggage => Box::new(BaggagePropagator::new()),
            }
        })
        .collect();
    TextMapCompositePropagator::new(list)
}
