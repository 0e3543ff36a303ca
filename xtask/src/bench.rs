//! `cargo xtask bench`: runs every program of testdata/bench in Simple and in
//! its peers (gcc -O2, python3, lua5.4, luajit), N times each, alternating the
//! implementations round-robin (A B C D A B C D ...), and prints median wall
//! times, median peak memory (each run's maximum RSS, from wait4), their
//! ratios, and the project's performance targets read off them. Every run's
//! stdout must equal the C peer's. A benchmark whose Simple version does not
//! compile or run is reported as failed, with its first error line, and the
//! run goes on.
//!
//! Measuring notes (see BENCHMARKING.md): the machine is shared and noisy, so
//! only medians and ratios measured side by side mean anything; gcc -O2 inlines
//! naive recursive fib into itself, so fib stays out of the geometric mean and
//! is compared with gcc -O1 apart.

use crate::json::Json;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{IsTerminal, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

pub const USAGE: &str = "\
usage: cargo xtask bench [options]

Runs testdata/bench/*.spl with `simple run` (after one warm-up run that
compiles and caches the SMF module) beside the peers NAME.c (gcc -O2),
NAME.py (python3) and NAME.lua (lua5.4, luajit), alternating implementations
round-robin, and prints median wall times, median peak memory (max RSS),
their ratios and the targets (geomean simple/gcc, geomean python3/simple,
binary_trees simple/gcc, the largest simple/gcc peak memory). `simple build`
(a cold compile) is timed too. C peers are built with `gcc -O2 ... -lm`.

options:
  --runs N          timed runs per (program, implementation) [default: 5]
  --filter NAME     only benchmarks whose name contains NAME (repeatable)
  --skip IMPLS      comma-separated implementations to leave out:
                    simple, gcc, python3, lua5.4, luajit
  --json            also write the results to TARGET_DIR/bench.json
  --no-build        do not run `cargo build --release -p simple` first
  --simple PATH     use this `simple` binary (implies --no-build)
  --timeout SECS    kill a run after SECS seconds [default: 300]
  -h, --help        print this help

TARGET_DIR is $CARGO_TARGET_DIR if set, else <workspace>/target.
";

/// Benchmarks whose simple/gcc ratio stays out of the geometric mean: gcc -O2
/// turns naive recursive fib into a partly unrolled loop (BENCHMARKING.md).
const GEOMEAN_EXCLUDED: &[&str] = &["fib"];
/// Benchmarks also compiled with gcc -O1, to compare call cost fairly.
const GCC_O1_BENCHES: &[&str] = &["fib"];

/// Command-line options, `--name value` or `--name=value`.
pub(crate) struct Args<'a> {
    it: std::slice::Iter<'a, String>,
}

impl<'a> Args<'a> {
    pub(crate) fn new(args: &'a [String]) -> Args<'a> {
        Args { it: args.iter() }
    }

    /// The next option's name, with its value if written `--name=value`.
    pub(crate) fn next_option(&mut self) -> Option<(&'a str, Option<String>)> {
        let arg = self.it.next()?;
        Some(match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        })
    }

    /// The value of option `name`: `inline`, or else the next argument.
    pub(crate) fn value(&mut self, name: &str, inline: Option<String>, what: &str) -> Result<String, String> {
        match inline {
            Some(v) => Ok(v),
            None => self.it.next().cloned().ok_or_else(|| format!("`{name}` needs {what}")),
        }
    }
}

pub struct Options {
    runs: usize,
    filters: Vec<String>,
    skip: Vec<Impl>,
    json: bool,
    build: bool,
    simple: Option<PathBuf>,
    timeout: Duration,
}

impl Options {
    /// `Ok(None)` means help was asked for.
    pub fn parse(args: &[String]) -> Result<Option<Options>, String> {
        let mut opts = Options {
            runs: 5,
            filters: Vec::new(),
            skip: Vec::new(),
            json: false,
            build: true,
            simple: None,
            timeout: Duration::from_secs(300),
        };
        let mut args = Args::new(args);
        while let Some((name, inline)) = args.next_option() {
            let mut value = |what: &str| args.value(name, inline.clone(), what);
            match name {
                "-h" | "--help" => return Ok(None),
                "--runs" | "-n" => {
                    let v = value("a number")?;
                    opts.runs = v
                        .parse::<usize>()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| format!("`--runs` needs a positive number, not `{v}`"))?;
                }
                "--filter" => opts.filters.push(value("a benchmark name")?),
                "--skip" => {
                    for key in value("a list of implementations")?.split(',').filter(|s| !s.is_empty()) {
                        let imp = Impl::from_key(key.trim()).ok_or_else(|| {
                            format!("unknown implementation `{key}` (simple, gcc, python3, lua5.4, luajit)")
                        })?;
                        opts.skip.push(imp);
                        if imp == Impl::Simple {
                            opts.skip.push(Impl::SimpleBuild);
                        }
                        if imp == Impl::Gcc {
                            opts.skip.push(Impl::GccO1);
                        }
                    }
                }
                "--json" => opts.json = true,
                "--no-build" => opts.build = false,
                "--simple" => {
                    opts.simple = Some(PathBuf::from(value("a path")?));
                    opts.build = false;
                }
                "--timeout" => {
                    let v = value("a number of seconds")?;
                    let secs = v
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s > 0.0)
                        .ok_or_else(|| format!("`--timeout` needs a positive number of seconds, not `{v}`"))?;
                    opts.timeout = Duration::from_secs_f64(secs);
                }
                _ if !name.starts_with('-') => {
                    // `cargo xtask bench fib` as a shorthand for `--filter fib`.
                    opts.filters.push(name.to_string());
                }
                _ => return Err(format!("unknown option `{name}`")),
            }
        }
        Ok(Some(opts))
    }
}

/// One way of running a benchmark.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Impl {
    Simple,
    Gcc,
    GccO1,
    Python,
    Lua,
    LuaJit,
    /// `simple build` of the program from scratch: a compile time, not a run.
    SimpleBuild,
}

/// The columns of the main table, in order.
const TABLE: &[Impl] = &[Impl::Simple, Impl::Gcc, Impl::Python, Impl::Lua, Impl::LuaJit];
/// The order of one round.
const ROUND: &[Impl] =
    &[Impl::Simple, Impl::Gcc, Impl::GccO1, Impl::Python, Impl::Lua, Impl::LuaJit, Impl::SimpleBuild];

impl Impl {
    fn key(self) -> &'static str {
        match self {
            Impl::Simple => "simple",
            Impl::Gcc => "gcc",
            Impl::GccO1 => "gcc-O1",
            Impl::Python => "python3",
            Impl::Lua => "lua5.4",
            Impl::LuaJit => "luajit",
            Impl::SimpleBuild => "simple-build",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Impl::Simple => "simple",
            Impl::Gcc => "gcc -O2",
            Impl::GccO1 => "gcc -O1",
            Impl::Python => "python3",
            Impl::Lua => "lua5.4",
            Impl::LuaJit => "luajit",
            Impl::SimpleBuild => "simple build",
        }
    }

    fn from_key(key: &str) -> Option<Impl> {
        Some(match key {
            "simple" => Impl::Simple,
            "gcc" | "c" => Impl::Gcc,
            "gcc-O1" => Impl::GccO1,
            "python3" | "python" | "py" => Impl::Python,
            "lua5.4" | "lua" => Impl::Lua,
            "luajit" => Impl::LuaJit,
            "simple-build" => Impl::SimpleBuild,
            _ => return None,
        })
    }

    /// Whether its stdout must match the reference (a compile prints nothing).
    fn checks_output(self) -> bool {
        self != Impl::SimpleBuild
    }
}

/// A tool found on this machine, or why it is unavailable.
pub(crate) type Tool = Result<PathBuf, String>;

struct Tools {
    simple: Tool,
    gcc: Tool,
    python: Tool,
    lua: Tool,
    luajit: Tool,
    /// Tool name -> version text, for the report.
    versions: Vec<(String, String)>,
}

/// How one (benchmark, implementation) pair ended up.
#[derive(Clone)]
enum Cell {
    /// Not run: no peer source, tool missing, or skipped (the reason).
    Absent(String),
    Failed(Failure),
    Mismatch {
        expected: String,
        got: String,
    },
    Ok(Samples),
}

/// Why a run failed: one line for the report, and the longer story.
#[derive(Clone)]
struct Failure {
    /// How it ended and the first error line of its stderr.
    line: String,
    /// How it ended and the start of its stderr.
    detail: String,
}

impl Failure {
    /// A failure told in one line, such as a peer that did not compile.
    fn new(line: String) -> Failure {
        Failure { detail: line.clone(), line }
    }
}

/// The measurements of the timed runs of one (benchmark, implementation).
#[derive(Clone, Default)]
struct Samples {
    secs: Vec<f64>,
    /// Peak resident set size per run in KiB, where the platform reports it.
    peak_kib: Vec<u64>,
}

impl Samples {
    fn median_peak_kib(&self) -> Option<f64> {
        median(&self.peak_kib.iter().map(|&k| k as f64).collect::<Vec<_>>())
    }
}

impl Cell {
    fn median(&self) -> Option<f64> {
        match self {
            Cell::Ok(samples) => median(&samples.secs),
            _ => None,
        }
    }

    /// The median peak RSS in KiB.
    fn median_peak_kib(&self) -> Option<f64> {
        match self {
            Cell::Ok(samples) => samples.median_peak_kib(),
            _ => None,
        }
    }

    fn text(&self) -> String {
        match self {
            Cell::Absent(_) => "-".into(),
            Cell::Failed(_) => "FAILED".into(),
            Cell::Mismatch { .. } => "MISMATCH".into(),
            Cell::Ok(samples) => median(&samples.secs).map_or("-".into(), |m| format!("{m:.3}")),
        }
    }

    /// The median peak RSS in MiB, for the memory table.
    fn peak_text(&self) -> String {
        match self {
            Cell::Ok(_) => self.median_peak_kib().map_or("-".into(), |k| format!("{:.1}", k / 1024.0)),
            _ => self.text(),
        }
    }
}

/// A command line and where the files it needs live.
#[derive(Clone)]
pub(crate) struct Cmd {
    program: PathBuf,
    args: Vec<OsString>,
    /// Deleted before each run (the SMF output of `simple build`).
    remove_first: Option<PathBuf>,
    /// The working directory, if not ours.
    cwd: Option<PathBuf>,
    /// Whether the peak RSS must be the program's own (see `exact_peak`).
    exact_peak: bool,
}

impl Cmd {
    pub(crate) fn new(program: &Path, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Cmd {
        Cmd {
            program: program.to_path_buf(),
            args: args.iter().map(|a| a.as_ref().to_os_string()).collect(),
            remove_first: None,
            cwd: None,
            exact_peak: false,
        }
    }

    /// The same command, run in `dir`.
    pub(crate) fn in_dir(mut self, dir: &Path) -> Cmd {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    /// The same command, started by fork and exec rather than posix_spawn,
    /// so that its peak RSS is its own: exec starts the process's maximum
    /// at the peak of the address space it replaces, which for a posix_spawn
    /// child is all of xtask's and for a forked one only its copy of our few
    /// anonymous pages. Forking costs a little more time.
    pub(crate) fn exact_peak(mut self) -> Cmd {
        self.exact_peak = true;
        self
    }

    pub(crate) fn display(&self) -> String {
        let mut s = match &self.cwd {
            Some(dir) => format!("cd {} && {}", dir.display(), self.program.display()),
            None => self.program.display().to_string(),
        };
        for a in &self.args {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    }
}

pub(crate) struct Outcome {
    pub(crate) secs: f64,
    pub(crate) status: Option<ExitStatus>,
    /// The peak resident set size in KiB of the process and of the
    /// descendants it waited for (wait4's ru_maxrss), at least xtask's own
    /// unless the command asked for `exact_peak`; `None` off Unix.
    pub(crate) peak_kib: Option<u64>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) timed_out: bool,
}

impl Outcome {
    pub(crate) fn success(&self) -> bool {
        !self.timed_out && self.status.is_some_and(|s| s.success())
    }

    /// Why a run did not succeed, in one line plus the start of its stderr.
    pub(crate) fn failure(&self, timeout: Duration) -> String {
        let mut why = self.ending(timeout);
        let err = first_lines(&self.stderr, 6);
        if !err.is_empty() {
            why.push_str(": ");
            why.push_str(&err);
        }
        why
    }

    /// Why a run did not succeed, with only the first error line of stderr.
    fn failure_line(&self, timeout: Duration) -> String {
        let mut why = self.ending(timeout);
        if let Some(line) = error_line(&self.stderr) {
            why.push_str(": ");
            why.push_str(line);
        }
        why
    }

    /// How the process ended, such as "exit status 1".
    fn ending(&self, timeout: Duration) -> String {
        if self.timed_out {
            format!("timed out after {} s", timeout.as_secs_f64())
        } else {
            match self.status {
                Some(s) => match s.code() {
                    Some(c) => format!("exit status {c}"),
                    None => format!("killed by a signal ({s})"),
                },
                None => "could not wait for the process".into(),
            }
        }
    }
}

struct BenchResult {
    name: String,
    /// The stdout every implementation must print, and who printed it first.
    expected: Option<(String, Impl)>,
    cells: BTreeMap<Impl, Cell>,
}

impl BenchResult {
    fn cell(&self, imp: Impl) -> &Cell {
        static ABSENT: std::sync::OnceLock<Cell> = std::sync::OnceLock::new();
        self.cells.get(&imp).unwrap_or_else(|| ABSENT.get_or_init(|| Cell::Absent("not applicable".into())))
    }

    fn median(&self, imp: Impl) -> Option<f64> {
        self.cell(imp).median()
    }
}

pub fn run(root: &Path, opts: Options) -> Result<(), String> {
    let bench_dir = root.join("testdata").join("bench");
    let target_dir = target_dir(root);
    let work = target_dir.join("bench-work");
    let names = find_benchmarks(&bench_dir, &opts.filters)?;
    if names.is_empty() {
        return Err(if opts.filters.is_empty() {
            format!("no benchmarks (*.spl) in {}", bench_dir.display())
        } else {
            format!("no benchmark in {} matches {:?}", bench_dir.display(), opts.filters)
        });
    }
    // A fresh work directory: the compiled C peers, and copies of the .spl
    // sources so that `simple run` caches its SMF modules here and not in the
    // source tree.
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|e| format!("cannot clear {}: {e}", work.display()))?;
    }
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;

    let tools = find_tools(root, &target_dir, &opts);
    eprintln!("tools:");
    for (imp, tool) in [
        ("simple", &tools.simple),
        ("gcc", &tools.gcc),
        ("python3", &tools.python),
        ("lua5.4", &tools.lua),
        ("luajit", &tools.luajit),
    ] {
        let version = tools.versions.iter().find(|(n, _)| n == imp).map(|(_, v)| v.as_str());
        match tool {
            Ok(p) => eprintln!("  {imp:<8} {} {}", p.display(), version.map(|v| format!("({v})")).unwrap_or_default()),
            Err(e) => eprintln!("  {imp:<8} unavailable: {e}"),
        }
    }
    eprintln!("{} benchmark(s), {} timed run(s) each, implementations alternating round-robin", names.len(), opts.runs);

    let started = Instant::now();
    let load_before = load_average();
    let mut results = Vec::new();
    for name in &names {
        results.push(run_benchmark(name, &bench_dir, &work, &tools, &opts));
    }
    let session = Session { secs: started.elapsed().as_secs_f64(), load_before, load_after: load_average() };

    let report = render_report(&results, &opts, &session);
    print!("{report}");
    let _ = std::io::stdout().flush();

    if opts.json {
        let path = target_dir.join("bench.json");
        let json = to_json(&results, &tools, &opts, &session).pretty();
        std::fs::write(&path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Facts about the whole run, for judging how noisy it was.
struct Session {
    secs: f64,
    load_before: Option<String>,
    load_after: Option<String>,
}

/// The 1/5/15-minute load averages (Linux), e.g. "1.20 0.90 0.50".
pub(crate) fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    (fields.len() == 3).then(|| fields.join(" "))
}

pub(crate) fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                // Cargo resolves a relative CARGO_TARGET_DIR against the
                // directory it was started in, which `cargo run` keeps.
                std::env::current_dir().map(|cwd| cwd.join(&dir)).unwrap_or(dir)
            }
        }
        None => root.join("target"),
    }
}

fn find_benchmarks(dir: &Path, filters: &[String]) -> Result<Vec<String>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let path = e.path();
            (path.extension()? == "spl").then(|| path.file_stem()?.to_str().map(str::to_string))?
        })
        .filter(|name| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    names.sort();
    Ok(names)
}

fn find_tools(root: &Path, target_dir: &Path, opts: &Options) -> Tools {
    let mut versions = Vec::new();
    let skipped = |imp: Impl| opts.skip.contains(&imp);

    let simple = if skipped(Impl::Simple) {
        Err("skipped (--skip)".to_string())
    } else if let Some(path) = &opts.simple {
        if path.is_file() { Ok(path.clone()) } else { Err(format!("{} does not exist", path.display())) }
    } else {
        let bin = target_dir.join("release").join(format!("simple{}", std::env::consts::EXE_SUFFIX));
        let built = if opts.build { build_simple(root) } else { Ok(()) };
        match built {
            Ok(()) if bin.is_file() => Ok(bin),
            Ok(()) => {
                Err(format!("{} does not exist (build it with `cargo build --release -p simple`)", bin.display()))
            }
            Err(e) => Err(e),
        }
    };

    let gcc = if skipped(Impl::Gcc) { Err("skipped (--skip)".into()) } else { which("gcc") };
    if let Ok(g) = &gcc
        && let Some(v) = capture_version(g, &["-dumpfullversion"])
    {
        versions.push(("gcc".into(), v));
    }

    let python = if skipped(Impl::Python) { Err("skipped (--skip)".into()) } else { find_python() };
    if let Ok(p) = &python
        && let Some(v) = capture_version(p, &["--version"])
    {
        versions.push(("python3".into(), v));
    }

    let lua = if skipped(Impl::Lua) { Err("skipped (--skip)".into()) } else { find_lua54() };
    if let Ok(l) = &lua
        && let Some(v) = capture_version(l, &["-v"])
    {
        versions.push(("lua5.4".into(), v));
    }

    let luajit = if skipped(Impl::LuaJit) { Err("skipped (--skip)".into()) } else { which("luajit") };
    if let Ok(l) = &luajit
        && let Some(v) = capture_version(l, &["-v"])
    {
        versions.push(("luajit".into(), v));
    }

    Tools { simple, gcc, python, lua, luajit, versions }
}

/// `cargo build --release -p simple`, with cargo's output on our stderr.
pub(crate) fn build_simple(root: &Path) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building simple: cargo build --release -p simple");
    let status = Command::new(&cargo)
        .args(["build", "--release", "-p", "simple"])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", Path::new(&cargo).display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo build --release -p simple` failed ({status}); see its output above"))
    }
}

/// Looks a program up on PATH.
pub(crate) fn which(name: &str) -> Tool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if is_executable(&candidate) {
            return Ok(candidate);
        }
    }
    Err(format!("`{name}` not found on PATH"))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// The python3 interpreter itself: a pyenv shim on PATH adds ~130 ms to
/// every start, so prefer /usr/bin/python3, else ask python3 where it is.
fn find_python() -> Tool {
    let system = Path::new("/usr/bin/python3");
    if is_executable(system) {
        return Ok(system.to_path_buf());
    }
    let shim = which("python3")?;
    let out = Command::new(&shim)
        .args(["-c", "import sys; print(sys.executable)"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", shim.display()))?;
    let exe = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && !exe.is_empty() && is_executable(Path::new(&exe)) {
        Ok(PathBuf::from(exe))
    } else {
        Ok(shim)
    }
}

/// `lua5.4`, or a `lua` that says it is 5.4.
fn find_lua54() -> Tool {
    if let Ok(p) = which("lua5.4") {
        return Ok(p);
    }
    if let Ok(p) = which("lua")
        && capture_version(&p, &["-v"]).is_some_and(|v| v.contains("Lua 5.4"))
    {
        return Ok(p);
    }
    Err("`lua5.4` not found on PATH (apt-get install lua5.4)".into())
}

/// The first line a `--version`-style command prints (on stdout or stderr).
fn capture_version(program: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).stdin(Stdio::null()).output().ok()?;
    let text = if out.stdout.is_empty() { out.stderr } else { out.stdout };
    let line = String::from_utf8_lossy(&text).lines().next()?.trim().to_string();
    (!line.is_empty()).then_some(line)
}

/// Prepares the commands of one benchmark, warms up, then runs the rounds.
fn run_benchmark(name: &str, bench_dir: &Path, work: &Path, tools: &Tools, opts: &Options) -> BenchResult {
    let mut result = BenchResult { name: name.to_string(), expected: None, cells: BTreeMap::new() };
    let mut cmds: BTreeMap<Impl, Cmd> = BTreeMap::new();
    let source = |ext: &str| bench_dir.join(format!("{name}.{ext}"));
    let mut set = |result: &mut BenchResult, imp: Impl, cmd: Result<Cmd, Cell>| match cmd {
        Ok(cmd) => {
            cmds.insert(imp, cmd);
        }
        Err(cell) => {
            result.cells.insert(imp, cell);
        }
    };
    eprintln!("{name}:");

    // Simple: a private copy of the source, so the SMF cache lands in `work`.
    let spl = work.join(format!("{name}.spl"));
    let simple_cmds = match &tools.simple {
        Err(e) => Err(Cell::Failed(Failure::new(format!("simple unavailable: {e}")))),
        Ok(simple) => match std::fs::copy(source("spl"), &spl) {
            Err(e) => Err(Cell::Failed(Failure::new(format!("cannot copy {}: {e}", source("spl").display())))),
            Ok(_) => {
                let smf = work.join(format!("{name}.build.smf"));
                let mut build = Cmd::new(simple, &[&"build", &spl, &"-o", &smf]).exact_peak();
                build.remove_first = Some(smf);
                Ok((Cmd::new(simple, &[&"run", &spl]).exact_peak(), build))
            }
        },
    };
    match simple_cmds {
        Ok((run, build)) => {
            set(&mut result, Impl::Simple, Ok(run));
            set(&mut result, Impl::SimpleBuild, Ok(build));
        }
        Err(cell) => {
            if opts.skip.contains(&Impl::Simple) {
                set(&mut result, Impl::Simple, Err(Cell::Absent("skipped (--skip)".into())));
                set(&mut result, Impl::SimpleBuild, Err(Cell::Absent("skipped (--skip)".into())));
            } else {
                set(&mut result, Impl::Simple, Err(cell.clone()));
                set(&mut result, Impl::SimpleBuild, Err(cell));
            }
        }
    }

    // C: compiled now, into `work`.
    let c = source("c");
    let mut levels = vec![(Impl::Gcc, "-O2")];
    if GCC_O1_BENCHES.contains(&name) {
        levels.push((Impl::GccO1, "-O1"));
    }
    for (imp, level) in levels {
        let cmd = if !c.is_file() {
            Err(Cell::Absent(format!("no {}", c.display())))
        } else {
            match &tools.gcc {
                Err(e) => Err(Cell::Absent(format!("gcc unavailable: {e}"))),
                Ok(gcc) => {
                    let exe = work.join(format!("{name}.gcc{level}"));
                    compile_c(gcc, level, &c, &exe)
                        .map(|()| Cmd::new(&exe, &[]).exact_peak())
                        .map_err(|e| Cell::Failed(Failure::new(e)))
                }
            }
        };
        set(&mut result, imp, cmd);
    }

    // Interpreters run the sources where they are.
    for (imp, ext, tool) in
        [(Impl::Python, "py", &tools.python), (Impl::Lua, "lua", &tools.lua), (Impl::LuaJit, "lua", &tools.luajit)]
    {
        let file = source(ext);
        let cmd = if !file.is_file() {
            Err(Cell::Absent(format!("no {}", file.display())))
        } else {
            match tool {
                Err(e) => Err(Cell::Absent(e.clone())),
                Ok(interp) => Ok(Cmd::new(interp, &[&file]).exact_peak()),
            }
        };
        set(&mut result, imp, cmd);
    }

    // Warm-up, untimed: the C peers give the reference output; `simple run`
    // compiles and caches its SMF module, so the timed runs load the cache.
    for imp in [Impl::Gcc, Impl::GccO1, Impl::Simple] {
        let Some(cmd) = cmds.get(&imp) else { continue };
        eprint!("  warm-up {:<13}", imp.label());
        let out = run_once(cmd, opts.timeout);
        eprintln!(" {:.3} s", out.secs);
        if let Some(bad) = judge(&mut result, imp, &out, opts.timeout) {
            result.cells.insert(imp, bad);
            cmds.remove(&imp);
            // `simple build` stays: it is timed (and judged) on its own.
        }
    }
    if let Some(cmd) = cmds.get(&Impl::Simple) {
        let smf = spl.with_extension("smf");
        if !smf.is_file() {
            eprintln!("  note: `{}` left no {}; timed runs may include compiling", cmd.display(), smf.display());
        }
    }

    // The timed rounds: A B C D A B C D ...
    let tty = std::io::stderr().is_terminal();
    for round in 0..opts.runs {
        let order: Vec<Impl> = ROUND.iter().copied().filter(|i| cmds.contains_key(i)).collect();
        if order.is_empty() {
            break;
        }
        if tty {
            eprint!("\r  round {}/{}", round + 1, opts.runs);
        } else {
            eprint!("  round {}/{}:", round + 1, opts.runs);
        }
        for imp in order {
            let cmd = &cmds[&imp];
            let out = run_once(cmd, opts.timeout);
            if !tty {
                eprint!(" {} {:.3}", imp.key(), out.secs);
            }
            match judge(&mut result, imp, &out, opts.timeout) {
                None => {
                    // A failed implementation is never run again, so the cell is Ok.
                    if let Cell::Ok(samples) = result.cells.entry(imp).or_insert_with(|| Cell::Ok(Samples::default())) {
                        samples.secs.push(out.secs);
                        samples.peak_kib.extend(out.peak_kib);
                    }
                }
                Some(bad) => {
                    result.cells.insert(imp, bad);
                    cmds.remove(&imp);
                }
            }
        }
        if !tty {
            eprintln!();
        }
    }
    if tty {
        eprintln!();
    }
    result
}

/// Checks a run; `Some(cell)` if it failed or printed the wrong output. The
/// first successful run of a checked implementation sets the expected output
/// when no C peer did.
fn judge(result: &mut BenchResult, imp: Impl, out: &Outcome, timeout: Duration) -> Option<Cell> {
    if !out.success() {
        return Some(Cell::Failed(Failure { line: out.failure_line(timeout), detail: out.failure(timeout) }));
    }
    if !imp.checks_output() {
        return None;
    }
    match &result.expected {
        None => {
            result.expected = Some((out.stdout.clone(), imp));
            None
        }
        Some((expected, _)) if *expected == out.stdout => None,
        Some((expected, _)) => Some(Cell::Mismatch { expected: expected.clone(), got: out.stdout.clone() }),
    }
}

/// `gcc LEVEL -o EXE SRC -lm`: the math library is linked for `sqrt`, whose
/// inlined instruction keeps a library call for the errno case.
fn compile_c(gcc: &Path, level: &str, src: &Path, exe: &Path) -> Result<(), String> {
    let out = Command::new(gcc)
        .arg(level)
        .arg("-o")
        .arg(exe)
        .arg(src)
        .arg("-lm")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", gcc.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("gcc {level} failed: {}", first_lines(&String::from_utf8_lossy(&out.stderr), 6)))
    }
}

/// Runs a command once, timing it from spawn to exit, with a watchdog that
/// kills it (by its pid) after `timeout`.
pub(crate) fn run_once(cmd: &Cmd, timeout: Duration) -> Outcome {
    let failed = |why: String| Outcome {
        secs: 0.0,
        status: None,
        peak_kib: None,
        stdout: String::new(),
        stderr: why,
        timed_out: false,
    };
    if let Some(path) = &cmd.remove_first
        && let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        return failed(format!("cannot remove {}: {e}", path.display()));
    }
    let start = Instant::now();
    let mut command = Command::new(&cmd.program);
    if let Some(dir) = &cmd.cwd {
        command.current_dir(dir);
    }
    #[cfg(unix)]
    if cmd.exact_peak {
        use std::os::unix::process::CommandExt;
        // A pre_exec hook makes std fork instead of posix_spawn.
        // SAFETY: the hook does nothing, which is async-signal-safe.
        unsafe {
            command.pre_exec(|| Ok(()));
        }
    }
    let child = command.args(&cmd.args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return failed(format!("cannot start {}: {e}", cmd.program.display())),
    };
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = reader(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = reader(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));

    let pid = child.id();
    let timed_out = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = {
        let timed_out = Arc::clone(&timed_out);
        thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(timeout) {
                timed_out.store(true, Ordering::SeqCst);
                // `kill` is a shell builtin, so this needs no kill binary.
                let _ = Command::new("/bin/sh")
                    .args(["-c", &format!("kill -KILL {pid}")])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        })
    };
    let (status, peak_kib) = wait_with_peak(&mut child);
    let secs = start.elapsed().as_secs_f64();
    let _ = done_tx.send(());
    let _ = watchdog.join();
    Outcome {
        secs,
        status,
        peak_kib,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        timed_out: timed_out.load(Ordering::SeqCst),
    }
}

/// Waits for the child; returns its exit status and its peak RSS in KiB.
/// wait4 reports the largest resident set of the child and of the
/// descendants it waited for, so a `simple run` that ran the program in a
/// process of its own is measured whole.
#[cfg(unix)]
fn wait_with_peak(child: &mut Child) -> (Option<ExitStatus>, Option<u64>) {
    use std::os::unix::process::ExitStatusExt;
    let Ok(pid) = libc::pid_t::try_from(child.id()) else { return (child.wait().ok(), None) };
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is a struct of integers, for which all-zero bytes are valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live locals; `pid` is our child, which
        // nothing else reaps (std's Child waits only when asked to).
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return (None, None);
        }
    }
    // Linux reports KiB, macOS bytes.
    let max_rss = if cfg!(target_os = "macos") { usage.ru_maxrss / 1024 } else { usage.ru_maxrss };
    (Some(ExitStatus::from_raw(status)), u64::try_from(max_rss).ok())
}

#[cfg(not(unix))]
fn wait_with_peak(child: &mut Child) -> (Option<ExitStatus>, Option<u64>) {
    (child.wait().ok(), None)
}

/// The line of a failed run's stderr that says what went wrong: the first
/// that reads like an error ("error: ...", "error[E1]: ...", Python's
/// "ValueError: ..."), or else the first non-blank one.
fn error_line(stderr: &str) -> Option<&str> {
    let mut lines = stderr.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.clone().next()?;
    let looks_like_error = |l: &&str| {
        let lower = l.to_ascii_lowercase();
        lower.starts_with("error") || lower.contains("error:")
    };
    Some(lines.find(looks_like_error).unwrap_or(first))
}

pub(crate) fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut s = lines.iter().take(n).copied().collect::<Vec<_>>().join(" | ");
    if lines.len() > n {
        s.push_str(" | ...");
    }
    s
}

pub(crate) fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut v = samples.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[mid] } else { (v[mid - 1] + v[mid]) / 2.0 })
}

fn geomean(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| v.is_nan() || *v <= 0.0 || !v.is_finite()) {
        return None;
    }
    Some((values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp())
}

/// The ratio columns: (label, numerator, denominator).
const RATIOS: &[(&str, Impl, Impl)] = &[
    ("simple/gcc", Impl::Simple, Impl::Gcc),
    ("python/simple", Impl::Python, Impl::Simple),
    ("lua/simple", Impl::Lua, Impl::Simple),
    ("luajit/simple", Impl::LuaJit, Impl::Simple),
];

fn ratio(r: &BenchResult, num: Impl, den: Impl) -> Option<f64> {
    Some(r.median(num)? / r.median(den)?)
}

/// The memory ratio column, beside the time ratios: Simple's median peak RSS
/// over the C peer's.
const MEM_RATIO_LABEL: &str = "mem simple/gcc";

fn mem_ratio(r: &BenchResult) -> Option<f64> {
    Some(r.cell(Impl::Simple).median_peak_kib()? / r.cell(Impl::Gcc).median_peak_kib()?)
}

/// A bound a ratio should keep.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Goal {
    AtMost(f64),
    AtLeast(f64),
}

impl Goal {
    fn met(self, x: f64) -> bool {
        match self {
            Goal::AtMost(g) => x <= g,
            Goal::AtLeast(g) => x >= g,
        }
    }

    fn text(self) -> String {
        match self {
            Goal::AtMost(g) => format!("<= {g}x"),
            Goal::AtLeast(g) => format!(">= {g}x"),
        }
    }
}

/// One of the project's performance targets, measured.
struct Target {
    /// A stable name, for the JSON.
    key: &'static str,
    what: String,
    value: Option<f64>,
    goal: Goal,
    /// The benchmarks the value was computed over.
    over: Vec<String>,
}

/// The targets: the time geomeans against gcc -O2 and python3 (without
/// GEOMEAN_EXCLUDED), binary-trees against C with malloc/free, and the
/// largest peak memory relative to the C peer over every benchmark.
fn targets(results: &[BenchResult]) -> Vec<Target> {
    let (gcc, gcc_over) = ratio_geomean(results, Impl::Simple, Impl::Gcc);
    let (python, python_over) = ratio_geomean(results, Impl::Python, Impl::Simple);
    let trees = results.iter().find(|r| r.name == "binary_trees");
    let trees_ratio = trees.and_then(|r| ratio(r, Impl::Simple, Impl::Gcc));
    let worst_mem =
        results.iter().filter_map(|r| Some((mem_ratio(r)?, r.name.clone()))).max_by(|a, b| a.0.total_cmp(&b.0));
    vec![
        Target {
            key: "geomean_simple_over_gcc",
            what: format!("geomean simple/gcc -O2 time ({} benchmark(s))", gcc_over.len()),
            value: gcc,
            goal: Goal::AtMost(2.0),
            over: gcc_over,
        },
        Target {
            key: "geomean_python3_over_simple",
            what: format!("geomean python3/simple time ({} benchmark(s))", python_over.len()),
            value: python,
            goal: Goal::AtLeast(30.0),
            over: python_over,
        },
        Target {
            key: "binary_trees_simple_over_gcc",
            what: "binary_trees simple/gcc -O2 time".into(),
            value: trees_ratio,
            goal: Goal::AtMost(3.0),
            over: trees.filter(|_| trees_ratio.is_some()).map(|r| r.name.clone()).into_iter().collect(),
        },
        Target {
            key: "max_peak_memory_simple_over_gcc",
            what: match &worst_mem {
                Some((_, name)) => format!("largest simple/gcc peak memory ({name})"),
                None => "largest simple/gcc peak memory".into(),
            },
            value: worst_mem.as_ref().map(|(x, _)| *x),
            goal: Goal::AtMost(3.0),
            over: results.iter().filter(|r| mem_ratio(r).is_some()).map(|r| r.name.clone()).collect(),
        },
    ]
}

/// The geometric mean of one ratio column over the benchmarks that count.
fn ratio_geomean(results: &[BenchResult], num: Impl, den: Impl) -> (Option<f64>, Vec<String>) {
    let mut values = Vec::new();
    let mut names = Vec::new();
    for r in results.iter().filter(|r| !GEOMEAN_EXCLUDED.contains(&r.name.as_str())) {
        if let Some(x) = ratio(r, num, den) {
            values.push(x);
            names.push(r.name.clone());
        }
    }
    (geomean(&values), names)
}

fn render_report(results: &[BenchResult], opts: &Options, session: &Session) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nmedian wall time in seconds ({} run(s) each, alternating; `simple run` of a cached SMF module)",
        opts.runs
    );
    let cpus = thread::available_parallelism().map_or(0, |n| n.get());
    let load = match (&session.load_before, &session.load_after) {
        (Some(a), Some(b)) => format!("; load average {a} before, {b} after"),
        _ => String::new(),
    };
    let _ = writeln!(out, "{cpus} cpu(s), {:.0} s in all{load}\n", session.secs);

    // Medians.
    let mut rows = vec![{
        let mut h = vec!["benchmark".to_string()];
        h.extend(TABLE.iter().map(|i| i.label().to_string()));
        h.push("simple build".into());
        h
    }];
    for r in results {
        let mut row = vec![r.name.clone()];
        row.extend(TABLE.iter().map(|&i| r.cell(i).text()));
        row.push(r.cell(Impl::SimpleBuild).text());
        rows.push(row);
    }
    out.push_str(&table(&rows));

    // Peak memory.
    let _ = writeln!(out, "\npeak memory in MiB (median of the runs' maximum resident set size)\n");
    let mut rows = vec![{
        let mut h = vec!["benchmark".to_string()];
        h.extend(TABLE.iter().map(|i| i.label().to_string()));
        h
    }];
    for r in results {
        let mut row = vec![r.name.clone()];
        row.extend(TABLE.iter().map(|&i| r.cell(i).peak_text()));
        rows.push(row);
    }
    out.push_str(&table(&rows));

    // Ratios.
    let _ = writeln!(out, "\nratios of the medians (above 1: the first is slower, or needs more memory)\n");
    let mut rows = vec![{
        let mut h = vec!["benchmark".to_string()];
        h.extend(RATIOS.iter().map(|(l, _, _)| l.to_string()));
        h.push(MEM_RATIO_LABEL.to_string());
        h
    }];
    let fmt = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.2}x"));
    for r in results {
        let excluded = GEOMEAN_EXCLUDED.contains(&r.name.as_str());
        let mut row = vec![if excluded { format!("{} *", r.name) } else { r.name.clone() }];
        row.extend(RATIOS.iter().map(|&(_, n, d)| fmt(ratio(r, n, d))));
        row.push(fmt(mem_ratio(r)));
        rows.push(row);
    }
    let counted = results.iter().filter(|r| !GEOMEAN_EXCLUDED.contains(&r.name.as_str())).count();
    if counted > 0 {
        let mut row = vec![format!("geomean (without {})", GEOMEAN_EXCLUDED.join(", "))];
        row.extend(RATIOS.iter().map(|&(_, n, d)| fmt(ratio_geomean(results, n, d).0)));
        row.push(String::new());
        rows.push(row);
    }
    out.push_str(&table(&rows));

    // Targets.
    let _ = writeln!(out, "\ntargets\n");
    let mut rows = vec![["target", "value", "goal", ""].map(String::from).to_vec()];
    for t in targets(results) {
        let verdict = match t.value {
            Some(x) if t.goal.met(x) => "ok",
            Some(_) => "MISSED",
            None => "-",
        };
        rows.push(vec![t.what, fmt(t.value), t.goal.text(), verdict.to_string()]);
    }
    out.push_str(&table(&rows));
    let _ = writeln!(
        out,
        "(the geomeans leave out {}; the peak memory bound holds for every benchmark)",
        GEOMEAN_EXCLUDED.join(", ")
    );

    // What the python3 goal asks, in terms of C.
    if let (Some(python_gcc), _) = ratio_geomean(results, Impl::Python, Impl::Gcc) {
        let _ = writeln!(
            out,
            "(python3 is {} slower than gcc -O2 over the same benchmarks: python3/simple >= 30x needs simple/gcc <= {})",
            fmt(Some(python_gcc)),
            fmt(Some(python_gcc / 30.0)),
        );
    }

    // fib apart: gcc -O2 inlines the recursion into itself.
    for r in results.iter().filter(|r| GCC_O1_BENCHES.contains(&r.name.as_str())) {
        let _ = writeln!(
            out,
            "* {}: gcc -O2 inlines the recursion (BENCHMARKING.md); against gcc -O1 ({}) simple/gcc-O1 = {}, simple/gcc-O2 = {}",
            r.name,
            r.cell(Impl::GccO1).text(),
            fmt(ratio(r, Impl::Simple, Impl::GccO1)),
            fmt(ratio(r, Impl::Simple, Impl::Gcc)),
        );
    }

    // Why cells are empty or bad; one line per distinct reason.
    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
    let mut note = |what: String, place: String| match grouped.iter_mut().find(|(w, _)| *w == what) {
        Some((_, places)) => places.push(place),
        None => grouped.push((what, vec![place])),
    };
    let mut mismatches = String::new();
    for r in results {
        for (&imp, cell) in &r.cells {
            let place = format!("{} {}", r.name, imp.label());
            match cell {
                Cell::Absent(why) if why.starts_with("skipped") => {}
                Cell::Absent(why) => note(format!("not run: {why}"), place),
                Cell::Failed(why) => note(format!("FAILED: {}", why.line), place),
                Cell::Mismatch { expected, got } => {
                    let by = r.expected.as_ref().map_or("reference", |(_, i)| i.label());
                    let _ = writeln!(
                        mismatches,
                        "  {place}: MISMATCH\n    expected (from {by}): {expected:?}\n    got: {got:?}"
                    );
                }
                Cell::Ok(_) => {}
            }
        }
        if let Some((_, by)) = &r.expected
            && *by != Impl::Gcc
        {
            note(format!("no C result, so outputs were compared with {}'s", by.label()), r.name.clone());
        }
    }
    let mut notes = mismatches;
    for (what, places) in &grouped {
        let _ = writeln!(notes, "  {}: {what}", places.join(", "));
    }
    if !opts.skip.is_empty() {
        let keys: Vec<&str> =
            opts.skip.iter().filter(|i| !matches!(i, Impl::SimpleBuild | Impl::GccO1)).map(|i| i.key()).collect();
        let _ = writeln!(notes, "  skipped: {}", keys.join(", "));
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\nnotes:\n{notes}");
    }
    out
}

/// Left-aligned first column, right-aligned others.
pub(crate) fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c == 0 {
                let _ = write!(line, "{cell:<w$}", w = widths[0]);
            } else {
                let _ = write!(line, "  {cell:>w$}", w = widths[c]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * cols.saturating_sub(1)));
            out.push('\n');
        }
    }
    out
}

fn to_json(results: &[BenchResult], tools: &Tools, opts: &Options, session: &Session) -> Json {
    let mut root = Json::obj();
    root.set(
        "generated_unix_secs",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0),
    );
    root.set("runs", opts.runs);
    root.set("cpus", thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    root.set("total_secs", session.secs);
    root.set("load_average_before", session.load_before.clone());
    root.set("load_average_after", session.load_after.clone());
    let mut tj = Json::obj();
    for (key, tool) in [
        ("simple", &tools.simple),
        ("gcc", &tools.gcc),
        ("python3", &tools.python),
        ("lua5.4", &tools.lua),
        ("luajit", &tools.luajit),
    ] {
        let mut t = Json::obj();
        match tool {
            Ok(p) => t.set("path", p.display().to_string()),
            Err(e) => t.set("unavailable", e.as_str()),
        }
        t.set("version", tools.versions.iter().find(|(n, _)| n == key).map(|(_, v)| v.clone()));
        tj.set(key, t);
    }
    root.set("tools", tj);

    let mut benches = Vec::new();
    for r in results {
        let mut b = Json::obj();
        b.set("name", r.name.as_str());
        b.set("expected_stdout", r.expected.as_ref().map(|(s, _)| s.clone()));
        b.set("expected_from", r.expected.as_ref().map(|(_, i)| i.key()));
        b.set("in_geomean", !GEOMEAN_EXCLUDED.contains(&r.name.as_str()));
        let mut impls = Json::obj();
        for (&imp, cell) in &r.cells {
            let mut c = Json::obj();
            match cell {
                Cell::Ok(samples) => {
                    c.set("status", "ok");
                    c.set("median", median(&samples.secs));
                    c.set("min", samples.secs.iter().copied().reduce(f64::min));
                    c.set("max", samples.secs.iter().copied().reduce(f64::max));
                    c.set("samples", samples.secs.clone());
                    c.set("peak_kib_median", samples.median_peak_kib());
                    c.set("peak_kib_samples", samples.peak_kib.iter().map(|&k| k as f64).collect::<Vec<_>>());
                }
                Cell::Absent(why) => {
                    c.set("status", "absent");
                    c.set("reason", why.as_str());
                }
                Cell::Failed(why) => {
                    c.set("status", "failed");
                    c.set("error_line", why.line.as_str());
                    c.set("reason", why.detail.as_str());
                }
                Cell::Mismatch { expected, got } => {
                    c.set("status", "mismatch");
                    c.set("expected", expected.as_str());
                    c.set("got", got.as_str());
                }
            }
            impls.set(imp.key(), c);
        }
        b.set("results", impls);
        let mut ratios = Json::obj();
        for &(label, n, d) in RATIOS {
            ratios.set(label, ratio(r, n, d));
        }
        if GCC_O1_BENCHES.contains(&r.name.as_str()) {
            ratios.set("simple/gcc-O1", ratio(r, Impl::Simple, Impl::GccO1));
        }
        ratios.set(MEM_RATIO_LABEL, mem_ratio(r));
        b.set("ratios", ratios);
        benches.push(b);
    }
    root.set("benchmarks", Json::Arr(benches));

    let mut gm = Json::obj();
    gm.set("excluded", GEOMEAN_EXCLUDED.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    for &(label, n, d) in RATIOS {
        let (value, names) = ratio_geomean(results, n, d);
        let mut g = Json::obj();
        g.set("value", value);
        g.set("over", names);
        gm.set(label, g);
    }
    root.set("geomean", gm);

    let mut tj = Json::obj();
    for t in targets(results) {
        let mut j = Json::obj();
        j.set("what", t.what);
        j.set("value", t.value);
        let (bound, at_most) = match t.goal {
            Goal::AtMost(g) => (g, true),
            Goal::AtLeast(g) => (g, false),
        };
        j.set(if at_most { "at_most" } else { "at_least" }, bound);
        j.set("met", t.value.map(|x| t.goal.met(x)));
        j.set("over", t.over);
        tj.set(t.key, j);
    }
    root.set("targets", tj);
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn geomean_of_ratios() {
        let g = geomean(&[2.0, 8.0]).unwrap();
        assert!((g - 4.0).abs() < 1e-12);
        assert_eq!(geomean(&[]), None);
        assert_eq!(geomean(&[1.0, 0.0]), None);
    }

    #[test]
    fn parses_options() {
        let o = Options::parse(&args("--runs 3 --filter loops --skip python3,lua --json")).unwrap().unwrap();
        assert_eq!(o.runs, 3);
        assert_eq!(o.filters, vec!["loops".to_string()]);
        assert_eq!(o.skip, vec![Impl::Python, Impl::Lua]);
        assert!(o.json && o.build);
        let o = Options::parse(&args("--runs=2 --simple /x/simple")).unwrap().unwrap();
        assert_eq!(o.runs, 2);
        assert!(!o.build);
        assert!(Options::parse(&args("--runs 0")).is_err());
        assert!(Options::parse(&args("--bogus")).is_err());
        assert!(Options::parse(&args("--help")).unwrap().is_none());
        assert!(Options::parse(&args("--skip perl")).is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn run_once_measures_peak_memory() {
        let Ok(sh) = which("sh") else { return };
        // A shell that holds a 16 MiB string, run in a child of the shell.
        let grow = "x=$(head -c 16777216 /dev/zero | tr '\\0' a); echo ${#x}";
        let out = run_once(&Cmd::new(&sh, &[&"-c", &grow]).exact_peak(), Duration::from_secs(60));
        assert!(out.success(), "{}", out.stderr);
        assert_eq!(out.stdout.trim(), "16777216");
        assert!(out.peak_kib.is_some_and(|k| k >= 16 * 1024), "{:?}", out.peak_kib);
        let small = run_once(&Cmd::new(&sh, &[&"-c", &"true"]).exact_peak(), Duration::from_secs(60));
        assert!(small.peak_kib.is_some_and(|k| k > 0 && k < 16 * 1024), "{:?}", small.peak_kib);
    }

    #[test]
    fn error_line_picks_the_error() {
        let rustc_style = "error: classes are not supported yet\n --> a.spl:3:1\n  |\n3 | class Node:\n";
        assert_eq!(error_line(rustc_style), Some("error: classes are not supported yet"));
        let python =
            "Traceback (most recent call last):\n  File \"x.py\", line 1\nZeroDivisionError: division by zero\n";
        assert_eq!(error_line(python), Some("ZeroDivisionError: division by zero"));
        assert_eq!(
            error_line("\n  lua5.4: x.lua:1: attempt to call a nil value\n"),
            Some("lua5.4: x.lua:1: attempt to call a nil value")
        );
        assert_eq!(error_line(" \n"), None);
    }

    fn ok(secs: f64, peak_kib: u64) -> Cell {
        Cell::Ok(Samples { secs: vec![secs], peak_kib: vec![peak_kib] })
    }

    fn bench(name: &str, cells: &[(Impl, Cell)]) -> BenchResult {
        BenchResult { name: name.into(), expected: None, cells: cells.iter().cloned().collect() }
    }

    #[test]
    fn targets_read_off_the_ratios() {
        let results = vec![
            bench("fib", &[(Impl::Simple, ok(10.0, 4000)), (Impl::Gcc, ok(1.0, 1000))]),
            bench(
                "binary_trees",
                &[(Impl::Simple, ok(2.0, 3000)), (Impl::Gcc, ok(1.0, 1000)), (Impl::Python, ok(80.0, 9000))],
            ),
            bench(
                "nbody",
                &[(Impl::Simple, ok(0.5, 1500)), (Impl::Gcc, ok(1.0, 1000)), (Impl::Python, ok(10.0, 9000))],
            ),
            bench("word_count", &[(Impl::Simple, Cell::Failed(Failure::new("exit status 1".into())))]),
        ];
        let t = targets(&results);
        let value = |key: &str| t.iter().find(|t| t.key == key).unwrap().value;
        // fib stays out of the geomeans: sqrt(2.0 * 0.5) and sqrt(40 * 20).
        assert!((value("geomean_simple_over_gcc").unwrap() - 1.0).abs() < 1e-12);
        assert!((value("geomean_python3_over_simple").unwrap() - 800f64.sqrt()).abs() < 1e-9);
        assert_eq!(value("binary_trees_simple_over_gcc"), Some(2.0));
        // ...but not out of the memory bound.
        let mem = t.iter().find(|t| t.key == "max_peak_memory_simple_over_gcc").unwrap();
        assert_eq!(mem.value, Some(4.0));
        assert!(mem.what.contains("(fib)"));
        assert!(!mem.goal.met(4.0) && Goal::AtLeast(30.0).met(30.0));
        assert_eq!(mem.over, vec!["fib", "binary_trees", "nbody"]);
    }

    #[test]
    fn report_shows_memory_targets_and_failures() {
        let results = vec![
            bench(
                "binary_trees",
                &[(Impl::Simple, ok(2.0, 3072)), (Impl::Gcc, ok(1.0, 1024)), (Impl::Python, ok(60.0, 8192))],
            ),
            bench(
                "word_count",
                &[
                    (
                        Impl::Simple,
                        Cell::Failed(Failure {
                            line: "exit status 1: error: dicts are not supported yet".into(),
                            detail: "exit status 1: error: dicts are not supported yet | --> word_count.spl:9:5".into(),
                        }),
                    ),
                    (Impl::Gcc, ok(0.5, 2048)),
                ],
            ),
        ];
        let opts = Options::parse(&[]).unwrap().unwrap();
        let session = Session { secs: 1.0, load_before: None, load_after: None };
        let report = render_report(&results, &opts, &session);
        assert!(report.contains("binary_trees     3.0      1.0"), "{report}");
        assert!(report.contains("mem simple/gcc"), "{report}");
        assert!(report.contains("binary_trees simple/gcc -O2 time"), "{report}");
        assert!(report.contains("python3 is 60.00x slower than gcc -O2 over the same benchmarks"), "{report}");
        assert!(report.contains("needs simple/gcc <= 2.00x"), "{report}");
        assert!(
            report.contains("word_count simple: FAILED: exit status 1: error: dicts are not supported yet\n"),
            "{report}"
        );
    }

    #[test]
    fn table_aligns_columns() {
        let t = table(&[vec!["a".into(), "bb".into()], vec!["ccc".into(), "d".into()]]);
        assert_eq!(t, "a    bb\n-------\nccc   d\n");
    }
}
