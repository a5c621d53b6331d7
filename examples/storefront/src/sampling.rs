//! The shop's sampling policy (`shared/reference/scenarios.md`, section 3),
//! built with otel-init's sampling API:
//! - health checks (`/healthz`): never;
//! - `/checkout`: always (it is the page of the story);
//! - everything else: 10%, at most 100 traces per second per service;
//! - and, decided when a request ends, every trace with an error (5xx) and
//!   every request slower than 5 s (in-process tail sampling);
//! - while more than 10% of requests fail, every trace (adaptive sampling).
//!
//! Inventory and payment are called with a parent, so their decisions follow
//! the storefront's (parent-based). An operator's `OTEL_TRACES_SAMPLER` wins
//! over the rules, as with any otel-init service; see `docs/sampling.md`.

use otel_init::sampling::{Action, Adaptive, Rule, RuleSampler, TailSampling};
use otel_init::{SamplerKind, TelemetryBuilder};
use std::time::Duration;

/// The head rules of the policy.
pub fn rules() -> RuleSampler {
    RuleSampler::new([
        Rule::route("/healthz").then(Action::never()),
        Rule::route("/checkout*").then(Action::always()),
        Rule::any().then(Action::ratio(0.1).max_per_second(100.0)),
    ])
}

/// Installs the shop's sampling policy on `builder`.
pub fn apply(builder: TelemetryBuilder) -> TelemetryBuilder {
    let builder = if std::env::var("OTEL_TRACES_SAMPLER").is_ok_and(|v| !v.is_empty()) {
        builder
    } else {
        builder.sampler(SamplerKind::ParentBasedRules(rules()))
    };
    builder
        .tail_sampling(TailSampling::new().keep_slower_than(Duration::from_secs(5)))
        .adaptive_sampling(Adaptive::above(0.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use otel_init::opentelemetry::KeyValue;
    use otel_init::opentelemetry::trace::{SpanKind, TraceId};
    use otel_init::opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};

    fn kept(route: &'static str, id: u128) -> bool {
        rules()
            .should_sample(
                None,
                TraceId::from(id),
                "GET",
                &SpanKind::Server,
                &[KeyValue::new("http.route", route)],
                &[],
            )
            .decision
            == SamplingDecision::RecordAndSample
    }

    #[test]
    fn checkout_always_health_never_the_rest_a_tenth() {
        let ids = (1..=1000u128).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834));
        let (mut checkout, mut health, mut other) = (0, 0, 0);
        for id in ids {
            checkout += usize::from(kept("/checkout", id));
            health += usize::from(kept("/healthz", id));
            other += usize::from(kept("/products/{sku}", id));
        }
        assert_eq!(checkout, 1000);
        assert_eq!(health, 0);
        assert!((50..=150).contains(&other), "{other} of 1000");
    }
}
