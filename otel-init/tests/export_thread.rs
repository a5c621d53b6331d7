//! What the exporter's own libraries (tonic, h2, hyper, rustls) log and trace
//! on the export thread goes through the application's subscriber like any
//! other event, but never becomes telemetry: exporting it would export more,
//! without end. Checked at `RUST_LOG=trace`, where those libraries emit the
//! most, over OTLP/gRPC. (One test in this file: it installs the global
//! subscriber.)

use otel_init::Telemetry;
use otel_testing::OtlpReceiver;
use std::cell::RefCell;
use std::time::Duration;

thread_local! {
    static SILENT: RefCell<Option<tracing::subscriber::DefaultGuard>> = const { RefCell::new(None) };
}

/// The receiver stands for a collector in another process: its own tonic,
/// h2 and hyper events must not reach this process's subscriber (they would
/// be the application's events, exported, received, logged, exported...).
fn silent_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .on_thread_start(|| {
            SILENT.with(|s| {
                *s.borrow_mut() = Some(tracing::subscriber::set_default(
                    tracing::subscriber::NoSubscriber::default(),
                ));
            })
        })
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn exporter_libraries_events_are_not_exported_even_at_trace_level() {
    let rt = silent_runtime();
    let receiver = rt.block_on(OtlpReceiver::start()).expect("receiver");
    let endpoint = receiver.grpc_endpoint();
    let guard = Telemetry::builder_from_env(&[
        ("RUST_LOG", "trace"),
        ("OTEL_SERVICE_NAME", "export-thread-test"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "20"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "20"),
        ("OTEL_METRICS_EXPORTER", "none"),
    ])
    .without_fmt_layer()
    .init()
    .expect("init");

    // Several export rounds: each one's own events would be in the next.
    for round in 0..4 {
        tracing::info_span!("app-span", round).in_scope(|| {
            tracing::info!(round, "application event");
        });
        guard.force_flush().expect("flush");
        std::thread::sleep(Duration::from_millis(60));
    }
    guard.force_flush().expect("flush");
    let arrived = rt.block_on(receiver.wait_for(Duration::from_secs(15), |r| {
        r.log_records().len() >= 4 && r.spans().len() >= 4
    }));
    assert!(arrived, "the application's four spans and log records");
    std::thread::sleep(Duration::from_millis(200));
    guard.force_flush().expect("flush");

    let bodies: Vec<String> = receiver
        .log_records()
        .iter()
        .map(|r| format!("{:?}", r.body))
        .collect();
    assert_eq!(
        bodies.len(),
        4,
        "only the application's records: {bodies:#?}"
    );
    assert!(
        bodies.iter().all(|b| b.contains("application event")),
        "{bodies:#?}"
    );
    let names: Vec<String> = receiver.spans().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["app-span"; 4], "only the application's spans");
    assert!(guard.shutdown().is_clean());
}
