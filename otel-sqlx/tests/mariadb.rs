//! Against the MariaDB on 127.0.0.1:3306 (skipped with a message when it is
//! not there, failed on CI): MariaDB told apart from MySQL, every kind of
//! operation, error numbers (syntax, duplicate key, lock wait timeout),
//! streams dropped early, transactions (rolled back and committed), acquired
//! connections, MySQL-dialect sanitization.
#![cfg(feature = "mysql")]

mod common;

use std::time::Duration;

use common::*;
use futures_util::{StreamExt, TryStreamExt};
use otel_sqlx::InstrumentedPool;
use sqlx::mysql::{MySqlPoolOptions, MySqlRow};
use sqlx::{MySql, Row};

fn mariadb_available() -> bool {
    otel_testing::require_service("MariaDB", MARIADB_ADDR)
}

async fn mariadb_pool(env: &Env, max: u32) -> InstrumentedPool<MySql> {
    let pool = MySqlPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        .connect(MARIADB_URL)
        .await
        .expect("connect to MariaDB");
    env.instrumented(pool).build()
}

async fn fresh_table(pool: &InstrumentedPool<MySql>, table: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL UNIQUE, qty INT NOT NULL DEFAULT 0) ENGINE=InnoDB"
    )))
    .execute(pool.untraced())
    .await
    .expect("create table");
}

#[test]
fn every_operation_kind_on_mariadb() {
    if !mariadb_available() {
        return;
    }
    let mut env = Env::start();
    let root = env.run(async {
        let pool = mariadb_pool(&env, 2).await;
        fresh_table(&pool, "otel_sqlx_maria_ops").await;
        let (root, ()) = env
            .in_root("request", async {
                sqlx::query("INSERT INTO otel_sqlx_maria_ops (name, qty) VALUES (?, ?), (?, ?)")
                    .bind("bolt")
                    .bind(10)
                    .bind("nut")
                    .bind(20)
                    .execute(&pool)
                    .await
                    .expect("insert");
                let all: Vec<(i32, String)> =
                    sqlx::query_as("SELECT id, name FROM otel_sqlx_maria_ops ORDER BY id")
                        .fetch_all(&pool)
                        .await
                        .expect("select");
                assert_eq!(all.len(), 2);
                let qty: i32 =
                    sqlx::query_scalar("SELECT qty FROM `otel_sqlx_maria_ops` WHERE name = ?")
                        .bind("nut")
                        .fetch_one(&pool)
                        .await
                        .expect("fetch_one");
                assert_eq!(qty, 20);
                let rows: Vec<MySqlRow> =
                    sqlx::query("SELECT * FROM otel_sqlx_maria_ops WHERE qty > ?")
                        .bind(0)
                        .fetch(&pool)
                        .try_collect()
                        .await
                        .expect("stream");
                assert_eq!(rows.len(), 2);
                let updated =
                    sqlx::query("UPDATE otel_sqlx_maria_ops SET qty = qty + 1 WHERE qty < ?")
                        .bind(15)
                        .execute(&pool)
                        .await
                        .expect("update");
                assert_eq!(updated.rows_affected(), 1);

                let mut tx = pool.begin().await.expect("begin");
                sqlx::query("DELETE FROM otel_sqlx_maria_ops WHERE name = ?")
                    .bind("bolt")
                    .execute(&mut *tx)
                    .await
                    .expect("delete");
                tx.rollback().await.expect("rollback");
                let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM otel_sqlx_maria_ops")
                    .fetch_one(&pool)
                    .await
                    .expect("count");
                assert_eq!(left, 2, "rolled back");
            })
            .await;
        root
    });
    let spans = env.finish();
    for span in spans.iter().filter(|s| s.kind == CLIENT) {
        assert_eq!(span.parent_span_id, root);
        assert_eq!(
            a(span, "db.system.name").as_deref(),
            Some("mariadb"),
            "{}",
            span.name
        );
        assert_eq!(a(span, "db.namespace").as_deref(), Some("test"));
        assert_eq!(int(span, "server.port"), Some(3306));
    }
    let insert = one(&spans, "INSERT otel_sqlx_maria_ops");
    assert_eq!(int(insert, "db.response.affected_rows"), Some(2));
    assert_eq!(
        a(insert, "db.query.text").as_deref(),
        Some("INSERT INTO otel_sqlx_maria_ops (name, qty) VALUES (?, ?), (?, ?)")
    );
    let quoted = one(&spans, "SELECT `otel_sqlx_maria_ops`");
    assert_eq!(
        a(quoted, "db.collection.name").as_deref(),
        Some("`otel_sqlx_maria_ops`")
    );
    one(&spans, "UPDATE otel_sqlx_maria_ops");
    one(&spans, "DELETE otel_sqlx_maria_ops");
    one(&spans, "BEGIN");
    one(&spans, "ROLLBACK");
    let selects = named(&spans, "SELECT otel_sqlx_maria_ops");
    let mut returned: Vec<_> = selects
        .iter()
        .map(|s| int(s, "db.response.returned_rows"))
        .collect();
    returned.sort();
    assert_eq!(returned, vec![Some(1), Some(2), Some(2)]);
}

#[test]
fn mariadb_errors_carry_the_error_number() {
    if !mariadb_available() {
        return;
    }
    let mut env = Env::start();
    env.run(async {
        let pool = mariadb_pool(&env, 3).await;
        fresh_table(&pool, "otel_sqlx_maria_errors").await;
        sqlx::query("SELEC 1")
            .execute(&pool)
            .await
            .expect_err("syntax error");
        let insert = "INSERT INTO otel_sqlx_maria_errors (name) VALUES (?)";
        sqlx::query(insert)
            .bind("dup")
            .execute(&pool)
            .await
            .expect("first");
        let duplicate = sqlx::query(insert)
            .bind("dup")
            .execute(&pool)
            .await
            .expect_err("duplicate");
        assert!(
            duplicate
                .as_database_error()
                .is_some_and(|e| e.is_unique_violation())
        );

        // Lock wait timeout: one transaction holds the row, another waits 1 s.
        let mut holder = pool.begin().await.expect("begin");
        sqlx::query("SELECT * FROM otel_sqlx_maria_errors WHERE name = ? FOR UPDATE")
            .bind("dup")
            .fetch_all(&mut *holder)
            .await
            .expect("lock the row");
        let mut waiter = pool.acquire().await.expect("acquire");
        sqlx::query("SET SESSION innodb_lock_wait_timeout = 1")
            .execute(&mut *waiter)
            .await
            .expect("set");
        let timeout = sqlx::query("UPDATE otel_sqlx_maria_errors SET qty = 1 WHERE name = ?")
            .bind("dup")
            .execute(&mut *waiter)
            .await
            .expect_err("lock wait timeout");
        assert!(
            timeout.to_string().contains("Lock wait timeout"),
            "{timeout}"
        );
        holder.rollback().await.expect("rollback");
    });
    let spans = env.finish();
    let syntax = spans
        .iter()
        .find(|s| a(s, "db.query.text").as_deref() == Some("SELEC ?"))
        .expect("syntax span");
    assert_eq!(
        a(syntax, "db.response.status_code").as_deref(),
        Some("1064")
    );
    assert_eq!(a(syntax, "error.type").as_deref(), Some("1064"));
    assert_eq!(status_message(syntax), "mariadb error 1064");

    let duplicate = named(&spans, "INSERT otel_sqlx_maria_errors")
        .into_iter()
        .find(|s| is_error(s))
        .expect("duplicate span");
    assert_eq!(
        a(duplicate, "db.response.status_code").as_deref(),
        Some("1062")
    );
    assert!(
        !status_message(duplicate).contains("dup"),
        "the value stays out of the status"
    );

    let lock = one(&spans, "UPDATE otel_sqlx_maria_errors");
    assert_eq!(a(lock, "db.response.status_code").as_deref(), Some("1205"));
    assert!(
        duration(lock) >= Duration::from_millis(900),
        "{:?}",
        duration(lock)
    );
}

#[test]
fn mariadb_streams_dropped_early_and_mysql_sanitization() {
    if !mariadb_available() {
        return;
    }
    let mut env = Env::start();
    env.run(async {
        let pool = mariadb_pool(&env, 1).await;
        let mut rows = sqlx::query("SELECT seq FROM seq_1_to_1000000").fetch(&pool);
        for _ in 0..2 {
            rows.next().await.expect("row").expect("ok");
        }
        drop(rows);
        let row = sqlx::query(
            "SELECT \"it's \\\"quoted\\\"\" AS a, 'O\\'Brien' AS b, 0x1F AS c, x'2A' AS d # note\n",
        )
        .fetch_one(&pool)
        .await
        .expect("literals on the same (returned) connection");
        assert_eq!(row.get::<String, _>("b"), "O'Brien");
    });
    let spans = env.finish();
    let stream = one(&spans, "SELECT seq_1_to_1000000");
    assert_eq!(int(stream, "db.response.returned_rows"), Some(2));
    assert!(!is_error(stream));
    let literal = one(&spans, "SELECT");
    assert_eq!(
        a(literal, "db.query.text").as_deref(),
        Some("SELECT ? AS a, ? AS b, ? AS c, ? AS d")
    );
}

#[test]
fn mariadb_acquired_connections_commits_and_literals() {
    if !mariadb_available() {
        return;
    }
    let mut env = Env::start();
    let root = env.run(async {
        let pool = mariadb_pool(&env, 2).await;
        fresh_table(&pool, "otel_sqlx_maria_tx").await;
        let (root, ()) = env
            .in_root("request", async {
                let insert = "INSERT INTO otel_sqlx_maria_tx (name, qty) VALUES (?, ?)";
                let mut conn = pool.acquire().await.expect("acquire");
                sqlx::query(insert)
                    .bind("a")
                    .bind(1)
                    .execute(&mut *conn)
                    .await
                    .expect("insert on an acquired connection");
                let missing = sqlx::query("SELECT qty FROM otel_sqlx_maria_tx WHERE name = ?")
                    .bind("nope")
                    .fetch_optional(&mut *conn)
                    .await
                    .expect("fetch_optional");
                assert!(missing.is_none());
                drop(conn);

                let mut tx = pool.begin().await.expect("begin");
                sqlx::query(insert)
                    .bind("b")
                    .bind(2)
                    .execute(&mut *tx)
                    .await
                    .expect("insert in a transaction");
                tx.commit().await.expect("commit");

                // No bind parameters: every literal is replaced, the comment dropped.
                let bumped = sqlx::raw_sql(
                    "UPDATE otel_sqlx_maria_tx SET qty = 7 WHERE name IN ('a', \"b\") AND qty > -1 -- bump\n",
                )
                .execute(&pool)
                .await
                .expect("raw_sql");
                assert_eq!(bumped.rows_affected(), 2);
                let committed: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM otel_sqlx_maria_tx WHERE qty = 7")
                        .fetch_one(&pool)
                        .await
                        .expect("count");
                assert_eq!(committed, 2, "the transaction was committed");
            })
            .await;
        root
    });
    let spans = env.finish();
    for span in spans.iter().filter(|s| s.kind == CLIENT) {
        assert_eq!(span.parent_span_id, root, "{}", span.name);
        assert_eq!(a(span, "db.system.name").as_deref(), Some("mariadb"));
        assert!(!is_error(span), "{}", span.name);
    }
    let inserts = named(&spans, "INSERT otel_sqlx_maria_tx");
    assert_eq!(
        inserts.len(),
        2,
        "one on the connection, one in the transaction"
    );
    for insert in inserts {
        assert_eq!(int(insert, "db.response.affected_rows"), Some(1));
    }
    let optional = spans
        .iter()
        .find(|s| a(s, "db.query.text").is_some_and(|t| t.contains("name = ?")))
        .expect("fetch_optional span");
    assert_eq!(int(optional, "db.response.returned_rows"), Some(0));
    one(&spans, "BEGIN");
    let commit = one(&spans, "COMMIT");
    assert_eq!(a(commit, "db.operation.name").as_deref(), Some("COMMIT"));
    let update = one(&spans, "UPDATE otel_sqlx_maria_tx");
    assert_eq!(
        a(update, "db.query.text").as_deref(),
        // The minus is an operator to the lexer (as in `qty-1`): it stays.
        Some("UPDATE otel_sqlx_maria_tx SET qty = ? WHERE name IN (?) AND qty > -?")
    );
    assert_eq!(int(update, "db.response.affected_rows"), Some(2));
}
