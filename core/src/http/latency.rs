//! How long answers take, by route family, for `/metrics`: a Prometheus histogram per family.
//! A family is the area and the resource (`api /t/:tenant/holds`, `page /t/:tenant/s`), never an
//! id, a code or a tenant; a path no route knows counts under `not_found`, so that nobody can
//! grow the label set by asking for made-up paths.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the buckets, in seconds.
const BOUNDS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Histogram {
    /// Answers at or below each bound (not cumulative here; summed when rendered).
    buckets: [u64; BOUNDS.len()],
    count: u64,
    sum: f64,
}

static LATENCY: Mutex<BTreeMap<String, Histogram>> = Mutex::new(BTreeMap::new());

/// The family of `path`, given the answer's status.
pub(super) fn family(path: &str, status: u16) -> String {
    if status == 404 {
        return "not_found".to_owned();
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let at = |i: usize| segments.get(i).copied().unwrap_or_default();
    match (at(0), at(1), at(2)) {
        ("api", "v1", "t") => format!("api /t/:tenant/{}", at(4)),
        ("api", "v1", "admin") if at(3) == "t" => format!("admin-api /t/:tenant/{}", at(5)),
        ("api", "v1", "admin") => format!("admin-api /{}", at(3)),
        ("api", "docs", _) => "api-docs".to_owned(),
        ("t", _, _) => format!("page /t/:tenant/{}", at(2)),
        ("admin", "t", _) => format!("staff-page /t/:tenant/{}", at(3)),
        ("admin", _, _) => format!("staff-page /{}", at(1)),
        (first @ ("static" | "metrics" | "healthz" | "readyz"), _, _) => first.to_owned(),
        ("", _, _) => "page /".to_owned(),
        _ => "other".to_owned(),
    }
}

/// Counts one answer of `family` that took `took`.
pub(super) fn record(family: String, took: Duration) {
    let seconds = took.as_secs_f64();
    let Ok(mut all) = LATENCY.lock() else { return };
    let histogram = all.entry(family).or_default();
    if let Some(i) = BOUNDS.iter().position(|b| seconds <= *b)
        && let Some(bucket) = histogram.buckets.get_mut(i)
    {
        *bucket += 1;
    }
    histogram.count += 1;
    histogram.sum += seconds;
}

/// The histograms in the text format.
pub(super) fn render(text: &mut String) {
    let _ = writeln!(text, "# HELP sportello_request_seconds Time to answer, by route family.");
    let _ = writeln!(text, "# TYPE sportello_request_seconds histogram");
    let Ok(all) = LATENCY.lock() else { return };
    for (family, histogram) in all.iter() {
        let mut cumulative = 0;
        for (bound, count) in BOUNDS.iter().zip(histogram.buckets) {
            cumulative += count;
            let _ =
                writeln!(text, "sportello_request_seconds_bucket{{route=\"{family}\",le=\"{bound}\"}} {cumulative}");
        }
        let _ =
            writeln!(text, "sportello_request_seconds_bucket{{route=\"{family}\",le=\"+Inf\"}} {}", histogram.count);
        let _ = writeln!(text, "sportello_request_seconds_sum{{route=\"{family}\"}} {}", histogram.sum);
        let _ = writeln!(text, "sportello_request_seconds_count{{route=\"{family}\"}} {}", histogram.count);
    }
}

#[cfg(test)]
mod tests {
    use super::family;

    #[test]
    fn families_name_the_resource_never_an_id_or_a_tenant() {
        assert_eq!(family("/api/v1/t/prova/bookings/ABCD-2345", 200), "api /t/:tenant/bookings");
        assert_eq!(family("/api/v1/t/altro/availability", 200), "api /t/:tenant/availability");
        assert_eq!(family("/api/v1/admin/t/prova/bookings/ABCD-2345/check-in", 200), "admin-api /t/:tenant/bookings");
        assert_eq!(family("/api/v1/admin/session", 201), "admin-api /session");
        assert_eq!(family("/t/prova/b/some-token", 200), "page /t/:tenant/b");
        assert_eq!(family("/admin/t/prova/desk/sede", 200), "staff-page /t/:tenant/desk");
        assert_eq!(family("/static/app.1234.css", 200), "static");
        assert_eq!(family("/made/up/path", 404), "not_found");
        assert_eq!(family("/api/v1/t/prova/whatever-you-like", 404), "not_found");
    }
}
