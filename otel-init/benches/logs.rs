//! Log export benchmark: what one log record costs, from a `tracing` event
//! through otel-init's log bridge and batching queue to OTLP/gRPC, after the
//! method of the span export bench (`export.rs`).
//!
//! One thread emits `tracing::info!` events (a message and three fields) in
//! chunks; each chunk ends with `force_flush()`, so what is measured is
//! records delivered, not records queued. CPU is the process's threads except
//! the in-process receiver's (the application thread plus `otel-export`),
//! per record. Cases:
//! - `no_exporter`: the same events with otel-init's layers but no logs
//!   exporter: the `tracing` dispatch alone (the baseline);
//! - `otlp_receiver`: OTLP/gRPC to otel-testing's in-process receiver;
//! - `sdk_otlp`, the peer: the SDK's own `BatchLogProcessor` (its defaults)
//!   and opentelemetry-otlp's gRPC `LogExporter` to the same receiver,
//!   bridged the same way; the summary gives otel-init's CPU per record
//!   over the peer's;
//! - `otlp_rotel`: OTLP/gRPC to a real rotel collector forwarding to that
//!   receiver (skipped with a message when rotel is not installed).
//!
//! Every exporting case checks that every record arrived and that the
//! export report is clean. `LOGS_BENCH_CHUNKS` sets the number of chunks
//! (default 40 of 1,024 records).
//!
//! Run with `cargo bench -p otel-init --bench logs`.

mod common;

use common::{build_exporting, named_threads_cpu, self_cpu, start_receiver};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use otel_init::config::BatchConfig;
use otel_init::opentelemetry_sdk::Resource;
use otel_init::opentelemetry_sdk::logs::SdkLoggerProvider;
use otel_init::{Telemetry, TelemetryGuard};
use otel_testing::{OtlpReceiver, Rotel};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::{Layer, Registry};

/// Records between two flushes: half the queue, which never overflows.
const CHUNK: u64 = 1024;
const DEFAULT_CHUNKS: u64 = 40;
/// otel-init's export thread.
const EXPORT_THREAD: &str = "otel-export";

fn chunks() -> u64 {
    std::env::var("LOGS_BENCH_CHUNKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &u64| n > 0)
        .unwrap_or(DEFAULT_CHUNKS)
}

/// A pipeline exporting logs to `endpoint` over OTLP/gRPC, or to nothing.
fn build_guard(endpoint: Option<&str>) -> TelemetryGuard {
    let builder = Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", "otel-init-bench"),
        ("OTEL_LOG_LEVEL", "warn"),
    ])
    .traces_exporters([])
    .metrics_exporters([])
    .log_batch(BatchConfig {
        schedule_delay: Duration::from_secs(1),
        export_timeout: Duration::from_secs(30),
        max_queue_size: 2 * CHUNK as usize,
        max_export_batch_size: 512,
    })
    .shutdown_timeout(Duration::from_secs(30))
    .without_globals();
    build_exporting(builder, endpoint, |b, kinds| {
        b.logs_exporters(kinds.iter().copied())
    })
}

/// The measured operation.
#[inline]
fn one_record(n: u64) {
    tracing::info!(
        order.id = n as i64,
        customer.id = "c-17",
        order.amount = 12.5_f64,
        "order placed"
    );
}

/// What a case emits through: a `tracing` layer, and how to flush it.
struct Pipeline {
    layer: Box<dyn Layer<Registry> + Send + Sync>,
    flush: Box<dyn Fn()>,
    /// Checks and ends the pipeline after the run.
    finish: Box<dyn FnOnce(&str)>,
}

impl Pipeline {
    /// otel-init, exporting to `endpoint` or nowhere.
    fn ours(endpoint: Option<&str>) -> Pipeline {
        let guard = Arc::new(build_guard(endpoint));
        let flushed = Arc::clone(&guard);
        Pipeline {
            layer: guard.layer(),
            flush: Box::new(move || flushed.force_flush().expect("flush")),
            finish: Box::new(move |name| {
                let guard = Arc::into_inner(guard).expect("the only owner");
                let report = guard.shutdown();
                assert!(report.is_clean(), "{name}: {report:?}");
            }),
        }
    }

    /// The peer: the SDK's `BatchLogProcessor` (its defaults) and
    /// opentelemetry-otlp's gRPC `LogExporter`, bridged the same way. Its
    /// gRPC client runs on `client_rt`, whose threads are counted.
    fn sdk_otlp(endpoint: &str, client_rt: &tokio::runtime::Runtime) -> Pipeline {
        use opentelemetry_otlp::WithExportConfig as _;
        let exporter = {
            let _entered = client_rt.enter();
            opentelemetry_otlp::LogExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()
                .expect("peer exporter")
        };
        let provider = SdkLoggerProvider::builder()
            .with_resource(
                Resource::builder()
                    .with_service_name("otel-init-bench")
                    .build(),
            )
            .with_batch_exporter(exporter)
            .build();
        let flushed = provider.clone();
        Pipeline {
            layer: Box::new(OpenTelemetryTracingBridge::new(&provider)),
            flush: Box::new(move || flushed.force_flush().expect("flush")),
            finish: Box::new(move |name| {
                provider
                    .shutdown()
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }),
        }
    }
}

/// Runs one case and prints its CPU per record and records per second;
/// returns the CPU per record (ns).
fn run_case(name: &str, pipeline: Pipeline, receiver: Option<&OtlpReceiver>) -> f64 {
    let subscriber = tracing_subscriber::registry().with(pipeline.layer);
    let flush = pipeline.flush;
    let records = chunks() * CHUNK;
    let before = receiver.map_or(0, |r| r.log_records().len() as u64);
    let (cpu, export, wall) = tracing::subscriber::with_default(subscriber, || {
        // Warm-up: connections, buffers.
        for n in 0..CHUNK {
            one_record(n);
        }
        flush();
        let cpu_before = self_cpu();
        let export_before = named_threads_cpu(EXPORT_THREAD);
        let started = Instant::now();
        let mut n = 0;
        for _ in 0..chunks() {
            for _ in 0..CHUNK {
                one_record(n);
                n += 1;
            }
            flush();
        }
        let export = named_threads_cpu(EXPORT_THREAD).saturating_sub(export_before);
        (self_cpu() - cpu_before, export, started.elapsed())
    });
    if let Some(receiver) = receiver {
        let deadline = Instant::now() + Duration::from_secs(30);
        let expected = before + records + CHUNK;
        let mut got = receiver.log_records().len() as u64;
        while got < expected && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            got = receiver.log_records().len() as u64;
        }
        assert_eq!(got, expected, "{name}: every record arrives");
    }
    drop(flush);
    (pipeline.finish)(name);
    let per_record = |d: Duration| d.as_nanos() as f64 / records as f64;
    println!(
        "{name:<14} {:>7.0} ns CPU/record ({:>5.0} ns on otel-init's export thread); {:>9.0} records/s ({records} records)",
        per_record(cpu.sdk),
        per_record(export),
        records as f64 / wall.as_secs_f64(),
    );
    per_record(cpu.sdk)
}

fn main() {
    let (_runtime, receiver) = start_receiver();

    run_case("no_exporter", Pipeline::ours(None), None);
    let grpc = receiver.grpc_endpoint();
    let ours = run_case(
        "otlp_receiver",
        Pipeline::ours(Some(&grpc)),
        Some(&receiver),
    );
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("peer-client")
        .enable_all()
        .build()
        .expect("peer client runtime");
    let peer = run_case(
        "sdk_otlp",
        Pipeline::sdk_otlp(&grpc, &client_rt),
        Some(&receiver),
    );
    println!(
        "otel-init / SDK + opentelemetry-otlp, CPU per record: {:.2}",
        ours / peer
    );
    if Rotel::find().is_none() {
        println!("SKIPPED: otlp_rotel: rotel not found (pip install rotel, or set ROTEL_AGENT)");
    } else {
        match Rotel::start_forwarding_to(&grpc) {
            Ok(rotel) => {
                run_case(
                    "otlp_rotel",
                    Pipeline::ours(Some(&rotel.grpc_endpoint())),
                    Some(&receiver),
                );
            }
            Err(e) => println!("SKIPPED: otlp_rotel: rotel did not start: {e}"),
        }
    }
}
