//! The collector down (connection refused), refusing (503) and blackholed
//! (never answers) while the application produces spans as fast as it can:
//! the application is never blocked, memory stays bounded, dropping is warned
//! about once when it starts and once when it recovers, the counts are
//! reported, and export resumes when the collector does.
//!
//! Each scenario runs in a child process so that its stderr (where the
//! SDK's diagnostics go) can be read and the warnings counted.

mod common;

use common::{Harness, fast_retry};
use otel_init::Telemetry;
use otel_init::config::BatchConfig;
use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
use otel_testing::Behavior;
use std::process::Command;
use std::time::{Duration, Instant};

const SCENARIO_VAR: &str = "OTEL_INIT_FAULT_SCENARIO";
const BURST: usize = 50_000;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// The child's side: one scenario, then a summary line on stdout.
#[test]
#[ignore = "run by the fault tests in a child process"]
fn fault_scenario_child() {
    let Ok(scenario) = std::env::var(SCENARIO_VAR) else {
        return;
    };
    let (protocol, fault) = scenario.split_once(':').expect("protocol:fault");
    let h = Harness::start();
    let endpoint = if protocol == "grpc" {
        h.receiver.grpc_endpoint()
    } else {
        h.receiver.http_endpoint()
    };
    match fault {
        "down" => h.wait(h.receiver.pause()),
        "refusing" => h.receiver.set_behavior(Behavior::FailHttp {
            status: 503,
            retry_after: None,
        }),
        "blackhole" => h.receiver.set_behavior(Behavior::Blackhole),
        other => panic!("unknown fault {other}"),
    }
    let guard = Telemetry::builder_from_env(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "200"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ])
    .without_globals()
    .retry_policy(fast_retry())
    .span_batch(BatchConfig {
        schedule_delay: Duration::from_millis(50),
        export_timeout: Duration::from_millis(600),
        max_queue_size: 256,
        max_export_batch_size: 64,
    })
    .build()
    .expect("init");
    let tracer = guard.tracer_provider().expect("tracer").tracer("load");

    // Phase 1: a burst while the collector is unavailable.
    let rss_before = rss_kib();
    let start = Instant::now();
    for i in 0..BURST {
        tracer.in_span("burst", |_| {
            if i % 10_000 == 0 {
                std::hint::black_box(i);
            }
        });
    }
    let burst_time = start.elapsed();
    let rss_after = rss_kib();
    // The outage lasts well past the 600 ms batch deadline, so exports fail.
    std::thread::sleep(Duration::from_millis(1500));
    let during = guard.export_report().traces;

    // Phase 2: the collector comes back; a trickle of spans until one gets through.
    match fault {
        "down" => h.wait(h.receiver.resume()).expect("resume"),
        _ => h.receiver.set_behavior(Behavior::Accept),
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while guard.export_report().traces.exported == 0 && Instant::now() < deadline {
        tracer.in_span("trickle", |_| {});
        std::thread::sleep(Duration::from_millis(20));
    }
    // Drain what the outage left queued, then send markers into an empty queue.
    guard.force_flush().expect("flush the backlog");
    for _ in 0..100 {
        tracer.in_span("after-recovery", |_| {});
    }
    guard.force_flush().expect("flush after recovery");
    let after = guard.export_report().traces;
    let received_markers = h
        .receiver
        .spans()
        .iter()
        .filter(|s| s.name == "after-recovery")
        .count();
    let report = guard.shutdown();
    println!(
        "SUMMARY burst_ms={} rss_growth_kib={} dropped_during={} failed_during={} exported_after={} markers={} completed={}",
        burst_time.as_millis(),
        rss_after.saturating_sub(rss_before),
        during.dropped_queue_full,
        during.failed,
        after.exported,
        received_markers,
        report.completed
    );
}

struct Outcome {
    stderr: String,
    summary: std::collections::HashMap<String, u64>,
}

fn run(scenario: &str) -> Outcome {
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args([
            "--exact",
            "fault_scenario_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SCENARIO_VAR, scenario)
        .env("OTEL_LOG_LEVEL", "warn")
        .output()
        .expect("run child");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{scenario} child failed:\n{stdout}\n{stderr}"
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("SUMMARY ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("no summary from {scenario}:\n{stdout}\n{stderr}"));
    let summary = line
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            (
                k.to_owned(),
                if v == "true" {
                    1
                } else if v == "false" {
                    0
                } else {
                    v.parse().unwrap_or(0)
                },
            )
        })
        .collect();
    Outcome { stderr, summary }
}

fn check(scenario: &str) {
    let o = run(scenario);
    let s = &o.summary;
    let count = |needle: &str| o.stderr.matches(needle).count();
    let context = format!("{scenario}: {s:?}\n{}", o.stderr);
    // The burst overflowed the 256-span queue: most spans were dropped and counted...
    assert!(s["dropped_during"] > (BURST as u64) / 2, "{context}");
    // ...holding at most the queue and one batch: memory did not grow with the burst
    // (50k spans held would be tens of MiB).
    assert!(s["rss_growth_kib"] < 16 * 1024, "{context}");
    // Each transition warned once.
    assert_eq!(
        count("traces queue is full (256): dropping new spans"),
        1,
        "{context}"
    );
    assert_eq!(count("traces queue accepts again"), 1, "{context}");
    assert_eq!(count("traces export failed, dropping"), 1, "{context}");
    assert_eq!(count("traces export recovered"), 1, "{context}");
    // Export resumed: every span made after recovery arrived.
    assert_eq!(s["markers"], 100, "{context}");
    assert_eq!(s["completed"], 1, "{context}");
    eprintln!("{scenario}: {s:?}");
}

#[test]
fn collector_down_then_back_over_grpc() {
    check("grpc:down");
}

#[test]
fn collector_refusing_then_back_over_http() {
    check("http/protobuf:refusing");
}

#[test]
fn collector_blackholed_then_back_over_grpc() {
    check("grpc:blackhole");
}

#[test]
fn collector_blackholed_then_back_over_http() {
    check("http/protobuf:blackhole");
}
