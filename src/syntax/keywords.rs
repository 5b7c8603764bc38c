//! Which statements each kind of block accepts, and the help for a keyword
//! used in the wrong place.
//!
//! Keywords are contextual: only the first atom of a statement is read as a
//! statement keyword, and only against the table of the block it stands in.
//! Keeping the tables here, as data, lets the parser explain a misplaced
//! keyword ("`segment` belongs in an sddc or onprem block") and lets a test
//! check that the grammar names every keyword.

use super::ast::SiteKind;

/// The kinds of block a statement can stand in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Block {
    Top,
    Site(SiteKind),
    Firewall,
    RouteTable,
    SecurityGroup,
    NetworkAcl,
    Nlb,
    TransitGateway,
    TgwRouteTable,
    DirectConnect,
    RouteVpn,
    PolicyVpn,
    L2vpn,
}

pub(super) const ALL_BLOCKS: [Block; 17] = [
    Block::Top,
    Block::Site(SiteKind::Sddc),
    Block::Site(SiteKind::Vpc),
    Block::Site(SiteKind::Onprem),
    Block::Site(SiteKind::VmNetwork),
    Block::Site(SiteKind::Internet),
    Block::Firewall,
    Block::RouteTable,
    Block::SecurityGroup,
    Block::NetworkAcl,
    Block::Nlb,
    Block::TransitGateway,
    Block::TgwRouteTable,
    Block::DirectConnect,
    Block::RouteVpn,
    Block::PolicyVpn,
    Block::L2vpn,
];

/// Every statement keyword of every block, without repeats.
pub const STATEMENT_KEYWORDS: &[&str] = &[
    "sddc",
    "vpc",
    "onprem",
    "vmnetwork",
    "internet",
    "service",
    "prefix-list",
    "peering",
    "transit-gateway",
    "direct-connect",
    "vpn",
    "l2vpn",
    "expect",
    "management",
    "segment",
    "vm",
    "group",
    "public-ip",
    "default-snat",
    "nat",
    "connected-vpc",
    "firewall",
    "description",
    "internet-gateway",
    "egress-only-internet-gateway",
    "route-table",
    "subnet",
    "instance",
    "elastic-ip",
    "nat-gateway",
    "security-group",
    "network-acl",
    "nlb",
    "endpoint-service",
    "endpoint",
    "host",
    "appliance",
    "internet-egress",
    "gateway",
    "gateway-endpoint",
    "rule",
    "route",
    "inbound",
    "outbound",
    "listener",
    "attach",
    "advertise",
    "local",
    "remote",
    "extend",
    "associate",
    "propagate",
];

/// Statement keywords that are each other's counterpart in another kind of
/// site, for "a vpc has `subnet`, not `segment`" help.
const SYNONYMS: &[&[&str]] = &[
    &["segment", "subnet"],
    &["vm", "instance", "host"],
    &["public-ip", "elastic-ip"],
];

impl Block {
    pub(super) fn keywords(self) -> &'static [&'static str] {
        match self {
            Block::Top => &[
                "sddc",
                "vpc",
                "onprem",
                "vmnetwork",
                "internet",
                "service",
                "prefix-list",
                "peering",
                "transit-gateway",
                "direct-connect",
                "vpn",
                "l2vpn",
                "expect",
            ],
            Block::Site(SiteKind::Sddc) => &[
                "management",
                "appliance",
                "segment",
                "vm",
                "group",
                "public-ip",
                "default-snat",
                "nat",
                "connected-vpc",
                "firewall",
                "description",
            ],
            Block::Site(SiteKind::Vpc) => &[
                "internet-gateway",
                "egress-only-internet-gateway",
                "route-table",
                "subnet",
                "instance",
                "elastic-ip",
                "nat-gateway",
                "security-group",
                "network-acl",
                "nlb",
                "endpoint-service",
                "endpoint",
                "gateway-endpoint",
                "group",
                "description",
            ],
            Block::Site(SiteKind::Onprem) => &[
                "segment",
                "host",
                "group",
                "internet-egress",
                "nat",
                "firewall",
                "description",
            ],
            Block::Site(SiteKind::VmNetwork) => {
                &["subnet", "vm", "gateway", "nat", "group", "description"]
            }
            Block::Site(SiteKind::Internet) => &["host", "description"],
            Block::Firewall => &["rule"],
            Block::RouteTable => &["route"],
            Block::SecurityGroup | Block::NetworkAcl => &["inbound", "outbound"],
            Block::Nlb => &["listener"],
            Block::TransitGateway => &["attach", "route", "route-table"],
            Block::TgwRouteTable => &["associate", "propagate", "route"],
            Block::DirectConnect | Block::RouteVpn => &["advertise"],
            Block::PolicyVpn => &["local", "remote"],
            Block::L2vpn => &["extend"],
        }
    }

    pub(super) fn accepts(self, word: &str) -> bool {
        self.keywords().contains(&word)
    }

    /// The block as the subject of a sentence: "a vpc block", "top level".
    pub(super) fn noun(self) -> &'static str {
        match self {
            Block::Top => "top level",
            Block::Site(SiteKind::Sddc) => "an sddc block",
            Block::Site(SiteKind::Vpc) => "a vpc block",
            Block::Site(SiteKind::Onprem) => "an onprem block",
            Block::Site(SiteKind::VmNetwork) => "a vmnetwork block",
            Block::Site(SiteKind::Internet) => "the internet block",
            Block::Firewall => "a firewall block",
            Block::RouteTable => "a route-table block",
            Block::SecurityGroup => "a security-group block",
            Block::NetworkAcl => "a network-acl block",
            Block::Nlb => "an nlb block",
            Block::TransitGateway => "a transit-gateway block",
            Block::TgwRouteTable => "a transit gateway's route-table block",
            Block::DirectConnect => "a direct-connect block",
            Block::RouteVpn => "a route-based vpn block",
            Block::PolicyVpn => "a policy-based vpn block",
            Block::L2vpn => "an l2vpn block",
        }
    }

    /// The keyword that opened the block, for "the vpc block starts here".
    pub(super) fn keyword(self) -> &'static str {
        match self {
            Block::Top => "file",
            Block::Site(kind) => kind.keyword(),
            Block::Firewall => "firewall",
            Block::RouteTable => "route-table",
            Block::SecurityGroup => "security-group",
            Block::NetworkAcl => "network-acl",
            Block::Nlb => "nlb",
            Block::TransitGateway => "transit-gateway",
            Block::TgwRouteTable => "route-table",
            Block::DirectConnect => "direct-connect",
            Block::RouteVpn | Block::PolicyVpn => "vpn",
            Block::L2vpn => "l2vpn",
        }
    }

    /// "top level accepts `sddc`, `vpc`, ... and `expect`".
    pub(super) fn accepts_sentence(self) -> String {
        let list = join_words(self.keywords().iter().map(|k| format!("`{k}`")), "and");
        match self {
            Block::Top => format!("top level accepts {list}"),
            _ if self.keywords().len() == 1 => format!("{} accepts only {list}", self.noun()),
            _ => format!("{} accepts {list}", self.noun()),
        }
    }

    /// The counterpart of `word` that this block accepts, if any.
    pub(super) fn synonym_of(self, word: &str) -> Option<&'static str> {
        let group = SYNONYMS.iter().find(|g| g.contains(&word))?;
        group
            .iter()
            .copied()
            .find(|s| *s != word && self.accepts(s))
    }
}

/// Joins words as English does: "a", "a or b", "a, b or c".
pub(super) fn join_words(words: impl IntoIterator<Item = String>, conjunction: &str) -> String {
    let words: Vec<String> = words.into_iter().collect();
    match words.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {conjunction} {last}", rest.join(", ")),
    }
}

/// Whether `word` is a statement keyword of any block.
pub(super) fn is_statement_keyword(word: &str) -> bool {
    STATEMENT_KEYWORDS.contains(&word)
}

/// The candidate closest to `word`, when it is close enough to be a typo:
/// one edit for short words, two for medium, three for long ones.
/// Comparison ignores case, so `Segment` suggests `segment`.
pub(super) fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    // Edit distance is quadratic; a long atom is no typo of a keyword.
    if word.is_empty() || word.len() > 40 {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    let limit = match lower.len() {
        0..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&lower, c), *c))
        .filter(|&(d, c)| d <= limit && d < c.len())
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_keyword_is_listed() {
        for block in ALL_BLOCKS {
            for kw in block.keywords() {
                assert!(
                    is_statement_keyword(kw),
                    "{kw} is missing from STATEMENT_KEYWORDS"
                );
            }
        }
        for kw in STATEMENT_KEYWORDS {
            assert!(
                ALL_BLOCKS.iter().any(|b| b.accepts(kw)),
                "{kw} belongs to no block"
            );
        }
    }

    #[test]
    fn suggestions_are_close_only() {
        let vpc = Block::Site(SiteKind::Vpc).keywords();
        assert_eq!(suggest("subnt", vpc), Some("subnet"));
        assert_eq!(suggest("Subnet", vpc), Some("subnet"));
        assert_eq!(suggest("zebra", vpc), None);
        assert_eq!(
            suggest("segmnt", Block::Site(SiteKind::Sddc).keywords()),
            Some("segment")
        );
    }

    #[test]
    fn synonyms_point_at_the_local_word() {
        assert_eq!(
            Block::Site(SiteKind::Vpc).synonym_of("segment"),
            Some("subnet")
        );
        assert_eq!(Block::Site(SiteKind::Onprem).synonym_of("vm"), Some("host"));
        assert_eq!(
            Block::Site(SiteKind::Sddc).synonym_of("elastic-ip"),
            Some("public-ip")
        );
        assert_eq!(Block::Firewall.synonym_of("vm"), None);
    }
}
