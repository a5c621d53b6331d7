//! The 20-second page from `scenarios.md` §7, scaled down: 50 concurrent
//! requests against a pool of 4 connections, each request one 45 ms query.
//! Every query is fast; the requests are slow because they wait for a
//! connection, and the trace says so at a glance.
//!
//! ```text
//! cargo run -p otel-sqlx --example pool_starvation            # waterfall on stderr
//! DATABASE_URL=postgres://user@host/db cargo run -p otel-sqlx --example pool_starvation
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run -p otel-sqlx --example pool_starvation
//! ```
//!
//! Needs PostgreSQL (`pg_sleep`); `DATABASE_URL` defaults to
//! `postgres://postgres@127.0.0.1:5432/test`.

use std::time::Duration;

use otel_init::{ExporterKind, Telemetry};
use otel_sqlx::{PgPool, sqlx};
use sqlx::postgres::PgPoolOptions;
use tracing::{Instrument as _, info, info_span};

const POOL_SIZE: u32 = 4;
const REQUESTS: usize = 50;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut telemetry =
        Telemetry::builder().crate_identity("pool-starvation", env!("CARGO_PKG_VERSION"));
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_none() {
        telemetry = telemetry
            .traces_exporters([ExporterKind::Console])
            .metrics_exporters([])
            .logs_exporters([]);
    }
    let telemetry = telemetry.init()?;

    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    // The one changed line: the pool is wrapped.
    let pool: PgPool = PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(Duration::from_secs(30))
        .connect(&url)
        .await?
        .into();

    async {
        let requests = (0..REQUESTS).map(|product| {
            let pool = pool.clone();
            async move {
                sqlx::query("SELECT pg_sleep(0.045), $1::int AS product")
                    .bind(product as i32)
                    .execute(&pool)
                    .await
            }
        });
        let results = futures_util::future::join_all(requests).await;
        let failed = results.iter().filter(|r| r.is_err()).count();
        info!(requests = REQUESTS, failed, "page rendered");
    }
    .instrument(info_span!("GET /products", otel.kind = "server"))
    .await;

    pool.close().await;
    let _report = telemetry.shutdown();
    Ok(())
}
