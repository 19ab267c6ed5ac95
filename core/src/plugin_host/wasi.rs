//! The part of WASI preview 1 a plugin gets: stdin (the input), stdout (the output), stderr
//! (discarded), empty arguments and environment, zeroed "random" bytes (plugins must be
//! deterministic), and exit. Every other WASI function answers ENOSYS: no file system, network,
//! environment or clock exists for a plugin, by construction.

use wasmtime::{Caller, Extern, Linker, Memory, Module, Val, ValType};

use super::PluginError;
use super::guest_memory as guest;

pub const WASI: &str = "wasi_snapshot_preview1";
const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_FBIG: i32 = 22;
const ERRNO_INVAL: i32 = 28;
const ERRNO_NOSYS: i32 = 52;

/// What one call sees: its input, the output it wrote so far.
pub struct Pipes {
    pub input: Vec<u8>,
    pub read: usize,
    pub output: Vec<u8>,
    pub output_cap: usize,
    pub overflowed: bool,
}

/// A guest's `proc_exit`, carried out of the call as an error and read back by the host.
#[derive(Debug)]
pub struct Exit(pub i32);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "plugin exited with code {}", self.0)
    }
}

impl std::error::Error for Exit {}

pub trait HasPipes {
    fn pipes(&mut self) -> &mut Pipes;
}

fn memory<T>(caller: &mut Caller<'_, T>) -> Option<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Some(memory),
        _ => None,
    }
}

/// Adds the shim to `linker`, plus ENOSYS stubs for any other WASI import `module` declares.
pub fn add<T: HasPipes + 'static>(linker: &mut Linker<T>, module: &Module) -> Result<(), PluginError> {
    let wrap = |e: wasmtime::Error| PluginError::Invalid(e.to_string());
    linker
        .func_wrap(WASI, "fd_read", |mut caller: Caller<'_, T>, fd: i32, iovs: i32, count: i32, nread: i32| -> i32 {
            if fd != 0 {
                return ERRNO_BADF;
            }
            let Some(memory) = memory(&mut caller) else { return ERRNO_INVAL };
            let (data, state) = memory.data_and_store_mut(&mut caller);
            let pipes = state.pipes();
            let Some(count) = guest::length(count).filter(|n| *n <= guest::MAX_IOVECS) else { return ERRNO_INVAL };
            let mut total = 0u32;
            for index in 0..count {
                let Some((buf, len)) = guest::iovec(data, iovs, index) else { return ERRNO_INVAL };
                let left = pipes.input.get(pipes.read..).unwrap_or_default();
                let n = left.len().min(usize::try_from(len).unwrap_or(usize::MAX));
                let (Ok(n32), Some(chunk)) = (u32::try_from(n), left.get(..n)) else { return ERRNO_INVAL };
                let Some(target) = guest::slice_mut(data, buf, n32) else { return ERRNO_INVAL };
                target.copy_from_slice(chunk);
                pipes.read += n;
                let Some(sum) = total.checked_add(n32) else { return ERRNO_INVAL };
                total = sum;
            }
            match guest::write_u32(data, nread, total) {
                Some(()) => ERRNO_SUCCESS,
                None => ERRNO_INVAL,
            }
        })
        .map_err(wrap)?;
    linker
        .func_wrap(WASI, "fd_write", |mut caller: Caller<'_, T>, fd: i32, iovs: i32, count: i32, written: i32| -> i32 {
            if fd != 1 && fd != 2 {
                return ERRNO_BADF;
            }
            let Some(memory) = memory(&mut caller) else { return ERRNO_INVAL };
            let (data, state) = memory.data_and_store_mut(&mut caller);
            let pipes = state.pipes();
            let Some(count) = guest::length(count).filter(|n| *n <= guest::MAX_IOVECS) else { return ERRNO_INVAL };
            let mut total = 0u32;
            for index in 0..count {
                let Some((buf, len)) = guest::iovec(data, iovs, index) else { return ERRNO_INVAL };
                let Some(bytes) = guest::slice(data, buf, len) else { return ERRNO_INVAL };
                // stderr is accepted and dropped: plugins must not leak data into logs.
                if fd == 1 {
                    if pipes.output.len().saturating_add(bytes.len()) > pipes.output_cap {
                        pipes.overflowed = true;
                        return ERRNO_FBIG;
                    }
                    pipes.output.extend_from_slice(bytes);
                }
                let Some(sum) = total.checked_add(len) else { return ERRNO_INVAL };
                total = sum;
            }
            match guest::write_u32(data, written, total) {
                Some(()) => ERRNO_SUCCESS,
                None => ERRNO_INVAL,
            }
        })
        .map_err(wrap)?;
    for name in ["args_sizes_get", "environ_sizes_get"] {
        linker
            .func_wrap(WASI, name, |mut caller: Caller<'_, T>, count: i32, size: i32| -> i32 {
                let Some(memory) = memory(&mut caller) else { return ERRNO_INVAL };
                let data = memory.data_mut(&mut caller);
                match guest::write_u32(data, count, 0).and_then(|()| guest::write_u32(data, size, 0)) {
                    Some(()) => ERRNO_SUCCESS,
                    None => ERRNO_INVAL,
                }
            })
            .map_err(wrap)?;
    }
    for name in ["args_get", "environ_get"] {
        linker.func_wrap(WASI, name, |_: Caller<'_, T>, _: i32, _: i32| -> i32 { ERRNO_SUCCESS }).map_err(wrap)?;
    }
    linker
        .func_wrap(WASI, "random_get", |mut caller: Caller<'_, T>, buf: i32, len: i32| -> i32 {
            let Some(memory) = memory(&mut caller) else { return ERRNO_INVAL };
            let Some(len) = guest::length(len) else { return ERRNO_INVAL };
            match guest::slice_mut(memory.data_mut(&mut caller), buf, len) {
                Some(target) => {
                    target.fill(0);
                    ERRNO_SUCCESS
                }
                None => ERRNO_INVAL,
            }
        })
        .map_err(wrap)?;
    linker
        .func_wrap(WASI, "proc_exit", |_: Caller<'_, T>, code: i32| -> Result<(), wasmtime::Error> {
            Err(wasmtime::Error::new(Exit(code)))
        })
        .map_err(wrap)?;
    // Everything else a module imports from WASI: "not supported".
    let provided = [
        "fd_read",
        "fd_write",
        "args_sizes_get",
        "environ_sizes_get",
        "args_get",
        "environ_get",
        "random_get",
        "proc_exit",
    ];
    for import in module.imports().filter(|i| i.module() == WASI && !provided.contains(&i.name())) {
        let Some(ty) = import.ty().func().cloned() else {
            return Err(PluginError::Invalid(format!("imports {WASI}.{} which is not a function", import.name())));
        };
        let results: Vec<ValType> = ty.results().collect();
        let name = import.name().to_owned();
        linker
            .func_new(WASI, &name, ty, move |_, _, out| {
                if let (Some(slot), Some(ValType::I32)) = (out.first_mut(), results.first()) {
                    *slot = Val::I32(ERRNO_NOSYS);
                }
                Ok(())
            })
            .map_err(wrap)?;
    }
    Ok(())
}
