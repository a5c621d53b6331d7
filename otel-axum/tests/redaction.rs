//! `url.query` of real requests through a served app: sensitive values are
//! redacted by default, keys added from the builder, or every value.

use axum::Router;
use axum::routing::get;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use otel_axum::{OtelLayer, OtelLayerBuilder};
use otel_testing::redaction;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Serves `/p` with the layer from `builder`, sends each query as it is
/// written (raw HTTP/1.1, so nothing re-encodes it) and returns the recorded
/// `url.query` of each request, in order.
async fn recorded_queries(
    builder: impl FnOnce(OtelLayerBuilder) -> OtelLayerBuilder,
    queries: &[&str],
) -> Vec<Option<String>> {
    let spans = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let layer = builder(OtelLayer::builder().tracer_provider(&provider)).build();
    let app = Router::new()
        .route("/p", get(|| async { "ok" }))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut recorded = Vec::new();
    for (i, query) in queries.iter().enumerate() {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let request = format!("GET /p?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).await.expect("read");
        assert!(response.starts_with("HTTP/1.1 200"), "{query}: {response}");
        // The span ends once the body has been sent.
        let mut finished = spans.get_finished_spans().expect("spans");
        for _ in 0..200 {
            if finished.len() > i {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            finished = spans.get_finished_spans().expect("spans");
        }
        let span = finished.get(i).expect("one span per request");
        recorded.push(
            span.attributes
                .iter()
                .find(|kv| kv.key.as_str() == "url.query")
                .map(|kv| kv.value.as_str().into_owned()),
        );
    }
    server.abort();
    recorded
}

async fn check(builder: impl FnOnce(OtelLayerBuilder) -> OtelLayerBuilder, table: &[(&str, &str)]) {
    let queries: Vec<&str> = table.iter().map(|(q, _)| *q).collect();
    let recorded = recorded_queries(builder, &queries).await;
    for ((query, want), got) in table.iter().zip(recorded) {
        assert_eq!(got.as_deref(), Some(*want), "url.query of ?{query}");
    }
}

#[tokio::test]
async fn sensitive_values_are_redacted_by_default() {
    check(|b| b, &redaction::DEFAULT_KEYS).await;
}

#[tokio::test]
async fn keys_are_added_or_every_value_redacted_from_the_builder() {
    check(
        |b| b.sensitive_query_keys(redaction::ADDED_KEYS),
        &redaction::ADDED_KEYS_CASES,
    )
    .await;
    check(
        |b| b.redact_all_query_values(),
        &redaction::ALL_VALUES_CASES,
    )
    .await;
}
