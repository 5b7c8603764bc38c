//! The single-packet simulator: the *oracle*.
//!
//! It follows one concrete packet, and then its reply, hop by hop through a
//! [`Model`], exactly as `docs/forwarding.md` describes, and records every
//! decision with the span of the element that made it. It is deliberately
//! simple and shares no code with the symbolic reachability engine: property
//! tests compare the two, and that comparison is only worth something if they
//! were written independently.
//!
//! The simulator never panics on a model lowered from a file with errors:
//! whatever is missing (a host without a subnet, an endpoint without a
//! service) ends the packet's walk with a drop that says so.
//!
//! Layout:
//! - `walk`: the walker (one packet, one direction), hosts, the internet and
//!   connections between sites;
//! - `vpc` (router, filters, the SDDC's ENIs), `vpc_gateways` (internet
//!   and NAT gateways, NAT instances), `eigw` (egress-only internet
//!   gateways), `privatelink` (interface endpoints and NLBs), `sddc` and
//!   `mgw` (the compute and management gateways), `edge` (on-prem edges),
//!   `tgw` (transit gateways), `vnet` (VM networks): the pipelines of each
//!   kind of node;
//! - `matching`: address and service matching, and who owns an address;
//! - `probe`: representative packets of an expectation;
//! - `lookup`: names and services as a person types them (`netproof trace`).

mod acl_index;
mod edge;
mod eigw;
mod lookup;
mod matching;
mod mgw;
mod privatelink;
mod probe;
mod sddc;
mod tgw;
mod vnet;
mod vpc;
mod vpc_gateways;
mod walk;

pub use lookup::{parse_service, resolve_address, AddressName, NameError, ServiceChoice};
pub use probe::{representative_packets, Probe};

use crate::model::{GatewayId, HostId, Model, SubnetId};
use crate::span::Span;
use std::fmt;
use std::net::IpAddr;

/// Protocol numbers the simulator treats specially.
pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ICMP: u8 = 1;
pub const ICMPV6: u8 = 58;

/// The most nodes one trace visits; a packet still moving after that is in a
/// loop.
pub const MAX_NODES: usize = 64;

/// One packet header. For ICMP, `dport` carries the ICMP type and `sport` is
/// 0, so that swapping the ports of an echo request (type 8) gives an echo
/// reply (type 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Packet {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
}

impl Packet {
    /// The reply to this packet: addresses and ports swapped.
    pub fn reply(&self) -> Packet {
        Packet {
            src: self.dst,
            dst: self.src,
            proto: self.proto,
            sport: self.dport,
            dport: self.sport,
        }
    }

    /// Whether the protocol has ports (rather than an ICMP type, or nothing).
    pub fn has_ports(&self) -> bool {
        matches!(self.proto, TCP | UDP)
    }
}

/// `198.51.100.20:1024 -> 52.58.125.207:80 tcp`, `10.0.0.1 -> 10.0.0.2 icmp type 8`.
impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.has_ports() {
            write!(
                f,
                "{} -> {} {}",
                host_port(self.src, self.sport),
                host_port(self.dst, self.dport),
                proto_name(self.proto)
            )
        } else if matches!(self.proto, ICMP | ICMPV6) {
            write!(
                f,
                "{} -> {} {} type {}",
                self.src,
                self.dst,
                proto_name(self.proto),
                self.dport
            )
        } else {
            write!(f, "{} -> {} {}", self.src, self.dst, proto_name(self.proto))
        }
    }
}

fn host_port(addr: IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// The name of a protocol number as the language writes it.
pub fn proto_name(proto: u8) -> String {
    match proto {
        TCP => "tcp".into(),
        UDP => "udp".into(),
        ICMP => "icmp".into(),
        ICMPV6 => "icmpv6".into(),
        p => format!("protocol {p}"),
    }
}

/// Where a flow starts: a declared host, or an address that is resolved to
/// its owner as "Where packets start" in `docs/forwarding.md` says (a host's
/// address starts at that host, another address of a subnet at a virtual
/// host on it, an address no site owns on the internet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    Host(HostId),
    Address(IpAddr),
}

/// Something that sends or receives packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Party {
    /// A declared host (instance, vm, on-prem host, internet host).
    Host(HostId),
    /// An unnamed interface with an address of a subnet or segment.
    Virtual { addr: IpAddr, subnet: SubnetId },
    /// An unnamed host on the internet (an address no declared site owns).
    Internet(IpAddr),
    /// An address of an AWS service (S3, DynamoDB), reached through a
    /// gateway endpoint of a VPC; replies go back through the same one.
    Service { addr: IpAddr, gateway: GatewayId },
}

impl Party {
    /// How a message names the party: `web01`, `10.0.1.99 (segment apps)`,
    /// `8.8.8.8 (internet)`.
    pub fn describe(&self, model: &Model) -> String {
        match *self {
            Party::Host(h) => model
                .hosts
                .get(h.index())
                .map_or_else(|| "an unknown host".into(), |h| h.decl.name.clone()),
            Party::Virtual { addr, subnet } => match model.subnets.get(subnet.index()) {
                Some(s) => format!("{addr} (in {})", s.decl.name),
                None => addr.to_string(),
            },
            Party::Internet(addr) => format!("{addr} (internet)"),
            Party::Service { addr, gateway } => match model.gateway_endpoint(gateway) {
                Some((svc, _)) => format!("{addr} ({})", svc.title()),
                None => format!("{addr} (an AWS service)"),
            },
        }
    }

    /// The party's own address.
    pub fn addr(&self, model: &Model) -> Option<IpAddr> {
        match *self {
            Party::Host(h) => model.hosts.get(h.index()).map(|h| h.addr.value),
            Party::Virtual { addr, .. } | Party::Internet(addr) | Party::Service { addr, .. } => {
                Some(addr)
            }
        }
    }
}

/// What a hop did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// A host or unnamed interface sends the packet.
    Send,
    Route,
    Nat,
    Firewall,
    SecurityGroup,
    NetworkAcl,
    /// A network load balancer picks a target.
    LoadBalancer,
    /// The packet crosses a connection or a gateway without a decision.
    Forward,
    Delivery,
    /// The walk stopped because it went round in circles.
    Loop,
}

impl Stage {
    /// For people: `route lookup`, `security group`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Send => "send",
            Stage::Route => "route lookup",
            Stage::Nat => "NAT",
            Stage::Firewall => "firewall",
            Stage::SecurityGroup => "security group",
            Stage::NetworkAcl => "network ACL",
            Stage::LoadBalancer => "load balancer",
            Stage::Forward => "forward",
            Stage::Delivery => "delivery",
            Stage::Loop => "loop",
        }
    }

    /// For JSON: stable snake_case keys.
    pub fn key(self) -> &'static str {
        match self {
            Stage::Send => "send",
            Stage::Route => "route",
            Stage::Nat => "nat",
            Stage::Firewall => "firewall",
            Stage::SecurityGroup => "security_group",
            Stage::NetworkAcl => "network_acl",
            Stage::LoadBalancer => "load_balancer",
            Stage::Forward => "forward",
            Stage::Delivery => "delivery",
            Stage::Loop => "loop",
        }
    }
}

/// One decision on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// Where: `vpc shop / router`, `sddc prod / cgw (uplink internet)`.
    pub node: String,
    pub stage: Stage,
    /// What was decided, in words: "rule `web-in` allows it".
    pub decision: String,
    /// The header before and after, when this hop rewrote it.
    pub rewrite: Option<(Packet, Packet)>,
    /// The element that decided: a rule, a route, a NAT rule, a security
    /// group; the site or table when an implicit default decided.
    pub span: Option<Span>,
    /// Whether this hop stopped the packet.
    pub dropped: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered {
        party: Party,
        header: Packet,
    },
    Dropped {
        reason: String,
        span: Option<Span>,
        help: String,
        /// `false` when what happens next depends on something a design
        /// cannot state (docs/forwarding.md): the flow is not decided.
        decided: bool,
    },
}

/// One packet's walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The header as it was sent.
    pub sent: Packet,
    pub hops: Vec<Hop>,
    pub outcome: Outcome,
}

impl Trace {
    pub fn delivered(&self) -> Option<(Party, Packet)> {
        match self.outcome {
            Outcome::Delivered { party, header } => Some((party, header)),
            Outcome::Dropped { .. } => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Reply,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Forward => "forward",
            Direction::Reply => "reply",
        }
    }
}

/// Why a flow does not reach, or why it is not decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub direction: Direction,
    pub reason: String,
    pub span: Option<Span>,
    pub help: String,
    /// `false` when the flow's fate depends on something a design cannot
    /// state: it neither reaches nor fails.
    pub decided: bool,
}

/// A flow: the forward packet and, when it was delivered, its reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowResult {
    /// Who sent the forward packet; `None` when nothing can send from the
    /// start (an address of no subnet, an interface endpoint).
    pub source: Option<Party>,
    pub forward: Trace,
    pub reply: Option<Trace>,
    /// The reply came back to the source from the address it sent to;
    /// `false` also when the flow is not decided (see `failure`).
    pub reaches: bool,
    pub failure: Option<Failure>,
}

/// Simulates one flow: the forward packet from `start` and, if it is
/// delivered, its reply. The flow reaches when the reply arrives back at the
/// source with its addresses and ports exactly swapped, that is, from the
/// address the source sent to.
pub fn simulate_flow(model: &Model, start: Start, packet: Packet) -> FlowResult {
    simulate_flow_to(model, start, packet, None)
}

/// The oracle for many flows of one model: what it learns about the model
/// once (the indexes of long network ACLs) serves every flow. The answers
/// are [`simulate_flow`]'s.
pub struct Oracle<'m> {
    model: &'m Model,
    acls: acl_index::AclIndexes,
}

impl<'m> Oracle<'m> {
    pub fn new(model: &'m Model) -> Oracle<'m> {
        Oracle {
            model,
            acls: acl_index::AclIndexes::new(model),
        }
    }

    /// [`simulate_flow`] of this oracle's model.
    pub fn flow(&self, start: Start, packet: Packet) -> FlowResult {
        walk::flow(self.model, &self.acls, start, packet, None)
    }
}

/// As [`simulate_flow`], and, when `intended` is given, the forward packet
/// must also be delivered to that host (as `expect reach SRC -> DST at
/// ADDRESS` requires: sent to ADDRESS, arriving at DST).
pub fn simulate_flow_to(
    model: &Model,
    start: Start,
    packet: Packet,
    intended: Option<Party>,
) -> FlowResult {
    walk::flow(
        model,
        &acl_index::AclIndexes::new(model),
        start,
        packet,
        intended,
    )
}

/// Follows one packet in one direction only, with no sessions: what
/// `simulate_flow` does for the forward packet.
pub fn simulate_packet(model: &Model, start: Start, packet: Packet) -> Trace {
    walk::one_way(model, &acl_index::AclIndexes::new(model), start, packet)
}

/// The client port probes and `netproof trace` use unless told otherwise.
pub const fn probe_port() -> u16 {
    probe::EPHEMERAL_PORT
}

/// The party a [`Start`] resolves to, or why nothing can send from it.
pub fn start_party(model: &Model, start: Start) -> Result<Party, String> {
    walk::start_party(model, start).map_err(|d| d.reason)
}
