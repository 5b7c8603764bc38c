//! The editor integrations in `editors/`: the VS Code extension's manifest
//! and TextMate grammar, and the Neovim and Helix snippets.
//!
//! The grammar is run, not just parsed: its patterns are compiled with
//! fancy-regex (which reads Oniguruma's look-around, as VS Code's engine
//! does) and lines are tokenized the way a TextMate engine does at the top
//! level: at each point, the pattern whose match starts first wins, the
//! earlier pattern on a tie. So a statement keyword added to the parser
//! without highlighting fails here.

use fancy_regex::Regex;
use netproof::syntax::STATEMENT_KEYWORDS;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn editors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("editors")
}

fn read(relative: &str) -> String {
    let path = editors().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn json(relative: &str) -> Value {
    serde_json::from_str(&read(relative))
        .unwrap_or_else(|e| panic!("{relative} is not valid JSON: {e}"))
}

/// One top-level rule of the grammar: a `match`, or a `begin`/`end` pair
/// with the patterns inside it (which, starting before `end` matches, take
/// their text first: that is how an escaped quote does not end a string).
struct Rule {
    scope: String,
    start: Regex,
    end: Option<Regex>,
    inner: Vec<Regex>,
}

fn compile(pattern: &str, scope: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("the pattern of {scope} does not compile: {e}"))
}

/// The grammar's top-level rules in order, with includes resolved.
fn rules(grammar: &Value) -> Vec<Rule> {
    fn collect(grammar: &Value, pattern: &Value, inherited: &str, out: &mut Vec<Rule>) {
        if let Some(include) = pattern["include"].as_str() {
            let name = include.strip_prefix('#').expect("only local includes");
            let target = &grammar["repository"][name];
            assert!(target.is_object(), "include of a missing rule `{name}`");
            return collect(grammar, target, inherited, out);
        }
        let scope = pattern["name"].as_str().unwrap_or(inherited);
        if let Some(m) = pattern["match"].as_str() {
            out.push(Rule {
                scope: scope.to_string(),
                start: compile(m, scope),
                end: None,
                inner: Vec::new(),
            });
        } else if let Some(begin) = pattern["begin"].as_str() {
            let end = pattern["end"].as_str().expect("a begin rule has an end");
            let inner = pattern["patterns"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| compile(p["match"].as_str().expect("inner match rules only"), scope))
                .collect();
            out.push(Rule {
                scope: scope.to_string(),
                start: compile(begin, scope),
                end: Some(compile(end, scope)),
                inner,
            });
        } else if let Some(patterns) = pattern["patterns"].as_array() {
            for p in patterns {
                collect(grammar, p, scope, out);
            }
        } else {
            panic!("a rule with neither match, begin nor patterns: {pattern}");
        }
    }
    let mut out = Vec::new();
    for p in grammar["patterns"].as_array().expect("top-level patterns") {
        collect(grammar, p, "", &mut out);
    }
    out
}

/// The tokens of one line: (text, scope), text not matched by any rule
/// left out.
fn tokens<'l>(rules: &[Rule], line: &'l str) -> Vec<(&'l str, String)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < line.len() {
        let mut best: Option<(usize, usize, &Rule)> = None;
        for rule in rules {
            let found = rule
                .start
                .find_from_pos(line, at)
                .unwrap_or_else(|e| panic!("{}: {e}", rule.scope));
            if let Some(m) = found {
                if best.is_none_or(|(s, _, _)| m.start() < s) {
                    best = Some((m.start(), m.end(), rule));
                }
            }
        }
        let Some((start, mut end, rule)) = best else {
            break;
        };
        if let Some(end_re) = &rule.end {
            end = close(rule, end_re, line, end);
        }
        out.push((&line[start..end], rule.scope.clone()));
        // An empty match (`$`) must still move on.
        at = end.max(start + 1);
    }
    out
}

/// Where a begin/end rule that began just before `at` ends.
fn close(rule: &Rule, end_re: &Regex, line: &str, mut at: usize) -> usize {
    loop {
        let Ok(Some(end)) = end_re.find_from_pos(line, at) else {
            return line.len();
        };
        let inner = rule
            .inner
            .iter()
            .filter_map(|re| re.find_from_pos(line, at).ok().flatten())
            .filter(|m| m.start() < end.start() && m.end() > m.start())
            .min_by_key(|m| m.start());
        match inner {
            Some(m) => at = m.end(),
            None => return end.end(),
        }
    }
}

fn grammar() -> (Value, Vec<Rule>) {
    let grammar = json("vscode/syntaxes/netproof.tmLanguage.json");
    let rules = rules(&grammar);
    (grammar, rules)
}

#[test]
fn every_statement_keyword_is_highlighted_as_a_keyword() {
    let (_, rules) = grammar();
    for keyword in STATEMENT_KEYWORDS {
        let line = format!("  {keyword} name-1 10.0.0.0/24");
        let found = tokens(&rules, &line);
        let first = found.first();
        assert!(
            first.is_some_and(|(text, scope)| text == keyword && scope.starts_with("keyword.")),
            "`{keyword}` is not highlighted as a keyword: {found:?}"
        );
    }
}

#[test]
fn keywords_inside_names_are_names() {
    let (_, rules) = grammar();
    for name in [
        "nat-gw1", "route-x", "vm.web01", "subnet_a", "web-host", "any2",
    ] {
        let line = format!("  instance {name} 10.0.0.5 in web");
        let found = tokens(&rules, &line);
        assert!(
            !found
                .iter()
                .any(|(text, _)| name.contains(text) && *text != "in"),
            "part of `{name}` is highlighted: {found:?}"
        );
    }
}

#[test]
fn a_firewall_rule_reads_as_it_should() {
    let (_, rules) = grammar();
    let line = r#"    rule web-in allow from [10.0.0.0/24, 2001:db8::/32] to web01 service [HTTPS, tcp/8080-8081] applied-to internet log  # "not a string""#;
    let found = tokens(&rules, line);
    let scope_of = |text: &str| {
        found
            .iter()
            .find(|(t, _)| *t == text)
            .map(|(_, s)| s.as_str())
            .unwrap_or_else(|| panic!("no token `{text}` in {found:?}"))
    };
    assert_eq!(scope_of("rule"), "keyword.other.statement.netproof");
    assert_eq!(scope_of("allow"), "keyword.control.action.netproof");
    assert_eq!(scope_of("from"), "keyword.other.clause.netproof");
    assert_eq!(
        scope_of("10.0.0.0/24"),
        "constant.numeric.address.ipv4.netproof"
    );
    assert_eq!(
        scope_of("2001:db8::/32"),
        "constant.numeric.address.ipv6.netproof"
    );
    assert_eq!(scope_of("HTTPS"), "support.constant.service.netproof");
    assert_eq!(scope_of("tcp/8080-8081"), "support.type.protocol.netproof");
    assert_eq!(scope_of("applied-to"), "keyword.other.clause.netproof");
    assert_eq!(scope_of("["), "punctuation.section.brackets.begin.netproof");
    assert_eq!(
        scope_of("# \"not a string\""),
        "comment.line.number-sign.netproof"
    );
    // Names are left to the theme's default colour.
    assert!(!found.iter().any(|(t, _)| *t == "web-in" || *t == "web01"));
}

#[test]
fn strings_ranges_arrows_and_numbers() {
    let (_, rules) = grammar();
    let found = tokens(&rules, r#"  description "say \"hi\" # not a comment""#);
    assert_eq!(
        found[1],
        (
            r#""say \"hi\" # not a comment""#,
            "string.quoted.double.netproof".to_string()
        )
    );
    let found = tokens(
        &rules,
        "  nat dnat web-in 52.58.125.207 -> 10.0.0.1-10.0.0.9 port 8080",
    );
    let scopes: Vec<&str> = found.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        scopes,
        [
            "keyword.other.statement.netproof",
            "keyword.other.clause.netproof",
            "constant.numeric.address.ipv4.netproof",
            "keyword.operator.arrow.netproof",
            "constant.numeric.address.ipv4.netproof",
            "keyword.other.clause.netproof",
            "constant.numeric.integer.netproof",
        ],
        "{found:?}"
    );
    let found = tokens(&rules, "peering p a <-> b");
    assert!(found.contains(&("<->", "keyword.operator.arrow.netproof".to_string())));
}

#[test]
fn every_grammar_example_tokenizes() {
    // Every line of the shipped examples goes through the grammar; each
    // line's first word, when it is a statement keyword, is highlighted.
    let (_, rules) = grammar();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("grammar/examples");
    let mut lines = 0;
    for entry in std::fs::read_dir(&dir).expect("grammar/examples") {
        let path = entry.expect("an entry").path();
        let text = std::fs::read_to_string(&path).expect("an example");
        for line in text.lines() {
            let found = tokens(&rules, line);
            let first_word = line.split_whitespace().next().unwrap_or("");
            if STATEMENT_KEYWORDS.contains(&first_word) {
                assert!(
                    found
                        .first()
                        .is_some_and(|(t, s)| *t == first_word && s.starts_with("keyword.")),
                    "{}: {line:?}: {found:?}",
                    path.display()
                );
            }
            lines += 1;
        }
    }
    assert!(lines > 100, "only {lines} lines of examples");
}

#[test]
fn the_vscode_manifest_names_files_that_exist() {
    let manifest = json("vscode/package.json");
    let grammar = json("vscode/syntaxes/netproof.tmLanguage.json");
    let language = &manifest["contributes"]["languages"][0];
    assert_eq!(language["id"], "netproof");
    assert!(
        language["extensions"]
            .as_array()
            .is_some_and(|e| e.contains(&Value::from(".np"))),
        "{language}"
    );
    let configuration = language["configuration"].as_str().expect("a configuration");
    let config = json(&format!("vscode/{configuration}"));
    assert_eq!(config["comments"]["lineComment"], "#");
    let contributed = &manifest["contributes"]["grammars"][0];
    assert_eq!(contributed["language"], "netproof");
    assert_eq!(contributed["scopeName"], grammar["scopeName"]);
    let path = contributed["path"].as_str().expect("a grammar path");
    assert!(
        editors().join("vscode").join(path).is_file(),
        "the manifest names {path}, which does not exist"
    );
    let main = manifest["main"].as_str().expect("a main script");
    let script = read(&format!("vscode/{main}"));
    assert!(
        script.contains(r#"["lsp"]"#),
        "the extension starts `netproof lsp`"
    );
    assert!(manifest["dependencies"]["vscode-languageclient"].is_string());
}

#[test]
fn neovim_and_helix_start_the_server() {
    let lua = read("neovim/netproof.lua");
    assert!(lua.contains("extension = { np = 'netproof' }"), "{lua}");
    assert!(lua.contains("cmd = { 'netproof', 'lsp' }"), "{lua}");
    let helix = read("helix/languages.toml");
    assert!(helix.contains("[language-server.netproof]"), "{helix}");
    assert!(
        helix.contains("command = \"netproof\"\nargs = [\"lsp\"]"),
        "{helix}"
    );
    assert!(helix.contains("file-types = [\"np\"]"), "{helix}");
    assert!(
        helix.contains("language-servers = [\"netproof\"]"),
        "{helix}"
    );
}

/// The grammar in VS Code's own engine: `editors/vscode/test/grammar.js`
/// tokenizes the known lines, every statement keyword and every shipped
/// example with vscode-textmate on Oniguruma. `.ci/run` installs them
/// (`npm ci` in editors/vscode) and sets `NETPROOF_REQUIRE_TOOLS=1`; without
/// them this test says so and checks nothing.
#[test]
fn the_grammar_runs_in_vscode_textmate() {
    let vscode = editors().join("vscode");
    let installed = vscode.join("node_modules/vscode-textmate").is_dir()
        && vscode.join("node_modules/vscode-oniguruma").is_dir();
    if !installed {
        assert!(
            std::env::var("NETPROOF_REQUIRE_TOOLS").map_or(true, |v| v != "1"),
            "vscode-textmate is not installed in editors/vscode (npm ci)"
        );
        eprintln!("skipped: run `npm ci` in editors/vscode to test the grammar in vscode-textmate");
        return;
    }
    let out = std::process::Command::new("node")
        .arg("test/grammar.js")
        .current_dir(&vscode)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node: {e}"));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(said.contains("tokenized as expected"), "{said}");
}

/// The words that stand for "no rules" and "dropped" are constants, like
/// `private` and `off`.
#[test]
fn none_and_blackhole_are_constants() {
    let (_, rules) = grammar();
    for (line, word) in [
        ("    outbound none", "none"),
        ("    route 9.9.9.0/24 -> blackhole", "blackhole"),
        ("  nat-gateway n in a private ip 10.0.1.9", "private"),
    ] {
        let found = tokens(&rules, line);
        assert!(
            found.contains(&(word, "constant.language.netproof".to_string())),
            "{line}: {found:?}"
        );
    }
}
