//! Classes of interchangeable sources and destinations.
//!
//! The engine delivers packets to hosts and starts flows from them one
//! interface at a time, because an expectation's explanation names the host
//! that dropped or received a packet. A question about the whole network
//! (`netproof reach --matrix`) does not need the names, and walking every
//! host separately repeats the same walk thousands of times: every VM of an
//! SDDC leaves through the same compute gateway and receives whatever the
//! gateway delivers, whatever its address. A class is a set of hosts (or of
//! subnets' unnamed addresses) whose treatment depends on nothing but the
//! addresses in the packet; its first member stands for all of them, with
//! the union of their addresses. The packets still carry every member's own
//! address, so filters, NAT and routing still see each one exactly.
//!
//! What makes two hosts interchangeable, per kind (docs/engine.md):
//! - SDDC VMs on segments that no L2VPN extends: the same site. Segments
//!   reach the compute gateway alike, and the gateway firewall applies to
//!   uplinks, never between segments.
//! - On-prem hosts: the same site (every segment's gateway is the edge).
//! - EC2 instances: the same subnet (its route table and ACL) and the same
//!   security groups, and none of the roles that tie behaviour to one
//!   instance: a public or Elastic IP, a route pointing at it, source/dest
//!   check off, being an NLB target.
//! - VMs on an extended segment: the same segment.
//!
//! Anything else (internet hosts, VM-network VMs, hosts sharing an address
//! with another host of their site) is a class of its own.

use super::packet_set::AddrRanges;
use super::space::Space;
use crate::model::{HostId, HostKind, RouteTarget, SgId, SiteId, SubnetId, SubnetKind};
use crate::syntax::ast::SiteKind;
use std::collections::{HashMap, HashSet};

/// Per site, its classes of hosts, and per subnet, its class of unnamed
/// addresses.
#[derive(Debug, Default)]
pub struct Classes {
    /// Per site, each class: the member standing for it and the members'
    /// addresses, in the order of the members in the site.
    hosts: Vec<Vec<(HostId, AddrRanges)>>,
    /// Per host, the member standing for its class.
    host_rep: Vec<HostId>,
    /// Per subnet, the subnet standing for its class of unnamed addresses.
    subnet_rep: Vec<SubnetId>,
    /// Per subnet standing for a class, the class's prefixes.
    subnet_addrs: Vec<AddrRanges>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum HostKey {
    Site(SiteId),
    Subnet(SubnetId),
    Instance(SubnetId, Vec<SgId>),
}

impl Classes {
    /// Every host and every subnet a class of its own: what expectations,
    /// traces and `reach` use.
    pub fn singletons(space: &Space) -> Classes {
        let m = space.model;
        Classes {
            hosts: m
                .sites
                .iter()
                .map(|s| {
                    s.hosts
                        .iter()
                        .map(|&h| {
                            let addrs = m.host(h).addrs().map(|a| a.value.into());
                            (h, AddrRanges::from_nets(addrs))
                        })
                        .collect()
                })
                .collect(),
            host_rep: (0..m.hosts.len() as u32).map(HostId).collect(),
            subnet_rep: (0..m.subnets.len() as u32).map(SubnetId).collect(),
            subnet_addrs: m
                .subnets
                .iter()
                .map(|s| AddrRanges::from_nets(s.prefixes().map(|p| p.value)))
                .collect(),
        }
    }

    /// Interchangeable hosts and subnets grouped (see the module's notes).
    pub fn grouped(space: &Space) -> Classes {
        let m = space.model;
        // Hosts whose behaviour is tied to their identity.
        let mut special: HashSet<HostId> = HashSet::new();
        for rt in &m.route_tables {
            for r in &rt.routes {
                if let RouteTarget::Host(h) = r.target {
                    special.insert(h);
                }
            }
        }
        for n in &m.nlbs {
            for l in &n.listeners {
                special.extend(l.targets.iter().map(|t| t.value));
            }
        }
        let mut host_rep: Vec<HostId> = (0..m.hosts.len() as u32).map(HostId).collect();
        let mut hosts = Vec::with_capacity(m.sites.len());
        for site in &m.sites {
            let mut seen: HashMap<std::net::IpAddr, usize> = HashMap::new();
            for &h in &site.hosts {
                *seen.entry(m.host(h).addr.value).or_default() += 1;
            }
            let mut index: HashMap<HostKey, usize> = HashMap::new();
            let mut classes: Vec<(HostId, Vec<ipnet::IpNet>)> = Vec::new();
            for &h in &site.hosts {
                let nets: Vec<ipnet::IpNet> = m.host(h).addrs().map(|a| a.value.into()).collect();
                let key = host_key_if(space, h, &seen, &special);
                if let Some(&i) = key.as_ref().and_then(|k| index.get(k)) {
                    host_rep[h.index()] = classes[i].0;
                    classes[i].1.extend(nets);
                    continue;
                }
                if let Some(k) = key {
                    index.insert(k, classes.len());
                }
                classes.push((h, nets));
            }
            hosts.push(
                classes
                    .into_iter()
                    .map(|(h, nets)| (h, AddrRanges::from_nets(nets)))
                    .collect(),
            );
        }
        let mut subnet_rep: Vec<SubnetId> = (0..m.subnets.len() as u32).map(SubnetId).collect();
        let mut subnet_addrs: Vec<AddrRanges> = m
            .subnets
            .iter()
            .map(|s| AddrRanges::from_nets(s.prefixes().map(|p| p.value)))
            .collect();
        for site in &m.sites {
            // Unnamed addresses of plain segments leave through the site's
            // gateway alike; VPC subnets each have their own route table,
            // ACL and default group, and extended segments their own path.
            if !matches!(site.kind, SiteKind::Sddc | SiteKind::Onprem) {
                continue;
            }
            let mut rep: Option<SubnetId> = None;
            let mut nets = Vec::new();
            for &s in &site.subnets {
                let sub = m.subnet(s);
                let plain = match sub.kind {
                    SubnetKind::NsxSegment => sub.extended_by.is_none(),
                    SubnetKind::OnpremSegment => true,
                    _ => false,
                };
                if !plain {
                    continue;
                }
                let r = *rep.get_or_insert(s);
                subnet_rep[s.index()] = r;
                nets.push(sub.prefix.value);
            }
            if let Some(r) = rep {
                subnet_addrs[r.index()] = AddrRanges::from_nets(nets);
            }
        }
        Classes {
            hosts,
            host_rep,
            subnet_rep,
            subnet_addrs,
        }
    }

    /// The classes of a site's hosts: the member standing for each, and
    /// their addresses.
    pub fn host_classes(&self, site: SiteId) -> &[(HostId, AddrRanges)] {
        self.hosts.get(site.index()).map_or(&[], |v| v.as_slice())
    }

    /// The member standing for a host's class.
    pub fn host_rep(&self, h: HostId) -> HostId {
        self.host_rep.get(h.index()).copied().unwrap_or(h)
    }

    /// The subnet standing for a subnet's class of unnamed addresses.
    pub fn subnet_rep(&self, s: SubnetId) -> SubnetId {
        self.subnet_rep.get(s.index()).copied().unwrap_or(s)
    }

    /// The prefixes of the class `s` stands for (its own prefix when it
    /// stands only for itself).
    pub fn subnet_addrs(&self, s: SubnetId) -> Option<&AddrRanges> {
        self.subnet_addrs.get(s.index())
    }
}

fn host_key_if(
    space: &Space,
    h: HostId,
    seen: &HashMap<std::net::IpAddr, usize>,
    special: &HashSet<HostId>,
) -> Option<HostKey> {
    let host = space.model.host(h);
    // A dual-stack instance is a class of its own: its class would need
    // both of its addresses.
    if seen.get(&host.addr.value) != Some(&1) || special.contains(&h) || host.dual.is_some() {
        return None;
    }
    host_key(space, h)
}

/// The class of a host, or `None` when it is a class of its own.
fn host_key(space: &Space, h: HostId) -> Option<HostKey> {
    let m = space.model;
    let host = m.host(h);
    let subnet = host.subnet?;
    let sub = m.subnet(subnet);
    match (host.kind, sub.kind) {
        (HostKind::Vm, SubnetKind::NsxSegment) => Some(match sub.extended_by {
            Some(_) => HostKey::Subnet(subnet),
            None => HostKey::Site(host.site),
        }),
        (HostKind::OnpremHost, SubnetKind::OnpremSegment) => Some(HostKey::Site(host.site)),
        (HostKind::Instance, SubnetKind::VpcSubnet) => {
            let plain =
                host.source_dest_check && host.public.is_none() && space.public_of(h).is_none();
            plain.then(|| {
                let mut sgs: Vec<SgId> = host.sgs.iter().map(|s| s.value).collect();
                sgs.sort_unstable();
                sgs.dedup();
                HostKey::Instance(subnet, sgs)
            })
        }
        _ => None,
    }
}
