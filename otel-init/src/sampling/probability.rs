//! Consistent probability sampling: the decision depends only on the trace's
//! randomness, so every service sampling at the same ratio keeps the same
//! traces, and the probability travels in `tracestate` as `ot=th:…`.
//!
//! This follows the specification's "TraceState: Probability Sampling": the
//! randomness `R` is the explicit `ot=rv:` value when present, otherwise the
//! least significant 56 bits of the trace id; a span is sampled when
//! `R >= T`, where the rejection threshold `T = 2^56 - round(p * 2^56)`.

use opentelemetry::trace::{TraceId, TraceState};

/// 2^56: thresholds and randomness values are 56-bit numbers.
pub(crate) const MAX_THRESHOLD: u64 = 1 << 56;
const RANDOMNESS_MASK: u128 = (1u128 << 56) - 1;

/// A rejection threshold: sample when the randomness is at or above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Threshold(u64);

impl Threshold {
    /// The threshold for probability `p` (clamped to 0..=1). `None` means
    /// "never": no 56-bit threshold represents a probability of zero.
    pub(crate) fn from_probability(p: f64) -> Option<Self> {
        if p.is_nan() || p <= 0.0 {
            return None;
        }
        let p = p.min(1.0);
        // p * 2^56 fits in a u64; the cast saturates for p == 1.0 exactly.
        let kept = (p * MAX_THRESHOLD as f64).round() as u64;
        if kept == 0 {
            return None;
        }
        Some(Self(MAX_THRESHOLD.saturating_sub(kept)))
    }

    /// The probability this threshold samples with.
    #[cfg(test)]
    pub(crate) fn probability(self) -> f64 {
        (MAX_THRESHOLD - self.0) as f64 / MAX_THRESHOLD as f64
    }

    /// Whether a trace with `randomness` is sampled.
    pub(crate) fn samples(self, randomness: u64) -> bool {
        randomness >= self.0
    }

    /// The `th` encoding: up to 14 hex digits, trailing zeros removed, `0` for 100%.
    #[cfg(test)]
    pub(crate) fn encode(self) -> String {
        let mut out = String::with_capacity(14);
        self.write_to(&mut out);
        out
    }

    /// Appends the `th` encoding to `out` (no intermediate allocation).
    fn write_to(self, out: &mut String) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        if self.0 == 0 {
            out.push('0');
            return;
        }
        let digits: [u8; 14] =
            std::array::from_fn(|i| HEX[((self.0 >> (4 * (13 - i))) & 0xf) as usize]);
        let end = digits.iter().rposition(|d| *d != b'0').map_or(1, |p| p + 1);
        for d in &digits[..end] {
            out.push(char::from(*d));
        }
    }

    /// The `ot` value `th:<encoding>`.
    fn ot_value(self) -> String {
        let mut out = String::with_capacity(17);
        out.push_str("th:");
        self.write_to(&mut out);
        out
    }

    /// Parses a `th` value (1 to 14 hex digits, right-padded with zeros).
    pub(crate) fn decode(s: &str) -> Option<Self> {
        if s.is_empty() || s.len() > 14 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let v = u64::from_str_radix(s, 16).ok()?;
        let shift = 4 * (14 - s.len() as u32);
        Some(Self(v << shift))
    }
}

/// The trace's 56-bit randomness: `ot=rv:` if present and valid, otherwise
/// the low 56 bits of the trace id.
pub(crate) fn randomness(trace_id: TraceId, trace_state: &TraceState) -> u64 {
    if let Some(rv) = ot_subkey(trace_state, "rv")
        && rv.len() == 14
        && let Ok(v) = u64::from_str_radix(rv, 16)
    {
        return v;
    }
    (u128::from_be_bytes(trace_id.to_bytes()) & RANDOMNESS_MASK) as u64
}

/// The value of one `ot` sub-key (`ot=th:c;rv:…`).
pub(crate) fn ot_subkey<'a>(trace_state: &'a TraceState, key: &str) -> Option<&'a str> {
    let ot = trace_state.get("ot")?;
    ot.split(';').find_map(|entry| {
        let (k, v) = entry.split_once(':')?;
        (k == key).then_some(v)
    })
}

/// The parent's threshold, if it recorded one.
pub(crate) fn parent_threshold(trace_state: &TraceState) -> Option<Threshold> {
    ot_subkey(trace_state, "th").and_then(Threshold::decode)
}

/// `trace_state` with `ot=th:` set to `threshold`, or removed when `None`,
/// keeping the other `ot` sub-keys. Left unchanged if the result would be invalid.
pub(crate) fn with_threshold(trace_state: &TraceState, threshold: Option<Threshold>) -> TraceState {
    if trace_state.get("ot").is_none() {
        // The common case (a new trace): nothing to merge.
        return match threshold {
            None => trace_state.clone(),
            Some(t) => trace_state
                .insert("ot", t.ot_value())
                .unwrap_or_else(|_| trace_state.clone()),
        };
    }
    let mut parts: Vec<String> = trace_state
        .get("ot")
        .map(|ot| {
            ot.split(';')
                .filter(|e| !e.is_empty() && !e.starts_with("th:"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(t) = threshold {
        parts.insert(0, t.ot_value());
    }
    let updated = if parts.is_empty() {
        trace_state.delete("ot")
    } else {
        trace_state.insert("ot", parts.join(";"))
    };
    updated.unwrap_or_else(|_| trace_state.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_round_trip_and_match_the_specification_examples() {
        // From the specification: 100% -> th:0, 50% -> th:8, 25% -> th:c, 10% -> th:e666...
        assert_eq!(
            Threshold::from_probability(1.0)
                .map(Threshold::encode)
                .as_deref(),
            Some("0")
        );
        assert_eq!(
            Threshold::from_probability(0.5)
                .map(Threshold::encode)
                .as_deref(),
            Some("8")
        );
        assert_eq!(
            Threshold::from_probability(0.25)
                .map(Threshold::encode)
                .as_deref(),
            Some("c")
        );
        let ten = Threshold::from_probability(0.1).expect("10%");
        assert!(ten.encode().starts_with("e666666"), "{}", ten.encode());
        assert_eq!(Threshold::decode(&ten.encode()), Some(ten));
        assert_eq!(Threshold::decode("c"), Threshold::from_probability(0.25));
        assert!((ten.probability() - 0.1).abs() < 1e-12);
        assert_eq!(Threshold::from_probability(0.0), None);
        assert_eq!(Threshold::from_probability(f64::NAN), None);
        for bad in ["", "g", "123456789012345", "-1"] {
            assert_eq!(Threshold::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn randomness_prefers_rv_then_the_trace_id() {
        let id = TraceId::from(0x1234_5678_9abc_def0_1122_3344_5566_7788u128);
        assert_eq!(randomness(id, &TraceState::default()), 0x22_3344_5566_7788);
        let ts = TraceState::from_key_value([("ot", "th:8;rv:00000000000001")]).expect("valid");
        assert_eq!(randomness(id, &ts), 1);
        let bad = TraceState::from_key_value([("ot", "rv:xyz")]).expect("valid");
        assert_eq!(randomness(id, &bad), 0x22_3344_5566_7788);
    }

    #[test]
    fn threshold_edits_keep_other_members_and_subkeys() {
        let ts = TraceState::from_key_value([("ot", "rv:00000000000001;th:4"), ("congo", "t61")])
            .expect("valid");
        let set = with_threshold(&ts, Threshold::from_probability(0.5));
        assert_eq!(set.get("ot"), Some("th:8;rv:00000000000001"));
        assert_eq!(set.get("congo"), Some("t61"));
        let removed = with_threshold(&set, None);
        assert_eq!(removed.get("ot"), Some("rv:00000000000001"));
        let only_th = TraceState::from_key_value([("ot", "th:8")]).expect("valid");
        assert_eq!(with_threshold(&only_th, None).get("ot"), None);
        assert_eq!(parent_threshold(&set), Threshold::from_probability(0.5));
    }
}
