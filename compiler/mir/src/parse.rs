//! Reads the textual form [`crate::pretty`] writes, so tests can state MIR
//! bodies (and expected results) as text.
//!
//! `parse(&pretty(body)) == body` for every body whose `f64` constants are
//! not NaNs with a payload (all NaNs print as `NaN`). The parser is strict
//! about structure (locals and blocks in order) but lenient about the `@l:c`
//! suffix, which may be left out (it then reads as `@0:0`).

use std::fmt;

use simple_abi::{Rt, TrapCode};

use crate::{
    BinOp, BlockData, BlockId, Body, CastKind, Cmp, Const, Inlined, Intrinsic, Loc, Local, LocalDecl, Operand, Rvalue,
    Stmt, StmtKind, Terminator, Ty, UnOp,
};

/// A syntax error in textual MIR: the 1-based line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses one function in the textual MIR form.
pub fn parse(text: &str) -> Result<Body, ParseError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !l.is_empty()).peekable();
    let (header_line, header) = lines.next().ok_or(ParseError { line: 1, message: "empty input".into() })?;
    let mut body = parse_header(header).map_err(|message| ParseError { line: header_line, message })?;
    let mut closed = false;
    for (line, text) in lines {
        let at = |message: String| ParseError { line, message };
        if closed {
            return Err(at("text after the closing `}`".into()));
        }
        if text == "}" {
            closed = true;
        } else if let Some(rest) = text.strip_prefix("let ") {
            if !body.blocks.is_empty() {
                return Err(at("`let` after the first block".into()));
            }
            let mut p = Parser::new(rest);
            let decl = p.local_decl(body.locals.len()).map_err(at)?;
            p.end().map_err(at)?;
            body.locals.push(decl);
        } else if let Some(label) = text.strip_suffix(':') {
            let want = format!("bb{}", body.blocks.len());
            if label != want {
                return Err(at(format!("expected block `{want}:`, found `{text}`")));
            }
            body.blocks.push(BlockData {
                stmts: Vec::new(),
                terminator: Terminator::Return(Vec::new()),
                terminator_loc: Loc::default(),
            });
        } else {
            let Some(block) = body.blocks.last_mut() else {
                return Err(at(format!("`{text}` outside a block")));
            };
            let (item, mut loc, inlined) = split_loc(text).map_err(at)?;
            if let Some(inlined) = inlined {
                loc.origin = match body.inlined.iter().position(|i| *i == inlined) {
                    Some(k) => k as u32 + 1,
                    None => {
                        body.inlined.push(inlined);
                        body.inlined.len() as u32
                    }
                };
            }
            match parse_line(item).map_err(at)? {
                Line::Stmt(kind) => block.stmts.push(Stmt { kind, loc }),
                Line::Terminator(t) => {
                    block.terminator = t;
                    block.terminator_loc = loc;
                }
            }
        }
    }
    if !closed {
        return Err(ParseError { line: text.lines().count(), message: "missing the closing `}`".into() });
    }
    Ok(body)
}

enum Line {
    Stmt(StmtKind),
    Terminator(Terminator),
}

fn parse_header(text: &str) -> Result<Body, String> {
    let mut p = Parser::new(text);
    p.keyword("fn")?;
    let symbol = p.ident()?;
    p.punct('(')?;
    let mut locals = Vec::new();
    if !p.eat(')') {
        loop {
            locals.push(p.local_decl(locals.len())?);
            if p.eat(')') {
                break;
            }
            p.punct(',')?;
        }
    }
    p.punct('-')?;
    p.punct('>')?;
    let rets = if p.eat('(') {
        let mut rets = vec![p.ty()?];
        while !p.eat(')') {
            p.punct(',')?;
            rets.push(p.ty()?);
        }
        rets
    } else {
        Some(p.ty()?).filter(|t| *t != Ty::Nil).into_iter().collect()
    };
    p.punct('{')?;
    p.end()?;
    Ok(Body { symbol, param_count: locals.len() as u32, rets, locals, blocks: Vec::new(), inlined: Vec::new() })
}

/// Splits `text @3:14` into `text` and the location, and `text @3:14 in f
/// @2:5` also into the inlined call the location is in (of `f`, at 2:5; its
/// origin left 0).
fn split_loc(text: &str) -> Result<(&str, Loc, Option<Inlined>), String> {
    // A string constant may contain ` @`; a location never contains a quote.
    let start = text.rfind('"').map_or(0, |q| q + 1);
    let Some(at) = text[start..].find(" @").map(|i| start + i) else {
        return Ok((text, Loc::default(), None));
    };
    let (item, loc) = (&text[..at], &text[at + 2..]);
    let (loc, inlined) = match loc.split_once(" in ") {
        Some((loc, call)) => {
            let (symbol, call) = call.split_once(" @").ok_or_else(|| format!("bad inlined call `{call}`"))?;
            (loc, Some(Inlined { symbol: symbol.trim().to_string(), call: position(call)? }))
        }
        None => (loc, None),
    };
    Ok((item.trim_end(), position(loc)?, inlined))
}

/// `3:14`.
fn position(text: &str) -> Result<Loc, String> {
    let bad = || format!("bad location `@{text}`");
    let (line, col) = text.split_once(':').ok_or_else(bad)?;
    let number = |s: &str| s.trim().parse::<u32>().map_err(|_| bad());
    Ok(Loc { line: number(line)?, col: number(col)?, origin: 0 })
}

fn parse_line(text: &str) -> Result<Line, String> {
    let mut p = Parser::new(text);
    let line = match p.peek_word() {
        Some("goto") => {
            p.ident()?;
            Line::Terminator(Terminator::Goto(p.block_id()?))
        }
        Some("branch") => {
            p.ident()?;
            let cond = p.operand()?;
            p.punct(',')?;
            let then_block = p.block_id()?;
            p.punct(',')?;
            let else_block = p.block_id()?;
            Line::Terminator(Terminator::Branch { cond, then_block, else_block })
        }
        Some("return") => {
            p.ident()?;
            let mut values = Vec::new();
            if !p.at_end() {
                values.push(p.operand()?);
                while p.eat(',') {
                    values.push(p.operand()?);
                }
            }
            Line::Terminator(Terminator::Return(values))
        }
        Some("trap") => {
            p.ident()?;
            let name = p.ident()?;
            let code = TrapCode::ALL
                .into_iter()
                .find(|c| format!("{c:?}") == name)
                .ok_or_else(|| format!("unknown trap code `{name}`"))?;
            Line::Terminator(Terminator::Trap(code))
        }
        _ => {
            // `_1 = ...`, `_1, _2 = call ...`, or a statement without a
            // destination.
            let checkpoint = p.pos;
            let mut dests = Vec::new();
            while let Ok(Operand::Local(l)) = p.operand() {
                dests.push(l);
                if p.eat('=') {
                    break;
                }
                if !p.eat(',') {
                    dests.clear();
                    break;
                }
            }
            if dests.is_empty() {
                p.pos = checkpoint;
            }
            if p.peek_word() == Some("call") {
                p.ident()?;
                let symbol = p.ident()?;
                let args = p.args()?;
                Line::Stmt(StmtKind::Call { dests, symbol, args })
            } else {
                let rvalue = p.rvalue()?;
                match dests.as_slice() {
                    [] => Line::Stmt(StmtKind::Eval(rvalue)),
                    [l] => Line::Stmt(StmtKind::Assign(*l, rvalue)),
                    _ => return Err("only a call assigns several locals".into()),
                }
            }
        }
    };
    p.end()?;
    Ok(line)
}

/// A cursor over one line.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser { text, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn at_end(&mut self) -> bool {
        self.skip_space();
        self.rest().is_empty()
    }

    fn end(&mut self) -> Result<(), String> {
        if self.at_end() { Ok(()) } else { Err(format!("unexpected `{}`", self.rest())) }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn punct(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) { Ok(()) } else { Err(format!("expected `{c}` at `{}`", self.rest())) }
    }

    fn peek_word(&mut self) -> Option<&'a str> {
        self.skip_space();
        let rest = self.rest();
        let len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        (len > 0).then(|| &rest[..len])
    }

    fn ident(&mut self) -> Result<String, String> {
        match self.peek_word() {
            Some(word) if !word.starts_with(|c: char| c.is_ascii_digit()) => {
                self.pos += word.len();
                Ok(word.to_string())
            }
            _ => Err(format!("expected a name at `{}`", self.rest())),
        }
    }

    fn keyword(&mut self, kw: &str) -> Result<(), String> {
        if self.peek_word() == Some(kw) {
            self.pos += kw.len();
            Ok(())
        } else {
            Err(format!("expected `{kw}` at `{}`", self.rest()))
        }
    }

    fn ty(&mut self) -> Result<Ty, String> {
        let name = self.ident()?;
        Ok(match name.as_str() {
            "i64" => Ty::I64,
            "f64" => Ty::F64,
            "bool" => Ty::Bool,
            "str" => Ty::Str,
            "ref" => Ty::Ref,
            "nil" => Ty::Nil,
            _ => return Err(format!("unknown type `{name}`")),
        })
    }

    /// `_N: ty [name]`, where N must be `expected`.
    fn local_decl(&mut self, expected: usize) -> Result<LocalDecl, String> {
        let local = self.local()?;
        if local.0 as usize != expected {
            return Err(format!("expected local _{expected}, found {local}"));
        }
        self.punct(':')?;
        let ty = self.ty()?;
        let name = match self.peek_word() {
            Some(_) => Some(self.ident()?),
            None => None,
        };
        Ok(LocalDecl { ty, name })
    }

    fn local(&mut self) -> Result<Local, String> {
        match self.peek_word() {
            Some(word) if word.starts_with('_') => {
                let n = word[1..].parse().map_err(|_| format!("bad local `{word}`"))?;
                self.pos += word.len();
                Ok(Local(n))
            }
            _ => Err(format!("expected a local at `{}`", self.rest())),
        }
    }

    fn block_id(&mut self) -> Result<BlockId, String> {
        match self.peek_word() {
            Some(word) if word.starts_with("bb") => {
                let n = word[2..].parse().map_err(|_| format!("bad block `{word}`"))?;
                self.pos += word.len();
                Ok(BlockId(n))
            }
            _ => Err(format!("expected a block at `{}`", self.rest())),
        }
    }

    fn operand(&mut self) -> Result<Operand, String> {
        self.skip_space();
        let rest = self.rest();
        if rest.starts_with('_') {
            return self.local().map(Operand::Local);
        }
        if rest.starts_with('"') {
            return self.string().map(|s| Operand::Const(Const::Str(s)));
        }
        let len = rest.find(|c: char| c.is_whitespace() || matches!(c, ',' | ')')).unwrap_or(rest.len());
        let token = &rest[..len];
        let c = match token {
            "true" => Const::Bool(true),
            "false" => Const::Bool(false),
            "nil" => Const::Nil,
            "inf" => Const::F64(f64::INFINITY.to_bits()),
            "-inf" => Const::F64(f64::NEG_INFINITY.to_bits()),
            "NaN" => Const::F64(f64::NAN.to_bits()),
            _ if token.contains(['.', 'e']) => {
                Const::F64(token.parse::<f64>().map_err(|_| format!("bad float `{token}`"))?.to_bits())
            }
            _ => Const::I64(token.parse().map_err(|_| format!("expected an operand at `{rest}`"))?),
        };
        self.pos += len;
        Ok(Operand::Const(c))
    }

    /// A string constant as Rust's `{:?}` writes it.
    fn string(&mut self) -> Result<String, String> {
        self.punct('"')?;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => {
                    let escaped = match chars.next().map(|(_, e)| e) {
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some('0') => '\0',
                        Some('\\') => '\\',
                        Some('"') => '"',
                        Some('\'') => '\'',
                        Some('u') => {
                            let hex: String = chars
                                .by_ref()
                                .map(|(_, c)| c)
                                .skip_while(|c| *c == '{')
                                .take_while(|c| *c != '}')
                                .collect();
                            u32::from_str_radix(&hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| format!("bad escape `\\u{{{hex}}}`"))?
                        }
                        other => return Err(format!("bad escape `\\{other:?}`")),
                    };
                    out.push(escaped);
                }
                c => out.push(c),
            }
        }
        Err("unterminated string".into())
    }

    fn args(&mut self) -> Result<Vec<Operand>, String> {
        self.punct('(')?;
        let mut args = Vec::new();
        if self.eat(')') {
            return Ok(args);
        }
        loop {
            args.push(self.operand()?);
            if self.eat(')') {
                return Ok(args);
            }
            self.punct(',')?;
        }
    }

    fn rvalue(&mut self) -> Result<Rvalue, String> {
        let Some(word) = self.peek_word() else {
            return self.operand().map(Rvalue::Use);
        };
        // A word that is an operand (`_3`, `true`, `inf`, ...) is a `Use`.
        if !self.rest()[word.len()..].trim_start().starts_with('(') && word != "runtime" {
            return self.operand().map(Rvalue::Use);
        }
        self.pos += word.len();
        match word {
            "runtime" => {
                let name = self.ident()?;
                let rt = runtime_by_name(&name).ok_or_else(|| format!("unknown runtime function `{name}`"))?;
                Ok(Rvalue::Runtime(rt, self.args()?))
            }
            _ => {
                let op = op_by_name(word).ok_or_else(|| format!("unknown operation `{word}`"))?;
                let args = self.args()?;
                let arity = |n: usize| {
                    if args.len() == n {
                        Ok(())
                    } else {
                        Err(format!("`{word}` takes {n} operands, got {}", args.len()))
                    }
                };
                let mut args_iter = args.iter().cloned();
                let mut next = || args_iter.next().expect("arity checked above");
                Ok(match op {
                    Op::Binary(op) => {
                        arity(2)?;
                        Rvalue::Binary(op, next(), next())
                    }
                    Op::Unary(op) => {
                        arity(1)?;
                        Rvalue::Unary(op, next())
                    }
                    Op::Cast(kind) => {
                        arity(1)?;
                        Rvalue::Cast(kind, next())
                    }
                    Op::Intrinsic(i) => Rvalue::Intrinsic(i, args.clone()),
                })
            }
        }
    }
}

enum Op {
    Binary(BinOp),
    Unary(UnOp),
    Cast(CastKind),
    Intrinsic(Intrinsic),
}

fn op_by_name(name: &str) -> Option<Op> {
    use BinOp::*;
    let cmp = |s: &str| {
        Some(match s {
            "Eq" => Cmp::Eq,
            "Ne" => Cmp::Ne,
            "Lt" => Cmp::Lt,
            "Le" => Cmp::Le,
            "Gt" => Cmp::Gt,
            "Ge" => Cmp::Ge,
            _ => return None,
        })
    };
    if let Some(c) = name.strip_prefix("ICmp") {
        return cmp(c).map(|c| Op::Binary(ICmp(c)));
    }
    if let Some(c) = name.strip_prefix("FCmp") {
        return cmp(c).map(|c| Op::Binary(FCmp(c)));
    }
    let binary = [
        IAdd, ISub, IMul, IDiv, IRem, IFloorDiv, IPow, IShl, IShr, IAnd, IOr, IXor, IMin, IMax, FAdd, FSub, FMul, FDiv,
        FRem, FFloorDiv, FPow, FMin, FMax, BoolEq, BoolNe, IULt, IAddWrap, RefEq,
    ];
    if let Some(op) = binary.into_iter().find(|op| format!("{op:?}") == name) {
        return Some(Op::Binary(op));
    }
    let unary = [UnOp::INeg, UnOp::IAbs, UnOp::INot, UnOp::FNeg, UnOp::FAbs, UnOp::Not];
    if let Some(op) = unary.into_iter().find(|op| format!("{op:?}") == name) {
        return Some(Op::Unary(op));
    }
    Some(match name {
        "IntToFloat" => Op::Cast(CastKind::IntToFloat),
        "FloatToInt" => Op::Cast(CastKind::FloatToInt),
        "BoolToInt" => Op::Cast(CastKind::BoolToInt),
        "Sqrt" => Op::Intrinsic(Intrinsic::Sqrt),
        "Floor" => Op::Intrinsic(Intrinsic::Floor),
        "Ceil" => Op::Intrinsic(Intrinsic::Ceil),
        _ => return None,
    })
}

fn runtime_by_name(name: &str) -> Option<Rt> {
    Rt::ALL.iter().copied().find(|rt| rt.info().name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretty;

    #[test]
    fn round_trips() {
        let text = r#"fn f(_0: i64 a, _1: f64, _2: bool flag) -> f64 {
    let _3: i64
    let _4: str s
    let _5: f64
    let _6: nil
bb0:
    _3 = IAdd(_0, -9223372036854775808) @1:2
    _4 = runtime spl_str_from_i64(_3) @2:3
    runtime spl_print_str(1, "a \"q\" @1:2 \\ \n \u{1b}") @3:4
    _5 = call g(_1, true, nil, 1e21, -0.5, inf, -inf) @4:5
    _6 = call h() @4:6
    _6 = nil @4:7
    _5 = FCmpLe(_5, 2.0) @5:6
    _3 = FloatToInt(_5) @0:0
    Sqrt(_5) @1:1
    branch _2, bb1, bb2 @6:7
bb1:
    return _5 @7:8
bb2:
    trap IntegerOverflow @8:9
}
"#;
        let body = parse(text).unwrap();
        assert_eq!(pretty(&body), text);
        assert_eq!(body.param_count, 3);
        assert_eq!(
            body.blocks[0].stmts[2].kind,
            StmtKind::Eval(Rvalue::Runtime(
                Rt::PrintStr,
                vec![Operand::Const(Const::I64(1)), Operand::Const(Const::Str("a \"q\" @1:2 \\ \n \u{1b}".into()))]
            ))
        );
    }

    #[test]
    fn reports_errors_by_line() {
        let err = parse("fn f() -> nil {\nbb0:\n    _0 = Frob(1)\n}\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("Frob"), "{err}");
        let err = parse("fn f() -> nil {\nbb1:\n}\n").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
