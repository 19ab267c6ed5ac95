//! Signing in and out, invitations and one's own password.

use poem::http::StatusCode;
use poem::web::{Form, Path, Query};
use poem::{Request, Response, handler};

use super::views::{InvitationView, LoginView, PasswordView, role_key};
use super::{Fields, Page, WebData, stop};
use crate::app::{AppError, LoggedIn, secrets};
use crate::web::{Web, see_other, staff_cookie};

const LOGIN_COOKIE: &str = "sportello-login";

/// Where to go after signing in: an admin page of this site, nothing else (no open redirect).
fn safe_next(raw: Option<&str>) -> String {
    match raw {
        Some(next)
            if next.starts_with("/admin/")
                && !next.contains("//")
                && !next.contains('\\')
                && next.chars().all(|c| !c.is_control() && !c.is_whitespace()) =>
        {
            next.to_owned()
        }
        _ => "/admin/".to_owned(),
    }
}

fn field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).map(String::as_str).unwrap_or_default()
}

impl Web {
    /// The login form with a fresh form token, set in a cookie as well (double submit: a page
    /// of another site can neither read the cookie nor send it).
    fn login_form(&self, request: &Request, status: StatusCode, view: LoginView) -> Response {
        self.login_step(request, "admin-login", status, view)
    }

    /// A step of signing in (`admin-login`, `admin-login-code`) with its form token.
    fn login_step(&self, request: &Request, template: &str, status: StatusCode, mut view: LoginView) -> Response {
        view.login_token = secrets::new_secret();
        let secure = if self.plain_http { "" } else { "; Secure" };
        let cookie = format!(
            "{LOGIN_COOKIE}={}; Path=/admin/; Max-Age=3600; HttpOnly; SameSite=Strict{secure}",
            view.login_token
        );
        let retry_after = view.retry_after;
        let mut response = self.public_page(request, template, status, &view);
        if let Ok(value) = cookie.parse() {
            response.headers_mut().append("Set-Cookie", value);
        }
        if let Some(seconds) = retry_after {
            response.headers_mut().insert("Retry-After", seconds.into());
        }
        response
    }

    /// The password was right: the session that waits for the code, and the code's own page.
    fn awaiting_code(&self, logged_in: &LoggedIn, next: &str) -> Response {
        let cookie = staff_cookie::set(&logged_in.token, logged_in.session.expires_at, self.app.now(), self.plain_http);
        let mut response = see_other(&format!("/admin/login/code?next={}", super::views::encode(next)));
        if let Ok(value) = cookie.parse() {
            response.headers_mut().append("Set-Cookie", value);
        }
        response
    }

    /// Signed in: the session cookie, and on to `next`.
    fn signed_in(&self, logged_in: &LoggedIn, next: &str) -> Response {
        let cookie = staff_cookie::set(&logged_in.token, logged_in.session.expires_at, self.app.now(), self.plain_http);
        let mut response = see_other(next);
        if let Ok(value) = cookie.parse() {
            response.headers_mut().append("Set-Cookie", value);
        }
        if let Ok(value) = format!("{LOGIN_COOKIE}=; Path=/admin/; Max-Age=0").parse() {
            response.headers_mut().append("Set-Cookie", value);
        }
        response
    }
}

#[derive(serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[handler]
pub async fn login_page(web: WebData<'_>, request: &Request, Query(query): Query<NextQuery>) -> Response {
    let view = LoginView { next: safe_next(query.next.as_deref()), ..LoginView::default() };
    web.login_form(request, StatusCode::OK, view)
}

#[handler]
pub async fn log_in(web: WebData<'_>, request: &Request, Form(fields): Form<Fields>) -> Response {
    let email: String = field(&fields, "email").chars().take(254).collect();
    let next = safe_next(fields.get("next").map(String::as_str));
    let sent = field(&fields, "login_token");
    let kept = crate::web::cookie(request, LOGIN_COOKIE);
    if !kept.is_some_and(|kept| !sent.is_empty() && secrets::same(kept, sent)) {
        let view = LoginView { email, next, error_key: Some("admin-login-expired"), ..LoginView::default() };
        return web.login_form(request, StatusCode::FORBIDDEN, view);
    }
    let client = web.client_of(request);
    let carried = staff_cookie::read(request, web.plain_http);
    match web.app.log_in(&email, field(&fields, "password"), client.as_deref(), carried.as_deref()).await {
        Ok(logged_in) if logged_in.awaiting_code => web.awaiting_code(&logged_in, &next),
        Ok(logged_in) => web.signed_in(&logged_in, &next),
        Err(AppError::LoginFailed) => {
            let view = LoginView { email, next, error_key: Some("admin-login-failed"), ..LoginView::default() };
            web.login_form(request, StatusCode::UNAUTHORIZED, view)
        }
        Err(AppError::RateLimited { retry_after }) => {
            let view = LoginView {
                email,
                next,
                error_key: Some("admin-login-throttled"),
                retry_after: Some(retry_after),
                ..LoginView::default()
            };
            web.login_form(request, StatusCode::TOO_MANY_REQUESTS, view)
        }
        Err(error) => web.admin_failure_bare(request, &error),
    }
}

#[handler]
pub async fn code_page(web: WebData<'_>, request: &Request, Query(query): Query<NextQuery>) -> Response {
    let view = LoginView { next: safe_next(query.next.as_deref()), ..LoginView::default() };
    web.login_step(request, "admin-login-code", StatusCode::OK, view)
}

/// The second step of signing in: the code of the account's authenticator, or a recovery code.
#[handler]
pub async fn enter_code(web: WebData<'_>, request: &Request, Form(fields): Form<Fields>) -> Response {
    let next = safe_next(fields.get("next").map(String::as_str));
    let sent = field(&fields, "login_token");
    let kept = crate::web::cookie(request, LOGIN_COOKIE);
    let again = |error_key, status| {
        let view = LoginView { next: next.clone(), error_key: Some(error_key), ..LoginView::default() };
        web.login_step(request, "admin-login-code", status, view)
    };
    if !kept.is_some_and(|kept| !sent.is_empty() && secrets::same(kept, sent)) {
        return again("admin-login-expired", StatusCode::FORBIDDEN);
    }
    let client = web.client_of(request);
    let pending = staff_cookie::read(request, web.plain_http).unwrap_or_default();
    match web.app.complete_login(&pending, field(&fields, "code"), client.as_deref()).await {
        Ok(logged_in) => web.signed_in(&logged_in, &next),
        Err(AppError::Invalid(_)) => again("admin-code-wrong", StatusCode::UNAUTHORIZED),
        Err(AppError::Unauthenticated) => see_other("/admin/login"),
        Err(AppError::RateLimited { retry_after }) => {
            let view = LoginView {
                next: next.clone(),
                error_key: Some("admin-login-throttled"),
                retry_after: Some(retry_after),
                ..LoginView::default()
            };
            web.login_step(request, "admin-login-code", StatusCode::TOO_MANY_REQUESTS, view)
        }
        Err(error) => web.admin_failure_bare(request, &error),
    }
}

#[handler]
pub async fn log_out(web: WebData<'_>, request: &Request, Form(fields): Form<Fields>) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    web.app.log_out(&visit.session).await.map_err(|e| stop(web.admin_failure(&visit, &e)))?;
    let mut response = see_other("/admin/login");
    if let Ok(value) = staff_cookie::clear(web.plain_http).parse() {
        response.headers_mut().append("Set-Cookie", value);
    }
    Ok(response)
}

impl Web {
    async fn invitation_form(
        &self,
        request: &Request,
        token: &str,
        status: StatusCode,
        errors: std::collections::BTreeMap<String, String>,
    ) -> Page {
        let offer = self.app.invitation(token).await;
        let offer = offer.map_err(|e| stop(self.admin_failure_bare(request, &e)))?;
        let view = InvitationView {
            email: offer.email.to_string(),
            role_key: role_key(offer.role),
            tenant: offer.tenant,
            action: format!("/admin/invitation/{token}"),
            errors,
        };
        Ok(self.public_page(request, "admin-invitation", status, &view))
    }
}

#[handler]
pub async fn invitation_page(web: WebData<'_>, request: &Request, Path(token): Path<String>) -> Page {
    web.invitation_form(request, &token, StatusCode::OK, Default::default()).await
}

/// The link's secret is the proof: a page of another site cannot know it, so the form needs no
/// other token.
#[handler]
pub async fn accept_invitation(
    web: WebData<'_>,
    request: &Request,
    Path(token): Path<String>,
    Form(fields): Form<Fields>,
) -> Page {
    let (password, confirmation) = (field(&fields, "password"), fields.get("password_confirmation"));
    if confirmation.is_some_and(|c| c != password) {
        let (locale, _, _) = web.admin_language(request);
        let errors =
            [("password_confirmation".to_owned(), web.render.text(locale, "admin-error-passwords-differ", &[]))];
        return web.invitation_form(request, &token, StatusCode::UNPROCESSABLE_ENTITY, errors.into()).await;
    }
    let client = web.client_of(request);
    match web.app.accept_invitation(&token, password, client.as_deref()).await {
        Ok(logged_in) if logged_in.awaiting_code => Ok(web.awaiting_code(&logged_in, "/admin/")),
        Ok(logged_in) => Ok(web.signed_in(&logged_in, "/admin/")),
        Err(AppError::Invalid(errors)) => {
            let (locale, _, _) = web.admin_language(request);
            let errors = web.field_errors(locale, &errors);
            web.invitation_form(request, &token, StatusCode::UNPROCESSABLE_ENTITY, errors).await
        }
        Err(error) => Err(stop(web.admin_failure_bare(request, &error))),
    }
}

#[handler]
pub async fn password_page(web: WebData<'_>, request: &Request) -> Page {
    let visit = web.staff_visit(request).await?;
    Ok(web.staff_page(&visit, "admin-password", StatusCode::OK, &PasswordView::default()))
}

#[handler]
pub async fn change_password(web: WebData<'_>, request: &Request, Form(fields): Form<Fields>) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let (new, confirmation) = (field(&fields, "new_password"), field(&fields, "new_password_confirmation"));
    if new != confirmation {
        let text = web.render.text(visit.locale, "admin-error-passwords-differ", &[]);
        let view = PasswordView { errors: [("new_password_confirmation".to_owned(), text)].into(), changed: false };
        return Ok(web.staff_page(&visit, "admin-password", StatusCode::UNPROCESSABLE_ENTITY, &view));
    }
    match web.app.change_password(&visit.session, field(&fields, "current_password"), new).await {
        Ok(()) => Ok(web.staff_page(
            &visit,
            "admin-password",
            StatusCode::OK,
            &PasswordView { changed: true, ..PasswordView::default() },
        )),
        Err(AppError::Invalid(errors)) => {
            let view = PasswordView { errors: web.field_errors(visit.locale, &errors), changed: false };
            Ok(web.staff_page(&visit, "admin-password", StatusCode::UNPROCESSABLE_ENTITY, &view))
        }
        Err(error) => Err(stop(web.admin_failure(&visit, &error))),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_admin_pages() {
        assert_eq!(safe_next(Some("/admin/t/prova/staff")), "/admin/t/prova/staff");
        for hostile in ["https://evil.example/", "//evil.example/admin/", "/admin/\\evil", "/t/prova/", "/admin/\n"] {
            assert_eq!(safe_next(Some(hostile)), "/admin/", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/admin/");
    }
}
