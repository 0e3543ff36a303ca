//! Object descriptors as the collector reads them
//! (`simple_abi::heap_layout`), and the runtime's own descriptors.
//!
//! A descriptor lives in a module's `.rodata` or in a static here, never on
//! the heap, and is immutable while the program runs, so a [`Desc`] may be
//! read at any time.

use simple_abi::heap_layout::{
    ARRAY_LEN_OFFSET, DESC_KIND_OFFSET, DESC_REF_MAP_OFFSET, DESC_SLOTS_OFFSET, HEADER_FLAG_MASK, KIND_ARRAY,
    KIND_RECORD, KIND_STR, array_size, record_size, ref_map_words, str_size,
};
use simple_abi::str_layout::LEN_OFFSET;

/// A descriptor of the runtime's own, of at most 64 slots (one ref map
/// word; see `heap_layout`).
#[repr(C, align(8))]
pub struct StaticDesc {
    kind: u32,
    slots: u32,
    ref_map: u64,
}

impl StaticDesc {
    pub const fn new(kind: u32, slots: u32, ref_map: u64) -> StaticDesc {
        StaticDesc { kind, slots, ref_map }
    }

    pub fn as_ptr(&self) -> *const u8 {
        (self as *const StaticDesc).cast()
    }
}

/// Not a kind of `heap_layout`: the verifier refuses it as a descriptor.
const KIND_DEAD: u32 = 0xdead;

/// The descriptor of every `str` the runtime allocates.
pub static STR_DESC: StaticDesc = StaticDesc::new(KIND_STR, 0, 0);

/// Every list record: its length, then a reference to its items array.
pub static LIST_DESC: StaticDesc = StaticDesc::new(KIND_RECORD, 2, 0b10);
/// The items array of a `[str]` the runtime makes.
pub static STR_ITEMS_DESC: StaticDesc = StaticDesc::new(KIND_ARRAY, 1, 1);
/// Every dict record: its length, entries, index, entries used and key
/// kind (see `dict`).
pub static DICT_DESC: StaticDesc = StaticDesc::new(KIND_RECORD, 5, 0b00110);
/// A dict's index: entry numbers plus one, no references.
pub static INDEX_DESC: StaticDesc = StaticDesc::new(KIND_ARRAY, 1, 0);

/// The header of every free cell: a reference to one is a reference to a
/// freed object (a missed root, or a collector bug).
static DEAD_DESC: StaticDesc = StaticDesc::new(KIND_DEAD, 0, 0);

/// The header of a cell freed by the last collection in stress mode, which
/// is not reused before the next one, so that a use of the freed object in
/// between finds it dead rather than replaced by a new object.
static QUARANTINED_DESC: StaticDesc = StaticDesc::new(KIND_DEAD, 0, 0);

/// The header of a heap `str`.
pub fn str_header() -> u64 {
    &STR_DESC as *const StaticDesc as u64
}

/// The header of a free cell.
pub fn dead_header() -> u64 {
    &DEAD_DESC as *const StaticDesc as u64
}

/// The header of a cell in quarantine (see [`QUARANTINED_DESC`]).
pub fn quarantined_header() -> u64 {
    &QUARANTINED_DESC as *const StaticDesc as u64
}

/// Whether `header` is that of freed memory (free or in quarantine).
pub fn is_dead(header: u64) -> bool {
    header == dead_header() || header == quarantined_header()
}

/// Whether `desc` is one of the runtime's own descriptors of live objects.
pub fn is_runtime_desc(desc: usize) -> bool {
    [&STR_DESC, &LIST_DESC, &STR_ITEMS_DESC, &DICT_DESC, &INDEX_DESC].iter().any(|d| d.as_ptr() as usize == desc)
}

/// A descriptor in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Desc(*const u8);

impl Desc {
    /// The descriptor a header names (its flag bits ignored).
    ///
    /// # Safety
    /// `header` must be the header of a heap object: the address of a
    /// readable, valid descriptor, plus flags.
    pub unsafe fn of_header(header: u64) -> Desc {
        Desc((header & !HEADER_FLAG_MASK) as usize as *const u8)
    }

    /// The descriptor at `address`.
    ///
    /// # Safety
    /// `address` must be 8-aligned with `heap_layout::desc_size(slots)`
    /// readable bytes, where `slots` is the `u32` at `address + 4`.
    pub unsafe fn at(address: usize) -> Desc {
        Desc(address as *const u8)
    }

    pub fn address(self) -> usize {
        self.0 as usize
    }

    pub fn kind(self) -> u32 {
        // SAFETY: a valid descriptor has its fixed fields (type invariant).
        unsafe { self.0.add(DESC_KIND_OFFSET).cast::<u32>().read() }
    }

    pub fn slots(self) -> u32 {
        // SAFETY: as in `kind`.
        unsafe { self.0.add(DESC_SLOTS_OFFSET).cast::<u32>().read() }
    }

    /// Word `w` of the ref map (`w < ref_map_words(slots)`).
    fn ref_word(self, w: usize) -> u64 {
        debug_assert!(w < ref_map_words(self.slots()));
        // SAFETY: a valid descriptor has `ref_map_words(slots)` words.
        unsafe { self.0.add(DESC_REF_MAP_OFFSET + 8 * w).cast::<u64>().read() }
    }

    /// Whether objects of this descriptor may hold references.
    pub fn has_refs(self) -> bool {
        matches!(self.kind(), KIND_RECORD | KIND_ARRAY)
            && (0..ref_map_words(self.slots())).any(|w| self.ref_word(w) != 0)
    }

    /// The indices of the slots the ref map marks, in order.
    pub fn ref_slots(self) -> RefSlots {
        RefSlots { desc: self, words: ref_map_words(self.slots()), word: 0, bits: 0 }
    }

    /// The size in bytes of the object at `object` that has this
    /// descriptor, or `None` if it would not fit in memory.
    ///
    /// # Safety
    /// `object` must be a heap object with this descriptor whose length
    /// word (for a `str` or an array) is readable.
    pub unsafe fn object_size(self, object: *const u8) -> Option<usize> {
        // SAFETY: per the contract, the length words are readable.
        let len = || unsafe { object.add(LEN_OFFSET as usize).cast::<u64>().read() };
        debug_assert_eq!(LEN_OFFSET as usize, ARRAY_LEN_OFFSET);
        match self.kind() {
            KIND_STR => str_size(usize::try_from(len()).ok()?),
            KIND_RECORD => Some(record_size(self.slots())),
            KIND_ARRAY => array_size(self.slots(), len()),
            _ => None,
        }
    }
}

/// The slots a ref map marks: see [`Desc::ref_slots`].
pub struct RefSlots {
    desc: Desc,
    words: usize,
    /// The next word to load.
    word: usize,
    /// The unvisited bits of word `word - 1`.
    bits: u64,
}

impl Iterator for RefSlots {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        while self.bits == 0 {
            if self.word == self.words {
                return None;
            }
            self.bits = self.desc.ref_word(self.word);
            self.word += 1;
        }
        let slot = (self.word as u32 - 1) * 64 + self.bits.trailing_zeros();
        self.bits &= self.bits - 1;
        Some(slot)
    }
}
