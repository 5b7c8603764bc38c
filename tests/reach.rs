//! `netproof reach`: exhaustive answers, their exit statuses and JSON shape.

mod common;

use common::stdout;
use serde_json::Value;
use std::process::Output;

/// `netproof` at the crate's root, with `NO_COLOR=1`.
fn netproof(args: &[&str]) -> Output {
    common::run_netproof(&common::root(), args, b"", common::NoColor::Set)
}

#[test]
fn a_published_vm_answers_only_what_the_firewall_allows() {
    let out = netproof(&[
        "reach",
        "fixtures/scenarios/seed000-publish-vm.np",
        "--from",
        "client",
        "--to",
        "web-pip",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "only HTTP reaches, so some flows do not"
    );
    let text = stdout(&out);
    assert!(
        text.contains("delivered and answered:\n  tcp/80\n"),
        "{text}"
    );
    assert!(text.contains("Default Uplink Rule"), "{text}");
    insta::assert_snapshot!("reach_seed000_client_to_web_pip", text);
}

#[test]
fn everything_asked_about_reaches_exits_zero() {
    let out = netproof(&[
        "reach",
        "fixtures/scenarios/seed000-publish-vm.np",
        "--from",
        "client",
        "--to",
        "web-pip",
        "--service",
        "HTTP",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).ends_with("every flow reaches\n"));
}

#[test]
fn the_connected_vpc_default_group_is_named_with_an_example() {
    let out = netproof(&[
        "reach",
        "fixtures/scenarios/seed001-connected-vpc.np",
        "--from",
        "CJ-AWS02",
        "--to",
        "CJ-VM01",
        "--service",
        "ICMP",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let keys: Vec<&str> = doc
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for k in ["from", "to", "services", "reached", "dropped", "undecided"] {
        assert!(keys.contains(&k), "missing `{k}` in {doc}");
    }
    let drop = &doc["dropped"][0];
    assert!(
        drop["reason"]
            .as_str()
            .unwrap_or("")
            .contains("default security group"),
        "{doc}"
    );
    assert_eq!(drop["line"], 30);
    assert!(
        drop["example"]
            .as_str()
            .unwrap_or("")
            .starts_with("icmp 172.31.1.11 -> 192.168.100.10"),
        "{doc}"
    );
}

#[test]
fn unknown_names_are_usage_errors_with_suggestions() {
    let out = netproof(&[
        "reach",
        "fixtures/scenarios/seed001-connected-vpc.np",
        "--from",
        "CJ-AWS03",
        "--to",
        "CJ-VM01",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`CJ-AWS03` is not defined") && err.contains("did you mean `CJ-AWS01`?"),
        "{err}"
    );
}

#[test]
fn the_matrix_lists_reachable_subnet_pairs() {
    let out = netproof(&[
        "reach",
        "fixtures/scenarios/seed002-vpc-internet.np",
        "--matrix",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let rows: Value = serde_json::from_slice(&out.stdout).expect("a JSON array");
    let pairs: Vec<(String, String)> = rows
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["from"].as_str().unwrap_or("").to_string(),
                r["to"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("shop.public".to_string(), "shop.private".to_string()),
            ("shop.private".to_string(), "shop.public".to_string())
        ]
    );
}

/// The matrix walks classes of interchangeable hosts together; the answer
/// must be the one of walking each source subnet separately and cutting
/// what reaches by destination subnet, as a user would with `--from` and
/// `--to` pair by pair.
#[test]
fn the_matrix_equals_one_walk_per_source_subnet() {
    use netproof::engine::expect::reachability;
    use netproof::engine::matrix::matrix;
    use netproof::engine::packet_set::AddrRanges;
    use netproof::engine::space::{service_flows, Space};
    use netproof::model::{ServiceSet, SubnetId};

    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in ["fixtures/scenarios", "grammar/examples"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for e in std::fs::read_dir(&dir).expect("fixture directory") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "np") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut texts: Vec<(String, String)> = files
        .iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(p).expect("readable fixture"),
            )
        })
        .collect();
    let w1 = netproof::gen::Workload {
        segments: 12,
        rules_per_firewall: 40,
        route_tables: 4,
        routes_per_table: 20,
        expectations: 0,
        ..netproof::gen::Workload::W1
    };
    texts.push(("generated".into(), netproof::gen::generate_workload(&w1)));
    let mut pairs = 0;
    for (name, text) in texts {
        let model = netproof::model::lower(&netproof::syntax::parse(&text).tree).model;
        // Walking by source prefix cannot tell apart subnets of different
        // sites that share addresses; those designs have their own test.
        let overlap = model.subnets.iter().enumerate().any(|(i, a)| {
            model.subnets[..i].iter().any(|b| {
                a.prefixes().any(|x| {
                    b.prefixes().any(|y| {
                        x.value.contains(&y.value.network()) || y.value.contains(&x.value.network())
                    })
                })
            })
        });
        if overlap {
            continue;
        }
        let grouped = matrix(&Space::grouped(&model)).cells;

        let space = Space::new(&model);
        // A dual-stack subnet is both of its prefixes.
        let nets = |s: &netproof::model::Subnet| {
            AddrRanges::from_nets(s.prefixes().map(|p| p.value).collect::<Vec<_>>())
        };
        let all = AddrRanges::union_many(model.subnets.iter().map(nets));
        let any = ServiceSet::any(netproof::span::Span::default());
        let mut expected = Vec::new();
        for (i, from) in model.subnets.iter().enumerate() {
            let src = nets(from);
            let reached = reachability(&space, &service_flows(&any, &src, &all)).reached;
            for (j, to) in model.subnets.iter().enumerate() {
                let part = reached.with_dst(&nets(to));
                if i != j && !part.is_empty() {
                    expected.push((SubnetId(i as u32), SubnetId(j as u32), part.services()));
                }
            }
        }
        let got: Vec<_> = grouped
            .iter()
            .map(|c| (c.from, c.to, c.services.clone()))
            .collect();
        assert_eq!(got, expected, "{name}");
        pairs += got.len();
    }
    assert!(
        pairs > 100,
        "the designs have reachable pairs to compare ({pairs})"
    );
}

/// Where sites share addresses, each row names the subnet the packet was
/// addressed to in the site that received it: seed 003's overlapping /20s
/// reach each other only through PrivateLink, at the endpoint's address.
#[test]
fn matrix_rows_across_overlapping_sites_name_the_receiving_subnet() {
    let out = netproof(&[
        "reach",
        "fixtures/scenarios/seed003-privatelink.np",
        "--matrix",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "vmc.office -> connected.endpoints: tcp/80\n\
         webvpc.mgmt -> webvpc.web: tcp/80\n\
         2 reachable pairs among 4 subnets and segments\n"
    );
}

/// `--at` asks what `expect reach SRC -> DST at ADDRESS` asks: flows sent to
/// the public address, required to arrive at the named VM.
#[test]
fn at_sends_to_one_address_and_requires_arrival_at_the_destination() {
    let base = [
        "reach",
        "fixtures/scenarios/seed000-publish-vm.np",
        "--from",
        "client",
        "--service",
        "HTTP",
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        netproof(&args)
    };
    // Sent to web01's private address, HTTP from the internet is dropped;
    // sent to its public IP, the DNAT rule delivers it to web01.
    let direct = run(&["--to", "web01"]);
    assert_eq!(direct.status.code(), Some(1), "{}", stdout(&direct));
    let at = run(&["--to", "web01", "--at", "web-pip", "--format", "json"]);
    assert_eq!(at.status.code(), Some(0), "{}", stdout(&at));
    let answer: Value = serde_json::from_str(&stdout(&at)).unwrap_or(Value::Null);
    assert_eq!(answer["at"], "web-pip");
    assert_eq!(answer["reached"], "every flow asked about (HTTP)");
    // Required at another address of the segment, the same flows arrive at
    // the wrong interface.
    let wrong = run(&["--to", "10.10.11.102", "--at", "web-pip"]);
    let text = stdout(&wrong);
    assert_eq!(wrong.status.code(), Some(1), "{text}");
    assert!(
        text.contains("delivered, but not to the expected destination"),
        "{text}"
    );
}
