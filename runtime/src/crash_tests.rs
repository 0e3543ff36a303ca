//! End-to-end tests of runtime errors: hand-assembled programs are run by
//! [`run`] and fault; the report on stderr and the exit status are checked.
//!
//! The fault handler ends the process, so each test runs its program in a
//! child process (see `test_support::in_child`) and checks its output.

use std::process::Output;

use simple_abi::{ENTRY_SYMBOL, TrapCode};

use super::exec::run_entry;
use super::list::spl_list_new;
use super::print::{spl_print_i64, spl_print_str};
use super::process::{spl_assert_message, spl_exit};
use super::strings::{StaticStr, spl_str_from_i64};
use super::test_support::{Assembler, FakeCode, stderr, stdout};
use super::{fault, run};

/// Runs `body` in a child process running only test `name` of this module.
fn in_child(name: &str, body: impl FnOnce()) -> Output {
    super::test_support::in_child(module_path!(), name, body)
}

/// A program: the entry calls `main`, then `build` adds the functions.
fn program(build: impl FnOnce(&mut Assembler)) -> FakeCode {
    let mut asm = Assembler::default();
    asm.function(ENTRY_SYMBOL).call("main").epilogue();
    build(&mut asm);
    asm.finish()
}

fn run_program(code: &FakeCode) -> i32 {
    // SAFETY: the entry of hand-written code that follows the ABI.
    unsafe { run_entry(code, code.symbol(ENTRY_SYMBOL)) }.unwrap()
}

/// `main` calls `f` at t.spl:7:3 and returns 0; `f` is built by `body`.
fn main_calls_f(body: impl FnOnce(&mut Assembler)) -> FakeCode {
    program(|asm| {
        asm.function("main").line("t.spl", 7, 3).call("f").result(0).epilogue();
        asm.function("f");
        body(asm);
    })
}

#[test]
fn a_trap_reports_its_message_location_and_backtrace() {
    let output = in_child("a_trap_reports_its_message_location_and_backtrace", || {
        let code = program(|asm| {
            asm.function("main")
                .line("t.spl", 4, 5)
                .arg0(1)
                .arg1(42)
                .call_abs(spl_print_i64 as *const ())
                .line("t.spl", 5, 3)
                .call("f")
                .result(0)
                .epilogue();
            asm.function("f").line("t.spl", 2, 7).ud2(TrapCode::IntegerOverflow as u8);
        });
        run_program(&code);
    });
    assert_eq!(
        stderr(&output),
        "error: integer overflow\n --> t.spl:2:7\nbacktrace:\n  f at t.spl:2:7\n  main at t.spl:5:3\n"
    );
    assert_eq!(output.status.code(), Some(101));
    // Output printed before the fault is flushed.
    assert!(stdout(&output).contains("42"), "stdout: {}", stdout(&output));
}

static MESSAGE: StaticStr<18> = StaticStr::new(b"x must be positive");

#[test]
fn a_failed_assert_prints_its_message() {
    let output = in_child("a_failed_assert_prints_its_message", || {
        let code = program(|asm| {
            asm.function("main")
                .line("t.spl", 3, 5)
                .arg0(MESSAGE.as_ptr() as u64)
                .call_abs(spl_assert_message as *const ())
                .ud2(TrapCode::AssertionFailed as u8);
        });
        run_program(&code);
    });
    assert_eq!(
        stderr(&output),
        "error: assertion failed: x must be positive\n --> t.spl:3:5\nbacktrace:\n  main at t.spl:3:5\n"
    );
    assert_eq!(output.status.code(), Some(101));
}

#[test]
fn an_int3_trap_is_found_by_its_own_address() {
    let output = in_child("an_int3_trap_is_found_by_its_own_address", || {
        let code = main_calls_f(|asm| {
            asm.line("t.spl", 2, 9).emit(&[0x90]).trap_here(TrapCode::DivisionByZero as u8).emit(&[0xcc]);
        });
        run_program(&code);
    });
    assert_eq!(
        stderr(&output),
        "error: division by zero\n --> t.spl:2:9\nbacktrace:\n  f at t.spl:2:9\n  main at t.spl:7:3\n"
    );
    assert_eq!(output.status.code(), Some(101));
}

#[test]
fn a_hardware_division_fault_uses_the_trap_table() {
    let output = in_child("a_hardware_division_fault_uses_the_trap_table", || {
        let code = main_calls_f(|asm| {
            // xor ecx, ecx; mov eax, 1; cqo; idiv rcx
            asm.line("t.spl", 2, 11)
                .emit(&[0x31, 0xc9, 0xb8, 1, 0, 0, 0, 0x48, 0x99])
                .trap_here(TrapCode::RemainderByZero as u8)
                .emit(&[0x48, 0xf7, 0xf9]);
        });
        run_program(&code);
    });
    assert_eq!(
        stderr(&output),
        "error: remainder by zero\n --> t.spl:2:11\nbacktrace:\n  f at t.spl:2:11\n  main at t.spl:7:3\n"
    );
    assert_eq!(output.status.code(), Some(101));
}

/// Checks a stack overflow report of `f` recursing at t.spl:3:5.
fn assert_stack_overflow_of_f(output: &Output) {
    let text = stderr(output);
    let mut expected = String::from("error: stack overflow\n --> t.spl:3:5\nbacktrace:\n");
    for _ in 0..20 {
        expected.push_str("  f at t.spl:3:5\n");
    }
    assert!(text.starts_with(&expected), "stderr: {text}");
    let last = text[expected.len()..].strip_prefix("  ... ").and_then(|rest| rest.strip_suffix(" frames omitted\n"));
    // 64 MiB of at least 16-byte frames, less what the runtime uses.
    let omitted: usize = last.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("stderr: {text}"));
    assert!(omitted > 100_000, "{omitted}");
    assert_eq!(output.status.code(), Some(101));
}

#[test]
fn unbounded_recursion_is_a_stack_overflow() {
    let output = in_child("unbounded_recursion_is_a_stack_overflow", || {
        let code = main_calls_f(|asm| {
            asm.line("t.spl", 3, 5).call("f");
        });
        run_program(&code);
    });
    assert_stack_overflow_of_f(&output);
}

/// A runtime function with a large frame, so the recursion below overflows
/// inside it rather than in the Simple code.
extern "C" fn use_stack() {
    let mut frame = std::mem::MaybeUninit::<[u8; 16 * 1024]>::uninit();
    // Touch only the deepest byte (and, through the compiler's stack probes,
    // one byte per page): zeroing 16 KiB per call would make the recursion
    // slow.
    // SAFETY: writes a byte into the local buffer.
    unsafe { frame.as_mut_ptr().cast::<u8>().write_volatile(0) };
    std::hint::black_box(&mut frame);
}

#[test]
fn a_stack_overflow_inside_a_runtime_call_is_reported_at_the_call() {
    let output = in_child("a_stack_overflow_inside_a_runtime_call_is_reported_at_the_call", || {
        let code = main_calls_f(|asm| {
            asm.line("t.spl", 3, 5).call_abs(use_stack as *const ()).call("f");
        });
        run_program(&code);
    });
    assert_stack_overflow_of_f(&output);
}

extern "C" fn read_null() {
    // SAFETY: not safe at all: reading the unmapped address 8 is the
    // runtime bug under test.
    unsafe { std::ptr::read_volatile(std::ptr::dangling::<u64>()) };
}

#[test]
fn a_runtime_bug_is_an_internal_error_located_at_its_simple_caller() {
    let output = in_child("a_runtime_bug_is_an_internal_error_located_at_its_simple_caller", || {
        let code = main_calls_f(|asm| {
            asm.line("t.spl", 3, 5).call_abs(read_null as *const ()).epilogue();
        });
        run_program(&code);
    });
    let text = stderr(&output);
    assert!(text.starts_with("error: internal error: SIGSEGV at 0x"), "stderr: {text}");
    assert!(
        text.ends_with(" (fault address 0x8)\n --> t.spl:3:5\nbacktrace:\n  f at t.spl:3:5\n  main at t.spl:7:3\n"),
        "stderr: {text}"
    );
    assert_eq!(output.status.code(), Some(101));
}

#[test]
fn a_fault_outside_simple_code_is_an_internal_error() {
    let output = in_child("a_fault_outside_simple_code_is_an_internal_error", || {
        fault::install_handlers().unwrap();
        read_null();
    });
    let text = stderr(&output);
    assert!(text.starts_with("error: internal error: SIGSEGV at 0x"), "stderr: {text}");
    assert!(text.ends_with(" (fault address 0x8)\n"), "stderr: {text}");
    assert_eq!(text.lines().count(), 1, "stderr: {text}");
    assert_eq!(output.status.code(), Some(101));
}

#[test]
fn an_unknown_trap_code_is_an_internal_error() {
    let output = in_child("an_unknown_trap_code_is_an_internal_error", || {
        let code = main_calls_f(|asm| {
            asm.line("t.spl", 2, 1).ud2(99);
        });
        run_program(&code);
    });
    assert_eq!(
        stderr(&output),
        "error: internal error: unknown trap code 99\n --> t.spl:2:1\nbacktrace:\n  f at t.spl:2:1\n  main at t.spl:7:3\n"
    );
    assert_eq!(output.status.code(), Some(101));
}

/// `main` makes the string "5", keeps it in a stack slot while it makes
/// another string (a collection, in stress mode), then prints it. The call
/// that collects has a stack map naming the slot only if `mapped`.
fn keeps_a_string_across_a_collection(mapped: bool) {
    // SAFETY: the child runs this one test on one thread; nothing reads the
    // environment concurrently. The program's heap reads it when it starts.
    unsafe { std::env::set_var("SIMPLE_GC_STRESS", "1") };
    let code = program(|asm| {
        asm.function("main")
            .emit(&[0x48, 0x83, 0xec, 0x10]) // sub rsp, 16
            .arg0(5)
            .call_abs(spl_str_from_i64 as *const ())
            .emit(&[0x48, 0x89, 0x04, 0x24]) // mov [rsp], rax
            .arg0(6)
            .line("t.spl", 4, 9)
            .call_abs(spl_str_from_i64 as *const ())
            .stack_map(16, if mapped { &[0] } else { &[] })
            .arg0(1)
            .emit(&[0x48, 0x8b, 0x34, 0x24]) // mov rsi, [rsp]
            .line("t.spl", 5, 5)
            .call_abs(spl_print_str as *const ())
            .emit(&[0x48, 0x83, 0xc4, 0x10]) // add rsp, 16
            .result(0)
            .epilogue();
    });
    run_program(&code);
}

#[test]
fn a_string_in_a_mapped_stack_slot_survives_a_collection() {
    let output = in_child("a_string_in_a_mapped_stack_slot_survives_a_collection", || {
        keeps_a_string_across_a_collection(true);
    });
    assert!(stdout(&output).ends_with(" ... 5"), "stdout: {}", stdout(&output));
    assert_eq!(stderr(&output), "");
    assert_eq!(output.status.code(), Some(0));
}

/// What the stress tests rely on: a root missing from the stack maps is
/// caught, here when the freed string is used.
#[test]
fn a_string_whose_root_is_missed_is_caught_when_used() {
    let output = in_child("a_string_whose_root_is_missed_is_caught_when_used", || {
        keeps_a_string_across_a_collection(false);
    });
    assert_eq!(
        stderr(&output),
        "error: internal error: use of a string the garbage collector freed\n --> t.spl:5:5\nbacktrace:\n  main at t.spl:5:5\n"
    );
    assert_eq!(output.status.code(), Some(101));
}

/// A descriptor of arrays of one reference per element.
#[repr(C, align(8))]
struct ArrayDesc {
    kind: u32,
    slots: u32,
    ref_map: u64,
}

static ARRAY_OF_REFS: ArrayDesc = ArrayDesc { kind: simple_abi::heap_layout::KIND_ARRAY, slots: 1, ref_map: 1 };

#[test]
fn an_allocation_error_is_a_located_runtime_error_negative() {
    check_allocation_error("an_allocation_error_is_a_located_runtime_error_negative", -1, "negative list length -1");
}

#[test]
fn an_allocation_error_is_a_located_runtime_error_huge() {
    check_allocation_error("an_allocation_error_is_a_located_runtime_error_huge", i64::MAX, "out of memory");
}

fn check_allocation_error(name: &str, len: i64, message: &str) {
    let output = in_child(name, || {
        let code = main_calls_f(|asm| {
            asm.arg0(&ARRAY_OF_REFS as *const ArrayDesc as u64)
                .arg1(len as u64)
                .line("t.spl", 3, 5)
                .call_abs(spl_list_new as *const ())
                .epilogue();
        });
        run_program(&code);
    });
    assert_eq!(
        stderr(&output),
        format!("error: {message}\n --> t.spl:3:5\nbacktrace:\n  f at t.spl:3:5\n  main at t.spl:7:3\n")
    );
    assert_eq!(output.status.code(), Some(101));
}

#[test]
fn exit_flushes_stdout_and_truncates_the_status() {
    let output = in_child("exit_flushes_stdout_and_truncates_the_status", || {
        let code = program(|asm| {
            asm.function("main")
                .arg0(1)
                .arg1(7)
                .call_abs(spl_print_i64 as *const ())
                .arg0(257)
                .call_abs(spl_exit as *const ());
        });
        run_program(&code);
    });
    assert_eq!(stderr(&output), "");
    assert!(stdout(&output).contains('7'), "stdout: {}", stdout(&output));
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn run_returns_the_entrys_status_truncated() {
    let code = program(|asm| {
        asm.function("main").result(300).epilogue();
    });
    assert_eq!(run_program(&code), 300 & 255);
    let code = program(|asm| {
        asm.function("main").result(-1i64 as u64).epilogue();
    });
    assert_eq!(run_program(&code), 255);
}

/// A module as the linker would write it, run through the real loader:
/// the runtime import, a call and a data reference are relocated, and the
/// report comes from the SMF symbol, line and trap tables.
#[test]
fn a_loaded_smf_module_reports_through_its_tables() {
    use simple_smf::{
        Arch, Binding, Flags, LineEntry, Module, Platform, RelocKind, RelocTarget, Relocation, SectionKind, Symbol,
        SymbolKind, TrapEntry, load_module,
    };

    let output = in_child("a_loaded_smf_module_reports_through_its_tables", || {
        let message = b"from smf";
        let mut rodata = 0u64.to_le_bytes().to_vec(); // STATIC_TAG
        rodata.extend((message.len() as u64).to_le_bytes());
        rodata.extend(message);

        let mut code = Vec::new();
        // __simple_entry: push rbp; mov rbp, rsp; call main; pop rbp; ret
        code.extend([0x55, 0x48, 0x89, 0xe5, 0xe8, 0, 0, 0, 0, 0x5d, 0xc3]);
        let main = code.len();
        // main: prologue; call f; (unreachable) pop rbp; ret
        code.extend([0x55, 0x48, 0x89, 0xe5, 0xe8, 0, 0, 0, 0, 0x5d, 0xc3]);
        let f = code.len();
        // f: prologue; movabs rdi, message; movabs rax, spl_assert_message;
        // call rax; ud2
        code.extend([0x55, 0x48, 0x89, 0xe5, 0x48, 0xbf]);
        code.extend([0; 8]);
        code.extend([0x48, 0xb8]);
        code.extend([0; 8]);
        code.extend([0xff, 0xd0]);
        let trap = code.len();
        code.extend([0x0f, 0x0b]);

        let function = |name: &str, offset: usize, size: usize| Symbol {
            name: name.to_owned(),
            kind: SymbolKind::Function,
            binding: Binding::Global,
            section: SectionKind::Text,
            offset: offset as u64,
            size: size as u64,
            content_hash: [1; 16],
        };
        let reloc = |offset: usize, target, kind, addend| Relocation {
            section: SectionKind::Text,
            offset: offset as u64,
            target,
            kind,
            addend,
        };
        let line = |offset: usize, line, column| LineEntry {
            code_offset: offset as u32,
            file: 0,
            line,
            column,
            inlined: None,
        };
        let module = Module {
            flags: Flags::EXECUTABLE | Flags::DEBUG_INFO,
            platform: Platform::Linux,
            arch: Arch::X86_64,
            entry: Some(0),
            source_hash: [0; 32],
            symbols: vec![
                function(ENTRY_SYMBOL, 0, main),
                function("main", main, f - main),
                function("f", f, code.len() - f),
                Symbol {
                    name: "message".to_owned(),
                    kind: SymbolKind::Data,
                    binding: Binding::Local,
                    section: SectionKind::Rodata,
                    offset: 0,
                    size: rodata.len() as u64,
                    content_hash: [0; 16],
                },
            ],
            relocations: vec![
                reloc(5, RelocTarget::Symbol(1), RelocKind::Plt32, -4),
                reloc(main + 5, RelocTarget::Symbol(2), RelocKind::Plt32, -4),
                reloc(f + 6, RelocTarget::Symbol(3), RelocKind::Abs64, 0),
                reloc(f + 16, RelocTarget::Import(0), RelocKind::Abs64, 0),
            ],
            code,
            rodata,
            data: Vec::new(),
            bss_size: 0,
            abi_version: simple_abi::ABI_VERSION,
            imports: vec!["spl_assert_message".to_owned()],
            files: vec!["prog.spl".to_owned()],
            line_table: vec![line(main + 4, 4, 5), line(f + 4, 2, 12)],
            traps: vec![TrapEntry { code_offset: trap as u32, code: TrapCode::AssertionFailed as u8 }],
            stack_maps: Vec::new(),
        };
        let loaded = load_module(module, &super::resolve, simple_abi::ABI_VERSION).unwrap();
        run(&loaded);
    });
    assert_eq!(
        stderr(&output),
        "error: assertion failed: from smf\n --> prog.spl:2:12\nbacktrace:\n  f at prog.spl:2:12\n  main at prog.spl:4:5\n"
    );
    assert_eq!(output.status.code(), Some(101));
}
