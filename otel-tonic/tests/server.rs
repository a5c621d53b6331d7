//! The server layer on a real tonic server over loopback, called by a bare
//! tonic client: spans, status codes, streaming, deadlines, cancellation,
//! panics, incoming contexts and the server metric.

mod common;

use common::*;
use opentelemetry::trace::{SpanKind, Status as SpanStatus};
use otel_tonic::IncomingPolicy;
use std::time::Duration;
use tonic::Code;
use tonic::metadata::MetadataValue;

/// The span of a call whose handler (or its stream) panicked with `message`.
fn assert_a_panic(span: &opentelemetry_sdk::trace::SpanData, message: &str) {
    assert_eq!(
        attr_str(span, "rpc.status_code").as_deref(),
        Some("UNKNOWN")
    );
    assert_eq!(attr_str(span, "error.type").as_deref(), Some("panic"));
    assert_eq!(
        span.status,
        SpanStatus::error(format!("handler panicked: {message}"))
    );
}

fn with_traceparent(message: &str, traceparent: &str) -> tonic::Request<EchoRequest> {
    let mut r = tonic::Request::new(request(message));
    r.metadata_mut().insert(
        "traceparent",
        MetadataValue::try_from(traceparent).expect("value"),
    );
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unary_ok_is_a_server_span_named_by_the_full_method() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = bare_client(server.addr).await;
    let reply = client.unary(request("ok")).await.expect("ok").into_inner();

    let span = t.span(SpanKind::Server, UNARY).await;
    assert_eq!(attr_str(&span, "rpc.system.name").as_deref(), Some("grpc"));
    assert_eq!(attr_str(&span, "rpc.method").as_deref(), Some(UNARY));
    assert_eq!(attr_str(&span, "rpc.status_code").as_deref(), Some("OK"));
    assert_eq!(
        attr_str(&span, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        attr(&span, "server.port"),
        Some(i64::from(server.addr.port()).into())
    );
    assert_eq!(
        attr_str(&span, "network.peer.address").as_deref(),
        Some("127.0.0.1")
    );
    assert!(attr(&span, "network.peer.port").is_some());
    assert_eq!(attr(&span, "error.type"), None);
    assert_eq!(span.status, SpanStatus::Unset);
    assert_eq!(span.instrumentation_scope.schema_url(), Some(SCHEMA_URL));
    // The handler ran inside the span's context.
    assert_eq!(reply.trace_id, span.span_context.trace_id().to_string());
    assert!(!span.parent_span_is_remote);

    let points = t.durations("rpc.server.call.duration");
    assert_eq!(points.len(), 1, "{points:?}");
    let (attrs, count) = &points[0];
    assert_eq!(*count, 1);
    assert_eq!(kv(attrs, "rpc.system.name").as_deref(), Some("grpc"));
    assert_eq!(kv(attrs, "rpc.method").as_deref(), Some(UNARY));
    assert_eq!(kv(attrs, "rpc.status_code").as_deref(), Some("OK"));
    assert_eq!(
        kv(attrs, "server.address"),
        None,
        "the authority is the caller's choice"
    );
    // Nothing per peer or per call: the metric's cardinality stays bounded.
    assert_eq!(
        keys(attrs),
        ["rpc.method", "rpc.status_code", "rpc.system.name"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_errors_follow_the_server_side_table() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = bare_client(server.addr).await;

    let e = client
        .unary(request("not_found"))
        .await
        .expect_err("not found");
    assert_eq!(e.code(), Code::NotFound);
    let span = t.span(SpanKind::Server, UNARY).await;
    assert_eq!(
        attr_str(&span, "rpc.status_code").as_deref(),
        Some("NOT_FOUND")
    );
    assert_eq!(
        span.status,
        SpanStatus::Unset,
        "NOT_FOUND is the caller's error"
    );
    assert_eq!(attr(&span, "error.type"), None);
    t.spans.reset();

    let e = client
        .unary(request("internal"))
        .await
        .expect_err("internal");
    assert_eq!(e.code(), Code::Internal);
    let span = t.span(SpanKind::Server, UNARY).await;
    assert_eq!(
        attr_str(&span, "rpc.status_code").as_deref(),
        Some("INTERNAL")
    );
    assert_eq!(attr_str(&span, "error.type").as_deref(), Some("INTERNAL"));
    assert_eq!(span.status, SpanStatus::error("database down"));

    let points = t.durations("rpc.server.call.duration");
    let codes: Vec<_> = points
        .iter()
        .map(|(a, _)| (kv(a, "rpc.status_code"), kv(a, "error.type")))
        .collect();
    assert!(
        codes.contains(&(Some("NOT_FOUND".into()), None)),
        "{codes:?}"
    );
    assert!(
        codes.contains(&(Some("INTERNAL".into()), Some("INTERNAL".into()))),
        "{codes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_stream_span_ends_with_the_stream() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = bare_client(server.addr).await;
    let name = "otel.test.Echo/ServerStream";

    let mut stream = open_stream(&mut client, "slow", 5).await;
    let first = stream.message().await.expect("first").expect("a reply");
    assert!(
        t.finished().is_empty(),
        "the span is still open while the stream runs"
    );
    let mut n = 1;
    while stream.message().await.expect("message").is_some() {
        n += 1;
    }
    assert_eq!(n, 5);
    let span = t.span(SpanKind::Server, name).await;
    assert_eq!(attr_str(&span, "rpc.status_code").as_deref(), Some("OK"));
    assert!(
        span.end_time
            .duration_since(span.start_time)
            .expect("order")
            >= Duration::from_millis(80)
    );
    // The stream was polled in the span's context.
    assert_eq!(first.trace_id, span.span_context.trace_id().to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_fails_midway_records_the_trailer_status() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = bare_client(server.addr).await;
    let mut stream = open_stream(&mut client, "fail", 2).await;
    assert!(stream.message().await.expect("0").is_some());
    assert!(stream.message().await.expect("1").is_some());
    let e = stream.message().await.expect_err("the stream broke");
    assert_eq!(e.code(), Code::Unavailable);
    let span = t
        .span(SpanKind::Server, "otel.test.Echo/ServerStream")
        .await;
    assert_eq!(
        attr_str(&span, "rpc.status_code").as_deref(),
        Some("UNAVAILABLE")
    );
    assert_eq!(span.status, SpanStatus::error("the stream broke"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_streaming_and_bidirectional_calls() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = bare_client(server.addr).await;

    let requests = futures_util::stream::iter((0..3).map(|_| request("ok")));
    let reply = client
        .client_stream(requests)
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(reply.message, "3");
    let span = t
        .span(SpanKind::Server, "otel.test.Echo/ClientStream")
        .await;
    assert_eq!(attr_str(&span, "rpc.status_code").as_deref(), Some("OK"));
    assert_eq!(reply.trace_id, span.span_context.trace_id().to_string());

    let requests = futures_util::stream::iter(["a", "b"].map(request));
    let mut replies = client.bidi(requests).await.expect("ok").into_inner();
    let mut got = Vec::new();
    while let Some(r) = replies.message().await.expect("reply") {
        got.push(r.message);
    }
    assert_eq!(got, ["a", "b"]);
    let span = t.span(SpanKind::Server, "otel.test.Echo/Bidi").await;
    assert_eq!(attr_str(&span, "rpc.status_code").as_deref(), Some("OK"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_deadline_is_deadline_exceeded() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = bare_client(server.addr).await;
    let mut r = tonic::Request::new(request("sleep:2000"));
    r.set_timeout(Duration::from_millis(100));
    let e = client.unary(r).await.expect_err("deadline");
    // tonic's server answers an expired deadline with CANCELLED.
    assert_eq!(e.code(), Code::Cancelled);
    let span = t.span(SpanKind::Server, UNARY).await;
    assert_eq!(
        attr_str(&span, "rpc.status_code").as_deref(),
        Some("DEADLINE_EXCEEDED")
    );
    assert_eq!(
        attr_str(&span, "error.type").as_deref(),
        Some("DEADLINE_EXCEEDED")
    );
    assert!(matches!(span.status, SpanStatus::Error { .. }));
    assert_eq!(attr(&span, "grpc.timeout"), Some(0.1.into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_the_client_cancels_is_cancelled() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = bare_client(server.addr).await;
    let call = client.unary(request("sleep:3000"));
    assert!(
        tokio::time::timeout(Duration::from_millis(200), call)
            .await
            .is_err(),
        "the client gave up"
    );
    let span = t.span(SpanKind::Server, UNARY).await;
    assert_eq!(
        attr_str(&span, "rpc.status_code").as_deref(),
        Some("CANCELLED")
    );
    assert_eq!(
        span.status,
        SpanStatus::Unset,
        "CANCELLED is not a server error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_recorded_and_answered_unknown() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = bare_client(server.addr).await;
    let e = client.unary(request("panic")).await.expect_err("panic");
    assert_eq!(e.code(), Code::Unknown);
    assert_eq!(e.message(), "handler panicked");
    let span = t.span(SpanKind::Server, UNARY).await;
    assert_a_panic(&span, "the handler broke");
    // The connection and the server survive.
    client.unary(request("ok")).await.expect("still serving");
}

// A streaming handler's stream runs in the response body: its panic is the
// handler's, recorded so and answered UNKNOWN after the replies sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_response_stream_is_recorded_and_answered_unknown() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = bare_client(server.addr).await;
    let mut stream = open_stream(&mut client, "stream_panic", 2).await;
    for _ in 0..2 {
        stream.message().await.expect("reply").expect("a reply");
    }
    let e = stream.message().await.expect_err("the panic");
    assert_eq!(e.code(), Code::Unknown);
    assert_eq!(e.message(), "handler panicked");
    let span = t
        .span(SpanKind::Server, "otel.test.Echo/ServerStream")
        .await;
    assert_a_panic(&span, "the stream broke");
    let points = t.durations_of("rpc.server.call.duration", 1).await;
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(kv(&points[0].0, "error.type").as_deref(), Some("panic"));
    assert_eq!(points[0].1, 1, "counted once");
    // The connection and the server survive.
    client.unary(request("ok")).await.expect("still serving");
}

// Not caught, a panic still ends the span as the handler's panic (not as a
// cancelled call), and unwinds on: the server's task ends, the server lives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_not_caught_is_recorded_and_unwinds() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().catch_panics(false).build()).await;
    let mut client = bare_client(server.addr).await;
    client.unary(request("panic")).await.expect_err("panic");
    let span = t.span(SpanKind::Server, UNARY).await;
    assert_a_panic(&span, "the handler broke");
    let mut stream = open_stream(&mut client, "stream_panic", 1).await;
    stream.message().await.expect("reply").expect("a reply");
    let e = stream.message().await.expect_err("the panic");
    assert_ne!(e.message(), "handler panicked", "not answered by the layer");
    let span = t
        .span(SpanKind::Server, "otel.test.Echo/ServerStream")
        .await;
    assert_eq!(attr_str(&span, "error.type").as_deref(), Some("panic"));
    // Each call counted once, as a panic.
    let points = t.durations_of("rpc.server.call.duration", 2).await;
    let panics = points
        .iter()
        .map(|(attrs, count)| (kv(attrs, "rpc.method"), kv(attrs, "error.type"), *count))
        .collect::<Vec<_>>();
    assert_eq!(panics.len(), 2, "{panics:?}");
    for method in [UNARY, "otel.test.Echo/ServerStream"] {
        assert!(
            panics.contains(&(Some(method.to_owned()), Some("panic".to_owned()), 1)),
            "{panics:?}"
        );
    }
    client.unary(request("ok")).await.expect("still serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_method_is_other_with_its_original_name() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let channel = endpoint(server.addr).connect().await.expect("connect");
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let e = grpc
        .unary::<EchoRequest, EchoReply, _>(
            tonic::Request::new(request("ok")),
            http::uri::PathAndQuery::from_static("/otel.test.Missing/Call"),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .expect_err("unimplemented");
    assert_eq!(e.code(), Code::Unimplemented);
    let span = t.span(SpanKind::Server, "grpc").await;
    assert_eq!(attr_str(&span, "rpc.method").as_deref(), Some("_OTHER"));
    assert_eq!(
        attr_str(&span, "rpc.method_original").as_deref(),
        Some("otel.test.Missing/Call")
    );
    let points = t.durations("rpc.server.call.duration");
    assert_eq!(kv(&points[0].0, "rpc.method").as_deref(), Some("_OTHER"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_raised_before_the_handler_is_recorded() {
    // An interceptor rejects the call: a trailers-only response.
    let t = Telemetry::new();
    let (addr, stop) = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let svc = otel_tonic_test_proto::echo_server::EchoServer::with_interceptor(
            TestEcho,
            |_req: tonic::Request<()>| Err(Status::unauthenticated("who are you")),
        );
        let router = tonic::transport::Server::builder()
            .layer(t.server_layer().build())
            .add_service(svc);
        tokio::spawn(router.serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            async move {
                let _ = stopped.await;
            },
        ));
        (addr, stop)
    };
    let mut client = bare_client(addr).await;
    let e = client.unary(request("ok")).await.expect_err("rejected");
    assert_eq!(e.code(), Code::Unauthenticated);
    let span = t.span(SpanKind::Server, UNARY).await;
    assert_eq!(
        attr_str(&span, "rpc.status_code").as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(span.status, SpanStatus::Unset);
    let _ = stop.send(());
}

use tonic::Status;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incoming_contexts_valid_invalid_absent_and_unsampled() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = bare_client(server.addr).await;

    // Valid: continued.
    let reply = client
        .unary(with_traceparent("ok", TP_SAMPLED))
        .await
        .expect("ok")
        .into_inner();
    let span = t.span(SpanKind::Server, UNARY).await;
    assert_eq!(span.span_context.trace_id().to_string(), TRACE);
    assert_eq!(span.parent_span_id.to_string(), PARENT);
    assert!(span.parent_span_is_remote);
    assert_eq!(reply.trace_id, TRACE);
    t.spans.reset();

    // Invalid (version ff): a new trace.
    client
        .unary(with_traceparent(
            "ok",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ))
        .await
        .expect("ok");
    let span = t.span(SpanKind::Server, UNARY).await;
    assert_ne!(span.span_context.trace_id().to_string(), TRACE);
    assert!(!span.parent_span_is_remote);
    t.spans.reset();

    // Absent: a new trace (covered by the first test), and unsampled: the
    // parent-based sampler records nothing, but the handler is still in the
    // caller's trace.
    let reply = client
        .unary(with_traceparent("ok", TP_UNSAMPLED))
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(reply.trace_id, TRACE);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(t.finished().is_empty(), "{:?}", names(&t.finished()));
    let points = t.durations("rpc.server.call.duration");
    assert_eq!(
        points.iter().map(|p| p.1).sum::<u64>(),
        3,
        "every call is measured"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_endpoint_links_the_callers_context() {
    let t = Telemetry::new();
    let layer = t
        .server_layer()
        .incoming_policy(IncomingPolicy::new().public_endpoint())
        .build();
    let server = serve(layer).await;
    let mut client = bare_client(server.addr).await;
    client
        .unary(with_traceparent("ok", TP_SAMPLED))
        .await
        .expect("ok");
    let span = t.span(SpanKind::Server, UNARY).await;
    assert_ne!(span.span_context.trace_id().to_string(), TRACE);
    assert_eq!(
        span.links.links[0].span_context.trace_id().to_string(),
        TRACE
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_methods_are_neither_traced_nor_measured() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().skip_methods([UNARY]).build()).await;
    let mut client = bare_client(server.addr).await;
    let reply = client.unary(request("ok")).await.expect("ok").into_inner();
    assert_eq!(reply.trace_id, "");
    client
        .client_stream(futures_util::stream::iter([request("ok")]))
        .await
        .expect("ok");
    t.span(SpanKind::Server, "otel.test.Echo/ClientStream")
        .await;
    assert_eq!(names(&t.finished()).len(), 1);
}

// The timestamps of a span with a sampled parent are those of the call's own
// monotonic readings (otel_http::clock): it lasts exactly the duration its
// metric records. One thread here, so that both ends share the thread's
// clock anchor.
#[tokio::test(flavor = "current_thread")]
async fn spans_last_exactly_the_recorded_duration() {
    use opentelemetry::context::FutureExt as _;
    use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId};
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = client(server.addr, t.client_layer().build()).await;
    let parent = opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(7u128),
        SpanId::from(9u64),
        TraceFlags::SAMPLED,
        true,
        Default::default(),
    ));
    client
        .unary(request("sleep:20"))
        .with_context(parent)
        .await
        .expect("reply");
    for (kind, metric) in [
        (SpanKind::Server, "rpc.server.call.duration"),
        (SpanKind::Client, "rpc.client.call.duration"),
    ] {
        let span = t.span(kind.clone(), UNARY).await;
        let lasted = span
            .end_time
            .duration_since(span.start_time)
            .expect("ends after it starts");
        assert!(lasted >= Duration::from_millis(20), "{lasted:?}");
        assert_eq!(lasted.as_secs_f64(), t.duration_sum(metric), "{kind:?}");
    }
}

/// A response stream that panics when polled, and again when dropped.
struct Exploding;

impl http_body::Body for Exploding {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        panic!("the stream exploded");
    }
}

impl Drop for Exploding {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("and its drop too");
        }
    }
}

// A stream whose drop panics as well: the layer still answers UNKNOWN and
// records the first panic, once.
#[tokio::test(flavor = "current_thread")]
async fn a_stream_whose_drop_panics_too_is_still_answered() {
    use http_body_util::BodyExt as _;
    use tower::{Layer as _, ServiceExt as _};
    let t = Telemetry::new();
    let exploding = tower::service_fn(|_req: http::Request<()>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(Exploding))
    });
    let svc = t.server_layer().build().layer(exploding);
    let request = http::Request::post("/otel.test.Echo/ServerStream")
        .body(())
        .expect("request");
    let mut body = svc.oneshot(request).await.expect("response").into_body();
    let frame = body.frame().await.expect("a frame").expect("trailers");
    let trailers = frame.into_trailers().expect("trailers");
    assert_eq!(trailers["grpc-status"], "2");
    assert!(body.frame().await.is_none(), "nothing after the trailers");
    let span = t
        .span(SpanKind::Server, "otel.test.Echo/ServerStream")
        .await;
    assert_a_panic(&span, "the stream exploded");
    let points = t.durations_of("rpc.server.call.duration", 1).await;
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].1, 1, "counted once");
}
