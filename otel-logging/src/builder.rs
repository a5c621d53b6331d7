//! [`JsonLayerBuilder`]: what a line contains and where it goes.

use crate::layout::{Layout, LayoutOptions};
use crate::writer::{Delivery, LogTarget, LogWriter};
use crate::{FieldNames, IdsOutsideTrace, JsonLayer, SpanFields};
use std::io;

/// Configures a [`JsonLayer`]; start with [`JsonLayer::builder`].
///
/// ```
/// use otel_logging::{Delivery, FieldNames, IdsOutsideTrace, JsonLayer, LogTarget, SpanFields};
/// let layer = JsonLayer::builder()
///     .service_name("checkout")
///     .field_names(FieldNames::ecs())
///     .static_field("ecs.version", "8.11.0")
///     .span_fields(SpanFields::Flatten)
///     .only_span_fields(["order_id", "user_id"])
///     .ids_outside_trace(IdsOutsideTrace::Zeros)
///     .target(LogTarget::Stderr)
///     .delivery(Delivery::NonBlocking { capacity_bytes: 1 << 20 })
///     .build()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct JsonLayerBuilder {
    names: FieldNames,
    service_name: Option<String>,
    static_fields: Vec<(String, String)>,
    span_fields: SpanFields,
    span_field_allowlist: Option<Vec<String>>,
    ids_outside_trace: IdsOutsideTrace,
    target: LogTarget,
    delivery: Delivery,
}

impl JsonLayerBuilder {
    pub(crate) fn new() -> Self {
        Self {
            names: FieldNames::default(),
            service_name: None,
            static_fields: Vec::new(),
            span_fields: SpanFields::default(),
            span_field_allowlist: None,
            ids_outside_trace: IdsOutsideTrace::default(),
            target: LogTarget::Stdout,
            delivery: Delivery::default(),
        }
    }

    /// The `service.name` on every line (the resource's; otel-init passes the
    /// one it resolved). Without it, the key is left out.
    ///
    /// ```
    /// use otel_logging::JsonLayer;
    /// # fn line(builder: otel_logging::JsonLayerBuilder, emit: impl FnOnce()) -> String {
    /// #     use tracing_subscriber::layer::SubscriberExt;
    /// #     let buffer = otel_logging::MemoryBuffer::new();
    /// #     let layer = builder.target(otel_logging::LogTarget::Memory(buffer.clone())).build().unwrap();
    /// #     let writer = layer.writer().clone();
    /// #     tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
    /// #     writer.flush(std::time::Duration::from_secs(5));
    /// #     buffer.lines().remove(0)
    /// # }
    /// // line(builder, emit): the first line `emit` writes through the layer `builder` builds.
    /// let line = line(JsonLayer::builder().service_name("checkout"), || tracing::info!("hi"));
    /// assert!(line.contains(r#""service.name":"checkout""#));
    /// ```
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The keys: [`FieldNames::default`], [`FieldNames::ecs`],
    /// [`FieldNames::otel`], or your own.
    ///
    /// ```
    /// use otel_logging::{FieldNames, JsonLayer};
    /// # fn line(builder: otel_logging::JsonLayerBuilder, emit: impl FnOnce()) -> String {
    /// #     use tracing_subscriber::layer::SubscriberExt;
    /// #     let buffer = otel_logging::MemoryBuffer::new();
    /// #     let layer = builder.target(otel_logging::LogTarget::Memory(buffer.clone())).build().unwrap();
    /// #     let writer = layer.writer().clone();
    /// #     tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
    /// #     writer.flush(std::time::Duration::from_secs(5));
    /// #     buffer.lines().remove(0)
    /// # }
    /// // line(builder, emit): the first line `emit` writes through the layer `builder` builds.
    /// let line = line(JsonLayer::builder().field_names(FieldNames::ecs()), || tracing::warn!("hi"));
    /// assert!(line.starts_with(r#"{"@timestamp":""#));
    /// assert!(line.contains(r#""log.level":"warn""#));
    /// ```
    pub fn field_names(mut self, names: FieldNames) -> Self {
        self.names = names;
        self
    }

    /// A constant string field on every line (`deployment.environment.name`,
    /// `ecs.version`, ...), written next to the service name.
    ///
    /// ```
    /// use otel_logging::JsonLayer;
    /// # fn line(builder: otel_logging::JsonLayerBuilder, emit: impl FnOnce()) -> String {
    /// #     use tracing_subscriber::layer::SubscriberExt;
    /// #     let buffer = otel_logging::MemoryBuffer::new();
    /// #     let layer = builder.target(otel_logging::LogTarget::Memory(buffer.clone())).build().unwrap();
    /// #     let writer = layer.writer().clone();
    /// #     tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
    /// #     writer.flush(std::time::Duration::from_secs(5));
    /// #     buffer.lines().remove(0)
    /// # }
    /// // line(builder, emit): the first line `emit` writes through the layer `builder` builds.
    /// let builder = JsonLayer::builder()
    ///     .service_name("checkout")
    ///     .static_field("deployment.environment.name", "staging");
    /// let line = line(builder, || tracing::info!("hi"));
    /// assert!(line.contains(r#""service.name":"checkout","deployment.environment.name":"staging""#));
    /// ```
    pub fn static_field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.static_fields.push((name.into(), value.into()));
        self
    }

    /// Which fields of the enclosing spans each line carries (default
    /// [`SpanFields::Flatten`]).
    ///
    /// ```
    /// use otel_logging::{JsonLayer, SpanFields};
    /// # fn line(builder: otel_logging::JsonLayerBuilder, emit: impl FnOnce()) -> String {
    /// #     use tracing_subscriber::layer::SubscriberExt;
    /// #     let buffer = otel_logging::MemoryBuffer::new();
    /// #     let layer = builder.target(otel_logging::LogTarget::Memory(buffer.clone())).build().unwrap();
    /// #     let writer = layer.writer().clone();
    /// #     tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
    /// #     writer.flush(std::time::Duration::from_secs(5));
    /// #     buffer.lines().remove(0)
    /// # }
    /// // line(builder, emit): the first line `emit` writes through the layer `builder` builds.
    /// let emit = || tracing::info_span!("checkout", order = 7).in_scope(|| tracing::info!("hi"));
    /// let line = line(JsonLayer::builder().span_fields(SpanFields::Nested), emit);
    /// assert!(line.ends_with(r#""spans":[{"name":"checkout","order":7}]}"#));
    /// ```
    pub fn span_fields(mut self, span_fields: SpanFields) -> Self {
        self.span_fields = span_fields;
        self
    }

    /// Only these span fields are written (the others are not even recorded).
    ///
    /// ```
    /// use otel_logging::JsonLayer;
    /// # fn line(builder: otel_logging::JsonLayerBuilder, emit: impl FnOnce()) -> String {
    /// #     use tracing_subscriber::layer::SubscriberExt;
    /// #     let buffer = otel_logging::MemoryBuffer::new();
    /// #     let layer = builder.target(otel_logging::LogTarget::Memory(buffer.clone())).build().unwrap();
    /// #     let writer = layer.writer().clone();
    /// #     tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
    /// #     writer.flush(std::time::Duration::from_secs(5));
    /// #     buffer.lines().remove(0)
    /// # }
    /// // line(builder, emit): the first line `emit` writes through the layer `builder` builds.
    /// let emit = || {
    ///     tracing::info_span!("checkout", order = 7, card = "4111 1111").in_scope(|| tracing::info!("hi"))
    /// };
    /// let line = line(JsonLayer::builder().only_span_fields(["order"]), emit);
    /// assert!(line.ends_with(r#""order":7}"#));
    /// assert!(!line.contains("card"));
    /// ```
    pub fn only_span_fields<I, N>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = N>,
        N: Into<String>,
    {
        self.span_field_allowlist = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// What a line carries outside any trace (default: no id keys).
    ///
    /// ```
    /// use otel_logging::{IdsOutsideTrace, JsonLayer};
    /// # fn line(builder: otel_logging::JsonLayerBuilder, emit: impl FnOnce()) -> String {
    /// #     use tracing_subscriber::layer::SubscriberExt;
    /// #     let buffer = otel_logging::MemoryBuffer::new();
    /// #     let layer = builder.target(otel_logging::LogTarget::Memory(buffer.clone())).build().unwrap();
    /// #     let writer = layer.writer().clone();
    /// #     tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
    /// #     writer.flush(std::time::Duration::from_secs(5));
    /// #     buffer.lines().remove(0)
    /// # }
    /// // line(builder, emit): the first line `emit` writes through the layer `builder` builds.
    /// let zeros = line(JsonLayer::builder().ids_outside_trace(IdsOutsideTrace::Zeros), || tracing::info!("hi"));
    /// assert!(zeros.contains(r#""span_id":"0000000000000000""#));
    /// let omitted = line(JsonLayer::builder(), || tracing::info!("hi")); // the default: Omit
    /// assert!(!omitted.contains("span_id"));
    /// ```
    pub fn ids_outside_trace(mut self, ids: IdsOutsideTrace) -> Self {
        self.ids_outside_trace = ids;
        self
    }

    /// Where lines go (default stdout).
    ///
    /// ```
    /// use otel_logging::{JsonLayer, LogTarget, MemoryBuffer};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let buffer = MemoryBuffer::new();
    /// let layer = JsonLayer::builder().target(LogTarget::Memory(buffer.clone())).build()?;
    /// let writer = layer.writer().clone();
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info!("hi");
    /// });
    /// writer.flush(std::time::Duration::from_secs(5));
    /// assert_eq!(buffer.lines().len(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn target(mut self, target: LogTarget) -> Self {
        self.target = target;
        self
    }

    /// How lines get there (default non-blocking, 4 MiB).
    ///
    /// ```
    /// use otel_logging::{Delivery, JsonLayer, LogTarget, MemoryBuffer};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let buffer = MemoryBuffer::new();
    /// let layer = JsonLayer::builder()
    ///     .target(LogTarget::Memory(buffer.clone()))
    ///     .delivery(Delivery::Blocking)
    ///     .build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info!("hi");
    /// });
    /// assert_eq!(buffer.lines().len(), 1); // written on the event's thread: no flush needed
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// Opens the target and starts the writer. Fails only if a
    /// [`LogTarget::File`] cannot be opened or the writer thread cannot start.
    ///
    /// ```
    /// use otel_logging::{JsonLayer, LogTarget};
    ///
    /// let layer = JsonLayer::builder().target(LogTarget::Stderr).build()?;
    /// assert_eq!(layer.writer().stats().written, 0);
    ///
    /// let unwritable = std::env::temp_dir().join("no-such-dir").join("app.log");
    /// assert!(JsonLayer::builder().target(LogTarget::File(unwritable)).build().is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(self) -> io::Result<JsonLayer> {
        let writer = LogWriter::new(self.target, self.delivery)?;
        let layout = Layout::new(LayoutOptions {
            names: self.names,
            service_name: self.service_name,
            static_fields: self.static_fields,
            span_fields: self.span_fields,
            span_field_allowlist: self.span_field_allowlist,
            ids_outside_trace: self.ids_outside_trace,
        });
        Ok(JsonLayer::new(layout, writer))
    }
}
