//! The instrumented pool: a `sqlx::Pool` whose every operation is a span,
//! whose waits for a connection are spans too, and whose state is metrics.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use opentelemetry::Context;
use sqlx::pool::PoolOptions;
use sqlx::{Pool, SqlSafeStr, Transaction};

use crate::annotation::{Annotated, Annotation};
use crate::builder::InstrumentedPoolBuilder;
use crate::connection::{Holder, InstrumentedConnection, TracedConnection};
use crate::database::InstrumentedDatabase;
use crate::lease;
use crate::shared::Shared;
use crate::telemetry::operation::OperationSpan;
use crate::transaction::InstrumentedTransaction;

/// A [`sqlx::Pool`] whose operations are traced. Adopt it by changing the
/// line that builds the pool; `query(…).fetch_all(&pool)` and the rest of
/// sqlx's API keep working:
///
/// ```
/// use otel_sqlx::{InstrumentedPool, sqlx};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sqlx::Error> {
/// // Before: let pool = SqlitePoolOptions::new().max_connections(4).connect("sqlite::memory:").await?;
/// let pool = InstrumentedPool::new(
///     sqlx::sqlite::SqlitePoolOptions::new().max_connections(4).connect("sqlite::memory:").await?,
/// );
/// let row: (i64,) = sqlx::query_as("SELECT 1 + $1").bind(41).fetch_one(&pool).await?;
/// assert_eq!(row.0, 42);
/// # Ok(()) }
/// ```
///
/// Each operation records, under the current OpenTelemetry context (which
/// `tracing-opentelemetry` keeps in step with the current `tracing` span):
/// an `acquire connection` span for the wait for a connection (when it took
/// at least [`acquire_span_threshold`](InstrumentedPoolBuilder::acquire_span_threshold),
/// 1 ms by default), then a CLIENT span for the query, siblings of each
/// other. Cloning is cheap and shares the pool, like `sqlx::Pool`.
pub struct InstrumentedPool<DB: InstrumentedDatabase> {
    shared: Arc<Shared<DB>>,
}

/// An instrumented PostgreSQL pool: swap `use sqlx::PgPool` for this.
pub type PgPool = InstrumentedPool<sqlx::Postgres>;
/// An instrumented MySQL / MariaDB pool: swap `use sqlx::MySqlPool` for this.
pub type MySqlPool = InstrumentedPool<sqlx::MySql>;
/// An instrumented SQLite pool: swap `use sqlx::SqlitePool` for this.
pub type SqlitePool = InstrumentedPool<sqlx::Sqlite>;

impl<DB: InstrumentedDatabase> InstrumentedPool<DB> {
    /// Instruments `pool` with the defaults: the global tracer and meter
    /// providers (looked up at the first operation), query text captured
    /// (sanitized when it has no bind parameters), no parameter values.
    pub fn new(pool: Pool<DB>) -> Self {
        Self::builder(pool).build()
    }

    /// Instruments `pool` with options; see [`InstrumentedPoolBuilder`].
    pub fn builder(pool: Pool<DB>) -> InstrumentedPoolBuilder<DB> {
        InstrumentedPoolBuilder::new(pool)
    }

    pub(crate) fn from_shared(shared: Arc<Shared<DB>>) -> Self {
        InstrumentedPool { shared }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared<DB>> {
        &self.shared
    }

    /// [`Pool::connect`], instrumented with the defaults.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        Ok(Self::new(Pool::connect(url).await?))
    }

    /// [`Pool::connect_lazy`], instrumented with the defaults.
    pub fn connect_lazy(url: &str) -> Result<Self, sqlx::Error> {
        Ok(Self::new(Pool::connect_lazy(url)?))
    }

    /// [`PoolOptions::connect`], instrumented with the defaults.
    pub async fn connect_with_options(
        options: PoolOptions<DB>,
        url: &str,
    ) -> Result<Self, sqlx::Error> {
        Ok(Self::new(options.connect(url).await?))
    }

    /// Takes a connection from the pool, the wait traced as `acquire
    /// connection`. Use `&mut *conn` as the executor.
    pub async fn acquire(&self) -> Result<InstrumentedConnection<DB>, sqlx::Error> {
        let parent = Context::current();
        let lease = lease::acquire(&self.shared, &parent).await?;
        Ok(InstrumentedConnection::new(lease, Arc::clone(&self.shared)))
    }

    /// Takes a connection and starts a transaction on it: an `acquire
    /// connection` span and a `BEGIN` span. Use `&mut *tx` as the executor.
    pub async fn begin(&self) -> Result<InstrumentedTransaction<'static, DB>, sqlx::Error> {
        self.begin_inner(None).await
    }

    /// [`begin`](Self::begin) with a custom statement such as `BEGIN
    /// ISOLATION LEVEL SERIALIZABLE`.
    pub async fn begin_with(
        &self,
        statement: impl SqlSafeStr,
    ) -> Result<InstrumentedTransaction<'static, DB>, sqlx::Error> {
        self.begin_inner(Some(statement.into_sql_str())).await
    }

    async fn begin_inner(
        &self,
        statement: Option<sqlx::SqlStr>,
    ) -> Result<InstrumentedTransaction<'static, DB>, sqlx::Error> {
        let parent = Context::current();
        let lease = lease::acquire(&self.shared, &parent).await?;
        let operation = OperationSpan::for_transaction(&self.shared, &parent, "BEGIN");
        // sqlx's own way to start a transaction that owns a pooled
        // connection (what `Pool::begin` does).
        let result = Transaction::begin(lease.connection, statement).await;
        operation.finish::<DB, _>(&result);
        Ok(InstrumentedTransaction::new(
            TracedConnection {
                holder: Holder::Transaction(result?),
                shared: Arc::clone(&self.shared),
                use_timer: Some(lease.timer),
            },
            false,
        ))
    }

    /// The pool as an executor whose next query carries `annotation`.
    pub fn annotated(&self, annotation: Annotation) -> Annotated<&Self> {
        Annotated {
            executor: self,
            annotation,
        }
    }

    /// The pool as an executor whose next query's span is named `summary`
    /// (also its `db.query.summary`): a per-query name override.
    pub fn named(&self, summary: impl Into<Cow<'static, str>>) -> Annotated<&Self> {
        self.annotated(Annotation::summary(summary))
    }

    /// The sqlx pool underneath. Operations through it are not traced.
    pub fn untraced(&self) -> &Pool<DB> {
        &self.shared.pool
    }

    /// `db.client.connection.pool.name`: the configured name, else
    /// `address:port/database` (the file name for SQLite).
    pub fn pool_name(&self) -> &str {
        &self.shared.pool_name
    }

    /// [`Pool::size`]: connections open now, idle or in use.
    pub fn size(&self) -> u32 {
        self.shared.pool.size()
    }

    /// [`Pool::num_idle`].
    pub fn num_idle(&self) -> usize {
        self.shared.pool.num_idle()
    }

    /// [`Pool::options`].
    pub fn options(&self) -> &PoolOptions<DB> {
        self.shared.pool.options()
    }

    /// [`Pool::close`].
    pub async fn close(&self) {
        self.shared.pool.close().await;
    }

    /// [`Pool::is_closed`].
    pub fn is_closed(&self) -> bool {
        self.shared.pool.is_closed()
    }
}

impl<DB: InstrumentedDatabase> Clone for InstrumentedPool<DB> {
    fn clone(&self) -> Self {
        InstrumentedPool {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// `let pool: PgPool = PgPoolOptions::new().connect(url).await?.into();`
impl<DB: InstrumentedDatabase> From<Pool<DB>> for InstrumentedPool<DB> {
    fn from(pool: Pool<DB>) -> Self {
        Self::new(pool)
    }
}

impl<DB: InstrumentedDatabase> fmt::Debug for InstrumentedPool<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstrumentedPool")
            .field("pool", &self.shared.pool)
            .field("pool_name", &self.shared.pool_name)
            .field("config", &self.shared.config)
            .finish()
    }
}
