//! Reading `OTEL_*` variables by the rules of the specification's
//! "Parsing empty value" and "Configuration types" sections: an empty value is
//! unset, a bad value yields exactly one warning naming the variable, the value
//! and what is accepted, and the default applies.

use std::collections::HashMap;
use std::time::Duration;

/// Where configuration values come from: the process environment, or a map in tests.
///
/// ```
/// use otel_init::config::{Config, EnvSource};
/// // Settings kept somewhere else than the environment, e.g. a config file.
/// struct FromFile(Vec<(String, String)>);
/// impl EnvSource for FromFile {
///     fn get(&self, name: &str) -> Option<String> {
///         self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
///     }
/// }
/// let file = FromFile(vec![("OTEL_SERVICE_NAME".into(), "checkout".into())]);
/// assert_eq!(Config::from_source(&file).service_name.as_deref(), Some("checkout"));
/// // Arrays and vectors of pairs and `HashMap<String, String>` are sources too;
/// // in a list the last entry for a name wins.
/// assert_eq!([("A", "1"), ("A", "2")].get("A").as_deref(), Some("2"));
/// ```
pub trait EnvSource {
    /// The raw value of `name`, if set.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
///
/// ```
/// use otel_init::config::{EnvSource, ProcessEnv};
/// let home = ProcessEnv.get("HOME");
/// assert_eq!(home, std::env::var_os("HOME").map(|v| v.to_string_lossy().into_owned()));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }
}

impl EnvSource for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

impl EnvSource for [(&str, &str)] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

impl<T: EnvSource + ?Sized> EnvSource for &T {
    fn get(&self, name: &str) -> Option<String> {
        (**self).get(name)
    }
}

impl EnvSource for Vec<(&str, &str)> {
    fn get(&self, name: &str) -> Option<String> {
        EnvSource::get(self.as_slice(), name)
    }
}

impl<const N: usize> EnvSource for [(&str, &str); N] {
    fn get(&self, name: &str) -> Option<String> {
        EnvSource::get(self.as_slice(), name)
    }
}

/// A problem found in one environment variable; the default was used instead.
///
/// ```
/// let config = otel_init::Config::from_source(&[("OTEL_BSP_EXPORT_TIMEOUT", "-5")]);
/// let warning = &config.warnings[0];
/// assert_eq!(warning.variable, "OTEL_BSP_EXPORT_TIMEOUT");
/// assert_eq!(warning.value, "-5");
/// assert!(warning.to_string().starts_with("invalid value \"-5\" for OTEL_BSP_EXPORT_TIMEOUT: expected"));
/// // The default applied:
/// assert_eq!(config.span_batch, otel_init::config::BatchConfig::SPANS);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The variable, e.g. `OTEL_BSP_MAX_QUEUE_SIZE`.
    pub variable: String,
    /// The value as it was set; for header variables only the header's
    /// name (`api-key=(value not shown)`) or the member's position, and for
    /// endpoints the URL with user-info and query values redacted.
    pub value: String,
    /// What the variable accepts and what was used instead.
    pub expected: String,
}

impl std::fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid value {:?} for {}: expected {}",
            self.value, self.variable, self.expected
        )
    }
}

/// Reads variables from a source and collects one warning per bad value.
pub(crate) struct EnvReader<'a> {
    source: &'a dyn EnvSource,
    pub(crate) warnings: Vec<ConfigWarning>,
}

impl<'a> EnvReader<'a> {
    pub(crate) fn new(source: &'a dyn EnvSource) -> Self {
        Self {
            source,
            warnings: Vec::new(),
        }
    }

    /// The trimmed value, or `None` when unset or empty.
    pub(crate) fn string(&self, name: &str) -> Option<String> {
        self.source
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The first of several names that is set (per-signal form before the generic one).
    pub(crate) fn first(&self, names: &[&str]) -> Option<(String, String)> {
        names
            .iter()
            .find_map(|n| self.string(n).map(|v| ((*n).to_owned(), v)))
    }

    /// Records a warning; a generic variable read once per signal warns once.
    pub(crate) fn warn(&mut self, variable: &str, value: &str, expected: impl Into<String>) {
        if self
            .warnings
            .iter()
            .any(|w| w.variable == variable && w.value == value)
        {
            return;
        }
        self.warnings.push(ConfigWarning {
            variable: variable.to_owned(),
            value: value.to_owned(),
            expected: expected.into(),
        });
    }

    /// Spec boolean: only case-insensitive `true` is true; `false` is false;
    /// anything else warns and is false.
    pub(crate) fn bool(&mut self, name: &str) -> bool {
        match self.string(name) {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                self.warn(name, &v, "\"true\" or \"false\"; using false");
                false
            }
        }
    }

    /// A non-negative integer; unparsable or out of `range` warns and gives `None`.
    pub(crate) fn integer(&mut self, name: &str, min: u64, max: u64) -> Option<u64> {
        let v = self.string(name)?;
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.warn(
                    name,
                    &v,
                    format!("an integer from {min} to {max}; using the default"),
                );
                None
            }
        }
    }

    /// A count (`usize`) of at least `min`.
    pub(crate) fn count(&mut self, name: &str, min: usize) -> Option<usize> {
        self.integer(name, min as u64, u32::MAX as u64)
            .map(|n| n as usize)
    }

    /// A timeout in milliseconds: negative or unparsable warns (default applies);
    /// `0` means no limit, returned as `Duration::MAX`.
    pub(crate) fn timeout_ms(&mut self, name: &str) -> Option<Duration> {
        let v = self.string(name)?;
        match v.parse::<i64>() {
            Ok(0) => Some(Duration::MAX),
            Ok(n) if n > 0 => Some(Duration::from_millis(n as u64)),
            _ => {
                self.warn(
                    name,
                    &v,
                    "a non-negative integer number of milliseconds (0 = no limit); using the default",
                );
                None
            }
        }
    }

    /// A duration in milliseconds that must be positive (intervals, delays).
    pub(crate) fn interval_ms(&mut self, name: &str) -> Option<Duration> {
        let v = self.string(name)?;
        match v.parse::<u64>() {
            Ok(n) if n > 0 => Some(Duration::from_millis(n)),
            _ => {
                self.warn(
                    name,
                    &v,
                    "a positive integer number of milliseconds; using the default",
                );
                None
            }
        }
    }

    /// One of `allowed` (case-insensitive); anything else warns and gives `None`.
    pub(crate) fn choice(&mut self, name: &str, allowed: &[&str]) -> Option<String> {
        let v = self.string(name)?;
        let lower = v.to_ascii_lowercase();
        if allowed.contains(&lower.as_str()) {
            Some(lower)
        } else {
            self.warn(
                name,
                &v,
                format!("one of {}; using the default", allowed.join(", ")),
            );
            None
        }
    }
}

/// A member of a `k=v,k2=v2` list that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadMember {
    /// Its position in the list, from 1.
    pub position: usize,
    /// Its key, when it has one (a key is a name, not a secret).
    pub key: Option<String>,
    /// What is wrong, without quoting the value.
    pub problem: &'static str,
    /// The member as written (it may hold a secret: never in header warnings).
    pub member: String,
}

/// Splits `k=v,k2=v2` (W3C Baggage octets, percent-encoded values) into pairs.
/// Returns the pairs and the members that could not be parsed.
pub(crate) fn parse_key_values(raw: &str) -> (Vec<(String, String)>, Vec<BadMember>) {
    let mut pairs = Vec::new();
    let mut bad = Vec::new();
    for (i, member) in raw.split(',').enumerate() {
        let member = member.trim();
        if member.is_empty() {
            continue;
        }
        let mut fail = |key: Option<&str>, problem| {
            bad.push(BadMember {
                position: i + 1,
                key: key.map(str::to_owned),
                problem,
                member: member.to_owned(),
            });
        };
        let Some((k, v)) = member.split_once('=') else {
            fail(
                None,
                if member.contains(':') {
                    "no '=' between the name and the value (':' is not the separator)"
                } else {
                    "no '=' between the name and the value"
                },
            );
            continue;
        };
        let key = k.trim();
        if key.is_empty() {
            fail(None, "no name before '='");
            continue;
        }
        let value = v.trim();
        if !percent_encoding_is_valid(value) {
            fail(Some(key), "a '%' not followed by two hexadecimal digits");
            continue;
        }
        match percent_encoding::percent_decode_str(value).decode_utf8() {
            Ok(value) => pairs.push((key.to_owned(), value.into_owned())),
            Err(_) => fail(Some(key), "a value that percent-decodes to invalid UTF-8"),
        }
    }
    (pairs, bad)
}

/// Whether every `%` starts a `%XX` escape.
fn percent_encoding_is_valid(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_unset_and_values_are_trimmed() {
        let env = [("A", ""), ("B", "  x ")];
        let r = EnvReader::new(&env);
        assert_eq!(r.string("A"), None);
        assert_eq!(r.string("B").as_deref(), Some("x"));
        assert_eq!(r.string("C"), None);
    }

    #[test]
    fn booleans_follow_the_spec() {
        let env = [("T", "TRUE"), ("F", "false"), ("X", "yes"), ("E", "")];
        let mut r = EnvReader::new(&env);
        assert!(r.bool("T"));
        assert!(!r.bool("F"));
        assert!(!r.bool("E"));
        assert!(r.warnings.is_empty());
        assert!(!r.bool("X"));
        assert_eq!(
            r.warnings[0].to_string(),
            "invalid value \"yes\" for X: expected \"true\" or \"false\"; using false"
        );
    }

    #[test]
    fn timeouts_zero_means_no_limit_negative_warns() {
        let env = [("Z", "0"), ("N", "-5"), ("P", "250"), ("G", "1s")];
        let mut r = EnvReader::new(&env);
        assert_eq!(r.timeout_ms("Z"), Some(Duration::MAX));
        assert_eq!(r.timeout_ms("P"), Some(Duration::from_millis(250)));
        assert_eq!(r.timeout_ms("N"), None);
        assert_eq!(r.timeout_ms("G"), None);
        assert_eq!(r.warnings.len(), 2);
        assert!(r.warnings[0].to_string().contains("\"-5\" for N"));
    }

    #[test]
    fn key_values_are_percent_decoded_and_bad_members_reported() {
        let (pairs, bad) =
            parse_key_values("a=1, b = x%20y ,novalue,=v,c=%FF,d=100%,e=%zz,f:secret");
        assert_eq!(
            pairs,
            vec![("a".into(), "1".into()), ("b".into(), "x y".into())]
        );
        let found: Vec<_> = bad
            .iter()
            .map(|b| (b.position, b.key.as_deref(), b.member.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (3, None, "novalue"),
                (4, None, "=v"),
                (5, Some("c"), "c=%FF"),
                (6, Some("d"), "d=100%"),
                (7, Some("e"), "e=%zz"),
                (8, None, "f:secret"),
            ]
        );
        assert!(bad[3].problem.contains("two hexadecimal digits"));
        assert!(bad[2].problem.contains("invalid UTF-8"));
        assert!(bad[5].problem.contains("':' is not the separator"));
    }
}
