//! NP905 undecided-expectation: an expectation the engine did not decide,
//! and why.
//!
//! netproof never passes what it did not check, and never fails it either:
//! an expectation it cannot decide has no verdict (`"holds": null` in the
//! JSON) and this finding, which says why and what to change. There are
//! three reasons. Some of its flows reach something this version does not
//! model (the engine's *unsupported* leaves: the SDDC's management network),
//! or take a path whose outcome depends on something a design cannot state
//! (a Hyper-V NAT gateway whose external address is private sends to the
//! internet through a NAT device in front of it that the language has no
//! element for; docs/forwarding.md, "VM network"); both are
//! [`Why::NotModelled`]. And size: an expectation's flow set has one box
//! per source range, destination range and protocol range, and one whose
//! set would exceed [`MAX_FLOW_BOXES`] is not walked (see that constant for
//! the costs).

use crate::diagnostic::Diagnostic;
use crate::engine::services::MAX_FLOW_BOXES;
use crate::model::Expectation;
use crate::registry::Code;
use crate::span::Span;

/// Why an expectation was not decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// Its flow set would have `boxes` boxes: `src` source ranges times
    /// `dst` destination ranges, over the service list's protocol ranges.
    TooLarge { boxes: u128, src: usize, dst: usize },
    /// Some of its flows (and no decided failure) reach an element this
    /// version does not model, or whose outcome depends on something the
    /// design cannot state: the walk's reason, the element where the path
    /// stops, and what to do meanwhile.
    NotModelled {
        reason: String,
        at: Span,
        help: String,
    },
}

impl Why {
    /// Why, as a clause.
    pub fn reason(&self) -> String {
        match self {
            Why::TooLarge { boxes, src, dst } => format!(
                "its {} times {} over its services make {} combinations to prove, more than \
                 the {} one expectation is decided over",
                count(
                    *src as u128,
                    "source address range",
                    "source address ranges"
                ),
                count(
                    *dst as u128,
                    "destination address range",
                    "destination address ranges"
                ),
                thousands(*boxes),
                thousands(MAX_FLOW_BOXES),
            ),
            Why::NotModelled { reason, .. } => {
                format!("some of its flows reach a point where {reason}")
            }
        }
    }

    /// What to do about it.
    pub fn help(&self) -> &str {
        match self {
            Why::TooLarge { .. } => {
                "name prefixes or ranges rather than lists of single addresses (10.0.1.0/24 \
                 is one range, where its 256 addresses listed one by one are 256), or split \
                 the expectation into several over parts of the lists"
            }
            Why::NotModelled { help, .. } => help,
        }
    }
}

/// The finding on an expectation that was not decided. A too-large
/// expectation is long: the finding points at its head (`expect reach`),
/// not at the whole of its lists, which the message counts instead. One
/// that reaches something not modelled also labels that element.
pub fn diagnostic(e: &Expectation, why: Why) -> Diagnostic {
    let span = match why {
        Why::TooLarge { .. }
            if e.src.span.start > e.span.start && e.src.span.start <= e.span.end =>
        {
            Span {
                start: e.span.start,
                end: e.src.span.start,
            }
        }
        Why::TooLarge { .. } | Why::NotModelled { .. } => e.span,
    };
    let d = Diagnostic::new(
        Code::NP905,
        format!("expectation not decided: {}", why.reason()),
        span,
        "not checked: neither holds nor fails",
    )
    .with_help(why.help());
    match why {
        Why::NotModelled { at, .. } if !at.is_empty() && at != span => {
            d.with_label(at, "what happens past this is not decided")
        }
        _ => d,
    }
}

fn count(n: u128, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// `1234567` as `1,234,567`.
fn thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits_in_threes() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_048_576), "1,048,576");
    }

    #[test]
    fn the_reason_names_both_lists_and_the_limit() {
        let why = Why::TooLarge {
            boxes: 2_000_000,
            src: 500,
            dst: 1,
        };
        assert_eq!(
            why.reason(),
            "its 500 source address ranges times 1 destination address range over its \
             services make 2,000,000 combinations to prove, more than the 500,000 one \
             expectation is decided over"
        );
    }
}
