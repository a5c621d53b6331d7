//! The outgoing allow-list over real sockets, and the two-service trace
//! through the real rotel collector.

mod common;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use common::*;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use otel_reqwest::reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use otel_reqwest::{OutgoingPolicy, UrlTemplate};
use otel_testing::{OtlpReceiver, ThroughRotel, attr};
use std::net::SocketAddr;
use std::time::Duration;

fn lines_named(body: &str, name: &str) -> usize {
    body.lines()
        .filter(|l| l.starts_with(&format!("{name}=")))
        .count()
}

#[test]
fn context_and_baggage_only_to_allowed_hosts() {
    let rt = runtime();
    let receiver = rt.block_on(OtlpReceiver::start()).expect("receiver");
    let guard = pipeline("client-trust", &receiver.grpc_endpoint(), "grpc", false);
    let tracer = guard.tracer_provider().expect("tracer").tracer("test");
    let b = rt.block_on(serve(service_b(server_layer(&guard))));

    let restricted: ClientWithMiddleware = ClientBuilder::new(plain_client())
        .with(
            middleware_builder(&guard)
                .outgoing_policy(
                    OutgoingPolicy::everywhere()
                        .context_only_to(["127.0.0.1", "*.svc.cluster.local"])
                        .baggage_only_to(["billing.svc.cluster.local"]),
                )
                .build(),
        )
        .build();
    let open: ClientWithMiddleware = ClientBuilder::new(plain_client())
        .with(
            middleware_builder(&guard)
                .capture_request_headers(["authorization"])
                .build(),
        )
        .build();

    let caller = tracer.start("caller");
    let cx = Context::current_with_span(caller).with_baggage([KeyValue::new("tenant", "acme")]);
    let port = b.port();
    let (allowed, other_host, everywhere, _) = rt.block_on(
        async {
            let get = |client: &ClientWithMiddleware, url: String| {
                let request = client.get(url).send();
                async move { request.await.expect("response").text().await.expect("body") }
            };
            (
                // Allowed host for the context, not for baggage.
                get(&restricted, format!("http://127.0.0.1:{port}/echo/1")).await,
                // The same server under another name: outside the allow-list.
                get(&restricted, format!("http://localhost:{port}/echo/2")).await,
                // The default: everything everywhere.
                get(&open, format!("http://localhost:{port}/echo/3")).await,
                // Credentials and a signature in the URL: redacted in url.full.
                get(
                    &open,
                    format!(
                        "http://user:pw@127.0.0.1:{port}/echo/4?X-Amz-Signature=abc&page=2#top"
                    ),
                )
                .await,
            )
        }
        .with_context(cx.clone()),
    );
    cx.span().end();
    assert_eq!(lines_named(&allowed, "traceparent"), 1, "{allowed}");
    assert_eq!(lines_named(&allowed, "baggage"), 0, "{allowed}");
    assert_eq!(lines_named(&other_host, "traceparent"), 0, "{other_host}");
    assert_eq!(lines_named(&other_host, "baggage"), 0, "{other_host}");
    assert_eq!(lines_named(&everywhere, "traceparent"), 1, "{everywhere}");
    assert_eq!(lines_named(&everywhere, "baggage"), 1, "{everywhere}");

    guard.force_flush().expect("flush");
    std::thread::sleep(Duration::from_millis(200));
    assert!(guard.shutdown().is_clean());
    let spans = receiver.spans();
    // The span is recorded even where the context is withheld, and B's span
    // then starts a trace of its own.
    let withheld = find(&spans, "client span to localhost", |s| {
        s.kind == CLIENT && attr(&s.attributes, "url.full").is_some_and(|u| u.ends_with("/echo/2"))
    });
    assert_eq!(
        attr(&withheld.attributes, "server.address").as_deref(),
        Some("localhost")
    );
    let redacted = find(&spans, "client span with credentials", |s| {
        s.kind == CLIENT && attr(&s.attributes, "url.full").is_some_and(|u| u.contains("/echo/4"))
    });
    assert_eq!(
        attr(&redacted.attributes, "url.full"),
        // reqwest moves URL credentials into an Authorization header (never
        // captured) before any middleware sees the request.
        Some(format!(
            "http://127.0.0.1:{port}/echo/4?X-Amz-Signature=REDACTED&page=2"
        ))
    );
    assert!(
        !redacted
            .attributes
            .iter()
            .any(|kv| format!("{:?}", kv.value).contains("pw")),
        "the password appears nowhere"
    );
    assert!(
        !redacted
            .attributes
            .iter()
            .any(|kv| kv.key.contains("authorization")),
        "Authorization is never captured, even when listed"
    );
    let b_root = find(&spans, "B's span for /echo/2", |s| {
        s.kind == SERVER && attr(&s.attributes, "url.path").as_deref() == Some("/echo/2")
    });
    assert!(b_root.parent_span_id.is_empty());
    assert_ne!(b_root.trace_id, withheld.trace_id);
}

#[derive(Clone)]
struct Frontend {
    client: ClientWithMiddleware,
    backend: SocketAddr,
}

async fn checkout(State(f): State<Frontend>) -> String {
    match f
        .client
        .post(format!("http://{}/echo/42", f.backend))
        .with_extension(UrlTemplate::new("/echo/{id}"))
        .send()
        .await
    {
        Ok(res) => res.text().await.unwrap_or_default(),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn two_service_trace_through_rotel() {
    let Some(chain) = ThroughRotel::start(2) else {
        return;
    };
    let (rt, receiver, rotel) = (chain.receiver.runtime(), &chain.receiver, &chain.rotel);
    let frontend_guard = pipeline("frontend", &rotel.http_endpoint(), "http/protobuf", false);
    let backend_guard = pipeline("backend", &rotel.grpc_endpoint(), "grpc", false);
    rt.block_on(async {
        let backend = serve(
            Router::new()
                .route("/echo/{id}", axum::routing::post(|| async { "accepted" }))
                .layer(server_layer(&backend_guard)),
        )
        .await;
        let client = ClientBuilder::new(plain_client())
            .with(middleware_builder(&frontend_guard).build())
            .build();
        let frontend = serve(
            Router::new()
                .route("/checkout", get(checkout))
                .with_state(Frontend { client, backend })
                .layer(server_layer(&frontend_guard)),
        )
        .await;
        let res = plain_client()
            .get(format!("http://{frontend}/checkout"))
            .header("traceparent", TP_SAMPLED)
            .send()
            .await
            .expect("checkout");
        assert_eq!(res.text().await.expect("body"), "accepted");
    });
    assert!(frontend_guard.shutdown().is_clean());
    assert!(backend_guard.shutdown().is_clean());
    let arrived = receiver.wait_for(Duration::from_secs(20), |r| {
        r.span_named("GET /checkout").is_some()
            && r.span_named("POST /echo/{id}").is_some()
            && r.spans().len() >= 3
            && r.metric_names()
                .iter()
                .any(|n| n == "http.client.request.duration")
    });
    assert!(arrived, "rotel log:\n{}", rotel.log());

    let spans = receiver.spans_with_resource();
    let service = |r: &[otel_testing::opentelemetry_proto::tonic::common::v1::KeyValue]| {
        attr(r, "service.name").unwrap_or_default()
    };
    let (_, _, front_server) = spans
        .iter()
        .find(|(r, _, s)| service(r) == "frontend" && s.kind == SERVER)
        .expect("frontend server span");
    let (_, scope, front_client) = spans
        .iter()
        .find(|(r, _, s)| service(r) == "frontend" && s.kind == CLIENT)
        .expect("frontend client span");
    let (_, _, back_server) = spans
        .iter()
        .find(|(r, _, s)| service(r) == "backend" && s.kind == SERVER)
        .expect("backend server span");
    assert_eq!(scope, "otel-reqwest");
    assert_eq!(front_client.name, "POST /echo/{id}");
    assert_eq!(hex(&front_server.trace_id), TRACE);
    assert_eq!(front_client.parent_span_id, front_server.span_id);
    assert_eq!(back_server.parent_span_id, front_client.span_id);
    assert_eq!(front_client.trace_id, front_server.trace_id);
    assert_eq!(back_server.trace_id, front_server.trace_id);
    assert_eq!(
        attr(&front_client.attributes, "http.response.status_code").as_deref(),
        Some("200")
    );
    for req in receiver.requests() {
        assert!(
            req.header("user-agent")
                .is_some_and(|ua| ua.starts_with("Rotel")),
            "everything came through rotel: {:?}",
            req.headers
        );
    }
}
