//! Load benchmark: a closed-loop HTTP/1.1 client calling a loopback hello-world
//! server, in ONE run, for:
//!
//! 1. a bare `reqwest::Client`,
//! 2. a `ClientWithMiddleware` without middleware, and with one middleware
//!    that does nothing (reqwest-middleware's own cost),
//! 3. `OtelMiddleware`, sampled (AlwaysOn), with a meter provider,
//! 4. `OtelMiddleware`, unsampled: calls in a trace that is not sampled, with
//!    the global provider and sampler otel-init installs by default
//!    (parent-based, declared as such to `otel_http::sampling`, with its
//!    dropped spans made plainly as otel-init declares),
//! 5. `OtelMiddleware`, sampled, without a meter provider (the metric's share),
//! 6. the floor: a middleware that only starts and ends an SDK span and
//!    injects it (W3C), no attribute, no metric: what any OpenTelemetry
//!    client span costs with this SDK, whoever writes the middleware,
//! 7. the peer: reqwest-tracing's `TracingMiddleware` + tracing-opentelemetry,
//!    sampled, plus the context injection its `opentelemetry_*` features do
//!    (they target opentelemetry <= 0.32, so the same few lines run here),
//!
//! First without I/O (the chain ends in a middleware returning a canned
//! response): nanoseconds per call, the middleware's own cost. Then under
//! load: calls/s and the client thread's CPU per call, the client on one
//! current-thread runtime (one core), the server on another thread and
//! runtime, every client built by `reqwest_client_builder()` (same pool,
//! HTTP/1.1); the client thread pinned to CPU 0 and the server thread to
//! CPU 1 (`LOAD_PIN=0` to leave them to the scheduler), so that the
//! scheduler moving them around does not add its noise. Each case runs between two runs of the bare client and is
//! compared with their mean, over several rounds (the order reversed every
//! other round), and the medians are reported: a shared machine is noisy.
//! Spans go to a processor that drops them and metrics to an exporter that
//! drops them, so the figures are the instrumentation's cost, not an
//! exporter's.
//!
//! `cargo bench -p otel-reqwest --bench client`; LOAD_SECS (2 s per run, 0
//! for the measurement without I/O only), LOAD_ROUNDS (5), LOAD_CASES (a
//! subset of empty,pass-through,floor,sampled,unsampled,traces-only,peer; bare always runs),
//! NOIO_CALLS (200000 calls per case without I/O; fewer under callgrind),
//! LOAD_CALLS (instead of LOAD_SECS: that many calls per case after 2000
//! warm-up calls, for counting instructions under callgrind; with
//! `LOAD_CASES=bare` only the bare client runs).

use axum::Router;
use axum::routing::get;
use http::Extensions;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use otel_reqwest::OtelMiddleware;
use otel_reqwest::reqwest_middleware::{
    self, ClientBuilder, ClientWithMiddleware, Middleware, Next,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Drops metrics, like an exporter that costs nothing (the reader still
/// aggregates every measurement).
struct DiscardMetrics;

impl PushMetricExporter for DiscardMetrics {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        std::hint::black_box(metrics);
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

fn tracer_provider(sampler: Sampler) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(otel_testing::DiscardSpans)
        .build()
}

/// The propagators `otel-init` installs by default (`OTEL_PROPAGATORS=tracecontext,baggage`).
fn w3c() -> otel_http::propagation::Propagators {
    use otel_http::propagation::{PropagatorName, composite};
    composite(&[PropagatorName::TraceContext, PropagatorName::Baggage])
}

/// The injection reqwest-tracing's `opentelemetry_0_*` features perform:
/// the current tracing span's context, through the global propagator.
struct InjectTracingContext;

#[async_trait::async_trait]
impl Middleware for InjectTracingContext {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let cx = tracing::Span::current().context();
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(
                &cx,
                &mut otel_http::carrier::HeaderInjector(req.headers_mut()),
            )
        });
        next.run(req, extensions).await
    }
}

/// The least an OpenTelemetry client span costs: started from the SDK's
/// tracer as a child of the current context, injected with the W3C
/// propagator, ended when the response arrives; nothing recorded.
struct SpanFloor {
    tracer: opentelemetry_sdk::trace::SdkTracer,
    propagator: otel_http::propagation::Propagators,
}

#[async_trait::async_trait]
impl Middleware for SpanFloor {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        use opentelemetry::propagation::TextMapPropagator as _;
        use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _};
        let parent = opentelemetry::Context::current();
        let span = self
            .tracer
            .span_builder("GET")
            .with_kind(SpanKind::Client)
            .start_with_context(&self.tracer, &parent);
        let cx = parent.with_span(span);
        self.propagator.inject_context(
            &cx,
            &mut otel_http::carrier::HeaderInjector(req.headers_mut()),
        );
        let response = next.run(req, extensions).await;
        cx.span().end();
        response
    }
}

/// A middleware that does nothing: what reqwest-middleware costs per
/// middleware (the boxed future of `async_trait`, `Next`), before any
/// instrumentation.
struct PassThrough;

#[async_trait::async_trait]
impl Middleware for PassThrough {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        next.run(req, extensions).await
    }
}

/// Ends the chain with a canned response, without I/O: what remains is the
/// cost of the middleware in front of it.
struct CannedResponse;

#[async_trait::async_trait]
impl Middleware for CannedResponse {
    async fn handle(
        &self,
        req: reqwest::Request,
        _: &mut Extensions,
        _: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        std::hint::black_box(&req);
        let response = http::Response::builder()
            .status(200)
            .body("Hello, World!")
            .map_err(reqwest_middleware::Error::middleware)?;
        Ok(reqwest::Response::from(response))
    }
}

/// Nanoseconds per call through `case`'s middleware to [`CannedResponse`].
fn overhead_without_io(case: Case, calls: u32) -> f64 {
    let meters = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(DiscardMetrics).build())
        .build();
    let (caller, dispatch) = caller(case, &meters);
    let _dispatch = dispatch.map(|d| tracing::dispatcher::set_default(&d));
    let (client, cx) = match caller {
        Caller::Bare(c) => (ClientBuilder::new(c).with(CannedResponse).build(), None),
        Caller::Middleware(c) => (
            ClientBuilder::from_client(c).with(CannedResponse).build(),
            None,
        ),
        Caller::InUnsampledTrace(c, cx) => (
            ClientBuilder::from_client(c).with(CannedResponse).build(),
            Some(cx),
        ),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("rt");
    let _attached = cx.map(opentelemetry::Context::attach);
    rt.block_on(async {
        let url = "http://127.0.0.1:8080/hello";
        for _ in 0..calls / 10 {
            let _ = client.get(url).send().await;
        }
        let start = Instant::now();
        for _ in 0..calls {
            let _ = std::hint::black_box(client.get(url).send().await);
        }
        start.elapsed().as_nanos() as f64 / f64::from(calls)
    })
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Case {
    Bare,
    EmptyMiddlewareStack,
    PassThroughMiddleware,
    SpanFloor,
    OursSampled,
    OursUnsampled,
    OursTracesOnly,
    Peer,
}

impl Case {
    /// The name `LOAD_CASES` selects the case by.
    fn key(self) -> &'static str {
        match self {
            Case::Bare => "bare",
            Case::EmptyMiddlewareStack => "empty",
            Case::PassThroughMiddleware => "pass-through",
            Case::SpanFloor => "floor",
            Case::OursSampled => "sampled",
            Case::OursUnsampled => "unsampled",
            Case::OursTracesOnly => "traces-only",
            Case::Peer => "peer",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Case::Bare => "bare reqwest::Client",
            Case::EmptyMiddlewareStack => "ClientWithMiddleware, no middleware",
            Case::PassThroughMiddleware => "ClientWithMiddleware, one pass-through middleware",
            Case::SpanFloor => "floor: SDK span + W3C inject, nothing recorded",
            Case::OursSampled => "otel-reqwest, sampled",
            Case::OursUnsampled => "otel-reqwest, in an unsampled trace",
            Case::OursTracesOnly => "otel-reqwest, sampled, no meter provider",
            Case::Peer => "peer: reqwest-tracing + tracing-opentelemetry, sampled",
        }
    }
}

enum Caller {
    Bare(reqwest::Client),
    Middleware(ClientWithMiddleware),
    /// Calls made in a trace that is not sampled (inside a server span of an
    /// unsampled request, nine calls in ten at 10 % sampling).
    InUnsampledTrace(ClientWithMiddleware, opentelemetry::Context),
}

impl Caller {
    async fn call(&self, url: &str) -> bool {
        match self {
            Caller::Bare(c) => match c.get(url).send().await {
                Ok(res) => res.bytes().await.is_ok(),
                Err(_) => false,
            },
            Caller::Middleware(c) => match c.get(url).send().await {
                Ok(res) => res.bytes().await.is_ok(),
                Err(_) => false,
            },
            Caller::InUnsampledTrace(c, cx) => {
                use opentelemetry::context::FutureExt as _;
                match c.get(url).send().with_context(cx.clone()).await {
                    Ok(res) => res.bytes().await.is_ok(),
                    Err(_) => false,
                }
            }
        }
    }
}

/// The client for `case`, and the `tracing` dispatcher it needs (the peer).
fn caller(case: Case, meters: &SdkMeterProvider) -> (Caller, Option<tracing::Dispatch>) {
    let client = otel_reqwest::reqwest_client_builder()
        .build()
        .expect("client");
    match case {
        Case::Bare => (Caller::Bare(client), None),
        Case::EmptyMiddlewareStack => {
            (Caller::Middleware(ClientBuilder::new(client).build()), None)
        }
        Case::PassThroughMiddleware => (
            Caller::Middleware(ClientBuilder::new(client).with(PassThrough).build()),
            None,
        ),
        Case::SpanFloor => {
            let floor = SpanFloor {
                tracer: tracer_provider(Sampler::AlwaysOn).tracer("floor"),
                propagator: w3c(),
            };
            (
                Caller::Middleware(ClientBuilder::new(client).with(floor).build()),
                None,
            )
        }
        Case::OursUnsampled => {
            // As otel-init installs its default sampler (parentbased_always_on):
            // the global provider, and the declaration that it drops the
            // children of unsampled parents (otel_http::sampling).
            opentelemetry::global::set_tracer_provider(tracer_provider(Sampler::ParentBased(
                Box::new(Sampler::AlwaysOn),
            )));
            otel_http::sampling::declare(
                otel_http::sampling::KnownDecisions::UnsampledParentsDropped,
            );
            otel_http::sampling::declare_dropped_spans(otel_http::sampling::DroppedSpans::Plain);
            let middleware = OtelMiddleware::builder()
                .meter_provider(meters)
                .propagator(w3c())
                .build();
            use opentelemetry::trace::TraceContextExt as _;
            let unsampled = opentelemetry::Context::new().with_remote_span_context(
                opentelemetry::trace::SpanContext::new(
                    opentelemetry::trace::TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
                    opentelemetry::trace::SpanId::from(0x00f0_67aa_0ba9_02b7),
                    opentelemetry::trace::TraceFlags::default(),
                    true,
                    opentelemetry::trace::TraceState::NONE,
                ),
            );
            (
                Caller::InUnsampledTrace(
                    ClientBuilder::new(client).with(middleware).build(),
                    unsampled,
                ),
                None,
            )
        }
        Case::OursSampled | Case::OursTracesOnly => {
            let sampler = Sampler::AlwaysOn;
            let noop = opentelemetry::metrics::noop::NoopMeterProvider::new();
            let meter_provider: &dyn opentelemetry::metrics::MeterProvider =
                if case == Case::OursTracesOnly {
                    &noop
                } else {
                    meters
                };
            let middleware = OtelMiddleware::builder()
                .tracer_provider(&tracer_provider(sampler))
                .meter_provider(meter_provider)
                .propagator(w3c())
                .build();
            (
                Caller::Middleware(ClientBuilder::new(client).with(middleware).build()),
                None,
            )
        }
        Case::Peer => {
            use tracing_subscriber::layer::SubscriberExt;
            let tracer = tracer_provider(Sampler::AlwaysOn).tracer("peer");
            let subscriber = tracing_subscriber::registry()
                .with(tracing_subscriber::filter::LevelFilter::INFO)
                .with(tracing_opentelemetry::layer().with_tracer(tracer));
            opentelemetry::global::set_text_map_propagator(w3c());
            let client = ClientBuilder::new(client)
                .with(reqwest_tracing::TracingMiddleware::default())
                .with(InjectTracingContext)
                .build();
            (
                Caller::Middleware(client),
                Some(tracing::Dispatch::new(subscriber)),
            )
        }
    }
}

/// CPU time of the calling thread, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Pins the calling thread to `cpu`, unless `LOAD_PIN=0` (or the machine
/// refuses, or has a single CPU): the figure is then only noisier.
fn pin_to_cpu(cpu: usize) {
    if std::env::var("LOAD_PIN").is_ok_and(|v| v == "0")
        || std::thread::available_parallelism().map_or(1, |n| n.get()) <= cpu
    {
        return;
    }
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes
    // within it; sched_setaffinity(0, ..) applies to the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// A hello-world server on its own thread and current-thread runtime.
fn start_server() -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel::<SocketAddr>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::Builder::new()
        .name("server".into())
        .spawn(move || {
            pin_to_cpu(1);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("rt");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                addr_tx.send(listener.local_addr().expect("addr")).ok();
                let app = Router::new().route("/hello", get(|| async { "Hello, World!" }));
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        stop_rx.await.ok();
                    })
                    .await
                    .ok();
            });
        })
        .expect("server thread");
    (addr_rx.recv().expect("server address"), stop_tx, server)
}

struct Outcome {
    calls: u64,
    seconds: f64,
    client_cpu_ns: u64,
}

/// How long a case runs: for a time (the load measurement), or for a fixed
/// number of calls after a fixed warm-up (`LOAD_CALLS`: deterministic work, for
/// counting instructions under callgrind).
#[derive(Clone, Copy)]
enum Length {
    Seconds(f64),
    Calls(u64),
}

fn run(case: Case, addr: SocketAddr, length: Length) -> Outcome {
    let meters = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(DiscardMetrics).build())
        .build();
    let (caller, dispatch) = caller(case, &meters);
    let _dispatch = dispatch.map(|d| tracing::dispatcher::set_default(&d));
    let caller = Arc::new(caller);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let done = Arc::new(AtomicU64::new(0));
    let issued = Arc::new(AtomicU64::new(0));
    let counting = Arc::new(AtomicBool::new(false));
    let url = Arc::new(format!("http://{addr}/hello"));
    const WARM_UP_CALLS: u64 = 2_000;
    let (calls, seconds, cpu) = rt.block_on(async {
        let deadline = match length {
            Length::Seconds(secs) => Some(Instant::now() + Duration::from_secs_f64(secs + 0.5)),
            Length::Calls(_) => None,
        };
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (caller, url, done, issued, counting) = (
                caller.clone(),
                url.clone(),
                done.clone(),
                issued.clone(),
                counting.clone(),
            );
            tasks.push(tokio::spawn(async move {
                loop {
                    let more = match (deadline, length) {
                        (Some(deadline), _) => Instant::now() < deadline,
                        (None, Length::Calls(calls)) => {
                            let n = issued.fetch_add(1, Ordering::Relaxed);
                            if n == WARM_UP_CALLS {
                                counting.store(true, Ordering::Relaxed);
                            }
                            n < WARM_UP_CALLS + calls
                        }
                        (None, Length::Seconds(_)) => false,
                    };
                    if !more {
                        break;
                    }
                    if caller.call(&url).await && counting.load(Ordering::Relaxed) {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        if deadline.is_some() {
            tokio::time::sleep(Duration::from_millis(500)).await; // warm-up
            counting.store(true, Ordering::Relaxed);
        }
        let cpu_start = thread_cpu_ns();
        let start = Instant::now();
        for t in tasks {
            t.await.ok();
        }
        let seconds = start.elapsed().as_secs_f64();
        (
            done.load(Ordering::Relaxed),
            seconds,
            thread_cpu_ns().saturating_sub(cpu_start),
        )
    });
    Outcome {
        calls,
        seconds,
        client_cpu_ns: cpu,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn env_number(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if !std::env::args().any(|a| a == "--bench") {
        println!("client: run with `cargo bench -p otel-reqwest --bench client`");
        return;
    }
    let secs = env_number("LOAD_SECS", 2.0);
    let length = match env_number("LOAD_CALLS", 0.0) {
        calls if calls >= 1.0 => Length::Calls(calls as u64),
        _ => Length::Seconds(secs),
    };
    let rounds = env_number("LOAD_ROUNDS", 5.0).max(1.0) as usize;
    let only = std::env::var("LOAD_CASES").ok();
    let selected = |case: Case| {
        case == Case::Bare
            || only
                .as_deref()
                .is_none_or(|o| o.split(',').any(|k| k.trim() == case.key()))
    };
    let instrumented = [
        Case::SpanFloor,
        Case::OursSampled,
        Case::OursUnsampled,
        Case::OursTracesOnly,
        Case::Peer,
    ];

    println!("Without I/O (the chain ends in a canned response), ns per call:");
    let calls = env_number("NOIO_CALLS", 200_000.0).max(10.0) as u32;
    let base = overhead_without_io(Case::Bare, calls);
    println!("  {:<54} {base:>8.0}", "no instrumentation");
    for case in instrumented.into_iter().filter(|c| selected(*c)) {
        let ns = overhead_without_io(case, calls);
        println!("  {:<54} {ns:>8.0}  (+{:.0})", case.label(), ns - base);
    }
    if secs <= 0.0 {
        return;
    }

    println!(
        "\nLoopback server, 16 callers on one client thread, {rounds} rounds of {secs} s per run, medians:"
    );
    pin_to_cpu(0);
    let (addr, stop, server) = start_server();
    let cases: Vec<Case> = [
        Case::Bare,
        Case::EmptyMiddlewareStack,
        Case::PassThroughMiddleware,
        Case::SpanFloor,
        Case::OursSampled,
        Case::OursUnsampled,
        Case::OursTracesOnly,
        Case::Peer,
    ]
    .into_iter()
    .filter(|c| selected(*c))
    .collect();
    // Each case runs between two runs of the bare client and is compared with
    // their mean: slow drifts of the shared machine's load cancel out. The
    // order of the cases is reversed every other round.
    let mut rates = vec![Vec::new(); cases.len()];
    let mut cpus = vec![Vec::new(); cases.len()];
    let mut ratios = vec![Vec::new(); cases.len()];
    let mut added_cpus = vec![Vec::new(); cases.len()];
    for round in 0..rounds {
        let measure = |case: Case| {
            let o = run(case, addr, length);
            (
                o.calls as f64 / o.seconds,
                o.client_cpu_ns as f64 / 1000.0 / o.calls.max(1) as f64,
            )
        };
        let mut before = measure(Case::Bare);
        rates[0].push(before.0);
        cpus[0].push(before.1);
        let mut order: Vec<usize> = (1..cases.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let (rate, cpu) = measure(cases[i]);
            let after = measure(Case::Bare);
            let (bare_rate, bare_cpu) = ((before.0 + after.0) / 2.0, (before.1 + after.1) / 2.0);
            rates[i].push(rate);
            cpus[i].push(cpu);
            ratios[i].push(rate / bare_rate);
            added_cpus[i].push(cpu - bare_cpu);
            rates[0].push(after.0);
            cpus[0].push(after.1);
            before = after;
        }
    }
    stop.send(()).ok();
    server.join().ok();
    let spread = |values: &[f64]| {
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{min:.3}-{max:.3}")
    };
    for (i, case) in cases.iter().enumerate() {
        println!(
            "  {:<54} {:>8.0} calls/s {:>6.2} µs client CPU/call",
            case.label(),
            median(rates[i].clone()),
            median(cpus[i].clone())
        );
    }
    println!(
        "\n  against the bare runs next to it (median of {rounds} rounds; range of the ratio):"
    );
    for (i, case) in cases.iter().enumerate().skip(1) {
        println!(
            "  {:<54} throughput {:.3} x bare ({}), CPU/call {:.3} x bare, added CPU {:+.2} µs/call",
            case.label(),
            median(ratios[i].clone()),
            spread(&ratios[i]),
            median(cpus[i].clone()) / median(cpus[0].clone()),
            median(added_cpus[i].clone()),
        );
    }
    let results: Vec<(Case, f64)> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, median(added_cpus[i].clone())))
        .collect();
    let added = |c: Case| results.iter().find(|r| r.0 == c).map(|r| r.1);
    if let (Some(ours), Some(unsampled), Some(peer)) = (
        added(Case::OursSampled),
        added(Case::OursUnsampled),
        added(Case::Peer),
    ) {
        println!(
            "\n  added CPU, ours sampled / peer = {:.2}; ours unsampled / peer = {:.2}",
            ours / peer,
            unsampled / peer
        );
    }
    if let (Some(ours), Some(floor)) = (added(Case::OursSampled), added(Case::SpanFloor)) {
        println!(
            "  added CPU, ours sampled - floor = {:+.2} µs/call (what the attributes, metric and policies cost above a bare SDK span)",
            ours - floor
        );
    }
}
