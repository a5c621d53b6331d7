//! sqlx writes a warning for every statement slower than 1 s (on by
//! default), with the whole SQL text and its literals. Through an
//! instrumented pool and `otel_init`'s subscriber, no such literal reaches
//! the JSON log lines, the exported log records or the spans; the slow
//! statement is found by its span instead. Run in a child process (this test
//! binary again) so that `init()` installs its own global subscriber, against
//! the PostgreSQL on 127.0.0.1:5432 (skipped with a message when it is not
//! there, failed on CI).

use otel_testing::{ReceiverOnRuntime, attr, require_service};
use std::time::Duration;
use tracing::Instrument;

const CHILD: &str = "OTEL_SQLX_LOGS_TEST_CHILD";
const PG_ADDR: &str = "127.0.0.1:5432";
const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// The literal that must not leave the process.
const SECRET: &str = "hunter2-in-a-slow-query";

/// The child's side: a service that initialises telemetry from its
/// environment, opens its pool as usual (one connection opened before the
/// pool is instrumented) and runs one slow query carrying a literal, inside
/// a request's span.
#[test]
fn child_process() {
    if !otel_testing::is_child_run(CHILD) {
        return;
    }
    println!();
    let guard = otel_init::Telemetry::builder()
        .service_name("slow-sql")
        .init()
        .expect("init");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(
        async {
            let sqlx_pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(PG_URL)
                .await
                .expect("connect to PostgreSQL");
            let pool = otel_sqlx::InstrumentedPool::new(sqlx_pool);
            let sql = format!("SELECT pg_sleep(1.1), '{SECRET}'::text");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .expect("slow query");
            tracing::info!("slow query done");
            pool.close().await;
        }
        .instrument(tracing::info_span!("GET /report")),
    );
    drop(guard);
}

struct Run {
    stdout: String,
    receiver: ReceiverOnRuntime,
}

fn run_child(rust_log: Option<&str>) -> Run {
    let receiver = ReceiverOnRuntime::start(1).expect("receiver");
    let endpoint = receiver.http_endpoint();
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_INIT_LOG_FORMAT", "json"),
    ];
    env.extend(rust_log.map(|filter| ("RUST_LOG", filter)));
    let out = otel_testing::rerun_test("child_process", CHILD, &env);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        receiver.wait_for(Duration::from_secs(20), |r| {
            r.spans().iter().any(|s| s.name == "GET /report") && !r.log_records().is_empty()
        }),
        "the request's span and log records did not arrive"
    );
    Run { stdout, receiver }
}

#[test]
fn a_slow_query_leaves_no_literal_in_logs_log_records_or_spans() {
    if !require_service("PostgreSQL", PG_ADDR) {
        return;
    }
    let run = run_child(None);
    assert!(
        run.stdout.contains("slow query done"),
        "the JSON lines: {}",
        run.stdout
    );
    assert!(
        !run.stdout.contains(SECRET),
        "a literal in the log output: {}",
        run.stdout
    );
    let records = format!("{:?}", run.receiver.log_records());
    assert!(
        !records.contains(SECRET),
        "a literal in a log record: {records}"
    );
    let spans = run.receiver.spans();
    let exported = format!("{spans:?}");
    assert!(
        !exported.contains(SECRET),
        "a literal in a span: {exported}"
    );
    // The slow statement is found by its span: sanitized text, its duration.
    let query = spans
        .iter()
        .find(|s| s.name.starts_with("SELECT"))
        .unwrap_or_else(|| panic!("no query span in {exported}"));
    assert_eq!(
        attr(&query.attributes, "db.query.text").as_deref(),
        Some("SELECT pg_sleep(?), ?::text")
    );
    let nanos = query.end_time_unix_nano - query.start_time_unix_nano;
    assert!(nanos >= 1_100_000_000, "{nanos} ns");
}

#[test]
fn naming_sqlx_query_in_rust_log_lets_the_warning_through() {
    if !require_service("PostgreSQL", PG_ADDR) {
        return;
    }
    // The opt-in, and the proof that the test above would see the warning:
    // it comes from the connection opened before the pool was instrumented.
    let run = run_child(Some("info,sqlx::query=warn"));
    let warning = run
        .stdout
        .lines()
        .find(|l| l.contains("slow statement"))
        .unwrap_or_else(|| panic!("no slow-statement warning in {}", run.stdout));
    assert!(warning.contains(SECRET), "{warning}");
}
