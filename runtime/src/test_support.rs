//! Hand-assembled x86_64 code behind a fake [`CodeMap`], to test fault
//! handling end to end without the compiler.

use std::ops::Range;
use std::process::{Command, Output};

use super::code_map::{CodeMap, SourceLocation, StackMapRef};

const CHILD: &str = "SIMPLE_RUNTIME_TEST_CHILD";

/// Runs a test body that ends the process (or writes to the real stdout) in
/// a child: this test binary re-run with only the test `module::name`
/// selected and an environment variable telling it to run `body`.
///
/// In the child, runs `body`, flushes stdout and exits 0 (so a body that was
/// meant to fault fails its test). In the parent, returns the child's output.
pub fn in_child(module: &str, name: &str, body: impl FnOnce()) -> Output {
    if std::env::var(CHILD).as_deref() == Ok(name) {
        body();
        super::output::flush_stdout();
        std::process::exit(0);
    }
    // Test names leave out the crate name that module_path! starts with.
    let module = module.split_once("::").map_or(module, |(_, rest)| rest);
    Command::new(std::env::current_exe().unwrap())
        .args([&format!("{module}::{name}"), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, name)
        .output()
        .unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A line-table entry: file, line, column.
type Line = (&'static str, u32, u32);

/// Code copied into executable memory (never writable and executable at
/// once), with a made-up symbol table, line table and trap table.
pub struct FakeCode {
    base: *mut u8,
    len: usize,
    /// Function names and their code ranges (offsets).
    functions: Vec<(String, Range<usize>)>,
    /// Line table: from each offset (sorted), until the next entry.
    lines: Vec<(usize, Option<Line>)>,
    traps: Vec<(usize, u8)>,
    /// Stack maps: return offset, frame size, slots.
    stack_maps: Vec<(usize, u32, Vec<u32>)>,
    rodata: Range<usize>,
}

// SAFETY: the code is immutable once mapped.
unsafe impl Sync for FakeCode {}

impl FakeCode {
    /// Maps `bytes` executable; `functions` names ranges of offsets.
    pub fn new(bytes: &[u8], functions: &[(&str, Range<usize>)]) -> FakeCode {
        let len = bytes.len().max(1);
        // SAFETY: a fresh anonymous mapping of `len` bytes, filled and then
        // made read + execute.
        let base = unsafe {
            let base = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(base, libc::MAP_FAILED);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), base.cast(), bytes.len());
            assert_eq!(libc::mprotect(base, len, libc::PROT_READ | libc::PROT_EXEC), 0);
            base.cast()
        };
        let mut code = FakeCode {
            base,
            len,
            functions: functions.iter().map(|(name, range)| (name.to_string(), range.clone())).collect(),
            lines: Vec::new(),
            traps: Vec::new(),
            stack_maps: Vec::new(),
            rodata: 0..0,
        };
        // No line information at function starts unless given.
        for (_, range) in functions {
            code.lines.push((range.start, None));
        }
        code.lines.sort_by_key(|&(offset, _)| offset);
        code
    }

    pub fn base(&self) -> usize {
        self.base as usize
    }

    /// Code from `offset` on (until the next entry) is at `file:line:column`.
    pub fn add_line(&mut self, offset: usize, file: &'static str, line: u32, column: u32) {
        self.lines.retain(|&(o, _)| o != offset);
        self.lines.push((offset, Some((file, line, column))));
        self.lines.sort_by_key(|&(offset, _)| offset);
    }

    pub fn add_trap(&mut self, offset: usize, code: u8) {
        self.traps.push((offset, code));
    }

    /// The call returning to `offset` has a frame of `frame_size` bytes
    /// with references at `slots` (offsets from SP).
    pub fn add_stack_map(&mut self, offset: usize, frame_size: u32, slots: &[u32]) {
        self.stack_maps.push((offset, frame_size, slots.to_vec()));
    }

    /// The address of function `name`.
    pub fn symbol(&self, name: &str) -> usize {
        let (_, range) = self.functions.iter().find(|(n, _)| n == name).expect("no such function");
        self.base() + range.start
    }

    fn offset(&self, addr: usize) -> Option<usize> {
        addr.checked_sub(self.base()).filter(|&offset| offset < self.len)
    }
}

impl Drop for FakeCode {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

impl CodeMap for FakeCode {
    fn in_code(&self, addr: usize) -> bool {
        self.offset(addr).is_some()
    }

    fn function_name(&self, addr: usize) -> Option<&str> {
        let offset = self.offset(addr)?;
        let (name, _) = self.functions.iter().find(|(_, range)| range.contains(&offset))?;
        Some(name)
    }

    fn locate(&self, addr: usize) -> Option<SourceLocation<'_>> {
        let offset = self.offset(addr)?;
        let index = self.lines.partition_point(|&(start, _)| start <= offset);
        let (file, line, column) = self.lines.get(index.checked_sub(1)?)?.1?;
        Some(SourceLocation { file, line, column, inlined: None })
    }

    fn trap_code(&self, addr: usize) -> Option<u8> {
        let offset = self.offset(addr)?;
        self.traps.iter().find(|&&(o, _)| o == offset).map(|&(_, code)| code)
    }

    fn stack_map(&self, addr: usize) -> Option<StackMapRef<'_>> {
        let offset = addr.checked_sub(self.base())?;
        let (_, frame_size, slots) = self.stack_maps.iter().find(|(o, _, _)| *o == offset)?;
        Some(StackMapRef { frame_size: *frame_size, slots })
    }

    fn rodata(&self) -> Range<usize> {
        self.rodata.clone()
    }
}

/// Writes x86_64 machine code, a few instructions at a time, with a line
/// and trap table alongside.
#[derive(Default)]
pub struct Assembler {
    bytes: Vec<u8>,
    functions: Vec<(String, usize)>,
    lines: Vec<(usize, &'static str, u32, u32)>,
    traps: Vec<(usize, u8)>,
    /// rel32 fields of `call`s, with the function they call.
    calls: Vec<(usize, String)>,
    stack_maps: Vec<(usize, u32, Vec<u32>)>,
}

impl Assembler {
    /// Starts function `name` with `push rbp; mov rbp, rsp`.
    pub fn function(&mut self, name: &str) -> &mut Self {
        self.functions.push((name.to_string(), self.bytes.len()));
        self.emit(&[0x55, 0x48, 0x89, 0xe5])
    }

    /// What follows is at `file:line:column`.
    pub fn line(&mut self, file: &'static str, line: u32, column: u32) -> &mut Self {
        self.lines.push((self.bytes.len(), file, line, column));
        self
    }

    pub fn emit(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// `pop rbp; ret`
    pub fn epilogue(&mut self) -> &mut Self {
        self.emit(&[0x5d, 0xc3])
    }

    /// `call name` (rel32).
    pub fn call(&mut self, name: &str) -> &mut Self {
        self.emit(&[0xe8]);
        self.calls.push((self.bytes.len(), name.to_string()));
        self.emit(&[0; 4])
    }

    /// `mov rax, address; call rax`: a call into the runtime.
    pub fn call_abs(&mut self, function: *const ()) -> &mut Self {
        let address = function as u64;
        self.emit(&[0x48, 0xb8]).emit(&address.to_le_bytes()).emit(&[0xff, 0xd0])
    }

    /// `mov rdi, value` (first argument).
    pub fn arg0(&mut self, value: u64) -> &mut Self {
        self.emit(&[0x48, 0xbf]).emit(&value.to_le_bytes())
    }

    /// `mov rsi, value` (second argument).
    pub fn arg1(&mut self, value: u64) -> &mut Self {
        self.emit(&[0x48, 0xbe]).emit(&value.to_le_bytes())
    }

    /// `mov rax, value` (the result).
    pub fn result(&mut self, value: u64) -> &mut Self {
        self.emit(&[0x48, 0xb8]).emit(&value.to_le_bytes())
    }

    /// The call just emitted has a stack map: a frame of `frame_size`
    /// bytes with references at `slots` (offsets from SP).
    pub fn stack_map(&mut self, frame_size: u32, slots: &[u32]) -> &mut Self {
        self.stack_maps.push((self.bytes.len(), frame_size, slots.to_vec()));
        self
    }

    /// Marks the next instruction as a trap with `code`.
    pub fn trap_here(&mut self, code: u8) -> &mut Self {
        self.traps.push((self.bytes.len(), code));
        self
    }

    /// `ud2` with trap code `code`.
    pub fn ud2(&mut self, code: u8) -> &mut Self {
        self.trap_here(code).emit(&[0x0f, 0x0b])
    }

    pub fn finish(&mut self) -> FakeCode {
        for (field, name) in &self.calls {
            let (_, target) = self.functions.iter().find(|(n, _)| n == name).expect("call to an unknown function");
            let rel = *target as i64 - (*field as i64 + 4);
            self.bytes[*field..*field + 4].copy_from_slice(&(rel as i32).to_le_bytes());
        }
        let mut ranges = Vec::new();
        for (i, (name, start)) in self.functions.iter().enumerate() {
            let end = self.functions.get(i + 1).map_or(self.bytes.len(), |(_, next)| *next);
            ranges.push((name.as_str(), *start..end));
        }
        let mut code = FakeCode::new(&self.bytes, &ranges);
        for &(offset, file, line, column) in &self.lines {
            code.add_line(offset, file, line, column);
        }
        for &(offset, trap) in &self.traps {
            code.add_trap(offset, trap);
        }
        for (offset, frame_size, slots) in &self.stack_maps {
            code.add_stack_map(*offset, *frame_size, slots);
        }
        code
    }
}

/// A fake stack: a word array whose addresses are real, so frame records
/// can point at each other (for the frame walks' tests).
pub struct FakeStack {
    words: Vec<usize>,
}

impl FakeStack {
    /// 256 words.
    pub fn new() -> FakeStack {
        FakeStack::with_words(256)
    }

    pub fn with_words(len: usize) -> FakeStack {
        // Over-allocate by one word so the base can be 16-aligned.
        FakeStack { words: vec![0; len + 1] }
    }

    pub fn base(&self) -> usize {
        (self.words.as_ptr() as usize).next_multiple_of(16)
    }

    pub fn addr(&self, index: usize) -> usize {
        self.base() + index * 8
    }

    pub fn set(&mut self, index: usize, value: usize) {
        let offset = (self.base() - self.words.as_ptr() as usize) / 8;
        self.words[offset + index] = value;
    }

    pub fn bounds(&self) -> super::backtrace::StackBounds {
        super::backtrace::StackBounds {
            guard_lo: self.base() - 4096,
            guard_hi: self.base(),
            lo: self.base(),
            hi: self.addr(self.words.len() - 1),
        }
    }
}
