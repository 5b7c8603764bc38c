//! `netproof reach`: the exhaustive answer to "what gets from here to
//! there?", as port ranges, with where the rest is dropped; and, with
//! `--matrix`, the same between every pair of subnets and segments.

use crate::check::{FileReport, SourceFile};
use crate::diagnostic::{self, Diagnostic, Severity};
use crate::engine::expect::{explain_for, Part};
use crate::engine::packet_set::{AddrRanges, PacketSet};
use crate::engine::space::{service_flows, Space};
use crate::model::{Model, SubnetId};
use serde::Serialize;

/// What a `reach` run produced, for `main.rs` to write.
#[derive(Debug)]
pub enum ReachRun {
    /// The answer, rendered; `complete` when every flow asked about reaches.
    Answered { output: String, complete: bool },
    /// The design has errors; these reports are to be shown instead.
    DesignErrors(Vec<FileReport>),
    /// A usage or input error, one message per line.
    Usage(Vec<String>),
}

/// The front end of a design, refusing one with errors.
fn load(path: String, text: String) -> Result<(SourceFile, Model), ReachRun> {
    let source = SourceFile::new(path, text);
    let parsed = crate::syntax::parse(&source.text);
    let lowered = crate::model::lower(&parsed.tree);
    let mut diagnostics = parsed.diagnostics;
    diagnostics.extend(lowered.diagnostics);
    if diagnostics.iter().any(|d| d.severity() == Severity::Error) {
        diagnostic::sort_and_dedup(&mut diagnostics);
        return Err(ReachRun::DesignErrors(vec![FileReport {
            source,
            diagnostics,
            expectations: Vec::new(),
        }]));
    }
    Ok((source, lowered.model))
}

/// One question: from where, to where (and at which address it is sent,
/// when that is not the destination's), over which services; each as it
/// would be written in an expectation.
pub struct Query<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub at: Option<&'a str>,
    pub services: &'a str,
}

/// Resolves `--from`, `--to`, `--at` and the service list exactly as an
/// expectation would: the design is lowered again with one more line,
/// `expect reach FROM -> TO [at AT] SERVICES`, so names, `site.name`,
/// groups, `internet`, lists and service names all mean what they mean in a
/// file.
fn query(text: &str, q: &Query) -> Result<(Model, usize), Vec<String>> {
    let Query {
        from,
        to,
        at,
        services,
    } = q;
    let at = at.map(|a| format!(" at {a}")).unwrap_or_default();
    let line = format!("\nexpect reach {from} -> {to}{at} {services}\n");
    let full = format!("{text}{line}");
    let parsed = crate::syntax::parse(&full);
    let lowered = crate::model::lower(&parsed.tree);
    let problems: Vec<String> = parsed
        .diagnostics
        .iter()
        .chain(&lowered.diagnostics)
        .filter(|d| d.primary.span.start as usize >= text.len())
        .map(describe)
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    let index = lowered
        .model
        .expectations
        .len()
        .checked_sub(1)
        .ok_or_else(|| vec!["the query did not parse".to_string()])?;
    Ok((lowered.model, index))
}

fn describe(d: &Diagnostic) -> String {
    match &d.help {
        Some(h) => format!("{} ({h})", d.message),
        None => d.message.clone(),
    }
}

#[derive(Serialize)]
struct JsonAnswer<'a> {
    from: &'a str,
    to: &'a str,
    /// The address the flows are sent to, when it is not the destination's.
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<&'a str>,
    services: &'a str,
    /// Delivered and answered, as `tcp/80, udp/53`.
    reached: Option<String>,
    dropped: Vec<JsonDrop>,
    /// On paths this version of the engine does not model.
    undecided: Option<String>,
    /// From source addresses that send nothing (a public address, an
    /// endpoint, an address of a site outside its subnets, a device that
    /// only answers).
    not_sent: Option<String>,
}

#[derive(Serialize)]
struct JsonDrop {
    services: String,
    reason: String,
    /// The reply is what is dropped, not the request.
    reply: bool,
    file: String,
    line: usize,
    /// One packet of this part, as `tcp 10.0.0.1:1024 -> 10.0.0.2:443`.
    example: Option<String>,
}

/// Answers one query: which flows from `from` to `to` reach.
pub fn query_answer(path: String, text: String, q: Query, json: bool) -> ReachRun {
    let Query {
        from,
        to,
        at,
        services,
    } = q;
    let (source, _) = match load(path, text) {
        Ok(x) => x,
        Err(run) => return run,
    };
    let (model, index) = match query(&source.text, &q) {
        Ok(x) => x,
        Err(problems) => return ReachRun::Usage(problems),
    };
    let space = Space::new(&model);
    let e = &model.expectations[index];
    // A question about no packet has no answer: over an empty set, "every
    // flow reaches" would be true and say nothing. Packets that exist but
    // are not sent are answered, as `trace` answers them: they do not reach.
    let why = crate::engine::expect::no_flows(&space, e);
    if let Some(why) = why.filter(|&w| w != crate::rules::np904_vacuous_expectation::Why::NoSender)
    {
        return ReachRun::Usage(vec![format!(
            "the question names no packet: {}, so there is nothing to answer ({})",
            why.reason(),
            why.help()
        )]);
    }
    if let Some(why) = crate::engine::expect::too_large(&space, e) {
        return ReachRun::Usage(vec![format!(
            "the question is not answered: {} ({})",
            why.reason(),
            why.help()
        )]);
    }
    let src = space.addrs(&e.src);
    // Sent to the `at` address when there is one; `explain_for` then holds
    // the deliveries to the destination, as the expectation would.
    let sent_to =
        e.at.as_ref()
            .or(e.dst.as_ref())
            .map(|d| space.addrs(d))
            .unwrap_or_else(AddrRanges::empty);
    let flows = service_flows(&e.services, &src, &sent_to);
    let parts = explain_for(&space, &flows, e);
    // Packets from addresses that send nothing are in no part: no walk
    // starts there. They are not reaching, whatever the parts say.
    let not_sent = parts.iter().fold(flows.clone(), |rest, p| {
        rest.difference(match p {
            Part::Reached(s) | Part::Unknown(s) | Part::Failed { set: s, .. } => s,
        })
    });
    let complete = not_sent.is_empty() && parts.iter().all(|p| matches!(p, Part::Reached(_)));
    // A part holding every flow asked about reads better as one phrase than
    // as the list of every protocol.
    let reached = parts.iter().find_map(|p| match p {
        Part::Reached(s) => Some(s.clone()),
        _ => None,
    });
    let svc = |s: &PacketSet| {
        if s.set_eq(&flows) {
            format!("every flow asked about ({services})")
        } else if reached
            .as_ref()
            .is_some_and(|r| !s.set_eq(r) && s.union(r).set_eq(&flows))
        {
            "every other flow asked about".to_string()
        } else {
            s.services().to_string()
        }
    };
    let example = |s: &PacketSet| {
        crate::engine::expect::readable_witness(s)
            .map(|p| crate::rules::np901_expectation_unreachable::show_packet(&p))
    };
    let location = |span: crate::span::Span| {
        let lc = source.line_col(span.start);
        let text = source
            .text
            .lines()
            .nth(lc.line.saturating_sub(1))
            .unwrap_or("")
            .trim();
        (
            lc.line,
            crate::render::visible(text, crate::render::MAX_LINE_CHARS),
        )
    };
    let output = if json {
        let mut answer = JsonAnswer {
            from,
            to,
            at,
            services,
            reached: None,
            dropped: Vec::new(),
            undecided: None,
            not_sent: (!not_sent.is_empty()).then(|| svc(&not_sent)),
        };
        for p in &parts {
            match p {
                Part::Reached(s) => answer.reached = Some(svc(s)),
                Part::Unknown(s) => answer.undecided = Some(svc(s)),
                Part::Failed { set, drop, reply } => answer.dropped.push(JsonDrop {
                    services: svc(set),
                    reason: drop.reason.clone(),
                    reply: *reply,
                    file: source.path.clone(),
                    line: location(drop.span).0,
                    example: example(set),
                }),
            }
        }
        match serde_json::to_string_pretty(&answer) {
            Ok(s) => s + "\n",
            Err(e) => return ReachRun::Usage(vec![format!("cannot serialize the answer: {e}")]),
        }
    } else {
        let at = at.map(|a| format!(" at {a}")).unwrap_or_default();
        let mut out = format!("reach from {from} to {to}{at}, services {services}\n\n");
        for p in &parts {
            match p {
                Part::Reached(s) => out.push_str(&format!("delivered and answered:\n  {}\n\n", svc(s))),
                Part::Failed { set, drop, reply } => {
                    let (line, text) = location(drop.span);
                    let what = if *reply { "reply dropped" } else { "dropped" };
                    out.push_str(&format!("{what}:\n  {}\n  {}\n", svc(set), drop.reason));
                    out.push_str(&format!("  {}:{line} | {text}\n", source.path));
                    if let Some(ex) = example(set) {
                        out.push_str(&format!("  for example {ex}\n"));
                    }
                    out.push('\n');
                }
                Part::Unknown(s) => out.push_str(&format!(
                    "not decided (the path crosses something this version does not model):\n  {}\n\n",
                    svc(s)
                )),
            }
        }
        if !not_sent.is_empty() {
            out.push_str(&format!(
                "not sent (these source addresses send nothing: a public address, an endpoint, \
                 an address of a site outside its subnets, or a device that only answers; \
                 docs/forwarding.md, \"Where packets start\"):\n  {}\n",
                svc(&not_sent)
            ));
            if let Some(ex) = example(&not_sent) {
                out.push_str(&format!("  for example {ex}\n"));
            }
            out.push('\n');
        }
        out.push_str(if complete {
            "every flow reaches\n"
        } else {
            "some flows do not reach\n"
        });
        // Names and quoted lines come from the design: control characters
        // in them reach the terminal as visible escapes.
        crate::render::visible(&out, usize::MAX)
    };
    ReachRun::Answered { output, complete }
}

#[derive(Serialize)]
struct MatrixRow<'a> {
    from: &'a str,
    to: &'a str,
    /// Services that reach, as `tcp/80, udp/53`.
    services: String,
}

/// The matrix's rows for JSON, made one at a time as they are written.
struct MatrixRows<'a, F>(&'a [crate::engine::matrix::Cell], &'a F);

impl<'a, F: Fn(SubnetId) -> &'a str> Serialize for MatrixRows<'a, F> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|c| MatrixRow {
            from: (self.1)(c.from),
            to: (self.1)(c.to),
            services: c.services.to_string(),
        }))
    }
}

/// Every subnet and segment to every other, all services: one exhaustive
/// walk per class of interchangeable sources, in parallel
/// (`engine::matrix`); rows in a fixed order.
pub fn matrix(path: String, text: String, json: bool) -> ReachRun {
    let (_, model) = match load(path, text) {
        Ok(x) => x,
        Err(run) => return run,
    };
    let space = Space::grouped(&model);
    // Each subnet's name once, not twice per row: W3 has 25 million rows.
    let names: Vec<String> = model
        .subnets
        .iter()
        .map(|sub| format!("{}.{}", model.site(sub.site).decl.name, sub.decl.name))
        .collect();
    let name = |s: SubnetId| names.get(s.index()).map_or("?", String::as_str);
    let result = crate::engine::matrix::matrix(&space);
    let subnets = model.subnets.len();
    let output = if json {
        // The rows are serialized as they are made rather than collected
        // first.
        let rows = MatrixRows(&result.cells, &name);
        match serde_json::to_string_pretty(&rows) {
            Ok(s) => s + "\n",
            Err(e) => return ReachRun::Usage(vec![format!("cannot serialize the matrix: {e}")]),
        }
    } else {
        // Names come from the design: control characters in them reach the
        // terminal as visible escapes (`render::visible`, one row at a time).
        let mut out = String::new();
        for c in &result.cells {
            let row = format!("{} -> {}: {}\n", name(c.from), name(c.to), c.services);
            out.push_str(&crate::render::visible(&row, usize::MAX));
        }
        out.push_str(&format!(
            "{} reachable pairs among {subnets} subnets and segments\n",
            result.cells.len(),
        ));
        if !result.complete {
            out.push_str(
                "note: some packets take paths this version of the engine does not model \
                 (docs/engine.md); pairs they might add are not listed\n",
            );
        }
        out
    };
    ReachRun::Answered {
        output,
        complete: true,
    }
}
