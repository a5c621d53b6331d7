//! gRPC status codes as the wire carries them (`grpc-status`, `grpc-message`,
//! `grpc-timeout`), named as the semantic conventions spell them, and which of
//! them is an error on each side.

use http::{HeaderMap, HeaderName, StatusCode};
use otel_http::carrier::first_value;
use std::time::Duration;

/// A gRPC status code (0 to 16; anything else reads as `UNKNOWN`, as the
/// gRPC specification asks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Code(u8);

const NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

// Built at compile time: looking a header up by `&str` parses the name each time.
pub(crate) const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");
const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");

/// The attribute of the call's status, on spans and the duration metrics:
/// `rpc.status_code` since semconv 1.45, where the RPC conventions became
/// stable (1.39 to 1.44 called it `rpc.response.status_code`).
pub(crate) const STATUS_CODE: &str = "rpc.status_code";

/// The longest `grpc-message` kept as the span status description.
const MAX_MESSAGE: usize = 256;

impl Code {
    pub(crate) const OK: Code = Code(0);
    pub(crate) const CANCELLED: Code = Code(1);
    pub(crate) const UNKNOWN: Code = Code(2);
    pub(crate) const DEADLINE_EXCEEDED: Code = Code(4);
    pub(crate) const UNIMPLEMENTED: Code = Code(12);
    pub(crate) const INTERNAL: Code = Code(13);
    pub(crate) const UNAVAILABLE: Code = Code(14);

    /// The value of a `grpc-status` header or trailer.
    pub(crate) fn parse(value: &[u8]) -> Code {
        let number = match value {
            [d] if d.is_ascii_digit() => d - b'0',
            [b'1', d] if d.is_ascii_digit() => 10 + (d - b'0'),
            _ => return Code::UNKNOWN,
        };
        if usize::from(number) < NAMES.len() {
            Code(number)
        } else {
            Code::UNKNOWN
        }
    }

    /// `grpc-status` in these headers or trailers, if there is one.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Code> {
        first_value(headers, &GRPC_STATUS).map(|v| Code::parse(v.as_bytes()))
    }

    /// The code a client infers from an HTTP status without `grpc-status`
    /// (gRPC's http-grpc-status-mapping.md, as tonic applies it).
    pub(crate) fn from_http_status(status: StatusCode) -> Code {
        match status.as_u16() {
            400 => Code::INTERNAL,
            401 => Code(16),
            403 => Code(7),
            404 => Code::UNIMPLEMENTED,
            429 | 502 | 503 | 504 => Code::UNAVAILABLE,
            _ => Code::UNKNOWN,
        }
    }

    /// The name the conventions use for [`STATUS_CODE`].
    pub(crate) fn name(self) -> &'static str {
        NAMES.get(usize::from(self.0)).copied().unwrap_or("UNKNOWN")
    }

    /// The number, for the `grpc-status` of a response this crate writes.
    pub(crate) fn number(self) -> u8 {
        self.0
    }

    /// The server side's table of the RPC conventions: only these codes make
    /// a SERVER span an error (the others are the caller's mistakes).
    pub(crate) fn is_server_error(self) -> bool {
        matches!(self.0, 2 | 4 | 12 | 13 | 14 | 15)
    }
}

/// `grpc-message`, percent-decoded and cut to [`MAX_MESSAGE`] bytes.
pub(crate) fn message(headers: &HeaderMap) -> Option<String> {
    let raw = first_value(headers, &GRPC_MESSAGE)?.as_bytes();
    if raw.is_empty() {
        return None;
    }
    let decoded = percent_encoding::percent_decode(raw).decode_utf8_lossy();
    let mut text = decoded.into_owned();
    if text.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    Some(text)
}

/// The deadline a `grpc-timeout` header carries: 1 to 8 digits and a unit
/// (`H`, `M`, `S`, `m`, `u`, `n`). Anything else is no deadline.
pub(crate) fn timeout(headers: &HeaderMap) -> Option<Duration> {
    let value = first_value(headers, &GRPC_TIMEOUT)?.as_bytes();
    let (unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    Some(match unit {
        b'H' => Duration::from_secs(n * 3600),
        b'M' => Duration::from_secs(n * 60),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_and_name() {
        assert_eq!(Code::parse(b"0").name(), "OK");
        assert_eq!(Code::parse(b"5").name(), "NOT_FOUND");
        assert_eq!(Code::parse(b"16").name(), "UNAUTHENTICATED");
        for bad in [&b"17"[..], b"", b"-1", b"007", b"x", b"99"] {
            assert_eq!(Code::parse(bad), Code::UNKNOWN, "{bad:?}");
        }
    }

    #[test]
    fn server_errors_follow_the_table() {
        let errors: Vec<_> = (0..17)
            .map(Code)
            .filter(|c| c.is_server_error())
            .map(Code::name)
            .collect();
        assert_eq!(
            errors,
            [
                "UNKNOWN",
                "DEADLINE_EXCEEDED",
                "UNIMPLEMENTED",
                "INTERNAL",
                "UNAVAILABLE",
                "DATA_LOSS"
            ]
        );
    }

    // gRPC's http-grpc-status-mapping.md: what a client records when a
    // response has an HTTP status and no grpc-status.
    #[test]
    fn http_statuses_map_as_grpc_says() {
        let name = |s: u16| Code::from_http_status(StatusCode::from_u16(s).expect("status")).name();
        assert_eq!(name(400), "INTERNAL");
        assert_eq!(name(401), "UNAUTHENTICATED");
        assert_eq!(name(403), "PERMISSION_DENIED");
        assert_eq!(name(404), "UNIMPLEMENTED");
        for unavailable in [429, 502, 503, 504] {
            assert_eq!(name(unavailable), "UNAVAILABLE", "{unavailable}");
        }
        for other in [200, 301, 405, 500, 501, 505, 599] {
            assert_eq!(name(other), "UNKNOWN", "{other}");
        }
    }

    #[test]
    fn timeouts() {
        let t = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("grpc-timeout", v.parse().expect("value"));
            timeout(&h)
        };
        assert_eq!(t("100m"), Some(Duration::from_millis(100)));
        assert_eq!(t("2S"), Some(Duration::from_secs(2)));
        assert_eq!(t("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(t("99999999n"), Some(Duration::from_nanos(99_999_999)));
        for bad in ["", "m", "123456789m", "10x", "1.5S", "-1S"] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn messages_are_decoded_and_bounded() {
        let mut h = HeaderMap::new();
        h.insert("grpc-message", "no%20such%20order".parse().expect("value"));
        assert_eq!(message(&h).as_deref(), Some("no such order"));
        h.insert("grpc-message", "é".repeat(200).parse().expect("value"));
        let long = message(&h).expect("message");
        assert!(long.len() <= MAX_MESSAGE);
    }
}
