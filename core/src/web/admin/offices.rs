//! One office's form: where it is, what it offers, its week of opening hours as a grid (intervals
//! with their desks, day by day) and its closures. Add, edit, remove.

use std::collections::BTreeMap;

use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, handler};
use serde::Serialize;

use super::edits::{EditState, saved_page, version_field};
use super::services::number;
use super::{Fields, Page, StaffVisit, WebData, form_field, stop};
use crate::app::AppError;
use crate::domain::{FieldErrors, Mode};
use crate::packs::{ClosureDraft, IntervalDraft, OfficeDraft, WEEKDAYS};
use crate::web::Web;

/// Every field of a form sent under `name`, in order (the grid's cells come as lists).
fn all<'a>(fields: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).collect()
}

/// The office as the form sent it, and the cells that were not numbers.
fn sent(fields: &[(String, String)]) -> (OfficeDraft, FieldErrors) {
    let one = |name: &str| form_field(fields, name).unwrap_or_default().trim().to_owned();
    let optional = |name: &str| Some(one(name)).filter(|v| !v.is_empty());
    let mut errors = FieldErrors::default();
    let hours = WEEKDAYS.map(|day| {
        let name = |cell: &str| format!("hours_{day}_{cell}");
        let (from, to, desks) = (all(fields, &name("from")), all(fields, &name("to")), all(fields, &name("desks")));
        if from.len() != to.len() || from.len() != desks.len() || from.len() > MAX_INTERVALS_A_DAY + 1 {
            errors.push(format!("hours_{day}"), "incomplete_grid", "This day's hours were sent incomplete: try again.");
        }
        from.iter()
            .zip(&to)
            .enumerate()
            .filter(|(_, (from, to))| !from.is_empty() || !to.is_empty())
            .map(|(i, (from, to))| {
                let desks = match desks.get(i).copied().unwrap_or_default() {
                    "" => 1,
                    raw => number(&mut errors, &format!("hours_{day}"), raw),
                };
                IntervalDraft { from: (*from).to_owned(), to: (*to).to_owned(), desks }
            })
            .collect()
    });
    let removed = all(fields, "closure_remove");
    let (from, to, reason) = (all(fields, "closure_from"), all(fields, "closure_to"), all(fields, "closure_reason"));
    if from.len() != to.len() || from.len() != reason.len() || from.len() > MAX_CLOSURES + 1 {
        errors.push("closures", "incomplete_closures", "The closures were sent incomplete: try again.");
    }
    let closures = from
        .iter()
        .zip(to.iter().chain(std::iter::repeat(&"")))
        .zip(reason.iter().chain(std::iter::repeat(&"")))
        .enumerate()
        .filter(|(i, _)| !removed.contains(&i.to_string().as_str()))
        .filter(|(_, ((from, to), reason))| !(from.is_empty() && to.is_empty() && reason.is_empty()))
        .map(|(_, ((from, to), reason))| ClosureDraft {
            from: (*from).to_owned(),
            to: Some((*to).to_owned()).filter(|t| !t.is_empty() && t != from),
            reason: (*reason).to_owned(),
        })
        .collect();
    let draft = OfficeDraft {
        slug: one("slug"),
        name: one("name"),
        address: one("address"),
        timezone: optional("timezone"),
        modes: all(fields, "modes").into_iter().map(str::to_owned).collect(),
        services: all(fields, "services").into_iter().map(str::to_owned).collect(),
        hours,
        closures,
        patron_saint_day: optional("patron_saint_day"),
        national_holidays: form_field(fields, "national_holidays").is_some(),
        teams_link: optional("teams_link"),
        skype_contact: optional("skype_contact"),
    };
    (draft, errors)
}

/// A configuration key of an office as the form field it belongs to: a day of the grid
/// (`hours.mon[1].to` → `hours_mon`), a closure's row (`closures[2].from` → `closures_2`), or a
/// field (`modes[0]` → `modes`).
fn field_of(key: &str) -> Option<String> {
    if let Some(rest) = key.strip_prefix("closures[") {
        let row = rest.split(']').next().unwrap_or_default();
        return Some(format!("closures_{row}"));
    }
    let field = key.split('[').next().unwrap_or(key).replace('.', "_");
    let known = FIELDS.contains(&field.as_str()) || WEEKDAYS.iter().any(|day| field == format!("hours_{day}"));
    known.then_some(field)
}

/// The form's fields that errors can name besides the grid's days and the closures' rows.
const FIELDS: [&str; 11] = [
    "slug",
    "name",
    "address",
    "modes",
    "services",
    "hours",
    "patron_saint_day",
    "timezone",
    "cancel_reason",
    "teams_link",
    "skype_contact",
];

/// More than anyone opens in a day or closes in a year: a form with more was not sent by a person.
const MAX_INTERVALS_A_DAY: usize = 12;
const MAX_CLOSURES: usize = 200;

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    checked: bool,
}

#[derive(Serialize)]
struct Cell {
    /// Counted from 1, for its label.
    n: usize,
    from: String,
    to: String,
    desks: String,
}

#[derive(Serialize)]
struct DayRow {
    key: &'static str,
    label_key: String,
    cells: Vec<Cell>,
    error: Option<String>,
}

#[derive(Serialize)]
struct ClosureRow {
    index: usize,
    from: String,
    to: String,
    reason: String,
    error: Option<String>,
    /// A row left blank for a new closure.
    blank: bool,
}

#[derive(Serialize)]
struct OfficePage {
    title_key: &'static str,
    /// The office's name as stored, for the heading.
    heading: String,
    tenant_name: String,
    back: String,
    action: String,
    removal_action: Option<String>,
    removing: bool,
    creating: bool,
    slug: String,
    name: String,
    address: String,
    timezone: String,
    tenant_timezone: String,
    patron_saint_day: String,
    national_holidays: bool,
    teams_link: String,
    skype_contact: String,
    mode_choices: Vec<Choice>,
    service_choices: Vec<Choice>,
    /// The grid's intervals per day (columns).
    slots: Vec<usize>,
    days: Vec<DayRow>,
    closures: Vec<ClosureRow>,
    #[serde(flatten)]
    state: EditState,
}

/// What a page shows besides the stored office.
#[derive(Default)]
struct Shown {
    draft: Option<OfficeDraft>,
    state: Option<EditState>,
    removing: bool,
}

#[derive(Clone, Copy)]
enum Which<'a> {
    New,
    Existing(&'a str),
}

fn blank_office() -> OfficeDraft {
    OfficeDraft {
        slug: String::new(),
        name: String::new(),
        address: String::new(),
        timezone: None,
        modes: vec![Mode::InPerson.code().into()],
        services: Vec::new(),
        hours: Default::default(),
        closures: Vec::new(),
        patron_saint_day: None,
        national_holidays: true,
        teams_link: None,
        skype_contact: None,
    }
}

/// The grid: each day's intervals, then blank cells up to one more than the busiest day has.
fn days(draft: &OfficeDraft, errors: &BTreeMap<String, String>) -> (Vec<usize>, Vec<DayRow>) {
    let columns = draft.hours.iter().map(Vec::len).max().unwrap_or(0).max(1) + 1;
    let rows = WEEKDAYS
        .iter()
        .zip(&draft.hours)
        .enumerate()
        .map(|(n, (day, intervals))| DayRow {
            key: day,
            label_key: format!("weekday-{}", n + 1),
            cells: (0..columns)
                .map(|i| match intervals.get(i) {
                    Some(interval) => Cell {
                        n: i + 1,
                        from: interval.from.clone(),
                        to: interval.to.clone(),
                        desks: interval.desks.to_string(),
                    },
                    None => Cell { n: i + 1, from: String::new(), to: String::new(), desks: String::new() },
                })
                .collect(),
            error: errors.get(&format!("hours_{day}")).cloned(),
        })
        .collect();
    ((1..=columns).collect(), rows)
}

fn closures(draft: &OfficeDraft, errors: &BTreeMap<String, String>) -> Vec<ClosureRow> {
    let mut rows: Vec<ClosureRow> = draft
        .closures
        .iter()
        .enumerate()
        .map(|(index, c)| ClosureRow {
            index,
            from: c.from.clone(),
            to: c.to.clone().unwrap_or_default(),
            reason: c.reason.clone(),
            error: errors.get(&format!("closures_{index}")).cloned(),
            blank: false,
        })
        .collect();
    let index = rows.len();
    rows.push(ClosureRow {
        index,
        from: String::new(),
        to: String::new(),
        reason: String::new(),
        error: None,
        blank: true,
    });
    rows
}

impl Web {
    async fn office_page(
        &self,
        visit: &StaffVisit,
        tenant: &str,
        which: Which<'_>,
        status: StatusCode,
        shown: Shown,
    ) -> Page {
        let fail = |e: AppError| stop(self.admin_failure(visit, &e));
        let parts = self.app.parts(&visit.session, tenant).await.map_err(fail)?;
        let overview = self.app.tenant_overview(&visit.session, tenant).await.map_err(fail)?;
        let base = format!("/admin/t/{tenant}");
        let (action, removal_action, stored) = match which {
            Which::New => (format!("{base}/new-office"), None, None),
            Which::Existing(slug) => {
                let stored =
                    parts.offices.iter().find(|o| o.slug == slug).ok_or_else(|| fail(AppError::NotFound("office")))?;
                let url = format!("{base}/offices/{slug}");
                (url.clone(), Some(format!("{url}/removal")), Some(stored.clone()))
            }
        };
        let heading = stored.as_ref().map(|o| o.name.clone()).unwrap_or_default();
        let draft = shown.draft.or(stored).unwrap_or_else(blank_office);
        let state = shown.state.unwrap_or_else(|| EditState { version: parts.version, ..EditState::default() });
        let (slots, days) = days(&draft, &state.errors);
        let locale = visit.locale.code();
        let view = OfficePage {
            title_key: if matches!(which, Which::New) { "admin-add-office" } else { "admin-edit-office" },
            heading,
            tenant_name: overview.name,
            back: format!("{base}/configuration#offices"),
            action,
            removal_action,
            removing: shown.removing,
            creating: matches!(which, Which::New),
            mode_choices: Mode::ALL
                .iter()
                .map(|m| Choice {
                    value: m.code().into(),
                    label: self.render.text(visit.locale, &format!("mode-{}", m.code()), &[]),
                    checked: draft.modes.iter().any(|c| c == m.code()),
                })
                .collect(),
            service_choices: parts
                .services
                .iter()
                .map(|s| Choice {
                    value: s.slug.clone(),
                    label: s.name.get(locale).or_else(|| s.name.values().next()).cloned().unwrap_or_default(),
                    checked: draft.services.contains(&s.slug),
                })
                .collect(),
            slots,
            days,
            closures: closures(&draft, &state.errors),
            slug: draft.slug,
            name: draft.name,
            address: draft.address,
            timezone: draft.timezone.unwrap_or_default(),
            tenant_timezone: overview.timezone.name().to_owned(),
            patron_saint_day: draft.patron_saint_day.unwrap_or_default(),
            national_holidays: draft.national_holidays,
            teams_link: draft.teams_link.unwrap_or_default(),
            skype_contact: draft.skype_contact.unwrap_or_default(),
            state,
        };
        Ok(self.staff_page(visit, "admin-office", status, &view))
    }

    async fn save_office_form(
        &self,
        request: &Request,
        tenant: &str,
        which: Which<'_>,
        fields: Vec<(String, String)>,
    ) -> Page {
        let single: Fields = fields.iter().cloned().collect();
        let visit = self.staff_form(request, &single).await?;
        let (mut draft, errors) = sent(&fields);
        let original = match which {
            Which::New => None,
            Which::Existing(slug) => {
                // The address name of an office that exists does not change.
                draft.slug = slug.to_owned();
                Some(slug)
            }
        };
        let mut state = EditState::sent(&single);
        let saved = match self.strand_choice(&visit, &single, &mut state) {
            Ok(_) if !errors.is_empty() => Err(AppError::Invalid(errors)),
            Ok(policy) => {
                self.app.save_office(&visit.session, tenant, version_field(&single), original, &draft, &policy).await
            }
            Err(error) => Err(error),
        };
        match saved {
            Ok(report) => Ok(saved_page(&visit, tenant, &report)),
            Err(error) => {
                let (status, state) = self.refused_edit(&visit, error, state, field_of)?;
                let shown = Shown { draft: Some(draft), state: Some(state), removing: false };
                self.office_page(&visit, tenant, which, status, shown).await
            }
        }
    }
}

#[handler]
pub async fn new_office_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.staff_visit(request).await?;
    web.office_page(&visit, &tenant, Which::New, StatusCode::OK, Shown::default()).await
}

#[handler]
pub async fn create_office(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    web.save_office_form(request, &tenant, Which::New, fields).await
}

#[handler]
pub async fn office_page(web: WebData<'_>, request: &Request, Path((tenant, office)): Path<(String, String)>) -> Page {
    let visit = web.staff_visit(request).await?;
    web.office_page(&visit, &tenant, Which::Existing(&office), StatusCode::OK, Shown::default()).await
}

#[handler]
pub async fn save_office(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, office)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    web.save_office_form(request, &tenant, Which::Existing(&office), fields).await
}

#[handler]
pub async fn remove_office(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, office)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let mut state = EditState::sent(&fields);
    let removed = match web.strand_choice(&visit, &fields, &mut state) {
        Ok(policy) => web.app.remove_office(&visit.session, &tenant, version_field(&fields), &office, &policy).await,
        Err(error) => Err(error),
    };
    match removed {
        Ok(report) => Ok(saved_page(&visit, &tenant, &report)),
        Err(error) => {
            let (status, state) = web.refused_edit(&visit, error, state, field_of)?;
            let shown = Shown { state: Some(state), removing: true, ..Shown::default() };
            web.office_page(&visit, &tenant, Which::Existing(&office), status, shown).await
        }
    }
}
