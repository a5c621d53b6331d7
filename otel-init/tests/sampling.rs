//! Samplers and outcome-based sampling through the public API: ratios over
//! many ids (fixed seeds), the rate limiter under concurrency, parent-based
//! decisions across two services, rules from the environment, the tail
//! processor end to end to an OTLP receiver, adaptive raising and falling.

mod common;

use common::Harness;
use otel_init::config::Config;
use otel_init::opentelemetry::propagation::TextMapPropagator;
use otel_init::opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt, TraceId, Tracer as _, TracerProvider as _,
};
use otel_init::opentelemetry::{Context, KeyValue};
use otel_init::opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};
use otel_init::sampling::{
    Action, Adaptive, ParentBased, RateLimiter, RatioSampler, Rule, RuleSampler, TailSampling,
};
use otel_init::{SamplerKind, Telemetry};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

fn sampled(
    s: &dyn ShouldSample,
    id: TraceId,
    parent: Option<&Context>,
    attrs: &[KeyValue],
) -> bool {
    s.should_sample(parent, id, "GET", &SpanKind::Server, attrs, &[])
        .decision
        == SamplingDecision::RecordAndSample
}

fn random_ids(seed: u64, n: usize) -> Vec<TraceId> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| TraceId::from(rng.random::<u128>()))
        .collect()
}

/// |kept - n p| within 5 standard deviations of the binomial.
fn assert_ratio(kept: usize, n: usize, p: f64) {
    let mean = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    assert!(
        (kept as f64 - mean).abs() <= 5.0 * sd,
        "kept {kept} of {n}, expected {mean:.0} ± {:.0}",
        5.0 * sd
    );
}

#[test]
fn ratios_of_ten_and_one_percent_over_many_ids_are_consistent() {
    let ids = random_ids(7, 200_000);
    let ten = RatioSampler::new(0.1);
    let one = RatioSampler::new(0.01);
    let kept_ten: HashSet<TraceId> = ids
        .iter()
        .filter(|id| sampled(&ten, **id, None, &[]))
        .copied()
        .collect();
    let kept_one: HashSet<TraceId> = ids
        .iter()
        .filter(|id| sampled(&one, **id, None, &[]))
        .copied()
        .collect();
    assert_ratio(kept_ten.len(), ids.len(), 0.1);
    assert_ratio(kept_one.len(), ids.len(), 0.01);
    // Consistency: the 1% are a subset of the 10%; a second instance (another
    // service) agrees on every id.
    assert!(kept_one.is_subset(&kept_ten));
    let other_service = RatioSampler::new(0.1);
    assert!(
        ids.iter()
            .all(|id| sampled(&ten, *id, None, &[]) == sampled(&other_service, *id, None, &[]))
    );
}

#[test]
fn the_rate_limiter_never_exceeds_rate_times_time_plus_burst_across_threads() {
    let (rate, burst) = (200.0, 20.0);
    let start = Instant::now();
    let limiter = Arc::new(RateLimiter::new(rate, burst));
    let admitted: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let limiter = limiter.clone();
                s.spawn(move || {
                    let mut n = 0;
                    let until = Instant::now() + Duration::from_millis(300);
                    while Instant::now() < until {
                        n += usize::from(limiter.try_acquire());
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let bound = rate * elapsed + burst;
    assert!(admitted as f64 <= bound, "{admitted} admitted > {bound:.1}");
    assert!(admitted >= burst as usize, "at least the burst: {admitted}");
}

#[test]
fn parent_based_keeps_traces_whole_across_two_services() {
    // Service A keeps 10% of new traces; service B would keep 50% of its own,
    // but follows A's decision for A's traces, carried by traceparent.
    let a = ParentBased::new(RatioSampler::new(0.1));
    let b = ParentBased::new(RatioSampler::new(0.5));
    let propagator = otel_http::propagation::W3cTraceContextPropagator::default();
    let provider_a = otel_init::opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_sampler(a)
        .build();
    let tracer_a = provider_a.tracer("a");
    let mut kept = 0;
    let n = 2_000;
    for _ in 0..n {
        let span = tracer_a.start("GET /checkout");
        let cx = Context::new().with_span(span);
        let a_sampled = cx.span().span_context().is_sampled();
        kept += usize::from(a_sampled);
        let mut headers = HashMap::new();
        propagator.inject_context(&cx, &mut headers);
        let incoming = propagator.extract(&headers);
        let b_sampled = sampled(
            &b,
            cx.span().span_context().trace_id(),
            Some(&incoming),
            &[],
        );
        assert_eq!(a_sampled, b_sampled, "B follows A: {headers:?}");
        if a_sampled {
            let ts = headers.get("tracestate").expect("threshold travels");
            assert!(ts.starts_with("ot=th:e666"), "{ts}");
        }
    }
    assert_ratio(kept, n, 0.1);
}

#[test]
fn rules_from_the_environment_follow_the_documented_format() {
    let config = Config::from_source(&[
        ("OTEL_TRACES_SAMPLER", "parentbased_rules"),
        (
            "OTEL_TRACES_SAMPLER_ARG",
            "http.route=/healthz => never; http.route=/checkout* => always; * => 0.1 max 100/s",
        ),
    ]);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let expected = RuleSampler::new([
        Rule::route("/healthz").then(Action::never()),
        Rule::route("/checkout*").then(Action::always()),
        Rule::any().then(Action::ratio(0.1).max_per_second(100.0)),
    ]);
    assert_eq!(
        config.sampler,
        SamplerKind::ParentBasedRules(expected.clone())
    );

    let ids = random_ids(11, 5_000);
    let route = |r: &'static str| [KeyValue::new("http.route", r)];
    let health = ids
        .iter()
        .filter(|id| sampled(&expected, **id, None, &route("/healthz")))
        .count();
    let checkout = ids
        .iter()
        .filter(|id| sampled(&expected, **id, None, &route("/checkout/{order}")))
        .count();
    assert_eq!(health, 0);
    assert_eq!(checkout, ids.len());

    // A bad rule is named and skipped; no valid rule falls back to the default.
    let config = Config::from_source(&[
        ("OTEL_TRACES_SAMPLER", "rules"),
        ("OTEL_TRACES_SAMPLER_ARG", "http.route=/a => 1.5; * => 0.25"),
    ]);
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(config.warnings[0].expected.contains("http.route=/a => 1.5"));
    assert_eq!(
        config.sampler,
        SamplerKind::Rules(RuleSampler::new([Rule::any().then(Action::ratio(0.25))]))
    );
    let config = Config::from_source(&[("OTEL_TRACES_SAMPLER", "rules")]);
    assert_eq!(config.sampler, SamplerKind::ParentBasedAlwaysOn);
    assert_eq!(config.warnings.len(), 1);
    let config = Config::from_source(&[
        ("OTEL_TRACES_SAMPLER", "parentbased_ratelimited"),
        ("OTEL_TRACES_SAMPLER_ARG", "-4"),
    ]);
    assert_eq!(config.sampler, SamplerKind::ParentBasedRateLimited(100.0));
    assert!(config.warnings[0].to_string().contains("traces per second"));
}

#[test]
fn tail_and_adaptive_settings_come_from_the_environment() {
    let config = Config::from_source(&[
        ("OTEL_INIT_TAIL_SAMPLING", "true"),
        ("OTEL_INIT_TAIL_SLOWER_THAN_MS", "5000"),
        ("OTEL_INIT_TAIL_MAX_SPANS", "5000"),
        ("OTEL_INIT_ADAPTIVE_ERROR_RATE", "0.1"),
        ("OTEL_INIT_ADAPTIVE_WINDOW_MS", "30000"),
    ]);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert_eq!(
        config.tail_sampling,
        Some(
            TailSampling::new()
                .keep_slower_than(Duration::from_secs(5))
                .max_spans(5000)
        )
    );
    assert_eq!(
        config.adaptive_sampling,
        Some(Adaptive::above(0.1).window(Duration::from_secs(30)))
    );
    let config = Config::from_source(&[("OTEL_INIT_ADAPTIVE_ERROR_RATE", "ten percent")]);
    assert_eq!(config.adaptive_sampling, None);
    assert_eq!(config.warnings[0].variable, "OTEL_INIT_ADAPTIVE_ERROR_RATE");
}

/// A pipeline sending spans (only) to the harness's receiver over gRPC.
fn spans_to(h: &Harness) -> otel_init::TelemetryBuilder {
    let endpoint = h.receiver.grpc_endpoint();
    Telemetry::builder_from_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "20000"),
    ])
    .without_globals()
}

/// One local trace: a SERVER root and two children, with chosen outcome and duration.
fn emit_trace(
    tracer: &otel_init::opentelemetry_sdk::trace::Tracer,
    error: bool,
    root_took: Duration,
) {
    let t0 = SystemTime::now();
    let root = tracer
        .span_builder("GET /items")
        .with_kind(SpanKind::Server)
        .with_start_time(t0)
        .start(tracer);
    let cx = Context::new().with_span(root);
    for (i, name) in ["load_cart", "SELECT items"].into_iter().enumerate() {
        let mut child = tracer
            .span_builder(name)
            .with_start_time(t0)
            .start_with_context(tracer, &cx);
        if error && i == 1 {
            child.set_status(Status::error("deadlock"));
        }
        child.end_with_timestamp(t0 + Duration::from_millis(1));
    }
    cx.span().end_with_timestamp(t0 + root_took);
}

#[test]
fn the_tail_processor_keeps_every_error_and_slow_trace_and_the_base_ratio_of_the_rest() {
    let h = Harness::start();
    let guard = spans_to(&h)
        .sampler(SamplerKind::ParentBasedTraceIdRatio(0.1))
        .tail_sampling(TailSampling::new().keep_slower_than(Duration::from_secs(5)))
        .build()
        .expect("telemetry");
    let tracer = guard
        .tracer_provider()
        .expect("provider")
        .tracer("tail-test");
    let mut rng = StdRng::seed_from_u64(3);
    let (mut errors, mut slow, mut normal) = (0, 0, 0);
    for _ in 0..2_000 {
        match rng.random_range(0..20) {
            0 => {
                errors += 1;
                emit_trace(&tracer, true, Duration::from_millis(20));
            }
            1 => {
                slow += 1;
                emit_trace(&tracer, false, Duration::from_secs(6));
            }
            _ => {
                normal += 1;
                emit_trace(&tracer, false, Duration::from_millis(20));
            }
        }
    }
    let report = guard.tail_sampling_report().expect("tail sampling on");
    assert_eq!(report.spans_over_limit, 0);
    let shutdown = guard.shutdown();
    assert!(shutdown.completed, "{shutdown:?}");

    let spans = h.receiver.spans();
    let mut by_trace: HashMap<Vec<u8>, Vec<_>> = HashMap::new();
    for s in &spans {
        by_trace.entry(s.trace_id.clone()).or_default().push(s);
    }
    // Whole fragments only.
    assert!(
        by_trace.values().all(|t| t.len() == 3),
        "fragments are whole"
    );
    let has_error = |t: &Vec<&otel_testing::opentelemetry_proto::tonic::trace::v1::Span>| {
        t.iter()
            .any(|s| s.status.as_ref().is_some_and(|st| st.code == 2))
    };
    let is_slow = |t: &Vec<&otel_testing::opentelemetry_proto::tonic::trace::v1::Span>| {
        t.iter()
            .any(|s| s.end_time_unix_nano - s.start_time_unix_nano >= 5_000_000_000)
    };
    let kept_errors = by_trace.values().filter(|t| has_error(t)).count();
    let kept_slow = by_trace.values().filter(|t| is_slow(t)).count();
    let kept_normal = by_trace.len() - kept_errors - kept_slow;
    assert_eq!(kept_errors, errors, "every error trace kept");
    assert_eq!(kept_slow, slow, "every slow trace kept");
    assert_ratio(kept_normal, normal, 0.1);
    // Kept spans are exported as sampled.
    assert!(spans.iter().all(|s| s.flags & 0x1 == 0x1));
    let report_errors = report.kept_error;
    assert_eq!(
        report.kept_sampled + report.kept_error + report.kept_slow + report.dropped,
        2_000,
        "{report:?}"
    );
    assert!(report_errors as usize <= errors);
}

#[test]
fn the_tail_processor_stays_within_its_memory_bounds() {
    let h = Harness::start();
    let guard = spans_to(&h)
        .sampler(SamplerKind::ParentBasedAlwaysOff)
        .tail_sampling(
            TailSampling::new()
                .max_spans(100)
                .max_spans_per_trace(10)
                .max_traces(50),
        )
        .build()
        .expect("telemetry");
    let tracer = guard.tracer_provider().expect("provider").tracer("bounds");
    // 80 traces whose roots never end, 20 children each: at most 50 fragments,
    // 10 spans per fragment and 100 spans in all are held.
    let mut roots = Vec::new();
    for t in 0..80 {
        let root = tracer.span_builder("job").start(&tracer);
        let cx = Context::new().with_span(root);
        for c in 0..20 {
            let mut child = tracer.start_with_context("step", &cx);
            if t == 0 && c == 19 {
                child.set_status(Status::error("boom"));
            }
            child.end();
        }
        roots.push(cx);
    }
    let report = guard.tail_sampling_report().expect("on");
    assert_eq!(report.spans_over_limit, 80 * 20 - 100, "{report:?}");
    // Shutdown releases what is held: the fragment with an error is kept
    // (its root never ended, so it is partial), the others are dropped.
    let report = guard.shutdown();
    assert!(report.completed, "{report:?}");
    let spans = h.receiver.spans();
    assert_eq!(spans.len(), 10, "the first fragment's 10 held spans");
    drop(roots);
}

#[test]
fn adaptive_sampling_raises_the_ratio_on_errors_and_falls_back() {
    let guard = Telemetry::builder_from_env(&[("OTEL_TRACES_EXPORTER", "none")])
        .without_globals()
        .sampler(SamplerKind::ParentBasedAlwaysOff)
        .adaptive_sampling(
            Adaptive::above(0.1)
                .window(Duration::from_millis(200))
                .min_requests(10),
        )
        .build()
        .expect("telemetry");
    let tracer = guard
        .tracer_provider()
        .expect("provider")
        .tracer("adaptive");
    let request = |fail: bool| {
        let mut span = tracer
            .span_builder("GET /pay")
            .with_kind(SpanKind::Server)
            .start(&tracer);
        let sampled = span.span_context().is_sampled();
        if fail {
            span.set_status(Status::error("502"));
        }
        span.end();
        sampled
    };
    // Healthy: the base sampler (never) decides.
    assert_eq!((0..50).filter(|_| request(false)).count(), 0);
    // 50% errors: the error rate passes 10% and every trace is kept.
    for i in 0..40 {
        request(i % 2 == 0);
    }
    assert_eq!((0..20).filter(|_| request(true)).count(), 20);
    // Recovery: after two quiet windows the base sampler decides again.
    std::thread::sleep(Duration::from_millis(450));
    request(false);
    std::thread::sleep(Duration::from_millis(250));
    let after: usize = (0..50).filter(|_| request(false)).count();
    assert_eq!(after, 0, "the boost fell back");
}
