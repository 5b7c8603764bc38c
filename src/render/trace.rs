//! `netproof trace` output: a flow's forward and reply traces, hop by hop,
//! for people (grouped by node, each decision with the line that made it)
//! and as JSON (the shape documented in `docs/json-output.md`, "trace").

use crate::check::SourceFile;
use crate::model::Model;
use crate::sim::{FlowResult, Hop, Outcome, Packet, Trace};
use crate::span::Span;
use serde::Serialize;

/// What the user asked for, as the output's first line repeats it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceTitle {
    /// `client (198.51.100.20)`.
    pub src: String,
    pub dst: String,
    pub at: Option<String>,
    /// `HTTP (tcp/80)`.
    pub service: String,
}

/// The width of the stage column.
const STAGE_WIDTH: usize = 16;

/// The human rendering of a flow.
pub fn render_trace_human(
    source: &SourceFile,
    model: &Model,
    title: &TraceTitle,
    flow: &FlowResult,
) -> String {
    let mut out = String::new();
    let at = title
        .at
        .as_ref()
        .map_or_else(String::new, |a| format!(" at {a}"));
    out.push_str(&format!(
        "trace {} -> {}{at}, {}\n\n",
        title.src, title.dst, title.service
    ));
    section(&mut out, source, model, "forward", &flow.forward);
    if let Some(reply) = &flow.reply {
        out.push('\n');
        section(&mut out, source, model, "reply", reply);
    }
    out.push('\n');
    if flow.reaches {
        let who = flow
            .source
            .map_or_else(|| "the source".to_string(), |s| s.describe(model));
        out.push_str(&format!(
            "reaches: {who} gets the reply from {}, the address it sent to\n",
            flow.forward.sent.dst
        ));
    } else if let Some(f) = &flow.failure {
        let verdict = if f.decided { "fails" } else { "not decided" };
        out.push_str(&format!(
            "{verdict} ({}): {}\n",
            f.direction.as_str(),
            f.reason
        ));
        if let Some(at) = f.span.and_then(|s| location(source, s)) {
            out.push_str(&format!("  {at}\n"));
        }
        if !f.help.is_empty() {
            out.push_str(&format!("  help: {}\n", f.help));
        }
    } else {
        out.push_str("fails\n");
    }
    // Names, strings and quoted lines come from the design: control
    // characters in them must reach the terminal as visible escapes.
    super::visible(&out, usize::MAX)
}

fn section(out: &mut String, source: &SourceFile, model: &Model, name: &str, t: &Trace) {
    out.push_str(&format!("{name}: {}\n", t.sent));
    let mut node: Option<&str> = None;
    // The hop that stops a packet whose fate is not decided is not a drop.
    let stop = match t.outcome {
        Outcome::Dropped { decided: false, .. } => "NOT DECIDED",
        _ => "DROP",
    };
    for hop in &t.hops {
        if node != Some(hop.node.as_str()) {
            out.push_str(&format!("  {}\n", hop.node));
            node = Some(hop.node.as_str());
        }
        hop_lines(out, source, hop, stop);
    }
    match &t.outcome {
        Outcome::Delivered { party, header } => out.push_str(&format!(
            "  => delivered to {} as {header}\n",
            party.describe(model)
        )),
        Outcome::Dropped { decided: true, .. } => out.push_str("  => dropped\n"),
        Outcome::Dropped { decided: false, .. } => {
            out.push_str("  => stopped: what happens next is not decided\n");
        }
    }
}

fn hop_lines(out: &mut String, source: &SourceFile, hop: &Hop, stop: &str) {
    let pad = " ".repeat(4 + STAGE_WIDTH);
    let decision = if hop.dropped {
        format!("{stop}: {}", hop.decision)
    } else {
        hop.decision.clone()
    };
    out.push_str(&format!(
        "    {:<w$}{decision}\n",
        hop.stage.as_str(),
        w = STAGE_WIDTH
    ));
    if let Some((before, after)) = &hop.rewrite {
        let changes = rewrite_words(before, after);
        if !changes.is_empty() {
            out.push_str(&format!("{pad}{changes}\n"));
        }
    }
    if let Some(at) = hop.span.and_then(|s| location(source, s)) {
        out.push_str(&format!("{pad}{at}\n"));
    }
}

/// `src 10.10.11.101 -> 52.58.125.207, dport 80 -> 8080`.
pub fn rewrite_words(before: &Packet, after: &Packet) -> String {
    let mut parts = Vec::new();
    if before.src != after.src {
        parts.push(format!("src {} -> {}", before.src, after.src));
    }
    if before.dst != after.dst {
        parts.push(format!("dst {} -> {}", before.dst, after.dst));
    }
    if before.sport != after.sport {
        parts.push(format!("sport {} -> {}", before.sport, after.sport));
    }
    if before.dport != after.dport {
        parts.push(format!("dport {} -> {}", before.dport, after.dport));
    }
    parts.join(", ")
}

/// `file.np:21 | nat dnat web-in 52.58.125.207 -> web01`: where a span
/// starts, with the text of that line.
fn location(source: &SourceFile, span: Span) -> Option<String> {
    let (line, text) = line_of(source, span)?;
    Some(format!("{}:{line} | {text}", source.path))
}

/// The 1-based line a span starts on and that line's text, trimmed.
fn line_of(source: &SourceFile, span: Span) -> Option<(usize, String)> {
    let text: &str = &source.text;
    let start = span.start as usize;
    if start > text.len() || !text.is_char_boundary(start) {
        return None;
    }
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = source.line_col(span.start).line;
    let shown = without_comment(text.get(line_start..line_end)?).trim();
    // A quoted line is a reminder of the statement, not the statement: a
    // megabyte-long line is cut like the human output's snippets.
    Some((line, super::visible(shown, super::MAX_LINE_CHARS)))
}

/// A line without its trailing `# comment`: the quoted line should show the
/// statement, and a `#` inside a string does not start a comment.
fn without_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..i],
            _ => {}
        }
    }
    line
}

// ------------------------------------------------------------------ JSON

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Endpoint<'a> {
    input: &'a str,
    address: String,
}

#[derive(Serialize)]
struct JsonPacket {
    src: String,
    dst: String,
    protocol: u8,
    protocol_name: String,
    sport: u16,
    dport: u16,
}

impl From<&Packet> for JsonPacket {
    fn from(p: &Packet) -> JsonPacket {
        JsonPacket {
            src: p.src.to_string(),
            dst: p.dst.to_string(),
            protocol: p.proto,
            protocol_name: crate::sim::proto_name(p.proto),
            sport: p.sport,
            dport: p.dport,
        }
    }
}

#[derive(Serialize)]
struct Location {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    text: String,
}

fn json_location(source: &SourceFile, span: Option<Span>) -> Option<Location> {
    let span = span?;
    let (start, end) = source.range(span);
    let (_, text) = line_of(source, span)?;
    Some(Location {
        file: source.path.clone(),
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
        text,
    })
}

#[derive(Serialize)]
struct JsonHop {
    node: String,
    stage: &'static str,
    decision: String,
    dropped: bool,
    before: Option<JsonPacket>,
    after: Option<JsonPacket>,
    location: Option<Location>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum JsonOutcome {
    Delivered {
        to: String,
        packet: JsonPacket,
    },
    Dropped {
        reason: String,
        help: String,
        location: Option<Location>,
    },
}

#[derive(Serialize)]
struct JsonTrace {
    sent: JsonPacket,
    hops: Vec<JsonHop>,
    outcome: JsonOutcome,
}

#[derive(Serialize)]
struct JsonFailure {
    direction: &'static str,
    decided: bool,
    reason: String,
    help: String,
    location: Option<Location>,
}

#[derive(Serialize)]
struct Document<'a> {
    tool: Tool,
    file: &'a str,
    source: Endpoint<'a>,
    destination: Endpoint<'a>,
    at: Option<Endpoint<'a>>,
    service: &'a str,
    reaches: bool,
    forward: JsonTrace,
    reply: Option<JsonTrace>,
    failure: Option<JsonFailure>,
}

/// The inputs as typed and the addresses they resolved to, for the JSON
/// document.
#[derive(Clone, Debug)]
pub struct TraceInputs<'a> {
    pub src: (&'a str, std::net::IpAddr),
    pub dst: (&'a str, std::net::IpAddr),
    pub at: Option<(&'a str, std::net::IpAddr)>,
}

fn json_trace(source: &SourceFile, model: &Model, t: &Trace) -> JsonTrace {
    JsonTrace {
        sent: (&t.sent).into(),
        hops: t
            .hops
            .iter()
            .map(|h| JsonHop {
                node: h.node.clone(),
                stage: h.stage.key(),
                decision: h.decision.clone(),
                dropped: h.dropped,
                before: h.rewrite.as_ref().map(|(b, _)| b.into()),
                after: h.rewrite.as_ref().map(|(_, a)| a.into()),
                location: json_location(source, h.span),
            })
            .collect(),
        outcome: match &t.outcome {
            Outcome::Delivered { party, header } => JsonOutcome::Delivered {
                to: party.describe(model),
                packet: header.into(),
            },
            Outcome::Dropped {
                reason, span, help, ..
            } => JsonOutcome::Dropped {
                reason: reason.clone(),
                help: help.clone(),
                location: json_location(source, *span),
            },
        },
    }
}

fn endpoint<'a>((input, addr): (&'a str, std::net::IpAddr)) -> Endpoint<'a> {
    Endpoint {
        input,
        address: addr.to_string(),
    }
}

/// The JSON rendering of a flow: one pretty-printed document and a newline.
pub fn render_trace_json(
    source: &SourceFile,
    model: &Model,
    title: &TraceTitle,
    inputs: &TraceInputs<'_>,
    flow: &FlowResult,
) -> serde_json::Result<String> {
    let doc = Document {
        tool: Tool {
            name: "netproof",
            version: env!("CARGO_PKG_VERSION"),
        },
        file: &source.path,
        source: endpoint(inputs.src),
        destination: endpoint(inputs.dst),
        at: inputs.at.map(endpoint),
        service: &title.service,
        reaches: flow.reaches,
        forward: json_trace(source, model, &flow.forward),
        reply: flow.reply.as_ref().map(|r| json_trace(source, model, r)),
        failure: flow.failure.as_ref().map(|f| JsonFailure {
            direction: f.direction.as_str(),
            decided: f.decided,
            reason: f.reason.clone(),
            help: f.help.clone(),
            location: json_location(source, f.span),
        }),
    };
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    Ok(text)
}
