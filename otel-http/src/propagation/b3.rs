//! B3 (Zipkin) propagation, single and multi header.

use opentelemetry::{
    Context,
    propagation::{Extractor, Injector, TextMapPropagator, text_map_propagator::FieldIter},
    trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState},
};

const B3: &str = "b3";
const TRACE_ID: &str = "x-b3-traceid";
const SPAN_ID: &str = "x-b3-spanid";
const SAMPLED: &str = "x-b3-sampled";
const FLAGS: &str = "x-b3-flags";
/// Longer values are not B3 and are ignored (treated as invalid).
const MAX_HEADER_LEN: usize = 512;

/// Which headers [`B3Propagator`] injects. Extraction always accepts both
/// encodings, the single header taking precedence (the `x-b3-*` headers are
/// read only when `b3` is absent or invalid).
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use otel_http::carrier::{HeaderExtractor, HeaderInjector};
/// use otel_http::propagation::{B3Encoding, B3Propagator};
///
/// assert_eq!(B3Encoding::default(), B3Encoding::SingleHeader);
///
/// let mut incoming = http::HeaderMap::new();
/// incoming.insert("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7".parse().unwrap());
/// incoming.insert("x-b3-spanid", "e457b5a2e4d86bd1".parse().unwrap());
/// incoming.insert("x-b3-sampled", "1".parse().unwrap());
/// // A propagator that injects the single header still extracts the multiple ones.
/// let cx = B3Propagator::new(B3Encoding::SingleHeader).extract(&HeaderExtractor(&incoming));
///
/// let mut outgoing = http::HeaderMap::new();
/// B3Propagator::new(B3Encoding::SingleAndMultiHeader)
///     .inject_context(&cx, &mut HeaderInjector(&mut outgoing));
/// assert_eq!(outgoing["b3"], "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
/// assert_eq!(outgoing["x-b3-sampled"], "1");
/// assert_eq!(outgoing.len(), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum B3Encoding {
    /// `b3: {trace-id}-{span-id}-{1|0|d}`, the default the OpenTelemetry spec requires.
    #[default]
    SingleHeader,
    /// `x-b3-traceid`, `x-b3-spanid`, and `x-b3-sampled` (or `x-b3-flags: 1` for debug).
    MultipleHeader,
    /// Both of the above.
    SingleAndMultiHeader,
}

/// Extracts and injects a remote span context in the B3 format.
///
/// Follows the [OpenTelemetry B3 requirements] and [openzipkin/b3-propagation]:
/// extraction tries the single `b3` header first and falls back to the
/// `x-b3-*` headers; injection writes the configured [`B3Encoding`].
///
/// Choices where the specs leave room:
/// - ids must be lowercase hex (trace id 16 or 32 digits, span id 16), never all zero;
/// - a header that is repeated or longer than 512 bytes is invalid, as is any
///   malformed field (including an `x-b3-sampled` other than `1`, `0`, `true`, `false`);
/// - an absent sampling state ("deferred") extracts as not sampled;
/// - debug (`d`, or `x-b3-flags: 1`) extracts as sampled and is remembered in
///   the [`Context`], so injecting a context of the same trace sends debug on
///   (`-d`, or `x-b3-flags: 1` without `x-b3-sampled`), as the OpenTelemetry
///   spec requires. The W3C trace flags have no debug bit (0x02 is "random").
///
/// [OpenTelemetry B3 requirements]: https://github.com/open-telemetry/opentelemetry-specification/blob/main/specification/context/api-propagators.md#b3-requirements
/// [openzipkin/b3-propagation]: https://github.com/openzipkin/b3-propagation
///
/// ```
/// use opentelemetry::{Context, propagation::TextMapPropagator, trace::TraceContextExt};
/// use otel_http::carrier::{HeaderExtractor, HeaderInjector};
/// use otel_http::propagation::{B3Encoding, B3Propagator};
///
/// let mut incoming = http::HeaderMap::new();
/// incoming.insert("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1".parse().unwrap());
/// let cx = B3Propagator::default().extract_with_context(&Context::new(), &HeaderExtractor(&incoming));
/// assert!(cx.span().span_context().is_sampled());
///
/// let mut outgoing = http::HeaderMap::new();
/// B3Propagator::new(B3Encoding::MultipleHeader)
///     .inject_context(&cx, &mut HeaderInjector(&mut outgoing));
/// assert_eq!(outgoing["x-b3-traceid"], "80f198ee56343ba864fe8b2a57d3eff7");
/// assert_eq!(outgoing["x-b3-spanid"], "e457b5a2e4d86bd1");
/// assert_eq!(outgoing["x-b3-sampled"], "1");
/// ```
#[derive(Debug, Clone)]
pub struct B3Propagator {
    encoding: B3Encoding,
    fields: Vec<String>,
}

/// Marks a context extracted with the B3 debug flag, for that trace only.
#[derive(Debug)]
struct B3Debug(Option<TraceId>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sampling {
    Deferred,
    Deny,
    Accept,
    Debug,
}

impl B3Propagator {
    /// A propagator that injects `encoding`; its
    /// [`fields`](TextMapPropagator::fields) are the headers of that encoding.
    ///
    /// ```
    /// use opentelemetry::propagation::TextMapPropagator;
    /// use otel_http::propagation::{B3Encoding, B3Propagator};
    ///
    /// let single = B3Propagator::new(B3Encoding::SingleHeader);
    /// assert_eq!(single.fields().collect::<Vec<_>>(), ["b3"]);
    /// let multi = B3Propagator::new(B3Encoding::MultipleHeader);
    /// assert_eq!(
    ///     multi.fields().collect::<Vec<_>>(),
    ///     ["x-b3-traceid", "x-b3-spanid", "x-b3-sampled", "x-b3-flags"]
    /// );
    /// ```
    pub fn new(encoding: B3Encoding) -> Self {
        let names: &[&str] = match encoding {
            B3Encoding::SingleHeader => &[B3],
            B3Encoding::MultipleHeader => &[TRACE_ID, SPAN_ID, SAMPLED, FLAGS],
            B3Encoding::SingleAndMultiHeader => &[B3, TRACE_ID, SPAN_ID, SAMPLED, FLAGS],
        };
        let fields = names.iter().map(|&name| name.to_owned()).collect();
        B3Propagator { encoding, fields }
    }

    /// The encoding this propagator injects.
    ///
    /// ```
    /// use otel_http::propagation::{B3Encoding, B3Propagator};
    ///
    /// assert_eq!(B3Propagator::default().encoding(), B3Encoding::SingleHeader);
    /// let both = B3Propagator::new(B3Encoding::SingleAndMultiHeader);
    /// assert_eq!(both.encoding(), B3Encoding::SingleAndMultiHeader);
    /// ```
    pub fn encoding(&self) -> B3Encoding {
        self.encoding
    }
}

impl Default for B3Propagator {
    /// Injects the single `b3` header.
    fn default() -> Self {
        B3Propagator::new(B3Encoding::SingleHeader)
    }
}

impl TextMapPropagator for B3Propagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let debug = sc.is_sampled()
            && matches!(cx.get::<B3Debug>(), Some(B3Debug(Some(id))) if *id == sc.trace_id());
        let (trace_id, span_id) = (sc.trace_id(), sc.span_id());
        let sampled = if sc.is_sampled() { "1" } else { "0" };
        if self.encoding != B3Encoding::MultipleHeader {
            let state = if debug { "d" } else { sampled };
            injector.set(B3, format!("{trace_id}-{span_id}-{state}"));
        }
        if self.encoding != B3Encoding::SingleHeader {
            injector.set(TRACE_ID, trace_id.to_string());
            injector.set(SPAN_ID, span_id.to_string());
            // "Debug implies an accept decision, so don't also send X-B3-Sampled."
            if debug {
                injector.set(FLAGS, "1".to_owned());
            } else {
                injector.set(SAMPLED, sampled.to_owned());
            }
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some((sc, sampling)) = extract_single(extractor).or_else(|| extract_multi(extractor))
        else {
            return cx.clone();
        };
        let debug = (sampling == Sampling::Debug).then_some(sc.trace_id());
        let cx = super::incoming::record_foreign(cx.clone(), &sc).with_remote_span_context(sc);
        if debug.is_some() || cx.get::<B3Debug>().is_some() {
            cx.with_value(B3Debug(debug))
        } else {
            cx
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// The one value of `key`: `Ok(None)` when absent, `Err` when repeated or too long.
fn header<'a>(extractor: &'a dyn Extractor, key: &str) -> Result<Option<&'a str>, ()> {
    match extractor.get_all(key).as_deref() {
        None | Some([]) => Ok(None),
        Some(&[value]) if value.len() <= MAX_HEADER_LEN => Ok(Some(value)),
        Some(_) => Err(()),
    }
}

/// `{trace}-{span}[-{sampling}[-{parent}]]`; a lone sampling state has no ids, so yields `None`.
fn extract_single(extractor: &dyn Extractor) -> Option<(SpanContext, Sampling)> {
    let value = header(extractor, B3).ok()??;
    let mut parts = value.split('-');
    let (trace_id, span_id) = (parts.next()?, parts.next()?);
    let sampling = match parts.next() {
        None => Sampling::Deferred,
        Some("0") => Sampling::Deny,
        Some("1") => Sampling::Accept,
        Some("d") => Sampling::Debug,
        Some(_) => return None,
    };
    if let Some(parent_id) = parts.next() {
        parse_span_id(parent_id)?; // validated, never propagated
    }
    if parts.next().is_some() {
        return None;
    }
    span_context(trace_id, span_id, sampling)
}

fn extract_multi(extractor: &dyn Extractor) -> Option<(SpanContext, Sampling)> {
    let trace_id = header(extractor, TRACE_ID).ok()??;
    let span_id = header(extractor, SPAN_ID).ok()??;
    let sampling = match header(extractor, SAMPLED).ok()? {
        None => Sampling::Deferred,
        Some("1" | "true") => Sampling::Accept,
        Some("0" | "false") => Sampling::Deny,
        Some(_) => return None,
    };
    // "Absent or any other value can be ignored."
    let debug = header(extractor, FLAGS).ok()? == Some("1");
    span_context(
        trace_id,
        span_id,
        if debug { Sampling::Debug } else { sampling },
    )
}

fn span_context(
    trace_id: &str,
    span_id: &str,
    sampling: Sampling,
) -> Option<(SpanContext, Sampling)> {
    let flags = match sampling {
        Sampling::Accept | Sampling::Debug => TraceFlags::SAMPLED,
        Sampling::Deny | Sampling::Deferred => TraceFlags::NOT_SAMPLED,
    };
    let (trace_id, span_id) = (parse_trace_id(trace_id)?, parse_span_id(span_id)?);
    let sc = SpanContext::new(trace_id, span_id, flags, true, TraceState::NONE);
    Some((sc, sampling))
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// 16 or 32 lowercase hex digits, not all zero; 16 digits are left-padded.
fn parse_trace_id(s: &str) -> Option<TraceId> {
    if !matches!(s.len(), 16 | 32) || !is_lower_hex(s) {
        return None;
    }
    let id = u128::from_str_radix(s, 16).ok()?;
    (id != 0).then(|| TraceId::from(id))
}

/// Exactly 16 lowercase hex digits, not all zero.
fn parse_span_id(s: &str) -> Option<SpanId> {
    if s.len() != 16 || !is_lower_hex(s) {
        return None;
    }
    let id = u64::from_str_radix(s, 16).ok()?;
    (id != 0).then(|| SpanId::from(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::{HeaderExtractor, HeaderInjector};
    use http::{HeaderMap, HeaderValue};

    /// `(trace id, span id, sampled, debug)` of a valid extraction.
    type Seen = Option<(String, String, bool, bool)>;

    const TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
    const SPAN: &str = "e457b5a2e4d86bd1";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                *name,
                HeaderValue::from_str(value).expect("test header value"),
            );
        }
        map
    }

    /// Extracts into an empty context: `(trace, span, sampled, debug)`, or `None`.
    fn extract(pairs: &[(&'static str, &str)]) -> Seen {
        let map = headers(pairs);
        let cx =
            B3Propagator::default().extract_with_context(&Context::new(), &HeaderExtractor(&map));
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return None;
        }
        assert!(sc.is_remote());
        let debug = matches!(cx.get::<B3Debug>(), Some(B3Debug(Some(_))));
        Some((
            sc.trace_id().to_string(),
            sc.span_id().to_string(),
            sc.is_sampled(),
            debug,
        ))
    }

    fn ok(trace: &str, sampled: bool, debug: bool) -> Seen {
        Some((trace.to_owned(), SPAN.to_owned(), sampled, debug))
    }

    #[test]
    fn single_header_forms() {
        let padded = "000000000000000064fe8b2a57d3eff7";
        let cases: &[(String, Seen)] = &[
            (format!("{TRACE}-{SPAN}"), ok(TRACE, false, false)),
            (format!("{TRACE}-{SPAN}-1"), ok(TRACE, true, false)),
            (format!("{TRACE}-{SPAN}-0"), ok(TRACE, false, false)),
            (format!("{TRACE}-{SPAN}-d"), ok(TRACE, true, true)),
            (
                format!("{TRACE}-{SPAN}-1-05e3ac9a4f6e3b90"),
                ok(TRACE, true, false),
            ),
            (
                format!("64fe8b2a57d3eff7-{SPAN}-1"),
                ok(padded, true, false),
            ),
            ("1".to_owned(), None),
            ("0".to_owned(), None),
            ("d".to_owned(), None),
            (String::new(), None),
            (TRACE.to_owned(), None),
            (format!("{TRACE}-{SPAN}-"), None),
            (format!("{TRACE}-{SPAN}-true"), None),
            (format!("{TRACE}-{SPAN}-2"), None),
            (format!("{TRACE}-{SPAN}-1-"), None),
            (format!("{TRACE}-{SPAN}-1-0000000000000000"), None),
            (format!("{TRACE}-{SPAN}-1-05e3ac9a4f6e3b9"), None),
            (format!("{TRACE}-{SPAN}-1-05e3ac9a4f6e3b90-x"), None),
            (format!("{}-{SPAN}-1", TRACE.to_uppercase()), None),
            (format!("{TRACE}-{}-1", SPAN.to_uppercase()), None),
            (format!("{}-{SPAN}-1", "0".repeat(32)), None),
            (format!("{TRACE}-{}-1", "0".repeat(16)), None),
            (format!("{}-{SPAN}-1", &TRACE[..31]), None),
            (format!("{}-{SPAN}-1", &TRACE[..24]), None),
            (format!("{TRACE}-{}-1", &SPAN[..15]), None),
            (format!("+{}-{SPAN}-1", &TRACE[..31]), None),
            (format!("{TRACE}-+{}-1", &SPAN[..15]), None),
            (format!("{TRACE}-g457b5a2e4d86bd1-1"), None),
            (format!(" {TRACE}-{SPAN}-1"), None),
        ];
        for (value, expected) in cases {
            assert_eq!(&extract(&[("b3", value)]), expected, "b3: {value:?}");
        }
    }

    #[test]
    fn multi_header_forms() {
        let t = ("x-b3-traceid", TRACE);
        let s = ("x-b3-spanid", SPAN);
        let cases: &[(Vec<(&'static str, &str)>, Seen)] = &[
            (vec![t, s], ok(TRACE, false, false)),
            (vec![t, s, ("x-b3-sampled", "1")], ok(TRACE, true, false)),
            (vec![t, s, ("x-b3-sampled", "true")], ok(TRACE, true, false)),
            (vec![t, s, ("x-b3-sampled", "0")], ok(TRACE, false, false)),
            (
                vec![t, s, ("x-b3-sampled", "false")],
                ok(TRACE, false, false),
            ),
            (vec![t, s, ("x-b3-flags", "1")], ok(TRACE, true, true)),
            (
                vec![t, s, ("x-b3-sampled", "0"), ("x-b3-flags", "1")],
                ok(TRACE, true, true),
            ),
            (
                vec![t, s, ("x-b3-sampled", "1"), ("x-b3-flags", "0")],
                ok(TRACE, true, false),
            ),
            (
                vec![t, s, ("x-b3-parentspanid", "garbage")],
                ok(TRACE, false, false),
            ),
            (
                vec![
                    ("x-b3-traceid", "64fe8b2a57d3eff7"),
                    s,
                    ("x-b3-sampled", "1"),
                ],
                ok("000000000000000064fe8b2a57d3eff7", true, false),
            ),
            (vec![t], None),
            (vec![s, ("x-b3-sampled", "1")], None),
            (vec![("x-b3-sampled", "1")], None),
            (vec![t, s, ("x-b3-sampled", "True")], None),
            (vec![t, s, ("x-b3-sampled", "d")], None),
            (
                vec![t, s, ("x-b3-sampled", "1"), ("x-b3-sampled", "1")],
                None,
            ),
            (vec![t, t, s], None),
            (vec![t, s, ("x-b3-flags", "1"), ("x-b3-flags", "1")], None),
            (vec![("x-b3-traceid", "0000000000000000"), s], None),
            (vec![t, ("x-b3-spanid", "0000000000000000")], None),
            (
                vec![("x-b3-traceid", "80F198EE56343BA864FE8B2A57D3EFF7"), s],
                None,
            ),
            (vec![t, ("x-b3-spanid", "e457b5a2e4d86bd")], None),
        ];
        for (pairs, expected) in cases {
            assert_eq!(&extract(pairs), expected, "{pairs:?}");
        }
    }

    #[test]
    fn single_header_takes_precedence_and_falls_back() {
        let other = "0af7651916cd43dd8448eb211c80319c";
        let multi = [
            ("x-b3-traceid", other),
            ("x-b3-spanid", SPAN),
            ("x-b3-sampled", "1"),
        ];
        let single = format!("{TRACE}-{SPAN}-0");
        let mut pairs = vec![("b3", single.as_str())];
        pairs.extend(multi);
        assert_eq!(extract(&pairs), ok(TRACE, false, false));
        // An unusable (sampling only, repeated, invalid) single header falls back to multi.
        for b3 in [&["0"][..], &[single.as_str(), single.as_str()], &["junk"]] {
            let mut pairs: Vec<_> = b3.iter().map(|v| ("b3", *v)).collect();
            pairs.extend(multi);
            assert_eq!(extract(&pairs), ok(other, true, false), "{b3:?}");
        }
    }

    #[test]
    fn rejects_long_and_opaque_values() {
        let long = format!("{TRACE}-{SPAN}-1-{}", "a".repeat(600));
        assert_eq!(extract(&[("b3", &long)]), None);
        let mut map = HeaderMap::new();
        map.insert(
            "b3",
            HeaderValue::from_bytes(b"\xff").expect("opaque value"),
        );
        let cx =
            B3Propagator::default().extract_with_context(&Context::new(), &HeaderExtractor(&map));
        assert!(!cx.span().span_context().is_valid());
    }

    #[test]
    fn invalid_input_keeps_incoming_context() {
        let existing = SpanContext::new(
            TraceId::from(7),
            SpanId::from(9),
            TraceFlags::SAMPLED,
            true,
            TraceState::NONE,
        );
        let cx = Context::new().with_remote_span_context(existing.clone());
        let map = headers(&[("b3", "nonsense")]);
        let out = B3Propagator::default().extract_with_context(&cx, &HeaderExtractor(&map));
        assert_eq!(out.span().span_context(), &existing);
    }

    fn inject(encoding: B3Encoding, cx: &Context) -> HeaderMap {
        let mut map = HeaderMap::new();
        B3Propagator::new(encoding).inject_context(cx, &mut HeaderInjector(&mut map));
        map
    }

    #[test]
    fn injects_each_encoding() {
        let map = headers(&[("b3", &format!("{TRACE}-{SPAN}-1"))]);
        let cx =
            B3Propagator::default().extract_with_context(&Context::new(), &HeaderExtractor(&map));
        let single = inject(B3Encoding::SingleHeader, &cx);
        assert_eq!(single.len(), 1);
        assert_eq!(single["b3"], format!("{TRACE}-{SPAN}-1"));
        let multi = inject(B3Encoding::MultipleHeader, &cx);
        assert_eq!(multi.len(), 3);
        assert_eq!(multi["x-b3-traceid"], TRACE);
        assert_eq!(multi["x-b3-spanid"], SPAN);
        assert_eq!(multi["x-b3-sampled"], "1");
        assert_eq!(inject(B3Encoding::SingleAndMultiHeader, &cx).len(), 4);
    }

    #[test]
    fn debug_is_propagated_for_the_same_trace_only() {
        let map = headers(&[("b3", &format!("{TRACE}-{SPAN}-d"))]);
        let cx =
            B3Propagator::default().extract_with_context(&Context::new(), &HeaderExtractor(&map));
        assert_eq!(
            inject(B3Encoding::SingleHeader, &cx)["b3"],
            format!("{TRACE}-{SPAN}-d")
        );
        let multi = inject(B3Encoding::MultipleHeader, &cx);
        assert_eq!(multi["x-b3-flags"], "1");
        assert!(multi.get("x-b3-sampled").is_none());
        // A later non-debug extraction on top clears the mark.
        let map = headers(&[("b3", &format!("{TRACE}-{SPAN}-1"))]);
        let cx2 = B3Propagator::default().extract_with_context(&cx, &HeaderExtractor(&map));
        assert_eq!(
            inject(B3Encoding::SingleHeader, &cx2)["b3"],
            format!("{TRACE}-{SPAN}-1")
        );
        // Another trace in the same context is not debug.
        let other = SpanContext::new(
            TraceId::from(1),
            SpanId::from(2),
            TraceFlags::SAMPLED,
            false,
            TraceState::NONE,
        );
        let cx3 = cx.with_remote_span_context(other);
        assert!(
            inject(B3Encoding::SingleHeader, &cx3)["b3"]
                .to_str()
                .expect("ascii")
                .ends_with("-1")
        );
    }

    #[test]
    fn nothing_injected_for_invalid_context() {
        assert!(inject(B3Encoding::SingleAndMultiHeader, &Context::new()).is_empty());
    }

    #[test]
    fn fields_follow_encoding() {
        let fields = |e| {
            B3Propagator::new(e)
                .fields()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(B3Encoding::SingleHeader), ["b3"]);
        assert_eq!(
            fields(B3Encoding::MultipleHeader),
            ["x-b3-traceid", "x-b3-spanid", "x-b3-sampled", "x-b3-flags"]
        );
        assert_eq!(fields(B3Encoding::SingleAndMultiHeader).len(), 5);
        assert_eq!(B3Propagator::default().encoding(), B3Encoding::SingleHeader);
    }
}
