//! The runtime linked into `simple` and `simplec`: the `extern "C"`
//! functions compiled code calls (declared in `simple_abi`), the fault
//! handling that turns traps into `error:` messages, and the loading and
//! running of built modules.
//!
//! **Invariant:** depends on no compiler crate, so that `simple`, which
//! links this crate and the SMF loader alone, runs a built program in
//! little more memory than a C program needs.
//!
//! Map:
//! - [`launch`]: where the two binaries are, whether a module is up to date
//!   (`simple_abi::build::hash_sources`), loading and running it.
//! - [`symbols`]: the table the loader resolves runtime imports against
//!   ([`resolve`]); a test checks it is exactly `simple_abi::RUNTIME_FUNCTIONS`.
//! - `print`, `strings`, `text`, `format`, `list`, `dict`, `values`, `io`,
//!   `math`, `process`: the runtime functions themselves (`text` holds the
//!   string methods, `format` interpolation with a format spec, `values`
//!   printing and comparing values of any type), over `output` (the
//!   buffered stdout), `number_text` (number formatting without
//!   allocation) and `alloc` (heap objects for the runtime and compiled
//!   code).
//! - `heap`: the garbage-collected heap strings and other objects live on,
//!   and the discipline runtime functions that allocate follow (collect
//!   only at their start, with their reference arguments as extra roots).
//! - [`exec`]: [`run`] runs a loaded program on its own thread
//!   ([`exec::run_entry`] runs any code described by a [`code_map::CodeMap`]).
//! - `fault`, `backtrace`, `report`: the signal handler, the frame-pointer
//!   walk and the text of a runtime error.
//! - [`code_map::CodeMap`]: what the runtime needs from a loaded module (addresses to
//!   functions, lines, trap codes and GC stack maps); the SMF loader
//!   implements it.
//!
//! Runtime functions never panic: a panic cannot unwind through compiled
//! code. Errors a program can cause end it with `error: ...` and status 101.

mod alloc;
mod backtrace;
pub mod code_map;
mod dict;
pub mod exec;
mod fault;
mod format;
mod heap;
mod io;
pub mod launch;
mod list;
mod math;
mod number_text;
mod output;
mod print;
mod process;
mod report;
mod search;
mod strings;
pub mod symbols;
mod text;
mod values;

#[cfg(test)]
mod crash_tests;
#[cfg(test)]
mod test_support;

pub use exec::run;
pub use io::set_args;
pub use symbols::resolve;
