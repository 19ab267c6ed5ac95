//! The tenant's privacy notice (art. 13 GDPR), when its configuration carries the text: the
//! version the booking form names, in the visitor's language where the body wrote one.

use poem::http::StatusCode;
use poem::web::Path;
use poem::{Request, handler};

use super::views::PrivacyView;
use super::{Page, WebData, see_other};

#[handler]
pub async fn privacy_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let config = &visit.tenant.config;
    let Some(notice) = &config.privacy_notice else {
        // Only a link to the body's own page, or nothing at all.
        return Ok(match &config.branding.privacy_notice_url {
            Some(url) => see_other(url),
            None => web.error(&visit, StatusCode::NOT_FOUND, "not-found-title", "not-found-body", Some(visit.home())),
        });
    };
    let (language, text) = match notice.translations().find(|(locale, _)| *locale == visit.locale) {
        Some((locale, text)) => (locale, text),
        None => notice.translations().next().unwrap_or((visit.locale, "")),
    };
    let paragraphs = text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect();
    let view = PrivacyView {
        version: config.privacy_notice_version.clone(),
        text_lang: language.code(),
        translated: language == visit.locale,
        paragraphs,
    };
    Ok(web.show(&visit, "privacy", &view))
}
