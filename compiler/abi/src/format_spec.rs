//! Format specs of interpolations: the `SPEC` of `"{x:SPEC}"`.
//!
//! The compiler parses each spec literal with [`parse`], reports a
//! [`SpecError`] at compile time, and checks with [`Spec::accepts`] that the
//! spec applies to the interpolated value's type. It then passes the spec's
//! text to the runtime (`spl_format_i64`, `_f64`, `_str`, `_bool`), which
//! parses it again and formats; there an invalid spec, or one that does not
//! apply, counts as the empty spec.
//!
//! The grammar (Python's and Rust's, less what neither user would miss):
//!
//! ```text
//! spec      := [[fill] align] [sign] ['#'] ['0'] [width] [grouping] ['.' precision] [type]
//! fill      := any character
//! align     := '<' | '>' | '^'
//! sign      := '+' | '-'
//! width     := digits            (at most 65535)
//! grouping  := ',' | '_'
//! precision := digits            (at most 65535)
//! type      := 'd' | 'x' | 'X' | 'o' | 'b' | 'f' | 'e' | 'E' | 's'
//! ```
//!
//! A spec must apply to at least one type, so [`parse`] also rejects
//! combinations such as a precision with an integer type; which types a
//! valid spec applies to is [`Spec::accepts`].

use std::fmt;

/// Width and precision are at most this (as in Rust's `format!`).
pub const MAX_COUNT: usize = u16::MAX as usize;

/// Where the text goes within the width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// `<`: the default for `str` and `bool`.
    Left,
    /// `>`: the default for numbers.
    Right,
    /// `^`: extra fill goes to the right.
    Center,
}

/// The sign option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// `+`: a sign on non-negative numbers too.
    Plus,
    /// `-`: a sign only on negative numbers (the default, spelled out).
    Minus,
}

/// The digit grouping option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// `,` every three decimal digits.
    Comma,
    /// `_` every three decimal digits, or every four of `x`, `X`, `o`, `b`.
    Underscore,
}

impl Grouping {
    pub fn separator(self) -> char {
        match self {
            Grouping::Comma => ',',
            Grouping::Underscore => '_',
        }
    }
}

/// The presentation type, the spec's last character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No type: a value's own text (`str(x)`), or fixed-point for a float
    /// with a precision.
    Plain,
    /// `d`: decimal integer.
    Decimal,
    /// `x`: lowercase hexadecimal integer.
    Hex,
    /// `X`: uppercase hexadecimal integer.
    UpperHex,
    /// `o`: octal integer.
    Octal,
    /// `b`: binary integer.
    Binary,
    /// `f`: fixed-point float, six decimals unless a precision is given.
    Fixed,
    /// `e`: scientific float as Rust writes it (`1.5e3`).
    Exp,
    /// `E`: the same with `E`.
    UpperExp,
    /// `s`: text (`str`, `bool`).
    Str,
}

impl Kind {
    fn from_char(c: char) -> Option<Kind> {
        Some(match c {
            'd' => Kind::Decimal,
            'x' => Kind::Hex,
            'X' => Kind::UpperHex,
            'o' => Kind::Octal,
            'b' => Kind::Binary,
            'f' => Kind::Fixed,
            'e' => Kind::Exp,
            'E' => Kind::UpperExp,
            's' => Kind::Str,
            _ => return None,
        })
    }

    /// The type's character (none for [`Kind::Plain`]).
    pub fn letter(self) -> Option<char> {
        Some(match self {
            Kind::Plain => return None,
            Kind::Decimal => 'd',
            Kind::Hex => 'x',
            Kind::UpperHex => 'X',
            Kind::Octal => 'o',
            Kind::Binary => 'b',
            Kind::Fixed => 'f',
            Kind::Exp => 'e',
            Kind::UpperExp => 'E',
            Kind::Str => 's',
        })
    }

    /// `x`, `X`, `o` or `b`.
    pub fn is_radix(self) -> bool {
        matches!(self, Kind::Hex | Kind::UpperHex | Kind::Octal | Kind::Binary)
    }

    fn is_integer(self) -> bool {
        self == Kind::Decimal || self.is_radix()
    }
}

/// The types a spec can apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecType {
    I64,
    F64,
    Str,
    Bool,
}

impl SpecType {
    pub const ALL: [SpecType; 4] = [SpecType::I64, SpecType::F64, SpecType::Str, SpecType::Bool];
}

impl fmt::Display for SpecType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SpecType::I64 => "i64",
            SpecType::F64 => "f64",
            SpecType::Str => "str",
            SpecType::Bool => "bool",
        })
    }
}

/// A parsed spec. `Spec::default()` is the empty spec: the value's own text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The padding character (`' '` unless given).
    pub fill: char,
    /// `None`: the type's default (numbers right, text left).
    pub align: Option<Align>,
    pub sign: Option<Sign>,
    /// `#`: a `0x`, `0o` or `0b` prefix (only with `x`, `X`, `o`, `b`).
    pub alternate: bool,
    /// `0`: pad with zeros between the sign (and prefix) and the digits.
    pub zero: bool,
    /// The minimum width in characters (0: none).
    pub width: usize,
    pub grouping: Option<Grouping>,
    /// Digits after the point of a float; the maximum number of characters
    /// of text.
    pub precision: Option<usize>,
    pub kind: Kind,
}

impl Default for Spec {
    fn default() -> Spec {
        Spec {
            fill: ' ',
            align: None,
            sign: None,
            alternate: false,
            zero: false,
            width: 0,
            grouping: None,
            precision: None,
            kind: Kind::Plain,
        }
    }
}

/// Why a spec is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("unknown format type `{0}`; expected one of `d`, `x`, `X`, `o`, `b`, `f`, `e`, `E`, `s`")]
    UnknownType(char),
    #[error("unexpected `{0}` in format spec")]
    Unexpected(char),
    #[error("expected a precision (digits) after `.` in format spec")]
    MissingPrecision,
    #[error("format width is too large (at most 65535)")]
    WidthTooLarge,
    #[error("format precision is too large (at most 65535)")]
    PrecisionTooLarge,
    #[error("`0` padding cannot be combined with an alignment; use a fill character instead (`0>8`)")]
    ZeroWithAlign,
    #[error("`#` needs one of the format types `x`, `X`, `o`, `b`")]
    AlternateWithoutRadix,
    #[error("precision is not allowed with the integer format type `{0}`")]
    PrecisionWithInteger(char),
    #[error("`{0}` applies only to numbers, not to the format type `s`")]
    NumberOptionWithStr(char),
    #[error("`,` cannot group the digits of format type `{0}`; use `_`")]
    CommaWithRadix(char),
}

/// Parses a spec (the text after the `:` of an interpolation).
pub fn parse(text: &str) -> Result<Spec, SpecError> {
    let mut spec = Spec::default();
    let mut rest = text;

    let align_of = |c: char| match c {
        '<' => Some(Align::Left),
        '>' => Some(Align::Right),
        '^' => Some(Align::Center),
        _ => None,
    };
    let mut chars = rest.chars();
    let first = chars.next();
    let second = chars.next();
    if let (Some(fill), Some(align)) = (first, second.and_then(align_of)) {
        spec.fill = fill;
        spec.align = Some(align);
        rest = chars.as_str();
    } else if let Some(align) = first.and_then(align_of) {
        spec.align = Some(align);
        rest = &rest[1..];
    }

    if let Some(after) = rest.strip_prefix('+') {
        spec.sign = Some(Sign::Plus);
        rest = after;
    } else if let Some(after) = rest.strip_prefix('-') {
        spec.sign = Some(Sign::Minus);
        rest = after;
    }
    if let Some(after) = rest.strip_prefix('#') {
        spec.alternate = true;
        rest = after;
    }
    if let Some(after) = rest.strip_prefix('0') {
        spec.zero = true;
        rest = after;
    }
    let (width, after) = count(rest).map_err(|()| SpecError::WidthTooLarge)?;
    spec.width = width.unwrap_or(0);
    rest = after;
    if let Some(after) = rest.strip_prefix(',') {
        spec.grouping = Some(Grouping::Comma);
        rest = after;
    } else if let Some(after) = rest.strip_prefix('_') {
        spec.grouping = Some(Grouping::Underscore);
        rest = after;
    }
    if let Some(after) = rest.strip_prefix('.') {
        let (precision, after) = count(after).map_err(|()| SpecError::PrecisionTooLarge)?;
        spec.precision = Some(precision.ok_or(SpecError::MissingPrecision)?);
        rest = after;
    }
    let mut chars = rest.chars();
    if let Some(c) = chars.next() {
        match Kind::from_char(c) {
            Some(kind) => spec.kind = kind,
            None if c.is_ascii_alphabetic() => return Err(SpecError::UnknownType(c)),
            None => return Err(SpecError::Unexpected(c)),
        }
    }
    if let Some(c) = chars.next() {
        return Err(SpecError::Unexpected(c));
    }
    spec.check()?;
    Ok(spec)
}

/// Leading decimal digits: their value (`None` if there are none) and the
/// rest; `Err` if the value exceeds [`MAX_COUNT`].
fn count(text: &str) -> Result<(Option<usize>, &str), ()> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Ok((None, text));
    }
    let mut value = 0usize;
    for b in text[..digits].bytes() {
        value = value * 10 + usize::from(b - b'0');
        if value > MAX_COUNT {
            return Err(());
        }
    }
    Ok((Some(value), &text[digits..]))
}

impl Spec {
    /// Rejects the combinations that apply to no type.
    fn check(&self) -> Result<(), SpecError> {
        if self.zero && self.align.is_some() {
            return Err(SpecError::ZeroWithAlign);
        }
        if self.alternate && !self.kind.is_radix() {
            return Err(SpecError::AlternateWithoutRadix);
        }
        let letter = self.kind.letter().unwrap_or(' ');
        if self.kind.is_integer() && self.precision.is_some() {
            return Err(SpecError::PrecisionWithInteger(letter));
        }
        if self.kind.is_radix() && self.grouping == Some(Grouping::Comma) {
            return Err(SpecError::CommaWithRadix(letter));
        }
        if self.kind == Kind::Str {
            let number_option = match (self.sign, self.zero, self.grouping) {
                (Some(Sign::Plus), ..) => Some('+'),
                (Some(Sign::Minus), ..) => Some('-'),
                (_, true, _) => Some('0'),
                (.., Some(grouping)) => Some(grouping.separator()),
                _ => None,
            };
            if let Some(option) = number_option {
                return Err(SpecError::NumberOptionWithStr(option));
            }
        }
        Ok(())
    }

    /// Whether the spec has an option that only numbers take.
    fn has_number_option(&self) -> bool {
        self.sign.is_some() || self.zero || self.grouping.is_some() || self.alternate
    }

    /// Whether the spec applies to a value of type `ty`.
    pub fn accepts(&self, ty: SpecType) -> bool {
        match ty {
            SpecType::I64 => (self.kind == Kind::Plain && self.precision.is_none()) || self.kind.is_integer(),
            SpecType::F64 => matches!(self.kind, Kind::Plain | Kind::Fixed | Kind::Exp | Kind::UpperExp),
            SpecType::Str | SpecType::Bool => matches!(self.kind, Kind::Plain | Kind::Str) && !self.has_number_option(),
        }
    }

    pub fn accepts_int(&self) -> bool {
        self.accepts(SpecType::I64)
    }

    pub fn accepts_float(&self) -> bool {
        self.accepts(SpecType::F64)
    }

    pub fn accepts_str(&self) -> bool {
        self.accepts(SpecType::Str)
    }

    pub fn accepts_bool(&self) -> bool {
        self.accepts(SpecType::Bool)
    }

    /// The types the spec applies to (never empty for a parsed spec), for a
    /// diagnostic such as "format spec `x` applies to `i64`, not `f64`".
    pub fn accepted_types(&self) -> impl Iterator<Item = SpecType> + '_ {
        SpecType::ALL.into_iter().filter(|&ty| self.accepts(ty))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(text: &str) -> String {
        let spec = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        spec.accepted_types().map(|t| t.to_string()).collect::<Vec<_>>().join(" ")
    }

    fn error(text: &str) -> String {
        parse(text).expect_err(text).to_string()
    }

    #[test]
    fn the_empty_spec_is_the_default() {
        assert_eq!(parse(""), Ok(Spec::default()));
        assert_eq!(types(""), "i64 f64 str bool");
    }

    #[test]
    fn every_part() {
        let spec = parse("*^+#012_.3x").unwrap_err();
        assert_eq!(spec, SpecError::ZeroWithAlign);
        let spec = parse("*^+#12_x").unwrap();
        assert_eq!(
            spec,
            Spec {
                fill: '*',
                align: Some(Align::Center),
                sign: Some(Sign::Plus),
                alternate: true,
                zero: false,
                width: 12,
                grouping: Some(Grouping::Underscore),
                precision: None,
                kind: Kind::Hex,
            }
        );
        let spec = parse("-010,.2f").unwrap();
        assert_eq!((spec.sign, spec.zero, spec.width), (Some(Sign::Minus), true, 10));
        assert_eq!((spec.grouping, spec.precision, spec.kind), (Some(Grouping::Comma), Some(2), Kind::Fixed));
    }

    #[test]
    fn fill_and_alignment() {
        assert_eq!(parse(">8").unwrap().align, Some(Align::Right));
        assert_eq!(parse("<").unwrap().align, Some(Align::Left));
        let spec = parse("é^5").unwrap();
        assert_eq!((spec.fill, spec.align, spec.width), ('é', Some(Align::Center), 5));
        // Any character fills, even one with a meaning of its own.
        for fill in ['0', '<', '>', '.', '#', 'x', '{'] {
            let spec = parse(&format!("{fill}>3")).unwrap();
            assert_eq!((spec.fill, spec.align, spec.width), (fill, Some(Align::Right), 3));
        }
        // A lone fill character is not a fill.
        assert_eq!(error("*8"), "unexpected `*` in format spec");
    }

    #[test]
    fn zero_padding_and_width() {
        let spec = parse("08").unwrap();
        assert_eq!((spec.zero, spec.width, spec.fill), (true, 8, ' '));
        let spec = parse("0").unwrap();
        assert_eq!((spec.zero, spec.width), (true, 0));
        assert_eq!(parse("10").unwrap().width, 10);
        assert_eq!(parse("65535").unwrap().width, 65535);
        assert_eq!(parse("000065535").unwrap().width, 65535);
        assert_eq!(error("65536"), "format width is too large (at most 65535)");
        assert_eq!(error("99999999999999999999999"), "format width is too large (at most 65535)");
    }

    #[test]
    fn precision() {
        assert_eq!(parse(".9f").unwrap().precision, Some(9));
        assert_eq!(parse(".0").unwrap().precision, Some(0));
        assert_eq!(error(".f"), "expected a precision (digits) after `.` in format spec");
        assert_eq!(error("."), "expected a precision (digits) after `.` in format spec");
        assert_eq!(error(".65536"), "format precision is too large (at most 65535)");
    }

    #[test]
    fn which_types_a_spec_applies_to() {
        assert_eq!(types("8"), "i64 f64 str bool");
        assert_eq!(types(">8"), "i64 f64 str bool");
        assert_eq!(types("*<8"), "i64 f64 str bool");
        assert_eq!(types("08"), "i64 f64");
        assert_eq!(types("+"), "i64 f64");
        assert_eq!(types("-"), "i64 f64");
        assert_eq!(types(","), "i64 f64");
        assert_eq!(types("_"), "i64 f64");
        assert_eq!(types(".3"), "f64 str bool");
        assert_eq!(types("10.3"), "f64 str bool");
        assert_eq!(types("d"), "i64");
        assert_eq!(types("x"), "i64");
        assert_eq!(types("#X"), "i64");
        assert_eq!(types("#010b"), "i64");
        assert_eq!(types("_o"), "i64");
        assert_eq!(types("f"), "f64");
        assert_eq!(types(".9f"), "f64");
        assert_eq!(types("e"), "f64");
        assert_eq!(types("+.2E"), "f64");
        assert_eq!(types(",.2f"), "f64");
        assert_eq!(types("s"), "str bool");
        assert_eq!(types("^10.2s"), "str bool");
        let spec = parse("x").unwrap();
        assert!(spec.accepts_int() && !spec.accepts_float() && !spec.accepts_str() && !spec.accepts_bool());
    }

    #[test]
    fn invalid_specs() {
        let unknown = "unknown format type `g`; expected one of `d`, `x`, `X`, `o`, `b`, `f`, `e`, `E`, `s`";
        assert_eq!(error("g"), unknown);
        assert_eq!(error(".2g"), unknown);
        assert_eq!(error("%"), "unexpected `%` in format spec");
        assert_eq!(error("xx"), "unexpected `x` in format spec");
        assert_eq!(error("8 "), "unexpected ` ` in format spec");
        assert_eq!(error(" 8"), "unexpected ` ` in format spec");
        assert_eq!(error("=8"), "unexpected `=` in format spec");
        assert_eq!(error("++"), "unexpected `+` in format spec");
        assert_eq!(error("0+8"), "unexpected `+` in format spec");
        assert_eq!(error(",,"), "unexpected `,` in format spec");
        assert_eq!(error("é"), "unexpected `é` in format spec");
        assert_eq!(
            error("<08"),
            "`0` padding cannot be combined with an alignment; use a fill character instead (`0>8`)"
        );
        assert_eq!(error("#"), "`#` needs one of the format types `x`, `X`, `o`, `b`");
        assert_eq!(error("#d"), "`#` needs one of the format types `x`, `X`, `o`, `b`");
        assert_eq!(error("#f"), "`#` needs one of the format types `x`, `X`, `o`, `b`");
        assert_eq!(error(".2x"), "precision is not allowed with the integer format type `x`");
        assert_eq!(error(".2d"), "precision is not allowed with the integer format type `d`");
        assert_eq!(error("+s"), "`+` applies only to numbers, not to the format type `s`");
        assert_eq!(error("-s"), "`-` applies only to numbers, not to the format type `s`");
        assert_eq!(error("05s"), "`0` applies only to numbers, not to the format type `s`");
        assert_eq!(error(",s"), "`,` applies only to numbers, not to the format type `s`");
        assert_eq!(error(",x"), "`,` cannot group the digits of format type `x`; use `_`");
    }

    #[test]
    fn every_parsed_spec_applies_to_some_type() {
        let parts: [&[&str]; 8] = [
            &["", "<", "*^"],
            &["", "+", "-"],
            &["", "#"],
            &["", "0"],
            &["", "7"],
            &["", ",", "_"],
            &["", ".2"],
            &["", "d", "x", "X", "o", "b", "f", "e", "E", "s"],
        ];
        let mut specs = vec![String::new()];
        for options in parts {
            specs = specs.iter().flat_map(|s| options.iter().map(move |o| format!("{s}{o}"))).collect();
        }
        let mut valid = 0;
        for text in &specs {
            if let Ok(spec) = parse(text) {
                valid += 1;
                assert!(spec.accepted_types().next().is_some(), "{text:?} applies to nothing");
            }
        }
        assert!(valid > 100, "{valid}");
    }
}
