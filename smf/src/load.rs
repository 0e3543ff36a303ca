//! Loading a module into executable memory.
//!
//! The loader trusts nothing in the file: [`crate::read`] validates it
//! completely before a single byte is placed. Then it checks the target and
//! the runtime ABI version, resolves every import by name, and maps one
//! anonymous read+write region holding `.text`, `.rodata`, `.data` and
//! `.bss`, each starting on its own page. Keeping the four in one region
//! bounds the distance between any two of them by the module's size, so
//! PC-relative relocations between sections always fit (for modules under
//! 2 GiB; the loader still checks each one). After copying and relocating,
//! `.text` becomes read+execute and `.rodata` read-only; `.data` and `.bss`
//! stay read+write. No page is ever writable and executable at once.
//!
//! On x86_64 instruction fetch is coherent with data writes, so no
//! instruction cache flush is needed between patching code and running it.
//! An aarch64 loader would have to flush (`__clear_cache`) the text range
//! after relocation and before `mprotect`, and would need aarch64
//! relocation kinds; until then only x86_64 modules are loaded.

use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

use memmap2::Mmap;
use thiserror::Error;

use crate::error::SmfError;
use crate::format::{Arch, Platform};
use crate::module::{Binding, Module, RelocKind, RelocTarget, Relocation, SectionKind, StackMapEntry, Symbol};
use crate::read::read;

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("cannot open {}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot map {}: {source}", path.display())]
    Map { path: PathBuf, source: io::Error },
    /// Any other error, for a module loaded from `path`.
    #[error("{}: {source}", path.display())]
    InFile { path: PathBuf, source: Box<LoadError> },
    #[error("invalid module: {0}")]
    Invalid(#[from] SmfError),
    #[error("the module is for {platform} {arch}, but this loader runs {host}")]
    WrongTarget { platform: Platform, arch: Arch, host: &'static str },
    #[error(
        "runtime ABI version mismatch: the module was built for version {module}, but this runtime provides version {runtime}"
    )]
    AbiMismatch { module: u32, runtime: u32 },
    #[error("the module imports `{name}`, which this runtime does not provide")]
    UnknownImport { name: String },
    #[error("the module's sections need more memory than this machine can address")]
    TooLarge,
    #[error("cannot allocate {size:#x} bytes for the module: {source}")]
    Alloc { size: usize, source: io::Error },
    #[error("relocation {index} ({kind} against {target}): value {value} does not fit")]
    RelocationOverflow { index: usize, kind: RelocKind, target: String, value: i128 },
    #[error("cannot change the protection of {section}: {source}")]
    Protect { section: SectionKind, source: io::Error },
}

impl LoadError {
    /// The error without the file it happened in ([`LoadError::InFile`]),
    /// for a caller whose message names the file already.
    pub fn without_path(self) -> LoadError {
        match self {
            LoadError::InFile { source, .. } => *source,
            other => other,
        }
    }
}

/// What [`LoadedModule::locate`] knows about a code address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location<'a> {
    /// The function symbol containing the address.
    pub function: &'a str,
    pub file: &'a str,
    pub line: u32,
    pub column: u32,
    /// Set for code inlined into `function`: the position above is in
    /// this function, called from `function` at the given line and column.
    pub inlined: Option<(&'a str, u32, u32)>,
}

/// A module placed in memory, relocated and protected, ready to run.
///
/// Immutable after [`load`] returns: every method takes `&self`, reads plain
/// owned data, allocates nothing and takes no locks, so it may live in a
/// `static` and be queried from a signal handler (to turn a faulting address
/// into a source location). Dropping it unmaps the code: nothing may run
/// module code, or hold an address into it, afterwards.
#[derive(Debug)]
pub struct LoadedModule {
    module: Module,
    /// Start of the anonymous mapping holding all four sections.
    base: NonNull<u8>,
    /// Length of the mapping.
    len: usize,
    /// Absolute address ranges of `.text`, `.rodata`, `.data`, `.bss`
    /// (indexed by `SectionKind as usize`), not rounded to pages.
    sections: [Range<usize>; 4],
    /// Indices of the non-empty function symbols, sorted by offset.
    functions: Vec<usize>,
}

// SAFETY: the mapping is owned by the `LoadedModule` alone and unmapped only
// in `Drop`; after `load` returns no method mutates it or any field, so
// sharing `&LoadedModule` between threads or moving it is sound. (Module code
// may write its own `.data`/`.bss`, which the loader never reads.)
unsafe impl Send for LoadedModule {}
// SAFETY: see `Send`; all `&self` methods are read-only.
unsafe impl Sync for LoadedModule {}

/// Maps the file at `path` read-only and loads it (see [`load_bytes`]).
/// Errors carry the path.
pub fn load(
    path: &Path,
    resolve: &dyn Fn(&str) -> Option<usize>,
    runtime_abi_version: u32,
) -> Result<LoadedModule, LoadError> {
    let file = File::open(path).map_err(|source| LoadError::Open { path: path.to_owned(), source })?;
    // SAFETY: the mapping is only read while `map` lives, inside this call.
    // Another process truncating the file meanwhile could raise SIGBUS; the
    // driver replaces modules by rename, never in place, so that does not
    // happen to the files it loads.
    let map = unsafe { Mmap::map(&file) }.map_err(|source| LoadError::Map { path: path.to_owned(), source })?;
    load_bytes(&map, resolve, runtime_abi_version)
        .map_err(|e| LoadError::InFile { path: path.to_owned(), source: Box::new(e) })
}

/// Validates `bytes` as an SMF file and loads it: `resolve` gives the
/// address of each runtime symbol the module imports, and the module's ABI
/// version must equal `runtime_abi_version`.
pub fn load_bytes(
    bytes: &[u8],
    resolve: &dyn Fn(&str) -> Option<usize>,
    runtime_abi_version: u32,
) -> Result<LoadedModule, LoadError> {
    // `read` validated it.
    place(read(bytes)?, resolve, runtime_abi_version)
}

/// Loads a module already in memory; it is validated first.
pub fn load_module(
    module: Module,
    resolve: &dyn Fn(&str) -> Option<usize>,
    runtime_abi_version: u32,
) -> Result<LoadedModule, LoadError> {
    module.validate()?;
    place(module, resolve, runtime_abi_version)
}

/// Loads a validated module.
fn place(
    module: Module,
    resolve: &dyn Fn(&str) -> Option<usize>,
    runtime_abi_version: u32,
) -> Result<LoadedModule, LoadError> {
    check_target(&module)?;
    if module.abi_version != runtime_abi_version {
        return Err(LoadError::AbiMismatch { module: module.abi_version, runtime: runtime_abi_version });
    }
    let imports = module
        .imports
        .iter()
        .map(|name| resolve(name).ok_or_else(|| LoadError::UnknownImport { name: name.clone() }))
        .collect::<Result<Vec<usize>, LoadError>>()?;

    let page = page_size();
    let (offsets, len) = layout(&module, page)?;
    // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(LoadError::Alloc { size: len, source: io::Error::last_os_error() });
    }
    let Some(base) = NonNull::new(base.cast::<u8>()) else {
        return Err(LoadError::Alloc { size: len, source: io::Error::other("mmap returned a null pointer") });
    };
    let start = base.as_ptr() as usize;
    let sections = SectionKind::ALL.map(|kind| {
        let offset = offsets[kind as usize];
        // The layout fits in the mapping, so neither addition overflows.
        let size = module.section_size(kind) as usize;
        start + offset..start + offset + size
    });
    let functions = module.function_indices_by_offset();
    // From here on, `Drop` unmaps the region on every error path.
    let loaded = LoadedModule { module, base, len, sections, functions };

    {
        // SAFETY: the region is `len` bytes, mapped read+write above and
        // owned by `loaded`; this is the only reference to it.
        let region = unsafe { std::slice::from_raw_parts_mut(base.as_ptr(), len) };
        let m = &loaded.module;
        for (kind, bytes) in
            [(SectionKind::Text, &m.code), (SectionKind::Rodata, &m.rodata), (SectionKind::Data, &m.data)]
        {
            let offset = offsets[kind as usize];
            if let Some(dest) = region.get_mut(offset..offset + bytes.len()) {
                dest.copy_from_slice(bytes);
            }
        }
        for (index, reloc) in m.relocations.iter().enumerate() {
            loaded.apply(region, index, reloc, &imports)?;
        }
    }

    for (kind, protection) in
        [(SectionKind::Text, libc::PROT_READ | libc::PROT_EXEC), (SectionKind::Rodata, libc::PROT_READ)]
    {
        let range = &loaded.sections[kind as usize];
        let rounded = range.len().next_multiple_of(page);
        if rounded == 0 {
            continue;
        }
        // SAFETY: `range.start` is page-aligned (see `layout`) and the rounded
        // range lies inside the mapping, which only `loaded` uses.
        let status = unsafe { libc::mprotect(range.start as *mut libc::c_void, rounded, protection) };
        if status != 0 {
            return Err(LoadError::Protect { section: kind, source: io::Error::last_os_error() });
        }
    }
    Ok(loaded)
}

fn check_target(module: &Module) -> Result<(), LoadError> {
    const HOST: &str = if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        "linux x86_64"
    } else {
        "a platform SMF cannot load on"
    };
    let supported = cfg!(all(target_os = "linux", target_arch = "x86_64"))
        && module.platform == Platform::Linux
        && module.arch == Arch::X86_64
        && Arch::host() == Some(Arch::X86_64);
    if supported {
        Ok(())
    } else {
        Err(LoadError::WrongTarget { platform: module.platform, arch: module.arch, host: HOST })
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).ok().filter(|s| s.is_power_of_two()).unwrap_or(4096)
}

/// Offsets of the four sections within the region (each page-aligned, in
/// `SectionKind` order) and the region's length (at least one page).
fn layout(module: &Module, page: usize) -> Result<([usize; 4], usize), LoadError> {
    let mut offsets = [0; 4];
    let mut position: usize = 0;
    for kind in SectionKind::ALL {
        let size = usize::try_from(module.section_size(kind)).map_err(|_| LoadError::TooLarge)?;
        offsets[kind as usize] = position;
        let rounded = size.checked_next_multiple_of(page).ok_or(LoadError::TooLarge)?;
        position = position.checked_add(rounded).ok_or(LoadError::TooLarge)?;
    }
    // mmap(2) refuses isize-overflowing lengths anyway; refuse them by name.
    if position > isize::MAX as usize {
        return Err(LoadError::TooLarge);
    }
    Ok((offsets, position.max(page)))
}

impl LoadedModule {
    /// Patches one relocation into `region` (the whole mapping, still
    /// writable). The module was validated, so indices and offsets are in
    /// range; they are checked again anyway rather than trusted.
    fn apply(&self, region: &mut [u8], index: usize, reloc: &Relocation, imports: &[usize]) -> Result<(), LoadError> {
        let (target_address, target_name) = match reloc.target {
            RelocTarget::Symbol(i) => {
                (self.symbol_address(i), self.module.symbols.get(i as usize).map(|s| s.name.as_str()))
            }
            RelocTarget::Import(i) => {
                (imports.get(i as usize).copied(), self.module.imports.get(i as usize).map(String::as_str))
            }
        };
        let Some(target_address) = target_address else {
            return Err(SmfError::RelocationTarget {
                index,
                target: reloc.target,
                count: match reloc.target {
                    RelocTarget::Symbol(_) => self.module.symbols.len(),
                    RelocTarget::Import(_) => imports.len(),
                },
            }
            .into());
        };
        let section = &self.sections[reloc.section as usize];
        let width = reloc.kind.width() as usize;
        let region_start = self.base.as_ptr() as usize;
        let place = usize::try_from(reloc.offset)
            .ok()
            .and_then(|offset| section.start.checked_add(offset))
            .filter(|p| p.checked_add(width).is_some_and(|end| end <= section.end));
        let dest = place.and_then(|p| region.get_mut(p - region_start..p - region_start + width));
        let (Some(patch_address), Some(dest)) = (place, dest) else {
            return Err(SmfError::RelocationOutOfSection {
                index,
                offset: reloc.offset,
                width: reloc.kind.width(),
                section: reloc.section,
                section_size: section.len() as u64,
            }
            .into());
        };
        let value = target_address as i128 + i128::from(reloc.addend);
        let overflow = |value| LoadError::RelocationOverflow {
            index,
            kind: reloc.kind,
            target: target_name.unwrap_or("?").to_owned(),
            value,
        };
        match reloc.kind {
            RelocKind::Abs64 => {
                let v = u64::try_from(value).map_err(|_| overflow(value))?;
                dest.copy_from_slice(&v.to_le_bytes());
            }
            RelocKind::Pc32 | RelocKind::Plt32 => {
                let relative = value - patch_address as i128;
                let v = i32::try_from(relative).map_err(|_| overflow(relative))?;
                dest.copy_from_slice(&v.to_le_bytes());
            }
        }
        Ok(())
    }

    /// The validated module this was loaded from (line table, symbols, ...).
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Address of the entry function.
    pub fn entry(&self) -> Option<usize> {
        self.symbol_address(self.module.entry?)
    }

    /// Address of the symbol called `name`; a global symbol wins over locals
    /// of the same name.
    pub fn symbol(&self, name: &str) -> Option<usize> {
        let symbols = &self.module.symbols;
        let global = symbols.iter().position(|s| s.name == name && s.binding == Binding::Global);
        let index = global.or_else(|| symbols.iter().position(|s| s.name == name))?;
        self.symbol_address(u32::try_from(index).ok()?)
    }

    /// Address of symbol `index`.
    pub fn symbol_address(&self, index: u32) -> Option<usize> {
        let symbol = self.module.symbols.get(index as usize)?;
        let section = &self.sections[symbol.section as usize];
        section.start.checked_add(usize::try_from(symbol.offset).ok()?)
    }

    /// Addresses of `.text`.
    pub fn code_range(&self) -> Range<usize> {
        self.section_range(SectionKind::Text)
    }

    /// Addresses of a loaded section (not rounded to pages).
    pub fn section_range(&self, section: SectionKind) -> Range<usize> {
        self.sections[section as usize].clone()
    }

    /// The function containing code address `addr`.
    pub fn function_at(&self, addr: usize) -> Option<&Symbol> {
        let offset = self.code_offset(addr)? as u64;
        let symbols = &self.module.symbols;
        let after = self.functions.partition_point(|&i| symbols.get(i).is_some_and(|s| s.offset <= offset));
        let symbol = symbols.get(*self.functions.get(after.checked_sub(1)?)?)?;
        symbol.contains(offset).then_some(symbol)
    }

    /// Function and source position of code address `addr`: the last line
    /// entry at or before it, if that entry lies in the same function. For a
    /// return address, pass `addr - 1` to get the call's position.
    pub fn locate(&self, addr: usize) -> Option<Location<'_>> {
        let function = self.function_at(addr)?;
        let offset = self.code_offset(addr)?;
        let lines = &self.module.line_table;
        let after = lines.partition_point(|e| e.code_offset as usize <= offset);
        let entry = lines.get(after.checked_sub(1)?)?;
        if u64::from(entry.code_offset) < function.offset {
            return None;
        }
        let inlined = match entry.inlined {
            Some(call) => {
                Some((self.module.symbols.get(call.function as usize)?.name.as_str(), call.line, call.column))
            }
            None => None,
        };
        Some(Location {
            function: &function.name,
            file: self.module.files.get(entry.file as usize)?,
            line: entry.line,
            column: entry.column,
            inlined,
        })
    }

    /// The trap code of the trap instruction exactly at `addr`.
    pub fn trap_code(&self, addr: usize) -> Option<u8> {
        let offset = u32::try_from(self.code_offset(addr)?).ok()?;
        let traps = &self.module.traps;
        let index = traps.binary_search_by_key(&offset, |t| t.code_offset).ok()?;
        traps.get(index).map(|t| t.code)
    }

    /// The GC stack map of the call whose return address is `addr`: the
    /// frame's size and the SP offsets of the slots holding live references.
    /// `None` if no stack map has that address (the frame then holds no
    /// live references, or `addr` is no call's return address).
    pub fn stack_map(&self, addr: usize) -> Option<&StackMapEntry> {
        let code = &self.sections[SectionKind::Text as usize];
        // A return address may be the end of the code (a call that ends it).
        let offset = u32::try_from(addr.checked_sub(code.start).filter(|&o| o <= code.len())?).ok()?;
        let maps = &self.module.stack_maps;
        let index = maps.binary_search_by_key(&offset, |m| m.code_offset).ok()?;
        maps.get(index)
    }

    fn code_offset(&self, addr: usize) -> Option<usize> {
        let code = &self.sections[SectionKind::Text as usize];
        code.contains(&addr).then(|| addr - code.start)
    }
}

impl Drop for LoadedModule {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` describe the mapping created in `load_module`,
        // owned by `self` and unmapped only here.
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{data_symbol, function, reloc};
    use crate::{Flags, LineEntry, StackMapEntry, TrapEntry, write};

    const ANSWER: u64 = 0x1122_3344_5566_7788;
    const ABI: u32 = 7;

    extern "C" fn times_six(x: i64) -> i64 {
        x * 6
    }

    fn resolve(name: &str) -> Option<usize> {
        match name {
            "times_six" => Some(times_six as extern "C" fn(i64) -> i64 as usize),
            _ => None,
        }
    }

    /// Appends functions to a module's code, placing their relocations.
    struct Assembler {
        module: Module,
    }

    impl Assembler {
        fn function(&mut self, name: &str, code: &[u8], relocs: &[(u64, RelocTarget, RelocKind)]) {
            let offset = self.module.code.len() as u64;
            self.module.code.extend_from_slice(code);
            self.module.symbols.push(function(name, offset, code.len() as u64));
            for &(at, target, kind) in relocs {
                // PC-relative fields are followed by nothing else in these
                // instructions, so P + 4 is the next instruction: A = -4.
                let addend = if kind == RelocKind::Abs64 { 0 } else { -4 };
                self.module.relocations.push(reloc(SectionKind::Text, offset + at, target, kind, addend));
            }
        }
    }

    /// Hand-assembled x86_64 functions exercising every relocation kind
    /// and every section.
    fn program() -> Module {
        let mut module = Module::new(Platform::Linux, Arch::X86_64);
        module.rodata = ANSWER.to_le_bytes().to_vec();
        module.data = vec![0; 8];
        module.bss_size = 8;
        module.abi_version = ABI;
        module.imports = vec!["times_six".to_owned()];
        module.files = vec!["main.simple".to_owned()];
        module.symbols = vec![
            data_symbol("answer", SectionKind::Rodata, 0, 8),
            data_symbol("answer_ptr", SectionKind::Data, 0, 8),
            data_symbol("counter", SectionKind::Bss, 0, 8),
        ];
        module.relocations = vec![reloc(SectionKind::Data, 0, RelocTarget::Symbol(0), RelocKind::Abs64, 0)];
        let (answer, answer_ptr, counter, g) =
            (RelocTarget::Symbol(0), RelocTarget::Symbol(1), RelocTarget::Symbol(2), RelocTarget::Symbol(4));
        let mut asm = Assembler { module };
        // mov eax, 42; ret
        asm.function("forty_two", &[0xb8, 0x2a, 0, 0, 0, 0xc3], &[]); // symbol 3
        // mov eax, 41; ret
        asm.function("g", &[0xb8, 0x29, 0, 0, 0, 0xc3], &[]); // symbol 4
        // call g; add eax, 1; ret
        let call_g = [0xe8, 0, 0, 0, 0, 0x83, 0xc0, 0x01, 0xc3];
        asm.function("calls_g_pc32", &call_g, &[(1, g, RelocKind::Pc32)]);
        asm.function("calls_g_plt32", &call_g, &[(1, g, RelocKind::Plt32)]);
        // sub rsp, 8; mov edi, 7; movabs rax, times_six; call rax; add rsp, 8; ret
        asm.function(
            "calls_import",
            &[
                0x48, 0x83, 0xec, 0x08, 0xbf, 0x07, 0, 0, 0, 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xd0, 0x48,
                0x83, 0xc4, 0x08, 0xc3,
            ],
            &[(11, RelocTarget::Import(0), RelocKind::Abs64)],
        );
        // lea rax, [rip + answer]; mov rax, [rax]; ret
        let load_via = [0x48, 0x8d, 0x05, 0, 0, 0, 0, 0x48, 0x8b, 0x00, 0xc3];
        asm.function("reads_rodata", &load_via, &[(3, answer, RelocKind::Pc32)]);
        // mov rax, [rip + answer_ptr]; mov rax, [rax]; ret
        let load_through = [0x48, 0x8b, 0x05, 0, 0, 0, 0, 0x48, 0x8b, 0x00, 0xc3];
        asm.function("reads_data_ptr", &load_through, &[(3, answer_ptr, RelocKind::Pc32)]);
        // lea rax, [rip + counter]; add qword [rax], 1; mov rax, [rax]; ret
        asm.function(
            "bumps_counter",
            &[0x48, 0x8d, 0x05, 0, 0, 0, 0, 0x48, 0x83, 0x00, 0x01, 0x48, 0x8b, 0x00, 0xc3],
            &[(3, counter, RelocKind::Pc32)],
        );
        // nop; ud2
        asm.function("traps", &[0x90, 0x0f, 0x0b], &[]);
        let mut module = asm.module;
        let traps = module.symbols.last().expect("traps").offset as u32;
        module.line_table = vec![
            LineEntry { code_offset: 0, file: 0, line: 1, column: 1, inlined: None },
            LineEntry { code_offset: traps, file: 0, line: 20, column: 5, inlined: None },
            LineEntry { code_offset: traps + 1, file: 0, line: 21, column: 9, inlined: None },
        ];
        module.traps = vec![TrapEntry { code_offset: traps + 1, code: 3 }];
        let calls_g = module.symbols[5].offset as u32;
        module.stack_maps = vec![
            StackMapEntry { code_offset: calls_g + 5, frame_size: 16, slots: vec![0, 8] },
            StackMapEntry { code_offset: module.code.len() as u32, frame_size: 8, slots: vec![0] },
        ];
        module.entry = Some(3);
        module.flags = Flags::EXECUTABLE | Flags::DEBUG_INFO;
        module
    }

    fn load_program() -> LoadedModule {
        load_bytes(&write(&program()), &resolve, ABI).expect("program loads")
    }

    fn call(loaded: &LoadedModule, name: &str) -> u64 {
        let address = loaded.symbol(name).expect("symbol exists");
        // SAFETY: each test function is a complete `extern "C" fn() -> u64`
        // (or i32 in eax, with the upper half not inspected where it matters).
        let f: extern "C" fn() -> u64 = unsafe { std::mem::transmute(address) };
        f()
    }

    #[test]
    fn runs_relocated_code() {
        let loaded = load_program();
        let entry = loaded.entry().expect("entry");
        assert_eq!(Some(entry), loaded.symbol("forty_two"));
        assert_eq!(call(&loaded, "forty_two") as u32, 42);
        assert_eq!(call(&loaded, "calls_g_pc32") as u32, 42);
        assert_eq!(call(&loaded, "calls_g_plt32") as u32, 42);
        assert_eq!(call(&loaded, "calls_import"), 42);
        assert_eq!(call(&loaded, "reads_rodata"), ANSWER);
        assert_eq!(call(&loaded, "reads_data_ptr"), ANSWER);
        assert_eq!(call(&loaded, "bumps_counter"), 1);
        assert_eq!(call(&loaded, "bumps_counter"), 2);
    }

    /// No mapping of the module is ever writable and executable; each
    /// section has exactly the protection it should.
    #[test]
    fn maps_no_page_writable_and_executable() {
        let loaded = load_program();
        let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
        let region = loaded.base.as_ptr() as usize..loaded.base.as_ptr() as usize + loaded.len;
        let mappings: Vec<(Range<usize>, &str)> = maps
            .lines()
            .filter_map(|line| {
                let (range, rest) = line.split_once(' ')?;
                let (start, end) = range.split_once('-')?;
                let start = usize::from_str_radix(start, 16).ok()?;
                let end = usize::from_str_radix(end, 16).ok()?;
                Some((start..end, rest.get(..4)?))
            })
            .filter(|(range, _)| range.start < region.end && region.start < range.end)
            .collect();
        assert!(!mappings.is_empty());
        for (range, perms) in &mappings {
            assert!(!(perms.contains('w') && perms.contains('x')), "{range:x?} is {perms}");
        }
        let perms_at =
            |address: usize| mappings.iter().find(|(range, _)| range.contains(&address)).map(|(_, perms)| *perms);
        assert_eq!(perms_at(loaded.code_range().start), Some("r-xp"));
        assert_eq!(perms_at(loaded.section_range(SectionKind::Rodata).start), Some("r--p"));
        assert_eq!(perms_at(loaded.section_range(SectionKind::Data).start), Some("rw-p"));
        assert_eq!(perms_at(loaded.section_range(SectionKind::Bss).start), Some("rw-p"));
    }

    #[test]
    fn maps_addresses_back_to_source() {
        let loaded = load_program();
        let traps = loaded.symbol("traps").expect("traps");
        let ud2 = traps + 1;
        assert_eq!(loaded.trap_code(ud2), Some(3));
        assert_eq!(loaded.trap_code(traps), None);
        assert_eq!(loaded.function_at(ud2 + 1).map(|s| s.name.as_str()), Some("traps"));
        assert_eq!(loaded.function_at(ud2 + 2), None, "past the end of the code");
        assert_eq!(
            loaded.locate(ud2),
            Some(Location { function: "traps", file: "main.simple", line: 21, column: 9, inlined: None })
        );
        assert_eq!(loaded.locate(traps).map(|l| l.line), Some(20));
        let forty_two = loaded.symbol("forty_two").expect("forty_two");
        assert_eq!(loaded.locate(forty_two + 3).map(|l| l.line), Some(1));
        // `g` has no line entry of its own: the one from `forty_two` must not leak into it.
        assert_eq!(loaded.locate(loaded.symbol("g").expect("g")), None);
        assert_eq!(loaded.function_at(loaded.code_range().start.wrapping_sub(1)), None);
        assert_eq!(loaded.module().imports, ["times_six"]);
    }

    #[test]
    fn finds_stack_maps_by_return_address() {
        let loaded = load_program();
        let call_returns = loaded.symbol("calls_g_pc32").expect("calls_g_pc32") + 5;
        let map = loaded.stack_map(call_returns).expect("a map at the return address");
        assert_eq!((map.frame_size, &map.slots[..]), (16, &[0, 8][..]));
        assert_eq!(loaded.stack_map(call_returns - 1), None);
        assert_eq!(loaded.stack_map(call_returns + 1), None);
        // The end of the code is a possible return address.
        assert_eq!(loaded.stack_map(loaded.code_range().end).map(|m| m.frame_size), Some(8));
        assert_eq!(loaded.stack_map(loaded.code_range().end + 1), None);
        assert_eq!(loaded.stack_map(0), None);
    }

    #[test]
    fn refuses_a_different_abi_version() {
        let err = load_bytes(&write(&program()), &resolve, ABI + 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "runtime ABI version mismatch: the module was built for version 7, but this runtime provides version 8"
        );
    }

    #[test]
    fn refuses_an_unknown_import_by_name() {
        let mut module = program();
        module.imports.push("rt_missing".to_owned());
        let err = load_bytes(&write(&module), &resolve, ABI).unwrap_err();
        assert_eq!(err.to_string(), "the module imports `rt_missing`, which this runtime does not provide");
    }

    #[test]
    fn refuses_relocations_that_do_not_fit() {
        let mut module = program();
        module.relocations[0].target = RelocTarget::Import(0);
        module.relocations[0].addend = -(1 << 62);
        let far = |_: &str| Some(0x1000usize);
        let err = load_bytes(&write(&module), &far, ABI).unwrap_err();
        assert!(err.to_string().starts_with("relocation 0 (abs64 against times_six): value -"), "{err}");

        let mut module = program();
        let call = module.relocations.iter().position(|r| r.kind == RelocKind::Pc32).expect("pc32");
        module.relocations[call].target = RelocTarget::Import(0);
        let far = |_: &str| Some(usize::MAX - 0x1000);
        let err = load_bytes(&write(&module), &far, ABI).unwrap_err();
        assert!(err.to_string().contains("(pc32 against times_six)"), "{err}");
    }

    #[test]
    fn refuses_other_architectures() {
        let mut module = program();
        module.arch = Arch::Aarch64;
        let err = load_bytes(&write(&module), &resolve, ABI).unwrap_err();
        assert_eq!(err.to_string(), "the module is for linux aarch64, but this loader runs linux x86_64");
    }

    #[test]
    fn loads_files_and_names_them_in_errors() {
        let dir = std::env::temp_dir().join(format!("simple-smf-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let good = dir.join("good.smf");
        std::fs::write(&good, write(&program())).expect("write");
        let loaded = load(&good, &resolve, ABI).expect("loads");
        assert_eq!(call(&loaded, "calls_import"), 42);

        let empty = dir.join("empty.smf");
        std::fs::write(&empty, b"").expect("write");
        let err = load(&empty, &resolve, ABI).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}: ", empty.display())), "{err}");

        let missing = dir.join("missing.smf");
        let err = load(&missing, &resolve, ABI).unwrap_err().to_string();
        assert!(err.starts_with(&format!("cannot open {}: No such file", missing.display())), "{err}");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn loads_an_empty_module() {
        let module = Module::new(Platform::Linux, Arch::X86_64);
        let loaded = load_bytes(&write(&module), &resolve, 0).expect("loads");
        assert!(loaded.code_range().is_empty());
        assert_eq!(loaded.entry(), None);
    }

    /// Damaged modules, re-hashed so that the damage gets past the hash to
    /// every table: reading and loading return an error or a module, and
    /// never panic. A deterministic xorshift picks the damage.
    #[test]
    fn damaged_modules_are_refused_without_panicking() {
        let good = write(&program());
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let (mut loaded, mut refused) = (0, 0);
        for _ in 0..3000 {
            let mut bytes = good.clone();
            for _ in 0..1 + next(4) {
                let at = next(bytes.len());
                match next(3) {
                    0 => bytes[at] = next(256) as u8,
                    1 => bytes[at] ^= 1 << next(8),
                    _ => bytes.truncate(at.max(crate::HEADER_SIZE)),
                }
            }
            if bytes.len() >= crate::HEADER_SIZE {
                crate::testutil::rehash(&mut bytes);
            }
            match load_bytes(&bytes, &resolve, ABI) {
                Ok(_) => loaded += 1,
                Err(_) => refused += 1,
            }
        }
        // Most damage is caught; some lands in code or padding and loads.
        assert!(refused > 1000 && loaded > 0, "{refused} refused, {loaded} loaded");
    }

    #[test]
    fn can_live_in_a_static() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<LoadedModule>();
        static LOADED: std::sync::OnceLock<LoadedModule> = std::sync::OnceLock::new();
        let loaded = LOADED.get_or_init(load_program);
        let from_thread = std::thread::scope(|s| s.spawn(|| call(loaded, "forty_two")).join());
        assert_eq!(from_thread.map(|v| v as u32).ok(), Some(42));
    }
}
