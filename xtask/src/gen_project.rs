//! `cargo xtask gen-project`: writes a synthetic multi-file Simple project of
//! about N lines, and a C project that computes exactly the same, for
//! benchmarking compile times (see `cargo xtask bench-incremental`).
//!
//! The generator builds one small typed IR for the whole program and prints
//! it twice, as Simple and as C, so the two cannot drift apart. Everything it
//! emits is Tier 1 Simple plus modules (docs/language.md), and it is careful
//! with what Simple checks at run time and C leaves undefined:
//!
//! - Integer overflow traps in Simple. Every `i64` expression carries an
//!   upper bound on its magnitude, worked out while it is generated; stored
//!   values stay below [`P`] (reduced with `% MOD`), intermediate values below
//!   2^41. Divisors are non-zero literals or constants.
//! - Floats stay finite and bounded: divisions are by literals at least 1 or
//!   by `abs(x) + 1.0`, square roots take `abs(...)`; a float becomes an
//!   integer only through `as i64` of a bounded value. Floats are never
//!   printed (Simple prints Rust's shortest form, C's printf cannot).
//! - Functions are pure (only `main` prints), so C's unspecified evaluation
//!   order cannot change a result.
//! - The call graph is acyclic: a function only calls functions generated
//!   before it. Functions are generated round-robin over the modules, so
//!   modules call (and import) each other in both directions: imports form
//!   cycles, calls do not. Every function's dynamic cost (statements run,
//!   callees included) is estimated and capped, so `main` runs in
//!   milliseconds.
//!
//! `main.spl` first prints `edit: K`, the result of `edit_target()` in the
//! module in the middle of the project, whose body holds the line
//! `    let k = K  # EDIT` (in C `    int64_t k = K;  /* EDIT */`), for a
//! benchmark to rewrite ([`rewrite_edit_line`]); then one line per module and
//! a checksum.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::bench::{self, Args, Cmd};

pub const USAGE: &str = "\
usage: cargo xtask gen-project --lines N [options]

Writes a synthetic Simple project of about N lines to DIR/simple (entry file
main.spl, one module per file, some in packages util/ and core/) and the same
program in C to DIR/c (one .c/.h per module, main.c, rt.c, a Makefile using
gcc -O0). Both print the same output; the first line is `edit: K`, from
edit_target(), whose line marked `# EDIT` a benchmark can rewrite.

options:
  --lines N         about how many lines of Simple to write (required)
  --out DIR         where to write [default: TARGET_DIR/gen-project]
  --files F         number of module files [default: 50]
  --seed S          random seed [default: 1]
  --check           build the C project, run both programs and compare
                    their output (needs the release `simple` binary)
  --simple PATH     the `simple` binary for --check
                    [default: TARGET_DIR/release/simple]
  -h, --help        print this help

TARGET_DIR is $CARGO_TARGET_DIR if set, else <workspace>/target.
";

/// The modulus that keeps stored integers small: |v| < P.
const P: u64 = 1_000_003;
/// The largest magnitude of a stored float.
const FMAX: f64 = 1e6;
/// The largest magnitude of any intermediate integer.
const IMAX: u64 = 1 << 40;
/// Dynamic cost caps (statements run, callees included).
const FN_COST_CAP: u64 = 3_000;
const RUN_COST_CAP: u64 = 40_000;
/// About how many lines a module has besides its ordinary functions.
const MODULE_OVERHEAD: usize = 35;
/// How far a counter (`count += 1`) may count.
const COUNTER_CAP: u64 = 10_000;
/// The marker of the line a benchmark rewrites.
pub const EDIT_MARK_SIMPLE: &str = "# EDIT";
pub const EDIT_MARK_C: &str = "/* EDIT */";
/// Written into the output directory; only a directory holding it is cleared.
const MARKER: &str = ".xtask-gen-project";

pub struct Options {
    pub config: Config,
    pub out: Option<PathBuf>,
    pub check: bool,
    pub simple: Option<PathBuf>,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub lines: usize,
    pub files: usize,
    pub seed: u64,
}

impl Options {
    /// `Ok(None)` means help was asked for.
    pub fn parse(args: &[String]) -> Result<Option<Options>, String> {
        let mut lines = None;
        let mut opts =
            Options { config: Config { lines: 0, files: 50, seed: 1 }, out: None, check: false, simple: None };
        let mut args = Args::new(args);
        while let Some((name, inline)) = args.next_option() {
            let mut value = |what: &str| args.value(name, inline.clone(), what);
            match name {
                "-h" | "--help" => return Ok(None),
                "--lines" | "-n" => lines = Some(parse_count("--lines", &value("a number of lines")?)?),
                "--files" => opts.config.files = parse_count("--files", &value("a number of files")?)?,
                "--seed" => {
                    let v = value("a number")?;
                    opts.config.seed = v.parse().map_err(|_| format!("`--seed` needs a number, not `{v}`"))?;
                }
                "--out" | "-o" => opts.out = Some(PathBuf::from(value("a directory")?)),
                "--check" => opts.check = true,
                "--simple" => opts.simple = Some(PathBuf::from(value("a path")?)),
                _ => return Err(format!("unknown option `{name}`")),
            }
        }
        opts.config.lines = lines.ok_or("`--lines N` is required")?;
        Ok(Some(opts))
    }
}

/// A positive number, `_` allowed as a separator (`100_000`).
pub fn parse_count(option: &str, text: &str) -> Result<usize, String> {
    text.replace('_', "")
        .parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{option}` needs a positive number, not `{text}`"))
}

pub fn run(root: &Path, opts: Options) -> Result<(), String> {
    let target = bench::target_dir(root);
    let out = opts.out.clone().unwrap_or_else(|| target.join("gen-project"));
    let written = generate(&opts.config).write(&out)?;
    println!(
        "wrote {} lines of Simple in {} files ({} functions; main.spl has {} lines) to {}",
        written.simple_lines,
        written.simple_files,
        written.functions,
        written.main_lines,
        written.simple_dir.display()
    );
    println!("wrote {} lines of C in {} files to {}", written.c_lines, written.c_files, written.c_dir.display());
    println!("edit line: {} and {}", written.edit_spl.display(), written.edit_c.display());
    if opts.check {
        let simple = match &opts.simple {
            Some(p) => p.clone(),
            None => target.join("release").join(format!("simple{}", std::env::consts::EXE_SUFFIX)),
        };
        if !simple.is_file() {
            return Err(format!(
                "{} does not exist (build it with `cargo build --release -p simple`, or pass --simple)",
                simple.display()
            ));
        }
        let out = check_outputs(&simple, &written, Duration::from_secs(600))?;
        println!("check: `simple run` and the C program print the same {} line(s)", out.lines().count());
    }
    Ok(())
}

/// Builds the C program (`make -j2`), runs it and `simple run`, and compares
/// their stdout; returns it.
pub fn check_outputs(simple: &Path, w: &Written, timeout: Duration) -> Result<String, String> {
    let make = Cmd::new(Path::new("make"), &[&"-s", &"-C", &w.c_dir, &"-j2"]);
    let out = bench::run_once(&make, timeout);
    if !out.success() {
        return Err(format!("`{}` failed: {}", make.display(), out.failure(timeout)));
    }
    let c = bench::run_once(&Cmd::new(&w.c_dir.join("prog"), &[]), timeout);
    if !c.success() {
        return Err(format!("the C program failed: {}", c.failure(timeout)));
    }
    // Run as `simple run main.spl` in its directory, as watch runs it (the
    // compiled code holds the entry path as given).
    let run = Cmd::new(simple, &[&"run", &"main.spl"]).in_dir(&w.simple_dir);
    let s = bench::run_once(&run, timeout);
    if !s.success() {
        return Err(format!("`{}` failed: {}", run.display(), s.failure(timeout)));
    }
    if s.stdout != c.stdout {
        let (line, a, b) = first_difference(&c.stdout, &s.stdout);
        return Err(format!(
            "`{}` and the C program print different output; first difference on line {line}:\n  C:      {a}\n  Simple: {b}",
            run.display()
        ));
    }
    Ok(s.stdout)
}

fn first_difference(a: &str, b: &str) -> (usize, String, String) {
    let mut la = a.lines();
    let mut lb = b.lines();
    let mut n = 1;
    loop {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (None, None) => return (n, "(same lines; different line endings)".into(), String::new()),
            (x, y) => {
                let show = |l: Option<&str>| l.map_or("(end of output)".to_string(), |l| format!("{l:?}"));
                return (n, show(x), show(y));
            }
        }
    }
}

/// Which file an edit line is in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lang {
    Simple,
    C,
}

/// The edit line holding `value`.
pub fn edit_line(lang: Lang, value: i64) -> String {
    match lang {
        Lang::Simple => format!("    let k = {value}  {EDIT_MARK_SIMPLE}"),
        Lang::C => format!("    int64_t k = {value}L;  {EDIT_MARK_C}"),
    }
}

/// Replaces the one line marked EDIT by the same line holding `value`.
pub fn rewrite_edit_line(text: &str, lang: Lang, value: i64) -> Result<String, String> {
    let mark = match lang {
        Lang::Simple => EDIT_MARK_SIMPLE,
        Lang::C => EDIT_MARK_C,
    };
    let mut out = String::with_capacity(text.len() + 8);
    let mut found = 0;
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        if body.trim_end().ends_with(mark) {
            found += 1;
            out.push_str(&edit_line(lang, value));
            out.push_str(end);
        } else {
            out.push_str(line);
        }
    }
    match found {
        1 => Ok(out),
        0 => Err(format!("no line ends with `{mark}`")),
        n => Err(format!("{n} lines end with `{mark}`; expected one")),
    }
}

/// The value in the line marked EDIT.
pub fn read_edit_value(text: &str, lang: Lang) -> Option<i64> {
    let mark = match lang {
        Lang::Simple => EDIT_MARK_SIMPLE,
        Lang::C => EDIT_MARK_C,
    };
    let line = text.lines().find(|l| l.trim_end().ends_with(mark))?;
    let (_, rest) = line.split_once('=')?;
    let digits: String =
        rest.trim_start().chars().take_while(|c| c.is_ascii_digit() || *c == '-' || *c == '_').collect();
    digits.replace('_', "").parse().ok()
}

// ---------------------------------------------------------------------------
// Random numbers (splitmix64: std has no seeded generator).

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5eed_0f51_3e1e_c7ed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// lo..=hi.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// An index chosen with the given weights (not all zero).
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| w as u64).sum();
        let mut r = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if r < w as u64 {
                return i;
            }
            r -= w as u64;
        }
        weights.len() - 1
    }
}

// ---------------------------------------------------------------------------
// The program, as a small typed IR.

#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
enum Ty {
    I64,
    F64,
    Bool,
    Str,
}

impl Ty {
    fn simple(self) -> &'static str {
        match self {
            Ty::I64 => "i64",
            Ty::F64 => "f64",
            Ty::Bool => "bool",
            Ty::Str => "str",
        }
    }

    fn c(self) -> &'static str {
        match self {
            Ty::I64 => "int64_t",
            Ty::F64 => "double",
            Ty::Bool => "bool",
            Ty::Str => "const char *",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    FloorDiv,
    Pow,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl Op {
    fn simple(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Rem => "%",
            Op::FloorDiv => "//",
            Op::Pow => "**",
            Op::BitAnd => "&",
            Op::BitOr => "|",
            Op::BitXor => "^",
            Op::Shl => "<<",
            Op::Shr => ">>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::And => "and",
            Op::Or => "or",
        }
    }

    fn c(self) -> &'static str {
        match self {
            Op::And => "&&",
            Op::Or => "||",
            other => other.simple(),
        }
    }

    /// Binding strength in Simple (docs/language.md, loosest first).
    fn prec(self) -> u8 {
        match self {
            Op::Or => 1,
            Op::And => 2,
            Op::Eq | Op::Ne => 4,
            Op::Lt | Op::Le | Op::Gt | Op::Ge => 5,
            Op::BitOr => 7,
            Op::BitXor => 8,
            Op::BitAnd => 9,
            Op::Shl | Op::Shr => 10,
            Op::Add | Op::Sub => 11,
            Op::Mul | Op::Div | Op::Rem | Op::FloorDiv => 12,
            Op::Pow => 14,
        }
    }

    fn is_comparison(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::Eq | Op::Ne)
    }
}

const PREC_NOT: u8 = 3;
const PREC_UNARY: u8 = 13;
const PREC_AS: u8 = 15;
const PREC_ATOM: u8 = 16;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Builtin {
    Abs,
    Min,
    Max,
    Sqrt,
    Floor,
    Ceil,
}

#[derive(Clone, Debug)]
enum Expr {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Local(usize),
    Const(usize),
    Call(usize, Vec<Arg>),
    /// The operator, the type of its operands, the operands.
    Bin(Op, Ty, Box<Expr>, Box<Expr>),
    /// `a + b` on strings.
    Concat(Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    /// `e as to`.
    Cast(Ty, Box<Expr>),
    /// The builtin and its argument type.
    Builtin(Builtin, Ty, Vec<Expr>),
    Len(Box<Expr>),
    StrOf(Box<Expr>),
    Interp(Vec<Part>),
    /// `if c: a else: b`.
    IfElse(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `lo op mid op hi` on integers.
    Chain(Box<Expr>, Op, Box<Expr>, Op, Box<Expr>),
}

#[derive(Clone, Debug)]
struct Arg {
    param: usize,
    value: Expr,
    named: bool,
}

#[derive(Clone, Debug)]
enum Part {
    Text(String),
    Val(Ty, Expr),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum AssignOp {
    Set,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl AssignOp {
    fn text(self) -> &'static str {
        match self {
            AssignOp::Set => "=",
            AssignOp::Add => "+=",
            AssignOp::Sub => "-=",
            AssignOp::Mul => "*=",
            AssignOp::Div => "/=",
            AssignOp::Rem => "%=",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ForStyle {
    /// `lo..hi`
    Dots,
    /// `lo..=hi` (hi inclusive)
    DotsEq,
    /// `range(hi)`, lo = 0
    Range1,
    /// `range(lo, hi)`
    Range2,
}

#[derive(Clone, Debug)]
enum Stmt {
    Let {
        var: usize,
        init: Expr,
        annotate: bool,
    },
    Assign {
        var: usize,
        op: AssignOp,
        value: Expr,
    },
    /// Arms (condition, body); else body. `inline`: `if c: stmt` on one line.
    If {
        arms: Vec<(Expr, Vec<Stmt>)>,
        els: Option<Vec<Stmt>>,
        inline: bool,
    },
    While {
        cond: Expr,
        body: Vec<Stmt>,
    },
    Loop {
        body: Vec<Stmt>,
    },
    For {
        var: usize,
        lo: Expr,
        hi: Expr,
        style: ForStyle,
        body: Vec<Stmt>,
    },
    Break,
    Continue,
    Return(Expr),
    /// `println(interp)`.
    Print(Vec<Part>),
    Comment(String),
    /// `let k = value  # EDIT`.
    Edit {
        value: i64,
    },
}

#[derive(Clone, Debug)]
struct Var {
    name: String,
    cname: String,
    ty: Ty,
    mutable: bool,
    /// `let`, `val`, `var` or `let mut`.
    decl: &'static str,
    /// Integers: the largest magnitude; floats: likewise.
    ibound: u64,
    fbound: f64,
    /// A counter may only be incremented (`count += 1`), up to COUNTER_CAP.
    counter: bool,
    incs: u64,
    /// A loop variable or parameter: never assigned.
    fixed: bool,
}

#[derive(Clone, Debug)]
enum Body {
    Block(Vec<Stmt>),
    /// `fn f(...) -> T: expr`
    Expr(Expr),
}

#[derive(Clone, Debug)]
struct Func {
    module: usize,
    name: String,
    cname: String,
    public: bool,
    params: Vec<usize>,
    /// Per parameter: a default value (a literal).
    defaults: Vec<Option<Expr>>,
    ret: Ty,
    vars: Vec<Var>,
    body: Body,
    cost: u64,
    doc: String,
    /// Not a callee for other functions (edit_target, run_mNN).
    special: bool,
}

#[derive(Clone, Debug)]
struct Const {
    module: usize,
    name: String,
    cname: String,
    ty: Ty,
    init: Expr,
    public: bool,
    /// Integers: the value, for bounds.
    ivalue: i64,
}

/// How a file reaches another module's items.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    /// `import m07` / `import util.m07`: `m07.f` / `util.m07.f`
    Qualified,
    /// `import util.m07 as m07`: `m07.f`
    Alias,
    /// `from m07 import f`: `f`
    From,
}

#[derive(Clone, Debug)]
struct Module {
    name: String,
    package: Option<&'static str>,
    funcs: Vec<usize>,
    consts: Vec<usize>,
    /// The modules it mostly calls.
    deps: Vec<usize>,
    doc: String,
    /// The line count its functions are generated up to.
    target_lines: usize,
    est_lines: usize,
}

impl Module {
    /// `m07` or `util.m07`.
    fn path(&self) -> String {
        match self.package {
            Some(p) => format!("{p}.{}", self.name),
            None => self.name.clone(),
        }
    }

    fn spl_path(&self) -> String {
        match self.package {
            Some(p) => format!("{p}/{}.spl", self.name),
            None => format!("{}.spl", self.name),
        }
    }
}

pub struct Project {
    config: Config,
    modules: Vec<Module>,
    funcs: Vec<Func>,
    consts: Vec<Const>,
    /// Index of the pseudo-module of main.spl (== modules.len() - 1).
    main_module: usize,
    main_vars: Vec<Var>,
    main_body: Vec<Stmt>,
    edit_module: usize,
    edit_fn: usize,
}

// ---------------------------------------------------------------------------
// Vocabulary.

const VERBS_I64: &[&str] = &[
    "scale", "fold", "mix", "count", "score", "clamp", "probe", "walk", "merge", "rank", "tally", "shift", "scan",
    "split", "pack", "hash", "trim", "bound", "sample", "route", "spread", "settle", "reduce", "adjust", "balance",
    "encode", "decode", "combine", "advance", "align",
];
const VERBS_F64: &[&str] = &["blend", "weigh", "measure", "estimate", "average", "smooth", "damp", "project", "ease"];
const VERBS_BOOL: &[&str] =
    &["is_valid", "has", "fits", "is_hot", "is_stale", "needs", "accepts", "is_even", "can_split"];
const VERBS_STR: &[&str] = &["describe", "format", "label", "render", "summarize", "name"];
const NOUNS: &[&str] = &[
    "index", "weight", "bucket", "span", "total", "offset", "range", "cell", "node", "edge", "price", "level",
    "window", "frame", "chunk", "block", "path", "grid", "signal", "tick", "batch", "queue", "slot", "token", "cache",
    "entry", "record", "field", "layer", "point", "segment", "budget", "quota", "series", "ledger", "sector", "vertex",
    "sample", "pulse", "stride",
];
const PARAMS_I64: &[&str] = &[
    "x", "n", "seed", "count", "limit", "base", "offset", "key", "step", "width", "depth", "size", "start", "delta",
    "code", "id",
];
const PARAMS_F64: &[&str] = &["rate", "weight", "scale", "ratio", "bias", "factor", "t", "alpha", "gain"];
const PARAMS_BOOL: &[&str] = &["strict", "flag", "verbose", "enabled", "inclusive", "wrap", "fast"];
const PARAMS_STR: &[&str] = &["tag", "name", "label", "prefix", "unit", "kind"];
const LOCALS_I64: &[&str] = &[
    "acc", "sum", "hits", "best", "cursor", "mark", "carry", "prev", "cur", "score", "pos", "h", "parity", "slot",
    "rank", "total", "level", "misses", "spread", "peak",
];
const LOCALS_F64: &[&str] = &["y", "avg", "mean", "damp", "energy", "heat", "norm", "drift", "smooth", "est"];
const LOCALS_BOOL: &[&str] = &["ok", "found", "done", "hot", "seen", "odd", "ready", "full"];
const LOCALS_STR: &[&str] = &["s", "out", "text", "msg", "word", "line", "note"];
const WORDS: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "north", "south", "east", "west", "red", "green", "blue", "low", "high", "mid",
    "open", "closed", "fast", "slow", "warm", "cold", "left", "right", "node", "leaf", "root", "edge",
];
const CONST_NOUNS: &[&str] = &[
    "LIMIT",
    "SCALE",
    "STRIDE",
    "WINDOW",
    "BUCKETS",
    "THRESHOLD",
    "CAPACITY",
    "RETRIES",
    "WIDTH",
    "DEPTH",
    "QUOTA",
    "FACTOR",
    "MARGIN",
    "PERIOD",
    "BATCH",
];
const THEMES: &[&str] = &[
    "bucket arithmetic",
    "window statistics",
    "ledger checksums",
    "grid walks",
    "signal smoothing",
    "token labels",
    "queue budgets",
    "range probes",
    "path scoring",
    "cache policies",
    "sample weighting",
    "segment merging",
];
const DOCS_I64: &[&str] = &[
    "Folds the inputs into a bounded checksum.",
    "Counts how many steps stay inside the window.",
    "Mixes the key with its neighbours.",
    "Scores a candidate; higher is better.",
    "Walks the range and keeps the best value.",
    "Reduces the inputs modulo MOD.",
    "Returns the adjusted position.",
];
const DOCS_F64: &[&str] =
    &["Blends the inputs into a weight.", "Estimates a smoothed level.", "Returns a damped average."];
const DOCS_BOOL: &[&str] =
    &["Whether the input is acceptable.", "Whether the value should be kept.", "Checks a limit."];
const DOCS_STR: &[&str] = &["Describes the value for a log line.", "Builds a short label.", "Formats a summary."];
const COMMENTS: &[&str] = &[
    "keep the value small",
    "the common case first",
    "mix in the neighbours",
    "bounded: at most a few rounds",
    "fold the result back",
    "fast path",
    "normalise before comparing",
    "see the module comment",
];
const INT_DIVISORS: &[i64] = &[2, 3, 4, 5, 7, 8, 10, 16, 31, 97, 100, 101, 256, 997, 1000, 1009];
const FLOAT_LITS: &[f64] = &[0.5, 0.25, 0.75, 1.5, 2.0, 2.5, 3.0, 0.125, 10.0, 100.0, 0.1, 0.01, 1.25, 0.9, 3.5];
const FLOAT_DIVISORS: &[f64] = &[2.0, 3.0, 4.0, 10.0, 7.5, 1.5, 16.0, 100.0];

// ---------------------------------------------------------------------------
// Generation.

pub fn generate(config: &Config) -> Project {
    let files = config.files.max(1);
    let mut rng = Rng::new(config.seed);
    let mut p = Project {
        config: config.clone(),
        modules: Vec::new(),
        funcs: Vec::new(),
        consts: Vec::new(),
        main_module: files,
        main_vars: Vec::new(),
        main_body: Vec::new(),
        edit_module: files / 2,
        edit_fn: 0,
    };
    // main.spl: a header, imports, and three lines per module.
    let main_lines = 3 * files + 20;
    let per_module = config.lines.saturating_sub(main_lines) / files;
    // Private and special names are never used for public items, so that
    // `from m import NAME` cannot clash with them.
    let mut used_names: HashSet<String> =
        ["MOD", "SPAN", "RATE", "TAG", "STRICT", "main", "edit_target"].iter().map(|s| s.to_string()).collect();
    used_names.extend((0..files).map(|i| format!("run_m{i:02}")));
    for i in 0..files {
        let package = if i == p.edit_module || i % 3 == 0 {
            None
        } else if i % 3 == 1 {
            Some("util")
        } else {
            Some("core")
        };
        // Module sizes vary by ±30%.
        let jitter = rng.range(70, 130) as usize;
        // Less what every module has besides its functions: the header,
        // imports, constants and `run_mNN`.
        let target_lines = (per_module * jitter / 100).saturating_sub(MODULE_OVERHEAD).max(8);
        let mut deps = Vec::new();
        if files > 1 {
            let want = rng.range(2, 5).min(files as u64 - 1);
            while (deps.len() as u64) < want {
                let d = rng.below(files as u64) as usize;
                if d != i && !deps.contains(&d) {
                    deps.push(d);
                }
            }
            deps.sort();
        }
        p.modules.push(Module {
            name: format!("m{i:02}"),
            package,
            funcs: Vec::new(),
            consts: Vec::new(),
            deps,
            doc: rng.pick(THEMES).to_string(),
            target_lines,
            est_lines: 0,
        });
    }
    p.modules.push(Module {
        name: "main".into(),
        package: None,
        funcs: Vec::new(),
        consts: Vec::new(),
        deps: Vec::new(),
        doc: String::new(),
        target_lines: 0,
        est_lines: 0,
    });
    for m in 0..=files {
        gen_consts(&mut p, &mut rng, m, &mut used_names);
    }

    // edit_target first, so that it is in the middle module's first lines.
    p.edit_fn = gen_edit_target(&mut p);
    // Round-robin: one function per module per round, until each module has
    // its lines.
    loop {
        let mut any = false;
        for m in 0..files {
            if p.modules[m].est_lines >= p.modules[m].target_lines {
                continue;
            }
            any = true;
            let f = gen_function(&mut p, &mut rng, m, &mut used_names);
            p.modules[m].est_lines += func_lines(&p.funcs[f]) + 2;
        }
        if !any {
            break;
        }
    }
    for m in 0..files {
        gen_run_function(&mut p, &mut rng, m);
    }
    gen_main(&mut p, &mut rng);
    p
}

fn gen_consts(p: &mut Project, rng: &mut Rng, m: usize, used: &mut HashSet<String>) {
    let prefix = p.modules[m].name.to_uppercase();
    let add = |p: &mut Project, name: String, ty: Ty, init: Expr, public: bool, ivalue: i64| {
        let id = p.consts.len();
        p.consts.push(Const { module: m, cname: format!("{prefix}_{name}"), name, ty, init, public, ivalue });
        p.modules[m].consts.push(id);
        id
    };
    add(p, "MOD".into(), Ty::I64, Expr::Int(P as i64), false, P as i64);
    if m == p.main_module {
        return;
    }
    // Public constants have names unique in the program, so that
    // `from m import NAME` never clashes.
    let count = rng.range(1, 3);
    let mut last_public: Option<(usize, i64)> = None;
    for _ in 0..count {
        let base = *rng.pick(CONST_NOUNS);
        let name = unique_name(used, base);
        let value = rng.range(3, 96) as i64;
        let id = add(p, name, Ty::I64, Expr::Int(value), true, value);
        last_public = Some((id, value));
    }
    // A private constant computed from a public one.
    if let Some((id, value)) = last_public
        && rng.chance(0.7)
    {
        let k = rng.range(2, 4) as i64;
        let init = Expr::Bin(
            Op::Add,
            Ty::I64,
            Box::new(Expr::Bin(Op::Mul, Ty::I64, Box::new(Expr::Const(id)), Box::new(Expr::Int(k)))),
            Box::new(Expr::Int(1)),
        );
        add(p, "SPAN".into(), Ty::I64, init, false, value * k + 1);
    }
    if rng.chance(0.8) {
        let x = *rng.pick(&[0.5, 0.625, 0.75, 0.875, 1.5, 0.25]);
        add(p, "RATE".into(), Ty::F64, Expr::Float(x), false, 0);
    }
    if rng.chance(0.6) {
        let name = p.modules[m].name.clone();
        add(p, "TAG".into(), Ty::Str, Expr::Str(name), false, 0);
    }
    if rng.chance(0.3) {
        add(p, "STRICT".into(), Ty::Bool, Expr::Bool(rng.chance(0.5)), false, 0);
    }
}

/// `base`, or `base_2`, `base_3`, ... : the first not yet used.
fn unique_name(used: &mut HashSet<String>, base: &str) -> String {
    let mut name = base.to_string();
    let mut k = 2;
    while used.contains(&name) {
        name = format!("{base}_{k}");
        k += 1;
    }
    used.insert(name.clone());
    name
}

fn gen_edit_target(p: &mut Project) -> usize {
    let m = p.edit_module;
    let k = Var {
        name: "k".into(),
        cname: "k".into(),
        ty: Ty::I64,
        mutable: false,
        decl: "let",
        ibound: 0,
        fbound: 0.0,
        counter: false,
        incs: 0,
        fixed: true,
    };
    let id = p.funcs.len();
    p.funcs.push(Func {
        module: m,
        name: "edit_target".into(),
        cname: format!("{}_edit_target", p.modules[m].name),
        public: true,
        params: Vec::new(),
        defaults: Vec::new(),
        ret: Ty::I64,
        vars: vec![k],
        body: Body::Block(vec![Stmt::Edit { value: 0 }, Stmt::Return(Expr::Local(0))]),
        cost: 2,
        doc: "The benchmark rewrites the line marked EDIT (cargo xtask bench-incremental).".into(),
        special: true,
    });
    p.modules[m].funcs.push(id);
    id
}

/// The state of generating one function body.
struct Gen<'a> {
    rng: &'a mut Rng,
    funcs: &'a [Func],
    consts: &'a [Const],
    module: usize,
    vars: Vec<Var>,
    /// Visible variables, innermost scope last.
    scopes: Vec<Vec<usize>>,
    names: HashSet<String>,
    cost: u64,
    cap: u64,
    /// How many times the statement being generated runs per call.
    mult: u64,
    loop_depth: u32,
    /// Inside a `for` (where `continue` is safe) rather than a `while`.
    in_for: bool,
    /// Callee candidates by return type.
    callees: BTreeMap<Ty, Vec<usize>>,
    /// Int/float/bool/str constants visible here.
    visible_consts: Vec<usize>,
    /// In the value appended to a string: no string variables or calls, so
    /// that strings grow by a bounded amount per statement run.
    no_mut_str: bool,
    /// Nesting of `string()`, and how many more string variables or calls
    /// the current string expression may use: at most one, so that a
    /// string is never much longer than the longest string it is made from.
    str_depth: u32,
    dyn_left: u32,
    /// Calls being generated around the current expression: a call's
    /// arguments hold at most one more call, as people write them (and
    /// far from the parser's nesting limit).
    call_nest: u32,
    ret: Ty,
}

impl<'a> Gen<'a> {
    fn new(
        rng: &'a mut Rng,
        funcs: &'a [Func],
        consts: &'a [Const],
        modules: &[Module],
        module: usize,
        cap: u64,
        ret: Ty,
    ) -> Gen<'a> {
        let mut callees: BTreeMap<Ty, Vec<usize>> = BTreeMap::new();
        let mut visible_consts = modules[module].consts.clone();
        if module < modules.len() {
            for &f in &modules[module].funcs {
                if !funcs[f].special {
                    callees.entry(funcs[f].ret).or_default().push(f);
                }
            }
            let mut others: Vec<usize> = modules[module].deps.clone();
            // Now and then a module outside the usual neighbours.
            if !modules[module].deps.is_empty() && rng.chance(0.2) {
                let o = rng.below(modules.len() as u64 - 1) as usize;
                if o != module && !others.contains(&o) {
                    others.push(o);
                }
            }
            for o in others {
                for &f in &modules[o].funcs {
                    if funcs[f].public && !funcs[f].special {
                        callees.entry(funcs[f].ret).or_default().push(f);
                    }
                }
                if rng.chance(0.3) {
                    visible_consts.extend(modules[o].consts.iter().copied().filter(|&c| consts[c].public));
                }
            }
        }
        Gen {
            rng,
            funcs,
            consts,
            module,
            vars: Vec::new(),
            scopes: vec![Vec::new()],
            names: HashSet::new(),
            cost: 0,
            cap,
            mult: 1,
            loop_depth: 0,
            in_for: false,
            callees,
            visible_consts,
            no_mut_str: false,
            str_depth: 0,
            dyn_left: 0,
            call_nest: 0,
            ret,
        }
    }

    fn new_var(&mut self, base: &str, ty: Ty, mutable: bool) -> usize {
        let mut name = base.to_string();
        let mut k = 2;
        while self.names.contains(&name) {
            name = format!("{base}{k}");
            k += 1;
        }
        self.names.insert(name.clone());
        let decl = if mutable {
            if self.rng.chance(0.75) { "var" } else { "let mut" }
        } else if self.rng.chance(0.9) {
            "let"
        } else {
            "val"
        };
        let id = self.vars.len();
        self.vars.push(Var {
            cname: name.clone(),
            name,
            ty,
            mutable,
            decl,
            ibound: P - 1,
            fbound: FMAX,
            counter: false,
            incs: 0,
            fixed: false,
        });
        self.scopes.last_mut().expect("a scope").push(id);
        id
    }

    fn visible(&self) -> impl Iterator<Item = usize> + '_ {
        self.scopes.iter().flatten().copied()
    }

    fn visible_of(&self, ty: Ty) -> Vec<usize> {
        self.visible()
            .filter(|&v| self.vars[v].ty == ty && !(ty == Ty::Str && self.no_mut_str && self.vars[v].mutable))
            .collect()
    }

    /// Adds the cost of one more statement.
    fn charge(&mut self, n: u64) {
        self.cost = self.cost.saturating_add(self.mult.saturating_mul(n));
    }

    fn room(&self) -> u64 {
        self.cap.saturating_sub(self.cost)
    }

    // -- expressions -------------------------------------------------------

    /// A call to a function returning `ty` that fits the budget, if any.
    fn call(&mut self, ty: Ty, depth: u32) -> Option<Expr> {
        if self.call_nest >= 2 {
            return None;
        }
        let cands = self.callees.get(&ty)?;
        if cands.is_empty() {
            return None;
        }
        let funcs = self.funcs;
        for _ in 0..6 {
            let f = cands[self.rng.below(cands.len() as u64) as usize];
            let callee = &funcs[f];
            let cost = self.mult.saturating_mul(callee.cost + 1);
            // Leave room for the rest of the function.
            if cost.saturating_add(40 * self.mult) > self.room() {
                continue;
            }
            self.cost += cost;
            let params = callee.params.clone();
            let defaults = callee.defaults.clone();
            let ptys: Vec<Ty> = params.iter().map(|&v| callee.vars[v].ty).collect();
            let pnames = params.len();
            let mut args = Vec::new();
            self.call_nest += 1;
            let named_from = if pnames >= 2 && self.rng.chance(0.15) {
                self.rng.range(1, pnames as u64 - 1) as usize
            } else {
                usize::MAX
            };
            for (i, ty) in ptys.into_iter().enumerate() {
                // Leave out a defaulted argument now and then (only at the end
                // when positional).
                if defaults[i].is_some() && (named_from <= i || i + 1 == pnames) && self.rng.chance(0.5) {
                    continue;
                }
                let value = self.expr(ty, depth.saturating_sub(1).min(1));
                args.push(Arg { param: i, value, named: i >= named_from });
            }
            self.call_nest -= 1;
            // Named arguments in any order.
            if named_from != usize::MAX && self.rng.chance(0.5) {
                let first = args.iter().position(|a| a.named).unwrap_or(args.len());
                args[first..].reverse();
            }
            return Some(Expr::Call(f, args));
        }
        None
    }

    fn expr(&mut self, ty: Ty, depth: u32) -> Expr {
        match ty {
            Ty::I64 => self.int(P - 1, depth),
            Ty::F64 => self.float(FMAX, depth),
            Ty::Bool => self.boolean(depth),
            Ty::Str => self.string(depth),
        }
    }

    /// What `make` generates, preferably not the same as `a` (no `x - x`,
    /// `min(x, x)`, `x = x`).
    fn other(&mut self, a: &Expr, mut make: impl FnMut(&mut Self) -> Expr) -> Expr {
        let same = format!("{a:?}");
        let mut b = make(self);
        for _ in 0..3 {
            if format!("{b:?}") != same {
                break;
            }
            b = make(self);
        }
        b
    }

    /// An integer atom and the bound on its magnitude.
    fn int_atom(&mut self) -> (Expr, u64) {
        let vars = self.visible_of(Ty::I64);
        let choice = self.rng.weighted(&[
            if vars.is_empty() { 0 } else { 70 },
            12,
            if self.visible_of(Ty::Str).is_empty() { 0 } else { 5 },
            if self.visible_of(Ty::Bool).is_empty() { 0 } else { 3 },
            8,
        ]);
        match choice {
            0 => {
                let v = *self.rng.pick(&vars);
                (Expr::Local(v), self.vars[v].ibound)
            }
            1 => match self.call(Ty::I64, 2) {
                Some(c) => (c, P - 1),
                None => (Expr::Int(self.rng.range(1, 999) as i64), 999),
            },
            2 => {
                let s = self.string(0);
                (Expr::Len(Box::new(s)), P - 1)
            }
            3 => {
                let b = self.boolean(0);
                (Expr::Cast(Ty::I64, Box::new(b)), 1)
            }
            _ => {
                let cs: Vec<usize> = self
                    .visible_consts
                    .iter()
                    .copied()
                    .filter(|&c| self.consts[c].ty == Ty::I64 && self.consts[c].name != "MOD")
                    .collect();
                if cs.is_empty() {
                    (Expr::Int(self.rng.range(1, 99) as i64), 99)
                } else {
                    let c = *self.rng.pick(&cs);
                    (Expr::Const(c), self.consts[c].ivalue.unsigned_abs())
                }
            }
        }
    }

    /// `e`, or `e % m` so that the magnitude is at most `max`.
    fn fit_int(&mut self, e: Expr, bound: u64, max: u64) -> Expr {
        if bound <= max {
            return e;
        }
        if max == 0 {
            return Expr::Int(0);
        }
        if max + 1 >= P {
            return Expr::Bin(Op::Rem, Ty::I64, Box::new(e), Box::new(self.mod_const()));
        }
        let divs: Vec<i64> = INT_DIVISORS.iter().copied().filter(|&d| (d as u64) <= max + 1).collect();
        let m = if divs.is_empty() { (max + 1).max(2) as i64 } else { *self.rng.pick(&divs) };
        Expr::Bin(Op::Rem, Ty::I64, Box::new(e), Box::new(Expr::Int(m)))
    }

    fn mod_const(&self) -> Expr {
        let c = self.consts.iter().position(|c| c.module == self.module && c.name == "MOD").expect("MOD");
        Expr::Const(c)
    }

    fn int_lit(&mut self, max: u64) -> Expr {
        let hi = max.min(999);
        let v = if hi >= 10 && self.rng.chance(0.6) { self.rng.range(1, 10.min(hi)) } else { self.rng.range(0, hi) };
        Expr::Int(v as i64)
    }

    /// An integer expression whose magnitude is at most `max`.
    fn int(&mut self, max: u64, depth: u32) -> Expr {
        if max == 0 {
            return Expr::Int(0);
        }
        if depth == 0 || self.rng.chance(0.3) {
            if self.rng.chance(0.2) {
                return self.int_lit(max);
            }
            let (e, b) = self.int_atom();
            return self.fit_int(e, b, max);
        }
        let d = depth - 1;
        let kinds = [
            18,                               // add/sub
            12,                               // mul
            14,                               // rem
            6,                                // div
            3,                                // floor div
            4,                                // abs
            5,                                // min/max
            4,                                // bit and
            3,                                // xor/or
            3,                                // shr
            2,                                // shl
            2,                                // pow
            3,                                // if-else
            if max >= P - 1 { 8 } else { 0 }, // call
            3,                                // float cast
        ];
        match self.rng.weighted(&kinds) {
            0 if max >= 2 => {
                let op = if self.rng.chance(0.6) { Op::Add } else { Op::Sub };
                let a = self.int(max / 2, d);
                let b = self.other(&a, |g| g.int(max / 2, d));
                Expr::Bin(op, Ty::I64, Box::new(a), Box::new(b))
            }
            1 if max >= 4 => {
                if self.rng.chance(0.5) {
                    let l = self.rng.range(2, max.min(97)) as i64;
                    let a = self.int(max / l as u64, d);
                    Expr::Bin(Op::Mul, Ty::I64, Box::new(a), Box::new(Expr::Int(l)))
                } else {
                    let s = isqrt(max);
                    let a = self.int(s, d);
                    let b = self.int(s, d);
                    Expr::Bin(Op::Mul, Ty::I64, Box::new(a), Box::new(b))
                }
            }
            2 => {
                let a = self.int(IMAX, d);
                // The remainder's magnitude is below the divisor.
                let m = if max + 1 >= P && self.rng.chance(0.6) {
                    self.mod_const()
                } else {
                    let divs: Vec<i64> = INT_DIVISORS.iter().copied().filter(|&x| (x as u64) <= max + 1).collect();
                    if divs.is_empty() {
                        return Expr::Int(0);
                    }
                    Expr::Int(*self.rng.pick(&divs))
                };
                Expr::Bin(Op::Rem, Ty::I64, Box::new(a), Box::new(m))
            }
            3 | 4 if max >= 2 => {
                let l = *self.rng.pick(INT_DIVISORS);
                let floor = self.rng.chance(0.3);
                let inner = if floor { (max - 1).saturating_mul(l as u64) } else { max.saturating_mul(l as u64) };
                let a = self.int(inner.min(IMAX), d);
                Expr::Bin(if floor { Op::FloorDiv } else { Op::Div }, Ty::I64, Box::new(a), Box::new(Expr::Int(l)))
            }
            5 => {
                let a = self.int(max, d);
                Expr::Builtin(Builtin::Abs, Ty::I64, vec![a])
            }
            6 => {
                let a = self.int(max, d);
                let b = self.other(&a, |g| g.int(max, d));
                let f = if self.rng.chance(0.5) { Builtin::Min } else { Builtin::Max };
                Expr::Builtin(f, Ty::I64, vec![a, b])
            }
            7 if max >= 1 => {
                let k = self.rng.range(1, (63 - (max + 1).leading_zeros() as u64).clamp(1, 16));
                let mask = (1i64 << k) - 1;
                let a = self.int(IMAX, d);
                Expr::Bin(Op::BitAnd, Ty::I64, Box::new(a), Box::new(Expr::Int(mask)))
            }
            8 if max >= 4 => {
                // Operands below 2^k give a result of magnitude at most 2^k.
                let k = (63 - max.leading_zeros() as u64).min(20);
                let a = self.int((1 << k) - 1, d);
                let b = self.int((1 << k) - 1, d);
                let op = if self.rng.chance(0.6) { Op::BitXor } else { Op::BitOr };
                Expr::Bin(op, Ty::I64, Box::new(a), Box::new(b))
            }
            9 if max >= 2 => {
                let s = self.rng.range(1, 8);
                let a = self.int(((max - 1) << s).min(IMAX), d);
                Expr::Bin(Op::Shr, Ty::I64, Box::new(a), Box::new(Expr::Int(s as i64)))
            }
            10 if max >= 8 => {
                let s = self.rng.range(1, 6.min(63 - max.leading_zeros() as u64 - 1).max(1));
                let m = (max >> s) + 1;
                if m < 2 {
                    return self.int_lit(max);
                }
                let m = m.min(1024) as i64;
                let a = self.int(IMAX, d);
                let inner = Expr::Bin(
                    Op::Rem,
                    Ty::I64,
                    Box::new(Expr::Builtin(Builtin::Abs, Ty::I64, vec![a])),
                    Box::new(Expr::Int(m)),
                );
                Expr::Bin(Op::Shl, Ty::I64, Box::new(inner), Box::new(Expr::Int(s as i64)))
            }
            11 if max >= 4 => {
                let cube = self.rng.chance(0.3) && max >= 8;
                let base = if cube { icbrt(max) } else { isqrt(max) }.min(1000);
                let a = self.int(base, d);
                Expr::Bin(Op::Pow, Ty::I64, Box::new(a), Box::new(Expr::Int(if cube { 3 } else { 2 })))
            }
            12 => {
                let c = self.boolean(d.min(1));
                let a = self.int(max, d);
                let b = self.int(max, d);
                Expr::IfElse(Box::new(c), Box::new(a), Box::new(b))
            }
            13 => match self.call(Ty::I64, depth) {
                Some(c) => c,
                None => self.int(max, d),
            },
            14 => {
                let f = self.float((max as f64).min(1e12), d);
                Expr::Cast(Ty::I64, Box::new(f))
            }
            _ => {
                let (e, b) = self.int_atom();
                self.fit_int(e, b, max)
            }
        }
    }

    /// A float expression whose magnitude is at most `max` (finite).
    fn float(&mut self, max: f64, depth: u32) -> Expr {
        if depth == 0 || self.rng.chance(0.3) {
            return self.float_leaf(max);
        }
        let d = depth - 1;
        let kinds = [
            18,                              // add/sub
            12,                              // mul
            8,                               // div by literal
            6,                               // normalise
            if max >= 1.0 { 6 } else { 0 },  // sqrt
            if max >= 2.0 { 3 } else { 0 },  // floor/ceil
            3,                               // abs/neg
            3,                               // if-else
            if max >= FMAX { 8 } else { 0 }, // call
            8,                               // int as f64
        ];
        match self.rng.weighted(&kinds) {
            0 => {
                let op = if self.rng.chance(0.6) { Op::Add } else { Op::Sub };
                let a = self.float(max / 2.0, d);
                let b = self.other(&a, |g| g.float(max / 2.0, d));
                Expr::Bin(op, Ty::F64, Box::new(a), Box::new(b))
            }
            1 => {
                if self.rng.chance(0.5) {
                    let l: f64 = *self.rng.pick(&[0.5, 0.25, 0.75, 1.5, 2.0, 0.9, 0.125]);
                    let a = self.float(max / l.max(1.0), d);
                    Expr::Bin(Op::Mul, Ty::F64, Box::new(a), Box::new(Expr::Float(l)))
                } else {
                    let s = max.sqrt();
                    let a = self.float(s, d);
                    let b = self.float(s, d);
                    Expr::Bin(Op::Mul, Ty::F64, Box::new(a), Box::new(b))
                }
            }
            2 => {
                let l = *self.rng.pick(FLOAT_DIVISORS);
                let a = self.float(max, d);
                Expr::Bin(Op::Div, Ty::F64, Box::new(a), Box::new(Expr::Float(l)))
            }
            3 => {
                // a / (abs(b) + 1.0): at most |a|.
                let a = self.float(max, d);
                let b = self.float(FMAX, d.min(1));
                let den = Expr::Bin(
                    Op::Add,
                    Ty::F64,
                    Box::new(Expr::Builtin(Builtin::Abs, Ty::F64, vec![b])),
                    Box::new(Expr::Float(1.0)),
                );
                Expr::Bin(Op::Div, Ty::F64, Box::new(a), Box::new(den))
            }
            4 => {
                let a = self.float((max * max).min(1e12), d);
                Expr::Builtin(Builtin::Sqrt, Ty::F64, vec![Expr::Builtin(Builtin::Abs, Ty::F64, vec![a])])
            }
            5 => {
                let a = self.float(max - 1.0, d);
                let f = if self.rng.chance(0.5) { Builtin::Floor } else { Builtin::Ceil };
                Expr::Builtin(f, Ty::F64, vec![a])
            }
            6 => {
                let a = self.float(max, d);
                if self.rng.chance(0.5) {
                    Expr::Builtin(Builtin::Abs, Ty::F64, vec![a])
                } else {
                    Expr::Neg(Box::new(a))
                }
            }
            7 => {
                let c = self.boolean(d.min(1));
                let a = self.float(max, d);
                let b = self.float(max, d);
                Expr::IfElse(Box::new(c), Box::new(a), Box::new(b))
            }
            8 => match self.call(Ty::F64, depth) {
                Some(c) => c,
                None => self.float_leaf(max),
            },
            _ => {
                let i = self.int((max.min(1e12) as u64).min(P - 1), d);
                Expr::Cast(Ty::F64, Box::new(i))
            }
        }
    }

    fn float_leaf(&mut self, max: f64) -> Expr {
        let vars = self.visible_of(Ty::F64);
        let consts: Vec<usize> =
            self.visible_consts.iter().copied().filter(|&c| self.consts[c].ty == Ty::F64).collect();
        match self.rng.weighted(&[if vars.is_empty() { 0 } else { 55 }, 20, if consts.is_empty() { 0 } else { 8 }, 17])
        {
            0 => {
                let v = *self.rng.pick(&vars);
                let b = self.vars[v].fbound;
                self.fit_float(Expr::Local(v), b, max)
            }
            1 => {
                let lits: Vec<f64> = FLOAT_LITS.iter().copied().filter(|&x| x <= max).collect();
                if lits.is_empty() { Expr::Float(0.0) } else { Expr::Float(*self.rng.pick(&lits)) }
            }
            2 => {
                let c = *self.rng.pick(&consts);
                // Rates are at most 1.5.
                self.fit_float(Expr::Const(c), 1.5, max)
            }
            _ => {
                let (e, b) = self.int_atom();
                let cast = Expr::Cast(Ty::F64, Box::new(e));
                self.fit_float(cast, b as f64, max)
            }
        }
    }

    /// `e`, or `e / 10^k` so that the magnitude is at most `max`.
    fn fit_float(&mut self, e: Expr, bound: f64, max: f64) -> Expr {
        if bound <= max {
            return e;
        }
        let mut d = 10.0;
        while bound / d > max && d < 1e15 {
            d *= 10.0;
        }
        if bound / d > max {
            return Expr::Float(0.0);
        }
        Expr::Bin(Op::Div, Ty::F64, Box::new(e), Box::new(Expr::Float(d)))
    }

    fn boolean(&mut self, depth: u32) -> Expr {
        let vars = self.visible_of(Ty::Bool);
        let strs = self.visible_of(Ty::Str);
        let ints = self.visible_of(Ty::I64);
        let d = depth.saturating_sub(1);
        let kinds = [
            25,                                   // int comparison
            12,                                   // x % k == r
            8,                                    // float comparison
            if vars.is_empty() { 0 } else { 15 }, // bool var
            if depth > 0 { 10 } else { 0 },       // and/or
            if depth > 0 { 4 } else { 0 },        // not
            if ints.is_empty() { 0 } else { 5 },  // chained comparison
            if strs.is_empty() { 0 } else { 5 },  // string comparison
            6,                                    // call
            if strs.is_empty() { 0 } else { 3 },  // len
        ];
        match self.rng.weighted(&kinds) {
            0 => {
                let op = *self.rng.pick(&[Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Ne, Op::Lt, Op::Gt]);
                let a = self.int(P - 1, d);
                let b = if self.rng.chance(0.5) { self.int_lit(999) } else { self.other(&a, |g| g.int(P - 1, d)) };
                Expr::Bin(op, Ty::I64, Box::new(a), Box::new(b))
            }
            1 => {
                let (e, b) = self.int_atom();
                let _ = b;
                let k = *self.rng.pick(&[2i64, 3, 4, 5, 7, 10]);
                let r = self.rng.below(k as u64) as i64;
                let rem = Expr::Bin(Op::Rem, Ty::I64, Box::new(e), Box::new(Expr::Int(k)));
                let op = if self.rng.chance(0.7) { Op::Eq } else { Op::Ne };
                Expr::Bin(op, Ty::I64, Box::new(rem), Box::new(Expr::Int(r)))
            }
            2 => {
                let op = *self.rng.pick(&[Op::Lt, Op::Le, Op::Gt, Op::Ge]);
                let a = self.float(FMAX, d);
                let b = self.float(FMAX, d.min(1));
                Expr::Bin(op, Ty::F64, Box::new(a), Box::new(b))
            }
            3 => Expr::Local(*self.rng.pick(&vars)),
            4 => {
                let op = if self.rng.chance(0.5) { Op::And } else { Op::Or };
                let a = self.boolean(d);
                let b = self.boolean(d);
                Expr::Bin(op, Ty::Bool, Box::new(a), Box::new(b))
            }
            5 => {
                let a = self.boolean(d);
                Expr::Not(Box::new(a))
            }
            6 => {
                let v = *self.rng.pick(&ints);
                let lo = self.rng.range(0, 50) as i64;
                let hi = lo + self.rng.range(1, 500) as i64;
                let op1 = if self.rng.chance(0.5) { Op::Le } else { Op::Lt };
                Expr::Chain(Box::new(Expr::Int(lo)), op1, Box::new(Expr::Local(v)), Op::Lt, Box::new(Expr::Int(hi)))
            }
            7 => {
                let s = Expr::Local(*self.rng.pick(&strs));
                let w = Expr::Str(self.rng.pick(WORDS).to_string());
                let op = *self.rng.pick(&[Op::Eq, Op::Ne, Op::Lt, Op::Ge]);
                Expr::Bin(op, Ty::Str, Box::new(s), Box::new(w))
            }
            8 => match self.call(Ty::Bool, depth) {
                Some(c) => c,
                None => {
                    let (e, _) = self.int_atom();
                    let n = self.rng.range(0, 500) as i64;
                    Expr::Bin(Op::Gt, Ty::I64, Box::new(e), Box::new(Expr::Int(n)))
                }
            },
            _ => {
                let s = Expr::Local(*self.rng.pick(&strs));
                let n = self.rng.range(2, 12) as i64;
                Expr::Bin(Op::Gt, Ty::I64, Box::new(Expr::Len(Box::new(s))), Box::new(Expr::Int(n)))
            }
        }
    }

    fn string(&mut self, depth: u32) -> Expr {
        if self.str_depth == 0 {
            self.dyn_left = if self.no_mut_str { 0 } else { 1 };
        }
        self.str_depth += 1;
        let e = self.string_inner(depth);
        self.str_depth -= 1;
        e
    }

    fn string_inner(&mut self, depth: u32) -> Expr {
        let vars = if self.dyn_left > 0 { self.visible_of(Ty::Str) } else { Vec::new() };
        let consts: Vec<usize> =
            self.visible_consts.iter().copied().filter(|&c| self.consts[c].ty == Ty::Str).collect();
        let d = depth.saturating_sub(1);
        let kinds = [
            if vars.is_empty() { 0 } else { 30 },
            15,                                                 // literal
            if depth > 0 { 25 } else { 5 },                     // interpolation
            if depth > 0 { 10 } else { 0 },                     // concatenation
            if depth > 0 && self.dyn_left > 0 { 6 } else { 0 }, // call
            5,                                                  // str(i)
            if consts.is_empty() { 0 } else { 5 },              // constant
            if depth > 0 { 4 } else { 0 },                      // if-else
        ];
        match self.rng.weighted(&kinds) {
            0 => {
                self.dyn_left -= 1;
                Expr::Local(*self.rng.pick(&vars))
            }
            1 => Expr::Str(self.rng.pick(WORDS).to_string()),
            2 => {
                let mut parts = Vec::new();
                let n = self.rng.range(1, 3);
                for i in 0..n {
                    if i > 0 || self.rng.chance(0.6) {
                        let sep = *self.rng.pick(&["", "-", ":", " ", "/", "=", ", "]);
                        let text = if i == 0 { format!("{}{sep}", self.rng.pick(WORDS)) } else { sep.to_string() };
                        if !text.is_empty() {
                            parts.push(Part::Text(text));
                        }
                    }
                    let bools = self.visible_of(Ty::Bool);
                    let strs = if self.dyn_left > 0 { vars.len() } else { 0 };
                    match self.rng.weighted(&[
                        50,
                        if strs == 0 { 0 } else { 30 },
                        if bools.is_empty() { 0 } else { 10 },
                    ]) {
                        0 => {
                            let e = self.int(P - 1, d.min(1));
                            parts.push(Part::Val(Ty::I64, e));
                        }
                        1 => {
                            self.dyn_left -= 1;
                            parts.push(Part::Val(Ty::Str, Expr::Local(*self.rng.pick(&vars))));
                        }
                        _ => parts.push(Part::Val(Ty::Bool, Expr::Local(*self.rng.pick(&bools)))),
                    }
                }
                if self.rng.chance(0.3) {
                    parts.push(Part::Text(format!(" {}", self.rng.pick(WORDS))));
                }
                Expr::Interp(parts)
            }
            3 => {
                let a = self.string(d);
                let b = self.string(0);
                let sep = Expr::Str(self.rng.pick(&["-", "/", ".", " "]).to_string());
                Expr::Concat(Box::new(Expr::Concat(Box::new(a), Box::new(sep))), Box::new(b))
            }
            4 => {
                self.dyn_left -= 1;
                match self.call(Ty::Str, depth) {
                    Some(c) => c,
                    None => Expr::Str(self.rng.pick(WORDS).to_string()),
                }
            }
            5 => {
                let e = self.int(P - 1, d.min(1));
                Expr::StrOf(Box::new(e))
            }
            6 => Expr::Const(*self.rng.pick(&consts)),
            _ => {
                let c = self.boolean(d.min(1));
                let a = Expr::Str(self.rng.pick(WORDS).to_string());
                let b = Expr::Str(self.rng.pick(WORDS).to_string());
                Expr::IfElse(Box::new(c), Box::new(a), Box::new(b))
            }
        }
    }

    // -- statements --------------------------------------------------------

    /// About `lines` lines of statements.
    fn block(&mut self, lines: usize, depth: u32) -> Vec<Stmt> {
        let mut out = Vec::new();
        let mut have = 0;
        while have < lines {
            let before = out.len();
            self.stmt(&mut out, lines - have, depth);
            have += stmts_lines(&out[before..]);
            if out.len() == before {
                break;
            }
        }
        out
    }

    /// Appends one statement (or a few that belong together).
    fn stmt(&mut self, out: &mut Vec<Stmt>, room_lines: usize, depth: u32) {
        let mutables: Vec<usize> = self.visible().filter(|&v| self.vars[v].mutable && !self.vars[v].fixed).collect();
        let nested = depth < 3 && room_lines >= 3;
        let loops_ok = nested && self.loop_depth < 2 && self.room() > self.mult * 400;
        let kinds = [
            20,                                       // new local
            if mutables.is_empty() { 0 } else { 30 }, // update
            if nested { 14 } else { 0 },              // if
            if loops_ok { 9 } else { 0 },             // for
            if loops_ok { 5 } else { 0 },             // while/loop patterns
            if self.loop_depth > 0 { 4 } else { 0 },  // break/continue
            if depth == 0 { 3 } else { 1 },           // early return
            2,                                        // comment
        ];
        match self.rng.weighted(&kinds) {
            0 => self.stmt_let(out),
            1 => {
                let v = *self.rng.pick(&mutables);
                self.stmt_update(out, v);
            }
            2 => self.stmt_if(out, room_lines, depth),
            3 => self.stmt_for(out, room_lines, depth),
            4 => self.stmt_while(out, depth),
            5 => {
                let cond = self.boolean(1);
                let s = if self.in_for && self.rng.chance(0.5) { Stmt::Continue } else { Stmt::Break };
                self.charge(1);
                out.push(Stmt::If { arms: vec![(cond, vec![s])], els: None, inline: self.rng.chance(0.7) });
            }
            6 => {
                let cond = self.boolean(1);
                let value = self.ret_value();
                self.charge(1);
                out.push(Stmt::If { arms: vec![(cond, vec![Stmt::Return(value)])], els: None, inline: true });
            }
            _ => out.push(Stmt::Comment(self.rng.pick(COMMENTS).to_string())),
        }
    }

    fn stmt_let(&mut self, out: &mut Vec<Stmt>) {
        let ty = [Ty::I64, Ty::F64, Ty::Bool, Ty::Str][self.rng.weighted(&[45, 20, 12, 15])];
        let mutable = ty != Ty::Bool && self.rng.chance(0.4);
        let init = self.expr(ty, 2);
        let base = match ty {
            Ty::I64 => *self.rng.pick(LOCALS_I64),
            Ty::F64 => *self.rng.pick(LOCALS_F64),
            Ty::Bool => *self.rng.pick(LOCALS_BOOL),
            Ty::Str => *self.rng.pick(LOCALS_STR),
        };
        let v = self.new_var(base, ty, mutable);
        self.charge(1);
        out.push(Stmt::Let { var: v, init, annotate: self.rng.chance(0.12) });
    }

    fn stmt_update(&mut self, out: &mut Vec<Stmt>, v: usize) {
        let ty = self.vars[v].ty;
        self.charge(1);
        if self.vars[v].counter {
            if self.vars[v].incs + self.mult <= COUNTER_CAP {
                self.vars[v].incs += self.mult;
                out.push(Stmt::Assign { var: v, op: AssignOp::Add, value: Expr::Int(1) });
            }
            return;
        }
        match ty {
            Ty::I64 => match self.rng.weighted(&[35, 20, 15, 10, 8, 6]) {
                0 => {
                    // v = (v * L + e) % MOD
                    let l = *self.rng.pick(&[31i64, 33, 37, 17, 131, 7]);
                    let e = self.int(IMAX / 2, 2);
                    let mixed = Expr::Bin(
                        Op::Add,
                        Ty::I64,
                        Box::new(Expr::Bin(Op::Mul, Ty::I64, Box::new(Expr::Local(v)), Box::new(Expr::Int(l)))),
                        Box::new(e),
                    );
                    let value = Expr::Bin(Op::Rem, Ty::I64, Box::new(mixed), Box::new(self.mod_const()));
                    out.push(Stmt::Assign { var: v, op: AssignOp::Set, value });
                }
                1 => {
                    // v += e; v %= MOD
                    let op = if self.rng.chance(0.7) { AssignOp::Add } else { AssignOp::Sub };
                    let e = self.int(P - 1, 2);
                    out.push(Stmt::Assign { var: v, op, value: e });
                    out.push(Stmt::Assign { var: v, op: AssignOp::Rem, value: self.mod_const() });
                    self.charge(1);
                }
                2 => {
                    let value = self.other(&Expr::Local(v), |g| g.int(P - 1, 2));
                    out.push(Stmt::Assign { var: v, op: AssignOp::Set, value });
                }
                3 => {
                    let f = if self.rng.chance(0.5) { Builtin::Max } else { Builtin::Min };
                    let e = self.int(P - 1, 1);
                    out.push(Stmt::Assign {
                        var: v,
                        op: AssignOp::Set,
                        value: Expr::Builtin(f, Ty::I64, vec![Expr::Local(v), e]),
                    });
                }
                4 => {
                    let l = *self.rng.pick(&[2i64, 3, 10]);
                    let op = if self.rng.chance(0.5) { AssignOp::Div } else { AssignOp::Rem };
                    let value = if op == AssignOp::Rem {
                        Expr::Int(*self.rng.pick(&[97i64, 1000, 4096]))
                    } else {
                        Expr::Int(l)
                    };
                    out.push(Stmt::Assign { var: v, op, value });
                }
                _ => {
                    let e = self.int(999, 1);
                    out.push(Stmt::Assign { var: v, op: AssignOp::Set, value: e });
                    let e2 = self.int(999, 1);
                    out.push(Stmt::Assign { var: v, op: AssignOp::Mul, value: e2 });
                    self.charge(1);
                }
            },
            Ty::F64 => match self.rng.weighted(&[40, 25, 20, 15]) {
                0 => {
                    // y = y * 0.5 + e: stays below FMAX.
                    let e = self.float(FMAX / 2.0, 2);
                    let value = Expr::Bin(
                        Op::Add,
                        Ty::F64,
                        Box::new(Expr::Bin(Op::Mul, Ty::F64, Box::new(Expr::Local(v)), Box::new(Expr::Float(0.5)))),
                        Box::new(e),
                    );
                    out.push(Stmt::Assign { var: v, op: AssignOp::Set, value });
                }
                1 => {
                    let e = self.float(FMAX, 2);
                    let sum = Expr::Bin(Op::Add, Ty::F64, Box::new(Expr::Local(v)), Box::new(e));
                    let value = Expr::Bin(Op::Div, Ty::F64, Box::new(sum), Box::new(Expr::Float(2.0)));
                    out.push(Stmt::Assign { var: v, op: AssignOp::Set, value });
                }
                2 => {
                    let value = self.float(FMAX, 2);
                    out.push(Stmt::Assign { var: v, op: AssignOp::Set, value });
                }
                _ => {
                    let l = *self.rng.pick(&[0.5, 0.75, 0.9, 0.25]);
                    out.push(Stmt::Assign { var: v, op: AssignOp::Mul, value: Expr::Float(l) });
                }
            },
            Ty::Bool => {
                let value = self.boolean(2);
                out.push(Stmt::Assign { var: v, op: AssignOp::Set, value });
            }
            Ty::Str => {
                // Never read a string that is being appended to: no doubling.
                self.no_mut_str = true;
                let value = self.string(1);
                self.no_mut_str = false;
                let op = if self.rng.chance(0.6) { AssignOp::Add } else { AssignOp::Set };
                out.push(Stmt::Assign { var: v, op, value });
            }
        }
    }

    fn stmt_if(&mut self, out: &mut Vec<Stmt>, room_lines: usize, depth: u32) {
        let arms_n = 1 + self.rng.weighted(&[55, 30, 15]);
        let has_else = self.rng.chance(0.5);
        let per = (room_lines.saturating_sub(arms_n + has_else as usize) / (arms_n + has_else as usize)).clamp(1, 4);
        self.charge(1);
        let mut arms = Vec::new();
        for _ in 0..arms_n {
            let cond = self.boolean(2);
            let n = self.rng.range(1, per as u64) as usize;
            let body = self.scoped_block(n, depth + 1);
            arms.push((cond, body));
        }
        let els = if has_else {
            let n = self.rng.range(1, per as u64) as usize;
            Some(self.scoped_block(n, depth + 1))
        } else {
            None
        };
        // `if c: x = 1` on one line, when it is that short.
        let inline = arms_n == 1
            && els.is_none()
            && arms[0].1.len() == 1
            && matches!(arms[0].1[0], Stmt::Assign { .. } | Stmt::Return(_))
            && self.rng.chance(0.4);
        out.push(Stmt::If { arms, els, inline });
    }

    fn scoped_block(&mut self, lines: usize, depth: u32) -> Vec<Stmt> {
        self.scopes.push(Vec::new());
        let mut body = self.block(lines, depth);
        if body.iter().all(|s| matches!(s, Stmt::Comment(_))) {
            // A block needs a statement; an update of something is the
            // usual one.
            let mutables: Vec<usize> = self
                .visible()
                .filter(|&v| self.vars[v].mutable && !self.vars[v].fixed && !self.vars[v].counter)
                .collect();
            match mutables.first() {
                Some(&v) => self.stmt_update(&mut body, v),
                None => self.stmt_let(&mut body),
            }
        }
        self.scopes.pop();
        body
    }

    fn stmt_for(&mut self, out: &mut Vec<Stmt>, room_lines: usize, depth: u32) {
        let style = [ForStyle::Dots, ForStyle::DotsEq, ForStyle::Range1, ForStyle::Range2]
            [self.rng.weighted(&[45, 15, 20, 20])];
        let max_trips = (self.room() / (self.mult * 60)).clamp(2, 16);
        let trips = self.rng.range(2, max_trips);
        let (lo, hi, count) = if style == ForStyle::Range1 {
            (0, trips as i64, trips)
        } else if style == ForStyle::DotsEq {
            let lo = self.rng.range(0, 1) as i64;
            (lo, lo + trips as i64 - 1, trips)
        } else if self.rng.chance(0.3) {
            // A bound computed at run time: `let span = abs(x) % 8 + 1`.
            let base = *self.rng.pick(&["span", "rounds", "steps", "n_items"]);
            let (e, b) = self.int_atom();
            let e = self.fit_int(e, b, IMAX);
            let init = Expr::Bin(
                Op::Add,
                Ty::I64,
                Box::new(Expr::Bin(
                    Op::Rem,
                    Ty::I64,
                    Box::new(Expr::Builtin(Builtin::Abs, Ty::I64, vec![e])),
                    Box::new(Expr::Int(trips as i64)),
                )),
                Box::new(Expr::Int(1)),
            );
            let v = self.new_var(base, Ty::I64, false);
            self.vars[v].ibound = trips;
            self.charge(1);
            out.push(Stmt::Let { var: v, init, annotate: false });
            let lo = self.rng.range(0, 1) as i64;
            let body_var = v;
            return self.for_body(out, Expr::Int(lo), Expr::Local(body_var), trips + 1, style, room_lines, depth);
        } else {
            let lo = self.rng.range(0, 3) as i64;
            (lo, lo + trips as i64, trips)
        };
        self.for_body(out, Expr::Int(lo), Expr::Int(hi), count, style, room_lines, depth)
    }

    #[allow(clippy::too_many_arguments)]
    fn for_body(
        &mut self,
        out: &mut Vec<Stmt>,
        lo: Expr,
        hi: Expr,
        trips: u64,
        style: ForStyle,
        room_lines: usize,
        depth: u32,
    ) {
        let style = if style == ForStyle::Range1 && !matches!(lo, Expr::Int(0)) { ForStyle::Range2 } else { style };
        let style = if style == ForStyle::DotsEq && !matches!(hi, Expr::Int(_)) { ForStyle::Dots } else { style };
        self.charge(1);
        self.scopes.push(Vec::new());
        let name = ["i", "j", "k"][self.loop_depth.min(2) as usize];
        let var = self.new_var(name, Ty::I64, false);
        self.vars[var].fixed = true;
        self.vars[var].ibound = trips + 4;
        let saved = (self.mult, self.in_for);
        self.mult = self.mult.saturating_mul(trips);
        self.loop_depth += 1;
        self.in_for = true;
        let n = self.rng.range(1, room_lines.saturating_sub(1).clamp(1, 6) as u64) as usize;
        let mut body = self.block(n, depth + 1);
        if body.iter().all(|s| matches!(s, Stmt::Comment(_) | Stmt::If { .. })) {
            let mutables: Vec<usize> = self
                .visible()
                .filter(|&v| self.vars[v].mutable && !self.vars[v].fixed && !self.vars[v].counter)
                .collect();
            match mutables.first() {
                Some(&v) => self.stmt_update(&mut body, v),
                None => self.stmt_let(&mut body),
            }
        }
        self.loop_depth -= 1;
        (self.mult, self.in_for) = saved;
        self.scopes.pop();
        out.push(Stmt::For { var, lo, hi, style, body });
    }

    /// One of a few bounded `while`/`loop` patterns.
    fn stmt_while(&mut self, out: &mut Vec<Stmt>, depth: u32) {
        let _ = depth;
        let saved = (self.mult, self.in_for);
        self.in_for = false;
        self.loop_depth += 1;
        match self.rng.weighted(&[30, 25, 20, 25]) {
            0 => {
                // Collatz steps, at most `limit`.
                let (e, b) = self.int_atom();
                let e = self.fit_int(e, b, IMAX);
                let n = self.new_var("n", Ty::I64, true);
                let steps = self.new_var("steps", Ty::I64, true);
                self.vars[n].fixed = true;
                self.vars[steps].fixed = true;
                let limit = self.rng.range(8, 40);
                self.vars[steps].ibound = limit;
                let start = Expr::Bin(
                    Op::Add,
                    Ty::I64,
                    Box::new(Expr::Bin(
                        Op::Rem,
                        Ty::I64,
                        Box::new(Expr::Builtin(Builtin::Abs, Ty::I64, vec![e])),
                        Box::new(Expr::Int(500)),
                    )),
                    Box::new(Expr::Int(1)),
                );
                self.charge(2);
                out.push(Stmt::Let { var: n, init: start, annotate: false });
                out.push(Stmt::Let { var: steps, init: Expr::Int(0), annotate: false });
                self.mult = self.mult.saturating_mul(limit + 1);
                let cond = Expr::Bin(
                    Op::And,
                    Ty::Bool,
                    Box::new(Expr::Bin(Op::Ne, Ty::I64, Box::new(Expr::Local(n)), Box::new(Expr::Int(1)))),
                    Box::new(Expr::Bin(
                        Op::Lt,
                        Ty::I64,
                        Box::new(Expr::Local(steps)),
                        Box::new(Expr::Int(limit as i64)),
                    )),
                );
                let even = Expr::Bin(
                    Op::Eq,
                    Ty::I64,
                    Box::new(Expr::Bin(Op::Rem, Ty::I64, Box::new(Expr::Local(n)), Box::new(Expr::Int(2)))),
                    Box::new(Expr::Int(0)),
                );
                let half = Stmt::Assign {
                    var: n,
                    op: AssignOp::Set,
                    value: Expr::Bin(Op::Div, Ty::I64, Box::new(Expr::Local(n)), Box::new(Expr::Int(2))),
                };
                let triple = Stmt::Assign {
                    var: n,
                    op: AssignOp::Set,
                    value: Expr::Bin(
                        Op::Add,
                        Ty::I64,
                        Box::new(Expr::Bin(Op::Mul, Ty::I64, Box::new(Expr::Int(3)), Box::new(Expr::Local(n)))),
                        Box::new(Expr::Int(1)),
                    ),
                };
                self.charge(3);
                let body = vec![
                    Stmt::If { arms: vec![(even, vec![half])], els: Some(vec![triple]), inline: false },
                    Stmt::Assign { var: steps, op: AssignOp::Add, value: Expr::Int(1) },
                ];
                out.push(Stmt::While { cond, body });
                self.vars[n].ibound = P - 1;
            }
            1 => {
                // Digit sum.
                let (e, b) = self.int_atom();
                let e = self.fit_int(e, b, P - 1);
                let rest = self.new_var("rest", Ty::I64, true);
                let digits = self.new_var("digits", Ty::I64, true);
                self.vars[rest].fixed = true;
                self.vars[digits].fixed = true;
                self.vars[digits].ibound = 9 * 7;
                self.charge(2);
                out.push(Stmt::Let { var: rest, init: Expr::Builtin(Builtin::Abs, Ty::I64, vec![e]), annotate: false });
                out.push(Stmt::Let { var: digits, init: Expr::Int(0), annotate: false });
                self.mult = self.mult.saturating_mul(8);
                self.charge(3);
                let cond = Expr::Bin(Op::Gt, Ty::I64, Box::new(Expr::Local(rest)), Box::new(Expr::Int(0)));
                let body = vec![
                    Stmt::Assign {
                        var: digits,
                        op: AssignOp::Add,
                        value: Expr::Bin(Op::Rem, Ty::I64, Box::new(Expr::Local(rest)), Box::new(Expr::Int(10))),
                    },
                    Stmt::Assign { var: rest, op: AssignOp::Div, value: Expr::Int(10) },
                ];
                out.push(Stmt::While { cond, body });
            }
            2 => {
                // Binary search for the integer square root of a bounded value.
                let (e, b) = self.int_atom();
                let target = self.fit_int(e, b, P - 1);
                let hi_lit = self.rng.range(100, 1000) as i64;
                let lo = self.new_var("lo", Ty::I64, true);
                let hi = self.new_var("hi", Ty::I64, true);
                self.vars[lo].fixed = true;
                self.vars[hi].fixed = true;
                self.vars[lo].ibound = hi_lit as u64 + 1;
                self.vars[hi].ibound = hi_lit as u64;
                self.charge(2);
                out.push(Stmt::Let { var: lo, init: Expr::Int(0), annotate: false });
                out.push(Stmt::Let { var: hi, init: Expr::Int(hi_lit), annotate: false });
                self.mult = self.mult.saturating_mul(12);
                self.scopes.push(Vec::new());
                let mid = self.new_var("mid", Ty::I64, false);
                self.vars[mid].ibound = hi_lit as u64;
                self.scopes.pop();
                self.charge(4);
                let cond = Expr::Bin(Op::Lt, Ty::I64, Box::new(Expr::Local(lo)), Box::new(Expr::Local(hi)));
                let mid_init = Expr::Bin(
                    Op::Div,
                    Ty::I64,
                    Box::new(Expr::Bin(Op::Add, Ty::I64, Box::new(Expr::Local(lo)), Box::new(Expr::Local(hi)))),
                    Box::new(Expr::Int(2)),
                );
                let test = Expr::Bin(
                    Op::Lt,
                    Ty::I64,
                    Box::new(Expr::Bin(Op::Mul, Ty::I64, Box::new(Expr::Local(mid)), Box::new(Expr::Local(mid)))),
                    Box::new(target),
                );
                let body = vec![
                    Stmt::Let { var: mid, init: mid_init, annotate: false },
                    Stmt::If {
                        arms: vec![(
                            test,
                            vec![Stmt::Assign {
                                var: lo,
                                op: AssignOp::Set,
                                value: Expr::Bin(Op::Add, Ty::I64, Box::new(Expr::Local(mid)), Box::new(Expr::Int(1))),
                            }],
                        )],
                        els: Some(vec![Stmt::Assign { var: hi, op: AssignOp::Set, value: Expr::Local(mid) }]),
                        inline: false,
                    },
                ];
                out.push(Stmt::While { cond, body });
            }
            _ => {
                // `loop:` dividing down, with a counter.
                let (e, b) = self.int_atom();
                let e = self.fit_int(e, b, P - 1);
                let v = self.new_var("v", Ty::I64, true);
                let rounds = self.new_var("rounds", Ty::I64, true);
                self.vars[v].fixed = true;
                self.vars[rounds].fixed = true;
                self.vars[rounds].ibound = 20;
                let div = self.rng.range(2, 5) as i64;
                let stop = self.rng.range(2, 20) as i64;
                self.charge(2);
                out.push(Stmt::Let { var: v, init: Expr::Builtin(Builtin::Abs, Ty::I64, vec![e]), annotate: false });
                out.push(Stmt::Let { var: rounds, init: Expr::Int(0), annotate: false });
                self.mult = self.mult.saturating_mul(21);
                self.charge(3);
                let cond = Expr::Bin(Op::Lt, Ty::I64, Box::new(Expr::Local(v)), Box::new(Expr::Int(stop)));
                let body = vec![
                    Stmt::If { arms: vec![(cond, vec![Stmt::Break])], els: None, inline: self.rng.chance(0.5) },
                    Stmt::Assign { var: v, op: AssignOp::Div, value: Expr::Int(div) },
                    Stmt::Assign { var: rounds, op: AssignOp::Add, value: Expr::Int(1) },
                ];
                out.push(Stmt::Loop { body });
            }
        }
        self.loop_depth -= 1;
        (self.mult, self.in_for) = saved;
        // Use the result: fold the last pattern variable into an accumulator.
        let result = self.vars.iter().rposition(|v| v.fixed && v.mutable).unwrap_or(0);
        let accs: Vec<usize> = self
            .visible()
            .filter(|&v| {
                self.vars[v].mutable && !self.vars[v].fixed && self.vars[v].ty == Ty::I64 && !self.vars[v].counter
            })
            .collect();
        if let Some(&acc) = accs.first() {
            let l = *self.rng.pick(&[3i64, 7, 11, 13]);
            let value = Expr::Bin(
                Op::Rem,
                Ty::I64,
                Box::new(Expr::Bin(
                    Op::Add,
                    Ty::I64,
                    Box::new(Expr::Local(acc)),
                    Box::new(Expr::Bin(Op::Mul, Ty::I64, Box::new(Expr::Local(result)), Box::new(Expr::Int(l)))),
                )),
                Box::new(self.mod_const()),
            );
            self.charge(1);
            out.push(Stmt::Assign { var: acc, op: AssignOp::Set, value });
        }
    }

    /// A value of the function's return type.
    fn ret_value(&mut self) -> Expr {
        let ty = self.ret;
        if ty == Ty::I64 && self.rng.chance(0.5) {
            let accs: Vec<usize> = self
                .visible()
                .filter(|&v| self.vars[v].ty == Ty::I64 && self.vars[v].mutable && self.vars[v].ibound < P)
                .collect();
            if let Some(&v) = accs.first() {
                return Expr::Local(v);
            }
        }
        self.expr(ty, 2)
    }
}

fn isqrt(x: u64) -> u64 {
    let mut r = (x as f64).sqrt() as u64;
    while r * r > x {
        r -= 1;
    }
    while (r + 1) * (r + 1) <= x {
        r += 1;
    }
    r
}

fn icbrt(x: u64) -> u64 {
    let mut r = (x as f64).cbrt() as u64;
    while r * r * r > x {
        r -= 1;
    }
    while (r + 1) * (r + 1) * (r + 1) <= x {
        r += 1;
    }
    r
}

fn gen_function(p: &mut Project, rng: &mut Rng, m: usize, used: &mut HashSet<String>) -> usize {
    let ret = [Ty::I64, Ty::F64, Ty::Bool, Ty::Str][rng.weighted(&[60, 15, 13, 12])];
    let verb = match ret {
        Ty::I64 => *rng.pick(VERBS_I64),
        Ty::F64 => *rng.pick(VERBS_F64),
        Ty::Bool => *rng.pick(VERBS_BOOL),
        Ty::Str => *rng.pick(VERBS_STR),
    };
    let name = unique_name(used, &format!("{verb}_{}", rng.pick(NOUNS)));
    let public = rng.chance(0.55);
    let doc = match ret {
        Ty::I64 => *rng.pick(DOCS_I64),
        Ty::F64 => *rng.pick(DOCS_F64),
        Ty::Bool => *rng.pick(DOCS_BOOL),
        Ty::Str => *rng.pick(DOCS_STR),
    }
    .to_string();
    let one_liner = rng.chance(0.07);
    let body_lines: usize =
        if one_liner { 1 } else { [4, 6, 9, 12, 16, 22, 30, 38][rng.weighted(&[10, 18, 22, 18, 12, 9, 7, 4])] };

    let (vars, params, defaults, body, cost) = {
        let mut g = Gen::new(rng, &p.funcs, &p.consts, &p.modules, m, FN_COST_CAP, ret);
        // Parameters: an integer first, usually.
        let n = 1 + g.rng.weighted(&[35, 35, 20, 10]);
        let mut params = Vec::new();
        let mut defaults = Vec::new();
        for i in 0..n {
            let ty = if i == 0 && g.rng.chance(0.85) {
                Ty::I64
            } else {
                [Ty::I64, Ty::F64, Ty::Bool, Ty::Str][g.rng.weighted(&[45, 20, 15, 20])]
            };
            let base = match ty {
                Ty::I64 => *g.rng.pick(PARAMS_I64),
                Ty::F64 => *g.rng.pick(PARAMS_F64),
                Ty::Bool => *g.rng.pick(PARAMS_BOOL),
                Ty::Str => *g.rng.pick(PARAMS_STR),
            };
            let v = g.new_var(base, ty, false);
            g.vars[v].fixed = true;
            g.vars[v].decl = "";
            params.push(v);
            // The last parameter may have a default.
            let default = if i + 1 == n && i > 0 && g.rng.chance(0.2) {
                Some(match ty {
                    Ty::I64 => Expr::Int(g.rng.range(1, 64) as i64),
                    Ty::F64 => Expr::Float(*g.rng.pick(&[0.5, 1.0, 1.5, 2.0])),
                    Ty::Bool => Expr::Bool(g.rng.chance(0.5)),
                    Ty::Str => Expr::Str(g.rng.pick(WORDS).to_string()),
                })
            } else {
                None
            };
            defaults.push(default);
        }
        let body = if one_liner {
            Body::Expr(g.ret_value())
        } else {
            let mut stmts = Vec::new();
            // Shadow a parameter to change it: `let mut n = n`.
            if g.rng.chance(0.1) && g.vars[params[0]].ty == Ty::I64 {
                let p0 = params[0];
                let name = g.vars[p0].name.clone();
                let v = g.new_var(&format!("{name}_"), Ty::I64, true);
                g.vars[v].name = name.clone();
                g.vars[v].cname = format!("{name}_m");
                g.vars[v].decl = "let mut";
                stmts.push(Stmt::Let { var: v, init: Expr::Local(p0), annotate: false });
                // The parameter is hidden now.
                g.scopes[0].retain(|&x| x != p0);
            }
            // An accumulator most functions have.
            if g.rng.chance(0.7) {
                let ty = if ret == Ty::F64 { Ty::F64 } else { Ty::I64 };
                let init = g.expr(ty, 1);
                let v = g.new_var(if ty == Ty::F64 { "y" } else { "acc" }, ty, true);
                stmts.push(Stmt::Let { var: v, init, annotate: g.rng.chance(0.2) });
            }
            if g.rng.chance(0.25) {
                let v = g.new_var("count", Ty::I64, true);
                g.vars[v].counter = true;
                g.vars[v].ibound = COUNTER_CAP;
                stmts.push(Stmt::Let { var: v, init: Expr::Int(0), annotate: false });
            }
            g.charge(stmts.len() as u64);
            let have = stmts_lines(&stmts);
            stmts.extend(g.block(body_lines.saturating_sub(have + 1).max(1), 0));
            let value = g.ret_value();
            stmts.push(Stmt::Return(value));
            g.charge(1);
            Body::Block(stmts)
        };
        (g.vars, params, defaults, body, g.cost.max(1))
    };
    let id = p.funcs.len();
    let cname = format!("{}_{}", p.modules[m].name, name);
    p.funcs.push(Func { module: m, name, cname, public, params, defaults, ret, vars, body, cost, doc, special: false });
    p.modules[m].funcs.push(id);
    id
}

/// `pub fn run_mNN(seed: i64) -> i64`: calls a handful of the module's
/// functions and folds their results.
fn gen_run_function(p: &mut Project, rng: &mut Rng, m: usize) {
    let name = format!("run_{}", p.modules[m].name);
    let (vars, body, cost) = {
        let mut g = Gen::new(rng, &p.funcs, &p.consts, &p.modules, m, RUN_COST_CAP, Ty::I64);
        // Only this module's functions.
        g.callees.clear();
        for &f in &p.modules[m].funcs {
            if !p.funcs[f].special {
                g.callees.entry(p.funcs[f].ret).or_default().push(f);
            }
        }
        let seed = g.new_var("seed", Ty::I64, false);
        g.vars[seed].fixed = true;
        g.vars[seed].decl = "";
        let acc = g.new_var("acc", Ty::I64, true);
        let modc = g.mod_const();
        let mut stmts = vec![Stmt::Let {
            var: acc,
            init: Expr::Bin(Op::Rem, Ty::I64, Box::new(Expr::Local(seed)), Box::new(modc.clone())),
            annotate: false,
        }];
        let calls = g.rng.range(5, 10);
        for _ in 0..calls {
            let ty = [Ty::I64, Ty::F64, Ty::Bool, Ty::Str][g.rng.weighted(&[55, 15, 15, 15])];
            let Some(call) = g.call(ty, 2) else { continue };
            g.charge(2);
            let fold = |inner: Expr| {
                Expr::Bin(
                    Op::Rem,
                    Ty::I64,
                    Box::new(Expr::Bin(
                        Op::Add,
                        Ty::I64,
                        Box::new(Expr::Bin(Op::Mul, Ty::I64, Box::new(Expr::Local(acc)), Box::new(Expr::Int(31)))),
                        Box::new(inner),
                    )),
                    Box::new(modc.clone()),
                )
            };
            match ty {
                Ty::I64 => stmts.push(Stmt::Assign { var: acc, op: AssignOp::Set, value: fold(call) }),
                Ty::F64 => {
                    let w = g.new_var("w", Ty::F64, false);
                    stmts.push(Stmt::Let { var: w, init: call, annotate: false });
                    let scaled = Expr::Cast(
                        Ty::I64,
                        Box::new(Expr::Bin(Op::Mul, Ty::F64, Box::new(Expr::Local(w)), Box::new(Expr::Float(1000.0)))),
                    );
                    stmts.push(Stmt::Assign { var: acc, op: AssignOp::Set, value: fold(scaled) });
                }
                Ty::Bool => {
                    let bump = Stmt::Assign {
                        var: acc,
                        op: AssignOp::Set,
                        value: Expr::Bin(
                            Op::Rem,
                            Ty::I64,
                            Box::new(Expr::Bin(Op::Add, Ty::I64, Box::new(Expr::Local(acc)), Box::new(Expr::Int(7)))),
                            Box::new(modc.clone()),
                        ),
                    };
                    stmts.push(Stmt::If { arms: vec![(call, vec![bump])], els: None, inline: false });
                }
                Ty::Str => {
                    let s = g.new_var("text", Ty::Str, false);
                    stmts.push(Stmt::Let { var: s, init: call, annotate: false });
                    stmts.push(Stmt::Assign {
                        var: acc,
                        op: AssignOp::Set,
                        value: fold(Expr::Len(Box::new(Expr::Local(s)))),
                    });
                }
            }
        }
        stmts.push(Stmt::Return(Expr::Local(acc)));
        (g.vars, Body::Block(stmts), g.cost.max(1))
    };
    let id = p.funcs.len();
    p.funcs.push(Func {
        module: m,
        cname: format!("{}_{}", p.modules[m].name, name),
        name,
        public: true,
        params: vec![0],
        defaults: vec![None],
        ret: Ty::I64,
        vars,
        body,
        cost,
        doc: "Runs the module's functions once; main folds the result into its checksum.".into(),
        special: true,
    });
    p.modules[m].funcs.push(id);
}

fn gen_main(p: &mut Project, rng: &mut Rng) {
    let _ = rng;
    let main = p.main_module;
    let modc = Expr::Const(p.modules[main].consts[0]);
    let mut vars = Vec::new();
    let mut var = |name: String, mutable: bool| {
        vars.push(Var {
            cname: name.clone(),
            name,
            ty: Ty::I64,
            mutable,
            decl: if mutable { "var" } else { "let" },
            ibound: P - 1,
            fbound: 0.0,
            counter: false,
            incs: 0,
            fixed: false,
        });
        vars.len() - 1
    };
    let mut body =
        vec![Stmt::Print(vec![Part::Text("edit: ".into()), Part::Val(Ty::I64, Expr::Call(p.edit_fn, Vec::new()))])];
    let total = var("total".into(), true);
    body.push(Stmt::Let { var: total, init: Expr::Int(0), annotate: false });
    for m in 0..p.main_module {
        let run = *p.modules[m].funcs.last().expect("run function");
        let r = var(format!("r{m:02}"), false);
        let seed = Expr::Bin(
            Op::Add,
            Ty::I64,
            Box::new(Expr::Bin(Op::Rem, Ty::I64, Box::new(Expr::Local(total)), Box::new(Expr::Int(1000)))),
            Box::new(Expr::Int(m as i64 + 1)),
        );
        body.push(Stmt::Let {
            var: r,
            init: Expr::Call(run, vec![Arg { param: 0, value: seed, named: false }]),
            annotate: false,
        });
        body.push(Stmt::Print(vec![
            Part::Text(format!("{}: ", p.modules[m].name)),
            Part::Val(Ty::I64, Expr::Local(r)),
        ]));
        let value = Expr::Bin(
            Op::Rem,
            Ty::I64,
            Box::new(Expr::Bin(
                Op::Add,
                Ty::I64,
                Box::new(Expr::Bin(Op::Mul, Ty::I64, Box::new(Expr::Local(total)), Box::new(Expr::Int(31)))),
                Box::new(Expr::Local(r)),
            )),
            Box::new(modc.clone()),
        );
        body.push(Stmt::Assign { var: total, op: AssignOp::Set, value });
    }
    body.push(Stmt::Print(vec![Part::Text("checksum: ".into()), Part::Val(Ty::I64, Expr::Local(total))]));
    p.main_vars = vars;
    p.main_body = body;
}

fn stmts_lines(stmts: &[Stmt]) -> usize {
    stmts.iter().map(stmt_lines).sum()
}

fn stmt_lines(s: &Stmt) -> usize {
    match s {
        Stmt::If { arms, els, inline } => {
            if *inline {
                1
            } else {
                arms.iter().map(|(_, b)| 1 + stmts_lines(b)).sum::<usize>()
                    + els.as_ref().map_or(0, |b| 1 + stmts_lines(b))
            }
        }
        Stmt::While { body, .. } | Stmt::Loop { body } | Stmt::For { body, .. } => 1 + stmts_lines(body),
        _ => 1,
    }
}

fn func_lines(f: &Func) -> usize {
    match &f.body {
        Body::Block(b) => 1 + stmts_lines(b),
        Body::Expr(_) => 1,
    }
}

// ---------------------------------------------------------------------------
// Printing.

/// Which names a file uses from another module, and how it imports them.
struct Imports {
    /// Module → (style, items used).
    used: BTreeMap<usize, (Style, BTreeSet<String>)>,
}

fn collect_refs_expr(p: &Project, e: &Expr, out: &mut BTreeMap<usize, BTreeSet<String>>) {
    match e {
        Expr::Const(c) => {
            out.entry(p.consts[*c].module).or_default().insert(p.consts[*c].name.clone());
        }
        Expr::Call(f, args) => {
            out.entry(p.funcs[*f].module).or_default().insert(p.funcs[*f].name.clone());
            for a in args {
                collect_refs_expr(p, &a.value, out);
            }
        }
        Expr::Bin(_, _, a, b) | Expr::Concat(a, b) => {
            collect_refs_expr(p, a, out);
            collect_refs_expr(p, b, out);
        }
        Expr::Neg(a) | Expr::Not(a) | Expr::Cast(_, a) | Expr::Len(a) | Expr::StrOf(a) => collect_refs_expr(p, a, out),
        Expr::Builtin(_, _, args) => {
            for a in args {
                collect_refs_expr(p, a, out);
            }
        }
        Expr::Interp(parts) => {
            for part in parts {
                if let Part::Val(_, e) = part {
                    collect_refs_expr(p, e, out);
                }
            }
        }
        Expr::IfElse(c, a, b) | Expr::Chain(c, _, a, _, b) => {
            collect_refs_expr(p, c, out);
            collect_refs_expr(p, a, out);
            collect_refs_expr(p, b, out);
        }
        Expr::Int(_) | Expr::Float(_) | Expr::Bool(_) | Expr::Str(_) | Expr::Local(_) => {}
    }
}

fn collect_refs_stmts(p: &Project, stmts: &[Stmt], out: &mut BTreeMap<usize, BTreeSet<String>>) {
    for s in stmts {
        match s {
            Stmt::Let { init: e, .. } | Stmt::Assign { value: e, .. } | Stmt::Return(e) => collect_refs_expr(p, e, out),
            Stmt::If { arms, els, .. } => {
                for (c, b) in arms {
                    collect_refs_expr(p, c, out);
                    collect_refs_stmts(p, b, out);
                }
                if let Some(b) = els {
                    collect_refs_stmts(p, b, out);
                }
            }
            Stmt::While { cond, body } => {
                collect_refs_expr(p, cond, out);
                collect_refs_stmts(p, body, out);
            }
            Stmt::Loop { body } => collect_refs_stmts(p, body, out),
            Stmt::For { lo, hi, body, .. } => {
                collect_refs_expr(p, lo, out);
                collect_refs_expr(p, hi, out);
                collect_refs_stmts(p, body, out);
            }
            Stmt::Print(parts) => collect_refs_expr(p, &Expr::Interp(parts.clone()), out),
            Stmt::Break | Stmt::Continue | Stmt::Comment(_) | Stmt::Edit { .. } => {}
        }
    }
}

impl Project {
    /// The other modules a file uses, with a style chosen for each.
    fn imports_of(&self, m: usize, rng: &mut Rng) -> Imports {
        let mut refs = BTreeMap::new();
        if m == self.main_module {
            collect_refs_stmts(self, &self.main_body, &mut refs);
        } else {
            for &f in &self.modules[m].funcs {
                match &self.funcs[f].body {
                    Body::Block(b) => collect_refs_stmts(self, b, &mut refs),
                    Body::Expr(e) => collect_refs_expr(self, e, &mut refs),
                }
            }
        }
        refs.remove(&m);
        let mut used = BTreeMap::new();
        for (other, items) in refs {
            let packaged = self.modules[other].package.is_some();
            // main imports edit_target by name.
            let by_name = other == self.edit_module && m == self.main_module;
            let style = if by_name || (items.len() <= 4 && rng.chance(0.4)) {
                Style::From
            } else if packaged && rng.chance(0.5) {
                Style::Alias
            } else {
                Style::Qualified
            };
            used.insert(other, (style, items));
        }
        Imports { used }
    }

    pub fn write(&self, out: &Path) -> Result<Written, String> {
        let simple_dir = out.join("simple");
        let c_dir = out.join("c");
        prepare_dir(out, &[&simple_dir, &c_dir])?;
        let mut rng = Rng::new(self.config.seed.wrapping_add(7));
        let mut w = Written {
            simple_dir: simple_dir.clone(),
            c_dir: c_dir.clone(),
            entry: simple_dir.join("main.spl"),
            edit_spl: simple_dir.join(self.modules[self.edit_module].spl_path()),
            edit_c: c_dir.join(format!("{}.c", self.modules[self.edit_module].name)),
            simple_lines: 0,
            simple_files: 0,
            c_lines: 0,
            c_files: 0,
            functions: self.funcs.len() + 1,
            main_lines: 0,
        };
        let mut put = |path: PathBuf, text: String, simple: bool| -> Result<(), String> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            let lines = text.lines().count();
            if simple {
                w.simple_lines += lines;
                w.simple_files += 1;
            } else {
                w.c_lines += lines;
                w.c_files += 1;
            }
            std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
        };
        for m in 0..=self.main_module {
            let imports = self.imports_of(m, &mut rng);
            let (spl, spl_path) = if m == self.main_module {
                (self.render_main_simple(&imports), "main.spl".to_string())
            } else {
                (self.render_module_simple(m, &imports), self.modules[m].spl_path())
            };
            if m == self.main_module {
                w.main_lines = spl.lines().count();
            }
            put(simple_dir.join(spl_path), spl, true)?;
            if m == self.main_module {
                put(c_dir.join("main.c"), self.render_main_c(&imports), false)?;
            } else {
                let name = &self.modules[m].name;
                put(c_dir.join(format!("{name}.h")), self.render_header_c(m), false)?;
                put(c_dir.join(format!("{name}.c")), self.render_module_c(m, &imports), false)?;
            }
        }
        put(c_dir.join("rt.h"), RT_H.to_string(), false)?;
        put(c_dir.join("rt.c"), RT_C.to_string(), false)?;
        put(c_dir.join("Makefile"), self.render_makefile(), false)?;
        Ok(w)
    }

    fn header_comment(&self, what: &str) -> String {
        format!(
            "{what} (generated by `cargo xtask gen-project --lines {} --files {} --seed {}`)",
            self.config.lines, self.config.files, self.config.seed
        )
    }

    // -- Simple ------------------------------------------------------------

    fn render_imports_simple(&self, imports: &Imports, out: &mut String) {
        for (&other, (style, items)) in &imports.used {
            let module = &self.modules[other];
            match style {
                Style::Qualified => {
                    let _ = writeln!(out, "import {}", module.path());
                }
                Style::Alias => {
                    let _ = writeln!(out, "import {} as {}", module.path(), module.name);
                }
                Style::From => {
                    let names: Vec<&str> = items.iter().map(String::as_str).collect();
                    let _ = writeln!(out, "from {} import {}", module.path(), names.join(", "));
                }
            }
        }
        if !imports.used.is_empty() {
            out.push('\n');
        }
    }

    fn render_consts_simple(&self, m: usize, out: &mut String) {
        let sp = SimplePrinter { p: self, module: m, vars: &[], imports: None };
        for &c in &self.modules[m].consts {
            let c = &self.consts[c];
            let _ = writeln!(
                out,
                "{}const {}: {} = {}",
                if c.public { "pub " } else { "" },
                c.name,
                c.ty.simple(),
                sp.expr(&c.init, 0)
            );
        }
        out.push('\n');
    }

    fn render_module_simple(&self, m: usize, imports: &Imports) -> String {
        let module = &self.modules[m];
        let mut out = String::new();
        let _ = writeln!(out, "# {}: {}", module.path(), module.doc);
        let _ = writeln!(out, "# {}\n", self.header_comment("Synthetic code"));
        self.render_imports_simple(imports, &mut out);
        self.render_consts_simple(m, &mut out);
        for &f in &module.funcs {
            let func = &self.funcs[f];
            let sp = SimplePrinter { p: self, module: m, vars: &func.vars, imports: Some(imports) };
            let _ = writeln!(out, "# {}", func.doc);
            let params: Vec<String> = func
                .params
                .iter()
                .zip(&func.defaults)
                .map(|(&v, d)| {
                    let var = &func.vars[v];
                    match d {
                        Some(d) => format!("{}: {} = {}", var.name, var.ty.simple(), sp.expr(d, 0)),
                        None => format!("{}: {}", var.name, var.ty.simple()),
                    }
                })
                .collect();
            let head = format!(
                "{}fn {}({}) -> {}:",
                if func.public { "pub " } else { "" },
                func.name,
                params.join(", "),
                func.ret.simple()
            );
            match &func.body {
                Body::Expr(e) => {
                    let _ = writeln!(out, "{head} {}", sp.expr(e, 0));
                }
                Body::Block(b) => {
                    out.push_str(&head);
                    out.push('\n');
                    sp.block(b, 1, &mut out);
                }
            }
            out.push('\n');
        }
        // No trailing blank line.
        while out.ends_with("\n\n") {
            out.pop();
        }
        out
    }

    fn render_main_simple(&self, imports: &Imports) -> String {
        let m = self.main_module;
        let mut out = String::new();
        let _ = writeln!(out, "# The entry file: prints edit_target(), then runs every module and prints a checksum.");
        let _ = writeln!(out, "# {}\n", self.header_comment("Synthetic code"));
        self.render_imports_simple(imports, &mut out);
        self.render_consts_simple(m, &mut out);
        let sp = SimplePrinter { p: self, module: m, vars: &self.main_vars, imports: Some(imports) };
        out.push_str("fn main():\n");
        sp.block(&self.main_body, 1, &mut out);
        out
    }

    // -- C -----------------------------------------------------------------

    fn c_signature(&self, f: &Func) -> String {
        let params: Vec<String> =
            f.params.iter().map(|&v| format!("{} {}", f.vars[v].ty.c(), f.vars[v].cname)).collect();
        let params = if params.is_empty() { "void".to_string() } else { params.join(", ") };
        let ty = f.ret.c();
        let sep = if ty.ends_with('*') { "" } else { " " };
        format!("{ty}{sep}{}({params})", f.cname)
    }

    fn render_header_c(&self, m: usize) -> String {
        let module = &self.modules[m];
        let guard = format!("{}_H", module.name.to_uppercase());
        let mut out = String::new();
        let _ = writeln!(out, "/* {}: {} */", module.path(), module.doc);
        let _ = writeln!(out, "#ifndef {guard}\n#define {guard}\n\n#include \"rt.h\"\n");
        let cp = CPrinter { p: self, vars: &[] };
        for &c in &module.consts {
            let c = &self.consts[c];
            if c.public {
                let _ = writeln!(out, "#define {} {}", c.cname, cp.expr(&c.init));
            }
        }
        out.push('\n');
        for &f in &module.funcs {
            let f = &self.funcs[f];
            if f.public {
                let _ = writeln!(out, "{};", self.c_signature(f));
            }
        }
        let _ = writeln!(out, "\n#endif");
        out
    }

    fn render_c_includes(&self, m: usize, imports: &Imports, out: &mut String) {
        out.push_str("#include \"rt.h\"\n");
        if m != self.main_module {
            let _ = writeln!(out, "#include \"{}.h\"", self.modules[m].name);
        }
        for &other in imports.used.keys() {
            let _ = writeln!(out, "#include \"{}.h\"", self.modules[other].name);
        }
        out.push('\n');
        let cp = CPrinter { p: self, vars: &[] };
        for &c in &self.modules[m].consts {
            let c = &self.consts[c];
            if !c.public {
                let _ = writeln!(out, "#define {} {}", c.cname, cp.expr(&c.init));
            }
        }
        out.push('\n');
    }

    fn render_module_c(&self, m: usize, imports: &Imports) -> String {
        let module = &self.modules[m];
        let mut out = String::new();
        let _ = writeln!(out, "/* {}: {} */", module.path(), module.doc);
        let _ = writeln!(out, "/* {} */\n", self.header_comment("Synthetic code, the C peer of the Simple module"));
        self.render_c_includes(m, imports, &mut out);
        // Private functions may be called before their definition.
        let mut any = false;
        for &f in &module.funcs {
            let f = &self.funcs[f];
            if !f.public {
                let _ = writeln!(out, "static {};", self.c_signature(f));
                any = true;
            }
        }
        if any {
            out.push('\n');
        }
        for &f in &module.funcs {
            let func = &self.funcs[f];
            let cp = CPrinter { p: self, vars: &func.vars };
            let _ = writeln!(out, "/* {} */", func.doc);
            let _ = writeln!(out, "{}{} {{", if func.public { "" } else { "static " }, self.c_signature(func));
            match &func.body {
                Body::Expr(e) => {
                    let _ = writeln!(out, "    return {};", cp.expr(e));
                }
                Body::Block(b) => cp.block(b, 1, &mut out),
            }
            out.push_str("}\n\n");
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
        out
    }

    fn render_main_c(&self, imports: &Imports) -> String {
        let m = self.main_module;
        let mut out = String::new();
        let _ =
            writeln!(out, "/* The entry file: prints edit_target(), then runs every module and prints a checksum. */");
        let _ = writeln!(out, "/* {} */\n", self.header_comment("Synthetic code, the C peer of main.spl"));
        self.render_c_includes(m, imports, &mut out);
        out.push_str("int main(void) {\n");
        let cp = CPrinter { p: self, vars: &self.main_vars };
        cp.block(&self.main_body, 1, &mut out);
        out.push_str("    return 0;\n}\n");
        out
    }

    fn render_makefile(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {}", self.header_comment("The C peer of ../simple"));
        out.push_str("CC = gcc\nCFLAGS = -O0\n\n");
        let mut objs = vec!["main.o".to_string(), "rt.o".to_string()];
        objs.extend(self.modules[..self.main_module].iter().map(|m| format!("{}.o", m.name)));
        out.push_str("OBJS =");
        for (i, o) in objs.iter().enumerate() {
            if i % 10 == 0 {
                out.push_str(" \\\n   ");
            }
            out.push(' ');
            out.push_str(o);
        }
        out.push_str("\n\nprog: $(OBJS)\n\t$(CC) $(CFLAGS) -o $@ $(OBJS) -lm\n\n");
        out.push_str("%.o: %.c\n\t$(CC) $(CFLAGS) -c -o $@ $<\n\n");
        // Header dependencies, so that `make` after an edit is right.
        let mut rng = Rng::new(self.config.seed.wrapping_add(7));
        for m in 0..=self.main_module {
            let imports = self.imports_of(m, &mut rng);
            let name = &self.modules[m].name;
            let _ = write!(out, "{name}.o: {name}.c rt.h");
            if m != self.main_module {
                let _ = write!(out, " {name}.h");
            }
            for &other in imports.used.keys() {
                let _ = write!(out, " {}.h", self.modules[other].name);
            }
            out.push('\n');
        }
        out.push_str("rt.o: rt.c rt.h\n\nclean:\n\trm -f prog $(OBJS)\n\n.PHONY: clean\n");
        out
    }
}

/// What `write` wrote, and where.
pub struct Written {
    pub simple_dir: PathBuf,
    pub c_dir: PathBuf,
    /// DIR/simple/main.spl
    pub entry: PathBuf,
    /// The files holding the line marked EDIT.
    pub edit_spl: PathBuf,
    pub edit_c: PathBuf,
    pub simple_lines: usize,
    pub simple_files: usize,
    pub c_lines: usize,
    pub c_files: usize,
    /// Simple functions, `main` included.
    pub functions: usize,
    pub main_lines: usize,
}

/// Creates `out` and empties `dirs` in it, but only in a directory this task
/// made (it holds MARKER) or that does not hold them yet.
fn prepare_dir(out: &Path, dirs: &[&Path]) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let marker = out.join(MARKER);
    if !marker.is_file() && dirs.iter().any(|d| d.exists()) {
        return Err(format!(
            "{} already holds simple/ or c/ not written by gen-project; choose another --out",
            out.display()
        ));
    }
    std::fs::write(&marker, "written by cargo xtask gen-project; its simple/ and c/ are replaced on every run\n")
        .map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    for d in dirs {
        if d.exists() {
            std::fs::remove_dir_all(d).map_err(|e| format!("cannot clear {}: {e}", d.display()))?;
        }
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    Ok(())
}

struct SimplePrinter<'a> {
    p: &'a Project,
    module: usize,
    vars: &'a [Var],
    imports: Option<&'a Imports>,
}

impl SimplePrinter<'_> {
    /// How this file names an item of module `m`.
    fn item(&self, m: usize, name: &str) -> String {
        if m == self.module {
            return name.to_string();
        }
        let module = &self.p.modules[m];
        let style = self.imports.and_then(|i| i.used.get(&m)).map_or(Style::Qualified, |(s, _)| *s);
        match style {
            Style::From => name.to_string(),
            Style::Alias => format!("{}.{name}", module.name),
            Style::Qualified => format!("{}.{name}", module.path()),
        }
    }

    fn expr(&self, e: &Expr, min_prec: u8) -> String {
        let (text, prec) = self.expr_prec(e);
        if prec < min_prec { format!("({text})") } else { text }
    }

    fn expr_prec(&self, e: &Expr) -> (String, u8) {
        match e {
            Expr::Int(v) => (int_simple(*v), if *v < 0 { PREC_UNARY } else { PREC_ATOM }),
            Expr::Float(x) => (format!("{x:?}"), PREC_ATOM),
            Expr::Bool(b) => (b.to_string(), PREC_ATOM),
            Expr::Str(s) => (format!("\"{s}\""), PREC_ATOM),
            Expr::Local(v) => (self.vars[*v].name.clone(), PREC_ATOM),
            Expr::Const(c) => {
                let c = &self.p.consts[*c];
                (self.item(c.module, &c.name), PREC_ATOM)
            }
            Expr::Call(f, args) => {
                let func = &self.p.funcs[*f];
                let mut parts = Vec::new();
                for a in args {
                    let v = self.expr(&a.value, 0);
                    if a.named {
                        parts.push(format!("{}: {v}", func.vars[func.params[a.param]].name));
                    } else {
                        parts.push(v);
                    }
                }
                (format!("{}({})", self.item(func.module, &func.name), parts.join(", ")), PREC_ATOM)
            }
            Expr::Bin(op, _, a, b) => {
                let p = op.prec();
                let (lp, rp) = if *op == Op::Pow {
                    (PREC_ATOM, p)
                } else if op.is_comparison() {
                    (p + 1, p + 1)
                } else {
                    (p, p + 1)
                };
                // Comparisons never chain by accident: their operands are
                // at least arithmetic.
                let (lp, rp) = if op.is_comparison() { (lp.max(6), rp.max(6)) } else { (lp, rp) };
                (format!("{} {} {}", self.expr(a, lp), op.simple(), self.expr(b, rp)), p)
            }
            Expr::Concat(a, b) => (format!("{} + {}", self.expr(a, 11), self.expr(b, 12)), 11),
            Expr::Neg(a) => (format!("-{}", self.expr(a, PREC_ATOM)), PREC_UNARY),
            Expr::Not(a) => (format!("not {}", self.expr(a, PREC_ATOM)), PREC_NOT),
            Expr::Cast(to, a) => (format!("{} as {}", self.expr(a, PREC_ATOM), to.simple()), PREC_AS),
            Expr::Builtin(f, _, args) => {
                let name = match f {
                    Builtin::Abs => "abs",
                    Builtin::Min => "min",
                    Builtin::Max => "max",
                    Builtin::Sqrt => "sqrt",
                    Builtin::Floor => "floor",
                    Builtin::Ceil => "ceil",
                };
                let args: Vec<String> = args.iter().map(|a| self.expr(a, 0)).collect();
                (format!("{name}({})", args.join(", ")), PREC_ATOM)
            }
            Expr::Len(a) => (format!("{}.len()", self.expr(a, PREC_ATOM)), PREC_ATOM),
            Expr::StrOf(a) => (format!("str({})", self.expr(a, 0)), PREC_ATOM),
            Expr::Interp(parts) => (self.interp(parts), PREC_ATOM),
            Expr::IfElse(c, a, b) => {
                (format!("(if {}: {} else: {})", self.expr(c, 0), self.expr(a, 0), self.expr(b, 0)), PREC_ATOM)
            }
            Expr::Chain(lo, op1, mid, op2, hi) => (
                format!(
                    "{} {} {} {} {}",
                    self.expr(lo, 6),
                    op1.simple(),
                    self.expr(mid, 6),
                    op2.simple(),
                    self.expr(hi, 6)
                ),
                5,
            ),
        }
    }

    fn interp(&self, parts: &[Part]) -> String {
        let mut s = String::from("\"");
        for part in parts {
            match part {
                Part::Text(t) => s.push_str(t),
                Part::Val(_, e) => {
                    s.push('{');
                    s.push_str(&self.expr(e, 0));
                    s.push('}');
                }
            }
        }
        s.push('"');
        s
    }

    fn block(&self, stmts: &[Stmt], indent: usize, out: &mut String) {
        for s in stmts {
            self.stmt(s, indent, out);
        }
    }

    fn stmt(&self, s: &Stmt, indent: usize, out: &mut String) {
        let pad = "    ".repeat(indent);
        match s {
            Stmt::Let { var, init, annotate } => {
                let v = &self.vars[*var];
                let ann = if *annotate { format!(": {}", v.ty.simple()) } else { String::new() };
                let _ = writeln!(out, "{pad}{} {}{ann} = {}", v.decl, v.name, self.expr(init, 0));
            }
            Stmt::Assign { var, op, value } => {
                let _ = writeln!(out, "{pad}{} {} {}", self.vars[*var].name, op.text(), self.expr(value, 0));
            }
            Stmt::If { arms, els, inline } => {
                if *inline && arms.len() == 1 && els.is_none() && arms[0].1.len() == 1 {
                    let mut inner = String::new();
                    self.stmt(&arms[0].1[0], 0, &mut inner);
                    let _ = write!(out, "{pad}if {}: {inner}", self.expr(&arms[0].0, 0));
                    return;
                }
                for (i, (c, b)) in arms.iter().enumerate() {
                    let kw = if i == 0 { "if" } else { "elif" };
                    let _ = writeln!(out, "{pad}{kw} {}:", self.expr(c, 0));
                    self.block(b, indent + 1, out);
                }
                if let Some(b) = els {
                    let _ = writeln!(out, "{pad}else:");
                    self.block(b, indent + 1, out);
                }
            }
            Stmt::While { cond, body } => {
                let _ = writeln!(out, "{pad}while {}:", self.expr(cond, 0));
                self.block(body, indent + 1, out);
            }
            Stmt::Loop { body } => {
                let _ = writeln!(out, "{pad}loop:");
                self.block(body, indent + 1, out);
            }
            Stmt::For { var, lo, hi, style, body } => {
                let name = &self.vars[*var].name;
                let range = match style {
                    ForStyle::Dots => format!("{}..{}", self.expr(lo, 11), self.expr(hi, 11)),
                    ForStyle::DotsEq => format!("{}..={}", self.expr(lo, 11), self.expr(hi, 11)),
                    ForStyle::Range1 => format!("range({})", self.expr(hi, 0)),
                    ForStyle::Range2 => format!("range({}, {})", self.expr(lo, 0), self.expr(hi, 0)),
                };
                let _ = writeln!(out, "{pad}for {name} in {range}:");
                self.block(body, indent + 1, out);
            }
            Stmt::Break => {
                let _ = writeln!(out, "{pad}break");
            }
            Stmt::Continue => {
                let _ = writeln!(out, "{pad}continue");
            }
            Stmt::Return(e) => {
                let _ = writeln!(out, "{pad}return {}", self.expr(e, 0));
            }
            Stmt::Print(parts) => {
                let _ = writeln!(out, "{pad}println({})", self.interp(parts));
            }
            Stmt::Comment(c) => {
                let _ = writeln!(out, "{pad}# {c}");
            }
            Stmt::Edit { value, .. } => {
                let _ = writeln!(out, "{}", edit_line(Lang::Simple, *value));
            }
        }
    }
}

/// `1_000_003` for big numbers, as people write them.
fn int_simple(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    if digits.len() < 6 {
        return v.to_string();
    }
    let mut s = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            s.push('_');
        }
        s.push(c);
    }
    if v < 0 { format!("-{s}") } else { s }
}

struct CPrinter<'a> {
    p: &'a Project,
    vars: &'a [Var],
}

impl CPrinter<'_> {
    /// Fully parenthesised: C's precedences are not Simple's.
    fn expr(&self, e: &Expr) -> String {
        match e {
            // `L`: long is 64 bits on the platforms this runs on, so constant
            // arithmetic is never done in 32-bit int.
            Expr::Int(v) => format!("{v}L"),
            Expr::Float(x) => format!("{x:?}"),
            Expr::Bool(b) => b.to_string(),
            Expr::Str(s) => format!("\"{s}\""),
            Expr::Local(v) => self.vars[*v].cname.clone(),
            Expr::Const(c) => self.p.consts[*c].cname.clone(),
            Expr::Call(f, args) => {
                let func = &self.p.funcs[*f];
                let mut vals: Vec<String> = Vec::new();
                for (i, d) in func.defaults.iter().enumerate() {
                    match args.iter().find(|a| a.param == i) {
                        Some(a) => vals.push(self.expr(&a.value)),
                        None => vals.push(self.expr(d.as_ref().expect("a default for a missing argument"))),
                    }
                }
                format!("{}({})", func.cname, vals.join(", "))
            }
            Expr::Bin(op, ty, a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                match (op, ty) {
                    (Op::FloorDiv, _) => format!("rt_floordiv({a}, {b})"),
                    (Op::Pow, _) => format!("rt_ipow({a}, {b})"),
                    (op, Ty::Str) => format!("(strcmp({a}, {b}) {} 0)", op.c()),
                    (op, _) => format!("({a} {} {b})", op.c()),
                }
            }
            Expr::Concat(a, b) => format!("rt_cat({}, {})", self.expr(a), self.expr(b)),
            Expr::Neg(a) => format!("(-{})", self.expr(a)),
            Expr::Not(a) => format!("(!{})", self.expr(a)),
            Expr::Cast(to, a) => format!("(({})({}))", to.c(), self.expr(a)),
            Expr::Builtin(f, ty, args) => {
                let name = match (f, ty) {
                    (Builtin::Abs, Ty::F64) => "fabs",
                    (Builtin::Abs, _) => "rt_abs",
                    (Builtin::Min, _) => "rt_min",
                    (Builtin::Max, _) => "rt_max",
                    (Builtin::Sqrt, _) => "sqrt",
                    (Builtin::Floor, _) => "floor",
                    (Builtin::Ceil, _) => "ceil",
                };
                let args: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
                format!("{name}({})", args.join(", "))
            }
            Expr::Len(a) => format!("rt_len({})", self.expr(a)),
            Expr::StrOf(a) => format!("rt_str_i64({})", self.expr(a)),
            Expr::Interp(parts) => {
                let (fmt, args) = self.format(parts);
                format!("rt_fmt(\"{fmt}\"{args})")
            }
            Expr::IfElse(c, a, b) => format!("({} ? {} : {})", self.expr(c), self.expr(a), self.expr(b)),
            Expr::Chain(lo, op1, mid, op2, hi) => {
                let mid = self.expr(mid);
                format!("(({} {} {mid}) && ({mid} {} {}))", self.expr(lo), op1.c(), op2.c(), self.expr(hi))
            }
        }
    }

    /// A printf format and its arguments (", a, b").
    fn format(&self, parts: &[Part]) -> (String, String) {
        let mut fmt = String::new();
        let mut args = String::new();
        for part in parts {
            match part {
                Part::Text(t) => fmt.push_str(&t.replace('%', "%%")),
                Part::Val(Ty::I64, e) => {
                    fmt.push_str("%lld");
                    let _ = write!(args, ", (long long)({})", self.expr(e));
                }
                Part::Val(Ty::Bool, e) => {
                    fmt.push_str("%s");
                    let _ = write!(args, ", ({} ? \"true\" : \"false\")", self.expr(e));
                }
                Part::Val(_, e) => {
                    fmt.push_str("%s");
                    let _ = write!(args, ", {}", self.expr(e));
                }
            }
        }
        (fmt, args)
    }

    fn block(&self, stmts: &[Stmt], indent: usize, out: &mut String) {
        for s in stmts {
            self.stmt(s, indent, out);
        }
    }

    fn stmt(&self, s: &Stmt, indent: usize, out: &mut String) {
        let pad = "    ".repeat(indent);
        match s {
            Stmt::Let { var, init, .. } => {
                let v = &self.vars[*var];
                let ty = v.ty.c();
                let sep = if ty.ends_with('*') { "" } else { " " };
                let _ = writeln!(out, "{pad}{ty}{sep}{} = {};", v.cname, self.expr(init));
            }
            Stmt::Assign { var, op, value } => {
                let v = &self.vars[*var];
                if v.ty == Ty::Str && *op == AssignOp::Add {
                    let _ = writeln!(out, "{pad}{0} = rt_cat({0}, {1});", v.cname, self.expr(value));
                } else {
                    let _ = writeln!(out, "{pad}{} {} {};", v.cname, op.text(), self.expr(value));
                }
            }
            Stmt::If { arms, els, .. } => {
                for (i, (c, b)) in arms.iter().enumerate() {
                    if i == 0 {
                        let _ = writeln!(out, "{pad}if ({}) {{", self.expr(c));
                    } else {
                        let _ = writeln!(out, "{pad}}} else if ({}) {{", self.expr(c));
                    }
                    self.block(b, indent + 1, out);
                }
                if let Some(b) = els {
                    let _ = writeln!(out, "{pad}}} else {{");
                    self.block(b, indent + 1, out);
                }
                let _ = writeln!(out, "{pad}}}");
            }
            Stmt::While { cond, body } => {
                let _ = writeln!(out, "{pad}while ({}) {{", self.expr(cond));
                self.block(body, indent + 1, out);
                let _ = writeln!(out, "{pad}}}");
            }
            Stmt::Loop { body } => {
                let _ = writeln!(out, "{pad}for (;;) {{");
                self.block(body, indent + 1, out);
                let _ = writeln!(out, "{pad}}}");
            }
            Stmt::For { var, lo, hi, style, body } => {
                let i = &self.vars[*var].cname;
                // The bound is evaluated once, as in Simple.
                let cmp = if *style == ForStyle::DotsEq { "<=" } else { "<" };
                let _ = writeln!(
                    out,
                    "{pad}for (int64_t {i} = {}, {i}_end = {}; {i} {cmp} {i}_end; {i}++) {{",
                    self.expr(lo),
                    self.expr(hi)
                );
                self.block(body, indent + 1, out);
                let _ = writeln!(out, "{pad}}}");
            }
            Stmt::Break => {
                let _ = writeln!(out, "{pad}break;");
            }
            Stmt::Continue => {
                let _ = writeln!(out, "{pad}continue;");
            }
            Stmt::Return(e) => {
                let _ = writeln!(out, "{pad}return {};", self.expr(e));
            }
            Stmt::Print(parts) => {
                let (fmt, args) = self.format(parts);
                let _ = writeln!(out, "{pad}printf(\"{fmt}\\n\"{args});");
            }
            Stmt::Comment(c) => {
                let _ = writeln!(out, "{pad}/* {c} */");
            }
            Stmt::Edit { value, .. } => {
                let _ = writeln!(out, "{}", edit_line(Lang::C, *value));
            }
        }
    }
}

const RT_H: &str = r#"/* Helpers for the generated C peer: Simple's builtins and strings. */
#ifndef RT_H
#define RT_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

const char *rt_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *rt_cat(const char *a, const char *b);
const char *rt_str_i64(int64_t x);
int64_t rt_len(const char *s);

static inline int64_t rt_abs(int64_t x) { return x < 0 ? -x : x; }
static inline int64_t rt_min(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t rt_max(int64_t a, int64_t b) { return a > b ? a : b; }

/* Simple's `//`: rounds toward negative infinity. */
static inline int64_t rt_floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    if (a % b != 0 && ((a < 0) != (b < 0))) q--;
    return q;
}

/* Simple's `**` on small non-negative exponents. */
static inline int64_t rt_ipow(int64_t base, int64_t e) {
    int64_t r = 1;
    while (e-- > 0) r *= base;
    return r;
}

#endif
"#;

const RT_C: &str = r#"/* Strings for the generated C peer: never freed, like a short-lived program's. */
#include <stdarg.h>
#include <stdlib.h>

#include "rt.h"

const char *rt_fmt(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

const char *rt_cat(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

const char *rt_str_i64(int64_t x) { return rt_fmt("%lld", (long long)x); }

/* Unicode scalar values, as Simple's s.len(). */
int64_t rt_len(const char *s) {
    int64_t n = 0;
    for (; *s; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    }
    return n;
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn render_all(p: &Project) -> Vec<String> {
        let mut rng = Rng::new(p.config.seed.wrapping_add(7));
        let mut out = Vec::new();
        for m in 0..=p.main_module {
            let imports = p.imports_of(m, &mut rng);
            if m == p.main_module {
                out.push(p.render_main_simple(&imports));
                out.push(p.render_main_c(&imports));
            } else {
                out.push(p.render_module_simple(m, &imports));
                out.push(p.render_module_c(m, &imports));
                out.push(p.render_header_c(m));
            }
        }
        out.push(p.render_makefile());
        out
    }

    #[test]
    fn output_is_deterministic_per_seed() {
        let cfg = Config { lines: 3000, files: 8, seed: 5 };
        let a = render_all(&generate(&cfg));
        let b = render_all(&generate(&cfg));
        assert_eq!(a, b);
        let c = render_all(&generate(&Config { seed: 6, ..cfg }));
        assert_ne!(a, c);
    }

    #[test]
    fn size_is_about_the_requested_lines() {
        for (lines, files) in [(2000, 10), (20_000, 50)] {
            let p = generate(&Config { lines, files, seed: 1 });
            let texts = render_all(&p);
            // Simple files are at even positions up to the main file, each module a (spl, c, h) triple.
            let mut total = 0;
            for m in 0..p.main_module {
                total += texts[3 * m].lines().count();
            }
            total += texts[3 * p.main_module].lines().count();
            assert!(total > lines * 8 / 10 && total < lines * 13 / 10, "{total} lines for {lines}");
        }
    }

    #[test]
    fn edit_line_is_rewritten_once() {
        let p = generate(&Config { lines: 1000, files: 4, seed: 3 });
        let texts = render_all(&p);
        let spl = &texts[3 * p.edit_module];
        let c = &texts[3 * p.edit_module + 1];
        assert_eq!(read_edit_value(spl, Lang::Simple), Some(0));
        assert_eq!(read_edit_value(c, Lang::C), Some(0));
        let spl2 = rewrite_edit_line(spl, Lang::Simple, 1234).unwrap();
        assert_eq!(read_edit_value(&spl2, Lang::Simple), Some(1234));
        assert!(spl2.contains("    let k = 1234  # EDIT\n"));
        assert_eq!(spl2.lines().count(), spl.lines().count());
        // Only that line changed.
        let changed = spl.lines().zip(spl2.lines()).filter(|(a, b)| a != b).count();
        assert_eq!(changed, 1);
        let c2 = rewrite_edit_line(c, Lang::C, -7).unwrap();
        assert!(c2.contains("    int64_t k = -7L;  /* EDIT */\n"));
        assert_eq!(read_edit_value(&c2, Lang::C), Some(-7));
        assert!(rewrite_edit_line("fn f():\n    return 1\n", Lang::Simple, 1).is_err());
        assert!(rewrite_edit_line("a  # EDIT\nb  # EDIT\n", Lang::Simple, 1).is_err());
        // Every other file has no edit line.
        let marked = texts.iter().filter(|t| t.contains(EDIT_MARK_SIMPLE) || t.contains(EDIT_MARK_C)).count();
        assert_eq!(marked, 2);
    }

    #[test]
    fn main_prints_edit_first_and_imports_every_module() {
        let p = generate(&Config { lines: 2000, files: 6, seed: 9 });
        let texts = render_all(&p);
        let main = &texts[3 * p.main_module];
        let first_print = main.lines().find(|l| l.trim_start().starts_with("println(")).unwrap();
        assert_eq!(first_print.trim(), "println(\"edit: {edit_target()}\")");
        for m in 0..p.main_module {
            assert!(main.contains(&format!("run_m{m:02}(")), "main does not run m{m:02}");
        }
    }

    #[test]
    fn simple_precedence_parenthesises() {
        let p = generate(&Config { lines: 200, files: 1, seed: 1 });
        let sp = SimplePrinter { p: &p, module: 0, vars: &[], imports: None };
        let i = |v| Box::new(Expr::Int(v));
        let e = Expr::Bin(Op::Mul, Ty::I64, Box::new(Expr::Bin(Op::Add, Ty::I64, i(1), i(2))), i(3));
        assert_eq!(sp.expr(&e, 0), "(1 + 2) * 3");
        let e = Expr::Bin(Op::Add, Ty::I64, i(1), Box::new(Expr::Bin(Op::Mul, Ty::I64, i(2), i(3))));
        assert_eq!(sp.expr(&e, 0), "1 + 2 * 3");
        let e = Expr::Bin(Op::Sub, Ty::I64, i(1), Box::new(Expr::Bin(Op::Sub, Ty::I64, i(2), i(3))));
        assert_eq!(sp.expr(&e, 0), "1 - (2 - 3)");
        let e = Expr::Bin(Op::Eq, Ty::I64, Box::new(Expr::Bin(Op::BitAnd, Ty::I64, i(1), i(2))), i(0));
        // Simple's `&` binds tighter than `==` (unlike C's).
        assert_eq!(sp.expr(&e, 0), "1 & 2 == 0");
        assert_eq!(CPrinter { p: &p, vars: &[] }.expr(&e), "((1L & 2L) == 0L)");
        let e = Expr::Bin(Op::Pow, Ty::I64, Box::new(Expr::Bin(Op::Rem, Ty::I64, i(5), i(3))), i(2));
        assert_eq!(sp.expr(&e, 0), "(5 % 3) ** 2");
        let e = Expr::Cast(Ty::F64, Box::new(Expr::Bin(Op::Add, Ty::I64, i(1), i(2))));
        assert_eq!(sp.expr(&e, 0), "(1 + 2) as f64");
        assert_eq!(int_simple(1_000_003), "1_000_003");
        assert_eq!(int_simple(99_999), "99999");
    }
}
