//! The cost of the instrumentation per query: the same point lookup through
//! a bare `sqlx::Pool` and through an [`InstrumentedPool`], on SQLite in
//! memory and on the PostgreSQL at 127.0.0.1:5432 (skipped with a message
//! when it is not there).
//!
//! Cases, all on the same sqlx pool of one connection (four for the
//! concurrent PostgreSQL run), so that they share the database backend:
//! - `raw`: sqlx alone.
//! - `sampled`: the defaults, with the SDK pipeline of `otel-init`,
//!   `always_on`, spans exported over OTLP (batch processor) to an
//!   in-process endpoint standing for the collector, metrics exported every
//!   second: one span per query
//!   (waits for an idle connection are under the 1 ms span threshold) and
//!   three histogram measurements.
//! - `sampled_every_wait`: the same with `acquire_span_threshold(ZERO)`: two
//!   spans per query.
//! - `unsampled`: `always_off`: spans are created and dropped, metrics kept.
//! - `traces_only`: `sampled` with a no-op meter provider: what the spans
//!   cost without the metrics.
//! - `metrics_only`: a no-op tracer provider and the metrics of `sampled`:
//!   what the metrics cost without spans.
//! - `noop`: no-op tracer and meter providers: the wrapper's own work
//!   (names, attributes, the future around the query), no SDK.
//! - `passthrough`: no wrapper, but the shape of one: a boxed future that
//!   takes a connection from the pool and runs the query on it (bare sqlx
//!   does the same inside its pool executor), to tell the cost of that
//!   shape from the cost of the wrapper's work.
//!
//! 1. Criterion: latency of one query, each case.
//! 2. Summary, robust to a busy shared machine: 40 rounds
//!    (`OTEL_SQLX_BENCH_ROUNDS`); in each, every
//!    case runs for 100 ms (in rotating order) and is compared with the
//!    `raw` slice of the same round; medians of those paired ratios. For
//!    PostgreSQL also with four concurrent clients, each a task of its own
//!    on a two-thread runtime (as each request is in a service). The context
//!    switches per query of the process's threads are counted too. Client CPU is the CPU
//!    time of this process's threads except the receiver's (which stands for
//!    the collector): the query path plus the export thread, each slice
//!    ending with a flush so that every case pays for its own export (and
//!    only its own). SQLite runs inside the process, so its CPU is in the
//!    figure too. The export threads' share (otel-init's `otel-export`:
//!    batching, encoding, sending, and the metric reader) is also given
//!    apart, as a difference from `raw`'s (whose export thread only sends
//!    the metrics of the other cases' slices, if any are due).
//!
//! The collector stand-in is, by default, an OTLP/HTTP endpoint that
//! answers every export with an empty success without reading it: the
//! client still encodes and sends everything, but the machine's two cores
//! are not also spent decoding and storing a million spans, as a collector
//! elsewhere would not be. `OTEL_SQLX_BENCH_COLLECTOR=receiver` exports over
//! gRPC to otel-testing's `OtlpReceiver` instead (decodes and keeps every
//! span: the setup of the first published figures).
//!
//! Instructions per query, for the query path alone: the `query_cost`
//! example.
//!
//! 3. Profiling: `OTEL_SQLX_BENCH_PROFILE=<case>` runs only that case with
//!    four concurrent PostgreSQL clients for `OTEL_SQLX_BENCH_PROFILE_SECS`
//!    (10) and prints the queries it made and its CPU per query, for a
//!    profiler around the process (`perf record -e cpu-clock -g`), one
//!    process per case, whose samples divided by the queries give each
//!    symbol's time per query.
//!
//! Run with `cargo bench -p otel-sqlx --bench overhead`.
//! `OTEL_SQLX_BENCH_ONLY` picks parts, comma-separated: `sqlite`,
//! `postgres` (one client), `postgres_concurrent`; all by default.
//! `OTEL_SQLX_BENCH_CASES` picks cases the same way (`raw` always runs: it
//! is the baseline).

use std::future::Future;
use std::time::Duration;

use criterion::Criterion;
use sqlx::{Database, Executor, Pool, Postgres};

const PG_ADDR: &str = "127.0.0.1:5432";
const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const RECEIVER_THREADS: &str = "bench-receiver";
/// Rounds of the summary; `OTEL_SQLX_BENCH_ROUNDS` overrides.
const DEFAULT_ROUNDS: usize = 40;

/// Whether `part` is to run (`OTEL_SQLX_BENCH_ONLY`).
fn selected(part: &str) -> bool {
    match std::env::var("OTEL_SQLX_BENCH_ONLY") {
        Ok(parts) => parts.split(',').any(|p| p.trim() == part),
        Err(_) => true,
    }
}

fn rounds() -> usize {
    std::env::var("OTEL_SQLX_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(DEFAULT_ROUNDS)
}
const SLICE: Duration = Duration::from_millis(100);
const CONCURRENT_CLIENTS: usize = 4;
const ROWS: i64 = 1000;

const SQLITE_LOOKUP: &str = "SELECT id, name FROM bench_items WHERE id = $1";
const PG_LOOKUP: &str = "SELECT id, name FROM otel_sqlx_bench_items WHERE id = $1";

mod cases;
mod databases;
mod measure;

use cases::{BenchPool, CASES, Case, Pipelines};
use databases::{lookup_on, pg_pool, postgres_available, runtime, sqlite_pool};
use measure::{measure, summarize};

fn bench_database<DB, Fut>(
    c: &mut Criterion,
    pipelines: &Pipelines,
    name: &str,
    sql: &'static str,
    connect: impl Fn() -> Fut,
) where
    DB: otel_sqlx::InstrumentedDatabase,
    Fut: Future<Output = Pool<DB>>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'r> (i64, String): sqlx::FromRow<'r, DB::Row>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as Database>::Arguments: sqlx::IntoArguments<DB>,
{
    let rt = runtime();
    // One sqlx pool shared by every case: the same connection (and database
    // backend process), so that no case is favoured by where the scheduler
    // put its backend.
    let base = rt.block_on(connect());
    let pools: Vec<(Case, BenchPool<DB>)> = Case::selected()
        .into_iter()
        .map(|case| (case, pipelines.wrap(case, base.clone())))
        .collect();
    let mut group = c.benchmark_group(name);
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (case, pool) in &pools {
        // Start each case with nothing left to export from the previous one.
        pipelines.flush();
        let mut id = 0u64;
        group.bench_function(case.name(), |b| {
            b.to_async(&rt).iter(|| {
                id += 1;
                lookup_on(pool, sql, (id % ROWS as u64) as i64 + 1)
            })
        });
    }
    group.finish();
    summarize(name, &rt, pipelines, &pools, sql, 1);
    for (_, pool) in pools {
        match pool {
            BenchPool::Raw(p) | BenchPool::Passthrough(p) => rt.block_on(p.close()),
            BenchPool::Traced(p) => rt.block_on(p.close()),
        }
    }
}

/// `OTEL_SQLX_BENCH_PROFILE=<case>`: one case alone, four PostgreSQL clients.
fn profile(case_name: &str) {
    let Some(case) = CASES.into_iter().find(|c| c.name() == case_name) else {
        eprintln!("OTEL_SQLX_BENCH_PROFILE: expected one of the case names, got {case_name:?}");
        std::process::exit(2);
    };
    if !postgres_available() {
        eprintln!("OTEL_SQLX_BENCH_PROFILE needs PostgreSQL at {PG_ADDR}");
        std::process::exit(2);
    }
    let secs: u64 = std::env::var("OTEL_SQLX_BENCH_PROFILE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let pipelines = Pipelines::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let pool = pipelines.wrap(case, rt.block_on(pg_pool(CONCURRENT_CLIENTS as u32)));
    let slices = (secs * 1000 / SLICE.as_millis() as u64).max(1);
    let (mut queries, mut cpu, mut export) = (0.0, 0.0, 0.0);
    for _ in 0..slices {
        let slice = measure(&rt, &pipelines, &pool, PG_LOOKUP, CONCURRENT_CLIENTS, |n| {
            (n % ROWS as u64) as i64 + 1
        });
        let n = slice.queries as f64;
        queries += n;
        cpu += slice.cpu * n;
        export += slice.export_cpu * n;
    }
    println!(
        "profile {}: {queries:.0} queries, {:.1} µs client CPU per query ({:.2} µs of it the export threads')",
        case.name(),
        cpu / queries,
        export / queries
    );
    drop(pool);
    drop(rt);
    pipelines.shutdown();
}

fn main() {
    if let Ok(case) = std::env::var("OTEL_SQLX_BENCH_PROFILE") {
        return profile(&case);
    }
    let mut criterion = Criterion::default().configure_from_args();
    let pipelines = Pipelines::start();

    if selected("sqlite") {
        bench_database(
            &mut criterion,
            &pipelines,
            "sqlite_memory",
            SQLITE_LOOKUP,
            sqlite_pool,
        );
    }
    let postgres =
        (selected("postgres") || selected("postgres_concurrent")) && postgres_available();
    if postgres && selected("postgres") {
        bench_database(
            &mut criterion,
            &pipelines,
            "postgres_loopback",
            PG_LOOKUP,
            || pg_pool(1),
        );
    }
    if postgres && selected("postgres_concurrent") {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let base = rt.block_on(pg_pool(CONCURRENT_CLIENTS as u32));
        let pools: Vec<(Case, BenchPool<Postgres>)> = Case::selected()
            .into_iter()
            .map(|case| (case, pipelines.wrap(case, base.clone())))
            .collect();
        summarize(
            "postgres_loopback_concurrent",
            &rt,
            &pipelines,
            &pools,
            PG_LOOKUP,
            CONCURRENT_CLIENTS,
        );
    }
    pipelines.shutdown();
    criterion.final_summary();
}
