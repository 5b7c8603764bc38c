//! NP202 nat-without-public-ip: a DNAT, SNAT or reflexive NAT rule's
//! external address is not a public address its site owns.
//!
//! An SDDC publishes only addresses it has requested from the AWS pool
//! (`public-ip`) or its default SNAT address (seed 000: "request a public
//! IP" is the first of the three steps); anything else is not routed to the
//! SDDC's internet gateway, so the rule never sees a packet. A VM network's
//! NAT rules work only on its NVGRE gateway's external address (seed 004).
//! On-prem sites publish addresses they own themselves, which the design
//! does not list, so they are not judged here.

use super::nat::kind_word;
use crate::diagnostic::Diagnostic;
use crate::model::{
    AddrTerm, DefaultSnat, Entity, GatewayKind, Model, NatRule, PublicIp, PublicIpKind, Site,
};
use crate::registry::Code;
use crate::span::{Span, Spanned};
use crate::syntax::ast::{NatKind, SiteKind};
use ipnet::IpNet;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// A public address a site owns, its name when it has one, and where it is
/// declared.
struct OwnedAddr {
    addr: IpAddr,
    name: Option<String>,
    span: Span,
}

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    // Each site's public addresses are gathered once, for all its NAT
    // rules: gathering them per rule scanned every public IP of the design
    // for every rule (quadratic in an SDDC that publishes many VMs).
    let mut sddc_ips: Vec<Vec<&PublicIp>> = vec![Vec::new(); model.sites.len()];
    for p in &model.public_ips {
        if p.kind == PublicIpKind::Sddc {
            if let Some(ips) = sddc_ips.get_mut(p.site.index()) {
                ips.push(p);
            }
        }
    }
    let mut owned_by_site: HashMap<usize, Option<Owned>> = HashMap::new();
    for nat in &model.nat_rules {
        if nat.kind == NatKind::NoSnat {
            continue;
        }
        let Some(site) = model.sites.get(nat.site.index()) else {
            continue;
        };
        let owned = owned_by_site
            .entry(nat.site.index())
            .or_insert_with(|| owned(model, &sddc_ips, nat.site.index(), site));
        let Some(owned) = owned.as_ref() else {
            continue;
        };
        let Some(external) = &nat.external else {
            continue;
        };
        for term in &external.terms {
            if let Some(problem) = problem(model, nat, owned, term) {
                out.push(diagnostic(nat, site, &owned.list, term, problem));
            }
        }
    }
}

/// The public addresses of a site, in the order the findings list them,
/// and as a set for the lookups.
struct Owned {
    list: Vec<OwnedAddr>,
    addrs: HashSet<IpAddr>,
}

/// The public addresses of site `index`, or `None` for a site whose public
/// addresses the design does not enumerate. `sddc_ips` holds every site's
/// SDDC public IPs, in declaration order.
fn owned(model: &Model, sddc_ips: &[Vec<&PublicIp>], index: usize, site: &Site) -> Option<Owned> {
    let mut owned = Vec::new();
    match site.kind {
        SiteKind::Sddc => {
            for p in sddc_ips.get(index).into_iter().flatten() {
                owned.push(OwnedAddr {
                    addr: p.addr.value,
                    name: Some(p.decl.name.clone()),
                    span: p.addr.span,
                });
            }
            if let DefaultSnat::Addr(addr, span) = site.default_snat {
                owned.push(OwnedAddr {
                    addr,
                    name: None,
                    span,
                });
            }
        }
        SiteKind::VmNetwork => {
            for &g in &site.gateways {
                if let Some(GatewayKind::Vnet {
                    external_ip: Some(ip),
                    ..
                }) = model.gateways.get(g.index()).map(|g| &g.kind)
                {
                    owned.push(OwnedAddr {
                        addr: ip.value,
                        name: None,
                        span: ip.span,
                    });
                }
            }
        }
        _ => return None,
    }
    let addrs = owned.iter().map(|o| o.addr).collect();
    Some(Owned { list: owned, addrs })
}

/// What is wrong with one external term, if anything.
enum Problem {
    /// An address or prefix with addresses the site does not own.
    NotOwned(IpAddr),
    /// A public IP declared by another site.
    OtherSite(String),
}

fn problem(
    model: &Model,
    nat: &NatRule,
    owned: &Owned,
    term: &Spanned<AddrTerm>,
) -> Option<Problem> {
    let net = match term.value {
        AddrTerm::Net(net) => net,
        AddrTerm::Range(lo, hi) if lo == hi => IpNet::from(lo),
        AddrTerm::Entity(Entity::PublicIp(p)) => {
            let ip = model.public_ips.get(p.index())?;
            if ip.site == nat.site {
                return None;
            }
            let other = model.sites.get(ip.site.index())?;
            return Some(Problem::OtherSite(other.decl.name.clone()));
        }
        // Other forms are judged by the resolver (wrong kinds) or are not
        // single public addresses; nothing to say here.
        _ => return None,
    };
    let missing = first_unowned(net, owned)?;
    Some(Problem::NotOwned(missing))
}

/// The first address of `net` that no owned address covers. Prefixes of
/// more than 65536 addresses are judged by their first address only, which
/// a site never owns a whole block of in practice.
fn first_unowned(net: IpNet, owned: &Owned) -> Option<IpAddr> {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    if host_bits > 16 {
        let first = net.network();
        return (!owned.addrs.contains(&first)).then_some(first);
    }
    net.hosts_inclusive().find(|a| !owned.addrs.contains(a))
}

trait HostsInclusive {
    fn hosts_inclusive(&self) -> Box<dyn Iterator<Item = IpAddr>>;
}

impl HostsInclusive for IpNet {
    /// Every address of the prefix, network and broadcast included: NAT
    /// maps a prefix one to one.
    fn hosts_inclusive(&self) -> Box<dyn Iterator<Item = IpAddr>> {
        match self {
            IpNet::V4(n) => {
                Box::new(ipnet::Ipv4AddrRange::new(n.network(), n.broadcast()).map(IpAddr::V4))
            }
            IpNet::V6(n) => {
                Box::new(ipnet::Ipv6AddrRange::new(n.network(), n.broadcast()).map(IpAddr::V6))
            }
        }
    }
}

fn diagnostic(
    nat: &NatRule,
    site: &Site,
    owned: &[OwnedAddr],
    term: &Spanned<AddrTerm>,
    problem: Problem,
) -> Diagnostic {
    let kind = kind_word(nat.kind);
    let name = &nat.decl.name;
    let site_name = &site.decl.name;
    let verb = if nat.kind == NatKind::Snat {
        "translates to"
    } else {
        "publishes"
    };
    let (message, label) = match &problem {
        Problem::NotOwned(addr) => (
            format!("{kind} `{name}` {verb} {addr}, which is not a public IP of `{site_name}`"),
            format!("`{site_name}` does not own {addr}"),
        ),
        Problem::OtherSite(other) => (
            format!("{kind} `{name}` {verb} a public IP of `{other}`, not of `{site_name}`"),
            format!("owned by `{other}`"),
        ),
    };
    let mut d = Diagnostic::new(Code::NP202, message, term.span, label)
        .with_label(nat.decl.name_span, format!("{kind} `{name}`"));
    for o in owned {
        d = d.with_label(o.span, format!("`{site_name}` owns {}", o.addr));
    }
    let list = owned
        .iter()
        .map(|o| match &o.name {
            Some(n) => format!("`{n}` ({})", o.addr),
            None => o.addr.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let help = match (site.kind, &problem) {
        (SiteKind::VmNetwork, _) if owned.is_empty() => format!(
            "a VM network's NAT works on its NVGRE gateway's external address: give a gateway \
             of `{site_name}` `mode nat external-ip ADDRESS` and use that address"
        ),
        (SiteKind::VmNetwork, _) => format!(
            "a VM network's NAT works only on its NVGRE gateway's external address ({list}): \
             use it in `{name}`"
        ),
        (_, Problem::NotOwned(addr)) if owned.is_empty() => format!(
            "traffic reaches an SDDC only at public IPs it has requested: add \
             `public-ip NAME {addr}` to `{site_name}` and use it in `{name}`"
        ),
        (_, Problem::NotOwned(addr)) => format!(
            "traffic reaches an SDDC only at public IPs it has requested: add \
             `public-ip NAME {addr}` to `{site_name}`, or use one it owns: {list}"
        ),
        (_, Problem::OtherSite(other)) => format!(
            "a public IP is answered by the SDDC that requested it, here `{other}`: request one \
             for `{site_name}` with `public-ip NAME ADDRESS` and use it in `{name}`"
        ),
    };
    d.with_help(help)
}
