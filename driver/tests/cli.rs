//! The driver's behaviour around the program: arguments, files, the SMF
//! cache and its atomic writes, dumps and `smf inspect`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn simple() -> Command {
    Command::new(env!("CARGO_BIN_EXE_simple"))
}

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("simple-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    simple().args(args).current_dir(dir).output().expect("run simple")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let dir = temp_dir("missing");
    let out = run_in(&dir, &["run", "nope.spl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("error: cannot read `nope.spl`: No such file"), "{}", stderr(&out));
}

#[test]
fn bad_arguments_are_usage_errors() {
    let out = simple().args(["frobnicate"]).output().expect("run simple");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unrecognized subcommand"), "{}", stderr(&out));
}

#[test]
fn a_non_utf8_source_is_a_clear_error() {
    let dir = temp_dir("utf8");
    std::fs::write(dir.join("bad.spl"), b"println(\"\xff\")\n").expect("write");
    let out = run_in(&dir, &["run", "bad.spl"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "error: `bad.spl` is not valid UTF-8\n");
}

#[test]
fn run_reuses_an_up_to_date_module_and_rebuilds_a_stale_one() {
    let dir = temp_dir("cache");
    std::fs::write(dir.join("p.spl"), "println(1)\n").expect("write");
    assert_eq!(stdout(&run_in(&dir, &["run", "p.spl"])), "1\n");
    let smf = dir.join("p.smf");
    let first = std::fs::metadata(&smf).and_then(|m| m.modified()).expect("smf written");
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(stdout(&run_in(&dir, &["run", "p.spl"])), "1\n");
    let second = std::fs::metadata(&smf).and_then(|m| m.modified()).expect("smf kept");
    assert_eq!(first, second, "an up-to-date module must not be rewritten");

    std::fs::write(dir.join("p.spl"), "println(2)\n").expect("write");
    assert_eq!(stdout(&run_in(&dir, &["run", "p.spl"])), "2\n");
}

/// `simple` runs an up-to-date module itself and hands a stale one to
/// `simplec`; the program reads which executable it runs in.
#[cfg(target_os = "linux")]
#[test]
fn simple_runs_an_up_to_date_module_without_the_compiler() {
    let dir = temp_dir("launch");
    std::fs::write(dir.join("p.spl"), "fn main():\n    print(read_file(\"/proc/self/cmdline\").split(\"\\0\")[0])\n")
        .expect("write");
    let exe = |o: Output| Path::new(&stdout(&o)).file_name().map(|n| n.to_string_lossy().into_owned());
    assert_eq!(exe(run_in(&dir, &["run", "p.spl"])).as_deref(), Some("simplec"));
    assert_eq!(exe(run_in(&dir, &["run", "p.spl"])).as_deref(), Some("simple"));
    assert_eq!(exe(run_in(&dir, &["run", "p.smf"])).as_deref(), Some("simple"));
    // Options are part of what a module was built from.
    assert_eq!(exe(run_in(&dir, &["run", "--no-opt", "p.spl"])).as_deref(), Some("simplec"));
    assert_eq!(exe(run_in(&dir, &["run", "--no-opt", "p.spl"])).as_deref(), Some("simple"));
    // Started by the `simple watch` of another build.
    let other_build = simple().args(["run", "p.smf"]).env("SIMPLE_RUNTIME_BUILD", "0").current_dir(&dir).output();
    assert_eq!(exe(other_build.expect("run simple")).as_deref(), Some("simplec"));
}

#[test]
fn run_rebuilds_when_an_imported_file_changes_or_goes() {
    let dir = temp_dir("imports");
    std::fs::write(dir.join("p.spl"), "from m import f\nprintln(f())\n").expect("write");
    std::fs::write(dir.join("m.spl"), "pub fn f() -> i64:\n    return 1\n").expect("write");
    assert_eq!(stdout(&run_in(&dir, &["run", "p.spl"])), "1\n");
    std::fs::write(dir.join("m.spl"), "pub fn f() -> i64:\n    return 2\n").expect("write");
    assert_eq!(stdout(&run_in(&dir, &["run", "p.spl"])), "2\n");
    std::fs::remove_file(dir.join("m.spl")).expect("remove");
    let out = run_in(&dir, &["run", "p.spl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot find module `m`"), "{}", stderr(&out));
}

#[test]
fn a_corrupted_cached_module_is_rebuilt() {
    let dir = temp_dir("corrupt");
    std::fs::write(dir.join("p.spl"), "println(\"ok\")\n").expect("write");
    assert_eq!(stdout(&run_in(&dir, &["run", "p.spl"])), "ok\n");
    // Keep the header (and so the source hash) but break the body.
    let smf = dir.join("p.smf");
    let mut bytes = std::fs::read(&smf).expect("read smf");
    let len = bytes.len();
    bytes[len / 2..].iter_mut().for_each(|b| *b ^= 0x5a);
    std::fs::write(&smf, &bytes).expect("write smf");
    let out = run_in(&dir, &["run", "p.spl"]);
    assert_eq!(stdout(&out), "ok\n", "stderr: {}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn run_runs_a_built_module_and_rejects_a_damaged_one() {
    let dir = temp_dir("run-smf");
    std::fs::write(dir.join("p.spl"), "println(\"from the module\")\n").expect("write");
    assert_eq!(run_in(&dir, &["build", "p.spl", "-o", "out.smf"]).status.code(), Some(0));
    // The source is not needed to run a module.
    std::fs::remove_file(dir.join("p.spl")).expect("remove");
    assert_eq!(stdout(&run_in(&dir, &["run", "out.smf"])), "from the module\n");
    let mut bytes = std::fs::read(dir.join("out.smf")).expect("read smf");
    bytes.truncate(bytes.len() / 2);
    std::fs::write(dir.join("out.smf"), &bytes).expect("write smf");
    let out = run_in(&dir, &["run", "out.smf"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("error: cannot load `out.smf`: invalid module: "), "{}", stderr(&out));
    assert_eq!(stderr(&out).matches("out.smf").count(), 1, "{}", stderr(&out));
    let out = run_in(&dir, &["run", "missing.smf"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("error: cannot load `missing.smf`: "), "{}", stderr(&out));
}

#[test]
fn a_compile_error_keeps_the_last_good_module() {
    let dir = temp_dir("keep");
    std::fs::write(dir.join("p.spl"), "println(1)\n").expect("write");
    assert_eq!(run_in(&dir, &["build", "p.spl"]).status.code(), Some(0));
    let good = std::fs::read(dir.join("p.smf")).expect("module");
    std::fs::write(dir.join("p.spl"), "println(x)\n").expect("write");
    let out = run_in(&dir, &["build", "p.spl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot find `x` in this scope"));
    assert_eq!(std::fs::read(dir.join("p.smf")).expect("module"), good);
}

#[test]
fn build_writes_through_symlinks_and_to_devices() {
    let dir = temp_dir("links");
    std::fs::write(dir.join("p.spl"), "println(1)\n").expect("write");
    std::fs::write(dir.join("real.smf"), b"old").expect("write");
    std::os::unix::fs::symlink(dir.join("real.smf"), dir.join("link.smf")).expect("symlink");
    assert_eq!(run_in(&dir, &["build", "p.spl", "-o", "link.smf"]).status.code(), Some(0));
    assert!(dir.join("link.smf").is_symlink(), "the link itself must survive");
    assert!(std::fs::read(dir.join("real.smf")).expect("read").starts_with(b"SMF\0"));
    let out = run_in(&dir, &["build", "p.spl", "-o", "/dev/null"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata("/dev/null").expect("dev null").file_type().is_char_device());
}

#[test]
fn smf_inspect_prints_every_part_and_rejects_garbage() {
    let dir = temp_dir("inspect");
    std::fs::write(dir.join("p.spl"), "fn main() -> i64:\n    println(\"hi\")\n    return 3\n").expect("write");
    assert_eq!(run_in(&dir, &["build", "p.spl"]).status.code(), Some(0));
    let out = run_in(&dir, &["smf", "inspect", "p.smf"]);
    let text = stdout(&out);
    for part in ["main", "__simple_entry", "spl_print_str", "p.spl"] {
        assert!(text.contains(part), "missing {part} in:\n{text}");
    }
    std::fs::write(dir.join("junk.smf"), b"SMF\0garbage").expect("write");
    let out = run_in(&dir, &["smf", "inspect", "junk.smf"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("error: `junk.smf` is not a valid SMF module"), "{}", stderr(&out));
}

#[test]
fn output_cut_short_by_its_reader_is_not_a_crash() {
    let dir = temp_dir("pipe");
    std::fs::write(dir.join("p.spl"), "fn f(x: i64) -> i64:\n    return x * 2\n\nprintln(f(1))\n").expect("write");
    assert_eq!(run_in(&dir, &["build", "p.spl"]).status.code(), Some(0));
    for args in [["smf", "inspect", "p.smf"].as_slice(), &["dump", "mir", "p.spl"]] {
        let mut child = simple()
            .args(args)
            .current_dir(&dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // Close the read end at once: every write fails with EPIPE.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        assert!(!stderr(&out).contains("panicked"), "{args:?}: {}", stderr(&out));
        assert_eq!(out.status.code(), Some(0), "{args:?}");
    }
}

#[test]
fn a_stopped_program_keeps_its_buffered_output() {
    use std::os::unix::process::ExitStatusExt;
    let dir = temp_dir("sigterm");
    std::fs::write(dir.join("p.spl"), "println(\"before the loop\")\nvar i = 0\nwhile true:\n    i += 1\n")
        .expect("write");
    assert_eq!(run_in(&dir, &["build", "p.spl"]).status.code(), Some(0));
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let child = simple()
            .args(["run", "p.spl"])
            .current_dir(&dir)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(300));
        // SAFETY: kill only sends a signal to our own child.
        unsafe { libc::kill(child.id() as i32, signal) };
        let out = child.wait_with_output().expect("wait");
        assert_eq!(stdout(&out), "before the loop\n", "signal {signal}");
        assert_eq!(out.status.signal(), Some(signal), "ended by the signal itself");
    }
}

#[test]
fn the_exit_status_is_mains_value() {
    let dir = temp_dir("status");
    std::fs::write(dir.join("p.spl"), "fn main() -> i64:\n    return 42\n").expect("write");
    assert_eq!(run_in(&dir, &["run", "p.spl"]).status.code(), Some(42));
}

#[test]
fn diagnostics_look_like_rustc() {
    let dir = temp_dir("render");
    let source = "fn half(n: i64) -> i64:\n    return n / 2.0\n\nlet x = 1\nx = half(x)\n";
    std::fs::write(dir.join("p.spl"), source).expect("write");
    let out = run_in(&dir, &["check", "p.spl"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stderr(&out));
    let json = run_in(&dir, &["check", "--error-format=json", "p.spl"]);
    insta::assert_snapshot!(stderr(&json));
}

#[test]
fn programs_get_their_arguments_and_read_stdin() {
    use std::io::Write;
    let dir = temp_dir("io");
    let program = "\
println(args())
var total = 0
var lines = 0
while let line = read_line():
    lines += 1
    total += line.len()
println(lines, total)
";
    std::fs::write(dir.join("io.spl"), program).expect("write program");
    for run in 0..2 {
        // The second run loads the SMF the first one wrote.
        let mut child = simple()
            .args(["run", "io.spl", "one", "--two", "three four"])
            .current_dir(&dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run simple");
        child.stdin.take().expect("stdin").write_all(b"ab\r\ncde\n\nlast").expect("write stdin");
        let out = child.wait_with_output().expect("wait");
        assert_eq!(stderr(&out), "", "run {run}");
        assert_eq!(stdout(&out), "[\"one\", \"--two\", \"three four\"]\n4 9\n", "run {run}");
    }
}
