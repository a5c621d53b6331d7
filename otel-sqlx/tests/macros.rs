//! The `query!` family compiles unchanged against an instrumented pool and
//! is traced. Compiled from the query data in `.sqlx/` (see `sqlx.toml`),
//! run against the PostgreSQL on 127.0.0.1:5432.
#![cfg(feature = "postgres")]

mod common;

use common::*;

#[derive(Debug)]
struct Class {
    relname: String,
}

#[test]
fn query_macros_run_through_the_instrumented_pool() {
    if !otel_testing::require_service("PostgreSQL", PG_ADDR) {
        return;
    }
    let mut env = Env::start();
    env.run(async {
        let pool = env
            .instrumented(sqlx::PgPool::connect(PG_URL).await.expect("connect"))
            .build();
        let row = sqlx::query!(
            r#"SELECT $1::int4 + 1 AS "next!", $2::text AS "label!""#,
            41,
            "x"
        )
        .fetch_one(&pool)
        .await
        .expect("query!");
        assert_eq!((row.next, row.label.as_str()), (42, "x"));

        let classes = sqlx::query_as!(
            Class,
            r#"SELECT relname::text AS "relname!" FROM pg_catalog.pg_class WHERE relname = $1"#,
            "pg_class"
        )
        .fetch_all(&pool)
        .await
        .expect("query_as!");
        assert_eq!(classes.len(), 1);
        assert_eq!(classes[0].relname, "pg_class");

        let mut tx = pool.begin().await.expect("begin");
        let schemas =
            sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM pg_catalog.pg_namespace"#)
                .fetch_one(&mut *tx)
                .await
                .expect("query_scalar!");
        assert!(schemas > 0);
        tx.commit().await.expect("commit");
    });
    let spans = env.finish();

    let first = spans
        .iter()
        .find(|s| {
            a(s, "db.query.text").as_deref()
                == Some(r#"SELECT $1::int4 + 1 AS "next!", $2::text AS "label!""#)
        })
        .expect("query! span");
    assert_eq!(first.name, "SELECT");
    assert_eq!(int(first, "db.response.returned_rows"), Some(1));
    let class = one(&spans, "SELECT pg_catalog.pg_class");
    assert_eq!(int(class, "db.response.returned_rows"), Some(1));
    let namespaces = one(&spans, "SELECT pg_catalog.pg_namespace");
    assert_eq!(
        a(namespaces, "db.collection.name").as_deref(),
        Some("pg_catalog.pg_namespace")
    );
    one(&spans, "BEGIN");
    one(&spans, "COMMIT");
}
