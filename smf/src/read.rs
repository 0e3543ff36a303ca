//! Reading SMF bytes back into a [`Module`], treating them as untrusted.
//!
//! The reader checks, in this order: the header (magic, version, platform,
//! architecture, flags, file size), the module hash over the whole file, the
//! section table (bounds, overlap, alignment, flags, names, one section of
//! each known type), then decodes each table (entry sizes, counts, string
//! references, UTF-8, name hashes, enum codes, reserved bytes) and finally
//! runs [`Module::validate`] for the cross-references. Arithmetic on values
//! from the file is checked, allocations are bounded by the bytes actually
//! present, and nothing here panics on any input.
//!
//! Sections of a type this reader does not know (added by a later minor
//! version) are bounds-checked and otherwise ignored.

use crate::error::{Item, SmfError};
use crate::format::{
    Arch, Flags, HEADER_SIZE, IMPORTS_HEADER_SIZE, MAGIC, MAX_ALIGN, MAX_LOADABLE_ALIGN, MAX_VARINT_LEN, NO_ENTRY,
    Platform, RELOCATION_ENTRY_SIZE, SECTION_ENTRY_SIZE, STACK_MAP_ENTRY_HEAD_SIZE, STACK_MAPS_HEADER_SIZE,
    STRING_REF_SIZE, SYMBOL_ENTRY_SIZE, SectionFlags, SectionType, TRAP_ENTRY_SIZE, VERSION_MAJOR, codes, fnv1a,
    header,
};
use crate::module::{
    Binding, InlinedCall, LineEntry, Module, RelocKind, RelocTarget, Relocation, SectionKind, StackMapEntry, Symbol,
    SymbolKind, TrapEntry, range_fits,
};

/// The fixed-size header at the start of an SMF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version_major: u16,
    pub version_minor: u16,
    pub platform: Platform,
    pub arch: Arch,
    pub flags: Flags,
    pub entry: Option<u32>,
    pub section_count: u32,
    pub section_table_offset: u64,
    pub file_size: u64,
    pub source_hash: [u8; 32],
    pub module_hash: [u8; 32],
}

/// One entry of the section table, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionHeader {
    /// `None` for a type this reader does not know; `type_code` says which.
    pub section_type: Option<SectionType>,
    pub type_code: u32,
    pub flags: SectionFlags,
    pub offset: u64,
    pub size: u64,
    pub virtual_size: u64,
    pub alignment: u32,
    pub name: String,
}

impl SectionHeader {
    fn label(&self) -> String {
        match self.section_type {
            Some(t) => t.name().to_owned(),
            None => format!("unknown type {}", self.type_code),
        }
    }
}

/// A fully read file: its header, its section table and the module.
pub(crate) struct ParsedFile {
    pub header: Header,
    pub sections: Vec<SectionHeader>,
    pub module: Module,
}

/// Decodes and checks only the header: magic, version, platform,
/// architecture and flags. Cheap, and needs only the first [`HEADER_SIZE`]
/// bytes, so the driver can decide whether a cached module's `source_hash`
/// is current without reading (or hashing) the whole file.
pub fn read_header(bytes: &[u8]) -> Result<Header, SmfError> {
    let head = bytes.get(..HEADER_SIZE).ok_or(SmfError::TooShort { len: bytes.len(), needed: HEADER_SIZE })?;
    let mut c = Cursor::new(head, "header");
    let magic: [u8; 4] = c.array()?;
    if magic != MAGIC {
        return Err(SmfError::BadMagic { found: magic });
    }
    let version_major = c.u16()?;
    let version_minor = c.u16()?;
    if version_major != VERSION_MAJOR {
        return Err(SmfError::UnsupportedVersion {
            major: version_major,
            minor: version_minor,
            supported: VERSION_MAJOR,
        });
    }
    let platform_code = c.u16()?;
    let platform = Platform::from_code(platform_code).ok_or(SmfError::UnknownPlatform(platform_code))?;
    let arch_code = c.u16()?;
    let arch = Arch::from_code(arch_code).ok_or(SmfError::UnknownArch(arch_code))?;
    let flag_bits = c.u32()?;
    let flags = Flags::from_bits(flag_bits).ok_or(SmfError::UnknownFlags(flag_bits))?;
    let entry = match c.u32()? {
        NO_ENTRY => None,
        index => Some(index),
    };
    Ok(Header {
        version_major,
        version_minor,
        platform,
        arch,
        flags,
        entry,
        section_count: c.u32()?,
        section_table_offset: c.u64()?,
        file_size: c.u64()?,
        source_hash: c.array()?,
        module_hash: c.array()?,
    })
}

/// Reads and fully validates an SMF file. `Ok` means every offset, size,
/// index and count in the returned module is consistent (see
/// [`Module::validate`]).
pub fn read(bytes: &[u8]) -> Result<Module, SmfError> {
    read_file(bytes).map(|file| file.module)
}

pub(crate) fn read_file(bytes: &[u8]) -> Result<ParsedFile, SmfError> {
    let header = read_header(bytes)?;
    if header.file_size != bytes.len() as u64 {
        return Err(SmfError::FileSize { stored: header.file_size, actual: bytes.len() });
    }
    let computed = module_hash(bytes);
    if computed != header.module_hash {
        return Err(SmfError::ModuleHash { stored: header.module_hash, computed });
    }
    let sections = read_section_table(bytes, &header)?;
    let module = decode_module(bytes, &header, &sections)?;
    module.validate()?;
    Ok(ParsedFile { header, sections, module })
}

/// XXH3-128 of the file with the module hash field read as zeros, in the
/// field's first 16 bytes (little-endian); the other 16 are zero.
pub(crate) fn module_hash(bytes: &[u8]) -> [u8; 32] {
    let hash_field = header::MODULE_HASH..header::MODULE_HASH + 32;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(bytes.get(..hash_field.start).unwrap_or(bytes));
    hasher.update(&[0; 32]);
    hasher.update(bytes.get(hash_field.end..).unwrap_or(&[]));
    let mut field = [0; 32];
    field[..16].copy_from_slice(&hasher.digest128().to_le_bytes());
    field
}

/// Decodes and checks the section table. After `Ok`, every section lies
/// inside `bytes`, no two sections (nor a section and the header or table)
/// overlap, each known type appears exactly once with its canonical name,
/// flags and sizes, and every name is a valid string.
pub(crate) fn read_section_table(bytes: &[u8], header: &Header) -> Result<Vec<SectionHeader>, SmfError> {
    let file_size = bytes.len();
    let table_bounds =
        SmfError::SectionTableBounds { offset: header.section_table_offset, count: header.section_count, file_size };
    let table_size = u64::from(header.section_count) * SECTION_ENTRY_SIZE as u64;
    let table_end = header.section_table_offset.checked_add(table_size).ok_or_else(|| table_bounds.clone())?;
    if header.section_table_offset < HEADER_SIZE as u64 {
        return Err(table_bounds);
    }
    let table = usize::try_from(header.section_table_offset)
        .ok()
        .zip(usize::try_from(table_end).ok())
        .and_then(|(start, end)| bytes.get(start..end))
        .ok_or(table_bounds)?;

    let mut raw_names = Vec::with_capacity(header.section_count as usize);
    let mut sections = Vec::with_capacity(header.section_count as usize);
    for (index, entry) in table.chunks_exact(SECTION_ENTRY_SIZE).enumerate() {
        let mut c = Cursor::new(entry, "section table");
        let type_code = c.u32()?;
        let flag_bits = c.u32()?;
        let section = SectionHeader {
            section_type: SectionType::from_code(type_code),
            type_code,
            flags: SectionFlags::from_bits_retain(flag_bits),
            offset: c.u64()?,
            size: c.u64()?,
            virtual_size: c.u64()?,
            alignment: c.u32()?,
            name: String::new(),
        };
        raw_names.push((c.u32()?, c.u32()?));
        if c.u32()? != 0 {
            return Err(SmfError::Reserved { item: Item::Section(index) });
        }
        check_section(index, &section, file_size, header, table_end)?;
        sections.push(section);
    }

    check_sections_disjoint(&sections)?;
    let strings_index = find_section(&sections, SectionType::Strings)?;
    // Known types appear exactly once.
    for t in SectionType::ALL {
        find_section(&sections, t)?;
    }
    let strings = section_bytes(bytes, &sections[strings_index]);
    for (index, (section, (offset, len))) in sections.iter_mut().zip(raw_names).enumerate() {
        section.name = string(strings, offset, len, Item::Section(index))?;
        if let Some(t) = section.section_type
            && section.name != t.name()
        {
            return Err(SmfError::SectionName { index, found: section.name.clone(), expected: t.name() });
        }
    }
    Ok(sections)
}

fn check_section(
    index: usize,
    section: &SectionHeader,
    file_size: usize,
    header: &Header,
    table_end: u64,
) -> Result<(), SmfError> {
    if section.flags.bits() & !7 != 0 {
        return Err(SmfError::SectionFlags { index, flags: section.flags.bits() });
    }
    let max_align = match section.section_type {
        Some(t) if t.is_loadable() => MAX_LOADABLE_ALIGN,
        _ => MAX_ALIGN,
    };
    let align = u64::from(section.alignment);
    if !align.is_power_of_two() || align > max_align {
        return Err(SmfError::SectionAlignment {
            index,
            name: section.label(),
            align: section.alignment,
            max: max_align,
        });
    }
    if !range_fits(section.offset, section.size, file_size as u64) {
        return Err(SmfError::SectionBounds {
            index,
            name: section.label(),
            offset: section.offset,
            size: section.size,
            file_size,
        });
    }
    if section.size > 0 {
        // In bounds, so the end does not overflow.
        let end = section.offset + section.size;
        let overlaps = |start: u64, stop: u64| section.offset < stop && start < end;
        if overlaps(0, HEADER_SIZE as u64) || overlaps(header.section_table_offset, table_end) {
            return Err(SmfError::SectionOverlapsHeader { index, name: section.label() });
        }
    }
    let Some(t) = section.section_type else {
        return Ok(());
    };
    if section.flags != t.flags() {
        return Err(SmfError::SectionFlagsMismatch {
            index,
            name: t.name(),
            found: section.flags,
            expected: t.flags(),
        });
    }
    if t == SectionType::Bss {
        if section.size != 0 {
            return Err(SmfError::BssHasBytes { index, size: section.size });
        }
    } else if section.virtual_size != section.size {
        return Err(SmfError::VirtualSize {
            index,
            name: t.name(),
            size: section.size,
            virtual_size: section.virtual_size,
        });
    }
    Ok(())
}

fn check_sections_disjoint(sections: &[SectionHeader]) -> Result<(), SmfError> {
    let mut ranges: Vec<(u64, u64, usize)> = sections
        .iter()
        .enumerate()
        .filter(|(_, s)| s.size > 0)
        // Bounds were checked, so offset + size does not overflow.
        .map(|(i, s)| (s.offset, s.offset + s.size, i))
        .collect();
    ranges.sort_unstable();
    for pair in ranges.windows(2) {
        let ((_, first_end, first), (second_start, _, second)) = (pair[0], pair[1]);
        if second_start < first_end {
            let (first, second) = (first.min(second), first.max(second));
            return Err(SmfError::SectionsOverlap {
                first,
                first_name: sections[first].label(),
                second,
                second_name: sections[second].label(),
            });
        }
    }
    Ok(())
}

/// Index of the one section of type `t`.
fn find_section(sections: &[SectionHeader], t: SectionType) -> Result<usize, SmfError> {
    let mut found = sections.iter().enumerate().filter(|(_, s)| s.section_type == Some(t)).map(|(i, _)| i);
    let first = found.next().ok_or(SmfError::MissingSection(t.name()))?;
    if let Some(second) = found.next() {
        return Err(SmfError::DuplicateSection { first, second, name: t.name() });
    }
    Ok(first)
}

/// The bytes of a section whose bounds `read_section_table` checked.
fn section_bytes<'a>(bytes: &'a [u8], section: &SectionHeader) -> &'a [u8] {
    let start = section.offset as usize;
    start.checked_add(section.size as usize).and_then(|end| bytes.get(start..end)).unwrap_or(&[])
}

fn decode_module(bytes: &[u8], header: &Header, sections: &[SectionHeader]) -> Result<Module, SmfError> {
    // `read_section_table` guarantees each known type is present once.
    let get = |t: SectionType| {
        sections
            .iter()
            .find(|s| s.section_type == Some(t))
            .map(|s| (section_bytes(bytes, s), s))
            .ok_or(SmfError::MissingSection(t.name()))
    };
    let strings = get(SectionType::Strings)?.0;
    let (imports, abi_version) = decode_imports(get(SectionType::Imports)?.0, strings)?;
    Ok(Module {
        flags: header.flags,
        platform: header.platform,
        arch: header.arch,
        entry: header.entry,
        source_hash: header.source_hash,
        code: get(SectionType::Text)?.0.to_vec(),
        rodata: get(SectionType::Rodata)?.0.to_vec(),
        data: get(SectionType::Data)?.0.to_vec(),
        bss_size: get(SectionType::Bss)?.1.virtual_size,
        symbols: decode_symbols(get(SectionType::Symbols)?.0, strings)?,
        relocations: decode_relocations(get(SectionType::Relocations)?.0)?,
        abi_version,
        imports,
        files: decode_files(get(SectionType::Files)?.0, strings)?,
        line_table: decode_lines(get(SectionType::Lines)?.0)?,
        traps: decode_traps(get(SectionType::Traps)?.0)?,
        stack_maps: decode_stack_maps(get(SectionType::StackMaps)?.0)?,
    })
}

/// Splits a table of fixed-size entries, refusing a ragged tail.
fn entries(bytes: &[u8], entry_size: usize, t: SectionType) -> Result<std::slice::ChunksExact<'_, u8>, SmfError> {
    if !bytes.len().is_multiple_of(entry_size) {
        return Err(SmfError::TableSize { name: t.name(), size: bytes.len() as u64, entry_size });
    }
    Ok(bytes.chunks_exact(entry_size))
}

fn decode_symbols(bytes: &[u8], strings: &[u8]) -> Result<Vec<Symbol>, SmfError> {
    let name = SectionType::Symbols.name();
    let mut symbols = Vec::with_capacity(bytes.len() / SYMBOL_ENTRY_SIZE);
    for (index, entry) in entries(bytes, SYMBOL_ENTRY_SIZE, SectionType::Symbols)?.enumerate() {
        let item = Item::Symbol(index);
        let mut c = Cursor::new(entry, name);
        let symbol_name = string(strings, c.u32()?, c.u32()?, item)?;
        let stored_hash = c.u64()?;
        let computed_hash = fnv1a(symbol_name.as_bytes());
        if stored_hash != computed_hash {
            return Err(SmfError::NameHash { index, name: symbol_name, stored: stored_hash, computed: computed_hash });
        }
        let kind = match c.u8()? {
            codes::SYMBOL_FUNCTION => SymbolKind::Function,
            codes::SYMBOL_DATA => SymbolKind::Data,
            other => return Err(unknown_code(item, "kind", other)),
        };
        let binding = match c.u8()? {
            codes::BINDING_LOCAL => Binding::Local,
            codes::BINDING_GLOBAL => Binding::Global,
            other => return Err(unknown_code(item, "binding", other)),
        };
        let section = decode_section_kind(c.u8()?, item)?;
        if c.u8()? != 0 || c.u32()? != 0 {
            return Err(SmfError::Reserved { item });
        }
        symbols.push(Symbol {
            name: symbol_name,
            kind,
            binding,
            section,
            offset: c.u64()?,
            size: c.u64()?,
            content_hash: c.array()?,
        });
    }
    Ok(symbols)
}

fn decode_relocations(bytes: &[u8]) -> Result<Vec<Relocation>, SmfError> {
    let name = SectionType::Relocations.name();
    let mut relocations = Vec::with_capacity(bytes.len() / RELOCATION_ENTRY_SIZE);
    for (index, entry) in entries(bytes, RELOCATION_ENTRY_SIZE, SectionType::Relocations)?.enumerate() {
        let item = Item::Relocation(index);
        let mut c = Cursor::new(entry, name);
        let offset = c.u64()?;
        let addend = c.u64()? as i64;
        let target_index = c.u32()?;
        let section = decode_section_kind(c.u8()?, item)?;
        let target = match c.u8()? {
            codes::TARGET_SYMBOL => RelocTarget::Symbol(target_index),
            codes::TARGET_IMPORT => RelocTarget::Import(target_index),
            other => return Err(unknown_code(item, "target kind", other)),
        };
        let kind = match c.u8()? {
            codes::RELOC_ABS64 => RelocKind::Abs64,
            codes::RELOC_PC32 => RelocKind::Pc32,
            codes::RELOC_PLT32 => RelocKind::Plt32,
            other => return Err(unknown_code(item, "relocation kind", other)),
        };
        if c.u8()? != 0 {
            return Err(SmfError::Reserved { item });
        }
        relocations.push(Relocation { section, offset, target, kind, addend });
    }
    Ok(relocations)
}

fn decode_imports(bytes: &[u8], strings: &[u8]) -> Result<(Vec<String>, u32), SmfError> {
    let name = SectionType::Imports.name();
    let mut c = Cursor::new(bytes, name);
    let abi_version = c.u32()?;
    let count = c.u32()?;
    let needed = IMPORTS_HEADER_SIZE as u64 + u64::from(count) * STRING_REF_SIZE as u64;
    if needed != bytes.len() as u64 {
        return Err(SmfError::TableCount { name, count, needed, size: bytes.len() as u64 });
    }
    let mut imports = Vec::with_capacity(count as usize);
    for index in 0..count as usize {
        imports.push(string(strings, c.u32()?, c.u32()?, Item::Import(index))?);
    }
    Ok((imports, abi_version))
}

fn decode_files(bytes: &[u8], strings: &[u8]) -> Result<Vec<String>, SmfError> {
    let name = SectionType::Files.name();
    let mut files = Vec::with_capacity(bytes.len() / STRING_REF_SIZE);
    for (index, entry) in entries(bytes, STRING_REF_SIZE, SectionType::Files)?.enumerate() {
        let mut c = Cursor::new(entry, name);
        files.push(string(strings, c.u32()?, c.u32()?, Item::File(index))?);
    }
    Ok(files)
}

/// The line table (see `lines_payload` in the writer): a count, then four
/// LEB128 numbers per entry, seven for inlined code.
fn decode_lines(bytes: &[u8]) -> Result<Vec<LineEntry>, SmfError> {
    let name = SectionType::Lines.name();
    let mut c = Cursor::new(bytes, name);
    let count = c.u32()?;
    if c.u32()? != 0 {
        return Err(SmfError::SectionReserved { name });
    }
    // Each entry takes at least four bytes; a bigger count is refused below
    // as truncation, without reserving memory for it first.
    let mut lines = Vec::with_capacity((count as usize).min(bytes.len() / 4));
    let (mut offset, mut line) = (0i64, 0i64);
    for index in 0..count as usize {
        let item = Item::LineEntry(index);
        let out_of_range = |problem| SmfError::Encoding { item, problem };
        offset += unzigzag(c.varint(item)?);
        let file_and_flag = c.varint(item)?;
        line += unzigzag(c.varint(item)?);
        let column = c.varint(item)?;
        let u32_of = |n: u64, what| u32::try_from(n).map_err(|_| out_of_range(what));
        let inlined = match file_and_flag & 1 {
            0 => None,
            _ => Some(InlinedCall {
                function: u32_of(c.varint(item)?, "the inlined function is outside 0..2^32")?,
                line: u32_of(c.varint(item)?, "the inlined call's line is outside 0..2^32")?,
                column: u32_of(c.varint(item)?, "the inlined call's column is outside 0..2^32")?,
            }),
        };
        lines.push(LineEntry {
            code_offset: u32::try_from(offset).map_err(|_| out_of_range("the code offset is outside 0..2^32"))?,
            file: u32_of(file_and_flag >> 1, "the file index is outside 0..2^32")?,
            line: u32::try_from(line).map_err(|_| out_of_range("the line is outside 0..2^32"))?,
            column: u32_of(column, "the column is outside 0..2^32")?,
            inlined,
        });
    }
    if c.pos != bytes.len() {
        return Err(SmfError::TrailingBytes { name, count, extra: bytes.len() - c.pos });
    }
    Ok(lines)
}

/// The inverse of the writer's zigzag: 0, 1, 2, 3, ... to 0, -1, 1, -2, ...
fn unzigzag(n: u64) -> i64 {
    (n >> 1) as i64 ^ -((n & 1) as i64)
}

fn decode_traps(bytes: &[u8]) -> Result<Vec<TrapEntry>, SmfError> {
    let name = SectionType::Traps.name();
    let mut traps = Vec::with_capacity(bytes.len() / TRAP_ENTRY_SIZE);
    for (index, entry) in entries(bytes, TRAP_ENTRY_SIZE, SectionType::Traps)?.enumerate() {
        let mut c = Cursor::new(entry, name);
        let code_offset = c.u32()?;
        let code = c.u8()?;
        if c.array::<3>()? != [0; 3] {
            return Err(SmfError::Reserved { item: Item::Trap(index) });
        }
        traps.push(TrapEntry { code_offset, code });
    }
    Ok(traps)
}

fn decode_stack_maps(bytes: &[u8]) -> Result<Vec<StackMapEntry>, SmfError> {
    let name = SectionType::StackMaps.name();
    let mut c = Cursor::new(bytes, name);
    let count = c.u32()?;
    if c.u32()? != 0 {
        return Err(SmfError::SectionReserved { name });
    }
    // Each entry takes at least its head, which bounds a lying count.
    let room = bytes.len().saturating_sub(STACK_MAPS_HEADER_SIZE) / STACK_MAP_ENTRY_HEAD_SIZE;
    let mut maps = Vec::with_capacity((count as usize).min(room));
    for _ in 0..count {
        let code_offset = c.u32()?;
        let frame_size = c.u32()?;
        let slot_count = c.u32()? as usize;
        let slot_bytes = c.take(slot_count.saturating_mul(4))?;
        let slots = slot_bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        maps.push(StackMapEntry { code_offset, frame_size, slots });
    }
    if c.pos != bytes.len() {
        return Err(SmfError::TableCount { name, count, needed: c.pos as u64, size: bytes.len() as u64 });
    }
    Ok(maps)
}

fn decode_section_kind(code: u8, item: Item) -> Result<SectionKind, SmfError> {
    SectionType::from_code(u32::from(code))
        .and_then(SectionKind::from_section_type)
        .ok_or_else(|| unknown_code(item, "section", code))
}

fn unknown_code(item: Item, field: &'static str, value: u8) -> SmfError {
    SmfError::UnknownCode { item, field, value: u32::from(value) }
}

/// The string at `offset..offset + len` of the string table.
fn string(strings: &[u8], offset: u32, len: u32, item: Item) -> Result<String, SmfError> {
    let start = offset as usize;
    // `let else`, not `ok_or`: the error value is built only on error.
    let Some(bytes) = start.checked_add(len as usize).and_then(|end| strings.get(start..end)) else {
        return Err(SmfError::StringBounds { item, offset, len, table_size: strings.len() });
    };
    std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| SmfError::StringUtf8 { item, offset })
}

/// Little-endian fields read one after another from a slice; running off
/// the end is an error naming the section, never a panic.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    section: &'static str,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8], section: &'static str) -> Cursor<'a> {
        Cursor { bytes, pos: 0, section }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], SmfError> {
        // `let else`, not `ok_or`: building and dropping an unused error for
        // every field was a third of the time to load a big module.
        let Some(slice) = self.pos.checked_add(n).and_then(|end| self.bytes.get(self.pos..end)) else {
            return Err(SmfError::Truncated {
                name: self.section,
                offset: self.pos,
                needed: n,
                size: self.bytes.len(),
            });
        };
        self.pos += n;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SmfError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// An unsigned LEB128 number of at most [`MAX_VARINT_LEN`] bytes.
    fn varint(&mut self, item: Item) -> Result<u64, SmfError> {
        let mut value = 0;
        for i in 0..MAX_VARINT_LEN {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(SmfError::Encoding { item, problem: "a number is longer than 5 bytes" })
    }

    fn u8(&mut self) -> Result<u8, SmfError> {
        Ok(u8::from_le_bytes(self.array()?))
    }

    fn u16(&mut self) -> Result<u16, SmfError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, SmfError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, SmfError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{patched, rehash, sample_module, section, section_entry_offset};
    use crate::write::write;

    fn sample_bytes() -> Vec<u8> {
        write(&sample_module())
    }

    fn put(bytes: &mut [u8], offset: usize, value: &[u8]) {
        bytes[offset..offset + value.len()].copy_from_slice(value);
    }

    /// File offset of the start of section `t`.
    fn start_of(bytes: &[u8], t: SectionType) -> usize {
        section(bytes, t).1.offset as usize
    }

    /// File offset of field `field` of the section table entry for `t`.
    fn entry_field(bytes: &[u8], t: SectionType, field: usize) -> usize {
        section_entry_offset(bytes, section(bytes, t).0) + field
    }

    /// Applies `edit` to the sample file, re-hashes it and reads it; the
    /// error message must contain `expected`.
    fn assert_refused(edit: impl FnOnce(&mut Vec<u8>), expected: &str) {
        let mut bytes = sample_bytes();
        edit(&mut bytes);
        rehash(&mut bytes);
        match read(&bytes) {
            Ok(_) => panic!("accepted a file that should fail with `{expected}`"),
            Err(e) => assert!(e.to_string().contains(expected), "expected an error containing `{expected}`, got `{e}`"),
        }
    }

    #[test]
    fn refuses_bad_headers() {
        assert_refused(|b| b[0] = b'X', "not an SMF file: it starts with 58 4d 46 00");
        assert_refused(|b| put(b, header::VERSION_MAJOR, &5u16.to_le_bytes()), "unsupported SMF version 5.0");
        assert_refused(|b| put(b, header::PLATFORM, &9u16.to_le_bytes()), "unknown platform code 9");
        assert_refused(|b| put(b, header::ARCH, &0u16.to_le_bytes()), "unknown architecture code 0");
        assert_refused(|b| put(b, header::FLAGS, &0x80u32.to_le_bytes()), "unknown module flags 0x80");
        assert_refused(|b| b.push(0), "but it is");
        assert_refused(
            |b| put(b, header::SECTION_TABLE_OFFSET, &0u64.to_le_bytes()),
            "the section table (12 entries at 0x0)",
        );
        assert_refused(|b| put(b, header::SECTION_TABLE_OFFSET, &u64::MAX.to_le_bytes()), "does not fit");
        assert_refused(|b| put(b, header::SECTION_COUNT, &u32::MAX.to_le_bytes()), "does not fit");
        assert_refused(
            |b| put(b, header::ENTRY, &99u32.to_le_bytes()),
            "entry point is symbol 99, but the module has only 5 symbols",
        );
        assert_refused(
            |b| put(b, header::ENTRY, &2u32.to_le_bytes()),
            "entry point is symbol 2 (`greeting`), which is not a function",
        );
    }

    #[test]
    fn accepts_newer_minor_versions() {
        let bytes = patched(&sample_bytes(), header::VERSION_MINOR, &7u16.to_le_bytes());
        assert_eq!(read(&bytes), Ok(sample_module()));
        assert_eq!(read_header(&bytes).map(|h| h.version_minor), Ok(7));
    }

    #[test]
    fn refuses_a_wrong_module_hash() {
        let mut bytes = sample_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let err = read(&bytes).unwrap_err();
        assert!(matches!(err, SmfError::ModuleHash { .. }), "{err}");
        assert!(err.to_string().starts_with("module hash mismatch"));
    }

    #[test]
    fn refuses_bad_section_tables() {
        use SectionType::*;
        let text_offset = |b: &Vec<u8>| entry_field(b, Text, 8);
        assert_refused(
            |b| {
                let at = text_offset(b);
                let len = b.len() as u64;
                put(b, at, &len.to_le_bytes())
            },
            "section 0 (.text): bytes",
        );
        assert_refused(
            |b| {
                let at = entry_field(b, Text, 16);
                put(b, at, &u64::MAX.to_le_bytes())
            },
            "are outside the file",
        );
        assert_refused(
            |b| {
                let at = text_offset(b);
                put(b, at, &0u64.to_le_bytes())
            },
            "section 0 (.text) overlaps the header or the section table",
        );
        assert_refused(
            |b| {
                let text = start_of(b, Text) as u64;
                let at = entry_field(b, Rodata, 8);
                put(b, at, &text.to_le_bytes())
            },
            "sections 0 (.text) and 1 (.rodata) overlap",
        );
        assert_refused(
            |b| {
                let at = entry_field(b, Text, 32);
                put(b, at, &3u32.to_le_bytes())
            },
            "alignment 3 is not a power of two at most 4096",
        );
        assert_refused(
            |b| {
                let at = entry_field(b, Symbols, 32);
                put(b, at, &(1u32 << 17).to_le_bytes())
            },
            "at most 65536",
        );
        assert_refused(
            |b| {
                let at = entry_field(b, Text, 4);
                put(b, at, &7u32.to_le_bytes())
            },
            "section 0 (.text): flags are rwx, expected r-x",
        );
        assert_refused(
            |b| {
                let at = entry_field(b, Text, 4);
                put(b, at, &8u32.to_le_bytes())
            },
            "section 0: unknown flags 0x8",
        );
        assert_refused(
            |b| {
                let at = entry_field(b, Bss, 16);
                put(b, at, &8u64.to_le_bytes())
            },
            "section 3 (.bss) has 0x8 bytes in the file",
        );
        assert_refused(
            |b| {
                let at = entry_field(b, Data, 24);
                put(b, at, &9u64.to_le_bytes())
            },
            "virtual size 0x9 does not match file size 0x8",
        );
        assert_refused(
            |b| {
                let at = entry_field(b, Traps, 0);
                put(b, at, &1u32.to_le_bytes());
                put(b, at + 4, &5u32.to_le_bytes())
            },
            "sections 0 and 10 are both .text",
        );
        assert_refused(
            |b| {
                let at = entry_field(b, Traps, 0);
                put(b, at, &99u32.to_le_bytes())
            },
            "the module has no .traps section",
        );
        assert_refused(
            |b| {
                let at = entry_field(b, Text, 40);
                put(b, at, &4u32.to_le_bytes())
            },
            "section 0: is named `.tex`",
        );
        assert_refused(
            |b| {
                let at = entry_field(b, Text, 36);
                put(b, at, &u32::MAX.to_le_bytes())
            },
            "section 0: string at 0xffffffff",
        );
        assert_refused(
            |b| {
                let at = entry_field(b, Text, 44);
                put(b, at, &1u32.to_le_bytes())
            },
            "section 0: reserved bytes are not zero",
        );
    }

    #[test]
    fn refuses_bad_symbols() {
        let field = |b: &Vec<u8>, index: usize, offset: usize| {
            start_of(b, SectionType::Symbols) + index * SYMBOL_ENTRY_SIZE + offset
        };
        let name_in_strtab = |b: &Vec<u8>, name: &[u8]| {
            let start = start_of(b, SectionType::Strings);
            start + b[start..].windows(name.len()).position(|w| w == name).expect("name")
        };
        assert_refused(
            |b| {
                let at = field(b, 0, 4);
                put(b, at, &1000u32.to_le_bytes())
            },
            "symbol 0: string at",
        );
        assert_refused(
            |b| {
                let at = name_in_strtab(b, b"main");
                b[at] = 0xff
            },
            "symbol 0: string at",
        );
        assert_refused(
            |b| {
                let at = name_in_strtab(b, b"main");
                b[at + 1] = b'b'
            },
            "symbol 0 (`mbin`): stored name hash",
        );
        assert_refused(
            |b| {
                let at = field(b, 0, 16);
                b[at] = 9
            },
            "symbol 0: unknown kind code 9",
        );
        assert_refused(
            |b| {
                let at = field(b, 0, 17);
                b[at] = 0
            },
            "symbol 0: unknown binding code 0",
        );
        assert_refused(
            |b| {
                let at = field(b, 0, 18);
                b[at] = 5
            },
            "symbol 0: unknown section code 5",
        );
        assert_refused(
            |b| {
                let at = field(b, 0, 20);
                b[at] = 1
            },
            "symbol 0: reserved bytes are not zero",
        );
        assert_refused(
            |b| {
                let at = field(b, 1, 32);
                put(b, at, &0x100u64.to_le_bytes())
            },
            "symbol 1 (`helper`): bytes 0x12..+0x100 are outside section .text (size 0x1a)",
        );
        assert_refused(
            |b| {
                let at = field(b, 1, 24);
                put(b, at, &u64::MAX.to_le_bytes())
            },
            "are outside section .text",
        );
        assert_refused(
            |b| {
                let at = entry_field(b, SectionType::Symbols, 16);
                put(b, at, &55u64.to_le_bytes());
                put(b, at + 8, &55u64.to_le_bytes())
            },
            "section .symtab: size 0x37 is not a whole number of 56-byte entries",
        );
    }

    #[test]
    fn refuses_bad_relocations_and_tables() {
        use SectionType::*;
        let reloc = |b: &Vec<u8>, index: usize, offset: usize| {
            start_of(b, Relocations) + index * RELOCATION_ENTRY_SIZE + offset
        };
        assert_refused(
            |b| {
                let at = reloc(b, 0, 0);
                put(b, at, &0x120u64.to_le_bytes())
            },
            "relocation 0: offset 0x120 (+4 bytes) is outside section .text (size 0x1a)",
        );
        assert_refused(
            |b| {
                let at = reloc(b, 0, 0);
                put(b, at, &u64::MAX.to_le_bytes())
            },
            "is outside section .text",
        );
        assert_refused(
            |b| {
                let at = reloc(b, 0, 16);
                put(b, at, &99u32.to_le_bytes())
            },
            "relocation 0: target symbol 99 does not exist (there are 5)",
        );
        assert_refused(
            |b| {
                let at = reloc(b, 1, 16);
                put(b, at, &2u32.to_le_bytes())
            },
            "relocation 1: target import 2 does not exist (there are 2)",
        );
        assert_refused(
            |b| {
                let at = reloc(b, 0, 20);
                b[at] = 2
            },
            "relocation 0: patches .rodata",
        );
        assert_refused(
            |b| {
                let at = reloc(b, 0, 21);
                b[at] = 3
            },
            "relocation 0: unknown target kind code 3",
        );
        assert_refused(
            |b| {
                let at = reloc(b, 0, 22);
                b[at] = 0
            },
            "relocation 0: unknown relocation kind code 0",
        );
        assert_refused(
            |b| {
                let at = start_of(b, Imports) + 4;
                put(b, at, &1000u32.to_le_bytes())
            },
            "section .imports: 1000 entries need 0x1f48 bytes, but the section has 0x18",
        );
        // The sample's line table: count 4, reserved 0, then per entry the
        // zigzag code offset difference, file << 1 | inlined, zigzag line
        // difference and column, and for inlined code the function, line
        // and column of the call:
        // 00 00 02 01 | 0a 01 02 05 01 01 09 | 1a 02 10 03 | 0c 02 02 07.
        let lines = |b: &mut Vec<u8>, at: usize, value: &[u8]| {
            let at = start_of(b, Lines) + at;
            put(b, at, value)
        };
        assert_refused(|b| lines(b, 9, &[18]), "line entry 0: file 9 does not exist (there are 2)");
        assert_refused(|b| lines(b, 16, &[2]), "line entry 1: inlined function 2 is not a function symbol");
        assert_refused(|b| lines(b, 16, &[9]), "line entry 1: inlined function 9 is not a function symbol");
        assert_refused(|b| lines(b, 12, &[52]), "line entry 1: code offset 0x1a is outside .text (size 0x1a)");
        assert_refused(
            |b| lines(b, 19, &[3]),
            "line entry 2: code offset 0x3 is out of order (previous entry is at 0x5)",
        );
        assert_refused(|b| lines(b, 8, &[1]), "line entry 0: the code offset is outside 0..2^32");
        assert_refused(|b| lines(b, 8, &[0x80; 5]), "line entry 0: a number is longer than 5 bytes");
        assert_refused(|b| lines(b, 0, &[5]), "section .lines: 1 more bytes needed at offset 0x1b");
        assert_refused(|b| lines(b, 0, &[3]), "section .lines: 4 bytes follow its 3 entries");
        assert_refused(|b| lines(b, 4, &[1]), "section .lines: the reserved field of its header is not zero");
        assert_refused(
            |b| {
                let at = start_of(b, Traps) + 5;
                b[at] = 1
            },
            "trap 0: reserved bytes are not zero",
        );
        assert_refused(
            |b| {
                let at = start_of(b, StackMaps);
                put(b, at, &u32::MAX.to_le_bytes())
            },
            "section .stackmaps: 4 more bytes needed at offset 0x1c, but the section ends at 0x1c",
        );
        assert_refused(
            |b| {
                let at = start_of(b, StackMaps) + 16;
                put(b, at, &u32::MAX.to_le_bytes())
            },
            "section .stackmaps: 17179869180 more bytes needed",
        );
        assert_refused(
            |b| {
                let at = start_of(b, StackMaps);
                put(b, at, &0u32.to_le_bytes())
            },
            "section .stackmaps: 0 entries need 0x8 bytes, but the section has 0x1c",
        );
        assert_refused(
            |b| {
                let at = start_of(b, StackMaps) + 4;
                b[at] = 1
            },
            "section .stackmaps: the reserved field",
        );
    }

    /// Invariants `Module::validate` adds, checked through the writer and
    /// the reader.
    #[test]
    fn refuses_inconsistent_modules() {
        fn refused(edit: impl FnOnce(&mut Module), expected: &str) {
            let mut module = sample_module();
            edit(&mut module);
            let err = read(&write(&module)).expect_err(expected);
            assert!(err.to_string().contains(expected), "expected `{expected}`, got `{err}`");
            assert_eq!(module.validate(), Err(err));
        }
        refused(|m| m.entry = None, "marked EXECUTABLE but has no entry point");
        refused(
            |m| m.symbols[0].section = SectionKind::Data,
            "symbol 0 (`main`): a function symbol cannot be in .data",
        );
        refused(
            |m| m.symbols[2].section = SectionKind::Text,
            "symbol 2 (`greeting`): a data symbol cannot be in .text",
        );
        refused(|m| m.symbols[2].content_hash[3] = 1, "data symbols must have a zero content hash");
        refused(
            |m| m.symbols[4].offset = 9,
            "symbol 4 (`counter`): bytes 0x9..+0x8 are outside section .bss (size 0x10)",
        );
        refused(|m| m.symbols[1].name = String::new(), "symbol 1: name is empty");
        refused(
            |m| {
                m.symbols[1].binding = Binding::Global;
                m.symbols[1].name = "main".into()
            },
            "symbols 0 and 1 are both global and named `main`",
        );
        refused(|m| m.symbols[1].offset = 17, "functions `main` and `helper` overlap");
        refused(
            |m| m.relocations[2].offset = 1,
            "relocation 2: offset 0x1 (+8 bytes) is outside section .data (size 0x8)",
        );
        refused(|m| m.imports[1] = String::new(), "import 1: name is empty");
        refused(|m| m.traps.push(TrapEntry { code_offset: 24, code: 1 }), "trap 1: code offset 0x18 is out of order");
        refused(|m| m.traps[0].code_offset = 26, "trap 0: code offset 0x1a is outside .text");
        refused(|m| m.stack_maps[0].code_offset = 27, "stack map 0: code offset 0x1b is outside .text (size 0x1a)");
        refused(|m| m.stack_maps[0].slots = vec![8, 0], "stack map 0: slot 0x0 is not after the previous slot");
        refused(
            |m| m.stack_maps[0].slots = vec![9],
            "stack map 0: 8-byte slot at 0x9 is outside the frame (size 0x10)",
        );
        refused(|m| m.stack_maps.push(m.stack_maps[0].clone()), "stack map 1: code offset 0x5 is out of order");
    }

    #[test]
    fn accepts_edge_cases() {
        let mut module = sample_module();
        // A stack map at the very end of the code (a final call's return address).
        module.stack_maps[0].code_offset = module.code.len() as u32;
        // Line entries may share an offset; local names may repeat.
        module.line_table.insert(1, module.line_table[1]);
        module.symbols.push(Symbol { binding: Binding::Local, ..module.symbols[2].clone() });
        assert_eq!(read(&write(&module)), Ok(module));
    }

    #[test]
    fn refuses_every_truncation() {
        let bytes = sample_bytes();
        for len in 0..bytes.len() {
            let err = read(&bytes[..len]).expect_err("truncated file accepted");
            if len < HEADER_SIZE {
                assert_eq!(err, SmfError::TooShort { len, needed: HEADER_SIZE });
            } else {
                assert!(matches!(err, SmfError::FileSize { .. }), "{len}: {err}");
            }
        }
    }

    #[test]
    fn refuses_every_flipped_byte() {
        let bytes = sample_bytes();
        for offset in 0..bytes.len() {
            let mut corrupt = bytes.clone();
            corrupt[offset] ^= 0x10;
            assert!(read(&corrupt).is_err(), "flip at {offset:#x} accepted");
        }
    }

    /// Every byte set to a few values, with the hash recomputed so the
    /// validator itself sees the damage: it may accept or refuse, but must
    /// not panic, and what it accepts must load (never run) without panicking.
    #[test]
    fn survives_every_rehashed_corruption() {
        let bytes = sample_bytes();
        let resolve = |_: &str| Some(0x1000usize);
        let mut accepted = 0;
        for offset in 0..bytes.len() {
            for value in [0x00, 0x01, 0x7f, 0x80, 0xff, bytes[offset] ^ 0x04] {
                let corrupt = patched(&bytes, offset, &[value]);
                if let Ok(module) = read(&corrupt) {
                    accepted += 1;
                    let _ = crate::load_module(module, &resolve, 3);
                }
                let _ = read_header(&corrupt);
            }
        }
        // Changes to code, data, hashes and padding are still valid modules.
        assert!(accepted > 0);
    }

    #[test]
    fn reads_the_header_from_a_prefix() {
        let bytes = sample_bytes();
        let header = read_header(&bytes[..HEADER_SIZE]).expect("header");
        assert_eq!(header.source_hash, [0xab; 32]);
        assert_eq!(header.arch, Arch::X86_64);
        assert_eq!(header.entry, Some(0));
        assert_eq!(header.file_size, bytes.len() as u64);
        assert_eq!(
            read_header(&bytes[..10]).unwrap_err().to_string(),
            "file is 10 bytes, too short for the 104-byte SMF header"
        );
    }
}
