//! The Salsa database: inputs and the top-level queries of the pipeline.
//!
//! Only the driver sets inputs. Every query is a pure function of them; none
//! reads the file system, the clock or the environment. Queries that feed
//! codegen (`fn_source`, `fn_signature`, `fn_hir`, `fn_mir`, `codegen_fn`)
//! see only item-relative positions, so moving a function does not change
//! their results; absolute positions are computed by `file_bases` and used
//! only by `diagnostics` and `file_object`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use simple_abi::build::{Options, hash_sources};
use simple_codegen::CompiledFn;
use simple_syntax::ast;

use crate::diagnostics::{Diagnostic, Level, RelDiagnostic, RelSpan};
use crate::hir::{self, FnHir};
use crate::hir::{Def, Scope};
use crate::items::{self, ConstTable, FileItems, FnSource, ImportKind, Signature};
use crate::line_index::LineIndex;
use crate::lower;
use crate::persist;

#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(ref)]
    pub path: PathBuf,
    #[returns(ref)]
    pub text: String,
}

/// The program: one per database.
#[salsa::input(singleton, debug)]
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
        // Every function's cache key reads the options: were they of the
        // default, low durability, an edit anywhere would make Salsa verify
        // every function's queries one by one.
        let _ = Config::builder(Options::default()).durability(salsa::Durability::HIGH).new(&db);
        // Created with the database: an input created through `&db` starts
        // no new revision, so queries that already looked for it would not
        // see it. Later loads replace its entries instead.
        let _ = persist::CodeCache::builder(Default::default(), Default::default())
            .durability(salsa::Durability::HIGH)
            .new(&db);
        db
    }

    /// Changes the compilation options.
    pub fn set_options(&mut self, options: Options) {
        use salsa::Setter;
        let config = Config::get(self);
        if config.options(self) != options {
            config.set_options(self).with_durability(salsa::Durability::HIGH).to(options);
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

/// Where a file's lines start; only for positions that reach the output.
#[salsa::tracked(returns(ref))]
pub fn line_index(db: &dyn Db, file: SourceFile) -> LineIndex {
    LineIndex::new(file.text(db))
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

/// Which items make up each function of a file.
#[salsa::tracked(returns(ref))]
pub fn fn_item_index(db: &dyn Db, file: SourceFile) -> std::collections::BTreeMap<String, Vec<u32>> {
    items::fn_item_index(&parse(db, file).file)
}

/// The source of one function, with item-relative spans.
#[salsa::tracked(returns(ref))]
pub fn fn_source<'db>(db: &'db dyn Db, f: FnId<'db>) -> Option<FnSource> {
    let file = f.file(db);
    let items = fn_item_index(db, file).get(f.name(db))?;
    items::fn_source(&parse(db, file).file, file.text(db), f.name(db), items)
}

/// For each function of `file`, in `file_fns` order, the absolute byte
/// offset of the start of each of its parts. Position-dependent: used only
/// to render diagnostics and the line table. One query per file, like
/// `persist::file_cached`.
#[salsa::tracked(returns(ref))]
pub fn file_bases(db: &dyn Db, file: SourceFile) -> Vec<Vec<u32>> {
    let index = fn_item_index(db, file);
    let parsed = &parse(db, file).file;
    file_fns(db, file)
        .iter()
        .map(|f| items::fn_part_bases(parsed, index.get(f.name(db)).map_or(&[][..], Vec::as_slice)))
        .collect()
}

#[salsa::tracked(returns(ref))]
pub fn fn_signature<'db>(db: &'db dyn Db, f: FnId<'db>) -> Signature {
    let file = f.file(db);
    items::signature(file_items(db, file), const_table(db, file), f.name(db), &FileScope { db, file })
}

/// A struct, class or enum of the program, by its file and name.
#[salsa::interned(debug)]
pub struct TypeId<'db> {
    #[returns(copy)]
    pub file: SourceFile,
    #[returns(ref)]
    pub name: String,
}

/// The fields or variants of a type, resolved. Functions read the types
/// they use through this query, so changing one type re-checks only them.
#[salsa::tracked(returns(ref))]
pub fn adt_def<'db>(db: &'db dyn Db, t: TypeId<'db>) -> hir::AdtDef {
    let file = t.file(db);
    let Some(decl) = file_items(db, file).find_type(t.name(db)) else { return hir::AdtDef::default() };
    hir::adt_def(decl, const_table(db, file), &FileScope { db, file })
}

/// The leaves of a struct (see `layout`): what a value of it is made of in
/// MIR locals and heap slots. Changing a struct changes the layout of the
/// structs holding it, and the code of the functions that use them; no
/// other function depends on it.
#[salsa::tracked(returns(ref))]
pub fn type_layout<'db>(db: &'db dyn Db, t: TypeId<'db>) -> Vec<simple_mir::Ty> {
    let file = t.file(db);
    let Some(decl) = file_items(db, file).find_type(t.name(db)) else { return Vec::new() };
    let scope = FileScope { db, file };
    let adt = scope.adt_in(file, decl);
    crate::layout::Layouts::new(&crate::layout::Definitions(&scope)).leaves(&hir::Ty::Adt(adt))
}

/// The type named `adt`, as a query key.
pub fn type_id<'db>(db: &'db dyn Db, adt: &hir::Adt) -> Option<TypeId<'db>> {
    let file = module_file_of(db, adt.module())?;
    Some(TypeId::new(db, file, adt.name().to_string()))
}

/// The file of module `path`; the entry file for the empty path.
fn module_file_of(db: &dyn Db, path: &[String]) -> Option<SourceFile> {
    if path.is_empty() {
        return Project::try_get(db).map(|p| p.entry(db));
    }
    module_files(db).get(path).copied()
}

/// The typed body of one function.
#[salsa::tracked(returns(ref))]
pub fn fn_hir<'db>(db: &'db dyn Db, f: FnId<'db>) -> FnHir {
    let Some(source) = fn_source(db, f) else { return FnHir::missing(f.name(db)) };
    let scope = FileScope { db, file: f.file(db) };
    hir::check_fn(&scope, source, fn_signature(db, f))
}

/// The modules of the program other than the entry file, by module path.
#[salsa::tracked(returns(ref))]
pub fn module_files(db: &dyn Db) -> std::collections::BTreeMap<Vec<String>, SourceFile> {
    let Some(project) = Project::try_get(db) else { return Default::default() };
    let entry = project.entry(db);
    let dir = entry_dir(db, project);
    project
        .files(db)
        .iter()
        .filter(|&&f| f != entry)
        .filter_map(|&f| module_path(&dir, f.path(db)).map(|path| (path, f)))
        .collect()
}

fn entry_dir(db: &dyn Db, project: Project) -> PathBuf {
    project.entry(db).path(db).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `dir/a/b.spl` → `["a", "b"]`.
fn module_path(dir: &Path, file: &Path) -> Option<Vec<String>> {
    let rel = file.strip_prefix(dir).ok()?.with_extension("");
    rel.components().map(|c| c.as_os_str().to_str().map(str::to_string)).collect()
}

/// What one file's imports bind, and the errors in them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportScope {
    pub bindings: std::collections::BTreeMap<String, Imported>,
    pub diagnostics: Vec<(u32, RelDiagnostic)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    /// A module or the package prefix of one (`import a.b` binds `a`).
    Module(Vec<String>),
    /// `from m import x`: item `x` of the module in `file`.
    Item(SourceFile, String),
}

#[salsa::tracked(returns(ref))]
pub fn import_scope(db: &dyn Db, file: SourceFile) -> ImportScope {
    let modules = module_files(db);
    let mut scope = ImportScope::default();
    for import in &file_items(db, file).imports {
        let span = RelSpan { part: 0, span: import.span };
        let dotted = import.path.join(".");
        let Some(&target) = modules.get(&import.path) else {
            let file_name = format!("{}.spl", import.path.join("/"));
            scope.diagnostics.push((
                import.item,
                RelDiagnostic::error(span, format!("cannot find module `{dotted}`"))
                    .with_help(format!("modules are files relative to the entry file's directory: `{file_name}`")),
            ));
            continue;
        };
        match &import.kind {
            ImportKind::Module { alias: Some(alias) } => {
                scope.bindings.insert(alias.clone(), Imported::Module(import.path.clone()));
            }
            ImportKind::Module { alias: None } => {
                scope.bindings.insert(import.path[0].clone(), Imported::Module(vec![import.path[0].clone()]));
            }
            ImportKind::Names(names) => {
                for (name, local, name_span) in names {
                    let span = RelSpan { part: 0, span: *name_span };
                    match item_visibility(db, target, name) {
                        Some(true) => {
                            scope.bindings.insert(local.clone(), Imported::Item(target, name.clone()));
                        }
                        Some(false) => scope.diagnostics.push((import.item, private(span, name, &dotted))),
                        None => scope.diagnostics.push((
                            import.item,
                            RelDiagnostic::error(span, format!("cannot find `{name}` in module `{dotted}`")),
                        )),
                    }
                }
            }
        }
    }
    scope
}

fn private(span: RelSpan, name: &str, module: &str) -> RelDiagnostic {
    RelDiagnostic::error(span, format!("`{name}` is private to module `{module}`"))
        .with_help(format!("mark it `pub` in `{module}` to use it from other files"))
}

/// `Some(is_pub)` for a function, constant or type of `file`, `None` if
/// none.
fn item_visibility(db: &dyn Db, file: SourceFile, name: &str) -> Option<bool> {
    let items = file_items(db, file);
    match (items.find_fn(name), items.find_const(name), items.find_type(name)) {
        (Some(f), _, _) if !f.is_script => Some(f.is_pub),
        (_, Some(c), _) => Some(c.is_pub),
        (_, _, Some(t)) => Some(t.is_pub),
        _ => None,
    }
}

/// The symbol of a function in the linked module: its name in the entry
/// file, `module.path.name` in other files.
pub fn fn_symbol(db: &dyn Db, f: FnId<'_>) -> String {
    let file = f.file(db);
    match module_files(db).iter().find(|(_, m)| **m == file) {
        Some((path, _)) => format!("{}.{}", path.join("."), f.name(db)),
        None => f.name(db).clone(),
    }
}

/// Name resolution for the functions of one file.
struct FileScope<'db> {
    db: &'db dyn Db,
    file: SourceFile,
}

impl FileScope<'_> {
    /// A function, constant or type of `file`, as seen from this file.
    fn item(&self, file: SourceFile, name: &str) -> Option<Def<'_>> {
        let db = self.db;
        if module_names(db, file).is_fn(name) {
            let f = FnId::new(db, file, name.to_string());
            let is_script = module_names(db, file).is_script(name);
            return Some(Def::Fn { symbol: fn_symbol(db, f), sig: fn_signature(db, f), is_script });
        }
        if let Some(t) = file_items(db, file).find_type(name) {
            return Some(Def::Type(self.adt_in(file, t)));
        }
        const_table(db, file).lookup(name).map(Def::Const)
    }

    fn adt_in(&self, file: SourceFile, decl: &items::TypeDecl) -> hir::Adt {
        let module = module_path_of(self.db, file).cloned().unwrap_or_default();
        hir::Adt::new(module, decl.name.clone(), decl.kind)
    }
}

/// `["a", "b"]` for the module in `a/b.spl`; `None` for the entry file.
pub fn module_path_of(db: &dyn Db, file: SourceFile) -> Option<&Vec<String>> {
    module_files(db).iter().find(|(_, f)| **f == file).map(|(path, _)| path)
}

impl crate::layout::LayoutSource for FileScope<'_> {
    fn adt_def(&self, adt: &hir::Adt) -> Option<&hir::AdtDef> {
        Scope::adt_def(self, adt)
    }

    fn struct_leaves(&self, adt: &hir::Adt) -> Option<&[simple_mir::Ty]> {
        type_id(self.db, adt).map(|t| type_layout(self.db, t).as_slice())
    }
}

impl FileScope<'_> {
    /// Whether `path` names a function, as seen from this file; found
    /// without computing the function's signature.
    fn names_fn(&self, path: &[String]) -> bool {
        let db = self.db;
        match path {
            [name] => {
                module_names(db, self.file).is_fn(name)
                    || matches!(import_scope(db, self.file).bindings.get(name),
                        Some(Imported::Item(file, item)) if module_names(db, *file).is_fn(item))
            }
            [module @ .., name] => module_files(db).get(module).is_some_and(|&file| module_names(db, file).is_fn(name)),
            [] => false,
        }
    }
}

impl items::TypeNames for FileScope<'_> {
    fn named_type(&self, path: &[String]) -> Result<hir::Adt, String> {
        // Looking a function up computes its signature; for a function
        // named as a type in its own signature (`fn f(x: f)`) that is a
        // query cycle.
        if self.names_fn(path) {
            return Err(format!("`{}` is not a type", path.join(".")));
        }
        let def = match path {
            [name] => self.lookup(name),
            [module @ .., name] => match self.member(module, name) {
                Some(Ok(def)) => Some(def),
                Some(Err(message)) => return Err(message),
                None => None,
            },
            [] => None,
        };
        match def {
            Some(Def::Type(adt)) => Ok(adt),
            Some(_) => Err(format!("`{}` is not a type", path.join("."))),
            None => Err(format!("cannot find type `{}` in this scope", path.join("."))),
        }
    }
}

impl Scope for FileScope<'_> {
    fn lookup(&self, name: &str) -> Option<Def<'_>> {
        if let Some(def) = self.item(self.file, name) {
            return Some(def);
        }
        match import_scope(self.db, self.file).bindings.get(name)? {
            Imported::Module(path) => Some(Def::Module(path.clone())),
            Imported::Item(file, name) => self.item(*file, name),
        }
    }

    fn adt_def(&self, adt: &hir::Adt) -> Option<&hir::AdtDef> {
        type_id(self.db, adt).map(|t| adt_def(self.db, t))
    }

    fn method(&self, adt: &hir::Adt, name: &str) -> Option<Result<Def<'_>, String>> {
        let db = self.db;
        let file = module_file_of(db, adt.module())?;
        let fn_name = items::method_name(adt.name(), name);
        let decl = file_items(db, file).find_fn(&fn_name)?;
        if !decl.is_pub && file != self.file {
            return Some(Err(format!("method `{name}` of `{}` is private", adt.name())));
        }
        let f = FnId::new(db, file, fn_name);
        Some(Ok(Def::Fn { symbol: fn_symbol(db, f), sig: fn_signature(db, f), is_script: false }))
    }

    fn types(&self) -> &dyn items::TypeNames {
        self
    }

    fn is_local_type(&self, adt: &hir::Adt) -> bool {
        module_file_of(self.db, adt.module()) == Some(self.file)
    }

    fn member(&self, module: &[String], name: &str) -> Option<Result<Def<'_>, String>> {
        let modules = module_files(self.db);
        if let Some(&target) = modules.get(module) {
            let visible = item_visibility(self.db, target, name)?;
            if !visible && target != self.file {
                return Some(Err(format!("`{name}` is private to module `{}`", module.join("."))));
            }
            return self.item(target, name).map(Ok);
        }
        let mut path = module.to_vec();
        path.push(name.to_string());
        modules.keys().any(|m| m.starts_with(&path)).then_some(Ok(Def::Module(path)))
    }
}

/// The MIR of one function, optimised, before inlining. `None` if the
/// function has errors.
#[salsa::tracked(returns(ref))]
pub fn fn_mir_base<'db>(db: &'db dyn Db, f: FnId<'db>) -> Option<Arc<simple_mir::Body>> {
    let hir = fn_hir(db, f);
    if hir.has_errors() {
        return None;
    }
    let source = fn_source(db, f).as_ref()?;
    let scope = FileScope { db, file: f.file(db) };
    let mut body = lower::lower_fn(hir, source, &scope);
    body.symbol = fn_symbol(db, f);
    if !options(db).no_opt {
        simple_mir::opt::optimize(&mut body);
    }
    Some(Arc::new(body))
}

/// The MIR of one function as codegen takes it: [`fn_mir_base`] with its
/// calls of small functions of the same file inlined (see [`crate::inline`]
/// for which). `None` if the function has errors.
#[salsa::tracked(returns(ref))]
pub fn fn_mir<'db>(db: &'db dyn Db, f: FnId<'db>) -> Option<Arc<simple_mir::Body>> {
    let base = fn_mir_base(db, f).as_ref()?;
    if options(db).no_opt {
        return Some(base.clone());
    }
    let mentioned = crate::inline::mentioned(db, f);
    let find = |symbol: &str| mentioned.iter().find(|(s, _)| *s == symbol).map(|&(_, g)| g);
    let calls_one = base
        .blocks
        .iter()
        .flat_map(|b| &b.stmts)
        .any(|stmt| matches!(&stmt.kind, simple_mir::StmtKind::Call { symbol, .. } if find(symbol).is_some()));
    if !calls_one {
        return Some(base.clone());
    }
    let mut body = simple_mir::Body::clone(base);
    let callee = |symbol: &str| fn_mir_base(db, find(symbol)?).as_deref();
    if !simple_mir::inline::inline_calls(&mut body, callee) {
        return Some(base.clone());
    }
    simple_mir::opt::optimize(&mut body);
    Some(Arc::new(body))
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
    let mut out: Vec<Diagnostic> =
        project.files(db).iter().flat_map(|&file| file_diagnostics(db, file)).cloned().collect();
    out.sort_by(|a, b| (&a.path, a.span.start, a.level).cmp(&(&b.path, b.span.start, b.level)));
    out.dedup();
    out
}

/// The diagnostics of one file. A query of its own so that after an edit
/// only the edited file's are collected again.
#[salsa::tracked(returns(ref))]
pub fn file_diagnostics(db: &dyn Db, file: SourceFile) -> Vec<Diagnostic> {
    if let Some(cached) = persist::file_cached_object(db, file) {
        return cached.warnings.clone();
    }
    let project = Project::get(db);
    let mut out = Vec::new();
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
    let mut module_stmt = Vec::new();
    if file != project.entry(db)
        && let Some((item, span)) = items.first_stmt
    {
        let d = RelDiagnostic::error(RelSpan { part: 0, span }, "a module may only hold declarations")
            .with_help("top-level statements run only in the entry file");
        module_stmt.push((item, d));
    }
    let item_diags = items
        .diagnostics
        .iter()
        .chain(const_table(db, file).diagnostics.iter())
        .chain(import_scope(db, file).diagnostics.iter())
        .chain(module_stmt.iter());
    for (item, diag) in item_diags {
        let base = parsed.file.items.get(*item as usize).map_or(0, |i| i.base);
        out.push(absolute(diag, path, &[base]));
    }
    let scope = FileScope { db, file };
    for decl in &items.types {
        let base = parsed.file.items.get(decl.item as usize).map_or(0, |i| i.base);
        for diag in &adt_def(db, TypeId::new(db, file, decl.name.clone())).diagnostics {
            out.push(absolute(diag, path, &[base]));
        }
        let adt = scope.adt_in(file, decl);
        if adt.kind() == hir::AdtKind::Struct && crate::layout::is_infinite_struct(&scope, &adt) {
            let span = RelSpan { part: 0, span: decl.name_span };
            let d = RelDiagnostic::error(span, format!("recursive struct `{}` has infinite size", decl.name))
                .with_label("contains itself by value".to_string())
                .with_help("a struct is a value: hold the recursive part in a class, a list or an enum".to_string());
            out.push(absolute(&d, path, &[base]));
        }
    }
    let fns = file_fns(db, file).iter().zip(persist::file_cached(db, file)).zip(file_bases(db, file));
    for ((&f, cached), bases) in fns {
        let body_diags = match cached {
            Some(cached) => &cached.warnings,
            None => &fn_hir(db, f).diagnostics,
        };
        for diag in fn_signature(db, f).diagnostics.iter().chain(body_diags) {
            out.push(absolute(diag, path, bases));
        }
    }
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

/// The SMF image of the whole program: the files' objects, concatenated.
#[salsa::tracked(returns(ref))]
pub fn link_smf(db: &dyn Db, project: Project) -> Result<Vec<u8>, BuildError> {
    if diagnostics(db, project).iter().any(|d| d.level == Level::Error) {
        return Err(BuildError::HasErrors);
    }
    let files = project.files(db);
    let entry = entry_fn(db, project)
        .as_ref()
        .map_err(|e| BuildError::Codegen { function: simple_abi::ENTRY_SYMBOL.into(), message: e.clone() })?;
    let entry = simple_codegen::object([simple_codegen::ObjectInput { compiled: entry, first_line: 1 }])
        .map_err(|e| BuildError::Link(e.to_string()))?;
    let mut objects = Vec::with_capacity(files.len() + 1);
    for (index, &file) in files.iter().enumerate() {
        objects.push((&**file_object(db, file).as_ref().map_err(Clone::clone)?, index as u32));
    }
    objects.push((&entry, 0));
    let input = simple_codegen::LinkInput {
        objects,
        files: files.iter().map(|f| f.path(db).display().to_string()).collect(),
        entry_symbol: simple_abi::ENTRY_SYMBOL,
        source_hash: source_hash(db, project),
    };
    let module = simple_codegen::link(&input).map_err(|e| BuildError::Link(e.to_string()))?;
    Ok(simple_smf::write(&module))
}

/// The functions of `file`, compiled (or taken from the code cache) and laid
/// out: what [`link_smf`] concatenates. Memoized per file, so a link after
/// an edit lays out only the edited files again. Ask only for a file
/// without errors.
#[salsa::tracked(returns(ref))]
pub fn file_object(db: &dyn Db, file: SourceFile) -> Result<Arc<simple_codegen::Object>, BuildError> {
    if let Some(cached) = persist::file_cached_object(db, file) {
        return Ok(cached.object.clone());
    }
    let text = file.text(db);
    let lines = line_index(db, file);
    let mut functions = Vec::new();
    let fns = file_fns(db, file).iter().zip(persist::file_cached(db, file)).zip(file_bases(db, file));
    for ((&f, cached), bases) in fns {
        let compiled = match cached {
            Some(cached) => &cached.code,
            None => codegen_fn(db, f)
                .as_ref()
                .map_err(|message| BuildError::Codegen { function: f.name(db).clone(), message: message.clone() })?,
        };
        let base = bases.first().copied().unwrap_or(0);
        functions.push(simple_codegen::ObjectInput { compiled, first_line: lines.line_col(text, base).0 + 1 });
    }
    simple_codegen::object(functions).map(Arc::new).map_err(|e| BuildError::Link(e.to_string()))
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

/// The hash that decides whether a built module is up to date (see
/// [`hash_sources`]).
#[salsa::tracked(returns(copy))]
pub fn source_hash(db: &dyn Db, project: Project) -> [u8; 32] {
    hash_sources(options(db), project.files(db).iter().map(|&f| (f.path(db).as_path(), text_hash(db, f))))
}

/// The hash of one file's text; memoized, so [`source_hash`] rehashes only
/// the files that changed.
#[salsa::tracked(returns(copy))]
pub fn text_hash(db: &dyn Db, file: SourceFile) -> [u8; 32] {
    *blake3::hash(file.text(db).as_bytes()).as_bytes()
}

/// The AST of a file, for `simple dump ast`.
pub fn ast(db: &dyn Db, file: SourceFile) -> &ast::SourceFile {
    &parse(db, file).file
}
