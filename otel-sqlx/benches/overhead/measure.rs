//! Measuring a slice of lookups (queries, CPU per thread group, context
//! switches) and summarizing rounds of them against `raw`.

use std::time::{Duration, Instant};

use sqlx::{Database, Executor};

use crate::cases::{BenchPool, Case, Pipelines};
use crate::databases::lookup_on;
use crate::{RECEIVER_THREADS, ROWS, SLICE, rounds};

/// Threads whose names start with this are otel-init's export threads
/// (`otel-export`, and `otel-added` for added exporters).
pub(crate) const EXPORT_THREADS: &str = "otel-";

/// CPU time of this process's threads (the receiver's excluded), split into
/// the export threads' and the rest's (the query path: the runtime's
/// workers, the main thread, SQLite's worker thread), and their context
/// switches, voluntary and not.
#[derive(Clone, Copy, Default)]
pub(crate) struct Usage {
    query_path: Duration,
    export: Duration,
    switches: u64,
}

impl Usage {
    pub(crate) fn now() -> Self {
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
pub(crate) struct Slice {
    pub(crate) queries: u64,
    pub(crate) queries_per_second: f64,
    /// Client CPU, µs: query path and export threads.
    pub(crate) cpu: f64,
    /// Of which the export threads', µs.
    pub(crate) export_cpu: f64,
    pub(crate) switches: f64,
}

/// Runs `clients` loops of lookups for `SLICE`. The queries per second
/// count the query loop; the CPU and the switches also count the flush of
/// the telemetry the loop produced.
pub(crate) fn measure<DB, F>(
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
pub(crate) fn quantile(values: &[f64], q: f64) -> f64 {
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
pub(crate) fn summarize<DB>(
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
