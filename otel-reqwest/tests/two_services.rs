//! Service A (axum + otel-axum) calls service B (axum + otel-axum) through the
//! middleware, over real sockets, each service with its own pipeline: one
//! trace from A's server span through A's client span to B's server span;
//! tracestate and baggage arrive; an unsampled caller stays unsampled
//! downstream; `#[instrument]` spans parent client spans; the plain-client
//! helpers; redaction and header capture; the client metric.
//!
//! Service A uses OpenTelemetry's globals, as an application would after
//! `init_telemetry`; B has a pipeline of its own.

mod common;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use common::*;
use otel_reqwest::reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use otel_reqwest::{OtelMiddleware, UrlTemplate};
use otel_testing::opentelemetry_proto::tonic::metrics::v1::metric;
use otel_testing::{OtlpReceiver, attr};
use std::net::SocketAddr;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone)]
struct ServiceA {
    client: ClientWithMiddleware,
    plain: reqwest::Client,
    b: SocketAddr,
}

async fn direct(State(a): State<ServiceA>, Path(id): Path<u32>) -> String {
    let url = format!("http://{}/echo/{id}?sig=secret&x=1#frag", a.b);
    match a
        .client
        .get(url)
        .with_extension(UrlTemplate::new("/echo/{id}"))
        .header("x-request-id", "req-7")
        .header("authorization", "Bearer s3cret")
        .send()
        .await
    {
        Ok(res) => res.text().await.unwrap_or_default(),
        Err(e) => format!("error: {e}"),
    }
}

#[tracing::instrument(skip(a))]
async fn fetch_profile(a: &ServiceA) -> String {
    let url = format!("http://{}/echo/profile", a.b);
    match a.client.get(url).send().await {
        Ok(res) => res.text().await.unwrap_or_default(),
        Err(e) => format!("error: {e}"),
    }
}

async fn nested(State(a): State<ServiceA>) -> String {
    fetch_profile(&a).await
}

async fn plain_send_traced(State(a): State<ServiceA>) -> String {
    let Ok(request) = a.plain.get(format!("http://{}/echo/plain", a.b)).build() else {
        return "bad request".to_owned();
    };
    match otel_reqwest::send_traced(&a.plain, request).await {
        Ok(res) => res.text().await.unwrap_or_default(),
        Err(e) => format!("error: {e}"),
    }
}

async fn plain_inject(State(a): State<ServiceA>) -> String {
    let Ok(mut request) = a.plain.get(format!("http://{}/echo/inject", a.b)).build() else {
        return "bad request".to_owned();
    };
    otel_reqwest::inject(&mut request);
    match a.plain.execute(request).await {
        Ok(res) => res.text().await.unwrap_or_default(),
        Err(e) => format!("error: {e}"),
    }
}

fn service_a(state: ServiceA) -> Router {
    Router::new()
        .route("/direct/{id}", get(direct))
        .route("/nested", get(nested))
        .route("/plain", get(plain_send_traced))
        .route("/inject", get(plain_inject))
        .with_state(state)
        // The global providers and propagator, as after init_telemetry.
        .layer(otel_axum::OtelLayer::new())
}

async fn call_a(a: SocketAddr, path: &str, headers: &[(&str, &str)]) -> String {
    let mut req = plain_client().get(format!("http://{a}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("response from A");
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.expect("body")
}

fn header_line<'a>(body: &'a str, name: &str) -> Vec<&'a str> {
    body.lines()
        .filter_map(|l| l.strip_prefix(name).and_then(|l| l.strip_prefix('=')))
        .collect()
}

#[test]
fn a_calls_b_through_the_middleware() {
    let rt = runtime();
    let receiver = rt.block_on(OtlpReceiver::start()).expect("receiver");
    let endpoint = receiver.grpc_endpoint();
    let guard_a = pipeline("service-a", &endpoint, "grpc", true);
    let guard_b = pipeline("service-b", &endpoint, "grpc", false);
    // The in-process receiver's own hyper/h2/tonic spans must not feed back into the pipeline.
    let filter = tracing_subscriber::EnvFilter::new(
        "info,h2=off,hyper=off,hyper_util=off,reqwest=off,tonic=off,tower=off",
    );
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(guard_a.layer());
    tracing::subscriber::set_global_default(subscriber).expect("subscriber");

    let (a, b) = rt.block_on(async {
        let b = serve(service_b(server_layer(&guard_b))).await;
        let client = ClientBuilder::new(plain_client())
            .with(
                OtelMiddleware::builder()
                    .capture_request_headers(["x-request-id", "authorization"])
                    .capture_response_headers(["x-served-by", "set-cookie"])
                    .build(),
            )
            .build();
        let state = ServiceA {
            client,
            plain: plain_client(),
            b,
        };
        (serve(service_a(state)).await, b)
    });

    let (sampled, unsampled, nested, plain, injected) = rt.block_on(async {
        let sampled = call_a(
            a,
            "/direct/7",
            &[
                ("traceparent", TP_SAMPLED),
                ("tracestate", "vendor=abc,other=1"),
                ("baggage", "tenant=acme,user=42"),
            ],
        )
        .await;
        let unsampled = call_a(a, "/direct/8", &[("traceparent", TP_UNSAMPLED)]).await;
        let nested = call_a(a, "/nested", &[]).await;
        let plain = call_a(a, "/plain", &[]).await;
        let injected = call_a(a, "/inject", &[]).await;
        (sampled, unsampled, nested, plain, injected)
    });
    guard_a.force_flush().expect("flush a");
    guard_b.force_flush().expect("flush b");
    std::thread::sleep(Duration::from_millis(300));
    assert!(guard_a.shutdown().is_clean());
    assert!(guard_b.shutdown().is_clean());

    let with_resource = receiver.spans_with_resource();
    let service_of = |span_id: &[u8]| {
        with_resource
            .iter()
            .find(|(_, _, s)| s.span_id == span_id)
            .and_then(|(r, _, _)| attr(r, "service.name"))
    };
    let scope_of = |span_id: &[u8]| {
        with_resource
            .iter()
            .find(|(_, _, s)| s.span_id == span_id)
            .map(|(_, scope, _)| scope.clone())
    };
    let spans = receiver.spans();
    let trace = TRACE;

    // One trace: A's server span -> A's client span -> B's server span.
    let a_server = find(&spans, "A server /direct", |s| {
        s.name == "GET /direct/{id}" && hex(&s.trace_id) == trace
    });
    assert_eq!(hex(&a_server.parent_span_id), "00f067aa0ba902b7");
    let a_client = find(&spans, "A client /echo", |s| {
        s.kind == CLIENT && s.parent_span_id == a_server.span_id
    });
    assert_eq!(a_client.name, "GET /echo/{id}", "named after url.template");
    assert_eq!(hex(&a_client.trace_id), trace);
    let b_server = find(&spans, "B server /echo", |s| {
        s.kind == SERVER && s.parent_span_id == a_client.span_id
    });
    assert_eq!(b_server.name, "GET /echo/{id}");
    assert_eq!(hex(&b_server.trace_id), trace, "one trace id");
    assert_eq!(service_of(&a_client.span_id).as_deref(), Some("service-a"));
    assert_eq!(scope_of(&a_client.span_id).as_deref(), Some("otel-reqwest"));
    assert_eq!(service_of(&b_server.span_id).as_deref(), Some("service-b"));

    // What B received: our client span, the caller's tracestate and baggage.
    let traceparent = header_line(&sampled, "traceparent");
    assert_eq!(
        traceparent,
        [format!("00-{trace}-{}-01", hex(&a_client.span_id)).as_str()],
        "{sampled}"
    );
    assert_eq!(header_line(&sampled, "tracestate"), ["vendor=abc,other=1"]);
    let baggage = header_line(&sampled, "baggage").join(",");
    assert!(
        baggage.contains("tenant=acme") && baggage.contains("user=42"),
        "{sampled}"
    );

    // The client span's attributes.
    let a = &a_client.attributes;
    let b_port = b.port().to_string();
    for (k, v) in [
        ("http.request.method", "GET"),
        ("server.address", "127.0.0.1"),
        ("server.port", b_port.as_str()),
        ("url.template", "/echo/{id}"),
        ("http.response.status_code", "200"),
        ("network.protocol.version", "1.1"),
        ("network.peer.address", "127.0.0.1"),
    ] {
        assert_eq!(attr(a, k).as_deref(), Some(v), "{k} in {a:#?}");
    }
    assert_eq!(
        strings(a, "http.request.header.x-request-id"),
        Some(vec!["req-7".to_owned()])
    );
    assert_eq!(
        strings(a, "http.response.header.x-served-by"),
        Some(vec!["service-b".to_owned()])
    );
    let url_full = attr(a, "url.full").expect("url.full");
    assert_eq!(
        url_full,
        format!("http://127.0.0.1:{b_port}/echo/7?sig=REDACTED&x=1"),
        "sensitive query values redacted, fragment dropped"
    );
    for secret in [
        "authorization",
        "set-cookie",
        "http.request.resend_count",
        "error.type",
    ] {
        assert!(
            !a.iter().any(|kv| kv.key.contains(secret)),
            "{secret} must not be recorded"
        );
    }
    assert!(a_client.status.as_ref().is_none_or(|s| s.code == 0));

    // An unsampled caller: B gets the unsampled flag, nothing is recorded anywhere.
    let unsampled_tp = header_line(&unsampled, "traceparent");
    assert_eq!(unsampled_tp.len(), 1, "{unsampled}");
    assert!(
        unsampled_tp[0].starts_with(&format!("00-{UNSAMPLED_TRACE}-"))
            && unsampled_tp[0].ends_with("-00"),
        "{unsampled}"
    );
    assert!(
        !spans.iter().any(|s| hex(&s.trace_id) == UNSAMPLED_TRACE),
        "an unsampled trace stays unsampled downstream"
    );

    // Inside an #[instrument] function, its span is the parent.
    let a_nested = find(&spans, "A server /nested", |s| s.name == "GET /nested");
    let profile = find(&spans, "fetch_profile", |s| s.name == "fetch_profile");
    assert_eq!(profile.parent_span_id, a_nested.span_id);
    let nested_client = find(&spans, "client under fetch_profile", |s| {
        s.kind == CLIENT && s.parent_span_id == profile.span_id
    });
    assert_eq!(nested_client.name, "GET", "no template: {{method}}");
    let nested_b = find(&spans, "B under nested client", |s| {
        s.kind == SERVER && s.parent_span_id == nested_client.span_id
    });
    assert_eq!(nested_b.trace_id, a_nested.trace_id);
    assert!(nested.contains(&hex(&nested_client.span_id)), "{nested}");

    // send_traced on a plain client: the same CLIENT span.
    let a_plain = find(&spans, "A server /plain", |s| s.name == "GET /plain");
    let plain_client_span = find(&spans, "send_traced client", |s| {
        s.kind == CLIENT && s.parent_span_id == a_plain.span_id
    });
    assert_eq!(
        scope_of(&plain_client_span.span_id).as_deref(),
        Some("otel-reqwest")
    );
    find(&spans, "B under send_traced", |s| {
        s.kind == SERVER && s.parent_span_id == plain_client_span.span_id
    });
    assert!(plain.contains(&hex(&plain_client_span.span_id)), "{plain}");

    // inject: no client span, B continues A's server span directly.
    let a_inject = find(&spans, "A server /inject", |s| s.name == "GET /inject");
    assert!(
        !spans
            .iter()
            .any(|s| s.parent_span_id == a_inject.span_id && s.kind == CLIENT)
    );
    find(&spans, "B under inject", |s| {
        s.kind == SERVER && s.parent_span_id == a_inject.span_id
    });
    assert!(injected.contains(&hex(&a_inject.span_id)), "{injected}");

    // The client metric: buckets, unit, low-cardinality attributes, unsampled calls counted.
    let metrics = receiver.metrics_with_resource();
    let (_, scope, duration) = metrics
        .iter()
        .rev()
        .find(|(_, _, m)| m.name == "http.client.request.duration")
        .expect("http.client.request.duration");
    assert_eq!(scope, "otel-reqwest");
    assert_eq!(duration.unit, "s");
    let Some(metric::Data::Histogram(h)) = &duration.data else {
        panic!("a histogram")
    };
    assert_eq!(
        h.data_points[0].explicit_bounds,
        otel_http::semconv::DURATION_BUCKETS.to_vec()
    );
    let to_b: u64 = h
        .data_points
        .iter()
        .filter(|p| attr(&p.attributes, "server.port").as_deref() == Some(b_port.as_str()))
        .map(|p| p.count)
        .sum();
    assert_eq!(to_b, 4, "direct x2 (one unsampled), nested, send_traced");
    let point = &h.data_points[0];
    for (k, v) in [
        ("http.request.method", "GET"),
        ("server.address", "127.0.0.1"),
        ("http.response.status_code", "200"),
        ("network.protocol.version", "1.1"),
    ] {
        assert_eq!(attr(&point.attributes, k).as_deref(), Some(v), "{k}");
    }
    assert!(
        !h.data_points
            .iter()
            .any(|p| p.attributes.iter().any(|kv| kv.key.starts_with("url."))),
        "no URL in metric attributes"
    );
}
