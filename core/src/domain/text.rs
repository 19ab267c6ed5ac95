//! Identifiers and human text.

use std::collections::BTreeMap;
use std::fmt;

/// A tenant's internal identity: every tenant-scoped read and write takes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantId(i32);

impl TenantId {
    /// The id the store gave the tenant's row; nothing else makes one.
    pub fn from_stored(id: i32) -> Self {
        Self(id)
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// A URL-safe identifier: 1–63 characters of `a-z`, `0-9` and `-`, not starting or ending with `-`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'")]
pub struct InvalidSlug;

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, InvalidSlug> {
        let ok = !raw.is_empty()
            && raw.len() <= 63
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok { Ok(Self(raw.to_owned())) } else { Err(InvalidSlug) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A language Sportello speaks. Italian is the default of every tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Locale {
    It,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::It, Locale::En];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "it" | "it-it" => Some(Self::It),
            "en" | "en-gb" | "en-us" => Some(Self::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::It => "it",
            Self::En => "en",
        }
    }
}

/// Text in one or more locales; it always has at least one translation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Localized(BTreeMap<Locale, String>);

impl Localized {
    /// `None` when no translation is given or one of them is blank.
    pub fn new(texts: BTreeMap<Locale, String>) -> Option<Self> {
        let valid = !texts.is_empty() && texts.values().all(|t| !t.trim().is_empty());
        valid.then_some(Self(texts))
    }

    /// The text in `locale`, falling back to Italian, then to any translation.
    pub fn get(&self, locale: Locale) -> &str {
        self.0
            .get(&locale)
            .or_else(|| self.0.get(&Locale::It))
            .or_else(|| self.0.values().next())
            .map_or("", String::as_str)
    }

    pub fn has(&self, locale: Locale) -> bool {
        self.0.contains_key(&locale)
    }

    pub fn translations(&self) -> impl Iterator<Item = (Locale, &str)> {
        self.0.iter().map(|(locale, text)| (*locale, text.as_str()))
    }
}

/// Trims `raw` and checks it is a single line of 1..=`max` characters without control characters.
pub fn single_line(raw: &str, max: usize) -> Option<String> {
    let trimmed = raw.trim();
    let ok = !trimmed.is_empty() && trimmed.chars().count() <= max && !trimmed.chars().any(char::is_control);
    ok.then(|| trimmed.to_owned())
}

/// Why a multi-line text was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextError {
    TooLong,
    /// A control character other than a line break or a tab (NUL, ESC, BEL…).
    ControlCharacter,
}

/// Trims `raw` and checks it has at most `max` characters and no control characters but line
/// breaks and tabs; `None` when it is empty.
pub fn multi_line(raw: &str, max: usize) -> Result<Option<String>, TextError> {
    // Forms send line breaks as CRLF: one break is one character, as the page's counter says.
    let text = raw.trim().replace("\r\n", "\n").replace('\r', "\n");
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
        return Err(TextError::ControlCharacter);
    }
    if text.chars().count() > max {
        return Err(TextError::TooLong);
    }
    Ok((!text.is_empty()).then_some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_text_keeps_line_breaks_and_refuses_other_controls() {
        assert_eq!(multi_line("  due righe\nqui\t ", 20), Ok(Some("due righe\nqui".to_owned())));
        assert_eq!(multi_line("   ", 20), Ok(None));
        assert_eq!(multi_line("uno\r\ndue\rtre", 11), Ok(Some("uno\ndue\ntre".to_owned())), "a break is one character");
        assert_eq!(multi_line("a\u{0}b", 20), Err(TextError::ControlCharacter));
        assert_eq!(multi_line("suona\u{7}", 20), Err(TextError::ControlCharacter));
        assert_eq!(multi_line("\u{1b}[31mrosso", 20), Err(TextError::ControlCharacter));
        assert_eq!(multi_line(&"x".repeat(21), 20), Err(TextError::TooLong));
        assert_eq!(single_line("a\u{0}b", 20), None);
    }

    #[test]
    fn slugs() {
        for good in ["a", "sede-centrale", "ufficio-2", "x1"] {
            assert!(Slug::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "a-", "Sede", "a b", "a_b", "è", &"a".repeat(64)] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn localized_falls_back_to_italian() {
        let text = Localized::new(BTreeMap::from([(Locale::It, "Ciao".to_owned())])).unwrap();
        assert_eq!(text.get(Locale::En), "Ciao");
        assert!(Localized::new(BTreeMap::from([(Locale::It, "  ".to_owned())])).is_none());
    }

    #[test]
    fn single_line_rejects_control_characters_and_overlong_text() {
        assert_eq!(single_line("  Mario ", 10).as_deref(), Some("Mario"));
        assert_eq!(single_line("a\nb", 10), None);
        assert_eq!(single_line("", 10), None);
        assert_eq!(single_line("abcdef", 5), None);
    }
}
