//! The type checker: AST of one function → typed HIR plus diagnostics.
//!
//! It resolves names, checks and infers types, checks calls against
//! signatures, tracks which code can be reached (for `unreachable code` and
//! missing return values) and rejects constructs of later tiers with a
//! "not supported yet" diagnostic at their span. It never stops at the first
//! error: a wrong expression gets type [`Ty::Error`], which fits everywhere.

use simple_syntax::Span;
use simple_syntax::ast::{self, BinOp, ExprKind as A, StmtKind, UnaryOp};

mod collections;
mod data;
mod patterns;

use super::{
    Adt, AdtDef, AdtKind, Block, Builtin, Expr, ExprKind, FnHir, LocalId, LocalInfo, ParamValue, Place, Stmt, Ty,
};
use crate::consts::{self, ConstValue};
use crate::diagnostics::{RelDiagnostic, RelSpan};
use crate::items::{FnSource, FnSourceKind, ParamSig, SelfKind, Signature, TypeNames, resolve_type};

/// A module-level definition a name refers to.
pub enum Def<'a> {
    Fn {
        symbol: String,
        sig: &'a Signature,
        is_script: bool,
    },
    /// A constant's value, or `Err(type)` if it has an error already reported.
    Const(Result<ConstValue, Ty>),
    /// A module or package bound by an import, by module path.
    Module(Vec<String>),
    /// A struct, class or enum.
    Type(Adt),
}

/// What a function body can see at module level: the file's own functions
/// and constants, and what its imports bind.
pub trait Scope {
    fn lookup(&self, name: &str) -> Option<Def<'_>>;
    /// `module.name`: `None` if there is no such member, `Err(message)` if it
    /// exists but may not be used from here (it is private).
    fn member(&self, module: &[String], name: &str) -> Option<Result<Def<'_>, String>>;
    /// The fields or variants of a type (`None` if it is gone).
    fn adt_def(&self, adt: &Adt) -> Option<&AdtDef>;
    /// The method or static function `name` of a type, or why it may not be
    /// used from here.
    fn method(&self, adt: &Adt, name: &str) -> Option<Result<Def<'_>, String>>;
    /// The types written types may name.
    fn types(&self) -> &dyn TypeNames;
    /// Whether `adt` is declared in the file being checked (its private
    /// fields are visible).
    fn is_local_type(&self, adt: &Adt) -> bool;
}

pub fn check_fn(scope: &dyn Scope, source: &FnSource, sig: &Signature) -> FnHir {
    let mut cx = Checker {
        scope,
        part: 0,
        locals: Vec::new(),
        scopes: vec![Vec::new()],
        ret: sig.ret.clone(),
        loops: Vec::new(),
        diags: Vec::new(),
        exit_status: None,
        poisoned: Default::default(),
    };
    let (name, body, param_count) = match &source.kind {
        FnSourceKind::Def(def) => {
            for (param, psig) in def.params.iter().zip(&sig.params) {
                // `mut self` may assign to fields of `self`.
                cx.bind(&param.name.text, psig.ty.clone(), param.ty.is_none() && param.is_mut);
            }
            let body = match &def.body {
                Some(block) => cx.fn_body(def, block),
                None => Block::default(),
            };
            (def.name.text.to_string(), body, sig.params.len() as u32)
        }
        FnSourceKind::Script(stmts) => {
            let body = cx.script_body(stmts);
            (crate::items::SCRIPT_MAIN.to_string(), body, 0)
        }
    };
    FnHir {
        name,
        locals: cx.locals,
        param_count,
        ret: sig.ret.clone(),
        body,
        exit_status: cx.exit_status,
        returns_self: sig.self_kind == Some(SelfKind::Mut)
            && matches!(sig.params.first().map(|p| &p.ty), Some(Ty::Adt(adt)) if adt.kind() != AdtKind::Class),
        poisoned: cx.poisoned.get(),
        diagnostics: cx.diags,
    }
}

struct Checker<'a> {
    scope: &'a dyn Scope,
    /// The part of the function being checked (see `FnSource::parts`).
    part: u32,
    locals: Vec<LocalInfo>,
    scopes: Vec<Vec<(String, LocalId)>>,
    ret: Ty,
    /// For each enclosing loop: whether a `break` leaves it.
    loops: Vec<bool>,
    diags: Vec<RelDiagnostic>,
    exit_status: Option<LocalId>,
    /// Whether an error expression was made (see `poison`).
    poisoned: std::cell::Cell<bool>,
}

/// Whether control can continue after a statement.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continues,
    Diverges,
}

impl<'a> Checker<'a> {
    fn rel(&self, span: Span) -> RelSpan {
        RelSpan { part: self.part, span }
    }

    fn error(&mut self, span: Span, message: impl Into<String>) -> &mut RelDiagnostic {
        let d = RelDiagnostic::error(self.rel(span), message);
        self.diags.push(d);
        self.diags.last_mut().expect("just pushed")
    }

    fn mismatch(&mut self, span: Span, expected: &Ty, found: &Ty) {
        if found.fits(expected) {
            return;
        }
        self.error(span, format!("mismatched types: expected `{expected}`, found `{found}`")).label =
            Some(format!("expected `{expected}`"));
    }

    /// `x` as a value of type `expected`: as it is, or wrapped into an
    /// optional; a mismatch is reported at `span`.
    fn coerce(&mut self, x: Expr, expected: &Ty, span: Span) -> Expr {
        if x.ty.fits(expected) {
            return x;
        }
        if let Ty::Optional(inner) = expected {
            if x.ty == Ty::Nil {
                return Expr { kind: ExprKind::Const(ConstValue::Nil), ty: expected.clone(), span: x.span };
            }
            if x.ty.coerces_to(inner) {
                let inner = self.coerce(x, inner, span);
                let span = inner.span;
                return Expr { kind: ExprKind::Some(Box::new(inner)), ty: expected.clone(), span };
            }
        }
        self.mismatch(span, expected, &x.ty);
        x
    }

    fn unsupported(&mut self, span: Span, what: &str) -> Expr {
        self.error(span, format!("{what} not supported yet"));
        self.error_expr(span)
    }

    fn error_expr(&self, span: Span) -> Expr {
        self.poison(Ty::Error, span)
    }

    /// An expression standing for one with an error, of type `ty`. Its
    /// function is never lowered, even if the error was reported elsewhere
    /// (a constant's).
    fn poison(&self, ty: Ty, span: Span) -> Expr {
        self.poisoned.set(true);
        Expr { kind: ExprKind::Error, ty, span: self.rel(span) }
    }

    fn bind(&mut self, name: &str, ty: Ty, mutable: bool) -> LocalId {
        let id = LocalId(self.locals.len() as u32);
        self.locals.push(LocalInfo { name: name.to_string(), ty, mutable });
        self.scopes.last_mut().expect("function scope").push((name.to_string(), id));
        id
    }

    /// A local the program cannot name: a value kept for later parts of a
    /// statement.
    fn bind_hidden(&mut self, ty: Ty) -> LocalId {
        let id = LocalId(self.locals.len() as u32);
        self.locals.push(LocalInfo { name: format!("${}", id.0), ty, mutable: false });
        id
    }

    fn lookup_local(&self, name: &str) -> Option<LocalId> {
        self.scopes.iter().rev().flat_map(|s| s.iter().rev()).find(|(n, _)| n == name).map(|(_, id)| *id)
    }

    fn fn_body(&mut self, def: &ast::FnDef, block: &ast::Block) -> Block {
        let wants_value = !matches!(self.ret, Ty::Nil | Ty::Error);
        let ret = self.ret.clone();
        let (body, flow) = self.block(block, wants_value.then_some(&ret));
        if wants_value && flow == Flow::Continues {
            let tail_ty = body.tail.as_ref().map(|t| &t.ty);
            match tail_ty {
                Some(ty) if *ty != Ty::Nil => {
                    let span = block.stmts.last().map_or(block.span, |s| s.span);
                    self.mismatch(span, &ret, ty);
                }
                _ => {
                    let name = &def.name;
                    self.error(
                        name.span,
                        format!("function `{}` may reach its end without returning a value", name.text),
                    )
                    .label = Some(format!("expected `{}` because of this return type", self.ret));
                }
            }
        }
        body
    }

    fn script_body(&mut self, stmts: &[ast::Stmt]) -> Block {
        let mut out = Block::default();
        let mut diverged = false;
        let mut warned = false;
        for (i, stmt) in stmts.iter().enumerate() {
            self.part = i as u32;
            if diverged && !warned {
                warned = true;
                self.diags.push(RelDiagnostic::warning(self.rel(stmt.span), "unreachable code"));
            }
            if let StmtKind::Assign(assign) = &stmt.kind
                && let ast::AssignStmt { target, op: None, value, .. } = &**assign
                && let A::Name(name) = &target.kind
                && &*name.text == "main"
                && self.lookup_local("main").is_none()
            {
                let value = self.expr(value, Some(&Ty::I64));
                self.mismatch(stmt.span, &Ty::I64, &value.ty);
                if self.exit_status.is_some() {
                    self.error(target.span, "the exit status is set more than once");
                }
                let local = *self.exit_status.get_or_insert_with(|| {
                    let id = LocalId(self.locals.len() as u32);
                    self.locals.push(LocalInfo { name: "main".into(), ty: Ty::I64, mutable: true });
                    id
                });
                let span = self.rel(target.span);
                out.stmts.push(Stmt::Assign { place: Place::Local(local), value, span });
                continue;
            }
            let (s, flow) = self.stmt(stmt, false, None);
            diverged |= flow == Flow::Diverges;
            out.stmts.extend(s);
        }
        self.part = 0;
        out
    }

    /// Checks a block in a new scope. With `value`, the block's last
    /// expression statement becomes its tail value.
    fn block(&mut self, block: &ast::Block, value: Option<&Ty>) -> (Block, Flow) {
        self.scopes.push(Vec::new());
        let mut out = Block::default();
        let mut flow = Flow::Continues;
        let mut warned = false;
        let last = block.stmts.len().saturating_sub(1);
        for (i, stmt) in block.stmts.iter().enumerate() {
            if flow == Flow::Diverges && !warned {
                warned = true;
                self.diags.push(RelDiagnostic::warning(self.rel(stmt.span), "unreachable code"));
            }
            let is_tail = i == last && value.is_some();
            let (stmts, f) = self.stmt(stmt, is_tail, value);
            if f == Flow::Diverges {
                flow = Flow::Diverges;
            }
            for s in stmts {
                match s {
                    Stmt::Expr(e) if is_tail => out.tail = Some(Box::new(e)),
                    s => out.stmts.push(s),
                }
            }
        }
        self.scopes.pop();
        (out, flow)
    }

    fn stmt(&mut self, stmt: &ast::Stmt, is_tail: bool, value: Option<&Ty>) -> (Vec<Stmt>, Flow) {
        let span = stmt.span;
        match &stmt.kind {
            StmtKind::Let(binding) => {
                let ast::LetStmt { pattern, mutable, ty, value: init } = &**binding;
                let declared = ty.as_ref().map(|t| self.resolve(t));
                let Some(init) = init else {
                    self.error(span, "a binding needs an initial value");
                    return (Vec::new(), Flow::Continues);
                };
                let mut init = self.expr(init, declared.as_ref());
                if let Some(declared) = &declared {
                    let at = init.span.span;
                    init = self.coerce(init, declared, at);
                }
                let flow = if init.ty == Ty::Never { Flow::Diverges } else { Flow::Continues };
                let ty = declared.unwrap_or(match &init.ty {
                    Ty::Never => Ty::Error,
                    t => t.clone(),
                });
                let stmts = match &pattern.kind {
                    ast::PatternKind::Binding { name, mutable: pat_mut } => {
                        let local = self.bind(&name.text, ty, *mutable || *pat_mut);
                        vec![Stmt::Let { local, init }]
                    }
                    ast::PatternKind::Wildcard => {
                        let local = self.bind("_", ty, false);
                        vec![Stmt::Let { local, init }]
                    }
                    _ => self.destructure(pattern, init, ty, *mutable),
                };
                (stmts, flow)
            }
            StmtKind::Assign(assign) => {
                let ast::AssignStmt { target, op, op_span, value } = &**assign;
                (self.assign(target, *op, *op_span, value, span), Flow::Continues)
            }
            StmtKind::Expr(e) => {
                let expr = if is_tail { self.tail_expr(e, value) } else { self.stmt_expr(e) };
                let flow = if expr.ty == Ty::Never { Flow::Diverges } else { Flow::Continues };
                (vec![Stmt::Expr(expr)], flow)
            }
            StmtKind::Return(value) => {
                let value = match value {
                    Some(v) => {
                        let ret = self.ret.clone();
                        let expected = if ret == Ty::Nil { None } else { Some(&ret) };
                        let e = self.expr(v, expected);
                        Some(self.coerce(e, &ret, v.span))
                    }
                    None => {
                        let ret = self.ret.clone();
                        self.mismatch(span, &ret, &Ty::Nil);
                        None
                    }
                };
                (vec![Stmt::Return { value, span: self.rel(span) }], Flow::Diverges)
            }
            StmtKind::Break | StmtKind::Continue => {
                let is_break = matches!(stmt.kind, StmtKind::Break);
                match self.loops.last_mut() {
                    Some(breaks) => {
                        *breaks |= is_break;
                        (vec![if is_break { Stmt::Break } else { Stmt::Continue }], Flow::Diverges)
                    }
                    None => {
                        let kw = if is_break { "break" } else { "continue" };
                        self.error(span, format!("`{kw}` outside of a loop"));
                        (Vec::new(), Flow::Continues)
                    }
                }
            }
            StmtKind::While { cond, body } => {
                let cond = self.condition(cond);
                let (body, _) = self.loop_body(body);
                (vec![Stmt::While { cond, body: body.0 }], Flow::Continues)
            }
            StmtKind::Loop { body } => {
                let ((body, breaks), _) = self.loop_body(body);
                let flow = if breaks { Flow::Continues } else { Flow::Diverges };
                (vec![Stmt::Loop { body }], flow)
            }
            StmtKind::For(for_loop) => (
                self.for_loop(&for_loop.pattern, &for_loop.iter, &for_loop.body).into_iter().collect(),
                Flow::Continues,
            ),
            StmtKind::WhileLet(w) => (vec![self.while_let(&w.pattern, &w.value, &w.body)], Flow::Continues),
            StmtKind::Send { .. } => {
                self.unsupported(span, "actors are");
                (Vec::new(), Flow::Continues)
            }
            StmtKind::Item(_) => {
                self.unsupported(span, "nested items are");
                (Vec::new(), Flow::Continues)
            }
        }
    }

    /// Checks a loop body; returns it with whether a `break` leaves the loop.
    fn loop_body(&mut self, body: &ast::Block) -> ((Block, bool), Flow) {
        self.loops.push(false);
        let (block, flow) = self.block(body, None);
        let breaks = self.loops.pop().unwrap_or(false);
        ((block, breaks), flow)
    }

    fn condition(&mut self, cond: &ast::Expr) -> Expr {
        let e = self.expr(cond, Some(&Ty::Bool));
        self.mismatch(cond.span, &Ty::Bool, &e.ty);
        e
    }

    fn for_loop(&mut self, pattern: &ast::Pattern, iter: &ast::Expr, body: &ast::Block) -> Option<Stmt> {
        let (start, end, step, inclusive) = match &iter.kind {
            A::Range { start, end, inclusive } => (self.int_expr(start), self.int_expr(end), None, *inclusive),
            A::Call { callee, args } if matches!(&callee.kind, A::Name(n) if &*n.text == "range" && self.is_builtin_name("range")) =>
            {
                if args.iter().any(|a| a.name.is_some()) {
                    self.error(iter.span, "`range` takes no named arguments");
                }
                let mut ints: Vec<Expr> = args.iter().map(|a| self.int_expr(&a.value)).collect();
                match ints.len() {
                    1 => {
                        let end = ints.remove(0);
                        let zero = Expr { kind: ExprKind::Const(ConstValue::I64(0)), ty: Ty::I64, span: end.span };
                        (zero, end, None, false)
                    }
                    2 | 3 => {
                        let step = if ints.len() == 3 { ints.pop() } else { None };
                        let end = ints.pop().expect("len >= 2");
                        let start = ints.pop().expect("len >= 2");
                        (start, end, step, false)
                    }
                    n => {
                        self.error(iter.span, format!("`range` takes 1 to 3 arguments but {n} were supplied"));
                        return None;
                    }
                }
            }
            _ => return self.for_each(pattern, iter, body),
        };
        self.scopes.push(Vec::new());
        let var = match &pattern.kind {
            ast::PatternKind::Binding { name, .. } => self.bind(&name.text, Ty::I64, false),
            ast::PatternKind::Wildcard => self.bind("_", Ty::I64, false),
            _ => {
                self.unsupported(pattern.span, "destructuring patterns are");
                self.bind("_", Ty::I64, false)
            }
        };
        let ((body, _), _) = self.loop_body(body);
        self.scopes.pop();
        Some(Stmt::ForRange { var, start, end, step, inclusive, body })
    }

    fn int_expr(&mut self, e: &ast::Expr) -> Expr {
        let x = self.expr(e, Some(&Ty::I64));
        self.mismatch(e.span, &Ty::I64, &x.ty);
        x
    }

    fn assign(
        &mut self,
        target: &ast::Expr,
        op: Option<BinOp>,
        op_span: Span,
        value: &ast::Expr,
        span: Span,
    ) -> Vec<Stmt> {
        let mut stmts = Vec::new();
        let Some((place, ty)) = self.place(target, span, &mut stmts) else {
            self.expr(value, None);
            return Vec::new();
        };
        let value = match op {
            None => {
                let v = self.expr(value, Some(&ty));
                self.coerce(v, &ty, value.span)
            }
            Some(op) => {
                let lhs = self.place_value(&place, &ty, target.span);
                let rhs = self.expr(value, Some(&ty));
                let e = self.binary(op, self.rel(op_span), lhs, rhs, span);
                self.mismatch(span, &ty, &e.ty);
                e
            }
        };
        stmts.push(Stmt::Assign { place, value, span: self.rel(target.span) });
        stmts
    }

    /// An expression in statement position: its value is dropped, so an `if`
    /// needs no `else` and its branches may differ.
    fn stmt_expr(&mut self, e: &ast::Expr) -> Expr {
        match &e.kind {
            A::If { branches, else_block } => self.if_expr(e.span, branches, else_block.as_deref(), None, false),
            A::Match { scrutinee, arms } => self.match_value(e, scrutinee, arms, None, false),
            _ => self.expr(e, None),
        }
    }

    /// The last expression of a block whose value is used.
    fn tail_expr(&mut self, e: &ast::Expr, expected: Option<&Ty>) -> Expr {
        match &e.kind {
            // Without `else` the `if` cannot give the value: check it as a
            // statement; the caller reports the missing value.
            A::If { branches, else_block: None } => self.if_expr(e.span, branches, None, None, false),
            _ => {
                let x = self.expr(e, expected);
                match expected {
                    Some(ty) if x.ty.coerces_to(ty) => self.coerce(x, ty, e.span),
                    _ => x,
                }
            }
        }
    }

    /// A type written in the function.
    fn resolve(&mut self, ty: &ast::TypeExpr) -> Ty {
        resolve_type(ty, self.part, self.scope.types()).unwrap_or_else(|d| {
            self.diags.push(d);
            Ty::Error
        })
    }

    fn is_builtin_name(&self, name: &str) -> bool {
        self.lookup_local(name).is_none() && self.scope.lookup(name).is_none()
    }

    fn expr(&mut self, e: &ast::Expr, expected: Option<&Ty>) -> Expr {
        let span = self.rel(e.span);
        let (kind, ty) = match &e.kind {
            A::Int(v) => match consts::int_literal(v.get(), false, span) {
                Ok(v) => (ExprKind::Const(ConstValue::I64(v)), Ty::I64),
                Err(d) => {
                    self.diags.push(d);
                    return self.error_expr(e.span);
                }
            },
            A::Float(bits) => (ExprKind::Const(ConstValue::F64(*bits)), Ty::F64),
            A::Bool(b) => (ExprKind::Const(ConstValue::Bool(*b)), Ty::Bool),
            A::Nil => (ExprKind::Const(ConstValue::Nil), Ty::Nil),
            A::Str(parts) => return self.string(parts, e.span),
            A::Name(name) => return self.name(name),
            A::Unary { op: UnaryOp::Neg, operand } if matches!(operand.kind, A::Int(_)) => {
                let A::Int(v) = operand.kind else { unreachable!("matched above") };
                match consts::int_literal(v.get(), true, span) {
                    Ok(v) => (ExprKind::Const(ConstValue::I64(v)), Ty::I64),
                    Err(d) => {
                        self.diags.push(d);
                        return self.error_expr(e.span);
                    }
                }
            }
            A::Unary { op, operand } => {
                let x = self.expr(operand, expected);
                let ty = match (op, &x.ty) {
                    (_, Ty::Error) => Ty::Error,
                    (UnaryOp::Neg, t @ (Ty::I64 | Ty::F64)) => t.clone(),
                    (UnaryOp::Not, Ty::Bool) => Ty::Bool,
                    (UnaryOp::BitNot, Ty::I64) => Ty::I64,
                    (op, t) => {
                        let sym = match op {
                            UnaryOp::Neg => "-",
                            UnaryOp::Not => "not",
                            UnaryOp::BitNot => "~",
                        };
                        self.error(e.span, format!("cannot apply `{sym}` to `{t}`"));
                        Ty::Error
                    }
                };
                (ExprKind::Unary { op: *op, operand: Box::new(x) }, ty)
            }
            A::Binary { op, op_span, lhs, rhs } => {
                let operand_hint = match op {
                    BinOp::And | BinOp::Or => Some(&Ty::Bool),
                    BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => None,
                    _ => expected,
                };
                if matches!(op, BinOp::In | BinOp::NotIn) {
                    return self.membership(e, *op == BinOp::NotIn, lhs, rhs);
                }
                if *op == BinOp::Coalesce {
                    return self.coalesce(e, lhs, rhs, expected);
                }
                let l = self.expr(lhs, operand_hint);
                let hint = Some(l.ty.clone()).filter(|t| !matches!(t, Ty::Error | Ty::Never));
                let r = self.expr(rhs, hint.as_ref());
                return self.binary(*op, self.rel(*op_span), l, r, e.span);
            }
            A::Chain(chain) => {
                let ast::ChainExpr { operands, ops } = &**chain;
                let xs: Vec<Expr> = operands.iter().map(|o| self.expr(o, None)).collect();
                let mut ok = true;
                for (i, (op, op_span)) in ops.iter().enumerate() {
                    let (l, r) = (xs[i].ty.clone(), xs[i + 1].ty.clone());
                    if !self.comparable(*op, &l, &r, *op_span) {
                        ok = false;
                    }
                }
                let ops = ops.iter().map(|(op, s)| (*op, self.rel(*s))).collect();
                (ExprKind::Chain { operands: xs, ops }, if ok { Ty::Bool } else { Ty::Error })
            }
            A::Cast { expr: inner, ty, as_span } => {
                let x = self.expr(inner, None);
                let target = self.resolve(ty);
                let ok = matches!(
                    (&x.ty, &target),
                    (Ty::Error, _)
                        | (_, Ty::Error)
                        | (Ty::I64, Ty::I64 | Ty::F64)
                        | (Ty::F64, Ty::F64 | Ty::I64)
                        | (Ty::Bool, Ty::Bool | Ty::I64)
                        | (Ty::Str, Ty::Str)
                );
                if !ok {
                    self.error(e.span, format!("cannot cast `{}` as `{target}`", x.ty));
                }
                let span = self.rel(*as_span);
                return Expr {
                    kind: ExprKind::Cast { expr: Box::new(x) },
                    ty: if ok { target } else { Ty::Error },
                    span,
                };
            }
            A::Call { callee, args } => return self.call(e, callee, args),
            A::If { branches, else_block } => {
                return self.if_expr(e.span, branches, else_block.as_deref(), expected, true);
            }
            A::Field(field) => {
                if let Some(module) = self.module_of(&field.base) {
                    return match self.member(&module, &field.name) {
                        Some(def) => self.def_value(def, &field.name),
                        None => self.error_expr(e.span),
                    };
                }
                return self.field(e, &field.base, &field.name);
            }
            A::Path(path) => return self.path_value(e, path),
            A::Is { expr, pattern } => return self.is_expr(e, expr, pattern),
            A::Index { base, index } => return self.index_expr(e, base, index),
            A::Slice { base, start, end } => return self.slice(e, base, start.as_deref(), end.as_deref()),
            A::IfLet(if_let) => return self.if_let(e, if_let, expected),
            A::Match { scrutinee, arms } => return self.match_expr(e, scrutinee, arms, expected),
            A::Range { .. } => return self.unsupported(e.span, "ranges outside `for` loops are"),
            A::Tuple(elems) => return self.tuple(e, elems, expected),
            A::List(elems) => return self.list_literal(e, elems, expected),
            A::Dict(pairs) => return self.dict_literal(e, pairs, expected),
            A::StructLit(lit) => return self.struct_lit(e, lit),
            A::Lambda { .. } => return self.unsupported(e.span, "lambdas are"),
            A::FunctionalUpdate { .. } => return self.unsupported(e.span, "functional updates are"),
            A::Spawn(_) => return self.unsupported(e.span, "actors are"),
            A::New { .. } | A::Borrow { .. } | A::Move(_) => return self.unsupported(e.span, "pointers are"),
            A::Error => return self.error_expr(e.span),
        };
        Expr { kind, ty, span }
    }

    fn comparable(&mut self, op: BinOp, l: &Ty, r: &Ty, op_span: Span) -> bool {
        if matches!(l, Ty::Error) || matches!(r, Ty::Error) {
            return true;
        }
        let ok = match op {
            // Every type has `==`: structural, identity for class objects.
            BinOp::Eq | BinOp::Ne => {
                l == r || matches!((l, r), (Ty::Optional(_), Ty::Nil) | (Ty::Nil, Ty::Optional(_)))
            }
            _ => l == r && matches!(l, Ty::I64 | Ty::F64 | Ty::Str),
        };
        if !ok {
            self.error(op_span, format!("cannot apply `{}` to `{l}` and `{r}`", op.symbol()));
        }
        ok
    }

    fn binary(&mut self, op: BinOp, op_span: RelSpan, mut l: Expr, mut r: Expr, span: Span) -> Expr {
        if matches!(op, BinOp::Eq | BinOp::Ne) {
            // `opt == 5` compares with `5` as an optional.
            match (&l.ty, &r.ty) {
                (Ty::Optional(inner), t) if t.fits(inner) && *t != Ty::Nil => r = self.coerce(r, &l.ty.clone(), span),
                (t, Ty::Optional(inner)) if t.fits(inner) && *t != Ty::Nil => l = self.coerce(l, &r.ty.clone(), span),
                _ => {}
            }
        }
        let (lt, rt) = (l.ty.clone(), r.ty.clone());
        let ty = if matches!(lt, Ty::Error) || matches!(rt, Ty::Error) {
            Ty::Error
        } else {
            match op {
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                    if self.comparable(op, &lt, &rt, op_span.span) { Ty::Bool } else { Ty::Error }
                }
                BinOp::And | BinOp::Or if lt == Ty::Bool && rt == Ty::Bool => Ty::Bool,
                BinOp::Add if lt == Ty::Str && rt == Ty::Str => Ty::Str,
                BinOp::Add if lt == rt && matches!(lt, Ty::List(_)) => lt.clone(),
                BinOp::Mul if lt == Ty::Str && rt == Ty::I64 => Ty::Str,
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::FloorDiv | BinOp::Rem | BinOp::Pow
                    if lt == rt && matches!(lt, Ty::I64 | Ty::F64) =>
                {
                    lt
                }
                BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr
                    if lt == Ty::I64 && rt == Ty::I64 =>
                {
                    Ty::I64
                }
                _ => {
                    let mut d =
                        RelDiagnostic::error(op_span, format!("cannot apply `{}` to `{lt}` and `{rt}`", op.symbol()))
                            .with_label(format!("no `{}` for `{lt}` and `{rt}`", op.symbol()));
                    if matches!((lt, rt), (Ty::I64, Ty::F64) | (Ty::F64, Ty::I64)) {
                        d = d.with_help("there are no implicit conversions: convert with `as f64` or `as i64`");
                    }
                    self.diags.push(d);
                    Ty::Error
                }
            }
        };
        let span = RelSpan { part: op_span.part, span };
        Expr { kind: ExprKind::Binary { op, op_span, lhs: Box::new(l), rhs: Box::new(r) }, ty, span }
    }

    fn name(&mut self, name: &ast::Name) -> Expr {
        let span = self.rel(name.span);
        if let Some(local) = self.lookup_local(&name.text) {
            let ty = self.locals[local.0 as usize].ty.clone();
            return Expr { kind: ExprKind::Local(local), ty, span };
        }
        match self.scope.lookup(&name.text) {
            Some(def) => return self.def_value(def, name),
            None if BUILTINS.contains(&&*name.text) => {
                return self.unsupported(name.span, "functions as values are");
            }
            None => {}
        }
        self.error(name.span, format!("cannot find `{}` in this scope", name.text)).label =
            Some("not found in this scope".into());
        self.error_expr(name.span)
    }

    /// A module-level definition used as a value.
    fn def_value(&mut self, def: Def, name: &ast::Name) -> Expr {
        let span = self.rel(name.span);
        match def {
            Def::Const(Ok(value)) => {
                let ty = value.ty();
                Expr { kind: ExprKind::Const(value), ty, span }
            }
            Def::Const(Err(_)) => self.error_expr(name.span),
            Def::Fn { .. } => self.unsupported(name.span, "functions as values are"),
            Def::Module(_) => {
                self.error(name.span, format!("`{}` is a module, not a value", name.text));
                self.error_expr(name.span)
            }
            Def::Type(_) => {
                self.error(name.span, format!("`{}` is a type, not a value", name.text)).help =
                    Some(format!("construct a value with `{}(...)`", name.text));
                self.error_expr(name.span)
            }
        }
    }

    /// The module an expression names (`geometry`, `util.strings`), if any.
    fn module_of(&self, e: &ast::Expr) -> Option<Vec<String>> {
        match &e.kind {
            A::Name(n) if self.lookup_local(&n.text).is_none() => match self.scope.lookup(&n.text)? {
                Def::Module(path) => Some(path),
                _ => None,
            },
            A::Field(field) => {
                let module = self.module_of(&field.base)?;
                match self.scope.member(&module, &field.name.text)? {
                    Ok(Def::Module(path)) => Some(path),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `module.name` as a value or callee; reports missing and private
    /// members.
    fn member(&mut self, module: &[String], name: &ast::Name) -> Option<Def<'a>> {
        match self.scope.member(module, &name.text) {
            Some(Ok(def)) => Some(def),
            Some(Err(message)) => {
                self.error(name.span, message);
                None
            }
            None => {
                self.error(name.span, format!("cannot find `{}` in module `{}`", name.text, module.join(".")));
                None
            }
        }
    }

    fn string(&mut self, parts: &[ast::StrPart], span: Span) -> Expr {
        let rel = self.rel(span);
        let mut out = Vec::new();
        for part in parts {
            match part {
                ast::StrPart::Text(t) => {
                    out.push(Expr { kind: ExprKind::Const(ConstValue::Str(t.clone())), ty: Ty::Str, span: rel })
                }
                ast::StrPart::Interp { expr, spec } => {
                    let x = self.expr(expr, None);
                    let part = match spec {
                        Some(spec) => self.format(x, spec, expr.span),
                        None => self.stringify(x),
                    };
                    out.push(part);
                }
            }
        }
        match out.len() {
            0 => Expr { kind: ExprKind::Const(ConstValue::Str(String::new())), ty: Ty::Str, span: rel },
            1 if matches!(out[0].kind, ExprKind::Const(_)) => out.pop().expect("len 1"),
            _ => Expr { kind: ExprKind::Interp(out), ty: Ty::Str, span: rel },
        }
    }

    /// `{x:spec}`: the spec is checked here; the runtime formats.
    fn format(&mut self, x: Expr, spec: &str, span: Span) -> Expr {
        use simple_abi::format_spec::{self, SpecType};
        let parsed = match format_spec::parse(spec) {
            Ok(parsed) => parsed,
            Err(e) => {
                self.error(span, format!("invalid format spec `{spec}`: {e}"));
                return self.error_expr(span);
            }
        };
        let ty = match &x.ty {
            Ty::I64 => SpecType::I64,
            Ty::F64 => SpecType::F64,
            Ty::Bool => SpecType::Bool,
            Ty::Error => return self.error_expr(span),
            // Other values format as their text.
            _ => SpecType::Str,
        };
        if !parsed.accepts(ty) {
            let accepted: Vec<String> = parsed.accepted_types().map(|t| format!("`{t}`")).collect();
            self.error(span, format!("format spec `{spec}` does not apply to `{}`", x.ty)).help =
                Some(format!("it applies to {}", accepted.join(", ")));
            return self.error_expr(span);
        }
        let value = if ty == SpecType::Str { self.stringify(x) } else { x };
        let rel = value.span;
        Expr { kind: ExprKind::Format { value: Box::new(value), spec: spec.to_string() }, ty: Ty::Str, span: rel }
    }

    fn stringify(&mut self, x: Expr) -> Expr {
        let span = x.span;
        match x.ty {
            Ty::Str => x,
            Ty::Nil if matches!(x.kind, ExprKind::Const(_)) => {
                Expr { kind: ExprKind::Const(ConstValue::Str("nil".into())), ty: Ty::Str, span }
            }
            _ => Expr { kind: ExprKind::Builtin { builtin: Builtin::Str, args: vec![x] }, ty: Ty::Str, span },
        }
    }

    fn if_expr(
        &mut self,
        span: Span,
        branches: &[(ast::Expr, ast::Block)],
        else_block: Option<&ast::Block>,
        expected: Option<&Ty>,
        value_needed: bool,
    ) -> Expr {
        if value_needed && else_block.is_none() {
            self.error(span, "`if` expression without `else` has type `nil`").help =
                Some("add an `else` branch that gives a value".into());
        }
        let want = if value_needed { Some(expected.cloned().unwrap_or(Ty::Error)) } else { None };
        let mut out = Vec::new();
        let mut result_ty: Option<Ty> = expected.cloned().filter(|_| value_needed);
        let mut all_diverge = true;
        let mut check_branch = |cx: &mut Self, block: &ast::Block, out_ty: &mut Option<Ty>| {
            let (b, flow) = cx.block(block, want.as_ref());
            let ty = if flow == Flow::Diverges { Ty::Never } else { b.tail.as_ref().map_or(Ty::Nil, |t| t.ty.clone()) };
            if ty != Ty::Never {
                all_diverge = false;
            }
            if value_needed {
                match out_ty {
                    None | Some(Ty::Error) if ty != Ty::Never => *out_ty = Some(ty),
                    Some(expected) => {
                        let at = block.stmts.last().map_or(block.span, |s| s.span);
                        let expected = expected.clone();
                        cx.mismatch(at, &expected, &ty);
                    }
                    None => {}
                }
            }
            b
        };
        for (cond, block) in branches {
            let c = self.condition(cond);
            let b = check_branch(self, block, &mut result_ty);
            out.push((c, b));
        }
        let else_block = else_block.map(|b| check_branch(self, b, &mut result_ty));
        let ty = if else_block.is_some() && all_diverge {
            Ty::Never
        } else if value_needed {
            result_ty.unwrap_or(Ty::Error)
        } else {
            Ty::Nil
        };
        Expr { kind: ExprKind::If { branches: out, else_block }, ty, span: self.rel(span) }
    }

    fn call(&mut self, e: &ast::Expr, callee: &ast::Expr, args: &[ast::Arg]) -> Expr {
        match &callee.kind {
            A::Name(name) => {
                if self.lookup_local(&name.text).is_some() {
                    self.error(callee.span, format!("`{}` is not a function", name.text));
                    self.check_args_loosely(args);
                    return self.error_expr(e.span);
                }
                match self.scope.lookup(&name.text) {
                    Some(def) => self.call_def(e, name, def, args),
                    None => self.builtin_call(e, name, args),
                }
            }
            A::Field(field) if self.module_of(&field.base).is_some() => {
                let module = self.module_of(&field.base).unwrap_or_default();
                match self.member(&module, &field.name) {
                    Some(def) => self.call_def(e, &field.name, def, args),
                    None => {
                        self.check_args_loosely(args);
                        self.error_expr(e.span)
                    }
                }
            }
            A::Field(field) => self.method_call(e, &field.base, &field.name, args),
            A::Path(path) => self.variant_call(e, path, args),
            _ => {
                let c = self.expr(callee, None);
                if c.ty != Ty::Error {
                    self.error(callee.span, format!("`{}` is not a function", c.ty));
                }
                self.error_expr(e.span)
            }
        }
    }

    /// A call of a module-level definition.
    fn call_def(&mut self, e: &ast::Expr, name: &ast::Name, def: Def<'a>, args: &[ast::Arg]) -> Expr {
        match def {
            Def::Fn { is_script: true, .. } => {
                self.error(name.span, "the script's top-level code cannot be called");
                self.check_args_loosely(args);
                self.error_expr(e.span)
            }
            Def::Fn { symbol, sig, .. } => self.user_call(e, symbol, sig, args),
            Def::Type(adt) => self.construct(e, &adt, args),
            Def::Const(_) | Def::Module(_) => {
                self.error(name.span, format!("`{}` is not a function", name.text));
                self.check_args_loosely(args);
                self.error_expr(e.span)
            }
        }
    }

    fn check_args_loosely(&mut self, args: &[ast::Arg]) {
        for a in args {
            self.expr(&a.value, None);
        }
    }

    fn no_named(&mut self, args: &[ast::Arg]) {
        for a in args {
            if let Some(n) = &a.name {
                self.error(n.span, format!("no parameter named `{}`", n.text));
            }
        }
    }

    fn user_call(&mut self, e: &ast::Expr, symbol: String, sig: &Signature, args: &[ast::Arg]) -> Expr {
        let span = self.rel(e.span);
        match self.match_args(e.span, &sig.params, None, args) {
            Some((written, params)) if !sig.params.iter().any(|p| p.ty.has_error()) => {
                Expr { kind: ExprKind::Call { symbol, args: written, params }, ty: sig.ret.clone(), span }
            }
            Some(_) => self.poison(sig.ret.clone(), e.span),
            None => self.error_expr(e.span),
        }
    }

    /// Checks the arguments of a call against `params`: positional ones
    /// first, then named ones, defaults for the rest. A method's receiver
    /// is its first argument, already checked. Returns the arguments in
    /// written order and where each parameter's value comes from, or
    /// `None` after reporting why the call is wrong.
    fn match_args(
        &mut self,
        call_span: Span,
        params: &[ParamSig],
        receiver: Option<Expr>,
        args: &[ast::Arg],
    ) -> Option<(Vec<Expr>, Vec<ParamValue>)> {
        self.match_args_of(call_span, params, receiver, args, None)
    }

    /// [`Self::match_args`] for a constructor of `fields_of` (the type's
    /// name): the parameters are its fields.
    fn match_args_of(
        &mut self,
        call_span: Span,
        params: &[ParamSig],
        receiver: Option<Expr>,
        args: &[ast::Arg],
        fields_of: Option<&str>,
    ) -> Option<(Vec<Expr>, Vec<ParamValue>)> {
        let mut slots: Vec<Option<usize>> = vec![None; params.len()];
        let mut written = Vec::new();
        let skipped = usize::from(receiver.is_some());
        if let Some(r) = receiver {
            slots[0] = Some(0);
            written.push(r);
        }
        let mut positional = skipped;
        let mut seen_named = false;
        let mut ok = true;
        for arg in args {
            let param = match &arg.name {
                None => {
                    if seen_named {
                        self.error(arg.value.span, "positional argument after named argument");
                        ok = false;
                    }
                    positional += 1;
                    Some(positional - 1).filter(|&i| i < params.len())
                }
                Some(n) => {
                    seen_named = true;
                    let found = params.iter().position(|p| *p.name == *n.text).filter(|&i| i >= skipped);
                    match found {
                        Some(i) if slots[i].is_some() => {
                            self.error(n.span, format!("argument `{}` given more than once", n.text));
                            ok = false;
                        }
                        Some(_) => {}
                        None => {
                            let message = match fields_of {
                                Some(ty) => format!("`{ty}` has no field named `{}`", n.text),
                                None => format!("no parameter named `{}`", n.text),
                            };
                            self.error(n.span, message);
                            ok = false;
                        }
                    }
                    found
                }
            };
            let expected = param.map(|i| params[i].ty.clone());
            let mut x = self.expr(&arg.value, expected.as_ref());
            if let (Some(i), Some(ty)) = (param, &expected) {
                x = self.coerce(x, ty, arg.value.span);
                slots[i].get_or_insert(written.len());
            }
            written.push(x);
        }
        if positional > params.len() {
            let n = params.len() - skipped;
            let (supplied, s) = (positional - skipped, if n == 1 { "" } else { "s" });
            let message = match fields_of {
                Some(ty) => format!("`{ty}` has {n} field{s} but {supplied} were supplied"),
                None => format!("this function takes {n} argument{s} but {supplied} were supplied"),
            };
            self.error(call_span, message);
            return None;
        }
        let mut values = Vec::new();
        for (slot, p) in slots.into_iter().zip(params) {
            match (slot, &p.default) {
                (Some(i), _) => values.push(ParamValue::Arg(i)),
                (None, Some(d)) => values.push(ParamValue::Default(d.clone(), p.ty.clone())),
                (None, None) => {
                    let message = match fields_of {
                        Some(ty) => format!("missing field `{}` in `{ty}`", p.name),
                        None => format!("missing argument `{}`", p.name),
                    };
                    self.error(call_span, message);
                    ok = false;
                }
            }
        }
        ok.then_some((written, values))
    }

    fn builtin_call(&mut self, e: &ast::Expr, name: &ast::Name, args: &[ast::Arg]) -> Expr {
        let span = self.rel(e.span);
        let builtin = match &*name.text {
            "print" => Builtin::Print { newline: false, stderr: false },
            "println" => Builtin::Print { newline: true, stderr: false },
            "eprint" => Builtin::Print { newline: false, stderr: true },
            "eprintln" => Builtin::Print { newline: true, stderr: true },
            "str" => Builtin::Str,
            "assert" => Builtin::Assert,
            "exit" => Builtin::Exit,
            "abs" => Builtin::Abs,
            "min" => Builtin::Min,
            "max" => Builtin::Max,
            "sqrt" => Builtin::Sqrt,
            "floor" => Builtin::Floor,
            "ceil" => Builtin::Ceil,
            "clock" => Builtin::Clock,
            "args" => Builtin::Args,
            "read_line" => Builtin::ReadLine,
            "read_file" => Builtin::ReadFile,
            "write_file" => Builtin::WriteFile,
            "range" => {
                self.error(name.span, "`range` can only be used in a `for` loop");
                self.check_args_loosely(args);
                return self.error_expr(e.span);
            }
            other => {
                self.error(name.span, format!("cannot find `{other}` in this scope")).label =
                    Some("not found in this scope".into());
                self.check_args_loosely(args);
                return self.error_expr(e.span);
            }
        };
        self.no_named(args);
        let xs: Vec<Expr> = args.iter().map(|a| self.expr(&a.value, None)).collect();
        let arity = |cx: &mut Self, lo: usize, hi: usize| {
            let n = xs.len();
            if n < lo || n > hi {
                let want = if lo == hi { lo.to_string() } else { format!("{lo} or {hi}") };
                cx.error(
                    e.span,
                    format!(
                        "this function takes {want} argument{} but {n} were supplied",
                        if hi == 1 { "" } else { "s" }
                    ),
                );
                false
            } else {
                true
            }
        };
        let ty = match builtin {
            Builtin::Print { .. } => Ty::Nil,
            Builtin::Str => {
                if !arity(self, 1, 1) {
                    return self.error_expr(e.span);
                }
                let x = xs.into_iter().next().expect("arity 1");
                let mut s = self.stringify(x);
                s.span = span;
                return s;
            }
            Builtin::Assert => {
                if !arity(self, 1, 2) {
                    return self.error_expr(e.span);
                }
                self.mismatch(args[0].value.span, &Ty::Bool, &xs[0].ty);
                if let Some(m) = xs.get(1) {
                    self.mismatch(args[1].value.span, &Ty::Str, &m.ty);
                }
                Ty::Nil
            }
            Builtin::Exit => {
                if !arity(self, 1, 1) {
                    return self.error_expr(e.span);
                }
                self.mismatch(args[0].value.span, &Ty::I64, &xs[0].ty);
                Ty::Never
            }
            Builtin::Abs => {
                if !arity(self, 1, 1) {
                    return self.error_expr(e.span);
                }
                self.numeric(&xs[0], args[0].value.span)
            }
            Builtin::Min | Builtin::Max => {
                if !arity(self, 2, 2) {
                    return self.error_expr(e.span);
                }
                let t = self.numeric(&xs[0], args[0].value.span);
                self.mismatch(args[1].value.span, &t, &xs[1].ty);
                t
            }
            Builtin::Sqrt | Builtin::Floor | Builtin::Ceil => {
                if !arity(self, 1, 1) {
                    return self.error_expr(e.span);
                }
                self.mismatch(args[0].value.span, &Ty::F64, &xs[0].ty);
                Ty::F64
            }
            Builtin::Clock => {
                if !arity(self, 0, 0) {
                    return self.error_expr(e.span);
                }
                Ty::F64
            }
            Builtin::Args | Builtin::ReadLine => {
                if !arity(self, 0, 0) {
                    return self.error_expr(e.span);
                }
                if builtin == Builtin::Args { Ty::list(Ty::Str) } else { Ty::optional(Ty::Str) }
            }
            Builtin::ReadFile => {
                if !arity(self, 1, 1) {
                    return self.error_expr(e.span);
                }
                self.mismatch(args[0].value.span, &Ty::Str, &xs[0].ty);
                Ty::Str
            }
            Builtin::WriteFile => {
                if !arity(self, 2, 2) {
                    return self.error_expr(e.span);
                }
                self.mismatch(args[0].value.span, &Ty::Str, &xs[0].ty);
                self.mismatch(args[1].value.span, &Ty::Str, &xs[1].ty);
                Ty::Nil
            }
        };
        if xs.iter().any(|x| x.ty == Ty::Error) {
            return self.error_expr(e.span);
        }
        Expr { kind: ExprKind::Builtin { builtin, args: xs }, ty, span }
    }

    fn numeric(&mut self, x: &Expr, span: Span) -> Ty {
        match &x.ty {
            t @ (Ty::I64 | Ty::F64 | Ty::Error) => t.clone(),
            t => {
                self.error(span, format!("mismatched types: expected `i64` or `f64`, found `{t}`"));
                Ty::Error
            }
        }
    }
}

const BUILTINS: &[&str] = &[
    "print",
    "println",
    "eprint",
    "eprintln",
    "str",
    "assert",
    "exit",
    "abs",
    "min",
    "max",
    "sqrt",
    "floor",
    "ceil",
    "clock",
    "range",
    "args",
    "read_line",
    "read_file",
    "write_file",
];
