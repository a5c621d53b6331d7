//! Spans the global sampler is declared to drop (`otel_http::sampling`, as
//! otel-init declares its parent-based sampler) are started without their
//! name and attributes, on both layers; a span recorded after all still gets
//! everything, and a layer with its own tracer provider is not concerned.
//! One test: the declaration and the global provider are process-wide.

mod common;

use common::*;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, global};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use otel_http::propagation::W3cTraceContextPropagator;
use otel_http::sampling::{KnownDecisions, declare};
use otel_testing::AskedSampler;
use otel_tonic::{OtelClientLayer, OtelServerLayer};
use tonic::metadata::MetadataValue;

fn unsampled_request() -> tonic::Request<EchoRequest> {
    let mut r = tonic::Request::new(request("ok"));
    r.metadata_mut().insert(
        "traceparent",
        MetadataValue::try_from(TP_UNSAMPLED).expect("value"),
    );
    r
}

fn unsampled_parent() -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(7u128),
        SpanId::from(9u64),
        TraceFlags::default(),
        true,
        TraceState::NONE,
    ))
}

/// The spans of `kind` named `name`, ended so far, then forgotten.
fn ended(exporter: &InMemorySpanExporter, kind: SpanKind) -> Vec<SpanData> {
    let spans = exporter.get_finished_spans().expect("spans");
    exporter.reset();
    spans.into_iter().filter(|s| s.span_kind == kind).collect()
}

fn has(span: &SpanData, key: &str, value: &str) -> bool {
    attr_str(span, key).as_deref() == Some(value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_drops_skip_the_name_and_attributes_and_lose_nothing() {
    let asked = AskedSampler::default();
    let (provider, exporter) = asked.install_global();
    global::set_text_map_propagator(W3cTraceContextPropagator::new());

    // Server: an unsampled caller's call, three ways.
    for (declared, global_provider) in [
        (KnownDecisions::Unknown, true),
        (KnownDecisions::UnsampledParentsDropped, true),
        (KnownDecisions::UnsampledParentsDropped, false),
    ] {
        declare(declared);
        let layer = if global_provider {
            OtelServerLayer::new()
        } else {
            OtelServerLayer::builder()
                .tracer_provider(&provider)
                .build()
        };
        let server = serve(layer).await;
        let mut client = bare_client(server.addr).await;
        client.unary(unsampled_request()).await.expect("ok");
        let span = loop {
            if let Some(s) = ended(&exporter, SpanKind::Server).pop() {
                break s;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        };
        declare(KnownDecisions::Unknown);
        let started = asked.take();
        let bare = declared != KnownDecisions::Unknown && global_provider;
        if bare {
            assert_eq!(started, [("grpc".to_owned(), 0)], "started bare");
        } else {
            assert_eq!(started.len(), 1, "{started:?}");
            assert_eq!(started[0].0, UNARY);
            assert!(started[0].1 >= 1, "{started:?}");
        }
        // The sampler kept it after all: it has its name and attributes.
        assert_eq!(span.name, UNARY, "{declared:?} {global_provider}");
        assert!(has(&span, "rpc.system.name", "grpc"), "{span:?}");
        assert!(has(&span, "rpc.method", UNARY));
        assert!(has(&span, "rpc.status_code", "OK"));
        assert!(has(&span, "server.address", "127.0.0.1"));
        assert!(attr(&span, "network.peer.port").is_some());
    }

    // Client: a call made inside an unsampled span, three ways.
    let server = serve_bare().await;
    for (declared, global_provider) in [
        (KnownDecisions::Unknown, true),
        (KnownDecisions::UnsampledParentsDropped, true),
        (KnownDecisions::UnsampledParentsDropped, false),
    ] {
        declare(declared);
        let builder = OtelClientLayer::builder().target(endpoint(server.addr).uri());
        let layer = if global_provider {
            builder.build()
        } else {
            builder.tracer_provider(&provider).build()
        };
        let mut client = client(server.addr, layer).await;
        client
            .unary(request("ok"))
            .with_context(unsampled_parent())
            .await
            .expect("ok");
        declare(KnownDecisions::Unknown);
        let started = asked.take();
        let bare = declared != KnownDecisions::Unknown && global_provider;
        if bare {
            assert_eq!(started, [("grpc".to_owned(), 0)], "started bare");
        } else {
            assert_eq!(started.len(), 1, "{started:?}");
            assert_eq!(started[0].0, UNARY);
            assert!(started[0].1 >= 4, "{started:?}");
        }
        let span = ended(&exporter, SpanKind::Client)
            .pop()
            .expect("client span");
        assert_eq!(span.name, UNARY, "{declared:?} {global_provider}");
        assert!(has(&span, "rpc.system.name", "grpc"), "{span:?}");
        assert!(has(&span, "rpc.method", UNARY));
        assert!(has(&span, "rpc.status_code", "OK"));
        assert!(has(&span, "server.address", "127.0.0.1"));
        assert_eq!(
            attr(&span, "server.port"),
            Some(i64::from(server.addr.port()).into())
        );
    }
}
