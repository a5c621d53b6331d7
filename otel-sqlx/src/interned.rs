//! Texts that go on every span of a statement (its name, the summary, the
//! operation, the collection, the query text, the endpoint), kept for the
//! life of the process within a budget.
//!
//! A span copies each of them, and an unsampled span drops its copies right
//! away. Copying and dropping an `Arc<str>` increments and decrements a
//! reference count that every thread running the statement shares; a
//! `&'static str` is copied and dropped without touching memory. Texts are
//! interned once per distinct text (when a statement is first analysed), up
//! to [`BUDGET`] bytes in all; beyond it they stay reference-counted, which
//! is correct, only slower.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry::StringValue;

/// Bytes of text interned at most, for the life of the process.
pub(crate) const BUDGET: usize = 1024 * 1024;

struct Interned {
    texts: HashSet<&'static str>,
    bytes: usize,
}

static INTERNED: Mutex<Option<Interned>> = Mutex::new(None);

/// `text` for the life of the process, or `None` once the budget is spent.
fn intern(text: &str) -> Option<&'static str> {
    let mut guard = INTERNED.lock().unwrap_or_else(PoisonError::into_inner);
    let interned = guard.get_or_insert_with(|| Interned {
        texts: HashSet::new(),
        bytes: 0,
    });
    if let Some(&known) = interned.texts.get(text) {
        return Some(known);
    }
    if interned.bytes + text.len() > BUDGET {
        return None;
    }
    let leaked: &'static str = Box::leak(Box::<str>::from(text));
    interned.bytes += text.len();
    interned.texts.insert(leaked);
    Some(leaked)
}

/// An attribute value that copies without touching shared memory while the
/// budget lasts.
pub(crate) fn value(text: &str) -> StringValue {
    match intern(text) {
        Some(interned) => StringValue::from(interned),
        None => StringValue::from(Arc::<str>::from(text)),
    }
}

/// A span name, likewise (and without a copy of the name per span).
pub(crate) fn name(text: String) -> Cow<'static, str> {
    match intern(&text) {
        Some(interned) => Cow::Borrowed(interned),
        None => Cow::Owned(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_are_interned_once() {
        let a = value("SELECT interned_once_test");
        let b = value(&String::from("SELECT interned_once_test"));
        assert_eq!(a.as_str(), b.as_str());
        assert!(std::ptr::eq(a.as_str(), b.as_str()), "one copy");
    }

    #[test]
    fn beyond_the_budget_texts_are_reference_counted() {
        let huge = "x".repeat(BUDGET + 1);
        assert!(intern(&huge).is_none());
        assert_eq!(value(&huge).as_str(), huge);
        assert!(matches!(name(huge.clone()), Cow::Owned(ref n) if *n == huge));
    }
}
