//! What applying a pack changes, in words an administrator reads.

use crate::domain::TenantConfig;

/// One line per service or office added, changed or removed, and one for tenant settings.
pub fn diff(old: &TenantConfig, new: &TenantConfig) -> Vec<String> {
    let mut changes = Vec::new();
    let settings = |c: &TenantConfig| {
        (
            c.name.clone(),
            c.timezone,
            c.locales.clone(),
            c.branding.clone(),
            c.hold_minutes,
            c.grid_minutes,
            c.privacy_notice_version.clone(),
            c.limits,
            c.plugins.clone(),
            c.datasets.clone(),
        )
    };
    if settings(old) != settings(new) {
        changes.push("tenant settings changed".to_owned());
    }
    diff_items("service", &old.services, &new.services, |s| s.slug.as_str(), &mut changes);
    diff_items("office", &old.offices, &new.offices, |o| o.slug.as_str(), &mut changes);
    changes
}

fn diff_items<T: PartialEq>(what: &str, old: &[T], new: &[T], slug: impl Fn(&T) -> &str, changes: &mut Vec<String>) {
    for item in new {
        match old.iter().find(|o| slug(o) == slug(item)) {
            None => changes.push(format!("{what} {} added", slug(item))),
            Some(previous) if previous != item => changes.push(format!("{what} {} changed", slug(item))),
            Some(_) => {}
        }
    }
    for item in old.iter().filter(|o| !new.iter().any(|n| slug(n) == slug(o))) {
        changes.push(format!("{what} {} removed", slug(item)));
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
        assert_eq!(diff(&old, &new), vec!["tenant settings changed", "office anagrafe changed"]);
        let mut fewer = old.clone();
        fewer.services.clear();
        assert_eq!(diff(&old, &fewer), vec!["service carta-identita removed"]);
    }
}
