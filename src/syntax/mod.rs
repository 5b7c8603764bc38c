//! Text to syntax tree.
//!
//! **Architecture invariant:** parsing never fails and never panics. It
//! returns a tree and every error it found; a statement with an error still
//! declares its name when the name was read.
//!
//! The modules, in the order text flows through them:
//! - `lexer` (nom): text to tokens with byte spans; comments set aside;
//! - `parser`: recursive descent over the tokens, one function per
//!   statement form, recovering at statement and block boundaries;
//! - `literal` (nom): an atom read as an address, prefix, range, service
//!   literal or number, once the parser's position says which it must be;
//! - `keywords`: which statements each block accepts, for dispatch and for
//!   "`segment` is not a statement of a vpc block" messages.

pub mod ast;
mod keywords;
mod lexer;
mod literal;
mod parser;
#[cfg(test)]
mod tests;

/// Every statement keyword of every block; the grammar must name each one.
pub use keywords::STATEMENT_KEYWORDS;

use crate::diagnostic::Diagnostic;

/// Tokens and comment spans, for the formatter, which works on the token
/// stream rather than the tree so that it keeps every comment and never
/// needs to know a statement's form.
pub(crate) use lexer::{lex, Token, TokenKind};

/// The result of parsing one file.
#[derive(Debug)]
pub struct Parse {
    pub tree: ast::Tree,
    /// NP001, NP004 and NP005 findings, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses a whole `.np` text.
pub fn parse(text: &str) -> Parse {
    parser::parse(text)
}
