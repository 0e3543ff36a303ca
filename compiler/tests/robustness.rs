//! The compiler never panics: random bytes, token soup and every truncation
//! of real programs go through the whole pipeline (diagnostics and, where
//! there are no errors, code generation and linking).

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
