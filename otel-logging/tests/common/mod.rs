//! Shared by the integration tests: an SDK tracer provider that keeps the
//! spans it ends, and a helper that runs code under a subscriber made of
//! tracing-opentelemetry and the JSON layer, returning the lines.

#![allow(dead_code)]

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider, SpanData};
use otel_logging::{JsonLayerBuilder, LogTarget, MemoryBuffer};
use serde_json::Value;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;

/// Loki's derived field, as in `docs/logging.md`.
pub const LOKI_TRACE_ID: &str = r#""trace_id":"([0-9a-f]{32})""#;

pub struct Traced {
    pub provider: SdkTracerProvider,
    pub exporter: InMemorySpanExporter,
}

impl Traced {
    pub fn new(sampler: Sampler) -> Self {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_sampler(sampler)
            .with_simple_exporter(exporter.clone())
            .build();
        Self { provider, exporter }
    }

    pub fn spans(&self) -> Vec<SpanData> {
        self.exporter.get_finished_spans().expect("finished spans")
    }

    pub fn span(&self, name: &str) -> SpanData {
        self.spans()
            .into_iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no exported span {name:?}"))
    }
}

/// The lines `f` writes through a subscriber of tracing-opentelemetry (when
/// `traced` is given) and a JSON layer from `builder`, each parsed as JSON
/// and checked against the Loki regex when it has a `trace_id`.
pub fn capture(builder: JsonLayerBuilder, traced: Option<&Traced>, f: impl FnOnce()) -> Vec<Value> {
    let (raw, values) = capture_raw(builder, traced, f);
    let loki = regex::Regex::new(LOKI_TRACE_ID).expect("regex");
    for (line, value) in raw.iter().zip(&values) {
        if let Some(id) = value.get("trace_id").and_then(Value::as_str) {
            let found = loki
                .captures(line)
                .unwrap_or_else(|| panic!("Loki's regex does not match {line}"));
            assert_eq!(&found[1], id, "{line}");
        }
    }
    values
}

/// Like [`capture`], also returning the raw lines.
pub fn capture_raw(
    builder: JsonLayerBuilder,
    traced: Option<&Traced>,
    f: impl FnOnce(),
) -> (Vec<String>, Vec<Value>) {
    let buffer = MemoryBuffer::new();
    let layer = builder
        .target(LogTarget::Memory(buffer.clone()))
        .build()
        .expect("layer");
    let writer = layer.writer().clone();
    let otel = traced.map(|t| {
        tracing_opentelemetry::layer().with_tracer(t.provider.tracer("otel-logging-tests"))
    });
    let subscriber = tracing_subscriber::registry().with(otel).with(layer);
    tracing::subscriber::with_default(subscriber, f);
    assert!(writer.flush(Duration::from_secs(5)), "flush");
    assert_eq!(writer.stats().lost(), 0);
    let raw = buffer.lines();
    let values = raw
        .iter()
        .map(|line| {
            assert!(!line.contains('\r'));
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
        })
        .collect();
    (raw, values)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn trace_id(span: &SpanData) -> String {
    hex(&span.span_context.trace_id().to_bytes())
}

pub fn span_id(span: &SpanData) -> String {
    hex(&span.span_context.span_id().to_bytes())
}

/// The line whose message is `message`.
pub fn line<'a>(lines: &'a [Value], message: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["message"] == message)
        .unwrap_or_else(|| panic!("no line {message:?} in {lines:#?}"))
}

pub fn str_of<'a>(line: &'a Value, key: &str) -> &'a str {
    line[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {line}"))
}
