//! SQL text analysis: the sanitizer behind `db.query.text` and the summary
//! behind `db.query.summary` and the span name.
//!
//! Both work on tokens (no full parser), per dialect, never fail and never
//! allocate per token. They are exposed so that a custom
//! [sanitizer](crate::InstrumentedPoolBuilder::sanitizer) or
//! [summarizer](crate::InstrumentedPoolBuilder::summarizer) can build on them.

mod lexer;
mod sanitize;
mod summary;

pub use sanitize::sanitize;
pub use summary::{QuerySummary, summarize};

/// The SQL dialect, which decides what counts as a string, a quoted
/// identifier, a comment or a bind parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
