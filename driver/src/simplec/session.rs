//! A compilation session: reads the program's files into the database and
//! builds its SMF module, reusing `FILE.smf` when its source hash matches.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use salsa::{Durability, Setter};
use simple_compiler::db::{self, BuildError};
use simple_compiler::diagnostics::{Diagnostic, Level};
use simple_compiler::persist::{self, CachedFn, CachedObject, CodeCache, FnKey};
use simple_compiler::{Database, FnId, Options, Project, SourceFile, parallel};

use crate::cache::{Cache, CacheFile, Miss};

/// Errors a user can cause outside their program's source.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("cannot read `{path}`: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("`{path}` is not valid UTF-8")]
    NotUtf8 { path: PathBuf },
    #[error("cannot write `{path}`: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot load `{path}`: {source}")]
    Load { path: PathBuf, source: simple_smf::LoadError },
    #[error("{0}")]
    Build(#[from] BuildError),
    #[error("{0}")]
    Usage(String),
}

/// The durability of the program's file list and of the code cache, which
/// rarely change. Source texts are `LOW` from the start, not only once
/// edited: Salsa does not backdate a value that became less durable, so a
/// file going from `MEDIUM` to `LOW` at its first edit would recompile, once,
/// everything that reads it.
const STABLE: Durability = Durability::MEDIUM;

pub struct Session {
    pub db: Database,
    pub project: Project,
    pub entry: SourceFile,
    /// The on-disk function cache, once loaded.
    disk: RefCell<Option<DiskCache>>,
    /// The files whose functions [`Session::codegen`] compiled, with the
    /// [`persist::file_key`] they had: a file whose key is unchanged needs
    /// nothing, and is not even looked at function by function.
    compiled: RefCell<FxHashMap<SourceFile, FnKey>>,
    /// The same for type checking ([`Session::diagnostics`]).
    checked: RefCell<FxHashMap<SourceFile, FnKey>>,
}

struct DiskCache {
    cache: Cache,
    fns: CacheFile,
    objects: CacheFile,
    /// The program's files whose functions and object are all stored, with
    /// their [`persist::file_key`] at the time.
    stored_files: FxHashMap<SourceFile, FnKey>,
    /// The objects the last [`Session::store_cache`] stored, until adopted.
    last_stored: Vec<(FnKey, Arc<CachedObject>)>,
    /// Whether [`Session::adopt_stored_objects`] ran.
    adopted: bool,
}

/// What [`Session::load_cache`] found.
#[derive(Debug, Default, Clone, Copy)]
pub struct CacheLoad {
    pub reused: usize,
    /// Damaged entries, to be rebuilt.
    pub damaged: usize,
}

/// Counts a damaged record, and forgets it so that it is stored again.
fn forget_damaged(file: &mut CacheFile, key: &FnKey, miss: Miss) -> usize {
    match miss {
        Miss::Damaged => {
            file.forget(key);
            1
        }
        Miss::Absent => 0,
    }
}

pub fn read_source(path: &Path) -> Result<String, DriverError> {
    let bytes = std::fs::read(path).map_err(|source| DriverError::Read { path: path.to_owned(), source })?;
    String::from_utf8(bytes).map_err(|_| DriverError::NotUtf8 { path: path.to_owned() })
}

impl Session {
    pub fn open(path: &Path, options: Options) -> Result<Session, DriverError> {
        Session::open_with(Database::default(), path, options)
    }

    /// A session whose database records query executions (for `watch`'s
    /// "rebuilt N of M functions").
    pub fn open_logged(path: &Path, options: Options) -> Result<Session, DriverError> {
        Session::open_with(Database::with_event_log(), path, options)
    }

    fn open_with(mut db: Database, path: &Path, options: Options) -> Result<Session, DriverError> {
        let text = read_source(path)?;
        db.set_options(options);
        let entry = SourceFile::new(&db, path.to_owned(), text);
        let project = Project::builder(entry, vec![entry]).durability(STABLE).new(&db);
        let mut session = Session {
            db,
            project,
            entry,
            disk: RefCell::default(),
            compiled: RefCell::default(),
            checked: RefCell::default(),
        };
        session.load_imports(entry);
        Ok(session)
    }

    /// Adds every file that `from` imports, transitively, to the project.
    /// A module file that cannot be read is left out: the compiler then
    /// reports the import that names it.
    fn load_imports(&mut self, from: SourceFile) {
        let dir = self.entry.path(&self.db).parent().map(Path::to_path_buf).unwrap_or_default();
        let mut files = self.project.files(&self.db).clone();
        let mut seen: FxHashSet<PathBuf> = files.iter().map(|f| f.path(&self.db).clone()).collect();
        let mut next = vec![from];
        while !next.is_empty() {
            // Parses the files found last round on every core; their imports
            // name the next round's.
            let imports = parallel::map(&self.db, &next, 2, |db, &file| {
                db::file_items(db, file).imports.iter().map(|import| import.path.clone()).collect::<Vec<_>>()
            });
            next.clear();
            for import in imports.into_iter().flatten() {
                let path = simple_compiler::items::module_file(&dir, &import);
                if !seen.insert(path.clone()) {
                    continue;
                }
                if let Ok(text) = read_source(&path) {
                    let file = SourceFile::new(&self.db, path, text);
                    files.push(file);
                    next.push(file);
                }
            }
        }
        if files != *self.project.files(&self.db) {
            self.project.set_files(&mut self.db).with_durability(STABLE).to(files);
        }
    }

    /// Every function of the program.
    fn functions(&self) -> impl Iterator<Item = FnId<'_>> {
        self.project.files(&self.db).iter().flat_map(|&file| db::file_fns(&self.db, file).iter().copied())
    }

    /// Reads the cached code of the program's files and functions, so that
    /// only the others are type-checked and compiled. Call it before
    /// anything asks for diagnostics or code.
    pub fn load_cache(&mut self, cache: Cache) -> CacheLoad {
        let (mut fns, mut objects) = (cache.fns.open(), cache.objects.open());
        let files = self.project.files(&self.db).clone();
        // Keys and decoding on every core: they are most of a fresh build's
        // time. A file's functions are looked at only without its object.
        let found = parallel::map(&self.db, &files, 1, |db, &source| {
            let key = persist::file_key(db, source);
            let object = objects.get::<CachedObject>(&key);
            let fns = match object {
                Ok(_) => Vec::new(),
                Err(_) => persist::file_keys(db, source).iter().map(|key| (*key, fns.get::<CachedFn>(key))).collect(),
            };
            (key, object, fns)
        });
        let mut load = CacheLoad::default();
        let (mut fn_entries, mut object_entries) = (FxHashMap::default(), FxHashMap::default());
        let mut stored_files = FxHashMap::default();
        for (&file, (file_key, object, found)) in files.iter().zip(found) {
            match object {
                Ok(object) => {
                    load.reused += object.object.function_count();
                    stored_files.insert(file, file_key);
                    object_entries.insert(file_key, Arc::new(object));
                }
                Err(miss) => load.damaged += forget_damaged(&mut objects, &file_key, miss),
            }
            for (key, found) in found {
                match found {
                    Ok(entry) => {
                        load.reused += 1;
                        fn_entries.insert(key, Arc::new(entry));
                    }
                    Err(miss) => load.damaged += forget_damaged(&mut fns, &key, miss),
                }
            }
        }
        CodeCache::get(&self.db).set_entries(&mut self.db).with_durability(STABLE).to(Arc::new(fn_entries));
        CodeCache::get(&self.db).set_objects(&mut self.db).with_durability(STABLE).to(Arc::new(object_entries));
        *self.disk.get_mut() =
            Some(DiskCache { cache, fns, objects, stored_files, last_stored: Vec::new(), adopted: false });
        load
    }

    /// Stores the functions and files compiled since the cache was loaded,
    /// and returns how many functions. Call it after a successful
    /// [`Session::link`].
    pub fn store_cache(&self) -> usize {
        let mut disk = self.disk.borrow_mut();
        let Some(disk) = disk.as_mut() else { return 0 };
        let db = &self.db;
        let changed = self.changed_files(&disk.stored_files);
        let fresh_fns: Vec<(FnKey, CachedFn)> = changed
            .iter()
            .filter(|&&(file, _)| persist::file_cached_object(db, file).is_none())
            .flat_map(|&(file, _)| db::file_fns(db, file).iter().zip(persist::file_keys(db, file)))
            .filter(|(_, key)| !disk.fns.contains(key))
            .filter_map(|(&f, &key)| Some((key, persist::compile_for_cache(db, f)?)))
            .collect();
        let fresh_objects: Vec<(FnKey, CachedObject)> = changed
            .iter()
            .filter(|(_, key)| !disk.objects.contains(key))
            .filter_map(|&(file, key)| Some((key, persist::object_for_cache(db, file)?)))
            .collect();
        let files = self.project.files(db);
        let live_fns = || files.iter().flat_map(|&file| persist::file_keys(db, file)).copied().collect();
        let live_objects = || files.iter().map(|&file| persist::file_key(db, file)).collect();
        // A cache that cannot be written only makes the next build slower.
        let stored = disk.cache.fns.store(&mut disk.fns, &fresh_fns, self.function_count(), live_fns).is_ok()
            && disk.cache.objects.store(&mut disk.objects, &fresh_objects, files.len(), live_objects).is_ok();
        if stored {
            disk.stored_files.extend(changed);
        }
        if !disk.adopted {
            disk.last_stored = fresh_objects.into_iter().map(|(key, object)| (key, Arc::new(object))).collect();
        }
        fresh_fns.len()
    }

    /// Once per session, after the first [`Session::store_cache`]: takes
    /// the objects it stored as cached, as a later process would. For a
    /// long-lived session (`watch`) whose first build compiled the program:
    /// from then on, an edit re-verifies each unchanged file as a whole,
    /// not each of its functions' queries (which made every edit of such a
    /// session about half again slower).
    pub fn adopt_stored_objects(&mut self) {
        let Some(disk) = self.disk.get_mut() else { return };
        if std::mem::replace(&mut disk.adopted, true) || disk.last_stored.is_empty() {
            return;
        }
        let mut objects = (**CodeCache::get(&self.db).objects(&self.db)).clone();
        objects.extend(disk.last_stored.drain(..));
        CodeCache::get(&self.db).set_objects(&mut self.db).with_durability(STABLE).to(Arc::new(objects));
    }

    /// The program's files whose [`persist::file_key`] is not the one `seen`
    /// holds, with their key.
    fn changed_files(&self, seen: &FxHashMap<SourceFile, FnKey>) -> Vec<(SourceFile, FnKey)> {
        let files = self.project.files(&self.db).iter();
        files
            .map(|&file| (file, persist::file_key(&self.db, file)))
            .filter(|(file, key)| seen.get(file) != Some(key))
            .collect()
    }

    /// The program's diagnostics, its files type-checked on every core.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        self.on_changed_files(&self.checked, parallel::check);
        db::diagnostics(&self.db, self.project)
    }

    /// Runs `work` on the files whose [`persist::file_key`] is not the one
    /// `seen` holds, and records their keys there.
    fn on_changed_files(&self, seen: &RefCell<FxHashMap<SourceFile, FnKey>>, work: fn(&Database, &[SourceFile])) {
        let changed = self.changed_files(&seen.borrow());
        let files: Vec<SourceFile> = changed.iter().map(|&(file, _)| file).collect();
        work(&self.db, &files);
        seen.borrow_mut().extend(changed);
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics().iter().any(|d| d.level == Level::Error)
    }

    /// The source files of the program (today the entry alone; imported
    /// files once modules exist): what `watch` must watch.
    pub fn files(&self) -> Vec<PathBuf> {
        self.project.files(&self.db).iter().map(|f| f.path(&self.db).clone()).collect()
    }

    /// Replaces the text of one of the program's files (a watch event).
    /// Returns false if the path is not part of the program.
    pub fn set_text(&mut self, path: &Path, text: String) -> bool {
        let Some(file) = self.project.files(&self.db).iter().copied().find(|f| f.path(&self.db) == path) else {
            return false;
        };
        if *file.text(&self.db) != text {
            file.set_text(&mut self.db).to(text);
            // Only this file's imports can have changed.
            self.load_imports(file);
            self.load_functions(file);
        }
        true
    }

    /// Adds the cached functions of `file` to the code cache. The cache had
    /// the file's object, so they were not read then; now that the file
    /// changed, an edit of one of its functions compiles that one alone.
    fn load_functions(&mut self, file: SourceFile) {
        let Some(disk) = self.disk.get_mut() else { return };
        let entries = CodeCache::get(&self.db).entries(&self.db);
        let found: Vec<(FnKey, Arc<CachedFn>)> = persist::file_keys(&self.db, file)
            .iter()
            .filter(|key| !entries.contains_key(*key))
            .filter_map(|key| Some((*key, Arc::new(disk.fns.get::<CachedFn>(key).ok()?))))
            .collect();
        if found.is_empty() {
            return;
        }
        let mut entries = (**entries).clone();
        entries.extend(found);
        CodeCache::get(&self.db).set_entries(&mut self.db).with_durability(STABLE).to(Arc::new(entries));
    }

    pub fn function_count(&self) -> usize {
        self.functions().count()
    }

    /// How many functions the program has, and how many had their code
    /// generated since the last call (needs `open_logged`).
    pub fn codegen_counts(&self) -> (usize, usize) {
        let total = self.function_count();
        let rebuilt = self.db.take_executions().iter().filter(|(query, _)| query == "codegen_fn").count();
        (rebuilt, total)
    }

    pub fn text_of(&self, path: &Path) -> Option<String> {
        self.project.files(&self.db).iter().find(|f| f.path(&self.db) == path).map(|f| f.text(&self.db).clone())
    }

    /// Generates code for every function not yet compiled or cached, on
    /// every core. [`Session::link`] does this itself; calling it first only
    /// separates the two in `--stats`.
    pub fn codegen(&self) {
        self.on_changed_files(&self.compiled, parallel::codegen);
    }

    /// The SMF bytes of the program.
    pub fn link(&self) -> Result<&[u8], BuildError> {
        self.codegen();
        db::link_smf(&self.db, self.project).as_deref().map_err(Clone::clone)
    }
}

/// How much a write must survive.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Durable {
    /// A build's output: on disk before the rename, so a crash leaves the
    /// old file or the new one.
    Yes,
    /// A module kept only to be reused (`run`, `watch`): a crash may leave
    /// it damaged, which the loader detects (module hash) and the driver
    /// rebuilds; skipping the flush saves most of a big write.
    CacheOnly,
}

/// Renames `tmp` over `path`. On Linux the two are exchanged and the old
/// file then deleted: ext4 treats a rename over an existing file as a
/// replace-by-rename and starts writing the new file's data out first
/// (`auto_da_alloc`), which costs about 8 ms for a 9 MB module in every
/// watch rebuild. An exchange is as atomic and skips that.
fn replace_unsynced(tmp: &Path, path: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
        let (from, to) = (c(tmp)?, c(path)?);
        // SAFETY: two NUL-terminated paths that outlive the call.
        let exchanged = unsafe {
            libc::renameat2(libc::AT_FDCWD, from.as_ptr(), libc::AT_FDCWD, to.as_ptr(), libc::RENAME_EXCHANGE)
        } == 0;
        // Otherwise (no `path` yet, or a file system without exchange) rename.
        if exchanged {
            // The module is in place; a leftover old copy is only litter.
            let _ = std::fs::remove_file(tmp);
            return Ok(());
        }
    }
    std::fs::rename(tmp, path)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, then a rename, so readers never see a torn module.
pub fn write_atomic(path: &Path, bytes: &[u8], durable: Durable) -> Result<(), DriverError> {
    let err = |source| DriverError::Write { path: path.to_owned(), source };
    match std::fs::metadata(path) {
        // A device or pipe (`-o /dev/stdout`) is written in place: renaming
        // over it would replace the device node.
        Ok(meta) if !meta.is_file() => return std::fs::write(path, bytes).map_err(err),
        // Through a symlink, replace the file it points to, not the link.
        Ok(_) if path.is_symlink() => {
            let target = std::fs::canonicalize(path).map_err(err)?;
            return write_atomic(&target, bytes, durable);
        }
        _ => {}
    }
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp{}", std::process::id()));
    let result = (|| {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if durable == Durable::Yes {
            f.sync_data()?;
            return std::fs::rename(&tmp, path);
        }
        replace_unsynced(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_whole_files_and_leave_nothing_behind() {
        let dir = std::env::temp_dir().join(format!("simple-write-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.smf");
        for (bytes, durable) in
            [(&b"first"[..], Durable::CacheOnly), (b"second", Durable::CacheOnly), (b"3", Durable::Yes)]
        {
            write_atomic(&path, bytes, durable).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), bytes);
            let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
            assert_eq!(names, ["m.smf"]);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
