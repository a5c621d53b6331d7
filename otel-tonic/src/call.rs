//! [`Call`]: one RPC from its span's start to the span's end and the duration
//! metric, exactly once, on either side: when the response stream ends, fails,
//! or is dropped (a cancelled call), or when no response comes at all.

use crate::code::{self, Code};
use crate::metadata;
use crate::method::{CallTarget, Method};
use crate::metrics::{CallMetrics, SetKey};
use http::{HeaderMap, StatusCode};
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, KeyValue, StringValue};
use std::time::{Duration, Instant};

/// Which end of the call this is: decides which codes are errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Server,
    Client,
}

pub(crate) struct Call {
    pub cx: Context,
    /// Whether the span records (asked once: each ask is a dynamic call).
    recording: bool,
    /// The layer's duration histogram, for a method that does not carry it
    /// (one made for this call, or none).
    metrics: Option<CallMetrics>,
    side: Side,
    method: Method,
    target: CallTarget,
    start: Instant,
    timeout: Option<Duration>,
    http_status: Option<StatusCode>,
    code: Option<Code>,
    error_type: Option<&'static str>,
    /// The response metadata keys to capture (recording spans only).
    response_keys: metadata::Keys,
    /// The response metadata captured so far, set on the span at its end.
    captured: Vec<KeyValue>,
    /// `rpc.method` was given at the span's start (a server's method known
    /// to be served): its status cannot make it unrecognised.
    method_given: bool,
    done: bool,
}

impl Call {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        cx: Context,
        recording: bool,
        metrics: &CallMetrics,
        side: Side,
        method: Method,
        target: CallTarget,
        start: Instant,
        timeout: Option<Duration>,
    ) -> Self {
        Self {
            cx,
            recording,
            metrics: method.metrics().is_none().then(|| metrics.clone()),
            side,
            method,
            target,
            start,
            timeout,
            http_status: None,
            code: None,
            error_type: None,
            response_keys: None,
            captured: Vec::new(),
            method_given: false,
            done: false,
        }
    }

    /// The span was started with `rpc.method` (see [`Method::served`]).
    pub(crate) fn method_given(&mut self) {
        self.method_given = true;
    }

    /// Captures these response metadata keys (from the headers and the
    /// trailers) when the span records.
    pub(crate) fn capture_response(&mut self, keys: &metadata::Keys) {
        if self.recording {
            self.response_keys.clone_from(keys);
        }
    }

    pub(crate) fn deadline_passed(&self) -> bool {
        self.timeout.is_some_and(|t| self.start.elapsed() >= t)
    }

    /// The response headers: `grpc-status` there is a trailers-only response;
    /// a client also infers the code of a non-200 HTTP status.
    pub(crate) fn headers(&mut self, status: StatusCode, headers: &HeaderMap) {
        self.http_status = Some(status);
        if let Some(keys) = &self.response_keys {
            metadata::merge(&mut self.captured, headers, keys);
        }
        if let Some(code) = Code::from_headers(headers) {
            self.record(code, || code::message(headers));
        } else if status != StatusCode::OK && self.side == Side::Client {
            self.record(Code::from_http_status(status), || {
                Some(format!("HTTP status {}", status.as_u16()))
            });
        }
    }

    /// The trailers of the response stream.
    pub(crate) fn trailers(&mut self, trailers: &HeaderMap) {
        if let Some(keys) = &self.response_keys {
            metadata::merge(&mut self.captured, trailers, keys);
        }
        if self.code.is_none()
            && let Some(code) = Code::from_headers(trailers)
        {
            self.record(code, || code::message(trailers));
        }
    }

    /// The response stream ended: without a status that is a protocol
    /// violation, `UNKNOWN` (or the code of the HTTP status, on a client).
    pub(crate) fn end(&mut self) {
        if self.code.is_none() {
            let code = match (self.side, self.http_status) {
                (Side::Client, Some(s)) if s != StatusCode::OK => Code::from_http_status(s),
                _ => Code::UNKNOWN,
            };
            self.record(code, || {
                Some("the response ended without grpc-status".to_owned())
            });
        }
        self.finish();
    }

    /// The call failed without a status: `error_type` is a low-cardinality class.
    pub(crate) fn fail(&mut self, code: Code, error_type: &'static str, description: String) {
        if self.code.is_none() {
            self.error_type = Some(error_type);
            self.record(code, || Some(description));
        }
    }

    /// Records the final status code. tonic's server answers an expired
    /// deadline with `CANCELLED` ("Timeout expired"); the gRPC status table
    /// calls that `DEADLINE_EXCEEDED`, and so does this crate. The
    /// description (the span status's) is made only for an error on a
    /// recording span: most calls need no `grpc-message` lookup.
    pub(crate) fn record(&mut self, code: Code, description: impl FnOnce() -> Option<String>) {
        if self.code.is_some() {
            return;
        }
        let code = if code == Code::CANCELLED && self.deadline_passed() {
            Code::DEADLINE_EXCEEDED
        } else {
            code
        };
        self.code = Some(code);
        let error = match self.side {
            Side::Server => code.is_server_error(),
            Side::Client => code != Code::OK,
        };
        // tonic's router answers a path it has no service for with
        // UNIMPLEMENTED: the method is not recognised (unless it is known to
        // be served, when its handler said so). Nor is a method outside the
        // layer's table whose call failed: a status raised before tonic's
        // router (a layer between this one and it, a cancelled call) says
        // nothing of the path, and any path can be sent; only the table's
        // methods (a bounded number) or a success name one.
        let unrecognised = self.side == Side::Server
            && self.method.full().is_some()
            && !self.method_given
            && (code == Code::UNIMPLEMENTED || (code != Code::OK && !self.method.listed()));
        if self.recording {
            // One at a time: two or three attributes cost less in locks than
            // a vector to hold them.
            let span = self.cx.span();
            span.set_attribute(KeyValue::new(code::STATUS_CODE, code.name()));
            if error {
                span.set_attribute(KeyValue::new(
                    "error.type",
                    self.error_type.unwrap_or(code.name()),
                ));
            }
            if unrecognised {
                span.set_attribute(KeyValue::new("rpc.method", "_OTHER"));
                span.set_attribute(KeyValue::new(
                    "rpc.method_original",
                    self.method.as_str().to_owned(),
                ));
                span.update_name("grpc");
            } else if self.side == Side::Server && !self.method_given {
                span.set_attribute(match self.method.full() {
                    Some(m) => KeyValue::new("rpc.method", StringValue::from(m.clone())),
                    None => KeyValue::new("rpc.method", "_OTHER"),
                });
            }
            if error {
                span.set_status(Status::error(description().unwrap_or_default()));
            }
        }
        if unrecognised {
            // The histogram the method held stays with the call (a
            // server's call has no target, which a method could hold too).
            if self.metrics.is_none() {
                self.metrics = self.method.metrics().cloned();
            }
            self.method = Method::other();
        }
        if error && self.error_type.is_none() {
            self.error_type = Some(code.name());
        }
    }

    pub(crate) fn finish(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        // One clock read for the span's end and the duration: the span's
        // timestamps are those of the call's monotonic readings
        // (otel_http::clock), so the span lasts exactly the duration.
        let end = Instant::now();
        // A span that does not record has nothing to end.
        if self.recording {
            let span = self.cx.span();
            if !self.captured.is_empty() {
                span.set_attributes(std::mem::take(&mut self.captured));
            }
            span.end_with_timestamp(otel_http::clock::wall_time(end));
        }
        // The call's span is current while its duration is recorded, so that
        // a meter provider keeping exemplars (otel-init's) links the
        // measurement to it; only a sampled span can be linked to. A server
        // mostly ends its calls with their context attached already (its
        // response stream is polled so); a client's never is.
        let span = self.cx.span();
        let (sampled, span_id) = (
            span.span_context().is_sampled(),
            span.span_context().span_id(),
        );
        let current =
            || Context::map_current(|current| current.span().span_context().span_id() == span_id);
        let _current = (sampled && (self.side == Side::Client || !current()))
            .then(|| self.cx.clone().attach());
        let succeeded = self.code == Some(Code::OK) && self.error_type.is_none();
        if succeeded {
            self.method.succeeded();
        }
        let Some(metrics) = self.metrics.as_ref().or(self.method.metrics()) else {
            return; // never: the method or the call carries it
        };
        let target = self.method.resolve(&self.target);
        metrics.record(
            end.saturating_duration_since(self.start).as_secs_f64(),
            self.method.ok_series().filter(|_| succeeded),
            target.map(|t| (&t.address, t.port)),
            || SetKey {
                method: self.method.full().cloned(),
                code: self.code,
                error_type: self.error_type,
                target: target.map(|t| (t.address.clone(), t.port)),
            },
        );
    }
}

impl Drop for Call {
    /// Dropped before its status: the caller went away (`CANCELLED`), or the
    /// deadline passed (`DEADLINE_EXCEEDED`).
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if self.code.is_none() {
            let (code, description) = if self.deadline_passed() {
                (
                    Code::DEADLINE_EXCEEDED,
                    "the deadline passed before the call completed",
                )
            } else {
                (
                    Code::CANCELLED,
                    "the call was cancelled before it completed",
                )
            };
            self.record(code, || Some(description.to_owned()));
        }
        self.finish();
    }
}
