//! Each translation rule, with the exact text a scrape returns.

use super::*;
use crate::export::prometheus::PrometheusReader;
use crate::export::prometheus::exemplar::NoExemplars;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use std::time::{Duration, SystemTime};

fn meter_provider(
    resource: &[(&'static str, &'static str)],
) -> (SdkMeterProvider, PrometheusReader) {
    let reader = PrometheusReader::new();
    let resource = Resource::builder_empty()
        .with_attributes(resource.iter().map(|(k, v)| KeyValue::new(*k, *v)))
        .build();
    let provider = SdkMeterProvider::builder()
        .with_resource(resource)
        .with_reader(reader.clone())
        .build();
    (provider, reader)
}

fn scrape(reader: &PrometheusReader, format: Format, source: &dyn ExemplarSource) -> String {
    let (text, skipped) = reader.scrape(format, source).expect("collects");
    assert_eq!(skipped, Skipped::default());
    text
}

fn scope(name: &'static str, version: &'static str) -> InstrumentationScope {
    InstrumentationScope::builder(name)
        .with_version(version)
        .build()
}

#[test]
fn counter_gets_unit_suffix_total_and_scope_labels() {
    let (provider, reader) = meter_provider(&[]);
    let meter = provider.meter_with_scope(scope("shop", "1.2.0"));
    let c = meter
        .f64_counter("cpu.time")
        .with_unit("s")
        .with_description("CPU time spent")
        .build();
    c.add(1.5, &[KeyValue::new("cpu.mode", "user")]);
    assert_eq!(
        scrape(&reader, Format::Text, &NoExemplars),
        "# HELP cpu_time_seconds_total CPU time spent\n\
         # TYPE cpu_time_seconds_total counter\n\
         cpu_time_seconds_total{cpu_mode=\"user\",otel_scope_name=\"shop\",otel_scope_version=\"1.2.0\"} 1.5\n"
    );
    assert_eq!(
        scrape(&reader, Format::OpenMetrics, &NoExemplars),
        "# HELP cpu_time_seconds CPU time spent\n\
         # TYPE cpu_time_seconds counter\n\
         # UNIT cpu_time_seconds seconds\n\
         cpu_time_seconds_total{cpu_mode=\"user\",otel_scope_name=\"shop\",otel_scope_version=\"1.2.0\"} 1.5\n\
         # EOF\n"
    );
}

#[test]
fn histogram_buckets_are_cumulative_with_inf_count_and_sum() {
    let (provider, reader) = meter_provider(&[]);
    let meter = provider.meter("http");
    let h = meter
        .f64_histogram("http.server.request.duration")
        .with_unit("s")
        .with_boundaries(vec![0.1, 1.0, 5.0])
        .build();
    let route = [KeyValue::new("http.route", "/cart")];
    for v in [0.25, 0.5, 2.0, 0.0625] {
        h.record(v, &route);
    }
    assert_eq!(
        scrape(&reader, Format::Text, &NoExemplars),
        "# TYPE http_server_request_duration_seconds histogram\n\
         http_server_request_duration_seconds_bucket{http_route=\"/cart\",otel_scope_name=\"http\",le=\"0.1\"} 1\n\
         http_server_request_duration_seconds_bucket{http_route=\"/cart\",otel_scope_name=\"http\",le=\"1\"} 3\n\
         http_server_request_duration_seconds_bucket{http_route=\"/cart\",otel_scope_name=\"http\",le=\"5\"} 4\n\
         http_server_request_duration_seconds_bucket{http_route=\"/cart\",otel_scope_name=\"http\",le=\"+Inf\"} 4\n\
         http_server_request_duration_seconds_count{http_route=\"/cart\",otel_scope_name=\"http\"} 4\n\
         http_server_request_duration_seconds_sum{http_route=\"/cart\",otel_scope_name=\"http\"} 2.8125\n"
    );
}

#[test]
fn histogram_of_negative_values_has_no_sum() {
    let (provider, reader) = meter_provider(&[]);
    let h = provider
        .meter("m")
        .f64_histogram("delta")
        .with_boundaries(vec![0.0])
        .build();
    h.record(-3.0, &[]);
    let text = scrape(&reader, Format::Text, &NoExemplars);
    assert!(
        text.contains("delta_count{otel_scope_name=\"m\"} 1\n"),
        "{text}"
    );
    assert!(!text.contains("delta_sum"), "{text}");
}

struct Fixed;

const TRACE: TraceId = TraceId::from_bytes([0x4b; 16]);
const SPAN: SpanId = SpanId::from_bytes([0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);

impl ExemplarSource for Fixed {
    fn histogram_bucket(&self, series: &SeriesKey<'_>, bucket: usize) -> Option<Exemplar> {
        assert_eq!((series.scope, series.instrument), ("http", "latency"));
        assert_eq!(series.attributes, [&KeyValue::new("http.route", "/a")]);
        (bucket == 1).then_some(Exemplar {
            trace_id: TRACE,
            span_id: SPAN,
            value: 0.5,
            time: SystemTime::UNIX_EPOCH + Duration::from_millis(1_520_879_607_789),
        })
    }

    fn counter(&self, series: &SeriesKey<'_>) -> Option<Exemplar> {
        assert_eq!(series.instrument, "hits");
        Some(Exemplar {
            trace_id: TRACE,
            span_id: SPAN,
            value: 1.0,
            time: SystemTime::UNIX_EPOCH + Duration::from_secs(7),
        })
    }
}

#[test]
fn openmetrics_carries_exemplars_and_a_bucket_without_one_reuses_the_lower_one() {
    let (provider, reader) = meter_provider(&[]);
    let meter = provider.meter("http");
    let h = meter
        .f64_histogram("latency")
        .with_boundaries(vec![0.1, 1.0, 5.0])
        .build();
    h.record(0.5, &[KeyValue::new("http.route", "/a")]);
    let text = scrape(&reader, Format::OpenMetrics, &Fixed);
    let ex = " # {trace_id=\"4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b\",span_id=\"00f067aa0ba902b7\"} 0.5 1520879607.789";
    assert_eq!(
        text,
        format!(
            "# TYPE latency histogram\n\
             latency_bucket{{http_route=\"/a\",otel_scope_name=\"http\",le=\"0.1\"}} 0\n\
             latency_bucket{{http_route=\"/a\",otel_scope_name=\"http\",le=\"1\"}} 1{ex}\n\
             latency_bucket{{http_route=\"/a\",otel_scope_name=\"http\",le=\"5\"}} 1{ex}\n\
             latency_bucket{{http_route=\"/a\",otel_scope_name=\"http\",le=\"+Inf\"}} 1{ex}\n\
             latency_count{{http_route=\"/a\",otel_scope_name=\"http\"}} 1\n\
             latency_sum{{http_route=\"/a\",otel_scope_name=\"http\"}} 0.5\n\
             # EOF\n"
        )
    );
    // The text format has no exemplars.
    assert!(!scrape(&reader, Format::Text, &Fixed).contains("trace_id"));
}

#[test]
fn counter_sample_carries_its_exemplar() {
    let (provider, reader) = meter_provider(&[]);
    provider.meter("m").u64_counter("hits").build().add(3, &[]);
    let text = scrape(&reader, Format::OpenMetrics, &Fixed);
    assert!(
        text.contains(
            "hits_total{otel_scope_name=\"m\"} 3 # {trace_id=\"4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b\",span_id=\"00f067aa0ba902b7\"} 1 7.000\n"
        ),
        "{text}"
    );
}

#[test]
fn non_monotonic_sums_and_gauges_are_gauges_and_ratio_is_a_gauge_unit() {
    let (provider, reader) = meter_provider(&[]);
    let meter = provider.meter("db");
    let used = meter
        .i64_up_down_counter("db.client.connection.count")
        .with_unit("{connection}")
        .build();
    used.add(-2, &[]);
    let util = meter.f64_gauge("memory.utilization").with_unit("1").build();
    util.record(0.75, &[]);
    let text = scrape(&reader, Format::Text, &NoExemplars);
    assert!(
        text.contains("# TYPE db_client_connection_count gauge\ndb_client_connection_count{otel_scope_name=\"db\"} -2\n"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE memory_utilization_ratio gauge\nmemory_utilization_ratio{otel_scope_name=\"db\"} 0.75\n"),
        "{text}"
    );
}

#[test]
fn label_names_are_sanitised_collisions_joined_and_values_escaped() {
    let (provider, reader) = meter_provider(&[]);
    let g = provider
        .meter("m")
        .u64_gauge("g")
        .with_description("a \"quoted\" \\ help\nline")
        .build();
    g.record(
        1,
        &[
            KeyValue::new("a_b", "second"),
            KeyValue::new("a.b", "first"),
            KeyValue::new("path", "C:\\dir \"x\"\nnext"),
            KeyValue::new("ok", true),
        ],
    );
    // The point's attributes (sorted), then the scope's labels.
    let sample = "g{a_b=\"first;second\",ok=\"true\",path=\"C:\\\\dir \\\"x\\\"\\nnext\",otel_scope_name=\"m\"} 1\n";
    assert_eq!(
        scrape(&reader, Format::Text, &NoExemplars),
        format!("# HELP g a \"quoted\" \\\\ help\\nline\n# TYPE g gauge\n{sample}")
    );
    assert_eq!(
        scrape(&reader, Format::OpenMetrics, &NoExemplars),
        format!("# HELP g a \\\"quoted\\\" \\\\ help\\nline\n# TYPE g gauge\n{sample}# EOF\n")
    );
}

#[test]
fn resource_becomes_one_target_info() {
    let (provider, reader) =
        meter_provider(&[("service.name", "checkout"), ("service.instance.id", "i-1")]);
    provider.meter("m").u64_counter("n").build().add(1, &[]);
    let target = "target_info{service_instance_id=\"i-1\",service_name=\"checkout\"} 1\n";
    assert_eq!(
        scrape(&reader, Format::Text, &NoExemplars),
        format!(
            "# HELP target_info Target metadata\n# TYPE target_info gauge\n{target}\
             # TYPE n_total counter\nn_total{{otel_scope_name=\"m\"}} 1\n"
        )
    );
    assert!(
        scrape(&reader, Format::OpenMetrics, &NoExemplars).starts_with(&format!(
            "# HELP target Target metadata\n# TYPE target info\n{target}"
        ))
    );
    // No resource, no target_info.
    let (empty, reader) = meter_provider(&[]);
    empty.meter("m").u64_counter("n").build().add(1, &[]);
    assert!(!scrape(&reader, Format::Text, &NoExemplars).contains("target_info"));
}

#[test]
fn one_family_across_scopes_and_a_conflicting_type_is_dropped() {
    let (provider, reader) = meter_provider(&[]);
    let a = provider.meter("a");
    a.u64_counter("jobs").build().add(1, &[]);
    a.f64_gauge("jobs_total").build().record(1.0, &[]); // the counter's sample name
    provider.meter("b").u64_counter("jobs").build().add(2, &[]);
    let (text, skipped) = reader.scrape(Format::Text, &NoExemplars).expect("collects");
    assert_eq!(text.matches("# TYPE").count(), 1, "{text}");
    assert!(text.contains("# TYPE jobs_total counter\n"), "{text}");
    assert!(
        text.contains("jobs_total{otel_scope_name=\"a\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("jobs_total{otel_scope_name=\"b\"} 2\n"),
        "{text}"
    );
    assert_eq!(skipped.conflicting, ["jobs_total"]);
}

#[test]
fn an_attribute_cannot_duplicate_le_or_a_scope_label_nor_a_metric_target_info() {
    let (provider, reader) = meter_provider(&[("service.name", "shop")]);
    let meter = provider.meter_with_scope(scope("m", "1.0"));
    let h = meter.f64_histogram("h").with_boundaries(vec![1.0]).build();
    h.record(
        0.5,
        &[
            KeyValue::new("le", "x"),
            KeyValue::new("otel.scope.name", "fake"),
            KeyValue::new("ok", "y"),
        ],
    );
    let g = meter.u64_gauge("g").build();
    g.record(1, &[KeyValue::new("le", "kept on a gauge")]);
    meter.u64_gauge("target_info").build().record(7, &[]);
    let (text, skipped) = reader.scrape(Format::Text, &NoExemplars).expect("collects");
    assert!(
        text.contains(
            "h_bucket{ok=\"y\",otel_scope_name=\"m\",otel_scope_version=\"1.0\",le=\"1\"} 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("g{le=\"kept on a gauge\",otel_scope_name=\"m\""),
        "{text}"
    );
    assert_eq!(text.matches("target_info{").count(), 1, "{text}");
    assert_eq!(skipped.conflicting, ["target_info"]);
}

#[test]
fn content_negotiation() {
    use Format::*;
    let prometheus_2 =
        "application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let prometheus_3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    assert_eq!(Format::negotiate(Some(prometheus_2)), OpenMetrics);
    assert_eq!(Format::negotiate(Some(prometheus_3)), OpenMetrics);
    assert_eq!(
        Format::negotiate(Some(
            "text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5"
        )),
        Text
    );
    assert_eq!(
        Format::negotiate(Some("application/openmetrics-text; version=2.0.0")),
        Text
    );
    assert_eq!(Format::negotiate(Some("application/json")), Text);
    assert_eq!(Format::negotiate(None), Text);
    assert_eq!(
        OpenMetrics.content_type(),
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert_eq!(
        Text.content_type(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
}
