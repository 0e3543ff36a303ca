//! The garbage collector end to end: programs that allocate gigabytes of
//! strings, or of objects, lists and dicts, while keeping little alive run
//! in bounded memory.
//!
//! The bound is on the child's peak resident set (from `wait4`, for that
//! child alone: `RUSAGE_CHILDREN` would also count the children of tests
//! running at the same time). It includes compiling the program, which
//! `simple run` does in the same process. Without collection the first
//! program alone would need more than 3 GB.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("simple-gc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

struct Run {
    stdout: String,
    stderr: String,
    status: i32,
    /// Peak resident set size in bytes.
    peak_rss: u64,
}

/// Runs `simple run prog.spl` on `source` and measures the child's peak RSS.
#[expect(clippy::zombie_processes, reason = "wait4 reaps the child, to read its resource usage")]
fn run_measured(name: &str, source: &str) -> Run {
    let dir = temp_dir(name);
    std::fs::write(dir.join("prog.spl"), source).expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_simple"))
        .args(["run", "prog.spl"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start simple");
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("stderr")));
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child (`Child` is not waited for again);
    // the out-pointers are valid.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
        status: if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 },
        // Linux reports kilobytes.
        peak_rss: usage.ru_maxrss as u64 * 1024,
    }
}

const PEAK_RSS_BOUND: u64 = 100 << 20;

#[test]
fn allocating_gigabytes_of_strings_runs_in_bounded_memory() {
    // Strings of 1 to 1000 bytes, each a copy of the previous one plus a
    // byte: 7 million of them, about 3.5 GB in all, at most 1000 bytes live.
    // (A counter instead of `s.len()`: counting characters dominates in the
    // unoptimised runtime of a test build.) Then three million short
    // strings made by interpolation.
    let source = "\
var s = \"\"
var n = 0
var resets = 0
for i in range(7000000):
    s = s + \"y\"
    n += 1
    if n == 1000:
        resets += 1
        n = 0
        s = \"\"
println(resets, s.len())
var t = \"\"
for i in range(3000000):
    t = \"x{i}\"
println(t)
";
    let run = run_measured("gigabytes", source);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str(), run.status), ("7000 0\nx2999999\n", "", 0));
    assert!(run.peak_rss < PEAK_RSS_BOUND, "peak RSS {} MB, bound {} MB", run.peak_rss >> 20, PEAK_RSS_BOUND >> 20);
}

#[test]
fn allocating_objects_lists_and_dicts_without_bound_runs_in_bounded_memory() {
    // Two million class objects, lists, dicts and enum payloads, about
    // 1.5 GB in all, of which only a small linked list stays alive.
    let source = "\
class Node:
    value: i64
    next: Node?

enum Box:
    Full(xs: [i64])
    Empty

var keep: Node? = nil
var total = 0
for i in range(2000000):
    let xs = [i, i + 1, i + 2, i + 3]
    let d = {i: xs, i + 1: [i]}
    let b = Box::Full(d[i] + xs)
    match b:
        case Box::Full(ys): total += ys.len()
        case Box::Empty: total -= 1
    let n = Node(i, keep)
    if i % 100000 == 0:
        keep = n
var kept = 0
while let n = keep:
    kept += 1
    keep = n.next
println(total, kept)
";
    let run = run_measured("objects", source);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str(), run.status), ("16000000 20\n", "", 0));
    assert!(run.peak_rss < PEAK_RSS_BOUND, "peak RSS {} MB, bound {} MB", run.peak_rss >> 20, PEAK_RSS_BOUND >> 20);
}

#[test]
fn live_strings_survive_while_garbage_is_collected() {
    // A string that grows to 2 MB (a large object) stays live across many
    // collections triggered by garbage, and so do the strings in between.
    let source = "\
fn garbage(n: i64) -> i64:
    var total = 0
    for i in range(n):
        total += \"{i}-{i}\".len()
    return total

var big = \"\"
var piece = \"0123456789abcdef\"
var total = 0
for round in range(17):
    big = big + big + piece
    total += garbage(20000)
println(big.len(), total, piece)
";
    let run = run_measured("live", source);
    assert_eq!(run.stderr, "");
    assert_eq!(run.status, 0);
    // len(n) = 2 len(n-1) + 16 from 0: 16 (2^17 - 1).
    let garbage: usize = (0..20000).map(|i: usize| 2 * i.to_string().len() + 1).sum();
    assert_eq!(run.stdout, format!("{} {} 0123456789abcdef\n", 16 * ((1 << 17) - 1), 17 * garbage));
    assert!(run.peak_rss < PEAK_RSS_BOUND, "peak RSS {} MB", run.peak_rss >> 20);
}
