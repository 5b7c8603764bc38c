//! Text to syntax tree.
//!
//! **Architecture invariant:** parsing never fails and never panics. It
//! returns a tree and every error it found; a statement with an error still
//! declares its name when the name was read.

pub mod ast;
mod lexer;
mod parser;

use crate::diagnostic::Diagnostic;

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
