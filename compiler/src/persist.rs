//! What the driver's on-disk, per-function code cache needs from the
//! database: a content key per function, and the input through which cached
//! code comes back.
//!
//! A function's key ([`fn_key`]) hashes everything its machine code and its
//! warnings depend on: the compiler and its options, the target, the
//! function's symbol and source text (with item-relative line offsets), and
//! the *interfaces* it can see: the signatures, constants and visibility of
//! its own file and of every module its file imports, plus the set of module
//! paths, and the source of the small functions it may inline (see
//! [`crate::inline`]). It is computed from parse-level queries only, so
//! finding out that a function is cached costs no type checking. Keys are
//! position-independent: moving a function, or editing the body of another
//! function (unless it is one `f` may inline), leaves it alone.
//!
//! The driver reads the entries it has for the program's keys and sets
//! [`CodeCache`]; `link_smf` and `diagnostics` then take a cached function's
//! code and warnings instead of running `fn_hir`, `fn_mir` and `codegen_fn`
//! for it. Only functions that compiled without errors are ever cached.
//!
//! A second level keeps whole files: a file's laid-out object and its
//! warnings ([`CachedObject`]), keyed by [`file_key`]. A fresh build after
//! an edit takes every other file's object whole, and never looks at their
//! functions one by one (their keys, records and layout were most of its
//! time).

use std::fmt::{self, Write as _};
use std::sync::{Arc, OnceLock};

use rustc_hash::FxHashMap;
pub use simple_codegen::{CompiledFn, Literal};

use simple_codegen::Object;

use crate::db::{self, Db, FnId, Imported, SourceFile};
use crate::diagnostics::{Diagnostic, RelDiagnostic};

/// A function's content key.
pub type FnKey = [u8; 32];

/// What the cache keeps of a compiled function.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CachedFn {
    pub code: CompiledFn,
    /// Its warnings (never errors), relative to the function.
    pub warnings: Vec<RelDiagnostic>,
}

/// What the cache keeps of a file whose functions all compiled: its
/// object and its diagnostics (warnings only), absolute in the file, which
/// holds because [`file_key`] covers the file's text and path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CachedObject {
    pub object: Arc<Object>,
    pub warnings: Vec<Diagnostic>,
}

/// Cached code the driver found on disk, by key. Every database has one,
/// empty until the driver sets its entries.
#[salsa::input(singleton)]
pub struct CodeCache {
    /// Functions, by [`fn_key`].
    #[returns(ref)]
    pub entries: Arc<FxHashMap<FnKey, Arc<CachedFn>>>,
    /// Files, by [`file_key`].
    #[returns(ref)]
    pub objects: Arc<FxHashMap<FnKey, Arc<CachedObject>>>,
}

/// The cached object of `file`, if the driver found one for its key.
#[salsa::tracked(returns(ref))]
pub fn file_cached_object(db: &dyn Db, file: SourceFile) -> Option<Arc<CachedObject>> {
    let objects = CodeCache::get(db).objects(db);
    if objects.is_empty() {
        return None;
    }
    objects.get(&file_key(db, file)).cloned()
}

/// What `file` keeps in the cache, computed now: `None` if its object
/// cannot be built. Call it only for a program without errors.
pub fn object_for_cache(db: &dyn Db, file: SourceFile) -> Option<CachedObject> {
    let object = db::file_object(db, file).as_ref().ok()?.clone();
    Some(CachedObject { object, warnings: db::file_diagnostics(db, file).clone() })
}

/// The cached code of `f`, if the driver found an entry for its key.
pub fn fn_cached<'db>(db: &'db dyn Db, f: FnId<'db>) -> Option<&'db Arc<CachedFn>> {
    let file = f.file(db);
    let index = db::file_fns(db, file).iter().position(|&g| g == f)?;
    file_cached(db, file).get(index)?.as_ref()
}

/// The cached code of each function of `file`, in `file_fns` order. One
/// query per file (over [`file_keys`]): after an edit elsewhere Salsa then
/// checks a few dependencies per file instead of several per function.
#[salsa::tracked(returns(ref))]
pub fn file_cached(db: &dyn Db, file: SourceFile) -> Vec<Option<Arc<CachedFn>>> {
    let entries = CodeCache::get(db).entries(db);
    if entries.is_empty() {
        return vec![None; db::file_fns(db, file).len()];
    }
    file_keys(db, file).iter().map(|key| entries.get(key).cloned()).collect()
}

/// What `f` compiles to, computed now: its code and warnings, or `None` if
/// it has errors. The driver stores this for functions that were not cached.
pub fn compile_for_cache(db: &dyn Db, f: FnId<'_>) -> Option<CachedFn> {
    let code = db::codegen_fn(db, f).as_ref().ok()?.clone();
    let warnings = db::fn_hir(db, f).diagnostics.clone();
    Some(CachedFn { code, warnings })
}

/// The content key of one function (see [`file_keys`]).
pub fn fn_key(db: &dyn Db, f: FnId<'_>) -> FnKey {
    let file = f.file(db);
    let index = db::file_fns(db, file).iter().position(|&g| g == f);
    index.and_then(|i| file_keys(db, file).get(i).copied()).unwrap_or_else(|| fn_key_of(db, f))
}

/// The content keys of the functions of `file`, in `file_fns` order: one
/// query per file, like [`file_cached`].
#[salsa::tracked(returns(ref))]
pub fn file_keys(db: &dyn Db, file: SourceFile) -> Vec<FnKey> {
    db::file_fns(db, file).iter().map(|&f| fn_key_of(db, f)).collect()
}

fn fn_key_of(db: &dyn Db, f: FnId<'_>) -> FnKey {
    let mut h = KeyHasher::new();
    h.str(crate::COMPILER_VERSION);
    h.debug(&db::options(db));
    h.str(isa_fingerprint());
    h.str(&db::fn_symbol(db, f));
    h.bytes(&scope_key(db, f.file(db)));
    let file = f.file(db);
    h.debug(&db::module_names(db, file).is_script(f.name(db)));
    let items = db::fn_item_index(db, file).get(f.name(db)).map_or(&[][..], Vec::as_slice);
    for part in crate::items::fn_parts(&db::parse(db, file).file, file.text(db), items) {
        h.str(&part.text);
        h.u64(part.line_delta.into());
    }
    // The bodies `f` may inline (positions aside: the linker places them).
    for (symbol, g) in crate::inline::mentioned(db, f) {
        h.str(symbol);
        for part in db::fn_source(db, *g).iter().flat_map(|source| &source.parts) {
            h.str(&part.text);
        }
    }
    h.finish()
}

/// Everything the keys of `file`'s functions are made of, and the file's
/// path: while it stays the same, so does every [`fn_key`] of the file (the
/// driver need not look at the functions one by one), and so do its object
/// and diagnostics, positions included (the key of [`CachedObject`]s).
#[salsa::tracked(returns(copy))]
pub fn file_key(db: &dyn Db, file: SourceFile) -> FnKey {
    let mut h = KeyHasher::new();
    h.str(crate::COMPILER_VERSION);
    h.debug(&db::options(db));
    h.str(isa_fingerprint());
    h.debug(file.path(db));
    h.bytes(&db::text_hash(db, file));
    h.bytes(&scope_key(db, file));
    h.finish()
}

/// What the functions of `file` can see of the program: the interfaces of
/// their own file and of every module it imports, and the module paths.
#[salsa::tracked(returns(copy))]
fn scope_key(db: &dyn Db, file: SourceFile) -> FnKey {
    let modules = db::module_files(db);
    let mut h = KeyHasher::new();
    for path in modules.keys() {
        h.debug(path);
    }
    h.bytes(&interface_key(db, file));
    let imports = db::import_scope(db, file);
    for (name, imported) in &imports.bindings {
        // Files by module path: neither the text (which a `SourceFile`'s
        // `Debug` shows) nor the spelling of the file's path is part of
        // the interface.
        match imported {
            Imported::Module(path) => h.debug(&(name, path)),
            Imported::Item(target, item) => h.debug(&(name, db::module_path_of(db, *target), item)),
        }
    }
    let mut seen = vec![file];
    for imported in imports.bindings.values() {
        let visible: Vec<SourceFile> = match imported {
            // A module binding reaches every module under its path.
            Imported::Module(prefix) => {
                modules.iter().filter(|(path, _)| path.starts_with(prefix)).map(|(_, &f)| f).collect()
            }
            Imported::Item(target, _) => vec![*target],
        };
        for target in visible {
            if !seen.contains(&target) {
                seen.push(target);
                h.bytes(&interface_key(db, target));
            }
        }
    }
    h.finish()
}

/// The interface of a file: what other functions can see of it.
#[salsa::tracked(returns(copy))]
fn interface_key(db: &dyn Db, file: SourceFile) -> FnKey {
    let mut h = KeyHasher::new();
    h.debug(&db::module_path_of(db, file));
    let items = db::file_items(db, file);
    for decl in &items.fns {
        h.debug(&(&decl.name, decl.is_pub, decl.is_script));
        h.debug(db::fn_signature(db, FnId::new(db, file, decl.name.clone())));
    }
    for decl in &items.consts {
        h.debug(&(&decl.name, decl.is_pub));
    }
    // Field and variant types are written in the declarations; what they
    // name resolves through the imports, which `scope_key` covers.
    h.debug(&items.types);
    h.debug(&db::const_table(db, file).values);
    h.finish()
}

/// The code generator's target and CPU features: cached code is only valid
/// for the machine it was made for.
fn isa_fingerprint() -> &'static str {
    static FINGERPRINT: OnceLock<String> = OnceLock::new();
    FINGERPRINT.get_or_init(|| match crate::isa() {
        Ok(isa) => {
            let mut s = isa.triple().to_string();
            for flag in isa.isa_flags() {
                let _ = write!(s, " {flag}");
            }
            s
        }
        Err(e) => e,
    })
}

/// blake3 over length-prefixed fields, so no two field sequences collide.
struct KeyHasher(blake3::Hasher);

impl KeyHasher {
    fn new() -> KeyHasher {
        KeyHasher(blake3::Hasher::new())
    }

    fn u64(&mut self, n: u64) {
        self.0.update(&n.to_le_bytes());
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.u64(bytes.len() as u64);
        self.0.update(bytes);
    }

    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// Hashes a value's `Debug` form, which shows every field: the types
    /// hashed this way are plain data.
    fn debug(&mut self, value: &impl fmt::Debug) {
        let mut s = String::new();
        let _ = write!(s, "{value:?}");
        self.str(&s);
    }

    fn finish(self) -> FnKey {
        *self.0.finalize().as_bytes()
    }
}
