//! Load benchmark: a loopback hello-world axum server under a closed-loop
//! HTTP/1.1 load generator, in ONE run, for:
//!
//! 1. bare axum,
//! 2. `OtelLayer`, sampled (AlwaysOn),
//! 3. `OtelLayer`, unsampled (AlwaysOff),
//! 4. the peer: tower-http `TraceLayer` + axum-tracing-opentelemetry's
//!    `OtelAxumLayer` + tracing-opentelemetry, sampled,
//! 5. `OtelLayer` on otel-init's pipeline with a no-op span exporter added
//!    through `with_span_exporter` (the SDK's batch processor in front of
//!    it; the built-in exporters off), sampled,
//!
//! each reporting requests/s and the server thread's CPU per request. The server
//! runs on one current-thread runtime (one core); the load generator on another
//! thread. Spans go to a processor that drops them, so the figures are the
//! instrumentation's cost, not an exporter's.
//!
//! `cargo bench -p otel-axum --bench load` (LOAD_SECS=N to change the 3 s per case)

use axum::Router;
use axum::routing::get;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanProcessor};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Ends spans and drops them, like an exporter that costs nothing.
#[derive(Debug)]
struct Discard;

impl SpanProcessor for Discard {
    fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    fn on_end(&self, span: SpanData) {
        std::hint::black_box(span);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Exports nothing, at no cost: what remains is the batch processor's.
#[derive(Debug)]
struct NoopExporter;

impl opentelemetry_sdk::trace::SpanExporter for NoopExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        std::hint::black_box(batch);
        Ok(())
    }
}

fn provider(sampler: Sampler) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(Discard)
        .build()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Case {
    Bare,
    OursSampled,
    OursUnsampled,
    OursTracesOnly,
    OursNoopExporter,
    Peer,
}

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::Bare => "bare axum",
            Case::OursSampled => "otel-axum, sampled",
            Case::OursUnsampled => "otel-axum, unsampled",
            Case::OursTracesOnly => "otel-axum, sampled, no meter provider",
            Case::OursNoopExporter => "otel-axum, sampled, no-op exporter via with_span_exporter",
            Case::Peer => "peer: TraceLayer + axum-tracing-opentelemetry, sampled",
        }
    }
}

/// The router, a subscriber to install, and what must live as long as it.
type App = (
    Router,
    Option<tracing::Dispatch>,
    Option<otel_init::TelemetryGuard>,
);

fn app(case: Case) -> App {
    let router = Router::new().route("/hello", get(|| async { "Hello, World!" }));
    let meters = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
    match case {
        Case::Bare => (router, None, None),
        Case::OursNoopExporter => {
            let telemetry = otel_init::Telemetry::builder_from_env(&[
                ("OTEL_TRACES_EXPORTER", "none"),
                ("OTEL_METRICS_EXPORTER", "none"),
                ("OTEL_LOGS_EXPORTER", "none"),
            ])
            .with_span_exporter(NoopExporter)
            .without_globals()
            .build()
            .expect("telemetry");
            let layer = otel_axum::OtelLayer::builder()
                .tracer_provider(telemetry.tracer_provider().expect("enabled"))
                .meter_provider(&meters)
                .propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new())
                .build();
            (router.layer(layer), None, Some(telemetry))
        }
        Case::OursSampled | Case::OursUnsampled | Case::OursTracesOnly => {
            let sampler = if case == Case::OursUnsampled {
                Sampler::AlwaysOff
            } else {
                Sampler::AlwaysOn
            };
            let noop = opentelemetry::metrics::noop::NoopMeterProvider::new();
            let meter_provider: &dyn opentelemetry::metrics::MeterProvider =
                if case == Case::OursTracesOnly {
                    &noop
                } else {
                    &meters
                };
            let layer = otel_axum::OtelLayer::builder()
                .tracer_provider(&provider(sampler))
                .meter_provider(meter_provider)
                .propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new())
                .build();
            (router.layer(layer), None, None)
        }
        Case::Peer => {
            use tracing_subscriber::layer::SubscriberExt;
            let tracer = provider(Sampler::AlwaysOn).tracer("peer");
            let subscriber = tracing_subscriber::registry()
                // TraceLayer's spans are DEBUG and OtelAxumLayer's TRACE by default.
                .with(tracing_subscriber::filter::LevelFilter::TRACE)
                .with(tracing_opentelemetry::layer().with_tracer(tracer));
            opentelemetry::global::set_text_map_propagator(
                opentelemetry_sdk::propagation::TraceContextPropagator::new(),
            );
            let router = router
                .layer(axum_tracing_opentelemetry::middleware::OtelInResponseLayer)
                .layer(axum_tracing_opentelemetry::middleware::OtelAxumLayer::default())
                .layer(tower_http::trace::TraceLayer::new_for_http());
            (router, Some(tracing::Dispatch::new(subscriber)), None)
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

struct Outcome {
    requests: u64,
    seconds: f64,
    server_cpu_ns: u64,
}

fn run(case: Case, secs: f64) -> Outcome {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel::<SocketAddr>();
    let (cpu_tx, cpu_rx) = std::sync::mpsc::channel::<u64>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (mark_tx, mark_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let (router, dispatch, _telemetry) = app(case);
        let _guard = dispatch.map(|d| tracing::dispatcher::set_default(&d));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            addr_tx.send(listener.local_addr().expect("addr")).ok();
            // On this one thread: mark the CPU clock after warm-up, read it at the end.
            tokio::spawn(async move {
                if mark_rx.await.is_ok() {
                    let start = thread_cpu_ns();
                    cpu_tx.send(start).ok();
                }
            });
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    stop_rx.await.ok();
                })
                .await
                .ok();
        });
        thread_cpu_ns()
    });
    let addr = addr_rx.recv().expect("server address");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let done = Arc::new(AtomicU64::new(0));
    let outcome = rt.block_on(async {
        let client: Client<_, String> = Client::builder(TokioExecutor::new()).build_http();
        let uri: http::Uri = format!("http://{addr}/hello").parse().expect("uri");
        let counting = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let deadline = Instant::now() + Duration::from_secs_f64(secs + 1.0);
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (client, uri, done, counting) =
                (client.clone(), uri.clone(), done.clone(), counting.clone());
            tasks.push(tokio::spawn(async move {
                while Instant::now() < deadline {
                    let req = http::Request::get(uri.clone())
                        .body(String::new())
                        .expect("req");
                    if let Ok(res) = client.request(req).await {
                        let _ = http_body_util::BodyExt::collect(res.into_body()).await;
                        if counting.load(Ordering::Relaxed) {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_secs(1)).await; // warm-up
        mark_tx.send(()).ok();
        counting.store(true, Ordering::Relaxed);
        let start = Instant::now();
        for t in tasks {
            t.await.ok();
        }
        let seconds = start.elapsed().as_secs_f64();
        (done.load(Ordering::Relaxed), seconds)
    });
    stop_tx.send(()).ok();
    let cpu_start = cpu_rx.recv().unwrap_or(0);
    let cpu_end = server.join().expect("server thread");
    Outcome {
        requests: outcome.0,
        seconds: outcome.1,
        server_cpu_ns: cpu_end.saturating_sub(cpu_start),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if !std::env::args().any(|a| a == "--bench") {
        println!("load: run with `cargo bench -p otel-axum --bench load`");
        return;
    }
    let secs: f64 = std::env::var("LOAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3.0);
    let cases = [
        Case::Bare,
        Case::OursSampled,
        Case::OursUnsampled,
        Case::OursTracesOnly,
        Case::OursNoopExporter,
        Case::Peer,
        Case::Bare,
    ];
    let mut results = Vec::new();
    for case in cases {
        let o = run(case, secs);
        let rps = o.requests as f64 / o.seconds;
        let cpu_us = o.server_cpu_ns as f64 / 1000.0 / o.requests.max(1) as f64;
        println!(
            "{:<58} {:>9.0} req/s  {:>6.2} µs server CPU/request",
            case.label(),
            rps,
            cpu_us
        );
        results.push((case, rps, cpu_us));
    }
    let last = results.len() - 1;
    let bare_rps = (results[0].1 + results[last].1) / 2.0;
    let bare_cpu = (results[0].2 + results[last].2) / 2.0;
    println!(
        "\nbaseline (mean of the two bare runs): {bare_rps:.0} req/s, {bare_cpu:.2} µs/request"
    );
    for (case, rps, cpu) in &results[1..last] {
        println!(
            "{:<58} throughput {:.3} x bare, added CPU {:+.2} µs/request",
            case.label(),
            rps / bare_rps,
            cpu - bare_cpu
        );
    }
    let added = |c: Case| {
        results
            .iter()
            .find(|r| r.0 == c)
            .map(|r| r.2 - bare_cpu)
            .unwrap_or(0.0)
    };
    println!(
        "\nadded CPU, ours sampled / peer = {:.2}; ours unsampled / peer = {:.2}",
        added(Case::OursSampled) / added(Case::Peer),
        added(Case::OursUnsampled) / added(Case::Peer)
    );
}
