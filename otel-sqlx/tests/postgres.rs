//! Against the PostgreSQL on 127.0.0.1:5432 (skipped with a message when it
//! is not there, failed on CI): every kind of operation, errors with their
//! SQLSTATE (syntax, constraint, statement timeout), cancellation, streams
//! dropped early, transactions and sanitization of real queries.
#![cfg(feature = "postgres")]

mod common;

use std::time::Duration;

use common::*;
use futures_util::{StreamExt, TryStreamExt};
use otel_sqlx::InstrumentedPool;
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::{Postgres, Row};

fn postgres_available() -> bool {
    otel_testing::require_service("PostgreSQL", PG_ADDR)
}

async fn pg_pool(env: &Env, max: u32) -> InstrumentedPool<Postgres> {
    let pool = PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        .connect(PG_URL)
        .await
        .expect("connect to PostgreSQL");
    env.instrumented(pool).build()
}

/// A fresh table for one test (tests run in parallel).
async fn fresh_table(pool: &InstrumentedPool<Postgres>, table: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id SERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, price NUMERIC)"
    )))
    .execute(pool.untraced())
    .await
    .expect("create table");
}

fn with_text<'a>(
    spans: &'a [opentelemetry_proto::tonic::trace::v1::Span],
    text: &str,
) -> &'a opentelemetry_proto::tonic::trace::v1::Span {
    spans
        .iter()
        .find(|s| a(s, "db.query.text").as_deref() == Some(text))
        .unwrap_or_else(|| panic!("no span with db.query.text {text:?}"))
}

#[test]
fn every_operation_kind_on_postgres() {
    if !postgres_available() {
        return;
    }
    let mut env = Env::start();
    let root = env.run(async {
        let pool = pg_pool(&env, 3).await;
        fresh_table(&pool, "otel_sqlx_pg_ops").await;
        let (root, ()) = env
            .in_root("request", async {
                let insert = "INSERT INTO otel_sqlx_pg_ops (name, price) VALUES ($1, $2), ($3, $4)";
                let done = sqlx::query(insert)
                    .bind("lamp")
                    .bind(9.5f64)
                    .bind("desk")
                    .bind(120f64)
                    .execute(&pool)
                    .await
                    .expect("insert");
                assert_eq!(done.rows_affected(), 2);
                let rows: Vec<(i32, String)> =
                    sqlx::query_as("SELECT id, name FROM otel_sqlx_pg_ops ORDER BY id")
                        .fetch_all(&pool)
                        .await
                        .expect("query_as");
                assert_eq!(rows.len(), 2);
                let name: String =
                    sqlx::query_scalar("SELECT name FROM otel_sqlx_pg_ops WHERE id = $1")
                        .bind(rows[0].0)
                        .fetch_one(&pool)
                        .await
                        .expect("fetch_one");
                assert_eq!(name, "lamp");
                let missing = sqlx::query("SELECT name FROM otel_sqlx_pg_ops WHERE name = $1")
                    .bind("nope")
                    .fetch_optional(&pool)
                    .await
                    .expect("fetch_optional");
                assert!(missing.is_none());
                let streamed: Vec<PgRow> =
                    sqlx::query("SELECT * FROM otel_sqlx_pg_ops WHERE price > $1")
                        .bind(1f64)
                        .fetch(&pool)
                        .try_collect()
                        .await
                        .expect("fetch stream");
                assert_eq!(streamed.len(), 2);
                let updated = sqlx::query(
                    "UPDATE otel_sqlx_pg_ops SET price = price + 1 WHERE name = ANY($1)",
                )
                .bind(vec!["lamp", "desk"])
                .execute(&pool)
                .await
                .expect("update");
                assert_eq!(updated.rows_affected(), 2);
                let deleted =
                    sqlx::query("DELETE FROM otel_sqlx_pg_ops WHERE name = $1 RETURNING id")
                        .bind("desk")
                        .fetch_all(&pool)
                        .await
                        .expect("delete returning");
                assert_eq!(deleted.len(), 1);
                let mut conn = pool.acquire().await.expect("acquire");
                let left: i64 = sqlx::query_scalar("SELECT count(*) FROM otel_sqlx_pg_ops")
                    .fetch_one(&mut *conn)
                    .await
                    .expect("count on an acquired connection");
                assert_eq!(left, 1);
            })
            .await;
        root
    });
    let spans = env.finish();

    let insert = with_text(
        &spans,
        "INSERT INTO otel_sqlx_pg_ops (name, price) VALUES ($1, $2), ($3, $4)",
    );
    assert_eq!(insert.name, "INSERT otel_sqlx_pg_ops");
    assert_eq!(int(insert, "db.response.affected_rows"), Some(2));
    let select = with_text(&spans, "SELECT id, name FROM otel_sqlx_pg_ops ORDER BY id");
    assert_eq!(select.name, "SELECT otel_sqlx_pg_ops");
    assert_eq!(int(select, "db.response.returned_rows"), Some(2));
    assert_eq!(
        int(
            with_text(&spans, "SELECT name FROM otel_sqlx_pg_ops WHERE id = $1"),
            "db.response.returned_rows"
        ),
        Some(1)
    );
    assert_eq!(
        int(
            with_text(&spans, "SELECT name FROM otel_sqlx_pg_ops WHERE name = $1"),
            "db.response.returned_rows"
        ),
        Some(0)
    );
    assert_eq!(
        int(
            with_text(&spans, "SELECT * FROM otel_sqlx_pg_ops WHERE price > $1"),
            "db.response.returned_rows"
        ),
        Some(2)
    );
    let update = with_text(
        &spans,
        "UPDATE otel_sqlx_pg_ops SET price = price + 1 WHERE name = ANY($1)",
    );
    assert_eq!(int(update, "db.response.affected_rows"), Some(2));
    let delete = with_text(
        &spans,
        "DELETE FROM otel_sqlx_pg_ops WHERE name = $1 RETURNING id",
    );
    assert_eq!(delete.name, "DELETE otel_sqlx_pg_ops");
    assert_eq!(int(delete, "db.response.returned_rows"), Some(1));
    let on_acquired = with_text(&spans, "SELECT count(*) FROM otel_sqlx_pg_ops");
    assert_eq!(on_acquired.name, "SELECT otel_sqlx_pg_ops");
    assert_eq!(int(on_acquired, "db.response.returned_rows"), Some(1));

    for span in spans.iter().filter(|s| s.kind == CLIENT) {
        assert_eq!(span.parent_span_id, root);
        assert_eq!(a(span, "db.system.name").as_deref(), Some("postgresql"));
        assert_eq!(a(span, "db.namespace").as_deref(), Some("test"));
        assert_eq!(a(span, "server.address").as_deref(), Some("127.0.0.1"));
        assert_eq!(int(span, "server.port"), Some(5432));
        assert_eq!(
            a(span, "db.collection.name").as_deref(),
            Some("otel_sqlx_pg_ops")
        );
    }
    let waits = named(&spans, "acquire connection");
    assert_eq!(
        waits.len(),
        8,
        "seven operations on the pool and one acquire"
    );
    assert!(
        waits
            .iter()
            .all(|w| a(w, "db.client.connection.pool.name").as_deref()
                == Some("127.0.0.1:5432/test"))
    );
}

#[test]
fn postgres_errors_carry_their_sqlstate() {
    if !postgres_available() {
        return;
    }
    let mut env = Env::start();
    env.run(async {
        let pool = pg_pool(&env, 2).await;
        fresh_table(&pool, "otel_sqlx_pg_errors").await;
        sqlx::query("SELEC 1")
            .execute(&pool)
            .await
            .expect_err("syntax error");
        let insert = "INSERT INTO otel_sqlx_pg_errors (name) VALUES ($1)";
        sqlx::query(insert)
            .bind("x")
            .execute(&pool)
            .await
            .expect("first");
        sqlx::query(insert)
            .bind("x")
            .execute(&pool)
            .await
            .expect_err("duplicate");

        // A statement timeout, set for one transaction.
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query("SET LOCAL statement_timeout = '50ms'")
            .execute(&mut *tx)
            .await
            .expect("set");
        let timeout = sqlx::query("SELECT pg_sleep(5)")
            .execute(&mut *tx)
            .await
            .expect_err("statement timeout");
        assert_eq!(
            timeout
                .as_database_error()
                .and_then(|e| e.code())
                .as_deref(),
            Some("57014")
        );
        tx.rollback().await.expect("rollback");

        // A client-side timeout cancels the operation.
        let cancelled = tokio::time::timeout(
            Duration::from_millis(100),
            sqlx::query("SELECT pg_sleep(0.5)").execute(&pool),
        )
        .await;
        assert!(cancelled.is_err());
    });
    let spans = env.finish();

    let syntax = with_text(&spans, "SELEC ?");
    assert_eq!(
        a(syntax, "db.response.status_code").as_deref(),
        Some("42601")
    );
    assert_eq!(a(syntax, "error.type").as_deref(), Some("42601"));
    assert_eq!(status_message(syntax), "postgresql error 42601");

    let duplicate = named(&spans, "INSERT otel_sqlx_pg_errors")
        .into_iter()
        .find(|s| is_error(s))
        .expect("failed insert");
    assert_eq!(
        a(duplicate, "db.response.status_code").as_deref(),
        Some("23505")
    );

    let sleeps = named(&spans, "SELECT");
    let statement_timeout = sleeps
        .iter()
        .find(|s| a(s, "db.response.status_code").as_deref() == Some("57014"))
        .expect("statement timeout span");
    assert!(duration(statement_timeout) >= Duration::from_millis(50));
    assert!(duration(statement_timeout) < Duration::from_secs(2));
    let cancelled = sleeps
        .iter()
        .find(|s| a(s, "error.type").as_deref() == Some("cancelled"))
        .expect("cancelled span");
    assert!(is_error(cancelled));
    one(&spans, "ROLLBACK");
}

#[test]
fn error_messages_are_opt_in() {
    if !postgres_available() {
        return;
    }
    let mut env = Env::start();
    env.run(async {
        let pool = PgPoolOptions::new().connect(PG_URL).await.expect("connect");
        let pool = env.instrumented(pool).capture_error_messages(true).build();
        sqlx::query("SELECT * FROM otel_sqlx_no_such_table")
            .execute(&pool)
            .await
            .expect_err("undefined table");
    });
    let spans = env.finish();
    let failed = one(&spans, "SELECT otel_sqlx_no_such_table");
    assert_eq!(
        a(failed, "db.response.status_code").as_deref(),
        Some("42P01")
    );
    assert!(
        status_message(failed).contains("does not exist"),
        "{}",
        status_message(failed)
    );
}

#[test]
fn postgres_streams_dropped_early_release_the_connection() {
    if !postgres_available() {
        return;
    }
    let mut env = Env::start();
    env.run(async {
        let pool = pg_pool(&env, 1).await;
        let mut rows = sqlx::query("SELECT n FROM generate_series(1, $1) AS n")
            .bind(200_000i32)
            .fetch(&pool);
        for expected in 1..=3 {
            let row = rows.next().await.expect("row").expect("ok");
            assert_eq!(row.get::<i32, _>(0), expected);
        }
        drop(rows);
        let n: i32 = sqlx::query_scalar("SELECT 7")
            .fetch_one(&pool)
            .await
            .expect("the connection is usable");
        assert_eq!(n, 7);
    });
    let spans = env.finish();
    let stream = spans
        .iter()
        .find(|s| {
            a(s, "db.query.text").as_deref() == Some("SELECT n FROM generate_series(1, $1) AS n")
        })
        .expect("stream span");
    assert_eq!(
        stream.name, "SELECT",
        "a table function is not a collection"
    );
    assert_eq!(int(stream, "db.response.returned_rows"), Some(3));
    assert!(!is_error(stream));
}

#[test]
fn postgres_transactions_with_a_savepoint() {
    if !postgres_available() {
        return;
    }
    let mut env = Env::start();
    env.run(async {
        let pool = pg_pool(&env, 2).await;
        fresh_table(&pool, "otel_sqlx_pg_tx").await;
        let insert = "INSERT INTO otel_sqlx_pg_tx (name) VALUES ($1)";
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query(insert)
            .bind("kept")
            .execute(&mut *tx)
            .await
            .expect("insert");
        let mut savepoint = tx.begin().await.expect("savepoint");
        sqlx::query(insert)
            .bind("undone")
            .execute(&mut *savepoint)
            .await
            .expect("insert");
        savepoint.rollback().await.expect("rollback to savepoint");
        tx.commit().await.expect("commit");
        let names: Vec<String> = sqlx::query_scalar("SELECT name FROM otel_sqlx_pg_tx")
            .fetch_all(&pool)
            .await
            .expect("select");
        assert_eq!(names, vec!["kept".to_owned()]);

        let mut serializable = pool
            .begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE")
            .await
            .expect("begin_with");
        let level: String = sqlx::query_scalar("SHOW transaction_isolation")
            .fetch_one(&mut *serializable)
            .await
            .expect("show");
        assert_eq!(level, "serializable");
        serializable.commit().await.expect("commit");
    });
    let spans = env.finish();
    assert_eq!(named(&spans, "BEGIN").len(), 2);
    assert_eq!(named(&spans, "COMMIT").len(), 2);
    one(&spans, "SAVEPOINT");
    one(&spans, "ROLLBACK TO SAVEPOINT");
    one(&spans, "SHOW");
    assert_eq!(named(&spans, "INSERT otel_sqlx_pg_tx").len(), 2);
}

#[test]
fn postgres_literals_are_sanitized_and_parameters_kept() {
    if !postgres_available() {
        return;
    }
    let mut env = Env::start();
    env.run(async {
        let pool = pg_pool(&env, 1).await;
        let row = sqlx::query(
            "SELECT $tag$it's a secret$tag$ AS a, E'line\\n' AS b, 42::int AS c, $$x$$ AS d /* user=alice */ WHERE 1 IN (1, 2, 3)",
        )
        .fetch_one(&pool)
        .await
        .expect("literal query");
        assert_eq!(row.get::<String, _>("a"), "it's a secret");
        sqlx::query("SELECT $1::text AS \"Quoted Name\" FROM pg_catalog.pg_class LIMIT 1")
            .bind("parameter value")
            .fetch_one(&pool)
            .await
            .expect("parameterized query");
    });
    let spans = env.finish();
    let literal = spans
        .iter()
        .find(|s| a(s, "db.query.text").is_some_and(|t| t.contains("AS a")))
        .expect("literal span");
    assert_eq!(
        a(literal, "db.query.text").as_deref(),
        Some("SELECT ? AS a, ? AS b, ?::int AS c, ? AS d WHERE ? IN (?)")
    );
    let parameterized = spans
        .iter()
        .find(|s| a(s, "db.query.text").is_some_and(|t| t.contains("Quoted Name")))
        .expect("parameterized span");
    assert_eq!(
        a(parameterized, "db.query.text").as_deref(),
        Some("SELECT $1::text AS \"Quoted Name\" FROM pg_catalog.pg_class LIMIT 1")
    );
    assert_eq!(parameterized.name, "SELECT pg_catalog.pg_class");
}
