//! Every histogram's reservoirs, found by instrument: by the provider when
//! an instrument is created, by the exporters when they encode.

use super::reservoir::{HistogramExemplars, MAX_SERIES};
use crate::config::ExemplarFilter;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

/// What identifies an instrument in an export: its meter's scope name and
/// its name (case-insensitive, as the SDK treats it). Not the scope's
/// version, which the Prometheus exporter does not know: two meters of one
/// name and two versions in one process share the reservoirs of their
/// instruments of one name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct InstrumentId {
    scope: String,
    name: String,
}

impl InstrumentId {
    fn new(scope: &str, name: &str) -> Self {
        Self {
            scope: scope.to_owned(),
            name: name.to_ascii_lowercase(),
        }
    }
}

/// The reservoirs of every histogram made through the exemplar provider.
#[derive(Debug)]
pub(crate) struct ExemplarStore {
    filter: ExemplarFilter,
    histograms: RwLock<HashMap<InstrumentId, Arc<HistogramExemplars>>>,
}

impl ExemplarStore {
    pub(crate) fn new(filter: ExemplarFilter) -> Self {
        Self {
            filter,
            histograms: RwLock::default(),
        }
    }

    /// A store for `filter`; none for `always_off`.
    pub(crate) fn for_filter(filter: ExemplarFilter) -> Option<Arc<Self>> {
        (filter != ExemplarFilter::AlwaysOff).then(|| Arc::new(Self::new(filter)))
    }

    pub(crate) fn filter(&self) -> ExemplarFilter {
        self.filter
    }

    /// The reservoirs of a histogram, made on its first creation (a second
    /// creation of the same instrument shares them, as it shares the SDK's
    /// aggregation).
    pub(crate) fn histogram(
        &self,
        scope: &str,
        name: &str,
        boundaries: &[f64],
    ) -> Arc<HistogramExemplars> {
        let id = InstrumentId::new(scope, name);
        let mut all = self
            .histograms
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        all.entry(id)
            .or_insert_with(|| {
                Arc::new(HistogramExemplars::new(self.filter, boundaries, MAX_SERIES))
            })
            .clone()
    }

    /// The reservoirs of an exported histogram, if it was made here.
    pub(crate) fn find(&self, scope: &str, name: &str) -> Option<Arc<HistogramExemplars>> {
        let all = self
            .histograms
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        all.get(&InstrumentId::new(scope, name)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_instrument_one_set_of_reservoirs() {
        let store = ExemplarStore::new(ExemplarFilter::TraceBased);
        let a = store.histogram("otel-axum", "http.server.request.duration", &[1.0]);
        let again = store.histogram("otel-axum", "HTTP.server.request.duration", &[2.0]);
        assert!(Arc::ptr_eq(&a, &again));
        assert_eq!(again.boundaries(), [1.0], "the first creation's buckets");
        let other_scope = store.histogram("mine", "http.server.request.duration", &[1.0]);
        assert!(!Arc::ptr_eq(&a, &other_scope));
        let found = store.find("otel-axum", "http.server.request.duration");
        assert!(found.is_some_and(|f| Arc::ptr_eq(&f, &a)));
        assert!(
            store
                .find("otel-axum", "http.client.request.duration")
                .is_none()
        );
    }
}
