//! Network load balancers: the listeners shared by PrivateLink and by an
//! NLB reached at its own address, and the replies of the flows an NLB
//! forwarded (docs/forwarding.md, PrivateLink; "Oracle decisions").

use super::space::service_match;
use super::view::AddrExpr;
use super::walk::{same_header, Branch, Loc, Mark, NatPoint, Step, Walker};
use crate::model::{NlbId, SubnetId};
use crate::syntax::ast::{FirewallMatch, TargetType};

impl<'s, 'm> Walker<'s, 'm> {
    /// The listeners of NLB `n` for the packets of `b`, translated at
    /// `point`: the first listener whose service matches, its first target
    /// (the model has no health checks), `dst` the target's address and, for
    /// TCP and UDP, `dport` the listener's `port`. The target sees the NLB's
    /// address, except that a listener of target type `instance` preserves
    /// the client's address when the NLB is reached at its own address (for
    /// PrivateLink the target always sees the NLB). Then the NLB's VPC router
    /// from a gateway.
    pub(super) fn nlb_listeners(&self, n: NlbId, point: NatPoint, b: Branch) -> Vec<Step> {
        let m = self.m();
        let nlb = &m.nlbs[n.index()];
        let node = format!("vpc {} / nlb {}", self.site_name(nlb.site), nlb.decl.name);
        let privatelink = matches!(point, NatPoint::PrivateLink(_));
        let mut steps = Vec::new();
        let Some(nlb_addr) = self.space.nlb_addr(n) else {
            steps.push(Self::drop(
                b,
                format!("nlb `{}` is in no subnet", nlb.decl.name),
                nlb.decl.span,
                String::new(),
            ));
            return steps;
        };
        let mut rest = b.orig.clone();
        for l in &nlb.listeners {
            if rest.is_empty() {
                break;
            }
            let (yes, no) = self.split_set(&b.with(rest.clone()), &service_match(&l.services));
            rest = no;
            if yes.is_empty() {
                continue;
            }
            let Some(target) = l.targets.first() else {
                steps.push(Self::drop(
                    b.with(yes),
                    format!("the listener of nlb `{}` has no target", nlb.decl.name),
                    l.span,
                    "add a target to the listener".into(),
                ));
                continue;
            };
            let host = m.host(target.value);
            // An NLB forwards to a target of the packet's own family only
            // (the model has no NAT64, as for NAT devices).
            let (same, mut drops) = self.same_family_only(
                b.with(yes),
                host.addr.value,
                &format!("nlb {}", nlb.decl.name),
                l.span,
            );
            steps.append(&mut drops);
            let yes = same.orig;
            let preserve = !privatelink && l.target_type == TargetType::Instance;
            let seen = if preserve {
                "the client's address (target type instance)".to_string()
            } else {
                format!("{nlb_addr} (the NLB)")
            };
            // The listener's port applies to TCP and UDP only: the part of
            // the branch of each kind gets its own view.
            for part in self.port_translated(&b.with(yes), l.port) {
                let mut after = part.view.with_dst(AddrExpr::Const(host.addr.value));
                if !preserve {
                    after = after.with_src(AddrExpr::Const(nlb_addr));
                }
                let mut nb = b.with(part.orig);
                nb.translate(point, after, FirewallMatch::Internal);
                // The target's security groups see the NLB as the sender, not
                // the client's interface.
                nb.sender = None;
                let nb = nb.hop(
                    &node,
                    format!(
                        "listener: dst -> {} (`{}`), the target sees {seen}",
                        host.addr.value, host.decl.name
                    ),
                    Some(l.span),
                );
                steps.push(Step::Go(Loc::VpcRouter(nlb.site, None), nb));
            }
        }
        if !rest.is_empty() {
            steps.push(Self::drop(
                b.with(rest),
                format!("no listener of nlb `{}` accepts the service", nlb.decl.name),
                nlb.decl.span,
                "add a listener for this protocol and port".into(),
            ));
        }
        steps
    }

    /// Packets delivered to the address of NLB `n` that are not PrivateLink
    /// replies: replies of flows it forwarded with its own address as the
    /// source are translated back and routed from its subnet; anything else
    /// goes to its listeners.
    pub(super) fn nlb_direct(&self, n: NlbId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let nlb = &m.nlbs[n.index()];
        let node = format!("vpc {} / nlb {}", self.site_name(nlb.site), nlb.decl.name);
        let mut steps = Vec::new();
        let (undone, rest) = self.undo(NatPoint::Nlb(n), &b);
        for (nb, _) in undone {
            let nb = nb.hop(
                &node,
                "reply translated back by the NLB",
                Some(nlb.decl.name_span),
            );
            steps.extend(self.route_from_nlb_subnet(n, nb));
        }
        steps.extend(self.nlb_listeners(n, NatPoint::Nlb(n), rest));
        steps
    }

    /// A reply leaving a VPC interface on `subnet` that is the exact reverse
    /// of a header an NLB forwarded with the client's address (target type
    /// `instance`): the NLB tracks the flow, so the reply goes back through
    /// it, whatever the subnet's routes say. Between the target's subnet and
    /// the NLB's, network ACLs apply as for local delivery; the NLB restores
    /// its own address and the listener's port and routes the reply from its
    /// subnet. Returns those steps and the rest of the branch.
    pub(super) fn nlb_return(&self, subnet: SubnetId, b: Branch) -> (Vec<Step>, Branch) {
        let m = self.m();
        let mut steps = Vec::new();
        let mut rest = b.orig.clone();
        for mk in self.session {
            let Mark::Nat(n) = mk else { continue };
            let NatPoint::Nlb(id) = n.point else { continue };
            if n.before.src != n.after.src || rest.is_empty() {
                continue;
            }
            let yes = rest.intersect(&same_header(&b.view, &n.after.swapped()));
            if yes.is_empty() {
                continue;
            }
            rest = rest.difference(&yes);
            let nlb = &m.nlbs[id.index()];
            // An NLB translated the flow only if it has an address, so it
            // has a subnet; without one the reply has nowhere to go.
            let Some(nlb_subnet) = nlb.subnets.first().map(|s| s.value) else {
                steps.extend(self.route_from_nlb_subnet(id, b.with(yes)));
                continue;
            };
            let (pass, drops) = self.cross_acls(Some(subnet), Some(nlb_subnet), &b.with(yes));
            steps.extend(drops);
            let mut nb = pass;
            nb.view = n.before.swapped();
            nb.sender = None;
            let node = format!("vpc {} / nlb {}", self.site_name(nlb.site), nlb.decl.name);
            let nb = nb.hop(
                &node,
                "reply to the client goes back through the NLB, which translates it back",
                Some(nlb.decl.name_span),
            );
            steps.extend(self.route_from_nlb_subnet(id, nb));
        }
        (steps, b.with(rest))
    }

    /// The VPC router from the NLB's (first) subnet.
    fn route_from_nlb_subnet(&self, n: NlbId, b: Branch) -> Vec<Step> {
        let m = self.m();
        let nlb = &m.nlbs[n.index()];
        match nlb.subnets.first() {
            Some(sub) => vec![Step::Go(Loc::VpcRouter(nlb.site, Some(sub.value)), b)],
            None => vec![Self::drop(
                b,
                format!("nlb `{}` is in no subnet", nlb.decl.name),
                nlb.decl.span,
                String::new(),
            )],
        }
    }
}
