//! `print`, `println`, `eprint`, `eprintln`: compiled code calls one of
//! these per argument, separator and newline, passing the stream number
//! (1 = stdout, 2 = stderr).

use super::number_text::{f64_text, i64_text};
use super::output::write_stream;
use super::strings::str_bytes;

/// Writes the text of the `str` `s`.
///
/// # Safety
/// `s` must be a live `str` value.
pub unsafe extern "C" fn spl_print_str(stream: i64, s: *const u8) {
    // SAFETY: per the contract.
    write_stream(stream, unsafe { str_bytes(s) });
}

pub extern "C" fn spl_print_i64(stream: i64, value: i64) {
    write_stream(stream, i64_text(value).as_bytes());
}

pub extern "C" fn spl_print_f64(stream: i64, value: f64) {
    write_stream(stream, f64_text(value).as_bytes());
}

/// Writes `true` or `false` for the byte `value` (0 or 1).
pub extern "C" fn spl_print_bool(stream: i64, value: u8) {
    let text: &[u8] = if value & 1 != 0 { b"true" } else { b"false" };
    write_stream(stream, text);
}

pub extern "C" fn spl_print_nil(stream: i64) {
    write_stream(stream, b"nil");
}
