//! The syntax tree of every tier of Simple.
//!
//! Designed once for the whole language: later tiers parse today and are
//! rejected by lowering with a "not supported yet" diagnostic at their span.
//!
//! Spans inside an [`Item`] are relative to [`TopItem::base`], the start of the
//! line where the top-level item begins. So inserting lines above an item leaves
//! its tree unchanged, which is what lets the incremental pipeline skip work.

use crate::Span;

/// A parsed file: its top-level items in source order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SourceFile {
    pub items: Vec<TopItem>,
}

/// A top-level item and where it sits in the file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopItem {
    /// Absolute byte offset of the start of the item's first line.
    pub base: u32,
    /// Length in bytes of the item's text, from `base` to the end of its last
    /// token. `text[base..base + len]` is the item's source.
    pub len: u32,
    pub item: Item,
}

/// An identifier and its span.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Item {
    pub kind: ItemKind,
    /// `pub` was written before the item.
    pub is_pub: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemKind {
    Fn(FnDef),
    /// `struct Name:` — a value type.
    Struct(StructDef),
    /// `class Name:` — a reference type.
    Class(StructDef),
    Enum(EnumDef),
    Trait(TraitDef),
    Impl(ImplDef),
    Actor(ActorDef),
    Const(ConstDef),
    Import(ImportDef),
    /// `type Name = Type`
    TypeAlias {
        name: Name,
        ty: TypeExpr,
    },
    /// `extern fn name(params) -> Ret` (no body).
    Extern(FnDef),
    /// `handle_pool Node: capacity: N` (Tier 4).
    HandlePool {
        ty: Name,
        settings: Vec<(Name, Expr)>,
    },
    /// A statement at the top level of a script.
    Stmt(Stmt),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FnDef {
    pub name: Name,
    pub generics: Vec<GenericParam>,
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    /// `None` for a trait method signature or an `extern fn`.
    pub body: Option<Block>,
    /// `static fn` (a type-level function with no `self`).
    pub is_static: bool,
    /// `pub fn` inside a type body or impl block.
    pub is_pub: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GenericParam {
    pub name: Name,
    /// `T: Shape + Show`
    pub bounds: Vec<TypeExpr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Param {
    pub name: Name,
    /// `None` only for `self`.
    pub ty: Option<TypeExpr>,
    pub default: Option<Expr>,
    /// `mut self`.
    pub is_mut: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StructDef {
    pub name: Name,
    pub generics: Vec<GenericParam>,
    pub fields: Vec<FieldDef>,
    pub methods: Vec<FnDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldDef {
    pub name: Name,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
    pub is_pub: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnumDef {
    pub name: Name,
    pub generics: Vec<GenericParam>,
    pub variants: Vec<Variant>,
    pub methods: Vec<FnDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Variant {
    pub name: Name,
    /// `Circle(r: f64)` has one named field; `Pair(i64, i64)` two unnamed ones.
    pub fields: Vec<VariantField>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VariantField {
    pub name: Option<Name>,
    pub ty: TypeExpr,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraitDef {
    pub name: Name,
    pub generics: Vec<GenericParam>,
    /// Signatures (`body: None`) and default methods.
    pub methods: Vec<FnDef>,
}

/// `impl Type:` or `impl Trait for Type:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImplDef {
    pub generics: Vec<GenericParam>,
    pub trait_ref: Option<TypeExpr>,
    pub self_ty: TypeExpr,
    pub methods: Vec<FnDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActorDef {
    pub name: Name,
    /// Fields of the `state:` block.
    pub state: Vec<FieldDef>,
    /// `on Msg(args):` handlers.
    pub handlers: Vec<FnDef>,
    pub methods: Vec<FnDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConstDef {
    pub name: Name,
    pub ty: Option<TypeExpr>,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ImportDef {
    /// `import a.b` or `import a.b as c`
    Module { path: Vec<Name>, alias: Option<Name> },
    /// `from a.b import x, y as z`
    From { path: Vec<Name>, names: Vec<(Name, Option<Name>)> },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeExprKind {
    /// `i64`, `geometry.Point`, `Pair[A, B]`, `Self`
    Named { path: Vec<Name>, args: Vec<TypeExpr> },
    /// `T?`
    Optional(Box<TypeExpr>),
    /// `[T]`
    List(Box<TypeExpr>),
    /// `{K: V}`
    Dict(Box<TypeExpr>, Box<TypeExpr>),
    /// `(A, B)`; `()` is the empty tuple.
    Tuple(Vec<TypeExpr>),
    /// `fn(A, B) -> R`
    Fn { params: Vec<TypeExpr>, ret: Option<Box<TypeExpr>> },
    /// `dyn Trait`
    Dyn(Box<TypeExpr>),
    /// `&T`, `*T`, `-T`, `+T` (Tier 4 pointer kinds).
    Pointer { kind: PointerKind, inner: Box<TypeExpr> },
    /// `&mut T`
    BorrowMut(Box<TypeExpr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PointerKind {
    /// `&T`, `new(&)`
    Unique,
    /// `*T`, `new*`
    Shared,
    /// `-T`
    Weak,
    /// `+T`, `new+`
    Handle,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StmtKind {
    /// `let`/`val` (immutable) or `let mut`/`var` (mutable).
    Let {
        pattern: Pattern,
        mutable: bool,
        ty: Option<TypeExpr>,
        value: Option<Expr>,
    },
    /// `place = value` or `place op= value`; `op_span` is the `=` or `op=`.
    Assign {
        target: Expr,
        op: Option<BinOp>,
        op_span: Span,
        value: Expr,
    },
    Expr(Expr),
    Return(Option<Expr>),
    Break,
    Continue,
    While {
        cond: Expr,
        body: Block,
    },
    /// `while let pattern = value:`
    WhileLet {
        pattern: Pattern,
        value: Expr,
        body: Block,
    },
    Loop {
        body: Block,
    },
    For {
        pattern: Pattern,
        iter: Expr,
        body: Block,
    },
    /// `send target, message` (Tier 5).
    Send {
        target: Expr,
        message: Expr,
    },
    /// A nested item: `fn` inside a function body.
    Item(Box<Item>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// The bits of an `f64` literal, so the tree can be `Eq` and `Hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FloatBits(pub u64);

impl FloatBits {
    pub fn new(value: f64) -> FloatBits {
        FloatBits(value.to_bits())
    }
    pub fn value(self) -> f64 {
        f64::from_bits(self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExprKind {
    /// An integer literal's magnitude; `-5` is `Unary(Neg, Int(5))`. Values
    /// beyond `u128` saturate; range checks belong to the type checker.
    Int(u128),
    Float(FloatBits),
    /// A string literal: literal text and interpolations. A raw string has a
    /// single `Text` part.
    Str(Vec<StrPart>),
    Bool(bool),
    Nil,
    /// An identifier, including `self`.
    Name(Name),
    /// `Shape::Circle` — a `::` path of two or more segments.
    Path(Vec<Name>),
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// Two or more chained relational comparisons: `a < b <= c`.
    /// `operands.len() == ops.len() + 1`.
    Chain {
        operands: Vec<Expr>,
        ops: Vec<(BinOp, Span)>,
    },
    /// `x as T`; `as_span` is the span of the `as` keyword.
    Cast {
        expr: Box<Expr>,
        ty: TypeExpr,
        as_span: Span,
    },
    /// `x is Pattern`
    Is {
        expr: Box<Expr>,
        pattern: Pattern,
    },
    /// A call; a trailing block lambda is appended to `args`.
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    /// `base.name`; tuple fields use their index as name: `t.0`.
    Field {
        base: Box<Expr>,
        name: Name,
    },
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    /// `base[start:end]`, either bound optional.
    Slice {
        base: Box<Expr>,
        start: Option<Box<Expr>>,
        end: Option<Box<Expr>>,
    },
    /// `if`/`elif`/`else`: `branches` holds each condition and its block.
    If {
        branches: Vec<(Expr, Block)>,
        else_block: Option<Block>,
    },
    /// `if let pattern = value: ... else: ...`
    IfLet {
        pattern: Pattern,
        value: Box<Expr>,
        then_block: Block,
        else_block: Option<Block>,
    },
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<MatchArm>,
    },
    /// `a..b` or `a..=b`
    Range {
        start: Box<Expr>,
        end: Box<Expr>,
        inclusive: bool,
    },
    /// `(a, b)`; `()` is the empty tuple.
    Tuple(Vec<Expr>),
    List(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    /// `Point { x: 1.0, y: 2.0 }`
    StructLit {
        path: Vec<Name>,
        fields: Vec<(Name, Expr)>,
    },
    /// `\x: x * 2`, `\(x: i64) -> i64: x + 1`, or a trailing block lambda.
    Lambda {
        params: Vec<Param>,
        ret: Option<TypeExpr>,
        body: Block,
    },
    /// `target->method(args)`: `target = target.method(args)`.
    FunctionalUpdate {
        target: Box<Expr>,
        method: Name,
        args: Vec<Arg>,
    },
    /// `spawn expr`
    Spawn(Box<Expr>),
    /// `new(&) T(...)`, `new* T(...)`, `new+ T(...)`
    New {
        kind: PointerKind,
        value: Box<Expr>,
    },
    /// `&x`, `&mut x`
    Borrow {
        mutable: bool,
        value: Box<Expr>,
    },
    /// `move x`
    Move(Box<Expr>),
    /// Produced by error recovery; never reaches lowering without an error.
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StrPart {
    Text(String),
    /// `{expr}` or `{expr:spec}`.
    Interp {
        expr: Expr,
        spec: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arg {
    /// `name: value`
    pub name: Option<Name>,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MatchArm {
    pub pattern: Pattern,
    pub guard: Option<Expr>,
    /// A one-line arm body is a block of one expression statement.
    pub body: Block,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-`
    Neg,
    /// `not`, `!`
    Not,
    /// `~`
    BitNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    /// `/`
    Div,
    /// `//`
    FloorDiv,
    /// `%`
    Rem,
    /// `**`
    Pow,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `and`, `&&`
    And,
    /// `or`, `||`
    Or,
    /// `x in xs`
    In,
    /// `x not in xs`
    NotIn,
    /// `a ?? b`
    Coalesce,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Rem => "%",
            BinOp::Pow => "**",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::Coalesce => "??",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    pub kind: PatternKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PatternKind {
    /// `_`
    Wildcard,
    /// `name` or `mut name`
    Binding {
        name: Name,
        mutable: bool,
    },
    /// An int, float, string, bool or nil literal, possibly negated.
    Literal(Box<Expr>),
    /// `1..9`, `1..=9`
    Range {
        start: Box<Expr>,
        end: Box<Expr>,
        inclusive: bool,
    },
    Tuple(Vec<Pattern>),
    /// `A | B`
    Or(Vec<Pattern>),
    /// `Shape::Circle(r)`, `Shape::Rect(w: a, h: b)`, `Point(x: 0.0, y: y)`,
    /// `Shape::Empty` (no parentheses: `args` is `None`).
    Constructor {
        path: Vec<Name>,
        args: Option<Vec<FieldPattern>>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPattern {
    pub name: Option<Name>,
    pub pattern: Pattern,
}
