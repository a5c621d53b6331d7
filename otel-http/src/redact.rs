//! Redaction of sensitive query values in `url.query` (servers) and
//! `url.full` (clients).
//!
//! The value of a sensitive parameter becomes `REDACTED`, its key is kept:
//! `?user=7&token=abc` is recorded as `?user=7&token=REDACTED`. A key is
//! sensitive when, percent-decoded, it equals one of
//! [`DEFAULT_SENSITIVE_QUERY_KEYS`] or a key you add, ignoring ASCII case
//! (`SIG=`, `Sig=` and `s%69g=` are all `sig`). Pairs are separated by `&` or
//! `;`; a key without `=` has no value and stays as it is.
//!
//! Keys are added, or every value redacted, with the builders of `otel-axum`
//! and `otel-reqwest` or with the environment variable
//! [`SENSITIVE_QUERY_KEYS_ENV`] (`OTEL_HTTP_SENSITIVE_QUERY_KEYS`): a
//! comma-separated list of keys, or `*` for every value.
//!
//! ```
//! use otel_http::redact::QueryRedaction;
//!
//! let redaction = QueryRedaction::new().with_keys(["order_secret"]);
//! assert_eq!(
//!     redaction.redact_query("page=2&Token=abc;s%69g=x&order_secret=7&flag"),
//!     "page=2&Token=REDACTED;s%69g=REDACTED&order_secret=REDACTED&flag"
//! );
//! ```

use percent_encoding::percent_decode;
use std::borrow::Cow;
use std::sync::Arc;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "REDACTED";

/// The environment variable that adds sensitive keys (comma-separated) or,
/// with `*`, redacts every query value: `OTEL_HTTP_SENSITIVE_QUERY_KEYS`.
///
/// ```
/// assert_eq!(otel_http::redact::SENSITIVE_QUERY_KEYS_ENV, "OTEL_HTTP_SENSITIVE_QUERY_KEYS");
/// ```
pub const SENSITIVE_QUERY_KEYS_ENV: &str = "OTEL_HTTP_SENSITIVE_QUERY_KEYS";

/// The keys whose values are always redacted: the HTTP semantic conventions'
/// signature keys (and the rest of a pre-signed AWS or Google Cloud URL's
/// credentials), plus the usual names of passwords, secrets, tokens, API keys
/// and session ids. Matched case-insensitively after percent-decoding.
///
/// ```
/// use otel_http::redact::DEFAULT_SENSITIVE_QUERY_KEYS;
/// assert!(DEFAULT_SENSITIVE_QUERY_KEYS.contains(&"X-Amz-Signature"));
/// assert!(DEFAULT_SENSITIVE_QUERY_KEYS.contains(&"access_token"));
/// ```
pub const DEFAULT_SENSITIVE_QUERY_KEYS: [&str; 29] = [
    // The semantic conventions' list.
    "AWSAccessKeyId",
    "Signature",
    "sig",
    "X-Goog-Signature",
    // Pre-signed AWS (SigV4) and Google Cloud Storage URLs.
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    "X-Goog-Credential",
    // Common credential names.
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "auth_token",
    "api_key",
    "api-key",
    "apikey",
    "x-api-key",
    "auth",
    "authorization",
    "session",
    "sessionid",
    "session_id",
    "signature",
    "jwt",
];

/// Which query values are replaced by [`REDACTED`]: those of
/// [`DEFAULT_SENSITIVE_QUERY_KEYS`], of the keys added with
/// [`with_keys`](Self::with_keys), or every value after
/// [`all_values`](Self::all_values).
///
/// Cheap to clone (the added keys are shared). Redacting a query with nothing
/// sensitive in it neither allocates nor copies.
///
/// ```
/// use otel_http::redact::QueryRedaction;
/// use std::borrow::Cow;
///
/// let redaction = QueryRedaction::new();
/// assert!(matches!(redaction.redact_query("page=2&q=shoes"), Cow::Borrowed(_)));
/// assert_eq!(redaction.redact_query("PASSWORD=hunter2"), "PASSWORD=REDACTED");
/// assert_eq!(QueryRedaction::new().all_values().redact_query("a=1&b"), "a=REDACTED&b");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryRedaction {
    /// Added keys, percent-decoded and lower-cased.
    extra: Arc<[Box<[u8]>]>,
    all: bool,
}

impl QueryRedaction {
    /// The default keys only (the environment is not read).
    ///
    /// ```
    /// use otel_http::redact::QueryRedaction;
    /// assert_eq!(QueryRedaction::new().redact_query("api_key=k&id=3"), "api_key=REDACTED&id=3");
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The default keys plus what [`SENSITIVE_QUERY_KEYS_ENV`] says: the
    /// builders of `otel-axum` and `otel-reqwest` start from this.
    ///
    /// ```
    /// use otel_http::redact::QueryRedaction;
    /// // With OTEL_HTTP_SENSITIVE_QUERY_KEYS unset: the defaults.
    /// # if std::env::var_os(otel_http::redact::SENSITIVE_QUERY_KEYS_ENV).is_none() {
    /// assert_eq!(QueryRedaction::from_env(), QueryRedaction::new());
    /// # }
    /// ```
    pub fn from_env() -> Self {
        let value = std::env::var_os(SENSITIVE_QUERY_KEYS_ENV);
        Self::from_env_value(value.as_deref().map(|v| v.to_string_lossy()).as_deref())
    }

    /// The default keys plus `value`, read as [`SENSITIVE_QUERY_KEYS_ENV`]
    /// would be: comma-separated keys (trimmed, percent-decoded, empty entries
    /// skipped), or `*` anywhere in the list for every value.
    ///
    /// ```
    /// use otel_http::redact::QueryRedaction;
    ///
    /// let extra = QueryRedaction::from_env_value(Some(" otp , pin,"));
    /// assert_eq!(extra.redact_query("otp=123&PIN=4&page=1"), "otp=REDACTED&PIN=REDACTED&page=1");
    /// let all = QueryRedaction::from_env_value(Some("*"));
    /// assert_eq!(all.redact_query("page=1"), "page=REDACTED");
    /// assert_eq!(QueryRedaction::from_env_value(None), QueryRedaction::new());
    /// ```
    pub fn from_env_value(value: Option<&str>) -> Self {
        let entries: Vec<&str> = value
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        let redaction = Self::new().with_keys(entries.iter().filter(|e| **e != "*"));
        if entries.contains(&"*") {
            redaction.all_values()
        } else {
            redaction
        }
    }

    /// Adds keys whose values are redacted (case-insensitive; a key may be
    /// given percent-encoded).
    ///
    /// ```
    /// use otel_http::redact::QueryRedaction;
    ///
    /// let redaction = QueryRedaction::new().with_keys(["otp", "Card_Number"]);
    /// assert_eq!(
    ///     redaction.redact_query("OTP=1&card_number=4111&sig=x"),
    ///     "OTP=REDACTED&card_number=REDACTED&sig=REDACTED"
    /// );
    /// ```
    pub fn with_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut extra: Vec<Box<[u8]>> = self.extra.iter().cloned().collect();
        for key in keys {
            let decoded: Vec<u8> = percent_decode(key.as_ref().trim().as_bytes())
                .map(|b| b.to_ascii_lowercase())
                .collect();
            if !decoded.is_empty() && !extra.iter().any(|k| **k == *decoded) {
                extra.push(decoded.into_boxed_slice());
            }
        }
        self.extra = extra.into();
        self
    }

    /// Redacts every query value, whatever its key.
    ///
    /// ```
    /// use otel_http::redact::QueryRedaction;
    /// let all = QueryRedaction::new().all_values();
    /// assert_eq!(all.redact_query("q=shoes;page=2&debug"), "q=REDACTED;page=REDACTED&debug");
    /// ```
    pub fn all_values(mut self) -> Self {
        self.all = true;
        self
    }

    /// Whether every value is redacted.
    ///
    /// ```
    /// use otel_http::redact::QueryRedaction;
    /// assert!(!QueryRedaction::new().redacts_all_values());
    /// assert!(QueryRedaction::new().all_values().redacts_all_values());
    /// ```
    pub fn redacts_all_values(&self) -> bool {
        self.all
    }

    /// Whether the values of `raw_key` (as it appears in a query, possibly
    /// percent-encoded) are redacted.
    ///
    /// ```
    /// use otel_http::redact::QueryRedaction;
    /// let redaction = QueryRedaction::new();
    /// assert!(redaction.is_sensitive("X-AMZ-SIGNATURE"));
    /// assert!(redaction.is_sensitive("s%69g"));
    /// assert!(!redaction.is_sensitive("page"));
    /// ```
    pub fn is_sensitive(&self, raw_key: &str) -> bool {
        if self.all {
            return true;
        }
        if !raw_key.contains('%') {
            // The common case: compare in place.
            return DEFAULT_SENSITIVE_QUERY_KEYS
                .iter()
                .any(|k| raw_key.eq_ignore_ascii_case(k))
                || self
                    .extra
                    .iter()
                    .any(|k| raw_key.as_bytes().eq_ignore_ascii_case(k));
        }
        DEFAULT_SENSITIVE_QUERY_KEYS
            .iter()
            .any(|k| decoded_eq_ignore_case(raw_key, k.as_bytes()))
            || self
                .extra
                .iter()
                .any(|k| decoded_eq_ignore_case(raw_key, k))
    }

    /// `query` with the value of every sensitive pair replaced by
    /// [`REDACTED`]; borrowed unchanged when there is nothing to replace.
    ///
    /// ```
    /// use otel_http::redact::QueryRedaction;
    /// let redaction = QueryRedaction::new();
    /// assert_eq!(
    ///     redaction.redact_query("token=a&token=b&;Session=&sig&x=1"),
    ///     "token=REDACTED&token=REDACTED&;Session=REDACTED&sig&x=1"
    /// );
    /// ```
    pub fn redact_query<'a>(&self, query: &'a str) -> Cow<'a, str> {
        // One pass to learn whether anything changes and by how much, so that
        // an unchanged query is not copied and a changed one is written once.
        let mut changed = false;
        let mut growth = 0;
        for pair in pairs(query) {
            if let Some(key) = self.redacted_value(pair) {
                changed = true;
                growth += (key.len() + 1 + REDACTED.len()).saturating_sub(pair.len());
            }
        }
        if !changed {
            return Cow::Borrowed(query);
        }
        let mut out = String::with_capacity(query.len() + growth);
        let mut rest = query;
        loop {
            let end = rest.find(['&', ';']).unwrap_or(rest.len());
            let (pair, tail) = rest.split_at(end);
            match self.redacted_value(pair) {
                Some(key) => {
                    out.push_str(key);
                    out.push('=');
                    out.push_str(REDACTED);
                }
                None => out.push_str(pair),
            }
            let mut chars = tail.chars();
            match chars.next() {
                Some(separator) => {
                    out.push(separator);
                    rest = chars.as_str();
                }
                None => break,
            }
        }
        Cow::Owned(out)
    }

    /// `url` for telemetry: user-info becomes `REDACTED:REDACTED`, sensitive
    /// query values `REDACTED`, and the fragment is dropped; borrowed
    /// unchanged when there is nothing to do.
    ///
    /// ```
    /// use otel_http::redact::QueryRedaction;
    /// let redaction = QueryRedaction::new();
    /// assert_eq!(
    ///     redaction.redact_url("https://user:pw@example.com/p?Sig=s3cret&q=1#frag"),
    ///     "https://REDACTED:REDACTED@example.com/p?Sig=REDACTED&q=1"
    /// );
    /// assert!(matches!(redaction.redact_url("https://example.com/p?q=1"), std::borrow::Cow::Borrowed(_)));
    /// ```
    pub fn redact_url<'a>(&self, url: &'a str) -> Cow<'a, str> {
        let without_fragment = url.split('#').next().unwrap_or(url);
        let (base, query) = match without_fragment.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (without_fragment, None),
        };
        let userinfo_end = base.find("://").and_then(|i| {
            let rest = &base[i + 3..];
            let authority_end = rest.find('/').unwrap_or(rest.len());
            rest[..authority_end]
                .rfind('@')
                .map(|at| (i + 3, i + 3 + at))
        });
        let redacted_query = query.map(|q| self.redact_query(q));
        let query_changed = matches!(redacted_query, Some(Cow::Owned(_)));
        if userinfo_end.is_none() && !query_changed {
            return Cow::Borrowed(without_fragment);
        }
        let userinfo = "REDACTED:REDACTED";
        let query_len = redacted_query.as_ref().map_or(0, |q| 1 + q.len());
        let mut out = String::with_capacity(base.len() + userinfo.len() + query_len);
        match userinfo_end {
            Some((start, at)) => {
                out.push_str(&base[..start]);
                out.push_str(userinfo);
                out.push_str(&base[at..]);
            }
            None => out.push_str(base),
        }
        if let Some(q) = redacted_query {
            out.push('?');
            out.push_str(&q);
        }
        Cow::Owned(out)
    }

    /// The key of `pair` when its value must be replaced (a sensitive key
    /// with a value that is not already `REDACTED`).
    fn redacted_value<'a>(&self, pair: &'a str) -> Option<&'a str> {
        let (key, value) = pair.split_once('=')?;
        (value != REDACTED && self.is_sensitive(key)).then_some(key)
    }
}

/// The `&`- or `;`-separated pairs of a query, empty ones included.
fn pairs(query: &str) -> impl Iterator<Item = &str> {
    query.split(['&', ';'])
}

/// Whether `raw`, percent-decoded, equals `key` ignoring ASCII case, without
/// decoding into a buffer.
fn decoded_eq_ignore_case(raw: &str, key: &[u8]) -> bool {
    let mut decoded = percent_decode(raw.as_bytes());
    let mut expected = key.iter();
    loop {
        match (decoded.next(), expected.next()) {
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let default = QueryRedaction::new();
        let cases = [
            ("", ""),
            ("a=1", "a=1"),
            ("sig=x", "sig=REDACTED"),
            ("SIG=x", "SIG=REDACTED"),
            ("s%69g=x", "s%69g=REDACTED"),
            ("s%49G=x", "s%49G=REDACTED"),
            ("%70assword=x", "%70assword=REDACTED"),
            (
                "x-amz-signature=x&X-Amz-Credential=y",
                "x-amz-signature=REDACTED&X-Amz-Credential=REDACTED",
            ),
            ("token=a&token=b", "token=REDACTED&token=REDACTED"),
            ("token&q=1", "token&q=1"),
            ("token=&q=1", "token=REDACTED&q=1"),
            ("q=1;access_token=t;x", "q=1;access_token=REDACTED;x"),
            ("&&token=t&", "&&token=REDACTED&"),
            (";=v;", ";=v;"),
            ("pwd=a=b==", "pwd=REDACTED"),
            ("tokens=x&my_token=y", "tokens=x&my_token=y"),
            ("sig=REDACTED", "sig=REDACTED"),
            ("%ZZ=1&%=2", "%ZZ=1&%=2"),
            ("é=1&apikey=ü", "é=1&apikey=REDACTED"),
        ];
        for (query, want) in cases {
            assert_eq!(default.redact_query(query), want, "{query}");
        }
    }

    #[test]
    fn nothing_to_change_borrows() {
        let default = QueryRedaction::new();
        for query in ["", "a=1&b=2", "token", "sig=REDACTED", "q=%41;x"] {
            assert!(
                matches!(default.redact_query(query), Cow::Borrowed(_)),
                "{query}"
            );
        }
        assert!(matches!(
            default.redact_url("http://a.example/x?q=1#f"),
            Cow::Borrowed("http://a.example/x?q=1")
        ));
    }

    #[test]
    fn added_keys_and_all_values() {
        let extra = QueryRedaction::new().with_keys(["O%54P", " pin "]);
        assert_eq!(
            extra.redact_query("otp=1&Pin=2&p=3"),
            "otp=REDACTED&Pin=REDACTED&p=3"
        );
        assert_eq!(extra, extra.clone().with_keys(["otp"]), "no duplicate");
        let all = QueryRedaction::from_env_value(Some("otp, *"));
        assert_eq!(
            all.redact_query("p=3&flag&e="),
            "p=REDACTED&flag&e=REDACTED"
        );
        assert_eq!(
            QueryRedaction::from_env_value(Some(" , ")),
            QueryRedaction::new()
        );
    }

    #[test]
    fn urls() {
        let default = QueryRedaction::new();
        let cases = [
            ("http://a.com/x", "http://a.com/x"),
            ("http://u@a.com/x", "http://REDACTED:REDACTED@a.com/x"),
            ("http://u:p@a.com", "http://REDACTED:REDACTED@a.com"),
            (
                "http://a.com/x?AWSAccessKeyId=k&Signature=s",
                "http://a.com/x?AWSAccessKeyId=REDACTED&Signature=REDACTED",
            ),
            ("http://a.com/@notuser?x=1", "http://a.com/@notuser?x=1"),
            ("http://a.com/x?sig", "http://a.com/x?sig"),
            (
                "http://a.com/x?signature=lower&Password=p",
                "http://a.com/x?signature=REDACTED&Password=REDACTED",
            ),
            ("http://a.com/x?q=1#token=t", "http://a.com/x?q=1"),
            (
                "http://u:p@a.com/x?token=t#f",
                "http://REDACTED:REDACTED@a.com/x?token=REDACTED",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(default.redact_url(input), want, "{input}");
        }
    }
}
