//! Interpolation with a format spec, `"{x:SPEC}"`: the value's text,
//! formatted as the spec says (grammar and meaning in
//! `simple_abi::format_spec`).
//!
//! The compiler has checked the spec and that it applies to the value's
//! type; a spec that does not parse or apply here counts as the empty spec
//! (the value's own text), so no spec text can make these functions fail.
//! Numbers are written by Rust's formatting machinery (so `{x:.2}` and
//! `{x:e}` are Rust's), with the sign, prefix, zero padding and digit
//! grouping added here.

use simple_abi::format_spec::{self, Align, Grouping, Kind, Sign, Spec, SpecType};

use super::heap;
use super::number_text::f64_text;
use super::strings::{alloc_str_uninit, bool_str, spl_str_from_f64, spl_str_from_i64, str_bytes};

/// The spec in the `str` at `spec` if it is valid and applies to `ty`,
/// else the empty spec.
///
/// # Safety
/// `spec` must be a live `str`.
unsafe fn spec_for(spec: *const u8, ty: SpecType) -> Spec {
    // SAFETY: per the contract.
    let text = std::str::from_utf8(unsafe { str_bytes(spec) }).ok();
    text.and_then(|text| format_spec::parse(text).ok()).filter(|spec| spec.accepts(ty)).unwrap_or_default()
}

/// `body` padded with the spec's fill to its width, aligned as it says (or
/// as `default`), as a new `str`.
fn padded(body: &str, spec: &Spec, default: Align) -> *const u8 {
    let padding = spec.width.saturating_sub(body.chars().count());
    let (left, right) = match spec.align.unwrap_or(default) {
        Align::Left => (0, padding),
        Align::Right => (padding, 0),
        Align::Center => (padding / 2, padding - padding / 2),
    };
    let mut fill = [0; 4];
    let fill = spec.fill.encode_utf8(&mut fill).as_bytes();
    // At most 65535 fill characters (the width's bound) and a body that
    // exists: no overflow.
    let (out, dst) = alloc_str_uninit(body.len() + padding * fill.len());
    let mut at = 0;
    for _ in 0..left {
        dst[at..at + fill.len()].copy_from_slice(fill);
        at += fill.len();
    }
    dst[at..at + body.len()].copy_from_slice(body.as_bytes());
    at += body.len();
    for _ in 0..right {
        dst[at..at + fill.len()].copy_from_slice(fill);
        at += fill.len();
    }
    out
}

/// A number's text in parts: `sign prefix digits rest`, where `digits` are
/// the integer part's (zero-padded and grouped here) and `rest` the
/// fraction and exponent, or `inf`/`NaN` (with no digits).
struct NumberParts<'a> {
    sign: &'static str,
    prefix: &'static str,
    digits: &'a str,
    rest: &'a str,
    /// Digits per group when grouping: 3, or 4 for `x`, `X`, `o`, `b`.
    group: usize,
}

/// The sign of a number: `-` if negative, `+` if the spec asks for it.
fn sign(negative: bool, spec: &Spec) -> &'static str {
    match (negative, spec.sign) {
        (true, _) => "-",
        (false, Some(Sign::Plus)) => "+",
        (false, _) => "",
    }
}

/// The formatted number: zero padding (sign-aware, between the prefix and
/// the digits, grouped like the digits) or fill to the spec's width.
fn format_number(parts: &NumberParts<'_>, spec: &Spec) -> *const u8 {
    // `inf` and `NaN` have no digits to group (zeros may pad them).
    let separator = if parts.digits.is_empty() { None } else { spec.grouping.map(Grouping::separator) };
    let group = parts.group;
    let grouped_len = |digits: usize| match separator {
        Some(_) if digits > 0 => digits + (digits - 1) / group,
        _ => digits,
    };
    // The other parts are ASCII: their bytes are characters.
    let others = parts.sign.len() + parts.prefix.len() + parts.rest.len();
    let mut digits = parts.digits.len();
    if spec.zero {
        let needed = spec.width.saturating_sub(others);
        // Where a separator would lead, one more zero instead (as Python).
        while grouped_len(digits) < needed {
            digits += 1;
        }
    }
    let zeros = digits - parts.digits.len();
    let mut body = String::with_capacity(others + grouped_len(digits));
    body.push_str(parts.sign);
    body.push_str(parts.prefix);
    for (i, digit) in std::iter::repeat_n('0', zeros).chain(parts.digits.chars()).enumerate() {
        if let Some(separator) = separator.filter(|_| i > 0 && (digits - i).is_multiple_of(group)) {
            body.push(separator);
        }
        body.push(digit);
    }
    body.push_str(parts.rest);
    padded(&body, spec, Align::Right)
}

/// `{n:SPEC}` for an `i64`.
///
/// Integer types: none or `d` decimal, `x`/`X` hexadecimal, `o` octal, `b`
/// binary. A negative number is written as a sign and its magnitude in
/// any base (`-ff`, as Python), not in two's complement (as Rust).
///
/// # Safety
/// `spec` must be a live `str`.
pub unsafe extern "C" fn spl_format_i64(value: i64, spec: *const u8) -> *const u8 {
    heap::maybe_collect(&[spec.cast()]);
    // SAFETY: per the contract.
    let spec = unsafe { spec_for(spec, SpecType::I64) };
    if spec == Spec::default() {
        return spl_str_from_i64(value);
    }
    let magnitude = value.unsigned_abs();
    let (digits, prefix) = match spec.kind {
        Kind::Hex => (format!("{magnitude:x}"), "0x"),
        Kind::UpperHex => (format!("{magnitude:X}"), "0x"),
        Kind::Octal => (format!("{magnitude:o}"), "0o"),
        Kind::Binary => (format!("{magnitude:b}"), "0b"),
        _ => (magnitude.to_string(), ""),
    };
    let parts = NumberParts {
        sign: sign(value < 0, &spec),
        prefix: if spec.alternate { prefix } else { "" },
        digits: &digits,
        rest: "",
        group: if spec.kind.is_radix() { 4 } else { 3 },
    };
    format_number(&parts, &spec)
}

/// `{x:SPEC}` for an `f64`.
///
/// No type: the value's own text (`str(x)`), or with a precision `.N`
/// fixed-point with `N` decimals (Rust's `{:.N}`); `f` fixed-point with 6
/// decimals unless a precision says otherwise; `e`/`E` scientific as
/// Rust's `{:e}` (`1.5e3`; with a precision, `{:.2e}` is `1.50e3`).
/// `inf`, `-inf` and `NaN` are written as `str(x)` writes them (NaN never
/// takes a sign).
///
/// # Safety
/// `spec` must be a live `str`.
pub unsafe extern "C" fn spl_format_f64(value: f64, spec: *const u8) -> *const u8 {
    heap::maybe_collect(&[spec.cast()]);
    // SAFETY: per the contract.
    let spec = unsafe { spec_for(spec, SpecType::F64) };
    if spec == Spec::default() {
        return spl_str_from_f64(value);
    }
    let magnitude = value.abs();
    let text = match (spec.kind, spec.precision) {
        (Kind::Exp, None) => format!("{magnitude:e}"),
        (Kind::Exp, Some(p)) => format!("{magnitude:.p$e}"),
        (Kind::UpperExp, None) => format!("{magnitude:E}"),
        (Kind::UpperExp, Some(p)) => format!("{magnitude:.p$E}"),
        (Kind::Fixed, None) => format!("{magnitude:.6}"),
        (_, Some(p)) => format!("{magnitude:.p$}"),
        (_, None) => String::from_utf8_lossy(f64_text(magnitude).as_bytes()).into_owned(),
    };
    let integer = text.bytes().take_while(u8::is_ascii_digit).count();
    let parts = NumberParts {
        sign: if value.is_nan() { "" } else { sign(value.is_sign_negative(), &spec) },
        prefix: "",
        digits: &text[..integer],
        rest: &text[integer..],
        group: 3,
    };
    format_number(&parts, &spec)
}

/// `whole` (the text of the `str` `s`) formatted as a text: at most
/// `precision` characters, padded to the width, left-aligned unless the
/// spec says otherwise; `s` itself if that changes nothing.
fn format_text(s: *const u8, whole: &str, spec: &Spec) -> *const u8 {
    let text = match spec.precision {
        Some(max) => whole.char_indices().nth(max).map_or(whole, |(end, _)| &whole[..end]),
        None => whole,
    };
    let short = spec.width > 0 && text.chars().nth(spec.width - 1).is_none();
    if !short && text.len() == whole.len() {
        return s;
    }
    padded(text, spec, Align::Left)
}

/// `{s:SPEC}` for a `str`: `.N` keeps at most `N` characters; the width
/// counts characters.
///
/// # Safety
/// `s` and `spec` must be live `str` values.
pub unsafe extern "C" fn spl_format_str(s: *const u8, spec: *const u8) -> *const u8 {
    heap::maybe_collect(&[s.cast(), spec.cast()]);
    // SAFETY: per the contract.
    let spec = unsafe { spec_for(spec, SpecType::Str) };
    // SAFETY: per the contract; a `str` holds UTF-8.
    let text = unsafe { std::str::from_utf8_unchecked(str_bytes(s)) };
    format_text(s, text, &spec)
}

/// `{b:SPEC}` for a `bool`: its text, `true` or `false`, formatted as a
/// `str`.
///
/// # Safety
/// `spec` must be a live `str`.
pub unsafe extern "C" fn spl_format_bool(value: u8, spec: *const u8) -> *const u8 {
    heap::maybe_collect(&[spec.cast()]);
    // SAFETY: per the contract.
    let spec = unsafe { spec_for(spec, SpecType::Bool) };
    let s = bool_str(value);
    // SAFETY: `bool_str` gives a static `str`.
    let text = unsafe { std::str::from_utf8_unchecked(str_bytes(s)) };
    format_text(s, text, &spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strings::alloc_str;

    fn s(text: &str) -> *const u8 {
        alloc_str(text.as_bytes())
    }

    fn t(s: *const u8) -> String {
        String::from_utf8(unsafe { str_bytes(s) }.to_vec()).unwrap()
    }

    fn int(value: i64, spec: &str) -> String {
        t(unsafe { spl_format_i64(value, s(spec)) })
    }

    fn float(value: f64, spec: &str) -> String {
        t(unsafe { spl_format_f64(value, s(spec)) })
    }

    fn text(value: &str, spec: &str) -> String {
        t(unsafe { spl_format_str(s(value), s(spec)) })
    }

    fn boolean(value: bool, spec: &str) -> String {
        t(unsafe { spl_format_bool(u8::from(value), s(spec)) })
    }

    #[test]
    fn integers_align_right_by_default() {
        assert_eq!(int(42, ""), "42");
        assert_eq!(int(-42, ""), "-42");
        assert_eq!(int(42, "8"), "      42");
        assert_eq!(int(42, ">8"), "      42");
        assert_eq!(int(42, "<8"), "42      ");
        assert_eq!(int(42, "^8"), "   42   ");
        assert_eq!(int(42, "^7"), "  42   ");
        assert_eq!(int(42, "*>8"), "******42");
        assert_eq!(int(-42, "_<6"), "-42___");
        assert_eq!(int(1, "é^5"), "éé1éé");
        assert_eq!(int(12345, "3"), "12345");
        assert_eq!(int(42, "0>5"), "00042");
        assert_eq!(int(-42, "0>5"), "00-42");
    }

    #[test]
    fn integers_zero_padded_and_signed() {
        assert_eq!(int(42, "08"), "00000042");
        assert_eq!(int(-42, "08"), "-0000042");
        assert_eq!(int(42, "+08"), "+0000042");
        assert_eq!(int(42, "+"), "+42");
        assert_eq!(int(0, "+"), "+0");
        assert_eq!(int(-5, "+"), "-5");
        assert_eq!(int(5, "-"), "5");
        assert_eq!(int(-5, "-"), "-5");
        assert_eq!(int(5, "0"), "5");
        assert_eq!(int(123456, "04"), "123456");
        assert_eq!(int(i64::MIN, "025"), "-000009223372036854775808");
        assert_eq!(int(42, "d"), "42");
        assert_eq!(int(42, "+5d"), "  +42");
    }

    #[test]
    fn integers_in_other_bases() {
        assert_eq!(int(255, "x"), "ff");
        assert_eq!(int(255, "X"), "FF");
        assert_eq!(int(255, "#x"), "0xff");
        assert_eq!(int(255, "#X"), "0xFF");
        assert_eq!(int(8, "o"), "10");
        assert_eq!(int(8, "#o"), "0o10");
        assert_eq!(int(5, "b"), "101");
        assert_eq!(int(5, "#b"), "0b101");
        assert_eq!(int(0, "b"), "0");
        assert_eq!(int(5, "#010b"), "0b00000101");
        assert_eq!(int(5, "08b"), "00000101");
        assert_eq!(int(255, ">6x"), "    ff");
        // Negative numbers: a sign and the magnitude, as Python.
        assert_eq!(int(-255, "x"), "-ff");
        assert_eq!(int(-255, "#x"), "-0xff");
        assert_eq!(int(-255, "#010x"), "-0x00000ff");
        assert_eq!(int(255, "+#x"), "+0xff");
        assert_eq!(int(i64::MIN, "x"), "-8000000000000000");
        assert_eq!(int(i64::MAX, "X"), "7FFFFFFFFFFFFFFF");
        assert_eq!(int(i64::MIN, "b"), format!("-1{}", "0".repeat(63)));
    }

    #[test]
    fn integers_grouped() {
        assert_eq!(int(1234567, ","), "1,234,567");
        assert_eq!(int(-1234, ","), "-1,234");
        assert_eq!(int(123, ","), "123");
        assert_eq!(int(0, ","), "0");
        assert_eq!(int(1234567, "_"), "1_234_567");
        assert_eq!(int(i64::MIN, ","), "-9,223,372,036,854,775,808");
        assert_eq!(int(0xffff_ffff, "_x"), "ffff_ffff");
        assert_eq!(int(0x1_0000, "#_x"), "0x1_0000");
        assert_eq!(int(5, "_b"), "101");
        assert_eq!(int(1234, ">8,"), "   1,234");
        // Zero padding is grouped too, and a separator never leads (as
        // Python).
        assert_eq!(int(1234, "010,"), "00,001,234");
        assert_eq!(int(1234, "08,"), "0,001,234");
        assert_eq!(int(1234, "06,"), "01,234");
        assert_eq!(int(-1234, "07,"), "-01,234");
        assert_eq!(int(0, "05,"), "0,000");
        assert_eq!(int(1, "04,"), "0,001");
        assert_eq!(int(255, "#09_x"), "0x00_00ff");
    }

    #[test]
    fn floats() {
        assert_eq!(float(1.0, ""), "1.0");
        assert_eq!(float(1e21, ""), "1e21");
        assert_eq!(float(0.1, ".9f"), "0.100000000");
        assert_eq!(float(3.14659, ".2f"), "3.15");
        assert_eq!(float(1.5, "f"), "1.500000");
        assert_eq!(float(2.0, ".3"), "2.000");
        assert_eq!(float(2.5, ".0"), "2");
        assert_eq!(float(3.5, ".0f"), "4");
        assert_eq!(float(1.25, "^9.1f"), "   1.2   ");
        assert_eq!(float(3.14659, ">10.3f"), "     3.147");
        assert_eq!(float(1.5, "<10"), "1.5       ");
        assert_eq!(float(1.5, "10"), "       1.5");
        assert_eq!(float(1e21, ".1f"), "1000000000000000000000.0");
        assert_eq!(float(1.0, ".65535f").len(), 65537);
    }

    #[test]
    fn floats_in_scientific_notation() {
        assert_eq!(float(1500.0, "e"), "1.5e3");
        assert_eq!(float(1500.0, ".2e"), "1.50e3");
        assert_eq!(float(1500.0, "E"), "1.5E3");
        assert_eq!(float(1500.0, ".0e"), "2e3");
        assert_eq!(float(0.00012, "e"), "1.2e-4");
        assert_eq!(float(0.0, "e"), "0e0");
        assert_eq!(float(-1500.0, "e"), "-1.5e3");
        assert_eq!(float(1500.0, "+e"), "+1.5e3");
        assert_eq!(float(-1500.0, "010.2e"), "-0001.50e3");
        assert_eq!(float(1e300, "e"), "1e300");
    }

    #[test]
    fn floats_signed_padded_and_grouped() {
        assert_eq!(float(2.0, "+.1f"), "+2.0");
        assert_eq!(float(2.0, "+"), "+2.0");
        assert_eq!(float(-0.0, ""), "-0.0");
        assert_eq!(float(-0.0, "+"), "-0.0");
        assert_eq!(float(-0.04, ".1f"), "-0.0");
        assert_eq!(float(-3.14659, "08.2f"), "-0003.15");
        assert_eq!(float(-1.5, "08"), "-00001.5");
        assert_eq!(float(1234567.891, ",.2f"), "1,234,567.89");
        assert_eq!(float(1234.5, ","), "1,234.5");
        assert_eq!(float(1234.5, "_"), "1_234.5");
        assert_eq!(float(1e21, ","), "1e21");
        assert_eq!(float(-1234.5, "010,.1f"), "-001,234.5");
        assert_eq!(float(1234.5, "010,.1f"), "0,001,234.5");
    }

    #[test]
    fn floats_that_are_not_finite() {
        assert_eq!(float(f64::INFINITY, "08"), "00000inf");
        assert_eq!(float(f64::NEG_INFINITY, "+08"), "-0000inf");
        assert_eq!(float(f64::INFINITY, "+"), "+inf");
        assert_eq!(float(f64::INFINITY, ",.2f"), "inf");
        assert_eq!(float(f64::NEG_INFINITY, ".2f"), "-inf");
        assert_eq!(float(f64::NAN, "+"), "NaN");
        assert_eq!(float(f64::NAN, "8"), "     NaN");
        assert_eq!(float(f64::NAN, "<8.2e"), "NaN     ");
        assert_eq!(float(f64::NAN, "08.2f"), "00000NaN");
        assert_eq!(float(-f64::NAN, ".2f"), "NaN");
    }

    #[test]
    fn strings_align_left_by_default() {
        assert_eq!(text("abc", "10"), "abc       ");
        assert_eq!(text("abc", "<5"), "abc  ");
        assert_eq!(text("é", ">5"), "    é");
        assert_eq!(text("ab", "^6"), "  ab  ");
        assert_eq!(text("ab", "*^7"), "**ab***");
        assert_eq!(text("日本", "-^6"), "--日本--");
        assert_eq!(text("héllo", ".2"), "hé");
        assert_eq!(text("héllo", "5.1"), "h    ");
        assert_eq!(text("héllo", ">4.3s"), " hél");
        assert_eq!(text("abc", ".0"), "");
        assert_eq!(text("", "3"), "   ");
        assert_eq!(text("", ""), "");
        // Nothing to change: the argument itself.
        for spec in ["", "s", "2", ".10", "<3", "^3.3"] {
            let value = s("abc");
            assert_eq!(unsafe { spl_format_str(value, s(spec)) }, value, "{spec:?}");
        }
    }

    #[test]
    fn booleans_format_as_their_text() {
        assert_eq!(boolean(true, ""), "true");
        assert_eq!(boolean(false, ""), "false");
        assert_eq!(boolean(true, ">6"), "  true");
        assert_eq!(boolean(false, "<6"), "false ");
        assert_eq!(boolean(true, "6"), "true  ");
        assert_eq!(boolean(true, "^8"), "  true  ");
        assert_eq!(boolean(true, ".1"), "t");
        assert_eq!(boolean(false, "s"), "false");
    }

    #[test]
    fn a_spec_that_is_invalid_or_does_not_apply_is_the_empty_spec() {
        assert_eq!(int(42, ".2"), "42");
        assert_eq!(int(42, "f"), "42");
        assert_eq!(int(42, "s"), "42");
        assert_eq!(int(42, "q"), "42");
        assert_eq!(int(42, "8 "), "42");
        assert_eq!(int(42, "<08"), "42");
        assert_eq!(int(42, "99999999"), "42");
        assert_eq!(float(1.5, "x"), "1.5");
        assert_eq!(float(1.5, "#x"), "1.5");
        assert_eq!(float(1.5, "d"), "1.5");
        assert_eq!(float(1.5, "s"), "1.5");
        assert_eq!(text("ab", "+"), "ab");
        assert_eq!(text("ab", "08"), "ab");
        assert_eq!(text("ab", "x"), "ab");
        assert_eq!(text("ab", ".f"), "ab");
        assert_eq!(boolean(true, "d"), "true");
        assert_eq!(boolean(true, "+"), "true");
        // Not UTF-8.
        let bad = alloc_str(b"\xff>8");
        assert_eq!(t(unsafe { spl_format_i64(7, bad) }), "7");
    }
}
