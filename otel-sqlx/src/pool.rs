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
///
/// ```no_run
/// # async fn run() -> Result<(), sqlx::Error> {
/// let pool = otel_sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/test").await?;
/// let n: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await?;
/// assert_eq!(n, 1);
/// # Ok(()) }
/// ```
#[cfg(feature = "postgres")]
pub type PgPool = InstrumentedPool<sqlx::Postgres>;
/// An instrumented MySQL / MariaDB pool: swap `use sqlx::MySqlPool` for this.
///
/// ```no_run
/// # async fn run() -> Result<(), sqlx::Error> {
/// let pool = otel_sqlx::MySqlPool::connect("mysql://root@127.0.0.1:3306/test").await?;
/// let n: i64 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await?;
/// assert_eq!(n, 1);
/// # Ok(()) }
/// ```
#[cfg(feature = "mysql")]
pub type MySqlPool = InstrumentedPool<sqlx::MySql>;
/// An instrumented SQLite pool: swap `use sqlx::SqlitePool` for this.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sqlx::Error> {
/// let pool = otel_sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let n: i64 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await?;
/// assert_eq!(n, 1);
/// # Ok(()) }
/// ```
#[cfg(feature = "sqlite")]
pub type SqlitePool = InstrumentedPool<sqlx::Sqlite>;

impl<DB: InstrumentedDatabase> InstrumentedPool<DB> {
    /// Instruments `pool` with the defaults: the global tracer and meter
    /// providers (looked up at the first operation), query text captured
    /// (sanitized when it has no bind parameters), no parameter values.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sqlx::Error> {
    /// let sqlx_pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// let pool = otel_sqlx::InstrumentedPool::new(sqlx_pool);
    /// let n: i64 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await?;
    /// assert_eq!(n, 1);
    /// # Ok(()) }
    /// ```
    pub fn new(pool: Pool<DB>) -> Self {
        Self::builder(pool).build()
    }

    /// Instruments `pool` with options; see [`InstrumentedPoolBuilder`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sqlx::Error> {
    /// let sqlx_pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// let pool = otel_sqlx::InstrumentedPool::builder(sqlx_pool)
    ///     .pool_name("sessions")
    ///     .build();
    /// assert_eq!(pool.pool_name(), "sessions");
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sqlx::Error> {
    /// let pool = otel_sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// assert!(!pool.is_closed());
    ///
    /// // PostgreSQL and MySQL/MariaDB alike:
    /// // let pool = otel_sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/test").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        Ok(Self::new(Pool::connect(url).await?))
    }

    /// [`Pool::connect_lazy`], instrumented with the defaults.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sqlx::Error> {
    /// let pool = otel_sqlx::SqlitePool::connect_lazy("sqlite::memory:")?;
    /// assert_eq!(pool.size(), 0); // nothing opened yet
    /// let n: i64 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await?;
    /// assert_eq!((n, pool.size()), (1, 1)); // opened by the first query
    /// # Ok(()) }
    /// ```
    pub fn connect_lazy(url: &str) -> Result<Self, sqlx::Error> {
        Ok(Self::new(Pool::connect_lazy(url)?))
    }

    /// [`PoolOptions::connect`], instrumented with the defaults.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sqlx::Error> {
    /// use sqlx::sqlite::SqlitePoolOptions;
    ///
    /// let options = SqlitePoolOptions::new().max_connections(2);
    /// let pool = otel_sqlx::SqlitePool::connect_with_options(options, "sqlite::memory:").await?;
    /// assert_eq!(pool.options().get_max_connections(), 2);
    /// # Ok(()) }
    /// ```
    pub async fn connect_with_options(
        options: PoolOptions<DB>,
        url: &str,
    ) -> Result<Self, sqlx::Error> {
        Ok(Self::new(options.connect(url).await?))
    }

    /// Takes a connection from the pool, the wait traced as `acquire
    /// connection`. Use `&mut *conn` as the executor.
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// # let pool = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
    /// #     .tracer_provider(provider.clone())
    /// #     .build();
    /// # let client_spans = || -> Vec<String> {
    /// #     spans.get_finished_spans().unwrap().into_iter()
    /// #         .filter(|s| s.span_kind == opentelemetry::trace::SpanKind::Client)
    /// #         .map(|s| s.name.into_owned()).collect()
    /// # };
    /// // `pool` exports its spans to memory; `client_spans()` lists their names.
    /// let mut conn = pool.acquire().await?;
    /// sqlx::query("CREATE TEMP TABLE scratch (n INTEGER)").execute(&mut *conn).await?;
    /// sqlx::query("INSERT INTO scratch VALUES (1)").execute(&mut *conn).await?;
    /// assert_eq!(client_spans(), ["CREATE TABLE scratch", "INSERT scratch"]);
    /// # Ok(()) }
    /// ```
    pub async fn acquire(&self) -> Result<InstrumentedConnection<DB>, sqlx::Error> {
        let parent = Context::current();
        let lease = lease::acquire(&self.shared, &parent).await?;
        Ok(InstrumentedConnection::new(lease, Arc::clone(&self.shared)))
    }

    /// Takes a connection and starts a transaction on it: an `acquire
    /// connection` span and a `BEGIN` span. Use `&mut *tx` as the executor.
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// # let pool = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
    /// #     .tracer_provider(provider.clone())
    /// #     .build();
    /// # let client_spans = || -> Vec<String> {
    /// #     spans.get_finished_spans().unwrap().into_iter()
    /// #         .filter(|s| s.span_kind == opentelemetry::trace::SpanKind::Client)
    /// #         .map(|s| s.name.into_owned()).collect()
    /// # };
    /// // `pool` exports its spans to memory; `client_spans()` lists their names.
    /// sqlx::query("CREATE TABLE stock (item TEXT, n INTEGER)").execute(&pool).await?;
    /// let mut tx = pool.begin().await?;
    /// sqlx::query("INSERT INTO stock VALUES ('lamp', 3)").execute(&mut *tx).await?;
    /// tx.commit().await?;
    /// assert_eq!(client_spans(), ["CREATE TABLE stock", "BEGIN", "INSERT stock", "COMMIT"]);
    /// # Ok(()) }
    /// ```
    pub async fn begin(&self) -> Result<InstrumentedTransaction<'static, DB>, sqlx::Error> {
        self.begin_inner(None).await
    }

    /// [`begin`](Self::begin) with a custom statement such as `BEGIN
    /// ISOLATION LEVEL SERIALIZABLE`.
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// # let pool = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
    /// #     .tracer_provider(provider.clone())
    /// #     .build();
    /// # let client_spans = || -> Vec<String> {
    /// #     spans.get_finished_spans().unwrap().into_iter()
    /// #         .filter(|s| s.span_kind == opentelemetry::trace::SpanKind::Client)
    /// #         .map(|s| s.name.into_owned()).collect()
    /// # };
    /// // `pool` exports its spans to memory; `client_spans()` lists their names.
    /// let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?; // SQLite's write lock up front
    /// let n: i64 = sqlx::query_scalar("SELECT 1").fetch_one(&mut *tx).await?;
    /// tx.rollback().await?;
    /// assert_eq!(n, 1);
    /// assert_eq!(client_spans(), ["BEGIN", "SELECT", "ROLLBACK"]);
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// # let pool = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
    /// #     .tracer_provider(provider.clone())
    /// #     .build();
    /// # let client_spans = || -> Vec<String> {
    /// #     spans.get_finished_spans().unwrap().into_iter()
    /// #         .filter(|s| s.span_kind == opentelemetry::trace::SpanKind::Client)
    /// #         .map(|s| s.name.into_owned()).collect()
    /// # };
    /// // `pool` exports its spans to memory; `client_spans()` lists their names.
    /// use otel_sqlx::Annotation;
    ///
    /// sqlx::query("CREATE TABLE carts (user_id INTEGER)").execute(&pool).await?;
    /// let cart: Option<(i64,)> = sqlx::query_as("SELECT user_id FROM carts WHERE user_id = ?")
    ///     .bind(7)
    ///     .fetch_optional(pool.annotated(Annotation::summary("load cart").without_query_text()))
    ///     .await?;
    /// assert_eq!(cart, None);
    /// assert_eq!(client_spans(), ["CREATE TABLE carts", "load cart"]);
    /// # Ok(()) }
    /// ```
    pub fn annotated(&self, annotation: Annotation) -> Annotated<&Self> {
        Annotated {
            executor: self,
            annotation,
        }
    }

    /// The pool as an executor whose next query's span is named `summary`
    /// (also its `db.query.summary`): a per-query name override.
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// # let pool = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
    /// #     .tracer_provider(provider.clone())
    /// #     .build();
    /// # let client_spans = || -> Vec<String> {
    /// #     spans.get_finished_spans().unwrap().into_iter()
    /// #         .filter(|s| s.span_kind == opentelemetry::trace::SpanKind::Client)
    /// #         .map(|s| s.name.into_owned()).collect()
    /// # };
    /// // `pool` exports its spans to memory; `client_spans()` lists their names.
    /// let n: i64 = sqlx::query_scalar("SELECT 6 * 7").fetch_one(pool.named("answer")).await?;
    /// assert_eq!(n, 42);
    /// // Only that query: the next one is named from its text again.
    /// sqlx::query("SELECT 1").execute(&pool).await?;
    /// assert_eq!(client_spans(), ["answer", "SELECT"]);
    /// # Ok(()) }
    /// ```
    pub fn named(&self, summary: impl Into<Cow<'static, str>>) -> Annotated<&Self> {
        self.annotated(Annotation::summary(summary))
    }

    /// The sqlx pool underneath. Operations through it are not traced.
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// # let pool = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
    /// #     .tracer_provider(provider.clone())
    /// #     .build();
    /// # let client_spans = || -> Vec<String> {
    /// #     spans.get_finished_spans().unwrap().into_iter()
    /// #         .filter(|s| s.span_kind == opentelemetry::trace::SpanKind::Client)
    /// #         .map(|s| s.name.into_owned()).collect()
    /// # };
    /// // `pool` exports its spans to memory; `client_spans()` lists their names.
    /// let n: i64 = sqlx::query_scalar("SELECT 1").fetch_one(pool.untraced()).await?;
    /// assert_eq!(n, 1);
    /// assert!(client_spans().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn untraced(&self) -> &Pool<DB> {
        &self.shared.pool
    }

    /// `db.client.connection.pool.name`: the configured name, else
    /// `address:port/database` (the file name for SQLite).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sqlx::Error> {
    /// let pool = otel_sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// assert_eq!(pool.pool_name(), ":memory:");
    ///
    /// let named = otel_sqlx::InstrumentedPool::builder(pool.untraced().clone())
    ///     .pool_name("cache")
    ///     .build();
    /// assert_eq!(named.pool_name(), "cache");
    /// # Ok(()) }
    /// ```
    pub fn pool_name(&self) -> &str {
        &self.shared.pool_name
    }

    /// [`Pool::size`]: connections open now, idle or in use.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sqlx::Error> {
    /// let pool = otel_sqlx::SqlitePool::connect_lazy("sqlite::memory:")?;
    /// assert_eq!(pool.size(), 0);
    /// let conn = pool.acquire().await?;
    /// assert_eq!(pool.size(), 1); // in use counts too
    /// # drop(conn);
    /// # Ok(()) }
    /// ```
    pub fn size(&self) -> u32 {
        self.shared.pool.size()
    }

    /// [`Pool::num_idle`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sqlx::Error> {
    /// let pool = otel_sqlx::SqlitePool::connect_lazy("sqlite::memory:")?;
    /// let conn = pool.acquire().await?;
    /// assert_eq!((pool.size(), pool.num_idle()), (1, 0)); // open, in use
    /// # drop(conn);
    /// # Ok(()) }
    /// ```
    pub fn num_idle(&self) -> usize {
        self.shared.pool.num_idle()
    }

    /// [`Pool::options`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sqlx::Error> {
    /// use sqlx::sqlite::SqlitePoolOptions;
    ///
    /// let pool = otel_sqlx::SqlitePool::new(
    ///     SqlitePoolOptions::new().max_connections(3).connect("sqlite::memory:").await?,
    /// );
    /// assert_eq!(pool.options().get_max_connections(), 3);
    /// # Ok(()) }
    /// ```
    pub fn options(&self) -> &PoolOptions<DB> {
        self.shared.pool.options()
    }

    /// [`Pool::close`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sqlx::Error> {
    /// let pool = otel_sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// pool.close().await;
    /// assert!(pool.is_closed());
    /// assert!(pool.acquire().await.is_err()); // sqlx::Error::PoolClosed
    /// # Ok(()) }
    /// ```
    pub async fn close(&self) {
        self.shared.pool.close().await;
    }

    /// [`Pool::is_closed`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sqlx::Error> {
    /// let pool = otel_sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// let clone = pool.clone();
    /// assert!(!clone.is_closed());
    /// pool.close().await;
    /// assert!(clone.is_closed()); // clones share the pool
    /// # Ok(()) }
    /// ```
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
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sqlx::Error> {
/// let pool: otel_sqlx::SqlitePool = sqlx::SqlitePool::connect("sqlite::memory:").await?.into();
/// assert_eq!(pool.pool_name(), ":memory:");
/// # Ok(()) }
/// ```
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
