//! The built-in services of the language.

use super::ServiceRange;

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
