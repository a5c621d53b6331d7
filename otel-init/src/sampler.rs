//! `OTEL_TRACES_SAMPLER` choices turned into SDK samplers.

use crate::config::SamplerKind;
use opentelemetry_sdk::trace::Sampler;

pub(crate) fn build(kind: SamplerKind) -> Sampler {
    match kind {
        SamplerKind::AlwaysOn => Sampler::AlwaysOn,
        SamplerKind::AlwaysOff => Sampler::AlwaysOff,
        SamplerKind::TraceIdRatio(p) => Sampler::TraceIdRatioBased(p),
        SamplerKind::ParentBasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        SamplerKind::ParentBasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        SamplerKind::ParentBasedTraceIdRatio(p) => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(p)))
        }
    }
}
