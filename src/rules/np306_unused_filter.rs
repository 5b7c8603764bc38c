//! NP306 unused-filter: a security group, network ACL or group that is
//! attached to or used by nothing.
//!
//! A security group is used when an instance or an interface endpoint
//! carries it; a network ACL when a subnet names it; a group when any
//! address expression names it (a firewall or NAT rule, another group, a
//! security-group or ACL rule, a VPN selector, an expectation). A VPC's
//! default security group and default network ACL are never reported: AWS
//! creates them with the VPC and they cannot be deleted, so "unused" asks
//! nothing of the author.

use crate::diagnostic::Diagnostic;
use crate::model::{AddrExpr, AddrTerm, Entity, Model};
use crate::registry::Code;

/// Listed in `NEED_COMPLETE_MODEL`: on a file with front-end errors, a
/// misspelled or wrong-kind reference (NP002, NP006) would make the group it
/// meant look unused, a second finding for one mistake.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let mut sg_used = vec![false; model.security_groups.len()];
    let carried = model
        .hosts
        .iter()
        .flat_map(|h| &h.sgs)
        .chain(model.endpoints.iter().flat_map(|e| &e.sgs));
    for sg in carried {
        if let Some(u) = sg_used.get_mut(sg.value.index()) {
            *u = true;
        }
    }
    for site in &model.sites {
        if let Some(u) = site.default_sg.and_then(|s| sg_used.get_mut(s.index())) {
            *u = true;
        }
    }
    for (i, sg) in model.security_groups.iter().enumerate() {
        if sg_used.get(i).copied().unwrap_or(true) || sg.decl.implicit {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::NP306,
                format!(
                    "security group `{}` is attached to no instance or endpoint",
                    model.display_name(Entity::SecurityGroup(crate::model::SgId(i as u32)))
                ),
                sg.decl.name_span,
                "carried by nothing",
            )
            .with_help(
                "add it to an instance's or endpoint's `sg [...]` list, or delete it: its rules filter nothing",
            ),
        );
    }

    let mut acl_used = vec![false; model.acls.len()];
    for a in model.subnets.iter().filter_map(|s| s.acl) {
        if let Some(u) = acl_used.get_mut(a.index()) {
            *u = true;
        }
    }
    for site in &model.sites {
        if let Some(u) = site.default_acl.and_then(|a| acl_used.get_mut(a.index())) {
            *u = true;
        }
    }
    for (i, acl) in model.acls.iter().enumerate() {
        if acl_used.get(i).copied().unwrap_or(true) || acl.decl.implicit {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::NP306,
                format!(
                    "network ACL `{}` is attached to no subnet",
                    model.display_name(Entity::NetworkAcl(crate::model::AclId(i as u32)))
                ),
                acl.decl.name_span,
                "attached to nothing",
            )
            .with_help(
                "attach it with `acl NAME` on a subnet, or delete it: subnets without `acl` use the default network ACL",
            ),
        );
    }

    let mut group_used = vec![false; model.groups.len()];
    let mut mark = |e: &AddrExpr| {
        for t in &e.terms {
            if let AddrTerm::Entity(Entity::Group(g)) = t.value {
                if let Some(u) = group_used.get_mut(g.index()) {
                    *u = true;
                }
            }
        }
    };
    for fw in &model.firewalls {
        for r in &fw.rules {
            mark(&r.from);
            mark(&r.to);
        }
    }
    for n in &model.nat_rules {
        mark(&n.internal);
        if let Some(e) = &n.external {
            mark(e);
        }
    }
    for g in &model.groups {
        mark(&g.members);
    }
    for sg in &model.security_groups {
        for r in sg.inbound.iter().chain(&sg.outbound) {
            mark(&r.peers);
        }
    }
    for acl in &model.acls {
        for r in acl.inbound.iter().chain(&acl.outbound) {
            mark(&r.peer);
        }
    }
    for c in &model.connections {
        for e in c.local.iter().chain(&c.remote) {
            mark(e);
        }
    }
    for e in &model.expectations {
        mark(&e.src);
        for x in e.dst.iter().chain(&e.at) {
            mark(x);
        }
    }
    for (i, g) in model.groups.iter().enumerate() {
        if group_used.get(i).copied().unwrap_or(true) || g.decl.implicit {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::NP306,
                format!(
                    "group `{}` is used by no rule, NAT rule, group or expectation",
                    model.display_name(Entity::Group(crate::model::GroupId(i as u32)))
                ),
                g.decl.name_span,
                "used by nothing",
            )
            .with_help("use it in a firewall rule or an expectation, or delete it"),
        );
    }
}
