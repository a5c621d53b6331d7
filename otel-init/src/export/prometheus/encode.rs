//! One collection as the Prometheus text format (0.0.4) or OpenMetrics 1.0,
//! from one code path: the formats differ only in the TYPE name of counters,
//! `# UNIT`, `info` for `target_info`, exemplars, escaping in HELP and `# EOF`.

use super::exemplar::{Exemplar, ExemplarSource, SeriesKey};
use super::names::{FamilyName, Kind, label_name};
use opentelemetry::{InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::UNIX_EPOCH;

/// The exposition format of one scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `text/plain; version=0.0.4`.
    Text,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

impl Format {
    /// Content negotiation: OpenMetrics when the `Accept` header prefers it
    /// (by q-value, then by order) to the text format, else the text format.
    pub(crate) fn negotiate(accept: Option<&str>) -> Self {
        let mut best: Option<(f32, Format)> = None;
        for range in accept.unwrap_or("").split(',') {
            let mut params = range.split(';').map(str::trim);
            let media = params.next().unwrap_or("").to_ascii_lowercase();
            let mut q = 1.0f32;
            let mut version = None;
            for p in params {
                if let Some((k, v)) = p.split_once('=') {
                    match k.trim().to_ascii_lowercase().as_str() {
                        "q" => q = v.trim().parse().unwrap_or(0.0),
                        "version" => version = Some(v.trim().to_owned()),
                        _ => {}
                    }
                }
            }
            let format = match (media.as_str(), version.as_deref()) {
                ("application/openmetrics-text", None | Some("1.0.0" | "0.0.1")) => {
                    Format::OpenMetrics
                }
                ("text/plain", None | Some("0.0.4")) | ("*/*", _) => Format::Text,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, format));
            }
        }
        best.map_or(Format::Text, |(_, f)| f)
    }

    /// The response's `Content-Type`.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// What an encoding left out, for one warning.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// Instruments whose Prometheus name another instrument of a different
    /// type already has (the specification: drop the whole metric).
    pub conflicting: Vec<String>,
    /// Instruments Prometheus' text formats cannot carry: exponential
    /// histograms and delta temporality.
    pub unsupported: Vec<String>,
}

/// Writes `metrics` in `format` to `out`.
pub(crate) fn encode(
    metrics: &ResourceMetrics,
    format: Format,
    exemplars: &dyn ExemplarSource,
    out: &mut String,
) -> Skipped {
    let mut skipped = Skipped::default();
    write_target_info(metrics, format, out);

    // Families by Prometheus name, in first-seen order: the same instrument in
    // two scopes is one family (one TYPE line, contiguous samples).
    // Every sample name a family writes, so that no two families share one.
    let mut families: Vec<Family<'_>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    if !metrics.resource().is_empty() {
        // Taken by target_info (no family has this index).
        for name in ["target", "target_info"] {
            index.insert(name.to_owned(), usize::MAX);
        }
    }
    for scope_metrics in metrics.scope_metrics() {
        let scope = scope_metrics.scope();
        for metric in scope_metrics.metrics() {
            let Some(kind) = kind_of(metric) else {
                skipped.unsupported.push(metric.name().to_owned());
                continue;
            };
            let name = FamilyName::new(metric.name(), metric.unit(), kind);
            let samples = name.sample_names(kind);
            match samples.iter().find_map(|s| index.get(s)) {
                Some(&i) => match families.get_mut(i) {
                    Some(f) if f.kind == kind && f.name == name => f.members.push((scope, metric)),
                    _ => skipped.conflicting.push(metric.name().to_owned()),
                },
                None => {
                    for s in samples {
                        index.insert(s, families.len());
                    }
                    families.push(Family {
                        name,
                        kind,
                        help: metric.description(),
                        members: vec![(scope, metric)],
                    });
                }
            }
        }
    }
    for family in &families {
        family.write(format, exemplars, out);
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    skipped
}

struct Family<'a> {
    name: FamilyName,
    kind: Kind,
    help: &'a str,
    members: Vec<(&'a InstrumentationScope, &'a Metric)>,
}

impl Family<'_> {
    fn write(&self, format: Format, exemplars: &dyn ExemplarSource, out: &mut String) {
        let type_name = match (self.kind, format) {
            // The text format names the counter by its sample.
            (Kind::Counter, Format::Text) => self.name.total(),
            _ => self.name.base.clone(),
        };
        if !self.help.is_empty() {
            let _ = write!(out, "# HELP {type_name} ");
            escape_help(self.help, format, out);
            out.push('\n');
        }
        let _ = writeln!(out, "# TYPE {type_name} {}", self.kind.as_str());
        if let (Format::OpenMetrics, Some(unit)) = (format, &self.name.unit) {
            let _ = writeln!(out, "# UNIT {} {unit}", self.name.base);
        }
        for (scope, metric) in &self.members {
            let (scope_labels, scope_label_names) = scope_labels(scope);
            let mut w = Samples {
                base: &self.name.base,
                format,
                exemplars,
                scope,
                metric,
                scope_labels: &scope_labels,
                scope_label_names: &scope_label_names,
                histogram: self.kind == Kind::Histogram,
                out: &mut *out,
            };
            match metric.data() {
                AggregatedMetrics::F64(d) => w.data(d),
                AggregatedMetrics::U64(d) => w.data(d),
                AggregatedMetrics::I64(d) => w.data(d),
            }
        }
    }
}

/// The Prometheus type of a metric; `None`: not representable.
fn kind_of(metric: &Metric) -> Option<Kind> {
    fn of<T>(d: &MetricData<T>) -> Option<Kind> {
        match d {
            MetricData::Gauge(_) => Some(Kind::Gauge),
            MetricData::Sum(s) if s.temporality() != Temporality::Cumulative => None,
            MetricData::Sum(s) if s.is_monotonic() => Some(Kind::Counter),
            MetricData::Sum(_) => Some(Kind::Gauge),
            MetricData::Histogram(h) if h.temporality() == Temporality::Cumulative => {
                Some(Kind::Histogram)
            }
            MetricData::Histogram(_) | MetricData::ExponentialHistogram(_) => None,
        }
    }
    match metric.data() {
        AggregatedMetrics::F64(d) => of(d),
        AggregatedMetrics::U64(d) => of(d),
        AggregatedMetrics::I64(d) => of(d),
    }
}

/// A sample value: integers stay integers.
trait Number: Copy {
    fn write(self, out: &mut String);
    fn to_f64(self) -> f64;
}

impl Number for f64 {
    fn write(self, out: &mut String) {
        write_f64(self, out);
    }
    fn to_f64(self) -> f64 {
        self
    }
}

impl Number for u64 {
    fn write(self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl Number for i64 {
    fn write(self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
}

fn write_f64(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{v}");
    }
}

/// The samples of one metric of one scope.
struct Samples<'a, 'o> {
    base: &'a str,
    format: Format,
    exemplars: &'a dyn ExemplarSource,
    scope: &'a InstrumentationScope,
    metric: &'a Metric,
    scope_labels: &'a str,
    /// The scope's label names: a point attribute with one of these names is
    /// left out (a label twice makes Prometheus reject the whole scrape).
    scope_label_names: &'a [String],
    /// Whether `le` is taken by the buckets.
    histogram: bool,
    out: &'o mut String,
}

impl Samples<'_, '_> {
    fn data<T: Number>(&mut self, data: &MetricData<T>) {
        match data {
            MetricData::Gauge(g) => {
                for p in g.data_points() {
                    let labels = self.labels(p.attributes());
                    self.sample(self.base, &labels, None, p.value(), None);
                }
            }
            MetricData::Sum(s) if s.is_monotonic() => {
                let name = format!("{}_total", self.base);
                for p in s.data_points() {
                    let attributes: Vec<&KeyValue> = p.attributes().collect();
                    let labels = self.labels(attributes.iter().copied());
                    let exemplar = self.lookup(&attributes, |src, key| src.counter(key));
                    self.sample(&name, &labels, None, p.value(), exemplar);
                }
            }
            MetricData::Sum(s) => {
                for p in s.data_points() {
                    let labels = self.labels(p.attributes());
                    self.sample(self.base, &labels, None, p.value(), None);
                }
            }
            MetricData::Histogram(h) => {
                let (bucket, count, sum) = (
                    format!("{}_bucket", self.base),
                    format!("{}_count", self.base),
                    format!("{}_sum", self.base),
                );
                for p in h.data_points() {
                    let attributes: Vec<&KeyValue> = p.attributes().collect();
                    let labels = self.labels(attributes.iter().copied());
                    let mut cumulative = 0u64;
                    let mut carried: Option<Exemplar> = None;
                    let bounds = p.bounds().map(Some).chain(std::iter::once(None));
                    for (i, (bound, n)) in bounds.zip(p.bucket_counts()).enumerate() {
                        cumulative = cumulative.saturating_add(n);
                        let mut le = String::new();
                        write_f64(bound.unwrap_or(f64::INFINITY), &mut le);
                        let own = self.lookup(&attributes, |src, key| src.histogram_bucket(key, i));
                        if own.is_some() {
                            carried = own;
                        }
                        self.sample(&bucket, &labels, Some(&le), cumulative, carried);
                    }
                    self.sample(&count, &labels, None, p.count(), None);
                    // Only a sum of non-negative values is a counter-like sum.
                    if p.min().is_none_or(|m| m.to_f64() >= 0.0) {
                        self.sample(&sum, &labels, None, p.sum(), None);
                    }
                }
            }
            MetricData::ExponentialHistogram(_) => {}
        }
    }

    /// An exemplar, only where the format carries one.
    fn lookup(
        &self,
        attributes: &[&KeyValue],
        f: impl FnOnce(&dyn ExemplarSource, &SeriesKey<'_>) -> Option<Exemplar>,
    ) -> Option<Exemplar> {
        if self.format != Format::OpenMetrics {
            return None;
        }
        let key = SeriesKey {
            scope: self.scope.name(),
            instrument: self.metric.name(),
            attributes,
        };
        f(self.exemplars, &key)
    }

    /// The point's attributes and the scope's labels, comma-separated.
    fn labels<'k>(&self, attributes: impl Iterator<Item = &'k KeyValue>) -> String {
        let taken = |name: &str| {
            (self.histogram && name == "le") || self.scope_label_names.iter().any(|n| n == name)
        };
        let mut out = label_pairs(attributes.map(|kv| (kv.key.as_str(), &kv.value)), &taken);
        if !self.scope_labels.is_empty() {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(self.scope_labels);
        }
        out
    }

    fn sample(
        &mut self,
        name: &str,
        labels: &str,
        le: Option<&str>,
        value: impl Number,
        exemplar: Option<Exemplar>,
    ) {
        let out = &mut *self.out;
        out.push_str(name);
        if !labels.is_empty() || le.is_some() {
            out.push('{');
            out.push_str(labels);
            if let Some(le) = le {
                if !labels.is_empty() {
                    out.push(',');
                }
                let _ = write!(out, "le=\"{le}\"");
            }
            out.push('}');
        }
        out.push(' ');
        value.write(out);
        if let Some(e) = exemplar {
            let _ = write!(
                out,
                " # {{trace_id=\"{}\",span_id=\"{}\"}} ",
                e.trace_id, e.span_id
            );
            write_f64(e.value, out);
            if let Ok(t) = e.time.duration_since(UNIX_EPOCH) {
                let _ = write!(out, " {}.{:03}", t.as_secs(), t.subsec_millis());
            }
        }
        out.push('\n');
    }
}

/// `otel_scope_name`, `otel_scope_version`, `otel_scope_schema_url` and the
/// scope's attributes as `otel_scope_<name>` (empty values left out: Prometheus
/// treats an empty label as absent), and their names.
fn scope_labels(scope: &InstrumentationScope) -> (String, Vec<String>) {
    let mut pairs: Vec<(String, Value)> = Vec::new();
    let mut add = |k: &str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            pairs.push((k.to_owned(), Value::from(v.to_owned())));
        }
    };
    add("otel_scope_name", Some(scope.name()));
    add("otel_scope_version", scope.version());
    add("otel_scope_schema_url", scope.schema_url());
    for kv in scope.attributes() {
        pairs.push((format!("otel_scope_{}", kv.key.as_str()), kv.value.clone()));
    }
    let names = pairs.iter().map(|(k, _)| label_name(k)).collect();
    (
        label_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v)), &|_| false),
        names,
    )
}

/// `target_info`: the resource's attributes, once per scrape (an `info`
/// metric in OpenMetrics, a gauge of 1 in the text format).
fn write_target_info(metrics: &ResourceMetrics, format: Format, out: &mut String) {
    let resource = metrics.resource();
    if resource.is_empty() {
        return;
    }
    let labels = label_pairs(resource.iter().map(|(k, v)| (k.as_str(), v)), &|_| false);
    match format {
        Format::Text => {
            out.push_str("# HELP target_info Target metadata\n# TYPE target_info gauge\n")
        }
        Format::OpenMetrics => out.push_str("# HELP target Target metadata\n# TYPE target info\n"),
    }
    let _ = writeln!(out, "target_info{{{labels}}} 1");
}

/// `key="value"` pairs, keys sanitised and sorted; keys that sanitise to the
/// same label get their values joined by `;` in the order of the original keys;
/// labels `taken` says another part of the sample owns are left out.
fn label_pairs<'k>(
    attributes: impl Iterator<Item = (&'k str, &'k Value)>,
    taken: &dyn Fn(&str) -> bool,
) -> String {
    let mut labels: Vec<(String, &str, std::borrow::Cow<'_, str>)> = attributes
        .map(|(k, v)| (label_name(k), k, v.as_str()))
        .filter(|(name, _, _)| !taken(name))
        .collect();
    labels.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut out = String::new();
    let mut previous: Option<&str> = None;
    for (name, _, value) in &labels {
        if previous == Some(name.as_str()) {
            out.pop(); // the closing quote
            out.push(';');
        } else {
            if previous.is_some() {
                out.push(',');
            }
            out.push_str(name);
            out.push_str("=\"");
        }
        escape_label_value(value, &mut out);
        out.push('"');
        previous = Some(name.as_str());
    }
    out
}

fn escape_label_value(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn escape_help(v: &str, format: Format, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if format == Format::OpenMetrics => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
