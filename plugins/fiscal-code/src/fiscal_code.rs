//! The Italian codice fiscale of a person: `RSSMRA85T10A562S` = surname (3 letters), name (3),
//! year (2 digits), month (a letter of `ABCDEHLMPRST`), day (2 digits, +40 for women), place
//! (a letter and 3 digits), check letter. When two people would share a code, the digits are
//! replaced right to left by `LMNPQRSTUV` ("omocodia"); the check letter covers the code as issued.

use std::fmt;

const MONTHS: &[u8; 12] = b"ABCDEHLMPRST";
const OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
/// Positions (0-based) that hold a digit or its omocodia letter.
const DIGIT_POSITIONS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];
/// What a character at an odd position (1st, 3rd, … counting from 1) is worth in the check.
const ODD_VALUES: [u8; 26] =
    [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];

/// A well-formed codice fiscale of a person, upper case, without spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FiscalCode {
    code: String,
    year: u8,
    month: u8,
    day: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FiscalCodeError {
    /// Not 16 characters; the count given.
    Length(usize),
    /// A character that does not belong where it is.
    Characters,
    /// The month or the day of birth does not exist.
    BirthDate,
    /// The last letter does not match the others.
    CheckLetter,
}

/// The digit a position holds, reading omocodia letters back.
fn digit(byte: u8) -> Option<u8> {
    if byte.is_ascii_digit() {
        Some(byte - b'0')
    } else {
        OMOCODIA.iter().position(|&l| l == byte).map(|d| d as u8)
    }
}

fn check_letter(first15: &[u8]) -> u8 {
    let sum: u32 = first15
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            let index = if b.is_ascii_digit() { b - b'0' } else { b - b'A' };
            u32::from(if i % 2 == 0 { ODD_VALUES[usize::from(index)] } else { index })
        })
        .sum();
    b'A' + (sum % 26) as u8
}

impl FiscalCode {
    /// Parses a codice fiscale written in any case, with or without spaces.
    pub fn parse(text: &str) -> Result<Self, FiscalCodeError> {
        let code: String = text.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
        if code.chars().count() != 16 {
            return Err(FiscalCodeError::Length(code.chars().count()));
        }
        let bytes = code.as_bytes();
        let well_placed = bytes.iter().enumerate().all(|(i, &b)| {
            if DIGIT_POSITIONS.contains(&i) {
                digit(b).is_some()
            } else {
                b.is_ascii_uppercase()
            }
        });
        if !well_placed {
            return Err(FiscalCodeError::Characters);
        }
        let number = |positions: &[usize]| positions.iter().fold(0u8, |n, &i| n * 10 + digit(bytes[i]).unwrap_or(0));
        let year = number(&[6, 7]);
        let month = MONTHS.iter().position(|&m| m == bytes[8]).ok_or(FiscalCodeError::BirthDate)? as u8 + 1;
        let day = match number(&[9, 10]) {
            d @ 1..=31 => d,
            d @ 41..=71 => d - 40,
            _ => return Err(FiscalCodeError::BirthDate),
        };
        // The century is not in the code: 29 February is possible when either century allows it.
        let last_day = match month {
            2 if year % 4 == 0 => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if day > last_day {
            return Err(FiscalCodeError::BirthDate);
        }
        if check_letter(&bytes[..15]) != bytes[15] {
            return Err(FiscalCodeError::CheckLetter);
        }
        Ok(Self { code, year, month, day })
    }

    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// The date of birth, taking the century that puts it before `on` (year, month, day).
    pub fn birth_date(&self, on: (u16, u8, u8)) -> (u16, u8, u8) {
        let recent = 2000 + u16::from(self.year);
        let year = if (recent, self.month, self.day) <= on { recent } else { recent - 100 };
        (year, self.month, self.day)
    }

    /// Whole years of age on the date `on`.
    pub fn age_on(&self, on: (u16, u8, u8)) -> u16 {
        let (year, month, day) = self.birth_date(on);
        let birthday_passed = (on.1, on.2) >= (month, day);
        on.0 - year - if birthday_passed { 0 } else { 1 }
    }
}

impl fmt::Display for FiscalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

impl FiscalCodeError {
    /// The message for the citizen: Italian, English.
    pub fn messages(self) -> (String, String) {
        match self {
            Self::Length(n) => (
                format!("Il codice fiscale ha 16 caratteri: ne hai scritti {n}."),
                format!("A fiscal code has 16 characters: you wrote {n}."),
            ),
            Self::Characters => (
                "Il codice fiscale non ha questa forma: controlla lettere e cifre (es. RSSMRA85T10A562S).".into(),
                "This is not how a fiscal code looks: check its letters and digits (e.g. RSSMRA85T10A562S).".into(),
            ),
            Self::BirthDate => (
                "La data di nascita nel codice fiscale non esiste: controlla mese e giorno.".into(),
                "The date of birth in this fiscal code does not exist: check the month and day.".into(),
            ),
            Self::CheckLetter => (
                "Il codice fiscale non è corretto: controlla i caratteri, l'ultimo è di controllo.".into(),
                "This fiscal code is not right: check its characters; the last one is a check letter.".into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_codes() {
        for (text, normalised) in [
            ("RSSMRA85T10A562S", "RSSMRA85T10A562S"),
            ("rssmra85t10a562s", "RSSMRA85T10A562S"),
            (" RSS MRA 85T10 A562S ", "RSSMRA85T10A562S"),
            ("MRTMTT25D09F205Z", "MRTMTT25D09F205Z"),
            // a woman (day + 40)
            ("VRDLCU92E45G702R", "VRDLCU92E45G702R"),
            ("BNCLRA12M52H501J", "BNCLRA12M52H501J"),
            // omocodia: the last digit, then every digit, replaced by letters
            ("RSSMRA85T10A56NH", "RSSMRA85T10A56NH"),
            ("RSSMRAURTMLARNME", "RSSMRAURTMLARNME"),
            ("rssmraurtmlarnme", "RSSMRAURTMLARNME"),
        ] {
            assert_eq!(FiscalCode::parse(text).map(|c| c.to_string()), Ok(normalised.to_owned()), "{text}");
        }
    }

    #[test]
    fn wrong_check_letters() {
        for text in ["RSSMRA85T10A562T", "RSSMRA85T10A562A", "MRTMTT25D09F205Y", "RSSMRA85T10A56NS", "RSSMRAURTMLARNMS"]
        {
            assert_eq!(FiscalCode::parse(text), Err(FiscalCodeError::CheckLetter), "{text}");
        }
        // two characters swapped
        assert_eq!(FiscalCode::parse("SRSMRA85T10A562S"), Err(FiscalCodeError::CheckLetter));
    }

    #[test]
    fn wrong_lengths() {
        for (text, n) in [("", 0), ("RSSMRA85T10A562", 15), ("RSSMRA85T10A562SS", 17), ("12345678901", 11)] {
            assert_eq!(FiscalCode::parse(text), Err(FiscalCodeError::Length(n)), "{text}");
        }
    }

    #[test]
    fn characters_out_of_place() {
        for text in [
            "1SSMRA85T10A562S", // digit among the name letters
            "RSSMRA8AT10A562S", // A is not an omocodia letter
            "RSSMRA85T10A5W2S", // nor is W
            "RSSMRA85T10A562-",
            "RSSMRA85T10A5621", // the check is a letter
            "RSSMRÀ85T10A562S",
        ] {
            assert_eq!(FiscalCode::parse(text), Err(FiscalCodeError::Characters), "{text}");
        }
    }

    #[test]
    fn impossible_birth_dates() {
        for text in [
            "RSSMRA85F10A562S", // F is not a month letter
            "RSSMRA85T32A562S", // day 32
            "RSSMRA85T00A562S", // day 0
            "RSSMRA85T72A562S", // day 72 (a woman's 32nd)
            "RSSMRA85T35A562S", // between men's and women's days
            "RSSMRA85B30A562S", // 30 February
            "RSSMRA85B29A562S", // 29 February 1985 (or 2085)
            "RSSMRA85D31A562S", // 31 April
        ] {
            assert_eq!(FiscalCode::parse(text), Err(FiscalCodeError::BirthDate), "{text}");
        }
        // 29 February of a year divisible by 4 is accepted up to the check letter.
        assert_eq!(FiscalCode::parse("RSSMRA84B29A562A"), Err(FiscalCodeError::CheckLetter));
    }

    #[test]
    fn birth_date_and_age() {
        let mario = FiscalCode::parse("RSSMRA85T10A562S").unwrap();
        assert_eq!(mario.birth_date((2026, 12, 2)), (1985, 12, 10));
        assert_eq!(mario.age_on((2026, 12, 9)), 40);
        assert_eq!(mario.age_on((2026, 12, 10)), 41);
        let laura = FiscalCode::parse("BNCLRA12M52H501J").unwrap();
        assert_eq!(laura.birth_date((2026, 12, 2)), (2012, 8, 12));
        assert_eq!(laura.age_on((2026, 12, 2)), 14);
        // Omocodia does not change the date.
        assert_eq!(FiscalCode::parse("RSSMRAURTMLARNME").unwrap().birth_date((2026, 1, 1)), (1985, 12, 10));
    }
}
