//! Inline suppressions: `# netproof: ignore NP201, NP302 -- reason`.
//!
//! A suppression comment silences the findings of the rules it names whose
//! primary span starts on its target line: its own line when it trails a
//! statement, the next line when it stands alone on its line. It is applied
//! to every file, with or without a `netproof.toml`, and before the
//! configuration's `select`/`ignore`: a suppression counts as used when a
//! finding it names would have been reported there, so ignoring a rule in
//! the configuration does not make every inline suppression of it noisy.
//! A suppression that silences nothing, names no rule, or cannot be read is
//! reported as NP007 (`rules::np007_unused_suppression`); "silences
//! nothing" only counts for a rule that ran on the whole design.

use crate::diagnostic::Diagnostic;
use crate::registry::{Code, RULES};
use crate::rules::np007_unused_suppression as np007;
use crate::span::{LineIndex, Span};
use std::collections::HashMap;

/// Codes that no comment and no configuration can silence or lower below
/// error: the front-end errors. A file with one of them is analysed
/// incompletely (expectations are not evaluated, some rules do not run), so
/// hiding it would let a design that does not even parse pass.
pub const ALWAYS_REPORTED: &[Code] = &[
    Code::NP001,
    Code::NP002,
    Code::NP003,
    Code::NP004,
    Code::NP005,
    Code::NP006,
];

/// One well-formed `ignore` directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// The 1-based line whose findings it silences.
    pub line: usize,
    /// Each code it names, with the span of the code in the comment.
    pub codes: Vec<(Code, Span)>,
    /// What deleting the comment removes (the whole line when the comment
    /// stands alone), when every word of it is a code it may suppress; a
    /// comment with a problem is left for a person to correct.
    pub removal: Option<Span>,
}

/// What the comments of one file say: the suppressions, and an NP007 for
/// every comment (or code in one) that is not a usable suppression.
#[derive(Debug, Default)]
pub struct Directives {
    pub suppressions: Vec<Suppression>,
    pub problems: Vec<Diagnostic>,
}

/// The marker that makes a comment a directive, after `#` and blanks.
const MARKER: &str = "netproof:";

/// Reads every `# netproof:` comment of `text`. `comments` are the comment
/// spans the lexer recorded (each starts at its `#`).
pub fn directives(text: &str, lines: &LineIndex, comments: &[Span]) -> Directives {
    let mut out = Directives::default();
    for &span in comments {
        let Some(comment) = text.get(span.range()) else {
            continue;
        };
        let body = comment.strip_prefix('#').unwrap_or(comment);
        let after_blanks = body.trim_start();
        let is_directive = after_blanks
            .get(..MARKER.len())
            .is_some_and(|m| m.eq_ignore_ascii_case(MARKER));
        if !is_directive {
            continue;
        }
        // Offsets of the directive's words are relative to the comment, so
        // that each code gets its own span.
        let rest_at = comment.len() - after_blanks.len() + MARKER.len();
        let rest = &comment[rest_at..];
        let words_end = rest.find("--").unwrap_or(rest.len());
        let words = words(&rest[..words_end], span.start as usize + rest_at);
        let line = target_line(text, lines, span);
        let mut words = words.into_iter();
        let Some((verb, verb_span)) = words.next() else {
            out.problems.push(np007::malformed(
                span,
                "nothing follows `netproof:` (the directive is `ignore` followed by rule codes)",
            ));
            continue;
        };
        if !verb.eq_ignore_ascii_case("ignore") {
            out.problems.push(np007::malformed(
                verb_span,
                format!("`{verb}` is not a directive; the only directive is `ignore`"),
            ));
            continue;
        }
        let mut codes: Vec<(Code, Span)> = Vec::new();
        let mut named_any = false;
        let problems_before = out.problems.len();
        for (word, word_span) in words {
            named_any = true;
            match code_of(word) {
                Some(code) if ALWAYS_REPORTED.contains(&code) => {
                    out.problems.push(np007::not_suppressible(word_span, code));
                }
                Some(code) => {
                    if !codes.iter().any(|(c, _)| *c == code) {
                        codes.push((code, word_span));
                    }
                }
                None => out
                    .problems
                    .push(np007::unknown_code(word_span, word, closest_code(word))),
            }
        }
        if !named_any {
            out.problems.push(np007::malformed(
                span,
                "`ignore` names no rule code (write the codes to suppress, such as `ignore NP201`)",
            ));
            continue;
        }
        if !codes.is_empty() {
            let removal =
                (out.problems.len() == problems_before).then(|| removal(text, lines, span));
            out.suppressions.push(Suppression {
                line,
                codes,
                removal,
            });
        }
    }
    out
}

/// Removes the findings that suppressions silence and appends an NP007 for
/// each suppressed code that silenced nothing and for every malformed
/// directive. Findings of [`ALWAYS_REPORTED`] rules are never removed.
///
/// `ran` says whether a code's rule looked at the whole file. A suppression
/// of a rule that did not (a behaviour rule, or one that needs a complete
/// model, in a file with front-end errors) silenced nothing because nothing
/// was looked for: that is no evidence that it is stale, so it is not
/// reported, and `--fix` cannot delete a justification a person wrote.
pub fn apply(
    text: &str,
    lines: &LineIndex,
    comments: &[Span],
    diagnostics: &mut Vec<Diagnostic>,
    ran: impl Fn(Code) -> bool,
) {
    let Directives {
        suppressions,
        mut problems,
    } = directives(text, lines, comments);
    if !suppressions.is_empty() {
        // (line, code) -> has it silenced anything? Several comments aimed at
        // one line share an entry, so all of them count as used.
        let mut used: HashMap<(usize, Code), bool> = suppressions
            .iter()
            .flat_map(|s| {
                s.codes
                    .iter()
                    .map(move |&(code, _)| ((s.line, code), false))
            })
            .collect();
        diagnostics.retain(|d| {
            let line = lines.line_col(text, d.primary.span.start).line;
            match used.get_mut(&(line, d.code)) {
                Some(flag) => {
                    *flag = true;
                    false
                }
                None => true,
            }
        });
        for s in &suppressions {
            let unused: Vec<(Code, Span)> = s
                .codes
                .iter()
                .copied()
                .filter(|&(code, _)| used.get(&(s.line, code)) == Some(&false))
                .filter(|&(code, _)| ran(code))
                .collect();
            // When the whole comment suppresses nothing, deleting it is the
            // fix; it goes on the first finding only, so that `--fix` lists
            // it once.
            let whole = unused.len() == s.codes.len();
            for (i, &(code, span)) in unused.iter().enumerate() {
                let d = np007::unused(span, code, s.line);
                problems.push(match s.removal {
                    Some(removal) if whole && i == 0 => np007::with_removal(d, removal),
                    _ => d,
                });
            }
        }
    }
    diagnostics.extend(problems);
}

/// The line a comment's suppression applies to: its own line when code
/// precedes it there, the next line when it stands alone.
fn target_line(text: &str, lines: &LineIndex, comment: Span) -> usize {
    let line = lines.line_col(text, comment.start).line;
    let line_start = lines.line_start(line).unwrap_or(0) as usize;
    let before = text.get(line_start..comment.start as usize).unwrap_or("");
    if before.trim().is_empty() {
        line + 1
    } else {
        line
    }
}

/// The text to delete to remove a suppression comment: the whole line
/// (with its line break) when the comment stands alone on it, else the
/// comment and the blanks before it. A `\r` before the line break stays, so
/// CRLF files keep their line endings.
fn removal(text: &str, lines: &LineIndex, comment: Span) -> Span {
    let line = lines.line_col(text, comment.start).line;
    let line_start = lines.line_start(line).unwrap_or(0) as usize;
    let start = comment.start as usize;
    let mut end = comment.end as usize;
    let before = text.get(line_start..start).unwrap_or("");
    if before.trim().is_empty() {
        // The comment runs to the end of its line, so the line break (if
        // any) follows it directly.
        end += usize::from(text.as_bytes().get(end) == Some(&b'\n'));
        return Span::new(line_start, end);
    }
    if text.get(..end).is_some_and(|t| t.ends_with('\r')) {
        end -= 1;
    }
    Span::new(line_start + before.trim_end().len(), end)
}

/// The words of `s` (separated by blanks or commas), each with its span in
/// the file, given that `s` starts at byte `base`.
fn words(s: &str, base: usize) -> Vec<(&str, Span)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
        let separator = c.is_whitespace() || c == ',';
        match (start, separator) {
            (None, false) => start = Some(i),
            (Some(from), true) => {
                out.push((&s[from..i], Span::new(base + from, base + i)));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The rule whose code is `word`, in any case.
fn code_of(word: &str) -> Option<Code> {
    RULES
        .iter()
        .find(|r| r.code.as_str().eq_ignore_ascii_case(word))
        .map(|r| r.code)
}

/// The registered code closest to a mistyped one, when it is close enough
/// to be what was meant.
pub(crate) fn closest_code(word: &str) -> Option<Code> {
    let upper = word.to_ascii_uppercase();
    RULES
        .iter()
        .map(|r| (strsim::levenshtein(&upper, r.code.as_str()), r.code))
        .filter(|&(distance, _)| distance <= 2)
        .min()
        .map(|(_, code)| code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str) -> Vec<Span> {
        crate::syntax::parse(text).tree.comments
    }

    fn read(text: &str) -> Directives {
        directives(text, &LineIndex::new(text), &comments(text))
    }

    #[test]
    fn trailing_comment_targets_its_line_and_lone_comment_the_next() {
        let text = "vpc a 10.0.0.0/16 { # netproof: ignore NP306\n}\n# netproof: ignore NP205, NP302 NP303 -- why\nx\n";
        let d = read(text);
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        let got: Vec<(usize, Vec<&str>)> = d
            .suppressions
            .iter()
            .map(|s| (s.line, s.codes.iter().map(|(c, _)| c.as_str()).collect()))
            .collect();
        assert_eq!(
            got,
            [(1, vec!["NP306"]), (4, vec!["NP205", "NP302", "NP303"])]
        );
        // Each code's span is the code as written.
        let (_, span) = d.suppressions[1].codes[1];
        assert_eq!(span.slice(text), "NP302");
    }

    #[test]
    fn ordinary_comments_are_not_directives() {
        let d = read("# a note about netproof: ignore this\n#netproof is great\n");
        assert!(d.suppressions.is_empty() && d.problems.is_empty());
    }

    #[test]
    fn malformed_directives_say_what_is_wrong() {
        let messages = |text: &str| -> Vec<String> {
            read(text).problems.into_iter().map(|p| p.message).collect()
        };
        let typo = messages("# netproof: ignroe NP201\n");
        assert_eq!(typo.len(), 1);
        assert!(typo[0].contains("`ignroe` is not a directive"), "{typo:?}");
        let empty = messages("# netproof: ignore -- no code given\n");
        assert!(empty[0].contains("names no rule code"), "{empty:?}");
        let nothing = messages("# netproof:\n");
        assert!(nothing[0].contains("nothing follows"), "{nothing:?}");
        let unknown = read("# netproof: ignore NP2O1\n");
        assert_eq!(unknown.problems.len(), 1);
        assert!(unknown.problems[0]
            .message
            .contains("`NP2O1` is not a rule code"));
        assert!(unknown.problems[0]
            .help
            .as_deref()
            .is_some_and(|h| h.contains("did you mean NP201")));
        let front = messages("# netproof: ignore NP001\n");
        assert!(
            front[0].contains("NP001 (syntax-error) cannot be suppressed"),
            "{front:?}"
        );
    }

    /// The text after applying the fixes of a check without configuration.
    fn fixed(text: &str) -> String {
        let report = crate::check::check_source("t.np", text);
        crate::fix::apply(text, &report.diagnostics).text
    }

    #[test]
    fn a_comment_that_suppresses_nothing_is_removed_by_the_fix() {
        let alone =
            "sddc prod {\n  # netproof: ignore NP205 -- stale\n  segment web 10.10.11.0/24\n}\n";
        assert_eq!(
            fixed(alone),
            "sddc prod {\n  segment web 10.10.11.0/24\n}\n"
        );
        let trailing =
            "sddc prod {\r\n  segment web 10.10.11.0/24   # netproof: ignore NP205, NP302\r\n}\r\n";
        assert_eq!(
            fixed(trailing),
            "sddc prod {\r\n  segment web 10.10.11.0/24\r\n}\r\n"
        );
        // Partly used, or with a problem for a person to look at: no fix.
        let partly =
            "sddc prod {\n  public-ip spare 52.58.125.208  # netproof: ignore NP205 NP302\n}\n";
        assert_eq!(fixed(partly), partly);
        let unknown =
            "sddc prod {\n  segment web 10.10.11.0/24  # netproof: ignore NP205 NP999\n}\n";
        assert_eq!(fixed(unknown), unknown);
    }

    /// A suppression whose rule did not run is not reported, and the fix
    /// never deletes it; the same comment is unused once the rule runs.
    #[test]
    fn a_suppression_is_unused_only_if_its_rule_ran() {
        let text = "sddc prod {\n  # netproof: ignore NP205, NP303 -- approved in SEC-42\n  segment web 10.10.11.0/24\n}\n";
        // Each NP007 as the code it points at and whether it deletes the
        // comment.
        let unused = |ran: &dyn Fn(Code) -> bool| -> Vec<(&str, bool)> {
            let mut diagnostics = Vec::new();
            apply(
                text,
                &LineIndex::new(text),
                &comments(text),
                &mut diagnostics,
                ran,
            );
            diagnostics
                .iter()
                .map(|d| (d.primary.span.slice(text), d.fix.is_some()))
                .collect()
        };
        assert_eq!(unused(&|_| true), [("NP205", true), ("NP303", false)]);
        // NP303 did not run: only NP205 is unused, and since the comment
        // may still be needed for NP303, it is not deleted.
        assert_eq!(unused(&|c| c != Code::NP303), [("NP205", false)]);
        assert_eq!(unused(&|_| false), []);
    }

    #[test]
    fn codes_are_read_in_any_case_and_once() {
        let d = read("# netproof: ignore np201,NP201\n");
        assert_eq!(d.suppressions.len(), 1);
        assert_eq!(d.suppressions[0].codes.len(), 1);
        assert_eq!(d.suppressions[0].codes[0].0, Code::NP201);
    }
}
