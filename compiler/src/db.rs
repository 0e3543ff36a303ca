//! The Salsa database: inputs and the top-level queries of the pipeline.
//!
//! Only the driver sets inputs. Every query is a pure function of them; none
//! reads the file system, the clock or the environment. Queries that feed
//! codegen (`fn_source`, `fn_signature`, `fn_hir`, `fn_mir`, `codegen_fn`)
//! see only item-relative positions, so moving a function does not change
//! their results; absolute positions are computed by `item_bases` and used
//! only by `diagnostics` and `link_smf`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use simple_codegen::CompiledFn;
use simple_syntax::ast;

use crate::diagnostics::{Diagnostic, Level, RelDiagnostic};
use crate::hir::{self, FnHir};
use crate::items::{self, ConstTable, FileItems, FnSource, Signature};
use crate::line_index::LineIndex;
use crate::lower;

/// Options that change the generated code; part of every content hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Options {
    /// Skip MIR optimisations (`--opt-level=0`).
    pub no_opt: bool,
}

#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(ref)]
    pub path: PathBuf,
    #[returns(ref)]
    pub text: String,
}

#[salsa::input(debug)]
pub struct Project {
    #[returns(copy)]
    pub entry: SourceFile,
    /// Every file of the program, the entry first.
    #[returns(ref)]
    pub files: Vec<SourceFile>,
}

/// Compilation settings: one per database, created with it.
#[salsa::input(singleton, debug)]
pub struct Config {
    #[returns(copy)]
    pub options: Options,
}

/// The current options.
pub fn options(db: &dyn Db) -> Options {
    Config::get(db).options(db)
}

/// A function of the program: a `fn` item, or the implicit `main` that runs
/// a script's top-level statements.
#[salsa::interned(debug)]
pub struct FnId<'db> {
    #[returns(copy)]
    pub file: SourceFile,
    #[returns(ref)]
    pub name: String,
}

#[salsa::db]
pub trait Db: salsa::Database {}

/// The kinds of query execution recorded by the event log.
pub type EventLog = Arc<Mutex<Vec<salsa::DatabaseKeyIndex>>>;

#[salsa::db]
#[derive(Clone)]
pub struct Database {
    storage: salsa::Storage<Self>,
    log: Option<EventLog>,
}

impl Default for Database {
    fn default() -> Self {
        Database::new(salsa::Storage::new(None), None)
    }
}

impl Database {
    /// A database that records every query execution (Salsa's `WillExecute`
    /// events), for tests of the incremental invariants.
    pub fn with_event_log() -> Database {
        let log = EventLog::default();
        let sink = log.clone();
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(database_key);
            }
        })));
        Database::new(storage, Some(log))
    }

    fn new(storage: salsa::Storage<Database>, log: Option<EventLog>) -> Database {
        let db = Database { storage, log };
        Config::new(&db, Options::default());
        db
    }

    /// Changes the compilation options.
    pub fn set_options(&mut self, options: Options) {
        use salsa::Setter;
        let config = Config::get(self);
        if config.options(self) != options {
            config.set_options(self).to(options);
        }
    }

    /// Takes the executions recorded since the last call, as `(query, id)`.
    pub fn take_executions(&self) -> Vec<(String, salsa::Id)> {
        let Some(log) = &self.log else { return Vec::new() };
        let keys = std::mem::take(&mut *log.lock().unwrap_or_else(|e| e.into_inner()));
        keys.into_iter()
            .map(|k| {
                use salsa::Database as _;
                (self.ingredient_debug_name(k.ingredient_index()).into_owned(), k.key_index())
            })
            .collect()
    }
}

#[salsa::db]
impl salsa::Database for Database {}

#[salsa::db]
impl Db for Database {}

/// The syntax tree and syntax errors of a file.
#[salsa::tracked(returns(ref))]
pub fn parse(db: &dyn Db, file: SourceFile) -> simple_syntax::Parse {
    simple_syntax::parse(file.text(db))
}

/// The position-independent summary of a file's items and signatures.
#[salsa::tracked(returns(ref))]
pub fn file_items(db: &dyn Db, file: SourceFile) -> FileItems {
    items::collect(&parse(db, file).file)
}

/// The names of a file's functions.
#[salsa::tracked(returns(ref))]
pub fn module_names(db: &dyn Db, file: SourceFile) -> items::ModuleNames {
    file_items(db, file).names()
}

/// Constants of a file, evaluated.
#[salsa::tracked(returns(ref))]
pub fn const_table(db: &dyn Db, file: SourceFile) -> ConstTable {
    items::eval_consts(file_items(db, file))
}

/// The functions of a file, in source order.
#[salsa::tracked(returns(ref))]
pub fn file_fns<'db>(db: &'db dyn Db, file: SourceFile) -> Vec<FnId<'db>> {
    file_items(db, file).fn_names().map(|name| FnId::new(db, file, name.to_string())).collect()
}

/// The source of one function, with item-relative spans.
#[salsa::tracked(returns(ref))]
pub fn fn_source<'db>(db: &'db dyn Db, f: FnId<'db>) -> Option<FnSource> {
    let file = f.file(db);
    items::fn_source(&parse(db, file).file, file.text(db), f.name(db))
}

/// The absolute byte offset of the start of each part of a function.
/// Position-dependent: used only to render diagnostics and the line table.
#[salsa::tracked(returns(ref))]
pub fn item_bases<'db>(db: &'db dyn Db, f: FnId<'db>) -> Vec<u32> {
    items::fn_part_bases(&parse(db, f.file(db)).file, f.name(db))
}

#[salsa::tracked(returns(ref))]
pub fn fn_signature<'db>(db: &'db dyn Db, f: FnId<'db>) -> Signature {
    let file = f.file(db);
    items::signature(file_items(db, file), const_table(db, file), f.name(db))
}

/// The typed body of one function.
#[salsa::tracked(returns(ref))]
pub fn fn_hir<'db>(db: &'db dyn Db, f: FnId<'db>) -> FnHir {
    let file = f.file(db);
    let Some(source) = fn_source(db, f) else { return FnHir::missing(f.name(db)) };
    let scope = hir::ModuleScope {
        names: module_names(db, file),
        consts: const_table(db, file),
        signature: &|name: &str| {
            module_names(db, file).is_fn(name).then(|| fn_signature(db, FnId::new(db, file, name.to_string())))
        },
    };
    hir::check_fn(&scope, source, fn_signature(db, f))
}

/// The MIR of one function, optimised. `None` if the function has errors.
#[salsa::tracked(returns(ref))]
pub fn fn_mir<'db>(db: &'db dyn Db, f: FnId<'db>) -> Option<simple_mir::Body> {
    let hir = fn_hir(db, f);
    if hir.has_errors() {
        return None;
    }
    let source = fn_source(db, f).as_ref()?;
    let mut body = lower::lower_fn(hir, source);
    if !options(db).no_opt {
        simple_mir::opt::optimize(&mut body);
    }
    Some(body)
}

/// Machine code of one function, as plain owned data.
#[salsa::tracked(returns(ref))]
pub fn codegen_fn<'db>(db: &'db dyn Db, f: FnId<'db>) -> Result<CompiledFn, String> {
    let body = fn_mir(db, f).as_ref().ok_or("function has errors")?;
    compile(body)
}

fn compile(body: &simple_mir::Body) -> Result<CompiledFn, String> {
    let isa = crate::isa()?;
    simple_codegen::compile_function(body, &*isa).map_err(|e| e.to_string())
}

/// Every diagnostic of the program, absolute and sorted by file and position.
#[salsa::tracked(returns(ref))]
pub fn diagnostics(db: &dyn Db, project: Project) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for &file in project.files(db) {
        let path = file.path(db);
        let parsed = parse(db, file);
        for err in &parsed.errors {
            out.push(Diagnostic {
                level: Level::Error,
                message: err.kind.to_string(),
                path: path.clone(),
                span: err.span,
                label: None,
                help: None,
            });
        }
        let items = file_items(db, file);
        let item_diags = items.diagnostics.iter().chain(const_table(db, file).diagnostics.iter());
        for (item, diag) in item_diags {
            let base = parsed.file.items.get(*item as usize).map_or(0, |i| i.base);
            out.push(absolute(diag, path, &[base]));
        }
        for &f in file_fns(db, file) {
            let bases = item_bases(db, f);
            for diag in fn_signature(db, f).diagnostics.iter().chain(fn_hir(db, f).diagnostics.iter()) {
                out.push(absolute(diag, path, bases));
            }
        }
    }
    out.sort_by(|a, b| (&a.path, a.span.start, a.level).cmp(&(&b.path, b.span.start, b.level)));
    out.dedup();
    out
}

fn absolute(diag: &RelDiagnostic, path: &std::path::Path, bases: &[u32]) -> Diagnostic {
    let base = bases.get(diag.span.part as usize).copied().unwrap_or(0);
    Diagnostic {
        level: diag.level,
        message: diag.message.clone(),
        path: path.to_path_buf(),
        span: diag.span.span.offset(base),
        label: diag.label.clone(),
        help: diag.help.clone(),
    }
}

/// Why a program could not be linked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("the program has errors")]
    HasErrors,
    #[error("code generation failed for `{function}`: {message}")]
    Codegen { function: String, message: String },
    #[error("link failed: {0}")]
    Link(String),
}

/// The SMF image of the whole program.
#[salsa::tracked(returns(ref))]
pub fn link_smf(db: &dyn Db, project: Project) -> Result<Vec<u8>, BuildError> {
    if diagnostics(db, project).iter().any(|d| d.level == Level::Error) {
        return Err(BuildError::HasErrors);
    }
    let files = project.files(db);
    let mut compiled = Vec::new();
    for (file_index, &file) in files.iter().enumerate() {
        let text = file.text(db);
        let lines = LineIndex::new(text);
        for &f in file_fns(db, file) {
            let code = codegen_fn(db, f)
                .as_ref()
                .map_err(|message| BuildError::Codegen { function: f.name(db).clone(), message: message.clone() })?;
            let base = item_bases(db, f).first().copied().unwrap_or(0);
            compiled.push((code, file_index as u32, lines.line_col(text, base).0 + 1));
        }
    }
    let entry = entry_fn(db, project)
        .as_ref()
        .map_err(|e| BuildError::Codegen { function: simple_abi::ENTRY_SYMBOL.into(), message: e.clone() })?;
    let input = simple_codegen::LinkInput {
        functions: compiled
            .iter()
            .map(|(code, file, first_line)| simple_codegen::LinkFn {
                compiled: code,
                file: *file,
                first_line: *first_line,
                first_col_offset: 0,
            })
            .chain(std::iter::once(simple_codegen::LinkFn {
                compiled: entry,
                file: 0,
                first_line: 1,
                first_col_offset: 0,
            }))
            .collect(),
        files: files.iter().map(|f| f.path(db).display().to_string()).collect(),
        entry_symbol: simple_abi::ENTRY_SYMBOL,
        source_hash: source_hash(db, project),
    };
    let module = simple_codegen::link(&input).map_err(|e| BuildError::Link(e.to_string()))?;
    Ok(simple_smf::write(&module))
}

/// The synthetic entry point: calls `main` and returns the exit status.
#[salsa::tracked(returns(ref))]
pub fn entry_fn(db: &dyn Db, project: Project) -> Result<CompiledFn, String> {
    let file = project.entry(db);
    // `Some(returns status)`, or `None` for a file with nothing to run.
    let main = file_items(db, file)
        .find_fn(crate::items::SCRIPT_MAIN)
        .map(|main| fn_signature(db, FnId::new(db, file, main.name.clone())).ret == hir::Ty::I64);
    compile(&lower::entry_body(main))
}

/// The hash that decides whether a cached SMF is up to date: every source
/// file's path and text, the compiler version and the options.
#[salsa::tracked(returns(copy))]
pub fn source_hash(db: &dyn Db, project: Project) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(crate::COMPILER_VERSION.as_bytes());
    hasher.update(&[options(db).no_opt as u8]);
    for &file in project.files(db) {
        let path = file.path(db).display().to_string();
        hasher.update(&(path.len() as u64).to_le_bytes());
        hasher.update(path.as_bytes());
        let text = file.text(db);
        hasher.update(&(text.len() as u64).to_le_bytes());
        hasher.update(text.as_bytes());
    }
    *hasher.finalize().as_bytes()
}

/// The AST of a file, for `simple dump ast`.
pub fn ast(db: &dyn Db, file: SourceFile) -> &ast::SourceFile {
    &parse(db, file).file
}
