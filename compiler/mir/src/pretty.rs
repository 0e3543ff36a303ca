//! The textual form of MIR, used by `simple dump mir` and by snapshot tests.
//!
//! ```text
//! fn add(_0: i64 a, _1: i64 b) -> i64 {
//!     let _2: i64
//! bb0:
//!     _2 = IAdd(_0, _1) @3:14
//!     return _2 @3:5
//! }
//! ```
//!
//! Locals print as `_N`; their declarations (type, then the source name if
//! any) come first. Constants print as Rust would (`1`, `1.0`, `true`,
//! `"text"`, `nil`): an `f64` always shows a `.`, an exponent, `inf` or
//! `NaN`, so it never reads like an `i64`. Every statement and terminator ends
//! with its [`Loc`](crate::Loc) as `@line:col`, the line relative to the
//! function, or `@line:col in callee @line:col` for code inlined from
//! `callee` by the call at the second position. `Use` prints as its bare
//! operand, a statement evaluated only for effect as its bare rvalue.

use std::fmt::{self, Write as _};

use crate::{
    BinOp, Body, CastKind, Cmp, Const, Intrinsic, Loc, Local, Operand, Rvalue, StmtKind, Terminator, Ty, UnOp,
};

/// The textual form of `body`, one line per declaration, statement and
/// terminator, ending in a newline.
pub fn pretty(body: &Body) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    write_body(&mut out, body).expect("formatting into a String");
    out
}

fn write_body(out: &mut String, body: &Body) -> fmt::Result {
    write!(out, "fn {}(", body.symbol)?;
    let params = (body.param_count as usize).min(body.locals.len());
    for (i, decl) in body.locals[..params].iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write!(out, "_{i}: {}", decl.ty)?;
        if let Some(name) = &decl.name {
            write!(out, " {name}")?;
        }
    }
    match body.rets.as_slice() {
        [] => writeln!(out, ") -> nil {{")?,
        [ty] => writeln!(out, ") -> {ty} {{")?,
        tys => {
            let tys: Vec<String> = tys.iter().map(Ty::to_string).collect();
            writeln!(out, ") -> ({}) {{", tys.join(", "))?
        }
    }
    for (i, decl) in body.locals.iter().enumerate().skip(params) {
        write!(out, "    let _{i}: {}", decl.ty)?;
        if let Some(name) = &decl.name {
            write!(out, " {name}")?;
        }
        out.push('\n');
    }
    for (b, block) in body.blocks.iter().enumerate() {
        writeln!(out, "bb{b}:")?;
        for stmt in &block.stmts {
            out.push_str("    ");
            match &stmt.kind {
                StmtKind::Assign(local, rvalue) => write!(out, "{local} = {rvalue}")?,
                StmtKind::Eval(rvalue) => write!(out, "{rvalue}")?,
                StmtKind::Call { dests, symbol, args } => {
                    for (i, dest) in dests.iter().enumerate() {
                        let sep = if i + 1 == dests.len() { " = " } else { ", " };
                        write!(out, "{dest}{sep}")?;
                    }
                    write!(out, "call {symbol}({})", List(args))?
                }
                StmtKind::Store(addr, value) => write!(out, "store {addr}, {value}")?,
            }
            writeln!(out, " {}", At(stmt.loc, body))?;
        }
        writeln!(out, "    {} {}", block.terminator, At(block.terminator_loc, body))?;
    }
    out.push_str("}\n");
    Ok(())
}

struct At<'a>(Loc, &'a Body);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let At(loc, body) = self;
        write!(f, "@{}:{}", loc.line, loc.col)?;
        match loc.origin.checked_sub(1).and_then(|k| body.inlined.get(k as usize)) {
            None => Ok(()),
            Some(inlined) => write!(f, " in {} {}", inlined.symbol, At(inlined.call, body)),
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ty::I64 => "i64",
            Ty::F64 => "f64",
            Ty::Bool => "bool",
            Ty::Str => "str",
            Ty::Ref => "ref",
            Ty::Nil => "nil",
        })
    }
}

impl fmt::Display for Local {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "_{}", self.0)
    }
}

impl fmt::Display for crate::BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bb{}", self.0)
    }
}

impl fmt::Display for Const {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Const::I64(v) => write!(f, "{v}"),
            Const::F64(bits) => write!(f, "{:?}", f64::from_bits(*bits)),
            Const::Bool(b) => write!(f, "{b}"),
            Const::Str(s) => write!(f, "{s:?}"),
            Const::Data(bytes) => {
                f.write_str("data(")?;
                bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
                f.write_str(")")
            }
            Const::Null(_) => f.write_str("null"),
            Const::Nil => f.write_str("nil"),
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Local(l) => write!(f, "{l}"),
            Operand::Const(c) => write!(f, "{c}"),
        }
    }
}

/// `a, b, c`
struct List<'a>(&'a [Operand]);

impl fmt::Display for List<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, op) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{op}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Rvalue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rvalue::Use(op) => write!(f, "{op}"),
            Rvalue::Binary(op, a, b) => write!(f, "{op}({a}, {b})"),
            Rvalue::Unary(op, a) => write!(f, "{op:?}({a})"),
            Rvalue::Cast(kind, a) => write!(f, "{}({a})", cast_name(*kind)),
            Rvalue::Runtime(rt, args) => write!(f, "runtime {}({})", rt.info().name, List(args)),
            Rvalue::Intrinsic(i, args) => write!(f, "{}({})", intrinsic_name(*i), List(args)),
            Rvalue::Load(ty, addr) => write!(f, "load {ty} {addr}"),
        }
    }
}

/// `[base + index * scale + offset]`
impl fmt::Display for crate::Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}", self.base)?;
        if let Some((index, scale)) = &self.index {
            write!(f, " + {index} * {scale}")?;
        }
        write!(f, " + {}]", self.offset)
    }
}

impl fmt::Display for BinOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BinOp::ICmp(c) => write!(f, "ICmp{}", cmp_name(*c)),
            BinOp::FCmp(c) => write!(f, "FCmp{}", cmp_name(*c)),
            other => write!(f, "{other:?}"),
        }
    }
}

impl fmt::Display for UnOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

fn cmp_name(c: Cmp) -> &'static str {
    match c {
        Cmp::Eq => "Eq",
        Cmp::Ne => "Ne",
        Cmp::Lt => "Lt",
        Cmp::Le => "Le",
        Cmp::Gt => "Gt",
        Cmp::Ge => "Ge",
    }
}

fn cast_name(kind: CastKind) -> &'static str {
    match kind {
        CastKind::IntToFloat => "IntToFloat",
        CastKind::FloatToInt => "FloatToInt",
        CastKind::BoolToInt => "BoolToInt",
    }
}

fn intrinsic_name(i: Intrinsic) -> &'static str {
    match i {
        Intrinsic::Sqrt => "Sqrt",
        Intrinsic::Floor => "Floor",
        Intrinsic::Ceil => "Ceil",
    }
}

impl fmt::Display for Terminator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Terminator::Goto(b) => write!(f, "goto {b}"),
            Terminator::Branch { cond, then_block, else_block } => {
                write!(f, "branch {cond}, {then_block}, {else_block}")
            }
            Terminator::Return(ops) if ops.is_empty() => f.write_str("return"),
            Terminator::Return(ops) => write!(f, "return {}", List(ops)),
            Terminator::Trap(code) => write!(f, "trap {code:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BlockData, BlockId, Inlined, LocalDecl, Stmt};
    use simple_abi::{Rt, TrapCode};

    fn decl(ty: Ty, name: Option<&str>) -> LocalDecl {
        LocalDecl { ty, name: name.map(str::to_string) }
    }

    #[test]
    fn prints_every_construct() {
        let loc = |line, col| Loc { line, col, origin: 0 };
        let body = Body {
            symbol: "add".into(),
            param_count: 2,
            rets: vec![Ty::I64],
            locals: vec![
                decl(Ty::I64, Some("a")),
                decl(Ty::I64, Some("b")),
                decl(Ty::I64, None),
                decl(Ty::Bool, Some("small")),
                decl(Ty::F64, None),
            ],
            blocks: vec![
                BlockData {
                    stmts: vec![
                        Stmt {
                            kind: StmtKind::Assign(
                                Local(2),
                                Rvalue::Binary(BinOp::IAdd, Operand::Local(Local(0)), Operand::Local(Local(1))),
                            ),
                            loc: loc(1, 14),
                        },
                        Stmt {
                            kind: StmtKind::Assign(
                                Local(3),
                                Rvalue::Binary(
                                    BinOp::ICmp(Cmp::Lt),
                                    Operand::Local(Local(2)),
                                    Operand::Const(Const::I64(-10)),
                                ),
                            ),
                            loc: loc(2, 8),
                        },
                        Stmt {
                            kind: StmtKind::Assign(
                                Local(4),
                                Rvalue::Cast(CastKind::IntToFloat, Operand::Local(Local(2))),
                            ),
                            loc: loc(2, 9),
                        },
                        Stmt {
                            kind: StmtKind::Eval(Rvalue::Runtime(
                                Rt::PrintStr,
                                vec![Operand::Const(Const::I64(1)), Operand::Const(Const::Str("hi \"x\"\n".into()))],
                            )),
                            loc: loc(3, 5),
                        },
                    ],
                    terminator: Terminator::Branch {
                        cond: Operand::Local(Local(3)),
                        then_block: BlockId(1),
                        else_block: BlockId(2),
                    },
                    terminator_loc: loc(2, 5),
                },
                BlockData {
                    stmts: vec![Stmt {
                        kind: StmtKind::Call {
                            dests: vec![Local(2)],
                            symbol: "f".into(),
                            args: vec![Operand::Const(Const::F64(1.0f64.to_bits())), Operand::Const(Const::Bool(true))],
                        },
                        loc: loc(4, 1),
                    }],
                    terminator: Terminator::Return(vec![Operand::Local(Local(2))]),
                    terminator_loc: loc(5, 5),
                },
                BlockData {
                    stmts: vec![],
                    terminator: Terminator::Trap(TrapCode::IntegerOverflow),
                    terminator_loc: Loc { line: 6, col: 5, origin: 1 },
                },
            ],
            inlined: vec![Inlined { symbol: "helper".into(), call: loc(4, 1) }],
        };
        let expected = r#"fn add(_0: i64 a, _1: i64 b) -> i64 {
    let _2: i64
    let _3: bool small
    let _4: f64
bb0:
    _2 = IAdd(_0, _1) @1:14
    _3 = ICmpLt(_2, -10) @2:8
    _4 = IntToFloat(_2) @2:9
    runtime spl_print_str(1, "hi \"x\"\n") @3:5
    branch _3, bb1, bb2 @2:5
bb1:
    _2 = call f(1.0, true) @4:1
    return _2 @5:5
bb2:
    trap IntegerOverflow @6:5 in helper @4:1
}
"#;
        assert_eq!(pretty(&body), expected);
        assert_eq!(crate::parse(expected), Ok(body), "the text parses back");
    }
}
