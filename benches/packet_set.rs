//! Packet-set benchmark: the workloads that chose the representation.
//!
//! ```sh
//! cargo bench --bench packet_set            # everything
//! cargo bench --bench packet_set -- quick   # skip the slow alternatives
//! RAYON_NUM_THREADS=1 cargo bench --bench packet_set
//! ```
//! Prints wall-clock medians and box counts; `docs/packet-sets.md` records
//! them. Three workloads, each against alternatives:
//!
//! 1. first-match evaluation of a firewall of N rules plus a default rule:
//!    for each rule, the packets it matches that no earlier rule matched;
//! 2. the longest-prefix-match partition of a route table of N routes;
//! 3. a packet set travelling 10 hops of filters and translations.
//!
//! The inputs come from a fixed pseudo-random generator, so every run sees
//! the same rules.

use ipnet::IpNet;
use netproof::engine::packet_set::{first_match, AddrRanges, AddrShift, PacketSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut samples = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = std::hint::black_box(f());
        samples.push(start.elapsed());
        last = Some(out);
    }
    (median(samples), last.expect("at least one run"))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// SplitMix64: deterministic and good enough to scatter rules.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn byte(&mut self, n: u64) -> u8 {
        u8::try_from(self.below(n)).expect("below 256")
    }
}

fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> IpNet {
    IpNet::new(IpAddr::V4(Ipv4Addr::new(a, b, c, d)), len).expect("valid length")
}

fn v6(segs: [u16; 4], len: u8) -> IpNet {
    let a = Ipv6Addr::new(segs[0], segs[1], segs[2], segs[3], 0, 0, 0, 0);
    IpNet::new(IpAddr::V6(a), len).expect("valid length")
}

/// One generated firewall rule: its match and whether it allows.
struct Rule {
    set: PacketSet,
    allow: bool,
}

const SERVICES: [(u8, u16, u16); 10] = [
    (6, 22, 22),
    (6, 80, 80),
    (6, 443, 443),
    (6, 3306, 3306),
    (6, 5432, 5432),
    (6, 8000, 8100),
    (6, 8443, 8443),
    (6, 9000, 9100),
    (17, 53, 53),
    (17, 500, 500),
];

/// A firewall in the style of a cloud or NSX gateway: mostly subnet-to-subnet
/// allows on service ports, some wider sources, some any-to-host publishes,
/// host denies, ICMP and DNS, and a few IPv6 rules. Sources share the first
/// octets so that rules overlap as real ones do. The last rule denies all.
fn firewall(n: usize, seed: u64) -> Vec<Rule> {
    let mut rng = Rng(seed);
    let any = AddrRanges::all();
    let mut rules = Vec::with_capacity(n + 1);
    for _ in 0..n {
        let kind = rng.below(100);
        let (p, lo, hi) = SERVICES[rng.below(SERVICES.len() as u64) as usize];
        let a = rng.byte(8);
        let b = rng.byte(64);
        let z = rng.byte(64);
        let w = rng.byte(254) + 1;
        let ports = (0, u16::MAX);
        let rule = match kind {
            0..=54 => Rule {
                set: PacketSet::from_fields(
                    &v4(10, a, b, 0, 24).into(),
                    &v4(172, 16, z, 0, 24).into(),
                    Some(p),
                    ports,
                    (lo, hi),
                ),
                allow: true,
            },
            55..=69 => Rule {
                set: PacketSet::from_fields(
                    &v4(10, a, 0, 0, 16).into(),
                    &v4(172, 16, z, w, 32).into(),
                    Some(p),
                    ports,
                    (lo, hi),
                ),
                allow: true,
            },
            70..=79 => Rule {
                set: PacketSet::from_fields(
                    &any,
                    &v4(172, 16, z, w, 32).into(),
                    Some(6),
                    ports,
                    if rng.below(2) == 0 {
                        (443, 443)
                    } else {
                        (80, 80)
                    },
                ),
                allow: true,
            },
            80..=87 => Rule {
                set: PacketSet::from_fields(&v4(10, a, b, w, 32).into(), &any, None, ports, ports),
                allow: false,
            },
            88..=92 => {
                let (proto, sport, dport) = if rng.below(2) == 0 {
                    (17, ports, (53, 53))
                } else {
                    (1, (0, 0), (8, 8))
                };
                Rule {
                    set: PacketSet::from_fields(
                        &v4(10, a, 0, 0, 16).into(),
                        &v4(172, 16, 0, 0, 16).into(),
                        Some(proto),
                        sport,
                        dport,
                    ),
                    allow: true,
                }
            }
            _ => Rule {
                set: PacketSet::from_fields(
                    &v6([0x2001, 0xdb8, u16::from(a), u16::from(b)], 64).into(),
                    &v6([0x2001, 0xdb8, 0x100, u16::from(z)], 64).into(),
                    Some(p),
                    ports,
                    (lo, hi),
                ),
                allow: true,
            },
        };
        rules.push(rule);
    }
    rules
}

/// Rules like `allow from 10.x.y.0/24 to 172.16.z.0/24 tcp/8000-8100`, with
/// port ranges that overlap and one rule in ten a deny.
fn subnet_firewall(n: usize, seed: u64) -> Vec<Rule> {
    let mut rng = Rng(seed);
    let mut rules = Vec::with_capacity(n + 1);
    for _ in 0..n {
        let x = rng.byte(4);
        let y = rng.byte(64);
        let z = rng.byte(64);
        let lo = 8000 + 50 * u16::from(rng.byte(8));
        let hi = lo + 100;
        rules.push(Rule {
            set: PacketSet::from_fields(
                &v4(10, x, y, 0, 24).into(),
                &v4(172, 16, z, 0, 24).into(),
                Some(6),
                (0, u16::MAX),
                (lo, hi),
            ),
            allow: rng.below(10) > 0,
        });
    }
    rules
}

/// A route table: a default route, a few /8s and /12s, many /16 to /28
/// prefixes nested under them, host routes, and some IPv6.
fn route_table(n: usize, seed: u64) -> Vec<IpNet> {
    let mut rng = Rng(seed);
    let mut routes = vec![v4(0, 0, 0, 0, 0), v6([0, 0, 0, 0], 0)];
    while routes.len() < n {
        let a = [10, 172, 192, 100][rng.below(4) as usize];
        let b = rng.byte(32);
        let c = rng.byte(255);
        let d = rng.byte(255);
        let r = match rng.below(100) {
            0..=2 => v4(a, 0, 0, 0, 8),
            3..=9 => v4(a, b, 0, 0, 16),
            10..=49 => v4(a, b, c, 0, 24),
            50..=69 => v4(a, b, c, d & 0xf0, 28),
            70..=89 => v4(a, b, c, d, 32),
            _ => v6([0x2001, 0xdb8, u16::from(b), u16::from(c)], 64),
        };
        routes.push(r);
    }
    routes
}

// ---------------------------------------------------------------------------
// Alternative 1: a naive list of possibly overlapping boxes. Union appends;
// a difference cuts the minuend by each subtrahend in turn, with no index.

#[derive(Clone, Copy)]
struct NBox {
    lo: [u128; 5],
    hi: [u128; 5],
}

fn nboxes(s: &PacketSet) -> Vec<NBox> {
    let bits = |a: IpAddr| match a {
        IpAddr::V4(x) => u128::from(u32::from(x)),
        // Offsetting IPv6 by a family tag keeps the families apart in one
        // list of boxes; a real naive implementation would keep two lists.
        IpAddr::V6(x) => u128::from(x) >> 1 | 1 << 127,
    };
    s.boxes()
        .map(|b| NBox {
            lo: [
                bits(b.dst.0),
                bits(b.src.0),
                b.dport.0.into(),
                b.proto.0.into(),
                b.sport.0.into(),
            ],
            hi: [
                bits(b.dst.1),
                bits(b.src.1),
                b.dport.1.into(),
                b.proto.1.into(),
                b.sport.1.into(),
            ],
        })
        .collect()
}

fn n_overlaps(a: &NBox, b: &NBox) -> bool {
    (0..5).all(|d| a.lo[d] <= b.hi[d] && b.lo[d] <= a.hi[d])
}

fn n_subtract(frags: Vec<NBox>, b: &NBox) -> Vec<NBox> {
    let mut out = Vec::with_capacity(frags.len());
    for a in frags {
        if !n_overlaps(&a, b) {
            out.push(a);
            continue;
        }
        let mut rest = a;
        for d in 0..5 {
            if rest.lo[d] < b.lo[d] {
                let mut p = rest;
                p.hi[d] = b.lo[d] - 1;
                out.push(p);
                rest.lo[d] = b.lo[d];
            }
            if rest.hi[d] > b.hi[d] {
                let mut p = rest;
                p.lo[d] = b.hi[d] + 1;
                out.push(p);
                rest.hi[d] = b.hi[d];
            }
        }
    }
    out
}

/// First match with naive lists: each rule minus every earlier box in turn.
fn naive_first_match(rules: &[Vec<NBox>]) -> Vec<Vec<NBox>> {
    let mut earlier: Vec<NBox> = Vec::new();
    let mut out = Vec::with_capacity(rules.len());
    for r in rules {
        let mut frags = r.clone();
        for b in &earlier {
            if frags.is_empty() {
                break;
            }
            frags = n_subtract(frags, b);
        }
        out.push(frags);
        earlier.extend_from_slice(r);
    }
    out
}

// ---------------------------------------------------------------------------

fn boxes(sets: &[PacketSet]) -> usize {
    sets.iter().map(PacketSet::box_count).sum()
}

fn bench_firewall(name: &str, make: fn(usize, u64) -> Vec<Rule>, quick: bool) {
    println!("\n## 1. first-match evaluation of a firewall: {name}\n");
    println!("| rules | chosen: first_match | output boxes | + default rule | its region | cumulative union | naive list | its boxes |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in [200, 1000, 5000] {
        let rules = make(n, 7);
        let sets: Vec<PacketSet> = rules.iter().map(|r| r.set.clone()).collect();
        let runs = if n >= 5000 { 5 } else { 9 };
        let (t_fm, fm) = time(runs, || first_match(&sets));
        let mut with_default = sets.clone();
        with_default.push(PacketSet::all());
        let (t_def, fm_def) = time(runs, || first_match(&with_default));
        let default_boxes = fm_def.last().map_or(0, PacketSet::box_count);

        // Textbook: keep the union of the rules so far, subtract it from each
        // new rule, then add the rule to it.
        let slow = n > 1000 && (quick || name.starts_with("mixed"));
        let cum = if slow {
            "-".to_owned()
        } else {
            let (t, outs) = time(if n >= 5000 { 1 } else { 3 }, || {
                let mut seen = PacketSet::empty();
                let mut outs = Vec::with_capacity(sets.len());
                for s in &sets {
                    outs.push(s.difference(&seen));
                    seen = seen.union(s);
                }
                outs
            });
            assert!(
                outs.iter().zip(&fm).all(|(a, b)| a == b),
                "the methods must agree"
            );
            ms(t)
        };

        let (naive, naive_boxes) = if slow {
            ("-".to_owned(), "-".to_owned())
        } else {
            let lists: Vec<Vec<NBox>> = sets.iter().map(nboxes).collect();
            let (t, outs) = time(if n >= 5000 { 1 } else { 3 }, || naive_first_match(&lists));
            (ms(t), outs.iter().map(Vec::len).sum::<usize>().to_string())
        };
        println!(
            "| {n} | {} | {} | {} | {default_boxes} | {cum} | {naive} | {naive_boxes} |",
            ms(t_fm),
            boxes(&fm),
            ms(t_def),
        );
    }
}

fn bench_routes() {
    println!("\n## 2. longest-prefix-match partition of a route table\n");
    println!("| routes | lpm_partition (sweep) | first_match, longest first | per-route AddrRanges difference | per-route PacketSet difference | output ranges |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for n in [100, 1000, 2000] {
        let routes = route_table(n, 11);
        let (t_sweep, parts) = time(15, || AddrRanges::lpm_partition(&routes));
        let out_ranges: usize = parts.iter().map(|p| p.ranges().count()).sum();

        // First match over the routes sorted longest first is the LPM.
        let (t_fm, _) = time(9, || {
            let mut order: Vec<usize> = (0..routes.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(routes[i].prefix_len()));
            let sets: Vec<PacketSet> = order
                .iter()
                .map(|&i| PacketSet::all().with_dst(&AddrRanges::from_net(routes[i])))
                .collect();
            first_match(&sets)
        });

        // Each prefix minus every longer prefix, found by a linear scan.
        let (t_addr, naive_parts) = time(3, || {
            routes
                .iter()
                .map(|r| {
                    let longer: AddrRanges = routes
                        .iter()
                        .filter(|o| o.prefix_len() > r.prefix_len() && r.contains(*o))
                        .copied()
                        .collect();
                    AddrRanges::from_net(*r).difference(&longer)
                })
                .collect::<Vec<_>>()
        });
        assert!(
            naive_parts.iter().zip(&parts).all(|(a, b)| a == b),
            "the methods must agree"
        );
        let (t_ps, _) = time(3, || {
            routes
                .iter()
                .map(|r| {
                    let longer = AddrRanges::from_nets(
                        routes
                            .iter()
                            .filter(|o| o.prefix_len() > r.prefix_len() && r.contains(*o))
                            .copied(),
                    );
                    let all = PacketSet::all();
                    all.with_dst(&AddrRanges::from_net(*r))
                        .difference(&all.with_dst(&longer))
                })
                .collect::<Vec<_>>()
        });
        println!(
            "| {n} | {} | {} | {} | {} | {out_ranges} |",
            ms(t_sweep),
            ms(t_fm),
            ms(t_addr),
            ms(t_ps)
        );
    }
}

fn bench_chain() {
    println!("\n## 3. a packet set travelling 10 hops\n");
    let rules = firewall(1000, 7);
    let sets: Vec<PacketSet> = rules.iter().map(|r| r.set.clone()).collect();
    let fm = first_match(&sets);
    let allowed = PacketSet::union_all(
        fm.iter()
            .zip(&rules)
            .filter(|(_, r)| r.allow)
            .map(|(s, _)| s),
    );
    let routes = route_table(1000, 11);
    let parts = AddrRanges::lpm_partition(&routes);
    // The route to 172.16.0.0/16, if the table has one, else the default.
    let to_dc = routes
        .iter()
        .position(|r| r.to_string() == "172.16.0.0/16")
        .unwrap_or(0);
    let any = AddrRanges::all();
    let web_sg = PacketSet::from_fields(
        &any,
        &v4(172, 16, 0, 0, 16).into(),
        Some(6),
        (0, u16::MAX),
        (0, 9999),
    );
    let nat = AddrShift::between_nets(v4(172, 16, 3, 0, 24), v4(192, 168, 3, 0, 24))
        .expect("same length");
    let start = PacketSet::from_fields(
        &v4(10, 1, 0, 0, 16).into(),
        &any,
        None,
        (1024, u16::MAX),
        (0, u16::MAX),
    );
    let hop = |s: &PacketSet, i: usize| -> PacketSet {
        match i {
            0 => s.with_dst(&v4(172, 16, 0, 0, 16).into()),
            1 => s.intersect(&allowed),
            2 => s.with_dst(&parts[to_dc].union(&v4(172, 16, 0, 0, 16).into())),
            3 => s.rewrite_src(IpAddr::V4(Ipv4Addr::new(100, 64, 0, 1))),
            4 => s.map_dst(&nat),
            5 => s.intersect(&web_sg.union(&web_sg.map_dst(&nat))),
            6 => s.with_dport(0, 8443),
            7 => s.with_src(&v4(100, 64, 0, 0, 10).into()),
            8 => s.difference(&PacketSet::from_fields(
                &any,
                &v4(192, 168, 3, 66, 32).into(),
                None,
                (0, u16::MAX),
                (0, u16::MAX),
            )),
            _ => s.with_proto(6, 6),
        }
    };
    let (t, trace) = time(15, || {
        let mut s = start.clone();
        let mut counts = Vec::with_capacity(10);
        for i in 0..10 {
            s = hop(&s, i);
            counts.push(s.box_count());
        }
        (s, counts)
    });
    println!(
        "firewall: 1000 rules, allowed set {} boxes; 10 hops in {} (median); boxes after each hop: {:?}",
        allowed.box_count(),
        ms(t),
        trace.1
    );
    let (t_one, _) = time(101, || start.intersect(&allowed));
    println!("one intersection with the allowed set: {}", ms(t_one));
    for n in [1000, 5000] {
        let big: Vec<PacketSet> = firewall(n, 7).into_iter().map(|r| r.set).collect();
        let flow = PacketSet::from_fields(
            &v4(10, 1, 0, 0, 16).into(),
            &v4(172, 16, 0, 0, 16).into(),
            Some(6),
            (1024, u16::MAX),
            (0, u16::MAX),
        );
        let (t_split, (decided, _)) = time(21, || flow.split_first_match(&big));
        println!(
            "split_first_match of {flow} over the {n}-rule mixed firewall: {} ({} rules decide part of it)",
            ms(t_split),
            decided.len()
        );
        let one = PacketSet::from_fields(
            &v4(10, 1, 2, 3, 32).into(),
            &v4(172, 16, 5, 0, 24).into(),
            Some(6),
            (1024, u16::MAX),
            (443, 443),
        );
        let (t_one, (decided, _)) = time(101, || one.split_first_match(&big));
        println!(
            "split_first_match of {one} over the {n}-rule mixed firewall: {} ({} rules decide part of it)",
            ms(t_one),
            decided.len()
        );
    }
    if let Some(w) = trace.0.witness() {
        println!("witness at the end: {w}; services: {}", trace.0.services());
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    println!("threads: {}", rayon::current_num_threads());
    bench_firewall("subnet-to-subnet rules", subnet_firewall, quick);
    bench_firewall("mixed rules", firewall, quick);
    bench_routes();
    bench_chain();
}
