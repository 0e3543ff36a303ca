//! The syntax tree of every tier of Simple.
//!
//! Designed once for the whole language: later tiers parse today and are
//! rejected by lowering with a "not supported yet" diagnostic at their span.
//!
//! Spans inside an [`Item`] are relative to [`TopItem::base`], the start of the
//! line where the top-level item begins. So inserting lines above an item leaves
//! its tree unchanged, which is what lets the incremental pipeline skip work.
//!
//! Memory: a big file has hundreds of thousands of nodes, so their size is
//! what parsing costs (allocation, page faults, copies when vectors grow). An
//! enum is as large as its largest variant, so a variant with large parts keeps
//! them behind one `Box` (a `...Expr`/`...Stmt`/`...Def` struct, one allocation)
//! or boxes the part alone, and the lists of the commonest nodes are boxed
//! slices of exactly their length. The `const` assertions after the types keep
//! the sizes from creeping back up.

use std::fmt;
use std::sync::Arc;

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

const _: () = assert!(std::mem::size_of::<TopItem>() <= 80);

/// An identifier and its span.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    /// `Box<str>`, not `String`: names never grow, and the 8 bytes saved let
    /// `ExprKind::Name` fit the size of the other expression kinds.
    pub text: Box<str>,
    pub span: Span,
}

const _: () = assert!(std::mem::size_of::<Name>() <= 24);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Item {
    pub kind: ItemKind,
    /// `pub` was written before the item.
    pub is_pub: bool,
    pub span: Span,
}

/// Definitions are boxed: a script is a long list of `Stmt` items, which
/// should not each take the size of a function definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// Shared: a consumer that keeps one function apart from its file clones
    /// the `Arc`, not the function's tree.
    Fn(Arc<FnDef>),
    /// `struct Name:` — a value type.
    Struct(Box<StructDef>),
    /// `class Name:` — a reference type.
    Class(Box<StructDef>),
    Enum(Box<EnumDef>),
    Trait(Box<TraitDef>),
    Impl(Box<ImplDef>),
    Actor(Box<ActorDef>),
    Const(Box<ConstDef>),
    Import(Box<ImportDef>),
    /// `type Name = Type`
    TypeAlias {
        name: Name,
        ty: Box<TypeExpr>,
    },
    /// `extern fn name(params) -> Ret` (no body).
    Extern(Box<FnDef>),
    /// `handle_pool Node: capacity: N` (Tier 4).
    HandlePool {
        ty: Name,
        settings: Box<[(Name, Expr)]>,
    },
    /// A statement at the top level of a script.
    Stmt(Stmt),
}

const _: () = assert!(std::mem::size_of::<Item>() <= 72);

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
    /// Exactly as long as needed: most blocks hold one or two statements.
    pub stmts: Box<[Stmt]>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

/// Variants with several large parts are boxed as one payload (one
/// allocation); the others stay within the size of an inline `Expr`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StmtKind {
    Let(Box<LetStmt>),
    Assign(Box<AssignStmt>),
    Expr(Expr),
    Return(Option<Expr>),
    Break,
    Continue,
    While {
        cond: Box<Expr>,
        body: Block,
    },
    WhileLet(Box<WhileLetStmt>),
    Loop {
        body: Block,
    },
    For(Box<ForStmt>),
    /// `send target, message` (Tier 5).
    Send {
        target: Box<Expr>,
        message: Box<Expr>,
    },
    /// A nested item: `fn` inside a function body.
    Item(Box<Item>),
}

const _: () = assert!(std::mem::size_of::<Stmt>() <= 56);

/// `let`/`val` (immutable) or `let mut`/`var` (mutable).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LetStmt {
    pub pattern: Pattern,
    pub mutable: bool,
    /// Boxed: most bindings have no annotation.
    pub ty: Option<Box<TypeExpr>>,
    pub value: Option<Expr>,
}

/// `place = value` or `place op= value`; `op_span` is the `=` or `op=`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AssignStmt {
    pub target: Expr,
    pub op: Option<BinOp>,
    pub op_span: Span,
    pub value: Expr,
}

/// `while let pattern = value:`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WhileLetStmt {
    pub pattern: Pattern,
    pub value: Expr,
    pub body: Block,
}

/// `for pattern in iter:`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ForStmt {
    pub pattern: Pattern,
    pub iter: Expr,
    pub body: Block,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// The most numerous node: keep it small.
const _: () = assert!(std::mem::size_of::<Expr>() <= 40);

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

/// A `u128` aligned to 8 bytes (rustc's `Pu128`): a plain `u128` field
/// would make `ExprKind`, and every node that holds an `Expr`, 16-byte
/// aligned and padded to match.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C, packed(8))]
pub struct Pu128(pub u128);

impl Pu128 {
    pub fn get(self) -> u128 {
        self.0
    }
}

impl fmt::Debug for Pu128 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl fmt::Display for Pu128 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

/// Each variant fits in 32 bytes with the tag; larger payloads are boxed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExprKind {
    /// An integer literal's magnitude; `-5` is `Unary(Neg, Int(5))`. Values
    /// beyond `u128` saturate; range checks belong to the type checker.
    Int(Pu128),
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
    Chain(Box<ChainExpr>),
    /// `x as T`; `as_span` is the span of the `as` keyword.
    Cast {
        expr: Box<Expr>,
        ty: Box<TypeExpr>,
        as_span: Span,
    },
    /// `x is Pattern`
    Is {
        expr: Box<Expr>,
        pattern: Box<Pattern>,
    },
    /// A call; a trailing block lambda is appended to `args`.
    Call {
        callee: Box<Expr>,
        args: Box<[Arg]>,
    },
    Field(Box<FieldExpr>),
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
        branches: Box<[(Expr, Block)]>,
        else_block: Option<Box<Block>>,
    },
    IfLet(Box<IfLetExpr>),
    Match {
        scrutinee: Box<Expr>,
        arms: Box<[MatchArm]>,
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
    StructLit(Box<StructLitExpr>),
    Lambda(Box<LambdaExpr>),
    FunctionalUpdate(Box<FunctionalUpdateExpr>),
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

/// Two or more chained relational comparisons: `a < b <= c`.
/// `operands.len() == ops.len() + 1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChainExpr {
    pub operands: Vec<Expr>,
    pub ops: Vec<(BinOp, Span)>,
}

/// `base.name`; tuple fields use their index as name: `t.0`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldExpr {
    pub base: Expr,
    pub name: Name,
}

/// `if let pattern = value: ... else: ...`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IfLetExpr {
    pub pattern: Pattern,
    pub value: Expr,
    pub then_block: Block,
    pub else_block: Option<Block>,
}

/// `Point { x: 1.0, y: 2.0 }`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StructLitExpr {
    pub path: Vec<Name>,
    pub fields: Vec<(Name, Expr)>,
}

/// `\x: x * 2`, `\(x: i64) -> i64: x + 1`, or a trailing block lambda.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LambdaExpr {
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub body: Block,
}

/// `target->method(args)`: `target = target.method(args)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FunctionalUpdateExpr {
    pub target: Expr,
    pub method: Name,
    pub args: Vec<Arg>,
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

const _: () = assert!(std::mem::size_of::<Pattern>() <= 40);

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
    Constructor(Box<ConstructorPattern>),
}

/// `Shape::Circle(r)`, `Shape::Rect(w: a, h: b)`, `Point(x: 0.0, y: y)`,
/// `Shape::Empty` (no parentheses: `args` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConstructorPattern {
    pub path: Vec<Name>,
    pub args: Option<Vec<FieldPattern>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPattern {
    pub name: Option<Name>,
    pub pattern: Pattern,
}
