//! What applying a pack changes: a typed list that the apply checks (a removal must not strand
//! bookings) and that reads as sentences for an administrator.

use std::fmt;

use crate::domain::{Office, Service, Slug, TenantConfig};

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
    /// Name, zone, languages, branding, limits, e-mail, the Jitsi server, the queue, plugins or
    /// datasets.
    Settings,
    Added(Item, Slug),
    /// What changed in it, e.g. `["hours", "closures"]`.
    Changed(Item, Slug, Vec<&'static str>),
    Removed(Item, Slug),
    /// The privacy notice's text or version.
    PrivacyNotice,
    AccessibilityStatement,
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
            Self::Changed(item, slug, aspects) if aspects.is_empty() => write!(f, "{} {slug} changed", item.name()),
            Self::Changed(item, slug, aspects) => write!(f, "{} {slug} changed: {}", item.name(), aspects.join(", ")),
            Self::Removed(item, slug) => write!(f, "{} {slug} removed", item.name()),
            Self::PrivacyNotice => f.write_str("privacy notice changed"),
            Self::AccessibilityStatement => f.write_str("accessibility statement changed"),
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
            (c.require_two_factor, c.publish_open_data, c.retention_days),
            c.grid_minutes,
            c.limits,
            (c.mail.clone(), c.jitsi_server.clone(), c.queue.clone()),
            c.plugins.clone(),
            c.datasets.clone(),
        )
    };
    if settings(old) != settings(new) {
        changes.push(Change::Settings);
    }
    let notice = |c: &TenantConfig| (c.privacy_notice_version.clone(), c.privacy_notice.clone());
    if notice(old) != notice(new) {
        changes.push(Change::PrivacyNotice);
    }
    if old.accessibility != new.accessibility {
        changes.push(Change::AccessibilityStatement);
    }
    diff_items(Item::Service, &old.services, &new.services, |s| &s.slug, service_aspects, &mut changes);
    diff_items(Item::Office, &old.offices, &new.offices, |o| &o.slug, office_aspects, &mut changes);
    changes
}

/// What differs between two versions of a service, by name.
fn service_aspects(a: &Service, b: &Service) -> Vec<&'static str> {
    [
        ("names", a.name != b.name || a.description != b.description),
        ("duration", a.duration_minutes != b.duration_minutes),
        ("modes", a.modes != b.modes),
        ("booking window", a.min_notice_hours != b.min_notice_hours || a.horizon_days != b.horizon_days),
        (
            "questions",
            a.fields != b.fields || a.fiscal_code_required != b.fiscal_code_required || a.check_first != b.check_first,
        ),
        ("reasons", a.reasons != b.reasons),
        ("offered", a.active != b.active),
        ("what to bring", a.bring != b.bring),
        ("rule", a.plugin != b.plugin),
        ("limit per person", a.max_active_bookings_per_person != b.max_active_bookings_per_person),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect()
}

/// What differs between two versions of an office, by name.
fn office_aspects(a: &Office, b: &Office) -> Vec<&'static str> {
    [
        ("name", a.name != b.name),
        ("address", a.address != b.address),
        ("time zone", a.timezone != b.timezone),
        ("modes", a.modes != b.modes),
        ("services", a.services != b.services),
        ("hours", a.hours != b.hours),
        ("closures", a.closures != b.closures || a.holidays != b.holidays),
        ("video contacts", a.teams_link != b.teams_link || a.skype_contact != b.skype_contact),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect()
}

fn diff_items<T: PartialEq>(
    item: Item,
    old: &[T],
    new: &[T],
    slug: impl Fn(&T) -> &Slug,
    aspects: impl Fn(&T, &T) -> Vec<&'static str>,
    changes: &mut Vec<Change>,
) {
    for entry in new {
        match old.iter().find(|o| slug(o) == slug(entry)) {
            None => changes.push(Change::Added(item, slug(entry).clone())),
            Some(previous) if previous != entry => {
                changes.push(Change::Changed(item, slug(entry).clone(), aspects(previous, entry)));
            }
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
        let changed = diff(&old, &new);
        assert_eq!(changed, vec![Change::Settings, Change::Changed(Item::Office, office, vec!["hours"])]);
        assert_eq!(changed[1].to_string(), "office anagrafe changed: hours");
        let mut fewer = old.clone();
        fewer.services.clear();
        let removed = diff(&old, &fewer);
        assert_eq!(removed, vec![Change::Removed(Item::Service, Slug::parse("carta-identita").unwrap())]);
        assert_eq!(removed[0].to_string(), "service carta-identita removed");
        // A change of the queue's rule or of the Jitsi server alone is a change too.
        let mut queue = old.clone();
        queue.queue.walk_in_cap = chrono::TimeDelta::minutes(45);
        assert_eq!(diff(&old, &queue), vec![Change::Settings]);
        let mut jitsi = old.clone();
        jitsi.jitsi_server = "https://jitsi.ente.example".into();
        assert_eq!(diff(&old, &jitsi), vec![Change::Settings]);
    }
}
