//! MIR optimisation passes.
//!
//! Every pass takes a body that satisfies [`crate::verify`] and leaves one
//! that still does, with the same observable behaviour: the same output, the
//! same result and the same runtime error at the same [`crate::Loc`]. An
//! operation that would trap is never folded away; it stays so it traps at
//! run time. [`optimize`] runs them all and, in debug builds, verifies the
//! body after each pass so a pass that breaks an invariant is named at once.

use simple_abi::TrapCode;

use crate::{
    Addr, BinOp, BlockData, BlockId, Body, CastKind, Cmp, Const, Intrinsic, Loc, Local, Operand, Rvalue, StmtKind,
    Terminator, UnOp, pretty, verify,
};

/// How many times the pipeline of cheap passes runs at most; each round can
/// expose more constants (a removed block removes an assignment).
const MAX_ROUNDS: usize = 4;

/// Runs every pass: constant folding, branch folding, dead-block removal,
/// jump threading and block merging until nothing changes (at most
/// [`MAX_ROUNDS`] rounds), then dead-assignment removal.
///
/// A body that does not verify is left unchanged, so codegen reports the
/// problem instead of a pass tripping over it.
pub fn optimize(body: &mut Body) {
    if verify(body).is_err() {
        return;
    }
    for _ in 0..MAX_ROUNDS {
        let before = body.clone();
        run(body, "const_fold", const_fold);
        run(body, "fold_branches", fold_branches);
        run(body, "remove_dead_blocks", remove_dead_blocks);
        run(body, "thread_jumps", thread_jumps);
        run(body, "merge_blocks", merge_blocks);
        run(body, "remove_dead_blocks", remove_dead_blocks);
        if *body == before {
            break;
        }
    }
    run(body, "remove_dead_assignments", remove_dead_assignments);
}

fn run(body: &mut Body, name: &str, pass: fn(&mut Body)) {
    pass(body);
    if cfg!(debug_assertions)
        && let Err(e) = verify(body)
    {
        // A pass produced invalid MIR from valid MIR: a compiler bug,
        // caught in debug builds and tests only.
        panic!("MIR pass `{name}` broke an invariant: {e}\n{}", pretty(body));
    }
}

/// Constant propagation and folding.
///
/// Assumes a verified body. Repeats until nothing changes:
/// - within a block, a local assigned a constant is replaced by that
///   constant in later reads, up to its next assignment;
/// - a non-parameter local assigned exactly once in the whole body, from a
///   constant, is replaced by that constant in every read its assignment
///   dominates (later in the same block, or in a block the assignment's block
///   strictly dominates);
/// - a `Binary`, `Unary`, `Cast` or `Intrinsic` whose operands are all
///   constants becomes `Use(constant)` when evaluating it cannot trap. The
///   result is computed exactly as the machine code would compute it
///   (`FPow` is never folded: its result would depend on the compiler's
///   `powf`).
///
/// Guarantees: the same behaviour, no new locals or blocks; statements are
/// only rewritten, never removed (see [`remove_dead_assignments`]).
pub fn const_fold(body: &mut Body) {
    while propagate_within_blocks(body) | propagate_single_assignments(body) {}
}

/// Within-block propagation and folding; whether anything changed.
fn propagate_within_blocks(body: &mut Body) -> bool {
    let mut changed = false;
    let mut known: Vec<Option<Const>> = vec![None; body.locals.len()];
    for block in &mut body.blocks {
        known.iter_mut().for_each(|k| *k = None);
        for stmt in &mut block.stmts {
            for op in stmt_operands_mut(&mut stmt.kind) {
                changed |= substitute(op, |l| known[l.0 as usize].clone());
            }
            match &mut stmt.kind {
                StmtKind::Assign(_, rvalue) | StmtKind::Eval(rvalue) => {
                    if let Some(c) = fold(rvalue) {
                        let folded = Rvalue::Use(Operand::Const(c));
                        if *rvalue != folded {
                            *rvalue = folded;
                            changed = true;
                        }
                    }
                }
                StmtKind::Call { .. } | StmtKind::Store(..) => {}
            }
            match &stmt.kind {
                StmtKind::Assign(local, rvalue) => {
                    known[local.0 as usize] = match rvalue {
                        Rvalue::Use(Operand::Const(c)) => Some(c.clone()),
                        _ => None,
                    };
                }
                StmtKind::Call { dests, .. } => dests.iter().for_each(|l| known[l.0 as usize] = None),
                StmtKind::Eval(_) | StmtKind::Store(..) => {}
            }
        }
        for op in terminator_operands_mut(&mut block.terminator) {
            changed |= substitute(op, |l| known[l.0 as usize].clone());
        }
    }
    changed
}

/// Propagation of single-assignment constants along dominance; whether
/// anything changed.
fn propagate_single_assignments(body: &mut Body) -> bool {
    // (block, statement index, constant) of each local's only assignment.
    let mut defs: Vec<Option<(usize, usize, Const)>> = vec![None; body.locals.len()];
    let mut counts = vec![0u32; body.locals.len()];
    for (b, block) in body.blocks.iter().enumerate() {
        for (i, stmt) in block.stmts.iter().enumerate() {
            match &stmt.kind {
                StmtKind::Assign(local, rvalue) => {
                    counts[local.0 as usize] += 1;
                    if let Rvalue::Use(Operand::Const(c)) = rvalue {
                        defs[local.0 as usize] = Some((b, i, c.clone()));
                    }
                }
                StmtKind::Call { dests, .. } => dests.iter().for_each(|l| counts[l.0 as usize] += 1),
                StmtKind::Eval(_) | StmtKind::Store(..) => {}
            }
        }
    }
    for (l, def) in defs.iter_mut().enumerate() {
        if counts[l] != 1 || l < body.param_count as usize {
            *def = None;
        }
    }
    if defs.iter().all(Option::is_none) {
        return false;
    }
    let idom = immediate_dominators(body);
    let mut changed = false;
    for (b, block) in body.blocks.iter_mut().enumerate() {
        // Whether a read at statement `i` of this block (`usize::MAX` for
        // the terminator) sees the value assigned at (`def_block`, `def_i`).
        let sees = |def_block: usize, def_i: usize, i: usize| {
            if def_block == b { i > def_i } else { dominates(&idom, def_block, b) }
        };
        let lookup = |l: Local, i: usize| match &defs[l.0 as usize] {
            Some((db, di, c)) if sees(*db, *di, i) => Some(c.clone()),
            _ => None,
        };
        for (i, stmt) in block.stmts.iter_mut().enumerate() {
            for op in stmt_operands_mut(&mut stmt.kind) {
                changed |= substitute(op, |l| lookup(l, i));
            }
        }
        for op in terminator_operands_mut(&mut block.terminator) {
            changed |= substitute(op, |l| lookup(l, usize::MAX));
        }
    }
    changed
}

/// Replaces a local operand by its known constant; whether it did.
fn substitute(op: &mut Operand, known: impl Fn(Local) -> Option<Const>) -> bool {
    if let Operand::Local(l) = op
        && let Some(c) = known(*l)
    {
        *op = Operand::Const(c);
        return true;
    }
    false
}

/// The operands a statement reads.
pub(crate) fn stmt_operands_mut(kind: &mut StmtKind) -> Vec<&mut Operand> {
    fn addr_operands(addr: &mut Addr) -> Vec<&mut Operand> {
        let mut ops = vec![&mut addr.base];
        ops.extend(addr.index.as_mut().map(|(i, _)| i));
        ops
    }
    match kind {
        StmtKind::Assign(_, rvalue) | StmtKind::Eval(rvalue) => match rvalue {
            Rvalue::Use(a) | Rvalue::Unary(_, a) | Rvalue::Cast(_, a) => vec![a],
            Rvalue::Binary(_, a, b) => vec![a, b],
            Rvalue::Runtime(_, args) | Rvalue::Intrinsic(_, args) => args.iter_mut().collect(),
            Rvalue::Load(_, addr) => addr_operands(addr),
        },
        StmtKind::Call { args, .. } => args.iter_mut().collect(),
        StmtKind::Store(addr, value) => {
            let mut ops = addr_operands(addr);
            ops.push(value);
            ops
        }
    }
}

pub(crate) fn stmt_operands(kind: &StmtKind) -> Vec<&Operand> {
    fn addr_operands(addr: &Addr) -> Vec<&Operand> {
        let mut ops = vec![&addr.base];
        ops.extend(addr.index.as_ref().map(|(i, _)| i));
        ops
    }
    match kind {
        StmtKind::Assign(_, rvalue) | StmtKind::Eval(rvalue) => match rvalue {
            Rvalue::Use(a) | Rvalue::Unary(_, a) | Rvalue::Cast(_, a) => vec![a],
            Rvalue::Binary(_, a, b) => vec![a, b],
            Rvalue::Runtime(_, args) | Rvalue::Intrinsic(_, args) => args.iter().collect(),
            Rvalue::Load(_, addr) => addr_operands(addr),
        },
        StmtKind::Call { args, .. } => args.iter().collect(),
        StmtKind::Store(addr, value) => {
            let mut ops = addr_operands(addr);
            ops.push(value);
            ops
        }
    }
}

pub(crate) fn terminator_operands_mut(term: &mut Terminator) -> Vec<&mut Operand> {
    match term {
        Terminator::Branch { cond, .. } => vec![cond],
        Terminator::Return(ops) => ops.iter_mut().collect(),
        Terminator::Goto(_) | Terminator::Trap(_) => Vec::new(),
    }
}

/// The immediate dominator of each block reachable from the entry (the
/// entry is its own); `None` for unreachable blocks. The iterative
/// algorithm of Cooper, Harvey and Kennedy over reverse postorder.
fn immediate_dominators(body: &Body) -> Vec<Option<usize>> {
    let n = body.blocks.len();
    let rpo = reverse_postorder(body);
    let mut order = vec![usize::MAX; n];
    for (i, &b) in rpo.iter().enumerate() {
        order[b] = i;
    }
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &b in &rpo {
        for s in body.blocks[b].terminator.successors() {
            preds[s.0 as usize].push(b);
        }
    }
    let mut idom: Vec<Option<usize>> = vec![None; n];
    idom[0] = Some(0);
    let mut changed = true;
    while changed {
        changed = false;
        for &b in rpo.iter().skip(1) {
            let mut new_idom: Option<usize> = None;
            for &p in &preds[b] {
                if idom[p].is_none() {
                    continue;
                }
                new_idom = Some(match new_idom {
                    None => p,
                    Some(mut x) => {
                        let mut y = p;
                        while x != y {
                            while order[x] > order[y] {
                                // Every processed block has an idom.
                                x = idom[x].expect("processed block");
                            }
                            while order[y] > order[x] {
                                y = idom[y].expect("processed block");
                            }
                        }
                        x
                    }
                });
            }
            if new_idom.is_some() && idom[b] != new_idom {
                idom[b] = new_idom;
                changed = true;
            }
        }
    }
    idom
}

/// Whether block `a` dominates block `b` (both reachable, or `false`).
fn dominates(idom: &[Option<usize>], a: usize, b: usize) -> bool {
    let mut x = b;
    loop {
        if x == a {
            return true;
        }
        match idom[x] {
            Some(up) if up != x => x = up,
            _ => return false,
        }
    }
}

/// Blocks reachable from the entry, in reverse postorder.
fn reverse_postorder(body: &Body) -> Vec<usize> {
    let n = body.blocks.len();
    let mut visited = vec![false; n];
    let mut post = Vec::with_capacity(n);
    // (block, index of the next successor to visit)
    let mut stack = vec![(0usize, 0usize)];
    visited[0] = true;
    while let Some(&mut (b, ref mut next)) = stack.last_mut() {
        let succs = body.blocks[b].terminator.successors();
        if let Some(s) = succs.get(*next) {
            *next += 1;
            let s = s.0 as usize;
            if !visited[s] {
                visited[s] = true;
                stack.push((s, 0));
            }
        } else {
            post.push(b);
            stack.pop();
        }
    }
    post.reverse();
    post
}

/// The value of `rvalue` if all its operands are constants and evaluating
/// it cannot trap and has no other effect.
fn fold(rvalue: &Rvalue) -> Option<Const> {
    match rvalue {
        Rvalue::Use(Operand::Const(c)) => Some(c.clone()),
        Rvalue::Use(Operand::Local(_)) => None,
        Rvalue::Binary(op, Operand::Const(a), Operand::Const(b)) => fold_binary(*op, a, b),
        Rvalue::Unary(op, Operand::Const(a)) => fold_unary(*op, a),
        Rvalue::Cast(kind, Operand::Const(a)) => fold_cast(*kind, a),
        Rvalue::Intrinsic(i, args) => match args.as_slice() {
            [Operand::Const(Const::F64(bits))] => {
                let x = f64::from_bits(*bits);
                let r = match i {
                    Intrinsic::Sqrt => x.sqrt(),
                    Intrinsic::Floor => x.floor(),
                    Intrinsic::Ceil => x.ceil(),
                };
                Some(Const::F64(r.to_bits()))
            }
            _ => None,
        },
        Rvalue::Binary(..) | Rvalue::Unary(..) | Rvalue::Cast(..) | Rvalue::Runtime(..) | Rvalue::Load(..) => None,
    }
}

fn fold_binary(op: BinOp, a: &Const, b: &Const) -> Option<Const> {
    match (a, b) {
        (Const::I64(a), Const::I64(b)) => fold_int(op, *a, *b),
        (Const::F64(a), Const::F64(b)) => fold_float(op, f64::from_bits(*a), f64::from_bits(*b)),
        (Const::Bool(a), Const::Bool(b)) => match op {
            BinOp::BoolEq => Some(Const::Bool(a == b)),
            BinOp::BoolNe => Some(Const::Bool(a != b)),
            _ => None,
        },
        _ => None,
    }
}

/// Integer operations with the semantics of `crate::BinOp`; `None` where
/// the operation traps.
fn fold_int(op: BinOp, a: i64, b: i64) -> Option<Const> {
    let v = match op {
        BinOp::IAdd => a.checked_add(b)?,
        BinOp::ISub => a.checked_sub(b)?,
        BinOp::IMul => a.checked_mul(b)?,
        // checked_div/rem fail exactly on zero and on MIN / -1.
        BinOp::IDiv => a.checked_div(b)?,
        BinOp::IRem => a.checked_rem(b)?,
        BinOp::IFloorDiv => {
            let q = a.checked_div(b)?;
            if a % b != 0 && ((a < 0) != (b < 0)) { q - 1 } else { q }
        }
        BinOp::IPow => int_pow(a, b)?,
        BinOp::IShl => a << shift_amount(b)?,
        BinOp::IShr => a >> shift_amount(b)?,
        BinOp::IAnd => a & b,
        BinOp::IOr => a | b,
        BinOp::IXor => a ^ b,
        BinOp::IMin => a.min(b),
        BinOp::IMax => a.max(b),
        BinOp::ICmp(c) => return Some(Const::Bool(compare(c, a.cmp(&b)))),
        BinOp::IULt => return Some(Const::Bool((a as u64) < (b as u64))),
        BinOp::IAddWrap => a.wrapping_add(b),
        _ => return None,
    };
    Some(Const::I64(v))
}

fn shift_amount(b: i64) -> Option<u32> {
    (0..64).contains(&b).then_some(b as u32)
}

/// `a ** b`; `None` on a negative exponent or overflow.
fn int_pow(a: i64, b: i64) -> Option<i64> {
    if b < 0 {
        return None;
    }
    match u32::try_from(b) {
        Ok(e) => a.checked_pow(e),
        // Only 0, 1 and -1 survive an exponent this large.
        Err(_) => match a {
            0 | 1 => Some(a),
            -1 => Some(if b % 2 == 0 { 1 } else { -1 }),
            _ => None,
        },
    }
}

fn compare(c: Cmp, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match c {
        Cmp::Eq => ord == Equal,
        Cmp::Ne => ord != Equal,
        Cmp::Lt => ord == Less,
        Cmp::Le => ord != Greater,
        Cmp::Gt => ord == Greater,
        Cmp::Ge => ord != Less,
    }
}

/// Float operations as the generated code computes them (IEEE 754, C
/// `fmod`, `floor(a / b)`, `min`/`max` as Rust's `f64::min`/`max` with
/// `-0.0 < +0.0`).
fn fold_float(op: BinOp, a: f64, b: f64) -> Option<Const> {
    let v = match op {
        BinOp::FAdd => a + b,
        BinOp::FSub => a - b,
        BinOp::FMul => a * b,
        BinOp::FDiv => a / b,
        // Rust's `%` on f64 is C `fmod`.
        BinOp::FRem => a % b,
        BinOp::FFloorDiv => (a / b).floor(),
        BinOp::FMin => float_min_max(a, b, true),
        BinOp::FMax => float_min_max(a, b, false),
        BinOp::FCmp(c) => {
            let r = match c {
                Cmp::Eq => a == b,
                Cmp::Ne => a != b,
                Cmp::Lt => a < b,
                Cmp::Le => a <= b,
                Cmp::Gt => a > b,
                Cmp::Ge => a >= b,
            };
            return Some(Const::Bool(r));
        }
        _ => return None,
    };
    Some(Const::F64(v.to_bits()))
}

/// `FMin`/`FMax`: a NaN operand yields the other operand (Rust's
/// `f64::min`/`max`); `-0.0` is smaller than `+0.0`.
fn float_min_max(a: f64, b: f64, min: bool) -> f64 {
    if a.is_nan() {
        return b;
    }
    if b.is_nan() {
        return a;
    }
    if a == b {
        // Equal values differ at most in the sign of zero.
        return if a.is_sign_negative() == min { a } else { b };
    }
    if (a < b) == min { a } else { b }
}

fn fold_unary(op: UnOp, a: &Const) -> Option<Const> {
    Some(match (op, a) {
        (UnOp::INeg, Const::I64(a)) => Const::I64(a.checked_neg()?),
        (UnOp::IAbs, Const::I64(a)) => Const::I64(a.checked_abs()?),
        (UnOp::INot, Const::I64(a)) => Const::I64(!a),
        (UnOp::FNeg, Const::F64(a)) => Const::F64(a ^ (1 << 63)),
        (UnOp::FAbs, Const::F64(a)) => Const::F64(a & !(1 << 63)),
        (UnOp::Not, Const::Bool(a)) => Const::Bool(!a),
        (UnOp::IsNull, Const::Null(_)) => Const::Bool(true),
        _ => return None,
    })
}

/// Lower and upper bounds of the floats that convert to `i64` without
/// trapping: `-2^63 <= x < 2^63` (NaN fails both comparisons).
pub const FLOAT_TO_INT_MIN: f64 = -9_223_372_036_854_775_808.0;
pub const FLOAT_TO_INT_END: f64 = 9_223_372_036_854_775_808.0;

fn fold_cast(kind: CastKind, a: &Const) -> Option<Const> {
    Some(match (kind, a) {
        (CastKind::IntToFloat, Const::I64(a)) => Const::F64((*a as f64).to_bits()),
        (CastKind::FloatToInt, Const::F64(bits)) => {
            let x = f64::from_bits(*bits);
            if !(FLOAT_TO_INT_MIN..FLOAT_TO_INT_END).contains(&x) {
                return None;
            }
            // In range: `as` truncates toward zero, exactly.
            Const::I64(x as i64)
        }
        (CastKind::BoolToInt, Const::Bool(b)) => Const::I64(i64::from(*b)),
        _ => return None,
    })
}

/// Branch folding.
///
/// Assumes a verified body. A `Branch` on a constant condition, or whose two
/// targets are the same block, becomes a `Goto` of the target taken.
/// Guarantees: the same behaviour; blocks may become unreachable (see
/// [`remove_dead_blocks`]).
pub fn fold_branches(body: &mut Body) {
    for block in &mut body.blocks {
        if let Terminator::Branch { cond, then_block, else_block } = &block.terminator {
            let target = match cond {
                Operand::Const(Const::Bool(true)) => Some(*then_block),
                Operand::Const(Const::Bool(false)) => Some(*else_block),
                _ if then_block == else_block => Some(*then_block),
                _ => None,
            };
            if let Some(target) = target {
                block.terminator = Terminator::Goto(target);
            }
        }
    }
}

/// Dead-block removal.
///
/// Assumes a verified body. Removes every block not reachable from `bb0`
/// and renumbers the rest, keeping their relative order (so `bb0` stays the
/// entry). Guarantees: every block is reachable; the same behaviour.
pub fn remove_dead_blocks(body: &mut Body) {
    let n = body.blocks.len();
    let mut reachable = vec![false; n];
    for b in reverse_postorder(body) {
        reachable[b] = true;
    }
    if reachable.iter().all(|r| *r) {
        return;
    }
    let mut new_id = vec![None; n];
    let mut next = 0u32;
    for (b, r) in reachable.iter().enumerate() {
        if *r {
            new_id[b] = Some(BlockId(next));
            next += 1;
        }
    }
    let blocks = std::mem::take(&mut body.blocks);
    body.blocks = blocks
        .into_iter()
        .zip(&reachable)
        .filter(|(_, r)| **r)
        .map(|(mut block, _)| {
            // A reachable block's successors are reachable.
            map_successors(&mut block.terminator, |s| new_id[s.0 as usize].expect("successor of a reachable block"));
            block
        })
        .collect();
}

fn map_successors(term: &mut Terminator, f: impl Fn(BlockId) -> BlockId) {
    match term {
        Terminator::Goto(b) => *b = f(*b),
        Terminator::Branch { then_block, else_block, .. } => {
            *then_block = f(*then_block);
            *else_block = f(*else_block);
        }
        Terminator::Return(_) | Terminator::Trap(_) => {}
    }
}

/// Jump threading through empty blocks.
///
/// Assumes a verified body. A block with no statements whose terminator is
/// `Goto(t)` only forwards control; every jump to it is redirected to where
/// its chain of such blocks ends (a chain that loops forever is left alone).
/// Guarantees: the same behaviour; forwarding blocks other than `bb0` become
/// unreachable (see [`remove_dead_blocks`]).
pub fn thread_jumps(body: &mut Body) {
    let n = body.blocks.len();
    let forward: Vec<Option<BlockId>> = body
        .blocks
        .iter()
        .map(|block| match block.terminator {
            Terminator::Goto(t) if block.stmts.is_empty() => Some(t),
            _ => None,
        })
        .collect();
    let resolve = |start: BlockId| {
        let mut b = start;
        // A chain longer than the number of blocks is a cycle.
        for _ in 0..=n {
            match forward[b.0 as usize] {
                Some(next) => b = next,
                None => return b,
            }
        }
        start
    };
    for block in &mut body.blocks {
        map_successors(&mut block.terminator, resolve);
    }
}

/// Block merging.
///
/// Assumes a verified body. When block `a` ends in `Goto(b)`, `b` is not the
/// entry and `a` is its only predecessor, `b`'s statements and terminator
/// are appended to `a`, and `b` is left empty, ending in
/// `Trap(Unreachable)`, with no predecessors. Guarantees: the same
/// behaviour; merged-away blocks are unreachable (see
/// [`remove_dead_blocks`]).
pub fn merge_blocks(body: &mut Body) {
    let n = body.blocks.len();
    let mut preds = vec![0usize; n];
    for block in &body.blocks {
        for s in block.terminator.successors() {
            preds[s.0 as usize] += 1;
        }
    }
    for a in 0..n {
        // Merging moves `b`'s out-edges to `a`, so the other counts stay
        // right; `b` loses its only in-edge.
        while let Terminator::Goto(b) = body.blocks[a].terminator {
            let b = b.0 as usize;
            if b == a || b == 0 || preds[b] != 1 {
                break;
            }
            preds[b] = 0;
            let taken = std::mem::replace(
                &mut body.blocks[b],
                BlockData {
                    stmts: Vec::new(),
                    terminator: Terminator::Trap(TrapCode::Unreachable),
                    terminator_loc: Loc::default(),
                },
            );
            let into = &mut body.blocks[a];
            into.stmts.extend(taken.stmts);
            into.terminator = taken.terminator;
            into.terminator_loc = taken.terminator_loc;
        }
    }
}

/// Dead-assignment removal.
///
/// Assumes a verified body. Removes `local = rvalue` when no statement or
/// terminator reads `local` and evaluating `rvalue` has no effect and cannot
/// trap, and `Eval(rvalue)` of such an rvalue; repeats until nothing more
/// can go. Calls, runtime calls and operations that may trap stay.
/// Guarantees: the same behaviour; locals are kept (unused ones simply have
/// no statements).
pub fn remove_dead_assignments(body: &mut Body) {
    loop {
        let mut read = vec![false; body.locals.len()];
        for block in &body.blocks {
            for stmt in &block.stmts {
                for op in stmt_operands(&stmt.kind) {
                    if let Operand::Local(l) = op {
                        read[l.0 as usize] = true;
                    }
                }
            }
            let mut term = block.terminator.clone();
            for op in terminator_operands_mut(&mut term) {
                if let Operand::Local(l) = op {
                    read[l.0 as usize] = true;
                }
            }
        }
        let mut changed = false;
        for block in &mut body.blocks {
            block.stmts.retain(|stmt| {
                let dead = match &stmt.kind {
                    StmtKind::Assign(l, rv) => !read[l.0 as usize] && is_pure(rv),
                    StmtKind::Eval(rv) => is_pure(rv),
                    StmtKind::Call { .. } | StmtKind::Store(..) => false,
                };
                changed |= dead;
                !dead
            });
        }
        if !changed {
            return;
        }
    }
}

/// Whether evaluating `rvalue` certainly has no effect and cannot trap.
fn is_pure(rvalue: &Rvalue) -> bool {
    use BinOp::*;
    let const_i64 = |op: &Operand| match op {
        Operand::Const(Const::I64(v)) => Some(*v),
        _ => None,
    };
    match rvalue {
        Rvalue::Use(_) | Rvalue::Intrinsic(..) => true,
        Rvalue::Binary(op, _, b) => match op {
            IAnd | IOr | IXor | IMin | IMax | ICmp(_) | FAdd | FSub | FMul | FDiv | FRem | FFloorDiv | FPow | FMin
            | FMax | FCmp(_) | BoolEq | BoolNe | RefEq | IULt | IAddWrap => true,
            IShl | IShr => const_i64(b).is_some_and(|b| (0..64).contains(&b)),
            IDiv | IRem | IFloorDiv => const_i64(b).is_some_and(|b| b != 0 && b != -1),
            IAdd | ISub | IMul | IPow => fold(rvalue).is_some(),
        },
        Rvalue::Unary(op, _) => match op {
            UnOp::INot | UnOp::FNeg | UnOp::FAbs | UnOp::Not | UnOp::IsNull => true,
            UnOp::INeg | UnOp::IAbs => fold(rvalue).is_some(),
        },
        Rvalue::Cast(kind, _) => match kind {
            CastKind::IntToFloat | CastKind::BoolToInt => true,
            CastKind::FloatToInt => fold(rvalue).is_some(),
        },
        // A load reads memory a store or call may change: never moved,
        // but removable when unused.
        Rvalue::Load(..) => true,
        Rvalue::Runtime(..) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    /// Parses `input`, runs `pass`, verifies, and compares the printed
    /// result with `expected` (both as text).
    fn check(pass: fn(&mut Body), input: &str, expected: &str) {
        let mut body = parse(input).unwrap_or_else(|e| panic!("bad test input: {e}"));
        verify(&body).unwrap_or_else(|e| panic!("test input does not verify: {e}"));
        pass(&mut body);
        verify(&body).unwrap_or_else(|e| panic!("pass output does not verify: {e}"));
        let actual = pretty(&body);
        let expected = parse(expected).map(|b| pretty(&b)).unwrap_or_else(|e| panic!("bad expected text: {e}"));
        assert_eq!(actual, expected, "\n--- actual ---\n{actual}\n--- expected ---\n{expected}");
    }

    #[test]
    fn folds_arithmetic_within_a_block() {
        check(
            const_fold,
            "fn f() -> i64 {
                let _0: i64 x
                let _1: i64
                let _2: f64
            bb0:
                _0 = 6 @1:1
                _1 = IMul(_0, 7) @2:1
                _1 = IFloorDiv(-7, 2) @3:1
                _2 = FFloorDiv(7.0, -2.0) @3:2
                _1 = IRem(-7, 2) @4:1
                _1 = IPow(3, 4) @5:1
                _1 = IShl(1, 63) @6:1
                return _1 @7:1
            }",
            "fn f() -> i64 {
                let _0: i64 x
                let _1: i64
                let _2: f64
            bb0:
                _0 = 6 @1:1
                _1 = 42 @2:1
                _1 = -4 @3:1
                _2 = -4.0 @3:2
                _1 = -1 @4:1
                _1 = 81 @5:1
                _1 = -9223372036854775808 @6:1
                return -9223372036854775808 @7:1
            }",
        );
    }

    #[test]
    fn keeps_operations_that_would_trap() {
        let text = "fn f() -> i64 {
                let _0: i64
                let _1: f64
            bb0:
                _0 = IAdd(9223372036854775807, 1) @1:1
                _0 = IDiv(1, 0) @2:1
                _0 = IRem(-9223372036854775808, -1) @3:1
                _0 = IPow(2, -1) @4:1
                _0 = IPow(2, 64) @4:2
                _0 = IShl(1, 64) @5:1
                _0 = IShr(1, -1) @5:2
                _0 = INeg(-9223372036854775808) @6:1
                _0 = IAbs(-9223372036854775808) @6:2
                _0 = FloatToInt(NaN) @7:1
                _0 = FloatToInt(9.223372036854776e18) @7:2
                _1 = FPow(2.0, 0.5) @8:1
                return _0 @9:1
            }";
        check(const_fold, text, text);
    }

    #[test]
    fn folds_floats_casts_and_comparisons() {
        check(
            const_fold,
            "fn f() -> bool {
                let _0: f64
                let _1: i64
                let _2: bool
            bb0:
                _0 = FMin(NaN, 2.0) @1:1
                _0 = FMax(-0.0, 0.0) @1:2
                _0 = FRem(-7.5, 2.0) @1:3
                _0 = Sqrt(16.0) @1:4
                _1 = FloatToInt(-2.9) @2:1
                _1 = BoolToInt(true) @2:2
                _0 = IntToFloat(3) @2:3
                _2 = FCmpNe(NaN, NaN) @3:1
                _2 = FCmpEq(NaN, NaN) @3:2
                _2 = ICmpLe(_1, 3) @3:3
                return _2 @4:1
            }",
            "fn f() -> bool {
                let _0: f64
                let _1: i64
                let _2: bool
            bb0:
                _0 = 2.0 @1:1
                _0 = 0.0 @1:2
                _0 = -1.5 @1:3
                _0 = 4.0 @1:4
                _1 = -2 @2:1
                _1 = 1 @2:2
                _0 = 3.0 @2:3
                _2 = true @3:1
                _2 = false @3:2
                _2 = true @3:3
                return true @4:1
            }",
        );
    }

    #[test]
    fn propagates_single_assignments_along_dominance_only() {
        // _1 is assigned once in bb0, which dominates everything: its reads
        // become constants. _2 is assigned once in bb1, which does not
        // dominate bb3, so the read in bb3 stays. _3 is assigned twice.
        check(
            const_fold,
            "fn f(_0: bool c) -> i64 {
                let _1: i64
                let _2: i64
                let _3: i64
            bb0:
                _1 = 5 @1:1
                _3 = 0 @1:2
                branch _0, bb1, bb2 @2:1
            bb1:
                _2 = 7 @3:1
                _3 = IAdd(_1, _2) @3:2
                goto bb3 @3:3
            bb2:
                _3 = _1 @4:1
                goto bb3 @4:2
            bb3:
                _3 = IAdd(_3, _2) @5:1
                return _3 @5:2
            }",
            "fn f(_0: bool c) -> i64 {
                let _1: i64
                let _2: i64
                let _3: i64
            bb0:
                _1 = 5 @1:1
                _3 = 0 @1:2
                branch _0, bb1, bb2 @2:1
            bb1:
                _2 = 7 @3:1
                _3 = 12 @3:2
                goto bb3 @3:3
            bb2:
                _3 = 5 @4:1
                goto bb3 @4:2
            bb3:
                _3 = IAdd(_3, _2) @5:1
                return _3 @5:2
            }",
        );
    }

    #[test]
    fn does_not_propagate_around_a_loop_back_edge() {
        // The read of _0 in bb1 happens before its only assignment on the
        // first iteration.
        let text = "fn f() -> i64 {
                let _0: i64
                let _1: i64
            bb0:
                goto bb1 @1:1
            bb1:
                _1 = IAdd(_0, 1) @2:1
                _0 = 3 @2:2
                branch true, bb1, bb2 @2:3
            bb2:
                return _1 @3:1
            }";
        check(const_fold, text, text);
    }

    #[test]
    fn folds_branches() {
        check(
            fold_branches,
            "fn f(_0: bool) -> nil {
            bb0:
                branch true, bb1, bb2 @1:1
            bb1:
                branch _0, bb2, bb2 @2:1
            bb2:
                branch false, bb1, bb3 @3:1
            bb3:
                return @4:1
            }",
            "fn f(_0: bool) -> nil {
            bb0:
                goto bb1 @1:1
            bb1:
                goto bb2 @2:1
            bb2:
                goto bb3 @3:1
            bb3:
                return @4:1
            }",
        );
    }

    #[test]
    fn removes_and_renumbers_dead_blocks() {
        check(
            remove_dead_blocks,
            "fn f(_0: bool) -> i64 {
            bb0:
                goto bb2 @1:1
            bb1:
                return 1 @2:1
            bb2:
                branch _0, bb4, bb2 @3:1
            bb3:
                goto bb1 @4:1
            bb4:
                return 2 @5:1
            }",
            "fn f(_0: bool) -> i64 {
            bb0:
                goto bb1 @1:1
            bb1:
                branch _0, bb2, bb1 @3:1
            bb2:
                return 2 @5:1
            }",
        );
    }

    #[test]
    fn threads_jumps_through_empty_blocks() {
        check(
            thread_jumps,
            "fn f(_0: bool) -> nil {
            bb0:
                branch _0, bb1, bb3 @1:1
            bb1:
                goto bb2 @2:1
            bb2:
                goto bb4 @3:1
            bb3:
                goto bb3 @4:1
            bb4:
                return @5:1
            }",
            "fn f(_0: bool) -> nil {
            bb0:
                branch _0, bb4, bb3 @1:1
            bb1:
                goto bb4 @2:1
            bb2:
                goto bb4 @3:1
            bb3:
                goto bb3 @4:1
            bb4:
                return @5:1
            }",
        );
    }

    #[test]
    fn merges_straight_line_blocks() {
        check(
            merge_blocks,
            "fn f(_0: bool) -> i64 {
                let _1: i64
            bb0:
                _1 = 1 @1:1
                goto bb1 @1:2
            bb1:
                _1 = 2 @2:1
                goto bb2 @2:2
            bb2:
                branch _0, bb3, bb4 @3:1
            bb3:
                goto bb4 @4:1
            bb4:
                return _1 @5:1
            }",
            "fn f(_0: bool) -> i64 {
                let _1: i64
            bb0:
                _1 = 1 @1:1
                _1 = 2 @2:1
                branch _0, bb3, bb4 @3:1
            bb1:
                trap Unreachable @0:0
            bb2:
                trap Unreachable @0:0
            bb3:
                goto bb4 @4:1
            bb4:
                return _1 @5:1
            }",
        );
    }

    #[test]
    fn removes_dead_pure_assignments_only() {
        check(
            remove_dead_assignments,
            "fn f(_0: i64) -> i64 {
                let _1: i64
                let _2: i64
                let _3: i64
                let _4: i64
            bb0:
                _1 = IAnd(_0, 3) @1:1
                _2 = IAdd(_1, 1) @1:2
                _3 = IDiv(_0, 2) @2:1
                _3 = IDiv(_0, _0) @2:2
                _4 = call g(_0) @3:1
                IXor(_0, 1) @3:2
                _4 = _0 @4:1
                return _4 @5:1
            }",
            "fn f(_0: i64) -> i64 {
                let _1: i64
                let _2: i64
                let _3: i64
                let _4: i64
            bb0:
                _1 = IAnd(_0, 3) @1:1
                _2 = IAdd(_1, 1) @1:2
                _3 = IDiv(_0, _0) @2:2
                _4 = call g(_0) @3:1
                _4 = _0 @4:1
                return _4 @5:1
            }",
        );
    }

    #[test]
    fn optimize_runs_the_pipeline() {
        check(
            optimize,
            "fn f() -> i64 {
                let _0: i64 n
                let _1: bool
            bb0:
                _0 = 10 @1:1
                _1 = ICmpGt(_0, 5) @2:1
                branch _1, bb1, bb2 @2:2
            bb1:
                goto bb3 @3:1
            bb2:
                runtime spl_print_i64(1, _0) @4:1
                goto bb3 @4:2
            bb3:
                return _0 @5:1
            }",
            "fn f() -> i64 {
                let _0: i64 n
                let _1: bool
            bb0:
                return 10 @5:1
            }",
        );
    }

    #[test]
    fn float_min_max_matches_rust_where_rust_is_specified() {
        for (a, b) in [(1.0, 2.0), (f64::NAN, 1.0), (1.0, f64::NAN), (-3.0, 3.0)] {
            assert_eq!(float_min_max(a, b, true), a.min(b));
            assert_eq!(float_min_max(a, b, false), a.max(b));
        }
        assert!(float_min_max(0.0, -0.0, true).is_sign_negative());
        assert!(float_min_max(-0.0, 0.0, false).is_sign_positive());
    }
}
