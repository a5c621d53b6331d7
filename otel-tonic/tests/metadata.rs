//! Opt-in metadata capture on a real tonic server and client over loopback:
//! the allow-listed keys as `rpc.request.metadata.<key>` and
//! `rpc.response.metadata.<key>` string arrays (every value; the response's
//! headers then trailers), binary keys as their base64 text, credentials
//! never, and nothing at all by default.

mod common;

use common::*;
use opentelemetry::trace::SpanKind;
use opentelemetry::{Array, StringValue, Value};
use opentelemetry_sdk::trace::SpanData;
use tonic::Code;
use tonic::metadata::{MetadataMap, MetadataValue};

/// The base64 text tonic sends for the binary value `[0, 255]`.
const BLOB: &str = "AP8";

fn strings(values: &[&str]) -> Value {
    Value::Array(Array::String(
        values
            .iter()
            .map(|v| StringValue::from(v.to_string()))
            .collect(),
    ))
}

/// A request with `x-tenant` twice, a binary key and credentials.
fn with_metadata(message: &str) -> tonic::Request<EchoRequest> {
    let mut r = tonic::Request::new(request(message));
    let md: &mut MetadataMap = r.metadata_mut();
    md.append("x-tenant", "acme".parse().expect("value"));
    md.append("x-tenant", "globex".parse().expect("value"));
    md.insert_bin("x-blob-bin", MetadataValue::from_bytes(&[0, 255]));
    md.insert("authorization", "Bearer secret".parse().expect("value"));
    md.insert("cookie", "session=secret".parse().expect("value"));
    md.insert("x-untouched", "1".parse().expect("value"));
    r
}

/// No attribute names a credential or carries its value.
fn assert_no_credentials(span: &SpanData) {
    for kv in &span.attributes {
        let key = kv.key.as_str();
        assert!(
            !key.contains("authorization") && !key.contains("cookie"),
            "{key} was captured"
        );
        assert!(
            !format!("{:?}", kv.value).contains("secret"),
            "{key} = {:?}",
            kv.value
        );
    }
}

fn metadata_keys(span: &SpanData) -> Vec<String> {
    span.attributes
        .iter()
        .map(|kv| kv.key.as_str().to_owned())
        .filter(|k| k.contains(".metadata."))
        .collect()
}

const REQUEST_KEYS: [&str; 6] = [
    "X-Tenant",
    "x-blob-bin",
    "authorization",
    "Cookie",
    "proxy-authorization",
    "x-absent",
];
const RESPONSE_KEYS: [&str; 4] = ["x-served-by", "x-blob-bin", "set-cookie", "Authorization"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_records_allow_listed_request_metadata_but_never_credentials() {
    let t = Telemetry::new();
    let server = serve(
        t.server_layer()
            .capture_request_metadata(REQUEST_KEYS)
            .build(),
    )
    .await;
    let mut client = bare_client(server.addr).await;
    client.unary(with_metadata("ok")).await.expect("ok");

    let span = t.span(SpanKind::Server, UNARY).await;
    assert_eq!(
        attr(&span, "rpc.request.metadata.x-tenant"),
        Some(strings(&["acme", "globex"]))
    );
    assert_eq!(
        attr(&span, "rpc.request.metadata.x-blob-bin"),
        Some(strings(&[BLOB]))
    );
    assert_no_credentials(&span);
    let mut keys = metadata_keys(&span);
    keys.sort();
    assert_eq!(
        keys,
        [
            "rpc.request.metadata.x-blob-bin",
            "rpc.request.metadata.x-tenant"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_records_response_metadata_of_the_headers_and_the_trailers() {
    let t = Telemetry::new();
    let server = serve(
        t.server_layer()
            .capture_response_metadata(RESPONSE_KEYS)
            .build(),
    )
    .await;
    let mut client = bare_client(server.addr).await;

    // Initial metadata, then trailing metadata with the error status.
    let mut stream = client
        .server_stream(common::replies("meta_fail", 2))
        .await
        .expect("stream")
        .into_inner();
    let mut replies = 0;
    let status = loop {
        match stream.message().await {
            Ok(Some(_)) => replies += 1,
            Ok(None) => panic!("the stream should fail"),
            Err(status) => break status,
        }
    };
    assert_eq!((replies, status.code()), (2, Code::Unavailable));
    let span = t
        .span(SpanKind::Server, "otel.test.Echo/ServerStream")
        .await;
    assert_eq!(
        attr(&span, "rpc.response.metadata.x-served-by"),
        Some(strings(&["headers", "trailers"]))
    );
    assert_eq!(
        attr(&span, "rpc.response.metadata.x-blob-bin"),
        Some(strings(&[BLOB, BLOB]))
    );
    assert_no_credentials(&span);

    // A trailers-only error response: its metadata is in the headers.
    let e = client
        .unary(request("meta_error"))
        .await
        .expect_err("not found");
    assert_eq!(e.code(), Code::NotFound);
    let span = t.span(SpanKind::Server, UNARY).await;
    assert_eq!(
        attr(&span, "rpc.response.metadata.x-served-by"),
        Some(strings(&["error"]))
    );
    assert_no_credentials(&span);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_records_request_and_response_metadata_but_never_credentials() {
    let t = Telemetry::new();
    let server = serve_bare().await;
    let mut client = client(
        server.addr,
        t.client_layer()
            .target(endpoint(server.addr).uri())
            .capture_request_metadata(REQUEST_KEYS.iter().chain(&["traceparent"]))
            .capture_response_metadata(RESPONSE_KEYS)
            .build(),
    )
    .await;
    client.unary(with_metadata("meta")).await.expect("ok");

    let span = t.span(SpanKind::Client, UNARY).await;
    assert_eq!(
        attr(&span, "rpc.request.metadata.x-tenant"),
        Some(strings(&["acme", "globex"]))
    );
    assert_eq!(
        attr(&span, "rpc.request.metadata.x-blob-bin"),
        Some(strings(&[BLOB]))
    );
    // The metadata as sent: with the injected context (its flags may carry
    // Trace Context Level 2's random bit, so only the ids are compared).
    let ids = format!(
        "00-{}-{}-",
        span.span_context.trace_id(),
        span.span_context.span_id()
    );
    match attr(&span, "rpc.request.metadata.traceparent") {
        Some(Value::Array(Array::String(v))) if v.len() == 1 => {
            assert!(v[0].as_str().starts_with(&ids), "{v:?}")
        }
        other => panic!("traceparent: {other:?}"),
    }
    assert_eq!(
        attr(&span, "rpc.response.metadata.x-served-by"),
        Some(strings(&["headers"]))
    );
    assert_eq!(
        attr(&span, "rpc.response.metadata.x-blob-bin"),
        Some(strings(&[BLOB]))
    );
    assert_no_credentials(&span);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_metadata_is_recorded_by_default() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = client(
        server.addr,
        t.client_layer().target(endpoint(server.addr).uri()).build(),
    )
    .await;
    client.unary(with_metadata("meta")).await.expect("ok");
    for kind in [SpanKind::Server, SpanKind::Client] {
        let span = t.span(kind, UNARY).await;
        assert_eq!(metadata_keys(&span), Vec::<String>::new());
    }
}
