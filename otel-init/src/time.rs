//! RFC 3339 timestamps without a date-time dependency.

/// Formats nanoseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC).
pub(crate) fn rfc3339_nanos(nanos: u64) -> String {
    let secs = nanos / 1_000_000_000;
    let micros = (nanos % 1_000_000_000) / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_known_instants() {
        assert_eq!(super::rfc3339_nanos(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            super::rfc3339_nanos(1_709_251_199_123_456_789),
            "2024-02-29T23:59:59.123456Z"
        );
    }
}
