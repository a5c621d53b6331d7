//! Exemplars: each histogram data point carries a few of the measurements
//! it counts, with the trace id and span id of the span each was recorded
//! in, so that a latency spike on a dashboard links to a trace of it.
//!
//! opentelemetry-rust's SDK keeps no exemplars, so otel-init keeps them
//! itself: the meter provider it installs ([`ExemplarMeterProvider`]) hands
//! out the SDK's instruments, each histogram wrapped so that a measurement
//! admitted by `OTEL_METRICS_EXEMPLAR_FILTER` is also kept in a reservoir
//! (one slot per bucket and attribute set, at most 2000 attribute sets per
//! histogram), and otel-init's OTLP exporter attaches the kept measurements
//! to the data points it sends. Under the default `trace_based` filter a
//! measurement recorded outside a sampled span costs one thread-local read.
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use otel_init::opentelemetry::metrics::MeterProvider as _;
//! use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
//! use otel_testing::opentelemetry_proto::tonic::metrics::v1::metric::Data;
//! use std::time::Duration;
//!
//! let collector = otel_testing::OtlpReceiver::start().await?; // an in-process OTLP receiver
//! let endpoint = collector.http_endpoint();
//! let telemetry = otel_init::Telemetry::builder_from_env(&[
//!     ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
//!     ("OTEL_LOGS_EXPORTER", "none"),
//! ])
//! .without_globals()
//! .build()?;
//! let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
//! let meter = telemetry.exemplar_meter_provider().expect("metrics are on").meter("doc");
//! let latency = meter.f64_histogram("checkout.duration").with_unit("s").build();
//! tracer.in_span("checkout", |_| latency.record(0.042, &[])); // in a sampled span
//! telemetry.force_flush()?;
//! assert!(collector.wait_for_metric("checkout.duration", Duration::from_secs(5)).await);
//!
//! let (_, _, metric) = collector.metrics_with_resource().into_iter().find(|(_, _, m)| m.name == "checkout.duration").expect("exported");
//! let Some(Data::Histogram(histogram)) = metric.data else { panic!("a histogram") };
//! let exemplar = &histogram.data_points[0].exemplars[0];
//! let span = collector.wait_for_span("checkout", Duration::from_secs(5)).await.expect("exported");
//! assert_eq!(exemplar.trace_id, span.trace_id); // the link from the metric to the trace
//! assert_eq!(exemplar.span_id, span.span_id);
//! # Ok(()) }
//! ```

mod attach;
mod filter;
mod key;
#[cfg(feature = "prometheus")]
pub(crate) mod prometheus;
mod provider;
mod reservoir;
mod store;

pub use provider::ExemplarMeterProvider;

pub(crate) use attach::attach;
pub(crate) use store::ExemplarStore;

#[cfg(test)]
mod tests;
