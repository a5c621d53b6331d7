//! Carriers between `http::HeaderMap` and the propagators.
//!
//! Unlike the usual extractor, [`HeaderExtractor::get_all`] returns every
//! value of a repeated header, so that a propagator can treat two
//! `traceparent` headers as invalid and join repeated `tracestate` and
//! `baggage` headers into one list, as W3C requires.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};

/// Reads propagation headers from a request or response.
///
/// ```
/// use opentelemetry::propagation::Extractor;
/// use otel_http::carrier::HeaderExtractor;
///
/// let mut headers = http::HeaderMap::new();
/// headers.append("tracestate", "a=1".parse().unwrap());
/// headers.append("tracestate", "b=2".parse().unwrap());
/// let carrier = HeaderExtractor(&headers);
/// assert_eq!(carrier.get_all("tracestate"), Some(vec!["a=1", "b=2"]));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

/// The propagation headers every request is asked for, parsed once: a
/// lookup by `&str` parses and validates the name each time.
pub(crate) static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
pub(crate) static TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
pub(crate) static BAGGAGE: HeaderName = HeaderName::from_static("baggage");

/// All the values of `key`, through a pre-parsed name where there is one.
fn values<'a>(headers: &'a HeaderMap, key: &str) -> http::header::GetAll<'a, HeaderValue> {
    match key {
        "traceparent" => headers.get_all(&TRACEPARENT),
        "tracestate" => headers.get_all(&TRACESTATE),
        "baggage" => headers.get_all(&BAGGAGE),
        other => headers.get_all(other),
    }
}

/// The value as text. A `HeaderValue` holds no control character but tab
/// (the `http` crate checks on construction), so valid UTF-8 is all that is
/// left to check, which `from_utf8` does a word at a time on ASCII where
/// `HeaderValue::to_str` looks at each byte: this runs for every propagation
/// header of every request. Non-ASCII text (`obs-text` that happens to be
/// UTF-8) is passed on; every propagator of this crate rejects it.
fn text(value: &HeaderValue) -> Option<&str> {
    std::str::from_utf8(value.as_bytes()).ok()
}

/// The values of one header as [`HeaderExtractor::get_all`] gives them
/// (`None` when absent, a value that is not UTF-8 as `""`), without a `Vec`
/// for the usual one value.
#[derive(Debug, Default)]
pub(crate) enum Values<'h> {
    #[default]
    Absent,
    One(&'h str),
    Many(Vec<&'h str>),
}

impl<'h> Values<'h> {
    fn push(&mut self, value: &'h HeaderValue) {
        let value = text(value).unwrap_or("");
        *self = match std::mem::take(self) {
            Values::Absent => Values::One(value),
            Values::One(first) => Values::Many(vec![first, value]),
            Values::Many(mut all) => {
                all.push(value);
                Values::Many(all)
            }
        };
    }

    /// Every value, in the order the map holds them.
    pub(crate) fn as_slice(&self) -> Option<&[&'h str]> {
        match self {
            Values::Absent => None,
            Values::One(one) => Some(std::slice::from_ref(one)),
            Values::Many(all) => Some(all),
        }
    }
}

/// Up to this many values, a map is walked rather than hashed into (once
/// for the three W3C headers, or for one name): a gRPC call's metadata is
/// about this size; a browser's HTTP request has two or three times as many.
const WALKED: usize = 8;

/// The first value of `name`, as `headers.get(name)` gives it, found by
/// walking a map of a few values (a gRPC call's metadata, a response's
/// trailers), which costs less than hashing the name.
///
/// ```
/// use http::{HeaderMap, HeaderName, HeaderValue};
/// let status = HeaderName::from_static("grpc-status");
/// let mut trailers = HeaderMap::new();
/// trailers.insert(&status, HeaderValue::from_static("0"));
/// assert_eq!(otel_http::carrier::first_value(&trailers, &status), trailers.get(&status));
/// ```
#[inline]
pub fn first_value<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h HeaderValue> {
    if headers.len() <= WALKED {
        headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    } else {
        headers.get(name)
    }
}

/// The `traceparent` of a request: its bytes only when it has exactly one
/// (repeated, it is invalid). Not checked as UTF-8: the parser accepts hex
/// digits and dashes only, so the check would be paid for nothing.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) enum Traceparent<'h> {
    #[default]
    Absent,
    One(&'h [u8]),
    Repeated,
}

impl<'h> Traceparent<'h> {
    fn push(&mut self, value: &'h HeaderValue) {
        *self = match self {
            Traceparent::Absent => Traceparent::One(value.as_bytes()),
            _ => Traceparent::Repeated,
        };
    }

    /// The value, when there is exactly one.
    pub(crate) fn single(self) -> Option<&'h [u8]> {
        match self {
            Traceparent::One(value) => Some(value),
            _ => None,
        }
    }
}

/// The values of `traceparent`, `tracestate` and `baggage`.
pub(crate) fn w3c_values(headers: &HeaderMap) -> (Traceparent<'_>, [Values<'_>; 2]) {
    let mut traceparent = Traceparent::Absent;
    let mut found: [Values<'_>; 2] = Default::default();
    if headers.len() <= WALKED {
        for (name, value) in headers {
            let slot = match name.as_str() {
                "traceparent" => {
                    traceparent.push(value);
                    continue;
                }
                "tracestate" => 0,
                "baggage" => 1,
                _ => continue,
            };
            found[slot].push(value);
        }
    } else {
        for value in headers.get_all(&TRACEPARENT) {
            traceparent.push(value);
        }
        for (slot, name) in found.iter_mut().zip([&TRACESTATE, &BAGGAGE]) {
            for value in headers.get_all(name) {
                slot.push(value);
            }
        }
    }
    (traceparent, found)
}

impl Extractor for HeaderExtractor<'_> {
    /// The first value, if it is text (UTF-8).
    fn get(&self, key: &str) -> Option<&str> {
        values(self.0, key).iter().next().and_then(text)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }

    /// Every value, in order. A value that is not text (UTF-8) is returned
    /// as `""`, so that it still counts (and fails to parse) rather than vanish.
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values: Vec<&str> = values(self.0, key)
            .iter()
            .map(|v| text(v).unwrap_or(""))
            .collect();
        if values.is_empty() {
            None
        } else {
            Some(values)
        }
    }
}

/// Writes propagation headers into a request or response.
///
/// ```
/// use opentelemetry::propagation::Injector;
/// use otel_http::carrier::HeaderInjector;
///
/// let mut headers = http::HeaderMap::new();
/// HeaderInjector(&mut headers).set("baggage", "k=v".to_owned());
/// assert_eq!(headers["baggage"], "k=v");
/// ```
#[derive(Debug)]
pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

/// The names the workspace's propagators write, as constants: no parsing and
/// no allocation per call for them (this runs on every outgoing request).
static KNOWN_NAMES: [HeaderName; 8] = [
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
    HeaderName::from_static("baggage"),
    HeaderName::from_static("b3"),
    HeaderName::from_static("x-b3-traceid"),
    HeaderName::from_static("x-b3-spanid"),
    HeaderName::from_static("x-b3-sampled"),
    HeaderName::from_static("uber-trace-id"),
];

/// `key` as a header name: a known one without parsing, else parsed (and
/// lower-cased); `None` if it is not a valid name.
fn header_name(key: &str) -> Option<HeaderName> {
    KNOWN_NAMES
        .iter()
        .find(|known| known.as_str() == key)
        .cloned()
        .or_else(|| HeaderName::from_bytes(key.as_bytes()).ok())
}

impl Injector for HeaderInjector<'_> {
    /// Replaces any value of `key`; names or values that are not valid HTTP are skipped.
    fn set(&mut self, key: &str, value: String) {
        // `TryFrom<String>` takes the string's buffer instead of copying it.
        if let (Some(name), Ok(mut value)) = (header_name(key), HeaderValue::try_from(value)) {
            // A traceparent is new on every request: HTTP/2 and HTTP/3 header
            // compression gains nothing from remembering it, but would look
            // it up and store it (evicting entries that do repeat) on both
            // ends. Marked never-indexed, it is sent as a literal. (HTTP/1
            // ignores the mark.)
            if name == TRACEPARENT {
                value.set_sensitive(true);
            }
            self.0.insert(name, value);
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Walked or hashed, the first value of a name is `get`'s: every map of
    // up to six values drawn from a few names, repeated names included, and
    // some of up to ten (both sides of the bound).
    #[test]
    fn walking_finds_what_get_finds() {
        let names = ["grpc-status", "grpc-message", "grpc-timeout", "x-a"];
        let mut maps = vec![HeaderMap::new()];
        for size in 1..=10 {
            let step = if size <= 6 { 1 } else { 101 };
            for pick in (0..names.len().pow(size)).step_by(step) {
                let mut map = HeaderMap::new();
                let mut rest = pick;
                for i in 0..size {
                    let name = names[rest % names.len()];
                    rest /= names.len();
                    map.append(name, HeaderValue::from(i));
                }
                maps.push(map);
            }
        }
        for map in &maps {
            for name in names.map(HeaderName::from_static) {
                assert_eq!(first_value(map, &name), map.get(&name), "{map:?} {name}");
            }
        }
    }

    #[test]
    fn values_are_read_as_the_extractor_reads_them() {
        // Walked (a small map) or looked up (a large one): each header's
        // values as the extractor gives them, in order, opaque bytes as "".
        for filler in [0, 3, WALKED + 1] {
            let mut headers = HeaderMap::new();
            for i in 0..filler {
                headers.append(
                    HeaderName::from_bytes(format!("x-filler-{i}").as_bytes()).expect("a name"),
                    HeaderValue::from(i),
                );
            }
            headers.append("baggage", HeaderValue::from_static("a=1"));
            headers.append("traceparent", HeaderValue::from_static("00-1-2-01"));
            headers.append(
                "baggage",
                HeaderValue::from_bytes(b"\xff").expect("opaque bytes are a valid header value"),
            );
            headers.append("baggage", HeaderValue::from_static("c=3"));
            let (traceparent, found) = w3c_values(&headers);
            for (values, name) in found.iter().zip(["tracestate", "baggage"]) {
                assert_eq!(
                    values.as_slice().map(<[&str]>::to_vec),
                    HeaderExtractor(&headers).get_all(name),
                    "{name} with {filler} other headers"
                );
            }
            assert_eq!(found[1].as_slice(), Some(&["a=1", "", "c=3"][..]));
            assert_eq!(traceparent.single(), Some(&b"00-1-2-01"[..]));
            // A second one makes it invalid; its bytes are not checked.
            headers.append(
                "traceparent",
                HeaderValue::from_bytes(b"\xff").expect("opaque bytes are a valid header value"),
            );
            assert_eq!(w3c_values(&headers).0.single(), None, "repeated");
            headers.remove("traceparent");
            headers.append(
                "traceparent",
                HeaderValue::from_bytes(b"\xff").expect("opaque bytes are a valid header value"),
            );
            assert_eq!(w3c_values(&headers).0.single(), Some(&b"\xff"[..]));
            headers.remove("traceparent");
            assert_eq!(w3c_values(&headers).0.single(), None, "absent");
        }
    }

    #[test]
    fn invalid_values_still_count() {
        let mut headers = HeaderMap::new();
        headers.append("traceparent", HeaderValue::from_static("x"));
        headers.append(
            "traceparent",
            HeaderValue::from_bytes(b"\xff").expect("opaque bytes are a valid header value"),
        );
        assert_eq!(
            HeaderExtractor(&headers).get_all("traceparent"),
            Some(vec!["x", ""])
        );
        assert_eq!(HeaderExtractor(&headers).get_all("baggage"), None);
    }

    #[test]
    fn injector_writes_known_and_other_names() {
        let mut headers = HeaderMap::new();
        for name in KNOWN_NAMES.iter().map(HeaderName::as_str) {
            HeaderInjector(&mut headers).set(name, "v".into());
        }
        HeaderInjector(&mut headers).set("X-Custom-Trace", "c".into());
        HeaderInjector(&mut headers).set("traceparent", "second".into());
        assert_eq!(headers.len(), KNOWN_NAMES.len() + 1);
        assert_eq!(headers["x-custom-trace"], "c");
        assert_eq!(headers.get_all("traceparent").iter().count(), 1);
        assert_eq!(headers["traceparent"], "second");
    }

    // Never-indexed in HTTP/2's HPACK: a value that changes on every request.
    #[test]
    fn the_traceparent_is_sent_never_indexed() {
        let mut headers = HeaderMap::new();
        let mut injector = HeaderInjector(&mut headers);
        injector.set("traceparent", "00-1-2-01".into());
        injector.set("tracestate", "a=1".into());
        assert!(headers["traceparent"].is_sensitive());
        assert!(!headers["tracestate"].is_sensitive());
    }

    #[test]
    fn injector_skips_invalid_headers() {
        let mut headers = HeaderMap::new();
        HeaderInjector(&mut headers).set("bad header", "v".into());
        HeaderInjector(&mut headers).set("ok", "line\nbreak".into());
        assert!(headers.is_empty());
    }
}
