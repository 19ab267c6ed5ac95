//! What an e-mail about a booking says: subject, plain text and HTML from the built-in
//! templates (`core/mail/templates`), every string in the booking's language
//! (`core/mail/i18n`), the tenant's name and colour, and the booking's `.ics`.

use chrono::{DateTime, Datelike, Utc};
use handlebars::Handlebars;
use serde::Serialize;

use super::overrides::{MailTemplates, Overrides};
use crate::calendar::{CalendarUse, booking_calendar};
use crate::domain::{Booking, Locale, Mode, ModeContact, TenantConfig};
use crate::i18n::{TranslationError, Translations};

const HTML: &str = include_str!("../../mail/templates/message.html.hbs");
const TEXT: &str = include_str!("../../mail/templates/message.txt.hbs");

/// Why a message is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Topic {
    Confirmation,
    /// Moved from `previous` (its start).
    Rescheduled {
        previous: DateTime<Utc>,
    },
    Reminder,
    /// Cancelled by the citizen, or by the office (staff, a configuration change) with a reason.
    Cancelled {
        by_office: bool,
        reason: Option<String>,
    },
}

impl Topic {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Confirmation => "confirmation",
            Self::Rescheduled { .. } => "rescheduled",
            Self::Reminder => "reminder",
            Self::Cancelled { .. } => "cancelled",
        }
    }
}

/// Where the message's buttons lead (absolute URLs, without personal data).
#[derive(Clone, Debug)]
pub struct Links {
    pub manage: String,
    /// The one-click cancel link, where the booking can still be cancelled.
    pub cancel: Option<String>,
    /// The tenant's pages, to book again after a cancellation.
    pub book_again: String,
}

/// A message ready for the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The booking's calendar entry (`text/calendar`).
    pub attachment: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("the e-mail template {0} does not render: {1}")]
pub struct ComposeError(&'static str, String);

pub struct Composer {
    html: Handlebars<'static>,
    text: Handlebars<'static>,
    strings: Translations,
    overrides: Overrides,
}

#[derive(Serialize)]
struct Brand<'a> {
    name: &'a str,
    color: &'a str,
}

#[derive(Serialize)]
struct Link {
    label: String,
    url: String,
}

#[derive(Serialize)]
struct Detail {
    label: String,
    value: String,
    link: Option<Link>,
}

#[derive(Serialize)]
struct Action {
    label: String,
    url: String,
    primary: bool,
}

#[derive(Serialize)]
struct View<'a> {
    lang: &'static str,
    subject: &'a str,
    brand: Brand<'a>,
    heading: String,
    intro: String,
    reason: Option<String>,
    details: Vec<Detail>,
    keep_code: Option<String>,
    actions: Vec<Action>,
    footer: String,
    contacts: Option<String>,
}

impl Composer {
    /// The built-in templates and strings; a problem in them is a build problem, said at start.
    pub fn new() -> Result<Self, TranslationError> {
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        html.register_template_string("message", HTML)
            .map_err(|e| TranslationError::new("mail/templates/message.html.hbs", e.to_string()))?;
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        text.register_template_string("message", TEXT)
            .map_err(|e| TranslationError::new("mail/templates/message.txt.hbs", e.to_string()))?;
        Ok(Self { html, text, strings: Translations::mail()?, overrides: Overrides::default() })
    }

    pub fn compose(
        &self,
        tenant: &TenantConfig,
        booking: &Booking,
        topic: &Topic,
        links: &Links,
        organizer: &str,
        own: Option<MailTemplates<'_>>,
    ) -> Result<Composed, ComposeError> {
        let locale = booking.details.locale;
        let t = |key: &str, args: &[(&str, String)]| self.strings.get(locale, key, args);
        let body = tenant.branding.display_name.clone();
        let service = tenant.service(booking.service.as_str()).map_or(booking.service.as_str(), |s| s.name.get(locale));
        let when = self.when(locale, booking.start, booking.timezone);
        let name = booking.details.citizen.first_name().to_owned();
        let topic_key = topic.code();
        let subject =
            t(&format!("mail-{topic_key}-subject"), &[("service", service.to_owned()), ("when", when.clone())]);
        let common = [("name", name), ("body", body.clone())];
        let (intro, reason) = match topic {
            Topic::Rescheduled { previous } => {
                let previous = self.when(locale, *previous, booking.timezone);
                let args = [common[0].clone(), common[1].clone(), ("previous", previous)];
                (t("mail-rescheduled-intro", &args), None)
            }
            Topic::Cancelled { by_office: true, reason } => (
                t("mail-cancelled-by-office-intro", &common),
                reason.as_ref().map(|r| t("mail-reason", &[("reason", r.clone())])),
            ),
            _ => (t(&format!("mail-{topic_key}-intro"), &common), None),
        };
        let cancelled = matches!(topic, Topic::Cancelled { .. });
        let mut details = vec![
            Detail { label: t("mail-code", &[]), value: booking.code.to_string(), link: None },
            Detail { label: t("mail-service", &[]), value: service.to_owned(), link: None },
            Detail { label: t("mail-when", &[]), value: when, link: None },
        ];
        if !cancelled {
            details.push(self.place(tenant, booking, locale));
            if let Some(bring) = tenant.service(booking.service.as_str()).and_then(|s| s.bring.as_ref()) {
                details.push(Detail { label: t("mail-bring", &[]), value: bring.get(locale).to_owned(), link: None });
            }
            details.extend(booking.summary.iter().map(|line| Detail {
                label: line.label.get(locale).to_owned(),
                value: line.value.clone(),
                link: None,
            }));
        }
        let actions = if cancelled {
            vec![Action { label: t("mail-book-again", &[]), url: links.book_again.clone(), primary: true }]
        } else {
            let mut actions = vec![Action { label: t("mail-manage", &[]), url: links.manage.clone(), primary: true }];
            if let Some(cancel) = &links.cancel {
                actions.push(Action { label: t("mail-cancel", &[]), url: cancel.clone(), primary: false });
            }
            actions
        };
        let view = View {
            lang: locale.code(),
            subject: &subject,
            brand: Brand { name: &body, color: &tenant.branding.primary_color },
            heading: t(&format!("mail-{topic_key}-heading"), &[]),
            intro,
            reason,
            details,
            keep_code: (!cancelled).then(|| t("mail-keep-code", &[])),
            actions,
            footer: t("mail-footer", &[("body", body.clone())]),
            contacts: tenant.branding.contacts.as_ref().map(|c| t("mail-contacts", &[("contacts", c.clone())])),
        };
        let own = own.and_then(|t| self.overrides.compiled(&t));
        let html = render(own.as_ref().and_then(|o| o.html.as_ref()), &self.html, &view)
            .map_err(|e| ComposeError("html", e.to_string()))?;
        let text = render(own.as_ref().and_then(|o| o.text.as_ref()), &self.text, &view)
            .map_err(|e| ComposeError("text", e.to_string()))?;
        let attachment = Some(booking_calendar(tenant, booking, CalendarUse::Invitation { organizer }));
        Ok(Composed { subject, text, html, attachment })
    }

    /// "martedì 1 dicembre 2026 alle 08:30", in the office's zone.
    fn when(&self, locale: Locale, at: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
        let local = at.with_timezone(&zone);
        let weekday = self.strings.get(locale, &format!("weekday-{}", local.weekday().number_from_monday()), &[]);
        let month = self.strings.get(locale, &format!("month-{}", local.month()), &[]);
        let date = format!("{weekday} {} {month} {}", local.day(), local.year());
        self.strings.get(locale, "mail-at", &[("date", date), ("time", local.format("%H:%M").to_string())])
    }

    /// Where the appointment happens: the office and a map, or how the call goes.
    fn place(&self, tenant: &TenantConfig, booking: &Booking, locale: Locale) -> Detail {
        let t = |key: &str, args: &[(&str, String)]| self.strings.get(locale, key, args);
        let contact = match &booking.details.contact {
            ModeContact::Phone(phone) => phone.as_str().to_owned(),
            ModeContact::Skype(name) => name.as_str().to_owned(),
            ModeContact::Email(email) => email.as_str().to_owned(),
            ModeContact::Room(_) | ModeContact::None => String::new(),
        };
        match (booking.mode, tenant.office(booking.office.as_str())) {
            (Mode::InPerson, Some(office)) => {
                let query = serde_urlencoded::to_string([("query", office.address.as_str())]).unwrap_or_default();
                Detail {
                    label: t("mail-where", &[]),
                    value: format!("{}, {}", office.name, office.address),
                    link: Some(Link {
                        label: t("mail-map", &[]),
                        url: format!("https://www.openstreetmap.org/search?{query}"),
                    }),
                }
            }
            (Mode::InPerson, None) => {
                Detail { label: t("mail-where", &[]), value: booking.office.to_string(), link: None }
            }
            (Mode::Teams, office) => match office.and_then(|o| o.teams_link.clone()) {
                Some(url) => Detail {
                    label: t("mail-how", &[]),
                    value: t("mail-how-teams-meeting", &[]),
                    link: Some(Link { label: t("mail-join-call", &[]), url }),
                },
                None => Detail { label: t("mail-how", &[]), value: t("mail-how-teams", &[]), link: None },
            },
            (Mode::Jitsi, _) => Detail {
                label: t("mail-how", &[]),
                value: t("mail-how-jitsi", &[]),
                link: tenant
                    .call_link(booking.office.as_str(), &booking.details.contact)
                    .map(|url| Link { label: t("mail-join-call", &[]), url }),
            },
            (Mode::WhatsApp, _) => {
                Detail { label: t("mail-how", &[]), value: t("mail-how-whatsapp", &[("contact", contact)]), link: None }
            }
            (Mode::Skype, office) => {
                let mut value = t("mail-how-skype", &[("contact", contact)]);
                if let Some(own) = office.and_then(|o| o.skype_contact.as_ref()) {
                    value = format!("{value} {}", t("mail-how-skype-office", &[("office", own.as_str().to_owned())]));
                }
                Detail { label: t("mail-how", &[]), value, link: None }
            }
        }
    }
}

/// The body's template when it has one that renders; otherwise the built-in one.
fn render<T: Serialize>(
    own: Option<&Handlebars<'static>>,
    built_in: &Handlebars<'static>,
    view: &T,
) -> Result<String, handlebars::RenderError> {
    if let Some(own) = own {
        match own.render("message", view) {
            Ok(rendered) => return Ok(rendered),
            Err(error) => tracing::warn!(%error, "a body's e-mail template does not render: the built-in one is used"),
        }
    }
    built_in.render("message", view)
}
