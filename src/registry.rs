//! The rule registry: the single table that maps a code to its name, default
//! severity, one-line summary and documentation page.
//!
//! Pages live in `rules/` at the repository root and are compiled into the
//! binary, so `netproof explain`, the SARIF emitter and the language server
//! all show the same text. A missing page is a compile error; a page without
//! a registry entry, or an entry without fixtures, fails `tests/registry.rs`.

use crate::diagnostic::Severity;
use serde::Serialize;
use std::fmt;

/// Where the rendered rule pages are published; each page is
/// `{DOCS_BASE}{CODE}-{name}` and mirrors the file in `rules/`.
pub const DOCS_BASE: &str = "https://netproof.dev/rules/";

macro_rules! rules {
    ($( $code:ident, $name:literal, $sev:ident, $summary:literal; )*) => {
        /// Every rule code netproof knows. The order is the catalog's order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum Code { $( $code, )* }

        /// All rules, indexed by `Code as usize`.
        pub static RULES: &[RuleMeta] = &[
            $( RuleMeta {
                code: Code::$code,
                name: $name,
                severity: Severity::$sev,
                summary: $summary,
                page: include_str!(concat!("../rules/", stringify!($code), "-", $name, ".md")),
            }, )*
        ];

        impl Code {
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$code => stringify!($code), )* }
            }
        }
    };
}

rules! {
    NP001, "syntax-error", Error, "The text does not parse; every error is reported, not just the first.";
    NP002, "undefined-reference", Error, "A name resolves to nothing, or to several things.";
    NP003, "duplicate-definition", Error, "A name is declared twice in one scope.";
    NP004, "invalid-address", Error, "An address, prefix, range, port or number is malformed or out of range.";
    NP005, "prefix-host-bits-set", Error, "A prefix has bits set past its length, as in 10.0.0.1/24.";
    NP006, "wrong-kind-reference", Error, "A name refers to something of the wrong kind, such as a route to a subnet.";
    NP007, "unused-suppression", Info, "A `# netproof: ignore` comment suppresses nothing, or is malformed.";
    NP101, "address-outside-subnet", Error, "A host or endpoint address is not inside the subnet or segment it is placed in.";
    NP102, "subnet-outside-site", Error, "A subnet or segment is not inside its site's declared prefixes.";
    NP103, "overlapping-subnets", Error, "Two subnets or segments of one site overlap.";
    NP104, "duplicate-address", Error, "Two things own the same address in one routing domain.";
    NP105, "overlapping-connected-sites", Error, "Two sites joined by a link that exchanges routes have overlapping prefixes.";
    NP106, "reserved-address", Error, "A host uses an address the platform reserves.";
    NP201, "firewall-matches-public-address", Error, "A gateway firewall rule names a NAT rule's public address, which the firewall never sees.";
    NP202, "nat-without-public-ip", Error, "A NAT rule's external address is not a public IP its site owns.";
    NP203, "asymmetric-nat-default-route", Error, "A site publishes by DNAT while its default route is learned over Direct Connect or VPN.";
    NP204, "nat-on-extended-segment", Warning, "A NAT rule translates a VM on an L2VPN-extended segment, whose gateway stays on-prem.";
    NP205, "unused-public-ip", Info, "A public IP or Elastic IP is allocated but used by nothing; it is billed hourly.";
    NP206, "public-subnet-without-public-address", Warning, "An instance in a public subnet has no public or Elastic IP, so it cannot reach the internet.";
    NP207, "nat-gateway-misplaced", Error, "A public NAT gateway sits in a subnet that does not route 0.0.0.0/0 to an internet gateway.";
    NP208, "nat-instance-source-dest-check", Error, "A route forwards through an instance whose source/destination check is on.";
    NP301, "shadowed-rule", Warning, "No packet can match a rule: earlier rules, alone or together, match all of its packets first.";
    NP302, "permissive-rule", Warning, "A gateway firewall rule allows any source to any destination with any service.";
    NP303, "exposed-admin-port", Warning, "SSH, RDP or a database port of a host is reachable from the internet, through NAT and routing.";
    NP304, "reply-blocked-by-acl", Error, "A flow allowed forward is dropped on the way back by a stateless network ACL.";
    NP305, "one-way-gateway-rules", Info, "The CGW allows a direction on the vpc uplink but not the other, and an expectation needs both.";
    NP306, "unused-filter", Info, "A security group, network ACL or group is attached to or used by nothing.";
    NP307, "mgw-rule-refused", Error, "A management gateway rule VMC refuses: not allow, applied-to, or no system-defined group.";
    NP401, "egress-via-onprem", Info, "A learned default route sends a site's internet traffic on-prem.";
    NP402, "connected-vpc-default-sg", Warning, "An instance in the connected VPC is not admitted by the default security group the SDDC's ENIs carry.";
    NP403, "transitive-peering", Error, "A route or expectation relies on a peered VPC to forward traffic edge to edge.";
    NP404, "blackhole-route", Error, "A route targets something that is not attached to its VPC or transit gateway.";
    NP405, "missing-return-route", Error, "A request is delivered, but the destination side has no route back to the source.";
    NP501, "endpoint-blocks-client", Error, "An interface endpoint's security groups do not admit a client that the design sends to it.";
    NP502, "client-address-not-preserved", Warning, "A target's security group admits an NLB's clients, but their traffic arrives from the NLB's address.";
    NP503, "endpoint-auto-accept", Info, "An endpoint service accepts endpoint connections without approval.";
    NP504, "nlb-listener-target-mismatch", Error, "An NLB listener forwards to a port that the target's security groups do not admit.";
    NP601, "gateway-shares-subnet", Error, "An NVGRE gateway sits in a virtual subnet that VMs use.";
    NP602, "gateway-needs-external-ip", Error, "An s2s or nat NVGRE gateway has no external address, or a VPN ends at a gateway not in s2s mode.";
    NP603, "gateway-host-shared", Warning, "The Hyper-V host of an NVGRE gateway also runs tenant VMs.";
    NP604, "forwarding-overlap", Error, "A forwarding NVGRE gateway exposes addresses that overlap another network routed on the physical side.";
    NP901, "expectation-unreachable", Error, "An `expect reach` fails: some flow of its set is not delivered or not answered.";
    NP902, "expectation-reachable", Error, "An `expect no-reach` fails: some packet of its set is delivered.";
    NP903, "expectation-wrong-egress", Error, "An `expect egress` fails: internet-bound traffic leaves by another exit, or not at all.";
    NP904, "vacuous-expectation", Error, "An expectation names no packet (no service, no address, or no flow between its address families), so it asserts nothing.";
    NP905, "undecided-expectation", Info, "An expectation was not decided (some of its flows reach something not modelled, or its flow set is too large to prove), so it neither holds nor fails.";
}

#[derive(Debug)]
pub struct RuleMeta {
    pub code: Code,
    /// Kebab-case, reads as "allow NAME".
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// The rule's markdown page from `rules/`.
    pub page: &'static str,
}

impl RuleMeta {
    pub fn url(&self) -> String {
        format!("{DOCS_BASE}{}-{}", self.code.as_str(), self.name)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub fn meta(code: Code) -> &'static RuleMeta {
    // `RULES` is generated from the same list as `Code`, in the same order.
    &RULES[code as usize]
}

/// Finds a rule by its code (`NP201`, case-insensitive) or its name.
pub fn lookup(key: &str) -> Option<&'static RuleMeta> {
    RULES
        .iter()
        .find(|r| r.code.as_str().eq_ignore_ascii_case(key) || r.name == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_order_matches_codes() {
        for (i, rule) in RULES.iter().enumerate() {
            assert_eq!(rule.code as usize, i, "{} is out of place", rule.code);
        }
    }

    #[test]
    fn lookup_accepts_code_or_name() {
        assert_eq!(lookup("np005").map(|r| r.code), Some(Code::NP005));
        assert_eq!(
            lookup("overlapping-subnets").map(|r| r.code),
            Some(Code::NP103)
        );
        assert!(lookup("NP999").is_none());
    }
}
