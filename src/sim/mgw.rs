//! A VMware Cloud on AWS SDDC's management network: the management gateway
//! (MGW) firewall and the appliances behind it, one packet at a time.

use super::matching::{self, Peer};
use super::walk::{drop, At, Link, StateKey, Step, Walker};
use super::{Packet, Party, Stage};
use crate::model::{FirewallKind, FirewallRule, HostId, HostKind, SiteId, SubnetKind};
use crate::syntax::ast::Action;

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

/// The management gateway's verdict on a fresh packet.
enum Verdict<'m> {
    Allow(&'m FirewallRule),
    /// A `drop` or `reject` rule, which VMC refuses but netproof applies.
    Deny(&'m FirewallRule),
    /// No rule matches: Default Deny All.
    DefaultDeny,
}

impl<'m> Walker<'m> {
    /// The first rule of the SDDC's `firewall mgw` matching `p`, whatever
    /// its `applied-to` (MGW rules have none).
    fn mgw_verdict(&self, sddc: SiteId, p: &Packet) -> Verdict<'m> {
        let m = self.m;
        let rule = m
            .sites
            .get(sddc.index())
            .into_iter()
            .flat_map(|s| s.firewalls.iter())
            .filter_map(|f| m.firewalls.get(f.index()))
            .filter(|f| f.kind == FirewallKind::Mgw)
            .flat_map(|f| f.rules.iter())
            .find(|r| {
                matching::expr_has(m, &r.from, p.src, Peer::Dst)
                    && matching::expr_has(m, &r.to, p.dst, Peer::Dst)
                    && matching::svc_has(&r.services, p)
            });
        match rule {
            Some(r) if r.action.value == Action::Allow => Verdict::Allow(r),
            Some(r) => Verdict::Deny(r),
            None => Verdict::DefaultDeny,
        }
    }

    /// The management gateway judges `p`: a reply of a flow it allowed
    /// passes (stateful); otherwise its rules by first match, then Default
    /// Deny All. `Ok` when it passes.
    fn mgw_judge(&mut self, sddc: SiteId, p: &Packet) -> Result<(), Step> {
        // The management gateway is a node of its own in a trace.
        let name = self
            .m
            .sites
            .get(sddc.index())
            .map_or("?", |s| s.decl.name.as_str());
        self.node = format!("sddc {name} / mgw");
        self.node_span = None;
        let key = StateKey::Mgw(sddc);
        if self.admitted_reply(key, p) {
            self.hop(
                Stage::Firewall,
                "the management gateway admits the reply: it allowed the request (stateful)",
                None,
            );
            return Ok(());
        }
        match self.mgw_verdict(sddc, p) {
            Verdict::Allow(rule) => {
                self.hop(
                    Stage::Firewall,
                    format!("management gateway rule `{}` allows it", rule.decl.name),
                    Some(rule.decl.span),
                );
                self.remember(key, *p);
                Ok(())
            }
            Verdict::Deny(rule) => Err(drop(
                format!("management gateway rule `{}` drops it", rule.decl.name),
                Some(rule.decl.span),
                "the management gateway takes allow rules only",
            )
            .at(Stage::Firewall)
            .into()),
            Verdict::DefaultDeny => {
                let m = self.m;
                let span = m.sites.get(sddc.index()).and_then(|s| {
                    s.firewalls
                        .iter()
                        .filter_map(|f| m.firewalls.get(f.index()))
                        .find(|f| f.kind == FirewallKind::Mgw)
                        .map(|f| f.decl.span)
                        .or_else(|| s.management.first().map(|n| n.span))
                });
                Err(drop(
                    format!(
                        "no rule of the management gateway of {} allows {} -> {}: Default Deny \
                         All",
                        self.site_name(sddc),
                        p.src,
                        p.dst
                    ),
                    span,
                    "add an allow rule to `firewall mgw`",
                )
                .at(Stage::Firewall)
                .into())
            }
        }
    }

    /// A packet for the SDDC's management network, which its management
    /// gateway guards (not the compute gateway's firewall). From a
    /// connection or the connected VPC, the management gateway decides,
    /// and what it passes goes to the appliance with the destination
    /// address; from a compute segment, what it passes is not decided (the
    /// compute gateway's part is not modelled); from the internet nothing
    /// is decided (the internet reaches vCenter by its public address,
    /// which a design cannot state).
    pub(super) fn management_gateway(
        &mut self,
        sddc: SiteId,
        p: &Packet,
        from: MgmtFrom,
    ) -> Option<Step> {
        let m = self.m;
        let site = m.sites.get(sddc.index())?;
        let mgmt = site.management.iter().find(|n| n.value.contains(&p.dst))?;
        if from == MgmtFrom::Internet {
            return Some(
                drop(
                    format!(
                        "{} is in the management network of {}, which the internet reaches by \
                         vCenter's public address: netproof does not model it",
                        p.dst,
                        self.site_name(sddc)
                    ),
                    Some(mgmt.span),
                    "check the management gateway's rules by hand",
                )
                .at(Stage::Route)
                .undecided()
                .into(),
            );
        }
        if let Err(step) = self.mgw_judge(sddc, p) {
            return Some(step);
        }
        if from == MgmtFrom::Segment {
            return Some(self.between_networks(sddc, Some(mgmt.span)));
        }
        let appliance = site.hosts.iter().copied().find(|h| {
            m.hosts
                .get(h.index())
                .is_some_and(|x| matches!(x.kind, HostKind::Appliance(_)) && x.addr.value == p.dst)
        });
        Some(match appliance {
            Some(h) => Step::Next(At::Arrive(Party::Host(h)), *p),
            None => drop(
                format!(
                    "no appliance of {} has address {}",
                    self.site_name(sddc),
                    p.dst
                ),
                Some(mgmt.span),
                "declare the appliance (`appliance KIND NAME ADDRESS`)",
            )
            .at(Stage::Delivery)
            .into(),
        })
    }

    /// What the management gateway passed between a compute segment and
    /// the management network: the compute gateway's part is not modelled.
    fn between_networks(&self, sddc: SiteId, span: Option<crate::span::Span>) -> Step {
        drop(
            format!(
                "the management gateway passes it between a compute segment and the management \
                 network of {}; whether the compute gateway's firewall judges it too is not \
                 modelled",
                self.site_name(sddc)
            ),
            span,
            "check the compute gateway's rules by hand",
        )
        .at(Stage::Route)
        .undecided()
        .into()
    }

    /// An appliance sends `p`: the management gateway, then route
    /// selection from the management network.
    pub(super) fn appliance_send(&mut self, h: HostId, p: Packet) -> Step {
        let m = self.m;
        let Some(host) = m.hosts.get(h.index()) else {
            return drop("the appliance does not exist", None, "").into();
        };
        let sddc = host.site;
        if let Err(step) = self.mgw_judge(sddc, &p) {
            return step;
        }
        let Some(site) = m.sites.get(sddc.index()) else {
            return drop("the sddc does not exist", None, "").into();
        };
        let not_modelled = |what: String, span| -> Step {
            drop(what, span, "check it by hand")
                .at(Stage::Route)
                .undecided()
                .into()
        };
        if let Some(n) = site.management.iter().find(|n| n.value.contains(&p.dst)) {
            return not_modelled(
                format!(
                    "{} is in the management network of {}: traffic between its appliances is \
                     not modelled",
                    p.dst,
                    self.site_name(sddc)
                ),
                Some(n.span),
            );
        }
        // A compute segment: not decided, as in the other direction.
        let segment = site.subnets.iter().copied().find(|s| {
            m.subnets.get(s.index()).is_some_and(|sub| {
                sub.kind == SubnetKind::NsxSegment
                    && sub.extended_by.is_none()
                    && sub.prefix.value.contains(&p.dst)
            })
        });
        if segment.is_some() {
            return self.between_networks(sddc, site.management.first().map(|n| n.span));
        }
        if let Some(c) = self.policy_vpn(sddc, &p) {
            return not_modelled(
                format!(
                    "the selectors of policy-based {} hold a packet from the management network \
                     of {}: not modelled",
                    self.conn_name(c),
                    self.site_name(sddc)
                ),
                m.connections.get(c.index()).map(|c| c.decl.span),
            );
        }
        let Some(best) = Self::best(self.cgw_candidates(sddc), &p) else {
            return drop(
                format!(
                    "the management network of {} has no route for {}",
                    self.site_name(sddc),
                    p.dst
                ),
                Some(site.header_span),
                "",
            )
            .at(Stage::Route)
            .into();
        };
        self.hop(
            Stage::Route,
            format!(
                "longest match {} -> uplink {}: {}",
                best.prefix,
                self.link_name(best.link),
                best.why
            ),
            best.span,
        );
        match best.link {
            Link::Dx(c) | Link::Vpn(c) => match self.other_end(c, sddc) {
                Some(other) => self.enter_over(c, other, p),
                None => drop("the connection has no other end", None, "").into(),
            },
            link => not_modelled(
                format!(
                    "the management network of {} leaves by uplink {}: not modelled (vCenter's \
                     public address, the connected VPC)",
                    self.site_name(sddc),
                    self.link_name(link)
                ),
                site.management.first().map(|n| n.span),
            ),
        }
    }
}
