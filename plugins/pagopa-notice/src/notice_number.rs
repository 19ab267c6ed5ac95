//! The pagoPA notice number ("numero avviso"): 18 digits, `<aux digit><17 digits>`, where the aux
//! digit says the layout (pagoPA, "Specifiche attuative dei codici identificativi di versamento"):
//!
//! - `0<application code 2><IUV base 13><check 2>`
//! - `1<IUV base 17>` (no check digits)
//! - `2<IUV base 15><check 2>`
//! - `3<segregation code 2><IUV base 13><check 2>`
//!
//! For 0, 2 and 3 the check digits are the first 16 digits, read as a number, modulo 93.

use std::fmt;

/// A notice number whose layout and check digits are right, without spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeNumber(String);

/// Why a text is not a notice number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeError {
    /// Something other than digits and spaces.
    NotDigits,
    /// Not 18 digits; the count given.
    Length(usize),
    /// The first digit is not 0, 1, 2 or 3.
    AuxDigit,
    /// The last two digits do not match the others.
    CheckDigits,
}

impl NoticeNumber {
    /// Parses a notice number as printed (groups of digits separated by spaces are fine).
    pub fn parse(text: &str) -> Result<Self, NoticeError> {
        let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(NoticeError::NotDigits);
        }
        if digits.len() != 18 {
            return Err(NoticeError::Length(digits.len()));
        }
        let bytes = digits.as_bytes();
        match bytes[0] {
            b'1' => {}
            b'0' | b'2' | b'3' => {
                let body: u64 = digits[..16].parse().map_err(|_| NoticeError::NotDigits)?;
                let check: u64 = digits[16..].parse().map_err(|_| NoticeError::NotDigits)?;
                if body % 93 != check {
                    return Err(NoticeError::CheckDigits);
                }
            }
            _ => return Err(NoticeError::AuxDigit),
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NoticeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl NoticeError {
    /// The message for the citizen: Italian, English.
    pub fn messages(self) -> (String, String) {
        match self {
            Self::NotDigits => (
                "Il numero avviso contiene solo cifre (gli spazi sono ammessi).".into(),
                "A notice number contains only digits (spaces are fine).".into(),
            ),
            Self::Length(n) => (
                format!("Il numero avviso ha 18 cifre: ne hai scritte {n}."),
                format!("A notice number has 18 digits: you wrote {n}."),
            ),
            Self::AuxDigit => (
                "Il numero avviso inizia con 0, 1, 2 o 3: controlla di aver copiato il numero giusto.".into(),
                "A notice number starts with 0, 1, 2 or 3: check you copied the right number.".into(),
            ),
            Self::CheckDigits => (
                "Il numero avviso non è corretto: controlla le cifre, le ultime due sono di controllo.".into(),
                "This notice number is not right: check the digits; the last two are check digits.".into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_numbers_of_every_layout() {
        for (text, normalised) in [
            // aux 3, segregation code 02: 3020000000012345 mod 93 = 59 (the demo notice)
            ("302000000001234559", "302000000001234559"),
            ("3020 0000 0001 2345 59", "302000000001234559"),
            (" 302 000 000 001 234 559 ", "302000000001234559"),
            // aux 3, segregation code 47 (Canone Unico): 3470000000000001 mod 93 = 24
            ("347000000000000124", "347000000000000124"),
            // aux 0, application code 01: 0010000000000042 mod 93 = 82
            ("001000000000004282", "001000000000004282"),
            // aux 2: 2123456789012345 mod 93 = 44
            ("212345678901234544", "212345678901234544"),
            // aux 1: no check digits
            ("112345678901234567", "112345678901234567"),
            ("100000000000000000", "100000000000000000"),
            // body 0 → check 00
            ("000000000000000000", "000000000000000000"),
            // the largest body of aux 3
            ("399999999999999903", "399999999999999903"),
        ] {
            assert_eq!(NoticeNumber::parse(text).map(|n| n.to_string()), Ok(normalised.to_owned()), "{text}");
        }
    }

    #[test]
    fn wrong_check_digits() {
        for text in [
            "302000000001234558",
            "302000000001234560",
            "302000000001234595",
            // two digits swapped
            "302000000001243559",
            "320000000001234559",
            "001000000000004283",
            "212345678901234545",
            "399999999999999904",
        ] {
            assert_eq!(NoticeNumber::parse(text), Err(NoticeError::CheckDigits), "{text}");
        }
    }

    #[test]
    fn wrong_length() {
        for (text, n) in [("", 0), ("30200000000123455", 17), ("3020000000012345590", 19), ("3 0 2", 3)] {
            assert_eq!(NoticeNumber::parse(text), Err(NoticeError::Length(n)), "{text}");
        }
    }

    #[test]
    fn letters_and_signs() {
        for text in
            ["30200000000123455A", "RF18000000000000012345", "302-000-000-001-234-559", "3020000000012345.9", "３０２"]
        {
            assert_eq!(NoticeNumber::parse(text), Err(NoticeError::NotDigits), "{text}");
        }
    }

    #[test]
    fn unknown_aux_digits() {
        for text in ["402000000001234559", "902000000001234559", "512345678901234567"] {
            assert_eq!(NoticeNumber::parse(text), Err(NoticeError::AuxDigit), "{text}");
        }
    }

    #[test]
    fn every_check_value_is_accepted_when_right_and_only_then() {
        // Over a range of bodies, exactly one of the 100 possible endings is accepted.
        for base in 3_020_000_000_012_300u64..3_020_000_000_012_400 {
            let accepted: Vec<u64> =
                (0..100).filter(|check| NoticeNumber::parse(&format!("{base}{check:02}")).is_ok()).collect();
            assert_eq!(accepted, vec![base % 93], "{base}");
        }
    }
}
