//! A body's record of processing activities (GDPR art. 30), generated from its configuration at
//! the moment it is asked for: which service collects which data, which plugin sees which of
//! them, how long they are kept, and who else receives them (the body's webhooks, the video-call
//! services its citizens may choose). For its admins; the same as a page and as JSON.

use serde::Serialize;

use super::StaffSession;
use crate::app::{AppError, Sportello};
use crate::domain::{CitizenField, Mode, Role, TenantConfig};
use crate::store::Webhooks;

pub const PURPOSE: &str = "Booking appointments with the body's offices (in person or by video call), receiving \
     citizens at the counter, and telling them about their appointment by e-mail.";
pub const LEGAL_BASIS: &str = "GDPR art. 6(1)(e): a task carried out in the public interest";

#[derive(Serialize)]
pub struct ProcessingRecord {
    pub generated_at: String,
    pub controller: String,
    pub contacts: Option<String>,
    pub privacy_notice_version: String,
    pub privacy_notice_url: Option<String>,
    pub purpose: &'static str,
    pub legal_basis: &'static str,
    pub retention_days: u16,
    pub services: Vec<ServiceProcessing>,
    pub recipients: Vec<Recipient>,
}

/// What one service collects, and what its plugin sees.
#[derive(Serialize)]
pub struct ServiceProcessing {
    pub service: String,
    pub name: String,
    pub active: bool,
    /// Citizen data by code: `first_name`, `last_name`, `email`, `phone`, `fiscal_code`, and the
    /// contact of each video-call mode offered (`contact.whatsapp`…); `reason`, `details` (free text).
    pub collected: Vec<String>,
    /// The service's own questions: (key, label).
    pub answers: Vec<(String, String)>,
    pub plugin: Option<PluginAccess>,
}

#[derive(Serialize)]
pub struct PluginAccess {
    pub plugin: String,
    /// The only citizen data it receives, by code; it also receives the service's answers.
    pub citizen_fields: Vec<&'static str>,
}

/// Who receives personal data besides the body's own staff.
#[derive(Serialize)]
pub struct Recipient {
    /// `webhook` (the body's own systems) or `video_call` (a service the citizen chooses).
    pub kind: &'static str,
    pub name: String,
    pub personal_data: bool,
    /// For a webhook, whether it is switched on.
    pub active: bool,
}

/// The contact a mode needs, and who provides the call.
fn mode_contact(mode: Mode, config: &TenantConfig) -> Option<(&'static str, String)> {
    match mode {
        Mode::InPerson => None,
        Mode::WhatsApp => Some(("contact.whatsapp", "WhatsApp (Meta Platforms)".to_owned())),
        Mode::Skype => Some(("contact.skype", "Skype (Microsoft)".to_owned())),
        Mode::Teams => Some(("contact.teams", "Microsoft Teams".to_owned())),
        Mode::Jitsi => Some(("contact.jitsi", format!("Jitsi ({})", config.jitsi_server))),
    }
}

impl Sportello {
    /// The record of processing of tenant `slug`, as its configuration stands now.
    pub async fn record_of_processing(&self, session: &StaffSession, slug: &str) -> Result<ProcessingRecord, AppError> {
        let tenant = self.tenant_for(session, slug, Role::TenantAdmin).await?;
        let config = &tenant.config;
        let locale = config.default_locale();
        let services = config
            .services
            .iter()
            .map(|service| {
                let mut collected: Vec<String> =
                    ["first_name", "last_name", "email", "phone"].into_iter().map(str::to_owned).collect();
                if service.fiscal_code_required {
                    collected.push("fiscal_code".to_owned());
                }
                collected
                    .extend(service.modes.iter().filter_map(|m| mode_contact(*m, config)).map(|(c, _)| c.to_owned()));
                if !service.reasons.is_empty() {
                    collected.push("reason".to_owned());
                }
                collected.push("details".to_owned());
                let plugin = service.plugin.as_ref().map(|bound| PluginAccess {
                    plugin: bound.id.to_string(),
                    citizen_fields: config
                        .plugins
                        .iter()
                        .find(|p| p.id == bound.id)
                        .map(|p| p.citizen_fields.iter().map(|f| CitizenField::code(*f)).collect())
                        .unwrap_or_default(),
                });
                ServiceProcessing {
                    service: service.slug.to_string(),
                    name: service.name.get(locale).to_owned(),
                    active: service.active,
                    collected,
                    answers: service.fields.iter().map(|f| (f.key.clone(), f.label.get(locale).to_owned())).collect(),
                    plugin,
                }
            })
            .collect();
        let mut recipients: Vec<Recipient> = Webhooks::list(self.store.reader(), tenant.id)
            .await?
            .into_iter()
            .map(|w| Recipient {
                kind: "webhook",
                name: w.url,
                personal_data: w.personal_data,
                active: w.disabled_at.is_none(),
            })
            .collect();
        let mut calls: Vec<String> = config
            .services
            .iter()
            .flat_map(|s| s.modes.iter())
            .filter_map(|m| mode_contact(*m, config).map(|(_, provider)| provider))
            .collect();
        calls.sort();
        calls.dedup();
        recipients.extend(calls.into_iter().map(|name| Recipient {
            kind: "video_call",
            name,
            personal_data: true,
            active: true,
        }));
        Ok(ProcessingRecord {
            generated_at: self.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            controller: config.branding.display_name.clone(),
            contacts: config.branding.contacts.clone(),
            privacy_notice_version: config.privacy_notice_version.clone(),
            privacy_notice_url: config.branding.privacy_notice_url.clone(),
            purpose: PURPOSE,
            legal_basis: LEGAL_BASIS,
            retention_days: config.retention_days,
            services,
            recipients,
        })
    }
}
