//! The in-process OTLP receiver: gRPC and HTTP (protobuf, JSON, gzip),
//! recording, fault injection and outages.

mod common;

use std::time::Duration;

use common::{gzip, logs_request, metrics_request, post, trace_request};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use otel_testing::receiver::ExportRequest;
use otel_testing::{Behavior, OtlpReceiver, Signal, Transport, attr};
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic_types::StatusExt;

const WAIT: Duration = Duration::from_secs(5);
const PROTOBUF: (&str, &str) = ("content-type", "application/x-protobuf");
const JSON: (&str, &str) = ("content-type", "application/json");

async fn start() -> OtlpReceiver {
    OtlpReceiver::start().await.expect("receiver starts")
}

async fn grpc_client(receiver: &OtlpReceiver) -> TraceServiceClient<tonic::transport::Channel> {
    TraceServiceClient::connect(receiver.grpc_endpoint())
        .await
        .expect("gRPC connects")
}

fn traces_url(receiver: &OtlpReceiver) -> String {
    format!("{}/v1/traces", receiver.http_endpoint())
}

#[tokio::test]
async fn endpoints_are_loopback_urls() {
    let receiver = start().await;
    assert!(receiver.grpc_addr().ip().is_loopback());
    assert_ne!(receiver.grpc_addr().port(), 0);
    assert_eq!(
        receiver.grpc_endpoint(),
        format!("http://127.0.0.1:{}", receiver.grpc_addr().port())
    );
    assert_eq!(
        receiver.http_endpoint(),
        format!("http://127.0.0.1:{}", receiver.http_addr().port())
    );
    assert_ne!(receiver.grpc_addr(), receiver.http_addr());
}

#[tokio::test]
async fn grpc_trace_with_gzip_and_metadata_is_recorded() {
    let receiver = start().await;
    let mut client = grpc_client(&receiver)
        .await
        .send_compressed(CompressionEncoding::Gzip);
    let mut request = tonic::Request::new(trace_request("grpc-svc", "grpc-span"));
    request
        .metadata_mut()
        .insert("x-api-key", "secret".parse().expect("ascii"));
    client.export(request).await.expect("export accepted");

    assert_eq!(receiver.traces().len(), 1);
    assert_eq!(receiver.attempts(), 1);
    let spans = receiver.spans_with_resource();
    assert_eq!(spans.len(), 1);
    let (resource, scope, span) = &spans[0];
    assert_eq!(attr(resource, "service.name").as_deref(), Some("grpc-svc"));
    assert_eq!(scope, "otel-testing-tests");
    assert_eq!(span.name, "grpc-span");
    assert_eq!(
        attr(&span.attributes, "http.request.method").as_deref(),
        Some("GET")
    );

    let requests = receiver.requests();
    assert_eq!(requests[0].transport, Transport::Grpc);
    assert_eq!(requests[0].signal, Signal::Traces);
    assert_eq!(requests[0].header("X-Api-Key"), Some("secret"));
    assert_eq!(requests[0].header("grpc-encoding"), Some("gzip"));
    assert!(matches!(requests[0].request, ExportRequest::Traces(_)));
}

#[tokio::test]
async fn grpc_metrics_and_logs_are_recorded() {
    let receiver = start().await;
    MetricsServiceClient::connect(receiver.grpc_endpoint())
        .await
        .expect("connects")
        .export(metrics_request("svc", "queue.depth"))
        .await
        .expect("metrics accepted");
    LogsServiceClient::connect(receiver.grpc_endpoint())
        .await
        .expect("connects")
        .export(logs_request("svc", "hello log"))
        .await
        .expect("logs accepted");
    assert_eq!(receiver.metric_names(), vec!["queue.depth".to_string()]);
    assert_eq!(receiver.metrics().len(), 1);
    let records = receiver.log_records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].severity_text, "INFO");
    assert_eq!(receiver.logs().len(), 1);
    assert!(receiver.traces().is_empty());
    assert!(receiver.wait_for_metric("queue.depth", WAIT).await);
    assert!(receiver.wait_for_log_records(1, WAIT).await);
}

#[tokio::test]
async fn http_protobuf_trace_is_recorded_and_answered_in_protobuf() {
    let receiver = start().await;
    let body = trace_request("http-svc", "http-span").encode_to_vec();
    let reply = post(
        &traces_url(&receiver),
        &[PROTOBUF, ("x-tenant", "t1")],
        body,
        WAIT,
    )
    .await
    .expect("answered");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.headers.get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/x-protobuf"[..])
    );
    ExportTraceServiceResponse::decode(reply.body).expect("protobuf response");

    let span = receiver.span_named("http-span").expect("span recorded");
    assert_eq!(span.trace_id, vec![0x11; 16]);
    let requests = receiver.requests();
    assert_eq!(requests[0].transport, Transport::HttpProtobuf);
    assert_eq!(requests[0].header("x-tenant"), Some("t1"));
}

#[tokio::test]
async fn http_gzip_protobuf_metrics_and_logs_are_recorded() {
    let receiver = start().await;
    let metrics = gzip(&metrics_request("svc", "gz.metric").encode_to_vec());
    let reply = post(
        &format!("{}/v1/metrics", receiver.http_endpoint()),
        &[PROTOBUF, ("content-encoding", "gzip")],
        metrics,
        WAIT,
    )
    .await
    .expect("answered");
    assert_eq!(reply.status, 200);
    let logs = gzip(&logs_request("svc", "gz log").encode_to_vec());
    let reply = post(
        &format!("{}/v1/logs", receiver.http_endpoint()),
        &[PROTOBUF, ("content-encoding", "gzip")],
        logs,
        WAIT,
    )
    .await
    .expect("answered");
    assert_eq!(reply.status, 200);
    assert_eq!(receiver.metric_names(), vec!["gz.metric".to_string()]);
    assert_eq!(receiver.log_records().len(), 1);
}

#[tokio::test]
async fn http_json_trace_is_recorded_and_answered_in_json() {
    let receiver = start().await;
    // OTLP/JSON as the spec writes it: camelCase, hex ids, int64 as string,
    // enums as numbers.
    let body = r#"{
      "resourceSpans": [{
        "resource": {"attributes": [
          {"key": "service.name", "value": {"stringValue": "json-svc"}}
        ]},
        "scopeSpans": [{
          "scope": {"name": "json-scope"},
          "spans": [{
            "traceId": "5b8efff798038103d269b633813fc60c",
            "spanId": "eee19b7ec3c1b174",
            "name": "json-span",
            "kind": 2,
            "startTimeUnixNano": "1544712660000000000",
            "endTimeUnixNano": "1544712661000000000",
            "attributes": [
              {"key": "http.response.status_code", "value": {"intValue": "200"}},
              {"key": "ok", "value": {"boolValue": true}},
              {"key": "ratio", "value": {"doubleValue": 0.5}}
            ]
          }]
        }]
      }]
    }"#;
    let reply = post(&traces_url(&receiver), &[JSON], body, WAIT)
        .await
        .expect("answered");
    assert_eq!(
        reply.status,
        200,
        "body: {}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        reply.headers.get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
    let _: serde_json::Value = serde_json::from_slice(&reply.body).expect("JSON response");

    let spans = receiver.spans_with_resource();
    assert_eq!(spans.len(), 1);
    let (resource, scope, span) = &spans[0];
    assert_eq!(attr(resource, "service.name").as_deref(), Some("json-svc"));
    assert_eq!(scope, "json-scope");
    assert_eq!(span.name, "json-span");
    assert_eq!(
        span.span_id,
        vec![0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74]
    );
    assert_eq!(span.start_time_unix_nano, 1_544_712_660_000_000_000);
    let status = attr(&span.attributes, "http.response.status_code");
    assert_eq!(status.as_deref(), Some("200"));
    assert_eq!(attr(&span.attributes, "ok").as_deref(), Some("true"));
    assert_eq!(attr(&span.attributes, "ratio").as_deref(), Some("0.5"));
    assert_eq!(receiver.requests()[0].transport, Transport::HttpJson);
}

#[tokio::test]
async fn http_gzip_json_is_recorded() {
    let receiver = start().await;
    let json = serde_json::to_vec(&trace_request("svc", "gz-json-span")).expect("serializes");
    let reply = post(
        &traces_url(&receiver),
        &[
            ("content-type", "application/json; charset=utf-8"),
            ("content-encoding", "gzip"),
        ],
        gzip(&json),
        WAIT,
    )
    .await
    .expect("answered");
    assert_eq!(reply.status, 200);
    assert!(receiver.span_named("gz-json-span").is_some());
}

#[tokio::test]
async fn undecodable_or_untyped_http_bodies_are_rejected_but_counted() {
    let receiver = start().await;
    let url = traces_url(&receiver);
    let reply = post(&url, &[PROTOBUF], &b"\xff\xff\xff garbage"[..], WAIT)
        .await
        .expect("answered");
    assert_eq!(reply.status, 400);
    let reply = post(&url, &[JSON], "{not json", WAIT)
        .await
        .expect("answered");
    assert_eq!(reply.status, 400);
    let reply = post(
        &url,
        &[PROTOBUF, ("content-encoding", "gzip")],
        "not gzip",
        WAIT,
    )
    .await
    .expect("answered");
    assert_eq!(reply.status, 400);
    let reply = post(&url, &[("content-type", "text/plain")], "x", WAIT)
        .await
        .expect("answered");
    assert_eq!(reply.status, 415);
    assert_eq!(receiver.attempts(), 4);
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn fail_http_with_retry_after() {
    let receiver = start().await;
    receiver.set_behavior(Behavior::FailHttp {
        status: 429,
        retry_after: Some(3),
    });
    let body = trace_request("svc", "throttled").encode_to_vec();
    let reply = post(&traces_url(&receiver), &[PROTOBUF], body, WAIT)
        .await
        .expect("answered");
    assert_eq!(reply.status, 429);
    assert_eq!(
        reply.headers.get("retry-after").map(|v| v.as_bytes()),
        Some(&b"3"[..])
    );
    let status = tonic_types::pb::Status::decode(reply.body).expect("google.rpc.Status body");
    assert_eq!(status.code, tonic::Code::Unavailable as i32);

    // gRPC gets the mapped code, with RetryInfo.
    let error = grpc_client(&receiver)
        .await
        .export(trace_request("svc", "throttled"))
        .await
        .expect_err("rejected");
    assert_eq!(error.code(), tonic::Code::Unavailable);
    let retry = error
        .get_details_retry_info()
        .and_then(|r| r.retry_delay)
        .expect("RetryInfo detail");
    assert_eq!(retry, Duration::from_secs(3));

    assert_eq!(receiver.attempts(), 2);
    assert!(receiver.requests().is_empty());
    assert!(receiver.spans().is_empty());

    // Switched back while running: accepted again.
    receiver.set_behavior(Behavior::Accept);
    grpc_client(&receiver)
        .await
        .export(trace_request("svc", "after"))
        .await
        .expect("accepted");
    assert_eq!(receiver.spans().len(), 1);
    assert_eq!(receiver.attempts(), 3);
}

#[tokio::test]
async fn fail_http_maps_to_grpc_codes() {
    let receiver = start().await;
    for (status, code) in [
        (503, tonic::Code::Unavailable),
        (500, tonic::Code::Internal),
        (400, tonic::Code::InvalidArgument),
    ] {
        receiver.set_behavior(Behavior::FailHttp {
            status,
            retry_after: None,
        });
        let error = grpc_client(&receiver)
            .await
            .export(trace_request("svc", "x"))
            .await
            .expect_err("rejected");
        assert_eq!(error.code(), code, "for HTTP {status}");
        let reply = post(
            &traces_url(&receiver),
            &[PROTOBUF],
            trace_request("svc", "x").encode_to_vec(),
            WAIT,
        )
        .await
        .expect("answered");
        assert_eq!(reply.status, status);
        assert!(reply.headers.get("retry-after").is_none());
    }
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn fail_grpc_code_and_mapped_http_status() {
    let receiver = start().await;
    receiver.set_behavior(Behavior::FailGrpc(tonic::Code::Unavailable));
    assert_eq!(
        receiver.behavior(),
        Behavior::FailGrpc(tonic::Code::Unavailable)
    );
    let error = grpc_client(&receiver)
        .await
        .export(trace_request("svc", "x"))
        .await
        .expect_err("rejected");
    assert_eq!(error.code(), tonic::Code::Unavailable);
    let reply = post(
        &traces_url(&receiver),
        &[JSON],
        serde_json::to_vec(&trace_request("svc", "x")).expect("serializes"),
        WAIT,
    )
    .await
    .expect("answered");
    assert_eq!(reply.status, 503);
    let body: serde_json::Value = serde_json::from_slice(&reply.body).expect("JSON status");
    assert_eq!(body["code"], 14);
    assert_eq!(receiver.attempts(), 2);
    assert!(receiver.spans().is_empty());
}

#[tokio::test]
async fn fail_times_then_accept() {
    let receiver = start().await;
    receiver.set_behavior(Behavior::FailTimes { n: 2, status: 503 });
    let mut client = grpc_client(&receiver).await;
    let first = client.export(trace_request("svc", "a")).await;
    assert_eq!(
        first.expect_err("1st fails").code(),
        tonic::Code::Unavailable
    );
    let reply = post(
        &traces_url(&receiver),
        &[PROTOBUF],
        trace_request("svc", "b").encode_to_vec(),
        WAIT,
    )
    .await
    .expect("answered");
    assert_eq!(reply.status, 503, "2nd fails");
    client
        .export(trace_request("svc", "c"))
        .await
        .expect("3rd accepted");
    assert_eq!(receiver.attempts(), 3);
    let names: Vec<String> = receiver.spans().into_iter().map(|s| s.name).collect();
    assert_eq!(names, vec!["c".to_string()]);
}

#[tokio::test]
async fn blackhole_never_answers_but_counts() {
    let receiver = start().await;
    receiver.set_behavior(Behavior::Blackhole);

    let reply = post(
        &traces_url(&receiver),
        &[PROTOBUF],
        trace_request("svc", "lost").encode_to_vec(),
        Duration::from_millis(300),
    )
    .await;
    assert!(reply.is_none(), "blackhole answered: {reply:?}");

    let mut client = grpc_client(&receiver).await;
    let mut request = tonic::Request::new(trace_request("svc", "lost"));
    request.set_timeout(Duration::from_millis(300));
    let grpc = tokio::time::timeout(Duration::from_secs(2), client.export(request))
        .await
        .expect("client-side deadline fires");
    let code = grpc.expect_err("no answer").code();
    // tonic reports its own deadline as Cancelled.
    assert!(
        matches!(code, tonic::Code::Cancelled | tonic::Code::DeadlineExceeded),
        "unexpected code {code:?}"
    );

    assert_eq!(receiver.attempts(), 2);
    assert!(receiver.spans().is_empty());

    // The receiver (and this current-thread runtime) is not stuck.
    receiver.set_behavior(Behavior::Accept);
    client
        .export(trace_request("svc", "found"))
        .await
        .expect("accepted");
    assert_eq!(receiver.spans().len(), 1);
}

#[tokio::test]
async fn pause_refuses_connections_and_resume_uses_the_same_ports() {
    let receiver = start().await;
    let (grpc, http) = (receiver.grpc_addr(), receiver.http_addr());
    let mut client = grpc_client(&receiver).await;
    client
        .export(trace_request("svc", "before"))
        .await
        .expect("accepted");

    receiver.pause().await;
    assert!(!receiver.is_running());
    assert!(tokio::net::TcpStream::connect(grpc).await.is_err());
    assert!(tokio::net::TcpStream::connect(http).await.is_err());
    // The open gRPC connection is gone too.
    let mut request = tonic::Request::new(trace_request("svc", "during"));
    request.set_timeout(Duration::from_secs(1));
    assert!(client.export(request).await.is_err());

    receiver.resume().await.expect("rebinds the same ports");
    assert!(receiver.is_running());
    assert_eq!((receiver.grpc_addr(), receiver.http_addr()), (grpc, http));
    let reply = post(
        &traces_url(&receiver),
        &[PROTOBUF],
        trace_request("svc", "after").encode_to_vec(),
        WAIT,
    )
    .await
    .expect("answered");
    assert_eq!(reply.status, 200);
    // tonic's channel reconnects by itself.
    let mut reconnected = false;
    for _ in 0..50 {
        if client
            .export(trace_request("svc", "after-grpc"))
            .await
            .is_ok()
        {
            reconnected = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reconnected);
    let names: Vec<String> = receiver.spans().into_iter().map(|s| s.name).collect();
    assert_eq!(names, vec!["before", "after", "after-grpc"]);
}

#[tokio::test]
async fn pause_drops_blackholed_requests() {
    let receiver = start().await;
    receiver.set_behavior(Behavior::Blackhole);
    let url = traces_url(&receiver);
    let pending = tokio::spawn(async move {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<http_body_util::Full<bytes::Bytes>>();
        let request = http::Request::post(url)
            .header("content-type", "application/x-protobuf")
            .body(http_body_util::Full::new(bytes::Bytes::from(
                trace_request("svc", "x").encode_to_vec(),
            )))
            .expect("valid request");
        client.request(request).await.map(|r| r.status())
    });
    assert!(receiver.wait_for_attempts(1, WAIT).await);
    receiver.pause().await;
    let result = tokio::time::timeout(WAIT, pending)
        .await
        .expect("connection closed by pause")
        .expect("task ran");
    assert!(result.is_err(), "got an answer: {result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_on_a_multi_thread_runtime() {
    let receiver = start().await;
    let endpoint = receiver.grpc_endpoint();
    let sender = tokio::spawn(async move {
        let mut client = TraceServiceClient::connect(endpoint)
            .await
            .expect("connects");
        for i in 0..5 {
            client
                .export(trace_request("svc", &format!("span-{i}")))
                .await
                .expect("accepted");
        }
    });
    assert!(receiver.wait_for_spans(5, WAIT).await);
    sender.await.expect("sender done");
    assert!(receiver.wait_for_requests(5, WAIT).await);
    assert_eq!(receiver.spans().len(), 5);
    receiver.shutdown().await;
}

#[tokio::test]
async fn shutdown_and_drop_close_the_ports() {
    let receiver = start().await;
    let (grpc, http) = (receiver.grpc_addr(), receiver.http_addr());
    receiver.shutdown().await;
    assert!(tokio::net::TcpStream::connect(grpc).await.is_err());
    assert!(tokio::net::TcpStream::connect(http).await.is_err());

    let receiver = start().await;
    let grpc = receiver.grpc_addr();
    drop(receiver);
    // Drop aborts the tasks; the runtime drops them at its next turn.
    let mut closed = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(grpc).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(closed);
}

#[tokio::test]
async fn wait_for_times_out_and_clear_forgets() {
    let receiver = start().await;
    let started = std::time::Instant::now();
    assert!(!receiver.wait_for_spans(1, Duration::from_millis(100)).await);
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(
        receiver
            .wait_for_span("nope", Duration::from_millis(50))
            .await
            .is_none()
    );

    grpc_client(&receiver)
        .await
        .export(trace_request("svc", "kept"))
        .await
        .expect("accepted");
    let span = receiver
        .wait_for_span("kept", WAIT)
        .await
        .expect("span arrives");
    assert_eq!(span.name, "kept");
    receiver.clear();
    assert!(receiver.requests().is_empty());
    assert_eq!(receiver.attempts(), 0);
}
