//! Literal grammars, with nom: addresses, prefixes, ranges, service literals
//! and numbers.
//!
//! The parser hands an atom here once its position says what the atom must
//! be. nom's combinators split the atom into its parts (octets, groups, the
//! length after `/`, the ports after the protocol); the checks on those
//! parts then produce errors that name the exact fault ("octet 256 is larger
//! than 255") and, where it helps, the part of the atom at fault, found by
//! pointer arithmetic on the sub-slices nom returned.
//!
//! All errors here are NP004 (invalid-address); host bits set in a prefix
//! (NP005) is not an error of the literal, so the parser checks it.

use super::ast::Proto;
use ipnet::IpNet;
use nom::bytes::complete::take_till;
use nom::character::complete::{char, digit1, hex_digit1};
use nom::combinator::all_consuming;
use nom::multi::separated_list1;
use nom::IResult;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A malformed or out-of-range literal. `part` is the byte range inside the
/// atom that the label points at; `None` means the whole atom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct LitError {
    pub message: String,
    pub label: String,
    pub help: Option<String>,
    pub part: Option<(usize, usize)>,
}

impl LitError {
    fn new(message: String, label: String) -> LitError {
        LitError {
            message,
            label,
            help: None,
            part: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> LitError {
        self.help = Some(help.into());
        self
    }

    /// Points the label at `sub`, a slice of `whole`.
    fn at(mut self, whole: &str, sub: &str) -> LitError {
        self.part = Some(sub_range(whole, sub));
        self
    }

    /// Moves the label by `by` bytes, for errors found in a part of an atom.
    fn shifted(mut self, by: usize) -> LitError {
        self.part = self.part.map(|(s, e)| (s + by, e + by));
        self
    }
}

/// The byte range of `sub` inside `whole`, from the slices' pointers.
fn sub_range(whole: &str, sub: &str) -> (usize, usize) {
    let start = (sub.as_ptr() as usize)
        .saturating_sub(whole.as_ptr() as usize)
        .min(whole.len());
    (start, (start + sub.len()).min(whole.len()))
}

/// The parts of `s` between `sep` characters; empty parts included, so the
/// checks can say where a part is missing.
fn split_on(s: &str, sep: char) -> Vec<&str> {
    let parts: IResult<&str, Vec<&str>> = separated_list1(char(sep), take_till(|c| c == sep))(s);
    match parts {
        Ok((_, parts)) => parts,
        Err(_) => vec![s],
    }
}

/// A run of decimal digits, as a value that saturates rather than overflows
/// (the value only ever needs comparing with a small limit), or `None` when
/// `s` is not all digits.
pub(super) fn decimal(s: &str) -> Option<u64> {
    let digits: IResult<&str, &str> = all_consuming(digit1)(s);
    let (_, digits) = digits.ok()?;
    Some(digits.bytes().fold(0u64, |acc, d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

/// Shortens a literal for a message: long input stays readable.
fn show(s: &str) -> String {
    super::parser::shorten(s)
}

pub(super) fn ipv4(s: &str) -> Result<Ipv4Addr, LitError> {
    match ipv4_fast(s.as_bytes()) {
        Some(a) => Ok(a),
        None => ipv4_slow(s),
    }
}

/// [`ipv4`] part by part, with the error that names the fault.
fn ipv4_slow(s: &str) -> Result<Ipv4Addr, LitError> {
    let bad = |label: String| LitError::new(format!("invalid IPv4 address `{}`", show(s)), label);
    let octets = split_on(s, '.');
    let mut value = [0u8; 4];
    for (i, octet) in octets.iter().enumerate() {
        if octet.is_empty() {
            return Err(bad("an octet is missing between the dots".into()).help(
                "an IPv4 address is four numbers 0-255 separated by dots, such as `10.0.0.1`",
            ));
        }
        let Some(n) = decimal(octet) else {
            return Err(bad(format!("`{}` is not a decimal number", show(octet))).at(s, octet));
        };
        if n > 255 {
            return Err(bad(format!("octet {} is larger than 255", show(octet)))
                .at(s, octet)
                .help("each of the four octets is 0-255"));
        }
        if octet.len() > 1 && octet.starts_with('0') {
            return Err(bad(format!("octet `{octet}` has a leading zero"))
                .at(s, octet)
                .help(format!(
                    "leading zeros are ambiguous (some tools read them as octal); write `{n}`"
                )));
        }
        if let Some(slot) = value.get_mut(i) {
            *slot = n as u8;
        }
    }
    if octets.len() != 4 {
        return Err(bad(format!(
            "an IPv4 address has four octets, this has {}",
            octets.len()
        ))
        .help("an IPv4 address is four numbers 0-255 separated by dots, such as `10.0.0.1`"));
    }
    Ok(Ipv4Addr::from(value))
}

/// The common case of [`ipv4`], a well-formed address, without the split
/// into a vector and nom's per-octet parse: one pass over the bytes. It
/// accepts exactly what `ipv4` accepts (four dot-separated decimal octets,
/// each 0-255 without a leading zero) and returns `None` for everything
/// else, which `ipv4` then parses the slow way to say what is wrong. A
/// million prefixes spend about a quarter of their parse here otherwise.
fn ipv4_fast(s: &[u8]) -> Option<Ipv4Addr> {
    let mut value = [0u8; 4];
    let (mut octet, mut n, mut digits) = (0usize, 0u32, 0u32);
    for &b in s {
        match b {
            b'0'..=b'9' => {
                // A digit after a lone leading `0` is a leading zero.
                if digits == 1 && n == 0 {
                    return None;
                }
                n = n * 10 + u32::from(b - b'0');
                digits += 1;
                if n > 255 {
                    return None;
                }
            }
            b'.' if digits > 0 && octet < 3 => {
                value[octet] = n as u8;
                octet += 1;
                (n, digits) = (0, 0);
            }
            _ => return None,
        }
    }
    if digits == 0 || octet != 3 {
        return None;
    }
    value[3] = n as u8;
    Some(Ipv4Addr::from(value))
}

/// One to four hex digits.
fn hex_group(g: &str) -> Option<u16> {
    let digits: IResult<&str, &str> = all_consuming(hex_digit1)(g);
    let (_, digits) = digits.ok()?;
    if digits.len() > 4 {
        return None;
    }
    u16::from_str_radix(digits, 16).ok()
}

/// Every text form of RFC 4291 section 2.2: eight groups, `::` for one or
/// more zero groups (at most once), and an embedded IPv4 address as the last
/// 32 bits.
pub(super) fn ipv6(s: &str) -> Result<Ipv6Addr, LitError> {
    let bad = |label: String| LitError::new(format!("invalid IPv6 address `{}`", show(s)), label);
    const FORMS: &str = "an IPv6 address is eight groups of 1-4 hex digits separated by `:`, \
                         with `::` standing for a run of zero groups, as in `2001:db8::10`";

    if let Some((i, c)) = s
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_hexdigit() || c == ':' || c == '.'))
    {
        let end = i + c.len_utf8();
        return Err(bad(format!("`{c}` cannot appear in an IPv6 address"))
            .at(s, s.get(i..end).unwrap_or(s))
            .help(FORMS));
    }
    if let Some(i) = s.find(":::") {
        return Err(
            bad("`:::` is not valid; `::` stands for one or more zero groups".into())
                .at(s, s.get(i..i + 3).unwrap_or(s))
                .help(FORMS),
        );
    }
    let (head, tail) = match s.find("::") {
        Some(i) => {
            let head = s.get(..i).unwrap_or("");
            let tail = s.get(i + 2..).unwrap_or("");
            if let Some(j) = tail.find("::") {
                return Err(bad("`::` may appear only once".into())
                    .at(s, tail.get(j..j + 2).unwrap_or(tail))
                    .help("with two `::` the number of zero groups each stands for would be ambiguous"));
            }
            (head, Some(tail))
        }
        None => (s, None),
    };

    // The groups on each side of `::` (or all of them when there is none).
    let sides: [&str; 2] = [head, tail.unwrap_or("")];
    let mut groups: [Vec<u16>; 2] = [Vec::new(), Vec::new()];
    for (side, text) in sides.iter().enumerate() {
        if text.is_empty() {
            continue;
        }
        let parts = split_on(text, ':');
        let last_side = side == 1 || tail.is_none();
        for (k, part) in parts.iter().enumerate() {
            if part.is_empty() {
                return Err(bad(
                    "a group is missing: a single `:` cannot start or end an address".into(),
                )
                .help(FORMS));
            }
            if part.contains('.') {
                if !(last_side && k + 1 == parts.len()) {
                    return Err(bad("an embedded IPv4 address must be the last part".into())
                        .at(s, part)
                        .help("write the IPv4 form only for the last 32 bits, as in `::ffff:192.0.2.1`"));
                }
                let v4 = ipv4(part).map_err(|e| {
                    let by = sub_range(s, part).0;
                    LitError {
                        message: format!("invalid IPv6 address `{}`", show(s)),
                        ..e
                    }
                    .shifted(by)
                })?;
                let o = v4.octets();
                groups[side].push(u16::from_be_bytes([o[0], o[1]]));
                groups[side].push(u16::from_be_bytes([o[2], o[3]]));
                continue;
            }
            let Some(g) = hex_group(part) else {
                return Err(bad(format!(
                    "group `{}` has more than four hex digits",
                    show(part)
                ))
                .at(s, part)
                .help(FORMS));
            };
            groups[side].push(g);
        }
    }
    let count = groups[0].len() + groups[1].len();
    match tail {
        None if count != 8 => {
            return Err(bad(format!(
                "an IPv6 address has eight groups, this has {count}"
            ))
            .help("write `::` for a run of zero groups, as in `2001:db8::10`"));
        }
        Some(_) if count > 7 => {
            return Err(bad(format!(
                "`::` stands for at least one zero group, but the other groups already number {count}"
            ))
            .help(FORMS));
        }
        _ => {}
    }
    let mut segments = [0u16; 8];
    for (slot, g) in segments.iter_mut().zip(&groups[0]) {
        *slot = *g;
    }
    for (slot, g) in segments.iter_mut().rev().zip(groups[1].iter().rev()) {
        *slot = *g;
    }
    Ok(Ipv6Addr::from(segments))
}

/// An address of either family: IPv6 when the text contains `:`.
pub(super) fn address(s: &str) -> Result<IpAddr, LitError> {
    if s.contains(':') {
        ipv6(s).map(IpAddr::V6)
    } else {
        ipv4(s).map(IpAddr::V4)
    }
}

/// An atom read in an address position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AddrLit {
    Addr(IpAddr),
    /// As written: host bits may be set (the parser reports NP005).
    Prefix(IpNet),
    Range(IpAddr, IpAddr),
}

pub(super) fn addr_lit(s: &str) -> Result<AddrLit, LitError> {
    if let Some(slash) = s.find('/') {
        let addr_part = s.get(..slash).unwrap_or("");
        let len_part = s.get(slash + 1..).unwrap_or("");
        let len_with_slash = s.get(slash..).unwrap_or("");
        let addr = address(addr_part)?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let family = if addr.is_ipv4() { "IPv4" } else { "IPv6" };
        if len_part.is_empty() {
            return Err(LitError::new(
                format!("prefix `{}` has no length", show(s)),
                "expected a length after `/`".into(),
            )
            .at(s, len_with_slash)
            .help(format!(
                "write the length, such as `{addr}/{}`",
                if max == 32 { 24 } else { 64 }
            )));
        }
        let Some(len) = decimal(len_part) else {
            return Err(LitError::new(
                format!("invalid prefix length `/{}`", show(len_part)),
                "the length is not a number".into(),
            )
            .at(s, len_with_slash)
            .help(format!("{family} prefix lengths are /0 to /{max}")));
        };
        if len > max {
            return Err(LitError::new(
                format!("prefix length /{} is too long for {family}", show(len_part)),
                format!("longer than /{max}"),
            )
            .at(s, len_with_slash)
            .help(format!("{family} prefix lengths are /0 to /{max}")));
        }
        return IpNet::new(addr, len as u8)
            .map(AddrLit::Prefix)
            .map_err(|_| {
                LitError::new(
                    format!("invalid prefix `{}`", show(s)),
                    "invalid prefix".into(),
                )
            });
    }
    if let Some(dash) = s.find('-') {
        let lo_part = s.get(..dash).unwrap_or("");
        let hi_part = s.get(dash + 1..).unwrap_or("");
        let lo = address(lo_part)?;
        let hi = address(hi_part).map_err(|e| e.shifted(dash + 1))?;
        if lo.is_ipv4() != hi.is_ipv4() {
            return Err(LitError::new(
                format!("range `{}` mixes IPv4 and IPv6", show(s)),
                "the two ends are of different address families".into(),
            )
            .help("a range runs between two addresses of one family; write one range per family"));
        }
        if lo > hi {
            return Err(LitError::new(
                format!("range `{}` runs backwards", show(s)),
                "the first address is larger than the second".into(),
            )
            .help(format!("write the lower address first: `{hi}-{lo}`")));
        }
        return Ok(AddrLit::Range(lo, hi));
    }
    address(s).map(AddrLit::Addr)
}

/// A service written as a literal: `tcp/443`, `udp/1024-65535`, `icmp/8`,
/// `6/443`, or a bare protocol number `47`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ServiceLit {
    Proto(Proto),
    Ports(Proto, u16, u16),
}

/// A protocol number as the protocol it names, so that `6/443` and
/// `tcp/443` produce the same tree and nothing downstream has to compare
/// `Number(6)` with `Tcp`.
fn proto_from_number(n: u8) -> Proto {
    match n {
        6 => Proto::Tcp,
        17 => Proto::Udp,
        1 => Proto::Icmp,
        58 => Proto::Icmpv6,
        n => Proto::Number(n),
    }
}

fn protocol_number(s: &str, whole: &str) -> Result<Option<Proto>, LitError> {
    let Some(n) = decimal(s) else { return Ok(None) };
    if n > 255 {
        return Err(LitError::new(
            format!("protocol number {} is out of range", show(s)),
            "larger than 255".into(),
        )
        .at(whole, s)
        .help("IANA protocol numbers are 0-255"));
    }
    Ok(Some(proto_from_number(n as u8)))
}

pub(super) fn service_lit(s: &str) -> Result<ServiceLit, LitError> {
    let Some(slash) = s.find('/') else {
        return match protocol_number(s, s)? {
            Some(p) => Ok(ServiceLit::Proto(p)),
            None => Err(LitError::new(
                format!("invalid service `{}`", show(s)),
                "not a service".into(),
            )
            .help("a service is `any`, a protocol (`tcp`, `udp`, `icmp`, `icmpv6` or a number 0-255), \
                   `PROTO/PORT`, `PROTO/LOW-HIGH`, or a service name")),
        };
    };
    let proto_part = s.get(..slash).unwrap_or("");
    let ports_part = s.get(slash + 1..).unwrap_or("");
    let proto = match proto_part {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        "icmp" => Proto::Icmp,
        "icmpv6" => Proto::Icmpv6,
        other => {
            match protocol_number(other, s)? {
                Some(p) => p,
                None => {
                    return Err(LitError::new(
                    format!("unknown protocol `{}`", show(other)),
                    "not a protocol".into(),
                )
                .at(s, other)
                .help("the protocol before `/` is `tcp`, `udp`, `icmp`, `icmpv6` or a number 0-255"));
                }
            }
        }
    };
    let (max, what, range_help) = match proto {
        Proto::Tcp | Proto::Udp => (65535, "port", "ports are 0-65535"),
        Proto::Icmp | Proto::Icmpv6 => (255, "icmp type", "ICMP types are 0-255"),
        Proto::Number(n) => {
            let help = if n == 1 || n == 58 {
                "only tcp (6) and udp (17) have ports; write an ICMP type as `icmp/8`"
            } else {
                "only tcp (6) and udp (17) have ports; write the bare number for all of the protocol"
            };
            return Err(LitError::new(
                format!("protocol {n} has no ports"),
                "ports given for a protocol without ports".into(),
            )
            .at(s, ports_part)
            .help(help));
        }
    };
    if ports_part.is_empty() {
        return Err(LitError::new(
            format!("`{}` has no {what} after `/`", show(s)),
            format!("expected a {what} here"),
        )
        .help(format!(
            "write `{proto_part}` alone for all of it, or a {what} such as `{proto_part}/{}`",
            if max == 255 { 8 } else { 443 }
        )));
    }
    let parts = split_on(ports_part, '-');
    if parts.len() > 2 {
        return Err(LitError::new(
            format!("invalid {what} range `{}`", show(ports_part)),
            "more than one `-`".into(),
        )
        .at(s, ports_part)
        .help(format!("a range is `LOW-HIGH`; {range_help}")));
    }
    let mut values = [0u16; 2];
    for (slot, part) in values.iter_mut().zip(&parts) {
        let Some(n) = decimal(part) else {
            return Err(LitError::new(
                format!("invalid {what} `{}`", show(part)),
                "not a number".into(),
            )
            .at(s, part)
            .help(format!("{range_help}; a range is `LOW-HIGH`")));
        };
        if n > max {
            return Err(LitError::new(
                format!("{what} {} is out of range", show(part)),
                format!("larger than {max}"),
            )
            .at(s, part)
            .help(range_help));
        }
        *slot = n as u16;
    }
    let lo = values[0];
    let hi = if parts.len() == 2 { values[1] } else { lo };
    if lo > hi {
        return Err(LitError::new(
            format!("{what} range `{}` runs backwards", show(ports_part)),
            "the first number is larger than the second".into(),
        )
        .at(s, ports_part)
        .help(format!(
            "write the lower number first: `{proto_part}/{hi}-{lo}`"
        )));
    }
    Ok(ServiceLit::Ports(proto, lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ipv4_forms_and_errors() {
        assert_eq!(ipv4("10.0.0.1"), Ok(Ipv4Addr::new(10, 0, 0, 1)));
        let e = ipv4("10.0.0.256").unwrap_err();
        assert_eq!(e.message, "invalid IPv4 address `10.0.0.256`");
        assert_eq!(e.label, "octet 256 is larger than 255");
        assert_eq!(e.part, Some((7, 10)));
        assert!(ipv4("10.0.0").unwrap_err().label.contains("this has 3"));
        assert!(ipv4("010.0.0.1")
            .unwrap_err()
            .label
            .contains("leading zero"));
        assert!(ipv4("10..0.1").is_err());
        assert!(ipv4("99999999999999999999999.0.0.1").is_err());
    }

    #[test]
    fn ipv4_fast_path_edges() {
        for (text, want) in [
            ("0.0.0.0", Some(Ipv4Addr::new(0, 0, 0, 0))),
            ("255.255.255.255", Some(Ipv4Addr::new(255, 255, 255, 255))),
            ("10.200.3.40", Some(Ipv4Addr::new(10, 200, 3, 40))),
            ("256.0.0.1", None),
            ("01.0.0.0", None),
            ("00.0.0.0", None),
            ("1..2.3", None),
            ("1.2.3.4.", None),
            (".1.2.3", None),
            ("1.2.3", None),
            ("1.2.3.4.5", None),
            ("1.2.3.0004", None),
            ("", None),
        ] {
            assert_eq!(ipv4_fast(text.as_bytes()), want, "{text}");
            assert_eq!(ipv4(text).ok(), want, "{text}");
        }
    }

    #[test]
    fn ipv6_forms() {
        for text in [
            "::",
            "::1",
            "1::",
            "2001:db8::10",
            "fe80::1",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "::ffff:192.0.2.1",
            "64:ff9b::1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "2001:DB8::A",
        ] {
            assert_eq!(ipv6(text).ok(), text.parse::<Ipv6Addr>().ok(), "{text}");
            assert!(ipv6(text).is_ok(), "{text}");
        }
        for text in [
            ":",
            ":::",
            "1:::2",
            "1::2::3",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:9",
            "12345::",
            ":1::",
            "1::2:",
            "1.2.3.4::",
            "::1.2.3.4:5",
            "1:2:3:4:5:6:7:1.2.3.4",
            "g::1",
            "::01.2.3.4",
        ] {
            assert!(ipv6(text).is_err(), "{text} should be rejected");
        }
        assert_eq!(
            ipv6("2001:db8:40:1:::10").unwrap_err().label,
            "`:::` is not valid; `::` stands for one or more zero groups"
        );
    }

    #[test]
    fn prefixes_and_ranges() {
        assert_eq!(
            addr_lit("10.0.0.0/8"),
            Ok(AddrLit::Prefix("10.0.0.0/8".parse().unwrap()))
        );
        let e = addr_lit("10.0.0.0/33").unwrap_err();
        assert_eq!(e.message, "prefix length /33 is too long for IPv4");
        assert_eq!(e.part, Some((8, 11)));
        assert!(addr_lit("::/129").is_err());
        assert!(addr_lit("10.0.0.0/").is_err());
        let e = addr_lit("10.0.0.20-10.0.0.10").unwrap_err();
        assert_eq!(e.message, "range `10.0.0.20-10.0.0.10` runs backwards");
        assert_eq!(
            e.help.as_deref(),
            Some("write the lower address first: `10.0.0.10-10.0.0.20`")
        );
        assert!(addr_lit("10.0.0.1-::1")
            .unwrap_err()
            .message
            .contains("mixes"));
        let e = addr_lit("10.0.0.1-10.0.0.300").unwrap_err();
        assert_eq!(e.part, Some((16, 19)));
    }

    #[test]
    fn service_literals() {
        assert_eq!(
            service_lit("tcp/443"),
            Ok(ServiceLit::Ports(Proto::Tcp, 443, 443))
        );
        assert_eq!(
            service_lit("udp/1024-65535"),
            Ok(ServiceLit::Ports(Proto::Udp, 1024, 65535))
        );
        assert_eq!(
            service_lit("icmp/8"),
            Ok(ServiceLit::Ports(Proto::Icmp, 8, 8))
        );
        assert_eq!(
            service_lit("6/443"),
            Ok(ServiceLit::Ports(Proto::Tcp, 443, 443))
        );
        assert_eq!(service_lit("47"), Ok(ServiceLit::Proto(Proto::Number(47))));
        let e = service_lit("tcp/70000").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.help.as_deref()),
            ("port 70000 is out of range", Some("ports are 0-65535"))
        );
        assert!(service_lit("tcp/2000-1000")
            .unwrap_err()
            .message
            .contains("runs backwards"));
        assert!(service_lit("300")
            .unwrap_err()
            .message
            .contains("protocol number 300"));
        assert!(service_lit("icmp/256")
            .unwrap_err()
            .message
            .contains("icmp type 256"));
        assert!(service_lit("47/1")
            .unwrap_err()
            .message
            .contains("has no ports"));
        assert!(service_lit("http/80")
            .unwrap_err()
            .message
            .contains("unknown protocol"));
        assert!(service_lit("tcp/").is_err());
        assert!(service_lit("tcp/1-2-3").is_err());
    }

    proptest! {
        /// The IPv6 parser accepts exactly what the standard library does.
        #[test]
        fn ipv6_agrees_with_std(text in "[0-9a-fA-F:.]{0,45}") {
            prop_assert_eq!(ipv6(&text).ok(), text.parse::<Ipv6Addr>().ok());
        }

        /// Structured near-misses: a few groups of 1-5 hex digits, `::` at
        /// any position, and sometimes an IPv4 tail.
        #[test]
        fn ipv6_forms_agree_with_std(
            groups in proptest::collection::vec("[0-9a-fA-F]{1,5}", 0..10),
            gap in proptest::option::of(0usize..10),
            tail in proptest::option::of("[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,4}"),
        ) {
            let mut parts: Vec<String> = groups;
            if let Some(t) = tail {
                parts.push(t);
            }
            let text = match gap {
                Some(g) => {
                    let g = g.min(parts.len());
                    format!("{}::{}", parts[..g].join(":"), parts[g..].join(":"))
                }
                None => parts.join(":"),
            };
            prop_assert_eq!(ipv6(&text).ok(), text.parse::<Ipv6Addr>().ok(), "{}", text);
        }

        #[test]
        fn ipv4_fast_path_agrees_with_the_full_parse(
            s in "[0-9.]{0,17}|[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4}|[0-9 .a:x-]{0,12}"
        ) {
            // Whatever the fast path accepts, the full parse accepts with
            // the same value; whatever it leaves, the full parse refuses.
            let slow = ipv4_slow(&s);
            prop_assert_eq!(ipv4_fast(s.as_bytes()), slow.ok(), "{}", s);
            prop_assert_eq!(ipv4(&s).ok(), ipv4_fast(s.as_bytes()), "{}", s);
        }

        #[test]
        fn ipv6_round_trips(segments in proptest::array::uniform8(any::<u16>())) {
            let addr = Ipv6Addr::from(segments);
            prop_assert_eq!(ipv6(&addr.to_string()), Ok(addr));
        }

        #[test]
        fn ipv4_agrees_with_std(text in "[0-9.]{0,20}") {
            prop_assert_eq!(ipv4(&text).ok(), text.parse::<Ipv4Addr>().ok());
        }
    }
}
