//! Syntax errors: values with an absolute span and a `Display` message.

use std::fmt;

use crate::Span;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyntaxError {
    pub kind: SyntaxErrorKind,
    /// Absolute byte range in the file.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SyntaxErrorKind {
    /// A string literal reaches the end of its line or of the file.
    UnterminatedString,
    /// A character that starts no token, such as `$`.
    InvalidCharacter(char),
    /// `\q` in a string: the character after the backslash.
    InvalidEscape(char),
    /// `\u{...}` that is not a hex code point of a valid `char`.
    InvalidUnicodeEscape,
    /// `0x`, `0b102`, `1e`, `12abc`, ...
    MalformedNumber,
    /// A line dedents to a column that no enclosing block uses.
    UnindentMismatch,
    /// A line is indented deeper although no block was opened.
    UnexpectedIndent,
    /// `expected X, found Y`; both are written as users see them
    /// (`` `:` ``, `expression`, `identifier`, `newline`, `end of file`).
    Expected { expected: &'static str, found: &'static str },
    /// `"{}"`: an interpolation without an expression.
    EmptyInterpolation,
    /// Nesting beyond what the parser accepts (protects the stack).
    NestedTooDeeply,
    /// The left side of `=` or `op=` is not a place.
    InvalidAssignTarget,
}

impl fmt::Display for SyntaxErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyntaxErrorKind::UnterminatedString => write!(f, "unterminated string"),
            SyntaxErrorKind::InvalidCharacter(c) => {
                write!(f, "invalid character `{}`", c.escape_debug())
            }
            SyntaxErrorKind::InvalidEscape(c) => {
                write!(f, "invalid escape sequence `\\{}`", c.escape_debug())
            }
            SyntaxErrorKind::InvalidUnicodeEscape => write!(f, "invalid unicode escape"),
            SyntaxErrorKind::MalformedNumber => write!(f, "malformed number literal"),
            SyntaxErrorKind::UnindentMismatch => {
                write!(f, "unindent does not match any outer indentation level")
            }
            SyntaxErrorKind::UnexpectedIndent => write!(f, "unexpected indent"),
            SyntaxErrorKind::Expected { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            SyntaxErrorKind::EmptyInterpolation => write!(f, "empty interpolation `{{}}`"),
            SyntaxErrorKind::NestedTooDeeply => write!(f, "expression nested too deeply"),
            SyntaxErrorKind::InvalidAssignTarget => write!(f, "invalid assignment target"),
        }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for SyntaxError {}
