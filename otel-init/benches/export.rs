//! Span export benchmark, after the OpenTelemetry specification's
//! performance-benchmark method (specification/performance-benchmark.md):
//!
//! 1. `span_end_to_end`: the application thread's cost of creating and ending
//!    a span (4 attributes, kind `Server`, no parent, `always_on`), with each
//!    measurement batch ending in `force_flush()` *inside* the timed region, so
//!    the figure is delivered throughput rather than enqueue cost. Three cases:
//!    no exporter (the SDK's span cost alone), OTLP/gRPC to an in-process
//!    receiver, and OTLP/gRPC to a real `rotel` collector forwarding to that
//!    receiver. Every batch checks the export report: nothing may be dropped.
//!    After criterion, a summary gives spans per second per core (spans over
//!    the CPU time of the bench thread plus the `otel-export` thread, the
//!    receiver's threads excluded) and the ratio of each case to the baseline.
//! 2. CPU at a fixed rate: 10,000 spans/s from one thread, paced in 1 ms ticks
//!    for 3 s, to rotel over gRPC (and, for comparison, straight to the
//!    in-process receiver), minus the same pacing loop without an exporter.
//!
//! Run with `cargo bench -p otel-init --bench export`. Without rotel
//! (`pip install rotel`, or `ROTEL_AGENT=/path/to/rotel-agent`) the rotel cases
//! are skipped with a message.
//!
//! CPU time comes from `/proc/<pid>/task/<tid>/schedstat` (nanoseconds), or
//! `/proc/<pid>/task/<tid>/stat` utime+stime (10 ms clock ticks) where
//! schedstat is unavailable; the process total is also read from
//! `/proc/self/stat`. The receiver's runtime threads are named
//! `bench-receiver` so that their CPU can be told apart.

mod common;

use common::{Cpu, build_exporting, process_cpu, self_cpu, start_receiver, stat_ticks};
use criterion::{Criterion, Throughput};
use otel_init::config::BatchConfig;
use otel_init::opentelemetry::KeyValue;
use otel_init::opentelemetry::trace::{Span, SpanKind, Tracer, TracerProvider};
use otel_init::opentelemetry_sdk::trace::SdkTracer;
use otel_init::{Telemetry, TelemetryGuard};
use otel_testing::{OtlpReceiver, Rotel};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Spans created between two flushes in one measurement batch: half the
/// queue, so the queue can never overflow however slow the exporter is.
const CHUNK: u64 = 32_768;
/// The fixed rate of the CPU measurement.
const RATE_PER_SEC: u64 = 10_000;
/// Pacing tick of the CPU measurement.
const TICK: Duration = Duration::from_millis(1);
/// Length of the CPU measurement window.
const CPU_WINDOW: Duration = Duration::from_secs(3);
/// Sub-window for the peak CPU figure.
const PEAK_WINDOW_TICKS: u64 = 250;

fn batch_config() -> BatchConfig {
    BatchConfig {
        schedule_delay: Duration::from_secs(1),
        export_timeout: Duration::from_secs(30),
        max_queue_size: 65_536,
        max_export_batch_size: 512,
    }
}

/// A pipeline exporting to `endpoint` over OTLP/gRPC, or to nothing.
fn build_guard(endpoint: Option<&str>) -> TelemetryGuard {
    let builder = Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", "otel-init-bench"),
        ("OTEL_TRACES_SAMPLER", "always_on"),
        ("OTEL_LOG_LEVEL", "warn"),
    ])
    .service_version("0.0.0-bench")
    .metrics_exporters([])
    .logs_exporters([])
    .span_batch(batch_config())
    .shutdown_timeout(Duration::from_secs(30))
    .without_globals();
    build_exporting(builder, endpoint, |b, kinds| {
        b.traces_exporters(kinds.iter().copied())
    })
}

fn tracer_of(guard: &TelemetryGuard) -> SdkTracer {
    guard
        .tracer_provider()
        .expect("the SDK is enabled")
        .tracer("otel-init-bench")
}

/// The measured operation: one server span with 4 attributes, no parent.
#[inline]
fn one_span(tracer: &SdkTracer) {
    let mut span = tracer
        .span_builder("GET /x")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("url.path", "/x"),
            KeyValue::new("http.response.status_code", 200_i64),
            KeyValue::new("server.address", "bench.example"),
        ])
        .start(tracer);
    span.end();
    black_box(&span);
}

// ---------------------------------------------------------------- CPU time

/// Context switches so far of this process's `otel-export` threads: each is
/// one time the export thread went to sleep or was preempted.
fn export_thread_switches() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let mut total = 0;
    for task in tasks.flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim() != "otel-export" {
            continue;
        }
        let status = std::fs::read_to_string(path.join("status")).unwrap_or_default();
        total += status
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    total
}

/// The whole process's utime+stime from `/proc/self/stat`, dead threads included.
fn self_stat_cpu() -> Duration {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| stat_ticks(&s))
        .map(|t| Duration::from_millis(t * 10))
        .unwrap_or_default()
}

fn rotel_cpu(rotel: Option<&Rotel>) -> Duration {
    rotel
        .map(|r| {
            let cpu = process_cpu(&r.pid().to_string());
            cpu.sdk + cpu.receiver
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------- receiver

/// Spans recorded by the receiver so far.
fn received_spans(receiver: &OtlpReceiver) -> u64 {
    receiver
        .traces()
        .iter()
        .flat_map(|t| &t.resource_spans)
        .flat_map(|rs| &rs.scope_spans)
        .map(|ss| ss.spans.len() as u64)
        .sum()
}

/// Waits (polling every 250 ms, at most `timeout`) until the receiver holds at
/// least `n` spans; returns how many it holds.
fn wait_received(receiver: &OtlpReceiver, n: u64, timeout: Duration) -> u64 {
    let deadline = Instant::now() + timeout;
    loop {
        let got = received_spans(receiver);
        if got >= n || Instant::now() >= deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The in-process receiver (on a multi-thread runtime that lives as long as
/// the bench) and, when installed, rotel forwarding to it.
struct Setup {
    _runtime: tokio::runtime::Runtime,
    receiver: OtlpReceiver,
    rotel: Option<Rotel>,
}

impl Setup {
    fn start() -> Setup {
        let (runtime, receiver) = start_receiver();
        let rotel = if Rotel::find().is_none() {
            println!(
                "SKIPPED: the rotel cases: rotel not found (pip install rotel, or set \
                 ROTEL_AGENT to the rotel-agent binary)"
            );
            None
        } else {
            match Rotel::start_forwarding_to(&receiver.grpc_endpoint()) {
                Ok(rotel) => Some(rotel),
                Err(e) => {
                    println!("SKIPPED: the rotel cases: rotel did not start: {e}");
                    None
                }
            }
        };
        Setup {
            _runtime: runtime,
            receiver,
            rotel,
        }
    }
}

// ---------------------------------------------------------------- group 1

/// What one `span_end_to_end` case did over all its measurement batches
/// (criterion's warm-up included).
#[derive(Debug, Default)]
struct CaseStats {
    name: &'static str,
    sent: u64,
    wall: Duration,
    cpu: Cpu,
    rotel: Duration,
    received: Option<u64>,
}

impl CaseStats {
    fn ns_per_span(&self) -> f64 {
        self.wall.as_nanos() as f64 / self.sent.max(1) as f64
    }
    fn spans_per_sec(&self) -> f64 {
        self.sent as f64 / self.wall.as_secs_f64().max(f64::MIN_POSITIVE)
    }
    fn cpu_ns_per_span(&self) -> f64 {
        self.cpu.sdk.as_nanos() as f64 / self.sent.max(1) as f64
    }
    fn spans_per_core_sec(&self) -> f64 {
        self.sent as f64 / self.cpu.sdk.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

enum Target<'a> {
    Nothing,
    Receiver(&'a OtlpReceiver),
    Rotel(&'a Rotel, &'a OtlpReceiver),
}

fn run_case(c: &mut Criterion, name: &'static str, target: Target<'_>) -> CaseStats {
    let endpoint = match &target {
        Target::Nothing => None,
        Target::Receiver(r) => Some(r.grpc_endpoint()),
        Target::Rotel(rotel, _) => Some(rotel.grpc_endpoint()),
    };
    let guard = build_guard(endpoint.as_deref());
    let tracer = tracer_of(&guard);
    let exporting = endpoint.is_some();
    let mut stats = CaseStats {
        name,
        ..CaseStats::default()
    };
    let rotel = match &target {
        Target::Rotel(rotel, _) => Some(*rotel),
        _ => None,
    };

    let mut group = c.benchmark_group("span_end_to_end");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let cpu_before = self_cpu();
            let rotel_before = rotel_cpu(rotel);
            let start = Instant::now();
            let mut left = iters;
            while left > 0 {
                let n = left.min(CHUNK);
                for _ in 0..n {
                    one_span(&tracer);
                }
                guard.force_flush().expect("force_flush");
                left -= n;
            }
            let elapsed = start.elapsed();
            stats.cpu.sdk += (self_cpu() - cpu_before).sdk;
            stats.rotel += rotel_cpu(rotel).saturating_sub(rotel_before);
            stats.wall += elapsed;
            stats.sent += iters;

            let report = guard.export_report().traces;
            assert_eq!(report.lost(), 0, "{name}: spans were lost: {report:?}");
            if exporting {
                assert_eq!(
                    report.exported, stats.sent,
                    "{name}: flushed but not all exported: {report:?}"
                );
            }
            if let Target::Receiver(receiver) = &target {
                // The flush returned after the receiver acknowledged (and
                // recorded) every batch: count, then forget to bound memory.
                let got = received_spans(receiver);
                receiver.clear();
                *stats.received.get_or_insert(0) += got;
            }
            elapsed
        });
    });
    group.finish();

    if let Target::Rotel(_, receiver) = &target {
        // rotel forwards asynchronously (batches of at most 100 ms).
        let timeout = Duration::from_secs(10);
        stats.received = Some(wait_received(receiver, stats.sent, timeout));
        receiver.clear();
    }
    let report = guard.shutdown();
    assert!(report.is_clean(), "{name}: unclean shutdown: {report:?}");
    stats
}

fn span_end_to_end(c: &mut Criterion, setup: &Setup) -> Vec<CaseStats> {
    let mut cases = vec![run_case(c, "no_exporter", Target::Nothing)];
    cases.push(run_case(
        c,
        "otlp_grpc_receiver",
        Target::Receiver(&setup.receiver),
    ));
    match &setup.rotel {
        Some(rotel) => cases.push(run_case(
            c,
            "otlp_grpc_rotel",
            Target::Rotel(rotel, &setup.receiver),
        )),
        None => println!("SKIPPED: span_end_to_end/otlp_grpc_rotel: rotel is not available"),
    }
    cases
}

fn print_group_summary(cases: &[CaseStats]) {
    let Some(base) = cases.iter().find(|c| c.name == "no_exporter" && c.sent > 0) else {
        println!("span_end_to_end summary: no baseline was measured (filtered out?)");
        return;
    };
    println!();
    println!(
        "span_end_to_end summary (all batches incl. warm-up; wall = bench thread, flush included; \
         CPU = bench thread + otel-export thread, receiver threads excluded):"
    );
    for case in cases.iter().filter(|c| c.sent > 0) {
        println!(
            "  {:<20} {:>9} spans  {:>8.1} ns/span wall = {:>10.0} spans/s ({:.3}x baseline)  \
             CPU {:>8.1} ns/span = {:>10.0} spans/s per core ({:.3}x baseline)",
            case.name,
            case.sent,
            case.ns_per_span(),
            case.spans_per_sec(),
            case.spans_per_sec() / base.spans_per_sec(),
            case.cpu_ns_per_span(),
            case.spans_per_core_sec(),
            case.spans_per_core_sec() / base.spans_per_core_sec(),
        );
        if let Some(received) = case.received {
            println!(
                "  {:<20} delivered to the receiver: {received} of {} sent{}",
                "",
                case.sent,
                if received >= case.sent {
                    ""
                } else {
                    "  <-- NOT ALL DELIVERED"
                }
            );
        }
        if !case.rotel.is_zero() {
            println!(
                "  {:<20} rotel-agent process CPU: {:.1} ns/span (not included above)",
                "",
                case.rotel.as_nanos() as f64 / case.sent as f64
            );
        }
    }
}

// ---------------------------------------------------------------- part 2

/// One paced run's figures.
#[derive(Debug)]
struct Paced {
    sent: u64,
    wall: Duration,
    cpu: Cpu,
    process: Duration,
    rotel: Duration,
    peak_sdk_ms_per_s: f64,
    late_ticks: u64,
    export_switches: u64,
    exported: u64,
    lost: u64,
}

impl Paced {
    fn ms_per_s(&self, cpu: Duration) -> f64 {
        cpu.as_secs_f64() * 1000.0 / self.wall.as_secs_f64()
    }
}

/// Drives `RATE_PER_SEC` spans/s from this thread for `CPU_WINDOW`, in 1 ms
/// ticks, then flushes (inside the window).
fn paced_run(guard: &TelemetryGuard, rotel: Option<&Rotel>) -> Paced {
    let tracer = tracer_of(guard);
    let per_tick = RATE_PER_SEC * TICK.as_micros() as u64 / 1_000_000;
    let ticks = (CPU_WINDOW.as_micros() / TICK.as_micros()) as u64;
    let mut late_ticks = 0;
    let mut peak = 0.0_f64;

    let cpu_before = self_cpu();
    let process_before = self_stat_cpu();
    let rotel_before = rotel_cpu(rotel);
    let switches_before = export_thread_switches();
    let start = Instant::now();
    let mut window = (start, cpu_before.sdk);
    for tick in 1..=ticks {
        for _ in 0..per_tick {
            one_span(&tracer);
        }
        if tick % PEAK_WINDOW_TICKS == 0 {
            let now = (Instant::now(), self_cpu().sdk);
            let ms_per_s =
                (now.1 - window.1).as_secs_f64() * 1000.0 / (now.0 - window.0).as_secs_f64();
            peak = peak.max(ms_per_s);
            window = now;
        }
        let next = start + TICK * tick as u32;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            late_ticks += 1;
        }
    }
    guard.force_flush().expect("force_flush");
    let wall = start.elapsed();
    let cpu = self_cpu() - cpu_before;
    let process = self_stat_cpu().saturating_sub(process_before);
    let rotel = rotel_cpu(rotel).saturating_sub(rotel_before);
    let export_switches = export_thread_switches().saturating_sub(switches_before);
    let report = guard.export_report().traces;
    Paced {
        sent: per_tick * ticks,
        wall,
        cpu,
        process,
        rotel,
        peak_sdk_ms_per_s: peak,
        late_ticks,
        export_switches,
        exported: report.exported,
        lost: report.lost(),
    }
}

fn print_paced(label: &str, run: &Paced, base: &Paced, delivered: u64) {
    let extra = run.ms_per_s(run.cpu.sdk) - base.ms_per_s(base.cpu.sdk);
    println!(
        "CPU per 10k spans/s ({label}): {extra:.1} ms/s ({:.1}% of a core); baseline {:.1} ms/s \
         (same pacing loop, no exporter); total {:.1} ms/s, peak {:.1} ms/s over {} ms windows",
        extra / 10.0,
        base.ms_per_s(base.cpu.sdk),
        run.ms_per_s(run.cpu.sdk),
        run.peak_sdk_ms_per_s,
        PEAK_WINDOW_TICKS * TICK.as_millis() as u64,
    );
    println!(
        "    spans: {} sent at {:.0}/s over {:.2} s, {} exported, {} lost, {} delivered to the \
         receiver{}; {} late ticks; otel-export thread: {:.0} context switches/s",
        run.sent,
        run.sent as f64 / run.wall.as_secs_f64(),
        run.wall.as_secs_f64(),
        run.exported,
        run.lost,
        delivered,
        if delivered >= run.sent {
            ""
        } else {
            "  <-- NOT ALL DELIVERED"
        },
        run.late_ticks,
        run.export_switches as f64 / run.wall.as_secs_f64(),
    );
    println!(
        "    not counted above: in-process receiver threads {:.1} ms/s, rotel-agent {:.1} ms/s; \
         whole process via /proc/self/stat {:.0} ms/s (10 ms ticks)",
        run.ms_per_s(run.cpu.receiver),
        run.ms_per_s(run.rotel),
        run.ms_per_s(run.process),
    );
}

fn cpu_at_fixed_rate(setup: &Setup) {
    println!();
    println!(
        "cpu_at_fixed_rate: {RATE_PER_SEC} spans/s from one thread in {} ms ticks for {} s, \
         OTLP/gRPC; CPU = bench thread + otel-export thread (schedstat), receiver excluded",
        TICK.as_millis(),
        CPU_WINDOW.as_secs()
    );
    let receiver = &setup.receiver;
    receiver.clear();

    let guard = build_guard(None);
    let base = paced_run(&guard, None);
    let _ = guard.shutdown();
    println!(
        "baseline (no exporter): {:.1} ms/s ({:.1}% of a core), peak {:.1} ms/s; {} spans in \
         {:.2} s, {} late ticks; otel-export thread: {:.0} context switches/s",
        base.ms_per_s(base.cpu.sdk),
        base.ms_per_s(base.cpu.sdk) / 10.0,
        base.peak_sdk_ms_per_s,
        base.sent,
        base.wall.as_secs_f64(),
        base.late_ticks,
        base.export_switches as f64 / base.wall.as_secs_f64(),
    );

    match &setup.rotel {
        Some(rotel) => {
            let guard = build_guard(Some(&rotel.grpc_endpoint()));
            let run = paced_run(&guard, Some(rotel));
            let _ = guard.shutdown();
            let delivered = wait_received(receiver, run.sent, Duration::from_secs(10));
            receiver.clear();
            print_paced("OTLP/gRPC -> rotel -> receiver", &run, &base, delivered);
        }
        None => println!("SKIPPED: cpu_at_fixed_rate to rotel: rotel is not available"),
    }

    let guard = build_guard(Some(&receiver.grpc_endpoint()));
    let run = paced_run(&guard, None);
    let _ = guard.shutdown();
    let delivered = wait_received(receiver, run.sent, Duration::from_secs(5));
    receiver.clear();
    print_paced("OTLP/gRPC -> in-process receiver", &run, &base, delivered);
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let setup = Setup::start();
    let cases = span_end_to_end(&mut c, &setup);
    c.final_summary();
    print_group_summary(&cases);
    // Only in a real bench run (`cargo bench` passes --bench), not when
    // `cargo test --benches` runs each benchmark once.
    if std::env::args().any(|a| a == "--bench") {
        cpu_at_fixed_rate(&setup);
    }
}
