//! The program's output streams.
//!
//! Stdout is one process-wide buffer written with `write(2)`: programs print
//! a lot in small pieces, and a syscall per `print` would dominate their run
//! time. It is fully buffered when stdout is a file or pipe and line-buffered
//! when it is a terminal (as C's stdio does), and it is flushed when the
//! program ends, by `exit`, and by the fault handler before it reports an
//! error. Stderr is written straight through, so diagnostics are never lost.
//!
//! The buffer is guarded by a spin lock of our own rather than a `Mutex`
//! because the fault handler must be able to flush it even when the faulting
//! thread holds the lock (a stack overflow inside a print call): it takes the
//! lock over instead of waiting for a thread that will never run again.

use std::cell::UnsafeCell;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// The stream number compiled code passes for stderr (stdout is 1).
pub const STDERR: i64 = 2;

const STDOUT_CAPACITY: usize = 64 * 1024;

/// Exit status when stdout is a closed pipe: what a shell reports for a
/// process killed by SIGPIPE, the usual fate of `prog | head`.
const BROKEN_PIPE_STATUS: i32 = 128 + libc::SIGPIPE;

/// Exit status of every runtime error (LANGUAGE.md).
pub const RUNTIME_ERROR_STATUS: i32 = 101;

struct StdoutBuffer {
    locked: AtomicBool,
    /// 0: not yet known; [`LINE_BUFFERED`] or [`FULLY_BUFFERED`].
    mode: AtomicU8,
    inner: UnsafeCell<Pending>,
}

struct Pending {
    len: usize,
    bytes: [u8; STDOUT_CAPACITY],
}

const LINE_BUFFERED: u8 = 1;
const FULLY_BUFFERED: u8 = 2;

// SAFETY: `inner` is only accessed while `locked` is held (or, by the fault
// handler, after taking the lock over from a thread that no longer runs).
unsafe impl Sync for StdoutBuffer {}

static STDOUT_BUFFER: StdoutBuffer = StdoutBuffer {
    locked: AtomicBool::new(false),
    mode: AtomicU8::new(0),
    inner: UnsafeCell::new(Pending { len: 0, bytes: [0; STDOUT_CAPACITY] }),
};

struct Locked<'a>(&'a StdoutBuffer);

impl Locked<'_> {
    fn pending(&mut self) -> &mut Pending {
        // SAFETY: holding the lock gives exclusive access to the buffer.
        unsafe { &mut *self.0.inner.get() }
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.0.locked.store(false, Ordering::Release);
    }
}

impl StdoutBuffer {
    fn try_lock(&self) -> Option<Locked<'_>> {
        self.locked.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).ok().map(|_| Locked(self))
    }

    fn lock(&self) -> Locked<'_> {
        let mut spins = 0u32;
        loop {
            if let Some(locked) = self.try_lock() {
                return locked;
            }
            // Holders only copy bytes or write them out; yield if that takes
            // long (a slow pipe) instead of burning the core.
            spins += 1;
            if spins < 100 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    fn mode(&self) -> u8 {
        match self.mode.load(Ordering::Relaxed) {
            0 => {
                // SAFETY: isatty only inspects the descriptor.
                let mode = if unsafe { libc::isatty(1) } == 1 { LINE_BUFFERED } else { FULLY_BUFFERED };
                self.mode.store(mode, Ordering::Relaxed);
                mode
            }
            mode => mode,
        }
    }
}

/// Writes `bytes` to stream `stream`: [`STDERR`], or else stdout.
pub fn write_stream(stream: i64, bytes: &[u8]) {
    if stream == STDERR {
        write_stderr(bytes);
    } else {
        write_stdout(bytes);
    }
}

/// Appends `bytes` to the stdout buffer, writing it out when it fills (or at
/// a newline when stdout is a terminal).
pub fn write_stdout(bytes: &[u8]) {
    let line_buffered = STDOUT_BUFFER.mode() == LINE_BUFFERED;
    let mut locked = STDOUT_BUFFER.lock();
    let pending = locked.pending();
    if pending.len + bytes.len() > STDOUT_CAPACITY {
        flush_pending(pending);
    }
    if bytes.len() >= STDOUT_CAPACITY {
        // Larger than the buffer: copying it through would only add work.
        if let Err(error) = write_all(1, bytes) {
            stdout_failed(error);
        }
    } else {
        pending.bytes[pending.len..pending.len + bytes.len()].copy_from_slice(bytes);
        pending.len += bytes.len();
        if line_buffered && bytes.contains(&b'\n') {
            flush_pending(pending);
        }
    }
}

/// Writes `bytes` to stderr at once. When stdout is a terminal it is flushed
/// first, so the two streams appear in program order on screen.
pub fn write_stderr(bytes: &[u8]) {
    if STDOUT_BUFFER.mode() == LINE_BUFFERED {
        flush_stdout();
    }
    // Nowhere is left to report a failing stderr; the output is dropped.
    let _ = write_all(2, bytes);
}

/// Writes out everything buffered for stdout.
pub fn flush_stdout() {
    flush_pending(STDOUT_BUFFER.lock().pending());
}

/// Flushes stdout from the fault handler: never waits for a lock whose owner
/// may be the faulting thread itself, and ignores write errors (the process
/// is about to exit with the runtime error anyway).
pub fn flush_stdout_after_fault() {
    let mut owned = None;
    for _ in 0..1000 {
        owned = STDOUT_BUFFER.try_lock();
        if owned.is_some() {
            break;
        }
        std::hint::spin_loop();
    }
    // SAFETY: we hold the lock, or its holder is the faulting thread (which
    // will not run again) or another thread the coming `_exit` ends; at worst
    // part of a concurrent print is written twice or lost.
    let pending = unsafe { &mut *STDOUT_BUFFER.inner.get() };
    let len = pending.len.min(STDOUT_CAPACITY);
    let _ = write_all(1, &pending.bytes[..len]);
    pending.len = 0;
    drop(owned);
}

fn flush_pending(pending: &mut Pending) {
    if pending.len == 0 {
        return;
    }
    let result = write_all(1, &pending.bytes[..pending.len]);
    pending.len = 0;
    if let Err(error) = result {
        stdout_failed(error);
    }
}

/// Ends the program because stdout cannot be written. A closed pipe ends it
/// quietly (the reader has all it wanted); anything else is a runtime error.
fn stdout_failed(error: io::Error) -> ! {
    if error.raw_os_error() == Some(libc::EPIPE) {
        // SAFETY: _exit ends the process without running anything else.
        unsafe { libc::_exit(BROKEN_PIPE_STATUS) }
    }
    let message = format!("error: cannot write to stdout: {error}\n");
    let _ = write_all(2, message.as_bytes());
    // SAFETY: as above; stdout cannot be flushed, so nothing is left to do.
    unsafe { libc::_exit(RUNTIME_ERROR_STATUS) }
}

/// `write(2)` until all of `bytes` is written, retrying interrupted calls.
/// Async-signal-safe.
pub fn write_all(fd: libc::c_int, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        // SAFETY: the pointer and length describe the live slice `bytes`.
        let written = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if written < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        bytes = &bytes[written as usize..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::number_text::i64_text;
    use super::super::test_support::{in_child, stderr, stdout};
    use super::*;

    #[test]
    fn stdout_keeps_order_across_flushes() {
        let output = in_child(module_path!(), "stdout_keeps_order_across_flushes", || {
            write_stream(1, b"<<");
            for i in 0..20_000 {
                write_stream(1, i64_text(i).as_bytes());
                write_stream(1, b"\n");
            }
            // Larger than the buffer: written straight through, in order.
            write_stream(1, &[b'x'; STDOUT_CAPACITY + 10]);
            write_stream(7, b">>");
            write_stream(STDERR, b"to stderr");
        });
        let mut expected = String::from("<<");
        for i in 0..20_000 {
            expected.push_str(&format!("{i}\n"));
        }
        expected.push_str(&"x".repeat(STDOUT_CAPACITY + 10));
        expected.push_str(">>");
        assert!(stdout(&output).contains(&expected));
        assert_eq!(stderr(&output), "to stderr");
        assert_eq!(output.status.code(), Some(0));
    }
}
