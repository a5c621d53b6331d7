//! JSON string escaping that stays correct for hostile values: quotes,
//! backslashes, every control character (so a value can neither end the line
//! nor inject terminal escapes), U+2028/U+2029, and bytes that are not UTF-8.

use std::fmt::{self, Write as _};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// For each byte: 0 = copy as is, `u` = `\u00XX`, `E` = maybe U+2028/U+2029,
/// anything else = a backslash followed by that byte.
static ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table[0x7f] = b'u';
    table[0xe2] = b'E';
    table
};

/// Whether any of the 8 bytes of `chunk` may need escaping: a control
/// character, `"`, `\\`, DEL, or any non-ASCII byte (U+2028/U+2029 are
/// checked byte by byte).
#[inline]
fn needs_a_look(chunk: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below_space = chunk.wrapping_sub(ONES * 0x20) & !chunk & HIGH;
    (below_space
        | zero_byte(chunk ^ (ONES * u64::from(b'"')))
        | zero_byte(chunk ^ (ONES * u64::from(b'\\')))
        | zero_byte(chunk ^ (ONES * 0x7f))
        | (chunk & HIGH))
        != 0
}

/// Appends `s` escaped for the inside of a JSON string (no surrounding quotes).
pub(crate) fn push_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time (the last chunk padded with a harmless `a`).
        let chunk = &bytes[i..bytes.len().min(i + 8)];
        let mut word = [b'a'; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        if !needs_a_look(u64::from_le_bytes(word)) {
            i += chunk.len();
            continue;
        }
        let b = bytes[i];
        let escape = ESCAPES[b as usize];
        if escape == 0 {
            i += 1;
            continue;
        }
        if escape == b'E' {
            // U+2028 (E2 80 A8) and U+2029 (E2 80 A9) end a line for JavaScript.
            match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(0x80), Some(&last @ (0xa8 | 0xa9))) => {
                    out.extend_from_slice(&bytes[start..i]);
                    out.extend_from_slice(if last == 0xa8 { b"\\u2028" } else { b"\\u2029" });
                    i += 3;
                    start = i;
                }
                _ => i += 1,
            }
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if escape == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Bytes that may not be UTF-8, displayed with each invalid sequence as U+FFFD.
pub(crate) struct Lossy<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_char('\u{fffd}')?;
            }
        }
        Ok(())
    }
}

/// Appends `"` + escaped `s` + `"`.
pub(crate) fn push_quoted(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    push_escaped(out, s);
    out.push(b'"');
}

/// Lowercase hex of `bytes` (at most 16 of them).
pub(crate) fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut text = [0u8; 32];
    for (pair, b) in text.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX[(b >> 4) as usize];
        pair[1] = HEX[(b & 0xf) as usize];
    }
    out.extend_from_slice(&text[..2 * bytes.len().min(16)]);
}

/// A `fmt::Write` that escapes as it goes, so `Debug` and `Display` output is
/// written straight into the line without an intermediate `String`.
pub(crate) struct EscapingWriter<'a>(pub(crate) &'a mut Vec<u8>);

impl fmt::Write for EscapingWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        push_escaped(self.0, s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = Vec::new();
        push_quoted(&mut out, s);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn plain_text_is_copied() {
        assert_eq!(escaped("order 42 é ✓"), "\"order 42 é ✓\"");
    }

    #[test]
    fn quotes_backslashes_and_controls_are_escaped() {
        assert_eq!(
            escaped("a\"b\\c\nd\re\tf\u{8}\u{c}\u{0}\u{1b}[31m\u{7f}"),
            r#""a\"b\\c\nd\re\tf\b\f\u0000\u001b[31m\u007f""#
        );
    }

    #[test]
    fn every_byte_in_every_position_of_a_chunk_is_checked() {
        for position in 0..16 {
            for c in 0u8..0x80 {
                let text = char::from(c).to_string();
                let mut s = "a".repeat(16);
                s.replace_range(position..position + 1, &text);
                let json = escaped(&s);
                let back: String = serde_json::from_str(&json).expect("valid JSON");
                assert_eq!(back, s);
                assert_eq!(
                    json.len() == s.len() + 2,
                    c >= 0x20 && c != b'"' && c != b'\\' && c != 0x7f
                );
            }
        }
    }

    #[test]
    fn line_separators_are_escaped_other_e2_sequences_are_not() {
        assert_eq!(escaped("x\u{2028}y\u{2029}z"), r#""x\u2028y\u2029z""#);
        assert_eq!(escaped("€ — ‰"), "\"€ — ‰\"");
    }

    #[test]
    fn every_escaped_string_parses_back_to_the_original() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let json = escaped(&all);
        let back: String = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(back, all);
        assert!(!json.contains('\n'));
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        let mut out = Vec::new();
        let _ = write!(EscapingWriter(&mut out), "{}", Lossy(b"ok\xff\xfe\"end"));
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "ok\u{fffd}\u{fffd}\\\"end"
        );
    }
}
