//! JSON lines written inside an axum handler (its own span, an
//! `#[instrument]` function, spawned tasks) carry the trace and span ids of
//! the spans otel-init exports, and so do the log records the OTLP logs
//! bridge exports for the same events; unsampled requests keep their ids;
//! events outside a request have none.

mod logging_support;

use logging_support::*;
use tracing::info;

#[test]
fn lines_and_log_records_of_a_request_carry_the_exported_span_ids() {
    let r = Receiver::start();
    let guard = guard(&r.receiver.http_endpoint(), &[]);
    let lines = json_lines(&guard, || call_app("/orders/7"));
    guard.force_flush().expect("flush");
    r.wait_until("the request's spans and log records", |rx| {
        rx.spans().len() >= 4 && rx.log_records().len() >= HANDLER_LINES.len()
    });
    check_handler_ids(&lines, &r.receiver.spans(), &r.receiver.log_records());
    let started = line(&lines, "handler started");
    assert_eq!(started["user.id"], "ann");
    assert_eq!(started["order.id"], 7, "span fields are on the line");
    assert_eq!(line(&lines, "handler done")["status"], 200);
    // The bridge exports severity and attributes too.
    let records = r.receiver.log_records();
    let done = record(&records, "handler done");
    assert_eq!(done.severity_text, "INFO");
    assert_eq!(
        otel_testing::attr(&done.attributes, "status").as_deref(),
        Some("200")
    );
    let scope = r
        .receiver
        .log_records_with_resource()
        .into_iter()
        .find(|(_, _, rec)| rec == done)
        .map(|(_, scope, _)| scope);
    assert_eq!(
        scope.as_deref(),
        line(&lines, "handler done")["target"].as_str(),
        "the target is the record's instrumentation scope"
    );
    assert!(guard.shutdown().is_clean());
}

#[test]
fn unsampled_requests_keep_their_ids_in_lines_and_log_records() {
    let r = Receiver::start();
    let guard = guard(
        &r.receiver.http_endpoint(),
        &[("OTEL_TRACES_SAMPLER", "always_off")],
    );
    let lines = json_lines(&guard, || call_app("/orders/8"));
    guard.force_flush().expect("flush");
    r.wait_until("the log records", |rx| {
        rx.log_records().len() >= HANDLER_LINES.len()
    });
    assert!(r.receiver.spans().is_empty(), "no span is exported");
    let first = line(&lines, "handler started");
    let trace_id = str_of(first, "trace_id");
    assert_eq!(trace_id.len(), 32);
    assert_ne!(trace_id, "0".repeat(32));
    let records = r.receiver.log_records();
    for (message, _) in HANDLER_LINES {
        let l = line(&lines, message);
        assert_eq!(str_of(l, "trace_id"), trace_id, "{message}: one trace");
        assert_eq!(str_of(l, "trace_flags"), "00", "{message}: not sampled");
        let rec = record(&records, message);
        assert_eq!(hex(&rec.trace_id), trace_id, "log record {message}");
        assert_eq!(
            hex(&rec.span_id),
            str_of(l, "span_id"),
            "log record {message}"
        );
    }
    assert_ne!(
        line(&lines, "loading the order")["span_id"],
        first["span_id"],
        "the nested function has its own span"
    );
    assert!(guard.shutdown().is_clean());
}

#[test]
fn events_outside_a_request_have_no_ids() {
    let r = Receiver::start();
    let guard = guard(&r.receiver.http_endpoint(), &[]);
    let lines = json_lines(&guard, || info!(port = 8080, "listening"));
    guard.force_flush().expect("flush");
    r.wait_until("the log record", |rx| !rx.log_records().is_empty());
    let l = line(&lines, "listening");
    for key in ["trace_id", "span_id", "trace_flags"] {
        assert!(l.get(key).is_none(), "{key} in {l}");
    }
    let records = r.receiver.log_records();
    let rec = record(&records, "listening");
    assert!(rec.trace_id.is_empty() && rec.span_id.is_empty());
    assert!(guard.shutdown().is_clean());
}
