//! Text to tokens, written with nom.
//!
//! The lexical grammar is small and regular, which is where parser
//! combinators shine: each token kind is one little parser, and `alt` tries
//! them in order. Spans are not threaded through the combinators; like
//! kdl-rs v4, the lexer works on plain `&str` slices and computes each
//! token's byte offset from the remaining input's length against the whole
//! text (the literal parsers use slice pointers the same way).
//!
//! The lexer never fails. Characters that start no token become an `Error`
//! token (reported here, once, as NP001), an unterminated string becomes an
//! `Error` token that runs to the end of its line, and comments are recorded
//! aside for the formatter. The parser treats `Error` tokens as already
//! reported, so a stray character costs exactly one diagnostic.

use crate::diagnostic::Diagnostic;
use crate::rules::np001_syntax_error::syntax_error;
use crate::span::Span;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_while1};
use nom::character::complete::{char, one_of};
use nom::combinator::{map, recognize, value};
use nom::error::{Error as NomError, ErrorKind};
use nom::sequence::preceded;
use nom::IResult;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A maximal run of `A-Z a-z 0-9 _ . : / -` (stopping before `->`),
    /// classified later by the position it appears in.
    Atom,
    /// A well-formed `"..."` string, quotes included.
    Str,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Semi,
    /// `->`
    Arrow,
    /// `<->`
    BiArrow,
    Newline,
    /// Text that is not a token; the lexer has already reported it.
    Error,
    /// The end of the text; always the last token.
    Eof,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// The lexer's output: tokens (ending with `Eof`), comment spans and the
/// lexical errors found on the way.
pub(crate) struct Lexed {
    pub tokens: Vec<Token>,
    pub comments: Vec<Span>,
    pub diagnostics: Vec<Diagnostic>,
}

/// What one step of the lexer recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lexeme {
    Space,
    Comment,
    Token(TokenKind),
    /// A string with no closing quote on its line.
    Unterminated,
    /// A run of characters that start no token.
    Junk,
}

pub(super) fn is_atom_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'/' | b'-')
}

/// Space separates tokens. The grammar names space, tab and carriage return
/// (so `\r\n` files work); a byte-order mark is tolerated the same way
/// because editors insert it silently.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\u{feff}')
}

fn space(i: &str) -> IResult<&str, Lexeme> {
    value(Lexeme::Space, take_while1(is_space))(i)
}

fn comment(i: &str) -> IResult<&str, Lexeme> {
    value(
        Lexeme::Comment,
        recognize(preceded(char('#'), take_till(|c| c == '\n'))),
    )(i)
}

fn punctuation(i: &str) -> IResult<&str, Lexeme> {
    alt((
        value(Lexeme::Token(TokenKind::Newline), char('\n')),
        value(Lexeme::Token(TokenKind::BiArrow), tag("<->")),
        value(Lexeme::Token(TokenKind::Arrow), tag("->")),
        map(one_of("{}[],;"), |c| {
            Lexeme::Token(match c {
                '{' => TokenKind::LBrace,
                '}' => TokenKind::RBrace,
                '[' => TokenKind::LBracket,
                ']' => TokenKind::RBracket,
                ',' => TokenKind::Comma,
                _ => TokenKind::Semi,
            })
        }),
    ))(i)
}

/// An atom is a maximal run of atom characters, except that a `-` directly
/// followed by `>` belongs to the arrow: `a->b` is three tokens. That
/// one-character lookahead is why this is a hand-written nom parser rather
/// than `take_while1`.
fn atom(i: &str) -> IResult<&str, Lexeme> {
    let bytes = i.as_bytes();
    let mut n = 0;
    while let Some(&b) = bytes.get(n) {
        if !is_atom_byte(b) || (b == b'-' && bytes.get(n + 1) == Some(&b'>')) {
            break;
        }
        n += 1;
    }
    if n == 0 {
        return Err(nom::Err::Error(NomError::new(i, ErrorKind::AlphaNumeric)));
    }
    // Atom bytes are ASCII, so `n` is a character boundary.
    Ok((i.get(n..).unwrap_or(""), Lexeme::Token(TokenKind::Atom)))
}

/// A string runs to the next unescaped `"` on the same line. Only the bytes
/// `"`, `\` and newline matter, and they are ASCII, so scanning bytes is
/// safe even through multi-byte characters: UTF-8 continuation bytes never
/// equal an ASCII byte, and every slice is cut next to an ASCII byte.
fn string(i: &str) -> IResult<&str, Lexeme> {
    let (body, _) = char('"')(i)?;
    let bytes = body.as_bytes();
    let mut n = 0;
    while let Some(&b) = bytes.get(n) {
        match b {
            b'"' => {
                return Ok((
                    body.get(n + 1..).unwrap_or(""),
                    Lexeme::Token(TokenKind::Str),
                ));
            }
            b'\n' => return Ok((body.get(n..).unwrap_or(""), Lexeme::Unterminated)),
            // An escape swallows the next byte unless that ends the line.
            b'\\' if bytes.get(n + 1).is_some_and(|&c| c != b'\n') => n += 2,
            _ => n += 1,
        }
    }
    // The rest must be a suffix of the input (an empty one), not a static
    // "": offsets are computed from where it points.
    Ok((body.get(body.len()..).unwrap_or(body), Lexeme::Unterminated))
}

/// Whether `c`, at the start of `rest`, begins some token or separator.
fn starts_something(c: char, rest: &str) -> bool {
    if is_space(c) || c == '\n' {
        return true;
    }
    if c == '<' {
        return rest.starts_with("<->");
    }
    c.is_ascii() && (is_atom_byte(c as u8) || "{}[],;\"#".contains(c))
}

/// A maximal run of characters that begin nothing: one diagnostic per run,
/// not per character, so a line of garbage gives one error.
fn junk(i: &str) -> IResult<&str, Lexeme> {
    let mut end = 0;
    for (idx, c) in i.char_indices() {
        if starts_something(c, i.get(idx..).unwrap_or("")) {
            break;
        }
        end = idx + c.len_utf8();
    }
    if end == 0 {
        return Err(nom::Err::Error(NomError::new(i, ErrorKind::Char)));
    }
    Ok((i.get(end..).unwrap_or(""), Lexeme::Junk))
}

fn lexeme(i: &str) -> IResult<&str, Lexeme> {
    // Most lexemes are told apart by their first byte, so that byte picks
    // the one parser `alt` would have settled on, without trying the ones
    // before it; the bytes that need `alt`'s order (`-` and `<` may start an
    // arrow or an atom or junk, and anything unusual) still go through it.
    match i.as_bytes().first() {
        Some(b' ' | b'\t' | b'\r') => space(i),
        Some(b'\n' | b'{' | b'}' | b'[' | b']' | b',' | b';') => punctuation(i),
        Some(&b) if b != b'-' && is_atom_byte(b) => atom(i),
        Some(b'#') => comment(i),
        Some(b'"') => string(i),
        _ => alt((space, punctuation, atom, comment, string, junk))(i),
    }
}

/// The byte offset of `rest` inside `whole`. Every parser above returns a
/// suffix of its input as the rest, so the offset is the difference of the
/// lengths; unlike pointer subtraction this stays right even for an empty
/// rest that is not a slice of `whole`.
fn offset(whole: &str, rest: &str) -> usize {
    whole.len().saturating_sub(rest.len())
}

/// Below this many bytes per piece, a text is lexed in one piece.
const MIN_PIECE_BYTES: usize = 1 << 20;

/// Lexes the whole text. Every `\n` is a token of its own and every lexeme
/// ends at or before the next `\n` (comments and strings stop at the end of
/// their line), so lexing starts afresh after each newline: a large text is
/// cut into pieces just after newlines and the pieces are lexed in
/// parallel, which gives exactly the tokens of one sequential pass.
pub(crate) fn lex(text: &str) -> Lexed {
    if let Some(refused) = refuse_lone_carriage_returns(text) {
        return refused;
    }
    let mut cuts = vec![0];
    // Checked before asking rayon anything: asking starts its thread pool.
    if text.len() >= 2 * MIN_PIECE_BYTES {
        let threads = rayon::current_num_threads();
        if threads > 1 {
            let pieces = (threads * 2).min(text.len() / MIN_PIECE_BYTES);
            let step = text.len() / pieces.max(1);
            for k in 1..pieces {
                let from = (k * step).max(cuts.last().copied().unwrap_or(0));
                if let Some(nl) = text
                    .as_bytes()
                    .get(from..)
                    .and_then(|b| b.iter().position(|&c| c == b'\n'))
                {
                    cuts.push(from + nl + 1);
                }
            }
        }
    }
    cuts.push(text.len());
    cuts.dedup();
    lex_pieces(text, &cuts)
}

/// Refuses a text with a carriage return that no line feed follows (old
/// Mac OS line ends, or a stray one). Editors and the language server
/// protocol end a line there; the grammar does not, so such a file would
/// be read as one long line, where the first `#` comments out everything
/// after it and the design "checks clean". Reading `\r` as a line end
/// would instead need the line index, the formatter, the language server
/// and every output format to agree on it; refusing is simpler and leaves
/// no room for them to disagree. The one finding sits on the first lone
/// `\r`, whose line is the same whoever counts: no lone `\r` precedes it.
/// Nothing else is lexed: the rest of the file would be misread anyway.
fn refuse_lone_carriage_returns(text: &str) -> Option<Lexed> {
    let bytes = text.as_bytes();
    // A search for one character skips ahead with `memchr`, so a `\n` file
    // costs one fast scan and a `\r\n` file one step per line.
    let mut lone = text
        .match_indices('\r')
        .map(|(i, _)| i)
        .filter(|&i| bytes.get(i + 1) != Some(&b'\n'));
    let first = lone.next()?;
    let count = 1 + lone.count();
    let what = if count == 1 {
        "a carriage return that is not followed by a line feed".to_string()
    } else {
        format!("{count} carriage returns that are not followed by a line feed")
    };
    let end = Span::new(text.len(), text.len());
    Some(Lexed {
        tokens: vec![Token {
            kind: TokenKind::Eof,
            span: end,
        }],
        comments: Vec::new(),
        diagnostics: vec![syntax_error(
            Span::new(first, first + 1),
            format!(
                "the file has {what} (old Mac OS line ends); netproof reads lines ended by \
                 `\\n` or `\\r\\n` only, so it does not read this file"
            ),
            "a lone carriage return",
            Some(
                "convert the line ends to `\\n` (your editor's line-ending setting, or \
                 `tr '\\r' '\\n'` for a file whose lines all end in `\\r`)"
                    .to_string(),
            ),
        )],
    })
}

/// Lexes the pieces between consecutive `cuts` (each 0, the text's end or
/// just after a newline) in parallel and joins them, with the final `Eof`.
fn lex_pieces(text: &str, cuts: &[usize]) -> Lexed {
    let mut lexed = if cuts.len() <= 2 {
        lex_range(text, 0, text.len())
    } else {
        use rayon::prelude::*;
        let pieces: Vec<Lexed> = cuts
            .par_windows(2)
            .map(|w| lex_range(text, w[0], w[1]))
            .collect();
        let total: usize = pieces.iter().map(|p| p.tokens.len()).sum();
        let mut all = Lexed {
            tokens: Vec::with_capacity(total + 1),
            comments: Vec::new(),
            diagnostics: Vec::new(),
        };
        for p in pieces {
            all.tokens.extend_from_slice(&p.tokens);
            all.comments.extend(p.comments);
            all.diagnostics.extend(p.diagnostics);
        }
        all
    };
    let end = Span::new(text.len(), text.len());
    lexed.tokens.push(Token {
        kind: TokenKind::Eof,
        span: end,
    });
    lexed
}

/// Lexes `text[start..end]`, where `start` is 0 or just after a newline and
/// `end` is the text's end or just after a newline; spans are offsets in the
/// whole text. No `Eof` token.
fn lex_range(text: &str, start: usize, end: usize) -> Lexed {
    let piece = text.get(start..end).unwrap_or("");
    let mut tokens = Vec::with_capacity(piece.len() / 5 + 1);
    let mut comments = Vec::new();
    let mut diagnostics = Vec::new();
    let mut rest = piece;
    while !rest.is_empty() {
        let at = start + offset(piece, rest);
        let (next, lexeme) = match lexeme(rest) {
            Ok(ok) if ok.0.len() < rest.len() => ok,
            // Every character starts one of the alternatives above, so this
            // arm is a safety net: consume one character as junk.
            _ => {
                let n = rest.chars().next().map_or(1, char::len_utf8);
                (rest.get(n..).unwrap_or(""), Lexeme::Junk)
            }
        };
        let span = Span::new(at, start + offset(piece, next));
        match lexeme {
            Lexeme::Space => {}
            Lexeme::Comment => comments.push(span),
            Lexeme::Token(kind) => {
                if kind == TokenKind::Str {
                    check_escapes(text, span, &mut diagnostics);
                }
                tokens.push(Token { kind, span });
            }
            Lexeme::Unterminated => {
                diagnostics.push(syntax_error(
                    span,
                    "unterminated string",
                    "this string is never closed",
                    Some("a string ends with `\"` on the same line; write `\\\"` for a quote inside it".into()),
                ));
                tokens.push(Token {
                    kind: TokenKind::Error,
                    span,
                });
            }
            Lexeme::Junk => {
                diagnostics.push(junk_error(span.slice(text), span));
                tokens.push(Token {
                    kind: TokenKind::Error,
                    span,
                });
            }
        }
        rest = next;
    }
    Lexed {
        tokens,
        comments,
        diagnostics,
    }
}

/// The grammar allows only `\"` and `\\` inside strings. Other escapes are
/// reported but the string stays a string, so the statement still parses.
fn check_escapes(text: &str, span: Span, diagnostics: &mut Vec<Diagnostic>) {
    let s = span.slice(text);
    if !s.contains('\\') {
        return;
    }
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            continue;
        }
        match chars.next() {
            Some((_, '"' | '\\')) => {}
            Some((j, other)) => {
                let at = span.start as usize;
                let escape_span = Span::new(at + i, at + j + other.len_utf8());
                diagnostics.push(syntax_error(
                    escape_span,
                    format!("unknown escape `\\{}` in a string", other.escape_debug()),
                    "unknown escape",
                    Some("the only escapes are `\\\"` (a quote) and `\\\\` (a backslash)".into()),
                ));
            }
            None => {}
        }
    }
}

fn junk_error(junk: &str, span: Span) -> Diagnostic {
    let shown = super::parser::shorten(junk);
    let first = junk.chars().next().unwrap_or(' ');
    let (message, label) = if junk.chars().nth(1).is_none() {
        (
            format!("unexpected character `{}`", first.escape_debug()),
            "unexpected character",
        )
    } else {
        (
            format!("unexpected characters `{}`", shown.escape_debug()),
            "unexpected characters",
        )
    };
    let help = match first {
        '<' => Some("a connection's two ends are joined with `<->`".to_string()),
        '>' | '=' => Some("an arrow is written `->`".to_string()),
        '\'' | '`' | '\u{201c}' | '\u{201d}' => {
            Some("strings use straight double quotes: `\"...\"`".to_string())
        }
        _ => Some("names and literals use letters, digits, `_`, `-`, `.`, `:` and `/`".to_string()),
    };
    syntax_error(span, message, label, help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        lex(text).tokens.iter().map(|t| t.kind).collect()
    }

    /// Lexing in pieces cut after any newlines gives the tokens, comments
    /// and findings of one pass.
    #[test]
    fn pieces_lex_like_the_whole() {
        let text = "vpc a 10.0.0.0/16 { # c\n  description \"x\\q\n\n  subnet @ b \"ok\"\r\n}\n\u{feff}<- -> a->b\n#end";
        let whole = lex(text);
        let newlines: Vec<usize> = text
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| i + 1)
            .collect();
        let mut cuts = vec![0];
        cuts.extend(newlines);
        cuts.push(text.len());
        cuts.dedup();
        let pieces = lex_pieces(text, &cuts);
        assert_eq!(pieces.tokens, whole.tokens);
        assert_eq!(pieces.comments, whole.comments);
        assert_eq!(pieces.diagnostics, whole.diagnostics);
        assert!(!whole.diagnostics.is_empty());
    }

    /// A carriage return that no line feed follows ends a line for editors
    /// (and the language server protocol) but not for the grammar, which
    /// read such a file as one long line whose first `#` swallowed the rest.
    /// The file is refused at the first one, with the count.
    #[test]
    fn lone_carriage_returns_refuse_the_file() {
        let text = "# design\rvpc a 10.0.0.0/16 {\r}\r\nvm x 10.0.0.1\r";
        let lexed = lex(text);
        assert_eq!(kinds(text), vec![TokenKind::Eof]);
        assert!(lexed.comments.is_empty());
        assert_eq!(lexed.diagnostics.len(), 1);
        let d = &lexed.diagnostics[0];
        assert_eq!(d.code, crate::registry::Code::NP001);
        assert_eq!(d.primary.span, Span::new(8, 9));
        assert!(d.message.contains("3 carriage returns"), "{}", d.message);
        // `\r\n` line ends are not lone.
        let crlf = lex("vpc a 10.0.0.0/16 {\r\n}\r\n# note\r\n");
        assert!(crlf.diagnostics.is_empty());
        assert_eq!(crlf.comments.len(), 1);
        // One is enough, even in a comment of an otherwise `\n` file.
        let one = lex("vpc a 10.0.0.0/16 {\n  # a\rb\n}\n");
        assert_eq!(one.diagnostics.len(), 1);
        assert!(one.diagnostics[0].message.contains("a carriage return"));
        assert_eq!(one.diagnostics[0].primary.span, Span::new(25, 26));
    }

    #[test]
    fn atoms_stop_before_arrows() {
        use TokenKind::*;
        assert_eq!(kinds("a->b"), vec![Atom, Arrow, Atom, Eof]);
        assert_eq!(kinds("a-b"), vec![Atom, Eof]);
        assert_eq!(kinds("a<->b"), vec![Atom, BiArrow, Atom, Eof]);
        assert_eq!(kinds("10.0.0.1-10.0.0.9"), vec![Atom, Eof]);
    }

    #[test]
    fn comments_are_recorded_not_tokens() {
        let text = "vm a # note\r\nb";
        let lexed = lex(text);
        assert_eq!(lexed.comments.len(), 1);
        assert_eq!(lexed.comments[0].slice(text), "# note\r");
        let kinds: Vec<_> = lexed.tokens.iter().map(|t| t.kind).collect();
        use TokenKind::*;
        assert_eq!(kinds, vec![Atom, Atom, Newline, Atom, Eof]);
    }

    #[test]
    fn strings_and_their_errors() {
        let lexed = lex(r#"description "a \"b\" \\ c""#);
        assert!(lexed.diagnostics.is_empty());
        assert_eq!(lexed.tokens[1].kind, TokenKind::Str);

        let lexed = lex("description \"open\nnext");
        assert_eq!(lexed.diagnostics.len(), 1);
        assert_eq!(lexed.diagnostics[0].message, "unterminated string");
        assert_eq!(lexed.tokens[1].kind, TokenKind::Error);
        assert_eq!(lexed.tokens[2].kind, TokenKind::Newline);

        let lexed = lex(r#""a\nb""#);
        assert_eq!(lexed.diagnostics.len(), 1);
        assert_eq!(lexed.tokens[0].kind, TokenKind::Str);
    }

    #[test]
    fn junk_is_one_error_per_run() {
        let lexed = lex("a @@@ b\0");
        assert_eq!(lexed.diagnostics.len(), 2);
        assert_eq!(lexed.diagnostics[0].message, "unexpected characters `@@@`");
        assert_eq!(lexed.diagnostics[1].message, "unexpected character `\\0`");
    }

    #[test]
    fn spans_are_byte_offsets() {
        let text = "日本 ab\n{";
        let lexed = lex(text);
        let atom = lexed
            .tokens
            .iter()
            .find(|t| t.kind == TokenKind::Atom)
            .copied();
        assert_eq!(atom.map(|t| t.span.slice(text)), Some("ab"));
        assert_eq!(
            lexed.tokens.last().map(|t| t.span.start as usize),
            Some(text.len())
        );
    }
}
