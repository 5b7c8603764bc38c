//! Names and services as a person types them on the command line:
//! `web01`, `webvpc.web01`, `10.0.0.1`; `tcp/443`, `HTTPS`, a user service.

use super::probe::{pick, EPHEMERAL_PORT};
use super::{Packet, ICMP, ICMPV6, TCP, UDP};
use crate::model::{services, Entity, HostId, Model, ServiceRange};
use std::fmt;
use std::net::IpAddr;

/// A name or address resolved to one address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressName {
    pub addr: IpAddr,
    /// The host the name names, if it names one.
    pub host: Option<HostId>,
    /// How to show it: `web01 (10.10.11.101)`, or the address alone.
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameError {
    Unknown {
        name: String,
        suggestion: Option<String>,
    },
    Ambiguous {
        name: String,
        candidates: Vec<String>,
    },
    /// The name exists but stands for many addresses (a subnet, a site).
    NotOneAddress { name: String, kind: &'static str },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Unknown { name, suggestion } => {
                write!(f, "no host, endpoint or public IP is named `{name}`")?;
                if let Some(s) = suggestion {
                    write!(f, "; did you mean `{s}`?")?;
                }
                Ok(())
            }
            NameError::Ambiguous { name, candidates } => write!(
                f,
                "`{name}` is ambiguous: it could be {}; qualify it with its site",
                candidates
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            NameError::NotOneAddress { name, kind } => write!(
                f,
                "`{name}` is {kind}, which has many addresses; name a host, or write an address"
            ),
        }
    }
}

impl std::error::Error for NameError {}

/// Resolves a host, vm, instance, endpoint or public IP name (bare, or
/// qualified as `site.name`), or a literal address.
pub fn resolve_address(m: &Model, text: &str) -> Result<AddressName, NameError> {
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Ok(AddressName {
            addr,
            host: None,
            label: addr.to_string(),
        });
    }
    let named = |e: Entity| m.decl(e).name == text || m.display_name(e) == text;
    let mut found: Vec<(Entity, IpAddr)> = Vec::new();
    for (i, h) in m.hosts.iter().enumerate() {
        let e = Entity::Host(HostId(i as u32));
        if named(e) {
            found.push((e, h.addr.value));
        }
    }
    for (i, x) in m.endpoints.iter().enumerate() {
        let e = Entity::Endpoint(crate::model::EndpointId(i as u32));
        if named(e) {
            found.push((e, x.addr.value));
        }
    }
    for (i, x) in m.public_ips.iter().enumerate() {
        let e = Entity::PublicIp(crate::model::PublicIpId(i as u32));
        if named(e) {
            found.push((e, x.addr.value));
        }
    }
    match found.as_slice() {
        [(e, addr)] => Ok(AddressName {
            addr: *addr,
            host: match e {
                Entity::Host(h) => Some(*h),
                _ => None,
            },
            // As typed, so a qualified name stays qualified.
            label: format!("{text} ({addr})"),
        }),
        [] => {
            if let Some(kind) = other_kind(m, text) {
                return Err(NameError::NotOneAddress {
                    name: text.to_string(),
                    kind,
                });
            }
            Err(NameError::Unknown {
                name: text.to_string(),
                suggestion: suggest(m, text),
            })
        }
        many => Err(NameError::Ambiguous {
            name: text.to_string(),
            candidates: many.iter().map(|(e, _)| m.display_name(*e)).collect(),
        }),
    }
}

/// What else a name could be, for "`web-tier` is a segment".
fn other_kind(m: &Model, text: &str) -> Option<&'static str> {
    let named = |e: Entity| m.decl(e).name == text || m.display_name(e) == text;
    let mut entities = Vec::new();
    entities.extend((0..m.subnets.len()).map(|i| Entity::Subnet(crate::model::SubnetId(i as u32))));
    entities.extend((0..m.sites.len()).map(|i| Entity::Site(crate::model::SiteId(i as u32))));
    entities.extend((0..m.groups.len()).map(|i| Entity::Group(crate::model::GroupId(i as u32))));
    entities
        .into_iter()
        .find(|&e| named(e))
        .map(|e| m.decl_kind(e).article_noun())
}

/// The closest addressable name, if one is close enough to be a typo.
fn suggest(m: &Model, text: &str) -> Option<String> {
    let mut names: Vec<String> = Vec::new();
    for i in 0..m.hosts.len() {
        names.push(m.display_name(Entity::Host(HostId(i as u32))));
        if let Some(h) = m.hosts.get(i) {
            names.push(h.decl.name.clone());
        }
    }
    for i in 0..m.endpoints.len() {
        let e = Entity::Endpoint(crate::model::EndpointId(i as u32));
        names.push(m.display_name(e));
        names.push(m.decl(e).name.clone());
    }
    for i in 0..m.public_ips.len() {
        let e = Entity::PublicIp(crate::model::PublicIpId(i as u32));
        names.push(m.display_name(e));
        names.push(m.decl(e).name.clone());
    }
    let limit = (text.chars().count() / 3).max(2);
    names
        .into_iter()
        .map(|n| (strsim::levenshtein(text, &n), n))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, n)| n)
}

/// A service as the command line gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceChoice {
    pub ranges: Vec<ServiceRange>,
    /// As typed, with what it means when that is not obvious:
    /// `HTTP (tcp/80)`.
    pub label: String,
}

impl ServiceChoice {
    /// The packet this service stands for between two addresses: the first
    /// range that fits the address family, at its lowest port (ICMP echo
    /// when the range holds it). `None` when no range fits the family.
    pub fn packet(&self, src: IpAddr, dst: IpAddr, sport: Option<u16>) -> Option<Packet> {
        let (proto, dport) = self.ranges.iter().find_map(|r| pick(r, dst))?;
        let sport = match proto {
            TCP | UDP => sport.unwrap_or(EPHEMERAL_PORT),
            _ => 0,
        };
        Some(Packet {
            src,
            dst,
            proto,
            sport,
            dport,
        })
    }
}

/// Parses `tcp/443`, `udp/1024-65535`, `tcp`, `icmp`, `icmp/8`, `6/443`,
/// `any`, a built-in service (`HTTPS`) or a service the design declares.
pub fn parse_service(m: &Model, text: &str) -> Result<ServiceChoice, String> {
    let plain = |ranges: Vec<ServiceRange>| ServiceChoice {
        ranges,
        label: text.to_string(),
    };
    if text == "any" {
        return Ok(plain(vec![ServiceRange::ANY]));
    }
    if let Some(proto) = proto_word(text) {
        return Ok(plain(vec![ServiceRange::proto(proto)]));
    }
    if let Some((p, ports)) = text.split_once('/') {
        let proto = proto_word(p)
            .or_else(|| p.parse::<u8>().ok())
            .ok_or_else(|| format!("`{p}` is not a protocol: write tcp, udp, icmp or a number"))?;
        let (lo, hi) = match ports.split_once('-') {
            Some((lo, hi)) => (parse_port(lo)?, parse_port(hi)?),
            None => {
                let p = parse_port(ports)?;
                (p, p)
            }
        };
        if lo > hi {
            return Err(format!("the port range `{ports}` ends before it starts"));
        }
        return Ok(plain(vec![ServiceRange::ports(proto, lo, hi)]));
    }
    if let Ok(proto) = text.parse::<u8>() {
        return Ok(plain(vec![ServiceRange::proto(proto)]));
    }
    if let Some(ranges) = services::builtin(text) {
        return Ok(ServiceChoice {
            ranges: ranges.to_vec(),
            label: format!("{text} ({})", describe_ranges(ranges)),
        });
    }
    if let Some(s) = m.services.iter().find(|s| s.decl.name == text) {
        return Ok(ServiceChoice {
            ranges: s.set.ranges.clone(),
            label: format!("{text} ({})", describe_ranges(&s.set.ranges)),
        });
    }
    let user = m
        .services
        .iter()
        .map(|s| {
            (
                strsim::levenshtein(text, &s.decl.name),
                s.decl.name.as_str(),
            )
        })
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| n);
    let hint = services::closest_builtin(text).or(user);
    Err(match hint {
        Some(h) => format!("unknown service `{text}`; did you mean `{h}`?"),
        None => format!(
            "unknown service `{text}`; write `tcp/443`, `udp/53`, `icmp`, a built-in service \
             such as `HTTPS`, or a service the design declares"
        ),
    })
}

fn proto_word(text: &str) -> Option<u8> {
    match text {
        "tcp" => Some(TCP),
        "udp" => Some(UDP),
        "icmp" => Some(ICMP),
        "icmpv6" => Some(ICMPV6),
        _ => None,
    }
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .map_err(|_| format!("`{text}` is not a port (0-65535)"))
}

/// `tcp/80`, `udp/53, tcp/53`, `icmp type 8`.
pub fn describe_ranges(ranges: &[ServiceRange]) -> String {
    ranges
        .iter()
        .map(|r| match r.proto {
            None => "any".to_string(),
            Some(p @ (ICMP | ICMPV6)) if r.lo == r.hi => {
                format!("{} type {}", super::proto_name(p), r.lo)
            }
            Some(p) if r.lo == 0 && r.hi == u16::MAX => super::proto_name(p),
            Some(p) if r.lo == r.hi => format!("{}/{}", super::proto_name(p), r.lo),
            Some(p) => format!("{}/{}-{}", super::proto_name(p), r.lo, r.hi),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
