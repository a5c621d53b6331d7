//! Failures and retries over real sockets: timeouts, refused connections,
//! 4xx and 5xx responses give error spans with `error.type`, a request the
//! caller cancels a span that is not an error; reqwest-retry's resends are
//! counted; the hooks apply.

mod common;

use common::*;
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue, context::FutureExt as _};
use otel_reqwest::UrlTemplate;
use otel_reqwest::reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use otel_testing::opentelemetry_proto::tonic::metrics::v1::metric;
use otel_testing::opentelemetry_proto::tonic::trace::v1::Span;
use otel_testing::{OtlpReceiver, attr};
use reqwest_retry::RetryTransientMiddleware;
use reqwest_retry::policies::ExponentialBackoff;
use std::time::Duration;

fn error_type(span: &Span) -> Option<String> {
    attr(&span.attributes, "error.type")
}

fn is_error(span: &Span) -> bool {
    span.status.as_ref().is_some_and(|s| s.code == STATUS_ERROR)
}

#[test]
fn failures_retries_and_hooks() {
    let rt = runtime();
    let receiver = rt.block_on(OtlpReceiver::start()).expect("receiver");
    let guard = pipeline("client-failures", &receiver.grpc_endpoint(), "grpc", false);
    let tracer = guard
        .tracer_provider()
        .expect("tracer")
        .tracer("test caller");

    let client: ClientWithMiddleware = ClientBuilder::new(plain_client())
        .with(middleware_builder(&guard).build())
        .build();
    let retry_policy = ExponentialBackoff::builder()
        .retry_bounds(Duration::from_millis(1), Duration::from_millis(5))
        .build_with_max_retries(3);
    // The retry middleware first, ours inside it: one span per attempt.
    let retrying: ClientWithMiddleware = ClientBuilder::new(plain_client())
        .with(RetryTransientMiddleware::new_with_policy(retry_policy))
        .with(middleware_builder(&guard).build())
        .build();
    let hooked: ClientWithMiddleware = ClientBuilder::new(plain_client())
        .with(
            middleware_builder(&guard)
                .span_name(|req| format!("call {}", req.url().path()))
                .request_attributes(|req| {
                    vec![KeyValue::new(
                        "peer.service",
                        req.url().host_str().unwrap_or("?").to_owned(),
                    )]
                })
                .response_attributes(|res| {
                    vec![KeyValue::new(
                        "test.content_length",
                        res.content_length().map_or(-1, |n| n as i64),
                    )]
                })
                .build(),
        )
        .build();

    let (b, refused_port) = rt.block_on(async {
        let b = serve(service_b(server_layer(&guard))).await;
        let refused = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = refused.local_addr().expect("addr").port();
        drop(refused);
        (b, port)
    });

    rt.block_on(async {
        // Timeout.
        let err = client
            .get(format!("http://{b}/slow"))
            .timeout(Duration::from_millis(100))
            .send()
            .await
            .expect_err("timeout");
        assert!(err.is_timeout(), "{err}");
        // Connection refused.
        let err = client
            .get(format!("http://127.0.0.1:{refused_port}/nothing"))
            .send()
            .await
            .expect_err("refused");
        assert!(err.is_connect(), "{err}");
        // 5xx and 4xx responses are Ok for reqwest, errors for the span.
        let res = client
            .get(format!("http://{b}/status/503"))
            .with_extension(UrlTemplate::new("/status/{code}"))
            .send()
            .await
            .expect("503");
        assert_eq!(res.status(), 503);
        let res = client
            .get(format!("http://{b}/status/404"))
            .with_extension(UrlTemplate::new("/status/{code}"))
            .send()
            .await
            .expect("404");
        assert_eq!(res.status(), 404);
        // Cancelled: the caller stops waiting.
        let abandoned = tokio::time::timeout(
            Duration::from_millis(100),
            client.get(format!("http://{b}/slow")).send(),
        )
        .await;
        assert!(abandoned.is_err(), "the caller gave up");
        // Retries: 503, 503, then 200, under one caller span.
        let caller = tracer.start("retrying caller");
        let cx = Context::current_with_span(caller);
        let res = retrying
            .get(format!("http://{b}/flaky"))
            .send()
            .with_context(cx.clone())
            .await
            .expect("flaky");
        assert_eq!(res.status(), 200);
        cx.span().end();
        // Hooks.
        let res = hooked
            .get(format!("http://{b}/echo/hooks"))
            .send()
            .await
            .expect("hooks");
        assert_eq!(res.status(), 200);
        // Give the server spans of /slow time to end.
        tokio::time::sleep(Duration::from_millis(2100)).await;
    });
    guard.force_flush().expect("flush");
    std::thread::sleep(Duration::from_millis(300));
    assert!(guard.shutdown().is_clean());

    let spans = receiver.spans();
    let clients: Vec<&Span> = spans.iter().filter(|s| s.kind == CLIENT).collect();
    let by_url = |fragment: &str| -> Vec<&Span> {
        clients
            .iter()
            .copied()
            .filter(|s| attr(&s.attributes, "url.full").is_some_and(|u| u.contains(fragment)))
            .collect()
    };

    let slow = by_url("/slow");
    assert_eq!(slow.len(), 2, "the timed-out and the cancelled request");
    let timed_out = slow
        .iter()
        .find(|s| error_type(s).as_deref() == Some("timeout"))
        .expect("a timeout span");
    assert!(is_error(timed_out));
    assert!(
        timed_out
            .status
            .as_ref()
            .is_some_and(|s| s.message.contains("timed out")),
        "{:?}",
        timed_out.status
    );
    assert!(attr(&timed_out.attributes, "http.response.status_code").is_none());
    // The caller cancelled it: not an error (semconv 1.41's HTTP spans).
    let cancelled = slow
        .iter()
        .find(|s| error_type(s).is_none())
        .expect("a cancelled span");
    assert!(!is_error(cancelled), "{:?}", cancelled.status);
    assert!(attr(&cancelled.attributes, "http.response.status_code").is_none());

    let refused = by_url("/nothing");
    assert_eq!(refused.len(), 1);
    assert_eq!(error_type(refused[0]).as_deref(), Some("connect"));
    assert!(is_error(refused[0]));
    let message = &refused[0].status.as_ref().expect("status").message;
    assert!(message.starts_with("could not connect"), "{message}");
    assert!(
        !message.contains("http://"),
        "no URL in the description: {message}"
    );

    let status_spans = by_url("/status/");
    assert!(status_spans.iter().all(|s| s.name == "GET /status/{code}"));
    for code in ["503", "404"] {
        let span = status_spans
            .iter()
            .find(|s| attr(&s.attributes, "http.response.status_code").as_deref() == Some(code))
            .unwrap_or_else(|| panic!("a {code} span"));
        assert_eq!(error_type(span).as_deref(), Some(code));
        assert!(is_error(span), ">= 400 is an error for a client");
    }

    // Retries: three attempts under the caller, the resends counted.
    let caller = find(&spans, "retrying caller", |s| s.name == "retrying caller");
    let mut attempts: Vec<&Span> = by_url("/flaky");
    attempts.sort_by_key(|s| s.start_time_unix_nano);
    assert_eq!(attempts.len(), 3);
    let resends: Vec<Option<String>> = attempts
        .iter()
        .map(|s| attr(&s.attributes, "http.request.resend_count"))
        .collect();
    assert_eq!(resends, [None, Some("1".into()), Some("2".into())]);
    let statuses: Vec<Option<String>> = attempts
        .iter()
        .map(|s| attr(&s.attributes, "http.response.status_code"))
        .collect();
    assert_eq!(
        statuses,
        [Some("503".into()), Some("503".into()), Some("200".into())]
    );
    for attempt in &attempts {
        assert_eq!(attempt.parent_span_id, caller.span_id);
        assert_eq!(attempt.trace_id, caller.trace_id);
        // Each attempt was carried to B as its own parent.
        find(&spans, "B's span of an attempt", |s| {
            s.kind == SERVER && s.parent_span_id == attempt.span_id
        });
    }
    assert!(error_type(attempts[2]).is_none() && !is_error(attempts[2]));

    // Hooks.
    let hooked = find(&spans, "hooked client span", |s| {
        s.name == "call /echo/hooks"
    });
    assert_eq!(
        attr(&hooked.attributes, "peer.service").as_deref(),
        Some("127.0.0.1")
    );
    assert!(attr(&hooked.attributes, "test.content_length").is_some());

    // The metric counts failures by error.type.
    let metrics = receiver.metrics_with_resource();
    let (_, _, duration) = metrics
        .iter()
        .rev()
        .find(|(_, _, m)| m.name == "http.client.request.duration")
        .expect("http.client.request.duration");
    let Some(metric::Data::Histogram(h)) = &duration.data else {
        panic!("a histogram")
    };
    let count = |error: &str| -> u64 {
        h.data_points
            .iter()
            .filter(|p| attr(&p.attributes, "error.type").as_deref() == Some(error))
            .map(|p| p.count)
            .sum()
    };
    assert_eq!(count("timeout"), 1);
    assert_eq!(count("connect"), 1);
    // The cancelled request: measured, with neither an error nor a status.
    let cancelled: u64 = h
        .data_points
        .iter()
        .filter(|p| {
            attr(&p.attributes, "error.type").is_none()
                && attr(&p.attributes, "http.response.status_code").is_none()
        })
        .map(|p| p.count)
        .sum();
    assert_eq!(cancelled, 1);
    assert_eq!(count("cancelled"), 0);
    assert_eq!(count("503"), 3, "one direct, two retried");
    assert_eq!(count("404"), 1);
    let refused_point = h
        .data_points
        .iter()
        .find(|p| attr(&p.attributes, "error.type").as_deref() == Some("connect"))
        .expect("connect point");
    assert!(attr(&refused_point.attributes, "http.response.status_code").is_none());
    assert!(attr(&refused_point.attributes, "network.protocol.version").is_none());
}
