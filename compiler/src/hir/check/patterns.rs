//! Patterns: `match`, `if let`, `while let` and `is`, and the check that a
//! `match` covers every value of its scrutinee.

use simple_syntax::Span;
use simple_syntax::ast::{self, PatternKind as P};

use super::{Checker, Flow};
use crate::consts::{self, ConstValue};
use crate::hir::{Adt, AdtKind, Arm, Block, Expr, ExprKind, Pat, Stmt, Ty};

impl<'a> Checker<'a> {
    /// `match scrutinee: case ...`
    pub(super) fn match_expr(
        &mut self,
        e: &ast::Expr,
        scrutinee: &ast::Expr,
        arms: &[ast::MatchArm],
        expected: Option<&Ty>,
    ) -> Expr {
        self.match_value(e, scrutinee, arms, expected, true)
    }

    /// A `match` whose value is used (`value_needed`) or dropped.
    pub(super) fn match_value(
        &mut self,
        e: &ast::Expr,
        scrutinee: &ast::Expr,
        arms: &[ast::MatchArm],
        expected: Option<&Ty>,
        value_needed: bool,
    ) -> Expr {
        let s = self.expr(scrutinee, None);
        let ty = s.ty.clone();
        let want = if value_needed { Some(expected.cloned().unwrap_or(Ty::Error)) } else { None };
        let mut result_ty: Option<Ty> = expected.cloned().filter(|_| value_needed);
        let mut all_diverge = true;
        let mut out = Vec::new();
        for arm in arms {
            self.scopes.push(Vec::new());
            let pattern = self.pattern(&arm.pattern, &ty);
            let guard = arm.guard.as_ref().map(|g| self.condition(g));
            let (body, flow) = self.block(&arm.body, want.as_ref());
            let arm_ty =
                if flow == Flow::Diverges { Ty::Never } else { body.tail.as_ref().map_or(Ty::Nil, |t| t.ty.clone()) };
            if arm_ty != Ty::Never {
                all_diverge = false;
            }
            if value_needed {
                match &result_ty {
                    None | Some(Ty::Error) if arm_ty != Ty::Never => result_ty = Some(arm_ty),
                    Some(expected) => {
                        let at = arm.body.stmts.last().map_or(arm.body.span, |s| s.span);
                        let expected = expected.clone();
                        self.mismatch(at, &expected, &arm_ty);
                    }
                    None => {}
                }
            }
            self.scopes.pop();
            out.push(Arm { pattern, guard, body });
        }
        if !ty.has_error() {
            let rows: Vec<&Pat> = out.iter().filter(|a| a.guard.is_none()).map(|a| &a.pattern).collect();
            if let Some(missing) = self.missing_case(&rows, &ty) {
                let d = self.error(scrutinee.span, format!("non-exhaustive match: `{missing}` not covered"));
                d.label = Some(format!("`{missing}` not covered"));
                d.help = Some(if matches!(ty, Ty::I64 | Ty::F64 | Ty::Str) {
                    "add a `case _:` arm".to_string()
                } else {
                    format!("add an arm for `{missing}`, or a `case _:` arm")
                });
            }
        }
        let result = if !arms.is_empty() && all_diverge {
            Ty::Never
        } else if value_needed {
            result_ty.unwrap_or(Ty::Error)
        } else {
            Ty::Nil
        };
        let span = self.rel(e.span);
        Expr { kind: ExprKind::Match { scrutinee: Box::new(s), arms: out }, ty: result, span }
    }

    /// `if let pattern = value: ... else: ...`
    pub(super) fn if_let(&mut self, e: &ast::Expr, if_let: &ast::IfLetExpr, expected: Option<&Ty>) -> Expr {
        let ast::IfLetExpr { pattern, value, then_block, else_block } = if_let;
        let s = self.expr(value, None);
        let ty = s.ty.clone();
        let value_needed = else_block.is_some() && expected.is_some();
        let want = if value_needed { expected.cloned() } else { None };
        self.scopes.push(Vec::new());
        let pat = self.pattern(pattern, &ty);
        let (then, then_flow) = self.block(then_block, want.as_ref());
        self.scopes.pop();
        let (otherwise, else_flow) = match else_block {
            Some(b) => self.block(b, want.as_ref()),
            None => (Block::default(), Flow::Continues),
        };
        let diverges = then_flow == Flow::Diverges && else_flow == Flow::Diverges && else_block.is_some();
        let result = if diverges {
            Ty::Never
        } else if value_needed {
            let tail_ty = |b: &Block, flow| {
                if flow == Flow::Diverges { Ty::Never } else { b.tail.as_ref().map_or(Ty::Nil, |t| t.ty.clone()) }
            };
            let (a, b) = (tail_ty(&then, then_flow), tail_ty(&otherwise, else_flow));
            let result = if a == Ty::Never { b.clone() } else { a.clone() };
            for (ty, block) in [(a, then_block), (b, else_block.as_ref().unwrap_or(then_block))] {
                if ty != Ty::Never {
                    let at = block.stmts.last().map_or(block.span, |s| s.span);
                    self.mismatch(at, &result, &ty);
                }
            }
            result
        } else {
            Ty::Nil
        };
        let arms = vec![
            Arm { pattern: pat, guard: None, body: then },
            Arm { pattern: Pat::Wild, guard: None, body: otherwise },
        ];
        let span = self.rel(e.span);
        Expr { kind: ExprKind::Match { scrutinee: Box::new(s), arms }, ty: result, span }
    }

    /// `while let pattern = value: body` is `loop: match value: case
    /// pattern: body; case _: break`.
    pub(super) fn while_let(&mut self, pattern: &ast::Pattern, value: &ast::Expr, body: &ast::Block) -> Stmt {
        self.loops.push(false);
        let s = self.expr(value, None);
        let ty = s.ty.clone();
        self.scopes.push(Vec::new());
        let pat = self.pattern(pattern, &ty);
        let (block, _) = self.block(body, None);
        self.scopes.pop();
        self.loops.pop();
        let span = s.span;
        let arms = vec![
            Arm { pattern: pat, guard: None, body: block },
            Arm { pattern: Pat::Wild, guard: None, body: Block { stmts: vec![Stmt::Break], tail: None } },
        ];
        let m = Expr { kind: ExprKind::Match { scrutinee: Box::new(s), arms }, ty: Ty::Nil, span };
        Stmt::Loop { body: Block { stmts: vec![Stmt::Expr(m)], tail: None } }
    }

    /// `x is Pattern`: whether the pattern matches (it may not bind names).
    pub(super) fn is_expr(&mut self, e: &ast::Expr, value: &ast::Expr, pattern: &ast::Pattern) -> Expr {
        let s = self.expr(value, None);
        let ty = s.ty.clone();
        let before = self.locals.len();
        self.scopes.push(Vec::new());
        let pat = self.pattern(pattern, &ty);
        self.scopes.pop();
        if self.locals.len() != before {
            self.error(pattern.span, "an `is` pattern cannot bind names").help =
                Some("use `if let` to bind parts of a value".into());
        }
        let span = self.rel(e.span);
        let answer = |b: bool| Block {
            stmts: Vec::new(),
            tail: Some(Box::new(Expr { kind: ExprKind::Const(ConstValue::Bool(b)), ty: Ty::Bool, span })),
        };
        let arms = vec![
            Arm { pattern: pat, guard: None, body: answer(true) },
            Arm { pattern: Pat::Wild, guard: None, body: answer(false) },
        ];
        Expr { kind: ExprKind::Match { scrutinee: Box::new(s), arms }, ty: Ty::Bool, span }
    }

    /// Checks a pattern against values of `ty`, binding its names in the
    /// current scope. A name or constructor matched against an optional
    /// (at any depth) matches its value, not `nil`.
    pub(super) fn pattern(&mut self, p: &ast::Pattern, ty: &Ty) -> Pat {
        if ty.has_error() {
            // Still bind the names, so the arm's body checks quietly.
            self.bind_all_as_errors(p);
            return Pat::Wild;
        }
        match &p.kind {
            P::Wildcard => Pat::Wild,
            P::Binding { name, mutable } => match ty {
                Ty::Optional(inner) => {
                    Pat::Some(Box::new(Pat::Bind(self.bind(&name.text, (**inner).clone(), *mutable))))
                }
                _ => Pat::Bind(self.bind(&name.text, ty.clone(), *mutable)),
            },
            P::Literal(expr) => self.literal_pattern(expr, ty),
            P::Range { start, end, inclusive } => {
                if *ty != Ty::I64 {
                    self.error(p.span, format!("range patterns match `i64`, not `{ty}`"));
                    return Pat::Wild;
                }
                let bound = |cx: &mut Self, e: &ast::Expr| match cx.const_of(e) {
                    Some(ConstValue::I64(v)) => Some(v),
                    _ => {
                        cx.error(e.span, "a range pattern's bounds are integer literals");
                        None
                    }
                };
                match (bound(self, start), bound(self, end)) {
                    (Some(lo), Some(hi)) => Pat::Range { lo, hi, inclusive: *inclusive },
                    _ => Pat::Wild,
                }
            }
            P::Tuple(pats) => match ty {
                Ty::Tuple(tys) if tys.len() == pats.len() => Pat::Record(
                    pats.iter().zip(tys.iter()).enumerate().map(|(i, (p, t))| (i as u32, self.pattern(p, t))).collect(),
                ),
                Ty::Optional(inner) => Pat::Some(Box::new(self.pattern(p, inner))),
                _ => {
                    self.error(p.span, format!("expected `{ty}`, found a tuple pattern of {} elements", pats.len()));
                    Pat::Wild
                }
            },
            P::Or(alternatives) => {
                let before = self.locals.len();
                let pats = alternatives.iter().map(|a| self.pattern(a, ty)).collect();
                if self.locals.len() != before {
                    self.error(p.span, "an or-pattern cannot bind names");
                }
                Pat::Or(pats)
            }
            P::Constructor(c) => self.constructor_pattern(p.span, c, ty),
        }
    }

    fn bind_all_as_errors(&mut self, p: &ast::Pattern) {
        match &p.kind {
            P::Binding { name, mutable } => {
                self.bind(&name.text, Ty::Error, *mutable);
            }
            P::Tuple(pats) | P::Or(pats) => pats.iter().for_each(|p| self.bind_all_as_errors(p)),
            P::Constructor(c) => c.args.iter().flatten().for_each(|f| self.bind_all_as_errors(&f.pattern)),
            P::Wildcard | P::Literal(_) | P::Range { .. } => {}
        }
    }

    fn const_of(&mut self, e: &ast::Expr) -> Option<ConstValue> {
        match consts::eval(e, self.part, &mut |_| None) {
            Ok(v) => Some(v),
            Err(consts::ConstError::New(d)) => {
                self.diags.push(d);
                None
            }
            Err(consts::ConstError::Reported) => None,
        }
    }

    fn literal_pattern(&mut self, e: &ast::Expr, ty: &Ty) -> Pat {
        let Some(value) = self.const_of(e) else { return Pat::Wild };
        match (value, ty) {
            (ConstValue::Nil, Ty::Optional(_)) => Pat::Nil,
            (value, Ty::Optional(inner)) if value.ty() == **inner => Pat::Some(Box::new(Pat::Const(value))),
            (value, ty) if value.ty() == *ty && *ty != Ty::Nil => Pat::Const(value),
            (ConstValue::Nil, Ty::Nil) => Pat::Wild,
            (value, ty) => {
                self.error(e.span, format!("mismatched types: expected `{ty}`, found `{}`", value.ty()));
                Pat::Wild
            }
        }
    }

    /// `Shape::Circle(r)`, `Shape::Rect(w: a, h: b)`, `Shape::Empty`,
    /// `Point(x: 0.0, y: y)`.
    fn constructor_pattern(&mut self, span: Span, c: &ast::ConstructorPattern, ty: &Ty) -> Pat {
        if let Ty::Optional(inner) = ty {
            return Pat::Some(Box::new(self.constructor_pattern(span, c, inner)));
        }
        let Ty::Adt(adt) = ty else {
            self.error(span, format!("expected `{ty}`, found a constructor pattern"));
            return Pat::Wild;
        };
        let names: Vec<String> = c.path.iter().map(|n| n.text.to_string()).collect();
        let def = self.adt_def(adt);
        // `Type::Variant` (or `module.Type::Variant`), or a struct's name.
        let (fields, variant) = if adt.kind() == AdtKind::Enum {
            let Some((last, type_path)) = names.split_last() else { return Pat::Wild };
            if !type_path.is_empty() && !self.names_adt(type_path, adt, span) {
                return Pat::Wild;
            }
            match def.variant(last) {
                Some((index, v)) => (v.fields.clone(), Some(index as u32)),
                None => {
                    let at = c.path.last().map_or(span, |n| n.span);
                    self.error(at, format!("no variant `{last}` in enum `{}`", adt.name()));
                    return Pat::Wild;
                }
            }
        } else {
            if !self.names_adt(&names, adt, span) {
                return Pat::Wild;
            }
            (def.fields.clone(), None)
        };
        let mut subpatterns = Vec::new();
        for (i, fp) in c.args.iter().flatten().enumerate() {
            let index = match &fp.name {
                Some(n) => match fields.iter().position(|f| f.name.as_deref() == Some(&*n.text)) {
                    Some(index) => index,
                    None => {
                        self.error(n.span, format!("no field `{}` here", n.text));
                        continue;
                    }
                },
                None if i < fields.len() => i,
                None => {
                    self.error(
                        fp.pattern.span,
                        format!("this pattern has more fields than the {} it matches", fields.len()),
                    );
                    continue;
                }
            };
            let pat = self.pattern(&fp.pattern, &fields[index].ty);
            subpatterns.push((index as u32, pat));
        }
        match variant {
            Some(index) => Pat::Variant { index, fields: subpatterns },
            None => Pat::Record(subpatterns),
        }
    }

    /// Whether `path` names `adt`; reports it if not.
    fn names_adt(&mut self, path: &[String], adt: &Adt, span: Span) -> bool {
        match self.scope.types().named_type(path) {
            Ok(named) if named == *adt => true,
            Ok(named) => {
                self.error(span, format!("expected `{}`, found `{}`", adt.name(), named.name()));
                false
            }
            Err(message) => {
                self.error(span, message);
                false
            }
        }
    }

    /// A value of `ty` that none of `patterns` matches, written as a
    /// pattern, or `None` if they cover every value.
    fn missing_case(&self, patterns: &[&Pat], ty: &Ty) -> Option<String> {
        let rows: Vec<Vec<Pat>> = patterns.iter().map(|p| vec![(*p).clone()]).collect();
        let witness = self.uncovered(rows, std::slice::from_ref(ty))?;
        Some(witness.into_iter().next().map_or_else(|| "_".to_string(), |w| self.render(&w, ty)))
    }

    /// Maranget's usefulness algorithm, returning a witness: the first
    /// column's patterns are split by the constructors of the column's type.
    fn uncovered(&self, rows: Vec<Vec<Pat>>, tys: &[Ty]) -> Option<Vec<Witness>> {
        let Some((ty, rest_tys)) = tys.split_first() else {
            return rows.is_empty().then(Vec::new);
        };
        let rows = expand_or(rows);
        // Splitting by constructors only where some row names one: a column
        // of wildcards says nothing about the values below it (and
        // recursive types would split without end).
        let heads_are_wild = rows.iter().all(|row| matches!(row[0], Pat::Wild | Pat::Bind(_)));
        match self.constructors(ty).filter(|_| !heads_are_wild) {
            Some(ctors) => {
                for ctor in ctors {
                    let fields = self.ctor_fields(ty, ctor);
                    let specialized: Vec<Vec<Pat>> =
                        rows.iter().filter_map(|row| specialize(row, ctor, fields.len())).collect();
                    let mut sub_tys = fields.clone();
                    sub_tys.extend_from_slice(rest_tys);
                    if let Some(mut witness) = self.uncovered(specialized, &sub_tys) {
                        let rest = witness.split_off(fields.len());
                        let mut out = vec![Witness::Ctor(ctor, witness)];
                        out.extend(rest);
                        return Some(out);
                    }
                }
                None
            }
            None => {
                let defaults: Vec<Vec<Pat>> = rows
                    .iter()
                    .filter(|row| matches!(row[0], Pat::Wild | Pat::Bind(_)))
                    .map(|row| row[1..].to_vec())
                    .collect();
                let mut witness = self.uncovered(defaults, rest_tys)?;
                witness.insert(0, Witness::Any);
                Some(witness)
            }
        }
    }

    /// The constructors of a type with finitely many, `None` for numbers
    /// and strings.
    fn constructors(&self, ty: &Ty) -> Option<Vec<Ctor>> {
        Some(match ty {
            Ty::Bool => vec![Ctor::Bool(true), Ctor::Bool(false)],
            Ty::Optional(_) => vec![Ctor::Nil, Ctor::Some],
            Ty::Tuple(_) => vec![Ctor::Record],
            Ty::Adt(adt) if adt.kind() == AdtKind::Enum => {
                (0..self.adt_def(adt).variants.len() as u32).map(Ctor::Variant).collect()
            }
            Ty::Adt(_) => vec![Ctor::Record],
            _ => return None,
        })
    }

    /// The types of a constructor's fields.
    fn ctor_fields(&self, ty: &Ty, ctor: Ctor) -> Vec<Ty> {
        match (ctor, ty) {
            (Ctor::Some, Ty::Optional(inner)) => vec![(**inner).clone()],
            (Ctor::Record, Ty::Tuple(tys)) => tys.to_vec(),
            (Ctor::Record, Ty::Adt(adt)) => self.adt_def(adt).fields.iter().map(|f| f.ty.clone()).collect(),
            (Ctor::Variant(i), Ty::Adt(adt)) => self
                .adt_def(adt)
                .variants
                .get(i as usize)
                .map_or_else(Vec::new, |v| v.fields.iter().map(|f| f.ty.clone()).collect()),
            _ => Vec::new(),
        }
    }

    fn render(&self, w: &Witness, ty: &Ty) -> String {
        match w {
            Witness::Any => "_".into(),
            Witness::Ctor(ctor, args) => {
                let fields = self.ctor_fields(ty, *ctor);
                let parts: Vec<String> = args.iter().zip(&fields).map(|(a, t)| self.render(a, t)).collect();
                match (ctor, ty) {
                    (Ctor::Bool(b), _) => b.to_string(),
                    (Ctor::Nil, _) => "nil".into(),
                    (Ctor::Some, _) => parts.join(""),
                    (Ctor::Record, Ty::Tuple(_)) => format!("({})", parts.join(", ")),
                    (Ctor::Record, Ty::Adt(adt)) => format!("{}({})", adt.name(), parts.join(", ")),
                    (Ctor::Variant(i), Ty::Adt(adt)) => {
                        let name =
                            self.adt_def(adt).variants.get(*i as usize).map_or_else(String::new, |v| v.name.clone());
                        if parts.is_empty() {
                            format!("{}::{name}", adt.name())
                        } else {
                            format!("{}::{name}({})", adt.name(), parts.join(", "))
                        }
                    }
                    _ => "_".into(),
                }
            }
        }
    }
}

/// A constructor of a type with finitely many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctor {
    Bool(bool),
    Nil,
    Some,
    /// The one constructor of a tuple, struct or class.
    Record,
    Variant(u32),
}

/// A value no pattern matches, built while searching for one.
enum Witness {
    Any,
    Ctor(Ctor, Vec<Witness>),
}

/// Rows whose first pattern is an or-pattern, as one row per alternative.
fn expand_or(rows: Vec<Vec<Pat>>) -> Vec<Vec<Pat>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        match &row[0] {
            Pat::Or(alternatives) => {
                let expanded = alternatives
                    .iter()
                    .map(|alt| {
                        let mut r = vec![alt.clone()];
                        r.extend_from_slice(&row[1..]);
                        r
                    })
                    .collect();
                out.extend(expand_or(expanded));
            }
            _ => out.push(row),
        }
    }
    out
}

/// The row for values made by `ctor` (with `arity` fields), or `None` if
/// its first pattern cannot match them.
fn specialize(row: &[Pat], ctor: Ctor, arity: usize) -> Option<Vec<Pat>> {
    let mut fields = vec![Pat::Wild; arity];
    match (&row[0], ctor) {
        (Pat::Wild | Pat::Bind(_), _) => {}
        (Pat::Const(ConstValue::Bool(b)), Ctor::Bool(c)) if *b == c => {}
        (Pat::Nil, Ctor::Nil) => {}
        (Pat::Some(inner), Ctor::Some) => fields[0] = (**inner).clone(),
        (Pat::Record(given), Ctor::Record) => {
            for (i, p) in given {
                if let Some(slot) = fields.get_mut(*i as usize) {
                    *slot = p.clone();
                }
            }
        }
        (Pat::Variant { index, fields: given }, Ctor::Variant(v)) if *index == v => {
            for (i, p) in given {
                if let Some(slot) = fields.get_mut(*i as usize) {
                    *slot = p.clone();
                }
            }
        }
        _ => return None,
    }
    fields.extend_from_slice(&row[1..]);
    Some(fields)
}
