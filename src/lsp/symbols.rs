//! The names of one document: where each is defined and where each is used,
//! with what it resolves to, for hover and go-to-definition.
//!
//! Built on demand (the first hover or definition request after a change),
//! from a lowering that records references
//! (`model::lower_with_references`), so checking never pays for it.

use crate::model::{self, Entity, GatewayKind, Model, SiteId};
use crate::span::Span;
use crate::syntax;

/// One occurrence of a name: its span, what it names, and whether it is the
/// declaration itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub span: Span,
    pub entity: Entity,
    pub definition: bool,
}

/// A document's names and the model they resolve into.
#[derive(Debug)]
pub struct Symbols {
    pub model: Model,
    /// Sorted by span.
    occurrences: Vec<Occurrence>,
}

impl Symbols {
    pub fn build(text: &str) -> Symbols {
        let tree = syntax::parse(text).tree;
        let (lowered, references) = model::lower_with_references(&tree);
        let model = lowered.model;
        let mut occurrences: Vec<Occurrence> = references
            .into_iter()
            .map(|r| Occurrence {
                span: r.span,
                entity: r.value,
                definition: false,
            })
            .collect();
        for entity in entities(&model) {
            let decl = model.decl(entity);
            // An implicit element (the default security group of a VPC that
            // declares none) has no name in the text to point at.
            if !decl.implicit && decl.name_span.start < decl.name_span.end {
                occurrences.push(Occurrence {
                    span: decl.name_span,
                    entity,
                    definition: true,
                });
            }
        }
        occurrences.sort_by_key(|o| (o.span.start, o.span.end, !o.definition));
        occurrences.dedup_by_key(|o| o.span);
        Symbols { model, occurrences }
    }

    /// The name at byte `offset`, if any. A cursor just past a name's last
    /// character is still on it, as editors place it after a double click.
    pub fn at(&self, text: &str, offset: usize) -> Option<Occurrence> {
        let offset = u32::try_from(offset).ok()?;
        let first_after = self.occurrences.partition_point(|o| o.span.start <= offset);
        let o = self.occurrences[..first_after]
            .iter()
            .rev()
            .find(|o| o.span.start <= offset && offset <= o.span.end)?;
        Some(self.qualifier(text, *o, offset).unwrap_or(*o))
    }

    /// On the `prod` of `prod.web-tier`, the site rather than the element:
    /// each part of a qualified name goes to what it names.
    fn qualifier(&self, text: &str, o: Occurrence, offset: u32) -> Option<Occurrence> {
        if o.definition {
            return None;
        }
        let written = o.span.slice(text);
        let name = &self.model.decl(o.entity).name;
        let site_part = written.strip_suffix(name.as_str())?.strip_suffix('.')?;
        let site = self.model.site_of(o.entity)?;
        if site_part != self.model.site(site).decl.name {
            return None;
        }
        let site_end = o.span.start + u32::try_from(site_part.len()).ok()?;
        (offset <= site_end).then_some(Occurrence {
            span: Span {
                start: o.span.start,
                end: site_end,
            },
            entity: Entity::Site(site),
            definition: false,
        })
    }
}

/// Every element of the model that a name can resolve to.
fn entities(m: &Model) -> impl Iterator<Item = Entity> + '_ {
    use crate::model::*;
    fn ids<T>(v: &[T], f: fn(u32) -> Entity) -> impl Iterator<Item = Entity> {
        (0..v.len()).map(move |i| f(i as u32))
    }
    ids(&m.sites, |i| Entity::Site(SiteId(i)))
        .chain(ids(&m.subnets, |i| Entity::Subnet(SubnetId(i))))
        .chain(ids(&m.hosts, |i| Entity::Host(HostId(i))))
        .chain(ids(&m.groups, |i| Entity::Group(GroupId(i))))
        .chain(ids(&m.public_ips, |i| Entity::PublicIp(PublicIpId(i))))
        .chain(ids(&m.nat_rules, |i| Entity::NatRule(NatRuleId(i))))
        .chain(ids(&m.firewalls, |i| Entity::Firewall(FirewallId(i))))
        .chain(ids(&m.security_groups, |i| Entity::SecurityGroup(SgId(i))))
        .chain(ids(&m.acls, |i| Entity::NetworkAcl(AclId(i))))
        .chain(ids(&m.route_tables, |i| {
            Entity::RouteTable(RouteTableId(i))
        }))
        .chain(ids(&m.gateways, |i| Entity::Gateway(GatewayId(i))))
        .chain(ids(&m.nlbs, |i| Entity::Nlb(NlbId(i))))
        .chain(ids(&m.endpoint_services, |i| {
            Entity::EndpointService(EndpointServiceId(i))
        }))
        .chain(ids(&m.endpoints, |i| Entity::Endpoint(EndpointId(i))))
        .chain(ids(&m.connections, |i| Entity::Connection(ConnectionId(i))))
        .chain(ids(&m.services, |i| Entity::Service(ServiceId(i))))
        .chain(ids(&m.prefix_lists, |i| {
            Entity::PrefixList(PrefixListId(i))
        }))
}

/// What an element stands for in addresses, as a person reads it: a
/// prefix, an address, a group's members. `None` for elements without one.
pub fn value(m: &Model, e: Entity, text: &str) -> Option<String> {
    let joined = |prefixes: &[crate::span::Spanned<ipnet::IpNet>]| {
        prefixes
            .iter()
            .map(|p| p.value.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let v = match e {
        Entity::Site(s) => joined(&m.site(s).prefixes),
        Entity::Subnet(s) => m.subnet(s).prefix.value.to_string(),
        Entity::Host(h) => {
            let host = m.host(h);
            match &host.public {
                Some(p) => format!("{} (public {})", host.addr.value, p.addr),
                None => host.addr.value.to_string(),
            }
        }
        Entity::Group(g) => m.groups[g.index()].members.span.slice(text).to_string(),
        Entity::PublicIp(p) => m.public_ips[p.index()].addr.value.to_string(),
        Entity::Endpoint(p) => m.endpoints[p.index()].addr.value.to_string(),
        Entity::Service(s) => m.services[s.index()].set.span.slice(text).to_string(),
        Entity::PrefixList(l) => {
            let list = &m.prefix_lists[l.index()];
            match list.service {
                Some(svc) => format!("{} {}", svc.title(), joined(&list.prefixes)),
                None => joined(&list.prefixes),
            }
        }
        Entity::Gateway(g) => match &m.gateways[g.index()].kind {
            GatewayKind::NatGateway {
                elastic_ip,
                private_ip,
                ..
            } => [
                elastic_ip
                    .as_ref()
                    .map(|a| format!("elastic-ip {}", a.value)),
                private_ip.as_ref().map(|a| format!("ip {}", a.value)),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
            GatewayKind::Vnet {
                external_ip: Some(ip),
                ..
            } => format!("external-ip {}", ip.value),
            _ => String::new(),
        },
        _ => String::new(),
    };
    (!v.is_empty()).then_some(v)
}

/// The site an element belongs to, unless it is a site itself.
pub fn owning_site(m: &Model, e: Entity) -> Option<SiteId> {
    match e {
        Entity::Site(_) => None,
        _ => m.site_of(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESIGN: &str = "sddc prod 10.10.0.0/16 {
  segment web-tier 10.10.11.0/24
  vm web01 10.10.11.101 in web-tier
}

internet {
  host client 198.51.100.20
}

expect reach client -> prod.web01 HTTPS
";

    fn offset_of(needle: &str, nth: usize) -> usize {
        DESIGN
            .match_indices(needle)
            .nth(nth)
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("no {needle} #{nth}"))
    }

    #[test]
    fn references_and_definitions_resolve() {
        let symbols = Symbols::build(DESIGN);
        // `in web-tier` refers to the segment declared on line 2.
        let use_ = symbols
            .at(DESIGN, offset_of("web-tier", 1) + 2)
            .unwrap_or_else(|| panic!("no name at the use"));
        assert!(!use_.definition);
        let Entity::Subnet(s) = use_.entity else {
            panic!("{use_:?}")
        };
        assert_eq!(symbols.model.subnet(s).decl.name, "web-tier");
        // The declaration itself is an occurrence too, a definition.
        let def = symbols
            .at(DESIGN, offset_of("web-tier", 0))
            .unwrap_or_else(|| panic!("no name at the definition"));
        assert!(def.definition);
        assert_eq!(def.entity, use_.entity);
        // A cursor just past the name is still on it.
        let end = offset_of("web-tier", 1) + "web-tier".len();
        assert_eq!(symbols.at(DESIGN, end).map(|o| o.entity), Some(use_.entity));
        // Keywords and literals are no names.
        assert_eq!(symbols.at(DESIGN, offset_of("segment", 0) + 1), None);
        assert_eq!(symbols.at(DESIGN, offset_of("10.10.11.101", 0) + 3), None);
    }

    #[test]
    fn each_part_of_a_qualified_name_goes_to_what_it_names() {
        let symbols = Symbols::build(DESIGN);
        let qualified = offset_of("prod.web01", 0);
        let site = symbols.at(DESIGN, qualified + 1).map(|o| o.entity);
        assert!(matches!(site, Some(Entity::Site(_))), "{site:?}");
        let vm = symbols.at(DESIGN, qualified + 7).map(|o| o.entity);
        let Some(Entity::Host(h)) = vm else {
            panic!("{vm:?}")
        };
        assert_eq!(symbols.model.host(h).decl.name, "web01");
        assert_eq!(
            value(&symbols.model, Entity::Host(h), DESIGN).as_deref(),
            Some("10.10.11.101")
        );
    }

    #[test]
    fn a_broken_design_still_has_its_names() {
        let text = "vpc a 10.0.0.0/16 {\n  subnet s 10.0.1.0/24\n  instance i 10.0.1.5 in s\n  nonsense here\n}\n";
        let symbols = Symbols::build(text);
        let at = text.rfind(" s\n").map(|i| i + 1).unwrap_or_default();
        assert!(matches!(
            symbols.at(text, at).map(|o| o.entity),
            Some(Entity::Subnet(_))
        ));
    }
}
