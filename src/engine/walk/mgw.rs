//! A VMware Cloud on AWS SDDC's management network: its appliances
//! (`appliance vcenter|esxi|nsx-manager|hcx NAME ADDRESS`) behind the
//! management gateway (MGW), whose firewall (`firewall mgw`) judges what
//! enters the management network and what its appliances send, by first
//! match, then the pre-defined Default Deny All rule. Stateful: the replies
//! of a flow it allowed pass both ways (docs/forwarding.md, "SDDC compute
//! gateway (CGW)", "The management network").

use super::{Branch, Filter, Loc, Mark, Step, Walker};
use crate::engine::packet_set::{AddrRanges, PacketSet};
use crate::engine::space::Iface;
use crate::model::{FirewallKind, HostId, HostKind, SiteId, Uplink};
use crate::span::Span;

/// Where a packet for the management network comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum MgmtFrom {
    /// The internet uplink, after the compute gateway's NAT.
    Internet,
    /// A connection or the connected VPC.
    Uplink,
    /// A compute segment of the same SDDC.
    Segment,
}

impl<'s, 'm> Walker<'s, 'm> {
    /// The share of a branch bound for the SDDC's management network;
    /// returns the rest. The management gateway's firewall judges it in
    /// place of the compute gateway's (from a connection, the connected VPC
    /// or a segment). What arrives from the internet is not decided: the
    /// internet reaches vCenter by its own public address, which a design
    /// cannot state, not by the compute gateway's NAT rules. What the
    /// management gateway passes from a compute segment is not decided
    /// either: whether the compute gateway's firewall also judges traffic
    /// between the compute and the management networks is not settled by
    /// the documentation netproof follows.
    pub(super) fn to_management(
        &self,
        sddc: SiteId,
        b: Branch,
        from: MgmtFrom,
        steps: &mut Vec<Step>,
    ) -> Branch {
        let site = self.m().site(sddc);
        if site.management.is_empty() {
            return b;
        }
        let mgmt = AddrRanges::from_nets(site.management.iter().map(|p| p.value));
        let (to_mgmt, rest) = self.dst_in(&b, mgmt);
        if to_mgmt.is_empty() {
            return b.with(rest);
        }
        // What the management gateway passes from a compute segment ends
        // undecided and what it refuses ends dropped: a walk that reads
        // only deliveries has nothing to learn from its rules, whose first
        // match was most of NP405's time on designs with large management
        // gateway rule bases (W3).
        if from == MgmtFrom::Segment && self.deliveries_only {
            return b.with(rest);
        }
        let span = site.management.first().map_or(site.header_span, |p| p.span);
        if from != MgmtFrom::Internet {
            self.mgw_inbound(sddc, b.with(to_mgmt), span, from, steps);
        } else {
            steps.push(Self::undecided(
                b.with(to_mgmt),
                format!(
                    "the destination is in the management network of sddc `{}`, which the \
                     internet reaches by vCenter's public address: not modelled in this version",
                    site.decl.name
                ),
                span,
                "check the management gateway's rules by hand; the flows to other addresses \
                 are decided"
                    .into(),
            ));
        }
        b.with(rest)
    }

    /// The SDDC's management gateway firewall, if the design declares one.
    fn mgw_firewall(&self, sddc: SiteId) -> Option<crate::model::FirewallId> {
        let m = self.m();
        m.site(sddc)
            .firewalls
            .iter()
            .copied()
            .find(|&f| m.firewalls[f.index()].kind == FirewallKind::Mgw)
    }

    /// The management gateway firewall on a fresh branch (not a reply):
    /// its rules in order, whatever their `applied-to` (MGW rules have
    /// none), then the Default Deny All rule (no `firewall mgw`: only that
    /// rule). Pushes the drops; returns what it allows, marked for the
    /// replies.
    fn mgw_rules(&self, sddc: SiteId, b: &Branch, span: Span, steps: &mut Vec<Step>) -> Branch {
        let m = self.m();
        let site = m.site(sddc);
        let (allowed, rest, at) = match self.mgw_firewall(sddc) {
            Some(fw) => {
                let (allowed, dropped, rest) =
                    self.firewall_first_match(fw, Uplink::AllUplinks, b, b.orig.clone());
                for (r, set) in dropped {
                    steps.push(Self::drop(
                        b.with(set),
                        format!("management gateway rule `{}` drops it", r.decl.name),
                        r.decl.span,
                        "the management gateway takes allow rules only; remove this rule".into(),
                    ));
                }
                (allowed, rest, m.firewalls[fw.index()].decl.name_span)
            }
            None => (PacketSet::empty(), b.orig.clone(), span),
        };
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!(
                    "no management gateway rule of sddc `{}` allows it: the Default Deny All \
                     rule drops it",
                    site.decl.name
                ),
                at,
                "add a rule to `firewall mgw` allowing this source to the appliance, for this \
                 service"
                    .into(),
            ));
        }
        let mut nb = b.with(allowed).hop(
            &format!("sddc {} / mgw firewall", site.decl.name),
            "allowed",
            None,
        );
        nb.marks.push(Mark::Filter(Filter::Mgw(sddc), nb.view));
        nb
    }

    /// A branch bound for the management network at the management
    /// gateway: the replies of flows it allowed pass, the rest meets its
    /// rules; what passes goes to the appliance with the destination
    /// address.
    fn mgw_inbound(
        &self,
        sddc: SiteId,
        b: Branch,
        span: Span,
        from: MgmtFrom,
        steps: &mut Vec<Step>,
    ) {
        let node = format!("sddc {} / mgw firewall", self.site_name(sddc));
        let (replies, fresh) = self.admitted(Filter::Mgw(sddc), &b, &[b.view]);
        let mut passed = Vec::new();
        if !replies.is_empty() {
            passed.push(
                b.with(replies)
                    .hop(&node, "reply of an allowed flow (stateful)", None),
            );
        }
        if !fresh.is_empty() {
            let allowed = self.mgw_rules(sddc, &b.with(fresh), span, steps);
            if !allowed.orig.is_empty() {
                passed.push(allowed);
            }
        }
        for nb in passed {
            if from == MgmtFrom::Segment {
                steps.push(self.between_networks(sddc, nb, span));
            } else {
                steps.extend(self.to_appliances(sddc, nb, span));
            }
        }
    }

    /// What the management gateway passed between a compute segment and
    /// the management network, as an undecided leaf: the compute
    /// gateway's part in it is not modelled.
    fn between_networks(&self, sddc: SiteId, b: Branch, span: Span) -> Step {
        Self::undecided(
            b,
            format!(
                "the management gateway passes it between a compute segment and the management \
                 network of sddc `{}`; whether the compute gateway's firewall judges it too is \
                 not modelled in this version",
                self.site_name(sddc)
            ),
            span,
            "check the compute gateway's rules by hand".into(),
        )
    }

    /// Delivery in the management network: each appliance takes the
    /// packets for its address; no appliance at an address drops them.
    fn to_appliances(&self, sddc: SiteId, b: Branch, span: Span) -> Vec<Step> {
        let m = self.m();
        let mut steps = Vec::new();
        let appliances: Vec<&(HostId, AddrRanges)> = self
            .space
            .classes
            .host_classes(sddc)
            .iter()
            .filter(|(h, _)| matches!(m.host(*h).kind, HostKind::Appliance(_)))
            .collect();
        let parts: Vec<AddrRanges> = appliances.iter().map(|(_, a)| a.clone()).collect();
        let (shares, rest) = self.split_dsts(&b, &parts);
        for ((h, _), yes) in appliances.into_iter().zip(shares) {
            if !yes.is_empty() {
                steps.push(Step::Go(Loc::Arrive(sddc, Iface::Host(*h)), b.with(yes)));
            }
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!(
                    "no appliance of sddc `{}` has the destination address",
                    self.site_name(sddc)
                ),
                span,
                "declare the appliance (`appliance KIND NAME ADDRESS`), or address the packet \
                 to one"
                    .into(),
            ));
        }
        steps
    }

    /// A packet an appliance sends: the management gateway (the replies of
    /// flows it allowed pass; the rest meets its rules, whose source must
    /// hold the appliance), then route selection from the management
    /// network.
    pub(super) fn appliance_out(&self, h: HostId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let host = m.host(h);
        let sddc = host.site;
        let site = m.site(sddc);
        let span = site.management.first().map_or(site.header_span, |p| p.span);
        let node = format!("sddc {} / mgw firewall", site.decl.name);
        let b = b.hop(
            &host.decl.name,
            "sent by the appliance",
            Some(host.decl.name_span),
        );
        let mut steps = Vec::new();
        let (replies, fresh) = self.admitted(Filter::Mgw(sddc), &b, &[b.view]);
        if !replies.is_empty() {
            let nb = b
                .with(replies)
                .hop(&node, "reply of an allowed flow (stateful)", None);
            steps.extend(self.mgw_route(sddc, nb));
        }
        if !fresh.is_empty() {
            let allowed = self.mgw_rules(sddc, &b.with(fresh), span, &mut steps);
            if !allowed.orig.is_empty() {
                steps.extend(self.mgw_route(sddc, allowed));
            }
        }
        steps
    }

    /// Route selection for what leaves the management network: another
    /// address of the management network is not decided (traffic between
    /// appliances is not modelled), nor is a compute segment (as in the
    /// other direction, the compute gateway's part is not modelled); then
    /// the compute gateway's routes, where Direct Connect and route-based
    /// VPN carry it to the other end and the connected VPC, the internet
    /// (vCenter's public address) and policy-based VPN selectors are not
    /// decided.
    fn mgw_route(&self, sddc: SiteId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let site = m.site(sddc);
        let node = format!("sddc {} / mgw", site.decl.name);
        let mut steps = Vec::new();
        let mspan = site.management.first().map_or(site.header_span, |p| p.span);
        let mgmt = AddrRanges::from_nets(site.management.iter().map(|p| p.value));
        let (inside, b) = {
            let (yes, no) = self.dst_in(&b, mgmt);
            (b.with(yes), b.with(no))
        };
        if !inside.orig.is_empty() {
            steps.push(Self::undecided(
                inside,
                format!(
                    "the destination is in the management network of sddc `{}`: traffic \
                     between its appliances is not modelled in this version",
                    site.decl.name
                ),
                mspan,
                "check it by hand".into(),
            ));
        }
        let (local, out) = self.dst_in(&b, self.attached_segments(sddc));
        if !local.is_empty() {
            steps.push(self.between_networks(sddc, b.with(local), mspan));
        }
        let mut ob = b.with(out);
        for (c, sel) in self.policy_vpns(sddc) {
            let (yes, no) = self.split(&ob, &sel);
            ob = ob.with(no);
            if !yes.is_empty() {
                steps.push(Self::undecided(
                    ob.with(yes),
                    format!(
                        "the selectors of policy-based vpn `{}` hold a packet from the \
                         management network of sddc `{}`: not modelled in this version",
                        m.connections[c.index()].decl.name,
                        site.decl.name
                    ),
                    m.connections[c.index()].decl.span,
                    "check it by hand".into(),
                ));
            }
        }
        if ob.orig.is_empty() {
            return steps;
        }
        steps.extend(self.cgw_route_split(sddc, &node, ob, |up, nb| {
            let other = match up {
                Uplink::Connection(c) => m.connections[c.index()].other_end(sddc),
                _ => None,
            };
            match other {
                Some(o) => self.enter_site(o, up, nb),
                None => vec![Self::undecided(
                    nb,
                    format!(
                        "the management network of sddc `{}` leaves by uplink {}: not modelled \
                         in this version (vCenter's public address, the connected VPC)",
                        site.decl.name,
                        self.uplink_name(up)
                    ),
                    mspan,
                    "check it by hand".into(),
                )],
            }
        }));
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Dest, Leaf, Walker};
    use crate::engine::packet_set::{AddrRanges, PacketSet};
    use crate::engine::space::{Iface, Space};
    use crate::model::HostId;

    /// The packets a walk delivers, by destination.
    fn deliveries(leaves: Vec<Leaf>) -> Vec<(Dest, PacketSet)> {
        let mut out: Vec<(Dest, PacketSet)> = Vec::new();
        for leaf in leaves {
            if let Leaf::Delivered { to, branch } = leaf {
                match out.iter_mut().find(|(d, _)| *d == to) {
                    Some((_, s)) => *s = s.union(&branch.orig),
                    None => out.push((to, branch.orig)),
                }
            }
        }
        out
    }

    /// A walk that reads only deliveries leaves out the management
    /// gateway's rules on the way from a compute segment, where all they
    /// pass ends undecided: from every host of designs with management
    /// networks (some of whose flows do take that way), it delivers the
    /// same packets to the same places as a full walk.
    #[test]
    fn a_deliveries_only_walk_delivers_what_a_full_walk_delivers() {
        let vcenter = crate::gen::vcenter_from_a_segment();
        let w3_small = crate::gen::generate_workload(&crate::gen::Workload::W3_SMALL);
        let mut between = 0;
        for text in [vcenter, w3_small] {
            let m = crate::model::lower(&crate::syntax::parse(&text).tree).model;
            let space = Space::new(&m);
            for (h, host) in m.hosts.iter().enumerate() {
                let start = Dest::Iface(Iface::Host(HostId(h as u32)));
                let set = PacketSet::all().with_src(&AddrRanges::from_addr(host.addr.value));
                let full = Walker::forward(&space).leaves_from(start, set.clone());
                between += full
                    .iter()
                    .filter(|l| match l {
                        Leaf::Dropped { drop, .. } => {
                            drop.reason.contains("between a compute segment")
                        }
                        Leaf::Delivered { .. } => false,
                    })
                    .count();
                let fast = deliveries(Walker::deliveries_only(&space).leaves_from(start, set));
                let full = deliveries(full);
                assert_eq!(fast.len(), full.len(), "{}", host.decl.name);
                for (d, s) in &full {
                    let same = fast.iter().any(|(e, t)| e == d && t.set_eq(s));
                    assert!(same, "{}", host.decl.name);
                }
            }
        }
        assert!(between > 0, "no flow crosses from a compute segment");
    }
}
