//! What running a built module needs, shared by the two binaries: `simple`
//! (`main.rs`), which runs an up-to-date module itself and hands everything
//! else to `simplec` (`simplec/`), the compiler's command line.
//!
//! This library must not depend on the compiler: `simple` links it alone so
//! that running a program costs little more memory than a C program does.

pub mod launch;
pub mod runtime;
