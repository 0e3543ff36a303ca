//! `simple watch FILE [ARGS]`: rebuild on every save and run the program
//! again in a child process.
//!
//! The watcher watches the parent directories of the program's files (not
//! the files themselves), so an editor's rename-and-replace save, or a file
//! deleted and created again, is seen like any write. Events are debounced:
//! the build starts once the files have been quiet for [`DEBOUNCE`], or
//! for [`SETTLE`] after a file was closed or renamed into place (a save is
//! complete), and whatever came meanwhile builds next, so the last of a
//! burst of saves is what runs in the end. Only files whose text changed
//! are handed to the session; its queries redo only what the change touched.
//!
//! The program's file list is read again after every build, since an edit
//! can import new files. The session only ever adds files, so when a module
//! file disappears (perhaps no longer imported), or while the last build
//! failed a `.spl` file appears in a watched directory (perhaps the module an
//! import is missing), the watcher opens a fresh session from the disk.
//!
//! The event loop never blocks for long ([`POLL`]): it also notices a child
//! that exited on its own and the signals that stop the watcher (SIGINT,
//! SIGTERM, SIGHUP), which a handler records in [`SIGNAL`]. Stopping the
//! watcher stops the child; a child also gets SIGTERM if the watcher dies
//! without cleaning up (`PR_SET_PDEATHSIG` on Linux).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use notify::{EventKind, RecursiveMode, Watcher};
use simple_runtime::launch::{self, WATCHER_ENV};

use crate::CompileFlags;
use crate::cache::Cache;
use crate::render;
use crate::session::{self, DriverError, Durable, Session};
use crate::stats::Stats;

/// How long the program's files must be quiet before a build starts.
const DEBOUNCE: Duration = Duration::from_millis(25);
/// The same after an event that says a file is complete (closed after
/// writing, or renamed into place), the usual end of an editor's save: only
/// long enough to take in the events of a save of several files.
const SETTLE: Duration = Duration::from_millis(2);
/// The longest a build waits for quiet: a tool that saves without pause
/// (a formatter on every keystroke, a generator) still gets builds.
const MAX_DEBOUNCE: Duration = Duration::from_millis(250);
/// The longest the loop sleeps before looking at signals and the child.
const POLL: Duration = Duration::from_millis(25);
/// How long a stopped program gets to exit after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_millis(200);

/// The last of SIGINT, SIGTERM or SIGHUP received (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    SIGNAL.store(signal, Ordering::SeqCst);
}

/// Tells the allocator never to return freed memory to the OS. Every
/// rebuild frees and allocates again about as much as the module's size; by
/// default mimalloc hands it back after a second, and the next rebuild (edits
/// come seconds apart) then spends much of its time in the kernel zeroing
/// fresh pages. The footprint stays that of the largest build.
fn keep_freed_memory() {
    /// `mi_option_purge_delay` in mimalloc.h (libmimalloc-sys names no constant for it).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets an option; mimalloc reads options at any time.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
}

fn install_signal_handlers() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: a zeroed sigaction is a valid value to fill in; the handler
        // only stores to an atomic, which is async-signal-safe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

pub fn watch(file: &Path, args: &[String], show_stats: bool, flags: CompileFlags) -> Result<ExitCode, DriverError> {
    keep_freed_memory();
    let mut session = Session::open_logged(file, flags.options())?;
    session.load_cache(Cache::for_program(file));
    install_signal_handlers();
    let (tx, rx) = mpsc::channel();
    let watcher = notify::recommended_watcher(tx)
        .map_err(|e| DriverError::Usage(format!("cannot watch `{}`: {e}", file.display())))?;
    let mut state = State {
        session,
        entry: file.to_owned(),
        smf: launch::smf_path(file),
        args: args.to_vec(),
        flags,
        watcher,
        watched_dirs: HashSet::new(),
        by_event_path: HashMap::new(),
        entry_missing: false,
        stale: false,
        failed: false,
        child: None,
        built_once: false,
        module_written: false,
        show_stats,
    };
    state.update_watches();
    state.build(Stats::start());

    let mut pending = Pending::default();
    let mut deadline = Instant::now();
    // When the first of the pending events came.
    let mut first_pending = Instant::now();
    loop {
        let signal = SIGNAL.load(Ordering::SeqCst);
        if signal != 0 {
            // A Ctrl-C in a terminal reaches the program too: its death
            // then is no news.
            state.stop_child(false);
            return Ok(ExitCode::from(128 + signal as u8));
        }
        state.poll_child();

        let timeout =
            if pending.is_empty() { POLL } else { deadline.saturating_duration_since(Instant::now()).min(POLL) };
        match rx.recv_timeout(timeout) {
            Ok(Ok(event)) => {
                let was_empty = pending.is_empty();
                if state.classify(&event, &mut pending) {
                    let now = Instant::now();
                    if was_empty {
                        first_pending = now;
                    }
                    let quiet = if is_completion(&event.kind) { SETTLE } else { DEBOUNCE };
                    deadline = (now + quiet).min(first_pending + MAX_DEBOUNCE);
                }
            }
            Ok(Err(e)) => eprintln!("[watch] file watching error: {e}"),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                state.stop_child(false);
                return Err(DriverError::Usage("the file watcher stopped".into()));
            }
        }
        if !pending.is_empty() && Instant::now() >= deadline {
            state.reload(std::mem::take(&mut pending), Stats::start());
        }
    }
}

/// What the events since the last build ask for.
#[derive(Default)]
struct Pending {
    /// Program files that may have new contents.
    changed: HashSet<PathBuf>,
    /// Start a new session from the files on disk: the set of files the
    /// program imports may have changed in a way the session cannot follow
    /// by itself (a module file deleted, a missing module created).
    reopen: bool,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.changed.is_empty() && !self.reopen
    }
}

/// Whether an event can mean new contents. Opening or reading a file (the
/// watcher's own reads, the child's) is not a change.
fn is_change(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// Whether an event says a file's new contents are complete.
fn is_completion(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
    matches!(
        kind,
        EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both))
    )
}

/// Whether an event makes a file appear (created, or renamed into place).
fn is_appearance(kind: &EventKind) -> bool {
    use notify::event::{ModifyKind, RenameMode};
    matches!(kind, EventKind::Create(_) | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both)))
}

/// A Simple source file that could be a module (not an editor's hidden
/// lock or backup file).
fn is_module_name(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "spl")
        && path.file_name().and_then(|n| n.to_str()).is_some_and(|n| !n.starts_with('.'))
}

struct State {
    session: Session,
    entry: PathBuf,
    smf: PathBuf,
    args: Vec<String>,
    flags: CompileFlags,
    watcher: notify::RecommendedWatcher,
    watched_dirs: HashSet<PathBuf>,
    /// A path as events name it (absolute; also the target of a symlink) →
    /// the program file's path as the session knows it.
    by_event_path: HashMap<PathBuf, PathBuf>,
    /// The entry file could not be read on its last change.
    entry_missing: bool,
    /// Inputs changed since the last build.
    stale: bool,
    /// The last build had compile errors.
    failed: bool,
    child: Option<Child>,
    built_once: bool,
    /// Whether the last build wrote `smf`, which the program then runs.
    module_written: bool,
    /// Print each build's stages (`--stats`).
    show_stats: bool,
}

impl State {
    /// Adds what `event` means to `pending`; whether it concerns the program.
    fn classify(&self, event: &notify::Event, pending: &mut Pending) -> bool {
        let mut ours = false;
        if is_change(&event.kind) {
            for path in &event.paths {
                if let Some(file) = self.by_event_path.get(path) {
                    pending.changed.insert(file.clone());
                    ours = true;
                } else if self.failed && is_appearance(&event.kind) && is_module_name(path) {
                    // Perhaps the module an import is missing.
                    pending.reopen = true;
                    ours = true;
                }
            }
        }
        if event.need_rescan() {
            pending.changed.extend(self.session.files());
            ours = true;
        }
        ours
    }

    /// Watches the directories of the program's current files, and only
    /// those (the file list can change with every build).
    fn update_watches(&mut self) {
        let mut by_event_path = HashMap::new();
        let mut dirs = HashSet::new();
        for file in self.session.files() {
            let Ok(abs) = std::path::absolute(&file) else { continue };
            let mut names = vec![abs.clone()];
            // An edit through a symlink changes the file it points to.
            if let Ok(real) = std::fs::canonicalize(&abs)
                && real != abs
            {
                names.push(real);
            }
            for name in names {
                if let Some(dir) = name.parent() {
                    dirs.insert(dir.to_owned());
                }
                by_event_path.insert(name, file.clone());
            }
        }
        for dir in self.watched_dirs.difference(&dirs) {
            let _ = self.watcher.unwatch(dir);
        }
        let mut watched = HashSet::new();
        for dir in dirs {
            if self.watched_dirs.contains(&dir) {
                watched.insert(dir);
                continue;
            }
            match self.watcher.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    watched.insert(dir);
                }
                Err(e) => eprintln!("[watch] cannot watch `{}`: {e}", dir.display()),
            }
        }
        self.watched_dirs = watched;
        self.by_event_path = by_event_path;
    }

    /// Reads the files that changed and rebuilds if any text did.
    fn reload(&mut self, pending: Pending, stats: Stats) {
        let mut changed: Vec<PathBuf> = pending.changed.into_iter().collect();
        changed.sort();
        let mut reopen = pending.reopen;
        for path in changed {
            match session::read_source(&path) {
                Ok(text) => {
                    if path == self.entry {
                        self.entry_missing = false;
                    }
                    if self.session.text_of(&path).as_deref() != Some(text.as_str()) {
                        self.stale |= self.session.set_text(&path, text);
                    }
                }
                Err(e) if path == self.entry => {
                    if !self.entry_missing {
                        eprintln!("[watch] {e}; waiting for it to come back");
                    }
                    self.entry_missing = true;
                }
                // A module that is gone: perhaps no longer imported either.
                // The session only ever adds files, so start afresh; the
                // compiler reports an import of a missing module.
                Err(_) => reopen = true,
            }
        }
        if self.entry_missing {
            return;
        }
        if reopen {
            match Session::open_logged(&self.entry, self.flags.options()) {
                Ok(mut session) => {
                    session.load_cache(Cache::for_program(&self.entry));
                    self.session = session;
                    self.stale = true;
                }
                Err(e) => {
                    eprintln!("[watch] {e}; waiting for it to come back");
                    self.entry_missing = true;
                    return;
                }
            }
        }
        if self.stale {
            self.build(stats);
        }
    }

    /// Compiles; on success writes the SMF and restarts the program.
    fn build(&mut self, mut stats: Stats) {
        stats.stage("reload");
        self.stale = false;
        self.failed = false;
        let session = &self.session;
        let diags = session.diagnostics();
        stats.stage("check");
        if !diags.is_empty() {
            render::emit(diags, self.flags.error_format, &|p| session.text_of(p));
        }
        let result = if session.has_errors() {
            Err(None)
        } else {
            session.codegen();
            stats.stage("codegen");
            session.link().map_err(Some)
        };
        stats.stage("link");
        let bytes = match result {
            Ok(bytes) => bytes,
            Err(e) => {
                self.failed = true;
                // Drains the query log, so the next count starts here.
                let _ = session.codegen_counts();
                if let Some(e) = e {
                    eprintln!("error: {e}");
                }
                let what = if self.built_once { "keeping the last good build" } else { "waiting for a fix" };
                eprintln!("[watch] errors; {what}");
                self.update_watches();
                return;
            }
        };
        self.module_written = session::write_atomic(&self.smf, bytes, Durable::CacheOnly)
            .inspect_err(|e| eprintln!("[watch] {e}; the program will compile itself"))
            .is_ok();
        stats.stage("write module");
        let elapsed = stats.elapsed();
        let (rebuilt, total) = session.codegen_counts();
        let verb = if self.built_once { "rebuilt" } else { "built" };
        self.built_once = true;
        self.update_watches();
        self.stop_child(true);
        self.start_child();
        eprintln!("[watch] {verb} {rebuilt} of {total} functions in {:.1} ms", elapsed.as_secs_f64() * 1e3);
        if self.show_stats {
            eprint!("{}", stats.stages());
        }
        // While the program starts: the next fresh build's gain, not this one's cost.
        self.session.store_cache();
        self.session.adopt_stored_objects();
    }

    fn start_child(&mut self) {
        // `simple`, which runs a module in less memory, if it is there:
        // `cargo run` builds `simplec` alone.
        let exe = match launch::launcher_exe().ok().filter(|exe| exe.exists()).map_or_else(std::env::current_exe, Ok) {
            Ok(exe) => exe,
            Err(e) => {
                eprintln!("[watch] cannot start the program: {e}");
                return;
            }
        };
        let mut cmd = Command::new(exe);
        cmd.env(launch::EXPECTED_BUILD_ENV, launch::RUNTIME_BUILD);
        cmd.arg("run");
        if self.module_written {
            // The module just written, so that `simple` runs it without
            // reading the sources to find out that it is up to date.
            cmd.arg(&self.smf);
        } else {
            if self.flags.no_opt {
                cmd.arg("--no-opt");
            }
            if let Some(format) = self.flags.error_format.to_possible_value() {
                cmd.args(["--error-format", format.get_name()]);
            }
            cmd.arg(&self.entry);
        }
        // After `--`, clap reads arguments that start with `-` as the
        // program's own.
        cmd.arg("--").args(&self.args);
        // Set up by the program itself (`follow_watcher`): a `pre_exec` hook
        // here would make the spawn fork this big process instead of using
        // posix_spawn, a few ms per run.
        cmd.env(WATCHER_ENV, std::process::id().to_string());
        match cmd.spawn() {
            Ok(child) => self.child = Some(child),
            Err(e) => eprintln!("[watch] cannot start the program: {e}"),
        }
    }

    /// Reports a program that exited on its own, once.
    fn poll_child(&mut self) {
        if let Some(child) = &mut self.child
            && let Ok(Some(status)) = child.try_wait()
        {
            report_exit(status);
            self.child = None;
        }
    }

    /// Stops the program: SIGTERM, then SIGKILL after [`GRACE`]. If it had
    /// already exited on its own, says so if `report`.
    fn stop_child(&mut self, report: bool) {
        let Some(mut child) = self.child.take() else { return };
        if let Ok(Some(status)) = child.try_wait() {
            if report {
                report_exit(status);
            }
            return;
        }
        // SAFETY: kill only sends a signal; the child is not reaped yet, so
        // its pid still names it.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                Err(_) => break,
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn report_exit(status: ExitStatus) {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => eprintln!("[watch] program exited with status {code}"),
        (None, Some(signal)) => eprintln!("[watch] program killed by signal {signal}"),
        _ => eprintln!("[watch] program stopped ({status})"),
    }
}
