//! Checking lists, dicts and strings: literals, indexing, slicing,
//! membership, the methods of built-in types and `for` over collections.

use simple_syntax::Span;
use simple_syntax::ast::{self, ExprKind as A};

use super::Checker;
use crate::hir::{Expr, ExprKind, Method, Stmt, Ty};

impl<'a> Checker<'a> {
    /// `[a, b, c]`: the element type comes from the expected type, else
    /// from the elements.
    pub(super) fn list_literal(&mut self, e: &ast::Expr, elems: &[ast::Expr], expected: Option<&Ty>) -> Expr {
        let span = self.rel(e.span);
        let hint = match expected {
            Some(Ty::List(t)) => Some((**t).clone()),
            Some(Ty::Optional(inner)) => match &**inner {
                Ty::List(t) => Some((**t).clone()),
                _ => None,
            },
            _ => None,
        };
        // Elements that need a type from context (`[]` in `[[1], []]`)
        // are checked after the others, with their type.
        let mut xs: Vec<Option<Expr>> =
            elems.iter().map(|x| (hint.is_some() || !needs_context(x)).then(|| self.expr(x, hint.as_ref()))).collect();
        let elem = match hint {
            Some(t) => t,
            None => match self.unify(&xs.iter().flatten().cloned().collect::<Vec<_>>()) {
                Some(t) => t,
                None if xs.is_empty() || xs.iter().all(Option::is_none) => {
                    self.error(e.span, "cannot infer the type of an empty list").help =
                        Some("give it a type: `let xs: [i64] = []`".into());
                    return self.error_expr(e.span);
                }
                None => Ty::Error,
            },
        };
        for (x, a) in xs.iter_mut().zip(elems) {
            if x.is_none() {
                *x = Some(self.expr(a, Some(&elem)));
            }
        }
        let xs =
            elems.iter().zip(xs.into_iter().flatten()).map(|(a, x)| self.element(x, &elem, a.span, "list")).collect();
        Expr { kind: ExprKind::List(xs), ty: Ty::list(elem), span }
    }

    /// `{k: v, ...}`
    pub(super) fn dict_literal(
        &mut self,
        e: &ast::Expr,
        pairs: &[(ast::Expr, ast::Expr)],
        expected: Option<&Ty>,
    ) -> Expr {
        let span = self.rel(e.span);
        let hint = match expected {
            Some(Ty::Dict(kv)) => Some((kv.0.clone(), kv.1.clone())),
            _ => None,
        };
        let ks: Vec<Expr> = pairs.iter().map(|(k, _)| self.expr(k, hint.as_ref().map(|h| &h.0))).collect();
        let mut vs: Vec<Option<Expr>> = pairs
            .iter()
            .map(|(_, v)| (hint.is_some() || !needs_context(v)).then(|| self.expr(v, hint.as_ref().map(|h| &h.1))))
            .collect();
        let (key, value) = match hint {
            Some(kv) => kv,
            None if pairs.is_empty() => {
                self.error(e.span, "cannot infer the type of an empty dict").help =
                    Some("give it a type: `let d: {str: i64} = {}`".into());
                return self.error_expr(e.span);
            }
            None => {
                let known: Vec<Expr> = vs.iter().flatten().cloned().collect();
                (self.unify(&ks).unwrap_or(Ty::Error), self.unify(&known).unwrap_or(Ty::Error))
            }
        };
        for (v, (_, a)) in vs.iter_mut().zip(pairs) {
            if v.is_none() {
                *v = Some(self.expr(a, Some(&value)));
            }
        }
        let vs: Vec<Expr> = vs.into_iter().flatten().collect();
        if !matches!(key, Ty::Str | Ty::I64 | Ty::Bool | Ty::Error) {
            self.error(pairs[0].0.span, format!("`{key}` cannot be a dict key")).help =
                Some("dict keys are `str`, `i64` or `bool`".into());
        }
        let entries = pairs
            .iter()
            .zip(ks.into_iter().zip(vs))
            .map(|((ka, va), (k, v))| {
                (self.element(k, &key, ka.span, "dict"), self.element(v, &value, va.span, "dict"))
            })
            .collect();
        Expr { kind: ExprKind::Dict(entries), ty: Ty::dict(key, value), span }
    }

    /// The type all of `xs` can take: the first one's, made optional if
    /// some are `nil`. `None` for no elements.
    fn unify(&self, xs: &[Expr]) -> Option<Ty> {
        let first = xs.iter().find(|x| !matches!(x.ty, Ty::Nil | Ty::Never))?.ty.clone();
        let has_nil = xs.iter().any(|x| x.ty == Ty::Nil);
        Some(if has_nil && !matches!(first, Ty::Optional(_)) { Ty::optional(first) } else { first })
    }

    /// An element of a literal, as a value of the element type.
    fn element(&mut self, x: Expr, ty: &Ty, span: Span, what: &str) -> Expr {
        if x.ty.coerces_to(ty) {
            return self.coerce(x, ty, span);
        }
        self.error(span, format!("mismatched types in {what} literal: expected `{ty}`, found `{}`", x.ty)).label =
            Some(format!("expected `{ty}`"));
        x
    }

    /// `base[index]`.
    pub(super) fn index_expr(&mut self, e: &ast::Expr, base: &ast::Expr, index: &ast::Expr) -> Expr {
        let x = self.expr(base, None);
        let span = self.rel(e.span);
        let (key, ty) = match &x.ty {
            Ty::Error => {
                self.expr(index, None);
                return self.error_expr(e.span);
            }
            Ty::Tuple(_) => return self.tuple_index(e, x, index),
            Ty::List(t) => (Ty::I64, (**t).clone()),
            Ty::Dict(kv) => (kv.0.clone(), kv.1.clone()),
            Ty::Str => (Ty::I64, Ty::Str),
            ty => {
                let ty = ty.clone();
                self.expr(index, None);
                self.error(e.span, format!("cannot index into a value of type `{ty}`"));
                return self.error_expr(e.span);
            }
        };
        let i = self.expr(index, Some(&key));
        let i = self.coerce(i, &key, index.span);
        Expr { kind: ExprKind::Index { base: Box::new(x), index: Box::new(i) }, ty, span }
    }

    /// `base[start:end]` of a list or string.
    pub(super) fn slice(
        &mut self,
        e: &ast::Expr,
        base: &ast::Expr,
        start: Option<&ast::Expr>,
        end: Option<&ast::Expr>,
    ) -> Expr {
        let x = self.expr(base, None);
        let bound = |cx: &mut Self, b: Option<&ast::Expr>| b.map(|b| Box::new(cx.int_expr(b)));
        let (start, end) = (bound(self, start), bound(self, end));
        match &x.ty {
            Ty::List(_) | Ty::Str => {
                let ty = x.ty.clone();
                Expr { kind: ExprKind::Slice { base: Box::new(x), start, end }, ty, span: self.rel(e.span) }
            }
            Ty::Error => self.error_expr(e.span),
            ty => {
                let ty = ty.clone();
                self.error(e.span, format!("cannot slice a value of type `{ty}`"));
                self.error_expr(e.span)
            }
        }
    }

    /// `x in c` / `x not in c`.
    pub(super) fn membership(&mut self, e: &ast::Expr, negated: bool, lhs: &ast::Expr, rhs: &ast::Expr) -> Expr {
        let container = self.expr(rhs, None);
        let (method, item_ty) = match &container.ty {
            Ty::List(t) => (Method::ListContains, (**t).clone()),
            Ty::Dict(kv) => (Method::DictContains, kv.0.clone()),
            Ty::Str => (Method::StrContains, Ty::Str),
            Ty::Error => {
                self.expr(lhs, None);
                return self.error_expr(e.span);
            }
            ty => {
                let ty = ty.clone();
                self.expr(lhs, None);
                self.error(rhs.span, format!("`in` needs a list, dict or string, found `{ty}`"));
                return self.error_expr(e.span);
            }
        };
        let item = self.expr(lhs, Some(&item_ty));
        let item = self.coerce(item, &item_ty, lhs.span);
        let span = self.rel(e.span);
        let test =
            Expr { kind: ExprKind::Method { method, args: vec![container, item], at: span }, ty: Ty::Bool, span };
        if negated {
            Expr { kind: ExprKind::Unary { op: ast::UnaryOp::Not, operand: Box::new(test) }, ty: Ty::Bool, span }
        } else {
            test
        }
    }

    /// `recv.name(args)` for a receiver of a built-in type.
    pub(super) fn builtin_method(&mut self, e: &ast::Expr, recv: Expr, name: &ast::Name, args: &[ast::Arg]) -> Expr {
        use Method as M;
        let elem = |t: &Ty| match t {
            Ty::List(t) => (**t).clone(),
            _ => Ty::Error,
        };
        let (method, params, ret): (Method, Vec<Ty>, Ty) = match (&recv.ty, &*name.text) {
            (Ty::Str, "len") => (M::StrLen, vec![], Ty::I64),
            (Ty::Str, "contains") => (M::StrContains, vec![Ty::Str], Ty::Bool),
            (Ty::Str, "starts_with") => (M::StrStartsWith, vec![Ty::Str], Ty::Bool),
            (Ty::Str, "ends_with") => (M::StrEndsWith, vec![Ty::Str], Ty::Bool),
            (Ty::Str, "find") => (M::StrFind, vec![Ty::Str], Ty::optional(Ty::I64)),
            (Ty::Str, "split") if args.is_empty() => (M::StrSplitWhitespace, vec![], Ty::list(Ty::Str)),
            (Ty::Str, "split") => (M::StrSplit, vec![Ty::Str], Ty::list(Ty::Str)),
            (Ty::Str, "join") => (M::StrJoin, vec![Ty::list(Ty::Str)], Ty::Str),
            (Ty::Str, "trim") => (M::StrTrim, vec![], Ty::Str),
            (Ty::Str, "to_upper") => (M::StrToUpper, vec![], Ty::Str),
            (Ty::Str, "to_lower") => (M::StrToLower, vec![], Ty::Str),
            (Ty::Str, "replace") => (M::StrReplace, vec![Ty::Str, Ty::Str], Ty::Str),
            (Ty::Str, "chars") => (M::StrChars, vec![], Ty::list(Ty::Str)),
            (Ty::Str, "to_int") => (M::StrToInt, vec![], Ty::optional(Ty::I64)),
            (Ty::Str, "to_float") => (M::StrToFloat, vec![], Ty::optional(Ty::F64)),
            (Ty::Str, "repeat") => (M::StrRepeat, vec![Ty::I64], Ty::Str),
            (Ty::List(_), "len") => (M::ListLen, vec![], Ty::I64),
            (t @ Ty::List(_), "push") => (M::ListPush, vec![elem(t)], Ty::Nil),
            (t @ Ty::List(_), "pop") => (M::ListPop, vec![], elem(t)),
            (t @ Ty::List(_), "insert") => (M::ListInsert, vec![Ty::I64, elem(t)], Ty::Nil),
            (t @ Ty::List(_), "remove") => (M::ListRemove, vec![Ty::I64], elem(t)),
            (t @ Ty::List(_), "contains") => (M::ListContains, vec![elem(t)], Ty::Bool),
            (Ty::List(_), "enumerate") => {
                self.error(name.span, "`enumerate()` can only be used in a `for` loop").help =
                    Some("write `for (i, x) in xs.enumerate():`".into());
                self.check_args_loosely(args);
                return self.error_expr(e.span);
            }
            (Ty::Dict(_), "len") => (M::DictLen, vec![], Ty::I64),
            (Ty::Dict(kv), "get") => (M::DictGet, vec![kv.0.clone()], Ty::optional(kv.1.clone())),
            (Ty::Dict(kv), "remove") => (M::DictRemove, vec![kv.0.clone()], kv.1.clone()),
            (Ty::Dict(kv), "keys") => (M::DictKeys, vec![], Ty::list(kv.0.clone())),
            (Ty::Dict(kv), "values") => (M::DictValues, vec![], Ty::list(kv.1.clone())),
            (Ty::Dict(kv), "items") => (M::DictItems, vec![], Ty::list(Ty::tuple(vec![kv.0.clone(), kv.1.clone()]))),
            (ty, m) => {
                let ty = ty.clone();
                self.error(name.span, format!("no method named `{m}` on type `{ty}`"));
                self.check_args_loosely(args);
                return self.error_expr(e.span);
            }
        };
        self.no_named(args);
        if args.len() != params.len() {
            let n = params.len();
            let s = if n == 1 { "" } else { "s" };
            self.error(e.span, format!("this method takes {n} argument{s} but {} were supplied", args.len()));
            self.check_args_loosely(args);
            return self.error_expr(e.span);
        }
        let mut all = vec![recv];
        for (arg, ty) in args.iter().zip(&params) {
            let x = self.expr(&arg.value, Some(ty));
            all.push(self.coerce(x, ty, arg.value.span));
        }
        let at = self.rel(Span { start: name.span.start, end: e.span.end });
        Expr { kind: ExprKind::Method { method, args: all, at }, ty: ret, span: self.rel(e.span) }
    }

    /// `for pattern in iter:` over a list, `xs.enumerate()` or a dict's keys.
    pub(super) fn for_each(&mut self, pattern: &ast::Pattern, iter: &ast::Expr, body: &ast::Block) -> Option<Stmt> {
        let enumerated = match &iter.kind {
            A::Call { callee, args } if args.is_empty() => match &callee.kind {
                A::Field(f) if &*f.name.text == "enumerate" => Some(&f.base),
                _ => None,
            },
            _ => None,
        };
        let source = enumerated.unwrap_or(iter);
        let x = self.expr(source, None);
        let (list, elem_ty) = match &x.ty {
            Ty::List(t) => {
                let t = (**t).clone();
                (x, t)
            }
            Ty::Dict(kv) if enumerated.is_none() => {
                let key = kv.0.clone();
                let span = x.span;
                let keys = Expr {
                    kind: ExprKind::Method { method: Method::DictKeys, args: vec![x], at: span },
                    ty: Ty::list(key.clone()),
                    span,
                };
                (keys, key)
            }
            Ty::Error => return None,
            ty => {
                let ty = ty.clone();
                let help = if ty == Ty::Str { "iterate over its characters: `for c in s.chars():`" } else { "" };
                let d = self.error(source.span, format!("cannot iterate over a value of type `{ty}`"));
                if !help.is_empty() {
                    d.help = Some(help.into());
                }
                return None;
            }
        };
        self.scopes.push(Vec::new());
        let span = list.span;
        let (index, elem, unpack) = match (enumerated, &pattern.kind) {
            (Some(_), ast::PatternKind::Tuple(parts)) if parts.len() == 2 => {
                let index = self.pattern_local(&parts[0], Ty::I64);
                let (elem, unpack) = self.loop_binding(&parts[1], elem_ty, span);
                (Some(index), elem, unpack)
            }
            (Some(_), _) => {
                self.error(pattern.span, "`enumerate()` gives pairs: write `for (i, x) in xs.enumerate():`");
                let (elem, unpack) = self.loop_binding(pattern, elem_ty, span);
                (None, elem, unpack)
            }
            (None, _) => {
                let (elem, unpack) = self.loop_binding(pattern, elem_ty, span);
                (None, elem, unpack)
            }
        };
        let ((body, _), _) = self.loop_body(body);
        self.scopes.pop();
        Some(Stmt::ForEach { list, index, elem, unpack, body })
    }

    /// The local an index pattern binds (a name or `_`).
    fn pattern_local(&mut self, pattern: &ast::Pattern, ty: Ty) -> crate::hir::LocalId {
        match &pattern.kind {
            ast::PatternKind::Binding { name, .. } => self.bind(&name.text, ty, false),
            ast::PatternKind::Wildcard => self.bind_hidden(ty),
            _ => {
                self.error(pattern.span, "expected a name for the index");
                self.bind_hidden(ty)
            }
        }
    }

    /// The local each element goes to, and the statements destructuring it.
    fn loop_binding(
        &mut self,
        pattern: &ast::Pattern,
        ty: Ty,
        span: crate::diagnostics::RelSpan,
    ) -> (crate::hir::LocalId, Vec<Stmt>) {
        match &pattern.kind {
            ast::PatternKind::Binding { name, .. } => (self.bind(&name.text, ty, false), Vec::new()),
            ast::PatternKind::Wildcard => (self.bind_hidden(ty), Vec::new()),
            _ => {
                let elem = self.bind_hidden(ty.clone());
                let value = Expr { kind: ExprKind::Local(elem), ty, span };
                let mut unpack = Vec::new();
                self.bind_parts(pattern, value, false, &mut unpack);
                (elem, unpack)
            }
        }
    }
}

/// Whether an expression's type comes only from context: an empty list or
/// dict literal, or a literal made of such (`[[]]`, `([], 1)`).
fn needs_context(e: &ast::Expr) -> bool {
    match &e.kind {
        A::List(xs) => xs.iter().all(needs_context),
        A::Dict(pairs) => pairs.is_empty(),
        A::Tuple(xs) => xs.iter().any(needs_context),
        _ => false,
    }
}
