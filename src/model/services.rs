//! The built-in services of the language.

use super::ServiceRange;

/// The source ports clients send from: 1024-65535, the range the AWS VPC
/// User Guide ("Ephemeral ports") tells network ACLs to open so that every
/// kind of client is covered (NAT gateways, Elastic Load Balancing and
/// Lambda use all of it; Linux and Windows use parts). Expectations cover
/// all of it (docs/forwarding.md, "Packets, flows, verdicts").
pub const CLIENT_PORTS: (u16, u16) = (1024, u16::MAX);

/// The client port of an example packet: the port findings show when the
/// packets they are about allow it, and the one `netproof trace` and the
/// oracle's representative packets send from unless told otherwise. It is
/// the lowest client port, so an example and a trace of the same flow are
/// the same packet, and a filter that admits only part of the client range
/// (32768-65535, say) is caught by the default trace as it is by the
/// expectations (docs/forwarding.md, "Example packets").
pub const DEFAULT_CLIENT_PORT: u16 = CLIENT_PORTS.0;

const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;

/// Every built-in service name with its ranges. `ICMP` is echo (request),
/// in both address families: ICMP type 8 and ICMPv6 type 128.
pub static BUILTINS: &[(&str, &[ServiceRange])] = &[
    (
        "ICMP",
        &[
            ServiceRange {
                proto: Some(ICMP),
                lo: 8,
                hi: 8,
            },
            ServiceRange {
                proto: Some(ICMPV6),
                lo: 128,
                hi: 128,
            },
        ],
    ),
    (
        "HTTP",
        &[ServiceRange {
            proto: Some(TCP),
            lo: 80,
            hi: 80,
        }],
    ),
    (
        "HTTPS",
        &[ServiceRange {
            proto: Some(TCP),
            lo: 443,
            hi: 443,
        }],
    ),
    (
        "SSH",
        &[ServiceRange {
            proto: Some(TCP),
            lo: 22,
            hi: 22,
        }],
    ),
    (
        "RDP",
        &[ServiceRange {
            proto: Some(TCP),
            lo: 3389,
            hi: 3389,
        }],
    ),
    (
        "DNS",
        &[
            ServiceRange {
                proto: Some(UDP),
                lo: 53,
                hi: 53,
            },
            ServiceRange {
                proto: Some(TCP),
                lo: 53,
                hi: 53,
            },
        ],
    ),
    (
        "NTP",
        &[ServiceRange {
            proto: Some(UDP),
            lo: 123,
            hi: 123,
        }],
    ),
    (
        "SMB",
        &[ServiceRange {
            proto: Some(TCP),
            lo: 445,
            hi: 445,
        }],
    ),
    (
        "MSSQL",
        &[ServiceRange {
            proto: Some(TCP),
            lo: 1433,
            hi: 1433,
        }],
    ),
    (
        "MYSQL",
        &[ServiceRange {
            proto: Some(TCP),
            lo: 3306,
            hi: 3306,
        }],
    ),
    (
        "POSTGRES",
        &[ServiceRange {
            proto: Some(TCP),
            lo: 5432,
            hi: 5432,
        }],
    ),
];

pub fn builtin(name: &str) -> Option<&'static [ServiceRange]> {
    BUILTINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, ranges)| *ranges)
}

/// The built-in service or protocol keyword closest to a misspelt name:
/// equal ignoring case (`Https`, `TCP`), or one edit away (`HTTP5`).
pub fn closest_builtin(name: &str) -> Option<&'static str> {
    const KEYWORDS: &[&str] = &["any", "tcp", "udp", "icmp", "icmpv6"];
    let all = BUILTINS
        .iter()
        .map(|(n, _)| *n)
        .chain(KEYWORDS.iter().copied());
    if let Some(same) = all.clone().find(|b| b.eq_ignore_ascii_case(name)) {
        return Some(same);
    }
    all.map(|b| (strsim::levenshtein(b, name), b))
        .filter(|(d, _)| *d <= 1)
        .min()
        .map(|(_, b)| b)
}
