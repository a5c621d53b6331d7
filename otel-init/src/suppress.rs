//! [`UnlessSuppressed`]: keeps the `tracing` → OpenTelemetry span bridge quiet
//! on threads where OpenTelemetry telemetry is suppressed (the export
//! thread), so that what the exporter's own libraries trace while exporting
//! (tonic, h2, hyper) never becomes spans to export.
//!
//! The SDK's logger already drops records emitted under
//! `Context::enter_telemetry_suppressed_scope`; its tracer checks only the
//! parent context a span is built with, which `tracing-opentelemetry` takes
//! from the `tracing` span tree, not from the current OpenTelemetry context.
//! Gating the bridge here costs one thread-local read per new span and per
//! event. (The export thread also keeps a scoped `NoSubscriber`: see
//! `export/runtime.rs` for why it is still needed.)

use opentelemetry::Context;
use std::any::TypeId;
use tracing::span;
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer};

/// `inner`, except on threads where telemetry is suppressed: there no span
/// is created and no event recorded (the other callbacks find no span data
/// of `inner`'s and do nothing).
pub(crate) struct UnlessSuppressed<L> {
    inner: L,
}

impl<L> UnlessSuppressed<L> {
    pub(crate) fn new(inner: L) -> Self {
        Self { inner }
    }
}

impl<S: Subscriber, L: Layer<S>> Layer<S> for UnlessSuppressed<L> {
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        self.inner.on_register_dispatch(subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.inner.on_layer(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: LayerContext<'_, S>) -> bool {
        self.inner.enabled(metadata, ctx)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        self.inner.max_level_hint()
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: LayerContext<'_, S>) {
        if !Context::is_current_telemetry_suppressed() {
            self.inner.on_new_span(attrs, id, ctx);
        }
    }

    fn on_record(&self, span: &span::Id, values: &span::Record<'_>, ctx: LayerContext<'_, S>) {
        self.inner.on_record(span, values, ctx);
    }

    fn on_follows_from(&self, span: &span::Id, follows: &span::Id, ctx: LayerContext<'_, S>) {
        self.inner.on_follows_from(span, follows, ctx);
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        if !Context::is_current_telemetry_suppressed() {
            self.inner.on_event(event, ctx);
        }
    }

    fn on_enter(&self, id: &span::Id, ctx: LayerContext<'_, S>) {
        self.inner.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &span::Id, ctx: LayerContext<'_, S>) {
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: span::Id, ctx: LayerContext<'_, S>) {
        self.inner.on_close(id, ctx);
    }

    fn on_id_change(&self, old: &span::Id, new: &span::Id, ctx: LayerContext<'_, S>) {
        self.inner.on_id_change(old, new, ctx);
    }

    // `tracing-opentelemetry` finds its layer through the subscriber's
    // downcasts (`OpenTelemetrySpanExt::context()`): they must reach `inner`.
    #[doc(hidden)]
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        // SAFETY: forwarded unchanged; `inner` upholds the contract for its own types.
        unsafe { self.inner.downcast_raw(id) }
    }
}
