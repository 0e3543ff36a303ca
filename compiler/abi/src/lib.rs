//! The runtime ABI: the one place where the names and signatures of the
//! runtime's `extern "C"` functions, the layout of runtime values and the
//! meaning of trap codes are declared.
//!
//! The compiler emits calls and traps from these tables; the runtime in
//! `runtime/` (crate `simple-runtime`) implements them, and a test there checks that it
//! provides exactly [`RUNTIME_FUNCTIONS`]. Changing anything here is an ABI
//! change: bump [`ABI_VERSION`], so old SMF files are refused by the loader.
//!
//! Heap objects (strings made at run time, records, arrays) share one layout
//! rule, [`heap_layout`]: a header word naming a descriptor that tells the
//! garbage collector the object's size and which of its words are
//! references.

/// Version of this contract, stored in every SMF's import table.
/// 2: heap objects (runtime strings, records, arrays, lists, dicts) on the
/// GC heap, header = descriptor address.
pub const ABI_VERSION: u32 = 2;

pub mod build;
pub mod format_spec;

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
    /// A reference to a heap object other than a `str` (see
    /// [`heap_layout`]), or 0.
    Ref,
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
    /// A zeroed record object for the descriptor at the given address.
    AllocRecord = "spl_alloc_record"(I64) -> Ref;
    /// A list of the given length (zeroed elements) whose items array has
    /// the descriptor at the given address.
    ListNew = "spl_list_new"(I64, I64) -> Ref;
    /// Appends a zeroed element to a list; returns its index.
    ListGrow = "spl_list_grow"(Ref) -> I64;
    /// Makes room for an element at an index (clamped to the list, negative
    /// from the end, as Python's `insert`); returns the index.
    ListInsert = "spl_list_insert"(Ref, I64) -> I64;
    /// Removes the element at a valid index, shifting the rest down.
    ListRemove = "spl_list_remove"(Ref, I64);
    /// `xs[a:b]`: start, end, and which of them were written (bit 0 start,
    /// bit 1 end); bounds are clamped as in Python.
    ListSlice = "spl_list_slice"(Ref, I64, I64, I64) -> Ref;
    /// `a + b`: a new list.
    ListConcat = "spl_list_concat"(Ref, Ref) -> Ref;
    /// Whether a list holds a value equal to the one in a record, for the
    /// element type described at the given address.
    ListContains = "spl_list_contains"(I64, Ref, Ref) -> Bool;
    /// An empty dict: the descriptor of its entries array (see
    /// [`dict_layout`]) and its key kind (`dict_layout::KEY_*`).
    DictNew = "spl_dict_new"(I64, I64) -> Ref;
    /// The index of the entry of an `i64` (or `bool`, as 0 or 1) key, or -1.
    DictFindInt = "spl_dict_find_int"(Ref, I64) -> I64;
    /// The index of the entry of a `str` key, or -1.
    DictFindStr = "spl_dict_find_str"(Ref, Ptr) -> I64;
    /// The index of the entry of a key, added (with a zeroed value) if
    /// missing.
    DictInsertInt = "spl_dict_insert_int"(Ref, I64) -> I64;
    DictInsertStr = "spl_dict_insert_str"(Ref, Ptr) -> I64;
    /// Removes the entry at an index `DictFind*` gave.
    DictRemoveAt = "spl_dict_remove_at"(Ref, I64);
    /// A list of slots `first..first + count` of every entry, in insertion
    /// order, with the items descriptor given: `keys`, `values`, `items`.
    DictProject = "spl_dict_project"(Ref, I64, I64, I64) -> Ref;
    /// The program's arguments after the source file, as a `[str]`.
    Args = "spl_args"() -> Ref;
    /// A line of stdin without its line ending, or 0 at the end of input.
    ReadLine = "spl_read_line"() -> Ptr;
    /// A file's text, or 0 after recording why not (see
    /// [`TrapCode::IoError`]).
    ReadFile = "spl_read_file"(Ptr) -> Ptr;
    /// Creates or truncates a file and writes the text: 1, or 0 after
    /// recording why not.
    WriteFile = "spl_write_file"(Ptr, Ptr) -> Bool;
    /// Prints a value of any type: the stream, a [`type_info`] description
    /// (its address) and a record holding the value's slots.
    PrintValue = "spl_print_value"(I64, I64, Ref);
    /// The text of a value, as `PrintValue` prints it.
    StrValue = "spl_str_value"(I64, Ref) -> Ptr;
    /// Structural equality of two values of the described type, each in a
    /// record of its slots.
    ValuesEqual = "spl_values_equal"(I64, Ref, Ref) -> Bool;
    // String methods. Indices are in characters (Unicode scalar values);
    // `Bool` results are 0 or 1.
    /// `s.contains(sub)` and `sub in s`.
    StrContains = "spl_str_contains"(Ptr, Ptr) -> Bool;
    /// `s.starts_with(prefix)`.
    StrStartsWith = "spl_str_starts_with"(Ptr, Ptr) -> Bool;
    /// `s.ends_with(suffix)`.
    StrEndsWith = "spl_str_ends_with"(Ptr, Ptr) -> Bool;
    /// `s.find(sub)`: the character index of the first occurrence, or -1
    /// for `nil`. An empty `sub` is found at 0.
    StrFind = "spl_str_find"(Ptr, Ptr) -> I64;
    /// `s.split(sep)` (a `[str]`), as Python's, empty parts included. An
    /// empty `sep` gives 0: the compiled code traps
    /// [`TrapCode::EmptySeparator`].
    StrSplit = "spl_str_split"(Ptr, Ptr) -> Ref;
    /// Python's `s.split()`: the non-empty runs between whitespace.
    StrSplitWhitespace = "spl_str_split_whitespace"(Ptr) -> Ref;
    /// `sep.join(xs)` for a `[str]`.
    StrJoin = "spl_str_join"(Ptr, Ref) -> Ptr;
    /// `s.trim()`: without leading and trailing whitespace.
    StrTrim = "spl_str_trim"(Ptr) -> Ptr;
    /// `s.to_upper()` (full Unicode mapping).
    StrToUpper = "spl_str_to_upper"(Ptr) -> Ptr;
    /// `s.to_lower()` (full Unicode mapping).
    StrToLower = "spl_str_to_lower"(Ptr) -> Ptr;
    /// `s.replace(from, to)`: every occurrence, as Python's (an empty
    /// `from` matches around every character).
    StrReplace = "spl_str_replace"(Ptr, Ptr, Ptr) -> Ptr;
    /// `s.chars()`: a `[str]` of one-character strings.
    StrChars = "spl_str_chars"(Ptr) -> Ref;
    /// `s[a:b]` by characters: start, end, and which of them were written
    /// (bit 0 start, bit 1 end); bounds are clamped as in Python.
    StrSlice = "spl_str_slice"(Ptr, I64, I64, I64) -> Ptr;
    /// `s[i]`: the character at an index (negative from the end) as a
    /// `str`, or 0 if out of range: the compiled code traps
    /// [`TrapCode::IndexOutOfBounds`].
    StrCharAt = "spl_str_char_at"(Ptr, I64) -> Ptr;
    /// The value of `s.to_int()` if [`Rt::StrIsInt`] says it has one, else 0.
    StrToInt = "spl_str_to_int"(Ptr) -> I64;
    /// Whether `s.to_int()` is not `nil`: optional whitespace around an
    /// optional sign and decimal digits, within `i64`.
    StrIsInt = "spl_str_is_int"(Ptr) -> Bool;
    /// The value of `s.to_float()` if [`Rt::StrIsFloat`] says it has one,
    /// else 0.0.
    StrToFloat = "spl_str_to_float"(Ptr) -> F64;
    /// Whether `s.to_float()` is not `nil`: Rust's `f64` syntax after
    /// trimming whitespace.
    StrIsFloat = "spl_str_is_float"(Ptr) -> Bool;
    /// `s * n` and `s.repeat(n)`; `""` for `n <= 0`.
    StrRepeat = "spl_str_repeat"(Ptr, I64) -> Ptr;
    // Interpolation with a format spec, `{x:SPEC}`: the value and the
    // spec's text (a `str` the compiler checked with
    // [`format_spec::parse`] and [`format_spec::Spec::accepts`]; an
    // invalid one counts as the empty spec).
    /// `{n:SPEC}` for an `i64`.
    FormatI64 = "spl_format_i64"(I64, Ptr) -> Ptr;
    /// `{x:SPEC}` for an `f64`.
    FormatF64 = "spl_format_f64"(F64, Ptr) -> Ptr;
    /// `{s:SPEC}` for a `str`.
    FormatStr = "spl_format_str"(Ptr, Ptr) -> Ptr;
    /// `{b:SPEC}` for a `bool` (its text, `true` or `false`).
    FormatBool = "spl_format_bool"(Bool, Ptr) -> Ptr;
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

/// Lists: a record of two slots, the length (`i64`) and the items, an
/// array whose element count is the capacity. Elements past the length are
/// zero, so the collector may scan the whole array. The runtime allocates
/// lists (it owns their record descriptor); compiled code reads and writes
/// lengths and elements in place.
pub mod list_layout {
    /// Offset of the length in a list record.
    pub const LEN_OFFSET: i32 = 8;
    /// Offset of the reference to the items array.
    pub const ITEMS_OFFSET: i32 = 16;
}

/// Dicts: a record of the number of entries (`i64`), the entries array,
/// the hash index (an array of `i64`, no references) and the number of
/// entry slots used (deleted ones included). An entry is the key's hash
/// with the low bit set (0 for a deleted entry), the key (one slot: an
/// `i64`, a `bool` as 0 or 1, or a `str`) and the value's slots. Entries
/// are kept in insertion order; the runtime allocates and rehashes,
/// compiled code reads and writes values in place.
pub mod dict_layout {
    /// Offset of the number of entries in a dict record.
    pub const LEN_OFFSET: i32 = 8;
    /// Offset of the reference to the entries array.
    pub const ENTRIES_OFFSET: i32 = 16;
    /// Slot of an entry's key, and of the first slot of its value.
    pub const KEY_SLOT: usize = 1;
    pub const VALUE_SLOT: usize = 2;
    /// Key kinds.
    pub const KEY_INT: i64 = 0;
    pub const KEY_STR: i64 = 1;
}

/// Descriptions of Simple types, for the runtime functions that print and
/// compare values of any type. A value reaches them as a record holding its
/// slots (8 bytes each: `i64`, `f64`, `bool` in the low byte, or a
/// reference), laid out as the compiler flattens it.
///
/// A description is its length in bytes (`u32`), then the encoding of the
/// type: a tag byte, then by tag: `TUPLE count:u16 type*`; `LIST
/// type`; `DICT key value`; `OPTIONAL nullable:u8 type` (a nullable
/// optional is one reference slot, 0 for nil; otherwise a `bool` slot then
/// the value's slots); `STRUCT name count:u16 (name type)*` (the fields'
/// slots inline); `CLASS name count:u16 (name type)*` (one reference slot
/// to a record of the fields' slots); `ENUM name payload:u8 count:u16
/// (name fields:u16 (named:u8 [name] type)*)*` (a tag slot, and with
/// `payload` a reference slot to a record of the variant's fields, 0 for a
/// variant without fields); `BACK depth:u8` (the `depth`-th enclosing
/// STRUCT, CLASS or ENUM, 0 the innermost: recursive types). A name is
/// `length:u16` and UTF-8 bytes.
pub mod type_info {
    pub const I64: u8 = 1;
    pub const F64: u8 = 2;
    pub const BOOL: u8 = 3;
    pub const STR: u8 = 4;
    pub const NIL: u8 = 5;
    pub const TUPLE: u8 = 6;
    pub const LIST: u8 = 7;
    pub const DICT: u8 = 8;
    pub const OPTIONAL: u8 = 9;
    pub const STRUCT: u8 = 10;
    pub const CLASS: u8 = 11;
    pub const ENUM: u8 = 12;
    pub const BACK: u8 = 13;
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
    /// `s.split("")` ([`Rt::StrSplit`] gave 0).
    EmptySeparator = 13,
    /// An I/O builtin failed; the runtime recorded the OS's reason.
    IoError = 14,
}

impl TrapCode {
    pub const ALL: [TrapCode; 14] = [
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
        TrapCode::EmptySeparator,
        TrapCode::IoError,
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
            TrapCode::EmptySeparator => "empty separator",
            TrapCode::IoError => "input/output error",
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
