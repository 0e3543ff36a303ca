//! HIR: the typed body of one function, produced by the type checker from
//! the AST and consumed by MIR lowering.
//!
//! Names are resolved (locals to [`LocalId`]s, functions to symbols,
//! constants to their values), every expression has a [`Ty`], compound
//! assignments are desugared and call arguments are in parameter order with
//! defaults filled in. Spans are [`RelSpan`]s: relative to the function.

mod adt;
mod check;
mod pretty;

use std::fmt;
use std::sync::Arc;

pub use adt::{AdtDef, FieldDef, VariantDef, adt_def};
pub use check::{Def, Scope, check_fn};
pub use pretty::pretty;

use crate::consts::{ConstValue, DefaultValue};
use crate::diagnostics::{Level, RelDiagnostic, RelSpan};
use simple_syntax::ast::{BinOp, UnaryOp};

/// The type of a Simple value. Cheap to clone: compound types share their
/// parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
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
    /// `(A, B)`: at least two elements.
    Tuple(Arc<[Ty]>),
    /// `[T]`
    List(Arc<Ty>),
    /// `{K: V}`
    Dict(Arc<(Ty, Ty)>),
    /// `T?`: a `T` or `nil`.
    Optional(Arc<Ty>),
    /// A struct, class or enum.
    Adt(Adt),
}

/// A struct, class or enum, by the module that declares it and its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Adt(Arc<AdtName>);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AdtName {
    /// The module path of the declaring file; empty for the entry file.
    pub module: Vec<String>,
    pub name: String,
    pub kind: AdtKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AdtKind {
    /// A value type, copied on assignment.
    Struct,
    /// A reference type on the heap.
    Class,
    Enum,
}

impl Adt {
    pub fn new(module: Vec<String>, name: String, kind: AdtKind) -> Adt {
        Adt(Arc::new(AdtName { module, name, kind }))
    }

    pub fn name(&self) -> &str {
        &self.0.name
    }

    pub fn module(&self) -> &[String] {
        &self.0.module
    }

    pub fn kind(&self) -> AdtKind {
        self.0.kind
    }

    /// The prefix of the symbols of the type's methods: `Point`, or
    /// `geometry.Point` in module `geometry`.
    pub fn symbol(&self) -> String {
        if self.0.module.is_empty() {
            self.0.name.clone()
        } else {
            format!("{}.{}", self.0.module.join("."), self.0.name)
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::I64 => f.write_str("i64"),
            Ty::F64 => f.write_str("f64"),
            Ty::Bool => f.write_str("bool"),
            Ty::Str => f.write_str("str"),
            Ty::Nil => f.write_str("nil"),
            Ty::Never => f.write_str("never"),
            Ty::Error => f.write_str("{error}"),
            Ty::Tuple(elems) => {
                f.write_str("(")?;
                for (i, t) in elems.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(")")
            }
            Ty::List(t) => write!(f, "[{t}]"),
            Ty::Dict(kv) => write!(f, "{{{}: {}}}", kv.0, kv.1),
            Ty::Optional(t) => write!(f, "{t}?"),
            Ty::Adt(adt) => f.write_str(adt.name()),
        }
    }
}

impl Ty {
    /// Whether a value of type `self` may be used where `expected` is
    /// needed as it is, without a conversion.
    pub fn fits(&self, expected: &Ty) -> bool {
        self == expected || matches!(self, Ty::Never | Ty::Error) || *expected == Ty::Error || self.has_error()
    }

    /// Whether a value of type `self` may be used where `expected` is
    /// needed, possibly wrapped into an optional (`T` and `nil` fit `T?`).
    pub fn coerces_to(&self, expected: &Ty) -> bool {
        if self.fits(expected) {
            return true;
        }
        match expected {
            Ty::Optional(inner) => *self == Ty::Nil || self.coerces_to(inner),
            _ => false,
        }
    }

    /// Whether an error type hides anywhere inside (`[{error}]`).
    pub fn has_error(&self) -> bool {
        match self {
            Ty::Error => true,
            Ty::Tuple(elems) => elems.iter().any(Ty::has_error),
            Ty::List(t) | Ty::Optional(t) => t.has_error(),
            Ty::Dict(kv) => kv.0.has_error() || kv.1.has_error(),
            _ => false,
        }
    }

    pub fn tuple(elems: Vec<Ty>) -> Ty {
        Ty::Tuple(elems.into())
    }

    pub fn list(elem: Ty) -> Ty {
        Ty::List(Arc::new(elem))
    }

    pub fn dict(key: Ty, value: Ty) -> Ty {
        Ty::Dict(Arc::new((key, value)))
    }

    pub fn optional(inner: Ty) -> Ty {
        Ty::Optional(Arc::new(inner))
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
    /// A struct method with `mut self`: it also returns its final `self`
    /// (parameter 0), which the caller stores back.
    pub returns_self: bool,
    /// The body holds an error expression: it has an error, even if the
    /// error was reported elsewhere (a constant's), and is never lowered.
    pub poisoned: bool,
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
            returns_self: false,
            poisoned: true,
            diagnostics: vec![RelDiagnostic::error(RelSpan::default(), format!("function `{name}` has no source"))],
        }
    }

    pub fn has_errors(&self) -> bool {
        self.poisoned || self.diagnostics.iter().any(|d| d.level == Level::Error)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// The block's value, when it is used as an expression.
    pub tail: Option<Box<Expr>>,
}

// HIR is one function's, short-lived and not numerous: variant sizes
// matter less than in the AST.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stmt {
    Let {
        local: LocalId,
        init: Expr,
    },
    /// `place = value`: the value is evaluated first (it may read the
    /// place: `d[k] += 1`), then the place, which `span` locates (an index
    /// out of bounds).
    Assign {
        place: Place,
        value: Expr,
        span: RelSpan,
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
    /// `for elem in list` (also over `xs.enumerate()`, `d`, `d.items()`):
    /// each element goes to `elem`, its index to `index`, then `unpack`
    /// runs (destructuring `elem`), then `body`.
    ForEach {
        list: Expr,
        index: Option<LocalId>,
        elem: LocalId,
        unpack: Vec<Stmt>,
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
    /// `{value:spec}` in an interpolation: `value` is an `i64`, `f64`,
    /// `bool` or `str`, and the spec (checked) applies to it.
    Format {
        value: Box<Expr>,
        spec: String,
    },
    /// A struct, class or tuple (`ty` says which). `args` are evaluated
    /// in the order written; `fields` says where each field's value comes
    /// from, in field order.
    Record {
        args: Vec<Expr>,
        fields: Vec<ParamValue>,
    },
    /// A value of the enum `ty`: variant `index`, its fields as in `Record`.
    Variant {
        index: u32,
        args: Vec<Expr>,
        fields: Vec<ParamValue>,
    },
    /// Field `index` of a struct, class or tuple value.
    Field {
        base: Box<Expr>,
        index: u32,
    },
    /// A value of `T` as a `T?`.
    Some(Box<Expr>),
    /// `opt ?? default`: `default` runs only if `opt` is nil.
    Coalesce {
        opt: Box<Expr>,
        default: Box<Expr>,
    },
    /// `opt.unwrap()`: a runtime error on nil.
    Unwrap(Box<Expr>),
    /// A method of a built-in type; `args[0]` is the receiver.
    Method {
        method: Method,
        args: Vec<Expr>,
        /// Where a runtime error of the call is reported: from the method's
        /// name to the end of the call (`pop()` in `xs.pop()`), as for
        /// `unwrap`.
        at: RelSpan,
    },
    /// `[a, b, c]`
    List(Vec<Expr>),
    /// `{k: v, ...}`
    Dict(Vec<(Expr, Expr)>),
    /// `xs[i]` (negative from the end, checked), `d[k]` (checked), `s[i]`.
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    /// `xs[a:b]`, `s[a:b]`: either bound may be missing.
    Slice {
        base: Box<Expr>,
        start: Option<Box<Expr>>,
        end: Option<Box<Expr>>,
    },
    /// `match` (also `if let` and `is`): the first arm whose pattern
    /// matches and whose guard holds runs.
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<Arm>,
    },
    /// A method with `mut self`: calls `symbol` with the value at `place`
    /// as its first argument, then stores the callee's updated `self` (its
    /// last results) back into `place`.
    MutCall {
        place: Place,
        symbol: String,
        args: Vec<Expr>,
        params: Vec<ParamValue>,
    },
    Error,
}

/// Something that can be assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Local(LocalId),
    /// Field `index` of the struct or tuple at a place.
    Field(Box<Place>, u32),
    /// Field `index` of the class object an expression gives.
    ObjectField(Box<Expr>, u32),
    /// An element of a list (`xs[i]`) or the value of a dict's key (`d[k]`,
    /// added if missing).
    Index(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arm {
    pub pattern: Pat,
    pub guard: Option<Expr>,
    pub body: Block,
}

/// A checked pattern, against a value of a known type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pat {
    Wild,
    /// Matches anything and binds it.
    Bind(LocalId),
    /// Equal to a constant (`i64`, `f64`, `bool` or `str`).
    Const(ConstValue),
    /// An `i64` in `lo..hi` or `lo..=hi`.
    Range {
        lo: i64,
        hi: i64,
        inclusive: bool,
    },
    /// Fields of a struct, class or tuple, by index (the others match
    /// anything).
    Record(Vec<(u32, Pat)>),
    /// Variant `index` of an enum, with patterns for some of its fields.
    Variant {
        index: u32,
        fields: Vec<(u32, Pat)>,
    },
    /// An optional that is nil.
    Nil,
    /// An optional with a value matching the pattern.
    Some(Box<Pat>),
    Or(Vec<Pat>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// The call's argument at this index (in written order).
    Arg(usize),
    /// The parameter's default, and the parameter's type (an optional's
    /// default may be a plain value or `nil`).
    Default(DefaultValue, Ty),
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
    /// `args() -> [str]`
    Args,
    /// `read_line() -> str?`
    ReadLine,
    /// `read_file(path) -> str`
    ReadFile,
    /// `write_file(path, text)`
    WriteFile,
}

/// A method of a built-in type. The receiver is the first argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    StrLen,
    StrContains,
    StrStartsWith,
    StrEndsWith,
    StrFind,
    StrSplit,
    /// `s.split()`: on runs of whitespace.
    StrSplitWhitespace,
    StrJoin,
    StrTrim,
    StrToUpper,
    StrToLower,
    StrReplace,
    StrChars,
    StrToInt,
    StrToFloat,
    StrRepeat,
    ListLen,
    ListPush,
    ListPop,
    ListInsert,
    ListRemove,
    ListContains,
    DictLen,
    DictGet,
    DictContains,
    DictRemove,
    DictKeys,
    DictValues,
    DictItems,
}
