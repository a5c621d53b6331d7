//! [`SpanStart`]: starts a span bare when the global sampler is declared to
//! drop it, and in full otherwise.

use super::{DroppedSpans, declared_dropped_spans, dropped_child, known_dropped};
use opentelemetry::trace::{Link, Span as _, SpanKind, TraceContextExt as _, Tracer};
use opentelemetry::{Context, KeyValue};
use std::borrow::Cow;
use std::time::Instant;

/// Starts a span the way this workspace's instrumentation does: with a
/// cheap placeholder name and no attributes when the span is
/// [`known_dropped`] (only for the global tracer, which the declaration is
/// about), with its real name and start attributes otherwise; and if a span
/// started bare records after all (the global provider was replaced without
/// a new declaration), with its real name and start attributes set on it
/// then. When the provider is also declared to make its dropped spans
/// plainly ([`DroppedSpans::Plain`]), a known drop with an unsampled parent
/// is not started through the tracer at all: its context is
/// [`dropped_child`]'s.
///
/// [`start`](Self::start) returns the context holding the span, and, for a
/// recording span only, the attributes to set on it once the caller has
/// appended its own (those a sampler does not need): the start attributes
/// when they could not be handed to the sampler, an empty `Vec` of
/// [`details_capacity`](Self::details_capacity) otherwise.
///
/// ```
/// use opentelemetry::trace::{SpanKind, TraceContextExt as _, TracerProvider as _};
/// use opentelemetry::{Context, KeyValue};
/// use otel_http::sampling::SpanStart;
///
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// let tracer = provider.tracer("doc");
/// let parent = Context::new();
/// let (cx, details) = SpanStart::new(&parent, SpanKind::Server, "GET")
///     .global_tracer(false) // a tracer of its own: nothing is assumed
///     .details_capacity(4)
///     .start(&tracer, || {
///         // Called once: before the start here, or after it for a span
///         // started bare that records after all; never for one dropped.
///         ("GET /items/{id}", vec![KeyValue::new("http.request.method", "GET")])
///     });
/// // A recording span: the caller adds what the sampler did not need, once.
/// if let Some(mut details) = details {
///     details.push(KeyValue::new("user_agent.original", "curl/8.5.0"));
///     cx.span().set_attributes(details);
/// }
/// assert!(cx.span().span_context().is_sampled());
/// cx.span().end();
/// ```
#[derive(Debug)]
#[must_use = "a SpanStart does nothing until `start` is called"]
pub struct SpanStart<'a> {
    parent: &'a Context,
    kind: SpanKind,
    placeholder: &'static str,
    links: Option<Vec<Link>>,
    global_tracer: bool,
    details_capacity: usize,
    started: Option<Instant>,
}

impl<'a> SpanStart<'a> {
    /// A span of `kind`, child of `parent`'s span (if any), named
    /// `placeholder` when it is started bare: something that costs nothing
    /// to name, such as the HTTP method or `"grpc"`. By default the tracer
    /// is not the global one (nothing is assumed), there are no links and
    /// the details start with no capacity.
    ///
    /// ```
    /// use opentelemetry::Context;
    /// use opentelemetry::trace::SpanKind;
    /// let parent = Context::new();
    /// let _start = otel_http::sampling::SpanStart::new(&parent, SpanKind::Client, "POST");
    /// ```
    pub fn new(parent: &'a Context, kind: SpanKind, placeholder: &'static str) -> Self {
        Self {
            parent,
            kind,
            placeholder,
            links: None,
            global_tracer: false,
            details_capacity: 0,
            started: None,
        }
    }

    /// Whether the tracer handed to [`start`](Self::start) comes from the
    /// global tracer provider, the only one a [`declare`](super::declare)d
    /// decision is about (`false` by default: the span is always started in
    /// full).
    ///
    /// ```
    /// use opentelemetry::Context;
    /// use opentelemetry::trace::SpanKind;
    /// let parent = Context::new();
    /// let _start = otel_http::sampling::SpanStart::new(&parent, SpanKind::Server, "GET")
    ///     .global_tracer(true);
    /// ```
    pub fn global_tracer(mut self, global: bool) -> Self {
        self.global_tracer = global;
        self
    }

    /// The span's links, handed to the sampler even when the span is started
    /// bare (a server's link to a distrusted caller's context, for one).
    ///
    /// ```
    /// use opentelemetry::Context;
    /// use opentelemetry::trace::{Link, SpanContext, SpanKind};
    /// let parent = Context::new();
    /// let _start = otel_http::sampling::SpanStart::new(&parent, SpanKind::Server, "GET")
    ///     .links(vec![Link::with_context(SpanContext::empty_context())]);
    /// ```
    pub fn links(mut self, links: Vec<Link>) -> Self {
        self.links = Some(links);
        self
    }

    /// The capacity of the empty `Vec` [`start`](Self::start) returns for a
    /// recording span started in full: about the number of attributes the
    /// caller appends (0 by default: no allocation until one is pushed).
    ///
    /// ```
    /// use opentelemetry::Context;
    /// use opentelemetry::trace::SpanKind;
    /// let parent = Context::new();
    /// let _start = otel_http::sampling::SpanStart::new(&parent, SpanKind::Server, "GET")
    ///     .details_capacity(8);
    /// ```
    pub fn details_capacity(mut self, capacity: usize) -> Self {
        self.details_capacity = capacity;
        self
    }

    /// When the call started, as the caller read it for its duration
    /// metric. A span whose parent is sampled (one a parent-based sampler
    /// records) starts at the wall-clock time of that instant
    /// ([`clock::wall_time`](crate::clock::wall_time)), so that the SDK does
    /// not read the clock again. Any other span is left to the SDK, which
    /// reads the clock only for a span that records: working the time out
    /// for a root span the sampler then drops would cost an unsampled call
    /// for nothing. By default the SDK reads it.
    ///
    /// ```
    /// use opentelemetry::Context;
    /// use opentelemetry::trace::SpanKind;
    /// let parent = Context::new();
    /// let _start = otel_http::sampling::SpanStart::new(&parent, SpanKind::Server, "GET")
    ///     .started_at(std::time::Instant::now());
    /// ```
    pub fn started_at(mut self, instant: Instant) -> Self {
        self.started = Some(instant);
        self
    }

    /// Starts the span with `tracer` and returns the parent context with the
    /// span in it, and for a recording span the `Vec` of attributes to
    /// append to and set on it (see [`SpanStart`]; nothing for a span that
    /// does not record).
    ///
    /// `full` gives the span's real name and its start attributes (those a
    /// sampler may read). It is called at most once: before the span starts
    /// unless the span is [`known_dropped`], after it only if such a span
    /// records after all, and never for a span started bare and dropped.
    ///
    /// ```
    /// use opentelemetry::trace::{SpanKind, TraceContextExt as _, noop::NoopTracer};
    /// use opentelemetry::Context;
    /// use otel_http::sampling::{KnownDecisions, SpanStart, declare};
    ///
    /// declare(KnownDecisions::AllDropped);
    /// let parent = Context::new();
    /// let (cx, details) = SpanStart::new(&parent, SpanKind::Server, "GET")
    ///     .global_tracer(true)
    ///     .start(&NoopTracer::new(), || -> (&'static str, _) {
    ///         unreachable!("a span known to be dropped is started bare")
    ///     });
    /// assert!(details.is_none());
    /// assert!(!cx.span().is_recording());
    /// declare(KnownDecisions::Unknown);
    /// ```
    pub fn start<T, N, F>(self, tracer: &T, full: F) -> (Context, Option<Vec<KeyValue>>)
    where
        T: Tracer,
        T::Span: Send + Sync + 'static,
        N: Into<Cow<'static, str>>,
        F: FnOnce() -> (N, Vec<KeyValue>),
    {
        let dropped = self.global_tracer && known_dropped(self.parent);
        // Made as the provider would make it, without asking it.
        if dropped
            && declared_dropped_spans() == DroppedSpans::Plain
            && let Some(cx) = dropped_child(self.parent)
        {
            return (cx, None);
        }
        // `full` is kept, not called, for a span started bare.
        let (mut builder, deferred) = if dropped {
            (tracer.span_builder(self.placeholder), Some(full))
        } else {
            let (name, attributes) = full();
            let mut builder = tracer.span_builder(name);
            builder.attributes = Some(attributes);
            (builder, None)
        };
        builder.span_kind = Some(self.kind);
        builder.links = self.links;
        if self.parent.span().span_context().is_sampled() {
            builder.start_time = self.started.map(crate::clock::wall_time);
        }
        let mut span = builder.start_with_context(tracer, self.parent);
        let details = if span.is_recording() {
            Some(match deferred {
                // Not dropped after all: the global provider was replaced
                // without a new declaration. The span still gets it all.
                Some(full) => {
                    let (name, attributes) = full();
                    span.update_name(name);
                    attributes
                }
                None => Vec::with_capacity(self.details_capacity),
            })
        } else {
            None
        };
        (self.parent.with_span(span), details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::tests::{DECLARATION, parent};
    use crate::sampling::{KnownDecisions, declare, declare_dropped_spans};
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceFlags, TraceId, TraceState, TracerProvider as _,
    };
    use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider, SpanData};
    use otel_testing::AskedSampler;
    use std::cell::Cell;

    fn unsampled_parent() -> Context {
        parent(TraceFlags::default())
    }

    fn link() -> Link {
        Link::with_context(SpanContext::new(
            TraceId::from(3u128),
            SpanId::from(4u64),
            TraceFlags::SAMPLED,
            true,
            TraceState::NONE,
        ))
    }

    fn start_attributes() -> Vec<KeyValue> {
        vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("url.path", "/items/7"),
        ]
    }

    /// Starts a SERVER span in `parent` as the instrumentation does, adds a
    /// detail, ends it; returns how often `full` was called and whether the
    /// span recorded.
    fn start_and_end(provider: &SdkTracerProvider, parent: &Context) -> (usize, bool) {
        let calls = Cell::new(0);
        let (cx, details) = SpanStart::new(parent, SpanKind::Server, "GET")
            .global_tracer(true)
            .links(vec![link()])
            .details_capacity(5)
            .start(&provider.tracer("test"), || {
                calls.set(calls.get() + 1);
                ("GET /items/{id}", start_attributes())
            });
        let recording = details.is_some();
        assert_eq!(recording, cx.span().is_recording());
        if let Some(mut details) = details {
            details.push(KeyValue::new("user_agent.original", "curl"));
            cx.span().set_attributes(details);
        }
        let sc = cx.span().span_context().clone();
        assert_eq!(sc.trace_id(), TraceId::from(1u128), "a child of the parent");
        assert_ne!(sc.span_id(), SpanId::from(2u64), "with its own span id");
        cx.span().end();
        (calls.get(), recording)
    }

    fn only_span(exporter: &InMemorySpanExporter) -> SpanData {
        let mut spans = exporter.get_finished_spans().expect("spans");
        assert_eq!(spans.len(), 1, "{spans:?}");
        spans.remove(0)
    }

    fn assert_full(span: &SpanData) {
        assert_eq!(span.name, "GET /items/{id}");
        assert_eq!(span.span_kind, SpanKind::Server);
        let mut keys: Vec<&str> = span.attributes.iter().map(|kv| kv.key.as_str()).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["http.request.method", "url.path", "user_agent.original"]
        );
        assert_eq!(span.links.links.len(), 1);
    }

    // A child of a sampled parent starts at the wall-clock time of the
    // instant given (the SDK does not read its clock); a root is left to the
    // SDK.
    #[test]
    fn the_child_of_a_sampled_parent_starts_when_the_call_did() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let started = Instant::now() - std::time::Duration::from_millis(250);
        let start = |parent: &Context| {
            let (cx, _) = SpanStart::new(parent, SpanKind::Client, "GET")
                .started_at(started)
                .start(&provider.tracer("test"), || ("GET", Vec::new()));
            cx.span().end();
            only_span(&exporter).start_time
        };
        assert_eq!(
            start(&parent(TraceFlags::SAMPLED)),
            crate::clock::wall_time(started)
        );
        exporter.reset();
        let root = start(&Context::new());
        assert!(
            root > crate::clock::wall_time(started + std::time::Duration::from_millis(200)),
            "read by the SDK"
        );
    }

    #[test]
    fn a_declared_drop_is_started_bare_without_building_its_name() {
        let _declaration = DECLARATION.lock().unwrap_or_else(|e| e.into_inner());
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
            .with_simple_exporter(exporter.clone())
            .build();
        declare(KnownDecisions::UnsampledParentsDropped);
        let (calls, recording) = start_and_end(&provider, &unsampled_parent());
        declare(KnownDecisions::Unknown);
        assert_eq!(calls, 0, "neither the name nor the attributes were built");
        assert!(!recording);
        assert!(exporter.get_finished_spans().expect("spans").is_empty());
    }

    #[test]
    fn a_declared_drop_that_records_after_all_gets_its_name_and_attributes() {
        let _declaration = DECLARATION.lock().unwrap_or_else(|e| e.into_inner());
        let asked = AskedSampler::default();
        let (provider, exporter) = asked.provider();
        declare(KnownDecisions::UnsampledParentsDropped);
        let (calls, recording) = start_and_end(&provider, &unsampled_parent());
        declare(KnownDecisions::Unknown);
        assert_eq!(asked.asked(), [("GET".to_owned(), 0)], "started bare");
        assert_eq!(calls, 1);
        assert!(recording);
        assert_full(&only_span(&exporter));
    }

    #[test]
    fn a_declared_plain_drop_never_reaches_the_tracer() {
        let _declaration = DECLARATION.lock().unwrap_or_else(|e| e.into_inner());
        let asked = AskedSampler::default();
        let (provider, exporter) = asked.provider();
        let tracer = provider.tracer("test");
        let start = |parent: &Context| {
            SpanStart::new(parent, SpanKind::Server, "GET")
                .global_tracer(true)
                .start(&tracer, || ("GET /items/{id}", start_attributes()))
        };
        declare(KnownDecisions::UnsampledParentsDropped);
        declare_dropped_spans(DroppedSpans::Plain);
        let unsampled = unsampled_parent();
        let (cx, details) = start(&unsampled);
        // A sampled parent is not a known drop: the tracer is asked.
        let (sampled_cx, _) = start(&parent(TraceFlags::SAMPLED));
        // Without the plain declaration, a known drop is started bare
        // through the tracer.
        declare_dropped_spans(DroppedSpans::ThroughTracer);
        let (_bare_cx, _) = start(&unsampled);
        declare(KnownDecisions::Unknown);
        assert!(details.is_none());
        let span = cx.span();
        assert!(!span.is_recording());
        assert_eq!(span.span_context().trace_id(), TraceId::from(1u128));
        assert!(!span.span_context().is_remote());
        assert_eq!(
            asked.asked(),
            [("GET /items/{id}".to_owned(), 2), ("GET".to_owned(), 0)],
            "only the sampled parent's span and the bare one reached the sampler"
        );
        sampled_cx.span().end();
        assert_eq!(exporter.get_finished_spans().expect("spans").len(), 1);
    }

    #[test]
    fn without_a_declaration_or_the_global_tracer_the_span_starts_in_full() {
        let _declaration = DECLARATION.lock().unwrap_or_else(|e| e.into_inner());
        for (decisions, global) in [
            (KnownDecisions::Unknown, true),
            (KnownDecisions::UnsampledParentsDropped, false),
            (KnownDecisions::AllDropped, false),
        ] {
            let asked = AskedSampler::default();
            let (provider, exporter) = asked.provider();
            declare(decisions);
            let calls = Cell::new(0);
            let parent = unsampled_parent();
            let (cx, details) = SpanStart::new(&parent, SpanKind::Server, "GET")
                .global_tracer(global)
                .links(vec![link()])
                .details_capacity(5)
                .start(&provider.tracer("test"), || {
                    calls.set(calls.get() + 1);
                    ("GET /items/{id}", start_attributes())
                });
            declare(KnownDecisions::Unknown);
            assert_eq!(
                asked.asked(),
                [("GET /items/{id}".to_owned(), 2)],
                "{decisions:?}"
            );
            assert_eq!(calls.get(), 1, "{decisions:?}");
            let mut details = details.expect("recording");
            assert!(
                details.is_empty(),
                "the start attributes went to the sampler"
            );
            assert!(details.capacity() >= 5);
            details.push(KeyValue::new("user_agent.original", "curl"));
            cx.span().set_attributes(details);
            cx.span().end();
            assert_full(&only_span(&exporter));
        }
    }
}
