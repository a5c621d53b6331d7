//! [`OtelMiddleware`] and the configuration its calls share.

use crate::attributes::{middleware_error_description, middleware_error_type};
use crate::builder::{NameHook, OtelMiddlewareBuilder, RequestHook, ResponseHook};
use crate::call::ClientCall;
use crate::metrics::ClientMetrics;
use http::{Extensions, HeaderMap, HeaderName};
use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::propagation::TextMapPropagator;
use otel_http::propagation::inject_headers;
use otel_http::redact::QueryRedaction;
use otel_http::trust::OutgoingPolicy;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};
use std::sync::Arc;

pub(crate) struct Config {
    pub tracer: BoxedTracer,
    /// The tracer is the global provider's, so what was declared of its
    /// sampler ([`otel_http::sampling`]) holds for it.
    pub global_tracer: bool,
    pub metrics: ClientMetrics,
    pub propagator: Option<Arc<dyn TextMapPropagator + Send + Sync>>,
    /// `None`: the context goes everywhere (the default, checked for nothing).
    pub policy: Option<OutgoingPolicy>,
    pub request_headers: Vec<HeaderName>,
    pub response_headers: Vec<HeaderName>,
    pub span_name: Option<NameHook>,
    pub request_hook: Option<RequestHook>,
    pub response_hook: Option<ResponseHook>,
    pub redaction: QueryRedaction,
}

impl Config {
    /// Injects `cx` into `headers`, as far as the policy allows for `host`.
    pub(crate) fn inject(&self, cx: &Context, host: &str, headers: &mut HeaderMap) {
        let mut inject = |propagator: &dyn TextMapPropagator| match &self.policy {
            Some(policy) => policy.inject(propagator, cx, host, headers),
            None => inject_headers(propagator, cx, headers),
        };
        match &self.propagator {
            Some(p) => inject(p.as_ref()),
            None => global::get_text_map_propagator(|p| inject(p)),
        }
    }
}

/// A `reqwest_middleware` middleware that traces and measures every request:
/// a CLIENT span, child of the current context, carried to the server by the
/// propagator, with the stable HTTP client conventions; and the
/// `http.client.request.duration` metric.
///
/// ```
/// use otel_reqwest::OtelMiddleware;
/// use otel_reqwest::reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
///
/// # fn main() -> Result<(), otel_reqwest::reqwest::Error> {
/// let client: ClientWithMiddleware =
///     ClientBuilder::new(otel_reqwest::reqwest_client_builder().build()?)
///         .with(OtelMiddleware::new())
///         .build();
/// # Ok(())
/// # }
/// ```
///
/// Put it after (inside) a retry middleware, so that each attempt gets its
/// own span and resends are counted in `http.request.resend_count`.
///
/// The tracer and meter come from OpenTelemetry's global providers when the
/// middleware is built: build it after `otel_init::init_telemetry()`.
#[derive(Clone)]
pub struct OtelMiddleware {
    pub(crate) config: Arc<Config>,
}

impl std::fmt::Debug for OtelMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelMiddleware")
            .field("policy", &self.config.policy.clone().unwrap_or_default())
            .field("request_headers", &self.config.request_headers)
            .field("response_headers", &self.config.response_headers)
            .finish_non_exhaustive()
    }
}

impl Default for OtelMiddleware {
    fn default() -> Self {
        Self::new()
    }
}

impl OtelMiddleware {
    /// The middleware with the defaults of [`OtelMiddlewareBuilder`].
    ///
    /// ```
    /// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
    /// use opentelemetry::Context;
    /// use otel_http::propagation::{PropagatorName, composite};
    /// use otel_reqwest::{OtelMiddleware, reqwest};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let caller = SpanContext::new(
    /// #     TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736")?,
    /// #     SpanId::from_hex("00f067aa0ba902b7")?,
    /// #     TraceFlags::SAMPLED,
    /// #     true,
    /// #     TraceState::default(),
    /// # );
    /// // What otel_init::init_telemetry() does, among other things:
    /// opentelemetry::global::set_text_map_propagator(composite(&[PropagatorName::TraceContext]));
    /// let _current = Context::new().with_remote_span_context(caller).attach(); // a caller's span
    /// // The defaults: global providers and propagator, context sent to every host.
    /// let middleware = OtelMiddleware::new();
    /// let mut request = reqwest::Request::new(reqwest::Method::GET, "https://api.example.com/".parse()?);
    /// middleware.inject(&mut request);
    /// assert_eq!(
    ///     request.headers()["traceparent"],
    ///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    /// );
    /// # Ok(()) }
    /// ```
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for the options.
    ///
    /// ```
    /// use otel_reqwest::{OtelMiddleware, OutgoingPolicy, reqwest};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let middleware = OtelMiddleware::builder()
    ///     .propagator(otel_http::propagation::W3cTraceContextPropagator::new())
    ///     .outgoing_policy(OutgoingPolicy::everywhere().context_only_to(["*.internal"]))
    ///     .build();
    /// let mut request = reqwest::Request::new(reqwest::Method::GET, "https://api.example.com/".parse()?);
    /// middleware.inject(&mut request);
    /// assert!(request.headers().is_empty(), "api.example.com is outside the allow-list");
    /// # Ok(()) }
    /// ```
    pub fn builder() -> OtelMiddlewareBuilder {
        OtelMiddlewareBuilder::default()
    }

    pub(crate) fn from_config(config: Config) -> Self {
        Self {
            config: Arc::new(config),
        }
    }
}

#[async_trait::async_trait]
impl Middleware for OtelMiddleware {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let mut call = ClientCall::start(&self.config, &mut request, extensions);
        let cx = call.context().clone();
        let outcome = next.run(request, extensions).with_context(cx).await;
        match &outcome {
            Ok(response) => call.respond(response),
            Err(error) => {
                let error_type = middleware_error_type(error);
                call.fail(error_type, || {
                    middleware_error_description(error_type, error)
                });
            }
        }
        outcome
    }
}
