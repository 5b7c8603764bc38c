//! The on-prem edge: DNAT of published addresses arriving from the internet,
//! the edge firewall (first match over the rules that apply on the uplink,
//! stateful; the compute gateway's firewall uses the same first match), and
//! route selection: the site's segments and the SDDC segments extended to it
//! by L2VPN, policy-based VPNs, prefixes learned over Direct Connect and
//! VPNs, then the internet through the egress SNAT (docs/forwarding.md,
//! "On-prem edge" and "Connections between sites"; "Oracle decisions":
//! on-prem and VM networks). `to_hosts`, delivery to a site's hosts by
//! address, serves the compute gateway and VM networks too.

use super::{nat_translate, nat_words, Branch, Filter, Loc, Mark, NatPoint, Step, Walker};
use crate::engine::packet_set::{AddrRanges, PacketSet};
use crate::engine::space::{service_match, Iface};
use crate::engine::view::{AddrExpr, View};
use crate::model::{Entity, HostId, SiteId, SubnetId, Uplink};
use crate::span::Span;
use crate::syntax::ast::{Action, ConnKind, FirewallMatch, NatKind, SiteKind};

impl<'s, 'm> Walker<'s, 'm> {
    pub(super) fn edge(&self, site: SiteId, from: Option<Uplink>, b: Branch) -> Vec<Step> {
        let m = self.m();
        let s = m.site(site);
        let node = format!("onprem {} / edge", s.decl.name);
        let mut steps = Vec::new();
        let mut b = b;
        if from == Some(Uplink::Internet) {
            // Each share translated here, with the header on the other side
            // of the translation (the firewall's state covers both sides).
            let mut translated: Vec<(Branch, View)> = Vec::new();
            // The replies of flows the egress SNAT translated.
            let (undone, rest_b) = self.undo(NatPoint::OnpremEdge(site), &b);
            for (nb, _) in undone {
                let hop = nb.hop(&node, "reply translated back (egress SNAT)", None);
                translated.push((hop, b.view));
            }
            let b = rest_b;
            {
                let mut rest = b.orig.clone();
                for &n in &s.nat_rules {
                    let rule = &m.nat_rules[n.index()];
                    if rule.kind != NatKind::Dnat {
                        continue;
                    }
                    let Some(ext) = rule.external.as_ref() else {
                        continue;
                    };
                    let (Some(from), Some(to)) =
                        (self.space.nat_net(ext), self.space.nat_net(&rule.internal))
                    else {
                        continue;
                    };
                    let ext = self.space.addrs(ext);
                    let svc = rule
                        .services
                        .as_ref()
                        .map_or_else(PacketSet::all, service_match);
                    let set = PacketSet::from_fields(
                        &AddrRanges::all(),
                        &ext,
                        None,
                        (0, u16::MAX),
                        (0, u16::MAX),
                    )
                    .intersect(&svc);
                    let (yes, no) = self.split_set(&b.with(rest.clone()), &set);
                    rest = no;
                    if yes.is_empty() {
                        continue;
                    }
                    let mut nb = b.with(yes);
                    let before = nb.view;
                    let after = before.with_dst(nat_translate(before.dst, from, to));
                    nb.translate(NatPoint::OnpremEdge(site), after, FirewallMatch::Internal);
                    let hop = nb.hop(
                        &node,
                        format!("DNAT `{}`: dst -> {}", rule.decl.name, nat_words(from, to)),
                        Some(rule.decl.span),
                    );
                    translated.push((hop, before));
                }
                if !rest.is_empty() {
                    steps.push(Self::drop(
                        b.with(rest),
                        format!(
                            "nothing at onprem `{}` answers to the destination",
                            s.decl.name
                        ),
                        s.header_span,
                        "publish the service with `nat dnat` on the on-prem edge".into(),
                    ));
                }
                for (t, other) in translated {
                    let fw = self.edge_firewall(site, Uplink::Internet, t, Some(other), &mut steps);
                    if let Some(x) = fw {
                        steps.extend(self.edge_route(site, x, true));
                    }
                }
                return steps;
            }
        }
        if let Some(up) = from {
            match self.edge_firewall(site, up, b, None, &mut steps) {
                Some(x) => b = x,
                None => return steps,
            }
        }
        steps.extend(self.edge_route(site, b, false));
        steps
    }

    /// First match over the rules of gateway firewall `fw` that apply on
    /// uplink `up`, judging `rest` (original packets) through `judge`'s view:
    /// the packets allow rules admit, the packets each drop or reject rule
    /// decides, and the packets no rule matches (the implicit last rule's).
    pub(super) fn firewall_first_match(
        &self,
        fw: crate::model::FirewallId,
        up: Uplink,
        judge: &Branch,
        mut rest: PacketSet,
    ) -> (
        PacketSet,
        Vec<(&'m crate::model::FirewallRule, PacketSet)>,
        PacketSet,
    ) {
        let sets = self.space.firewall_rule_sets(fw);
        let rules = &self.m().firewalls[fw.index()].rules;
        // The management gateway's rules have no `applied-to`: each applies
        // wherever the packet came from.
        let anywhere = self.m().firewalls[fw.index()].kind == crate::model::FirewallKind::Mgw;
        let mut allowed = PacketSet::empty();
        let mut dropped = Vec::new();
        // Untranslated branches, the common case, are split by all rules at
        // once: each rule is clipped to the branch (rules far from it are
        // skipped by their bounds) and the regions computed by overlap, not
        // by subtracting rule after rule from an ever more fragmented rest.
        if self.verdicts_only {
            let allowed = self.admitted_by(fw, up, anywhere, judge, &rest);
            return (allowed, Vec::new(), PacketSet::empty());
        }
        if judge.view == View::IDENTITY {
            let applicable = rules
                .iter()
                .zip(sets)
                .enumerate()
                .filter(|(_, (r, _))| anywhere || self.applies(&r.applied_to, up))
                .map(|(i, (_, set))| (i, set));
            let (decided, rest) = rest.split_first_match_of(applicable);
            let mut allow = Vec::new();
            for (i, region) in decided {
                let Some(r) = rules.get(i) else { continue };
                match r.action.value {
                    Action::Allow => allow.push(region),
                    Action::Drop | Action::Reject => dropped.push((r, region)),
                }
            }
            // First-match regions are disjoint.
            return (PacketSet::union_disjoint(allow), dropped, rest);
        }
        let mut probe = judge.with(PacketSet::empty());
        for (r, set) in rules.iter().zip(sets) {
            if rest.is_empty() {
                break;
            }
            if !anywhere && !self.applies(&r.applied_to, up) {
                continue;
            }
            probe.orig = rest;
            let (yes, no) = self.split_set(&probe, set);
            rest = no;
            if yes.is_empty() {
                continue;
            }
            match r.action.value {
                Action::Allow => allowed = allowed.union(&yes),
                Action::Drop | Action::Reject => dropped.push((r, yes)),
            }
        }
        (allowed, dropped, rest)
    }

    /// For walks that need only verdicts ([`Walker::verdicts_only`]): the
    /// packets of `set` (original packets, judged through `judge`'s view)
    /// that gateway firewall `fw` allows on `up`: those whose judged header
    /// is in what the firewall admits there, computed once per firewall and
    /// uplink. What it drops is not worked out: the drops of a
    /// firewall are never on an unmodelled path, and such walks report
    /// neither rules nor dropped packets.
    fn admitted_by(
        &self,
        fw: crate::model::FirewallId,
        up: Uplink,
        anywhere: bool,
        judge: &Branch,
        set: &PacketSet,
    ) -> PacketSet {
        if set.is_empty() {
            return PacketSet::empty();
        }
        // The management gateway's rules apply on every uplink alike.
        let key = if anywhere { Uplink::AllUplinks } else { up };
        let admits = self.space.firewall_admits(fw, key, || {
            let rules = &self.m().firewalls[fw.index()].rules;
            let sets = self.space.firewall_rule_sets(fw);
            let (actions, applicable): (Vec<Action>, Vec<PacketSet>) = rules
                .iter()
                .zip(sets)
                .filter(|(r, _)| anywhere || self.applies(&r.applied_to, up))
                .map(|(r, set)| (r.action.value, set.clone()))
                .unzip();
            let regions = crate::engine::packet_set::first_match(&applicable);
            PacketSet::union_disjoint(
                actions
                    .into_iter()
                    .zip(regions)
                    .filter(|(a, _)| *a == Action::Allow)
                    .map(|(_, r)| r)
                    .collect(),
            )
        });
        // Untranslated branches, the common case, test the set itself.
        if judge.view == View::IDENTITY {
            set.intersect(&admits.near_bounds_of(set))
        } else {
            let pre = judge.view.preimage_set(&admits);
            set.intersect(&pre.near_bounds_of(set))
        }
    }

    /// Does a firewall rule apply to packets crossing `up`?
    fn applies(&self, rule_ups: &[crate::span::Spanned<Uplink>], up: Uplink) -> bool {
        let m = self.m();
        rule_ups.iter().any(|u| match (u.value, up) {
            (Uplink::AllUplinks, _) => true,
            (a, b) if a == b => true,
            (Uplink::DirectConnect, Uplink::Connection(c)) => {
                m.connections[c.index()].kind == ConnKind::DirectConnect
            }
            (Uplink::Vpn, Uplink::Connection(c)) => m.connections[c.index()].kind == ConnKind::Vpn,
            _ => false,
        })
    }

    /// The on-prem edge firewall judges the branch's header (the private
    /// side of the edge's own NAT); `other` is the header on the other side
    /// of that NAT, which the state covers too.
    fn edge_firewall(
        &self,
        site: SiteId,
        up: Uplink,
        b: Branch,
        other: Option<View>,
        steps: &mut Vec<Step>,
    ) -> Option<Branch> {
        let m = self.m();
        let s = m.site(site);
        let Some(&fw) = s.firewalls.first() else {
            return Some(b);
        };
        let views: Vec<View> = std::iter::once(b.view).chain(other).collect();
        let (replies, rest) = self.admitted(Filter::Firewall(site), &b, &views);
        let (allowed, dropped, rest) = self.firewall_first_match(fw, up, &b, rest);
        let fw = &m.firewalls[fw.index()];
        for (r, set) in dropped {
            steps.push(Self::drop(
                b.with(set),
                format!("edge firewall rule `{}` drops it", r.decl.name),
                r.decl.span,
                "move an allow rule above it, or narrow this rule".into(),
            ));
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!(
                    "no rule of firewall `{}` allows it: the implicit last rule drops it",
                    fw.decl.name
                ),
                fw.decl.name_span,
                "add a rule allowing it".into(),
            ));
        }
        let allowed = allowed.union(&replies);
        if allowed.is_empty() {
            return None;
        }
        let mut nb = b.with(allowed);
        for v in views {
            nb.marks.push(Mark::Filter(Filter::Firewall(site), v));
        }
        Some(nb)
    }

    /// Route selection at an on-prem edge; `from_internet` when the packet
    /// came in from the internet (it may not be sent back there).
    fn edge_route(&self, site: SiteId, b: Branch, from_internet: bool) -> Vec<Step> {
        let m = self.m();
        let s = m.site(site);
        let node = format!("onprem {} / edge", s.decl.name);
        let mut steps = Vec::new();
        // Attached: own segments, and SDDC segments extended here.
        let own = AddrRanges::from_nets(s.subnets.iter().map(|&x| m.subnet(x).prefix.value));
        let (local, rest) = self.dst_in(&b, own);
        if !local.is_empty() {
            let nb = b.with(local).hop(&node, "destination on a segment", None);
            steps.extend(self.to_hosts(site, None, nb, "host", s.header_span));
        }
        let mut rest = b.with(rest);
        for c in m
            .connections
            .iter()
            .filter(|c| c.kind == ConnKind::L2vpn && c.ends.iter().any(|e| e.value == site))
        {
            for seg in &c.extend {
                let sub = m.subnet(seg.value);
                let (yes, no) = self.dst_in(&rest, AddrRanges::from_net(sub.prefix.value));
                rest = rest.with(no);
                if !yes.is_empty() {
                    steps.extend(self.to_hosts(
                        sub.site,
                        Some(seg.value),
                        b.with(yes).hop(
                            &node,
                            format!(
                                "segment `{}` is extended here by L2VPN `{}`",
                                sub.decl.name, c.decl.name
                            ),
                            Some(c.decl.span),
                        ),
                        "VM",
                        sub.decl.span,
                    ));
                }
            }
        }
        // A policy-based VPN whose selectors hold the packet.
        for (c, sel) in self.policy_vpns(site) {
            let (yes, no) = self.split(&rest, &sel);
            rest = rest.with(no);
            if yes.is_empty() {
                continue;
            }
            let up = Uplink::Connection(c);
            let conn = &m.connections[c.index()];
            let nb = rest.with(yes).hop(
                &node,
                format!(
                    "the selectors of policy-based vpn `{}` hold it",
                    conn.decl.name
                ),
                Some(conn.decl.span),
            );
            if let Some(x) = self.edge_firewall(site, up, nb, None, &mut steps) {
                if let Some(other) = conn.other_end(site) {
                    steps.extend(self.enter_site(other, up, x));
                }
            }
        }
        if rest.orig.is_empty() {
            return steps;
        }
        // Learned prefixes over links: the SDDC advertises its segments.
        let mut routes: Vec<(ipnet::IpNet, usize, Span)> = Vec::new();
        for (i, c) in m.connections.iter().enumerate() {
            if !matches!(c.kind, ConnKind::DirectConnect | ConnKind::Vpn)
                || !c.ends.iter().any(|e| e.value == site)
            {
                continue;
            }
            if c.tgw_end.is_some() {
                // A connection that ends on a transit gateway carries what
                // the gateway advertises over it.
                let x = crate::model::ConnectionId(i as u32);
                for (p, span) in self.tgw_advertised(x) {
                    routes.push((p, i, span));
                }
                continue;
            }
            let Some(other) = c.other_end(site) else {
                continue;
            };
            if m.site(other).kind == SiteKind::Sddc {
                // An SDDC advertises its routed segments and management
                // prefixes; a segment extended by L2VPN is not routed there.
                let o = m.site(other);
                for &sub in &o.subnets {
                    if m.subnet(sub).extended_by.is_none() {
                        routes.push((m.subnet(sub).prefix.value, i, c.decl.span));
                    }
                }
                for p in &o.management {
                    routes.push((p.value, i, c.decl.span));
                }
            }
            for a in c.advertise.iter().filter(|a| a.site == other) {
                for p in &a.prefixes {
                    routes.push((p.value, i, a.span));
                }
            }
        }
        routes.sort_by_key(|r| (r.0, r.1));
        routes.dedup_by_key(|r| r.0);
        let prefixes: Vec<ipnet::IpNet> = routes.iter().map(|r| r.0).collect();
        let links: Vec<usize> = routes.iter().map(|r| r.1).collect();
        let parts = AddrRanges::lpm_partition(&prefixes);
        let (firsts, parts) = self.by_next_hop(&links, &parts);
        let (shares, left) = self.split_dsts(&rest, &parts);
        for (&i, yes) in firsts.iter().zip(shares) {
            let (net, ci, span) = &routes[i];
            if yes.is_empty() {
                continue;
            }
            let up = Uplink::Connection(crate::model::ConnectionId(*ci as u32));
            let conn = &m.connections[*ci];
            let nb = rest.with(yes).hop(
                &node,
                format!(
                    "route {net} -> {} `{}`",
                    conn.kind.keyword(),
                    conn.decl.name
                ),
                Some(*span),
            );
            if let Some(x) = self.edge_firewall(site, up, nb, None, &mut steps) {
                if let Some(t) = &conn.tgw_end {
                    let ci = crate::model::ConnectionId(*ci as u32);
                    steps.push(Step::Go(Loc::Tgw(t.value, Entity::Connection(ci)), x));
                } else if let Some(other) = conn.other_end(site) {
                    steps.extend(self.enter_site(other, up, x));
                }
            }
        }
        if left.is_empty() {
            return steps;
        }
        let lb = rest.with(left);
        if from_internet {
            steps.push(Self::drop(
                lb,
                format!(
                    "onprem `{}` has no route for the destination other than the internet it came from",
                    s.decl.name
                ),
                s.header_span,
                "translate it to an address of a segment, or of a network learned over a connection"
                    .into(),
            ));
            return steps;
        }
        // Everything else leaves by the internet, through the egress SNAT:
        // public addresses of other sites, and of this one (hairpin), are
        // reached there. Private addresses of sites are not, so they stop
        // here.
        let unreachable = self.space.owned.difference(&self.space.published_ranges());
        let (private, inet) = self.dst_in(&lb, unreachable);
        if !private.is_empty() {
            steps.push(Self::drop(
                lb.with(private),
                format!("onprem `{}` has no route to the destination", s.decl.name),
                s.header_span,
                "advertise the destination's prefix over a Direct Connect or VPN to this site"
                    .into(),
            ));
        }
        if inet.is_empty() {
            return steps;
        }
        // The replies of flows the edge published (DNAT) are translated
        // back; the firewall judges their private side, before that.
        let (undone, ib) = self.undo(NatPoint::OnpremEdge(site), &lb.with(inet));
        for (nb, _) in undone {
            let private = ib.with(nb.orig.clone());
            let fw = self.edge_firewall(site, Uplink::Internet, private, Some(nb.view), &mut steps);
            if let Some(x) = fw {
                steps.push(Step::Go(
                    Loc::Internet,
                    nb.with(x.orig)
                        .hop(&node, "reply translated back (DNAT session)", None),
                ));
            }
        }
        if ib.orig.is_empty() {
            return steps;
        }
        match &s.internet_egress {
            Some(e) => {
                let after = ib.view.with_src(AddrExpr::Const(e.value));
                let fw = self.edge_firewall(site, Uplink::Internet, ib, Some(after), &mut steps);
                if let Some(mut x) = fw {
                    x.translate(NatPoint::OnpremEdge(site), after, FirewallMatch::Internal);
                    steps.push(Step::Go(
                        Loc::Internet,
                        x.hop(
                            &node,
                            format!("internet egress SNAT: src -> {}", e.value),
                            Some(e.span),
                        ),
                    ));
                }
            }
            None => steps.push(Self::drop(
                ib,
                format!("onprem `{}` has no internet exit", s.decl.name),
                s.header_span,
                "add `internet-egress snat ADDRESS` to the site".into(),
            )),
        }
        steps
    }

    /// Delivers a branch to the hosts of `site` (only those on `segment`,
    /// when given) by destination address; what no host owns goes to
    /// [`Self::unowned`], which says "no NOUN has the destination address".
    pub(super) fn to_hosts(
        &self,
        site: SiteId,
        segment: Option<SubnetId>,
        b: Branch,
        noun: &str,
        span: Span,
    ) -> Vec<Step> {
        let m = self.m();
        let mut steps = Vec::new();
        // By class: a class on an extended segment lies on that segment.
        let classes: Vec<&(HostId, AddrRanges)> = self
            .space
            .classes
            .host_classes(site)
            .iter()
            .filter(|(h, _)| segment.is_none_or(|seg| m.host(*h).subnet == Some(seg)))
            .collect();
        let parts: Vec<AddrRanges> = classes.iter().map(|(_, a)| a.clone()).collect();
        let (shares, rest) = self.split_dsts(&b, &parts);
        for ((h, _), yes) in classes.into_iter().zip(shares) {
            if !yes.is_empty() {
                steps.push(Step::Go(Loc::Arrive(site, Iface::Host(*h)), b.with(yes)));
            }
        }
        if !rest.is_empty() {
            steps.extend(self.unowned(
                b.with(rest),
                &format!("no {noun} has the destination address"),
                span,
                &format!("address the packet to a declared {noun}"),
            ));
        }
        steps
    }
}
