//! What `otel_init::init()` writes on standard output, run in a child process
//! (this test binary again) so that each case gets its own global subscriber:
//! JSON lines with the ids of the exported spans when stdout is not a
//! terminal, human-readable text or nothing when `OTEL_INIT_LOG_FORMAT` says
//! so, a warning for a bad value, records of the `log` crate captured, and
//! no line lost when the process exits right after logging.

mod logging_support;

use logging_support::*;
use tracing::{info, info_span};

const CHILD: &str = "OTEL_LOGGING_TEST_CHILD";

/// The child's side: a service that initialises telemetry from its
/// environment and logs inside and outside a request.
#[test]
fn child_process() {
    if !otel_testing::is_child_run(CHILD) {
        return;
    }
    // libtest printed "test child_process ... " without a newline.
    println!();
    let guard = otel_init::Telemetry::builder()
        .service_name("child-service")
        .init()
        .expect("init");
    info!(port = 8080, "listening");
    info_span!("GET /orders/{id}", otel.kind = "server").in_scope(|| {
        info!(order.id = 7, "handled");
        tracing_log::log::warn!(target: "legacy::client", "from the log crate");
    });
    drop(guard);
    // Nothing flushes the JSON writer here: the lines still waiting are
    // written when the process exits.
}

struct Output {
    stdout: String,
    stderr: String,
}

impl Output {
    fn json_lines(&self) -> Vec<serde_json::Value> {
        let raw: Vec<String> = self
            .stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(str::to_owned)
            .collect();
        parse_lines(&raw)
    }
}

fn run_child(env: &[(&str, String)]) -> Output {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = otel_testing::rerun_test("child_process", CHILD, &env);
    let output = Output {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        out.status.success(),
        "child failed:\n{}\n{}",
        output.stdout,
        output.stderr
    );
    output
}

fn no_export() -> Vec<(&'static str, String)> {
    vec![
        ("OTEL_TRACES_EXPORTER", "none".to_owned()),
        ("OTEL_METRICS_EXPORTER", "none".to_owned()),
        ("OTEL_LOGS_EXPORTER", "none".to_owned()),
    ]
}

#[test]
fn piped_stdout_gets_json_lines_with_the_ids_of_the_exported_spans() {
    let r = Receiver::start();
    let out = run_child(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", r.receiver.http_endpoint()),
        ("OTEL_METRICS_EXPORTER", "none".to_owned()),
        ("OTEL_LOGS_EXPORTER", "none".to_owned()),
    ]);
    r.wait_until("the server span", |rx| !rx.spans().is_empty());
    let lines = out.json_lines();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    let spans = r.receiver.spans();
    let server = span(&spans, "GET /orders/{id}");
    for message in ["handled", "from the log crate"] {
        let l = line(&lines, message);
        assert_eq!(str_of(l, "trace_id"), hex(&server.trace_id), "{message}");
        assert_eq!(str_of(l, "span_id"), hex(&server.span_id), "{message}");
        assert_eq!(str_of(l, "service.name"), "child-service");
    }
    let legacy = line(&lines, "from the log crate");
    assert_eq!(legacy["target"], "legacy::client");
    assert_eq!(legacy["level"], "WARN");
    let listening = line(&lines, "listening");
    assert!(listening.get("trace_id").is_none());
    assert_eq!(listening["port"], 8080);
}

#[test]
fn text_or_nothing_when_the_variable_says_so() {
    let mut env = no_export();
    env.push(("OTEL_INIT_LOG_FORMAT", "Text".to_owned()));
    let text = run_child(&env);
    assert!(text.json_lines().is_empty(), "{}", text.stdout);
    let handled = text
        .stdout
        .lines()
        .find(|l| l.contains("handled"))
        .unwrap_or_else(|| panic!("no text line: {}", text.stdout));
    assert!(
        handled.contains("INFO") && handled.contains("order.id=7"),
        "{handled}"
    );

    let mut env = no_export();
    env.push(("OTEL_INIT_LOG_FORMAT", "none".to_owned()));
    let none = run_child(&env);
    assert!(!none.stdout.contains("handled"), "{}", none.stdout);

    let mut env = no_export();
    env.push(("OTEL_INIT_LOG_FORMAT", "json".to_owned()));
    let json = run_child(&env);
    assert_eq!(json.json_lines().len(), 3, "{}", json.stdout);
}

#[test]
fn a_bad_value_warns_and_the_automatic_choice_applies() {
    let mut env = no_export();
    env.push(("OTEL_INIT_LOG_FORMAT", "yaml".to_owned()));
    let out = run_child(&env);
    assert!(
        out.stderr.contains(
            "otel-init warning: invalid value \"yaml\" for OTEL_INIT_LOG_FORMAT: expected one of auto, json, text, none; using auto"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.json_lines().len(),
        3,
        "piped stdout: JSON\n{}",
        out.stdout
    );
}
