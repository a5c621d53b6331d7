//! Which paths a server names as methods: any path can be sent, so the
//! values of `rpc.method` (on the spans and the duration metric) must stay
//! few whatever the callers send, including calls refused before tonic's
//! router could say whether the method exists.

mod common;

use common::*;
use opentelemetry::trace::SpanKind;
use otel_tonic_test_proto::{EchoReply, EchoRequest};
use tonic::Code;

/// How many method paths a server layer keeps (otel-tonic's table).
const KEPT: usize = 256;

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
