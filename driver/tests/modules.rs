//! Programs of several files: `import`, `from ... import`, `pub`, and the
//! diagnostics and runtime errors that point into imported files.

use std::path::{Path, PathBuf};
use std::process::Output;

/// Writes `files` (relative path, text) into a fresh directory.
fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("simple-modules-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create dir");
        std::fs::write(path, text).expect("write source");
    }
    dir
}

fn simple(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_simple")).args(args).current_dir(dir).output().expect("run simple")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const GEOMETRY: &str = "\
pub const PI: f64 = 3.0

pub fn area(r: f64) -> f64:
    return PI * square(r)

fn square(x: f64) -> f64: x * x

pub fn ratio(a: i64, b: i64) -> i64:
    return a / b
";

#[test]
fn imports_bind_modules_items_and_aliases() {
    let dir = project(
        "basic",
        &[
            ("geometry.spl", GEOMETRY),
            (
                "util/strings.spl",
                "import geometry\n\npub fn shout(s: str) -> str:\n    return s + \"! {geometry.PI}\"\n",
            ),
            (
                "main.spl",
                "import geometry\nimport util.strings\nimport geometry as g\nfrom util.strings import shout as yell\n\
                 from geometry import area, PI\n\n\
                 println(geometry.area(2.0), g.area(1.0), area(1.0), PI)\n\
                 println(util.strings.shout(\"hi\"))\nprintln(yell(\"bye\"))\n",
            ),
        ],
    );
    let out = simple(&dir, &["run", "main.spl"]);
    assert_eq!(text(&out.stderr), "");
    assert_eq!(text(&out.stdout), "12.0 3.0 3.0 3.0\nhi! 3.0\nbye! 3.0\n");
    assert_eq!(out.status.code(), Some(0));

    // `simple dump` finds a module's function by its symbol.
    let out = simple(&dir, &["dump", "mir", "main.spl", "--fn", "util.strings.shout"]);
    assert!(text(&out.stdout).starts_with("fn util.strings.shout("), "{}{}", text(&out.stdout), text(&out.stderr));
    let out = simple(&dir, &["dump", "mir", "main.spl", "--fn", "geometry.nope"]);
    assert_eq!(text(&out.stderr), "error: no function named `geometry.nope`\n");
}

#[test]
fn cycles_between_functions_of_two_modules_are_allowed() {
    let dir = project(
        "cycle",
        &[
            ("a.spl", "import b\npub fn even(n: i64) -> bool:\n    if n == 0: return true\n    return b.odd(n - 1)\n"),
            ("b.spl", "import a\npub fn odd(n: i64) -> bool:\n    if n == 0: return false\n    return a.even(n - 1)\n"),
            ("main.spl", "import a\nprintln(a.even(10), a.even(7))\n"),
        ],
    );
    let out = simple(&dir, &["run", "main.spl"]);
    assert_eq!(text(&out.stdout), "true false\n", "{}", text(&out.stderr));
}

#[test]
fn private_items_and_missing_modules_are_errors_in_the_right_file() {
    let dir = project(
        "errors",
        &[
            ("geometry.spl", GEOMETRY),
            ("lib.spl", "pub fn f() -> i64: undefined_name\n"),
            (
                "main.spl",
                "import geometry\nimport lib\nimport nowhere\nfrom geometry import square\nprintln(geometry.square(1.0))\n",
            ),
        ],
    );
    let out = simple(&dir, &["check", "--error-format=json", "main.spl"]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> =
        text(&out.stderr).lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    let found: Vec<(String, u64, String)> = lines
        .iter()
        .map(|d| {
            let file = d["file"].as_str().unwrap_or_default().to_string();
            (file, d["line"].as_u64().unwrap_or(0), d["message"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    let expected = [
        ("lib.spl", 1, "cannot find `undefined_name` in this scope"),
        ("main.spl", 3, "cannot find module `nowhere`"),
        ("main.spl", 4, "`square` is private to module `geometry`"),
        ("main.spl", 5, "`square` is private to module `geometry`"),
    ];
    for (file, line, message) in expected {
        assert!(
            found.iter().any(|(f, l, m)| f == file && *l == line && m == message),
            "missing {file}:{line}: {message} in {found:?}"
        );
    }
    assert_eq!(found.len(), expected.len(), "{found:?}");
}

#[test]
fn a_module_holds_only_declarations() {
    let dir = project(
        "decls",
        &[("m.spl", "pub fn f() -> i64: 1\nprintln(2)\n"), ("main.spl", "import m\nprintln(m.f())\n")],
    );
    let out = simple(&dir, &["run", "main.spl"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error: a module may only hold declarations\n --> m.spl:2:1"), "{stderr}");
}

#[test]
fn runtime_errors_point_into_the_module() {
    let dir = project(
        "runtime",
        &[("geometry.spl", GEOMETRY), ("main.spl", "import geometry\nprintln(geometry.ratio(1, 0))\n")],
    );
    let out = simple(&dir, &["run", "main.spl"]);
    assert_eq!(out.status.code(), Some(101));
    assert_eq!(
        text(&out.stderr),
        "error: division by zero\n --> geometry.spl:9:14\nbacktrace:\n  geometry.ratio at geometry.spl:9:14\n  main at main.spl:2:9\n"
    );
}

#[test]
fn editing_an_imported_file_rebuilds_the_cached_module() {
    let dir = project("cache", &[("m.spl", "pub fn v() -> i64: 1\n"), ("main.spl", "import m\nprintln(m.v())\n")]);
    assert_eq!(text(&simple(&dir, &["run", "main.spl"]).stdout), "1\n");
    std::fs::write(dir.join("m.spl"), "pub fn v() -> i64: 2\n").expect("edit");
    assert_eq!(text(&simple(&dir, &["run", "main.spl"]).stdout), "2\n");
}

const SHAPES: &str = "\
pub struct Point:
    pub x: f64
    pub y: f64
    secret: i64 = 7

    pub fn norm2(self) -> f64: self.x * self.x + self.y * self.y
    fn hidden(self) -> i64: self.secret

pub enum Shape:
    Dot(at: Point)
    Circle(center: Point, r: f64)

pub class Canvas:
    pub shapes: [Shape]

    pub fn new() -> Canvas: Canvas(shapes: [])
    pub fn add(self, s: Shape): self.shapes.push(s)

struct Private:
    n: i64
";

#[test]
fn types_of_other_modules_are_used_qualified_and_imported() {
    let dir = project(
        "types",
        &[
            ("shapes.spl", SHAPES),
            (
                "main.spl",
                "import shapes\nfrom shapes import Point, Shape, Canvas\n\n\
                 fn describe(s: shapes.Shape) -> str:\n    match s:\n        case Shape::Dot(p): \"dot {p.x}\"\n        \
                 case Shape::Circle(c, r): \"circle {r} at {c.norm2()}\"\n\n\
                 let c = Canvas.new()\nc.add(Shape::Dot(Point(x: 1.0, y: 2.0)))\n\
                 c.add(shapes.Shape.Circle(shapes.Point(3.0, 4.0), 2.0))\n\
                 c.add(shapes.Shape::Circle(shapes.Point(0.0, 1.0), 1.0))\n\
                 for s in c.shapes:\n    println(describe(s))\nprintln(c.shapes[0])\n\
                 match c.shapes[2]:\n    case shapes.Shape::Circle(_, r): println(r)\n    case _: println(\"?\")\n",
            ),
        ],
    );
    let out = simple(&dir, &["run", "main.spl"]);
    assert_eq!(text(&out.stderr), "");
    assert_eq!(
        text(&out.stdout),
        "dot 1.0\ncircle 2.0 at 25.0\ncircle 1.0 at 1.0\nShape::Dot(at: Point(x: 1.0, y: 2.0, secret: 7))\n1.0\n"
    );
}

#[test]
fn private_fields_methods_and_types_are_errors_across_modules() {
    let dir = project(
        "private-types",
        &[
            ("shapes.spl", SHAPES),
            (
                "main.spl",
                "import shapes\nfrom shapes import Private\nlet p = shapes.Point(1.0, 2.0)\n\
                 println(p.secret)\nprintln(p.hidden())\nlet q: shapes.Private = shapes.Private(1)\n",
            ),
        ],
    );
    let out = simple(&dir, &["check", "--error-format=json", "main.spl"]);
    assert_eq!(out.status.code(), Some(1));
    let found: Vec<(u64, String)> = text(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("one JSON object per line"))
        .map(|d| (d["line"].as_u64().unwrap_or(0), d["message"].as_str().unwrap_or_default().to_string()))
        .collect();
    let expected = [
        (2, "`Private` is private to module `shapes`"),
        (4, "field `secret` of `Point` is private"),
        (5, "method `hidden` of `Point` is private"),
        (6, "`Private` is private to module `shapes`"),
    ];
    for (line, message) in expected {
        assert!(found.iter().any(|(l, m)| *l == line && m == message), "missing {line}: {message} in {found:?}");
    }
}
