//! `OTEL_TRACES_SAMPLER`, its argument, and the tail and adaptive sampling settings.

use super::env::EnvReader;

/// The `OTEL_TRACES_SAMPLER` choices: the specification's, and the rate-limited
/// and rule-based samplers of this workspace (see [`crate::sampling`]).
///
/// ```
/// use otel_init::config::{Config, SamplerKind};
/// let config = Config::from_source(&[
///     ("OTEL_TRACES_SAMPLER", "parentbased_ratelimited"),
///     ("OTEL_TRACES_SAMPLER_ARG", "50"),
/// ]);
/// assert_eq!(config.sampler, SamplerKind::ParentBasedRateLimited(50.0));
///
/// let rules = Config::from_source(&[
///     ("OTEL_TRACES_SAMPLER", "rules"),
///     ("OTEL_TRACES_SAMPLER_ARG", "http.route=/healthz => never; * => 0.1"),
/// ]);
/// assert!(matches!(rules.sampler, SamplerKind::Rules(r) if r.rules().len() == 2));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum SamplerKind {
    /// `always_on`
    AlwaysOn,
    /// `always_off`
    AlwaysOff,
    /// `traceidratio` with the ratio from `OTEL_TRACES_SAMPLER_ARG`; consistent
    /// across services (threshold algorithm, `ot=th:` in `tracestate`).
    TraceIdRatio(f64),
    /// `parentbased_always_on` (the default)
    ParentBasedAlwaysOn,
    /// `parentbased_always_off`
    ParentBasedAlwaysOff,
    /// `parentbased_traceidratio`
    ParentBasedTraceIdRatio(f64),
    /// `ratelimited`: at most `OTEL_TRACES_SAMPLER_ARG` traces per second (default 100).
    RateLimited(f64),
    /// `parentbased_ratelimited`
    ParentBasedRateLimited(f64),
    /// `rules`: the rules in `OTEL_TRACES_SAMPLER_ARG` (format in [`crate::sampling::RuleSampler`]).
    Rules(crate::sampling::RuleSampler),
    /// `parentbased_rules`
    ParentBasedRules(crate::sampling::RuleSampler),
}

pub(super) fn read_sampler(r: &mut EnvReader<'_>) -> SamplerKind {
    const NAMES: &[&str] = &[
        "always_on",
        "always_off",
        "traceidratio",
        "parentbased_always_on",
        "parentbased_always_off",
        "parentbased_traceidratio",
        "ratelimited",
        "parentbased_ratelimited",
        "rules",
        "parentbased_rules",
    ];
    let kind = r.choice("OTEL_TRACES_SAMPLER", NAMES);
    match kind.as_deref() {
        Some("always_on") => SamplerKind::AlwaysOn,
        Some("always_off") => SamplerKind::AlwaysOff,
        Some("traceidratio") => SamplerKind::TraceIdRatio(read_ratio(r)),
        Some("parentbased_always_off") => SamplerKind::ParentBasedAlwaysOff,
        Some("parentbased_traceidratio") => SamplerKind::ParentBasedTraceIdRatio(read_ratio(r)),
        Some("ratelimited") => SamplerKind::RateLimited(read_rate(r)),
        Some("parentbased_ratelimited") => SamplerKind::ParentBasedRateLimited(read_rate(r)),
        Some("rules") => read_rules(r).map_or(SamplerKind::ParentBasedAlwaysOn, SamplerKind::Rules),
        Some("parentbased_rules") => read_rules(r).map_or(
            SamplerKind::ParentBasedAlwaysOn,
            SamplerKind::ParentBasedRules,
        ),
        _ => SamplerKind::ParentBasedAlwaysOn,
    }
}

fn read_ratio(r: &mut EnvReader<'_>) -> f64 {
    let Some(raw) = r.string("OTEL_TRACES_SAMPLER_ARG") else {
        return 1.0;
    };
    match raw.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => p,
        _ => {
            r.warn(
                "OTEL_TRACES_SAMPLER_ARG",
                &raw,
                "a sampling probability from 0.0 to 1.0; using 1.0",
            );
            1.0
        }
    }
}

fn read_rate(r: &mut EnvReader<'_>) -> f64 {
    const DEFAULT: f64 = 100.0;
    let Some(raw) = r.string("OTEL_TRACES_SAMPLER_ARG") else {
        return DEFAULT;
    };
    match raw.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => n,
        _ => {
            r.warn(
                "OTEL_TRACES_SAMPLER_ARG",
                &raw,
                "a number of traces per second (0 or more); using 100",
            );
            DEFAULT
        }
    }
}

/// The rules, keeping the valid ones; `None` (and the default sampler) when none is valid.
fn read_rules(r: &mut EnvReader<'_>) -> Option<crate::sampling::RuleSampler> {
    let Some(raw) = r.string("OTEL_TRACES_SAMPLER_ARG") else {
        r.warn(
            "OTEL_TRACES_SAMPLER_ARG",
            "",
            "sampling rules such as `http.route=/healthz => never; * => 0.1` \
             (required by the rules samplers); using parentbased_always_on",
        );
        return None;
    };
    let (rules, errors) = crate::sampling::RuleSampler::parse_lenient(&raw);
    for e in errors {
        r.warn(
            "OTEL_TRACES_SAMPLER_ARG",
            &raw,
            format!("valid sampling rules; {e}; that rule is skipped"),
        );
    }
    if rules.rules().is_empty() {
        r.warn(
            "OTEL_TRACES_SAMPLER_ARG",
            &raw,
            "at least one valid sampling rule; using parentbased_always_on",
        );
        return None;
    }
    Some(rules)
}

pub(super) fn read_tail_sampling(r: &mut EnvReader<'_>) -> Option<crate::sampling::TailSampling> {
    if !r.bool("OTEL_INIT_TAIL_SAMPLING") {
        return None;
    }
    let mut tail = crate::sampling::TailSampling::new();
    if let Some(t) = r.interval_ms("OTEL_INIT_TAIL_SLOWER_THAN_MS") {
        tail = tail.keep_slower_than(t);
    }
    if let Some(t) = r.interval_ms("OTEL_INIT_TAIL_MAX_HOLD_MS") {
        tail = tail.max_hold(t);
    }
    if let Some(n) = r.count("OTEL_INIT_TAIL_MAX_TRACES", 1) {
        tail = tail.max_traces(n);
    }
    if let Some(n) = r.count("OTEL_INIT_TAIL_MAX_SPANS", 1) {
        tail = tail.max_spans(n);
    }
    if let Some(n) = r.count("OTEL_INIT_TAIL_MAX_SPANS_PER_TRACE", 1) {
        tail = tail.max_spans_per_trace(n);
    }
    Some(tail)
}

pub(super) fn read_adaptive_sampling(r: &mut EnvReader<'_>) -> Option<crate::sampling::Adaptive> {
    let threshold = read_fraction(r, "OTEL_INIT_ADAPTIVE_ERROR_RATE")?;
    let mut adaptive = crate::sampling::Adaptive::above(threshold);
    if let Some(full) = read_fraction(r, "OTEL_INIT_ADAPTIVE_FULL_AT") {
        adaptive = adaptive.full_at(full);
    }
    if let Some(w) = r.interval_ms("OTEL_INIT_ADAPTIVE_WINDOW_MS") {
        adaptive = adaptive.window(w);
    }
    if let Some(n) = r.count("OTEL_INIT_ADAPTIVE_MIN_REQUESTS", 1) {
        adaptive = adaptive.min_requests(n as u64);
    }
    Some(adaptive)
}

fn read_fraction(r: &mut EnvReader<'_>, name: &str) -> Option<f64> {
    let raw = r.string(name)?;
    match raw.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Some(p),
        _ => {
            r.warn(
                name,
                &raw,
                "an error rate from 0.0 to 1.0; adaptive sampling is off",
            );
            None
        }
    }
}
