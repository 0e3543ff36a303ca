//! Tokens: what the lexer produces and the parser consumes.
//!
//! Every token carries an absolute byte span into the source text. Identifier
//! text is not copied: read it from the source with the span. String literals
//! carry their decoded parts, and each interpolation `{expr}` carries the
//! tokens of its expression (also with absolute spans), so the parser never
//! re-lexes.

use crate::Span;
use crate::ast::FloatBits;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

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
            /// An integer literal's value, saturated at `u128::MAX`.
            Int(u128),
            Float(FloatBits),
            /// `"..."` (decoded, with interpolations) or raw `'...'` (one
            /// `Text` part, or none when empty).
            Str(Vec<StrSegment>),
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
                    TokenKind::Int(_) => "integer literal",
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
                    TokenKind::Int(_) => "INT",
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
