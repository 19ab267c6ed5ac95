//! Which language a page speaks: `?lang=` (then remembered in a cookie), the cookie,
//! `Accept-Language`, or the tenant's default.

use poem::Request;

use crate::domain::Locale;

pub const COOKIE: &str = "lang";

/// The page's language, and whether `?lang=` asked to remember it.
pub fn negotiate(request: &Request, allowed: &[Locale], default: Locale) -> (Locale, bool) {
    let allowed_locale = |raw: &str| Locale::parse(raw).filter(|l| allowed.contains(l));
    let asked = request
        .uri()
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|pair| pair.strip_prefix("lang="))
        .find_map(allowed_locale);
    if let Some(locale) = asked {
        return (locale, true);
    }
    let cookie = super::cookie(request, COOKIE).and_then(allowed_locale);
    if let Some(locale) = cookie {
        return (locale, false);
    }
    let accepted = request
        .header("accept-language")
        .into_iter()
        .flat_map(|h| h.split(','))
        .map(|part| part.split(';').next().unwrap_or_default().trim())
        .find_map(|tag| allowed_locale(tag).or_else(|| allowed_locale(tag.split('-').next().unwrap_or_default())));
    (accepted.unwrap_or(default), false)
}

/// The current path and query without any `lang`, to which a language link adds its own.
pub fn link_base(request: &Request) -> String {
    let path = request.uri().path();
    let kept: Vec<&str> = request
        .uri()
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty() && !p.starts_with("lang="))
        .collect();
    if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", kept.join("&")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().uri(uri.parse().unwrap());
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.finish()
    }

    #[test]
    fn query_then_cookie_then_accept_language_then_default() {
        let both = [Locale::It, Locale::En];
        assert_eq!(
            negotiate(&request("/t/x?lang=en", &[("cookie", "lang=it")]), &both, Locale::It),
            (Locale::En, true)
        );
        assert_eq!(negotiate(&request("/t/x", &[("cookie", "a=b; lang=en")]), &both, Locale::It), (Locale::En, false));
        assert_eq!(
            negotiate(&request("/t/x", &[("accept-language", "fr-FR,en-GB;q=0.8")]), &both, Locale::It),
            (Locale::En, false)
        );
        assert_eq!(negotiate(&request("/t/x?lang=de", &[]), &both, Locale::It), (Locale::It, false));
        assert_eq!(
            negotiate(&request("/t/x?lang=en", &[]), &[Locale::It], Locale::It),
            (Locale::It, false),
            "not offered"
        );
    }

    #[test]
    fn language_links_keep_the_rest_of_the_query() {
        let day = request("/t/x/s/y?month=2026-12&lang=en&day=2026-12-02", &[]);
        assert_eq!(link_base(&day), "/t/x/s/y?month=2026-12&day=2026-12-02");
        assert_eq!(link_base(&request("/t/x/?lang=it", &[])), "/t/x/");
    }
}
