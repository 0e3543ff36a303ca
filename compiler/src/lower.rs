//! Lowering: typed HIR of one function → MIR.
//!
//! Assumes the HIR has no errors (callers check `FnHir::has_errors`).
//! Guarantees a MIR body that passes `simple_mir::verify`: every block is
//! terminated, every operation has operands of its contracted types, and
//! language semantics (short-circuiting, evaluation order, loop bounds
//! evaluated once, chained comparisons evaluating middle operands once) are
//! explicit in the control flow.

use simple_abi::{Rt, TrapCode};
use simple_mir::{self as mir, BlockData, BlockId, Cmp, Const, Loc, Local, Operand, Rvalue, StmtKind, Terminator};
use simple_syntax::ast::{BinOp, UnaryOp};

use crate::consts::ConstValue;
use crate::diagnostics::RelSpan;
use crate::hir::{Block, Builtin, Expr, ExprKind, FnHir, ParamValue, Stmt, Ty};
use crate::items::FnSource;
use crate::line_index::LineIndex;

pub fn lower_fn(hir: &FnHir, source: &FnSource) -> mir::Body {
    let parts = source.parts.iter().map(|p| (LineIndex::new(&p.text), p.text.as_str(), p.line_delta)).collect();
    let locals =
        hir.locals.iter().map(|l| mir::LocalDecl { ty: machine_ty(l.ty), name: Some(l.name.clone()) }).collect();
    let mut cx = Lower {
        parts,
        body: mir::Body {
            symbol: hir.name.clone(),
            param_count: hir.param_count,
            rets: leaf(hir.ret).into_iter().collect(),
            locals,
            blocks: Vec::new(),
        },
        current: BlockId(0),
        blocks: Vec::new(),
        loops: Vec::new(),
    };
    cx.current = cx.new_block();
    if let Some(status) = hir.exit_status {
        // A script that never executes `main = ...` exits with 0.
        cx.push(StmtKind::Assign(Local(status.0), Rvalue::Use(Operand::Const(Const::I64(0)))), Loc::default());
    }
    let tail = cx.block(&hir.body);
    let end = cx.end_loc(&hir.body);
    let ret = match (hir.exit_status, hir.ret) {
        (Some(status), _) => Terminator::Return(vec![Operand::Local(Local(status.0))]),
        (None, Ty::Nil | Ty::Error | Ty::Never) => Terminator::Return(Vec::new()),
        (None, _) => match tail {
            // A tail of another type sits in dead code after a `return`.
            Some(value) if hir.body.tail.as_ref().is_some_and(|t| t.ty == hir.ret) => Terminator::Return(vec![value]),
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
    }
}

fn const_operand(c: &ConstValue) -> Operand {
    Operand::Const(match c {
        ConstValue::I64(v) => Const::I64(*v),
        ConstValue::F64(bits) => Const::F64(bits.0),
        ConstValue::Bool(b) => Const::Bool(*b),
        ConstValue::Str(s) => Const::Str(s.clone()),
        ConstValue::Nil => Const::Nil,
    })
}

/// The machine type of a value of a scalar type; `None` for `nil`.
fn leaf(ty: Ty) -> Option<mir::Ty> {
    Some(machine_ty(ty)).filter(|t| *t != mir::Ty::Nil)
}

fn machine_ty(ty: Ty) -> mir::Ty {
    match ty {
        Ty::I64 => mir::Ty::I64,
        Ty::F64 => mir::Ty::F64,
        Ty::Bool => mir::Ty::Bool,
        Ty::Str => mir::Ty::Str,
        Ty::Nil | Ty::Never | Ty::Error => mir::Ty::Nil,
    }
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
}

impl Lower<'_> {
    fn loc(&self, span: RelSpan) -> Loc {
        match self.parts.get(span.part as usize) {
            Some((index, text, delta)) => {
                let (line, col) = index.line_col(text, span.span.start);
                Loc { line: delta + line, col: col + 1 }
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

    fn temp(&mut self, ty: mir::Ty) -> Local {
        let id = Local(self.body.locals.len() as u32);
        self.body.locals.push(mir::LocalDecl { ty, name: None });
        id
    }

    fn block(&mut self, block: &Block) -> Option<Operand> {
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        block.tail.as_ref().map(|t| self.expr(t))
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Let { local, init } | Stmt::Assign { local, value: init } => {
                let value = self.expr(init);
                if machine_ty(init.ty) != mir::Ty::Nil && self.body.local_ty(Local(local.0)) != mir::Ty::Nil {
                    let loc = self.loc(init.span);
                    self.push(StmtKind::Assign(Local(local.0), Rvalue::Use(value)), loc);
                }
            }
            Stmt::Expr(e) => {
                self.expr(e);
            }
            Stmt::Return { value, span } => {
                let v = value.as_ref().map(|v| self.expr(v));
                let v = if self.body.rets.is_empty() { Vec::new() } else { v.into_iter().collect() };
                let loc = self.loc(*span);
                self.terminate(Terminator::Return(v), loc);
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
                let c = self.expr(cond);
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
                self.for_range(Local(var.0), start, end, step.as_ref(), *inclusive, body)
            }
        }
    }

    fn for_range(&mut self, var: Local, start: &Expr, end: &Expr, step: Option<&Expr>, inclusive: bool, body: &Block) {
        let loc = self.loc(start.span);
        let start_v = self.expr(start);
        let end_v = self.expr(end);
        let end_t = self.temp(mir::Ty::I64);
        self.push(StmtKind::Assign(end_t, Rvalue::Use(end_v)), loc);
        let step_t = step.map(|s| {
            let v = self.expr(s);
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
        self.block(body);
        self.loops.pop();
        self.terminate_into(Terminator::Goto(incr), loc, incr);
        if inclusive && step_t.is_none() {
            // `i == end` ends the loop before `i + 1` could overflow.
            let at_end = self.binop(mir::BinOp::ICmp(Cmp::Eq), var_op.clone(), end_op, loc);
            let bump = self.new_block();
            self.terminate_into(Terminator::Branch { cond: at_end, then_block: exit, else_block: bump }, loc, bump);
        }
        let step_op = step_t.map_or(Operand::Const(Const::I64(1)), Operand::Local);
        self.push(StmtKind::Assign(var, Rvalue::Binary(mir::BinOp::IAdd, var_op, step_op)), loc);
        self.terminate_into(Terminator::Goto(header), loc, exit);
    }

    /// Emits `tmp = op(a, b)` and returns `tmp`.
    fn binop(&mut self, op: mir::BinOp, a: Operand, b: Operand, loc: Loc) -> Operand {
        use mir::BinOp::*;
        let ty = match op {
            ICmp(_) | FCmp(_) | BoolEq | BoolNe => mir::Ty::Bool,
            FAdd | FSub | FMul | FDiv | FRem | FFloorDiv | FPow | FMin | FMax => mir::Ty::F64,
            _ => mir::Ty::I64,
        };
        self.assign_temp(ty, Rvalue::Binary(op, a, b), loc)
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
        let ty = match rt.info().ret {
            None => mir::Ty::Nil,
            Some(simple_abi::AbiType::I64) => mir::Ty::I64,
            Some(simple_abi::AbiType::F64) => mir::Ty::F64,
            Some(simple_abi::AbiType::Bool) => mir::Ty::Bool,
            Some(simple_abi::AbiType::Ptr) => mir::Ty::Str,
        };
        self.assign_temp(ty, Rvalue::Runtime(rt, args), loc)
    }

    fn str_const(text: &str) -> Operand {
        Operand::Const(Const::Str(text.to_string()))
    }

    fn expr(&mut self, e: &Expr) -> Operand {
        let loc = self.loc(e.span);
        match &e.kind {
            ExprKind::Const(c) => const_operand(c),
            ExprKind::Local(l) => {
                if self.body.local_ty(Local(l.0)) == mir::Ty::Nil {
                    Operand::Const(Const::Nil)
                } else {
                    Operand::Local(Local(l.0))
                }
            }
            ExprKind::Call { symbol, args, params } => {
                let written: Vec<(Operand, Ty)> = args.iter().map(|a| (self.expr(a), a.ty)).collect();
                let args: Vec<Operand> = params
                    .iter()
                    .filter_map(|p| {
                        let (v, ty) = match p {
                            ParamValue::Arg(i) => written[*i].clone(),
                            ParamValue::Default(c) => (const_operand(c), c.ty()),
                        };
                        (machine_ty(ty) != mir::Ty::Nil).then_some(v)
                    })
                    .collect();
                let dests: Vec<Local> = leaf(e.ty.clone()).into_iter().map(|t| self.temp(t)).collect();
                let v = dests.first().map_or(Operand::Const(Const::Nil), |d| Operand::Local(*d));
                self.push(StmtKind::Call { dests, symbol: symbol.clone(), args }, loc);
                if e.ty == Ty::Never {
                    self.terminate(Terminator::Trap(TrapCode::Unreachable), loc);
                }
                v
            }
            ExprKind::Builtin { builtin, args } => self.builtin(*builtin, args, loc),
            ExprKind::Binary { op, op_span, lhs, rhs } => {
                let op_loc = self.loc(*op_span);
                match op {
                    BinOp::And | BinOp::Or => self.short_circuit(*op == BinOp::And, lhs, rhs, op_loc),
                    _ => {
                        let a = self.expr(lhs);
                        let b = self.expr(rhs);
                        self.binary(*op, lhs.ty, a, b, op_loc)
                    }
                }
            }
            ExprKind::Chain { operands, ops } => self.chain(operands, ops),
            ExprKind::Unary { op, operand } => {
                let v = self.expr(operand);
                let (un, ty) = match (op, operand.ty) {
                    (UnaryOp::Neg, Ty::F64) => (mir::UnOp::FNeg, mir::Ty::F64),
                    (UnaryOp::Neg, _) => (mir::UnOp::INeg, mir::Ty::I64),
                    (UnaryOp::Not, _) => (mir::UnOp::Not, mir::Ty::Bool),
                    (UnaryOp::BitNot, _) => (mir::UnOp::INot, mir::Ty::I64),
                };
                self.assign_temp(ty, Rvalue::Unary(un, v), loc)
            }
            ExprKind::Cast { expr } => {
                let v = self.expr(expr);
                let kind = match (expr.ty, e.ty) {
                    (Ty::I64, Ty::F64) => mir::CastKind::IntToFloat,
                    (Ty::F64, Ty::I64) => mir::CastKind::FloatToInt,
                    (Ty::Bool, Ty::I64) => mir::CastKind::BoolToInt,
                    _ => return v,
                };
                self.assign_temp(machine_ty(e.ty), Rvalue::Cast(kind, v), loc)
            }
            ExprKind::If { branches, else_block } => self.if_expr(e, branches, else_block.as_ref()),
            ExprKind::Interp(parts) => {
                let mut acc: Option<Operand> = None;
                for part in parts {
                    let v = self.expr(part);
                    acc = Some(match acc {
                        None => v,
                        Some(prev) => self.runtime(Rt::StrConcat, vec![prev, v], loc),
                    });
                }
                acc.unwrap_or_else(|| Self::str_const(""))
            }
            ExprKind::Error => Operand::Const(Const::Nil),
        }
    }

    fn binary(&mut self, op: BinOp, ty: Ty, a: Operand, b: Operand, loc: Loc) -> Operand {
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
        match (ty, cmp) {
            (Ty::I64, Some(c)) => self.binop(M::ICmp(c), a, b, loc),
            (Ty::F64, Some(c)) => self.binop(M::FCmp(c), a, b, loc),
            (Ty::Bool, Some(Cmp::Eq)) => self.binop(M::BoolEq, a, b, loc),
            (Ty::Bool, Some(_)) => self.binop(M::BoolNe, a, b, loc),
            (Ty::Str, Some(Cmp::Eq)) => self.runtime(Rt::StrEq, vec![a, b], loc),
            (Ty::Str, Some(Cmp::Ne)) => {
                let eq = self.runtime(Rt::StrEq, vec![a, b], loc);
                self.assign_temp(mir::Ty::Bool, Rvalue::Unary(mir::UnOp::Not, eq), loc)
            }
            (Ty::Str, Some(c)) => {
                let ord = self.runtime(Rt::StrCmp, vec![a, b], loc);
                self.binop(M::ICmp(c), ord, Operand::Const(Const::I64(0)), loc)
            }
            (_, Some(c)) => Operand::Const(Const::Bool(c == Cmp::Eq)),
            (Ty::Str, None) => self.runtime(Rt::StrConcat, vec![a, b], loc),
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

    /// `a and b` / `a or b`: `b` runs only when it decides the result.
    fn short_circuit(&mut self, is_and: bool, lhs: &Expr, rhs: &Expr, loc: Loc) -> Operand {
        let result = self.temp(mir::Ty::Bool);
        let a = self.expr(lhs);
        self.push(StmtKind::Assign(result, Rvalue::Use(a.clone())), loc);
        let (rhs_block, join) = (self.new_block(), self.new_block());
        let (then_block, else_block) = if is_and { (rhs_block, join) } else { (join, rhs_block) };
        self.terminate_into(Terminator::Branch { cond: a, then_block, else_block }, loc, rhs_block);
        let b = self.expr(rhs);
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
            // Keep the middle operand in a local: it is used twice.
            let right = match right {
                Operand::Const(_) => right,
                Operand::Local(_) => {
                    let ty = machine_ty(operands[i + 1].ty);
                    self.assign_temp(ty, Rvalue::Use(right), loc)
                }
            };
            let c = self.binary(*op, operands[i].ty, left, right.clone(), loc);
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

    fn if_expr(&mut self, e: &Expr, branches: &[(Expr, Block)], else_block: Option<&Block>) -> Operand {
        let ty = machine_ty(e.ty);
        let result = (ty != mir::Ty::Nil).then(|| self.temp(ty));
        let join = self.new_block();
        let assign_tail = |cx: &mut Self, block: &Block| {
            let v = cx.block(block);
            if let (Some(r), Some(v)) = (result, v)
                && block.tail.as_ref().is_some_and(|t| t.ty != Ty::Never)
            {
                let loc = cx.end_loc(block);
                cx.push(StmtKind::Assign(r, Rvalue::Use(v)), loc);
            }
            cx.terminate_into(Terminator::Goto(join), Loc::default(), join);
        };
        for (cond, block) in branches {
            let loc = self.loc(cond.span);
            let c = self.expr(cond);
            let (then_block, next) = (self.new_block(), self.new_block());
            self.terminate_into(Terminator::Branch { cond: c, then_block, else_block: next }, loc, then_block);
            assign_tail(self, block);
            self.current = next;
        }
        match else_block {
            Some(block) => assign_tail(self, block),
            None => self.terminate_into(Terminator::Goto(join), Loc::default(), join),
        }
        self.current = join;
        if e.ty == Ty::Never {
            self.terminate(Terminator::Trap(TrapCode::Unreachable), Loc::default());
        }
        result.map_or(Operand::Const(Const::Nil), Operand::Local)
    }

    fn builtin(&mut self, builtin: Builtin, args: &[Expr], loc: Loc) -> Operand {
        if builtin == Builtin::Assert {
            return self.assert(args, loc);
        }
        let mut vals: Vec<Operand> = args.iter().map(|a| self.expr(a)).collect();
        let arg_ty = args.first().map_or(Ty::Nil, |a| a.ty);
        match builtin {
            Builtin::Print { newline, stderr } => {
                let stream = Operand::Const(Const::I64(if stderr { 2 } else { 1 }));
                for (i, (v, a)) in vals.into_iter().zip(args).enumerate() {
                    if i > 0 {
                        self.runtime(Rt::PrintStr, vec![stream.clone(), Self::str_const(" ")], loc);
                    }
                    let (rt, args) = match a.ty {
                        Ty::I64 => (Rt::PrintI64, vec![stream.clone(), v]),
                        Ty::F64 => (Rt::PrintF64, vec![stream.clone(), v]),
                        Ty::Bool => (Rt::PrintBool, vec![stream.clone(), v]),
                        Ty::Str => (Rt::PrintStr, vec![stream.clone(), v]),
                        _ => (Rt::PrintNil, vec![stream.clone()]),
                    };
                    self.runtime(rt, args, loc);
                }
                if newline {
                    self.runtime(Rt::PrintStr, vec![stream, Self::str_const("\n")], loc);
                }
                Operand::Const(Const::Nil)
            }
            Builtin::Str => {
                let v = vals.pop().unwrap_or(Operand::Const(Const::Nil));
                match arg_ty {
                    Ty::I64 => self.runtime(Rt::StrFromI64, vec![v], loc),
                    Ty::F64 => self.runtime(Rt::StrFromF64, vec![v], loc),
                    Ty::Bool => self.runtime(Rt::StrFromBool, vec![v], loc),
                    Ty::Str => v,
                    _ => Self::str_const("nil"),
                }
            }
            Builtin::Assert => unreachable!("lowered by `assert`"),
            Builtin::Exit => {
                self.runtime(Rt::Exit, vals, loc);
                self.terminate(Terminator::Trap(TrapCode::Unreachable), loc);
                Operand::Const(Const::Nil)
            }
            Builtin::Abs => {
                let (op, ty) =
                    if arg_ty == Ty::F64 { (mir::UnOp::FAbs, mir::Ty::F64) } else { (mir::UnOp::IAbs, mir::Ty::I64) };
                let v = vals.pop().unwrap_or(Operand::Const(Const::Nil));
                self.assign_temp(ty, Rvalue::Unary(op, v), loc)
            }
            Builtin::Min | Builtin::Max => {
                let op = match (builtin == Builtin::Min, arg_ty == Ty::F64) {
                    (true, true) => mir::BinOp::FMin,
                    (true, false) => mir::BinOp::IMin,
                    (false, true) => mir::BinOp::FMax,
                    (false, false) => mir::BinOp::IMax,
                };
                let b = vals.pop().unwrap_or(Operand::Const(Const::Nil));
                let a = vals.pop().unwrap_or(Operand::Const(Const::Nil));
                self.binop(op, a, b, loc)
            }
            Builtin::Sqrt | Builtin::Floor | Builtin::Ceil => {
                let i = match builtin {
                    Builtin::Sqrt => mir::Intrinsic::Sqrt,
                    Builtin::Floor => mir::Intrinsic::Floor,
                    _ => mir::Intrinsic::Ceil,
                };
                self.assign_temp(mir::Ty::F64, Rvalue::Intrinsic(i, vals), loc)
            }
            Builtin::Clock => self.runtime(Rt::Clock, vals, loc),
            Builtin::StrLen => self.runtime(Rt::StrLen, vals, loc),
        }
    }

    /// `assert(cond, msg)`: the message is built only when the assert fails.
    fn assert(&mut self, args: &[Expr], loc: Loc) -> Operand {
        let cond = self.expr(&args[0]);
        let (fail, ok) = (self.new_block(), self.new_block());
        self.terminate_into(Terminator::Branch { cond, then_block: ok, else_block: fail }, loc, fail);
        if let Some(msg) = args.get(1) {
            let msg = self.expr(msg);
            self.runtime(Rt::AssertMessage, vec![msg], loc);
        }
        self.terminate_into(Terminator::Trap(TrapCode::AssertionFailed), loc, ok);
        Operand::Const(Const::Nil)
    }
}
