//! The accessibility statement of a manifest (`[accessibility]`) as an admin edits it, written
//! back in place like the settings.

use std::collections::BTreeMap;

use super::edit::Manifest;
use super::file::PackFile;
use super::settings::{section, text};
use super::{MANIFEST, PackError};

/// The statement's fields as typed; `parse_config` judges them when the manifest is saved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessibilityDraft {
    /// full, partial or none.
    pub conformance: String,
    /// What is not accessible and why, by language code.
    pub non_accessible: BTreeMap<String, String>,
    /// "YYYY-MM-DD".
    pub prepared_on: String,
    pub reviewed_on: Option<String>,
    /// self or third_party.
    pub method: String,
    pub feedback_email: String,
}

/// The statement of a manifest, if it has one.
pub fn accessibility(manifest: &str) -> Result<Option<AccessibilityDraft>, PackError> {
    let file: PackFile =
        toml::from_str(manifest).map_err(|e| PackError::new(MANIFEST, "(syntax)", e.message().to_owned()))?;
    Ok(file.accessibility.map(|a| AccessibilityDraft {
        conformance: a.conformance,
        non_accessible: a.non_accessible.unwrap_or_default(),
        prepared_on: a.prepared_on,
        reviewed_on: a.reviewed_on,
        method: a.method,
        feedback_email: a.feedback_email,
    }))
}

impl Manifest {
    /// Replaces the accessibility statement, or withdraws it (`None`).
    pub fn put_accessibility(&mut self, draft: Option<&AccessibilityDraft>) {
        let root = self.root();
        let Some(draft) = draft else {
            root.remove("accessibility");
            return;
        };
        let Some(table) = section(root, "accessibility") else { return };
        text(table, "conformance", Some(&draft.conformance));
        text(table, "prepared_on", Some(&draft.prepared_on));
        text(table, "reviewed_on", draft.reviewed_on.as_deref());
        text(table, "method", Some(&draft.method));
        text(table, "feedback_email", Some(&draft.feedback_email));
        let said: Vec<(&String, &String)> =
            draft.non_accessible.iter().filter(|(_, words)| !words.trim().is_empty()).collect();
        if said.is_empty() {
            table.remove("non_accessible");
        } else if let Some(texts) = section(table, "non_accessible") {
            texts.clear();
            for (code, words) in said {
                text(texts, code, Some(&words.replace("\r\n", "\n")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Assessment, Conformance};
    use crate::packs::parse_config;

    const PACK: &str = include_str!("../../../tenants/comune-esempio/tenant.toml");

    fn draft() -> AccessibilityDraft {
        AccessibilityDraft {
            conformance: "partial".into(),
            non_accessible: [(
                "it".to_owned(),
                "I PDF allegati non sono accessibili.\nLi stiamo rifacendo.".to_owned(),
            )]
            .into(),
            prepared_on: "2026-09-30".into(),
            reviewed_on: Some("2026-11-20".into()),
            method: "self".into(),
            feedback_email: "accessibilita@comune.example".into(),
        }
    }

    fn with(draft: Option<&AccessibilityDraft>) -> Result<crate::domain::TenantConfig, PackError> {
        let mut manifest = Manifest::parse(PACK).unwrap();
        manifest.put_accessibility(draft);
        parse_config(&manifest.text())
    }

    #[test]
    fn a_statement_is_written_read_back_and_withdrawn() {
        let config = with(Some(&draft())).unwrap();
        let statement = config.accessibility.unwrap();
        assert_eq!(statement.conformance, Conformance::Partial);
        assert_eq!(statement.method, Assessment::SelfAssessment);
        assert_eq!(statement.prepared_on.to_string(), "2026-09-30");
        assert!(statement.non_accessible.unwrap().get(crate::domain::Locale::En).contains("PDF"));
        let mut manifest = Manifest::parse(PACK).unwrap();
        manifest.put_accessibility(Some(&draft()));
        assert_eq!(accessibility(&manifest.text()).unwrap(), Some(draft()));
        manifest.put_accessibility(None);
        assert_eq!(accessibility(&manifest.text()).unwrap(), None);
        assert!(parse_config(&manifest.text()).unwrap().accessibility.is_none());
    }

    #[test]
    fn a_statement_says_what_is_not_accessible_unless_all_is() {
        let refused = |change: fn(&mut AccessibilityDraft)| {
            let mut d = draft();
            change(&mut d);
            with(Some(&d)).err().map(|e| e.key)
        };
        assert_eq!(refused(|d| d.non_accessible.clear()).as_deref(), Some("accessibility.non_accessible"));
        assert_eq!(refused(|d| d.conformance = "mostly".into()).as_deref(), Some("accessibility.conformance"));
        assert_eq!(refused(|d| d.prepared_on = "30/09/2026".into()).as_deref(), Some("accessibility.prepared_on"));
        assert_eq!(
            refused(|d| d.reviewed_on = Some("2026-01-01".into())).as_deref(),
            Some("accessibility.reviewed_on")
        );
        assert_eq!(refused(|d| d.method = "audit".into()).as_deref(), Some("accessibility.method"));
        assert_eq!(refused(|d| d.feedback_email = "nobody".into()).as_deref(), Some("accessibility.feedback_email"));
        assert_eq!(
            refused(|d| {
                d.conformance = "full".into();
                d.non_accessible.clear();
            }),
            None
        );
    }
}
