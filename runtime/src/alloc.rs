//! Allocation of heap objects (records and arrays, see
//! `simple_abi::heap_layout`) for the runtime and for compiled code, on
//! the collected heap.
//!
//! The functions here never collect (see `heap`): a runtime function calls
//! `heap::maybe_collect` at its start, then allocates what it needs.

use super::heap;

/// The number of slots a descriptor declares.
///
/// # Safety
/// `desc` must point to a descriptor.
pub unsafe fn desc_slots(desc: *const u8) -> usize {
    // SAFETY: per the contract, `slots` is the u32 at DESC_SLOTS_OFFSET.
    unsafe { desc.add(simple_abi::heap_layout::DESC_SLOTS_OFFSET).cast::<u32>().read_unaligned() as usize }
}

/// A zeroed record for the descriptor `desc`.
///
/// # Safety
/// `desc` must point to a record descriptor that outlives the program.
pub unsafe fn alloc_record(desc: *const u8) -> *mut u8 {
    // SAFETY: per the contract.
    unsafe { heap::alloc_record(desc) }.unwrap_or_else(|error| error.report())
}

/// A zeroed array of `len` elements for the descriptor `desc`; too large
/// a `len` is the runtime error `out of memory`.
///
/// # Safety
/// `desc` must point to an array descriptor that outlives the program.
pub unsafe fn alloc_array(desc: *const u8, len: usize) -> *mut u8 {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    // SAFETY: per the contract.
    unsafe { heap::alloc_array(desc, len) }.unwrap_or_else(|error| error.report())
}

/// `spl_alloc_record`: a zeroed record for compiled code, whose arguments
/// hold no references (a descriptor is static), so it may collect first.
pub extern "C" fn spl_alloc_record(desc: i64) -> *mut u8 {
    heap::maybe_collect(&[]);
    // SAFETY: compiled code passes the address of a record descriptor in
    // its module's read-only data.
    unsafe { alloc_record(desc as *const u8) }
}
