//! The `tracestate` header (W3C Trace Context Level 2, section 3.3).
//!
//! Extraction: repeated headers form one list (3.3.1); empty members are
//! skipped; keys follow the Level 2 grammar (3.3.1.3.1: up to 256 characters
//! from `[a-z0-9_*/@-]`, beginning with a letter or digit); a repeated key
//! keeps its leftmost member (3.3.1.4: one entry per key, the most recent
//! position, which mutation moves to the left, 3.5); a list with an invalid
//! member or more than 32 members is discarded whole (the `traceparent` is
//! still used). Injection: at most 512 characters, dropping whole members,
//! the longest (over 128 characters) first, then from the right (3.3.1.5).

use opentelemetry::trace::TraceState;
use std::sync::Arc;

/// Members a list may hold; a longer list is discarded whole.
///
/// ```
/// use otel_http::propagation::parse_tracestate;
/// let list = |n: usize| (0..n).map(|i| format!("k{i}=v")).collect::<Vec<_>>().join(",");
/// assert!(parse_tracestate(&[&list(32)]).is_some());
/// assert!(parse_tracestate(&[&list(33)]).is_none());
/// ```
pub const MAX_MEMBERS: usize = 32;
/// Characters of `tracestate` this implementation propagates at most: on
/// injection, whole members are dropped (those over 128 characters first,
/// then from the right) until the value fits.
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId};
/// use opentelemetry::Context;
/// use otel_http::carrier::HeaderInjector;
/// use otel_http::propagation::{W3cTraceContextPropagator, parse_tracestate};
///
/// // 32 members of 24 characters: 799 characters with the commas.
/// let list: Vec<String> = (0..32).map(|i| format!("k{i:02}={}", "z".repeat(20))).collect();
/// let state = parse_tracestate(&[&list.join(",")]).unwrap();
/// let sc = SpanContext::new(TraceId::from(1), SpanId::from(2), TraceFlags::SAMPLED, true, state);
/// let mut headers = http::HeaderMap::new();
/// W3cTraceContextPropagator::new()
///     .inject_context(&Context::new().with_remote_span_context(sc), &mut HeaderInjector(&mut headers));
/// let sent = headers["tracestate"].to_str().unwrap();
/// assert!(sent.len() <= 512);
/// assert_eq!(sent.split(',').count(), 20); // 20 * 24 + 19 = 499
/// assert!(sent.starts_with("k00="));
/// ```
pub const MAX_HEADER_LEN: usize = 512;
/// Members longer than this are dropped first when truncating.
const LONG_MEMBER: usize = 128;

fn is_key_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'*' | b'/' | b'@')
}

/// Level 2 key (3.3.1.3.1): `(lcalpha / DIGIT) 0*255(keychar)`, where
/// `keychar` includes `@` anywhere after the first character.
fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| is_key_char(*c))
}

/// 1 to 256 printable ASCII characters, no `,` or `=`, not ending in a space.
fn valid_value(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b.iter()
            .all(|c| (0x20..=0x7e).contains(c) && *c != b',' && *c != b'=')
        && b[b.len() - 1] != b' '
}

/// The members of every `tracestate` header value, validated, the first of
/// each key kept; `None` when the list must be discarded.
fn members<'a>(values: &[&'a str]) -> Option<Vec<(&'a str, &'a str)>> {
    let mut members: Vec<(&str, &str)> = Vec::new();
    for value in values {
        for member in value.split(',') {
            let member = member.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            let (key, val) = member.split_once('=')?;
            if !valid_key(key) || !valid_value(val) {
                return None;
            }
            // 3.3.1.4: one entry per key; the leftmost is the most recent.
            if members.iter().any(|(k, _)| *k == key) {
                continue;
            }
            members.push((key, val));
            if members.len() > MAX_MEMBERS {
                return None;
            }
        }
    }
    Some(members)
}

/// A validated incoming list: what opentelemetry's [`TraceState`] can hold
/// of it, and the whole list when that is not all of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ParsedTraceState {
    /// The members [`TraceState`] accepts, in order.
    pub(crate) state: TraceState,
    /// The whole list (`key=value` joined by `,`), when `state` lacks members.
    pub(crate) full: Option<Arc<str>>,
}

/// Parses the values of every `tracestate` header into the list to keep
/// beside the span context; `None` when the list must be discarded.
pub(crate) fn parse_list(values: &[&str]) -> Option<ParsedTraceState> {
    let members = members(values)?;
    if let Ok(state) = TraceState::from_key_value(members.iter().copied()) {
        return Some(ParsedTraceState { state, full: None });
    }
    // opentelemetry 0.33's key check is older than Level 2 (at most 13
    // characters after `@`, one `@` only): the span context holds the members
    // it accepts, the whole list travels beside it (see `incoming`).
    let accepted = members
        .iter()
        .filter(|member| TraceState::from_key_value([**member]).is_ok())
        .copied();
    let state = TraceState::from_key_value(accepted).unwrap_or_default();
    let mut full = String::with_capacity(members.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            full.push(',');
        }
        full.push_str(key);
        full.push('=');
        full.push_str(value);
    }
    Some(ParsedTraceState {
        state,
        full: Some(Arc::from(full)),
    })
}

/// Parses the values of every `tracestate` header, or `None` when the list
/// must be discarded. The result holds the members opentelemetry's
/// [`TraceState`] accepts; [`W3cTraceContextPropagator`](super::W3cTraceContextPropagator)
/// also forwards the others (keys with several `@`, or more than 13
/// characters after one), which Level 2 allows.
///
/// ```
/// use otel_http::propagation::parse_tracestate;
/// let ts = parse_tracestate(&["congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7"]).unwrap();
/// assert_eq!(ts.header(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
/// // A repeated key keeps its leftmost member, and the rest of the list.
/// assert_eq!(parse_tracestate(&["a=1,b=2,a=3"]).unwrap().header(), "a=1,b=2");
/// // A key beginning with `@` invalidates the list.
/// assert!(parse_tracestate(&["a=1,@b=2"]).is_none());
/// ```
pub fn parse_tracestate(values: &[&str]) -> Option<TraceState> {
    parse_list(values).map(|parsed| parsed.state)
}

/// `header` truncated to [`MAX_HEADER_LEN`], or `None` when empty.
pub(crate) fn truncate(header: String) -> Option<String> {
    if header.is_empty() {
        return None;
    }
    if header.len() <= MAX_HEADER_LEN {
        return Some(header);
    }
    let mut members: Vec<&str> = header.split(',').collect();
    let len = |m: &[&str]| m.iter().map(|s| s.len()).sum::<usize>() + m.len().saturating_sub(1);
    while len(&members) > MAX_HEADER_LEN {
        match members.iter().rposition(|m| m.len() > LONG_MEMBER) {
            Some(i) => {
                members.remove(i);
            }
            None => {
                members.pop();
            }
        }
    }
    if members.is_empty() {
        None
    } else {
        Some(members.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Level 2, 3.3.1.3.1 (key): `(lcalpha / DIGIT) 0*255(keychar)`, `@` a keychar.
    #[test]
    fn keys_and_values() {
        let long_tenant = format!("{}@{}", "t".repeat(241), "v".repeat(14));
        for key in [
            "a",
            "a1_-*/",
            "1abc",
            "0tenant@vendor",
            "t@s1234567890123",
            "t@s12345678901234",
            "foo@",
            "foo@@bar",
            "a@b@c",
            &long_tenant,
            &"k".repeat(256),
            &format!("{}@", "k".repeat(255)),
        ] {
            assert!(valid_key(key), "{key:?} is valid");
        }
        for key in [
            "",
            "A",
            "a b",
            "@b",
            "@",
            "a@B",
            "_a",
            "*a",
            &"k".repeat(257),
            &format!("{long_tenant}v"),
            "a=b",
            "é",
        ] {
            assert!(!valid_key(key), "{key:?} is invalid");
        }
        for value in ["x", "a b", "!~", &"v".repeat(256)] {
            assert!(valid_value(value), "{value:?} is valid");
        }
        for value in [
            "",
            "a,b",
            "a=b",
            "trailing ",
            "tab\t",
            "é",
            &"v".repeat(257),
        ] {
            assert!(!valid_value(value), "{value:?} is invalid");
        }
    }

    #[test]
    fn repeated_headers_form_one_list_and_empty_members_are_skipped() {
        let ts = parse_tracestate(&["a=1, ,b=2", " c=3 ", ""]).expect("valid");
        assert_eq!(ts.header(), "a=1,b=2,c=3");
    }

    // Level 2, 3.3.1.4 (combined header value): one entry per key, the most
    // recent position; mutation moves a key to the left (3.5), so the leftmost wins.
    #[test]
    fn a_repeated_key_keeps_its_leftmost_member_and_the_rest_of_the_list() {
        let ts = parse_tracestate(&["a=1,b=2,a=3", "c=4,b=5"]).expect("valid");
        assert_eq!(ts.header(), "a=1,b=2,c=4");
        // Duplicates do not count towards the 32 members.
        let mut list: Vec<String> = (0..32).map(|i| format!("k{i}=v")).collect();
        list.push("k0=again".to_owned());
        assert!(parse_tracestate(&[&list.join(",")]).is_some());
    }

    // Level 2 keys opentelemetry's TraceState rejects: kept whole beside it.
    #[test]
    fn the_whole_list_is_kept_when_the_api_cannot_hold_it() {
        let long_tenant = format!("{}@{}", "t".repeat(241), "v".repeat(14));
        let header = format!("foo@=1,foo@@bar=2,{long_tenant}=3,ok=4");
        let parsed = parse_list(&[&header]).expect("valid");
        assert_eq!(parsed.full.as_deref(), Some(header.as_str()));
        // `foo@` passes opentelemetry's check; the other two do not.
        assert_eq!(parsed.state.header(), "foo@=1,ok=4");
        let plain = parse_list(&["a=1, b=2"]).expect("valid");
        assert_eq!(
            (plain.state.header().as_str(), plain.full),
            ("a=1,b=2", None)
        );
    }

    #[test]
    fn lists_are_discarded_whole_when_invalid() {
        assert!(
            parse_tracestate(&["a=1,@b=2"]).is_none(),
            "key begins with '@'"
        );
        let long = format!("{}=1", "k".repeat(257));
        assert!(parse_tracestate(&[&long]).is_none(), "257-character key");
        assert!(parse_tracestate(&["a=1,b"]).is_none(), "member without '='");
        assert!(parse_tracestate(&["A=1"]).is_none(), "uppercase key");
        let members = |n: usize| {
            (0..n)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(
            parse_tracestate(&[&members(32)]).map(|t| t.header().matches(',').count()),
            Some(31)
        );
        assert!(parse_tracestate(&[&members(33)]).is_none(), "33 members");
    }

    #[test]
    fn injection_truncates_whole_members_longest_first() {
        let long = format!("long={}", "x".repeat(200));
        let small: Vec<String> = (0..40)
            .map(|i| format!("k{i:02}={}", "y".repeat(8)))
            .collect();
        // 1 long member + 31 small ones (32 members), over 512 characters.
        let mut members = vec![long.as_str()];
        members.extend(small.iter().take(31).map(String::as_str));
        let ts = parse_tracestate(&[&members.join(",")]).expect("valid");
        let out = truncate(ts.header()).expect("non-empty");
        assert!(out.len() <= MAX_HEADER_LEN, "{}", out.len());
        assert!(!out.contains("long="), "the long member goes first");
        assert!(out.starts_with("k00=") && out.split(',').all(|m| m.len() == 12));
        // Then from the right: 31 small members are 402 chars, so they all fit.
        assert_eq!(out.split(',').count(), 31);
        let many: Vec<String> = (0..32)
            .map(|i| format!("k{i:02}={}", "z".repeat(20)))
            .collect();
        let ts = parse_tracestate(&[&many.join(",")]).expect("valid");
        let out = truncate(ts.header()).expect("non-empty");
        assert!(out.len() <= MAX_HEADER_LEN);
        assert_eq!(
            out.split(',').count(),
            20,
            "24 chars each plus commas: 20 fit in 512"
        );
        assert!(out.starts_with("k00=") && out.ends_with(&format!("k19={}", "z".repeat(20))));
    }
}
