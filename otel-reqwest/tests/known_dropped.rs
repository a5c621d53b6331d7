//! CLIENT spans the global sampler is declared to drop (`otel_http::sampling`)
//! start without a name and attributes; the trace still goes on, and a span
//! that is recorded after all still gets everything. One test: the
//! declaration and the global provider are process-wide.

mod common;

use axum::Router;
use axum::routing::get;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, global};
use otel_http::sampling::{KnownDecisions, declare};
use otel_reqwest::OtelMiddleware;
use otel_testing::AskedSampler;

#[tokio::test]
async fn declared_drops_skip_the_name_and_attributes_and_lose_nothing() {
    let asked = AskedSampler::default();
    let (provider, exporter) = asked.install_global();
    global::set_text_map_propagator(common::w3c());
    let server = common::serve(Router::new().route(
        "/echo",
        get(|headers: http::HeaderMap| async move {
            headers
                .get("traceparent")
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default()
        }),
    ))
    .await;
    let url = format!("http://{server}/echo");
    let client = |middleware: OtelMiddleware| {
        reqwest_middleware::ClientBuilder::new(common::plain_client())
            .with(middleware)
            .build()
    };
    let unsampled = Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128),
        SpanId::from(0x00f0_67aa_0ba9_02b7_u64),
        TraceFlags::default(),
        true,
        TraceState::NONE,
    ));
    let call = |client: reqwest_middleware::ClientWithMiddleware| {
        let url = url.clone();
        let cx = unsampled.clone();
        async move {
            let _attached = cx.attach();
            let response = client.get(&url).send().await.expect("send");
            response.text().await.expect("body")
        }
    };

    // Nothing declared: the sampler is asked with the name and attributes.
    call(client(OtelMiddleware::new())).await;
    // Declared: a CLIENT span in an unsampled trace is started bare...
    declare(KnownDecisions::UnsampledParentsDropped);
    let sent = call(client(OtelMiddleware::new())).await;
    // ...but only with the global provider, which the declaration is about.
    call(client(
        OtelMiddleware::builder().tracer_provider(&provider).build(),
    ))
    .await;
    declare(KnownDecisions::Unknown);

    let asked = asked.asked();
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert_eq!(asked[0].0, "GET");
    assert!(asked[0].1 >= 4, "{asked:?}");
    assert_eq!(asked[1], ("GET".to_owned(), 0), "started bare");
    assert!(asked[2].1 >= 4, "{asked:?}");

    // The trace went on, and this sampler kept the span after all: it has
    // its name and attributes.
    assert!(
        sent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{sent}"
    );
    provider.force_flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    let span = spans
        .iter()
        .find(|s| sent.contains(&s.span_context.span_id().to_string()))
        .expect("the span whose context was sent");
    assert_eq!(span.name, "GET");
    let value = |key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(value("http.request.method").as_deref(), Some("GET"));
    assert_eq!(value("url.full").as_deref(), Some(url.as_str()));
    assert_eq!(value("server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(value("http.response.status_code").as_deref(), Some("200"));
}
