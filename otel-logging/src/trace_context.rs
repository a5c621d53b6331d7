//! The OpenTelemetry ids of the span an event belongs to.
//!
//! The current OpenTelemetry context is read first: tracing-opentelemetry
//! attaches a span's context when the span is entered (and instrumented
//! futures enter their span on each poll), and middleware that uses the
//! OpenTelemetry API directly attaches its own. That read costs a
//! thread-local lookup. The tracing span's own context is looked up only for
//! events with an explicit parent, or inside a tracing span whose context was
//! not attached (tracing-opentelemetry with context activation turned off).

use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt;
use tracing::Event;
use tracing::dispatcher::{Dispatch, WeakDispatch};
use tracing_subscriber::layer;
use tracing_subscriber::registry::LookupSpan;

/// What a line carries when its event is outside any trace.
///
/// ```
/// use otel_logging::{IdsOutsideTrace, JsonLayer, LogTarget, MemoryBuffer};
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let buffer = MemoryBuffer::new();
/// let layer = JsonLayer::builder()
///     .ids_outside_trace(IdsOutsideTrace::Zeros)
///     .target(LogTarget::Memory(buffer.clone()))
///     .build()?;
/// let writer = layer.writer().clone();
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     tracing::info!("starting");
/// });
/// writer.flush(std::time::Duration::from_secs(5));
/// assert!(buffer.contents().contains(r#""trace_id":"00000000000000000000000000000000""#));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdsOutsideTrace {
    /// No `trace_id`, `span_id` or `trace_flags` keys.
    #[default]
    Omit,
    /// All-zero ids and flags `00`, for pipelines that expect the keys on
    /// every line.
    Zeros,
}

/// Trace id, span id and W3C trace flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ids {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub flags: u8,
}

impl Ids {
    pub(crate) const ZERO: Ids = Ids {
        trace_id: [0; 16],
        span_id: [0; 8],
        flags: 0,
    };

    fn of(cx: &Context) -> Option<Ids> {
        let span = cx.span();
        let sc = span.span_context();
        sc.is_valid().then(|| Ids {
            trace_id: sc.trace_id().to_bytes(),
            span_id: sc.span_id().to_bytes(),
            flags: sc.trace_flags().to_u8(),
        })
    }
}

/// The ids of the span `event` belongs to, if it belongs to a trace.
/// `dispatch` is the subscriber the layer was registered with, if known.
pub(crate) fn event_ids<S>(
    event: &Event<'_>,
    ctx: &layer::Context<'_, S>,
    dispatch: Option<&WeakDispatch>,
) -> Option<Ids>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a> + 'static,
{
    if let Some(parent) = event.parent() {
        return ids_of_tracing_span::<S>(parent, dispatch);
    }
    if !event.is_contextual() {
        return None;
    }
    if let Some(ids) = Context::map_current(Ids::of) {
        return Some(ids);
    }
    ctx.lookup_current()
        .and_then(|span| ids_of_tracing_span::<S>(&span.id(), dispatch))
}

/// Asks tracing-opentelemetry for the context of a tracing span. That needs
/// the whole subscriber: the one the layer was registered with or, when a
/// containing layer did not pass it on (`Vec` and `Option` of layers do
/// not), the default one. Inside an event, `get_default` only sees the
/// global default; a scoped one (`with_default`) is hidden while the event
/// is dispatched.
fn ids_of_tracing_span<S>(id: &tracing::span::Id, dispatch: Option<&WeakDispatch>) -> Option<Ids>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a> + 'static,
{
    let lookup = |dispatch: &Dispatch| {
        // tracing-opentelemetry panics on an id its registry does not know.
        let known = dispatch
            .downcast_ref::<S>()
            .is_some_and(|registry| registry.span_data(id).is_some());
        if !known {
            return None;
        }
        tracing_opentelemetry::get_otel_context(id, dispatch)
            .as_ref()
            .and_then(Ids::of)
    };
    match dispatch.and_then(WeakDispatch::upgrade) {
        Some(registered) => lookup(&registered),
        None => tracing::dispatcher::get_default(lookup),
    }
}
