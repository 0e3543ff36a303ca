//! The code cache across processes: a fresh build after an edit compiles
//! only what changed, damaged cache files are rebuilt, never trusted, and
//! cached functions and files keep their warnings.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("simple-fn-cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn simple(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simple")).args(args).current_dir(dir).output().expect("run simple")
}

/// `simple build --stats`: its first line, e.g. `4 functions: 1 compiled, 3 reused from the cache`.
fn build(dir: &Path) -> String {
    let out = simple(dir, &["build", "--stats", "main.spl"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr.lines().find(|l| l.contains(" functions: ")).unwrap_or_else(|| panic!("no stats in {stderr}")).to_string()
}

fn run(dir: &Path) -> String {
    let out = simple(dir, &["run", "main.spl"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const MAIN: &str = "\
from shapes import area
import util

fn twice(x: i64) -> i64:
    return util.add(x, x)

println(twice(area(2, 3)))
";
const SHAPES: &str = "pub fn area(w: i64, h: i64) -> i64:\n    return w * h\n";
const UTIL: &str = "pub fn add(a: i64, b: i64) -> i64:\n    return a + b\n\npub fn unused() -> i64:\n    return 0\n";

fn project(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    for (file, text) in [("main.spl", MAIN), ("shapes.spl", SHAPES), ("util.spl", UTIL)] {
        std::fs::write(dir.join(file), text).expect("write");
    }
    dir
}

#[test]
fn a_fresh_build_after_an_edit_compiles_only_the_edited_function() {
    let dir = project("edit");
    assert_eq!(build(&dir), "5 functions: 5 compiled, 0 reused from the cache");
    assert_eq!(build(&dir), "5 functions: 0 compiled, 5 reused from the cache");
    // However the program's path is spelled.
    let absolute = dir.join("main.spl");
    let out = simple(&dir, &["build", "--stats", absolute.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("5 functions: 0 compiled, 5 reused"), "{out:?}");
    // Body edits in modules, imported whole and by name: their importers
    // are not recompiled.
    std::fs::write(dir.join("util.spl"), UTIL.replace("a + b", "a + b + 1")).unwrap();
    assert_eq!(build(&dir), "5 functions: 1 compiled, 4 reused from the cache");
    assert_eq!(run(&dir), "13\n");
    std::fs::write(dir.join("shapes.spl"), SHAPES.replace("w * h", "h * w")).unwrap();
    assert_eq!(build(&dir), "5 functions: 1 compiled, 4 reused from the cache");
    assert_eq!(run(&dir), "13\n");
    // Lines inserted above functions move them but change no code: line
    // tables are relative to the function until the module is linked.
    std::fs::write(dir.join("main.spl"), format!("# a comment\n\n{MAIN}")).unwrap();
    assert_eq!(build(&dir), "5 functions: 0 compiled, 5 reused from the cache");
    // A signature change recompiles the functions that can see it.
    std::fs::write(dir.join("shapes.spl"), SHAPES.replace("h: i64", "h: i64 = 1").replace("w * h", "h * w")).unwrap();
    let stats = build(&dir);
    assert!(stats.starts_with("5 functions: 3 compiled, 2 reused"), "{stats}");
    assert_eq!(run(&dir), "13\n");
}

#[test]
fn editing_an_inlined_function_recompiles_its_callers() {
    let dir = temp_dir("inline");
    let main = "fn square(x: i64) -> i64:\n    return x * x\n\nfn twice_square(x: i64) -> i64:\n    return 2 * square(x)\n\nprintln(twice_square(3))\n";
    std::fs::write(dir.join("main.spl"), main).unwrap();
    assert_eq!(build(&dir), "3 functions: 3 compiled, 0 reused from the cache");
    assert_eq!(run(&dir), "18\n");
    // `twice_square` holds a copy of `square`: reusing its cached code would
    // still print 18.
    std::fs::write(dir.join("main.spl"), main.replace("x * x", "x * x + 1")).unwrap();
    assert_eq!(build(&dir), "3 functions: 2 compiled, 1 reused from the cache");
    assert_eq!(run(&dir), "20\n");
}

#[test]
fn damaged_cache_files_are_rebuilt_never_trusted() {
    let dir = project("damage");
    build(&dir);
    let cache = dir.join(".simple-cache");
    // The function log is only read for files without a sound object, so
    // the object log goes before each build that tests the function log.
    for (log, hide) in [("main.spl.fns", Some("main.spl.objs")), ("main.spl.objs", None)] {
        let path = cache.join(log);
        let good = std::fs::read(&path).expect("the cache file exists");
        let prepare = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            if let Some(hide) = hide {
                std::fs::remove_file(cache.join(hide)).unwrap();
            }
            std::fs::remove_file(dir.join("main.smf")).unwrap();
        };

        // The last byte belongs to the last record's payload: that record is
        // damaged and rebuilt, the others are reused.
        let mut damaged = good.clone();
        *damaged.last_mut().unwrap() ^= 0xff;
        prepare(&damaged);
        let stats = build(&dir);
        assert!(stats.contains("(1 damaged cache entries rebuilt)"), "{log}: {stats}");
        assert_eq!(run(&dir), "12\n");
        prepare(&std::fs::read(&path).unwrap());
        assert_eq!(build(&dir), "5 functions: 0 compiled, 5 reused from the cache", "{log}: the damage was repaired");

        // Truncated, garbage, empty and unreadable-as-cache files.
        for bytes in [&good[..good.len() - 7], b"garbage".as_slice(), b"", &good[..20]] {
            prepare(bytes);
            let stats = build(&dir);
            assert!(stats.starts_with("5 functions: "), "{log}: {stats}");
            assert_eq!(run(&dir), "12\n");
            assert_eq!(build(&dir), "5 functions: 0 compiled, 5 reused from the cache", "{log}");
        }
    }

    // A cache directory that cannot be written does not fail the build.
    std::fs::remove_dir_all(&cache).unwrap();
    std::fs::write(&cache, "not a directory").unwrap();
    assert_eq!(build(&dir), "5 functions: 5 compiled, 0 reused from the cache");
    assert_eq!(run(&dir), "12\n");
}

#[test]
fn cached_functions_keep_their_warnings() {
    let dir = temp_dir("warnings");
    std::fs::write(dir.join("main.spl"), "fn f() -> i64:\n    return 1\n    println(2)\n\nprintln(f())\n").unwrap();
    for _ in 0..2 {
        let out = simple(&dir, &["build", "--stats", "main.spl"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("warning: unreachable code"), "{stderr}");
    }
    assert!(build(&dir).ends_with("2 reused from the cache"));
}
