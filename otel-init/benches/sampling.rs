//! Sampling benchmark, one run:
//!
//! 1. `decision/*`: nanoseconds per sampling decision for a root SERVER span
//!    with the attributes otel-axum gives at start (method, route, path,
//!    scheme): the SDK's `AlwaysOn` and `TraceIdRatioBased` as baselines, then
//!    each sampler of `otel_init::sampling`.
//! 2. `trace/*`: the application thread's cost of one local trace (a SERVER
//!    root and two children) through the whole pipeline to an in-process OTLP
//!    receiver, flush included in the timed region: head ratio 10% with the
//!    plain batch processor (baseline), the same plus in-process tail sampling
//!    (every span recorded and held until its root ends), plus adaptive
//!    sampling, and `always_on` (every span exported) for scale.
//!
//! Run with `cargo bench -p otel-init --bench sampling`.

use criterion::{Criterion, Throughput};
use otel_init::opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer,
    TracerProvider,
};
use otel_init::opentelemetry::{Context, KeyValue};
use otel_init::opentelemetry_sdk::trace::{Sampler, ShouldSample};
use otel_init::sampling::{
    Action, Adaptive, ParentBased, RateLimitingSampler, RatioSampler, Rule, RuleSampler,
    TailSampling,
};
use otel_init::{ExporterKind, Protocol, SamplerKind, Telemetry, TelemetryGuard};
use otel_testing::OtlpReceiver;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn attributes() -> Vec<KeyValue> {
    vec![
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("http.route", "/items/{id}"),
        KeyValue::new("url.path", "/items/42"),
        KeyValue::new("url.scheme", "http"),
    ]
}

fn shop_rules() -> RuleSampler {
    RuleSampler::new([
        Rule::route("/healthz").then(Action::never()),
        Rule::route("/checkout*").then(Action::always()),
        Rule::any().then(Action::ratio(0.1).max_per_second(100.0)),
    ])
}

fn decisions(c: &mut Criterion) {
    let attrs = attributes();
    // A caller that kept the trace at 10%: its randomness (low 56 bits of the
    // trace id) is above the threshold it recorded, as a consistent caller's is.
    let parent_trace = TraceId::from(0x0123_4567_89ab_cdef_00ff_ffff_ffff_fff0u128);
    let sampled_parent = Context::new().with_remote_span_context(SpanContext::new(
        parent_trace,
        SpanId::from(9u64),
        TraceFlags::SAMPLED,
        true,
        TraceState::from_key_value([("ot", "th:e666666666666")]).expect("valid"),
    ));
    let cases: Vec<(&str, Box<dyn ShouldSample>, Option<&Context>)> = vec![
        ("sdk_always_on", Box::new(Sampler::AlwaysOn), None),
        (
            "sdk_traceidratio_0.1",
            Box::new(Sampler::TraceIdRatioBased(0.1)),
            None,
        ),
        ("ratio_0.1", Box::new(RatioSampler::new(0.1)), None),
        (
            "parentbased_ratio_0.1_sampled_parent",
            Box::new(ParentBased::new(RatioSampler::new(0.1))),
            Some(&sampled_parent),
        ),
        (
            "ratelimited_1e12_per_s_admitting",
            Box::new(RateLimitingSampler::new(1e12)),
            None,
        ),
        (
            "ratelimited_100_per_s_refusing",
            Box::new(RateLimitingSampler::new(100.0)),
            None,
        ),
        ("rules_shop_policy_last_rule", Box::new(shop_rules()), None),
    ];
    let mut group = c.benchmark_group("decision");
    group.throughput(Throughput::Elements(1));
    for (name, sampler, parent) in &cases {
        let mut id: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834;
        group.bench_function(*name, |b| {
            b.iter(|| {
                // A different trace id each time (a cheap LCG step), as in production.
                id = id
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                black_box(sampler.should_sample(
                    *parent,
                    TraceId::from(id),
                    "GET /items/{id}",
                    &SpanKind::Server,
                    &attrs,
                    &[],
                ))
            })
        });
    }
    group.finish();
}

fn guard(endpoint: &str, kind: SamplerKind, tail: bool, adaptive: bool) -> TelemetryGuard {
    let mut builder = Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", "sampling-bench"),
        ("OTEL_LOG_LEVEL", "warn"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "65536"),
    ])
    .without_globals()
    .metrics_exporters([])
    .logs_exporters([])
    .traces_exporters([ExporterKind::Otlp])
    .otlp_protocol(Protocol::Grpc)
    .otlp_endpoint(endpoint)
    .sampler(kind);
    if tail {
        builder =
            builder.tail_sampling(TailSampling::new().keep_slower_than(Duration::from_secs(5)));
    }
    if adaptive {
        builder = builder.adaptive_sampling(Adaptive::above(0.1));
    }
    builder.build().expect("telemetry")
}

fn traces(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-receiver")
        .enable_all()
        .build()
        .expect("runtime");
    let receiver = rt.block_on(OtlpReceiver::start()).expect("receiver");
    let endpoint = receiver.grpc_endpoint();
    let ratio = SamplerKind::ParentBasedTraceIdRatio(0.1);
    let cases = [
        (
            "head_ratio_0.1_batch_processor",
            ratio.clone(),
            false,
            false,
        ),
        ("head_ratio_0.1_plus_tail", ratio.clone(), true, false),
        ("head_ratio_0.1_plus_tail_and_adaptive", ratio, true, true),
        (
            "always_on_batch_processor",
            SamplerKind::AlwaysOn,
            false,
            false,
        ),
    ];
    let attrs = attributes();
    let mut group = c.benchmark_group("trace");
    group.throughput(Throughput::Elements(1));
    for (name, kind, tail, adaptive) in cases {
        let guard = guard(&endpoint, kind, tail, adaptive);
        let tracer = guard.tracer_provider().expect("provider").tracer("bench");
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for i in 0..iters {
                    let root = tracer
                        .span_builder("GET /items/{id}")
                        .with_kind(SpanKind::Server)
                        .with_attributes(attrs.clone())
                        .start(&tracer);
                    let cx = Context::new().with_span(root);
                    for name in ["load_cart", "SELECT items"] {
                        let mut child = tracer.start_with_context(name, &cx);
                        child.set_attribute(KeyValue::new("n", i as i64));
                        drop(child);
                    }
                    cx.span().end();
                    if i % 8192 == 8191
                        && let Some(p) = guard.tracer_provider()
                    {
                        // Keep the queue from overflowing: at most 24,576 spans between flushes.
                        let _ = p.force_flush();
                    }
                }
                if let Some(p) = guard.tracer_provider() {
                    let _ = p.force_flush();
                }
                start.elapsed()
            })
        });
        let report = guard.export_report();
        assert_eq!(
            report.traces.dropped_queue_full, 0,
            "{name}: nothing may be dropped"
        );
        drop(guard);
        receiver.clear();
    }
    group.finish();
    rt.block_on(receiver.shutdown());
}

use otel_init::opentelemetry::trace::Span as _;

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    decisions(&mut c);
    traces(&mut c);
    c.final_summary();
}
