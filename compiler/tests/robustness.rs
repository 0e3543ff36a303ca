//! The compiler never panics: random bytes, token soup, every truncation of
//! real programs and every conformance program (testdata/run and
//! testdata/fail) damaged at random go through the whole pipeline
//! (diagnostics and, where there are no errors, code generation and
//! linking). The damage comes from fixed seeds, so a failure reproduces.

use simple_compiler::{Database, Project, SourceFile, db};

fn compile(text: &str) {
    let db = Database::default();
    let file = SourceFile::new(&db, "fuzz.spl".into(), text.to_string());
    let project = Project::new(&db, file, vec![file]);
    let diags = db::diagnostics(&db, project);
    let _ = db::link_smf(&db, project);
    for d in diags {
        assert!(d.span.start <= d.span.end && d.span.end as usize <= text.len(), "bad span {d:?} in {text:?}");
    }
}

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PROGRAMS: &[&str] = &[
    include_str!("../../examples/hello.spl"),
    "fn fib(n: i64) -> i64:\n    if n < 2: return n\n    return fib(n - 1) + fib(n - 2)\n\nfn main() -> i64:\n    let mut i = 0\n    while i < 10:\n        println(\"{i} {fib(i)}\")\n        i += 1\n    return 0\n",
    "const K: i64 = 3 * 4\nlet x = if K > 2: 1.5 else: 2.5\nfor i in range(0, 10, 2):\n    print(i, x, str(i) + \"a\", i as f64 / 2.0)\nassert(K == 12, \"k\")\nmain = K % 5\n",
];

const TOKENS: &[&str] = &[
    "fn",
    "let",
    "mut",
    "var",
    "if",
    "elif",
    "else",
    "while",
    "for",
    "in",
    "return",
    "break",
    "continue",
    "loop",
    "match",
    "case",
    "struct",
    "class",
    "enum",
    "x",
    "y",
    "main",
    "print",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    "=",
    "+=",
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "**",
    "<",
    "<=",
    "==",
    "and",
    "or",
    "not",
    "as",
    "i64",
    "f64",
    "str",
    "bool",
    "1",
    "0",
    "9223372036854775808",
    "1.5",
    "\"s{x}\"",
    "'raw'",
    "true",
    "nil",
    "\n",
    "\n    ",
    "\n        ",
    "->",
    "..",
    "..=",
    "\\",
    "#c",
    "\t",
    "?",
    "??",
    "is",
    "const",
    "pub",
    "import",
    "\"",
    "{",
    "é",
    "::",
    "=>",
    "_",
    "impl",
    "self",
    "[i64]",
    "{str: i64}",
    "i64?",
    "(i64, str)",
    "unwrap",
    "len",
];

#[test]
fn truncated_programs_do_not_panic() {
    for program in PROGRAMS {
        for end in (0..=program.len()).filter(|&i| program.is_char_boundary(i)) {
            compile(&program[..end]);
        }
    }
}

#[test]
fn token_soup_does_not_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..400 {
        let n = rng.below(40);
        let text: String = (0..n).map(|_| TOKENS[rng.below(TOKENS.len())]).collect::<Vec<_>>().join(" ");
        compile(&text);
    }
}

#[test]
fn random_text_does_not_panic() {
    let mut rng = Rng(42);
    let alphabet: Vec<char> = "abcfnx01 \n\t:()[]{}=+-*/%<>\"'#\\.,?!é".chars().collect();
    for _ in 0..300 {
        let n = rng.below(120);
        let text: String = (0..n).map(|_| alphabet[rng.below(alphabet.len())]).collect();
        compile(&text);
    }
}

#[test]
fn mutated_programs_do_not_panic() {
    let mut rng = Rng(7);
    for program in PROGRAMS {
        for _ in 0..150 {
            let mut chars: Vec<char> = program.chars().collect();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(chars.len());
                match rng.below(3) {
                    0 => {
                        chars.remove(i);
                    }
                    1 => chars.insert(i, TOKENS[rng.below(TOKENS.len())].chars().next().unwrap_or(' ')),
                    _ => {
                        let j = rng.below(chars.len());
                        chars.swap(i, j);
                    }
                }
            }
            compile(&chars.into_iter().collect::<String>());
        }
    }
}

/// `text` with one to three random changes on character boundaries: a span
/// of up to 8 characters deleted or repeated, a token inserted, or two lines
/// swapped.
fn damage(text: &str, rng: &mut Rng) -> String {
    let mut text = text.to_string();
    for _ in 0..1 + rng.below(3) {
        let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        let at = rng.below(bounds.len());
        let (start, end) = (bounds[at], bounds[(at + 1 + rng.below(8)).min(bounds.len() - 1)]);
        match rng.below(4) {
            0 => text.replace_range(start..end, ""),
            1 => {
                let span = text[start..end].to_string();
                text.insert_str(start, &span);
            }
            2 => text.insert_str(start, TOKENS[rng.below(TOKENS.len())]),
            _ => {
                let mut lines: Vec<&str> = text.lines().collect();
                let (a, b) = (rng.below(lines.len().max(1)), rng.below(lines.len().max(1)));
                if a < lines.len() && b < lines.len() {
                    lines.swap(a, b);
                }
                text = lines.join("\n");
            }
        }
    }
    text
}

/// `SIMPLE_MUTANTS=N` sets the mutants per program (default 2; 400 ran
/// clean when this test was written).
#[test]
fn damaged_conformance_programs_do_not_panic() {
    let mutants: u64 = std::env::var("SIMPLE_MUTANTS").ok().and_then(|n| n.parse().ok()).unwrap_or(2);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
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
    let mut failures = Vec::new();
    for path in &programs {
        let text = std::fs::read_to_string(path).expect("readable");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        for m in 0..mutants {
            // Seeded by the name, so adding a program changes no other's.
            let seed =
                name.bytes().fold(0x9e37_79b9_7f4a_7c15 ^ m, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
            let mutant = damage(&text, &mut Rng(seed | 1));
            if let Err(panic) = std::panic::catch_unwind(|| compile(&mutant)) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{name} mutant {m}: {message}\n{mutant}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} mutants panicked the compiler:\n\n{}", failures.len(), failures.join("\n\n"));
}
