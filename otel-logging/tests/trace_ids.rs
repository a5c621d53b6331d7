//! The `trace_id` and `span_id` of each line equal the ids of the span that
//! was exported for the code that wrote it: nested spans, `#[instrument]`
//! functions, spawned tasks, contexts attached through the OpenTelemetry API,
//! explicit parents; present for unsampled traces, absent outside a trace.

mod common;

use common::{Traced, capture, line, span_id, str_of, trace_id};
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry_sdk::trace::Sampler;
use otel_logging::{IdsOutsideTrace, JsonLayer};
use tracing::{Instrument, info, info_span, instrument};
use tracing_subscriber::layer::SubscriberExt;

#[instrument]
fn load_cart(cart: u32) {
    info!("loading cart");
}

#[instrument(fields(otel.kind = "client"))]
async fn charge_card(amount: u64) {
    tokio::task::yield_now().await;
    info!("charging");
}

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn ids_equal_the_exported_spans_across_nesting_instrument_and_spawned_tasks() {
    let traced = Traced::new(Sampler::AlwaysOn);
    let lines = capture(JsonLayer::builder(), Some(&traced), || {
        current_thread_runtime().block_on(async {
            let request = info_span!("checkout", order = 7);
            async {
                info!("handler started");
                load_cart(3);
                tokio::spawn(
                    async { info!("in a task with its own span") }
                        .instrument(info_span!("send_receipt")),
                )
                .await
                .expect("task");
                tokio::spawn(
                    async { info!("in a task carrying the request span") }.in_current_span(),
                )
                .await
                .expect("task");
                charge_card(42).await;
                info!("handler done");
            }
            .instrument(request)
            .await;
        });
    });
    let checkout = traced.span("checkout");
    let expectations = [
        ("handler started", "checkout"),
        ("loading cart", "load_cart"),
        ("in a task with its own span", "send_receipt"),
        ("in a task carrying the request span", "checkout"),
        ("charging", "charge_card"),
        ("handler done", "checkout"),
    ];
    for (message, span_name) in expectations {
        let l = line(&lines, message);
        let span = traced.span(span_name);
        assert_eq!(str_of(l, "trace_id"), trace_id(&checkout), "{message}");
        assert_eq!(str_of(l, "trace_id"), trace_id(&span), "{message}");
        assert_eq!(
            str_of(l, "span_id"),
            span_id(&span),
            "{message} in {span_name}"
        );
        assert_eq!(str_of(l, "trace_flags"), "01");
    }
    assert_eq!(
        traced.span("load_cart").parent_span_id,
        checkout.span_context.span_id()
    );
}

#[test]
fn unsampled_traces_still_carry_their_ids() {
    let traced = Traced::new(Sampler::AlwaysOff);
    let lines = capture(JsonLayer::builder(), Some(&traced), || {
        info_span!("checkout").in_scope(|| {
            info!("outer");
            load_cart(1);
        });
        info_span!("another request").in_scope(|| info!("second trace"));
    });
    assert!(traced.spans().is_empty(), "nothing is exported");
    let outer = line(&lines, "outer");
    let inner = line(&lines, "loading cart");
    let second = line(&lines, "second trace");
    for l in [outer, inner, second] {
        assert_eq!(str_of(l, "trace_id").len(), 32);
        assert_ne!(str_of(l, "trace_id"), "0".repeat(32));
        assert_eq!(str_of(l, "span_id").len(), 16);
        assert_eq!(str_of(l, "trace_flags"), "00");
    }
    assert_eq!(outer["trace_id"], inner["trace_id"], "same trace");
    assert_ne!(outer["span_id"], inner["span_id"], "different spans");
    assert_ne!(outer["trace_id"], second["trace_id"], "a new trace");
}

#[test]
fn events_outside_a_trace_have_no_ids_or_zeros_when_asked() {
    let traced = Traced::new(Sampler::AlwaysOn);
    let body = || {
        info!("before any span");
        info_span!("request").in_scope(|| info!(parent: None, "explicit root"));
    };
    let omitted = capture(JsonLayer::builder(), Some(&traced), body);
    for l in &omitted {
        for key in ["trace_id", "span_id", "trace_flags"] {
            assert!(l.get(key).is_none(), "{key} in {l}");
        }
    }
    let zeros = capture(
        JsonLayer::builder().ids_outside_trace(IdsOutsideTrace::Zeros),
        Some(&traced),
        body,
    );
    for l in &zeros {
        assert_eq!(str_of(l, "trace_id"), "0".repeat(32));
        assert_eq!(str_of(l, "span_id"), "0".repeat(16));
        assert_eq!(str_of(l, "trace_flags"), "00");
    }
    // Without tracing-opentelemetry at all, inside a tracing span.
    let untraced = capture(JsonLayer::builder(), None, || {
        info_span!("request").in_scope(|| info!("no otel layer"));
    });
    assert!(untraced[0].get("trace_id").is_none());
}

#[test]
fn a_context_attached_through_the_opentelemetry_api_is_used() {
    // Middleware that uses the OpenTelemetry API directly (no tracing span)
    // attaches the server span's context around the handler.
    let traced = Traced::new(Sampler::AlwaysOn);
    let tracer = traced.provider.tracer("middleware");
    let lines = capture(JsonLayer::builder(), Some(&traced), || {
        let server = tracer.start("GET /orders/{id}");
        let cx = opentelemetry::Context::current_with_span(server);
        {
            let _attached = cx.clone().attach();
            info!("in the handler");
            load_cart(9);
        }
        cx.span().end();
    });
    let server = traced.span("GET /orders/{id}");
    let handler = line(&lines, "in the handler");
    assert_eq!(str_of(handler, "trace_id"), trace_id(&server));
    assert_eq!(str_of(handler, "span_id"), span_id(&server));
    let nested = line(&lines, "loading cart");
    let load_cart = traced.span("load_cart");
    assert_eq!(str_of(nested, "trace_id"), trace_id(&server));
    assert_eq!(str_of(nested, "span_id"), span_id(&load_cart));
    assert_eq!(load_cart.parent_span_id, server.span_context.span_id());
}

#[test]
fn an_explicit_parent_wins_over_the_current_span() {
    let traced = Traced::new(Sampler::AlwaysOn);
    let lines = capture(JsonLayer::builder(), Some(&traced), || {
        let job = info_span!("job");
        info_span!("request").in_scope(|| {
            info!(parent: &job, "about the job");
            info!("about the request");
        });
    });
    assert_eq!(
        str_of(line(&lines, "about the job"), "span_id"),
        span_id(&traced.span("job"))
    );
    assert_eq!(
        str_of(line(&lines, "about the request"), "span_id"),
        span_id(&traced.span("request"))
    );
}

#[test]
fn spans_whose_context_is_not_attached_are_still_found() {
    // tracing-opentelemetry with context activation off attaches nothing on enter.
    let traced = Traced::new(Sampler::AlwaysOn);
    let buffer = otel_logging::MemoryBuffer::new();
    let layer = JsonLayer::builder()
        .target(otel_logging::LogTarget::Memory(buffer.clone()))
        .build()
        .expect("layer");
    let writer = layer.writer().clone();
    let otel = tracing_opentelemetry::layer()
        .with_context_activation(false)
        .with_tracer(traced.provider.tracer("tests"));
    let subscriber = tracing_subscriber::registry().with(otel).with(layer);
    tracing::subscriber::with_default(subscriber, || {
        info_span!("quiet").in_scope(|| info!("inside"));
    });
    assert!(writer.flush(std::time::Duration::from_secs(5)));
    let l: serde_json::Value = serde_json::from_str(&buffer.lines()[0]).expect("json");
    let quiet = traced.span("quiet");
    assert_eq!(str_of(&l, "trace_id"), trace_id(&quiet));
    assert_eq!(str_of(&l, "span_id"), span_id(&quiet));
}
