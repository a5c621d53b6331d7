//! Batch processor settings, metric temporality and attribute limits.

use super::env::EnvReader;
use std::time::Duration;

/// Batch processor settings (`OTEL_BSP_*` for spans, `OTEL_BLRP_*` for logs).
///
/// ```
/// use otel_init::config::{BatchConfig, Config};
/// use std::time::Duration;
/// let config = Config::from_source(&[("OTEL_BSP_SCHEDULE_DELAY", "1000")]);
/// assert_eq!(
///     config.span_batch,
///     BatchConfig { schedule_delay: Duration::from_secs(1), ..BatchConfig::SPANS }
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// Longest wait before a partial batch is exported.
    pub schedule_delay: Duration,
    /// Deadline for one batch, retries included (`Duration::MAX` = none).
    pub export_timeout: Duration,
    /// Items held at most; beyond it new items are dropped and counted.
    pub max_queue_size: usize,
    /// Items per export request at most.
    pub max_export_batch_size: usize,
}

impl BatchConfig {
    /// The specification's span defaults: 5 s, 30 s, 2048, 512.
    ///
    /// ```
    /// use otel_init::config::{BatchConfig, Config};
    /// let nothing_set: [(&str, &str); 0] = [];
    /// assert_eq!(Config::from_source(&nothing_set).span_batch, BatchConfig::SPANS);
    /// assert_eq!(BatchConfig::SPANS.max_queue_size, 2048);
    /// ```
    pub const SPANS: Self = Self {
        schedule_delay: Duration::from_millis(5000),
        export_timeout: Duration::from_millis(30000),
        max_queue_size: 2048,
        max_export_batch_size: 512,
    };
    /// The specification's log record defaults: 1 s, 30 s, 2048, 512.
    ///
    /// ```
    /// use otel_init::config::{BatchConfig, Config};
    /// let nothing_set: [(&str, &str); 0] = [];
    /// assert_eq!(Config::from_source(&nothing_set).log_batch, BatchConfig::LOGS);
    /// assert_eq!(BatchConfig::LOGS.schedule_delay, std::time::Duration::from_secs(1));
    /// ```
    pub const LOGS: Self = Self {
        schedule_delay: Duration::from_millis(1000),
        export_timeout: Duration::from_millis(30000),
        max_queue_size: 2048,
        max_export_batch_size: 512,
    };
}

/// Aggregation temporality the metric exporter asks for.
///
/// ```
/// use otel_init::config::{Config, TemporalityPreference};
/// let config = Config::from_source(&[("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "Delta")]);
/// assert_eq!(config.temporality, TemporalityPreference::Delta);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemporalityPreference {
    /// Cumulative for every instrument (the default).
    Cumulative,
    /// Delta for counters and histograms.
    Delta,
    /// Delta for synchronous counters and histograms only.
    LowMemory,
}

/// Span and log record limits (`OTEL_*_LIMIT`). `None` means no limit.
///
/// ```
/// use otel_init::config::Config;
/// let config = Config::from_source(&[
///     ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "256"),
///     ("OTEL_SPAN_EVENT_COUNT_LIMIT", "16"),
/// ]);
/// assert_eq!(config.limits.span_attribute_value_length, Some(256));
/// assert_eq!(config.limits.log_attribute_value_length, Some(256)); // the general limit
/// assert_eq!(config.limits.span_event_count, 16);
/// assert_eq!(config.limits.span_link_count, 128); // the default
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest string attribute value on spans, events and links.
    pub span_attribute_value_length: Option<usize>,
    /// Attributes per span.
    pub span_attribute_count: usize,
    /// Events per span.
    pub span_event_count: usize,
    /// Links per span.
    pub span_link_count: usize,
    /// Attributes per span event.
    pub event_attribute_count: usize,
    /// Attributes per span link.
    pub link_attribute_count: usize,
    /// Longest string attribute value on log records.
    pub log_attribute_value_length: Option<usize>,
    /// Attributes per log record.
    pub log_attribute_count: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            span_attribute_value_length: None,
            span_attribute_count: 128,
            span_event_count: 128,
            span_link_count: 128,
            event_attribute_count: 128,
            link_attribute_count: 128,
            log_attribute_value_length: None,
            log_attribute_count: 128,
        }
    }
}

pub(super) fn read_batch(r: &mut EnvReader<'_>, prefix: &str, default: BatchConfig) -> BatchConfig {
    let mut b = default;
    let delay_var = format!("{prefix}_SCHEDULE_DELAY");
    if let Some(ms) = r.integer(&delay_var, 0, 86_400_000) {
        // 0 asks for export as soon as possible; the worker needs a tick.
        b.schedule_delay = Duration::from_millis(ms.max(1));
    }
    if let Some(t) = r.timeout_ms(&format!("{prefix}_EXPORT_TIMEOUT")) {
        b.export_timeout = t;
    }
    if let Some(q) = r.count(&format!("{prefix}_MAX_QUEUE_SIZE"), 1) {
        b.max_queue_size = q;
    }
    let batch_var = format!("{prefix}_MAX_EXPORT_BATCH_SIZE");
    let explicit_batch = r.count(&batch_var, 1);
    if let Some(n) = explicit_batch {
        b.max_export_batch_size = n;
    }
    if b.max_export_batch_size > b.max_queue_size {
        // The spec: the batch size must not exceed the queue. Only an
        // explicit batch size is worth a warning; the default just follows.
        if explicit_batch.is_some() {
            let value = b.max_export_batch_size.to_string();
            r.warn(
                &batch_var,
                &value,
                format!(
                    "a batch size no larger than {prefix}_MAX_QUEUE_SIZE ({}); using {}",
                    b.max_queue_size, b.max_queue_size
                ),
            );
        }
        b.max_export_batch_size = b.max_queue_size;
    }
    b
}

pub(super) fn read_limits(r: &mut EnvReader<'_>) -> Limits {
    let d = Limits::default();
    let general_len = r.count("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", 0);
    let general_count = r.count("OTEL_ATTRIBUTE_COUNT_LIMIT", 0);
    Limits {
        span_attribute_value_length: r
            .count("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", 0)
            .or(general_len),
        span_attribute_count: r
            .count("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", 0)
            .or(general_count)
            .unwrap_or(d.span_attribute_count),
        span_event_count: r
            .count("OTEL_SPAN_EVENT_COUNT_LIMIT", 0)
            .unwrap_or(d.span_event_count),
        span_link_count: r
            .count("OTEL_SPAN_LINK_COUNT_LIMIT", 0)
            .unwrap_or(d.span_link_count),
        event_attribute_count: r
            .count("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", 0)
            .unwrap_or(d.event_attribute_count),
        link_attribute_count: r
            .count("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", 0)
            .unwrap_or(d.link_attribute_count),
        log_attribute_value_length: r
            .count("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", 0)
            .or(general_len),
        log_attribute_count: r
            .count("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", 0)
            .or(general_count)
            .unwrap_or(d.log_attribute_count),
    }
}
