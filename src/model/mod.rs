//! The resolved network model (being written).
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::{self, ExpectKind};

#[derive(Debug, Default)]
pub struct Model {
    pub expectations: Vec<Expectation>,
}

#[derive(Debug)]
pub struct Expectation {
    pub kind: ExpectKind,
    pub span: Span,
}

pub struct Lowered {
    pub model: Model,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn lower(tree: &ast::Tree) -> Lowered {
    let mut model = Model::default();
    for item in &tree.items {
        if let ast::Item::Expect(e) = item {
            model.expectations.push(Expectation { kind: e.kind.value, span: e.span });
        }
    }
    Lowered { model, diagnostics: Vec::new() }
}
