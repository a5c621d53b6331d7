//! `url.full` of real requests, through the middleware and through the
//! plain-client helper: sensitive values are redacted by default, keys added
//! from the builder, or every value; the server still gets the real query.

mod common;

use axum::Router;
use axum::extract::RawQuery;
use axum::routing::get;
use common::{plain_client, serve};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use otel_reqwest::reqwest_middleware::ClientBuilder;
use otel_reqwest::{OtelMiddleware, OtelMiddlewareBuilder};
use otel_testing::redaction;

/// Sends `GET /p?{query}` for each query, through the middleware and then
/// with `send_traced`, and returns each span's `url.full` (middleware ones
/// first) after checking the server received the query unredacted.
async fn recorded_urls(
    builder: impl Fn(OtelMiddlewareBuilder) -> OtelMiddlewareBuilder,
    queries: &[&str],
) -> (String, Vec<String>) {
    let addr = serve(Router::new().route(
        "/p",
        get(|RawQuery(q): RawQuery| async move { q.unwrap_or_default() }),
    ))
    .await;
    let base = format!("http://{addr}/p");
    let spans = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let middleware = builder(OtelMiddleware::builder().tracer_provider(&provider)).build();
    let client = ClientBuilder::new(plain_client())
        .with(middleware.clone())
        .build();
    for query in queries {
        let response = client
            .get(format!("{base}?{query}"))
            .send()
            .await
            .expect("send");
        assert_eq!(response.text().await.expect("body"), *query, "sent as is");
    }
    let plain = plain_client();
    for query in queries {
        let request = plain
            .get(format!("{base}?{query}"))
            .build()
            .expect("request");
        let response = middleware.send_traced(&plain, request).await.expect("send");
        assert_eq!(response.text().await.expect("body"), *query, "sent as is");
    }
    let urls = spans
        .get_finished_spans()
        .expect("spans")
        .iter()
        .map(|span| {
            span.attributes
                .iter()
                .find(|kv| kv.key.as_str() == "url.full")
                .map(|kv| kv.value.as_str().into_owned())
                .expect("url.full")
        })
        .collect();
    (base, urls)
}

async fn check(
    builder: impl Fn(OtelMiddlewareBuilder) -> OtelMiddlewareBuilder,
    table: &[(&str, &str)],
) {
    let queries: Vec<&str> = table.iter().map(|(q, _)| *q).collect();
    let (base, urls) = recorded_urls(builder, &queries).await;
    assert_eq!(urls.len(), 2 * table.len());
    let wanted = table.iter().chain(table);
    for ((query, want), got) in wanted.zip(&urls) {
        assert_eq!(*got, format!("{base}?{want}"), "url.full of ?{query}");
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
