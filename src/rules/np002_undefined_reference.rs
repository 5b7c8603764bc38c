//! NP002 undefined-reference: a name resolves to nothing, or to several
//! things.
//!
//! Emitted by name resolution (`model::scope`), which knows the scopes: it
//! suggests the closest declared name of a fitting kind, or lists the
//! candidates of an ambiguous name with the qualified forms that pick one.
pub use crate::registry::Code::NP002 as CODE;
