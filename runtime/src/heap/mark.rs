//! Marking: setting the mark bit of every object reachable from the roots.
//!
//! An explicit stack holds the marked objects whose references are still to
//! be followed, so a long chain of objects (a list of a million nodes)
//! needs no recursion; an object is marked when it is first reached, so it
//! is pushed at most once and the stack never holds more than the heap's
//! objects. Objects without references (strings) are never pushed.
//!
//! A reference is 0, a static object (header 0, skipped) or a heap object.
//! A reference to a free cell is reported, never followed: it means a root
//! was missed earlier. In stress mode a [`Checker`] vets every reference
//! before it is read, so a wild pointer is reported instead of crashing.

use simple_abi::heap_layout::{
    ARRAY_LEN_OFFSET, HEADER_FLAG_MASK, KIND_ARRAY, KIND_RECORD, STATIC_HEADER, array_slot_offset, record_slot_offset,
};

use super::desc::{Desc, is_dead};
use super::space::MARK;
use super::verify::{Checker, Problem, Target};

/// Where a reference was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Root `index` of the collection's root list.
    Root(usize),
    /// The slot at `offset` of the heap object at `object`.
    Slot { object: usize, offset: usize },
}

/// A reference marking could not follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadReference {
    pub reference: usize,
    pub source: Source,
    pub problem: Problem,
}

pub struct Marker<'a> {
    /// Marked objects whose slots are still to be marked.
    stack: &'a mut Vec<*const u8>,
    checker: Option<&'a Checker<'a>>,
}

impl<'a> Marker<'a> {
    /// A marker using `stack` (empty) as its work list, checking every
    /// reference with `checker` if there is one.
    pub fn new(stack: &'a mut Vec<*const u8>, checker: Option<&'a Checker<'a>>) -> Marker<'a> {
        debug_assert!(stack.is_empty());
        Marker { stack, checker }
    }

    /// Marks the object `reference` refers to, found at `source`.
    ///
    /// # Safety
    /// Without a checker, `reference` must be 0 or point to a readable
    /// header: a static object's, a heap object's or a free cell's.
    pub unsafe fn mark(&mut self, reference: *const u8, source: Source) -> Result<(), BadReference> {
        if reference.is_null() {
            return Ok(());
        }
        let bad = |problem| BadReference { reference: reference as usize, source, problem };
        if let Some(checker) = self.checker {
            match checker.check(reference as usize, false) {
                Ok(Target::Static) => return Ok(()),
                Ok(Target::Object) => {}
                Err(problem) => return Err(bad(problem)),
            }
        }
        // SAFETY: per the contract (or vetted by the checker).
        let header = unsafe { reference.cast::<u64>().read() };
        if header == STATIC_HEADER || header & MARK != 0 {
            return Ok(());
        }
        if is_dead(header) {
            return Err(bad(Problem::Freed));
        }
        // SAFETY: as above; a heap object's header is writable.
        unsafe { reference.cast_mut().cast::<u64>().write(header | MARK) };
        // SAFETY: a live heap object's header names a valid descriptor.
        if unsafe { Desc::of_header(header) }.has_refs() {
            self.stack.push(reference);
        }
        Ok(())
    }

    /// Marks everything reachable from the objects marked so far.
    ///
    /// # Safety
    /// As for [`Marker::mark`], for every reference in a reachable object.
    pub unsafe fn drain(&mut self) -> Result<(), BadReference> {
        while let Some(object) = self.stack.pop() {
            // SAFETY: only marked heap objects are pushed.
            let desc = unsafe { Desc::of_header(object.cast::<u64>().read() & !HEADER_FLAG_MASK) };
            // SAFETY: the object's slots lie inside it (its descriptor).
            let result = unsafe {
                for_each_ref(object, desc, |offset| {
                    let reference = object.add(offset).cast::<*const u8>().read();
                    self.mark(reference, Source::Slot { object: object as usize, offset })
                })
            };
            if let Err(error) = result {
                self.stack.clear();
                return Err(error);
            }
        }
        Ok(())
    }
}

/// Calls `f` with the offset of every reference slot of `object`, whose
/// descriptor is `desc`, in order; stops at the first error.
///
/// # Safety
/// `object` must be a heap object with descriptor `desc` (its length word
/// readable, for an array).
pub unsafe fn for_each_ref<E>(
    object: *const u8,
    desc: Desc,
    mut f: impl FnMut(usize) -> Result<(), E>,
) -> Result<(), E> {
    match desc.kind() {
        KIND_RECORD => {
            for slot in desc.ref_slots() {
                f(record_slot_offset(slot))?;
            }
        }
        KIND_ARRAY => {
            let slots = desc.slots();
            // SAFETY: an array's length word (the contract).
            let len = unsafe { object.add(ARRAY_LEN_OFFSET).cast::<u64>().read() } as usize;
            if desc.has_refs() {
                for element in 0..len {
                    for slot in desc.ref_slots() {
                        f(array_slot_offset(slots, element, slot))?;
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}
