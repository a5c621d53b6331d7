//! What differs between PostgreSQL, MySQL/MariaDB and SQLite: the system
//! name, the SQL dialect, where the server is, and how results and errors
//! report.

use futures_util::future::BoxFuture;
use sqlx::error::DatabaseError;
#[cfg(feature = "mysql")]
use sqlx::mysql::{MySql, MySqlConnectOptions, MySqlDatabaseError, MySqlQueryResult};
#[cfg(feature = "postgres")]
use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgQueryResult, Postgres};
#[cfg(feature = "sqlite")]
use sqlx::sqlite::{Sqlite, SqliteConnectOptions, SqliteQueryResult};

use crate::sql::Dialect;

/// A database `otel-sqlx` can instrument: [`Postgres`], [`MySql`] (MySQL and
/// MariaDB) and [`Sqlite`].
///
/// Sealed: the per-database details live in a private supertrait.
///
/// Code generic over the database takes `InstrumentedPool<DB>` with this
/// bound:
///
/// ```
/// use otel_sqlx::{InstrumentedDatabase, InstrumentedPool};
///
/// fn describe<DB: InstrumentedDatabase>(pool: &InstrumentedPool<DB>) -> String {
///     format!("{}: {} open", pool.pool_name(), pool.size())
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sqlx::Error> {
/// let pool = otel_sqlx::SqlitePool::connect_lazy("sqlite::memory:")?;
/// assert_eq!(describe(&pool), ":memory:: 0 open");
/// # Ok(()) }
/// ```
pub trait InstrumentedDatabase: sqlx::Database + driver::Driver {}

#[cfg(feature = "postgres")]
impl InstrumentedDatabase for Postgres {}
#[cfg(feature = "mysql")]
impl InstrumentedDatabase for MySql {}
#[cfg(feature = "sqlite")]
impl InstrumentedDatabase for Sqlite {}

pub(crate) mod driver {
    use super::*;

    /// Where the database is, as the connection options say.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct Endpoint {
        /// `server.address`: host name, IP address or Unix socket path.
        pub address: Option<String>,
        /// `server.port`.
        pub port: Option<u16>,
        /// `db.namespace`: the database name (SQLite: the file name).
        pub namespace: Option<String>,
    }

    /// The per-database details behind [`InstrumentedDatabase`].
    pub trait Driver: sqlx::Database {
        /// `db.system.name` unless detection says otherwise.
        const SYSTEM_NAME: &'static str;
        /// How to read the SQL text.
        const DIALECT: Dialect;

        /// The endpoint named by the pool's connect options.
        fn endpoint(options: &<Self::Connection as sqlx::Connection>::Options) -> Endpoint;

        /// Rows inserted, updated or deleted.
        fn rows_affected(result: &Self::QueryResult) -> u64;

        /// `db.response.status_code`: SQLSTATE for PostgreSQL, the error
        /// number for MySQL/MariaDB, the extended result code for SQLite.
        fn status_code(error: &dyn DatabaseError) -> Option<String>;

        /// Looks at a live connection to tell products apart that share a
        /// driver (MariaDB behind the MySQL driver). `None`: keep
        /// [`SYSTEM_NAME`](Self::SYSTEM_NAME).
        fn detect_system_name(
            _connection: &mut Self::Connection,
        ) -> BoxFuture<'_, Option<&'static str>> {
            Box::pin(std::future::ready(None))
        }
    }
}

use driver::{Driver, Endpoint};

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn network_endpoint(
    host: &str,
    port: u16,
    socket: Option<&std::path::PathBuf>,
    database: Option<&str>,
) -> Endpoint {
    let (address, port) = match socket {
        Some(path) => (path.to_string_lossy().into_owned(), None),
        None => (host.to_owned(), Some(port)),
    };
    Endpoint {
        address: Some(address),
        port,
        namespace: database.map(str::to_owned),
    }
}

#[cfg(feature = "postgres")]
impl Driver for Postgres {
    const SYSTEM_NAME: &'static str = "postgresql";
    const DIALECT: Dialect = Dialect::Postgres;

    fn endpoint(options: &PgConnectOptions) -> Endpoint {
        // Without a database name PostgreSQL connects to the user's database.
        let database = options.get_database().unwrap_or(options.get_username());
        network_endpoint(
            options.get_host(),
            options.get_port(),
            options.get_socket(),
            Some(database),
        )
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn status_code(error: &dyn DatabaseError) -> Option<String> {
        match error.try_downcast_ref::<PgDatabaseError>() {
            Some(pg) => Some(pg.code().to_owned()),
            None => error.code().map(|c| c.into_owned()),
        }
    }
}

#[cfg(feature = "mysql")]
impl Driver for MySql {
    const SYSTEM_NAME: &'static str = "mysql";
    const DIALECT: Dialect = Dialect::MySql;

    fn endpoint(options: &MySqlConnectOptions) -> Endpoint {
        network_endpoint(
            options.get_host(),
            options.get_port(),
            options.get_socket(),
            options.get_database(),
        )
    }

    fn rows_affected(result: &MySqlQueryResult) -> u64 {
        result.rows_affected()
    }

    fn status_code(error: &dyn DatabaseError) -> Option<String> {
        match error.try_downcast_ref::<MySqlDatabaseError>() {
            Some(mysql) => Some(mysql.number().to_string()),
            None => error.code().map(|c| c.into_owned()),
        }
    }

    fn detect_system_name(
        connection: &mut sqlx::MySqlConnection,
    ) -> BoxFuture<'_, Option<&'static str>> {
        Box::pin(async move {
            let version: String = sqlx::query_scalar("SELECT VERSION()")
                .fetch_one(connection)
                .await
                .ok()?;
            Some(if version.to_ascii_lowercase().contains("mariadb") {
                "mariadb"
            } else {
                "mysql"
            })
        })
    }
}

#[cfg(feature = "sqlite")]
impl Driver for Sqlite {
    const SYSTEM_NAME: &'static str = "sqlite";
    const DIALECT: Dialect = Dialect::Sqlite;

    fn endpoint(options: &SqliteConnectOptions) -> Endpoint {
        let filename = options.get_filename().to_string_lossy();
        // `sqlite::memory:` becomes a private shared-cache name per pool.
        let namespace = if filename.contains("sqlx-in-memory") || filename == ":memory:" {
            ":memory:".to_owned()
        } else {
            filename.into_owned()
        };
        Endpoint {
            address: None,
            port: None,
            namespace: Some(namespace),
        }
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn status_code(error: &dyn DatabaseError) -> Option<String> {
        error.code().map(|c| c.into_owned())
    }
}
