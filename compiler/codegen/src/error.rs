//! Why compiling one function failed.

use simple_mir::VerifyError;

/// A function could not be compiled. Each variant is a compiler bug or an
/// unsupported host, never a user error: MIR from a well-typed program
/// always compiles.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum CodegenError {
    #[error(transparent)]
    InvalidMir(#[from] VerifyError),
    #[error("cannot set up code generation for this machine: {0}")]
    Isa(String),
    #[error("Cranelift could not compile `{symbol}`: {message}")]
    Cranelift { symbol: String, message: String },
    #[error("`{symbol}`: unsupported relocation {what} at code offset {offset}")]
    UnsupportedRelocation { symbol: String, offset: u32, what: String },
}
