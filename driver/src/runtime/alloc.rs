//! Allocation of heap objects (records and arrays, see
//! `simple_abi::heap_layout`): the one place the runtime and compiled code
//! get them from, so the collector can own it.
//!
//! Until the collector lands, objects come from the system allocator and
//! are never freed.

use simple_abi::heap_layout::{ARRAY_ELEMS_OFFSET, ARRAY_LEN_OFFSET};

use super::process::runtime_error;

/// The number of slots a descriptor declares (`slots` at offset 4).
///
/// # Safety
/// `desc` must point to a descriptor.
pub unsafe fn desc_slots(desc: *const u8) -> usize {
    // SAFETY: per the contract.
    unsafe { desc.add(4).cast::<u32>().read_unaligned() as usize }
}

/// `size` zeroed bytes, 8-aligned, with the header set to `desc`.
fn alloc_object(desc: *const u8, size: usize) -> *mut u8 {
    let Ok(layout) = std::alloc::Layout::from_size_align(size.max(8), 8) else { runtime_error("out of memory") };
    // SAFETY: the layout is not zero-sized.
    let block = unsafe { std::alloc::alloc_zeroed(layout) };
    if block.is_null() {
        runtime_error("out of memory");
    }
    // SAFETY: the block holds at least the 8-byte header.
    unsafe { block.cast::<usize>().write(desc as usize) };
    block
}

/// A zeroed record for the descriptor `desc`.
///
/// # Safety
/// `desc` must point to a record descriptor.
pub unsafe fn alloc_record(desc: *const u8) -> *mut u8 {
    // SAFETY: per the contract.
    let slots = unsafe { desc_slots(desc) };
    alloc_object(desc, 8 + 8 * slots)
}

/// A zeroed array of `len` elements for the descriptor `desc`.
///
/// # Safety
/// `desc` must point to an array descriptor.
pub unsafe fn alloc_array(desc: *const u8, len: usize) -> *mut u8 {
    // SAFETY: per the contract.
    let slots = unsafe { desc_slots(desc) };
    let Some(size) = len.checked_mul(8 * slots).and_then(|n| n.checked_add(ARRAY_ELEMS_OFFSET as usize)) else {
        runtime_error("out of memory")
    };
    let array = alloc_object(desc, size);
    // SAFETY: the array has room for its length.
    unsafe { array.add(ARRAY_LEN_OFFSET as usize).cast::<u64>().write(len as u64) };
    array
}

/// `spl_alloc_record`: a zeroed record for compiled code.
pub extern "C" fn spl_alloc_record(desc: i64) -> *mut u8 {
    // SAFETY: compiled code passes the address of a record descriptor.
    unsafe { alloc_record(desc as *const u8) }
}
