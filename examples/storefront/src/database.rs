//! The inventory's database: PostgreSQL when `DATABASE_URL` says so, SQLite
//! in a temporary file otherwise; a deliberately small pool, instrumented
//! with `otel-sqlx`, and stock queries that hold their connection for a
//! while (as a slow query does).

use crate::config::DatabaseSettings;
use otel_sqlx::sqlx::{self, Connection as _};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;
use storefront::{CATALOG, StockLevel};
use tracing::instrument;

/// How long a request may wait for a connection before it fails. Long on
/// purpose: the demo wants starved requests to wait (as in the story), not
/// to fail fast.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// The inventory's pool.
#[derive(Clone)]
pub enum Database {
    /// PostgreSQL: the slow part of the stock query is `pg_sleep`.
    Postgres(otel_sqlx::PgPool),
    /// SQLite: it has no sleep function, so the connection is held for the
    /// same time after the query.
    Sqlite {
        /// The pool.
        pool: otel_sqlx::SqlitePool,
        /// The temporary database file to delete at the end, if we made it.
        temporary: Option<PathBuf>,
    },
}

type Row = (String, i64, i64);

impl Database {
    /// Connects, creates and seeds the stock table, opens every connection of
    /// the pool (so that no request pays for opening one), and instruments
    /// the pool.
    pub async fn open(settings: &DatabaseSettings) -> Result<Database, sqlx::Error> {
        match settings.url.as_deref() {
            Some(url) if url.starts_with("postgres:") || url.starts_with("postgresql:") => {
                let options = sqlx::postgres::PgConnectOptions::from_str(url)?;
                let pool = connect::<sqlx::Postgres>(options, settings).await?;
                seed_postgres(&pool).await?;
                warm_up(&pool, settings.pool_size).await?;
                Ok(Database::Postgres(instrument_pool(pool)))
            }
            Some(url) if url.starts_with("sqlite:") => {
                let options =
                    sqlx::sqlite::SqliteConnectOptions::from_str(url)?.create_if_missing(true);
                Self::open_sqlite(options, settings, None).await
            }
            Some(other) => Err(sqlx::Error::Configuration(
                format!(
                    "DATABASE_URL must be a postgres:// or sqlite: URL, not {:?}",
                    other.split(':').next().unwrap_or_default()
                )
                .into(),
            )),
            None => {
                let file = std::env::temp_dir()
                    .join(format!("storefront-inventory-{}.db", std::process::id()));
                remove_sqlite_files(&file);
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(&file)
                    .create_if_missing(true);
                Self::open_sqlite(options, settings, Some(file)).await
            }
        }
    }

    async fn open_sqlite(
        options: sqlx::sqlite::SqliteConnectOptions,
        settings: &DatabaseSettings,
        temporary: Option<PathBuf>,
    ) -> Result<Database, sqlx::Error> {
        let options = options
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10));
        let pool = connect::<sqlx::Sqlite>(options, settings).await?;
        seed_sqlite(&pool).await?;
        warm_up(&pool, settings.pool_size).await?;
        Ok(Database::Sqlite {
            pool: instrument_pool(pool),
            temporary,
        })
    }

    /// What the log line at start says about the database.
    pub fn describe(&self) -> String {
        match self {
            Database::Postgres(pool) => format!("postgresql ({})", pool.pool_name()),
            Database::Sqlite { pool, .. } => format!("sqlite ({})", pool.pool_name()),
        }
    }

    /// The stock of `skus`. The connection is held for `hold` in all: the
    /// query itself sleeps on PostgreSQL; on SQLite the connection is kept
    /// for that long after the query.
    pub async fn stock(
        &self,
        skus: &[String],
        hold: Duration,
    ) -> Result<Vec<StockLevel>, sqlx::Error> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<Row> = match self {
            Database::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                sqlx::query_as(
                    "SELECT sku, price_cents, quantity FROM storefront_stock, pg_sleep($2) \
                     WHERE sku = ANY($1)",
                )
                .bind(skus)
                .bind(hold.as_secs_f64())
                .fetch_all(&mut *conn)
                .await?
            }
            Database::Sqlite { pool, .. } => {
                let mut conn = pool.acquire().await?;
                let placeholders = vec!["?"; skus.len()].join(", ");
                let sql = format!(
                    "SELECT sku, price_cents, quantity FROM stock WHERE sku IN ({placeholders})"
                );
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
                for sku in skus {
                    query = query.bind(sku);
                }
                let rows = query.fetch_all(&mut *conn).await?;
                simulated_slow_query(hold).await;
                drop(conn);
                rows
            }
        };
        Ok(rows
            .into_iter()
            .map(|(sku, price_cents, available)| StockLevel {
                sku,
                price_cents,
                available,
            })
            .collect())
    }

    /// Closes the pool and deletes the temporary database.
    pub async fn close(&self) {
        match self {
            Database::Postgres(pool) => pool.close().await,
            Database::Sqlite { pool, temporary } => {
                pool.close().await;
                if let Some(file) = temporary {
                    remove_sqlite_files(file);
                }
            }
        }
    }
}

/// The rest of the slow query's time on SQLite, which has no `pg_sleep`: the
/// connection stays taken meanwhile, exactly as during a slow query.
#[instrument(name = "simulated slow query (connection held)", fields(demo.hold_ms = hold.as_millis() as u64))]
async fn simulated_slow_query(hold: Duration) {
    tokio::time::sleep(hold).await;
}

/// A pool of `settings.pool_size` connections that gives up on a connection
/// after [`ACQUIRE_TIMEOUT`].
async fn connect<DB: sqlx::Database>(
    options: <DB::Connection as sqlx::Connection>::Options,
    settings: &DatabaseSettings,
) -> Result<sqlx::Pool<DB>, sqlx::Error> {
    sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(settings.pool_size)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
}

fn instrument_pool<DB: otel_sqlx::InstrumentedDatabase>(
    pool: sqlx::Pool<DB>,
) -> otel_sqlx::InstrumentedPool<DB> {
    otel_sqlx::InstrumentedPool::builder(pool)
        .pool_name("inventory")
        .build()
}

/// Takes every connection of the pool at once, so that they are all open
/// before the first request (opening one is not what the demo is about).
/// Done on the plain pool, before it is instrumented: no spans.
async fn warm_up<DB: sqlx::Database>(pool: &sqlx::Pool<DB>, size: u32) -> Result<(), sqlx::Error> {
    let mut held = Vec::with_capacity(size as usize);
    for _ in 0..size {
        held.push(pool.acquire().await?);
    }
    for conn in held.iter_mut() {
        conn.ping().await?;
    }
    Ok(())
}

async fn seed_postgres(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    // Several demos may start at once against the same database: a race on
    // CREATE TABLE IF NOT EXISTS is harmless, so one retry is enough.
    let create = "CREATE TABLE IF NOT EXISTS storefront_stock (\
                  sku TEXT PRIMARY KEY, price_cents BIGINT NOT NULL, quantity BIGINT NOT NULL)";
    if sqlx::query(create).execute(pool).await.is_err() {
        sqlx::query(create).execute(pool).await?;
    }
    for product in CATALOG {
        sqlx::query(
            "INSERT INTO storefront_stock (sku, price_cents, quantity) VALUES ($1, $2, $3) \
             ON CONFLICT (sku) DO UPDATE SET price_cents = EXCLUDED.price_cents, \
             quantity = EXCLUDED.quantity",
        )
        .bind(product.sku)
        .bind(product.price_cents)
        .bind(product.quantity)
        .execute(pool)
        .await?;
    }
    Ok(())
}

async fn seed_sqlite(pool: &sqlx::SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS stock (\
         sku TEXT PRIMARY KEY, price_cents INTEGER NOT NULL, quantity INTEGER NOT NULL)",
    )
    .execute(pool)
    .await?;
    for product in CATALOG {
        sqlx::query("INSERT OR REPLACE INTO stock (sku, price_cents, quantity) VALUES (?, ?, ?)")
            .bind(product.sku)
            .bind(product.price_cents)
            .bind(product.quantity)
            .execute(pool)
            .await?;
    }
    Ok(())
}

fn remove_sqlite_files(file: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut path = file.as_os_str().to_owned();
        path.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(path));
    }
}
