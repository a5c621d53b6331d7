//! Extract + inject of a typical header set (traceparent, a two-member
//! tracestate, three baggage members), ns per call: our strict propagators
//! and carriers against opentelemetry's stock propagators with
//! opentelemetry-http's carriers, in the same run.
//!
//! `cargo bench -p otel-http --bench propagation`

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::Context;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use otel_http::propagation::{PropagatorName, composite};
use std::hint::black_box;

fn incoming() -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .expect("value"),
    );
    h.insert(
        "tracestate",
        "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
            .parse()
            .expect("value"),
    );
    h.insert(
        "baggage",
        "user.id=4711,tenant=acme%20corp,session=9f2c;ttl=60"
            .parse()
            .expect("value"),
    );
    h.insert("content-type", "application/json".parse().expect("value"));
    h.insert("user-agent", "bench/1.0".parse().expect("value"));
    h
}

fn bench(c: &mut Criterion) {
    let headers = incoming();
    let ours = composite(&[PropagatorName::TraceContext, PropagatorName::Baggage]);
    let stock = TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]);
    let mut group = c.benchmark_group("extract_inject");
    group.bench_function("otel-http", |b| {
        b.iter(|| {
            let cx = ours.extract_with_context(
                &Context::new(),
                &otel_http::carrier::HeaderExtractor(black_box(&headers)),
            );
            let mut out = http::HeaderMap::new();
            ours.inject_context(&cx, &mut otel_http::carrier::HeaderInjector(&mut out));
            black_box(out)
        })
    });
    group.bench_function("opentelemetry stock", |b| {
        b.iter(|| {
            let cx = stock.extract_with_context(
                &Context::new(),
                &opentelemetry_http::HeaderExtractor(black_box(&headers)),
            );
            let mut out = http::HeaderMap::new();
            stock.inject_context(&cx, &mut opentelemetry_http::HeaderInjector(&mut out));
            black_box(out)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
