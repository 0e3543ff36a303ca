//! Modules and byte-patching helpers shared by the tests.

use crate::format::header;
use crate::read::{SectionHeader, module_hash, read_header, read_section_table};
use crate::{
    Arch, Binding, Flags, InlinedCall, LineEntry, Module, Platform, RelocKind, RelocTarget, Relocation, SectionKind,
    SectionType, StackMapEntry, Symbol, SymbolKind, TrapEntry,
};

pub fn function(name: &str, offset: u64, size: u64) -> Symbol {
    Symbol {
        name: name.to_owned(),
        kind: SymbolKind::Function,
        binding: Binding::Global,
        section: SectionKind::Text,
        offset,
        size,
        content_hash: [name.len() as u8; 16],
    }
}

pub fn data_symbol(name: &str, section: SectionKind, offset: u64, size: u64) -> Symbol {
    Symbol {
        name: name.to_owned(),
        kind: SymbolKind::Data,
        binding: Binding::Local,
        section,
        offset,
        size,
        content_hash: [0; 16],
    }
}

pub fn reloc(section: SectionKind, offset: u64, target: RelocTarget, kind: RelocKind, addend: i64) -> Relocation {
    Relocation { section, offset, target, kind, addend }
}

/// A valid module with something in every table (its code is not meant to
/// run: see the loader tests for modules that do).
pub fn sample_module() -> Module {
    let mut code = vec![0xe8, 0, 0, 0, 0]; // call helper
    code.extend([0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0]); // movabs rax, rt_print_i64
    code.extend([0xff, 0xd0, 0xc3]); // call rax; ret
    code.extend([0xb8, 0x2a, 0, 0, 0, 0xc3, 0x0f, 0x0b]); // helper: mov eax, 42; ret; ud2
    Module {
        flags: Flags::EXECUTABLE | Flags::DEBUG_INFO,
        platform: Platform::Linux,
        arch: Arch::X86_64,
        entry: Some(0),
        source_hash: [0xab; 32],
        code,
        rodata: b"hello\0\0\0".to_vec(),
        data: vec![0; 8],
        bss_size: 16,
        symbols: vec![
            function("main", 0, 18),
            Symbol { binding: Binding::Local, ..function("helper", 18, 8) },
            data_symbol("greeting", SectionKind::Rodata, 0, 5),
            data_symbol("greeting_ptr", SectionKind::Data, 0, 8),
            data_symbol("counter", SectionKind::Bss, 0, 8),
        ],
        relocations: vec![
            reloc(SectionKind::Text, 1, RelocTarget::Symbol(1), RelocKind::Plt32, -4),
            reloc(SectionKind::Text, 7, RelocTarget::Import(0), RelocKind::Abs64, 0),
            reloc(SectionKind::Data, 0, RelocTarget::Symbol(2), RelocKind::Abs64, 0),
        ],
        abi_version: 3,
        imports: vec!["rt_print_i64".to_owned(), "rt_alloc".to_owned()],
        files: vec!["main.simple".to_owned(), "lib/util.simple".to_owned()],
        line_table: vec![
            LineEntry { code_offset: 0, file: 0, line: 1, column: 1, inlined: None },
            // `helper` inlined into `main`, called at line 1.
            LineEntry {
                code_offset: 5,
                file: 0,
                line: 2,
                column: 5,
                inlined: Some(InlinedCall { function: 1, line: 1, column: 9 }),
            },
            LineEntry { code_offset: 18, file: 1, line: 10, column: 3, inlined: None },
            LineEntry { code_offset: 24, file: 1, line: 11, column: 7, inlined: None },
        ],
        traps: vec![TrapEntry { code_offset: 24, code: 2 }],
        stack_maps: vec![StackMapEntry { code_offset: 5, frame_size: 16, slots: vec![0, 8] }],
    }
}

/// Recomputes the module hash after a test edited the bytes, so the reader
/// gets past the hash check to the validation under test.
pub fn rehash(bytes: &mut [u8]) {
    let hash = module_hash(bytes);
    bytes[header::MODULE_HASH..header::MODULE_HASH + 32].copy_from_slice(&hash);
}

/// `bytes` with `value` written at `offset`, re-hashed.
pub fn patched(bytes: &[u8], offset: usize, value: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[offset..offset + value.len()].copy_from_slice(value);
    rehash(&mut out);
    out
}

/// The section table entry of type `t` in a well-formed file.
pub fn section(bytes: &[u8], t: SectionType) -> (usize, SectionHeader) {
    let header = read_header(bytes).expect("header");
    let sections = read_section_table(bytes, &header).expect("section table");
    sections.into_iter().enumerate().find(|(_, s)| s.section_type == Some(t)).expect("section present")
}

/// File offset of the section table entry `index`.
pub fn section_entry_offset(bytes: &[u8], index: usize) -> usize {
    let header = read_header(bytes).expect("header");
    header.section_table_offset as usize + index * crate::format::SECTION_ENTRY_SIZE
}
