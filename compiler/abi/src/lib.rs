//! The runtime ABI: the one place where the names and signatures of the
//! runtime's `extern "C"` functions, the layout of runtime values and the
//! meaning of trap codes are declared.
//!
//! The compiler emits calls and traps from these tables; the runtime in
//! `driver/src/runtime` implements them, and a test there checks that it
//! provides exactly [`RUNTIME_FUNCTIONS`]. Changing anything here is an ABI
//! change: bump [`ABI_VERSION`], so old SMF files are refused by the loader.
//!
//! Heap objects (strings made at run time, records, arrays) share one layout
//! rule, [`heap_layout`]: a header word naming a descriptor that tells the
//! garbage collector the object's size and which of its words are
//! references.

/// Version of this contract, stored in every SMF's import table.
/// 2: strings made at run time live on the GC heap (header = descriptor
/// address), `spl_alloc_record` and `spl_alloc_array`.
pub const ABI_VERSION: u32 = 2;

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
    /// A pointer: a `str` (see [`str_layout`]), another heap object or a
    /// descriptor (see [`heap_layout`]).
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
    /// A new `KIND_RECORD` object of the descriptor (a
    /// [`heap_layout`] descriptor address), every slot zero.
    AllocRecord = "spl_alloc_record"(Ptr) -> Ptr;
    /// A new `KIND_ARRAY` object of the descriptor with `len` elements,
    /// every slot zero. A negative or unallocatable `len` is a runtime
    /// error.
    AllocArray = "spl_alloc_array"(Ptr, I64) -> Ptr;
}

impl Rt {
    pub fn info(self) -> &'static RuntimeFn {
        &RUNTIME_FUNCTIONS[self as usize]
    }
}

/// Layout of a `str` value: a pointer to an 8-aligned block
/// `{ tag: u64, len: u64, bytes: [u8; len] }` holding UTF-8 (not
/// NUL-terminated). `tag` is the [`heap_layout`] header:
/// [`str_layout::STATIC_TAG`] (0) for literals in the module's read-only
/// data, the address of a `KIND_STR` descriptor for strings on the heap.
pub mod str_layout {
    pub const TAG_OFFSET: i32 = 0;
    pub const LEN_OFFSET: i32 = 8;
    pub const BYTES_OFFSET: i32 = 16;
    pub const STATIC_TAG: u64 = 0;
}

/// Layout of objects on the garbage-collected heap, and of the descriptors
/// that describe them to the collector.
///
/// **Objects.** Every heap object is 8-aligned and starts with a 64-bit
/// header word at offset 0: the address of the object's descriptor (which
/// is 8-aligned) with the low 3 bits ([`HEADER_FLAG_MASK`]) reserved for the
/// collector. Those bits are zero whenever compiled code runs. A header of
/// [`STATIC_HEADER`] (0) means "not a heap object": string literals in a
/// module's read-only data have it, and the collector ignores them. A
/// reference (a `Ptr` value, or a slot the descriptor marks) is either 0 or
/// the address of an object's header, on the heap or static.
///
/// **Descriptors** (`ObjDesc`) are 8-aligned, read-only, and live in a
/// module's `.rodata` (emitted by the compiler with [`encode_desc`]) or in a
/// static of the runtime. Fields, little-endian:
///
/// | Offset | Type | Field |
/// |-------:|------|-------|
/// | 0 | u32 | `kind`: [`KIND_STR`], [`KIND_RECORD`] or [`KIND_ARRAY`] |
/// | 4 | u32 | `slots`: 8-byte slots per record, or per array element |
/// | 8 | `[u64; ceil(slots / 64)]` | `ref_map`: bit `i % 64` of word `i / 64` set = slot `i` holds a reference (or 0) |
///
/// The object of each kind:
/// - [`KIND_STR`]: header, `len: u64` at 8, `len` UTF-8 bytes at 16 (see
///   [`str_layout`](crate::str_layout)); `slots` is 0.
/// - [`KIND_RECORD`]: header, then `slots` 8-byte slots; slot `i` at
///   [`record_slot_offset`]`(i)` = `8 + 8 * i`.
/// - [`KIND_ARRAY`]: header, element count `len: u64` at 8, then `len`
///   elements from 16, each `slots` 8-byte slots, the `ref_map` applying to
///   each element: slot `j` of element `e` at
///   [`array_slot_offset`]`(slots, e, j)`.
pub mod heap_layout {
    /// Offset of the header word in every object.
    pub const HEADER_OFFSET: i32 = 0;
    /// Size of the header word.
    pub const HEADER_SIZE: usize = 8;
    /// The header bits the collector owns (a mark bit); a descriptor's
    /// address has them clear.
    pub const HEADER_FLAG_MASK: u64 = 0b111;
    /// The header of an object that is not on the heap (a literal).
    pub const STATIC_HEADER: u64 = 0;

    /// Alignment of objects and descriptors.
    pub const ALIGN: usize = 8;
    /// Size of one slot (a reference or any other 8-byte value).
    pub const SLOT_SIZE: usize = 8;

    /// Offsets of the descriptor's fields.
    pub const DESC_KIND_OFFSET: usize = 0;
    pub const DESC_SLOTS_OFFSET: usize = 4;
    pub const DESC_REF_MAP_OFFSET: usize = 8;

    /// A `str`: header, length, bytes.
    pub const KIND_STR: u32 = 1;
    /// A fixed number of slots after the header.
    pub const KIND_RECORD: u32 = 2;
    /// An element count, then that many elements of `slots` slots each.
    pub const KIND_ARRAY: u32 = 3;

    /// Offset of a record's first slot.
    pub const RECORD_SLOTS_OFFSET: usize = 8;
    /// Offset of an array's element count (a `u64`).
    pub const ARRAY_LEN_OFFSET: usize = 8;
    /// Offset of an array's first element.
    pub const ARRAY_ELEMS_OFFSET: usize = 16;

    /// Whether `kind` is one of the kinds above.
    pub const fn is_kind(kind: u32) -> bool {
        matches!(kind, KIND_STR | KIND_RECORD | KIND_ARRAY)
    }

    /// Number of `u64` words of the ref map of a descriptor with `slots`
    /// slots.
    pub const fn ref_map_words(slots: u32) -> usize {
        (slots as usize).div_ceil(64)
    }

    /// Size in bytes of a descriptor with `slots` slots.
    pub const fn desc_size(slots: u32) -> usize {
        DESC_REF_MAP_OFFSET + 8 * ref_map_words(slots)
    }

    /// Size in bytes of a record of `slots` slots.
    pub const fn record_size(slots: u32) -> usize {
        RECORD_SLOTS_OFFSET + SLOT_SIZE * slots as usize
    }

    /// Offset of slot `i` of a record.
    pub const fn record_slot_offset(i: u32) -> usize {
        RECORD_SLOTS_OFFSET + SLOT_SIZE * i as usize
    }

    /// Offset of slot `j` of element `e` of an array of `slots`-slot
    /// elements (no overflow for any element of an allocated array).
    pub const fn array_slot_offset(slots: u32, e: usize, j: u32) -> usize {
        ARRAY_ELEMS_OFFSET + SLOT_SIZE * (e * slots as usize + j as usize)
    }

    /// Size in bytes of an array of `len` elements of `slots` slots, or
    /// `None` if it does not fit in a `usize`.
    pub const fn array_size(slots: u32, len: u64) -> Option<usize> {
        let Some(bytes) = (len as u128).checked_mul(SLOT_SIZE as u128 * slots as u128) else {
            return None;
        };
        let size = ARRAY_ELEMS_OFFSET as u128 + bytes;
        if size > usize::MAX as u128 { None } else { Some(size as usize) }
    }

    /// Size in bytes of a `str` of `len` bytes, or `None` on overflow.
    pub const fn str_size(len: usize) -> Option<usize> {
        len.checked_add(crate::str_layout::BYTES_OFFSET as usize)
    }

    /// The bytes of a descriptor of `kind` with one slot per element of
    /// `ref_slots` (slot `i` holds a reference iff `ref_slots[i]`), in the
    /// layout above: [`desc_size`] bytes, to be placed 8-aligned.
    ///
    /// # Panics
    /// If there are more than `u32::MAX` slots (no real type has).
    pub fn encode_desc(kind: u32, ref_slots: &[bool]) -> Vec<u8> {
        let slots = u32::try_from(ref_slots.len()).expect("a descriptor has at most u32::MAX slots");
        let mut out = Vec::with_capacity(desc_size(slots));
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&slots.to_le_bytes());
        for chunk in ref_slots.chunks(64) {
            let word = chunk.iter().enumerate().fold(0u64, |w, (i, &r)| w | (u64::from(r) << i));
            out.extend_from_slice(&word.to_le_bytes());
        }
        debug_assert_eq!(out.len(), desc_size(slots));
        out
    }
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
    fn descriptors_encode_kind_slots_and_ref_map() {
        use heap_layout::*;
        assert_eq!(encode_desc(KIND_STR, &[]), [1, 0, 0, 0, 0, 0, 0, 0]);
        let mut refs = vec![false; 70];
        refs[1] = true;
        refs[64] = true;
        refs[69] = true;
        let bytes = encode_desc(KIND_RECORD, &refs);
        assert_eq!(bytes.len(), desc_size(70));
        assert_eq!(bytes.len(), 24);
        assert_eq!(&bytes[0..8], &[2, 0, 0, 0, 70, 0, 0, 0]);
        assert_eq!(u64::from_le_bytes(bytes[8..16].try_into().unwrap()), 0b10);
        assert_eq!(u64::from_le_bytes(bytes[16..24].try_into().unwrap()), 0b10_0001);
        assert_eq!(desc_size(0), 8);
        assert_eq!(desc_size(64), 16);
        assert_eq!(desc_size(65), 24);
    }

    #[test]
    fn object_sizes_and_offsets() {
        use heap_layout::*;
        assert_eq!(record_size(0), 8);
        assert_eq!(record_size(2), 24);
        assert_eq!(record_slot_offset(1), 16);
        assert_eq!(array_size(2, 3), Some(16 + 48));
        assert_eq!(array_slot_offset(2, 1, 1), 16 + 24);
        assert_eq!(array_size(1, u64::MAX), None);
        assert_eq!(array_size(0, u64::MAX), Some(16));
        assert_eq!(str_size(usize::MAX), None);
        assert!(is_kind(KIND_ARRAY) && !is_kind(0) && !is_kind(4));
        // The header may hold a descriptor address with its flag bits free.
        assert_eq!(ALIGN as u64 - 1, HEADER_FLAG_MASK);
        assert_eq!(STATIC_HEADER, crate::str_layout::STATIC_TAG);
    }

    #[test]
    fn runtime_names_are_unique() {
        let mut names: Vec<_> = RUNTIME_FUNCTIONS.iter().map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), RUNTIME_FUNCTIONS.len());
    }
}
