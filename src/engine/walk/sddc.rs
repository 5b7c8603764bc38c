//! A VMware Cloud on AWS SDDC: the ENIs to and from its connected VPC (the
//! VPC's default security group), the compute gateway's route selection
//! (segments, policy-based VPN selectors, learned prefixes, the internet
//! default), its gateway firewall on each uplink, NAT on the internet uplink
//! (DNAT and reflexive inbound; SNAT, reflexive, no-snat and the default SNAT
//! outbound; what the firewall sees per `firewall-match`), and leaving by an
//! uplink (docs/forwarding.md, "Connected VPC and the SDDC's ENIs" and "SDDC
//! compute gateway (CGW)"; "Oracle decisions": VMware Cloud on AWS). The
//! gateway firewall's first match is shared with the on-prem edge
//! (`edge.rs`).

use super::mgw::MgmtFrom;
use super::{nat_translate, nat_words, Branch, Filter, Loc, Mark, NatPoint, Sender, Step, Walker};
use crate::engine::packet_set::{AddrRanges, PacketSet};
use crate::engine::space::{service_match, TCP, UDP};
use crate::engine::view::{AddrExpr, HeaderPredicate, View};
use crate::model::{ConnectionId, FirewallKind, SiteId, Uplink};
use crate::span::Span;
use crate::syntax::ast::{ConnKind, FirewallMatch, NatKind, VpnMode};

impl<'s, 'm> Walker<'s, 'm> {
    pub(super) fn eni_to_sddc(&self, sddc: SiteId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let Some(cv) = m.site(sddc).connected_vpc else {
            return vec![];
        };
        let Some(default) = m.site(cv.vpc).default_sg else {
            return vec![Step::Go(Loc::Cgw(sddc, Some(Uplink::Vpc)), b)];
        };
        let node = format!(
            "sddc {} / ENIs in vpc {}",
            self.site_name(sddc),
            self.site_name(cv.vpc)
        );
        let mut steps = Vec::new();
        let (replies, rest) = self.admitted(Filter::Eni(sddc), &b, &[b.view]);
        if !replies.is_empty() {
            steps.push(Step::Go(
                Loc::Cgw(sddc, Some(Uplink::Vpc)),
                b.with(replies)
                    .hop(&node, "reply of an admitted flow", None),
            ));
        }
        let allowed = self.sg_set(&[default], true, &self.sender_groups(&b));
        let (yes, no) = self.split_set(&b.with(rest), &allowed);
        if !no.is_empty() {
            let sg = &m.security_groups[default.index()];
            steps.push(Self::drop(
                b.with(no),
                format!("the SDDC's ENIs carry vpc `{}`'s default security group, whose inbound rules do not admit this source", self.site_name(cv.vpc)),
                sg.decl.span,
                "the default group's inbound rules govern traffic from the VPC into the SDDC: put the instance in the default group too, or (not recommended) admit its group in the default group's inbound rules".into(),
            ));
        }
        let mut nb = b
            .with(yes)
            .hop(&node, "default security group (inbound) admits", None);
        nb.marks.push(Mark::Filter(Filter::Eni(sddc), nb.view));
        nb.sender = None;
        steps.push(Step::Go(Loc::Cgw(sddc, Some(Uplink::Vpc)), nb));
        steps
    }

    pub(super) fn cgw(&self, sddc: SiteId, from: Option<Uplink>, b: Branch) -> Vec<Step> {
        let mut steps = Vec::new();
        match from {
            // Arriving from the internet: NAT first, then the firewall, for
            // each rule's share of the packets (each has its own view).
            Some(Uplink::Internet) => {
                let (translated, drops) = self.cgw_inbound_nat(sddc, b);
                steps.extend(drops);
                for (t, seen, other) in translated {
                    let t = self.to_management(sddc, t, MgmtFrom::Internet, &mut steps);
                    if t.orig.is_empty() {
                        continue;
                    }
                    if let Some(x) =
                        self.cgw_firewall(sddc, Uplink::Internet, t, seen, other, &mut steps)
                    {
                        steps.extend(self.cgw_select(sddc, x));
                    }
                }
            }
            Some(up) => {
                let b = self.to_management(sddc, b, MgmtFrom::Uplink, &mut steps);
                let v = Some(b.view);
                if !b.orig.is_empty() {
                    if let Some(x) = self.cgw_firewall(sddc, up, b, v, None, &mut steps) {
                        steps.extend(self.cgw_select(sddc, x));
                    }
                }
            }
            None => steps.extend(self.cgw_select(sddc, b)),
        }
        steps
    }

    /// Route selection at the compute gateway, once the firewall (if the
    /// packet came by an uplink) has admitted it.
    fn cgw_select(&self, sddc: SiteId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let site = m.site(sddc);
        let node = format!("sddc {} / cgw", site.decl.name);
        let mut steps = Vec::new();
        let (local, out) = self.dst_in(&b, self.attached_segments(sddc));
        if !local.is_empty() {
            let span = site.header_span;
            let nb = b.with(local).hop(&node, "destination on a segment", None);
            steps.extend(self.to_hosts(sddc, None, nb, "VM", span));
        }
        let rest = self.to_management(sddc, b.with(out), MgmtFrom::Segment, &mut steps);
        // A policy-based VPN whose selectors hold the packet comes before
        // any route.
        let mut ob = rest;
        for (c, sel) in self.policy_vpns(sddc) {
            let (yes, no) = self.split(&ob, &sel);
            ob = ob.with(no);
            if !yes.is_empty() {
                let conn = &m.connections[c.index()];
                let nb = ob.with(yes).hop(
                    &node,
                    format!(
                        "the selectors of policy-based vpn `{}` hold it",
                        conn.decl.name
                    ),
                    Some(conn.decl.span),
                );
                steps.extend(self.cgw_out(sddc, Uplink::Connection(c), nb));
            }
        }
        if ob.orig.is_empty() {
            return steps;
        }
        // Amazon S3 from an SDDC goes through the connected VPC's gateway
        // endpoint by default, source-translated into the connected VPC
        // (VMware, "Access an S3 bucket using an S3 endpoint"): not modelled,
        // so it is not decided rather than routed like the internet.
        let s3 = AddrRanges::from_nets(super::gateway_endpoint::s3_prefixes(m));
        let (to_s3, ob) = {
            let (yes, no) = self.dst_in(&ob, s3);
            (yes, ob.with(no))
        };
        if !to_s3.is_empty() {
            steps.push(Self::undecided(
                ob.with(to_s3),
                format!(
                    "the destination is in an Amazon S3 prefix list: sddc `{}` reaches S3 through \
                     its connected VPC's gateway endpoint, which is not modelled in this version",
                    site.decl.name
                ),
                site.header_span,
                "check the compute gateway's rules for the connected VPC uplink and the \
                 connected VPC's S3 endpoint by hand; the flows to other addresses are decided"
                    .into(),
            ));
        }
        if ob.orig.is_empty() {
            return steps;
        }
        steps.extend(self.cgw_route_split(sddc, &node, ob, |up, nb| self.cgw_out(sddc, up, nb)));
        steps
    }

    /// Route selection at the compute gateway: each uplink's share of `ob`
    /// by longest prefix over [`Self::cgw_routes`], with the route taken
    /// recorded, handed to `next`; what no route takes is dropped.
    pub(super) fn cgw_route_split(
        &self,
        sddc: SiteId,
        node: &str,
        ob: Branch,
        mut next: impl FnMut(Uplink, Branch) -> Vec<Step>,
    ) -> Vec<Step> {
        let mut steps = Vec::new();
        let routes = self.cgw_routes(sddc);
        let prefixes: Vec<ipnet::IpNet> = routes.iter().map(|r| r.0).collect();
        let uplinks: Vec<Uplink> = routes.iter().map(|r| r.1).collect();
        let parts = AddrRanges::lpm_partition(&prefixes);
        let (firsts, parts) = self.by_next_hop(&uplinks, &parts);
        // The parts are disjoint: one pass gives each its share.
        let (shares, rest) = self.split_dsts(&ob, &parts);
        for (&i, yes) in firsts.iter().zip(shares) {
            let (net, up, _, span) = &routes[i];
            if yes.is_empty() {
                continue;
            }
            let nb = ob.with(yes).hop(
                node,
                format!("route {net} -> uplink {}", self.uplink_name(*up)),
                Some(*span),
            );
            steps.extend(next(*up, nb));
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                ob.with(rest),
                "no route".into(),
                self.m().site(sddc).header_span,
                String::new(),
            ));
        }
        steps
    }

    /// The compute gateway's candidate routes, one per prefix: connected
    /// VPC, learned prefixes, internet default. Between equal prefixes the
    /// lowest rank wins: the connected VPC, then route-based VPN, then
    /// Direct Connect, then the internet default (docs/forwarding.md,
    /// "Oracle decisions"); within a rank, the connection declared first.
    pub(super) fn cgw_routes(&self, sddc: SiteId) -> Vec<(ipnet::IpNet, Uplink, u8, Span)> {
        let m = self.m();
        let site = m.site(sddc);
        let mut routes: Vec<(ipnet::IpNet, Uplink, u8, Span)> = Vec::new();
        if let Some(cv) = site.connected_vpc {
            for p in &m.site(cv.vpc).prefixes {
                routes.push((p.value, Uplink::Vpc, 0, cv.span));
            }
        }
        for (i, c) in m.connections.iter().enumerate() {
            if !matches!(c.kind, ConnKind::DirectConnect | ConnKind::Vpn)
                || !c.ends.iter().any(|e| e.value == sddc)
            {
                continue;
            }
            let up = Uplink::Connection(crate::model::ConnectionId(i as u32));
            let rank = if c.kind == ConnKind::Vpn { 1 } else { 2 };
            for a in c.advertise.iter().filter(|a| a.site != sddc) {
                for p in &a.prefixes {
                    routes.push((p.value, up, rank, a.span));
                }
            }
        }
        for d in ["0.0.0.0/0", "::/0"] {
            if let Ok(net) = d.parse() {
                routes.push((net, Uplink::Internet, 3, site.header_span));
            }
        }
        routes.sort_by_key(|r| (r.0, r.2));
        routes.dedup_by_key(|r| r.0);
        routes
    }

    pub(super) fn uplink_name(&self, u: Uplink) -> String {
        match u {
            Uplink::AllUplinks => "all-uplinks".into(),
            Uplink::Internet => "internet".into(),
            Uplink::Vpc => "vpc".into(),
            Uplink::DirectConnect => "direct-connect".into(),
            Uplink::Vpn => "vpn".into(),
            Uplink::Connection(c) => {
                let conn = &self.m().connections[c.index()];
                format!("{} `{}`", conn.kind.keyword(), conn.decl.name)
            }
        }
    }

    /// The compute gateway firewall on an uplink. `fw_view` is the header
    /// the firewall sees (after NAT, per `firewall-match`), or `None` to
    /// bypass it. Returns the admitted branch.
    fn cgw_firewall(
        &self,
        sddc: SiteId,
        up: Uplink,
        b: Branch,
        fw_view: Option<View>,
        other: Option<View>,
        steps: &mut Vec<Step>,
    ) -> Option<Branch> {
        let m = self.m();
        let Some(fw_view) = fw_view else {
            return Some(b);
        };
        let Some(&fw) = m
            .site(sddc)
            .firewalls
            .iter()
            .find(|&&f| m.firewalls[f.index()].kind == FirewallKind::Cgw)
        else {
            steps.push(Self::drop(b, "the SDDC has no compute gateway firewall: the Default Uplink Rule drops everything".into(), m.site(sddc).header_span, "add a `firewall cgw` rule that allows this traffic on this uplink".into()));
            return None;
        };
        let judge = Branch {
            view: fw_view,
            ..b.clone()
        };
        // Replies of flows the firewall admitted pass, on any uplink.
        let views: Vec<View> = std::iter::once(fw_view).chain(other).collect();
        let (replies, rest) = self.admitted(Filter::Firewall(sddc), &b, &views);
        let (allowed, dropped, rest) = self.firewall_first_match(fw, up, &judge, rest);
        let fw = &m.firewalls[fw.index()];
        for (r, set) in dropped {
            steps.push(Self::drop(
                b.with(set),
                format!("compute gateway rule `{}` drops it", r.decl.name),
                r.decl.span,
                "move an allow rule above it, or narrow this rule".into(),
            ));
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!("no compute gateway rule allows it on uplink {}: the Default Uplink Rule drops it", self.uplink_name(up)),
                fw.decl.name_span,
                format!("add a rule to `firewall cgw` allowing it, `applied-to {}`", self.uplink_keyword(up)),
            ));
        }
        let what = if allowed.is_empty() {
            "a reply it admits by state"
        } else {
            "allowed"
        };
        let allowed = allowed.union(&replies);
        if allowed.is_empty() {
            return None;
        }
        let mut nb = b.with(allowed).hop(
            &format!("sddc {} / cgw firewall", self.site_name(sddc)),
            format!("{what} on uplink {}", self.uplink_name(up)),
            None,
        );
        for v in views {
            nb.marks.push(Mark::Filter(Filter::Firewall(sddc), v));
        }
        Some(nb)
    }

    fn uplink_keyword(&self, up: Uplink) -> String {
        match up {
            Uplink::Connection(c) => {
                let conn = &self.m().connections[c.index()];
                match conn.kind {
                    ConnKind::DirectConnect => "direct-connect".into(),
                    _ => conn.decl.name.clone(),
                }
            }
            other => self.uplink_name(other),
        }
    }

    /// Inbound NAT on the internet uplink: the translated branches, each
    /// with the header the firewall judges (`None`: bypass) and the other
    /// side of the NAT, and the drops. Replies of the flows this uplink
    /// translated outbound are translated back first; anything else goes
    /// through the DNAT and reflexive rules.
    fn cgw_inbound_nat(&self, sddc: SiteId, b: Branch) -> (Vec<Judged>, Vec<Step>) {
        let m = self.m();
        let node = format!("sddc {} / cgw (uplink internet)", self.site_name(sddc));
        let mut steps = Vec::new();
        let mut out = Vec::new();
        let (undone, b) = self.undo(NatPoint::CgwInternet(sddc), &b);
        for (nb, n) in undone {
            // Inbound, the private side is after the (un)translation.
            let (seen, other) = fw_sides(n.firewall_match, nb.view, b.view);
            out.push((
                nb.hop(&node, "reply translated back (NAT session)", None),
                seen,
                other,
            ));
        }
        let mut rest = b.orig.clone();
        for n in self.nat_rules_by_kind(sddc, &[NatKind::Dnat, NatKind::Reflexive]) {
            let rule = &m.nat_rules[n.index()];
            if rest.is_empty() {
                break;
            }
            let Some(ext) = rule.external.as_ref() else {
                continue;
            };
            let (Some(from), Some(to)) =
                (self.space.nat_net(ext), self.space.nat_net(&rule.internal))
            else {
                continue;
            };
            let svc = rule
                .services
                .as_ref()
                .map_or_else(PacketSet::all, service_match);
            let matchset = PacketSet::from_fields(
                &AddrRanges::all(),
                &self.space.addrs(ext),
                None,
                (0, u16::MAX),
                (0, u16::MAX),
            )
            .intersect(&svc);
            let (yes, no) = self.split_set(&b.with(rest.clone()), &matchset);
            rest = no;
            for part in
                self.port_translated(&b.with(yes), rule.translated_port.as_ref().map(|p| p.value))
            {
                // The share's view has the rule's port already; the
                // translation goes from the header as it arrived.
                let mut nb = part;
                let before = b.view;
                let after = nb.view.with_dst(nat_translate(before.dst, from, to));
                nb.view = before;
                nb.translate(NatPoint::CgwInternet(sddc), after, rule.firewall_match);
                let (seen, other) = fw_sides(rule.firewall_match, after, before);
                let nb = nb.hop(
                    &node,
                    format!("DNAT `{}`: dst -> {}", rule.decl.name, nat_words(from, to)),
                    Some(rule.decl.span),
                );
                out.push((nb, seen, other));
            }
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!(
                    "no NAT rule of sddc `{}` translates the destination",
                    self.site_name(sddc)
                ),
                m.site(sddc).header_span,
                "add `nat dnat` from the public IP to the VM, for this service".into(),
            ));
        }
        (out, steps)
    }

    /// Splits a branch for a NAT rule's `-> PORT`: TCP and UDP packets get
    /// the new destination port, other protocols keep theirs (ICMP has no
    /// port; docs/forwarding.md, "Oracle decisions").
    pub(in crate::engine) fn port_translated(&self, b: &Branch, port: Option<u16>) -> Vec<Branch> {
        let Some(port) = port else {
            return vec![b.clone()];
        };
        let mut parts = Vec::new();
        let mut rest = b.orig.clone();
        for proto in [TCP, UDP] {
            let (yes, no) = self.split(
                &b.with(rest.clone()),
                &HeaderPredicate {
                    proto: Some((proto, proto)),
                    ..Default::default()
                },
            );
            rest = no;
            let mut nb = b.with(yes);
            nb.view = nb
                .view
                .with_dport(crate::engine::view::PortExpr::Const(port));
            parts.push(nb);
        }
        parts.push(b.with(rest));
        parts.retain(|p| !p.orig.is_empty());
        parts
    }

    /// An SDDC's NAT rules of the given kinds, kind by kind in that order,
    /// each kind in declaration order: outbound, `snat` beats `reflexive`
    /// beats `no-snat`; inbound, `dnat` beats `reflexive`
    /// (docs/forwarding.md, "NAT on the internet uplink").
    fn nat_rules_by_kind(&self, sddc: SiteId, kinds: &[NatKind]) -> Vec<crate::model::NatRuleId> {
        let m = self.m();
        kinds
            .iter()
            .flat_map(|&k| {
                m.site(sddc)
                    .nat_rules
                    .iter()
                    .copied()
                    .filter(move |n| m.nat_rules[n.index()].kind == k)
            })
            .collect()
    }

    /// The policy-based VPNs of a site, in declaration order, each with the
    /// headers its selectors hold from this site: `local` is the first
    /// end's side, `remote` the second's ("Oracle decisions").
    pub(super) fn policy_vpns(&self, site: SiteId) -> Vec<(ConnectionId, HeaderPredicate)> {
        let m = self.m();
        let mut out = Vec::new();
        for (i, c) in m.connections.iter().enumerate() {
            if c.kind != ConnKind::Vpn || c.vpn_mode != Some(VpnMode::PolicyBased) {
                continue;
            }
            let (Some(first), Some(second), Some(local), Some(remote)) = (
                c.ends.first(),
                c.ends.get(1),
                c.local.as_ref(),
                c.remote.as_ref(),
            ) else {
                continue;
            };
            let (mine, theirs) = if first.value == site {
                (local, remote)
            } else if second.value == site {
                (remote, local)
            } else {
                continue;
            };
            out.push((
                ConnectionId(i as u32),
                HeaderPredicate {
                    src: Some(self.space.addrs(mine)),
                    dst: Some(self.space.addrs(theirs)),
                    ..Default::default()
                },
            ));
        }
        out
    }

    /// The segments attached to an SDDC's compute gateway: all but those
    /// extended by L2VPN, whose gateway is on-prem (the SDDC reaches them
    /// through the on-prem edge).
    pub(super) fn attached_segments(&self, sddc: SiteId) -> AddrRanges {
        let m = self.m();
        AddrRanges::from_nets(
            m.site(sddc)
                .subnets
                .iter()
                .filter(|&&s| m.subnet(s).extended_by.is_none())
                .map(|&s| m.subnet(s).prefix.value),
        )
    }

    /// Leaving the compute gateway by an uplink: firewall, NAT on the
    /// internet uplink, then the next node.
    fn cgw_out(&self, sddc: SiteId, up: Uplink, b: Branch) -> Vec<Step> {
        let m = self.m();
        let site = m.site(sddc);
        let mut steps = Vec::new();
        match up {
            Uplink::Internet => {
                let node = format!("sddc {} / cgw (uplink internet)", site.decl.name);
                // The replies of flows this uplink translated inbound.
                let (undone, b) = self.undo(NatPoint::CgwInternet(sddc), &b);
                for (nb, n) in undone {
                    // Outbound, the private side is before the translation.
                    let (seen, other) = fw_sides(n.firewall_match, b.view, nb.view);
                    let nb = nb.hop(&node, "reply translated back (NAT session)", None);
                    if let Some(x) = self.cgw_firewall(sddc, up, nb, seen, other, &mut steps) {
                        steps.push(Step::Go(Loc::Internet, x));
                    }
                }
                if b.orig.is_empty() {
                    return steps;
                }
                // Outbound SNAT: explicit rules, then the default SNAT.
                let mut rest = b.orig.clone();
                let order = [NatKind::Snat, NatKind::Reflexive, NatKind::NoSnat];
                for n in self.nat_rules_by_kind(sddc, &order) {
                    let rule = &m.nat_rules[n.index()];
                    if rest.is_empty() {
                        break;
                    }
                    let int = self.space.addrs(&rule.internal);
                    let (yes, no) = self.src_in(&b.with(rest.clone()), int);
                    match rule.kind {
                        NatKind::NoSnat => {
                            rest = no;
                            if !yes.is_empty() {
                                let nb = b.with(yes).hop(
                                    &node,
                                    format!("no-snat `{}`", rule.decl.name),
                                    Some(rule.decl.span),
                                );
                                let v = Some(nb.view);
                                if let Some(x) =
                                    self.cgw_firewall(sddc, up, nb, v, None, &mut steps)
                                {
                                    steps.push(Step::Go(Loc::Internet, x));
                                }
                            }
                        }
                        NatKind::Snat | NatKind::Reflexive => {
                            rest = no;
                            if yes.is_empty() {
                                continue;
                            }
                            let nets = rule.external.as_ref().and_then(|e| {
                                Some((self.space.nat_net(&rule.internal)?, self.space.nat_net(e)?))
                            });
                            let Some((from, to)) = nets else {
                                continue;
                            };
                            let nb = b.with(yes);
                            let src = nat_translate(nb.view.src, from, to);
                            steps.extend(self.snat_out(
                                sddc,
                                nb,
                                src,
                                rule.firewall_match,
                                format!(
                                    "SNAT `{}`: src -> {}",
                                    rule.decl.name,
                                    nat_words(from, to)
                                ),
                                Some(rule.decl.span),
                            ));
                        }
                        NatKind::Dnat => {}
                    }
                }
                // The default SNAT translates sources of its own family
                // (IPv4 for the implicit one); the rest leaves untranslated.
                let mut rest = b.with(rest);
                if let Some(&to) = self.space.default_snat.get(&sddc) {
                    let fam = AddrRanges::all_of(crate::engine::packet_set::Family::of(to));
                    let (same, other) = self.src_in(&rest, fam);
                    steps.extend(self.snat_out(
                        sddc,
                        b.with(same),
                        AddrExpr::Const(to),
                        FirewallMatch::Internal,
                        format!("default SNAT: src -> {to}"),
                        None,
                    ));
                    rest = b.with(other);
                }
                if !rest.orig.is_empty() {
                    if let Some(x) =
                        self.cgw_firewall(sddc, up, rest.clone(), Some(rest.view), None, &mut steps)
                    {
                        steps.push(Step::Go(
                            Loc::Internet,
                            x.hop(&node, "no SNAT: the source leaves untranslated", None),
                        ));
                    }
                }
            }
            Uplink::Vpc => {
                if let Some(x) =
                    self.cgw_firewall(sddc, up, b.clone(), Some(b.view), None, &mut steps)
                {
                    steps.extend(self.eni_to_vpc(sddc, x));
                }
            }
            Uplink::Connection(c) => {
                if let Some(x) =
                    self.cgw_firewall(sddc, up, b.clone(), Some(b.view), None, &mut steps)
                {
                    let conn = &m.connections[c.index()];
                    match conn.other_end(sddc) {
                        Some(other) => steps.extend(self.enter_site(other, up, x)),
                        None => steps.push(Self::drop(
                            x,
                            "the connection has no other end".into(),
                            conn.decl.span,
                            String::new(),
                        )),
                    }
                }
            }
            // The generic words `direct-connect`, `vpn` and `all-uplinks`
            // only select firewall rules: route selection always names the
            // connection itself, so no packet leaves by them.
            Uplink::AllUplinks | Uplink::DirectConnect | Uplink::Vpn => steps.push(Self::drop(
                b,
                format!(
                    "`{}` is not an uplink a packet can leave by",
                    self.uplink_name(up)
                ),
                site.header_span,
                String::new(),
            )),
        }
        steps
    }

    /// SNAT on the internet uplink: the source becomes `src`, then the
    /// firewall (per `firewall-match`) and the internet.
    fn snat_out(
        &self,
        sddc: SiteId,
        b: Branch,
        src: AddrExpr,
        fm: FirewallMatch,
        what: String,
        span: Option<Span>,
    ) -> Vec<Step> {
        let mut steps = Vec::new();
        if b.orig.is_empty() {
            return steps;
        }
        let before = b.view;
        let after = before.with_src(src);
        let mut nb = b;
        nb.translate(NatPoint::CgwInternet(sddc), after, fm);
        // Outbound, the private side is before the translation.
        let (seen, other) = fw_sides(fm, before, after);
        let node = format!("sddc {} / cgw (uplink internet)", self.site_name(sddc));
        let nb = nb.hop(&node, what, span);
        if let Some(x) = self.cgw_firewall(sddc, Uplink::Internet, nb, seen, other, &mut steps) {
            steps.push(Step::Go(Loc::Internet, x));
        }
        steps
    }

    /// From the SDDC into its connected VPC through the ENIs: the default
    /// security group's outbound rules, then the VPC router from a gateway.
    fn eni_to_vpc(&self, sddc: SiteId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let Some(cv) = m.site(sddc).connected_vpc else {
            return vec![];
        };
        let node = format!(
            "sddc {} / ENIs in vpc {}",
            self.site_name(sddc),
            self.site_name(cv.vpc)
        );
        let mut steps = Vec::new();
        let mut nb = b.clone();
        if let Some(default) = m.site(cv.vpc).default_sg {
            let (replies, rest) = self.admitted(Filter::Eni(sddc), &b, &[b.view]);
            let allowed = self.sg_set(&[default], false, &[]);
            let (yes, no) = self.split_set(&b.with(rest), &allowed);
            if !no.is_empty() {
                steps.push(Self::drop(b.with(no), "the connected VPC's default security group allows no such outbound traffic from the SDDC".into(), m.security_groups[default.index()].decl.span, "the default group's outbound rules govern traffic from the SDDC into the VPC".into()));
            }
            nb = b.with(yes);
            nb.marks.push(Mark::Filter(Filter::Eni(sddc), nb.view));
            nb.orig = nb.orig.union(&replies);
        }
        // The VPC sees the SDDC as a member of its default group.
        nb.sender = Some((Sender::Default(cv.vpc), nb.view.src));
        steps.push(Step::Go(
            Loc::VpcRouter(cv.vpc, None),
            nb.hop(&node, "into the connected VPC", None),
        ));
        steps
    }
}

/// A branch the gateway firewall is to judge: the header it judges (`None`:
/// `firewall-match bypass`) and the header on the other side of NAT.
type Judged = (Branch, Option<View>, Option<View>);

/// What a gateway firewall sees of a flow NAT translated, per the rule's
/// `firewall-match`: the header it judges and the other side, which its
/// state covers too. `internal` judges the private side.
fn fw_sides(fm: FirewallMatch, private: View, public: View) -> (Option<View>, Option<View>) {
    match fm {
        FirewallMatch::Internal => (Some(private), Some(public)),
        FirewallMatch::External => (Some(public), Some(private)),
        FirewallMatch::Bypass => (None, None),
    }
}
