//! The program's lifetime: `exit`, `clock`, the message of a failing
//! `assert`, and ending the program with a runtime error.

use std::io::Write;
use std::sync::atomic::{AtomicPtr, Ordering};

use super::backtrace::{SimpleFrames, current_frame_pointer};
use super::fault::simple_thread;
use super::output::{self, RUNTIME_ERROR_STATUS};
use super::report::{Failure, FdSink, write_message, write_report};

/// The `str` recorded by [`spl_assert_message`], or null.
static ASSERT_MESSAGE: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());

/// `exit(code)`: flushes stdout and ends the process with `code & 255`.
/// Never returns (declared without `-> !` so its machine signature matches
/// the ABI table's "no result").
pub extern "C" fn spl_exit(code: i64) {
    output::flush_stdout();
    // The driver's own prints go through std's stdout.
    let _ = std::io::stdout().flush();
    std::process::exit((code & 255) as i32)
}

/// `clock()`: seconds on the monotonic clock, from an arbitrary start.
pub extern "C" fn spl_clock() -> f64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid timespec to write; CLOCK_MONOTONIC always
    // exists on Linux, so the call cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9
}

/// Records the message (a `str`, or null for none) of the `assert` whose
/// trap compiled code is about to execute; the fault handler prints it.
pub extern "C" fn spl_assert_message(message: *const u8) {
    ASSERT_MESSAGE.store(message.cast_mut(), Ordering::Release);
}

/// The message recorded by the last [`spl_assert_message`], or null.
pub fn assert_message() -> *const u8 {
    ASSERT_MESSAGE.load(Ordering::Acquire)
}

/// Ends the program with `error: MESSAGE` on stderr and status 101, for
/// runtime errors detected inside the runtime (such as running out of
/// memory). On the program's thread, the error is located at the Simple
/// call that led here, with a backtrace, like a trap. Stdout is flushed
/// first so the error comes after the output. Allocates nothing, since
/// running out of memory is one of the errors it reports.
#[inline(never)]
pub fn runtime_error(message: &str) -> ! {
    output::flush_stdout();
    let failure = Failure::Runtime(message.as_bytes());
    let mut sink = FdSink::stderr();
    match simple_thread() {
        Some(thread) => {
            let frames = SimpleFrames::from_runtime(thread.code, thread.stack, current_frame_pointer());
            write_report(&mut sink, failure, thread.code, frames);
        }
        None => write_message(&mut sink, failure),
    }
    sink.flush();
    // SAFETY: _exit ends the process; nothing else needs to run.
    unsafe { libc::_exit(RUNTIME_ERROR_STATUS) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic_seconds() {
        let a = spl_clock();
        let b = spl_clock();
        assert!(a > 0.0 && b >= a, "{a} {b}");
    }
}
