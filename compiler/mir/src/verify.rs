//! The MIR verifier: a cheap check of every invariant codegen relies on.
//!
//! Run on lowered MIR and after every optimisation pass (in debug builds and
//! tests), it catches a broken invariant where it happens rather than as a
//! Cranelift verifier error or wrong machine code later.
//!
//! After `verify(body)` returns `Ok`:
//! - `param_count <= locals.len()` and there is at least one block;
//! - every `Local` and `BlockId` mentioned is in range;
//! - every operation gets operands of the types its documentation in
//!   [`crate`] names (`I*` on `I64`, `F*` on `F64`, `BoolEq`/`Not` on `Bool`,
//!   a cast from its source type, an intrinsic one `F64`), and an assignment's
//!   local has the type of its rvalue;
//! - a `Branch` condition is `Bool`; `Return` carries one operand per
//!   result, of the result's type; a call's results are not `Nil`;
//! - a runtime call has the arity and argument types of
//!   [`simple_abi::Rt::info`], `Ptr` meaning `Str`; a `Nil` value never feeds
//!   an operation, a runtime call, a branch or a return, so codegen never
//!   needs a machine value for it (it may be copied with `Use` and passed to a
//!   Simple function, where it is dropped from the machine signature).

use std::fmt;

use simple_abi::AbiType;

use crate::{BinOp, BlockId, Body, CastKind, Local, Operand, Rvalue, StmtKind, Terminator, Ty, UnOp};

/// Where in a body a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// The body as a whole (its declarations).
    Body,
    /// Statement `index` of `block`.
    Stmt { block: BlockId, index: usize },
    /// The terminator of `block`.
    Terminator { block: BlockId },
}

/// A broken MIR invariant: the function, where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerifyError {
    pub symbol: String,
    pub place: Place,
    pub message: String,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Body => f.write_str("declarations"),
            Place::Stmt { block, index } => write!(f, "{block}[{index}]"),
            Place::Terminator { block } => write!(f, "{block} terminator"),
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid MIR in `{}` at {}: {}", self.symbol, self.place, self.message)
    }
}

impl std::error::Error for VerifyError {}

/// Checks `body` against the invariants listed in the module documentation.
pub fn verify(body: &Body) -> Result<(), VerifyError> {
    let fail = |place: Place, message: String| VerifyError { symbol: body.symbol.clone(), place, message };
    if body.param_count as usize > body.locals.len() {
        return Err(fail(
            Place::Body,
            format!("{} parameters but only {} locals", body.param_count, body.locals.len()),
        ));
    }
    if body.blocks.is_empty() {
        return Err(fail(Place::Body, "no blocks".into()));
    }
    let checker = Checker { body };
    for (b, block) in body.blocks.iter().enumerate() {
        let block_id = BlockId(b as u32);
        for (index, stmt) in block.stmts.iter().enumerate() {
            let place = Place::Stmt { block: block_id, index };
            checker.stmt(&stmt.kind).map_err(|message| fail(place, message))?;
        }
        checker
            .terminator(&block.terminator)
            .map_err(|message| fail(Place::Terminator { block: block_id }, message))?;
    }
    Ok(())
}

struct Checker<'a> {
    body: &'a Body,
}

impl Checker<'_> {
    fn local(&self, local: Local) -> Result<Ty, String> {
        self.body
            .locals
            .get(local.0 as usize)
            .map(|decl| decl.ty)
            .ok_or_else(|| format!("local {local} out of range ({} locals)", self.body.locals.len()))
    }

    fn operand(&self, op: &Operand) -> Result<Ty, String> {
        match op {
            Operand::Local(l) => self.local(*l),
            Operand::Const(c) => Ok(c.ty()),
        }
    }

    /// An operand that must have type `want` as input to `what`.
    fn expect(&self, op: &Operand, want: Ty, what: &str) -> Result<(), String> {
        let got = self.operand(op)?;
        if got == want { Ok(()) } else { Err(format!("{what} expects {want}, but operand {op} is {got}")) }
    }

    /// A heap address: a reference base and an `I64` index.
    fn addr(&self, addr: &crate::Addr) -> Result<(), String> {
        let base = self.operand(&addr.base)?;
        if !base.is_gc_ref() {
            return Err(format!("address base {} is {base}, not a reference", addr.base));
        }
        if let Some((index, _)) = &addr.index {
            self.expect(index, Ty::I64, "address index")?;
        }
        Ok(())
    }

    fn block(&self, id: BlockId) -> Result<(), String> {
        if (id.0 as usize) < self.body.blocks.len() {
            Ok(())
        } else {
            Err(format!("jump to {id}, but there are {} blocks", self.body.blocks.len()))
        }
    }

    fn stmt(&self, kind: &StmtKind) -> Result<(), String> {
        match kind {
            StmtKind::Assign(local, rvalue) => {
                let local_ty = self.local(*local)?;
                let rvalue_ty = self.rvalue(rvalue)?;
                if local_ty != rvalue_ty {
                    return Err(format!("{local} has type {local_ty} but is assigned a {rvalue_ty}"));
                }
                Ok(())
            }
            StmtKind::Eval(rvalue) => self.rvalue(rvalue).map(|_| ()),
            StmtKind::Store(addr, value) => {
                self.addr(addr)?;
                if self.operand(value)? == Ty::Nil {
                    return Err("store of a nil value".into());
                }
                Ok(())
            }
            StmtKind::Call { dests, symbol, args } => {
                if symbol.is_empty() {
                    return Err("call to an empty symbol".into());
                }
                for arg in args {
                    self.operand(arg)?;
                }
                for dest in dests {
                    if self.local(*dest)? == Ty::Nil {
                        return Err(format!("call result {dest} has type nil"));
                    }
                }
                Ok(())
            }
        }
    }

    /// The type of `rvalue`, after checking its operands.
    fn rvalue(&self, rvalue: &Rvalue) -> Result<Ty, String> {
        match rvalue {
            Rvalue::Use(op) => self.operand(op),
            Rvalue::Binary(BinOp::RefEq, a, b) => {
                for x in [a, b] {
                    if !self.operand(x)?.is_gc_ref() {
                        return Err(format!("RefEq expects references, but operand {x} is not one"));
                    }
                }
                Ok(Ty::Bool)
            }
            Rvalue::Unary(UnOp::IsNull, a) => {
                if !self.operand(a)?.is_gc_ref() {
                    return Err(format!("IsNull expects a reference, but operand {a} is not one"));
                }
                Ok(Ty::Bool)
            }
            Rvalue::Binary(op, a, b) => {
                let (input, output) = binary_types(*op);
                let what = format!("{op}");
                self.expect(a, input, &what)?;
                self.expect(b, input, &what)?;
                Ok(output)
            }
            Rvalue::Unary(op, a) => {
                let ty = match op {
                    UnOp::INeg | UnOp::IAbs | UnOp::INot => Ty::I64,
                    UnOp::FNeg | UnOp::FAbs => Ty::F64,
                    UnOp::Not | UnOp::IsNull => Ty::Bool,
                };
                self.expect(a, ty, &format!("{op}"))?;
                Ok(ty)
            }
            Rvalue::Cast(kind, a) => {
                let (from, to) = match kind {
                    CastKind::IntToFloat => (Ty::I64, Ty::F64),
                    CastKind::FloatToInt => (Ty::F64, Ty::I64),
                    CastKind::BoolToInt => (Ty::Bool, Ty::I64),
                };
                self.expect(a, from, &format!("{kind:?}"))?;
                Ok(to)
            }
            Rvalue::Runtime(rt, args) => {
                let info = rt.info();
                if args.len() != info.params.len() {
                    return Err(format!(
                        "runtime {} takes {} arguments, got {}",
                        info.name,
                        info.params.len(),
                        args.len()
                    ));
                }
                for (arg, param) in args.iter().zip(info.params) {
                    self.expect(arg, abi_ty(*param), &format!("runtime {}", info.name))?;
                }
                Ok(info.ret.map_or(Ty::Nil, abi_ty))
            }
            Rvalue::Load(ty, addr) => {
                self.addr(addr)?;
                if *ty == Ty::Nil {
                    return Err("load of a nil value".into());
                }
                Ok(*ty)
            }
            Rvalue::Intrinsic(i, args) => {
                let [arg] = args.as_slice() else {
                    return Err(format!("intrinsic {i:?} takes 1 argument, got {}", args.len()));
                };
                self.expect(arg, Ty::F64, &format!("{i:?}"))?;
                Ok(Ty::F64)
            }
        }
    }

    fn terminator(&self, term: &Terminator) -> Result<(), String> {
        match term {
            Terminator::Goto(b) => self.block(*b),
            Terminator::Branch { cond, then_block, else_block } => {
                self.expect(cond, Ty::Bool, "branch")?;
                self.block(*then_block)?;
                self.block(*else_block)
            }
            Terminator::Return(ops) => {
                if ops.len() != self.body.rets.len() {
                    return Err(format!(
                        "return of {} values from a function with {} results",
                        ops.len(),
                        self.body.rets.len()
                    ));
                }
                ops.iter().zip(&self.body.rets).try_for_each(|(op, ty)| self.expect(op, *ty, "return"))
            }
            Terminator::Trap(_) => Ok(()),
        }
    }
}

/// (operand type, result type) of a binary operation.
fn binary_types(op: BinOp) -> (Ty, Ty) {
    use BinOp::*;
    match op {
        IAdd | ISub | IMul | IDiv | IRem | IFloorDiv | IPow | IShl | IShr | IAnd | IOr | IXor | IMin | IMax
        | IAddWrap => (Ty::I64, Ty::I64),
        ICmp(_) | IULt => (Ty::I64, Ty::Bool),
        FAdd | FSub | FMul | FDiv | FRem | FFloorDiv | FPow | FMin | FMax => (Ty::F64, Ty::F64),
        FCmp(_) => (Ty::F64, Ty::Bool),
        BoolEq | BoolNe => (Ty::Bool, Ty::Bool),
        RefEq => (Ty::Ref, Ty::Bool),
    }
}

/// The MIR type of a runtime ABI type.
pub fn abi_ty(t: AbiType) -> Ty {
    match t {
        AbiType::I64 => Ty::I64,
        AbiType::F64 => Ty::F64,
        AbiType::Bool => Ty::Bool,
        AbiType::Ptr => Ty::Str,
        AbiType::Ref => Ty::Ref,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    /// The error `verify` reports for a body given as text.
    fn check_err(text: &str) -> String {
        let body = parse(text).unwrap_or_else(|e| panic!("bad test input: {e}"));
        verify(&body).expect_err("body should not verify").to_string()
    }

    #[test]
    fn accepts_a_well_typed_body() {
        let body = parse(
            r#"fn f(_0: i64, _1: f64, _2: nil) -> bool {
                let _3: bool
                let _4: str
                let _5: nil
            bb0:
                _3 = ICmpLt(_0, 3) @1:1
                _4 = runtime spl_str_from_f64(_1) @1:2
                runtime spl_print_str(1, _4) @1:3
                call g(_2, _0) @1:4
                _5 = _2 @1:5
                branch _3, bb1, bb1 @1:6
            bb1:
                return _3 @2:1
            }"#,
        )
        .unwrap();
        assert_eq!(verify(&body), Ok(()));
    }

    #[test]
    fn rejects_operand_type_mismatches() {
        let err = check_err(
            "fn f(_0: f64) -> i64 {
                let _1: i64
            bb0:
                _1 = IAdd(_0, 1) @1:1
                return _1 @1:2
            }",
        );
        assert_eq!(err, "invalid MIR in `f` at bb0[0]: IAdd expects i64, but operand _0 is f64");
        let err = check_err(
            "fn f(_0: i64) -> i64 {
                let _1: f64
            bb0:
                _1 = IAdd(_0, 1) @1:1
                return _0 @1:2
            }",
        );
        assert_eq!(err, "invalid MIR in `f` at bb0[0]: _1 has type f64 but is assigned a i64");
    }

    #[test]
    fn rejects_bad_terminators() {
        let err = check_err(
            "fn f(_0: i64) -> i64 {
            bb0:
                branch _0, bb1, bb2 @1:1
            bb1:
                return _0 @1:2
            }",
        );
        assert_eq!(err, "invalid MIR in `f` at bb0 terminator: branch expects bool, but operand _0 is i64");
        let err = check_err(
            "fn f() -> nil {
            bb0:
                goto bb7 @1:1
            }",
        );
        assert_eq!(err, "invalid MIR in `f` at bb0 terminator: jump to bb7, but there are 1 blocks");
        let err = check_err(
            "fn f() -> nil {
            bb0:
                return 1 @1:1
            }",
        );
        assert!(err.contains("return of 1 values from a function with 0 results"), "{err}");
        let err = check_err(
            "fn f() -> i64 {
            bb0:
                return @1:1
            }",
        );
        assert!(err.contains("return of 0 values from a function with 1 results"), "{err}");
    }

    #[test]
    fn rejects_nil_as_a_machine_value_and_bad_runtime_calls() {
        let err = check_err(
            "fn f(_0: nil) -> nil {
            bb0:
                runtime spl_print_i64(1, _0) @1:1
                return @1:2
            }",
        );
        assert!(err.contains("expects i64, but operand _0 is nil"), "{err}");
        let err = check_err(
            "fn f() -> nil {
            bb0:
                runtime spl_print_i64(1) @1:1
                return @1:2
            }",
        );
        assert!(err.contains("runtime spl_print_i64 takes 2 arguments, got 1"), "{err}");
    }

    #[test]
    fn rejects_out_of_range_locals_and_params() {
        let err = check_err(
            "fn f() -> i64 {
            bb0:
                return _3 @1:1
            }",
        );
        assert!(err.contains("local _3 out of range"), "{err}");
        let mut body = parse("fn f(_0: i64) -> nil {\nbb0:\n return\n}").unwrap();
        body.param_count = 2;
        assert_eq!(
            verify(&body).unwrap_err().to_string(),
            "invalid MIR in `f` at declarations: 2 parameters but only 1 locals"
        );
        body.param_count = 1;
        body.blocks.clear();
        assert!(verify(&body).unwrap_err().message.contains("no blocks"));
    }
}
