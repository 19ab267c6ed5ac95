//! Onboarding a public body from the browser: a platform admin names it, and invites its first
//! admin, who configures the rest.

use serde::Serialize;
use serde_json::json;

use super::audit::Actor;
use super::{InvitationLink, NewStaff, StaffSession};
use crate::app::tenants::Expected;
use crate::app::{AppError, Sportello, StrandPolicy};
use crate::domain::{FieldErrors, Locale, Role, Slug, StaffEmail, text::single_line};
use crate::packs::{MANIFEST, PackSource, parse_config};

/// A new public body as a platform admin describes it.
#[derive(Clone, Debug, Default)]
pub struct NewTenant {
    pub slug: String,
    pub name: String,
    pub timezone: String,
    /// Language codes, the default first.
    pub locales: Vec<String>,
    pub admin_email: String,
}

/// The first configuration of a new body: its name, zone and languages; no services yet.
#[derive(Serialize)]
struct FirstManifest<'a> {
    slug: &'a str,
    name: &'a str,
    timezone: &'a str,
    locales: &'a [String],
    privacy_notice_version: &'a str,
    branding: FirstBranding,
}

#[derive(Serialize)]
struct FirstBranding {
    primary_color: &'static str,
}

impl NewTenant {
    /// Every field checked at once, so that the form names each problem.
    fn check(&self) -> Result<(Slug, StaffEmail), AppError> {
        let mut errors = FieldErrors::default();
        let slug = Slug::parse(self.slug.trim());
        if slug.is_err() {
            errors.push("slug", "invalid_slug", "Use 1-63 lower-case letters, digits and '-', e.g. comune-di-lucca.");
        }
        if single_line(&self.name, 200).is_none() {
            errors.push("name", "invalid_name", "Give the body's name on one line, up to 200 characters.");
        }
        if self.timezone.trim().parse::<chrono_tz::Tz>().is_err() {
            errors.push("timezone", "invalid_timezone", "Use an IANA time zone such as Europe/Rome.");
        }
        if self.locales.is_empty() || self.locales.iter().any(|l| Locale::parse(l).is_none()) {
            errors.push("locales", "invalid_locales", "Choose at least one language.");
        }
        let email = StaffEmail::parse(&self.admin_email);
        if email.is_none() {
            errors.push("admin_email", "invalid_email", "Use an address like name@example.org.");
        }
        match (slug, email) {
            (Ok(slug), Some(email)) if errors.is_empty() => Ok((slug, email)),
            _ => Err(AppError::Invalid(errors)),
        }
    }
}

impl Sportello {
    /// Creates a public body with no services yet, and invites its first admin (platform admins).
    pub async fn create_tenant(&self, session: &StaffSession, new: &NewTenant) -> Result<InvitationLink, AppError> {
        self.as_platform(session)?;
        let (slug, email) = new.check()?;
        let manifest = FirstManifest {
            slug: slug.as_str(),
            name: new.name.trim(),
            timezone: new.timezone.trim(),
            locales: &new.locales,
            privacy_notice_version: "1",
            branding: FirstBranding { primary_color: "#0066cc" },
        };
        let text = toml::to_string(&manifest).map_err(|e| AppError::Internal(format!("first manifest: {e}")))?;
        let config = parse_config(&text).map_err(|e| AppError::Internal(format!("first manifest: {e}")))?;
        let (source, _) =
            PackSource::edited(slug.as_str(), &text, &[], None).map_err(|e| AppError::Internal(e.to_string()))?;
        let actor = Actor::of(session);
        let policy = StrandPolicy::Refuse;
        let report = self.store_configuration(&source, &config, MANIFEST, Expected::Absent, &policy, &actor).await?;
        self.audit(None, &actor, "tenant.created", json!({ "tenant": report.slug, "name": config.name })).await?;
        let first_admin = NewStaff { email: email.to_string(), role: Role::TenantAdmin, offices: Vec::new() };
        self.invite(session, Some(slug.as_str()), &first_admin).await
    }
}
