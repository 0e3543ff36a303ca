//! The Simple call stack at a fault, from the frame-pointer chain.
//!
//! Compiled code keeps frame pointers (Cranelift `preserve_frame_pointers`):
//! every Simple function starts with `push rbp; mov rbp, rsp`, so `[rbp]`
//! holds the caller's frame pointer and `[rbp + 8]` the return address into
//! the caller. [`SimpleFrames`] yields one code address per Simple frame,
//! innermost first: the faulting instruction, then each call site (return
//! address minus one, which lands inside the call instruction, so the line
//! table names the call and not the statement after it).
//!
//! This runs inside the fault handler on a stack that just faulted, so every
//! read is checked against the thread's stack bounds first and the walk stops
//! at the first implausible link: it never faults and always ends.
//!
//! The runtime keeps frame pointers too (`-C force-frame-pointers=yes`, see
//! `driver/build.rs`), so a runtime function that is running normally finds
//! its Simple callers by following the chain from its own frame pointer
//! ([`current_frame_pointer`], [`runtime_caller_record`]): runtime errors
//! found by the runtime and the garbage collector's root walk do so.

use super::code_map::CodeMap;

/// The stack of a thread that runs Simple code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackBounds {
    /// The guard area, `guard_lo..guard_hi`: a fault there is a stack
    /// overflow.
    pub guard_lo: usize,
    pub guard_hi: usize,
    /// The readable stack, `lo..hi` (`hi` is the end the stack grows from).
    pub lo: usize,
    pub hi: usize,
}

impl StackBounds {
    pub fn in_guard(&self, addr: usize) -> bool {
        (self.guard_lo..self.guard_hi).contains(&addr)
    }

    /// The aligned word at `addr`, if it lies in the readable stack.
    pub fn read_word(&self, addr: usize) -> Option<usize> {
        let in_bounds = addr >= self.lo && addr.checked_add(8).is_some_and(|end| end <= self.hi);
        if !in_bounds || !addr.is_multiple_of(8) {
            return None;
        }
        // SAFETY: the address is aligned and inside the thread's mapped
        // stack, which stays mapped while the thread exists.
        Some(unsafe { std::ptr::read_volatile(addr as *const usize) })
    }
}

/// The registers of the faulting thread that the walk starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registers {
    /// The faulting instruction (for a trap that reports the address after
    /// the instruction, like `int3`, the caller has already stepped back).
    pub pc: usize,
    pub fp: usize,
    pub sp: usize,
}

/// How far above the stack pointer to look for the Simple caller of a
/// runtime function that faulted: more than any runtime function's frame.
const SCAN_WINDOW: usize = 64 * 1024;

/// `push rbp; mov rbp, rsp`: the start of every Simple function (the move
/// has two encodings; Cranelift emits the first).
const PROLOGUE: [u8; 4] = [0x55, 0x48, 0x89, 0xe5];
const PROLOGUE_ALT: [u8; 4] = [0x55, 0x48, 0x8b, 0xec];

/// The frame pointer of the function this is inlined into: the address of
/// its frame record.
#[inline(always)]
pub fn current_frame_pointer() -> usize {
    let fp: usize;
    // SAFETY: reads a register.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::asm!("mov {}, rbp", out(reg) fp, options(nomem, nostack, preserves_flags))
    };
    // SAFETY: reads a register.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        std::arch::asm!("mov {}, x29", out(reg) fp, options(nomem, nostack, preserves_flags))
    };
    fp
}

/// Follows the frame-pointer chain from `fp`, a frame of the running
/// runtime, to the frame record whose return address lies in the module's
/// code: the record of the runtime function compiled code called. `None`
/// if there is none (the runtime was not called from Simple code).
///
/// The walk is not bounded by a frame count: a runtime function that
/// recursed until the stack overflowed (comparing a deep structure) sits
/// below as many frames as the stack holds. Each link must go up the stack
/// and stay inside it, so the walk ends.
pub fn runtime_caller_record(code: &dyn CodeMap, stack: StackBounds, fp: usize) -> Option<usize> {
    let mut fp = fp;
    loop {
        let ret = stack.read_word(fp.checked_add(8)?)?;
        if ret != 0 && code.in_code(ret.wrapping_sub(1)) {
            return Some(fp);
        }
        let next = stack.read_word(fp)?;
        if next <= fp {
            return None;
        }
        fp = next;
    }
}

/// Code addresses of the Simple frames on a stack, innermost first.
#[derive(Clone)]
pub struct SimpleFrames<'a> {
    code: &'a dyn CodeMap,
    stack: StackBounds,
    /// Frames found before the frame-pointer chain begins.
    leading: [Option<usize>; 2],
    next_leading: usize,
    /// The next frame record of the chain, or 0 when the chain has ended.
    fp: usize,
}

impl<'a> SimpleFrames<'a> {
    /// The Simple frames of a thread stopped at `regs`.
    pub fn new(code: &'a dyn CodeMap, stack: StackBounds, regs: Registers) -> SimpleFrames<'a> {
        let mut frames = SimpleFrames { code, stack, leading: [None, None], next_leading: 0, fp: 0 };
        if code.in_code(regs.pc) {
            frames.leading[0] = Some(regs.pc);
            if frames.at_prologue_push(regs.pc) {
                // The faulting function has not pushed its frame record yet
                // (the push itself overflowed): rbp is still the caller's,
                // and the return address into the caller is at rsp.
                frames.leading[1] = frames.call_site_at(regs.sp);
            }
            frames.fp = regs.fp;
        } else if let Some((slot, call_site)) = frames.scan_for_call_site(regs.sp) {
            // A runtime function called from Simple code faulted (a stack
            // overflow while printing, or a runtime bug). Runtime code need
            // not keep frame pointers, so find its return address into Simple
            // code on the stack, then the caller's frame record above it.
            frames.leading[0] = Some(call_site);
            frames.fp = if frames.is_frame_record(regs.fp, slot) { regs.fp } else { frames.find_frame_record(slot) };
        } else if let Some(fp) = runtime_caller_record(code, stack, regs.fp) {
            // Farther up than the scan looks (a runtime function recursed
            // until the stack overflowed): the runtime keeps frame pointers,
            // so its chain leads to the Simple caller.
            frames.fp = fp;
        }
        frames
    }

    /// The Simple frames above a runtime function that is running (not
    /// faulting) with frame pointer `fp`: its call site first.
    pub fn from_runtime(code: &'a dyn CodeMap, stack: StackBounds, fp: usize) -> SimpleFrames<'a> {
        let fp = runtime_caller_record(code, stack, fp).unwrap_or(0);
        SimpleFrames { code, stack, leading: [None, None], next_leading: 0, fp }
    }

    fn at_prologue_push(&self, pc: usize) -> bool {
        if !self.code.in_code(pc.wrapping_add(PROLOGUE.len() - 1)) {
            return false;
        }
        // SAFETY: the four bytes lie in the module's code, which is mapped
        // readable (read + execute) while the module is loaded.
        let bytes = unsafe { std::ptr::read_unaligned(pc as *const [u8; 4]) };
        bytes == PROLOGUE || bytes == PROLOGUE_ALT
    }

    /// The call site whose return address is stored at `slot`.
    fn call_site_at(&self, slot: usize) -> Option<usize> {
        let ret = self.stack.read_word(slot)?;
        let call_site = ret.wrapping_sub(1);
        (ret != 0 && self.code.in_code(call_site)).then_some(call_site)
    }

    /// The first word at or above `sp` holding a return address into Simple
    /// code: its slot and the call site.
    fn scan_for_call_site(&self, sp: usize) -> Option<(usize, usize)> {
        let start = sp.max(self.stack.lo).checked_next_multiple_of(8)?;
        let end = start.saturating_add(SCAN_WINDOW).min(self.stack.hi);
        (start..end).step_by(8).find_map(|slot| Some((slot, self.call_site_at(slot)?)))
    }

    /// Whether `fp` looks like the frame record of a Simple function called
    /// from Simple code, lying above the word at `below`.
    fn is_frame_record(&self, fp: usize, below: usize) -> bool {
        fp > below && self.stack.read_word(fp).is_some() && self.call_site_at(fp.wrapping_add(8)).is_some()
    }

    /// The first frame record above the return-address slot `slot`, or 0.
    fn find_frame_record(&self, slot: usize) -> usize {
        let end = slot.saturating_add(SCAN_WINDOW).min(self.stack.hi);
        (slot + 8..end).step_by(8).find(|&fp| self.is_frame_record(fp, slot)).unwrap_or(0)
    }

    /// Follows one link of the frame-pointer chain.
    fn next_in_chain(&mut self) -> Option<usize> {
        let fp = std::mem::replace(&mut self.fp, 0);
        if fp == 0 {
            return None;
        }
        // A return address outside module code means the frame belongs to
        // the runtime code that called the program: the Simple stack ends.
        let call_site = self.call_site_at(fp.checked_add(8)?)?;
        let next = self.stack.read_word(fp)?;
        // The stack grows down, so callers' records lie strictly higher; a
        // record that does not is garbage and ends the walk.
        if next > fp {
            self.fp = next;
        }
        Some(call_site)
    }
}

impl Iterator for SimpleFrames<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.next_leading < self.leading.len() {
            let frame = self.leading[self.next_leading];
            self.next_leading += 1;
            if frame.is_some() {
                return frame;
            }
        }
        self.next_in_chain()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{FakeCode, FakeStack};
    use super::*;

    /// Code: `f` (a prologue then filler) at 0..16, `g` at 16..32, `main`
    /// at 32..48, each made of `push rbp; mov rbp, rsp` and `nop`s.
    fn code() -> FakeCode {
        let mut bytes = Vec::new();
        for _ in 0..3 {
            bytes.extend_from_slice(&PROLOGUE);
            bytes.extend_from_slice(&[0x90; 12]);
        }
        FakeCode::new(&bytes, &[("f", 0..16), ("g", 16..32), ("main", 32..48)])
    }

    fn offsets(code: &FakeCode, frames: SimpleFrames<'_>) -> Vec<usize> {
        frames.map(|addr| addr - code.base()).collect()
    }

    /// main -> g -> f, frame records at words 40 (main), 20 (g), 10 (f).
    fn chain(stack: &mut FakeStack, code: &FakeCode) {
        stack.set(10, stack.addr(20));
        stack.set(11, code.base() + 20); // returns into g after its call at 19
        stack.set(20, stack.addr(40));
        stack.set(21, code.base() + 40); // returns into main
        stack.set(40, 0);
        stack.set(41, 0x1000); // main's caller is the runtime
    }

    #[test]
    fn walks_the_frame_pointer_chain() {
        let code = code();
        let mut stack = FakeStack::new();
        chain(&mut stack, &code);
        let regs = Registers { pc: code.base() + 6, fp: stack.addr(10), sp: stack.addr(8) };
        let frames = SimpleFrames::new(&code, stack.bounds(), regs);
        assert_eq!(offsets(&code, frames), [6, 19, 39]);
    }

    #[test]
    fn a_fault_at_the_prologue_push_finds_the_caller_at_rsp() {
        let code = code();
        let mut stack = FakeStack::new();
        chain(&mut stack, &code);
        // f was just called by g: rbp is still g's, the return address is
        // on top of the stack.
        stack.set(15, code.base() + 20);
        let regs = Registers { pc: code.base(), fp: stack.addr(20), sp: stack.addr(15) };
        let frames = SimpleFrames::new(&code, stack.bounds(), regs);
        assert_eq!(offsets(&code, frames), [0, 19, 39]);
    }

    #[test]
    fn a_fault_in_runtime_code_is_traced_from_its_simple_caller() {
        let code = code();
        let mut stack = FakeStack::new();
        chain(&mut stack, &code);
        // f called a runtime function at offset 9; its return address is at
        // word 8, runtime locals below it; rbp holds a runtime value.
        stack.set(2, 12345);
        stack.set(8, code.base() + 10);
        for fp in [0, 77, stack.addr(3)] {
            let regs = Registers { pc: 0x1234, fp, sp: stack.addr(1) };
            let frames = SimpleFrames::new(&code, stack.bounds(), regs);
            assert_eq!(offsets(&code, frames), [9, 19, 39], "rbp = {fp:#x}");
        }
        // When rbp still is the caller's frame pointer, it is used directly.
        let regs = Registers { pc: 0x1234, fp: stack.addr(10), sp: stack.addr(1) };
        let frames = SimpleFrames::new(&code, stack.bounds(), regs);
        assert_eq!(offsets(&code, frames), [9, 19, 39]);
    }

    #[test]
    fn a_fault_deep_in_runtime_recursion_follows_the_runtime_frame_chain() {
        // A runtime function recursed (frame records every 4 words) from
        // word 2 far past the scan window before overflowing; its outermost
        // frame, at word `top`, returns into f at offset 9, whose frame
        // record is at word `top + 4` and returns into main.
        let code = code();
        let top = 2 + 4 * (SCAN_WINDOW / 8 / 4 + 16);
        let mut stack = FakeStack::with_words(top + 64);
        for fp in (2..top).step_by(4) {
            stack.set(fp, stack.addr(fp + 4));
            stack.set(fp + 1, 0x1234);
        }
        stack.set(top, stack.addr(top + 4));
        stack.set(top + 1, code.base() + 10);
        stack.set(top + 4, 0);
        stack.set(top + 5, code.base() + 40);
        let regs = Registers { pc: 0x1234, fp: stack.addr(2), sp: stack.addr(1) };
        let frames = SimpleFrames::new(&code, stack.bounds(), regs);
        assert_eq!(offsets(&code, frames), [9, 39]);
    }

    #[test]
    fn the_walk_stops_at_bad_links() {
        let code = code();
        let mut stack = FakeStack::new();
        chain(&mut stack, &code);
        let pc = code.base() + 6;
        let walk = |fp: usize| {
            let regs = Registers { pc, fp, sp: 0 };
            offsets(&code, SimpleFrames::new(&code, stack.bounds(), regs))
        };
        // Outside the stack, misaligned, null.
        assert_eq!(walk(0x10), [6]);
        assert_eq!(walk(stack.addr(10) + 3), [6]);
        assert_eq!(walk(0), [6]);
        assert_eq!(walk(stack.addr(256)), [6]);
        // A link pointing down (or to itself) ends the chain after its frame.
        let mut looped = FakeStack::new();
        looped.set(10, looped.addr(10));
        looped.set(11, code.base() + 20);
        let regs = Registers { pc, fp: looped.addr(10), sp: 0 };
        let frames = SimpleFrames::new(&code, looped.bounds(), regs);
        assert_eq!(offsets(&code, frames), [6, 19]);
    }

    #[test]
    fn a_pc_outside_code_without_a_simple_caller_has_no_frames() {
        let code = code();
        let stack = FakeStack::new();
        let regs = Registers { pc: 0x1234, fp: 0, sp: stack.addr(0) };
        assert_eq!(SimpleFrames::new(&code, stack.bounds(), regs).count(), 0);
    }
}
