//! Ends the server span and records the metrics, exactly once: when the
//! response body has been sent, when it fails, or when it is dropped.

use crate::attributes::RequestFacts;
use crate::layer::Config;
use crate::metrics::Active;
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use std::sync::Arc;
use std::time::Instant;

pub(crate) struct Finisher {
    pub config: Arc<Config>,
    pub cx: Context,
    pub facts: RequestFacts,
    active: Active,
    pub start: Instant,
    pub request_bytes: Option<u64>,
    pub response_bytes: u64,
    pub status: Option<u16>,
    pub error_type: Option<String>,
    done: bool,
}

impl Finisher {
    pub(crate) fn new(
        config: Arc<Config>,
        cx: Context,
        facts: RequestFacts,
        active: Active,
        start: Instant,
        request_bytes: Option<u64>,
    ) -> Self {
        Self {
            config,
            cx,
            facts,
            active,
            start,
            request_bytes,
            response_bytes: 0,
            status: None,
            error_type: None,
            done: false,
        }
    }

    /// Records the response status: 5xx is an error, everything else leaves the status unset.
    pub(crate) fn record_status(&mut self, status: u16) {
        self.status = Some(status);
        let span = self.cx.span();
        if span.is_recording() {
            span.set_attribute(KeyValue::new(
                "http.response.status_code",
                i64::from(status),
            ));
        }
        if status >= 500 {
            self.fail(status.to_string(), None);
        }
    }

    /// Marks the request failed with a low-cardinality `error.type`.
    pub(crate) fn fail(&mut self, error_type: String, description: Option<String>) {
        let span = self.cx.span();
        if span.is_recording() {
            span.set_attribute(KeyValue::new("error.type", error_type.clone()));
            span.set_status(Status::error(description.unwrap_or_default()));
        }
        self.error_type = Some(error_type);
    }

    pub(crate) fn finish(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        // One clock read for the span's end and the duration: the span's
        // timestamps are the request's own monotonic readings
        // (otel_http::clock), so it lasts exactly the recorded duration.
        let end = Instant::now();
        self.cx
            .span()
            .end_with_timestamp(otel_http::clock::wall_time(end));
        // The request's span is current while its duration is recorded, so
        // that a meter provider keeping exemplars links the measurement to
        // it (only a sampled span can be linked to).
        let _current = self
            .cx
            .span()
            .span_context()
            .is_sampled()
            .then(|| self.cx.clone().attach());
        let m = &self.config.metrics;
        m.end_active(&self.facts, &self.active);
        m.finish(
            end.saturating_duration_since(self.start).as_secs_f64(),
            self.request_bytes,
            self.response_bytes,
            &self.facts,
            self.status,
            self.error_type.as_deref(),
        );
    }
}

impl Drop for Finisher {
    fn drop(&mut self) {
        self.finish();
    }
}
