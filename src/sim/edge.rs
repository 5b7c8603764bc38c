//! On-prem edges.

use super::matching;
use super::sddc::{nat_view, Candidate, FirewallDefault};
use super::vpc::svc_literal;
use super::walk::{drop, tri, At, EdgeFrom, Link, NatPoint, NatSession, Step, Walker};
use super::{Packet, Stage};
use crate::model::{Entity, FirewallId, SiteId, SubnetKind};
use crate::syntax::ast::{FirewallMatch, NatKind};

impl<'m> Walker<'m> {
    fn edge_firewall(&self, site: SiteId) -> Option<FirewallId> {
        self.m.sites.get(site.index())?.firewalls.first().copied()
    }

    /// The on-prem edge router: NAT and the firewall for what crosses it,
    /// then route selection.
    pub(super) fn onprem(&mut self, site: SiteId, from: EdgeFrom, p: Packet) -> Step {
        let m = self.m;
        let Some(s) = m.sites.get(site.index()) else {
            return drop("the site does not exist", None, "").into();
        };
        let fw = self.edge_firewall(site);
        let mut q = p;
        match from {
            EdgeFrom::Link(Link::Internet) => {
                let point = NatPoint::Onprem(site);
                if let Some((r, sess)) = self.undo_nat(point, &p) {
                    self.undo_hop(&sess, p, r);
                    q = r;
                } else if let Some(rule) = s
                    .nat_rules
                    .iter()
                    .filter_map(|r| m.nat_rules.get(r.index()))
                    .find(|r| {
                        r.kind == NatKind::Dnat
                            && matching::nat_external_has(m, r, p.dst)
                            && r.services.as_ref().is_none_or(|x| matching::svc_has(x, &p))
                    })
                {
                    q = tri!(self.apply_dnat(point, rule, p));
                } else {
                    let egress = s.internet_egress.as_ref().filter(|e| e.value == p.dst);
                    let reason = match egress {
                        Some(_) => format!(
                            "{} is the internet egress address of {}, which admits only replies",
                            p.dst,
                            self.site_name(site)
                        ),
                        None => format!(
                            "no NAT rule of {} translates {} {}",
                            self.site_name(site),
                            p.dst,
                            svc_literal(&p)
                        ),
                    };
                    return drop(
                        reason,
                        egress.map_or(Some(s.header_span), |e| Some(e.span)),
                        format!(
                            "publish a host with `nat dnat NAME {} -> HOST` in {}",
                            p.dst,
                            self.site_name(site)
                        ),
                    )
                    .at(Stage::Nat)
                    .into();
                }
                let (seen, other, note) = nat_view(&p, &q, FirewallMatch::Internal, true);
                tri!(self.gateway_firewall(
                    fw,
                    site,
                    FirewallDefault::EdgeImplicitDrop,
                    Link::Internet,
                    &seen,
                    other.as_ref(),
                    &note
                ));
            }
            EdgeFrom::Link(link) => {
                tri!(self.gateway_firewall(
                    fw,
                    site,
                    FirewallDefault::EdgeImplicitDrop,
                    link,
                    &p,
                    None,
                    ""
                ));
            }
            EdgeFrom::Segment | EdgeFrom::L2vpn(_) => {}
        }
        self.onprem_route(site, from, q)
    }

    fn onprem_route(&mut self, site: SiteId, from: EdgeFrom, p: Packet) -> Step {
        let m = self.m;
        let Some(s) = m.sites.get(site.index()) else {
            return drop("the site does not exist", None, "").into();
        };
        // Attached: the site's own segments, and SDDC segments extended here
        // (their default gateway is this edge).
        let own = s.subnets.iter().copied().find(|id| {
            m.subnets.get(id.index()).is_some_and(|x| {
                x.kind == SubnetKind::OnpremSegment && x.prefix.value.contains(&p.dst)
            })
        });
        if let Some(seg) = own {
            let sub = m.subnets.get(seg.index());
            self.hop(
                Stage::Route,
                format!(
                    "{} is on segment `{}`",
                    p.dst,
                    sub.map_or("?", |x| x.decl.name.as_str())
                ),
                sub.map(|x| x.prefix.span),
            );
            return self.deliver_on(seg, p);
        }
        let extended = m.subnets.iter().enumerate().find(|(_, x)| {
            x.prefix.value.contains(&p.dst)
                && x.extended_by.is_some_and(|c| {
                    m.connections
                        .get(c.index())
                        .is_some_and(|c| c.ends.iter().any(|e| e.value == site))
                })
        });
        if let Some((i, sub)) = extended {
            let conn = sub
                .extended_by
                .map(|c| self.conn_name(c))
                .unwrap_or_default();
            self.hop(
                Stage::Route,
                format!(
                    "{} is on segment `{}` of {}, extended here by {conn}: across the L2VPN",
                    p.dst,
                    sub.decl.name,
                    self.site_name(sub.site)
                ),
                Some(sub.prefix.span),
            );
            return self.deliver_on(crate::model::SubnetId(i as u32), p);
        }
        if let Some(c) = self.policy_vpn(site, &p) {
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
            return self.edge_leave(site, Link::Vpn(c), p);
        }
        let mut cands = Vec::new();
        for (c, link) in self.routed_links(site) {
            let from_site = self
                .other_end(c, site)
                .map_or_else(String::new, |o| format!(" from {}", self.site_name(o)));
            for (prefix, span) in self.learned(site, c) {
                cands.push(Candidate {
                    prefix,
                    rank: 0,
                    link,
                    span,
                    why: format!("learned over {}{from_site}", self.conn_name(c)),
                });
            }
        }
        if let Some(best) = Self::best(cands, &p) {
            self.hop(
                Stage::Route,
                format!(
                    "longest match {} -> {}: {}",
                    best.prefix,
                    self.link_name(best.link),
                    best.why
                ),
                best.span,
            );
            return self.edge_leave(site, best.link, p);
        }
        if from == EdgeFrom::Link(Link::Internet) {
            return drop(
                format!(
                    "{} has no route for {} other than the internet it came from",
                    self.site_name(site),
                    p.dst
                ),
                Some(s.header_span),
                "translate it to an address of a segment, or of a network learned over a \
                 connection",
            )
            .at(Stage::Route)
            .into();
        }
        // Anything else leaves by the site's own internet breakout.
        let point = NatPoint::Onprem(site);
        let fw = self.edge_firewall(site);
        if let Some((q, sess)) = self.undo_nat(point, &p) {
            self.hop(
                Stage::Route,
                format!("{} is not attached or learned here: to the internet", p.dst),
                Some(s.header_span),
            );
            self.undo_hop(&sess, p, q);
            let (seen, other, note) = nat_view(&p, &q, FirewallMatch::Internal, false);
            tri!(self.gateway_firewall(
                fw,
                site,
                FirewallDefault::EdgeImplicitDrop,
                Link::Internet,
                &seen,
                other.as_ref(),
                &note
            ));
            return Step::Next(At::Internet, q);
        }
        let Some(egress) = s.internet_egress.clone() else {
            return drop(
                format!(
                    "{} is neither attached to {} nor learned over a connection, and the site \
                     has no internet exit",
                    p.dst,
                    self.site_name(site)
                ),
                Some(s.header_span),
                "add `internet-egress snat ADDRESS` to the site, or learn a route for the \
                 destination over a connection",
            )
            .at(Stage::Route)
            .into();
        };
        self.hop(
            Stage::Route,
            format!(
                "{} is not attached or learned here: to the internet by the site's own breakout",
                p.dst
            ),
            Some(egress.span),
        );
        let q = Packet {
            src: egress.value,
            ..p
        };
        self.rewrite(
            Stage::Nat,
            format!("internet egress SNAT of {}", self.site_name(site)),
            p,
            q,
            Some(egress.span),
        );
        self.record_nat(NatSession {
            point,
            before: p,
            after: q,
            what: format!("the internet egress SNAT of {}", self.site_name(site)),
            span: Some(egress.span),
            firewall_match: FirewallMatch::Internal,
            node: self.node.clone(),
            via: None,
        });
        let (seen, other, note) = nat_view(&p, &q, FirewallMatch::Internal, false);
        tri!(self.gateway_firewall(
            fw,
            site,
            FirewallDefault::EdgeImplicitDrop,
            Link::Internet,
            &seen,
            other.as_ref(),
            &note
        ));
        self.sender = None;
        Step::Next(At::Internet, q)
    }

    /// Leaves an on-prem edge over a connection: the firewall, then the
    /// other end.
    fn edge_leave(&mut self, site: SiteId, link: Link, p: Packet) -> Step {
        let fw = self.edge_firewall(site);
        tri!(self.gateway_firewall(
            fw,
            site,
            FirewallDefault::EdgeImplicitDrop,
            link,
            &p,
            None,
            ""
        ));
        match link {
            Link::Dx(c) | Link::Vpn(c) => match self.other_end(c, site) {
                Some(other) => self.enter_over(c, other, p),
                None if self.tgw_of(c).is_some() => self.over_to_tgw(c, p),
                None => drop(
                    format!(
                        "{} does not join {}",
                        self.conn_name(c),
                        self.site_name(site)
                    ),
                    self.m.connections.get(c.index()).map(|c| c.decl.span),
                    "",
                )
                .into(),
            },
            Link::Tgw(c) => Step::Next(At::Tgw(c, Entity::Site(site)), p),
            Link::Internet | Link::Vpc => Step::Next(At::Internet, p),
        }
    }

    /// A DNAT rule applied at `point`: the destination (and port, if the
    /// rule translates it) rewritten, the hop shown and the session
    /// recorded for the reply. Shared by on-prem edges and VM-network
    /// gateways.
    pub(super) fn apply_dnat(
        &mut self,
        point: NatPoint,
        rule: &crate::model::NatRule,
        p: Packet,
    ) -> Result<Packet, super::walk::Drop> {
        let m = self.m;
        let (Some(ext), Some(int)) = (
            rule.external
                .as_ref()
                .and_then(|e| matching::expr_net(m, e)),
            matching::expr_net(m, &rule.internal),
        ) else {
            return Err(drop(
                format!("NAT rule `{}` has no usable address", rule.decl.name),
                Some(rule.decl.span),
                "fix the rule's addresses",
            )
            .at(Stage::Nat));
        };
        let mut q = Packet {
            dst: matching::translate(ext, int, p.dst),
            ..p
        };
        if let Some(port) = &rule.translated_port {
            if p.has_ports() {
                q.dport = port.value;
            }
        }
        self.rewrite(
            Stage::Nat,
            format!("DNAT `{}`", rule.decl.name),
            p,
            q,
            Some(rule.decl.span),
        );
        self.record_nat(NatSession {
            point,
            before: p,
            after: q,
            what: format!("DNAT `{}`", rule.decl.name),
            span: Some(rule.decl.span),
            firewall_match: FirewallMatch::Internal,
            node: self.node.clone(),
            via: None,
        });
        Ok(q)
    }
}
