//! Compile-time evaluation of constant expressions: `const` initialisers and
//! default arguments.
//!
//! A constant expression is made of literals, other constants, unary and
//! binary operators and casts. Faults that would be runtime errors (overflow,
//! division by zero) are compile errors here.

use simple_syntax::ast::{self, BinOp, ExprKind, StrPart, UnaryOp};

use crate::diagnostics::{RelDiagnostic, RelSpan};
use crate::hir::Ty;
use crate::items::{NoTypes, resolve_type};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConstValue {
    I64(i64),
    F64(ast::FloatBits),
    Bool(bool),
    Str(String),
    Nil,
}

impl ConstValue {
    pub fn ty(&self) -> Ty {
        match self {
            ConstValue::I64(_) => Ty::I64,
            ConstValue::F64(_) => Ty::F64,
            ConstValue::Bool(_) => Ty::Bool,
            ConstValue::Str(_) => Ty::Str,
            ConstValue::Nil => Ty::Nil,
        }
    }
}

/// The default of a parameter or a field, put in at each call or
/// construction that leaves it out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DefaultValue {
    Const(ConstValue),
    /// `[]` or `{}`: a new empty list or dict each time, so that no two
    /// objects share a mutable default.
    Empty,
    /// A default with an error, reported where it is written; the
    /// parameter or field still counts as having one, so that each use
    /// does not report it missing.
    Error,
}

/// Evaluates the default `expr` of a parameter or field of type `ty`,
/// pushing any error to `diagnostics`.
pub fn eval_default(
    expr: &ast::Expr,
    ty: &Ty,
    lookup: &mut Lookup,
    diagnostics: &mut Vec<RelDiagnostic>,
) -> DefaultValue {
    let span = RelSpan { part: 0, span: expr.span };
    let empty = match &expr.kind {
        ExprKind::List(xs) if xs.is_empty() => Some((matches!(ty, Ty::List(_)), "an empty list")),
        ExprKind::Dict(entries) if entries.is_empty() => Some((matches!(ty, Ty::Dict(_)), "an empty dict")),
        _ => None,
    };
    match empty {
        Some((true, _)) => return DefaultValue::Empty,
        Some((false, found)) => {
            let message = format!("mismatched types: expected `{ty}`, found {found}");
            diagnostics.push(RelDiagnostic::error(span, message).with_label(format!("expected `{ty}`")));
            return DefaultValue::Error;
        }
        None => {}
    }
    match eval(expr, 0, lookup) {
        Ok(value) if value.ty().coerces_to(ty) => DefaultValue::Const(value),
        Ok(value) => {
            diagnostics.push(
                RelDiagnostic::error(span, format!("mismatched types: expected `{ty}`, found `{}`", value.ty()))
                    .with_label(format!("expected `{ty}`")),
            );
            DefaultValue::Error
        }
        Err(ConstError::New(d)) => {
            diagnostics.push(d);
            DefaultValue::Error
        }
        Err(ConstError::Reported) => DefaultValue::Error,
    }
}

/// Looks up another constant: `Some(Ok(v))`, `Some(Err(_))` if it exists but
/// has no value (already reported), `None` if there is no such constant.
pub type Lookup<'a> = dyn FnMut(&str) -> Option<Result<ConstValue, Ty>> + 'a;

/// An integer literal, or the error for one that does not fit `i64`.
pub fn int_literal(value: u128, negated: bool, span: RelSpan) -> Result<i64, RelDiagnostic> {
    if negated && value == 1u128 << 63 {
        return Ok(i64::MIN);
    }
    let v = i64::try_from(value).map_err(|_| {
        RelDiagnostic::error(span, "integer literal is too large for `i64`")
            .with_help("the largest `i64` is 9223372036854775807")
    })?;
    Ok(if negated { -v } else { v })
}

/// Why a constant expression has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstError {
    /// A new error to report.
    New(RelDiagnostic),
    /// It uses a constant whose error was reported already.
    Reported,
}

impl From<RelDiagnostic> for ConstError {
    fn from(d: RelDiagnostic) -> ConstError {
        ConstError::New(d)
    }
}

pub fn eval(expr: &ast::Expr, part: u32, lookup: &mut Lookup) -> Result<ConstValue, ConstError> {
    let span = RelSpan { part, span: expr.span };
    let not_const = || {
        RelDiagnostic::error(span, "constant initialiser must be a constant expression")
            .with_help("constants and defaults may use literals, other constants and operators; a default may also be `[]` or `{}`")
    };
    Ok(match &expr.kind {
        ExprKind::Int(v) => ConstValue::I64(int_literal(v.get(), false, span)?),
        ExprKind::Float(bits) => ConstValue::F64(*bits),
        ExprKind::Bool(b) => ConstValue::Bool(*b),
        ExprKind::Nil => ConstValue::Nil,
        ExprKind::Str(parts) => {
            let mut text = String::new();
            for part in parts {
                match part {
                    StrPart::Text(t) => text.push_str(t),
                    StrPart::Interp { .. } => return Err(not_const().into()),
                }
            }
            ConstValue::Str(text)
        }
        ExprKind::Name(name) => match lookup(&name.text) {
            Some(Ok(v)) => v,
            Some(Err(_)) => return Err(ConstError::Reported),
            None => return Err(not_const().into()),
        },
        ExprKind::Unary { op: UnaryOp::Neg, operand } if matches!(operand.kind, ExprKind::Int(_)) => {
            let ExprKind::Int(v) = operand.kind else { unreachable!("matched above") };
            ConstValue::I64(int_literal(v.get(), true, span)?)
        }
        ExprKind::Unary { op, operand } => {
            let v = eval(operand, part, lookup)?;
            match (op, v) {
                (UnaryOp::Neg, ConstValue::I64(v)) => ConstValue::I64(v.checked_neg().ok_or_else(|| overflow(span))?),
                (UnaryOp::Neg, ConstValue::F64(v)) => ConstValue::F64(ast::FloatBits::new(-v.value())),
                (UnaryOp::Not, ConstValue::Bool(b)) => ConstValue::Bool(!b),
                (UnaryOp::BitNot, ConstValue::I64(v)) => ConstValue::I64(!v),
                (_, v) => return Err(bad_unary(*op, v.ty(), span).into()),
            }
        }
        ExprKind::Binary { op, op_span, lhs, rhs } => {
            let op_rel = RelSpan { part, span: *op_span };
            let l = eval(lhs, part, lookup)?;
            let r = eval(rhs, part, lookup)?;
            binary(*op, l, r, op_rel)?
        }
        ExprKind::Cast { expr: inner, ty, .. } => {
            let v = eval(inner, part, lookup)?;
            let target = resolve_type(ty, part, &NoTypes)?;
            match (v, target) {
                (v, t) if v.ty() == t => v,
                (ConstValue::I64(i), Ty::F64) => ConstValue::F64(ast::FloatBits::new(i as f64)),
                (ConstValue::Bool(b), Ty::I64) => ConstValue::I64(b as i64),
                (ConstValue::F64(f), Ty::I64) => {
                    let f = f.value();
                    if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
                        return Err(RelDiagnostic::error(span, "invalid cast in constant expression").into());
                    }
                    ConstValue::I64(f as i64)
                }
                (v, t) => {
                    return Err(RelDiagnostic::error(span, format!("cannot cast `{}` as `{t}`", v.ty())).into());
                }
            }
        }
        _ => return Err(not_const().into()),
    })
}

fn overflow(span: RelSpan) -> RelDiagnostic {
    RelDiagnostic::error(span, "integer overflow in constant expression")
}

fn bad_unary(op: UnaryOp, ty: Ty, span: RelSpan) -> RelDiagnostic {
    let sym = match op {
        UnaryOp::Neg => "-",
        UnaryOp::Not => "not",
        UnaryOp::BitNot => "~",
    };
    RelDiagnostic::error(span, format!("cannot apply `{sym}` to `{ty}`"))
}

fn binary(op: BinOp, l: ConstValue, r: ConstValue, span: RelSpan) -> Result<ConstValue, RelDiagnostic> {
    use ConstValue::*;
    let ovf = || overflow(span);
    Ok(match (op, l, r) {
        (BinOp::Add, I64(a), I64(b)) => I64(a.checked_add(b).ok_or_else(ovf)?),
        (BinOp::Sub, I64(a), I64(b)) => I64(a.checked_sub(b).ok_or_else(ovf)?),
        (BinOp::Mul, I64(a), I64(b)) => I64(a.checked_mul(b).ok_or_else(ovf)?),
        (BinOp::Div | BinOp::FloorDiv | BinOp::Rem, I64(_), I64(0)) => {
            return Err(RelDiagnostic::error(span, "division by zero in constant expression"));
        }
        (BinOp::Div, I64(a), I64(b)) => I64(a.checked_div(b).ok_or_else(ovf)?),
        (BinOp::Rem, I64(a), I64(b)) => I64(a.checked_rem(b).ok_or_else(ovf)?),
        (BinOp::FloorDiv, I64(a), I64(b)) => {
            let q = a.checked_div(b).ok_or_else(ovf)?;
            I64(if (a % b != 0) && ((a < 0) != (b < 0)) { q - 1 } else { q })
        }
        (BinOp::Pow, I64(a), I64(b)) => {
            let exp =
                u32::try_from(b).map_err(|_| RelDiagnostic::error(span, "negative exponent in constant expression"))?;
            I64(a.checked_pow(exp).ok_or_else(ovf)?)
        }
        (BinOp::BitAnd, I64(a), I64(b)) => I64(a & b),
        (BinOp::BitOr, I64(a), I64(b)) => I64(a | b),
        (BinOp::BitXor, I64(a), I64(b)) => I64(a ^ b),
        (BinOp::Shl | BinOp::Shr, I64(_), I64(b)) if !(0..64).contains(&b) => {
            return Err(RelDiagnostic::error(span, "shift amount out of range in constant expression"));
        }
        (BinOp::Shl, I64(a), I64(b)) => I64(a << b),
        (BinOp::Shr, I64(a), I64(b)) => I64(a >> b),
        (BinOp::Add, F64(a), F64(b)) => F64(ast::FloatBits::new(a.value() + b.value())),
        (BinOp::Sub, F64(a), F64(b)) => F64(ast::FloatBits::new(a.value() - b.value())),
        (BinOp::Mul, F64(a), F64(b)) => F64(ast::FloatBits::new(a.value() * b.value())),
        (BinOp::Div, F64(a), F64(b)) => F64(ast::FloatBits::new(a.value() / b.value())),
        (BinOp::Add, Str(a), Str(b)) => Str(a + &b),
        (BinOp::And, Bool(a), Bool(b)) => Bool(a && b),
        (BinOp::Or, Bool(a), Bool(b)) => Bool(a || b),
        (BinOp::Eq | BinOp::Ne, a, b) if a.ty() == b.ty() => {
            let eq = match (&a, &b) {
                (F64(x), F64(y)) => x.value() == y.value(),
                _ => a == b,
            };
            Bool(eq == (op == BinOp::Eq))
        }
        (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, a, b) if a.ty() == b.ty() => {
            let ord = match (&a, &b) {
                (I64(x), I64(y)) => x.partial_cmp(y),
                (F64(x), F64(y)) => x.value().partial_cmp(&y.value()),
                (Str(x), Str(y)) => x.as_bytes().partial_cmp(y.as_bytes()),
                _ => return Err(bad_binary(op, a.ty(), b.ty(), span)),
            };
            let result = match ord {
                None => false,
                Some(o) => match op {
                    BinOp::Lt => o.is_lt(),
                    BinOp::Le => o.is_le(),
                    BinOp::Gt => o.is_gt(),
                    _ => o.is_ge(),
                },
            };
            Bool(result)
        }
        (op, a, b) => return Err(bad_binary(op, a.ty(), b.ty(), span)),
    })
}

fn bad_binary(op: BinOp, l: Ty, r: Ty, span: RelSpan) -> RelDiagnostic {
    RelDiagnostic::error(span, format!("cannot apply `{}` to `{l}` and `{r}`", op.symbol()))
}
