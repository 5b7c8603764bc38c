//! PrivateLink in the oracle: interface endpoints and the NLBs behind
//! endpoint services (docs/forwarding.md, "PrivateLink").

use super::matching;
use super::vpc::svc_literal;
use super::walk::{drop, tri, At, Entry, Iface, NatPoint, NatSession, Step, VpcFrom, Walker};
use super::{Packet, Stage};
use crate::model::{EndpointId, NlbId, SubnetId};
use crate::syntax::ast::{FirewallMatch, TargetType};

impl<'m> Walker<'m> {
    pub(super) fn endpoint_in(&mut self, e: EndpointId, p: Packet) -> Step {
        let m = self.m;
        let Some(ep) = m.endpoints.get(e.index()) else {
            return drop("the endpoint does not exist", None, "").into();
        };
        let sgs: Vec<_> = ep.sgs.iter().map(|s| s.value).collect();
        let sender = self.sender.clone();
        tri!(self.security_groups(Iface::Endpoint(e), &sgs, true, &p, sender.as_ref()));
        let service = ep.service.and_then(|s| m.endpoint_services.get(s.index()));
        let Some(service) = service else {
            return drop(
                format!("endpoint `{}` has no endpoint service", ep.decl.name),
                Some(ep.decl.span),
                "name an existing `endpoint-service` in the endpoint",
            )
            .into();
        };
        let Some(nlb) = service.nlb.filter(|n| n.index() < m.nlbs.len()) else {
            return drop(
                format!(
                    "endpoint service `{}` has no load balancer",
                    service.decl.name
                ),
                Some(service.decl.span),
                "name an existing `nlb` in the endpoint service",
            )
            .into();
        };
        self.hop(
            Stage::Forward,
            format!(
                "PrivateLink: endpoint service `{}` of {}",
                service.decl.name,
                self.site_name(service.site)
            ),
            Some(service.decl.span),
        );
        self.sender = None;
        Step::Next(At::Nlb { nlb, via: Some(e) }, p)
    }

    pub(super) fn endpoint_out(&mut self, e: EndpointId, p: Packet) -> Step {
        let m = self.m;
        let Some(ep) = m.endpoints.get(e.index()) else {
            return drop("the endpoint does not exist", None, "").into();
        };
        let sgs: Vec<_> = ep.sgs.iter().map(|s| s.value).collect();
        tri!(self.security_groups(Iface::Endpoint(e), &sgs, false, &p, None));
        let Some(subnet) = ep.subnet else {
            return drop("the endpoint is in no subnet", Some(ep.decl.span), "").into();
        };
        Step::Next(
            At::VpcRouter {
                vpc: ep.site,
                from: VpcFrom::Subnet(subnet),
            },
            p,
        )
    }

    pub(super) fn nlb(&mut self, n: NlbId, via: Option<EndpointId>, p: Packet) -> Step {
        let m = self.m;
        let Some(nlb) = m.nlbs.get(n.index()) else {
            return drop("the nlb does not exist", None, "").into();
        };
        let addr = self.nlb_addr(nlb);
        if addr == Some(p.dst) {
            if let Some((q, s)) = self.undo_nat(NatPoint::Nlb(n), &p) {
                self.undo_hop(&s, p, q);
                return match s.via {
                    Some(ep) => Step::Next(At::EndpointOut(ep), q),
                    None => match nlb.subnets.first() {
                        Some(sub) => Step::Next(
                            At::VpcRouter {
                                vpc: nlb.site,
                                from: VpcFrom::Subnet(sub.value),
                            },
                            q,
                        ),
                        None => drop("the nlb has no subnet", Some(nlb.decl.span), "").into(),
                    },
                };
            }
        }
        let Some(listener) = nlb
            .listeners
            .iter()
            .find(|l| matching::svc_has(&l.services, &p))
        else {
            return drop(
                format!(
                    "no listener of nlb `{}` accepts {}",
                    nlb.decl.name,
                    svc_literal(&p)
                ),
                Some(nlb.decl.span),
                format!(
                    "add `listener {} -> [TARGET]` to nlb `{}`",
                    svc_literal(&p),
                    nlb.decl.name
                ),
            )
            .at(Stage::LoadBalancer)
            .into();
        };
        let target = listener
            .targets
            .first()
            .and_then(|t| m.hosts.get(t.value.index()).map(|h| (t.value, h)));
        let Some((_, host)) = target else {
            return drop(
                format!("the listener of nlb `{}` has no target", nlb.decl.name),
                Some(listener.span),
                "name the target instances: `listener SVC -> [INSTANCE]`",
            )
            .at(Stage::LoadBalancer)
            .into();
        };
        if p.src.is_ipv4() != host.addr.value.is_ipv4() {
            return drop(
                format!(
                    "`nlb {}` translates to {} and does not translate between address families",
                    nlb.decl.name, host.addr.value
                ),
                Some(listener.span),
                "route this family's traffic elsewhere",
            )
            .at(Stage::LoadBalancer)
            .into();
        }
        let Some(addr) = addr else {
            return drop(
                format!(
                    "nlb `{}` is in no known subnet, so it has no address",
                    nlb.decl.name
                ),
                Some(nlb.decl.span),
                "name the NLB's subnets: `nlb NAME internal in [SUBNET]`",
            )
            .at(Stage::LoadBalancer)
            .into();
        };
        // For PrivateLink the target always sees the NLB's address; reached
        // at its own address, a listener of target type `instance` preserves
        // the client's address and type `ip` gives the NLB's
        // (../shared/spec/semantics.md, PrivateLink).
        let preserve = via.is_none() && listener.target_type == TargetType::Instance;
        let q = Packet {
            src: if preserve { p.src } else { addr },
            dst: host.addr.value,
            dport: if p.has_ports() {
                listener.port.unwrap_or(p.dport)
            } else {
                p.dport
            },
            ..p
        };
        let why = if via.is_some() {
            "for PrivateLink the target always sees the NLB's address"
        } else if preserve {
            "target type instance: the target sees the client's address"
        } else {
            "target type ip: the target sees the NLB's address"
        };
        self.rewrite(
            Stage::LoadBalancer,
            format!(
                "listener {} of nlb `{}` picks target `{}` ({why})",
                svc_literal(&p),
                nlb.decl.name,
                host.decl.name
            ),
            p,
            q,
            Some(listener.span),
        );
        self.record_nat(NatSession {
            point: NatPoint::Nlb(n),
            before: p,
            after: q,
            what: format!("the translation of nlb `{}`", nlb.decl.name),
            span: Some(listener.span),
            firewall_match: FirewallMatch::Internal,
            node: self.node.clone(),
            via,
        });
        self.sender = None;
        Step::Next(
            At::VpcRouter {
                vpc: nlb.site,
                from: VpcFrom::Gateway(Entry::Nlb(n)),
            },
            q,
        )
    }

    /// A reply leaving a target of an NLB that preserved the client's
    /// address: the NLB tracks the flow, so the reply (addressed to the
    /// client, not to the NLB) goes back through it, which restores the
    /// NLB's address and the listener's port, and routes it from the NLB's
    /// subnet. Between the target's subnet and the NLB's, the network ACLs
    /// apply as for local delivery. `None` when `p` is no such reply.
    pub(super) fn nlb_return(&mut self, subnet: SubnetId, p: Packet) -> Option<Step> {
        let m = self.m;
        let n = self.forward?.nats.iter().find_map(|s| match s.point {
            NatPoint::Nlb(n) if s.after.src == s.before.src && s.after.reply() == p => Some(n),
            _ => None,
        })?;
        let nlb = m.nlbs.get(n.index())?;
        let Some(nlb_subnet) = nlb.subnets.first().map(|s| s.value) else {
            return Some(drop("the nlb has no subnet", Some(nlb.decl.span), "").into());
        };
        if nlb_subnet != subnet {
            if let Err(d) = self.acl(subnet, true, &p) {
                return Some(d.into());
            }
            if let Err(d) = self.acl(nlb_subnet, false, &p) {
                return Some(d.into());
            }
        }
        let (q, s) = self.undo_nat(NatPoint::Nlb(n), &p)?;
        self.undo_hop(&s, p, q);
        self.sender = None;
        Some(Step::Next(
            At::VpcRouter {
                vpc: nlb.site,
                from: VpcFrom::Subnet(nlb_subnet),
            },
            q,
        ))
    }
}
