//! [`ClientCall`]: one send of a request, from the CLIENT span's start and
//! the context injection to the span's end and the metric, exactly once.

use crate::attributes::{
    Outcome, RequestFacts, peer_attributes, protocol_version, request_details, response_details,
};
use crate::extensions::{UrlTemplate, count_send};
use crate::middleware::Config;
use http::Extensions;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use otel_http::sampling::SpanStart;
use reqwest::{Request, Response};
use std::borrow::Cow;
use std::time::Instant;

/// The span's name: the `span_name` hook's, or `{method}` (with the URL template if any).
fn span_name(config: &Config, request: &Request, facts: &RequestFacts) -> Cow<'static, str> {
    match &config.span_name {
        Some(hook) => Cow::Owned(hook(request)),
        None => facts.span_name(),
    }
}

/// The attributes a sampler may use, and the request hook's.
fn start_attributes(
    config: &Config,
    request: &Request,
    facts: &RequestFacts,
    resend_count: Option<u32>,
) -> Vec<KeyValue> {
    let mut attributes = facts.sampling_attributes(request, resend_count, &config.redaction);
    if let Some(hook) = &config.request_hook {
        attributes.extend(hook(request));
    }
    attributes
}

pub(crate) struct ClientCall<'a> {
    config: &'a Config,
    cx: Context,
    facts: RequestFacts,
    start: Instant,
    outcome: Outcome,
    done: bool,
}

impl<'a> ClientCall<'a> {
    /// Starts the CLIENT span as a child of the current context, and injects
    /// it into `request` (as far as the outgoing policy allows).
    pub(crate) fn start(
        config: &'a Config,
        request: &mut Request,
        extensions: &mut Extensions,
    ) -> Self {
        let start = Instant::now();
        let template = extensions.get::<UrlTemplate>().cloned();
        let resend_count = count_send(extensions, request);
        let facts = RequestFacts::of(request, template);
        let parent = Context::current();
        // A span the sampler is known to drop (in a trace that is not
        // sampled) is started without the name and attributes nobody would read.
        let (cx, details) = SpanStart::new(&parent, SpanKind::Client, facts.method)
            .global_tracer(config.global_tracer)
            .started_at(start)
            .start(&config.tracer, || {
                (
                    span_name(config, request, &facts),
                    start_attributes(config, request, &facts, resend_count),
                )
            });
        if let Some(mut details) = details {
            request_details(request, &facts, &config.request_headers, &mut details);
            if !details.is_empty() {
                cx.span().set_attributes(details);
            }
        }
        config.inject(&cx, facts.host(), request.headers_mut());
        Self {
            config,
            cx,
            facts,
            start,
            outcome: Outcome::default(),
            done: false,
        }
    }

    /// The context of the CLIENT span, to attach while the request is sent.
    pub(crate) fn context(&self) -> &Context {
        &self.cx
    }

    /// A response arrived: status >= 400 is an error.
    pub(crate) fn respond(&mut self, response: &Response) {
        let status = response.status().as_u16();
        self.outcome.status = Some(status);
        self.outcome.protocol_version = protocol_version(response.version());
        let span = self.cx.span();
        let failed = status >= 400;
        if failed {
            self.outcome.error_type = Some(Cow::Owned(status.to_string()));
        }
        if span.is_recording() {
            let status_code = KeyValue::new("http.response.status_code", i64::from(status));
            let version = self
                .outcome
                .protocol_version
                .map(|version| KeyValue::new("network.protocol.version", version));
            let error_type = self
                .outcome
                .error_type
                .clone()
                .map(|error_type| KeyValue::new("error.type", error_type));
            // Empty (no allocation) unless headers are captured or a hook is set.
            let mut more = Vec::new();
            response_details(response, &self.config.response_headers, &mut more);
            if let Some(hook) = &self.config.response_hook {
                more.extend(hook(response));
            }
            span.set_attributes(
                std::iter::once(status_code)
                    .chain(version)
                    .chain(error_type)
                    .chain(peer_attributes(response))
                    .chain(more),
            );
            if failed {
                span.set_status(Status::error(""));
            }
        }
        self.finish();
    }

    /// No response: `error_type` is one of the documented classes; `describe`
    /// gives the status description (called only for a recording span).
    pub(crate) fn fail(&mut self, error_type: &'static str, describe: impl FnOnce() -> String) {
        let span = self.cx.span();
        if span.is_recording() {
            span.set_attribute(KeyValue::new("error.type", error_type));
            span.set_status(Status::error(describe()));
        }
        self.outcome.error_type = Some(Cow::Borrowed(error_type));
        self.finish();
    }

    fn finish(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        // One clock read for the span's end and the duration: the span's
        // timestamps are the call's own monotonic readings (otel_http::clock),
        // so it lasts exactly the recorded duration.
        let end = Instant::now();
        self.cx
            .span()
            .end_with_timestamp(otel_http::clock::wall_time(end));
        // The call's span is current while its duration is recorded, so that
        // a meter provider keeping exemplars links the measurement to it.
        let _current = self
            .cx
            .span()
            .span_context()
            .is_sampled()
            .then(|| self.cx.clone().attach());
        self.config.metrics.record(
            end.saturating_duration_since(self.start).as_secs_f64(),
            &self.facts,
            &self.outcome,
        );
    }
}

impl Drop for ClientCall<'_> {
    /// The caller gave up on the request (its future was dropped): the span
    /// ends there and the send is still measured, neither of them as an
    /// error. The HTTP conventions (semconv 1.41 and later) say so of a
    /// request the caller cancels on purpose: the span's status unset, no
    /// `error.type`.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.finish();
    }
}
