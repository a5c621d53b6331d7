//! Connections held by the caller: one taken from the pool
//! ([`InstrumentedConnection`]) or the connection inside a transaction; both
//! dereference to a [`TracedConnection`], the executor.

use std::borrow::Cow;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use opentelemetry::Context;
use sqlx::pool::PoolConnection;
use sqlx::{Connection as _, SqlSafeStr, Transaction};

use crate::annotation::{Annotated, Annotation};
use crate::database::InstrumentedDatabase;
use crate::executor::Route;
use crate::lease::{Lease, UseTimer};
use crate::shared::Shared;
use crate::telemetry::operation::OperationSpan;
use crate::transaction::InstrumentedTransaction;

/// The sqlx object that owns (or borrows) the raw connection.
pub(crate) enum Holder<'c, DB: InstrumentedDatabase> {
    Pooled(PoolConnection<DB>),
    Transaction(Transaction<'c, DB>),
}

impl<DB: InstrumentedDatabase> Holder<'_, DB> {
    fn raw(&mut self) -> &mut DB::Connection {
        match self {
            Holder::Pooled(connection) => connection,
            Holder::Transaction(transaction) => transaction,
        }
    }
}

/// A connection whose operations are traced: `&mut *conn` for an
/// [`InstrumentedConnection`] or an [`InstrumentedTransaction`] is a
/// `&mut TracedConnection`, which implements [`sqlx::Executor`], so
/// `query(…).fetch_all(&mut *conn)` keeps compiling and is traced.
///
/// A helper that took `&mut PgConnection` takes `&mut TracedConnection<'_,
/// Postgres>` instead (or any `impl Executor`); both a pooled connection and
/// a transaction can be passed to it. There is deliberately no `Deref` to
/// the raw connection, so that such helpers do not silently lose tracing;
/// [`untraced`](Self::untraced) is the explicit way out.
///
/// ```
/// use otel_sqlx::TracedConnection;
///
/// // Takes a pooled connection and a transaction alike.
/// async fn count(conn: &mut TracedConnection<'_, sqlx::Sqlite>) -> Result<i64, sqlx::Error> {
///     sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(conn).await
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sqlx::Error> {
/// let pool = otel_sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// sqlx::query("CREATE TABLE t (n INTEGER)").execute(&pool).await?;
/// let mut tx = pool.begin().await?;
/// sqlx::query("INSERT INTO t VALUES (1)").execute(&mut *tx).await?;
/// assert_eq!(count(&mut tx).await?, 1);
/// tx.rollback().await?;
/// let mut conn = pool.acquire().await?;
/// assert_eq!(count(&mut conn).await?, 0);
/// # Ok(()) }
/// ```
pub struct TracedConnection<'c, DB: InstrumentedDatabase> {
    pub(crate) holder: Holder<'c, DB>,
    pub(crate) shared: Arc<Shared<DB>>,
    /// Times the connection's use when it came from the pool.
    pub(crate) use_timer: Option<UseTimer>,
}

impl<'c, DB: InstrumentedDatabase> TracedConnection<'c, DB> {
    pub(crate) fn connection_route(&mut self) -> Route<'_, DB> {
        Route::Connection {
            connection: self.holder.raw(),
            shared: &self.shared,
        }
    }

    /// This connection as an executor whose next query carries
    /// `annotation`.
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    /// # fn attr(span: &SpanData, key: &str) -> Option<String> {
    /// #     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// # let pool = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
    /// #     .tracer_provider(provider.clone())
    /// #     .build();
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `pool` exports its spans to memory; `last_span()` is the last one
    /// // ended, `attr(&span, key)` one of its attributes.
    /// use otel_sqlx::Annotation;
    ///
    /// let mut conn = pool.acquire().await?;
    /// let annotation = Annotation::summary("warm cache").without_query_text();
    /// sqlx::query("SELECT 1").execute(conn.annotated(annotation)).await?;
    /// let span = last_span();
    /// assert_eq!(span.name, "warm cache");
    /// assert_eq!(attr(&span, "db.query.text"), None);
    /// # Ok(()) }
    /// ```
    pub fn annotated(&mut self, annotation: Annotation) -> Annotated<&mut Self> {
        Annotated {
            executor: self,
            annotation,
        }
    }

    /// This connection as an executor whose next query's span is named
    /// `summary` (also its `db.query.summary`).
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    /// # fn attr(span: &SpanData, key: &str) -> Option<String> {
    /// #     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// # let pool = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
    /// #     .tracer_provider(provider.clone())
    /// #     .build();
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `pool` exports its spans to memory; `last_span()` is the last one
    /// // ended, `attr(&span, key)` one of its attributes.
    /// let mut tx = pool.begin().await?;
    /// sqlx::query("SELECT 1").execute(tx.named("reserve stock")).await?;
    /// assert_eq!(last_span().name, "reserve stock");
    /// tx.commit().await?;
    /// # Ok(()) }
    /// ```
    pub fn named(&mut self, summary: impl Into<Cow<'static, str>>) -> Annotated<&mut Self> {
        self.annotated(Annotation::summary(summary))
    }

    /// Starts a transaction (a savepoint when one is already open), traced
    /// as `BEGIN` (`SAVEPOINT`).
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    /// # fn attr(span: &SpanData, key: &str) -> Option<String> {
    /// #     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// # let pool = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
    /// #     .tracer_provider(provider.clone())
    /// #     .build();
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `pool` exports its spans to memory; `last_span()` is the last one
    /// // ended, `attr(&span, key)` one of its attributes.
    /// sqlx::query("CREATE TABLE t (n INTEGER)").execute(&pool).await?;
    /// let mut conn = pool.acquire().await?;
    /// let mut tx = conn.begin().await?;
    /// assert_eq!(last_span().name, "BEGIN");
    /// let mut savepoint = tx.begin().await?; // nested: a savepoint
    /// assert_eq!(last_span().name, "SAVEPOINT");
    /// sqlx::query("INSERT INTO t VALUES (1)").execute(&mut *savepoint).await?;
    /// savepoint.rollback().await?;
    /// assert_eq!(last_span().name, "ROLLBACK TO SAVEPOINT");
    /// tx.commit().await?;
    /// let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut *conn).await?;
    /// assert_eq!(n, 0); // the insert was rolled back with the savepoint
    /// # Ok(()) }
    /// ```
    pub async fn begin(&mut self) -> Result<InstrumentedTransaction<'_, DB>, sqlx::Error> {
        self.begin_inner(None).await
    }

    /// Starts a transaction with a custom statement such as `BEGIN
    /// ISOLATION LEVEL SERIALIZABLE`; see [`sqlx::Connection::begin_with`].
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    /// # fn attr(span: &SpanData, key: &str) -> Option<String> {
    /// #     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// # let pool = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
    /// #     .tracer_provider(provider.clone())
    /// #     .build();
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `pool` exports its spans to memory; `last_span()` is the last one
    /// // ended, `attr(&span, key)` one of its attributes.
    /// let mut conn = pool.acquire().await?;
    /// let tx = conn.begin_with("BEGIN EXCLUSIVE").await?; // SQLite's strongest lock
    /// assert_eq!(last_span().name, "BEGIN");
    /// tx.commit().await?;
    /// assert_eq!(last_span().name, "COMMIT");
    /// # Ok(()) }
    /// ```
    pub async fn begin_with(
        &mut self,
        statement: impl SqlSafeStr,
    ) -> Result<InstrumentedTransaction<'_, DB>, sqlx::Error> {
        self.begin_inner(Some(statement.into_sql_str())).await
    }

    async fn begin_inner(
        &mut self,
        statement: Option<sqlx::SqlStr>,
    ) -> Result<InstrumentedTransaction<'_, DB>, sqlx::Error> {
        let parent = Context::current();
        let TracedConnection { holder, shared, .. } = self;
        let raw = holder.raw();
        let nested = raw.is_in_transaction();
        let operation = OperationSpan::for_transaction(
            shared,
            &parent,
            if nested { "SAVEPOINT" } else { "BEGIN" },
        );
        let result = match statement {
            Some(statement) => raw.begin_with(statement).await,
            None => raw.begin().await,
        };
        operation.finish::<DB, _>(&result);
        Ok(InstrumentedTransaction::new(
            TracedConnection {
                holder: Holder::Transaction(result?),
                shared: Arc::clone(shared),
                use_timer: None,
            },
            nested,
        ))
    }

    /// The raw sqlx connection. Operations on it are not traced.
    ///
    /// ```
    /// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    /// # fn attr(span: &SpanData, key: &str) -> Option<String> {
    /// #     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let spans = InMemorySpanExporter::default();
    /// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// # let pool = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
    /// #     .tracer_provider(provider.clone())
    /// #     .build();
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `pool` exports its spans to memory; `last_span()` is the last one
    /// // ended, `attr(&span, key)` one of its attributes.
    /// use sqlx::Connection as _;
    ///
    /// let mut conn = pool.acquire().await?;
    /// sqlx::query("SELECT 1").execute(&mut *conn).await?;
    /// let traced = spans.get_finished_spans()?.len();
    /// let raw: &mut sqlx::SqliteConnection = conn.untraced();
    /// raw.ping().await?;
    /// sqlx::query("SELECT 1").execute(&mut *raw).await?;
    /// assert_eq!(spans.get_finished_spans()?.len(), traced); // no new span
    /// # Ok(()) }
    /// ```
    pub fn untraced(&mut self) -> &mut DB::Connection {
        self.holder.raw()
    }
}

impl<DB: InstrumentedDatabase> fmt::Debug for TracedConnection<'_, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.holder {
            Holder::Pooled(_) => "pooled",
            Holder::Transaction(_) => "transaction",
        };
        f.debug_struct("TracedConnection")
            .field("kind", &kind)
            .field("pool", &self.shared.pool_name)
            .finish_non_exhaustive()
    }
}

/// A connection taken from an [`InstrumentedPool`](crate::InstrumentedPool)
/// with [`acquire`](crate::InstrumentedPool::acquire); returned to the pool
/// when dropped, like `sqlx::pool::PoolConnection`.
///
/// Use `&mut *conn` (or `&mut conn`) as the executor:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sqlx::Error> {
/// let pool = otel_sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let mut conn = pool.acquire().await?;
/// sqlx::query("CREATE TABLE t (id INTEGER)").execute(&mut *conn).await?;
/// let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut *conn).await?;
/// assert_eq!(n, 0);
/// # Ok(()) }
/// ```
pub struct InstrumentedConnection<DB: InstrumentedDatabase> {
    inner: TracedConnection<'static, DB>,
}

impl<DB: InstrumentedDatabase> InstrumentedConnection<DB> {
    pub(crate) fn new(lease: Lease<DB>, shared: Arc<Shared<DB>>) -> Self {
        InstrumentedConnection {
            inner: TracedConnection {
                holder: Holder::Pooled(lease.connection),
                shared,
                use_timer: Some(lease.timer),
            },
        }
    }
}

impl<DB: InstrumentedDatabase> Deref for InstrumentedConnection<DB> {
    type Target = TracedConnection<'static, DB>;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl<DB: InstrumentedDatabase> DerefMut for InstrumentedConnection<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

impl<DB: InstrumentedDatabase> fmt::Debug for InstrumentedConnection<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("InstrumentedConnection")
            .field(&self.inner)
            .finish()
    }
}
