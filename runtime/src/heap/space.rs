//! Where heap objects live: size-segregated blocks for small objects, one
//! allocation each for large ones, and the sweep that frees what marking
//! left unmarked.
//!
//! Small objects (at most [`MAX_SMALL`] bytes) are rounded up to one of
//! [`CLASS_SIZES`] and placed in [`BLOCK_SIZE`] blocks that each hold cells
//! of one size class. A class allocates from its free list, else by bumping
//! through the unused end of its newest block, else from a new block. A
//! free cell has the dead descriptor as its header and the next free cell
//! at offset 8 (every cell has at least 16 bytes). Large objects come from
//! the system allocator, one each.
//!
//! Sweeping is eager: it visits every cell handed out so far (never the
//! never-used end of a block), clears the mark bit of marked cells, turns
//! unmarked ones into free cells and rebuilds the free lists in address
//! order. A block left without live cells goes back to the system.
//!
//! In stress mode freed memory is poisoned and kept: a block is never given
//! back, and a cell freed by one sweep stays in quarantine (its header the
//! quarantined descriptor, off the free lists) until the next, so that a
//! use of a wrongly freed object in between finds it dead instead of
//! replaced by a new one (see `verify`).
//!
//! Nothing here looks at references: marking (`mark`) decides what lives.

use std::alloc::{self, Layout};
use std::ptr;

use simple_abi::heap_layout::{ALIGN, HEADER_FLAG_MASK};

use super::AllocError;
use super::desc::{dead_header, is_dead, quarantined_header};

/// Bytes per block of small objects.
pub const BLOCK_SIZE: usize = 64 * 1024;
/// The largest object allocated in a block.
pub const MAX_SMALL: usize = 2048;

/// The cell sizes of the small size classes: 8-byte steps up to 64, then
/// four steps per doubling, so rounding up wastes at most a quarter.
pub const CLASS_SIZES: [usize; CLASS_COUNT] = [
    16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024, 1280,
    1536, 1792, 2048,
];
const CLASS_COUNT: usize = 27;

/// `CLASS_OF[size.div_ceil(8)]`: the smallest class holding `size` bytes.
static CLASS_OF: [u8; MAX_SMALL / 8 + 1] = class_table();

const fn class_table() -> [u8; MAX_SMALL / 8 + 1] {
    let mut table = [0u8; MAX_SMALL / 8 + 1];
    let mut words = 0;
    let mut class = 0;
    while words <= MAX_SMALL / 8 {
        while CLASS_SIZES[class] < words * 8 {
            class += 1;
        }
        table[words] = class as u8;
        words += 1;
    }
    table
}

/// The mark bit in a header (one of `HEADER_FLAG_MASK`).
pub const MARK: u64 = 1;
const _: () = assert!(MARK & HEADER_FLAG_MASK == MARK);

/// The byte freed memory is filled with in stress mode: a length or a slot
/// read from a freed object is then absurd (0xdbdb...).
const POISON: u8 = 0xdb;

/// Offset of the next-cell link in a free cell.
const NEXT_OFFSET: usize = 8;

struct Class {
    /// Head of the free list, or null.
    free: *mut u8,
    /// The unused end of the newest block, `bump..end` (both null before
    /// the first block).
    bump: *mut u8,
    end: *mut u8,
    /// Start of the block `bump` lies in, or null.
    bump_block: *mut u8,
}

struct Block {
    start: *mut u8,
    class: u8,
    /// Bytes of the block's whole cells. All of them have been handed out
    /// at least once, except in the class's bump block, which is used up
    /// to the class's `bump` (see [`Space::used`]).
    cells_end: usize,
}

/// A large object: its own allocation.
#[derive(Debug, Clone, Copy)]
pub struct Large {
    pub object: *mut u8,
    pub size: usize,
}

/// Where a heap address lies, for the verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The start of a cell of a block (live or free), of `size` bytes.
    Cell { size: usize },
    /// The start of a large object of `size` bytes (live, or freed and in
    /// quarantine).
    Large { size: usize },
    /// Inside a block, but not at a cell that was ever handed out.
    InsideBlock,
    /// Not in the heap.
    Outside,
}

pub struct Space {
    classes: [Class; CLASS_COUNT],
    blocks: Vec<Block>,
    large: Vec<Large>,
    /// Large objects freed by the last sweep in stress mode, kept poisoned
    /// until the next sweep instead of going back to the system.
    quarantine: Vec<Large>,
    /// Keep freed memory poisoned and mapped (stress mode).
    poison: bool,
    /// Bytes handed out since the last sweep (cells count whole).
    pub allocated: usize,
}

impl Space {
    pub fn new(poison: bool) -> Space {
        const EMPTY: Class =
            Class { free: ptr::null_mut(), bump: ptr::null_mut(), end: ptr::null_mut(), bump_block: ptr::null_mut() };
        Space {
            classes: [EMPTY; CLASS_COUNT],
            blocks: Vec::new(),
            large: Vec::new(),
            quarantine: Vec::new(),
            poison,
            allocated: 0,
        }
    }

    /// Memory for an object of `size` bytes: 8-aligned, at least `size`
    /// bytes, zero if `zero`, else undefined (and not a live object).
    pub fn alloc(&mut self, size: usize, zero: bool) -> Result<*mut u8, AllocError> {
        if size > MAX_SMALL {
            return self.alloc_large(size, zero);
        }
        let cell = self.alloc_small(CLASS_OF[size.div_ceil(8)] as usize)?;
        if zero {
            // SAFETY: the cell has at least `size` bytes.
            unsafe { ptr::write_bytes(cell, 0, size) };
        }
        Ok(cell)
    }

    fn alloc_small(&mut self, class_index: usize) -> Result<*mut u8, AllocError> {
        let size = CLASS_SIZES[class_index];
        self.allocated += size;
        let class = &mut self.classes[class_index];
        let cell = class.free;
        if !cell.is_null() {
            // SAFETY: a free-list cell is a cell of a live block whose link
            // word holds the next free cell (or null).
            class.free = unsafe { cell.add(NEXT_OFFSET).cast::<*mut u8>().read() };
            return Ok(cell);
        }
        if (class.end as usize) - (class.bump as usize) >= size {
            let cell = class.bump;
            // SAFETY: `cell + size` stays inside the bump block.
            class.bump = unsafe { cell.add(size) };
            return Ok(cell);
        }
        self.new_block(class_index)
    }

    /// Starts a new block for `class_index` and returns its first cell.
    #[cold]
    fn new_block(&mut self, class_index: usize) -> Result<*mut u8, AllocError> {
        let size = CLASS_SIZES[class_index];
        // SAFETY: the layout's size is not zero.
        let start = unsafe { alloc::alloc(block_layout()) };
        if start.is_null() {
            return Err(AllocError::OutOfMemory);
        }
        // Whole cells only: the tail after the last one is never used. The
        // block left behind was used up to its end (no cell was left).
        let cells_end = BLOCK_SIZE / size * size;
        self.blocks.push(Block { start, class: class_index as u8, cells_end });
        let class = &mut self.classes[class_index];
        class.bump_block = start;
        // SAFETY: both stay inside the new block.
        unsafe {
            class.bump = start.add(size);
            class.end = start.add(cells_end);
        }
        Ok(start)
    }

    #[cold]
    fn alloc_large(&mut self, size: usize, zero: bool) -> Result<*mut u8, AllocError> {
        let layout = Layout::from_size_align(size, ALIGN).map_err(|_| AllocError::OutOfMemory)?;
        // SAFETY: `size` is above MAX_SMALL, so not zero. Zeroed memory may
        // come as untouched pages, which a big array then only maps as it
        // is used.
        let object = unsafe { if zero { alloc::alloc_zeroed(layout) } else { alloc::alloc(layout) } };
        if object.is_null() {
            return Err(AllocError::OutOfMemory);
        }
        self.large.push(Large { object, size });
        self.allocated += size;
        Ok(object)
    }

    /// Frees every object whose header lacks the mark bit, clears the mark
    /// bit of the others, and returns the bytes still in use.
    ///
    /// # Safety
    /// Every cell handed out must hold an object with a valid header (or be
    /// free), and marking must be complete: an unmarked object is garbage.
    pub unsafe fn sweep(&mut self) -> usize {
        let mut live = 0;
        let dead = dead_header();
        let quarantined = quarantined_header();
        self.release_quarantine();
        for class in &mut self.classes {
            class.free = ptr::null_mut();
        }
        let mut i = 0;
        while i < self.blocks.len() {
            let used = self.used(i);
            let block = &self.blocks[i];
            let class = &mut self.classes[block.class as usize];
            let is_bump_block = block.start == class.bump_block;
            let size = CLASS_SIZES[block.class as usize];
            // Cells from last to first, each pushed on this block's list,
            // so the list runs in address order; its last cell links to
            // the list of the blocks swept before.
            let mut head = class.free;
            let mut block_live = 0;
            for offset in (0..used).step_by(size).rev() {
                // SAFETY: cells below `used` were handed out, so each holds
                // an object or is free (the contract).
                unsafe {
                    let cell = block.start.add(offset);
                    let header = cell.cast::<u64>().read();
                    if header & MARK != 0 {
                        cell.cast::<u64>().write(header & !MARK);
                        block_live += size;
                        continue;
                    }
                    if !is_dead(header) && self.poison {
                        ptr::write_bytes(cell, POISON, size);
                        cell.cast::<u64>().write(quarantined);
                        continue;
                    }
                    cell.cast::<u64>().write(dead);
                    cell.add(NEXT_OFFSET).cast::<*mut u8>().write(head);
                    head = cell;
                }
            }
            live += block_live;
            // (Poisoning never frees a block.)
            if block_live == 0 && !is_bump_block && !self.poison {
                // SAFETY: allocated in `new_block` with this layout; no
                // live object and no free list refers into it any more.
                unsafe { alloc::dealloc(block.start, block_layout()) };
                self.blocks.swap_remove(i);
                continue;
            }
            class.free = head;
            i += 1;
        }
        let poison = self.poison;
        let mut freed = Vec::new();
        self.large.retain(|large| {
            // SAFETY: a large object has a valid header (the contract).
            unsafe {
                let header = large.object.cast::<u64>().read();
                if header & MARK != 0 {
                    large.object.cast::<u64>().write(header & !MARK);
                    live += large.size;
                    return true;
                }
            }
            freed.push(*large);
            false
        });
        for large in freed {
            if poison {
                // SAFETY: the object's own memory, no longer in use.
                unsafe {
                    ptr::write_bytes(large.object, POISON, large.size);
                    large.object.cast::<u64>().write(quarantined);
                }
                self.quarantine.push(large);
            } else {
                free_large(large);
            }
        }
        self.allocated = 0;
        live
    }

    /// Bytes of block `i` handed out at least once: only these hold
    /// objects or free cells.
    fn used(&self, i: usize) -> usize {
        let block = &self.blocks[i];
        let class = &self.classes[block.class as usize];
        if block.start == class.bump_block { class.bump as usize - block.start as usize } else { block.cells_end }
    }

    fn release_quarantine(&mut self) {
        for large in std::mem::take(&mut self.quarantine) {
            free_large(large);
        }
    }

    /// Where `address` lies (for the verifier; costs a scan of the blocks).
    pub fn place(&self, address: usize) -> Place {
        for (i, block) in self.blocks.iter().enumerate() {
            let start = block.start as usize;
            if (start..start + BLOCK_SIZE).contains(&address) {
                let used = self.used(i);
                let size = CLASS_SIZES[block.class as usize];
                let offset = address - start;
                return if offset < used && offset.is_multiple_of(size) {
                    Place::Cell { size }
                } else {
                    Place::InsideBlock
                };
            }
        }
        // A freed large object in quarantine is still recognised (as freed,
        // by its header).
        match self.large.iter().chain(&self.quarantine).find(|large| large.object as usize == address) {
            Some(large) => Place::Large { size: large.size },
            None => Place::Outside,
        }
    }

    /// Calls `f` with every live object's address (cells that are not free,
    /// and large objects).
    #[cfg(test)]
    pub fn for_each_object(&self, mut f: impl FnMut(*mut u8)) {
        for (i, block) in self.blocks.iter().enumerate() {
            let used = self.used(i);
            for offset in (0..used).step_by(CLASS_SIZES[block.class as usize]) {
                // SAFETY: cells below `used` hold an object or are free.
                let cell = unsafe { block.start.add(offset) };
                if !is_dead(unsafe { cell.cast::<u64>().read() }) {
                    f(cell);
                }
            }
        }
        for large in &self.large {
            f(large.object);
        }
    }
}

impl Drop for Space {
    fn drop(&mut self) {
        for block in &self.blocks {
            // SAFETY: allocated in `new_block` with this layout.
            unsafe { alloc::dealloc(block.start, block_layout()) };
        }
        for large in self.large.drain(..).chain(self.quarantine.drain(..)) {
            free_large(large);
        }
    }
}

fn block_layout() -> Layout {
    // A constant, valid layout: power-of-two alignment, small size.
    Layout::from_size_align(BLOCK_SIZE, 16).expect("block layout")
}

fn free_large(large: Large) {
    // SAFETY: allocated in `alloc_large` with this size and alignment.
    unsafe { alloc::dealloc(large.object, Layout::from_size_align_unchecked(large.size, ALIGN)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_sorted_8_aligned_and_cover_every_small_size() {
        assert!(CLASS_SIZES.windows(2).all(|w| w[0] < w[1]));
        assert!(CLASS_SIZES.iter().all(|s| s % 8 == 0 && *s >= 16));
        assert_eq!(CLASS_SIZES[CLASS_COUNT - 1], MAX_SMALL);
        for size in 1..=MAX_SMALL {
            let class = CLASS_SIZES[CLASS_OF[size.div_ceil(8)] as usize];
            assert!(class >= size, "{size}");
            // Rounding wastes at most a quarter (or 8 bytes).
            assert!(class - size <= (size / 4).max(15), "{size} -> {class}");
        }
    }

    fn write_header(p: *mut u8, header: u64) {
        unsafe { p.cast::<u64>().write(header) }
    }

    #[test]
    fn sweep_frees_unmarked_cells_and_reuses_them_in_address_order() {
        let mut space = Space::new(false);
        let header = 0x1000;
        let cells: Vec<*mut u8> = (0..4).map(|_| space.alloc(24, false).unwrap()).collect();
        for (i, &c) in cells.iter().enumerate() {
            write_header(c, if i % 2 == 0 { header | MARK } else { header });
        }
        assert_eq!(space.allocated, 4 * 24);
        assert_eq!(unsafe { space.sweep() }, 2 * 24);
        assert_eq!(space.allocated, 0);
        assert_eq!(unsafe { cells[0].cast::<u64>().read() }, header);
        assert_eq!(unsafe { cells[1].cast::<u64>().read() }, dead_header());
        assert_eq!(space.place(cells[1] as usize), Place::Cell { size: 24 });
        assert_eq!(space.place(cells[1] as usize + 8), Place::InsideBlock);
        assert_eq!(space.alloc(24, false).unwrap(), cells[1]);
        assert_eq!(space.alloc(17, false).unwrap(), cells[3]);
        // Then the untouched end of the block.
        assert_eq!(space.alloc(24, false).unwrap(), unsafe { cells[3].add(24) });
    }

    #[test]
    fn empty_blocks_go_back_unless_poisoning() {
        for poison in [false, true] {
            let mut space = Space::new(poison);
            // Fill more than one block of 2 KiB cells, all garbage.
            let cells: Vec<*mut u8> = (0..40).map(|_| space.alloc(2048, false).unwrap()).collect();
            for &c in &cells {
                write_header(c, 0x1000);
            }
            assert_eq!(space.blocks.len(), 2);
            assert_eq!(unsafe { space.sweep() }, 0);
            // The bump block stays.
            assert_eq!(space.blocks.len(), if poison { 2 } else { 1 });
            if poison {
                let poisoned = unsafe { cells[0].add(16).read() };
                assert_eq!(poisoned, POISON);
                assert_eq!(space.place(cells[0] as usize), Place::Cell { size: 2048 });
            }
        }
    }

    #[test]
    fn large_objects_are_freed_when_unmarked() {
        for poison in [false, true] {
            let mut space = Space::new(poison);
            let kept = space.alloc(10_000, false).unwrap();
            let lost = space.alloc(5_000, false).unwrap();
            write_header(kept, 0x1000 | MARK);
            write_header(lost, 0x1000);
            assert_eq!(space.allocated, 15_000);
            assert_eq!(unsafe { space.sweep() }, 10_000);
            assert_eq!(space.place(kept as usize), Place::Large { size: 10_000 });
            if poison {
                assert_eq!(space.place(lost as usize), Place::Large { size: 5_000 });
                assert_eq!(unsafe { lost.cast::<u64>().read() }, quarantined_header());
            } else {
                assert_eq!(space.place(lost as usize), Place::Outside);
            }
            let mut objects = Vec::new();
            space.for_each_object(|o| objects.push(o));
            assert_eq!(objects, [kept]);
        }
    }

    #[test]
    fn impossible_sizes_are_out_of_memory() {
        let mut space = Space::new(false);
        assert_eq!(space.alloc(usize::MAX - 4, false), Err(AllocError::OutOfMemory));
        assert_eq!(space.alloc(isize::MAX as usize, true), Err(AllocError::OutOfMemory));
    }
}
