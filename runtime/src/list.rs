//! Lists (layout in `simple_abi::list_layout`): a record holding the length
//! and an items array whose element count is the capacity.
//!
//! Compiled code reads and writes elements in place and checks indices
//! itself; the functions here allocate, grow, shift and copy. Elements
//! past the length are kept zero, so the collector may scan whole arrays.

use simple_abi::heap_layout::{ARRAY_ELEMS_OFFSET, ARRAY_LEN_OFFSET};
use simple_abi::list_layout::{ITEMS_OFFSET, LEN_OFFSET};

use super::alloc::{alloc_array, alloc_record, desc_slots};
use super::heap;
use super::heap::desc::{LIST_DESC, STR_ITEMS_DESC};
use super::process::runtime_error;
use super::values;

/// The smallest capacity a list grows to.
const MIN_CAPACITY: usize = 4;

/// A list object.
#[derive(Clone, Copy)]
struct List(*mut u8);

impl List {
    fn len(self) -> usize {
        // SAFETY: a list record holds its length at LEN_OFFSET.
        unsafe { self.0.add(LEN_OFFSET as usize).cast::<u64>().read() as usize }
    }

    fn set_len(self, len: usize) {
        // SAFETY: as in `len`.
        unsafe { self.0.add(LEN_OFFSET as usize).cast::<u64>().write(len as u64) }
    }

    fn items(self) -> *mut u8 {
        // SAFETY: a list record holds its items array at ITEMS_OFFSET.
        unsafe { self.0.add(ITEMS_OFFSET as usize).cast::<*mut u8>().read() }
    }

    fn set_items(self, items: *mut u8) {
        // SAFETY: as in `items`.
        unsafe { self.0.add(ITEMS_OFFSET as usize).cast::<*mut u8>().write(items) }
    }

    fn items_desc(self) -> *const u8 {
        // SAFETY: the items array's header is its descriptor's address.
        unsafe { self.items().cast::<*const u8>().read() }
    }

    fn capacity(self) -> usize {
        // SAFETY: an array holds its element count at ARRAY_LEN_OFFSET.
        unsafe { self.items().add(ARRAY_LEN_OFFSET).cast::<u64>().read() as usize }
    }

    /// Bytes per element.
    fn elem_size(self) -> usize {
        // SAFETY: the items array has a descriptor.
        8 * unsafe { desc_slots(self.items_desc()) }
    }

    /// The address of element `i` (which may be one past the end).
    fn elem(self, i: usize) -> *mut u8 {
        // SAFETY: callers stay within the capacity.
        unsafe { self.items().add(ARRAY_ELEMS_OFFSET + i * self.elem_size()) }
    }

    /// The slots of the elements, as words.
    fn words(self) -> &'static [u64] {
        let n = self.len() * self.elem_size() / 8;
        // SAFETY: the first `len` elements are initialised words.
        unsafe { std::slice::from_raw_parts(self.elem(0).cast::<u64>(), n) }
    }
}

/// A new list of `len` zeroed elements with room for `capacity`.
///
/// # Safety
/// `items_desc` must point to an array descriptor.
pub unsafe fn new_list(items_desc: *const u8, len: usize, capacity: usize) -> *mut u8 {
    // SAFETY: per the contract.
    let items = unsafe { alloc_array(items_desc, capacity.max(len)) };
    // SAFETY: LIST_DESC is a record descriptor.
    let list = List(unsafe { alloc_record(LIST_DESC.as_ptr()) });
    list.set_len(len);
    list.set_items(items);
    list.0
}

/// A `[str]` holding `items`.
pub fn str_list(items: &[*const u8]) -> *mut u8 {
    // SAFETY: STR_ITEMS_DESC is an array descriptor.
    let list = List(unsafe { new_list(STR_ITEMS_DESC.as_ptr(), items.len(), items.len()) });
    for (i, s) in items.iter().enumerate() {
        // SAFETY: element `i` is within the length.
        unsafe { list.elem(i).cast::<*const u8>().write(*s) };
    }
    list.0
}

/// The strings of a `[str]`.
///
/// # Safety
/// `list` must be a live list of `str`.
pub unsafe fn str_items<'a>(list: *mut u8) -> &'a [*const u8] {
    let list = List(list);
    // SAFETY: per the contract, each element is one `str` slot.
    unsafe { std::slice::from_raw_parts(list.elem(0).cast::<*const u8>(), list.len()) }
}

/// The first element slot of a list, to fill it.
///
/// # Safety
/// `list` must be a live list.
pub unsafe fn elements_mut(list: *mut u8) -> *mut u64 {
    List(list).elem(0).cast()
}

/// The length and the element words of a list, for printing and comparing.
///
/// # Safety
/// `list` must be a live list.
pub unsafe fn elements(list: *mut u8) -> (usize, &'static [u64]) {
    let list = List(list);
    (list.len(), list.words())
}

/// # Safety
/// `items_desc` must be the address of an array descriptor.
pub unsafe extern "C" fn spl_list_new(items_desc: i64, len: i64) -> *mut u8 {
    heap::maybe_collect(&[]);
    let Ok(len) = usize::try_from(len) else { runtime_error(&format!("negative list length {len}")) };
    // SAFETY: per the contract.
    unsafe { new_list(items_desc as *const u8, len, len.max(MIN_CAPACITY)) }
}

/// Makes room for one more element at the end; returns its index.
///
/// # Safety
/// `list` must be a live list.
pub unsafe extern "C" fn spl_list_grow(list: *mut u8) -> i64 {
    heap::maybe_collect(&[list]);
    let list = List(list);
    let len = list.len();
    if len == list.capacity() {
        let capacity = len.checked_mul(2).unwrap_or_else(|| runtime_error("out of memory")).max(MIN_CAPACITY);
        // SAFETY: the new array has the old one's descriptor and room for
        // the old elements, which are copied over whole.
        unsafe {
            let items = alloc_array(list.items_desc(), capacity);
            let bytes = len * list.elem_size();
            std::ptr::copy_nonoverlapping(list.elem(0), items.add(ARRAY_ELEMS_OFFSET), bytes);
            list.set_items(items);
        }
    }
    list.set_len(len + 1);
    len as i64
}

/// Inserts a zeroed element at `index` (clamped as Python's `insert`);
/// returns where.
///
/// # Safety
/// `list` must be a live list.
pub unsafe extern "C" fn spl_list_insert(list: *mut u8, index: i64) -> i64 {
    // `spl_list_grow` collects first (with `list` a root), as an entry
    // point must; nothing here holds a reference across it.
    // SAFETY: per the contract.
    unsafe { spl_list_grow(list) };
    let len = List(list).len() as i64 - 1;
    let at = if index < 0 { (index + len).max(0) } else { index.min(len) } as usize;
    let list = List(list);
    let size = list.elem_size();
    // SAFETY: elements `at..len` move up by one within the capacity.
    unsafe {
        std::ptr::copy(list.elem(at), list.elem(at + 1), (len as usize - at) * size);
        std::ptr::write_bytes(list.elem(at), 0, size);
    }
    at as i64
}

/// Removes the element at `index`, which compiled code has checked.
///
/// # Safety
/// `list` must be a live list and `index` one of its indices.
pub unsafe extern "C" fn spl_list_remove(list: *mut u8, index: i64) {
    let list = List(list);
    let (len, at) = (list.len(), index as usize);
    if at >= len {
        return;
    }
    let size = list.elem_size();
    // SAFETY: elements `at + 1..len` move down by one; the last is zeroed.
    unsafe {
        std::ptr::copy(list.elem(at + 1), list.elem(at), (len - at - 1) * size);
        std::ptr::write_bytes(list.elem(len - 1), 0, size);
    }
    list.set_len(len - 1);
}

/// `xs[start:end]` with Python's clamping; `written` says which bounds were
/// given (bit 0 start, bit 1 end).
///
/// # Safety
/// `list` must be a live list.
pub unsafe extern "C" fn spl_list_slice(list: *mut u8, start: i64, end: i64, written: i64) -> *mut u8 {
    heap::maybe_collect(&[list]);
    let list = List(list);
    let (from, to) = slice_bounds(list.len(), start, end, written);
    let n = to.saturating_sub(from);
    // SAFETY: the new list has room for `n` elements of the same layout.
    unsafe {
        let out = List(new_list(list.items_desc(), n, n));
        std::ptr::copy_nonoverlapping(list.elem(from), out.elem(0), n * list.elem_size());
        out.0
    }
}

/// Python's slice bounds of a sequence of `len` items.
pub fn slice_bounds(len: usize, start: i64, end: i64, written: i64) -> (usize, usize) {
    let len = len as i64;
    let clamp = |i: i64| if i < 0 { (i + len).max(0) } else { i.min(len) } as usize;
    let from = if written & 1 != 0 { clamp(start) } else { 0 };
    let to = if written & 2 != 0 { clamp(end) } else { len as usize };
    (from, to.max(from))
}

/// `a + b`.
///
/// # Safety
/// `a` and `b` must be live lists of one element type.
pub unsafe extern "C" fn spl_list_concat(a: *mut u8, b: *mut u8) -> *mut u8 {
    heap::maybe_collect(&[a, b]);
    let (a, b) = (List(a), List(b));
    let (n, m) = (a.len(), b.len());
    let Some(total) = n.checked_add(m) else { runtime_error("out of memory") };
    // SAFETY: the new list has room for both lists' elements.
    unsafe {
        let out = List(new_list(a.items_desc(), total, total));
        std::ptr::copy_nonoverlapping(a.elem(0), out.elem(0), n * a.elem_size());
        std::ptr::copy_nonoverlapping(b.elem(0), out.elem(n), m * a.elem_size());
        out.0
    }
}

/// Whether `list` holds a value equal to the one in `record`.
///
/// # Safety
/// `info` must describe the element type, `list` be a live list of it and
/// `record` hold a value of it.
pub unsafe extern "C" fn spl_list_contains(info: i64, list: *mut u8, record: *mut u8) -> u8 {
    let list = List(list);
    let slots = list.elem_size() / 8;
    if slots == 0 {
        return u8::from(list.len() > 0);
    }
    // SAFETY: per the contract.
    u8::from(unsafe { values::any_equal(info, list.words().chunks(slots), record) })
}
