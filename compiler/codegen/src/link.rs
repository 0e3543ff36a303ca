//! Linking compiled functions into one SMF module, in two steps.
//!
//! [`object`] lays out the functions of one source file: their code
//! back to back, their relocations, literals, lines and traps, relative to
//! the object. [`link`] concatenates objects into a [`Module`]. The
//! compiler memoizes objects per file, so a link after an edit lays out one
//! file again and copies the others whole; the result is the same as if all
//! functions had been laid out in one object.
//!
//! Assumes each [`CompiledFn`] came from [`crate::compile_function`].
//! Guarantees: the same input gives an identical [`Module`] (every table is
//! built in input order or in ABI order, never in hash order), and the
//! module passes [`Module::validate`].
//!
//! Layout:
//! - `.text`: the functions in the given order, each 16-byte aligned,
//!   padded with `int3`;
//! - `.rodata`: every distinct literal once, in first-use order, each
//!   8-byte aligned: a string in `simple_abi::str_layout` form (tag
//!   `STATIC_TAG`, length, bytes), data as it is;
//! - symbols: first one `Function`/`Global` symbol per function (index `i`
//!   is function `i`), then one `Data`/`Local` symbol per literal, named
//!   `.lit.N` (a name no Simple symbol can have), covering its whole
//!   block; relocations to a literal target its symbol;
//! - imports: the runtime functions used, in `Rt` (ABI) order, by name;
//! - line table: absolute lines (`first_line + loc.line`, the first line of
//!   the function the `Loc` is in: its own or one inlined from the file,
//!   with the inlined call's position), `loc.col` as the column; traps and
//!   GC stack maps rebased to `.text` offsets (a stack map's `code_offset`
//!   is its call's return address).

use rustc_hash::FxHashMap as HashMap;

use simple_abi::{ABI_VERSION, Rt, TrapCode};
use simple_smf::{
    Arch, Binding, Flags, InlinedCall, LineEntry, Module, Platform, Relocation, SectionKind, StackMapEntry, Symbol,
    SymbolKind, TrapEntry,
};

use simple_mir::Loc;

use crate::{CompiledFn, FnReloc, Literal, RelocTarget, StackMap};

/// The functions of one source file, laid out: all offsets are relative to
/// the start of `code`, and [`RelocTarget::Literal`] indexes `literals`. Made by
/// [`object`], or read back from the compiler's cache (checksummed there);
/// [`link`] still checks the indices it follows.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Object {
    /// The functions' code, each starting at a multiple of 16, with `int3`
    /// between them (not after the last).
    code: Vec<u8>,
    functions: Vec<ObjectFn>,
    relocs: Vec<FnReloc>,
    /// The distinct literals of all functions, in first-use order.
    literals: Vec<Literal>,
    lines: Vec<ObjectLine>,
    /// Sorted by offset, at most one per offset.
    traps: Vec<(u32, TrapCode)>,
    /// Sorted by return offset (relative to `code`), at most one per offset.
    stack_maps: Vec<StackMap>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct ObjectFn {
    symbol: String,
    content_hash: [u8; 16],
    offset: u32,
    size: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct ObjectLine {
    code_offset: u32,
    /// Absolute 1-based line in the object's source file.
    line: u32,
    column: u32,
    /// For code inlined from another function of the object: that
    /// function's index in the object and the absolute position of the call.
    inlined: Option<(u32, u32, u32)>,
}

impl Object {
    /// How many functions the object holds.
    pub fn function_count(&self) -> usize {
        self.functions.len()
    }

    /// The function whose code holds `offset`, for errors.
    fn symbol_at(&self, offset: u32) -> String {
        self.functions.iter().rfind(|f| f.offset <= offset).map(|f| f.symbol.clone()).unwrap_or_default()
    }
}

/// One function to lay out in an [`object`].
#[derive(Debug, Clone, Copy)]
pub struct ObjectInput<'a> {
    pub compiled: &'a CompiledFn,
    /// Absolute 1-based line of the function's `Loc` line 0.
    pub first_line: u32,
}

/// What to link: the objects in `.text` order, each with the index into
/// `files` of its source file, and the function to run.
#[derive(Debug, Clone)]
pub struct LinkInput<'a> {
    pub objects: Vec<(&'a Object, u32)>,
    pub files: Vec<String>,
    pub entry_symbol: &'a str,
    pub source_hash: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum LinkError {
    #[error("`{caller}` calls `{target}`, which is not among the linked functions")]
    UnknownCallTarget { caller: String, target: String },
    #[error("the function symbol `{0}` is defined twice")]
    DuplicateSymbol(String),
    #[error("the entry function `{0}` is not among the linked functions")]
    MissingEntry(String),
    #[error("an object refers to source file {file}, but there are {count} files")]
    FileIndex { file: u32, count: usize },
    #[error("`{symbol}` refers to literal {index}, but it has {count}")]
    LiteralIndex { symbol: String, index: u32, count: usize },
    #[error("the module's code is larger than 4 GiB")]
    TooLarge,
    #[error("SMF does not support this machine's architecture")]
    UnsupportedHost,
}

/// Alignment of every function in `.text`.
const FUNCTION_ALIGN: usize = 16;
/// Alignment of every literal in `.rodata` (`str_layout` and descriptors
/// need 8).
const LITERAL_ALIGN: usize = 8;
/// `int3`: padding between functions traps if ever executed.
const CODE_PADDING: u8 = 0xcc;

/// Lays out `functions` in the given order.
pub fn object<'a>(functions: impl IntoIterator<Item = ObjectInput<'a>>) -> Result<Object, LinkError> {
    let functions: Vec<ObjectInput> = functions.into_iter().collect();
    let mut object = Object::default();
    let compiled = || functions.iter().map(|f| f.compiled);
    object.code.reserve_exact(compiled().map(|c| c.code.len().next_multiple_of(FUNCTION_ALIGN)).sum());
    object.functions.reserve_exact(functions.len());
    object.relocs.reserve_exact(compiled().map(|c| c.relocs.len()).sum());
    object.lines.reserve_exact(compiled().map(|c| c.lines.len()).sum());
    object.traps.reserve_exact(compiled().map(|c| c.traps.len()).sum());
    object.stack_maps.reserve_exact(compiled().map(|c| c.stack_maps.len()).sum());
    let mut literal_index: HashMap<&Literal, u32> = HashMap::default();
    let by_symbol: HashMap<&str, (u32, u32)> =
        functions.iter().enumerate().map(|(i, f)| (f.compiled.symbol.as_str(), (i as u32, f.first_line))).collect();
    for f in &functions {
        let c = f.compiled;
        pad_to(&mut object.code, FUNCTION_ALIGN, CODE_PADDING);
        let base = u32::try_from(object.code.len()).map_err(|_| LinkError::TooLarge)?;
        object.code.extend_from_slice(&c.code);
        object.functions.push(ObjectFn {
            symbol: c.symbol.clone(),
            content_hash: c.content_hash,
            offset: base,
            size: u32::try_from(c.code.len()).map_err(|_| LinkError::TooLarge)?,
        });
        // Literal indices of this function → of the object.
        let literals: Vec<u32> = c
            .literals
            .iter()
            .map(|l| {
                let next = object.literals.len() as u32;
                let index = *literal_index.entry(l).or_insert(next);
                if index == next {
                    object.literals.push(l.clone());
                }
                index
            })
            .collect();
        for r in &c.relocs {
            let target = match &r.target {
                RelocTarget::Literal(i) => {
                    RelocTarget::Literal(*literals.get(*i as usize).ok_or(LinkError::LiteralIndex {
                        symbol: c.symbol.clone(),
                        index: *i,
                        count: c.literals.len(),
                    })?)
                }
                target => target.clone(),
            };
            object.relocs.push(FnReloc { offset: base + r.offset, target, kind: r.kind, addend: r.addend });
        }
        // Code inlined from another function of the file has positions
        // relative to that function; its call's are relative to this one
        // (the compiler inlines one level).
        let inlined = |loc: &Loc| {
            let call = c.inlined.get(loc.origin.checked_sub(1)? as usize)?;
            let &(index, first_line) = by_symbol.get(call.symbol.as_str())?;
            Some((first_line + loc.line, (index, f.first_line + call.call.line, call.call.col)))
        };
        object.lines.extend(c.lines.iter().map(|(offset, loc)| {
            let (line, inlined) = match inlined(loc) {
                Some((line, call)) => (line, Some(call)),
                None => (f.first_line + loc.line, None),
            };
            ObjectLine { code_offset: base + offset, line, column: loc.col, inlined }
        }));
        for &(offset, code) in &c.traps {
            if object.traps.last().is_none_or(|&(last, _)| last < base + offset) {
                object.traps.push((base + offset, code));
            }
        }
        // Sorted and unique within a function, and each function's return
        // offsets lie after its predecessor's (at most at its end, which is
        // before this function's first call); the test only keeps the
        // module's order guaranteed, as for traps.
        for map in &c.stack_maps {
            let ret_offset = base + map.ret_offset;
            if object.stack_maps.last().is_none_or(|last| last.ret_offset < ret_offset) {
                object.stack_maps.push(StackMap { ret_offset, ..map.clone() });
            }
        }
    }
    u32::try_from(object.code.len()).map_err(|_| LinkError::TooLarge)?;
    Ok(object)
}

/// Concatenates `input.objects` into a module.
pub fn link(input: &LinkInput) -> Result<Module, LinkError> {
    let arch = Arch::host().ok_or(LinkError::UnsupportedHost)?;
    let mut module = Module::new(Platform::Linux, arch);
    module.flags.insert(Flags::EXECUTABLE);
    module.flags.insert(Flags::DEBUG_INFO);
    module.source_hash = input.source_hash;
    module.abi_version = ABI_VERSION;
    module.files = input.files.clone();
    let objects = || input.objects.iter().map(|(object, _)| *object);

    // Function symbols and their indices.
    let function_count = objects().map(|o| o.functions.len()).sum();
    let mut function_index: HashMap<&str, u32> = HashMap::default();
    function_index.reserve(function_count);
    for (i, f) in objects().flat_map(|o| &o.functions).enumerate() {
        if function_index.insert(&f.symbol, i as u32).is_some() {
            return Err(LinkError::DuplicateSymbol(f.symbol.clone()));
        }
    }
    if let Some(&(_, file)) = input.objects.iter().find(|(_, file)| *file as usize >= input.files.len()) {
        return Err(LinkError::FileIndex { file, count: input.files.len() });
    }
    let entry = *function_index
        .get(input.entry_symbol)
        .ok_or_else(|| LinkError::MissingEntry(input.entry_symbol.to_string()))?;
    module.entry = Some(entry);

    // Imports, in ABI order.
    let mut used: Vec<Rt> = objects()
        .flat_map(|o| &o.relocs)
        .filter_map(|r| match r.target {
            RelocTarget::Runtime(rt) => Some(rt),
            _ => None,
        })
        .collect();
    used.sort();
    used.dedup();
    let import_index: HashMap<Rt, u32> = used.iter().enumerate().map(|(i, rt)| (*rt, i as u32)).collect();
    module.imports = used.iter().map(|rt| rt.info().name.to_string()).collect();

    // String literals: one rodata block and symbol each, in first-use order;
    // `literal_symbols[k][i]` is the symbol of literal `i` of object `k`.
    let mut literal_symbol: HashMap<&Literal, u32> = HashMap::default();
    let mut literals: Vec<&Literal> = Vec::new();
    let literal_symbols: Vec<Vec<u32>> = objects()
        .map(|o| {
            o.literals
                .iter()
                .map(|s| {
                    *literal_symbol.entry(s).or_insert_with(|| {
                        literals.push(s);
                        (function_count + literals.len() - 1) as u32
                    })
                })
                .collect()
        })
        .collect();

    // .text, function symbols, relocations, lines, traps; sized up front, so
    // that linking a big program copies each byte once.
    module.code.reserve_exact(objects().map(|o| o.code.len().next_multiple_of(FUNCTION_ALIGN)).sum());
    module.symbols.reserve_exact(function_count + literals.len());
    module.relocations.reserve_exact(objects().map(|o| o.relocs.len()).sum());
    module.line_table.reserve_exact(objects().map(|o| o.lines.len()).sum());
    module.traps.reserve_exact(objects().map(|o| o.traps.len()).sum());
    module.stack_maps.reserve_exact(objects().map(|o| o.stack_maps.len()).sum());
    for ((o, file), literal_symbols) in input.objects.iter().zip(&literal_symbols) {
        // Function symbols come first, object by object.
        let first_function = module.symbols.len() as u32;
        pad_to(&mut module.code, FUNCTION_ALIGN, CODE_PADDING);
        let base = u32::try_from(module.code.len()).map_err(|_| LinkError::TooLarge)?;
        module.code.extend_from_slice(&o.code);
        module.symbols.extend(o.functions.iter().map(|f| Symbol {
            name: f.symbol.clone(),
            kind: SymbolKind::Function,
            binding: Binding::Global,
            section: SectionKind::Text,
            offset: u64::from(base + f.offset),
            size: u64::from(f.size),
            content_hash: f.content_hash,
        }));
        for r in &o.relocs {
            let target = match &r.target {
                RelocTarget::Function(name) => {
                    simple_smf::RelocTarget::Symbol(*function_index.get(name.as_str()).ok_or_else(|| {
                        LinkError::UnknownCallTarget { caller: o.symbol_at(r.offset), target: name.clone() }
                    })?)
                }
                // Collected from these very relocations above.
                RelocTarget::Runtime(rt) => simple_smf::RelocTarget::Import(import_index[rt]),
                RelocTarget::Literal(i) => {
                    simple_smf::RelocTarget::Symbol(*literal_symbols.get(*i as usize).ok_or_else(|| {
                        LinkError::LiteralIndex { symbol: o.symbol_at(r.offset), index: *i, count: o.literals.len() }
                    })?)
                }
            };
            module.relocations.push(Relocation {
                section: SectionKind::Text,
                offset: u64::from(base + r.offset),
                target,
                kind: r.kind,
                addend: r.addend,
            });
        }
        module.line_table.extend(o.lines.iter().map(|l| LineEntry {
            code_offset: base + l.code_offset,
            file: *file,
            line: l.line,
            column: l.column,
            inlined: l.inlined.map(|(function, line, column)| InlinedCall {
                function: first_function + function,
                line,
                column,
            }),
        }));
        // Sorted and unique within each object, and objects do not overlap.
        module
            .traps
            .extend(o.traps.iter().map(|&(offset, code)| TrapEntry { code_offset: base + offset, code: code as u8 }));
        // Likewise.
        module.stack_maps.extend(o.stack_maps.iter().map(|m| StackMapEntry {
            code_offset: base + m.ret_offset,
            frame_size: m.frame_size,
            slots: m.slots.clone(),
        }));
    }
    u32::try_from(module.code.len()).map_err(|_| LinkError::TooLarge)?;

    for (i, literal) in literals.iter().enumerate() {
        pad_to(&mut module.rodata, LITERAL_ALIGN, 0);
        let offset = module.rodata.len();
        module.rodata.extend_from_slice(&literal.bytes());
        module.symbols.push(Symbol {
            name: format!(".lit.{i}"),
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
