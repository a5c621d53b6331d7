//! Options of an instrumented pool.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::MeterProvider;
use opentelemetry::trace::{Span, Tracer, TracerProvider};
use sqlx::Pool;

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
}

impl<DB: InstrumentedDatabase> std::fmt::Debug for InstrumentedPoolBuilder<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstrumentedPoolBuilder")
            .field("pool", &self.pool)
            .field("config", &self.config)
            .finish()
    }
}

impl<DB: InstrumentedDatabase> InstrumentedPoolBuilder<DB> {
    pub(crate) fn new(pool: Pool<DB>) -> Self {
        InstrumentedPoolBuilder {
            pool,
            config: Config::new(DB::DIALECT),
        }
    }

    /// Sends spans to `provider` instead of the global tracer provider
    /// (e.g. an `opentelemetry_sdk::trace::SdkTracerProvider`, which is
    /// cheap to clone).
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
    pub fn meter_provider<P>(mut self, provider: P) -> Self
    where
        P: MeterProvider + Send + Sync + 'static,
    {
        self.config.meter = MeterSource::Provider(Arc::new(provider));
        self
    }

    /// `db.client.connection.pool.name` (default: `address:port/database`,
    /// the file name for SQLite). Give each pool of a process its own name.
    pub fn pool_name(mut self, name: impl Into<String>) -> Self {
        self.config.pool_name = Some(name.into());
        self
    }

    /// Whether to record `db.query.text` (default: true). The summary and
    /// span name are recorded either way.
    pub fn capture_query_text(mut self, capture: bool) -> Self {
        self.config.text.capture = capture;
        self
    }

    /// The longest `db.query.text`, in bytes (default: 2048); longer texts
    /// are cut at a character boundary.
    pub fn max_query_text_length(mut self, bytes: usize) -> Self {
        self.config.text.max_length = bytes;
        self
    }

    /// Sanitize query texts that have bind parameters too (default: false:
    /// by the conventions such text is recorded as is, the values being in
    /// the parameters).
    pub fn sanitize_parameterized_queries(mut self, sanitize: bool) -> Self {
        self.config.text.sanitize_parameterized = sanitize;
        self
    }

    /// Replaces the built-in sanitizer ([`crate::sql::sanitize`]) for texts
    /// that are sanitized. Called once per distinct text (results are
    /// cached).
    pub fn sanitizer(mut self, sanitizer: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        self.config.text.sanitizer = Some(Arc::new(sanitizer));
        self
    }

    /// Replaces the built-in summary ([`crate::sql::summarize`]): its result
    /// becomes `db.query.summary` and the span name (`None`: the
    /// conventions' fallback name). With a custom summarizer,
    /// `db.operation.name` and `db.collection.name` come only from
    /// [`Annotation`](crate::Annotation)s. Called once per distinct text.
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
    pub fn operation_and_collection_from_text(mut self, enabled: bool) -> Self {
        self.config.text.operation_from_text = enabled;
        self
    }

    /// Whether to record the parameter values given with
    /// [`Annotation::parameter`](crate::Annotation::parameter) as
    /// `db.query.parameter.<key>` (default: false; they may hold personal
    /// data).
    pub fn capture_parameters(mut self, capture: bool) -> Self {
        self.config.capture_parameters = capture;
        self
    }

    /// Whether the span status description of a database error carries the
    /// database's message (default: false, because messages can quote
    /// values, as in MySQL's `Duplicate entry 'alice@example.com'`; the
    /// description is then `"{db.system.name} error {status code}"`).
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
    pub fn acquire_span_threshold(mut self, threshold: Duration) -> Self {
        self.config.acquire_span_threshold = threshold;
        self
    }

    /// Forces `db.system.name` (e.g. `"mariadb"`), skipping the detection
    /// that runs a `SELECT VERSION()` on the first MySQL-driver connection.
    pub fn system_name(mut self, name: &'static str) -> Self {
        self.config.system_name = Some(name);
        self
    }

    /// The instrumented pool.
    pub fn build(self) -> InstrumentedPool<DB> {
        InstrumentedPool::from_shared(Shared::new(self.pool, self.config))
    }
}
