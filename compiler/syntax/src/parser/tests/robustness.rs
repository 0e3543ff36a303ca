//! No input makes the front end panic, loop or overflow: random text, random
//! token soup, and every truncation of realistic programs.

use crate::{dump_ast, dump_tokens, lex, parse};

/// A xorshift64* generator: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Parse, print, and check the invariants every result must satisfy.
fn exercise(text: &str) {
    let (tokens, _) = lex(text);
    let _ = dump_tokens(text, &tokens);
    for token in &tokens {
        assert!(text.is_char_boundary(token.span.start as usize) && text.is_char_boundary(token.span.end as usize));
    }
    let parse = parse(text);
    for error in &parse.errors {
        let (start, end) = (error.span.start as usize, error.span.end as usize);
        assert!(start <= end && end <= text.len(), "error span out of range: {error:?} in {text:?}");
        assert!(text.is_char_boundary(start) && text.is_char_boundary(end), "{error:?} in {text:?}");
        let _ = error.to_string();
    }
    let mut previous_end = 0;
    for item in &parse.file.items {
        let end = item.base as usize + item.len as usize;
        assert!(item.base as usize >= previous_end.min(item.base as usize) && end <= text.len(), "{text:?}");
        assert!(item.item.span.offset(item.base).end as usize <= text.len(), "{text:?}");
        previous_end = end;
    }
    let _ = dump_ast(&parse.file);
}

#[test]
fn random_text() {
    let alphabet: Vec<char> = "abcxyz_019 \t\n\n\n    ()[]{}:;,.+-*/%=<>!&|^~?\\\"'#$@é€😀\r".chars().collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..1500 {
        let len = rng.below(120);
        let text: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
        exercise(&text);
    }
    for _ in 0..500 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        exercise(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn random_token_soup() {
    const PIECES: &[&str] = &[
        "fn",
        "let",
        "mut",
        "val",
        "var",
        "const",
        "if",
        "elif",
        "else",
        "for",
        "in",
        "while",
        "loop",
        "break",
        "continue",
        "return",
        "match",
        "case",
        "struct",
        "class",
        "enum",
        "trait",
        "impl",
        "actor",
        "pub",
        "import",
        "from",
        "as",
        "is",
        "not",
        "and",
        "or",
        "spawn",
        "new",
        "self",
        "extern",
        "static",
        "type",
        "true",
        "false",
        "nil",
        "send",
        "on",
        "state",
        "dyn",
        "move",
        "handle_pool",
        "x",
        "Point",
        "Shape",
        "_",
        "42",
        "3.14",
        "0xff",
        "1..3",
        "\"s{x}\"",
        "\"{",
        "'r'",
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
        "..",
        "..=",
        "->",
        "=>",
        "=",
        "+=",
        "==",
        "<",
        "<=",
        "+",
        "-",
        "*",
        "**",
        "/",
        "//",
        "%",
        "&",
        "&&",
        "|",
        "||",
        "?",
        "??",
        "!",
        "~",
        "\\",
        "\n",
        "\n",
        "\n",
        "\n    ",
        "\n        ",
        "\n  ",
        "\t",
        "# c",
        "\\\n",
    ];
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..2000 {
        let len = rng.below(60);
        let mut text = String::new();
        for _ in 0..len {
            let piece = rng.pick(PIECES);
            text.push_str(piece);
            text.push(' ');
        }
        exercise(&text);
    }
}

const PROGRAMS: &[&str] = &[
    "\
const LIMIT: i64 = 1000

fn add(a: i64, b: i64) -> i64:
    return a + b

fn greet(name: str, punct: str = \"!\"):
    println(\"hello, {name}{punct} {LIMIT:>8}\")

fn main() -> i64:
    var total: i64 = 0
    for i in 0..10:
        if i % 2 == 0 and not (i > 5): total += i
        elif i == 7:
            continue
        else:
            total -= 1
    let s = if total < 0: -1 else: 1
    while total > 0: total //= 2
    return add(total, s) ** 2
",
    "\
struct Point:
    x: f64
    pub y: f64 = 0.0
    fn norm(self) -> f64: sqrt(self.x * self.x + self.y * self.y)

enum Shape:
    Circle(r: f64)
    Rect(w: f64, h: f64)
    Empty

fn area(s: Shape) -> f64:
    match s:
        case Shape::Circle(r) if r > 0.0: 3.14159 * r * r
        case Shape::Rect(w: a, h: b):
            a * b
        case _: 0.0

let d: {str: [i64]} = {\"a\": [1, 2], \"b\": []}
let (a, b) = (1, Point { x: 1.0, y: 2.0 })
if let v = d.get(\"a\"):
    print(v[1:], x is Shape::Empty, k not in d, opt ?? 3)
",
    "\
trait Show:
    fn show(self) -> str

impl[T: Show] Show for Pair[T, T]:
    fn show(self) -> str: \"{self.0.show()}\"

fn total[T: Shape](xs: [T]) -> f64:
    return xs.fold(0.0, \\acc, x: acc + x.area())

xs.each \\x:
    print(x)
data->normalize()
let u: &Node = new(&) Node(1)
let s: *Node? = new* Node(2)
handle_pool Node: capacity: 16

actor Counter:
    state:
        count: i64 = 0
    on Inc(n: i64):
        count += n

let h = spawn Counter()
send h, Inc(1)
",
];

#[test]
fn every_prefix_of_realistic_programs() {
    for program in PROGRAMS {
        let boundaries: Vec<usize> = program.char_indices().map(|(i, _)| i).chain([program.len()]).collect();
        for &end in &boundaries {
            exercise(&program[..end]);
        }
    }
}

#[test]
fn realistic_programs_parse_cleanly() {
    for program in PROGRAMS {
        let parse = parse(program);
        assert!(parse.errors.is_empty(), "{:?}", parse.errors);
    }
}

#[test]
fn every_line_deletion_of_realistic_programs() {
    for program in PROGRAMS {
        let lines: Vec<&str> = program.lines().collect();
        for skip in 0..lines.len() {
            let text: Vec<&str> = lines.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, line)| *line).collect();
            exercise(&text.join("\n"));
        }
    }
}

#[test]
fn pathological_inputs() {
    let inputs = [
        "\\".repeat(1000),
        "\"{".repeat(1000),
        "(".repeat(10_000),
        ")".repeat(10_000),
        "\n    ".repeat(1000),
        (0..1000).map(|i| format!("{}x\n", " ".repeat(i))).collect(),
        (0..1000).map(|i| format!("{}if x:\n", " ".repeat(i))).collect(),
        "a.".repeat(5000),
        "a + ".repeat(5000),
        "-".repeat(10_000),
        "not ".repeat(5000),
        "x = 1 if 2 else 3 ".repeat(100),
        "case _: ".repeat(1000),
        "\\x: ".repeat(2000),
        "if a: ".repeat(2000),
        "xs.each \\x:\n".repeat(300),
        "9".repeat(10_000),
        "1e99999".to_string(),
        "0x".repeat(100),
    ];
    for input in &inputs {
        exercise(input);
    }
}
