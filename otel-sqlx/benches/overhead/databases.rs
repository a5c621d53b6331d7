//! The databases: pools, the lookup every case runs, and whether
//! PostgreSQL is there.

use std::time::Duration;

use sqlx::{Database, Executor, Pool, Postgres, Sqlite};

use crate::cases::BenchPool;
use crate::{PG_ADDR, PG_URL, ROWS};

pub(crate) async fn lookup<'p, DB, E>(executor: E, sql: &'static str, id: i64)
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

pub(crate) async fn lookup_on<DB>(pool: &BenchPool<DB>, sql: &'static str, id: i64)
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

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

pub(crate) fn postgres_available() -> bool {
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

pub(crate) async fn sqlite_pool() -> Pool<Sqlite> {
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

pub(crate) async fn pg_pool(connections: u32) -> Pool<Postgres> {
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
