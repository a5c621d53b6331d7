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
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::Criterion;
use opentelemetry::metrics::NoopMeterProvider;
use opentelemetry::trace::noop::NoopTracerProvider;
use otel_init::{Telemetry, TelemetryGuard};
use otel_sqlx::InstrumentedPool;
use otel_testing::OtlpReceiver;
use sqlx::{Database, Executor, Pool, Postgres, Sqlite};

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Case {
    Raw,
    Sampled,
    SampledEveryWait,
    Unsampled,
    TracesOnly,
    MetricsOnly,
    Noop,
    Passthrough,
}

const CASES: [Case; 8] = [
    Case::Raw,
    Case::Sampled,
    Case::SampledEveryWait,
    Case::Unsampled,
    Case::TracesOnly,
    Case::MetricsOnly,
    Case::Noop,
    Case::Passthrough,
];

impl Case {
    /// The cases to run: `OTEL_SQLX_BENCH_CASES`, else all.
    fn selected() -> Vec<Case> {
        let chosen = std::env::var("OTEL_SQLX_BENCH_CASES").ok();
        CASES
            .into_iter()
            .filter(|case| {
                *case == Case::Raw
                    || chosen
                        .as_deref()
                        .is_none_or(|list| list.split(',').any(|c| c.trim() == case.name()))
            })
            .collect()
    }

    fn name(self) -> &'static str {
        match self {
            Case::Raw => "raw",
            Case::Sampled => "sampled",
            Case::SampledEveryWait => "sampled_every_wait",
            Case::Unsampled => "unsampled",
            Case::TracesOnly => "traces_only",
            Case::MetricsOnly => "metrics_only",
            Case::Noop => "noop",
            Case::Passthrough => "passthrough",
        }
    }
}

/// A pool as one case uses it.
enum BenchPool<DB: otel_sqlx::InstrumentedDatabase> {
    Raw(Pool<DB>),
    Traced(InstrumentedPool<DB>),
    Passthrough(Pool<DB>),
}

// Not derived: that would require `DB: Clone`.
impl<DB: otel_sqlx::InstrumentedDatabase> Clone for BenchPool<DB> {
    fn clone(&self) -> Self {
        match self {
            BenchPool::Raw(pool) => BenchPool::Raw(pool.clone()),
            BenchPool::Traced(pool) => BenchPool::Traced(pool.clone()),
            BenchPool::Passthrough(pool) => BenchPool::Passthrough(pool.clone()),
        }
    }
}

/// Where the exports go: stands for the collector (its threads are not
/// counted in the client's CPU).
enum Collector {
    /// Decodes and keeps everything.
    Receiver(OtlpReceiver),
    /// Answers every OTLP/HTTP export with an empty success, unread; counts
    /// the bytes.
    Discard(Arc<AtomicU64>),
}

impl Collector {
    /// Starts the collector chosen by `OTEL_SQLX_BENCH_COLLECTOR` on `rt`:
    /// (collector, OTLP endpoint, protocol).
    fn start(rt: &tokio::runtime::Runtime) -> (Self, String, &'static str) {
        if std::env::var("OTEL_SQLX_BENCH_COLLECTOR").is_ok_and(|v| v == "receiver") {
            let receiver = rt.block_on(OtlpReceiver::start()).expect("receiver");
            let endpoint = receiver.grpc_endpoint();
            return (Collector::Receiver(receiver), endpoint, "grpc");
        }
        let bytes = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&bytes);
        let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
            counted.fetch_add(body.len() as u64, Ordering::Relaxed);
            async {
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        });
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        rt.spawn(async move { axum::serve(listener, app).await });
        (
            Collector::Discard(bytes),
            format!("http://{addr}"),
            "http/protobuf",
        )
    }

    fn describe(&self) -> String {
        match self {
            Collector::Receiver(receiver) => {
                format!("the receiver got {} spans", receiver.spans().len())
            }
            Collector::Discard(bytes) => format!(
                "the discarding endpoint got {} MB",
                bytes.load(Ordering::Relaxed) / 1_000_000
            ),
        }
    }
}

struct Pipelines {
    receiver_rt: tokio::runtime::Runtime,
    collector: Collector,
    sampled: TelemetryGuard,
    unsampled: TelemetryGuard,
}

impl Pipelines {
    fn start() -> Self {
        let receiver_rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(RECEIVER_THREADS)
            .enable_all()
            .build()
            .expect("receiver runtime");
        let (collector, endpoint, protocol) = Collector::start(&receiver_rt);
        let guard = |sampler: &str| {
            Telemetry::builder_from_env(&[
                ("OTEL_SERVICE_NAME", "otel-sqlx-bench"),
                ("OTEL_TRACES_SAMPLER", sampler),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ("OTEL_BSP_SCHEDULE_DELAY", "1000"),
                ("OTEL_BSP_MAX_QUEUE_SIZE", "65536"),
                ("OTEL_METRIC_EXPORT_INTERVAL", "1000"),
                ("OTEL_LOGS_EXPORTER", "none"),
                ("OTEL_LOG_LEVEL", "warn"),
            ])
            .without_globals()
            .build()
            .expect("telemetry")
        };
        Pipelines {
            sampled: guard("always_on"),
            unsampled: guard("always_off"),
            receiver_rt,
            collector,
        }
    }

    fn wrap<DB: otel_sqlx::InstrumentedDatabase>(
        &self,
        case: Case,
        pool: Pool<DB>,
    ) -> BenchPool<DB> {
        let guard = match case {
            Case::Raw => return BenchPool::Raw(pool),
            Case::Passthrough => return BenchPool::Passthrough(pool),
            Case::Unsampled => &self.unsampled,
            _ => &self.sampled,
        };
        let tracer = guard.tracer_provider().expect("tracer").clone();
        let meter = guard.meter_provider().expect("meter").clone();
        let mut builder = InstrumentedPool::builder(pool);
        builder = match case {
            Case::MetricsOnly | Case::Noop => builder.tracer_provider(NoopTracerProvider::new()),
            _ => builder.tracer_provider(tracer),
        };
        builder = match case {
            Case::TracesOnly | Case::Noop => builder.meter_provider(NoopMeterProvider::new()),
            _ => builder.meter_provider(meter),
        };
        if case == Case::SampledEveryWait {
            builder = builder.acquire_span_threshold(Duration::ZERO);
        }
        BenchPool::Traced(builder.build())
    }

    /// Exports everything queued, so that each case pays for its own export.
    fn flush(&self) {
        for guard in [&self.sampled, &self.unsampled] {
            guard.force_flush().expect("flush");
        }
    }

    fn shutdown(self) {
        for guard in [self.sampled, self.unsampled] {
            let report = guard.shutdown();
            assert!(report.is_clean(), "{report:?}");
        }
        println!("({})", self.collector.describe());
        drop(self.collector);
        drop(self.receiver_rt);
    }
}

async fn lookup<'p, DB, E>(executor: E, sql: &'static str, id: i64)
where
    DB: Database,
    E: Executor<'p, Database = DB>,
    for<'r> (i64, String): sqlx::FromRow<'r, DB::Row>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as Database>::Arguments: sqlx::IntoArguments<DB>,
{
    let row: (i64, String) = sqlx::query_as(sql)
        .bind(id)
        .fetch_one(executor)
        .await
        .expect("lookup");
    assert_eq!(row.0, id);
}

async fn lookup_on<DB>(pool: &BenchPool<DB>, sql: &'static str, id: i64)
where
    DB: otel_sqlx::InstrumentedDatabase,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'r> (i64, String): sqlx::FromRow<'r, DB::Row>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as Database>::Arguments: sqlx::IntoArguments<DB>,
{
    match pool {
        BenchPool::Raw(pool) => lookup(pool, sql, id).await,
        BenchPool::Traced(pool) => lookup(pool, sql, id).await,
        BenchPool::Passthrough(pool) => {
            // What the wrapper does around a query, without the telemetry:
            // a boxed future that takes a connection from the pool and runs
            // the query on it.
            let pool = pool.clone();
            let fut: futures_util::future::BoxFuture<'_, ()> = Box::pin(async move {
                let mut conn = pool.acquire().await.expect("acquire");
                lookup(&mut *conn, sql, id).await;
            });
            fut.await
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn postgres_available() -> bool {
    use std::net::{TcpStream, ToSocketAddrs};
    let ok = PG_ADDR
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok());
    if !ok {
        println!("SKIPPED: PostgreSQL not reachable at {PG_ADDR}; only SQLite is measured");
    }
    ok
}

async fn sqlite_pool() -> Pool<Sqlite> {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("sqlite");
    sqlx::query("CREATE TABLE bench_items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        .execute(&pool)
        .await
        .expect("create");
    sqlx::query("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) INSERT INTO bench_items SELECT i, 'item ' || i FROM n")
        .bind(ROWS)
        .execute(&pool)
        .await
        .expect("fill");
    pool
}

async fn pg_pool(connections: u32) -> Pool<Postgres> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(connections)
        .min_connections(connections)
        .connect(PG_URL)
        .await
        .expect("postgres");
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS otel_sqlx_bench_items (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO otel_sqlx_bench_items SELECT i, 'item ' || i FROM generate_series(1, 1000) AS i ON CONFLICT DO NOTHING",
    )
    .execute(&pool)
    .await
    .expect("fill");
    pool
}

/// Threads whose names start with this are otel-init's export threads
/// (`otel-export`, and `otel-added` for added exporters).
const EXPORT_THREADS: &str = "otel-";

/// CPU time of this process's threads (the receiver's excluded), split into
/// the export threads' and the rest's (the query path: the runtime's
/// workers, the main thread, SQLite's worker thread), and their context
/// switches, voluntary and not.
#[derive(Clone, Copy, Default)]
struct Usage {
    query_path: Duration,
    export: Duration,
    switches: u64,
}

impl Usage {
    fn now() -> Self {
        let mut usage = Usage::default();
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return usage;
        };
        for task in tasks.flatten() {
            let path = task.path();
            let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
            let comm = comm.trim();
            if comm.starts_with(RECEIVER_THREADS) {
                continue;
            }
            let on_cpu = std::fs::read_to_string(path.join("schedstat"))
                .ok()
                .and_then(|s| {
                    s.split_whitespace()
                        .next()
                        .and_then(|n| n.parse::<u64>().ok())
                })
                .unwrap_or(0);
            if comm.starts_with(EXPORT_THREADS) {
                usage.export += Duration::from_nanos(on_cpu);
            } else {
                usage.query_path += Duration::from_nanos(on_cpu);
            }
            let status = std::fs::read_to_string(path.join("status")).unwrap_or_default();
            usage.switches += status
                .lines()
                .filter(|l| {
                    l.starts_with("voluntary_ctxt_switches")
                        || l.starts_with("nonvoluntary_ctxt_switches")
                })
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>();
        }
        usage
    }
}

/// One slice's figures, per query.
#[derive(Clone, Copy, Default)]
struct Slice {
    queries: u64,
    queries_per_second: f64,
    /// Client CPU, µs: query path and export threads.
    cpu: f64,
    /// Of which the export threads', µs.
    export_cpu: f64,
    switches: f64,
}

/// Runs `clients` loops of lookups for `SLICE`. The queries per second
/// count the query loop; the CPU and the switches also count the flush of
/// the telemetry the loop produced.
fn measure<DB, F>(
    rt: &tokio::runtime::Runtime,
    pipelines: &Pipelines,
    pool: &BenchPool<DB>,
    sql: &'static str,
    clients: usize,
    wrap: F,
) -> Slice
where
    DB: otel_sqlx::InstrumentedDatabase,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'r> (i64, String): sqlx::FromRow<'r, DB::Row>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as Database>::Arguments: sqlx::IntoArguments<DB>,
    F: Fn(u64) -> i64 + Copy + Send + 'static,
{
    let before = Usage::now();
    let started = Instant::now();
    let queries = rt.block_on(async {
        // Each client is a task of its own, as each request is in a service:
        // on a multi-thread runtime they run in parallel.
        let loops: Vec<_> = (0..clients)
            .map(|client| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while started.elapsed() < SLICE {
                        lookup_on(&pool, sql, wrap(n * clients as u64 + client as u64)).await;
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let mut total = 0;
        for client in loops {
            total += client.await.expect("client task");
        }
        total
    });
    let wall = started.elapsed();
    // The export of what this window produced is part of its cost.
    pipelines.flush();
    let after = Usage::now();
    let per_query = |d: Duration| d.as_secs_f64() * 1e6 / queries.max(1) as f64;
    let export = after.export.saturating_sub(before.export);
    let query_path = after.query_path.saturating_sub(before.query_path);
    Slice {
        queries,
        queries_per_second: queries as f64 / wall.as_secs_f64(),
        cpu: per_query(query_path + export),
        export_cpu: per_query(export),
        switches: after.switches.saturating_sub(before.switches) as f64 / queries.max(1) as f64,
    }
}

/// The value at quantile `q` (0..=1) of `values`.
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index]
}

/// [`rounds()`] rounds; in each, every case runs one `SLICE` in turn (the first
/// case rotating), and each case is compared with the `raw` slice of the
/// same round. Prints the median queries per second, the median of the
/// per-round ratios to `raw` (with the interquartile range), and the median
/// per-round difference in client CPU per query.
fn summarize<DB>(
    title: &str,
    rt: &tokio::runtime::Runtime,
    pipelines: &Pipelines,
    pools: &[(Case, BenchPool<DB>)],
    sql: &'static str,
    clients: usize,
) where
    DB: otel_sqlx::InstrumentedDatabase,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'r> (i64, String): sqlx::FromRow<'r, DB::Row>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as Database>::Arguments: sqlx::IntoArguments<DB>,
{
    let cases = pools.len();
    let rounds = rounds();
    // slices[case][round]
    let mut slices = vec![Vec::with_capacity(rounds); cases];
    for round in 0..rounds {
        let mut this_round = vec![Slice::default(); cases];
        for k in 0..cases {
            let i = (round + k) % cases;
            this_round[i] = measure(rt, pipelines, &pools[i].1, sql, clients, |n| {
                (n % ROWS as u64) as i64 + 1
            });
        }
        for (case, slice) in slices.iter_mut().zip(this_round) {
            case.push(slice);
        }
    }
    println!(
        "\n{title}, {clients} client(s): {rounds} rounds of {SLICE:?} per case, medians (ratios per round, p25..p75)"
    );
    println!(
        "{:<20} {:>10} {:>22} {:>12} {:>14} {:>14} {:>16}",
        "case", "queries/s", "vs raw", "CPU/query", "CPU vs raw", "export thread", "switches/query"
    );
    // Medians of one figure, and of its difference from raw's in the same round.
    let median = |i: usize, figure: fn(&Slice) -> f64| {
        let values: Vec<f64> = slices[i].iter().map(figure).collect();
        quantile(&values, 0.5)
    };
    let median_diff = |i: usize, figure: fn(&Slice) -> f64| {
        let diffs: Vec<f64> = (0..rounds)
            .map(|r| figure(&slices[i][r]) - figure(&slices[0][r]))
            .collect();
        quantile(&diffs, 0.5)
    };
    for (i, (case, _)) in pools.iter().enumerate() {
        let ratios: Vec<f64> = (0..rounds)
            .map(|r| {
                (slices[i][r].queries_per_second / slices[0][r].queries_per_second - 1.0) * 100.0
            })
            .collect();
        println!(
            "{:<20} {:>10.0} {:>+7.1}% ({:>+5.1}..{:>+5.1}) {:>9.1} µs {:>+11.2} µs {:>+11.2} µs {:>7.2} ({:>+5.2})",
            case.name(),
            median(i, |s| s.queries_per_second),
            quantile(&ratios, 0.5),
            quantile(&ratios, 0.25),
            quantile(&ratios, 0.75),
            median(i, |s| s.cpu),
            median_diff(i, |s| s.cpu),
            median_diff(i, |s| s.export_cpu),
            median(i, |s| s.switches),
            median_diff(i, |s| s.switches),
        );
    }
}

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
