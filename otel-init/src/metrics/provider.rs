//! The meter provider that adds exemplars: every instrument is the SDK's
//! own, and each histogram is wrapped so that its measurements are also
//! offered to the exemplar reservoirs.

use super::reservoir::{BoundSeries, HistogramExemplars, MeasuredValue, SDK_DEFAULT_BOUNDARIES};
use super::store::ExemplarStore;
use crate::config::ExemplarFilter;
use opentelemetry::metrics::{
    AsyncInstrumentBuilder, BoundHistogram, BoundSyncInstrument, Counter, Gauge, Histogram,
    HistogramBuilder, InstrumentBuilder, InstrumentProvider, Meter, MeterProvider,
    ObservableCounter, ObservableGauge, ObservableUpDownCounter, SyncInstrument, UpDownCounter,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use std::sync::Arc;

/// The meter provider otel-init installs globally: the SDK's
/// [`SdkMeterProvider`], whose histograms also keep exemplars of the
/// measurements recorded in sampled spans (`OTEL_METRICS_EXEMPLAR_FILTER`),
/// which otel-init's OTLP exporter attaches to their data points.
///
/// [`global::meter_provider()`](opentelemetry::global::meter_provider) is
/// this provider after `init`; without globals, pass
/// [`TelemetryGuard::exemplar_meter_provider`](crate::TelemetryGuard::exemplar_meter_provider)
/// to the instrumentation's `meter_provider(..)`. With `always_off` every
/// instrument is the SDK's own, unwrapped.
///
/// ```
/// use otel_init::opentelemetry::metrics::MeterProvider as _;
/// use otel_init::config::ExemplarFilter;
/// let telemetry = otel_init::Telemetry::builder_from_env(&[
///     ("OTEL_TRACES_EXPORTER", "none"),
///     ("OTEL_METRICS_EXPORTER", "console"),
///     ("OTEL_LOGS_EXPORTER", "none"),
/// ])
/// .without_globals()
/// .build()?;
/// let meters = telemetry.exemplar_meter_provider().expect("metrics are on");
/// assert_eq!(meters.exemplar_filter(), ExemplarFilter::TraceBased);
/// let latency = meters.meter("checkout").f64_histogram("checkout.duration").with_unit("s").build();
/// latency.record(0.25, &[]); // outside a sampled span: counted, not kept as an exemplar
/// # Ok::<(), otel_init::InitError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ExemplarMeterProvider {
    sdk: SdkMeterProvider,
    store: Option<Arc<ExemplarStore>>,
}

impl ExemplarMeterProvider {
    /// `store` is `None` for `always_off`.
    pub(crate) fn new(sdk: SdkMeterProvider, store: Option<Arc<ExemplarStore>>) -> Self {
        Self { sdk, store }
    }

    /// The SDK provider underneath (its instruments keep no exemplars).
    ///
    /// ```
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "console"),
    /// ])
    /// .without_globals()
    /// .build()?;
    /// let meters = telemetry.exemplar_meter_provider().expect("metrics are on");
    /// assert!(meters.sdk().force_flush().is_ok());
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn sdk(&self) -> &SdkMeterProvider {
        &self.sdk
    }

    pub(crate) fn into_sdk(self) -> SdkMeterProvider {
        self.sdk
    }

    /// Which measurements its histograms keep as exemplars.
    ///
    /// ```
    /// use otel_init::config::ExemplarFilter;
    /// let telemetry = otel_init::Telemetry::builder_from_env(&[
    ///     ("OTEL_TRACES_EXPORTER", "none"),
    ///     ("OTEL_METRICS_EXPORTER", "console"),
    ///     ("OTEL_METRICS_EXEMPLAR_FILTER", "always_off"),
    /// ])
    /// .without_globals()
    /// .build()?;
    /// let meters = telemetry.exemplar_meter_provider().expect("metrics are on");
    /// assert_eq!(meters.exemplar_filter(), ExemplarFilter::AlwaysOff);
    /// # Ok::<(), otel_init::InitError>(())
    /// ```
    pub fn exemplar_filter(&self) -> ExemplarFilter {
        self.store
            .as_ref()
            .map_or(ExemplarFilter::AlwaysOff, |s| s.filter())
    }
}

impl MeterProvider for ExemplarMeterProvider {
    fn meter_with_scope(&self, scope: InstrumentationScope) -> Meter {
        let Some(store) = &self.store else {
            return self.sdk.meter_with_scope(scope);
        };
        let scope_name = scope.name().to_owned();
        Meter::new(Arc::new(ExemplarInstruments {
            sdk: self.sdk.meter_with_scope(scope),
            scope_name,
            store: store.clone(),
        }))
    }
}

/// Makes each instrument on the SDK's meter of the same scope.
struct ExemplarInstruments {
    sdk: Meter,
    scope_name: String,
    store: Arc<ExemplarStore>,
}

/// The SDK's instrument, made from the caller's builder.
macro_rules! sync_instrument {
    ($method:ident, $instrument:ty) => {
        fn $method(&self, b: InstrumentBuilder<'_, $instrument>) -> $instrument {
            let mut sdk = self.sdk.$method(b.name);
            sdk.description = b.description;
            sdk.unit = b.unit;
            sdk.build()
        }
    };
}

macro_rules! async_instrument {
    ($method:ident, $instrument:ty, $value:ty) => {
        fn $method(&self, b: AsyncInstrumentBuilder<'_, $instrument, $value>) -> $instrument {
            let mut sdk = self.sdk.$method(b.name);
            sdk.description = b.description;
            sdk.unit = b.unit;
            sdk.callbacks = b.callbacks;
            sdk.build()
        }
    };
}

macro_rules! histogram {
    ($method:ident, $value:ty) => {
        fn $method(&self, b: HistogramBuilder<'_, Histogram<$value>>) -> Histogram<$value> {
            let exemplars = self.store.histogram(
                &self.scope_name,
                &b.name,
                b.boundaries.as_deref().unwrap_or(&SDK_DEFAULT_BOUNDARIES),
            );
            let mut sdk = self.sdk.$method(b.name);
            sdk.description = b.description;
            sdk.unit = b.unit;
            sdk.boundaries = b.boundaries;
            Histogram::new(Arc::new(ExemplarHistogram {
                sdk: sdk.build(),
                exemplars,
            }))
        }
    };
}

impl InstrumentProvider for ExemplarInstruments {
    sync_instrument!(u64_counter, Counter<u64>);
    sync_instrument!(f64_counter, Counter<f64>);
    sync_instrument!(i64_up_down_counter, UpDownCounter<i64>);
    sync_instrument!(f64_up_down_counter, UpDownCounter<f64>);
    sync_instrument!(u64_gauge, Gauge<u64>);
    sync_instrument!(f64_gauge, Gauge<f64>);
    sync_instrument!(i64_gauge, Gauge<i64>);
    async_instrument!(u64_observable_counter, ObservableCounter<u64>, u64);
    async_instrument!(f64_observable_counter, ObservableCounter<f64>, f64);
    async_instrument!(
        i64_observable_up_down_counter,
        ObservableUpDownCounter<i64>,
        i64
    );
    async_instrument!(
        f64_observable_up_down_counter,
        ObservableUpDownCounter<f64>,
        f64
    );
    async_instrument!(u64_observable_gauge, ObservableGauge<u64>, u64);
    async_instrument!(i64_observable_gauge, ObservableGauge<i64>, i64);
    async_instrument!(f64_observable_gauge, ObservableGauge<f64>, f64);
    histogram!(f64_histogram, f64);
    histogram!(u64_histogram, u64);
}

/// The SDK's histogram, and its reservoirs.
struct ExemplarHistogram<T> {
    sdk: Histogram<T>,
    exemplars: Arc<HistogramExemplars>,
}

impl<T> SyncInstrument<T> for ExemplarHistogram<T>
where
    T: Copy + Send + Sync + 'static,
    MeasuredValue: From<T>,
{
    #[inline]
    fn measure(&self, value: T, attributes: &[KeyValue]) {
        self.sdk.record(value, attributes);
        self.exemplars.offer(MeasuredValue::from(value), attributes);
    }

    fn bind(&self, attributes: &[KeyValue]) -> Box<dyn BoundSyncInstrument<T> + Send + Sync> {
        Box::new(BoundExemplarHistogram {
            sdk: self.sdk.bind(attributes),
            exemplars: self.exemplars.clone(),
            series: BoundSeries::of(attributes),
        })
    }
}

/// The SDK's bound histogram, and its series' reservoir.
struct BoundExemplarHistogram<T> {
    sdk: BoundHistogram<T>,
    exemplars: Arc<HistogramExemplars>,
    series: BoundSeries,
}

impl<T> BoundSyncInstrument<T> for BoundExemplarHistogram<T>
where
    T: Copy + Send + Sync + 'static,
    MeasuredValue: From<T>,
{
    #[inline]
    fn measure(&self, value: T) {
        self.sdk.record(value);
        self.exemplars
            .offer_bound(MeasuredValue::from(value), &self.series);
    }
}

impl From<f64> for MeasuredValue {
    fn from(v: f64) -> Self {
        Self::F64(v)
    }
}

impl From<u64> for MeasuredValue {
    fn from(v: u64) -> Self {
        Self::U64(v)
    }
}
