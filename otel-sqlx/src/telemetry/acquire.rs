//! The wait for a pool connection: the "acquire connection" span (a sibling
//! of the query span, under the operation's parent), the wait-time and
//! timeout metrics, and the pending-requests count.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::trace::{Span as _, SpanBuilder, SpanKind, Status, Tracer as _};
use opentelemetry::{Context, KeyValue};

use super::failure::Failure;
use super::keys;
use crate::database::InstrumentedDatabase;
use crate::shared::Shared;

/// The pool as the request found it.
#[derive(Debug, Clone, Copy)]
struct PoolSnapshot {
    size: u32,
    idle: usize,
    max: u32,
    /// Waiting requests, this one included.
    pending: i64,
}

/// One request waiting for a connection. The span is created when the wait
/// is over, with the wait's start time, and only when the wait took at least
/// the configured threshold (or failed); the metrics always record it.
pub(crate) struct AcquireWait<'a, DB: InstrumentedDatabase> {
    shared: &'a Shared<DB>,
    parent: &'a Context,
    snapshot: PoolSnapshot,
    started: Instant,
    ended: bool,
}

impl<'a, DB: InstrumentedDatabase> AcquireWait<'a, DB> {
    /// Starts waiting: counts the request as pending and notes the pool's state.
    pub(crate) fn begin(shared: &'a Shared<DB>, parent: &'a Context) -> Self {
        let pending = shared.pending.fetch_add(1, Ordering::Relaxed) + 1;
        let snapshot = PoolSnapshot {
            size: shared.pool.size(),
            idle: shared.pool.num_idle(),
            max: shared.pool.options().get_max_connections(),
            pending,
        };
        AcquireWait {
            shared,
            parent,
            snapshot,
            started: Instant::now(),
            ended: false,
        }
    }

    /// The wait is over, with a connection or with `error`; returns when
    /// it ended.
    pub(crate) fn end(mut self, error: Option<&sqlx::Error>) -> Instant {
        let failure = error.map(|e| {
            Failure::from_error::<DB>(
                e,
                self.shared.system_name(),
                self.shared.config.capture_error_messages,
            )
        });
        if matches!(error, Some(sqlx::Error::PoolTimedOut)) {
            self.shared
                .signals()
                .timeouts
                .add(1, &[self.shared.pool_name_attribute()]);
        }
        self.finish(failure)
    }

    fn finish(&mut self, failure: Option<Failure>) -> Instant {
        let now = Instant::now();
        if self.ended {
            return now;
        }
        self.ended = true;
        self.shared.pending.fetch_sub(1, Ordering::Relaxed);
        let waited = now.saturating_duration_since(self.started);
        self.shared.signals().wait_time.record(waited.as_secs_f64());
        if waited >= self.shared.config.acquire_span_threshold || failure.is_some() {
            self.record_span(waited, failure);
        }
        now
    }

    fn record_span(&self, waited: Duration, failure: Option<Failure>) {
        // The wall-clock start is read only for the waits that get a span.
        let ended_at = SystemTime::now();
        let started_at = ended_at.checked_sub(waited).unwrap_or(ended_at);
        let shared = self.shared;
        let snapshot = self.snapshot;
        let mut attributes = Vec::with_capacity(10);
        attributes.push(KeyValue::new(keys::DB_SYSTEM_NAME, shared.system_name()));
        attributes.extend(shared.endpoint_attributes.iter().cloned());
        attributes.push(shared.pool_name_attribute());
        attributes.push(KeyValue::new(keys::POOL_SIZE, i64::from(snapshot.size)));
        attributes.push(KeyValue::new(
            keys::POOL_IDLE,
            i64::try_from(snapshot.idle).unwrap_or(i64::MAX),
        ));
        attributes.push(KeyValue::new(keys::POOL_MAX, i64::from(snapshot.max)));
        attributes.push(KeyValue::new(keys::POOL_PENDING, snapshot.pending));
        let builder = SpanBuilder::from_name(keys::ACQUIRE_SPAN_NAME)
            .with_kind(SpanKind::Internal)
            .with_start_time(started_at)
            .with_attributes(attributes);
        let mut span = shared
            .signals()
            .tracer
            .build_with_context(builder, self.parent);
        if let Some(failure) = failure {
            span.set_attribute(KeyValue::new(keys::ERROR_TYPE, failure.error_type));
            span.set_status(Status::error(failure.description));
        }
        span.end_with_timestamp(ended_at);
    }
}

impl<DB: InstrumentedDatabase> Drop for AcquireWait<'_, DB> {
    fn drop(&mut self) {
        // Dropped while waiting: the caller gave up (a timeout around the query).
        if !self.ended {
            self.finish(Some(Failure::cancelled()));
        }
    }
}
