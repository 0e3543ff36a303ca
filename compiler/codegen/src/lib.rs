//! Codegen: one MIR function to x86_64 machine code with Cranelift, and
//! linking compiled functions into an SMF module.
//!
//! Everything here is a pure function of its inputs: [`compile_function`]
//! builds a fresh `cranelift_codegen::Context` per call and returns plain
//! owned data ([`CompiledFn`]), so the compiler can memoize it per function
//! and the output is deterministic. [`object`] lays out the compiled
//! functions of one file and [`link`] concatenates objects into a
//! [`simple_smf::Module`], so the compiler can memoize layout per file too.
//!
//! Architecture invariant: this crate knows MIR, the runtime ABI
//! (`simple_abi`) and the SMF model, nothing of syntax, HIR or Salsa; it
//! reads no files and keeps no state between calls.

mod dump;
mod error;
mod function;
mod isa;
mod link;
#[cfg(test)]
mod tests;

/// The target the functions are compiled for (see [`native_isa`]).
pub use cranelift_codegen::isa::TargetIsa;
pub use dump::{dump_asm, dump_clif};
pub use error::CodegenError;
pub use function::{CompiledFn, FnReloc, Literal, RelocTarget, StackMap, compile_function};
pub use isa::native_isa;
pub use link::{LinkError, LinkInput, Object, ObjectInput, link, object};
