//! SQL text analysis: the sanitizer behind `db.query.text` and the summary
//! behind `db.query.summary` and the span name.
//!
//! Both work on tokens (no full parser), per dialect, never fail and never
//! allocate per token. They are exposed so that a custom
//! [sanitizer](crate::InstrumentedPoolBuilder::sanitizer) or
//! [summarizer](crate::InstrumentedPoolBuilder::summarizer) can build on them.
//!
//! ```
//! use otel_sqlx::sql::{Dialect, sanitize, summarize};
//!
//! let sql = "UPDATE orders SET status = 'paid' WHERE id = 42";
//! assert_eq!(sanitize(sql, Dialect::Postgres), "UPDATE orders SET status = ? WHERE id = ?");
//! assert_eq!(summarize(sql, Dialect::Postgres).summary(), Some("UPDATE orders"));
//! ```

mod lexer;
mod sanitize;
mod summary;

pub use sanitize::sanitize;
pub use summary::{QuerySummary, summarize};

/// The SQL dialect, which decides what counts as a string, a quoted
/// identifier, a comment or a bind parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
///
/// ```
/// use otel_sqlx::sql::{Dialect, sanitize};
///
/// // A double-quoted text is an identifier in PostgreSQL, a string in MySQL.
/// let sql = r#"SELECT "name" FROM users"#;
/// assert_eq!(sanitize(sql, Dialect::Postgres), sql);
/// assert_eq!(sanitize(sql, Dialect::MySql), "SELECT ? FROM users");
/// ```
pub enum Dialect {
    /// PostgreSQL: `"identifiers"`, `$1` parameters, `E'…'` and
    /// `$tag$…$tag$` strings, nested block comments.
    Postgres,
    /// MySQL and MariaDB: `` `identifiers` ``, `"strings"`, backslash
    /// escapes, `#` comments, `?` parameters.
    MySql,
    /// SQLite: `"identifiers"`, `` `identifiers` ``, `[identifiers]`, `?`,
    /// `?NNN`, `:name`, `@name` and `$name` parameters.
    Sqlite,
}
