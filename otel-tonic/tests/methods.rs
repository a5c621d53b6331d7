//! Which paths a server names as methods, and when: a method is named at
//! its span's start once a call of it has succeeded (it is served); any
//! path can be sent, so the values of `rpc.method` (on the spans and the
//! duration metric) stay few whatever the callers send, including calls
//! refused before tonic's router could say whether the method exists, and
//! paths sent only to be refused do not keep later methods from being
//! served.

mod common;

use common::*;
use opentelemetry::trace::SpanKind;
use otel_tonic_test_proto::{EchoReply, EchoRequest};
use std::time::Duration;
use tonic::Code;

/// How many method paths a server layer keeps from their first call, before
/// any call of them has succeeded (half of otel-tonic's table of 256).
const KEPT: usize = 128;

/// A unary call of `path` by a bare client; `locked` asks the server's
/// interceptor, which runs before tonic's router, to refuse it.
async fn call(
    grpc: &mut tonic::client::Grpc<tonic::transport::Channel>,
    path: &str,
    locked: bool,
) -> Result<EchoReply, tonic::Status> {
    let mut request = tonic::Request::new(request("ok"));
    if locked {
        request
            .metadata_mut()
            .insert("x-locked", tonic::metadata::MetadataValue::from_static("1"));
    }
    grpc.ready().await.expect("ready");
    grpc.unary::<EchoRequest, EchoReply, _>(
        request,
        http::uri::PathAndQuery::try_from(path).expect("path"),
        tonic_prost::ProstCodec::default(),
    )
    .await
    .map(tonic::Response::into_inner)
}

// A layer between ours and tonic's router (here an interceptor for the
// whole server) refuses calls whatever their path: past the paths the layer
// keeps, such a refused call's method is `_OTHER`, its path kept in
// `rpc.method_original`; a method whose call succeeds is still named.
// (Without the bound, each refused path was a value of its own.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_refused_before_the_router_names_no_method_past_the_kept_ones() {
    let t = Telemetry::new();
    let (addr, incoming, stop, shutdown) = listen().await;
    let lock = tonic::service::InterceptorLayer::new(|request: tonic::Request<()>| {
        match request.metadata().get("x-locked") {
            Some(_) => Err(tonic::Status::unauthenticated("locked")),
            None => Ok(request),
        }
    });
    let router = tonic::transport::Server::builder()
        .layer(t.server_layer().build())
        .layer(lock)
        .add_service(otel_tonic_test_proto::echo_server::EchoServer::new(
            TestEcho,
        ));
    tokio::spawn(router.serve_with_incoming_shutdown(incoming, shutdown));
    let channel = endpoint(addr).connect().await.expect("connect");
    let mut grpc = tonic::client::Grpc::new(channel);

    for i in 0..KEPT {
        let e = call(&mut grpc, &format!("/otel.test.Locked/M{i}"), true)
            .await
            .expect_err("locked");
        assert_eq!(e.code(), Code::Unauthenticated);
    }
    let e = call(&mut grpc, "/otel.test.Locked/Beyond", true)
        .await
        .expect_err("locked");
    assert_eq!(e.code(), Code::Unauthenticated);
    call(&mut grpc, &format!("/{UNARY}"), false)
        .await
        .expect("served");

    let beyond = t.span(SpanKind::Server, "grpc").await;
    assert_eq!(attr_str(&beyond, "rpc.method").as_deref(), Some("_OTHER"));
    assert_eq!(
        attr_str(&beyond, "rpc.method_original").as_deref(),
        Some("otel.test.Locked/Beyond")
    );
    let kept = t.span(SpanKind::Server, "otel.test.Locked/M0").await;
    assert_eq!(
        attr_str(&kept, "rpc.method").as_deref(),
        Some("otel.test.Locked/M0")
    );
    let served = t.span(SpanKind::Server, UNARY).await;
    assert_eq!(attr_str(&served, "rpc.method").as_deref(), Some(UNARY));

    // The metric: the kept methods, `_OTHER` and the served one.
    let points = t
        .durations_of("rpc.server.call.duration", KEPT as u64 + 2)
        .await;
    let methods: std::collections::BTreeSet<String> = points
        .iter()
        .filter_map(|(attributes, _)| kv(attributes, "rpc.method"))
        .collect();
    assert_eq!(methods.len(), KEPT + 2, "{methods:?}");
    assert!(methods.contains("_OTHER"), "{methods:?}");
    assert!(methods.contains(UNARY), "{methods:?}");
    assert!(!methods.contains("otel.test.Locked/Beyond"), "{methods:?}");
    let _ = stop.send(());
}

/// A sampler that keeps the attributes it is asked with.
#[derive(Debug, Clone, Default)]
struct Seen(std::sync::Arc<std::sync::Mutex<Vec<Vec<opentelemetry::KeyValue>>>>);

impl Seen {
    /// A tracer provider whose spans this sampler samples, exported to `t`.
    fn tracer(&self, t: &Telemetry) -> opentelemetry_sdk::trace::SdkTracerProvider {
        opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_sampler(self.clone())
            .with_simple_exporter(t.spans.clone())
            .build()
    }

    /// A server layer on `t` whose spans this sampler samples.
    fn layer(&self, t: &Telemetry) -> otel_tonic::OtelServerLayer {
        t.server_layer().tracer_provider(&self.tracer(t)).build()
    }

    /// The `rpc.method` it was asked with, span after span.
    fn methods(&self) -> Vec<Option<String>> {
        self.0
            .lock()
            .expect("seen")
            .iter()
            .map(|attributes| kv(attributes, "rpc.method"))
            .collect()
    }
}

impl opentelemetry_sdk::trace::ShouldSample for Seen {
    fn should_sample(
        &self,
        _: Option<&opentelemetry::Context>,
        _: opentelemetry::trace::TraceId,
        _: &str,
        _: &SpanKind,
        attributes: &[opentelemetry::KeyValue],
        _: &[opentelemetry::trace::Link],
    ) -> opentelemetry_sdk::trace::SamplingResult {
        self.0.lock().expect("seen").push(attributes.to_vec());
        opentelemetry_sdk::trace::SamplingResult {
            decision: opentelemetry_sdk::trace::SamplingDecision::RecordAndSample,
            attributes: Vec::new(),
            trace_state: Default::default(),
        }
    }
}

// Once a call of a method has succeeded, the server serves it: the sampler
// sees its `rpc.method`, and an UNIMPLEMENTED from its handler leaves it
// recognised (only tonic's router, for a path it has no service for, makes
// a method `_OTHER`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_method_is_named_at_the_start_and_stays_recognised() {
    let t = Telemetry::new();
    let seen = Seen::default();
    let server = serve(seen.layer(&t)).await;
    let mut client = bare_client(server.addr).await;

    client.unary(request("ok")).await.expect("first");
    t.span(SpanKind::Server, UNARY).await;
    t.spans.reset();
    client.unary(request("ok")).await.expect("second");
    t.span(SpanKind::Server, UNARY).await;
    let e = client
        .unary(request("unimplemented"))
        .await
        .expect_err("unimplemented");
    assert_eq!(e.code(), Code::Unimplemented);

    let methods = seen.methods();
    assert_eq!(
        methods,
        [None, Some(UNARY.to_owned()), Some(UNARY.to_owned())],
        "known only once a call has succeeded"
    );
    let mut spans = Vec::new();
    for _ in 0..500 {
        spans = t.finished();
        if spans.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let refused = spans
        .iter()
        .find(|s| attr_str(s, "rpc.status_code").as_deref() == Some("UNIMPLEMENTED"))
        .unwrap_or_else(|| panic!("{:#?}", names(&spans)));
    assert_eq!(refused.name, UNARY);
    assert_eq!(attr_str(refused, "rpc.method").as_deref(), Some(UNARY));
    assert_eq!(attr(refused, "rpc.method_original"), None);
    for span in &spans {
        let methods = span
            .attributes
            .iter()
            .filter(|kv| kv.key.as_str() == "rpc.method")
            .count();
        assert_eq!(methods, 1, "rpc.method once: {:?}", span.attributes);
    }
    let points = t.durations("rpc.server.call.duration");
    assert!(
        points.iter().any(|(a, _)| {
            kv(a, "rpc.method").as_deref() == Some(UNARY)
                && kv(a, "rpc.status_code").as_deref() == Some("UNIMPLEMENTED")
        }),
        "{points:?}"
    );
}

// A method the layer is told the server serves is named from its first
// call, at the span's start, even when that call is answered UNIMPLEMENTED
// (by its handler here; without `served_methods` it would be `_OTHER`).
// Given that list, the layer names no other method before a call of it
// succeeds: a failed first call of another is `_OTHER`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_given_as_served_is_named_from_its_first_call() {
    let t = Telemetry::new();
    let seen = Seen::default();
    let tracer = seen.tracer(&t);
    let layer = t
        .server_layer()
        .tracer_provider(&tracer)
        .served_methods([UNARY])
        .build();
    let server = serve(layer).await;
    let mut client = bare_client(server.addr).await;
    let e = client
        .unary(request("unimplemented"))
        .await
        .expect_err("unimplemented");
    assert_eq!(e.code(), Code::Unimplemented);
    let span = t.span(SpanKind::Server, UNARY).await;
    assert_eq!(attr_str(&span, "rpc.method").as_deref(), Some(UNARY));
    assert_eq!(seen.methods(), [Some(UNARY.to_owned())]);
    let points = t.durations_of("rpc.server.call.duration", 1).await;
    assert_eq!(kv(&points[0].0, "rpc.method").as_deref(), Some(UNARY));

    let e = client
        .server_stream(replies("not_found", 1))
        .await
        .expect_err("not found");
    assert_eq!(e.code(), Code::NotFound);
    let other = t.span(SpanKind::Server, "grpc").await;
    assert_eq!(attr_str(&other, "rpc.method").as_deref(), Some("_OTHER"));
    assert_eq!(
        attr_str(&other, "rpc.method_original").as_deref(),
        Some("otel.test.Echo/ServerStream")
    );
}

// Callers send many paths that look like methods, each refused by tonic's
// router (UNIMPLEMENTED): they fill only the table's places for unproven
// methods, so a method first called after them is still served once a call
// of it succeeds (the sampler sees its `rpc.method` on the next call).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_only_refused_do_not_keep_a_later_method_from_being_served() {
    let t = Telemetry::new();
    let seen = Seen::default();
    let server = serve(seen.layer(&t)).await;
    let channel = endpoint(server.addr).connect().await.expect("connect");
    let mut grpc = tonic::client::Grpc::new(channel);
    for i in 0..300 {
        let e = call(&mut grpc, &format!("/otel.test.Missing/M{i}"), false)
            .await
            .expect_err("unimplemented");
        assert_eq!(e.code(), Code::Unimplemented);
    }
    seen.0.lock().expect("seen").clear();
    for _ in 0..2 {
        call(&mut grpc, &format!("/{UNARY}"), false)
            .await
            .expect("served");
    }
    let methods = seen.methods();
    assert_eq!(
        methods,
        [None, Some(UNARY.to_owned())],
        "served once a call has succeeded"
    );
}
