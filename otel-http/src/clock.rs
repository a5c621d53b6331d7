//! [`wall_time`]: the wall-clock time of an [`Instant`], without reading the
//! wall clock each time.
//!
//! An instrumentation reads the monotonic clock when a call starts and when
//! it ends, for its duration metric; the SDK reads the wall clock twice more
//! for the span's start and end timestamps. A clock read costs 20 to 60 ns
//! on a virtual machine. Deriving the span's timestamps from the two
//! monotonic readings halves the reads, and makes the span's duration the
//! metric's exactly, measured on the monotonic clock (as OpenTelemetry Java's
//! anchored clock and Go's `time.Time` do).
//!
//! Each thread keeps an anchor, a wall-clock reading and a monotonic one
//! taken together, and renews it when it is a second old: a step of the
//! wall clock (NTP, or an operator) shows within a second, and the slewing
//! NTP applies to both clocks alike costs nothing in between.

use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime};

/// How long a thread's anchor serves before it is taken again.
const ANCHOR_AGE: Duration = Duration::from_secs(1);

thread_local! {
    static ANCHOR: Cell<Option<(Instant, SystemTime)>> = const { Cell::new(None) };
}

/// The wall-clock time at `instant`, a reading of the monotonic clock: the
/// thread's anchor moved by the time between them. Reads the wall clock only
/// to renew the anchor, when `instant` is a second or more away from it
/// (about once a second on a busy thread, for the recent instants a call
/// reads).
///
/// ```
/// use std::time::{Duration, Instant, SystemTime};
/// let start = Instant::now();
/// let wall = otel_http::clock::wall_time(start);
/// let now = SystemTime::now();
/// let off = now.duration_since(wall).unwrap_or_else(|e| e.duration());
/// assert!(off < Duration::from_millis(50), "{off:?}");
/// // The same instant, the same time; a later one, later by as much.
/// let later = start + Duration::from_millis(3);
/// assert_eq!(otel_http::clock::wall_time(later), wall + Duration::from_millis(3));
/// ```
pub fn wall_time(instant: Instant) -> SystemTime {
    ANCHOR.with(|anchor| {
        if let Some((at, wall)) = anchor.get()
            && let (Some(time), apart) = moved(at, wall, instant)
            && apart < ANCHOR_AGE
        {
            return time;
        }
        let (at, wall) = (Instant::now(), SystemTime::now());
        anchor.set(Some((at, wall)));
        moved(at, wall, instant).0.unwrap_or(wall)
    })
}

/// `wall` moved by the time from `at` to `instant` (`None` past the range of
/// `SystemTime`), and that time.
fn moved(at: Instant, wall: SystemTime, instant: Instant) -> (Option<SystemTime>, Duration) {
    match instant.checked_duration_since(at) {
        Some(after) => (wall.checked_add(after), after),
        None => {
            let before = at.duration_since(instant);
            (wall.checked_sub(before), before)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Within a second of the anchor, times follow the monotonic clock
    // exactly, before or after it; an instant a second or more away renews
    // it and still lands where the wall clock puts it.
    #[test]
    fn times_follow_the_monotonic_clock_and_stay_near_the_wall_clock() {
        let near = |t: SystemTime| {
            let now = SystemTime::now();
            let off = now.duration_since(t).unwrap_or_else(|e| e.duration());
            assert!(off < Duration::from_millis(100), "{off:?}");
        };
        let start = Instant::now();
        let first = wall_time(start);
        near(first);
        let anchor = ANCHOR.with(Cell::get);
        let step = Duration::from_micros(1_234);
        assert_eq!(wall_time(start + step), first + step);
        assert_eq!(ANCHOR.with(Cell::get), anchor, "not renewed");
        let earlier = start - Duration::from_millis(5);
        assert_eq!(wall_time(earlier), first - Duration::from_millis(5));
        assert_eq!(ANCHOR.with(Cell::get), anchor, "not renewed");
        let stale = Instant::now() - ANCHOR_AGE - Duration::from_millis(1);
        ANCHOR.with(|a| a.set(Some((stale, SystemTime::UNIX_EPOCH))));
        near(wall_time(Instant::now()));
        let renewed = ANCHOR.with(Cell::get);
        assert!(renewed.is_some_and(|(_, wall)| wall > SystemTime::UNIX_EPOCH));
        // An instant long before any anchor is still placed by it.
        let old = Instant::now() - Duration::from_secs(3);
        near(wall_time(old) + Duration::from_secs(3));
    }
}
