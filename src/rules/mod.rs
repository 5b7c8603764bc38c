//! One module per rule. Front-end rules (NP001-NP006) are constructors that
//! the parser and the resolver call; model rules are passes over the model.

pub mod np001_syntax_error;
pub mod np004_invalid_address;
pub mod np005_prefix_host_bits_set;

use crate::diagnostic::Diagnostic;
use crate::model::Model;

/// Runs every model rule and returns their findings (unsorted).
pub fn run(_model: &Model) -> Vec<Diagnostic> {
    Vec::new()
}
