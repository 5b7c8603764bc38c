//! Scopes and name resolution.
//!
//! Sites, services and connections live in the top-level scope; everything
//! declared inside a site lives in that site's scope. A reference is looked up
//! in its own site first, then globally (the top level and every site), then
//! as `site.name`. Lookups are kind-directed: only declarations of a kind the
//! position accepts are candidates, which is what keeps `web-in` the NAT rule
//! and `web-in` the firewall rule, or `app01` in two VM networks, from being
//! ambiguous where only one of them fits.
//!
//! The maps hash names with FNV rather than the standard library's SipHash:
//! the names come from the design being checked, not from a network peer
//! that could choose colliding keys, and a design of a million segments
//! spent a sixth of its run declaring names (SipHash, and a second key
//! string per declaration, now allocated only for a name new to the file).

use super::{Entity, SiteId};
use crate::diagnostic::Diagnostic;
use crate::rules::{np002_undefined_reference as np002, np006_wrong_kind_reference as np006};
use crate::span::Span;
use crate::syntax::ast::DeclKind;
use fnv::FnvHashMap as HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a reference position accepts, and how to say so in a message.
#[derive(Clone, Copy)]
pub(super) struct Want {
    /// Short, without an article, for labels: "segment", "route target".
    pub noun: &'static str,
    /// A longer description for messages, when the noun alone is not clear:
    /// "a route target (an internet gateway, NAT gateway, ...)".
    pub detail: Option<&'static str>,
    pub ok: fn(DeclKind) -> bool,
}

impl Want {
    pub const fn new(noun: &'static str, ok: fn(DeclKind) -> bool) -> Want {
        Want {
            noun,
            detail: None,
            ok,
        }
    }

    pub const fn detailed(self, detail: &'static str) -> Want {
        Want {
            detail: Some(detail),
            ..self
        }
    }

    /// What the position needs, as a message says it: "a segment".
    pub fn what(&self) -> String {
        self.detail
            .map_or_else(|| with_article(self.noun), str::to_string)
    }
}

#[derive(Clone, Debug)]
pub(super) struct Symbol {
    pub kind: DeclKind,
    /// `None` for a statement that had a syntax error: its name is known,
    /// but it produced no element. References to it resolve silently.
    pub entity: Option<Entity>,
    pub name_span: Span,
    pub site: Option<SiteId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum ScopeId {
    Top,
    Site(SiteId),
}

/// How many "did you mean" searches to run; past this a design is so broken
/// that suggestions are noise, and each search scans every name.
const SUGGESTION_BUDGET: usize = 200;

#[derive(Default)]
pub(super) struct Scopes {
    symbols: Vec<Symbol>,
    top: HashMap<String, u32>,
    sites: Vec<HashMap<String, u32>>,
    /// Every symbol of every scope by name, for global lookup.
    everywhere: HashMap<String, Vec<u32>>,
    /// The display names of sites, for messages.
    site_names: Vec<String>,
    /// Atomic rather than a `Cell` only so that `Scopes` is `Sync`: lowering
    /// reads it from several threads, but only the sequential pass, through
    /// `resolve`, ever spends it (see `lookup`).
    suggestions_left: AtomicUsize,
}

pub(super) enum Resolved {
    Found(Entity),
    /// The name belongs to a broken statement; nothing more to say.
    Broken,
}

impl Scopes {
    pub fn new() -> Scopes {
        Scopes {
            suggestions_left: AtomicUsize::new(SUGGESTION_BUDGET),
            ..Scopes::default()
        }
    }

    pub fn add_site_scope(&mut self, name: &str) {
        self.sites.push(HashMap::default());
        self.site_names.push(name.to_string());
    }

    /// Declares `name` in `scope`. When the scope already has it, returns the
    /// first declaration's span and kind so the caller can report NP003; the
    /// first declaration stays the one references resolve to.
    pub fn declare(
        &mut self,
        scope: ScopeId,
        name: &str,
        sym: Symbol,
    ) -> Result<(), (Span, DeclKind)> {
        let map = match scope {
            ScopeId::Top => &mut self.top,
            ScopeId::Site(s) => match self.sites.get_mut(s.index()) {
                Some(m) => m,
                None => return Ok(()),
            },
        };
        let id = self.symbols.len() as u32;
        match map.entry(name.to_string()) {
            Entry::Occupied(first) => {
                let f = &self.symbols[*first.get() as usize];
                return Err((f.name_span, f.kind));
            }
            Entry::Vacant(slot) => {
                slot.insert(id);
            }
        }
        // Names repeat across sites (`web` in every VPC): the key is only
        // allocated for a name seen for the first time.
        match self.everywhere.get_mut(name) {
            Some(ids) => ids.push(id),
            None => {
                self.everywhere.insert(name.to_string(), vec![id]);
            }
        }
        self.symbols.push(sym);
        Ok(())
    }

    /// Looks up a name declared directly in one scope, whatever its kind.
    pub fn get(&self, scope: ScopeId, name: &str) -> Option<&Symbol> {
        let map = match scope {
            ScopeId::Top => &self.top,
            ScopeId::Site(s) => self.sites.get(s.index())?,
        };
        map.get(name).map(|&i| &self.symbols[i as usize])
    }

    /// Resolves a reference written as `text` at `span`, from inside `from`
    /// (or the top level), to a declaration of a kind `want` accepts.
    pub fn resolve(
        &self,
        text: &str,
        span: Span,
        from: Option<SiteId>,
        want: Want,
    ) -> Result<Resolved, Box<Diagnostic>> {
        let (fitting, other) = match self.candidates(text, from, want) {
            Ok(resolved) => return Ok(resolved),
            Err(c) => c,
        };
        match fitting.len() {
            0 if !other.is_empty() => Err(Box::new(self.wrong_kind(text, span, want, other[0]))),
            0 => Err(Box::new(self.undefined(text, span, from, want))),
            _ => Err(Box::new(self.ambiguous(text, span, &fitting))),
        }
    }

    /// `resolve` when it succeeds, `None` when it would report an error.
    /// Unlike `resolve` it never builds the finding, so it never spends the
    /// suggestion budget: the parallel part of lowering uses it and leaves
    /// every element with an error to the sequential part, which then
    /// reports exactly what a sequential lowering would have.
    pub fn lookup(&self, text: &str, from: Option<SiteId>, want: Want) -> Option<Resolved> {
        self.candidates(text, from, want).ok()
    }

    /// The one declaration `text` resolves to, or the fitting and other
    /// candidates when there is not exactly one that fits.
    #[allow(clippy::type_complexity)]
    fn candidates(
        &self,
        text: &str,
        from: Option<SiteId>,
        want: Want,
    ) -> Result<Resolved, (Vec<&Symbol>, Vec<&Symbol>)> {
        let found = |sym: &Symbol| match sym.entity {
            Some(e) => Resolved::Found(e),
            None => Resolved::Broken,
        };
        if let Some(site) = from {
            if let Some(sym) = self.get(ScopeId::Site(site), text) {
                if (want.ok)(sym.kind) {
                    return Ok(found(sym));
                }
            }
        }
        let mut fitting: Vec<&Symbol> = Vec::new();
        let mut other: Vec<&Symbol> = Vec::new();
        for &i in self.everywhere.get(text).into_iter().flatten() {
            let sym = &self.symbols[i as usize];
            if (want.ok)(sym.kind) {
                fitting.push(sym);
            } else {
                other.push(sym);
            }
        }
        if fitting.is_empty() {
            // Names may contain dots, so a qualified reading is tried only
            // when the full text names nothing that fits.
            for (i, _) in text.match_indices('.') {
                let (site_name, rest) = (&text[..i], &text[i + 1..]);
                let Some(site_sym) = self.get(ScopeId::Top, site_name) else {
                    continue;
                };
                let Some(Entity::Site(site)) = site_sym.entity else {
                    continue;
                };
                if let Some(sym) = self.get(ScopeId::Site(site), rest) {
                    if (want.ok)(sym.kind) {
                        fitting.push(sym);
                    } else {
                        other.push(sym);
                    }
                }
            }
        }
        match fitting.as_slice() {
            [one] => Ok(found(one)),
            _ => Err((fitting, other)),
        }
    }

    fn scope_phrase(&self, sym: &Symbol) -> String {
        match sym.site {
            Some(s) => format!(
                "in `{}`",
                self.site_names.get(s.index()).map_or("?", |n| n.as_str())
            ),
            None => "at top level".to_string(),
        }
    }

    fn wrong_kind(&self, text: &str, span: Span, want: Want, sym: &Symbol) -> Diagnostic {
        np006::wrong_kind(
            text,
            span,
            sym.kind.article_noun(),
            &want.what(),
            &with_article(want.noun),
            sym.name_span,
        )
    }

    /// The finding for a name that fits several declarations. Only the
    /// first [`np002::MAX_CANDIDATES`] are described (the rest are counted):
    /// a name declared in a thousand sites and referenced a thousand times
    /// would otherwise make a million labels, quadratic in the file.
    fn ambiguous(&self, text: &str, span: Span, candidates: &[&Symbol]) -> Diagnostic {
        let total = candidates.len();
        let candidates: Vec<np002::Candidate> = candidates
            .iter()
            .take(np002::MAX_CANDIDATES)
            .map(|sym| np002::Candidate {
                span: sym.name_span,
                description: format!("{} {}", sym.kind.article_noun(), self.scope_phrase(sym)),
                qualified: sym
                    .site
                    .and_then(|s| self.site_names.get(s.index()))
                    .map(|site| format!("{site}.{text}")),
            })
            .collect();
        np002::ambiguous(text, span, &candidates, total)
    }

    fn undefined(&self, text: &str, span: Span, from: Option<SiteId>, want: Want) -> Diagnostic {
        // `site.name` where the site exists: say what the site lacks, and
        // suggest among that site's names only.
        if let Some((site, rest)) = self.qualified_site(text) {
            let site_name = self
                .site_names
                .get(site.index())
                .map_or("?", |n| n.as_str());
            return np002::undefined(
                text,
                span,
                format!("`{site_name}` declares no {} named `{rest}`", want.noun),
                self.suggest_in(rest, Some(site), want, true)
                    .map(|b| format!("{site_name}.{b}")),
                format!("declare `{rest}` in `{site_name}`, or fix the name"),
            );
        }
        np002::undefined(
            text,
            span,
            format!("no {} is named `{text}`", want.noun),
            self.suggest_in(text, from, want, false),
            format!(
                "declare {} named `{text}`, or fix the name",
                with_article(want.noun)
            ),
        )
    }

    /// The site and the rest of a `site.name` reference, when the part
    /// before a dot names a declared site.
    fn qualified_site<'t>(&self, text: &'t str) -> Option<(SiteId, &'t str)> {
        text.match_indices('.').find_map(|(i, _)| {
            let sym = self.get(ScopeId::Top, &text[..i])?;
            match sym.entity {
                Some(Entity::Site(s)) => Some((s, &text[i + 1..])),
                _ => None,
            }
        })
    }

    /// The closest declared name of a fitting kind, if one is close enough to
    /// be a plausible typo. With `only_site`, only names declared in `site`.
    fn suggest_in(
        &self,
        text: &str,
        site: Option<SiteId>,
        want: Want,
        only_site: bool,
    ) -> Option<String> {
        let left = self.suggestions_left.load(Ordering::Relaxed);
        if left == 0 {
            return None;
        }
        self.suggestions_left.store(left - 1, Ordering::Relaxed);
        let limit = (text.chars().count() / 3).max(1);
        let mut best: Option<(usize, bool, &str)> = None;
        for (name, ids) in &self.everywhere {
            let Some(sym) = ids
                .iter()
                .map(|&i| &self.symbols[i as usize])
                .find(|s| (want.ok)(s.kind) && (!only_site || s.site == site))
            else {
                continue;
            };
            let dist = strsim::levenshtein(text, name);
            if dist > limit {
                continue;
            }
            // Prefer names of the current site, then the closest, then the
            // alphabetically first, so the suggestion is deterministic.
            let remote = site.is_some() && sym.site != site;
            let key = (dist, remote, name.as_str());
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
        best.map(|(_, _, n)| n.to_string())
    }
}

/// "an instance", "a segment".
pub(super) fn with_article(noun: &str) -> String {
    // "sddc" and "nlb" are read letter by letter: "an sddc", "an nlb".
    let vowel = noun.starts_with(['a', 'e', 'i', 'o', 'u'])
        || noun.starts_with("sddc")
        || noun.starts_with("nlb");
    format!("{} {noun}", if vowel { "an" } else { "a" })
}
