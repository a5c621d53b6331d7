//! Options of an instrumented pool.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::MeterProvider;
use opentelemetry::trace::{Span, Tracer, TracerProvider};
use sqlx::{ConnectOptions as _, Pool};

use crate::config::{Config, MeterSource, TracerSource};
use crate::database::InstrumentedDatabase;
use crate::pool::InstrumentedPool;
use crate::shared::Shared;

/// Builds an [`InstrumentedPool`] with options; from
/// [`InstrumentedPool::builder`].
///
/// ```
/// use std::time::Duration;
/// use otel_sqlx::{InstrumentedPool, sqlx};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sqlx::Error> {
/// let pool = InstrumentedPool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
///     .pool_name("cache")
///     .max_query_text_length(512)
///     .acquire_span_threshold(Duration::from_millis(1))
///     .sanitizer(|sql| otel_sqlx::sql::sanitize(sql, otel_sqlx::sql::Dialect::Sqlite).to_lowercase())
///     .build();
/// assert_eq!(pool.pool_name(), "cache");
/// # Ok(()) }
/// ```
#[must_use = "call .build() to get the pool"]
pub struct InstrumentedPoolBuilder<DB: InstrumentedDatabase> {
    pool: Pool<DB>,
    config: Config,
    /// Leave sqlx's own statement logs as the pool's options set them.
    keep_sqlx_statement_logs: bool,
}

impl<DB: InstrumentedDatabase> std::fmt::Debug for InstrumentedPoolBuilder<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstrumentedPoolBuilder")
            .field("pool", &self.pool)
            .field("config", &self.config)
            .field("keep_sqlx_statement_logs", &self.keep_sqlx_statement_logs)
            .finish()
    }
}

impl<DB: InstrumentedDatabase> InstrumentedPoolBuilder<DB> {
    pub(crate) fn new(pool: Pool<DB>) -> Self {
        InstrumentedPoolBuilder {
            pool,
            config: Config::new(DB::DIALECT),
            keep_sqlx_statement_logs: false,
        }
    }

    /// Sends spans to `provider` instead of the global tracer provider
    /// (e.g. an `opentelemetry_sdk::trace::SdkTracerProvider`, which is
    /// cheap to clone).
    ///
    /// ```
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let spans = InMemorySpanExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// let pool = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
    ///     .tracer_provider(provider.clone())
    ///     .build();
    /// sqlx::query("SELECT 1").execute(&pool).await?;
    /// let query = spans.get_finished_spans()?.pop().expect("the query's span");
    /// assert_eq!(query.span_kind, opentelemetry::trace::SpanKind::Client);
    /// # Ok(()) }
    /// ```
    pub fn tracer_provider<P, T, S>(mut self, provider: P) -> Self
    where
        P: TracerProvider<Tracer = T> + Send + Sync + 'static,
        T: Tracer<Span = S> + Send + Sync + 'static,
        S: Span + Send + Sync + 'static,
    {
        self.config.tracer = TracerSource::Provider(Arc::new(provider));
        self
    }

    /// Sends metrics to `provider` instead of the global meter provider.
    ///
    /// ```
    /// use opentelemetry_sdk::metrics::{InMemoryMetricExporter, SdkMeterProvider};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let metrics = InMemoryMetricExporter::default();
    /// let provider = SdkMeterProvider::builder().with_periodic_exporter(metrics.clone()).build();
    /// let pool = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?)
    ///     .meter_provider(provider.clone())
    ///     .build();
    /// sqlx::query("SELECT 1").execute(&pool).await?;
    /// provider.force_flush()?;
    /// let exported = metrics.get_finished_metrics()?;
    /// let names: Vec<&str> = exported.iter()
    ///     .flat_map(|r| r.scope_metrics())
    ///     .flat_map(|s| s.metrics())
    ///     .map(|m| m.name())
    ///     .collect();
    /// assert!(names.contains(&"db.client.operation.duration"));
    /// assert!(names.contains(&"db.client.connection.count"));
    /// # Ok(()) }
    /// ```
    pub fn meter_provider<P>(mut self, provider: P) -> Self
    where
        P: MeterProvider + Send + Sync + 'static,
    {
        self.config.meter = MeterSource::Provider(Arc::new(provider));
        self
    }

    /// `db.client.connection.pool.name` (default: `address:port/database`,
    /// the file name for SQLite). Give each pool of a process its own name.
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
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `provider` exports to memory; `last_span()` is the last span ended,
    /// // `attr(&span, key)` one of its attributes.
    /// let sqlx_pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// let pool = otel_sqlx::SqlitePool::builder(sqlx_pool)
    ///     .tracer_provider(provider.clone())
    ///     .pool_name("sessions")
    ///     .acquire_span_threshold(std::time::Duration::ZERO) // a span for every wait
    ///     .build();
    /// let conn = pool.acquire().await?;
    /// let wait = last_span();
    /// assert_eq!(wait.name, "acquire connection");
    /// assert_eq!(attr(&wait, "db.client.connection.pool.name").as_deref(), Some("sessions"));
    /// # drop(conn);
    /// # Ok(()) }
    /// ```
    pub fn pool_name(mut self, name: impl Into<String>) -> Self {
        self.config.pool_name = Some(name.into());
        self
    }

    /// Whether to record `db.query.text` (default: true). The summary and
    /// span name are recorded either way.
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
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `provider` exports to memory; `last_span()` is the last span ended,
    /// // `attr(&span, key)` one of its attributes.
    /// let sqlx_pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// let pool = otel_sqlx::SqlitePool::builder(sqlx_pool)
    ///     .tracer_provider(provider.clone())
    ///     .capture_query_text(false)
    ///     .build();
    /// sqlx::query("CREATE TABLE secrets (v TEXT)").execute(&pool).await?;
    /// let span = last_span();
    /// assert_eq!(span.name, "CREATE TABLE secrets");
    /// assert_eq!(attr(&span, "db.query.text"), None);
    /// # Ok(()) }
    /// ```
    pub fn capture_query_text(mut self, capture: bool) -> Self {
        self.config.text.capture = capture;
        self
    }

    /// The longest `db.query.text`, in bytes (default: 2048); longer texts
    /// are cut at a character boundary.
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
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `provider` exports to memory; `last_span()` is the last span ended,
    /// // `attr(&span, key)` one of its attributes.
    /// let sqlx_pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// let pool = otel_sqlx::SqlitePool::builder(sqlx_pool)
    ///     .tracer_provider(provider.clone())
    ///     .max_query_text_length(8)
    ///     .build();
    /// sqlx::query("SELECT ?, ?").bind(1).bind(2).execute(&pool).await?;
    /// assert_eq!(attr(&last_span(), "db.query.text").as_deref(), Some("SELECT ?"));
    /// # Ok(()) }
    /// ```
    pub fn max_query_text_length(mut self, bytes: usize) -> Self {
        self.config.text.max_length = bytes;
        self
    }

    /// Sanitize query texts that have bind parameters too (default: false:
    /// by the conventions such text is recorded as is, the values being in
    /// the parameters).
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
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `provider` exports to memory; `last_span()` is the last span ended,
    /// // `attr(&span, key)` one of its attributes.
    /// let sqlx_pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// let pool = otel_sqlx::SqlitePool::builder(sqlx_pool)
    ///     .tracer_provider(provider.clone())
    ///     .sanitize_parameterized_queries(true)
    ///     .build();
    /// sqlx::query("SELECT ? WHERE 'open' = 'open'").bind(1).execute(&pool).await?;
    /// let text = attr(&last_span(), "db.query.text");
    /// assert_eq!(text.as_deref(), Some("SELECT ? WHERE ? = ?")); // default: unchanged
    /// # Ok(()) }
    /// ```
    pub fn sanitize_parameterized_queries(mut self, sanitize: bool) -> Self {
        self.config.text.sanitize_parameterized = sanitize;
        self
    }

    /// Replaces the built-in sanitizer ([`crate::sql::sanitize`]) for texts
    /// that are sanitized. Called once per distinct text (results are
    /// cached).
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
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `provider` exports to memory; `last_span()` is the last span ended,
    /// // `attr(&span, key)` one of its attributes.
    /// let sqlx_pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// use otel_sqlx::sql::{Dialect, sanitize};
    ///
    /// let pool = otel_sqlx::SqlitePool::builder(sqlx_pool)
    ///     .tracer_provider(provider.clone())
    ///     .sanitizer(|sql| sanitize(sql, Dialect::Sqlite).to_lowercase())
    ///     .build();
    /// sqlx::query("SELECT 'secret'").execute(&pool).await?;
    /// assert_eq!(attr(&last_span(), "db.query.text").as_deref(), Some("select ?"));
    /// # Ok(()) }
    /// ```
    pub fn sanitizer(mut self, sanitizer: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        self.config.text.sanitizer = Some(Arc::new(sanitizer));
        self
    }

    /// Replaces the built-in summary ([`crate::sql::summarize`]): its result
    /// becomes `db.query.summary` and the span name (`None`: the
    /// conventions' fallback name). With a custom summarizer,
    /// `db.operation.name` and `db.collection.name` come only from
    /// [`Annotation`](crate::Annotation)s. Called once per distinct text.
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
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `provider` exports to memory; `last_span()` is the last span ended,
    /// // `attr(&span, key)` one of its attributes.
    /// let sqlx_pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// let pool = otel_sqlx::SqlitePool::builder(sqlx_pool)
    ///     .tracer_provider(provider.clone())
    ///     .summarizer(|sql| sql.split_whitespace().next().map(str::to_lowercase))
    ///     .build();
    /// sqlx::query("SELECT 1").execute(&pool).await?;
    /// let span = last_span();
    /// assert_eq!(span.name, "select");
    /// assert_eq!(attr(&span, "db.query.summary").as_deref(), Some("select"));
    /// assert_eq!(attr(&span, "db.operation.name"), None); // only from annotations now
    /// # Ok(()) }
    /// ```
    pub fn summarizer(
        mut self,
        summarizer: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.config.text.summarizer = Some(Arc::new(summarizer));
        self
    }

    /// Whether to set `db.operation.name` and `db.collection.name` from the
    /// parsed text when the query is a single operation (on a single table)
    /// (default: true). The stable conventions for PostgreSQL and MySQL say
    /// these SHOULD NOT be taken from the text and prefer
    /// `db.query.summary`, which is always set; `false` follows them
    /// strictly.
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
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `provider` exports to memory; `last_span()` is the last span ended,
    /// // `attr(&span, key)` one of its attributes.
    /// let sqlx_pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// let pool = otel_sqlx::SqlitePool::builder(sqlx_pool)
    ///     .tracer_provider(provider.clone())
    ///     .operation_and_collection_from_text(false)
    ///     .build();
    /// sqlx::query("CREATE TABLE products (name TEXT)").execute(&pool).await?;
    /// sqlx::query("SELECT name FROM products").execute(&pool).await?;
    /// let span = last_span();
    /// assert_eq!(attr(&span, "db.query.summary").as_deref(), Some("SELECT products"));
    /// assert_eq!(attr(&span, "db.operation.name"), None);
    /// assert_eq!(attr(&span, "db.collection.name"), None);
    /// # Ok(()) }
    /// ```
    pub fn operation_and_collection_from_text(mut self, enabled: bool) -> Self {
        self.config.text.operation_from_text = enabled;
        self
    }

    /// Whether to record the parameter values given with
    /// [`Annotation::parameter`](crate::Annotation::parameter) as
    /// `db.query.parameter.<key>` (default: false; they may hold personal
    /// data).
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
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `provider` exports to memory; `last_span()` is the last span ended,
    /// // `attr(&span, key)` one of its attributes.
    /// let sqlx_pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// use otel_sqlx::Annotation;
    ///
    /// let pool = otel_sqlx::SqlitePool::builder(sqlx_pool)
    ///     .tracer_provider(provider.clone())
    ///     .capture_parameters(true)
    ///     .build();
    /// let user_id = 7;
    /// sqlx::query("SELECT ?")
    ///     .bind(user_id)
    ///     .execute(pool.annotated(Annotation::new().parameter("0", user_id)))
    ///     .await?;
    /// assert_eq!(attr(&last_span(), "db.query.parameter.0").as_deref(), Some("7"));
    /// # Ok(()) }
    /// ```
    pub fn capture_parameters(mut self, capture: bool) -> Self {
        self.config.capture_parameters = capture;
        self
    }

    /// Whether the span status description of a database error carries the
    /// database's message (default: false, because messages can quote
    /// values, as in MySQL's `Duplicate entry 'alice@example.com'`; the
    /// description is then `"{db.system.name} error {status code}"`). The
    /// same holds for client-side errors whose sqlx message can quote a
    /// value or the connection options (decoding, encoding, configuration,
    /// protocol): without it they are described by their kind
    /// (`"decode error"`).
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
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `provider` exports to memory; `last_span()` is the last span ended,
    /// // `attr(&span, key)` one of its attributes.
    /// let sqlx_pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// use opentelemetry::trace::Status;
    ///
    /// let pool = otel_sqlx::SqlitePool::builder(sqlx_pool)
    ///     .tracer_provider(provider.clone())
    ///     .capture_error_messages(true)
    ///     .build();
    /// assert!(sqlx::query("SELECT * FROM missing").execute(&pool).await.is_err());
    /// let Status::Error { description } = last_span().status else { panic!("not an error") };
    /// assert!(description.contains("no such table: missing"), "{description}");
    /// # Ok(()) }
    /// ```
    pub fn capture_error_messages(mut self, capture: bool) -> Self {
        self.config.capture_error_messages = capture;
        self
    }

    /// Waits for a connection shorter than `threshold` get no `acquire
    /// connection` span (default: 1 ms: taking an idle connection takes
    /// microseconds, and a span for it would only double the spans of every
    /// trace). `Duration::ZERO` gives every wait a span. The wait-time
    /// metric records every wait regardless, and failed or cancelled waits
    /// always get a span.
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
    /// # let last_span = || spans.get_finished_spans().unwrap().pop().unwrap();
    /// // `provider` exports to memory; `last_span()` is the last span ended,
    /// // `attr(&span, key)` one of its attributes.
    /// let sqlx_pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// use std::time::Duration;
    ///
    /// let pool = otel_sqlx::SqlitePool::builder(sqlx_pool)
    ///     .tracer_provider(provider.clone())
    ///     .acquire_span_threshold(Duration::ZERO)
    ///     .build();
    /// sqlx::query("SELECT 1").execute(&pool).await?;
    /// let names: Vec<_> = spans.get_finished_spans()?.into_iter().map(|s| s.name).collect();
    /// assert_eq!(names, ["acquire connection", "SELECT"]);
    /// # Ok(()) }
    /// ```
    pub fn acquire_span_threshold(mut self, threshold: Duration) -> Self {
        self.config.acquire_span_threshold = threshold;
        self
    }

    /// Forces `db.system.name` (e.g. `"mariadb"`), skipping the detection
    /// that runs a `SELECT VERSION()` on the first MySQL-driver connection.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sqlx::Error> {
    /// let sqlx_pool = sqlx::MySqlPool::connect("mysql://root@127.0.0.1:3306/test").await?;
    /// let pool = otel_sqlx::MySqlPool::builder(sqlx_pool)
    ///     .system_name("mariadb") // db.system.name, without asking the server
    ///     .build();
    /// sqlx::query("SELECT 1").execute(&pool).await?;
    /// # Ok(()) }
    /// ```
    pub fn system_name(mut self, name: &'static str) -> Self {
        self.config.system_name = Some(name);
        self
    }

    /// Keeps sqlx's own statement logs (target `sqlx::query`: every statement
    /// at `debug`, and at `warn` each one slower than 1 s) for the connections
    /// the pool opens from now on. Off by default: those log events carry the
    /// whole SQL text with its literals, around the sanitizer, so the
    /// instrumented pool turns them off in the pool's connect options
    /// ([`ConnectOptions::disable_statement_logging`](sqlx::ConnectOptions::disable_statement_logging)).
    /// The spans record every statement's duration instead, sanitized; a slow
    /// statement is found with them (see `docs/database.md`). A connection
    /// the pool opened before it was instrumented keeps its settings, and
    /// `otel-init`'s subscriber filters out `sqlx::query` events unless
    /// `RUST_LOG` names that target.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sqlx::Error> {
    /// let sqlx_pool = sqlx::SqlitePool::connect_lazy("sqlite::memory:")?;
    /// let pool = otel_sqlx::SqlitePool::builder(sqlx_pool)
    ///     .keep_sqlx_statement_logs(true) // literals in sqlx's log events: opt-in
    ///     .build();
    /// # let _ = pool;
    /// # Ok(()) }
    /// ```
    pub fn keep_sqlx_statement_logs(mut self, keep: bool) -> Self {
        self.keep_sqlx_statement_logs = keep;
        self
    }

    /// The instrumented pool.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sqlx::Error> {
    /// let builder = otel_sqlx::SqlitePool::builder(sqlx::SqlitePool::connect("sqlite::memory:").await?);
    /// let pool = builder.build();
    /// let n: i64 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await?;
    /// assert_eq!(n, 1);
    /// # Ok(()) }
    /// ```
    pub fn build(self) -> InstrumentedPool<DB> {
        if !self.keep_sqlx_statement_logs {
            let options = (*self.pool.connect_options()).clone();
            self.pool
                .set_connect_options(options.disable_statement_logging());
        }
        InstrumentedPool::from_shared(Shared::new(self.pool, self.config))
    }
}
