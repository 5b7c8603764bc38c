//! The reachability engine: exhaustive analysis over packet sets.
//!
//! See `docs/engine.md` for the design and `docs/forwarding.md` for the
//! behaviour it implements.

pub mod classes;
pub mod expect;
pub mod matrix;
pub mod packet_set;
pub mod space;
pub mod view;
pub mod walk;

mod nlb;
mod tgw;

use crate::model::Model;
use expect::Verdict;
use rayon::prelude::*;

/// Decides every expectation of a model, in parallel; the verdicts are in
/// the model's order whatever the thread count.
pub fn evaluate(model: &Model) -> Vec<Verdict> {
    let space = space::Space::new(model);
    model
        .expectations
        .par_iter()
        .map(|e| expect::evaluate(&space, e))
        .collect()
}
