//! VMware Cloud on AWS: the compute gateway (CGW), its route selection,
//! NAT on the internet uplink, and the gateway firewall (shared with the
//! on-prem edge).

use super::matching::{self, Peer};
use super::mgw::MgmtFrom;
use super::vpc::{host_prefix, svc_literal};
use super::walk::{drop, tri, At, Drop, Link, NatPoint, NatSession, StateKey, Step, Walker};
use super::{Packet, Stage};
use crate::model::{
    ConnectionId, FirewallId, FirewallKind, FirewallRule, NatRule, SiteId, SubnetKind, Uplink,
};
use crate::span::Span;
use crate::syntax::ast::{Action, ConnKind, FirewallMatch, NatKind, SiteKind, VpnMode};
use ipnet::IpNet;

/// What a gateway does when no firewall rule matches.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FirewallDefault {
    /// The compute gateway's Default Uplink Rule drops everything, even when
    /// the design declares no `firewall cgw`.
    DefaultUplinkRule,
    /// A declared edge firewall's implicit last rule drops; a site without a
    /// firewall filters nothing.
    EdgeImplicitDrop,
}

/// A route the compute gateway (or an edge) can choose, before the choice.
pub(super) struct Candidate {
    pub prefix: IpNet,
    /// Lower wins between equal prefixes.
    pub rank: u8,
    pub link: Link,
    pub span: Option<Span>,
    pub why: String,
}

fn rule_applies(rule: &FirewallRule, link: Link) -> bool {
    rule.applied_to.iter().any(|u| match (u.value, link) {
        (Uplink::AllUplinks, _) => true,
        (Uplink::Internet, Link::Internet) => true,
        (Uplink::Vpc, Link::Vpc) => true,
        (Uplink::DirectConnect, Link::Dx(_)) => true,
        (Uplink::Vpn, Link::Vpn(_)) => true,
        (Uplink::Connection(c), Link::Dx(d) | Link::Vpn(d) | Link::Tgw(d)) => c == d,
        _ => false,
    })
}

impl<'m> Walker<'m> {
    /// The SDDC's compute gateway firewall, if the design declares one.
    fn cgw_firewall(&self, sddc: SiteId) -> Option<FirewallId> {
        let site = self.m.sites.get(sddc.index())?;
        site.firewalls.iter().copied().find(|f| {
            self.m
                .firewalls
                .get(f.index())
                .is_some_and(|f| f.kind == FirewallKind::Cgw)
        })
    }

    /// How an `applied-to` list names a link.
    fn applied_to_word(&self, link: Link) -> String {
        let conn = |c: ConnectionId| {
            self.m
                .connections
                .get(c.index())
                .map_or("?", |c| c.decl.name.as_str())
                .to_string()
        };
        match link {
            Link::Internet => "internet".into(),
            Link::Vpc => "vpc".into(),
            Link::Dx(_) => "direct-connect".into(),
            Link::Vpn(c) | Link::Tgw(c) => conn(c),
        }
    }

    /// A gateway firewall judges a packet crossing `link`. `seen` is the
    /// header the firewall sees; `other` is the same packet on the other side
    /// of NAT, which the session covers too, so that the reply is admitted
    /// whichever side of NAT it is judged on. Stateful: the reply of any
    /// flow the firewall admitted passes, on any of its uplinks.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn gateway_firewall(
        &mut self,
        fw: Option<FirewallId>,
        site: SiteId,
        default: FirewallDefault,
        link: Link,
        seen: &Packet,
        other: Option<&Packet>,
        note: &str,
    ) -> Result<(), Drop> {
        let m = self.m;
        let firewall = fw.and_then(|f| m.firewalls.get(f.index()).map(|x| (f, x)));
        let Some((fid, firewall)) = firewall else {
            if default == FirewallDefault::EdgeImplicitDrop {
                return Ok(());
            }
            let span = m.sites.get(site.index()).map(|s| s.header_span);
            return Err(drop(
                format!(
                    "{} declares no `firewall cgw`, so the Default Uplink Rule drops everything \
                     on uplink {}",
                    self.site_name(site),
                    self.link_name(link)
                ),
                span,
                format!(
                    "add `firewall cgw {{ rule NAME allow from {} to {} service {} applied-to {} }}`",
                    seen.src,
                    seen.dst,
                    svc_literal(seen),
                    self.applied_to_word(link)
                ),
            )
            .at(Stage::Firewall));
        };
        let key = StateKey::Firewall(fid);
        if self.admitted_reply(key, seen) || other.is_some_and(|o| self.admitted_reply(key, o)) {
            self.hop(
                Stage::Firewall,
                format!(
                    "firewall `{}` admits the reply: it allowed the request (stateful)",
                    firewall.decl.name
                ),
                Some(firewall.decl.span),
            );
            return Ok(());
        }
        let matches = |r: &FirewallRule, p: &Packet| {
            rule_applies(r, link)
                && matching::expr_has(m, &r.from, p.src, Peer::Dst)
                && matching::expr_has(m, &r.to, p.dst, Peer::Dst)
                && matching::svc_has(&r.services, p)
        };
        if let Some(rule) = firewall.rules.iter().find(|r| matches(r, seen)) {
            return match rule.action.value {
                Action::Allow => {
                    self.hop(
                        Stage::Firewall,
                        format!("rule `{}` allows it{note}", rule.decl.name),
                        Some(rule.decl.span),
                    );
                    self.remember(key, *seen);
                    if let Some(o) = other {
                        self.remember(key, *o);
                    }
                    Ok(())
                }
                Action::Drop | Action::Reject => {
                    let verb = if rule.action.value == Action::Drop {
                        "drops"
                    } else {
                        "rejects"
                    };
                    Err(drop(
                        format!("rule `{}` {verb} it{note}", rule.decl.name),
                        Some(rule.decl.span),
                        format!("put an allow rule above `{}`, or narrow it", rule.decl.name),
                    )
                    .at(Stage::Firewall))
                }
            };
        }
        let last = match default {
            FirewallDefault::DefaultUplinkRule => "the Default Uplink Rule drops it",
            FirewallDefault::EdgeImplicitDrop => "its implicit last rule drops it",
        };
        let where_ = match default {
            FirewallDefault::DefaultUplinkRule => format!("uplink {}", self.link_name(link)),
            FirewallDefault::EdgeImplicitDrop => self.link_name(link),
        };
        // The classic mistake: a rule written for the other side of NAT.
        let other_side = other.and_then(|o| firewall.rules.iter().find(|r| matches(r, o)));
        let help = match (other_side, other) {
            (Some(r), Some(o)) => format!(
                "rule `{}` matches the packet as {}, but the firewall sees {}{}: write the \
                 addresses the firewall sees",
                r.decl.name,
                o,
                seen,
                if note.is_empty() { "" } else { " after NAT" }
            ),
            _ => format!(
                "add `rule NAME allow from {} to {} service {} applied-to {}` to firewall `{}`",
                host_prefix(seen.src),
                host_prefix(seen.dst),
                svc_literal(seen),
                self.applied_to_word(link),
                firewall.decl.name
            ),
        };
        Err(drop(
            format!(
                "no rule of firewall `{}` allows {} on {where_}{note}: {last}",
                firewall.decl.name, seen
            ),
            Some(firewall.decl.span),
            help,
        )
        .at(Stage::Firewall))
    }

    /// The prefixes `here` learns over connection `c`: what the other end's
    /// `advertise` lines say, and, when the other end is an SDDC, its
    /// routed segments and management prefixes, which it advertises without
    /// being told.
    pub(super) fn learned(&self, here: SiteId, c: ConnectionId) -> Vec<(IpNet, Option<Span>)> {
        let m = self.m;
        if self.tgw_of(c).is_some() {
            return self.tgw_advertised(c);
        }
        let Some(other) = self.other_end(c, here) else {
            return Vec::new();
        };
        let Some(conn) = m.connections.get(c.index()) else {
            return Vec::new();
        };
        let mut out: Vec<(IpNet, Option<Span>)> = conn
            .advertise
            .iter()
            .filter(|a| a.site == other)
            .flat_map(|a| a.prefixes.iter().map(|p| (p.value, Some(p.span))))
            .collect();
        if let Some(s) = m
            .sites
            .get(other.index())
            .filter(|s| s.kind == SiteKind::Sddc)
        {
            for sub in s.subnets.iter().filter_map(|i| m.subnets.get(i.index())) {
                if sub.kind == SubnetKind::NsxSegment && sub.extended_by.is_none() {
                    out.push((sub.prefix.value, Some(sub.prefix.span)));
                }
            }
            out.extend(s.management.iter().map(|p| (p.value, Some(p.span))));
        }
        out
    }

    /// The connections of a site of a kind: direct connects and route-based
    /// VPNs carry learned routes.
    pub(super) fn routed_links(&self, site: SiteId) -> Vec<(ConnectionId, Link)> {
        self.m
            .connections
            .iter()
            .enumerate()
            .filter(|(_, c)| c.ends.iter().any(|e| e.value == site))
            .filter_map(|(i, c)| {
                let id = ConnectionId(i as u32);
                match (c.kind, c.vpn_mode) {
                    (ConnKind::DirectConnect, _) => Some((id, Link::Dx(id))),
                    (ConnKind::Vpn, Some(VpnMode::RouteBased) | None) => Some((id, Link::Vpn(id))),
                    _ => None,
                }
            })
            .collect()
    }

    /// A policy-based VPN of `site` whose selectors hold the packet: `local`
    /// is the first end's side, `remote` the second's.
    pub(super) fn policy_vpn(&self, site: SiteId, p: &Packet) -> Option<ConnectionId> {
        let m = self.m;
        m.connections.iter().enumerate().find_map(|(i, c)| {
            if c.kind != ConnKind::Vpn || c.vpn_mode != Some(VpnMode::PolicyBased) {
                return None;
            }
            let first = c.ends.first()?.value;
            let second = c.ends.get(1)?.value;
            let (mine, theirs) = if first == site {
                (c.local.as_ref()?, c.remote.as_ref()?)
            } else if second == site {
                (c.remote.as_ref()?, c.local.as_ref()?)
            } else {
                return None;
            };
            (matching::expr_has(m, mine, p.src, Peer::Dst)
                && matching::expr_has(m, theirs, p.dst, Peer::Dst))
            .then_some(ConnectionId(i as u32))
        })
    }

    /// Picks the longest prefix, then the lowest rank, then the first.
    pub(super) fn best(cands: Vec<Candidate>, p: &Packet) -> Option<Candidate> {
        let mut best: Option<Candidate> = None;
        for c in cands.into_iter().filter(|c| c.prefix.contains(&p.dst)) {
            let better = match &best {
                None => true,
                Some(b) => {
                    c.prefix.prefix_len() > b.prefix.prefix_len()
                        || (c.prefix.prefix_len() == b.prefix.prefix_len() && c.rank < b.rank)
                }
            };
            if better {
                best = Some(c);
            }
        }
        best
    }

    /// The compute gateway's candidate routes: the connected VPC, what the
    /// connections learned, the internet default.
    pub(super) fn cgw_candidates(&self, sddc: SiteId) -> Vec<Candidate> {
        let m = self.m;
        let Some(site) = m.sites.get(sddc.index()) else {
            return Vec::new();
        };
        let mut cands = Vec::new();
        if let Some(cv) = site.connected_vpc {
            if let Some(vpc) = m.sites.get(cv.vpc.index()) {
                for prefix in &vpc.prefixes {
                    cands.push(Candidate {
                        prefix: prefix.value,
                        rank: 0,
                        link: Link::Vpc,
                        span: Some(prefix.span),
                        why: format!("the connected VPC `{}`", vpc.decl.name),
                    });
                }
            }
        }
        for (c, link) in self.routed_links(sddc) {
            let (rank, how) = match link {
                Link::Vpn(_) => (1, "learned over"),
                _ => (2, "learned over"),
            };
            let from = self
                .other_end(c, sddc)
                .map_or_else(String::new, |o| format!(" from {}", self.site_name(o)));
            for (prefix, span) in self.learned(sddc, c) {
                cands.push(Candidate {
                    prefix,
                    rank,
                    link,
                    span,
                    why: format!("{how} {}{from}", self.conn_name(c)),
                });
            }
        }
        for default in ["0.0.0.0/0", "::/0"] {
            if let Ok(prefix) = default.parse::<IpNet>() {
                cands.push(Candidate {
                    prefix,
                    rank: 3,
                    link: Link::Internet,
                    span: Some(site.header_span),
                    why: "the SDDC's internet default route".into(),
                });
            }
        }
        cands
    }

    /// Route selection at the compute gateway: for a packet leaving a
    /// segment, or arriving from an uplink.
    pub(super) fn cgw_route(&mut self, sddc: SiteId, p: Packet) -> Step {
        let m = self.m;
        let Some(site) = m.sites.get(sddc.index()) else {
            return drop("the sddc does not exist", None, "").into();
        };
        let segment = site.subnets.iter().copied().find(|s| {
            m.subnets.get(s.index()).is_some_and(|sub| {
                sub.kind == SubnetKind::NsxSegment
                    && sub.extended_by.is_none()
                    && sub.prefix.value.contains(&p.dst)
            })
        });
        if let Some(seg) = segment {
            let sub = m.subnets.get(seg.index());
            self.hop(
                Stage::Route,
                format!(
                    "{} is on segment `{}`",
                    p.dst,
                    sub.map_or("?", |s| s.decl.name.as_str())
                ),
                sub.map(|s| s.prefix.span),
            );
            return self.deliver_on(seg, p);
        }
        if let Some(step) = self.management_gateway(sddc, &p, MgmtFrom::Segment) {
            return step;
        }
        if let Some(c) = self.policy_vpn(sddc, &p) {
            self.hop(
                Stage::Route,
                format!(
                    "the selectors of policy-based {} hold {} -> {}",
                    self.conn_name(c),
                    p.src,
                    p.dst
                ),
                m.connections.get(c.index()).map(|c| c.decl.span),
            );
            return Step::Next(
                At::CgwOut {
                    sddc,
                    link: Link::Vpn(c),
                },
                p,
            );
        }
        // Amazon S3 goes through the connected VPC's gateway endpoint by
        // default, source-translated (VMware, "Access an S3 bucket using an
        // S3 endpoint"): not modelled, so not decided.
        let s3 = m.prefix_lists.iter().find_map(|l| {
            (l.service == Some(crate::syntax::ast::AwsService::S3))
                .then(|| l.prefixes.iter().find(|x| x.value.contains(&p.dst)))
                .flatten()
        });
        if let Some(prefix) = s3 {
            return drop(
                format!(
                    "{} is in an Amazon S3 prefix list ({}): {} reaches S3 through its connected \
                     VPC's gateway endpoint, which netproof does not model",
                    p.dst,
                    prefix.value,
                    self.site_name(sddc)
                ),
                Some(site.header_span),
                "check the compute gateway's rules and the connected VPC's S3 endpoint by hand",
            )
            .at(Stage::Route)
            .undecided()
            .into();
        }
        let cands = self.cgw_candidates(sddc);
        let Some(best) = Self::best(cands, &p) else {
            return drop(
                format!(
                    "the compute gateway of {} has no route for {}",
                    self.site_name(sddc),
                    p.dst
                ),
                Some(site.header_span),
                "",
            )
            .at(Stage::Route)
            .into();
        };
        let beats = if best.link != Link::Internet && best.prefix.prefix_len() == 0 {
            " (a learned default route wins over the internet default)"
        } else {
            ""
        };
        self.hop(
            Stage::Route,
            format!(
                "longest match {} -> uplink {}: {}{beats}",
                best.prefix,
                self.link_name(best.link),
                best.why
            ),
            best.span,
        );
        Step::Next(
            At::CgwOut {
                sddc,
                link: best.link,
            },
            p,
        )
    }

    /// A packet arrives at the compute gateway from an uplink: NAT on the
    /// internet uplink, the firewall, then route selection. A packet for the
    /// management network is the management gateway's, not the firewall's.
    pub(super) fn cgw_from_link(&mut self, sddc: SiteId, link: Link, p: Packet) -> Step {
        let fw = self.cgw_firewall(sddc);
        let mut q = p;
        let mut fm = FirewallMatch::Internal;
        if link == Link::Internet {
            let (translated, how) = tri!(self.cgw_nat_in(sddc, p));
            q = translated;
            fm = how;
        }
        if let Some(step) = self.management_gateway(
            sddc,
            &q,
            if link == Link::Internet {
                MgmtFrom::Internet
            } else {
                MgmtFrom::Uplink
            },
        ) {
            return step;
        }
        let (seen, other, note) = nat_view(&p, &q, fm, true);
        if fm == FirewallMatch::Bypass {
            self.hop(
                Stage::Firewall,
                "firewall-match bypass: the firewall does not judge this flow",
                self.node_span,
            );
        } else {
            tri!(self.gateway_firewall(
                fw,
                sddc,
                FirewallDefault::DefaultUplinkRule,
                link,
                &seen,
                other.as_ref(),
                &note
            ));
        }
        self.sender = None;
        self.cgw_route(sddc, q)
    }

    /// DNAT and reflexive NAT for a packet arriving on the internet uplink,
    /// or the undoing of the SNAT a request got; the firewall-match that
    /// decides what the firewall sees.
    fn cgw_nat_in(&mut self, sddc: SiteId, p: Packet) -> Result<(Packet, FirewallMatch), Drop> {
        let m = self.m;
        let point = NatPoint::Cgw(sddc, Link::Internet);
        if let Some((q, s)) = self.undo_nat(point, &p) {
            self.undo_hop(&s, p, q);
            return Ok((q, s.firewall_match));
        }
        let rules = self.nat_rules(sddc);
        let dnat = rules.iter().find(|r| {
            r.kind == NatKind::Dnat
                && matching::nat_external_has(m, r, p.dst)
                && r.services.as_ref().is_none_or(|s| matching::svc_has(s, &p))
        });
        let reflexive = || {
            rules
                .iter()
                .find(|r| r.kind == NatKind::Reflexive && matching::nat_external_has(m, r, p.dst))
                .copied()
        };
        if let Some(r) = dnat.copied().or_else(reflexive) {
            let (Some(ext), Some(int)) = (
                r.external.as_ref().and_then(|e| matching::expr_net(m, e)),
                matching::expr_net(m, &r.internal),
            ) else {
                return Err(drop(
                    format!("NAT rule `{}` has no usable internal address", r.decl.name),
                    Some(r.decl.span),
                    "fix the rule's addresses",
                )
                .at(Stage::Nat));
            };
            let mut q = Packet {
                dst: matching::translate(ext, int, p.dst),
                ..p
            };
            if let Some(port) = &r.translated_port {
                if p.has_ports() {
                    q.dport = port.value;
                }
            }
            let kind = if r.kind == NatKind::Dnat {
                "DNAT"
            } else {
                "reflexive NAT"
            };
            self.rewrite(
                Stage::Nat,
                format!("{kind} `{}`", r.decl.name),
                p,
                q,
                Some(r.decl.span),
            );
            self.record_nat(NatSession {
                point,
                before: p,
                after: q,
                what: format!("{kind} `{}`", r.decl.name),
                span: Some(r.decl.span),
                firewall_match: r.firewall_match,
                node: self.node.clone(),
                via: None,
            });
            return Ok((q, r.firewall_match));
        }
        let site = m.sites.get(sddc.index());
        let public = m
            .public_ips
            .iter()
            .find(|x| x.site == sddc && x.addr.value == p.dst);
        let (reason, span) = if matching::default_snat_addr(m, sddc) == Some(p.dst) {
            (
                format!(
                    "{} is the default SNAT address of {}, which admits only replies",
                    p.dst,
                    self.site_name(sddc)
                ),
                site.map(|s| s.header_span),
            )
        } else {
            (
                format!(
                    "no NAT rule of {} translates {} {}",
                    self.site_name(sddc),
                    p.dst,
                    svc_literal(&p)
                ),
                public.map_or(site.map(|s| s.header_span), |x| Some(x.decl.span)),
            )
        };
        Err(drop(
            reason,
            span,
            format!(
                "publish a host with `nat dnat NAME {} -> HOST` in {}",
                p.dst,
                self.site_name(sddc)
            ),
        )
        .at(Stage::Nat))
    }

    fn nat_rules(&self, site: SiteId) -> Vec<&'m NatRule> {
        let m = self.m;
        m.sites.get(site.index()).map_or_else(Vec::new, |s| {
            s.nat_rules
                .iter()
                .filter_map(|r| m.nat_rules.get(r.index()))
                .collect()
        })
    }

    /// A packet leaves the compute gateway by an uplink: NAT (internet
    /// only), the firewall, then the next node.
    pub(super) fn cgw_out(&mut self, sddc: SiteId, link: Link, p: Packet) -> Step {
        let fw = self.cgw_firewall(sddc);
        if link != Link::Internet {
            tri!(self.gateway_firewall(
                fw,
                sddc,
                FirewallDefault::DefaultUplinkRule,
                link,
                &p,
                None,
                ""
            ));
            return match link {
                Link::Vpc => Step::Next(At::EniToVpc(sddc), p),
                Link::Tgw(c) => Step::Next(At::Tgw(c, crate::model::Entity::Site(sddc)), p),
                Link::Dx(c) | Link::Vpn(c) => match self.other_end(c, sddc) {
                    Some(other) => self.enter_over(c, other, p),
                    None => drop(
                        format!(
                            "{} does not join {}",
                            self.conn_name(c),
                            self.site_name(sddc)
                        ),
                        self.m.connections.get(c.index()).map(|c| c.decl.span),
                        "",
                    )
                    .into(),
                },
                Link::Internet => Step::Next(At::Internet, p),
            };
        }
        let (q, fm) = tri!(self.cgw_nat_out(sddc, p));
        let (seen, other, note) = nat_view(&p, &q, fm, false);
        if fm == FirewallMatch::Bypass {
            self.hop(
                Stage::Firewall,
                "firewall-match bypass: the firewall does not judge this flow",
                self.node_span,
            );
        } else {
            tri!(self.gateway_firewall(
                fw,
                sddc,
                FirewallDefault::DefaultUplinkRule,
                link,
                &seen,
                other.as_ref(),
                &note
            ));
        }
        self.sender = None;
        Step::Next(At::Internet, q)
    }

    /// SNAT for a packet leaving by the internet uplink, or the undoing of
    /// the DNAT a request got.
    fn cgw_nat_out(&mut self, sddc: SiteId, p: Packet) -> Result<(Packet, FirewallMatch), Drop> {
        let m = self.m;
        let point = NatPoint::Cgw(sddc, Link::Internet);
        if let Some((q, s)) = self.undo_nat(point, &p) {
            self.undo_hop(&s, p, q);
            return Ok((q, s.firewall_match));
        }
        let rules = self.nat_rules(sddc);
        let by_kind = |k: NatKind| {
            rules
                .iter()
                .find(|r| r.kind == k && matching::expr_has(m, &r.internal, p.src, Peer::Dst))
                .copied()
        };
        if let Some(r) = by_kind(NatKind::Snat).or_else(|| by_kind(NatKind::Reflexive)) {
            let (Some(int), Some(ext)) = (
                matching::expr_net(m, &r.internal),
                r.external.as_ref().and_then(|e| matching::expr_net(m, e)),
            ) else {
                return Err(drop(
                    format!("NAT rule `{}` has no usable external address", r.decl.name),
                    Some(r.decl.span),
                    "fix the rule's addresses",
                )
                .at(Stage::Nat));
            };
            let q = Packet {
                src: matching::translate(int, ext, p.src),
                ..p
            };
            let kind = if r.kind == NatKind::Snat {
                "SNAT"
            } else {
                "reflexive NAT"
            };
            self.rewrite(
                Stage::Nat,
                format!("{kind} `{}`", r.decl.name),
                p,
                q,
                Some(r.decl.span),
            );
            self.record_nat(NatSession {
                point,
                before: p,
                after: q,
                what: format!("{kind} `{}`", r.decl.name),
                span: Some(r.decl.span),
                firewall_match: r.firewall_match,
                node: self.node.clone(),
                via: None,
            });
            return Ok((q, r.firewall_match));
        }
        if let Some(r) = by_kind(NatKind::NoSnat) {
            self.hop(
                Stage::Nat,
                format!("no-snat `{}`: the source is kept", r.decl.name),
                Some(r.decl.span),
            );
            return Ok((p, r.firewall_match));
        }
        let site = m.sites.get(sddc.index());
        if let Some(crate::model::DefaultSnat::Off(span)) = site.map(|s| s.default_snat) {
            self.hop(
                Stage::Nat,
                "`default-snat off`: the source is kept",
                Some(span),
            );
            return Ok((p, FirewallMatch::Internal));
        }
        let (addr, span, implicit) = match site.map(|s| s.default_snat) {
            Some(crate::model::DefaultSnat::Addr(a, span)) => (Some(a), Some(span), false),
            _ => (
                matching::default_snat_addr(m, sddc),
                site.map(|s| s.header_span),
                true,
            ),
        };
        match addr {
            Some(a) if a.is_ipv4() == p.src.is_ipv4() => {
                let q = Packet { src: a, ..p };
                let note = if implicit {
                    " (its address is not in the design; netproof shows it as this reserved \
                     placeholder)"
                } else {
                    ""
                };
                self.rewrite(
                    Stage::Nat,
                    format!("default SNAT of {}{note}", self.site_name(sddc)),
                    p,
                    q,
                    span,
                );
                self.record_nat(NatSession {
                    point,
                    before: p,
                    after: q,
                    what: format!("the default SNAT of {}", self.site_name(sddc)),
                    span,
                    firewall_match: FirewallMatch::Internal,
                    node: self.node.clone(),
                    via: None,
                });
                Ok((q, FirewallMatch::Internal))
            }
            _ => {
                self.hop(
                    Stage::Nat,
                    "the default SNAT translates IPv4 only: the source is kept",
                    span,
                );
                Ok((p, FirewallMatch::Internal))
            }
        }
    }
}

/// What a gateway firewall sees of a packet that NAT rewrote from `before`
/// to `after`, per `firewall-match`: the header it judges, the other side
/// (which the session also covers), and a note for the hop.
pub(super) fn nat_view(
    before: &Packet,
    after: &Packet,
    fm: FirewallMatch,
    inbound: bool,
) -> (Packet, Option<Packet>, String) {
    if before == after {
        return (*before, None, String::new());
    }
    // Inbound, the private side is after NAT; outbound, before it.
    let (private, public) = if inbound {
        (*after, *before)
    } else {
        (*before, *after)
    };
    let (seen, other, side) = match fm {
        FirewallMatch::External => (public, private, "public"),
        _ => (private, public, "private"),
    };
    let (what, addr) = if inbound {
        ("destination", seen.dst)
    } else {
        ("source", seen.src)
    };
    let fm_word = if fm == FirewallMatch::External {
        "external"
    } else {
        "internal"
    };
    let note = format!(" (the firewall sees the {side} {what} {addr}: firewall-match {fm_word})");
    (seen, Some(other), note)
}
