//! The rotel harness end to end: telemetry sent to a real rotel collector
//! arrives at the in-process receiver. Skipped (with a message) when rotel is
//! not installed, failed when it is missing on CI.

mod common;

use std::time::{Duration, Instant};

use common::{logs_request, metrics_request, post, trace_request};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use otel_testing::{OtlpReceiver, Rotel, Transport, attr, require_rotel};
use prost::Message;

const WAIT: Duration = Duration::from_secs(10);

/// Pids of the processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    String::from_utf8_lossy(&c)
                        .replace('\0', " ")
                        .contains(needle)
                })
                .unwrap_or(false)
        })
        .collect()
}

#[tokio::test]
async fn rotel_forwards_grpc_and_http_to_the_receiver() {
    if require_rotel().is_none() {
        return;
    }
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let rotel = Rotel::start_forwarding_to(&receiver.grpc_endpoint()).expect("rotel starts");
    assert!(rotel.grpc_endpoint().starts_with("http://127.0.0.1:"));
    assert!(rotel.http_endpoint().starts_with("http://127.0.0.1:"));

    // OTLP/gRPC into rotel.
    let sent = Instant::now();
    TraceServiceClient::connect(rotel.grpc_endpoint())
        .await
        .expect("connects to rotel")
        .export(trace_request("rotel-grpc-svc", "via-rotel-grpc"))
        .await
        .expect("rotel accepts");
    let span = receiver.wait_for_span("via-rotel-grpc", WAIT).await;
    let span = span.unwrap_or_else(|| panic!("span not forwarded; rotel log:\n{}", rotel.log()));
    eprintln!("rotel forwarded a gRPC span in {:?}", sent.elapsed());
    assert_eq!(span.trace_id, vec![0x11; 16]);
    let (resource, scope, _) = receiver
        .spans_with_resource()
        .into_iter()
        .find(|(_, _, s)| s.name == "via-rotel-grpc")
        .expect("span recorded");
    assert_eq!(
        attr(&resource, "service.name").as_deref(),
        Some("rotel-grpc-svc")
    );
    assert_eq!(scope, "otel-testing-tests");
    assert!(
        receiver
            .requests()
            .iter()
            .all(|r| r.transport == Transport::Grpc)
    );

    // OTLP/HTTP protobuf into rotel.
    let sent = Instant::now();
    let reply = post(
        &format!("{}/v1/traces", rotel.http_endpoint()),
        &[("content-type", "application/x-protobuf")],
        trace_request("rotel-http-svc", "via-rotel-http").encode_to_vec(),
        WAIT,
    )
    .await
    .expect("rotel answers");
    assert_eq!(reply.status, 200, "rotel log:\n{}", rotel.log());
    assert!(
        receiver
            .wait_for_span("via-rotel-http", WAIT)
            .await
            .is_some(),
        "span not forwarded; rotel log:\n{}",
        rotel.log()
    );
    eprintln!("rotel forwarded an HTTP span in {:?}", sent.elapsed());

    // OTLP/HTTP JSON into rotel.
    let json =
        serde_json::to_vec(&trace_request("rotel-json-svc", "via-rotel-json")).expect("serializes");
    let reply = post(
        &format!("{}/v1/traces", rotel.http_endpoint()),
        &[("content-type", "application/json")],
        json,
        WAIT,
    )
    .await
    .expect("rotel answers");
    assert_eq!(reply.status, 200, "rotel log:\n{}", rotel.log());
    assert!(
        receiver
            .wait_for_span("via-rotel-json", WAIT)
            .await
            .is_some(),
        "span not forwarded; rotel log:\n{}",
        rotel.log()
    );
}

#[tokio::test]
async fn rotel_forwards_metrics_and_logs() {
    if require_rotel().is_none() {
        return;
    }
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let rotel = Rotel::start_forwarding_to(&receiver.grpc_endpoint()).expect("rotel starts");
    MetricsServiceClient::connect(rotel.grpc_endpoint())
        .await
        .expect("connects to rotel")
        .export(metrics_request("svc", "rotel.gauge"))
        .await
        .expect("rotel accepts metrics");
    LogsServiceClient::connect(rotel.grpc_endpoint())
        .await
        .expect("connects to rotel")
        .export(logs_request("svc", "via rotel"))
        .await
        .expect("rotel accepts logs");
    assert!(
        receiver.wait_for_metric("rotel.gauge", WAIT).await,
        "metric not forwarded; rotel log:\n{}",
        rotel.log()
    );
    assert!(
        receiver.wait_for_log_records(1, WAIT).await,
        "log not forwarded; rotel log:\n{}",
        rotel.log()
    );
}

#[test]
fn rotel_runs_as_the_spawned_child_and_drop_kills_it() {
    if require_rotel().is_none() {
        return;
    }
    // Nothing listens there: rotel starts anyway and exports lazily.
    let nowhere = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        format!("http://{}", listener.local_addr().expect("local addr"))
    };
    let mut rotel = Rotel::start_forwarding_to(&nowhere).expect("rotel starts");
    assert!(rotel.is_running());
    let pid = rotel.pid();
    let marker = rotel.grpc_addr().to_string();
    // No fork: the only process with our port in its command line is the
    // child we spawned.
    assert_eq!(processes_mentioning(&marker), vec![pid]);
    assert!(
        rotel.log().contains("Starting Rotel"),
        "log: {}",
        rotel.log()
    );
    assert!(!rotel.log().contains('\u{1b}'), "log has colour codes");

    let (grpc, http) = (rotel.grpc_addr(), rotel.http_addr());
    drop(rotel);
    assert!(processes_mentioning(&marker).is_empty());
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    let timeout = Duration::from_millis(200);
    assert!(std::net::TcpStream::connect_timeout(&grpc, timeout).is_err());
    assert!(std::net::TcpStream::connect_timeout(&http, timeout).is_err());
}

#[test]
fn stop_gracefully_terminates_rotel() {
    if require_rotel().is_none() {
        return;
    }
    let rotel = Rotel::start_forwarding_to("http://127.0.0.1:9").expect("rotel starts");
    let pid = rotel.pid();
    assert!(rotel.stop_gracefully(Duration::from_secs(5)));
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}
