//! The parts statements are made of: names, literals in their positions,
//! address and service expressions, lists and strings.
//!
//! Descriptions passed as `what` may contain `{}`, which is replaced by the
//! statement's noun only when a message is actually built, so the common,
//! error-free path allocates nothing for messages.

use super::{shorten, Failed, PResult, Parser};
use crate::rules::np004_invalid_address::invalid_literal;
use crate::rules::np005_prefix_host_bits_set::host_bits_set;
use crate::span::{Span, Spanned};
use crate::syntax::ast::{AddrExpr, AddrItem, Name, Proto, ServiceExpr, ServiceItem};
use crate::syntax::keywords::{is_statement_keyword, join_words, suggest};
use crate::syntax::lexer::{Token, TokenKind};
use crate::syntax::literal::{self, AddrLit, LitError, ServiceLit};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr};

/// An atom is read as a literal when it starts with a digit or contains
/// `:` (language notes, "Atoms").
pub(super) fn is_literal(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit()) || text.contains(':')
}

enum NameShape {
    Valid,
    Literal,
    BadStart,
    BadChar(char),
}

fn name_shape(text: &str) -> NameShape {
    if is_literal(text) {
        return NameShape::Literal;
    }
    if !text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return NameShape::BadStart;
    }
    match text.chars().find(|&c| c == '/' || c == ':') {
        Some(c) => NameShape::BadChar(c),
        None => NameShape::Valid,
    }
}

/// Words that may follow an address expression in some statement; `sg`
/// followed by one of them is a name, not an `sg NAME` item.
const AFTER_ADDRESS: &[&str] = &[
    "to",
    "service",
    "applied-to",
    "log",
    "description",
    "at",
    "via",
    "firewall-match",
];

const NAME_HELP: &str = "a name is a letter or `_`, then letters, digits, `_`, `-` and `.`";

fn placeholder_addr() -> IpAddr {
    IpAddr::V4(Ipv4Addr::UNSPECIFIED)
}

impl<'t> Parser<'t> {
    /// Records an NP004 for the literal in token `t`. The statement goes on
    /// (its syntax is still checked) but will be kept as broken.
    fn lit_error(&mut self, t: Token, e: LitError) {
        self.poisoned = true;
        let start = t.span.start as usize;
        let span = match e.part {
            Some((s, end)) if end <= t.span.len() => Span::new(start + s, start + end),
            _ => t.span,
        };
        self.diags
            .push(invalid_literal(span, e.message, e.label, e.help));
    }

    /// A literal of the wrong sort for its position (a prefix where an
    /// address is needed): NP004, as the grammar's conformance notes say.
    fn wrong_literal(&mut self, t: Token, what: &str, label: &str, help: String) {
        let message = format!(
            "expected {}, found `{}`",
            self.what(what),
            shorten(self.text_of(t))
        );
        self.poisoned = true;
        self.diags
            .push(invalid_literal(t.span, message, label, Some(help)));
    }

    /// A name: a letter or `_`, then letters, digits, `_ - .`.
    pub(super) fn name(&mut self, what: &str) -> PResult<Name> {
        let t = self.peek();
        if t.kind == TokenKind::Atom {
            let text = self.text_of(t);
            let problem = match name_shape(text) {
                NameShape::Valid => {
                    self.bump();
                    return Ok(Name {
                        text: text.into(),
                        span: t.span,
                    });
                }
                NameShape::Literal => None,
                NameShape::BadStart => Some("a name starts with a letter or `_`".to_string()),
                NameShape::BadChar(c) => Some(format!("a name cannot contain `{c}`")),
            };
            if let Some(label) = problem {
                self.bump();
                let message = format!("`{}` is not a valid name", shorten(text));
                return Err(self.syntax_at(t, message, label, Some(NAME_HELP.into())));
            }
        }
        Err(self.expected(what, "expected a name here"))
    }

    /// A single address; a prefix or range here is NP004.
    pub(super) fn addr(&mut self, what: &str) -> PResult<Spanned<IpAddr>> {
        let t = self.peek();
        if t.kind != TokenKind::Atom || !is_literal(self.text_of(t)) {
            return Err(self.expected(what, "expected an address here"));
        }
        self.bump();
        let text = self.text_of(t);
        match literal::addr_lit(text) {
            Ok(AddrLit::Addr(a)) => return Ok(Spanned::new(a, t.span)),
            Ok(AddrLit::Prefix(net)) => self.wrong_literal(
                t,
                what,
                "a prefix, not a single address",
                format!("write the address without a length: `{}`", net.addr()),
            ),
            Ok(AddrLit::Range(lo, _)) => self.wrong_literal(
                t,
                what,
                "a range, not a single address",
                format!("write one address, such as `{lo}`"),
            ),
            Err(e) => self.lit_error(t, e),
        }
        Ok(Spanned::new(placeholder_addr(), t.span))
    }

    /// A prefix; `None` when the literal was invalid (already reported).
    /// Host bits set are reported (NP005) and cleared, and parsing goes on
    /// with the network address.
    pub(super) fn prefix_opt(&mut self, what: &str) -> PResult<Option<Spanned<IpNet>>> {
        let t = self.peek();
        if t.kind != TokenKind::Atom || !is_literal(self.text_of(t)) {
            return Err(self.expected(what, "expected a prefix here"));
        }
        self.bump();
        let text = self.text_of(t);
        match literal::addr_lit(text) {
            Ok(AddrLit::Prefix(net)) => return Ok(Some(self.masked(t, net))),
            Ok(AddrLit::Addr(a)) => self.wrong_literal(
                t,
                what,
                "an address, not a prefix",
                format!(
                    "a prefix has a length, as in `{a}/{}`; a single address is `{a}/{}`",
                    if a.is_ipv4() { 24 } else { 64 },
                    if a.is_ipv4() { 32 } else { 128 }
                ),
            ),
            Ok(AddrLit::Range(..)) => self.wrong_literal(
                t,
                what,
                "a range, not a prefix",
                "a prefix is `ADDRESS/LENGTH`, such as `10.0.0.0/24`".into(),
            ),
            Err(e) => self.lit_error(t, e),
        }
        Ok(None)
    }

    /// A prefix where the statement needs one: an invalid literal leaves a
    /// placeholder, which is never seen because the statement is broken.
    pub(super) fn prefix(&mut self, what: &str) -> PResult<Spanned<IpNet>> {
        let t = self.peek();
        Ok(self
            .prefix_opt(what)?
            .unwrap_or_else(|| Spanned::new(IpNet::from(placeholder_addr()), t.span)))
    }

    fn masked(&mut self, t: Token, net: IpNet) -> Spanned<IpNet> {
        let masked = net.trunc();
        if masked != net {
            self.diags
                .push(host_bits_set(t.span, self.text_of(t), masked));
        }
        Spanned::new(masked, t.span)
    }

    /// One item of an address expression; `None` for an invalid literal.
    fn addr_item(&mut self, what: &str, sg_ok: bool) -> PResult<Option<AddrItem>> {
        let t = self.peek();
        if t.kind != TokenKind::Atom {
            return Err(self.expected(what, "expected an address or a name here"));
        }
        let text = self.text_of(t);
        let next = self.nth(1);
        let next_is_name =
            next.kind == TokenKind::Atom && !AFTER_ADDRESS.contains(&self.text_of(next));
        match text {
            "any" => Ok(Some(AddrItem::Any(self.bump().span))),
            "internet" => Ok(Some(AddrItem::Internet(self.bump().span))),
            "sg" if sg_ok && next.kind == TokenKind::Atom => {
                self.bump();
                let name = self.name("a security group's name after `sg`")?;
                Ok(Some(AddrItem::Sg(name, self.span_from(t.span))))
            }
            "sg" if next_is_name => {
                self.bump();
                self.bump();
                let message = "`sg NAME` is only allowed in security-group rules".to_string();
                Err(self.syntax_at(
                    t,
                    message,
                    "not in a security-group rule",
                    Some("elsewhere name the members themselves, or a group of them".into()),
                ))
            }
            _ if is_literal(text) => {
                self.bump();
                match literal::addr_lit(text) {
                    Ok(AddrLit::Addr(a)) => Ok(Some(AddrItem::Addr(Spanned::new(a, t.span)))),
                    Ok(AddrLit::Prefix(net)) => Ok(Some(AddrItem::Prefix(self.masked(t, net)))),
                    Ok(AddrLit::Range(lo, hi)) => Ok(Some(AddrItem::Range {
                        lo,
                        hi,
                        span: t.span,
                    })),
                    Err(e) => {
                        self.lit_error(t, e);
                        Ok(None)
                    }
                }
            }
            _ => Ok(Some(AddrItem::Name(self.name(what)?))),
        }
    }

    /// An address expression: one item, or a `[...]` list of items.
    pub(super) fn addr_expr(&mut self, what: &str, sg_ok: bool) -> PResult<AddrExpr> {
        if self.kind() == TokenKind::LBracket {
            let (items, span) = self.list("an address or a name", |p| {
                p.addr_item("an address or a name", sg_ok)
            })?;
            return Ok(AddrExpr { items, span });
        }
        let start = self.peek().span;
        let item = self.addr_item(what, sg_ok)?;
        Ok(AddrExpr {
            items: item.into_iter().collect(),
            span: self.span_from(start),
        })
    }

    /// A single address item (the `at` clause): no list.
    pub(super) fn addr_single(&mut self, what: &str) -> PResult<AddrExpr> {
        if self.kind() == TokenKind::LBracket {
            return Err(self.expected(what, "expected one address or name here"));
        }
        self.addr_expr(what, false)
    }

    /// One item of a service expression; `None` for an invalid literal.
    fn service_item(&mut self, what: &str) -> PResult<Option<ServiceItem>> {
        let t = self.peek();
        if t.kind != TokenKind::Atom {
            return Err(self.expected(what, "expected a service here"));
        }
        let text = self.text_of(t);
        let proto = match text {
            "any" => return Ok(Some(ServiceItem::Any(self.bump().span))),
            "tcp" => Some(Proto::Tcp),
            "udp" => Some(Proto::Udp),
            "icmp" => Some(Proto::Icmp),
            "icmpv6" => Some(Proto::Icmpv6),
            _ => None,
        };
        if let Some(p) = proto {
            return Ok(Some(ServiceItem::Proto(Spanned::new(p, self.bump().span))));
        }
        if is_literal(text) || text.contains('/') {
            self.bump();
            return match literal::service_lit(text) {
                Ok(ServiceLit::Proto(p)) => Ok(Some(ServiceItem::Proto(Spanned::new(p, t.span)))),
                Ok(ServiceLit::Ports(proto, lo, hi)) => Ok(Some(ServiceItem::Ports {
                    proto,
                    lo,
                    hi,
                    span: t.span,
                })),
                Err(e) => {
                    self.lit_error(t, e);
                    Ok(None)
                }
            };
        }
        Ok(Some(ServiceItem::Named(self.name(what)?)))
    }

    /// A service expression: one service, or a `[...]` list of them.
    pub(super) fn service_expr(&mut self, what: &str) -> PResult<ServiceExpr> {
        if self.kind() == TokenKind::LBracket {
            let (items, span) = self.list("a service", |p| p.service_item("a service"))?;
            return Ok(ServiceExpr { items, span });
        }
        let start = self.peek().span;
        let item = self.service_item(what)?;
        Ok(ServiceExpr {
            items: item.into_iter().collect(),
            span: self.span_from(start),
        })
    }

    /// A single service, where the grammar takes no list.
    pub(super) fn service_single(&mut self, what: &str) -> PResult<ServiceExpr> {
        if self.kind() == TokenKind::LBracket {
            return Err(self.expected(what, "expected a single service here"));
        }
        self.service_expr(what)
    }

    /// A reference or a bracketed list of them (`sg`, `applied-to`).
    pub(super) fn name_set(&mut self, what: &str) -> PResult<Vec<Name>> {
        if self.kind() == TokenKind::LBracket {
            return Ok(self.list("a name", |p| p.name("a name").map(Some))?.0);
        }
        Ok(vec![self.name(what)?])
    }

    /// A bracketed list of references, brackets required (nlb subnets,
    /// listener targets).
    pub(super) fn name_list(&mut self, what: &str) -> PResult<Vec<Name>> {
        if self.kind() != TokenKind::LBracket {
            let t = self.peek();
            let message = format!("expected {}, found {}", self.what(what), self.found(t));
            let help = format!(
                "this is always a bracketed list, such as `[name]`; the form is `{}`",
                self.form
            );
            return Err(self.syntax_at(t, message, "expected `[` here", Some(help)));
        }
        Ok(self.list("a name", |p| p.name("a name").map(Some))?.0)
    }

    /// A bare comma-separated sequence on one line, or a bracketed list
    /// (site prefixes, `advertise`, `attach`, `extend`).
    pub(super) fn seq<T>(
        &mut self,
        item_what: &str,
        first_what: &str,
        mut item: impl FnMut(&mut Self, &str) -> PResult<Option<T>>,
    ) -> PResult<Vec<T>> {
        // Descriptions are only read when a message is built, so the
        // after-comma one is chosen from constants rather than formatted.
        let after_comma = match item_what {
            "a prefix" => "a prefix after `,`",
            _ => "a name after `,`",
        };
        if self.kind() == TokenKind::LBracket {
            return Ok(self.list(item_what, |p| item(p, item_what))?.0);
        }
        let mut out = Vec::new();
        out.extend(item(self, first_what)?);
        while self.kind() == TokenKind::Comma {
            self.bump();
            out.extend(item(self, after_comma)?);
        }
        Ok(out)
    }

    /// A `[...]` list: items separated by commas, an optional trailing
    /// comma, newlines ignored. `item` returns `None` for an item it
    /// reported as invalid. Errors inside the list are reported once; the
    /// list is then skipped to its `]` or, when it is never closed, to the
    /// line where the next statement plainly starts.
    pub(super) fn list<T>(
        &mut self,
        item_what: &str,
        mut item: impl FnMut(&mut Self) -> PResult<Option<T>>,
    ) -> PResult<(Vec<T>, Span)> {
        use TokenKind::*;
        let open = self.bump();
        let mut items = Vec::new();
        let mut failed = false;
        let mut want_item = true;
        loop {
            let t = self.peek();
            match t.kind {
                Newline => {
                    self.bump();
                }
                RBracket => {
                    self.bump();
                    break;
                }
                Comma if !want_item => {
                    self.bump();
                    want_item = true;
                }
                Atom if want_item && !self.starts_statement_line(t) => {
                    let before = self.pos;
                    match item(self) {
                        Ok(x) => items.extend(x),
                        Err(Failed) => {
                            failed = true;
                            if self.pos == before {
                                self.bump();
                            }
                        }
                    }
                    want_item = false;
                }
                LBracket => {
                    if !failed {
                        self.syntax_at(
                            t,
                            "lists do not nest".into(),
                            "a list inside a list",
                            Some("write the inner items directly in the outer list".into()),
                        );
                    }
                    failed = true;
                    self.skip_brackets();
                    want_item = false;
                }
                _ => {
                    self.list_broken(open, t, item_what, want_item, failed);
                    return Err(Failed);
                }
            }
        }
        if failed {
            return Err(Failed);
        }
        // Lists are short (one to a few items) and a growing vector keeps
        // room for four; in a design with a million rules that slack is
        // hundreds of megabytes.
        items.shrink_to_fit();
        Ok((
            items,
            Span::new(open.span.start as usize, self.prev_end as usize),
        ))
    }

    /// Whether `t` plainly starts a statement on a new line, which in an
    /// open list means the list's `]` was forgotten: a statement keyword,
    /// first on its line, followed by more of a statement. A keyword alone
    /// (`vpn` in a multi-line `applied-to` list) is still an item.
    fn starts_statement_line(&self, t: Token) -> bool {
        use TokenKind::*;
        self.after_newline()
            && matches!(self.nth(1).kind, Atom | Str | LBrace)
            && is_statement_keyword(self.text_of(t))
    }

    /// Whether the current token is the first on its line (after another).
    fn after_newline(&self) -> bool {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .is_some_and(|p| p.kind == TokenKind::Newline)
    }

    /// Token `t` cannot continue the list opened at `open`. Either the list
    /// is never closed (report at the `[`, resume at the line where the
    /// next statement starts) or something is missing between items and a
    /// `]` follows on the line (report at `t`, resume after the `]`).
    fn list_broken(
        &mut self,
        open: Token,
        t: Token,
        item_what: &str,
        want_item: bool,
        failed: bool,
    ) {
        use TokenKind::*;
        let line_start = self.after_newline();
        let close = match t.kind {
            Eof | RBrace | LBrace | Semi => None,
            Atom if self.starts_statement_line(t) => None,
            _ => self.find_bracket_on_line(),
        };
        match close {
            Some(close) => {
                if !failed {
                    let message = if want_item {
                        format!("expected {item_what} in the list, found {}", self.found(t))
                    } else {
                        format!(
                            "expected `,` or `]` after a list item, found {}",
                            self.found(t)
                        )
                    };
                    let label = if want_item {
                        "expected an item here"
                    } else {
                        "expected `,` here"
                    };
                    self.syntax_at(
                        t,
                        message,
                        label,
                        Some("list items are separated by `,`".into()),
                    );
                }
                self.pos = close;
                self.bump();
            }
            None => {
                if !failed && t.kind != Error {
                    let at = self.point(t);
                    let d = crate::rules::np001_syntax_error::syntax_error(
                        open.span,
                        "this `[` is never closed",
                        "this list is never closed",
                        Some("close the list with `]`".into()),
                    )
                    .with_label(at, "expected `,` or `]` before this");
                    self.diags.push(d);
                }
                // Resume at the newline before `t`, so the statement that
                // starts on `t`'s line is parsed as a statement.
                if line_start {
                    self.pos -= 1;
                }
            }
        }
    }

    /// A `]` ahead on the current line, before anything a list cannot hold.
    fn find_bracket_on_line(&self) -> Option<usize> {
        use TokenKind::*;
        let mut i = self.pos;
        while let Some(t) = self.toks.get(i) {
            match t.kind {
                RBracket => return Some(i),
                Newline | Eof | LBrace | RBrace | Semi | LBracket => return None,
                _ => i += 1,
            }
        }
        None
    }

    /// A `"..."` string, unescaped.
    pub(super) fn string(&mut self, what: &str) -> PResult<Spanned<String>> {
        let t = self.peek();
        if t.kind != TokenKind::Str {
            return Err(self.expected(what, "expected a string here"));
        }
        self.bump();
        let raw = self.text_of(t);
        let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
        let mut value = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some(e @ ('"' | '\\')) => value.push(e),
                    // Unknown escapes were reported by the lexer; keep them.
                    Some(other) => {
                        value.push('\\');
                        value.push(other);
                    }
                    None => value.push('\\'),
                }
            } else {
                value.push(c);
            }
        }
        Ok(Spanned::new(value, t.span))
    }

    /// One of a fixed set of words, as a value.
    pub(super) fn choice<T: Copy>(
        &mut self,
        options: &[(&str, T)],
        after: &str,
    ) -> PResult<Spanned<T>> {
        let t = self.peek();
        if t.kind == TokenKind::Atom {
            let text = self.text_of(t);
            if let Some((_, v)) = options.iter().find(|(w, _)| *w == text) {
                self.bump();
                return Ok(Spanned::new(*v, t.span));
            }
        }
        let words: Vec<&str> = options.iter().map(|(w, _)| *w).collect();
        let list = join_words(words.iter().map(|w| format!("`{w}`")), "or");
        let message = format!(
            "expected {list} {}, found {}",
            self.what(after),
            self.found(t)
        );
        let hint = (t.kind == TokenKind::Atom)
            .then(|| suggest(self.text_of(t), &words))
            .flatten();
        let help = match hint {
            Some(s) => format!("did you mean `{s}`? the form is `{}`", self.form),
            None => format!("the form is `{}`", self.form),
        };
        let label = if words.len() == 1 {
            format!("expected {list} here")
        } else {
            format!("expected one of {list} here")
        };
        Err(self.syntax_at(t, message, label, Some(help)))
    }

    /// A decimal number within `lo..=hi`. Out of range, or a literal that
    /// is no number, is NP004 (the statement goes on, broken); something
    /// else entirely is NP001.
    pub(super) fn number(
        &mut self,
        what: &str,
        lo: u64,
        hi: u64,
        noun: &str,
        range_help: &str,
    ) -> PResult<Spanned<u64>> {
        let t = self.peek();
        if t.kind != TokenKind::Atom || !is_literal(self.text_of(t)) {
            return Err(self.expected(what, "expected a number here"));
        }
        self.bump();
        let text = self.text_of(t);
        match literal::decimal(text) {
            Some(n) if (lo..=hi).contains(&n) => Ok(Spanned::new(n, t.span)),
            Some(_) => {
                self.lit_error(
                    t,
                    LitError {
                        message: format!("{noun} {} is out of range", shorten(text)),
                        label: format!("not in {lo}-{hi}"),
                        help: Some(range_help.into()),
                        part: None,
                    },
                );
                Ok(Spanned::new(lo, t.span))
            }
            None => {
                self.lit_error(
                    t,
                    LitError {
                        message: format!("invalid {noun} `{}`", shorten(text)),
                        label: "not a decimal number".into(),
                        help: Some(range_help.into()),
                        part: None,
                    },
                );
                Ok(Spanned::new(lo, t.span))
            }
        }
    }
}
