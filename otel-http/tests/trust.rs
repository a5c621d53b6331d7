//! Trust-boundary policies through real headers.

use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, KeyValue};
use otel_http::propagation::{PropagatorName, composite};
use otel_http::trust::{IncomingPolicy, OutgoingPolicy, parent_sampling_distrusted};

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn request(public_header: bool) -> http::request::Parts {
    let mut b = http::Request::builder()
        .header("traceparent", TP)
        .header("baggage", "user=mallory");
    if public_header {
        b = b.header("x-from-internet", "1");
    }
    b.body(()).expect("request").into_parts().0
}

fn propagator() -> otel_http::propagation::Propagators {
    composite(&[PropagatorName::TraceContext, PropagatorName::Baggage])
}

#[test]
fn default_continues_the_trace_with_baggage() {
    let incoming = IncomingPolicy::new().extract(&propagator(), &request(false));
    let sc = incoming.parent.span().span_context().clone();
    assert_eq!(
        sc.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert!(incoming.link.is_none());
    assert_eq!(
        incoming.parent.baggage().get("user").map(|v| v.as_str()),
        Some("mallory")
    );
    assert!(!parent_sampling_distrusted(&incoming.parent));
}

#[test]
fn public_endpoint_starts_a_new_trace_and_links_the_caller() {
    let incoming = IncomingPolicy::new()
        .public_endpoint()
        .extract(&propagator(), &request(false));
    assert!(!incoming.parent.span().span_context().is_valid());
    let link = incoming.link.expect("link");
    assert_eq!(link.span_id().to_string(), "00f067aa0ba902b7");
    assert!(link.is_remote());
}

#[test]
fn public_endpoint_decided_per_request() {
    let policy =
        IncomingPolicy::new().public_endpoint_if(|req| req.headers.contains_key("x-from-internet"));
    let internal = policy.extract(&propagator(), &request(false));
    assert!(internal.parent.span().span_context().is_valid());
    let external = policy.extract(&propagator(), &request(true));
    assert!(!external.parent.span().span_context().is_valid());
    assert!(external.link.is_some());
}

#[test]
fn sampled_flag_can_be_distrusted_and_baggage_dropped() {
    let incoming = IncomingPolicy::new()
        .distrust_sampled_flag()
        .drop_baggage()
        .extract(&propagator(), &request(false));
    assert!(
        incoming.parent.span().span_context().is_valid(),
        "trace id kept"
    );
    assert!(parent_sampling_distrusted(&incoming.parent));
    assert!(incoming.parent.baggage().is_empty());
}

#[test]
fn outgoing_allow_list_withholds_context_and_baggage() {
    let cx = Context::new()
        .with_remote_span_context(
            IncomingPolicy::new()
                .extract(&propagator(), &request(false))
                .parent
                .span()
                .span_context()
                .clone(),
        )
        .with_baggage([KeyValue::new("tenant", "acme")]);
    let policy = OutgoingPolicy::everywhere()
        .context_only_to(["*.svc.cluster.local", "payments.example.com"])
        .baggage_only_to(["*.svc.cluster.local"]);
    let send = |host: &str| {
        let mut h = http::HeaderMap::new();
        policy.inject(&propagator(), &cx, host, &mut h);
        (h.contains_key("traceparent"), h.contains_key("baggage"))
    };
    assert_eq!(send("orders.svc.cluster.local"), (true, true));
    assert_eq!(
        send("ORDERS.svc.cluster.local."),
        (true, true),
        "case and trailing dot"
    );
    assert_eq!(send("payments.example.com"), (true, false));
    assert_eq!(send("evil.example.com"), (false, false));
    assert_eq!(send("svc.cluster.local.evil.com"), (false, false));
    let mut h = http::HeaderMap::new();
    OutgoingPolicy::everywhere().inject(&propagator(), &cx, "anywhere", &mut h);
    assert!(h.contains_key("traceparent") && h.contains_key("baggage"));
}
