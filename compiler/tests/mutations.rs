//! Mutation fuzzing of the whole compiler: every conformance program
//! (testdata/run and testdata/fail), damaged in small random ways (a span
//! deleted or repeated, a token inserted, two lines swapped), must be built
//! or rejected with diagnostics, never make the compiler panic. The damage
//! is drawn from a fixed seed per program and mutant, so a failure
//! reproduces; it prints the mutant's text.
//!
//! `SIMPLE_MUTANTS=N` sets the mutants per program (default 2).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use simple_compiler::diagnostics::Level;
use simple_compiler::{Database, Project, SourceFile, db};

/// Text a mutation may insert: tokens of every kind, and some that break
/// the layout.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "::",
    ",",
    ".",
    "\n",
    "    ",
    "\t",
    "=",
    "==",
    "+=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "**",
    "<",
    "..",
    "..=",
    "?",
    "??",
    "0",
    "-1",
    "9223372036854775807",
    "1.5",
    "\"",
    "\"{",
    "}\"",
    "'",
    "#",
    "nil",
    "true",
    "fn",
    "let",
    "var",
    "return",
    "if",
    "elif",
    "else",
    "for",
    "in",
    "while",
    "loop",
    "break",
    "match",
    "case",
    "_",
    "=>",
    "is",
    "class",
    "struct",
    "enum",
    "impl",
    "self",
    "mut",
    "pub",
    "static",
    "import",
    "from",
    "const",
    "i64",
    "f64",
    "str",
    "bool",
    "[i64]",
    "{str: i64}",
    "i64?",
    "(i64, str)",
    "x",
    "main",
    "é",
    "unwrap",
    "len",
    "as",
];

/// A xorshift generator: deterministic and good enough to pick damage.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// `text` with one to three random changes, each on character boundaries.
fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut text = text.to_string();
    for _ in 0..1 + rng.below(3) {
        let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        let at = bounds[rng.below(bounds.len())];
        let end = bounds[(bounds.partition_point(|&b| b < at) + 1 + rng.below(8)).min(bounds.len() - 1)];
        match rng.below(4) {
            0 => text.replace_range(at..end, ""),
            1 => {
                let span = text[at..end].to_string();
                text.insert_str(at, &span);
            }
            2 => text.insert_str(at, TOKENS[rng.below(TOKENS.len())]),
            _ => {
                let mut lines: Vec<&str> = text.lines().collect();
                if lines.len() > 1 {
                    let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                    lines.swap(a, b);
                }
                text = lines.join("\n");
            }
        }
    }
    text
}

/// Checks `text` and, if it has no errors, builds it: what `simple build` does.
fn compile(text: &str) {
    let db = Database::default();
    let file = SourceFile::new(&db, "mutant.spl".into(), text.to_string());
    let project = Project::new(&db, file, vec![file]);
    if !db::diagnostics(&db, project).iter().any(|d| d.level == Level::Error) {
        let _ = db::link_smf(&db, project);
    }
}

#[test]
fn damaged_programs_never_panic_the_compiler() {
    let mutants: u64 = std::env::var("SIMPLE_MUTANTS").ok().and_then(|n| n.parse().ok()).unwrap_or(2);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let mut programs = Vec::new();
    for dir in ["run", "fail"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("testdata exists") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_some_and(|e| e == "spl") {
                programs.push(path);
            }
        }
    }
    programs.sort();
    assert!(programs.len() > 100, "found only {} programs", programs.len());

    // Panics are the finding: keep their messages out of the output until
    // the report.
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    for path in &programs {
        let text = std::fs::read_to_string(path).expect("readable");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        for m in 0..mutants {
            // A seed from the name, so that adding a program changes no other's mutants.
            let seed = name
                .bytes()
                .fold(0x9e37_79b9_7f4a_7c15u64 ^ m, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
            let mutant = mutate(&text, &mut Rng(seed | 1));
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| compile(&mutant))) {
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("?")
                    .to_string();
                failures.push(format!("{name} mutant {m}: panicked: {message}\n{mutant}"));
            }
        }
    }
    let _ = std::panic::take_hook();
    assert!(failures.is_empty(), "{} mutants panicked the compiler:\n\n{}", failures.len(), failures.join("\n\n"));
}
