//! Fiscal-code rule for Sportello: the citizen's codice fiscale must be well formed, omocodia
//! included, and the review page shows the date of birth it encodes so that a typo is caught
//! before the appointment. With `note_minors = true` in the service's `plugin_config`, a citizen
//! under 18 on the appointment day gets a note the office sees (e.g. for identity cards, where
//! minors need their parents).

mod fiscal_code;

pub use fiscal_code::{FiscalCode, FiscalCodeError};

use sportello_plugin_sdk::{export, Datasets, LookupInput, ValidateInput, Verdict};

export!(validate = validate, lookup = lookup);

const FIELD: &str = "citizen.fiscal_code";

/// Before a booking: the fiscal code is right; its date of birth (and, if asked, a minor's note).
pub fn validate(input: &ValidateInput, _datasets: &dyn Datasets) -> Verdict {
    let code = match input.citizen("fiscal_code").map(FiscalCode::parse) {
        None => return Verdict::reject(FIELD, "Scrivi il tuo codice fiscale.", "Enter your fiscal code."),
        Some(Err(error)) => return rejection(FIELD, error),
        Some(Ok(code)) => code,
    };
    let verdict = Verdict::accept().with_line("Codice fiscale", "Fiscal code", code.as_str());
    let day = match appointment_day(&input.slot.start) {
        Some(day) => day,
        None => return verdict,
    };
    let (year, month, date) = code.birth_date(day);
    let born =
        if input.locale == "en" { format!("{date}/{month}/{year}") } else { format!("{date:02}/{month:02}/{year}") };
    let verdict = verdict.with_line("Data di nascita", "Date of birth", born);
    let note_minors = input.config["note_minors"].as_bool().unwrap_or(false);
    if note_minors && code.age_on(day) < 18 {
        let note = if input.locale == "en" {
            "Under 18 on the day of the appointment"
        } else {
            "Minorenne alla data dell'appuntamento"
        };
        return verdict.with_line("Nota", "Note", note);
    }
    verdict
}

/// As the citizen types: the fiscal code normalised (upper case, no spaces).
pub fn lookup(input: &LookupInput, _datasets: &dyn Datasets) -> Verdict {
    // Errors name the fields of the lookup request itself.
    if input.field != "fiscal_code" {
        return Verdict::reject("field", "Questo campo non si verifica qui.", "This field is not checked here.");
    }
    match FiscalCode::parse(&input.value) {
        Ok(code) => Verdict::accept().with_value(code.as_str()),
        Err(error) => rejection("value", error),
    }
}

fn rejection(field: &str, error: FiscalCodeError) -> Verdict {
    let (it, en) = error.messages();
    Verdict::reject(field, &it, &en)
}

/// The date part of an RFC 3339 time such as `2026-12-02T07:30:00+00:00`.
fn appointment_day(start: &str) -> Option<(u16, u8, u8)> {
    let date = start.get(..10)?;
    let mut parts = date.split('-');
    let day = (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    Some(day)
}
