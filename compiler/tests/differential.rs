//! Differential test of the incremental database (DESIGN.md invariant 4: the
//! SMF after any sequence of edits is byte-identical to a from-scratch build).
//!
//! A deterministic PRNG generates Tier 1 programs as structured data (items,
//! functions, statements, expressions), renders them to text and edits the
//! structure: most edits keep the program valid (bodies, signatures changed
//! consistently with callers, renames, moves, comments, blank lines, layout),
//! some break it on purpose (syntax and type errors, missing or duplicate
//! names) and a later step restores the program. After every edit the
//! long-lived database must agree with a fresh one on `link_smf` (the same
//! bytes or the same error) and on `diagnostics`. On alternate steps the
//! long-lived database first runs `parallel::codegen`, which generates
//! code on worker threads with clones of the database; on some steps another
//! text is set and replaced before any query runs, and one test also switches
//! `Options::no_opt` between steps.
//!
//! With modules, the program is an entry file and 0 to 4 module files (a
//! number that changes between steps, so files are added to and removed from
//! the project; a path that comes back gets a new `SourceFile` or its old
//! one), importing each other with `from m import ...` or `import m`.
//!
//! The on-disk code cache (`persist`) is simulated: the entries the driver
//! would store after each successful build are kept across a sequence, and a
//! new database with `CodeCache` set to them (a later process) must build
//! what a fresh one builds; every entry it reuses must equal what its
//! function compiles to now, and every key must equal a clean build's. In
//! some sequences the long-lived database also loads the cache and stores
//! what it compiled, as `simple watch` does.
//!
//! A failure prints the seed, the step, the edits so far and the shortest
//! suffix of the sequence's texts that reproduces it in a new database.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use salsa::Setter;
use simple_compiler::db::{self, BuildError};
use simple_compiler::diagnostics::{Diagnostic, Level};
use simple_compiler::persist::{self, CachedFn, CachedObject, CodeCache, FnKey};
use simple_compiler::{Database, FnId, Options, Project, SourceFile, parallel};

const PATH: &str = "diff.spl";

// ---------------------------------------------------------------------------
// Random numbers

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut rng = Rng((seed ^ 0x5DEE_CE66_D1B5_4A32).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        for _ in 0..4 {
            rng.next();
        }
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        assert!(n > 0);
        ((self.next() >> 11) % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        (self.next() >> 11) % 100 < percent
    }

    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())].clone()
    }
}

// ---------------------------------------------------------------------------
// The program model

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    I64,
    F64,
    Bool,
    Str,
}

const TYS: [Ty; 4] = [Ty::I64, Ty::F64, Ty::Bool, Ty::Str];

impl Ty {
    fn spell(self, alias: bool) -> &'static str {
        match (self, alias) {
            (Ty::I64, false) => "i64",
            (Ty::I64, true) => "int",
            (Ty::F64, false) => "f64",
            (Ty::F64, true) => "float",
            (Ty::Bool, _) => "bool",
            (Ty::Str, _) => "str",
        }
    }
}

#[derive(Clone, Debug)]
struct Arg {
    name: Option<String>,
    expr: Expr,
}

#[derive(Clone, Debug)]
enum Expr {
    /// A literal of the type, as written.
    Lit(Ty, String),
    Var(String),
    /// `-e` on numbers, `not e` on `bool`.
    Neg(Ty, Box<Expr>),
    /// A binary operator; the type is the operands'.
    Bin(Ty, Box<Expr>, &'static str, Box<Expr>),
    /// `a < b <= c`.
    Chain(Vec<Expr>, Vec<&'static str>),
    Call(String, Vec<Arg>),
    Cast(Box<Expr>, Ty),
    Len(Box<Expr>),
    /// `"v={a} {b}"`.
    Interp(Vec<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
}

const CMP_OPS: [&str; 6] = ["<", "<=", ">", ">=", "==", "!="];
const EQ_OPS: [&str; 2] = ["==", "!="];
const LOGIC_OPS: [&str; 4] = ["and", "or", "&&", "||"];
const INT_OPS: [&str; 6] = ["+", "-", "*", "&", "|", "^"];
const DIV_OPS: [&str; 3] = ["//", "%", "/"];
const FLOAT_OPS: [&str; 4] = ["+", "-", "*", "/"];

impl Expr {
    fn lit(ty: Ty, text: &str) -> Expr {
        Expr::Lit(ty, text.to_string())
    }

    fn call(name: &str, args: Vec<Expr>) -> Expr {
        Expr::Call(name.to_string(), args.into_iter().map(|expr| Arg { name: None, expr }).collect())
    }

    fn bin(ty: Ty, a: Expr, op: &'static str, b: Expr) -> Expr {
        Expr::Bin(ty, Box::new(a), op, Box::new(b))
    }

    fn render(&self) -> String {
        match self {
            Expr::Lit(_, s) | Expr::Var(s) => s.clone(),
            Expr::Neg(Ty::Bool, e) => format!("not {}", e.atom()),
            Expr::Neg(_, e) => format!("-{}", e.atom()),
            Expr::Bin(_, a, op, b) => format!("{} {op} {}", a.atom(), b.atom()),
            Expr::Chain(xs, ops) => {
                let mut s = xs[0].atom();
                for (op, x) in ops.iter().zip(&xs[1..]) {
                    let _ = write!(s, " {op} {}", x.atom());
                }
                s
            }
            Expr::Call(name, args) => {
                let args: Vec<String> = args
                    .iter()
                    .map(|a| match &a.name {
                        Some(n) => format!("{n}: {}", a.expr.render()),
                        None => a.expr.render(),
                    })
                    .collect();
                format!("{name}({})", args.join(", "))
            }
            Expr::Cast(e, ty) => format!("{} as {}", e.atom(), ty.spell(false)),
            Expr::Len(e) => format!("{}.len()", e.atom()),
            Expr::Interp(parts) => {
                let mut s = String::from("\"");
                for (i, p) in parts.iter().enumerate() {
                    let _ = write!(s, "{}{{{}}}", ["v=", " ", "", "/"][i % 4], p.render());
                }
                s.push('"');
                s
            }
            Expr::If(c, a, b) => format!("if {}: {} else: {}", c.render(), a.render(), b.render()),
        }
    }

    /// The expression, parenthesised unless it is atomic.
    fn atom(&self) -> String {
        match self {
            Expr::Lit(..) | Expr::Var(_) | Expr::Call(..) | Expr::Len(_) | Expr::Interp(_) => self.render(),
            _ => format!("({})", self.render()),
        }
    }

    /// As the condition of a statement header.
    fn head(&self) -> String {
        match self {
            Expr::If(..) => self.atom(),
            _ => self.render(),
        }
    }
}

/// Visits every expression under `e`, children first.
fn walk_expr(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    match e {
        Expr::Lit(..) | Expr::Var(_) => {}
        Expr::Neg(_, a) | Expr::Cast(a, _) | Expr::Len(a) => walk_expr(a, f),
        Expr::Bin(_, a, _, b) => {
            walk_expr(a, f);
            walk_expr(b, f);
        }
        Expr::Chain(xs, _) | Expr::Interp(xs) => xs.iter_mut().for_each(|x| walk_expr(x, f)),
        Expr::Call(_, args) => args.iter_mut().for_each(|a| walk_expr(&mut a.expr, f)),
        Expr::If(c, a, b) => {
            walk_expr(c, f);
            walk_expr(a, f);
            walk_expr(b, f);
        }
    }
    f(e);
}

#[derive(Clone, Debug)]
enum S {
    Let {
        name: String,
        kw: &'static str,
        ty: Ty,
        ann: Option<bool>,
        expr: Expr,
    },
    Assign {
        name: String,
        op: &'static str,
        expr: Expr,
    },
    Expr(Expr),
    If {
        arms: Vec<(Expr, Vec<Stmt>)>,
        els: Option<Vec<Stmt>>,
        inline: bool,
    },
    While {
        cond: Expr,
        body: Vec<Stmt>,
    },
    /// `for var in ...`: 0 `range(a)`, 1 `range(a, b)`, 2 `a..b`, 3 `a..=b`.
    For {
        var: String,
        kind: u8,
        bounds: Vec<Expr>,
        body: Vec<Stmt>,
    },
    Return(Option<Expr>),
    SetMain(Expr),
    /// A comment line: its own indentation and text.
    Comment(String, String),
    /// A blank line, possibly holding spaces or tabs.
    Blank(String),
    /// Verbatim text, shifted by some columns from the block's indentation
    /// when the shift is not zero (syntax errors).
    Raw(String, i32),
}

#[derive(Clone, Debug)]
struct Stmt {
    s: S,
    /// A trailing comment on the statement's first line.
    note: Option<String>,
}

fn is_mut(kw: &str) -> bool {
    kw == "let mut" || kw == "var"
}

impl Stmt {
    fn new(s: S) -> Stmt {
        Stmt { s, note: None }
    }

    fn is_trivia(&self) -> bool {
        matches!(self.s, S::Comment(..) | S::Blank(_))
    }

    /// A one-line statement that may follow `if c:` on the same line.
    fn is_simple(&self) -> bool {
        matches!(self.s, S::Let { .. } | S::Assign { .. } | S::Expr(_) | S::Return(_))
    }

    fn line(&self) -> String {
        match &self.s {
            S::Let { name, kw, ty, ann, expr } => {
                let ann = ann.map(|alias| format!(": {}", ty.spell(alias))).unwrap_or_default();
                format!("{kw} {name}{ann} = {}", expr.render())
            }
            S::Assign { name, op, expr } => format!("{name} {op} {}", expr.render()),
            S::Expr(e) => e.render(),
            S::Return(None) => "return".into(),
            S::Return(Some(e)) => format!("return {}", e.render()),
            S::SetMain(e) => format!("main = {}", e.render()),
            _ => unreachable!("not a simple statement"),
        }
    }

    fn exprs_mut(&mut self) -> Vec<&mut Expr> {
        match &mut self.s {
            S::Let { expr, .. } | S::Assign { expr, .. } | S::Expr(expr) | S::SetMain(expr) => vec![expr],
            S::Return(e) => e.iter_mut().collect(),
            S::If { arms, .. } => arms.iter_mut().map(|(c, _)| c).collect(),
            S::While { cond, .. } => vec![cond],
            S::For { bounds, .. } => bounds.iter_mut().collect(),
            S::Comment(..) | S::Blank(_) | S::Raw(..) => vec![],
        }
    }

    fn blocks_mut(&mut self) -> Vec<&mut Vec<Stmt>> {
        match &mut self.s {
            S::If { arms, els, .. } => arms.iter_mut().map(|(_, b)| b).chain(els.iter_mut()).collect(),
            S::While { body, .. } | S::For { body, .. } => vec![body],
            _ => vec![],
        }
    }
}

/// Visits every statement of a block, outer ones first.
fn walk_stmts(stmts: &mut [Stmt], f: &mut dyn FnMut(&mut Stmt)) {
    for s in stmts {
        f(s);
        for b in s.blocks_mut() {
            walk_stmts(b, f);
        }
    }
}

/// Visits every block (statement list) under and including `stmts`.
fn walk_blocks(stmts: &mut Vec<Stmt>, f: &mut dyn FnMut(&mut Vec<Stmt>)) {
    f(stmts);
    for s in stmts.iter_mut() {
        for b in s.blocks_mut() {
            walk_blocks(b, f);
        }
    }
}

fn walk_block_exprs(stmts: &mut [Stmt], f: &mut dyn FnMut(&mut Expr)) {
    walk_stmts(stmts, &mut |s| {
        for e in s.exprs_mut() {
            walk_expr(e, f);
        }
    });
}

/// Names read or assigned by the statements.
fn names_used(stmts: &[Stmt]) -> HashSet<String> {
    let mut stmts = stmts.to_vec();
    let mut names = HashSet::new();
    walk_stmts(&mut stmts, &mut |s| {
        if let S::Assign { name, .. } = &s.s {
            names.insert(name.clone());
        }
    });
    walk_block_exprs(&mut stmts, &mut |e| {
        if let Expr::Var(n) = e {
            names.insert(n.clone());
        }
    });
    names
}

fn render_block(out: &mut String, stmts: &[Stmt], unit: &str, level: usize) {
    for s in stmts {
        render_stmt(out, s, unit, level);
    }
}

fn columns(indent: &str) -> i32 {
    indent.chars().fold(0, |col, c| if c == '\t' { (col / 4 + 1) * 4 } else { col + 1 })
}

fn render_stmt(out: &mut String, stmt: &Stmt, unit: &str, level: usize) {
    let ind = unit.repeat(level);
    let note = stmt.note.as_ref().map(|n| format!("  # {n}")).unwrap_or_default();
    match &stmt.s {
        S::Comment(prefix, text) => {
            let _ = writeln!(out, "{prefix}# {text}");
        }
        S::Blank(ws) => {
            let _ = writeln!(out, "{ws}");
        }
        S::Raw(text, 0) => {
            let _ = writeln!(out, "{ind}{text}");
        }
        S::Raw(text, shift) => {
            let cols = (columns(&ind) + shift).max(0) as usize;
            let _ = writeln!(out, "{}{text}", " ".repeat(cols));
        }
        S::If { arms, els, inline } => {
            let body = &arms[0].1;
            if *inline && arms.len() == 1 && els.is_none() && body.len() == 1 && body[0].is_simple() {
                let inner_note = body[0].note.as_ref().map(|n| format!("  # {n}")).unwrap_or_default();
                let note = if note.is_empty() { inner_note } else { note };
                let _ = writeln!(out, "{ind}if {}: {}{note}", arms[0].0.head(), body[0].line());
                return;
            }
            for (k, (cond, body)) in arms.iter().enumerate() {
                let kw = if k == 0 { "if" } else { "elif" };
                let note = if k == 0 { note.as_str() } else { "" };
                let _ = writeln!(out, "{ind}{kw} {}:{note}", cond.head());
                render_block(out, body, unit, level + 1);
            }
            if let Some(body) = els {
                let _ = writeln!(out, "{ind}else:");
                render_block(out, body, unit, level + 1);
            }
        }
        S::While { cond, body } => {
            let _ = writeln!(out, "{ind}while {}:{note}", cond.head());
            render_block(out, body, unit, level + 1);
        }
        S::For { var, kind, bounds, body } => {
            let iter = match kind {
                0 => format!("range({})", bounds[0].render()),
                1 => format!("range({}, {})", bounds[0].render(), bounds[1].render()),
                2 => format!("{}..{}", bounds[0].atom(), bounds[1].atom()),
                _ => format!("{}..={}", bounds[0].atom(), bounds[1].atom()),
            };
            let _ = writeln!(out, "{ind}for {var} in {iter}:{note}");
            render_block(out, body, unit, level + 1);
        }
        _ => {
            let _ = writeln!(out, "{ind}{}{note}", stmt.line());
        }
    }
}

#[derive(Clone, Debug)]
struct Param {
    name: String,
    ty: Ty,
    alias: bool,
    default: Option<Expr>,
}

#[derive(Clone, Debug)]
struct Func {
    name: String,
    params: Vec<Param>,
    ret: Option<Ty>,
    ret_alias: bool,
    /// Always ends (before any trailing trivia) in a `Return`.
    body: Vec<Stmt>,
    /// 0: `return e`; 1: the last expression is the value; 2: `fn f() -> T: e`
    /// when the body is only that expression.
    style: u8,
    indent: &'static str,
}

const INDENTS: [&str; 5] = ["    ", "  ", "\t", "        ", "   "];

impl Func {
    fn sig(&self) -> Sig {
        Sig {
            name: self.name.clone(),
            params: self.params.iter().map(|p| (p.name.clone(), p.ty, p.default.is_some())).collect(),
            ret: self.ret,
        }
    }

    fn return_index(&self) -> usize {
        self.body.iter().rposition(|s| matches!(s.s, S::Return(_))).unwrap_or(self.body.len())
    }

    /// Renders the function; `public` prefixes it with `pub`.
    fn render(&self, out: &mut String, public: bool) {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| {
                let default = p.default.as_ref().map(|d| format!(" = {}", d.render())).unwrap_or_default();
                format!("{}: {}{default}", p.name, p.ty.spell(p.alias))
            })
            .collect();
        let ret = self.ret.map(|t| format!(" -> {}", t.spell(self.ret_alias))).unwrap_or_default();
        let vis = if public { "pub " } else { "" };
        let header = format!("{vis}fn {}({}){ret}:", self.name, params.join(", "));
        if self.style == 2
            && self.body.len() == 1
            && self.body[0].note.is_none()
            && let S::Return(Some(e)) = &self.body[0].s
        {
            let _ = writeln!(out, "{header} {}", e.render());
            return;
        }
        let _ = writeln!(out, "{header}");
        let last = self.body.iter().rposition(|s| matches!(s.s, S::Return(_)));
        let real = self.body.iter().filter(|s| !s.is_trivia()).count();
        for (i, s) in self.body.iter().enumerate() {
            if self.style >= 1 && Some(i) == last {
                match &s.s {
                    S::Return(Some(e)) => {
                        let implicit = Stmt { s: S::Expr(e.clone()), note: s.note.clone() };
                        render_stmt(out, &implicit, self.indent, 1);
                        continue;
                    }
                    S::Return(None) if real > 1 => continue,
                    _ => {}
                }
            }
            render_stmt(out, s, self.indent, 1);
        }
    }
}

#[derive(Clone, Debug)]
struct Const {
    name: String,
    ty: Ty,
    expr: Expr,
}

#[derive(Clone, Debug)]
enum Item {
    Fn(Func),
    Const(Const),
    /// A top-level statement of a script.
    Top(Stmt),
    /// Verbatim lines: blank lines, comments, or garbage.
    Trivia(String),
}

#[derive(Clone, Debug)]
struct Program {
    items: Vec<Item>,
    /// Counter for fresh names.
    next: u32,
    /// Whether generated code may `return` from inside an `if`.
    early_returns: bool,
}

/// Writes every identifier of `text` that `modules` maps to a module `J`,
/// unless it follows a `.` (not `..`), as `mJ.name`. The generated names (`f12`,
/// `K3`) occur in no literal or comment, so plain tokens suffice.
fn qualify_names(text: &str, modules: &BTreeMap<&str, usize>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_alphanumeric() || c == '_' {
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            let word = &rest[..end];
            let member = out.ends_with('.') && !out.ends_with("..");
            // A function may be called `f64`: the type stays as it is.
            let type_name = word == "f64" && !rest[end..].starts_with('(');
            if !member
                && !type_name
                && let Some(m) = modules.get(word)
            {
                let _ = write!(out, "m{m}.");
            }
            out.push_str(word);
            rest = &rest[end..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// One item; `blank_before` separates a function from what precedes it,
/// `public` makes functions and constants `pub`.
fn render_item(out: &mut String, item: &Item, blank_before: bool, public: bool) {
    match item {
        Item::Fn(f) => {
            if blank_before {
                out.push('\n');
            }
            f.render(out, public);
        }
        Item::Const(c) => {
            let vis = if public { "pub " } else { "" };
            let _ = writeln!(out, "{vis}const {}: {} = {}", c.name, c.ty.spell(false), c.expr.render());
        }
        Item::Top(s) => render_stmt(out, s, "    ", 0),
        Item::Trivia(t) => out.push_str(t),
    }
}

#[derive(Clone, Debug)]
struct Sig {
    name: String,
    /// Name, type, has a default.
    params: Vec<(String, Ty, bool)>,
    ret: Option<Ty>,
}

/// The files of a program: (path, text), the entry first.
type Files = Vec<(String, String)>;

fn module_path(j: usize) -> String {
    format!("m{j}.spl")
}

/// The module (1..=k) holding the function `name` when there are `k`:
/// renaming a function, or changing `k`, moves it to another file.
fn home(name: &str, k: usize) -> usize {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    1 + (hash % k as u64) as usize
}

impl Program {
    fn render(&self) -> String {
        let mut out = String::new();
        for (i, item) in self.items.iter().enumerate() {
            render_item(&mut out, item, i > 0, false);
        }
        out
    }

    /// The program as an entry file and `k` modules `m1.spl` … `mK.spl`
    /// (the entry alone, as [`Program::render`], when `k` is 0). Every
    /// constant is in `m1` (initialisers may use only their own file's
    /// constants), each function other than `main` in module
    /// [`home`]`(name, k)`, `fn main` and top-level statements in the entry
    /// (only the entry's run), trivia in the file of the next function or
    /// constant. Module items are `pub`; each file imports every name of
    /// every other module, the entry those of all modules: with
    /// `from mJ import a, b`, or, if bit `5 * file + J` of `qualified` is set,
    /// with `import mJ` and every use written `mJ.a`.
    fn render_files(&self, k: usize, qualified: u32) -> Files {
        if k == 0 {
            return vec![(PATH.to_string(), self.render())];
        }
        let mut file_of = vec![0; self.items.len()];
        let mut next = 0;
        for (i, item) in self.items.iter().enumerate().rev() {
            file_of[i] = match item {
                Item::Fn(f) if f.name == "main" => 0,
                Item::Fn(f) => home(&f.name, k),
                Item::Const(_) => 1,
                Item::Top(_) => 0,
                Item::Trivia(_) => next,
            };
            next = file_of[i];
        }
        let mut names: Vec<Vec<&str>> = vec![Vec::new(); k + 1];
        for (item, &j) in self.items.iter().zip(&file_of) {
            let name = match item {
                Item::Fn(f) if j > 0 => &f.name,
                Item::Const(c) => &c.name,
                _ => continue,
            };
            if !names[j].contains(&name.as_str()) {
                names[j].push(name);
            }
        }
        let mut bodies = vec![String::new(); k + 1];
        for (item, &j) in self.items.iter().zip(&file_of) {
            let text = &mut bodies[j];
            render_item(text, item, !text.is_empty(), j > 0);
        }
        let mut texts = Vec::new();
        for (j, body) in bodies.iter().enumerate() {
            let names_of_file = &names[j];
            let mut text = String::new();
            let mut qualify = BTreeMap::new();
            for (m, names) in names.iter().enumerate().skip(1) {
                if m == j || names.is_empty() {
                    continue;
                }
                if qualified & (1 << (5 * j + m)) != 0 {
                    let _ = writeln!(text, "import m{m}");
                    // Names of this file stay as they are (duplicates are errors anyway).
                    qualify.extend(names.iter().filter(|n| !names_of_file.contains(n)).map(|&n| (n, m)));
                } else {
                    let _ = writeln!(text, "from m{m} import {}", names.join(", "));
                }
            }
            let body = if qualify.is_empty() { body.clone() } else { qualify_names(body, &qualify) };
            text.push_str(&body);
            texts.push(text);
        }
        let paths = std::iter::once(PATH.to_string()).chain((1..=k).map(module_path));
        paths.zip(texts).collect()
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    fn has_main_fn(&self) -> bool {
        self.items.iter().any(|i| matches!(i, Item::Fn(f) if f.name == "main"))
    }

    /// Item indices of functions, `main` included or not.
    fn fns(&self, with_main: bool) -> Vec<usize> {
        (0..self.items.len())
            .filter(|&i| matches!(&self.items[i], Item::Fn(f) if with_main || f.name != "main"))
            .collect()
    }

    fn func(&mut self, i: usize) -> &mut Func {
        match &mut self.items[i] {
            Item::Fn(f) => f,
            _ => unreachable!("not a function"),
        }
    }

    fn sigs(&self) -> Vec<Sig> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Fn(f) if f.name != "main" => Some(f.sig()),
                _ => None,
            })
            .collect()
    }

    fn consts(&self) -> Vec<(String, Ty)> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Const(c) => Some((c.name.clone(), c.ty)),
                _ => None,
            })
            .collect()
    }

    fn gen_with(&self) -> Gen {
        Gen { sigs: self.sigs(), consts: self.consts(), next: self.next, early_returns: self.early_returns }
    }

    fn walk_item_exprs(item: &mut Item, f: &mut dyn FnMut(&mut Expr)) {
        match item {
            Item::Fn(func) => {
                for p in &mut func.params {
                    if let Some(d) = &mut p.default {
                        walk_expr(d, f);
                    }
                }
                walk_block_exprs(&mut func.body, f);
            }
            Item::Const(c) => walk_expr(&mut c.expr, f),
            Item::Top(s) => walk_block_exprs(std::slice::from_mut(s), f),
            Item::Trivia(_) => {}
        }
    }

    fn walk_exprs(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        for item in &mut self.items {
            Program::walk_item_exprs(item, f);
        }
    }

    /// Calls of `name` outside item `except`.
    fn calls_of(&self, name: &str, except: Option<usize>) -> usize {
        let mut items = self.items.clone();
        let mut n = 0;
        for (i, item) in items.iter_mut().enumerate() {
            if Some(i) != except {
                Program::walk_item_exprs(item, &mut |e| {
                    if matches!(e, Expr::Call(c, _) if c == name) {
                        n += 1;
                    }
                });
            }
        }
        n
    }

    fn vars_used(&self) -> HashSet<String> {
        let mut names = HashSet::new();
        self.clone().walk_exprs(&mut |e| {
            if let Expr::Var(n) = e {
                names.insert(n.clone());
            }
        });
        names
    }

    /// Changes the `k`-th expression (in walk order) that `pred` selects;
    /// false if there is none.
    fn change_nth(
        &mut self,
        rng: &mut Rng,
        pred: &dyn Fn(&Expr) -> bool,
        change: &mut dyn FnMut(&mut Rng, &mut Expr),
    ) -> bool {
        let mut n = 0;
        self.walk_exprs(&mut |e| n += pred(e) as usize);
        if n == 0 {
            return false;
        }
        let k = rng.below(n);
        let mut i = 0;
        self.walk_exprs(&mut |e| {
            if pred(e) {
                if i == k {
                    change(rng, e);
                }
                i += 1;
            }
        });
        true
    }

    /// The scope before top-level item `k` of a script.
    fn top_scope(&self, k: usize) -> Scope {
        let mut vars = Vec::new();
        for item in &self.items[..k] {
            if let Item::Top(Stmt { s: S::Let { name, kw, ty, .. }, .. }) = item {
                vars.push((name.clone(), *ty, is_mut(kw)));
            }
        }
        Scope { vars, ret: None, can_return: false, konst: false }
    }
}

/// The scope before statement `pos` of a function's body.
fn fn_scope(f: &Func, pos: usize) -> Scope {
    let mut vars: Vec<(String, Ty, bool)> = f.params.iter().map(|p| (p.name.clone(), p.ty, false)).collect();
    for s in &f.body[..pos] {
        if let S::Let { name, kw, ty, .. } = &s.s {
            vars.push((name.clone(), *ty, is_mut(kw)));
        }
    }
    Scope { vars, ret: f.ret, can_return: f.name != "main", konst: false }
}

// ---------------------------------------------------------------------------
// Generation

#[derive(Clone)]
struct Scope {
    /// Name, type, mutable.
    vars: Vec<(String, Ty, bool)>,
    ret: Option<Ty>,
    can_return: bool,
    /// A constant initialiser: no calls, no variables.
    konst: bool,
}

struct Gen {
    sigs: Vec<Sig>,
    consts: Vec<(String, Ty)>,
    next: u32,
    early_returns: bool,
}

fn literal(rng: &mut Rng, ty: Ty) -> Expr {
    let text = match ty {
        Ty::I64 if rng.chance(30) => (1 + rng.below(500)).to_string(),
        Ty::I64 => {
            rng.pick(&["1", "2", "3", "5", "7", "10", "42", "100", "1_000", "0xff", "0o17", "0b1010", "12"]).into()
        }
        Ty::F64 => rng.pick(&["0.5", "1.0", "2.5", "3.14", "1e3", "2.5e-3", "0.25", "10.0", "7.75"]).into(),
        Ty::Bool => rng.pick(&["true", "false"]).into(),
        Ty::Str => rng
            .pick(&[
                "\"\"",
                "\"hi\"",
                "\"a b\"",
                "\"tab\\t\"",
                "\"q\\\"q\"",
                "'raw {x}'",
                "\"{{braces}}\"",
                "\"é\"",
                "\"n\\n\"",
            ])
            .into(),
    };
    Expr::Lit(ty, text)
}

/// `e` of type `from` as a value of type `to`.
fn convert(e: Expr, from: Ty, to: Ty) -> Expr {
    match (from, to) {
        (Ty::I64, Ty::Bool) => Expr::bin(Ty::I64, e, "!=", Expr::lit(Ty::I64, "0")),
        (Ty::F64, Ty::Bool) => Expr::bin(Ty::F64, e, "!=", Expr::lit(Ty::F64, "0.0")),
        (Ty::Bool, Ty::F64) => Expr::Cast(Box::new(Expr::Cast(Box::new(e), Ty::I64)), Ty::F64),
        _ => Expr::Cast(Box::new(e), to),
    }
}

impl Gen {
    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    fn leaf(&self, rng: &mut Rng, sc: &Scope, ty: Ty) -> Expr {
        let names: Vec<&String> = sc
            .vars
            .iter()
            .filter(|v| v.1 == ty)
            .map(|v| &v.0)
            .chain(self.consts.iter().filter(|c| c.1 == ty).map(|c| &c.0))
            .collect();
        if !names.is_empty() && rng.chance(60) {
            Expr::Var(names[rng.below(names.len())].clone())
        } else {
            literal(rng, ty)
        }
    }

    fn expr(&mut self, rng: &mut Rng, sc: &Scope, ty: Ty, depth: u32) -> Expr {
        if depth >= 3 || rng.chance(35) {
            return self.leaf(rng, sc, ty);
        }
        let d = depth + 1;
        let k = sc.konst;
        let choice = rng.below(8);
        if choice == 0 && !k {
            let sigs: Vec<Sig> = self.sigs.iter().filter(|s| s.ret == Some(ty)).cloned().collect();
            if !sigs.is_empty() {
                let sig = rng.pick(&sigs);
                return self.call(rng, sc, &sig, d);
            }
        }
        match (ty, choice) {
            (Ty::I64, 1 | 2) => {
                let op = rng.pick(if k { &INT_OPS[..2] } else { &INT_OPS });
                Expr::bin(ty, self.expr(rng, sc, ty, d), op, self.expr(rng, sc, ty, d))
            }
            (Ty::I64, 3) => {
                let divisor = Expr::lit(ty, rng.pick(&["2", "3", "7", "10"]));
                Expr::bin(ty, self.expr(rng, sc, ty, d), rng.pick(&DIV_OPS), divisor)
            }
            (Ty::I64, 4) => Expr::Neg(ty, Box::new(self.expr(rng, sc, ty, d))),
            (Ty::I64, 5) => {
                let from = if rng.chance(70) { Ty::F64 } else { Ty::Bool };
                Expr::Cast(Box::new(self.expr(rng, sc, from, d)), ty)
            }
            (Ty::I64, 6) if !k => match rng.below(3) {
                0 => Expr::Len(Box::new(self.expr(rng, sc, Ty::Str, d))),
                1 => Expr::call("abs", vec![self.expr(rng, sc, ty, d)]),
                _ => {
                    let f = rng.pick(&["min", "max"]);
                    Expr::call(f, vec![self.expr(rng, sc, ty, d), self.expr(rng, sc, ty, d)])
                }
            },
            (Ty::F64, 1 | 2) => {
                let op = rng.pick(if k { &FLOAT_OPS[..2] } else { &FLOAT_OPS });
                Expr::bin(ty, self.expr(rng, sc, ty, d), op, self.expr(rng, sc, ty, d))
            }
            (Ty::F64, 3) => Expr::Neg(ty, Box::new(self.expr(rng, sc, ty, d))),
            (Ty::F64, 4) => Expr::Cast(Box::new(self.expr(rng, sc, Ty::I64, d)), ty),
            (Ty::F64, 5) if !k => {
                let f = rng.pick(&["sqrt", "floor", "ceil", "abs"]);
                Expr::call(f, vec![self.expr(rng, sc, ty, d)])
            }
            (Ty::Bool, 1 | 2) => {
                Expr::bin(Ty::I64, self.expr(rng, sc, Ty::I64, d), rng.pick(&CMP_OPS), self.expr(rng, sc, Ty::I64, d))
            }
            (Ty::Bool, 3) => {
                Expr::bin(Ty::F64, self.expr(rng, sc, Ty::F64, d), rng.pick(&CMP_OPS), self.expr(rng, sc, Ty::F64, d))
            }
            (Ty::Bool, 4) => Expr::bin(ty, self.expr(rng, sc, ty, d), rng.pick(&LOGIC_OPS), self.expr(rng, sc, ty, d)),
            (Ty::Bool, 5) => Expr::Neg(ty, Box::new(self.expr(rng, sc, ty, d))),
            (Ty::Bool, 6) if !k => {
                let xs = (0..3).map(|_| self.expr(rng, sc, Ty::I64, d)).collect();
                Expr::Chain(xs, vec![rng.pick(&CMP_OPS[..4]), rng.pick(&CMP_OPS[..4])])
            }
            (Ty::Bool, 7) => {
                Expr::bin(Ty::Str, self.expr(rng, sc, Ty::Str, d), rng.pick(&CMP_OPS), self.expr(rng, sc, Ty::Str, d))
            }
            (Ty::Str, 1 | 2) => Expr::bin(ty, self.expr(rng, sc, ty, d), "+", self.expr(rng, sc, ty, d)),
            (Ty::Str, 3) if !k => {
                let from = rng.pick(&[Ty::I64, Ty::F64, Ty::Bool]);
                Expr::call("str", vec![self.expr(rng, sc, from, d)])
            }
            (Ty::Str, 4) if !k => {
                let parts = (0..1 + rng.below(3))
                    .map(|_| {
                        let t = rng.pick(&TYS);
                        if rng.chance(50) {
                            self.leaf(rng, sc, t)
                        } else if t == Ty::I64 {
                            Expr::bin(t, self.leaf(rng, sc, t), "+", self.leaf(rng, sc, t))
                        } else {
                            self.leaf(rng, sc, t)
                        }
                    })
                    .collect();
                Expr::Interp(parts)
            }
            (_, 7) if !k && ty != Ty::Bool => Expr::If(
                Box::new(self.expr(rng, sc, Ty::Bool, d)),
                Box::new(self.expr(rng, sc, ty, d)),
                Box::new(self.expr(rng, sc, ty, d)),
            ),
            _ => self.leaf(rng, sc, ty),
        }
    }

    fn call(&mut self, rng: &mut Rng, sc: &Scope, sig: &Sig, depth: u32) -> Expr {
        let mut args = Vec::new();
        let mut positional = true;
        for (name, ty, has_default) in &sig.params {
            if *has_default {
                match rng.below(3) {
                    0 => {
                        positional = false;
                        continue;
                    }
                    1 => positional = false,
                    _ => {}
                }
            }
            let expr = self.expr(rng, sc, *ty, depth + 1);
            args.push(Arg { name: (!positional).then(|| name.clone()), expr });
        }
        Expr::Call(sig.name.clone(), args)
    }

    fn block(&mut self, rng: &mut Rng, sc: &Scope, depth: u32) -> Vec<Stmt> {
        let mut inner = sc.clone();
        let mut out = Vec::new();
        for _ in 0..1 + rng.below(2) {
            out.extend(self.stmts(rng, &mut inner, depth + 1));
        }
        out
    }

    /// One statement, or two (a counter and its `while`).
    fn stmts(&mut self, rng: &mut Rng, sc: &mut Scope, depth: u32) -> Vec<Stmt> {
        let choice = rng.below(if depth >= 2 { 5 } else { 10 });
        let s = match choice {
            0 | 1 => {
                let ty = rng.pick(&TYS);
                let expr = self.expr(rng, sc, ty, 0);
                let mutable = rng.chance(30);
                let kw = if mutable { rng.pick(&["let mut", "var"]) } else { rng.pick(&["let", "val"]) };
                let ann = rng.chance(30).then(|| rng.chance(30));
                let name = self.fresh("v");
                sc.vars.push((name.clone(), ty, mutable));
                S::Let { name, kw, ty, ann, expr }
            }
            2 if sc.vars.iter().any(|v| v.2 && v.1 != Ty::Bool) => {
                let vars: Vec<_> = sc.vars.iter().filter(|v| v.2 && v.1 != Ty::Bool).cloned().collect();
                let (name, ty, _) = rng.pick(&vars);
                let op = if ty == Ty::Str { rng.pick(&["+=", "="]) } else { rng.pick(&["+=", "-=", "*=", "="]) };
                S::Assign { name, op, expr: self.expr(rng, sc, ty, 0) }
            }
            4 if rng.chance(50) => {
                let sigs: Vec<Sig> = self.sigs.iter().filter(|s| s.ret.is_none()).cloned().collect();
                if sigs.is_empty() {
                    S::Expr(Expr::call("assert", vec![self.expr(rng, sc, Ty::Bool, 1)]))
                } else {
                    let sig = rng.pick(&sigs);
                    S::Expr(self.call(rng, sc, &sig, 0))
                }
            }
            4 => {
                let mut args = vec![self.expr(rng, sc, Ty::Bool, 1)];
                if rng.chance(50) {
                    args.push(literal(rng, Ty::Str));
                }
                S::Expr(Expr::call("assert", args))
            }
            5 | 9 => {
                let mut arms = vec![(self.expr(rng, sc, Ty::Bool, 0), self.block(rng, sc, depth))];
                if rng.chance(30) {
                    arms.push((self.expr(rng, sc, Ty::Bool, 0), self.block(rng, sc, depth)));
                }
                let els = rng.chance(50).then(|| self.block(rng, sc, depth));
                S::If { arms, els, inline: rng.chance(40) }
            }
            6 => {
                let w = self.fresh("w");
                sc.vars.push((w.clone(), Ty::I64, true));
                let counter =
                    S::Let { name: w.clone(), kw: "var", ty: Ty::I64, ann: None, expr: Expr::lit(Ty::I64, "0") };
                let limit = Expr::lit(Ty::I64, rng.pick(&["3", "4", "10"]));
                let cond = Expr::bin(Ty::I64, Expr::Var(w.clone()), "<", limit);
                let mut body = self.block(rng, sc, depth);
                body.push(Stmt::new(S::Assign { name: w, op: "+=", expr: Expr::lit(Ty::I64, "1") }));
                return vec![Stmt::new(counter), Stmt::new(S::While { cond, body })];
            }
            7 => {
                let var = self.fresh("i");
                let kind = rng.below(4) as u8;
                let bounds = (0..if kind == 0 { 1 } else { 2 }).map(|_| self.expr(rng, sc, Ty::I64, 2)).collect();
                let mut inner = sc.clone();
                inner.vars.push((var.clone(), Ty::I64, false));
                let body = self.block(rng, &inner, depth);
                S::For { var, kind, bounds, body }
            }
            8 if sc.can_return && self.early_returns => {
                let value = sc.ret.map(|t| self.expr(rng, sc, t, 1));
                let body = vec![Stmt::new(S::Return(value))];
                S::If { arms: vec![(self.expr(rng, sc, Ty::Bool, 1), body)], els: None, inline: rng.chance(70) }
            }
            _ => {
                let args = (0..1 + rng.below(2))
                    .map(|_| {
                        let ty = rng.pick(&TYS);
                        self.expr(rng, sc, ty, 0)
                    })
                    .collect();
                S::Expr(Expr::call(rng.pick(&["println", "print"]), args))
            }
        };
        vec![Stmt::new(s)]
    }

    fn fill_body(&mut self, rng: &mut Rng, f: &mut Func) {
        let mut sc = fn_scope(f, 0);
        let mut body = Vec::new();
        for _ in 0..rng.below(5) {
            body.extend(self.stmts(rng, &mut sc, 0));
        }
        body.push(Stmt::new(S::Return(f.ret.map(|t| self.expr(rng, &sc, t, 0)))));
        f.body = body;
    }

    fn new_func(&mut self, rng: &mut Rng, name: String) -> Func {
        let mut params = Vec::new();
        for i in 0..rng.below(4) {
            let ty = rng.pick(&TYS);
            let default = (i > 0 && rng.chance(30)).then(|| literal(rng, ty));
            if default.is_none() && params.iter().any(|p: &Param| p.default.is_some()) {
                continue;
            }
            params.push(Param { name: self.fresh("p"), ty, alias: rng.chance(20), default });
        }
        let ret = rng.pick(&[Some(Ty::I64), Some(Ty::I64), Some(Ty::F64), Some(Ty::Bool), Some(Ty::Str), None]);
        let style = rng.pick(&[0, 0, 1, 2]);
        Func { name, params, ret, ret_alias: rng.chance(20), body: Vec::new(), style, indent: rng.pick(&INDENTS) }
    }

    fn new_const(&mut self, rng: &mut Rng) -> Const {
        let ty = rng.pick(&TYS);
        let sc = Scope { vars: Vec::new(), ret: None, can_return: false, konst: true };
        let expr = self.expr(rng, &sc, ty, 1);
        Const { name: self.fresh("K"), ty, expr }
    }
}

fn generate(rng: &mut Rng, big: bool, early_returns: bool) -> Program {
    let mut g = Gen { sigs: Vec::new(), consts: Vec::new(), next: 0, early_returns };
    let mut consts = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let c = g.new_const(rng);
        g.consts.push((c.name.clone(), c.ty));
        consts.push(c);
    }
    let n = if big { 32 + rng.below(9) } else { 6 + rng.below(7) };
    let mut funcs: Vec<Func> = (0..n).map(|_| g.new_func(rng, format!("f{}", g.next + 1))).collect();
    for f in &mut funcs {
        g.next += 1;
        f.name = format!("f{}", g.next);
    }
    g.sigs = funcs.iter().map(Func::sig).collect();
    for f in &mut funcs {
        g.fill_body(rng, f);
    }
    let mut items: Vec<Item> = funcs.into_iter().map(Item::Fn).collect();
    for c in consts {
        let at = rng.below(items.len() + 1);
        items.insert(at, Item::Const(c));
    }
    if rng.chance(50) {
        let mut main = Func {
            name: "main".into(),
            params: Vec::new(),
            ret: rng.pick(&[Some(Ty::I64), None]),
            ret_alias: false,
            body: Vec::new(),
            style: rng.pick(&[0, 1]),
            indent: rng.pick(&INDENTS),
        };
        g.fill_body(rng, &mut main);
        let at = rng.below(items.len() + 1);
        items.insert(at, Item::Fn(main));
    } else {
        let mut sc = Scope { vars: Vec::new(), ret: None, can_return: false, konst: false };
        let mut at = 0;
        for _ in 0..2 + rng.below(5) {
            at += rng.below(items.len() + 1 - at);
            for s in g.stmts(rng, &mut sc, 0) {
                items.insert(at, Item::Top(s));
                at += 1;
            }
        }
        if rng.chance(40) {
            items.push(Item::Top(Stmt::new(S::SetMain(g.expr(rng, &sc, Ty::I64, 1)))));
        }
    }
    Program { items, next: g.next, early_returns }
}

// ---------------------------------------------------------------------------
// Edits

/// Edits that keep a valid program valid, with weights.
const EDITS: &[(&str, u32)] = &[
    ("literal", 10),
    ("operator", 8),
    ("add-stmt", 10),
    ("remove-stmt", 6),
    ("add-default-param", 4),
    ("add-param", 4),
    ("return-type", 5),
    ("trivia-item", 5),
    ("trivia-body", 5),
    ("note", 3),
    ("remove-trivia", 3),
    ("add-fn", 6),
    ("remove-unused-fn", 4),
    ("rename", 5),
    ("reindent", 3),
    ("style", 4),
    ("move", 5),
    ("add-const", 3),
    ("remove-unused-const", 2),
    ("toggle-main", 2),
    ("noop", 2),
    ("revert", 2),
];

/// Edits that (usually) break the program; a later step restores it.
const BREAKING: &[(&str, u32)] = &[
    ("syntax-error", 6),
    ("bad-indent", 2),
    ("type-error", 3),
    ("undefined-name", 1),
    ("assign-immutable", 1),
    ("return-type-broken", 2),
    ("add-param-broken", 2),
    ("rename-broken", 2),
    ("remove-used-fn", 2),
    ("duplicate", 3),
    ("missing-return", 1),
    ("const-cycle", 1),
    ("main-conflict", 1),
    ("wrong-arg", 1),
    ("literal-too-big", 1),
];

fn edit(rng: &mut Rng, p: &mut Program, kind: &'static str, history: &[Program]) -> bool {
    match kind {
        "literal" => {
            let pred = |e: &Expr| matches!(e, Expr::Lit(..));
            p.change_nth(rng, &pred, &mut |rng, e| {
                if let Expr::Lit(ty, _) = e {
                    *e = literal(rng, *ty);
                }
            })
        }
        "operator" => {
            let pred = |e: &Expr| matches!(e, Expr::Bin(..) | Expr::Chain(..));
            p.change_nth(rng, &pred, &mut |rng, e| match e {
                Expr::Bin(ty, _, op, _) => {
                    let group: &[&'static str] = if CMP_OPS.contains(op) {
                        if *ty == Ty::Bool { &EQ_OPS } else { &CMP_OPS }
                    } else if LOGIC_OPS.contains(op) {
                        &LOGIC_OPS
                    } else if DIV_OPS.contains(op) {
                        &DIV_OPS
                    } else if *ty == Ty::I64 {
                        &INT_OPS
                    } else if *ty == Ty::F64 {
                        &FLOAT_OPS
                    } else {
                        &["+"]
                    };
                    *op = rng.pick(group);
                }
                Expr::Chain(_, ops) => {
                    let i = rng.below(ops.len());
                    ops[i] = rng.pick(&CMP_OPS[..4]);
                }
                _ => {}
            })
        }
        "add-stmt" => {
            if !p.has_main_fn() && rng.chance(25) {
                let at = rng.below(p.items.len() + 1);
                let mut sc = p.top_scope(at);
                let mut g = p.gen_with();
                let new = g.stmts(rng, &mut sc, 0);
                p.next = g.next;
                for (j, s) in new.into_iter().enumerate() {
                    p.items.insert(at + j, Item::Top(s));
                }
                return true;
            }
            let fns = p.fns(true);
            if fns.is_empty() {
                return false;
            }
            let i = rng.pick(&fns);
            let mut g = p.gen_with();
            let f = p.func(i);
            let pos = rng.below(f.return_index() + 1);
            let mut sc = fn_scope(f, pos);
            let new = g.stmts(rng, &mut sc, 0);
            f.body.splice(pos..pos, new);
            p.next = g.next;
            true
        }
        "remove-stmt" => {
            let mut candidates = Vec::new();
            for (i, item) in p.items.iter().enumerate() {
                match item {
                    Item::Fn(f) => {
                        for j in 0..f.body.len() {
                            if let S::Return(_) = f.body[j].s {
                                continue;
                            }
                            if let S::Let { name, .. } = &f.body[j].s {
                                let mut rest = f.body.clone();
                                rest.remove(j);
                                if names_used(&rest).contains(name) {
                                    continue;
                                }
                            }
                            candidates.push((i, Some(j)));
                        }
                    }
                    Item::Top(s) => {
                        if let S::Let { name, .. } = &s.s {
                            let later: Vec<Stmt> = p.items[i + 1..]
                                .iter()
                                .filter_map(|it| if let Item::Top(s) = it { Some(s.clone()) } else { None })
                                .collect();
                            if names_used(&later).contains(name) {
                                continue;
                            }
                        }
                        candidates.push((i, None));
                    }
                    _ => {}
                }
            }
            if candidates.is_empty() {
                return false;
            }
            match rng.pick(&candidates) {
                (i, Some(j)) => {
                    p.func(i).body.remove(j);
                }
                (i, None) => {
                    p.items.remove(i);
                }
            }
            true
        }
        "add-default-param" => {
            let fns = p.fns(false);
            if fns.is_empty() {
                return false;
            }
            let i = rng.pick(&fns);
            let name = p.fresh("p");
            let ty = rng.pick(&TYS);
            let default = literal(rng, ty);
            let use_it = rng.chance(50);
            let f = p.func(i);
            f.params.push(Param { name: name.clone(), ty, alias: rng.chance(20), default: Some(default) });
            if use_it {
                f.body.insert(0, Stmt::new(S::Expr(Expr::call("println", vec![Expr::Var(name)]))));
            }
            true
        }
        "add-param" | "add-param-broken" => {
            let fns = p.fns(false);
            if fns.is_empty() {
                return false;
            }
            let i = rng.pick(&fns);
            let name = p.fresh("p");
            let ty = rng.pick(&TYS);
            let f = p.func(i);
            let fname = f.name.clone();
            let r = f.params.iter().filter(|p| p.default.is_none()).count();
            f.params.insert(r, Param { name: name.clone(), ty, alias: false, default: None });
            if rng.chance(50) {
                let pos = rng.below(f.return_index() + 1);
                f.body.insert(pos, Stmt::new(S::Expr(Expr::call("print", vec![Expr::Var(name)]))));
            }
            if kind == "add-param" {
                let value = literal(rng, ty);
                p.walk_exprs(&mut |e| {
                    if let Expr::Call(c, args) = e
                        && *c == fname
                    {
                        let at = r.min(args.iter().filter(|a| a.name.is_none()).count());
                        args.insert(at, Arg { name: None, expr: value.clone() });
                    }
                });
            }
            true
        }
        "return-type" | "return-type-broken" => {
            let fns: Vec<usize> = p
                .fns(false)
                .into_iter()
                .filter(|&i| matches!(&p.items[i], Item::Fn(f) if matches!(f.ret, Some(Ty::I64 | Ty::F64 | Ty::Bool))))
                .collect();
            if fns.is_empty() {
                return false;
            }
            let i = rng.pick(&fns);
            let f = p.func(i);
            let old = f.ret.expect("a return type");
            let new = rng.pick(&[Ty::I64, Ty::F64, Ty::Bool].into_iter().filter(|&t| t != old).collect::<Vec<_>>());
            f.ret = Some(new);
            let name = f.name.clone();
            if kind == "return-type-broken" && rng.chance(50) {
                return true;
            }
            if kind == "return-type" {
                p.walk_exprs(&mut |e| {
                    if matches!(e, Expr::Call(c, _) if *c == name) {
                        *e = convert(e.clone(), new, old);
                    }
                });
            }
            walk_stmts(&mut p.func(i).body, &mut |s| {
                if let S::Return(Some(e)) = &mut s.s {
                    *e = convert(e.clone(), old, new);
                }
            });
            true
        }
        "trivia-item" => {
            let text = rng.pick(&[
                "\n",
                "\n\n\n",
                "# a comment\n",
                "    # an indented comment\n",
                "\t\n",
                "   \n",
                "#\n# a block of comments\n#\n",
                "# fn fake(x: i64) -> i64:\n",
                "  # odd\n\n",
            ]);
            let at = rng.below(p.items.len() + 1);
            p.items.insert(at, Item::Trivia(text.into()));
            true
        }
        "trivia-body" => {
            let fns = p.fns(true);
            if fns.is_empty() {
                return false;
            }
            let i = rng.pick(&fns);
            let s = if rng.chance(50) {
                let prefix = rng.pick(&["", "  ", "    ", "\t", "         "]);
                S::Comment(prefix.into(), rng.pick(&["note", "TODO: x", "if x: return 1", "#"]).into())
            } else {
                S::Blank(rng.pick(&["", "  ", "\t", "        "]).into())
            };
            let body = &mut p.func(i).body;
            let mut n = 0;
            walk_blocks(body, &mut |_| n += 1);
            let k = rng.below(n);
            let mut j = 0;
            let pos = rng.next() as usize;
            walk_blocks(body, &mut |b| {
                if j == k {
                    b.insert(pos % (b.len() + 1), Stmt::new(s.clone()));
                }
                j += 1;
            });
            true
        }
        "note" => {
            let fns = p.fns(true);
            if fns.is_empty() {
                return false;
            }
            let i = rng.pick(&fns);
            let body = &mut p.func(i).body;
            let mut n = 0;
            walk_stmts(body, &mut |s| n += !s.is_trivia() as usize);
            let k = rng.below(n);
            let note = rng.pick(&[None, Some("why"), Some("x: y # z"), Some("")]).map(str::to_string);
            let mut j = 0;
            walk_stmts(body, &mut |s| {
                if !s.is_trivia() {
                    if j == k {
                        s.note = note.clone();
                    }
                    j += 1;
                }
            });
            true
        }
        "remove-trivia" => {
            let items: Vec<usize> = (0..p.items.len()).filter(|&i| matches!(p.items[i], Item::Trivia(_))).collect();
            if !items.is_empty() && rng.chance(50) {
                p.items.remove(rng.pick(&items));
                return true;
            }
            let mut found = false;
            for i in p.fns(true) {
                walk_blocks(&mut p.func(i).body, &mut |b| {
                    if let Some(j) = b.iter().position(Stmt::is_trivia) {
                        b.remove(j);
                        found = true;
                    }
                });
                if found {
                    break;
                }
            }
            found
        }
        "add-fn" => {
            let name = p.fresh("f");
            let mut g = p.gen_with();
            let mut f = g.new_func(rng, name);
            g.sigs.push(f.sig());
            g.fill_body(rng, &mut f);
            let sig = f.sig();
            let at = rng.below(p.items.len() + 1);
            p.items.insert(at, Item::Fn(f));
            p.next = g.next;
            if rng.chance(60) {
                let callers: Vec<usize> = p.fns(true).into_iter().filter(|&i| i != at).collect();
                if !callers.is_empty() {
                    let i = rng.pick(&callers);
                    let f = p.func(i);
                    let pos = rng.below(f.return_index() + 1);
                    let sc = fn_scope(f, pos);
                    let call = g.call(rng, &sc, &sig, 1);
                    let s = match sig.ret {
                        Some(ty) => S::Let { name: g.fresh("v"), kw: "let", ty, ann: None, expr: call },
                        None => S::Expr(call),
                    };
                    f.body.insert(pos, Stmt::new(s));
                    p.next = g.next;
                }
            }
            true
        }
        "remove-unused-fn" | "remove-used-fn" => {
            let want_used = kind == "remove-used-fn";
            let fns: Vec<usize> = p
                .fns(false)
                .into_iter()
                .filter(|&i| {
                    let Item::Fn(f) = &p.items[i] else { return false };
                    (p.calls_of(&f.name, Some(i)) > 0) == want_used
                })
                .collect();
            if fns.is_empty() {
                return false;
            }
            p.items.remove(rng.pick(&fns));
            true
        }
        "rename" | "rename-broken" => {
            let fns = p.fns(false);
            if fns.is_empty() {
                return false;
            }
            let i = rng.pick(&fns);
            let new = p.fresh("r");
            let f = p.func(i);
            let old = std::mem::replace(&mut f.name, new.clone());
            // Broken: the definition alone, or (with the old name kept) the callers alone.
            let callers_only = kind == "rename-broken" && rng.chance(30);
            if callers_only {
                p.func(i).name = old.clone();
            }
            if kind == "rename" || callers_only {
                p.walk_exprs(&mut |e| {
                    if let Expr::Call(c, _) = e
                        && *c == old
                    {
                        *c = new.clone();
                    }
                });
            }
            true
        }
        "reindent" => {
            let fns = p.fns(true);
            if fns.is_empty() {
                return false;
            }
            let i = rng.pick(&fns);
            let indent = rng.pick(&INDENTS);
            let f = p.func(i);
            if f.indent == indent {
                return false;
            }
            f.indent = indent;
            true
        }
        "style" => {
            let fns = p.fns(true);
            if fns.is_empty() {
                return false;
            }
            let i = rng.pick(&fns);
            let style = rng.below(3) as u8;
            let f = p.func(i);
            if f.style == style {
                return false;
            }
            f.style = style;
            true
        }
        "move" => {
            let movable: Vec<usize> = (0..p.items.len())
                .filter(|&i| matches!(p.items[i], Item::Fn(_) | Item::Const(_) | Item::Trivia(_)))
                .collect();
            if movable.is_empty() {
                return false;
            }
            let item = p.items.remove(rng.pick(&movable));
            let at = rng.below(p.items.len() + 1);
            p.items.insert(at, item);
            true
        }
        "add-const" => {
            let mut g = p.gen_with();
            let c = g.new_const(rng);
            p.next = g.next;
            let at = rng.below(p.items.len() + 1);
            p.items.insert(at, Item::Const(c));
            true
        }
        "remove-unused-const" => {
            let used = p.vars_used();
            let consts: Vec<usize> = (0..p.items.len())
                .filter(|&i| matches!(&p.items[i], Item::Const(c) if !used.contains(&c.name)))
                .collect();
            if consts.is_empty() {
                return false;
            }
            p.items.remove(rng.pick(&consts));
            true
        }
        "toggle-main" => {
            if let Some(i) = p.fns(true).into_iter().find(|&i| matches!(&p.items[i], Item::Fn(f) if f.name == "main")) {
                let Item::Fn(main) = p.items.remove(i) else { unreachable!() };
                let stmts = main.body.into_iter().filter_map(|s| match s.s {
                    S::Return(None) => None,
                    S::Return(Some(e)) => Some(Stmt { s: S::SetMain(e), note: s.note }),
                    _ => Some(s),
                });
                let stmts: Vec<Item> = stmts.map(Item::Top).collect();
                p.items.splice(i..i, stmts);
            } else {
                let first = p.items.iter().position(|i| matches!(i, Item::Top(_))).unwrap_or(p.items.len());
                let mut body = Vec::new();
                let mut ret = None;
                let mut k = 0;
                while k < p.items.len() {
                    if let Item::Top(_) = p.items[k] {
                        let Item::Top(s) = p.items.remove(k) else { unreachable!() };
                        match s.s {
                            S::SetMain(e) => {
                                let v = p.fresh("v");
                                ret = Some(Expr::Var(v.clone()));
                                let expr = S::Let { name: v, kw: "let", ty: Ty::I64, ann: None, expr: e };
                                body.push(Stmt { s: expr, note: s.note });
                            }
                            _ => body.push(s),
                        }
                    } else {
                        k += 1;
                    }
                }
                let ret_ty = if ret.is_some() || rng.chance(50) { Some(Ty::I64) } else { None };
                if ret_ty.is_some() && ret.is_none() {
                    ret = Some(Expr::lit(Ty::I64, "0"));
                }
                body.push(Stmt::new(S::Return(ret)));
                let main = Func {
                    name: "main".into(),
                    params: Vec::new(),
                    ret: ret_ty,
                    ret_alias: false,
                    body,
                    style: rng.pick(&[0, 1]),
                    indent: rng.pick(&INDENTS),
                };
                p.items.insert(first.min(p.items.len()), Item::Fn(main));
            }
            true
        }
        "noop" => true,
        "revert" => {
            if history.len() < 2 {
                return false;
            }
            *p = history[rng.below(history.len() - 1)].clone();
            true
        }
        "syntax-error" => {
            let fns = p.fns(true);
            if fns.is_empty() || rng.chance(40) {
                let text = rng.pick(&[
                    "fn broken(\n",
                    "fn g(x: i64) -> :\n    return x\n",
                    ")\n",
                    "def f():\n    pass\n",
                    "const = 3\n",
                    "fn h(x: i64) -> i64\n    return x\n",
                    "let s = \"unterminated\n",
                    "fn (x: i64):\n    return\n",
                    "else:\n    println(1)\n",
                ]);
                let at = rng.below(p.items.len() + 1);
                p.items.insert(at, Item::Trivia(text.into()));
                return true;
            }
            let i = rng.pick(&fns);
            let text = rng.pick(&[
                "let = 1",
                "x +* 2",
                "if true",
                "return (1 +",
                "println(\"unterminated)",
                "let v = [1, 2",
                "@@",
                "while:",
                "fn inner(:",
                "let x = 1 2",
                "elif true: 1",
                "let y = (",
            ]);
            let f = p.func(i);
            let pos = rng.below(f.body.len() + 1);
            f.body.insert(pos, Stmt::new(S::Raw(text.into(), 0)));
            true
        }
        "bad-indent" => {
            let fns = p.fns(true);
            if fns.is_empty() {
                return false;
            }
            let i = rng.pick(&fns);
            let shift = rng.pick(&[-2, -1, 3, 5]);
            let f = p.func(i);
            let pos = rng.below(f.body.len() + 1);
            f.body.insert(pos, Stmt::new(S::Raw("println(\"misplaced\")".into(), shift)));
            true
        }
        "type-error" | "undefined-name" | "assign-immutable" => {
            let fns = p.fns(true);
            if fns.is_empty() {
                return false;
            }
            let i = rng.pick(&fns);
            let mut g = p.gen_with();
            let f = p.func(i);
            let pos = rng.below(f.return_index() + 1);
            let sc = fn_scope(f, pos);
            let new: Vec<Stmt> = match kind {
                "type-error" => {
                    let ty = rng.pick(&TYS);
                    let wrong = rng.pick(&TYS.into_iter().filter(|&t| t != ty).collect::<Vec<_>>());
                    let expr = g.expr(rng, &sc, wrong, 1);
                    if rng.chance(50) {
                        vec![Stmt::new(S::Let { name: g.fresh("v"), kw: "let", ty, ann: Some(false), expr })]
                    } else {
                        let body = vec![Stmt::new(S::Expr(Expr::call("println", vec![expr.clone()])))];
                        vec![Stmt::new(S::If { arms: vec![(expr, body)], els: None, inline: false })]
                    }
                }
                "undefined-name" => {
                    vec![Stmt::new(S::Expr(Expr::call("println", vec![Expr::Var("nowhere".into())])))]
                }
                _ => {
                    let v = g.fresh("v");
                    vec![
                        Stmt::new(S::Let {
                            name: v.clone(),
                            kw: "let",
                            ty: Ty::I64,
                            ann: None,
                            expr: literal(rng, Ty::I64),
                        }),
                        Stmt::new(S::Assign { name: v, op: "+=", expr: Expr::lit(Ty::I64, "1") }),
                    ]
                }
            };
            f.body.splice(pos..pos, new);
            p.next = g.next;
            true
        }
        "duplicate" => {
            let fns = p.fns(false);
            if fns.is_empty() {
                return false;
            }
            let i = rng.pick(&fns);
            let Item::Fn(f) = p.items[i].clone() else { unreachable!() };
            match rng.below(4) {
                0 => {
                    let at = rng.below(p.items.len() + 1);
                    p.items.insert(at, Item::Fn(f));
                }
                1 => {
                    let j = rng.pick(&fns);
                    if i == j {
                        return false;
                    }
                    p.func(j).name = f.name.clone();
                }
                2 => {
                    let at = rng.below(p.items.len() + 1);
                    p.items.insert(at, Item::Const(Const { name: f.name, ty: Ty::I64, expr: Expr::lit(Ty::I64, "1") }));
                }
                _ => {
                    let f = p.func(i);
                    let Some(first) = f.params.first().cloned() else { return false };
                    f.params.push(Param { default: Some(literal(rng, first.ty)), ..first });
                }
            }
            true
        }
        "missing-return" => {
            let fns: Vec<usize> =
                p.fns(false).into_iter().filter(|&i| matches!(&p.items[i], Item::Fn(f) if f.ret.is_some())).collect();
            if fns.is_empty() {
                return false;
            }
            let f = p.func(rng.pick(&fns));
            let at = f.return_index();
            f.body[at] = Stmt::new(S::Expr(Expr::call("println", vec![Expr::lit(Ty::Str, "\"no return\"")])));
            true
        }
        "const-cycle" => {
            let consts: Vec<usize> = (0..p.items.len()).filter(|&i| matches!(p.items[i], Item::Const(_))).collect();
            if consts.is_empty() {
                return false;
            }
            let i = rng.pick(&consts);
            let Item::Const(c) = &mut p.items[i] else { unreachable!() };
            let me = c.name.clone();
            c.expr = match c.ty {
                Ty::Str => Expr::bin(Ty::Str, Expr::Var(me), "+", Expr::lit(Ty::Str, "\"x\"")),
                Ty::Bool => Expr::Neg(Ty::Bool, Box::new(Expr::Var(me))),
                ty => Expr::bin(ty, Expr::Var(me), "+", literal(rng, ty)),
            };
            true
        }
        "main-conflict" => {
            if p.has_main_fn() {
                let s = Stmt::new(S::Expr(Expr::call("println", vec![Expr::lit(Ty::Str, "\"top\"")])));
                let at = rng.below(p.items.len() + 1);
                p.items.insert(at, Item::Top(s));
            } else {
                let f = Func {
                    name: "main".into(),
                    params: Vec::new(),
                    ret: None,
                    ret_alias: false,
                    body: vec![Stmt::new(S::Return(None))],
                    style: 0,
                    indent: "    ",
                };
                let at = rng.below(p.items.len() + 1);
                p.items.insert(at, Item::Fn(f));
            }
            true
        }
        "wrong-arg" => {
            let pred = |e: &Expr| matches!(e, Expr::Call(c, args) if !args.is_empty() && c.starts_with(['f', 'r']));
            p.change_nth(rng, &pred, &mut |rng, e| {
                if let Expr::Call(_, args) = e {
                    if rng.chance(50) {
                        args.pop();
                    } else {
                        let i = rng.below(args.len());
                        args[i].expr = Expr::lit(Ty::Str, "\"wrong\"");
                    }
                }
            })
        }
        "literal-too-big" => {
            let pred = |e: &Expr| matches!(e, Expr::Lit(Ty::I64, _));
            p.change_nth(rng, &pred, &mut |_, e| *e = Expr::lit(Ty::I64, "99999999999999999999"))
        }
        _ => unreachable!("unknown edit {kind}"),
    }
}

fn pick_kind(rng: &mut Rng, table: &[(&'static str, u32)]) -> &'static str {
    let total: u32 = table.iter().map(|e| e.1).sum();
    let mut x = rng.below(total as usize) as u32;
    for &(kind, w) in table {
        if x < w {
            return kind;
        }
        x -= w;
    }
    unreachable!()
}

// ---------------------------------------------------------------------------
// Building and comparing

#[derive(Debug, PartialEq)]
struct Build {
    link: Result<Vec<u8>, BuildError>,
    diagnostics: Vec<Diagnostic>,
}

impl Build {
    fn ok(&self) -> bool {
        self.link.is_ok()
    }
}

/// How a database is queried at a step: whether `parallel::codegen`
/// runs first, and whether `diagnostics` is asked before `link_smf`.
fn query(db: &Database, project: Project, step: usize) -> Build {
    if step % 2 == 1 {
        parallel::codegen(db, project.files(db));
    }
    if step.is_multiple_of(3) {
        let diagnostics = db::diagnostics(db, project).clone();
        let link = db::link_smf(db, project).clone();
        Build { link, diagnostics }
    } else {
        let link = db::link_smf(db, project).clone();
        let diagnostics = db::diagnostics(db, project).clone();
        Build { link, diagnostics }
    }
}

/// A new database holding `files` (the entry first) as its project. The
/// inputs are created in `order` (indices into `files`), then any others in
/// file order; the project lists them in file order whatever the order.
fn new_db(files: &[(String, String)], options: Options, order: &[usize]) -> (Database, Project) {
    let mut db = Database::default();
    db.set_options(options);
    let mut inputs = vec![None; files.len()];
    for &i in order {
        inputs[i] = Some(SourceFile::new(&db, files[i].0.clone().into(), files[i].1.clone()));
    }
    let inputs: Vec<SourceFile> = inputs
        .into_iter()
        .zip(files)
        .map(|(input, (path, text))| input.unwrap_or_else(|| SourceFile::new(&db, path.into(), text.clone())))
        .collect();
    let project = Project::new(&db, inputs[0], inputs);
    (db, project)
}

/// A clean build, and the database that made it.
fn fresh_db_build(files: &[(String, String)], options: Options) -> (Database, Project, Build) {
    let (db, project) = new_db(files, options, &[]);
    let link = db::link_smf(&db, project).clone();
    let diagnostics = db::diagnostics(&db, project).clone();
    let build = Build { link, diagnostics };
    (db, project, build)
}

fn fresh_build(files: &[(String, String)], options: Options) -> Build {
    fresh_db_build(files, options).2
}

/// Every function of the project, with the index of its file.
fn functions(db: &Database, project: Project) -> Vec<(usize, FnId<'_>)> {
    project
        .files(db)
        .iter()
        .enumerate()
        .flat_map(|(i, &file)| db::file_fns(db, file).iter().map(move |&f| (i, f)))
        .collect()
}

/// The simulated on-disk code cache: what the driver stores after every
/// successful build, kept across the builds of a sequence.
#[derive(Default, Clone)]
struct Disk {
    entries: FxHashMap<FnKey, Arc<CachedFn>>,
    /// Files' objects, by file key.
    objects: FxHashMap<FnKey, Arc<CachedObject>>,
    /// Which function or file, at which step, stored each entry.
    origins: FxHashMap<FnKey, String>,
}

impl Disk {
    /// As the driver does after a successful build: stores the code of every
    /// function, and the object of every file, whose key has no entry yet.
    /// Returns how many functions it stored.
    fn store(&mut self, db: &Database, project: Project, step: usize) -> usize {
        let mut stored = 0;
        for (i, f) in functions(db, project) {
            let key = persist::fn_key(db, f);
            if self.entries.contains_key(&key) {
                continue;
            }
            if let Some(code) = persist::compile_for_cache(db, f) {
                self.entries.insert(key, Arc::new(code));
                let path = project.files(db)[i].path(db).display().to_string();
                self.origins.insert(key, format!("`{}` of {path} at step {step}", f.name(db)));
                stored += 1;
            }
        }
        for &file in project.files(db) {
            let key = persist::file_key(db, file);
            if !self.objects.contains_key(&key)
                && let Some(object) = persist::object_for_cache(db, file)
            {
                self.objects.insert(key, Arc::new(object));
                self.origins.insert(key, format!("{} at step {step}", file.path(db).display()));
            }
        }
        stored
    }

    /// What a process loads of it: everything, or (as the driver does) the
    /// entries of the program's keys only, computed before `CodeCache` has
    /// entries; objects only if `objects`.
    fn load(&self, db: &mut Database, project: Project, filter: bool, objects: bool) {
        let (entries, objects) = if filter {
            let entries = functions(db, project)
                .into_iter()
                .filter_map(|(_, f)| {
                    let key = persist::fn_key(db, f);
                    Some((key, self.entries.get(&key)?.clone()))
                })
                .collect();
            let files = project.files(db).iter().filter(|_| objects).filter_map(|&file| {
                let key = persist::file_key(db, file);
                Some((key, self.objects.get(&key)?.clone()))
            });
            (entries, files.collect())
        } else {
            (self.entries.clone(), if objects { self.objects.clone() } else { FxHashMap::default() })
        };
        CodeCache::get(db).set_entries(db).to(Arc::new(entries));
        CodeCache::get(db).set_objects(db).to(Arc::new(objects));
    }
}

/// A later process: a new database whose `CodeCache` holds what was stored
/// so far (see [`Disk::load`]).
fn cached_db(snap: &Snapshot, disk: &Disk) -> (Database, Project) {
    let (mut db, project) = new_db(&snap.files, snap.options, &snap.cache_order);
    disk.load(&mut db, project, snap.cache_filter, snap.cache_objects);
    (db, project)
}

/// Checks each function and file the cached build took from the cache: its entry
/// must be what a clean build compiles the function to now, or its key
/// missed something the code depends on. Returns (reused, functions).
fn check_reuse(cached: (&Database, Project), fresh: (&Database, Project), disk: &Disk) -> Result<Reuse, String> {
    let (cdb, cproject) = cached;
    let (fdb, fproject) = fresh;
    let fns = functions(cdb, cproject);
    let mut reused = 0;
    let mut errors = String::new();
    for &(i, f) in &fns {
        let Some(entry) = persist::fn_cached(cdb, f) else { continue };
        reused += 1;
        let file = fproject.files(fdb)[i];
        let now = persist::compile_for_cache(fdb, FnId::new(fdb, file, f.name(cdb).clone()));
        if now.as_ref() != Some(&**entry) {
            let origin = disk.origins.get(&persist::fn_key(cdb, f)).map_or("?", String::as_str);
            let what = match &now {
                None => "the function has errors now".to_string(),
                Some(now) if now.code != entry.code => {
                    let (a, b) = (&entry.code, &now.code);
                    let mut what = format!("its code differs: {} bytes cached, {} now", a.code.len(), b.code.len());
                    if a.symbol != b.symbol {
                        let _ = write!(what, "; symbol {:?} cached, {:?} now", a.symbol, b.symbol);
                    }
                    if a.relocs != b.relocs {
                        let _ = write!(what, "; relocations {:?} cached, {:?} now", a.relocs, b.relocs);
                    }
                    if a.literals != b.literals {
                        let _ = write!(what, "; literals {:?} cached, {:?} now", a.literals, b.literals);
                    }
                    if a.lines != b.lines {
                        let _ = write!(what, "; lines {:?} cached, {:?} now", a.lines, b.lines);
                    }
                    if a.traps != b.traps {
                        let _ = write!(what, "; traps {:?} cached, {:?} now", a.traps, b.traps);
                    }
                    what
                }
                Some(now) => format!("the warnings differ: cached {:?}, now {:?}", entry.warnings, now.warnings),
            };
            let _ = writeln!(
                errors,
                "`{}` of {} reused the entry stored by {origin} under the same key, but {what}",
                f.name(cdb),
                file.path(fdb).display()
            );
        }
    }
    let mut objects = 0;
    for (i, &file) in cproject.files(cdb).iter().enumerate() {
        let Some(cached) = persist::file_cached_object(cdb, file) else { continue };
        objects += 1;
        let fresh_file = fproject.files(fdb)[i];
        if persist::object_for_cache(fdb, fresh_file).as_ref() != Some(&**cached) {
            let origin = disk.origins.get(&persist::file_key(cdb, file)).map_or("?", String::as_str);
            let _ = writeln!(
                errors,
                "{} reused the object stored by {origin} under the same key, but a clean build makes another \
                 (or has errors there)",
                fresh_file.path(fdb).display()
            );
        }
    }
    if errors.is_empty() { Ok(Reuse { fns: reused, of: fns.len(), objects }) } else { Err(errors) }
}

/// What a cached build took from the cache: `fns` of its `of` functions
/// (counted in files reused whole too), and `objects` files.
#[derive(Default)]
struct Reuse {
    fns: usize,
    of: usize,
    objects: usize,
}

/// Every function's key in `db` must be the one a clean build computes:
/// keys are content hashes, the same in every process and after any edits.
fn check_keys(which: &str, db: &Database, project: Project, fresh: (&Database, Project)) -> Result<(), String> {
    let (fdb, fproject) = fresh;
    let mut errors = String::new();
    for (i, f) in functions(db, project) {
        let file = fproject.files(fdb)[i];
        let g = FnId::new(fdb, file, f.name(db).clone());
        if persist::fn_key(db, f) != persist::fn_key(fdb, g) {
            let _ = writeln!(
                errors,
                "the {which} key of `{}` of {} differs from a clean build's",
                f.name(db),
                file.path(fdb).display()
            );
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// What a database was given at one step.
#[derive(Clone)]
struct Snapshot {
    step: usize,
    options: Options,
    files: Files,
    /// Paths back in the project that get a new `SourceFile`; others reuse
    /// the input they had.
    new_inputs: Vec<String>,
    /// A file out of the project whose text is changed: (path, text).
    stale: Option<(String, String)>,
    /// Texts of the project's files set and replaced before any query saw
    /// them.
    transient: Option<Files>,
    /// The order in which the cached build creates its inputs.
    cache_order: Vec<usize>,
    /// Whether the cached build loads only the entries of its keys.
    cache_filter: bool,
    /// Whether it loads files' objects too, or functions only.
    cache_objects: bool,
    /// Whether a cached build runs at this step; if not, what the fresh
    /// build compiled is stored.
    cached_build: bool,
    /// The code cache the long-lived database loads at this step, as `watch`
    /// does when it opens a session (as `cache_filter` and `cache_objects`
    /// say).
    load: Option<Arc<Disk>>,
}

/// The long-lived database and every input it ever had by path: a file
/// that leaves the project keeps its `SourceFile`.
struct LongLived {
    db: Database,
    project: Project,
    inputs: BTreeMap<String, SourceFile>,
}

impl LongLived {
    /// With `watch`, the database's `CodeCache` gets entries now and then,
    /// as `watch` loads the cache when it (re)opens a session.
    fn new() -> LongLived {
        let db = Database::default();
        let entry = SourceFile::new(&db, PATH.into(), String::new());
        let project = Project::new(&db, entry, vec![entry]);
        LongLived { db, project, inputs: BTreeMap::from([(PATH.to_string(), entry)]) }
    }

    fn paths(&self) -> Vec<String> {
        self.project.files(&self.db).iter().map(|f| f.path(&self.db).display().to_string()).collect()
    }

    fn apply(&mut self, snap: &Snapshot) {
        let db = &mut self.db;
        db.set_options(snap.options);
        for (path, text) in &snap.files {
            if snap.new_inputs.contains(path) || !self.inputs.contains_key(path) {
                self.inputs.insert(path.clone(), SourceFile::new(db, path.into(), text.clone()));
            }
        }
        if let Some((path, text)) = &snap.stale {
            let file =
                *self.inputs.entry(path.clone()).or_insert_with(|| SourceFile::new(db, path.into(), String::new()));
            file.set_text(db).to(text.clone());
        }
        for (path, text) in snap.transient.iter().flatten().chain(&snap.files) {
            self.inputs[path].set_text(db).to(text.clone());
        }
        let files: Vec<SourceFile> = snap.files.iter().map(|(path, _)| self.inputs[path]).collect();
        if *self.project.files(db) != files {
            self.project.set_files(db).to(files);
        }
        if let Some(disk) = &snap.load {
            disk.load(&mut self.db, self.project, snap.cache_filter, snap.cache_objects);
        }
    }
}

/// Replays `snapshots` in one long-lived database, querying as the test
/// does; true if the last build differs from a fresh one.
fn replay_differs(snapshots: &[Snapshot]) -> bool {
    let mut ll = LongLived::new();
    let mut last = None;
    for snap in snapshots {
        ll.apply(snap);
        last = Some(query(&ll.db, ll.project, snap.step));
    }
    let snap = snapshots.last().expect("at least one snapshot");
    let (fdb, fproject, fresh) = fresh_db_build(&snap.files, snap.options);
    last.expect("at least one build") != fresh || check_keys("", &ll.db, ll.project, (&fdb, fproject)).is_err()
}

/// Replays the cached builds of `snapshots` from an empty cache; true if
/// the last differs from a fresh build or reused a wrong entry.
fn replay_cached_differs(snapshots: &[Snapshot]) -> bool {
    let mut disk = Disk::default();
    for (i, snap) in snapshots.iter().enumerate() {
        if !snap.cached_build && i + 1 < snapshots.len() {
            let (db, project, fresh) = fresh_db_build(&snap.files, snap.options);
            if fresh.ok() {
                disk.store(&db, project, snap.step);
            }
            continue;
        }
        let (db, project) = cached_db(snap, &disk);
        let build = query(&db, project, snap.step);
        if i + 1 == snapshots.len() {
            let (fdb, fproject, fresh) = fresh_db_build(&snap.files, snap.options);
            return build != fresh
                || check_reuse((&db, project), (&fdb, fproject), &disk).is_err()
                || check_keys("", &db, project, (&fdb, fproject)).is_err();
        }
        if build.ok() {
            disk.store(&db, project, snap.step);
        }
    }
    false
}

/// Every file of every snapshot, for a failure message.
fn show_snapshots(snapshots: &[Snapshot]) -> String {
    let mut out = String::new();
    for snap in snapshots {
        let _ = writeln!(out, "===== step {} ({:?}) =====", snap.step, snap.options);
        if !snap.new_inputs.is_empty() {
            let _ = writeln!(out, "(new `SourceFile` inputs for {:?})", snap.new_inputs);
        }
        if let Some((path, text)) = &snap.stale {
            let _ = writeln!(out, "----- {path}, out of the project, set to -----\n{text}");
        }
        for (path, text) in snap.transient.iter().flatten() {
            let _ = writeln!(out, "----- {path}: transient text, replaced before any query -----\n{text}");
        }
        for (path, text) in &snap.files {
            let _ = writeln!(out, "----- {path} -----\n{text}");
        }
        let _ = writeln!(out, "----- end -----");
    }
    out
}

/// How the build of the database named `which` differs from the fresh one.
fn describe_difference(which: &str, incremental: &Build, fresh: &Build) -> String {
    let mut out = String::new();
    if incremental.diagnostics != fresh.diagnostics {
        let _ = writeln!(
            out,
            "diagnostics differ:\n  {which}: {:#?}\n  fresh: {:#?}",
            incremental.diagnostics, fresh.diagnostics
        );
    }
    match (&incremental.link, &fresh.link) {
        (Ok(a), Ok(b)) if a != b => {
            let first = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
            let _ =
                writeln!(out, "SMF bytes differ: {} vs {} bytes, first difference at byte {first}", a.len(), b.len());
            if let (Ok(ma), Ok(mb)) = (simple_smf::read(a), simple_smf::read(b)) {
                let (da, dbg) = (format!("{ma:#?}"), format!("{mb:#?}"));
                if let Some((k, (la, lb))) = da.lines().zip(dbg.lines()).enumerate().find(|(_, (x, y))| x != y) {
                    let _ = writeln!(out, "first differing line ({k}) of the modules:\n  {which}: {la}\n  fresh: {lb}");
                }
            }
        }
        (a, b) if a != b => {
            let show = |r: &Result<Vec<u8>, BuildError>| match r {
                Ok(bytes) => format!("Ok({} bytes)", bytes.len()),
                Err(e) => format!("Err({e:?})"),
            };
            let _ = writeln!(out, "link results differ: {which} {} vs fresh {}", show(a), show(b));
        }
        _ => {}
    }
    out
}

#[derive(Default)]
struct Stats {
    steps: usize,
    ok: usize,
    expected_ok: usize,
    expected_ok_failed: usize,
    parallel_steps: usize,
    no_opt_steps: usize,
    transient_steps: usize,
    kinds: BTreeMap<&'static str, usize>,
    errors: BTreeMap<String, usize>,
    first_unexpected: Option<String>,
    /// Steps by number of module files.
    module_counts: BTreeMap<usize, usize>,
    files_added: usize,
    files_removed: usize,
    /// Paths back in the project with a new input, or their old one.
    new_inputs: usize,
    reused_inputs: usize,
    stale_texts: usize,
    /// Import lines: `import mJ` and `from mJ import ...`.
    module_imports: usize,
    name_imports: usize,
    cached_builds: usize,
    /// Steps of `watch` sequences (the long-lived database has a
    /// `CodeCache`), and the functions it took from it.
    watch_steps: usize,
    watch_reused: usize,
    cached_fns: usize,
    cached_reused: usize,
    /// Files whose object a cached build reused.
    cached_objects: usize,
    cache_stored: usize,
}

/// What a sequence varies.
#[derive(Clone, Copy)]
struct Mode {
    /// Programs of 32 functions or more.
    big: bool,
    /// `Options::no_opt` switches between steps.
    toggle_options: bool,
    /// Programs span an entry file and 0 to 4 modules, a number that changes
    /// between steps.
    modules: bool,
}

/// One edit of `prog`: restores the program saved by an earlier breaking
/// edit when its step has come, otherwise a random edit.
fn step_edit(
    rng: &mut Rng,
    prog: &mut Program,
    step: usize,
    pending: &mut Option<(usize, Program)>,
    history: &[Program],
) -> &'static str {
    if let Some((at, saved)) = pending.take_if(|(at, _)| *at == step) {
        debug_assert_eq!(at, step);
        *prog = saved;
        return "restore";
    }
    let before = prog.clone();
    let breaking = rng.chance(18);
    let table = if breaking { BREAKING } else { EDITS };
    for _ in 0..20 {
        let kind = pick_kind(rng, table);
        let history = if pending.is_none() { history } else { &[] };
        if edit(rng, prog, kind, history) {
            if breaking && pending.is_none() {
                *pending = Some((step + 1 + rng.below(3), before));
            }
            return kind;
        }
    }
    "noop"
}

fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

/// Texts given to files out of the project.
const STALE_TEXTS: [&str; 4] = ["", "fn broken(\n", "pub fn f1() -> i64: 1\n", "pub const K1: i64 = 2\n"];

fn run_sequence(seed: u64, steps: usize, mode: Mode, stats: &mut Stats) {
    let Mode { big, toggle_options, modules } = mode;
    // Like `watch`: the long-lived database loads the code cache now and
    // then, and stores what it compiled.
    let watch = modules && seed % 2 == 1;
    let mut rng = Rng::new(seed);
    // The files and the cache draw from their own numbers, so that the
    // programs and edits of a seed do not depend on them.
    let mut aux = Rng::new(seed ^ 0x00C0_FFEE_D1FF_0000);
    let mut prog = generate(&mut rng, big, true);
    let mut modules_now = if modules { 1 + aux.below(4) } else { 0 };
    // Which files import which modules with `import mJ` (see `render_files`).
    let mut qualified = 0;
    let mut ll = LongLived::new();
    let mut disk = Disk::default();
    let mut snapshots: Vec<Snapshot> = Vec::new();
    let mut kinds: Vec<&'static str> = Vec::new();
    let mut history: Vec<Program> = Vec::new();
    // The program before the first pending breaking edit, and the step that restores it.
    let mut pending: Option<(usize, Program)> = None;
    let mut options = Options::default();
    for step in 0..=steps {
        let kind = if step == 0 { "initial" } else { step_edit(&mut rng, &mut prog, step, &mut pending, &history) };
        kinds.push(kind);
        *stats.kinds.entry(kind).or_default() += 1;
        if pending.is_none() {
            history.push(prog.clone());
        }
        // Sometimes the options change, or a text is replaced before anything saw it.
        if toggle_options && step > 0 && rng.chance(25) {
            options.no_opt = !options.no_opt;
        }
        let transient = (step > 0 && rng.chance(15)).then(|| {
            let mut other = prog.clone();
            let table = if rng.chance(50) { EDITS } else { BREAKING };
            let kind = pick_kind(&mut rng, table);
            edit(&mut rng, &mut other, kind, &[]);
            other
        });
        // Sometimes a module file is added or removed.
        if modules && step > 0 && aux.chance(25) {
            modules_now = match modules_now {
                0 => 1,
                4 => 3,
                k if aux.chance(50) => k + 1,
                k => k - 1,
            };
        }
        if modules && (step == 0 || aux.chance(20)) {
            qualified = aux.next() as u32;
        }
        let files = prog.render_files(modules_now, qualified);
        let before = ll.paths();
        let (mut new_inputs, mut reused) = (Vec::new(), 0);
        for (path, _) in &files {
            if !before.contains(path) && ll.inputs.contains_key(path) {
                if aux.chance(50) {
                    new_inputs.push(path.clone());
                } else {
                    reused += 1;
                }
            }
        }
        let outside: Vec<&String> = ll.inputs.keys().filter(|p| !files.iter().any(|f| f.0 == **p)).collect();
        let stale = (!outside.is_empty() && aux.chance(30))
            .then(|| (aux.pick(&outside).clone(), aux.pick(&STALE_TEXTS).to_string()));
        let mut cache_order: Vec<usize> = (0..files.len()).collect();
        for i in (1..cache_order.len()).rev() {
            cache_order.swap(i, aux.below(i + 1));
        }
        let snap = Snapshot {
            step,
            options,
            transient: transient.map(|p| p.render_files(modules_now, qualified)),
            new_inputs,
            stale,
            cache_order,
            cache_filter: aux.chance(50),
            cache_objects: aux.chance(70),
            // Every step with modules, every other one (on average) without.
            cached_build: modules || aux.chance(50),
            load: (watch && step > 0 && aux.chance(15)).then(|| Arc::new(disk.clone())),
            files,
        };
        *stats.module_counts.entry(modules_now).or_default() += 1;
        stats.files_added += snap.files.iter().filter(|f| step > 0 && !before.contains(&f.0)).count();
        stats.files_removed += before.iter().filter(|p| !snap.files.iter().any(|f| f.0 == **p)).count();
        stats.new_inputs += snap.new_inputs.len();
        stats.reused_inputs += reused;
        stats.stale_texts += snap.stale.is_some() as usize;
        for (_, text) in &snap.files {
            stats.module_imports += text.lines().filter(|l| l.starts_with("import m")).count();
            stats.name_imports += text.lines().filter(|l| l.starts_with("from m")).count();
        }
        ll.apply(&snap);
        snapshots.push(snap);
        let snap = &snapshots[snapshots.len() - 1];
        let show_files =
            || snap.files.iter().map(|(path, text)| format!("----- {path} -----\n{text}")).collect::<String>();

        let (fdb, fproject, fresh) = catch_unwind(AssertUnwindSafe(|| fresh_db_build(&snap.files, options)))
            .unwrap_or_else(|e| {
                panic!(
                    "a fresh build panicked ({}): seed {seed}, step {step}, edit {kind:?}, {options:?}\n{}",
                    panic_message(&*e),
                    show_files()
                )
            });
        let incremental = catch_unwind(AssertUnwindSafe(|| query(&ll.db, ll.project, step))).unwrap_or_else(|e| {
            panic!(
                "the long-lived database panicked ({}) where a fresh build did not: seed {seed}, step {step}, \
                 edit {kind:?}, {options:?}\n{}",
                panic_message(&*e),
                show_files()
            )
        });
        if watch {
            stats.watch_steps += 1;
            stats.watch_reused += functions(&ll.db, ll.project)
                .into_iter()
                .filter(|&(_, f)| persist::fn_cached(&ll.db, f).is_some())
                .count();
        }
        let keys = check_keys("incremental", &ll.db, ll.project, (&fdb, fproject));
        if incremental != fresh || keys.is_err() {
            // The shortest suffix of the sequence that still reproduces.
            let start = (0..snapshots.len()).rev().find(|&k| replay_differs(&snapshots[k..])).unwrap_or(0);
            panic!(
                "incremental build differs from a fresh build\n\
                 seed {seed} (big: {big}, modules: {modules}), step {step}, edit {kind:?}, options {options:?}\n\
                 edits so far: {kinds:?}\n{}{}\
                 a fresh long-lived database reproduces it with the last {} snapshot(s) of the sequence:\n{}",
                keys.err().unwrap_or_default(),
                describe_difference("incremental", &incremental, &fresh),
                snapshots.len() - start,
                show_snapshots(&snapshots[start..]),
            );
        }

        if watch && incremental.ok() {
            // As `watch` stores after a build: keys and code of the long-lived database.
            stats.cache_stored += disk.store(&ll.db, ll.project, step);
        }
        if snap.cached_build {
            // A later process with the code cache stored so far.
            let (cdb, cproject, cached) = catch_unwind(AssertUnwindSafe(|| {
                let (cdb, cproject) = cached_db(snap, &disk);
                let build = query(&cdb, cproject, step);
                (cdb, cproject, build)
            }))
            .unwrap_or_else(|e| {
                panic!(
                    "a build with the code cache panicked ({}) where a fresh build did not: seed {seed}, step {step}, \
                     edit {kind:?}, {options:?}\n{}",
                    panic_message(&*e),
                    show_files()
                )
            });
            let reuse = check_reuse((&cdb, cproject), (&fdb, fproject), &disk)
                .and_then(|r| check_keys("cached", &cdb, cproject, (&fdb, fproject)).map(|()| r));
            if cached != fresh || reuse.is_err() {
                let start = (0..snapshots.len()).rev().find(|&k| replay_cached_differs(&snapshots[k..])).unwrap_or(0);
                panic!(
                    "a build with the code cache differs from a fresh build\n\
                     seed {seed} (big: {big}, modules: {modules}), step {step}, edit {kind:?}, options {options:?}\n\
                     edits so far: {kinds:?}\n{}{}\
                     cached builds from an empty cache reproduce it with the last {} snapshot(s) of the sequence:\n{}",
                    reuse.err().unwrap_or_default(),
                    describe_difference("cached", &cached, &fresh),
                    snapshots.len() - start,
                    show_snapshots(&snapshots[start..]),
                );
            }
            let reuse = reuse.unwrap_or_default();
            stats.cached_builds += 1;
            stats.cached_reused += reuse.fns;
            stats.cached_fns += reuse.of;
            stats.cached_objects += reuse.objects;
            if cached.ok() {
                stats.cache_stored += disk.store(&cdb, cproject, step);
            }
        } else if fresh.ok() {
            // As a driver that built without the cache would.
            stats.cache_stored += disk.store(&fdb, fproject, step);
        }

        stats.steps += 1;
        stats.ok += fresh.ok() as usize;
        stats.parallel_steps += (big && step % 2 == 1) as usize;
        stats.no_opt_steps += options.no_opt as usize;
        stats.transient_steps += snap.transient.is_some() as usize;
        for d in fresh.diagnostics.iter().filter(|d| d.level == Level::Error) {
            *stats.errors.entry(d.message.chars().take(40).collect()).or_default() += 1;
        }
        if pending.is_none() {
            stats.expected_ok += 1;
            if !fresh.ok() {
                stats.expected_ok_failed += 1;
                if stats.first_unexpected.is_none() {
                    stats.first_unexpected = Some(format!(
                        "seed {seed} step {step} edit {kind:?}: {:?}\n{}",
                        fresh.diagnostics.iter().take(3).collect::<Vec<_>>(),
                        show_files()
                    ));
                }
            }
        }
    }
}

fn run(name: &str, seeds: std::ops::Range<u64>, steps: usize, mode: Mode) {
    let start = std::time::Instant::now();
    let mut stats = Stats::default();
    for seed in seeds.clone() {
        run_sequence(seed, steps, mode, &mut stats);
    }
    eprintln!(
        "{name}: {} sequences, {} builds compared in {:.1?}: {} compiled; {} expected to compile, of which {} did; \
         {} with parallel codegen threads, {} without MIR optimisation, {} after a transient text",
        seeds.end - seeds.start,
        stats.steps,
        start.elapsed(),
        stats.ok,
        stats.expected_ok,
        stats.expected_ok - stats.expected_ok_failed,
        stats.parallel_steps,
        stats.no_opt_steps,
        stats.transient_steps,
    );
    eprintln!(
        "{name}: code cache: {} cached builds reused {} of {} functions and {} files' objects; {} entries stored",
        stats.cached_builds, stats.cached_reused, stats.cached_fns, stats.cached_objects, stats.cache_stored
    );
    if mode.modules {
        eprintln!(
            "{name}: watch: {} incremental builds with a code cache took {} functions from it",
            stats.watch_steps, stats.watch_reused
        );
    }
    if mode.modules {
        eprintln!(
            "{name}: files: steps by number of modules {:?}; {} files added, {} removed; {} came back with a new \
             input, {} with their old one; {} texts of files outside the project changed; {} `import mJ` and {} \
             `from mJ import` lines",
            stats.module_counts,
            stats.files_added,
            stats.files_removed,
            stats.new_inputs,
            stats.reused_inputs,
            stats.stale_texts,
            stats.module_imports,
            stats.name_imports,
        );
    }
    eprintln!("edits: {:?}", stats.kinds);
    eprintln!("errors: {:?}", stats.errors);
    if let Some(first) = &stats.first_unexpected {
        eprintln!("first build expected to compile that did not: {first}");
    }
    // Not vacuous: most builds produce code, and the program is valid
    // whenever no breaking edit is pending.
    assert!(stats.ok * 2 > stats.steps, "only {} of {} builds compiled", stats.ok, stats.steps);
    assert!(
        stats.expected_ok_failed * 20 <= stats.expected_ok,
        "{} of {} builds expected to compile did not",
        stats.expected_ok_failed,
        stats.expected_ok
    );
    let missing: Vec<&str> =
        EDITS.iter().chain(BREAKING).map(|e| e.0).filter(|k| !stats.kinds.contains_key(k) && *k != "revert").collect();
    assert!(stats.steps < 500 || missing.len() <= 2, "edits never applied: {missing:?}");
    // The cached builds took much of their code from the cache.
    assert!(
        stats.cached_reused * 10 > stats.cached_fns,
        "cached builds reused only {} of {} functions",
        stats.cached_reused,
        stats.cached_fns
    );
    assert!(stats.cached_objects > 0, "no cached build reused a file's object");
    if mode.modules {
        assert!(stats.module_counts.len() == 5, "not every number of modules: {:?}", stats.module_counts);
        assert!(stats.files_added > 0 && stats.files_removed > 0, "no file was added or removed");
        assert!(stats.new_inputs > 0 && stats.reused_inputs > 0, "no path came back with a new and an old input");
        assert!(stats.stale_texts > 0, "no file out of the project changed");
        assert!(stats.module_imports > 0 && stats.name_imports > 0, "not both kinds of imports");
        assert!(stats.watch_reused > 0, "the long-lived database never used a loaded code cache");
    }
}

const SINGLE: Mode = Mode { big: false, toggle_options: false, modules: false };

#[test]
fn incremental_builds_equal_fresh_builds() {
    run("small programs", 0..40, 15, SINGLE);
}

/// Programs of 32 functions or more, so that `parallel::codegen` starts threads
/// (on a machine with two cores or more).
#[test]
fn incremental_builds_equal_fresh_builds_with_parallel_codegen() {
    run("large programs", 1000..1008, 15, Mode { big: true, ..SINGLE });
}

/// The same, with `Options::no_opt` switched on and off in the long-lived
/// database between steps (and the same options in the fresh one).
#[test]
fn incremental_builds_equal_fresh_builds_when_options_change() {
    run("options", 2000..2016, 15, Mode { toggle_options: true, ..SINGLE });
}

/// Programs spread over an entry file and modules that come and go.
#[test]
fn incremental_builds_equal_fresh_builds_with_modules() {
    run("modules", 3000..3024, 20, Mode { modules: true, ..SINGLE });
}

/// Large programs over modules, so that `parallel::codegen` starts threads.
#[test]
fn incremental_builds_equal_fresh_builds_with_large_modules() {
    run("large modules", 4000..4003, 20, Mode { big: true, modules: true, ..SINGLE });
}

/// Found by the tests above (not incremental bugs): code generation without
/// MIR optimisation once panicked on a `return` or `break` inside an `if` or
/// loop (unreachable blocks jumped into sealed ones), and dead code after a
/// final `return` once produced invalid MIR.
#[test]
fn early_returns_and_dead_code_compile_with_and_without_optimisation() {
    let programs = [
        "fn f(k: bool):\n    if k: return\nf(true)\n",
        "var i = 0\nwhile i < 3:\n    if i == 1: break\n    i += 1\n",
        "fn f(k: bool) -> i64:\n    return 2\n    println(1)\nprintln(f(true))\n",
    ];
    for text in programs {
        for no_opt in [false, true] {
            let build = fresh_build(&[(PATH.into(), text.into())], Options { no_opt, ..Options::default() });
            assert!(build.ok(), "{text} (no_opt: {no_opt}): {build:?}");
        }
    }
}
