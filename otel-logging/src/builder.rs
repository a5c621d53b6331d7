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
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The keys: [`FieldNames::default`], [`FieldNames::ecs`],
    /// [`FieldNames::otel`], or your own.
    pub fn field_names(mut self, names: FieldNames) -> Self {
        self.names = names;
        self
    }

    /// A constant string field on every line (`deployment.environment.name`,
    /// `ecs.version`, ...), written next to the service name.
    pub fn static_field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.static_fields.push((name.into(), value.into()));
        self
    }

    /// Which fields of the enclosing spans each line carries (default
    /// [`SpanFields::Flatten`]).
    pub fn span_fields(mut self, span_fields: SpanFields) -> Self {
        self.span_fields = span_fields;
        self
    }

    /// Only these span fields are written (the others are not even recorded).
    pub fn only_span_fields<I, N>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = N>,
        N: Into<String>,
    {
        self.span_field_allowlist = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// What a line carries outside any trace (default: no id keys).
    pub fn ids_outside_trace(mut self, ids: IdsOutsideTrace) -> Self {
        self.ids_outside_trace = ids;
        self
    }

    /// Where lines go (default stdout).
    pub fn target(mut self, target: LogTarget) -> Self {
        self.target = target;
        self
    }

    /// How lines get there (default non-blocking, 4 MiB).
    pub fn delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// Opens the target and starts the writer. Fails only if a
    /// [`LogTarget::File`] cannot be opened or the writer thread cannot start.
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
