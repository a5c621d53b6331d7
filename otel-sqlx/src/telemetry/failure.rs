//! How a failed operation is described: `error.type`,
//! `db.response.status_code` and the span status description.

use std::borrow::Cow;

use crate::database::driver::Driver;

/// What a span and the duration metric say about a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// `error.type`: the database's status code when it reported one,
    /// otherwise the kind of sqlx error (`pool_timed_out`, `io`, …).
    pub(crate) error_type: Cow<'static, str>,
    /// `db.response.status_code`, for errors the database reported.
    pub(crate) status_code: Option<String>,
    /// The span status description.
    pub(crate) description: String,
}

impl Failure {
    /// The operation's future was dropped before it completed (a timeout
    /// around it, or the caller went away).
    pub(crate) fn cancelled() -> Self {
        Failure {
            error_type: Cow::Borrowed("cancelled"),
            status_code: None,
            description: "cancelled before completion".to_owned(),
        }
    }

    /// Describes `error`. Database messages can quote the offending values
    /// (`Duplicate entry 'alice@example.com'`), so they are included only
    /// with `with_message`; otherwise the description names the status code.
    pub(crate) fn from_error<DB: Driver>(
        error: &sqlx::Error,
        system: &str,
        with_message: bool,
    ) -> Self {
        match error {
            sqlx::Error::Database(db_error) => {
                let status_code = DB::status_code(db_error.as_ref());
                let description = match (&status_code, with_message) {
                    (_, true) => error.to_string(),
                    (Some(code), false) => format!("{system} error {code}"),
                    (None, false) => format!("{system} error"),
                };
                Failure {
                    error_type: status_code
                        .clone()
                        .map_or(Cow::Borrowed("_OTHER"), Cow::Owned),
                    status_code,
                    description,
                }
            }
            other => {
                let kind = error_kind(other);
                Failure {
                    error_type: Cow::Borrowed(kind),
                    status_code: None,
                    description: if with_message || has_fixed_message(other) {
                        other.to_string()
                    } else {
                        format!("{kind} error")
                    },
                }
            }
        }
    }
}

/// Whether sqlx's message for `error` quotes nothing from the query, its
/// values, the rows or the connection options. Decoding, encoding,
/// configuration and protocol messages can (`invalid value "…" for enum`,
/// a URL with its password), so they are recorded only on request.
fn has_fixed_message(error: &sqlx::Error) -> bool {
    use sqlx::Error::*;
    matches!(
        error,
        Io(_)
            | RowNotFound
            | TypeNotFound { .. }
            | ColumnIndexOutOfBounds { .. }
            | ColumnNotFound(_)
            | PoolTimedOut
            | PoolClosed
            | WorkerCrashed
            | InvalidSavePointStatement
            | BeginFailed
    )
}

/// A low-cardinality name for each kind of sqlx error.
fn error_kind(error: &sqlx::Error) -> &'static str {
    use sqlx::Error::*;
    match error {
        Configuration(_) => "configuration",
        InvalidArgument(_) => "invalid_argument",
        Database(_) => "database",
        Io(_) => "io",
        Tls(_) => "tls",
        Protocol(_) => "protocol",
        RowNotFound => "row_not_found",
        TypeNotFound { .. } => "type_not_found",
        ColumnIndexOutOfBounds { .. } => "column_index_out_of_bounds",
        ColumnNotFound(_) => "column_not_found",
        ColumnDecode { .. } => "column_decode",
        Encode(_) => "encode",
        Decode(_) => "decode",
        AnyDriverError(_) => "any_driver_error",
        PoolTimedOut => "pool_timed_out",
        PoolClosed => "pool_closed",
        WorkerCrashed => "worker_crashed",
        Migrate(_) => "migrate",
        InvalidSavePointStatement => "invalid_savepoint_statement",
        BeginFailed => "begin_failed",
        _ => "_OTHER",
    }
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::*;
    use sqlx::Postgres;

    #[test]
    fn client_side_errors_are_named_by_kind() {
        let f = Failure::from_error::<Postgres>(&sqlx::Error::PoolTimedOut, "postgresql", false);
        assert_eq!(f.error_type, "pool_timed_out");
        assert_eq!(f.status_code, None);
        assert!(f.description.contains("timed out"), "{}", f.description);
        let f = Failure::from_error::<Postgres>(&sqlx::Error::RowNotFound, "postgresql", false);
        assert_eq!(f.error_type, "row_not_found");
    }

    #[test]
    fn messages_that_can_quote_values_are_recorded_only_on_request() {
        let decode = || sqlx::Error::Decode("invalid value \"alice-secret\" for enum Role".into());
        let f = Failure::from_error::<Postgres>(&decode(), "postgresql", false);
        assert_eq!(f.error_type, "decode");
        assert_eq!(f.description, "decode error");
        let f = Failure::from_error::<Postgres>(&decode(), "postgresql", true);
        assert!(f.description.contains("alice-secret"), "{}", f.description);
        let configuration =
            sqlx::Error::Configuration("postgres://app:hunter2@db/app is invalid".into());
        let f = Failure::from_error::<Postgres>(&configuration, "postgresql", false);
        assert!(!f.description.contains("hunter2"), "{}", f.description);
    }
}
