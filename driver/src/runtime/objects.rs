//! `spl_alloc_record` and `spl_alloc_array`: the runtime functions through
//! which compiled code allocates objects of the descriptors it emits (see
//! `simple_abi::heap_layout`).
//!
//! Both follow the heap's discipline: collect first (their arguments hold
//! no references: a descriptor is static), then allocate.

use super::heap;

/// A new record of the `KIND_RECORD` descriptor `desc`, every slot zero.
///
/// # Safety
/// `desc` must point to a valid descriptor in the module's read-only data
/// (or another place that outlives the program).
pub unsafe extern "C" fn spl_alloc_record(desc: *const u8) -> *const u8 {
    heap::maybe_collect(&[]);
    // SAFETY: per the contract.
    unsafe { heap::alloc_record(desc) }.unwrap_or_else(|error| error.report())
}

/// A new array of `len` elements of the `KIND_ARRAY` descriptor `desc`,
/// every slot zero. A negative `len` or one that does not fit in memory is
/// a runtime error.
///
/// # Safety
/// As for [`spl_alloc_record`].
pub unsafe extern "C" fn spl_alloc_array(desc: *const u8, len: i64) -> *const u8 {
    heap::maybe_collect(&[]);
    // SAFETY: per the contract.
    unsafe { heap::alloc_array(desc, len) }.unwrap_or_else(|error| error.report())
}
