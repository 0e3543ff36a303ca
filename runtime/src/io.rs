//! The I/O builtins: `args()`, `read_line()`, `read_file`, `write_file`.
//!
//! A failing `read_file` or `write_file` records why (the path and the
//! OS's message) and returns a failure value; compiled code then traps
//! with `TrapCode::IoError`, so the error carries the call's location.

use std::io::BufRead;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, Ordering};

use super::heap;
use super::list::str_list;
use super::output;
use super::process::runtime_error;
use super::strings::{alloc_str, str_bytes};

static ARGS: OnceLock<Vec<String>> = OnceLock::new();

/// The reason of the last failed I/O builtin (leaked: at most one per
/// failure, and a failure ends the program).
static IO_ERROR: AtomicPtr<String> = AtomicPtr::new(std::ptr::null_mut());

/// Sets what `args()` returns; the first call wins.
pub fn set_args(args: &[String]) {
    let _ = ARGS.set(args.to_vec());
}

fn record(message: String) {
    IO_ERROR.store(Box::into_raw(Box::new(message)), Ordering::Release);
}

/// The reason recorded by the last failed I/O builtin.
pub fn io_error() -> Option<&'static str> {
    let p = IO_ERROR.load(Ordering::Acquire);
    // SAFETY: a non-null pointer comes from `record` and is never freed.
    (!p.is_null()).then(|| unsafe { (*p).as_str() })
}

pub extern "C" fn spl_args() -> *mut u8 {
    heap::maybe_collect(&[]);
    let strings: Vec<*const u8> = ARGS.get().into_iter().flatten().map(|a| alloc_str(a.as_bytes())).collect();
    str_list(&strings)
}

/// A line of stdin without its `\n` (or `\r\n`), or null at the end of
/// input. Stdout is flushed first, so a prompt shows before the wait.
pub extern "C" fn spl_read_line() -> *const u8 {
    heap::maybe_collect(&[]);
    output::flush_stdout();
    let mut line = Vec::new();
    match std::io::stdin().lock().read_until(b'\n', &mut line) {
        Ok(0) => return std::ptr::null(),
        Ok(_) => {}
        Err(e) => runtime_error(&format!("cannot read standard input: {e}")),
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    if std::str::from_utf8(&line).is_err() {
        runtime_error("standard input is not UTF-8");
    }
    alloc_str(&line)
}

/// # Safety
/// `path` must be a live `str`.
pub unsafe extern "C" fn spl_read_file(path: *const u8) -> *const u8 {
    heap::maybe_collect(&[path.cast()]);
    // SAFETY: per the contract.
    let path = String::from_utf8_lossy(unsafe { str_bytes(path) }).into_owned();
    match std::fs::read(&path) {
        Ok(bytes) if std::str::from_utf8(&bytes).is_ok() => alloc_str(&bytes),
        Ok(_) => {
            record(format!("cannot read `{path}`: the file is not UTF-8"));
            std::ptr::null()
        }
        Err(e) => {
            record(format!("cannot read `{path}`: {e}"));
            std::ptr::null()
        }
    }
}

/// # Safety
/// `path` and `text` must be live `str`s.
pub unsafe extern "C" fn spl_write_file(path: *const u8, text: *const u8) -> u8 {
    // SAFETY: per the contract.
    let (path, text) = unsafe { (String::from_utf8_lossy(str_bytes(path)).into_owned(), str_bytes(text)) };
    match std::fs::write(&path, text) {
        Ok(()) => 1,
        Err(e) => {
            record(format!("cannot write `{path}`: {e}"));
            0
        }
    }
}
