//! Jaeger propagation: `uber-trace-id` and `uberctx-{key}` baggage headers.

use std::borrow::Cow;

use opentelemetry::{
    Context,
    baggage::{Baggage, BaggageExt},
    propagation::{Extractor, Injector, TextMapPropagator, text_map_propagator::FieldIter},
    trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState},
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

const TRACE_HEADER: &str = "uber-trace-id";
const BAGGAGE_PREFIX: &str = "uberctx-";
const MAX_HEADER_LEN: usize = 512;
const MAX_BAGGAGE_HEADERS: usize = 64;
const MAX_BAGGAGE_VALUE_LEN: usize = 4096;
const SAMPLED_OR_DEBUG: u8 = 0x01 | 0x02;
/// Everything but the RFC 3986 unreserved characters is percent-encoded.
const VALUE_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Extracts and injects a remote span context and baggage in the Jaeger format.
///
/// Follows the [Jaeger propagation format] that the OpenTelemetry spec lists
/// among the distributed propagators.
///
/// Choices where the format leaves room:
/// - ids are hex in either case (trace id 1-32 digits, span and parent id
///   1-16, left-padded), flags 1-2 hex digits; the trace and span id must not
///   be all zero; the parent id is validated and otherwise ignored;
/// - the whole value may be URL-encoded (`%3A` for `:`);
/// - a repeated `uber-trace-id`, or one longer than 512 bytes, is invalid;
/// - the debug bit (0x02) extracts as sampled and is not propagated;
/// - span context and baggage are independent concerns: `uberctx-*` headers are
///   extracted even without a valid `uber-trace-id`, and baggage is injected
///   even for an invalid span context. Extracted entries are added to (and
///   override) the incoming context's baggage. At most 64 `uberctx-*`
///   headers are read, and values over 4096 bytes or not valid UTF-8 after
///   percent-decoding are skipped; [`Baggage`] itself bounds the total.
///
/// [Jaeger propagation format]: https://www.jaegertracing.io/docs/1.21/client-libraries/#propagation-format
///
/// ```
/// use opentelemetry::{Context, StringValue, baggage::BaggageExt};
/// use opentelemetry::{propagation::TextMapPropagator, trace::TraceContextExt};
/// use otel_http::carrier::{HeaderExtractor, HeaderInjector};
/// use otel_http::propagation::JaegerPropagator;
///
/// let mut incoming = http::HeaderMap::new();
/// incoming.insert("uber-trace-id", "6309ab92c95468edea0dc1a9772ae2dc%3A409423a204bc17a8%3A0%3A1".parse().unwrap());
/// incoming.insert("uberctx-user", "J%C3%BCrgen".parse().unwrap());
/// let propagator = JaegerPropagator::new();
/// let cx = propagator.extract_with_context(&Context::new(), &HeaderExtractor(&incoming));
/// assert!(cx.span().span_context().is_sampled());
/// assert_eq!(cx.baggage().get("user"), Some(&StringValue::from("Jürgen")));
///
/// let mut outgoing = http::HeaderMap::new();
/// propagator.inject_context(&cx, &mut HeaderInjector(&mut outgoing));
/// assert_eq!(outgoing["uber-trace-id"], "6309ab92c95468edea0dc1a9772ae2dc:409423a204bc17a8:0:01");
/// assert_eq!(outgoing["uberctx-user"], "J%C3%BCrgen");
/// ```
#[derive(Debug, Clone)]
pub struct JaegerPropagator {
    fields: Vec<String>,
}

impl JaegerPropagator {
    /// A Jaeger propagator (the same as [`Default`]). Its
    /// [`fields`](TextMapPropagator::fields) name only `uber-trace-id`: the
    /// `uberctx-{key}` headers depend on the baggage.
    ///
    /// ```
    /// use opentelemetry::propagation::TextMapPropagator;
    /// use opentelemetry::trace::TraceContextExt;
    /// use otel_http::carrier::HeaderExtractor;
    /// use otel_http::propagation::JaegerPropagator;
    ///
    /// let propagator = JaegerPropagator::new();
    /// assert_eq!(propagator.fields().collect::<Vec<_>>(), ["uber-trace-id"]);
    ///
    /// // Short ids are left-padded; the debug flag (0x02) alone means sampled.
    /// let mut incoming = http::HeaderMap::new();
    /// incoming.insert("uber-trace-id", "ABC:1:0:2".parse().unwrap());
    /// let cx = propagator.extract(&HeaderExtractor(&incoming));
    /// let span = cx.span();
    /// assert_eq!(span.span_context().trace_id().to_string(), "00000000000000000000000000000abc");
    /// assert_eq!(span.span_context().span_id().to_string(), "0000000000000001");
    /// assert!(span.span_context().is_sampled());
    /// ```
    pub fn new() -> Self {
        JaegerPropagator {
            fields: vec![TRACE_HEADER.to_owned()],
        }
    }
}

impl Default for JaegerPropagator {
    fn default() -> Self {
        JaegerPropagator::new()
    }
}

impl TextMapPropagator for JaegerPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if sc.is_valid() {
            let flags = if sc.is_sampled() { "01" } else { "00" };
            injector.set(
                TRACE_HEADER,
                format!("{}:{}:0:{flags}", sc.trace_id(), sc.span_id()),
            );
        }
        for (key, (value, _metadata)) in cx.baggage() {
            let value = utf8_percent_encode(value.as_str(), VALUE_ENCODE_SET).to_string();
            injector.set(&format!("{BAGGAGE_PREFIX}{}", key.as_str()), value);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let cx = match extract_span_context(extractor) {
            Some(sc) => {
                super::incoming::record_foreign(cx.clone(), &sc).with_remote_span_context(sc)
            }
            None => cx.clone(),
        };
        match extract_baggage(extractor, cx.baggage()) {
            Some(baggage) => cx.with_baggage(baggage),
            None => cx,
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

fn extract_span_context(extractor: &dyn Extractor) -> Option<SpanContext> {
    let values = extractor.get_all(TRACE_HEADER)?;
    let [value] = values.as_slice() else {
        return None;
    };
    if value.len() > MAX_HEADER_LEN {
        return None;
    }
    let value = if value.contains('%') {
        percent_decode_str(value).decode_utf8().ok()?
    } else {
        Cow::Borrowed(*value)
    };
    parse_uber_trace_id(&value)
}

/// `{trace-id}:{span-id}:{parent-span-id}:{flags}`.
fn parse_uber_trace_id(value: &str) -> Option<SpanContext> {
    let mut parts = value.split(':');
    let (trace_id, span_id) = (parts.next()?, parts.next()?);
    let (parent_id, flags) = (parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let trace_id = parse_hex(trace_id, 32)?;
    let span_id = u64::try_from(parse_hex(span_id, 16)?).ok()?;
    parse_hex(parent_id, 16)?;
    let flags = parse_hex(flags, 2)?;
    if trace_id == 0 || span_id == 0 {
        return None;
    }
    let flags = if flags & u128::from(SAMPLED_OR_DEBUG) != 0 {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::NOT_SAMPLED
    };
    let (trace_id, span_id) = (TraceId::from(trace_id), SpanId::from(span_id));
    Some(SpanContext::new(
        trace_id,
        span_id,
        flags,
        true,
        TraceState::NONE,
    ))
}

/// 1 to `max_digits` hex digits, either case.
fn parse_hex(s: &str, max_digits: usize) -> Option<u128> {
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

/// The incoming baggage plus every usable `uberctx-{key}` header, or `None` if there is none.
fn extract_baggage(extractor: &dyn Extractor, existing: &Baggage) -> Option<Baggage> {
    let entries: Vec<(String, String)> = extractor
        .keys()
        .into_iter()
        .filter_map(|name| Some((name, baggage_key(name)?)))
        .take(MAX_BAGGAGE_HEADERS)
        .filter_map(|(name, key)| {
            let value = extractor
                .get(name)
                .filter(|v| v.len() <= MAX_BAGGAGE_VALUE_LEN)?;
            let value = percent_decode_str(value).decode_utf8().ok()?;
            Some((key.to_owned(), value.into_owned()))
        })
        .collect();
    if entries.is_empty() {
        return None;
    }
    let mut baggage: Baggage = existing
        .iter()
        .map(|(key, entry)| (key.clone(), entry.clone()))
        .collect();
    for (key, value) in entries {
        baggage.insert(key, value);
    }
    Some(baggage)
}

/// The `{key}` of a `uberctx-{key}` header name (prefix matched case-insensitively).
fn baggage_key(name: &str) -> Option<&str> {
    let prefix = name.get(..BAGGAGE_PREFIX.len())?;
    let key = name.get(BAGGAGE_PREFIX.len()..)?;
    (prefix.eq_ignore_ascii_case(BAGGAGE_PREFIX) && !key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::{HeaderExtractor, HeaderInjector};
    use http::{HeaderMap, HeaderValue};
    use opentelemetry::StringValue;
    use std::collections::HashMap;

    /// `(trace id, span id, sampled)` of a valid extraction.
    type Seen = Option<(String, String, bool)>;

    const TRACE: &str = "6309ab92c95468edea0dc1a9772ae2dc";
    const SPAN: &str = "409423a204bc17a8";

    fn extract_from(cx: &Context, pairs: &[(&'static str, &str)]) -> Context {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                *name,
                HeaderValue::from_str(value).expect("test header value"),
            );
        }
        JaegerPropagator::new().extract_with_context(cx, &HeaderExtractor(&map))
    }

    /// `(trace, span, sampled)` of `uber-trace-id: value`, or `None`.
    fn extract(value: &str) -> Seen {
        let cx = extract_from(&Context::new(), &[("uber-trace-id", value)]);
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return None;
        }
        assert!(sc.is_remote());
        Some((
            sc.trace_id().to_string(),
            sc.span_id().to_string(),
            sc.is_sampled(),
        ))
    }

    fn ok(trace: &str, span: &str, sampled: bool) -> Seen {
        Some((trace.to_owned(), span.to_owned(), sampled))
    }

    #[test]
    fn trace_header_forms() {
        let cases: &[(String, Seen)] = &[
            (format!("{TRACE}:{SPAN}:0:1"), ok(TRACE, SPAN, true)),
            (format!("{TRACE}:{SPAN}:0:01"), ok(TRACE, SPAN, true)),
            (format!("{TRACE}:{SPAN}:0:0"), ok(TRACE, SPAN, false)),
            (format!("{TRACE}:{SPAN}:0:00"), ok(TRACE, SPAN, false)),
            (format!("{TRACE}:{SPAN}:0:2"), ok(TRACE, SPAN, true)),
            (format!("{TRACE}:{SPAN}:0:03"), ok(TRACE, SPAN, true)),
            (format!("{TRACE}:{SPAN}:0:08"), ok(TRACE, SPAN, false)),
            (format!("{TRACE}:{SPAN}:0:ff"), ok(TRACE, SPAN, true)),
            (
                format!("{TRACE}:{SPAN}:5e1f4c0f44fa5e1d:1"),
                ok(TRACE, SPAN, true),
            ),
            (format!("{TRACE}%3A{SPAN}%3A0%3A1"), ok(TRACE, SPAN, true)),
            (format!("{TRACE}%3a{SPAN}%3a0%3a0"), ok(TRACE, SPAN, false)),
            (
                format!("{}:{SPAN}:0:1", TRACE.to_uppercase()),
                ok(TRACE, SPAN, true),
            ),
            (
                "ea0dc1a9772ae2dc:1:0:1".into(),
                ok("0000000000000000ea0dc1a9772ae2dc", "0000000000000001", true),
            ),
            (
                "1:2:0:1".into(),
                ok("00000000000000000000000000000001", "0000000000000002", true),
            ),
            (String::new(), None),
            (format!("{TRACE}:{SPAN}:0"), None),
            (format!("{TRACE}:{SPAN}:0:1:"), None),
            (format!("{TRACE}:{SPAN}:0:"), None),
            (format!("{TRACE}:{SPAN}::1"), None),
            (format!("{TRACE}:{SPAN}:0:001"), None),
            (format!("{TRACE}:{SPAN}:0:+1"), None),
            (format!("{TRACE}:{SPAN}:x:1"), None),
            (format!(":{SPAN}:0:1"), None),
            (format!("{TRACE}::0:1"), None),
            (format!("0{TRACE}:{SPAN}:0:1"), None),
            (format!("{TRACE}:0{SPAN}:0:1"), None),
            (format!("{TRACE}:{SPAN}:00{SPAN}:1"), None),
            (format!("0:{SPAN}:0:1"), None),
            (format!("{}:{SPAN}:0:1", "0".repeat(32)), None),
            (format!("{TRACE}:0000000000000000:0:1"), None),
            (format!("{TRACE}:{SPAN}:0:1 "), None),
            (format!("+{}:{SPAN}:0:1", &TRACE[1..]), None),
            (format!("{TRACE}-{SPAN}-0-1"), None),
            (format!("{TRACE}%3A{SPAN}%3A0%3A%FF"), None),
            (format!("{TRACE}:{SPAN}:0:1{}", " ".repeat(512)), None),
        ];
        for (value, expected) in cases {
            assert_eq!(&extract(value), expected, "uber-trace-id: {value:?}");
        }
    }

    #[test]
    fn repeated_header_is_invalid() {
        let value = format!("{TRACE}:{SPAN}:0:1");
        let cx = extract_from(
            &Context::new(),
            &[("uber-trace-id", &value), ("uber-trace-id", &value)],
        );
        assert!(!cx.span().span_context().is_valid());
    }

    #[test]
    fn invalid_header_keeps_incoming_context() {
        let existing = SpanContext::new(
            TraceId::from(7),
            SpanId::from(9),
            TraceFlags::SAMPLED,
            true,
            TraceState::NONE,
        );
        let cx = Context::new().with_remote_span_context(existing.clone());
        let out = extract_from(&cx, &[("uber-trace-id", "junk")]);
        assert_eq!(out.span().span_context(), &existing);
    }

    #[test]
    fn baggage_is_decoded_and_merged() {
        let cx = Context::new().with_baggage([
            opentelemetry::KeyValue::new("kept", "1"),
            opentelemetry::KeyValue::new("replaced", "old"),
        ]);
        let out = extract_from(
            &cx,
            &[
                ("uberctx-replaced", "new"),
                ("uberctx-spaced", "a%20b%2Cc"),
                ("uberctx-bad-utf8", "%FF"),
                ("uberctx-", "empty-key"),
                ("other", "x"),
            ],
        );
        let baggage = out.baggage();
        let get = |k: &str| baggage.get(k).map(StringValue::as_str);
        assert_eq!(get("kept"), Some("1"));
        assert_eq!(get("replaced"), Some("new"));
        assert_eq!(get("spaced"), Some("a b,c"));
        assert_eq!(get("bad-utf8"), None);
        assert_eq!(baggage.len(), 3);
        assert!(!out.span().span_context().is_valid());
    }

    #[test]
    fn baggage_prefix_is_case_insensitive_and_bounded() {
        let mut carrier: HashMap<String, String> = HashMap::new();
        carrier.insert("uberctx-key".into(), "v".into());
        carrier.insert("uberctx-huge".into(), "x".repeat(MAX_BAGGAGE_VALUE_LEN + 1));
        carrier.insert("ü".into(), "multibyte name".into());
        let cx = JaegerPropagator::new().extract_with_context(&Context::new(), &carrier);
        assert_eq!(cx.baggage().get("key").map(StringValue::as_str), Some("v"));
        assert_eq!(baggage_key("UberCtx-Key"), Some("Key"));
        assert_eq!(baggage_key("uberctx\u{e9}x"), None);
        assert_eq!(cx.baggage().len(), 1);
        let mut map = HeaderMap::new();
        for i in 0..200 {
            let name = http::HeaderName::try_from(format!("uberctx-k{i}")).expect("name");
            map.insert(name, HeaderValue::from_static("v"));
        }
        let cx =
            JaegerPropagator::new().extract_with_context(&Context::new(), &HeaderExtractor(&map));
        assert_eq!(cx.baggage().len(), MAX_BAGGAGE_HEADERS);
    }

    #[test]
    fn injects_trace_header_and_encoded_baggage() {
        let sc = SpanContext::new(
            TraceId::from(0x2a),
            SpanId::from(0x2b),
            TraceFlags::NOT_SAMPLED,
            false,
            TraceState::NONE,
        );
        let cx = Context::new()
            .with_remote_span_context(sc)
            .with_baggage([opentelemetry::KeyValue::new("user", "a b/ü")]);
        let mut map = HeaderMap::new();
        JaegerPropagator::new().inject_context(&cx, &mut HeaderInjector(&mut map));
        assert_eq!(
            map["uber-trace-id"],
            "0000000000000000000000000000002a:000000000000002b:0:00"
        );
        assert_eq!(map["uberctx-user"], "a%20b%2F%C3%BC");
        let back =
            JaegerPropagator::new().extract_with_context(&Context::new(), &HeaderExtractor(&map));
        assert_eq!(
            back.baggage().get("user").map(StringValue::as_str),
            Some("a b/ü")
        );
    }

    #[test]
    fn invalid_context_injects_baggage_only() {
        let cx = Context::new().with_baggage([opentelemetry::KeyValue::new("k", "v")]);
        let mut map = HeaderMap::new();
        JaegerPropagator::new().inject_context(&cx, &mut HeaderInjector(&mut map));
        assert_eq!(map.len(), 1);
        assert_eq!(map["uberctx-k"], "v");
    }

    #[test]
    fn fields() {
        assert_eq!(
            JaegerPropagator::default().fields().collect::<Vec<_>>(),
            ["uber-trace-id"]
        );
    }
}
