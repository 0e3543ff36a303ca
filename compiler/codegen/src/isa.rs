//! The target: the host's x86_64 (or other Cranelift-supported) ISA with
//! the flags every Simple function is compiled with.

use std::sync::Arc;

use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::settings::{self, Configurable};

use crate::CodegenError;

/// The host ISA, detected with `cranelift-native` (CPU features included),
/// with these shared flags:
/// - `opt_level=speed`;
/// - `preserve_frame_pointers=true`, so the runtime can walk Simple frames
///   for backtraces and GC roots;
/// - `is_pic=false`: runtime calls are absolute 8-byte addresses the loader
///   patches; Simple functions and literals are reached PC-relatively;
/// - `enable_probestack=true` with inline probes, so a frame larger than a
///   page touches every page and cannot jump over the stack guard page;
/// - `enable_verifier` only in debug builds;
/// - `unwind_info=false`: nothing uses DWARF/Windows unwind tables, frame
///   pointers serve instead;
/// - `enable_multi_ret_implicit_sret`: a function returning a struct
///   returns its fields as separate values, more than fit in registers.
///   The return area this introduces is Cranelift's own convention, which
///   is fine: only Simple code built by the same compiler calls Simple code.
pub fn native_isa() -> Result<Arc<dyn TargetIsa>, CodegenError> {
    let isa_builder = cranelift_native::builder().map_err(|e| CodegenError::Isa(e.to_string()))?;
    let mut flags = settings::builder();
    let verifier = if cfg!(debug_assertions) { "true" } else { "false" };
    for (name, value) in [
        ("opt_level", "speed"),
        ("preserve_frame_pointers", "true"),
        ("is_pic", "false"),
        ("enable_probestack", "true"),
        ("probestack_strategy", "inline"),
        ("enable_verifier", verifier),
        ("unwind_info", "false"),
        ("enable_multi_ret_implicit_sret", "true"),
    ] {
        flags.set(name, value).map_err(|e| CodegenError::Isa(format!("setting {name}={value}: {e}")))?;
    }
    isa_builder.finish(settings::Flags::new(flags)).map_err(|e| CodegenError::Isa(e.to_string()))
}
