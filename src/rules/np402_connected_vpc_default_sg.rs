//! NP402 connected-vpc-default-sg: an instance in the connected VPC cannot
//! open connections into the SDDC because the ENIs' default security group
//! does not admit it.
//!
//! The SDDC's ENIs carry the connected VPC's default security group; its
//! inbound rules govern traffic from the VPC into the SDDC, and by default
//! they admit only members of the default group (seed 001). Behaviour,
//! through the engine: the rule fires only when packets from the instance
//! to the SDDC's segments are stopped at the ENIs and would otherwise be
//! delivered (its own security groups, the route table and the compute
//! gateway firewall let them through).

use crate::diagnostic::Diagnostic;
use crate::engine::packet_set::AddrRanges;
use crate::engine::space::{service_flows, Iface, Space};
use crate::engine::walk::{Branch, Dest, Leaf, Loc, Walker};
use crate::model::{HostId, HostKind, ServiceSet, SiteId, Uplink};
use crate::registry::Code;
use crate::span::Span;

pub fn check(space: &Space, out: &mut Vec<Diagnostic>) {
    let m = space.model;
    let walker = Walker::forward(space);
    for (i, sddc) in m.sites.iter().enumerate() {
        let Some(cv) = sddc.connected_vpc else {
            continue;
        };
        let Some(default) = m.site(cv.vpc).default_sg else {
            continue;
        };
        let default_sg = &m.security_groups[default.index()];
        let sid = SiteId(i as u32);
        let segments = AddrRanges::from_nets(
            sddc.subnets
                .iter()
                .filter(|&&s| m.subnet(s).extended_by.is_none())
                .map(|&s| m.subnet(s).prefix.value),
        );
        for &h in &m.site(cv.vpc).hosts {
            let host = m.host(h);
            if host.kind != HostKind::Instance || host.sgs.iter().any(|g| g.value == default) {
                continue;
            }
            let set = service_flows(
                &ServiceSet::any(Span::default()),
                &AddrRanges::from_addr(host.addr.value),
                &segments,
            );
            if set.is_empty() {
                continue;
            }
            let mut leaves = Vec::new();
            walker.walk(
                Loc::Leave(Dest::Iface(Iface::Host(h))),
                Branch::new(set),
                &mut leaves,
            );
            // Packets stopped at the ENIs: walk them on as if the default
            // group had admitted them.
            let mut blocked_but_routable = false;
            for leaf in leaves {
                let Leaf::Dropped { drop, branch } = leaf else {
                    continue;
                };
                if drop.span != default_sg.decl.span || !drop.reason.contains("ENIs") {
                    continue;
                }
                let mut rest = Vec::new();
                walker.walk(Loc::Cgw(sid, Some(Uplink::Vpc)), branch, &mut rest);
                if rest.iter().any(|l| matches!(l, Leaf::Delivered { .. })) {
                    blocked_but_routable = true;
                    break;
                }
            }
            if blocked_but_routable {
                out.push(diagnostic(space, sid, h));
            }
        }
    }
}

fn diagnostic(space: &Space, sddc: SiteId, h: HostId) -> Diagnostic {
    let m = space.model;
    let host = m.host(h);
    let vpc = m.site(host.site);
    let groups: Vec<String> = host
        .sgs
        .iter()
        .map(|g| format!("`{}`", m.security_groups[g.value.index()].decl.name))
        .collect();
    let mut d = Diagnostic::new(
        Code::NP402,
        format!(
            "`{}` in connected vpc `{}` cannot open connections into sddc `{}`: the SDDC's ENIs carry the VPC's default security group, whose inbound rules do not admit its group {}",
            host.decl.name,
            vpc.decl.name,
            m.site(sddc).decl.name,
            groups.join(", ")
        ),
        host.decl.name_span,
        "not admitted by the ENIs' default group",
    );
    if let Some(default) = vpc.default_sg {
        let sg = &m.security_groups[default.index()];
        d = d.with_label(
            sg.decl.name_span,
            "the ENIs carry this group; its inbound rules govern traffic into the SDDC",
        );
    }
    for g in &host.sgs {
        d = d.with_label(g.span, "not admitted by the default group");
    }
    d.with_help(format!(
        "put `{}` in the default group too (add `default` to its `sg` list), or, not recommended, admit its group in the default group's inbound rules (seed 001)",
        host.decl.name
    ))
}
