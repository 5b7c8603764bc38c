//! NP307 mgw-rule-refused: a management gateway firewall rule that VMware
//! Cloud on AWS does not accept.
//!
//! VMC's management gateway takes customer rules with an Allow action only,
//! has no Applied To, and requires the source or the destination of each
//! rule to be a system-defined group (vCenter, ESXi, NSX Manager, HCX);
//! when the source is one, the service must be Any (VMware Cloud on AWS
//! Networking and Security, "Add or Modify Management Gateway Firewall
//! Rules"); since SDDC version 1.22 a rule from any source (`any`,
//! `0.0.0.0/0`) to vCenter cannot be published ("Examples of Commonly Used
//! Firewall Rules"). In netproof a system-defined group is written by naming the
//! SDDC's appliances: an end of a rule is one when it names only
//! appliances, and every appliance of each kind it names (VMC's group
//! holds them all). netproof still applies such a rule as written (a drop
//! rule drops; an `applied-to` is ignored), so the finding says what the
//! platform would refuse and what netproof did with it.

use crate::diagnostic::Diagnostic;
use crate::model::{
    AddrExpr, AddrTerm, Entity, FirewallKind, HostKind, Model, ServiceRange, SiteId,
};
use crate::registry::Code;
use crate::syntax::ast::{Action, ApplianceKind};
use std::collections::BTreeSet;

pub fn check(m: &Model, out: &mut Vec<Diagnostic>) {
    for fw in m.firewalls.iter().filter(|f| f.kind == FirewallKind::Mgw) {
        for r in fw.rules.iter().filter(|r| !r.decl.implicit) {
            let name = &r.decl.name;
            if r.action.value != Action::Allow {
                out.push(
                    Diagnostic::new(
                        Code::NP307,
                        format!(
                            "management gateway rule `{name}` is a `{}` rule: VMware Cloud on \
                             AWS takes allow rules only there",
                            if r.action.value == Action::Drop {
                                "drop"
                            } else {
                                "reject"
                            }
                        ),
                        r.action.span,
                        "not an allow rule",
                    )
                    .with_help(
                        "the Default Deny All rule already drops what no rule allows: remove \
                         this rule (netproof applies it as written)",
                    ),
                );
            }
            if let Some(u) = r.applied_to.iter().find(|u| u.span != r.decl.span) {
                out.push(
                    Diagnostic::new(
                        Code::NP307,
                        format!(
                            "management gateway rule `{name}` has an `applied-to`: the \
                             management gateway's rules have none, so netproof ignores it"
                        ),
                        u.span,
                        "ignored",
                    )
                    .with_help(
                        "remove `applied-to`: the rule judges every packet for the management \
                         network, from any uplink or segment",
                    ),
                );
            }
            let from = system_groups(m, fw.site, &r.from);
            let to = system_groups(m, fw.site, &r.to);
            if from.is_none() && to.is_none() {
                out.push(
                    Diagnostic::new(
                        Code::NP307,
                        format!(
                            "management gateway rule `{name}` has no system-defined group at \
                             either end: VMware Cloud on AWS requires the source or the \
                             destination to be vCenter, ESXi, NSX Manager or HCX"
                        ),
                        r.decl.name_span,
                        "neither end is a system-defined group",
                    )
                    .with_label(r.to.span, "destination")
                    .with_help(
                        "name the appliances (`appliance KIND NAME ADDRESS`) instead of their \
                         addresses, and every appliance of a kind: VMC's group holds them all",
                    ),
                );
            }
            let from_any = r.from.terms.iter().any(|t| match t.value {
                AddrTerm::Any => true,
                AddrTerm::Net(n) => n.prefix_len() == 0,
                _ => false,
            });
            let to_vcenter = r.to.terms.iter().any(|t| match t.value {
                AddrTerm::Entity(Entity::Host(h)) => m
                    .hosts
                    .get(h.index())
                    .is_some_and(|x| x.kind == HostKind::Appliance(ApplianceKind::Vcenter)),
                _ => false,
            });
            if from_any && to_vcenter {
                out.push(
                    Diagnostic::new(
                        Code::NP307,
                        format!(
                            "management gateway rule `{name}` allows any source to vCenter: \
                             VMware Cloud on AWS refuses such a rule (SDDC version 1.22 and later)"
                        ),
                        r.from.span,
                        "any source",
                    )
                    .with_help(
                        "name the sources that manage the SDDC: an on-prem management prefix, \
                         the public addresses you own",
                    ),
                );
            }
            let any_service = r.services.ranges.contains(&ServiceRange::ANY);
            if let (Some(kinds), false) = (from, any_service) {
                let groups: Vec<&str> = kinds.iter().map(|k| k.group_name()).collect();
                out.push(
                    Diagnostic::new(
                        Code::NP307,
                        format!(
                            "management gateway rule `{name}` has the system-defined group {} \
                             as its source and a service other than any: VMware Cloud on AWS \
                             requires service Any then",
                            groups.join(", ")
                        ),
                        r.services.span,
                        "must be `any`",
                    )
                    .with_help("drop the `service` clause, or write `service any`"),
                );
            }
        }
    }
}

/// The system-defined groups an end of a rule is made of: `Some` when it
/// names only appliances of the rule's SDDC, and for each kind it names,
/// every appliance of that kind.
fn system_groups(m: &Model, site: SiteId, e: &AddrExpr) -> Option<BTreeSet<ApplianceKind>> {
    let mut kinds = BTreeSet::new();
    let mut named = BTreeSet::new();
    for t in &e.terms {
        let AddrTerm::Entity(Entity::Host(h)) = t.value else {
            return None;
        };
        let host = m.hosts.get(h.index())?;
        let HostKind::Appliance(k) = host.kind else {
            return None;
        };
        if host.site != site {
            return None;
        }
        kinds.insert(k);
        named.insert(h);
    }
    let whole = m.site(site).hosts.iter().all(|&h| match m.host(h).kind {
        HostKind::Appliance(k) => !kinds.contains(&k) || named.contains(&h),
        _ => true,
    });
    (!kinds.is_empty() && whole).then_some(kinds)
}
