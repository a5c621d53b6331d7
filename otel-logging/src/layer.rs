//! [`JsonLayer`]: one compact JSON object per event.

use crate::JsonLayerBuilder;
use crate::layout::Layout;
use crate::line::{self, Scratch};
use crate::span_fields::{RecordedSpanFields, SpanFields};
use crate::trace_context;
use crate::writer::LogWriter;
use std::cell::RefCell;
use std::sync::{Arc, OnceLock};
use tracing::dispatcher::{Dispatch, WeakDispatch};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// A `tracing-subscriber` layer that writes each event as one line of compact
/// JSON, with the trace and span ids of the current OpenTelemetry context:
///
/// ```text
/// {"timestamp":"2025-03-01T09:30:12.345678Z","level":"INFO","target":"shop::checkout","message":"charged","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"01","service.name":"checkout","amount":42,"order":7}
/// ```
///
/// Build it with [`JsonLayer::builder`]. The ids come from the span context
/// that tracing-opentelemetry (or middleware that uses the OpenTelemetry API)
/// made current, so they equal the ids of the exported span, and are present
/// for unsampled traces too.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// let layer = otel_logging::JsonLayer::builder().service_name("checkout").build()?;
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || tracing::info!(order = 7, "handled"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct JsonLayer {
    layout: Arc<Layout>,
    writer: LogWriter,
    /// The subscriber this layer is part of, to look up tracing spans' contexts.
    dispatch: OnceLock<WeakDispatch>,
}

impl std::fmt::Debug for JsonLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLayer")
            .field("writer", &self.writer)
            .finish_non_exhaustive()
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl JsonLayer {
    /// A builder with the defaults: stdout, non-blocking, default field
    /// names, span fields flattened, no ids outside a trace.
    ///
    /// ```
    /// let layer = otel_logging::JsonLayer::builder().service_name("checkout").build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> JsonLayerBuilder {
        JsonLayerBuilder::new()
    }

    pub(crate) fn new(layout: Layout, writer: LogWriter) -> Self {
        Self {
            layout: Arc::new(layout),
            writer,
            dispatch: OnceLock::new(),
        }
    }

    /// The handle on this layer's output: counts and flushing. Clone it
    /// before the layer moves into a subscriber.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let layer = otel_logging::JsonLayer::builder().build()?; // stdout
    /// let writer = layer.writer().clone();
    /// tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).unwrap();
    /// tracing::info!("shutting down");
    /// assert!(writer.flush(Duration::from_secs(1)));
    /// assert_eq!(writer.stats().written, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn writer(&self) -> &LogWriter {
        &self.writer
    }

    fn write_event<S>(&self, s: &mut Scratch, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    {
        let ids = trace_context::event_ids(event, ctx, self.dispatch.get());
        line::format(s, &self.layout, event, ctx, ids);
        self.writer.write_line(&s.line);
    }
}

impl<S> Layer<S> for JsonLayer
where
    S: Subscriber + for<'a> LookupSpan<'a> + 'static,
{
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        let _ = self.dispatch.set(dispatch.downgrade());
    }

    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        if self.layout.span_fields == SpanFields::None {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut recorded = RecordedSpanFields::default();
        recorded.record(&self.layout, attrs);
        span.extensions_mut().insert(recorded);
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        if self.layout.span_fields == SpanFields::None {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(recorded) = extensions.get_mut::<RecordedSpanFields>() {
            recorded.record(&self.layout, values);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if crate::writer::is_writer_thread() {
            // Events from a target's own code would feed themselves.
            return;
        }
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut s) => {
                self.write_event(&mut s, event, &ctx);
                if s.is_oversized() {
                    *s = Scratch::default();
                }
            }
            // An event logged while formatting another (from a Debug impl).
            Err(_) => self.write_event(&mut Scratch::default(), event, &ctx),
        });
    }
}
