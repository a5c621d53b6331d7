//! End to end through the real rotel collector: a tonic client and a tonic
//! server, each behind otel-tonic's layer and on its own otel-init pipeline
//! (one exporting OTLP/gRPC, the other OTLP/HTTP), export through rotel to
//! an in-process receiver: the two spans form one trace, and both duration
//! metrics arrive with their attributes.

mod common;

use common::*;
use otel_testing::{ThroughRotel, attr, hex};
use std::time::Duration;

fn pipeline(service: &str, endpoint: &str, protocol: &str) -> otel_init::TelemetryGuard {
    otel_init::Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", service),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_LOGS_EXPORTER", "none"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "200"),
    ])
    .without_globals()
    .build()
    .expect("init")
}

#[test]
fn a_grpc_call_arrives_as_one_trace_through_rotel() {
    let Some(chain) = ThroughRotel::start(2) else {
        return;
    };
    let (rt, receiver, rotel) = (chain.receiver.runtime(), &chain.receiver, &chain.rotel);
    let caller = pipeline("caller", &rotel.grpc_endpoint(), "grpc");
    let callee = pipeline("callee", &rotel.http_endpoint(), "http/protobuf");
    rt.block_on(async {
        let server_layer = otel_tonic::OtelServerLayer::builder()
            .tracer_provider(callee.tracer_provider().expect("tracer"))
            .meter_provider(callee.exemplar_meter_provider().expect("meter"))
            .propagator(w3c())
            .build();
        let server = serve(server_layer).await;
        let client_layer = otel_tonic::OtelClientLayer::builder()
            .tracer_provider(caller.tracer_provider().expect("tracer"))
            .meter_provider(caller.exemplar_meter_provider().expect("meter"))
            .propagator(w3c())
            .target(endpoint(server.addr).uri())
            .build();
        let mut client = client(server.addr, client_layer).await;
        client.unary(request("ok")).await.expect("ok");
        let e = client
            .unary(request("internal"))
            .await
            .expect_err("internal");
        assert_eq!(e.code(), tonic::Code::Internal);
    });
    assert!(caller.shutdown().is_clean());
    assert!(callee.shutdown().is_clean());
    let arrived = receiver.wait_for(Duration::from_secs(20), |r| {
        r.spans().len() >= 4
            && ["rpc.client.call.duration", "rpc.server.call.duration"]
                .iter()
                .all(|m| r.metric_names().iter().any(|n| n == m))
    });
    assert!(arrived, "rotel log:\n{}", rotel.log());

    let spans = receiver.spans_with_resource();
    let service = |r: &[otel_testing::opentelemetry_proto::tonic::common::v1::KeyValue]| {
        attr(r, "service.name").unwrap_or_default()
    };
    let ok = |kind: i32, svc: &str| {
        spans
            .iter()
            .find(|(r, _, s)| {
                service(r) == svc
                    && s.kind == kind
                    && attr(&s.attributes, "rpc.status_code").as_deref() == Some("OK")
            })
            .unwrap_or_else(|| panic!("no OK span of kind {kind} from {svc}"))
    };
    let (_, client_scope, client_span) = ok(3, "caller");
    let (_, server_scope, server_span) = ok(2, "callee");
    assert_eq!(
        (client_scope.as_str(), server_scope.as_str()),
        ("otel-tonic", "otel-tonic")
    );
    assert_eq!(client_span.name, UNARY);
    assert_eq!(server_span.name, UNARY);
    assert_eq!(server_span.trace_id, client_span.trace_id);
    assert_eq!(server_span.parent_span_id, client_span.span_id);
    assert_eq!(
        attr(&client_span.attributes, "rpc.system.name").as_deref(),
        Some("grpc")
    );
    let failed = spans
        .iter()
        .find(|(_, _, s)| {
            s.kind == 2 && attr(&s.attributes, "error.type").as_deref() == Some("INTERNAL")
        })
        .expect("the INTERNAL server span");
    assert_eq!(failed.2.status.as_ref().map(|s| s.code), Some(2), "ERROR");

    let metrics = receiver.metrics_with_resource();
    for name in ["rpc.client.call.duration", "rpc.server.call.duration"] {
        let (_, scope, metric) = metrics
            .iter()
            .find(|(_, _, m)| m.name == name)
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(scope, "otel-tonic");
        assert_eq!(metric.unit, "s");
    }
    // Exemplars (otel-init's meter provider keeps them): each call's duration
    // names the call's own span, on both ends.
    for (name, spans_of_end) in [
        ("rpc.server.call.duration", 2),
        ("rpc.client.call.duration", 3),
    ] {
        let exemplars = otel_testing::histogram_exemplars(receiver, name);
        assert!(!exemplars.is_empty(), "{name} has exemplars");
        for e in &exemplars {
            let span = spans
                .iter()
                .map(|(_, _, s)| s)
                .find(|s| s.kind == spans_of_end && hex(&s.span_id) == e.span_id)
                .unwrap_or_else(|| panic!("{name}: exemplar {e:?} names no span of its end"));
            assert_eq!(hex(&span.trace_id), e.trace_id);
        }
    }
    for req in receiver.requests() {
        assert!(
            req.header("user-agent")
                .is_some_and(|ua| ua.starts_with("Rotel")),
            "everything came through rotel: {:?}",
            req.headers
        );
    }
}
