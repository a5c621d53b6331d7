//! The W3C Baggage propagator.
//!
//! Extraction: repeated `baggage` headers form one list; a malformed member
//! is skipped without affecting the others; at most 64 members and 8192
//! bytes are taken, whole members only. Injection: the same limits, never a
//! partial member; values are percent-encoded, `+` included (as `%2B`), so
//! that stacks which decode values as form data (the OpenTelemetry Python
//! SDK turns a bare `+` into a space) read back the same value. Decoding
//! replaces percent-encoded bytes that are not UTF-8 with U+FFFD.

use opentelemetry::baggage::{BaggageExt, BaggageMetadata, KeyValueMetadata};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::{Context, Key, StringValue};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use std::sync::OnceLock;

const BAGGAGE: &str = "baggage";
/// Members propagated at most (W3C: at least 64), on extraction and injection.
///
/// ```
/// use otel_http::propagation::parse_baggage;
/// let list: Vec<String> = (0..70).map(|i| format!("k{i}=v")).collect();
/// let members = parse_baggage(&[&list.join(",")]);
/// assert_eq!(members.len(), 64); // the first 64, in order
/// assert_eq!(members[63].key, "k63");
/// ```
pub const MAX_MEMBERS: usize = 64;
/// Bytes propagated at most, separators included (W3C: at least 8192), on
/// extraction and injection; a member that does not fit is left out whole.
///
/// ```
/// use otel_http::propagation::parse_baggage;
/// let big = |key: &str| format!("{key}={}", "v".repeat(3998)); // 4000 bytes
/// let header = format!("{},{},{}", big("a"), big("b"), big("c"));
/// let members = parse_baggage(&[&header]);
/// // 4000 + 1 + 4000 bytes fit in 8192; a third member would not.
/// assert_eq!(members.len(), 2);
/// ```
pub const MAX_BYTES: usize = 8192;

/// Characters percent-encoded in a value: everything outside `baggage-octet`
/// (%x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E), `%` itself, and `+`,
/// which W3C Baggage allows bare but form decoders (Python's `unquote_plus`)
/// read as a space.
const VALUE_ENCODE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'+')
    .add(b'"')
    .add(b',')
    .add(b';')
    .add(b'\\')
    .add(b'%')
    .add(0x7f);

/// RFC 7230 `token`.
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn valid_encoded_value(value: &str) -> bool {
    value.bytes().all(|b| {
        b == 0x21
            || (0x23..=0x2b).contains(&b)
            || (0x2d..=0x3a).contains(&b)
            || (0x3c..=0x5b).contains(&b)
            || (0x5d..=0x7e).contains(&b)
    })
}

/// One decoded baggage list member, as [`parse_baggage`] returns it; it
/// converts into the API's [`KeyValueMetadata`].
///
/// ```
/// use opentelemetry::Context;
/// use opentelemetry::baggage::{BaggageExt, KeyValueMetadata};
/// use otel_http::propagation::{BaggageMember, parse_baggage};
///
/// let members = parse_baggage(&["user = J%C3%BCrgen ; ttl=30;internal"]);
/// assert_eq!(
///     members,
///     [BaggageMember {
///         key: "user".into(),
///         value: "Jürgen".into(),
///         properties: "ttl=30;internal".into(),
///     }]
/// );
/// let cx = Context::new().with_baggage(members.into_iter().map(KeyValueMetadata::from));
/// let (value, metadata) = cx.baggage().get_with_metadata("user").unwrap();
/// assert_eq!((value.as_str(), metadata.as_str()), ("Jürgen", "ttl=30;internal"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaggageMember {
    /// The key, without surrounding whitespace.
    pub key: String,
    /// The value, percent-decoded, without surrounding whitespace.
    pub value: String,
    /// The properties after the first `;`, as received but for surrounding
    /// whitespace (empty when none).
    pub properties: String,
}

impl From<BaggageMember> for KeyValueMetadata {
    fn from(m: BaggageMember) -> Self {
        KeyValueMetadata::new(
            Key::new(m.key),
            StringValue::from(m.value),
            BaggageMetadata::from(m.properties),
        )
    }
}

/// One `key=value;properties` member, or `None` when malformed.
fn parse_member(member: &str) -> Option<BaggageMember> {
    let (pair, properties) = match member.split_once(';') {
        Some((p, props)) => (p, Some(props)),
        None => (member, None),
    };
    let (key, value) = pair.split_once('=')?;
    let (key, value) = (
        key.trim_matches([' ', '\t']),
        value.trim_matches([' ', '\t']),
    );
    if !valid_key(key) || !valid_encoded_value(value) {
        return None;
    }
    // W3C Baggage, "value": percent-encoded octet sequences that are not
    // UTF-8 are replaced with U+FFFD, the member kept.
    let value = percent_decode_str(value).decode_utf8_lossy();
    let properties = match properties {
        None => String::new(),
        Some(props) => {
            for prop in props.split(';') {
                let prop = prop.trim_matches([' ', '\t']);
                let name = prop
                    .split_once('=')
                    .map_or(prop, |(k, _)| k)
                    .trim_matches([' ', '\t']);
                if !valid_key(name) {
                    return None;
                }
            }
            props.trim_matches([' ', '\t']).to_owned()
        }
    };
    Some(BaggageMember {
        key: key.to_owned(),
        value: value.into_owned(),
        properties,
    })
}

/// Parses the values of every `baggage` header within the limits.
///
/// ```
/// use otel_http::propagation::parse_baggage;
/// let members = parse_baggage(&["user=alice%20b, broken, tier=gold;ttl=30, sum=1+1, bad=%FFok"]);
/// assert_eq!(members.len(), 4);
/// assert_eq!(members[0].value, "alice b");
/// assert_eq!(members[1].properties, "ttl=30");
/// assert_eq!(members[2].value, "1+1"); // a bare `+` is a plus sign
/// assert_eq!(members[3].value, "\u{FFFD}ok"); // not UTF-8: replaced, not dropped
/// ```
pub fn parse_baggage(values: &[&str]) -> Vec<BaggageMember> {
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for value in values {
        for member in value.split(',') {
            let member = member.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            let cost = member.len() + usize::from(bytes > 0);
            if out.len() == MAX_MEMBERS || bytes + cost > MAX_BYTES {
                return out; // never a partial member, never beyond the limits
            }
            if let Some(kv) = parse_member(member) {
                bytes += cost;
                out.push(kv);
            }
        }
    }
    out
}

fn format_member(key: &str, value: &str, metadata: &str) -> String {
    let mut m = format!("{key}={}", utf8_percent_encode(value, VALUE_ENCODE));
    // Metadata is sent only when it is valid properties: never a `,` that
    // would smuggle in another member, nor a byte that invalidates the header.
    let metadata = metadata.trim_matches([' ', '\t']);
    if !metadata.is_empty() && valid_properties(metadata) {
        m.push(';');
        m.push_str(metadata);
    }
    m
}

/// `name` or `name=value` properties separated by `;`, each valid.
fn valid_properties(props: &str) -> bool {
    props.split(';').all(|prop| {
        let prop = prop.trim_matches([' ', '\t']);
        match prop.split_once('=') {
            Some((name, value)) => {
                valid_key(name.trim_matches([' ', '\t']))
                    && valid_encoded_value(value.trim_matches([' ', '\t']))
            }
            None => valid_key(prop),
        }
    })
}

/// W3C Baggage, with the specification's limits on both sides.
///
/// ```
/// use opentelemetry::baggage::BaggageExt;
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::{Context, KeyValue};
/// use otel_http::carrier::HeaderInjector;
/// use otel_http::propagation::W3cBaggagePropagator;
///
/// let cx = Context::new().with_baggage([KeyValue::new("user", "alice b")]);
/// let mut headers = http::HeaderMap::new();
/// W3cBaggagePropagator::new().inject_context(&cx, &mut HeaderInjector(&mut headers));
/// assert_eq!(headers["baggage"], "user=alice%20b");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct W3cBaggagePropagator {
    _private: (),
}

impl W3cBaggagePropagator {
    /// The propagator (the same as [`Default`]): it reads and writes the `baggage` header.
    ///
    /// ```
    /// use opentelemetry::baggage::BaggageExt;
    /// use opentelemetry::propagation::TextMapPropagator;
    /// use otel_http::carrier::HeaderExtractor;
    /// use otel_http::propagation::W3cBaggagePropagator;
    ///
    /// let propagator = W3cBaggagePropagator::new();
    /// assert_eq!(propagator.fields().collect::<Vec<_>>(), ["baggage"]);
    ///
    /// // A malformed member is skipped; the others are kept.
    /// let mut incoming = http::HeaderMap::new();
    /// incoming.insert("baggage", "user=alice,no-equals-sign,tier=gold".parse().unwrap());
    /// let cx = propagator.extract(&HeaderExtractor(&incoming));
    /// assert_eq!(cx.baggage().len(), 2);
    /// assert_eq!(cx.baggage().get("tier").map(|v| v.as_str()), Some("gold"));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// [`extract_with_context`](TextMapPropagator::extract_with_context)
    /// from a `HeaderMap`'s `baggage` values themselves
    /// (`carrier::w3c_values`), without the extractor's `Vec`.
    pub(crate) fn extract_from_values(cx: &Context, values: Option<&[&str]>) -> Context {
        with_members(cx, values)
    }
}

/// `cx` with the members of the `baggage` header values, if any.
fn with_members(cx: &Context, values: Option<&[&str]>) -> Context {
    let members = values.map(parse_baggage).unwrap_or_default();
    if members.is_empty() {
        cx.clone()
    } else {
        cx.with_baggage(members.into_iter().map(KeyValueMetadata::from))
    }
}

impl TextMapPropagator for W3cBaggagePropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let mut header = String::new();
        let mut count = 0;
        for (key, (value, metadata)) in cx.baggage() {
            if count == MAX_MEMBERS {
                break;
            }
            if !valid_key(key.as_str()) {
                continue;
            }
            let member = format_member(key.as_str(), value.as_str(), metadata.as_str());
            let extra = member.len() + usize::from(!header.is_empty());
            if header.len() + extra > MAX_BYTES {
                continue; // a smaller member may still fit
            }
            if !header.is_empty() {
                header.push(',');
            }
            header.push_str(&member);
            count += 1;
        }
        if !header.is_empty() {
            injector.set(BAGGAGE, header);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        with_members(cx, extractor.get_all(BAGGAGE).as_deref())
    }

    fn fields(&self) -> FieldIter<'_> {
        static NAMES: OnceLock<[String; 1]> = OnceLock::new();
        FieldIter::new(NAMES.get_or_init(|| [BAGGAGE.to_owned()]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_cannot_smuggle_members_or_break_the_header() {
        use opentelemetry::baggage::{BaggageExt, BaggageMetadata, KeyValueMetadata};
        use opentelemetry::propagation::TextMapPropagator;
        let cx = opentelemetry::Context::new().with_baggage([
            KeyValueMetadata::new("user", "alice", BaggageMetadata::from("p,admin=true")),
            KeyValueMetadata::new("tier", "gold", BaggageMetadata::from("ttl=30;internal")),
            KeyValueMetadata::new("bad", "x", BaggageMetadata::from("a\u{7}b")),
        ]);
        let mut carrier = std::collections::HashMap::new();
        W3cBaggagePropagator::new().inject_context(&cx, &mut carrier);
        let header = carrier.get("baggage").expect("baggage sent");
        let members = parse_baggage(&[header.as_str()]);
        let keys: Vec<&str> = members.iter().map(|m| m.key.as_str()).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, ["bad", "tier", "user"], "{header}");
        let tier = members.iter().find(|m| m.key == "tier").expect("tier");
        assert_eq!(tier.properties, "ttl=30;internal");
        assert!(members.iter().all(|m| m.key != "admin"));
    }

    #[test]
    fn members_and_properties() {
        let m = parse_baggage(&["a=1;p1;p2=x", "b = two%2Cthree ", "c="]);
        let got: Vec<(String, String, String)> = m
            .iter()
            .map(|kv| {
                (
                    kv.key.to_string(),
                    kv.value.to_string(),
                    kv.properties.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("a".into(), "1".into(), "p1;p2=x".into()),
                ("b".into(), "two,three".into(), String::new()),
                ("c".into(), String::new(), String::new()),
            ]
        );
    }

    #[test]
    fn malformed_members_are_skipped_alone() {
        let m = parse_baggage(&["ok=1,=novalue,noequals,bad key=1,x=\"q\",z=2;bad prop"]);
        assert_eq!(
            m.iter().map(|kv| kv.key.as_str()).collect::<Vec<_>>(),
            vec!["ok"]
        );
    }

    #[test]
    fn limits_take_whole_members_only() {
        let many: Vec<String> = (0..70).map(|i| format!("k{i}=v")).collect();
        assert_eq!(parse_baggage(&[&many.join(",")]).len(), MAX_MEMBERS);
        // Two headers count together.
        let half: Vec<String> = (0..40).map(|i| format!("a{i}=v")).collect();
        let other: Vec<String> = (0..40).map(|i| format!("b{i}=v")).collect();
        assert_eq!(
            parse_baggage(&[&half.join(","), &other.join(",")]).len(),
            MAX_MEMBERS
        );
        // 8192 bytes: three members of 4000 bytes, the third does not fit.
        let big = |k: &str| format!("{k}={}", "v".repeat(3998));
        let m = parse_baggage(&[&format!("{},{},{}", big("a"), big("b"), big("c"))]);
        assert_eq!(m.len(), 2);
    }

    // W3C Baggage, "value": percent-encoded octets that are not UTF-8 decode
    // to U+FFFD (one per maximal invalid subsequence), the member kept.
    #[test]
    fn invalid_utf8_is_replaced_not_dropped() {
        let m = parse_baggage(&["y=%FF,z=a%C3%28b,w=%E2%82,ok=%C3%BC"]);
        let values: Vec<&str> = m.iter().map(|kv| kv.value.as_str()).collect();
        assert_eq!(values, ["\u{FFFD}", "a\u{FFFD}(b", "\u{FFFD}", "ü"]);
    }

    #[test]
    fn values_are_encoded_on_injection() {
        assert_eq!(
            format_member("k", "a b,c;d%e\"", ""),
            "k=a%20b%2Cc%3Bd%25e%22"
        );
        // W3C allows a bare `+`, but form decoders read it as a space.
        assert_eq!(format_member("k", "1+1 = 2", ""), "k=1%2B1%20=%202");
        assert_eq!(format_member("k", "ü", "p=1"), "k=%C3%BC;p=1");
    }
}
