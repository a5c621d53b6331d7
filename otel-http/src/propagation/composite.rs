//! Selecting propagators by their `OTEL_PROPAGATORS` names.

use super::w3c_set::W3cSet;
use super::{
    B3Encoding, B3Propagator, JaegerPropagator, W3cBaggagePropagator, W3cTraceContextPropagator,
};
use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use std::str::FromStr;

/// A propagator known by name: one entry of `OTEL_PROPAGATORS`, parsed
/// case-insensitively with surrounding whitespace ignored.
///
/// ```
/// use otel_http::propagation::PropagatorName;
///
/// assert_eq!(" TraceContext ".parse(), Ok(PropagatorName::TraceContext));
/// assert_eq!("b3multi".parse(), Ok(PropagatorName::B3Multi));
/// let names: Vec<PropagatorName> = "tracecontext,baggage,jaeger"
///     .split(',')
///     .map(str::parse)
///     .collect::<Result<_, _>>()
///     .unwrap();
/// assert_eq!(
///     names,
///     [PropagatorName::TraceContext, PropagatorName::Baggage, PropagatorName::Jaeger]
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropagatorName {
    /// `tracecontext`: W3C Trace Context.
    TraceContext,
    /// `baggage`: W3C Baggage.
    Baggage,
    /// `b3`: B3 single header.
    B3,
    /// `b3multi`: B3 multiple headers.
    B3Multi,
    /// `jaeger`: `uber-trace-id` and `uberctx-*`.
    Jaeger,
}

/// A name that is not a known propagator: the name as given (whitespace
/// trimmed, case kept), with a message that lists the known ones.
///
/// ```
/// use otel_http::propagation::{PropagatorName, UnknownPropagator};
///
/// let err = " XRay ".parse::<PropagatorName>().unwrap_err();
/// assert_eq!(err, UnknownPropagator("XRay".to_owned()));
/// assert_eq!(
///     err.to_string(),
///     r#"unknown propagator "XRay": expected tracecontext, baggage, b3, b3multi or jaeger"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPropagator(pub String);

impl std::fmt::Display for UnknownPropagator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown propagator {:?}: expected tracecontext, baggage, b3, b3multi or jaeger",
            self.0
        )
    }
}

impl std::error::Error for UnknownPropagator {}

impl FromStr for PropagatorName {
    type Err = UnknownPropagator;

    /// Case-insensitive, surrounding whitespace ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tracecontext" => Ok(Self::TraceContext),
            "baggage" => Ok(Self::Baggage),
            "b3" => Ok(Self::B3),
            "b3multi" => Ok(Self::B3Multi),
            "jaeger" => Ok(Self::Jaeger),
            _ => Err(UnknownPropagator(s.trim().to_owned())),
        }
    }
}

impl PropagatorName {
    /// The propagator itself: `b3` injects the single header, `b3multi` the
    /// `x-b3-*` ones.
    ///
    /// ```
    /// use otel_http::propagation::PropagatorName;
    ///
    /// let fields = |name: PropagatorName| name.build().fields().map(str::to_owned).collect::<Vec<_>>();
    /// assert_eq!(fields(PropagatorName::TraceContext), ["traceparent", "tracestate"]);
    /// assert_eq!(fields(PropagatorName::Baggage), ["baggage"]);
    /// assert_eq!(fields(PropagatorName::B3), ["b3"]);
    /// assert_eq!(fields(PropagatorName::B3Multi)[0], "x-b3-traceid");
    /// assert_eq!(fields(PropagatorName::Jaeger), ["uber-trace-id"]);
    /// ```
    pub fn build(self) -> Box<dyn TextMapPropagator + Send + Sync> {
        match self {
            Self::TraceContext => Box::new(W3cTraceContextPropagator::new()),
            Self::Baggage => Box::new(W3cBaggagePropagator::new()),
            Self::B3 => Box::new(B3Propagator::new(B3Encoding::SingleHeader)),
            Self::B3Multi => Box::new(B3Propagator::new(B3Encoding::MultipleHeader)),
            Self::Jaeger => Box::new(JaegerPropagator::new()),
        }
    }
}

/// The composite of `names`, in order (extraction: later ones win; injection: all).
///
/// ```
/// use otel_http::propagation::{PropagatorName, composite};
/// use opentelemetry::propagation::TextMapPropagator;
/// let p = composite(&[PropagatorName::TraceContext, PropagatorName::Baggage]);
/// let mut fields: Vec<&str> = p.fields().collect();
/// fields.sort();
/// assert_eq!(fields, ["baggage", "traceparent", "tracestate"]);
/// ```
pub fn composite(names: &[PropagatorName]) -> Propagators {
    Propagators {
        inner: TextMapCompositePropagator::new(names.iter().map(|n| n.build()).collect()),
        w3c: W3cSet::of(names),
    }
}

/// The propagators [`composite`] builds: OpenTelemetry's
/// `TextMapCompositePropagator` of them, which this behaves as in every
/// way. Where only the W3C propagators are composed (otel-init's default),
/// this workspace's extraction recognises it, as the global propagator too,
/// and reads the headers straight from the `HeaderMap`
/// ([`IncomingPolicy`](crate::trust::IncomingPolicy)), with the same result.
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
/// use otel_http::carrier::HeaderExtractor;
/// use otel_http::propagation::{PropagatorName, composite};
///
/// let propagators = composite(&[PropagatorName::TraceContext, PropagatorName::Baggage]);
/// let mut headers = http::HeaderMap::new();
/// headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
/// let cx = propagators.extract(&HeaderExtractor(&headers));
/// assert!(cx.span().span_context().is_sampled());
/// opentelemetry::global::set_text_map_propagator(propagators);
/// ```
#[derive(Debug)]
pub struct Propagators {
    inner: TextMapCompositePropagator,
    w3c: Option<W3cSet>,
}

impl TextMapPropagator for Propagators {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        self.inner.inject_context(cx, injector);
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        self.inner.extract_with_context(cx, extractor)
    }

    fn fields(&self) -> FieldIter<'_> {
        match self.w3c {
            // The static that makes a W3C composite recognisable.
            Some(set) => set.fields(),
            None => self.inner.fields(),
        }
    }
}
