//! Load benchmark of the HTTP server path: a loopback hello-world axum server
//! under a closed-loop HTTP/1.1 load generator (32 connections), every case in
//! its own process, all cases from ONE run:
//!
//! | case | stack |
//! |---|---|
//! | `bare` | axum alone (measured first and last; the baseline is their mean) |
//! | `ours-sampled` / `ours-unsampled` | otel-init's defaults (`Telemetry::builder().init()`: tracing subscriber, export thread, metrics on) + `OtelLayer::new()`, `OTEL_TRACES_SAMPLER=always_on` / `always_off`, spans to a no-op exporter |
//! | `ours-no-metrics` | the same, sampled, with `OTEL_METRICS_EXPORTER=none` (what the default HTTP server metrics cost is the difference) |
//! | `peer-sampled` / `peer-unsampled` | the canonical peer: axum-tracing-opentelemetry 0.42's `OtelAxumLayer::default()` alone + tracing-opentelemetry 0.34 (`EnvFilter` `info,otel::tracing=trace`, the level its spans use) + the SDK's `BatchSpanProcessor` with a no-op exporter, `AlwaysOn` / `AlwaysOff` |
//! | `tracelayer-stack` | tower-http `TraceLayer` + `OtelAxumLayer` + `OtelInResponseLayer` + tracing-opentelemetry, sampled (two spans per request; a separate row, not the peer) |
//!
//! Every request carries a `traceparent` whose sampled flag matches the case.
//! The server process's threads (its current-thread runtime and any export
//! thread) are pinned to CPU 0, the load generator to CPU 1. Each row reports
//! requests/s and the server's CPU per request (every thread but the load
//! generator's, from `/proc/self/task/*/schedstat`); `LOAD_ROUNDS` rounds
//! (default 3) are run back to back and the medians reported.
//!
//! ```text
//! cargo bench -p otel-axum --bench load                  # LOAD_SECS=3 per case, LOAD_ROUNDS=3
//! LOAD_CASES=bare,ours-unsampled cargo bench -p otel-axum --bench load
//! sh otel-axum/benches/instructions.sh                    # instructions per request under callgrind
//! ```
//!
//! With `LOAD_REQUESTS=N` a case runs exactly N requests (after 2000 of
//! warm-up) instead of `LOAD_SECS`: instructions.sh counts the whole process's
//! instructions at two values of N under callgrind, so that the difference per
//! request is deterministic whatever else the machine is doing.

use axum::Router;
use axum::routing::get;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanExporter};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CASES: [&str; 8] = [
    "bare",
    "ours-sampled",
    "ours-unsampled",
    "ours-no-metrics",
    "peer-sampled",
    "peer-unsampled",
    "tracelayer-stack",
    "bare",
];

const SAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const UNSAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

fn label(case: &str) -> &'static str {
    match case {
        "bare" => "bare axum",
        "ours-sampled" => "otel-init defaults + OtelLayer, always_on",
        "ours-unsampled" => "otel-init defaults + OtelLayer, always_off",
        "ours-no-metrics" => "  same, always_on, OTEL_METRICS_EXPORTER=none",
        "peer-sampled" => "peer: OtelAxumLayer + tracing-otel + batch, AlwaysOn",
        "peer-unsampled" => "peer: OtelAxumLayer + tracing-otel + batch, AlwaysOff",
        "tracelayer-stack" => "TraceLayer + OtelAxumLayer stack, AlwaysOn",
        _ => "unknown case",
    }
}

/// Accepts spans and drops them: an exporter that costs nothing.
#[derive(Debug)]
struct NoopExporter;

impl SpanExporter for NoopExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        std::hint::black_box(batch);
        Ok(())
    }
}

/// What a case installs; kept alive for the whole run.
enum Installed {
    Nothing,
    Ours(#[allow(dead_code)] otel_init::TelemetryGuard),
    Peer(#[allow(dead_code)] SdkTracerProvider),
}

fn app(case: &str) -> (Router, Installed) {
    let router = Router::new().route("/hello", get(|| async { "Hello, World!" }));
    match case {
        "bare" => (router, Installed::Nothing),
        "ours-sampled" | "ours-unsampled" | "ours-no-metrics" => {
            let sampler = if case == "ours-unsampled" {
                "always_off"
            } else {
                "always_on"
            };
            let metrics = if case == "ours-no-metrics" {
                "none"
            } else {
                "otlp"
            };
            // otel-init's defaults, but for the sampler, spans to a no-op
            // exporter, and metrics to a port nobody listens on (the 60 s
            // interval never comes during a case); logs: none are written.
            let guard = otel_init::Telemetry::builder_from_env(&[
                ("OTEL_SERVICE_NAME", "bench"),
                ("OTEL_TRACES_SAMPLER", sampler),
                ("OTEL_TRACES_EXPORTER", "none"),
                ("OTEL_METRICS_EXPORTER", metrics),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
                ("OTEL_LOG_LEVEL", "error"),
            ])
            .with_span_exporter(NoopExporter)
            .init()
            .expect("otel-init");
            (
                router.layer(otel_axum::OtelLayer::new()),
                Installed::Ours(guard),
            )
        }
        "peer-sampled" | "peer-unsampled" | "tracelayer-stack" => {
            use tracing_subscriber::layer::SubscriberExt;
            let sampler = if case == "peer-unsampled" {
                Sampler::AlwaysOff
            } else {
                Sampler::AlwaysOn
            };
            let provider = SdkTracerProvider::builder()
                .with_sampler(sampler)
                .with_batch_exporter(NoopExporter)
                .build();
            opentelemetry::global::set_tracer_provider(provider.clone());
            opentelemetry::global::set_text_map_propagator(
                opentelemetry_sdk::propagation::TraceContextPropagator::new(),
            );
            let subscriber = tracing_subscriber::registry()
                .with(tracing_subscriber::EnvFilter::new(
                    "info,otel::tracing=trace",
                ))
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("peer")));
            tracing::subscriber::set_global_default(subscriber).expect("subscriber");
            let router = if case == "tracelayer-stack" {
                router
                    .layer(axum_tracing_opentelemetry::middleware::OtelInResponseLayer)
                    .layer(axum_tracing_opentelemetry::middleware::OtelAxumLayer::default())
                    .layer(tower_http::trace::TraceLayer::new_for_http())
            } else {
                router.layer(axum_tracing_opentelemetry::middleware::OtelAxumLayer::default())
            };
            (router, Installed::Peer(provider))
        }
        other => panic!("unknown case {other}"),
    }
}

fn pin_to_cpu(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the calls only read it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn this_thread_id() -> String {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// CPU time of each thread of this process, in nanoseconds.
fn threads_cpu_ns() -> HashMap<String, u64> {
    let mut out = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for entry in dir.flatten() {
            let tid = entry.file_name().to_string_lossy().into_owned();
            if let Some(ns) = std::fs::read_to_string(entry.path().join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
            {
                out.insert(tid, ns);
            }
        }
    }
    out
}

struct Outcome {
    requests: u64,
    seconds: f64,
    server_cpu_ns: u64,
}

/// One case in this process: the server on this thread (pinned to CPU 0 with
/// every thread it starts), the load generator on another (CPU 1).
fn run_case(case: &str, secs: f64, fixed_requests: Option<u64>) -> Outcome {
    pin_to_cpu(0);
    let (router, _installed) = app(case);
    let traceparent = if case.ends_with("unsampled") {
        UNSAMPLED
    } else {
        SAMPLED
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (tid_tx, tid_rx) = std::sync::mpsc::channel::<String>();
    let (mark_tx, mark_rx) = std::sync::mpsc::channel::<()>();
    let load = std::thread::spawn(move || {
        pin_to_cpu(1);
        tid_tx.send(this_thread_id()).ok();
        let outcome = generate_load(addr, traceparent, secs, fixed_requests, mark_tx);
        stop_tx.send(()).ok();
        outcome
    });
    let load_tid = tid_rx.recv().unwrap_or_default();
    let marks = Arc::new(std::sync::Mutex::new(None));
    let marks_at_start = marks.clone();
    rt.block_on(async move {
        // Snapshot the threads' CPU once the warm-up is over.
        tokio::task::spawn_blocking(move || {
            if mark_rx.recv().is_ok() {
                *marks_at_start.lock().expect("marks") = Some(threads_cpu_ns());
            }
        });
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                stop_rx.await.ok();
            })
            .await
            .ok();
    });
    let end = threads_cpu_ns();
    let (requests, seconds) = load.join().expect("load thread");
    let start = marks.lock().expect("marks").take().unwrap_or_default();
    let server_cpu_ns = end
        .iter()
        .filter(|(tid, _)| **tid != load_tid)
        .map(|(tid, ns)| ns.saturating_sub(start.get(tid).copied().unwrap_or(0)))
        .sum();
    Outcome {
        requests,
        seconds,
        server_cpu_ns,
    }
}

fn generate_load(
    addr: SocketAddr,
    traceparent: &'static str,
    secs: f64,
    fixed_requests: Option<u64>,
    mark: std::sync::mpsc::Sender<()>,
) -> (u64, f64) {
    const CONNECTIONS: u64 = 32;
    const WARM_UP_REQUESTS: u64 = 2000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async move {
        let client: Client<_, String> = Client::builder(TokioExecutor::new()).build_http();
        let uri: http::Uri = format!("http://{addr}/hello").parse().expect("uri");
        let one = move |client: Client<_, String>, uri: http::Uri| async move {
            let req = http::Request::get(uri)
                .header("traceparent", traceparent)
                .body(String::new())
                .expect("req");
            if let Ok(res) = client.request(req).await {
                let _ = http_body_util::BodyExt::collect(res.into_body()).await;
                true
            } else {
                false
            }
        };
        // Warm-up: connections open, caches and the instruments' series filled.
        let warm = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..CONNECTIONS {
            let (client, uri, warm) = (client.clone(), uri.clone(), warm.clone());
            tasks.push(tokio::spawn(async move {
                while warm.fetch_add(1, Ordering::Relaxed) < WARM_UP_REQUESTS {
                    one(client.clone(), uri.clone()).await;
                }
            }));
        }
        for t in tasks.drain(..) {
            t.await.ok();
        }
        if fixed_requests.is_none() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        mark.send(()).ok();
        let done = Arc::new(AtomicU64::new(0));
        let issued = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let deadline = start + Duration::from_secs_f64(secs);
        for _ in 0..CONNECTIONS {
            let (client, uri, done, issued, stop) = (
                client.clone(),
                uri.clone(),
                done.clone(),
                issued.clone(),
                stop.clone(),
            );
            tasks.push(tokio::spawn(async move {
                loop {
                    match fixed_requests {
                        Some(n) if issued.fetch_add(1, Ordering::Relaxed) >= n => break,
                        None if stop.load(Ordering::Relaxed) || Instant::now() >= deadline => {
                            stop.store(true, Ordering::Relaxed);
                            break;
                        }
                        _ => {}
                    }
                    if one(client.clone(), uri.clone()).await {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for t in tasks {
            t.await.ok();
        }
        (done.load(Ordering::Relaxed), start.elapsed().as_secs_f64())
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs = env_f64("LOAD_SECS", 3.0);
    let fixed_requests = std::env::var("LOAD_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok());
    // A child: one case, one result line.
    if let Ok(case) = std::env::var("LOAD_CASE") {
        let o = run_case(&case, secs, fixed_requests);
        println!("RESULT {} {} {}", o.requests, o.seconds, o.server_cpu_ns);
        return;
    }
    if !std::env::args().any(|a| a == "--bench") {
        println!("load: run with `cargo bench -p otel-axum --bench load`");
        return;
    }
    let selected: Vec<String> = match std::env::var("LOAD_CASES") {
        Ok(list) => {
            let mut v: Vec<String> = list.split(',').map(|s| s.trim().to_owned()).collect();
            if v.first().map(String::as_str) != Some("bare") {
                v.insert(0, "bare".to_owned());
            }
            v.push("bare".to_owned());
            v
        }
        Err(_) => CASES.iter().map(|s| (*s).to_owned()).collect(),
    };
    let rounds = env_f64("LOAD_ROUNDS", 3.0).max(1.0) as usize;
    let exe = std::env::current_exe().expect("own path");
    // (case, round) -> (req/s, µs per request)
    let mut rps: HashMap<String, Vec<f64>> = HashMap::new();
    let mut cpu: HashMap<String, Vec<f64>> = HashMap::new();
    let mut bare_rps = Vec::new();
    let mut bare_cpu = Vec::new();
    for round in 1..=rounds {
        println!("round {round}/{rounds}");
        let mut round_bare = Vec::new();
        for case in &selected {
            let out = Command::new(&exe)
                .env("LOAD_CASE", case)
                .env("LOAD_SECS", secs.to_string())
                .output()
                .expect("run a case");
            let text = String::from_utf8_lossy(&out.stdout);
            let Some(line) = text.lines().find(|l| l.starts_with("RESULT ")) else {
                eprintln!(
                    "case {case} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                continue;
            };
            let f: Vec<f64> = line[7..]
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            let (requests, seconds, cpu_ns) = (f[0], f[1], f[2]);
            let r = requests / seconds;
            let c = cpu_ns / 1000.0 / requests.max(1.0);
            println!(
                "  {:<56} {:>8.0} req/s {:>7.2} µs server CPU/request",
                label(case),
                r,
                c
            );
            if case == "bare" {
                round_bare.push((r, c));
            } else {
                rps.entry(case.clone()).or_default().push(r);
                cpu.entry(case.clone()).or_default().push(c);
            }
        }
        bare_rps.push(round_bare.iter().map(|b| b.0).sum::<f64>() / round_bare.len().max(1) as f64);
        bare_cpu.push(round_bare.iter().map(|b| b.1).sum::<f64>() / round_bare.len().max(1) as f64);
    }
    // Ratios per round (each case against its own round's bare), then medians.
    let base_rps = median(bare_rps.clone());
    let base_cpu = median(bare_cpu.clone());
    println!(
        "\nmedians of {rounds} rounds; baseline (mean of each round's two bare runs): {base_rps:.0} req/s, {base_cpu:.2} µs/request"
    );
    println!(
        "{:<56} {:>9} {:>10} {:>12}",
        "case", "req/s", "x bare", "added µs/req"
    );
    let mut added_by_case = HashMap::new();
    for case in selected.iter().filter(|c| *c != "bare") {
        if added_by_case.contains_key(case) {
            continue;
        }
        let (Some(r), Some(c)) = (rps.get(case), cpu.get(case)) else {
            continue;
        };
        let ratio = median(r.iter().zip(&bare_rps).map(|(r, b)| r / b).collect());
        let added = median(c.iter().zip(&bare_cpu).map(|(c, b)| c - b).collect());
        println!(
            "{:<56} {:>9.0} {:>10.3} {:>+12.2}",
            label(case),
            median(r.clone()),
            ratio,
            added
        );
        added_by_case.insert(case.clone(), added);
    }
    let get = |c: &str| added_by_case.get(c).copied();
    if let (Some(ours), Some(peer)) = (get("ours-sampled"), get("peer-sampled")) {
        println!(
            "\nadded CPU, ours sampled / peer sampled = {:.2}",
            ours / peer
        );
    }
    if let (Some(ours), Some(peer)) = (get("ours-unsampled"), get("peer-unsampled")) {
        println!(
            "added CPU, ours unsampled / peer unsampled = {:.2}",
            ours / peer
        );
    }
    if let (Some(all), Some(no_metrics)) = (get("ours-sampled"), get("ours-no-metrics")) {
        println!(
            "default HTTP server metrics: {:+.2} µs/request",
            all - no_metrics
        );
    }
}
