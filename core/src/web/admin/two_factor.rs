//! One's own second factor: turning it on (scan, then type a code), recovery codes shown once,
//! new recovery codes, turning it off.

use std::collections::BTreeMap;

use poem::http::StatusCode;
use poem::web::Form;
use poem::{Request, handler};
use serde::Serialize;

use super::{Fields, Page, StaffVisit, WebData, stop};
use crate::app::{AppError, Enrolment};
use crate::web::{Web, see_other};

#[derive(Serialize)]
struct EnrolmentView {
    secret: String,
    qr_svg: String,
}

#[derive(Serialize)]
struct TwoFactorPage {
    enabled: bool,
    codes_left: u64,
    /// A body this account works for asks for a second factor.
    required: bool,
    enrolment: Option<EnrolmentView>,
    /// Just made: shown this once.
    recovery_codes: Vec<String>,
    errors: BTreeMap<String, String>,
}

impl Web {
    async fn two_factor_page(
        &self,
        visit: &StaffVisit,
        status: StatusCode,
        recovery_codes: Vec<String>,
        errors: BTreeMap<String, String>,
    ) -> Page {
        let fail = |e: AppError| stop(self.admin_failure(visit, &e));
        let state = self.app.two_factor_status(&visit.session).await.map_err(fail)?;
        let enrolment = match state.enabled {
            true => None,
            false => {
                let Enrolment { secret, qr_svg, .. } = self.app.start_enrolment(&visit.session).await.map_err(fail)?;
                Some(EnrolmentView { secret, qr_svg })
            }
        };
        let view = TwoFactorPage {
            enabled: state.enabled,
            codes_left: state.recovery_codes_left,
            required: self.app.two_factor_required(&visit.session).await.map_err(fail)?,
            enrolment,
            recovery_codes,
            errors,
        };
        Ok(self.staff_page(visit, "admin-two-factor", status, &view))
    }

    /// The page after a use case: the codes it made, or its field errors.
    async fn two_factor_done(&self, visit: &StaffVisit, done: Result<Vec<String>, AppError>) -> Page {
        match done {
            Ok(codes) => self.two_factor_page(visit, StatusCode::OK, codes, BTreeMap::new()).await,
            Err(AppError::Invalid(errors)) => {
                let errors = self.field_errors(visit.locale, &errors);
                self.two_factor_page(visit, StatusCode::UNPROCESSABLE_ENTITY, Vec::new(), errors).await
            }
            Err(error) => Err(stop(self.admin_failure(visit, &error))),
        }
    }
}

fn code(fields: &Fields) -> &str {
    fields.get("code").map(String::as_str).unwrap_or_default()
}

#[handler]
pub async fn two_factor_page(web: WebData<'_>, request: &Request) -> Page {
    let visit = web.staff_visit(request).await?;
    web.two_factor_page(&visit, StatusCode::OK, Vec::new(), BTreeMap::new()).await
}

#[handler]
pub async fn turn_on(web: WebData<'_>, request: &Request, Form(fields): Form<Fields>) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let done = web.app.confirm_enrolment(&visit.session, code(&fields)).await;
    web.two_factor_done(&visit, done).await
}

#[handler]
pub async fn new_codes(web: WebData<'_>, request: &Request, Form(fields): Form<Fields>) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let done = web.app.renew_recovery_codes(&visit.session, code(&fields)).await;
    web.two_factor_done(&visit, done).await
}

#[handler]
pub async fn turn_off(web: WebData<'_>, request: &Request, Form(fields): Form<Fields>) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let password = fields.get("password").map(String::as_str).unwrap_or_default();
    match web.app.turn_off_two_factor(&visit.session, password, code(&fields)).await {
        Ok(()) => Ok(see_other("/admin/account/two-factor")),
        Err(error) => web.two_factor_done(&visit, Err(error)).await,
    }
}
