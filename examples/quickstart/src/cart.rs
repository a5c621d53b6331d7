//! The carts, in a real database queried through `otel-sqlx`: SQLite in
//! memory by default, PostgreSQL when `DATABASE_URL` is a `postgres://` URL
//! (or another SQLite database when it is a `sqlite:` URL). The store seeds
//! its own table, so nothing needs to be set up first.
//!
//! The only tracing-specific line is where the pool is wrapped
//! ([`InstrumentedPool::new`]): each query then becomes a CLIENT span
//! (`SELECT quickstart_cart_items`) under the current span, and a wait for a
//! pool connection its own `acquire connection` span.

use std::time::Duration;

use otel_sqlx::sqlx::postgres::PgPoolOptions;
use otel_sqlx::sqlx::sqlite::SqlitePoolOptions;
use otel_sqlx::{InstrumentedPool, sqlx};
use tracing::warn;

/// The table the quickstart owns (a name unlikely to clash with an
/// application's own tables when `DATABASE_URL` points at a real database).
const SEED: &str = "\
    CREATE TABLE IF NOT EXISTS quickstart_cart_items (\
        order_id BIGINT NOT NULL, sku TEXT NOT NULL, qty BIGINT NOT NULL, \
        PRIMARY KEY (order_id, sku)); \
    INSERT INTO quickstart_cart_items (order_id, sku, qty) VALUES \
        (1, 'lamp', 1), (1, 'bulb', 4), (2, 'desk', 1), (3, 'chair', 2) \
        ON CONFLICT DO NOTHING";

/// The items of one order's cart. `$1` is a bind parameter for both SQLite
/// and PostgreSQL.
const CART_ITEMS: &str =
    "SELECT sku, qty FROM quickstart_cart_items WHERE order_id = $1 ORDER BY sku";

/// One line of a cart: the article and how many.
pub type CartItem = (String, i64);

/// The carts, in whichever database is configured.
#[derive(Clone)]
pub enum CartStore {
    Sqlite(otel_sqlx::SqlitePool),
    Postgres(otel_sqlx::PgPool),
}

impl CartStore {
    /// Connects to the database `DATABASE_URL` names (SQLite in memory when
    /// it is unset or not a PostgreSQL or SQLite URL) and seeds the carts.
    pub async fn connect_and_seed() -> Result<Self, sqlx::Error> {
        let url = std::env::var("DATABASE_URL").unwrap_or_default();
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(5)
                .acquire_timeout(Duration::from_secs(5))
                .connect(&url)
                .await?;
            CartStore::Postgres(InstrumentedPool::new(pool))
        } else {
            if !url.is_empty() && !url.starts_with("sqlite:") {
                warn!("DATABASE_URL is neither postgres:// nor sqlite:, using SQLite in memory");
            }
            let url = if url.starts_with("sqlite:") {
                url.as_str()
            } else {
                "sqlite::memory:"
            };
            let pool = SqlitePoolOptions::new()
                .max_connections(5)
                // An in-memory database lives as long as one connection to
                // it: keep one open for the life of the service.
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect(url)
                .await?;
            CartStore::Sqlite(InstrumentedPool::new(pool))
        };
        store.seed().await?;
        Ok(store)
    }

    /// Creates and fills the table; through the untraced pool, so that the
    /// traces show only the requests.
    async fn seed(&self) -> Result<(), sqlx::Error> {
        match self {
            CartStore::Sqlite(pool) => sqlx::raw_sql(SEED).execute(pool.untraced()).await.map(drop),
            CartStore::Postgres(pool) => {
                sqlx::raw_sql(SEED).execute(pool.untraced()).await.map(drop)
            }
        }
    }

    /// The items in the cart of `order` (none when there is no such cart).
    pub async fn items(&self, order: u32) -> Result<Vec<CartItem>, sqlx::Error> {
        let order = i64::from(order);
        match self {
            CartStore::Sqlite(pool) => sqlx::query_as(CART_ITEMS).bind(order).fetch_all(pool).await,
            CartStore::Postgres(pool) => {
                sqlx::query_as(CART_ITEMS).bind(order).fetch_all(pool).await
            }
        }
    }

    /// `sqlite` or `postgresql`, for the start-up log.
    pub fn system(&self) -> &'static str {
        match self {
            CartStore::Sqlite(_) => "sqlite",
            CartStore::Postgres(_) => "postgresql",
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match self {
            CartStore::Sqlite(pool) => pool.close().await,
            CartStore::Postgres(pool) => pool.close().await,
        }
    }
}
