//! Inlining: replacing a call to a small function by a copy of its body.
//!
//! Which callees are offered is the caller's business (the compiler offers
//! only functions whose source it counts in the caller's cache key); this
//! pass decides, from the callee's MIR, whether it is small enough, and
//! splices it in. It inlines one level: the code it copies in is not
//! searched for more calls, so a callee offered in its own un-inlined form
//! keeps the growth bounded.
//!
//! The copy keeps the callee's positions, with a [`Loc::origin`] naming the
//! callee and the call, so that a runtime error inside it is reported where
//! the callee's source says, with the callee's frame in the backtrace.

use crate::opt::{stmt_operands, stmt_operands_mut, terminator_operands_mut};
use crate::{BlockData, BlockId, Body, Const, Inlined, Loc, Local, Operand, Rvalue, Stmt, StmtKind, Terminator, Ty};

/// The most statements (terminators included) a callee may have.
pub const MAX_CALLEE_SIZE: usize = 24;
/// The most statements inlining may add to one caller.
const MAX_GROWTH: usize = 120;

/// Whether `callee` is small enough to be copied into its callers.
pub fn is_small(callee: &Body) -> bool {
    size(callee) <= MAX_CALLEE_SIZE
}

fn size(body: &Body) -> usize {
    body.blocks.iter().map(|b| b.stmts.len() + 1).sum()
}

/// Inlines into `body` the calls whose callee `callee_of` returns (a small
/// one, see [`is_small`]), except calls of `body` itself; true if any was.
/// Leaves a body that verifies if `body` and the callees do.
pub fn inline_calls<'a>(body: &mut Body, callee_of: impl Fn(&str) -> Option<&'a Body>) -> bool {
    let mut budget = MAX_GROWTH;
    // The caller's own blocks; each inlined call adds the rest of its block
    // as a new one, to be searched too.
    let mut work: Vec<usize> = (0..body.blocks.len()).collect();
    let mut changed = false;
    while let Some(b) = work.pop() {
        let found = body.blocks[b].stmts.iter().enumerate().find_map(|(i, stmt)| match &stmt.kind {
            StmtKind::Call { dests, symbol, args } if *symbol != body.symbol => {
                let callee = callee_of(symbol).filter(|c| is_small(c))?;
                let fits = callee.param_count as usize == args.len() && callee.rets.len() == dests.len();
                (fits && size(callee) <= budget).then_some((i, callee))
            }
            _ => None,
        });
        if let Some((i, callee)) = found {
            budget -= size(callee);
            work.push(splice(body, b, i, callee));
            changed = true;
        }
    }
    changed
}

/// Replaces the call at `body.blocks[b].stmts[i]` by a copy of `callee`:
/// block `b` keeps the statements before the call, assigns the arguments to
/// the copy's parameters and jumps to the copy, whose returns assign the
/// call's destinations and jump to a new block holding the statements after
/// the call and `b`'s terminator. Returns that block.
fn splice(body: &mut Body, b: usize, i: usize, callee: &Body) -> usize {
    let after = body.blocks[b].stmts.split_off(i + 1);
    let call = body.blocks[b].stmts.pop().expect("the call is statement i");
    let StmtKind::Call { dests, args, .. } = call.kind else { unreachable!("only calls are spliced") };
    let local_base = body.locals.len() as u32;
    let block_base = body.blocks.len() as u32;
    let rest = block_base + callee.blocks.len() as u32;
    // The callee's positions are now in this inlined call; those of calls
    // it had inlined itself are in calls inside this one.
    let origin_base = body.inlined.len() as u32 + 1;
    body.inlined.push(Inlined { symbol: callee.symbol.clone(), call: call.loc });
    let loc = |l: Loc| Loc { origin: origin_base + l.origin, ..l };
    body.inlined.extend(callee.inlined.iter().map(|i| Inlined { symbol: i.symbol.clone(), call: loc(i.call) }));
    let local = |l: Local| Local(local_base + l.0);

    body.locals.extend(callee.locals.iter().cloned());
    let entry = &mut body.blocks[b];
    for (k, arg) in args.into_iter().enumerate() {
        entry.stmts.push(Stmt { kind: StmtKind::Assign(local(Local(k as u32)), Rvalue::Use(arg)), loc: call.loc });
    }
    // A fresh call starts with its locals zero (codegen's default), and a
    // copy run again in a loop would not: reset those it may read first.
    for l in maybe_read_before_written(callee) {
        let zero = zero(callee.local_ty(l));
        entry.stmts.push(Stmt { kind: StmtKind::Assign(local(l), Rvalue::Use(Operand::Const(zero))), loc: call.loc });
    }
    let terminator = std::mem::replace(&mut entry.terminator, Terminator::Goto(BlockId(block_base)));
    let terminator_loc = std::mem::replace(&mut entry.terminator_loc, call.loc);

    for block in &callee.blocks {
        let mut copy = block.clone();
        for stmt in &mut copy.stmts {
            stmt.loc = loc(stmt.loc);
            map_locals(&mut stmt.kind, local);
        }
        copy.terminator_loc = loc(copy.terminator_loc);
        for op in terminator_operands_mut(&mut copy.terminator) {
            map_operand(op, local);
        }
        match &mut copy.terminator {
            Terminator::Goto(t) => t.0 += block_base,
            Terminator::Branch { then_block, else_block, .. } => {
                then_block.0 += block_base;
                else_block.0 += block_base;
            }
            Terminator::Return(values) => {
                for (dest, value) in dests.iter().zip(std::mem::take(values)) {
                    let kind = StmtKind::Assign(*dest, Rvalue::Use(value));
                    copy.stmts.push(Stmt { kind, loc: copy.terminator_loc });
                }
                copy.terminator = Terminator::Goto(BlockId(rest));
            }
            Terminator::Trap(_) => {}
        }
        body.blocks.push(copy);
    }
    body.blocks.push(BlockData { stmts: after, terminator, terminator_loc });
    rest as usize
}

fn map_operand(op: &mut Operand, f: impl Fn(Local) -> Local) {
    if let Operand::Local(l) = op {
        *l = f(*l);
    }
}

fn map_locals(kind: &mut StmtKind, f: impl Fn(Local) -> Local + Copy) {
    match kind {
        StmtKind::Assign(l, _) => *l = f(*l),
        StmtKind::Call { dests, .. } => dests.iter_mut().for_each(|d| *d = f(*d)),
        StmtKind::Eval(_) | StmtKind::Store(..) => {}
    }
    for op in stmt_operands_mut(kind) {
        map_operand(op, f);
    }
}

fn zero(ty: Ty) -> Const {
    match ty {
        Ty::I64 => Const::I64(0),
        Ty::F64 => Const::F64(0),
        Ty::Bool => Const::Bool(false),
        Ty::Str | Ty::Ref => Const::Null(ty),
        Ty::Nil => Const::Nil,
    }
}

/// The locals other than parameters that some path through `body` may read
/// before writing: a forward analysis of the locals certainly written on
/// every path so far.
fn maybe_read_before_written(body: &Body) -> Vec<Local> {
    let n = body.locals.len();
    let params = body.param_count as usize;
    // `written[b]`: written on every path to the start of block b; `None`
    // until a path reaches it.
    let mut written: Vec<Option<Vec<bool>>> = vec![None; body.blocks.len()];
    written[0] = Some((0..n).map(|l| l < params).collect());
    let mut early = vec![false; n];
    let mut changed = true;
    while changed {
        changed = false;
        for (b, block) in body.blocks.iter().enumerate() {
            let Some(mut set) = written[b].clone() else { continue };
            let mut read = |op: &Operand, set: &[bool]| {
                if let Operand::Local(l) = op
                    && !set[l.0 as usize]
                {
                    early[l.0 as usize] = true;
                }
            };
            for stmt in &block.stmts {
                for op in stmt_operands(&stmt.kind) {
                    read(op, &set);
                }
                match &stmt.kind {
                    StmtKind::Assign(l, _) => set[l.0 as usize] = true,
                    StmtKind::Call { dests, .. } => dests.iter().for_each(|d| set[d.0 as usize] = true),
                    StmtKind::Eval(_) | StmtKind::Store(..) => {}
                }
            }
            let mut term = block.terminator.clone();
            for op in terminator_operands_mut(&mut term) {
                read(op, &set);
            }
            for succ in block.terminator.successors() {
                let target = &mut written[succ.0 as usize];
                let merged = match target {
                    None => set.clone(),
                    Some(old) => old.iter().zip(&set).map(|(a, b)| *a && *b).collect(),
                };
                if target.as_ref() != Some(&merged) {
                    *target = Some(merged);
                    changed = true;
                }
            }
        }
    }
    // A `Nil` local holds no value to be stale.
    (params..n).filter(|&l| early[l] && body.locals[l].ty != Ty::Nil).map(|l| Local(l as u32)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, pretty, verify};

    fn inline(caller: &str, callees: &[&str]) -> Body {
        let mut body = parse(caller).expect("caller parses");
        let callees: Vec<Body> = callees.iter().map(|c| parse(c).expect("callee parses")).collect();
        inline_calls(&mut body, |symbol| callees.iter().find(|c| c.symbol == symbol));
        verify(&body).unwrap_or_else(|e| panic!("{e}\n{}", pretty(&body)));
        body
    }

    const SQUARE: &str = "fn square(_0: i64 x) -> i64 {
    let _1: i64
bb0:
    _1 = IMul(_0, _0) @1:12
    return _1 @1:5
}";

    #[test]
    fn a_call_becomes_the_callee_with_its_positions() {
        let body = inline(
            "fn main(_0: i64 n) -> i64 {
    let _1: i64
    let _2: i64
bb0:
    _1 = call square(_0) @4:9
    _2 = IAdd(_1, 1) @4:20
    return _2 @4:5
}",
            &[SQUARE],
        );
        let expected = "fn main(_0: i64 n) -> i64 {
    let _1: i64
    let _2: i64
    let _3: i64 x
    let _4: i64
bb0:
    _3 = _0 @4:9
    goto bb1 @4:9
bb1:
    _4 = IMul(_3, _3) @1:12 in square @4:9
    _1 = _4 @1:5 in square @4:9
    goto bb2 @1:5 in square @4:9
bb2:
    _2 = IAdd(_1, 1) @4:20
    return _2 @4:5
}
";
        assert_eq!(pretty(&body), expected);
    }

    #[test]
    fn recursion_and_big_callees_stay_calls() {
        let fact = "fn fact(_0: i64 n) -> i64 {
    let _1: i64
bb0:
    _1 = call fact(_0) @1:5
    return _1 @1:5
}";
        let body = inline(fact, &[fact]);
        assert_eq!(pretty(&body), pretty(&parse(fact).unwrap()));

        let mut big = String::from("fn big(_0: i64 x) -> i64 {\nbb0:\n");
        for _ in 0..MAX_CALLEE_SIZE {
            big.push_str("    IAdd(_0, 1) @1:1\n");
        }
        big.push_str("    return _0 @1:1\n}");
        let caller = "fn main() -> i64 {
    let _0: i64
bb0:
    _0 = call big(1) @1:1
    return _0 @1:1
}";
        assert_eq!(pretty(&inline(caller, &[&big])), pretty(&parse(caller).unwrap()));
    }

    #[test]
    fn locals_read_before_written_start_at_zero_each_time() {
        // `_1` is read on the path that skips its assignment: in a loop,
        // the copy must not see the previous iteration's value.
        let maybe = "fn maybe(_0: bool c) -> i64 {
    let _1: i64
bb0:
    branch _0, bb1, bb2 @1:1
bb1:
    _1 = 5 @1:1
    goto bb2 @1:1
bb2:
    return _1 @1:1
}";
        let callee = parse(maybe).unwrap();
        assert_eq!(maybe_read_before_written(&callee), vec![Local(1)]);
        assert_eq!(maybe_read_before_written(&parse(SQUARE).unwrap()), vec![]);
        let body = inline(
            "fn main(_0: bool c) -> i64 {
    let _1: i64
bb0:
    _1 = call maybe(_0) @1:1
    return _1 @1:1
}",
            &[maybe],
        );
        assert!(pretty(&body).contains("_3 = 0 @1:1\n"), "{}", pretty(&body));
    }

    #[test]
    fn every_call_in_a_block_is_inlined_within_the_budget() {
        let mut caller = String::from("fn main(_0: i64 n) -> i64 {\n    let _1: i64\nbb0:\n");
        for _ in 0..200 {
            caller.push_str("    _1 = call square(_0) @1:1\n");
        }
        caller.push_str("    return _1 @1:1\n}");
        let body = inline(&caller, &[SQUARE]);
        let calls = body.blocks.iter().flat_map(|b| &b.stmts).filter(|s| matches!(s.kind, StmtKind::Call { .. }));
        let inlined = MAX_GROWTH / size(&parse(SQUARE).unwrap());
        assert_eq!(calls.count(), 200 - inlined);
        assert!(body.inlined.iter().all(|i| i.symbol == "square"));
        assert_eq!(body.inlined.len(), inlined);
    }
}
