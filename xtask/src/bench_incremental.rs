//! `cargo xtask bench-incremental`: how fast `simple` turns an edit into a
//! new build and new output, on generated projects (`cargo xtask
//! gen-project`) of 10k and 100k lines, beside `make` of the C peer.
//!
//! For each size N the project goes to TARGET_DIR/bench-incremental/N and
//! is checked first (`simple run` must print what the C program prints).
//! Then, with the release `simple` binary:
//!
//! 1. cold build: `simple build main.spl` with no `main.smf` and no
//!    `.simple-cache/` (the per-function cache), R times;
//! 2. build after a one-function edit: the line marked `# EDIT` in
//!    `edit_target()` rewritten to a new value, then `simple build` in a new
//!    process, with the cache warm, R times;
//! 3. watch: `simple watch main.spl`, its stdout and stderr read on threads;
//!    after its first build and first `edit: K`, at least 10 edits saved the
//!    way editors save (a temporary file renamed over the module), 300 ms
//!    apart. Per edit: the time from the save to the program's new
//!    `edit: K` line, the figure watch reports itself in
//!    `[watch] rebuilt R of T functions in X ms` (from the end of its 25 ms
//!    debounce to the SMF written), and the time from the save to that line.
//!    Then its peak RSS (VmHWM), SIGTERM, and a check that no process it
//!    started is left;
//! 4. the C peer: `make -j2` after `make clean`, and `make -j2` after the
//!    same edit in the C module, R times each.
//!
//! Every wait has a timeout; a hung watch is killed, never waited for.

use crate::bench::{self, Args, Cmd};
use crate::gen_project::{self, Config, Lang, Written};
use crate::json::Json;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

pub const USAGE: &str = "\
usage: cargo xtask bench-incremental [options]

Generates projects of N lines (cargo xtask gen-project) in
TARGET_DIR/bench-incremental/N and times, with the release `simple`:
a cold `simple build`; `simple build` after a one-function edit (cache
warm); `simple watch` from saving an edit to the program's new output, and
its peak memory; and the C peer's `make -j2`, cold and after the same edit.
Prints one table of medians per N, with the targets.

options:
  --lines N,...     project sizes in lines [default: 10000,100000]
  --runs R          timed runs of each build [default: 5]; watch gets
                    max(R, 10) edits
  --files F         module files per project [default: 50]
  --seed S          generator seed [default: 1]
  --json            also write TARGET_DIR/bench-incremental.json
  --no-build        do not run `cargo build --release -p simple` first
  --simple PATH     use this `simple` binary (implies --no-build)
  --timeout SECS    longest wait for any build, run or watch event [default: 120]
  -h, --help        print this help

TARGET_DIR is $CARGO_TARGET_DIR if set, else <workspace>/target.
";

/// Pause between watch edits, so that their builds do not coalesce.
const EDIT_GAP: Duration = Duration::from_millis(300);
/// The fewest watch edits.
const MIN_WATCH_EDITS: usize = 10;
/// How long watch gets to exit after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(5);

pub struct Options {
    lines: Vec<usize>,
    runs: usize,
    files: usize,
    seed: u64,
    json: bool,
    build: bool,
    simple: Option<PathBuf>,
    timeout: Duration,
}

impl Options {
    /// `Ok(None)` means help was asked for.
    pub fn parse(args: &[String]) -> Result<Option<Options>, String> {
        let mut opts = Options {
            lines: vec![10_000, 100_000],
            runs: 5,
            files: 50,
            seed: 1,
            json: false,
            build: true,
            simple: None,
            timeout: Duration::from_secs(120),
        };
        let mut args = Args::new(args);
        while let Some((name, inline)) = args.next_option() {
            let mut value = |what: &str| args.value(name, inline.clone(), what);
            match name {
                "-h" | "--help" => return Ok(None),
                "--lines" | "-n" => {
                    let v = value("a comma-separated list of line counts")?;
                    opts.lines = v
                        .split(',')
                        .filter(|s| !s.trim().is_empty())
                        .map(|s| gen_project::parse_count("--lines", s.trim()))
                        .collect::<Result<_, _>>()?;
                    if opts.lines.is_empty() {
                        return Err("`--lines` needs at least one line count".into());
                    }
                }
                "--runs" => opts.runs = gen_project::parse_count("--runs", &value("a number")?)?,
                "--files" => opts.files = gen_project::parse_count("--files", &value("a number")?)?,
                "--seed" => {
                    let v = value("a number")?;
                    opts.seed = v.parse().map_err(|_| format!("`--seed` needs a number, not `{v}`"))?;
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
                _ => return Err(format!("unknown option `{name}`")),
            }
        }
        Ok(Some(opts))
    }

    fn watch_edits(&self) -> usize {
        self.runs.max(MIN_WATCH_EDITS)
    }
}

/// Timed samples in seconds, or why there are none (or fewer than asked).
#[derive(Default)]
struct Series {
    samples: Vec<f64>,
    error: Option<String>,
}

impl Series {
    fn median(&self) -> Option<f64> {
        bench::median(&self.samples)
    }
}

#[derive(Default)]
struct WatchEdit {
    /// Save → the program's new `edit: K` line.
    to_output: Option<f64>,
    /// What watch reported, in seconds.
    reported: Option<f64>,
    /// Save → the `[watch] rebuilt` line.
    to_status: Option<f64>,
    rebuilt: Option<(u64, u64)>,
}

#[derive(Default)]
struct WatchResult {
    /// Spawn → first `[watch] built` line, and what it reported.
    first_build: Option<f64>,
    first_reported: Option<f64>,
    first_rebuilt: Option<(u64, u64)>,
    edits: Vec<WatchEdit>,
    peak_rss_kb: Option<u64>,
    /// Processes of watch's that outlived it.
    leftovers: Vec<String>,
    error: Option<String>,
}

impl WatchResult {
    fn series(&self, f: impl Fn(&WatchEdit) -> Option<f64>) -> Vec<f64> {
        self.edits.iter().filter_map(f).collect()
    }
}

struct SizeResult {
    requested: usize,
    written: Option<Written>,
    /// Empty if `simple run` and the C program agree.
    check_error: Option<String>,
    /// The `--stats` summary of one build after an edit.
    edit_stats: Option<String>,
    cold: Series,
    edit: Series,
    watch: WatchResult,
    c_cold: Series,
    c_edit: Series,
    error: Option<String>,
}

pub fn run(root: &Path, opts: Options) -> Result<(), String> {
    let target = bench::target_dir(root);
    let simple = match &opts.simple {
        Some(p) if p.is_file() => p.clone(),
        Some(p) => return Err(format!("{} does not exist", p.display())),
        None => {
            if opts.build {
                bench::build_simple(root)?;
            }
            let bin = target.join("release").join(format!("simple{}", std::env::consts::EXE_SUFFIX));
            if !bin.is_file() {
                return Err(format!(
                    "{} does not exist (build it with `cargo build --release -p simple`)",
                    bin.display()
                ));
            }
            bin
        }
    };
    for tool in ["make", "gcc"] {
        bench::which(tool).map_err(|e| format!("{e}: the C peer needs it"))?;
    }
    eprintln!("simple: {}", simple.display());
    eprintln!(
        "sizes: {}; {} timed build(s) each, {} watch edit(s)",
        opts.lines.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", "),
        opts.runs,
        opts.watch_edits()
    );
    let started = Instant::now();
    let load_before = bench::load_average();
    // Values for the edit line: different on every edit of the session.
    let mut next_value = 1_000i64;
    let mut results = Vec::new();
    for &n in &opts.lines {
        let dir = target.join("bench-incremental").join(n.to_string());
        results.push(bench_size(n, &dir, &simple, &opts, &mut next_value));
    }
    let secs = started.elapsed().as_secs_f64();
    let load_after = bench::load_average();

    let mut out = String::new();
    let cpus = thread::available_parallelism().map_or(0, |n| n.get());
    let load = match (&load_before, &load_after) {
        (Some(a), Some(b)) => format!("; load average {a} before, {b} after"),
        _ => String::new(),
    };
    let _ = writeln!(out, "\nincremental builds: medians in ms; {cpus} cpu(s), {secs:.0} s in all{load}");
    for r in &results {
        out.push_str(&render(r, &opts));
    }
    print!("{out}");
    let _ = std::io::stdout().flush();

    if opts.json {
        let path = target.join("bench-incremental.json");
        let json = to_json(&results, &opts, &simple, secs, &load_before, &load_after);
        std::fs::write(&path, json.pretty()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    let failed: Vec<String> = results
        .iter()
        .filter(|r| r.error.is_some() || r.check_error.is_some())
        .map(|r| r.requested.to_string())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("the benchmark failed for {} lines (see above)", failed.join(", ")))
    }
}

/// Everything for one project size. Failures are recorded, not returned,
/// so that the other sizes still run.
fn bench_size(n: usize, dir: &Path, simple: &Path, opts: &Options, next_value: &mut i64) -> SizeResult {
    let mut r = SizeResult {
        requested: n,
        written: None,
        check_error: None,
        edit_stats: None,
        cold: Series::default(),
        edit: Series::default(),
        watch: WatchResult::default(),
        c_cold: Series::default(),
        c_edit: Series::default(),
        error: None,
    };
    eprintln!("\n{n} lines: generating {}", dir.display());
    let t = Instant::now();
    let config = Config { lines: n, files: opts.files, seed: opts.seed };
    let written = match gen_project::generate(&config).write(dir) {
        Ok(w) => w,
        Err(e) => {
            r.error = Some(format!("gen-project: {e}"));
            return r;
        }
    };
    eprintln!(
        "  {} lines of Simple in {} files, {} functions; {} lines of C ({:.1} s)",
        written.simple_lines,
        written.simple_files,
        written.functions,
        written.c_lines,
        t.elapsed().as_secs_f64()
    );

    eprintln!("  checking that `simple run` prints what the C program prints");
    if let Err(e) = gen_project::check_outputs(simple, &written, opts.timeout) {
        eprintln!("  MISMATCH or failure: {e}");
        r.check_error = Some(e);
    }

    let entry = &written.entry;
    let smf = entry.with_extension("smf");
    let cache = written.simple_dir.join(".simple-cache");
    // `simple build main.spl` in the project directory, as watch is run:
    // compiled code holds the entry path as given (for runtime error
    // messages), so the function cache only serves the same spelling.
    let dir = &written.simple_dir;
    let build = Cmd::new(simple, &[&"build", &"main.spl"]).in_dir(dir);

    // 1. Cold builds.
    eprint!("  cold build:");
    for _ in 0..opts.runs {
        let cleared = remove_file(&smf).and_then(|()| remove_dir(&cache));
        if let Err(e) = cleared {
            r.cold.error = Some(e);
            break;
        }
        if !timed(&build, opts.timeout, &mut r.cold) {
            break;
        }
    }
    eprintln!();

    // 2. Builds after a one-function edit, cache warm.
    eprint!("  build after an edit:");
    for _ in 0..opts.runs {
        *next_value += 1;
        if let Err(e) = edit_file(&written.edit_spl, Lang::Simple, *next_value) {
            r.edit.error = Some(e);
            break;
        }
        if !timed(&build, opts.timeout, &mut r.edit) {
            break;
        }
    }
    eprintln!();
    // One more, untimed, for the compiled/reused counts.
    *next_value += 1;
    if edit_file(&written.edit_spl, Lang::Simple, *next_value).is_ok() {
        let out = bench::run_once(&Cmd::new(simple, &[&"build", &"--stats", &"main.spl"]).in_dir(dir), opts.timeout);
        if out.success() {
            r.edit_stats = out.stderr.lines().next().map(str::to_string);
        }
    }

    // 3. Watch.
    eprint!("  watch:");
    r.watch = measure_watch(simple, &written, opts, next_value);
    eprintln!();
    if let Some(e) = &r.watch.error {
        eprintln!("  watch FAILED: {e}");
    }

    // 4. The C peer.
    let make = Cmd::new(Path::new("make"), &[&"-s", &"-C", &written.c_dir, &"-j2"]);
    let clean = Cmd::new(Path::new("make"), &[&"-s", &"-C", &written.c_dir, &"clean"]);
    eprint!("  C cold make -j2:");
    for _ in 0..opts.runs {
        let out = bench::run_once(&clean, opts.timeout);
        if !out.success() {
            r.c_cold.error = Some(format!("`{}` failed: {}", clean.display(), out.failure(opts.timeout)));
            break;
        }
        if !timed(&make, opts.timeout, &mut r.c_cold) {
            break;
        }
    }
    eprintln!();
    eprint!("  C make -j2 after an edit:");
    for _ in 0..opts.runs {
        *next_value += 1;
        if let Err(e) = edit_file(&written.edit_c, Lang::C, *next_value) {
            r.c_edit.error = Some(e);
            break;
        }
        if !timed(&make, opts.timeout, &mut r.c_edit) {
            break;
        }
    }
    eprintln!();
    r.written = Some(written);
    r
}

/// Runs `cmd` once and adds its time to `series`; false (and the error
/// recorded) if it failed.
fn timed(cmd: &Cmd, timeout: Duration, series: &mut Series) -> bool {
    let out = bench::run_once(cmd, timeout);
    if out.success() {
        eprint!(" {:.0}", out.secs * 1e3);
        series.samples.push(out.secs);
        true
    } else {
        eprint!(" FAILED");
        series.error = Some(format!("`{}` failed: {}", cmd.display(), out.failure(timeout)));
        false
    }
}

fn remove_file(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("cannot remove {}: {e}", path.display())),
        _ => Ok(()),
    }
}

fn remove_dir(path: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("cannot remove {}: {e}", path.display())),
        _ => Ok(()),
    }
}

/// The file with its edit line holding `value`.
fn edited_text(path: &Path, lang: Lang, value: i64) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    gen_project::rewrite_edit_line(&text, lang, value).map_err(|e| format!("{}: {e}", path.display()))
}

/// Saves `text` the way editors do: a temporary file in the same directory,
/// renamed over the file.
fn save_like_an_editor(path: &Path, text: &str) -> Result<(), String> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.xtask-save"));
    std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot rename {} to {}: {e}", tmp.display(), path.display())
    })
}

fn edit_file(path: &Path, lang: Lang, value: i64) -> Result<(), String> {
    save_like_an_editor(path, &edited_text(path, lang, value)?)
}

// ---------------------------------------------------------------------------
// Watch.

#[derive(Clone, Copy)]
enum Stream {
    Out,
    Err,
}

/// A line from watch (or the end of one of its streams).
struct Event {
    at: Instant,
    stream: Stream,
    /// None: the stream closed.
    line: Option<String>,
}

/// `simple watch` and the threads reading it. Dropping it kills the process
/// if it still runs, so no early return leaves it behind.
struct Watch {
    child: Child,
    events: mpsc::Receiver<Event>,
    /// The last lines seen, for error messages.
    log: Vec<String>,
    closed: usize,
}

impl Drop for Watch {
    /// After an error: kill watch and whatever it started.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let below = descendants(self.child.id());
            let _ = self.child.kill();
            let _ = self.child.wait();
            for (pid, start, _) in below {
                if process_start(pid) == Some(start) {
                    signal(pid, "KILL");
                }
            }
        }
    }
}

impl Watch {
    fn spawn(simple: &Path, dir: &Path) -> Result<Watch, String> {
        let mut child = Command::new(simple)
            .args(["watch", "main.spl"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start `{} watch`: {e}", simple.display()))?;
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>);
        let err = child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>);
        for (pipe, which) in [(out, Stream::Out), (err, Stream::Err)] {
            let tx = tx.clone();
            // Detached: a reader ends when the last holder of the pipe exits.
            thread::spawn(move || {
                if let Some(pipe) = pipe {
                    let mut reader = BufReader::new(pipe);
                    let mut buf = Vec::new();
                    loop {
                        buf.clear();
                        match reader.read_until(b'\n', &mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(_) => {
                                let line = String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']).to_string();
                                if tx.send(Event { at: Instant::now(), stream: which, line: Some(line) }).is_err() {
                                    return;
                                }
                            }
                        }
                    }
                }
                let _ = tx.send(Event { at: Instant::now(), stream: which, line: None });
            });
        }
        Ok(Watch { child, events: rx, log: Vec::new(), closed: 0 })
    }

    fn remember(&mut self, e: &Event) {
        if let Some(line) = &e.line {
            let tag = match e.stream {
                Stream::Out => "stdout",
                Stream::Err => "stderr",
            };
            self.log.push(format!("{tag}: {line}"));
            if self.log.len() > 12 {
                self.log.remove(0);
            }
        }
    }

    fn recent(&self) -> String {
        if self.log.is_empty() { "(no output)".into() } else { self.log.join(" | ") }
    }

    /// The next event before `deadline`; an error on timeout or when watch
    /// has closed both streams.
    fn next(&mut self, deadline: Instant, waiting_for: &str) -> Result<Event, String> {
        loop {
            if self.closed >= 2 {
                let status = self.child.try_wait().ok().flatten().map_or("?".to_string(), |s| s.to_string());
                return Err(format!(
                    "watch exited ({status}) while waiting for {waiting_for}; last output: {}",
                    self.recent()
                ));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(e) => {
                    if e.line.is_none() {
                        self.closed += 1;
                        continue;
                    }
                    self.remember(&e);
                    return Ok(e);
                }
                Err(_) => {
                    return Err(format!("timed out waiting for {waiting_for}; last output: {}", self.recent()));
                }
            }
        }
    }

    /// Reads events until `deadline`, for the quiet time between edits.
    fn drain_until(&mut self, deadline: Instant) -> Result<(), String> {
        loop {
            match self.next(deadline, "nothing") {
                Ok(e) => check_event(&e)?,
                Err(e) if e.starts_with("timed out") => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// SIGTERM, then (after STOP_GRACE) SIGKILL; reports processes watch
    /// started that outlived it, and kills them.
    fn stop(mut self) -> Result<Vec<String>, String> {
        let pid = self.child.id();
        let descendants = descendants(pid);
        signal(pid, "TERM");
        let deadline = Instant::now() + STOP_GRACE;
        let mut exited = false;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) => {
                    exited = true;
                    break;
                }
                Ok(None) => thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(format!("cannot wait for watch: {e}")),
            }
        }
        let mut problems = Vec::new();
        if !exited {
            problems
                .push(format!("watch (pid {pid}) did not exit within {} s of SIGTERM; killed", STOP_GRACE.as_secs()));
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // Give its children the time watch gives them (200 ms) and a bit.
        thread::sleep(Duration::from_millis(300));
        for (cpid, start, comm) in descendants {
            if process_start(cpid).is_some_and(|s| s == start) {
                problems.push(format!("pid {cpid} ({comm}) outlived watch; killed"));
                signal(cpid, "KILL");
            }
        }
        Ok(problems)
    }
}

/// Stops on the lines that mean a build failed.
fn check_event(e: &Event) -> Result<(), String> {
    match (&e.stream, &e.line) {
        (Stream::Err, Some(line)) if line.starts_with("[watch] errors") || line.starts_with("error") => {
            Err(format!("watch reported an error: {line}"))
        }
        _ => Ok(()),
    }
}

/// `[watch] built|rebuilt R of T functions in X ms` → (R, T, X in seconds).
fn parse_status(line: &str) -> Option<(u64, u64, f64)> {
    let rest = line.strip_prefix("[watch] ")?;
    let rest = rest.strip_prefix("rebuilt ").or_else(|| rest.strip_prefix("built "))?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    match words.as_slice() {
        [r, "of", t, "functions", "in", x, "ms"] => {
            Some((r.parse().ok()?, t.parse().ok()?, x.parse::<f64>().ok()? / 1e3))
        }
        _ => None,
    }
}

fn measure_watch(simple: &Path, w: &Written, opts: &Options, next_value: &mut i64) -> WatchResult {
    let mut result = WatchResult::default();
    let watch = match Watch::spawn(simple, &w.simple_dir) {
        Ok(watch) => watch,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    // On an error the watch is dropped, which kills it and what it started.
    if let Err(e) = drive_watch(watch, w, opts, next_value, &mut result) {
        result.error = Some(e);
    }
    result
}

fn drive_watch(
    mut watch: Watch,
    w: &Written,
    opts: &Options,
    next_value: &mut i64,
    result: &mut WatchResult,
) -> Result<(), String> {
    let spawned = Instant::now();
    let current = std::fs::read_to_string(&w.edit_spl)
        .ok()
        .and_then(|t| gen_project::read_edit_value(&t, Lang::Simple))
        .ok_or_else(|| format!("no edit line in {}", w.edit_spl.display()))?;
    // The first build and the first run.
    let deadline = spawned + opts.timeout;
    let (mut built, mut ran) = (false, false);
    while !(built && ran) {
        let e = watch.next(deadline, "the first build and `edit: K`")?;
        check_event(&e)?;
        match (&e.stream, e.line.as_deref()) {
            (Stream::Err, Some(line)) => {
                if let Some((r, t, x)) = parse_status(line) {
                    built = true;
                    result.first_rebuilt = Some((r, t));
                    result.first_build = Some(e.at.duration_since(spawned).as_secs_f64());
                    result.first_reported = Some(x);
                }
            }
            (Stream::Out, Some(line)) if line.starts_with("edit: ") => {
                if line != format!("edit: {current}") {
                    return Err(format!("the program printed `{line}`, but the edit line holds {current}"));
                }
                ran = true;
            }
            _ => {}
        }
    }
    for _ in 0..opts.watch_edits() {
        watch.drain_until(Instant::now() + EDIT_GAP)?;
        *next_value += 1;
        let value = *next_value;
        let text = edited_text(&w.edit_spl, Lang::Simple, value)?;
        let expected = format!("edit: {value}");
        let t0 = Instant::now();
        save_like_an_editor(&w.edit_spl, &text)?;
        let deadline = t0 + opts.timeout.min(Duration::from_secs(30));
        let mut edit = WatchEdit::default();
        while edit.to_output.is_none() || edit.to_status.is_none() {
            let e = watch.next(deadline, &format!("`{expected}` and `[watch] rebuilt ...` after an edit"))?;
            check_event(&e)?;
            match (&e.stream, e.line.as_deref()) {
                (Stream::Err, Some(line)) if edit.to_status.is_none() => {
                    if let Some((r, t, x)) = parse_status(line) {
                        edit.to_status = Some(e.at.duration_since(t0).as_secs_f64());
                        edit.reported = Some(x);
                        edit.rebuilt = Some((r, t));
                    }
                }
                (Stream::Out, Some(line)) if line == expected => {
                    edit.to_output = Some(e.at.duration_since(t0).as_secs_f64());
                }
                _ => {}
            }
        }
        eprint!(" {:.0}/{:.0}", edit.reported.unwrap_or(f64::NAN) * 1e3, edit.to_output.unwrap_or(f64::NAN) * 1e3);
        result.edits.push(edit);
    }
    // Let the last run finish, then read the peak before stopping.
    watch.drain_until(Instant::now() + EDIT_GAP)?;
    result.peak_rss_kb = peak_rss_kb(watch.child.id());
    result.leftovers = watch.stop()?;
    Ok(())
}

/// Sends a signal by pid (`kill` is a shell builtin: no kill binary needed).
fn signal(pid: u32, sig: &str) {
    let _ = Command::new("/bin/sh")
        .args(["-c", &format!("kill -{sig} {pid} 2>/dev/null")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// VmHWM of a process, in kB (Linux).
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// (parent pid, start time, command name) from /proc/PID/stat.
fn proc_stat(pid: u32) -> Option<(u32, u64, String)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text[open + 1..close].to_string();
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    // Fields after the name start at field 3 (state); ppid is 4, starttime 22.
    Some((fields.get(1)?.parse().ok()?, fields.get(19)?.parse().ok()?, comm))
}

fn process_start(pid: u32) -> Option<u64> {
    proc_stat(pid).map(|(_, start, _)| start)
}

/// Every process below `pid`: (pid, start time, name).
fn descendants(pid: u32) -> Vec<(u32, u64, String)> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    let procs: Vec<(u32, u32, u64, String)> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|p| proc_stat(p).map(|(ppid, start, comm)| (p, ppid, start, comm)))
        .collect();
    let mut out = Vec::new();
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        for (p, ppid, start, comm) in &procs {
            if *ppid == parent && !out.iter().any(|(q, _, _)| q == p) {
                out.push((*p, *start, comm.clone()));
                frontier.push(*p);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Report.

/// A target for a median, in the unit of its row.
struct Target {
    text: &'static str,
    met: fn(f64) -> bool,
}

const T_WATCH_SMF: Target = Target { text: "< 20 ms (at 100k)", met: |ms| ms < 20.0 };
const T_WATCH_OUTPUT: Target = Target { text: "< 50 ms", met: |ms| ms < 50.0 };
const T_EDIT_BUILD: Target = Target { text: "< 150 ms", met: |ms| ms < 150.0 };
const T_COLD_SPEED: Target = Target { text: ">= 200,000/s", met: |lps| lps >= 200_000.0 };
const T_RSS: Target = Target { text: "< 400 MB", met: |mb| mb < 400.0 };

fn to_ms(secs: &[f64]) -> Vec<f64> {
    secs.iter().map(|s| s * 1e3).collect()
}

fn thousands(x: f64) -> String {
    let s = format!("{:.0}", x);
    let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

fn render(r: &SizeResult, opts: &Options) -> String {
    let mut out = String::new();
    let _ = writeln!(out);
    match &r.written {
        Some(w) => {
            let _ = writeln!(
                out,
                "{} lines requested: {} lines of Simple in {} files, {} functions; edit in {}; C peer: {} lines in {} files",
                thousands(r.requested as f64),
                thousands(w.simple_lines as f64),
                w.simple_files,
                thousands(w.functions as f64),
                w.edit_spl.strip_prefix(&w.simple_dir).unwrap_or(&w.edit_spl).display(),
                thousands(w.c_lines as f64),
                w.c_files
            );
        }
        None => {
            let _ = writeln!(out, "{} lines requested: not generated", thousands(r.requested as f64));
        }
    }
    let mut rows = vec![["measure", "median", "min", "max", "n", "target", ""].map(String::from).to_vec()];
    let one_decimal = |x: f64| format!("{x:.1}");
    let mut row = |label: &str, samples: &[f64], fmt: &dyn Fn(f64) -> String, target: Option<&Target>| {
        let med = bench::median(samples);
        let min = samples.iter().copied().reduce(f64::min);
        let max = samples.iter().copied().reduce(f64::max);
        let show = |x: Option<f64>| x.map_or("-".to_string(), fmt);
        let (ttext, verdict) = match (target, med) {
            (Some(t), Some(m)) => (t.text.to_string(), if (t.met)(m) { "ok" } else { "MISSED" }.to_string()),
            (Some(t), None) => (t.text.to_string(), String::new()),
            (None, _) => (String::new(), String::new()),
        };
        rows.push(vec![label.to_string(), show(med), show(min), show(max), samples.len().to_string(), ttext, verdict]);
    };
    row("cold `simple build` (ms)", &to_ms(&r.cold.samples), &one_decimal, None);
    if let Some(w) = &r.written {
        let speeds: Vec<f64> = r.cold.samples.iter().map(|s| w.simple_lines as f64 / s).collect();
        row("cold build speed (lines/s)", &speeds, &thousands, Some(&T_COLD_SPEED));
    }
    row("`simple build` after a one-function edit (ms)", &to_ms(&r.edit.samples), &one_decimal, Some(&T_EDIT_BUILD));
    let wr = &r.watch;
    row(
        "watch: edit -> SMF written, as watch reports (ms)",
        &to_ms(&wr.series(|e| e.reported)),
        &one_decimal,
        Some(&T_WATCH_SMF),
    );
    row("watch: edit -> first output (ms)", &to_ms(&wr.series(|e| e.to_output)), &one_decimal, Some(&T_WATCH_OUTPUT));
    row("watch: edit -> status line, seen by the bench (ms)", &to_ms(&wr.series(|e| e.to_status)), &one_decimal, None);
    if let Some(kb) = wr.peak_rss_kb {
        row("watch: peak RSS (MB)", &[kb as f64 / 1024.0], &one_decimal, Some(&T_RSS));
    }
    row("C: `make -j2` after `make clean` (ms)", &to_ms(&r.c_cold.samples), &one_decimal, None);
    row("C: `make -j2` after the same edit (ms)", &to_ms(&r.c_edit.samples), &one_decimal, None);
    out.push_str(&bench::table(&rows));

    let mut notes = Vec::new();
    if let (Some(first), Some(rep), Some((r, t))) = (wr.first_build, wr.first_reported, wr.first_rebuilt) {
        notes.push(format!(
            "watch's first build (cache warm): built {r} of {t} functions in {:.1} ms as reported, {:.1} ms from its start to its status line",
            rep * 1e3,
            first * 1e3
        ));
    }
    let mut rebuilt: Vec<String> =
        wr.edits.iter().filter_map(|e| e.rebuilt).map(|(r, t)| format!("{r} of {t}")).collect();
    rebuilt.dedup();
    if !rebuilt.is_empty() {
        notes.push(format!("watch rebuilt per edit: {} functions", rebuilt.join(", ")));
    }
    if let Some(s) = &r.edit_stats {
        notes.push(format!("`simple build --stats` after an edit: {s}"));
    }
    if let Some(e) = &r.check_error {
        notes.push(format!("OUTPUT CHECK FAILED: {e}"));
    }
    for (what, s) in [
        ("cold build", &r.cold),
        ("build after an edit", &r.edit),
        ("C cold make", &r.c_cold),
        ("C make after an edit", &r.c_edit),
    ] {
        if let Some(e) = &s.error {
            notes.push(format!("{what} FAILED: {e}"));
        }
    }
    if let Some(e) = &wr.error {
        notes.push(format!("watch FAILED: {e}"));
    }
    for l in &wr.leftovers {
        notes.push(format!("watch: {l}"));
    }
    if let Some(e) = &r.error {
        notes.push(format!("FAILED: {e}"));
    }
    if opts.runs < 3 {
        notes.push("fewer than 3 runs: medians are rough".into());
    }
    for n in notes {
        let _ = writeln!(out, "  {n}");
    }
    out
}

fn series_json(s: &Series, unit_scale: f64) -> Json {
    let mut j = Json::obj();
    let scaled: Vec<f64> = s.samples.iter().map(|x| x * unit_scale).collect();
    j.set("median", bench::median(&scaled));
    j.set("min", scaled.iter().copied().reduce(f64::min));
    j.set("max", scaled.iter().copied().reduce(f64::max));
    j.set("samples", scaled);
    j.set("error", s.error.clone());
    j
}

/// Samples already in their unit.
fn samples_json(samples: Vec<f64>, target: Option<&Target>) -> Json {
    let s = Series { samples, error: None };
    let mut j = series_json(&s, 1.0);
    if let Some(t) = target {
        j.set("target", t.text);
        j.set("met", s.median().map(t.met));
    }
    j
}

fn to_json(
    results: &[SizeResult],
    opts: &Options,
    simple: &Path,
    secs: f64,
    load_before: &Option<String>,
    load_after: &Option<String>,
) -> Json {
    let mut root = Json::obj();
    root.set(
        "generated_unix_secs",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0),
    );
    root.set("unit", "ms unless named otherwise");
    root.set("simple", simple.display().to_string());
    root.set("runs", opts.runs);
    root.set("watch_edits", opts.watch_edits());
    root.set("files", opts.files);
    root.set("seed", opts.seed as i64);
    root.set("cpus", thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    root.set("total_secs", secs);
    root.set("load_average_before", load_before.clone());
    root.set("load_average_after", load_after.clone());
    let mut sizes = Vec::new();
    for r in results {
        let mut s = Json::obj();
        s.set("lines_requested", r.requested);
        if let Some(w) = &r.written {
            s.set("simple_lines", w.simple_lines);
            s.set("simple_files", w.simple_files);
            s.set("functions", w.functions);
            s.set("c_lines", w.c_lines);
            s.set("c_files", w.c_files);
            s.set("dir", w.simple_dir.parent().map(|d| d.display().to_string()));
            s.set("edit_file", w.edit_spl.display().to_string());
            let speeds: Vec<f64> = r.cold.samples.iter().map(|t| w.simple_lines as f64 / t).collect();
            s.set("cold_build_lines_per_sec", samples_json(speeds, Some(&T_COLD_SPEED)));
        }
        s.set("output_check_error", r.check_error.clone());
        s.set("cold_build_ms", series_json(&r.cold, 1e3));
        let mut eb = series_json(&r.edit, 1e3);
        eb.set("target", T_EDIT_BUILD.text);
        eb.set("met", r.edit.median().map(|m| (T_EDIT_BUILD.met)(m * 1e3)));
        eb.set("stats", r.edit_stats.clone());
        s.set("edit_build_ms", eb);
        let wr = &r.watch;
        let mut w = Json::obj();
        w.set("edits", wr.edits.len());
        w.set("edit_to_smf_reported_ms", samples_json(to_ms(&wr.series(|e| e.reported)), Some(&T_WATCH_SMF)));
        w.set("edit_to_first_output_ms", samples_json(to_ms(&wr.series(|e| e.to_output)), Some(&T_WATCH_OUTPUT)));
        w.set("edit_to_status_line_ms", samples_json(to_ms(&wr.series(|e| e.to_status)), None));
        w.set(
            "rebuilt",
            wr.edits.iter().filter_map(|e| e.rebuilt).map(|(r, t)| format!("{r}/{t}")).collect::<Vec<_>>(),
        );
        w.set("first_build_reported_ms", wr.first_reported.map(|x| x * 1e3));
        w.set("first_build_seen_ms", wr.first_build.map(|x| x * 1e3));
        w.set("first_build_built", wr.first_rebuilt.map(|(r, t)| format!("{r}/{t}")));
        w.set("peak_rss_mb", wr.peak_rss_kb.map(|kb| kb as f64 / 1024.0));
        w.set("peak_rss_target", T_RSS.text);
        w.set("peak_rss_met", wr.peak_rss_kb.map(|kb| (T_RSS.met)(kb as f64 / 1024.0)));
        w.set("leftover_processes", wr.leftovers.clone());
        w.set("error", wr.error.clone());
        s.set("watch", w);
        s.set("c_cold_make_ms", series_json(&r.c_cold, 1e3));
        s.set("c_edit_make_ms", series_json(&r.c_edit, 1e3));
        s.set("error", r.error.clone());
        sizes.push(s);
    }
    root.set("sizes", Json::Arr(sizes));
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_options() {
        let o = Options::parse(&args("--lines 1000,20_000 --runs 3 --json --simple /x/simple")).unwrap().unwrap();
        assert_eq!(o.lines, vec![1000, 20_000]);
        assert_eq!(o.runs, 3);
        assert_eq!(o.watch_edits(), MIN_WATCH_EDITS);
        assert!(o.json && !o.build);
        let o = Options::parse(&args("--runs=12")).unwrap().unwrap();
        assert_eq!(o.lines, vec![10_000, 100_000]);
        assert_eq!(o.watch_edits(), 12);
        assert!(Options::parse(&args("--lines 0")).is_err());
        assert!(Options::parse(&args("--lines x")).is_err());
        assert!(Options::parse(&args("--bogus")).is_err());
        assert!(Options::parse(&args("-h")).unwrap().is_none());
    }

    #[test]
    fn parses_watch_status_lines() {
        assert_eq!(parse_status("[watch] rebuilt 1 of 6283 functions in 12.5 ms"), Some((1, 6283, 0.0125)));
        assert_eq!(parse_status("[watch] built 690 of 690 functions in 250.0 ms"), Some((690, 690, 0.25)));
        assert_eq!(parse_status("[watch] program exited with status 0"), None);
        assert_eq!(parse_status("[watch] errors; keeping the last good build"), None);
    }

    #[test]
    fn formats_thousands() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(-1000.0), "-1,000");
    }

    #[test]
    fn reads_its_own_process() {
        let me = std::process::id();
        let (ppid, start, _) = proc_stat(me).expect("/proc/self/stat");
        assert!(ppid > 0 && start > 0);
        assert!(peak_rss_kb(me).is_some_and(|kb| kb > 0));
    }
}
