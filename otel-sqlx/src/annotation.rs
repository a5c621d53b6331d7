//! Per-query overrides: a name for the span, the operation and collection,
//! parameter values, or no query text.

use std::borrow::Cow;

/// What one query's span should say beyond what the text gives: attach it
/// with [`InstrumentedPool::annotated`](crate::InstrumentedPool::annotated)
/// or [`TracedConnection::annotated`](crate::TracedConnection::annotated)
/// (or just name the query with `named`).
///
/// Explicit values win over values parsed from the text.
///
/// ```
/// use otel_sqlx::Annotation;
///
/// let annotation = Annotation::summary("load cart")
///     .collection("cart_items")
///     .parameter("0", 42) // recorded only with `capture_parameters(true)`
///     .without_query_text();
/// # let _ = annotation;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Annotation {
    pub(crate) summary: Option<Cow<'static, str>>,
    pub(crate) operation: Option<Cow<'static, str>>,
    pub(crate) collection: Option<Cow<'static, str>>,
    pub(crate) parameters: Vec<(Cow<'static, str>, String)>,
    pub(crate) omit_query_text: bool,
}

impl Annotation {
    /// An annotation that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// An annotation setting `db.query.summary`, which is also the span name
    /// (a low-cardinality name such as `"load cart"`).
    pub fn summary(summary: impl Into<Cow<'static, str>>) -> Self {
        Self::new().with_summary(summary)
    }

    /// Sets `db.query.summary` and the span name.
    pub fn with_summary(mut self, summary: impl Into<Cow<'static, str>>) -> Self {
        self.summary = Some(summary.into());
        self
    }

    /// Sets `db.operation.name` (e.g. `"SELECT"`); without a summary the span
    /// is named `{operation} {collection}`.
    pub fn operation(mut self, operation: impl Into<Cow<'static, str>>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    /// Sets `db.collection.name` (e.g. `"orders"`).
    pub fn collection(mut self, collection: impl Into<Cow<'static, str>>) -> Self {
        self.collection = Some(collection.into());
        self
    }

    /// Adds `db.query.parameter.<key>` = `value`, recorded only when the pool
    /// was built with
    /// [`capture_parameters(true)`](crate::InstrumentedPoolBuilder::capture_parameters).
    /// By the conventions `key` is the parameter's name, or its 0-based
    /// index when it has none.
    ///
    /// (sqlx encodes bound values into a driver-private binary buffer before
    /// the executor sees them, so they cannot be read back automatically.)
    pub fn parameter(mut self, key: impl Into<Cow<'static, str>>, value: impl ToString) -> Self {
        self.parameters.push((key.into(), value.to_string()));
        self
    }

    /// Records no `db.query.text` for this query.
    pub fn without_query_text(mut self) -> Self {
        self.omit_query_text = true;
        self
    }
}

/// An executor (`&InstrumentedPool` or `&mut TracedConnection`) with an
/// [`Annotation`] for the next query. Implements [`sqlx::Executor`] like the
/// executor it wraps.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sqlx::Error> {
/// let pool = otel_sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let n: i64 = sqlx::query_scalar("SELECT 6 * 7")
///     .fetch_one(pool.named("answer"))
///     .await?;
/// assert_eq!(n, 42);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Annotated<E> {
    pub(crate) executor: E,
    pub(crate) annotation: Annotation,
}
