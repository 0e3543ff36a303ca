//! Lowering one MIR function to machine code with Cranelift.
//!
//! Assumes nothing of the input: the body is run through
//! [`simple_mir::verify`] first, and invalid MIR is an error, not a panic.
//! Guarantees: the same body and ISA always give the same [`CompiledFn`]
//! (one fresh `Context` per call, every table in first-use order).
//!
//! The lowering, per MIR construct:
//! - every non-`Nil` local is a Cranelift `Variable` (`I64`→`i64`,
//!   `F64`→`f64`, `Bool`→`i8` holding 0 or 1, `Str`→`i64` pointer); `Nil`
//!   locals, parameters and arguments have no machine value at all;
//! - a separate entry block defines the parameters and jumps to `bb0`, so
//!   MIR may branch back to its entry;
//! - every checked operation tests its failure condition explicitly and
//!   traps with a user trap code equal to the [`TrapCode`] (never relying on
//!   an implicit Cranelift trap, whose code would be Cranelift's);
//! - calls between Simple functions are colocated user names in namespace
//!   [`NS_FUNCTION`] (PC-relative call relocations), runtime calls are
//!   non-colocated names in namespace [`NS_RUNTIME`] with index `Rt as u32`
//!   (absolute 8-byte relocations), literals (strings, descriptors) are colocated data
//!   symbols in namespace [`NS_LITERAL`] indexed into [`CompiledFn::literals`]
//!   (PC-relative);
//! - each statement and terminator sets the source location to an index
//!   into a per-function table of [`Loc`]s, which becomes the line table;
//! - every variable of a type that [`Ty::is_gc_ref`] is declared as needing
//!   a stack map: Cranelift keeps its value in a stack slot across every
//!   call it is live across, and the call's [`StackMap`] lists the slot, so
//!   the garbage collector finds every live reference of a suspended frame.

use std::collections::HashMap;

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee64, Imm64};
use cranelift_codegen::ir::{
    self, AbiParam, ExtFuncData, ExternalName, FuncRef, GlobalValue, GlobalValueData, InstBuilder, MemFlagsData,
    Signature, SourceLoc, UserExternalName, UserFuncName, Value, types,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{Context, FinalizedRelocTarget};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use simple_abi::{AbiType, Rt, TrapCode};
use simple_mir::opt::{FLOAT_TO_INT_END, FLOAT_TO_INT_MIN};
use simple_mir::{
    BinOp, BlockId, Body, CastKind, Cmp, Const, Intrinsic, Loc, Operand, Rvalue, StmtKind, Terminator, Ty, UnOp,
};
use simple_smf::RelocKind;

use crate::CodegenError;

/// User external name namespace of Simple functions (index into the
/// function's callee table).
pub(crate) const NS_FUNCTION: u32 = 0;
/// Namespace of runtime functions (index `Rt as u32`).
pub(crate) const NS_RUNTIME: u32 = 1;
/// Namespace of literals (index into [`CompiledFn::literals`]).
pub(crate) const NS_LITERAL: u32 = 2;

/// The machine code of one function and everything the linker needs to
/// place it: plain owned data, independent of where the function will live.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CompiledFn {
    pub symbol: String,
    /// See [`content_hash`]; the SMF symbol's content hash.
    pub content_hash: [u8; 16],
    pub code: Vec<u8>,
    /// Offsets relative to the start of `code`, sorted.
    pub relocs: Vec<FnReloc>,
    /// The literals the code refers to, each once, in first-use order.
    pub literals: Vec<Literal>,
    /// Code offset → source position (line relative to the function),
    /// sorted, no two consecutive entries with the same `Loc`. An entry
    /// covers the code up to the next one; the first is at offset 0 (the
    /// prologue, attributed to the function's first line).
    pub lines: Vec<(u32, Loc)>,
    /// The calls inlined into this one, which the `origin` of a `Loc`
    /// refers to (see [`Loc`]).
    pub inlined: Vec<simple_mir::Inlined>,
    /// Offsets of trap instructions and why they trap, sorted.
    pub traps: Vec<(u32, TrapCode)>,
    /// The GC stack maps of the calls at which a reference is live, sorted
    /// by return offset.
    pub stack_maps: Vec<StackMap>,
}

/// The live GC references of a frame suspended in one call.
///
/// While the call runs, the function's frame spans `frame_size` bytes from
/// its stack pointer (SP) up to its frame pointer (FP), so SP = FP −
/// `frame_size`; each slot holds a reference (or 0) the function still
/// needs after the call. A call with no entry has no live references.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct StackMap {
    /// The call's return address, as an offset from the function's start
    /// (the offset of the instruction after the call).
    pub ret_offset: u32,
    /// FP − SP during the call.
    pub frame_size: u32,
    /// Byte offsets from SP of the 8-byte slots, strictly increasing.
    pub slots: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct FnReloc {
    pub offset: u32,
    pub target: RelocTarget,
    pub kind: RelocKind,
    pub addend: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RelocTarget {
    /// Another Simple function, by symbol.
    Function(String),
    Runtime(Rt),
    /// A literal: index into [`CompiledFn::literals`].
    Literal(u32),
}

/// Read-only data a function refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Literal {
    /// A `str`, placed in `simple_abi::str_layout` form.
    Str(String),
    /// Bytes placed as they are, 8-aligned (type descriptors).
    Data(Vec<u8>),
}

impl Literal {
    /// The bytes placed in `.rodata`.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Literal::Str(s) => {
                debug_assert_eq!(simple_abi::str_layout::TAG_OFFSET, 0);
                let mut out = Vec::with_capacity(16 + s.len());
                out.extend_from_slice(&simple_abi::str_layout::STATIC_TAG.to_le_bytes());
                out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
                out
            }
            Literal::Data(bytes) => bytes.clone(),
        }
    }
}

/// Compiles `body` for `isa`.
pub fn compile_function(body: &Body, isa: &dyn TargetIsa) -> Result<CompiledFn, CodegenError> {
    let built = build(body, isa)?;
    let mut ctx = Context::for_function(built.func);
    ctx.compile(isa, &mut ControlPlane::default()).map_err(|e| cranelift_error(body, &e.inner))?;
    let compiled = ctx.take_compiled_code().ok_or_else(|| CodegenError::Cranelift {
        symbol: body.symbol.clone(),
        message: "no code after a successful compile".into(),
    })?;
    let buffer = &compiled.buffer;
    let params = &ctx.func.params;

    let mut relocs = Vec::new();
    for reloc in buffer.relocs() {
        let unsupported = |what: String| CodegenError::UnsupportedRelocation {
            symbol: body.symbol.clone(),
            offset: reloc.offset,
            what,
        };
        let name = match &reloc.target {
            FinalizedRelocTarget::ExternalName(ExternalName::User(name)) => &params.user_named_funcs()[*name],
            other => return Err(unsupported(format!("{:?} to {other:?}", reloc.kind))),
        };
        let target = match name.namespace {
            NS_FUNCTION => built.callees.get(name.index as usize).map(|s| RelocTarget::Function(s.clone())),
            NS_RUNTIME => {
                built.runtimes.iter().find(|rt| **rt as u32 == name.index).map(|rt| RelocTarget::Runtime(*rt))
            }
            NS_LITERAL => Some(RelocTarget::Literal(name.index)),
            _ => None,
        }
        .ok_or_else(|| unsupported(format!("to unknown name {name:?}")))?;
        let kind = match (reloc.kind, &target) {
            (Reloc::Abs8, _) => RelocKind::Abs64,
            (Reloc::X86PCRel4, _) | (Reloc::X86CallPCRel4, RelocTarget::Literal(_)) => RelocKind::Pc32,
            (Reloc::X86CallPCRel4 | Reloc::X86CallPLTRel4, _) => RelocKind::Plt32,
            (kind, _) => return Err(unsupported(format!("{kind:?} to {target:?}"))),
        };
        relocs.push(FnReloc { offset: reloc.offset, target, kind, addend: reloc.addend });
    }
    relocs.sort_by_key(|r| r.offset);

    let mut lines: Vec<(u32, Loc)> = Vec::new();
    let prologue = Loc { line: 0, col: 1, origin: 0 };
    for src in buffer.get_srclocs_sorted() {
        if src.loc.is_default() || src.start == src.end {
            continue;
        }
        let Some(&loc) = built.locs.get(src.loc.bits() as usize) else {
            continue;
        };
        if lines.is_empty() && src.start > 0 {
            lines.push((0, prologue));
        }
        if lines.last().is_none_or(|(_, last)| *last != loc) {
            lines.push((src.start, loc));
        }
    }
    if lines.is_empty() {
        lines.push((0, prologue));
    }

    let mut traps: Vec<(u32, TrapCode)> = buffer.traps().iter().map(|t| (t.offset, trap_code(t.code))).collect();
    traps.sort_by_key(|t| t.0);

    let stack_maps = stack_maps(body, buffer.user_stack_maps())?;
    let code = buffer.data().to_vec();
    Ok(CompiledFn {
        symbol: body.symbol.clone(),
        inlined: body.inlined.clone(),
        content_hash: content_hash(&code, &relocs, &built.literals, &stack_maps),
        code,
        relocs,
        literals: built.literals,
        lines,
        traps,
        stack_maps,
    })
}

/// Our stack maps from Cranelift's: `(return offset, FP − SP, entries at
/// SP + offset)` per call, sorted by offset (Cranelift records them in code
/// order). Every entry is one of our 8-byte references.
fn stack_maps(body: &Body, maps: &[(u32, u32, ir::UserStackMap)]) -> Result<Vec<StackMap>, CodegenError> {
    let mut out: Vec<StackMap> = Vec::with_capacity(maps.len());
    for (ret_offset, frame_size, map) in maps {
        let mut slots = Vec::new();
        for (ty, offset) in map.entries() {
            if ty != types::I64 {
                return Err(CodegenError::Cranelift {
                    symbol: body.symbol.clone(),
                    message: format!("a stack map entry of type {ty} at return offset {ret_offset}"),
                });
            }
            slots.push(offset);
        }
        slots.sort_unstable();
        slots.dedup();
        if out.last().is_some_and(|last| last.ret_offset >= *ret_offset) {
            return Err(CodegenError::Cranelift {
                symbol: body.symbol.clone(),
                message: format!("stack maps out of order at return offset {ret_offset}"),
            });
        }
        out.push(StackMap { ret_offset: *ret_offset, frame_size: *frame_size, slots });
    }
    Ok(out)
}

/// A stable hash of what the function's code does: its bytes, its
/// relocations with their targets by name (a literal by its text) and its
/// stack maps, so two functions with equal hashes behave the same wherever
/// they are placed. Positions (lines, traps) are not included. Computed
/// once, here, so that linking does not hash every function again.
fn content_hash(code: &[u8], relocs: &[FnReloc], literals: &[Literal], stack_maps: &[StackMap]) -> [u8; 16] {
    // One buffer, hashed once: blake3 is slow on many tiny updates.
    let mut buf = Vec::with_capacity(code.len() + 32 * relocs.len() + 8);
    let field = |buf: &mut Vec<u8>, bytes: &[u8]| {
        buf.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        buf.extend_from_slice(bytes);
    };
    field(&mut buf, code);
    for r in relocs {
        buf.extend_from_slice(&r.offset.to_le_bytes());
        buf.extend_from_slice(&r.addend.to_le_bytes());
        buf.push(match r.kind {
            RelocKind::Abs64 => 0,
            RelocKind::Pc32 => 1,
            RelocKind::Plt32 => 2,
        });
        match &r.target {
            RelocTarget::Function(name) => {
                buf.push(0);
                field(&mut buf, name.as_bytes());
            }
            RelocTarget::Runtime(rt) => {
                buf.push(1);
                field(&mut buf, rt.info().name.as_bytes());
            }
            RelocTarget::Literal(i) => {
                buf.push(2);
                field(&mut buf, &literals.get(*i as usize).map_or_else(Vec::new, Literal::bytes));
            }
        }
    }
    buf.extend_from_slice(&(stack_maps.len() as u64).to_le_bytes());
    for map in stack_maps {
        buf.extend_from_slice(&map.ret_offset.to_le_bytes());
        buf.extend_from_slice(&map.frame_size.to_le_bytes());
        buf.extend_from_slice(&(map.slots.len() as u64).to_le_bytes());
        for slot in &map.slots {
            buf.extend_from_slice(&slot.to_le_bytes());
        }
    }
    let mut out = [0; 16];
    out.copy_from_slice(&blake3::hash(&buf).as_bytes()[..16]);
    out
}

/// Our trap code for a Cranelift one: user codes are ours; a stack probe
/// hitting the guard page is a stack overflow; any other Cranelift-internal
/// trap guards a case our own explicit checks already exclude.
fn trap_code(code: ir::TrapCode) -> TrapCode {
    if code == ir::TrapCode::STACK_OVERFLOW {
        return TrapCode::StackOverflow;
    }
    TrapCode::from_u8(code.as_raw().get()).unwrap_or(TrapCode::Unreachable)
}

fn cranelift_error(body: &Body, e: &cranelift_codegen::CodegenError) -> CodegenError {
    CodegenError::Cranelift { symbol: body.symbol.clone(), message: e.to_string() }
}

/// A Cranelift function built from MIR, with the tables its external names
/// and source locations index.
pub(crate) struct Built {
    pub func: ir::Function,
    /// Namespace [`NS_FUNCTION`] index → symbol.
    pub callees: Vec<String>,
    /// The runtime functions called.
    pub runtimes: Vec<Rt>,
    /// Namespace [`NS_LITERAL`] index → literal.
    pub literals: Vec<Literal>,
    /// `SourceLoc` bits → MIR location.
    pub locs: Vec<Loc>,
}

/// Verifies `body` and builds its Cranelift IR.
pub(crate) fn build(body: &Body, isa: &dyn TargetIsa) -> Result<Built, CodegenError> {
    simple_mir::verify(body)?;
    let call_conv = isa.default_call_conv();
    let mut sig = Signature::new(call_conv);
    for decl in &body.locals[..body.param_count as usize] {
        if let Some(t) = abi_param(decl.ty) {
            sig.params.push(t);
        }
    }
    sig.returns.extend(body.rets.iter().filter_map(|t| abi_param(*t)));
    let mut func = ir::Function::with_name_signature(UserFuncName::testcase(&body.symbol), sig);
    let mut fctx = FunctionBuilderContext::new();
    let builder = FunctionBuilder::new(&mut func, &mut fctx);
    let mut lower = Lower {
        body,
        b: builder,
        call_conv,
        vars: Vec::new(),
        blocks: Vec::new(),
        callees: Vec::new(),
        callee_refs: HashMap::new(),
        runtimes: Vec::new(),
        runtime_refs: HashMap::new(),
        literals: Vec::new(),
        literal_gvs: HashMap::new(),
        locs: Vec::new(),
        loc_index: HashMap::new(),
    };
    lower.function();
    let Lower { b, callees, runtimes, literals, locs, .. } = lower;
    b.finalize(isa.frontend_config());
    Ok(Built { func, callees, runtimes, literals, locs })
}

/// The machine type of a MIR type; `None` for `Nil`.
fn clif_ty(ty: Ty) -> Option<ir::Type> {
    match ty {
        Ty::I64 | Ty::Str | Ty::Ref => Some(types::I64),
        Ty::F64 => Some(types::F64),
        Ty::Bool => Some(types::I8),
        Ty::Nil => None,
    }
}

/// A parameter or result of a MIR type. A `Bool` is zero-extended, as the
/// C ABI expects of a `bool`.
fn abi_param(ty: Ty) -> Option<AbiParam> {
    let t = AbiParam::new(clif_ty(ty)?);
    Some(if ty == Ty::Bool { t.uext() } else { t })
}

fn abi_type_param(t: AbiType) -> AbiParam {
    match t {
        AbiType::I64 | AbiType::Ptr | AbiType::Ref => AbiParam::new(types::I64),
        AbiType::F64 => AbiParam::new(types::F64),
        AbiType::Bool => AbiParam::new(types::I8).uext(),
    }
}

fn user_trap(code: TrapCode) -> ir::TrapCode {
    // Our codes (`TrapCode`) are small, far below Cranelift's reserved range.
    ir::TrapCode::unwrap_user(code as u8)
}

/// An exponent up to this is unrolled into multiplications when it is a
/// constant (at most 2 * 16 of them).
const MAX_UNROLLED_EXPONENT: i64 = 1 << 16;

/// The blocks reachable from `bb0`, in reverse postorder: every block
/// after all its predecessors except those reaching it by a back edge.
fn reverse_postorder(body: &Body) -> Vec<usize> {
    let n = body.blocks.len();
    let mut visited = vec![false; n];
    let mut post = Vec::with_capacity(n);
    // (block, its successors, next successor to visit). Successors are
    // visited last to first, so a branch's `then` side (a loop body) comes
    // before its `else` side (the loop exit) in the result: a loop's latch is
    // then translated before code after the loop, and each loop header is
    // sealed before the header of the loop around it.
    let successors = |b: usize| {
        let mut succs = body.blocks[b].terminator.successors();
        succs.reverse();
        succs
    };
    let mut stack: Vec<(usize, Vec<BlockId>, usize)> = Vec::new();
    if n > 0 {
        visited[0] = true;
        stack.push((0, successors(0), 0));
    }
    while let Some((block, succs, next)) = stack.last_mut() {
        if let Some(succ) = succs.get(*next).map(|s| s.0 as usize) {
            *next += 1;
            if succ < n && !visited[succ] {
                visited[succ] = true;
                stack.push((succ, successors(succ), 0));
            }
        } else {
            post.push(*block);
            stack.pop();
        }
    }
    post.reverse();
    post
}

struct Lower<'a, 'f> {
    body: &'a Body,
    b: FunctionBuilder<'f>,
    call_conv: cranelift_codegen::isa::CallConv,
    /// Per local; `None` for `Nil` locals.
    vars: Vec<Option<Variable>>,
    /// Per MIR block.
    blocks: Vec<ir::Block>,
    callees: Vec<String>,
    callee_refs: HashMap<String, FuncRef>,
    runtimes: Vec<Rt>,
    runtime_refs: HashMap<Rt, FuncRef>,
    literals: Vec<Literal>,
    literal_gvs: HashMap<Literal, GlobalValue>,
    locs: Vec<Loc>,
    loc_index: HashMap<Loc, u32>,
}

impl Lower<'_, '_> {
    fn function(&mut self) {
        let body = self.body;
        self.vars = body
            .locals
            .iter()
            .map(|decl| {
                let var = self.b.declare_var(clif_ty(decl.ty)?);
                // Before any definition, as Cranelift requires: every value
                // of the variable is then spilled around calls.
                if decl.ty.is_gc_ref() {
                    self.b.declare_var_needs_stack_map(var);
                }
                Some(var)
            })
            .collect();
        let entry = self.b.create_block();
        self.blocks = body.blocks.iter().map(|_| self.b.create_block()).collect();

        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let params = self.b.block_params(entry).to_vec();
        let param_vars = self.vars[..body.param_count as usize].iter().flatten();
        for (var, value) in param_vars.zip(params) {
            self.b.def_var(*var, value);
        }
        self.b.ins().jump(self.blocks[0], &[]);
        self.b.seal_block(entry);

        // Translate in reverse postorder and seal each block as soon as all
        // its predecessors are translated. Sealing early lets the SSA
        // builder drop block parameters for variables a loop does not
        // change, so loop-invariant code stays visible to Cranelift's LICM.
        let order = reverse_postorder(body);
        let mut pending_preds = vec![0u32; body.blocks.len()];
        pending_preds[0] = 1; // the jump from the entry block
        for &i in &order {
            for succ in body.blocks[i].terminator.successors() {
                pending_preds[succ.0 as usize] += 1;
            }
        }
        let mut sealed = vec![false; body.blocks.len()];
        let mut done = |this: &mut Self, i: usize| {
            pending_preds[i] -= 1;
            if pending_preds[i] == 0 && !sealed[i] {
                sealed[i] = true;
                this.b.seal_block(this.blocks[i]);
            }
        };
        done(self, 0);
        // Blocks nothing reachable jumps to are not translated: they may
        // jump into blocks already sealed.
        for &i in &order {
            let block = &body.blocks[i];
            self.b.switch_to_block(self.blocks[i]);
            for stmt in &block.stmts {
                self.set_loc(stmt.loc);
                match &stmt.kind {
                    StmtKind::Assign(local, rvalue) => {
                        let value = self.rvalue(rvalue);
                        if let (Some(var), Some(value)) = (self.vars[local.0 as usize], value) {
                            self.b.def_var(var, value);
                        }
                    }
                    StmtKind::Eval(rvalue) => {
                        self.rvalue(rvalue);
                    }
                    StmtKind::Store(addr, value) => {
                        let value = self.value(value);
                        let addr = self.addr(addr);
                        let flags = self.heap_flags();
                        self.b.ins().store(flags, value, addr, 0);
                    }
                    StmtKind::Call { dests, symbol, args } => {
                        let results = self.call(symbol, args, dests);
                        for (dest, value) in dests.iter().zip(results) {
                            if let Some(var) = self.vars[dest.0 as usize] {
                                self.b.def_var(var, value);
                            }
                        }
                    }
                }
            }
            self.set_loc(block.terminator_loc);
            self.terminator(&block.terminator);
            for succ in block.terminator.successors() {
                done(self, succ.0 as usize);
            }
        }
        self.b.seal_all_blocks();
    }

    fn set_loc(&mut self, loc: Loc) {
        let next = self.locs.len() as u32;
        let index = *self.loc_index.entry(loc).or_insert(next);
        if index == next {
            self.locs.push(loc);
        }
        self.b.set_srcloc(SourceLoc::new(index));
    }

    fn terminator(&mut self, term: &Terminator) {
        match term {
            Terminator::Goto(target) => {
                self.b.ins().jump(self.blocks[target.0 as usize], &[]);
            }
            Terminator::Branch { cond, then_block, else_block } => {
                let c = self.value(cond);
                self.b.ins().brif(c, self.blocks[then_block.0 as usize], &[], self.blocks[else_block.0 as usize], &[]);
            }
            Terminator::Return(ops) => {
                let values: Vec<Value> = ops.iter().map(|op| self.value(op)).collect();
                self.b.ins().return_(&values);
            }
            Terminator::Trap(code) => {
                // Without a side effect in the block, Cranelift would turn
                // the branch into this block into a conditional trap at the
                // *branch's* source location; `sequence_point` emits no code
                // and keeps the trap at its own.
                self.b.ins().sequence_point();
                self.b.ins().trap(user_trap(*code));
            }
        }
    }

    /// The machine value of an operand; `None` for `Nil`.
    fn operand(&mut self, op: &Operand) -> Option<Value> {
        match op {
            Operand::Local(l) => self.vars[l.0 as usize].map(|var| self.b.use_var(var)),
            Operand::Const(c) => match c {
                Const::I64(v) => Some(self.b.ins().iconst(types::I64, *v)),
                Const::F64(bits) => Some(self.b.ins().f64const(Ieee64::with_bits(*bits))),
                Const::Bool(v) => Some(self.b.ins().iconst(types::I8, i64::from(*v))),
                Const::Str(s) => Some(self.literal(Literal::Str(s.clone()))),
                Const::Null(_) => Some(self.b.ins().iconst(types::I64, 0)),
                Const::Data(bytes) => Some(self.literal(Literal::Data(bytes.to_vec()))),
                Const::Nil => None,
            },
        }
    }

    /// The machine value of an operand that is not `Nil`, which
    /// `simple_mir::verify` guarantees for every operand of an operation,
    /// runtime call, branch or return.
    fn value(&mut self, op: &Operand) -> Value {
        self.operand(op).expect("verified MIR: operations never take nil operands")
    }

    /// The address of a literal (a colocated data symbol).
    fn literal(&mut self, literal: Literal) -> Value {
        let gv = match self.literal_gvs.get(&literal) {
            Some(gv) => *gv,
            None => {
                let index = self.literals.len() as u32;
                self.literals.push(literal.clone());
                let name = self.b.func.declare_imported_user_function(UserExternalName::new(NS_LITERAL, index));
                let gv = self.b.create_global_value(GlobalValueData::Symbol {
                    name: ExternalName::user(name),
                    offset: Imm64::new(0),
                    colocated: true,
                    tls: false,
                });
                self.literal_gvs.insert(literal, gv);
                gv
            }
        };
        self.b.ins().symbol_value(types::I64, gv)
    }

    /// Flags of heap loads and stores: aligned, and never faulting (the
    /// lowering checks references for nil and indices for bounds first).
    fn heap_flags(&self) -> MemFlagsData {
        MemFlagsData::trusted()
    }

    /// The machine address of a heap place. Computed at its use, so the
    /// derived pointer never lives across a call.
    fn addr(&mut self, addr: &simple_mir::Addr) -> Value {
        let mut a = self.value(&addr.base);
        if let Some((index, scale)) = &addr.index {
            let i = self.value(index);
            let scaled = self.b.ins().imul_imm_s(i, i64::from(*scale));
            a = self.b.ins().iadd(a, scaled);
        }
        if addr.offset != 0 {
            a = self.b.ins().iadd_imm_s(a, i64::from(addr.offset));
        }
        a
    }

    fn trap_if(&mut self, cond: Value, code: TrapCode) {
        self.b.ins().trapnz(cond, user_trap(code));
    }

    fn rvalue(&mut self, rvalue: &Rvalue) -> Option<Value> {
        match rvalue {
            Rvalue::Use(op) => self.operand(op),
            Rvalue::Binary(op, a, b) => Some(self.binary(*op, a, b)),
            Rvalue::Unary(op, a) => {
                let a = self.value(a);
                Some(self.unary(*op, a))
            }
            Rvalue::Cast(kind, a) => {
                let a = self.value(a);
                Some(self.cast(*kind, a))
            }
            Rvalue::Runtime(rt, args) => {
                let args: Vec<Value> = args.iter().map(|a| self.value(a)).collect();
                self.call_runtime(*rt, &args)
            }
            Rvalue::Load(ty, addr) => {
                let addr = self.addr(addr);
                // Verified: a load is never of `Nil`.
                let ty = clif_ty(*ty).expect("verified MIR: no nil loads");
                let flags = self.heap_flags();
                Some(self.b.ins().load(ty, flags, addr, 0))
            }
            Rvalue::Intrinsic(i, args) => {
                // Verified: exactly one F64 argument.
                let x = self.value(&args[0]);
                let ins = self.b.ins();
                Some(match i {
                    Intrinsic::Sqrt => ins.sqrt(x),
                    Intrinsic::Floor => ins.floor(x),
                    Intrinsic::Ceil => ins.ceil(x),
                })
            }
        }
    }

    fn binary(&mut self, op: BinOp, a: &Operand, b: &Operand) -> Value {
        if op == BinOp::IPow
            && let Operand::Const(Const::I64(e)) = b
            && (0..=MAX_UNROLLED_EXPONENT).contains(e)
        {
            let base = self.value(a);
            return self.pow_unrolled(base, *e);
        }
        // Floor division by a positive power of two is an arithmetic shift:
        // no check can fail and no division is needed.
        if op == BinOp::IFloorDiv
            && let Operand::Const(Const::I64(d)) = b
            && *d > 0
            && (*d as u64).is_power_of_two()
        {
            let x = self.value(a);
            return self.b.ins().sshr_imm_s(x, i64::from(d.trailing_zeros()));
        }
        let x = self.value(a);
        let y = self.value(b);
        match op {
            BinOp::IAdd => {
                let (r, overflow) = self.b.ins().sadd_overflow(x, y);
                self.trap_if(overflow, TrapCode::IntegerOverflow);
                r
            }
            BinOp::ISub => {
                let (r, overflow) = self.b.ins().ssub_overflow(x, y);
                self.trap_if(overflow, TrapCode::IntegerOverflow);
                r
            }
            BinOp::IMul => self.checked_mul(x, y),
            BinOp::IDiv => {
                self.division_checks(x, y, TrapCode::DivisionByZero);
                self.b.ins().sdiv(x, y)
            }
            BinOp::IRem => {
                self.division_checks(x, y, TrapCode::RemainderByZero);
                self.b.ins().srem(x, y)
            }
            BinOp::IFloorDiv => {
                self.division_checks(x, y, TrapCode::DivisionByZero);
                // Truncated quotient, minus one when the remainder is not
                // zero and has the other sign than the divisor. It cannot
                // overflow: the quotient is then at most 0 and above MIN.
                let q = self.b.ins().sdiv(x, y);
                let r = self.b.ins().srem(x, y);
                let r_nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
                let signs = self.b.ins().bxor(r, y);
                let signs_differ = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, signs, 0);
                let adjust = self.b.ins().band(r_nonzero, signs_differ);
                let adjust = self.b.ins().uextend(types::I64, adjust);
                self.b.ins().isub(q, adjust)
            }
            BinOp::IPow => self.pow_loop(x, y),
            BinOp::IShl | BinOp::IShr => {
                // Unsigned: a negative amount is out of range too.
                let out_of_range = self.b.ins().icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, y, 64);
                self.trap_if(out_of_range, TrapCode::ShiftOutOfRange);
                if op == BinOp::IShl { self.b.ins().ishl(x, y) } else { self.b.ins().sshr(x, y) }
            }
            BinOp::IAnd => self.b.ins().band(x, y),
            BinOp::IOr => self.b.ins().bor(x, y),
            BinOp::IXor => self.b.ins().bxor(x, y),
            BinOp::IMin | BinOp::IMax => {
                let cc = if op == BinOp::IMin { IntCC::SignedLessThan } else { IntCC::SignedGreaterThan };
                let first = self.b.ins().icmp(cc, x, y);
                self.b.ins().select(first, x, y)
            }
            BinOp::ICmp(c) => self.b.ins().icmp(int_cc(c), x, y),
            BinOp::IULt => self.b.ins().icmp(IntCC::UnsignedLessThan, x, y),
            BinOp::IAddWrap => self.b.ins().iadd(x, y),
            BinOp::FAdd => self.b.ins().fadd(x, y),
            BinOp::FSub => self.b.ins().fsub(x, y),
            BinOp::FMul => self.b.ins().fmul(x, y),
            BinOp::FDiv => self.b.ins().fdiv(x, y),
            BinOp::FRem => self.call_runtime(Rt::FMod, &[x, y]).expect("fmod returns f64"),
            BinOp::FPow => self.call_runtime(Rt::FPow, &[x, y]).expect("fpow returns f64"),
            BinOp::FFloorDiv => {
                let q = self.b.ins().fdiv(x, y);
                self.b.ins().floor(q)
            }
            BinOp::FMin | BinOp::FMax => {
                // Cranelift's fmin/fmax propagate NaN; Rust's f64::min/max
                // (our semantics) return the other operand instead.
                let m = if op == BinOp::FMin { self.b.ins().fmin(x, y) } else { self.b.ins().fmax(x, y) };
                let x_nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
                let y_nan = self.b.ins().fcmp(FloatCC::Unordered, y, y);
                let r = self.b.ins().select(y_nan, x, m);
                self.b.ins().select(x_nan, y, r)
            }
            BinOp::FCmp(c) => self.b.ins().fcmp(float_cc(c), x, y),
            BinOp::BoolEq => self.b.ins().icmp(IntCC::Equal, x, y),
            BinOp::BoolNe => self.b.ins().icmp(IntCC::NotEqual, x, y),
            BinOp::RefEq => self.b.ins().icmp(IntCC::Equal, x, y),
        }
    }

    fn checked_mul(&mut self, x: Value, y: Value) -> Value {
        let (r, overflow) = self.b.ins().smul_overflow(x, y);
        self.trap_if(overflow, TrapCode::IntegerOverflow);
        r
    }

    /// Traps `by_zero` when `y == 0` and `IntegerOverflow` when
    /// `x == MIN && y == -1`.
    fn division_checks(&mut self, x: Value, y: Value, by_zero: TrapCode) {
        self.b.ins().trapz(y, user_trap(by_zero));
        let x_min = self.b.ins().icmp_imm_s(IntCC::Equal, x, i64::MIN);
        let y_minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
        let both = self.b.ins().band(x_min, y_minus_one);
        self.trap_if(both, TrapCode::IntegerOverflow);
    }

    /// `base ** e` for a constant `e >= 0`: square-and-multiply unrolled,
    /// with the same checked multiplications as [`Self::pow_loop`].
    fn pow_unrolled(&mut self, base: Value, e: i64) -> Value {
        let mut result: Option<Value> = None;
        let mut base = base;
        let mut e = e;
        while e > 0 {
            if e & 1 == 1 {
                result = Some(match result {
                    None => base,
                    Some(r) => self.checked_mul(r, base),
                });
            }
            e >>= 1;
            if e > 0 {
                base = self.checked_mul(base, base);
            }
        }
        result.unwrap_or_else(|| self.b.ins().iconst(types::I64, 1))
    }

    /// `x ** y` by square-and-multiply in a loop. Traps `NegativeExponent`
    /// when `y < 0` and `IntegerOverflow` when a multiplication overflows.
    /// The base is squared only while exponent bits remain, and a remaining
    /// bit multiplies the result by at least the squared base, so a
    /// squaring overflows only when the true result does.
    fn pow_loop(&mut self, x: Value, y: Value) -> Value {
        let negative = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, y, 0);
        self.trap_if(negative, TrapCode::NegativeExponent);
        let result = self.b.declare_var(types::I64);
        let base = self.b.declare_var(types::I64);
        let exp = self.b.declare_var(types::I64);
        let one = self.b.ins().iconst(types::I64, 1);
        self.b.def_var(result, one);
        self.b.def_var(base, x);
        self.b.def_var(exp, y);

        let header = self.b.create_block();
        let test_bit = self.b.create_block();
        let multiply = self.b.create_block();
        let shift = self.b.create_block();
        let square = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().jump(header, &[]);

        self.b.switch_to_block(header);
        let e = self.b.use_var(exp);
        self.b.ins().brif(e, test_bit, &[], done, &[]);

        self.b.switch_to_block(test_bit);
        let e = self.b.use_var(exp);
        let bit = self.b.ins().band_imm_u(e, 1);
        self.b.ins().brif(bit, multiply, &[], shift, &[]);

        self.b.switch_to_block(multiply);
        let r = self.b.use_var(result);
        let bv = self.b.use_var(base);
        let product = self.checked_mul(r, bv);
        self.b.def_var(result, product);
        self.b.ins().jump(shift, &[]);

        self.b.switch_to_block(shift);
        let e = self.b.use_var(exp);
        let rest = self.b.ins().ushr_imm_u(e, 1);
        self.b.def_var(exp, rest);
        self.b.ins().brif(rest, square, &[], done, &[]);

        self.b.switch_to_block(square);
        let bv = self.b.use_var(base);
        let squared = self.checked_mul(bv, bv);
        self.b.def_var(base, squared);
        self.b.ins().jump(header, &[]);

        self.b.switch_to_block(done);
        self.b.use_var(result)
    }

    fn unary(&mut self, op: UnOp, a: Value) -> Value {
        match op {
            UnOp::INeg | UnOp::IAbs => {
                let is_min = self.b.ins().icmp_imm_s(IntCC::Equal, a, i64::MIN);
                self.trap_if(is_min, TrapCode::IntegerOverflow);
                if op == UnOp::INeg { self.b.ins().ineg(a) } else { self.b.ins().iabs(a) }
            }
            UnOp::INot => self.b.ins().bnot(a),
            UnOp::FNeg => self.b.ins().fneg(a),
            UnOp::FAbs => self.b.ins().fabs(a),
            // Bool is 0 or 1.
            UnOp::Not => self.b.ins().bxor_imm_u(a, 1),
            UnOp::IsNull => self.b.ins().icmp_imm_u(IntCC::Equal, a, 0),
        }
    }

    fn cast(&mut self, kind: CastKind, a: Value) -> Value {
        match kind {
            CastKind::IntToFloat => self.b.ins().fcvt_from_sint(types::F64, a),
            CastKind::FloatToInt => {
                // In range iff MIN <= a < 2^63; both comparisons are false
                // for NaN.
                let min = self.b.ins().f64const(FLOAT_TO_INT_MIN);
                let end = self.b.ins().f64const(FLOAT_TO_INT_END);
                let above = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, a, min);
                let below = self.b.ins().fcmp(FloatCC::LessThan, a, end);
                let ok = self.b.ins().band(above, below);
                self.b.ins().trapz(ok, user_trap(TrapCode::InvalidCast));
                self.b.ins().fcvt_to_sint(types::I64, a)
            }
            CastKind::BoolToInt => self.b.ins().uextend(types::I64, a),
        }
    }

    /// Calls a Simple function; its results go to locals of the types of
    /// `dests`.
    fn call(&mut self, symbol: &str, args: &[Operand], dests: &[simple_mir::Local]) -> Vec<Value> {
        let mut arg_values = Vec::with_capacity(args.len());
        let mut sig = Signature::new(self.call_conv);
        for arg in args {
            if let Some(v) = self.operand(arg) {
                arg_values.push(v);
                // A non-Nil operand has a machine type.
                sig.params.extend(abi_param(self.body.operand_ty(arg)));
            }
        }
        sig.returns.extend(dests.iter().filter_map(|d| abi_param(self.body.local_ty(*d))));
        // Each call site imports its own signature (a callee called with
        // one symbol always has one signature in well-typed MIR); the
        // function reference is shared per symbol.
        let func_ref = match self.callee_refs.get(symbol) {
            Some(f) => *f,
            None => {
                let index = self.callees.len() as u32;
                self.callees.push(symbol.to_string());
                let f = self.import(sig, NS_FUNCTION, index, true);
                self.callee_refs.insert(symbol.to_string(), f);
                f
            }
        };
        let call = self.b.ins().call(func_ref, &arg_values);
        self.b.inst_results(call).to_vec()
    }

    fn call_runtime(&mut self, rt: Rt, args: &[Value]) -> Option<Value> {
        let func_ref = match self.runtime_refs.get(&rt) {
            Some(f) => *f,
            None => {
                let info = rt.info();
                let mut sig = Signature::new(self.call_conv);
                sig.params.extend(info.params.iter().map(|p| abi_type_param(*p)));
                sig.returns.extend(info.ret.map(abi_type_param));
                self.runtimes.push(rt);
                let f = self.import(sig, NS_RUNTIME, rt as u32, false);
                self.runtime_refs.insert(rt, f);
                f
            }
        };
        let call = self.b.ins().call(func_ref, args);
        self.b.inst_results(call).first().copied()
    }

    fn import(&mut self, sig: Signature, namespace: u32, index: u32, colocated: bool) -> FuncRef {
        let signature = self.b.import_signature(sig);
        let name = self.b.func.declare_imported_user_function(UserExternalName::new(namespace, index));
        self.b.import_function(ExtFuncData { name: ExternalName::user(name), signature, colocated, patchable: false })
    }
}

fn int_cc(c: Cmp) -> IntCC {
    match c {
        Cmp::Eq => IntCC::Equal,
        Cmp::Ne => IntCC::NotEqual,
        Cmp::Lt => IntCC::SignedLessThan,
        Cmp::Le => IntCC::SignedLessThanOrEqual,
        Cmp::Gt => IntCC::SignedGreaterThan,
        Cmp::Ge => IntCC::SignedGreaterThanOrEqual,
    }
}

/// Ordered comparisons (false on NaN), except `Ne`, which is true on NaN.
fn float_cc(c: Cmp) -> FloatCC {
    match c {
        Cmp::Eq => FloatCC::Equal,
        Cmp::Ne => FloatCC::NotEqual,
        Cmp::Lt => FloatCC::LessThan,
        Cmp::Le => FloatCC::LessThanOrEqual,
        Cmp::Gt => FloatCC::GreaterThan,
        Cmp::Ge => FloatCC::GreaterThanOrEqual,
    }
}
