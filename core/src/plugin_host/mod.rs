//! Tenant rules as WebAssembly plugins, run sandboxed with wasmtime.
//!
//! ABI, version 1 (docs/plugins.md): a WASI preview-1 module that exports `memory`, the marker
//! function `sportello_abi_1`, and one function per hook it implements (`sportello_validate`,
//! `sportello_lookup`, each `() -> ()`). The host writes the hook's input as JSON on the plugin's
//! stdin and reads its answer as JSON from its stdout.
//!
//! Each call gets a fresh store with a fuel budget, a wall-clock deadline (epochs), a memory cap,
//! and capped input and output; the module is compiled once per content hash. Invariant: only
//! this module knows wasmtime.

mod cache;
mod datasets;
mod guest_memory;
mod wasi;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::{Config, Engine, InstancePre, Linker, Module, OptLevel, Store, StoreLimits, StoreLimitsBuilder, Trap};

pub use datasets::{Dataset, Datasets};
use wasi::{Exit, HasPipes, Pipes};

/// The only ABI version this host speaks.
pub const ABI_VERSION: u32 = 1;
const ABI_MARKER: &str = "sportello_abi_";
/// Modules above this size are refused before compilation.
const MAX_MODULE_BYTES: usize = 8 * 1024 * 1024;
/// The epoch ticks this often; deadlines are counted in ticks.
const TICK: Duration = Duration::from_millis(1);

/// The hooks a plugin may implement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hook {
    /// Before a booking is confirmed: ok, or errors per field, and an optional summary.
    Validate,
    /// An interactive check of one field while the citizen types.
    Lookup,
}

impl Hook {
    /// The hook's name in docs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::Validate => "validate",
            Self::Lookup => "lookup",
        }
    }

    pub fn export(self) -> &'static str {
        match self {
            Self::Validate => "sportello_validate",
            Self::Lookup => "sportello_lookup",
        }
    }
}

/// Per-call budgets. Defaults follow docs/plugins.md; a tenant may lower them, and raise them
/// only up to the platform's cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PluginLimits {
    /// Instructions, roughly (wasmtime fuel).
    pub fuel: u64,
    /// Wall-clock backstop, for time spent outside fuel accounting.
    pub wall: Duration,
    pub memory_bytes: usize,
    /// Cap of the input and of the output, each.
    pub io_bytes: usize,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self { fuel: 10_000_000, wall: Duration::from_millis(50), memory_bytes: 16 * 1024 * 1024, io_bytes: 64 * 1024 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// Refused at load: not compilable, wrong ABI, missing exports, foreign imports.
    #[error("invalid plugin: {0}")]
    Invalid(String),
    #[error("the input is larger than the plugin's limit")]
    InputTooLarge,
    #[error("the plugin ran out of fuel")]
    OutOfFuel,
    #[error("the plugin ran out of time")]
    Timeout,
    #[error("the plugin trapped: {0}")]
    Trap(String),
    #[error("the plugin wrote more output than allowed")]
    OutputTooLarge,
    #[error("the plugin's output is not valid: {0}")]
    BadOutput(String),
    #[error("the plugin host failed: {0}")]
    Host(String),
}

/// A loaded plugin: validated, compiled, ready to instantiate.
#[derive(Clone)]
pub struct Plugin {
    pub id: String,
    /// SHA-256 of the module, hex.
    pub hash: String,
    pub hooks: Vec<Hook>,
    ready: InstancePre<Guest>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin").field("id", &self.id).field("hash", &self.hash).field("hooks", &self.hooks).finish()
    }
}

impl Plugin {
    pub fn implements(&self, hook: Hook) -> bool {
        self.hooks.contains(&hook)
    }
}

/// The state of one call.
pub(crate) struct Guest {
    pipes: Pipes,
    limits: StoreLimits,
    datasets: Arc<Datasets>,
}

impl HasPipes for Guest {
    fn pipes(&mut self) -> &mut Pipes {
        &mut self.pipes
    }
}

/// Compiles, caches and runs plugins. One per process.
pub struct PluginHost {
    engine: Engine,
    cache: cache::ModuleCache,
}

impl PluginHost {
    /// A host whose compiled modules are also kept in `cache_dir` (across restarts), if given.
    pub fn new(cache_dir: Option<PathBuf>) -> Result<Arc<Self>, PluginError> {
        let mut config = Config::new();
        config.consume_fuel(true).epoch_interruption(true).cranelift_opt_level(OptLevel::Speed);
        let engine = Engine::new(&config).map_err(|e| PluginError::Host(e.to_string()))?;
        // The wall-clock backstop: every tick moves the epoch on; a call's deadline is in ticks.
        let ticker = engine.weak();
        std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                while let Some(engine) = ticker.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(TICK);
                }
            })
            .map_err(|e| PluginError::Host(e.to_string()))?;
        let cache = cache::ModuleCache::new(&engine, cache_dir);
        Ok(Arc::new(Self { engine, cache }))
    }

    /// Validates and compiles `bytes` (once per content hash).
    pub fn load(&self, id: &str, bytes: &[u8]) -> Result<Plugin, PluginError> {
        if bytes.len() > MAX_MODULE_BYTES {
            return Err(PluginError::Invalid(format!(
                "the module is larger than {} MiB",
                MAX_MODULE_BYTES / 1024 / 1024
            )));
        }
        let hash = format!("{:x}", Sha256::digest(bytes));
        let module = self.cache.module(&hash, bytes)?;
        check_abi(&module)?;
        let hooks: Vec<Hook> =
            [Hook::Validate, Hook::Lookup].into_iter().filter(|h| module.get_export(h.export()).is_some()).collect();
        if hooks.is_empty() {
            return Err(PluginError::Invalid(
                "it implements no hook (export sportello_validate or sportello_lookup)".into(),
            ));
        }
        for hook in &hooks {
            let ty = module.get_export(hook.export()).and_then(|e| e.func().cloned());
            if !ty.is_some_and(|t| t.params().len() == 0 && t.results().len() == 0) {
                return Err(PluginError::Invalid(format!(
                    "{} must be a function without parameters or results",
                    hook.export()
                )));
            }
        }
        let provided = |i: &wasmtime::ImportType<'_>| {
            i.module() == wasi::WASI || (i.module() == datasets::MODULE && i.name() == datasets::LOOKUP)
        };
        if let Some(import) = module.imports().find(|i| !provided(i)) {
            return Err(PluginError::Invalid(format!(
                "it imports {}.{}, which Sportello does not provide",
                import.module(),
                import.name()
            )));
        }
        let mut linker = Linker::new(&self.engine);
        wasi::add(&mut linker, &module)?;
        datasets::add(&mut linker)?;
        let ready = linker.instantiate_pre(&module).map_err(|e| PluginError::Invalid(e.to_string()))?;
        Ok(Plugin { id: id.to_owned(), hash, hooks, ready })
    }

    /// Runs `hook` of `plugin` on `input` within `limits`, with the tenant's `datasets`; returns
    /// what the plugin wrote.
    /// This is CPU work bounded by the limits: call it from a blocking-friendly thread.
    pub fn call(
        &self,
        plugin: &Plugin,
        hook: Hook,
        input: &[u8],
        limits: &PluginLimits,
        datasets: &Arc<Datasets>,
    ) -> Result<Vec<u8>, PluginError> {
        if input.len() > limits.io_bytes {
            return Err(PluginError::InputTooLarge);
        }
        let pipes = Pipes {
            input: input.to_vec(),
            read: 0,
            output: Vec::new(),
            output_cap: limits.io_bytes,
            overflowed: false,
        };
        let store_limits =
            StoreLimitsBuilder::new().memory_size(limits.memory_bytes).instances(1).trap_on_grow_failure(true).build();
        let mut store = Store::new(&self.engine, Guest { pipes, limits: store_limits, datasets: datasets.clone() });
        store.limiter(|guest| &mut guest.limits);
        store.set_fuel(limits.fuel).map_err(|e| PluginError::Host(e.to_string()))?;
        let ticks = (limits.wall.as_millis() / TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        let outcome = plugin.ready.instantiate(&mut store).and_then(|instance| {
            let function = instance.get_typed_func::<(), ()>(&mut store, hook.export())?;
            function.call(&mut store, ())
        });
        let pipes = &store.data().pipes;
        if pipes.overflowed {
            return Err(PluginError::OutputTooLarge);
        }
        match outcome {
            Ok(()) => Ok(pipes.output.clone()),
            Err(error) if error.downcast_ref::<Exit>().is_some_and(|e| e.0 == 0) => Ok(pipes.output.clone()),
            Err(error) => Err(match error.downcast_ref::<Trap>() {
                Some(Trap::OutOfFuel) => PluginError::OutOfFuel,
                Some(Trap::Interrupt) => PluginError::Timeout,
                Some(trap) => PluginError::Trap(trap.to_string()),
                None => PluginError::Trap(error.to_string()),
            }),
        }
    }

    /// Compilations avoided by the cache, and compilations done.
    pub fn cache_counters(&self) -> (u64, u64) {
        self.cache.counters()
    }
}

/// The module must declare exactly the ABI this host speaks.
fn check_abi(module: &Module) -> Result<(), PluginError> {
    let versions: Vec<&str> = module.exports().filter_map(|e| e.name().strip_prefix(ABI_MARKER)).collect();
    match versions.as_slice() {
        [] => Err(PluginError::Invalid(format!("not a Sportello plugin: it exports no {ABI_MARKER}<version>"))),
        [version] if version.parse() == Ok(ABI_VERSION) => Ok(()),
        [version] => Err(PluginError::Invalid(format!(
            "plugin ABI version {version} is unknown; this Sportello speaks {ABI_VERSION}"
        ))),
        _ => Err(PluginError::Invalid("it declares more than one ABI version".into())),
    }
}

#[cfg(test)]
mod tests;
