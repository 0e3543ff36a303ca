//! The on-disk vocabulary of SMF: magic, version, field offsets, entry sizes
//! and the numeric codes of every enum.
//!
//! The writer and the reader both take their numbers from here, so the two
//! cannot drift apart; `docs/smf.md` documents the same numbers for people.
//! Every enum code starts at 1: a zeroed field (a hole in a truncated or
//! sparse file) never decodes as a valid value.

use std::fmt;
use std::ops::BitOr;

/// The first four bytes of every SMF file.
pub const MAGIC: [u8; 4] = *b"SMF\0";
/// Files with another major version are refused: their layout may differ.
pub const VERSION_MAJOR: u16 = 4;
/// Minor versions only add things an older reader may ignore (new section
/// types); a reader accepts any minor version of its major version.
pub const VERSION_MINOR: u16 = 0;

/// Size of the fixed header at offset 0. [`crate::read_header`] needs only
/// this many bytes.
pub const HEADER_SIZE: usize = 104;
/// Size of one section table entry.
pub const SECTION_ENTRY_SIZE: usize = 48;
/// Size of one symbol table entry.
pub const SYMBOL_ENTRY_SIZE: usize = 56;
/// Size of one relocation entry.
pub const RELOCATION_ENTRY_SIZE: usize = 24;
/// Size of the imports section's own header (ABI version, count).
pub const IMPORTS_HEADER_SIZE: usize = 8;
/// Size of one string reference (offset, length) in the imports and files sections.
pub const STRING_REF_SIZE: usize = 8;
/// Size of the line table's own header (count, reserved).
pub const LINES_HEADER_SIZE: usize = 8;
/// The most bytes one LEB128 number of the line table may take: enough for
/// the zigzag form of any difference of two `u32`s (34 bits).
pub const MAX_VARINT_LEN: usize = 5;
/// Size of one trap entry.
pub const TRAP_ENTRY_SIZE: usize = 8;
/// Size of the stack map section's own header (count, reserved).
pub const STACK_MAPS_HEADER_SIZE: usize = 8;
/// Size of a stack map entry before its slots.
pub const STACK_MAP_ENTRY_HEAD_SIZE: usize = 12;

/// Byte offsets of the header fields (see docs/smf.md).
pub mod header {
    pub const MAGIC: usize = 0;
    pub const VERSION_MAJOR: usize = 4;
    pub const VERSION_MINOR: usize = 6;
    pub const PLATFORM: usize = 8;
    pub const ARCH: usize = 10;
    pub const FLAGS: usize = 12;
    pub const ENTRY: usize = 16;
    pub const SECTION_COUNT: usize = 20;
    pub const SECTION_TABLE_OFFSET: usize = 24;
    pub const FILE_SIZE: usize = 32;
    pub const SOURCE_HASH: usize = 40;
    pub const MODULE_HASH: usize = 72;
}

/// Stored in the header's entry field when the module has no entry point.
pub const NO_ENTRY: u32 = u32::MAX;

/// The writer places every section at a multiple of this in the file.
pub const FILE_ALIGN: u64 = 16;
/// The largest alignment a section may ask for.
pub const MAX_ALIGN: u64 = 64 * 1024;
/// The largest alignment a loadable section may ask for: the loader places
/// each loadable section on its own page and promises nothing more.
pub const MAX_LOADABLE_ALIGN: u64 = 4096;
/// Alignment the writer records for code and data sections.
pub const LOADABLE_ALIGN: u32 = 16;

/// FNV-1a, 64-bit. Stored next to every symbol name so a consumer can hash a
/// name once and compare integers; the reader recomputes it to catch a name
/// and its hash disagreeing.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME))
}

/// The operating system the code was compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Linux,
}

impl Platform {
    pub const fn code(self) -> u16 {
        match self {
            Platform::Linux => 1,
        }
    }

    pub const fn from_code(code: u16) -> Option<Platform> {
        match code {
            1 => Some(Platform::Linux),
            _ => None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Platform::Linux => "linux",
        })
    }
}

/// The instruction set of the code section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    pub const fn code(self) -> u16 {
        match self {
            Arch::X86_64 => 1,
            Arch::Aarch64 => 2,
        }
    }

    pub const fn from_code(code: u16) -> Option<Arch> {
        match code {
            1 => Some(Arch::X86_64),
            2 => Some(Arch::Aarch64),
            _ => None,
        }
    }

    /// The architecture this program runs on, if SMF knows it.
    pub const fn host() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Arch::Aarch64)
        } else {
            None
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        })
    }
}

/// Module flags. A small newtype rather than a dependency: three bits.
/// Only known bits can be set, so a model never holds a flag the format
/// cannot express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(u32);

impl Flags {
    /// The module has an entry point and can be run as a program.
    pub const EXECUTABLE: Flags = Flags(1);
    /// The module was built to be replaced while running (watch mode).
    pub const RELOADABLE: Flags = Flags(2);
    /// The line table and file list are meant to be complete.
    pub const DEBUG_INFO: Flags = Flags(4);
    const ALL: u32 = 1 | 2 | 4;
    const NAMES: [(Flags, &'static str); 3] =
        [(Flags::EXECUTABLE, "EXECUTABLE"), (Flags::RELOADABLE, "RELOADABLE"), (Flags::DEBUG_INFO, "DEBUG_INFO")];

    pub const fn empty() -> Flags {
        Flags(0)
    }

    pub const fn bits(self) -> u32 {
        self.0
    }

    /// `None` if `bits` has a bit this version does not know.
    pub const fn from_bits(bits: u32) -> Option<Flags> {
        if bits & !Flags::ALL == 0 { Some(Flags(bits)) } else { None }
    }

    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn insert(&mut self, other: Flags) {
        self.0 |= other.0;
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> =
            Flags::NAMES.iter().filter(|(flag, _)| self.contains(*flag)).map(|(_, name)| *name).collect();
        if names.is_empty() { f.pad("(none)") } else { f.pad(&names.join(" | ")) }
    }
}

/// The type of a section table entry. The first four are loaded into
/// memory; the rest are metadata the loader reads but does not map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SectionType {
    Text,
    Rodata,
    Data,
    Bss,
    Symbols,
    Strings,
    Relocations,
    Imports,
    Files,
    Lines,
    Traps,
    StackMaps,
}

impl SectionType {
    /// Every section type, in the order the writer emits them.
    pub const ALL: [SectionType; 12] = [
        SectionType::Text,
        SectionType::Rodata,
        SectionType::Data,
        SectionType::Bss,
        SectionType::Symbols,
        SectionType::Strings,
        SectionType::Relocations,
        SectionType::Imports,
        SectionType::Files,
        SectionType::Lines,
        SectionType::Traps,
        SectionType::StackMaps,
    ];

    pub const fn code(self) -> u32 {
        match self {
            SectionType::Text => 1,
            SectionType::Rodata => 2,
            SectionType::Data => 3,
            SectionType::Bss => 4,
            SectionType::Symbols => 5,
            SectionType::Strings => 6,
            SectionType::Relocations => 7,
            SectionType::Imports => 8,
            SectionType::Files => 9,
            SectionType::Lines => 10,
            SectionType::Traps => 11,
            SectionType::StackMaps => 12,
        }
    }

    pub fn from_code(code: u32) -> Option<SectionType> {
        SectionType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The name the writer gives the section; the reader insists on it.
    pub const fn name(self) -> &'static str {
        match self {
            SectionType::Text => ".text",
            SectionType::Rodata => ".rodata",
            SectionType::Data => ".data",
            SectionType::Bss => ".bss",
            SectionType::Symbols => ".symtab",
            SectionType::Strings => ".strtab",
            SectionType::Relocations => ".rela",
            SectionType::Imports => ".imports",
            SectionType::Files => ".files",
            SectionType::Lines => ".lines",
            SectionType::Traps => ".traps",
            SectionType::StackMaps => ".stackmaps",
        }
    }

    /// The memory protection the section gets once loaded; metadata
    /// sections are not loaded and have none.
    pub const fn flags(self) -> SectionFlags {
        match self {
            SectionType::Text => SectionFlags::R.with(SectionFlags::X),
            SectionType::Rodata => SectionFlags::R,
            SectionType::Data | SectionType::Bss => SectionFlags::R.with(SectionFlags::W),
            _ => SectionFlags::NONE,
        }
    }

    /// Alignment the writer records for the section.
    pub const fn alignment(self) -> u32 {
        match self {
            SectionType::Text | SectionType::Rodata | SectionType::Data | SectionType::Bss => LOADABLE_ALIGN,
            SectionType::Symbols | SectionType::Relocations => 8,
            SectionType::Strings => 1,
            _ => 4,
        }
    }

    pub const fn is_loadable(self) -> bool {
        matches!(self, SectionType::Text | SectionType::Rodata | SectionType::Data | SectionType::Bss)
    }
}

/// Memory protection bits of a section table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SectionFlags(u32);

impl SectionFlags {
    pub const NONE: SectionFlags = SectionFlags(0);
    pub const R: SectionFlags = SectionFlags(1);
    pub const W: SectionFlags = SectionFlags(2);
    pub const X: SectionFlags = SectionFlags(4);

    pub const fn bits(self) -> u32 {
        self.0
    }

    pub const fn from_bits_retain(bits: u32) -> SectionFlags {
        SectionFlags(bits)
    }

    pub const fn with(self, other: SectionFlags) -> SectionFlags {
        SectionFlags(self.0 | other.0)
    }

    pub const fn contains(self, other: SectionFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl fmt::Display for SectionFlags {
    /// `r-x` style, like /proc/self/maps; unknown bits are shown in hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bit = |flag: SectionFlags, c: char| if self.contains(flag) { c } else { '-' };
        let mut text: String =
            [bit(SectionFlags::R, 'r'), bit(SectionFlags::W, 'w'), bit(SectionFlags::X, 'x')].into_iter().collect();
        let unknown = self.0 & !7;
        if unknown != 0 {
            text.push_str(&format!("+{unknown:#x}"));
        }
        f.pad(&text)
    }
}

/// Codes of the small enums stored in symbol and relocation entries.
pub mod codes {
    pub const SYMBOL_FUNCTION: u8 = 1;
    pub const SYMBOL_DATA: u8 = 2;
    pub const BINDING_LOCAL: u8 = 1;
    pub const BINDING_GLOBAL: u8 = 2;
    pub const RELOC_ABS64: u8 = 1;
    pub const RELOC_PC32: u8 = 2;
    pub const RELOC_PLT32: u8 = 3;
    pub const TARGET_SYMBOL: u8 = 1;
    pub const TARGET_IMPORT: u8 = 2;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn section_codes_round_trip() {
        for t in SectionType::ALL {
            assert_eq!(SectionType::from_code(t.code()), Some(t));
        }
        assert_eq!(SectionType::from_code(0), None);
    }

    #[test]
    fn flags_refuse_unknown_bits() {
        assert_eq!(Flags::from_bits(8), None);
        let flags = Flags::EXECUTABLE | Flags::DEBUG_INFO;
        assert_eq!(Flags::from_bits(flags.bits()), Some(flags));
        assert_eq!(flags.to_string(), "EXECUTABLE | DEBUG_INFO");
    }
}
