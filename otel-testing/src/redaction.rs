//! The query-redaction tables that the server (`url.query`) and client
//! (`url.full`) tests both run through a real request: each entry is a query
//! as sent and the query as it must be recorded.
//!
//! ```
//! use otel_testing::redaction::DEFAULT_KEYS;
//! assert!(DEFAULT_KEYS.iter().any(|(sent, recorded)| sent.contains("s%69g") && recorded.contains("REDACTED")));
//! ```

/// With the default keys: mixed case, percent-encoded keys, repeated keys,
/// keys without a value, `;` separators and empty pairs.
pub const DEFAULT_KEYS: [(&str, &str); 10] = [
    ("page=2&q=shoes", "page=2&q=shoes"),
    ("user=ann&password=hunter2", "user=ann&password=REDACTED"),
    (
        "SIG=abc&Token=t&API_KEY=k",
        "SIG=REDACTED&Token=REDACTED&API_KEY=REDACTED",
    ),
    (
        "s%69g=abc&%41ccess_token=t",
        "s%69g=REDACTED&%41ccess_token=REDACTED",
    ),
    ("token=a&token=b&id=1", "token=REDACTED&token=REDACTED&id=1"),
    ("token&sig=&x=1", "token&sig=REDACTED&x=1"),
    (
        "a=1;session=s;sessionid=t",
        "a=1;session=REDACTED;sessionid=REDACTED",
    ),
    ("&&secret=s&", "&&secret=REDACTED&"),
    (
        "X-Amz-Credential=c&X-Amz-Signature=s&X-Amz-Security-Token=t",
        "X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED",
    ),
    (
        "client_secret=c&refresh_token=r&id_token=i&pwd=p&passwd=p&apikey=k&auth=a&signature=s",
        "client_secret=REDACTED&refresh_token=REDACTED&id_token=REDACTED&pwd=REDACTED\
         &passwd=REDACTED&apikey=REDACTED&auth=REDACTED&signature=REDACTED",
    ),
];

/// Keys a test adds from the builder (one of them percent-encoded).
pub const ADDED_KEYS: [&str; 2] = ["otp", "Card%5FNumber"];

/// With [`ADDED_KEYS`] added: they are redacted, and so are the defaults.
pub const ADDED_KEYS_CASES: [(&str, &str); 2] = [
    (
        "OTP=1&card_number=4111&page=2",
        "OTP=REDACTED&card_number=REDACTED&page=2",
    ),
    ("sig=x", "sig=REDACTED"),
];

/// With every value redacted.
pub const ALL_VALUES_CASES: [(&str, &str); 1] =
    [("q=shoes;page=2&debug", "q=REDACTED;page=REDACTED&debug")];
