//! `url.query` of real requests through a served app: sensitive values are
//! redacted by default, keys added from the builder, or every value.

mod common;

use axum::Router;
use axum::routing::get;
use common::{Peer, served_spans, value};
use otel_axum::OtelLayerBuilder;
use otel_testing::redaction;

async fn check(builder: impl FnOnce(OtelLayerBuilder) -> OtelLayerBuilder, table: &[(&str, &str)]) {
    let targets: Vec<String> = table.iter().map(|(q, _)| format!("/p?{q}")).collect();
    let requests: Vec<(&str, &[(&str, &str)])> =
        targets.iter().map(|t| (t.as_str(), &[][..])).collect();
    let app = Router::new().route("/p", get(|| async { "ok" }));
    let spans = served_spans(app, builder, Peer::ConnectInfo, &requests).await;
    for ((query, want), attributes) in table.iter().zip(spans) {
        assert_eq!(
            value(&attributes, "url.query").as_deref(),
            Some(*want),
            "url.query of ?{query}"
        );
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
