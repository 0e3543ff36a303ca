//! The Simple compiler: source text to an SMF module, as Salsa queries.
//!
//! Data flows one way: text → AST (`simple_syntax`) → typed HIR (`hir`) →
//! MIR (`lower`, `simple_mir`) → machine code (`simple_codegen`) → SMF.
//! The driver owns the database and sets its inputs; see `db` for the queries.

pub mod consts;
pub mod db;
pub mod diagnostics;
pub mod dump;
pub mod hir;
pub mod inline;
pub mod items;
pub mod layout;
pub mod line_index;
pub mod lower;
pub mod parallel;
pub mod persist;

use std::sync::{Arc, OnceLock};

pub use db::{Database, Db, FnId, Options, Project, SourceFile};
pub use simple_abi::build::COMPILER_VERSION;

/// The host's code generator, built once per process: the ISA depends only
/// on the machine, never on the program.
pub fn isa() -> Result<Arc<dyn simple_codegen::TargetIsa>, String> {
    static ISA: OnceLock<Result<Arc<dyn simple_codegen::TargetIsa>, String>> = OnceLock::new();
    ISA.get_or_init(|| simple_codegen::native_isa().map_err(|e| e.to_string())).clone()
}
