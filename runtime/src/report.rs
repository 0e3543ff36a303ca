//! The text of a runtime error: the message, the source location and a
//! backtrace of Simple functions (LANGUAGE.md):
//!
//! ```text
//! error: division by zero
//!  --> prog.spl:2:14
//! backtrace:
//!   f at prog.spl:2:14
//!   main at prog.spl:5:5
//! ```
//!
//! It is written from the fault handler, so it formats by hand into a fixed
//! buffer (no allocation, no locks, no `core::fmt`).

use simple_abi::{ENTRY_SYMBOL, TrapCode};

use super::code_map::{CodeMap, SourceLocation};
use super::number_text::i64_text;
use super::output;

/// Where report text goes.
pub trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

/// Writes to a file descriptor (stderr) in a few large `write(2)` calls;
/// async-signal-safe.
pub struct FdSink {
    fd: libc::c_int,
    buf: [u8; 1024],
    len: usize,
}

impl FdSink {
    pub fn stderr() -> FdSink {
        FdSink::new(2)
    }

    fn new(fd: libc::c_int) -> FdSink {
        FdSink { fd, buf: [0; 1024], len: 0 }
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        // Nowhere is left to report a failing stderr.
        let _ = output::write_all(self.fd, &self.buf[..self.len]);
        self.len = 0;
    }
}

impl Sink for FdSink {
    fn put(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.len == self.buf.len() {
                self.flush();
            }
            let n = bytes.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
        }
    }
}

#[cfg(test)]
impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure<'a> {
    /// Compiled code executed a trap; an `assert` may have left a message.
    Trap {
        code: TrapCode,
        assert_message: Option<&'a [u8]>,
    },
    /// A trap with a code this runtime does not know: a compiler bug.
    UnknownTrap(u8),
    StackOverflow,
    /// An error the runtime found (out of memory), with its message.
    Runtime(&'a [u8]),
    /// A fault that is not a runtime error of the program: a bug in the
    /// compiler or the runtime.
    Internal {
        signal: i32,
        pc: usize,
        /// The faulting data address, for SIGSEGV and SIGBUS.
        address: Option<usize>,
    },
}

/// At most this many frames are listed; a deeper stack (a stack overflow)
/// ends with a line saying how many were left out.
pub const SHOWN_FRAMES: usize = 20;

/// Writes the report for `failure`, locating `frames` (code addresses,
/// innermost first) with `code`.
pub fn write_report(
    sink: &mut dyn Sink,
    failure: Failure<'_>,
    code: &dyn CodeMap,
    frames: impl Iterator<Item = usize>,
) {
    write_message(sink, failure);

    // The synthetic entry symbol only calls `main`: it is not the program's.
    let is_entry = |addr: usize| code.function_name(addr) == Some(ENTRY_SYMBOL);
    let mut frames = frames;
    let mut shown = [0usize; SHOWN_FRAMES];
    let mut count = 0;
    for addr in frames.by_ref() {
        if !is_entry(addr) {
            shown[count] = addr;
            count += 1;
            if count == SHOWN_FRAMES {
                break;
            }
        }
    }
    let shown = &shown[..count];
    // After a stack overflow millions of frames remain: count them without
    // looking each up. Only the outermost frame can be the entry's.
    let (mut omitted, last) = frames.fold((0usize, None), |(n, _), addr| (n + 1, Some(addr)));
    if last.is_some_and(is_entry) {
        omitted -= 1;
    }

    // A frame without a line-table entry (a prologue) cannot be pointed at;
    // the nearest caller that can is the most useful location.
    if let Some(location) = shown.iter().find_map(|&addr| code.locate(addr)) {
        sink.put(b" --> ");
        write_location(sink, location);
        sink.put(b"\n");
    }
    if shown.is_empty() {
        return;
    }
    sink.put(b"backtrace:\n");
    for &addr in shown {
        let function = code.function_name(addr).unwrap_or("<unknown>");
        let location = code.locate(addr);
        // Inlined code is a frame of its own, as it would have been.
        if let Some(location @ SourceLocation { inlined: Some((callee, line, column)), .. }) = location {
            write_frame(sink, callee, Some(location));
            write_frame(sink, function, Some(SourceLocation { line, column, inlined: None, ..location }));
        } else {
            write_frame(sink, function, location);
        }
    }
    if omitted > 0 {
        sink.put(b"  ... ");
        sink.put(i64_text(omitted as i64).as_bytes());
        sink.put(b" frames omitted\n");
    }
}

/// Writes `error: MESSAGE` and a newline.
pub fn write_message(sink: &mut dyn Sink, failure: Failure<'_>) {
    sink.put(b"error: ");
    match failure {
        Failure::Trap { code, assert_message } => {
            match (code, super::io::io_error()) {
                // The OS's reason says it all.
                (TrapCode::IoError, Some(reason)) => sink.put(reason.as_bytes()),
                _ => sink.put(code.message().as_bytes()),
            }
            if let (TrapCode::AssertionFailed, Some(message)) = (code, assert_message) {
                sink.put(b": ");
                sink.put(message);
            }
        }
        Failure::UnknownTrap(code) => {
            sink.put(b"internal error: unknown trap code ");
            sink.put(i64_text(code.into()).as_bytes());
        }
        Failure::StackOverflow => sink.put(TrapCode::StackOverflow.message().as_bytes()),
        Failure::Runtime(message) => sink.put(message),
        Failure::Internal { signal, pc, address } => {
            sink.put(b"internal error: ");
            sink.put(signal_name(signal).as_bytes());
            sink.put(b" at ");
            write_hex(sink, pc);
            if let Some(address) = address {
                sink.put(b" (fault address ");
                write_hex(sink, address);
                sink.put(b")");
            }
        }
    }
    sink.put(b"\n");
}

/// `  function at file:line:column` and a newline.
fn write_frame(sink: &mut dyn Sink, function: &str, location: Option<SourceLocation<'_>>) {
    sink.put(b"  ");
    sink.put(function.as_bytes());
    sink.put(b" at ");
    match location {
        Some(location) => write_location(sink, location),
        None => sink.put(b"<unknown>"),
    }
    sink.put(b"\n");
}

fn write_location(sink: &mut dyn Sink, location: SourceLocation<'_>) {
    sink.put(location.file.as_bytes());
    sink.put(b":");
    sink.put(i64_text(location.line.into()).as_bytes());
    sink.put(b":");
    sink.put(i64_text(location.column.into()).as_bytes());
}

fn write_hex(sink: &mut dyn Sink, value: usize) {
    let mut digits = [0u8; 18];
    let mut start = digits.len();
    let mut rest = value;
    loop {
        start -= 1;
        digits[start] = b"0123456789abcdef"[rest % 16];
        rest /= 16;
        if rest == 0 {
            break;
        }
    }
    start -= 2;
    digits[start..start + 2].copy_from_slice(b"0x");
    sink.put(&digits[start..]);
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        _ => "signal",
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::FakeCode;
    use super::*;

    /// `__simple_entry` at 0..8, `f` at 8..16 (line 2), `main` at 16..24
    /// (line 5), `g` at 24..32 (no line table).
    fn code() -> FakeCode {
        let mut code =
            FakeCode::new(&[0x90; 32], &[(ENTRY_SYMBOL, 0..8), ("f", 8..16), ("main", 16..24), ("g", 24..32)]);
        code.add_line(8, "prog.spl", 2, 14);
        code.add_line(16, "prog.spl", 5, 5);
        code
    }

    fn report(code: &FakeCode, failure: Failure<'_>, frames: &[usize]) -> String {
        let mut out = Vec::new();
        let frames = frames.iter().map(|offset| code.base() + offset);
        write_report(&mut out, failure, code, frames);
        String::from_utf8(out).unwrap()
    }

    const DIVISION: Failure<'static> = Failure::Trap { code: TrapCode::DivisionByZero, assert_message: None };

    #[test]
    fn trap_with_location_and_backtrace() {
        let code = code();
        assert_eq!(
            report(&code, DIVISION, &[9, 17, 3]),
            "error: division by zero\n --> prog.spl:2:14\nbacktrace:\n  f at prog.spl:2:14\n  main at prog.spl:5:5\n"
        );
    }

    #[test]
    fn assertion_messages() {
        let code = code();
        let failed = |message| Failure::Trap { code: TrapCode::AssertionFailed, assert_message: message };
        assert_eq!(
            report(&code, failed(Some(b"x > 0")), &[17]),
            "error: assertion failed: x > 0\n --> prog.spl:5:5\nbacktrace:\n  main at prog.spl:5:5\n"
        );
        assert!(report(&code, failed(None), &[17]).starts_with("error: assertion failed\n"));
        // A message left over is not printed for another trap.
        let overflow = Failure::Trap { code: TrapCode::IntegerOverflow, assert_message: Some(b"stale") };
        assert!(report(&code, overflow, &[17]).starts_with("error: integer overflow\n"));
    }

    #[test]
    fn an_unlocated_frame_points_at_the_first_located_one() {
        let code = code();
        assert_eq!(
            report(&code, Failure::StackOverflow, &[24, 9, 17]),
            "error: stack overflow\n --> prog.spl:2:14\nbacktrace:\n  g at <unknown>\n  f at prog.spl:2:14\n  main at prog.spl:5:5\n"
        );
    }

    #[test]
    fn deep_stacks_are_cut_after_twenty_frames() {
        let code = code();
        let mut frames = vec![9; 1000];
        frames.push(17);
        frames.push(3);
        let text = report(&code, Failure::StackOverflow, &frames);
        let mut expected = String::from("error: stack overflow\n --> prog.spl:2:14\nbacktrace:\n");
        for _ in 0..SHOWN_FRAMES {
            expected.push_str("  f at prog.spl:2:14\n");
        }
        expected.push_str("  ... 981 frames omitted\n");
        assert_eq!(text, expected);
    }

    #[test]
    fn no_frames_no_location() {
        let code = code();
        assert_eq!(report(&code, Failure::UnknownTrap(200), &[]), "error: internal error: unknown trap code 200\n");
        let internal = Failure::Internal { signal: libc::SIGSEGV, pc: 0x7f00_dead_beef, address: Some(0) };
        assert_eq!(
            report(&code, internal, &[]),
            "error: internal error: SIGSEGV at 0x7f00deadbeef (fault address 0x0)\n"
        );
    }

    #[test]
    fn fd_sink_passes_on_text_longer_than_its_buffer() {
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let mut sink = FdSink::new(fds[1]);
        sink.put(&[b'x'; 700]);
        sink.put(&[b'y'; 700]);
        sink.flush();
        unsafe { libc::close(fds[1]) };
        let mut read = vec![0u8; 2000];
        let n = unsafe { libc::read(fds[0], read.as_mut_ptr().cast(), read.len()) };
        unsafe { libc::close(fds[0]) };
        let mut expected = vec![b'x'; 700];
        expected.extend_from_slice(&[b'y'; 700]);
        // One pipe read returns what the two writes put in (1400 bytes is
        // below the pipe's atomic size).
        assert_eq!(&read[..n as usize], &expected[..]);
    }
}
