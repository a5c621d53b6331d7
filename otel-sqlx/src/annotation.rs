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
/// # use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let spans = InMemorySpanExporter::default();
/// # let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
/// # let pool = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
/// #     .tracer_provider(provider.clone())
/// #     .build();
/// // `pool` exports its spans to `spans`, in memory.
/// sqlx::query("CREATE TABLE cart_items (cart_id INTEGER)").execute(&pool).await?;
/// let annotation = Annotation::summary("load cart")
///     .collection("cart_items")
///     .parameter("0", 42) // recorded only with `capture_parameters(true)`
///     .without_query_text();
/// sqlx::query("SELECT * FROM cart_items WHERE cart_id = ?")
///     .bind(42)
///     .fetch_all(pool.annotated(annotation))
///     .await?;
/// let span = spans.get_finished_spans()?.pop().expect("the query's span");
/// assert_eq!(span.name, "load cart");
/// let keys: Vec<&str> = span.attributes.iter().map(|kv| kv.key.as_str()).collect();
/// assert!(keys.contains(&"db.collection.name"));
/// assert!(!keys.contains(&"db.query.text"));
/// assert!(!keys.contains(&"db.query.parameter.0"));
/// # Ok(()) }
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
    /// #     .capture_parameters(true)
    /// #     .build();
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `pool` exports its spans to memory; `last_span()` is the last one
    /// // ended, `attr(&span, key)` one of its attributes.
    /// use otel_sqlx::Annotation;
    ///
    /// sqlx::query("SELECT 1").execute(pool.annotated(Annotation::new())).await?;
    /// assert_eq!(last_span().name, "SELECT"); // as without an annotation
    /// # Ok(()) }
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// An annotation setting `db.query.summary`, which is also the span name
    /// (a low-cardinality name such as `"load cart"`).
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
    /// #     .capture_parameters(true)
    /// #     .build();
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `pool` exports its spans to memory; `last_span()` is the last one
    /// // ended, `attr(&span, key)` one of its attributes.
    /// use otel_sqlx::Annotation;
    ///
    /// sqlx::query("SELECT 1").execute(pool.annotated(Annotation::summary("health check"))).await?;
    /// let span = last_span();
    /// assert_eq!(span.name, "health check");
    /// assert_eq!(attr(&span, "db.query.summary").as_deref(), Some("health check"));
    /// # Ok(()) }
    /// ```
    pub fn summary(summary: impl Into<Cow<'static, str>>) -> Self {
        Self::new().with_summary(summary)
    }

    /// Sets `db.query.summary` and the span name.
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
    /// #     .capture_parameters(true)
    /// #     .build();
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `pool` exports its spans to memory; `last_span()` is the last one
    /// // ended, `attr(&span, key)` one of its attributes.
    /// use otel_sqlx::Annotation;
    ///
    /// let annotation = Annotation::new().collection("orders").with_summary("count orders");
    /// sqlx::query("SELECT 1").execute(pool.annotated(annotation)).await?;
    /// let span = last_span();
    /// assert_eq!(span.name, "count orders"); // the summary wins over `{operation} {collection}`
    /// assert_eq!(attr(&span, "db.collection.name").as_deref(), Some("orders"));
    /// # Ok(()) }
    /// ```
    pub fn with_summary(mut self, summary: impl Into<Cow<'static, str>>) -> Self {
        self.summary = Some(summary.into());
        self
    }

    /// Sets `db.operation.name` (e.g. `"SELECT"`); without a summary the span
    /// is named `{operation} {collection}`.
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
    /// #     .capture_parameters(true)
    /// #     .build();
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `pool` exports its spans to memory; `last_span()` is the last one
    /// // ended, `attr(&span, key)` one of its attributes.
    /// use otel_sqlx::Annotation;
    ///
    /// sqlx::query("SELECT 1").execute(pool.annotated(Annotation::new().operation("PING"))).await?;
    /// let span = last_span();
    /// assert_eq!(span.name, "PING");
    /// assert_eq!(attr(&span, "db.operation.name").as_deref(), Some("PING"));
    /// # Ok(()) }
    /// ```
    pub fn operation(mut self, operation: impl Into<Cow<'static, str>>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    /// Sets `db.collection.name` (e.g. `"orders"`).
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
    /// #     .capture_parameters(true)
    /// #     .build();
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `pool` exports its spans to memory; `last_span()` is the last one
    /// // ended, `attr(&span, key)` one of its attributes.
    /// use otel_sqlx::Annotation;
    ///
    /// sqlx::query("CREATE TABLE orders (id INTEGER)").execute(&pool).await?;
    /// let annotation = Annotation::new().operation("SELECT").collection("orders");
    /// sqlx::query("SELECT count(*) FROM orders").execute(pool.annotated(annotation)).await?;
    /// let span = last_span();
    /// assert_eq!(span.name, "SELECT orders");
    /// assert_eq!(attr(&span, "db.collection.name").as_deref(), Some("orders"));
    /// # Ok(()) }
    /// ```
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
    /// #     .capture_parameters(true)
    /// #     .build();
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `pool` exports its spans to memory; `last_span()` is the last one
    /// // ended, `attr(&span, key)` one of its attributes.
    /// use otel_sqlx::Annotation;
    ///
    /// // `pool` was built with `.capture_parameters(true)`.
    /// sqlx::query("SELECT ?, ?")
    ///     .bind(7)
    ///     .bind("EUR")
    ///     .execute(pool.annotated(Annotation::new().parameter("0", 7).parameter("1", "EUR")))
    ///     .await?;
    /// let span = last_span();
    /// assert_eq!(attr(&span, "db.query.parameter.0").as_deref(), Some("7"));
    /// assert_eq!(attr(&span, "db.query.parameter.1").as_deref(), Some("EUR"));
    /// # Ok(()) }
    /// ```
    pub fn parameter(mut self, key: impl Into<Cow<'static, str>>, value: impl ToString) -> Self {
        self.parameters.push((key.into(), value.to_string()));
        self
    }

    /// Records no `db.query.text` for this query.
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
    /// #     .capture_parameters(true)
    /// #     .build();
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `pool` exports its spans to memory; `last_span()` is the last one
    /// // ended, `attr(&span, key)` one of its attributes.
    /// use otel_sqlx::Annotation;
    ///
    /// let annotation = Annotation::new().without_query_text();
    /// sqlx::query("SELECT 'not for the logs'").execute(pool.annotated(annotation)).await?;
    /// let span = last_span();
    /// assert_eq!(attr(&span, "db.query.text"), None);
    /// assert_eq!(span.name, "SELECT"); // the summary stays
    /// # Ok(()) }
    /// ```
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
