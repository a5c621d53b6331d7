//! sqlx's own statement logs (target `sqlx::query`) carry the whole SQL text
//! with its literals, around the sanitizer: an instrumented pool turns them
//! off for the connections it opens, unless asked to keep them. Against the
//! PostgreSQL on 127.0.0.1:5432 (skipped with a message when it is not
//! there, failed on CI).
#![cfg(feature = "postgres")]

mod common;

use std::sync::{Arc, Mutex};

use common::{PG_ADDR, PG_URL};
use otel_sqlx::InstrumentedPool;
use sqlx::postgres::PgPoolOptions;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

/// Every field of every `sqlx::query` event, as text.
#[derive(Clone, Default)]
struct StatementLogs(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> Layer<S> for StatementLogs {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        struct Fields(String);
        impl Visit for Fields {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("{}={value:?} ", field.name()));
            }
        }
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        if let Ok(mut logs) = self.0.lock() {
            logs.push(fields.0);
        }
    }
}

/// Runs `SELECT '<literal>'` through a pool opened lazily (so that every
/// connection is opened after it was instrumented) and returns sqlx's
/// statement log events, with every level enabled.
fn statement_logs(keep: bool, literal: &str) -> Vec<String> {
    let logs = StatementLogs::default();
    let subscriber = Registry::default().with(logs.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tracing::subscriber::with_default(subscriber, || {
        rt.block_on(async {
            let sqlx_pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_lazy(PG_URL)
                .expect("pool");
            let pool = InstrumentedPool::builder(sqlx_pool)
                .keep_sqlx_statement_logs(keep)
                .build();
            let sql = format!("SELECT '{literal}'::text");
            let got: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&pool)
                .await
                .expect("query");
            assert_eq!(got, literal);
            pool.close().await;
        })
    });
    let captured = logs.0.lock().map(|l| l.clone());
    captured.unwrap_or_default()
}

#[test]
fn an_instrumented_pool_turns_off_sqlx_statement_logs() {
    if !otel_testing::require_service("PostgreSQL", PG_ADDR) {
        return;
    }
    let logs = statement_logs(false, "hunter2-default");
    assert!(
        logs.iter().all(|l| !l.contains("hunter2")),
        "a literal in sqlx's own logs: {logs:?}"
    );
    assert!(logs.is_empty(), "{logs:?}");
}

#[test]
fn sqlx_statement_logs_are_kept_on_request() {
    if !otel_testing::require_service("PostgreSQL", PG_ADDR) {
        return;
    }
    // The opt-in: sqlx logs the statement (at debug) with its literal, which
    // is also what the default would do without the instrumented pool.
    let logs = statement_logs(true, "kept-on-request");
    assert!(
        logs.iter().any(|l| l.contains("kept-on-request")),
        "{logs:?}"
    );
}
