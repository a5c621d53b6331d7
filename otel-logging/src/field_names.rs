//! The names of the keys a line is made of, with presets for the common shapes.

use std::borrow::Cow;

type Name = Cow<'static, str>;

/// How the level is spelled.
///
/// ```
/// use otel_logging::{FieldNames, LevelCase};
/// assert_eq!(FieldNames::default().level_case, LevelCase::Upper);
/// assert_eq!(FieldNames::ecs().level_case, LevelCase::Lower);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelCase {
    /// `INFO`, `WARN`, ... (as `tracing` spells them).
    Upper,
    /// `info`, `warn`, ... (as Elastic Common Schema examples spell them).
    Lower,
}

/// The keys of a JSON line. Start from a preset and change what you need:
///
/// ```
/// use otel_logging::FieldNames;
/// let mut names = FieldNames::default();
/// names.message = "msg".into();
/// assert_eq!(names.trace_id, "trace_id");
/// assert_eq!(FieldNames::ecs().trace_id, "trace.id");
/// assert_eq!(FieldNames::otel().trace_id, "TraceId");
/// ```
///
/// Event and span fields whose name equals one of the top-level keys are
/// written as `fields.<name>`, so that they can never shadow or spoof them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldNames {
    /// RFC 3339 UTC time of the event.
    pub timestamp: Name,
    /// The level (`INFO`).
    pub level: Name,
    /// How the level is spelled.
    pub level_case: LevelCase,
    /// The OpenTelemetry severity number (INFO = 9), if wanted.
    pub severity_number: Option<Name>,
    /// The event's target (the module path by default), if wanted.
    pub target: Option<Name>,
    /// The event's message.
    pub message: Name,
    /// 32 lowercase hex digits.
    pub trace_id: Name,
    /// 16 lowercase hex digits.
    pub span_id: Name,
    /// The W3C trace flags as two hex digits (`01` = sampled), if wanted.
    pub trace_flags: Option<Name>,
    /// The key of the service name.
    pub service_name: Name,
    /// When set, the service name is written inside an object of this name
    /// (`"Resource":{"service.name":"checkout"}`); otherwise at the top level.
    pub resource: Option<Name>,
    /// When set, event and span fields are written inside an object of this
    /// name (`"Attributes":{...}`); otherwise at the top level.
    pub attributes: Option<Name>,
    /// The key of the span list of [`SpanFields::Nested`](crate::SpanFields::Nested).
    pub spans: Name,
}

impl Default for FieldNames {
    /// `timestamp`, `level`, `target`, `message`, `trace_id`, `span_id`,
    /// `trace_flags`, `service.name`; fields at the top level. This is the
    /// shape Loki's derived field `"trace_id":"([0-9a-f]{32})"` matches.
    fn default() -> Self {
        Self {
            timestamp: "timestamp".into(),
            level: "level".into(),
            level_case: LevelCase::Upper,
            severity_number: None,
            target: Some("target".into()),
            message: "message".into(),
            trace_id: "trace_id".into(),
            span_id: "span_id".into(),
            trace_flags: Some("trace_flags".into()),
            service_name: "service.name".into(),
            resource: None,
            attributes: None,
            spans: "spans".into(),
        }
    }
}

impl FieldNames {
    /// Elastic Common Schema: `@timestamp`, `log.level` (lowercase),
    /// `log.logger`, `message`, `trace.id`, `span.id`, `service.name`; no
    /// trace flags (ECS has no field for them). Add
    /// [`static_field("ecs.version", ...)`](crate::JsonLayerBuilder::static_field)
    /// if your pipeline wants it.
    ///
    /// ```
    /// use otel_logging::{FieldNames, JsonLayer, LogTarget, MemoryBuffer};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let buffer = MemoryBuffer::new();
    /// let layer = JsonLayer::builder()
    ///     .field_names(FieldNames::ecs())
    ///     .target(LogTarget::Memory(buffer.clone()))
    ///     .build()?;
    /// let writer = layer.writer().clone();
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::warn!(target: "shop", "declined");
    /// });
    /// writer.flush(std::time::Duration::from_secs(5));
    /// let line = &buffer.lines()[0];
    /// assert!(line.starts_with(r#"{"@timestamp":""#));
    /// assert!(line.contains(r#","log.level":"warn","log.logger":"shop","message":"declined""#));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ecs() -> Self {
        Self {
            timestamp: "@timestamp".into(),
            level: "log.level".into(),
            level_case: LevelCase::Lower,
            target: Some("log.logger".into()),
            trace_id: "trace.id".into(),
            span_id: "span.id".into(),
            trace_flags: None,
            ..Self::default()
        }
    }

    /// The OpenTelemetry log data model: `Timestamp`, `SeverityText`,
    /// `SeverityNumber`, `Body`, `TraceId`, `SpanId`, `TraceFlags`,
    /// `InstrumentationScope` (the target, which is also the scope name the
    /// OTLP bridge reports), `Resource` and `Attributes` objects.
    ///
    /// ```
    /// use otel_logging::{FieldNames, JsonLayer, LogTarget, MemoryBuffer};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let buffer = MemoryBuffer::new();
    /// let layer = JsonLayer::builder()
    ///     .field_names(FieldNames::otel())
    ///     .service_name("checkout")
    ///     .target(LogTarget::Memory(buffer.clone()))
    ///     .build()?;
    /// let writer = layer.writer().clone();
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::warn!(target: "shop", amount = 42, "declined");
    /// });
    /// writer.flush(std::time::Duration::from_secs(5));
    /// let line = &buffer.lines()[0];
    /// assert!(line.contains(r#","SeverityText":"WARN","SeverityNumber":13,"InstrumentationScope":"shop","Body":"declined""#));
    /// assert!(line.ends_with(r#""Resource":{"service.name":"checkout"},"Attributes":{"amount":42}}"#));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn otel() -> Self {
        Self {
            timestamp: "Timestamp".into(),
            level: "SeverityText".into(),
            level_case: LevelCase::Upper,
            severity_number: Some("SeverityNumber".into()),
            target: Some("InstrumentationScope".into()),
            message: "Body".into(),
            trace_id: "TraceId".into(),
            span_id: "SpanId".into(),
            trace_flags: Some("TraceFlags".into()),
            service_name: "service.name".into(),
            resource: Some("Resource".into()),
            attributes: Some("Attributes".into()),
            spans: "Spans".into(),
        }
    }

    /// Every key written at the top level, which event fields must not reuse.
    pub(crate) fn top_level_keys(&self) -> Vec<&str> {
        let mut keys = vec![
            self.timestamp.as_ref(),
            self.level.as_ref(),
            self.message.as_ref(),
            self.trace_id.as_ref(),
            self.span_id.as_ref(),
            self.spans.as_ref(),
            self.resource.as_deref().unwrap_or(&self.service_name),
        ];
        keys.extend(
            [
                &self.severity_number,
                &self.target,
                &self.trace_flags,
                &self.attributes,
            ]
            .into_iter()
            .filter_map(|k| k.as_deref()),
        );
        keys
    }
}
