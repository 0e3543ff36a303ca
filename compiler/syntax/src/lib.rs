//! The front end of Simple: text → tokens (with INDENT/DEDENT) → AST.
//!
//! Architecture invariant: this crate knows nothing of Salsa, types or the
//! file system. It takes a `&str` and returns plain data; every error is a
//! value with a span, and no input makes it panic.

pub mod ast;
mod error;
mod lexer;
mod parser;
pub mod print;
pub mod token;

pub use error::{SyntaxError, SyntaxErrorKind};
pub use lexer::lex;
pub use parser::{MAX_DEPTH, Parse, parse};
pub use print::{dump_ast, dump_tokens};
pub use token::{Token, TokenKind};

/// A byte range. Inside an item, relative to [`ast::TopItem::base`]; in a
/// [`SyntaxError`] or a [`token::Token`], absolute in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: u32, end: u32) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// This span moved by `base` bytes (relative → absolute).
    pub fn offset(self, base: u32) -> Span {
        Span { start: self.start + base, end: self.end + base }
    }
}
