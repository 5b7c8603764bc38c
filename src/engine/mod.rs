//! The reachability engine: exhaustive analysis over packet sets.
//!
//! See `docs/engine.md` for the design and `docs/forwarding.md` for the
//! behaviour it implements.

pub mod classes;
pub mod expect;
pub mod matrix;
pub mod packet_set;
pub mod services;
pub mod space;
pub mod view;
pub mod walk;
pub mod warm;

mod nlb;

use crate::model::Model;
use expect::Verdict;
use rayon::prelude::*;

/// Decides every expectation of a model, in parallel; the verdicts are in
/// the model's order whatever the thread count.
pub fn evaluate(model: &Model) -> Vec<Verdict> {
    analyze(model).0
}

/// Everything that needs the engine, sharing one packet space (and its
/// per-element caches): the expectations' verdicts, in the model's order,
/// and the findings of the behaviour rules (`rules::ENGINE_RULES`), unsorted.
pub fn analyze(model: &Model) -> (Vec<Verdict>, Vec<crate::diagnostic::Diagnostic>) {
    let space = space::Space::new(model);
    warm::firewall_rule_sets(&space);
    let results = rayon::join(
        || {
            model
                .expectations
                .par_iter()
                .map(|e| expect::evaluate(&space, e))
                .collect()
        },
        || crate::rules::run_engine(&space),
    );
    crate::check::release(space);
    results
}
