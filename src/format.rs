//! The formatter: one canonical layout for `.np` text (`netproof fmt`, and
//! the language server's formatting requests).
//!
//! # Design
//!
//! The formatter works on the token stream and the comments the lexer sets
//! aside, not on the syntax tree. Tokens and comments are everything in a
//! design that means something; the formatter only decides the whitespace
//! and line breaks between them, so it cannot drop a clause, reorder a list
//! or lose a comment, and it needs to know almost nothing about statement
//! forms. The one place it looks at the grammar is alignment (below), and
//! there a wrong guess would only cost looks, never meaning.
//!
//! Line breaks are kept where the author put them, with three exceptions,
//! each of which the grammar makes harmless: a line break is added after a
//! `{` and before a `}` (a block's opening may be followed, and its closing
//! preceded, by any number of statement ends), and after a `}` that closes
//! a statement (the next statement could only follow a `;` there). An
//! empty block is written `{}`. Inside `[ ... ]` newlines are not statement
//! ends, so a list keeps its line breaks and its continuation lines are
//! indented one level deeper than the statement.
//!
//! Text with syntax errors (NP001) is refused, with those errors: where the
//! parser had to guess, a layout could change what the text means once the
//! error is fixed. Literal errors (NP004, NP005) do not stop formatting:
//! they are about the value of one token, which the formatter never touches.
//!
//! # The canonical layout
//!
//! - Two spaces per block level; continuation lines of a list one more.
//! - One space between tokens, none after `[`, before `]`, `,` or `;`.
//! - `{` ends its statement's line; `}` stands on its own line, followed
//!   only by a `;` or a comment if the source had one there.
//! - Blank lines between statements are kept, at most one in a row, never
//!   at the start or end of the file, right after a `{` or before a `}`,
//!   nor inside a list.
//! - Own-line comments are indented like the statement they precede (a
//!   comment just before `}` stays at the block's inner level). A trailing
//!   comment stays on its line. Within a paragraph (consecutive lines of
//!   one indentation, not separated by a blank line or an own-line comment)
//!   trailing comments start in one column, two spaces after the longest
//!   commented line's code; a line whose code ends past column
//!   [`MAX_COMMENT_COLUMN`] takes no part, and its comment follows two
//!   spaces after the code. Trailing whitespace in comments is removed;
//!   nothing else in a comment changes.
//! - Alignment: in a run of consecutive rule lines of one block (firewall
//!   `rule`s, security group and network ACL `inbound`/`outbound` rules,
//!   `route`s of a route table or transit gateway), not interrupted by a
//!   blank line, a comment line or another statement, the rules' parts
//!   (name, action, `from`, `to`, each clause) start in the same columns. A
//!   part wider than [`MAX_CELL_WIDTH`] does not widen its column: it just
//!   pushes the rest of its own line to the right.
//! - Every line ends with the file's line ending: `\r\n` when the first line
//!   of the source ends with one, `\n` otherwise. A non-empty result ends
//!   with exactly one line ending; a byte-order mark at the start is kept.
//!
//! The result is a function of the tokens, comments, line breaks and blank
//! lines only, so formatting twice gives what formatting once gave.
//! Formatting is linear in the size of the text.

use crate::diagnostic::Diagnostic;
use crate::registry::Code;
use crate::span::Span;
use crate::syntax::{self, Token, TokenKind};
use std::fmt;
use std::ops::Range;

/// Spaces per block level.
const INDENT: usize = 2;

/// A rule's part wider than this (a long address list, say) does not widen
/// its column for the other rules of its run, so one long line does not push
/// every other line to the right.
pub const MAX_CELL_WIDTH: usize = 24;

/// Trailing comments are aligned only on lines whose code ends before this
/// column, so that one long line does not push every comment of its run far
/// to the right.
pub const MAX_COMMENT_COLUMN: usize = 80;

/// Why a text was not formatted: its syntax errors (NP001), in source order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        write!(
            f,
            "the text has {n} syntax error{} and was not formatted",
            if n == 1 { "" } else { "s" }
        )?;
        if let Some(first) = self.diagnostics.first() {
            write!(f, " (the first: {})", first.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for FormatError {}

/// Formats a whole `.np` text into the canonical layout described in the
/// module documentation, or refuses it with its syntax errors.
///
/// ```
/// let text = "vpc shop 10.0.0.0/16 { subnet web 10.0.1.0/24 }";
/// let formatted = netproof::format::format_source(text).unwrap();
/// assert_eq!(formatted, "vpc shop 10.0.0.0/16 {\n  subnet web 10.0.1.0/24\n}\n");
/// ```
pub fn format_source(text: &str) -> Result<String, FormatError> {
    let parsed = syntax::parse(text);
    let errors: Vec<Diagnostic> = parsed
        .diagnostics
        .into_iter()
        .filter(|d| d.code == Code::NP001)
        .collect();
    if !errors.is_empty() {
        return Err(FormatError {
            diagnostics: errors,
        });
    }
    drop(parsed.tree);
    let lexed = syntax::lex(text);
    Ok(layout(text, &lexed.tokens, &lexed.comments))
}

/// One token as the formatter sees it.
#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    kind: TokenKind,
    text: &'a str,
}

/// The statements whose runs are aligned in columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pattern {
    /// `rule NAME ACTION from X to Y CLAUSE...`
    FirewallRule,
    /// `inbound SERVICES from PEERS`, `outbound SERVICES to PEERS`
    SgRule,
    /// `inbound NUMBER ACTION SERVICES from PREFIX`, and `outbound`
    AclRule,
    /// `route PREFIX -> TARGET`
    Route,
}

impl Pattern {
    /// The pattern of a statement starting with `keyword` in a block whose
    /// header starts with `block`.
    fn of(block: &str, keyword: &str) -> Option<Pattern> {
        match (block, keyword) {
            ("firewall", "rule") => Some(Pattern::FirewallRule),
            ("security-group", "inbound" | "outbound") => Some(Pattern::SgRule),
            ("network-acl", "inbound" | "outbound") => Some(Pattern::AclRule),
            ("route-table" | "transit-gateway", "route") => Some(Pattern::Route),
            _ => None,
        }
    }
}

/// One output line before it is written.
#[derive(Debug)]
struct Line<'a> {
    /// Leading spaces.
    indent: usize,
    /// The line's tokens, a range of the flat token list.
    toks: Range<usize>,
    /// The comment ending the line (the whole line when it has no tokens),
    /// without trailing whitespace.
    comment: Option<&'a str>,
    /// Whether one blank line precedes this one.
    blank_before: bool,
    /// The block the line is in (an identifier, 0 for the file).
    block: usize,
    /// Set when the line is one whole statement that aligns with its
    /// neighbours.
    pattern: Option<Pattern>,
    /// Whether the line started inside a list (a continuation line).
    starts_in_list: bool,
}

/// The state of the walk over tokens and comments.
struct Builder<'a> {
    toks: Vec<Tok<'a>>,
    lines: Vec<Line<'a>>,
    cur: Option<Line<'a>>,
    /// Open `{` blocks.
    depth: usize,
    /// Open `[` lists (they do not nest in valid text, but the count keeps
    /// the layout sane whatever comes).
    brackets: usize,
    /// The open blocks: identifier and the keyword of their statement.
    blocks: Vec<(usize, &'a str)>,
    next_block: usize,
    /// Newline tokens since the last line was finished by one; two or more
    /// mean a blank line.
    newlines: usize,
    /// The next token goes on a new line (after `{` and `}`).
    break_pending: bool,
    /// The next atom starts a statement.
    stmt_start: bool,
    /// The first word of the current statement.
    stmt_kw: &'a str,
}

/// Lays out the tokens and comments of `text` (which has no syntax errors).
fn layout(text: &str, tokens: &[Token], comments: &[Span]) -> String {
    let mut b = Builder {
        toks: Vec::with_capacity(tokens.len()),
        lines: Vec::with_capacity(tokens.len() / 8 + 1),
        cur: None,
        depth: 0,
        brackets: 0,
        blocks: Vec::new(),
        next_block: 1,
        newlines: 0,
        break_pending: false,
        stmt_start: true,
        stmt_kw: "",
    };
    // Tokens and comments are each in source order and never overlap, so
    // one merge visits everything in order.
    let mut comments = comments.iter().peekable();
    for t in tokens {
        while let Some(c) = comments.next_if(|c| c.start < t.span.start) {
            b.comment(c.slice(text).trim_end());
        }
        b.token(t.kind, t.span.slice(text));
    }
    for c in comments {
        b.comment(c.slice(text).trim_end());
    }
    b.finish_line();
    let crlf = text
        .find('\n')
        .is_some_and(|i| i > 0 && text.as_bytes().get(i - 1) == Some(&b'\r'));
    let bom = text.starts_with('\u{feff}');
    render(&b.toks, &b.lines, if crlf { "\r\n" } else { "\n" }, bom)
}

impl<'a> Builder<'a> {
    fn token(&mut self, kind: TokenKind, text: &'a str) {
        use TokenKind::*;
        match kind {
            Eof => {}
            Newline => {
                if self.cur.is_some() {
                    self.finish_line();
                    self.newlines = 1;
                } else {
                    self.newlines += 1;
                }
                self.break_pending = false;
                if self.brackets == 0 {
                    self.stmt_start = true;
                }
            }
            RBrace => {
                let empty_block = match &self.cur {
                    Some(cur) => cur.comment.is_none() && self.last_kind(cur) == Some(LBrace),
                    None => self
                        .lines
                        .last()
                        .is_some_and(|l| l.comment.is_none() && self.last_kind(l) == Some(LBrace)),
                };
                if empty_block {
                    if self.cur.is_none() {
                        self.cur = self.lines.pop();
                    }
                } else {
                    self.finish_line();
                }
                self.depth = self.depth.saturating_sub(1);
                self.blocks.pop();
                self.push(kind, text);
                self.break_pending = true;
                self.stmt_start = true;
            }
            LBrace => {
                self.break_before();
                self.push(kind, text);
                self.depth += 1;
                self.blocks.push((self.next_block, self.stmt_kw));
                self.next_block += 1;
                self.break_pending = true;
                self.stmt_start = true;
            }
            Semi => {
                // A `;` after a `}` stays on the `}` line, and the break
                // owed after the `}` still comes after it.
                self.push(kind, text);
                self.stmt_start = true;
            }
            _ => {
                self.break_before();
                if kind == Atom && self.stmt_start && self.brackets == 0 {
                    self.stmt_kw = text;
                }
                self.stmt_start = false;
                self.push(kind, text);
                match kind {
                    LBracket => self.brackets += 1,
                    RBracket => self.brackets = self.brackets.saturating_sub(1),
                    _ => {}
                }
            }
        }
    }

    /// Ends the current line if a break is owed.
    fn break_before(&mut self) {
        if self.break_pending {
            self.finish_line();
            self.newlines = 0;
            self.break_pending = false;
        }
    }

    fn comment(&mut self, text: &'a str) {
        let trailing = self.cur.as_ref().is_some_and(|c| !c.toks.is_empty());
        if !trailing {
            let indent = self.depth * INDENT + if self.brackets > 0 { INDENT } else { 0 };
            self.start_line(indent, false);
        }
        if let Some(cur) = &mut self.cur {
            cur.comment = Some(text);
        }
        // A comment runs to the end of its line, so nothing can follow it
        // there; the break owed after a `{` or `}` is the newline itself.
        self.break_pending = false;
    }

    /// Appends a token to the current line, starting one if needed.
    fn push(&mut self, kind: TokenKind, text: &'a str) {
        if self.cur.is_none() {
            let statement = self.depth * INDENT;
            let indent =
                if self.brackets == 0 || (kind == TokenKind::RBracket && self.brackets == 1) {
                    statement
                } else {
                    statement + INDENT
                };
            self.start_line(indent, kind == TokenKind::RBrace);
        }
        self.toks.push(Tok { kind, text });
        if let Some(cur) = &mut self.cur {
            cur.toks.end = self.toks.len();
        }
    }

    fn start_line(&mut self, indent: usize, closes_block: bool) {
        let after_open = self
            .lines
            .last()
            .is_some_and(|l| self.last_kind(l) == Some(TokenKind::LBrace));
        let blank_before = self.newlines >= 2
            && !self.lines.is_empty()
            && !after_open
            && !closes_block
            && self.brackets == 0;
        self.cur = Some(Line {
            indent,
            toks: self.toks.len()..self.toks.len(),
            comment: None,
            blank_before,
            block: self.blocks.last().map_or(0, |b| b.0),
            pattern: None,
            starts_in_list: self.brackets > 0,
        });
    }

    fn last_kind(&self, line: &Line) -> Option<TokenKind> {
        let end = line.toks.end;
        if line.toks.is_empty() {
            return None;
        }
        self.toks.get(end.checked_sub(1)?).map(|t| t.kind)
    }

    fn finish_line(&mut self) {
        let Some(mut line) = self.cur.take() else {
            return;
        };
        line.pattern = self.pattern(&line);
        self.lines.push(line);
    }

    /// The alignment pattern of a line that is one whole statement.
    fn pattern(&self, line: &Line) -> Option<Pattern> {
        if line.starts_in_list || self.brackets > 0 {
            return None;
        }
        let toks = self.toks.get(line.toks.clone())?;
        let first = toks.first()?;
        if first.kind != TokenKind::Atom
            || toks.iter().any(|t| {
                matches!(
                    t.kind,
                    TokenKind::Semi | TokenKind::LBrace | TokenKind::RBrace
                )
            })
        {
            return None;
        }
        let block = self.blocks.last().map_or("", |b| b.1);
        Pattern::of(block, first.text)
    }
}

/// Whether a space separates two tokens on one line.
fn space_between(prev: TokenKind, next: TokenKind) -> bool {
    use TokenKind::*;
    !(prev == LBracket
        || matches!(next, RBracket | Comma | Semi)
        || (prev == LBrace && next == RBrace))
}

/// Writes tokens with canonical spacing.
fn join(toks: &[Tok], out: &mut String) {
    let mut prev: Option<TokenKind> = None;
    for t in toks {
        if prev.is_some_and(|p| space_between(p, t.kind)) {
            out.push(' ');
        }
        out.push_str(t.text);
        prev = Some(t.kind);
    }
}

/// A rule's parts, each written with canonical spacing.
fn cells(toks: &[Tok], pattern: Pattern) -> Vec<String> {
    // Units: a token, or a whole `[ ... ]` list.
    let mut units: Vec<&[Tok]> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let len = if toks.get(i).is_some_and(|t| t.kind == TokenKind::LBracket) {
            toks.get(i..)
                .and_then(|rest| rest.iter().position(|t| t.kind == TokenKind::RBracket))
                .map_or(toks.len() - i, |p| p + 1)
        } else {
            1
        };
        units.extend(toks.get(i..i + len));
        i += len;
    }
    // How many units each part takes, from the start of the line; the last
    // part takes what remains.
    let mut sizes: Vec<usize> = match pattern {
        // `rule NAME`, ACTION, `from X`, `to Y`
        Pattern::FirewallRule => vec![2, 1, 2, 2],
        // KEYWORD, SERVICES, `from PEERS...`
        Pattern::SgRule => vec![1, 1],
        // KEYWORD, NUMBER, ACTION, SERVICES, `from PREFIX`
        Pattern::AclRule => vec![1, 1, 1, 1],
        // `route PREFIX`, `-> TARGET`
        Pattern::Route => vec![2],
    };
    if pattern == Pattern::FirewallRule {
        // Each clause is its keyword and its argument, but `log` has none.
        let mut at = 7;
        while at < units.len() {
            let bare = units
                .get(at)
                .and_then(|u| u.first())
                .is_some_and(|t| t.text == "log");
            let n = if bare { 1 } else { 2 };
            sizes.push(n);
            at += n;
        }
    }
    let mut out = Vec::with_capacity(sizes.len() + 1);
    let mut at = 0;
    for n in sizes.into_iter().chain(std::iter::once(usize::MAX)) {
        if at >= units.len() {
            break;
        }
        let end = at.saturating_add(n).min(units.len());
        let mut cell = String::new();
        for unit in units.get(at..end).unwrap_or_default() {
            if !cell.is_empty() {
                cell.push(' ');
            }
            join(unit, &mut cell);
        }
        out.push(cell);
        at = end;
    }
    out
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// Writes the lines: code (aligned where a run of rules allows), then the
/// comments, aligned in runs.
fn render(toks: &[Tok], lines: &[Line], eol: &str, bom: bool) -> String {
    let mut code: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let Some(first) = lines.get(i) else { break };
        let Some(pattern) = first.pattern else {
            let mut s = String::new();
            join(toks.get(first.toks.clone()).unwrap_or_default(), &mut s);
            code.push(s);
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while lines.get(j).is_some_and(|l| {
            l.pattern == Some(pattern) && l.block == first.block && !l.blank_before
        }) {
            j += 1;
        }
        let run: Vec<Vec<String>> = lines
            .get(i..j)
            .unwrap_or_default()
            .iter()
            .map(|l| cells(toks.get(l.toks.clone()).unwrap_or_default(), pattern))
            .collect();
        code.extend(align(&run));
        i = j;
    }

    // Trailing comment columns, per paragraph: consecutive lines of one
    // indentation, not separated by a blank line or an own-line comment.
    let mut columns = vec![0usize; lines.len()];
    let own_line = |k: usize| lines.get(k).is_some_and(|l| l.toks.is_empty());
    let end_of =
        |k: usize| lines.get(k).map_or(0, |l| l.indent) + code.get(k).map_or(0, |c| width(c));
    let mut i = 0;
    while i < lines.len() {
        if own_line(i) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        let indent = lines.get(i).map_or(0, |l| l.indent);
        while j < lines.len()
            && !own_line(j)
            && lines
                .get(j)
                .is_some_and(|l| !l.blank_before && l.indent == indent)
        {
            j += 1;
        }
        let commented = |k: &usize| lines.get(*k).is_some_and(|l| l.comment.is_some());
        let column = (i..j)
            .filter(commented)
            .map(end_of)
            .filter(|&e| e + 2 <= MAX_COMMENT_COLUMN)
            .max()
            .map_or(0, |e| e + 2);
        for k in (i..j).filter(commented) {
            if let Some(c) = columns.get_mut(k) {
                *c = column.max(end_of(k) + 2);
            }
        }
        i = j;
    }

    let mut out = String::with_capacity(toks.iter().map(|t| t.text.len() + 2).sum::<usize>());
    if bom && !lines.is_empty() {
        out.push('\u{feff}');
    }
    for (k, line) in lines.iter().enumerate() {
        if line.blank_before {
            out.push_str(eol);
        }
        let text = code.get(k).map_or("", String::as_str);
        let start = out.len();
        push_spaces(&mut out, line.indent);
        out.push_str(text);
        if let Some(comment) = line.comment {
            if !text.is_empty() {
                let at = width(out.get(start..).unwrap_or_default());
                let column = columns.get(k).copied().unwrap_or(0);
                push_spaces(&mut out, column.saturating_sub(at).max(2));
            }
            out.push_str(comment);
        }
        out.push_str(eol);
    }
    out
}

fn push_spaces(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Aligns the parts of a run of rules in columns (see [`MAX_CELL_WIDTH`]).
fn align(run: &[Vec<String>]) -> Vec<String> {
    // A column's width comes from the parts that have a part after them on
    // their line: a line's last part pushes nothing.
    let columns = run.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for cells in run {
        for (c, cell) in cells.iter().enumerate().take(cells.len().saturating_sub(1)) {
            let w = width(cell);
            if let Some(slot) = widths.get_mut(c) {
                if w <= MAX_CELL_WIDTH {
                    *slot = (*slot).max(w);
                }
            }
        }
    }
    run.iter()
        .map(|cells| {
            let mut s = String::new();
            let mut at = 0;
            let mut target = 0usize;
            for (c, cell) in cells.iter().enumerate() {
                if c > 0 {
                    let pad = target.saturating_sub(at).max(1);
                    push_spaces(&mut s, pad);
                    at += pad;
                }
                s.push_str(cell);
                at += width(cell);
                // A part that overflowed its column has moved the rest of
                // this line only: the next part starts where its column does
                // if there is still room, one space later otherwise.
                target += widths.get(c).copied().unwrap_or(0) + 1;
            }
            s
        })
        .collect()
}
