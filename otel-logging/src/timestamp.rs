//! RFC 3339 UTC timestamps with microseconds and a `Z`, e.g.
//! `2025-03-01T09:30:12.345678Z`, without going through `fmt`.

use std::time::{SystemTime, UNIX_EPOCH};

/// The date and time to the second, reformatted only when the second changes.
#[derive(Debug, Default)]
pub(crate) struct TimestampCache {
    second: Option<u64>,
    text: [u8; 19],
}

impl TimestampCache {
    /// Appends `time` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (no quotes). Times
    /// before 1970 are written as the epoch.
    pub(crate) fn push(&mut self, out: &mut Vec<u8>, time: SystemTime) {
        let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let second = since_epoch.as_secs();
        if self.second != Some(second) {
            self.text = format_second(second);
            self.second = Some(second);
        }
        out.extend_from_slice(&self.text);
        let micros = since_epoch.subsec_micros();
        let mut fraction = *b".000000Z";
        let mut rest = micros;
        for digit in fraction[1..7].iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        out.extend_from_slice(&fraction);
    }
}

fn format_second(second: u64) -> [u8; 19] {
    let days = (second / 86_400) as i64;
    let in_day = second % 86_400;
    let (year, month, day) = civil_from_days(days);
    let year = year.clamp(0, 9999) as u64;
    let mut text = *b"0000-00-00T00:00:00";
    put_digits(&mut text[0..4], year);
    put_digits(&mut text[5..7], month);
    put_digits(&mut text[8..10], day);
    put_digits(&mut text[11..13], in_day / 3600);
    put_digits(&mut text[14..16], in_day / 60 % 60);
    put_digits(&mut text[17..19], in_day % 60);
    text
}

fn put_digits(slot: &mut [u8], mut value: u64) {
    for digit in slot.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(days: i64) -> (i64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn render(since_epoch: Duration) -> String {
        let mut out = Vec::new();
        TimestampCache::default().push(&mut out, UNIX_EPOCH + since_epoch);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn known_instants() {
        assert_eq!(render(Duration::ZERO), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            render(Duration::new(951_782_400, 1_000)),
            "2000-02-29T00:00:00.000001Z"
        );
        assert_eq!(
            render(Duration::new(1_740_821_412, 345_678_999)),
            "2025-03-01T09:30:12.345678Z"
        );
        assert_eq!(
            render(Duration::new(4_102_444_799, 999_999_000)),
            "2099-12-31T23:59:59.999999Z"
        );
    }

    #[test]
    fn cache_is_refreshed_when_the_second_changes() {
        let mut cache = TimestampCache::default();
        let mut out = Vec::new();
        cache.push(&mut out, UNIX_EPOCH + Duration::new(59, 0));
        cache.push(&mut out, UNIX_EPOCH + Duration::new(60, 5_000));
        assert_eq!(
            String::from_utf8(out).expect("ascii"),
            "1970-01-01T00:00:59.000000Z1970-01-01T00:01:00.000005Z"
        );
    }

    #[test]
    fn every_day_of_four_centuries_matches_a_day_counter() {
        let (mut y, mut m, mut d) = (1970i64, 1u64, 1u64);
        for days in 0..146_097 {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let month_len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > month_len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
