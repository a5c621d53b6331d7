//! The log record processor: records go into a bounded pipeline, then to OTLP
//! or the console.

use super::limits::limit_log_attributes;
use super::otlp::{ExportResource, LogLimits, LogRecordBatch, OtlpClient, OtlpRequest};
use super::pipeline::{BatchSink, BoxFuture, Pipeline};
use opentelemetry::InstrumentationScope;
use opentelemetry_proto::tonic::logs::v1::ResourceLogs;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::logs::tonic::group_logs_by_resource_and_scope;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogBatch, LogProcessor, SdkLogRecord, SdkLoggerProvider};
use std::sync::Arc;
use std::time::Duration;

pub(crate) type LogItem = (SdkLogRecord, InstrumentationScope);

/// Queues log records for export without blocking the caller.
#[derive(Debug)]
pub(crate) struct QueueingLogProcessor {
    pipeline: Pipeline<LogItem>,
    flush_timeout: Duration,
    /// An empty record to leave in the place of the one taken, when this is
    /// the provider's last processor (no other one needs the record after
    /// it); `None`: the record is copied.
    blank: Option<SdkLogRecord>,
}

impl QueueingLogProcessor {
    /// `last`: whether this is the last processor of its provider, which
    /// may then take each record instead of copying it.
    pub(crate) fn new(pipeline: Pipeline<LogItem>, flush_timeout: Duration, last: bool) -> Self {
        Self {
            pipeline,
            flush_timeout,
            blank: last.then(blank_record),
        }
    }
}

/// An empty record (the SDK makes records only through a logger).
fn blank_record() -> SdkLogRecord {
    use opentelemetry::logs::{Logger as _, LoggerProvider as _};
    SdkLoggerProvider::builder()
        .build()
        .logger("otel-init")
        .create_log_record()
}

impl LogProcessor for QueueingLogProcessor {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        let record = match &self.blank {
            Some(blank) => std::mem::replace(record, blank.clone()),
            None => record.clone(),
        };
        self.pipeline.push((record, scope.clone()));
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

/// Converts a batch to OTLP resource logs, applying the attribute limits.
pub(crate) fn encode(
    batch: &[LogItem],
    resource: &ResourceAttributesWithSchema,
    value_length_limit: Option<usize>,
    count_limit: usize,
) -> Vec<ResourceLogs> {
    let refs: Vec<(&SdkLogRecord, &InstrumentationScope)> =
        batch.iter().map(|(r, s)| (r, s)).collect();
    let mut out = group_logs_by_resource_and_scope(&LogBatch::new(&refs), resource);
    for rl in &mut out {
        for sl in &mut rl.scope_logs {
            for record in &mut sl.log_records {
                record.dropped_attributes_count +=
                    limit_log_attributes(&mut record.attributes, value_length_limit, count_limit);
            }
        }
    }
    out
}

/// Sends log batches over OTLP.
pub(crate) struct OtlpLogSink {
    pub(crate) client: Arc<OtlpClient>,
    pub(crate) resource: Arc<ExportResource>,
    pub(crate) limits: LogLimits,
}

impl BatchSink<LogItem> for OtlpLogSink {
    fn export(&mut self, batch: Vec<LogItem>) -> BoxFuture<'_, Result<(), String>> {
        let request = OtlpRequest::Logs(LogRecordBatch {
            items: batch,
            resource: Arc::clone(&self.resource),
            limits: self.limits,
        });
        Box::pin(self.client.send(request))
    }
}
