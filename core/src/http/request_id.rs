//! The id of one request: in its log lines (`log_request`), its `X-Request-Id` answer header, the
//! `request_id` of its problem body and its server-error page — what a citizen's "error code"
//! leads to in the log.

use poem::{Body, Request, Response};

/// The id of one request, in its log lines, its `X-Request-Id` answer header, its problem body
/// and its error page: what a citizen's "error code" leads to.
#[derive(Clone, Debug)]
pub(super) struct RequestId(pub(super) String);

/// A proxy's `X-Request-Id` when it is a plain token (letters, digits, `-`, `_`; up to 64), so
/// that its logs and ours line up; otherwise one made here.
pub(super) fn of(req: &Request) -> String {
    let plain = |v: &&str| {
        (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    match req.header("x-request-id").filter(plain) {
        Some(given) => given.to_owned(),
        None => format!("{:016x}", rand::random::<u64>()),
    }
}

/// `response` with the request's id written into it where a person will read it: the
/// `request_id` of a problem body, and the marked place of a server-error page.
pub(super) async fn with_request_id(response: Response, id: &str) -> Response {
    let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let problem = kind.starts_with("application/problem+json");
    let error_page = kind.starts_with("text/html") && response.status().is_server_error();
    if !problem && !error_page {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = body.into_bytes().await else { return Response::from_parts(parts, Body::empty()) };
    let body = if problem {
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(mut object)) => {
                object.insert("request_id".to_owned(), serde_json::Value::from(id));
                Body::from(serde_json::Value::Object(object).to_string())
            }
            _ => Body::from(bytes),
        }
    } else {
        Body::from(show_request_id(&String::from_utf8_lossy(&bytes), id))
    };
    let mut response = Response::from_parts(parts, body);
    response.headers_mut().remove("content-length");
    response
}

/// Where an error page may show the request's id (`error.hbs`), with its label in the page's
/// language: `<!--request-id:Label-->`, shown only on a server error (a comment elsewhere).
const REQUEST_ID_MARK: &str = "<!--request-id:";

fn show_request_id(page: &str, id: &str) -> String {
    let Some(start) = page.find(REQUEST_ID_MARK) else { return page.to_owned() };
    let label_at = start + REQUEST_ID_MARK.len();
    let Some(length) = page.get(label_at..).and_then(|rest| rest.find("-->")) else { return page.to_owned() };
    let label = page.get(label_at..label_at + length).unwrap_or_default();
    let after = page.get(label_at + length + 3..).unwrap_or_default();
    format!("{}<p class=\"meta\">{label} <code>{id}</code></p>{after}", page.get(..start).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::show_request_id;

    #[test]
    fn a_server_error_page_shows_the_request_id_where_marked() {
        let page = "<main><h1>Errore</h1><!--request-id:Codice:--></main>";
        assert_eq!(
            show_request_id(page, "ab12"),
            "<main><h1>Errore</h1><p class=\"meta\">Codice: <code>ab12</code></p></main>"
        );
        assert_eq!(show_request_id("<p>no mark</p>", "ab12"), "<p>no mark</p>");
        assert_eq!(show_request_id("<!--request-id:unclosed", "ab12"), "<!--request-id:unclosed");
    }
}
