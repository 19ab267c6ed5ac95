//! Bookings: codes, status, and the citizen's details parsed with every error reported at once.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rand::Rng;
use rand::seq::IndexedRandom;

use super::catalog::{FieldKind, MAX_DETAILS_CHARS, Service};
use super::contact::{Email, FiscalCode, Phone};
use super::mode::{ContactError, Mode, ModeContact};
use super::text::{Locale, Localized, Slug, TextError, multi_line, single_line};

/// Characters no one confuses when reading a code aloud or off a screen (no 0/O, 1/I/L, U/V).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTWXYZ23456789";
const CODE_LENGTH: usize = 8;

/// A booking's public code, e.g. `K7MQ-2XPA`: random (≈ 5·10¹¹ codes), so not guessable in sequence.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BookingCode(String);

impl BookingCode {
    pub fn generate(rng: &mut impl Rng) -> Self {
        let code = (0..CODE_LENGTH).filter_map(|_| CODE_ALPHABET.choose(rng).copied().map(char::from)).collect();
        Self(code)
    }

    /// Accepts what people type: any case, with spaces or a dash.
    pub fn parse(raw: &str) -> Option<Self> {
        let code: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).map(|c| c.to_ascii_uppercase()).collect();
        let valid = code.len() == CODE_LENGTH && code.bytes().all(|b| CODE_ALPHABET.contains(&b));
        valid.then_some(Self(code))
    }

    /// The stored form, without the dash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BookingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = self.0.split_at(CODE_LENGTH / 2);
        write!(f, "{a}-{b}")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookingStatus {
    Confirmed,
    Cancelled,
    CheckedIn,
    /// Called to a desk (after checking in).
    Called,
    NoShow,
    Completed,
}

impl BookingStatus {
    pub const ALL: [BookingStatus; 6] =
        [Self::Confirmed, Self::Cancelled, Self::CheckedIn, Self::Called, Self::NoShow, Self::Completed];

    pub fn code(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Cancelled => "cancelled",
            Self::CheckedIn => "checked_in",
            Self::Called => "called",
            Self::NoShow => "no_show",
            Self::Completed => "completed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == raw)
    }

    /// Only a confirmed booking still holds its place, so only it can be cancelled or moved.
    pub fn is_changeable(self) -> bool {
        self == Self::Confirmed
    }

    /// Whether the booking occupies capacity.
    pub fn holds_capacity(self) -> bool {
        self != Self::Cancelled
    }
}

/// How a booking was made: by the citizen (on the pages or through the API) or by staff for a
/// citizen who came to the counter or called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    Web,
    Api,
    Counter,
    Phone,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Self::Web, Self::Api, Self::Counter, Self::Phone];

    pub fn code(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Api => "api",
            Self::Counter => "counter",
            Self::Phone => "phone",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == raw)
    }

    /// Staff book for the citizen: no minimum notice, a slot under way may still be taken, and
    /// a citizen without an e-mail address can be booked.
    pub fn by_staff(self) -> bool {
        matches!(self, Self::Counter | Self::Phone)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Citizen {
    first_name: String,
    last_name: String,
    /// None only for a booking staff made for someone without one (at the counter, by phone).
    email: Option<Email>,
    /// None only once the booking's personal data were anonymised.
    phone: Option<Phone>,
    fiscal_code: Option<FiscalCode>,
}

impl Citizen {
    /// A citizen whose names are single lines of at most 100 characters; `None` otherwise. The
    /// contacts are parsed already, so a `Citizen` holds only valid values.
    pub fn new(
        first_name: &str,
        last_name: &str,
        email: Option<Email>,
        phone: Phone,
        fiscal_code: Option<FiscalCode>,
    ) -> Option<Self> {
        Some(Self {
            first_name: single_line(first_name, MAX_NAME_CHARS)?,
            last_name: single_line(last_name, MAX_NAME_CHARS)?,
            email,
            phone: Some(phone),
            fiscal_code,
        })
    }

    /// The citizen of a booking whose personal data were anonymised: nothing is left of them.
    pub fn erased() -> Self {
        Self { first_name: String::new(), last_name: String::new(), email: None, phone: None, fiscal_code: None }
    }

    /// Whether this is what is left once the personal data were anonymised.
    pub fn is_erased(&self) -> bool {
        self.phone.is_none()
    }

    pub fn first_name(&self) -> &str {
        &self.first_name
    }

    pub fn last_name(&self) -> &str {
        &self.last_name
    }

    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }

    pub fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }

    pub fn fiscal_code(&self) -> Option<&FiscalCode> {
        self.fiscal_code.as_ref()
    }
}

/// A problem with one input field; `field` is a dotted path such as `citizen.email`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, field: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), code, message: message.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when no error was recorded.
    pub fn into_result<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, FieldErrors> {
        match (self.is_empty(), value()) {
            (true, Some(v)) => Ok(v),
            (_, _) => Err(self),
        }
    }
}

/// What a citizen submits, as typed.
#[derive(Clone, Debug, Default)]
pub struct DetailsForm {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub fiscal_code: Option<String>,
    pub contact: Option<String>,
    pub answers: BTreeMap<String, String>,
    pub reason: Option<String>,
    pub details: Option<String>,
    pub privacy_accepted: bool,
    pub locale: Option<String>,
}

/// The citizen's details, valid for one service and mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookingDetails {
    pub citizen: Citizen,
    pub contact: ModeContact,
    pub answers: BTreeMap<String, String>,
    pub reason: Option<String>,
    pub details: Option<String>,
    pub locale: Locale,
}

/// One line a tenant rule reported about a booking (e.g. "Amount: € 123.45").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryLine {
    pub label: Localized,
    pub value: String,
}

/// A booking as stored: the slot it holds and what the citizen left.
#[derive(Clone, Debug, PartialEq)]
pub struct Booking {
    pub id: i32,
    pub code: BookingCode,
    pub status: BookingStatus,
    pub service: Slug,
    pub office: Slug,
    pub mode: Mode,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub timezone: Tz,
    pub details: BookingDetails,
    pub privacy_version: String,
    /// What the service's rule reported when the booking was made.
    pub summary: Vec<SummaryLine>,
    pub channel: Channel,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times it changed since it was made (moved, cancelled).
    pub revision: u32,
    /// When its personal data were anonymised; none while it holds them.
    pub anonymised_at: Option<DateTime<Utc>>,
}

const MAX_NAME_CHARS: usize = 100;

impl Booking {
    /// The booking as it is after a change at `now`.
    pub fn changed(&self, now: DateTime<Utc>) -> Self {
        Self { updated_at: now, revision: self.revision.saturating_add(1), ..self.clone() }
    }

    /// The service, office and mode booked.
    pub fn offer(&self) -> super::OfferKey {
        super::OfferKey { service: self.service.clone(), office: self.office.clone(), mode: self.mode }
    }
}

impl DetailsForm {
    /// Parses the form for `service` booked in `mode` by a citizen, reporting every problem at once.
    pub fn parse(&self, service: &Service, mode: Mode, default_locale: Locale) -> Result<BookingDetails, FieldErrors> {
        self.parse_for(service, mode, default_locale, Channel::Web)
    }

    /// Parses the form as it came through `channel`: staff may leave out the e-mail address of
    /// a citizen who has none.
    pub fn parse_for(
        &self,
        service: &Service,
        mode: Mode,
        default_locale: Locale,
        channel: Channel,
    ) -> Result<BookingDetails, FieldErrors> {
        let mut errors = FieldErrors::default();
        let first_name = single_line(&self.first_name, MAX_NAME_CHARS);
        if first_name.is_none() {
            errors.push("citizen.first_name", "required", "Enter your first name (up to 100 characters).");
        }
        let last_name = single_line(&self.last_name, MAX_NAME_CHARS);
        if last_name.is_none() {
            errors.push("citizen.last_name", "required", "Enter your last name (up to 100 characters).");
        }
        let email = Email::parse(&self.email);
        let no_email = self.email.trim().is_empty();
        // A video call's link reaches the citizen by e-mail: staff may leave the address out only
        // for calls that need none.
        let link_by_mail = matches!(mode, Mode::Jitsi | Mode::Teams);
        if no_email && (!channel.by_staff() || link_by_mail) {
            errors.push("citizen.email", "required", "Enter your e-mail address, such as name@example.it.");
        } else if !no_email && email.is_none() {
            errors.push("citizen.email", "invalid_email", "Enter an e-mail address such as name@example.it.");
        }
        let phone = Phone::parse(&self.phone);
        if self.phone.trim().is_empty() {
            errors.push("citizen.phone", "required", "Enter your phone number, such as +39 333 123 4567.");
        } else if phone.is_none() {
            errors.push("citizen.phone", "invalid_phone", "Enter a phone number such as +39 333 123 4567.");
        }
        let fiscal_code = self.parse_fiscal_code(service, &mut errors);
        let contact = mode.parse_contact(self.contact.as_deref()).unwrap_or_else(|e| {
            let code = match e {
                ContactError::Missing => "required",
                ContactError::NotMobile => "not_mobile",
                _ => "invalid_contact",
            };
            errors.push("contact", code, format!("{} ({}): {e}.", contact_label(mode), mode.code()));
            ModeContact::None
        });
        let answers = self.parse_answers(service, &mut errors);
        let reason = self.parse_reason(service, &mut errors);
        let details = match multi_line(self.details.as_deref().unwrap_or_default(), MAX_DETAILS_CHARS) {
            Ok(details) => details,
            Err(TextError::TooLong) => {
                errors.push("details", "too_long", format!("Keep the details within {MAX_DETAILS_CHARS} characters."));
                None
            }
            Err(TextError::ControlCharacter) => {
                errors.push("details", "control_character", "Remove the invisible control characters.");
                None
            }
        };
        if !self.privacy_accepted {
            errors.push("privacy_accepted", "required", "Read and accept the privacy notice to book.");
        }
        let locale = match self.locale.as_deref() {
            None => default_locale,
            Some(raw) => Locale::parse(raw).unwrap_or_else(|| {
                errors.push("locale", "unsupported", "Use 'it' or 'en'.");
                default_locale
            }),
        };
        errors.into_result(|| {
            Some(BookingDetails {
                citizen: Citizen {
                    first_name: first_name?,
                    last_name: last_name?,
                    email: if no_email { None } else { Some(email?) },
                    phone: Some(phone?),
                    fiscal_code,
                },
                contact,
                answers,
                reason,
                details,
                locale,
            })
        })
    }

    fn parse_fiscal_code(&self, service: &Service, errors: &mut FieldErrors) -> Option<FiscalCode> {
        match self.fiscal_code.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            None if service.fiscal_code_required => {
                errors.push("citizen.fiscal_code", "required", "This service needs your fiscal code (codice fiscale).");
                None
            }
            None => None,
            Some(raw) => {
                let parsed = FiscalCode::parse(raw);
                if parsed.is_none() {
                    errors.push(
                        "citizen.fiscal_code",
                        "invalid_fiscal_code",
                        "Enter a valid 16-character fiscal code.",
                    );
                }
                parsed
            }
        }
    }

    fn parse_answers(&self, service: &Service, errors: &mut FieldErrors) -> BTreeMap<String, String> {
        let mut answers = BTreeMap::new();
        for key in self.answers.keys().filter(|k| !service.fields.iter().any(|f| &f.key == *k)) {
            errors.push(format!("answers.{key}"), "unknown_field", "This service does not ask for this field.");
        }
        for field in &service.fields {
            let path = format!("answers.{}", field.key);
            let label = field.label.get(Locale::En);
            match self.answers.get(&field.key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
                None if field.required => errors.push(path, "required", format!("Enter {label}.")),
                None => {}
                Some(value) => match field.kind {
                    FieldKind::Text { max_length } => match single_line(value, usize::from(max_length)) {
                        Some(v) => {
                            answers.insert(field.key.clone(), v);
                        }
                        None => errors.push(path, "too_long", format!("Keep {label} within {max_length} characters.")),
                    },
                    FieldKind::Digits { min_length, max_length } => {
                        let digits: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                        let length = digits.len();
                        if digits.bytes().all(|b| b.is_ascii_digit())
                            && (usize::from(min_length)..=usize::from(max_length)).contains(&length)
                        {
                            answers.insert(field.key.clone(), digits);
                        } else {
                            let size = if min_length == max_length {
                                format!("{min_length}")
                            } else {
                                format!("{min_length}-{max_length}")
                            };
                            errors.push(path, "invalid_digits", format!("{label} must be {size} digits."));
                        }
                    }
                },
            }
        }
        answers
    }

    fn parse_reason(&self, service: &Service, errors: &mut FieldErrors) -> Option<String> {
        let given = self.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        match given {
            None if service.reasons.is_empty() => None,
            None => {
                errors.push("reason", "required", "Choose the reason for the appointment.");
                None
            }
            Some(key) if service.reasons.iter().any(|r| r.key == key) => Some(key.to_owned()),
            Some(_) => {
                let keys: Vec<&str> = service.reasons.iter().map(|r| r.key.as_str()).collect();
                let message = if keys.is_empty() {
                    "This service has no reasons to choose from.".to_owned()
                } else {
                    format!("Choose one of: {}.", keys.join(", "))
                };
                errors.push("reason", "unknown_reason", message);
                None
            }
        }
    }
}

fn contact_label(mode: Mode) -> &'static str {
    match mode {
        Mode::InPerson | Mode::Jitsi => "Contact",
        Mode::WhatsApp => "WhatsApp number",
        Mode::Skype => "Skype name",
        Mode::Teams => "Teams e-mail address",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::SeedableRng;

    use super::*;
    use crate::domain::catalog::{FieldSpec, Reason};

    fn text(s: &str) -> Localized {
        Localized::new(BTreeMap::from([(Locale::It, s.to_owned()), (Locale::En, s.to_owned())])).unwrap()
    }

    fn service() -> Service {
        Service {
            slug: Slug::parse("avvisi").unwrap(),
            name: text("Avvisi"),
            description: text("Avvisi di pagamento"),
            duration_minutes: 30,
            modes: Mode::ALL.to_vec(),
            min_notice_hours: 0,
            horizon_days: 60,
            fiscal_code_required: true,
            fields: vec![FieldSpec {
                key: "notice_number".into(),
                label: text("notice number"),
                help: None,
                kind: FieldKind::Digits { min_length: 18, max_length: 18 },
                required: true,
            }],
            reasons: vec![Reason { key: "info".into(), label: text("Informazioni") }],
            active: true,
            bring: None,
            max_active_bookings_per_person: None,
            plugin: None,
            check_first: vec![],
        }
    }

    fn form() -> DetailsForm {
        DetailsForm {
            first_name: " Mario ".into(),
            last_name: "Rossi".into(),
            email: "mario.rossi@example.it".into(),
            phone: "333 1234567".into(),
            fiscal_code: Some("RSSMRA85T10A562S".into()),
            contact: Some("+39 333 1234567".into()),
            answers: BTreeMap::from([("notice_number".into(), "3020 0000 0001 2345 59".into())]),
            reason: Some("info".into()),
            details: Some("Rata di dicembre".into()),
            privacy_accepted: true,
            locale: Some("en".into()),
        }
    }

    #[test]
    fn a_complete_form_parses_and_normalises() {
        let details = form().parse(&service(), Mode::WhatsApp, Locale::It).unwrap();
        assert_eq!(details.citizen.first_name(), "Mario");
        assert_eq!(details.citizen.phone().map(|p| p.as_str()), Some("+393331234567"));
        assert_eq!(details.answers["notice_number"], "302000000001234559");
        assert_eq!(details.locale, Locale::En);
        assert_eq!(details.contact.as_str(), Some("+393331234567"));
    }

    #[test]
    fn every_error_is_reported_with_its_field() {
        let bad = DetailsForm {
            first_name: "".into(),
            email: "nope".into(),
            phone: "12".into(),
            fiscal_code: Some("RSSMRA85T10A562X".into()),
            answers: BTreeMap::from([("notice_number".into(), "12ab".into()), ("extra".into(), "x".into())]),
            reason: Some("other".into()),
            details: Some("x".repeat(201)),
            locale: Some("fr".into()),
            ..DetailsForm::default()
        };
        let errors = bad.parse(&service(), Mode::Skype, Locale::It).unwrap_err();
        let fields: HashSet<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        let expected = [
            "citizen.first_name",
            "citizen.last_name",
            "citizen.email",
            "citizen.phone",
            "citizen.fiscal_code",
            "contact",
            "answers.notice_number",
            "answers.extra",
            "reason",
            "details",
            "privacy_accepted",
            "locale",
        ];
        assert_eq!(fields, HashSet::from(expected));
    }

    #[test]
    fn in_person_needs_no_contact_and_optional_parts_may_be_left_out() {
        let mut svc = service();
        svc.fiscal_code_required = false;
        svc.reasons.clear();
        svc.fields[0].required = false;
        let minimal = DetailsForm {
            fiscal_code: None,
            contact: None,
            answers: BTreeMap::new(),
            reason: None,
            details: None,
            locale: None,
            ..form()
        };
        let details = minimal.parse(&svc, Mode::InPerson, Locale::It).unwrap();
        assert_eq!(details.contact, ModeContact::None);
        assert_eq!(details.locale, Locale::It);
        assert!(details.answers.is_empty());
    }

    #[test]
    fn codes_are_readable_unique_and_parse_as_typed() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let codes: HashSet<String> = (0..10_000).map(|_| BookingCode::generate(&mut rng).as_str().to_owned()).collect();
        assert_eq!(codes.len(), 10_000);
        assert!(codes.iter().all(|c| c.len() == 8 && !c.contains(['0', 'O', '1', 'I', 'L'])));
        let code = BookingCode::generate(&mut rng);
        assert_eq!(BookingCode::parse(&code.to_string().to_lowercase()), Some(code.clone()));
        assert_eq!(code.to_string().len(), 9);
        assert_eq!(BookingCode::parse("ABCD-EFG0"), None);
        assert_eq!(BookingCode::parse("ABC"), None);
    }

    #[test]
    fn only_confirmed_bookings_change() {
        assert!(BookingStatus::Confirmed.is_changeable());
        assert!(!BookingStatus::Cancelled.is_changeable());
        assert!(!BookingStatus::Cancelled.holds_capacity());
        assert!(BookingStatus::CheckedIn.holds_capacity());
        for status in BookingStatus::ALL {
            assert_eq!(BookingStatus::parse(status.code()), Some(status));
        }
    }
}
