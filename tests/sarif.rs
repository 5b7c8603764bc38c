//! `netproof check --format sarif`: real output of the binary validated
//! against the SARIF 2.1.0 schema, GitHub code scanning's requirements
//! checked field by field, snapshots, fingerprint stability and thread-count
//! independence.

mod common;

use netproof::registry::RULES;
use netproof::render::{security_severity, Emitter, SarifEmitter};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The official schema (OASIS errata 01, draft-04), as the project's
/// shared specification holds it beside the repository.
const SHARED_SCHEMA: &str = "../shared/schemas/sarif-schema-2.1.0.json";

/// A byte-for-byte copy of it in the repository, so that a checkout alone
/// (as CI has) can validate; `the_schema_copy_is_the_official_one` keeps
/// the two identical.
const SCHEMA: &str = "tests/schemas/sarif-schema-2.1.0.json";

/// The validator for [`SCHEMA`]. A missing schema fails the tests: they
/// must never pass without validating anything.
fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = common::root().join(SCHEMA);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "the SARIF schema is needed to validate the output, but `{}` cannot be read: {e}",
                path.display()
            )
        });
        let schema: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("`{}` is not JSON: {e}", path.display()));
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("`{}` is not a usable schema: {e}", path.display()))
    })
}

#[test]
fn the_schema_copy_is_the_official_one() {
    let copy = fs::read(common::root().join(SCHEMA)).expect("the schema copy");
    let shared = common::root().join(SHARED_SCHEMA);
    match fs::read(&shared) {
        Ok(official) => assert!(copy == official, "{SCHEMA} differs from {SHARED_SCHEMA}"),
        // A checkout on its own (CI) has only the copy, which the other
        // tests then use; the comparison runs wherever the two meet.
        Err(e) => eprintln!("not compared: `{}`: {e}", shared.display()),
    }
    let schema: Value = serde_json::from_slice(&copy).expect("the copy is JSON");
    assert_eq!(schema["id"], "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json", "{}", schema["id"]);
}

/// Every schema error in `log`, each with where it is in the document.
fn schema_errors(log: &Value) -> Vec<String> {
    validator()
        .iter_errors(log)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .collect()
}

/// Fails with every schema error, each with where it is in the document.
fn assert_valid(log: &Value, what: &str) {
    let errors = schema_errors(log);
    assert!(
        errors.is_empty(),
        "{what}: the SARIF output is not valid against the 2.1.0 schema:\n{}",
        errors.join("\n")
    );
}

fn run_in(dir: &Path, args: &[&str], threads: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netproof"))
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", threads)
        .env("NO_COLOR", "1")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("netproof runs")
}

/// `check --format sarif` over `paths`, from the repository's root.
fn sarif(paths: &[&str]) -> Value {
    let mut args = vec!["check", "--format", "sarif"];
    args.extend(paths);
    let out = run_in(&common::root(), &args, "2");
    parse(&out, &paths.join(" "))
}

fn parse(out: &Output, what: &str) -> Value {
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{what}: status {:?}, stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: stdout is not one JSON document: {e}"))
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"]
        .as_array()
        .expect("runs[0].results is an array")
}

fn fixture_paths() -> Vec<String> {
    let files = common::np_files(Path::new("fixtures"));
    assert!(files.len() > 50, "only {} fixtures found", files.len());
    files
        .iter()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect()
}

#[test]
fn every_fixture_is_valid_sarif() {
    let paths = fixture_paths();
    let mut seen = BTreeSet::new();
    for path in &paths {
        let log = sarif(&[path]);
        assert_valid(&log, path);
        for result in results(&log) {
            for key in ["relatedLocations", "fixes", "codeFlows"] {
                if result.get(key).is_some() {
                    seen.insert(key);
                }
            }
        }
        if results(&log).is_empty() {
            seen.insert("a clean file");
        }
        if results(&log)
            .iter()
            .any(|r| r["ruleId"] == "NP001" && r["level"] == "error")
        {
            seen.insert("a syntax error");
        }
    }
    // The validation above is only worth something if the fixtures exercise
    // every optional part of a result.
    assert_eq!(
        seen,
        BTreeSet::from([
            "a clean file",
            "a syntax error",
            "codeFlows",
            "fixes",
            "relatedLocations"
        ])
    );
    // All fixtures in one run, as CI would check a repository.
    let all = sarif(&["fixtures/"]);
    assert_valid(&all, "fixtures/");
    assert_eq!(
        all["runs"][0]["artifacts"].as_array().map(Vec::len),
        Some(paths.len())
    );
}

/// The validation is real: a log broken in several places fails with one
/// error per place, each naming where it is.
#[test]
fn the_validator_reports_every_schema_error() {
    let mut log = sarif(&["fixtures/rules/NP005/fires.np"]);
    assert_valid(&log, "NP005");
    let result = &mut log["runs"][0]["results"][0];
    result["level"] = "fatal".into();
    result["locations"][0]["physicalLocation"]["region"]["startLine"] = 0.into();
    result["partialFingerprints"]["primaryLocationLineHash"] = 7.into();
    let errors = schema_errors(&log);
    for path in [
        "/runs/0/results/0/level",
        "/runs/0/results/0/locations/0/physicalLocation/region/startLine",
        "/runs/0/results/0/partialFingerprints/primaryLocationLineHash",
    ] {
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(&format!("  at {path}: "))),
            "no error at {path}: {errors:#?}"
        );
    }
}

#[test]
fn an_empty_run_and_standard_input_are_valid_sarif() {
    let mut out = Vec::new();
    SarifEmitter::default()
        .emit(&[], &mut out)
        .expect("writing to a Vec cannot fail");
    let empty: Value = serde_json::from_slice(&out).expect("one JSON document");
    assert_valid(&empty, "an empty run");
    assert_eq!(results(&empty).len(), 0);
    assert_eq!(
        empty["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .map(Vec::len),
        Some(RULES.len())
    );

    let out = common::run_netproof(
        &common::root(),
        &["check", "--format", "sarif", "-"],
        b"vpc shop 10.0.0.1/16 {\n}\n",
        common::NoColor::Inherit,
    );
    let log = parse(&out, "standard input");
    assert_valid(&log, "standard input");
    let location = &results(&log)[0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(location["uri"], "%3Cstdin%3E");
    assert_eq!(location.get("uriBaseId"), None);
}

/// A relative URI reference with `/` separators, every other character
/// unreserved or percent-encoded.
fn is_relative_uri(uri: &str) -> bool {
    let bytes = uri.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let escape = bytes.get(i + 1..i + 3);
                if !escape.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) => i += 1,
            _ => return false,
        }
    }
    !uri.is_empty() && !uri.starts_with('/')
}

/// What GitHub code scanning requires of an uploaded log, checked on the
/// whole fixture set.
#[test]
fn meets_github_code_scanning_requirements() {
    let log = sarif(&["fixtures/"]);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "netproof");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run["columnKind"], "utf16CodeUnits");
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);

    let rules = driver["rules"].as_array().expect("driver.rules");
    assert_eq!(rules.len(), RULES.len(), "every rule is listed");
    for (rule, meta) in rules.iter().zip(RULES) {
        let id = meta.code.as_str();
        assert_eq!(rule["id"], id);
        assert_eq!(rule["name"], meta.name);
        assert_eq!(rule["shortDescription"]["text"], meta.summary);
        let full = rule["fullDescription"]["text"].as_str().unwrap_or("");
        assert!(!full.is_empty() && !full.contains('\n'), "{id}: {full:?}");
        assert_eq!(rule["help"]["markdown"], meta.page, "{id}");
        assert!(
            rule["help"]["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{id}"
        );
        assert_eq!(rule["helpUri"], meta.url());
        let level = match meta.severity {
            netproof::diagnostic::Severity::Error => "error",
            netproof::diagnostic::Severity::Warning => "warning",
            netproof::diagnostic::Severity::Info => "note",
        };
        assert_eq!(rule["defaultConfiguration"]["level"], level, "{id}");
        let tags: Vec<&str> = rule["properties"]["tags"]
            .as_array()
            .map(|t| t.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert!(!tags.is_empty() && tags[0] != "other", "{id}: {tags:?}");
        let score = rule["properties"]["security-severity"].as_str();
        assert_eq!(score, security_severity(meta.code), "{id}");
        assert_eq!(tags.contains(&"security"), score.is_some(), "{id}");
        if let Some(score) = score {
            let value: f64 = score
                .parse()
                .unwrap_or_else(|e| panic!("{id}: security-severity {score:?}: {e}"));
            assert!((0.0..=10.0).contains(&value), "{id}: {value}");
        }
    }

    let artifacts = run["artifacts"].as_array().expect("run.artifacts");
    let results = results(&log);
    assert!(results.len() > 50, "only {} results", results.len());
    for result in results {
        let id = result["ruleId"].as_str().expect("ruleId");
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], id, "ruleIndex points at the rule");
        assert!(matches!(
            result["level"].as_str(),
            Some("error" | "warning" | "note")
        ));
        assert!(result["message"]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty()));
        let fingerprint = result["partialFingerprints"]["primaryLocationLineHash"]
            .as_str()
            .expect("primaryLocationLineHash");
        let (hash, count) = fingerprint.split_once(':').expect("HASH:N");
        assert!(hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(
            count.parse::<usize>().is_ok_and(|n| n >= 1),
            "{fingerprint}"
        );

        let mut locations = vec![&result["locations"][0]];
        locations.extend(result["relatedLocations"].as_array().into_iter().flatten());
        for location in locations {
            let physical = &location["physicalLocation"];
            let artifact = &physical["artifactLocation"];
            let uri = artifact["uri"].as_str().expect("artifactLocation.uri");
            assert!(uri.starts_with("fixtures/"), "{uri}");
            assert!(!uri.contains("./"), "{uri}");
            // The schema's `uri-reference` format is not a draft-04 format,
            // so the validator does not check it: the URI must be made of
            // unreserved characters, `/` and `%XX` escapes only.
            assert!(is_relative_uri(uri), "{uri}");
            assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
            let index = artifact["index"].as_u64().expect("artifact index") as usize;
            assert_eq!(artifacts[index]["location"]["uri"], uri);
            let region = &physical["region"];
            for key in ["startLine", "startColumn", "endLine", "endColumn"] {
                assert!(
                    region[key].as_u64().is_some_and(|n| n >= 1),
                    "{key} in {region}"
                );
            }
        }
        if let Some(related) = result["relatedLocations"].as_array() {
            let ids: BTreeSet<u64> = related.iter().filter_map(|l| l["id"].as_u64()).collect();
            assert_eq!(
                ids.len(),
                related.len(),
                "related locations have unique ids"
            );
        }
        if let Some(fixes) = result["fixes"].as_array() {
            for fix in fixes {
                assert!(fix["description"]["text"].is_string());
                let change = &fix["artifactChanges"][0];
                assert_eq!(
                    change["artifactLocation"]["uri"],
                    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                );
                assert!(change["replacements"][0]["deletedRegion"]["startLine"].is_u64());
                assert!(change["replacements"][0]["insertedContent"]["text"].is_string());
            }
        }
    }
    // Each result about one packet carries its path as a code flow.
    let flows: Vec<&Value> = results
        .iter()
        .filter(|r| {
            ["NP303", "NP304", "NP901", "NP902", "NP903"]
                .contains(&r["ruleId"].as_str().unwrap_or(""))
        })
        .collect();
    let codes: BTreeSet<&str> = flows.iter().filter_map(|r| r["ruleId"].as_str()).collect();
    assert_eq!(codes.len(), 5, "{codes:?}");
    for result in flows {
        let steps = result["codeFlows"][0]["threadFlows"][0]["locations"]
            .as_array()
            .expect("a thread flow");
        assert!(!steps.is_empty());
        for step in steps {
            let text = step["location"]["message"]["text"].as_str().unwrap_or("");
            assert!(text.contains(": "), "a hop reads `node: decision`: {text}");
        }
        assert!(
            steps
                .iter()
                .any(|s| s["location"]["physicalLocation"]["region"]["startLine"].is_u64()),
            "some hop points at the line that decided"
        );
    }
}

/// The help of an NP901 or NP902 (its path in words) and its code flow list
/// the same hops in the same order; NP901's flow ends with the drop.
#[test]
fn code_flows_follow_the_path_in_the_help() {
    let log = sarif(&[
        "fixtures/rules/NP901/fires.np",
        "fixtures/rules/NP902/fires.np",
    ]);
    let mut checked = 0;
    for result in results(&log) {
        let Some(steps) = result["codeFlows"][0]["threadFlows"][0]["locations"].as_array() else {
            continue;
        };
        let message = result["message"]["text"].as_str().unwrap_or("");
        let listed: Vec<&str> = message
            .lines()
            .filter_map(|l| l.trim_start().split_once(". "))
            .filter(|(n, _)| n.parse::<usize>().is_ok())
            .map(|(_, hop)| hop)
            .collect();
        let flowed: Vec<&str> = steps
            .iter()
            .filter_map(|s| s["location"]["message"]["text"].as_str())
            .collect();
        if result["ruleId"] == "NP901" {
            // "dropped: REASON" or "reply dropped: REASON".
            let reason = result["relatedLocations"][0]["message"]["text"]
                .as_str()
                .unwrap_or("");
            let last = flowed.last().copied().unwrap_or("");
            assert!(last.ends_with(&format!("dropped: {reason}")), "{last}");
            assert_eq!(listed, flowed[..flowed.len() - 1]);
        } else {
            assert_eq!(listed, flowed);
        }
        checked += 1;
    }
    assert!(checked >= 2, "only {checked} results with a code flow");
}

/// The output as written (fields in their emitted order), with what changes
/// independently of the SARIF emitter redacted: the version, the rules
/// table (every rule page; checked field by field in
/// `meets_github_code_scanning_requirements`) and rule indexes (which move
/// when a rule is added; checked there too).
fn redacted(out: &[u8]) -> String {
    let text = String::from_utf8(out.to_vec()).expect("UTF-8 output");
    let text = text.replace(
        &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
        "\"[version]\"",
    );
    let start = text.find("\"rules\": [").expect("a rules table");
    let close = "\n          ]";
    let end = start
        + text[start..]
            .find(close)
            .expect("the end of the rules table")
        + close.len();
    let text = format!(
        "{}\"rules\": \"[every rule]\"{}",
        &text[..start],
        &text[end..]
    );
    text.lines()
        .map(|line| match line.split_once("\"ruleIndex\": ") {
            Some((indent, _)) => format!("{indent}\"ruleIndex\": \"[index]\","),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn snapshots() {
    // A scenario with a security rule and an expectation's code flow, and a
    // file whose findings have fixes.
    for path in [
        "fixtures/scenarios/seed001-connected-vpc.np",
        "fixtures/rules/NP201/fires.np",
    ] {
        let out = run_in(&common::root(), &["check", "--format", "sarif", path], "2");
        let text = redacted(&out.stdout);
        let name = path
            .trim_start_matches("fixtures/")
            .trim_end_matches(".np")
            .replace('/', "-");
        insta::assert_snapshot!(name, text);
    }
}

/// The fingerprints of every result of `design.np` in `dir`, by rule.
fn fingerprints(dir: &Path) -> Vec<(String, String)> {
    let out = run_in(dir, &["check", "--format", "sarif", "design.np"], "1");
    let log = parse(&out, "design.np");
    assert_valid(&log, "design.np");
    results(&log)
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap_or("").to_string(),
                r["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn fingerprints_survive_unrelated_edits_and_follow_the_line() {
    let dir = common::scratch("sarif", "fingerprints");
    let design = "vpc shop 10.0.0.1/16 {\n  subnet web 10.0.1.0/24\n  subnet app 10.0.1.0/25\n}\n";
    common::write(&dir, "design.np", design);
    let before = fingerprints(&dir);
    let codes: Vec<&str> = before.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(codes, ["NP005", "NP103"]);

    // Lines inserted above, and the findings' lines reindented: the same
    // findings keep their fingerprints although every line number moved.
    let edited = format!(
        "# The shop.\n\nvpc other 10.9.0.0/16 {{\n}}\n\n{}",
        design.replace("  subnet app", "      subnet   app")
    );
    common::write(&dir, "design.np", edited);
    assert_eq!(fingerprints(&dir), before);

    // The finding's own line changes: its fingerprint changes; the other
    // finding's does not.
    let changed = design.replace("10.0.1.0/25", "10.0.1.128/25");
    common::write(&dir, "design.np", changed);
    let after = fingerprints(&dir);
    assert_eq!(after.len(), 2);
    assert_eq!(after[0], before[0]);
    assert_eq!(after[1].0, "NP103");
    assert_ne!(after[1].1, before[1].1);
}

#[test]
fn identical_lines_get_distinct_fingerprints() {
    let dir = common::scratch("sarif", "duplicate-lines");
    let design = "vpc a 10.0.0.1/16 {\n}\nvpc b 10.1.0.0/16 {\n  subnet x 10.1.0.0/24\n  subnet y 10.2.0.0/24\n  subnet y 10.2.0.0/24\n}\n";
    common::write(&dir, "design.np", design);
    let prints = fingerprints(&dir);
    let distinct: BTreeSet<&String> = prints.iter().map(|(_, f)| f).collect();
    assert_eq!(distinct.len(), prints.len(), "{prints:?}");
    // The two identical lines' findings share a hash and differ in the count.
    let duplicated: Vec<&(String, String)> =
        prints.iter().filter(|(_, f)| f.ends_with(":2")).collect();
    assert!(!duplicated.is_empty(), "{prints:?}");
    for (code, print) in duplicated {
        let first = print.replace(":2", ":1");
        assert!(
            prints.contains(&(code.clone(), first.clone())),
            "{first} in {prints:?}"
        );
    }
}

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let root = common::root();
    let args = ["check", "--format", "sarif", "fixtures/"];
    let one = run_in(&root, &args, "1");
    let four = run_in(&root, &args, "4");
    assert_eq!(one.status.code(), Some(1), "the fixtures contain errors");
    assert!(!one.stdout.is_empty());
    assert!(
        one.stdout == four.stdout,
        "SARIF output differs between 1 and 4 threads"
    );
}

#[test]
fn paths_become_relative_uris() {
    let dir = common::scratch("sarif", "uris");
    fs::create_dir_all(dir.join("my designs")).expect("create a subdirectory");
    fs::write(
        dir.join("my designs/café.np"),
        "vpc shop 10.0.0.1/16 {\n}\n",
    )
    .expect("write the design");
    let absolute = dir.join("my designs/café.np");
    let absolute = absolute.to_string_lossy();
    for arg in ["./my designs/café.np", "my designs", absolute.as_ref()] {
        let out = run_in(&dir, &["check", "--format", "sarif", arg], "1");
        let log = parse(&out, arg);
        assert_valid(&log, arg);
        let location = &results(&log)[0]["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(location["uri"], "my%20designs/caf%C3%A9.np", "{arg}");

        assert_eq!(location["uriBaseId"], "%SRCROOT%", "{arg}");
    }
    // The URI check used on every fixture can fail.
    for bad in ["a b.np", "a\\b.np", "/a.np", "a%zz.np", "file:///a.np", ""] {
        assert!(!is_relative_uri(bad), "{bad}");
    }
    // Outside the working directory: an absolute `file://` URI.
    let elsewhere = dir.join("elsewhere");
    fs::create_dir_all(&elsewhere).expect("create a directory");
    let out = run_in(
        &elsewhere,
        &["check", "--format", "sarif", absolute.as_ref()],
        "1",
    );
    let log = parse(&out, "outside");
    assert_valid(&log, "outside");
    let location = &results(&log)[0]["locations"][0]["physicalLocation"]["artifactLocation"];
    let uri = location["uri"].as_str().unwrap_or("");
    assert!(
        uri.starts_with("file:///") && uri.ends_with("/my%20designs/caf%C3%A9.np"),
        "{uri}"
    );
    assert_eq!(location.get("uriBaseId"), None);
}

#[test]
fn other_commands_do_not_offer_sarif() {
    let root = common::root();
    for args in [
        &["rules", "--format", "sarif"][..],
        &[
            "trace",
            "--format",
            "sarif",
            "fixtures/scenarios/seed000-publish-vm.np",
            "client",
            "web01",
        ],
    ] {
        let out = run_in(&root, args, "1");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("invalid value 'sarif'"), "{err}");
    }
    let help = run_in(&root, &["check", "--help"], "1");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--format sarif"), "{help}");
}
