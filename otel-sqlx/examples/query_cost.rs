//! Runs a number of point lookups through sqlx alone or through the
//! instrumented pool, for counting the instructions the query path costs:
//! deterministic, unlike wall or CPU time on a busy machine.
//!
//! ```text
//! cargo build --release -p otel-sqlx --example query_cost
//! valgrind --tool=callgrind \
//!     target/release/examples/query_cost <raw|noop|unsampled|declared|sampled|sampled_every_wait> <sqlite|postgres> <queries>
//! ```
//!
//! Run each case with two query counts (say 1000 and 3000): the difference
//! of the totals divided by the difference of the counts is the cost per
//! query, start-up excluded. (Under valgrind the PostgreSQL figures also
//! count extra runtime wake-ups that its slowed-down scheduling causes;
//! SQLite's are the cleaner ones.) `sampled` builds and ends a recording span per
//! query (batch processor, OTLP/gRPC exporter towards a closed port, so
//! nothing is encoded: the export thread's cost is not on the query path
//! anyway); all traced cases record the metrics (periodic reader, OTLP, long
//! interval), except `noop`: no-op tracer and meter providers, so that only
//! this crate's own work is counted (names, attributes, the wait's
//! bookkeeping). `declared`: otel-init with its globals and default sampler
//! (parent-based, always on, declared to `otel_http::sampling`), the pool on
//! the global provider, every query in an unsampled trace: nine queries in
//! ten at 10 % sampling. PostgreSQL at `postgres://postgres@127.0.0.1:5432/test`.

use std::time::Duration;

use opentelemetry::context::FutureExt as _;
use opentelemetry::metrics::NoopMeterProvider;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::trace::noop::NoopTracerProvider;
use otel_init::{Telemetry, TelemetryGuard};
use otel_sqlx::InstrumentedPool;
use sqlx::{Database, Executor, Pool};

const ROWS: i64 = 1000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (case, database, queries) = match args.as_slice() {
        [_, case, database, queries] => (case.as_str(), database.as_str(), queries.parse::<u64>()?),
        _ => return Err("usage: query_cost <raw|noop|unsampled|declared|sampled|sampled_every_wait> <sqlite|postgres> <queries>".into()),
    };
    let telemetry = match case {
        "unsampled" => pipeline("always_off", false)?,
        "declared" => pipeline("parentbased_always_on", true)?,
        _ => pipeline("always_on", false)?,
    };
    match database {
        "sqlite" => {
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect("sqlite::memory:")
                .await?;
            sqlx::query("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
                .execute(&pool)
                .await?;
            sqlx::query("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) INSERT INTO items SELECT i, 'item ' || i FROM n")
                .bind(ROWS)
                .execute(&pool)
                .await?;
            run(
                case,
                pool,
                &telemetry,
                "SELECT id, name FROM items WHERE id = $1",
                queries,
            )
            .await
        }
        "postgres" => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect("postgres://postgres@127.0.0.1:5432/test")
                .await?;
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS otel_sqlx_bench_items (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
                 INSERT INTO otel_sqlx_bench_items SELECT i, 'item ' || i FROM generate_series(1, 1000) AS i ON CONFLICT DO NOTHING",
            )
            .execute(&pool)
            .await?;
            run(
                case,
                pool,
                &telemetry,
                "SELECT id, name FROM otel_sqlx_bench_items WHERE id = $1",
                queries,
            )
            .await
        }
        other => Err(format!("unknown database {other}").into()),
    }
}

fn pipeline(sampler: &str, globals: bool) -> Result<TelemetryGuard, otel_init::InitError> {
    let builder = Telemetry::builder_from_env(&[
        ("OTEL_TRACES_SAMPLER", sampler),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "65536"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "600000"),
        ("OTEL_LOGS_EXPORTER", "none"),
        ("OTEL_LOG_LEVEL", "error"),
    ]);
    let builder = if globals {
        builder
    } else {
        builder.without_globals()
    };
    builder.shutdown_timeout(Duration::from_millis(100)).build()
}

async fn run<DB>(
    case: &str,
    pool: Pool<DB>,
    telemetry: &TelemetryGuard,
    sql: &'static str,
    queries: u64,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB: otel_sqlx::InstrumentedDatabase,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'r> (i64, String): sqlx::FromRow<'r, DB::Row>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    <DB as Database>::Arguments: sqlx::IntoArguments<DB>,
{
    if case == "raw" {
        return run_queries(&pool, sql, queries).await;
    }
    let mut builder = InstrumentedPool::builder(pool);
    if case == "noop" {
        builder = builder
            .tracer_provider(NoopTracerProvider::new())
            .meter_provider(NoopMeterProvider::new());
    } else if case == "declared" {
        // The global tracer provider; the meter provider as in the other cases.
        if let Some(provider) = telemetry.meter_provider() {
            builder = builder.meter_provider(provider.clone());
        }
        let unsampled = opentelemetry::Context::new().with_remote_span_context(
            opentelemetry::trace::SpanContext::new(
                opentelemetry::trace::TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128),
                opentelemetry::trace::SpanId::from(7u64),
                opentelemetry::trace::TraceFlags::default(),
                true,
                Default::default(),
            ),
        );
        return run_queries(&builder.build(), sql, queries)
            .with_context(unsampled)
            .await;
    } else {
        if let Some(provider) = telemetry.tracer_provider() {
            builder = builder.tracer_provider(provider.clone());
        }
        if let Some(provider) = telemetry.meter_provider() {
            builder = builder.meter_provider(provider.clone());
        }
    }
    if case == "sampled_every_wait" {
        builder = builder.acquire_span_threshold(Duration::ZERO);
    }
    run_queries(&builder.build(), sql, queries).await
}

/// The measured loop.
async fn run_queries<'p, DB, E>(
    executor: E,
    sql: &'static str,
    queries: u64,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB: Database,
    E: Executor<'p, Database = DB> + Copy,
    for<'r> (i64, String): sqlx::FromRow<'r, DB::Row>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    <DB as Database>::Arguments: sqlx::IntoArguments<DB>,
{
    for n in 0..queries {
        let id = (n % ROWS as u64) as i64 + 1;
        let row: (i64, String) = sqlx::query_as(sql).bind(id).fetch_one(executor).await?;
        if row.0 != id {
            return Err("wrong row".into());
        }
    }
    Ok(())
}
