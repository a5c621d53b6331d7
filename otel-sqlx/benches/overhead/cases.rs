//! The cases: what wraps the pool in each, and the telemetry pipelines they
//! export to.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry::metrics::NoopMeterProvider;
use opentelemetry::trace::noop::NoopTracerProvider;
use otel_init::{Telemetry, TelemetryGuard};
use otel_sqlx::InstrumentedPool;
use otel_testing::OtlpReceiver;
use sqlx::Pool;

use crate::RECEIVER_THREADS;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Case {
    Raw,
    Sampled,
    SampledEveryWait,
    Unsampled,
    TracesOnly,
    MetricsOnly,
    Noop,
    Passthrough,
}

pub(crate) const CASES: [Case; 8] = [
    Case::Raw,
    Case::Sampled,
    Case::SampledEveryWait,
    Case::Unsampled,
    Case::TracesOnly,
    Case::MetricsOnly,
    Case::Noop,
    Case::Passthrough,
];

impl Case {
    /// The cases to run: `OTEL_SQLX_BENCH_CASES`, else all.
    pub(crate) fn selected() -> Vec<Case> {
        let chosen = std::env::var("OTEL_SQLX_BENCH_CASES").ok();
        CASES
            .into_iter()
            .filter(|case| {
                *case == Case::Raw
                    || chosen
                        .as_deref()
                        .is_none_or(|list| list.split(',').any(|c| c.trim() == case.name()))
            })
            .collect()
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Case::Raw => "raw",
            Case::Sampled => "sampled",
            Case::SampledEveryWait => "sampled_every_wait",
            Case::Unsampled => "unsampled",
            Case::TracesOnly => "traces_only",
            Case::MetricsOnly => "metrics_only",
            Case::Noop => "noop",
            Case::Passthrough => "passthrough",
        }
    }
}

/// A pool as one case uses it.
pub(crate) enum BenchPool<DB: otel_sqlx::InstrumentedDatabase> {
    Raw(Pool<DB>),
    Traced(InstrumentedPool<DB>),
    Passthrough(Pool<DB>),
}

// Not derived: that would require `DB: Clone`.
impl<DB: otel_sqlx::InstrumentedDatabase> Clone for BenchPool<DB> {
    fn clone(&self) -> Self {
        match self {
            BenchPool::Raw(pool) => BenchPool::Raw(pool.clone()),
            BenchPool::Traced(pool) => BenchPool::Traced(pool.clone()),
            BenchPool::Passthrough(pool) => BenchPool::Passthrough(pool.clone()),
        }
    }
}

/// Where the exports go: stands for the collector (its threads are not
/// counted in the client's CPU).
pub(crate) enum Collector {
    /// Decodes and keeps everything.
    Receiver(OtlpReceiver),
    /// Answers every OTLP/HTTP export with an empty success, unread; counts
    /// the bytes.
    Discard(Arc<AtomicU64>),
}

impl Collector {
    /// Starts the collector chosen by `OTEL_SQLX_BENCH_COLLECTOR` on `rt`:
    /// (collector, OTLP endpoint, protocol).
    pub(crate) fn start(rt: &tokio::runtime::Runtime) -> (Self, String, &'static str) {
        if std::env::var("OTEL_SQLX_BENCH_COLLECTOR").is_ok_and(|v| v == "receiver") {
            let receiver = rt.block_on(OtlpReceiver::start()).expect("receiver");
            let endpoint = receiver.grpc_endpoint();
            return (Collector::Receiver(receiver), endpoint, "grpc");
        }
        let bytes = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&bytes);
        let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
            counted.fetch_add(body.len() as u64, Ordering::Relaxed);
            async {
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        });
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        rt.spawn(async move { axum::serve(listener, app).await });
        (
            Collector::Discard(bytes),
            format!("http://{addr}"),
            "http/protobuf",
        )
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Collector::Receiver(receiver) => {
                format!("the receiver got {} spans", receiver.spans().len())
            }
            Collector::Discard(bytes) => format!(
                "the discarding endpoint got {} MB",
                bytes.load(Ordering::Relaxed) / 1_000_000
            ),
        }
    }
}

pub(crate) struct Pipelines {
    receiver_rt: tokio::runtime::Runtime,
    collector: Collector,
    sampled: TelemetryGuard,
    unsampled: TelemetryGuard,
}

impl Pipelines {
    pub(crate) fn start() -> Self {
        let receiver_rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(RECEIVER_THREADS)
            .enable_all()
            .build()
            .expect("receiver runtime");
        let (collector, endpoint, protocol) = Collector::start(&receiver_rt);
        let guard = |sampler: &str| {
            Telemetry::builder_from_env(&[
                ("OTEL_SERVICE_NAME", "otel-sqlx-bench"),
                ("OTEL_TRACES_SAMPLER", sampler),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ("OTEL_BSP_SCHEDULE_DELAY", "1000"),
                ("OTEL_BSP_MAX_QUEUE_SIZE", "65536"),
                ("OTEL_METRIC_EXPORT_INTERVAL", "1000"),
                ("OTEL_LOGS_EXPORTER", "none"),
                ("OTEL_LOG_LEVEL", "warn"),
            ])
            .without_globals()
            .build()
            .expect("telemetry")
        };
        Pipelines {
            sampled: guard("always_on"),
            unsampled: guard("always_off"),
            receiver_rt,
            collector,
        }
    }

    pub(crate) fn wrap<DB: otel_sqlx::InstrumentedDatabase>(
        &self,
        case: Case,
        pool: Pool<DB>,
    ) -> BenchPool<DB> {
        let guard = match case {
            Case::Raw => return BenchPool::Raw(pool),
            Case::Passthrough => return BenchPool::Passthrough(pool),
            Case::Unsampled => &self.unsampled,
            _ => &self.sampled,
        };
        let tracer = guard.tracer_provider().expect("tracer").clone();
        let meter = guard.meter_provider().expect("meter").clone();
        let mut builder = InstrumentedPool::builder(pool);
        builder = match case {
            Case::MetricsOnly | Case::Noop => builder.tracer_provider(NoopTracerProvider::new()),
            _ => builder.tracer_provider(tracer),
        };
        builder = match case {
            Case::TracesOnly | Case::Noop => builder.meter_provider(NoopMeterProvider::new()),
            _ => builder.meter_provider(meter),
        };
        if case == Case::SampledEveryWait {
            builder = builder.acquire_span_threshold(Duration::ZERO);
        }
        BenchPool::Traced(builder.build())
    }

    /// Exports everything queued, so that each case pays for its own export.
    pub(crate) fn flush(&self) {
        for guard in [&self.sampled, &self.unsampled] {
            guard.force_flush().expect("flush");
        }
    }

    pub(crate) fn shutdown(self) {
        for guard in [self.sampled, self.unsampled] {
            let report = guard.shutdown();
            assert!(report.is_clean(), "{report:?}");
        }
        println!("({})", self.collector.describe());
        drop(self.collector);
        drop(self.receiver_rt);
    }
}
