//! What applying a pack changes: a typed list that the apply checks (a removal must not strand
//! bookings) and that reads as sentences for an administrator.

use std::fmt;

use crate::domain::{Slug, TenantConfig};

/// A service or an office.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Service,
    Office,
}

/// One change an apply makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    TenantCreated,
    /// Name, zone, languages, branding, limits, plugins or datasets.
    Settings,
    Added(Item, Slug),
    Changed(Item, Slug),
    Removed(Item, Slug),
    /// Plugin modules, datasets or templates.
    Files,
    Logo,
    /// The stored configuration no longer parses and is replaced whole.
    Replaced,
}

impl Item {
    pub fn name(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::Office => "office",
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TenantCreated => f.write_str("tenant created"),
            Self::Settings => f.write_str("tenant settings changed"),
            Self::Added(item, slug) => write!(f, "{} {slug} added", item.name()),
            Self::Changed(item, slug) => write!(f, "{} {slug} changed", item.name()),
            Self::Removed(item, slug) => write!(f, "{} {slug} removed", item.name()),
            Self::Files => f.write_str("pack files changed (plugins, datasets, templates)"),
            Self::Logo => f.write_str("logo changed"),
            Self::Replaced => f.write_str("configuration replaced (the stored one no longer parses)"),
        }
    }
}

/// One change per service or office added, changed or removed, and one for tenant settings.
pub fn diff(old: &TenantConfig, new: &TenantConfig) -> Vec<Change> {
    let mut changes = Vec::new();
    let settings = |c: &TenantConfig| {
        (
            c.name.clone(),
            c.timezone,
            c.locales.clone(),
            c.branding.clone(),
            c.hold_seconds,
            c.require_two_factor,
            c.grid_minutes,
            c.privacy_notice_version.clone(),
            c.limits,
            c.plugins.clone(),
            c.datasets.clone(),
        )
    };
    if settings(old) != settings(new) {
        changes.push(Change::Settings);
    }
    diff_items(Item::Service, &old.services, &new.services, |s| &s.slug, &mut changes);
    diff_items(Item::Office, &old.offices, &new.offices, |o| &o.slug, &mut changes);
    changes
}

fn diff_items<T: PartialEq>(item: Item, old: &[T], new: &[T], slug: impl Fn(&T) -> &Slug, changes: &mut Vec<Change>) {
    for entry in new {
        match old.iter().find(|o| slug(o) == slug(entry)) {
            None => changes.push(Change::Added(item, slug(entry).clone())),
            Some(previous) if previous != entry => changes.push(Change::Changed(item, slug(entry).clone())),
            Some(_) => {}
        }
    }
    for entry in old.iter().filter(|o| !new.iter().any(|n| slug(n) == slug(o))) {
        changes.push(Change::Removed(item, slug(entry).clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packs::parse_config;
    use crate::packs::validate::tests::MINIMAL;

    #[test]
    fn reports_each_change() {
        let old = parse_config(MINIMAL).unwrap();
        assert!(diff(&old, &old).is_empty());
        let text = MINIMAL
            .replace("desks = 2", "desks = 3")
            .replace("name = \"Comune di Prova\"", "name = \"Comune di Prova Due\"");
        let new = parse_config(&text).unwrap();
        let office = Slug::parse("anagrafe").unwrap();
        assert_eq!(diff(&old, &new), vec![Change::Settings, Change::Changed(Item::Office, office)]);
        let mut fewer = old.clone();
        fewer.services.clear();
        let removed = diff(&old, &fewer);
        assert_eq!(removed, vec![Change::Removed(Item::Service, Slug::parse("carta-identita").unwrap())]);
        assert_eq!(removed[0].to_string(), "service carta-identita removed");
    }
}
