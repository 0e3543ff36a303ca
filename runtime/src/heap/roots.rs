//! Finding the roots in the frames of compiled code.
//!
//! Compiled code keeps frame pointers, and so does the runtime (the driver
//! is built with `-C force-frame-pointers=yes`, which `driver/build.rs`
//! insists on): every frame starts with a record `[fp] = caller's fp,
//! [fp + 8] = return address`. The collector starts from its own frame
//! pointer and follows the chain up through the runtime's frames to the
//! first record whose return address lies in the module's code: the frame
//! of the runtime function compiled code called. From there on every frame
//! is a Simple function's, up to the function [`call_entry`] called.
//!
//! For each Simple frame the return address into it selects its stack map
//! (`CodeMap::stack_map`): the frame's size (FP − SP) and the offsets from
//! SP of the slots holding live references. SP is the callee's frame record
//! plus 16 (the return address and the saved frame pointer sit just below
//! the caller's SP), which the frame size must confirm.
//!
//! Anything unexpected (a link leaving the stack or pointing down, a return
//! address outside the module before the entry frame, a frame size that
//! disagrees) is an error: a collection that missed roots would free live
//! objects, so the caller reports it instead of collecting.

use std::cell::Cell;
use std::fmt;

use crate::backtrace::{StackBounds, current_frame_pointer, runtime_caller_record};
use crate::code_map::CodeMap;

thread_local! {
    /// The frame pointer of [`call_entry`] while it runs the program, else 0.
    static ENTRY_FRAME: Cell<usize> = const { Cell::new(0) };
}

/// Calls the program's entry function and returns its result, recording
/// the frame it is called from: the end of the Simple frames on this
/// thread's stack.
#[inline(never)]
pub fn call_entry(entry: extern "C" fn() -> i64) -> i64 {
    // The entry function's frame record will hold this frame pointer.
    let previous = ENTRY_FRAME.replace(current_frame_pointer());
    let status = entry();
    ENTRY_FRAME.set(previous);
    super::report_stats();
    status
}

/// The frame pointer [`call_entry`] runs the program from, if it does on
/// this thread.
pub fn entry_frame() -> Option<usize> {
    Some(ENTRY_FRAME.get()).filter(|&fp| fp != 0)
}

/// A stack slot holding a live reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackRoot {
    /// The slot's address.
    pub slot: usize,
    /// The return address into the frame holding it.
    pub return_address: usize,
}

/// Why the Simple frames could not be walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkError {
    /// No frame record leads from the collector to compiled code.
    NoSimpleCaller,
    /// The frame record at `record` links outside the stack or downwards.
    BrokenChain { record: usize },
    /// A frame returns to `return_address`, outside the module, before
    /// reaching the entry frame.
    LeftCode { return_address: usize },
    /// The frame returned to at `return_address` spans `actual` bytes, but
    /// its stack map says `mapped`.
    FrameSize { return_address: usize, actual: usize, mapped: u32 },
}

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalkError::NoSimpleCaller => {
                write!(
                    f,
                    "no frame-pointer chain leads to compiled code (was the runtime built without frame pointers?)"
                )
            }
            WalkError::BrokenChain { record } => write!(f, "the frame record at {record:#x} is broken"),
            WalkError::LeftCode { return_address } => {
                write!(f, "a frame returns to {return_address:#x}, outside the program, before its entry")
            }
            WalkError::FrameSize { return_address, actual, mapped } => write!(
                f,
                "the frame returned to at {return_address:#x} spans {actual} bytes, but its stack map says {mapped}"
            ),
        }
    }
}

/// Appends every stack slot holding a live reference in the Simple frames
/// above the frame pointer `fp` (a frame of the runtime, called from
/// compiled code) and below `entry_fp` (see [`call_entry`]).
pub fn stack_roots(
    code: &dyn CodeMap,
    stack: StackBounds,
    fp: usize,
    entry_fp: usize,
    roots: &mut Vec<StackRoot>,
) -> Result<(), WalkError> {
    let in_code = |return_address: usize| code.in_code(return_address.wrapping_sub(1));
    // `record` is the frame record of a callee; the caller's frame lies
    // above it, from SP = record + 16 up to the caller's own record.
    let mut record = runtime_caller_record(code, stack, fp).ok_or(WalkError::NoSimpleCaller)?;
    loop {
        let broken = WalkError::BrokenChain { record };
        let return_address = stack.read_word(record + 8).ok_or(broken)?;
        let caller_fp = stack.read_word(record).ok_or(broken)?;
        if caller_fp == entry_fp {
            // `record` is the outermost Simple frame's: it returns into
            // `call_entry`.
            return if in_code(return_address) { Err(broken) } else { Ok(()) };
        }
        if !in_code(return_address) {
            return Err(WalkError::LeftCode { return_address });
        }
        if caller_fp <= record || caller_fp > entry_fp {
            return Err(broken);
        }
        if let Some(map) = code.stack_map(return_address) {
            let sp = record + 16;
            let actual = caller_fp - sp;
            if actual != map.frame_size as usize {
                return Err(WalkError::FrameSize { return_address, actual, mapped: map.frame_size });
            }
            roots.extend(map.slots.iter().map(|&offset| StackRoot { slot: sp + offset as usize, return_address }));
        }
        record = caller_fp;
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::test_support::{FakeCode, FakeStack};
    use super::*;

    /// `f` at 0..16, `main` at 16..32; `f` calls the runtime returning to
    /// 10, `main` calls `f` returning to 20.
    fn code() -> FakeCode {
        let mut code = FakeCode::new(&[0x90; 32], &[("f", 0..16), ("main", 16..32)]);
        // f's frame: SP = word 8 .. FP = word 12 (32 bytes), refs at SP+0, SP+16.
        code.add_stack_map(10, 32, &[0, 16]);
        // main's frame: SP = word 14 .. FP = word 20 (48 bytes), ref at SP+40.
        code.add_stack_map(20, 48, &[40]);
        code
    }

    /// collector (word 2) -> runtime function (word 6) -> f (word 12) ->
    /// main (word 20) -> entry frame (word 30).
    fn stack(code: &FakeCode) -> FakeStack {
        let mut stack = FakeStack::new();
        stack.set(2, stack.addr(6));
        stack.set(3, 0x1234); // into the runtime
        stack.set(6, stack.addr(12));
        stack.set(7, code.base() + 10); // into f
        stack.set(12, stack.addr(20));
        stack.set(13, code.base() + 20); // into main
        stack.set(20, stack.addr(30));
        stack.set(21, 0x5678); // into call_entry
        stack
    }

    fn walk(code: &FakeCode, stack: &FakeStack, entry: usize) -> Result<Vec<(usize, usize)>, WalkError> {
        let mut roots = Vec::new();
        stack_roots(code, stack.bounds(), stack.addr(2), entry, &mut roots)?;
        Ok(roots.iter().map(|r| ((r.slot - stack.base()) / 8, r.return_address - code.base())).collect())
    }

    #[test]
    fn finds_the_mapped_slots_of_every_simple_frame() {
        let code = code();
        let stack = stack(&code);
        assert_eq!(walk(&code, &stack, stack.addr(30)), Ok(vec![(8, 10), (10, 10), (19, 20)]));
    }

    #[test]
    fn a_frame_without_a_map_has_no_roots() {
        let mut code = FakeCode::new(&[0x90; 32], &[("f", 0..16), ("main", 16..32)]);
        code.add_stack_map(20, 48, &[40]);
        let stack = stack(&code);
        assert_eq!(walk(&code, &stack, stack.addr(30)), Ok(vec![(19, 20)]));
    }

    #[test]
    fn inconsistencies_are_errors() {
        let code = code();
        let mut stack = stack(&code);
        // A wrong frame size in a map.
        let mut wrong = FakeCode::new(&[0x90; 32], &[("f", 0..16), ("main", 16..32)]);
        wrong.add_stack_map(10, 40, &[0]);
        let wrong_stack = self::stack(&wrong);
        assert_eq!(
            walk(&wrong, &wrong_stack, wrong_stack.addr(30)),
            Err(WalkError::FrameSize { return_address: wrong.base() + 10, actual: 32, mapped: 40 })
        );
        // An entry frame that is never reached: main returns outside code.
        assert_eq!(walk(&code, &stack, stack.addr(31)), Err(WalkError::LeftCode { return_address: 0x5678 }));
        // A link pointing down.
        stack.set(12, stack.addr(4));
        assert_eq!(walk(&code, &stack, stack.addr(30)), Err(WalkError::BrokenChain { record: stack.addr(12) }));
        // No return address into code at all.
        stack.set(7, 0x9999);
        stack.set(6, 0);
        assert_eq!(walk(&code, &stack, stack.addr(30)), Err(WalkError::NoSimpleCaller));
    }
}
