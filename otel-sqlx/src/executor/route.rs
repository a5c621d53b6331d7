//! Where an operation runs (a connection from the pool, or one already
//! held) and how it is traced there.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use opentelemetry::Context;
use sqlx::{Database, Either, Execute, Executor, SqlStr};

use super::generator::generate;
use super::observed::ObservedQuery;
use super::traced_future::{QuerySpan, TracedFuture};
use super::traced_stream::TracedStream;
use crate::annotation::Annotation;
use crate::database::InstrumentedDatabase;
use crate::lease;
use crate::shared::Shared;
use crate::telemetry::operation::{Begun, Counting, OperationSpan, WhenDropped};

pub(crate) type RowStream<'e, DB> = BoxStream<
    'e,
    Result<Either<<DB as Database>::QueryResult, <DB as Database>::Row>, sqlx::Error>,
>;

/// Where the next operation runs.
pub(crate) enum Route<'c, DB: InstrumentedDatabase> {
    /// On a connection taken from the pool for this operation.
    Pool(Arc<Shared<DB>>),
    /// On a connection (or transaction) the caller holds.
    Connection {
        connection: &'c mut DB::Connection,
        shared: &'c Shared<DB>,
    },
}

/// An executor type that knows its route; implemented by every executor
/// of this crate.
pub(crate) trait Routed<'c, DB: InstrumentedDatabase> {
    fn route(self) -> (Route<'c, DB>, Option<Annotation>);
}

impl<'c, DB> Route<'c, DB>
where
    DB: InstrumentedDatabase,
    for<'x> &'x mut DB::Connection: Executor<'x, Database = DB>,
{
    /// A streaming operation: the span ends when the stream ends, fails or
    /// is dropped.
    pub(crate) fn fetch_many<'e, 'q: 'e, E>(
        self,
        annotation: Option<Annotation>,
        query: E,
        counting: Counting,
    ) -> RowStream<'e, DB>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        let parent = Context::current();
        let query = ObservedQuery::new(query);
        match self {
            Route::Connection { connection, shared } => {
                let description = query.describe(shared, annotation.as_ref());
                let operation = OperationSpan::for_query(
                    shared,
                    &parent,
                    &description,
                    annotation.as_ref(),
                    counting,
                    WhenDropped::Complete,
                    Begun::now(),
                );
                Box::pin(TracedStream::<DB>::new(
                    connection.fetch_many(query),
                    operation,
                ))
            }
            Route::Pool(shared) => {
                let description = query.describe(&shared, annotation.as_ref());
                Box::pin(generate(move |rows| async move {
                    let mut lease = match lease::acquire(&shared, &parent).await {
                        Ok(lease) => lease,
                        Err(error) => return rows.give(Err(error)).await,
                    };
                    let operation = OperationSpan::for_query(
                        &shared,
                        &parent,
                        &description,
                        annotation.as_ref(),
                        counting,
                        WhenDropped::Complete,
                        Begun::now(),
                    );
                    let connection: &mut DB::Connection = &mut lease.connection;
                    let mut steps =
                        TracedStream::<DB>::new(connection.fetch_many(query), operation);
                    while let Some(step) = steps.next().await {
                        rows.give(step).await;
                    }
                }))
            }
        }
    }

    /// An operation that completes as one future: the span ends with it, as
    /// cancelled when the future is dropped first. `count` reads the row
    /// count that `counting` asks for from the result.
    pub(crate) fn run<'e, T, F>(
        self,
        annotation: Option<Annotation>,
        query: ObservedQuery<DB>,
        counting: Counting,
        call: F,
        count: fn(&T) -> u64,
    ) -> BoxFuture<'e, Result<T, sqlx::Error>>
    where
        'c: 'e,
        T: Send + 'e,
        F: for<'x> FnOnce(
                &'x mut DB::Connection,
                ObservedQuery<DB>,
            ) -> BoxFuture<'x, Result<T, sqlx::Error>>
            + Send
            + 'e,
    {
        let parent = Context::current();
        let finish = move |mut operation: OperationSpan, result: &Result<T, sqlx::Error>| {
            if let Ok(value) = result {
                match counting {
                    Counting::ReturnedRows => operation.count_rows(count(value)),
                    Counting::AffectedRows => operation.count_affected(count(value)),
                    Counting::Nothing => {}
                }
            }
            operation.finish::<DB, T>(result);
        };
        match self {
            Route::Connection { connection, shared } => {
                let description = query.describe(shared, annotation.as_ref());
                let pending = call(connection, query);
                Box::pin(async move {
                    let span = QuerySpan {
                        shared,
                        parent: &parent,
                        description: &description,
                        annotation: annotation.as_ref(),
                        counting,
                    };
                    TracedFuture::new(pending, span, finish).await
                })
            }
            Route::Pool(shared) => {
                let description = query.describe(&shared, annotation.as_ref());
                Box::pin(async move {
                    let mut lease = lease::acquire(&shared, &parent).await?;
                    let pending = call(&mut lease.connection, query);
                    let span = QuerySpan {
                        shared: &shared,
                        parent: &parent,
                        description: &description,
                        annotation: annotation.as_ref(),
                        counting,
                    };
                    TracedFuture::new(pending, span, finish).await
                })
            }
        }
    }

    /// Prepares a statement, untraced (as sqlx's own pool does, on any
    /// connection).
    pub(crate) fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Route::Connection { connection, .. } => connection.prepare_with(sql, parameters),
            Route::Pool(shared) => Box::pin(async move {
                let mut connection = shared.pool.acquire().await?;
                let connection: &mut DB::Connection = &mut connection;
                connection.prepare_with(sql, parameters).await
            }),
        }
    }

    /// Describes a query for the `query!` macros, untraced.
    pub(crate) fn describe<'e>(
        self,
        sql: SqlStr,
    ) -> BoxFuture<'e, Result<sqlx::Describe<DB>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Route::Connection { connection, .. } => connection.describe(sql),
            Route::Pool(shared) => Box::pin(async move {
                let mut connection = shared.pool.acquire().await?;
                let connection: &mut DB::Connection = &mut connection;
                connection.describe(sql).await
            }),
        }
    }
}
