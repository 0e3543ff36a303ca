//! The conformance runner: the language's executable specification.
//!
//! * `testdata/run/NAME.spl` is run with `simple run NAME.spl` in a fresh
//!   directory. Its stdout must equal `NAME.stdout`, its stderr must match
//!   `NAME.stderr` and its exit status must equal `NAME.status` (a missing
//!   sidecar means empty output / status 0). In an expected stderr a line that
//!   is exactly `...` matches zero or more lines.
//! * `testdata/fail/NAME.spl` is checked with
//!   `simple check --error-format=json NAME.spl`. Every diagnostic (one JSON
//!   object per stderr line) must be matched by an annotation in the source and
//!   every annotation by a diagnostic:
//!   `#~ error: SUBSTRING` (or `warning:`) expects a diagnostic of that level on
//!   the same line whose message contains SUBSTRING; `#~^`, `#~^^`, ... refer to
//!   the line one, two, ... above. The exit status must be 1 if an error is
//!   expected and 0 otherwise.
//!
//! * `conformance_run_gc_stress` runs every `testdata/run` case again with
//!   `SIMPLE_GC_STRESS=1` (a collection at every chance, and a heap check
//!   after each) and expects exactly the same output: a root the compiler
//!   or the runtime fails to report shows up as a freed object or as
//!   different output.
//!
//! `SIMPLE_TEST_FILTER=substring` runs only the cases whose name contains it.
//! All cases run (two at a time); the test panics once, at the end, with a
//! report of every failing case.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(20);
const WORKERS: usize = 2;
/// Output beyond this many bytes per stream is read and dropped.
const OUTPUT_CAP: usize = 16 << 20;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("testdata")
}

fn simple_bin() -> &'static str {
    env!("CARGO_BIN_EXE_simple")
}

/// The `.spl` files of `dir`, sorted, filtered by `SIMPLE_TEST_FILTER`.
fn cases(dir: &Path) -> Vec<PathBuf> {
    let filter = std::env::var("SIMPLE_TEST_FILTER").unwrap_or_default();
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "spl"))
        .filter(|p| stem(p).contains(&filter))
        .collect();
    out.sort();
    out
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap_or_default().to_string_lossy().into_owned()
}

fn read_opt(path: &Path) -> Option<Vec<u8>> {
    fs::read(path).ok()
}

// ---------------------------------------------------------------- processes

struct Output {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: Option<ExitStatus>,
    timed_out: bool,
}

impl Output {
    fn describe_status(&self) -> String {
        if self.timed_out {
            return format!("killed after a timeout of {} s", TIMEOUT.as_secs());
        }
        match self.status {
            None => "unknown".to_string(),
            Some(s) => match s.code() {
                Some(code) => code.to_string(),
                None => {
                    use std::os::unix::process::ExitStatusExt;
                    format!("terminated by signal {}", s.signal().unwrap_or(0))
                }
            },
        }
    }

    fn code(&self) -> Option<i32> {
        if self.timed_out {
            return None;
        }
        self.status.and_then(|s| s.code())
    }
}

/// A fresh, empty directory; removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "simple-conformance-{}-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            nanos,
            name
        ));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn read_capped(mut r: impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = OUTPUT_CAP.saturating_sub(out.len());
                out.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    out
}

/// Copies `spl` into a fresh directory and runs `simple ARGS... NAME.spl` there.
fn run_simple(spl: &Path, args: &[&str]) -> Result<Output, String> {
    run_simple_with(spl, args, &[])
}

/// [`run_simple`] with extra environment variables.
fn run_simple_with(spl: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Output, String> {
    let file_name = spl.file_name().expect("file name").to_string_lossy().into_owned();
    let dir = TempDir::new(&stem(spl));
    fs::copy(spl, dir.0.join(&file_name)).map_err(|e| format!("cannot copy {}: {e}", spl.display()))?;
    let mut child = Command::new(simple_bin())
        .args(args)
        .arg(&file_name)
        .current_dir(&dir.0)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", simple_bin()))?;
    let out_reader = {
        let pipe = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || read_capped(pipe))
    };
    let err_reader = {
        let pipe = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || read_capped(pipe))
    };
    let deadline = Instant::now() + TIMEOUT;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for simple failed: {e}")),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(Output { stdout, stderr, status, timed_out })
}

/// Runs `check` on every case, `WORKERS` at a time; returns the failure
/// reports in case order.
fn run_all(cases: &[PathBuf], check: fn(&Path) -> Option<String>) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS.min(cases.len()).max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    if let Some(report) = check(case) {
                        results.lock().unwrap_or_else(|e| e.into_inner()).push((i, report));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn finish(kind: &str, total: usize, failures: Vec<String>) {
    if total == 0 {
        eprintln!("conformance {kind}: no cases selected");
        return;
    }
    if failures.is_empty() {
        eprintln!("conformance {kind}: all {total} cases passed");
        return;
    }
    let mut report = String::new();
    for f in &failures {
        report.push_str(f);
        report.push('\n');
    }
    let _ = write!(report, "conformance {kind}: {} of {total} cases failed", failures.len());
    panic!("\n{report}");
}

// ---------------------------------------------------------------- text diffs

fn lines(text: &str) -> Vec<&str> {
    text.split('\n').collect()
}

/// Does `actual` match `expected`, where an expected line `...` matches any
/// number of lines (including none)?
fn wildcard_match(expected: &str, actual: &str) -> bool {
    let e = lines(expected);
    let a = lines(actual);
    // dp[j]: e[..i] matches a[..j]
    let mut dp = vec![false; a.len() + 1];
    dp[0] = true;
    for pat in &e {
        let mut next = vec![false; a.len() + 1];
        if *pat == "..." {
            let mut any = false;
            for j in 0..=a.len() {
                any |= dp[j];
                next[j] = any;
            }
        } else {
            for j in 1..=a.len() {
                next[j] = dp[j - 1] && a[j - 1] == *pat;
            }
        }
        dp = next;
    }
    dp[a.len()]
}

/// The lines of `text` without the empty piece after a final newline, and
/// whether that newline was there.
fn body_lines(text: &str) -> (Vec<&str>, bool) {
    match text.strip_suffix('\n') {
        Some(body) => (lines(body), true),
        None if text.is_empty() => (Vec::new(), false),
        None => (lines(text), false),
    }
}

/// A unified-diff-like listing: ` ` both, `-` expected only, `+` actual only.
fn diff(expected: &str, actual: &str) -> String {
    const MAX_LINES: usize = 400;
    let show = |s: &str| -> String {
        // make invisible differences visible
        s.replace('\r', "\\r").replace('\0', "\\0")
    };
    let mut out = String::new();
    let (mut e, e_newline) = body_lines(expected);
    let (mut a, a_newline) = body_lines(actual);
    if e == a && e_newline != a_newline {
        let which = if e_newline { "expected" } else { "actual" };
        let _ = writeln!(out, "   (only the {which} text ends with a newline)");
        return out;
    }
    let truncated = e.len() > MAX_LINES || a.len() > MAX_LINES;
    e.truncate(MAX_LINES);
    a.truncate(MAX_LINES);
    // longest common subsequence table
    let (n, m) = (e.len(), a.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if e[i] == a[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && e[i] == a[j] {
            let _ = writeln!(out, "     {}", show(e[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] > lcs[i + 1][j]) {
            let _ = writeln!(out, "   + {}", show(a[j]));
            j += 1;
        } else {
            let _ = writeln!(out, "   - {}", show(e[i]));
            i += 1;
        }
    }
    if truncated {
        let _ = writeln!(out, "   (only the first {MAX_LINES} lines are compared here)");
    }
    out
}

// ---------------------------------------------------------------- run cases

fn check_run_case(spl: &Path) -> Option<String> {
    check_run_case_with(spl, "run", &[])
}

fn check_run_case_gc_stress(spl: &Path) -> Option<String> {
    check_run_case_with(spl, "run (SIMPLE_GC_STRESS=1)", &[("SIMPLE_GC_STRESS", "1")])
}

/// Runs the case with `env` and checks it against its sidecars; `kind`
/// names the run in the report.
fn check_run_case_with(spl: &Path, kind: &str, env: &[(&str, &str)]) -> Option<String> {
    let name = stem(spl);
    let with_ext = |ext: &str| spl.with_extension(ext);
    let expected_stdout = read_opt(&with_ext("stdout")).unwrap_or_default();
    let expected_stderr = String::from_utf8_lossy(&read_opt(&with_ext("stderr")).unwrap_or_default()).into_owned();
    let expected_status: i32 = match read_opt(&with_ext("status")) {
        None => 0,
        Some(bytes) => match String::from_utf8_lossy(&bytes).trim().parse() {
            Ok(n) => n,
            Err(_) => return Some(format!("---- {kind}/{name} ----\n  malformed {name}.status\n")),
        },
    };
    let out = match run_simple_with(spl, &["run"], env) {
        Ok(out) => out,
        Err(e) => return Some(format!("---- {kind}/{name} ----\n  {e}\n")),
    };
    let actual_stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout_ok = out.stdout == expected_stdout;
    let stderr_ok = wildcard_match(&expected_stderr, &actual_stderr);
    let status_ok = out.code() == Some(expected_status);
    if stdout_ok && stderr_ok && status_ok {
        return None;
    }
    let mut report = format!("---- {kind}/{name} ----\n");
    if !status_ok {
        let _ = writeln!(report, "  exit status: expected {expected_status}, actual {}", out.describe_status());
    }
    if !stdout_ok {
        let _ = writeln!(report, "  stdout differs (- expected, + actual):");
        report.push_str(&diff(&String::from_utf8_lossy(&expected_stdout), &String::from_utf8_lossy(&out.stdout)));
    }
    if !stderr_ok {
        let _ = writeln!(report, "  stderr differs (- expected, + actual; `...` matches any lines):");
        report.push_str(&diff(&expected_stderr, &actual_stderr));
    }
    Some(report)
}

#[test]
fn conformance_run() {
    let cases = cases(&testdata().join("run"));
    let failures = run_all(&cases, check_run_case);
    finish("run", cases.len(), failures);
}

#[test]
fn conformance_run_gc_stress() {
    let cases = cases(&testdata().join("run"));
    let failures = run_all(&cases, check_run_case_gc_stress);
    finish("run with SIMPLE_GC_STRESS=1", cases.len(), failures);
}

// ---------------------------------------------------------------- fail cases

#[derive(Debug, Clone, PartialEq, Eq)]
struct Annotation {
    line: usize,
    level: String,
    substring: String,
}

/// Parses the `#~` annotations of a source file.
fn annotations(source: &str) -> Result<Vec<Annotation>, String> {
    let mut out = Vec::new();
    for (index, text) in source.lines().enumerate() {
        let Some(pos) = text.find("#~") else { continue };
        let rest = &text[pos + 2..];
        let carets = rest.chars().take_while(|&c| c == '^').count();
        let rest = rest[carets..].trim_start();
        let (level, substring) = if let Some(s) = rest.strip_prefix("error:") {
            ("error", s)
        } else if let Some(s) = rest.strip_prefix("warning:") {
            ("warning", s)
        } else {
            return Err(format!("line {}: malformed annotation `{}`", index + 1, &text[pos..]));
        };
        let substring = substring.trim();
        if substring.is_empty() {
            return Err(format!("line {}: annotation without a message", index + 1));
        }
        let line = index + 1;
        if carets >= line {
            return Err(format!("line {line}: annotation points above the first line"));
        }
        out.push(Annotation { line: line - carets, level: level.to_string(), substring: substring.to_string() });
    }
    Ok(out)
}

#[derive(Debug)]
struct Diagnostic {
    line: usize,
    level: String,
    message: String,
    file: String,
}

fn parse_diagnostic(text: &str) -> Result<Diagnostic, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let field = |key: &str| value.get(key).ok_or_else(|| format!("no `{key}` field"));
    let string = |key: &str| -> Result<String, String> {
        field(key)?.as_str().map(str::to_string).ok_or_else(|| format!("`{key}` is not a string"))
    };
    let line = field("line")?.as_u64().ok_or("`line` is not a number")? as usize;
    for key in ["column", "end_line", "end_column"] {
        field(key)?.as_u64().ok_or_else(|| format!("`{key}` is not a number"))?;
    }
    Ok(Diagnostic { line, level: string("level")?, message: string("message")?, file: string("file")? })
}

/// Maximum bipartite matching of annotations to diagnostics (Kuhn's
/// algorithm); returns, for each annotation, the index of its diagnostic.
fn match_annotations(anns: &[Annotation], diags: &[Diagnostic]) -> Vec<Option<usize>> {
    let fits =
        |a: &Annotation, d: &Diagnostic| a.line == d.line && a.level == d.level && d.message.contains(&a.substring);
    let mut owner: Vec<Option<usize>> = vec![None; diags.len()];
    fn augment(
        a: usize,
        anns: &[Annotation],
        diags: &[Diagnostic],
        fits: &dyn Fn(&Annotation, &Diagnostic) -> bool,
        seen: &mut [bool],
        owner: &mut [Option<usize>],
    ) -> bool {
        for d in 0..diags.len() {
            if seen[d] || !fits(&anns[a], &diags[d]) {
                continue;
            }
            seen[d] = true;
            if owner[d].is_none_or(|other| augment(other, anns, diags, fits, seen, owner)) {
                owner[d] = Some(a);
                return true;
            }
        }
        false
    }
    for a in 0..anns.len() {
        let mut seen = vec![false; diags.len()];
        augment(a, anns, diags, &fits, &mut seen, &mut owner);
    }
    let mut result = vec![None; anns.len()];
    for (d, a) in owner.iter().enumerate() {
        if let Some(a) = a {
            result[*a] = Some(d);
        }
    }
    result
}

fn check_fail_case(spl: &Path) -> Option<String> {
    let name = stem(spl);
    let file_name = format!("{name}.spl");
    let header = format!("---- fail/{name} ----\n");
    let source = match fs::read_to_string(spl) {
        Ok(s) => s,
        Err(e) => return Some(format!("{header}  cannot read: {e}\n")),
    };
    let anns = match annotations(&source) {
        Ok(a) => a,
        Err(e) => return Some(format!("{header}  {e}\n")),
    };
    let out = match run_simple(spl, &["check", "--error-format=json"]) {
        Ok(out) => out,
        Err(e) => return Some(format!("{header}  {e}\n")),
    };
    let mut problems = Vec::new();
    let mut diags = Vec::new();
    for text in String::from_utf8_lossy(&out.stderr).lines() {
        if text.trim().is_empty() {
            continue;
        }
        match parse_diagnostic(text) {
            Ok(d) => {
                if d.file != file_name {
                    problems.push(format!("diagnostic names file `{}`, expected `{file_name}`: {text}", d.file));
                }
                diags.push(d);
            }
            Err(e) => problems.push(format!("stderr line is not a diagnostic: {e}: {text}")),
        }
    }
    let matched = match_annotations(&anns, &diags);
    let used: BTreeSet<usize> = matched.iter().flatten().copied().collect();
    for (a, m) in anns.iter().zip(&matched) {
        if m.is_none() {
            problems.push(format!("expected but not reported: line {}: {}: {}", a.line, a.level, a.substring));
        }
    }
    for (i, d) in diags.iter().enumerate() {
        if !used.contains(&i) {
            problems.push(format!("reported but not expected: line {}: {}: {}", d.line, d.level, d.message));
        }
    }
    let expected_status = if anns.iter().any(|a| a.level == "error") { 1 } else { 0 };
    if out.code() != Some(expected_status) {
        problems.push(format!("exit status: expected {expected_status}, actual {}", out.describe_status()));
    }
    if problems.is_empty() {
        return None;
    }
    let mut report = header;
    for p in problems {
        let _ = writeln!(report, "  {p}");
    }
    if !diags.is_empty() {
        let _ = writeln!(report, "  all diagnostics reported:");
        for d in &diags {
            let _ = writeln!(report, "    line {}: {}: {}", d.line, d.level, d.message);
        }
    }
    Some(report)
}

#[test]
fn conformance_fail() {
    let cases = cases(&testdata().join("fail"));
    let failures = run_all(&cases, check_fail_case);
    finish("fail", cases.len(), failures);
}

// ---------------------------------------------------------------- layout

/// Every file in testdata/run and testdata/fail belongs to a case and is
/// well-formed, so a typo in a sidecar's name cannot silently skip a check.
#[test]
fn conformance_testdata_layout() {
    let mut problems = Vec::new();
    let run = testdata().join("run");
    let mut programs = 0;
    for entry in fs::read_dir(&run).expect("testdata/run") {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let ext = path.extension().unwrap_or_default().to_string_lossy().into_owned();
        match ext.as_str() {
            "spl" => {
                programs += 1;
                let source = fs::read_to_string(&path).unwrap_or_default();
                if source.contains("#~") {
                    problems.push(format!("run/{name}: `#~` annotations belong in testdata/fail"));
                }
            }
            "stdout" | "stderr" | "status" => {
                if !path.with_extension("spl").exists() {
                    problems.push(format!("run/{name}: no matching .spl"));
                }
                let bytes = fs::read(&path).unwrap_or_default();
                if bytes.is_empty() {
                    problems.push(format!("run/{name}: empty; omit the file instead"));
                }
                let text = String::from_utf8_lossy(&bytes);
                if ext == "status" {
                    match text.trim_end_matches('\n').parse::<u8>() {
                        Ok(0) => problems.push(format!("run/{name}: status 0; omit the file instead")),
                        Ok(_) => {}
                        Err(_) => problems.push(format!("run/{name}: not a decimal status 1-255")),
                    }
                }
                if ext == "stdout" && text.lines().any(|l| l == "...") {
                    problems.push(format!("run/{name}: `...` wildcards only work in .stderr"));
                }
            }
            _ => problems.push(format!("run/{name}: unexpected file")),
        }
    }
    if programs == 0 {
        problems.push("testdata/run holds no programs".to_string());
    }
    for entry in fs::read_dir(testdata().join("fail")).expect("testdata/fail") {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if path.extension().is_none_or(|e| e != "spl") {
            problems.push(format!("fail/{name}: unexpected file"));
            continue;
        }
        let source = fs::read_to_string(&path).unwrap_or_default();
        match annotations(&source) {
            Ok(anns) if anns.is_empty() => problems.push(format!("fail/{name}: no `#~` annotations")),
            Ok(_) => {}
            Err(e) => problems.push(format!("fail/{name}: {e}")),
        }
    }
    assert!(problems.is_empty(), "testdata layout problems:\n  {}", problems.join("\n  "));
}

#[test]
fn wildcard_lines() {
    assert!(wildcard_match("a\n...\n", "a\nb\nc\n"));
    assert!(wildcard_match("a\n...\n", "a\n"));
    assert!(wildcard_match("a\n...\nz\n", "a\nb\nz\n"));
    assert!(!wildcard_match("a\n...\nz\n", "a\nb\n"));
    assert!(!wildcard_match("a\n", "a"));
    assert!(wildcard_match("", ""));
}

#[test]
fn annotation_syntax() {
    let anns = annotations("let x = 1  #~ error: boom\n#~^ warning: w\nx\n    #~^^ error: up two  \n").unwrap();
    let want = |line, level: &str, s: &str| Annotation { line, level: level.into(), substring: s.into() };
    assert_eq!(anns, vec![want(1, "error", "boom"), want(1, "warning", "w"), want(2, "error", "up two")]);
    assert!(annotations("#~^ error: x\n").is_err());
    assert!(annotations("x #~ note: x\n").is_err());
}
