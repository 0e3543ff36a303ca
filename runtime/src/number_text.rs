//! The text of numbers, formatted into a buffer on the stack.
//!
//! Printing a number must not allocate: programs print millions of them.
//! `i64` is formatted by hand (also usable from the fault handler); `f64`
//! goes through `core::fmt`'s `{:?}`, which LANGUAGE.md fixes as the text of
//! a float (`1.0`, `0.1`, `1e21`, `inf`, `NaN`, `-0.0`) and which writes into
//! any `fmt::Write` without allocating.

use std::fmt::{self, Write};

/// Room for the longest text of either number: `-9223372036854775808` is 20
/// bytes, the longest `{:?}` of an f64 (`-2.2250738585072014e-308`) is 24.
const CAPACITY: usize = 32;

/// A number's text, held inline in `bytes[start..end]` (integers are
/// written from the end backwards, so they need no copy to the front).
pub struct NumberText {
    bytes: [u8; CAPACITY],
    start: usize,
    end: usize,
}

impl NumberText {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }
}

impl Write for NumberText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.end + s.len();
        if end > CAPACITY {
            return Err(fmt::Error);
        }
        self.bytes[self.end..end].copy_from_slice(s.as_bytes());
        self.end = end;
        Ok(())
    }
}

/// "00", "01", ... "99".
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Decimal text of `value`.
pub fn i64_text(value: i64) -> NumberText {
    let mut text = NumberText { bytes: [0; CAPACITY], start: CAPACITY, end: CAPACITY };
    // unsigned_abs: i64::MIN has no positive i64 counterpart.
    let mut rest = value.unsigned_abs();
    // Two digits per division halves the (slow) divisions.
    while rest >= 100 {
        let pair = (rest % 100) as usize * 2;
        rest /= 100;
        text.start -= 2;
        text.bytes[text.start..text.start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if rest >= 10 {
        let pair = rest as usize * 2;
        text.start -= 2;
        text.bytes[text.start..text.start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        text.start -= 1;
        text.bytes[text.start] = b'0' + rest as u8;
    }
    if value < 0 {
        text.start -= 1;
        text.bytes[text.start] = b'-';
    }
    text
}

/// Text of `value` exactly as Rust's `{:?}` writes it.
pub fn f64_text(value: f64) -> NumberText {
    let mut text = NumberText { bytes: [0; CAPACITY], start: 0, end: 0 };
    // Cannot fail: CAPACITY holds the longest `{:?}` of any f64 (see above).
    let _ = write!(text, "{value:?}");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(value: f64) -> String {
        String::from_utf8(f64_text(value).as_bytes().to_vec()).unwrap()
    }

    fn i(value: i64) -> String {
        String::from_utf8(i64_text(value).as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn integers() {
        assert_eq!(i(0), "0");
        assert_eq!(i(7), "7");
        assert_eq!(i(-42), "-42");
        assert_eq!(i(1_000_000), "1000000");
        assert_eq!(i(i64::MAX), "9223372036854775807");
        assert_eq!(i(i64::MIN), "-9223372036854775808");
        for n in [9, 10, 99, 100, 101, 999, 1000, 12345, -7, -10, -100] {
            assert_eq!(i(n), n.to_string());
        }
    }

    #[test]
    fn floats_print_as_rust_debug() {
        assert_eq!(f(1.0), "1.0");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(f(1e21), "1e21");
        assert_eq!(f(1e15), "1000000000000000.0");
        assert_eq!(f(1e16), "1e16");
        assert_eq!(f(1e-7), "1e-7");
        assert_eq!(f(2.5e-3), "0.0025");
        assert_eq!(f(-0.0), "-0.0");
        assert_eq!(f(f64::INFINITY), "inf");
        assert_eq!(f(f64::NEG_INFINITY), "-inf");
        assert_eq!(f(f64::NAN), "NaN");
        assert_eq!(f(f64::MAX), "1.7976931348623157e308");
        assert_eq!(f(-f64::MIN_POSITIVE), "-2.2250738585072014e-308");
        assert_eq!(f(5e-324), "5e-324");
    }

    #[test]
    fn float_text_is_never_truncated() {
        // The longest texts: 17 significant digits with a sign and exponent,
        // or with leading zeros below 1.
        for value in [-1.2345678901234567e-300, -0.00012345678901234567, -1234567890123456.7] {
            assert_eq!(f(value), format!("{value:?}"));
        }
    }
}
