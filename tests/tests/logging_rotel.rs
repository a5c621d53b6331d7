//! End to end through the real rotel collector: the log records the OTLP logs
//! bridge exports for a request's events, and the JSON lines written for the
//! same events, carry the trace and span ids of the spans exported with them,
//! over gRPC and over HTTP.

mod logging_support;

use logging_support::*;
use otel_testing::ThroughRotel;

fn through_rotel(protocol: &str) {
    let Some(chain) = ThroughRotel::start(1) else {
        return;
    };
    let (rotel, receiver) = (&chain.rotel, &chain.receiver);
    let endpoint = if protocol == "grpc" {
        rotel.grpc_endpoint()
    } else {
        rotel.http_endpoint()
    };
    let guard = guard(&endpoint, &[("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)]);
    let lines = json_lines(&guard, || call_app("/orders/42"));
    guard.force_flush().expect("flush");
    wait_until(
        receiver,
        "the request's spans and log records, through rotel",
        |rx| rx.spans().len() >= 4 && rx.log_records().len() >= HANDLER_LINES.len(),
    );
    for request in receiver.requests() {
        assert!(
            request
                .header("user-agent")
                .is_some_and(|ua| ua.starts_with("Rotel")),
            "came through rotel: {:?}",
            request.headers
        );
    }
    let records = receiver.log_records_with_resource();
    for (resource, _, _) in &records {
        assert_eq!(
            otel_testing::attr(resource, "service.name").as_deref(),
            Some("shop")
        );
    }
    let records: Vec<_> = records.into_iter().map(|(_, _, rec)| rec).collect();
    check_handler_ids(&lines, &receiver.spans(), &records);
    assert!(guard.shutdown().is_clean(), "{}", rotel.log());
}

#[test]
fn log_records_through_rotel_over_grpc_carry_the_exported_span_ids() {
    through_rotel("grpc");
}

#[test]
fn log_records_through_rotel_over_http_carry_the_exported_span_ids() {
    through_rotel("http/protobuf");
}
