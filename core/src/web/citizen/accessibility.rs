//! The body's accessibility statement in AgID's model (Legge 4/2004), linked from every footer:
//! the statement it published here, a redirect to the one it keeps elsewhere, or a page saying
//! none is published yet and where to report a problem anyway.

use poem::web::Path;
use poem::{Request, handler};

use super::views::{AccessibilityView, StatementView};
use super::{Page, WebData, see_other};

#[handler]
pub async fn accessibility_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let config = &visit.tenant.config;
    let statement = match (&config.accessibility, &config.branding.accessibility_url) {
        (None, Some(url)) => return Ok(see_other(url)),
        (None, None) => None,
        (Some(statement), _) => {
            // The visitor's language where the body wrote one, else its default, marked as such.
            let (language, text) = statement.non_accessible.as_ref().map_or((visit.locale, ""), |texts| {
                let in_language = |wanted| texts.translations().find(|(locale, _)| *locale == wanted);
                in_language(visit.locale).or_else(|| in_language(config.default_locale())).unwrap_or((visit.locale, ""))
            });
            Some(StatementView {
                conformance: statement.conformance.code(),
                non_accessible_lang: language.code(),
                non_accessible: text
                    .split("\n\n")
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
                prepared_on: web.date(visit.locale, statement.prepared_on),
                reviewed_on: statement.reviewed_on.map(|d| web.date(visit.locale, d)),
                method: statement.method.code(),
                feedback_email: statement.feedback_email.to_string(),
            })
        }
    };
    let view = AccessibilityView { body: config.name.clone(), statement, contacts: config.branding.contacts.clone() };
    Ok(web.show(&visit, "accessibility", &view))
}
