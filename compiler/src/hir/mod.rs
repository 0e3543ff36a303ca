//! HIR: the typed body of one function, produced by the type checker from
//! the AST and consumed by MIR lowering.
//!
//! Names are resolved (locals to [`LocalId`]s, functions to symbols,
//! constants to their values), every expression has a [`Ty`], compound
//! assignments are desugared and call arguments are in parameter order with
//! defaults filled in. Spans are [`RelSpan`]s: relative to the function.

mod check;
mod pretty;

use std::fmt;

pub use check::{Def, Scope, check_fn};
pub use pretty::pretty;

use crate::consts::ConstValue;
use crate::diagnostics::{Level, RelDiagnostic, RelSpan};
use simple_syntax::ast::{BinOp, UnaryOp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Ty {
    I64,
    F64,
    Bool,
    Str,
    #[default]
    Nil,
    /// The type of an expression that never produces a value (`exit(1)`, an
    /// `if` whose branches all return). Fits any expected type.
    Never,
    /// The type of an expression that already has an error; fits anything,
    /// so one mistake gives one diagnostic.
    Error,
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ty::I64 => "i64",
            Ty::F64 => "f64",
            Ty::Bool => "bool",
            Ty::Str => "str",
            Ty::Nil => "nil",
            Ty::Never => "never",
            Ty::Error => "{error}",
        })
    }
}

impl Ty {
    /// Whether a value of type `self` may be used where `expected` is needed.
    pub fn fits(self, expected: Ty) -> bool {
        self == expected || matches!(self, Ty::Never | Ty::Error) || expected == Ty::Error
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub u32);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalInfo {
    pub name: String,
    pub ty: Ty,
    pub mutable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnHir {
    pub name: String,
    pub locals: Vec<LocalInfo>,
    /// Parameters are locals `0..param_count`.
    pub param_count: u32,
    pub ret: Ty,
    pub body: Block,
    /// For a script's implicit `main`: the local that `main = EXPR` sets.
    pub exit_status: Option<LocalId>,
    pub diagnostics: Vec<RelDiagnostic>,
}

impl FnHir {
    /// The HIR of a function whose source is gone (never reached by callers
    /// that got the function from `file_fns`).
    pub fn missing(name: &str) -> FnHir {
        FnHir {
            name: name.to_string(),
            locals: Vec::new(),
            param_count: 0,
            ret: Ty::Nil,
            body: Block::default(),
            exit_status: None,
            diagnostics: vec![RelDiagnostic::error(RelSpan::default(), format!("function `{name}` has no source"))],
        }
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.level == Level::Error)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// The block's value, when it is used as an expression.
    pub tail: Option<Box<Expr>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stmt {
    Let {
        local: LocalId,
        init: Expr,
    },
    Assign {
        local: LocalId,
        value: Expr,
    },
    Expr(Expr),
    Return {
        value: Option<Expr>,
        span: RelSpan,
    },
    Break,
    Continue,
    While {
        cond: Expr,
        body: Block,
    },
    Loop {
        body: Block,
    },
    /// `for var in start..end` (or `..=`, or `range(start, end, step)`).
    ForRange {
        var: LocalId,
        start: Expr,
        end: Expr,
        step: Option<Expr>,
        inclusive: bool,
        body: Block,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Ty,
    pub span: RelSpan,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprKind {
    Const(ConstValue),
    Local(LocalId),
    /// A call to a Simple function. `args` are evaluated in the order
    /// written; `params` says where each parameter's value comes from.
    Call {
        symbol: String,
        args: Vec<Expr>,
        params: Vec<ParamValue>,
    },
    Builtin {
        builtin: Builtin,
        args: Vec<Expr>,
    },
    /// Operands have the same type (`lhs.ty`), except where one is `Error`.
    Binary {
        op: BinOp,
        op_span: RelSpan,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `a < b <= c`: each middle operand is evaluated once.
    Chain {
        operands: Vec<Expr>,
        ops: Vec<(BinOp, RelSpan)>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    /// `expr as ty`; the span is that of `as`.
    Cast {
        expr: Box<Expr>,
    },
    If {
        branches: Vec<(Expr, Block)>,
        else_block: Option<Block>,
    },
    /// String interpolation: every part is a `str` expression.
    Interp(Vec<Expr>),
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// The call's argument at this index (in written order).
    Arg(usize),
    /// The parameter's default.
    Default(ConstValue),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `print`, `println`, `eprint`, `eprintln`.
    Print {
        newline: bool,
        stderr: bool,
    },
    /// `str(x)` and interpolation.
    Str,
    Assert,
    Exit,
    Abs,
    Min,
    Max,
    Sqrt,
    Floor,
    Ceil,
    Clock,
    /// `s.len()`
    StrLen,
}
