//! Hover: on a finding, its rule's page headed by what was found; on a name,
//! what the name resolves to.

use super::convert::LineMap;
use super::symbols::{self, Occurrence, Symbols};
use crate::diagnostic::Diagnostic;
use crate::model::{Entity, Model};

/// The findings whose primary span holds byte `offset` (a cursor just past
/// the span's end still counts, as for names).
pub fn findings_at(diagnostics: &[Diagnostic], offset: usize) -> Vec<&Diagnostic> {
    diagnostics
        .iter()
        .filter(|d| {
            let span = d.primary.span.range();
            span.start <= offset && offset <= span.end
        })
        .collect()
}

/// The markdown for one finding: its message as the heading, the help, then
/// the rule's page (which starts with its own `# NPNNN name` title).
pub fn finding_markdown(d: &Diagnostic) -> String {
    let mut out = format!("**{}** {}\n", d.code, d.message);
    if let Some(help) = &d.help {
        out.push_str(&format!("\n*help:* {help}\n"));
    }
    out.push_str("\n---\n\n");
    out.push_str(d.meta().page.trim_end());
    out.push('\n');
    out
}

/// The markdown for a name: its kind and full name, its address or prefix,
/// its site, and the line that defines it.
pub fn name_markdown(symbols: &Symbols, o: Occurrence, text: &str, lines: &LineMap) -> String {
    let m: &Model = &symbols.model;
    let decl = m.decl(o.entity);
    let kind = kind_word(m, o.entity);
    let mut out = format!("**{kind}** `{}`\n", m.display_name(o.entity));
    let mut facts = Vec::new();
    if let Some(value) = symbols::value(m, o.entity, text) {
        facts.push(format!("- {}: `{value}`", value_word(o.entity)));
    }
    if let Some(site) = symbols::owning_site(m, o.entity) {
        facts.push(format!(
            "- site: {} `{}`",
            kind_word(m, Entity::Site(site)),
            m.site(site).decl.name
        ));
    }
    let line = lines.line_of(decl.name_span.start as usize);
    let implicit = if decl.implicit {
        " (implied by this statement)"
    } else {
        ""
    };
    facts.push(format!("- defined on line {}{implicit}", line + 1));
    out.push('\n');
    out.push_str(&facts.join("\n"));
    out.push_str("\n\n```netproof\n");
    out.push_str(&definition_excerpt(
        lines.line_text(text, line),
        text,
        decl.name_span.start as usize,
    ));
    out.push_str("\n```\n");
    out
}

/// The defining line, trimmed; a line longer than the CLI's excerpts
/// (`render::MAX_LINE_CHARS`) is cut to that many characters from the name,
/// so a hover on a name defined in a megabyte-long line stays small.
fn definition_excerpt(line: &str, text: &str, name_start: usize) -> String {
    let line = line.trim();
    if line.chars().count() <= crate::render::MAX_LINE_CHARS {
        return line.to_string();
    }
    let from_name = text.get(name_start..).unwrap_or(line);
    let from_name = from_name.lines().next().unwrap_or_default();
    let mut out = String::from("… ");
    out.extend(from_name.chars().take(crate::render::MAX_LINE_CHARS));
    if from_name
        .chars()
        .nth(crate::render::MAX_LINE_CHARS)
        .is_some()
    {
        out.push_str(" …");
    }
    out
}

/// The kind as the language writes it: `vm`, `segment`, `public-ip`, `sddc`.
pub fn kind_word(m: &Model, e: Entity) -> &'static str {
    let noun = m.decl_kind(e).article_noun();
    // "an sddc" -> "sddc"; "the internet" -> "internet".
    noun.split_once(' ').map_or(noun, |(_, rest)| rest)
}

fn value_word(e: Entity) -> &'static str {
    match e {
        Entity::Site(_) | Entity::Subnet(_) => "prefix",
        Entity::Group(_) => "members",
        Entity::Service(_) => "ports",
        _ => "address",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Code;
    use crate::span::Span;

    #[test]
    fn a_name_shows_kind_value_site_and_definition_line() {
        let text = "# café\nsddc prod 10.10.0.0/16 {\n  segment web-tier 10.10.11.0/24\n  vm web01 10.10.11.101 in web-tier\n}\n";
        let symbols = Symbols::build(text);
        let lines = LineMap::new(text);
        let at = text.rfind("web-tier").unwrap_or_default();
        let o = symbols.at(text, at).unwrap_or_else(|| panic!("no name"));
        let md = name_markdown(&symbols, o, text, &lines);
        assert!(md.starts_with("**segment** `prod.web-tier`"), "{md}");
        assert!(md.contains("- prefix: `10.10.11.0/24`"), "{md}");
        assert!(md.contains("- site: sddc `prod`"), "{md}");
        assert!(md.contains("- defined on line 3\n"), "{md}");
        assert!(md.contains("segment web-tier 10.10.11.0/24\n```"), "{md}");
    }

    #[test]
    fn a_name_defined_on_a_huge_line_shows_a_bounded_excerpt() {
        let filler = " ".repeat(1_000_000);
        let text = format!("vpc shop 10.0.0.0/16 {{{filler}subnet web 10.0.1.0/24 }}\n");
        let symbols = Symbols::build(&text);
        let lines = LineMap::new(&text);
        let at = text.find("web").unwrap_or_default();
        let o = symbols.at(&text, at).unwrap_or_else(|| panic!("no name"));
        let md = name_markdown(&symbols, o, &text, &lines);
        assert!(md.len() < 2_000, "{} bytes", md.len());
        assert!(md.contains("… web 10.0.1.0/24 }\n```"), "{md}");
    }

    #[test]
    fn a_site_has_no_site_of_its_own() {
        let text = "vpc shop 10.0.0.0/16 {\n  subnet web 10.0.1.0/24\n}\n";
        let symbols = Symbols::build(text);
        let lines = LineMap::new(text);
        let o = symbols.at(text, 5).unwrap_or_else(|| panic!("no name"));
        let md = name_markdown(&symbols, o, text, &lines);
        assert!(md.starts_with("**vpc** `shop`"), "{md}");
        assert!(md.contains("- prefix: `10.0.0.0/16`"), "{md}");
        assert!(!md.contains("- site:"), "{md}");
        assert!(md.contains("- defined on line 1\n"), "{md}");
    }

    #[test]
    fn a_finding_shows_its_message_help_and_rule_page() {
        let d = Diagnostic::new(Code::NP005, "prefix has host bits", Span::new(4, 8), "l")
            .with_help("write the network");
        let md = finding_markdown(&d);
        assert!(md.starts_with("**NP005** prefix has host bits\n"), "{md}");
        assert!(md.contains("*help:* write the network"), "{md}");
        assert!(
            md.contains(d.meta().page.lines().next().unwrap_or("?")),
            "{md}"
        );
        assert_eq!(findings_at(std::slice::from_ref(&d), 3).len(), 0);
        assert_eq!(findings_at(std::slice::from_ref(&d), 4).len(), 1);
        assert_eq!(findings_at(std::slice::from_ref(&d), 8).len(), 1);
        assert_eq!(findings_at(std::slice::from_ref(&d), 9).len(), 0);
    }
}
