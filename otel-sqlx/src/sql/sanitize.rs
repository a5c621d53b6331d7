//! Replacing literals with `?`, per the semantic conventions' "Sanitization
//! of `db.query.text`".

use super::Dialect;
use super::lexer::{Lexer, Token, TokenKind};

/// `sql` with every literal replaced by `?`: strings (including escaped,
/// national, hex, bit and PostgreSQL dollar-quoted strings), numbers,
/// `TRUE`/`FALSE`, and double-quoted strings in MySQL. Comments are removed
/// (they can carry anything), a list of literals after `IN` collapses to
/// `IN (?)`, and everything else (keywords, identifiers, quoted identifiers,
/// bind parameters, whitespace) is kept as written.
///
/// SQLite reads a double-quoted word as a string when no column has that
/// name, so in SQLite a double-quoted word is kept only where it can only be
/// a name (after `FROM`, `JOIN`, `INTO`, `UPDATE`, `TABLE` or `AS`, or
/// beside a `.`) and replaced by `?` elsewhere.
///
/// ```
/// use otel_sqlx::sql::{Dialect, sanitize};
///
/// assert_eq!(
///     sanitize("SELECT * FROM users WHERE name = 'O''Brien' AND id IN (1, 2, 3) -- admin", Dialect::Postgres),
///     "SELECT * FROM users WHERE name = ? AND id IN (?)",
/// );
/// ```
pub fn sanitize(sql: &str, dialect: Dialect) -> String {
    let tokens: Vec<Token> = Lexer::new(sql, dialect).collect();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while let Some(token) = tokens.get(i) {
        let text = token.text(sql);
        match token.kind {
            TokenKind::Comment => {
                // One space stands for the comment and the whitespace after it.
                if !out.is_empty() && !out.ends_with(|c: char| c.is_whitespace()) {
                    out.push(' ');
                }
                while tokens
                    .get(i + 1)
                    .is_some_and(|t| t.kind == TokenKind::Whitespace)
                {
                    i += 1;
                }
            }
            TokenKind::Literal => out.push('?'),
            TokenKind::QuotedIdentifier
                if is_sqlite_string(sql, token, dialect) && !in_name_place(sql, &tokens, i) =>
            {
                out.push('?');
            }
            TokenKind::Word if is_boolean(text) => out.push('?'),
            TokenKind::Word if text.eq_ignore_ascii_case("in") => {
                out.push_str(text);
                if let Some(after_list) = literal_list_end(sql, &tokens, i + 1, dialect) {
                    // Keep the whitespace between IN and "(".
                    for ws in &tokens[i + 1..] {
                        if ws.kind != TokenKind::Whitespace {
                            break;
                        }
                        out.push_str(ws.text(sql));
                    }
                    out.push_str("(?)");
                    i = after_list;
                    continue;
                }
            }
            _ => out.push_str(text),
        }
        i += 1;
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

/// Whether the token at `index` stands where only a name can: after
/// `FROM`, `JOIN`, `INTO`, `UPDATE`, `TABLE` or `AS`, or beside a `.`.
fn in_name_place(sql: &str, tokens: &[Token], index: usize) -> bool {
    let is_dot = |t: &Token| t.is_punct(sql, ".");
    let before = tokens[..index].iter().rev().find(|t| t.is_significant());
    let after = tokens[index + 1..].iter().find(|t| t.is_significant());
    before.is_some_and(|t| {
        is_dot(t)
            || (t.kind == TokenKind::Word
                && ["from", "join", "into", "update", "table", "as"]
                    .iter()
                    .any(|k| t.text(sql).eq_ignore_ascii_case(k)))
    }) || after.is_some_and(is_dot)
}

/// A double-quoted word in SQLite, which reads it as a string when no
/// column has that name.
fn is_sqlite_string(sql: &str, token: &Token, dialect: Dialect) -> bool {
    dialect == Dialect::Sqlite
        && token.kind == TokenKind::QuotedIdentifier
        && token.text(sql).starts_with('"')
}

fn is_boolean(word: &str) -> bool {
    word.eq_ignore_ascii_case("true") || word.eq_ignore_ascii_case("false")
}

/// When the tokens from `from` are `( literal, literal, … )` (whitespace and
/// comments allowed, each literal optionally signed; double-quoted words
/// count as literals in SQLite), the index just past `)`.
fn literal_list_end(sql: &str, tokens: &[Token], from: usize, dialect: Dialect) -> Option<usize> {
    let mut significant = tokens
        .iter()
        .enumerate()
        .skip(from)
        .filter(|(_, t)| t.is_significant());
    let is_punct = |t: &Token, c: &str| t.is_punct(sql, c);

    let (_, open) = significant.next()?;
    if !is_punct(open, "(") {
        return None;
    }
    loop {
        let (_, mut item) = significant.next()?;
        if is_punct(item, "-") || is_punct(item, "+") {
            item = significant.next()?.1;
        }
        let literal = item.kind == TokenKind::Literal
            || (item.kind == TokenKind::Word && is_boolean(item.text(sql)))
            || is_sqlite_string(sql, item, dialect);
        if !literal {
            return None;
        }
        let (index, separator) = significant.next()?;
        if is_punct(separator, ")") {
            return Some(index + 1);
        }
        if !is_punct(separator, ",") {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (dialect, input, expected)
    const CASES: &[(Dialect, &str, &str)] = &[
        // Strings, with every kind of embedded quote.
        (
            Dialect::Postgres,
            "SELECT * FROM t WHERE a = 'x'",
            "SELECT * FROM t WHERE a = ?",
        ),
        (Dialect::Postgres, "WHERE a = 'O''Brien'", "WHERE a = ?"),
        (
            Dialect::Postgres,
            "WHERE a = E'it\\'s' AND b = 'c:\\'",
            "WHERE a = ? AND b = ?",
        ),
        (Dialect::Postgres, "WHERE a = U&'d\\0061t'", "WHERE a = ?"),
        (
            Dialect::MySql,
            "WHERE a = 'it\\'s' AND b = \"say \\\"hi\\\"\"",
            "WHERE a = ? AND b = ?",
        ),
        (
            Dialect::MySql,
            "WHERE a = N'x' AND b = _utf8mb4'y'",
            "WHERE a = ? AND b = _utf8mb4?",
        ),
        (
            Dialect::Sqlite,
            "WHERE a = 'it''s' AND \"col\" = 1",
            "WHERE a = ? AND ? = ?",
        ),
        // Dollar-quoted strings (PostgreSQL), with and without a tag.
        (Dialect::Postgres, "SELECT $$secret 'quoted'$$", "SELECT ?"),
        (
            Dialect::Postgres,
            "SELECT $body$ a $$ b $body$, $1",
            "SELECT ?, $1",
        ),
        // Numbers.
        (
            Dialect::Postgres,
            "WHERE a = 42 AND b = -3.5e10 AND c = .5",
            "WHERE a = ? AND b = -? AND c = ?",
        ),
        (Dialect::Postgres, "WHERE a = 1_000_000", "WHERE a = ?"),
        (
            Dialect::Postgres,
            "SELECT col1, t2.c3 FROM t2",
            "SELECT col1, t2.c3 FROM t2",
        ),
        // Hex, bit and typed literals.
        (
            Dialect::MySql,
            "WHERE a = 0xDEADBEEF AND b = X'0F' AND c = b'101'",
            "WHERE a = ? AND b = ? AND c = ?",
        ),
        (
            Dialect::Sqlite,
            "INSERT INTO t VALUES (x'CAFE')",
            "INSERT INTO t VALUES (?)",
        ),
        (
            Dialect::Postgres,
            "WHERE d > DATE '2024-01-01' + INTERVAL '1 day'",
            "WHERE d > DATE ? + INTERVAL ?",
        ),
        (
            Dialect::Postgres,
            "SELECT '{1,2}'::int[]",
            "SELECT ?::int[]",
        ),
        // Booleans; NULL is not sensitive and stays.
        (
            Dialect::Postgres,
            "WHERE a = TRUE AND b IS false AND c IS NULL",
            "WHERE a = ? AND b IS ? AND c IS NULL",
        ),
        // IN-lists collapse, but not when they hold anything but literals.
        (
            Dialect::Postgres,
            "WHERE id IN (1, 2, 3)",
            "WHERE id IN (?)",
        ),
        (
            Dialect::Postgres,
            "WHERE id in ('a','b') AND x IN (-1, +2)",
            "WHERE id in (?) AND x IN (?)",
        ),
        (
            Dialect::Postgres,
            "WHERE id IN (SELECT id FROM u WHERE v = 1)",
            "WHERE id IN (SELECT id FROM u WHERE v = ?)",
        ),
        (
            Dialect::Postgres,
            "WHERE id IN (1, $1)",
            "WHERE id IN (?, $1)",
        ),
        (
            Dialect::Postgres,
            "WHERE id IN (1, /* two */ 2)",
            "WHERE id IN (?)",
        ),
        // Comments are removed, wherever they are.
        (
            Dialect::Postgres,
            "SELECT /* user=alice */ 1 -- trailing",
            "SELECT ?",
        ),
        (
            Dialect::Postgres,
            "SELECT /* outer /* nested */ still */ a FROM t",
            "SELECT a FROM t",
        ),
        (
            Dialect::MySql,
            "SELECT a # password=x\nFROM t",
            "SELECT a FROM t",
        ),
        (Dialect::Postgres, "SELECT a/*x*/FROM t", "SELECT a FROM t"),
        // Quoted identifiers and bind parameters are kept.
        (
            Dialect::Postgres,
            "SELECT \"weird \"\"name\" FROM \"Order Items\" WHERE a = $1",
            "SELECT \"weird \"\"name\" FROM \"Order Items\" WHERE a = $1",
        ),
        (
            Dialect::MySql,
            "SELECT `select` FROM `t` WHERE a = ?",
            "SELECT `select` FROM `t` WHERE a = ?",
        ),
        (
            Dialect::Sqlite,
            "SELECT [a b] FROM t WHERE a = ?1 AND b = :b AND c = @c",
            "SELECT [a b] FROM t WHERE a = ?1 AND b = :b AND c = @c",
        ),
        // SQLite: a double-quoted word is a string unless it names a column,
        // so it is kept only where it can only be a name.
        (
            Dialect::Sqlite,
            "SELECT \"t\".\"id\" AS \"n\" FROM \"users\" AS \"t\" JOIN \"roles\" WHERE name = \"alice-secret\" AND \"t\".x IN (\"a\", \"b\")",
            "SELECT \"t\".\"id\" AS \"n\" FROM \"users\" AS \"t\" JOIN \"roles\" WHERE name = ? AND \"t\".x IN (?)",
        ),
        (
            Dialect::Sqlite,
            "INSERT INTO \"t\" (\"a\") VALUES (\"secret\")",
            "INSERT INTO \"t\" (?) VALUES (?)",
        ),
        (
            Dialect::Postgres,
            "SELECT * FROM t WHERE \"name\" = 'x'",
            "SELECT * FROM t WHERE \"name\" = ?",
        ),
        // Unterminated input does not leak.
        (Dialect::Postgres, "SELECT 'unterminated secret", "SELECT ?"),
    ];

    #[test]
    fn sanitizes_every_case() {
        for (dialect, input, expected) in CASES {
            assert_eq!(&sanitize(input, *dialect), expected, "{dialect:?}: {input}");
        }
    }

    #[test]
    fn never_leaks_a_literal_digit_or_quote_content() {
        let secret = "SELECT * FROM t WHERE a = 'hunter2' AND b = 123456 AND c = $x$hunter2$x$";
        let out = sanitize(secret, Dialect::Postgres);
        assert!(!out.contains("hunter2") && !out.contains("123456"), "{out}");
    }
}
