//! The 20-second page, in small: a pool of 2 connections, 10 concurrent
//! requests of 300 ms each. The exported trace must show the queueing as
//! "acquire connection" spans beside the (short) queries, and the metrics
//! must show the pending requests and the wait time.
#![cfg(feature = "postgres")]

mod common;

use std::time::{Duration, Instant};

use common::*;
use sqlx::postgres::PgPoolOptions;

const POOL_SIZE: u32 = 2;
const REQUESTS: usize = 10;
const QUERY_TIME: Duration = Duration::from_millis(300);

#[test]
fn pool_starvation_shows_as_waits_in_the_trace_and_the_metrics() {
    if !otel_testing::require_service("PostgreSQL", PG_ADDR) {
        return;
    }
    let mut env = Env::start();
    let (root, elapsed) = env.run(async {
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(30))
            .connect(PG_URL)
            .await
            .expect("connect");
        // Open both connections first, untraced, so the waits below are queueing only.
        let warm = (0..POOL_SIZE).map(|_| sqlx::query("SELECT pg_sleep(0.05)").execute(&pool));
        futures_util::future::try_join_all(warm)
            .await
            .expect("warm up");
        let pool = env.instrumented(pool).build();

        let started = Instant::now();
        let (root, results) = env
            .in_root("GET /products", async {
                let requests = (0..REQUESTS).map(|i| {
                    sqlx::query("SELECT pg_sleep($1), $2::int AS request")
                        .bind(QUERY_TIME.as_secs_f64())
                        .bind(i as i32)
                        .execute(&pool)
                });
                futures_util::future::join_all(requests).await
            })
            .await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        (root, started.elapsed())
    });
    let spans = env.finish();

    let queries: Vec<_> = spans
        .iter()
        .filter(|s| s.kind == CLIENT && s.parent_span_id == root)
        .collect();
    let waits: Vec<_> = named(&spans, "acquire connection")
        .into_iter()
        .filter(|s| s.parent_span_id == root)
        .collect();
    assert_eq!(queries.len(), REQUESTS);
    assert_eq!(
        waits.len(),
        REQUESTS,
        "one wait per request, beside its query"
    );

    // Each query took its 300 ms; nothing in it shows the queueing.
    for query in &queries {
        assert_eq!(query.name, "SELECT");
        let took = duration(query);
        assert!(took >= QUERY_TIME - Duration::from_millis(10), "{took:?}");
        assert!(took < QUERY_TIME * 3, "{took:?}");
    }
    // The waits do: 10 requests over 2 connections wait 0, 0, 1, 1, …, 4, 4
    // query times, 6 s in total, and the last ones about 1.2 s each.
    let waited: Vec<Duration> = waits.iter().map(|w| duration(w)).collect();
    let total: Duration = waited.iter().sum();
    let longest = waited.iter().max().copied().unwrap_or_default();
    assert!(
        total >= Duration::from_millis(4500),
        "total wait {total:?}: {waited:?}"
    );
    assert!(
        longest >= Duration::from_millis(1100),
        "longest wait {longest:?}"
    );
    assert!(elapsed >= QUERY_TIME * (REQUESTS as u32 / POOL_SIZE));
    // Everyone arrived at once: the first two got a connection, the other
    // eight found the pool busy and queued behind each other.
    let pending_at_start: Vec<i64> = waits
        .iter()
        .filter_map(|w| int(w, "db.client.connection.pool.pending_requests"))
        .collect();
    let queued = (REQUESTS - POOL_SIZE as usize) as i64;
    assert!(
        pending_at_start
            .iter()
            .max()
            .is_some_and(|&max| max >= queued),
        "{pending_at_start:?}"
    );
    assert!(
        waits
            .iter()
            .any(|w| int(w, "db.client.connection.pool.idle") == Some(0))
    );
    assert!(
        waits
            .iter()
            .all(|w| int(w, "db.client.connection.pool.max") == Some(i64::from(POOL_SIZE)))
    );
    // Every query starts right after its own wait ends: siblings, in sequence.
    for wait in &waits {
        let next_query = queries
            .iter()
            .filter(|q| q.start_time_unix_nano >= wait.end_time_unix_nano)
            .map(|q| q.start_time_unix_nano - wait.end_time_unix_nano)
            .min()
            .expect("a query after each wait");
        assert!(
            next_query < 50_000_000,
            "query starts {next_query} ns after its wait"
        );
    }

    let metrics = env.receiver.metrics_with_resource();
    let pending = number_points(&metrics, "db.client.connection.pending_requests");
    let peak = pending.iter().map(|(_, v)| *v).fold(0.0, f64::max);
    assert!(
        peak >= 4.0,
        "pending requests peaked at {peak}: {pending:?}"
    );
    let (count, sum, _) = histogram(
        &metrics,
        "db.client.connection.wait_time",
        ("db.client.connection.pool.name", "127.0.0.1:5432/test"),
    )
    .expect("wait time");
    assert_eq!(count, REQUESTS as u64);
    assert!(sum >= 4.5, "wait time sum {sum}");
    let used = number_points(&metrics, "db.client.connection.count")
        .into_iter()
        .filter(|(attrs, _)| attr(attrs, "db.client.connection.state").as_deref() == Some("used"))
        .map(|(_, v)| v)
        .fold(0.0, f64::max);
    assert_eq!(used, f64::from(POOL_SIZE), "both connections busy");
}
