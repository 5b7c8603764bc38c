//! One module per rule.
//!
//! Front-end rules are constructors that the parser (NP001, NP004, NP005) and
//! the resolver (NP002, NP003, NP006, in `model::scope` and `model::lower`)
//! call. Model rules are passes over the resolved model, listed in
//! [`MODEL_RULES`] and run in parallel; each returns its findings and never
//! sees another rule's.

pub mod np001_syntax_error;
pub mod np002_undefined_reference;
pub mod np003_duplicate_definition;
pub mod np004_invalid_address;
pub mod np005_prefix_host_bits_set;
pub mod np006_wrong_kind_reference;
pub mod np101_address_outside_subnet;
pub mod np102_subnet_outside_site;
pub mod np103_overlapping_subnets;
pub mod np104_duplicate_address;
pub mod np106_reserved_address;
pub mod np301_shadowed_rule;
pub mod np302_permissive_rule;
pub mod np306_unused_filter;
pub mod np501_endpoint_blocks_client;
pub mod np502_client_address_not_preserved;
pub mod np503_endpoint_auto_accept;
pub mod np504_nlb_listener_target_mismatch;
pub mod np901_expectation_unreachable;
pub mod np902_expectation_reachable;
pub mod np903_expectation_wrong_egress;

use crate::diagnostic::Diagnostic;
use crate::model::Model;
use crate::registry::Code;
use rayon::prelude::*;

/// A pass over the model that appends its findings to the vector it is given.
pub type ModelRule = fn(&Model, &mut Vec<Diagnostic>);

/// Every rule that runs on the resolved model.
pub static MODEL_RULES: &[(Code, ModelRule)] = &[
    (Code::NP101, np101_address_outside_subnet::check),
    (Code::NP102, np102_subnet_outside_site::check),
    (Code::NP103, np103_overlapping_subnets::check),
    (Code::NP104, np104_duplicate_address::check),
    (Code::NP106, np106_reserved_address::check),
    (Code::NP503, np503_endpoint_auto_accept::check),
];

/// A behaviour rule: a pass that asks the reachability engine how the
/// network really behaves (what the internet reaches, which replies come
/// back). It gets the packet space the expectations use.
pub type EngineRule = fn(&crate::engine::space::Space, &mut Vec<Diagnostic>);

/// Every behaviour rule. They run only on designs without front-end errors,
/// like the expectations.
pub static ENGINE_RULES: &[(Code, EngineRule)] = &[
    (Code::NP301, np301_shadowed_rule::check),
    (Code::NP302, np302_permissive_rule::check),
    (Code::NP306, np306_unused_filter::check_space),
    (Code::NP501, np501_endpoint_blocks_client::check),
    (Code::NP502, np502_client_address_not_preserved::check),
    (Code::NP504, np504_nlb_listener_target_mismatch::check),
];

/// Runs every behaviour rule, in parallel; findings unsorted.
pub fn run_engine(space: &crate::engine::space::Space) -> Vec<Diagnostic> {
    ENGINE_RULES
        .par_iter()
        .flat_map_iter(|(_, rule)| {
            let mut out = Vec::new();
            rule(space, &mut out);
            out
        })
        .collect()
}

/// Runs every model rule, in parallel, and returns their findings unsorted;
/// the caller sorts, so the thread count never changes the output.
pub fn run(model: &Model) -> Vec<Diagnostic> {
    MODEL_RULES
        .par_iter()
        .flat_map_iter(|(_, rule)| {
            let mut out = Vec::new();
            rule(model, &mut out);
            out
        })
        .collect()
}

/// Shared helpers for rule messages.
pub(crate) mod util {
    use crate::model::SubnetId;
    use crate::model::{Model, SubnetKind};

    /// "segment" or "subnet", as the language calls it for this kind.
    pub fn subnet_noun(model: &Model, id: SubnetId) -> &'static str {
        match model.subnet(id).kind {
            SubnetKind::NsxSegment | SubnetKind::OnpremSegment => "segment",
            SubnetKind::VpcSubnet | SubnetKind::VnetSubnet => "subnet",
        }
    }
}
