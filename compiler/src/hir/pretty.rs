//! A readable text form of typed HIR, for `simple dump hir` and tests.
//!
//! Locals print as `name_N` (N is the local's index, so shadowed bindings
//! stay distinct); every call, operator and cast shows its result type.

use std::fmt::Write;

use super::{Block, Builtin, Expr, ExprKind, FnHir, LocalId, ParamValue, Pat, Place, Stmt};
use crate::consts::ConstValue;
use simple_syntax::ast::UnaryOp;

pub fn pretty(hir: &FnHir) -> String {
    let mut p = Printer { hir, out: String::new(), indent: 0 };
    let params: Vec<String> = (0..hir.param_count)
        .map(|i| {
            let l = &hir.locals[i as usize];
            format!("{}: {}", p.local(LocalId(i)), l.ty)
        })
        .collect();
    let _ = write!(p.out, "fn {}({}) -> {}", hir.name, params.join(", "), hir.ret);
    p.block(&hir.body);
    p.out.push('\n');
    p.out
}

struct Printer<'a> {
    hir: &'a FnHir,
    out: String,
    indent: usize,
}

impl Printer<'_> {
    fn local(&self, id: LocalId) -> String {
        let name = self.hir.locals.get(id.0 as usize).map_or("?", |l| l.name.as_str());
        format!("{name}_{}", id.0)
    }

    fn line(&mut self, text: &str) {
        self.out.push('\n');
        self.out.push_str(&"    ".repeat(self.indent));
        self.out.push_str(text);
    }

    /// ` {` … `}` around the block's statements and tail.
    fn block(&mut self, block: &Block) {
        self.out.push_str(" {");
        self.indent += 1;
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        if let Some(tail) = &block.tail {
            let text = self.expr(tail);
            self.line(&format!("=> {text}"));
        }
        self.indent -= 1;
        self.line("}");
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Let { local, init } => {
                let ty = &self.hir.locals[local.0 as usize].ty;
                let mutable = if self.hir.locals[local.0 as usize].mutable { "mut " } else { "" };
                let text = format!("let {mutable}{}: {ty} = {}", self.local(*local), self.expr(init));
                self.line(&text);
            }
            Stmt::Assign { place, value, .. } => {
                let text = format!("{} = {}", self.place(place), self.expr(value));
                self.line(&text);
            }
            Stmt::Expr(e) => {
                let text = self.expr(e);
                self.line(&text);
            }
            Stmt::Return { value, .. } => {
                let text = value.as_ref().map_or("return".to_string(), |v| format!("return {}", self.expr(v)));
                self.line(&text);
            }
            Stmt::Break => self.line("break"),
            Stmt::Continue => self.line("continue"),
            Stmt::While { cond, body } => {
                let text = format!("while {}", self.expr(cond));
                self.line(&text);
                self.block(body);
            }
            Stmt::Loop { body } => {
                self.line("loop");
                self.block(body);
            }
            Stmt::ForRange { var, start, end, step, inclusive, body } => {
                let range = if *inclusive { "..=" } else { ".." };
                let step = step.as_ref().map_or(String::new(), |s| format!(" step {}", self.expr(s)));
                let text = format!("for {} in {}{range}{}{step}", self.local(*var), self.expr(start), self.expr(end));
                self.line(&text);
                self.block(body);
            }
            Stmt::ForEach { list, index, elem, unpack, body } => {
                let index = index.map_or_else(String::new, |i| format!("{}, ", self.local(i)));
                let text = format!("for {index}{} in {}", self.local(*elem), self.expr(list));
                self.line(&text);
                for s in unpack {
                    self.stmt(s);
                }
                self.block(body);
            }
        }
    }

    fn expr(&mut self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::Const(c) => match c {
                ConstValue::I64(v) => v.to_string(),
                ConstValue::F64(bits) => format!("{:?}", bits.value()),
                ConstValue::Bool(b) => b.to_string(),
                ConstValue::Str(s) => format!("{s:?}"),
                ConstValue::Nil => "nil".into(),
            },
            ExprKind::Local(l) => self.local(*l),
            ExprKind::Call { symbol, args, params } => {
                let args: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
                format!("{symbol}({}) [{}]: {}", args.join(", "), params_text(params), e.ty)
            }
            ExprKind::Builtin { builtin, args } => {
                let args: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
                format!("{}({}): {}", builtin_name(*builtin), args.join(", "), e.ty)
            }
            ExprKind::Binary { op, lhs, rhs, .. } => {
                format!("({} {} {}): {}", self.expr(lhs), op.symbol(), self.expr(rhs), e.ty)
            }
            ExprKind::Chain { operands, ops } => {
                let mut text = self.expr(&operands[0]);
                for (operand, (op, _)) in operands[1..].iter().zip(ops) {
                    let _ = write!(text, " {} {}", op.symbol(), self.expr(operand));
                }
                format!("({text})")
            }
            ExprKind::Unary { op, operand } => {
                let sym = match op {
                    UnaryOp::Neg => "-",
                    UnaryOp::Not => "not ",
                    UnaryOp::BitNot => "~",
                };
                format!("({sym}{}): {}", self.expr(operand), e.ty)
            }
            ExprKind::Cast { expr } => format!("({} as {})", self.expr(expr), e.ty),
            ExprKind::If { branches, else_block } => {
                // Blocks go on their own lines: print into a nested printer.
                let mut nested = Printer { hir: self.hir, out: String::new(), indent: self.indent };
                for (i, (cond, block)) in branches.iter().enumerate() {
                    let kw = if i == 0 { "if" } else { " elif" };
                    let cond = nested.expr(cond);
                    let _ = write!(nested.out, "{kw} {cond}");
                    nested.block(block);
                }
                if let Some(block) = else_block {
                    nested.out.push_str(" else");
                    nested.block(block);
                }
                let _ = write!(nested.out, ": {}", e.ty);
                nested.out
            }
            ExprKind::Interp(parts) => {
                let parts: Vec<String> = parts.iter().map(|p| self.expr(p)).collect();
                format!("interp({})", parts.join(", "))
            }
            ExprKind::Record { args, fields } => {
                format!("{} {{{}}}: {}", e.ty, self.args(args, fields), e.ty)
            }
            ExprKind::Variant { index, args, fields } => {
                format!("variant {index} {{{}}}: {}", self.args(args, fields), e.ty)
            }
            ExprKind::Field { base, index } => format!("{}.{index}: {}", self.expr(base), e.ty),
            ExprKind::Some(x) => format!("some({}): {}", self.expr(x), e.ty),
            ExprKind::Coalesce { opt, default } => format!("({} ?? {}): {}", self.expr(opt), self.expr(default), e.ty),
            ExprKind::Unwrap(x) => format!("{}.unwrap(): {}", self.expr(x), e.ty),
            ExprKind::MutCall { place, symbol, args, params } => {
                let args: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
                format!("{symbol}({}) [{}] -> {}: {}", args.join(", "), params_text(params), self.place(place), e.ty)
            }
            ExprKind::Match { scrutinee, arms } => {
                let mut nested = Printer { hir: self.hir, out: String::new(), indent: self.indent };
                let s = nested.expr(scrutinee);
                let _ = write!(nested.out, "match {s}");
                for arm in arms {
                    let pat = nested.pat(&arm.pattern);
                    let _ = write!(nested.out, " case {pat}");
                    if let Some(g) = &arm.guard {
                        let g = nested.expr(g);
                        let _ = write!(nested.out, " if {g}");
                    }
                    nested.block(&arm.body);
                }
                let _ = write!(nested.out, ": {}", e.ty);
                nested.out
            }
            ExprKind::Format { value, spec } => format!("format({}, {spec:?})", self.expr(value)),
            ExprKind::Method { method, args, .. } => {
                let args: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
                format!("{method:?}({}): {}", args.join(", "), e.ty)
            }
            ExprKind::List(xs) => {
                let xs: Vec<String> = xs.iter().map(|x| self.expr(x)).collect();
                format!("[{}]: {}", xs.join(", "), e.ty)
            }
            ExprKind::Dict(entries) => {
                let entries: Vec<String> =
                    entries.iter().map(|(k, v)| format!("{}: {}", self.expr(k), self.expr(v))).collect();
                format!("{{{}}}: {}", entries.join(", "), e.ty)
            }
            ExprKind::Index { base, index } => format!("{}[{}]: {}", self.expr(base), self.expr(index), e.ty),
            ExprKind::Slice { base, start, end } => {
                let start = start.as_ref().map_or_else(String::new, |x| self.expr(x));
                let end = end.as_ref().map_or_else(String::new, |x| self.expr(x));
                format!("{}[{start}:{end}]: {}", self.expr(base), e.ty)
            }
            ExprKind::Error => "<error>".into(),
        }
    }

    fn args(&mut self, args: &[Expr], fields: &[ParamValue]) -> String {
        let args: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
        format!("{}; {}", args.join(", "), params_text(fields))
    }

    fn place(&mut self, place: &Place) -> String {
        match place {
            Place::Local(l) => self.local(*l),
            Place::Field(inner, index) => format!("{}.{index}", self.place(inner)),
            Place::ObjectField(object, index) => format!("{}.{index}", self.expr(object)),
            Place::Index(base, index) => format!("{}[{}]", self.expr(base), self.expr(index)),
        }
    }

    fn pat(&mut self, pat: &Pat) -> String {
        match pat {
            Pat::Wild => "_".into(),
            Pat::Bind(l) => self.local(*l),
            Pat::Const(c) => format!("{c:?}"),
            Pat::Range { lo, hi, inclusive } => format!("{lo}..{}{hi}", if *inclusive { "=" } else { "" }),
            Pat::Record(fields) => {
                let fields: Vec<String> = fields.iter().map(|(i, p)| format!("{i}: {}", self.pat(p))).collect();
                format!("{{{}}}", fields.join(", "))
            }
            Pat::Variant { index, fields } => {
                let fields: Vec<String> = fields.iter().map(|(i, p)| format!("{i}: {}", self.pat(p))).collect();
                format!("variant {index} {{{}}}", fields.join(", "))
            }
            Pat::Nil => "nil".into(),
            Pat::Some(inner) => format!("some({})", self.pat(inner)),
            Pat::Or(alternatives) => {
                let alts: Vec<String> = alternatives.iter().map(|p| self.pat(p)).collect();
                alts.join(" | ")
            }
        }
    }
}

fn params_text(params: &[ParamValue]) -> String {
    let params: Vec<String> = params
        .iter()
        .map(|p| match p {
            ParamValue::Arg(i) => format!("#{i}"),
            ParamValue::Default(..) => "default".into(),
        })
        .collect();
    params.join(", ")
}

fn builtin_name(b: Builtin) -> &'static str {
    match b {
        Builtin::Print { newline: false, stderr: false } => "print",
        Builtin::Print { newline: true, stderr: false } => "println",
        Builtin::Print { newline: false, stderr: true } => "eprint",
        Builtin::Print { newline: true, stderr: true } => "eprintln",
        Builtin::Str => "str",
        Builtin::Assert => "assert",
        Builtin::Exit => "exit",
        Builtin::Abs => "abs",
        Builtin::Min => "min",
        Builtin::Max => "max",
        Builtin::Sqrt => "sqrt",
        Builtin::Floor => "floor",
        Builtin::Ceil => "ceil",
        Builtin::Clock => "clock",
        Builtin::Args => "args",
        Builtin::ReadLine => "read_line",
        Builtin::ReadFile => "read_file",
        Builtin::WriteFile => "write_file",
    }
}
