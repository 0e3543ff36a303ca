//! Dicts (layout in `simple_abi::dict_layout`): insertion-ordered hash
//! maps with `i64`, `bool` or `str` keys.
//!
//! Entries live in an array in insertion order; a separate index (open
//! addressing, linear probing) maps hashes to entry numbers. Removing an
//! entry zeroes it and leaves its index slot as a tombstone, so the others
//! keep their order; re-inserting the key appends. When the entries array
//! is full the dict is rebuilt without the removed entries. Compiled code
//! finds an entry here and reads or writes its value in place.

use std::hash::Hasher;

use rustc_hash::FxHasher;
use simple_abi::dict_layout::{ENTRIES_OFFSET, KEY_SLOT, KEY_STR, LEN_OFFSET, VALUE_SLOT};
use simple_abi::heap_layout::{ARRAY_ELEMS_OFFSET, ARRAY_LEN_OFFSET, RECORD_SLOTS_OFFSET};

use super::alloc::{alloc_array, alloc_record, desc_slots};
use super::heap::{
    self,
    desc::{DICT_DESC, INDEX_DESC},
};
use super::list::new_list;
use super::strings::str_bytes;

const INDEX_SLOT: usize = 2;
const USED_SLOT: usize = 3;
const KIND_SLOT: usize = 4;
/// The smallest index.
const MIN_INDEX: usize = 8;

#[derive(Clone, Copy)]
struct Dict(*mut u8);

impl Dict {
    fn slot(self, i: usize) -> *mut u64 {
        // SAFETY: a dict record has five slots.
        unsafe { self.0.add(RECORD_SLOTS_OFFSET + 8 * i).cast() }
    }

    fn get(self, i: usize) -> u64 {
        // SAFETY: see `slot`.
        unsafe { self.slot(i).read() }
    }

    fn set(self, i: usize, v: u64) {
        // SAFETY: see `slot`.
        unsafe { self.slot(i).write(v) }
    }

    fn len(self) -> usize {
        debug_assert_eq!(LEN_OFFSET as usize, RECORD_SLOTS_OFFSET);
        self.get(0) as usize
    }

    fn entries(self) -> *mut u8 {
        debug_assert_eq!(ENTRIES_OFFSET as usize, RECORD_SLOTS_OFFSET + 8);
        self.get(1) as *mut u8
    }

    fn index(self) -> *mut u8 {
        self.get(INDEX_SLOT) as *mut u8
    }

    fn used(self) -> usize {
        self.get(USED_SLOT) as usize
    }

    fn str_keys(self) -> bool {
        self.get(KIND_SLOT) as i64 == KEY_STR
    }

    /// Slots per entry.
    fn entry_slots(self) -> usize {
        // SAFETY: the entries array's header is its descriptor.
        unsafe { desc_slots(self.entries().cast::<*const u8>().read()) }
    }

    /// The slots of entry `e`.
    fn entry(self, e: usize) -> *mut u64 {
        // SAFETY: callers stay within the entries array.
        unsafe { self.entries().add(ARRAY_ELEMS_OFFSET + 8 * e * self.entry_slots()).cast() }
    }

    fn capacity(self) -> usize {
        array_len(self.entries())
    }

    fn index_len(self) -> usize {
        array_len(self.index())
    }

    fn index_slot(self, i: usize) -> *mut u64 {
        // SAFETY: callers stay within the index.
        unsafe { self.index().add(ARRAY_ELEMS_OFFSET + 8 * i).cast() }
    }

    fn hash(self, key: u64) -> u64 {
        let mut h = FxHasher::default();
        if self.str_keys() {
            // SAFETY: a str-keyed dict's keys are live strings.
            h.write(unsafe { str_bytes(key as *const u8) });
        } else {
            h.write_u64(key);
        }
        // The low bit marks a live entry.
        h.finish() | 1
    }

    fn same_key(self, a: u64, b: u64) -> bool {
        // SAFETY: as in `hash`.
        a == b || (self.str_keys() && unsafe { str_bytes(a as *const u8) == str_bytes(b as *const u8) })
    }

    /// The entry of `key`, if any.
    fn find(self, key: u64) -> Option<usize> {
        let hash = self.hash(key);
        let mask = self.index_len() - 1;
        let mut i = hash as usize & mask;
        loop {
            // SAFETY: `i` is masked to the index.
            let slot = unsafe { self.index_slot(i).read() } as usize;
            if slot == 0 {
                return None;
            }
            let e = slot - 1;
            // SAFETY: index slots name used entries.
            let (h, k) = unsafe { (self.entry(e).read(), self.entry(e).add(KEY_SLOT).read()) };
            if h == hash && self.same_key(k, key) {
                return Some(e);
            }
            i = (i + 1) & mask;
        }
    }

    /// Records entry `e` (whose hash is `hash`) in the index.
    fn index_entry(self, e: usize, hash: u64) {
        let mask = self.index_len() - 1;
        let mut i = hash as usize & mask;
        // SAFETY: `i` is masked to the index, which always has free slots.
        unsafe {
            while self.index_slot(i).read() != 0 {
                i = (i + 1) & mask;
            }
            self.index_slot(i).write(e as u64 + 1);
        }
    }

    /// Rebuilds the entries (without removed ones) and the index with room
    /// for at least one more entry.
    fn rebuild(self) {
        let len = self.len();
        let index_len = ((len + 1) * 2).next_power_of_two().max(MIN_INDEX);
        let capacity = index_len / 2;
        let slots = self.entry_slots();
        let old = self.entries();
        let used = self.used();
        // SAFETY: the new arrays have the old entries' descriptor and room
        // for every live entry; live entries are copied whole, in order.
        unsafe {
            let desc = old.cast::<*const u8>().read();
            let entries = alloc_array(desc, capacity);
            let index = alloc_array(INDEX_DESC.as_ptr(), index_len);
            self.set(1, entries as u64);
            self.set(INDEX_SLOT, index as u64);
            let mut n = 0;
            for e in 0..used {
                let from = old.add(ARRAY_ELEMS_OFFSET + 8 * e * slots).cast::<u64>();
                let hash = from.read();
                if hash != 0 {
                    std::ptr::copy_nonoverlapping(from, self.entry(n), slots);
                    self.index_entry(n, hash);
                    n += 1;
                }
            }
            self.set(USED_SLOT, n as u64);
        }
    }

    /// The entry of `key`, appended (with a zeroed value) if missing.
    fn insert(self, key: u64) -> usize {
        if let Some(e) = self.find(key) {
            return e;
        }
        if self.used() == self.capacity() {
            self.rebuild();
        }
        let e = self.used();
        let hash = self.hash(key);
        // SAFETY: `e` is below the capacity; the entry is zero.
        unsafe {
            self.entry(e).write(hash);
            self.entry(e).add(KEY_SLOT).write(key);
        }
        self.index_entry(e, hash);
        self.set(USED_SLOT, e as u64 + 1);
        self.set(0, self.len() as u64 + 1);
        e
    }
}

fn array_len(array: *mut u8) -> usize {
    // SAFETY: arrays hold their length at ARRAY_LEN_OFFSET.
    unsafe { array.add(ARRAY_LEN_OFFSET).cast::<u64>().read() as usize }
}

/// An empty dict whose entries have the descriptor at `entries_desc`.
///
/// # Safety
/// `entries_desc` must be the address of an array descriptor of at least
/// two slots; `key_kind` one of `dict_layout::KEY_*`.
pub unsafe extern "C" fn spl_dict_new(entries_desc: i64, key_kind: i64) -> *mut u8 {
    heap::maybe_collect(&[]);
    // SAFETY: per the contract.
    unsafe {
        let dict = Dict(alloc_record(DICT_DESC.as_ptr()));
        dict.set(1, alloc_array(entries_desc as *const u8, MIN_INDEX / 2) as u64);
        dict.set(INDEX_SLOT, alloc_array(INDEX_DESC.as_ptr(), MIN_INDEX) as u64);
        dict.set(KIND_SLOT, key_kind as u64);
        dict.0
    }
}

/// # Safety
/// `dict` must be a live dict with `i64` or `bool` keys.
pub unsafe extern "C" fn spl_dict_find_int(dict: *mut u8, key: i64) -> i64 {
    Dict(dict).find(key as u64).map_or(-1, |e| e as i64)
}

/// # Safety
/// `dict` must be a live dict with `str` keys and `key` a live string.
pub unsafe extern "C" fn spl_dict_find_str(dict: *mut u8, key: *const u8) -> i64 {
    Dict(dict).find(key as u64).map_or(-1, |e| e as i64)
}

/// # Safety
/// As for [`spl_dict_find_int`].
pub unsafe extern "C" fn spl_dict_insert_int(dict: *mut u8, key: i64) -> i64 {
    heap::maybe_collect(&[dict]);
    Dict(dict).insert(key as u64) as i64
}

/// # Safety
/// As for [`spl_dict_find_str`].
pub unsafe extern "C" fn spl_dict_insert_str(dict: *mut u8, key: *const u8) -> i64 {
    heap::maybe_collect(&[dict, key]);
    Dict(dict).insert(key as u64) as i64
}

/// Removes entry `e`, which a find returned.
///
/// # Safety
/// `dict` must be a live dict and `e` one of its live entries.
pub unsafe extern "C" fn spl_dict_remove_at(dict: *mut u8, e: i64) {
    let dict = Dict(dict);
    let e = e as usize;
    if e >= dict.used() {
        return;
    }
    // SAFETY: the entry is within the used part; zeroing it marks it
    // removed (its index slot stays, as a tombstone).
    unsafe { std::ptr::write_bytes(dict.entry(e), 0, dict.entry_slots()) };
    dict.set(0, dict.len() as u64 - 1);
}

/// A list of slots `first..first + count` of each live entry, in order.
///
/// # Safety
/// `dict` must be a live dict, the slots within its entries, and
/// `items_desc` the address of an array descriptor of `count` slots.
pub unsafe extern "C" fn spl_dict_project(dict: *mut u8, first: i64, count: i64, items_desc: i64) -> *mut u8 {
    heap::maybe_collect(&[dict]);
    let dict = Dict(dict);
    let (first, count) = (first as usize, count as usize);
    // SAFETY: per the contract; the list has room for every live entry.
    unsafe {
        let list = new_list(items_desc as *const u8, dict.len(), dict.len());
        let mut out = super::list::elements_mut(list);
        for e in 0..dict.used() {
            let entry = dict.entry(e);
            if entry.read() != 0 {
                std::ptr::copy_nonoverlapping(entry.add(first), out, count);
                out = out.add(count);
            }
        }
        list
    }
}

/// The live entries of a dict, each as its slots, in order: for printing
/// and comparing.
///
/// # Safety
/// `dict` must be a live dict.
pub unsafe fn entries<'a>(dict: *mut u8) -> impl Iterator<Item = &'a [u64]> {
    let dict = Dict(dict);
    let slots = dict.entry_slots();
    // SAFETY: the used entries are initialised slots.
    let all = unsafe { std::slice::from_raw_parts(dict.entry(0).cast_const(), dict.used() * slots) };
    all.chunks(slots.max(1)).filter(|e| e[0] != 0)
}

/// The number of entries of a dict.
///
/// # Safety
/// `dict` must be a live dict.
pub unsafe fn len(dict: *mut u8) -> usize {
    Dict(dict).len()
}

/// The value of `key` in a dict, as slots, if present: for comparing.
///
/// # Safety
/// `dict` must be a live dict and `key` a key of its kind.
pub unsafe fn lookup<'a>(dict: *mut u8, key: u64) -> Option<&'a [u64]> {
    let dict = Dict(dict);
    let e = dict.find(key)?;
    let slots = dict.entry_slots();
    // SAFETY: `e` is a live entry.
    Some(unsafe { std::slice::from_raw_parts(dict.entry(e).add(VALUE_SLOT).cast_const(), slots - VALUE_SLOT) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::desc::StaticDesc;
    use crate::strings::alloc_str;
    use simple_abi::dict_layout::KEY_INT;
    use simple_abi::heap_layout::KIND_ARRAY;

    /// Entries of a `{str: i64}` or `{i64: i64}`: hash, key, value.
    static STR_ENTRIES: StaticDesc = StaticDesc::new(KIND_ARRAY, 3, 0b010);
    static INT_ENTRIES: StaticDesc = StaticDesc::new(KIND_ARRAY, 3, 0);

    fn value(dict: *mut u8, e: i64) -> u64 {
        assert!(e >= 0, "missing");
        unsafe { Dict(dict).entry(e as usize).add(VALUE_SLOT).read() }
    }

    fn set(dict: *mut u8, e: i64, v: u64) {
        unsafe { Dict(dict).entry(e as usize).add(VALUE_SLOT).write(v) }
    }

    #[test]
    fn str_keys_are_found_by_their_text() {
        unsafe {
            let dict = spl_dict_new(STR_ENTRIES.as_ptr() as i64, KEY_STR);
            let keys: Vec<String> = (0..5000).map(|i| format!("w{i}")).collect();
            for (i, key) in keys.iter().enumerate() {
                let e = spl_dict_insert_str(dict, alloc_str(key.as_bytes()));
                set(dict, e, i as u64);
            }
            assert_eq!(len(dict), 5000);
            for (i, key) in keys.iter().enumerate() {
                // Another string of the same text.
                assert_eq!(value(dict, spl_dict_find_str(dict, alloc_str(key.as_bytes()))), i as u64);
            }
            assert_eq!(spl_dict_find_str(dict, alloc_str(b"w5000")), -1);
            assert_eq!(spl_dict_find_str(dict, alloc_str(b"")), -1);
        }
    }

    #[test]
    fn removed_keys_are_gone_and_the_others_stay() {
        unsafe {
            let dict = spl_dict_new(INT_ENTRIES.as_ptr() as i64, KEY_INT);
            // Keys whose hashes share low bits probe through each other.
            let keys: Vec<i64> = (0..3000).map(|i| i << 20).collect();
            for &k in &keys {
                let e = spl_dict_insert_int(dict, k);
                set(dict, e, k as u64 + 1);
            }
            for &k in keys.iter().step_by(3) {
                spl_dict_remove_at(dict, spl_dict_find_int(dict, k));
            }
            // Appending past the capacity rebuilds without the removed.
            for k in 0..1000 {
                let e = spl_dict_insert_int(dict, -k - 1);
                set(dict, e, 7);
            }
            for (i, &k) in keys.iter().enumerate() {
                let e = spl_dict_find_int(dict, k);
                if i % 3 == 0 { assert_eq!(e, -1, "{k}") } else { assert_eq!(value(dict, e), k as u64 + 1) }
            }
            assert_eq!(len(dict), 2000 + 1000);
            assert!((0..1000).all(|k| value(dict, spl_dict_find_int(dict, -k - 1)) == 7));
        }
    }
}
