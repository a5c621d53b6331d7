//! OTLP trace requests in protobuf, written straight from the SDK's spans.
//!
//! `opentelemetry-proto` first converts every span into its generated
//! message types (a `String` per attribute key and string value, a `Vec` per
//! id, the resource cloned per batch) and `prost` then encodes those. Here
//! the `ExportTraceServiceRequest` is written field by field from the
//! [`SpanData`] themselves: one output buffer, nothing else allocated per
//! span but the `tracestate` header where there is one. It is written in one
//! pass: a span's length goes in front of it once the span is written
//! (`wire::delimited`). The resource is encoded once, when the exporter is
//! built.
//!
//! The decoded result is the message `opentelemetry-proto` would build from
//! the same batch (spans grouped by instrumentation scope, in order of first
//! appearance; the flags' "has is-remote" bits; an empty status message on
//! every span): the tests decode both and compare them.

use super::wire::*;
use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry_sdk::trace::SpanData;

/// `ExportTraceServiceRequest` with one `ResourceSpans` holding `spans`.
pub(crate) fn encode_request(spans: &[SpanData], resource: &EncodedResource) -> Vec<u8> {
    let groups = group_by_scope(
        spans
            .iter()
            .map(|s| (s.instrumentation_scope.name(), &s.instrumentation_scope)),
    );
    // A query span with nine attributes takes about 400 bytes.
    encode_grouped(resource, &groups, spans.len() * 512, |out, i| {
        span(out, &spans[i])
    })
}

// ------------------------------------------------------------ the messages

fn span_kind(kind: &SpanKind) -> u64 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

/// `Span.flags`: the W3C trace flags, and whether the parent is remote
/// (with the bit saying that this is known).
fn span_flags(parent_is_remote: bool, trace_flags: u8) -> u32 {
    const HAS_IS_REMOTE: u32 = 0x100;
    const IS_REMOTE: u32 = 0x200;
    let mut flags = u32::from(trace_flags) | HAS_IS_REMOTE;
    if parent_is_remote {
        flags |= IS_REMOTE;
    }
    flags
}

fn status_message(status: &Status) -> &str {
    match status {
        Status::Error { description } => description,
        _ => "",
    }
}

fn status_code(status: &Status) -> u64 {
    match status {
        Status::Unset => 0,
        Status::Ok => 1,
        Status::Error { .. } => 2,
    }
}

fn status_len(status: &Status) -> usize {
    string_len(status_message(status)) + varint_field_len(status_code(status))
}

fn span(out: &mut Vec<u8>, span: &SpanData) {
    let context = &span.span_context;
    bytes(out, 1, &context.trace_id().to_bytes());
    bytes(out, 2, &context.span_id().to_bytes());
    string(out, 3, &context.trace_state().header());
    if span.parent_span_id != SpanId::INVALID {
        bytes(out, 4, &span.parent_span_id.to_bytes());
    }
    string(out, 5, &span.name);
    varint_field(out, 6, span_kind(&span.span_kind));
    fixed_field(out, 7, nanos(span.start_time).to_le_bytes());
    fixed_field(out, 8, nanos(span.end_time).to_le_bytes());
    for kv in &span.attributes {
        key_value(out, 9, kv.key.as_str(), &kv.value);
    }
    varint_field(out, 10, u64::from(span.dropped_attributes_count));
    for event in span.events.iter() {
        let time = nanos(event.timestamp);
        let dropped = u64::from(event.dropped_attributes_count);
        header(
            out,
            11,
            fixed_field_len(time.to_le_bytes())
                + string_len(&event.name)
                + attributes_len(&event.attributes)
                + varint_field_len(dropped),
        );
        fixed_field(out, 1, time.to_le_bytes());
        string(out, 2, &event.name);
        for kv in &event.attributes {
            key_value(out, 3, kv.key.as_str(), &kv.value);
        }
        varint_field(out, 4, dropped);
    }
    varint_field(out, 12, u64::from(span.events.dropped_count));
    for link in span.links.iter() {
        header(out, 13, link_len(link));
        let context = &link.span_context;
        bytes(out, 1, &context.trace_id().to_bytes());
        bytes(out, 2, &context.span_id().to_bytes());
        string(out, 3, &context.trace_state().header());
        for kv in &link.attributes {
            key_value(out, 4, kv.key.as_str(), &kv.value);
        }
        varint_field(out, 5, u64::from(link.dropped_attributes_count));
        fixed_field(
            out,
            6,
            span_flags(context.is_remote(), context.trace_flags().to_u8()).to_le_bytes(),
        );
    }
    varint_field(out, 14, u64::from(span.links.dropped_count));
    header(out, 15, status_len(&span.status));
    string(out, 2, status_message(&span.status));
    varint_field(out, 3, status_code(&span.status));
    // Span.flags = 16, never zero (the "has is-remote" bit is always set).
    key(out, 16, WIRE_FIXED32);
    out.extend_from_slice(
        &span_flags(span.parent_span_is_remote, context.trace_flags().to_u8()).to_le_bytes(),
    );
}

fn link_len(link: &opentelemetry::trace::Link) -> usize {
    let context = &link.span_context;
    delimited_len(16)
        + delimited_len(8)
        + string_len(&context.trace_state().header())
        + attributes_len(&link.attributes)
        + varint_field_len(u64::from(link.dropped_attributes_count))
        + fixed_field_len(
            span_flags(context.is_remote(), context.trace_flags().to_u8()).to_le_bytes(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{Event, Link, SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use proptest::prelude::*;
    use prost::Message;
    use std::borrow::Cow;
    use std::time::Duration;
    use std::time::UNIX_EPOCH;

    /// What `opentelemetry-proto` builds from the same batch.
    fn reference(
        spans: &[SpanData],
        resource: &opentelemetry_sdk::Resource,
    ) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(
                spans.to_vec(),
                &ResourceAttributesWithSchema::from(resource),
            ),
        }
    }

    fn assert_same(spans: &[SpanData], resource: &opentelemetry_sdk::Resource) {
        let bytes = encode_request(spans, &EncodedResource::new(resource));
        let decoded = ExportTraceServiceRequest::decode(bytes.as_slice())
            .expect("the encoding decodes as an ExportTraceServiceRequest");
        assert_eq!(decoded, reference(spans, resource));
        // Same content, so the same size as prost's encoding of it.
        assert_eq!(bytes.len(), reference(spans, resource).encoded_len());
    }

    fn context(trace: u128, span: u64, flags: u8, remote: bool, state: &str) -> SpanContext {
        SpanContext::new(
            TraceId::from(trace),
            SpanId::from(span),
            TraceFlags::new(flags),
            remote,
            state.parse::<TraceState>().expect("valid tracestate"),
        )
    }

    fn scope(name: &'static str, version: Option<&'static str>) -> InstrumentationScope {
        let builder = InstrumentationScope::builder(name);
        match version {
            Some(v) => builder
                .with_version(v)
                .with_schema_url("https://opentelemetry.io/schemas/1.40.0")
                .with_attributes([KeyValue::new("scope.attr", 7_i64)])
                .build(),
            None => builder.build(),
        }
    }

    fn span_data(name: &'static str, scope: InstrumentationScope) -> SpanData {
        let start = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        SpanData {
            span_context: context(
                0x0af7651916cd43dd8448eb211c80319c,
                0xb7ad6b7169203331,
                1,
                false,
                "",
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Borrowed(name),
            start_time: start,
            end_time: start + Duration::from_micros(1500),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: scope,
        }
    }

    fn every_value_kind() -> Vec<KeyValue> {
        vec![
            KeyValue::new("bool.true", true),
            KeyValue::new("bool.false", false),
            KeyValue::new("int.zero", 0_i64),
            KeyValue::new("int.negative", -42_i64),
            KeyValue::new("int.max", i64::MAX),
            KeyValue::new("int.min", i64::MIN),
            KeyValue::new("double", 3.25_f64),
            KeyValue::new("double.zero", 0.0_f64),
            KeyValue::new("string", "SELECT id FROM t WHERE id = ?"),
            KeyValue::new("string.empty", ""),
            KeyValue::new("string.unicode", "größe ✓ 你好"),
            KeyValue::new("", "empty key"),
            KeyValue::new("array.bool", Value::Array(Array::Bool(vec![true, false]))),
            KeyValue::new("array.int", Value::Array(Array::I64(vec![0, -1, 300]))),
            KeyValue::new("array.double", Value::Array(Array::F64(vec![0.0, -1.5]))),
            KeyValue::new(
                "array.string",
                Value::Array(Array::String(vec!["a".into(), "".into()])),
            ),
            KeyValue::new("array.empty", Value::Array(Array::I64(Vec::new()))),
            KeyValue::new("long", "x".repeat(300)),
        ]
    }

    #[test]
    fn a_minimal_span_matches_the_reference() {
        let resource = opentelemetry_sdk::Resource::builder_empty().build();
        assert_same(&[span_data("minimal", scope("lib", None))], &resource);
    }

    #[test]
    fn every_field_and_value_kind_matches_the_reference() {
        let resource = opentelemetry_sdk::Resource::builder_empty()
            .with_schema_url(
                [
                    KeyValue::new("service.name", "checkout"),
                    KeyValue::new("pid", 42_i64),
                ],
                "https://opentelemetry.io/schemas/1.38.0",
            )
            .build();
        let mut full = span_data("GET /orders/{id}", scope("otel-axum", Some("0.1.0")));
        full.span_context = context(u128::MAX, u64::MAX, 1, false, "ot=th:8,vendor=abc");
        full.parent_span_id = SpanId::from(0x1122334455667788);
        full.parent_span_is_remote = true;
        full.span_kind = SpanKind::Server;
        full.attributes = every_value_kind();
        full.dropped_attributes_count = 3;
        full.events.events = vec![
            Event::new("exception", full.start_time, every_value_kind(), 2),
            Event::new("", UNIX_EPOCH, Vec::new(), 0),
        ];
        full.events.dropped_count = 5;
        full.links.links = vec![
            Link::new(
                context(7, 8, 0, true, "a=b"),
                vec![KeyValue::new("k", "v")],
                1,
            ),
            Link::with_context(context(9, 10, 1, false, "")),
        ];
        full.links.dropped_count = 1;
        full.status = Status::error("upstream said 502");
        let mut ok = span_data("ok", scope("otel-axum", Some("0.1.0")));
        ok.status = Status::Ok;
        ok.span_kind = SpanKind::Client;
        let mut unsampled_flags = span_data("flags 0", scope("otel-sqlx", None));
        unsampled_flags.span_context = context(5, 6, 0, false, "");
        unsampled_flags.span_kind = SpanKind::Producer;
        let mut before_epoch = span_data("before the epoch", scope("otel-sqlx", None));
        before_epoch.start_time = UNIX_EPOCH - Duration::from_secs(1);
        before_epoch.end_time = UNIX_EPOCH;
        before_epoch.span_kind = SpanKind::Consumer;
        let mut empty_error = span_data("", scope("otel-axum", Some("0.2.0")));
        empty_error.status = Status::error("");
        // Scopes interleaved: grouped in order of first appearance.
        let batch = [full, unsampled_flags, ok, before_epoch, empty_error];
        assert_same(&batch, &resource);
    }

    #[test]
    fn lengths_of_every_size_match_the_reference() {
        // Lengths are written after the content, in 2 (span) or 3 (scope
        // and resource entries) reserved bytes: content of 1-byte, 2-byte,
        // 3-byte and 4-byte lengths (a value over 2 MiB) moves to fit.
        let resource = opentelemetry_sdk::Resource::builder_empty().build();
        for size in [0, 200, 20_000, 3_000_000] {
            let mut span = span_data("sized", scope("lib", Some("1.0")));
            span.attributes = vec![KeyValue::new("value", "v".repeat(size))];
            assert_same(&[span.clone(), span], &resource);
        }
    }

    #[test]
    fn an_empty_batch_matches_the_reference() {
        let resource = opentelemetry_sdk::Resource::builder_empty()
            .with_attribute(KeyValue::new("service.name", "s"))
            .build();
        assert_same(&[], &resource);
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::I64),
            any::<f64>()
                .prop_filter("NaN is not equal to itself", |f| !f.is_nan())
                .prop_map(Value::F64),
            ".{0,40}".prop_map(|s| Value::String(s.into())),
            prop::collection::vec(any::<i64>(), 0..4).prop_map(|v| Value::Array(Array::I64(v))),
            prop::collection::vec(".{0,8}", 0..4).prop_map(|v| {
                Value::Array(Array::String(v.into_iter().map(Into::into).collect()))
            }),
        ]
    }

    fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
        prop::collection::vec(("[a-z.]{0,12}", value()), 0..6)
            .prop_map(|kvs| kvs.into_iter().map(|(k, v)| KeyValue::new(k, v)).collect())
    }

    prop_compose! {
        fn random_span()(
            ids in (any::<u128>(), 1..u64::MAX, any::<u64>(), any::<u8>()),
            remote in any::<bool>(),
            kind in 0..5_u8,
            scope_pick in 0..3_usize,
            name in ".{0,30}",
            times in (any::<u32>(), any::<u64>()),
            attrs in attributes(),
            dropped in (0..3_u32, 0..3_u32, 0..3_u32),
            event_attrs in prop::collection::vec(attributes(), 0..3),
            link_attrs in prop::collection::vec(attributes(), 0..2),
            status in 0..3_u8,
            description in ".{0,20}",
        ) -> SpanData {
            let scopes = [scope("a", None), scope("b", Some("1")), scope("c", Some("2"))];
            let mut s = span_data("x", scopes[scope_pick].clone());
            s.span_context = context(ids.0.max(1), ids.1, ids.3 & 1, false, "");
            s.parent_span_id = SpanId::from(ids.2);
            s.parent_span_is_remote = remote;
            s.span_kind = [SpanKind::Internal, SpanKind::Server, SpanKind::Client, SpanKind::Producer, SpanKind::Consumer][usize::from(kind)].clone();
            s.name = Cow::Owned(name);
            s.start_time = UNIX_EPOCH + Duration::from_nanos(u64::from(times.0) * 1_000_000_000);
            s.end_time = UNIX_EPOCH + Duration::from_nanos(times.1 / 2);
            s.attributes = attrs;
            s.dropped_attributes_count = dropped.0;
            s.events.events = event_attrs
                .into_iter()
                .enumerate()
                .map(|(i, a)| Event::new(format!("event {i}"), s.start_time, a, dropped.1))
                .collect();
            s.events.dropped_count = dropped.2;
            s.links.links = link_attrs
                .into_iter()
                .map(|a| Link::new(context(ids.0 ^ 1, ids.1 ^ 1 | 1, 1, remote, "k=v"), a, dropped.1))
                .collect();
            s.links.dropped_count = dropped.0;
            s.status = match status {
                0 => Status::Unset,
                1 => Status::Ok,
                _ => Status::error(description),
            };
            s
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn random_batches_match_the_reference(
            spans in prop::collection::vec(random_span(), 0..12),
            resource_attrs in attributes(),
        ) {
            let resource = opentelemetry_sdk::Resource::builder_empty()
                .with_attributes(resource_attrs)
                .build();
            assert_same(&spans, &resource);
        }
    }
}
