//! `GET /metrics`: this process's counters in the Prometheus text format (version 0.0.4).
//! Nothing personal is in them: tenant slugs, plugin ids, hooks and outcomes.

use std::fmt::Write;

use poem::web::Data;
use poem::{Response, handler};

use crate::app::{Metrics, Sportello};

#[handler]
pub async fn metrics(app: Data<&Sportello>) -> Response {
    let mut text = render(&app.metrics());
    render_faults(&mut text, &crate::outcome::faults());
    super::latency::render(&mut text);
    if let Ok(backlog) = app.outbox_backlog().await {
        let age = backlog.oldest.map_or(0, |at| (chrono::Utc::now() - at).num_seconds().max(0));
        let _ = writeln!(text, "# HELP sportello_outbox_waiting Messages due and not yet delivered.");
        let _ = writeln!(text, "# TYPE sportello_outbox_waiting gauge");
        let _ = writeln!(text, "sportello_outbox_waiting {}", backlog.waiting);
        let _ = writeln!(text, "# HELP sportello_outbox_oldest_seconds Age of the oldest message waiting.");
        let _ = writeln!(text, "# TYPE sportello_outbox_oldest_seconds gauge");
        let _ = writeln!(text, "sportello_outbox_oldest_seconds {age}");
        let _ = writeln!(text, "# HELP sportello_outbox_failed Messages given up on (see the delivery logs).");
        let _ = writeln!(text, "# TYPE sportello_outbox_failed gauge");
        let _ = writeln!(text, "sportello_outbox_failed {}", backlog.failed);
    }
    Response::builder().content_type("text/plain; version=0.0.4; charset=utf-8").body(text)
}

/// A label value with `\`, `"` and newlines escaped, as the format requires.
fn label(value: &str) -> String {
    value.replace('\\', r"\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn render(counted: &Metrics) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# HELP sportello_rule_calls_total Tenant rule (plugin) calls, by outcome.");
    let _ = writeln!(text, "# TYPE sportello_rule_calls_total counter");
    for count in &counted.rule_calls {
        let _ = writeln!(
            text,
            "sportello_rule_calls_total{{tenant=\"{}\",plugin=\"{}\",hook=\"{}\",outcome=\"{}\"}} {}",
            label(&count.tenant),
            label(&count.plugin),
            count.hook.name(),
            count.outcome.label(),
            count.calls
        );
    }
    let _ = writeln!(text, "# HELP sportello_plugin_compilations_total Plugin modules compiled.");
    let _ = writeln!(text, "# TYPE sportello_plugin_compilations_total counter");
    let _ = writeln!(text, "sportello_plugin_compilations_total {}", counted.module_compilations);
    let _ = writeln!(text, "# HELP sportello_plugin_cache_hits_total Plugin loads that found compiled code.");
    let _ = writeln!(text, "# TYPE sportello_plugin_cache_hits_total counter");
    let _ = writeln!(text, "sportello_plugin_cache_hits_total {}", counted.module_cache_hits);
    text
}

/// Requests answered with a fault of ours or of a dependency, by problem type.
fn render_faults(text: &mut String, faults: &[(&str, u64)]) {
    let _ = writeln!(text, "# HELP sportello_faults_total Requests that failed on our side, by problem type.");
    let _ = writeln!(text, "# TYPE sportello_faults_total counter");
    for (kind, count) in faults {
        let _ = writeln!(text, "sportello_faults_total{{kind=\"{}\"}} {count}", label(kind));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{RuleCount, RuleOutcome};
    use crate::plugin_host::Hook;

    #[test]
    fn renders_the_text_format() {
        let counted = Metrics {
            rule_calls: vec![RuleCount {
                tenant: "comune \"x\"".into(),
                plugin: "fiscal-code".into(),
                hook: Hook::Validate,
                outcome: RuleOutcome::OutOfFuel,
                calls: 3,
            }],
            module_cache_hits: 2,
            module_compilations: 1,
        };
        let text = render(&counted);
        assert!(text.contains(
            "sportello_rule_calls_total{tenant=\"comune \\\"x\\\"\",plugin=\"fiscal-code\",hook=\"validate\",outcome=\"out_of_fuel\"} 3\n"
        ));
        assert!(text.contains("sportello_plugin_compilations_total 1\n"));
        assert!(text.contains("sportello_plugin_cache_hits_total 2\n"));
    }
}
