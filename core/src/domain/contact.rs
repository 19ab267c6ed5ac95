//! Ways to reach a citizen, each parsed into a value that can only be valid.

use std::fmt;

macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// An e-mail address, trimmed, at most 254 characters, `local@domain.tld`.
/// Deliberately lenient: the only real proof is the confirmation mail.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);
string_value!(Email);

impl Email {
    pub fn parse(raw: &str) -> Option<Self> {
        let value = raw.trim();
        let (local, domain) = value.rsplit_once('@')?;
        let valid = value.len() <= 254
            && !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && value.chars().all(|c| !c.is_whitespace() && !c.is_control())
            && !local.contains('@')
            && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        valid.then(|| Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address the citizen probably meant, when the domain is one letter or two away from a
    /// common mailbox provider's (`mario@gmial.con` → `mario@gmail.com`): a hint, never a refusal.
    pub fn likely_meant(&self) -> Option<Email> {
        let (local, domain) = self.0.rsplit_once('@')?;
        if COMMON_DOMAINS.contains(&domain) {
            return None;
        }
        COMMON_DOMAINS
            .iter()
            .map(|known| (strsim::osa_distance(domain, known), known))
            // Two edits only on a longer name: a short one two edits away is often another real one.
            .filter(|(distance, _)| *distance == 1 || (*distance == 2 && domain.len() >= 9))
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, known)| Self(format!("{local}@{known}")))
    }

    /// Addresses compare case-insensitively when a citizen proves who they are.
    pub fn matches(&self, other: &str) -> bool {
        Email::parse(other).is_some_and(|o| o.0.eq_ignore_ascii_case(&self.0))
    }
}

/// Mailbox providers most citizens in Italy use, for the "did you mean" hint.
const COMMON_DOMAINS: [&str; 22] = [
    "gmail.com",
    "tin.it",
    "email.it",
    "inwind.it",
    "live.com",
    "msn.com",
    "gmx.com",
    "libero.it",
    "hotmail.it",
    "hotmail.com",
    "outlook.it",
    "outlook.com",
    "yahoo.it",
    "yahoo.com",
    "icloud.com",
    "virgilio.it",
    "alice.it",
    "tiscali.it",
    "live.it",
    "tim.it",
    "fastwebnet.it",
    "pec.it",
];

/// A phone number in E.164 form (`+` and 8–15 digits). Italian numbers may be typed
/// without the country code, as people do; spaces, dots, dashes and brackets are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Phone(String);
string_value!(Phone);

impl Phone {
    pub fn parse(raw: &str) -> Option<Self> {
        let compact: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')' | '/')).collect();
        let international = if let Some(rest) = compact.strip_prefix('+') {
            rest.to_owned()
        } else if let Some(rest) = compact.strip_prefix("00") {
            rest.to_owned()
        } else {
            format!("39{compact}")
        };
        let valid = (8..=15).contains(&international.len())
            && international.bytes().all(|b| b.is_ascii_digit())
            && !international.starts_with('0');
        valid.then(|| Self(format!("+{international}")))
    }

    /// Whether the number can be a mobile: Italian mobiles begin with 3 after +39; a number abroad
    /// is given the benefit of the doubt.
    pub fn may_be_mobile(&self) -> bool {
        self.0.strip_prefix("+39").is_none_or(|national| national.starts_with('3'))
    }
}

/// A Skype name: 6–32 characters, a letter first, then letters, digits, `.`, `,`, `-`, `_`;
/// or a Microsoft-account name `live:…`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SkypeName(String);
string_value!(SkypeName);

impl SkypeName {
    pub fn parse(raw: &str) -> Option<Self> {
        let value = raw.trim();
        let body = value.strip_prefix("live:").unwrap_or(value);
        let mut chars = body.chars();
        let valid = (6..=32).contains(&body.len())
            && chars.next().is_some_and(|c| c.is_ascii_alphabetic() || value.starts_with("live:"))
            && body.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ',' | '-' | '_'));
        valid.then(|| Self(value.to_owned()))
    }
}

/// An Italian codice fiscale, upper-cased with spaces removed, with a correct check letter.
/// Omocodia (digits replaced by `LMNPQRSTUV`) is accepted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FiscalCode(String);
string_value!(FiscalCode);

const OMOCODIA_DIGITS: &str = "LMNPQRSTUV";
/// Positions (0-based) that hold digits in a codice fiscale, or their omocodia letters.
const DIGIT_POSITIONS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];

impl FiscalCode {
    pub fn parse(raw: &str) -> Option<Self> {
        let value: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        let bytes = value.as_bytes();
        if bytes.len() != 16 || !bytes.iter().all(u8::is_ascii_alphanumeric) {
            return None;
        }
        let shape_ok = bytes.iter().enumerate().take(15).all(|(i, &b)| {
            if DIGIT_POSITIONS.contains(&i) {
                b.is_ascii_digit() || OMOCODIA_DIGITS.as_bytes().contains(&b)
            } else {
                b.is_ascii_alphabetic()
            }
        });
        let (first15, last) = bytes.split_last_chunk::<1>()?;
        (shape_ok && check_letter(first15) == Some(last[0])).then_some(Self(value))
    }
}

/// The control letter of the first 15 characters (upper-case letters and digits), if they are such.
fn check_letter(first15: &[u8]) -> Option<u8> {
    const ODD: [u32; 26] =
        [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
    let mut sum = 0u32;
    for (i, &b) in first15.iter().enumerate() {
        let index = if b.is_ascii_digit() { b.checked_sub(b'0')? } else { b.checked_sub(b'A')? };
        // Positions are 1-based in the standard: index 0 is the 1st, an "odd" position.
        sum += if i % 2 == 0 { *ODD.get(usize::from(index))? } else { u32::from(index) };
    }
    b'A'.checked_add(u8::try_from(sum % 26).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(Email::parse(" Mario.Rossi@Example.IT ").unwrap().as_str(), "Mario.Rossi@example.it");
        for bad in ["", "mario", "mario@", "@example.it", "mario@example", "ma rio@example.it", "a@b..it", "a@.it"] {
            assert!(Email::parse(bad).is_none(), "{bad}");
        }
        assert!(Email::parse("mario@example.it").unwrap().matches("MARIO@example.it"));
    }

    #[test]
    fn a_mistyped_provider_gets_a_hint() {
        let meant = |raw: &str| Email::parse(raw).and_then(|e| e.likely_meant()).map(|e| e.to_string());
        assert_eq!(meant("mario@gmial.con").as_deref(), Some("mario@gmail.com"));
        assert_eq!(meant("Mario@Libreo.it").as_deref(), Some("Mario@libero.it"));
        assert_eq!(meant("mario@hotmail.co").as_deref(), Some("mario@hotmail.com"));
        for fine in ["mario@gmail.com", "mario@comune.esempio.it", "m@example.it", "ufficio@pec.comune.it"] {
            assert_eq!(meant(fine), None, "{fine}");
        }
    }

    #[test]
    fn italian_landlines_are_not_mobiles() {
        assert!(Phone::parse("333 123 4567").unwrap().may_be_mobile());
        assert!(!Phone::parse("06 1234 5678").unwrap().may_be_mobile());
        assert!(Phone::parse("+44 7700 900123").unwrap().may_be_mobile());
    }

    #[test]
    fn phones_normalise_to_e164() {
        assert_eq!(Phone::parse("333 123 4567").unwrap().as_str(), "+393331234567");
        assert_eq!(Phone::parse("+39 (0584) 12.34.56").unwrap().as_str(), "+390584123456");
        assert_eq!(Phone::parse("0044 20 7946 0958").unwrap().as_str(), "+442079460958");
        for bad in ["", "abc", "+12", "+39 333 123 4567 8901 23", "+0123456789"] {
            assert!(Phone::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn skype_names() {
        assert!(SkypeName::parse("mario.rossi85").is_some());
        assert!(SkypeName::parse("live:.cid.123abc").is_some());
        for bad in ["mario", "1mario.rossi", "mario rossi", &"a".repeat(33)] {
            assert!(SkypeName::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn fiscal_codes() {
        assert_eq!(FiscalCode::parse("rssmra85t10a562s").unwrap().as_str(), "RSSMRA85T10A562S");
        assert!(FiscalCode::parse("RSS MRA 85T10 A562S").is_some());
        // Omocodia: the last digit 2 → N, check letter recomputed.
        let first15 = "RSSMRA85T10A56N";
        let omocode = format!("{first15}{}", char::from(check_letter(first15.as_bytes()).unwrap()));
        assert!(FiscalCode::parse(&omocode).is_some(), "{omocode}");
        for bad in ["RSSMRA85T10A562X", "RSSMRA85T10A562", "RSSMRA85T10A5621", "1SSMRA85T10A562S", ""] {
            assert!(FiscalCode::parse(bad).is_none(), "{bad}");
        }
    }
}
