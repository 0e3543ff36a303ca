//! Linking compiled functions into one SMF module.
//!
//! Assumes each [`CompiledFn`] came from [`crate::compile_function`].
//! Guarantees: the same input gives an identical [`Module`] (every table is
//! built in input order or in ABI order, never in hash order), and the
//! module passes [`Module::validate`].
//!
//! Layout:
//! - `.text`: the functions in the given order, each 16-byte aligned,
//!   padded with `int3`;
//! - `.rodata`: every distinct string literal once, in first-use order,
//!   each 8-byte aligned in `simple_abi::str_layout` form (tag
//!   `STATIC_TAG`, length, bytes);
//! - symbols: first one `Function`/`Global` symbol per function (index `i`
//!   is function `i`), then one `Data`/`Local` symbol per literal, named
//!   `.str.N` (a name no Simple symbol can have), covering its whole
//!   `str_layout` block; relocations to a literal target its symbol;
//! - imports: the runtime functions used, in `Rt` (ABI) order, by name;
//! - line table: absolute lines (`first_line + loc.line`), `loc.col` as the
//!   column; traps rebased to `.text` offsets.

use rustc_hash::FxHashMap as HashMap;

use simple_abi::{ABI_VERSION, Rt, str_layout};
use simple_smf::{
    Arch, Binding, Flags, LineEntry, Module, Platform, Relocation, SectionKind, Symbol, SymbolKind, TrapEntry,
};

use crate::{CompiledFn, RelocTarget};

/// What to link: the functions in `.text` order, the source files their
/// line tables refer to, and the function to run.
#[derive(Debug, Clone)]
pub struct LinkInput<'a> {
    pub functions: Vec<LinkFn<'a>>,
    pub files: Vec<String>,
    pub entry_symbol: &'a str,
    pub source_hash: [u8; 32],
}

#[derive(Debug, Clone, Copy)]
pub struct LinkFn<'a> {
    pub compiled: &'a CompiledFn,
    /// Index into [`LinkInput::files`] of the function's source file.
    pub file: u32,
    /// Absolute 1-based line of the function's `Loc` line 0.
    pub first_line: u32,
    /// Reserved; 0.
    pub first_col_offset: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum LinkError {
    #[error("`{caller}` calls `{target}`, which is not among the linked functions")]
    UnknownCallTarget { caller: String, target: String },
    #[error("the function symbol `{0}` is defined twice")]
    DuplicateSymbol(String),
    #[error("the entry function `{0}` is not among the linked functions")]
    MissingEntry(String),
    #[error("`{symbol}` refers to source file {file}, but there are {count} files")]
    FileIndex { symbol: String, file: u32, count: usize },
    #[error("`{symbol}` refers to string literal {index}, but it has {count}")]
    StringIndex { symbol: String, index: u32, count: usize },
    #[error("the module's code is larger than 4 GiB")]
    TooLarge,
    #[error("SMF does not support this machine's architecture")]
    UnsupportedHost,
}

/// Alignment of every function in `.text`.
const FUNCTION_ALIGN: usize = 16;
/// Alignment of every literal in `.rodata` (`str_layout` needs 8).
const STRING_ALIGN: usize = 8;
/// `int3`: padding between functions traps if ever executed.
const CODE_PADDING: u8 = 0xcc;

pub fn link(input: &LinkInput) -> Result<Module, LinkError> {
    let arch = Arch::host().ok_or(LinkError::UnsupportedHost)?;
    let mut module = Module::new(Platform::Linux, arch);
    module.flags.insert(Flags::EXECUTABLE);
    module.flags.insert(Flags::DEBUG_INFO);
    module.source_hash = input.source_hash;
    module.abi_version = ABI_VERSION;
    module.files = input.files.clone();

    // Function symbols and their indices.
    let mut function_index: HashMap<&str, u32> = HashMap::default();
    for (i, f) in input.functions.iter().enumerate() {
        let symbol = f.compiled.symbol.as_str();
        if function_index.insert(symbol, i as u32).is_some() {
            return Err(LinkError::DuplicateSymbol(symbol.to_string()));
        }
        if f.file as usize >= input.files.len() {
            return Err(LinkError::FileIndex { symbol: symbol.to_string(), file: f.file, count: input.files.len() });
        }
    }
    let entry = *function_index
        .get(input.entry_symbol)
        .ok_or_else(|| LinkError::MissingEntry(input.entry_symbol.to_string()))?;
    module.entry = Some(entry);

    // Imports, in ABI order.
    let mut used: Vec<Rt> = input
        .functions
        .iter()
        .flat_map(|f| &f.compiled.relocs)
        .filter_map(|r| match r.target {
            RelocTarget::Runtime(rt) => Some(rt),
            _ => None,
        })
        .collect();
    used.sort();
    used.dedup();
    let import_index: HashMap<Rt, u32> = used.iter().enumerate().map(|(i, rt)| (*rt, i as u32)).collect();
    module.imports = used.iter().map(|rt| rt.info().name.to_string()).collect();

    // String literals: one rodata block and symbol each, in first-use order.
    let mut literal_symbol: HashMap<&str, u32> = HashMap::default();
    let mut literals: Vec<&str> = Vec::new();
    for f in &input.functions {
        for s in &f.compiled.strings {
            if !literal_symbol.contains_key(s.as_str()) {
                let index = (input.functions.len() + literals.len()) as u32;
                literal_symbol.insert(s, index);
                literals.push(s);
            }
        }
    }

    // .text, function symbols, relocations, lines, traps; sized up front, so
    // that linking a big program copies each byte once.
    let code_size = input.functions.iter().map(|f| f.compiled.code.len().next_multiple_of(FUNCTION_ALIGN)).sum();
    module.code.reserve_exact(code_size);
    module.symbols.reserve_exact(input.functions.len() + literals.len());
    module.relocations.reserve_exact(input.functions.iter().map(|f| f.compiled.relocs.len()).sum());
    module.line_table.reserve_exact(input.functions.iter().map(|f| f.compiled.lines.len()).sum());
    module.traps.reserve_exact(input.functions.iter().map(|f| f.compiled.traps.len()).sum());
    for f in &input.functions {
        let c = f.compiled;
        pad_to(&mut module.code, FUNCTION_ALIGN, CODE_PADDING);
        let start = module.code.len();
        let base = u32::try_from(start).map_err(|_| LinkError::TooLarge)?;
        module.code.extend_from_slice(&c.code);
        module.symbols.push(Symbol {
            name: c.symbol.clone(),
            kind: SymbolKind::Function,
            binding: Binding::Global,
            section: SectionKind::Text,
            offset: start as u64,
            size: c.code.len() as u64,
            content_hash: c.content_hash,
        });
        for r in &c.relocs {
            let target = match &r.target {
                RelocTarget::Function(name) => {
                    simple_smf::RelocTarget::Symbol(*function_index.get(name.as_str()).ok_or_else(|| {
                        LinkError::UnknownCallTarget { caller: c.symbol.clone(), target: name.clone() }
                    })?)
                }
                // Collected from these very relocations above.
                RelocTarget::Runtime(rt) => simple_smf::RelocTarget::Import(import_index[rt]),
                RelocTarget::Str(i) => {
                    let s = c.strings.get(*i as usize).ok_or(LinkError::StringIndex {
                        symbol: c.symbol.clone(),
                        index: *i,
                        count: c.strings.len(),
                    })?;
                    // Every literal of every function was given a symbol.
                    simple_smf::RelocTarget::Symbol(literal_symbol[s.as_str()])
                }
            };
            module.relocations.push(Relocation {
                section: SectionKind::Text,
                offset: u64::from(base) + u64::from(r.offset),
                target,
                kind: r.kind,
                addend: r.addend,
            });
        }
        for (offset, loc) in &c.lines {
            module.line_table.push(LineEntry {
                code_offset: base + offset,
                file: f.file,
                line: f.first_line + loc.line,
                column: loc.col,
            });
        }
        for (offset, code) in &c.traps {
            let code_offset = base + offset;
            if module.traps.last().is_none_or(|t| t.code_offset < code_offset) {
                module.traps.push(TrapEntry { code_offset, code: *code as u8 });
            }
        }
    }
    u32::try_from(module.code.len()).map_err(|_| LinkError::TooLarge)?;

    for (i, s) in literals.iter().enumerate() {
        pad_to(&mut module.rodata, STRING_ALIGN, 0);
        let offset = module.rodata.len();
        debug_assert_eq!(str_layout::TAG_OFFSET, 0);
        module.rodata.extend_from_slice(&str_layout::STATIC_TAG.to_le_bytes());
        module.rodata.extend_from_slice(&(s.len() as u64).to_le_bytes());
        module.rodata.extend_from_slice(s.as_bytes());
        module.symbols.push(Symbol {
            name: format!(".str.{i}"),
            kind: SymbolKind::Data,
            binding: Binding::Local,
            section: SectionKind::Rodata,
            offset: offset as u64,
            size: (module.rodata.len() - offset) as u64,
            content_hash: [0; 16],
        });
    }
    Ok(module)
}

fn pad_to(bytes: &mut Vec<u8>, align: usize, fill: u8) {
    let padded = bytes.len().next_multiple_of(align);
    bytes.resize(padded, fill);
}
