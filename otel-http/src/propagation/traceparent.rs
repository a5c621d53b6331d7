//! The `traceparent` header (W3C Trace Context Level 2, section 3.2).

use opentelemetry::trace::{SpanId, TraceFlags, TraceId};

/// The flags this implementation understands and forwards: sampled (0x01)
/// and random (0x02). Other bits are reserved and dropped.
pub(crate) const KNOWN_FLAGS: u8 = 0x03;

/// The ids and flags of a valid `traceparent`, as [`parse_traceparent`]
/// returns them.
///
/// ```
/// use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
/// use otel_http::propagation::{TraceParent, format_traceparent, parse_traceparent};
///
/// let tp = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09").unwrap();
/// assert_eq!(
///     tp,
///     TraceParent {
///         trace_id: TraceId::from(0x4bf92f3577b34da6a3ce929d0e0e4736),
///         parent_id: SpanId::from(0x00f067aa0ba902b7),
///         flags: TraceFlags::SAMPLED, // 0x09: the reserved bit 0x08 is cleared
///     }
/// );
/// assert_eq!(
///     format_traceparent(tp.trace_id, tp.parent_id, tp.flags),
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace id (never all zero).
    pub trace_id: TraceId,
    /// The caller's span id (never all zero).
    pub parent_id: SpanId,
    /// Sampled and random flags; reserved bits cleared.
    pub flags: TraceFlags,
}

/// Each byte's value as a lowercase hex digit, or `INVALID` (uppercase is
/// invalid in `traceparent`): one table read per digit on the request path.
const HEX: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};
const INVALID: u8 = 0xff;

/// Parses exactly `2 * N` lowercase hex digits.
fn hex_bytes<const N: usize>(s: &[u8]) -> Option<[u8; N]> {
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    // Any invalid digit sets bits 4-7 of `bad` (INVALID is 0xff, digits < 16).
    let mut bad = 0u8;
    for (byte, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let (high, low) = (HEX[usize::from(pair[0])], HEX[usize::from(pair[1])]);
        bad |= high | low;
        *byte = (high << 4) | (low & 0x0f);
    }
    (bad < 16).then_some(out)
}

/// Eight lowercase hex digits as four bytes, eight digits at a time in one
/// 64-bit word (the ids are 48 of a `traceparent`'s 55 characters; a table
/// read per digit cost about 500 instructions per header).
fn hex_word(digits: &[u8]) -> Option<[u8; 4]> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let x = u64::from_le_bytes(digits.try_into().ok()?);
    if x & HIGH != 0 {
        return None; // not ASCII
    }
    // Per byte, with every byte below 0x80 no subtraction borrows from its
    // neighbour: the high bit says `byte >= lo`, or `byte <= hi`.
    let at_least = |lo: u64| ((x | HIGH) - lo * ONES) & HIGH;
    let at_most = |hi: u64| (((hi * ONES) | HIGH) - x) & HIGH;
    let digit = at_least(0x30) & at_most(0x39);
    let letter = at_least(0x61) & at_most(0x66);
    if digit | letter != HIGH {
        return None;
    }
    // '0'..'9' are 0x30..0x39, 'a'..'f' 0x61..0x66 (bit 6 set: add 9).
    let letters = (x >> 6) & ONES;
    let nibbles = (x & (0x0f * ONES)) + (letters << 3) + letters;
    // Two nibbles to a byte (the first digit is the high one), in the even
    // bytes; then the four even bytes together.
    let pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00ff_00ff_00ff_00ff;
    let pairs = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
    let packed = (pairs | (pairs >> 16)) as u32;
    Some(packed.to_le_bytes())
}

/// Exactly `2 * N` lowercase hex digits, `N` a multiple of 4, eight at a
/// time.
fn hex_words<const N: usize>(s: &[u8]) -> Option<[u8; N]> {
    if s.len() != 2 * N || !N.is_multiple_of(4) {
        return None;
    }
    let mut out = [0u8; N];
    for (bytes, digits) in out.chunks_exact_mut(4).zip(s.chunks_exact(8)) {
        bytes.copy_from_slice(&hex_word(digits)?);
    }
    Some(out)
}

/// `value` without the spaces and tabs HTTP allows around a field value:
/// what `str::trim_matches([' ', '\t'])` gives, on the bytes (its char
/// pattern decodes UTF-8 and cost about 55 instructions per header).
fn trim_whitespace(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    value
}

/// Parses one `traceparent` value, or `None` when it is invalid.
///
/// ```
/// use otel_http::propagation::parse_traceparent;
/// let tp = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03").unwrap();
/// assert_eq!(tp.flags.to_u8(), 0x03); // sampled and random, both kept
/// assert!(parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").is_none());
/// ```
pub fn parse_traceparent(value: &str) -> Option<TraceParent> {
    parse_traceparent_bytes(value.as_bytes())
}

/// [`parse_traceparent`] of a header value's bytes, which need no check
/// that they are UTF-8: only hex digits and dashes are accepted.
pub(crate) fn parse_traceparent_bytes(value: &[u8]) -> Option<TraceParent> {
    let s = trim_whitespace(value);
    if s.len() < 55 || s[2] != b'-' || s[35] != b'-' || s[52] != b'-' {
        return None;
    }
    let [version] = hex_bytes::<1>(&s[0..2])?;
    match version {
        0xff => return None,
        // Version 00 has exactly four fields and nothing after them.
        0x00 if s.len() != 55 => return None,
        // A later version may append fields, each after a '-'.
        _ if s.len() > 55 && s[55] != b'-' => return None,
        _ => {}
    }
    let trace_id = TraceId::from_bytes(hex_words::<16>(&s[3..35])?);
    let parent_id = SpanId::from_bytes(hex_words::<8>(&s[36..52])?);
    let [flags] = hex_bytes::<1>(&s[53..55])?;
    if trace_id == TraceId::INVALID || parent_id == SpanId::INVALID {
        return None;
    }
    Some(TraceParent {
        trace_id,
        parent_id,
        flags: TraceFlags::new(flags & KNOWN_FLAGS),
    })
}

/// Formats a version-00 `traceparent` (also the `traceresponse` format), with
/// only the sampled and random flags.
///
/// ```
/// use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
/// let v = otel_http::propagation::format_traceparent(TraceId::from(1u128), SpanId::from(2u64), TraceFlags::new(0xff));
/// assert_eq!(v, "00-00000000000000000000000000000001-0000000000000002-03");
/// ```
pub fn format_traceparent(trace_id: TraceId, span_id: SpanId, flags: TraceFlags) -> String {
    // Only ASCII hex digits and '-' are written: the check cannot fail,
    // and `from_utf8` does it a word at a time (`from_utf8_lossy` cost
    // about 400 instructions here).
    String::from_utf8(traceparent_bytes(trace_id, span_id, flags).to_vec()).unwrap_or_default()
}

/// The bytes of [`format_traceparent`]'s value.
pub(crate) fn traceparent_bytes(trace_id: TraceId, span_id: SpanId, flags: TraceFlags) -> [u8; 55] {
    // Sixteen digits at a time (`hex16`), no formatting machinery: this
    // runs on every outgoing request.
    let mut out = [b'-'; 55];
    out[0] = b'0';
    out[1] = b'0';
    let trace = u128::from_be_bytes(trace_id.to_bytes());
    out[3..19].copy_from_slice(&hex16((trace >> 64) as u64));
    out[19..35].copy_from_slice(&hex16(trace as u64));
    out[36..52].copy_from_slice(&hex16(u64::from_be_bytes(span_id.to_bytes())));
    out[53..55].copy_from_slice(&HEX_PAIRS[usize::from(flags.to_u8() & KNOWN_FLAGS)]);
    out
}

/// The sixteen lowercase hex digits of `value`, most significant first,
/// computed eight at a time: each half's nibbles are spread one per byte,
/// then `'0'` is added to every byte, and `'a' - '0' - 10` more to those
/// above 9 (a byte plus 6 carries into bit 4 exactly then).
fn hex16(value: u64) -> [u8; 16] {
    fn eight(half: u32) -> [u8; 8] {
        let mut x = u64::from(half);
        x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
        x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
        x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
        let letters = ((x + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
        (x + 0x3030_3030_3030_3030 + letters * u64::from(b'a' - b'0' - 10)).to_be_bytes()
    }
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&eight((value >> 32) as u32));
    out[8..].copy_from_slice(&eight(value as u32));
    out
}

/// The two lowercase hex digits of every byte.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [HEX[i >> 4], HEX[i & 0xf]];
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";

    // The word-at-a-time decoder against the table, one digit at a time:
    // every byte value at every position of a word, around valid digits.
    #[test]
    fn words_decode_as_the_table_does_for_every_byte_at_every_position() {
        for base in [
            *b"0123abcd",
            *b"fedc9876",
            *b"00000000",
            *b"ffffffff",
            *b"9a9a9a9a",
        ] {
            for position in 0..8 {
                for byte in 0..=255u8 {
                    let mut word = base;
                    word[position] = byte;
                    assert_eq!(hex_word(&word), hex_bytes::<4>(&word), "{word:?}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn words_decode_as_the_table_does(
            word in proptest::array::uniform8(proptest::sample::select(
                b"0123456789abcdefABCDEFgz-/:@`\x00\x7f\x80\xb0\xe1\xff".to_vec()
            )),
            any_bytes in proptest::array::uniform8(proptest::num::u8::ANY),
        ) {
            proptest::prop_assert_eq!(hex_word(&word), hex_bytes::<4>(&word));
            proptest::prop_assert_eq!(hex_word(&any_bytes), hex_bytes::<4>(&any_bytes));
        }

        // The byte trim against the char trim it replaces: spaces and tabs
        // on either side, inside, alone, and beside other whitespace and
        // multi-byte characters.
        #[test]
        fn whitespace_is_trimmed_as_trim_matches_trims_it(
            value in "[ \t]{0,3}[ \t\r\n\u{a0}a-z0-9é-]{0,8}[ \t]{0,3}",
        ) {
            proptest::prop_assert_eq!(
                trim_whitespace(value.as_bytes()),
                value.trim_matches([' ', '\t']).as_bytes()
            );
        }
    }

    // The eight-at-a-time encoder against the table: every byte value at
    // every position, and any value against `format!`.
    #[test]
    fn hex16_writes_what_the_table_does() {
        let table = |value: u64| -> Vec<u8> {
            value
                .to_be_bytes()
                .iter()
                .flat_map(|b| HEX_PAIRS[usize::from(*b)])
                .collect()
        };
        for base in [0u64, u64::MAX, 0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210] {
            for position in 0..8 {
                for byte in 0..=255u64 {
                    let value = (base & !(0xff << (8 * position))) | (byte << (8 * position));
                    assert_eq!(hex16(value).to_vec(), table(value), "{value:#x}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn hex16_matches_the_table(value in proptest::num::u64::ANY) {
            let expected = format!("{value:016x}");
            proptest::prop_assert_eq!(&hex16(value)[..], expected.as_bytes());
        }
    }

    #[test]
    fn formatting_matches_the_display_of_the_ids() {
        let trace_id = TraceId::from_hex(TRACE).expect("trace id");
        let span_id = SpanId::from_hex(SPAN).expect("span id");
        for flags in [0u8, 1, 2, 3, 0xff] {
            assert_eq!(
                format_traceparent(trace_id, span_id, TraceFlags::new(flags)),
                format!("00-{trace_id}-{span_id}-{:02x}", flags & KNOWN_FLAGS)
            );
        }
    }

    fn tp(version: &str, trace: &str, span: &str, flags: &str) -> String {
        format!("{version}-{trace}-{span}-{flags}")
    }

    #[test]
    fn valid_forms() {
        let cases: &[(String, u8)] = &[
            (tp("00", TRACE, SPAN, "00"), 0x00),
            (tp("00", TRACE, SPAN, "01"), 0x01),
            (tp("00", TRACE, SPAN, "02"), 0x02),
            (tp("00", TRACE, SPAN, "03"), 0x03),
            // Reserved bits are dropped, known ones kept.
            (tp("00", TRACE, SPAN, "ff"), 0x03),
            (tp("00", TRACE, SPAN, "09"), 0x01),
            // Surrounding optional whitespace.
            (format!(" \t{}\t ", tp("00", TRACE, SPAN, "01")), 0x01),
            // Higher versions: the first four fields, the rest ignored.
            (tp("01", TRACE, SPAN, "01"), 0x01),
            (
                format!("{}-what-the-future-holds", tp("cc", TRACE, SPAN, "01")),
                0x01,
            ),
            (format!("{}-", tp("fe", TRACE, SPAN, "00")), 0x00),
        ];
        for (value, flags) in cases {
            let parsed = parse_traceparent(value).unwrap_or_else(|| panic!("{value:?} is valid"));
            assert_eq!(parsed.trace_id.to_string(), TRACE, "{value:?}");
            assert_eq!(parsed.parent_id.to_string(), SPAN, "{value:?}");
            assert_eq!(parsed.flags.to_u8(), *flags, "{value:?}");
        }
    }

    #[test]
    fn invalid_forms() {
        let zeros_trace = "0".repeat(32);
        let zeros_span = "0".repeat(16);
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty"),
            (tp("ff", TRACE, SPAN, "01"), "version ff"),
            (tp("0", TRACE, SPAN, "01"), "one-digit version"),
            (tp("000", TRACE, SPAN, "01"), "three-digit version"),
            (tp("0g", TRACE, SPAN, "01"), "non-hex version"),
            (
                tp("00", &TRACE.to_uppercase(), SPAN, "01"),
                "uppercase trace id",
            ),
            (
                tp("00", TRACE, &SPAN.to_uppercase(), "01"),
                "uppercase span id",
            ),
            (tp("00", TRACE, SPAN, "0A"), "uppercase flags"),
            (tp("00", &TRACE[1..], SPAN, "01"), "31-digit trace id"),
            (
                tp("00", &format!("{TRACE}0"), SPAN, "01"),
                "33-digit trace id",
            ),
            (tp("00", TRACE, &SPAN[1..], "01"), "15-digit span id"),
            (
                tp("00", TRACE, &format!("{SPAN}0"), "01"),
                "17-digit span id",
            ),
            (tp("00", TRACE, SPAN, "1"), "one-digit flags"),
            (tp("00", TRACE, SPAN, "011"), "three-digit flags"),
            (tp("00", TRACE, SPAN, "+1"), "sign in flags"),
            (
                tp("00", &format!("+{}", &TRACE[1..]), SPAN, "01"),
                "sign in trace id",
            ),
            (
                tp("00", TRACE, &format!("-{}", &SPAN[1..]), "01"),
                "sign in span id",
            ),
            (tp("00", &zeros_trace, SPAN, "01"), "all-zero trace id"),
            (tp("00", TRACE, &zeros_span, "01"), "all-zero parent id"),
            (
                format!("{}-extra", tp("00", TRACE, SPAN, "01")),
                "data after version 00",
            ),
            (
                format!("{}-", tp("00", TRACE, SPAN, "01")),
                "trailing dash on version 00",
            ),
            (
                format!("{}x", tp("01", TRACE, SPAN, "01")),
                "higher version without '-' after flags",
            ),
            (
                tp("00", TRACE, SPAN, "01").replace('-', "_"),
                "wrong separators",
            ),
            (tp("00", TRACE, SPAN, "01")[..54].to_owned(), "too short"),
            (tp("01", TRACE, SPAN, "0"), "higher version, too short"),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0é".to_owned(),
                "non-ASCII",
            ),
        ];
        for (value, why) in cases {
            assert_eq!(parse_traceparent(&value), None, "{why}: {value:?}");
        }
    }

    #[test]
    fn formats_version_00_with_known_flags_only() {
        let tp = parse_traceparent(&tp("00", TRACE, SPAN, "03")).expect("valid");
        assert_eq!(
            format_traceparent(tp.trace_id, tp.parent_id, tp.flags),
            format!("00-{TRACE}-{SPAN}-03")
        );
        assert_eq!(
            format_traceparent(tp.trace_id, tp.parent_id, TraceFlags::new(0xff)),
            format!("00-{TRACE}-{SPAN}-03")
        );
    }
}
