//! End to end over real HTTP, with the OpenTelemetry Python SDK at both ends:
//! a Python client (flags `02` or `03`, a `tracestate` in the Level 2 key
//! grammar, baggage with `+` and with bytes that are not UTF-8) calls a Rust
//! service (otel-axum's `OtelLayer`, otel-reqwest's middleware, otel-init's
//! pipeline), which calls a Python endpoint that extracts with the Python
//! SDK's propagators. The endpoint must see the caller's trace id, our CLIENT
//! span as its parent, the flags, the tracestate and the baggage as sent.
//! Then the same for traces the Rust service starts (random flag set).
//!
//! Runs `tests/python/w3c_hop.py`. Without the Python SDK the test prints
//! `SKIPPED: ...` and passes, unless `CI=true`, where it fails.

mod common;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use common::*;
use otel_axum::TraceIds;
use otel_reqwest::reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use otel_testing::OtlpReceiver;
use otel_testing::opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/w3c_hop.py");

/// The Python endpoint, stopped (stdin closed, then killed) when dropped.
struct Endpoint {
    child: Child,
    port: u16,
}

impl Endpoint {
    fn start() -> Self {
        let mut child = Command::new("python3")
            .args([SCRIPT, "serve"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("the endpoint prints its port");
        let port = line.trim().parse().expect("a port number");
        Self { child, port }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone)]
struct Hop {
    client: ClientWithMiddleware,
    endpoint: u16,
}

/// The Rust service: its server span's ids, and what the endpoint saw.
async fn hop(State(hop): State<Hop>, ids: TraceIds) -> String {
    let url = format!("http://127.0.0.1:{}/endpoint", hop.endpoint);
    let downstream = match hop.client.get(url).send().await {
        Ok(res) => res.text().await.unwrap_or_default(),
        Err(e) => format!("\"error: {e}\""),
    };
    format!(
        r#"{{"trace_id":"{}","span_id":"{}","downstream":{downstream}}}"#,
        ids.trace_id, ids.span_id
    )
}

/// A pipeline of its own (no globals) with `sampler`, exporting to `endpoint`.
fn pipeline_with(sampler: &str, endpoint: &str) -> otel_init::TelemetryGuard {
    otel_init::Telemetry::builder_from_env(&[
        ("OTEL_SERVICE_NAME", "rust-hop"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_LOGS_EXPORTER", "none"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "60000"),
        ("OTEL_TRACES_SAMPLER", sampler),
    ])
    .without_globals()
    .build()
    .expect("init")
}

fn service(guard: &otel_init::TelemetryGuard, endpoint: u16) -> Router {
    let client = ClientBuilder::new(plain_client())
        .with(middleware_builder(guard).build())
        .build();
    Router::new()
        .route("/hop", get(hop))
        .with_state(Hop { client, endpoint })
        .layer(server_layer(guard))
}

/// Runs the Python client against `url`: it starts a root span (sampled or
/// not) and sends it with `tracestate` and extra raw baggage members.
fn python_client(url: &str, sampled: bool, tracestate: &str, baggage_extra: &str) -> Value {
    let output = Command::new("python3")
        .args([
            SCRIPT,
            "client",
            url,
            if sampled { "1" } else { "0" },
            tracestate,
            baggage_extra,
        ])
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "python client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the client prints JSON")
}

fn str_of<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_str()
        .unwrap_or_else(|| panic!("{path:?} in {v}"))
}

/// The exported span with `span_id` (hex).
fn span<'a>(spans: &'a [Span], span_id: &str) -> Option<&'a Span> {
    spans.iter().find(|s| hex(&s.span_id) == span_id)
}

#[test]
fn python_to_rust_to_python_keeps_flags_tracestate_and_baggage() {
    if !otel_testing::require_python_modules(
        &[
            "opentelemetry.sdk.trace",
            "opentelemetry.baggage.propagation",
        ],
        "the OpenTelemetry Python SDK (pip install -r .ci/requirements.txt)",
    ) {
        return;
    }
    let endpoint = Endpoint::start();
    let rt = runtime();
    let receiver = rt.block_on(OtlpReceiver::start()).expect("receiver");
    let otlp = receiver.grpc_endpoint();
    let sampling = pipeline_with("parentbased_always_on", &otlp);
    let dropping = pipeline_with("parentbased_always_off", &otlp);
    let (on, off): (SocketAddr, SocketAddr) = rt.block_on(async {
        (
            serve(service(&sampling, endpoint.port)).await,
            serve(service(&dropping, endpoint.port)).await,
        )
    });

    // Level 2 keys (3.3.1.3.1): an empty system part, two `@`, and 14
    // characters after the `@` (opentelemetry's and Python's TraceState reject
    // the last two).
    let long_tenant = format!("{}@{}", "t".repeat(241), "v".repeat(14));
    let tracestate = format!("foo@=1,foo@@bar=2,{long_tenant}=3,congo=t61rcWkgMzE");
    // Python's own encoding of `1+1` is `1%2B1`; a bare `+` is a plus sign
    // in W3C Baggage; `%FF` is not UTF-8 and decodes to U+FFFD.
    let extra = "raw=a+b,bad=%FF";
    let expected_baggage = serde_json::json!({
        "user": "alice", "sum": "1+1", "raw": "a+b", "bad": "\u{FFFD}",
    });

    let mut sampled_clients = Vec::new();
    for sampled in [true, false] {
        let got = python_client(&format!("http://{on}/hop"), sampled, &tracestate, extra);
        let flags = if sampled { 3 } else { 2 };
        assert_eq!(
            got["flags"], flags,
            "the Python SDK sets the random flag: {got}"
        );
        let answer = &got["answer"];
        let seen = &answer["downstream"];
        assert_eq!(seen["valid"], true, "{got}");
        assert_eq!(
            str_of(seen, &["trace_id"]),
            str_of(&got, &["trace_id"]),
            "trace id kept"
        );
        assert_eq!(str_of(answer, &["trace_id"]), str_of(&got, &["trace_id"]));
        assert_eq!(seen["flags"], flags, "flags {flags:02x} forwarded: {seen}");
        let parent = str_of(seen, &["parent_id"]);
        assert_ne!(
            parent,
            str_of(&got, &["span_id"]),
            "a span of ours in between"
        );
        assert_ne!(parent, str_of(answer, &["span_id"]), "not the server span");
        assert_eq!(
            seen["headers"]["tracestate"],
            serde_json::json!([tracestate]),
            "tracestate as sent"
        );
        let sent_baggage = seen["headers"]["baggage"][0].as_str().expect("baggage");
        assert!(
            sent_baggage.contains("raw=a%2Bb") && !sent_baggage.contains('+'),
            "{sent_baggage}"
        );
        assert_eq!(seen["baggage"], expected_baggage, "baggage as sent");
        if sampled {
            sampled_clients.push((got.clone(), parent.to_owned()));
        }
    }

    // Traces started in Rust: the random flag is set, sampled or not.
    let mut rust_roots = Vec::new();
    for (addr, flags) in [(on, 3), (off, 2)] {
        let answer: Value = rt.block_on(async {
            let res = plain_client()
                .get(format!("http://{addr}/hop"))
                .send()
                .await
                .expect("response");
            serde_json::from_str(&res.text().await.expect("body")).expect("json")
        });
        let seen = &answer["downstream"];
        assert_eq!(str_of(seen, &["trace_id"]), str_of(&answer, &["trace_id"]));
        assert_eq!(seen["flags"], flags, "a Rust root: {seen}");
        assert_ne!(str_of(seen, &["parent_id"]), str_of(&answer, &["span_id"]));
        assert_eq!(seen["headers"]["tracestate"], serde_json::json!([]));
        if flags == 3 {
            rust_roots.push((answer.clone(), str_of(seen, &["parent_id"]).to_owned()));
        }
    }

    sampling.force_flush().expect("flush");
    dropping.force_flush().expect("flush");
    assert!(sampling.shutdown().is_clean());
    assert!(dropping.shutdown().is_clean());
    let spans = receiver.spans();

    // Sampled traces: the endpoint's parent is our CLIENT span, child of our
    // SERVER span, child of the Python client's span (or the root).
    for (got, parent) in &sampled_clients {
        let client = span(&spans, parent).expect("the client span is exported");
        assert_eq!(client.kind, CLIENT);
        assert_eq!(hex(&client.trace_id), str_of(got, &["trace_id"]));
        let server = span(&spans, &hex(&client.parent_span_id)).expect("server span");
        assert_eq!(server.kind, SERVER);
        assert_eq!(hex(&server.span_id), str_of(&got["answer"], &["span_id"]));
        assert_eq!(hex(&server.parent_span_id), str_of(got, &["span_id"]));
    }
    for (answer, parent) in &rust_roots {
        let client = span(&spans, parent).expect("the client span is exported");
        assert_eq!(client.kind, CLIENT);
        assert_eq!(hex(&client.parent_span_id), str_of(answer, &["span_id"]));
    }
    // Unsampled traces leave no spans: the parent of the unsampled hops is
    // checked above to be neither the caller's span nor our server span.
    assert!(
        spans.iter().all(|s| s.kind == CLIENT || s.kind == SERVER),
        "only our spans"
    );
    assert_eq!(spans.len(), 2 * (sampled_clients.len() + rust_roots.len()));
    drop(endpoint);
    rt.block_on(receiver.shutdown());
}
