//! The counter queue at the desk: the desk an operator sits at (remembered by their browser) and
//! "call next", which lands back on the agenda saying whom it called.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use poem::web::{Form, Path};
use poem::{Request, handler};

use super::{Fields, Page, WebData, stop};
use crate::app::AppError;
use crate::web::{cookie, see_other};

const DESK_COOKIE: &str = "sportello_desk";

/// The desk this browser's operator last called to.
pub(super) fn chosen_desk(request: &Request) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cookie(request, DESK_COOKIE)?).ok()?;
    String::from_utf8(bytes).ok().filter(|d| !d.trim().is_empty())
}

/// Remembers `desk` for this browser's next calls (staff pages only; a year); `Secure` unless
/// the server is reached over plain HTTP, like the session's cookie.
fn remember_desk(desk: &str, plain_http: bool) -> String {
    let value = URL_SAFE_NO_PAD.encode(desk.trim());
    let secure = if plain_http { "" } else { "; Secure" };
    format!("{DESK_COOKIE}={value}; Path=/admin/; Max-Age=31536000; SameSite=Strict; HttpOnly{secure}")
}

#[handler]
pub async fn call_next(
    web: WebData<'_>,
    request: &Request,
    Path((tenant, office)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Page {
    let visit = web.staff_form(request, &fields).await?;
    let desk = fields.get("desk").map(String::as_str).unwrap_or_default();
    let agenda = format!("/admin/t/{tenant}/desk/{office}");
    let mut response = match web.app.call_next(&visit.session, &tenant, &office, desk).await {
        Ok(called) => see_other(&format!("{agenda}?called={}", called.booking.code)),
        Err(AppError::NobodyWaiting) => see_other(&format!("{agenda}?nobody=yes")),
        Err(error) => return Err(stop(web.admin_failure(&visit, &error))),
    };
    if let Ok(value) = remember_desk(desk, web.plain_http).parse() {
        response.headers_mut().append("Set-Cookie", value);
    }
    Ok(response)
}
