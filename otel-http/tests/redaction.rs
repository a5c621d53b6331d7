//! Property: whatever the case, percent-encoding, separators, repetitions and
//! neighbours, no value of a listed key survives redaction, and every other
//! pair is kept byte for byte.

use otel_http::redact::{DEFAULT_SENSITIVE_QUERY_KEYS, QueryRedaction};
use proptest::prelude::*;

/// A listed key as a client might write it: each byte in either case, some
/// of them percent-encoded (with upper- or lower-case hex digits).
fn disguised_key() -> impl Strategy<Value = String> {
    let keys: Vec<&'static str> = DEFAULT_SENSITIVE_QUERY_KEYS.to_vec();
    (
        proptest::sample::select(keys),
        proptest::collection::vec(0u8..6, 32),
    )
        .prop_map(|(key, choices)| {
            key.bytes()
                .zip(choices.iter().cycle())
                .map(|(b, choice)| match choice {
                    0 => (b as char).to_ascii_uppercase().to_string(),
                    1 => (b as char).to_ascii_lowercase().to_string(),
                    2 => format!("%{b:02X}"),
                    3 => format!("%{b:02x}"),
                    _ => (b as char).to_string(),
                })
                .collect()
        })
}

#[derive(Debug, Clone)]
enum Pair {
    Secret(String, String),
    Other(String),
}

fn pair() -> impl Strategy<Value = Pair> {
    prop_oneof![
        // Secret values are marked so they can be searched for afterwards.
        (disguised_key(), "[A-Za-z0-9+/=%._-]{0,12}")
            .prop_map(|(k, v)| Pair::Secret(k, format!("SECRET{v}"))),
        // Neighbours: ordinary keys, keys without a value, empty pairs.
        "(page|q|id|tokens|my_token|x)=[a-z0-9]{0,8}".prop_map(Pair::Other),
        "(flag|sig|token|password)".prop_map(Pair::Other),
        Just(String::new()).prop_map(Pair::Other),
    ]
}

proptest! {
    #[test]
    fn no_value_of_a_listed_key_survives(
        pairs in proptest::collection::vec(pair(), 0..12),
        separators in proptest::collection::vec(prop_oneof![Just('&'), Just(';')], 12),
    ) {
        let mut query = String::new();
        for (i, p) in pairs.iter().enumerate() {
            if i > 0 {
                query.push(separators[i]);
            }
            match p {
                Pair::Secret(k, v) => { query.push_str(k); query.push('='); query.push_str(v); }
                Pair::Other(o) => query.push_str(o),
            }
        }
        let redacted = QueryRedaction::new().redact_query(&query);
        prop_assert!(!redacted.contains("SECRET"), "{query} -> {redacted}");
        // Everything else is kept: same separators, same keys, other pairs verbatim.
        let out: Vec<&str> = redacted.split(['&', ';']).collect();
        prop_assert_eq!(out.len(), query.split(['&', ';']).count());
        for (p, got) in pairs.iter().zip(&out) {
            match p {
                Pair::Secret(k, _) => prop_assert_eq!(got.to_string(), format!("{k}=REDACTED")),
                Pair::Other(o) => prop_assert_eq!(got, o),
            }
        }
    }
}
