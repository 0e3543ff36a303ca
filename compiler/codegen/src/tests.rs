//! End-to-end tests: MIR text → compile → link → SMF bytes → load → run.
//!
//! Functions are written in the textual MIR form (`simple_mir::parse`),
//! compiled for the host, linked, written and loaded with the SMF loader,
//! whose resolver maps runtime names to the small `extern "C"` functions
//! below (they record what they are called with). Traps are checked two
//! ways: the trap table must hold the right code, and running the trapping
//! input in a forked child must stop on a trap instruction whose code and
//! source location are the expected ones.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use cranelift_codegen::isa::TargetIsa;
use simple_abi::{ABI_VERSION, TrapCode, str_layout};
use simple_mir::{Body, Loc, parse};
use simple_smf::{LoadedModule, Module};

use crate::{
    CodegenError, CompiledFn, LinkError, LinkInput, Literal, Object, ObjectInput, RelocTarget, compile_function,
    dump_asm, dump_clif, link, native_isa, object,
};

const MIN: i64 = i64::MIN;
const MAX: i64 = i64::MAX;
/// 2^63, the first f64 above `i64::MAX`.
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

fn isa() -> &'static dyn TargetIsa {
    static ISA: OnceLock<Arc<dyn TargetIsa>> = OnceLock::new();
    &**ISA.get_or_init(|| native_isa().expect("host ISA"))
}

fn body(text: &str) -> Body {
    parse(text).unwrap_or_else(|e| panic!("bad MIR in test: {e}\n{text}"))
}

fn compile(text: &str) -> CompiledFn {
    compile_function(&body(text), isa()).unwrap_or_else(|e| panic!("{e}"))
}

/// The absolute line of every test function's `Loc` line 0.
const FIRST_LINE: u32 = 100;

fn object_of(compiled: &[CompiledFn]) -> Result<Object, LinkError> {
    object(compiled.iter().map(|c| ObjectInput { compiled: c, first_line: FIRST_LINE }))
}

/// Links `objects`, all from file 0.
fn link_objects(objects: &[Object], entry: &str) -> Result<Module, LinkError> {
    link(&LinkInput {
        objects: objects.iter().map(|o| (o, 0)).collect(),
        files: vec!["test.spl".into()],
        entry_symbol: entry,
        source_hash: [7; 32],
    })
}

/// Links `compiled` as one object.
fn link_fns(compiled: &[CompiledFn], entry: &str) -> Result<Module, LinkError> {
    link_objects(&[object_of(compiled)?], entry)
}

/// Compiles, links, writes and loads `functions`; the first is the entry.
fn load(functions: &[&str]) -> LoadedModule {
    let compiled: Vec<CompiledFn> = functions.iter().map(|t| compile(t)).collect();
    let module = link_fns(&compiled, &compiled[0].symbol).expect("link");
    module.validate().expect("linked module is valid");
    let bytes = simple_smf::write(&module);
    simple_smf::load_bytes(&bytes, &resolve, ABI_VERSION).expect("load")
}

/// The address of function `name` as a function pointer of type `F`.
///
/// # Safety
/// `F` must be an `extern "C" fn` type matching the function's signature.
unsafe fn function<F: Copy>(module: &LoadedModule, name: &str) -> F {
    assert_eq!(size_of::<F>(), size_of::<usize>());
    let addr = module.symbol(name).expect("symbol");
    // SAFETY: the caller promises `F` is the right fn pointer type.
    unsafe { std::mem::transmute_copy::<usize, F>(&addr) }
}

// ---- the test runtime ----------------------------------------------------

thread_local! {
    /// What the runtime functions were called with, on this thread.
    static OUTPUT: RefCell<String> = const { RefCell::new(String::new()) };
}

fn record(s: String) {
    OUTPUT.with(|o| o.borrow_mut().push_str(&s));
}

fn take_output() -> String {
    OUTPUT.with(|o| std::mem::take(&mut *o.borrow_mut()))
}

extern "C" fn print_i64(stream: i64, v: i64) {
    record(format!("{stream}:{v};"));
}

extern "C" fn print_f64(stream: i64, v: f64) {
    record(format!("{stream}:{v:?};"));
}

extern "C" fn print_bool(stream: i64, v: bool) {
    record(format!("{stream}:{v};"));
}

/// Records `stream:tag:text;`, reading the `str_layout` block.
extern "C" fn print_str(stream: i64, s: *const u8) {
    // SAFETY: compiled code passes a pointer to a str_layout block.
    let (tag, text) = unsafe {
        let tag = s.add(str_layout::TAG_OFFSET as usize).cast::<u64>().read();
        let len = s.add(str_layout::LEN_OFFSET as usize).cast::<u64>().read();
        let bytes = std::slice::from_raw_parts(s.add(str_layout::BYTES_OFFSET as usize), len as usize);
        (tag, String::from_utf8_lossy(bytes).into_owned())
    };
    record(format!("{stream}:{tag}:{text};"));
}

extern "C" fn fmod(a: f64, b: f64) -> f64 {
    a % b
}

extern "C" fn fpow(a: f64, b: f64) -> f64 {
    a.powf(b)
}

/// What [`concat_snapshot`] saw of its caller's frame: the return address
/// and a copy of the caller's frame from its SP up to its FP.
struct FrameSnapshot {
    return_address: usize,
    sp: usize,
    words: Vec<usize>,
}

thread_local! {
    static SNAPSHOTS: RefCell<Vec<FrameSnapshot>> = const { RefCell::new(Vec::new()) };
}

/// A `spl_str_concat` that returns its first argument after copying the
/// frame of its caller: the stack maps must point into that copy.
#[inline(never)]
extern "C" fn concat_snapshot(a: *const u8, _b: *const u8) -> *const u8 {
    let fp: usize;
    // SAFETY: reads rbp, which the workspace keeps as the frame pointer
    // (`-C force-frame-pointers=yes` in .cargo/config.toml): `[fp]` is the
    // compiled caller's frame pointer, `[fp + 8]` the return address.
    unsafe { std::arch::asm!("mov {}, rbp", out(reg) fp, options(nomem, nostack, preserves_flags)) };
    // SAFETY: the frame record and the caller's frame above it are live
    // stack memory of this thread while the call runs.
    let snapshot = unsafe {
        let caller_fp = *(fp as *const usize);
        let return_address = *((fp + 8) as *const usize);
        // The call pushed the return address just below the caller's SP.
        let sp = fp + 16;
        assert!(caller_fp >= sp && caller_fp - sp < 1 << 16, "no frame record: frame pointers are off?");
        let words = std::slice::from_raw_parts(sp as *const usize, (caller_fp - sp) / 8).to_vec();
        FrameSnapshot { return_address, sp, words }
    };
    SNAPSHOTS.with(|s| s.borrow_mut().push(snapshot));
    a
}

fn resolve(name: &str) -> Option<usize> {
    Some(match name {
        "spl_str_concat" => concat_snapshot as *const () as usize,
        "spl_print_i64" => print_i64 as *const () as usize,
        "spl_print_f64" => print_f64 as *const () as usize,
        "spl_print_bool" => print_bool as *const () as usize,
        "spl_print_str" => print_str as *const () as usize,
        "spl_fmod" => fmod as *const () as usize,
        "spl_fpow" => fpow as *const () as usize,
        _ => return None,
    })
}

// ---- running a trap in a child process ----------------------------------

/// Where a trap stopped: its code and source position.
#[derive(Debug, PartialEq, Eq)]
struct Trapped {
    code: TrapCode,
    line: u32,
    column: u32,
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod child {
    use std::sync::atomic::{AtomicI32, Ordering};

    static PIPE: AtomicI32 = AtomicI32::new(-1);

    extern "C" fn on_sigill(_: libc::c_int, _: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: the kernel passes a ucontext_t to an SA_SIGINFO handler;
        // write and _exit are async-signal-safe.
        unsafe {
            let uc = ctx.cast::<libc::ucontext_t>();
            let rip = (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] as u64;
            let bytes = rip.to_le_bytes();
            libc::write(PIPE.load(Ordering::SeqCst), bytes.as_ptr().cast(), bytes.len());
            libc::_exit(0);
        }
    }

    /// Runs `f` in a forked child. Returns the address of the trap
    /// instruction it stopped on, or `None` if `f` returned.
    ///
    /// The child only runs `f` (compiled code that calls no runtime
    /// function, so it takes no lock) and async-signal-safe calls, which
    /// is what is allowed after forking a multi-threaded process.
    pub fn trap_address(f: impl FnOnce()) -> Option<usize> {
        let mut fds = [0; 2];
        // SAFETY: plain libc calls on valid arguments; see above for the child.
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            let pid = libc::fork();
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                libc::close(fds[0]);
                PIPE.store(fds[1], Ordering::SeqCst);
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigill as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO;
                libc::sigaction(libc::SIGILL, &action, std::ptr::null_mut());
                f();
                libc::_exit(0);
            }
            libc::close(fds[1]);
            let mut buf = [0u8; 8];
            let mut got = 0;
            while got < buf.len() {
                let n = libc::read(fds[0], buf[got..].as_mut_ptr().cast(), buf.len() - got);
                if n <= 0 {
                    break;
                }
                got += n as usize;
            }
            libc::close(fds[0]);
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "child died: status {status:#x}");
            (got == 8).then(|| u64::from_le_bytes(buf) as usize)
        }
    }
}

/// Runs `f` in a child process and reports the trap it hit, if any.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn run_trapping(module: &LoadedModule, f: impl FnOnce()) -> Option<Trapped> {
    let addr = child::trap_address(f)?;
    let code = module.trap_code(addr).unwrap_or_else(|| panic!("stopped at {addr:#x}, which is not in the trap table"));
    let location = module.locate(addr).expect("trap address has a location");
    Some(Trapped {
        code: TrapCode::from_u8(code).expect("known trap code"),
        line: location.line,
        column: location.column,
    })
}

// ---- helpers for one-operation functions --------------------------------

/// `fn f(_0: ty, _1: ty) -> ret { _2 = OP(_0, _1) @7:9; return _2 @8:1 }`
fn binary_fn(op: &str, ty: &str, ret: &str) -> String {
    format!(
        "fn f(_0: {ty}, _1: {ty}) -> {ret} {{
            let _2: {ret}
        bb0:
            _2 = {op}(_0, _1) @7:9
            return _2 @8:1
        }}"
    )
}

/// `fn f(_0: ty) -> ret { _1 = OP(_0) @7:9; return _1 @8:1 }`
fn unary_fn(op: &str, ty: &str, ret: &str) -> String {
    format!(
        "fn f(_0: {ty}) -> {ret} {{
            let _1: {ret}
        bb0:
            _1 = {op}(_0) @7:9
            return _1 @8:1
        }}"
    )
}

type IntBin = extern "C" fn(i64, i64) -> i64;
/// A Rust comparison to check a compiled one against.
type Predicate<T> = fn(&T, &T) -> bool;
/// `(a, b, a OP b)`.
type FloatCase = (f64, f64, f64);
type FloatBin = extern "C" fn(f64, f64) -> f64;

/// The trap an operation at `@7:9` of a test function reports.
fn trap_at_op(code: TrapCode) -> Option<Trapped> {
    Some(Trapped { code, line: FIRST_LINE + 7, column: 9 })
}

fn check_int_op(op: &str, cases: &[(i64, i64, i64)], traps: &[(i64, i64, TrapCode)]) {
    let module = load(&[&binary_fn(op, "i64", "i64")]);
    // SAFETY: binary_fn(_, "i64", "i64") has this signature.
    let f: IntBin = unsafe { function(&module, "f") };
    for &(a, b, want) in cases {
        assert_eq!(f(a, b), want, "{op}({a}, {b})");
    }
    let table: Vec<TrapCode> = module.module().traps.iter().filter_map(|t| TrapCode::from_u8(t.code)).collect();
    for &(a, b, code) in traps {
        assert!(table.contains(&code), "{op}: no {code:?} in {table:?}");
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        assert_eq!(
            run_trapping(&module, move || {
                f(a, b);
            }),
            trap_at_op(code),
            "{op}({a}, {b})"
        );
    }
}

// ---- integer arithmetic --------------------------------------------------

#[test]
fn integer_add_sub_mul() {
    use TrapCode::IntegerOverflow as O;
    check_int_op("IAdd", &[(2, 3, 5), (-5, 3, -2), (MAX - 1, 1, MAX), (MIN, 0, MIN)], &[(MAX, 1, O), (MIN, -1, O)]);
    check_int_op("ISub", &[(2, 3, -1), (MIN + 1, 1, MIN), (-1, MAX, MIN)], &[(MIN, 1, O), (0, MIN, O)]);
    check_int_op(
        "IMul",
        &[(6, 7, 42), (-3, 4, -12), (1 << 31, 1 << 31, 1 << 62), (MIN, 1, MIN)],
        &[(MAX, 2, O), (MIN, -1, O), (1 << 32, 1 << 31, O)],
    );
}

/// `floor(a / b)` computed independently of the compiler's formula.
fn floor_div(a: i64, b: i64) -> i64 {
    let (a, b) = (i128::from(a), i128::from(b));
    let q = if b > 0 { a.div_euclid(b) } else { (-a).div_euclid(-b) };
    q as i64
}

#[test]
fn integer_division_semantics() {
    // The language's examples, then a sweep against Rust's semantics.
    check_int_op(
        "IFloorDiv",
        &[(-7, 2, -4), (7, -2, -4), (7, 2, 3), (-7, -2, 3), (6, -2, -3)],
        &[(1, 0, TrapCode::DivisionByZero), (MIN, -1, TrapCode::IntegerOverflow)],
    );
    check_int_op(
        "IRem",
        &[(-7, 2, -1), (7, -2, 1), (7, 2, 1), (-7, -2, -1), (MIN, 1, 0)],
        &[(1, 0, TrapCode::RemainderByZero), (MIN, -1, TrapCode::IntegerOverflow)],
    );
    check_int_op(
        "IDiv",
        &[(-7, 2, -3), (7, -2, -3), (MIN, 1, MIN), (MIN, 2, MIN / 2)],
        &[(5, 0, TrapCode::DivisionByZero), (MIN, -1, TrapCode::IntegerOverflow)],
    );

    let values = [MIN, MIN + 1, -100, -9, -7, -2, -1, 0, 1, 2, 3, 7, 9, 100, MAX];
    let div = load(&[&binary_fn("IDiv", "i64", "i64")]);
    let rem = load(&[&binary_fn("IRem", "i64", "i64")]);
    let floor = load(&[&binary_fn("IFloorDiv", "i64", "i64")]);
    // SAFETY: all three have this signature.
    let (div, rem, floor): (IntBin, IntBin, IntBin) =
        unsafe { (function(&div, "f"), function(&rem, "f"), function(&floor, "f")) };
    for a in values {
        for b in values {
            if b == 0 || (a == MIN && b == -1) {
                continue;
            }
            assert_eq!(div(a, b), a / b, "{a} / {b}");
            assert_eq!(rem(a, b), a % b, "{a} % {b}");
            assert_eq!(floor(a, b), floor_div(a, b), "{a} // {b}");
        }
    }
}

#[test]
fn floor_division_by_a_constant_power_of_two_is_a_shift() {
    let values = [MIN, MIN + 1, -9, -8, -7, -1, 0, 1, 7, 8, 9, MAX];
    for d in [1i64, 2, 8, 1 << 62] {
        let text = format!(
            "fn f(_0: i64) -> i64 {{
                let _1: i64
            bb0:
                _1 = IFloorDiv(_0, {d}) @1:1
                return _1 @1:1
            }}"
        );
        let module = load(&[&text]);
        // SAFETY: `f` takes and returns an i64.
        let f: extern "C" fn(i64) -> i64 = unsafe { function(&module, "f") };
        for a in values {
            assert_eq!(f(a), floor_div(a, d), "{a} // {d}");
        }
    }
}

#[test]
fn integer_power() {
    use TrapCode::{IntegerOverflow as O, NegativeExponent as N};
    let cases = [
        (2, 10, 1024),
        (-2, 63, MIN),
        (2, 62, 1 << 62),
        (3, 0, 1),
        (0, 0, 1),
        (0, 5, 0),
        (-3, 3, -27),
        (7, 1, 7),
        (-1, MAX, -1),
        (1, MAX, 1),
        (10, 18, 1_000_000_000_000_000_000),
    ];
    check_int_op("IPow", &cases, &[(2, -1, N), (2, 63, O), (10, 19, O), (3, MAX, O)]);

    // A constant exponent is unrolled; it must agree with the loop.
    for e in [0, 1, 2, 3, 5, 13, 40, 62, 63] {
        let text = format!(
            "fn f(_0: i64) -> i64 {{
                let _1: i64
            bb0:
                _1 = IPow(_0, {e}) @7:9
                return _1 @8:1
            }}"
        );
        let module = load(&[&text]);
        // SAFETY: the signature above.
        let f: extern "C" fn(i64) -> i64 = unsafe { function(&module, "f") };
        for base in [-2i64, -1, 0, 1, 2, 3] {
            if let Some(want) = base.checked_pow(e as u32) {
                assert_eq!(f(base), want, "{base} ** {e}");
            } else {
                #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
                assert_eq!(
                    run_trapping(&module, move || {
                        f(base);
                    }),
                    trap_at_op(O),
                    "{base} ** {e}"
                );
            }
        }
    }
}

#[test]
fn shifts_and_bitwise() {
    use TrapCode::ShiftOutOfRange as S;
    check_int_op(
        "IShl",
        &[(1, 63, MIN), (3, 1, 6), (-1, 0, -1), (0x0123_4567_89ab_cdef, 8, 0x2345_6789_abcd_ef00)],
        &[(1, 64, S), (1, -1, S), (1, MIN, S)],
    );
    check_int_op("IShr", &[(-16, 2, -4), (MIN, 63, -1), (16, 4, 1), (5, 0, 5)], &[(1, 64, S), (1, -5, S)]);
    check_int_op("IAnd", &[(0b1100, 0b1010, 0b1000), (-1, 5, 5)], &[]);
    check_int_op("IOr", &[(0b1100, 0b1010, 0b1110)], &[]);
    check_int_op("IXor", &[(0b1100, 0b1010, 0b0110), (-1, 0, -1)], &[]);
    check_int_op("IMin", &[(3, -4, -4), (MIN, MAX, MIN), (5, 5, 5)], &[]);
    check_int_op("IMax", &[(3, -4, 3), (MIN, MAX, MAX)], &[]);
}

#[test]
fn integer_comparisons_return_bool() {
    let cases: [(&str, Predicate<i64>); 6] = [
        ("ICmpEq", i64::eq),
        ("ICmpNe", i64::ne),
        ("ICmpLt", i64::lt),
        ("ICmpLe", i64::le),
        ("ICmpGt", i64::gt),
        ("ICmpGe", i64::ge),
    ];
    for (op, reference) in cases {
        let module = load(&[&binary_fn(op, "i64", "bool")]);
        // SAFETY: binary_fn(_, "i64", "bool") has this signature.
        let f: extern "C" fn(i64, i64) -> bool = unsafe { function(&module, "f") };
        for (a, b) in [(1, 2), (2, 1), (3, 3), (MIN, MAX), (-1, 0)] {
            assert_eq!(f(a, b), reference(&a, &b), "{op}({a}, {b})");
        }
    }
}

#[test]
fn unary_operations() {
    let module = load(&[&unary_fn("INeg", "i64", "i64")]);
    // SAFETY: unary_fn(_, "i64", "i64") has this signature.
    let neg: extern "C" fn(i64) -> i64 = unsafe { function(&module, "f") };
    assert_eq!(neg(5), -5);
    assert_eq!(neg(MAX), MIN + 1);
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    assert_eq!(
        run_trapping(&module, || {
            neg(MIN);
        }),
        trap_at_op(TrapCode::IntegerOverflow)
    );

    let module = load(&[&unary_fn("IAbs", "i64", "i64")]);
    // SAFETY: as above.
    let abs: extern "C" fn(i64) -> i64 = unsafe { function(&module, "f") };
    assert_eq!(abs(-5), 5);
    assert_eq!(abs(MIN + 1), MAX);
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    assert_eq!(
        run_trapping(&module, || {
            abs(MIN);
        }),
        trap_at_op(TrapCode::IntegerOverflow)
    );

    let module = load(&[&unary_fn("INot", "i64", "i64")]);
    // SAFETY: as above.
    let not: extern "C" fn(i64) -> i64 = unsafe { function(&module, "f") };
    assert_eq!(not(0), -1);

    let module = load(&[&unary_fn("Not", "bool", "bool")]);
    // SAFETY: unary_fn(_, "bool", "bool").
    let lnot: extern "C" fn(bool) -> bool = unsafe { function(&module, "f") };
    assert!(lnot(false));
    assert!(!lnot(true));

    for (op, reference) in [("FNeg", (|x: f64| -x) as fn(f64) -> f64), ("FAbs", f64::abs)] {
        let module = load(&[&unary_fn(op, "f64", "f64")]);
        // SAFETY: unary_fn(_, "f64", "f64").
        let f: extern "C" fn(f64) -> f64 = unsafe { function(&module, "f") };
        for x in [1.5, -2.0, 0.0, -0.0, f64::INFINITY] {
            assert_eq!(f(x).to_bits(), reference(x).to_bits(), "{op}({x})");
        }
    }
}

// ---- floats and casts ----------------------------------------------------

fn same_float(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn float_arithmetic() {
    let nan = f64::NAN;
    let cases: [(&str, &[FloatCase]); 9] = [
        ("FAdd", &[(1.5, 2.25, 3.75), (0.1, 0.2, 0.30000000000000004)]),
        ("FSub", &[(1.5, 2.25, -0.75)]),
        ("FMul", &[(1.5, -2.0, -3.0)]),
        ("FDiv", &[(1.0, 0.0, f64::INFINITY), (0.0, 0.0, nan), (7.0, 2.0, 3.5)]),
        ("FRem", &[(-7.5, 2.0, -1.5), (7.5, -2.0, 1.5)]),
        ("FPow", &[(2.0, 10.0, 1024.0), (4.0, 0.5, 2.0)]),
        ("FFloorDiv", &[(7.0, -2.0, -4.0), (-7.0, 2.0, -4.0), (7.0, 2.0, 3.0)]),
        ("FMin", &[(1.0, 2.0, 1.0), (nan, 1.0, 1.0), (1.0, nan, 1.0), (-0.0, 0.0, -0.0)]),
        ("FMax", &[(1.0, 2.0, 2.0), (nan, 1.0, 1.0), (1.0, nan, 1.0), (-0.0, 0.0, 0.0)]),
    ];
    for (op, cases) in cases {
        let module = load(&[&binary_fn(op, "f64", "f64")]);
        // SAFETY: binary_fn(_, "f64", "f64").
        let f: FloatBin = unsafe { function(&module, "f") };
        for &(a, b, want) in cases {
            let got = f(a, b);
            assert!(same_float(got, want), "{op}({a}, {b}) = {got}, want {want}");
        }
    }
}

#[test]
fn float_comparisons_and_nan() {
    let nan = f64::NAN;
    let cases: [(&str, Predicate<f64>); 6] = [
        ("FCmpEq", f64::eq),
        ("FCmpNe", f64::ne),
        ("FCmpLt", f64::lt),
        ("FCmpLe", f64::le),
        ("FCmpGt", f64::gt),
        ("FCmpGe", f64::ge),
    ];
    for (op, reference) in cases {
        let module = load(&[&binary_fn(op, "f64", "bool")]);
        // SAFETY: binary_fn(_, "f64", "bool").
        let f: extern "C" fn(f64, f64) -> bool = unsafe { function(&module, "f") };
        for (a, b) in [(1.0, 2.0), (2.0, 1.0), (3.0, 3.0), (nan, 1.0), (nan, nan), (-0.0, 0.0)] {
            assert_eq!(f(a, b), reference(&a, &b), "{op}({a}, {b})");
        }
    }
}

#[test]
fn intrinsics() {
    for (name, reference) in [("Sqrt", f64::sqrt as fn(f64) -> f64), ("Floor", f64::floor), ("Ceil", f64::ceil)] {
        let module = load(&[&unary_fn(name, "f64", "f64")]);
        // SAFETY: unary_fn(_, "f64", "f64").
        let f: extern "C" fn(f64) -> f64 = unsafe { function(&module, "f") };
        for x in [2.0, 16.0, -1.5, 1.5, -0.0, 1e300] {
            assert!(same_float(f(x), reference(x)), "{name}({x})");
        }
    }
}

#[test]
fn casts() {
    let module = load(&[&unary_fn("IntToFloat", "i64", "f64")]);
    // SAFETY: unary_fn(_, "i64", "f64").
    let to_float: extern "C" fn(i64) -> f64 = unsafe { function(&module, "f") };
    assert_eq!(to_float(-3), -3.0);
    assert_eq!(to_float(MAX), TWO_63);

    let module = load(&[&unary_fn("FloatToInt", "f64", "i64")]);
    // SAFETY: unary_fn(_, "f64", "i64").
    let to_int: extern "C" fn(f64) -> i64 = unsafe { function(&module, "f") };
    assert_eq!(to_int(-2.9), -2);
    assert_eq!(to_int(2.9), 2);
    assert_eq!(to_int(-TWO_63), MIN);
    // The largest f64 below 2^63.
    let below = f64::from_bits(TWO_63.to_bits() - 1);
    assert_eq!(to_int(below), 9_223_372_036_854_774_784);
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    for x in [f64::NAN, TWO_63, -1e19, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(
            run_trapping(&module, move || {
                to_int(x);
            }),
            trap_at_op(TrapCode::InvalidCast),
            "{x} as i64"
        );
    }

    let module = load(&[&unary_fn("BoolToInt", "bool", "i64")]);
    // SAFETY: unary_fn(_, "bool", "i64").
    let to_int: extern "C" fn(bool) -> i64 = unsafe { function(&module, "f") };
    assert_eq!(to_int(true), 1);
    assert_eq!(to_int(false), 0);
}

// ---- control flow and calls ---------------------------------------------

const FIB: &str = "fn fib(_0: i64 n) -> i64 {
    let _1: bool
    let _2: i64
    let _3: i64
    let _4: i64
bb0:
    _1 = ICmpLt(_0, 2) @1:8
    branch _1, bb1, bb2 @1:5
bb1:
    return _0 @1:15
bb2:
    _2 = ISub(_0, 1) @2:16
    _3 = call fib(_2) @2:12
    _2 = ISub(_0, 2) @2:29
    _4 = call fib(_2) @2:25
    _3 = IAdd(_3, _4) @2:23
    return _3 @2:5
}";

#[test]
fn recursion() {
    let module = load(&[FIB]);
    // SAFETY: fib's signature.
    let fib: extern "C" fn(i64) -> i64 = unsafe { function(&module, "fib") };
    assert_eq!(fib(20), 6765);
    assert_eq!(fib(1), 1);
}

#[test]
fn loops_including_back_to_the_entry_block() {
    // bb0 is a loop header: codegen must not make it Cranelift's entry.
    let countdown = "fn countdown(_0: i64 n) -> i64 {
        let _1: bool
    bb0:
        _1 = ICmpLe(_0, 0) @1:1
        branch _1, bb2, bb1 @1:2
    bb1:
        runtime spl_print_i64(1, _0) @2:1
        _0 = ISub(_0, 1) @2:2
        goto bb0 @2:3
    bb2:
        return _0 @3:1
    }";
    let sum = "fn sum(_0: i64 n) -> i64 {
        let _1: i64 i
        let _2: i64 acc
        let _3: bool
    bb0:
        _1 = 1 @1:1
        _2 = 0 @1:2
        goto bb1 @1:3
    bb1:
        _3 = ICmpLe(_1, _0) @2:1
        branch _3, bb2, bb3 @2:2
    bb2:
        _2 = IAdd(_2, _1) @3:1
        _1 = IAdd(_1, 1) @3:2
        goto bb1 @3:3
    bb3:
        return _2 @4:1
    }";
    let module = load(&[countdown, sum]);
    // SAFETY: the signatures above.
    let (countdown, sum): (extern "C" fn(i64) -> i64, extern "C" fn(i64) -> i64) =
        unsafe { (function(&module, "countdown"), function(&module, "sum")) };
    take_output();
    assert_eq!(countdown(3), 0);
    assert_eq!(take_output(), "1:3;1:2;1:1;");
    assert_eq!(sum(100), 5050);
    assert_eq!(sum(0), 0);
}

#[test]
fn calls_with_mixed_arguments() {
    let mix = "fn mix(_0: i64 a, _1: f64 x, _2: bool flag, _3: i64 b, _4: f64 y) -> f64 {
        let _5: f64
        let _6: f64
    bb0:
        branch _2, bb1, bb2 @1:1
    bb1:
        _5 = IntToFloat(_0) @2:1
        _6 = FMul(_5, _1) @2:2
        _6 = FAdd(_6, _4) @2:3
        return _6 @2:4
    bb2:
        _5 = IntToFloat(_3) @3:1
        return _5 @3:2
    }";
    let caller = "fn caller(_0: i64, _1: bool) -> f64 {
        let _2: f64
        let _3: f64
        let _4: bool
    bb0:
        _2 = call mix(_0, 2.5, _1, 100, 0.25) @1:1
        _4 = Not(_1) @1:2
        _3 = call mix(_0, 2.5, _4, 100, 0.25) @1:3
        _2 = FAdd(_2, _3) @1:4
        runtime spl_print_f64(1, _2) @1:5
        runtime spl_print_bool(2, _4) @1:6
        return _2 @1:7
    }";
    let module = load(&[caller, mix]);
    // SAFETY: the signatures above.
    let caller: extern "C" fn(i64, bool) -> f64 = unsafe { function(&module, "caller") };
    let mix: extern "C" fn(i64, f64, bool, i64, f64) -> f64 = unsafe { function(&module, "mix") };
    take_output();
    assert_eq!(caller(4, true), 110.25);
    assert_eq!(caller(4, false), 110.25);
    assert_eq!(take_output(), "1:110.25;2:false;1:110.25;2:true;");
    assert_eq!(mix(3, 0.5, true, 0, 1.0), 2.5);
}

#[test]
fn calls_with_many_results() {
    // Eight results: more than fit in return registers, so some come back
    // through Cranelift's implicit return area.
    let split = "fn split(_0: i64 n, _1: f64 x) -> (i64, f64, bool, i64, f64, i64, i64, f64) {
        let _2: i64
        let _3: f64
        let _4: bool
    bb0:
        _2 = IAdd(_0, 1) @1:1
        _3 = FMul(_1, 2.0) @1:2
        _4 = ICmpGt(_0, 0) @1:3
        return _0, _1, _4, _2, _3, 7, 8, 9.5 @1:4
    }";
    let caller = "fn caller(_0: i64, _1: f64) -> f64 {
        let _2: i64
        let _3: f64
        let _4: bool
        let _5: i64
        let _6: f64
        let _7: i64
        let _8: i64
        let _9: f64
        let _10: f64
        let _11: i64
    bb0:
        _2, _3, _4, _5, _6, _7, _8, _9 = call split(_0, _1) @1:1
        _11 = IAdd(_2, _5) @1:2
        _11 = IAdd(_11, _7) @1:3
        _11 = IAdd(_11, _8) @1:4
        _10 = IntToFloat(_11) @1:5
        _10 = FAdd(_10, _3) @1:6
        _10 = FAdd(_10, _6) @1:7
        _10 = FAdd(_10, _9) @1:8
        runtime spl_print_bool(1, _4) @1:9
        return _10 @1:10
    }";
    let module = load(&[caller, split]);
    // SAFETY: the signature above.
    let caller: extern "C" fn(i64, f64) -> f64 = unsafe { function(&module, "caller") };
    take_output();
    // (3 + 4 + 7 + 8) + 0.25 + 0.5 + 9.5
    assert_eq!(caller(3, 0.25), 32.25);
    assert_eq!(take_output(), "1:true;");
}

#[test]
fn nil_values_have_no_machine_representation() {
    let hello = "fn hello(_0: nil, _1: i64 n) -> nil {
        let _2: nil
    bb0:
        call noop(_0, _1) @1:1
        _2 = nil @1:2
        runtime spl_print_i64(1, _1) @1:3
        return @1:4
    }";
    let noop = "fn noop(_0: nil, _1: i64) -> nil {
    bb0:
        return @1:1
    }";
    let module = load(&[hello, noop]);
    // SAFETY: nil parameters have no machine value.
    let hello: extern "C" fn(i64) = unsafe { function(&module, "hello") };
    take_output();
    hello(42);
    assert_eq!(take_output(), "1:42;");
}

#[test]
fn string_literals_reach_the_runtime_in_str_layout() {
    let greet = r#"fn greet() -> nil {
    bb0:
        runtime spl_print_str(1, "héllo, wörld") @1:5
        runtime spl_print_str(2, "") @2:5
        runtime spl_print_str(1, "héllo, wörld") @3:5
        call other() @4:5
        return @5:1
    }"#;
    let other = r#"fn other() -> nil {
    bb0:
        runtime spl_print_str(1, "tab\there") @1:1
        runtime spl_print_str(1, "héllo, wörld") @1:2
        return @1:3
    }"#;
    let compiled = compile(greet);
    assert_eq!(compiled.literals, [Literal::Str("héllo, wörld".into()), Literal::Str(String::new())]);
    let module = load(&[greet, other]);
    // SAFETY: no parameters, no result.
    let greet: extern "C" fn() = unsafe { function(&module, "greet") };
    take_output();
    greet();
    assert_eq!(take_output(), "1:0:héllo, wörld;2:0:;1:0:héllo, wörld;1:0:tab\there;1:0:héllo, wörld;");
    // Each literal once in .rodata, 8-aligned, in str_layout.
    let rodata = &module.module().rodata;
    let mut expected = Vec::new();
    for s in ["héllo, wörld", "", "tab\there"] {
        expected.resize(expected.len().next_multiple_of(8), 0);
        expected.extend_from_slice(&str_layout::STATIC_TAG.to_le_bytes());
        expected.extend_from_slice(&(s.len() as u64).to_le_bytes());
        expected.extend_from_slice(s.as_bytes());
    }
    assert_eq!(rodata, &expected);
}

#[test]
fn references_live_across_calls_are_in_stack_maps() {
    // At the first call `_1` is still needed afterwards and `_0` is not (a
    // dead argument is the callee's to keep); at the second and third `_2`
    // is (`_1` is an argument of both, dead after the third).
    let text = r#"fn keep(_0: str, _1: str) -> str {
        let _2: str
        let _3: i64
    bb0:
        _2 = runtime spl_str_concat(_0, _0) @1:1
        _3 = IAdd(1, 2) @2:1
        _1 = runtime spl_str_concat(_1, "x") @3:1
        runtime spl_print_str(1, _1) @4:1
        return _2 @5:1
    }"#;
    // A call after which no reference is needed has no stack map at all.
    let last_use = r#"fn last_use(_0: str) -> nil {
    bb0:
        runtime spl_print_str(1, _0) @1:1
        return @2:1
    }"#;
    assert_eq!(compile(last_use).stack_maps, []);
    let compiled = compile(text);
    assert_eq!(compiled.stack_maps.len(), 3, "{:?}", compiled.stack_maps);
    for map in &compiled.stack_maps {
        assert_eq!(map.slots.len(), 1);
        assert!(map.slots[0] + 8 <= map.frame_size);
    }
    let module = load(&[text]);
    // SAFETY: the signature above.
    let keep: extern "C" fn(*const u8, *const u8) -> *const u8 = unsafe { function(&module, "keep") };
    let block = |text: &str| {
        let mut bytes = vec![0u64; 2 + text.len().div_ceil(8)];
        bytes[1] = text.len() as u64;
        // SAFETY: the text fits in the words after the two header words.
        unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), bytes.as_mut_ptr().add(2).cast(), text.len()) };
        bytes
    };
    let (a, b) = (block("a"), block("b"));
    let (a, b) = (a.as_ptr().cast::<u8>(), b.as_ptr().cast::<u8>());
    SNAPSHOTS.with(|s| s.borrow_mut().clear());
    take_output();
    assert_eq!(keep(a, b), a);
    assert_eq!(take_output(), "1:0:b;");
    let snapshots = SNAPSHOTS.with(|s| std::mem::take(&mut *s.borrow_mut()));
    assert_eq!(snapshots.len(), 2);
    // Each call's map is found by its return address; its frame size is
    // FP - SP, and its slot holds the reference that is live.
    for (snapshot, live) in snapshots.iter().zip([b, a]) {
        let map = module.stack_map(snapshot.return_address).expect("a stack map at the return address");
        assert_eq!(map.frame_size as usize, snapshot.words.len() * 8);
        let slots: Vec<usize> = map.slots.iter().map(|&o| snapshot.words[o as usize / 8]).collect();
        assert_eq!(slots, [live as usize], "frame at {:#x}", snapshot.sp);
    }
}

// ---- tables, determinism, errors -----------------------------------------

#[test]
fn trap_terminators_and_the_trap_table() {
    let text = "fn f(_0: bool) -> i64 {
    bb0:
        branch _0, bb1, bb2 @1:1
    bb1:
        trap AssertionFailed @7:9
    bb2:
        return 1 @2:1
    }";
    let compiled = compile(text);
    let (offset, _) =
        compiled.traps.iter().find(|(_, code)| *code == TrapCode::AssertionFailed).expect("an AssertionFailed trap");
    assert!((*offset as usize) < compiled.code.len());
    // The line table maps the trap to the terminator's Loc.
    let loc = compiled.lines.iter().rev().find(|(o, _)| o <= offset).map(|(_, loc)| *loc);
    assert_eq!(loc, Some(Loc { line: 7, col: 9, origin: 0 }));

    let module = load(&[text]);
    // SAFETY: the signature above.
    let f: extern "C" fn(bool) -> i64 = unsafe { function(&module, "f") };
    assert_eq!(f(false), 1);
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    assert_eq!(
        run_trapping(&module, || {
            f(true);
        }),
        trap_at_op(TrapCode::AssertionFailed)
    );
}

#[test]
fn line_table_is_sorted_merged_and_starts_at_zero() {
    let compiled = compile(FIB);
    assert_eq!(compiled.lines[0].0, 0);
    for pair in compiled.lines.windows(2) {
        assert!(pair[0].0 < pair[1].0, "{:?}", compiled.lines);
        assert_ne!(pair[0].1, pair[1].1, "{:?}", compiled.lines);
    }
    // Both calls are in the table, by their Locs.
    let locs: Vec<Loc> = compiled.lines.iter().map(|(_, l)| *l).collect();
    assert!(locs.contains(&Loc { line: 2, col: 12, origin: 0 }), "{locs:?}");
    assert!(locs.contains(&Loc { line: 2, col: 25, origin: 0 }), "{locs:?}");
    // fib calls itself: a PC-relative call relocation by name.
    assert!(compiled.relocs.iter().all(|r| r.target == RelocTarget::Function("fib".into())));
    assert_eq!(compiled.relocs.len(), 2);
}

#[test]
fn runtime_calls_use_absolute_relocations() {
    let compiled = compile(
        "fn f(_0: f64) -> f64 {
            let _1: f64
        bb0:
            _1 = FRem(_0, 2.0) @1:1
            _1 = FPow(_1, _0) @1:2
            runtime spl_print_f64(1, _1) @1:3
            return _1 @1:4
        }",
    );
    let targets: Vec<_> = compiled.relocs.iter().map(|r| (r.target.clone(), r.kind)).collect();
    use simple_abi::Rt;
    use simple_smf::RelocKind::Abs64;
    assert_eq!(
        targets,
        [
            (RelocTarget::Runtime(Rt::FMod), Abs64),
            (RelocTarget::Runtime(Rt::FPow), Abs64),
            (RelocTarget::Runtime(Rt::PrintF64), Abs64),
        ]
    );
    let module = link_fns(std::slice::from_ref(&compiled), "f").unwrap();
    assert_eq!(module.imports, ["spl_print_f64", "spl_fmod", "spl_fpow"]);
    assert_eq!(module.abi_version, ABI_VERSION);
}

#[test]
fn output_is_deterministic() {
    let texts = [
        FIB,
        "fn main() -> i64 {
        let _0: i64
    bb0:
        _0 = call fib(20) @1:1
        runtime spl_print_str(1, \"done\") @1:2
        return _0 @1:3
    }",
    ];
    let first: Vec<CompiledFn> = texts.iter().map(|t| compile(t)).collect();
    let second: Vec<CompiledFn> = texts.iter().map(|t| compile(t)).collect();
    assert_eq!(first, second);
    let a = simple_smf::write(&link_fns(&first, "main").unwrap());
    let b = simple_smf::write(&link_fns(&second, "main").unwrap());
    assert_eq!(a, b);
    // And through the reader, the same module.
    let module = simple_smf::read(&a).unwrap();
    assert_eq!(module, link_fns(&first, "main").unwrap());
    assert_eq!(module.entry, Some(1));
    // Content hashes: equal code → equal hash, different code → different.
    let fib_again = link_fns(&second[..1], "fib").unwrap();
    assert_eq!(module.symbols[0].content_hash, fib_again.symbols[0].content_hash);
    assert_ne!(module.symbols[0].content_hash, module.symbols[1].content_hash);
}

/// Objects are a cache of layout, not a unit of meaning: however the
/// functions are split into objects, the module is the same.
#[test]
fn objects_concatenate_like_one() {
    let say = |name: &str, text: &str| {
        compile(&format!(
            "fn {name}() -> i64 {{
            let _0: i64
        bb0:
            runtime spl_print_str(1, \"{text}\") @1:2
            _0 = call fib(3) @2:1
            return _0 @3:1
        }}"
        ))
    };
    let fns = [compile(FIB), say("a", "shared"), say("b", "only b"), say("c", "shared")];
    let whole = link_fns(&fns, "a").unwrap();
    let split = [object_of(&fns[..1]).unwrap(), object_of(&fns[1..3]).unwrap(), object_of(&fns[3..]).unwrap()];
    assert_eq!(link_objects(&split, "a").unwrap(), whole);
    // One literal symbol per distinct text, across objects.
    assert_eq!(whole.symbols.iter().filter(|s| s.name.starts_with(".lit.")).count(), 2);
    let bad_file = link(&LinkInput {
        objects: vec![(&split[0], 1)],
        files: vec!["test.spl".into()],
        entry_symbol: "fib",
        source_hash: [0; 32],
    });
    assert_eq!(bad_file, Err(LinkError::FileIndex { file: 1, count: 1 }));
}

#[test]
fn entry_runs_through_the_loader() {
    let main = "fn main() -> i64 {
        let _0: i64
    bb0:
        _0 = call fib(10) @1:1
        return _0 @1:2
    }";
    let module = load(&[main, FIB]);
    // SAFETY: main's signature.
    let entry: extern "C" fn() -> i64 = unsafe { std::mem::transmute_copy::<usize, _>(&module.entry().unwrap()) };
    assert_eq!(entry(), 55);
}

#[test]
fn link_errors() {
    let caller = compile(
        "fn caller() -> i64 {
            let _0: i64
        bb0:
            _0 = call missing(1) @1:1
            return _0 @1:2
        }",
    );
    assert_eq!(
        link_fns(std::slice::from_ref(&caller), "caller"),
        Err(LinkError::UnknownCallTarget { caller: "caller".into(), target: "missing".into() })
    );
    let fib = compile(FIB);
    assert_eq!(link_fns(&[fib.clone(), fib.clone()], "fib"), Err(LinkError::DuplicateSymbol("fib".into())));
    assert_eq!(link_fns(std::slice::from_ref(&fib), "main"), Err(LinkError::MissingEntry("main".into())));
}

#[test]
fn invalid_mir_is_an_error_not_a_panic() {
    let bad = body(
        "fn f(_0: f64) -> i64 {
            let _1: i64
        bb0:
            _1 = IAdd(_0, 1) @1:1
            return _1 @1:2
        }",
    );
    assert!(matches!(compile_function(&bad, isa()), Err(CodegenError::InvalidMir(_))));
}

#[test]
fn dumps() {
    let clif = dump_clif(&body(FIB), isa()).unwrap();
    assert!(clif.contains("function %fib"), "{clif}");
    assert!(clif.contains("ssub_overflow"), "{clif}");
    assert!(clif.contains("trapnz"), "{clif}");
    assert!(clif.contains("; @0000 = 1:8"), "{clif}");
    let asm = dump_asm(&body(FIB), isa()).unwrap();
    assert!(!asm.is_empty());
    assert!(asm.contains("call"), "{asm}");
}
