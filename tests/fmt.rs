//! The formatter (`netproof::format`) and `netproof fmt`.
//!
//! - Properties, over every shipped design (fixtures, grammar examples, the
//!   rule pages' examples, generated designs) with their whitespace and
//!   comments randomly disturbed: formatting is idempotent, keeps the
//!   syntax tree and the model (compared with spans erased), keeps every
//!   token and every comment in order, and does not depend on the
//!   whitespace inside lines.
//! - The canonical layout of each construct, as snapshots and exact strings.
//! - The command: in-place rewrites, untouched formatted files, `--check`,
//!   standard input, refusal of syntax errors.

mod common;

use netproof::format::{format_source, FormatError, MAX_CELL_WIDTH, MAX_COMMENT_COLUMN};
use proptest::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::LazyLock;

// ---- Helpers ----------------------------------------------------------------

fn fmt(text: &str) -> String {
    match format_source(text) {
        Ok(s) => s,
        Err(e) => panic!("{e}\n{text}"),
    }
}

/// `Span { start: N, end: M }` replaced by `Span`, so that dumps of a text
/// and of its formatted version compare equal when only positions differ.
fn erase_spans(dump: &str) -> String {
    let mut out = String::with_capacity(dump.len());
    let mut rest = dump;
    while let Some(at) = rest.find("Span { start: ") {
        out.push_str(&rest[..at]);
        out.push_str("Span");
        let after = &rest[at..];
        let close = after.find('}').map_or(after.len(), |c| c + 1);
        rest = &after[close..];
    }
    out.push_str(rest);
    out
}

/// Everything a design means: the syntax tree and the lowered model (spans
/// erased), and the codes of the front end's findings.
fn meaning(text: &str) -> String {
    let parsed = netproof::syntax::parse(text);
    let lowered = netproof::model::lower(&parsed.tree);
    let codes: Vec<&str> = parsed
        .diagnostics
        .iter()
        .chain(&lowered.diagnostics)
        .map(|d| d.code.as_str())
        .collect();
    erase_spans(&format!(
        "{:?}\n{:?}\n{codes:?}",
        parsed.tree.items, lowered.model
    ))
}

/// The tokens (newlines left out) and comments of valid text, read by a
/// scanner written independently of the lexer.
fn lexemes(text: &str) -> (Vec<String>, Vec<String>) {
    let atom = |c: char| c.is_ascii_alphanumeric() || "_.:/-".contains(c);
    let chars: Vec<char> = text.chars().collect();
    let (mut tokens, mut comments) = (Vec::new(), Vec::new());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        if matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{feff}') {
            i += 1;
            continue;
        }
        if c == '#' {
            while chars.get(i).is_some_and(|&c| c != '\n') {
                i += 1;
            }
            let comment: String = chars[start..i].iter().collect();
            comments.push(comment.trim_end().to_string());
            continue;
        }
        if c == '"' {
            i += 1;
            while let Some(&c) = chars.get(i) {
                i += 1;
                match c {
                    '\\' => i += 1,
                    '"' => break,
                    _ => {}
                }
            }
        } else if chars[i..].starts_with(&['<', '-', '>']) {
            i += 3;
        } else if chars[i..].starts_with(&['-', '>']) {
            i += 2;
        } else if "{}[],;".contains(c) {
            i += 1;
        } else {
            while chars
                .get(i)
                .is_some_and(|&c| atom(c) && !chars[i..].starts_with(&['-', '>']))
            {
                i += 1;
            }
            if i == start {
                i += 1;
            }
        }
        tokens.push(chars[start..i].iter().collect());
    }
    (tokens, comments)
}

/// The `np` code blocks of a markdown page.
fn np_blocks(page: &str) -> Vec<String> {
    page.split("```np")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .map(|b| b.trim_start_matches('\n').to_string())
        .collect()
}

/// Every shipped design without syntax errors, and some generated ones.
static CORPUS: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let mut corpus = Vec::new();
    for dir in ["fixtures", "grammar"] {
        for rel in common::np_files(Path::new(dir)) {
            let text = fs::read_to_string(common::root().join(&rel)).unwrap_or_default();
            corpus.push((rel.display().to_string(), text));
        }
    }
    let mut pages: Vec<PathBuf> = fs::read_dir(common::root().join("rules"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    pages.sort();
    for page in pages {
        let text = fs::read_to_string(&page).unwrap_or_default();
        for (k, block) in np_blocks(&text).into_iter().enumerate() {
            corpus.push((format!("{}#{k}", page.display()), block));
        }
    }
    use netproof::gen::{firewall_design, generate, GenParams};
    let small = GenParams {
        lines: 150,
        subnets_per_site: 3,
        hosts_per_subnet: 2,
        rules_per_firewall: 12,
        routes_per_table: 6,
    };
    corpus.push(("gen::generate".into(), generate(&small)));
    corpus.push(("gen::firewall_design".into(), firewall_design(40)));
    corpus.retain(|(_, text)| format_source(text).is_ok());
    corpus
});

/// A tiny deterministic generator of choices, so a proptest case is just a
/// seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*; a zero state would stay zero.
        let mut x = self.0 | 1;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn blanks(&mut self, max: u64) -> String {
        (0..self.below(max + 1))
            .map(|_| if self.chance(25) { '\t' } else { ' ' })
            .collect()
    }
}

/// How `disturb` may change a text.
#[derive(Clone, Copy, Debug)]
struct Disturb {
    /// Add blank lines, own-line comments and trailing comments.
    structure: bool,
    crlf: bool,
    bom: bool,
}

/// Rewrites the whitespace of valid text at random without changing its
/// tokens: runs of spaces become other runs of spaces and tabs, space
/// appears or disappears next to `[ ] , ; { }`, lines get random
/// indentation and trailing blanks. With `structure`, blank lines and
/// comments are added too.
fn disturb(text: &str, seed: u64, how: Disturb) -> String {
    let mut rng = Rng(seed);
    let punct = |c: char| "[],;{}".contains(c);
    let eol = if how.crlf { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(text.len() * 2);
    if how.bom {
        out.push('\u{feff}');
    }
    let mut comments = 0;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut in_comment = false;
    out.push_str(&rng.blanks(4));
    while let Some(&c) = chars.get(i) {
        i += 1;
        if c == '\n' {
            if !in_comment && how.structure && rng.chance(10) {
                comments += 1;
                out.push_str(&format!(" # trailing {comments}"));
            }
            out.push_str(&rng.blanks(3));
            out.push_str(eol);
            in_comment = false;
            if how.structure {
                for _ in 0..rng.below(3) {
                    if rng.chance(50) {
                        comments += 1;
                        out.push_str(&format!("{}# own {comments}{eol}", rng.blanks(6)));
                    } else {
                        out.push_str(&format!("{}{eol}", rng.blanks(3)));
                    }
                }
            }
            out.push_str(&rng.blanks(6));
            continue;
        }
        if in_comment {
            out.push(c);
            continue;
        }
        match c {
            '#' => {
                in_comment = true;
                out.push(c);
            }
            '"' => {
                out.push(c);
                while let Some(&s) = chars.get(i) {
                    i += 1;
                    out.push(s);
                    if s == '\\' {
                        if let Some(&e) = chars.get(i) {
                            i += 1;
                            out.push(e);
                        }
                    } else if s == '"' {
                        break;
                    }
                }
            }
            ' ' | '\t' | '\r' => {
                while chars
                    .get(i)
                    .is_some_and(|&c| matches!(c, ' ' | '\t' | '\r'))
                {
                    i += 1;
                }
                let next = chars.get(i).copied().unwrap_or('\n');
                let prev = out.chars().last().unwrap_or('\n');
                if (punct(prev) || punct(next)) && next != '#' && rng.chance(50) {
                    // Space next to punctuation is optional.
                } else if next != '\n' {
                    let mut blanks = rng.blanks(3);
                    if blanks.is_empty() {
                        blanks.push(' ');
                    }
                    out.push_str(&blanks);
                }
            }
            _ => {
                out.push(c);
                let next = chars.get(i).copied().unwrap_or('\n');
                if (punct(c) || punct(next)) && !matches!(next, ' ' | '\t' | '\n' | '\r') {
                    out.push_str(&rng.blanks(2));
                }
            }
        }
    }
    if how.structure && rng.chance(30) {
        out.push_str(eol);
        out.push_str(eol);
    }
    out
}

/// Everything the properties promise, for one input.
fn check_properties(name: &str, input: &str) -> Result<(), TestCaseError> {
    let once = format_source(input)
        .map_err(|e| TestCaseError::fail(format!("{name}: not formatted: {e}")))?;
    let twice = fmt(&once);
    prop_assert_eq!(&twice, &once, "{}: formatting twice differs", name);
    let (tokens, comments) = lexemes(input);
    let (tokens_after, comments_after) = lexemes(&once);
    prop_assert_eq!(tokens, tokens_after, "{}: the tokens changed", name);
    prop_assert_eq!(comments, comments_after, "{}: the comments changed", name);
    let (before, after) = (meaning(input), meaning(&once));
    if before != after {
        // The dumps are long: show where they part.
        let at = before
            .chars()
            .zip(after.chars())
            .take_while(|(a, b)| a == b)
            .count();
        let show =
            |s: &str| -> String { s.chars().skip(at.saturating_sub(200)).take(400).collect() };
        return Err(TestCaseError::fail(format!(
            "{name}: the model changed\n--- input\n{input}\n--- formatted\n{once}\n\
             --- meaning before, near the difference\n{}\n--- after\n{}",
            show(&before),
            show(&after),
        )));
    }
    for line in once.lines() {
        prop_assert!(
            !line.ends_with([' ', '\t']),
            "{}: trailing blanks in {:?}",
            name,
            line
        );
    }
    prop_assert!(once.is_empty() || once.ends_with('\n') && !once.ends_with("\n\n"));
    Ok(())
}

// ---- Properties ---------------------------------------------------------------

#[test]
fn the_corpus_is_large_and_every_design_keeps_its_meaning() {
    assert!(CORPUS.len() >= 120, "only {} designs", CORPUS.len());
    for (name, text) in CORPUS.iter() {
        if let Err(e) = check_properties(name, text) {
            panic!("{e}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(), ..ProptestConfig::default() })]

    /// Disturbed whitespace, blank lines and added comments: idempotent,
    /// same tokens, same comments, same model.
    #[test]
    fn formatting_keeps_the_meaning_and_is_idempotent(
        pick in any::<prop::sample::Index>(),
        seed in any::<u64>(),
        crlf in any::<bool>(),
        bom in any::<bool>(),
    ) {
        let (name, text) = pick.get(&CORPUS);
        let how = Disturb { structure: true, crlf, bom };
        check_properties(name, &disturb(text, seed, how))?;
    }

    /// Whitespace inside lines does not matter: a disturbed text formats
    /// exactly like the original (with the disturbed line endings).
    #[test]
    fn whitespace_inside_lines_does_not_matter(
        pick in any::<prop::sample::Index>(),
        seed in any::<u64>(),
        crlf in any::<bool>(),
        bom in any::<bool>(),
    ) {
        let (name, text) = pick.get(&CORPUS);
        let how = Disturb { structure: false, crlf, bom };
        let disturbed = disturb(text, seed, how);
        let mut expected = fmt(text);
        if crlf {
            expected = expected.replace('\n', "\r\n");
        }
        if bom && !expected.is_empty() {
            expected.insert(0, '\u{feff}');
        }
        prop_assert_eq!(fmt(&disturbed), expected, "{}\n{}", name, disturbed);
    }
}

/// Pieces of text that move statement ends, blocks and lists around.
const SPLICES: &[&str] = &[
    " ", "\n", "\n\n", ";", "{", "}", "{}", "[", "]", ",", "# x", "\t", "->", "a", "\r\n",
];

/// Cuts and splices at random places: most results have syntax errors and
/// must be refused without a panic, the rest (odd but valid: `;` in odd
/// places, empty blocks, blocks on one line) must keep every property.
fn mutate(text: &str, seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() as u64 + 1) as usize;
        if rng.chance(40) && at < chars.len() {
            let len = (1 + rng.below(3) as usize).min(chars.len() - at);
            chars.drain(at..at + len);
        } else {
            let piece = SPLICES[rng.below(SPLICES.len() as u64) as usize];
            chars.splice(at..at, piece.chars());
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(), ..ProptestConfig::default() })]

    /// Mutated designs: refused with NP001 errors, or formatted with every
    /// property intact; never a panic.
    #[test]
    fn mutated_designs_are_refused_or_keep_their_meaning(
        pick in any::<prop::sample::Index>(),
        seed in any::<u64>(),
    ) {
        let (name, text) = pick.get(&CORPUS);
        let mutated = mutate(text, seed);
        match format_source(&mutated) {
            Ok(_) => check_properties(name, &mutated)?,
            Err(e) => {
                prop_assert!(!e.diagnostics.is_empty());
                prop_assert!(e.diagnostics.iter().all(|d| d.code.as_str() == "NP001"));
            }
        }
    }

    /// Arbitrary text never makes the formatter panic.
    #[test]
    fn arbitrary_text_never_panics(text in "[ -~\t\n\r{}\\[\\];,#\"é]{0,200}") {
        if format_source(&text).is_ok() {
            check_properties("arbitrary", &text)?;
        }
    }
}

/// The mutations are not all refused: many odd but valid texts reach the
/// formatter (and keep every property).
#[test]
fn many_mutations_reach_the_formatter() {
    let mut formatted = 0;
    let tries = 400u64;
    for seed in 0..tries {
        let (name, text) = &CORPUS[seed as usize % CORPUS.len()];
        let mutated = mutate(text, seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        if format_source(&mutated).is_ok() {
            formatted += 1;
            if let Err(e) = check_properties(name, &mutated) {
                panic!("{e}");
            }
        }
    }
    eprintln!("{formatted} of {tries} mutations formatted");
    assert!(formatted * 10 >= tries, "only {formatted} of {tries}");
}

/// The model comparison sees real changes: a text and the same text with
/// one token changed (what a formatter bug would do) differ.
#[test]
fn the_meaning_comparison_is_not_blind() {
    let a = "vpc a 10.0.0.0/16 {\n  subnet s 10.0.1.0/24\n}\n";
    let b = "vpc a 10.0.0.0/16 {\n  subnet s 10.0.2.0/24\n}\n";
    let c = "vpc a 10.0.0.0/16 {\n\n    subnet   s 10.0.1.0/24   # c\n}";
    assert_ne!(meaning(a), meaning(b));
    assert_eq!(meaning(a), meaning(c));
    // Joining two statements onto one line changes the meaning.
    let joined = "vpc a 10.0.0.0/16 {\n  subnet s 10.0.1.0/24 subnet t 10.0.2.0/24\n}\n";
    let apart = "vpc a 10.0.0.0/16 {\n  subnet s 10.0.1.0/24\n  subnet t 10.0.2.0/24\n}\n";
    assert_ne!(meaning(joined), meaning(apart));
}

// ---- The canonical layout ------------------------------------------------------

/// The input and its formatted version, for snapshots that show both.
fn before_after(input: &str) -> String {
    format!("{input}\n---- formatted ----\n{}", fmt(input))
}

#[test]
fn layout_of_sites_and_blocks() {
    insta::assert_snapshot!(before_after(
        r#"service  web-alt   [ tcp/8080 ,tcp/8443 ]
sddc   prod 10.10.0.0/16{
management 10.2.0.0/16
      segment web-tier 10.10.11.0/24
  vm web01 10.10.11.101 in web-tier
    public-ip web-pip 52.58.125.207
  default-snat 52.58.125.208
 nat dnat web-in 52.58.125.207->web01 service HTTPS -> 8443 firewall-match external
  nat snat out web-tier -> 52.58.125.208
  nat reflexive r 10.10.11.102 <-> 52.58.125.209
  nat no-snat quiet web-tier
  group web [web01,10.10.11.0/28 , 10.10.11.200-10.10.11.210]
  connected-vpc shop subnet eni
  description "the prod SDDC"
}
vpc shop 10.1.0.0/16,2001:db8:1::/56 {
  internet-gateway igw
  route-table main-rt main {
  route 0.0.0.0/0 -> igw }
  subnet eni 10.1.0.0/24 route-table main-rt acl app-acl
  instance web1 10.1.0.10 in eni sg [ web-sg ] elastic-ip 198.51.100.20 source-dest-check off
  elastic-ip eip 198.51.100.21 -> web1
  nat-gateway natgw in eni elastic-ip 198.51.100.25
  nlb app-nlb internal in [eni] { listener tcp/8443 -> [web1] target-type ip port 8443 }
  endpoint-service svc nlb app-nlb acceptance required
  endpoint ep service svc in eni ip 10.1.0.99 sg web-sg
}
onprem dc 172.16.0.0/16 {
  segment lan 172.16.1.0/24
  host pc 172.16.1.10 in lan
  internet-egress snat 203.0.113.1
  nat dnat pub 203.0.113.2 -> pc service HTTPS
  firewall edge { rule r allow from any to pc service HTTPS applied-to internet }
}
vmnetwork tenant {
  subnet apps 10.0.1.0/24
  vm app01 10.0.1.10 in apps host hv01
  gateway gw mode nat external-ip 203.0.113.5 in apps host hv-edge
}
internet { host client 198.51.100.7 }
peering p shop <-> shop2
transit-gateway core { attach shop , shop2
route 10.1.0.0/16 -> shop }
direct-connect dx prod<->dc { advertise dc 0.0.0.0/0 , 172.16.0.0/16 }
vpn v1 prod <-> dc policy-based { local web-tier
remote [172.16.0.0/16] }
l2vpn ext prod <-> dc {extend web-tier}
expect reach client -> web01 at web-pip HTTPS
expect no-reach internet->[ web01 ] SSH
expect egress web01 via dx"#
    ));
}

#[test]
fn layout_of_rule_columns() {
    insta::assert_snapshot!(before_after(
        r#"sddc prod {
  firewall cgw {
    rule web-in allow from any to [web01, web02] service HTTPS
    rule partner-in allow from 198.51.100.7 to web01 service HTTPS log
    rule ssh-all drop from 10.20.0.0/24 to web01 service SSH description "no ssh"
    rule out-both allow from web-tier to any applied-to [internet, vpc]
    rule wide reject from [10.1.0.0/16, 10.2.0.0/16, 10.3.0.0/16] to any service SSH
    rule after-wide allow from any to web01 service HTTP

    rule new-run allow from any to any
    # a comment line ends a run too
    rule next allow from web-tier to any log
  }
}
vpc shop 10.40.0.0/16 {
  network-acl app-acl {
    inbound 100 allow tcp from 10.0.0.0/8
    inbound 90 deny tcp/22 from 10.1.0.0/16
    outbound 100 allow [tcp/1024-65535, udp/1024-65535] to 0.0.0.0/0
    outbound 32766 allow any to ::/0
  }
  security-group web-sg {
    inbound [HTTP, HTTPS] from 0.0.0.0/0
    inbound SSH from [sg bastion, 10.1.0.0/16]
    outbound any to any
  }
  route-table rt {
    route 0.0.0.0/0 -> igw
    route 10.100.0.0/16 -> peer
    route ::/0 -> igw
  }
}"#
    ));
}

#[test]
fn layout_of_comments() {
    insta::assert_snapshot!(before_after(
        "   # a file comment, indented by mistake\n\
         vpc shop 10.0.0.0/16 {   # trailing after the brace\n\
         # before the first statement\n\
         subnet web 10.0.1.0/24      # short\n\
         subnet database-tier 10.0.2.0/24 # longer line, same column\n\
         subnet x 10.0.3.0/24\n\
         subnet y 10.0.4.0/24 #no space after the hash is kept   \n\
         \n\
         subnet z 10.0.5.0/24 # a new paragraph\n\
         group g [ a,   # first\n\
         # between items\n\
         b ]\n\
         # before the closing brace\n\
         }  # after the closing brace\n\
         # last line, no newline",
    ));
}

#[test]
fn long_lines_do_not_push_comments_or_columns() {
    let long = format!(
        "group g [{}]",
        (0..30)
            .map(|i| format!("h{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let text = format!("vpc a 10.0.0.0/16 {{\n  subnet s 10.0.1.0/24 # one\n  {long} # two\n  subnet tt 10.0.2.0/24 # three\n}}\n");
    let out = fmt(&text);
    let lines: Vec<&str> = out.lines().collect();
    // The long line's code ends past the cap, so it takes no part: the two
    // short lines align with each other, two spaces after the longer.
    assert!(long.len() + 2 > MAX_COMMENT_COLUMN);
    assert_eq!(lines[1], "  subnet s 10.0.1.0/24   # one");
    assert_eq!(lines[2], format!("  {long}  # two"));
    assert_eq!(lines[3], "  subnet tt 10.0.2.0/24  # three");

    // A source list wider than the cap pushes only its own line.
    let wide = "[10.1.0.0/16, 10.2.0.0/16, 10.3.0.0/16]";
    assert!(wide.len() > MAX_CELL_WIDTH);
    let text = format!(
        "sddc p {{\n  firewall cgw {{\n    rule a allow from any to x\n    rule b allow from {wide} to y\n    rule c allow from 10.0.0.0/8 to z\n  }}\n}}\n"
    );
    let out = fmt(&text);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[2], "    rule a allow from any        to x");
    assert_eq!(lines[3], format!("    rule b allow from {wide} to y"));
    assert_eq!(lines[4], "    rule c allow from 10.0.0.0/8 to z");
}

#[test]
fn blank_lines_collapse_and_never_open_or_close_a_block() {
    let text = "\n\n\nvpc a 10.0.0.0/16 {\n\n\n  subnet s 10.0.1.0/24\n\n\n\n  subnet t 10.0.2.0/24\n\n}\n\n\n\nvpc b 10.1.0.0/16 {\n}\n\n\n";
    assert_eq!(
        fmt(text),
        "vpc a 10.0.0.0/16 {\n  subnet s 10.0.1.0/24\n\n  subnet t 10.0.2.0/24\n}\n\nvpc b 10.1.0.0/16 {}\n"
    );
}

#[test]
fn one_line_blocks_open_and_semicolons_stay() {
    let text = "vpc a 10.0.0.0/16 { subnet s 10.0.1.0/24; subnet t 10.0.2.0/24 }\nvpc b 10.1.0.0/16 {};\ntransit-gateway core { attach a, b; route 10.0.0.0/16 -> a }";
    assert_eq!(
        fmt(text),
        "vpc a 10.0.0.0/16 {\n  subnet s 10.0.1.0/24; subnet t 10.0.2.0/24\n}\nvpc b 10.1.0.0/16 {};\ntransit-gateway core {\n  attach a, b; route 10.0.0.0/16 -> a\n}\n"
    );
}

#[test]
fn multi_line_lists_keep_their_breaks() {
    let text = "vpc a 10.0.0.0/16 {\n  group g [\nx,\n        y,\n\n\n z,\n      ]\n  nlb n internal in [s1,\n s2] {\n listener HTTPS -> [i1] }\n}\n";
    assert_eq!(
        fmt(text),
        "vpc a 10.0.0.0/16 {\n  group g [\n    x,\n    y,\n    z,\n  ]\n  nlb n internal in [s1,\n    s2] {\n    listener HTTPS -> [i1]\n  }\n}\n"
    );
}

#[test]
fn line_endings_and_file_edges() {
    // CRLF files stay CRLF; the comment's `\r` is not kept as text.
    assert_eq!(
        fmt("vpc a 10.0.0.0/16 {  \r\n subnet s 10.0.1.0/24 # c\r\n}\r\n"),
        "vpc a 10.0.0.0/16 {\r\n  subnet s 10.0.1.0/24  # c\r\n}\r\n"
    );
    // A missing final newline is added; extra ones are removed.
    assert_eq!(
        fmt("internet { host c 1.2.3.4 }"),
        "internet {\n  host c 1.2.3.4\n}\n"
    );
    assert_eq!(fmt("internet {}\n\n\n"), "internet {}\n");
    // Empty and blank files format to nothing.
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("  \n\n\t\n"), "");
    // A file of comments keeps them, and single blank lines between them.
    assert_eq!(fmt("# a   \n\n\n   # b\n#c"), "# a\n\n# b\n#c\n");
    // A byte-order mark is kept at the start.
    assert_eq!(fmt("\u{feff}internet {}\n"), "\u{feff}internet {}\n");
}

#[test]
fn syntax_errors_are_refused_with_their_diagnostics() {
    let Err(FormatError { diagnostics }) =
        format_source("vpc a 10.0.0.0/16 {\n  segmnt s 10.0.1.0/24\n}\n")
    else {
        panic!("text with a syntax error was formatted");
    };
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code.as_str(), "NP001");
    let err = format_source("vpc a 10.0.0.0/16 { @ }").err();
    assert!(err.is_some_and(|e| e.to_string().contains("1 syntax error")));
    // Literal errors (NP004, NP005) do not stop formatting.
    assert_eq!(
        fmt("vpc a 10.0.0.1/16 {subnet s 10.0.1.0/33}"),
        "vpc a 10.0.0.1/16 {\n  subnet s 10.0.1.0/33\n}\n"
    );
}

// ---- The command ----------------------------------------------------------------

const MESSY: &str = "vpc shop 10.0.0.0/16 {\n    subnet web 10.0.1.0/24\n}\n";
const TIDY: &str = "vpc shop 10.0.0.0/16 {\n  subnet web 10.0.1.0/24\n}\n";
const BROKEN: &str = "vpc shop 10.0.0.0/16 {\n  segmnt web 10.0.1.0/24\n}\n";

/// `netproof` in `dir` with `args` and `stdin`; `NO_COLOR` is left as the
/// test process has it.
fn netproof(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    common::run_netproof(dir, args, stdin, common::NoColor::Inherit)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read(path: PathBuf) -> String {
    fs::read_to_string(path).expect("read a test file")
}

/// An hour ago, so that a rewrite would visibly move the modification time.
fn age(path: &Path) -> std::time::SystemTime {
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let file = fs::File::options().write(true).open(path).expect("open");
    file.set_modified(past).expect("set the modification time");
    fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("mtime")
}

#[test]
fn fmt_rewrites_changed_files_and_leaves_formatted_ones_alone() {
    let dir = common::scratch("fmt", "rewrite");
    fs::create_dir_all(dir.join("designs/sub")).expect("mkdir");
    common::write(&dir, "designs/messy.np", MESSY);
    common::write(&dir, "designs/sub/tidy.np", TIDY);
    let before = age(&dir.join("designs/sub/tidy.np"));
    let out = netproof(&dir, &["fmt", "designs"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(read(dir.join("designs/messy.np")), TIDY);
    assert_eq!(read(dir.join("designs/sub/tidy.np")), TIDY);
    // Only the rewritten file is listed, and the other was not written.
    assert_eq!(text(&out.stderr), "designs/messy.np\n");
    assert!(out.stdout.is_empty());
    let after = fs::metadata(dir.join("designs/sub/tidy.np"))
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(before, after);

    // Running again changes nothing and lists nothing.
    let out = netproof(&dir, &["fmt", "designs"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn fmt_check_shows_a_diff_and_writes_nothing() {
    let dir = common::scratch("fmt", "check");
    common::write(&dir, "messy.np", MESSY);
    common::write(&dir, "tidy.np", TIDY);
    let out = netproof(&dir, &["fmt", "--check", "."], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "--- a/messy.np\n+++ b/messy.np\n@@ -1,3 +1,3 @@\n vpc shop 10.0.0.0/16 {\n-    subnet web 10.0.1.0/24\n+  subnet web 10.0.1.0/24\n }\n"
    );
    assert_eq!(read(dir.join("messy.np")), MESSY);

    let out = netproof(&dir, &["fmt", "--check", "tidy.np"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());

    // Hunks far apart, a split block and a missing final newline.
    let mut long = String::from("internet {\n");
    for i in 0..20 {
        long.push_str(&format!("  host h{i} 198.51.100.{i}\n"));
    }
    long.push_str("}\nvpc a 10.0.0.0/16 { subnet s 10.0.1.0/24 }");
    let long = long.replacen("  host h1 ", "   host h1 ", 1);
    common::write(&dir, "long.np", &long);
    let out = netproof(&dir, &["fmt", "--check", "long.np"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "--- a/long.np\n+++ b/long.np\n\
         @@ -1,6 +1,6 @@\n internet {\n   host h0 198.51.100.0\n-   host h1 198.51.100.1\n\
         +  host h1 198.51.100.1\n   host h2 198.51.100.2\n   host h3 198.51.100.3\n   host h4 198.51.100.4\n\
         @@ -20,4 +20,6 @@\n   host h18 198.51.100.18\n   host h19 198.51.100.19\n }\n\
         -vpc a 10.0.0.0/16 { subnet s 10.0.1.0/24 }\n\\ No newline at end of file\n\
         +vpc a 10.0.0.0/16 {\n+  subnet s 10.0.1.0/24\n+}\n"
    );
}

#[test]
fn fmt_reads_standard_input_and_writes_standard_output() {
    let dir = common::scratch("fmt", "stdin");
    let out = netproof(&dir, &["fmt", "-"], MESSY.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), TIDY);
    assert!(out.stderr.is_empty());

    let out = netproof(&dir, &["fmt", "--check", "-"], MESSY.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).starts_with("--- a/<stdin>\n+++ b/<stdin>\n"));
}

#[test]
fn fmt_refuses_files_with_syntax_errors_and_formats_the_rest() {
    let dir = common::scratch("fmt", "broken");
    common::write(&dir, "broken.np", BROKEN);
    common::write(&dir, "messy.np", MESSY);
    let out = netproof(&dir, &["fmt", "broken.np", "messy.np"], b"");
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("NP001"), "{stderr}");
    assert!(stderr.contains("unknown statement `segmnt`"), "{stderr}");
    assert!(
        stderr.contains("error: `broken.np` has syntax errors and was not formatted"),
        "{stderr}"
    );
    assert_eq!(read(dir.join("broken.np")), BROKEN);
    assert_eq!(read(dir.join("messy.np")), TIDY);

    // From standard input: nothing on standard output.
    let out = netproof(&dir, &["fmt", "-"], BROKEN.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn fmt_usage_errors_exit_2() {
    let dir = common::scratch("fmt", "usage");
    let out = netproof(&dir, &["fmt", "missing.np"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read `missing.np`"));
    let out = netproof(&dir, &["fmt", "."], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no `.np` files"));
}

#[test]
fn fmt_help_teaches() {
    let dir = common::scratch("fmt", "help");
    let out = netproof(&dir, &["fmt", "--help"], b"");
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for needle in [
        "Examples:",
        "Exit status:",
        "netproof fmt --check",
        "--check",
    ] {
        assert!(help.contains(needle), "{needle} missing from\n{help}");
    }
}

/// docs/formatting.md shows a design before and after formatting; the
/// "after" must be what the formatter makes of the "before".
#[test]
fn the_documented_example_is_what_fmt_does() {
    let page = fs::read_to_string(common::root().join("docs/formatting.md")).expect("the page");
    let blocks = np_blocks(&page);
    assert_eq!(blocks.len(), 2, "a before and an after block");
    assert_ne!(blocks[0], blocks[1]);
    assert_eq!(fmt(&blocks[0]), blocks[1]);
}

/// `outbound none` takes part in its group's rule columns; a NAT gateway's
/// `ip` clause stays where it was written.
#[test]
fn layout_of_the_aws_facts() {
    assert_eq!(
        fmt("vpc v 10.0.0.0/16 {\n security-group g {\n  inbound HTTPS   from 0.0.0.0/0\n outbound   none\n }\n  nat-gateway n in a ip 10.0.1.9   private\n  route-table rt {\n route 9.9.9.0/24 ->   blackhole\n }\n}\n"),
        "vpc v 10.0.0.0/16 {\n  security-group g {\n    inbound  HTTPS from 0.0.0.0/0\n    outbound none\n  }\n  nat-gateway n in a ip 10.0.1.9 private\n  route-table rt {\n    route 9.9.9.0/24 -> blackhole\n  }\n}\n"
    );
}
