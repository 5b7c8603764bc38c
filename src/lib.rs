//! netproof: a policy-as-code linter and static analyzer for hybrid-cloud
//! network designs.
//!
//! Data flows one way (see ARCHITECTURE.md):
//! text -> [`syntax`] tree -> [`model`] -> analyses ([`rules`]) ->
//! [`diagnostic`]s -> emitters ([`render`]). The command line ([`cli`]) sits on
//! top and is the only module that knows about arguments and exit statuses.

pub mod check;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod engine;
pub mod files;
pub mod fix;
pub mod format;
pub mod gen;
pub mod lsp;
pub mod model;
pub mod reach;
pub mod registry;
pub mod render;
pub mod rules;
pub mod sim;
pub mod span;
pub mod suppress;
pub mod syntax;
