//! The exemplar reservoirs of one histogram: per series (attribute set), one
//! slot per bucket holding the last measurement that fell in it (the
//! specification's `AlignedHistogramBucketExemplarReservoir`, in its
//! "last seen" form).
//!
//! Memory is bounded: at most [`MAX_SERIES`] series per histogram (the SDK's
//! default cardinality limit), each with one slot per bucket; a measurement
//! of a series beyond the limit is not kept as an exemplar.
//!
//! Slots are never cleared: an export attaches the exemplars recorded within
//! its data point's time window (see [`Series::within`]), which serves
//! cumulative and delta temporality alike, and a Prometheus scrape sees the
//! latest exemplar of each bucket.

use super::filter::{self, SpanIds};
use super::key;
use crate::config::ExemplarFilter;
use opentelemetry::KeyValue;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Series with exemplars per histogram at most.
pub(crate) const MAX_SERIES: usize = 2000;

/// The SDK's default bucket boundaries, for a histogram created without any.
pub(crate) const SDK_DEFAULT_BOUNDARIES: [f64; 15] = [
    0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0,
    10000.0,
];

/// A measurement as recorded: `f64` and `u64` histograms keep their own type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum MeasuredValue {
    F64(f64),
    U64(u64),
}

impl MeasuredValue {
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Self::F64(v) => v,
            Self::U64(v) => v as f64,
        }
    }
}

/// One kept measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Exemplar {
    pub value: MeasuredValue,
    pub time_unix_nano: u64,
    /// All zeros when recorded outside a sampled span (`always_on` only).
    pub trace_id: [u8; 16],
    /// All zeros when recorded outside a sampled span.
    pub span_id: [u8; 8],
}

impl Exemplar {
    /// Whether it links to a span.
    pub(crate) fn has_trace(&self) -> bool {
        self.trace_id != [0; 16]
    }
}

/// The slots of one attribute set: one per bucket.
#[derive(Debug)]
pub(crate) struct Series {
    slots: Mutex<Box<[Option<Exemplar>]>>,
}

impl Series {
    fn new(buckets: usize) -> Self {
        Self {
            slots: Mutex::new(vec![None; buckets].into_boxed_slice()),
        }
    }

    fn put(&self, bucket: usize, exemplar: Exemplar) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = slots.get_mut(bucket) {
            *slot = Some(exemplar);
        }
    }

    /// The exemplars recorded from `start` to `end` (Unix nanoseconds,
    /// inclusive), in bucket order: those of one export's data point.
    pub(crate) fn within(&self, start: u64, end: u64) -> Vec<Exemplar> {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots
            .iter()
            .flatten()
            .filter(|e| (start..=end).contains(&e.time_unix_nano))
            .copied()
            .collect()
    }

    /// The latest exemplar of bucket `bucket` (0 = the first boundary's
    /// bucket, `boundaries.len()` = the `+Inf` bucket).
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    pub(crate) fn in_bucket(&self, bucket: usize) -> Option<Exemplar> {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.get(bucket).copied().flatten()
    }
}

/// The series of a bound instrument.
#[derive(Debug)]
pub(crate) struct BoundSeries {
    key: u64,
    series: OnceLock<Option<Arc<Series>>>,
}

impl BoundSeries {
    /// The series of `attributes`, found when first needed.
    pub(crate) fn of(attributes: &[KeyValue]) -> Self {
        Self {
            key: key::of_attributes(attributes),
            series: OnceLock::new(),
        }
    }
}

/// The keys are hashes already (see [`key`]).
#[derive(Default)]
struct KeyIsHash(u64);

impl Hasher for KeyIsHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type SeriesMap = HashMap<u64, Arc<Series>, BuildHasherDefault<KeyIsHash>>;

/// The reservoirs of one histogram instrument.
#[derive(Debug)]
pub(crate) struct HistogramExemplars {
    filter: ExemplarFilter,
    boundaries: Box<[f64]>,
    series: RwLock<SeriesMap>,
    max_series: usize,
}

impl HistogramExemplars {
    /// Reservoirs for a histogram with these bucket `boundaries`.
    pub(crate) fn new(filter: ExemplarFilter, boundaries: &[f64], max_series: usize) -> Self {
        Self {
            filter,
            boundaries: boundaries.into(),
            series: RwLock::new(SeriesMap::default()),
            max_series,
        }
    }

    /// The bucket boundaries the slots are aligned with.
    #[cfg(test)]
    pub(crate) fn boundaries(&self) -> &[f64] {
        &self.boundaries
    }

    /// The bucket of `value`, as the SDK counts it (upper bounds inclusive).
    pub(crate) fn bucket(&self, value: f64) -> usize {
        self.boundaries.partition_point(|&b| b < value)
    }

    /// Offers a measurement of the attribute set `attributes`, recorded now.
    #[inline]
    pub(crate) fn offer(&self, value: MeasuredValue, attributes: &[KeyValue]) {
        let Some(ids) = filter::admit(self.filter) else {
            return;
        };
        if let Some(series) = self.series_or_new(key::of_attributes(attributes)) {
            self.keep(&series, value, ids);
        }
    }

    /// Offers a measurement of a bound instrument's series: its key was
    /// computed once, at bind time, and its series is looked up once, at
    /// its first admitted measurement.
    #[inline]
    pub(crate) fn offer_bound(&self, value: MeasuredValue, bound: &BoundSeries) {
        let Some(ids) = filter::admit(self.filter) else {
            return;
        };
        if let Some(series) = bound.series.get_or_init(|| self.series_or_new(bound.key)) {
            self.keep(series, value, ids);
        }
    }

    fn keep(&self, series: &Series, value: MeasuredValue, (trace_id, span_id): SpanIds) {
        let time_unix_nano = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        series.put(
            self.bucket(value.as_f64()),
            Exemplar {
                value,
                time_unix_nano,
                trace_id,
                span_id,
            },
        );
    }

    /// The series of `key`, created if there is room for it.
    pub(crate) fn series_or_new(&self, key: u64) -> Option<Arc<Series>> {
        if let Some(s) = self.existing(key) {
            return Some(s);
        }
        let mut all = self.series.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = all.get(&key) {
            return Some(s.clone());
        }
        if all.len() >= self.max_series {
            return None;
        }
        let series = Arc::new(Series::new(self.boundaries.len() + 1));
        all.insert(key, series.clone());
        Some(series)
    }

    /// The series of `key`, if any measurement of it was kept.
    pub(crate) fn existing(&self, key: u64) -> Option<Arc<Series>> {
        let all = self.series.read().unwrap_or_else(PoisonError::into_inner);
        all.get(&key).cloned()
    }

    /// The series that have slots.
    #[cfg(test)]
    pub(crate) fn series_count(&self) -> usize {
        self.series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::Context;
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    };

    fn sampled(trace: u128, sampled: bool) -> Context {
        let flags = if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(trace),
            SpanId::from(1),
            flags,
            false,
            TraceState::default(),
        ))
    }

    fn all(h: &HistogramExemplars, attributes: &[KeyValue]) -> Vec<Exemplar> {
        h.existing(key::of_attributes(attributes))
            .map(|s| s.within(0, u64::MAX))
            .unwrap_or_default()
    }

    #[test]
    fn one_slot_per_bucket_keeps_the_last_measurement() {
        let h = HistogramExemplars::new(ExemplarFilter::TraceBased, &[0.1, 1.0], MAX_SERIES);
        let attrs = [KeyValue::new("route", "/a")];
        for (trace, value) in [(1, 0.05), (2, 0.1), (3, 0.5), (4, 0.7), (5, 30.0)] {
            let _cx = sampled(trace, true).attach();
            h.offer(MeasuredValue::F64(value), &attrs);
        }
        let kept: Vec<(u128, f64)> = all(&h, &attrs)
            .iter()
            .map(|e| (u128::from_be_bytes(e.trace_id), e.value.as_f64()))
            .collect();
        // 0.05 and 0.1 share the first bucket (upper bound inclusive), 0.5
        // and 0.7 the second; 30 is in +Inf.
        assert_eq!(kept, [(2, 0.1), (4, 0.7), (5, 30.0)]);
        let series = h.existing(key::of_attributes(&attrs)).expect("series");
        assert_eq!(
            series.in_bucket(1).map(|e| e.value),
            Some(MeasuredValue::F64(0.7))
        );
        assert_eq!(series.in_bucket(3), None, "no such bucket");
    }

    #[test]
    fn series_are_apart_and_capped() {
        let h = HistogramExemplars::new(ExemplarFilter::AlwaysOn, &[1.0], 3);
        for i in 0..10 {
            h.offer(MeasuredValue::U64(i), &[KeyValue::new("i", i as i64)]);
        }
        assert_eq!(h.series_count(), 3, "bounded");
        assert_eq!(all(&h, &[KeyValue::new("i", 0)]).len(), 1);
        assert!(all(&h, &[KeyValue::new("i", 9)]).is_empty(), "past the cap");
        // A series that exists keeps taking measurements at the cap.
        h.offer(MeasuredValue::U64(5), &[KeyValue::new("i", 1)]);
        let kept = all(&h, &[KeyValue::new("i", 1)]);
        assert_eq!(kept.len(), 2);
        assert!(
            !kept[0].has_trace(),
            "always_on outside a span: no trace id"
        );
    }

    #[test]
    fn the_filter_decides_what_is_offered() {
        let attrs: [KeyValue; 0] = [];
        let cases = [
            (ExemplarFilter::TraceBased, [true, false, false]),
            (ExemplarFilter::AlwaysOn, [true, true, true]),
            (ExemplarFilter::AlwaysOff, [false, false, false]),
        ];
        for (filter, [in_sampled, in_unsampled, outside]) in cases {
            let offer = |cx: Option<Context>| {
                let h = HistogramExemplars::new(filter, &[1.0], MAX_SERIES);
                let _attached = cx.map(Context::attach);
                h.offer(MeasuredValue::F64(0.5), &attrs);
                !all(&h, &attrs).is_empty()
            };
            assert_eq!(
                offer(Some(sampled(1, true))),
                in_sampled,
                "{filter:?} sampled"
            );
            assert_eq!(
                offer(Some(sampled(1, false))),
                in_unsampled,
                "{filter:?} unsampled"
            );
            assert_eq!(offer(None), outside, "{filter:?} outside a span");
        }
    }

    #[test]
    fn within_keeps_the_time_window() {
        let h = HistogramExemplars::new(ExemplarFilter::AlwaysOn, &[1.0, 2.0], MAX_SERIES);
        let series = h.series_or_new(7).expect("room");
        let at = |t| Exemplar {
            value: MeasuredValue::F64(0.0),
            time_unix_nano: t,
            trace_id: [1; 16],
            span_id: [2; 8],
        };
        series.put(0, at(100));
        series.put(1, at(200));
        series.put(2, at(300));
        let times = |s: u64, e: u64| -> Vec<u64> {
            series
                .within(s, e)
                .iter()
                .map(|e| e.time_unix_nano)
                .collect()
        };
        assert_eq!(times(150, 300), [200, 300]);
        assert_eq!(times(0, 199), [100]);
        assert!(times(301, 400).is_empty());
    }

    #[test]
    fn a_bound_series_is_found_at_its_first_admitted_measurement() {
        let h = HistogramExemplars::new(ExemplarFilter::TraceBased, &[1.0], 1);
        let bound = BoundSeries::of(&[KeyValue::new("route", "/a")]);
        h.offer_bound(MeasuredValue::F64(3.0), &bound);
        assert_eq!(h.series_count(), 0, "not admitted: no series made");
        let _cx = sampled(42, true).attach();
        h.offer_bound(MeasuredValue::F64(3.0), &bound);
        let kept = all(&h, &[KeyValue::new("route", "/a")]);
        assert_eq!(kept.len(), 1);
        assert_eq!(u128::from_be_bytes(kept[0].trace_id), 42);
        // At the cap, another bound set keeps nothing.
        let other = BoundSeries::of(&[KeyValue::new("route", "/b")]);
        h.offer_bound(MeasuredValue::F64(3.0), &other);
        assert_eq!(h.series_count(), 1);
    }
}
