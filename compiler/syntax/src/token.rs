//! Tokens: what the lexer produces and the parser consumes.
//!
//! Every token carries an absolute byte span into the source text. Identifier
//! text is not copied, and neither is an integer literal's value: read them
//! from the source with the span ([`int_value`]). String literals carry their
//! decoded parts, and each interpolation `{expr}` carries the tokens of its
//! expression (also with absolute spans), so the parser never re-lexes.
//!
//! A big file lexes to millions of tokens, all alive until parsing ends, so
//! `Token` is kept at 24 bytes: no `u128` payload (it would double the
//! alignment) and a thin pointer to a string literal's parts.

use crate::Span;
use crate::ast::FloatBits;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

const _: () = assert!(std::mem::size_of::<Token>() <= 24);

/// One piece of a string literal token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrSegment {
    /// Literal text, escapes decoded, `{{`/`}}` turned into braces.
    Text(String),
    /// `{expr}` or `{expr:spec}`. `tokens` lex `expr` and end with an `Eof`
    /// token placed where the expression text ends; `span` covers the braces.
    Interp { tokens: Vec<Token>, spec: Option<String>, span: Span },
}

macro_rules! keywords {
    ($($variant:ident => $text:literal,)*) => {
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum TokenKind {
            /// `[A-Za-z_][A-Za-z0-9_]*` that is not a keyword (this includes
            /// the contextual words `send`, `on`, `state`, `dyn`, `move`,
            /// `handle_pool` and `Self`).
            Ident,
            /// An integer literal; [`int_value`] of its text is its value.
            Int,
            Float(FloatBits),
            /// `"..."` (decoded, with interpolations) or raw `'...'` (one
            /// `Text` part, or none when empty). A `Box<Vec>` is one pointer
            /// wide; a `Vec` or a boxed slice would make every token larger
            /// for the sake of the few that are strings.
            Str(Box<Vec<StrSegment>>),
            $($variant,)*
            // Operators and punctuation.
            Plus,
            Minus,
            Star,
            Slash,
            SlashSlash,
            Percent,
            StarStar,
            Amp,
            Pipe,
            Caret,
            Tilde,
            Shl,
            Shr,
            EqEq,
            NotEq,
            Lt,
            Gt,
            Le,
            Ge,
            AmpAmp,
            PipePipe,
            Bang,
            Question,
            QuestionQuestion,
            Eq,
            PlusEq,
            MinusEq,
            StarEq,
            SlashEq,
            SlashSlashEq,
            PercentEq,
            StarStarEq,
            AmpEq,
            PipeEq,
            CaretEq,
            ShlEq,
            ShrEq,
            Dot,
            DotDot,
            DotDotEq,
            Colon,
            ColonColon,
            Comma,
            /// `->`
            Arrow,
            /// `=>`
            FatArrow,
            /// `\` (a lambda; a trailing `\` before a newline is a line
            /// continuation and produces no token).
            Backslash,
            LParen,
            RParen,
            LBracket,
            RBracket,
            LBrace,
            RBrace,
            // Layout.
            Newline,
            Indent,
            Dedent,
            Eof,
        }

        impl TokenKind {
            /// The keyword spelled `text`, if any.
            pub fn keyword(text: &str) -> Option<TokenKind> {
                match text {
                    $($text => Some(TokenKind::$variant),)*
                    _ => None,
                }
            }

            /// How the token is written, for fixed tokens.
            pub fn fixed_text(&self) -> Option<&'static str> {
                Some(match self {
                    $(TokenKind::$variant => $text,)*
                    TokenKind::Plus => "+",
                    TokenKind::Minus => "-",
                    TokenKind::Star => "*",
                    TokenKind::Slash => "/",
                    TokenKind::SlashSlash => "//",
                    TokenKind::Percent => "%",
                    TokenKind::StarStar => "**",
                    TokenKind::Amp => "&",
                    TokenKind::Pipe => "|",
                    TokenKind::Caret => "^",
                    TokenKind::Tilde => "~",
                    TokenKind::Shl => "<<",
                    TokenKind::Shr => ">>",
                    TokenKind::EqEq => "==",
                    TokenKind::NotEq => "!=",
                    TokenKind::Lt => "<",
                    TokenKind::Gt => ">",
                    TokenKind::Le => "<=",
                    TokenKind::Ge => ">=",
                    TokenKind::AmpAmp => "&&",
                    TokenKind::PipePipe => "||",
                    TokenKind::Bang => "!",
                    TokenKind::Question => "?",
                    TokenKind::QuestionQuestion => "??",
                    TokenKind::Eq => "=",
                    TokenKind::PlusEq => "+=",
                    TokenKind::MinusEq => "-=",
                    TokenKind::StarEq => "*=",
                    TokenKind::SlashEq => "/=",
                    TokenKind::SlashSlashEq => "//=",
                    TokenKind::PercentEq => "%=",
                    TokenKind::StarStarEq => "**=",
                    TokenKind::AmpEq => "&=",
                    TokenKind::PipeEq => "|=",
                    TokenKind::CaretEq => "^=",
                    TokenKind::ShlEq => "<<=",
                    TokenKind::ShrEq => ">>=",
                    TokenKind::Dot => ".",
                    TokenKind::DotDot => "..",
                    TokenKind::DotDotEq => "..=",
                    TokenKind::Colon => ":",
                    TokenKind::ColonColon => "::",
                    TokenKind::Comma => ",",
                    TokenKind::Arrow => "->",
                    TokenKind::FatArrow => "=>",
                    TokenKind::Backslash => "\\",
                    TokenKind::LParen => "(",
                    TokenKind::RParen => ")",
                    TokenKind::LBracket => "[",
                    TokenKind::RBracket => "]",
                    TokenKind::LBrace => "{",
                    TokenKind::RBrace => "}",
                    _ => return None,
                })
            }

            /// The token as a user would name it in "expected X, found Y":
            /// `` `)` ``, `identifier`, `newline`, `end of file`.
            pub fn describe(&self) -> &'static str {
                match self {
                    TokenKind::Ident => "identifier",
                    TokenKind::Int => "integer literal",
                    TokenKind::Float(_) => "float literal",
                    TokenKind::Str(_) => "string literal",
                    TokenKind::Newline => "newline",
                    TokenKind::Indent => "indent",
                    TokenKind::Dedent => "dedent",
                    TokenKind::Eof => "end of file",
                    $(TokenKind::$variant => concat!("`", $text, "`"),)*
                    TokenKind::Plus => "`+`",
                    TokenKind::Minus => "`-`",
                    TokenKind::Star => "`*`",
                    TokenKind::Slash => "`/`",
                    TokenKind::SlashSlash => "`//`",
                    TokenKind::Percent => "`%`",
                    TokenKind::StarStar => "`**`",
                    TokenKind::Amp => "`&`",
                    TokenKind::Pipe => "`|`",
                    TokenKind::Caret => "`^`",
                    TokenKind::Tilde => "`~`",
                    TokenKind::Shl => "`<<`",
                    TokenKind::Shr => "`>>`",
                    TokenKind::EqEq => "`==`",
                    TokenKind::NotEq => "`!=`",
                    TokenKind::Lt => "`<`",
                    TokenKind::Gt => "`>`",
                    TokenKind::Le => "`<=`",
                    TokenKind::Ge => "`>=`",
                    TokenKind::AmpAmp => "`&&`",
                    TokenKind::PipePipe => "`||`",
                    TokenKind::Bang => "`!`",
                    TokenKind::Question => "`?`",
                    TokenKind::QuestionQuestion => "`??`",
                    TokenKind::Eq => "`=`",
                    TokenKind::PlusEq => "`+=`",
                    TokenKind::MinusEq => "`-=`",
                    TokenKind::StarEq => "`*=`",
                    TokenKind::SlashEq => "`/=`",
                    TokenKind::SlashSlashEq => "`//=`",
                    TokenKind::PercentEq => "`%=`",
                    TokenKind::StarStarEq => "`**=`",
                    TokenKind::AmpEq => "`&=`",
                    TokenKind::PipeEq => "`|=`",
                    TokenKind::CaretEq => "`^=`",
                    TokenKind::ShlEq => "`<<=`",
                    TokenKind::ShrEq => "`>>=`",
                    TokenKind::Dot => "`.`",
                    TokenKind::DotDot => "`..`",
                    TokenKind::DotDotEq => "`..=`",
                    TokenKind::Colon => "`:`",
                    TokenKind::ColonColon => "`::`",
                    TokenKind::Comma => "`,`",
                    TokenKind::Arrow => "`->`",
                    TokenKind::FatArrow => "`=>`",
                    TokenKind::Backslash => "`\\`",
                    TokenKind::LParen => "`(`",
                    TokenKind::RParen => "`)`",
                    TokenKind::LBracket => "`[`",
                    TokenKind::RBracket => "`]`",
                    TokenKind::LBrace => "`{`",
                    TokenKind::RBrace => "`}`",
                }
            }

            /// A short stable name for token dumps: `IDENT`, `INT`, `fn`, `+`.
            pub fn dump_name(&self) -> &'static str {
                match self {
                    TokenKind::Ident => "IDENT",
                    TokenKind::Int => "INT",
                    TokenKind::Float(_) => "FLOAT",
                    TokenKind::Str(_) => "STR",
                    TokenKind::Newline => "NEWLINE",
                    TokenKind::Indent => "INDENT",
                    TokenKind::Dedent => "DEDENT",
                    TokenKind::Eof => "EOF",
                    other => other.fixed_text().unwrap_or("?"),
                }
            }
        }
    };
}

keywords! {
    Fn => "fn",
    Let => "let",
    Mut => "mut",
    Val => "val",
    Var => "var",
    Const => "const",
    If => "if",
    Elif => "elif",
    Else => "else",
    For => "for",
    In => "in",
    While => "while",
    Loop => "loop",
    Break => "break",
    Continue => "continue",
    Return => "return",
    Match => "match",
    Case => "case",
    Struct => "struct",
    Class => "class",
    Enum => "enum",
    Trait => "trait",
    Impl => "impl",
    Actor => "actor",
    Pub => "pub",
    Import => "import",
    From => "from",
    As => "as",
    Is => "is",
    Not => "not",
    And => "and",
    Or => "or",
    Spawn => "spawn",
    New => "new",
    SelfKw => "self",
    Extern => "extern",
    Static => "static",
    Type => "type",
    True => "true",
    False => "false",
    Nil => "nil",
}

impl TokenKind {
    /// Whether this is a keyword (including `true`, `false`, `nil`).
    pub fn is_keyword(&self) -> bool {
        self.fixed_text().is_some_and(|t| t.starts_with(|c: char| c.is_ascii_alphabetic()))
    }

    /// NEWLINE, INDENT, DEDENT or EOF: tokens that are not written text.
    pub fn is_layout(&self) -> bool {
        matches!(self, TokenKind::Newline | TokenKind::Indent | TokenKind::Dedent | TokenKind::Eof)
    }
}

/// The value of an integer literal token whose text is `text`: `0x`, `0o`
/// and `0b` prefixes, `_` separators, saturated at `u128::MAX`. A malformed
/// literal (reported by the lexer) is 0, except that a decimal one such as
/// `12abc` has the value of its leading digits.
pub fn int_value(text: &str) -> u128 {
    let (digits, radix) = match text.as_bytes() {
        [b'0', b'x' | b'X', ..] => (&text[2..], 16),
        [b'0', b'o' | b'O', ..] => (&text[2..], 8),
        [b'0', b'b' | b'B', ..] => (&text[2..], 2),
        _ => {
            let end = text.find(|c: char| !(c.is_ascii_digit() || c == '_')).unwrap_or(text.len());
            (&text[..end], 10)
        }
    };
    digits_value(digits, radix).unwrap_or(0)
}

/// The value of `digits` in `radix` (`_` ignored), saturated at
/// `u128::MAX`; `None` if there is no digit or a character is not a digit.
pub(crate) fn digits_value(digits: &str, radix: u32) -> Option<u128> {
    let mut value: u128 = 0;
    let mut any = false;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = c.to_digit(radix)?;
        any = true;
        value = value.checked_mul(u128::from(radix)).and_then(|v| v.checked_add(u128::from(d))).unwrap_or(u128::MAX);
    }
    any.then_some(value)
}
