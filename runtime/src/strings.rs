//! `str` values (layout in `simple_abi::str_layout`) and the runtime
//! functions on them.
//!
//! A `str` is a pointer to an 8-aligned `{ tag: u64, len: u64, bytes }`
//! holding valid UTF-8. Literals live in the module's read-only data with
//! `STATIC_TAG` (0); strings made at run time are objects on the GC heap
//! (`heap`), whose tag is the header naming the runtime's string
//! descriptor. Strings are immutable, so functions may return one of their
//! arguments instead of a copy.
//!
//! The functions that allocate follow the heap's discipline: they call
//! `heap::maybe_collect` first, with their `str` arguments as extra roots.

use std::cmp::Ordering;

use simple_abi::str_layout::{BYTES_OFFSET, LEN_OFFSET, STATIC_TAG};

use super::heap;
use super::number_text::{f64_text, i64_text};
use super::process::runtime_error;

const HEADER: usize = BYTES_OFFSET as usize;

/// The bytes of the `str` at `s`.
///
/// # Safety
/// `s` must point to a live `str` block (see the module docs); the block must
/// outlive the returned slice.
pub unsafe fn str_bytes<'a>(s: *const u8) -> &'a [u8] {
    // A freed string's length is poison: catch a missed root here rather
    // than read garbage.
    if heap::is_freed(s) {
        runtime_error("internal error: use of a string the garbage collector freed");
    }
    // SAFETY: per the contract, `s` points to an aligned header followed by
    // `len` bytes.
    unsafe {
        let len = s.add(LEN_OFFSET as usize).cast::<u64>().read() as usize;
        std::slice::from_raw_parts(s.add(HEADER), len)
    }
}

/// A new heap `str` holding `bytes` (which must be UTF-8). Never collects
/// (see `heap`).
pub fn alloc_str(bytes: &[u8]) -> *const u8 {
    let mut out = StrWriter::new(bytes.len());
    out.push(bytes);
    out.finish()
}

/// A new heap `str` of a known length whose bytes are written front to
/// back, without first zeroing them as [`alloc_str_uninit`] must. Never
/// collects; the string must be finished before the next collection.
pub struct StrWriter {
    s: *const u8,
    /// The next byte to write.
    at: *mut u8,
    /// Bytes still to write.
    left: usize,
}

impl StrWriter {
    /// A `str` of `len` bytes (`out of memory` if it cannot be made).
    pub fn new(len: usize) -> StrWriter {
        let s = heap::alloc_str(len).unwrap_or_else(|error| error.report());
        // SAFETY: the bytes follow the header of the fresh object.
        StrWriter { s, at: unsafe { s.add(HEADER) }, left: len }
    }

    /// Appends `bytes`, which must fit.
    pub fn push(&mut self, bytes: &[u8]) {
        assert!(bytes.len() <= self.left, "more bytes than the str was made for");
        // SAFETY: `at..at + bytes.len()` lies within the new object, which
        // `bytes` (a live string or Rust memory) cannot overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.at, bytes.len());
            self.at = self.at.add(bytes.len());
        }
        self.left -= bytes.len();
    }

    /// The string, every byte written (the pushed bytes make UTF-8).
    pub fn finish(self) -> *const u8 {
        assert_eq!(self.left, 0, "fewer bytes than the str was made for");
        self.s
    }
}

/// Allocates a `str` of `len` bytes and returns it with its bytes, which
/// the caller must fill before the next collection (the next call of
/// `heap::maybe_collect`), when the slice's lifetime ends in truth.
pub fn alloc_str_uninit(len: usize) -> (*const u8, &'static mut [u8]) {
    let s = heap::alloc_str(len).unwrap_or_else(|error| error.report());
    // SAFETY: a fresh `str` object of `len` bytes after its header.
    let bytes = unsafe {
        let dst = s.add(HEADER);
        std::ptr::write_bytes(dst, 0, len);
        std::slice::from_raw_parts_mut(dst, len)
    };
    (s, bytes)
}

/// A `str` in the runtime's own read-only data, laid out like a literal.
#[repr(C, align(8))]
pub struct StaticStr<const N: usize> {
    tag: u64,
    len: u64,
    bytes: [u8; N],
}

impl<const N: usize> StaticStr<N> {
    pub const fn new(bytes: &[u8; N]) -> Self {
        StaticStr { tag: STATIC_TAG, len: N as u64, bytes: *bytes }
    }

    pub fn as_ptr(&self) -> *const u8 {
        (self as *const Self).cast()
    }
}

static TRUE: StaticStr<4> = StaticStr::new(b"true");
static FALSE: StaticStr<5> = StaticStr::new(b"false");

/// Whether `s` is one of the runtime's own static strings (for the heap
/// verifier, which accepts static objects only where it knows them).
pub fn is_runtime_static(s: *const u8) -> bool {
    s == TRUE.as_ptr() || s == FALSE.as_ptr() || super::text::is_static_text(s)
}

/// `str(b)` for a `bool`: no allocation, the two texts are static.
pub fn bool_str(b: u8) -> *const u8 {
    if b & 1 != 0 { TRUE.as_ptr() } else { FALSE.as_ptr() }
}

/// `str(n)` for an `i64`.
pub extern "C" fn spl_str_from_i64(value: i64) -> *const u8 {
    heap::maybe_collect(&[]);
    alloc_str(i64_text(value).as_bytes())
}

/// `str(x)` for an `f64`, as Rust's `{:?}`.
pub extern "C" fn spl_str_from_f64(value: f64) -> *const u8 {
    heap::maybe_collect(&[]);
    alloc_str(f64_text(value).as_bytes())
}

/// `str(b)` for a `bool` (a byte, 0 or 1).
pub extern "C" fn spl_str_from_bool(value: u8) -> *const u8 {
    bool_str(value)
}

/// `a + b`.
///
/// # Safety
/// `a` and `b` must be live `str` values.
pub unsafe extern "C" fn spl_str_concat(a: *const u8, b: *const u8) -> *const u8 {
    heap::maybe_collect(&[a, b]);
    // SAFETY: per the contract.
    let (left, right) = unsafe { (str_bytes(a), str_bytes(b)) };
    // Immutable values: an empty side needs no copy.
    if right.is_empty() {
        return a;
    }
    if left.is_empty() {
        return b;
    }
    let Some(len) = left.len().checked_add(right.len()) else {
        runtime_error("out of memory");
    };
    let mut out = StrWriter::new(len);
    out.push(left);
    out.push(right);
    out.finish()
}

/// `a == b`: 1 if the bytes are equal, else 0.
///
/// # Safety
/// `a` and `b` must be live `str` values.
pub unsafe extern "C" fn spl_str_eq(a: *const u8, b: *const u8) -> u8 {
    // SAFETY: per the contract.
    u8::from(a == b || unsafe { str_bytes(a) == str_bytes(b) })
}

/// Byte-wise comparison of `a` and `b`: -1, 0 or 1.
///
/// # Safety
/// `a` and `b` must be live `str` values.
pub unsafe extern "C" fn spl_str_cmp(a: *const u8, b: *const u8) -> i64 {
    // SAFETY: per the contract.
    match unsafe { str_bytes(a).cmp(str_bytes(b)) } {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

/// `s.len()`: the number of Unicode scalar values.
///
/// # Safety
/// `s` must be a live `str` value.
pub unsafe extern "C" fn spl_str_len(s: *const u8) -> i64 {
    // SAFETY: per the contract.
    let bytes = unsafe { str_bytes(s) };
    // In valid UTF-8 every scalar value has exactly one byte that is not a
    // continuation byte (0b10xx_xxxx); counting those needs no decoding.
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: *const u8) -> String {
        String::from_utf8(unsafe { str_bytes(s) }.to_vec()).unwrap()
    }

    fn s(text: &str) -> *const u8 {
        alloc_str(text.as_bytes())
    }

    #[test]
    fn allocated_strings_follow_the_abi_layout() {
        let p = s("héllo");
        assert_eq!(p as usize % 8, 0);
        unsafe {
            assert_eq!(p.cast::<u64>().read(), heap::str_header());
            assert_eq!(p.add(8).cast::<u64>().read(), 6);
        }
        assert_eq!(text(p), "héllo");
        assert_eq!(text(s("")), "");
    }

    #[test]
    fn conversions() {
        assert_eq!(text(spl_str_from_i64(-12)), "-12");
        assert_eq!(text(spl_str_from_i64(i64::MIN)), "-9223372036854775808");
        assert_eq!(text(spl_str_from_f64(1e21)), "1e21");
        assert_eq!(text(spl_str_from_f64(3.0)), "3.0");
        assert_eq!(text(spl_str_from_bool(1)), "true");
        assert_eq!(text(spl_str_from_bool(0)), "false");
        assert_eq!(unsafe { spl_str_from_bool(0).cast::<u64>().read() }, STATIC_TAG);
    }

    #[test]
    fn a_writer_fills_its_str() {
        let mut out = StrWriter::new(5);
        out.push(b"h\xc3\xa9");
        out.push(b"");
        out.push(b"lo");
        assert_eq!(text(out.finish()), "hélo");
        assert_eq!(text(StrWriter::new(0).finish()), "");
    }

    #[test]
    #[should_panic(expected = "more bytes")]
    fn a_writer_refuses_bytes_past_its_length() {
        StrWriter::new(2).push(b"abc");
    }

    #[test]
    #[should_panic(expected = "fewer bytes")]
    fn a_writer_must_be_filled() {
        let mut out = StrWriter::new(2);
        out.push(b"a");
        out.finish();
    }

    #[test]
    fn concat() {
        unsafe {
            assert_eq!(text(spl_str_concat(s("ab"), s("cé"))), "abcé");
            let a = s("x");
            assert_eq!(spl_str_concat(a, s("")), a);
            assert_eq!(spl_str_concat(s(""), a), a);
            assert_eq!(text(spl_str_concat(s(""), s(""))), "");
        }
    }

    #[test]
    fn equality_and_order_are_by_bytes() {
        unsafe {
            assert_eq!(spl_str_eq(s("abc"), s("abc")), 1);
            assert_eq!(spl_str_eq(s("abc"), s("abd")), 0);
            assert_eq!(spl_str_eq(s("ab"), s("abc")), 0);
            assert_eq!(spl_str_eq(s(""), s("")), 1);
            assert_eq!(spl_str_cmp(s("abc"), s("abd")), -1);
            assert_eq!(spl_str_cmp(s("b"), s("abc")), 1);
            assert_eq!(spl_str_cmp(s("ab"), s("abc")), -1);
            assert_eq!(spl_str_cmp(s("abc"), s("abc")), 0);
            // Bytes, not code points or locale: 'é' (0xC3..) sorts after 'z'.
            assert_eq!(spl_str_cmp(s("é"), s("z")), 1);
            assert_eq!(spl_str_cmp(s("Z"), s("a")), -1);
        }
    }

    #[test]
    fn length_counts_scalar_values() {
        unsafe {
            assert_eq!(spl_str_len(s("héllo")), 5);
            assert_eq!(spl_str_len(s("")), 0);
            assert_eq!(spl_str_len(s("😀a")), 2);
            assert_eq!(spl_str_len(s("日本語")), 3);
        }
    }
}
