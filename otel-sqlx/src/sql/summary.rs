//! `db.query.summary` from the query text, per the semantic conventions'
//! "Generating a summary of the query": operations and their targets in the
//! order they appear, e.g. `INSERT shipping_details SELECT orders`.

use super::Dialect;
use super::lexer::{Lexer, Token, TokenKind};

/// The longest summary, in bytes; the conventions ask for at most 255
/// characters, cut between parts.
const MAX_SUMMARY_LEN: usize = 255;

/// What [`summarize`] found in a query: the `db.query.summary` and, when the
/// query is one operation, its name and single target.
///
/// Operation names and targets are kept as written (no case normalization),
/// as the conventions recommend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
///
/// ```
/// use otel_sqlx::sql::{Dialect, summarize};
///
/// let s = summarize("SELECT * FROM orders o JOIN customers c ON o.customer_id = c.id", Dialect::Postgres);
/// assert_eq!(s.summary(), Some("SELECT orders customers"));
/// assert_eq!(s.operation(), Some("SELECT"));
/// assert_eq!(s.collection(), None); // two tables
/// ```
pub struct QuerySummary {
    summary: String,
    operation: Option<String>,
    collection: Option<String>,
}

impl QuerySummary {
    /// `{operation} {target} …`, e.g. `SELECT orders customers`; `None` when
    /// nothing was recognised (empty text, or only literals).
    ///
    /// ```
    /// use otel_sqlx::sql::{Dialect, summarize};
    ///
    /// assert_eq!(summarize("DELETE FROM carts WHERE id = 1", Dialect::Sqlite).summary(), Some("DELETE carts"));
    /// assert_eq!(summarize("  -- nothing\n", Dialect::Sqlite).summary(), None);
    /// ```
    pub fn summary(&self) -> Option<&str> {
        (!self.summary.is_empty()).then_some(self.summary.as_str())
    }

    /// The operation (`SELECT`, `INSERT`, `CREATE TABLE`, …) when the query
    /// has exactly one.
    ///
    /// ```
    /// use otel_sqlx::sql::{Dialect, summarize};
    ///
    /// assert_eq!(summarize("CREATE TABLE items (id INT)", Dialect::MySql).operation(), Some("CREATE TABLE"));
    /// assert_eq!(summarize("INSERT INTO a SELECT * FROM b", Dialect::MySql).operation(), None);
    /// ```
    pub fn operation(&self) -> Option<&str> {
        self.operation.as_deref()
    }

    /// The table when the query has exactly one operation on exactly one
    /// table.
    ///
    /// ```
    /// use otel_sqlx::sql::{Dialect, summarize};
    ///
    /// assert_eq!(summarize("UPDATE stock SET n = n - 1", Dialect::Postgres).collection(), Some("stock"));
    /// assert_eq!(summarize("SELECT now()", Dialect::Postgres).collection(), None);
    /// ```
    pub fn collection(&self) -> Option<&str> {
        self.collection.as_deref()
    }
}

/// Summarizes `sql`: the operations it performs and their targets, skipping
/// literals, comments, aliases, column lists and function arguments.
///
/// ```
/// use otel_sqlx::sql::{Dialect, summarize};
///
/// let s = summarize("INSERT INTO shipping_details (order_id) SELECT id FROM orders WHERE id = $1", Dialect::Postgres);
/// assert_eq!(s.summary(), Some("INSERT shipping_details SELECT orders"));
/// assert_eq!(s.operation(), None); // two operations
///
/// let s = summarize("select * from public.users u where u.id = ?", Dialect::MySql);
/// assert_eq!(s.summary(), Some("select public.users"));
/// assert_eq!((s.operation(), s.collection()), (Some("select"), Some("public.users")));
/// ```
pub fn summarize(sql: &str, dialect: Dialect) -> QuerySummary {
    let tokens: Vec<Token> = Lexer::new(sql, dialect)
        .filter(Token::is_significant)
        .collect();
    let mut summarizer = Summarizer {
        sql,
        tokens,
        parts: Vec::new(),
    };
    summarizer.run();
    summarizer.finish()
}

#[derive(Debug)]
enum Part {
    Operation(String),
    Target(String),
}

/// How a list of targets is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetMode {
    /// After FROM, JOIN, USING: tables with aliases, separated by commas; a
    /// name followed by `(` is a table function, not a table.
    From,
    /// After UPDATE: like `From`, but `(` never follows.
    Update,
    /// After INTO, ON, CALL, CREATE TABLE …: one name, no alias.
    Single,
    /// After DROP TABLE, TRUNCATE: names separated by commas.
    List,
}

/// Words that end a target list: never a table name or an alias.
const RESERVED: &[&str] = &[
    "AS",
    "CROSS",
    "DEFAULT",
    "EXCEPT",
    "FETCH",
    "FOR",
    "FORCE",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "IGNORE",
    "INNER",
    "INTERSECT",
    "INTO",
    "JOIN",
    "LATERAL",
    "LEFT",
    "LIMIT",
    "LOCK",
    "NATURAL",
    "OFFSET",
    "ON",
    "ORDER",
    "OUTER",
    "OVERRIDING",
    "PARTITION",
    "RETURNING",
    "RIGHT",
    "SELECT",
    "SET",
    "STRAIGHT_JOIN",
    "TABLESAMPLE",
    "UNION",
    "USE",
    "USING",
    "VALUES",
    "WHERE",
    "WINDOW",
    "WITH",
];

/// Object kinds after CREATE / ALTER / DROP that make the operation name.
const DDL_KINDS: &[&str] = &[
    "DATABASE",
    "DOMAIN",
    "EVENT",
    "EXTENSION",
    "FUNCTION",
    "INDEX",
    "POLICY",
    "PROCEDURE",
    "ROLE",
    "SCHEMA",
    "SEQUENCE",
    "TABLE",
    "TRIGGER",
    "TYPE",
    "USER",
    "VIEW",
];

/// Words between CREATE and the object kind.
const DDL_MODIFIERS: &[&str] = &[
    "GLOBAL",
    "LOCAL",
    "MATERIALIZED",
    "OR",
    "RECURSIVE",
    "REPLACE",
    "TEMP",
    "TEMPORARY",
    "UNIQUE",
    "UNLOGGED",
    "VIRTUAL",
];

/// A data operation right after one of these words is part of another
/// clause (`ON CONFLICT DO UPDATE`, `FOR UPDATE`, `ON DUPLICATE KEY UPDATE`,
/// `ON DELETE CASCADE`, `GRANT SELECT`, `WHEN MATCHED THEN UPDATE`,
/// triggers), not an operation.
const CLAUSE_WORDS: &[&str] = &[
    "AFTER", "BEFORE", "DO", "FOR", "GRANT", "INSTEAD", "KEY", "OF", "ON", "OR", "REVOKE", "THEN",
];

/// A `(` after one of these words opens a subquery.
const SUBQUERY_OPENERS: &[&str] = &[
    "ALL",
    "ANY",
    "AS",
    "EXCEPT",
    "EXISTS",
    "FROM",
    "IN",
    "INTERSECT",
    "JOIN",
    "LATERAL",
    "SOME",
    "UNION",
];

/// A `(` followed by one of these words opens a subquery.
const SUBQUERY_STARTS: &[&str] = &["DELETE", "INSERT", "SELECT", "UPDATE", "VALUES", "WITH"];

fn is_one_of(word: &str, list: &[&str]) -> bool {
    list.iter().any(|w| w.eq_ignore_ascii_case(word))
}

struct Summarizer<'a> {
    sql: &'a str,
    /// Significant tokens only: no whitespace, no comments.
    tokens: Vec<Token>,
    parts: Vec<Part>,
}

impl<'a> Summarizer<'a> {
    fn text(&self, i: usize) -> &'a str {
        self.tokens.get(i).map_or("", |t| t.text(self.sql))
    }

    fn kind(&self, i: usize) -> Option<TokenKind> {
        self.tokens.get(i).map(|t| t.kind)
    }

    fn word_at(&self, i: usize) -> Option<&'a str> {
        (self.kind(i) == Some(TokenKind::Word)).then(|| self.text(i))
    }

    fn is_word(&self, i: usize, list: &[&str]) -> bool {
        self.word_at(i).is_some_and(|w| is_one_of(w, list))
    }

    fn is_punct(&self, i: usize, c: &str) -> bool {
        self.tokens.get(i).is_some_and(|t| t.is_punct(self.sql, c))
    }

    /// A word that can name a table (or alias), or a quoted identifier.
    fn is_name(&self, i: usize) -> bool {
        match self.kind(i) {
            Some(TokenKind::QuotedIdentifier) => true,
            Some(TokenKind::Word) => !is_one_of(self.text(i), RESERVED),
            _ => false,
        }
    }

    fn run(&mut self) {
        let mut i = 0;
        let mut statement_start = true;
        // One entry per open parenthesis: whether it holds a query (so that
        // FROM inside it names tables, unlike in `EXTRACT(YEAR FROM d)`).
        let mut query_frames = vec![true];
        while i < self.tokens.len() {
            match self.kind(i) {
                Some(TokenKind::Punct) => {
                    match self.text(i) {
                        ";" => {
                            statement_start = true;
                            query_frames.truncate(1);
                        }
                        "(" => {
                            let subquery = (i > 0 && self.is_word(i - 1, SUBQUERY_OPENERS))
                                || self.is_word(i + 1, SUBQUERY_STARTS);
                            query_frames.push(subquery);
                        }
                        ")" if query_frames.len() > 1 => {
                            query_frames.pop();
                        }
                        _ => {}
                    }
                    i += 1;
                }
                Some(TokenKind::Word) if statement_start => {
                    statement_start = false;
                    i = self.statement(i);
                }
                Some(TokenKind::Word) if query_frames.last().copied().unwrap_or(true) => {
                    i = self.clause(i);
                }
                _ => i += 1,
            }
        }
    }

    /// The first word of a statement.
    fn statement(&mut self, i: usize) -> usize {
        let word = self.text(i);
        if word.eq_ignore_ascii_case("WITH") {
            return if self.is_word(i + 1, &["RECURSIVE"]) {
                i + 2
            } else {
                i + 1
            };
        }
        if is_one_of(word, &["CREATE", "ALTER", "DROP"]) {
            return self.ddl(i);
        }
        if is_one_of(word, &["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"]) {
            return self.clause(i);
        }
        self.parts.push(Part::Operation(word.to_owned()));
        if word.eq_ignore_ascii_case("TRUNCATE") {
            let mut j = i + 1;
            while self.is_word(j, &["TABLE", "ONLY"]) {
                j += 1;
            }
            return self.targets(j, TargetMode::List);
        }
        if is_one_of(word, &["CALL", "EXEC", "EXECUTE"]) {
            return self.targets(i + 1, TargetMode::Single);
        }
        i + 1
    }

    /// A word inside a query.
    fn clause(&mut self, i: usize) -> usize {
        let word = self.text(i);
        let upper = |w: &str| w.to_ascii_uppercase();
        match upper(word).as_str() {
            "SELECT" | "INSERT" | "DELETE" | "MERGE" | "REPLACE" | "UPSERT" | "UPDATE" => {
                let clause_word = i > 0 && self.is_word(i - 1, CLAUSE_WORDS);
                let after_comma = i > 0 && self.is_punct(i - 1, ",");
                // REPLACE and UPSERT are operations only at a statement start.
                let statement_only = is_one_of(word, &["REPLACE", "UPSERT"]) && i > 0;
                if clause_word || after_comma || statement_only {
                    return i + 1;
                }
                self.parts.push(Part::Operation(word.to_owned()));
                if word.eq_ignore_ascii_case("UPDATE") {
                    let mut j = i + 1;
                    while self.is_word(j, &["ONLY", "LOW_PRIORITY", "IGNORE"]) {
                        j += 1;
                    }
                    return self.targets(j, TargetMode::Update);
                }
                i + 1
            }
            "FROM" | "JOIN" => self.targets(i + 1, TargetMode::From),
            "INTO" => self.targets(i + 1, TargetMode::Single),
            "USING" if !self.is_punct(i + 1, "(") => self.targets(i + 1, TargetMode::From),
            _ => i + 1,
        }
    }

    /// CREATE / ALTER / DROP: `{verb} {kind}` and the object's name (the
    /// table, for an index).
    fn ddl(&mut self, i: usize) -> usize {
        let verb = self.text(i);
        let mut k = i + 1;
        while self.is_word(k, DDL_MODIFIERS) {
            k += 1;
        }
        if !self.is_word(k, DDL_KINDS) {
            self.parts.push(Part::Operation(verb.to_owned()));
            return i + 1;
        }
        let kind = self.text(k);
        self.parts.push(Part::Operation(format!("{verb} {kind}")));
        let mut j = k + 1;
        while self.is_word(j, &["IF", "NOT", "EXISTS", "CONCURRENTLY"]) {
            j += 1;
        }
        if kind.eq_ignore_ascii_case("INDEX") {
            if !self.is_word(j, &["ON"]) && self.is_name(j) {
                j += 1;
            }
            if !self.is_word(j, &["ON"]) {
                return j;
            }
            j += 1;
            while self.is_word(j, &["ONLY"]) {
                j += 1;
            }
            return self.targets(j, TargetMode::Single);
        }
        let mode = if verb.eq_ignore_ascii_case("DROP") {
            TargetMode::List
        } else {
            TargetMode::Single
        };
        self.targets(j, mode)
    }

    /// Reads the targets starting at `j`; returns the index after them.
    fn targets(&mut self, mut j: usize, mode: TargetMode) -> usize {
        loop {
            while self.is_word(j, &["ONLY", "LATERAL"]) {
                j += 1;
            }
            if !self.is_name(j) {
                return j;
            }
            let (after, name) = self.qualified_name(j);
            j = after;
            if mode == TargetMode::From && self.is_punct(j, "(") {
                // A table function such as generate_series(…): not a table.
                return j;
            }
            self.parts.push(Part::Target(name.to_owned()));
            if matches!(mode, TargetMode::From | TargetMode::Update) {
                if self.is_word(j, &["AS"]) {
                    j += 2;
                } else if self.is_name(j) {
                    j += 1;
                }
            }
            if mode != TargetMode::Single && self.is_punct(j, ",") {
                j += 1;
                continue;
            }
            return j;
        }
    }

    /// `a`, `a.b`, `"s"."t"`: the index after the name and its text as
    /// written.
    fn qualified_name(&self, start: usize) -> (usize, &'a str) {
        let mut end = start;
        while self.is_punct(end + 1, ".")
            && matches!(
                self.kind(end + 2),
                Some(TokenKind::Word | TokenKind::QuotedIdentifier)
            )
        {
            end += 2;
        }
        let from = self.tokens.get(start).map_or(0, |t| t.start);
        let to = self.tokens.get(end).map_or(from, |t| t.end);
        (end + 1, self.sql.get(from..to).unwrap_or(""))
    }

    fn finish(self) -> QuerySummary {
        let mut summary = String::new();
        for part in &self.parts {
            let text = match part {
                Part::Operation(t) | Part::Target(t) => t.as_str(),
            };
            let needed = text.len() + usize::from(!summary.is_empty());
            if summary.len() + needed > MAX_SUMMARY_LEN {
                break;
            }
            if !summary.is_empty() {
                summary.push(' ');
            }
            summary.push_str(text);
        }
        let mut operations = self.parts.iter().filter_map(|p| match p {
            Part::Operation(op) => Some(op),
            Part::Target(_) => None,
        });
        let (operation, collection) = match (operations.next(), operations.next()) {
            (Some(op), None) => {
                let mut targets = self.parts.iter().filter_map(|p| match p {
                    Part::Target(t) => Some(t),
                    Part::Operation(_) => None,
                });
                let single_target = match (targets.next(), targets.next()) {
                    (Some(t), None) => Some(t.clone()),
                    _ => None,
                };
                (Some(op.clone()), single_target)
            }
            _ => (None, None),
        };
        QuerySummary {
            summary,
            operation,
            collection,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (dialect, query, summary, operation, collection)
    type Case = (
        Dialect,
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    );

    const CASES: &[Case] = &[
        // The examples of the semantic conventions.
        (
            Dialect::Postgres,
            "SELECT *\nFROM   wuser_table\nWHERE  username = ?",
            "SELECT wuser_table",
            Some("SELECT"),
            Some("wuser_table"),
        ),
        (
            Dialect::Postgres,
            "INSERT INTO shipping_details (order_id, address) SELECT order_id, address FROM orders WHERE order_id = ?",
            "INSERT shipping_details SELECT orders",
            None,
            None,
        ),
        (
            Dialect::Postgres,
            "SELECT * FROM songs, artists WHERE songs.artist_id == artists.id",
            "SELECT songs artists",
            Some("SELECT"),
            None,
        ),
        (
            Dialect::Postgres,
            "SELECT order_date FROM (SELECT * FROM orders o JOIN customers c ON o.customer_id = c.customer_id)",
            "SELECT SELECT orders customers",
            None,
            None,
        ),
        (
            Dialect::Postgres,
            "SELECT * FROM \"song list\", 'artists'",
            "SELECT \"song list\"",
            Some("SELECT"),
            Some("\"song list\""),
        ),
        // Every data operation.
        (
            Dialect::Postgres,
            "UPDATE ONLY accounts AS a SET balance = balance - $1 WHERE id = $2",
            "UPDATE accounts",
            Some("UPDATE"),
            Some("accounts"),
        ),
        (
            Dialect::Postgres,
            "DELETE FROM sessions WHERE expires < now()",
            "DELETE sessions",
            Some("DELETE"),
            Some("sessions"),
        ),
        (
            Dialect::MySql,
            "INSERT IGNORE INTO `orders` (a) VALUES (?) ON DUPLICATE KEY UPDATE a = VALUES(a)",
            "INSERT `orders`",
            Some("INSERT"),
            Some("`orders`"),
        ),
        (
            Dialect::Postgres,
            "INSERT INTO t (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET v = 1 RETURNING id",
            "INSERT t",
            Some("INSERT"),
            Some("t"),
        ),
        (
            Dialect::Postgres,
            "SELECT * FROM jobs WHERE state = 'new' FOR UPDATE SKIP LOCKED",
            "SELECT jobs",
            Some("SELECT"),
            Some("jobs"),
        ),
        (
            Dialect::MySql,
            "REPLACE INTO kv (k, v) VALUES (?, ?)",
            "REPLACE kv",
            Some("REPLACE"),
            Some("kv"),
        ),
        (
            Dialect::Postgres,
            "MERGE INTO stock s USING deliveries d ON s.item = d.item WHEN MATCHED THEN UPDATE SET qty = 1",
            "MERGE stock deliveries",
            Some("MERGE"),
            None,
        ),
        // Joins, aliases, schemas, subqueries, functions.
        (
            Dialect::Postgres,
            "select o.id from public.orders o left join customers as c on c.id = o.cid",
            "select public.orders customers",
            Some("select"),
            None,
        ),
        (
            Dialect::Postgres,
            "SELECT EXTRACT(YEAR FROM created), SUBSTRING(name FROM 2 FOR 3) FROM users",
            "SELECT users",
            Some("SELECT"),
            Some("users"),
        ),
        (
            Dialect::Postgres,
            "SELECT * FROM generate_series(1, 10) AS g",
            "SELECT",
            Some("SELECT"),
            None,
        ),
        (
            Dialect::Postgres,
            "SELECT * FROM a WHERE id IN (SELECT a_id FROM b WHERE EXISTS (SELECT 1 FROM c))",
            "SELECT a SELECT b SELECT c",
            None,
            None,
        ),
        (
            Dialect::Postgres,
            "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent",
            "SELECT orders SELECT recent",
            None,
            None,
        ),
        (
            Dialect::Postgres,
            "SELECT a FROM x UNION ALL SELECT a FROM y",
            "SELECT x SELECT y",
            None,
            None,
        ),
        (
            Dialect::Postgres,
            "DELETE FROM t USING u WHERE t.id = u.id",
            "DELETE t u",
            Some("DELETE"),
            None,
        ),
        (
            Dialect::Postgres,
            "SELECT * FROM t JOIN u USING (id)",
            "SELECT t u",
            Some("SELECT"),
            None,
        ),
        // No table at all.
        (
            Dialect::Postgres,
            "SELECT pg_sleep(0.5)",
            "SELECT",
            Some("SELECT"),
            None,
        ),
        (
            Dialect::Postgres,
            "SELECT 1",
            "SELECT",
            Some("SELECT"),
            None,
        ),
        // Literals and comments never leak into the summary.
        (
            Dialect::Postgres,
            "/* FROM secret */ SELECT 'FROM secret' FROM t -- FROM secret",
            "SELECT t",
            Some("SELECT"),
            Some("t"),
        ),
        (
            Dialect::Postgres,
            "SELECT $$ FROM secret $$ FROM t",
            "SELECT t",
            Some("SELECT"),
            Some("t"),
        ),
        // DDL and others.
        (
            Dialect::Postgres,
            "CREATE TABLE IF NOT EXISTS items (id INT REFERENCES other(id) ON DELETE CASCADE)",
            "CREATE TABLE items",
            Some("CREATE TABLE"),
            Some("items"),
        ),
        (
            Dialect::Postgres,
            "CREATE UNIQUE INDEX CONCURRENTLY idx_a ON ONLY t (a)",
            "CREATE INDEX t",
            Some("CREATE INDEX"),
            Some("t"),
        ),
        (
            Dialect::Postgres,
            "DROP TABLE IF EXISTS a, b CASCADE",
            "DROP TABLE a b",
            Some("DROP TABLE"),
            None,
        ),
        (
            Dialect::Postgres,
            "CREATE OR REPLACE VIEW v AS SELECT * FROM t",
            "CREATE VIEW v SELECT t",
            None,
            None,
        ),
        (
            Dialect::Postgres,
            "ALTER TABLE t ADD COLUMN c INT",
            "ALTER TABLE t",
            Some("ALTER TABLE"),
            Some("t"),
        ),
        (
            Dialect::Postgres,
            "TRUNCATE TABLE a, b",
            "TRUNCATE a b",
            Some("TRUNCATE"),
            None,
        ),
        (
            Dialect::MySql,
            "CALL refresh_stats(?, ?)",
            "CALL refresh_stats",
            Some("CALL"),
            Some("refresh_stats"),
        ),
        (Dialect::Postgres, "BEGIN", "BEGIN", Some("BEGIN"), None),
        (
            Dialect::Sqlite,
            "PRAGMA foreign_keys = ON",
            "PRAGMA",
            Some("PRAGMA"),
            None,
        ),
        (
            Dialect::Postgres,
            "GRANT SELECT, INSERT ON t TO bob",
            "GRANT",
            Some("GRANT"),
            None,
        ),
        // Several statements.
        (
            Dialect::Sqlite,
            "CREATE TABLE t (id INTEGER); INSERT INTO t VALUES (1);",
            "CREATE TABLE t INSERT t",
            None,
            None,
        ),
        // Nothing recognisable.
        (Dialect::Postgres, "", "", None, None),
        (Dialect::Postgres, "  -- only a comment", "", None, None),
    ];

    #[test]
    fn summarizes_every_case() {
        for (dialect, sql, summary, operation, collection) in CASES {
            let s = summarize(sql, *dialect);
            assert_eq!(s.summary().unwrap_or(""), *summary, "{sql}");
            assert_eq!(s.operation(), *operation, "{sql}");
            assert_eq!(s.collection(), *collection, "{sql}");
        }
    }

    #[test]
    fn summary_is_cut_between_parts_at_255_bytes() {
        let tables: Vec<String> = (0..60).map(|i| format!("table_{i:03}")).collect();
        let sql = format!("SELECT * FROM {}", tables.join(", "));
        let s = summarize(&sql, Dialect::Postgres);
        let summary = s.summary().unwrap_or("");
        assert!(summary.len() <= 255, "{}", summary.len());
        assert!(summary.ends_with(|c: char| c.is_ascii_digit()), "{summary}");
    }
}
