//! Shutdown is bounded and loses nothing when the collector is up, on a
//! current-thread runtime, a multi-thread runtime and without any runtime.

mod common;

use common::{Harness, emit_all_signals};
use otel_init::{Telemetry, TelemetryGuard};
use otel_testing::Behavior;
use std::time::{Duration, Instant};

fn guard_for(h: &Harness, timeout: Duration) -> TelemetryGuard {
    let endpoint = h.receiver.grpc_endpoint();
    Telemetry::builder_from_env(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "1000"),
    ])
    .without_globals()
    .shutdown_timeout(timeout)
    .build()
    .expect("init")
}

fn assert_flushed(h: &Harness, report: &otel_init::ShutdownReport) {
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(h.receiver.spans().len(), 2);
    assert_eq!(h.receiver.log_records().len(), 1);
    assert!(
        h.receiver
            .metric_names()
            .contains(&"test.orders".to_owned())
    );
}

#[test]
fn shutdown_without_a_runtime_flushes_everything() {
    let h = Harness::start();
    let guard = guard_for(&h, Duration::from_secs(5));
    emit_all_signals(&guard);
    let report = guard.shutdown();
    assert_flushed(&h, &report);
}

#[test]
fn shutdown_inside_a_current_thread_runtime_flushes_everything() {
    let h = Harness::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let report = rt.block_on(async {
        let guard = guard_for(&h, Duration::from_secs(5));
        emit_all_signals(&guard);
        tokio::task::yield_now().await;
        guard.shutdown()
    });
    assert_flushed(&h, &report);
}

#[test]
fn shutdown_inside_a_multi_thread_runtime_flushes_everything() {
    let h = Harness::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let report = rt.block_on(async {
        let guard = guard_for(&h, Duration::from_secs(5));
        tokio::spawn(async move {
            emit_all_signals(&guard);
            guard.shutdown()
        })
        .await
        .expect("task")
    });
    assert_flushed(&h, &report);
}

#[test]
fn drop_flushes_like_shutdown() {
    let h = Harness::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let guard = guard_for(&h, Duration::from_secs(5));
        emit_all_signals(&guard);
        drop(guard);
    });
    assert_eq!(h.receiver.spans().len(), 2);
    assert_eq!(h.receiver.log_records().len(), 1);
}

/// A collector that never answers cannot hold shutdown past its deadline,
/// on either runtime flavour; what could not be sent is reported as lost.
#[test]
fn shutdown_is_bounded_when_the_collector_blackholes() {
    for flavour in ["none", "current_thread", "multi_thread"] {
        let h = Harness::start();
        h.receiver.set_behavior(Behavior::Blackhole);
        let timeout = Duration::from_millis(1500);
        let run = || {
            let guard = guard_for(&h, timeout);
            emit_all_signals(&guard);
            let start = Instant::now();
            let report = guard.shutdown();
            (report, start.elapsed())
        };
        let (report, elapsed) = match flavour {
            "none" => run(),
            "current_thread" => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(async { run() }),
            _ => tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(async { run() }),
        };
        // Within the deadline the one attempt made at shutdown timed out (1 s):
        // shutdown finished, delivering nothing.
        assert!(!report.is_clean(), "{flavour}: {report:?}");
        // The bound is the configured timeout plus thread hand-over, never the
        // 30 s batch deadline or the collector's whims.
        assert!(
            elapsed < timeout + Duration::from_secs(2),
            "{flavour}: took {elapsed:?}"
        );
        let lost = report.export.traces.lost() + report.export.logs.lost();
        assert!(
            lost >= 1,
            "{flavour}: unsent telemetry is reported: {report:?}"
        );
        assert_eq!(report.export.traces.exported, 0, "{flavour}");
    }
}

/// An address nobody listens on any more: connections to it are refused.
fn closed_port() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

/// A collector that accepts connections and then never reads nor answers;
/// it keeps them open until the test ends.
fn blackhole() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    addr
}

fn guard_at(protocol: &str, endpoint: &str, timeout: Duration) -> TelemetryGuard {
    Telemetry::builder_from_env(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
    ])
    .without_globals()
    .shutdown_timeout(timeout)
    .build()
    .expect("init")
}

/// Nothing listens: shutdown stops at once, instead of retrying until its
/// deadline, and says where it tried, why it failed and what was lost.
#[test]
fn shutdown_stops_at_once_when_the_collector_refuses_the_connection() {
    for protocol in ["http/protobuf", "grpc"] {
        let addr = closed_port();
        // Credentials in the endpoint are never sent nor printed.
        let endpoint = format!("http://otel:hunter2@{addr}");
        let timeout = Duration::from_secs(10);
        let guard = guard_at(protocol, &endpoint, timeout);
        emit_all_signals(&guard);
        let start = Instant::now();
        let report = guard.shutdown();
        let elapsed = start.elapsed();
        // Generous: well under the timeout (it takes milliseconds), far from
        // the retries' 1 + 1.5 + 2.25 + 3.4 s.
        assert!(
            elapsed < timeout / 4,
            "{protocol}: took {elapsed:?}: {report:?}"
        );
        assert_all_signals_counted(&report, protocol);
        let errors = report.errors.join("\n");
        // The user-info was dropped from the endpoint (with a warning).
        assert!(
            errors.contains(&format!("the collector at http://{addr}"))
                && errors.contains("refused the connection")
                && ["traces", "metrics", "logs"]
                    .iter()
                    .all(|s| errors.contains(s)),
            "{protocol}: {errors}"
        );
        assert!(!errors.contains("hunter2"), "{protocol}: {errors}");
    }
}

/// A collector that accepts the connection and never answers holds the
/// exit at most the shutdown timeout, for the three signals together (one
/// deadline, not one per signal), and what was not delivered is counted.
#[test]
fn a_blackholed_collector_holds_shutdown_at_most_the_timeout_for_all_signals() {
    for protocol in ["http/protobuf", "grpc"] {
        let addr = blackhole();
        let timeout = Duration::from_millis(1500);
        let guard = guard_at(protocol, &format!("http://{addr}"), timeout);
        emit_all_signals(&guard);
        let start = Instant::now();
        let report = guard.shutdown();
        let elapsed = start.elapsed();
        assert!(
            elapsed <= timeout + Duration::from_secs(1),
            "{protocol}: took {elapsed:?}: {report:?}"
        );
        assert!(!report.completed, "{protocol}: {report:?}");
        // Every signal was shut down and counted, the last ones included.
        assert_all_signals_counted(&report, protocol);
        let errors = report.errors.join("\n");
        assert!(
            errors.contains(&format!("the collector at http://{addr}"))
                && errors.contains("did not answer"),
            "{protocol}: {errors}"
        );
    }
}

/// What `emit_all_signals` queued and the shutdown could not deliver is
/// counted for each signal: both spans, the log record, at least one
/// metric point.
fn assert_all_signals_counted(report: &otel_init::ShutdownReport, protocol: &str) {
    assert_eq!(report.export.traces.lost(), 2, "{protocol}: {report:?}");
    assert_eq!(report.export.logs.lost(), 1, "{protocol}: {report:?}");
    assert!(report.export.metrics.lost() >= 1, "{protocol}: {report:?}");
}
