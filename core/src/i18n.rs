//! Every string a citizen or a staff member reads, through Fluent: the pages' (the citizens'
//! `core/web/i18n/<lang>.ftl` and the admin pages' `admin-ui/i18n/<lang>.ftl`, keys `admin-…`)
//! and the e-mails' (`core/mail/i18n/<lang>.ftl`), each set loaded as one `Translations`.

use std::collections::HashMap;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::domain::Locale;

const ITALIAN: &str = include_str!("../web/i18n/it.ftl");
const ENGLISH: &str = include_str!("../web/i18n/en.ftl");
const ADMIN_ITALIAN: &str = include_str!("../../admin-ui/i18n/it.ftl");
const ADMIN_ENGLISH: &str = include_str!("../../admin-ui/i18n/en.ftl");
const MAIL_ITALIAN: &str = include_str!("../mail/i18n/it.ftl");
const MAIL_ENGLISH: &str = include_str!("../mail/i18n/en.ftl");

pub struct Translations {
    bundles: HashMap<Locale, FluentBundle<FluentResource>>,
}

/// A translation file or template that does not load: a build problem, reported at start-up.
#[derive(Debug, thiserror::Error)]
#[error("{0} is invalid: {1}")]
pub struct TranslationError(String, String);

impl TranslationError {
    pub fn new(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Self(what.into(), reason.into())
    }
}

/// A Fluent file and the name it is reported by.
type Source = (&'static str, &'static str);

impl Translations {
    /// The pages' strings: the citizens' and the staff's.
    pub fn load() -> Result<Self, TranslationError> {
        Self::from_sources([
            (Locale::It, vec![(ITALIAN, "web/i18n/it.ftl"), (ADMIN_ITALIAN, "admin-ui/i18n/it.ftl")]),
            (Locale::En, vec![(ENGLISH, "web/i18n/en.ftl"), (ADMIN_ENGLISH, "admin-ui/i18n/en.ftl")]),
        ])
    }

    /// The e-mails' strings.
    pub fn mail() -> Result<Self, TranslationError> {
        Self::from_sources([
            (Locale::It, vec![(MAIL_ITALIAN, "mail/i18n/it.ftl")]),
            (Locale::En, vec![(MAIL_ENGLISH, "mail/i18n/en.ftl")]),
        ])
    }

    fn from_sources(sets: [(Locale, Vec<Source>); 2]) -> Result<Self, TranslationError> {
        let mut bundles = HashMap::new();
        for (locale, sources) in sets {
            let language = locale.code().parse().map_err(|e| TranslationError::new(locale.code(), format!("{e:?}")))?;
            let mut bundle = FluentBundle::new_concurrent(vec![language]);
            // No Unicode isolation marks around arguments: they would end up inside attributes.
            bundle.set_use_isolating(false);
            for (source, name) in sources {
                let resource = FluentResource::try_new(source.to_owned())
                    .map_err(|(_, e)| TranslationError::new(name, format!("{e:?}")))?;
                bundle.add_resource(resource).map_err(|e| TranslationError::new(name, format!("{e:?}")))?;
            }
            bundles.insert(locale, bundle);
        }
        Ok(Self { bundles })
    }

    /// The message `key` in `locale`, with `args`; the key itself if it is missing, so that a gap
    /// shows on the page instead of breaking it.
    pub fn get(&self, locale: Locale, key: &str, args: &[(&str, String)]) -> String {
        let Some(bundle) = self.bundles.get(&locale) else { return key.to_owned() };
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else { return key.to_owned() };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            // A whole number picks its plural form ("1 cittadino", "2 cittadini"); text that only
            // looks like one (a code with a leading zero) stays text.
            let number = value.parse::<i64>().ok().filter(|n| n.to_string() == *value);
            fluent_args.set(*name, number.map_or_else(|| FluentValue::from(value.clone()), FluentValue::from));
        }
        let mut errors = Vec::new();
        bundle.format_pattern(pattern, Some(&fluent_args), &mut errors).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_messages() {
        let keys = |source: &str| -> Vec<String> {
            let mut keys: Vec<String> = source
                .lines()
                .filter(|l| !l.starts_with([' ', '#']) && l.contains(" ="))
                .map(|l| l.split(" =").next().unwrap_or_default().to_owned())
                .collect();
            keys.sort();
            keys
        };
        assert_eq!(keys(ITALIAN), keys(ENGLISH));
        assert_eq!(keys(ADMIN_ITALIAN), keys(ADMIN_ENGLISH));
        assert_eq!(keys(MAIL_ITALIAN), keys(MAIL_ENGLISH));
        Translations::mail().unwrap();
        assert!(keys(ADMIN_ENGLISH).iter().all(|k| k.starts_with("admin-")), "admin messages are named admin-…");
        let t = Translations::load().unwrap();
        assert_eq!(t.get(Locale::It, "step-of", &[("step", "2".into()), ("total", "4".into())]), "Passo 2 di 4");
        assert_eq!(t.get(Locale::En, "step-of", &[("step", "2".into()), ("total", "4".into())]), "Step 2 of 4");
        assert_eq!(t.get(Locale::En, "no-such-key", &[]), "no-such-key");
    }

    #[test]
    fn a_count_picks_its_plural_and_a_code_stays_as_written() {
        let t = Translations::load().unwrap();
        let waiting = |n: &str| t.get(Locale::It, "admin-queue-waiting", &[("count", n.into())]);
        assert_eq!(waiting("1"), "Un cittadino è in attesa.");
        assert_eq!(waiting("3"), "3 cittadini in attesa.");
        assert_eq!(t.get(Locale::It, "step-of", &[("step", "02".into()), ("total", "4".into())]), "Passo 02 di 4");
    }

    #[test]
    fn every_booking_status_is_named_for_citizens_and_staff() {
        let t = Translations::load().unwrap();
        for status in crate::domain::BookingStatus::ALL {
            let code = status.code().replace('_', "-");
            for key in [format!("status-{code}"), format!("admin-status-{code}")] {
                for locale in Locale::ALL {
                    assert_ne!(t.get(locale, &key, &[]), key, "{key} in {locale:?}");
                }
            }
        }
    }
}
