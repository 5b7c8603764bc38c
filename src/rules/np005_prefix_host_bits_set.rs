//! NP005 prefix-host-bits-set: `10.0.0.1/24` has bits set past its length.
//!
//! The parser reports it with a fix to the network address and then carries
//! on with the corrected prefix, so nothing downstream sees host bits.

use crate::diagnostic::{Diagnostic, Edit};
use crate::registry::Code;
use crate::span::Span;
use ipnet::IpNet;

/// `written` is the prefix as it appears in the text; `net` is the same
/// prefix with its host bits cleared.
pub fn host_bits_set(span: Span, written: &str, net: IpNet) -> Diagnostic {
    let canonical = net.to_string();
    Diagnostic::new(
        Code::NP005,
        format!("prefix `{written}` has host bits set"),
        span,
        format!("the address part has bits set past /{}", net.prefix_len()),
    )
    .with_help(format!(
        "a prefix names a network, so the bits past its length must be zero: write `{canonical}`; \
         to name the single address, write `{}` without a length",
        written.split('/').next().unwrap_or(written)
    ))
    .with_fix(
        format!("replace `{written}` with `{canonical}`"),
        vec![Edit {
            span,
            replacement: canonical,
        }],
    )
}
