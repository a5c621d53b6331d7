//! The settings an [`InstrumentedPool`](crate::InstrumentedPool) is built
//! with; see [`InstrumentedPoolBuilder`](crate::InstrumentedPoolBuilder).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::global::ObjectSafeTracerProvider;
use opentelemetry::metrics::MeterProvider;

use crate::sql::Dialect;

/// A custom sanitizer: query text in, `db.query.text` out.
pub(crate) type Sanitizer = Arc<dyn Fn(&str) -> String + Send + Sync>;
/// A custom summarizer: query text in, `db.query.summary` (and span name) out.
pub(crate) type Summarizer = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Waits for a connection shorter than this get no span by default: taking
/// an idle connection takes microseconds, and a span for each would double
/// the spans of every trace for nothing to see.
pub(crate) const DEFAULT_ACQUIRE_SPAN_THRESHOLD: Duration = Duration::from_millis(1);

/// Default limit of `db.query.text`, in bytes.
pub(crate) const DEFAULT_MAX_QUERY_TEXT_LENGTH: usize = 2048;

/// How query texts become attributes.
#[derive(Clone)]
pub(crate) struct QueryTextConfig {
    pub(crate) dialect: Dialect,
    /// Record `db.query.text` at all.
    pub(crate) capture: bool,
    /// Cut `db.query.text` to this many bytes.
    pub(crate) max_length: usize,
    /// Sanitize texts that have bind parameters too (the conventions say not
    /// to: the parameters carry the data).
    pub(crate) sanitize_parameterized: bool,
    pub(crate) sanitizer: Option<Sanitizer>,
    pub(crate) summarizer: Option<Summarizer>,
    /// Set `db.operation.name` / `db.collection.name` from the parsed text
    /// when the query is one operation (on one table).
    pub(crate) operation_from_text: bool,
}

impl QueryTextConfig {
    pub(crate) fn new(dialect: Dialect) -> Self {
        QueryTextConfig {
            dialect,
            capture: true,
            max_length: DEFAULT_MAX_QUERY_TEXT_LENGTH,
            sanitize_parameterized: false,
            sanitizer: None,
            summarizer: None,
            operation_from_text: true,
        }
    }
}

impl fmt::Debug for QueryTextConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryTextConfig")
            .field("dialect", &self.dialect)
            .field("capture", &self.capture)
            .field("max_length", &self.max_length)
            .field("sanitize_parameterized", &self.sanitize_parameterized)
            .field("custom_sanitizer", &self.sanitizer.is_some())
            .field("custom_summarizer", &self.summarizer.is_some())
            .field("operation_from_text", &self.operation_from_text)
            .finish()
    }
}

/// Where spans go.
#[derive(Clone)]
pub(crate) enum TracerSource {
    /// The global tracer provider, looked up at the first operation.
    Global,
    Provider(Arc<dyn ObjectSafeTracerProvider + Send + Sync>),
}

/// Where metrics go.
#[derive(Clone)]
pub(crate) enum MeterSource {
    /// The global meter provider, looked up at the first operation.
    Global,
    Provider(Arc<dyn MeterProvider + Send + Sync>),
}

/// Everything an instrumented pool is configured with.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) text: QueryTextConfig,
    /// Record `db.query.parameter.<key>` from [`Annotation`](crate::Annotation)s.
    pub(crate) capture_parameters: bool,
    /// Put database error messages in the span status description.
    pub(crate) capture_error_messages: bool,
    /// Waits for a connection shorter than this get no span (always
    /// measured in the wait-time metric).
    pub(crate) acquire_span_threshold: Duration,
    /// `db.client.connection.pool.name`; derived from the endpoint when unset.
    pub(crate) pool_name: Option<String>,
    /// `db.system.name` forced, skipping detection.
    pub(crate) system_name: Option<&'static str>,
    pub(crate) tracer: TracerSource,
    pub(crate) meter: MeterSource,
}

impl Config {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Config {
            text: QueryTextConfig::new(dialect),
            capture_parameters: false,
            capture_error_messages: false,
            acquire_span_threshold: DEFAULT_ACQUIRE_SPAN_THRESHOLD,
            pool_name: None,
            system_name: None,
            tracer: TracerSource::Global,
            meter: MeterSource::Global,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("text", &self.text)
            .field("capture_parameters", &self.capture_parameters)
            .field("capture_error_messages", &self.capture_error_messages)
            .field("acquire_span_threshold", &self.acquire_span_threshold)
            .field("pool_name", &self.pool_name)
            .field("system_name", &self.system_name)
            .field(
                "global_tracer",
                &matches!(self.tracer, TracerSource::Global),
            )
            .field("global_meter", &matches!(self.meter, MeterSource::Global))
            .finish()
    }
}
