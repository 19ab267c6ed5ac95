//! Italian national holidays, on which offices are closed unless they opt out.

use chrono::{Datelike, Days, NaiveDate};

/// Easter Sunday in the Gregorian calendar (the "anonymous" computus of Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

/// Fixed-date national holidays as (month, day, Italian name).
const FIXED: [(u32, u32, &str); 10] = [
    (1, 1, "Capodanno"),
    (1, 6, "Epifania"),
    (4, 25, "Festa della Liberazione"),
    (5, 1, "Festa del Lavoro"),
    (6, 2, "Festa della Repubblica"),
    (8, 15, "Ferragosto"),
    (11, 1, "Ognissanti"),
    (12, 8, "Immacolata Concezione"),
    (12, 25, "Natale"),
    (12, 26, "Santo Stefano"),
];

/// The name of the national holiday on `date`, if it is one. Easter Sunday is not listed:
/// it is a Sunday, and offices that open on Sundays decide for themselves.
pub fn italian_national_holiday(date: NaiveDate) -> Option<&'static str> {
    if let Some((_, _, name)) = FIXED.iter().find(|(m, d, _)| date.month() == *m && date.day() == *d) {
        return Some(name);
    }
    let easter_monday = easter_sunday(date.year()).and_then(|e| e.checked_add_days(Days::new(1)));
    (easter_monday == Some(date)).then_some("Lunedì dell'Angelo")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn easter_dates_match_the_calendar() {
        let known = [(2024, 3, 31), (2025, 4, 20), (2026, 4, 5), (2027, 3, 28), (2038, 4, 25), (2285, 3, 22)];
        for (y, m, d) in known {
            assert_eq!(easter_sunday(y), Some(date(y, m, d)), "{y}");
        }
    }

    #[test]
    fn national_holidays() {
        assert_eq!(italian_national_holiday(date(2026, 4, 6)), Some("Lunedì dell'Angelo"));
        assert_eq!(italian_national_holiday(date(2026, 6, 2)), Some("Festa della Repubblica"));
        assert_eq!(italian_national_holiday(date(2026, 12, 26)), Some("Santo Stefano"));
        assert_eq!(italian_national_holiday(date(2026, 4, 7)), None);
        assert_eq!(italian_national_holiday(date(2026, 11, 27)), None);
    }
}
