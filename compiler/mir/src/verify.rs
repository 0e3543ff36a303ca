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
//! - a `Branch` condition is `Bool`; `Return` carries an operand exactly when
//!   the function does not return `Nil`, of the return type;
//! - a runtime call has the arity and argument types of
//!   [`simple_abi::Rt::info`], `Ptr` meaning `Str`; a `Nil` value never feeds
//!   an operation, a runtime call, a branch or a return, so codegen never
//!   needs a machine value for it (it may be copied with `Use` and passed to a
//!   Simple function, where it is dropped from the machine signature).

use std::fmt;

use simple_abi::AbiType;

use crate::{
    BinOp, BlockId, Body, CastKind, Local, Operand, Rvalue, StmtKind, Terminator, Ty, UnOp,
};

/// Where in a body a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The body as a whole (its declarations).
    Body,
    /// Statement `index` of `block`.
    Stmt { block: BlockId, index: usize },
    /// The terminator of `block`.
    Terminator { block: BlockId },
}

/// A broken MIR invariant: the function, where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
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
        write!(
            f,
            "invalid MIR in `{}` at {}: {}",
            self.symbol, self.place, self.message
        )
    }
}

impl std::error::Error for VerifyError {}

/// Checks `body` against the invariants listed in the module documentation.
pub fn verify(body: &Body) -> Result<(), VerifyError> {
    let fail = |place: Place, message: String| VerifyError {
        symbol: body.symbol.clone(),
        place,
        message,
    };
    if body.param_count as usize > body.locals.len() {
        return Err(fail(
            Place::Body,
            format!(
                "{} parameters but only {} locals",
                body.param_count,
                body.locals.len()
            ),
        ));
    }
    if body.blocks.is_empty() {
        return Err(fail(Place::Body, "no blocks".into()));
    }
    let checker = Checker { body };
    for (b, block) in body.blocks.iter().enumerate() {
        let block_id = BlockId(b as u32);
        for (index, stmt) in block.stmts.iter().enumerate() {
            let place = Place::Stmt {
                block: block_id,
                index,
            };
            checker
                .stmt(&stmt.kind)
                .map_err(|message| fail(place, message))?;
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
            .ok_or_else(|| {
                format!(
                    "local {local} out of range ({} locals)",
                    self.body.locals.len()
                )
            })
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
        if got == want {
            Ok(())
        } else {
            Err(format!("{what} expects {want}, but operand {op} is {got}"))
        }
    }

    fn block(&self, id: BlockId) -> Result<(), String> {
        if (id.0 as usize) < self.body.blocks.len() {
            Ok(())
        } else {
            Err(format!(
                "jump to {id}, but there are {} blocks",
                self.body.blocks.len()
            ))
        }
    }

    fn stmt(&self, kind: &StmtKind) -> Result<(), String> {
        match kind {
            StmtKind::Assign(local, rvalue) => {
                let local_ty = self.local(*local)?;
                let rvalue_ty = self.rvalue(rvalue)?;
                if local_ty != rvalue_ty {
                    return Err(format!(
                        "{local} has type {local_ty} but is assigned a {rvalue_ty}"
                    ));
                }
                Ok(())
            }
            StmtKind::Eval(rvalue) => self.rvalue(rvalue).map(|_| ()),
        }
    }

    /// The type of `rvalue`, after checking its operands.
    fn rvalue(&self, rvalue: &Rvalue) -> Result<Ty, String> {
        match rvalue {
            Rvalue::Use(op) => self.operand(op),
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
                    UnOp::Not => Ty::Bool,
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
            Rvalue::Call { symbol, args, ret } => {
                if symbol.is_empty() {
                    return Err("call to an empty symbol".into());
                }
                for arg in args {
                    self.operand(arg)?;
                }
                Ok(*ret)
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
            Rvalue::Intrinsic(i, args) => {
                let [arg] = args.as_slice() else {
                    return Err(format!(
                        "intrinsic {i:?} takes 1 argument, got {}",
                        args.len()
                    ));
                };
                self.expect(arg, Ty::F64, &format!("{i:?}"))?;
                Ok(Ty::F64)
            }
        }
    }

    fn terminator(&self, term: &Terminator) -> Result<(), String> {
        match term {
            Terminator::Goto(b) => self.block(*b),
            Terminator::Branch {
                cond,
                then_block,
                else_block,
            } => {
                self.expect(cond, Ty::Bool, "branch")?;
                self.block(*then_block)?;
                self.block(*else_block)
            }
            Terminator::Return(None) if self.body.ret == Ty::Nil => Ok(()),
            Terminator::Return(None) => Err(format!(
                "return without a value from a function returning {}",
                self.body.ret
            )),
            Terminator::Return(Some(op)) if self.body.ret == Ty::Nil => Err(format!(
                "return {op} from a function returning nil (must carry no operand)"
            )),
            Terminator::Return(Some(op)) => self.expect(op, self.body.ret, "return"),
            Terminator::Trap(_) => Ok(()),
        }
    }
}

/// (operand type, result type) of a binary operation.
fn binary_types(op: BinOp) -> (Ty, Ty) {
    use BinOp::*;
    match op {
        IAdd | ISub | IMul | IDiv | IRem | IFloorDiv | IPow | IShl | IShr | IAnd | IOr | IXor
        | IMin | IMax => (Ty::I64, Ty::I64),
        ICmp(_) => (Ty::I64, Ty::Bool),
        FAdd | FSub | FMul | FDiv | FRem | FFloorDiv | FPow | FMin | FMax => (Ty::F64, Ty::F64),
        FCmp(_) => (Ty::F64, Ty::Bool),
        BoolEq | BoolNe => (Ty::Bool, Ty::Bool),
    }
}

/// The MIR type of a runtime ABI type.
pub fn abi_ty(t: AbiType) -> Ty {
    match t {
        AbiType::I64 => Ty::I64,
        AbiType::F64 => Ty::F64,
        AbiType::Bool => Ty::Bool,
        AbiType::Ptr => Ty::Str,
    }
}
