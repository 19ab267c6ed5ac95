//! Compile once per module hash: in memory for this process, and on disk (serialized, keyed by
//! the module's SHA-256 and a SHA-256 of the engine's compatibility hash) across restarts and
//! instances. Each writer writes its own temporary file and renames it into place, so a reader
//! (another thread or process) sees a whole file or none. A cached file that does not load
//! (another wasmtime) is compiled again and replaced.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use super::PluginError;

/// Feeds what a `Hash` implementation writes into SHA-256: a key that is the same in every
/// process and Rust version, unlike `DefaultHasher`'s.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        0
    }
}

pub struct ModuleCache {
    engine: Engine,
    dir: Option<PathBuf>,
    /// Identifies the wasmtime version and configuration that compiled a cached file.
    engine_key: String,
    compiled: Mutex<HashMap<String, Module>>,
    hits: AtomicU64,
    misses: AtomicU64,
    /// Cached files that did not load.
    rejected: AtomicU64,
}

impl ModuleCache {
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = format!("{:x}", hasher.0.finalize());
        Self {
            engine: engine.clone(),
            dir,
            engine_key: engine_key.get(..32).unwrap_or(&engine_key).to_owned(),
            compiled: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
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
                self.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%error, "cached plugin module did not load; compiling it again");
                None
            }
        }
    }

    fn write_cached(&self, hash: &str, module: &Module) {
        let (Some(path), Ok(bytes)) = (self.path(hash), module.serialize()) else { return };
        let written = path.parent().map(std::fs::create_dir_all).unwrap_or(Ok(())).and_then(|()| {
            // Write a file of this writer's own, then rename it into place: a reader never sees
            // half a file, even when two instances compile the same module at once.
            let partial =
                path.with_extension(format!("{}-{}.partial", std::process::id(), uuid::Uuid::new_v4().simple()));
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Instances share the cache folder: many caches (as many processes would) compile, write and
    /// read the same module at once, and none ever reads a torn file.
    #[test]
    fn concurrent_writers_never_leave_a_torn_file() {
        let dir = std::env::temp_dir().join(format!("sportello-cache-{}", uuid::Uuid::new_v4().simple()));
        let engine = Engine::default();
        // A large data segment makes a large cached file (a long write) at a small compile cost.
        let data = "a".repeat(3 * 1024 * 1024);
        let bytes = Arc::new(
            wat::parse_str(format!(
                "(module (memory (export \"memory\") 64) (data (i32.const 0) \"{data}\") (func (export \"sportello_abi_1\")))"
            ))
            .unwrap(),
        );
        let hash = format!("{:x}", Sha256::digest(bytes.as_slice()));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let (engine, dir, bytes, hash) = (engine.clone(), dir.clone(), bytes.clone(), hash.clone());
                std::thread::spawn(move || {
                    let mut rejected = 0;
                    for _ in 0..15 {
                        // A fresh cache each time: no memory of this process helps.
                        let cache = ModuleCache::new(&engine, Some(dir.clone()));
                        cache.module(&hash, &bytes).unwrap();
                        // Writing again (as a restarted instance would) races the readers.
                        let module = cache.module(&hash, &bytes).unwrap();
                        cache.write_cached(&hash, &module);
                        rejected += cache.rejected.load(Ordering::Relaxed);
                    }
                    rejected
                })
            })
            .collect();
        let rejected: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(rejected, 0, "a cached file was read half-written");
        let leftovers = std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).count();
        assert_eq!(leftovers, 1, "one cached file, no temporary ones left behind");
        let _ = std::fs::remove_dir_all(dir);
    }
}
