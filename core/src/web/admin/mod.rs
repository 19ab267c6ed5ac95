//! The staff's pages, `/admin/…`: server-rendered like the citizen pages (templates and messages
//! in `admin-ui/`), forms that work without JavaScript, a CSRF token in every state-changing form.
//!
//! Every page is listed once in `table()`, with the least role it needs; the router is built from
//! that table and the route-table test walks it, so no admin page escapes the checks. Who may do
//! what is decided by the use cases (`app::staff`), the same ones the admin API calls.

mod accessibility;
mod account;
mod api_keys;
mod audit;
mod charts;
mod configuration;
mod desk;
mod edits;
mod export;
mod feeds;
mod files;
mod offices;
mod processing;
mod queue;
mod services;
mod settings;
mod staff;
mod statistics;
mod tenants;
mod two_factor;
mod views;
mod walk_ins;
mod webhooks;

use std::collections::BTreeMap;
use std::sync::Arc;

use poem::http::{Method, StatusCode};
use poem::web::Data;
use poem::{Endpoint, EndpointExt, Request, Response, Route, RouteMethod};
use serde::Serialize;

use super::language::{link_base, negotiate};
use super::render::Frame;
use super::{Web, status_of, stop, with_retry_after};
use crate::app::{AppError, StaffSession};
use crate::domain::{FieldErrors, Grant, Locale};
use crate::outcome::Outcome;
use views::{NavLink, StaffFrame};

type WebData<'a> = Data<&'a Arc<Web>>;
type Page<T = Response> = Result<T, poem::Error>;
type Fields = BTreeMap<String, String>;

/// The least a visitor must be to use a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Anyone: signing in, accepting an invitation.
    Public,
    /// Any signed-in staff member.
    Signed,
    Platform,
    /// An admin of the tenant in the path.
    TenantAdmin,
    /// Anyone with a role in the tenant in the path, operators included.
    TenantStaff,
}

/// One admin page: where, how, and who may use it.
pub struct PageRoute {
    pub path: &'static str,
    pub method: Method,
    pub need: Need,
    endpoint: poem::endpoint::BoxEndpoint<'static>,
}

fn page(path: &'static str, method: Method, need: Need, endpoint: impl Endpoint + 'static) -> PageRoute {
    // No referrer (invitation links carry a secret) and no framing (no clickjacking of staff forms).
    let headers = poem::middleware::SetHeader::new()
        .overriding("Referrer-Policy", "no-referrer")
        .overriding("X-Frame-Options", "DENY")
        .overriding("Content-Security-Policy", "frame-ancestors 'none'");
    PageRoute { path, method, need, endpoint: endpoint.map_to_response().with(headers).boxed() }
}

/// Every admin page.
fn table() -> Vec<PageRoute> {
    use Method as M;
    use Need::*;
    vec![
        page("/admin/login", M::GET, Public, account::login_page),
        page("/admin/login", M::POST, Public, account::log_in),
        page("/admin/login/code", M::GET, Public, account::code_page),
        page("/admin/login/code", M::POST, Public, account::enter_code),
        page("/admin/invitation/:token", M::GET, Public, account::invitation_page),
        page("/admin/invitation/:token", M::POST, Public, account::accept_invitation),
        page("/admin/logout", M::POST, Signed, account::log_out),
        page("/admin/account/password", M::GET, Signed, account::password_page),
        page("/admin/account/password", M::POST, Signed, account::change_password),
        page("/admin/account/two-factor", M::GET, Signed, two_factor::two_factor_page),
        page("/admin/account/two-factor", M::POST, Signed, two_factor::turn_on),
        page("/admin/account/two-factor/recovery-codes", M::POST, Signed, two_factor::new_codes),
        page("/admin/account/two-factor/removal", M::POST, Signed, two_factor::turn_off),
        page("/admin/", M::GET, Signed, tenants::dashboard),
        page("/admin/tenants", M::POST, Platform, tenants::create_tenant),
        page("/admin/tenants/:tenant/suspension", M::POST, Platform, tenants::set_suspension),
        page("/admin/audit", M::GET, Platform, audit::platform_log),
        page("/admin/t/:tenant/", M::GET, TenantStaff, tenants::overview),
        page("/admin/t/:tenant/desk", M::GET, TenantStaff, desk::desk_home),
        page("/admin/t/:tenant/desk/:office", M::GET, TenantStaff, desk::agenda_page),
        page("/admin/t/:tenant/desk/:office/new", M::GET, TenantStaff, walk_ins::new_booking_page),
        page("/admin/t/:tenant/desk/:office/new", M::POST, TenantStaff, walk_ins::new_booking),
        page("/admin/t/:tenant/desk/:office/export", M::GET, TenantAdmin, export::export_bookings),
        page("/admin/t/:tenant/desk/:office/next", M::POST, TenantStaff, queue::call_next),
        page("/admin/t/:tenant/bookings/:code", M::GET, TenantStaff, desk::booking_page),
        page("/admin/t/:tenant/bookings/:code/actions", M::POST, TenantStaff, desk::booking_action),
        page("/admin/t/:tenant/bookings/:code/note", M::POST, TenantStaff, desk::booking_note),
        page("/admin/t/:tenant/bookings/:code/cancel", M::POST, TenantStaff, desk::booking_cancel),
        page("/admin/t/:tenant/bookings/:code/send-on", M::POST, TenantStaff, desk::booking_send_on),
        page("/admin/t/:tenant/statistics", M::GET, TenantStaff, statistics::statistics_page),
        page("/admin/t/:tenant/statistics/:table", M::GET, TenantStaff, statistics::statistics_csv),
        page("/admin/t/:tenant/staff", M::GET, TenantAdmin, staff::staff_page),
        page("/admin/t/:tenant/staff", M::POST, TenantAdmin, staff::invite),
        page("/admin/t/:tenant/staff/:account", M::GET, TenantAdmin, staff::member_page),
        page("/admin/t/:tenant/staff/:account", M::POST, TenantAdmin, staff::change_member),
        page("/admin/t/:tenant/staff/:account/removal", M::POST, TenantAdmin, staff::remove_member),
        page("/admin/t/:tenant/staff/:account/disabled", M::POST, TenantAdmin, staff::disable_member),
        page("/admin/t/:tenant/audit", M::GET, TenantAdmin, audit::tenant_log),
        page("/admin/t/:tenant/api-keys", M::GET, TenantAdmin, api_keys::keys_page),
        page("/admin/t/:tenant/api-keys", M::POST, TenantAdmin, api_keys::create_key),
        page("/admin/t/:tenant/api-keys/:key/revocation", M::POST, TenantAdmin, api_keys::revoke_key),
        page("/admin/t/:tenant/webhooks", M::GET, TenantAdmin, webhooks::hooks_page),
        page("/admin/t/:tenant/webhooks", M::POST, TenantAdmin, webhooks::add_hook),
        page("/admin/t/:tenant/webhooks/:webhook/secret", M::POST, TenantAdmin, webhooks::rotate_hook),
        page("/admin/t/:tenant/webhooks/:webhook/enable", M::POST, TenantAdmin, webhooks::enable_hook),
        page("/admin/t/:tenant/webhooks/:webhook/removal", M::POST, TenantAdmin, webhooks::remove_hook),
        page("/admin/t/:tenant/deliveries", M::GET, TenantAdmin, webhooks::deliveries_page),
        page("/admin/t/:tenant/deliveries/:message/retry", M::POST, TenantAdmin, webhooks::retry_delivery),
        page("/admin/t/:tenant/feeds", M::GET, TenantAdmin, feeds::feeds_page),
        page("/admin/t/:tenant/processing", M::GET, TenantAdmin, processing::processing_page),
        page("/admin/t/:tenant/accessibility", M::GET, TenantAdmin, accessibility::accessibility_page),
        page("/admin/t/:tenant/accessibility", M::POST, TenantAdmin, accessibility::save_accessibility),
        page("/admin/t/:tenant/processing.json", M::GET, TenantAdmin, processing::processing_json),
        page("/admin/t/:tenant/feeds/:office", M::POST, TenantAdmin, feeds::make_feed),
        page("/admin/t/:tenant/feeds/:office/revocation", M::POST, TenantAdmin, feeds::revoke_feed),
        page("/admin/t/:tenant/configuration", M::GET, TenantAdmin, configuration::configuration_page),
        page("/admin/t/:tenant/configuration", M::POST, TenantAdmin, configuration::save_configuration),
        page("/admin/t/:tenant/versions/:version/restore", M::POST, TenantAdmin, configuration::restore_version),
        page("/admin/t/:tenant/pack", M::GET, TenantAdmin, configuration::export_pack),
        page("/admin/t/:tenant/pack", M::POST, TenantAdmin, configuration::import_pack),
        page("/admin/t/:tenant/datasets", M::POST, TenantAdmin, files::upload_dataset),
        page("/admin/t/:tenant/datasets/:name/removal", M::POST, TenantAdmin, files::remove_dataset),
        page("/admin/t/:tenant/plugins", M::POST, TenantAdmin, files::upload_plugin),
        page("/admin/t/:tenant/plugins/:plugin/removal", M::POST, TenantAdmin, files::remove_plugin),
        page("/admin/t/:tenant/new-service", M::GET, TenantAdmin, services::new_service_page),
        page("/admin/t/:tenant/new-service", M::POST, TenantAdmin, services::create_service),
        page("/admin/t/:tenant/services/:service", M::GET, TenantAdmin, services::service_page),
        page("/admin/t/:tenant/services/:service", M::POST, TenantAdmin, services::save_service),
        page("/admin/t/:tenant/services/:service/removal", M::POST, TenantAdmin, services::remove_service),
        page("/admin/t/:tenant/new-office", M::GET, TenantAdmin, offices::new_office_page),
        page("/admin/t/:tenant/new-office", M::POST, TenantAdmin, offices::create_office),
        page("/admin/t/:tenant/offices/:office", M::GET, TenantAdmin, offices::office_page),
        page("/admin/t/:tenant/offices/:office", M::POST, TenantAdmin, offices::save_office),
        page("/admin/t/:tenant/offices/:office/removal", M::POST, TenantAdmin, offices::remove_office),
        page("/admin/t/:tenant/settings", M::GET, TenantAdmin, settings::settings_page),
        page("/admin/t/:tenant/settings", M::POST, TenantAdmin, settings::save_settings),
        page("/admin/t/:tenant/logo", M::POST, TenantAdmin, settings::upload_logo),
        page("/admin/t/:tenant/logo/removal", M::POST, TenantAdmin, settings::remove_logo),
    ]
}

/// The admin pages' table without their handlers: (path, method, least role).
pub fn route_table() -> Vec<(&'static str, Method, Need)> {
    table().into_iter().map(|p| (p.path, p.method, p.need)).collect()
}

/// Adds every admin page to `route`.
pub(super) fn routes(mut route: Route) -> Route {
    let mut by_path: Vec<(&'static str, RouteMethod)> = Vec::new();
    for page in table() {
        let position = by_path.iter().position(|(path, _)| *path == page.path);
        let methods = match position.and_then(|i| by_path.get_mut(i)) {
            Some((_, methods)) => std::mem::take(methods),
            None => RouteMethod::new(),
        };
        let methods = methods.method(page.method, page.endpoint);
        match position.and_then(|i| by_path.get_mut(i)) {
            Some(slot) => slot.1 = methods,
            None => by_path.push((page.path, methods)),
        }
    }
    for (path, methods) in by_path {
        route = route.at(path, methods);
    }
    // `/admin` without its slash is the dashboard too.
    route.at("/admin", poem::get(poem::endpoint::make_sync(|_| super::see_other("/admin/"))))
}

/// A staff page's request: who asks, in which language.
struct StaffVisit {
    session: StaffSession,
    locale: Locale,
    remember: bool,
    path: String,
}

impl Web {
    /// The visitor's language on admin pages: Italian unless they asked otherwise.
    fn admin_language(&self, request: &Request) -> (Locale, bool, String) {
        let (locale, remember) = negotiate(request, &Locale::ALL, Locale::It);
        (locale, remember, link_base(request))
    }

    /// The signed-in staff member, or a stop: the login page (coming back here afterwards) for a
    /// page, the same for a form (its data is not kept: it was not theirs to send yet).
    async fn staff_visit(&self, request: &Request) -> Page<StaffVisit> {
        let (locale, remember, path) = self.admin_language(request);
        let client = self.client_of(request);
        let token = super::staff_cookie::read(request, self.plain_http).unwrap_or_default();
        match self.app.staff_session(&token, client.as_deref()).await {
            // The pages are for people: an API key in the cookie signs nobody in.
            Ok(session) if session.api_key().is_none() => Ok(StaffVisit { session, locale, remember, path }),
            Ok(_) => Err(poem::Error::from_response(super::see_other("/admin/login"))),
            Err(AppError::Unauthenticated) => {
                let next = if request.method() == Method::GET { request.uri().path() } else { "/admin/" };
                let mut location = format!("/admin/login?next={}", views::encode(next));
                if remember {
                    // A language asked for in the link carries on to the login page.
                    location.push_str(&format!("&lang={}", locale.code()));
                }
                Err(poem::Error::from_response(super::see_other(&location)))
            }
            Err(error) => Err(poem::Error::from_response(self.admin_failure_bare(request, &error))),
        }
    }

    /// A signed-in visitor's form: refused unless it carries the session's CSRF token.
    async fn staff_form(&self, request: &Request, fields: &Fields) -> Page<StaffVisit> {
        let visit = self.staff_visit(request).await?;
        visit.check_form(fields).map_err(|e| stop(self.admin_failure(&visit, &e)))?;
        Ok(visit)
    }

    /// A tenant admin's upload form (multipart): its fields, and the bytes of the file `file`.
    /// Who may upload is settled before the upload is even parsed; the CSRF token is checked.
    async fn upload_form(
        &self,
        request: &Request,
        tenant: &str,
        body: poem::Body,
        file: &str,
    ) -> Page<(StaffVisit, Fields, Vec<u8>)> {
        use poem::FromRequest;
        let visit = self.staff_visit(request).await?;
        let fail = |e: AppError| stop(self.admin_failure(&visit, &e));
        self.app.tenant_for(&visit.session, tenant, crate::domain::Role::TenantAdmin).await.map_err(fail)?;
        let body = &mut poem::web::RequestBody::new(body);
        let mut multipart =
            poem::web::Multipart::from_request(request, body).await.map_err(|_| fail(AppError::StaleForm))?;
        let (mut fields, mut bytes) = (Fields::new(), Vec::new());
        while let Ok(Some(field)) = multipart.next_field().await {
            let name = field.name().unwrap_or_default().to_owned();
            // The whole body is already within the upload's limit (see `http::body_limit`).
            let Ok(content) = field.bytes().await else { break };
            if name == file {
                bytes = content;
            } else {
                fields.insert(name, String::from_utf8_lossy(&content).into_owned());
            }
        }
        visit.check_form(&fields).map_err(fail)?;
        Ok((visit, fields, bytes))
    }

    fn client_of(&self, request: &Request) -> Option<String> {
        super::client_address(request, self.trust_forwarded_for)
    }

    /// Renders an admin page for a signed-in visitor; `view` carries the page's own data.
    fn staff_page(&self, visit: &StaffVisit, template: &str, status: StatusCode, view: &impl Serialize) -> Response {
        let frame = Frame { locale: visit.locale, remember: visit.remember, tenant: None, path: visit.path.clone() };
        let staff = self.staff_frame(visit);
        self.page(&frame, template, status, &views::WithStaff { staff, view })
    }

    fn staff_frame(&self, visit: &StaffVisit) -> StaffFrame {
        let member = &visit.session.member;
        let tenants = member
            .grants
            .iter()
            .filter_map(|g| match g {
                Grant::Tenant { slug, .. } => Some(NavLink {
                    label: slug.clone(),
                    url: format!("/admin/t/{slug}/"),
                    current: visit.path.starts_with(&format!("/admin/t/{slug}/")),
                }),
                Grant::Platform => None,
            })
            .collect();
        StaffFrame {
            email: member.email.to_string(),
            csrf: visit.session.csrf.clone(),
            platform: member.is_platform(),
            tenants,
        }
    }

    /// Renders a page for a visitor who is not signed in (login, invitation).
    fn public_page(&self, request: &Request, template: &str, status: StatusCode, view: &impl Serialize) -> Response {
        let (locale, remember, path) = self.admin_language(request);
        let frame = Frame { locale, remember, tenant: None, path };
        self.page(&frame, template, status, view)
    }

    /// The error page for a use case's error on an admin page.
    fn admin_failure(&self, visit: &StaffVisit, error: &AppError) -> Response {
        let outcome = Outcome::of(error);
        let view = views::ErrorView { title_key: outcome.page_title, body_key: outcome.page_body };
        with_retry_after(self.staff_page(visit, "admin-error", status_of(&outcome), &view), &outcome)
    }

    fn admin_failure_bare(&self, request: &Request, error: &AppError) -> Response {
        let outcome = Outcome::of(error);
        let view = views::ErrorView { title_key: outcome.page_title, body_key: outcome.page_body };
        with_retry_after(self.public_page(request, "admin-error", status_of(&outcome), &view), &outcome)
    }

    /// A field error in the visitor's language: `admin-error-<code>` when there is such a
    /// message, else the use case's own (English) text.
    fn field_errors(&self, locale: Locale, errors: &FieldErrors) -> BTreeMap<String, String> {
        errors
            .0
            .iter()
            .map(|e| {
                let key = format!("admin-error-{}", e.code.replace('_', "-"));
                let text = self.render.text(locale, &key, &[]);
                (e.field.clone(), if text == key { e.message.clone() } else { text })
            })
            .collect()
    }
}

impl StaffVisit {
    /// Refuses a form without this session's CSRF token.
    fn check_form(&self, fields: &Fields) -> Result<(), AppError> {
        let sent = fields.get("csrf").map(String::as_str).unwrap_or_default();
        if self.session.csrf_matches(sent) { Ok(()) } else { Err(AppError::StaleForm) }
    }
}

/// The first value a form sent for `name` (forms with lists arrive as pairs).
fn form_field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}
