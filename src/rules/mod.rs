//! One module per rule.
//!
//! Front-end rules are constructors that the parser (NP001, NP004, NP005) and
//! the resolver (NP002, NP003, NP006, in `model::scope` and `model::lower`)
//! call; NP007's are called by `crate::suppress`, after every other rule. Model rules are passes over the resolved model, listed in
//! [`MODEL_RULES`] and run in parallel; each returns its findings and never
//! sees another rule's.

pub mod np001_syntax_error;
pub mod np002_undefined_reference;
pub mod np003_duplicate_definition;
pub mod np004_invalid_address;
pub mod np005_prefix_host_bits_set;
pub mod np006_wrong_kind_reference;
pub mod np007_unused_suppression;
pub mod np101_address_outside_subnet;
pub mod np102_subnet_outside_site;
pub mod np103_overlapping_subnets;
pub mod np104_duplicate_address;
pub mod np105_overlapping_connected_sites;
pub mod np106_reserved_address;
pub mod np201_firewall_matches_public_address;
pub mod np202_nat_without_public_ip;
pub mod np203_asymmetric_nat_default_route;
pub mod np204_nat_on_extended_segment;
pub mod np205_unused_public_ip;
pub mod np206_public_subnet_without_public_address;
pub mod np207_nat_gateway_misplaced;
pub mod np208_nat_instance_source_dest_check;
pub mod np301_shadowed_rule;
pub mod np302_permissive_rule;
pub mod np303_exposed_admin_port;
pub mod np304_reply_blocked_by_acl;
pub mod np305_one_way_gateway_rules;
pub mod np306_unused_filter;
pub mod np307_mgw_rule_refused;
pub mod np401_egress_via_onprem;
pub mod np402_connected_vpc_default_sg;
pub mod np403_transitive_peering;
pub mod np404_blackhole_route;
pub mod np405_missing_return_route;
pub mod np501_endpoint_blocks_client;
pub mod np502_client_address_not_preserved;
pub mod np503_endpoint_auto_accept;
pub mod np504_nlb_listener_target_mismatch;
pub mod np601_gateway_shares_subnet;
pub mod np602_gateway_needs_external_ip;
pub mod np603_gateway_host_shared;
pub mod np604_forwarding_overlap;
pub mod np901_expectation_unreachable;
pub mod np902_expectation_reachable;
pub mod np903_expectation_wrong_egress;
pub mod np904_vacuous_expectation;
pub mod np905_undecided_expectation;

mod nat;

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
    (Code::NP105, np105_overlapping_connected_sites::check),
    (Code::NP106, np106_reserved_address::check),
    (Code::NP201, np201_firewall_matches_public_address::check),
    (Code::NP202, np202_nat_without_public_ip::check),
    (Code::NP203, np203_asymmetric_nat_default_route::check),
    (Code::NP204, np204_nat_on_extended_segment::check),
    (Code::NP205, np205_unused_public_ip::check),
    (
        Code::NP206,
        np206_public_subnet_without_public_address::check,
    ),
    (Code::NP207, np207_nat_gateway_misplaced::check),
    (Code::NP208, np208_nat_instance_source_dest_check::check),
    (Code::NP403, np403_transitive_peering::check),
    (Code::NP404, np404_blackhole_route::check),
    (Code::NP601, np601_gateway_shares_subnet::check),
    (Code::NP602, np602_gateway_needs_external_ip::check),
    (Code::NP603, np603_gateway_host_shared::check),
    (Code::NP604, np604_forwarding_overlap::check),
    (Code::NP306, np306_unused_filter::check),
    (Code::NP307, np307_mgw_rule_refused::check),
    (Code::NP503, np503_endpoint_auto_accept::check),
];

/// Rules that report something nothing uses. A statement the front end
/// dropped (a syntax or address error) may be the one that used it, so on a
/// file with front-end errors their findings would be guesses: they are left
/// out there.
pub static NEED_COMPLETE_MODEL: &[Code] = &[Code::NP205, Code::NP306];

/// A behaviour rule: a pass that asks the reachability engine how the
/// network really behaves (what the internet reaches, which replies come
/// back). It gets the packet space the expectations use.
pub type EngineRule = fn(&crate::engine::space::Space, &mut Vec<Diagnostic>);

/// Every behaviour rule. They run only on designs without front-end errors,
/// like the expectations.
pub static ENGINE_RULES: &[(Code, EngineRule)] = &[
    (Code::NP303, np303_exposed_admin_port::check),
    (Code::NP304, np304_reply_blocked_by_acl::check),
    (Code::NP305, np305_one_way_gateway_rules::check),
    (Code::NP401, np401_egress_via_onprem::check),
    (Code::NP402, np402_connected_vpc_default_sg::check),
    (Code::NP301, np301_shadowed_rule::check),
    (Code::NP302, np302_permissive_rule::check),
    (Code::NP501, np501_endpoint_blocks_client::check),
    (Code::NP502, np502_client_address_not_preserved::check),
    (Code::NP504, np504_nlb_listener_target_mismatch::check),
    (Code::NP405, np405_missing_return_route::check),
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

    /// The oracle's trace of one flow from the engine's witness packet: the
    /// hop-by-hop elements (with their lines) that behaviour rules label.
    /// One oracle serves a rule's findings, so that what it learns about
    /// the model (the indexes of long network ACLs) is learnt once.
    pub fn trace_witness(
        oracle: &crate::sim::Oracle,
        p: &crate::engine::packet_set::Packet,
    ) -> crate::sim::FlowResult {
        oracle.flow(
            crate::sim::Start::Address(p.src),
            crate::sim::Packet {
                src: p.src,
                dst: p.dst,
                proto: p.proto,
                sport: p.sport,
                dport: p.dport,
            },
        )
    }

    /// The oracle's hops as a finding's path, for emitters that show it
    /// step by step (SARIF code flows).
    pub fn sim_path<'a>(
        hops: impl IntoIterator<Item = &'a crate::sim::Hop>,
    ) -> Vec<crate::diagnostic::PathStep> {
        hops.into_iter()
            .map(|h| crate::diagnostic::PathStep {
                node: h.node.clone(),
                decision: h.decision.clone(),
                span: h.span,
            })
            .collect()
    }

    /// The first `shown` names, quoted and comma-separated, then "and N
    /// more" for the rest: `` `a`, `b`, `c` and 2 more ``.
    pub fn some_names<'a>(names: impl ExactSizeIterator<Item = &'a str>, shown: usize) -> String {
        let total = names.len();
        let listed: Vec<String> = names.take(shown).map(|n| format!("`{n}`")).collect();
        match total.saturating_sub(shown) {
            0 => listed.join(", "),
            n => format!("{} and {n} more", listed.join(", ")),
        }
    }

    /// "segment" or "subnet", as the language calls it for this kind.
    pub fn subnet_noun(model: &Model, id: SubnetId) -> &'static str {
        match model.subnet(id).kind {
            SubnetKind::NsxSegment | SubnetKind::OnpremSegment => "segment",
            SubnetKind::VpcSubnet | SubnetKind::VnetSubnet => "subnet",
        }
    }
}
