//! MIR: a function as a control-flow graph of basic blocks over typed locals.
//!
//! MIR is what codegen consumes. It is deliberately small: every value lives
//! in a local (mutable, not SSA — codegen turns locals into Cranelift
//! variables), every operation names the exact machine operation and every
//! check that can fail at run time is explicit in the operation (`IAdd` traps
//! on overflow) so codegen never has to rediscover language semantics.
//!
//! Positions are [`Loc`]s relative to the function's first line, so a MIR body
//! does not change when lines are inserted above its function.

pub mod inline;
pub mod opt;
pub mod parse;
pub mod pretty;
mod verify;

pub use parse::{ParseError, parse};
pub use pretty::pretty;
pub use verify::{Place, VerifyError, abi_ty, verify};

use simple_abi::{Rt, TrapCode};

/// A local variable (parameters come first: locals `0..params`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Local(pub u32);

/// A basic block; `BlockId(0)` is the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockId(pub u32);

/// The machine-level types MIR values have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    I64,
    F64,
    Bool,
    /// A pointer to a `str` (see `simple_abi::str_layout`).
    Str,
    /// A reference to another heap object (a class instance, a list, a
    /// dict, an enum payload), or 0 for `nil` where the type allows it.
    /// Like `Str`, a GC root while it is live.
    Ref,
    /// The unit type: a local of type `Nil` holds no machine value.
    Nil,
}

impl Ty {
    /// Whether a value of this type is a reference the garbage collector
    /// must see (a pointer to a heap object, or to a static one, or 0):
    /// codegen keeps such values in stack slots its stack maps list across
    /// every call.
    pub fn is_gc_ref(self) -> bool {
        match self {
            Ty::Str | Ty::Ref => true,
            Ty::I64 | Ty::F64 | Ty::Bool | Ty::Nil => false,
        }
    }
}

/// A source position relative to a function: `line` counts from the line
/// the function's item starts on (0-based), `col` is the 1-based column.
/// The function is the body's own unless `origin` names a call inlined into
/// it: `origin` k > 0 is `Body::inlined[k - 1]`, and the position is in the
/// callee's source. Positions stay relative to the function they are written
/// in, so inlining keeps a body independent of where its callee lies; the
/// linker, which knows where every function of a file starts, makes them
/// absolute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
    pub origin: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Body {
    /// The symbol of this function in the linked module.
    pub symbol: String,
    /// Number of parameters; they are locals `0..param_count`.
    pub param_count: u32,
    /// The function's results, in order: none for a function returning
    /// `nil`, several for one returning a struct or tuple (flattened).
    pub rets: Vec<Ty>,
    pub locals: Vec<LocalDecl>,
    pub blocks: Vec<BlockData>,
    /// The calls inlined into this function, which [`Loc::origin`] refers to.
    pub inlined: Vec<Inlined>,
}

/// A call replaced by a copy of its callee.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Inlined {
    /// The callee's symbol.
    pub symbol: String,
    /// Where the call was.
    pub call: Loc,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalDecl {
    pub ty: Ty,
    /// The source name, for the pretty printer; `None` for temporaries.
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlockData {
    pub stmts: Vec<Stmt>,
    pub terminator: Terminator,
    pub terminator_loc: Loc,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Stmt {
    pub kind: StmtKind,
    /// Where a fault or call in this statement is reported.
    pub loc: Loc,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StmtKind {
    /// `local = rvalue`
    Assign(Local, Rvalue),
    /// Evaluate for effect (a call returning nil, a checked operation).
    Eval(Rvalue),
    /// A call to a Simple function by symbol; its results go to `dests`
    /// (as many as the callee has). Arguments are in parameter order with
    /// defaults already filled in.
    Call { dests: Vec<Local>, symbol: String, args: Vec<Operand> },
    /// `*addr = value`: stores a value of the operand's type into a heap
    /// object.
    Store(Addr, Operand),
}

/// A place inside a heap object: `base + index * scale + offset` bytes,
/// where `base` is a `Ref` or `Str` that is not 0. The address exists only
/// inside the load or store, so no pointer into the middle of an object
/// ever lives across a call (where the collector may run).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Addr {
    pub base: Operand,
    /// An `I64` element index and the element size in bytes.
    pub index: Option<(Operand, u32)>,
    pub offset: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Terminator {
    Goto(BlockId),
    /// Branch on a `Bool` operand.
    Branch {
        cond: Operand,
        then_block: BlockId,
        else_block: BlockId,
    },
    /// Return one operand per result of the function (`Body::rets`).
    Return(Vec<Operand>),
    /// A runtime error: codegen emits a trap with this code.
    Trap(TrapCode),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operand {
    Local(Local),
    Const(Const),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Const {
    I64(i64),
    /// The bits of an `f64`.
    F64(u64),
    Bool(bool),
    /// A string literal; codegen places it in read-only data.
    Str(String),
    /// The address (an `I64`, not a GC reference) of read-only bytes
    /// codegen places as they are, 8-aligned: a type descriptor.
    Data(Vec<u8>),
    /// The null reference of a `Str` or `Ref` type (an optional's nil).
    Null(Ty),
    Nil,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rvalue {
    Use(Operand),
    Binary(BinOp, Operand, Operand),
    Unary(UnOp, Operand),
    Cast(CastKind, Operand),
    /// A call to a runtime function (`simple_abi::Rt`).
    Runtime(Rt, Vec<Operand>),
    /// `sqrt`, `floor`, `ceil`: a single machine instruction.
    Intrinsic(Intrinsic, Vec<Operand>),
    /// Loads a value of the given type from a heap object.
    Load(Ty, Addr),
}

/// Binary operations on machine values. `I*` take and give `I64` (the
/// comparisons give `Bool`), `F*` take `F64`. Every operation that LANGUAGE.md
/// says can fail traps with the named code when it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// Traps `IntegerOverflow`.
    IAdd,
    ISub,
    IMul,
    /// Truncating division. Traps `DivisionByZero`, and `IntegerOverflow` on MIN / -1.
    IDiv,
    /// Remainder with the sign of the dividend. Traps `RemainderByZero`, and
    /// `IntegerOverflow` on MIN % -1.
    IRem,
    /// Floor division. Traps like `IDiv`.
    IFloorDiv,
    /// Power. Traps `NegativeExponent` and `IntegerOverflow`.
    IPow,
    /// Traps `ShiftOutOfRange` unless `0 <= rhs < 64`; drops high bits.
    IShl,
    /// Arithmetic shift. Traps `ShiftOutOfRange` like `IShl`.
    IShr,
    IAnd,
    IOr,
    IXor,
    IMin,
    IMax,
    ICmp(Cmp),
    /// Unsigned `<` of two `I64`s (a bounds check: a negative index is a
    /// huge unsigned one).
    IULt,
    /// Two's-complement `+` that wraps instead of trapping, for sums the
    /// compiler knows cannot overflow (an index plus a length).
    IAddWrap,
    FAdd,
    FSub,
    FMul,
    FDiv,
    /// C `fmod`.
    FRem,
    /// `floor(a / b)`.
    FFloorDiv,
    FPow,
    FMin,
    FMax,
    FCmp(Cmp),
    /// On `Bool` operands.
    BoolEq,
    BoolNe,
    /// Whether two references (`Str` or `Ref`) are the same object.
    RefEq,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnOp {
    /// Traps `IntegerOverflow` on `MIN`.
    INeg,
    /// Traps `IntegerOverflow` on `MIN`.
    IAbs,
    /// Bitwise not.
    INot,
    FNeg,
    FAbs,
    /// Logical not of a `Bool`.
    Not,
    /// Whether a reference (`Str` or `Ref`) is null.
    IsNull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CastKind {
    IntToFloat,
    /// Truncates toward zero; traps `InvalidCast` on NaN or out of range.
    FloatToInt,
    BoolToInt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intrinsic {
    Sqrt,
    Floor,
    Ceil,
}

impl Body {
    pub fn local_ty(&self, local: Local) -> Ty {
        self.locals[local.0 as usize].ty
    }

    pub fn block(&self, id: BlockId) -> &BlockData {
        &self.blocks[id.0 as usize]
    }

    /// The type of an operand.
    pub fn operand_ty(&self, op: &Operand) -> Ty {
        match op {
            Operand::Local(l) => self.local_ty(*l),
            Operand::Const(c) => c.ty(),
        }
    }
}

impl Const {
    pub fn ty(&self) -> Ty {
        match self {
            Const::I64(_) => Ty::I64,
            Const::F64(_) => Ty::F64,
            Const::Bool(_) => Ty::Bool,
            Const::Str(_) => Ty::Str,
            Const::Data(_) => Ty::I64,
            Const::Null(ty) => *ty,
            Const::Nil => Ty::Nil,
        }
    }
}

impl Terminator {
    pub fn successors(&self) -> Vec<BlockId> {
        match self {
            Terminator::Goto(b) => vec![*b],
            Terminator::Branch { then_block, else_block, .. } => vec![*then_block, *else_block],
            Terminator::Return(_) | Terminator::Trap(_) => vec![],
        }
    }
}
