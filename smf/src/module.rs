//! The owned, in-memory model of an SMF module.
//!
//! The compiler's linker fills a [`Module`], [`crate::write`] turns it into
//! bytes, [`crate::read`] turns bytes back into an identical `Module`, and the
//! loader consumes it. Things the file stores only to be checked (the module
//! hash, symbol name hashes, the string table, file offsets) are not part of
//! the model: the writer derives them and the reader verifies them.
//!
//! [`Module::validate`] states every invariant a module must satisfy beyond
//! its types; `read` runs it, and the linker can run it on what it built.

use rustc_hash::FxHashMap as HashMap;
use std::fmt;

use crate::error::{Item, SmfError};
use crate::format::{Arch, Flags, Platform, SectionType};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub flags: Flags,
    pub platform: Platform,
    pub arch: Arch,
    /// Index into `symbols` of the entry function.
    pub entry: Option<u32>,
    /// Hash of all sources, the compiler version and the options; the driver
    /// computes it and compares it to decide whether a cached module is stale.
    pub source_hash: [u8; 32],
    /// `.text`: machine code.
    pub code: Vec<u8>,
    /// `.rodata`: constants, made read-only after relocation.
    pub rodata: Vec<u8>,
    /// `.data`: initialised mutable data.
    pub data: Vec<u8>,
    /// `.bss`: zero-initialised mutable data; no bytes in the file.
    pub bss_size: u64,
    pub symbols: Vec<Symbol>,
    pub relocations: Vec<Relocation>,
    /// The runtime ABI version the imports expect; the loader refuses any
    /// other.
    pub abi_version: u32,
    /// Runtime symbols the code uses, by name.
    pub imports: Vec<String>,
    /// Source file paths the line table refers to.
    pub files: Vec<String>,
    /// Sorted by `code_offset`; an entry covers code up to the next entry.
    pub line_table: Vec<LineEntry>,
    /// Sorted by `code_offset`, at most one per offset.
    pub traps: Vec<TrapEntry>,
    /// Sorted by `code_offset`, at most one per offset.
    pub stack_maps: Vec<StackMapEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    pub binding: Binding,
    pub section: SectionKind,
    pub offset: u64,
    pub size: u64,
    /// Hash of the function's code, so a cache can tell an unchanged function
    /// without comparing bytes; zero for data.
    pub content_hash: [u8; 16],
}

impl Symbol {
    /// Whether `offset` (relative to the symbol's section) lies inside the symbol.
    pub fn contains(&self, offset: u64) -> bool {
        offset >= self.offset && offset - self.offset < self.size
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    Function,
    Data,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Binding {
    Local,
    Global,
}

/// The loadable sections, the only ones symbols and relocations refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SectionKind {
    Text,
    Rodata,
    Data,
    Bss,
}

impl SectionKind {
    pub const ALL: [SectionKind; 4] = [SectionKind::Text, SectionKind::Rodata, SectionKind::Data, SectionKind::Bss];

    pub const fn section_type(self) -> SectionType {
        match self {
            SectionKind::Text => SectionType::Text,
            SectionKind::Rodata => SectionType::Rodata,
            SectionKind::Data => SectionType::Data,
            SectionKind::Bss => SectionType::Bss,
        }
    }

    pub const fn from_section_type(t: SectionType) -> Option<SectionKind> {
        match t {
            SectionType::Text => Some(SectionKind::Text),
            SectionType::Rodata => Some(SectionKind::Rodata),
            SectionType::Data => Some(SectionKind::Data),
            SectionType::Bss => Some(SectionKind::Bss),
            _ => None,
        }
    }

    pub const fn name(self) -> &'static str {
        self.section_type().name()
    }
}

impl fmt::Display for SectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl fmt::Display for SymbolKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            SymbolKind::Function => "function",
            SymbolKind::Data => "data",
        })
    }
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Binding::Local => "local",
            Binding::Global => "global",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relocation {
    /// The section being patched: `Text` or `Data`.
    pub section: SectionKind,
    /// Offset of the patched bytes within `section`.
    pub offset: u64,
    pub target: RelocTarget,
    pub kind: RelocKind,
    pub addend: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelocTarget {
    /// Index into `Module::symbols`.
    Symbol(u32),
    /// Index into `Module::imports`.
    Import(u32),
}

impl fmt::Display for RelocTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelocTarget::Symbol(i) => write!(f, "symbol {i}"),
            RelocTarget::Import(i) => write!(f, "import {i}"),
        }
    }
}

/// How a relocation patches its bytes. S is the target's address, A the
/// addend, P the address of the patched bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RelocKind {
    /// Write S + A as a u64.
    Abs64,
    /// Write S + A - P as an i32; the loader refuses a value that does not fit.
    Pc32,
    /// Same computation as `Pc32`; kept distinct because Cranelift reports
    /// calls this way and `inspect` should show what the compiler emitted.
    Plt32,
}

impl RelocKind {
    /// Number of bytes the relocation patches.
    pub const fn width(self) -> u64 {
        match self {
            RelocKind::Abs64 => 8,
            RelocKind::Pc32 | RelocKind::Plt32 => 4,
        }
    }
}

impl fmt::Display for RelocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            RelocKind::Abs64 => "abs64",
            RelocKind::Pc32 => "pc32",
            RelocKind::Plt32 => "plt32",
        })
    }
}

/// Code from `code_offset` up to the next entry's offset came from this
/// source position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LineEntry {
    pub code_offset: u32,
    /// Index into `Module::files`.
    pub file: u32,
    pub line: u32,
    pub column: u32,
    /// Set when the code is a function inlined into the one holding it:
    /// the position above is then in the inlined function.
    pub inlined: Option<InlinedCall>,
}

/// Code of one function copied into another in place of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InlinedCall {
    /// Index into `Module::symbols` of the inlined (called) function.
    pub function: u32,
    /// Where the call was, in the function holding the code (same file).
    pub line: u32,
    pub column: u32,
}

/// A trap instruction at `code_offset`; `code` is the compiler's trap kind,
/// opaque to SMF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrapEntry {
    pub code_offset: u32,
    pub code: u8,
}

/// The live GC references at a safepoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StackMapEntry {
    /// The safepoint: the return address of a call, as an offset into `.text`
    /// (so it may equal the code size).
    pub code_offset: u32,
    /// Size of the frame, from SP at the safepoint up.
    pub frame_size: u32,
    /// Strictly increasing offsets from SP of the 8-byte slots holding live
    /// GC references; each slot lies inside the frame.
    pub slots: Vec<u32>,
}

/// Size in bytes a GC reference slot occupies.
const GC_REF_SIZE: u64 = 8;

impl Module {
    /// An empty module for a target: no code, no symbols, no flags.
    pub fn new(platform: Platform, arch: Arch) -> Module {
        Module {
            flags: Flags::empty(),
            platform,
            arch,
            entry: None,
            source_hash: [0; 32],
            code: Vec::new(),
            rodata: Vec::new(),
            data: Vec::new(),
            bss_size: 0,
            symbols: Vec::new(),
            relocations: Vec::new(),
            abi_version: 0,
            imports: Vec::new(),
            files: Vec::new(),
            line_table: Vec::new(),
            traps: Vec::new(),
            stack_maps: Vec::new(),
        }
    }

    /// In-memory size of a loadable section.
    pub fn section_size(&self, section: SectionKind) -> u64 {
        let len = match section {
            SectionKind::Text => self.code.len(),
            SectionKind::Rodata => self.rodata.len(),
            SectionKind::Data => self.data.len(),
            SectionKind::Bss => return self.bss_size,
        };
        // usize is at most 64 bits on every target Rust supports.
        len as u64
    }

    /// Checks every invariant of the model that its types do not already
    /// guarantee. After `Ok`, every index is in range and every offset lies
    /// inside its section, so the loader can use them without further checks.
    pub fn validate(&self) -> Result<(), SmfError> {
        self.validate_entry()?;
        self.validate_symbols()?;
        self.validate_relocations()?;
        self.validate_imports()?;
        self.validate_line_table()?;
        self.validate_traps()?;
        self.validate_stack_maps()
    }

    fn validate_entry(&self) -> Result<(), SmfError> {
        let Some(index) = self.entry else {
            if self.flags.contains(Flags::EXECUTABLE) {
                return Err(SmfError::ExecutableWithoutEntry);
            }
            return Ok(());
        };
        let symbol =
            self.symbols.get(index as usize).ok_or(SmfError::EntryOutOfRange { index, count: self.symbols.len() })?;
        if symbol.kind != SymbolKind::Function {
            return Err(SmfError::EntryNotFunction { index, name: symbol.name.clone() });
        }
        Ok(())
    }

    fn validate_symbols(&self) -> Result<(), SmfError> {
        let mut globals: HashMap<&str, usize> = HashMap::default();
        globals.reserve(self.symbols.len());
        for (index, symbol) in self.symbols.iter().enumerate() {
            let item = Item::Symbol(index);
            if symbol.name.is_empty() {
                return Err(SmfError::EmptyName { item });
            }
            let allowed = match symbol.kind {
                SymbolKind::Function => symbol.section == SectionKind::Text,
                SymbolKind::Data => symbol.section != SectionKind::Text,
            };
            if !allowed {
                return Err(SmfError::SymbolWrongSection {
                    index,
                    name: symbol.name.clone(),
                    kind: symbol.kind,
                    section: symbol.section,
                });
            }
            if symbol.kind == SymbolKind::Data && symbol.content_hash != [0; 16] {
                return Err(SmfError::DataContentHash { index, name: symbol.name.clone() });
            }
            let section_size = self.section_size(symbol.section);
            if !range_fits(symbol.offset, symbol.size, section_size) {
                return Err(SmfError::SymbolOutOfSection {
                    index,
                    name: symbol.name.clone(),
                    offset: symbol.offset,
                    size: symbol.size,
                    section: symbol.section,
                    section_size,
                });
            }
            if symbol.binding == Binding::Global {
                if let Some(&first) = globals.get(symbol.name.as_str()) {
                    return Err(SmfError::DuplicateGlobal { name: symbol.name.clone(), first, second: index });
                }
                globals.insert(&symbol.name, index);
            }
        }
        // Functions must not overlap, so an address names at most one
        // function (backtraces, `function_at`).
        let functions = self.function_indices_by_offset();
        for pair in functions.windows(2) {
            let (a, b) = (&self.symbols[pair[0]], &self.symbols[pair[1]]);
            // Validated above: offset + size does not overflow.
            if a.offset + a.size > b.offset {
                return Err(SmfError::FunctionsOverlap { first: a.name.clone(), second: b.name.clone() });
            }
        }
        Ok(())
    }

    /// Indices of the non-empty function symbols, sorted by offset.
    pub(crate) fn function_indices_by_offset(&self) -> Vec<usize> {
        let mut functions: Vec<usize> = (0..self.symbols.len())
            .filter(|&i| self.symbols[i].kind == SymbolKind::Function && self.symbols[i].size > 0)
            .collect();
        functions.sort_by_key(|&i| (self.symbols[i].offset, i));
        functions
    }

    fn validate_relocations(&self) -> Result<(), SmfError> {
        for (index, reloc) in self.relocations.iter().enumerate() {
            if !matches!(reloc.section, SectionKind::Text | SectionKind::Data) {
                return Err(SmfError::RelocationSection { index, section: reloc.section });
            }
            let section_size = self.section_size(reloc.section);
            if !range_fits(reloc.offset, reloc.kind.width(), section_size) {
                return Err(SmfError::RelocationOutOfSection {
                    index,
                    offset: reloc.offset,
                    width: reloc.kind.width(),
                    section: reloc.section,
                    section_size,
                });
            }
            let count = match reloc.target {
                RelocTarget::Symbol(_) => self.symbols.len(),
                RelocTarget::Import(_) => self.imports.len(),
            };
            let (RelocTarget::Symbol(target) | RelocTarget::Import(target)) = reloc.target;
            if target as usize >= count {
                return Err(SmfError::RelocationTarget { index, target: reloc.target, count });
            }
        }
        Ok(())
    }

    fn validate_imports(&self) -> Result<(), SmfError> {
        for (index, name) in self.imports.iter().enumerate() {
            if name.is_empty() {
                return Err(SmfError::EmptyName { item: Item::Import(index) });
            }
        }
        Ok(())
    }

    fn validate_line_table(&self) -> Result<(), SmfError> {
        let code_size = self.section_size(SectionKind::Text);
        let mut previous = 0;
        for (index, entry) in self.line_table.iter().enumerate() {
            let item = Item::LineEntry(index);
            if u64::from(entry.code_offset) >= code_size {
                return Err(SmfError::CodeOffset { item, offset: entry.code_offset, code_size });
            }
            if entry.code_offset < previous {
                return Err(SmfError::Unsorted { item, offset: entry.code_offset, previous });
            }
            previous = entry.code_offset;
            if entry.file as usize >= self.files.len() {
                return Err(SmfError::FileIndex { index, file: entry.file, count: self.files.len() });
            }
            if let Some(inlined) = entry.inlined {
                let symbol = self.symbols.get(inlined.function as usize);
                if symbol.is_none_or(|s| s.kind != SymbolKind::Function) {
                    return Err(SmfError::InlinedFunction { index, symbol: inlined.function });
                }
            }
        }
        Ok(())
    }

    fn validate_traps(&self) -> Result<(), SmfError> {
        let code_size = self.section_size(SectionKind::Text);
        let mut previous: Option<u32> = None;
        for (index, trap) in self.traps.iter().enumerate() {
            let item = Item::Trap(index);
            if u64::from(trap.code_offset) >= code_size {
                return Err(SmfError::CodeOffset { item, offset: trap.code_offset, code_size });
            }
            check_strictly_increasing(item, trap.code_offset, &mut previous)?;
        }
        Ok(())
    }

    fn validate_stack_maps(&self) -> Result<(), SmfError> {
        let code_size = self.section_size(SectionKind::Text);
        let mut previous: Option<u32> = None;
        for (index, map) in self.stack_maps.iter().enumerate() {
            let item = Item::StackMap(index);
            // A safepoint is a return address, which may be the end of the code.
            if u64::from(map.code_offset) > code_size {
                return Err(SmfError::CodeOffset { item, offset: map.code_offset, code_size });
            }
            check_strictly_increasing(item, map.code_offset, &mut previous)?;
            let mut previous_slot: Option<u32> = None;
            for &slot in &map.slots {
                if previous_slot.is_some_and(|p| slot <= p) {
                    return Err(SmfError::StackMapSlotsUnsorted { index, slot });
                }
                previous_slot = Some(slot);
                if u64::from(slot) + GC_REF_SIZE > u64::from(map.frame_size) {
                    return Err(SmfError::StackMapSlotOutsideFrame { index, slot, frame_size: map.frame_size });
                }
            }
        }
        Ok(())
    }
}

/// `offset..offset + size` lies within `0..limit`, without overflow.
pub(crate) fn range_fits(offset: u64, size: u64, limit: u64) -> bool {
    offset.checked_add(size).is_some_and(|end| end <= limit)
}

fn check_strictly_increasing(item: Item, offset: u32, previous: &mut Option<u32>) -> Result<(), SmfError> {
    if let Some(p) = *previous
        && offset <= p
    {
        return Err(SmfError::Unsorted { item, offset, previous: p });
    }
    *previous = Some(offset);
    Ok(())
}
