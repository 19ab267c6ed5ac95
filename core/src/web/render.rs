//! Templates and the data every page shares (language, branding, assets, language links).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use handlebars::{Context, Handlebars, Helper, HelperResult, Output, RenderContext, html_escape};
use poem::Response;
use poem::http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

use super::language;
use crate::app::TenantSnapshot;
use crate::domain::{Locale, TenantId};
use crate::i18n::{TranslationError, Translations};

/// Template names and their built-in text; a tenant may replace any of them.
const TEMPLATES: [(&str, &str); 21] = [
    ("home", include_str!("../../web/templates/home.hbs")),
    ("layout", include_str!("../../web/templates/layout.hbs")),
    ("error", include_str!("../../web/templates/error.hbs")),
    ("services", include_str!("../../web/templates/services.hbs")),
    ("offices", include_str!("../../web/templates/offices.hbs")),
    ("check", include_str!("../../web/templates/check.hbs")),
    ("checked", include_str!("../../web/templates/checked.hbs")),
    ("calendar", include_str!("../../web/templates/calendar.hbs")),
    ("month-grid", include_str!("../../web/templates/month-grid.hbs")),
    ("details", include_str!("../../web/templates/details.hbs")),
    ("review", include_str!("../../web/templates/review.hbs")),
    ("confirmed", include_str!("../../web/templates/confirmed.hbs")),
    ("manage", include_str!("../../web/templates/manage.hbs")),
    ("booking", include_str!("../../web/templates/booking.hbs")),
    ("cancelled", include_str!("../../web/templates/cancelled.hbs")),
    ("reschedule", include_str!("../../web/templates/reschedule.hbs")),
    ("move-review", include_str!("../../web/templates/move-review.hbs")),
    ("privacy", include_str!("../../web/templates/privacy.hbs")),
    ("accessibility", include_str!("../../web/templates/accessibility.hbs")),
    ("board", include_str!("../../web/templates/board.hbs")),
    ("ticket", include_str!("../../web/templates/ticket.hbs")),
];

/// The admin pages' templates (`admin-ui/templates`), registered as `admin-<name>`; tenants do
/// not replace these.
const ADMIN_TEMPLATES: [(&str, &str); 30] = [
    ("admin-layout", include_str!("../../../admin-ui/templates/layout.hbs")),
    ("admin-accessibility", include_str!("../../../admin-ui/templates/accessibility.hbs")),
    ("admin-error", include_str!("../../../admin-ui/templates/error.hbs")),
    ("admin-login", include_str!("../../../admin-ui/templates/login.hbs")),
    ("admin-invitation", include_str!("../../../admin-ui/templates/invitation.hbs")),
    ("admin-password", include_str!("../../../admin-ui/templates/password.hbs")),
    ("admin-dashboard", include_str!("../../../admin-ui/templates/dashboard.hbs")),
    ("admin-tenant", include_str!("../../../admin-ui/templates/tenant.hbs")),
    ("admin-staff", include_str!("../../../admin-ui/templates/staff.hbs")),
    ("admin-audit", include_str!("../../../admin-ui/templates/audit.hbs")),
    ("admin-configuration", include_str!("../../../admin-ui/templates/configuration.hbs")),
    ("admin-service", include_str!("../../../admin-ui/templates/service.hbs")),
    ("admin-office", include_str!("../../../admin-ui/templates/office.hbs")),
    ("admin-settings", include_str!("../../../admin-ui/templates/settings.hbs")),
    ("admin-member", include_str!("../../../admin-ui/templates/member.hbs")),
    ("admin-api-keys", include_str!("../../../admin-ui/templates/api-keys.hbs")),
    ("admin-webhooks", include_str!("../../../admin-ui/templates/webhooks.hbs")),
    ("admin-deliveries", include_str!("../../../admin-ui/templates/deliveries.hbs")),
    ("admin-feeds", include_str!("../../../admin-ui/templates/feeds.hbs")),
    ("admin-processing", include_str!("../../../admin-ui/templates/processing.hbs")),
    ("admin-desk", include_str!("../../../admin-ui/templates/desk.hbs")),
    ("admin-booking", include_str!("../../../admin-ui/templates/booking.hbs")),
    ("admin-walk-in", include_str!("../../../admin-ui/templates/walk-in.hbs")),
    ("admin-statistics", include_str!("../../../admin-ui/templates/statistics.hbs")),
    ("admin-chart", include_str!("../../../admin-ui/templates/chart.hbs")),
    ("admin-login-code", include_str!("../../../admin-ui/templates/login-code.hbs")),
    ("admin-two-factor", include_str!("../../../admin-ui/templates/two-factor.hbs")),
    ("admin-field", include_str!("../../../admin-ui/templates/field.hbs")),
    ("admin-edit-notices", include_str!("../../../admin-ui/templates/edit-notices.hbs")),
    ("admin-strand-choice", include_str!("../../../admin-ui/templates/strand-choice.hbs")),
];

pub struct Renderer {
    handlebars: Handlebars<'static>,
    translations: Arc<Translations>,
    /// Per tenant with templates of its own: the configuration version they were compiled for,
    /// and the built-in templates with the tenant's in their place.
    tenant_templates: Mutex<HashMap<TenantId, (i64, Arc<Handlebars<'static>>)>>,
}

impl Renderer {
    pub fn new() -> Result<Self, TranslationError> {
        let translations = Arc::new(Translations::load()?);
        let mut handlebars = Handlebars::new();
        handlebars.set_strict_mode(false);
        for (name, text) in TEMPLATES.into_iter().chain(ADMIN_TEMPLATES) {
            handlebars
                .register_template_string(name, text)
                .map_err(|e| TranslationError::template(name, e.to_string()))?;
        }
        let helper_translations = translations.clone();
        handlebars.register_helper(
            "t",
            Box::new(
                move |h: &Helper,
                      _: &Handlebars,
                      ctx: &Context,
                      _: &mut RenderContext,
                      out: &mut dyn Output|
                      -> HelperResult {
                    let key = h.param(0).and_then(|p| p.value().as_str()).unwrap_or_default();
                    let locale =
                        ctx.data().get("lang").and_then(Value::as_str).and_then(Locale::parse).unwrap_or(Locale::It);
                    let args: Vec<(&str, String)> = h
                        .hash()
                        .iter()
                        .map(|(name, v)| {
                            (*name, v.value().as_str().map_or_else(|| v.value().to_string(), str::to_owned))
                        })
                        .collect();
                    // Arguments may carry what a citizen typed: escape the result.
                    out.write(&html_escape(&helper_translations.get(locale, key, &args)))?;
                    Ok(())
                },
            ),
        );
        Ok(Self { handlebars, translations, tenant_templates: Mutex::new(HashMap::new()) })
    }

    pub fn text(&self, locale: Locale, key: &str, args: &[(&str, String)]) -> String {
        self.translations.get(locale, key, args)
    }

    /// Renders `name` for `tenant`, with the templates its stored configuration replaces.
    fn render(&self, tenant: Option<&TenantSnapshot>, name: &str, data: &Value) -> Result<String, String> {
        match tenant.filter(|t| !t.templates.is_empty()) {
            Some(tenant) => self.tenant_registry(tenant)?.render(name, data),
            None => self.handlebars.render(name, data),
        }
        .map_err(|e| e.to_string())
    }

    /// The tenant's templates, compiled once per configuration version (in memory, no disk I/O
    /// on a request: every instance renders what the stored configuration says).
    fn tenant_registry(&self, tenant: &TenantSnapshot) -> Result<Arc<Handlebars<'static>>, String> {
        let mut cache = self.tenant_templates.lock().map_err(|_| "template cache lock poisoned".to_owned())?;
        if let Some((version, registry)) = cache.get(&tenant.id)
            && *version == tenant.version
        {
            return Ok(registry.clone());
        }
        let mut registry = self.handlebars.clone();
        for (name, text) in &tenant.templates {
            registry.register_template_string(name, text).map_err(|e| format!("template {name}: {e}"))?;
        }
        let registry = Arc::new(registry);
        cache.insert(tenant.id, (tenant.version, registry.clone()));
        Ok(registry)
    }
}

impl TranslationError {
    fn template(name: &str, reason: String) -> Self {
        Self::new(format!("template {name}"), reason)
    }
}

/// What a page needs to know about its request.
pub struct Frame<'a> {
    pub locale: Locale,
    /// `?lang=` was given: remember the choice in a cookie.
    pub remember: bool,
    pub tenant: Option<&'a TenantSnapshot>,
    /// The page's path and query without `lang`, for language links.
    pub path: String,
}

impl super::Web {
    /// Renders a page inside the layout, with the shared data merged into `data`.
    pub(super) fn page(
        &self,
        frame: &Frame<'_>,
        template: &str,
        status: StatusCode,
        view: &impl Serialize,
    ) -> Response {
        let mut data = match serde_json::to_value(view) {
            Ok(data) => data,
            Err(error) => {
                tracing::error!(%error, template, "page data could not be serialized");
                return Response::builder().status(StatusCode::INTERNAL_SERVER_ERROR).body("page error");
            }
        };
        let locale = frame.locale;
        let allowed = frame.tenant.map_or_else(|| Locale::ALL.to_vec(), |t| t.config.locales.clone());
        let languages: Vec<Value> = allowed
            .iter()
            .map(|l| json!({"code": l.code(), "name": self.render.text(*l, "language-name", &[]), "current": *l == locale, "url": format!("{}{}lang={}", frame.path, if frame.path.contains('?') { "&" } else { "?" }, l.code())}))
            .collect();
        let shared = json!({
            "lang": locale.code(),
            "languages": languages,
            "css": self.assets.url("app.css"),
            "js": self.assets.url("app.js"),
            "htmx": self.assets.url("htmx.js"),
            "tenant": frame.tenant.map(|t| json!({
                "slug": t.config.slug.as_str(),
                "name": t.config.branding.display_name,
                "primary_color": t.config.branding.primary_color,
                "theme_url": super::citizen::theme_url(t.config.slug.as_str(), &t.config.branding.primary_color),
                "logo_url": t.logo.as_ref().map(|_| format!("/api/v1/t/{}/logo", t.config.slug)),
                "home": format!("/t/{}/", t.config.slug),
                "privacy_version": t.config.privacy_notice_version,
                "retention_days": t.config.retention_days,
                "contacts": t.config.branding.contacts,
                // The text kept here is the notice; a link is for a body that keeps it elsewhere.
                "privacy_url": if t.config.privacy_notice.is_some() {
                    Some(format!("/t/{}/privacy", t.config.slug))
                } else {
                    t.config.branding.privacy_notice_url.clone()
                },
                // Always a statement to read: the one published here, the body's own, or the page
                // that says none is published yet and where to report a problem.
                "accessibility_url": format!("/t/{}/accessibility", t.config.slug),
            })),
        });
        if let (Value::Object(target), Value::Object(shared)) = (&mut data, shared) {
            for (key, value) in shared {
                target.entry(key).or_insert(value);
            }
        }
        let html = match self.render.render(frame.tenant, template, &data) {
            Ok(html) => html,
            Err(error) => {
                tracing::error!(%error, template, "template failed");
                return Response::builder().status(StatusCode::INTERNAL_SERVER_ERROR).body("template error");
            }
        };
        let mut response = Response::builder()
            .status(status)
            .content_type("text/html; charset=utf-8")
            .header("Content-Language", locale.code())
            .header("Cache-Control", "no-store");
        if frame.remember {
            response = response.header(
                "Set-Cookie",
                format!(
                    "{}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{}",
                    language::COOKIE,
                    locale.code(),
                    if self.plain_http { "" } else { "; Secure" }
                ),
            );
        }
        response.body(html)
    }
}
