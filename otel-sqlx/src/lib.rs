//! sqlx with OpenTelemetry: every query a CLIENT span, every wait for a pool
//! connection its own span, and the pool's state as metrics; for
//! PostgreSQL, MySQL/MariaDB and SQLite.
//!
//! Adopt it by changing the line that builds the pool; the queries stay as
//! they are:
//!
//! ```
//! use otel_sqlx::sqlx; // sqlx is re-exported: one dependency line
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sqlx::Error> {
//! // Before: let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
//! let pool = otel_sqlx::SqlitePool::connect("sqlite::memory:").await?;
//!
//! sqlx::query("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT)")
//!     .execute(&pool)
//!     .await?;
//! sqlx::query("INSERT INTO products (name) VALUES ($1)")
//!     .bind("lamp")
//!     .execute(&pool)
//!     .await?;
//! let names: Vec<(String,)> = sqlx::query_as("SELECT name FROM products")
//!     .fetch_all(&pool)
//!     .await?;
//! assert_eq!(names, vec![("lamp".to_owned(),)]);
//! # Ok(()) }
//! ```
//!
//! With a tracer provider installed (`otel_init::init_telemetry!()`), the
//! `SELECT` above becomes, under whatever span is current:
//!
//! ```text
//! SELECT products      CLIENT    db.system.name=sqlite db.query.text="SELECT name FROM products"
//!                                db.operation.name=SELECT db.collection.name=products
//!                                db.query.summary="SELECT products" db.response.returned_rows=1
//! ```
//!
//! and when the pool had to wait for a connection (1 ms or more, by
//! default), a sibling span before it:
//!
//! ```text
//! acquire connection   INTERNAL  db.client.connection.pool.{name,size,idle,max,pending_requests}=…
//! ```
//!
//! # Features
//!
//! One per database driver, all three on by default:
//!
//! | feature | pools | brings in |
//! |---|---|---|
//! | `postgres` | [`PgPool`], `InstrumentedPool<sqlx::Postgres>` | sqlx's PostgreSQL driver |
//! | `mysql` | [`MySqlPool`], `InstrumentedPool<sqlx::MySql>` (MySQL and MariaDB) | sqlx's MySQL driver |
//! | `sqlite` | [`SqlitePool`], `InstrumentedPool<sqlx::Sqlite>` | sqlx's SQLite driver and its C library |
//!
//! A service on one database turns the others off, and builds neither the
//! other drivers nor SQLite's C library:
//!
//! ```toml
//! otel-sqlx = { version = "0.1", default-features = false, features = ["postgres"] }
//! ```
//!
//! (The examples on this page use SQLite; they are built with the default
//! features.)
//!
//! # What works unchanged
//!
//! [`InstrumentedPool`] and the connections and transactions it hands out
//! implement [`sqlx::Executor`]: `query`, `query_as`, `query_scalar`,
//! `raw_sql`, the `query!` macros, `fetch`, `fetch_one`, `fetch_optional`,
//! `fetch_all`, `execute` and `fetch_many` streams, `pool.begin()` with
//! `&mut *tx` and `commit`/`rollback`, `pool.acquire()` with `&mut *conn`.
//! A stream's span ends when the stream ends or is dropped; a future
//! dropped before completing (a timeout) ends its span as `cancelled`.
//!
//! # What is recorded
//!
//! See `docs/database.md` for the full list. In short: a CLIENT span per
//! operation named by `db.query.summary` (`SELECT products`), with
//! `db.system.name`, `db.namespace`, `server.address`/`server.port`,
//! `db.query.text` (as is when parameterized, literals replaced by `?`
//! otherwise, length-limited), `db.operation.name`, `db.collection.name`,
//! `db.response.returned_rows` (or `db.response.affected_rows` for
//! `execute`), and `db.response.status_code` / `error.type` on failure; an
//! INTERNAL `acquire connection` span per wait for a connection of 1 ms or
//! more (configurable); the
//! metrics `db.client.operation.duration`, `db.client.connection.count`,
//! `.max`, `.idle.min`, `.pending_requests`, `.wait_time`, `.use_time` and
//! `.timeouts`.
#![deny(missing_docs)]
// Without a database feature nothing can be instrumented: no warnings for that.
#![cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(unused)
)]
#![warn(clippy::unwrap_used)]

mod analysis;
mod annotation;
mod builder;
mod config;
mod connection;
mod database;
mod executor;
mod interned;
mod lease;
mod pool;
mod shared;
pub mod sql;
mod telemetry;
mod transaction;

pub use annotation::{Annotated, Annotation};
pub use builder::InstrumentedPoolBuilder;
pub use connection::{InstrumentedConnection, TracedConnection};
pub use database::InstrumentedDatabase;
pub use pool::InstrumentedPool;
#[cfg(feature = "mysql")]
pub use pool::MySqlPool;
#[cfg(feature = "postgres")]
pub use pool::PgPool;
#[cfg(feature = "sqlite")]
pub use pool::SqlitePool;
pub use transaction::InstrumentedTransaction;

/// Re-exported so that one dependency line is enough (and versions match).
///
/// ```
/// use otel_sqlx::sqlx::{self, Row as _};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sqlx::Error> {
/// let pool = otel_sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let row = sqlx::query("SELECT 'lamp' AS name").fetch_one(&pool).await?;
/// assert_eq!(row.try_get::<String, _>("name")?, "lamp");
/// # Ok(()) }
/// ```
pub use sqlx;
