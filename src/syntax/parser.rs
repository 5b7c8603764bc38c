//! Tokens to the typed syntax tree: hand-written recursive descent with
//! statement-level recovery.
//!
//! # Design
//!
//! Parsing has three layers, each with the tool that suits it:
//!
//! - the **lexer** (`lexer.rs`, nom) turns text into tokens with byte spans;
//! - the **literal parsers** (`literal.rs`, nom) read an atom as an address,
//!   prefix, range, service literal or number once its position says which;
//! - this **parser** walks the token vector with a cursor, one function per
//!   statement form.
//!
//! Combinators are excellent where precision matters and recovery does not,
//! which is the lexical and literal grammar. For statements, what matters is
//! recovery (report every error, not the first) and messages that name the
//! statement's form ("expected `in` after the vm's address, found `on`"). A
//! cursor over a token vector makes both simple: the parser always knows the
//! statement it is in, and skipping to the next statement is a loop.
//!
//! # Recovery
//!
//! A statement ends at a newline, `;` or the `}` that closes its block. When
//! a statement is malformed the parser reports one NP001 and skips to that
//! end; a `{` met while skipping is skipped with its whole balanced block, so
//! a broken header does not spill its body into the enclosing block. A
//! declaring statement that fails after its name was read becomes a
//! `Broken` node that still declares the name, so one typo does not turn
//! into "undefined" errors wherever the name is used. Literal errors (NP004)
//! do not stop the statement: it is parsed to its end, so its syntax is still
//! checked, and then kept as `Broken`.
//!
//! # Robustness
//!
//! Parsing never fails and never panics. Recursion is bounded by the
//! grammar, not the input: the file contains sites and connections, sites
//! contain a few block statements (firewall, route-table, ...), and those
//! contain only flat statements. Anything nested deeper is skipped by
//! iterative loops with depth counters. Lists do not nest either. Every
//! loop consumes at least one token per turn, so the parser always ends,
//! and nothing is quadratic in the input.

mod exprs;
mod inner;
mod site;
mod top;

use super::ast::{Broken, DeclKind, Item, Name, Tree};
use super::keywords::{is_statement_keyword, suggest, Block};
use super::lexer::{self, Token, TokenKind};
use super::Parse;
use crate::diagnostic::Diagnostic;
use crate::rules::np001_syntax_error::syntax_error;
use crate::span::Span;

/// Parses a whole text. See the module documentation.
pub(super) fn parse(text: &str) -> Parse {
    if u32::try_from(text.len()).is_err() {
        let d = syntax_error(
            Span::new(0, 0),
            "the file is too large to parse",
            "file too large",
            Some("spans are 32-bit; split the design into several files".into()),
        );
        return Parse {
            tree: Tree::default(),
            diagnostics: vec![d],
        };
    }
    let lexed = lexer::lex(text);
    let starts = run_starts(text, &lexed.tokens, MIN_RUN_TOKENS);
    let (items, parsed) = parse_runs(text, &lexed.tokens, &starts);
    let mut diagnostics = lexed.diagnostics;
    diagnostics.extend(parsed);
    // The lexer's and the parser's findings interleave; a stable sort keeps
    // the order of findings at one place.
    diagnostics.sort_by_key(|d| d.primary.span.start);
    Parse {
        tree: Tree {
            items,
            comments: lexed.comments,
        },
        diagnostics,
    }
}

// ---- Parallel parsing ------------------------------------------------------
//
// A large file is parsed as several runs of top-level statements at once.
// The parser's state between two top-level statements is only its position:
// `prev_end` is the end of the last token before it that is not a newline,
// every statement sets the noun, form and poison flag before it reads them,
// and findings are only ever appended. So a run that starts at a top-level
// statement's keyword produces exactly what the one sequential parse
// produces from there, *if* the sequential parse really is at the top level
// at that token. That is guessed cheaply (a top-level keyword at column 0,
// outside braces) and then checked: each run stops at the first top-level
// statement at or after the next run's start, and the next run is used only
// when the previous one stopped exactly at its start. When it did not (a
// forgotten `}` swallowed the boundary), parsing goes on sequentially from
// where the previous run stopped up to the next start, and is checked again
// there. Results are therefore identical whatever the number of threads.

/// Below this many tokens per run, a file is parsed in one run: spreading
/// a small file over threads costs more than it saves (the pre-commit hook
/// checks small files and wants them in milliseconds).
const MIN_RUN_TOKENS: usize = 50_000;

/// The tokens where runs start: 0, then top-level statement keywords at
/// column 0 outside braces, about evenly spaced. One run (sequential
/// parsing) when the file is small or there is one thread.
fn run_starts(text: &str, toks: &[Token], min_run_tokens: usize) -> Vec<usize> {
    let mut starts = vec![0];
    // Checked before asking rayon anything: asking starts its thread pool.
    if toks.len() < 2 * min_run_tokens.max(1) {
        return starts;
    }
    let threads = rayon::current_num_threads();
    if threads < 2 {
        return starts;
    }
    // A few runs per thread even out runs of unequal cost.
    let runs = (threads * 4).min(toks.len() / min_run_tokens.max(1)).max(1);
    let stride = toks.len() / runs;
    split_points(text, toks, stride, &mut starts);
    starts
}

/// Appends the candidate run starts at least `stride` tokens apart.
fn split_points(text: &str, toks: &[Token], stride: usize, starts: &mut Vec<usize>) {
    let mut depth = 0usize;
    let mut next = stride.max(1);
    let mut prev: Option<Token> = None;
    for (i, &t) in toks.iter().enumerate() {
        match t.kind {
            TokenKind::LBrace => depth += 1,
            TokenKind::RBrace => depth = depth.saturating_sub(1),
            TokenKind::Atom if i >= next && depth == 0 => {
                let line_start = prev
                    .is_some_and(|p| p.kind == TokenKind::Newline && p.span.end == t.span.start);
                if line_start && Block::Top.accepts(t.span.slice(text)) {
                    starts.push(i);
                    next = i.saturating_add(stride.max(1));
                }
            }
            _ => {}
        }
        prev = Some(t);
    }
}

/// Parses `text` in runs starting about every `stride` tokens, whatever
/// the thread count, for tests that compare it with one sequential run.
#[cfg(test)]
pub(super) fn parse_in_runs(text: &str, stride: Option<usize>) -> (Vec<Item>, Vec<Diagnostic>) {
    let lexed = lexer::lex(text);
    let mut starts = vec![0];
    if let Some(stride) = stride {
        split_points(text, &lexed.tokens, stride, &mut starts);
    }
    parse_runs(text, &lexed.tokens, &starts)
}

/// The top-level statements parsed from one start.
struct Run {
    items: Vec<Item>,
    diags: Vec<Diagnostic>,
    /// The token the run stopped at.
    end: usize,
    /// Whether it stopped at the end of the file.
    finished: bool,
}

/// Parses top-level statements from token `start` until the first one that
/// starts at or after token `stop`, or the end of the file.
fn run(text: &str, toks: &[Token], start: usize, stop: usize) -> Run {
    let prev_end = toks
        .get(..start)
        .and_then(|before| before.iter().rev().find(|t| t.kind != TokenKind::Newline))
        .map_or(0, |t| t.span.end);
    let mut p = Parser {
        text,
        toks,
        pos: start,
        stop,
        prev_end,
        diags: Vec::new(),
        noun: "file",
        form: "",
        poisoned: false,
    };
    let items = p.block_body(Block::Top, Block::Top, Opening::File, None, |p, kw| {
        p.top_stmt(kw)
    });
    let finished = p.kind() == TokenKind::Eof;
    Run {
        items,
        diags: p.diags,
        end: p.pos,
        finished,
    }
}

/// Parses the runs beginning at `starts` (in parallel when there are
/// several) and joins them as described above.
fn parse_runs(text: &str, toks: &[Token], starts: &[usize]) -> (Vec<Item>, Vec<Diagnostic>) {
    let stop_after = |i: usize| starts.get(i + 1).copied().unwrap_or(usize::MAX);
    if starts.len() < 2 {
        let r = run(text, toks, 0, usize::MAX);
        return (r.items, r.diags);
    }
    use rayon::prelude::*;
    let mut runs: Vec<Option<Run>> = starts
        .par_iter()
        .enumerate()
        .map(|(i, &start)| Some(run(text, toks, start, stop_after(i))))
        .collect();
    let mut items = Vec::new();
    let mut diags = Vec::new();
    let mut pos = 0;
    loop {
        let r = match starts.binary_search(&pos) {
            Ok(i) => match runs.get_mut(i).and_then(Option::take) {
                Some(r) => r,
                None => run(text, toks, pos, stop_after(i)),
            },
            // The previous run ran past a start: continue sequentially to
            // the next start after it.
            Err(i) => run(
                text,
                toks,
                pos,
                starts.get(i).copied().unwrap_or(usize::MAX),
            ),
        };
        items.extend(r.items);
        diags.extend(r.diags);
        // A run always consumes a token unless it is at the end.
        if r.finished || r.end <= pos {
            break;
        }
        pos = r.end;
    }
    (items, diags)
}

/// Text quoted in a message, cut to a readable length on a character
/// boundary (a megabyte-long atom must not become a megabyte-long message).
pub(super) fn shorten(s: &str) -> String {
    const MAX: usize = 40;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", s.get(..end).unwrap_or(""))
}

fn article(noun: &str) -> &'static str {
    let vowel = noun.starts_with(['a', 'e', 'i', 'o', 'u']);
    if vowel || matches!(noun, "nlb" | "sddc" | "l2vpn") {
        "an"
    } else {
        "a"
    }
}

/// The statement or list at hand is malformed; the error is already
/// recorded (or was reported by the lexer).
#[derive(Debug)]
pub(super) struct Failed;

pub(super) type PResult<T> = Result<T, Failed>;

/// How a block's body began, which decides how it may end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Opening {
    /// The whole file: ends at end of file; a `}` closes nothing.
    File,
    /// A `{` at this span: ends at its `}`.
    Brace(Span),
    /// A header whose `{` is missing but whose next line is plainly a
    /// statement of that block: the body is parsed anyway, up to the next
    /// `}` or statement of an enclosing block, rather than every line of it
    /// being reported as misplaced.
    Implicit,
}

pub(super) struct Parser<'t> {
    text: &'t str,
    toks: &'t [Token],
    pos: usize,
    /// The top level stops before a statement that starts at or after this
    /// token (see "Parallel parsing"); `usize::MAX` for the whole file.
    stop: usize,
    /// The end of the last token consumed other than a newline: where a
    /// statement's span ends, and where "found end of line" points.
    prev_end: u32,
    diags: Vec<Diagnostic>,
    /// The statement being parsed, for messages: "vm", "instance".
    noun: &'static str,
    /// The statement's form, for help: "vm NAME ADDRESS in SEGMENT".
    form: &'static str,
    /// A literal in the current statement was invalid (NP004): the statement
    /// is parsed to its end but kept as broken.
    poisoned: bool,
}

impl<'t> Parser<'t> {
    // ---- The cursor ------------------------------------------------------

    fn nth(&self, n: usize) -> Token {
        const EOF: Token = Token {
            kind: TokenKind::Eof,
            span: Span { start: 0, end: 0 },
        };
        // The token vector always ends with `Eof`, so reading past the end
        // sees that last token again.
        self.toks
            .get(self.pos.saturating_add(n))
            .or_else(|| self.toks.last())
            .copied()
            .unwrap_or(EOF)
    }

    fn peek(&self) -> Token {
        self.nth(0)
    }

    fn kind(&self) -> TokenKind {
        self.peek().kind
    }

    fn text_of(&self, t: Token) -> &'t str {
        t.span.slice(self.text)
    }

    fn at_word(&self, word: &str) -> bool {
        let t = self.peek();
        t.kind == TokenKind::Atom && self.text_of(t) == word
    }

    fn bump(&mut self) -> Token {
        let t = self.peek();
        if t.kind != TokenKind::Eof {
            self.pos += 1;
            if t.kind != TokenKind::Newline {
                self.prev_end = t.span.end;
            }
        }
        t
    }

    fn at_stmt_end(&self) -> bool {
        use TokenKind::*;
        matches!(self.kind(), Newline | Semi | RBrace | Eof)
    }

    /// From `start` to the last token consumed.
    fn span_from(&self, start: Span) -> Span {
        Span {
            start: start.start,
            end: self.prev_end.max(start.end),
        }
    }

    /// The indentation of the token at `index` in bytes, when it is the
    /// first token on its line; `None` otherwise.
    fn line_indent(&self, index: usize) -> Option<u32> {
        let t = self.toks.get(index)?;
        match index.checked_sub(1).and_then(|i| self.toks.get(i)) {
            None => Some(t.span.start),
            Some(prev) if prev.kind == TokenKind::Newline => {
                Some(t.span.start.saturating_sub(prev.span.end))
            }
            Some(_) => None,
        }
    }

    /// Finds a token of `kind` ahead on the current line, stopping at the
    /// line's end, at `;` and at `}` so that repeated searches stay linear.
    fn find_on_line(&self, kind: TokenKind) -> Option<usize> {
        use TokenKind::*;
        let mut i = self.pos;
        while let Some(t) = self.toks.get(i) {
            if t.kind == kind {
                return Some(i);
            }
            if matches!(t.kind, Newline | Semi | RBrace | Eof) {
                return None;
            }
            i += 1;
        }
        None
    }

    // ---- Statement bookkeeping -------------------------------------------

    /// Starts a statement: sets the noun and form used by messages.
    fn begin(&mut self, noun: &'static str, form: &'static str) {
        self.noun = noun;
        self.form = form;
        self.poisoned = false;
    }

    /// Reads a declaration's name; when there is none, recovers and returns
    /// `None` (nothing can be declared).
    fn decl_name(&mut self, what: &str) -> Option<Name> {
        match self.name(what) {
            Ok(n) => Some(n),
            Err(Failed) => {
                self.recover();
                None
            }
        }
    }

    /// Ends a declaring statement: the node when it parsed cleanly, a
    /// `Broken` declaration of its name otherwise.
    fn finish<R, T>(
        &mut self,
        start: Span,
        kind: DeclKind,
        name: Name,
        result: PResult<R>,
        build: impl FnOnce(Name, R, Span) -> T,
        broken: impl FnOnce(Broken) -> T,
    ) -> T {
        let clean = match result {
            Ok(r) if !self.poisoned => Some(r),
            Ok(_) => None,
            Err(Failed) => {
                self.recover();
                None
            }
        };
        let span = self.span_from(start);
        match clean {
            Some(r) => build(name, r, span),
            None => broken(Broken { kind, name, span }),
        }
    }

    /// Ends a statement that declares nothing: `None` when it had errors.
    fn finish_plain<R>(&mut self, result: PResult<R>) -> Option<R> {
        match result {
            Ok(r) if !self.poisoned => Some(r),
            Ok(_) => None,
            Err(Failed) => {
                self.recover();
                None
            }
        }
    }

    // ---- Messages ----------------------------------------------------------

    /// Fills the statement's noun into a description: "the {}'s address".
    fn what(&self, description: &str) -> String {
        description.replace("{}", self.noun)
    }

    fn stmt_phrase(&self) -> String {
        format!("{} {} statement", article(self.noun), self.noun)
    }

    fn form_help(&self) -> Option<String> {
        Some(format!("the form is `{}`", self.form))
    }

    /// How a token reads in "found ...".
    fn found(&self, t: Token) -> String {
        match t.kind {
            TokenKind::Newline => "end of line".into(),
            TokenKind::Eof => "end of file".into(),
            TokenKind::Str => "a string".into(),
            _ => format!("`{}`", shorten(self.text_of(t))),
        }
    }

    /// Where an error about token `t` points: the token itself, or for the
    /// end of a line or file, the end of the text before it.
    fn point(&self, t: Token) -> Span {
        match t.kind {
            TokenKind::Newline | TokenKind::Eof => Span {
                start: self.prev_end.min(t.span.start),
                end: self.prev_end.min(t.span.start),
            },
            _ => t.span,
        }
    }

    /// Records an NP001 about token `t`, unless `t` is an error token the
    /// lexer has already reported.
    fn syntax_at(
        &mut self,
        t: Token,
        message: String,
        label: impl Into<String>,
        help: Option<String>,
    ) -> Failed {
        if t.kind != TokenKind::Error {
            let span = self.point(t);
            self.diags.push(syntax_error(span, message, label, help));
        }
        Failed
    }

    /// "expected {what}, found {the current token}" with the form as help.
    fn expected(&mut self, what: &str, label: &str) -> Failed {
        let t = self.peek();
        let message = format!("expected {}, found {}", self.what(what), self.found(t));
        let help = self.form_help();
        self.syntax_at(t, message, label, help)
    }

    /// Consumes the keyword `word` or reports "expected `word` {after}".
    fn expect_word(&mut self, word: &str, after: &str) -> PResult<Span> {
        if self.at_word(word) {
            return Ok(self.bump().span);
        }
        Err(self.expected(
            &format!("`{word}` {after}"),
            &format!("expected `{word}` here"),
        ))
    }

    /// Consumes punctuation of `kind` (shown as `shown`) or reports it.
    fn expect_token(&mut self, kind: TokenKind, shown: &str, after: &str) -> PResult<Span> {
        if self.kind() == kind {
            return Ok(self.bump().span);
        }
        Err(self.expected(
            &format!("{shown} {after}"),
            &format!("expected {shown} here"),
        ))
    }

    /// Requires the statement to end here.
    fn end(&mut self, after: &str) -> PResult<()> {
        if self.at_stmt_end() {
            return Ok(());
        }
        let t = self.peek();
        let message = format!(
            "expected the end of the statement after {}, found {}",
            self.what(after),
            self.found(t)
        );
        let help = self.form_help();
        Err(self.syntax_at(t, message, "expected a new line or `;` here", help))
    }

    /// `end` where the statement is known not to end: always the error.
    fn end_err(&mut self, after: &str) -> Failed {
        match self.end(after) {
            Ok(()) | Err(Failed) => Failed,
        }
    }

    /// The current token as a possible optional clause: `None` at the end
    /// of the statement, the atom's text otherwise ("" for punctuation).
    fn clause_word(&self) -> Option<&'t str> {
        if self.at_stmt_end() {
            return None;
        }
        let t = self.peek();
        Some(if t.kind == TokenKind::Atom {
            self.text_of(t)
        } else {
            ""
        })
    }

    /// The current token is not one of the statement's `clauses`.
    fn clause_error(&mut self, clauses: &[&str]) -> Failed {
        let t = self.peek();
        let text = self.text_of(t);
        if t.kind == TokenKind::Atom && text.starts_with(|c: char| c.is_ascii_alphabetic()) {
            let help = match suggest(text, clauses) {
                Some(s) => format!("did you mean `{s}`? the form is `{}`", self.form),
                None => format!("the form is `{}`", self.form),
            };
            let message = format!("unexpected `{}` in {}", shorten(text), self.stmt_phrase());
            self.syntax_at(t, message, "not a clause of this statement", Some(help))
        } else {
            let what = match t.kind {
                TokenKind::Str => "string".to_string(),
                _ => self.found(t),
            };
            let message = format!("unexpected {what} in {}", self.stmt_phrase());
            let help = self.form_help();
            self.syntax_at(t, message, "unexpected here", help)
        }
    }

    /// Records an optional clause, or reports it as given twice.
    fn once(&mut self, seen: &mut Option<Span>, t: Token) -> PResult<()> {
        let Some(first) = *seen else {
            *seen = Some(t.span);
            return Ok(());
        };
        let word = self.text_of(t);
        let d = syntax_error(
            t.span,
            format!("`{word}` given twice"),
            "given again here",
            Some(format!(
                "each clause may be given once; the form is `{}`",
                self.form
            )),
        )
        .with_label(first, "first given here");
        self.diags.push(d);
        Err(Failed)
    }

    // ---- Recovery ----------------------------------------------------------

    /// Skips to the end of the current statement: a newline, `;`, or the
    /// `}` of the enclosing block (not consumed). A `{` on the way is
    /// skipped with its whole block.
    fn recover(&mut self) {
        use TokenKind::*;
        loop {
            match self.kind() {
                Newline | Semi | RBrace | Eof => return,
                LBrace => self.skip_block(),
                _ => {
                    self.bump();
                }
            }
        }
    }

    /// Skips a balanced `{ ... }` starting at the current `{`, iteratively
    /// (a hundred thousand `{` must not mean a hundred thousand frames).
    fn skip_block(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.kind() {
                TokenKind::LBrace => depth += 1,
                TokenKind::RBrace => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.bump();
                        return;
                    }
                }
                TokenKind::Eof => return,
                _ => {}
            }
            self.bump();
        }
    }

    /// Skips a balanced `[ ... ]` starting at the current `[`. It stops
    /// before `{`, `}` and the end of the file, which lists never contain,
    /// so an unclosed `[` cannot swallow the blocks after it.
    fn skip_brackets(&mut self) {
        use TokenKind::*;
        let mut depth = 0usize;
        loop {
            match self.kind() {
                LBracket => depth += 1,
                RBracket => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.bump();
                        return;
                    }
                }
                LBrace | RBrace | Eof => return,
                _ => {}
            }
            self.bump();
        }
    }

    // ---- Blocks ------------------------------------------------------------

    /// Expects the `{` of a block statement's header. A `{` alone on the
    /// next line is reported but accepted; a missing `{` before a line that
    /// is plainly the block's body is reported and gives an implicit body,
    /// so the body's statements are not each reported as misplaced.
    fn open_block(&mut self, block: Block, after: &str) -> PResult<Opening> {
        let t = self.peek();
        if t.kind == TokenKind::LBrace {
            self.bump();
            return Ok(Opening::Brace(t.span));
        }
        if t.kind == TokenKind::Newline {
            let mut j = self.pos;
            while self
                .toks
                .get(j)
                .is_some_and(|t| t.kind == TokenKind::Newline)
            {
                j += 1;
            }
            let next = self.toks.get(j).copied();
            if let Some(brace) = next.filter(|n| n.kind == TokenKind::LBrace) {
                self.diags.push(syntax_error(
                    brace.span,
                    format!("the `{{` of {} must be on the line of its header", self.stmt_phrase()),
                    "move this `{` to the end of the line above",
                    Some("a `{` that opens a block stands on the same line as the statement it belongs to".into()),
                ));
                self.pos = j;
                self.bump();
                return Ok(Opening::Brace(brace.span));
            }
            let starts_body = next.is_some_and(|n| {
                let w = self.text_of(n);
                n.kind == TokenKind::Atom && block.accepts(w) && !Block::Top.accepts(w)
            });
            if starts_body {
                let message = format!("expected `{{` {}, found end of line", self.what(after));
                self.syntax_at(
                    t,
                    message,
                    "expected `{` here",
                    Some(format!(
                        "the statements below belong to this {}: add `{{` here and `}}` after them",
                        block.keyword()
                    )),
                );
                return Ok(Opening::Implicit);
            }
        }
        Err(self.expected(&format!("`{{` {after}"), "expected `{` here"))
    }

    /// After a header error: when a `{` follows on the line, the body is
    /// parsed anyway (it is usually fine, and its declarations matter).
    fn open_after_error(&mut self) -> Option<Opening> {
        let i = self.find_on_line(TokenKind::LBrace)?;
        self.pos = i;
        let t = self.bump();
        Some(Opening::Brace(t.span))
    }

    /// An optional block (connections): `Some` when a `{` follows on the
    /// line, or alone on the next line, or is missing before lines that are
    /// plainly the block's body (both reported).
    fn optional_block(&mut self, block: Block, after: &str) -> Option<Opening> {
        if self.kind() == TokenKind::LBrace {
            return Some(Opening::Brace(self.bump().span));
        }
        if self.kind() == TokenKind::Newline {
            let mut j = self.pos;
            while self
                .toks
                .get(j)
                .is_some_and(|t| t.kind == TokenKind::Newline)
            {
                j += 1;
            }
            let next = self.toks.get(j).copied();
            let opens = next.is_some_and(|n| {
                let word = self.text_of(n);
                n.kind == TokenKind::LBrace
                    || (n.kind == TokenKind::Atom
                        && block.accepts(word)
                        && !Block::Top.accepts(word))
            });
            if opens {
                return self.open_block(block, after).ok();
            }
        }
        None
    }

    /// Parses the statements of a block up to its end. `stmt` is called
    /// with the statement keyword consumed and returns the node, if any.
    /// `header_indent` is the indentation of the block's header line, used
    /// to tell a forgotten `}` from a misplaced statement.
    fn block_body<X>(
        &mut self,
        block: Block,
        parent: Block,
        opening: Opening,
        header_indent: Option<u32>,
        mut stmt: impl FnMut(&mut Self, Token) -> Option<X>,
    ) -> Vec<X> {
        use TokenKind::*;
        let mut out = Vec::new();
        loop {
            if opening == Opening::File && self.pos >= self.stop {
                break;
            }
            let t = self.peek();
            let before = self.pos;
            match t.kind {
                Newline | Semi => {
                    self.bump();
                }
                RBrace if opening == Opening::File => self.unmatched(
                    RBrace,
                    "closes nothing",
                    "remove it, or look above for a block closed twice",
                ),
                RBrace => {
                    self.bump();
                    break;
                }
                Eof => {
                    if let Opening::Brace(open) = opening {
                        self.unclosed(open, block, None);
                    }
                    break;
                }
                Atom => {
                    let word = self.text_of(t);
                    if block.accepts(word) {
                        self.bump();
                        if let Some(x) = stmt(self, t) {
                            out.push(x);
                        }
                    } else if self.ends_block_here(block, parent, word, opening, header_indent) {
                        if let Opening::Brace(open) = opening {
                            self.unclosed(open, block, Some(t));
                        }
                        break;
                    } else {
                        self.wrong_statement(block, t);
                        self.recover();
                    }
                }
                RBracket => self.unmatched(
                    RBracket,
                    "closes no list",
                    "remove it, or look for the `[` it should close",
                ),
                _ => {
                    let message = format!("expected a statement, found {}", self.found(t));
                    self.syntax_at(
                        t,
                        message,
                        "expected a statement here",
                        Some(block.accepts_sentence()),
                    );
                    self.recover();
                }
            }
            // Every turn consumes a token; this guards the invariant.
            if self.pos == before && self.kind() != Eof && !matches!(self.kind(), RBrace) {
                self.bump();
            }
        }
        // A block of thousands of rules or routes would otherwise keep up
        // to as much room again unused for as long as the tree lives.
        out.shrink_to_fit();
        out
    }

    /// Reports a closer with no opener. A run of them is one finding, so a
    /// file of a hundred thousand `}` gives one diagnostic, not a flood.
    fn unmatched(&mut self, kind: TokenKind, closes: &str, help: &str) {
        let first = self.bump();
        let mut count = 1usize;
        while self.kind() == kind {
            self.bump();
            count += 1;
        }
        let shown = self.text_of(first);
        let (message, label) = if count == 1 {
            (
                format!("unmatched `{shown}`"),
                format!("this `{shown}` {closes}"),
            )
        } else {
            (
                format!("{count} unmatched `{shown}`"),
                format!("these `{shown}` {}", closes.replacen("closes", "close", 1)),
            )
        };
        let span = self.span_from(first.span);
        self.diags
            .push(syntax_error(span, message, label, Some(help.into())));
    }

    /// Whether `word`, a statement of an enclosing block, means this block's
    /// `}` was forgotten. It does when the word stands at the start of a
    /// line indented no deeper than the block's header: a misplaced
    /// statement is usually indented like its neighbours, a forgotten `}`
    /// leaves the next statement at the outer level.
    fn ends_block_here(
        &self,
        block: Block,
        parent: Block,
        word: &str,
        opening: Opening,
        header_indent: Option<u32>,
    ) -> bool {
        if block == Block::Top {
            return false;
        }
        let outer = parent.accepts(word) || (parent != Block::Top && Block::Top.accepts(word));
        if !outer {
            return false;
        }
        if opening == Opening::Implicit {
            return true;
        }
        match self.line_indent(self.pos) {
            Some(indent) => indent <= header_indent.unwrap_or(u32::MAX),
            None => false,
        }
    }

    fn unclosed(&mut self, open: Span, block: Block, before: Option<Token>) {
        let mut d = syntax_error(
            open,
            "this `{` is never closed",
            format!("the {} block starts here", block.keyword()),
            Some(format!(
                "add a `}}` where the {} block ends",
                block.keyword()
            )),
        );
        if let Some(t) = before {
            d = d.with_label(t.span, "expected `}` before this statement");
        }
        self.diags.push(d);
    }

    /// A statement keyword this block does not accept.
    fn wrong_statement(&mut self, block: Block, t: Token) {
        let word = self.text_of(t);
        let looks_like_word = word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
        if !looks_like_word {
            let message = format!("expected a statement, found {}", self.found(t));
            self.syntax_at(
                t,
                message,
                "expected a statement keyword here",
                Some(block.accepts_sentence()),
            );
            return;
        }
        if is_statement_keyword(word) {
            let owners: Vec<String> = super::keywords::ALL_BLOCKS
                .iter()
                .filter(|b| b.accepts(word))
                .map(|b| b.noun().to_string())
                .collect();
            let message = match block {
                Block::Top => format!("`{word}` is not a top-level statement"),
                _ => format!("`{word}` is not a statement of {}", block.noun()),
            };
            let help = match block.synonym_of(word) {
                Some(syn) => format!(
                    "in {} write `{syn}`: `{word}` belongs in {}; {}",
                    block.noun(),
                    super::keywords::join_words(owners, "or"),
                    block.accepts_sentence()
                ),
                None => {
                    let mut help = format!(
                        "`{word}` belongs in {}; {}",
                        super::keywords::join_words(owners, "or"),
                        block.accepts_sentence()
                    );
                    if block == Block::RouteVpn && matches!(word, "local" | "remote") {
                        help.push_str(
                            "; a vpn without a mode is route-based: write `policy-based` after its two sites",
                        );
                    }
                    help
                }
            };
            self.syntax_at(t, message, "not allowed here", Some(help));
        } else {
            let help = match suggest(word, block.keywords()) {
                Some(s) => format!("did you mean `{s}`? {}", block.accepts_sentence()),
                None => block.accepts_sentence(),
            };
            let message = format!("unknown statement `{}`", shorten(word));
            self.syntax_at(t, message, "unknown statement", Some(help));
        }
    }
}
