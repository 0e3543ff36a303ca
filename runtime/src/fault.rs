//! Turning faults of compiled code into runtime errors.
//!
//! Compiled code reports runtime errors by executing a trap instruction
//! (`ud2`, or an `int3`, or a hardware-checked `idiv`) whose address the
//! module's trap table maps to a [`TrapCode`]; a stack overflow is a write
//! into the guard area below the thread's stack. Both arrive as signals. The
//! handler installed here (process-wide, for SIGILL, SIGTRAP, SIGSEGV, SIGBUS
//! and SIGFPE) works out which runtime error it was, flushes stdout, prints
//! the error with its source location and a backtrace of Simple functions
//! (see `report`), and ends the process with status 101. A fault that is not
//! a runtime error of the program (a bug in the compiler or the runtime)
//! prints an internal error instead: never a raw signal death.
//!
//! The handler runs on an alternate signal stack, installed per thread that
//! runs Simple code by [`enter_simple_thread`], because after a stack
//! overflow there is no stack left to run it on. That call also records the
//! thread's stack bounds and the loaded module in thread-locals the handler
//! reads; thread-locals with constant initialisers and no destructor are
//! plain memory accesses, safe in a signal handler.
//!
//! The signals that stop a program (SIGTERM, as `simple watch` sends before
//! a rerun, SIGINT, SIGHUP) flush stdout first, then end the process with
//! the signal as before: a program stopped while its output is buffered
//! (stdout a pipe or file) does not lose it.
//!
//! Rust's std installs its own SIGSEGV/SIGBUS handler (for its stack
//! overflow message) at startup; ours replaces it when installed, and is not
//! chained to it, because std's handler ends unknown faults with the raw
//! signal.

use std::cell::Cell;
use std::io;
use std::marker::PhantomData;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use libc::{c_int, c_void, siginfo_t};
use simple_abi::TrapCode;

use super::backtrace::{Registers, SimpleFrames, StackBounds};
use super::code_map::CodeMap;
use super::output::{self, RUNTIME_ERROR_STATUS};
use super::process::assert_message;
use super::report::{Failure, FdSink, Sink, write_message, write_report};
use super::strings::str_bytes;

const FAULT_SIGNALS: [c_int; 5] = [libc::SIGILL, libc::SIGTRAP, libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE];

/// Usable size of the alternate signal stack: the handler needs a few KiB
/// (report buffers, the module's lookups); SIGSTKSZ (8 KiB) is too tight on
/// machines with large vector register state.
const ALT_STACK_SIZE: usize = 64 * 1024;

/// What the handler (and the garbage collector) knows about the thread
/// running Simple code.
#[derive(Clone, Copy)]
pub struct SimpleThreadState {
    pub code: &'static dyn CodeMap,
    pub stack: StackBounds,
}

thread_local! {
    static SIMPLE_THREAD: Cell<Option<SimpleThreadState>> = const { Cell::new(None) };
    /// Set while this thread runs the handler, to catch a fault inside it.
    static IN_HANDLER: Cell<bool> = const { Cell::new(false) };
}

/// Signals that ask the program to stop.
const STOP_SIGNALS: [c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// Flushes stdout, then lets `signal` end the process as it would have
/// (`SA_RESETHAND` restored the default action). Only async-signal-safe
/// work: atomics, `write`, `raise`.
extern "C" fn on_stop(signal: c_int) {
    output::flush_stdout_after_fault();
    // SAFETY: raise is async-signal-safe.
    unsafe { libc::raise(signal) };
}

/// Set by the first thread that reports a fault; others wait for its exit.
static REPORTING: AtomicBool = AtomicBool::new(false);

/// Installs the fault handler for the whole process (once; later calls
/// return the first call's result).
pub fn install_handlers() -> io::Result<()> {
    static INSTALLED: OnceLock<Result<(), i32>> = OnceLock::new();
    match INSTALLED.get_or_init(install) {
        Ok(()) => Ok(()),
        Err(errno) => Err(io::Error::from_raw_os_error(*errno)),
    }
}

fn install() -> Result<(), i32> {
    for signal in STOP_SIGNALS {
        // SAFETY: as below; `on_stop` has the plain handler signature.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_stop as extern "C" fn(c_int) as usize;
            // SA_RESETHAND: the signal raised again at the end is fatal.
            action.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error().raw_os_error().unwrap_or(0));
            }
        }
    }
    for signal in FAULT_SIGNALS {
        // SAFETY: a zeroed sigaction is a valid value to fill in; the handler
        // has the signature SA_SIGINFO requires.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fault as extern "C" fn(c_int, *mut siginfo_t, *mut c_void) as usize;
            // SA_NODEFER: a fault inside the handler re-enters it (and is
            // reported as such) instead of killing the process silently.
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error().raw_os_error().unwrap_or(0));
            }
        }
    }
    Ok(())
}

/// Marks the current thread as running Simple code from `code` until the
/// returned guard is dropped (on this thread, before `code` goes away).
pub fn enter_simple_thread(code: &dyn CodeMap) -> io::Result<SimpleThread<'_>> {
    let stack = current_stack_bounds()?;
    let alt_stack = AltStack::install()?;
    // SAFETY: only the lifetime is erased. The reference is stored in this
    // thread's state, which `SimpleThread::drop` clears before the borrow
    // ends; the guard is !Send, so it drops on this thread.
    let code = unsafe { std::mem::transmute::<&dyn CodeMap, &'static dyn CodeMap>(code) };
    SIMPLE_THREAD.set(Some(SimpleThreadState { code, stack }));
    Ok(SimpleThread { _alt_stack: alt_stack, _code: PhantomData })
}

/// The module and stack of the current thread, if it runs Simple code (see
/// [`enter_simple_thread`]). The reference is valid while the thread does.
pub fn simple_thread() -> Option<SimpleThreadState> {
    SIMPLE_THREAD.get()
}

/// The current thread runs Simple code while this lives.
pub struct SimpleThread<'a> {
    _alt_stack: AltStack,
    /// Borrows the module and keeps the guard on its thread (!Send).
    _code: PhantomData<(&'a dyn CodeMap, *const ())>,
}

impl Drop for SimpleThread<'_> {
    fn drop(&mut self) {
        SIMPLE_THREAD.set(None);
    }
}

/// The stack of the current thread, from pthreads.
fn current_stack_bounds() -> io::Result<StackBounds> {
    let (addr, size, guard) = unsafe {
        // SAFETY: pthread_getattr_np fills `attr`, which is destroyed after
        // the queries; the out-pointers are valid.
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        let rc = libc::pthread_getattr_np(libc::pthread_self(), &mut attr);
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        let mut addr = std::ptr::null_mut();
        let mut size = 0;
        let mut guard = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        let rc = if rc == 0 { libc::pthread_attr_getguardsize(&attr, &mut guard) } else { rc };
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        (addr as usize, size, guard)
    };
    // Even without a guard of pthread's, whatever lies below the stack is
    // where an overflow faults.
    let guard = guard.max(page_size());
    // glibc before 2.27 counted the guard as part of the stack; later ones
    // put it below. As Rust's std does, treat a guard's width on both sides
    // of the stack's low end as guard, and read no frame there unless the
    // guard is known to lie below.
    Ok(StackBounds {
        guard_lo: addr.saturating_sub(guard),
        guard_hi: addr + guard,
        lo: if guard_is_below_stack() { addr } else { addr + guard },
        hi: addr + size,
    })
}

#[cfg(target_env = "gnu")]
fn guard_is_below_stack() -> bool {
    // SAFETY: glibc returns a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    let mut parts = version.to_str().unwrap_or("").split('.').map(str::parse::<u32>);
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor) >= (2, 27),
        _ => false,
    }
}

#[cfg(not(target_env = "gnu"))]
fn guard_is_below_stack() -> bool {
    true
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// An alternate signal stack for the current thread, with a guard page
/// below it; the previous one is restored on drop.
struct AltStack {
    mapping: *mut c_void,
    mapping_len: usize,
    previous: libc::stack_t,
}

impl AltStack {
    fn install() -> io::Result<AltStack> {
        let page = page_size();
        let size = ALT_STACK_SIZE.max(libc::SIGSTKSZ).next_multiple_of(page);
        let mapping_len = page + size;
        // SAFETY: a fresh anonymous mapping; the guard page and the stack
        // lie inside it; `previous` is a valid out-pointer.
        unsafe {
            let mapping = libc::mmap(
                std::ptr::null_mut(),
                mapping_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if mapping == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            let stack = libc::stack_t { ss_sp: mapping.cast::<u8>().add(page).cast(), ss_flags: 0, ss_size: size };
            let mut previous: libc::stack_t = std::mem::zeroed();
            if libc::mprotect(mapping, page, libc::PROT_NONE) != 0 || libc::sigaltstack(&stack, &mut previous) != 0 {
                let error = io::Error::last_os_error();
                libc::munmap(mapping, mapping_len);
                return Err(error);
            }
            Ok(AltStack { mapping, mapping_len, previous })
        }
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: restores the thread's previous alternate stack (or none),
        // so ours is unused when it is unmapped.
        unsafe {
            libc::sigaltstack(&self.previous, std::ptr::null_mut());
            libc::munmap(self.mapping, self.mapping_len);
        }
    }
}

/// The signal handler.
extern "C" fn on_fault(signal: c_int, info: *mut siginfo_t, context: *mut c_void) {
    if IN_HANDLER.replace(true) {
        let _ = output::write_all(2, b"error: internal error: fault while reporting a fault\n");
        // SAFETY: _exit is async-signal-safe and ends the process.
        unsafe { libc::_exit(RUNTIME_ERROR_STATUS) }
    }
    if REPORTING.swap(true, Ordering::AcqRel) {
        // Another thread faulted too and is reporting; its _exit ends us.
        loop {
            // SAFETY: pause only waits.
            unsafe { libc::pause() };
        }
    }
    // SAFETY: the kernel passes valid siginfo and ucontext pointers to an
    // SA_SIGINFO handler.
    let (regs, address) = unsafe { fault_state(signal, info, context) };
    output::flush_stdout_after_fault();
    let mut sink = FdSink::stderr();
    match SIMPLE_THREAD.get() {
        Some(thread) => report_simple_fault(&mut sink, signal, regs, address, thread),
        None => write_message(&mut sink, Failure::Internal { signal, pc: regs.pc, address }),
    }
    sink.flush();
    // SAFETY: as above.
    unsafe { libc::_exit(RUNTIME_ERROR_STATUS) }
}

/// The faulting thread's registers, and the data address of a SIGSEGV or
/// SIGBUS.
///
/// # Safety
/// `info` and `context` must be the arguments of an SA_SIGINFO handler.
unsafe fn fault_state(signal: c_int, info: *mut siginfo_t, context: *mut c_void) -> (Registers, Option<usize>) {
    // SAFETY: per the contract; on x86_64 Linux the context is a ucontext_t.
    unsafe {
        let gregs = &(*context.cast::<libc::ucontext_t>()).uc_mcontext.gregs;
        let regs = Registers {
            pc: gregs[libc::REG_RIP as usize] as usize,
            fp: gregs[libc::REG_RBP as usize] as usize,
            sp: gregs[libc::REG_RSP as usize] as usize,
        };
        let address = matches!(signal, libc::SIGSEGV | libc::SIGBUS).then(|| (*info).si_addr() as usize);
        (regs, address)
    }
}

fn report_simple_fault(
    sink: &mut dyn Sink,
    signal: c_int,
    regs: Registers,
    address: Option<usize>,
    thread: SimpleThreadState,
) {
    // `int3` reports the address after itself; the trap table has its own.
    let site = if signal == libc::SIGTRAP { regs.pc.wrapping_sub(1) } else { regs.pc };
    let failure = classify(signal, site, regs.pc, address, thread);
    let frames = SimpleFrames::new(thread.code, thread.stack, Registers { pc: site, ..regs });
    write_report(sink, failure, thread.code, frames);
}

/// Which runtime error a fault at `site` of a Simple thread is.
fn classify(
    signal: c_int,
    site: usize,
    pc: usize,
    address: Option<usize>,
    thread: SimpleThreadState,
) -> Failure<'static> {
    // Whatever code touched the guard (Simple code, a prologue, a runtime
    // function called from Simple code), the Simple stack is exhausted.
    if address.is_some_and(|address| thread.stack.in_guard(address)) {
        return Failure::StackOverflow;
    }
    let raw = thread.code.in_code(site).then(|| thread.code.trap_code(site)).flatten();
    match raw.map(|raw| (raw, TrapCode::from_u8(raw))) {
        Some((_, Some(code))) => Failure::Trap {
            code,
            assert_message: (code == TrapCode::AssertionFailed)
                .then(assert_message)
                .filter(|message| !message.is_null())
                // SAFETY: compiled code records a live `str` (a literal in
                // the module, or a runtime string, never freed in Tier 1).
                .map(|message| unsafe { str_bytes(message) }),
        },
        Some((raw, None)) => Failure::UnknownTrap(raw),
        None => Failure::Internal { signal, pc, address },
    }
}
