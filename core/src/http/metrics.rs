//! `GET /metrics`: this process's counters in the Prometheus text format (version 0.0.4).
//! Nothing personal is in them: tenant slugs, plugin ids, hooks and outcomes.

use std::fmt::Write;

use poem::web::Data;
use poem::{Response, handler};

use crate::app::{Flow, Metrics, Sportello};
use crate::holds::HoldHealth;
use crate::store::PoolState;

#[handler]
pub async fn metrics(app: Data<&Sportello>) -> Response {
    let mut text = render(&app.metrics());
    render_faults(&mut text, &crate::outcome::faults());
    let (database, holds) = app.check_ready().await;
    render_health(&mut text, database.is_ok(), matches!(holds, HoldHealth::Ok), app.store().pool());
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
    for flow in [Flow::Hold, Flow::Booking] {
        let name = flow.name();
        let _ = writeln!(text, "# HELP sportello_{name}_total Requests for {name}, by tenant and outcome.");
        let _ = writeln!(text, "# TYPE sportello_{name}_total counter");
        for count in counted.flows.iter().filter(|c| c.flow == flow) {
            let _ = writeln!(
                text,
                "sportello_{name}_total{{tenant=\"{}\",outcome=\"{}\"}} {}",
                label(&count.tenant),
                count.outcome,
                count.count
            );
        }
    }
    let _ = writeln!(text, "# HELP sportello_plugin_compilations_total Plugin modules compiled.");
    let _ = writeln!(text, "# TYPE sportello_plugin_compilations_total counter");
    let _ = writeln!(text, "sportello_plugin_compilations_total {}", counted.module_compilations);
    let _ = writeln!(text, "# HELP sportello_plugin_cache_hits_total Plugin loads that found compiled code.");
    let _ = writeln!(text, "# TYPE sportello_plugin_cache_hits_total counter");
    let _ = writeln!(text, "sportello_plugin_cache_hits_total {}", counted.module_cache_hits);
    text
}

/// Whether the database and the hold store answer, and how the connection pool is used.
fn render_health(text: &mut String, database_up: bool, holds_up: bool, pool: PoolState) {
    let _ = writeln!(text, "# HELP sportello_database_up Whether the database answered a ping just now.");
    let _ = writeln!(text, "# TYPE sportello_database_up gauge");
    let _ = writeln!(text, "sportello_database_up {}", u8::from(database_up));
    let _ = writeln!(text, "# HELP sportello_holds_up Whether the hold store (Redis or in-process) is healthy.");
    let _ = writeln!(text, "# TYPE sportello_holds_up gauge");
    let _ = writeln!(text, "sportello_holds_up {}", u8::from(holds_up));
    let _ = writeln!(text, "# HELP sportello_database_connections Open database connections, by state.");
    let _ = writeln!(text, "# TYPE sportello_database_connections gauge");
    let _ = writeln!(text, "sportello_database_connections{{state=\"busy\"}} {}", pool.open - pool.idle);
    let _ = writeln!(text, "sportello_database_connections{{state=\"idle\"}} {}", pool.idle);
    let _ = writeln!(text, "# HELP sportello_database_connections_max The pool's limit.");
    let _ = writeln!(text, "# TYPE sportello_database_connections_max gauge");
    let _ = writeln!(text, "sportello_database_connections_max {}", pool.max);
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
    use crate::app::{FlowCount, RuleCount, RuleOutcome};
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
            flows: vec![FlowCount { tenant: "prova".into(), flow: Flow::Hold, outcome: "slot_taken", count: 4 }],
            module_cache_hits: 2,
            module_compilations: 1,
        };
        let text = render(&counted);
        assert!(text.contains(
            "sportello_rule_calls_total{tenant=\"comune \\\"x\\\"\",plugin=\"fiscal-code\",hook=\"validate\",outcome=\"out_of_fuel\"} 3\n"
        ));
        assert!(text.contains("sportello_plugin_compilations_total 1\n"));
        assert!(text.contains("sportello_plugin_cache_hits_total 2\n"));
        assert!(text.contains("sportello_holds_total{tenant=\"prova\",outcome=\"slot_taken\"} 4\n"));
        assert!(text.contains("# TYPE sportello_bookings_total counter\n"));
    }
}
