//! The tracer and the metric instruments of one pool.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::metrics::{
    AsyncInstrument, BoundHistogram, Counter, Histogram, Meter, ObservableUpDownCounter,
};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{InstrumentationScope, KeyValue, StringValue};

use super::keys;
use crate::config::{Config, MeterSource, TracerSource};
use crate::database::InstrumentedDatabase;
use crate::shared::Shared;

/// The instrumentation scope of everything this crate emits.
fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

pub(crate) struct Signals {
    pub(crate) tracer: BoxedTracer,
    /// `db.client.operation.duration`, seconds.
    pub(crate) operation_duration: Histogram<f64>,
    /// `db.client.connection.wait_time`, seconds, bound to the pool name.
    pub(crate) wait_time: BoundHistogram<f64>,
    /// `db.client.connection.use_time`, seconds, bound to the pool name.
    pub(crate) use_time: BoundHistogram<f64>,
    /// `db.client.connection.timeouts`.
    pub(crate) timeouts: Counter<u64>,
    /// The observable pool gauges; their callbacks stay registered with the
    /// meter provider (they read nothing once the pool is gone).
    _pool_gauges: Vec<ObservableUpDownCounter<i64>>,
}

impl Signals {
    pub(crate) fn new<DB: InstrumentedDatabase>(
        config: &Config,
        pool_name: &Arc<str>,
        shared: Weak<Shared<DB>>,
    ) -> Self {
        let tracer = match &config.tracer {
            TracerSource::Global => global::tracer_provider().tracer_with_scope(scope()),
            TracerSource::Provider(provider) => BoxedTracer::new(provider.boxed_tracer(scope())),
        };
        let meter = match &config.meter {
            MeterSource::Global => global::meter_with_scope(scope()),
            MeterSource::Provider(provider) => provider.meter_with_scope(scope()),
        };
        let seconds = |name: &'static str, description: &'static str| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description(description)
                .with_boundaries(keys::DURATION_BUCKETS.to_vec())
                .build()
        };
        let pool_attributes = [KeyValue::new(
            keys::POOL_NAME,
            StringValue::from(Arc::clone(pool_name)),
        )];
        Signals {
            tracer,
            operation_duration: seconds(
                keys::OPERATION_DURATION,
                "Duration of database client operations.",
            ),
            wait_time: seconds(
                keys::CONNECTION_WAIT_TIME,
                "The time it took to obtain an open connection from the pool.",
            )
            .bind(&pool_attributes),
            use_time: seconds(
                keys::CONNECTION_USE_TIME,
                "The time between borrowing a connection and returning it to the pool.",
            )
            .bind(&pool_attributes),
            timeouts: meter
                .u64_counter(keys::CONNECTION_TIMEOUTS)
                .with_unit("{timeout}")
                .with_description(
                    "The number of connection timeouts that have occurred trying to obtain a connection from the pool.",
                )
                .build(),
            _pool_gauges: pool_gauges(&meter, pool_name, shared),
        }
    }
}

/// Reads one gauge's value(s) from the pool.
type PoolReader<DB> = Box<dyn Fn(&Shared<DB>, &dyn AsyncInstrument<i64>) + Send + Sync>;

/// `db.client.connection.count` (idle / used), `.max`, `.idle.min` and
/// `.pending_requests`, read from the pool whenever metrics are collected.
fn pool_gauges<DB: InstrumentedDatabase>(
    meter: &Meter,
    pool_name: &Arc<str>,
    shared: Weak<Shared<DB>>,
) -> Vec<ObservableUpDownCounter<i64>> {
    let name = KeyValue::new(keys::POOL_NAME, StringValue::from(Arc::clone(pool_name)));
    let state = |value: &'static str| KeyValue::new(keys::CONNECTION_STATE, value);
    let idle_attributes = [name.clone(), state("idle")];
    let used_attributes = [name.clone(), state("used")];
    let pool_attributes = [name];

    let gauge = |instrument: &'static str,
                 unit: &'static str,
                 description: &'static str,
                 read: PoolReader<DB>| {
        let shared = shared.clone();
        meter
            .i64_observable_up_down_counter(instrument)
            .with_unit(unit)
            .with_description(description)
            .with_callback(move |observer| {
                if let Some(shared) = shared.upgrade() {
                    read(&shared, observer);
                }
            })
            .build()
    };

    let count_attributes = (idle_attributes, used_attributes);
    let max_attributes = pool_attributes.clone();
    let idle_min_attributes = pool_attributes.clone();
    vec![
        gauge(
            keys::CONNECTION_COUNT,
            "{connection}",
            "The number of connections that are currently in the state described by the state attribute.",
            Box::new(move |shared, observer| {
                let open = i64::from(shared.pool.size());
                let idle = i64::try_from(shared.pool.num_idle()).unwrap_or(i64::MAX);
                observer.observe(idle, &count_attributes.0);
                observer.observe((open - idle).max(0), &count_attributes.1);
            }),
        ),
        gauge(
            keys::CONNECTION_MAX,
            "{connection}",
            "The maximum number of open connections allowed.",
            Box::new(move |shared, observer| {
                let max = shared.pool.options().get_max_connections();
                observer.observe(i64::from(max), &max_attributes);
            }),
        ),
        gauge(
            keys::CONNECTION_IDLE_MIN,
            "{connection}",
            "The minimum number of idle open connections allowed.",
            Box::new(move |shared, observer| {
                let min = shared.pool.options().get_min_connections();
                observer.observe(i64::from(min), &idle_min_attributes);
            }),
        ),
        gauge(
            keys::CONNECTION_PENDING,
            "{request}",
            "The number of current pending requests for an open connection.",
            Box::new(move |shared, observer| {
                let pending = shared.pending.load(Ordering::Relaxed).max(0);
                observer.observe(pending, &pool_attributes);
            }),
        ),
    ]
}
