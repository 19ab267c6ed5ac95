//! What each citizen page's template receives: one typed shape per page, so that a field a
//! template reads cannot silently go missing. Field names are the templates' variable names.

use serde::Serialize;

#[derive(Serialize)]
pub struct Step {
    pub n: u32,
    pub total: u32,
    /// The step's name (Servizio · Ufficio · Data e ora · Dati · Riepilogo), a message key.
    pub name_key: String,
}

/// `error.hbs`: a title and a text (message keys), and ways on.
#[derive(Serialize, Default)]
pub struct ErrorView {
    pub title_key: &'static str,
    pub body_key: &'static str,
    pub back: Option<String>,
    /// The booking a spent hold became.
    pub code: Option<String>,
    pub manage_url: Option<String>,
    pub next: Option<NextFree>,
}

/// The first free time of a service, office and mode, as a ready-to-send hold form.
#[derive(Serialize)]
pub struct NextFree {
    pub when: String,
    pub action: String,
    pub service: String,
    pub office: String,
    pub mode: &'static str,
    pub start: String,
}

#[derive(Serialize)]
pub struct HomeView {
    pub bodies: Vec<PublicBody>,
}

#[derive(Serialize)]
pub struct PublicBody {
    pub name: String,
    pub url: String,
    pub logo_url: Option<String>,
    pub contacts: Option<String>,
}

#[derive(Serialize)]
pub struct ServicesView {
    pub step: Step,
    pub services: Vec<ServiceChoice>,
}

#[derive(Serialize)]
pub struct ServiceChoice {
    pub name: String,
    pub description: String,
    pub active: bool,
    pub url: String,
    pub duration: u16,
}

#[derive(Serialize)]
pub struct OfficesView<'a> {
    pub step: Step,
    pub first_free: Option<&'a NextFree>,
    pub first_free_place: Option<&'a str>,
    pub service: NamedSlug,
    pub offices: Vec<OfficeChoice>,
    pub action: String,
    pub back: String,
    pub error: Option<&'static str>,
    pub checked: Option<CheckedView>,
}

/// `check.hbs`: the answers a service's rule checks before the calendar.
#[derive(Serialize)]
pub struct CheckView {
    pub step: Step,
    pub service_name: String,
    pub fields: Vec<ExtraField>,
    pub errors: Vec<ErrorLink>,
    pub action: String,
    pub back: String,
}

/// What the check step accepted (e.g. a notice's description and amount), and where to change it.
#[derive(Serialize)]
pub struct CheckedView {
    pub summary: Vec<SummaryItem>,
    pub change_url: String,
}

#[derive(Serialize)]
pub struct NamedSlug {
    pub name: String,
    pub slug: String,
}

#[derive(Serialize)]
pub struct OfficeChoice {
    pub slug: String,
    pub name: String,
    pub address: String,
    pub map_url: String,
    pub modes: Vec<ModeChoice>,
}

#[derive(Serialize)]
pub struct ModeChoice {
    pub value: String,
    pub label_key: String,
    pub id: String,
}

/// A week of a month grid: seven cells, `None` before the first and after the last day.
#[derive(Serialize)]
pub struct WeekRow {
    pub days: Vec<Option<GridDay>>,
}

/// A day of a month grid.
#[derive(Serialize, Clone)]
pub struct GridDay {
    pub number: u32,
    /// The whole date, for screen readers and the times' heading.
    pub label: String,
    pub value: String,
    /// How many times are free that day (0: closed, full or past).
    pub times: usize,
    pub current: bool,
    /// The day's link (step 3); rescheduling chooses days with a form instead.
    pub url: Option<String>,
}

#[derive(Serialize)]
pub struct WeekdayName {
    pub short: String,
    pub long: String,
}

#[derive(Serialize)]
pub struct TimeChoice {
    pub value: String,
    pub label: String,
    pub id: String,
}

#[derive(Serialize)]
pub struct CalendarView {
    pub step: Step,
    pub checked: Option<CheckedView>,
    pub service_name: String,
    pub office_name: String,
    pub mode_key: String,
    pub month_label: String,
    pub weekdays: Vec<WeekdayName>,
    pub weeks: Vec<WeekRow>,
    pub has_free_days: bool,
    /// The first free time, bookable in one tap, when the citizen has not chosen a day yet.
    pub first_free: Option<NextFree>,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub horizon_end: String,
    pub chosen_day: Option<String>,
    pub times: Vec<TimeChoice>,
    pub hold_action: String,
    pub service: String,
    pub office: String,
    pub mode: String,
    pub back: String,
    pub error: Option<&'static str>,
    pub alternative: Option<Alternative>,
}

/// Another office with free places, for a month without any.
#[derive(Serialize)]
pub struct Alternative {
    pub name: String,
    pub url: String,
    /// The mode there, in the page's language, when it is not the one the citizen chose: said,
    /// never switched silently.
    pub other_mode: Option<String>,
}

#[derive(Serialize)]
pub struct DetailsView {
    pub step: Step,
    pub service_name: String,
    pub when: String,
    pub held_until: String,
    /// The hold lapsed (a confirmation may still renew it while its place is free).
    pub expired: bool,
    pub expires_at: String,
    pub fields: Vec<CitizenField>,
    pub extra: Vec<ExtraField>,
    pub reasons: Vec<ReasonChoice>,
    pub reason_error: Option<String>,
    pub details: String,
    pub details_error: Option<String>,
    pub privacy_checked: bool,
    pub privacy_error: Option<String>,
    pub errors: Vec<ErrorLink>,
    pub action: String,
    pub lookup_url: Option<String>,
    /// The form's citizen fields the rule compares a looked-up value with (space-separated names).
    pub lookup_citizen: String,
    pub back: String,
    pub release_action: String,
}

/// A citizen's own field (name, e-mail, phone, fiscal code, the mode's contact).
#[derive(Serialize)]
pub struct CitizenField {
    pub name: &'static str,
    pub id: String,
    pub label_key: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub required: bool,
    pub value: String,
    pub error_text: Option<String>,
    pub autocomplete: &'static str,
    pub lookup_field: Option<&'static str>,
    /// A checkbox under the field (the phone's "use it for WhatsApp").
    pub tick: Option<Tick>,
    /// "Did you mean …?" under the e-mail.
    pub hint: Option<EmailHint>,
    /// The id of the tick that makes this field unnecessary (scripts hide it while ticked).
    pub unless_ticked: Option<&'static str>,
}

#[derive(Serialize)]
pub struct Tick {
    pub name: &'static str,
    pub id: String,
    pub label_key: &'static str,
    pub checked: bool,
}

#[derive(Serialize)]
pub struct EmailHint {
    pub suggestion: String,
    pub typed: String,
}

/// A field the service asks for, labelled by the service.
#[derive(Serialize)]
pub struct ExtraField {
    pub name: String,
    pub id: String,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    pub value: String,
    pub inputmode: &'static str,
    pub error_text: Option<String>,
    pub lookup_field: Option<String>,
}

impl ExtraField {
    /// Service field `spec` as an empty input of the page, in `locale`.
    pub fn of(spec: &crate::domain::FieldSpec, locale: crate::domain::Locale) -> Self {
        Self {
            name: format!("answers.{}", spec.key),
            id: format!("f-answers-{}", spec.key),
            label: spec.label.get(locale).to_owned(),
            help: spec.help.as_ref().map(|h| h.get(locale).to_owned()),
            required: spec.required,
            value: String::new(),
            inputmode: if matches!(spec.kind, crate::domain::FieldKind::Digits { .. }) { "numeric" } else { "text" },
            error_text: None,
            lookup_field: None,
        }
    }
}

#[derive(Serialize)]
pub struct ReasonChoice {
    pub key: String,
    pub label: String,
    pub selected: bool,
}

/// A line of the error summary, linking to its field.
#[derive(Serialize)]
pub struct ErrorLink {
    pub href: String,
    pub label_key: Option<&'static str>,
    pub label: Option<String>,
    pub error_text: String,
}

#[derive(Serialize)]
pub struct ReviewView {
    pub step: Step,
    pub service_name: Option<String>,
    pub office_name: Option<String>,
    pub address: Option<String>,
    /// An appointment at the office says where; a video call says how instead.
    pub in_person: bool,
    pub mode_key: String,
    pub when: String,
    pub held_until: String,
    pub expired: bool,
    pub shown: Vec<ShownValue>,
    pub rule_summary: Vec<SummaryItem>,
    pub confirm_action: String,
    pub edit_url: String,
    pub release_action: String,
}

#[derive(Serialize)]
pub struct ShownValue {
    pub label: Option<String>,
    pub label_key: String,
    pub value: String,
}

/// A line a tenant rule reported, in the page's language.
#[derive(Serialize)]
pub struct SummaryItem {
    pub label: String,
    pub value: String,
}

/// A booking, as the confirmation, management, cancellation and reschedule pages show it.
#[derive(Serialize)]
pub struct BookingView {
    pub code: String,
    /// Its personal data were anonymised: nothing of the citizen is left to show.
    pub anonymised: bool,
    pub status_key: String,
    pub confirmed: bool,
    pub service_name: String,
    pub office_name: Option<String>,
    pub address: Option<String>,
    pub in_person: bool,
    pub mode_key: String,
    pub mode_label: String,
    pub contact: Option<String>,
    /// The video call's own address (a Jitsi room).
    pub call_link: Option<String>,
    pub rule_summary: Vec<SummaryItem>,
    pub when: String,
    /// The manage token that the page's forms carry as proof.
    pub token: String,
    pub ics_url: String,
    pub google_url: String,
    pub outlook_url: String,
    pub manage_url: String,
    pub cancel_action: String,
    pub reschedule_action: String,
    /// The citizen's own data: a copy to download, erasure (asked first, then done).
    pub data_action: String,
    pub erase_action: String,
    pub just_booked: bool,
    pub just_moved: bool,
    pub ask_cancel: bool,
    pub ask_erase: bool,
    pub just_erased: bool,
    /// What to bring to the appointment (the service's text).
    pub bring: Option<String>,
    /// The page with this booking that needs no code or e-mail typed (its signed link).
    pub linked_url: String,
    /// The receipt's extras: where the confirmation e-mail goes (masked), the code as a QR code.
    pub mailed_to: Option<String>,
    pub qr_svg: Option<String>,
}

#[derive(Serialize)]
pub struct RescheduleView {
    #[serde(flatten)]
    pub booking: BookingView,
    pub month: String,
    pub month_label: String,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub horizon_end: String,
    pub weekdays: Vec<WeekdayName>,
    pub weeks: Vec<WeekRow>,
    pub has_free_days: bool,
    pub chosen_day: Option<String>,
    pub day: Option<String>,
    pub times: Vec<TimeChoice>,
    pub error: Option<&'static str>,
}

/// `move-review.hbs`: the booking, the time it would move to, and the button that moves it.
#[derive(Serialize)]
pub struct MoveReview {
    #[serde(flatten)]
    pub booking: BookingView,
    pub new_when: String,
    pub start: String,
}

#[derive(Serialize)]
pub struct ManageView {
    pub action: String,
    pub code: String,
    pub email: String,
    pub error: Option<&'static str>,
}

/// `accessibility.hbs`: the accessibility statement, or that none is published yet.
#[derive(Serialize)]
pub struct AccessibilityView {
    /// The body's full name, as the statement names the one who makes it.
    pub body: String,
    pub statement: Option<StatementView>,
    pub contacts: Option<String>,
}

#[derive(Serialize)]
pub struct StatementView {
    pub conformance: &'static str,
    /// The language the text below is written in.
    pub non_accessible_lang: &'static str,
    pub non_accessible: Vec<String>,
    pub prepared_on: String,
    pub reviewed_on: Option<String>,
    pub method: &'static str,
    pub feedback_email: String,
}

/// `privacy.hbs`: the privacy notice's text, by paragraph, in the language it is written in.
#[derive(Serialize)]
pub struct PrivacyView {
    pub version: String,
    /// The language of the text (the visitor's, or the body's default when not translated).
    pub text_lang: &'static str,
    pub translated: bool,
    pub paragraphs: Vec<String>,
}
