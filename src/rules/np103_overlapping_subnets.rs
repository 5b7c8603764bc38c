//! NP103 overlapping-subnets: two subnets or segments of one site overlap.
//!
//! Inside one routing domain two overlapping prefixes make the longer one
//! shadow part of the shorter: AWS refuses the second subnet, and NSX routes
//! the shared addresses to only one segment. An SDDC segment that overlaps
//! the management prefix collides with vCenter and NSX Manager.
//!
//! The check is a sort and one sweep per site, `O(n log n)`: prefixes are
//! ordered by first address, and each one is compared with the earlier
//! prefix that reaches furthest. Each prefix that overlaps an earlier one is
//! reported once, against the earlier one that covers it.

use crate::diagnostic::Diagnostic;
use crate::model::Model;
use crate::registry::Code;
use crate::span::Span;
use ipnet::IpNet;
use std::net::IpAddr;

struct Entry {
    /// Address family first, so IPv4 and IPv6 never meet in the sweep.
    key: (bool, u128, u128),
    net: IpNet,
    span: Span,
    /// The subnet, or `None` for the management prefix. Described only when
    /// reported: formatting a name for each of a million prefixes would
    /// cost more than the sweep.
    what: Option<crate::model::SubnetId>,
}

fn describe(model: &Model, e: &Entry) -> String {
    match e.what {
        Some(s) => format!(
            "{} `{}`",
            super::util::subnet_noun(model, s),
            model.subnet(s).decl.name
        ),
        None => "the management prefix".to_string(),
    }
}

/// The first and last address of a prefix as integers, with its family.
pub(crate) fn bounds(net: IpNet) -> (bool, u128, u128) {
    let as_int = |a: IpAddr| match a {
        IpAddr::V4(v) => u32::from(v) as u128,
        IpAddr::V6(v) => u128::from(v),
    };
    (
        net.addr().is_ipv6(),
        as_int(net.network()),
        as_int(net.broadcast()),
    )
}

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for site in &model.sites {
        let mut entries: Vec<Entry> = site
            .subnets
            .iter()
            .flat_map(|&s| {
                model.subnet(s).prefixes().map(move |p| Entry {
                    key: bounds(p.value),
                    net: p.value,
                    span: p.span,
                    what: Some(s),
                })
            })
            .chain(site.management.iter().map(|m| Entry {
                key: bounds(m.value),
                net: m.value,
                span: m.span,
                what: None,
            }))
            .collect();
        // Sort by start, longest prefix last among equal starts, then by
        // position, so the covering prefix comes first and output is stable.
        entries
            .sort_unstable_by_key(|e| (e.key.0, e.key.1, std::cmp::Reverse(e.key.2), e.span.start));
        let mut reach: Option<usize> = None;
        for i in 0..entries.len() {
            if let Some(r) = reach {
                let (fam_r, _, end_r) = entries[r].key;
                let (fam, start, end) = entries[i].key;
                if fam == fam_r && start <= end_r {
                    out.push(diagnostic(model, &entries[r], &entries[i], &site.decl.name));
                    if end <= end_r {
                        continue;
                    }
                }
            }
            reach = match reach {
                Some(r)
                    if entries[r].key.0 == entries[i].key.0
                        && entries[r].key.2 >= entries[i].key.2 =>
                {
                    Some(r)
                }
                _ => Some(i),
            };
        }
    }
}

fn diagnostic(model: &Model, earlier: &Entry, later: &Entry, site: &str) -> Diagnostic {
    // Point at whichever of the two comes later in the file: that is the
    // line the author most likely just added.
    let (first, second) = if earlier.span.start <= later.span.start {
        (earlier, later)
    } else {
        (later, earlier)
    };
    let relation = if second.net == first.net {
        "is the same prefix as"
    } else if first.net.contains(&second.net) {
        "lies inside"
    } else if second.net.contains(&first.net) {
        "contains"
    } else {
        "overlaps"
    };
    let (first_what, second_what) = (describe(model, first), describe(model, second));
    Diagnostic::new(
        Code::NP103,
        format!(
            "{second_what} ({}) {relation} {first_what} ({}) in `{site}`",
            second.net, first.net
        ),
        second.span,
        format!("overlaps {}", first.net),
    )
    .with_label(first.span, format!("{first_what} is {}", first.net))
    .with_help(
        "within one site every address must belong to exactly one subnet or segment, \
         or routing cannot tell them apart: give one of them a prefix that does not overlap",
    )
}
