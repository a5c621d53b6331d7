//! The `tracestate` header (W3C Trace Context Level 2, section 3.3).
//!
//! Extraction: repeated headers form one list; empty members are skipped; a
//! list with an invalid member, a duplicate key or more than 32 members is
//! discarded whole (the `traceparent` is still used). Injection: at most 512
//! characters, dropping whole members, the longest (over 128 characters)
//! first, then from the right.

use opentelemetry::trace::TraceState;

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
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'*' | b'/')
}

/// `simple-key` or `tenant-id@system-id`.
fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    match key.split_once('@') {
        None => {
            !b.is_empty()
                && b.len() <= 256
                && b[0].is_ascii_lowercase()
                && b.iter().all(|c| is_key_char(*c))
        }
        Some((tenant, system)) => {
            let (t, s) = (tenant.as_bytes(), system.as_bytes());
            !t.is_empty()
                && t.len() <= 241
                && (t[0].is_ascii_lowercase() || t[0].is_ascii_digit())
                && t.iter().all(|c| is_key_char(*c))
                && !s.is_empty()
                && s.len() <= 14
                && s[0].is_ascii_lowercase()
                && s.iter().all(|c| is_key_char(*c))
        }
    }
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

/// Parses the values of every `tracestate` header, or `None` when the list
/// must be discarded.
///
/// ```
/// use otel_http::propagation::parse_tracestate;
/// let ts = parse_tracestate(&["congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7"]).unwrap();
/// assert_eq!(ts.header(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
/// assert!(parse_tracestate(&["a=1,a=2"]).is_none()); // duplicate key
/// ```
pub fn parse_tracestate(values: &[&str]) -> Option<TraceState> {
    let mut members: Vec<(&str, &str)> = Vec::new();
    for value in values {
        for member in value.split(',') {
            let member = member.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            let (key, val) = member.split_once('=')?;
            if !valid_key(key) || !valid_value(val) || members.iter().any(|(k, _)| *k == key) {
                return None;
            }
            members.push((key, val));
            if members.len() > MAX_MEMBERS {
                return None;
            }
        }
    }
    TraceState::from_key_value(members).ok()
}

/// The `tracestate` value to send, truncated to [`MAX_HEADER_LEN`], or `None` when empty.
pub(crate) fn format_tracestate(state: &TraceState) -> Option<String> {
    let header = state.header();
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

    #[test]
    fn keys_and_values() {
        for key in [
            "a",
            "a1_-*/",
            "0tenant@vendor",
            "t@s1234567890123",
            &"k".repeat(256),
        ] {
            assert!(valid_key(key), "{key:?} is valid");
        }
        for key in [
            "",
            "A",
            "1abc",
            "a b",
            "a@",
            "@b",
            "a@B",
            "t@s12345678901234",
            &"k".repeat(257),
            "a=b",
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

    #[test]
    fn lists_are_discarded_whole_when_invalid() {
        assert!(parse_tracestate(&["a=1,b"]).is_none(), "member without '='");
        assert!(
            parse_tracestate(&["a=1", "a=2"]).is_none(),
            "duplicate across headers"
        );
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
        let out = format_tracestate(&ts).expect("non-empty");
        assert!(out.len() <= MAX_HEADER_LEN, "{}", out.len());
        assert!(!out.contains("long="), "the long member goes first");
        assert!(out.starts_with("k00=") && out.split(',').all(|m| m.len() == 12));
        // Then from the right: 31 small members are 402 chars, so they all fit.
        assert_eq!(out.split(',').count(), 31);
        let many: Vec<String> = (0..32)
            .map(|i| format!("k{i:02}={}", "z".repeat(20)))
            .collect();
        let ts = parse_tracestate(&[&many.join(",")]).expect("valid");
        let out = format_tracestate(&ts).expect("non-empty");
        assert!(out.len() <= MAX_HEADER_LEN);
        assert_eq!(
            out.split(',').count(),
            20,
            "24 chars each plus commas: 20 fit in 512"
        );
        assert!(out.starts_with("k00=") && out.ends_with(&format!("k19={}", "z".repeat(20))));
    }
}
