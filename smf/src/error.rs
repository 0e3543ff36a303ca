//! Why a file is not a valid SMF module.
//!
//! Every message names the part of the file that is wrong (which section,
//! which symbol or relocation, which offset) so a corrupt module can be
//! diagnosed from the message alone.

use std::fmt;

use thiserror::Error;

use crate::format::SectionFlags;
use crate::module::{RelocTarget, SectionKind, SymbolKind};

/// A numbered entry of one of the module's tables, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Section(usize),
    Symbol(usize),
    Relocation(usize),
    Import(usize),
    File(usize),
    LineEntry(usize),
    Trap(usize),
    StackMap(usize),
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Section(i) => write!(f, "section {i}"),
            Item::Symbol(i) => write!(f, "symbol {i}"),
            Item::Relocation(i) => write!(f, "relocation {i}"),
            Item::Import(i) => write!(f, "import {i}"),
            Item::File(i) => write!(f, "file {i}"),
            Item::LineEntry(i) => write!(f, "line entry {i}"),
            Item::Trap(i) => write!(f, "trap {i}"),
            Item::StackMap(i) => write!(f, "stack map {i}"),
        }
    }
}

/// Hex digits of a hash, for messages.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SmfError {
    // --- header ---
    #[error("file is {len} bytes, too short for the {needed}-byte SMF header")]
    TooShort { len: usize, needed: usize },
    #[error("not an SMF file: it starts with {} instead of 53 4d 46 00 (\"SMF\\0\")", hex_spaced(found))]
    BadMagic { found: [u8; 4] },
    #[error("unsupported SMF version {major}.{minor}: this reader understands version {supported}.x")]
    UnsupportedVersion { major: u16, minor: u16, supported: u16 },
    #[error("unknown platform code {0}")]
    UnknownPlatform(u16),
    #[error("unknown architecture code {0}")]
    UnknownArch(u16),
    #[error("unknown module flags {0:#x}")]
    UnknownFlags(u32),
    #[error("the header says the file is {stored} bytes, but it is {actual} bytes (truncated or padded)")]
    FileSize { stored: u64, actual: usize },
    #[error("module hash mismatch: the file is corrupt (stored {}, computed {})", hex(stored), hex(computed))]
    ModuleHash { stored: [u8; 32], computed: [u8; 32] },

    // --- section table ---
    #[error(
        "the section table ({count} entries at {offset:#x}) does not fit between the header and the end of the file ({file_size:#x} bytes)"
    )]
    SectionTableBounds { offset: u64, count: u32, file_size: usize },
    #[error("section {index}: unknown flags {flags:#x}")]
    SectionFlags { index: usize, flags: u32 },
    #[error("section {index} ({name}): flags are {found}, expected {expected}")]
    SectionFlagsMismatch { index: usize, name: &'static str, found: SectionFlags, expected: SectionFlags },
    #[error("section {index} ({name}): bytes {offset:#x}..+{size:#x} are outside the file ({file_size:#x} bytes)")]
    SectionBounds { index: usize, name: String, offset: u64, size: u64, file_size: usize },
    #[error("section {index} ({name}) overlaps the header or the section table")]
    SectionOverlapsHeader { index: usize, name: String },
    #[error("sections {first} ({first_name}) and {second} ({second_name}) overlap in the file")]
    SectionsOverlap { first: usize, first_name: String, second: usize, second_name: String },
    #[error("section {index} ({name}): alignment {align} is not a power of two at most {max}")]
    SectionAlignment { index: usize, name: String, align: u32, max: u64 },
    #[error("section {index} ({name}): virtual size {virtual_size:#x} does not match file size {size:#x}")]
    VirtualSize { index: usize, name: &'static str, size: u64, virtual_size: u64 },
    #[error("section {index} (.bss) has {size:#x} bytes in the file; it must have none")]
    BssHasBytes { index: usize, size: u64 },
    #[error("section {index}: is named `{found}`, but a section of its type must be named `{expected}`")]
    SectionName { index: usize, found: String, expected: &'static str },
    #[error("sections {first} and {second} are both {name}")]
    DuplicateSection { first: usize, second: usize, name: &'static str },
    #[error("the module has no {0} section")]
    MissingSection(&'static str),
    #[error("section {name}: size {size:#x} is not a whole number of {entry_size}-byte entries")]
    TableSize { name: &'static str, size: u64, entry_size: usize },
    #[error("section {name}: {count} entries need {needed:#x} bytes, but the section has {size:#x}")]
    TableCount { name: &'static str, count: u32, needed: u64, size: u64 },
    #[error("{item}: {problem}")]
    Encoding { item: Item, problem: &'static str },
    #[error("section {name}: {extra} bytes follow its {count} entries")]
    TrailingBytes { name: &'static str, count: u32, extra: usize },
    #[error("section {name}: the reserved field of its header is not zero")]
    SectionReserved { name: &'static str },
    #[error("section {name}: {needed} more bytes needed at offset {offset:#x}, but the section ends at {size:#x}")]
    Truncated { name: &'static str, offset: usize, needed: usize, size: usize },

    // --- entries ---
    #[error("{item}: string at {offset:#x}+{len:#x} is outside the string table ({table_size:#x} bytes)")]
    StringBounds { item: Item, offset: u32, len: u32, table_size: usize },
    #[error("{item}: string at {offset:#x} is not valid UTF-8")]
    StringUtf8 { item: Item, offset: u32 },
    #[error("{item}: unknown {field} code {value}")]
    UnknownCode { item: Item, field: &'static str, value: u32 },
    #[error("{item}: reserved bytes are not zero")]
    Reserved { item: Item },
    #[error("{item}: name is empty")]
    EmptyName { item: Item },
    #[error(
        "symbol {index} (`{name}`): stored name hash {stored:#018x} does not match the name's FNV-1a hash {computed:#018x}"
    )]
    NameHash { index: usize, name: String, stored: u64, computed: u64 },
    #[error("symbol {index} (`{name}`): a {kind} symbol cannot be in {section}")]
    SymbolWrongSection { index: usize, name: String, kind: SymbolKind, section: SectionKind },
    #[error("symbol {index} (`{name}`): data symbols must have a zero content hash")]
    DataContentHash { index: usize, name: String },
    #[error(
        "symbol {index} (`{name}`): bytes {offset:#x}..+{size:#x} are outside section {section} (size {section_size:#x})"
    )]
    SymbolOutOfSection { index: usize, name: String, offset: u64, size: u64, section: SectionKind, section_size: u64 },
    #[error("symbols {first} and {second} are both global and named `{name}`")]
    DuplicateGlobal { name: String, first: usize, second: usize },
    #[error("functions `{first}` and `{second}` overlap")]
    FunctionsOverlap { first: String, second: String },
    #[error("relocation {index}: patches {section}; only .text and .data can be relocated")]
    RelocationSection { index: usize, section: SectionKind },
    #[error(
        "relocation {index}: offset {offset:#x} (+{width} bytes) is outside section {section} (size {section_size:#x})"
    )]
    RelocationOutOfSection { index: usize, offset: u64, width: u64, section: SectionKind, section_size: u64 },
    #[error("relocation {index}: target {target} does not exist (there are {count})")]
    RelocationTarget { index: usize, target: RelocTarget, count: usize },
    #[error("entry point is symbol {index}, but the module has only {count} symbols")]
    EntryOutOfRange { index: u32, count: usize },
    #[error("entry point is symbol {index} (`{name}`), which is not a function")]
    EntryNotFunction { index: u32, name: String },
    #[error("the module is marked EXECUTABLE but has no entry point")]
    ExecutableWithoutEntry,
    #[error("{item}: code offset {offset:#x} is outside .text (size {code_size:#x})")]
    CodeOffset { item: Item, offset: u32, code_size: u64 },
    #[error("{item}: code offset {offset:#x} is out of order (previous entry is at {previous:#x})")]
    Unsorted { item: Item, offset: u32, previous: u32 },
    #[error("line entry {index}: file {file} does not exist (there are {count})")]
    FileIndex { index: usize, file: u32, count: usize },
    #[error("line entry {index}: inlined function {symbol} is not a function symbol")]
    InlinedFunction { index: usize, symbol: u32 },
    #[error("stack map {index}: slot {slot:#x} is not after the previous slot")]
    StackMapSlotsUnsorted { index: usize, slot: u32 },
    #[error("stack map {index}: 8-byte slot at {slot:#x} is outside the frame (size {frame_size:#x})")]
    StackMapSlotOutsideFrame { index: usize, slot: u32, frame_size: u32 },
}

fn hex_spaced(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}
