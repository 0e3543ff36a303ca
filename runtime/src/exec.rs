//! Running a loaded program.
//!
//! The program runs on a thread of its own with a large stack (deep
//! recursion is normal in Simple programs) whose bounds the fault handler
//! knows, so that running off its end is reported as a stack overflow.

use std::io;

use simple_smf::LoadedModule;
use thiserror::Error;

use super::code_map::CodeMap;
use super::output::{self, RUNTIME_ERROR_STATUS};
use super::{fault, heap};

/// Stack size of the thread that runs the program.
pub const PROGRAM_STACK_SIZE: usize = 64 * 1024 * 1024;

/// Why a program could not be run (its own failures end the process with a
/// runtime error instead).
#[derive(Debug, Error)]
pub enum RunError {
    #[error("the module has no entry point")]
    NoEntry,
    #[error("cannot install the runtime's fault handlers: {0}")]
    FaultHandlers(io::Error),
    #[error("cannot start the program's thread: {0}")]
    Spawn(io::Error),
    #[error("cannot prepare the program's thread: {0}")]
    ThreadSetup(io::Error),
    #[error("the program's thread panicked")]
    Panicked,
}

/// Runs the program `module` and returns its exit status (0..=255). If it
/// cannot be started, says why on stderr (`error: ...`) and returns 101, the
/// status of a runtime error. A runtime error of the program, or `exit`,
/// ends the process instead of returning.
pub fn run(module: &LoadedModule) -> i32 {
    let result = match module.entry() {
        // SAFETY: the loader relocated the module against this runtime's
        // symbols (`resolve`) and checked its ABI version; its entry symbol
        // is the ABI's entry function; `module` outlives the call.
        Some(entry) => unsafe { run_entry(module, entry) },
        None => Err(RunError::NoEntry),
    };
    result.unwrap_or_else(|error| {
        output::flush_stdout();
        output::write_stderr(format!("error: {error}\n").as_bytes());
        RUNTIME_ERROR_STATUS
    })
}

/// Runs the program whose entry (`extern "C" fn() -> i64`, the symbol
/// `simple_abi::ENTRY_SYMBOL`) is at `entry`, and returns its exit status
/// (the entry's result, truncated to 0..=255 as the OS would). Stdout is
/// flushed before returning. A runtime error of the program, or `exit`,
/// ends the process instead of returning.
///
/// # Safety
/// `entry` must be the address of the entry function of the module `code`
/// describes, loaded (executable, relocated against this runtime) and kept
/// loaded until this returns.
pub unsafe fn run_entry(code: &dyn CodeMap, entry: usize) -> Result<i32, RunError> {
    fault::install_handlers().map_err(RunError::FaultHandlers)?;
    let status = std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("simple main".into())
            .stack_size(PROGRAM_STACK_SIZE)
            .spawn_scoped(scope, || {
                let _simple = fault::enter_simple_thread(code).map_err(RunError::ThreadSetup)?;
                // SAFETY: per this function's contract, `entry` is the
                // module's entry function, of this type.
                let entry = unsafe { std::mem::transmute::<usize, extern "C" fn() -> i64>(entry) };
                // Through `call_entry`, which marks where the program's
                // frames end for the garbage collector.
                Ok(heap::call_entry(entry))
            })
            .map_err(RunError::Spawn)?;
        thread.join().map_err(|_| RunError::Panicked)?
    })?;
    output::flush_stdout();
    Ok((status & 255) as i32)
}
