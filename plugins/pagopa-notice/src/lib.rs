//! pagoPA notice rule for Sportello: the notice number the citizen gives must be well formed,
//! be one of the tenant's notices (dataset `avvisi`) and, when the service asks for it
//! (`check_holder = true`), be in the name of the citizen's fiscal code. The review page then
//! shows the notice's description, amount, due date and status.
//!
//! Service configuration (`plugin_config` in the pack), all optional:
//! `field` (default `notice_number`), `dataset` (default `avvisi`), `check_holder` (default false).

mod notice;
mod notice_number;

pub use notice::Notice;
pub use notice_number::{NoticeError, NoticeNumber};

use serde_json::Value;
use sportello_plugin_sdk::{export, Datasets, LookupInput, ValidateInput, Verdict};

export!(validate = validate, lookup = lookup);

struct Settings<'a> {
    field: &'a str,
    dataset: &'a str,
    check_holder: bool,
}

impl<'a> Settings<'a> {
    fn from_config(config: &'a Value) -> Self {
        Self {
            field: config["field"].as_str().unwrap_or("notice_number"),
            dataset: config["dataset"].as_str().unwrap_or("avvisi"),
            check_holder: config["check_holder"].as_bool().unwrap_or(false),
        }
    }
}

/// Before a booking: the notice exists, and is the citizen's when the service says so.
pub fn validate(input: &ValidateInput, datasets: &dyn Datasets) -> Verdict {
    let settings = Settings::from_config(&input.config);
    let field = format!("answers.{}", settings.field);
    // No `let … else`: this builds with rustc 1.63.
    let text = match input.answer(settings.field) {
        Some(text) => text,
        None => return Verdict::reject(&field, "Scrivi il numero dell'avviso.", "Enter the notice number."),
    };
    let notice = match find(&settings, &field, text, datasets) {
        Ok((_, notice)) => notice,
        Err(verdict) => return verdict,
    };
    if settings.check_holder {
        if let Err(verdict) = holder_matches(&notice, input.citizen("fiscal_code"), &field) {
            return verdict;
        }
    }
    notice.summarise(Verdict::accept(), &input.locale)
}

/// As the citizen types: the number normalised and what the notice is (never whose it is). When
/// the service checks the holder, what the notice is shows only with the holder's fiscal code:
/// without one the number is only said to be well formed and known.
pub fn lookup(input: &LookupInput, datasets: &dyn Datasets) -> Verdict {
    let settings = Settings::from_config(&input.config);
    // Errors name the fields of the lookup request itself.
    if input.field != settings.field {
        return Verdict::reject("field", "Questo campo non si verifica qui.", "This field is not checked here.");
    }
    let (number, notice) = match find(&settings, "value", &input.value, datasets) {
        Ok(found) => found,
        Err(verdict) => return verdict,
    };
    let accepted = Verdict::accept().with_value(number.as_str());
    if !settings.check_holder {
        return notice.summarise(accepted, &input.locale);
    }
    match input.citizen("fiscal_code") {
        None => accepted,
        Some(given) => match holder_matches(&notice, Some(given), "value") {
            Ok(()) => notice.summarise(accepted, &input.locale),
            Err(verdict) => verdict,
        },
    }
}

/// Whether `fiscal_code` is the notice's holder, or the verdict that says what is wrong: no
/// fiscal code, or another one (on `notice_field`).
fn holder_matches(notice: &Notice, fiscal_code: Option<&str>, notice_field: &str) -> Result<(), Verdict> {
    match fiscal_code {
        None => Err(Verdict::reject(
            "citizen.fiscal_code",
            "Scrivi il codice fiscale dell'intestatario dell'avviso.",
            "Enter the fiscal code of the person the notice is addressed to.",
        )),
        Some(fiscal_code) if !notice.belongs_to(fiscal_code) => Err(Verdict::reject(
            notice_field,
            "Questo avviso non è intestato al codice fiscale che hai scritto.",
            "This notice is not addressed to the fiscal code you entered.",
        )),
        Some(_) => Ok(()),
    }
}

/// Parses `text` and finds the notice, or the verdict that explains why not (on `field`).
fn find(
    settings: &Settings<'_>,
    field: &str,
    text: &str,
    datasets: &dyn Datasets,
) -> Result<(NoticeNumber, Notice), Verdict> {
    let number = NoticeNumber::parse(text).map_err(|error| {
        let (it, en) = error.messages();
        Verdict::reject(field, &it, &en)
    })?;
    let row = datasets.row(settings.dataset, number.as_str()).ok_or_else(|| {
        Verdict::reject(
            field,
            "Non troviamo questo avviso: controlla il numero o chiama l'ufficio.",
            "We cannot find this notice: check the number or call the office.",
        )
    })?;
    let notice = Notice::from_row(&row).ok_or_else(|| {
        Verdict::reject(
            field,
            "Non possiamo verificare questo avviso ora: chiama l'ufficio.",
            "We cannot check this notice now: please call the office.",
        )
    })?;
    Ok((number, notice))
}
