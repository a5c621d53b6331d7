//! The quick-start example, run as a process, exports a span, a metric and
//! a log record through the real rotel collector over gRPC and over HTTP;
//! rotel forwards them to an in-process OTLP receiver where they are checked.
//! Each checkout loads its cart through otel-sqlx (SQLite in memory by
//! default, PostgreSQL when `DATABASE_URL` says so): a DB CLIENT span under
//! the checkout's SERVER span. Then it calls the payments route through
//! otel-reqwest: its trace holds the CLIENT span and, nested under it, the
//! payments SERVER span.

use otel_testing::{ThroughRotel, attr, require_service};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The quickstart's cart query, as its span must record it: the bind
/// parameter kept, no order number in the text.
const CART_QUERY: &str =
    "SELECT sku, qty FROM quickstart_cart_items WHERE order_id = $1 ORDER BY sku";
const CART_SPAN: &str = "SELECT quickstart_cart_items";
const PG_ADDR: &str = "127.0.0.1:5432";
const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Builds the example (a no-op when it is up to date) and returns its path.
fn quickstart() -> PathBuf {
    let [exe] = otel_testing::workspace_binaries("quickstart", ["quickstart"]);
    exe
}

/// Runs the example with only the given `OTEL_*` variables (and
/// `DATABASE_URL` only when given: SQLite in memory otherwise).
fn run_quickstart(env: &[(&str, String)]) -> String {
    let mut cmd = Command::new(quickstart());
    for (k, _) in std::env::vars() {
        if k.starts_with("OTEL_") || k == "RUST_LOG" || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.env("QUICKSTART_ADDR", "127.0.0.1:0")
        .env("QUICKSTART_EXIT_AFTER_DEMO", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run quickstart");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "quickstart failed:\n{stdout}\n{stderr}"
    );
    format!("{stdout}\n{stderr}")
}

/// The checks every test here makes on what went through rotel.
trait Checks {
    /// Waits until two checkouts' spans, metrics and logs arrived.
    fn wait_for_everything(&self, output: &str);
    /// Checks what arrived; `db_system` is the `db.system.name` the cart
    /// query must report.
    fn check_content(&self, db_system: &str);
}

impl Checks for ThroughRotel {
    fn wait_for_everything(&self, output: &str) {
        let arrived = self.receiver.wait_for(Duration::from_secs(20), |r| {
            // Two checkouts: server span, cart query, client span, payments server span.
            r.spans().len() >= 8
                && r.spans().iter().filter(|s| s.name == CART_SPAN).count() >= 2
                && r.metric_names().iter().any(|n| n == "quickstart.orders")
                && r.metric_names()
                    .iter()
                    .any(|n| n == "db.client.operation.duration")
                && r.metric_names()
                    .iter()
                    .any(|n| n == "http.server.request.duration")
                && r.metric_names()
                    .iter()
                    .any(|n| n == "http.client.request.duration")
                && r.log_records().len() >= 5
        });
        assert!(
            arrived,
            "not everything arrived: {} spans, metrics {:?}, {} logs\nexample:\n{output}\nrotel:\n{}",
            self.receiver.spans().len(),
            self.receiver.metric_names(),
            self.receiver.log_records().len(),
            self.rotel.log()
        );
    }

    fn check_content(&self, db_system: &str) {
        let spans = self.receiver.spans_with_resource();
        let (resource, _, checkout) = spans
            .iter()
            .find(|(_, _, s)| {
                s.name == "GET /checkout/{order}"
                    && attr(&s.attributes, "url.path").as_deref() == Some("/checkout/1")
            })
            .expect("the server span of the checkout of order 1");
        assert_eq!(
            attr(resource, "service.name").as_deref(),
            Some("quickstart")
        );
        assert_eq!(
            attr(resource, "service.version").as_deref(),
            Some(env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(
            attr(resource, "deployment.environment.name").as_deref(),
            Some("e2e test")
        );
        assert_eq!(
            attr(&checkout.attributes, "http.route").as_deref(),
            Some("/checkout/{order}")
        );
        assert_eq!(checkout.kind, 2, "SERVER");
        // Its children: the cart query and the payments call, and the wait
        // for a pool connection if that took 1 ms or more.
        let mut children: Vec<_> = spans
            .iter()
            .filter(|(_, _, s)| s.parent_span_id == checkout.span_id)
            .map(|(_, _, s)| s.name.as_str())
            .filter(|name| *name != "acquire connection")
            .collect();
        children.sort_unstable();
        assert_eq!(
            children,
            ["POST /payments/{order}", CART_SPAN],
            "children of the checkout span"
        );

        // The cart query: a DB CLIENT span from otel-sqlx under the checkout.
        let (_, scope, query) = spans
            .iter()
            .find(|(_, _, s)| s.parent_span_id == checkout.span_id && s.name == CART_SPAN)
            .expect("the cart query's span");
        assert_eq!(scope, "otel-sqlx");
        assert_eq!(query.kind, 3, "CLIENT");
        assert_eq!(query.trace_id, checkout.trace_id);
        assert!(
            query.start_time_unix_nano >= checkout.start_time_unix_nano
                && query.end_time_unix_nano <= checkout.end_time_unix_nano,
            "the query runs within the request"
        );
        let query_attr = |key: &str| attr(&query.attributes, key);
        assert_eq!(query_attr("db.system.name").as_deref(), Some(db_system));
        assert_eq!(query_attr("db.query.text").as_deref(), Some(CART_QUERY));
        assert_eq!(query_attr("db.operation.name").as_deref(), Some("SELECT"));
        assert_eq!(
            query_attr("db.collection.name").as_deref(),
            Some("quickstart_cart_items")
        );
        assert_eq!(query_attr("db.query.summary").as_deref(), Some(CART_SPAN));
        assert_eq!(
            query_attr("db.response.returned_rows").as_deref(),
            Some("2"),
            "order 1 has two cart lines"
        );
        assert_eq!(query_attr("error.type"), None);
        if db_system == "postgresql" {
            assert_eq!(query_attr("db.namespace").as_deref(), Some("test"));
            assert_eq!(query_attr("server.address").as_deref(), Some("127.0.0.1"));
            assert_eq!(query_attr("server.port").as_deref(), Some("5432"));
        }
        // Waits for a pool connection, when there were any worth a span:
        // siblings of the query, before it.
        for (_, _, wait) in spans
            .iter()
            .filter(|(_, _, s)| s.name == "acquire connection" && s.trace_id == checkout.trace_id)
        {
            assert_eq!(wait.parent_span_id, checkout.span_id);
            assert!(wait.end_time_unix_nano <= query.start_time_unix_nano);
            assert!(attr(&wait.attributes, "db.client.connection.pool.max").is_some());
        }
        // Every query of the demo ran under a checkout request (the seeding
        // is not traced).
        for (_, _, s) in spans.iter().filter(|(_, scope, _)| scope == "otel-sqlx") {
            assert!(
                spans
                    .iter()
                    .any(|(_, _, parent)| parent.span_id == s.parent_span_id
                        && parent.name == "GET /checkout/{order}"),
                "{} has no checkout parent",
                s.name
            );
        }

        // The payments call: a CLIENT span under the checkout, and the payments
        // SERVER span under it, in the same trace.
        let (_, scope, payment_call) = spans
            .iter()
            .find(|(_, _, s)| {
                s.parent_span_id == checkout.span_id && s.name == "POST /payments/{order}"
            })
            .expect("the CLIENT span of the payments call");
        assert_eq!(scope, "otel-reqwest");
        assert_eq!(payment_call.kind, 3, "CLIENT");
        assert_eq!(
            attr(&payment_call.attributes, "url.template").as_deref(),
            Some("/payments/{order}")
        );
        let (_, _, payment) = spans
            .iter()
            .find(|(_, _, s)| s.parent_span_id == payment_call.span_id)
            .expect("the payments SERVER span under the CLIENT span");
        assert_eq!(payment.kind, 2, "SERVER");
        assert_eq!(payment.name, "POST /payments/{order}");
        assert_eq!(payment.trace_id, checkout.trace_id);
        let declined_call = spans
            .iter()
            .find(|(_, scope, s)| {
                scope == "otel-reqwest"
                    && attr(&s.attributes, "http.response.status_code").as_deref() == Some("402")
            })
            .map(|(_, _, s)| s)
            .expect("the declined payment's CLIENT span");
        assert_eq!(
            attr(&declined_call.attributes, "error.type").as_deref(),
            Some("402"),
            ">= 400 is an error for a client"
        );

        let metrics = self.receiver.metrics_with_resource();
        let (m_resource, _, _) = metrics
            .iter()
            .find(|(_, _, m)| m.name == "quickstart.orders")
            .expect("metric");
        assert_eq!(
            attr(m_resource, "service.name").as_deref(),
            Some("quickstart")
        );

        let logs = self.receiver.log_records_with_resource();
        let (l_resource, _, declined) = logs
            .iter()
            .find(|(_, _, l)| l.severity_text == "WARN")
            .expect("the 'payment declined' warning");
        assert_eq!(
            attr(l_resource, "deployment.environment.name").as_deref(),
            Some("e2e test")
        );
        assert!(
            spans
                .iter()
                .any(|(_, _, s)| s.trace_id == declined.trace_id
                    && s.name == "GET /checkout/{order}"),
            "the log record carries the trace id of its request"
        );
    }
}

fn through_rotel(protocol: &str) {
    through_rotel_with(protocol, None);
}

/// Runs the quickstart exporting to rotel over `protocol`, its carts in the
/// database `database_url` names (SQLite in memory when `None`).
fn through_rotel_with(protocol: &str, database_url: Option<&str>) {
    let Some(s) = ThroughRotel::start(1) else {
        return;
    };
    let endpoint = if protocol == "grpc" {
        s.rotel.grpc_endpoint()
    } else {
        s.rotel.http_endpoint()
    };
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment.name=e2e%20test".to_owned(),
        ),
    ];
    if let Some(url) = database_url {
        env.push(("DATABASE_URL", url.to_owned()));
    }
    let output = run_quickstart(&env);
    s.wait_for_everything(&output);
    s.check_content(if database_url.is_some() {
        "postgresql"
    } else {
        "sqlite"
    });
    // Everything came the long way round, through the collector.
    for req in s.receiver.requests() {
        assert!(
            req.header("user-agent")
                .is_some_and(|ua| ua.starts_with("Rotel")),
            "{:?}",
            req.headers
        );
    }
}

#[test]
fn quickstart_exports_every_signal_through_rotel_over_grpc() {
    through_rotel("grpc");
}

#[test]
fn quickstart_exports_every_signal_through_rotel_over_http() {
    through_rotel("http/protobuf");
}

/// With `DATABASE_URL` naming PostgreSQL, the carts come from there and the
/// query's span says so.
#[test]
fn quickstart_with_postgresql_through_rotel() {
    if !require_service("PostgreSQL", PG_ADDR) {
        return;
    }
    through_rotel_with("grpc", Some(PG_URL));
}

/// Per-signal endpoints and protocols are honoured: spans to rotel over gRPC,
/// metrics to rotel over HTTP, log records straight to the receiver over
/// HTTP/JSON with their own headers (rotel does not forward the headers it
/// receives, so headers are checked on the direct path).
#[test]
fn per_signal_endpoints_protocols_and_headers() {
    let Some(s) = ThroughRotel::start(1) else {
        return;
    };
    let output = run_quickstart(&[
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://127.0.0.1:9".to_owned(),
        ),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            s.rotel.grpc_endpoint(),
        ),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc".to_owned()),
        (
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            format!("{}/v1/metrics", s.rotel.http_endpoint()),
        ),
        (
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
            "http/protobuf".to_owned(),
        ),
        (
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            format!("{}/v1/logs", s.receiver.http_endpoint()),
        ),
        ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json".to_owned()),
        (
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
            "x-scope-orgid=tenant-7,api-key=k%3Dv".to_owned(),
        ),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment.name=e2e%20test".to_owned(),
        ),
    ]);
    s.wait_for_everything(&output);
    s.check_content("sqlite");
    for req in s.receiver.requests() {
        let ua = req.header("user-agent").unwrap_or_default().to_owned();
        match req.signal {
            otel_testing::Signal::Logs => {
                assert!(
                    ua.starts_with("OTel-OTLP-Exporter-Rust"),
                    "logs go direct: {ua}"
                );
                assert_eq!(req.transport, otel_testing::Transport::HttpJson);
                assert_eq!(req.header("x-scope-orgid"), Some("tenant-7"));
                assert_eq!(req.header("api-key"), Some("k=v"));
            }
            _ => assert!(
                ua.starts_with("Rotel"),
                "{:?} goes through rotel: {ua}",
                req.signal
            ),
        }
    }
}
