//! The CLIENT span and the duration measurement of one database operation.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use opentelemetry::global::BoxedSpan;
use opentelemetry::metrics::{BoundHistogram, Histogram};
use opentelemetry::trace::{
    Span as _, SpanBuilder, SpanKind, Status, TraceContextExt as _, Tracer as _,
};
use opentelemetry::{Context, KeyValue, StringValue, Value};
use otel_http::sampling::{DroppedSpans, declared_dropped_spans, known_dropped};

use super::failure::Failure;
use super::keys;
use crate::analysis::Analysis;
use crate::annotation::Annotation;
use crate::config::TracerSource;
use crate::database::InstrumentedDatabase;
use crate::interned;
use crate::shared::Shared;

/// What a query is, as far as its span is concerned.
pub(crate) struct QueryDescription {
    pub(crate) analysis: Arc<Analysis>,
    /// `db.query.text`, `None` when not captured.
    pub(crate) text: Option<StringValue>,
}

/// When an operation began: read before the query is sent, so that its
/// span can be built after, while the database works on it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Begun {
    at: Instant,
    wall: std::time::SystemTime,
}

impl Begun {
    pub(crate) fn now() -> Self {
        Begun {
            at: Instant::now(),
            wall: std::time::SystemTime::now(),
        }
    }
}

/// Which row count the span reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counting {
    /// `db.response.returned_rows`: fetches.
    ReturnedRows,
    /// `db.response.affected_rows`: `execute`.
    AffectedRows,
    /// Neither: transaction control.
    Nothing,
}

/// What it means when the span is dropped before it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhenDropped {
    /// A stream the caller stopped reading: the operation is complete.
    Complete,
    /// A future dropped before it finished (a timeout around it): cancelled.
    Cancelled,
}

/// An operation in flight: ends its span and records its duration exactly
/// once, when finished or when dropped.
pub(crate) struct OperationSpan {
    /// `None` for a span the global provider is declared to drop plainly
    /// ([`dropped_plainly`]): nothing would ever see it.
    span: Option<BoxedSpan>,
    started: Instant,
    /// The name, attributes and duration histogram: shared by every
    /// operation of a cached statement (one reference count to touch, not
    /// one per part).
    named: Arc<NamedQuery>,
    system_name: &'static str,
    capture_error_messages: bool,
    returned_rows: u64,
    affected_rows: u64,
    counting: Counting,
    when_dropped: WhenDropped,
    ended: bool,
}

impl OperationSpan {
    /// Starts the span of a query that began at `begun`, as a child of
    /// `parent`.
    pub(crate) fn for_query<DB: InstrumentedDatabase>(
        shared: &Shared<DB>,
        parent: &Context,
        query: &QueryDescription,
        annotation: Option<&Annotation>,
        counting: Counting,
        when_dropped: WhenDropped,
        begun: Begun,
    ) -> Self {
        // Name and attributes depend only on the text (and the pool), so
        // they are computed once per text, unless an annotation changes them.
        let named = match annotation {
            Some(annotation) => {
                Arc::new(NamedQuery::new(shared, &query.analysis, Some(annotation)))
            }
            None => query.analysis.named_query(shared.system_name(), || {
                let named = NamedQuery::new(shared, &query.analysis, None);
                if query.analysis.is_cached() {
                    named.interned().bound(shared)
                } else {
                    named.bound(shared)
                }
            }),
        };
        if dropped_plainly(shared, parent) {
            return Self::start(shared, parent, None, named, counting, when_dropped, begun);
        }
        let mut span_attributes = Vec::with_capacity(named.attributes.len() + 2);
        span_attributes.extend(named.attributes.iter().cloned());
        let omit_text = annotation.is_some_and(|a| a.omit_query_text);
        if let Some(text) = query.text.as_ref().filter(|_| !omit_text) {
            span_attributes.push(KeyValue::new(keys::DB_QUERY_TEXT, text.clone()));
        }
        if shared.config.capture_parameters {
            for (key, value) in annotation
                .map(|a| a.parameters.as_slice())
                .unwrap_or_default()
            {
                span_attributes.push(KeyValue::new(
                    format!("{}{key}", keys::DB_QUERY_PARAMETER_PREFIX),
                    value.clone(),
                ));
            }
        }
        Self::start(
            shared,
            parent,
            Some(span_attributes),
            named,
            counting,
            when_dropped,
            begun,
        )
    }

    /// Starts the span of a transaction statement (`BEGIN`, `COMMIT`, …),
    /// named after it.
    pub(crate) fn for_transaction<DB: InstrumentedDatabase>(
        shared: &Shared<DB>,
        parent: &Context,
        operation: &'static str,
    ) -> Self {
        let mut attributes = common_attributes(shared);
        attributes.push(KeyValue::new(keys::DB_OPERATION_NAME, operation));
        let named = NamedQuery {
            system_name: shared.system_name(),
            name: Cow::Borrowed(operation),
            attributes: Arc::from(attributes.as_slice()),
            bound_duration: None,
            duration: shared.signals().operation_duration.clone(),
        };
        let attributes = (!dropped_plainly(shared, parent)).then_some(attributes);
        Self::start(
            shared,
            parent,
            attributes,
            Arc::new(named),
            Counting::Nothing,
            WhenDropped::Cancelled,
            Begun::now(),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn start<DB: InstrumentedDatabase>(
        shared: &Shared<DB>,
        parent: &Context,
        span_attributes: Option<Vec<KeyValue>>,
        named: Arc<NamedQuery>,
        counting: Counting,
        when_dropped: WhenDropped,
        begun: Begun,
    ) -> Self {
        // No attributes: a span dropped plainly, not started at all.
        let span = span_attributes.map(|attributes| {
            let builder = SpanBuilder::from_name(named.name.clone())
                .with_kind(SpanKind::Client)
                .with_start_time(begun.wall)
                .with_attributes(attributes);
            shared.signals().tracer.build_with_context(builder, parent)
        });
        OperationSpan {
            span,
            started: begun.at,
            named,
            system_name: shared.system_name(),
            capture_error_messages: shared.config.capture_error_messages,
            returned_rows: 0,
            affected_rows: 0,
            counting,
            when_dropped,
            ended: false,
        }
    }

    /// One more row returned.
    pub(crate) fn count_row(&mut self) {
        self.returned_rows += 1;
    }

    /// `n` more rows returned.
    pub(crate) fn count_rows(&mut self, n: u64) {
        self.returned_rows += n;
    }

    /// `n` more rows inserted, updated or deleted.
    pub(crate) fn count_affected(&mut self, n: u64) {
        self.affected_rows += n;
    }

    /// Ends the span: success or failure by `result`.
    pub(crate) fn finish<DB: InstrumentedDatabase, T>(self, result: &Result<T, sqlx::Error>) {
        match result {
            Ok(_) => self.succeed(),
            Err(error) => self.fail::<DB>(error),
        }
    }

    /// Ends the span as a success.
    pub(crate) fn succeed(mut self) {
        self.end(None);
    }

    /// Ends the span as a failure.
    pub(crate) fn fail<DB: InstrumentedDatabase>(mut self, error: &sqlx::Error) {
        let failure =
            Failure::from_error::<DB>(error, self.system_name, self.capture_error_messages);
        self.end(Some(failure));
    }

    fn end(&mut self, failure: Option<Failure>) {
        if self.ended {
            return;
        }
        self.ended = true;
        let count = match self.counting {
            Counting::ReturnedRows => Some((keys::DB_RESPONSE_RETURNED_ROWS, self.returned_rows)),
            Counting::AffectedRows => Some((keys::DB_RESPONSE_AFFECTED_ROWS, self.affected_rows)),
            Counting::Nothing => None,
        };
        let elapsed = self.started.elapsed().as_secs_f64();
        // The operation's span is current while its duration is recorded, so
        // that a meter provider keeping exemplars links the measurement to it.
        let _current = self
            .span
            .as_ref()
            .map(|span| span.span_context())
            .filter(|span_context| span_context.is_sampled())
            .map(|span_context| {
                Context::new()
                    .with_remote_span_context(span_context.clone())
                    .attach()
            });
        let error_type = failure.as_ref().map(|f| Value::from(f.error_type.clone()));
        let status_code = failure
            .as_ref()
            .and_then(|f| f.status_code.clone())
            .map(Value::from);
        if let Some(span) = self.span.as_mut() {
            // A failed operation reports the rows a stream gave before
            // failing, never a count of 0 that the failure made up.
            if let Some((key, rows)) = count.filter(|&(_, rows)| failure.is_none() || rows > 0) {
                span.set_attribute(KeyValue::new(key, saturating_i64(rows)));
            }
            if let Some(failure) = failure {
                if let Some(error_type) = &error_type {
                    span.set_attribute(KeyValue::new(keys::ERROR_TYPE, error_type.clone()));
                }
                if let Some(code) = &status_code {
                    span.set_attribute(KeyValue::new(keys::DB_RESPONSE_STATUS_CODE, code.clone()));
                }
                span.set_status(Status::error(failure.description));
            }
            span.end();
        }
        match (error_type, &self.named.bound_duration) {
            (None, Some(bound)) => bound.record(elapsed),
            (None, None) => self.named.duration.record(elapsed, &self.named.attributes),
            (Some(error_type), _) => {
                let mut metric_attributes = self.named.attributes.to_vec();
                metric_attributes.push(KeyValue::new(keys::ERROR_TYPE, error_type));
                if let Some(code) = status_code {
                    metric_attributes.push(KeyValue::new(keys::DB_RESPONSE_STATUS_CODE, code));
                }
                self.named.duration.record(elapsed, &metric_attributes);
            }
        }
    }
}

impl Drop for OperationSpan {
    fn drop(&mut self) {
        // Ended already (the usual case): nothing to describe.
        if self.ended {
            return;
        }
        match self.when_dropped {
            WhenDropped::Complete => self.end(None),
            WhenDropped::Cancelled => self.end(Some(Failure::cancelled())),
        }
    }
}

/// Whether the span of an operation in `parent` is one the global tracer
/// provider is declared to drop, and to make plainly
/// (`otel_http::sampling`): such a span would be seen by no span processor,
/// and a database span's context goes nowhere, so it is not started at all
/// (no attribute list, no sampler call, no boxed span); the duration is
/// still recorded. Only for the global provider, which the declarations are
/// about.
fn dropped_plainly<DB: InstrumentedDatabase>(shared: &Shared<DB>, parent: &Context) -> bool {
    matches!(shared.config.tracer, TracerSource::Global)
        && declared_dropped_spans() == DroppedSpans::Plain
        && known_dropped(parent)
}

/// A query's span name and the attributes its span and its duration metric
/// share: `db.system.name`, the endpoint, `db.query.summary`,
/// `db.operation.name`, `db.collection.name`.
#[derive(Debug)]
pub(crate) struct NamedQuery {
    pub(crate) system_name: &'static str,
    name: Cow<'static, str>,
    attributes: Arc<[KeyValue]>,
    /// `db.client.operation.duration` bound to `attributes`: set for the
    /// cached (per text) names, whose measurements then skip the SDK's
    /// attribute lookup.
    bound_duration: Option<BoundHistogram<f64>>,
    /// `db.client.operation.duration`, for the measurements with other
    /// attributes (failures) or without a bound histogram.
    duration: Histogram<f64>,
}

impl NamedQuery {
    fn new<DB: InstrumentedDatabase>(
        shared: &Shared<DB>,
        analysis: &Analysis,
        annotation: Option<&Annotation>,
    ) -> Self {
        let value = |explicit: Option<&std::borrow::Cow<'static, str>>,
                     parsed: &Option<Arc<str>>| {
            match (explicit, parsed) {
                (Some(explicit), _) => Some(StringValue::from(explicit.clone())),
                (None, Some(parsed)) => Some(StringValue::from(Arc::clone(parsed))),
                (None, None) => None,
            }
        };
        let summary = value(
            annotation.and_then(|a| a.summary.as_ref()),
            &analysis.summary,
        );
        let operation = value(
            annotation.and_then(|a| a.operation.as_ref()),
            &analysis.operation,
        );
        let collection = value(
            annotation.and_then(|a| a.collection.as_ref()),
            &analysis.collection,
        );
        let explicit_target = annotation.is_some_and(|a| {
            a.summary.is_none() && (a.operation.is_some() || a.collection.is_some())
        });
        let name = if explicit_target {
            join_name(operation.as_ref(), collection.as_ref())
        } else {
            summary.as_ref().map(|s| s.as_str().to_owned())
        }
        .unwrap_or_else(|| fallback_name(shared));

        let mut attributes = common_attributes(shared);
        let optional = [
            (keys::DB_QUERY_SUMMARY, summary),
            (keys::DB_OPERATION_NAME, operation),
            (keys::DB_COLLECTION_NAME, collection),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                attributes.push(KeyValue::new(key, value));
            }
        }
        NamedQuery {
            system_name: shared.system_name(),
            name: Cow::Owned(name),
            attributes: Arc::from(attributes),
            bound_duration: None,
            duration: shared.signals().operation_duration.clone(),
        }
    }

    /// With the name and the string attribute values interned (see
    /// [`interned`]): for a name that is cached and reused.
    fn interned(mut self) -> Self {
        self.name = interned::name(self.name.into_owned());
        self.attributes = self
            .attributes
            .iter()
            .map(|kv| match &kv.value {
                Value::String(text) => {
                    KeyValue::new(kv.key.clone(), interned::value(text.as_str()))
                }
                _ => kv.clone(),
            })
            .collect();
        self
    }

    /// With the duration histogram bound to the attributes: for a name
    /// that is cached and reused.
    fn bound<DB: InstrumentedDatabase>(mut self, shared: &Shared<DB>) -> Self {
        self.bound_duration = Some(shared.signals().operation_duration.bind(&self.attributes));
        self
    }
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `db.system.name` and the endpoint attributes.
fn common_attributes<DB: InstrumentedDatabase>(shared: &Shared<DB>) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(10);
    attributes.push(KeyValue::new(keys::DB_SYSTEM_NAME, shared.system_name()));
    attributes.extend(shared.endpoint_attributes.iter().cloned());
    attributes
}

/// `{operation} {collection}`, or whichever of the two is known.
fn join_name(operation: Option<&StringValue>, collection: Option<&StringValue>) -> Option<String> {
    match (operation, collection) {
        (Some(op), Some(coll)) => Some(format!("{} {}", op.as_str(), coll.as_str())),
        (Some(one), None) | (None, Some(one)) => Some(one.as_str().to_owned()),
        (None, None) => None,
    }
}

/// The conventions' fallback when nothing names the operation: the target
/// (`db.namespace`, else `server.address:server.port`), else `db.system.name`.
fn fallback_name<DB: InstrumentedDatabase>(shared: &Shared<DB>) -> String {
    let endpoint = &shared.endpoint;
    match (&endpoint.namespace, &endpoint.address, endpoint.port) {
        (Some(namespace), _, _) => namespace.clone(),
        (None, Some(address), Some(port)) => format!("{address}:{port}"),
        (None, Some(address), None) => address.clone(),
        (None, None, _) => shared.system_name().to_owned(),
    }
}
