//! What the fault handler and the garbage collector need to know about the
//! loaded module's code.
//!
//! The runtime does not depend on how a module is loaded: the SMF loader's
//! `LoadedModule` implements [`CodeMap`], and the tests implement it for
//! hand-assembled code with a made-up line table, so fault reporting can be
//! tested end to end without the compiler.

use std::ops::Range;

use simple_smf::LoadedModule;

/// A source position from the module's line table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceLocation<'a> {
    pub file: &'a str,
    pub line: u32,
    pub column: u32,
    /// Set for code the compiler inlined: the position above is then in
    /// this function, whose call was at the given line and column of the
    /// function holding the code.
    pub inlined: Option<(&'a str, u32, u32)>,
}

/// The GC stack map of one call: see `simple_smf::StackMapEntry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackMapRef<'a> {
    /// FP − SP of the calling frame during the call.
    pub frame_size: u32,
    /// Offsets from SP of the slots holding live references.
    pub slots: &'a [u32],
}

/// Addresses of a loaded module's code, mapped back to the program.
///
/// The fault handler calls these methods from a signal handler, on the
/// faulting thread, with the module immutable. Implementations must therefore
/// only read immutable tables: no allocation, no locks, no panics.
pub trait CodeMap: Sync {
    /// Whether `addr` lies in the module's executable code.
    fn in_code(&self, addr: usize) -> bool;

    /// The name of the function (symbol) whose code contains `addr`.
    fn function_name(&self, addr: usize) -> Option<&str>;

    /// The source position of the instruction containing `addr`.
    fn locate(&self, addr: usize) -> Option<SourceLocation<'_>>;

    /// The raw [`simple_abi::TrapCode`] of the trap instruction starting at
    /// `addr`, if the module's trap table has one.
    fn trap_code(&self, addr: usize) -> Option<u8>;

    /// The stack map of the call whose return address is `addr`; `None`
    /// if that frame holds no live references.
    fn stack_map(&self, addr: usize) -> Option<StackMapRef<'_>>;

    /// The addresses of the module's read-only data (literals, object
    /// descriptors).
    fn rodata(&self) -> Range<usize>;
}

/// `LoadedModule`'s lookups are read-only and allocation-free, as the
/// handler requires (see its docs).
impl CodeMap for LoadedModule {
    fn in_code(&self, addr: usize) -> bool {
        self.code_range().contains(&addr)
    }

    fn function_name(&self, addr: usize) -> Option<&str> {
        self.function_at(addr).map(|symbol| symbol.name.as_str())
    }

    fn locate(&self, addr: usize) -> Option<SourceLocation<'_>> {
        LoadedModule::locate(self, addr).map(|location| SourceLocation {
            file: location.file,
            line: location.line,
            column: location.column,
            inlined: location.inlined,
        })
    }

    fn trap_code(&self, addr: usize) -> Option<u8> {
        LoadedModule::trap_code(self, addr)
    }

    fn stack_map(&self, addr: usize) -> Option<StackMapRef<'_>> {
        LoadedModule::stack_map(self, addr).map(|map| StackMapRef { frame_size: map.frame_size, slots: &map.slots })
    }

    fn rodata(&self) -> Range<usize> {
        self.section_range(simple_smf::SectionKind::Rodata)
    }
}
