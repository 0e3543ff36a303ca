//! Finding, checking and running a built module.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use simple_abi::build::{Options, hash_sources};
use simple_smf::LoadedModule;

/// The compiler's executable, `simplec`, which sits beside `simple`.
pub fn compiler_exe() -> std::io::Result<PathBuf> {
    sibling("simplec")
}

/// The launcher's executable, `simple`, which sits beside `simplec`.
pub fn launcher_exe() -> std::io::Result<PathBuf> {
    sibling("simple")
}

fn sibling(name: &str) -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}

/// Names the build of this runtime, the SMF loader and the ABI (a hash of
/// their sources, from `build.rs`). `simple` and `simplec` are rebuilt
/// separately by `cargo run`; a module is up to date for the one that runs
/// it only if both carry the same name.
pub const RUNTIME_BUILD: &str = env!("SIMPLE_RUNTIME_BUILD");

/// Set by `simple watch` in the programs it starts: the [`RUNTIME_BUILD`]
/// of the `simplec` that built the module. A `simple` of another build
/// hands the run to `simplec`.
pub const EXPECTED_BUILD_ENV: &str = "SIMPLE_RUNTIME_BUILD";

/// Identifies the compiler build: the size and modification time of
/// `simplec`, so a rebuilt compiler never reuses what an older one cached,
/// and [`RUNTIME_BUILD`] ([`Options::compiler_id`]). `simple` and `simplec`
/// compute the same value if they come from the same build.
pub fn compiler_id() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = rustc_hash::FxHasher::default();
    if let Ok(meta) = compiler_exe().and_then(std::fs::metadata) {
        meta.len().hash(&mut hasher);
        meta.modified().ok().hash(&mut hasher);
    }
    RUNTIME_BUILD.hash(&mut hasher);
    hasher.finish()
}

/// `FILE.spl` → `FILE.smf`.
pub fn smf_path(source: &Path) -> PathBuf {
    source.with_extension("smf")
}

/// `entry`'s module (`FILE.smf`), if it loads and is up to date ([`is_up_to_date`]).
/// A module that fails to load (truncated, corrupted) is never trusted.
pub fn load_up_to_date(entry: &Path, options: Options) -> Option<LoadedModule> {
    load(&smf_path(entry)).ok().filter(|module| is_up_to_date(module.module(), entry, options))
}

/// Whether `module` was built from `entry` and the files it imported as
/// they are now, by this compiler with these options. Reads the files the
/// module lists and nothing else: if none changed, neither did the imports.
fn is_up_to_date(module: &simple_smf::Module, entry: &Path, options: Options) -> bool {
    if module.files.first().map(Path::new) != Some(entry) {
        return false;
    }
    let mut files = Vec::with_capacity(module.files.len());
    for path in &module.files {
        match std::fs::read(path) {
            Ok(text) => files.push((Path::new(path.as_str()), *blake3::hash(&text).as_bytes())),
            Err(_) => return false,
        }
    }
    hash_sources(options, files) == module.source_hash
}

/// Loads the module at `path` against this runtime.
pub fn load(path: &Path) -> Result<LoadedModule, simple_smf::LoadError> {
    simple_smf::load(path, &crate::resolve, simple_abi::ABI_VERSION)
}

/// Runs a loaded program with these arguments; its exit status.
pub fn run(module: &LoadedModule, args: &[String]) -> ExitCode {
    crate::set_args(args);
    ExitCode::from((crate::run(module) & 255) as u8)
}

/// Names, in a program `simple watch` starts, the watcher's process id.
pub const WATCHER_ENV: &str = "SIMPLE_WATCHER_PID";

/// In a program started by `simple watch`: if the watcher dies without
/// stopping it (SIGKILL), the program gets SIGTERM. A watcher already gone
/// before this runs is noticed too (the parent is then another process).
pub fn follow_watcher() {
    #[cfg(target_os = "linux")]
    if let Some(watcher) = std::env::var(WATCHER_ENV).ok().and_then(|pid| pid.parse::<libc::pid_t>().ok()) {
        // SAFETY: prctl with these arguments has no memory-safety preconditions.
        let followed = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) } == 0;
        // SAFETY: getppid has no preconditions.
        if !followed || unsafe { libc::getppid() } != watcher {
            std::process::exit(143);
        }
    }
}
