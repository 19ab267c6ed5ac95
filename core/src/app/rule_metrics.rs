//! How tenant rules answered, counted by tenant, plugin, hook and outcome (served on `/metrics`),
//! so that an operator sees a broken or slow rule before the office's phone rings.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::plugin_host::{Hook, PluginError};

/// What one rule call came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RuleOutcome {
    Accepted,
    Refused,
    /// The tenant's lane stayed busy: the call was not run.
    Busy,
    /// The service names a plugin that is not loaded.
    NotLoaded,
    InputTooLarge,
    OutOfFuel,
    Timeout,
    Trap,
    OutputTooLarge,
    BadOutput,
    HostError,
}

impl RuleOutcome {
    pub fn label(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Refused => "refused",
            Self::Busy => "busy",
            Self::NotLoaded => "not_loaded",
            Self::InputTooLarge => "input_too_large",
            Self::OutOfFuel => "out_of_fuel",
            Self::Timeout => "timeout",
            Self::Trap => "trap",
            Self::OutputTooLarge => "output_too_large",
            Self::BadOutput => "bad_output",
            Self::HostError => "host_error",
        }
    }

    pub(super) fn of(error: &PluginError) -> Self {
        match error {
            PluginError::InputTooLarge => Self::InputTooLarge,
            PluginError::OutOfFuel => Self::OutOfFuel,
            PluginError::Timeout => Self::Timeout,
            PluginError::Trap(_) => Self::Trap,
            PluginError::OutputTooLarge => Self::OutputTooLarge,
            PluginError::BadOutput(_) => Self::BadOutput,
            PluginError::Invalid(_) | PluginError::Host(_) => Self::HostError,
        }
    }
}

/// One counter: how many calls of `hook` of `plugin` for `tenant` ended in `outcome`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCount {
    pub tenant: String,
    pub plugin: String,
    pub hook: Hook,
    pub outcome: RuleOutcome,
    pub calls: u64,
}

#[derive(Default)]
pub(super) struct RuleMetrics(Mutex<BTreeMap<(String, String, Hook, RuleOutcome), u64>>);

impl RuleMetrics {
    pub(super) fn count(&self, tenant: &str, plugin: &str, hook: Hook, outcome: RuleOutcome) {
        // A poisoned lock only loses a count; rules go on.
        if let Ok(mut counts) = self.0.lock() {
            *counts.entry((tenant.to_owned(), plugin.to_owned(), hook, outcome)).or_default() += 1;
        }
    }

    pub(super) fn snapshot(&self) -> Vec<RuleCount> {
        let Ok(counts) = self.0.lock() else { return Vec::new() };
        counts
            .iter()
            .map(|((tenant, plugin, hook, outcome), calls)| RuleCount {
                tenant: tenant.clone(),
                plugin: plugin.clone(),
                hook: *hook,
                outcome: *outcome,
                calls: *calls,
            })
            .collect()
    }
}
