//! The public bodies, then steps 1 and 2: the service, the office and the mode.

use poem::http::StatusCode;
use poem::web::{Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::views::{
    CheckedView, HomeView, ModeChoice, NamedSlug, OfficeChoice, OfficesView, PublicBody, ServiceChoice, ServicesView,
};
use super::{Page, Visit, WebData, mode_key, see_other, step};
use crate::domain::Locale;
use crate::web::Web;
use crate::web::language::{link_base, negotiate};
use crate::web::render::Frame;

/// The installation's home: the public bodies whose appointments can be booked here.
#[handler]
pub async fn home_page(web: WebData<'_>, request: &Request) -> Response {
    let (locale, remember) = negotiate(request, &Locale::ALL, Locale::It);
    let frame = Frame { locale, remember, tenant: None, path: link_base(request) };
    let tenants = match web.app.tenants().await {
        Ok(tenants) => tenants,
        Err(error) => return web.bare_failure(request, &error),
    };
    let bodies = tenants
        .iter()
        .map(|t| PublicBody {
            name: t.config.branding.display_name.clone(),
            url: format!("/t/{}/", t.config.slug),
            logo_url: t.logo.as_ref().map(|_| format!("/api/v1/t/{}/logo", t.config.slug)),
            contacts: t.config.branding.contacts.clone(),
        })
        .collect();
    web.page(&frame, "home", StatusCode::OK, &HomeView { bodies })
}

/// Step 1: the tenant's services.
#[handler]
pub async fn services_page(web: WebData<'_>, request: &Request, Path(tenant): Path<String>) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let config = &visit.tenant.config;
    let services = config
        .services
        .iter()
        .map(|s| ServiceChoice {
            name: s.name.get(visit.locale).to_owned(),
            description: s.description.get(visit.locale).to_owned(),
            active: s.active,
            // A service that checks answers first starts with them.
            url: match s.check_first.is_empty() {
                true => format!("/t/{}/s/{}", config.slug, s.slug),
                false => format!("/t/{}/s/{}/check", config.slug, s.slug),
            },
            duration: s.duration_minutes,
        })
        .collect();
    Ok(web.show(&visit, "services", &ServicesView { step: step(1, None), services }))
}

/// Step 2: offices that offer the service, and the mode (a deep link may start here).
#[handler]
pub async fn offices_step(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, service)): Path<(String, String)>,
) -> Page {
    let visit = web.visit(request, &tenant).await?;
    let checked = web.require_checked(&visit, request, &service).await?;
    Ok(offices_page(&web, &visit, &service, None, checked).await)
}

async fn offices_page(
    web: &Web,
    visit: &Visit,
    service_slug: &str,
    error: Option<&'static str>,
    checked: Option<CheckedView>,
) -> Response {
    let config = &visit.tenant.config;
    let Some(service) = config.service(service_slug) else {
        return web.error(visit, StatusCode::NOT_FOUND, "not-found-title", "service-not-found", Some(visit.home()));
    };
    if !service.active {
        let home = Some(visit.home());
        return web.error(visit, StatusCode::CONFLICT, "service-inactive-title", "service-inactive-body", home);
    }
    if let (None, Some((office, mode))) = (error, super::only_choice(config, service)) {
        return see_other(&format!("/t/{}/s/{}/o/{office}/m/{}", config.slug, service.slug, mode.code()));
    }
    let offices = config
        .offices_for(service)
        .map(|o| {
            let address = serde_urlencoded::to_string([("query", o.address.as_str())]).unwrap_or_default();
            OfficeChoice {
                slug: o.slug.to_string(),
                name: o.name.clone(),
                address: o.address.clone(),
                map_url: format!("https://www.openstreetmap.org/search?{address}"),
                modes: o
                    .modes_for(service)
                    .iter()
                    .map(|m| ModeChoice {
                        value: format!("{}:{}", o.slug, m.code()),
                        label_key: mode_key(*m),
                        id: format!("choice-{}-{}", o.slug, m.code()),
                    })
                    .collect(),
            }
        })
        .collect();
    // Whoever just wants the first appointment takes it in one tap, whatever the office and mode.
    let first_free = match error {
        None => web.first_free_anywhere(visit, service).await,
        Some(_) => None,
    };
    let view = OfficesView {
        first_free: first_free.as_ref().map(|(time, _)| time),
        first_free_place: first_free.as_ref().map(|(_, place)| place.as_str()),
        step: step(2, Some(service)),
        service: NamedSlug { name: service.name.get(visit.locale).to_owned(), slug: service.slug.to_string() },
        offices,
        action: format!("/t/{}/s/{}/choose", config.slug, service.slug),
        back: visit.home(),
        error,
        checked,
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    web.page(&web.frame(visit), "offices", status, &view)
}

#[derive(Deserialize)]
pub struct Choice {
    choice: Option<String>,
}

/// Step 2's form: the office and mode, then on to the calendar.
#[handler]
pub async fn choose_office(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, service)): Path<(String, String)>,
    Query(choice): Query<Choice>,
) -> Page {
    let visit = web.visit(request, &tenant).await?;
    Ok(match choice.choice.as_deref().and_then(|c| c.split_once(':')) {
        Some((office, mode)) => see_other(&format!("/t/{tenant}/s/{service}/o/{office}/m/{mode}")),
        None => {
            let checked = web.checked(&visit, request, &service).await?;
            offices_page(&web, &visit, &service, Some("choose-office-error"), checked).await
        }
    })
}
