//! [`LogFormat`]: the choice between JSON and human-readable output, as an
//! environment variable spells it.

use std::fmt;
use std::str::FromStr;

/// Which log output a service writes.
///
/// ```
/// use otel_logging::LogFormat;
/// let format: LogFormat = " JSON ".parse().expect("valid");
/// assert_eq!(format, LogFormat::Json);
/// assert_eq!(LogFormat::Auto.resolve(true), LogFormat::Text);
/// assert_eq!(LogFormat::Auto.resolve(false), LogFormat::Json);
/// assert!("yaml".parse::<LogFormat>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable on a terminal, JSON otherwise.
    #[default]
    Auto,
    /// One JSON object per line ([`JsonLayer`](crate::JsonLayer)).
    Json,
    /// Human-readable lines.
    Text,
    /// No log output (export through OTLP only, for example).
    None,
}

impl LogFormat {
    /// The accepted spellings, in the order they are documented.
    ///
    /// ```
    /// assert_eq!(otel_logging::LogFormat::ACCEPTED, ["auto", "json", "text", "none"]);
    /// ```
    pub const ACCEPTED: [&'static str; 4] = ["auto", "json", "text", "none"];

    /// [`Auto`](Self::Auto) becomes [`Text`](Self::Text) when the output is a
    /// terminal and [`Json`](Self::Json) otherwise; the others stay.
    ///
    /// ```
    /// use otel_logging::LogFormat;
    /// use std::io::IsTerminal;
    ///
    /// let format = LogFormat::Auto.resolve(std::io::stdout().is_terminal());
    /// assert!(matches!(format, LogFormat::Text | LogFormat::Json));
    /// assert_eq!(LogFormat::None.resolve(true), LogFormat::None);
    /// ```
    pub fn resolve(self, output_is_terminal: bool) -> LogFormat {
        match self {
            Self::Auto if output_is_terminal => Self::Text,
            Self::Auto => Self::Json,
            other => other,
        }
    }
}

/// A value that is not one of [`LogFormat::ACCEPTED`] (the error of
/// `LogFormat::from_str`).
///
/// ```
/// let err = "yaml".parse::<otel_logging::LogFormat>().unwrap_err();
/// assert_eq!(err, otel_logging::UnknownLogFormat("yaml".to_owned()));
/// assert_eq!(err.to_string(), r#"unknown log format "yaml": expected one of auto, json, text, none"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLogFormat(pub String);

impl fmt::Display for UnknownLogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown log format {:?}: expected one of {}",
            self.0,
            LogFormat::ACCEPTED.join(", ")
        )
    }
}

impl std::error::Error for UnknownLogFormat {}

impl FromStr for LogFormat {
    type Err = UnknownLogFormat;

    /// Case-insensitive, surrounding whitespace ignored.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let v = value.trim();
        [Self::Auto, Self::Json, Self::Text, Self::None]
            .into_iter()
            .zip(Self::ACCEPTED)
            .find(|(_, name)| v.eq_ignore_ascii_case(name))
            .map(|(format, _)| format)
            .ok_or_else(|| UnknownLogFormat(value.to_owned()))
    }
}
