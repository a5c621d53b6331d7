//! Trust boundaries: how much of the caller's context a server accepts, and
//! which hosts a client sends its context to.
//!
//! A service that faces the internet should not let an attacker choose its
//! trace ids, force every request to be recorded, or plant baggage that flows
//! to internal services. [`IncomingPolicy`] decides per request; [`OutgoingPolicy`]
//! withholds the context from hosts outside an allow-list.
//! [`TrustedProxies`] decides whose `Forwarded` / `X-Forwarded-For` headers
//! a server believes when it records `client.address`.

use crate::carrier::HeaderExtractor;
use crate::propagation::inject_headers;
use crate::propagation::w3c_set::W3cSet;
use http::HeaderMap;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use std::sync::Arc;

mod proxies;
pub use proxies::{ClientAddress, InvalidProxy, TRUSTED_PROXIES_ENV, TrustedProxies};

/// Marks a context whose remote parent's sampled flag must not decide
/// sampling: samplers that honour it (otel-init's do) treat the span as a root
/// for the sampling decision while keeping the trace id.
///
/// [`IncomingPolicy::distrust_sampled_flag`] puts it on the parent context.
///
/// ```
/// use opentelemetry::Context;
/// use otel_http::trust::{DistrustedParentSampling, parent_sampling_distrusted};
///
/// assert!(!parent_sampling_distrusted(&Context::new()));
/// let cx = Context::new().with_value(DistrustedParentSampling);
/// assert_eq!(cx.get::<DistrustedParentSampling>(), Some(&DistrustedParentSampling));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DistrustedParentSampling;

/// Whether `cx` carries [`DistrustedParentSampling`].
///
/// ```
/// use otel_http::trust::{DistrustedParentSampling, parent_sampling_distrusted};
/// let cx = opentelemetry::Context::new().with_value(DistrustedParentSampling);
/// assert!(parent_sampling_distrusted(&cx));
/// ```
pub fn parent_sampling_distrusted(cx: &Context) -> bool {
    cx.get::<DistrustedParentSampling>().is_some()
}

type Decide = Arc<dyn Fn(&http::request::Parts) -> bool + Send + Sync>;

/// When a request is treated as coming from outside the trust boundary.
#[derive(Clone, Default)]
enum Public {
    #[default]
    Never,
    Always,
    When(Decide),
}

/// What a server does with the context that arrives with a request.
///
/// The default continues the caller's trace, honours its sampled flag and
/// accepts its baggage: right behind a gateway you control.
///
/// ```
/// use otel_http::trust::IncomingPolicy;
/// use otel_http::propagation::W3cTraceContextPropagator;
/// use opentelemetry::trace::TraceContextExt;
///
/// let policy = IncomingPolicy::new().public_endpoint().drop_baggage();
/// let (parts, ()) = http::Request::builder()
///     .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
///     .body(())
///     .unwrap()
///     .into_parts();
/// let incoming = policy.extract(&W3cTraceContextPropagator::new(), &parts);
/// // A new trace starts here; the caller's span is only linked.
/// assert!(!incoming.parent.span().span_context().is_valid());
/// assert_eq!(incoming.link.unwrap().trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// ```
#[derive(Clone, Default)]
pub struct IncomingPolicy {
    public: Public,
    distrust_sampled: bool,
    drop_baggage: bool,
}

impl std::fmt::Debug for IncomingPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let public = match self.public {
            Public::Never => "never",
            Public::Always => "always",
            Public::When(_) => "per request",
        };
        f.debug_struct("IncomingPolicy")
            .field("public_endpoint", &public)
            .field("distrust_sampled", &self.distrust_sampled)
            .field("drop_baggage", &self.drop_baggage)
            .finish()
    }
}

/// The context a server span should start from.
///
/// ```
/// use opentelemetry::trace::TraceContextExt;
/// use otel_http::propagation::W3cTraceContextPropagator;
/// use otel_http::trust::IncomingPolicy;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert("traceparent", http::HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
/// let propagator = W3cTraceContextPropagator::new();
///
/// // A trusted caller: its span is the parent, nothing to link.
/// let incoming = IncomingPolicy::new().extract_headers(&propagator, &headers, false);
/// assert!(incoming.parent.span().span_context().is_remote());
/// assert!(incoming.link.is_none());
///
/// // A public request: no parent, the caller's span is to be linked.
/// let incoming = IncomingPolicy::new().extract_headers(&propagator, &headers, true);
/// assert!(!incoming.parent.has_active_span());
/// assert_eq!(incoming.link.unwrap().span_id().to_string(), "00f067aa0ba902b7");
/// ```
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The parent context: the caller's span, or none on a public endpoint.
    pub parent: Context,
    /// On a public endpoint, the caller's span context, to be linked.
    pub link: Option<SpanContext>,
}

impl IncomingPolicy {
    /// Continue the caller's trace, honour its sampled flag, accept its baggage.
    ///
    /// ```
    /// use opentelemetry::trace::TraceContextExt;
    /// use otel_http::propagation::W3cTraceContextPropagator;
    /// use otel_http::trust::IncomingPolicy;
    ///
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("traceparent", http::HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    /// let incoming = IncomingPolicy::new()
    ///     .extract_headers(&W3cTraceContextPropagator::new(), &headers, false);
    /// let parent = incoming.parent.span().span_context().clone();
    /// assert_eq!(parent.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    /// assert!(parent.is_sampled());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Every request starts a new trace and links the caller's span context
    /// (Go's `WithPublicEndpoint`).
    ///
    /// ```
    /// use otel_http::trust::IncomingPolicy;
    ///
    /// let (anything, ()) = http::Request::new(()).into_parts();
    /// assert!(IncomingPolicy::new().public_endpoint().is_public(&anything));
    /// assert!(!IncomingPolicy::new().is_public(&anything));
    /// ```
    pub fn public_endpoint(mut self) -> Self {
        self.public = Public::Always;
        self
    }

    /// Decides per request whether it comes from outside, e.g. by a header
    /// your gateway sets or by the peer address.
    ///
    /// ```
    /// use otel_http::trust::IncomingPolicy;
    ///
    /// // Internal callers come through the gateway, which sets `x-internal`.
    /// let policy = IncomingPolicy::new()
    ///     .public_endpoint_if(|request| !request.headers.contains_key("x-internal"));
    /// let (internal, ()) = http::Request::builder()
    ///     .header("x-internal", "1")
    ///     .body(())
    ///     .unwrap()
    ///     .into_parts();
    /// let (outside, ()) = http::Request::new(()).into_parts();
    /// assert!(!policy.is_public(&internal));
    /// assert!(policy.is_public(&outside));
    /// ```
    pub fn public_endpoint_if(
        mut self,
        decide: impl Fn(&http::request::Parts) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.public = Public::When(Arc::new(decide));
        self
    }

    /// Keeps the caller's trace id but lets the local sampler decide as for a
    /// root span, so a caller cannot force (or suppress) recording.
    ///
    /// The parent context then carries [`DistrustedParentSampling`].
    ///
    /// ```
    /// use opentelemetry::trace::TraceContextExt;
    /// use otel_http::propagation::W3cTraceContextPropagator;
    /// use otel_http::trust::{IncomingPolicy, parent_sampling_distrusted};
    ///
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("traceparent", http::HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    /// let incoming = IncomingPolicy::new()
    ///     .distrust_sampled_flag()
    ///     .extract_headers(&W3cTraceContextPropagator::new(), &headers, false);
    /// // Same trace, but the sampler is told to ignore the caller's `01` flag.
    /// let parent = incoming.parent.span().span_context().clone();
    /// assert_eq!(parent.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    /// assert!(parent_sampling_distrusted(&incoming.parent));
    /// ```
    pub fn distrust_sampled_flag(mut self) -> Self {
        self.distrust_sampled = true;
        self
    }

    /// Ignores incoming baggage.
    ///
    /// ```
    /// use opentelemetry::baggage::BaggageExt;
    /// use otel_http::propagation::{PropagatorName, composite};
    /// use otel_http::trust::IncomingPolicy;
    ///
    /// let propagator = composite(&[PropagatorName::TraceContext, PropagatorName::Baggage]);
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("traceparent", http::HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    /// headers.insert("baggage", http::HeaderValue::from_static("user=42"));
    ///
    /// let kept = IncomingPolicy::new().extract_headers(&propagator, &headers, false);
    /// assert_eq!(kept.parent.baggage().get("user").unwrap().as_str(), "42");
    /// let dropped = IncomingPolicy::new()
    ///     .drop_baggage()
    ///     .extract_headers(&propagator, &headers, false);
    /// assert!(dropped.parent.baggage().is_empty());
    /// ```
    pub fn drop_baggage(mut self) -> Self {
        self.drop_baggage = true;
        self
    }

    /// Whether this request is treated as coming from outside.
    ///
    /// ```
    /// use otel_http::trust::IncomingPolicy;
    ///
    /// let (parts, ()) = http::Request::new(()).into_parts();
    /// assert!(!IncomingPolicy::new().is_public(&parts));
    /// assert!(IncomingPolicy::new().public_endpoint().is_public(&parts));
    /// ```
    pub fn is_public(&self, request: &http::request::Parts) -> bool {
        match &self.public {
            Public::Never => false,
            Public::Always => true,
            Public::When(decide) => decide(request),
        }
    }

    /// Extracts the caller's context from `request`'s headers and applies the policy.
    ///
    /// ```
    /// use opentelemetry::trace::TraceContextExt;
    /// use otel_http::propagation::W3cTraceContextPropagator;
    /// use otel_http::trust::IncomingPolicy;
    ///
    /// let (parts, ()) = http::Request::builder()
    ///     .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    ///     .body(())
    ///     .unwrap()
    ///     .into_parts();
    /// let incoming = IncomingPolicy::new().extract(&W3cTraceContextPropagator::new(), &parts);
    /// let parent = incoming.parent.span().span_context().clone();
    /// assert_eq!(parent.span_id().to_string(), "00f067aa0ba902b7");
    /// assert!(incoming.link.is_none());
    /// ```
    pub fn extract(
        &self,
        propagator: &dyn TextMapPropagator,
        request: &http::request::Parts,
    ) -> Incoming {
        self.extract_headers(propagator, &request.headers, self.is_public(request))
    }

    /// [`extract`](Self::extract) for callers that hold only the headers and
    /// have decided publicness themselves.
    ///
    /// ```
    /// use opentelemetry::trace::TraceContextExt;
    /// use otel_http::propagation::W3cTraceContextPropagator;
    /// use otel_http::trust::IncomingPolicy;
    ///
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("traceparent", http::HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    /// let propagator = W3cTraceContextPropagator::new();
    /// // `public` is the caller's decision: the policy's own rule is not consulted.
    /// let incoming = IncomingPolicy::new().extract_headers(&propagator, &headers, true);
    /// assert!(!incoming.parent.has_active_span());
    /// assert!(incoming.link.is_some());
    /// ```
    pub fn extract_headers(
        &self,
        propagator: &dyn TextMapPropagator,
        headers: &HeaderMap,
        public: bool,
    ) -> Incoming {
        // The W3C propagators `composite` builds (otel-init's default,
        // usually the global propagator) read the headers directly.
        let extracted = match W3cSet::recognise(propagator) {
            Some(set) => set.extract(headers),
            None => propagator.extract_with_context(&Context::new(), &HeaderExtractor(headers)),
        };
        let remote = extracted.span().span_context().clone();
        let has_baggage = !extracted.baggage().is_empty();
        // A trusted caller: the extracted context, with what the propagators
        // kept beside the span context (the random flag, the whole tracestate).
        if remote.is_valid() && !public {
            let mut parent = if self.drop_baggage && has_baggage {
                extracted.with_cleared_baggage()
            } else {
                extracted
            };
            if self.distrust_sampled {
                parent = parent.with_value(DistrustedParentSampling);
            }
            return Incoming { parent, link: None };
        }
        // Otherwise: no remote parent, and the baggage only if accepted.
        let mut parent = Context::new();
        if has_baggage && !self.drop_baggage {
            parent = parent.with_baggage(
                extracted
                    .baggage()
                    .iter()
                    .map(|(k, (v, m))| {
                        opentelemetry::baggage::KeyValueMetadata::new(
                            k.clone(),
                            v.clone(),
                            m.clone(),
                        )
                    })
                    .collect::<Vec<_>>(),
            );
        }
        let link = remote.is_valid().then_some(remote);
        Incoming { parent, link }
    }
}

/// A host name pattern: `api.example.com` exactly, or `*.example.com` for any subdomain.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    Suffix(String),
}

impl HostPattern {
    fn parse(pattern: &str) -> Self {
        let p = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
        match p.strip_prefix("*.") {
            Some(rest) => HostPattern::Suffix(format!(".{rest}")),
            None => HostPattern::Exact(p),
        }
    }

    /// Whether `host` (any case, without its trailing dot) matches; the
    /// pattern is lower-case, so no lower-cased copy of `host` is needed.
    fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(h) => host.eq_ignore_ascii_case(h),
            HostPattern::Suffix(s) => host
                .len()
                .checked_sub(s.len())
                .and_then(|start| host.get(start..))
                .is_some_and(|tail| tail.eq_ignore_ascii_case(s)),
        }
    }
}

/// Which hosts a client sends the trace context and baggage to.
///
/// The default sends both everywhere. With an allow-list, other hosts get
/// neither: their owners cannot correlate your requests or read your baggage.
///
/// ```
/// use opentelemetry::{Context, KeyValue, baggage::BaggageExt};
/// use otel_http::propagation::{PropagatorName, composite};
/// use otel_http::trust::OutgoingPolicy;
///
/// let policy = OutgoingPolicy::everywhere()
///     .context_only_to(["*.internal.example.com", "localhost"])
///     .baggage_only_to(["billing.internal.example.com"]);
/// assert!(policy.allows_context("orders.internal.example.com"));
/// assert!(!policy.allows_context("api.stripe.com"));
///
/// let propagator = composite(&[PropagatorName::TraceContext, PropagatorName::Baggage]);
/// let cx = Context::new().with_baggage([KeyValue::new("user", "42")]);
/// let mut headers = http::HeaderMap::new();
/// policy.inject(&propagator, &cx, "orders.internal.example.com", &mut headers);
/// assert!(headers.get("baggage").is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct OutgoingPolicy {
    context_hosts: Option<Vec<HostPattern>>,
    baggage_hosts: Option<Vec<HostPattern>>,
}

impl OutgoingPolicy {
    /// Trace context and baggage go to every host (the default).
    ///
    /// ```
    /// use otel_http::trust::OutgoingPolicy;
    ///
    /// let policy = OutgoingPolicy::everywhere();
    /// assert!(policy.allows_context("api.stripe.com"));
    /// assert!(policy.allows_baggage("api.stripe.com"));
    /// ```
    pub fn everywhere() -> Self {
        Self::default()
    }

    /// Trace context (and baggage) go only to hosts matching one of `patterns`.
    ///
    /// A pattern is a host name (any case, a trailing dot ignored) or
    /// `*.domain`, which matches every subdomain of `domain` but not `domain` itself.
    ///
    /// ```
    /// use otel_http::trust::OutgoingPolicy;
    ///
    /// let policy = OutgoingPolicy::everywhere().context_only_to(["*.svc.local", "localhost"]);
    /// assert!(policy.allows_context("orders.svc.local"));
    /// assert!(policy.allows_context("Orders.SVC.local."));
    /// assert!(policy.allows_context("localhost"));
    /// assert!(!policy.allows_context("svc.local"));
    /// assert!(!policy.allows_baggage("example.com"), "no context, no baggage");
    /// ```
    pub fn context_only_to<I, S>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.context_hosts = Some(
            patterns
                .into_iter()
                .map(|p| HostPattern::parse(p.as_ref()))
                .collect(),
        );
        self
    }

    /// Baggage goes only to hosts matching one of `patterns` (and allowed the context).
    ///
    /// ```
    /// use otel_http::trust::OutgoingPolicy;
    ///
    /// let policy = OutgoingPolicy::everywhere().baggage_only_to(["billing.svc.local"]);
    /// assert!(policy.allows_baggage("billing.svc.local"));
    /// assert!(!policy.allows_baggage("orders.svc.local"));
    /// assert!(policy.allows_context("orders.svc.local"), "the trace context still goes");
    /// ```
    pub fn baggage_only_to<I, S>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.baggage_hosts = Some(
            patterns
                .into_iter()
                .map(|p| HostPattern::parse(p.as_ref()))
                .collect(),
        );
        self
    }

    fn allowed(list: &Option<Vec<HostPattern>>, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        list.as_ref()
            .is_none_or(|l| l.iter().any(|p| p.matches(host)))
    }

    /// Whether `host` may receive the trace context.
    ///
    /// ```
    /// use otel_http::trust::OutgoingPolicy;
    ///
    /// let policy = OutgoingPolicy::everywhere().context_only_to(["api.example.com"]);
    /// assert!(policy.allows_context("API.example.com"));
    /// assert!(!policy.allows_context("www.example.com"));
    /// ```
    pub fn allows_context(&self, host: &str) -> bool {
        Self::allowed(&self.context_hosts, host)
    }

    /// Whether `host` may receive baggage: it must be allowed the trace context too.
    ///
    /// ```
    /// use otel_http::trust::OutgoingPolicy;
    ///
    /// let policy = OutgoingPolicy::everywhere()
    ///     .context_only_to(["*.svc.local"])
    ///     .baggage_only_to(["billing.svc.local", "api.stripe.com"]);
    /// assert!(policy.allows_baggage("billing.svc.local"));
    /// assert!(!policy.allows_baggage("orders.svc.local"));
    /// assert!(!policy.allows_baggage("api.stripe.com"), "listed, but denied the context");
    /// ```
    pub fn allows_baggage(&self, host: &str) -> bool {
        self.allows_context(host) && Self::allowed(&self.baggage_hosts, host)
    }

    /// Injects what `host` may receive of `cx` into `headers`.
    ///
    /// ```
    /// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
    /// use opentelemetry::{Context, KeyValue, baggage::BaggageExt};
    /// use otel_http::propagation::{PropagatorName, composite};
    /// use otel_http::trust::OutgoingPolicy;
    ///
    /// let span = SpanContext::new(
    ///     TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
    ///     SpanId::from_hex("00f067aa0ba902b7").unwrap(),
    ///     TraceFlags::SAMPLED,
    ///     false,
    ///     TraceState::default(),
    /// );
    /// let cx = Context::new()
    ///     .with_remote_span_context(span)
    ///     .with_baggage([KeyValue::new("user", "42")]);
    /// let propagator = composite(&[PropagatorName::TraceContext, PropagatorName::Baggage]);
    /// let policy = OutgoingPolicy::everywhere()
    ///     .context_only_to(["*.svc.local"])
    ///     .baggage_only_to(["billing.svc.local"]);
    ///
    /// let mut billing = http::HeaderMap::new();
    /// policy.inject(&propagator, &cx, "billing.svc.local", &mut billing);
    /// // A local span of a trace started here: sampled (01) and random (02).
    /// assert_eq!(billing["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
    /// assert_eq!(billing["baggage"], "user=42");
    ///
    /// let mut orders = http::HeaderMap::new();
    /// policy.inject(&propagator, &cx, "orders.svc.local", &mut orders);
    /// assert!(orders.contains_key("traceparent"));
    /// assert!(!orders.contains_key("baggage"));
    ///
    /// let mut outside = http::HeaderMap::new();
    /// policy.inject(&propagator, &cx, "api.stripe.com", &mut outside);
    /// assert!(outside.is_empty());
    /// ```
    pub fn inject(
        &self,
        propagator: &dyn TextMapPropagator,
        cx: &Context,
        host: &str,
        headers: &mut HeaderMap,
    ) {
        if !self.allows_context(host) {
            return;
        }
        if self.allows_baggage(host) || cx.baggage().is_empty() {
            inject_headers(propagator, cx, headers);
        } else {
            let without = cx.with_baggage(Vec::<KeyValue>::new());
            inject_headers(propagator, &without, headers);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns_ignore_case_without_copying() {
        let exact = HostPattern::parse("API.Example.com.");
        assert!(exact.matches("api.example.COM"));
        assert!(!exact.matches("api.example.co"));
        let suffix = HostPattern::parse("*.svc.local");
        assert!(suffix.matches("Orders.SVC.local"));
        assert!(!suffix.matches("svc.local"), "the suffix needs a subdomain");
        assert!(!suffix.matches("local"), "shorter than the suffix");
        assert!(
            !suffix.matches("aé123456789"),
            "not on a character boundary"
        );
        assert!(!suffix.matches("evilsvc.local"));
    }
}
