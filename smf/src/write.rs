//! Serialising a [`Module`] to SMF bytes.
//!
//! The output is a pure function of the model: sections are emitted in a
//! fixed order, strings are interned in first-use order, padding is zero and
//! nothing depends on addresses, time or hash-map iteration order. Every
//! integer is written little-endian, field by field.
//!
//! The writer does not validate: it serialises whatever it is given, and
//! [`Module::validate`] (run by the reader) says whether that was a valid
//! module. A count or string table beyond 4 GiB cannot be expressed; such
//! values are saturated and the file then fails to read.

use rustc_hash::FxHashMap as HashMap;

use crate::format::{
    FILE_ALIGN, HEADER_SIZE, IMPORTS_HEADER_SIZE, LINES_HEADER_SIZE, MAGIC, NO_ENTRY, RELOCATION_ENTRY_SIZE,
    SECTION_ENTRY_SIZE, STACK_MAP_ENTRY_HEAD_SIZE, STACK_MAPS_HEADER_SIZE, STRING_REF_SIZE, SYMBOL_ENTRY_SIZE,
    SectionType, TRAP_ENTRY_SIZE, VERSION_MAJOR, VERSION_MINOR, codes, fnv1a, header,
};
use crate::module::{Binding, Module, RelocKind, RelocTarget, SectionKind, SymbolKind};

/// Serialises `module` to the bytes of an SMF file.
pub fn write(module: &Module) -> Vec<u8> {
    // Names first: then every section's size is known, and each is written
    // once, in place (a big module's tables are megabytes).
    let mut strings = StringTable::default();
    let section_names: Vec<(u32, u32)> = SectionType::ALL.iter().map(|t| strings.intern(t.name())).collect();
    let symbol_names: Vec<(u32, u32)> = module.symbols.iter().map(|s| strings.intern(&s.name)).collect();
    let import_names: Vec<(u32, u32)> = module.imports.iter().map(|name| strings.intern(name)).collect();
    let file_names: Vec<(u32, u32)> = module.files.iter().map(|path| strings.intern(path)).collect();
    let lines = lines_payload(module);
    let stack_maps_size = STACK_MAPS_HEADER_SIZE
        + module.stack_maps.iter().map(|m| STACK_MAP_ENTRY_HEAD_SIZE + 4 * m.slots.len()).sum::<usize>();
    let sections: [(SectionType, usize); 12] = [
        (SectionType::Text, module.code.len()),
        (SectionType::Rodata, module.rodata.len()),
        (SectionType::Data, module.data.len()),
        (SectionType::Bss, 0),
        (SectionType::Symbols, module.symbols.len() * SYMBOL_ENTRY_SIZE),
        (SectionType::Strings, strings.bytes.len()),
        (SectionType::Relocations, module.relocations.len() * RELOCATION_ENTRY_SIZE),
        (SectionType::Imports, IMPORTS_HEADER_SIZE + import_names.len() * STRING_REF_SIZE),
        (SectionType::Files, file_names.len() * STRING_REF_SIZE),
        (SectionType::Lines, lines.len()),
        (SectionType::Traps, module.traps.len() * TRAP_ENTRY_SIZE),
        (SectionType::StackMaps, stack_maps_size),
    ];

    let table_offset = align_up(HEADER_SIZE as u64);
    let mut position = table_offset + (SECTION_ENTRY_SIZE * sections.len()) as u64;
    let mut offsets = Vec::with_capacity(sections.len());
    for (_, size) in &sections {
        position = align_up(position);
        offsets.push(position);
        position += *size as u64;
    }
    let file_size = position;

    let mut out = Out(Vec::with_capacity(file_size as usize));
    // Header; the module hash stays zero until the whole file is written.
    // Each field is written at the offset `format::header` (and docs/smf.md)
    // gives for it; the assertions keep the three in step.
    out.at(header::MAGIC).bytes(&MAGIC);
    out.at(header::VERSION_MAJOR).u16(VERSION_MAJOR);
    out.at(header::VERSION_MINOR).u16(VERSION_MINOR);
    out.at(header::PLATFORM).u16(module.platform.code());
    out.at(header::ARCH).u16(module.arch.code());
    out.at(header::FLAGS).u32(module.flags.bits());
    out.at(header::ENTRY).u32(module.entry.unwrap_or(NO_ENTRY));
    out.at(header::SECTION_COUNT).u32(sections.len() as u32);
    out.at(header::SECTION_TABLE_OFFSET).u64(table_offset);
    out.at(header::FILE_SIZE).u64(file_size);
    out.at(header::SOURCE_HASH).bytes(&module.source_hash);
    out.at(header::MODULE_HASH).bytes(&[0; 32]);
    out.at(HEADER_SIZE);

    out.pad_to(table_offset);
    for (((section_type, size), offset), (name_offset, name_len)) in sections.iter().zip(&offsets).zip(&section_names) {
        let virtual_size = match section_type {
            SectionType::Bss => module.bss_size,
            _ => *size as u64,
        };
        out.u32(section_type.code());
        out.u32(section_type.flags().bits());
        out.u64(*offset);
        out.u64(*size as u64);
        out.u64(virtual_size);
        out.u32(section_type.alignment());
        out.u32(*name_offset);
        out.u32(*name_len);
        out.u32(0);
    }
    for ((section_type, size), offset) in sections.iter().zip(&offsets) {
        out.pad_to(*offset);
        match section_type {
            SectionType::Text => out.bytes(&module.code),
            SectionType::Rodata => out.bytes(&module.rodata),
            SectionType::Data => out.bytes(&module.data),
            SectionType::Bss => {}
            SectionType::Symbols => write_symbols(&mut out, module, &symbol_names),
            SectionType::Strings => out.bytes(&strings.bytes),
            SectionType::Relocations => write_relocations(&mut out, module),
            SectionType::Imports => {
                out.u32(module.abi_version);
                out.u32(saturate(import_names.len()));
                write_string_refs(&mut out, &import_names);
            }
            SectionType::Files => write_string_refs(&mut out, &file_names),
            SectionType::Lines => out.bytes(&lines),
            SectionType::Traps => write_traps(&mut out, module),
            SectionType::StackMaps => write_stack_maps(&mut out, module),
        }
        debug_assert_eq!(out.0.len() as u64, offset + *size as u64, "size of {}", section_type.name());
    }

    let mut bytes = out.0;
    let hash = crate::read::module_hash(&bytes);
    bytes[header::MODULE_HASH..header::MODULE_HASH + 32].copy_from_slice(&hash);
    bytes
}

fn write_symbols(out: &mut Out, module: &Module, names: &[(u32, u32)]) {
    for (symbol, &(name_offset, name_len)) in module.symbols.iter().zip(names) {
        let mut e = Entry::<SYMBOL_ENTRY_SIZE>::new();
        e.u32(name_offset);
        e.u32(name_len);
        e.u64(fnv1a(symbol.name.as_bytes()));
        e.u8(match symbol.kind {
            SymbolKind::Function => codes::SYMBOL_FUNCTION,
            SymbolKind::Data => codes::SYMBOL_DATA,
        });
        e.u8(match symbol.binding {
            Binding::Local => codes::BINDING_LOCAL,
            Binding::Global => codes::BINDING_GLOBAL,
        });
        e.u8(section_code(symbol.section));
        e.u8(0);
        e.u32(0);
        e.u64(symbol.offset);
        e.u64(symbol.size);
        e.bytes(&symbol.content_hash);
        out.entry(e);
    }
}

fn write_relocations(out: &mut Out, module: &Module) {
    for reloc in &module.relocations {
        let (target_kind, target_index) = match reloc.target {
            RelocTarget::Symbol(i) => (codes::TARGET_SYMBOL, i),
            RelocTarget::Import(i) => (codes::TARGET_IMPORT, i),
        };
        let mut e = Entry::<RELOCATION_ENTRY_SIZE>::new();
        e.u64(reloc.offset);
        e.u64(reloc.addend as u64);
        e.u32(target_index);
        e.u8(section_code(reloc.section));
        e.u8(target_kind);
        e.u8(match reloc.kind {
            RelocKind::Abs64 => codes::RELOC_ABS64,
            RelocKind::Pc32 => codes::RELOC_PC32,
            RelocKind::Plt32 => codes::RELOC_PLT32,
        });
        e.u8(0);
        out.entry(e);
    }
}

fn write_string_refs(out: &mut Out, refs: &[(u32, u32)]) {
    for &(offset, len) in refs {
        out.u32(offset);
        out.u32(len);
    }
}

/// The line table: a count, then each entry as four LEB128 numbers, the
/// code offset and line as zigzag differences from the previous entry's, the
/// file shifted left by one with bit 0 set if the entry is inlined code, and
/// the column as it is; an inlined entry then adds the inlined function's
/// symbol and the call's line and column. A fifth of the size of fixed
/// 16-byte entries, which matters: the table is a third of a big module.
fn lines_payload(module: &Module) -> Vec<u8> {
    let mut out = Out(Vec::with_capacity(LINES_HEADER_SIZE + 5 * module.line_table.len()));
    out.u32(saturate(module.line_table.len()));
    out.u32(0);
    let (mut offset, mut line) = (0, 0);
    for entry in &module.line_table {
        out.varint(zigzag(i64::from(entry.code_offset) - offset));
        out.varint(u64::from(entry.file) << 1 | u64::from(entry.inlined.is_some()));
        out.varint(zigzag(i64::from(entry.line) - line));
        out.varint(u64::from(entry.column));
        if let Some(inlined) = entry.inlined {
            out.varint(u64::from(inlined.function));
            out.varint(u64::from(inlined.line));
            out.varint(u64::from(inlined.column));
        }
        (offset, line) = (i64::from(entry.code_offset), i64::from(entry.line));
    }
    out.0
}

/// Signed to unsigned, small magnitudes to small numbers: 0, -1, 1, -2, ...
/// become 0, 1, 2, 3, ...
fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn write_traps(out: &mut Out, module: &Module) {
    for trap in &module.traps {
        let mut e = Entry::<TRAP_ENTRY_SIZE>::new();
        e.u32(trap.code_offset);
        e.u8(trap.code);
        e.bytes(&[0; 3]);
        out.entry(e);
    }
}

fn write_stack_maps(out: &mut Out, module: &Module) {
    out.u32(saturate(module.stack_maps.len()));
    out.u32(0);
    for map in &module.stack_maps {
        out.u32(map.code_offset);
        out.u32(map.frame_size);
        out.u32(saturate(map.slots.len()));
        for &slot in &map.slots {
            out.u32(slot);
        }
    }
}

/// Symbols and relocations name a loadable section by its section type code.
fn section_code(section: SectionKind) -> u8 {
    // The four loadable section codes are 1..=4.
    section.section_type().code() as u8
}

fn align_up(position: u64) -> u64 {
    position.next_multiple_of(FILE_ALIGN)
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// All names in one table, each stored once; references are (offset, length)
/// so names need no terminator and may contain any UTF-8.
#[derive(Default)]
struct StringTable {
    bytes: Vec<u8>,
    interned: HashMap<String, (u32, u32)>,
}

impl StringTable {
    fn intern(&mut self, s: &str) -> (u32, u32) {
        if let Some(&reference) = self.interned.get(s) {
            return reference;
        }
        let reference = (saturate(self.bytes.len()), saturate(s.len()));
        self.bytes.extend_from_slice(s.as_bytes());
        self.interned.insert(s.to_owned(), reference);
        reference
    }
}

/// A little-endian byte sink.
#[derive(Default)]
struct Out(Vec<u8>);

impl Out {
    /// Appends a table entry whole: one append per entry rather than per
    /// field, which counts in tables of hundreds of thousands of entries.
    fn entry<const N: usize>(&mut self, e: Entry<N>) {
        debug_assert_eq!(e.len, N, "entry not filled");
        self.0.extend_from_slice(&e.bytes);
    }

    /// Unsigned LEB128: seven bits a byte, low first, the high bit set on
    /// all but the last.
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, v: &[u8]) {
        self.0.extend_from_slice(v);
    }
    /// Checks (in debug builds) that the next field starts at `offset`.
    fn at(&mut self, offset: usize) -> &mut Out {
        debug_assert_eq!(self.0.len(), offset, "header field at the wrong offset");
        self
    }
    fn pad_to(&mut self, offset: u64) {
        self.0.resize(offset as usize, 0);
    }
}

/// One fixed-size table entry, filled field by field like [`Out`].
struct Entry<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Entry<N> {
    fn new() -> Entry<N> {
        Entry { bytes: [0; N], len: 0 }
    }
    fn bytes(&mut self, v: &[u8]) {
        self.bytes[self.len..self.len + v.len()].copy_from_slice(v);
        self.len += v.len();
    }
    fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }
    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Arch, Platform};
    use crate::read::read;
    use crate::testutil::sample_module;

    #[test]
    fn round_trips() {
        let module = sample_module();
        assert_eq!(read(&write(&module)), Ok(module));
        let empty = Module::new(Platform::Linux, Arch::X86_64);
        assert_eq!(read(&write(&empty)), Ok(empty));
    }

    #[test]
    fn is_deterministic() {
        let module = sample_module();
        let bytes = write(&module);
        assert_eq!(bytes, write(&module.clone()));
        assert_eq!(bytes, write(&read(&bytes).expect("valid")));
    }

    #[test]
    fn places_sections_at_16_byte_offsets() {
        let bytes = write(&sample_module());
        assert_eq!(&bytes[..4], b"SMF\0");
        let header = crate::read_header(&bytes).expect("header");
        let sections = crate::read::read_section_table(&bytes, &header).expect("sections");
        assert_eq!(sections.len(), SectionType::ALL.len());
        for (section, t) in sections.iter().zip(SectionType::ALL) {
            assert_eq!(section.section_type, Some(t));
            assert_eq!(section.name, t.name());
            assert_eq!(section.offset % FILE_ALIGN, 0, "{}", t.name());
        }
    }

    #[test]
    fn stores_each_string_once() {
        let mut module = sample_module();
        module.files.push("rt_alloc".to_owned()); // same text as an import
        let bytes = write(&module);
        let (_, strtab) = crate::testutil::section(&bytes, SectionType::Strings);
        let table = &bytes[strtab.offset as usize..][..strtab.size as usize];
        let text = String::from_utf8_lossy(table);
        assert_eq!(text.matches("rt_alloc").count(), 1);
        assert_eq!(read(&bytes), Ok(module));
    }
}
