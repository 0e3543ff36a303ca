//! Lowering: typed HIR of one function → MIR.
//!
//! Assumes the HIR has no errors (callers check `FnHir::has_errors`).
//! Guarantees a MIR body that passes `simple_mir::verify`: every block is
//! terminated, every operation has operands of its contracted types, and
//! language semantics (short-circuiting, evaluation order, loop bounds
//! evaluated once, chained comparisons evaluating middle operands once) are
//! explicit in the control flow.

use simple_abi::heap_layout;
use simple_abi::{Rt, TrapCode, dict_layout, list_layout};
use simple_mir::{self as mir, BlockData, BlockId, Cmp, Const, Loc, Local, Operand, Rvalue, StmtKind, Terminator};
use simple_syntax::ast::{BinOp, UnaryOp};

use crate::consts::{ConstValue, DefaultValue};
use crate::diagnostics::RelSpan;
use crate::hir::{
    AdtKind, Arm, Block, Builtin, Expr, ExprKind, FnHir, LocalId, Method, ParamValue, Pat, Place, Stmt, Ty,
};
use crate::items::FnSource;
use crate::layout::{LayoutSource, Layouts};
use crate::line_index::LineIndex;

pub fn lower_fn(hir: &FnHir, source: &FnSource, layouts: &dyn LayoutSource) -> mir::Body {
    let parts = source.parts.iter().map(|p| (LineIndex::new(&p.text), p.text.as_str(), p.line_delta)).collect();
    let layouts = Layouts::new(layouts);
    let mut body = mir::Body {
        symbol: hir.name.clone(),
        param_count: 0,
        rets: layouts.leaves(&hir.ret),
        locals: Vec::new(),
        blocks: Vec::new(),
        inlined: Vec::new(),
    };
    if hir.returns_self {
        body.rets.extend(layouts.leaves(&hir.locals[0].ty));
    }
    // Each HIR local becomes one MIR local per leaf; parameters first.
    let mut locals = Vec::with_capacity(hir.locals.len());
    for (i, info) in hir.locals.iter().enumerate() {
        let leaves = layouts.leaves(&info.ty);
        let many = leaves.len() > 1;
        let ids = leaves
            .into_iter()
            .enumerate()
            .map(|(k, ty)| {
                let name = if many { format!("{}.{k}", info.name) } else { info.name.clone() };
                body.locals.push(mir::LocalDecl { ty, name: Some(name) });
                Local(body.locals.len() as u32 - 1)
            })
            .collect::<Vec<_>>();
        if i < hir.param_count as usize {
            body.param_count += ids.len() as u32;
        }
        locals.push(ids);
    }
    let mut cx = Lower {
        parts,
        body,
        current: BlockId(0),
        blocks: Vec::new(),
        loops: Vec::new(),
        layouts,
        locals,
        nonnegative: Vec::new(),
        hir,
    };
    cx.current = cx.new_block();
    if let Some(status) = hir.exit_status {
        // A script that never executes `main = ...` exits with 0.
        let status = cx.locals[status.0 as usize][0];
        cx.push(StmtKind::Assign(status, Rvalue::Use(Operand::Const(Const::I64(0)))), Loc::default());
    }
    let tail = cx.block(&hir.body);
    let end = cx.end_loc(&hir.body);
    let ret = match (hir.exit_status, &hir.ret) {
        (Some(status), _) => Terminator::Return(vec![Operand::Local(cx.locals[status.0 as usize][0])]),
        (None, Ty::Nil | Ty::Error | Ty::Never) => cx.ret(Vec::new()),
        (None, _) => match tail {
            // A tail of another type sits in dead code after a `return`.
            Some(value) if hir.body.tail.as_ref().is_some_and(|t| t.ty == hir.ret) => cx.ret(value),
            None if hir.name == crate::items::SCRIPT_MAIN => Terminator::Return(vec![Operand::Const(Const::I64(0))]),
            // The type checker proved the end unreachable.
            _ => Terminator::Trap(TrapCode::Unreachable),
        },
    };
    cx.finish(ret, end);
    cx.into_body()
}

/// The synthetic entry point: calls `main` (if the program has one) and
/// returns the exit status.
pub fn entry_body(main: Option<bool>) -> mir::Body {
    let mut stmts = Vec::new();
    let call = |dests| mir::Stmt {
        kind: StmtKind::Call { dests, symbol: crate::items::SCRIPT_MAIN.into(), args: Vec::new() },
        loc: Loc::default(),
    };
    let ret = match main {
        None => Operand::Const(Const::I64(0)),
        Some(true) => {
            stmts.push(call(vec![Local(0)]));
            Operand::Local(Local(0))
        }
        Some(false) => {
            stmts.push(call(Vec::new()));
            Operand::Const(Const::I64(0))
        }
    };
    mir::Body {
        symbol: simple_abi::ENTRY_SYMBOL.into(),
        param_count: 0,
        rets: vec![mir::Ty::I64],
        locals: vec![mir::LocalDecl { ty: mir::Ty::I64, name: Some("status".into()) }],
        blocks: vec![BlockData { stmts, terminator: Terminator::Return(vec![ret]), terminator_loc: Loc::default() }],
        inlined: Vec::new(),
    }
}

/// A value in MIR: one operand per leaf of its type (see `layout`).
type Value = Vec<Operand>;

fn scalar_const(c: &ConstValue) -> Value {
    let c = match c {
        ConstValue::I64(v) => Const::I64(*v),
        ConstValue::F64(bits) => Const::F64(bits.0),
        ConstValue::Bool(b) => Const::Bool(*b),
        ConstValue::Str(s) => Const::Str(s.clone()),
        ConstValue::Nil => return Vec::new(),
    };
    vec![Operand::Const(c)]
}

/// The value of a leaf of a type that is "nothing there": what fills an
/// absent optional's leaves.
fn zero(ty: mir::Ty) -> Operand {
    Operand::Const(match ty {
        mir::Ty::I64 | mir::Ty::Nil => Const::I64(0),
        mir::Ty::F64 => Const::F64(0),
        mir::Ty::Bool => Const::Bool(false),
        mir::Ty::Str | mir::Ty::Ref => Const::Null(ty),
    })
}

/// Where the leaves of a place live.
enum Storage {
    Locals(Vec<Local>),
    /// In a heap object: leaf `k` at `addr` plus `8 * k` bytes.
    Memory(mir::Addr),
}

/// `addr` moved on by `slots` 8-byte slots.
fn advance(addr: &mir::Addr, slots: usize) -> mir::Addr {
    mir::Addr { offset: addr.offset + 8 * slots as i32, ..addr.clone() }
}

/// A block under construction: statements so far, and the terminator once
/// finished.
type OpenBlock = (Vec<mir::Stmt>, Option<(Terminator, Loc)>);

struct Lower<'a> {
    parts: Vec<(LineIndex, &'a str, u32)>,
    body: mir::Body,
    /// The block being filled.
    current: BlockId,
    /// Blocks by id, in construction.
    blocks: Vec<OpenBlock>,
    /// For each enclosing loop: (continue target, break target).
    loops: Vec<(BlockId, BlockId)>,
    layouts: Layouts<'a>,
    /// The MIR locals holding each HIR local's leaves.
    locals: Vec<Vec<Local>>,
    /// Loop variables of the enclosing `for i in range(k, ...)` loops with
    /// a constant `k >= 0` and step 1: never negative, so an index by one
    /// needs no wrap-around from the end.
    nonnegative: Vec<Local>,
    hir: &'a FnHir,
}

impl Lower<'_> {
    fn loc(&self, span: RelSpan) -> Loc {
        match self.parts.get(span.part as usize) {
            Some((index, text, delta)) => {
                let (line, col) = index.line_col(text, span.span.start);
                Loc { line: delta + line, col: col + 1, origin: 0 }
            }
            None => Loc::default(),
        }
    }

    fn end_loc(&self, block: &Block) -> Loc {
        let last = block.tail.as_ref().map(|t| t.span).or_else(|| {
            block.stmts.last().and_then(|s| match s {
                Stmt::Expr(e) | Stmt::Let { init: e, .. } | Stmt::Assign { value: e, .. } => Some(e.span),
                Stmt::Return { span, .. } => Some(*span),
                _ => None,
            })
        });
        last.map_or_else(Loc::default, |s| self.loc(s))
    }

    fn new_block(&mut self) -> BlockId {
        self.blocks.push((Vec::new(), None));
        BlockId(self.blocks.len() as u32 - 1)
    }

    fn push(&mut self, kind: StmtKind, loc: Loc) {
        self.blocks[self.current.0 as usize].0.push(mir::Stmt { kind, loc });
    }

    fn finish(&mut self, terminator: Terminator, loc: Loc) {
        let slot = &mut self.blocks[self.current.0 as usize].1;
        if slot.is_none() {
            *slot = Some((terminator, loc));
        }
    }

    /// Terminates the current block; code after it (unreachable unless
    /// something jumps there) goes to a fresh block.
    fn terminate(&mut self, terminator: Terminator, loc: Loc) {
        self.finish(terminator, loc);
        self.current = self.new_block();
    }

    /// Terminates the current block and continues in `next`.
    fn terminate_into(&mut self, terminator: Terminator, loc: Loc, next: BlockId) {
        self.finish(terminator, loc);
        self.current = next;
    }

    fn into_body(mut self) -> mir::Body {
        self.body.blocks = self
            .blocks
            .into_iter()
            .map(|(stmts, term)| {
                // Only blocks nothing jumps to are left open; dead-block
                // removal deletes them.
                let (terminator, terminator_loc) =
                    term.unwrap_or((Terminator::Trap(TrapCode::Unreachable), Loc::default()));
                BlockData { stmts, terminator, terminator_loc }
            })
            .collect();
        self.body
    }

    /// A return of `value`; a `mut self` method also returns its `self`.
    fn ret(&self, mut value: Value) -> Terminator {
        if self.hir.returns_self {
            value.extend(self.locals[0].iter().map(|l| Operand::Local(*l)));
        }
        Terminator::Return(value)
    }

    fn temp(&mut self, ty: mir::Ty) -> Local {
        let id = Local(self.body.locals.len() as u32);
        self.body.locals.push(mir::LocalDecl { ty, name: None });
        id
    }

    /// Fresh locals for a value of `ty`.
    fn temps(&mut self, ty: &Ty) -> Vec<Local> {
        self.layouts.leaves(ty).into_iter().map(|t| self.temp(t)).collect()
    }

    fn assign_all(&mut self, dests: &[Local], value: Value, loc: Loc) {
        for (d, v) in dests.iter().zip(value) {
            self.push(StmtKind::Assign(*d, Rvalue::Use(v)), loc);
        }
    }

    /// `value` copied into fresh locals, so later code sees it unchanged.
    fn stable(&mut self, ty: &Ty, value: Value, loc: Loc) -> Value {
        let temps = self.temps(ty);
        self.assign_all(&temps, value, loc);
        temps.into_iter().map(Operand::Local).collect()
    }

    fn block(&mut self, block: &Block) -> Option<Value> {
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        block.tail.as_ref().map(|t| self.expr(t))
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Let { local, init } => {
                let value = self.expr(init);
                let loc = self.loc(init.span);
                let dests = self.locals[local.0 as usize].clone();
                if init.ty != Ty::Never {
                    self.assign_all(&dests, value, loc);
                }
            }
            Stmt::Assign { place, value, span } => {
                let v = self.expr(value);
                if value.ty != Ty::Never {
                    let loc = self.loc(*span);
                    let storage = self.storage(place, loc);
                    self.write(storage, v, loc);
                }
            }
            Stmt::Expr(e) => {
                self.expr(e);
            }
            Stmt::Return { value, span } => {
                let v = value.as_ref().map(|v| self.expr(v)).unwrap_or_default();
                let loc = self.loc(*span);
                let ret = self.ret(v);
                self.terminate(ret, loc);
            }
            Stmt::Break | Stmt::Continue => {
                let Some(&(cont, brk)) = self.loops.last() else { return };
                let target = if matches!(stmt, Stmt::Break) { brk } else { cont };
                self.terminate(Terminator::Goto(target), Loc::default());
            }
            Stmt::While { cond, body } => {
                let header = self.new_block();
                let body_block = self.new_block();
                let exit = self.new_block();
                self.terminate_into(Terminator::Goto(header), Loc::default(), header);
                let c = self.scalar(cond);
                let loc = self.loc(cond.span);
                self.terminate_into(
                    Terminator::Branch { cond: c, then_block: body_block, else_block: exit },
                    loc,
                    body_block,
                );
                self.loops.push((header, exit));
                self.block(body);
                self.loops.pop();
                self.terminate_into(Terminator::Goto(header), Loc::default(), exit);
            }
            Stmt::Loop { body } => {
                let body_block = self.new_block();
                let exit = self.new_block();
                self.terminate_into(Terminator::Goto(body_block), Loc::default(), body_block);
                self.loops.push((body_block, exit));
                self.block(body);
                self.loops.pop();
                self.terminate_into(Terminator::Goto(body_block), Loc::default(), exit);
            }
            Stmt::ForRange { var, start, end, step, inclusive, body } => {
                let var = self.locals[var.0 as usize][0];
                self.for_range(var, start, end, step.as_ref(), *inclusive, body)
            }
            Stmt::ForEach { list, index, elem, unpack, body } => self.for_each(list, *index, *elem, unpack, body),
        }
    }

    /// `for x in xs`: the length is read at every step, so a loop that
    /// changes the list sees the change (and never reads past the end).
    fn for_each(&mut self, list: &Expr, index: Option<LocalId>, elem: LocalId, unpack: &[Stmt], body: &Block) {
        let loc = self.loc(list.span);
        let xs = self.scalar(list);
        let xs = self.stable_ref(xs, loc);
        let i = self.temp(mir::Ty::I64);
        self.push(StmtKind::Assign(i, Rvalue::Use(Operand::Const(Const::I64(0)))), loc);
        let (header, body_block, incr, exit) = (self.new_block(), self.new_block(), self.new_block(), self.new_block());
        self.terminate_into(Terminator::Goto(header), loc, header);
        let len = self.list_len(xs.clone(), loc);
        let more = self.binop(mir::BinOp::ICmp(Cmp::Lt), Operand::Local(i), len, loc);
        self.terminate_into(
            Terminator::Branch { cond: more, then_block: body_block, else_block: exit },
            loc,
            body_block,
        );
        let elem_ty = element_ty(&list.ty);
        let leaves = self.layouts.leaves(&elem_ty);
        let items = self.assign_temp(mir::Ty::Ref, Rvalue::Load(mir::Ty::Ref, items_addr(xs)), loc);
        let addr = element_slot(items, Operand::Local(i), leaves.len());
        let value = self.load(&addr, &leaves, loc);
        let dests = self.locals[elem.0 as usize].clone();
        self.assign_all(&dests, value, loc);
        if let Some(index) = index {
            let dest = self.locals[index.0 as usize][0];
            self.push(StmtKind::Assign(dest, Rvalue::Use(Operand::Local(i))), loc);
        }
        for stmt in unpack {
            self.stmt(stmt);
        }
        self.loops.push((incr, exit));
        self.block(body);
        self.loops.pop();
        self.terminate_into(Terminator::Goto(incr), loc, incr);
        // `i < len` held: `i + 1` cannot overflow.
        self.push(
            StmtKind::Assign(i, Rvalue::Binary(mir::BinOp::IAddWrap, Operand::Local(i), Operand::Const(Const::I64(1)))),
            loc,
        );
        self.terminate_into(Terminator::Goto(header), loc, exit);
    }

    fn list_len(&mut self, list: Operand, loc: Loc) -> Operand {
        let addr = mir::Addr { base: list, index: None, offset: list_layout::LEN_OFFSET };
        self.assign_temp(mir::Ty::I64, Rvalue::Load(mir::Ty::I64, addr), loc)
    }

    /// The address of element `index` of a list (negative from the end),
    /// trapping if it is out of bounds.
    fn element_addr(&mut self, list_ty: &Ty, list: Operand, index: Operand, loc: Loc) -> mir::Addr {
        let i = self.checked_index(list.clone(), index, loc);
        let items = self.assign_temp(mir::Ty::Ref, Rvalue::Load(mir::Ty::Ref, items_addr(list)), loc);
        element_slot(items, i, self.layouts.leaves(&element_ty(list_ty)).len())
    }

    /// `index` as an index into the list (negative from the end); traps
    /// `IndexOutOfBounds` unless `0 <= index < len`.
    fn checked_index(&mut self, list: Operand, index: Operand, loc: Loc) -> Operand {
        use mir::BinOp::*;
        let len = self.list_len(list, loc);
        // Branch-free: a negative index gets the length added (its sign
        // bit, spread, masks the length), then one unsigned compare
        // rejects both ends.
        let i = match index {
            Operand::Local(l) if self.nonnegative.contains(&l) => index,
            _ => {
                let sign = self.binop(IShr, index.clone(), Operand::Const(Const::I64(63)), loc);
                let shift = self.binop(IAnd, sign, len.clone(), loc);
                // A negative index plus a length, or an index plus 0: no overflow.
                self.binop(IAddWrap, index, shift, loc)
            }
        };
        let ok = self.binop(IULt, i.clone(), len, loc);
        self.trap_unless(ok, TrapCode::IndexOutOfBounds, loc);
        i
    }

    /// Continues if `cond` holds; traps with `code` if not.
    fn trap_unless(&mut self, cond: Operand, code: TrapCode, loc: Loc) {
        let (ok, fail) = (self.new_block(), self.new_block());
        self.terminate_into(Terminator::Branch { cond, then_block: ok, else_block: fail }, loc, fail);
        self.terminate_into(Terminator::Trap(code), loc, ok);
    }

    /// The index of the entry of `key` in a dict: added if `insert`, else
    /// found or a `KeyNotFound` trap.
    fn dict_entry(&mut self, dict_ty: &Ty, dict: Operand, key: Value, insert: bool, loc: Loc) -> Operand {
        let (rt, key) = self.dict_key(dict_ty, key, insert, loc);
        let entry = self.runtime(rt, vec![dict, key], loc);
        if !insert {
            let found = self.binop(mir::BinOp::ICmp(Cmp::Ge), entry.clone(), Operand::Const(Const::I64(0)), loc);
            self.trap_unless(found, TrapCode::KeyNotFound, loc);
        }
        entry
    }

    /// The runtime function that finds (or inserts) a key of the dict's
    /// key type, and the key as its argument.
    fn dict_key(&mut self, dict_ty: &Ty, key: Value, insert: bool, loc: Loc) -> (Rt, Operand) {
        let key_ty = match dict_ty {
            Ty::Dict(kv) => kv.0.clone(),
            _ => Ty::Error,
        };
        let k = key.into_iter().next().unwrap_or(Operand::Const(Const::I64(0)));
        match (key_ty, insert) {
            (Ty::Str, false) => (Rt::DictFindStr, k),
            (Ty::Str, true) => (Rt::DictInsertStr, k),
            (Ty::Bool, insert) => {
                let k = self.assign_temp(mir::Ty::I64, Rvalue::Cast(mir::CastKind::BoolToInt, k), loc);
                (if insert { Rt::DictInsertInt } else { Rt::DictFindInt }, k)
            }
            (_, false) => (Rt::DictFindInt, k),
            (_, true) => (Rt::DictInsertInt, k),
        }
    }

    /// The address of the value of entry `entry` of a dict.
    fn dict_value_addr(&mut self, dict_ty: &Ty, dict: Operand, entry: Operand, loc: Loc) -> mir::Addr {
        let value_ty = match dict_ty {
            Ty::Dict(kv) => kv.1.clone(),
            _ => Ty::Error,
        };
        let slots = dict_layout::VALUE_SLOT + self.layouts.leaves(&value_ty).len();
        let entries_addr = mir::Addr { base: dict, index: None, offset: dict_layout::ENTRIES_OFFSET };
        let entries = self.assign_temp(mir::Ty::Ref, Rvalue::Load(mir::Ty::Ref, entries_addr), loc);
        advance(&element_slot(entries, entry, slots), dict_layout::VALUE_SLOT)
    }

    /// The items descriptor of a list of `elem`.
    fn items_desc(&self, elem: &Ty) -> Operand {
        let refs: Vec<bool> = self.layouts.leaves(elem).iter().map(|t| t.is_gc_ref()).collect();
        Operand::Const(Const::Data(heap_layout::encode_desc(heap_layout::KIND_ARRAY, &refs)))
    }

    /// A new list of `elem` holding `values`.
    fn new_list(&mut self, elem: &Ty, values: Vec<Value>, loc: Loc) -> Operand {
        let desc = self.items_desc(elem);
        let n = Operand::Const(Const::I64(values.len() as i64));
        let list = self.runtime(Rt::ListNew, vec![desc, n], loc);
        if !values.is_empty() {
            let slots = self.layouts.leaves(elem).len();
            let items = self.assign_temp(mir::Ty::Ref, Rvalue::Load(mir::Ty::Ref, items_addr(list.clone())), loc);
            for (i, v) in values.into_iter().enumerate() {
                let addr = element_slot(items.clone(), Operand::Const(Const::I64(i as i64)), slots);
                self.store(&addr, v, loc);
            }
        }
        list
    }

    /// A new dict of `dict_ty` holding `entries`.
    fn new_dict(&mut self, dict_ty: &Ty, entries: Vec<(Value, Value)>, loc: Loc) -> Operand {
        let Ty::Dict(kv) = dict_ty else { return Operand::Const(Const::Nil) };
        let mut refs = vec![false, kv.0 == Ty::Str];
        refs.extend(self.layouts.leaves(&kv.1).iter().map(|t| t.is_gc_ref()));
        let desc = Operand::Const(Const::Data(heap_layout::encode_desc(heap_layout::KIND_ARRAY, &refs)));
        let kind = if kv.0 == Ty::Str { dict_layout::KEY_STR } else { dict_layout::KEY_INT };
        let dict = self.runtime(Rt::DictNew, vec![desc, Operand::Const(Const::I64(kind))], loc);
        for (k, v) in entries {
            let entry = self.dict_entry(dict_ty, dict.clone(), k, true, loc);
            let addr = self.dict_value_addr(dict_ty, dict.clone(), entry, loc);
            self.store(&addr, v, loc);
        }
        dict
    }

    /// Where the leaves of `place` live; evaluates the objects in it.
    fn storage(&mut self, place: &Place, loc: Loc) -> Storage {
        match place {
            Place::Local(l) => Storage::Locals(self.locals[l.0 as usize].clone()),
            Place::Field(inner, index) => {
                let ty = self.place_ty(inner);
                let range = self.layouts.field_range(&ty, *index);
                match self.storage(inner, loc) {
                    Storage::Locals(locals) => Storage::Locals(locals[range].to_vec()),
                    Storage::Memory(addr) => Storage::Memory(advance(&addr, range.start)),
                }
            }
            Place::ObjectField(object, index) => {
                let range = self.layouts.field_range(&object.ty, *index);
                // Evaluated once, before the value is.
                let object = self.scalar(object);
                let object = self.stable_ref(object, loc);
                Storage::Memory(slot_addr(object, range.start))
            }
            Place::Index(base, index) => {
                let container = self.scalar(base);
                let container = self.stable_ref(container, loc);
                let key = self.expr(index);
                match &base.ty {
                    Ty::List(_) => Storage::Memory(self.element_addr(&base.ty, container, key[0].clone(), loc)),
                    _ => {
                        let entry = self.dict_entry(&base.ty, container.clone(), key, true, loc);
                        Storage::Memory(self.dict_value_addr(&base.ty, container, entry, loc))
                    }
                }
            }
        }
    }

    /// A `Ref` local holding `op`, so later code sees it unchanged.
    fn stable_ref(&mut self, op: Operand, loc: Loc) -> Operand {
        let t = self.temp(mir::Ty::Ref);
        self.push(StmtKind::Assign(t, Rvalue::Use(op)), loc);
        Operand::Local(t)
    }

    fn place_ty(&self, place: &Place) -> Ty {
        match place {
            Place::Local(l) => self.hir.locals[l.0 as usize].ty.clone(),
            Place::Field(inner, index) => {
                self.layouts.field_types(&self.place_ty(inner)).get(*index as usize).cloned().unwrap_or(Ty::Error)
            }
            Place::ObjectField(object, index) => {
                self.layouts.field_types(&object.ty).get(*index as usize).cloned().unwrap_or(Ty::Error)
            }
            Place::Index(base, _) => element_ty(&base.ty),
        }
    }

    fn write(&mut self, storage: Storage, value: Value, loc: Loc) {
        match storage {
            Storage::Locals(locals) => self.assign_all(&locals, value, loc),
            Storage::Memory(addr) => self.store(&addr, value, loc),
        }
    }

    /// Stores the leaves of a value from `addr` on.
    fn store(&mut self, addr: &mir::Addr, value: Value, loc: Loc) {
        for (k, v) in value.into_iter().enumerate() {
            self.push(StmtKind::Store(advance(addr, k), v), loc);
        }
    }

    /// Loads a value with these leaves from `addr` on.
    fn load(&mut self, addr: &mir::Addr, leaves: &[mir::Ty], loc: Loc) -> Value {
        leaves
            .iter()
            .enumerate()
            .map(|(k, ty)| self.assign_temp(*ty, Rvalue::Load(*ty, advance(addr, k)), loc))
            .collect()
    }

    /// Loads slots `start..start + leaves.len()` of a record.
    fn load_slots(&mut self, object: &Operand, start: usize, leaves: &[mir::Ty], loc: Loc) -> Value {
        self.load(&slot_addr(object.clone(), start), leaves, loc)
    }

    /// A new record holding `value` (whose leaves are `leaves`).
    fn boxed(&mut self, leaves: &[mir::Ty], value: Value, loc: Loc) -> Operand {
        let desc = Operand::Const(Const::Data(Layouts::record_desc(leaves)));
        let object = self.runtime(Rt::AllocRecord, vec![desc], loc);
        for (k, v) in value.into_iter().enumerate() {
            self.push(StmtKind::Store(slot_addr(object.clone(), k), v), loc);
        }
        object
    }

    fn for_range(&mut self, var: Local, start: &Expr, end: &Expr, step: Option<&Expr>, inclusive: bool, body: &Block) {
        let loc = self.loc(start.span);
        let start_v = self.scalar(start);
        let nonnegative = step.is_none() && matches!(start_v, Operand::Const(Const::I64(k)) if k >= 0);
        let end_v = self.scalar(end);
        let end_t = self.temp(mir::Ty::I64);
        self.push(StmtKind::Assign(end_t, Rvalue::Use(end_v)), loc);
        let step_t = step.map(|s| {
            let v = self.scalar(s);
            let t = self.temp(mir::Ty::I64);
            self.push(StmtKind::Assign(t, Rvalue::Use(v)), loc);
            t
        });
        self.push(StmtKind::Assign(var, Rvalue::Use(start_v)), loc);
        let header = self.new_block();
        let body_block = self.new_block();
        let incr = self.new_block();
        let exit = self.new_block();
        let (end_op, var_op) = (Operand::Local(end_t), Operand::Local(var));
        self.terminate_into(Terminator::Goto(header), loc, header);
        match step_t {
            None => {
                let cmp = if inclusive { Cmp::Le } else { Cmp::Lt };
                let cond = self.binop(mir::BinOp::ICmp(cmp), var_op.clone(), end_op.clone(), loc);
                self.terminate_into(
                    Terminator::Branch { cond, then_block: body_block, else_block: exit },
                    loc,
                    body_block,
                );
            }
            Some(step) => {
                // Counting up while `i < end` if step > 0, down while
                // `i > end` if step < 0; a zero step runs no iteration.
                let (up, down_check) = (self.new_block(), self.new_block());
                let step = Operand::Local(step);
                let zero = Operand::Const(Const::I64(0));
                let positive = self.binop(mir::BinOp::ICmp(Cmp::Gt), step.clone(), zero.clone(), loc);
                self.terminate_into(
                    Terminator::Branch { cond: positive, then_block: up, else_block: down_check },
                    loc,
                    up,
                );
                let below = self.binop(mir::BinOp::ICmp(Cmp::Lt), var_op.clone(), end_op.clone(), loc);
                self.terminate_into(
                    Terminator::Branch { cond: below, then_block: body_block, else_block: exit },
                    loc,
                    down_check,
                );
                let negative = self.binop(mir::BinOp::ICmp(Cmp::Lt), step, zero, loc);
                let down = self.new_block();
                self.terminate_into(
                    Terminator::Branch { cond: negative, then_block: down, else_block: exit },
                    loc,
                    down,
                );
                let above = self.binop(mir::BinOp::ICmp(Cmp::Gt), var_op.clone(), end_op.clone(), loc);
                self.terminate_into(
                    Terminator::Branch { cond: above, then_block: body_block, else_block: exit },
                    loc,
                    body_block,
                );
            }
        }
        self.loops.push((incr, exit));
        if nonnegative {
            self.nonnegative.push(var);
        }
        self.block(body);
        if nonnegative {
            self.nonnegative.pop();
        }
        self.loops.pop();
        self.terminate_into(Terminator::Goto(incr), loc, incr);
        if inclusive && step_t.is_none() {
            // `i == end` ends the loop before `i + 1` could overflow.
            let at_end = self.binop(mir::BinOp::ICmp(Cmp::Eq), var_op.clone(), end_op, loc);
            let bump = self.new_block();
            self.terminate_into(Terminator::Branch { cond: at_end, then_block: exit, else_block: bump }, loc, bump);
        }
        // A step of 1 from below the end (or, inclusive, not at it) cannot
        // overflow, and the loop variable is immutable in the body.
        let (add, step_op) = match step_t {
            None => (mir::BinOp::IAddWrap, Operand::Const(Const::I64(1))),
            Some(step) => (mir::BinOp::IAdd, Operand::Local(step)),
        };
        self.push(StmtKind::Assign(var, Rvalue::Binary(add, var_op, step_op)), loc);
        self.terminate_into(Terminator::Goto(header), loc, exit);
    }

    /// Emits `tmp = op(a, b)` and returns `tmp`.
    fn binop(&mut self, op: mir::BinOp, a: Operand, b: Operand, loc: Loc) -> Operand {
        use mir::BinOp::*;
        let ty = match op {
            ICmp(_) | IULt | FCmp(_) | BoolEq | BoolNe | RefEq => mir::Ty::Bool,
            FAdd | FSub | FMul | FDiv | FRem | FFloorDiv | FPow | FMin | FMax => mir::Ty::F64,
            _ => mir::Ty::I64,
        };
        self.assign_temp(ty, Rvalue::Binary(op, a, b), loc)
    }

    fn not(&mut self, a: Operand, loc: Loc) -> Operand {
        self.assign_temp(mir::Ty::Bool, Rvalue::Unary(mir::UnOp::Not, a), loc)
    }

    fn assign_temp(&mut self, ty: mir::Ty, value: Rvalue, loc: Loc) -> Operand {
        if ty == mir::Ty::Nil {
            self.push(StmtKind::Eval(value), loc);
            return Operand::Const(Const::Nil);
        }
        let t = self.temp(ty);
        self.push(StmtKind::Assign(t, value), loc);
        Operand::Local(t)
    }

    fn runtime(&mut self, rt: Rt, args: Vec<Operand>, loc: Loc) -> Operand {
        let ty = rt.info().ret.map_or(mir::Ty::Nil, simple_mir::abi_ty);
        self.assign_temp(ty, Rvalue::Runtime(rt, args), loc)
    }

    fn str_const(text: &str) -> Operand {
        Operand::Const(Const::Str(text.to_string()))
    }

    /// The one machine value of an expression of a scalar type (`nil` for
    /// a value without one).
    fn scalar(&mut self, e: &Expr) -> Operand {
        self.expr(e).into_iter().next().unwrap_or(Operand::Const(Const::Nil))
    }

    /// The value of a parameter: a written argument or a default.
    fn param_values(&mut self, args: &[Expr], params: &[ParamValue], loc: Loc) -> Vec<Value> {
        let written: Vec<Value> = args.iter().map(|a| self.expr(a)).collect();
        params
            .iter()
            .map(|p| match p {
                ParamValue::Arg(i) => written[*i].clone(),
                ParamValue::Default(DefaultValue::Const(c), ty) => self.const_value(c, ty),
                ParamValue::Default(DefaultValue::Empty, ty @ Ty::List(_)) => {
                    vec![self.new_list(&element_ty(ty), Vec::new(), loc)]
                }
                ParamValue::Default(DefaultValue::Empty, ty) => vec![self.new_dict(ty, Vec::new(), loc)],
                // Never run: the program has errors.
                ParamValue::Default(DefaultValue::Error, ty) => self.layouts.leaves(ty).into_iter().map(zero).collect(),
            })
            .collect()
    }

    /// A constant as a value of `ty` (an optional's default may be `nil` or
    /// a plain value).
    fn const_value(&self, c: &ConstValue, ty: &Ty) -> Value {
        match ty {
            Ty::Optional(inner) => match c {
                ConstValue::Nil => self.nil_value(inner),
                c => self.some_value(inner, self.const_value(c, inner)),
            },
            _ => scalar_const(c),
        }
    }

    fn nil_value(&self, inner: &Ty) -> Value {
        let leaves = self.layouts.leaves(inner);
        if self.layouts.nullable(inner) {
            return vec![zero(leaves[0])];
        }
        let mut v = vec![Operand::Const(Const::Bool(false))];
        v.extend(leaves.into_iter().map(zero));
        v
    }

    fn some_value(&self, inner: &Ty, value: Value) -> Value {
        if self.layouts.nullable(inner) {
            return value;
        }
        let mut v = vec![Operand::Const(Const::Bool(true))];
        v.extend(value);
        v
    }

    /// Whether an optional value is present (a `Bool`), and its inner value.
    fn unpack_optional(&mut self, inner: &Ty, value: &[Operand], loc: Loc) -> (Operand, Value) {
        if self.layouts.nullable(inner) {
            let null = self.assign_temp(mir::Ty::Bool, Rvalue::Unary(mir::UnOp::IsNull, value[0].clone()), loc);
            (self.not(null, loc), value.to_vec())
        } else {
            (value[0].clone(), value[1..].to_vec())
        }
    }

    fn expr(&mut self, e: &Expr) -> Value {
        let loc = self.loc(e.span);
        match &e.kind {
            ExprKind::Const(c) => self.const_value(c, &e.ty),
            ExprKind::Local(l) => self.locals[l.0 as usize].iter().map(|l| Operand::Local(*l)).collect(),
            ExprKind::Call { symbol, args, params } => {
                let args = self.param_values(args, params, loc).concat();
                let dests = self.temps(&e.ty);
                self.push(StmtKind::Call { dests: dests.clone(), symbol: symbol.clone(), args }, loc);
                if e.ty == Ty::Never {
                    self.terminate(Terminator::Trap(TrapCode::Unreachable), loc);
                }
                dests.into_iter().map(Operand::Local).collect()
            }
            ExprKind::MutCall { place, symbol, args, params } => {
                let storage = self.storage(place, loc);
                let args = self.param_values(args, params, loc);
                let self_ty = self.place_ty(place);
                let result = self.temps(&e.ty);
                let new_self = self.temps(&self_ty);
                let mut dests = result.clone();
                dests.extend(&new_self);
                self.push(StmtKind::Call { dests, symbol: symbol.clone(), args: args.concat() }, loc);
                self.write(storage, new_self.into_iter().map(Operand::Local).collect(), loc);
                result.into_iter().map(Operand::Local).collect()
            }
            ExprKind::Builtin { builtin, args } => self.builtin(*builtin, args, loc),
            ExprKind::Binary { op, op_span, lhs, rhs } => {
                let op_loc = self.loc(*op_span);
                match op {
                    BinOp::And | BinOp::Or => vec![self.short_circuit(*op == BinOp::And, lhs, rhs, op_loc)],
                    _ => {
                        let a = self.expr(lhs);
                        let b = self.expr(rhs);
                        vec![self.binary(*op, &lhs.ty, &rhs.ty, a, b, op_loc)]
                    }
                }
            }
            ExprKind::Chain { operands, ops } => vec![self.chain(operands, ops)],
            ExprKind::Unary { op, operand } => {
                let v = self.scalar(operand);
                let (un, ty) = match (op, &operand.ty) {
                    (UnaryOp::Neg, Ty::F64) => (mir::UnOp::FNeg, mir::Ty::F64),
                    (UnaryOp::Neg, _) => (mir::UnOp::INeg, mir::Ty::I64),
                    (UnaryOp::Not, _) => (mir::UnOp::Not, mir::Ty::Bool),
                    (UnaryOp::BitNot, _) => (mir::UnOp::INot, mir::Ty::I64),
                };
                vec![self.assign_temp(ty, Rvalue::Unary(un, v), loc)]
            }
            ExprKind::Cast { expr } => {
                let v = self.expr(expr);
                let kind = match (&expr.ty, &e.ty) {
                    (Ty::I64, Ty::F64) => mir::CastKind::IntToFloat,
                    (Ty::F64, Ty::I64) => mir::CastKind::FloatToInt,
                    (Ty::Bool, Ty::I64) => mir::CastKind::BoolToInt,
                    _ => return v,
                };
                let ty = self.layouts.leaves(&e.ty)[0];
                vec![self.assign_temp(ty, Rvalue::Cast(kind, v[0].clone()), loc)]
            }
            ExprKind::If { branches, else_block } => self.if_expr(e, branches, else_block.as_ref()),
            ExprKind::Interp(parts) => {
                let mut acc: Option<Operand> = None;
                for part in parts {
                    let v = self.scalar(part);
                    acc = Some(match acc {
                        None => v,
                        Some(prev) => self.runtime(Rt::StrConcat, vec![prev, v], loc),
                    });
                }
                vec![acc.unwrap_or_else(|| Self::str_const(""))]
            }
            ExprKind::Record { args, fields } => {
                let value = self.param_values(args, fields, loc).concat();
                match &e.ty {
                    Ty::Adt(adt) if adt.kind() == AdtKind::Class => {
                        let leaves = self.layouts.record_leaves(&self.layouts.field_types(&e.ty));
                        vec![self.boxed(&leaves, value, loc)]
                    }
                    _ => value,
                }
            }
            ExprKind::Variant { index, args, fields } => {
                let value = self.param_values(args, fields, loc).concat();
                let Ty::Adt(adt) = &e.ty else { return Vec::new() };
                let mut out = vec![Operand::Const(Const::I64(i64::from(*index)))];
                if self.layouts.adt_def(adt).has_payload() {
                    if value.is_empty() {
                        out.push(Operand::Const(Const::Null(mir::Ty::Ref)));
                    } else {
                        let leaves = self.layouts.record_leaves(&self.layouts.variant_types(adt, *index));
                        out.push(self.boxed(&leaves, value, loc));
                    }
                }
                out
            }
            ExprKind::Field { base, index } => {
                let value = self.expr(base);
                let range = self.layouts.field_range(&base.ty, *index);
                match &base.ty {
                    Ty::Adt(adt) if adt.kind() == AdtKind::Class => {
                        let leaves = self.layouts.leaves(&e.ty);
                        self.load_slots(&value[0], range.start, &leaves, loc)
                    }
                    _ => value[range].to_vec(),
                }
            }
            ExprKind::Some(x) => {
                let v = self.expr(x);
                self.some_value(&x.ty, v)
            }
            ExprKind::Coalesce { opt, default } => {
                let v = self.expr(opt);
                let (present, inner) = self.unpack_optional(&e.ty, &v, loc);
                let result = self.temps(&e.ty);
                let (some, none, join) = (self.new_block(), self.new_block(), self.new_block());
                self.terminate_into(
                    Terminator::Branch { cond: present, then_block: some, else_block: none },
                    loc,
                    some,
                );
                self.assign_all(&result, inner, loc);
                self.terminate_into(Terminator::Goto(join), loc, none);
                let d = self.expr(default);
                if default.ty != Ty::Never {
                    self.assign_all(&result, d, loc);
                }
                self.terminate_into(Terminator::Goto(join), loc, join);
                result.into_iter().map(Operand::Local).collect()
            }
            ExprKind::Unwrap(x) => {
                let v = self.expr(x);
                let (present, inner) = self.unpack_optional(&e.ty, &v, loc);
                let (ok, fail) = (self.new_block(), self.new_block());
                self.terminate_into(Terminator::Branch { cond: present, then_block: ok, else_block: fail }, loc, fail);
                self.terminate_into(Terminator::Trap(TrapCode::UnwrapOfNil), loc, ok);
                inner
            }
            ExprKind::Match { scrutinee, arms } => self.match_expr(e, scrutinee, arms),
            ExprKind::Method { method, args, at } => {
                let at = self.loc(*at);
                self.method(*method, args, &e.ty, at)
            }
            ExprKind::Format { value, spec } => {
                let rt = match value.ty {
                    Ty::I64 => Rt::FormatI64,
                    Ty::F64 => Rt::FormatF64,
                    Ty::Bool => Rt::FormatBool,
                    _ => Rt::FormatStr,
                };
                let v = self.scalar(value);
                vec![self.runtime(rt, vec![v, Self::str_const(spec)], loc)]
            }
            ExprKind::List(xs) => {
                let values = xs.iter().map(|x| self.expr(x)).collect();
                vec![self.new_list(&element_ty(&e.ty), values, loc)]
            }
            ExprKind::Dict(entries) => {
                let values = entries.iter().map(|(k, v)| (self.expr(k), self.expr(v))).collect();
                vec![self.new_dict(&e.ty, values, loc)]
            }
            ExprKind::Index { base, index } => {
                let container = self.scalar(base);
                let key = self.expr(index);
                let leaves = self.layouts.leaves(&e.ty);
                match &base.ty {
                    Ty::List(_) => {
                        let addr = self.element_addr(&base.ty, container, key[0].clone(), loc);
                        self.load(&addr, &leaves, loc)
                    }
                    Ty::Dict(_) => {
                        let entry = self.dict_entry(&base.ty, container.clone(), key, false, loc);
                        let addr = self.dict_value_addr(&base.ty, container, entry, loc);
                        self.load(&addr, &leaves, loc)
                    }
                    _ => vec![self.str_char_at(container, key[0].clone(), loc)],
                }
            }
            ExprKind::Slice { base, start, end } => {
                let container = self.scalar(base);
                let mut written = 0;
                let mut bound = |cx: &mut Self, b: &Option<Box<Expr>>, bit: i64| match b {
                    Some(b) => {
                        written |= bit;
                        cx.scalar(b)
                    }
                    None => Operand::Const(Const::I64(0)),
                };
                let (a, b) = (bound(self, start, 1), bound(self, end, 2));
                let rt = if base.ty == Ty::Str { Rt::StrSlice } else { Rt::ListSlice };
                vec![self.runtime(rt, vec![container, a, b, Operand::Const(Const::I64(written))], loc)]
            }
            // Never lowered: see `FnHir::poisoned`.
            ExprKind::Error => Vec::new(),
        }
    }

    /// `lhs op rhs` for an operator that is not `and`/`or`.
    fn binary(&mut self, op: BinOp, lt: &Ty, rt: &Ty, a: Value, b: Value, loc: Loc) -> Operand {
        use mir::BinOp as M;
        let cmp = match op {
            BinOp::Eq => Some(Cmp::Eq),
            BinOp::Ne => Some(Cmp::Ne),
            BinOp::Lt => Some(Cmp::Lt),
            BinOp::Le => Some(Cmp::Le),
            BinOp::Gt => Some(Cmp::Gt),
            BinOp::Ge => Some(Cmp::Ge),
            _ => None,
        };
        if let Some(c @ (Cmp::Eq | Cmp::Ne)) = cmp {
            let eq = self.equal(lt, rt, &a, &b, loc);
            return if c == Cmp::Eq { eq } else { self.not(eq, loc) };
        }
        let (a, b) = (a.into_iter().next(), b.into_iter().next());
        let (Some(a), Some(b)) = (a, b) else { return Operand::Const(Const::Nil) };
        match (lt, cmp) {
            (Ty::I64, Some(c)) => self.binop(M::ICmp(c), a, b, loc),
            (Ty::F64, Some(c)) => self.binop(M::FCmp(c), a, b, loc),
            (Ty::Str, Some(c)) => {
                let ord = self.runtime(Rt::StrCmp, vec![a, b], loc);
                self.binop(M::ICmp(c), ord, Operand::Const(Const::I64(0)), loc)
            }
            (_, Some(_)) => Operand::Const(Const::Nil),
            (Ty::Str, None) if op == BinOp::Mul => self.runtime(Rt::StrRepeat, vec![a, b], loc),
            (Ty::Str, None) => self.runtime(Rt::StrConcat, vec![a, b], loc),
            (Ty::List(_), None) => self.runtime(Rt::ListConcat, vec![a, b], loc),
            (Ty::F64, None) => {
                let m = match op {
                    BinOp::Add => M::FAdd,
                    BinOp::Sub => M::FSub,
                    BinOp::Mul => M::FMul,
                    BinOp::Div => M::FDiv,
                    BinOp::FloorDiv => M::FFloorDiv,
                    BinOp::Rem => M::FRem,
                    _ => M::FPow,
                };
                self.binop(m, a, b, loc)
            }
            (_, None) => {
                let m = match op {
                    BinOp::Add => M::IAdd,
                    BinOp::Sub => M::ISub,
                    BinOp::Mul => M::IMul,
                    BinOp::Div => M::IDiv,
                    BinOp::FloorDiv => M::IFloorDiv,
                    BinOp::Rem => M::IRem,
                    BinOp::Pow => M::IPow,
                    BinOp::BitAnd => M::IAnd,
                    BinOp::BitOr => M::IOr,
                    BinOp::BitXor => M::IXor,
                    BinOp::Shl => M::IShl,
                    _ => M::IShr,
                };
                self.binop(m, a, b, loc)
            }
        }
    }

    /// `a == b` (a `Bool`): structural, except identity for class objects.
    /// One side may be `nil` against an optional.
    fn equal(&mut self, lt: &Ty, rt: &Ty, a: &[Operand], b: &[Operand], loc: Loc) -> Operand {
        use mir::BinOp as M;
        match (lt, rt) {
            (Ty::Optional(inner), Ty::Nil) | (Ty::Nil, Ty::Optional(inner)) => {
                let v = if *lt == Ty::Nil { b } else { a };
                let (present, _) = self.unpack_optional(inner, v, loc);
                self.not(present, loc)
            }
            (Ty::Nil, _) => Operand::Const(Const::Bool(true)),
            (Ty::I64, _) => self.binop(M::ICmp(Cmp::Eq), a[0].clone(), b[0].clone(), loc),
            (Ty::F64, _) => self.binop(M::FCmp(Cmp::Eq), a[0].clone(), b[0].clone(), loc),
            (Ty::Bool, _) => self.binop(M::BoolEq, a[0].clone(), b[0].clone(), loc),
            (Ty::Str, _) => self.runtime(Rt::StrEq, vec![a[0].clone(), b[0].clone()], loc),
            (Ty::Adt(adt), _) if adt.kind() == AdtKind::Class => self.binop(M::RefEq, a[0].clone(), b[0].clone(), loc),
            (Ty::Adt(adt), _) if adt.kind() == AdtKind::Enum && !self.layouts.adt_def(adt).has_payload() => {
                self.binop(M::ICmp(Cmp::Eq), a[0].clone(), b[0].clone(), loc)
            }
            _ => {
                // Everything else the runtime compares, described by type.
                let leaves = self.layouts.leaves(lt);
                let info = Operand::Const(Const::Data(self.layouts.type_info(lt)));
                let x = self.boxed(&leaves, a.to_vec(), loc);
                let y = self.boxed(&leaves, b.to_vec(), loc);
                self.runtime(Rt::ValuesEqual, vec![info, x, y], loc)
            }
        }
    }

    /// `a and b` / `a or b`: `b` runs only when it decides the result.
    fn short_circuit(&mut self, is_and: bool, lhs: &Expr, rhs: &Expr, loc: Loc) -> Operand {
        let result = self.temp(mir::Ty::Bool);
        let a = self.scalar(lhs);
        self.push(StmtKind::Assign(result, Rvalue::Use(a.clone())), loc);
        let (rhs_block, join) = (self.new_block(), self.new_block());
        let (then_block, else_block) = if is_and { (rhs_block, join) } else { (join, rhs_block) };
        self.terminate_into(Terminator::Branch { cond: a, then_block, else_block }, loc, rhs_block);
        let b = self.scalar(rhs);
        self.push(StmtKind::Assign(result, Rvalue::Use(b)), loc);
        self.terminate_into(Terminator::Goto(join), loc, join);
        Operand::Local(result)
    }

    fn chain(&mut self, operands: &[Expr], ops: &[(BinOp, RelSpan)]) -> Operand {
        let result = self.temp(mir::Ty::Bool);
        let join = self.new_block();
        let mut left = self.expr(&operands[0]);
        for (i, (op, span)) in ops.iter().enumerate() {
            let loc = self.loc(*span);
            let right = self.expr(&operands[i + 1]);
            // Keep the middle operand in locals: it is used twice.
            let right = if right.iter().all(|o| matches!(o, Operand::Const(_))) {
                right
            } else {
                self.stable(&operands[i + 1].ty, right, loc)
            };
            let c = self.binary(*op, &operands[i].ty, &operands[i + 1].ty, left, right.clone(), loc);
            self.push(StmtKind::Assign(result, Rvalue::Use(c.clone())), loc);
            if i + 1 < ops.len() {
                let next = self.new_block();
                self.terminate_into(Terminator::Branch { cond: c, then_block: next, else_block: join }, loc, next);
            }
            left = right;
        }
        self.terminate_into(Terminator::Goto(join), Loc::default(), join);
        Operand::Local(result)
    }

    /// Lowers `block` and assigns its tail (if it gives one) to `result`,
    /// then jumps to `join`.
    fn branch_into(&mut self, block: &Block, result: &[Local], join: BlockId) {
        let v = self.block(block);
        if let Some(v) = v
            && block.tail.as_ref().is_some_and(|t| t.ty != Ty::Never)
        {
            let loc = self.end_loc(block);
            self.assign_all(result, v, loc);
        }
        self.terminate_into(Terminator::Goto(join), Loc::default(), join);
    }

    fn if_expr(&mut self, e: &Expr, branches: &[(Expr, Block)], else_block: Option<&Block>) -> Value {
        let result = self.temps(&e.ty);
        let join = self.new_block();
        for (cond, block) in branches {
            let loc = self.loc(cond.span);
            let c = self.scalar(cond);
            let (then_block, next) = (self.new_block(), self.new_block());
            self.terminate_into(Terminator::Branch { cond: c, then_block, else_block: next }, loc, then_block);
            self.branch_into(block, &result, join);
            self.current = next;
        }
        match else_block {
            Some(block) => self.branch_into(block, &result, join),
            None => self.terminate_into(Terminator::Goto(join), Loc::default(), join),
        }
        self.current = join;
        if e.ty == Ty::Never {
            self.terminate(Terminator::Trap(TrapCode::Unreachable), Loc::default());
        }
        result.into_iter().map(Operand::Local).collect()
    }

    /// Tries the arms in order: the first whose pattern matches and whose
    /// guard holds runs. The type checker proved some arm matches.
    fn match_expr(&mut self, e: &Expr, scrutinee: &Expr, arms: &[Arm]) -> Value {
        let loc = self.loc(scrutinee.span);
        let value = self.expr(scrutinee);
        let value = self.stable(&scrutinee.ty, value, loc);
        let result = self.temps(&e.ty);
        let join = self.new_block();
        for arm in arms {
            let next = self.new_block();
            self.test(&arm.pattern, &scrutinee.ty, &value, next, loc);
            if let Some(guard) = &arm.guard {
                let g = self.scalar(guard);
                let body = self.new_block();
                let gloc = self.loc(guard.span);
                self.terminate_into(Terminator::Branch { cond: g, then_block: body, else_block: next }, gloc, body);
            }
            self.branch_into(&arm.body, &result, join);
            self.current = next;
        }
        self.terminate_into(Terminator::Trap(TrapCode::Unreachable), loc, join);
        if e.ty == Ty::Never {
            self.terminate(Terminator::Trap(TrapCode::Unreachable), Loc::default());
        }
        result.into_iter().map(Operand::Local).collect()
    }

    /// Continues in the current block if `value` (of type `ty`) matches
    /// `pat`, binding its names; jumps to `fail` if not.
    fn test(&mut self, pat: &Pat, ty: &Ty, value: &[Operand], fail: BlockId, loc: Loc) {
        let check = |cx: &mut Self, cond: Operand| {
            let ok = cx.new_block();
            cx.terminate_into(Terminator::Branch { cond, then_block: ok, else_block: fail }, loc, ok);
        };
        match pat {
            Pat::Wild => {}
            Pat::Bind(l) => {
                let dests = self.locals[l.0 as usize].clone();
                self.assign_all(&dests, value.to_vec(), loc);
            }
            Pat::Const(c) => {
                let eq = self.equal(ty, ty, value, &scalar_const(c), loc);
                check(self, eq);
            }
            Pat::Range { lo, hi, inclusive } => {
                let x = value[0].clone();
                let above = self.binop(mir::BinOp::ICmp(Cmp::Ge), x.clone(), Operand::Const(Const::I64(*lo)), loc);
                check(self, above);
                let c = if *inclusive { Cmp::Le } else { Cmp::Lt };
                let below = self.binop(mir::BinOp::ICmp(c), x, Operand::Const(Const::I64(*hi)), loc);
                check(self, below);
            }
            Pat::Record(fields) => {
                let field_tys = self.layouts.field_types(ty);
                for (index, sub) in fields {
                    let range = self.layouts.field_range(ty, *index);
                    let fty = field_tys.get(*index as usize).cloned().unwrap_or(Ty::Error);
                    let v = match ty {
                        Ty::Adt(adt) if adt.kind() == AdtKind::Class => {
                            let leaves = self.layouts.leaves(&fty);
                            self.load_slots(&value[0], range.start, &leaves, loc)
                        }
                        _ => value[range].to_vec(),
                    };
                    self.test(sub, &fty, &v, fail, loc);
                }
            }
            Pat::Variant { index, fields } => {
                let is = self.binop(
                    mir::BinOp::ICmp(Cmp::Eq),
                    value[0].clone(),
                    Operand::Const(Const::I64(i64::from(*index))),
                    loc,
                );
                check(self, is);
                let Ty::Adt(adt) = ty else { return };
                let tys = self.layouts.variant_types(adt, *index);
                let mut start = 0;
                let mut ranges = Vec::new();
                for t in &tys {
                    let n = self.layouts.leaves(t).len();
                    ranges.push(start..start + n);
                    start += n;
                }
                for (i, sub) in fields {
                    let (Some(fty), Some(range)) = (tys.get(*i as usize), ranges.get(*i as usize)) else { continue };
                    let leaves = self.layouts.leaves(fty);
                    let v = self.load_slots(&value[1], range.start, &leaves, loc);
                    self.test(sub, fty, &v, fail, loc);
                }
            }
            Pat::Nil | Pat::Some(_) => {
                let Ty::Optional(inner) = ty else { return };
                let (present, v) = self.unpack_optional(inner, value, loc);
                match pat {
                    Pat::Nil => {
                        let absent = self.not(present, loc);
                        check(self, absent);
                    }
                    Pat::Some(sub) => {
                        check(self, present);
                        self.test(sub, inner, &v, fail, loc);
                    }
                    _ => {}
                }
            }
            Pat::Or(alternatives) => {
                let matched = self.new_block();
                for (i, alt) in alternatives.iter().enumerate() {
                    let next = if i + 1 == alternatives.len() { fail } else { self.new_block() };
                    self.test(alt, ty, value, next, loc);
                    self.terminate_into(Terminator::Goto(matched), loc, next);
                }
                self.current = matched;
            }
        }
    }

    fn builtin(&mut self, builtin: Builtin, args: &[Expr], loc: Loc) -> Value {
        if builtin == Builtin::Assert {
            self.assert(args, loc);
            return Vec::new();
        }
        let vals: Vec<Value> = args.iter().map(|a| self.expr(a)).collect();
        let arg_ty = args.first().map_or(Ty::Nil, |a| a.ty.clone());
        let first =
            |vals: &[Value]| vals.first().and_then(|v| v.first()).cloned().unwrap_or(Operand::Const(Const::Nil));
        let v = match builtin {
            Builtin::Print { newline, stderr } => {
                let stream = Operand::Const(Const::I64(if stderr { 2 } else { 1 }));
                for (i, (v, a)) in vals.into_iter().zip(args).enumerate() {
                    if i > 0 {
                        self.runtime(Rt::PrintStr, vec![stream.clone(), Self::str_const(" ")], loc);
                    }
                    self.print(stream.clone(), &a.ty, v, loc);
                }
                if newline {
                    self.runtime(Rt::PrintStr, vec![stream, Self::str_const("\n")], loc);
                }
                return Vec::new();
            }
            Builtin::Str => return vec![self.stringify(&arg_ty, vals.into_iter().next().unwrap_or_default(), loc)],
            Builtin::Assert => unreachable!("lowered by `assert`"),
            Builtin::Exit => {
                self.runtime(Rt::Exit, vec![first(&vals)], loc);
                self.terminate(Terminator::Trap(TrapCode::Unreachable), loc);
                return Vec::new();
            }
            Builtin::Abs => {
                let (op, ty) =
                    if arg_ty == Ty::F64 { (mir::UnOp::FAbs, mir::Ty::F64) } else { (mir::UnOp::IAbs, mir::Ty::I64) };
                self.assign_temp(ty, Rvalue::Unary(op, first(&vals)), loc)
            }
            Builtin::Min | Builtin::Max => {
                let op = match (builtin == Builtin::Min, arg_ty == Ty::F64) {
                    (true, true) => mir::BinOp::FMin,
                    (true, false) => mir::BinOp::IMin,
                    (false, true) => mir::BinOp::FMax,
                    (false, false) => mir::BinOp::IMax,
                };
                let b = vals.get(1).and_then(|v| v.first()).cloned().unwrap_or(Operand::Const(Const::Nil));
                self.binop(op, first(&vals), b, loc)
            }
            Builtin::Sqrt | Builtin::Floor | Builtin::Ceil => {
                let i = match builtin {
                    Builtin::Sqrt => mir::Intrinsic::Sqrt,
                    Builtin::Floor => mir::Intrinsic::Floor,
                    _ => mir::Intrinsic::Ceil,
                };
                self.assign_temp(mir::Ty::F64, Rvalue::Intrinsic(i, vec![first(&vals)]), loc)
            }
            Builtin::Clock => self.runtime(Rt::Clock, Vec::new(), loc),
            Builtin::Args => self.runtime(Rt::Args, Vec::new(), loc),
            Builtin::ReadLine => self.runtime(Rt::ReadLine, Vec::new(), loc),
            Builtin::ReadFile => {
                let text = self.runtime(Rt::ReadFile, vec![first(&vals)], loc);
                let null = self.assign_temp(mir::Ty::Bool, Rvalue::Unary(mir::UnOp::IsNull, text.clone()), loc);
                let ok = self.not(null, loc);
                self.trap_unless(ok, TrapCode::IoError, loc);
                text
            }
            Builtin::WriteFile => {
                let text = vals.get(1).and_then(|v| v.first()).cloned().unwrap_or(Operand::Const(Const::Nil));
                let ok = self.runtime(Rt::WriteFile, vec![first(&vals), text], loc);
                self.trap_unless(ok, TrapCode::IoError, loc);
                return Vec::new();
            }
        };
        vec![v]
    }

    /// A method of a built-in type.
    fn method(&mut self, method: Method, args: &[Expr], ty: &Ty, loc: Loc) -> Value {
        use Method as M;
        let recv_ty = args[0].ty.clone();
        let mut vals: Vec<Value> = args.iter().map(|a| self.expr(a)).collect();
        let recv = vals[0][0].clone();
        let arg = |vals: &mut Vec<Value>, i: usize| std::mem::take(&mut vals[i]);
        let one = |v: Operand| vec![v];
        match method {
            M::ListLen => one(self.list_len(recv, loc)),
            M::ListPush => {
                let v = arg(&mut vals, 1);
                let recv = self.stable_ref(recv, loc);
                let at = self.runtime(Rt::ListGrow, vec![recv.clone()], loc);
                let addr = self.element_at(&recv_ty, recv, at, loc);
                self.store(&addr, v, loc);
                Vec::new()
            }
            M::ListPop => {
                let recv = self.stable_ref(recv, loc);
                let len = self.list_len(recv.clone(), loc);
                let nonempty = self.binop(mir::BinOp::ICmp(Cmp::Gt), len.clone(), Operand::Const(Const::I64(0)), loc);
                self.trap_unless(nonempty, TrapCode::IndexOutOfBounds, loc);
                let last = self.binop(mir::BinOp::ISub, len, Operand::Const(Const::I64(1)), loc);
                let addr = self.element_at(&recv_ty, recv.clone(), last.clone(), loc);
                let leaves = self.layouts.leaves(ty);
                let value = self.load(&addr, &leaves, loc);
                // Elements past the length stay zero.
                self.store(&addr, leaves.into_iter().map(zero).collect(), loc);
                let len_addr = mir::Addr { base: recv, index: None, offset: list_layout::LEN_OFFSET };
                self.push(StmtKind::Store(len_addr, last), loc);
                value
            }
            M::ListInsert => {
                let (i, v) = (arg(&mut vals, 1), arg(&mut vals, 2));
                let recv = self.stable_ref(recv, loc);
                let at = self.runtime(Rt::ListInsert, vec![recv.clone(), i[0].clone()], loc);
                let addr = self.element_at(&recv_ty, recv, at, loc);
                self.store(&addr, v, loc);
                Vec::new()
            }
            M::ListRemove => {
                let recv = self.stable_ref(recv, loc);
                let i = self.checked_index(recv.clone(), vals[1][0].clone(), loc);
                let addr = self.element_at(&recv_ty, recv.clone(), i.clone(), loc);
                let value = self.load(&addr, &self.layouts.leaves(ty), loc);
                self.runtime(Rt::ListRemove, vec![recv, i], loc);
                value
            }
            M::ListContains => {
                let elem = element_ty(&recv_ty);
                let info = Operand::Const(Const::Data(self.layouts.type_info(&elem)));
                let boxed = self.boxed(&self.layouts.leaves(&elem), arg(&mut vals, 1), loc);
                one(self.runtime(Rt::ListContains, vec![info, recv, boxed], loc))
            }
            M::DictLen => {
                let addr = mir::Addr { base: recv, index: None, offset: dict_layout::LEN_OFFSET };
                one(self.assign_temp(mir::Ty::I64, Rvalue::Load(mir::Ty::I64, addr), loc))
            }
            M::DictContains => {
                let (rt, key) = self.dict_key(&recv_ty, arg(&mut vals, 1), false, loc);
                let entry = self.runtime(rt, vec![recv, key], loc);
                one(self.binop(mir::BinOp::ICmp(Cmp::Ge), entry, Operand::Const(Const::I64(0)), loc))
            }
            M::DictGet => {
                let Ty::Optional(inner) = ty else { return Vec::new() };
                let recv = self.stable_ref(recv, loc);
                let (rt, key) = self.dict_key(&recv_ty, arg(&mut vals, 1), false, loc);
                let entry = self.runtime(rt, vec![recv.clone(), key], loc);
                let found = self.binop(mir::BinOp::ICmp(Cmp::Ge), entry.clone(), Operand::Const(Const::I64(0)), loc);
                let result = self.temps(ty);
                let (yes, no, join) = (self.new_block(), self.new_block(), self.new_block());
                self.terminate_into(Terminator::Branch { cond: found, then_block: yes, else_block: no }, loc, yes);
                let addr = self.dict_value_addr(&recv_ty, recv, entry, loc);
                let value = self.load(&addr, &self.layouts.leaves(inner), loc);
                let some = self.some_value(inner, value);
                self.assign_all(&result, some, loc);
                self.terminate_into(Terminator::Goto(join), loc, no);
                let nil = self.nil_value(inner);
                self.assign_all(&result, nil, loc);
                self.terminate_into(Terminator::Goto(join), loc, join);
                result.into_iter().map(Operand::Local).collect()
            }
            M::DictRemove => {
                let recv = self.stable_ref(recv, loc);
                let entry = self.dict_entry(&recv_ty, recv.clone(), arg(&mut vals, 1), false, loc);
                let addr = self.dict_value_addr(&recv_ty, recv.clone(), entry.clone(), loc);
                let value = self.load(&addr, &self.layouts.leaves(ty), loc);
                self.runtime(Rt::DictRemoveAt, vec![recv, entry], loc);
                value
            }
            M::DictKeys | M::DictValues | M::DictItems => {
                let Ty::Dict(kv) = &recv_ty else { return Vec::new() };
                let value_slots = self.layouts.leaves(&kv.1).len();
                let (first, count) = match method {
                    M::DictKeys => (dict_layout::KEY_SLOT, 1),
                    M::DictValues => (dict_layout::VALUE_SLOT, value_slots),
                    _ => (dict_layout::KEY_SLOT, 1 + value_slots),
                };
                let desc = self.items_desc(&element_ty(ty));
                let (first, count) =
                    (Operand::Const(Const::I64(first as i64)), Operand::Const(Const::I64(count as i64)));
                one(self.runtime(Rt::DictProject, vec![recv, first, count, desc], loc))
            }
            M::StrLen => one(self.runtime(Rt::StrLen, vec![recv], loc)),
            _ => self.str_method(method, vals, ty, loc),
        }
    }

    /// A method of `str` other than `len`.
    fn str_method(&mut self, method: Method, vals: Vec<Value>, ty: &Ty, loc: Loc) -> Value {
        use Method as M;
        let args: Vec<Operand> = vals.into_iter().map(|v| v[0].clone()).collect();
        let rt = match method {
            M::StrContains => Rt::StrContains,
            M::StrStartsWith => Rt::StrStartsWith,
            M::StrEndsWith => Rt::StrEndsWith,
            M::StrJoin => Rt::StrJoin,
            M::StrTrim => Rt::StrTrim,
            M::StrToUpper => Rt::StrToUpper,
            M::StrToLower => Rt::StrToLower,
            M::StrReplace => Rt::StrReplace,
            M::StrChars => Rt::StrChars,
            M::StrSplitWhitespace => Rt::StrSplitWhitespace,
            M::StrRepeat => Rt::StrRepeat,
            M::StrFind => {
                let at = self.runtime(Rt::StrFind, args, loc);
                let found = self.binop(mir::BinOp::ICmp(Cmp::Ge), at.clone(), Operand::Const(Const::I64(0)), loc);
                return vec![found, at];
            }
            M::StrSplit => {
                let parts = self.runtime(Rt::StrSplit, args, loc);
                let null = self.assign_temp(mir::Ty::Bool, Rvalue::Unary(mir::UnOp::IsNull, parts.clone()), loc);
                let ok = self.not(null, loc);
                self.trap_unless(ok, TrapCode::EmptySeparator, loc);
                return vec![parts];
            }
            M::StrToInt | M::StrToFloat => {
                let (is, to) =
                    if method == M::StrToInt { (Rt::StrIsInt, Rt::StrToInt) } else { (Rt::StrIsFloat, Rt::StrToFloat) };
                let ok = self.runtime(is, args.clone(), loc);
                let value = self.runtime(to, args, loc);
                return vec![ok, value];
            }
            // `method` lowers the other methods itself.
            _ => return self.layouts.leaves(ty).into_iter().map(zero).collect(),
        };
        vec![self.runtime(rt, args, loc)]
    }

    /// `s[i]`: the character at a character index (negative from the end).
    fn str_char_at(&mut self, s: Operand, index: Operand, loc: Loc) -> Operand {
        let c = self.runtime(Rt::StrCharAt, vec![s, index], loc);
        let null = self.assign_temp(mir::Ty::Bool, Rvalue::Unary(mir::UnOp::IsNull, c.clone()), loc);
        let ok = self.not(null, loc);
        self.trap_unless(ok, TrapCode::IndexOutOfBounds, loc);
        c
    }

    /// The address of element `index` (already checked) of a list.
    fn element_at(&mut self, list_ty: &Ty, list: Operand, index: Operand, loc: Loc) -> mir::Addr {
        let items = self.assign_temp(mir::Ty::Ref, Rvalue::Load(mir::Ty::Ref, items_addr(list)), loc);
        element_slot(items, index, self.layouts.leaves(&element_ty(list_ty)).len())
    }

    /// Prints one value of any type to `stream`.
    fn print(&mut self, stream: Operand, ty: &Ty, v: Value, loc: Loc) {
        let (rt, args) = match ty {
            Ty::I64 => (Rt::PrintI64, vec![stream, v[0].clone()]),
            Ty::F64 => (Rt::PrintF64, vec![stream, v[0].clone()]),
            Ty::Bool => (Rt::PrintBool, vec![stream, v[0].clone()]),
            Ty::Str => (Rt::PrintStr, vec![stream, v[0].clone()]),
            Ty::Nil | Ty::Never | Ty::Error => (Rt::PrintNil, vec![stream]),
            _ => {
                let leaves = self.layouts.leaves(ty);
                let info = Operand::Const(Const::Data(self.layouts.type_info(ty)));
                let boxed = self.boxed(&leaves, v, loc);
                (Rt::PrintValue, vec![stream, info, boxed])
            }
        };
        self.runtime(rt, args, loc);
    }

    /// `str(x)` for a value of any type.
    fn stringify(&mut self, ty: &Ty, v: Value, loc: Loc) -> Operand {
        match ty {
            Ty::I64 => self.runtime(Rt::StrFromI64, v, loc),
            Ty::F64 => self.runtime(Rt::StrFromF64, v, loc),
            Ty::Bool => self.runtime(Rt::StrFromBool, v, loc),
            Ty::Str => v[0].clone(),
            Ty::Nil | Ty::Never | Ty::Error => Self::str_const("nil"),
            _ => {
                let leaves = self.layouts.leaves(ty);
                let info = Operand::Const(Const::Data(self.layouts.type_info(ty)));
                let boxed = self.boxed(&leaves, v, loc);
                self.runtime(Rt::StrValue, vec![info, boxed], loc)
            }
        }
    }

    /// `assert(cond, msg)`: the message is built only when the assert fails.
    fn assert(&mut self, args: &[Expr], loc: Loc) {
        let cond = self.scalar(&args[0]);
        let (fail, ok) = (self.new_block(), self.new_block());
        self.terminate_into(Terminator::Branch { cond, then_block: ok, else_block: fail }, loc, fail);
        if let Some(msg) = args.get(1) {
            let msg = self.scalar(msg);
            self.runtime(Rt::AssertMessage, vec![msg], loc);
        }
        self.terminate_into(Terminator::Trap(TrapCode::AssertionFailed), loc, ok);
    }
}

/// The element type of a list type.
fn element_ty(ty: &Ty) -> Ty {
    match ty {
        Ty::List(t) => (**t).clone(),
        Ty::Dict(kv) => kv.1.clone(),
        _ => Ty::Error,
    }
}

/// Where a list keeps the reference to its items array.
fn items_addr(list: Operand) -> mir::Addr {
    mir::Addr { base: list, index: None, offset: list_layout::ITEMS_OFFSET }
}

/// The first slot of element `index` of an array of `slots`-slot elements.
fn element_slot(array: Operand, index: Operand, slots: usize) -> mir::Addr {
    mir::Addr { base: array, index: Some((index, 8 * slots as u32)), offset: heap_layout::ARRAY_ELEMS_OFFSET as i32 }
}

/// The address of slot `slot` of a record.
fn slot_addr(object: Operand, slot: usize) -> mir::Addr {
    mir::Addr { base: object, index: None, offset: heap_layout::record_slot_offset(slot as u32) as i32 }
}
