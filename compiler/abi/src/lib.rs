//! The runtime ABI: the one place where the names and signatures of the
//! runtime's `extern "C"` functions, the layout of runtime values and the
//! meaning of trap codes are declared.
//!
//! The compiler emits calls and traps from these tables; the runtime in
//! `driver/src/runtime` implements them, and a test there checks that it
//! provides exactly [`RUNTIME_FUNCTIONS`]. Changing anything here is an ABI
//! change: bump [`ABI_VERSION`], so old SMF files are refused by the loader.

/// Version of this contract, stored in every SMF's import table.
pub const ABI_VERSION: u32 = 1;

/// Name of the symbol the loader calls to run a program:
/// `extern "C" fn() -> i64`, returning the exit status.
pub const ENTRY_SYMBOL: &str = "__simple_entry";

/// The type of a runtime function parameter or result, as machine values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbiType {
    /// 64-bit integer (`i64`).
    I64,
    /// 64-bit float (`f64`).
    F64,
    /// `bool` as a byte, 0 or 1.
    Bool,
    /// A pointer (a `str`: see [`str_layout`]).
    Ptr,
}

/// One runtime function: its symbol, parameters and result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeFn {
    pub name: &'static str,
    pub params: &'static [AbiType],
    pub ret: Option<AbiType>,
}

macro_rules! runtime_fns {
    ($($(#[$doc:meta])* $id:ident = $name:literal ($($p:ident),*) $(-> $r:ident)?;)*) => {
        /// Handles to the runtime functions, for the compiler.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum Rt { $($(#[$doc])* $id),* }

        impl Rt {
            /// Every runtime function handle, in declaration order.
            pub const ALL: &[Rt] = &[$(Rt::$id),*];
        }

        /// Every runtime function, indexed by `Rt as usize`.
        pub const RUNTIME_FUNCTIONS: &[RuntimeFn] = &[
            $(RuntimeFn { name: $name, params: &[$(AbiType::$p),*], ret: runtime_fns!(@ret $($r)?) }),*
        ];
    };
    (@ret) => { None };
    (@ret $r:ident) => { Some(AbiType::$r) };
}

// Streams: 1 = stdout, 2 = stderr.
runtime_fns! {
    PrintStr = "spl_print_str"(I64, Ptr);
    PrintI64 = "spl_print_i64"(I64, I64);
    PrintF64 = "spl_print_f64"(I64, F64);
    PrintBool = "spl_print_bool"(I64, Bool);
    PrintNil = "spl_print_nil"(I64);
    StrFromI64 = "spl_str_from_i64"(I64) -> Ptr;
    StrFromF64 = "spl_str_from_f64"(F64) -> Ptr;
    StrFromBool = "spl_str_from_bool"(Bool) -> Ptr;
    StrConcat = "spl_str_concat"(Ptr, Ptr) -> Ptr;
    StrEq = "spl_str_eq"(Ptr, Ptr) -> Bool;
    /// Byte-wise comparison: -1, 0 or 1.
    StrCmp = "spl_str_cmp"(Ptr, Ptr) -> I64;
    /// Number of Unicode scalar values.
    StrLen = "spl_str_len"(Ptr) -> I64;
    /// Records the message of a failing `assert` (a `str`, or 0 for none)
    /// just before the compiled code executes [`TrapCode::AssertionFailed`].
    AssertMessage = "spl_assert_message"(Ptr);
    /// Flushes stdout and ends the process with `code & 255`. Never returns.
    Exit = "spl_exit"(I64);
    /// Seconds on a monotonic clock.
    Clock = "spl_clock"() -> F64;
    /// C `fmod`.
    FMod = "spl_fmod"(F64, F64) -> F64;
    /// `powf`.
    FPow = "spl_fpow"(F64, F64) -> F64;
}

impl Rt {
    pub fn info(self) -> &'static RuntimeFn {
        &RUNTIME_FUNCTIONS[self as usize]
    }
}

/// Layout of a `str` value: a pointer to an 8-aligned block
/// `{ tag: u64, len: u64, bytes: [u8; len] }` holding UTF-8 (not
/// NUL-terminated). `tag` is [`str_layout::STATIC_TAG`] for literals in the
/// module's read-only data; the heap will use other tags.
pub mod str_layout {
    pub const TAG_OFFSET: i32 = 0;
    pub const LEN_OFFSET: i32 = 8;
    pub const BYTES_OFFSET: i32 = 16;
    pub const STATIC_TAG: u64 = 0;
}

/// Why compiled code trapped. Compiled code executes a trap instruction
/// carrying one of these codes; the SMF trap table maps its address to the
/// code, and the runtime's fault handler turns it into `error: MESSAGE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[repr(u8)]
pub enum TrapCode {
    IntegerOverflow = 1,
    DivisionByZero = 2,
    RemainderByZero = 3,
    NegativeExponent = 4,
    AssertionFailed = 5,
    InvalidCast = 6,
    ShiftOutOfRange = 7,
    IndexOutOfBounds = 8,
    KeyNotFound = 9,
    UnwrapOfNil = 10,
    StackOverflow = 11,
    /// Reached code the compiler proved unreachable: a compiler bug.
    Unreachable = 12,
}

impl TrapCode {
    pub const ALL: [TrapCode; 12] = [
        TrapCode::IntegerOverflow,
        TrapCode::DivisionByZero,
        TrapCode::RemainderByZero,
        TrapCode::NegativeExponent,
        TrapCode::AssertionFailed,
        TrapCode::InvalidCast,
        TrapCode::ShiftOutOfRange,
        TrapCode::IndexOutOfBounds,
        TrapCode::KeyNotFound,
        TrapCode::UnwrapOfNil,
        TrapCode::StackOverflow,
        TrapCode::Unreachable,
    ];

    pub fn from_u8(code: u8) -> Option<TrapCode> {
        TrapCode::ALL.into_iter().find(|c| *c as u8 == code)
    }

    /// The runtime error message (LANGUAGE.md fixes these words).
    pub fn message(self) -> &'static str {
        match self {
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::DivisionByZero => "division by zero",
            TrapCode::RemainderByZero => "remainder by zero",
            TrapCode::NegativeExponent => "negative exponent",
            TrapCode::AssertionFailed => "assertion failed",
            TrapCode::InvalidCast => "invalid cast",
            TrapCode::ShiftOutOfRange => "shift amount out of range",
            TrapCode::IndexOutOfBounds => "index out of bounds",
            TrapCode::KeyNotFound => "key not found",
            TrapCode::UnwrapOfNil => "unwrap of nil",
            TrapCode::StackOverflow => "stack overflow",
            TrapCode::Unreachable => "internal error: reached unreachable code",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_codes_round_trip() {
        for code in TrapCode::ALL {
            assert_eq!(TrapCode::from_u8(code as u8), Some(code));
        }
        assert_eq!(TrapCode::from_u8(0), None);
    }

    #[test]
    fn handles_index_the_table() {
        assert_eq!(Rt::ALL.len(), RUNTIME_FUNCTIONS.len());
        for (i, rt) in Rt::ALL.iter().enumerate() {
            assert_eq!(*rt as usize, i);
            assert_eq!(rt.info(), &RUNTIME_FUNCTIONS[i]);
        }
    }

    #[test]
    fn runtime_names_are_unique() {
        let mut names: Vec<_> = RUNTIME_FUNCTIONS.iter().map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), RUNTIME_FUNCTIONS.len());
    }
}
