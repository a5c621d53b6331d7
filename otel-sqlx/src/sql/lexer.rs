//! A small SQL lexer: just enough to tell literals, comments, quoted
//! identifiers, bind parameters and words apart, per dialect.
//!
//! It never fails: unterminated strings and comments run to the end of the
//! text, and any byte it does not recognise becomes a one-byte
//! [`TokenKind::Punct`]. Token boundaries always fall on `char` boundaries,
//! because every byte of a multi-byte UTF-8 character is treated as part of a
//! word, string or comment.

use super::Dialect;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// Spaces, tabs and line breaks.
    Whitespace,
    /// `-- …`, `/* … */`, and `# …` in MySQL.
    Comment,
    /// A string, number, hex, bit or dollar-quoted literal (and a
    /// double-quoted string in MySQL).
    Literal,
    /// An unquoted keyword or identifier.
    Word,
    /// `"x"` (PostgreSQL, SQLite), `` `x` `` (MySQL, SQLite) or `[x]` (SQLite).
    QuotedIdentifier,
    /// A bind parameter: `?`, `?1`, `$1`, and `:name`, `@name`, `$name` in SQLite.
    Placeholder,
    /// Any other single character.
    Punct,
}

/// One token: its kind and where it is in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Token {
    /// The token's text in `sql` (the text it was lexed from).
    pub(crate) fn text<'a>(&self, sql: &'a str) -> &'a str {
        sql.get(self.start..self.end).unwrap_or("")
    }

    /// Neither whitespace nor a comment.
    pub(crate) fn is_significant(&self) -> bool {
        !matches!(self.kind, TokenKind::Whitespace | TokenKind::Comment)
    }

    /// The punctuation character `c` (in `sql`, the text it was lexed from).
    pub(crate) fn is_punct(&self, sql: &str, c: &str) -> bool {
        self.kind == TokenKind::Punct && self.text(sql) == c
    }
}

/// Splits SQL text into tokens.
pub(crate) struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
    dialect: Dialect,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(sql: &'a str, dialect: Dialect) -> Self {
        Lexer {
            bytes: sql.as_bytes(),
            pos: 0,
            dialect,
        }
    }

    fn peek(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn rest_from(&self, at: usize) -> &'a [u8] {
        self.bytes.get(at..).unwrap_or(&[])
    }

    fn skip_while(&mut self, mut keep: impl FnMut(u8) -> bool) {
        while self.peek(0).is_some_and(&mut keep) {
            self.pos += 1;
        }
    }

    fn skip_to_line_end(&mut self) {
        self.skip_while(|b| b != b'\n');
    }

    fn skip_block_comment(&mut self) {
        // Past "/*". PostgreSQL nests block comments; the others do not.
        self.pos += 2;
        let nests = self.dialect == Dialect::Postgres;
        let mut depth = 1usize;
        while let Some(b) = self.peek(0) {
            if b == b'*' && self.peek(1) == Some(b'/') {
                self.pos += 2;
                depth -= 1;
                if depth == 0 {
                    return;
                }
            } else if nests && b == b'/' && self.peek(1) == Some(b'*') {
                self.pos += 2;
                depth += 1;
            } else {
                self.pos += 1;
            }
        }
    }

    /// Skips a quoted run starting at the opening `quote`: a doubled quote is
    /// an escaped quote, and with `backslash` a backslash escapes the next byte.
    fn skip_quoted(&mut self, quote: u8, backslash: bool) {
        self.pos += 1;
        while let Some(b) = self.peek(0) {
            if backslash && b == b'\\' {
                self.pos += 2;
            } else if b == quote {
                if self.peek(1) == Some(quote) {
                    self.pos += 2;
                } else {
                    self.pos += 1;
                    return;
                }
            } else {
                self.pos += 1;
            }
        }
        self.pos = self.pos.min(self.bytes.len());
    }

    /// `$tag$ … $tag$` at the current `$`; false (and nothing consumed) when
    /// this `$` does not open a dollar-quoted string.
    fn skip_dollar_quoted(&mut self) -> bool {
        let open_start = self.pos;
        let mut tag_end = open_start + 1;
        while let Some(&b) = self.bytes.get(tag_end) {
            if b == b'$' {
                break;
            }
            if !is_word_byte(b) {
                return false;
            }
            tag_end += 1;
        }
        if self.bytes.get(tag_end) != Some(&b'$') {
            return false;
        }
        let tag = &self.bytes[open_start..=tag_end];
        let body_start = tag_end + 1;
        let close = find(self.rest_from(body_start), tag);
        self.pos = match close {
            Some(at) => body_start + at + tag.len(),
            None => self.bytes.len(),
        };
        true
    }

    fn skip_number(&mut self) {
        let radix_prefix = self.peek(0) == Some(b'0')
            && matches!(self.peek(1), Some(b'x' | b'X' | b'b' | b'B' | b'o' | b'O'));
        if radix_prefix && self.peek(2).is_some_and(|b| b.is_ascii_hexdigit()) {
            self.pos += 2;
            self.skip_while(|b| b.is_ascii_hexdigit() || b == b'_');
            return;
        }
        self.skip_while(|b| b.is_ascii_digit() || b == b'_');
        if self.peek(0) == Some(b'.') {
            self.pos += 1;
            self.skip_while(|b| b.is_ascii_digit() || b == b'_');
        }
        let exponent = matches!(self.peek(0), Some(b'e' | b'E'))
            && match self.peek(1) {
                Some(b'+' | b'-') => self.peek(2).is_some_and(|b| b.is_ascii_digit()),
                Some(b) => b.is_ascii_digit(),
                None => false,
            };
        if exponent {
            self.pos += 2;
            self.skip_while(|b| b.is_ascii_digit());
        }
    }

    /// A literal introduced by a letter: `E'…'`, `N'…'`, `X'…'`, `B'…'`, `U&'…'`.
    fn prefixed_string(&mut self) -> bool {
        let Some(first) = self.peek(0) else {
            return false;
        };
        let (prefix_len, backslash) = match (first.to_ascii_uppercase(), self.peek(1)) {
            (b'E', Some(b'\'')) if self.dialect == Dialect::Postgres => (1, true),
            (b'N' | b'X' | b'B', Some(b'\'')) => (1, self.dialect == Dialect::MySql),
            (b'U', Some(b'&'))
                if self.dialect == Dialect::Postgres && self.peek(2) == Some(b'\'') =>
            {
                (2, false)
            }
            _ => return false,
        };
        self.pos += prefix_len;
        self.skip_quoted(b'\'', backslash);
        true
    }

    fn kind_at_current(&mut self) -> TokenKind {
        let Some(b) = self.peek(0) else {
            return TokenKind::Punct;
        };
        let next = self.peek(1);
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0c => {
                self.skip_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c));
                TokenKind::Whitespace
            }
            b'-' if next == Some(b'-') && self.line_comment_allowed() => {
                self.skip_to_line_end();
                TokenKind::Comment
            }
            b'#' if self.dialect == Dialect::MySql => {
                self.skip_to_line_end();
                TokenKind::Comment
            }
            b'/' if next == Some(b'*') => {
                self.skip_block_comment();
                TokenKind::Comment
            }
            b'\'' => {
                self.skip_quoted(b'\'', self.dialect == Dialect::MySql);
                TokenKind::Literal
            }
            b'"' if self.dialect == Dialect::MySql => {
                self.skip_quoted(b'"', true);
                TokenKind::Literal
            }
            b'"' => {
                self.skip_quoted(b'"', false);
                TokenKind::QuotedIdentifier
            }
            b'`' if self.dialect != Dialect::Postgres => {
                self.skip_quoted(b'`', false);
                TokenKind::QuotedIdentifier
            }
            b'[' if self.dialect == Dialect::Sqlite => {
                self.skip_while(|b| b != b']');
                self.pos = (self.pos + 1).min(self.bytes.len());
                TokenKind::QuotedIdentifier
            }
            b'$' if next.is_some_and(|b| b.is_ascii_digit()) => {
                self.pos += 1;
                self.skip_while(|b| b.is_ascii_digit());
                TokenKind::Placeholder
            }
            b'$' if self.dialect == Dialect::Postgres && self.skip_dollar_quoted() => {
                TokenKind::Literal
            }
            b'$' | b':' | b'@'
                if self.dialect == Dialect::Sqlite && next.is_some_and(is_word_start) =>
            {
                self.pos += 1;
                self.skip_while(is_word_byte);
                TokenKind::Placeholder
            }
            b'?' => {
                self.pos += 1;
                self.skip_while(|b| b.is_ascii_digit());
                TokenKind::Placeholder
            }
            b'0'..=b'9' => {
                self.skip_number();
                TokenKind::Literal
            }
            b'.' if next.is_some_and(|b| b.is_ascii_digit()) => {
                self.skip_number();
                TokenKind::Literal
            }
            _ if self.prefixed_string() => TokenKind::Literal,
            _ if is_word_start(b) => {
                let dollar = self.dialect != Dialect::Sqlite;
                self.skip_while(|b| is_word_byte(b) || (dollar && b == b'$'));
                TokenKind::Word
            }
            _ => {
                self.pos += 1;
                TokenKind::Punct
            }
        }
    }

    /// `--` starts a comment everywhere except in MySQL, where it must be
    /// followed by whitespace or the end of the text (`1--1` is arithmetic).
    fn line_comment_allowed(&self) -> bool {
        self.dialect != Dialect::MySql
            || self
                .peek(2)
                .is_none_or(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let start = self.pos;
        let kind = self.kind_at_current();
        // Every branch consumes at least one byte; guard against a stall anyway.
        if self.pos <= start {
            self.pos = start + 1;
        }
        self.pos = self.pos.min(self.bytes.len());
        Some(Token {
            kind,
            start,
            end: self.pos,
        })
    }
}

fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str, dialect: Dialect) -> Vec<(TokenKind, &str)> {
        Lexer::new(sql, dialect)
            .filter(|t| t.kind != TokenKind::Whitespace)
            .map(|t| (t.kind, t.text(sql)))
            .collect()
    }

    #[test]
    fn splits_a_query_into_tokens() {
        use TokenKind::*;
        assert_eq!(
            kinds(
                "SELECT a1, 'x''y' FROM \"T\" WHERE b = $1 -- c",
                Dialect::Postgres
            ),
            vec![
                (Word, "SELECT"),
                (Word, "a1"),
                (Punct, ","),
                (Literal, "'x''y'"),
                (Word, "FROM"),
                (QuotedIdentifier, "\"T\""),
                (Word, "WHERE"),
                (Word, "b"),
                (Punct, "="),
                (Placeholder, "$1"),
                (Comment, "-- c"),
            ]
        );
    }

    #[test]
    fn dollar_quotes_are_literals_only_in_postgres() {
        let sql = "SELECT $tag$ it's $1 $tag$, $$x$$";
        let pg = kinds(sql, Dialect::Postgres);
        assert_eq!(pg[1], (TokenKind::Literal, "$tag$ it's $1 $tag$"));
        assert_eq!(pg[3], (TokenKind::Literal, "$$x$$"));
        let sqlite = kinds("SELECT $name", Dialect::Sqlite);
        assert_eq!(sqlite[1], (TokenKind::Placeholder, "$name"));
    }

    #[test]
    fn unterminated_runs_end_at_the_end() {
        for sql in [
            "SELECT 'abc",
            "SELECT /* abc",
            "SELECT $a$ abc",
            "SELECT \"abc",
        ] {
            let tokens: Vec<Token> = Lexer::new(sql, Dialect::Postgres).collect();
            assert_eq!(tokens.last().map(|t| t.end), Some(sql.len()), "{sql}");
        }
    }

    #[test]
    fn multibyte_text_keeps_char_boundaries() {
        let sql = "SELECT 'é', naïve FROM “t”";
        for token in Lexer::new(sql, Dialect::Postgres) {
            assert!(sql.is_char_boundary(token.start) && sql.is_char_boundary(token.end));
        }
    }

    #[test]
    fn mysql_quotes_and_comments() {
        use TokenKind::*;
        assert_eq!(
            kinds("SELECT \"a\\\"b\", `c` # x", Dialect::MySql),
            vec![
                (Word, "SELECT"),
                (Literal, "\"a\\\"b\""),
                (Punct, ","),
                (QuotedIdentifier, "`c`"),
                (Comment, "# x"),
            ]
        );
        // `--` without a following space is two minus signs in MySQL.
        assert_eq!(kinds("1--1", Dialect::MySql).len(), 4);
    }
}
