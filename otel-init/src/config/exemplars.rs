//! `OTEL_METRICS_EXEMPLAR_FILTER`: which measurements may become exemplars.

use super::env::EnvReader;

/// Which histogram measurements are offered to the exemplar reservoirs
/// (`OTEL_METRICS_EXEMPLAR_FILTER`, default `trace_based`).
///
/// An exemplar is one recorded measurement kept next to a histogram's data
/// point: its value, its time, and the trace id and span id of the span that
/// was current when it was recorded. See `docs/exemplars.md`.
///
/// ```
/// use otel_init::config::{Config, ExemplarFilter};
/// let nothing_set: [(&str, &str); 0] = [];
/// assert_eq!(Config::from_source(&nothing_set).exemplar_filter, ExemplarFilter::TraceBased);
///
/// let on = Config::from_source(&[("OTEL_METRICS_EXEMPLAR_FILTER", "always_on")]);
/// assert_eq!(on.exemplar_filter, ExemplarFilter::AlwaysOn);
///
/// let bad = Config::from_source(&[("OTEL_METRICS_EXEMPLAR_FILTER", "sometimes")]);
/// assert_eq!(bad.exemplar_filter, ExemplarFilter::TraceBased);
/// assert_eq!(
///     bad.warnings[0].to_string(),
///     "invalid value \"sometimes\" for OTEL_METRICS_EXEMPLAR_FILTER: \
///      expected one of trace_based, always_on, always_off; using trace_based"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExemplarFilter {
    /// Only measurements recorded while a sampled span is current (the
    /// default): every exemplar links to a trace that was exported.
    #[default]
    TraceBased,
    /// Every measurement; those recorded outside a sampled span have no
    /// trace id (their trace is not exported: there is nothing to link to).
    AlwaysOn,
    /// None: histograms carry no exemplars and recording costs nothing extra.
    AlwaysOff,
}

impl ExemplarFilter {
    /// The name `OTEL_METRICS_EXEMPLAR_FILTER` uses.
    ///
    /// ```
    /// use otel_init::config::ExemplarFilter;
    /// assert_eq!(ExemplarFilter::AlwaysOff.as_str(), "always_off");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TraceBased => "trace_based",
            Self::AlwaysOn => "always_on",
            Self::AlwaysOff => "always_off",
        }
    }
}

/// `OTEL_METRICS_EXEMPLAR_FILTER`, case-insensitive; a bad value warns and
/// gives the default.
pub(super) fn read_exemplar_filter(r: &mut EnvReader<'_>) -> ExemplarFilter {
    const VARIABLE: &str = "OTEL_METRICS_EXEMPLAR_FILTER";
    let Some(raw) = r.string(VARIABLE) else {
        return ExemplarFilter::default();
    };
    match raw.to_ascii_lowercase().as_str() {
        "trace_based" => ExemplarFilter::TraceBased,
        "always_on" => ExemplarFilter::AlwaysOn,
        "always_off" => ExemplarFilter::AlwaysOff,
        _ => {
            r.warn(
                VARIABLE,
                &raw,
                "one of trace_based, always_on, always_off; using trace_based",
            );
            ExemplarFilter::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn every_value_and_case() {
        for (raw, want) in [
            ("trace_based", ExemplarFilter::TraceBased),
            ("ALWAYS_ON", ExemplarFilter::AlwaysOn),
            (" always_off ", ExemplarFilter::AlwaysOff),
            ("", ExemplarFilter::TraceBased),
        ] {
            let config = Config::from_source(&[("OTEL_METRICS_EXEMPLAR_FILTER", raw)]);
            assert_eq!(config.exemplar_filter, want, "{raw:?}");
            assert!(config.warnings.is_empty(), "{raw:?}");
        }
    }

    #[test]
    fn a_bad_value_warns_once_naming_the_variable() {
        let config = Config::from_source(&[("OTEL_METRICS_EXEMPLAR_FILTER", "on")]);
        assert_eq!(config.exemplar_filter, ExemplarFilter::TraceBased);
        assert_eq!(config.warnings.len(), 1);
        assert_eq!(config.warnings[0].variable, "OTEL_METRICS_EXEMPLAR_FILTER");
        assert_eq!(config.warnings[0].value, "on");
    }
}
