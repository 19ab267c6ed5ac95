//! A notice as the tenant's dataset `avvisi` describes it, and how the citizen sees it.
//!
//! Columns: `notice_number` (the key), `holder_fiscal_code`, `description`, `description_en`
//! (optional), `amount` (euros, `123.45`), `due_date` (`YYYY-MM-DD`), `status` (`paid`/`unpaid`).

use sportello_plugin_sdk::{Row, Verdict};

pub struct Notice {
    holder: String,
    description: String,
    description_en: Option<String>,
    amount_cents: u64,
    due_date: (u16, u8, u8),
    paid: bool,
}

impl Notice {
    /// Reads a dataset row; `None` when a column is missing or malformed.
    pub fn from_row(row: &Row) -> Option<Self> {
        Some(Self {
            holder: normalise_fiscal_code(row.get("holder_fiscal_code")?),
            description: row.get("description")?.to_owned(),
            description_en: row.get("description_en").filter(|d| !d.is_empty()).map(str::to_owned),
            amount_cents: parse_euros(row.get("amount")?)?,
            due_date: parse_date(row.get("due_date")?)?,
            paid: match row.get("status")? {
                "paid" => true,
                "unpaid" => false,
                _ => return None,
            },
        })
    }

    /// Whether the notice is in the name of `fiscal_code` (case and spaces do not matter).
    pub fn belongs_to(&self, fiscal_code: &str) -> bool {
        !self.holder.is_empty() && self.holder == normalise_fiscal_code(fiscal_code)
    }

    /// Adds what the citizen should see of the notice, in `locale`. The holder is never shown.
    pub fn summarise(&self, verdict: Verdict, locale: &str) -> Verdict {
        let english = locale == "en";
        let description = match (&self.description_en, english) {
            (Some(description), true) => description.clone(),
            _ => self.description.clone(),
        };
        let status = match (self.paid, english) {
            (true, false) => "Pagato",
            (true, true) => "Paid",
            (false, false) => "Da pagare",
            (false, true) => "Unpaid",
        };
        verdict
            .with_line("Avviso", "Notice", description)
            .with_line("Importo", "Amount", format_euros(self.amount_cents, english))
            .with_line("Scadenza", "Due date", format_date(self.due_date, english))
            .with_line("Stato", "Status", status)
    }
}

fn normalise_fiscal_code(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect()
}

/// `123.45`, `123.4`, `123` → cents.
fn parse_euros(text: &str) -> Option<u64> {
    let (euros, cents) = text.trim().split_once('.').unwrap_or((text.trim(), "0"));
    if euros.is_empty() || cents.is_empty() || cents.len() > 2 {
        return None;
    }
    if !(euros.bytes().all(|b| b.is_ascii_digit()) && cents.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let cents: u64 = if cents.len() == 1 { cents.parse::<u64>().ok()? * 10 } else { cents.parse().ok()? };
    euros.parse::<u64>().ok()?.checked_mul(100)?.checked_add(cents)
}

/// `YYYY-MM-DD` of a real day.
fn parse_date(text: &str) -> Option<(u16, u8, u8)> {
    let mut parts = text.trim().splitn(3, '-');
    let year: u16 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&day).then_some((year, month, day))
}

/// `€ 1.234,56` in Italian, `€1,234.56` in English.
fn format_euros(cents: u64, english: bool) -> String {
    let (group, decimal, space) = if english { (',', '.', "") } else { ('.', ',', " ") };
    let digits = (cents / 100).to_string();
    let mut euros = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            euros.push(group);
        }
        euros.push(digit);
    }
    format!("€{space}{euros}{decimal}{:02}", cents % 100)
}

/// `31/12/2026` in Italian, `31 December 2026` in English.
fn format_date((year, month, day): (u16, u8, u8), english: bool) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    if english {
        format!("{day} {} {year}", MONTHS[usize::from(month - 1)])
    } else {
        format!("{day:02}/{month:02}/{year}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(parse_euros("123.45"), Some(12_345));
        assert_eq!(parse_euros("123.4"), Some(12_340));
        assert_eq!(parse_euros("123"), Some(12_300));
        assert_eq!(parse_euros("0.05"), Some(5));
        for bad in ["", "12,50", "1.234", "-3.00", "abc", ".50", "3."] {
            assert_eq!(parse_euros(bad), None, "{bad}");
        }
        assert_eq!(format_euros(12_345, false), "€ 123,45");
        assert_eq!(format_euros(12_345, true), "€123.45");
        assert_eq!(format_euros(123_456_789, false), "€ 1.234.567,89");
        assert_eq!(format_euros(100_000, true), "€1,000.00");
        assert_eq!(format_euros(5, false), "€ 0,05");
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2026-12-31"), Some((2026, 12, 31)));
        assert_eq!(parse_date("2028-02-29"), Some((2028, 2, 29)));
        for bad in ["2026-02-29", "2100-02-29", "2026-13-01", "2026-04-31", "2026-00-10", "31/12/2026", ""] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(format_date((2026, 12, 31), false), "31/12/2026");
        assert_eq!(format_date((2026, 1, 5), true), "5 January 2026");
    }
}
