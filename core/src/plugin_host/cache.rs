//! Compile once per module hash: in memory for this process, and on disk (serialized, keyed by
//! the module hash and the engine's compatibility hash) across restarts. A cached file that does
//! not load (another wasmtime, a torn write) is compiled again and replaced.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::{Engine, Module};

use super::PluginError;

pub struct ModuleCache {
    engine: Engine,
    dir: Option<PathBuf>,
    /// Identifies the wasmtime version and configuration that compiled a cached file.
    engine_key: String,
    compiled: Mutex<HashMap<String, Module>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl ModuleCache {
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Self {
            engine: engine.clone(),
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
            compiled: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn module(&self, hash: &str, bytes: &[u8]) -> Result<Module, PluginError> {
        if let Some(module) = self.compiled.lock().ok().and_then(|c| c.get(hash).cloned()) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(module);
        }
        let module = match self.read_cached(hash) {
            Some(module) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                module
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                let module = Module::new(&self.engine, bytes)
                    .map_err(|e| PluginError::Invalid(format!("it does not compile: {e}")))?;
                self.write_cached(hash, &module);
                module
            }
        };
        if let Ok(mut compiled) = self.compiled.lock() {
            compiled.insert(hash.to_owned(), module.clone());
        }
        Ok(module)
    }

    fn path(&self, hash: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|dir| dir.join(format!("{hash}-{}.cwasm", self.engine_key)))
    }

    fn read_cached(&self, hash: &str) -> Option<Module> {
        // Read into memory rather than map the file: a mapped file truncated by anyone later
        // would crash the process (SIGBUS).
        let bytes = std::fs::read(self.path(hash)?).ok()?;
        // SAFETY: the bytes were written by `write_cached` below from a module this engine compiled, in
        // a directory only Sportello writes; the file name carries the engine's compatibility hash,
        // and deserialization checks the engine's version and settings again, failing (not UB) on
        // a mismatch, in which case the module is compiled afresh.
        match unsafe { Module::deserialize(&self.engine, &bytes) } {
            Ok(module) => Some(module),
            Err(error) => {
                tracing::warn!(%error, "cached plugin module did not load; compiling it again");
                None
            }
        }
    }

    fn write_cached(&self, hash: &str, module: &Module) {
        let (Some(path), Ok(bytes)) = (self.path(hash), module.serialize()) else { return };
        let written = path.parent().map(std::fs::create_dir_all).unwrap_or(Ok(())).and_then(|()| {
            // Write then rename, so that a reader never sees half a file.
            let partial = path.with_extension("partial");
            std::fs::write(&partial, bytes).and_then(|()| std::fs::rename(&partial, &path))
        });
        if let Err(error) = written {
            tracing::warn!(%error, "could not keep a compiled plugin module on disk");
        }
    }

    pub fn counters(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }
}
