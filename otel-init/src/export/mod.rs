//! Exporters and the machinery between the SDK and the network: bounded
//! queues, the export thread, OTLP clients with retries, and the console.
//!
//! The application never waits for the collector: spans and log records go
//! into bounded queues that a dedicated thread exports; what cannot be
//! exported is counted per signal in an [`ExportReport`].
//!
//! ```
//! use otel_init::config::BatchConfig;
//! use otel_init::opentelemetry::trace::{Tracer as _, TracerProvider as _};
//! let tiny_queue = BatchConfig { max_queue_size: 2, max_export_batch_size: 2, ..BatchConfig::SPANS };
//! let telemetry = otel_init::Telemetry::builder_from_env(&[
//!     ("OTEL_TRACES_EXPORTER", "console"),
//!     ("OTEL_METRICS_EXPORTER", "none"),
//!     ("OTEL_LOGS_EXPORTER", "none"),
//! ])
//! .span_batch(tiny_queue)
//! .without_globals()
//! .build()?;
//! let tracer = telemetry.tracer_provider().expect("enabled").tracer("doc");
//! for _ in 0..10 {
//!     tracer.in_span("GET /cart", |_| {});
//! }
//! let spans = telemetry.shutdown().export.traces;
//! assert_eq!(spans.exported + spans.lost(), 10); // each span exported or counted as lost
//! # Ok::<(), otel_init::InitError>(())
//! ```

pub mod console;
pub(crate) mod extensions;
mod limits;
pub(crate) mod logs;
mod metrics;
pub(crate) mod otlp;
mod pipeline;
#[cfg(feature = "prometheus")]
pub(crate) mod prometheus;
mod runtime;
mod spans;
mod stats;

pub use otlp::RetryPolicy;
pub use stats::SignalReport;

use crate::config::{Config, ExporterKind, Signal};
use crate::error::InitError;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanLimits};
use pipeline::Pipeline;
pub(crate) use runtime::ExportRuntime;
use stats::SignalStats;
use std::sync::Arc;
use std::time::Duration;

/// What each signal's pipeline has exported and lost so far.
///
/// ```
/// let telemetry = otel_init::Telemetry::builder_from_env(&[
///     ("OTEL_TRACES_EXPORTER", "none"),
///     ("OTEL_METRICS_EXPORTER", "none"),
///     ("OTEL_LOGS_EXPORTER", "none"),
/// ])
/// .without_globals()
/// .build()?;
/// // Nothing exported and nothing lost yet, for any signal.
/// assert_eq!(telemetry.export_report(), otel_init::ExportReport::default());
/// assert_eq!(telemetry.export_report().logs.lost(), 0);
/// # Ok::<(), otel_init::InitError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Spans.
    pub traces: SignalReport,
    /// Metric data points (summed over the exporters).
    pub metrics: SignalReport,
    /// Log records.
    pub logs: SignalReport,
}

/// The live counters of the three signals.
#[derive(Debug)]
pub(crate) struct Stats {
    pub traces: Arc<SignalStats>,
    pub metrics: Arc<SignalStats>,
    pub logs: Arc<SignalStats>,
}

impl Stats {
    /// Counters whose overload warnings appear at most once per `warning_interval` each.
    pub(crate) fn new(warning_interval: Duration) -> Self {
        let signal = |s| Arc::new(SignalStats::with_interval(s, warning_interval));
        Self {
            traces: signal(Signal::Traces),
            metrics: signal(Signal::Metrics),
            logs: signal(Signal::Logs),
        }
    }

    /// Shutdown has begun: failed exports are reported by the guard, once.
    pub(crate) fn closing(&self) {
        for s in [&self.traces, &self.metrics, &self.logs] {
            s.closing();
        }
    }

    pub(crate) fn report(&self) -> ExportReport {
        ExportReport {
            traces: self.traces.report(),
            metrics: self.metrics.report(),
            logs: self.logs.report(),
        }
    }
}

/// The three providers and what keeps them running.
pub(crate) struct Providers {
    pub tracer: SdkTracerProvider,
    pub meter: Option<crate::metrics::ExemplarMeterProvider>,
    pub logger: Option<SdkLoggerProvider>,
    pub runtime: Arc<ExportRuntime>,
    pub stats: Arc<Stats>,
    pub tail_stats: Option<Arc<crate::sampling::TailStats>>,
    /// Every OTLP client, for what the guard says at shutdown.
    pub clients: Vec<Arc<otlp::OtlpClient>>,
    /// The deadline of the components added in code.
    pub added: Arc<extensions::AddedState>,
    /// Where the Prometheus exporter listens, when it does.
    pub prometheus_address: Option<std::net::SocketAddr>,
}

pub(crate) struct ProviderSettings<'a> {
    pub config: &'a Config,
    pub resource: Resource,
    pub sampling: crate::sampling::SamplingSetup,
    pub retry: RetryPolicy,
    pub flush_timeout: Duration,
    /// Exporters, processors and readers added in code.
    pub extensions: extensions::Extensions,
}

pub(crate) fn build(s: ProviderSettings<'_>) -> Result<Providers, InitError> {
    let config = s.config;
    let runtime = Arc::new(ExportRuntime::start()?);
    let stats = Arc::new(Stats::new(config.export_warning_interval));
    let added = Arc::new(extensions::AddedState::default());
    let has_added_logs = s.extensions.has_logs();
    let has_added_metrics = s.extensions.has_metrics();
    let (added_spans, added_logs, added_metrics) = s.extensions.build(
        &extensions::Setup {
            span_batch: config.span_batch,
            log_batch: config.log_batch,
            metric_export_interval: config.metric_export_interval,
            span_value_length: config.limits.span_attribute_value_length,
            resource: &s.resource,
            stats: &stats,
        },
        &added,
    );
    let mut clients = Vec::new();
    // `None`: this build lacks a cargo feature the settings need (warned).
    let mut client = |signal: Signal| -> Result<Option<Arc<otlp::OtlpClient>>, InitError> {
        let (usable, warnings) = otlp::usable(signal, config.otlp(signal));
        for w in warnings {
            crate::diag::warn(w);
        }
        let Some(otlp_config) = usable else {
            return Ok(None);
        };
        // gRPC channels bind to the runtime that is current when they are made.
        let _entered = runtime.handle().enter();
        let client = Arc::new(otlp::OtlpClient::new(
            signal,
            &otlp_config,
            s.retry,
            runtime.closing().clone(),
        )?);
        clients.push(client.clone());
        Ok(Some(client))
    };

    let limits = &config.limits;
    let mut tracer = SdkTracerProvider::builder()
        .with_resource(s.resource.clone())
        .with_sampler(s.sampling.sampler)
        .with_span_limits(SpanLimits {
            max_events_per_span: to_u32(limits.span_event_count),
            max_attributes_per_span: to_u32(limits.span_attribute_count),
            max_links_per_span: to_u32(limits.span_link_count),
            max_attributes_per_event: to_u32(limits.event_attribute_count),
            max_attributes_per_link: to_u32(limits.link_attribute_count),
        });
    let mut span_processors = Vec::new();
    for kind in &config.traces_exporters {
        let sink: Box<dyn pipeline::BatchSink<_>> = match kind {
            ExporterKind::Otlp => match client(Signal::Traces)? {
                Some(client) => Box::new(spans::OtlpSpanSink {
                    client,
                    resource: Arc::new(otlp::ExportResource::new(&s.resource)),
                }),
                None => continue,
            },
            ExporterKind::Console => Box::new(console::ConsoleSpanSink::stderr(config.console_ids)),
            ExporterKind::Prometheus => {
                crate::diag::warn("traces: the prometheus exporter exports metrics only; ignored");
                continue;
            }
        };
        let mut batch = config.span_batch;
        if *kind == ExporterKind::Console {
            // A developer wants to see the trace right away.
            batch.schedule_delay = batch.schedule_delay.min(Duration::from_millis(200));
        }
        let p = Pipeline::start(&runtime, batch, sink, stats.traces.clone());
        span_processors.push(spans::QueueingSpanProcessor::new(
            p,
            limits.span_attribute_value_length,
            s.flush_timeout,
        ));
    }
    let tail_stats = s.sampling.tail.as_ref().map(|(_, stats)| stats.clone());
    // The built-in processors first, then the ones added in code: both see
    // the same spans, and the built-in ones (bounded) shut down first.
    if s.sampling.tail.is_some() || s.sampling.error_rate.is_some() {
        // Outcome-based sampling sees every recorded span first.
        let (tail, error_rate) = (s.sampling.tail, s.sampling.error_rate);
        tracer = if added_spans.is_empty() {
            let fanout = crate::sampling::Fanout(span_processors);
            tracer.with_span_processor(crate::sampling::OutcomeProcessor::new(
                fanout, tail, error_rate,
            ))
        } else {
            let fanout =
                crate::sampling::Fanout(extensions::Either::both(span_processors, added_spans));
            tracer.with_span_processor(crate::sampling::OutcomeProcessor::new(
                fanout, tail, error_rate,
            ))
        };
    } else {
        for p in span_processors {
            tracer = tracer.with_span_processor(p);
        }
        for p in added_spans {
            tracer = tracer.with_span_processor(p);
        }
    }
    let tracer = tracer.build();

    #[cfg_attr(not(feature = "prometheus"), allow(unused_mut))]
    let mut prometheus_address = None;
    let meter = if config.metrics_exporters.is_empty() && !has_added_metrics {
        None
    } else {
        let mut builder = SdkMeterProvider::builder().with_resource(s.resource.clone());
        let exemplars = crate::metrics::ExemplarStore::for_filter(config.exemplar_filter);
        for kind in &config.metrics_exporters {
            let target = match kind {
                ExporterKind::Otlp => match client(Signal::Metrics)? {
                    Some(client) => metrics::MetricTarget::Otlp {
                        client,
                        handle: runtime.handle().clone(),
                    },
                    None => continue,
                },
                ExporterKind::Console => metrics::MetricTarget::Console,
                ExporterKind::Prometheus => {
                    #[cfg(feature = "prometheus")]
                    if let Some((reader, address)) = prometheus::start(
                        &config.prometheus,
                        &runtime,
                        crate::metrics::prometheus::source(exemplars.as_ref()),
                    ) {
                        builder = builder.with_reader(reader);
                        prometheus_address = Some(address);
                    }
                    #[cfg(not(feature = "prometheus"))]
                    crate::diag::warn(
                        "OTEL_METRICS_EXPORTER=prometheus: this build of otel-init lacks the `prometheus` cargo feature; the prometheus exporter is off",
                    );
                    continue;
                }
            };
            let exporter = metrics::MetricExporter {
                target,
                timeout: config.metric_export_timeout,
                temporality: config.temporality,
                stats: stats.metrics.clone(),
                exemplars: exemplars.clone(),
            };
            builder = builder.with_reader(
                PeriodicReader::builder(exporter)
                    .with_interval(config.metric_export_interval)
                    .build(),
            );
        }
        for reader in added_metrics {
            builder = builder.with_reader(reader);
        }
        Some(crate::metrics::ExemplarMeterProvider::new(
            builder.build(),
            exemplars,
        ))
    };

    let logger = if config.logs_exporters.is_empty() && !has_added_logs {
        None
    } else {
        let mut builder = SdkLoggerProvider::builder().with_resource(s.resource.clone());
        for (i, kind) in config.logs_exporters.iter().enumerate() {
            // The last processor may take each record, unless processors
            // added in code come after it.
            let last = i + 1 == config.logs_exporters.len() && !has_added_logs;
            let sink: Box<dyn pipeline::BatchSink<logs::LogItem>> = match kind {
                ExporterKind::Otlp => match client(Signal::Logs)? {
                    Some(client) => Box::new(logs::OtlpLogSink {
                        client,
                        resource: Arc::new(otlp::ExportResource::new(&s.resource)),
                        limits: otlp::LogLimits {
                            value_length: limits.log_attribute_value_length,
                            count: limits.log_attribute_count,
                        },
                    }),
                    None => continue,
                },
                ExporterKind::Console => Box::new(console::ConsoleLogSink {
                    resource: ResourceAttributesWithSchema::from(&s.resource),
                }),
                ExporterKind::Prometheus => {
                    crate::diag::warn(
                        "logs: the prometheus exporter exports metrics only; ignored",
                    );
                    continue;
                }
            };
            let p = Pipeline::start(&runtime, config.log_batch, sink, stats.logs.clone());
            builder = builder.with_log_processor(logs::QueueingLogProcessor::new(
                p,
                s.flush_timeout,
                last,
            ));
        }
        for p in added_logs {
            builder = builder.with_log_processor(p);
        }
        Some(builder.build())
    };

    Ok(Providers {
        tracer,
        meter,
        logger,
        runtime,
        stats,
        tail_stats,
        clients,
        added,
        prometheus_address,
    })
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
