//! What the instrumentation records about a query text, computed once per
//! distinct text and cached: the summary, the operation and collection, and
//! the `db.query.text` value (sanitized or not, length-limited).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use opentelemetry::StringValue;

use crate::config::QueryTextConfig;
use crate::interned;
use crate::sql;
#[cfg(test)]
use crate::sql::Dialect;
use crate::telemetry::operation::NamedQuery;

/// How many distinct query texts are remembered before the cache starts over.
const CACHE_CAPACITY: usize = 1024;
/// Texts longer than this are analysed every time instead of being cached.
const MAX_CACHED_TEXT_LEN: usize = 16 * 1024;

/// The analysis of one query text.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    pub(crate) summary: Option<Arc<str>>,
    pub(crate) operation: Option<Arc<str>>,
    pub(crate) collection: Option<Arc<str>>,
    /// `db.query.text` when the query has bind parameters, and when it has
    /// none; computed on first use.
    parameterized_text: OnceLock<Option<StringValue>>,
    literal_text: OnceLock<Option<StringValue>>,
    /// Span name and attributes, computed on first use.
    named: OnceLock<Arc<NamedQuery>>,
    /// Kept in the cache: its texts are interned (see [`interned`]).
    cached: bool,
}

impl Analysis {
    fn new(sql: &str, config: &QueryTextConfig, cached: bool) -> Self {
        let (summary, operation, collection) = match &config.summarizer {
            Some(custom) => (custom(sql), None, None),
            None => {
                let s = sql::summarize(sql, config.dialect);
                let single =
                    |v: Option<&str>| v.filter(|_| config.operation_from_text).map(Arc::from);
                (
                    s.summary().map(str::to_owned),
                    single(s.operation()),
                    single(s.collection()),
                )
            }
        };
        Analysis {
            summary: summary.filter(|s| !s.is_empty()).map(Arc::from),
            operation,
            collection,
            parameterized_text: OnceLock::new(),
            literal_text: OnceLock::new(),
            named: OnceLock::new(),
            cached,
        }
    }

    /// Whether the cache keeps this analysis, so that what is derived from
    /// it once serves every query with the same text.
    pub(crate) fn is_cached(&self) -> bool {
        self.cached
    }

    /// The span name and attributes of this text, made by `make` on first
    /// use (and again if `db.system.name` changed since).
    pub(crate) fn named_query(
        &self,
        system_name: &'static str,
        make: impl Fn() -> NamedQuery,
    ) -> Arc<NamedQuery> {
        let named = self.named.get_or_init(|| Arc::new(make()));
        if named.system_name == system_name {
            Arc::clone(named)
        } else {
            // Only until MySQL/MariaDB detection has settled: not cached.
            Arc::new(make())
        }
    }

    /// The `db.query.text` to record for `sql`, `None` when capture is off.
    pub(crate) fn query_text(
        &self,
        sql: &str,
        parameterized: bool,
        config: &QueryTextConfig,
    ) -> Option<StringValue> {
        let cell = if parameterized {
            &self.parameterized_text
        } else {
            &self.literal_text
        };
        cell.get_or_init(|| {
            query_text(sql, parameterized, config).map(|text| {
                if self.cached {
                    interned::value(&text)
                } else {
                    StringValue::from(text)
                }
            })
        })
        .clone()
    }
}

fn query_text(sql: &str, parameterized: bool, config: &QueryTextConfig) -> Option<Arc<str>> {
    if !config.capture {
        return None;
    }
    let sanitize = !parameterized || config.sanitize_parameterized;
    let text = match (&config.sanitizer, sanitize) {
        (_, false) => std::borrow::Cow::Borrowed(sql),
        (Some(custom), true) => std::borrow::Cow::Owned(custom(sql)),
        (None, true) => std::borrow::Cow::Owned(sql::sanitize(sql, config.dialect)),
    };
    Some(Arc::from(truncate(&text, config.max_length)))
}

/// `text` cut to at most `max` bytes, at a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Analyses by query text, bounded. Looked up at every operation, so the
/// text is hashed with foldhash rather than the standard SipHash.
#[derive(Debug, Default)]
pub(crate) struct AnalysisCache {
    entries: RwLock<HashMap<Arc<str>, Arc<Analysis>, foldhash::fast::RandomState>>,
}

impl AnalysisCache {
    /// The analysis of `sql`, from the cache when it was seen before.
    pub(crate) fn get(&self, sql: &str, config: &QueryTextConfig) -> Arc<Analysis> {
        if sql.len() > MAX_CACHED_TEXT_LEN {
            return Arc::new(Analysis::new(sql, config, false));
        }
        let cached = self
            .entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(sql)
            .cloned();
        if let Some(analysis) = cached {
            return analysis;
        }
        let analysis = Arc::new(Analysis::new(sql, config, true));
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CACHE_CAPACITY {
            // Many distinct texts: literals inlined into queries. Start over
            // rather than track recency; the common texts come back quickly.
            entries.clear();
        }
        entries.insert(Arc::from(sql), Arc::clone(&analysis));
        analysis
    }

    /// How many texts are cached.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// The dialect's default summary and sanitizer, for tests.
#[cfg(test)]
pub(crate) fn default_config(dialect: Dialect) -> QueryTextConfig {
    QueryTextConfig::new(dialect)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameterized_text_is_kept_and_literal_text_sanitized() {
        let config = default_config(Dialect::Postgres);
        let cache = AnalysisCache::default();
        let sql = "SELECT * FROM users WHERE id = $1 AND kind = 'admin'";
        let analysis = cache.get(sql, &config);
        assert_eq!(analysis.summary.as_deref(), Some("SELECT users"));
        assert_eq!(
            analysis
                .query_text(sql, true, &config)
                .as_ref()
                .map(StringValue::as_str),
            Some(sql)
        );
        assert_eq!(
            analysis
                .query_text(sql, false, &config)
                .as_ref()
                .map(StringValue::as_str),
            Some("SELECT * FROM users WHERE id = $1 AND kind = ?")
        );
        assert!(Arc::ptr_eq(&analysis, &cache.get(sql, &config)), "cached");
    }

    #[test]
    fn text_is_cut_at_a_char_boundary() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[test]
    fn cache_is_bounded() {
        let config = default_config(Dialect::Sqlite);
        let cache = AnalysisCache::default();
        for i in 0..(CACHE_CAPACITY + 10) {
            cache.get(&format!("SELECT {i}"), &config);
        }
        assert!(cache.len() <= CACHE_CAPACITY);
    }
}
