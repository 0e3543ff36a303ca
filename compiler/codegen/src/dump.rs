//! Textual views of a function's compilation, for `simple dump clif|asm`.

use std::fmt::Write as _;

use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::isa::TargetIsa;
use simple_mir::Body;

use crate::CodegenError;
use crate::function::build;

/// The Cranelift IR of `body` as built from MIR, before Cranelift's own
/// optimisations. Instructions show their source location as `@` and a
/// hexadecimal index into the function's table of MIR locations, which
/// follows the function as comments (`; @0003 = 2:14`, line relative to the
/// function).
pub fn dump_clif(body: &Body, isa: &dyn TargetIsa) -> Result<String, CodegenError> {
    let built = build(body, isa)?;
    let mut text = built.func.display().to_string();
    for (i, loc) in built.locs.iter().enumerate() {
        // Writing into a String cannot fail.
        writeln!(text, "; @{i:04x} = {}:{}", loc.line, loc.col).expect("write to String");
    }
    Ok(text)
}

/// The machine code of `body` as Cranelift's lowered instructions (VCode)
/// after register allocation: readable x86_64 assembly with block labels.
/// (A byte-level disassembly would need Cranelift's `disas` feature, which
/// builds Capstone; this needs nothing extra.)
pub fn dump_asm(body: &Body, isa: &dyn TargetIsa) -> Result<String, CodegenError> {
    let built = build(body, isa)?;
    let mut ctx = Context::for_function(built.func);
    ctx.set_disasm(true);
    let compiled = ctx
        .compile(isa, &mut ControlPlane::default())
        .map_err(|e| CodegenError::Cranelift { symbol: body.symbol.clone(), message: e.inner.to_string() })?;
    Ok(compiled.vcode.clone().unwrap_or_default())
}
