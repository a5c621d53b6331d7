//! OpenTelemetry names and units to Prometheus names, as the specification's
//! "Prometheus and OpenMetrics Compatibility" says (OTLP to Prometheus,
//! Metric Metadata and Metric Attributes).

/// What a metric becomes in Prometheus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A cumulative monotonic sum.
    Counter,
    /// A gauge or a cumulative non-monotonic sum.
    Gauge,
    /// A cumulative explicit-bucket histogram.
    Histogram,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A metric family's name in both formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FamilyName {
    /// The name without `_total`: OpenMetrics' family name (TYPE, HELP, UNIT),
    /// and the base of every sample name.
    pub base: String,
    /// The unit written as OpenMetrics `# UNIT` (only when `base` ends with it).
    pub unit: Option<String>,
}

impl FamilyName {
    /// The family name and unit of an instrument.
    pub(crate) fn new(name: &str, unit: &str, kind: Kind) -> Self {
        let mut base = metric_name(name);
        if kind == Kind::Counter
            && let Some(stripped) = base.strip_suffix("_total")
        {
            // The unit goes before `_total`, which the counter's sample gets back.
            base = stripped.to_owned();
        }
        let unit = prometheus_unit(unit, kind);
        if let Some(u) = &unit
            && !contains_tokens(&base, u)
        {
            if !base.is_empty() {
                base.push('_');
            }
            base.push_str(u);
        }
        let unit = unit.filter(|u| base.ends_with(&format!("_{u}")) || base == *u);
        FamilyName { base, unit }
    }

    /// Every name this family's samples (and its TYPE line) use.
    pub(crate) fn sample_names(&self, kind: Kind) -> Vec<String> {
        let suffixes: &[&str] = match kind {
            Kind::Counter => &["", "_total"],
            Kind::Gauge => &[""],
            Kind::Histogram => &["", "_bucket", "_count", "_sum"],
        };
        suffixes
            .iter()
            .map(|s| format!("{}{s}", self.base))
            .collect()
    }

    /// The name of the counter's sample: `base` + `_total`.
    pub(crate) fn total(&self) -> String {
        format!("{}_total", self.base)
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`: every other character becomes `_`, runs of
/// `_` become one, and a leading digit gets a `_` before it.
pub(crate) fn metric_name(raw: &str) -> String {
    sanitize(raw, true)
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, by the same rules as [`metric_name`].
pub(crate) fn label_name(raw: &str) -> String {
    sanitize(raw, false)
}

fn sanitize(raw: &str, colons: bool) -> String {
    let mut out = String::with_capacity(raw.len() + 1);
    for c in raw.chars() {
        let valid = c.is_ascii_alphanumeric() || c == '_' || (colons && c == ':');
        let c = if valid { c } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        if out.is_empty() && c.is_ascii_digit() {
            out.push('_');
        }
        out.push(c);
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// Whether `name`'s `_`-separated words contain `unit`'s words in a row.
fn contains_tokens(name: &str, unit: &str) -> bool {
    format!("_{name}_").contains(&format!("_{unit}_"))
}

/// The Prometheus unit of a UCUM unit: abbreviations spelled out,
/// `{annotations}` dropped, `foo/bar` as `foo_per_bar`, and `1` as `ratio`
/// for gauges (for counters and histograms `1` means a plain count, as in
/// the Collector's translation). `None`: no unit suffix.
pub(crate) fn prometheus_unit(unit: &str, kind: Kind) -> Option<String> {
    let mut stripped = String::with_capacity(unit.len());
    let mut depth = 0usize;
    for c in unit.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            c if depth == 0 => stripped.push(c),
            _ => {}
        }
    }
    let stripped = stripped.trim();
    if stripped.is_empty() {
        return None;
    }
    if stripped == "1" {
        return (kind == Kind::Gauge).then(|| "ratio".to_owned());
    }
    let (main, per) = match stripped.split_once('/') {
        Some((m, p)) => (m.trim(), Some(p.trim())),
        None => (stripped, None),
    };
    let main = match main {
        "" | "1" => String::new(),
        m => main_unit(m).map_or_else(|| unit_word(m), str::to_owned),
    };
    let per = per
        .filter(|p| !p.is_empty())
        .map(|p| per_unit(p).map_or_else(|| unit_word(p), str::to_owned));
    let out = match (main.is_empty(), per) {
        (_, None) => main,
        (true, Some(p)) => format!("per_{p}"),
        (false, Some(p)) => format!("{main}_per_{p}"),
    };
    let out = out.trim_matches('_').to_owned();
    (!out.is_empty()).then_some(out)
}

/// A unit the tables do not know, made a valid name part.
fn unit_word(raw: &str) -> String {
    sanitize(raw, false).trim_matches('_').to_owned()
}

fn main_unit(u: &str) -> Option<&'static str> {
    Some(match u {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "%" => "percent",
        _ => return None,
    })
}

fn per_unit(u: &str) -> Option<&'static str> {
    Some(match u {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(name: &str, unit: &str, kind: Kind) -> (String, Option<String>) {
        let f = FamilyName::new(name, unit, kind);
        (f.base, f.unit)
    }

    #[test]
    fn invalid_characters_become_one_underscore() {
        assert_eq!(
            metric_name("http.server.request.duration"),
            "http_server_request_duration"
        );
        assert_eq!(metric_name("a..b--c"), "a_b_c");
        assert_eq!(metric_name("db:ops"), "db:ops");
        assert_eq!(metric_name("2xx.count"), "_2xx_count");
        assert_eq!(metric_name("ünïcode"), "_n_code");
        assert_eq!(label_name("http.route"), "http_route");
        assert_eq!(label_name("a:b"), "a_b");
        assert_eq!(label_name("__reserved"), "_reserved");
        assert_eq!(label_name(""), "_");
    }

    #[test]
    fn units_are_spelled_out_and_annotations_dropped() {
        let g = Kind::Gauge;
        assert_eq!(prometheus_unit("s", g).as_deref(), Some("seconds"));
        assert_eq!(prometheus_unit("ms", g).as_deref(), Some("milliseconds"));
        assert_eq!(prometheus_unit("By", g).as_deref(), Some("bytes"));
        assert_eq!(
            prometheus_unit("By/s", g).as_deref(),
            Some("bytes_per_second")
        );
        assert_eq!(prometheus_unit("{request}", g), None);
        assert_eq!(
            prometheus_unit("{packet}/s", g).as_deref(),
            Some("per_second")
        );
        assert_eq!(
            prometheus_unit("ms{client}", g).as_deref(),
            Some("milliseconds")
        );
        assert_eq!(prometheus_unit("1", Kind::Gauge).as_deref(), Some("ratio"));
        assert_eq!(prometheus_unit("1", Kind::Counter), None);
        assert_eq!(prometheus_unit("", g), None);
        assert_eq!(
            prometheus_unit("furlong.x", g).as_deref(),
            Some("furlong_x")
        );
    }

    #[test]
    fn unit_suffix_then_total() {
        assert_eq!(
            family("http.server.request.duration", "s", Kind::Histogram),
            (
                "http_server_request_duration_seconds".into(),
                Some("seconds".into())
            )
        );
        // Already named with its unit: no second suffix.
        assert_eq!(
            family("request_duration_seconds", "s", Kind::Histogram),
            ("request_duration_seconds".into(), Some("seconds".into()))
        );
        assert_eq!(
            family("seconds_spent_waiting", "s", Kind::Gauge),
            ("seconds_spent_waiting".into(), None) // UNIT must be a suffix
        );
        let orders = FamilyName::new("orders", "{order}", Kind::Counter);
        assert_eq!(
            (orders.base.as_str(), orders.total()),
            ("orders", "orders_total".into())
        );
        let cpu = FamilyName::new("process.cpu.time_total", "s", Kind::Counter);
        assert_eq!(cpu.total(), "process_cpu_time_seconds_total");
        assert_eq!(
            family("memory.utilization", "1", Kind::Gauge),
            ("memory_utilization_ratio".into(), Some("ratio".into()))
        );
    }
}
