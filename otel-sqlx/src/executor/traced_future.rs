//! An operation that completes as one future, traced: its first poll sends
//! the query, and the span is started right after that poll, while the
//! database works on the query.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use opentelemetry::Context as OtelContext;

use crate::annotation::Annotation;
use crate::database::InstrumentedDatabase;
use crate::shared::Shared;
use crate::telemetry::operation::{Begun, Counting, OperationSpan, QueryDescription, WhenDropped};

/// What the span of a query run as one future is made of.
pub(crate) struct QuerySpan<'a, DB: InstrumentedDatabase> {
    pub(crate) shared: &'a Shared<DB>,
    pub(crate) parent: &'a OtelContext,
    pub(crate) description: &'a QueryDescription,
    pub(crate) annotation: Option<&'a Annotation>,
    pub(crate) counting: Counting,
}

/// Where the operation is.
enum Stage<'a, DB: InstrumentedDatabase, F> {
    /// Not polled yet: the query is not sent.
    Unsent { span: QuerySpan<'a, DB>, finish: F },
    /// Sent, its span started.
    Sent { operation: OperationSpan, finish: F },
    /// Finished: the span has ended.
    Done,
}

/// Runs an operation's future and ends the span with its result, by
/// `finish`; when dropped before the result, the span ends as cancelled.
///
/// The first poll reads the time, sends the query, then builds the span
/// with that start time; when the result is not there yet, it returns
/// `Pending` (the driver's future has registered the waker) instead of
/// polling the driver again at once, which would only find it still
/// waiting.
pub(crate) struct TracedFuture<'a, DB: InstrumentedDatabase, T, F> {
    pending: BoxFuture<'a, Result<T, sqlx::Error>>,
    stage: Stage<'a, DB, F>,
}

impl<'a, DB, T, F> TracedFuture<'a, DB, T, F>
where
    DB: InstrumentedDatabase,
    F: FnOnce(OperationSpan, &Result<T, sqlx::Error>),
{
    pub(crate) fn new(
        pending: BoxFuture<'a, Result<T, sqlx::Error>>,
        span: QuerySpan<'a, DB>,
        finish: F,
    ) -> Self {
        TracedFuture {
            pending,
            stage: Stage::Unsent { span, finish },
        }
    }
}

impl<DB, T, F> Future for TracedFuture<'_, DB, T, F>
where
    DB: InstrumentedDatabase,
    F: FnOnce(OperationSpan, &Result<T, sqlx::Error>) + Unpin,
{
    type Output = Result<T, sqlx::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let (poll, operation, finish) = match std::mem::replace(&mut this.stage, Stage::Done) {
            Stage::Unsent { span, finish } => {
                let begun = Begun::now();
                let poll = this.pending.as_mut().poll(cx);
                let operation = OperationSpan::for_query(
                    span.shared,
                    span.parent,
                    span.description,
                    span.annotation,
                    span.counting,
                    WhenDropped::Cancelled,
                    begun,
                );
                (poll, operation, finish)
            }
            Stage::Sent { operation, finish } => {
                (this.pending.as_mut().poll(cx), operation, finish)
            }
            // Polled again after completion: as the driver's future is.
            Stage::Done => return this.pending.as_mut().poll(cx),
        };
        match poll {
            Poll::Ready(result) => {
                finish(operation, &result);
                Poll::Ready(result)
            }
            Poll::Pending => {
                this.stage = Stage::Sent { operation, finish };
                Poll::Pending
            }
        }
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;
    use crate::pool::InstrumentedPool;
    use opentelemetry::trace::Status;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A driver future that is pending until its second poll, counting its
    /// polls.
    struct Driver {
        polls: Arc<AtomicUsize>,
    }

    impl Future for Driver {
        type Output = Result<u64, sqlx::Error>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            if self.polls.fetch_add(1, Ordering::SeqCst) == 0 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(Ok(7))
            }
        }
    }

    struct Fixture {
        pool: InstrumentedPool<sqlx::Sqlite>,
        spans: InMemorySpanExporter,
    }

    /// A lazy SQLite pool (it needs a runtime, never a connection here)
    /// whose spans go to memory.
    fn fixture() -> Fixture {
        let spans = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let raw = sqlx::SqlitePool::connect_lazy("sqlite::memory:").expect("lazy pool");
        let pool = InstrumentedPool::builder(raw)
            .tracer_provider(provider)
            .build();
        Fixture { pool, spans }
    }

    fn attribute(span: &SpanData, key: &str) -> Option<String> {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    }

    fn finished(fixture: &Fixture) -> Vec<SpanData> {
        fixture.spans.get_finished_spans().expect("spans")
    }

    /// Runs `test` with a traced future around a [`Driver`] and its poll
    /// counter.
    fn with_traced_future(
        fixture: &Fixture,
        test: impl FnOnce(Pin<&mut dyn Future<Output = Result<u64, sqlx::Error>>>, &AtomicUsize),
    ) {
        let shared = fixture.pool.shared();
        let parent = OtelContext::new();
        let description = QueryDescription {
            analysis: shared.analyses.get("SELECT 1", &shared.config.text),
            text: None,
        };
        let polls = Arc::new(AtomicUsize::new(0));
        let driver = Driver {
            polls: Arc::clone(&polls),
        };
        let span = QuerySpan {
            shared,
            parent: &parent,
            description: &description,
            annotation: None,
            counting: Counting::AffectedRows,
        };
        let mut future = TracedFuture::new(
            Box::pin(driver),
            span,
            |mut operation: OperationSpan, result: &Result<u64, sqlx::Error>| {
                if let Ok(n) = result {
                    operation.count_affected(*n);
                }
                operation.finish::<sqlx::Sqlite, u64>(result);
            },
        );
        let pinned = Pin::new(&mut future);
        test(pinned, &polls);
    }

    fn poll_once(future: Pin<&mut dyn Future<Output = Result<u64, sqlx::Error>>>) -> bool {
        let waker = futures_util::task::noop_waker();
        future.poll(&mut Context::from_waker(&waker)).is_ready()
    }

    #[tokio::test]
    async fn a_pending_send_returns_without_polling_the_driver_again() {
        let fixture = fixture();
        with_traced_future(&fixture, |mut future, polls| {
            assert!(!poll_once(future.as_mut()));
            assert_eq!(polls.load(Ordering::SeqCst), 1, "one poll: the send");
            assert!(finished(&fixture).is_empty(), "the span is open");
            assert!(poll_once(future.as_mut()));
            assert_eq!(polls.load(Ordering::SeqCst), 2);
        });
        let spans = finished(&fixture);
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].status, Status::Unset);
        assert_eq!(
            attribute(&spans[0], "db.response.affected_rows").as_deref(),
            Some("7")
        );
    }

    #[tokio::test]
    async fn dropped_after_the_send_the_span_ends_as_cancelled() {
        let fixture = fixture();
        with_traced_future(&fixture, |mut future, _| {
            assert!(!poll_once(future.as_mut()));
        });
        let spans = finished(&fixture);
        assert_eq!(spans.len(), 1);
        assert_eq!(
            attribute(&spans[0], "error.type").as_deref(),
            Some("cancelled")
        );
    }

    #[tokio::test]
    async fn dropped_before_the_send_there_is_no_span() {
        let fixture = fixture();
        with_traced_future(&fixture, |_, polls| {
            assert_eq!(polls.load(Ordering::SeqCst), 0);
        });
        assert!(finished(&fixture).is_empty());
    }
}
