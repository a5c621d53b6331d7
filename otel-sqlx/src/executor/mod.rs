//! [`sqlx::Executor`] for the pool, its connections and transactions, with
//! or without an [`Annotation`](crate::Annotation): every operation is
//! traced, then runs exactly as it would on sqlx's own types.

mod generator;
mod observed;
mod route;
mod traced_future;
mod traced_stream;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use sqlx::{Database, Either, Execute, Executor, SqlStr};

use crate::annotation::{Annotated, Annotation};
use crate::connection::{InstrumentedConnection, TracedConnection};
use crate::database::InstrumentedDatabase;
use crate::database::driver::Driver;
use crate::pool::InstrumentedPool;
use crate::telemetry::operation::Counting;
use crate::transaction::InstrumentedTransaction;
use observed::ObservedQuery;
pub(crate) use route::{Route, Routed};

/// The methods of an `Executor<$c>` impl whose `Self: Routed<$c, DB>`.
/// `fetch`, `fetch_one` and `execute_many` keep their default bodies, which
/// go through `fetch_many` and `fetch_optional` (and so are traced).
macro_rules! traced_executor_methods {
    ($c:lifetime, $db:ty) => {
        type Database = $db;

        fn fetch_many<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> BoxStream<
            'e,
            Result<Either<<$db as Database>::QueryResult, <$db as Database>::Row>, sqlx::Error>,
        >
        where
            $c: 'e,
            E: 'q + Execute<'q, $db>,
        {
            let (route, annotation) = Routed::route(self);
            route.fetch_many(annotation, query, Counting::ReturnedRows)
        }

        fn execute_many<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> BoxStream<'e, Result<<$db as Database>::QueryResult, sqlx::Error>>
        where
            $c: 'e,
            E: 'q + Execute<'q, $db>,
        {
            use futures_util::TryStreamExt;
            let (route, annotation) = Routed::route(self);
            Box::pin(
                route
                    .fetch_many(annotation, query, Counting::AffectedRows)
                    .try_filter_map(|step| async move {
                        Ok(match step {
                            Either::Left(result) => Some(result),
                            Either::Right(_) => None,
                        })
                    }),
            )
        }

        fn execute<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> BoxFuture<'e, Result<<$db as Database>::QueryResult, sqlx::Error>>
        where
            $c: 'e,
            E: 'q + Execute<'q, $db>,
        {
            let (route, annotation) = Routed::route(self);
            route.run(
                annotation,
                ObservedQuery::new(query),
                Counting::AffectedRows,
                |connection, query| connection.execute(query),
                <$db as Driver>::rows_affected,
            )
        }

        fn fetch_all<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> BoxFuture<'e, Result<Vec<<$db as Database>::Row>, sqlx::Error>>
        where
            $c: 'e,
            E: 'q + Execute<'q, $db>,
        {
            let (route, annotation) = Routed::route(self);
            route.run(
                annotation,
                ObservedQuery::new(query),
                Counting::ReturnedRows,
                |connection, query| connection.fetch_all(query),
                |rows| u64::try_from(rows.len()).unwrap_or(u64::MAX),
            )
        }

        fn fetch_optional<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> BoxFuture<'e, Result<Option<<$db as Database>::Row>, sqlx::Error>>
        where
            $c: 'e,
            E: 'q + Execute<'q, $db>,
        {
            let (route, annotation) = Routed::route(self);
            route.run(
                annotation,
                ObservedQuery::new(query),
                Counting::ReturnedRows,
                |connection, query| connection.fetch_optional(query),
                |row| u64::from(row.is_some()),
            )
        }

        fn prepare_with<'e>(
            self,
            sql: SqlStr,
            parameters: &'e [<$db as Database>::TypeInfo],
        ) -> BoxFuture<'e, Result<<$db as Database>::Statement, sqlx::Error>>
        where
            $c: 'e,
        {
            Routed::route(self).0.prepare_with(sql, parameters)
        }

        #[doc(hidden)]
        fn describe<'e>(
            self,
            sql: SqlStr,
        ) -> BoxFuture<'e, Result<sqlx::Describe<$db>, sqlx::Error>>
        where
            $c: 'e,
        {
            Routed::route(self).0.describe(sql)
        }
    };
}

impl<'p, DB: InstrumentedDatabase> Routed<'p, DB> for &'_ InstrumentedPool<DB> {
    fn route(self) -> (Route<'p, DB>, Option<Annotation>) {
        (Route::Pool(self.shared().clone()), None)
    }
}

impl<'p, DB: InstrumentedDatabase> Routed<'p, DB> for Annotated<&'_ InstrumentedPool<DB>> {
    fn route(self) -> (Route<'p, DB>, Option<Annotation>) {
        (
            Route::Pool(self.executor.shared().clone()),
            Some(self.annotation),
        )
    }
}

impl<'c, DB: InstrumentedDatabase> Routed<'c, DB> for &'c mut TracedConnection<'_, DB> {
    fn route(self) -> (Route<'c, DB>, Option<Annotation>) {
        (TracedConnection::connection_route(self), None)
    }
}

impl<'c, DB: InstrumentedDatabase> Routed<'c, DB> for Annotated<&'c mut TracedConnection<'_, DB>> {
    fn route(self) -> (Route<'c, DB>, Option<Annotation>) {
        (
            TracedConnection::connection_route(self.executor),
            Some(self.annotation),
        )
    }
}

impl<'c, DB: InstrumentedDatabase> Routed<'c, DB> for &'c mut InstrumentedConnection<DB> {
    fn route(self) -> (Route<'c, DB>, Option<Annotation>) {
        (TracedConnection::connection_route(self), None)
    }
}

impl<'c, DB: InstrumentedDatabase> Routed<'c, DB> for &'c mut InstrumentedTransaction<'_, DB> {
    fn route(self) -> (Route<'c, DB>, Option<Annotation>) {
        (TracedConnection::connection_route(self), None)
    }
}

/// `query.fetch_all(&pool)`: a connection is taken from the pool for the
/// operation (the wait traced as "acquire connection"), as with `&sqlx::Pool`.
impl<'p, DB> Executor<'p> for &'_ InstrumentedPool<DB>
where
    DB: InstrumentedDatabase,
    for<'x> &'x mut DB::Connection: Executor<'x, Database = DB>,
{
    traced_executor_methods!('p, DB);
}

/// `query.fetch_all(pool.named("load cart"))`.
impl<'p, DB> Executor<'p> for Annotated<&'_ InstrumentedPool<DB>>
where
    DB: InstrumentedDatabase,
    for<'x> &'x mut DB::Connection: Executor<'x, Database = DB>,
{
    traced_executor_methods!('p, DB);
}

/// `query.fetch_all(conn.named("load cart"))`.
impl<'c, DB> Executor<'c> for Annotated<&'c mut TracedConnection<'_, DB>>
where
    DB: InstrumentedDatabase,
    for<'x> &'x mut DB::Connection: Executor<'x, Database = DB>,
{
    traced_executor_methods!('c, DB);
}

/// The executors that are `&mut` references are implemented per database,
/// not generically: a generic `impl Executor for &mut TracedConnection<DB>`
/// needing `&mut DB::Connection: Executor` makes the compiler recurse
/// without end in user code generic over the database (the reason sqlx has
/// no such impl for its `PoolConnection` either).
macro_rules! connection_executors {
    ($db:ty) => {
        /// `query.fetch_all(&mut *conn)` and `query.fetch_all(&mut *tx)`.
        impl<'c> Executor<'c> for &'c mut TracedConnection<'_, $db> {
            traced_executor_methods!('c, $db);
        }

        /// `query.fetch_all(&mut conn)`, without the `*`.
        impl<'c> Executor<'c> for &'c mut InstrumentedConnection<$db> {
            traced_executor_methods!('c, $db);
        }

        /// `query.fetch_all(&mut tx)`, without the `*`.
        impl<'c> Executor<'c> for &'c mut InstrumentedTransaction<'_, $db> {
            traced_executor_methods!('c, $db);
        }
    };
}

#[cfg(feature = "postgres")]
connection_executors!(sqlx::Postgres);
#[cfg(feature = "mysql")]
connection_executors!(sqlx::MySql);
#[cfg(feature = "sqlite")]
connection_executors!(sqlx::Sqlite);
