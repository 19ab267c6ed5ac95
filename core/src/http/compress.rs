//! Responses of text (pages, JSON) are compressed with gzip when the client accepts it: a page
//! of 3–6 KB of HTML becomes 1–2 KB, which is most of what a citizen downloads after the first
//! step. Static assets come pre-compressed and are left alone.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use poem::http::HeaderValue;
use poem::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, VARY};
use poem::{Body, Endpoint, IntoResponse, Request, Response};

/// Below this, gzip's own header outweighs what it saves.
const MIN_BYTES: usize = 1024;

/// Whether an `Accept-Encoding` value allows gzip (a `q=0` refuses it).
fn accepts_gzip(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default();
        let refused = parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()) == Some(0.0));
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

fn is_text(response: &Response) -> bool {
    let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    ["text/html", "text/plain", "application/json", "application/problem+json"]
        .iter()
        .any(|kind| content_type.starts_with(kind))
}

pub(super) async fn gzip_text<E: Endpoint>(next: E, request: Request) -> poem::Result<Response> {
    let accepted = request.header("accept-encoding").is_some_and(accepts_gzip);
    let response = next.call(request).await?.into_response();
    if !is_text(&response) || response.headers().contains_key(CONTENT_ENCODING) {
        return Ok(response);
    }
    let (mut parts, body) = response.into_parts();
    // Caches must keep the two forms apart, whichever this client got.
    parts.headers.append(VARY, HeaderValue::from_static("accept-encoding"));
    if !accepted {
        return Ok(Response::from_parts(parts, body));
    }
    let bytes = body.into_bytes().await?;
    if bytes.len() < MIN_BYTES {
        return Ok(Response::from_parts(parts, Body::from(bytes)));
    }
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 3), Compression::fast());
    let compressed = match encoder.write_all(&bytes).and_then(|()| encoder.finish()) {
        Ok(compressed) => compressed,
        Err(_) => return Ok(Response::from_parts(parts, Body::from(bytes))),
    };
    parts.headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts.headers.remove(CONTENT_LENGTH);
    Ok(Response::from_parts(parts, Body::from(compressed)))
}

#[cfg(test)]
mod tests {
    use super::accepts_gzip;

    #[test]
    fn reads_accept_encoding() {
        for yes in ["gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "*", "GZIP"] {
            assert!(accepts_gzip(yes), "{yes}");
        }
        for no in ["", "identity", "br", "gzip;q=0", "gzip; q=0.0, br"] {
            assert!(!accepts_gzip(no), "{no}");
        }
    }
}
