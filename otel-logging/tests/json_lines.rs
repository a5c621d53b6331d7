//! The shape of a line: keys, value types, presets, span fields, `log`
//! records, and values built to break it.

mod common;

use common::{LOKI_TRACE_ID, Traced, capture, capture_raw, line, str_of};
use opentelemetry_sdk::trace::Sampler;
use otel_logging::{FieldNames, JsonLayer, SpanFields};
use serde_json::{Value, json};
use std::fmt;
use tracing::{error, info, info_span, warn};

fn keys(line: &Value) -> Vec<&str> {
    line.as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn a_line_has_the_documented_keys_in_order_and_typed_values() {
    let traced = Traced::new(Sampler::AlwaysOn);
    let (raw, lines) = capture_raw(
        JsonLayer::builder()
            .service_name("checkout")
            .static_field("deployment.environment.name", "test"),
        Some(&traced),
        || {
            info_span!("request", order = 7u64).in_scope(|| {
                warn!(
                    amount = 42,
                    ratio = 0.5,
                    ok = true,
                    big = u128::MAX,
                    negative = i64::MIN,
                    nan = f64::NAN,
                    who = %"display",
                    what = ?Some("debug"),
                    "card declined"
                );
            });
        },
    );
    let l = &lines[0];
    let raw = &raw[0];
    assert!(raw.starts_with(r#"{"timestamp":""#), "{raw}");
    assert!(!raw.contains(": ") && !raw.contains(", "), "compact: {raw}");
    let ts = str_of(l, "timestamp");
    assert_eq!(ts.len(), 27, "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{ts}");
    // serde_json's map is sorted: check the order in the raw line.
    let position = |k: &str| {
        raw.find(&format!("\"{k}\":"))
            .unwrap_or_else(|| panic!("no {k} in {raw}"))
    };
    let in_order = [
        "timestamp",
        "level",
        "target",
        "message",
        "trace_id",
        "span_id",
        "trace_flags",
        "service.name",
        "deployment.environment.name",
        "amount",
        "order",
    ];
    assert!(
        in_order.windows(2).all(|w| position(w[0]) < position(w[1])),
        "{raw}"
    );
    assert_eq!(l["level"], "WARN");
    assert_eq!(l["target"], "json_lines");
    assert_eq!(l["message"], "card declined");
    assert_eq!(l["service.name"], "checkout");
    assert_eq!(l["deployment.environment.name"], "test");
    assert_eq!(l["amount"], 42);
    assert_eq!(l["ratio"], 0.5);
    assert_eq!(l["ok"], true);
    assert!(raw.contains(&format!("\"big\":{}", u128::MAX)), "{raw}");
    assert_eq!(l["negative"], i64::MIN);
    assert_eq!(l["nan"], "NaN");
    assert_eq!(l["who"], "display");
    assert_eq!(l["what"], "Some(\"debug\")");
    assert_eq!(l["order"], 7);
}

/// A `Debug` impl that tries every trick: quotes that close the string, a
/// newline that starts a forged line, terminal escapes, NUL, and the
/// characters JavaScript treats as line ends.
struct Hostile;

impl fmt::Debug for Hostile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"}\n{\"level\":\"ERROR\",\"trace_id\":\"")?;
        f.write_str("\u{1b}[2J\u{0}\r\t\u{7f}\u{2028}\u{2029}\\")
    }
}

#[test]
fn hostile_values_are_escaped_and_every_line_stays_one_json_object() {
    let traced = Traced::new(Sampler::AlwaysOn);
    let invalid_utf8: &[u8] = b"ok\xff\xfe\xc3(";
    let os = std::ffi::OsStr::from_encoded_bytes_unchecked_safe();
    let (raw, lines) = capture_raw(JsonLayer::builder(), Some(&traced), || {
        info_span!("request", header = "x\"y\nz").in_scope(|| {
            error!(
                debug = ?Hostile,
                bytes = invalid_utf8,
                path = ?os,
                "message with \"quotes\", a\nnewline and {}",
                "é ✓ 🦀"
            );
            info!(message = "explicit \u{0} message");
        });
        info!("{:?}", Hostile);
    });
    assert_eq!(raw.len(), 3, "no forged lines: {raw:#?}");
    let loki = regex::Regex::new(LOKI_TRACE_ID).expect("regex");
    for (i, r) in raw.iter().enumerate() {
        let inside_the_span = i < 2;
        assert_eq!(
            loki.find_iter(r).count(),
            usize::from(inside_the_span),
            "only the real trace id matches: {r}"
        );
        assert!(
            r.bytes().all(|b| b >= 0x20),
            "no raw control characters: {r:?}"
        );
        assert!(!r.contains('\u{2028}') && !r.contains('\u{2029}'));
    }
    let l = &lines[0];
    assert_eq!(l["level"], "ERROR");
    assert_eq!(
        l["message"],
        "message with \"quotes\", a\nnewline and é ✓ 🦀"
    );
    assert_eq!(
        l["debug"],
        "\"}\n{\"level\":\"ERROR\",\"trace_id\":\"\u{1b}[2J\u{0}\r\t\u{7f}\u{2028}\u{2029}\\"
    );
    assert_eq!(l["bytes"], "ok\u{fffd}\u{fffd}\u{fffd}(");
    assert_eq!(l["header"], "x\"y\nz");
    assert_eq!(lines[1]["message"], "explicit \u{0} message");
    assert_eq!(lines[2]["level"], "INFO");
}

/// `OsStr` with bytes that are not UTF-8, whose `Debug` escapes them.
trait InvalidOsStr {
    fn from_encoded_bytes_unchecked_safe() -> &'static std::ffi::OsStr;
}

impl InvalidOsStr for std::ffi::OsStr {
    #[cfg(unix)]
    fn from_encoded_bytes_unchecked_safe() -> &'static std::ffi::OsStr {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(b"/tmp/\xff\xfe")
    }
    #[cfg(not(unix))]
    fn from_encoded_bytes_unchecked_safe() -> &'static std::ffi::OsStr {
        std::ffi::OsStr::new("/tmp/x")
    }
}

#[test]
fn fields_cannot_shadow_or_spoof_the_reserved_keys() {
    let traced = Traced::new(Sampler::AlwaysOn);
    let lines = capture(
        JsonLayer::builder().service_name("real"),
        Some(&traced),
        || {
            info_span!("request", level = "span level").in_scope(|| {
                info!(
                    trace_id = "00000000000000000000000000000bad",
                    level = "fake",
                    timestamp = 1,
                    "service.name" = "spoofed",
                    "spoof attempt"
                );
            });
        },
    );
    let l = &lines[0];
    assert_eq!(l["level"], "INFO");
    assert_eq!(l["service.name"], "real");
    assert_eq!(l["fields.trace_id"], "00000000000000000000000000000bad");
    assert_eq!(l["fields.level"], "fake", "the event wins over the span");
    assert_eq!(l["fields.timestamp"], 1);
    assert_eq!(l["fields.service.name"], "spoofed");
    assert_ne!(l["trace_id"], "00000000000000000000000000000bad");
}

#[test]
fn span_fields_flattened_nested_filtered_or_left_out() {
    let body = || {
        let outer = info_span!(
            "checkout",
            order = 7,
            user = "ann",
            late = tracing::field::Empty
        );
        outer.in_scope(|| {
            outer.record("late", "recorded later");
            let inner = info_span!("load_cart", order = 8, name = "cart");
            inner.in_scope(|| info!(user = "event wins", "inside"));
            inner.record("name", "renamed once");
            inner.record("name", "renamed twice");
            inner.in_scope(|| info!("after records"));
        });
    };
    let flat = capture(JsonLayer::builder(), None, body);
    assert_eq!(flat[0]["order"], 8, "the innermost span wins");
    assert_eq!(flat[0]["user"], "event wins");
    assert_eq!(flat[0]["late"], "recorded later");
    assert_eq!(flat[0]["name"], "cart");
    assert_eq!(flat[1]["name"], "renamed twice");
    assert_eq!(flat[1]["user"], "ann");

    let nested = capture(
        JsonLayer::builder().span_fields(SpanFields::Nested),
        None,
        body,
    );
    assert_eq!(
        nested[0]["spans"],
        json!([
            {"name": "checkout", "order": 7, "user": "ann", "late": "recorded later"},
            {"name": "load_cart", "order": 8, "fields.name": "cart"},
        ])
    );
    assert_eq!(nested[0]["user"], "event wins");
    assert!(nested[0].get("order").is_none());

    let none = capture(
        JsonLayer::builder().span_fields(SpanFields::None),
        None,
        body,
    );
    assert!(none[0].get("order").is_none() && none[0].get("spans").is_none());

    let only = capture(JsonLayer::builder().only_span_fields(["order"]), None, body);
    assert_eq!(only[0]["order"], 8);
    assert!(only[0].get("late").is_none());
    assert_eq!(only[1]["user"], Value::Null);
}

#[test]
fn elastic_common_schema_preset() {
    let traced = Traced::new(Sampler::AlwaysOn);
    let lines = capture(
        JsonLayer::builder()
            .field_names(FieldNames::ecs())
            .service_name("checkout")
            .static_field("ecs.version", "8.11.0"),
        Some(&traced),
        || info_span!("request", order = 1).in_scope(|| warn!(code = 3, "slow")),
    );
    let l = &lines[0];
    assert!(l["@timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(l["log.level"], "warn");
    assert_eq!(l["log.logger"], "json_lines");
    assert_eq!(l["message"], "slow");
    assert_eq!(str_of(l, "trace.id").len(), 32);
    assert_eq!(str_of(l, "span.id").len(), 16);
    assert_eq!(l["service.name"], "checkout");
    assert_eq!(l["ecs.version"], "8.11.0");
    assert_eq!(l["code"], 3);
    assert_eq!(l["order"], 1);
    assert!(l.get("trace_flags").is_none() && l.get("trace_id").is_none());
}

#[test]
fn opentelemetry_log_data_model_preset() {
    let traced = Traced::new(Sampler::AlwaysOn);
    let lines = capture(
        JsonLayer::builder()
            .field_names(FieldNames::otel())
            .service_name("checkout"),
        Some(&traced),
        || {
            info_span!("request", order = 1).in_scope(|| error!(code = 3, "failed"));
            info!("outside, no attributes");
        },
    );
    let l = &lines[0];
    assert_eq!(l["SeverityText"], "ERROR");
    assert_eq!(l["SeverityNumber"], 17);
    assert_eq!(l["Body"], "failed");
    assert_eq!(l["InstrumentationScope"], "json_lines");
    assert_eq!(str_of(l, "TraceId").len(), 32);
    assert_eq!(str_of(l, "SpanId").len(), 16);
    assert_eq!(l["TraceFlags"], "01");
    assert_eq!(l["Resource"], json!({"service.name": "checkout"}));
    assert_eq!(l["Attributes"], json!({"code": 3, "order": 1}));
    assert!(lines[1].get("Attributes").is_none());
    assert_eq!(lines[1]["SeverityNumber"], 9);
}

#[test]
fn records_of_the_log_crate_are_captured_with_their_own_target() {
    // Only one `log` logger per process: this is the only test that installs one.
    otel_logging::capture_log_records().expect("no other logger in this test binary");
    let traced = Traced::new(Sampler::AlwaysOn);
    let lines = capture(JsonLayer::builder(), Some(&traced), || {
        info_span!("request").in_scope(|| {
            tracing_log::log::warn!(target: "hyper::proto", "connection reset by \"peer\"");
        });
    });
    let l = line(&lines, "connection reset by \"peer\"");
    assert_eq!(l["level"], "WARN");
    assert_eq!(l["target"], "hyper::proto");
    assert_eq!(
        str_of(l, "trace_id").len(),
        32,
        "log records join the trace"
    );
    assert!(
        keys(l).iter().all(|k| !k.starts_with("log.")),
        "tracing-log's own fields are left out: {l}"
    );
}

#[test]
fn a_file_target_is_appended_to() {
    let dir = std::env::temp_dir().join(format!("otel-logging-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("app.log");
    std::fs::write(&path, "existing\n").expect("seed");
    let layer = JsonLayer::builder()
        .target(otel_logging::LogTarget::File(path.clone()))
        .build()
        .expect("open");
    let writer = layer.writer().clone();
    use tracing_subscriber::layer::SubscriberExt;
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        info!("to the file");
    });
    assert!(writer.flush(std::time::Duration::from_secs(5)));
    let contents = std::fs::read_to_string(&path).expect("read");
    let _ = std::fs::remove_dir_all(&dir);
    let mut lines = contents.lines();
    assert_eq!(lines.next(), Some("existing"));
    let l: Value = serde_json::from_str(lines.next().expect("a line")).expect("json");
    assert_eq!(l["message"], "to the file");
}
