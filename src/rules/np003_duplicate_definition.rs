//! NP003 duplicate-definition: a name is declared twice in one scope.
//!
//! Emitted while lowering declares names (`model::lower`): two declarations
//! in one site or at top level, two rules of one firewall with one name, two
//! routes for one prefix in a table, two ACL rules with one number, two main
//! route tables, and user services that redeclare a built-in. The first
//! declaration stays the one references resolve to.
pub use crate::registry::Code::NP003 as CODE;
