//! Stress mode's checks: every reference the collector follows is vetted
//! before it is read, and after each collection the heap reachable from
//! the roots is checked again.
//!
//! A valid reference is 0, or a static object (in the module's read-only
//! data or one of the runtime's static strings, with header 0), or the
//! start of a live heap object: a cell or large object whose header names a
//! valid descriptor (the runtime's, or a well-formed one inside the
//! module's read-only data) and whose size fits its cell. A free cell's
//! header is the dead descriptor, so a reference that a missed root let
//! the collector free is reported as a reference to a freed object.

use std::collections::HashSet;
use std::convert::Infallible;
use std::fmt;
use std::ops::Range;

use simple_abi::heap_layout::{ALIGN, HEADER_FLAG_MASK, STATIC_HEADER, desc_size, is_kind};

use super::desc::{Desc, is_dead, is_runtime_desc};
use super::mark::{BadReference, Source, for_each_ref};
use super::space::{Place, Space};
use crate::strings::is_runtime_static;

/// What is wrong with a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Misaligned,
    /// Neither heap nor static data.
    Unknown,
    /// Inside a heap block, but not at an object's start.
    InsideBlock,
    /// In static data, but without the static header 0.
    StaticHeader(u64),
    /// A free cell or a freed large object.
    Freed,
    /// The header does not name a valid descriptor.
    BadDescriptor(u64),
    /// The descriptor makes the object larger than its memory.
    TooLarge {
        size: Option<usize>,
        room: usize,
    },
    /// A mark bit was left set after a collection.
    StillMarked(u64),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Misaligned => write!(f, "a misaligned reference"),
            Problem::Unknown => write!(f, "a reference to neither the heap nor static data"),
            Problem::InsideBlock => write!(f, "a reference into the middle of a heap block"),
            Problem::StaticHeader(h) => write!(f, "a static object with header {h:#x} (expected 0)"),
            Problem::Freed => write!(f, "a reference to a freed object"),
            Problem::BadDescriptor(h) => write!(f, "an object whose header {h:#x} names no valid descriptor"),
            Problem::TooLarge { size: Some(size), room } => {
                write!(f, "an object of {size} bytes in {room} bytes of memory")
            }
            Problem::TooLarge { size: None, room } => {
                write!(f, "an object of impossible size in {room} bytes of memory")
            }
            Problem::StillMarked(h) => write!(f, "an object still marked after the collection (header {h:#x})"),
        }
    }
}

/// What a valid, non-zero reference refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Static,
    Object,
}

/// Vets references against the heap's blocks and the program's data.
pub struct Checker<'a> {
    space: &'a Space,
    /// The module's read-only data: literals and descriptors.
    rodata: Range<usize>,
}

impl<'a> Checker<'a> {
    pub fn new(space: &'a Space, rodata: Range<usize>) -> Checker<'a> {
        Checker { space, rodata }
    }

    /// What the non-zero `reference` refers to, reading only memory it has
    /// checked to be the heap's or static data. With `after_collection`, a
    /// mark bit is an error.
    pub fn check(&self, reference: usize, after_collection: bool) -> Result<Target, Problem> {
        if !reference.is_multiple_of(ALIGN) {
            return Err(Problem::Misaligned);
        }
        let room = match self.space.place(reference) {
            Place::Cell { size } | Place::Large { size } => size,
            Place::InsideBlock => return Err(Problem::InsideBlock),
            Place::Outside => return self.check_static(reference),
        };
        // SAFETY: the start of a cell or large object of `room` >= 16 bytes.
        let header = unsafe { (reference as *const u64).read() };
        if is_dead(header) {
            return Err(Problem::Freed);
        }
        if after_collection && header & HEADER_FLAG_MASK != 0 {
            return Err(Problem::StillMarked(header));
        }
        let desc = (header & !HEADER_FLAG_MASK) as usize;
        if !self.is_valid_desc(desc) {
            return Err(Problem::BadDescriptor(header));
        }
        // SAFETY: a valid descriptor; its length word lies in the object's
        // memory (at least 16 bytes).
        let size = unsafe { Desc::at(desc).object_size(reference as *const u8) };
        if size.is_none_or(|size| size > room) {
            return Err(Problem::TooLarge { size, room });
        }
        Ok(Target::Object)
    }

    fn check_static(&self, reference: usize) -> Result<Target, Problem> {
        let in_rodata = reference >= self.rodata.start && reference.saturating_add(8) <= self.rodata.end;
        if !in_rodata && !is_runtime_static(reference as *const u8) {
            return Err(Problem::Unknown);
        }
        // SAFETY: 8 readable bytes of static data.
        let header = unsafe { (reference as *const u64).read() };
        if header != STATIC_HEADER {
            return Err(Problem::StaticHeader(header));
        }
        Ok(Target::Static)
    }

    /// Whether `desc` is the runtime's descriptor or a well-formed one
    /// inside the module's read-only data.
    fn is_valid_desc(&self, desc: usize) -> bool {
        if is_runtime_desc(desc) {
            return true;
        }
        let fits =
            |size: usize| desc >= self.rodata.start && desc.checked_add(size).is_some_and(|end| end <= self.rodata.end);
        if !desc.is_multiple_of(ALIGN) || !fits(8) {
            return false;
        }
        // SAFETY: the fixed fields lie in the module's read-only data.
        let fixed = unsafe { Desc::at(desc) };
        is_kind(fixed.kind()) && fits(desc_size(fixed.slots()))
    }
}

/// Checks every object reachable from `roots` (references) after a
/// collection: see the module docs.
pub fn verify_reachable(checker: &Checker<'_>, roots: &[*const u8]) -> Result<(), BadReference> {
    let mut seen: HashSet<usize> = HashSet::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut visit = |reference: usize, source: Source, stack: &mut Vec<usize>| {
        if reference == 0 {
            return Ok(());
        }
        match checker.check(reference, true) {
            Ok(Target::Static) => Ok(()),
            Ok(Target::Object) => {
                if seen.insert(reference) {
                    stack.push(reference);
                }
                Ok(())
            }
            Err(problem) => Err(BadReference { reference, source, problem }),
        }
    };
    for (index, &root) in roots.iter().enumerate() {
        visit(root as usize, Source::Root(index), &mut stack)?;
    }
    while let Some(object) = stack.pop() {
        // SAFETY: checked: a live heap object with a valid descriptor whose
        // size fits its memory, so its slots are readable.
        unsafe {
            let desc = Desc::of_header((object as *const u64).read());
            let mut children = Vec::new();
            let Ok(()) = for_each_ref(object as *const u8, desc, |offset| {
                children.push((((object + offset) as *const usize).read(), offset));
                Ok::<(), Infallible>(())
            });
            for (reference, offset) in children {
                visit(reference, Source::Slot { object, offset }, &mut stack)?;
            }
        }
    }
    Ok(())
}
