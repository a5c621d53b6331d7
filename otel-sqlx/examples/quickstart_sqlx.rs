//! The quick-start service with a real database query: what
//! `examples/quickstart` becomes with `otel-sqlx` (SQLite in memory by
//! default, PostgreSQL when `DATABASE_URL` says so).
//!
//! ```text
//! cargo run -p otel-sqlx --example quickstart_sqlx
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo run -p otel-sqlx --example quickstart_sqlx
//! ```

use std::time::Duration;

use otel_init::Telemetry;
use otel_init::opentelemetry::{KeyValue, global};
use otel_init::tracing::{info, instrument, warn};
use otel_sqlx::sqlx;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = Telemetry::builder()
        .crate_identity("quickstart", env!("CARGO_PKG_VERSION"))
        // No collector configured: show the trace in the terminal instead.
        .console_unless_collector_configured()
        .init()?;

    let db = Db::connect().await?;
    db.setup().await?;

    let orders = global::meter("quickstart")
        .u64_counter("quickstart.orders")
        .build();
    for order in 1..=2 {
        checkout(&db, order).await;
        orders.add(1, &[KeyValue::new("payment.method", "card")]);
    }

    let report = telemetry.shutdown();
    info!(?report.export, "telemetry shut down");
    Ok(())
}

/// SQLite in memory, or PostgreSQL when `DATABASE_URL` is a `postgres://` URL.
enum Db {
    Sqlite(otel_sqlx::SqlitePool),
    Postgres(otel_sqlx::PgPool),
}

/// Runs the same query builder on whichever pool is configured.
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

impl Db {
    async fn connect() -> Result<Db, sqlx::Error> {
        match std::env::var("DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => {
                Ok(Db::Postgres(otel_sqlx::PgPool::connect(&url).await?))
            }
            Ok(url) if !url.is_empty() => {
                Ok(Db::Sqlite(otel_sqlx::SqlitePool::connect(&url).await?))
            }
            _ => Ok(Db::Sqlite(
                otel_sqlx::SqlitePool::connect("sqlite::memory:").await?,
            )),
        }
    }

    async fn setup(&self) -> Result<(), sqlx::Error> {
        const SETUP: &str = "DROP TABLE IF EXISTS cart_items; \
             CREATE TABLE cart_items (order_id BIGINT NOT NULL, sku TEXT NOT NULL, qty BIGINT NOT NULL); \
             INSERT INTO cart_items VALUES (1, 'lamp', 1), (1, 'bulb', 4), (2, 'desk', 1)";
        on_db!(self, |pool| {
            sqlx::raw_sql(SETUP)
                .execute(pool.named("create cart_items"))
                .await
                .map(|_| ())
        })
    }

    /// The items of an order's cart.
    async fn cart_items(&self, order: u32) -> Result<Vec<(String, i64)>, sqlx::Error> {
        const SQL: &str = "SELECT sku, qty FROM cart_items WHERE order_id = $1";
        on_db!(self, |pool| sqlx::query_as(SQL)
            .bind(i64::from(order))
            .fetch_all(pool)
            .await)
    }
}

#[instrument(skip(db), fields(otel.kind = "server", http.request.method = "POST", http.route = "/checkout"))]
async fn checkout(db: &Db, order: u32) {
    info!(order, "checkout started");
    match db.cart_items(order).await {
        Ok(items) => info!(order, items = items.len(), "cart loaded"),
        Err(error) => warn!(order, %error, "cart not loaded"),
    }
    if charge_card(order).await.is_err() {
        warn!(order, "payment declined");
    }
    info!(order, "checkout finished");
}

#[instrument(fields(otel.kind = "client", server.address = "payments.internal"), err)]
async fn charge_card(order: u32) -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(30)).await;
    if order.is_multiple_of(2) {
        Err("card declined".to_owned())
    } else {
        Ok(())
    }
}
