//! A result stream that counts what passes through and ends the operation's
//! span when it is exhausted, fails, or is dropped.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::Stream;
use futures_util::stream::BoxStream;
use sqlx::Either;

use crate::database::InstrumentedDatabase;
use crate::telemetry::operation::OperationSpan;

type Step<DB> =
    Result<Either<<DB as sqlx::Database>::QueryResult, <DB as sqlx::Database>::Row>, sqlx::Error>;

pub(crate) struct TracedStream<'e, DB: InstrumentedDatabase> {
    inner: BoxStream<'e, Step<DB>>,
    /// `None` once the span has ended.
    operation: Option<OperationSpan>,
}

impl<'e, DB: InstrumentedDatabase> TracedStream<'e, DB> {
    pub(crate) fn new(inner: BoxStream<'e, Step<DB>>, operation: OperationSpan) -> Self {
        TracedStream {
            inner,
            operation: Some(operation),
        }
    }
}

impl<DB: InstrumentedDatabase> Stream for TracedStream<'_, DB> {
    type Item = Step<DB>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let step = ready!(this.inner.as_mut().poll_next(cx));
        match &step {
            Some(Ok(Either::Right(_row))) => {
                if let Some(operation) = this.operation.as_mut() {
                    operation.count_row();
                }
            }
            Some(Ok(Either::Left(result))) => {
                if let Some(operation) = this.operation.as_mut() {
                    operation.count_affected(DB::rows_affected(result));
                }
            }
            Some(Err(error)) => {
                if let Some(operation) = this.operation.take() {
                    operation.fail::<DB>(error);
                }
            }
            None => {
                if let Some(operation) = this.operation.take() {
                    operation.succeed();
                }
            }
        }
        Poll::Ready(step)
    }
}
