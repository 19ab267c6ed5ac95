//! One service's form: add, edit, remove. What was typed is kept on every error.

use poem::http::StatusCode;
use poem::web::{Form, Path};
use poem::{Request, handler};
use serde::Serialize;

use super::edits::{EditState, saved_page, version_field};
use super::{Fields, Page, StaffVisit, WebData, form_field, stop};
use crate::app::AppError;
use crate::domain::{FieldErrors, Mode};
use crate::packs::{FieldDraft, PluginChoice, ReasonDraft, ServiceDraft};
use crate::web::Web;

/// The form's fields as typed (numbers too, so that a typo is shown back as it was).
#[derive(Serialize, Default)]
struct ServiceForm {
    slug: String,
    name_it: String,
    name_en: String,
    description_it: String,
    description_en: String,
    bring_it: String,
    bring_en: String,
    duration_minutes: String,
    min_notice_hours: String,
    horizon_days: String,
    max_active_bookings_per_person: String,
    fiscal_code_required: bool,
    active: bool,
    modes: Vec<String>,
    /// The reasons, and one blank row to add one.
    reasons: Vec<ReasonRow>,
    /// The questions, and one blank row to add one.
    questions: Vec<QuestionRow>,
    /// The plugin's id, empty for none, and its settings as TOML text.
    plugin: String,
    plugin_config: String,
}

#[derive(Serialize, Default, Clone)]
struct QuestionRow {
    index: usize,
    key: String,
    label_it: String,
    label_en: String,
    help_it: String,
    help_en: String,
    digits: bool,
    required: bool,
    min: String,
    max: String,
    blank: bool,
}

fn question_rows(rows: impl Iterator<Item = QuestionRow>) -> Vec<QuestionRow> {
    let mut rows: Vec<QuestionRow> = rows.enumerate().map(|(index, row)| QuestionRow { index, ..row }).collect();
    rows.push(QuestionRow { index: rows.len(), blank: true, ..QuestionRow::default() });
    rows
}

#[derive(Serialize, Default)]
struct ReasonRow {
    index: usize,
    key: String,
    it: String,
    en: String,
    blank: bool,
}

fn reason_rows(reasons: impl Iterator<Item = (String, String, String)>) -> Vec<ReasonRow> {
    let mut rows: Vec<ReasonRow> =
        reasons.enumerate().map(|(index, (key, it, en))| ReasonRow { index, key, it, en, blank: false }).collect();
    rows.push(ReasonRow { index: rows.len(), blank: true, ..ReasonRow::default() });
    rows
}

impl ServiceForm {
    fn blank() -> Self {
        Self {
            duration_minutes: "30".into(),
            min_notice_hours: "24".into(),
            horizon_days: "60".into(),
            active: true,
            modes: vec![Mode::InPerson.code().into()],
            reasons: reason_rows(std::iter::empty()),
            questions: question_rows(std::iter::empty()),
            ..Self::default()
        }
    }

    fn of(draft: &ServiceDraft) -> Self {
        let text = |texts: &std::collections::BTreeMap<String, String>, code: &str| {
            texts.get(code).cloned().unwrap_or_default()
        };
        Self {
            slug: draft.slug.clone(),
            name_it: text(&draft.name, "it"),
            name_en: text(&draft.name, "en"),
            description_it: text(&draft.description, "it"),
            description_en: text(&draft.description, "en"),
            bring_it: text(&draft.bring, "it"),
            bring_en: text(&draft.bring, "en"),
            duration_minutes: draft.duration_minutes.to_string(),
            min_notice_hours: draft.min_notice_hours.to_string(),
            horizon_days: draft.horizon_days.to_string(),
            max_active_bookings_per_person: draft
                .max_active_bookings_per_person
                .map(|n| n.to_string())
                .unwrap_or_default(),
            fiscal_code_required: draft.fiscal_code_required,
            active: draft.active,
            modes: draft.modes.clone(),
            reasons: reason_rows(
                draft.reasons.iter().flatten().map(|r| (r.key.clone(), text(&r.label, "it"), text(&r.label, "en"))),
            ),
            questions: question_rows(draft.fields.iter().flatten().map(|f| QuestionRow {
                key: f.key.clone(),
                label_it: text(&f.label, "it"),
                label_en: text(&f.label, "en"),
                help_it: text(&f.help, "it"),
                help_en: text(&f.help, "en"),
                digits: f.kind == "digits",
                required: f.required,
                min: f.min_length.map(|n| n.to_string()).unwrap_or_default(),
                max: f.max_length.map(|n| n.to_string()).unwrap_or_default(),
                ..QuestionRow::default()
            })),
            plugin: match &draft.plugin {
                PluginChoice::With { id, .. } => id.clone(),
                PluginChoice::Keep | PluginChoice::Without => String::new(),
            },
            plugin_config: match &draft.plugin {
                PluginChoice::With { config, .. } => toml::to_string(config).unwrap_or_default(),
                PluginChoice::Keep | PluginChoice::Without => String::new(),
            },
        }
    }

    fn sent(fields: &[(String, String)]) -> Self {
        let one = |name: &str| form_field(fields, name).unwrap_or_default().trim().to_owned();
        Self {
            slug: one("slug"),
            name_it: one("name_it"),
            name_en: one("name_en"),
            description_it: one("description_it"),
            description_en: one("description_en"),
            bring_it: one("bring_it"),
            bring_en: one("bring_en"),
            duration_minutes: one("duration_minutes"),
            min_notice_hours: one("min_notice_hours"),
            horizon_days: one("horizon_days"),
            max_active_bookings_per_person: one("max_active_bookings_per_person"),
            fiscal_code_required: form_field(fields, "fiscal_code_required").is_some(),
            active: form_field(fields, "active").is_some(),
            modes: fields.iter().filter(|(k, _)| k == "modes").map(|(_, v)| v.clone()).collect(),
            reasons: {
                let all = |name: &str| -> Vec<String> {
                    fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).collect()
                };
                let removed = all("reason_remove");
                let (keys, it, en) = (all("reason_key"), all("reason_it"), all("reason_en"));
                let kept = keys
                    .into_iter()
                    .zip(it)
                    .zip(en)
                    .enumerate()
                    .filter(|(i, _)| !removed.contains(&i.to_string()))
                    .filter(|(_, ((key, it), en))| !(key.is_empty() && it.is_empty() && en.is_empty()))
                    .map(|(_, ((key, it), en))| (key, it, en));
                reason_rows(kept)
            },
            questions: sent_questions(fields),
            plugin: one("plugin"),
            plugin_config: one("plugin_config"),
        }
    }

    /// The draft it makes, or each field that is not a number where one is needed.
    fn draft(&self) -> Result<ServiceDraft, AppError> {
        let mut errors = FieldErrors::default();
        let duration_minutes = number(&mut errors, "duration_minutes", &self.duration_minutes);
        let mut length = |raw: &str| match raw {
            "" => None,
            raw => Some(number::<u16>(&mut errors, "fields", raw)),
        };
        let lengths: Vec<(Option<u16>, Option<u16>)> =
            self.questions.iter().filter(|q| !q.blank).map(|q| (length(&q.min), length(&q.max))).collect();
        let min_notice_hours = number(&mut errors, "min_notice_hours", &self.min_notice_hours);
        let horizon_days = number(&mut errors, "horizon_days", &self.horizon_days);
        let per_person = match self.max_active_bookings_per_person.as_str() {
            "" => None,
            raw => Some(number(&mut errors, "max_active_bookings_per_person", raw)),
        };
        let plugin = match self.plugin.as_str() {
            "" => PluginChoice::Without,
            id => match toml::from_str::<toml::Table>(&self.plugin_config) {
                Ok(config) => PluginChoice::With { id: id.to_owned(), config },
                Err(e) => {
                    let reason = format!("Write the settings as TOML, one key = value a line: {}", e.message());
                    errors.push("plugin_config", "invalid_plugin_config", reason);
                    PluginChoice::Without
                }
            },
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let texts = |it: &str, en: &str| {
            [("it", it), ("en", en)].into_iter().map(|(code, text)| (code.to_owned(), text.to_owned())).collect()
        };
        Ok(ServiceDraft {
            slug: self.slug.clone(),
            name: texts(&self.name_it, &self.name_en),
            description: texts(&self.description_it, &self.description_en),
            bring: texts(&self.bring_it, &self.bring_en),
            duration_minutes,
            modes: self.modes.clone(),
            min_notice_hours,
            horizon_days,
            fiscal_code_required: self.fiscal_code_required,
            max_active_bookings_per_person: per_person,
            active: self.active,
            fields: Some(
                self.questions
                    .iter()
                    .filter(|q| !q.blank)
                    .zip(lengths)
                    .map(|(q, (min_length, max_length))| FieldDraft {
                        key: q.key.clone(),
                        label: texts(&q.label_it, &q.label_en),
                        help: texts(&q.help_it, &q.help_en),
                        kind: if q.digits { "digits".into() } else { "text".into() },
                        required: q.required,
                        min_length,
                        max_length,
                    })
                    .collect(),
            ),
            reasons: Some(
                self.reasons
                    .iter()
                    .filter(|r| !r.blank)
                    .map(|r| ReasonDraft { key: r.key.clone(), label: texts(&r.it, &r.en) })
                    .collect(),
            ),
            plugin,
        })
    }
}

/// The questions a form sent, row by row (every row sends every column; a ticked box sends its
/// row's number).
fn sent_questions(fields: &[(String, String)]) -> Vec<QuestionRow> {
    let all = |name: &str| -> Vec<String> {
        fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).collect()
    };
    let (removed, required) = (all("question_remove"), all("question_required"));
    let keys = all("question_key");
    let column = |name: &str| {
        let mut values = all(name);
        values.resize(keys.len(), String::new());
        values
    };
    let (label_it, label_en) = (column("question_it"), column("question_en"));
    let (help_it, help_en) = (column("question_help_it"), column("question_help_en"));
    let (kinds, mins, maxs) = (column("question_kind"), column("question_min"), column("question_max"));
    let rows: Vec<QuestionRow> = keys
        .iter()
        .enumerate()
        .filter_map(|(i, key)| {
            let at = |values: &[String]| values.get(i).cloned().unwrap_or_default();
            let row = QuestionRow {
                key: key.clone(),
                label_it: at(&label_it),
                label_en: at(&label_en),
                help_it: at(&help_it),
                help_en: at(&help_en),
                digits: at(&kinds) == "digits",
                required: required.contains(&i.to_string()),
                min: at(&mins),
                max: at(&maxs),
                ..QuestionRow::default()
            };
            let empty = row.key.is_empty() && row.label_it.is_empty() && row.label_en.is_empty();
            (!removed.contains(&i.to_string()) && !empty).then_some(row)
        })
        .collect();
    question_rows(rows.into_iter())
}

/// A whole number for `field`, or an error named after it (0 stands in until it is fixed).
pub(super) fn number<T: std::str::FromStr + Default>(errors: &mut FieldErrors, field: &str, raw: &str) -> T {
    raw.trim().parse().unwrap_or_else(|_| {
        errors.push(field, "not_a_number", "Enter a whole number.");
        T::default()
    })
}

/// The form's fields that errors can name.
const FIELDS: [&str; 18] = [
    "plugin",
    "plugin_config",
    "reasons",
    "fields",
    "slug",
    "name_it",
    "name_en",
    "description_it",
    "description_en",
    "bring_it",
    "bring_en",
    "duration_minutes",
    "modes",
    "min_notice_hours",
    "horizon_days",
    "max_active_bookings_per_person",
    "fiscal_code_required",
    "cancel_reason",
];

/// A configuration key of a service (`name.it`, `modes[1]`) as the form field it comes from.
fn field_of(key: &str) -> Option<String> {
    let field = key.split('[').next().unwrap_or(key).replace('.', "_");
    FIELDS.contains(&field.as_str()).then_some(field)
}

#[derive(Serialize)]
struct ModeChoice {
    code: &'static str,
    label_key: String,
    checked: bool,
}

#[derive(Serialize)]
struct ServicePage {
    title_key: &'static str,
    /// The service's name as stored, for the heading.
    heading: String,
    tenant_name: String,
    back: String,
    action: String,
    /// Only for a service that exists.
    removal_action: Option<String>,
    /// The stranded bookings listed are the removal's.
    removing: bool,
    creating: bool,
    #[serde(flatten)]
    form: ServiceForm,
    mode_choices: Vec<ModeChoice>,
    plugin_choices: Vec<PluginOption>,
    #[serde(flatten)]
    state: EditState,
}

#[derive(Serialize)]
struct PluginOption {
    id: String,
    selected: bool,
}

/// What a page shows besides the stored service: what was typed, and why it was refused.
#[derive(Default)]
struct Shown {
    form: Option<ServiceForm>,
    state: Option<EditState>,
    /// The refusal was the removal's.
    removing: bool,
}

/// Which service a page is about: a new one, or the one in the path.
#[derive(Clone, Copy)]
enum Which<'a> {
    New,
    Existing(&'a str),
}

impl Web {
    async fn service_page(
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
            Which::New => (format!("{base}/new-service"), None, None),
            Which::Existing(slug) => {
                let stored = parts
                    .services
                    .iter()
                    .find(|s| s.slug == slug)
                    .ok_or_else(|| fail(AppError::NotFound("service")))?;
                let url = format!("{base}/services/{slug}");
                (url.clone(), Some(format!("{url}/removal")), Some(stored))
            }
        };
        let heading = stored
            .map(|s| {
                s.name
                    .get(visit.locale.code())
                    .or_else(|| s.name.values().next())
                    .cloned()
                    .unwrap_or_else(|| s.slug.clone())
            })
            .unwrap_or_default();
        let form = shown.form.unwrap_or_else(|| stored.map_or_else(ServiceForm::blank, ServiceForm::of));
        let mode_choices = Mode::ALL
            .iter()
            .map(|m| ModeChoice {
                code: m.code(),
                label_key: format!("mode-{}", m.code()),
                checked: form.modes.iter().any(|c| c == m.code()),
            })
            .collect();
        let mut plugin_choices: Vec<PluginOption> = parts
            .plugins
            .iter()
            .map(|p| PluginOption { id: p.id.to_string(), selected: p.id.as_str() == form.plugin })
            .collect();
        if !form.plugin.is_empty() && !plugin_choices.iter().any(|p| p.selected) {
            // Typed into the text, or removed meanwhile: shown, so the refusal names it.
            plugin_choices.push(PluginOption { id: form.plugin.clone(), selected: true });
        }
        let view = ServicePage {
            title_key: if matches!(which, Which::New) { "admin-add-service" } else { "admin-edit-service" },
            heading,
            tenant_name: overview.name,
            back: format!("{base}/configuration#services"),
            action,
            removal_action,
            removing: shown.removing,
            creating: matches!(which, Which::New),
            form,
            mode_choices,
            plugin_choices,
            state: shown.state.unwrap_or_else(|| EditState { version: parts.version, ..EditState::default() }),
        };
        Ok(self.staff_page(visit, "admin-service", status, &view))
    }

    async fn save_service_form(
        &self,
        request: &Request,
        tenant: &str,
        which: Which<'_>,
        fields: Vec<(String, String)>,
    ) -> Page {
        let single: Fields = fields.iter().cloned().collect();
        let visit = self.staff_form(request, &single).await?;
        let mut form = ServiceForm::sent(&fields);
        if let Which::Existing(slug) = which {
            // The address name of a service that exists does not change.
            form.slug = slug.to_owned();
        }
        let mut state = EditState::sent(&single);
        let saved = match (self.strand_choice(&visit, &single, &mut state), form.draft()) {
            (Ok(policy), Ok(draft)) => {
                let original = match which {
                    Which::New => None,
                    Which::Existing(slug) => Some(slug),
                };
                self.app.save_service(&visit.session, tenant, version_field(&single), original, &draft, &policy).await
            }
            (Err(error), _) | (_, Err(error)) => Err(error),
        };
        match saved {
            Ok(report) => Ok(saved_page(&visit, tenant, &report)),
            Err(error) => {
                let (status, state) = self.refused_edit(&visit, error, state, field_of)?;
                let shown = Shown { form: Some(form), state: Some(state), removing: false };
                self.service_page(&visit, tenant, which, status, shown).await
            }
        }
    }
}

#[handler]
pub async fn new_service_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.staff_visit(request).await?;
    web.service_page(&visit, &tenant, Which::New, StatusCode::OK, Shown::default()).await
}

#[handler]
pub async fn create_service(
    web: WebData<'_>,
    request: &Request,
    Path(tenant): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    web.save_service_form(request, &tenant, Which::New, fields).await
}

#[handler]
pub async fn service_page(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, service)): Path<(String, String)>,
) -> Page {
    let visit = web.staff_visit(request).await?;
    web.service_page(&visit, &tenant, Which::Existing(&service), StatusCode::OK, Shown::default()).await
}

#[handler]
pub async fn save_service(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, service)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    web.save_service_form(request, &tenant, Which::Existing(&service), fields).await
}

#[handler]
pub async fn remove_service(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, service)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let mut state = EditState::sent(&fields);
    let removed = match web.strand_choice(&visit, &fields, &mut state) {
        Ok(policy) => web.app.remove_service(&visit.session, &tenant, version_field(&fields), &service, &policy).await,
        Err(error) => Err(error),
    };
    match removed {
        Ok(report) => Ok(saved_page(&visit, &tenant, &report)),
        Err(error) => {
            let (status, state) = web.refused_edit(&visit, error, state, field_of)?;
            let shown = Shown { state: Some(state), removing: true, ..Shown::default() };
            web.service_page(&visit, &tenant, Which::Existing(&service), status, shown).await
        }
    }
}
