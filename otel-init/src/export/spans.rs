//! The span processor: sampled spans go into a bounded pipeline, then to OTLP
//! or the console.

use super::limits::limit_span;
use super::otlp::{ExportResource, OtlpClient, OtlpRequest, SpanBatch};
use super::pipeline::{BatchSink, BoxFuture, Pipeline};
use opentelemetry::Context;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use std::sync::Arc;
use std::time::Duration;

/// Queues finished, sampled spans for export without blocking the caller.
#[derive(Debug)]
pub(crate) struct QueueingSpanProcessor {
    pipeline: Pipeline<SpanData>,
    value_length_limit: Option<usize>,
    flush_timeout: Duration,
}

impl QueueingSpanProcessor {
    pub(crate) fn new(
        pipeline: Pipeline<SpanData>,
        value_length_limit: Option<usize>,
        flush_timeout: Duration,
    ) -> Self {
        Self {
            pipeline,
            value_length_limit,
            flush_timeout,
        }
    }
}

impl SpanProcessor for QueueingSpanProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, mut span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        if let Some(max) = self.value_length_limit {
            limit_span(&mut span, max);
        }
        self.pipeline.push(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.pipeline
            .flush(self.flush_timeout)
            .map_err(|_| OTelSdkError::Timeout(self.flush_timeout))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.pipeline
            .shutdown(timeout)
            .map_err(|_| OTelSdkError::Timeout(timeout))
    }
}

/// Sends span batches over OTLP.
pub(crate) struct OtlpSpanSink {
    pub(crate) client: Arc<OtlpClient>,
    pub(crate) resource: Arc<ExportResource>,
}

impl BatchSink<SpanData> for OtlpSpanSink {
    fn export(&mut self, batch: Vec<SpanData>) -> BoxFuture<'_, Result<(), String>> {
        let request = OtlpRequest::Spans(SpanBatch {
            spans: batch,
            resource: Arc::clone(&self.resource),
        });
        Box::pin(self.client.send(request))
    }
}
