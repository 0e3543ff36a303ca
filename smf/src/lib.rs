//! SMF, the Simple module format: one file holding a compiled program's
//! machine code, data, symbols, relocations, runtime imports and debug
//! tables.
//!
//! - [`Module`] is the owned model the compiler's linker fills.
//! - [`write`] serialises it deterministically; [`read`] parses and fully
//!   validates untrusted bytes back into an equal `Module`; [`read_header`]
//!   decodes just the header (enough to check a cache's source hash).
//! - [`load`] / [`load_bytes`] / [`load_module`] place a module in
//!   executable memory ([`LoadedModule`]), never writable and executable at
//!   once.
//! - [`inspect`] renders every part of a module as text; [`inspect_bytes`]
//!   does the same for a file, showing its section table as stored.
//!
//! The exact byte layout is documented in `docs/smf.md`.
//!
//! Architecture invariant: this crate knows nothing of the Simple language,
//! the compiler or the runtime. It reads no file except the one [`load`] is
//! given, and never panics on any input bytes.

mod error;
mod format;
mod inspect;
mod load;
mod module;
mod read;
mod write;

#[cfg(test)]
mod testutil;

pub use error::{Item, SmfError};
pub use format::{
    Arch, Flags, HEADER_SIZE, MAGIC, Platform, SectionFlags, SectionType, VERSION_MAJOR, VERSION_MINOR, fnv1a,
};
pub use inspect::{inspect, inspect_bytes};
pub use load::{LoadError, LoadedModule, Location, load, load_bytes, load_module};
pub use module::{
    Binding, InlinedCall, LineEntry, Module, RelocKind, RelocTarget, Relocation, SectionKind, StackMapEntry, Symbol,
    SymbolKind, TrapEntry,
};
pub use read::{Header, SectionHeader, read, read_header};
pub use write::write;
