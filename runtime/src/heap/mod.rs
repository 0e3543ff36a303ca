//! The garbage-collected heap: allocation, and a precise, non-moving
//! mark-sweep collector.
//!
//! Objects follow `simple_abi::heap_layout`: a header word naming a
//! descriptor, which says how big the object is and which of its slots are
//! references. Strings made at run time are objects of the runtime's own
//! `KIND_STR` descriptor ([`desc::STR_DESC`]); records and arrays use
//! descriptors the compiler emits into the module's read-only data.
//!
//! Map: [`space`] places objects (size classes, blocks, large objects) and
//! sweeps; [`mark`] marks from the roots; [`roots`] finds the roots in the
//! frames of compiled code; [`verify`] holds stress mode's checks; [`desc`]
//! reads descriptors.
//!
//! # The GC discipline
//!
//! A collection happens only inside [`maybe_collect`], never anywhere else.
//! Every runtime entry point that allocates calls it **first**, before it
//! allocates or reads an object, passing its own reference arguments as
//! `extra_roots`: Cranelift's stack maps leave out the arguments of a call
//! that are dead after it, so the callee keeps them alive. Allocation
//! inside the runtime ([`alloc_str`], [`alloc_record`], [`alloc_array`])
//! never collects, so a runtime function that allocates several objects
//! never sees one of them freed midway, and it need not root its own
//! temporaries; it returns its result before the next collection can run.
//! A runtime function that does not allocate (comparison, printing) does
//! not call `maybe_collect` and cannot observe a collection.
//!
//! The roots of a collection: the slots the stack maps name in every
//! Simple frame of the thread (see [`roots`]), the runtime entry's
//! `extra_roots`, and the `assert` message the runtime holds. A collection
//! starts when the bytes allocated since the last one exceed
//! max([`MIN_THRESHOLD`], 2 × the bytes live after it), so the heap stays
//! within about three times the live data and allocation-heavy programs
//! collect rarely.
//!
//! Each thread has its own heap (only the program's thread runs Simple
//! code; objects never cross threads). Collections happen only on a thread
//! running the program (from [`roots::call_entry`]): elsewhere (unit tests,
//! the driver) `maybe_collect` does nothing, since no stack maps describe
//! those frames.
//!
//! # Test modes
//!
//! `SIMPLE_GC_STRESS=1` makes every `maybe_collect` collect; each
//! collection vets every reference before following it, poisons freed
//! memory (its bytes 0xdb, its header a dead descriptor) and keeps it from
//! reuse until the next collection, and afterwards checks everything
//! reachable again (see [`verify`]). A missed root then shows up as a use
//! of or a reference to a freed object, or as wrong output.
//!
//! For measuring: `SIMPLE_GC=off` never collects; `SIMPLE_GC=stats` prints
//! the number of collections, their total and longest time and the most
//! bytes live after one to stderr when the program returns normally (not
//! after `exit` or a runtime error).

pub mod desc;
mod mark;
mod roots;
mod space;
mod verify;

use std::cell::{Cell, RefCell};
use std::fmt;
use std::ops::Range;
use std::time::{Duration, Instant};

use simple_abi::heap_layout::{
    ARRAY_ELEMS_OFFSET, ARRAY_LEN_OFFSET, HEADER_SIZE, KIND_ARRAY, KIND_RECORD, array_size, record_size, str_size,
};
use simple_abi::str_layout::LEN_OFFSET;

pub use desc::str_header;
pub use roots::call_entry;

use super::backtrace::current_frame_pointer;
use super::code_map::CodeMap;
use super::fault;
use super::process::{assert_message, runtime_error};
use desc::{Desc, is_dead};
use mark::{BadReference, Marker, Source};
use roots::StackRoot;
use space::Space;
use verify::{Checker, verify_reachable};

/// Bytes allocated before the first collection, and at least between two.
/// Small, because a program that keeps little alive should need little
/// memory; a collection of a small heap is cheap (`SIMPLE_GC=stats`:
/// string_building's 1072 collections take 35 ms in all, its 536 at 1 MiB
/// 30 ms, its 134 at 4 MiB 60 ms; its peak memory is 3.3 MB, 3.9 MB at
/// 1 MiB).
pub const MIN_THRESHOLD: usize = 1 << 19;

/// An allocation that cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocError {
    OutOfMemory,
    NegativeLength(i64),
    /// A descriptor of the wrong kind (a compiler bug).
    WrongKind {
        expected: u32,
        found: u32,
    },
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllocError::OutOfMemory => write!(f, "out of memory"),
            AllocError::NegativeLength(len) => write!(f, "negative array length {len}"),
            AllocError::WrongKind { expected, found } => {
                write!(f, "internal error: allocation with a descriptor of kind {found} (expected {expected})")
            }
        }
    }
}

impl AllocError {
    /// Ends the program with this error (see [`runtime_error`]).
    pub fn report(self) -> ! {
        match self {
            // Without allocating: memory may be exhausted.
            AllocError::OutOfMemory => runtime_error("out of memory"),
            other => runtime_error(&other.to_string()),
        }
    }
}

/// How the heap behaves, from the environment (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Config {
    stress: bool,
    enabled: bool,
    stats: bool,
}

impl Config {
    fn from_env() -> Config {
        let gc = std::env::var_os("SIMPLE_GC");
        Config {
            stress: std::env::var_os("SIMPLE_GC_STRESS").is_some_and(|v| v == "1"),
            enabled: gc.as_ref().is_none_or(|v| v != "off"),
            stats: gc.is_some_and(|v| v == "stats"),
        }
    }
}

/// What `SIMPLE_GC=stats` reports.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    collections: u64,
    total: Duration,
    longest: Duration,
    /// The most bytes live after a collection.
    max_live: usize,
}

struct Heap {
    space: Space,
    /// The marker's work list, kept to reuse its memory.
    mark_stack: Vec<*const u8>,
    config: Config,
    /// Collect once `space.allocated` exceeds this.
    threshold: usize,
    stats: Stats,
}

thread_local! {
    static HEAP: RefCell<Heap> = RefCell::new(Heap::new(Config::from_env()));
    /// Whether [`maybe_collect`] must ask the heap: set once allocation
    /// passes the threshold, always in stress mode, and at first (before
    /// the heap has read its configuration). Every entry point that
    /// allocates calls `maybe_collect`, so the usual answer, no, costs one
    /// thread-local load here instead of an entry into the heap.
    static CHECK: Cell<bool> = const { Cell::new(true) };
}

/// Runs `f` on this thread's heap.
fn with_heap<R>(f: impl FnOnce(&mut Heap) -> R) -> R {
    HEAP.with(|heap| match heap.try_borrow_mut() {
        Ok(mut heap) => f(&mut heap),
        // Runtime functions do not call back into each other while they
        // hold the heap; a panic cannot unwind through compiled code.
        Err(_) => runtime_error("internal error: the heap was entered twice"),
    })
}

impl Heap {
    fn new(config: Config) -> Heap {
        Heap {
            space: Space::new(config.stress),
            mark_stack: Vec::new(),
            config,
            threshold: MIN_THRESHOLD,
            stats: Stats::default(),
        }
    }

    fn wants_collection(&self) -> bool {
        self.config.enabled && (self.config.stress || self.space.allocated > self.threshold)
    }

    /// An object of `size` bytes with `header`, zeroed after the header if
    /// `zero`.
    fn alloc(&mut self, size: usize, header: u64, zero: bool) -> Result<*mut u8, AllocError> {
        let object = self.space.alloc(size.max(HEADER_SIZE), zero)?;
        if self.space.allocated > self.threshold && self.config.enabled {
            CHECK.set(true);
        }
        // SAFETY: `object` has at least `size` writable bytes.
        unsafe { object.cast::<u64>().write(header) };
        Ok(object)
    }

    /// Marks from `roots` (references), sweeps, and in stress mode checks
    /// the heap after.
    ///
    /// # Safety
    /// `roots` must be every reference the program may still use, each 0 or
    /// a valid reference (unless in stress mode, which checks them);
    /// `rodata` the module's read-only data.
    unsafe fn collect(&mut self, roots: &[*const u8], rodata: Range<usize>) -> Result<(), BadReference> {
        let start = Instant::now();
        {
            let checker = self.config.stress.then(|| Checker::new(&self.space, rodata.clone()));
            let mut marker = Marker::new(&mut self.mark_stack, checker.as_ref());
            for (index, &root) in roots.iter().enumerate() {
                // SAFETY: per the contract.
                unsafe { marker.mark(root, Source::Root(index))? };
            }
            // SAFETY: per the contract, objects hold valid references.
            unsafe { marker.drain()? };
        }
        // SAFETY: marking is complete.
        let live = unsafe { self.space.sweep() };
        self.threshold = MIN_THRESHOLD.max(live.saturating_mul(2));
        let time = start.elapsed();
        self.stats.collections += 1;
        self.stats.total += time;
        self.stats.longest = self.stats.longest.max(time);
        self.stats.max_live = self.stats.max_live.max(live);
        if self.config.stress {
            verify_reachable(&Checker::new(&self.space, rodata), roots)?;
        }
        Ok(())
    }
}

/// A new `str` of `len` bytes: header and length set, the bytes for the
/// caller to fill with UTF-8 before anything else runs. Never collects.
pub fn alloc_str(len: usize) -> Result<*mut u8, AllocError> {
    let size = str_size(len).ok_or(AllocError::OutOfMemory)?;
    let object = with_heap(|heap| heap.alloc(size, str_header(), false))?;
    // SAFETY: the length word lies inside the new object.
    unsafe { object.add(LEN_OFFSET as usize).cast::<u64>().write(len as u64) };
    Ok(object)
}

/// A new record of the `KIND_RECORD` descriptor at `desc`, its slots zero.
/// Never collects.
///
/// # Safety
/// `desc` must point to a valid descriptor (see `heap_layout`) that stays
/// valid while the program runs.
pub unsafe fn alloc_record(desc: *const u8) -> Result<*mut u8, AllocError> {
    // SAFETY: per the contract.
    let desc = unsafe { Desc::at(desc as usize) };
    check_kind(desc, KIND_RECORD)?;
    with_heap(|heap| heap.alloc(record_size(desc.slots()), desc.address() as u64, true))
}

/// A new array of `len` elements of the `KIND_ARRAY` descriptor at `desc`,
/// every slot zero. Never collects.
///
/// # Safety
/// As for [`alloc_record`].
pub unsafe fn alloc_array(desc: *const u8, len: i64) -> Result<*mut u8, AllocError> {
    // SAFETY: per the contract.
    let desc = unsafe { Desc::at(desc as usize) };
    check_kind(desc, KIND_ARRAY)?;
    let count = u64::try_from(len).map_err(|_| AllocError::NegativeLength(len))?;
    let size = array_size(desc.slots(), count).ok_or(AllocError::OutOfMemory)?;
    debug_assert!(size >= ARRAY_ELEMS_OFFSET);
    let object = with_heap(|heap| heap.alloc(size, desc.address() as u64, true))?;
    // SAFETY: the length word lies inside the new object.
    unsafe { object.add(ARRAY_LEN_OFFSET).cast::<u64>().write(count) };
    Ok(object)
}

fn check_kind(desc: Desc, expected: u32) -> Result<(), AllocError> {
    let found = desc.kind();
    if found == expected { Ok(()) } else { Err(AllocError::WrongKind { expected, found }) }
}

/// Collects if it is time to (see the module docs), keeping alive what the
/// frames of compiled code hold, `extra_roots` (the calling runtime
/// function's reference arguments) and the runtime's own references.
///
/// Call it at the start of a runtime entry point that allocates, directly
/// from that entry point, which compiled code called.
#[inline]
pub fn maybe_collect(extra_roots: &[*const u8]) {
    if CHECK.get() {
        check_collection(extra_roots);
    }
}

/// [`maybe_collect`] once [`CHECK`] is set: collects if it is time to,
/// and clears `CHECK` unless the next call must look again.
#[inline(never)]
fn check_collection(extra_roots: &[*const u8]) {
    if with_heap(|heap| heap.wants_collection()) {
        collect(extra_roots);
    }
    // Outside a program's thread nothing was collected and the threshold
    // is still passed: the next call checks again, as before.
    CHECK.set(with_heap(|heap| heap.wants_collection()));
}

/// Prints the statistics of this thread's heap to stderr if
/// `SIMPLE_GC=stats` asked for them.
pub fn report_stats() {
    let (config, stats) = with_heap(|heap| (heap.config, heap.stats));
    if config.stats {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let text = format!(
            "gc: {} collections, {:.1} ms in all, longest {:.2} ms, at most {:.1} MB live\n",
            stats.collections,
            ms(stats.total),
            ms(stats.longest),
            stats.max_live as f64 / (1 << 20) as f64
        );
        let _ = super::output::write_all(2, text.as_bytes());
    }
}

/// Where a root came from, for error messages.
#[derive(Debug, Clone, Copy)]
enum Origin {
    Stack(StackRoot),
    Argument(usize),
    AssertMessage,
}

#[inline(never)]
fn collect(extra_roots: &[*const u8]) {
    let (Some(thread), Some(entry_fp)) = (fault::simple_thread(), roots::entry_frame()) else {
        return;
    };
    let mut stack_roots = Vec::new();
    let fp = current_frame_pointer();
    if let Err(error) = roots::stack_roots(thread.code, thread.stack, fp, entry_fp, &mut stack_roots) {
        runtime_error(&format!("internal error: the garbage collector cannot find the roots: {error}"));
    }
    let mut origins: Vec<Origin> = Vec::with_capacity(stack_roots.len() + extra_roots.len() + 1);
    let mut roots: Vec<*const u8> = Vec::with_capacity(origins.capacity());
    for root in stack_roots {
        // SAFETY: a slot of a live Simple frame (found by the walk, which
        // checked the frame's bounds).
        roots.push(unsafe { (root.slot as *const *const u8).read() });
        origins.push(Origin::Stack(root));
    }
    for (index, &root) in extra_roots.iter().enumerate() {
        roots.push(root);
        origins.push(Origin::Argument(index));
    }
    roots.push(assert_message());
    origins.push(Origin::AssertMessage);
    let code = thread.code;
    let rodata = code.rodata();
    // SAFETY: the roots are every reference compiled code holds across
    // this call, per its stack maps and this function's contract.
    if let Err(bad) = with_heap(|heap| unsafe { heap.collect(&roots, rodata) }) {
        runtime_error(&describe(bad, &origins, code));
    }
}

/// The message of the internal error for a reference marking could not
/// follow.
fn describe(bad: BadReference, origins: &[Origin], code: &dyn CodeMap) -> String {
    let place = match bad.source {
        Source::Root(index) => match origins.get(index) {
            Some(Origin::Stack(root)) => {
                let call = root.return_address.wrapping_sub(1);
                let function = code.function_name(call).unwrap_or("<unknown>");
                match code.locate(call) {
                    Some(at) => {
                        format!("in a stack slot of `{function}` at the call at {}:{}:{}", at.file, at.line, at.column)
                    }
                    None => format!("in a stack slot of `{function}`"),
                }
            }
            Some(Origin::Argument(k)) => format!("in argument {k} of the runtime call"),
            Some(Origin::AssertMessage) => "in the recorded assert message".to_string(),
            None => format!("in root {index}"),
        },
        Source::Slot { object, offset } => format!("in the slot at offset {offset} of the object at {object:#x}"),
    };
    format!("internal error: the garbage collector found {} ({:#x}) {place}", bad.problem, bad.reference)
}

/// Whether `object` is a heap object that was freed (its header is a dead
/// descriptor): a cheap check for runtime functions that read objects.
pub fn is_freed(object: *const u8) -> bool {
    // SAFETY: callers pass a reference they are about to read, so its
    // header is readable.
    is_dead(unsafe { object.cast::<u64>().read() })
}

#[cfg(test)]
mod tests;
