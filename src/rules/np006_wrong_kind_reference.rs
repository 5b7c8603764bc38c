//! NP006 wrong-kind-reference: a name refers to something of the wrong kind.
//!
//! Emitted by name resolution: resolution is kind-directed, so when the only
//! declarations with a name are of kinds the position does not accept (a
//! route to a subnet, `in` naming a host), or belong to another site than
//! the position requires, the reference is reported with the declaration it
//! found.
pub use crate::registry::Code::NP006 as CODE;
