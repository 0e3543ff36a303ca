//! `simple watch` end to end: a real watcher process, real file edits in a
//! temporary directory, its output read through pipes. Every wait is bounded
//! and every watcher (and its program) is killed when its test ends.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Text read from one of the watcher's pipes, as it arrives.
#[derive(Default)]
struct Stream {
    text: Mutex<String>,
    grew: Condvar,
}

impl Stream {
    fn spawn_reader(mut pipe: impl Read + Send + 'static) -> Arc<Stream> {
        let stream = Arc::new(Stream::default());
        let s = Arc::clone(&stream);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                s.text.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
                s.grew.notify_all();
            }
        });
        stream
    }

    fn snapshot(&self) -> String {
        self.text.lock().unwrap().clone()
    }
}

/// A running `simple watch`; dropping it kills the watcher and anything
/// still running the test's program, and removes the directory.
struct Watch {
    child: Child,
    _stdin: ChildStdin,
    out: Arc<Stream>,
    err: Arc<Stream>,
    dir: PathBuf,
    file: PathBuf,
}

/// A new temporary directory holding `files` (path, text).
fn project_dir(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("simple-watch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let dir = std::fs::canonicalize(&dir).expect("canonical temp dir");
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).expect("create dir");
        std::fs::write(path, text).expect("write source");
    }
    dir
}

/// A position in the watcher's output: waits look only at what comes after.
#[derive(Clone, Copy)]
struct Mark {
    out: usize,
    err: usize,
}

impl Watch {
    fn start(name: &str, source: &str) -> Watch {
        Watch::start_with(name, &[("prog.spl", source)])
    }

    /// Writes `files` (relative path, text; one is `prog.spl`) and watches
    /// `prog.spl`.
    fn start_with(name: &str, files: &[(&str, &str)]) -> Watch {
        Watch::start_in(project_dir(name, files))
    }

    /// Watches `dir/prog.spl`; the watch owns `dir` from now on.
    fn start_in(dir: PathBuf) -> Watch {
        let file = dir.join("prog.spl");
        let mut child = Command::new(env!("CARGO_BIN_EXE_simple"))
            .args(["watch", "prog.spl"])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start simple watch");
        let out = Stream::spawn_reader(child.stdout.take().unwrap());
        let err = Stream::spawn_reader(child.stderr.take().unwrap());
        let stdin = child.stdin.take().unwrap();
        Watch { child, _stdin: stdin, out, err, dir, file }
    }

    fn mark(&self) -> Mark {
        Mark { out: self.out.text.lock().unwrap().len(), err: self.err.text.lock().unwrap().len() }
    }

    /// Waits for the first run of the program to print `output` and exit.
    fn wait_first_run(&self, output: &str) {
        let start = Mark { out: 0, err: 0 };
        self.wait_out(start, output);
        self.wait_err(start, "[watch] program exited with status 0\n");
    }

    fn wait_out(&self, from: Mark, needle: &str) {
        self.wait(&self.out, from.out, needle, "stdout");
    }

    fn wait_err(&self, from: Mark, needle: &str) -> String {
        self.wait(&self.err, from.err, needle, "stderr")
    }

    /// Waits until `needle` appears in the stream after `from`; returns the
    /// stream's text after `from` up to the end of the line holding it.
    fn wait(&self, stream: &Stream, from: usize, needle: &str, what: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        let mut text = stream.text.lock().unwrap();
        loop {
            // Only a whole line: a pipe read may end in the middle of one.
            if let Some(at) = text.get(from..).and_then(|t| t.find(needle))
                && let Some(end) = text[from + at..].find('\n')
            {
                return text[from..=from + at + end].to_owned();
            }
            let now = Instant::now();
            if now >= deadline {
                drop(text);
                panic!(
                    "timed out waiting for {needle:?} on {what}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    self.out.snapshot(),
                    self.err.snapshot()
                );
            }
            text = stream.grew.wait_timeout(text, deadline - now).unwrap().0;
        }
    }

    /// Replaces the program's source in one write.
    fn edit(&self, source: &str) {
        std::fs::write(&self.file, source).expect("write source");
    }

    /// Writes one file of the program, relative to its directory.
    fn write(&self, path: &str, text: &str) {
        let path = self.dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).expect("create dir");
        std::fs::write(path, text).expect("write source");
    }

    fn smf(&self) -> PathBuf {
        self.dir.join("prog.smf")
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The watcher's child processes (the running program).
    fn children(&self) -> Vec<i32> {
        processes().into_iter().filter(|p| p.ppid == self.pid()).map(|p| p.pid).collect()
    }

    /// The one running program, waiting for it to start.
    fn the_child(&self) -> i32 {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match self.children()[..] {
                [pid] => return pid,
                _ if Instant::now() >= deadline => panic!("no single child: {:?}", self.children()),
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }

    /// Processes other than the watcher running in this test's directory
    /// (or naming it): programs left behind.
    fn leftovers(&self) -> Vec<i32> {
        let dir = self.dir.to_string_lossy().into_owned();
        processes()
            .into_iter()
            .filter(|p| p.pid != self.pid())
            .filter(|p| p.ppid == self.pid() || p.cwd == self.dir || p.cmdline.contains(&dir))
            .map(|p| p.pid)
            .collect()
    }

    fn signal(&self, signal: i32) {
        // SAFETY: sends a signal to our own, not yet reaped, child.
        unsafe { libc::kill(self.pid(), signal) };
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the watcher") {
                return status;
            }
            assert!(Instant::now() < deadline, "the watcher did not exit\n{}", self.err.snapshot());
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in self.leftovers() {
            // SAFETY: only sends a signal.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Process {
    pid: i32,
    ppid: i32,
    cmdline: String,
    cwd: PathBuf,
}

fn processes() -> Vec<Process> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return found };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
        let mut fields = after.split_whitespace();
        let state = fields.next().unwrap_or("");
        let Some(ppid) = fields.next().and_then(|s| s.parse().ok()) else { continue };
        if state == "Z" {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let cwd = std::fs::read_link(entry.path().join("cwd")).unwrap_or_default();
        found.push(Process { pid, ppid, cmdline, cwd });
    }
    found
}

fn alive(pid: i32) -> bool {
    processes().iter().any(|p| p.pid == pid)
}

fn wait_gone(pid: i32) {
    let deadline = Instant::now() + TIMEOUT;
    while alive(pid) {
        assert!(Instant::now() < deadline, "process {pid} is still running");
        std::thread::sleep(Duration::from_millis(5));
    }
}

const TWO_FNS_V1: &str = "fn helper() -> i64:\n    return 41\n\nfn main():\n    println(\"v1 {helper()}\")\n";
const TWO_FNS_V2: &str = "fn helper() -> i64:\n    return 41\n\nfn main():\n    println(\"v2 {helper()}\")\n";
const LOOP: &str = "while true:\n    var x = 1\n";

#[test]
fn runs_the_program_and_reruns_it_after_an_edit() {
    let w = Watch::start("edit", TWO_FNS_V1);
    let m = Mark { out: 0, err: 0 };
    w.wait_out(m, "v1 41\n");
    let status = w.wait_err(m, "[watch] built ");
    assert!(status.starts_with("[watch] built 2 of 2 functions in ") && status.ends_with(" ms\n"), "{status}");
    w.wait_err(m, "[watch] program exited with status 0\n");

    let m = w.mark();
    w.edit(TWO_FNS_V2);
    w.wait_out(m, "v2 41\n");
    let status = w.wait_err(m, "[watch] rebuilt ");
    assert!(status.contains("[watch] rebuilt 1 of 2 functions in "), "{status}");
}

#[test]
fn a_rename_and_replace_save_is_seen() {
    let w = Watch::start("rename", "println(\"first\")\n");
    w.wait_out(Mark { out: 0, err: 0 }, "first\n");
    for round in 0..2 {
        let m = w.mark();
        let tmp = w.dir.join(format!(".prog.spl.swp{round}"));
        std::fs::write(&tmp, format!("println(\"renamed {round}\")\n")).unwrap();
        std::fs::rename(&tmp, &w.file).unwrap();
        w.wait_out(m, &format!("renamed {round}\n"));
    }
}

#[test]
fn a_deleted_file_is_waited_for_and_its_recreation_seen() {
    let w = Watch::start("delete", "println(\"before\")\n");
    w.wait_out(Mark { out: 0, err: 0 }, "before\n");
    let m = w.mark();
    std::fs::remove_file(&w.file).unwrap();
    w.wait_err(m, "[watch] cannot read `prog.spl`");
    assert!(alive(w.pid()), "the watcher must keep running");
    let m = w.mark();
    w.edit("println(\"after\")\n");
    w.wait_out(m, "after\n");
    w.wait_err(m, "[watch] rebuilt ");
}

#[test]
fn in_a_burst_of_saves_the_last_one_wins() {
    let w = Watch::start("burst", "println(\"start\")\n");
    w.wait_first_run("start\n");
    let m = w.mark();
    for i in 1..=5 {
        w.edit(&format!("println(\"burst {i}\")\n"));
    }
    w.wait_out(m, "burst 5\n");
    w.wait_err(m, "[watch] program exited with status 0\n");
    // Nothing else runs afterwards.
    std::thread::sleep(Duration::from_millis(200));
    let out = w.out.snapshot();
    assert_eq!(out.lines().last(), Some("burst 5"), "{out}");
    let mut run = Command::new(env!("CARGO_BIN_EXE_simple"));
    let smf = run.args(["smf", "inspect"]).arg(w.smf()).output().unwrap();
    assert!(smf.status.success());
}

#[test]
fn saves_without_pause_still_get_builds() {
    let w = Watch::start("nonstop", "println(\"start\")\n");
    w.wait_first_run("start\n");
    let m = w.mark();
    // A save every 5 ms for a second: never quiet for the 25 ms debounce.
    let start = Instant::now();
    let mut i = 0;
    while start.elapsed() < Duration::from_secs(1) {
        i += 1;
        w.edit(&format!("println(\"save {i}\")\n"));
        std::thread::sleep(Duration::from_millis(5));
    }
    let during = w.err.snapshot()[m.err..].matches("[watch] rebuilt ").count();
    assert!(during >= 2, "only {during} builds during a second of saves");
    w.wait_out(m, &format!("save {i}\n"));
}

#[test]
fn a_compile_error_keeps_the_last_good_build() {
    let w = Watch::start("error", "println(\"good\")\n");
    w.wait_first_run("good\n");
    let good = std::fs::read(w.smf()).expect("the module was written");

    let m = w.mark();
    w.edit("fn main():\n    println(nope)\n");
    let err = w.wait_err(m, "[watch] errors; keeping the last good build\n");
    assert!(err.contains("cannot find `nope`") && err.contains("prog.spl:2:13"), "{err}");
    assert_eq!(std::fs::read(w.smf()).unwrap(), good, "the module must not change");
    assert!(w.children().is_empty(), "the program must not be restarted");

    let m = w.mark();
    w.edit("println(\"fixed\")\n");
    w.wait_out(m, "fixed\n");
    w.wait_err(m, "[watch] rebuilt ");
    assert_eq!(w.out.snapshot(), "good\nfixed\n");
    assert_ne!(std::fs::read(w.smf()).unwrap(), good);
}

#[test]
fn a_program_that_never_ends_is_replaced_on_the_next_edit() {
    let w = Watch::start("loop", "println(\"one\")\n");
    w.wait_out(Mark { out: 0, err: 0 }, "one\n");
    let m = w.mark();
    w.edit(LOOP);
    w.wait_err(m, "[watch] rebuilt ");
    let looping = w.the_child();
    std::thread::sleep(Duration::from_millis(100));
    assert!(alive(looping), "the loop should still run");

    let m = w.mark();
    w.edit("println(\"two\")\n");
    w.wait_out(m, "two\n");
    wait_gone(looping);
    let err = w.wait_err(m, "[watch] program exited with status 0\n");
    assert!(!err.contains("killed"), "a stopped program is not reported: {err}");
}

#[test]
fn sigint_stops_the_watcher_and_its_program() {
    let mut w = Watch::start("sigint", LOOP);
    w.wait_err(Mark { out: 0, err: 0 }, "[watch] built ");
    let program = w.the_child();
    w.signal(libc::SIGINT);
    assert_eq!(w.wait_exit().code(), Some(130));
    wait_gone(program);
    assert!(w.leftovers().is_empty(), "left behind: {:?}", w.leftovers());
}

#[test]
fn sigterm_stops_the_watcher_and_its_program() {
    let mut w = Watch::start("sigterm", LOOP);
    w.wait_err(Mark { out: 0, err: 0 }, "[watch] built ");
    let program = w.the_child();
    w.signal(libc::SIGTERM);
    assert_eq!(w.wait_exit().code(), Some(143));
    wait_gone(program);
    assert!(w.leftovers().is_empty(), "left behind: {:?}", w.leftovers());
}

#[test]
fn a_killed_watcher_takes_its_program_along() {
    let mut w = Watch::start("sigkill", LOOP);
    w.wait_err(Mark { out: 0, err: 0 }, "[watch] built ");
    let program = w.the_child();
    w.signal(libc::SIGKILL);
    w.wait_exit();
    wait_gone(program);
}

const MAIN_WITH_MODULES: &str =
    "import geometry\nfrom util.text import shout\n\nprintln(geometry.area(2))\nprintln(shout(\"hi\"))\n";
const GEOMETRY: &str = "pub fn area(r: i64) -> i64:\n    return 3 * square(r)\n\nfn square(x: i64) -> i64: x * x\n";
const TEXT: &str = "pub fn shout(s: str) -> str:\n    return s + \"!\"\n";

#[test]
fn edits_to_imported_files_are_seen() {
    let w = Watch::start_with(
        "modules",
        &[("prog.spl", MAIN_WITH_MODULES), ("geometry.spl", GEOMETRY), ("util/text.spl", TEXT)],
    );
    w.wait_first_run("12\nhi!\n");

    let m = w.mark();
    w.write("geometry.spl", &GEOMETRY.replace("3 * square", "4 * square"));
    w.wait_out(m, "16\nhi!\n");
    let status = w.wait_err(m, "[watch] rebuilt ");
    assert!(status.contains("[watch] rebuilt 1 of 4 functions"), "{status}");

    // A module in a subdirectory, saved by rename.
    let m = w.mark();
    let tmp = w.dir.join("util/.text.spl.new");
    std::fs::write(&tmp, TEXT.replace("\"!\"", "\"?\"")).unwrap();
    std::fs::rename(&tmp, w.dir.join("util/text.spl")).unwrap();
    w.wait_out(m, "16\nhi?\n");
}

#[test]
fn with_a_warm_cache_an_edit_rebuilds_only_the_edited_function() {
    // `simple build` fills the cache: the watcher takes every file's object
    // from it, and after an edit the edited file's other functions too.
    let files = [("prog.spl", MAIN_WITH_MODULES), ("geometry.spl", GEOMETRY), ("util/text.spl", TEXT)];
    let dir = project_dir("warm", &files);
    let build = Command::new(env!("CARGO_BIN_EXE_simple")).args(["build", "prog.spl"]).current_dir(&dir).output();
    assert!(build.expect("run simple build").status.success());
    let w = Watch::start_in(dir);
    w.wait_first_run("12\nhi!\n");
    let status = w.wait_err(Mark { out: 0, err: 0 }, "[watch] built ");
    assert!(status.contains("[watch] built 0 of 4 functions"), "{status}");

    for (factor, output) in [("4", "16\nhi!\n"), ("5", "20\nhi!\n")] {
        let m = w.mark();
        w.write("geometry.spl", &GEOMETRY.replace("3 * square", &format!("{factor} * square")));
        w.wait_out(m, output);
        let status = w.wait_err(m, "[watch] rebuilt ");
        assert!(status.contains("[watch] rebuilt 1 of 4 functions"), "{status}");
    }
}

#[test]
fn a_newly_imported_file_is_watched_and_a_missing_module_awaited() {
    let w = Watch::start("imports", "println(\"alone\")\n");
    w.wait_first_run("alone\n");

    // An import of a module that does not exist yet: an error, until it does.
    let m = w.mark();
    w.edit("import geometry\n\nprintln(geometry.area(1))\n");
    let err = w.wait_err(m, "[watch] errors; keeping the last good build\n");
    assert!(err.contains("cannot find module `geometry`"), "{err}");
    let m = w.mark();
    w.write("geometry.spl", GEOMETRY);
    w.wait_out(m, "3\n");
    w.wait_err(m, "[watch] program exited with status 0\n");

    // The module is now one of the program's files.
    let m = w.mark();
    w.write("geometry.spl", &GEOMETRY.replace("3 * square", "5 * square"));
    w.wait_out(m, "5\n");
    w.wait_err(m, "[watch] program exited with status 0\n");

    // No longer imported, then deleted: the program still builds.
    let m = w.mark();
    w.edit("println(\"alone again\")\n");
    w.wait_out(m, "alone again\n");
    w.wait_err(m, "[watch] program exited with status 0\n");
    let m = w.mark();
    std::fs::remove_file(w.dir.join("geometry.spl")).unwrap();
    w.edit("println(\"still alone\")\n");
    w.wait_out(m, "still alone\n");
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("simple-watch-missing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_simple"))
        .args(["watch", "nope.spl"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .expect("run simple watch");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: cannot read `nope.spl`: No such file"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Not a check: prints edit→module and edit→output latencies (medians);
/// see them with `cargo test --test watch -- --nocapture latency`.
#[test]
fn latency() {
    let w = Watch::start("latency", "println(\"n0\")\n");
    w.wait_out(Mark { out: 0, err: 0 }, "n0\n");
    let mut to_output = Vec::new();
    let mut to_module = Vec::new();
    for i in 1..=9 {
        let m = w.mark();
        let start = Instant::now();
        w.edit(&format!("println(\"n{i}\")\n"));
        w.wait_out(m, &format!("n{i}\n"));
        to_output.push(start.elapsed().as_secs_f64() * 1e3);
        let status = w.wait_err(m, "[watch] rebuilt ");
        let ms = status.trim_end().trim_end_matches(" ms").rsplit(' ').next().unwrap();
        to_module.push(ms.parse::<f64>().unwrap());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    eprintln!(
        "watch latency (median of 9, debounce included in edit→output): rebuild {:.1} ms, edit→output {:.1} ms",
        median(&mut to_module),
        median(&mut to_output)
    );
}
