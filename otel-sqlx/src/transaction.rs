//! Transactions: `BEGIN`, `COMMIT` and `ROLLBACK` as spans, the statements
//! in between traced through [`TracedConnection`].

use std::fmt;
use std::ops::{Deref, DerefMut};

use opentelemetry::Context;

use crate::connection::{Holder, TracedConnection};
use crate::database::InstrumentedDatabase;
use crate::telemetry::operation::OperationSpan;

/// A transaction started with
/// [`InstrumentedPool::begin`](crate::InstrumentedPool::begin) or
/// [`TracedConnection::begin`]; like `sqlx::Transaction`, it is rolled back
/// when dropped without [`commit`](Self::commit) (that rollback is queued by
/// sqlx and not traced).
///
/// Use `&mut *tx` (or `&mut tx`) as the executor:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sqlx::Error> {
/// let pool = otel_sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// sqlx::query("CREATE TABLE t (id INTEGER)").execute(&pool).await?;
/// let mut tx = pool.begin().await?;
/// sqlx::query("INSERT INTO t VALUES (1)").execute(&mut *tx).await?;
/// tx.commit().await?;
/// let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&pool).await?;
/// assert_eq!(n, 1);
/// # Ok(()) }
/// ```
pub struct InstrumentedTransaction<'c, DB: InstrumentedDatabase> {
    inner: TracedConnection<'c, DB>,
    /// A savepoint inside an outer transaction.
    nested: bool,
}

impl<'c, DB: InstrumentedDatabase> InstrumentedTransaction<'c, DB> {
    pub(crate) fn new(inner: TracedConnection<'c, DB>, nested: bool) -> Self {
        InstrumentedTransaction { inner, nested }
    }

    /// Commits (releases the savepoint), traced as `COMMIT` (`RELEASE
    /// SAVEPOINT`).
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
    /// let mut tx = pool.begin().await?;
    /// sqlx::query("INSERT INTO t VALUES (1)").execute(&mut *tx).await?;
    /// tx.commit().await?;
    /// assert_eq!(last_span().name, "COMMIT");
    /// let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&pool).await?;
    /// assert_eq!(n, 1);
    /// # Ok(()) }
    /// ```
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let name = if self.nested {
            "RELEASE SAVEPOINT"
        } else {
            "COMMIT"
        };
        self.end(name, true).await
    }

    /// Rolls back (to the savepoint), traced as `ROLLBACK` (`ROLLBACK TO
    /// SAVEPOINT`).
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
    /// let mut tx = pool.begin().await?;
    /// sqlx::query("INSERT INTO t VALUES (1)").execute(&mut *tx).await?;
    /// tx.rollback().await?;
    /// assert_eq!(last_span().name, "ROLLBACK");
    /// let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&pool).await?;
    /// assert_eq!(n, 0);
    /// # Ok(()) }
    /// ```
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        let name = if self.nested {
            "ROLLBACK TO SAVEPOINT"
        } else {
            "ROLLBACK"
        };
        self.end(name, false).await
    }

    async fn end(self, name: &'static str, commit: bool) -> Result<(), sqlx::Error> {
        let parent = Context::current();
        let TracedConnection {
            holder,
            shared,
            use_timer,
        } = self.inner;
        let operation = OperationSpan::for_transaction(&shared, &parent, name);
        let result = match holder {
            Holder::Transaction(transaction) if commit => transaction.commit().await,
            Holder::Transaction(transaction) => transaction.rollback().await,
            // Not constructed: a transaction always holds a sqlx transaction.
            Holder::Pooled(_) => Ok(()),
        };
        operation.finish::<DB, _>(&result);
        drop(use_timer);
        result
    }
}

impl<'c, DB: InstrumentedDatabase> Deref for InstrumentedTransaction<'c, DB> {
    type Target = TracedConnection<'c, DB>;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl<DB: InstrumentedDatabase> DerefMut for InstrumentedTransaction<'_, DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

impl<DB: InstrumentedDatabase> fmt::Debug for InstrumentedTransaction<'_, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstrumentedTransaction")
            .field("connection", &self.inner)
            .field("nested", &self.nested)
            .finish()
    }
}
