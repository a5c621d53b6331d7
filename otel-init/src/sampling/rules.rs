//! The rule-based sampler: ordered rules on span kind, name and attributes
//! (`http.route`, `http.request.method`, `url.path`, any other), each with its
//! own ratio, rate or both. The first matching rule decides.
//!
//! Text format (for `OTEL_TRACES_SAMPLER_ARG` with `rules` / `parentbased_rules`):
//!
//! ```text
//! RULES  := RULE (';' RULE)*
//! RULE   := MATCH '=>' ACTION
//! MATCH  := '*' | COND (',' COND)*
//! COND   := KEY '=' PATTERN      KEY: kind, name, or an attribute key such as http.route
//! ACTION := RATIO | RATE | RATIO 'max' RATE
//! RATIO  := a number from 0 to 1, or 'always' (1) or 'never' (0)
//! RATE   := a number followed by '/s' (traces per second)
//! ```
//!
//! `PATTERN` matches the whole value; `*` matches any run of characters.
//! A span no rule matches is sampled (the specification's default,
//! `always_on`); end with `* => …` to choose otherwise.

use super::probability::with_threshold;
use super::rate::{RateLimiter, parent_trace_state};
use super::ratio::RatioSampler;
use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, ShouldSample};
use std::fmt;
use std::sync::Arc;

/// What a rule does with the spans it matches: keep a ratio of traces, at
/// most a rate of them, or a ratio capped by a rate.
///
/// ```
/// use otel_init::sampling::Action;
/// let normal = Action::ratio(0.1).max_per_second(100.0);
/// assert_eq!(normal.to_string(), "0.1 max 100/s");
/// ```
#[derive(Clone)]
pub struct Action {
    ratio: Option<RatioSampler>,
    rate: Option<(f64, Arc<RateLimiter>)>,
}

impl Action {
    /// Keep every trace.
    ///
    /// ```
    /// use otel_init::sampling::{Action, Rule, RuleSampler};
    /// assert_eq!(Action::always().to_string(), "1");
    /// let parsed: RuleSampler = "* => always".parse().expect("valid rules");
    /// assert_eq!(parsed, RuleSampler::new([Rule::any().then(Action::always())]));
    /// ```
    pub fn always() -> Self {
        Self::ratio(1.0)
    }

    /// Keep no trace.
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::{SpanKind, TraceId};
    /// use otel_init::opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};
    /// use otel_init::sampling::{Action, Rule, RuleSampler};
    /// let nothing = RuleSampler::new([Rule::any().then(Action::never())]);
    /// let result = nothing.should_sample(None, TraceId::from(u128::MAX), "GET /", &SpanKind::Server, &[], &[]);
    /// assert_eq!(result.decision, SamplingDecision::Drop);
    /// ```
    pub fn never() -> Self {
        Self::ratio(0.0)
    }

    /// Keep `ratio` of traces, decided from the trace id (consistent across services).
    ///
    /// ```
    /// use otel_init::sampling::{Action, Rule, RuleSampler};
    /// assert_eq!(Action::ratio(0.25).to_string(), "0.25");
    /// let parsed: RuleSampler = "* => 0.25".parse().expect("valid rules");
    /// assert_eq!(parsed, RuleSampler::new([Rule::any().then(Action::ratio(0.25))]));
    /// ```
    pub fn ratio(ratio: f64) -> Self {
        Self {
            ratio: Some(RatioSampler::new(ratio)),
            rate: None,
        }
    }

    /// Keep at most `per_second` traces per second.
    ///
    /// ```
    /// use otel_init::sampling::{Action, Rule, RuleSampler};
    /// assert_eq!(Action::per_second(50.0).to_string(), "50/s");
    /// let parsed: RuleSampler = "* => 50/s".parse().expect("valid rules");
    /// assert_eq!(parsed, RuleSampler::new([Rule::any().then(Action::per_second(50.0))]));
    /// ```
    pub fn per_second(per_second: f64) -> Self {
        Self {
            ratio: None,
            rate: Some(limiter(per_second)),
        }
    }

    /// Also cap what this action keeps at `per_second` traces per second.
    ///
    /// ```
    /// use otel_init::sampling::Action;
    /// // 10% of traces, but never more than 100 a second under a traffic spike.
    /// assert_eq!(Action::ratio(0.1).max_per_second(100.0).to_string(), "0.1 max 100/s");
    /// ```
    pub fn max_per_second(mut self, per_second: f64) -> Self {
        self.rate = Some(limiter(per_second));
        self
    }

    fn sample(&self, trace_id: TraceId, parent: Option<&Context>) -> SamplingResult {
        let trace_state = parent_trace_state(parent);
        let threshold = match &self.ratio {
            Some(r) => match r.decide(trace_id, &trace_state) {
                Some(t) => Some(t),
                None => return drop(trace_state),
            },
            None => None,
        };
        if let Some((_, limiter)) = &self.rate {
            if !limiter.try_acquire() {
                return drop(trace_state);
            }
            // Capped by a rate, the ratio no longer states the probability.
            return keep(with_threshold(&trace_state, None));
        }
        keep(with_threshold(&trace_state, threshold))
    }
}

fn limiter(per_second: f64) -> (f64, Arc<RateLimiter>) {
    (
        per_second,
        Arc::new(RateLimiter::new(per_second, per_second.max(1.0))),
    )
}

fn keep(trace_state: opentelemetry::trace::TraceState) -> SamplingResult {
    SamplingResult {
        decision: SamplingDecision::RecordAndSample,
        attributes: Vec::new(),
        trace_state,
    }
}

fn drop(trace_state: opentelemetry::trace::TraceState) -> SamplingResult {
    SamplingResult {
        decision: SamplingDecision::Drop,
        attributes: Vec::new(),
        trace_state,
    }
}

impl PartialEq for Action {
    fn eq(&self, other: &Self) -> bool {
        self.ratio == other.ratio
            && self.rate.as_ref().map(|r| r.0) == other.rate.as_ref().map(|r| r.0)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.ratio, &self.rate) {
            (Some(r), Some((n, _))) => write!(f, "{} max {n}/s", r.ratio()),
            (Some(r), None) => write!(f, "{}", r.ratio()),
            (None, Some((n, _))) => write!(f, "{n}/s"),
            (None, None) => f.write_str("always"),
        }
    }
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Action({self})")
    }
}

/// A `*` glob matched against a whole value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    source: String,
    parts: Vec<String>,
}

impl Pattern {
    fn new(source: &str) -> Self {
        Self {
            source: source.to_owned(),
            parts: source.split('*').map(str::to_owned).collect(),
        }
    }

    fn matches(&self, value: &str) -> bool {
        let [first, middle @ .., last] = self.parts.as_slice() else {
            // One part: no `*`.
            return self.parts.first().is_some_and(|p| p == value);
        };
        let Some(mut rest) = value.strip_prefix(first.as_str()) else {
            return false;
        };
        for part in middle {
            match rest.find(part.as_str()) {
                Some(i) => rest = &rest[i + part.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last.as_str())
    }
}

/// What a condition looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Subject {
    Kind,
    Name,
    Attribute(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Condition {
    subject: Subject,
    pattern: Pattern,
}

impl Condition {
    fn matches(&self, name: &str, kind: &SpanKind, attributes: &[KeyValue]) -> bool {
        match &self.subject {
            Subject::Kind => self.pattern.matches(kind_name(kind)),
            Subject::Name => self.pattern.matches(name),
            Subject::Attribute(key) => attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .is_some_and(|kv| self.pattern.matches(&kv.value.as_str())),
        }
    }
}

fn kind_name(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Client => "client",
        SpanKind::Server => "server",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    }
}

/// One rule: every condition must match, then its [`Action`] decides.
///
/// ```
/// use otel_init::sampling::{Action, Rule};
/// let health = Rule::route("/healthz").then(Action::never());
/// let checkout = Rule::route("/checkout/*").method("POST").then(Action::always());
/// assert_eq!(checkout.to_string(), "http.route=/checkout/*,http.request.method=POST => 1");
/// # let _ = health;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    conditions: Vec<Condition>,
    action: Action,
}

impl Rule {
    /// A rule that matches every span.
    ///
    /// ```
    /// use otel_init::sampling::{Action, Rule};
    /// assert_eq!(Rule::any().to_string(), "* => 1");
    /// assert_eq!(Rule::any().then(Action::ratio(0.1)).to_string(), "* => 0.1");
    /// ```
    pub fn any() -> Self {
        Self {
            conditions: Vec::new(),
            action: Action::always(),
        }
    }

    /// Matches spans whose `http.route` matches `pattern`.
    ///
    /// ```
    /// use otel_init::opentelemetry::KeyValue;
    /// use otel_init::opentelemetry::trace::{SpanKind, TraceId};
    /// use otel_init::opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};
    /// use otel_init::sampling::{Action, Rule, RuleSampler};
    /// let sampler = RuleSampler::new([Rule::route("/health*").then(Action::never())]);
    /// let decide = |route: &str| {
    ///     let attributes = [KeyValue::new("http.route", route.to_owned())];
    ///     sampler.should_sample(None, TraceId::from(1u128), "GET", &SpanKind::Server, &attributes, &[]).decision
    /// };
    /// assert_eq!(decide("/healthz"), SamplingDecision::Drop);
    /// assert_eq!(decide("/cart"), SamplingDecision::RecordAndSample); // no rule matched
    /// ```
    pub fn route(pattern: &str) -> Self {
        Self::any().attribute("http.route", pattern)
    }

    /// Also require the span name to match `pattern`.
    ///
    /// ```
    /// use otel_init::sampling::{Action, Rule};
    /// let rule = Rule::any().name("poll *").then(Action::never());
    /// assert_eq!(rule.to_string(), "name=poll * => 0");
    /// ```
    pub fn name(self, pattern: &str) -> Self {
        self.condition(Subject::Name, pattern)
    }

    /// Also require this span kind.
    ///
    /// ```
    /// use otel_init::opentelemetry::trace::SpanKind;
    /// use otel_init::sampling::{Action, Rule, RuleSampler};
    /// let rule = Rule::any().kind(SpanKind::Consumer).then(Action::ratio(0.01));
    /// assert_eq!(rule.to_string(), "kind=consumer => 0.01");
    /// let parsed: RuleSampler = "kind=consumer => 0.01".parse().expect("valid rules");
    /// assert_eq!(parsed.rules(), [rule]);
    /// ```
    pub fn kind(self, kind: SpanKind) -> Self {
        self.condition(Subject::Kind, kind_name(&kind))
    }

    /// Also require `http.request.method` to match `pattern`.
    ///
    /// ```
    /// use otel_init::sampling::Rule;
    /// let reads = Rule::route("/products/*").method("GET");
    /// assert_eq!(reads.to_string(), "http.route=/products/*,http.request.method=GET => 1");
    /// ```
    pub fn method(self, pattern: &str) -> Self {
        self.attribute("http.request.method", pattern)
    }

    /// Also require the attribute `key`, present at span start, to match `pattern`.
    ///
    /// ```
    /// use otel_init::sampling::{Action, Rule};
    /// let big_customer = Rule::any().attribute("tenant.id", "acme-*").then(Action::always());
    /// assert_eq!(big_customer.to_string(), "tenant.id=acme-* => 1");
    /// ```
    pub fn attribute(self, key: &str, pattern: &str) -> Self {
        self.condition(Subject::Attribute(key.to_owned()), pattern)
    }

    /// The action for matching spans (default: always).
    ///
    /// ```
    /// use otel_init::sampling::{Action, Rule};
    /// assert_eq!(Rule::route("/cart").to_string(), "http.route=/cart => 1"); // the default
    /// assert_eq!(Rule::route("/cart").then(Action::per_second(5.0)).to_string(), "http.route=/cart => 5/s");
    /// ```
    pub fn then(mut self, action: Action) -> Self {
        self.action = action;
        self
    }

    fn condition(mut self, subject: Subject, pattern: &str) -> Self {
        self.conditions.push(Condition {
            subject,
            pattern: Pattern::new(pattern),
        });
        self
    }

    fn matches(&self, name: &str, kind: &SpanKind, attributes: &[KeyValue]) -> bool {
        self.conditions
            .iter()
            .all(|c| c.matches(name, kind, attributes))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.conditions.is_empty() {
            f.write_str("*")?;
        }
        for (i, c) in self.conditions.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let key = match &c.subject {
                Subject::Kind => "kind",
                Subject::Name => "name",
                Subject::Attribute(k) => k,
            };
            write!(f, "{key}={}", c.pattern.source)?;
        }
        write!(f, " => {}", self.action)
    }
}

/// Ordered rules; the first that matches decides. Spans no rule matches are
/// sampled unless a final [`Rule::any`] says otherwise.
///
/// ```
/// use otel_init::sampling::{Action, Rule, RuleSampler};
/// // The shop's policy: health checks never, checkout always, 10% of the rest.
/// let rules = RuleSampler::new([
///     Rule::route("/healthz").then(Action::never()),
///     Rule::route("/checkout*").then(Action::always()),
///     Rule::any().then(Action::ratio(0.1).max_per_second(100.0)),
/// ]);
/// let parsed: RuleSampler =
///     "http.route=/healthz => never; http.route=/checkout* => always; * => 0.1 max 100/s"
///         .parse()
///         .expect("valid rules");
/// assert_eq!(rules, parsed);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSampler {
    rules: Vec<Rule>,
}

impl RuleSampler {
    /// The rules, in order.
    ///
    /// ```
    /// use otel_init::opentelemetry::KeyValue;
    /// use otel_init::opentelemetry::trace::{SpanKind, TraceId};
    /// use otel_init::opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};
    /// use otel_init::sampling::{Action, Rule, RuleSampler};
    /// // The first matching rule decides: POST /checkout is kept, every other route dropped.
    /// let sampler = RuleSampler::new([
    ///     Rule::route("/checkout").method("POST").then(Action::always()),
    ///     Rule::any().then(Action::never()),
    /// ]);
    /// let decide = |method: &str| {
    ///     let attributes = [
    ///         KeyValue::new("http.route", "/checkout"),
    ///         KeyValue::new("http.request.method", method.to_owned()),
    ///     ];
    ///     sampler.should_sample(None, TraceId::from(1u128), "checkout", &SpanKind::Server, &attributes, &[]).decision
    /// };
    /// assert_eq!(decide("POST"), SamplingDecision::RecordAndSample);
    /// assert_eq!(decide("GET"), SamplingDecision::Drop);
    /// ```
    pub fn new(rules: impl IntoIterator<Item = Rule>) -> Self {
        Self {
            rules: rules.into_iter().collect(),
        }
    }

    /// The rules, in order.
    ///
    /// ```
    /// use otel_init::sampling::RuleSampler;
    /// let sampler: RuleSampler = "name=GET * => 0.5; * => never".parse().expect("valid rules");
    /// assert_eq!(sampler.rules().len(), 2);
    /// assert_eq!(sampler.rules()[1].to_string(), "* => 0");
    /// ```
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Parses the text format, keeping the valid rules and returning one error
    /// message per invalid rule (see the module documentation).
    ///
    /// ```
    /// use otel_init::sampling::RuleSampler;
    /// let (sampler, errors) = RuleSampler::parse_lenient("http.route=/healthz => never; oops; * => 0.1");
    /// assert_eq!(sampler.rules().len(), 2);
    /// assert_eq!(errors.len(), 1);
    /// assert!(errors[0].starts_with("rule \"oops\""), "{}", errors[0]);
    /// ```
    pub fn parse_lenient(text: &str) -> (Self, Vec<String>) {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        for raw in text.split(';').map(str::trim).filter(|r| !r.is_empty()) {
            match parse_rule(raw) {
                Ok(rule) => rules.push(rule),
                Err(why) => errors.push(format!("rule {raw:?}: {why}")),
            }
        }
        (Self { rules }, errors)
    }
}

impl std::str::FromStr for RuleSampler {
    type Err = String;

    /// Parses the text format; any invalid rule is an error.
    fn from_str(text: &str) -> Result<Self, String> {
        let (rules, errors) = Self::parse_lenient(text);
        match errors.into_iter().next() {
            Some(e) => Err(e),
            None if rules.rules.is_empty() => Err("no rules".to_owned()),
            None => Ok(rules),
        }
    }
}

impl fmt::Display for RuleSampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.rules.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

fn parse_rule(raw: &str) -> Result<Rule, String> {
    let (conds, action) = raw.split_once("=>").ok_or("expected `MATCH => ACTION`")?;
    let mut rule = Rule::any().then(parse_action(action.trim())?);
    let conds = conds.trim();
    if conds != "*" {
        for cond in conds.split(',').map(str::trim) {
            let (key, pattern) = cond
                .split_once('=')
                .ok_or_else(|| format!("condition {cond:?} is not KEY=PATTERN"))?;
            let (key, pattern) = (key.trim(), pattern.trim());
            rule = match key {
                "" => return Err(format!("condition {cond:?} has no key")),
                "name" => rule.name(pattern),
                "kind" => {
                    let kind = match pattern.to_ascii_lowercase().as_str() {
                        "server" => SpanKind::Server,
                        "client" => SpanKind::Client,
                        "internal" => SpanKind::Internal,
                        "producer" => SpanKind::Producer,
                        "consumer" => SpanKind::Consumer,
                        _ => return Err(format!("unknown span kind {pattern:?}")),
                    };
                    rule.kind(kind)
                }
                key => rule.attribute(key, pattern),
            };
        }
    }
    Ok(rule)
}

fn parse_action(raw: &str) -> Result<Action, String> {
    let (ratio, rate) = match raw.split_once(" max ") {
        Some((ratio, rate)) => (Some(ratio.trim()), Some(rate.trim())),
        None if raw.ends_with("/s") => (None, Some(raw)),
        None => (Some(raw), None),
    };
    let mut action = match ratio {
        Some(r) => Action::ratio(parse_ratio(r)?),
        None => Action::per_second(parse_rate(rate.unwrap_or_default())?),
    };
    if let (Some(_), Some(rate)) = (ratio, rate) {
        action = action.max_per_second(parse_rate(rate)?);
    }
    Ok(action)
}

fn parse_ratio(raw: &str) -> Result<f64, String> {
    match raw {
        "always" => Ok(1.0),
        "never" => Ok(0.0),
        _ => match raw.parse::<f64>() {
            Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
            _ => Err(format!(
                "action {raw:?} is not a ratio from 0 to 1, `always`, `never` or N/s"
            )),
        },
    }
}

fn parse_rate(raw: &str) -> Result<f64, String> {
    raw.strip_suffix("/s")
        .and_then(|n| n.trim().parse::<f64>().ok())
        .filter(|n| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| format!("rate {raw:?} is not a number of traces per second like `100/s`"))
}

impl ShouldSample for RuleSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        match self
            .rules
            .iter()
            .find(|r| r.matches(name, span_kind, attributes))
        {
            Some(rule) => rule.action.sample(trace_id, parent_context),
            None => Action::always().sample(trace_id, parent_context),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(r: &'static str) -> Vec<KeyValue> {
        vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.route", r),
        ]
    }

    fn decide(s: &RuleSampler, id: u128, kind: SpanKind, name: &str, attrs: &[KeyValue]) -> bool {
        s.should_sample(None, TraceId::from(id), name, &kind, attrs, &[])
            .decision
            == SamplingDecision::RecordAndSample
    }

    #[test]
    fn globs_match_whole_values() {
        let cases = [
            ("/healthz", "/healthz", true),
            ("/healthz", "/healthz/x", false),
            ("/checkout*", "/checkout/{order}", true),
            ("*/health*", "/api/health/live", true),
            ("*", "", true),
            ("a*b*c", "abc", true),
            ("a*b*c", "ac", false),
            ("a*a", "a", false),
            ("GET", "get", false),
        ];
        for (p, v, want) in cases {
            assert_eq!(Pattern::new(p).matches(v), want, "{p:?} vs {v:?}");
        }
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let s: RuleSampler = "http.route=/healthz => never; kind=client => always; \
                              http.route=/checkout*,http.request.method=GET => always; \
                              name=batch-* => 0; * => 0.5"
            .parse()
            .expect("valid");
        let dropped_by_half = 1u128; // randomness 1 < 2^55
        assert!(!decide(
            &s,
            u128::MAX,
            SpanKind::Server,
            "GET /healthz",
            &route("/healthz")
        ));
        assert!(decide(&s, dropped_by_half, SpanKind::Client, "GET", &[]));
        assert!(decide(
            &s,
            dropped_by_half,
            SpanKind::Server,
            "GET /checkout",
            &route("/checkout/{id}")
        ));
        assert!(!decide(
            &s,
            u128::MAX,
            SpanKind::Internal,
            "batch-nightly",
            &[]
        ));
        assert!(!decide(
            &s,
            dropped_by_half,
            SpanKind::Server,
            "GET /items",
            &route("/items")
        ));
        assert!(decide(
            &s,
            u128::MAX,
            SpanKind::Server,
            "GET /items",
            &route("/items")
        ));
        // No rule matches: sampled.
        let none = RuleSampler::new([Rule::route("/x").then(Action::never())]);
        assert!(decide(&none, 1, SpanKind::Server, "GET /y", &route("/y")));
    }

    #[test]
    fn rates_cap_what_a_rule_keeps() {
        let s: RuleSampler = "* => 1 max 0.001/s".parse().expect("valid");
        let kept = (0..100u128)
            .filter(|i| decide(&s, *i, SpanKind::Server, "x", &[]))
            .count();
        assert_eq!(kept, 1, "burst of one, then nothing for 1000 s");
        let r: RuleSampler = "* => 0.002/s".parse().expect("valid");
        assert_eq!(r.to_string(), "* => 0.002/s");
        let kept = (0..100u128)
            .filter(|i| decide(&r, *i, SpanKind::Server, "x", &[]))
            .count();
        assert_eq!(kept, 1, "a rate alone keeps regardless of the ratio");
    }

    #[test]
    fn bad_rules_are_named() {
        let (s, errors) = RuleSampler::parse_lenient(
            "http.route=/a => 2; nope; kind=sideways => 1; * => fast; x=1 => 3/m; * => 0.5",
        );
        assert_eq!(s.rules().len(), 1);
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(
            errors[0].contains("\"http.route=/a => 2\""),
            "{}",
            errors[0]
        );
        assert!("".parse::<RuleSampler>().is_err());
    }
}
