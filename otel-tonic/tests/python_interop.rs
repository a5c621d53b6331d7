//! Interop over real gRPC with Python: grpcio with the OpenTelemetry Python
//! gRPC instrumentation (opentelemetry-instrumentation-grpc) calls our tonic
//! server, and our tonic client calls a Python grpcio server; the traces join
//! both ways (one trace id, the callee's span a child of the caller's).
//!
//! Runs `tests/python/grpc_peer.py`, which prints the Python SDK's spans as
//! JSON lines. Without the Python packages the test prints `SKIPPED: ...` and
//! passes, unless `CI=true`, where it fails.

mod common;

use common::*;
use opentelemetry::trace::SpanKind;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/grpc_peer.py");
const MODULES: [&str; 4] = [
    "grpc",
    "grpc_tools",
    "opentelemetry.sdk",
    "opentelemetry.instrumentation.grpc",
];
const INSTALL: &str =
    "the Python packages in .ci/requirements.txt (pip install -r .ci/requirements.txt)";

/// The JSON lines a Python run printed.
fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

fn python_spans(lines: &[Value]) -> Vec<&Value> {
    lines.iter().filter_map(|l| l.get("span")).collect()
}

/// The Python server, stopped (stdin closed, then killed) when dropped.
struct PythonServer {
    child: Child,
    port: u16,
}

impl PythonServer {
    fn start() -> Self {
        let mut child = Command::new("python3")
            .args([SCRIPT, "serve"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3");
        let mut line = String::new();
        let stdout = child.stdout.as_mut().expect("piped stdout");
        let mut reader = BufReader::new(stdout);
        reader
            .read_line(&mut line)
            .expect("the server prints its port");
        let port = line.trim().parse().expect("a port number");
        Self { child, port }
    }

    /// Stops the server and returns what it printed after its port.
    fn stop(mut self) -> String {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
        let mut out = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        out
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_calls_a_python_server_and_the_trace_joins() {
    if !otel_testing::require_python_modules(&MODULES, INSTALL) {
        return;
    }
    let t = Telemetry::new();
    let python = PythonServer::start();
    let addr = format!("127.0.0.1:{}", python.port).parse().expect("addr");
    let layer = t.client_layer().target(endpoint(addr).uri()).build();
    let mut client = client(addr, layer).await;
    let reply = client
        .unary(request("from rust"))
        .await
        .expect("ok")
        .into_inner();
    let printed = python.stop();

    let ours = t.span(SpanKind::Client, UNARY).await;
    let lines = lines(&printed);
    let spans = python_spans(&lines);
    let theirs = spans
        .iter()
        .find(|s| s["kind"] == "SERVER")
        .unwrap_or_else(|| panic!("no Python SERVER span in {printed}"));
    let trace_id = ours.span_context.trace_id().to_string();
    assert_eq!(theirs["trace_id"], trace_id.as_str());
    assert_eq!(
        theirs["parent_span_id"],
        ours.span_context.span_id().to_string().as_str(),
        "the Python server span is a child of our CLIENT span"
    );
    assert_eq!(
        reply.trace_id, trace_id,
        "the Python handler ran in our trace"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_client_calls_our_server_and_the_trace_joins() {
    if !otel_testing::require_python_modules(&MODULES, INSTALL) {
        return;
    }
    let t = Telemetry::new();
    let server = serve(t.server_layer().build()).await;
    let addr = server.addr.to_string();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args([SCRIPT, "call", &addr])
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .expect("run python3")
    })
    .await
    .expect("join");
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "python failed: {printed}");

    let ours = t.span(SpanKind::Server, UNARY).await;
    let lines = lines(&printed);
    let spans = python_spans(&lines);
    let theirs = spans
        .iter()
        .find(|s| s["kind"] == "CLIENT")
        .unwrap_or_else(|| panic!("no Python CLIENT span in {printed}"));
    assert_eq!(
        theirs["trace_id"],
        ours.span_context.trace_id().to_string().as_str()
    );
    assert_eq!(
        theirs["span_id"],
        ours.parent_span_id.to_string().as_str(),
        "our SERVER span is a child of the Python CLIENT span"
    );
    assert!(ours.parent_span_is_remote);
    let reply = lines
        .iter()
        .find_map(|l| l.get("reply"))
        .expect("the Python client printed the reply");
    assert_eq!(
        reply["trace_id"],
        ours.span_context.trace_id().to_string().as_str()
    );
}
