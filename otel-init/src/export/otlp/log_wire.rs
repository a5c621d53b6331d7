//! OTLP log requests in protobuf, written straight from the SDK's log
//! records (as [`super::span_wire`] does for spans), with the log attribute
//! limits applied while writing: the first `count` attributes are kept (the
//! rest counted as dropped), and strings, also inside lists and maps, are cut
//! to `value_length` characters.
//!
//! The decoded result is the message `opentelemetry-proto` builds from the
//! same batch with the same limits (records grouped by scope, the scope
//! named after the record's target when it has one): the tests decode both
//! and compare them.

use super::wire::*;
use crate::export::limits::char_prefix;
use crate::export::logs::LogItem;
use opentelemetry::Key;
use opentelemetry::logs::AnyValue;
use opentelemetry_sdk::logs::SdkLogRecord;

/// The log attribute limits (`OTEL_LOGRECORD_ATTRIBUTE_*`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogLimits {
    pub value_length: Option<usize>,
    pub count: usize,
}

/// `ExportLogsServiceRequest` with one `ResourceLogs` holding `batch`.
pub(crate) fn encode_request(
    batch: &[LogItem],
    resource: &EncodedResource,
    limits: LogLimits,
) -> Vec<u8> {
    // A record's scope is named after its target when it has one.
    let groups = group_by_scope(
        batch
            .iter()
            .map(|(record, scope)| (record.target().map_or(scope.name(), |t| t.as_ref()), scope)),
    );
    // A record with a message and a few attributes takes about 200 bytes.
    encode_grouped(resource, &groups, batch.len() * 256, |out, i| {
        record(out, &batch[i].0, limits)
    })
}

// ------------------------------------------------------------- LogRecord

fn severity_number(record: &SdkLogRecord) -> u64 {
    record.severity_number().map_or(0, |s| s as u64)
}

/// The attributes kept under the count limit, and how many are dropped.
fn kept_attributes(
    record: &SdkLogRecord,
    limits: LogLimits,
) -> (impl Iterator<Item = &(Key, AnyValue)>, u64) {
    let total = record.attributes_iter().count();
    let dropped = total.saturating_sub(limits.count) as u64;
    (record.attributes_iter().take(limits.count), dropped)
}

fn record(out: &mut Vec<u8>, record: &SdkLogRecord, limits: LogLimits) {
    let max = limits.value_length;
    fixed_field(out, 1, record.timestamp().map_or(0, nanos).to_le_bytes());
    varint_field(out, 2, severity_number(record));
    string(out, 3, record.severity_text().unwrap_or_default());
    if let Some(body) = record.body() {
        header(out, 5, log_value_len(body, None));
        log_value(out, body, None);
    }
    let (attributes, dropped) = kept_attributes(record, limits);
    for (k, v) in attributes {
        log_key_value(out, 6, k.as_str(), v, max);
    }
    varint_field(out, 7, dropped);
    if let Some(cx) = record.trace_context() {
        let flags = u32::from(cx.trace_flags.map_or(0, |f| f.to_u8()));
        fixed_field(out, 8, flags.to_le_bytes());
        bytes(out, 9, &cx.trace_id.to_bytes());
        bytes(out, 10, &cx.span_id.to_bytes());
    }
    fixed_field(
        out,
        11,
        record.observed_timestamp().map_or(0, nanos).to_le_bytes(),
    );
    string(out, 12, record.event_name().unwrap_or_default());
}

// ------------------------------------------------- the logs' AnyValue

/// `s` cut to at most `max` characters.
fn limited(s: &str, max: Option<usize>) -> &str {
    max.and_then(|m| char_prefix(s, m)).unwrap_or(s)
}

fn log_key_value_len(key: &str, value: &AnyValue, max: Option<usize>) -> usize {
    string_len(key) + delimited_len(log_value_len(value, max))
}

fn log_key_value(out: &mut Vec<u8>, tag: u32, key: &str, value: &AnyValue, max: Option<usize>) {
    let value_len = log_value_len(value, max);
    header(out, tag, string_len(key) + delimited_len(value_len));
    string(out, 1, key);
    header(out, 2, value_len);
    log_value(out, value, max);
}

/// The text of a value of a kind this encoder does not know (the API's
/// `AnyValue` is non-exhaustive), sent as a string rather than dropped.
fn fallback_text(value: &AnyValue) -> String {
    format!("{value:?}")
}

/// The content of the `AnyValue` message (a oneof: written even when it
/// holds its default).
fn log_value_len(value: &AnyValue, max: Option<usize>) -> usize {
    match value {
        AnyValue::Boolean(_) => 2,
        AnyValue::Int(v) => 1 + varint_len(*v as u64),
        AnyValue::Double(_) => 1 + 8,
        AnyValue::String(s) => delimited_len(limited(s.as_str(), max).len()),
        AnyValue::Bytes(b) => delimited_len(b.len()),
        AnyValue::ListAny(items) => delimited_len(
            items
                .iter()
                .map(|v| delimited_len(log_value_len(v, max)))
                .sum(),
        ),
        AnyValue::Map(map) => delimited_len(
            map.iter()
                .map(|(k, v)| delimited_len(log_key_value_len(k.as_str(), v, max)))
                .sum(),
        ),
        other => delimited_len(limited(&fallback_text(other), max).len()),
    }
}

fn log_value(out: &mut Vec<u8>, value: &AnyValue, max: Option<usize>) {
    match value {
        AnyValue::Boolean(v) => {
            key(out, 2, WIRE_VARINT);
            out.push(u8::from(*v));
        }
        AnyValue::Int(v) => {
            key(out, 3, WIRE_VARINT);
            varint(out, *v as u64);
        }
        AnyValue::Double(v) => {
            key(out, 4, WIRE_FIXED64);
            out.extend_from_slice(&v.to_le_bytes());
        }
        AnyValue::String(s) => {
            let s = limited(s.as_str(), max);
            header(out, 1, s.len());
            out.extend_from_slice(s.as_bytes());
        }
        AnyValue::Bytes(b) => bytes(out, 7, b),
        AnyValue::ListAny(items) => {
            // ArrayValue.values = 1
            let len = items
                .iter()
                .map(|v| delimited_len(log_value_len(v, max)))
                .sum();
            header(out, 5, len);
            for v in items.iter() {
                header(out, 1, log_value_len(v, max));
                log_value(out, v, max);
            }
        }
        AnyValue::Map(map) => {
            // KeyValueList.values = 1
            let len = map
                .iter()
                .map(|(k, v)| delimited_len(log_key_value_len(k.as_str(), v, max)))
                .sum();
            header(out, 6, len);
            for (k, v) in map.iter() {
                log_key_value(out, 1, k.as_str(), v, max);
            }
        }
        other => {
            let text = fallback_text(other);
            let text = limited(&text, max);
            header(out, 1, text.len());
            out.extend_from_slice(text.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::logs::encode;
    use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
    use opentelemetry::{InstrumentationScope, KeyValue, StringValue};
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue as ProtoAny, any_value};
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_sdk::logs::SdkLoggerProvider;
    use proptest::prelude::*;
    use prost::Message;
    use std::collections::HashMap;
    use std::time::{Duration, UNIX_EPOCH};

    fn new_record() -> SdkLogRecord {
        let provider = SdkLoggerProvider::builder().build();
        let mut record = provider.logger("test").create_log_record();
        record.set_observed_timestamp(UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_001));
        record
    }

    fn sort_maps(value: &mut ProtoAny) {
        match &mut value.value {
            Some(any_value::Value::KvlistValue(list)) => {
                list.values.sort_by(|a, b| a.key.cmp(&b.key));
                for kv in &mut list.values {
                    if let Some(v) = kv.value.as_mut() {
                        sort_maps(v);
                    }
                }
            }
            Some(any_value::Value::ArrayValue(array)) => {
                array.values.iter_mut().for_each(sort_maps)
            }
            _ => {}
        }
    }

    /// Scope groups and map entries in a fixed order: the reference takes
    /// both from `HashMap`s.
    fn normalized(mut request: ExportLogsServiceRequest) -> ExportLogsServiceRequest {
        for rl in &mut request.resource_logs {
            rl.scope_logs.sort_by_key(|sl| {
                let scope = sl.scope.clone().unwrap_or_default();
                (scope.name, scope.version, sl.schema_url.clone())
            });
            for sl in &mut rl.scope_logs {
                for record in &mut sl.log_records {
                    record.body.iter_mut().for_each(sort_maps);
                    for kv in &mut record.attributes {
                        kv.value.iter_mut().for_each(sort_maps);
                    }
                }
            }
        }
        request
    }

    fn assert_same(batch: &[LogItem], resource: &opentelemetry_sdk::Resource, limits: LogLimits) {
        let bytes = encode_request(batch, &EncodedResource::new(resource), limits);
        let decoded = ExportLogsServiceRequest::decode(bytes.as_slice())
            .expect("the encoding decodes as an ExportLogsServiceRequest");
        let reference = ExportLogsServiceRequest {
            resource_logs: encode(
                batch,
                &ResourceAttributesWithSchema::from(resource),
                limits.value_length,
                limits.count,
            ),
        };
        assert_eq!(bytes.len(), reference.encoded_len());
        assert_eq!(normalized(decoded), normalized(reference));
    }

    fn nested_map() -> AnyValue {
        let mut inner = HashMap::new();
        inner.insert(
            Key::new("deep"),
            AnyValue::String("a long nested string".into()),
        );
        inner.insert(Key::new("n"), AnyValue::Int(-7));
        let mut map = HashMap::new();
        map.insert(Key::new("inner"), AnyValue::Map(Box::new(inner)));
        map.insert(
            Key::new("list"),
            AnyValue::ListAny(Box::new(vec![
                AnyValue::Boolean(false),
                AnyValue::Double(0.0),
                AnyValue::String("another long string".into()),
            ])),
        );
        AnyValue::Map(Box::new(map))
    }

    #[test]
    fn every_field_and_value_kind_matches_the_reference_with_and_without_limits() {
        let resource = opentelemetry_sdk::Resource::builder_empty()
            .with_schema_url(
                [KeyValue::new("service.name", "checkout")],
                "https://opentelemetry.io/schemas/1.38.0",
            )
            .build();
        let scope = InstrumentationScope::builder("otel-logging")
            .with_version("0.1.0")
            .with_schema_url("https://opentelemetry.io/schemas/1.40.0")
            .with_attributes([KeyValue::new("scope.attr", true)])
            .build();
        let plain = InstrumentationScope::builder("app").build();

        let mut full = new_record();
        full.set_timestamp(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        full.set_severity_number(Severity::Error3);
        full.set_severity_text("ERROR");
        full.set_body(AnyValue::String(
            "the payment failed after a long wait".into(),
        ));
        full.set_event_name("payment.failed");
        full.set_target("shop::payments");
        full.set_trace_context(
            TraceId::from(0x0af7651916cd43dd8448eb211c80319c_u128),
            SpanId::from(0xb7ad6b7169203331_u64),
            Some(TraceFlags::SAMPLED),
        );
        full.add_attribute("order.id", 42_i64);
        full.add_attribute("amount", 12.5_f64);
        full.add_attribute("ok", false);
        full.add_attribute("note", "a string longer than the limit");
        full.add_attribute("empty", "");
        full.add_attribute("raw", AnyValue::Bytes(Box::new(vec![0, 1, 255])));
        full.add_attribute("nested", nested_map());

        let mut map_body = new_record();
        map_body.set_body(nested_map());
        map_body.set_trace_context(TraceId::from(5_u128), SpanId::from(6_u64), None);

        let mut bare = new_record();
        bare.set_severity_number(Severity::Trace);
        bare.add_attribute(StringValue::from("k").as_str().to_owned(), "v");

        let batch: Vec<LogItem> = vec![
            (full, scope.clone()),
            (bare.clone(), plain.clone()),
            (map_body, scope.clone()),
            (bare, scope),
        ];
        for limits in [
            LogLimits {
                value_length: None,
                count: 128,
            },
            LogLimits {
                value_length: Some(4),
                count: 3,
            },
            LogLimits {
                value_length: Some(0),
                count: 0,
            },
        ] {
            assert_same(&batch, &resource, limits);
        }
    }

    #[test]
    fn an_empty_batch_matches_the_reference() {
        let resource = opentelemetry_sdk::Resource::builder_empty().build();
        assert_same(
            &[],
            &resource,
            LogLimits {
                value_length: None,
                count: 128,
            },
        );
    }

    fn any_value() -> impl Strategy<Value = AnyValue> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(AnyValue::Int),
            any::<f64>()
                .prop_filter("NaN is not equal to itself", |f| !f.is_nan())
                .prop_map(AnyValue::Double),
            any::<bool>().prop_map(AnyValue::Boolean),
            ".{0,20}".prop_map(|s| AnyValue::String(s.into())),
            prop::collection::vec(any::<u8>(), 0..6).prop_map(|b| AnyValue::Bytes(Box::new(b))),
        ];
        leaf.prop_recursive(2, 12, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| AnyValue::ListAny(Box::new(v))),
                prop::collection::hash_map("[a-z]{1,6}", inner, 0..4).prop_map(|m| {
                    AnyValue::Map(Box::new(
                        m.into_iter().map(|(k, v)| (Key::new(k), v)).collect(),
                    ))
                }),
            ]
        })
    }

    prop_compose! {
        fn random_item()(
            body in prop::option::of(any_value()),
            attrs in prop::collection::vec(("[a-z.]{0,8}", any_value()), 0..7),
            severity in 0..25_usize,
            target in prop::option::of("[a-z:]{1,10}"),
            scope_pick in 0..3_usize,
            context in prop::option::of((1..u128::MAX, 1..u64::MAX, prop::option::of(any::<u8>()))),
            time in prop::option::of(any::<u32>()),
        ) -> LogItem {
            let scopes = [
                InstrumentationScope::builder("a").build(),
                InstrumentationScope::builder("b").with_version("1").build(),
                InstrumentationScope::builder("a").with_version("2").build(),
            ];
            let mut record = new_record();
            if let Some(body) = body {
                record.set_body(body);
            }
            for (k, v) in attrs {
                record.add_attribute(k, v);
            }
            const SEVERITIES: [Severity; 4] =
                [Severity::Debug, Severity::Info2, Severity::Warn4, Severity::Fatal];
            if severity > 0 {
                record.set_severity_number(SEVERITIES[severity % 4]);
            }
            if let Some(target) = target {
                record.set_target(target);
            }
            if let Some((trace, span, flags)) = context {
                record.set_trace_context(TraceId::from(trace), SpanId::from(span), flags.map(TraceFlags::new));
            }
            if let Some(t) = time {
                record.set_timestamp(UNIX_EPOCH + Duration::from_secs(u64::from(t)));
            }
            (record, scopes[scope_pick].clone())
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn random_batches_match_the_reference(
            batch in prop::collection::vec(random_item(), 0..8),
            value_length in prop::option::of(0..12_usize),
            count in 0..8_usize,
        ) {
            let resource = opentelemetry_sdk::Resource::builder_empty()
                .with_attribute(KeyValue::new("service.name", "s"))
                .build();
            assert_same(&batch, &resource, LogLimits { value_length, count });
        }
    }
}
