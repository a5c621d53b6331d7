//! The client layer on a tonic channel over loopback, calling a traced tonic
//! server: CLIENT spans, context injection and its host allow-list,
//! deadlines, cancellation, client-side status mapping, the client metric.

mod common;

use common::*;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status as SpanStatus, TraceContextExt as _, TraceFlags, TraceId,
    TraceState,
};
use otel_tonic::OutgoingPolicy;
use std::convert::Infallible;
use std::time::Duration;
use tonic::Code;
use tower::{Layer as _, ServiceExt as _};

/// A sampled caller context, as a handler's own span would give.
fn caller() -> opentelemetry::Context {
    opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from_hex(TRACE).expect("trace id"),
        SpanId::from_hex(PARENT).expect("span id"),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_and_server_spans_join_in_one_trace() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let layer = t.client_layer().target(endpoint(server.addr).uri()).build();
    let mut client = client(server.addr, layer).await;
    let reply = client
        .unary(request("ok"))
        .with_context(caller())
        .await
        .expect("ok")
        .into_inner();

    let client_span = t.span(SpanKind::Client, UNARY).await;
    let server_span = t.span(SpanKind::Server, UNARY).await;
    assert_eq!(client_span.span_context.trace_id().to_string(), TRACE);
    assert_eq!(client_span.parent_span_id.to_string(), PARENT);
    assert_eq!(server_span.span_context.trace_id().to_string(), TRACE);
    assert_eq!(
        server_span.parent_span_id,
        client_span.span_context.span_id()
    );
    assert_eq!(reply.trace_id, TRACE);
    assert_eq!(
        attr_str(&client_span, "rpc.system.name").as_deref(),
        Some("grpc")
    );
    assert_eq!(attr_str(&client_span, "rpc.method").as_deref(), Some(UNARY));
    assert_eq!(
        attr_str(&client_span, "rpc.status_code").as_deref(),
        Some("OK")
    );
    assert_eq!(
        attr_str(&client_span, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        attr(&client_span, "server.port"),
        Some(i64::from(server.addr.port()).into())
    );
    assert_eq!(client_span.status, SpanStatus::Unset);

    let points = t.durations("rpc.client.call.duration");
    assert_eq!(points.len(), 1, "{points:?}");
    let (attrs, count) = &points[0];
    assert_eq!(*count, 1);
    assert_eq!(kv(attrs, "rpc.method").as_deref(), Some(UNARY));
    assert_eq!(kv(attrs, "rpc.status_code").as_deref(), Some("OK"));
    assert_eq!(kv(attrs, "server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(
        kv(attrs, "server.port"),
        Some(server.addr.port().to_string())
    );
    // The target and nothing per call: the metric's cardinality stays bounded.
    assert_eq!(
        keys(attrs),
        [
            "rpc.method",
            "rpc.status_code",
            "rpc.system.name",
            "server.address",
            "server.port"
        ]
    );
    assert_eq!(
        client_span.instrumentation_scope.schema_url(),
        Some(SCHEMA_URL)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_code_but_ok_is_a_client_error() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = client(server.addr, t.client_layer().build()).await;
    let e = client
        .unary(request("not_found"))
        .await
        .expect_err("not found");
    assert_eq!(e.code(), Code::NotFound);
    let span = t.span(SpanKind::Client, UNARY).await;
    assert_eq!(
        attr_str(&span, "rpc.status_code").as_deref(),
        Some("NOT_FOUND")
    );
    assert_eq!(attr_str(&span, "error.type").as_deref(), Some("NOT_FOUND"));
    assert_eq!(span.status, SpanStatus::error("no such order"));
    // ... while the server's span of the same call is not an error.
    let server_span = t.span(SpanKind::Server, UNARY).await;
    assert_eq!(server_span.status, SpanStatus::Unset);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_is_recorded_and_its_expiry_is_deadline_exceeded() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = client(server.addr, t.client_layer().build()).await;
    let mut r = tonic::Request::new(request("sleep:2000"));
    r.set_timeout(Duration::from_millis(100));
    client.unary(r).await.expect_err("deadline");
    let span = t.span(SpanKind::Client, UNARY).await;
    assert_eq!(attr(&span, "grpc.timeout"), Some(0.1.into()));
    assert_eq!(
        attr_str(&span, "rpc.status_code").as_deref(),
        Some("DEADLINE_EXCEEDED")
    );
    assert_eq!(
        attr_str(&span, "error.type").as_deref(),
        Some("DEADLINE_EXCEEDED")
    );
    assert!(matches!(span.status, SpanStatus::Error { .. }));
}

/// A server that answers an expired deadline with `CANCELLED` (as tonic's
/// does) after the client's deadline: `DEADLINE_EXCEEDED` on the client span.
#[tokio::test(flavor = "current_thread")]
async fn cancelled_after_the_deadline_is_deadline_exceeded() {
    let t = Telemetry::new();
    let late = tower::service_fn(|_req: http::Request<()>| async {
        tokio::time::sleep(Duration::from_millis(60)).await;
        let mut response = http::Response::new(http_body_util::Empty::<bytes::Bytes>::new());
        response
            .headers_mut()
            .insert("grpc-status", http::HeaderValue::from_static("1"));
        Ok::<_, Infallible>(response)
    });
    let svc = t.client_layer().build().layer(late);
    let request = http::Request::post("/otel.test.Echo/Unary")
        .header("grpc-timeout", "20m")
        .body(())
        .expect("request");
    drop(svc.oneshot(request).await.expect("response"));
    let span = t.span(SpanKind::Client, UNARY).await;
    assert_eq!(
        attr_str(&span, "rpc.status_code").as_deref(),
        Some("DEADLINE_EXCEEDED")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_given_up_is_cancelled_on_both_sides() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = client(server.addr, t.client_layer().build()).await;
    let call = client.unary(request("sleep:3000"));
    assert!(
        tokio::time::timeout(Duration::from_millis(200), call)
            .await
            .is_err()
    );
    let span = t.span(SpanKind::Client, UNARY).await;
    assert_eq!(
        attr_str(&span, "rpc.status_code").as_deref(),
        Some("CANCELLED")
    );
    assert!(matches!(span.status, SpanStatus::Error { .. }));
    let server_span = t.span(SpanKind::Server, UNARY).await;
    assert_eq!(
        attr_str(&server_span, "rpc.status_code").as_deref(),
        Some("CANCELLED")
    );
}

// A response stream the client drops midway: both spans end then, as
// CANCELLED (the caller's: an error on the client only), each counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_dropped_midway_is_cancelled_on_both_sides() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = client(server.addr, t.client_layer().build()).await;
    let mut stream = client
        .server_stream(replies("slow", 50))
        .await
        .expect("stream")
        .into_inner();
    stream.message().await.expect("reply").expect("a reply");
    drop(stream);
    let method = "otel.test.Echo/ServerStream";
    let span = t.span(SpanKind::Client, method).await;
    assert_eq!(
        attr_str(&span, "rpc.status_code").as_deref(),
        Some("CANCELLED")
    );
    assert!(matches!(span.status, SpanStatus::Error { .. }));
    let server_span = t.span(SpanKind::Server, method).await;
    assert_eq!(
        attr_str(&server_span, "rpc.status_code").as_deref(),
        Some("CANCELLED")
    );
    assert_eq!(server_span.status, SpanStatus::Unset);
    for metric in ["rpc.client.call.duration", "rpc.server.call.duration"] {
        let counted = t
            .durations_of(metric, 1)
            .await
            .into_iter()
            .map(|(attrs, count)| (kv(&attrs, "rpc.status_code"), count))
            .collect::<Vec<_>>();
        assert_eq!(counted, [(Some("CANCELLED".to_owned()), 1)], "{metric}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_unavailable() {
    let t = Telemetry::new();
    // A port nothing listens on: bind, note it, close.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let channel = endpoint(addr).connect_lazy();
    let svc = tower::ServiceBuilder::new()
        .layer(t.client_layer().build())
        .service(channel);
    let mut client = EchoClient::new(svc);
    let e = client.unary(request("ok")).await.expect_err("refused");
    assert_eq!(e.code(), Code::Unavailable);
    let span = t.span(SpanKind::Client, UNARY).await;
    assert_eq!(
        attr_str(&span, "rpc.status_code").as_deref(),
        Some("UNAVAILABLE")
    );
    assert_eq!(attr_str(&span, "error.type").as_deref(), Some("transport"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_context_goes_only_to_allowed_hosts() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let target = endpoint(server.addr);

    let outside = t
        .client_layer()
        .target(target.uri())
        .outgoing_policy(OutgoingPolicy::everywhere().context_only_to(["*.internal"]))
        .build();
    let mut client_outside = client(server.addr, outside).await;
    let reply = client_outside
        .unary(request("ok"))
        .with_context(caller())
        .await
        .expect("ok")
        .into_inner();
    assert_ne!(reply.trace_id, TRACE, "127.0.0.1 is outside the allow-list");
    t.spans.reset();

    let inside = t
        .client_layer()
        .target(target.uri())
        .outgoing_policy(OutgoingPolicy::everywhere().context_only_to(["127.0.0.1"]))
        .build();
    let mut client_inside = client(server.addr, inside).await;
    let reply = client_inside
        .unary(request("ok"))
        .with_context(caller())
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(reply.trace_id, TRACE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_call_ends_with_its_stream() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let mut client = client(server.addr, t.client_layer().build()).await;
    let mut stream = client
        .server_stream(replies("slow", 3))
        .await
        .expect("stream")
        .into_inner();
    stream.message().await.expect("first").expect("a reply");
    assert!(
        !t.finished().iter().any(|s| s.span_kind == SpanKind::Client),
        "the client span is open while the stream runs"
    );
    while stream.message().await.expect("reply").is_some() {}
    let span = t
        .span(SpanKind::Client, "otel.test.Echo/ServerStream")
        .await;
    assert_eq!(attr_str(&span, "rpc.status_code").as_deref(), Some("OK"));

    // The other kinds, through the client layer too: each a CLIENT span
    // with its status, parent of the server's span, and counted.
    let requests = futures_util::stream::iter((0..2).map(|_| request("ok")));
    client.client_stream(requests).await.expect("ok");
    let requests = futures_util::stream::iter(["a"].map(request));
    let mut replies = client.bidi(requests).await.expect("ok").into_inner();
    while replies.message().await.expect("reply").is_some() {}
    // The calls have ended: their streams were read to the end.
    let points = t.durations("rpc.client.call.duration");
    for method in ["otel.test.Echo/ClientStream", "otel.test.Echo/Bidi"] {
        let client_span = t.span(SpanKind::Client, method).await;
        let server_span = t.span(SpanKind::Server, method).await;
        assert_eq!(
            attr_str(&client_span, "rpc.method").as_deref(),
            Some(method)
        );
        assert_eq!(
            attr_str(&client_span, "rpc.status_code").as_deref(),
            Some("OK"),
            "{method}"
        );
        assert_eq!(client_span.status, SpanStatus::Unset, "{method}");
        assert_eq!(
            server_span.parent_span_id,
            client_span.span_context.span_id(),
            "{method}"
        );
        let counted = points
            .iter()
            .filter(|(attrs, _)| kv(attrs, "rpc.method").as_deref() == Some(method))
            .map(|(attrs, count)| (kv(attrs, "rpc.status_code"), *count))
            .collect::<Vec<_>>();
        assert_eq!(counted, [(Some("OK".to_owned()), 1)], "{method}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_http_error_without_grpc_status_maps_like_tonic() {
    let t = Telemetry::new();
    let not_found = tower::service_fn(|_req: http::Request<()>| async {
        let mut response = http::Response::new(http_body_util::Empty::<bytes::Bytes>::new());
        *response.status_mut() = http::StatusCode::NOT_FOUND;
        Ok::<_, Infallible>(response)
    });
    let svc = t.client_layer().build().layer(not_found);
    let request = http::Request::post("/otel.test.Echo/Unary")
        .body(())
        .expect("request");
    drop(svc.oneshot(request).await.expect("response"));
    let span = t.span(SpanKind::Client, UNARY).await;
    assert_eq!(
        attr_str(&span, "rpc.status_code").as_deref(),
        Some("UNIMPLEMENTED")
    );
}

// A response stream that fails (a connection lost midway, say) ends the
// span as UNKNOWN with error.type response_stream, on either end.
#[tokio::test(flavor = "current_thread")]
async fn a_response_stream_that_fails_is_unknown_on_both_ends() {
    use http_body_util::BodyExt as _;
    let t = Telemetry::new();
    let broken = tower::service_fn(|_req: http::Request<()>| async {
        let frames = futures_util::stream::iter([
            Ok(http_body::Frame::data(bytes::Bytes::from_static(
                b"\0\0\0\0\0",
            ))),
            Err(std::io::Error::other("connection lost")),
        ]);
        Ok::<_, Infallible>(http::Response::new(http_body_util::StreamBody::new(frames)))
    });
    let client = t.client_layer().build().layer(broken);
    let server = t.server_layer().build().layer(broken);
    for (kind, svc) in [
        (SpanKind::Client, client.boxed_clone()),
        (SpanKind::Server, server.boxed_clone()),
    ] {
        let request = http::Request::post("/otel.test.Echo/Unary")
            .body(())
            .expect("request");
        let mut body = svc.oneshot(request).await.expect("response").into_body();
        assert!(body.frame().await.expect("a frame").is_ok(), "{kind:?}");
        assert!(body.frame().await.expect("a frame").is_err(), "{kind:?}");
        let span = t.span(kind.clone(), UNARY).await;
        assert_eq!(
            attr_str(&span, "rpc.status_code").as_deref(),
            Some("UNKNOWN"),
            "{kind:?}"
        );
        assert_eq!(
            attr_str(&span, "error.type").as_deref(),
            Some("response_stream"),
            "{kind:?}"
        );
        assert!(matches!(span.status, SpanStatus::Error { .. }), "{kind:?}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_traceparent_is_sent_never_indexed() {
    // A traceparent is new on every call: HTTP/2's header compression must
    // not search for it or store it (h2 sends a sensitive value as a
    // never-indexed literal). The server still reads it (tests/server.rs,
    // tests/python_interop.rs).
    let t = Telemetry::new();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let noted = seen.clone();
    let channel = tower::service_fn(move |req: http::Request<()>| {
        let noted = noted.clone();
        async move {
            let tp = req.headers().get("traceparent").cloned();
            *noted.lock().expect("lock") = tp;
            let mut response = http::Response::new(http_body_util::Empty::<bytes::Bytes>::new());
            response
                .headers_mut()
                .insert("grpc-status", http::HeaderValue::from_static("0"));
            Ok::<_, Infallible>(response)
        }
    });
    let svc = t.client_layer().build().layer(channel);
    let request = http::Request::post("/otel.test.Echo/Unary")
        .body(())
        .expect("request");
    drop(
        svc.oneshot(request)
            .with_context(caller())
            .await
            .expect("response"),
    );
    let traceparent = seen.lock().expect("lock").clone().expect("a traceparent");
    assert!(traceparent.is_sensitive(), "{traceparent:?}");
    let span = t.span(SpanKind::Client, UNARY).await;
    assert_eq!(
        traceparent.to_str().ok().map(|v| &v[3..35]),
        Some(TRACE),
        "{span:?}"
    );
}

// Many calls at once from the workers of a multi-threaded runtime, through
// layers that share their tables (methods, bound series) between those
// workers: the first calls race to add the same entries. Every call is
// counted once, in the series of its status, on both ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_are_each_counted_once_on_both_ends() {
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let layer = t.client_layer().target(endpoint(server.addr).uri()).build();
    let client = client(server.addr, layer).await;
    let (tasks, calls) = (16, 25);
    let workers: Vec<_> = (0..tasks)
        .map(|task| {
            let mut client = client.clone();
            tokio::spawn(async move {
                for call in 0..calls {
                    // One call in five fails with NOT_FOUND.
                    let message = if (task + call) % 5 == 0 {
                        "not_found"
                    } else {
                        "ok"
                    };
                    let _ = client.unary(request(message)).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    let failed = (0..tasks)
        .flat_map(|task| (0..calls).map(move |call| (task + call) % 5 == 0))
        .filter(|failed| *failed)
        .count() as u64;
    let total = (tasks * calls) as u64;
    for metric in ["rpc.client.call.duration", "rpc.server.call.duration"] {
        // A server's duration is recorded once its response has gone out,
        // which can be just after the client has read it. Each flush
        // exports every series again (cumulative): only the last is read.
        let latest = || {
            t.metrics.reset();
            t.durations(metric)
        };
        let mut points = latest();
        for _ in 0..500 {
            if points.iter().map(|(_, count)| count).sum::<u64>() >= total {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            points = latest();
        }
        let count_of = |status: &str| {
            points
                .iter()
                .filter(|(attrs, _)| kv(attrs, "rpc.status_code").as_deref() == Some(status))
                .map(|(_, count)| count)
                .sum::<u64>()
        };
        assert_eq!(count_of("OK"), total - failed, "{metric}: {points:?}");
        assert_eq!(count_of("NOT_FOUND"), failed, "{metric}: {points:?}");
        assert_eq!(
            points.len(),
            2,
            "one series per status: {metric}: {points:?}"
        );
    }
    let spans = t.finished();
    for kind in [SpanKind::Client, SpanKind::Server] {
        let n = spans.iter().filter(|s| s.span_kind == kind).count() as u64;
        assert_eq!(n, total, "{kind:?} spans");
    }
}
