//! A compilation session: reads the program's files into the database and
//! builds its SMF module, reusing `FILE.smf` when its source hash matches.

use std::path::{Path, PathBuf};

use simple_compiler::db::{self, BuildError};
use simple_compiler::diagnostics::{Diagnostic, Level};
use simple_compiler::{Database, Options, Project, SourceFile};

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

pub struct Session {
    pub db: Database,
    pub project: Project,
    pub entry: SourceFile,
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
        let project = Project::new(&db, entry, vec![entry]);
        let mut session = Session { db, project, entry };
        session.load_imports();
        Ok(session)
    }

    /// Adds every file the program imports, transitively, to the project.
    /// A module file that cannot be read is left out: the compiler then
    /// reports the import that names it.
    fn load_imports(&mut self) {
        use salsa::Setter;
        let dir = self.entry.path(&self.db).parent().map(Path::to_path_buf).unwrap_or_default();
        let mut files = self.project.files(&self.db).clone();
        let mut next = 0;
        while next < files.len() {
            let imports = db::file_items(&self.db, files[next]).imports.clone();
            next += 1;
            for import in imports {
                let path = simple_compiler::items::module_file(&dir, &import.path);
                if files.iter().any(|f| *f.path(&self.db) == path) {
                    continue;
                }
                if let Ok(text) = read_source(&path) {
                    files.push(SourceFile::new(&self.db, path, text));
                }
            }
        }
        if files != *self.project.files(&self.db) {
            self.project.set_files(&mut self.db).to(files);
        }
    }

    pub fn diagnostics(&self) -> &[Diagnostic] {
        db::diagnostics(&self.db, self.project)
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
        use salsa::Setter;
        let Some(file) = self.project.files(&self.db).iter().copied().find(|f| f.path(&self.db) == path) else {
            return false;
        };
        if *file.text(&self.db) != text {
            file.set_text(&mut self.db).to(text);
            self.load_imports();
        }
        true
    }

    /// How many functions the program has, and how many had their code
    /// generated since the last call (needs `open_logged`).
    pub fn codegen_counts(&self) -> (usize, usize) {
        let total = self.project.files(&self.db).iter().map(|&f| db::file_fns(&self.db, f).len()).sum();
        let rebuilt = self.db.take_executions().iter().filter(|(query, _)| query == "codegen_fn").count();
        (rebuilt, total)
    }

    pub fn text_of(&self, path: &Path) -> Option<String> {
        self.project.files(&self.db).iter().find(|f| f.path(&self.db) == path).map(|f| f.text(&self.db).clone())
    }

    pub fn source_hash(&self) -> [u8; 32] {
        db::source_hash(&self.db, self.project)
    }

    /// The SMF bytes of the program.
    pub fn link(&self) -> Result<&[u8], BuildError> {
        simple_compiler::parallel::codegen_all(&self.db, self.project);
        db::link_smf(&self.db, self.project).as_deref().map_err(Clone::clone)
    }
}

/// `FILE.spl` → `FILE.smf`.
pub fn smf_path(source: &Path) -> PathBuf {
    source.with_extension("smf")
}

/// Whether `smf` exists and was built from exactly these sources, compiler
/// and options. A file that cannot be read or parsed is simply stale.
pub fn is_up_to_date(smf: &Path, source_hash: &[u8; 32]) -> bool {
    let Ok(mut file) = std::fs::File::open(smf) else { return false };
    let mut header = vec![0u8; simple_smf::HEADER_SIZE];
    use std::io::Read;
    if file.read_exact(&mut header).is_err() {
        return false;
    }
    simple_smf::read_header(&header).is_ok_and(|h| &h.source_hash == source_hash)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, then a rename, so readers never see a torn module.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DriverError> {
    let err = |source| DriverError::Write { path: path.to_owned(), source };
    match std::fs::metadata(path) {
        // A device or pipe (`-o /dev/stdout`) is written in place: renaming
        // over it would replace the device node.
        Ok(meta) if !meta.is_file() => return std::fs::write(path, bytes).map_err(err),
        // Through a symlink, replace the file it points to, not the link.
        Ok(_) if path.is_symlink() => {
            let target = std::fs::canonicalize(path).map_err(err)?;
            return write_atomic(&target, bytes);
        }
        _ => {}
    }
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp{}", std::process::id()));
    let result = (|| {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_data()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}
