//! The string methods of Tier 2 (`contains`, `find`, `split`, `join`,
//! `trim`, `replace`, slicing, `to_int`, ...), and the hash of string keys.
//!
//! Indices are in characters (Unicode scalar values), as `len` counts them.
//! Strings are immutable, so a result equal to an argument is usually that
//! argument, and an empty result the static [`EMPTY`]; one-character ASCII
//! strings (from `chars`, `s[i]`) come from a static table instead of the
//! heap.
//!
//! Every result is allocated with `strings::alloc_str{,_uninit}` or
//! `list::str_list`, at its exact size computed first with checked
//! arithmetic: a result too large to exist is the runtime error `out of
//! memory`, never a panic or an abort (one exception: `to_lower` of a text
//! with `Σ`, see [`spl_str_to_lower`]).

use super::heap;
use super::list::{slice_bounds, str_items, str_list};
use super::process::runtime_error;
use super::search::{self, Matches};
use super::strings::{StaticStr, StrWriter, alloc_str, alloc_str_uninit, str_bytes};

/// The empty `str`.
static EMPTY: StaticStr<0> = StaticStr::new(b"");

/// The one-character strings of the ASCII characters.
static ASCII_CHARS: [StaticStr<1>; 128] = {
    let mut table = [const { StaticStr::new(b"\0") }; 128];
    let mut i = 0;
    while i < 128 {
        table[i] = StaticStr::new(&[i as u8]);
        i += 1;
    }
    table
};

/// Whether `s` is one of the static strings above (for the heap
/// verifier).
pub fn is_static_text(s: *const u8) -> bool {
    let table = ASCII_CHARS.as_ptr() as usize;
    let size = std::mem::size_of::<StaticStr<1>>();
    let at = (s as usize).wrapping_sub(table);
    s == EMPTY.as_ptr() || (at < 128 * size && at.is_multiple_of(size))
}

/// The text of the `str` at `s`.
///
/// # Safety
/// `s` must be a live `str`, which outlives the result.
unsafe fn text<'a>(s: *const u8) -> &'a str {
    // SAFETY: a `str` holds valid UTF-8 (simple_abi::str_layout); the
    // compiler and the runtime only make valid ones.
    unsafe { std::str::from_utf8_unchecked(str_bytes(s)) }
}

/// A `str` holding `text` (the static one if empty).
fn new_str(text: &str) -> *const u8 {
    if text.is_empty() { EMPTY.as_ptr() } else { alloc_str(text.as_bytes()) }
}

/// `part`, a part of `whole` (the `str` `s`): `s` itself if it is all of it.
fn part_str(s: *const u8, whole: &str, part: &str) -> *const u8 {
    if part.len() == whole.len() { s } else { new_str(part) }
}

/// The one-character `str` of `c`.
fn char_str(c: char) -> *const u8 {
    if c.is_ascii() {
        ASCII_CHARS[c as usize].as_ptr()
    } else {
        let mut buf = [0; 4];
        alloc_str(c.encode_utf8(&mut buf).as_bytes())
    }
}

/// The number of characters of `text`.
fn char_count(text: &str) -> usize {
    // Every character has exactly one byte that is not a continuation byte
    // (0b10xx_xxxx).
    text.bytes().filter(|&b| (b as i8) >= -0x40).count()
}

/// The byte offset of character `index` of `text` (its length if `index`
/// is the number of characters, or more).
fn byte_offset(text: &str, index: usize) -> usize {
    text.char_indices().nth(index).map_or(text.len(), |(at, _)| at)
}

fn out_of_memory() -> ! {
    runtime_error("out of memory")
}

/// `v.push(x)`, with a failed allocation as the runtime error.
fn push<T>(v: &mut Vec<T>, x: T) {
    if v.try_reserve(1).is_err() {
        out_of_memory();
    }
    v.push(x);
}

/// `s.contains(sub)`, also `sub in s`.
///
/// # Safety
/// `s` and `sub` must be live `str` values.
pub unsafe extern "C" fn spl_str_contains(s: *const u8, sub: *const u8) -> u8 {
    // SAFETY: per the contract.
    u8::from(search::find(unsafe { text(s) }, unsafe { text(sub) }).is_some())
}

/// `s.starts_with(prefix)`.
///
/// # Safety
/// `s` and `prefix` must be live `str` values.
pub unsafe extern "C" fn spl_str_starts_with(s: *const u8, prefix: *const u8) -> u8 {
    // SAFETY: per the contract.
    u8::from(unsafe { str_bytes(s).starts_with(str_bytes(prefix)) })
}

/// `s.ends_with(suffix)`.
///
/// # Safety
/// `s` and `suffix` must be live `str` values.
pub unsafe extern "C" fn spl_str_ends_with(s: *const u8, suffix: *const u8) -> u8 {
    // SAFETY: per the contract.
    u8::from(unsafe { str_bytes(s).ends_with(str_bytes(suffix)) })
}

/// `s.find(sub)`: the character index of the first occurrence, or -1 (which
/// the compiler turns into `nil`). An empty `sub` is found at 0.
///
/// # Safety
/// `s` and `sub` must be live `str` values.
pub unsafe extern "C" fn spl_str_find(s: *const u8, sub: *const u8) -> i64 {
    // SAFETY: per the contract.
    let (text, sub) = unsafe { (text(s), text(sub)) };
    match search::find(text, sub) {
        Some(at) => char_count(&text[..at]) as i64,
        None => -1,
    }
}

/// `s.split(sep)`, as Python's: the parts between the occurrences of `sep`,
/// empty ones included (`"a,,b,".split(",")` is `["a", "", "b", ""]`, and
/// `"".split(",")` is `[""]`). An empty `sep` gives null, on which the
/// compiled code traps `TrapCode::EmptySeparator` (`empty separator`).
///
/// # Safety
/// `s` and `sep` must be live `str` values.
pub unsafe extern "C" fn spl_str_split(s: *const u8, sep: *const u8) -> *mut u8 {
    heap::maybe_collect(&[s.cast(), sep.cast()]);
    // SAFETY: per the contract.
    let (whole, sep) = unsafe { (text(s), text(sep)) };
    if sep.is_empty() {
        return std::ptr::null_mut();
    }
    let mut parts = Vec::new();
    let mut start = 0;
    for at in Matches::new(whole, sep) {
        push(&mut parts, part_str(s, whole, &whole[start..at]));
        start = at + sep.len();
    }
    push(&mut parts, part_str(s, whole, &whole[start..]));
    str_list(&parts)
}

/// `s.split()` without a separator, as Python's: the runs of characters
/// between runs of whitespace (Unicode `White_Space`, as Rust's
/// `char::is_whitespace`), with no empty parts (`"  "` gives `[]`).
///
/// # Safety
/// `s` must be a live `str`.
pub unsafe extern "C" fn spl_str_split_whitespace(s: *const u8) -> *mut u8 {
    heap::maybe_collect(&[s.cast()]);
    // SAFETY: per the contract.
    let whole = unsafe { text(s) };
    let mut parts = Vec::new();
    for part in whole.split_whitespace() {
        push(&mut parts, part_str(s, whole, part));
    }
    str_list(&parts)
}

/// `sep.join(xs)`: the strings of the list with `sep` between them.
///
/// # Safety
/// `sep` must be a live `str` and `list` a live `[str]`.
pub unsafe extern "C" fn spl_str_join(sep: *const u8, list: *mut u8) -> *const u8 {
    heap::maybe_collect(&[sep.cast(), list.cast()]);
    // SAFETY: per the contract.
    let (sep, items) = unsafe { (str_bytes(sep), str_items(list)) };
    match items {
        [] => return EMPTY.as_ptr(),
        [only] => return *only,
        _ => {}
    }
    let len = sep.len().checked_mul(items.len() - 1).and_then(|seps| {
        items.iter().try_fold(seps, |len, &item| {
            // SAFETY: the list holds live `str` values.
            len.checked_add(unsafe { str_bytes(item) }.len())
        })
    });
    let mut out = StrWriter::new(len.unwrap_or_else(|| out_of_memory()));
    for (i, &item) in items.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        // SAFETY: as above.
        out.push(unsafe { str_bytes(item) });
    }
    out.finish()
}

/// `s.trim()`: without leading and trailing whitespace (as Rust's `trim`).
///
/// # Safety
/// `s` must be a live `str`.
pub unsafe extern "C" fn spl_str_trim(s: *const u8) -> *const u8 {
    heap::maybe_collect(&[s.cast()]);
    // SAFETY: per the contract.
    let whole = unsafe { text(s) };
    part_str(s, whole, whole.trim())
}

/// `s` with every character mapped to the characters `map` gives for it;
/// `ascii` maps ASCII bytes (the fast path for ASCII text).
fn map_chars<I: Iterator<Item = char>>(
    s: *const u8,
    whole: &str,
    ascii: fn(&u8) -> u8,
    map: impl Fn(char) -> I,
) -> *const u8 {
    let bytes = whole.as_bytes();
    if whole.is_ascii() {
        let Some(first) = bytes.iter().position(|b| ascii(b) != *b) else { return s };
        let (out, dst) = alloc_str_uninit(bytes.len());
        dst[..first].copy_from_slice(&bytes[..first]);
        for (d, b) in dst[first..].iter_mut().zip(&bytes[first..]) {
            *d = ascii(b);
        }
        return out;
    }
    let len = whole.chars().flat_map(&map).fold(0usize, |len, c| len.saturating_add(c.len_utf8()));
    let (out, dst) = alloc_str_uninit(len);
    let mut at = 0;
    for c in whole.chars().flat_map(&map) {
        // The first pass counted exactly these characters' bytes.
        at += c.encode_utf8(&mut dst[at..]).len();
    }
    out
}

/// `s.to_upper()`: Unicode's full uppercase mapping (`"ß"` gives `"SS"`),
/// as Rust's `to_uppercase`.
///
/// # Safety
/// `s` must be a live `str`.
pub unsafe extern "C" fn spl_str_to_upper(s: *const u8) -> *const u8 {
    heap::maybe_collect(&[s.cast()]);
    // SAFETY: per the contract.
    let whole = unsafe { text(s) };
    map_chars(s, whole, u8::to_ascii_uppercase, char::to_uppercase)
}

/// `s.to_lower()`: Unicode's full lowercase mapping, as Rust's
/// `to_lowercase` (with a word-final `Σ` becoming `ς`).
///
/// # Safety
/// `s` must be a live `str`.
pub unsafe extern "C" fn spl_str_to_lower(s: *const u8) -> *const u8 {
    heap::maybe_collect(&[s.cast()]);
    // SAFETY: per the contract.
    let whole = unsafe { text(s) };
    if whole.contains('Σ') {
        // Only `Σ` depends on its neighbours (final sigma), and only Rust's
        // `str::to_lowercase` knows the Unicode properties that decide it.
        // Its `String` cannot report a failed allocation; a Greek text too
        // large to copy is the one case that aborts instead.
        return new_str(&whole.to_lowercase());
    }
    map_chars(s, whole, u8::to_ascii_lowercase, char::to_lowercase)
}

/// `s.replace(from, to)`: every occurrence of `from`, left to right, as
/// Python's. An empty `from` matches before every character and at the
/// end (`"ab".replace("", "-")` is `"-a-b-"`).
///
/// # Safety
/// `s`, `from` and `to` must be live `str` values.
pub unsafe extern "C" fn spl_str_replace(s: *const u8, from: *const u8, to: *const u8) -> *const u8 {
    heap::maybe_collect(&[s.cast(), from.cast(), to.cast()]);
    // SAFETY: per the contract.
    let (whole, from, to) = unsafe { (text(s), text(from), text(to)) };
    let count = Matches::new(whole, from).count();
    if count == 0 || from == to {
        return s;
    }
    // The occurrences do not overlap, so `count * from.len() <= whole.len()`.
    let len = count.checked_mul(to.len()).and_then(|added| (whole.len() - count * from.len()).checked_add(added));
    let len = len.unwrap_or_else(|| out_of_memory());
    if len == 0 {
        return EMPTY.as_ptr();
    }
    let mut out = StrWriter::new(len);
    let mut last = 0;
    for i in Matches::new(whole, from) {
        out.push(&whole.as_bytes()[last..i]);
        out.push(to.as_bytes());
        last = i + from.len();
    }
    out.push(&whole.as_bytes()[last..]);
    out.finish()
}

/// `s.chars()`: the characters as one-character strings.
///
/// # Safety
/// `s` must be a live `str`.
pub unsafe extern "C" fn spl_str_chars(s: *const u8) -> *mut u8 {
    heap::maybe_collect(&[s.cast()]);
    // SAFETY: per the contract.
    let whole = unsafe { text(s) };
    let mut chars = Vec::new();
    if chars.try_reserve_exact(char_count(whole)).is_err() {
        out_of_memory();
    }
    chars.extend(whole.chars().map(char_str));
    str_list(&chars)
}

/// `s[start:end]` by characters, with Python's clamping: negative bounds
/// count from the end, bounds outside the string are clamped, and an end
/// before the start gives `""`. `written` says which bounds were given
/// (bit 0 start, bit 1 end); a missing one is the string's start or end.
///
/// # Safety
/// `s` must be a live `str`.
pub unsafe extern "C" fn spl_str_slice(s: *const u8, start: i64, end: i64, written: i64) -> *const u8 {
    heap::maybe_collect(&[s.cast()]);
    // SAFETY: per the contract.
    let whole = unsafe { text(s) };
    let (from, to) = if whole.is_ascii() {
        slice_bounds(whole.len(), start, end, written)
    } else {
        let (from, to) = slice_bounds(char_count(whole), start, end, written);
        let from_byte = byte_offset(whole, from);
        (from_byte, from_byte + byte_offset(&whole[from_byte..], to - from))
    };
    part_str(s, whole, &whole[from..to])
}

/// `s[index]`: the character at a character index (negative from the end)
/// as a one-character string, or null if the index is out of range (the
/// compiled code raises `index out of bounds`).
///
/// # Safety
/// `s` must be a live `str`.
pub unsafe extern "C" fn spl_str_char_at(s: *const u8, index: i64) -> *const u8 {
    heap::maybe_collect(&[s.cast()]);
    // SAFETY: per the contract.
    let whole = unsafe { text(s) };
    let found = if whole.is_ascii() {
        let len = whole.len() as i64;
        let at = if index < 0 { index + len } else { index };
        (0..len).contains(&at).then(|| char::from(whole.as_bytes()[at as usize]))
    } else if index >= 0 {
        usize::try_from(index).ok().and_then(|i| whole.chars().nth(i))
    } else {
        // From the end: -1 is the last character.
        usize::try_from(-(index + 1)).ok().and_then(|i| whole.chars().rev().nth(i))
    };
    found.map_or(std::ptr::null(), char_str)
}

/// `to_int`'s reading of `s`: optional whitespace around an optional sign
/// and decimal digits, within `i64`.
fn parse_int(s: &str) -> Option<i64> {
    // Rust's i64 parser takes exactly an optional `+`/`-` and ASCII digits.
    s.trim().parse().ok()
}

/// `to_float`'s reading of `s`: what Rust's `f64` parser accepts after
/// trimming (`1`, `-2.5e3`, `.5`, `5.`, `inf`, `NaN`, ...).
fn parse_float(s: &str) -> Option<f64> {
    s.trim().parse().ok()
}

/// The value of `s.to_int()` when [`spl_str_is_int`] says there is one
/// (else 0).
///
/// # Safety
/// `s` must be a live `str`.
pub unsafe extern "C" fn spl_str_to_int(s: *const u8) -> i64 {
    // SAFETY: per the contract.
    parse_int(unsafe { text(s) }).unwrap_or(0)
}

/// Whether `s.to_int()` is not `nil`.
///
/// # Safety
/// `s` must be a live `str`.
pub unsafe extern "C" fn spl_str_is_int(s: *const u8) -> u8 {
    // SAFETY: per the contract.
    u8::from(parse_int(unsafe { text(s) }).is_some())
}

/// The value of `s.to_float()` when [`spl_str_is_float`] says there is one
/// (else 0.0).
///
/// # Safety
/// `s` must be a live `str`.
pub unsafe extern "C" fn spl_str_to_float(s: *const u8) -> f64 {
    // SAFETY: per the contract.
    parse_float(unsafe { text(s) }).unwrap_or(0.0)
}

/// Whether `s.to_float()` is not `nil`.
///
/// # Safety
/// `s` must be a live `str`.
pub unsafe extern "C" fn spl_str_is_float(s: *const u8) -> u8 {
    // SAFETY: per the contract.
    u8::from(parse_float(unsafe { text(s) }).is_some())
}

/// `s * n` and `s.repeat(n)`: `n` copies of `s`; `""` if `n <= 0`.
///
/// # Safety
/// `s` must be a live `str`.
pub unsafe extern "C" fn spl_str_repeat(s: *const u8, n: i64) -> *const u8 {
    heap::maybe_collect(&[s.cast()]);
    // SAFETY: per the contract.
    let bytes = unsafe { str_bytes(s) };
    let Ok(n) = usize::try_from(n) else { return EMPTY.as_ptr() };
    if n == 0 {
        return EMPTY.as_ptr();
    }
    if n == 1 || bytes.is_empty() {
        return s;
    }
    let len = bytes.len().checked_mul(n).unwrap_or_else(|| out_of_memory());
    let (out, dst) = alloc_str_uninit(len);
    dst[..bytes.len()].copy_from_slice(bytes);
    // Doubling the copied prefix takes log2(n) copies.
    let mut filled = bytes.len();
    while filled < len {
        let chunk = filled.min(len - filled);
        dst.copy_within(..chunk, filled);
        filled += chunk;
    }
    out
}

/// The hash of a string (its UTF-8 bytes), for dictionary keys: a folded
/// multiply over 16-byte blocks in the manner of wyhash, fast for short
/// keys and well mixed in its low bits (which pick a table slot). The
/// same in every run.
// Dicts hash their `str` keys with it once the heap holds them.
#[cfg_attr(not(test), expect(dead_code))]
pub fn str_hash(bytes: &[u8]) -> u64 {
    const P0: u64 = 0xa076_1d64_78bd_642f;
    const P1: u64 = 0xe703_7ed1_a0b4_28db;
    const P2: u64 = 0x8ebc_6af0_9c88_c6e3;

    /// The 128-bit product's halves, xored.
    fn mix(a: u64, b: u64) -> u64 {
        let product = u128::from(a) * u128::from(b);
        (product as u64) ^ ((product >> 64) as u64)
    }
    fn word(bytes: &[u8]) -> u64 {
        let mut w = [0; 8];
        w[..bytes.len()].copy_from_slice(bytes);
        u64::from_le_bytes(w)
    }

    let len = bytes.len();
    let mut seed = P0;
    let mut blocks = bytes.chunks_exact(16);
    for block in &mut blocks {
        seed = mix(word(&block[..8]) ^ P1, word(&block[8..]) ^ seed);
    }
    let tail = blocks.remainder();
    // Two (possibly overlapping) words cover the 0..16 remaining bytes.
    let (a, b) = match tail.len() {
        0 => (0, 0),
        n @ 1..=3 => {
            let (x, y, z) = (u64::from(tail[0]), u64::from(tail[n / 2]), u64::from(tail[n - 1]));
            ((x << 16) | (y << 8) | z, 0)
        }
        n @ 4..=8 => (word(&tail[..4]), word(&tail[n - 4..])),
        n => (word(&tail[..8]), word(&tail[n - 8..])),
    };
    mix(P2 ^ len as u64, mix(a ^ P1, b ^ seed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::desc::str_header;
    use crate::test_support::{in_child, stderr};
    use simple_abi::str_layout::STATIC_TAG;

    fn s(text: &str) -> *const u8 {
        alloc_str(text.as_bytes())
    }

    fn t(s: *const u8) -> String {
        assert!(!s.is_null(), "null str");
        String::from_utf8(unsafe { str_bytes(s) }.to_vec()).unwrap()
    }

    fn list(list: *mut u8) -> Vec<String> {
        assert!(!list.is_null(), "null list");
        unsafe { str_items(list) }.iter().map(|&item| t(item)).collect()
    }

    fn tag(s: *const u8) -> u64 {
        unsafe { s.cast::<u64>().read() }
    }

    #[test]
    fn static_strings_follow_the_abi_layout() {
        assert_eq!(t(EMPTY.as_ptr()), "");
        assert_eq!(tag(EMPTY.as_ptr()), STATIC_TAG);
        for c in 0..128u8 {
            let p = ASCII_CHARS[c as usize].as_ptr();
            assert_eq!(p as usize % 8, 0);
            assert_eq!(tag(p), STATIC_TAG);
            assert_eq!(unsafe { str_bytes(p) }, [c]);
        }
    }

    #[test]
    fn contains_starts_with_ends_with() {
        unsafe {
            let yes = |a: &str, b: &str| spl_str_contains(s(a), s(b));
            assert_eq!(yes("hello", "ell"), 1);
            assert_eq!(yes("hello", "hello"), 1);
            assert_eq!(yes("hello", ""), 1);
            assert_eq!(yes("", ""), 1);
            assert_eq!(yes("", "a"), 0);
            assert_eq!(yes("hello", "elo"), 0);
            assert_eq!(yes("hello", "hello!"), 0);
            assert_eq!(yes("naïve café", "é"), 1);
            assert_eq!(yes("naïve", "i"), 0);
            assert_eq!(spl_str_starts_with(s("héllo"), s("hé")), 1);
            assert_eq!(spl_str_starts_with(s("héllo"), s("")), 1);
            assert_eq!(spl_str_starts_with(s("héllo"), s("é")), 0);
            assert_eq!(spl_str_starts_with(s("hé"), s("héllo")), 0);
            assert_eq!(spl_str_starts_with(s(""), s("")), 1);
            assert_eq!(spl_str_ends_with(s("héllo"), s("llo")), 1);
            assert_eq!(spl_str_ends_with(s("日本語"), s("語")), 1);
            assert_eq!(spl_str_ends_with(s("日本語"), s("本")), 0);
            assert_eq!(spl_str_ends_with(s("a"), s("")), 1);
            assert_eq!(spl_str_ends_with(s(""), s("a")), 0);
        }
    }

    #[test]
    fn find_gives_a_character_index() {
        unsafe {
            let find = |a: &str, b: &str| spl_str_find(s(a), s(b));
            assert_eq!(find("hello", "l"), 2);
            assert_eq!(find("hello", "lo"), 3);
            assert_eq!(find("hello", "h"), 0);
            assert_eq!(find("hello", "x"), -1);
            assert_eq!(find("hello", ""), 0);
            assert_eq!(find("", ""), 0);
            assert_eq!(find("", "a"), -1);
            assert_eq!(find("héllo", "l"), 2);
            assert_eq!(find("日本語です", "です"), 3);
            assert_eq!(find("😀a😀b", "b"), 3);
            assert_eq!(find("ab", "abc"), -1);
        }
    }

    #[test]
    fn split_as_python() {
        unsafe {
            let split = |a: &str, sep: &str| list(spl_str_split(s(a), s(sep)));
            assert_eq!(split("a,b,c", ","), ["a", "b", "c"]);
            assert_eq!(split("a,,b,", ","), ["a", "", "b", ""]);
            assert_eq!(split(",a", ","), ["", "a"]);
            assert_eq!(split("", ","), [""]);
            assert_eq!(split("abc", ","), ["abc"]);
            assert_eq!(split("a::b::c", "::"), ["a", "b", "c"]);
            assert_eq!(split("a:::b", "::"), ["a", ":b"]);
            assert_eq!(split("日本、語、", "、"), ["日本", "語", ""]);
            assert_eq!(split("héllo wörld", " "), ["héllo", "wörld"]);
            assert_eq!(split("aaa", "a"), ["", "", "", ""]);
            // No separator in the text: the one part is the text itself.
            let whole = s("abc");
            assert_eq!(str_items(spl_str_split(whole, s(","))), [whole]);
            // An empty separator is the compiled code's runtime error.
            assert!(spl_str_split(s("abc"), s("")).is_null());
            assert!(spl_str_split(s(""), s("")).is_null());
        }
    }

    #[test]
    fn split_on_whitespace() {
        unsafe {
            let split = |a: &str| list(spl_str_split_whitespace(s(a)));
            assert_eq!(split("  a b\t\tc\n"), ["a", "b", "c"]);
            assert_eq!(split("one"), ["one"]);
            assert!(split("").is_empty());
            assert!(split(" \t\n ").is_empty());
            assert_eq!(split("x\u{3000}y\u{a0}z"), ["x", "y", "z"]);
            assert_eq!(split("héllo  wörld "), ["héllo", "wörld"]);
        }
    }

    #[test]
    fn join() {
        unsafe {
            let join = |sep: &str, xs: &[&str]| {
                let items: Vec<_> = xs.iter().map(|x| s(x)).collect();
                t(spl_str_join(s(sep), str_list(&items)))
            };
            assert_eq!(join(", ", &["a", "b", "c"]), "a, b, c");
            assert_eq!(join("", &["a", "b", "c"]), "abc");
            assert_eq!(join("-", &[]), "");
            assert_eq!(join("-", &["solo"]), "solo");
            assert_eq!(join("-", &["", ""]), "-");
            assert_eq!(join("·", &["é", "日本", ""]), "é·日本·");
            // One item is returned as it is.
            let item = s("x");
            assert_eq!(spl_str_join(s(","), str_list(&[item])), item);
        }
    }

    #[test]
    fn trim() {
        unsafe {
            assert_eq!(t(spl_str_trim(s("  hi there \n"))), "hi there");
            assert_eq!(t(spl_str_trim(s("\t\u{3000}é\u{a0}"))), "é");
            assert_eq!(t(spl_str_trim(s("   "))), "");
            assert_eq!(t(spl_str_trim(s(""))), "");
            let clean = s("clean");
            assert_eq!(spl_str_trim(clean), clean);
        }
    }

    #[test]
    fn case_conversion() {
        unsafe {
            assert_eq!(t(spl_str_to_upper(s("Hello, World 1!"))), "HELLO, WORLD 1!");
            assert_eq!(t(spl_str_to_lower(s("Hello, World 1!"))), "hello, world 1!");
            assert_eq!(t(spl_str_to_upper(s("héllo wörld"))), "HÉLLO WÖRLD");
            assert_eq!(t(spl_str_to_lower(s("HÉLLO WÖRLD"))), "héllo wörld");
            assert_eq!(t(spl_str_to_upper(s("straße"))), "STRASSE");
            assert_eq!(t(spl_str_to_upper(s("ΐ"))), "Ι\u{308}\u{301}");
            assert_eq!(t(spl_str_to_lower(s("İ"))), "i\u{307}");
            assert_eq!(t(spl_str_to_upper(s("日本"))), "日本");
            // Word-final sigma.
            assert_eq!(t(spl_str_to_lower(s("ΟΔΟΣ ΟΔΟΣ."))), "οδος οδος.");
            assert_eq!(t(spl_str_to_lower(s("Σ"))), "σ");
            assert_eq!(t(spl_str_to_upper(s(""))), "");
            assert_eq!(t(spl_str_to_lower(s(""))), "");
            // Nothing to change: the argument itself.
            let upper = s("ABC 123");
            assert_eq!(spl_str_to_upper(upper), upper);
            let lower = s("abc 123");
            assert_eq!(spl_str_to_lower(lower), lower);
        }
    }

    #[test]
    fn replace_as_python() {
        unsafe {
            let replace = |a: &str, from: &str, to: &str| t(spl_str_replace(s(a), s(from), s(to)));
            assert_eq!(replace("a-b-c", "-", "+"), "a+b+c");
            assert_eq!(replace("a-b-c", "-", ""), "abc");
            assert_eq!(replace("a-b-c", "-", "--"), "a--b--c");
            assert_eq!(replace("aaaa", "aa", "b"), "bb");
            assert_eq!(replace("aaa", "aa", "b"), "ba");
            assert_eq!(replace("abc", "x", "y"), "abc");
            assert_eq!(replace("abc", "abc", ""), "");
            assert_eq!(replace("", "a", "b"), "");
            assert_eq!(replace("ab", "", "-"), "-a-b-");
            assert_eq!(replace("", "", "-"), "-");
            assert_eq!(replace("日本", "", "|"), "|日|本|");
            assert_eq!(replace("café café", "é", "e"), "cafe cafe");
            assert_eq!(replace("ab", "", ""), "ab");
            let unchanged = s("abc");
            assert_eq!(spl_str_replace(unchanged, s("x"), s("y")), unchanged);
        }
    }

    #[test]
    fn chars() {
        unsafe {
            assert_eq!(list(spl_str_chars(s("abc"))), ["a", "b", "c"]);
            assert_eq!(list(spl_str_chars(s("hé😀"))), ["h", "é", "😀"]);
            assert_eq!(list(spl_str_chars(s("e\u{301}"))), ["e", "\u{301}"]);
            assert!(list(spl_str_chars(s(""))).is_empty());
            // ASCII characters are static strings.
            let chars = str_items(spl_str_chars(s("aé")));
            assert_eq!((tag(chars[0]), tag(chars[1])), (STATIC_TAG, str_header()));
        }
    }

    #[test]
    fn slices_by_characters() {
        const START: i64 = 1;
        const END: i64 = 2;
        const BOTH: i64 = 3;
        unsafe {
            let slice = |a: &str, start: i64, end: i64, written: i64| t(spl_str_slice(s(a), start, end, written));
            for text in ["hello", "héllö"] {
                let chars: Vec<char> = text.chars().collect();
                let expected = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
                assert_eq!(slice(text, 1, 3, BOTH), expected(1, 3));
                assert_eq!(slice(text, 0, 5, BOTH), text);
                assert_eq!(slice(text, 2, 0, START), expected(2, 5));
                assert_eq!(slice(text, 0, 2, END), expected(0, 2));
                assert_eq!(slice(text, 0, 0, 0), text);
                assert_eq!(slice(text, -2, 0, START), expected(3, 5));
                assert_eq!(slice(text, 0, -1, END), expected(0, 4));
                assert_eq!(slice(text, -4, -1, BOTH), expected(1, 4));
                // Clamped.
                assert_eq!(slice(text, -100, 100, BOTH), text);
                assert_eq!(slice(text, 3, 100, BOTH), expected(3, 5));
                assert_eq!(slice(text, 100, 0, START), "");
                assert_eq!(slice(text, 0, -100, END), "");
                assert_eq!(slice(text, i64::MIN, i64::MAX, BOTH), text);
                // An end before the start.
                assert_eq!(slice(text, 3, 1, BOTH), "");
                assert_eq!(slice(text, -1, -2, BOTH), "");
            }
            assert_eq!(slice("日本語", 1, 2, BOTH), "本");
            assert_eq!(slice("😀😁😂", -1, 0, START), "😂");
            assert_eq!(slice("", 0, 0, BOTH), "");
            assert_eq!(slice("", -1, 1, BOTH), "");
            // The whole string is the argument itself.
            let whole = s("héllo");
            assert_eq!(spl_str_slice(whole, 0, 0, 0), whole);
            assert_eq!(spl_str_slice(whole, -9, 9, BOTH), whole);
        }
    }

    #[test]
    fn char_at() {
        unsafe {
            let at = |a: &str, i: i64| {
                let c = spl_str_char_at(s(a), i);
                (!c.is_null()).then(|| t(c))
            };
            for text in ["abc", "aéc"] {
                let chars: Vec<String> = text.chars().map(String::from).collect();
                assert_eq!(at(text, 0).as_ref(), Some(&chars[0]));
                assert_eq!(at(text, 1).as_ref(), Some(&chars[1]));
                assert_eq!(at(text, 2).as_ref(), Some(&chars[2]));
                assert_eq!(at(text, -1).as_ref(), Some(&chars[2]));
                assert_eq!(at(text, -3).as_ref(), Some(&chars[0]));
                assert_eq!(at(text, 3), None);
                assert_eq!(at(text, -4), None);
                assert_eq!(at(text, i64::MAX), None);
                assert_eq!(at(text, i64::MIN), None);
            }
            assert_eq!(at("😀x", 0).as_deref(), Some("😀"));
            assert_eq!(at("日本語", -2).as_deref(), Some("本"));
            assert_eq!(at("", 0), None);
            assert_eq!(at("", -1), None);
            assert_eq!(tag(spl_str_char_at(s("héllo"), 0)), STATIC_TAG);
        }
    }

    #[test]
    fn to_int() {
        unsafe {
            let int = |a: &str| (spl_str_is_int(s(a)) != 0).then(|| spl_str_to_int(s(a)));
            assert_eq!(int("42"), Some(42));
            assert_eq!(int("-42"), Some(-42));
            assert_eq!(int("+7"), Some(7));
            assert_eq!(int("  12 \n"), Some(12));
            assert_eq!(int("\t-0"), Some(0));
            assert_eq!(int("007"), Some(7));
            assert_eq!(int("9223372036854775807"), Some(i64::MAX));
            assert_eq!(int("-9223372036854775808"), Some(i64::MIN));
            assert_eq!(int("9223372036854775808"), None);
            assert_eq!(int("-9223372036854775809"), None);
            for bad in
                ["", " ", "+", "-", "--1", "+-1", "1 2", "1_000", "1.0", "1e3", "0x10", "abc", "12a", "١٢", "- 1"]
            {
                assert_eq!(int(bad), None, "{bad:?}");
                assert_eq!(spl_str_to_int(s(bad)), 0);
            }
        }
    }

    #[test]
    fn to_float() {
        unsafe {
            let float = |a: &str| (spl_str_is_float(s(a)) != 0).then(|| spl_str_to_float(s(a)));
            assert_eq!(float("2.5"), Some(2.5));
            assert_eq!(float(" -2.5e3\n"), Some(-2500.0));
            assert_eq!(float("1"), Some(1.0));
            assert_eq!(float(".5"), Some(0.5));
            assert_eq!(float("5."), Some(5.0));
            assert_eq!(float("+1E-2"), Some(0.01));
            assert_eq!(float("inf"), Some(f64::INFINITY));
            assert_eq!(float("-Infinity"), Some(f64::NEG_INFINITY));
            assert_eq!(float("1e400"), Some(f64::INFINITY));
            assert!(float("NaN").is_some_and(f64::is_nan));
            assert_eq!(float("-0.0").map(f64::is_sign_negative), Some(true));
            for bad in ["", "  ", ".", "e5", "1e", "1_0", "1,5", "0x1p3", "one", "1.5x", "- 1"] {
                assert_eq!(float(bad), None, "{bad:?}");
                assert_eq!(spl_str_to_float(s(bad)), 0.0);
            }
        }
    }

    #[test]
    fn repeat() {
        unsafe {
            assert_eq!(t(spl_str_repeat(s("ab"), 3)), "ababab");
            assert_eq!(t(spl_str_repeat(s("é"), 5)), "ééééé");
            assert_eq!(t(spl_str_repeat(s("xyz"), 7)), "xyz".repeat(7));
            assert_eq!(t(spl_str_repeat(s("ab"), 0)), "");
            assert_eq!(t(spl_str_repeat(s("ab"), -3)), "");
            assert_eq!(t(spl_str_repeat(s("ab"), i64::MIN)), "");
            assert_eq!(t(spl_str_repeat(s(""), i64::MAX)), "");
            let one = s("one");
            assert_eq!(spl_str_repeat(one, 1), one);
        }
    }

    /// Runs `body` in a child (as the test `name`) and checks it ends with
    /// `error: out of memory`.
    fn assert_out_of_memory(name: &str, body: impl FnOnce()) {
        let output = in_child(module_path!(), name, body);
        assert_eq!(output.status.code(), Some(101), "{}", stderr(&output));
        assert_eq!(stderr(&output), "error: out of memory\n");
    }

    // Sizes that cannot be allocated whatever the machine.

    #[test]
    fn a_repeat_whose_size_overflows_is_out_of_memory() {
        assert_out_of_memory("a_repeat_whose_size_overflows_is_out_of_memory", || unsafe {
            spl_str_repeat(s("abc"), i64::MAX);
        });
    }

    #[test]
    fn a_repeat_larger_than_the_address_space_is_out_of_memory() {
        assert_out_of_memory("a_repeat_larger_than_the_address_space_is_out_of_memory", || unsafe {
            spl_str_repeat(s("ab"), 1 << 62);
        });
    }

    #[test]
    fn hashes_differ_and_spread() {
        assert_eq!(str_hash(b"key"), str_hash(b"key"));
        let keys: Vec<String> = (0..4096)
            .map(|i| format!("k{i}"))
            .chain((0..64).map(|n| "a".repeat(n)))
            .chain((1..64).map(|n| "\0".repeat(n)))
            .chain(["é".into(), "日本語".into(), "key\0".into(), "key".into()])
            .collect();
        let mut hashes: Vec<u64> = keys.iter().map(|k| str_hash(k.as_bytes())).collect();
        // The low 12 bits pick a slot of a 4096-slot table.
        let mut slots: Vec<u64> = hashes.iter().map(|h| h & 0xfff).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), keys.len(), "a collision");
        slots.sort_unstable();
        slots.dedup();
        // A random function fills about 63% of the slots for 4096 keys.
        assert!(slots.len() > 2400, "{} slots used", slots.len());
    }
}
