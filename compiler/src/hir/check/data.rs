//! Checking Tier 2 data: construction of structs, classes, tuples and enum
//! variants, fields, methods and static functions, optionals, assignable
//! places and destructuring `let`.

use simple_syntax::Span;
use simple_syntax::ast::{self, ExprKind as A};

use super::{Checker, Def};
use crate::consts::ConstValue;
use crate::hir::{Adt, AdtDef, AdtKind, Expr, ExprKind, FieldDef, ParamValue, Place, Stmt, Ty};
use crate::items::{ParamSig, SelfKind};

/// Why an expression cannot be assigned to.
enum NotPlace {
    /// A binding declared without `mut`: its name.
    Immutable(String),
    /// A character of a string (`s[0] = ...`).
    StringChar,
    Other,
}

impl<'a> Checker<'a> {
    /// The struct, class or enum an expression names (`Point`,
    /// `geometry.Point`), if it names one rather than a value.
    pub(super) fn type_named(&self, e: &ast::Expr) -> Option<Adt> {
        match &e.kind {
            A::Name(n) if self.lookup_local(&n.text).is_none() => match self.scope.lookup(&n.text)? {
                Def::Type(adt) => Some(adt),
                _ => None,
            },
            A::Field(field) => {
                let module = self.module_of(&field.base)?;
                match self.scope.member(&module, &field.name.text)? {
                    Ok(Def::Type(adt)) => Some(adt),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    pub(super) fn adt_def(&self, adt: &Adt) -> AdtDef {
        self.scope.adt_def(adt).cloned().unwrap_or_default()
    }

    /// `Point(...)`: a struct or class from its fields' values.
    pub(super) fn construct(&mut self, e: &ast::Expr, adt: &Adt, args: &[ast::Arg]) -> Expr {
        if adt.kind() == AdtKind::Enum {
            self.error(e.span, format!("enum `{}` has no constructor", adt.name())).help =
                Some(format!("make a value of one of its variants: `{}::Variant(...)`", adt.name()));
            self.check_args_loosely(args);
            return self.error_expr(e.span);
        }
        let def = self.adt_def(adt);
        let params = field_params(&def.fields);
        let ty = Ty::Adt(adt.clone());
        match self.match_args_of(e.span, &params, None, args, Some(adt.name())) {
            Some((args, fields)) => Expr { kind: ExprKind::Record { args, fields }, ty, span: self.rel(e.span) },
            None => self.error_expr(e.span),
        }
    }

    /// `Point { x: 1.0, y: 2.0 }`
    pub(super) fn struct_lit(&mut self, e: &ast::Expr, lit: &ast::StructLitExpr) -> Expr {
        let path: Vec<String> = lit.path.iter().map(|n| n.text.to_string()).collect();
        let args: Vec<ast::Arg> = lit
            .fields
            .iter()
            .map(|(name, value)| ast::Arg { name: Some(name.clone()), value: value.clone() })
            .collect();
        match self.scope.types().named_type(&path) {
            Ok(adt) => self.construct(e, &adt, &args),
            Err(message) => {
                let span = lit.path.first().map_or(e.span, |n| n.span);
                self.error(span, message);
                self.check_args_loosely(&args);
                self.error_expr(e.span)
            }
        }
    }

    /// `(a, b)`; `()` is `nil`.
    pub(super) fn tuple(&mut self, e: &ast::Expr, elems: &[ast::Expr], expected: Option<&Ty>) -> Expr {
        let span = self.rel(e.span);
        let hints: Vec<Option<Ty>> = match expected {
            Some(Ty::Tuple(tys)) if tys.len() == elems.len() => tys.iter().cloned().map(Some).collect(),
            _ => vec![None; elems.len()],
        };
        let args: Vec<Expr> = elems
            .iter()
            .zip(&hints)
            .map(|(x, hint)| {
                let v = self.expr(x, hint.as_ref());
                match hint {
                    Some(h) if v.ty.coerces_to(h) => self.coerce(v, h, x.span),
                    _ => v,
                }
            })
            .collect();
        match args.len() {
            0 => Expr { kind: ExprKind::Const(ConstValue::Nil), ty: Ty::Nil, span },
            1 => {
                self.error(e.span, "a tuple has at least two elements").help =
                    Some("without the comma, `(x)` is just `x`".into());
                self.error_expr(e.span)
            }
            n => {
                let ty = Ty::tuple(args.iter().map(|a| a.ty.clone()).collect());
                Expr { kind: ExprKind::Record { args, fields: (0..n).map(ParamValue::Arg).collect() }, ty, span }
            }
        }
    }

    /// `base.name`: a field of a struct, class or tuple.
    pub(super) fn field(&mut self, e: &ast::Expr, base: &ast::Expr, name: &ast::Name) -> Expr {
        if let Some(adt) = self.type_named(base) {
            if adt.kind() == AdtKind::Enum && self.adt_def(&adt).variant(&name.text).is_some() {
                return self.variant_value(e, &adt, name, None);
            }
            self.error(name.span, format!("`{}.{}` is not a value", adt.name(), name.text)).help =
                Some(format!("call a static function with `{}.{}(...)`", adt.name(), name.text));
            return self.error_expr(e.span);
        }
        let x = self.expr(base, None);
        self.field_of(e.span, x, name)
    }

    fn field_of(&mut self, span: Span, x: Expr, name: &ast::Name) -> Expr {
        let rel = self.rel(span);
        let found = match &x.ty {
            Ty::Error => return self.error_expr(span),
            Ty::Adt(adt) if adt.kind() != AdtKind::Enum => {
                let def = self.adt_def(adt);
                match def.field(&name.text) {
                    Some((index, field)) => {
                        if !field.is_pub && !self.scope.is_local_type(adt) {
                            self.error(name.span, format!("field `{}` of `{}` is private", name.text, adt.name()))
                                .help =
                                Some(format!("mark the field `pub` in the module that declares `{}`", adt.name()));
                        }
                        Some((index, field.ty.clone()))
                    }
                    None => None,
                }
            }
            Ty::Tuple(tys) => name.text.parse::<usize>().ok().and_then(|i| Some((i, tys.get(i)?.clone()))),
            Ty::Optional(_) => {
                self.error(name.span, format!("`{}` is optional: it may be nil", x.ty)).help =
                    Some("get the value first: `.unwrap()`, `?? default` or `if let v = ...`".into());
                return self.error_expr(span);
            }
            _ => None,
        };
        match found {
            Some((index, ty)) => {
                Expr { kind: ExprKind::Field { base: Box::new(x), index: index as u32 }, ty, span: rel }
            }
            None => {
                self.error(name.span, format!("no field `{}` on type `{}`", name.text, x.ty)).label =
                    Some("unknown field".into());
                self.error_expr(span)
            }
        }
    }

    /// `t[0]`: a tuple element by constant index.
    pub(super) fn tuple_index(&mut self, e: &ast::Expr, x: Expr, index: &ast::Expr) -> Expr {
        match &index.kind {
            A::Int(i) => {
                let name = ast::Name { text: i.get().to_string().into(), span: index.span };
                self.field_of(e.span, x, &name)
            }
            _ => {
                self.error(index.span, "a tuple index must be an integer literal");
                self.error_expr(e.span)
            }
        }
    }

    /// The enum named by all but the last segment of a `::` path, and the
    /// variant the last one names.
    fn variant_path(&mut self, path: &[ast::Name]) -> Option<(Adt, usize)> {
        let (last, type_path) = path.split_last()?;
        let names: Vec<String> = type_path.iter().map(|n| n.text.to_string()).collect();
        let adt = match self.scope.types().named_type(&names) {
            Ok(adt) => adt,
            Err(message) => {
                self.error(type_path[0].span, message);
                return None;
            }
        };
        if adt.kind() != AdtKind::Enum {
            self.error(last.span, format!("`{}` is not an enum", adt.name()));
            return None;
        }
        match self.adt_def(&adt).variant(&last.text) {
            Some((index, _)) => Some((adt, index)),
            None => {
                self.error(last.span, format!("no variant `{}` in enum `{}`", last.text, adt.name())).label =
                    Some("unknown variant".into());
                None
            }
        }
    }

    /// `Shape::Empty` as a value.
    pub(super) fn path_value(&mut self, e: &ast::Expr, path: &[ast::Name]) -> Expr {
        let Some((adt, _)) = self.variant_path(path) else { return self.error_expr(e.span) };
        let last = path.last().expect("a path has segments");
        self.variant_value(e, &adt, last, None)
    }

    /// `Shape::Circle(1.0)`
    pub(super) fn variant_call(&mut self, e: &ast::Expr, path: &[ast::Name], args: &[ast::Arg]) -> Expr {
        let Some((adt, _)) = self.variant_path(path) else {
            self.check_args_loosely(args);
            return self.error_expr(e.span);
        };
        let last = path.last().expect("a path has segments");
        self.variant_value(e, &adt, last, Some(args))
    }

    /// A value of variant `name` of `adt`, with or without an argument list.
    fn variant_value(&mut self, e: &ast::Expr, adt: &Adt, name: &ast::Name, args: Option<&[ast::Arg]>) -> Expr {
        let def = self.adt_def(adt);
        let Some((index, variant)) = def.variant(&name.text) else { return self.error_expr(e.span) };
        let ty = Ty::Adt(adt.clone());
        let span = self.rel(e.span);
        let args = match args {
            Some(args) => args,
            None if variant.fields.is_empty() => &[],
            None => {
                self.error(e.span, format!("variant `{}::{}` needs its fields", adt.name(), name.text)).help =
                    Some(format!("write `{}::{}(...)`", adt.name(), name.text));
                return self.error_expr(e.span);
            }
        };
        let params = field_params(&variant.fields);
        let label = format!("{}::{}", adt.name(), name.text);
        match self.match_args_of(e.span, &params, None, args, Some(&label)) {
            Some((args, fields)) => Expr { kind: ExprKind::Variant { index: index as u32, args, fields }, ty, span },
            None => self.error_expr(e.span),
        }
    }

    /// `base.name(args)`: a method, a static function or variant of a type,
    /// or a built-in method.
    pub(super) fn method_call(&mut self, e: &ast::Expr, base: &ast::Expr, name: &ast::Name, args: &[ast::Arg]) -> Expr {
        if let Some(adt) = self.type_named(base) {
            if adt.kind() == AdtKind::Enum && self.adt_def(&adt).variant(&name.text).is_some() {
                return self.variant_value(e, &adt, name, Some(args));
            }
            return match self.scope.method(&adt, &name.text) {
                Some(Ok(Def::Fn { symbol, sig, .. })) if sig.self_kind.is_none() => {
                    self.user_call(e, symbol, sig, args)
                }
                Some(Ok(_)) => {
                    self.error(
                        name.span,
                        format!("`{}` is a method: call it on a value of `{}`", name.text, adt.name()),
                    );
                    self.check_args_loosely(args);
                    self.error_expr(e.span)
                }
                Some(Err(message)) => {
                    self.error(name.span, message);
                    self.check_args_loosely(args);
                    self.error_expr(e.span)
                }
                None => {
                    self.error(name.span, format!("no function named `{}` on type `{}`", name.text, adt.name()));
                    self.check_args_loosely(args);
                    self.error_expr(e.span)
                }
            };
        }
        let recv = self.expr(base, None);
        match recv.ty.clone() {
            Ty::Adt(adt) => self.user_method(e, base, recv, &adt, name, args),
            Ty::Optional(inner) if &*name.text == "unwrap" => {
                if !args.is_empty() {
                    self.error(e.span, format!("this method takes 0 arguments but {} were supplied", args.len()));
                }
                let span = self.rel(name.span);
                Expr { kind: ExprKind::Unwrap(Box::new(recv)), ty: (*inner).clone(), span }
            }
            Ty::Error => {
                self.check_args_loosely(args);
                self.error_expr(e.span)
            }
            _ => self.builtin_method(e, recv, name, args),
        }
    }

    /// `recv.name(args)` for a method of a struct, class or enum.
    fn user_method(
        &mut self,
        e: &ast::Expr,
        base: &ast::Expr,
        recv: Expr,
        adt: &Adt,
        name: &ast::Name,
        args: &[ast::Arg],
    ) -> Expr {
        let (symbol, sig) = match self.scope.method(adt, &name.text) {
            Some(Ok(Def::Fn { symbol, sig, .. })) => (symbol, sig),
            Some(Err(message)) => {
                self.error(name.span, message);
                self.check_args_loosely(args);
                return self.error_expr(e.span);
            }
            _ => {
                self.error(name.span, format!("no method named `{}` on type `{}`", name.text, adt.name()));
                self.check_args_loosely(args);
                return self.error_expr(e.span);
            }
        };
        let Some(self_kind) = sig.self_kind else {
            self.error(name.span, format!("`{}` is a static function, not a method", name.text)).help =
                Some(format!("call it as `{}.{}(...)`", adt.name(), name.text));
            self.check_args_loosely(args);
            return self.error_expr(e.span);
        };
        let span = self.rel(e.span);
        let mutates = self_kind == SelfKind::Mut && adt.kind() != AdtKind::Class;
        let place = if mutates {
            match self.hir_place(recv.clone()) {
                Ok(place) => Some(place),
                Err(why) => {
                    let message = match why {
                        NotPlace::Immutable(var) => {
                            format!("cannot call `mut self` method `{}` on immutable variable `{var}`", name.text)
                        }
                        NotPlace::StringChar | NotPlace::Other => {
                            format!("`mut self` method `{}` needs a variable to change", name.text)
                        }
                    };
                    self.error(base.span, message).help = Some("bind the value with `var` first".into());
                    None
                }
            }
        } else {
            None
        };
        let Some((args, params)) = self.match_args(e.span, &sig.params, Some(recv), args) else {
            return self.error_expr(e.span);
        };
        if sig.params.iter().any(|p| p.ty.has_error()) {
            return self.poison(sig.ret.clone(), e.span);
        }
        let kind = match place {
            Some(place) => ExprKind::MutCall { place, symbol, args, params },
            None if mutates => return self.error_expr(e.span),
            None => ExprKind::Call { symbol, args, params },
        };
        Expr { kind, ty: sig.ret.clone(), span }
    }

    /// `opt ?? default`
    pub(super) fn coalesce(&mut self, e: &ast::Expr, lhs: &ast::Expr, rhs: &ast::Expr, expected: Option<&Ty>) -> Expr {
        let hint = expected.map(|t| Ty::optional(t.clone()));
        let opt = self.expr(lhs, hint.as_ref());
        let inner = match &opt.ty {
            Ty::Optional(inner) => (**inner).clone(),
            Ty::Error => Ty::Error,
            ty => {
                let ty = ty.clone();
                self.error(lhs.span, format!("`??` needs an optional on its left, found `{ty}`"));
                Ty::Error
            }
        };
        let default = self.expr(rhs, Some(&inner));
        let default = self.coerce(default, &inner, rhs.span);
        let span = self.rel(e.span);
        Expr { kind: ExprKind::Coalesce { opt: Box::new(opt), default: Box::new(default) }, ty: inner, span }
    }

    /// The place an assignment writes, and its type. May add statements that
    /// evaluate parts of the target once, before the assignment.
    pub(super) fn place(&mut self, target: &ast::Expr, span: Span, stmts: &mut Vec<Stmt>) -> Option<(Place, Ty)> {
        if let A::Name(name) = &target.kind {
            let Some(local) = self.lookup_local(&name.text) else {
                let what = match self.scope.lookup(&name.text) {
                    Some(Def::Const(_)) => format!("cannot assign to constant `{}`", name.text),
                    Some(Def::Fn { .. }) => format!("cannot assign to function `{}`", name.text),
                    Some(Def::Module(_)) => format!("cannot assign to module `{}`", name.text),
                    Some(Def::Type(_)) => format!("cannot assign to type `{}`", name.text),
                    None => format!("cannot find `{}` in this scope", name.text),
                };
                self.error(name.span, what);
                return None;
            };
            let info = self.locals[local.0 as usize].clone();
            if !info.mutable {
                self.error(span, format!("cannot assign twice to immutable variable `{}`", name.text)).help =
                    Some(format!("make the binding mutable: `let mut {}` or `var {}`", name.text, name.text));
            }
            return Some((crate::hir::Place::Local(local), info.ty));
        }
        if !matches!(target.kind, A::Field(_) | A::Index { .. }) {
            self.error(target.span, "cannot assign to this expression");
            self.expr(target, None);
            return None;
        }
        let x = self.expr(target, None);
        if x.ty == Ty::Error {
            return None;
        }
        let ty = x.ty.clone();
        match self.hir_place(x) {
            Ok(place) => Some((self.evaluate_once(place, stmts), ty)),
            Err(NotPlace::StringChar) => {
                self.error(target.span, "cannot assign to a character of a string: strings are immutable");
                None
            }
            Err(NotPlace::Immutable(var)) => {
                self.error(target.span, format!("cannot assign to a field of immutable variable `{var}`")).help =
                    Some(format!("make the binding mutable: `var {var}`"));
                None
            }
            Err(NotPlace::Other) => {
                self.error(target.span, "cannot assign to this expression");
                None
            }
        }
    }

    /// A checked expression as a place, if it is one.
    fn hir_place(&self, x: Expr) -> Result<Place, NotPlace> {
        match x.kind {
            ExprKind::Local(local) => {
                let info = &self.locals[local.0 as usize];
                if info.mutable { Ok(Place::Local(local)) } else { Err(NotPlace::Immutable(info.name.clone())) }
            }
            ExprKind::Field { base, index } => match &base.ty {
                Ty::Adt(adt) if adt.kind() == AdtKind::Class => Ok(Place::ObjectField(base, index)),
                Ty::Adt(_) | Ty::Tuple(_) => Ok(Place::Field(Box::new(self.hir_place(*base)?), index)),
                _ => Err(NotPlace::Other),
            },
            ExprKind::Index { base, index } if matches!(base.ty, Ty::List(_) | Ty::Dict(_)) => {
                Ok(Place::Index(base, index))
            }
            ExprKind::Index { .. } => Err(NotPlace::StringChar),
            _ => Err(NotPlace::Other),
        }
    }

    /// `place` with the object expressions in it bound to locals first, so
    /// that reading and then writing it evaluates them once.
    fn evaluate_once(&mut self, place: Place, stmts: &mut Vec<Stmt>) -> Place {
        match place {
            Place::Local(_) => place,
            Place::Field(inner, index) => Place::Field(Box::new(self.evaluate_once(*inner, stmts)), index),
            Place::ObjectField(object, index) => Place::ObjectField(self.once(object, stmts), index),
            Place::Index(base, index) => {
                let base = self.once(base, stmts);
                Place::Index(base, self.once(index, stmts))
            }
        }
    }

    /// `x` bound to a hidden local first, unless it is a local already.
    fn once(&mut self, x: Box<Expr>, stmts: &mut Vec<Stmt>) -> Box<Expr> {
        if matches!(x.kind, ExprKind::Local(_) | ExprKind::Const(_)) {
            return x;
        }
        let span = x.span;
        let ty = x.ty.clone();
        let local = self.bind_hidden(ty.clone());
        stmts.push(Stmt::Let { local, init: *x });
        Box::new(Expr { kind: ExprKind::Local(local), ty, span })
    }

    /// The current value of a place.
    pub(super) fn place_value(&self, place: &Place, ty: &Ty, span: Span) -> Expr {
        let rel = self.rel(span);
        let kind = match place {
            Place::Local(local) => ExprKind::Local(*local),
            Place::Field(inner, index) => {
                let base = self.place_value(inner, &self.place_ty(inner), span);
                ExprKind::Field { base: Box::new(base), index: *index }
            }
            Place::ObjectField(object, index) => ExprKind::Field { base: object.clone(), index: *index },
            Place::Index(base, index) => ExprKind::Index { base: base.clone(), index: index.clone() },
        };
        Expr { kind, ty: ty.clone(), span: rel }
    }

    fn place_ty(&self, place: &Place) -> Ty {
        let field_ty = |ty: &Ty, index: u32| match ty {
            Ty::Tuple(tys) => tys.get(index as usize).cloned().unwrap_or(Ty::Error),
            Ty::Adt(adt) => self.adt_def(adt).fields.get(index as usize).map_or(Ty::Error, |f| f.ty.clone()),
            _ => Ty::Error,
        };
        match place {
            Place::Local(local) => self.locals[local.0 as usize].ty.clone(),
            Place::Field(inner, index) => field_ty(&self.place_ty(inner), *index),
            Place::ObjectField(object, index) => field_ty(&object.ty, *index),
            Place::Index(base, _) => match &base.ty {
                Ty::List(t) => (**t).clone(),
                Ty::Dict(kv) => kv.1.clone(),
                _ => Ty::Error,
            },
        }
    }

    /// `let (a, b) = init` and `let Point(x: a, y: b) = init`: the value
    /// goes to a hidden local, each name to its part.
    pub(super) fn destructure(&mut self, pattern: &ast::Pattern, init: Expr, ty: Ty, mutable: bool) -> Vec<Stmt> {
        let span = init.span;
        let whole = self.bind_hidden(ty.clone());
        let mut stmts = vec![Stmt::Let { local: whole, init }];
        let value = Expr { kind: ExprKind::Local(whole), ty, span };
        self.bind_parts(pattern, value, mutable, &mut stmts);
        stmts
    }

    pub(super) fn bind_parts(&mut self, pattern: &ast::Pattern, value: Expr, mutable: bool, stmts: &mut Vec<Stmt>) {
        use ast::PatternKind as P;
        let parts: Vec<(u32, &ast::Pattern)> = match (&pattern.kind, &value.ty) {
            (P::Binding { name, mutable: m }, _) => {
                let local = self.bind(&name.text, value.ty.clone(), mutable || *m);
                stmts.push(Stmt::Let { local, init: value });
                return;
            }
            (P::Wildcard, _) | (_, Ty::Error) => return,
            (P::Tuple(pats), Ty::Tuple(tys)) if pats.len() == tys.len() => {
                pats.iter().enumerate().map(|(i, p)| (i as u32, p)).collect()
            }
            (P::Tuple(pats), ty) => {
                let ty = ty.clone();
                self.error(pattern.span, format!("expected `{ty}`, found a tuple of {} elements", pats.len()));
                return;
            }
            (P::Constructor(c), Ty::Adt(adt)) if adt.kind() != AdtKind::Enum => {
                let def = self.adt_def(adt);
                let mut parts = Vec::new();
                for (i, fp) in c.args.iter().flatten().enumerate() {
                    let index = match &fp.name {
                        Some(n) => match def.field(&n.text) {
                            Some((index, _)) => index,
                            None => {
                                self.error(n.span, format!("no field `{}` on type `{}`", n.text, adt.name()));
                                continue;
                            }
                        },
                        None => i,
                    };
                    parts.push((index as u32, &fp.pattern));
                }
                parts
            }
            _ => {
                self.error(pattern.span, "this pattern may not match: use `match` or `if let`");
                return;
            }
        };
        for (index, part) in parts {
            let ty = match &value.ty {
                Ty::Tuple(tys) => tys[index as usize].clone(),
                Ty::Adt(adt) => self.adt_def(adt).fields.get(index as usize).map_or(Ty::Error, |f| f.ty.clone()),
                _ => Ty::Error,
            };
            let field = Expr { kind: ExprKind::Field { base: Box::new(value.clone()), index }, ty, span: value.span };
            self.bind_parts(part, field, mutable, stmts);
        }
    }
}

/// Fields as the parameters of a constructor.
fn field_params(fields: &[FieldDef]) -> Vec<ParamSig> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| ParamSig {
            name: f.name.clone().unwrap_or_else(|| i.to_string()),
            ty: f.ty.clone(),
            default: f.default.clone(),
        })
        .collect()
}
