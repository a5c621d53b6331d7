//! Against SQLite in memory: every kind of operation, streams dropped early,
//! transactions, errors, cancellation, annotations and options, and the
//! metrics; exported over OTLP to an in-process receiver.
#![cfg(feature = "sqlite")]

mod common;

use std::time::Duration;

use common::*;
use futures_util::{StreamExt, TryStreamExt};
use otel_sqlx::{Annotation, InstrumentedPool};
use sqlx::sqlite::{SqlitePoolOptions, SqliteRow};
use sqlx::{Row, Sqlite};

async fn sqlite_pool(env: &Env, max: u32) -> InstrumentedPool<Sqlite> {
    let pool = SqlitePoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_millis(300))
        .connect("sqlite::memory:")
        .await
        .expect("sqlite pool");
    env.instrumented(pool).build()
}

const SCHEMA: &str =
    "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, price REAL)";

/// The span name of [`ENDLESS`]: its summary.
const ENDLESS_NAME: &str = "SELECT SELECT c SELECT c";

/// A query that produces rows for as long as it is read.
const ENDLESS: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) SELECT x FROM c";

fn by_text<'a>(
    spans: &'a [opentelemetry_proto::tonic::trace::v1::Span],
    text: &str,
) -> &'a opentelemetry_proto::tonic::trace::v1::Span {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| a(s, "db.query.text").as_deref() == Some(text))
        .collect();
    assert_eq!(found.len(), 1, "one span with db.query.text {text:?}");
    found[0]
}

#[test]
fn every_operation_kind_is_a_client_span_beside_its_wait() {
    let mut env = Env::start();
    let root = env.run(async {
        let pool = sqlite_pool(&env, 2).await;
        let (root, ()) = env
            .in_root("request", async {
                sqlx::query(SCHEMA).execute(&pool).await.expect("create");
                let inserted = sqlx::query("INSERT INTO products (name, price) VALUES ($1, $2)")
                    .bind("lamp")
                    .bind(9.5)
                    .execute(&pool)
                    .await
                    .expect("insert");
                assert_eq!(inserted.rows_affected(), 1);
                sqlx::raw_sql(
                    "INSERT INTO products (name, price) VALUES ('desk', 120); INSERT INTO products (name, price) VALUES ('chair', 45)",
                )
                .execute(&pool)
                .await
                .expect("raw_sql");
                let all: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM products ORDER BY id")
                    .fetch_all(&pool)
                    .await
                    .expect("query_as");
                assert_eq!(all.len(), 3);
                let expensive: i64 = sqlx::query_scalar("SELECT count(*) FROM products WHERE price > $1")
                    .bind(10.0)
                    .fetch_one(&pool)
                    .await
                    .expect("query_scalar");
                assert_eq!(expensive, 2);
                let none = sqlx::query("SELECT name FROM products WHERE name = $1")
                    .bind("nope")
                    .fetch_optional(&pool)
                    .await
                    .expect("fetch_optional");
                assert!(none.is_none());
                let names: Vec<String> = sqlx::query("SELECT name FROM products WHERE id > $1")
                    .bind(0)
                    .map(|row: SqliteRow| row.get(0))
                    .fetch_all(&pool)
                    .await
                    .expect("map");
                assert_eq!(names.len(), 3);
                let streamed: Vec<SqliteRow> = sqlx::query("SELECT id FROM products WHERE id < $1")
                    .bind(100)
                    .fetch(&pool)
                    .try_collect()
                    .await
                    .expect("stream");
                assert_eq!(streamed.len(), 3);
                let updated = sqlx::query("UPDATE products SET price = price * 2 WHERE price < $1")
                    .bind(100.0)
                    .execute(&pool)
                    .await
                    .expect("update");
                assert_eq!(updated.rows_affected(), 2);
                sqlx::query("DELETE FROM products WHERE name = $1")
                    .bind("desk")
                    .execute(&pool)
                    .await
                    .expect("delete");
            })
            .await;
        pool.close().await;
        root
    });
    let spans = env.finish();

    let create = one(&spans, "CREATE TABLE products");
    assert_eq!(
        a(create, "db.operation.name").as_deref(),
        Some("CREATE TABLE")
    );
    let insert = by_text(&spans, "INSERT INTO products (name, price) VALUES ($1, $2)");
    assert_eq!(insert.name, "INSERT products");
    assert_eq!(a(insert, "db.operation.name").as_deref(), Some("INSERT"));
    assert_eq!(a(insert, "db.collection.name").as_deref(), Some("products"));
    assert_eq!(int(insert, "db.response.affected_rows"), Some(1));
    // raw_sql is not parameterized: its literals are replaced.
    let raw = by_text(
        &spans,
        "INSERT INTO products (name, price) VALUES (?, ?); INSERT INTO products (name, price) VALUES (?, ?)",
    );
    assert_eq!(raw.name, "INSERT products INSERT products");
    assert_eq!(a(raw, "db.operation.name"), None, "two operations");
    assert_eq!(int(raw, "db.response.affected_rows"), Some(2));
    let query_as = by_text(&spans, "SELECT id, name FROM products ORDER BY id");
    assert_eq!(query_as.name, "SELECT products");
    assert_eq!(int(query_as, "db.response.returned_rows"), Some(3));
    let scalar = by_text(&spans, "SELECT count(*) FROM products WHERE price > $1");
    assert_eq!(int(scalar, "db.response.returned_rows"), Some(1));
    let optional = by_text(&spans, "SELECT name FROM products WHERE name = $1");
    assert_eq!(int(optional, "db.response.returned_rows"), Some(0));
    let mapped = by_text(&spans, "SELECT name FROM products WHERE id > $1");
    assert_eq!(int(mapped, "db.response.returned_rows"), Some(3));
    let streamed = by_text(&spans, "SELECT id FROM products WHERE id < $1");
    assert_eq!(int(streamed, "db.response.returned_rows"), Some(3));
    let update = by_text(
        &spans,
        "UPDATE products SET price = price * 2 WHERE price < $1",
    );
    assert_eq!(update.name, "UPDATE products");
    assert_eq!(int(update, "db.response.affected_rows"), Some(2));
    let delete = by_text(&spans, "DELETE FROM products WHERE name = $1");
    assert_eq!(delete.name, "DELETE products");

    let queries: Vec<_> = spans.iter().filter(|s| s.kind == CLIENT).collect();
    assert_eq!(queries.len(), 10);
    for span in &queries {
        assert_eq!(
            span.parent_span_id, root,
            "{} is a child of the request",
            span.name
        );
        assert_eq!(a(span, "db.system.name").as_deref(), Some("sqlite"));
        assert_eq!(a(span, "db.namespace").as_deref(), Some(":memory:"));
        assert!(!is_error(span), "{}", span.name);
    }
    // Every pool operation waited for a connection: a sibling span each.
    let waits = named(&spans, "acquire connection");
    assert_eq!(waits.len(), 10);
    for wait in &waits {
        assert_eq!(wait.kind, INTERNAL);
        assert_eq!(wait.parent_span_id, root, "sibling of the query span");
        assert_eq!(int(wait, "db.client.connection.pool.max"), Some(2));
        assert!(int(wait, "db.client.connection.pool.pending_requests").is_some_and(|n| n >= 1));
        assert_eq!(
            a(wait, "db.client.connection.pool.name").as_deref(),
            Some(":memory:")
        );
    }
}

#[test]
fn streams_dropped_early_end_their_span_and_return_the_connection() {
    let mut env = Env::start();
    env.run(async {
        let pool = sqlite_pool(&env, 1).await;
        let mut rows = sqlx::query(ENDLESS).fetch(&pool);
        for _ in 0..5 {
            rows.next().await.expect("a row").expect("ok");
        }
        drop(rows);
        // The single connection is back: the next query does not time out.
        let one: i64 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&pool)
            .await
            .expect("connection returned");
        assert_eq!(one, 1);

        let mut conn = pool.acquire().await.expect("acquire");
        let mut rows = sqlx::query(ENDLESS).fetch(&mut *conn);
        rows.next().await.expect("a row").expect("ok");
        drop(rows);
    });
    let spans = env.finish();
    let endless = named(&spans, ENDLESS_NAME);
    assert_eq!(
        endless.len(),
        2,
        "{:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    let counts: Vec<_> = endless
        .iter()
        .map(|s| int(s, "db.response.returned_rows"))
        .collect();
    assert!(
        counts.contains(&Some(5)) && counts.contains(&Some(1)),
        "{counts:?}"
    );
    for span in endless {
        assert!(!is_error(span), "dropping a stream is not an error");
        assert!(duration(span) < Duration::from_secs(5));
    }
}

#[test]
fn transactions_and_acquired_connections_are_traced() {
    let mut env = Env::start();
    let root = env.run(async {
        let pool = sqlite_pool(&env, 2).await;
        sqlx::query(SCHEMA).execute(&pool).await.expect("create");
        let (root, ()) = env
            .in_root("request", async {
                let mut tx = pool.begin().await.expect("begin");
                sqlx::query("INSERT INTO products (name) VALUES ($1)")
                    .bind("kept")
                    .execute(&mut *tx)
                    .await
                    .expect("insert in tx");
                // A savepoint, rolled back.
                let mut savepoint = tx.begin().await.expect("savepoint");
                sqlx::query("INSERT INTO products (name) VALUES ($1)")
                    .bind("undone")
                    .execute(&mut savepoint)
                    .await
                    .expect("insert in savepoint");
                savepoint.rollback().await.expect("rollback to savepoint");
                tx.commit().await.expect("commit");

                let mut tx = pool.begin().await.expect("begin");
                sqlx::query("INSERT INTO products (name) VALUES ('discarded')")
                    .execute(&mut *tx)
                    .await
                    .expect("insert");
                tx.rollback().await.expect("rollback");

                let mut conn = pool.acquire().await.expect("acquire");
                let names: Vec<String> = sqlx::query_scalar("SELECT name FROM products")
                    .fetch_all(&mut *conn)
                    .await
                    .expect("select");
                assert_eq!(names, vec!["kept".to_owned()]);
                let mut tx = conn.begin().await.expect("begin on a held connection");
                sqlx::query("DELETE FROM products")
                    .execute(&mut tx)
                    .await
                    .expect("delete");
                tx.commit().await.expect("commit");
            })
            .await;
        root
    });
    let spans = env.finish();
    for name in ["BEGIN", "COMMIT"] {
        let found = named(&spans, name);
        assert_eq!(found.len(), if name == "BEGIN" { 3 } else { 2 }, "{name}");
        for span in found {
            assert_eq!(span.kind, CLIENT);
            assert_eq!(span.parent_span_id, root);
            assert_eq!(a(span, "db.operation.name").as_deref(), Some(name));
        }
    }
    one(&spans, "SAVEPOINT");
    one(&spans, "ROLLBACK TO SAVEPOINT");
    one(&spans, "ROLLBACK");
    let in_savepoint = named(&spans, "INSERT products");
    assert_eq!(in_savepoint.len(), 3);
    assert!(in_savepoint.iter().all(|s| s.parent_span_id == root));
    one(&spans, "DELETE products");
    // Two pool.begin() and one pool.acquire(): three waits for a connection;
    // the statements on held connections wait for nothing.
    let waits: Vec<_> = named(&spans, "acquire connection")
        .into_iter()
        .filter(|s| s.parent_span_id == root)
        .collect();
    assert_eq!(waits.len(), 3);
}

#[test]
fn errors_carry_the_status_code_and_error_type() {
    let mut env = Env::start();
    env.run(async {
        let pool = sqlite_pool(&env, 1).await;
        sqlx::query(SCHEMA).execute(&pool).await.expect("create");
        sqlx::query("SELEC 1")
            .execute(&pool)
            .await
            .expect_err("syntax error");
        sqlx::query("INSERT INTO products (name) VALUES ($1)")
            .bind("twice")
            .execute(&pool)
            .await
            .expect("first");
        let duplicate = sqlx::query("INSERT INTO products (name) VALUES ($1)")
            .bind("twice")
            .execute(&pool)
            .await
            .expect_err("unique violation");
        assert!(
            duplicate
                .as_database_error()
                .is_some_and(|e| e.is_unique_violation())
        );

        // Pool of one, held: the next query times out waiting.
        let held = pool.acquire().await.expect("acquire");
        let timed_out = sqlx::query("SELECT 1")
            .fetch_one(&pool)
            .await
            .expect_err("pool timeout");
        assert!(
            matches!(timed_out, sqlx::Error::PoolTimedOut),
            "{timed_out:?}"
        );
        drop(held);

        // A timeout around a query cancels it.
        let cancelled = tokio::time::timeout(
            Duration::from_millis(50),
            sqlx::query(ENDLESS).fetch_all(&pool),
        )
        .await;
        assert!(cancelled.is_err(), "the query outlives 50 ms");
    });
    let spans = env.finish();

    let syntax = spans
        .iter()
        .find(|s| a(s, "db.query.text").as_deref() == Some("SELEC ?"))
        .expect("syntax error span");
    assert!(is_error(syntax));
    assert_eq!(a(syntax, "db.response.status_code").as_deref(), Some("1"));
    assert_eq!(a(syntax, "error.type").as_deref(), Some("1"));
    assert_eq!(
        status_message(syntax),
        "sqlite error 1",
        "no message by default"
    );

    let inserts = named(&spans, "INSERT products");
    let failed: Vec<_> = inserts.iter().filter(|s| is_error(s)).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        a(failed[0], "db.response.status_code").as_deref(),
        Some("2067"),
        "SQLITE_CONSTRAINT_UNIQUE"
    );
    for failure in [syntax, failed[0]] {
        assert_eq!(
            a(failure, "db.response.affected_rows"),
            None,
            "a failure reports no row count"
        );
    }
    let succeeded = inserts.iter().find(|s| !is_error(s)).expect("first insert");
    assert_eq!(
        a(succeeded, "db.response.affected_rows").as_deref(),
        Some("1")
    );

    let timeout = named(&spans, "acquire connection")
        .into_iter()
        .find(|s| is_error(s))
        .expect("failed wait");
    assert_eq!(a(timeout, "error.type").as_deref(), Some("pool_timed_out"));
    assert!(
        duration(timeout) >= Duration::from_millis(250),
        "{:?}",
        duration(timeout)
    );
    assert!(
        named(&spans, "SELECT").is_empty(),
        "no query span for a query that never got a connection"
    );

    let cancelled = named(&spans, ENDLESS_NAME);
    assert_eq!(cancelled.len(), 1);
    assert!(is_error(cancelled[0]));
    assert_eq!(a(cancelled[0], "error.type").as_deref(), Some("cancelled"));

    let metrics = env.receiver.metrics_with_resource();
    let timeouts = number_points(&metrics, "db.client.connection.timeouts");
    assert_eq!(timeouts.last().map(|(_, v)| *v), Some(1.0));
    let errors = histogram(
        &metrics,
        "db.client.operation.duration",
        ("error.type", "2067"),
    );
    assert_eq!(errors.map(|(count, _, _)| count), Some(1));
}

#[test]
fn annotations_and_options_shape_the_span() {
    let mut env = Env::start();
    env.run(async {
        let pool = env
            .instrumented(
                SqlitePoolOptions::new()
                    .connect("sqlite::memory:")
                    .await
                    .expect("pool"),
            )
            .capture_parameters(true)
            .build();
        sqlx::query(SCHEMA).execute(&pool).await.expect("create");
        sqlx::query("SELECT * FROM products WHERE id = $1")
            .bind(7)
            .fetch_optional(pool.named("load product"))
            .await
            .expect("named");
        sqlx::query("SELECT * FROM products WHERE id = $1")
            .bind(8)
            .fetch_optional(
                pool.annotated(
                    Annotation::new()
                        .operation("FIND")
                        .collection("catalog")
                        .parameter("0", 8)
                        .without_query_text(),
                ),
            )
            .await
            .expect("annotated");
        // Not parameterized: the literals go.
        sqlx::query("SELECT * FROM products WHERE name = 'secret' AND price > 10 /* user=alice */")
            .fetch_all(&pool)
            .await
            .expect("literals");
        let mut conn = pool.acquire().await.expect("acquire");
        sqlx::query("SELECT 1")
            .fetch_one(conn.named("ping"))
            .await
            .expect("ping");

        let quiet = env
            .instrumented(
                SqlitePoolOptions::new()
                    .connect("sqlite::memory:")
                    .await
                    .expect("pool"),
            )
            .capture_query_text(false)
            .pool_name("quiet")
            .build();
        sqlx::query("SELECT 42")
            .fetch_one(&quiet)
            .await
            .expect("quiet");
    });
    let spans = env.finish();

    let named_span = one(&spans, "load product");
    assert_eq!(
        a(named_span, "db.query.summary").as_deref(),
        Some("load product")
    );
    assert_eq!(
        a(named_span, "db.query.text").as_deref(),
        Some("SELECT * FROM products WHERE id = $1")
    );
    assert_eq!(
        a(named_span, "db.query.parameter.0"),
        None,
        "no parameter given"
    );

    let annotated = one(&spans, "FIND catalog");
    assert_eq!(a(annotated, "db.operation.name").as_deref(), Some("FIND"));
    assert_eq!(
        a(annotated, "db.collection.name").as_deref(),
        Some("catalog")
    );
    assert_eq!(a(annotated, "db.query.parameter.0").as_deref(), Some("8"));
    assert_eq!(a(annotated, "db.query.text"), None);

    let literal = spans
        .iter()
        .find(|s| a(s, "db.query.text").is_some_and(|t| t.contains("name = ?")))
        .expect("sanitized span");
    assert_eq!(
        a(literal, "db.query.text").as_deref(),
        Some("SELECT * FROM products WHERE name = ? AND price > ?")
    );
    one(&spans, "ping");

    assert!(
        spans
            .iter()
            .any(|s| a(s, "db.client.connection.pool.name").as_deref() == Some("quiet")),
        "the quiet pool's wait span carries its name"
    );
    let quiet_query = one(&spans, "SELECT");
    assert_eq!(quiet_query.name, "SELECT");
    assert_eq!(a(quiet_query, "db.query.text"), None);
}

#[test]
fn parameters_are_not_recorded_by_default() {
    let mut env = Env::start();
    env.run(async {
        let pool = sqlite_pool(&env, 1).await;
        sqlx::query("SELECT $1")
            .bind("secret")
            .fetch_one(pool.annotated(Annotation::summary("echo").parameter("0", "secret")))
            .await
            .expect("echo");
    });
    let spans = env.finish();
    let echo = one(&spans, "echo");
    assert_eq!(a(echo, "db.query.parameter.0"), None);
}

#[test]
fn double_quoted_strings_do_not_reach_the_query_text() {
    let mut env = Env::start();
    env.run(async {
        let pool = sqlite_pool(&env, 1).await;
        sqlx::query(SCHEMA).execute(&pool).await.expect("create");
        // No column is called alice-secret, so SQLite reads it as a string.
        sqlx::query(r#"SELECT "p"."id" FROM "products" AS "p" WHERE name = "alice-secret""#)
            .fetch_optional(&pool)
            .await
            .expect("lookup");
    });
    let spans = env.finish();
    let lookup = one(&spans, r#"SELECT "products""#);
    assert_eq!(
        a(lookup, "db.query.text").as_deref(),
        Some(r#"SELECT "p"."id" FROM "products" AS "p" WHERE name = ?"#)
    );
}

#[test]
fn pool_metrics_follow_the_conventions() {
    let mut env = Env::start();
    env.run(async {
        let pool = sqlite_pool(&env, 3).await;
        sqlx::query(SCHEMA).execute(&pool).await.expect("create");
        for i in 0..5 {
            sqlx::query("INSERT INTO products (name) VALUES ($1)")
                .bind(format!("p{i}"))
                .execute(&pool)
                .await
                .expect("insert");
        }
        let _held = pool.acquire().await.expect("hold one");
        tokio::time::sleep(Duration::from_millis(300)).await; // a few exports with one in use
    });
    env.finish();
    let metrics = env.receiver.metrics_with_resource();

    let (count, _, bounds) = histogram(
        &metrics,
        "db.client.operation.duration",
        ("db.operation.name", "INSERT"),
    )
    .expect("operation duration");
    assert_eq!(count, 5);
    assert_eq!(
        bounds,
        vec![0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0]
    );
    let (waits, _, _) = histogram(
        &metrics,
        "db.client.connection.wait_time",
        ("db.client.connection.pool.name", ":memory:"),
    )
    .expect("wait time");
    assert_eq!(waits, 7, "create, five inserts, one acquire");
    assert!(
        histogram(
            &metrics,
            "db.client.connection.use_time",
            ("db.client.connection.pool.name", ":memory:")
        )
        .is_some()
    );

    let max = number_points(&metrics, "db.client.connection.max");
    assert!(
        max.iter().all(|(_, v)| *v == 3.0) && !max.is_empty(),
        "{max:?}"
    );
    let counts = number_points(&metrics, "db.client.connection.count");
    let used: Vec<f64> = counts
        .iter()
        .filter(|(attrs, _)| attr(attrs, "db.client.connection.state").as_deref() == Some("used"))
        .map(|(_, v)| *v)
        .collect();
    assert!(
        used.contains(&1.0),
        "one connection in use at some export: {used:?}"
    );
    assert!(
        counts
            .iter()
            .any(|(attrs, _)| attr(attrs, "db.client.connection.state").as_deref() == Some("idle"))
    );
    assert!(!number_points(&metrics, "db.client.connection.pending_requests").is_empty());
}

/// Code generic over the database, with the usual bound on its connection,
/// keeps compiling with the instrumented executors in scope.
async fn count<'e, DB, E>(executor: E, table: &'static str) -> i64
where
    DB: sqlx::Database,
    E: sqlx::Executor<'e, Database = DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'r> (i64,): sqlx::FromRow<'r, DB::Row>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    let sql = sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}"));
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(executor)
        .await
        .expect("count");
    n
}

#[test]
fn code_generic_over_the_database_compiles_and_is_traced() {
    let mut env = Env::start();
    env.run(async {
        let pool = sqlite_pool(&env, 1).await;
        sqlx::query(SCHEMA).execute(&pool).await.expect("create");
        assert_eq!(count(&pool, "products").await, 0);
        let mut conn = pool.acquire().await.expect("acquire");
        assert_eq!(count(&mut *conn, "products").await, 0);
        drop(conn);
        assert_eq!(count(pool.untraced(), "products").await, 0);
    });
    let spans = env.finish();
    assert_eq!(
        named(&spans, "SELECT products").len(),
        2,
        "the untraced call is not traced"
    );
}

#[test]
fn by_default_only_waits_of_a_millisecond_or_more_get_a_span() {
    let mut env = Env::start();
    env.run(async {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .expect("pool");
        let guard = env.guard();
        let pool = InstrumentedPool::builder(pool)
            .tracer_provider(guard.tracer_provider().expect("tracer").clone())
            .meter_provider(guard.meter_provider().expect("meter").clone())
            .build();
        for _ in 0..3 {
            sqlx::query("SELECT 1")
                .fetch_one(&pool)
                .await
                .expect("fast");
        }
        // Hold the only connection for 20 ms while another query waits.
        let held = pool.acquire().await.expect("acquire");
        let waiting = tokio::spawn({
            let pool = pool.clone();
            async move { sqlx::query("SELECT 2").fetch_one(&pool).await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(held);
        waiting.await.expect("join").expect("slow");
    });
    let spans = env.finish();
    // The last wait takes 20 ms; the others are usually far under 1 ms, but
    // on a busy machine any of them may take longer. So the spans are
    // checked against the wait-time histogram, not against a guess: one
    // span per wait above its first bucket (1 ms), none for the rest.
    let waits = named(&spans, "acquire connection");
    assert!(
        waits
            .iter()
            .all(|w| duration(w) >= Duration::from_millis(1))
    );
    assert_eq!(named(&spans, "SELECT").len(), 4);
    let metrics = env.receiver.metrics_with_resource();
    let (count, _, _) = histogram(
        &metrics,
        "db.client.connection.wait_time",
        ("db.client.connection.pool.name", ":memory:"),
    )
    .expect("wait time");
    assert_eq!(count, 5, "every wait is measured");
    let (bounds, buckets) = histogram_buckets(
        &metrics,
        "db.client.connection.wait_time",
        ("db.client.connection.pool.name", ":memory:"),
    )
    .expect("wait time buckets");
    assert_eq!(bounds.first(), Some(&0.001));
    let slow_waits = count - buckets[0];
    assert_eq!(
        waits.len() as u64,
        slow_waits,
        "a span for each of the {slow_waits} waits of 1 ms or more, none for the {} others",
        buckets[0]
    );
}
