//! The part of WASI preview 1 a plugin gets: stdin (the input), stdout (the output), stderr
//! (discarded), empty arguments and environment, zeroed "random" bytes (plugins must be
//! deterministic), and exit. Every other WASI function answers ENOSYS: no file system, network,
//! environment or clock exists for a plugin, by construction.

use wasmtime::{Caller, Extern, Linker, Memory, Module, Val, ValType};

use super::PluginError;

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

fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    data.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn write_u32(data: &mut [u8], at: usize, value: u32) -> bool {
    match data.get_mut(at..at + 4) {
        Some(slot) => {
            slot.copy_from_slice(&value.to_le_bytes());
            true
        }
        None => false,
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
            let mut total = 0u32;
            for i in 0..count.max(0) as usize {
                let at = iovs as usize + i * 8;
                let (Some(buf), Some(len)) = (read_u32(data, at), read_u32(data, at + 4)) else { return ERRNO_INVAL };
                let left = &pipes.input[pipes.read..];
                let n = left.len().min(len as usize);
                let Some(target) = data.get_mut(buf as usize..buf as usize + n) else { return ERRNO_INVAL };
                target.copy_from_slice(&left[..n]);
                pipes.read += n;
                total += n as u32;
            }
            if write_u32(data, nread as usize, total) { ERRNO_SUCCESS } else { ERRNO_INVAL }
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
            let mut total = 0u32;
            for i in 0..count.max(0) as usize {
                let at = iovs as usize + i * 8;
                let (Some(buf), Some(len)) = (read_u32(data, at), read_u32(data, at + 4)) else { return ERRNO_INVAL };
                let Some(bytes) = data.get(buf as usize..buf as usize + len as usize) else { return ERRNO_INVAL };
                // stderr is accepted and dropped: plugins must not leak data into logs.
                if fd == 1 {
                    if pipes.output.len() + bytes.len() > pipes.output_cap {
                        pipes.overflowed = true;
                        return ERRNO_FBIG;
                    }
                    pipes.output.extend_from_slice(bytes);
                }
                total += len;
            }
            if write_u32(data, written as usize, total) { ERRNO_SUCCESS } else { ERRNO_INVAL }
        })
        .map_err(wrap)?;
    for name in ["args_sizes_get", "environ_sizes_get"] {
        linker
            .func_wrap(WASI, name, |mut caller: Caller<'_, T>, count: i32, size: i32| -> i32 {
                let Some(memory) = memory(&mut caller) else { return ERRNO_INVAL };
                let data = memory.data_mut(&mut caller);
                if write_u32(data, count as usize, 0) && write_u32(data, size as usize, 0) {
                    ERRNO_SUCCESS
                } else {
                    ERRNO_INVAL
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
            match memory.data_mut(&mut caller).get_mut(buf as usize..buf as usize + len.max(0) as usize) {
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
