//! Text → tokens, with the layout tokens NEWLINE, INDENT and DEDENT.
//!
//! Layout rules (LANGUAGE.md, "Lexical structure"):
//! - A NEWLINE ends every line that holds a token, unless the line break is
//!   inside `()`, `[]` or `{}` or follows a trailing `\`.
//! - Blank and comment-only lines produce nothing, whatever their indentation.
//! - At the first token of a line, the indentation column (a tab advances to
//!   the next multiple of 4) is compared with the stack of open levels: deeper
//!   emits one INDENT, shallower emits a DEDENT per closed level. A column
//!   between two levels is an error; the line then stays in the innermost
//!   level it closes, so INDENT and DEDENT always balance.
//! - Recovery for a forgotten closing bracket: inside brackets, a line that
//!   starts with a keyword that can only start a statement (`let`, `return`,
//!   `fn NAME`, ...) resets the bracket depth, so the parser reports the
//!   missing bracket and goes on with the next statement.
//! - The stream always ends with NEWLINE (if the last line had tokens), the
//!   DEDENTs of every open level, and EOF.
//!
//! Guarantees: never panics; every span lies on `char` boundaries of the input;
//! every error is reported with the span of the offending text.

use crate::Span;
use crate::ast::FloatBits;
use crate::error::{SyntaxError, SyntaxErrorKind};
use crate::token::{StrSegment, Token, TokenKind, digits_value};

/// How deeply string literals may nest inside interpolations.
const MAX_STRING_NESTING: u32 = 32;

/// Keywords that can only start a statement: at the start of a line inside
/// brackets they mean a closing bracket was forgotten. (`fn` counts when a
/// name follows: `fn(` is a function type.)
const STATEMENT_KEYWORDS: &[&str] = &[
    "struct", "class", "enum", "trait", "impl", "actor", "import", "from", "const", "extern", "type", "pub", "static",
    "let", "val", "var", "return", "while", "for", "loop", "break", "continue",
];

/// Lex a whole file.
pub fn lex(text: &str) -> (Vec<Token>, Vec<SyntaxError>) {
    let mut lexer = Lexer::new(text, 0, 0);
    // Reserve for one token per two bytes, more than code has (about one
    // per three): growing a vector of a big file's tokens would copy it at
    // each doubling and leave the old copies' pages resident. Reserved pages
    // that are never written cost nothing.
    lexer.tokens.reserve(text.len() / 2);
    lexer.run_layout();
    (lexer.tokens, lexer.errors)
}

/// Why the lexing of an interpolation's expression stopped.
enum InterpEnd {
    /// At the closing `}`.
    Close,
    /// At the `:` that starts a format spec.
    Colon,
    /// At a line break or the end of the file.
    Unterminated,
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    tokens: Vec<Token>,
    errors: Vec<SyntaxError>,
    /// Open `(`, `[`, `{`.
    brackets: u32,
    /// Open indentation levels; the first is always 0.
    indents: Vec<u32>,
    /// How many string literals enclose the text being lexed.
    string_depth: u32,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str, pos: usize, string_depth: u32) -> Lexer<'a> {
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos,
            tokens: Vec::new(),
            errors: Vec::new(),
            brackets: 0,
            indents: vec![0],
            string_depth,
        }
    }

    fn byte(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn char(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|rest| rest.chars().next())
    }

    fn span_from(&self, start: usize) -> Span {
        Span::new(start as u32, self.pos as u32)
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        let span = self.span_from(start);
        self.tokens.push(Token { kind, span });
    }

    fn error(&mut self, kind: SyntaxErrorKind, span: Span) {
        self.errors.push(SyntaxError { kind, span });
    }

    /// Whether the current line already produced a token that needs a NEWLINE.
    fn line_has_tokens(&self) -> bool {
        self.tokens
            .last()
            .is_some_and(|t| !matches!(t.kind, TokenKind::Newline | TokenKind::Indent | TokenKind::Dedent))
    }

    fn run_layout(&mut self) {
        self.begin_line();
        while let Some(b) = self.byte(0) {
            match b {
                b' ' | b'\t' | b'\r' | b'\x0c' => self.pos += 1,
                b'\n' => {
                    let start = self.pos;
                    self.pos += 1;
                    if self.brackets > 0 && self.forgotten_bracket_at(self.pos) {
                        self.brackets = 0;
                    }
                    if self.brackets == 0 {
                        if self.line_has_tokens() {
                            self.push(TokenKind::Newline, start);
                        }
                        self.begin_line();
                    }
                }
                b'#' => self.skip_comment(),
                b'\\' if self.continuation_follows() => {
                    while let Some(b) = self.byte(0) {
                        self.pos += 1;
                        if b == b'\n' {
                            break;
                        }
                    }
                }
                _ => self.token(),
            }
        }
        let end = self.pos;
        if self.line_has_tokens() {
            self.push(TokenKind::Newline, end);
        }
        while self.indents.len() > 1 {
            self.indents.pop();
            self.push(TokenKind::Dedent, end);
        }
        self.push(TokenKind::Eof, end);
    }

    /// At `\`: is the rest of the line blank, making it a line continuation?
    fn continuation_follows(&self) -> bool {
        let mut i = self.pos + 1;
        while let Some(&b) = self.bytes.get(i) {
            match b {
                b' ' | b'\t' | b'\r' | b'\x0c' => i += 1,
                b'\n' => return true,
                _ => return false,
            }
        }
        true
    }

    /// Inside brackets, at the start of a line: does it look like the next
    /// statement rather than a continuation?
    fn forgotten_bracket_at(&self, pos: usize) -> bool {
        let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\x0c' | b'\r');
        let start = pos + self.bytes[pos..].iter().take_while(|b| blank(b)).count();
        let end = start + self.bytes[start..].iter().take_while(|&&b| is_ident_continue(b)).count();
        let word = &self.src[start..end];
        if word == "fn" {
            let after = end + self.bytes[end..].iter().take_while(|b| blank(b)).count();
            return after > end && self.bytes.get(after).is_some_and(|&b| is_ident_start(b));
        }
        STATEMENT_KEYWORDS.contains(&word) && !self.bytes.get(end).is_some_and(|&b| is_ident_continue(b))
    }

    fn skip_comment(&mut self) {
        while let Some(b) = self.byte(0) {
            if b == b'\n' {
                break;
            }
            self.pos += 1;
        }
    }

    /// At the start of a line outside brackets: skip blank and comment-only
    /// lines, then emit the INDENT/DEDENTs of the first line with a token.
    fn begin_line(&mut self) {
        loop {
            let line_start = self.pos;
            let mut col: u32 = 0;
            while let Some(b) = self.byte(0) {
                match b {
                    b' ' => col = col.saturating_add(1),
                    b'\t' => col = (col / 4).saturating_add(1).saturating_mul(4),
                    b'\x0c' => {}
                    _ => break,
                }
                self.pos += 1;
            }
            match self.byte(0) {
                None => return,
                Some(b'\n') => self.pos += 1,
                Some(b'\r') if self.byte(1) == Some(b'\n') => self.pos += 2,
                Some(b'#') => self.skip_comment(),
                Some(_) => {
                    self.indent_to(col, line_start);
                    return;
                }
            }
        }
    }

    fn indent_to(&mut self, col: u32, line_start: usize) {
        let top = *self.indents.last().unwrap_or(&0);
        if col > top {
            self.indents.push(col);
            self.push(TokenKind::Indent, line_start);
        } else if col < top {
            let mut closed = 0;
            while self.indents.len() > 1 && col < *self.indents.last().unwrap_or(&0) {
                self.indents.pop();
                closed += 1;
            }
            if col > *self.indents.last().unwrap_or(&0) {
                // Between two levels: report, and keep the line in the
                // innermost level it would close.
                self.error(SyntaxErrorKind::UnindentMismatch, self.span_from(line_start));
                self.indents.push(col);
                closed -= 1;
            }
            for _ in 0..closed {
                self.push(TokenKind::Dedent, self.pos);
            }
        }
    }

    /// Lex the tokens of an interpolation, stopping before its `}` or `:`.
    fn run_interp(&mut self) -> InterpEnd {
        while let Some(b) = self.byte(0) {
            match b {
                b'\n' => return InterpEnd::Unterminated,
                b'\r' if self.byte(1) == Some(b'\n') => return InterpEnd::Unterminated,
                b' ' | b'\t' | b'\r' | b'\x0c' => self.pos += 1,
                b'}' if self.brackets == 0 => return InterpEnd::Close,
                b':' if self.brackets == 0 && self.byte(1) != Some(b':') => {
                    return InterpEnd::Colon;
                }
                b'#' => {
                    self.error(SyntaxErrorKind::InvalidCharacter('#'), Span::new(self.pos as u32, self.pos as u32 + 1));
                    self.pos += 1;
                }
                _ => self.token(),
            }
        }
        InterpEnd::Unterminated
    }

    /// Lex one token starting at a non-blank character.
    fn token(&mut self) {
        let start = self.pos;
        let Some(b) = self.byte(0) else { return };
        if is_ident_start(b) {
            self.pos += self.run_length(is_ident_continue);
            let kind = TokenKind::keyword(&self.src[start..self.pos]).unwrap_or(TokenKind::Ident);
            self.push(kind, start);
            return;
        }
        if b.is_ascii_digit() {
            self.number(start);
            return;
        }
        match b {
            b'"' => return self.string(start),
            b'\'' => return self.raw_string(start),
            _ => {}
        }
        let next = self.byte(1);
        let next2 = self.byte(2);
        let (kind, len) = match (b, next, next2) {
            (b'(', _, _) => (TokenKind::LParen, 1),
            (b'[', _, _) => (TokenKind::LBracket, 1),
            (b'{', _, _) => (TokenKind::LBrace, 1),
            (b')', _, _) => (TokenKind::RParen, 1),
            (b']', _, _) => (TokenKind::RBracket, 1),
            (b'}', _, _) => (TokenKind::RBrace, 1),
            (b'+', Some(b'='), _) => (TokenKind::PlusEq, 2),
            (b'+', _, _) => (TokenKind::Plus, 1),
            (b'-', Some(b'>'), _) => (TokenKind::Arrow, 2),
            (b'-', Some(b'='), _) => (TokenKind::MinusEq, 2),
            (b'-', _, _) => (TokenKind::Minus, 1),
            (b'*', Some(b'*'), Some(b'=')) => (TokenKind::StarStarEq, 3),
            (b'*', Some(b'*'), _) => (TokenKind::StarStar, 2),
            (b'*', Some(b'='), _) => (TokenKind::StarEq, 2),
            (b'*', _, _) => (TokenKind::Star, 1),
            (b'/', Some(b'/'), Some(b'=')) => (TokenKind::SlashSlashEq, 3),
            (b'/', Some(b'/'), _) => (TokenKind::SlashSlash, 2),
            (b'/', Some(b'='), _) => (TokenKind::SlashEq, 2),
            (b'/', _, _) => (TokenKind::Slash, 1),
            (b'%', Some(b'='), _) => (TokenKind::PercentEq, 2),
            (b'%', _, _) => (TokenKind::Percent, 1),
            (b'=', Some(b'='), _) => (TokenKind::EqEq, 2),
            (b'=', Some(b'>'), _) => (TokenKind::FatArrow, 2),
            (b'=', _, _) => (TokenKind::Eq, 1),
            (b'!', Some(b'='), _) => (TokenKind::NotEq, 2),
            (b'!', _, _) => (TokenKind::Bang, 1),
            (b'<', Some(b'<'), Some(b'=')) => (TokenKind::ShlEq, 3),
            (b'<', Some(b'<'), _) => (TokenKind::Shl, 2),
            (b'<', Some(b'='), _) => (TokenKind::Le, 2),
            (b'<', _, _) => (TokenKind::Lt, 1),
            (b'>', Some(b'>'), Some(b'=')) => (TokenKind::ShrEq, 3),
            (b'>', Some(b'>'), _) => (TokenKind::Shr, 2),
            (b'>', Some(b'='), _) => (TokenKind::Ge, 2),
            (b'>', _, _) => (TokenKind::Gt, 1),
            (b'&', Some(b'&'), _) => (TokenKind::AmpAmp, 2),
            (b'&', Some(b'='), _) => (TokenKind::AmpEq, 2),
            (b'&', _, _) => (TokenKind::Amp, 1),
            (b'|', Some(b'|'), _) => (TokenKind::PipePipe, 2),
            (b'|', Some(b'='), _) => (TokenKind::PipeEq, 2),
            (b'|', _, _) => (TokenKind::Pipe, 1),
            (b'^', Some(b'='), _) => (TokenKind::CaretEq, 2),
            (b'^', _, _) => (TokenKind::Caret, 1),
            (b'~', _, _) => (TokenKind::Tilde, 1),
            (b'?', Some(b'?'), _) => (TokenKind::QuestionQuestion, 2),
            (b'?', _, _) => (TokenKind::Question, 1),
            (b'.', Some(b'.'), Some(b'=')) => (TokenKind::DotDotEq, 3),
            (b'.', Some(b'.'), _) => (TokenKind::DotDot, 2),
            (b'.', _, _) => (TokenKind::Dot, 1),
            (b':', Some(b':'), _) => (TokenKind::ColonColon, 2),
            (b':', _, _) => (TokenKind::Colon, 1),
            (b',', _, _) => (TokenKind::Comma, 1),
            (b'\\', _, _) => (TokenKind::Backslash, 1),
            _ => {
                let c = self.char().unwrap_or('\u{fffd}');
                self.pos += self.char().map_or(1, char::len_utf8);
                self.error(SyntaxErrorKind::InvalidCharacter(c), self.span_from(start));
                return;
            }
        };
        match kind {
            TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => self.brackets += 1,
            TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                self.brackets = self.brackets.saturating_sub(1)
            }
            _ => {}
        }
        self.pos += len;
        self.push(kind, start);
    }

    fn skip_digits(&mut self) {
        self.pos += self.run_length(|b| b.is_ascii_digit() || b == b'_');
    }

    /// How many bytes from `pos` on satisfy `class`. A slice scan, not a
    /// loop over `byte()`: the hottest loop of the lexer (identifiers) then
    /// keeps its index in a register instead of storing `pos` per byte.
    fn run_length(&self, class: impl Fn(u8) -> bool) -> usize {
        let rest = &self.bytes[self.pos..];
        rest.iter().position(|&b| !class(b)).unwrap_or(rest.len())
    }

    fn number(&mut self, start: usize) {
        // After `.` (as in `t.0.1`) only an integer may follow.
        let after_dot = self.tokens.last().is_some_and(|t| t.kind == TokenKind::Dot);
        let radix = match (self.byte(0), self.byte(1)) {
            (Some(b'0'), Some(b'x' | b'X')) => 16,
            (Some(b'0'), Some(b'o' | b'O')) => 8,
            (Some(b'0'), Some(b'b' | b'B')) => 2,
            _ => 10,
        };
        if radix != 10 {
            self.pos += 2;
            let digits_start = self.pos;
            while self.byte(0).is_some_and(is_ident_continue) {
                self.pos += 1;
            }
            if digits_value(&self.src[digits_start..self.pos], radix).is_none() {
                self.error(SyntaxErrorKind::MalformedNumber, self.span_from(start));
            }
            self.push(TokenKind::Int, start);
            return;
        }
        self.skip_digits();
        let mut is_float = false;
        if !after_dot && self.byte(0) == Some(b'.') && self.byte(1).is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
            self.skip_digits();
            is_float = true;
        }
        if !after_dot && matches!(self.byte(0), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.byte(1), Some(b'+' | b'-')));
            if self.byte(1 + sign).is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1 + sign;
                self.skip_digits();
                is_float = true;
            }
        }
        let text_end = self.pos;
        if self.byte(0).is_some_and(is_ident_continue) {
            while self.byte(0).is_some_and(is_ident_continue) {
                self.pos += 1;
            }
            self.error(SyntaxErrorKind::MalformedNumber, self.span_from(start));
        }
        let text = &self.src[start..text_end];
        let kind = if is_float {
            let cleaned: String = text.chars().filter(|&c| c != '_').collect();
            match cleaned.parse::<f64>() {
                Ok(value) => TokenKind::Float(FloatBits::new(value)),
                Err(_) => {
                    self.error(SyntaxErrorKind::MalformedNumber, self.span_from(start));
                    TokenKind::Float(FloatBits::new(0.0))
                }
            }
        } else {
            // The value is read from the text when needed (`token::int_value`).
            TokenKind::Int
        };
        self.push(kind, start);
    }

    fn raw_string(&mut self, start: usize) {
        self.pos += 1;
        let content_start = self.pos;
        loop {
            match self.byte(0) {
                Some(b'\'') => {
                    let text = self.src[content_start..self.pos].to_string();
                    self.pos += 1;
                    self.push(TokenKind::Str(Box::new(vec![StrSegment::Text(text)])), start);
                    return;
                }
                None | Some(b'\n') => break,
                Some(b'\r') if self.byte(1) == Some(b'\n') => break,
                Some(_) => self.pos += 1,
            }
        }
        // Only ASCII bytes stop the scan, so `pos` is on a char boundary.
        let text = self.src[content_start..self.pos].to_string();
        self.error(SyntaxErrorKind::UnterminatedString, self.span_from(start));
        self.push(TokenKind::Str(Box::new(vec![StrSegment::Text(text)])), start);
    }

    fn string(&mut self, start: usize) {
        self.pos += 1;
        let mut parts = Vec::new();
        let mut text = String::new();
        loop {
            let Some(c) = self.char() else {
                self.unterminated(start);
                break;
            };
            match c {
                '"' => {
                    self.pos += 1;
                    break;
                }
                '\n' => {
                    self.unterminated(start);
                    break;
                }
                '\r' if self.byte(1) == Some(b'\n') => {
                    self.unterminated(start);
                    break;
                }
                '\\' => self.escape(&mut text),
                '{' if self.byte(1) == Some(b'{') => {
                    text.push('{');
                    self.pos += 2;
                }
                '{' => {
                    if !text.is_empty() {
                        parts.push(StrSegment::Text(std::mem::take(&mut text)));
                    }
                    match self.interpolation() {
                        Ok(Some(segment)) => parts.push(segment),
                        Ok(None) => {}
                        Err(()) => {
                            self.unterminated(start);
                            break;
                        }
                    }
                }
                '}' => {
                    text.push('}');
                    self.pos += if self.byte(1) == Some(b'}') { 2 } else { 1 };
                }
                c => {
                    text.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
        if !text.is_empty() || parts.is_empty() {
            parts.push(StrSegment::Text(text));
        }
        self.push(TokenKind::Str(Box::new(parts)), start);
    }

    /// Report an unterminated string, unless a nested string ending at the
    /// same place already did.
    fn unterminated(&mut self, start: usize) {
        let end = self.pos as u32;
        let already =
            self.errors.last().is_some_and(|e| e.kind == SyntaxErrorKind::UnterminatedString && e.span.end == end);
        if !already {
            self.error(SyntaxErrorKind::UnterminatedString, self.span_from(start));
        }
    }

    /// At `\` inside a string: decode one escape into `text`.
    fn escape(&mut self, text: &mut String) {
        let start = self.pos;
        self.pos += 1;
        let Some(c) = self.char() else { return };
        let decoded = match c {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            '\\' | '"' | '\'' | '{' | '}' => c,
            'u' => {
                self.pos += 1;
                if let Some(c) = self.unicode_escape(start) {
                    text.push(c);
                }
                return;
            }
            '\n' => return,
            _ => {
                self.pos += c.len_utf8();
                self.error(SyntaxErrorKind::InvalidEscape(c), self.span_from(start));
                text.push(c);
                return;
            }
        };
        self.pos += 1;
        text.push(decoded);
    }

    /// After `\u`: `{HEX}` with 1 to 6 digits naming a `char`.
    fn unicode_escape(&mut self, start: usize) -> Option<char> {
        if self.byte(0) != Some(b'{') {
            self.error(SyntaxErrorKind::InvalidUnicodeEscape, self.span_from(start));
            return None;
        }
        self.pos += 1;
        let digits_start = self.pos;
        while self.byte(0).is_some_and(|b| b.is_ascii_hexdigit()) {
            self.pos += 1;
        }
        let digits = &self.src[digits_start..self.pos];
        if self.byte(0) != Some(b'}') {
            self.error(SyntaxErrorKind::InvalidUnicodeEscape, self.span_from(start));
            return None;
        }
        self.pos += 1;
        let value = if digits.is_empty() || digits.len() > 6 { None } else { u32::from_str_radix(digits, 16).ok() };
        let c = value.and_then(char::from_u32);
        if c.is_none() {
            self.error(SyntaxErrorKind::InvalidUnicodeEscape, self.span_from(start));
        }
        c
    }

    /// At `{` inside a string. `Err` means the line ended inside it;
    /// `Ok(None)` that it was dropped after an error.
    fn interpolation(&mut self) -> Result<Option<StrSegment>, ()> {
        let open = self.pos;
        self.pos += 1;
        if self.string_depth >= MAX_STRING_NESTING {
            self.error(SyntaxErrorKind::NestedTooDeeply, Span::new(open as u32, open as u32 + 1));
            while let Some(b) = self.byte(0) {
                match b {
                    b'}' => {
                        self.pos += 1;
                        return Ok(None);
                    }
                    b'\n' => return Err(()),
                    _ => self.pos += self.char().map_or(1, char::len_utf8),
                }
            }
            return Err(());
        }
        let mut sub = Lexer::new(self.src, self.pos, self.string_depth + 1);
        let end = sub.run_interp();
        sub.push(TokenKind::Eof, sub.pos);
        self.errors.append(&mut sub.errors);
        self.pos = sub.pos;
        let tokens = sub.tokens;
        let spec = match end {
            InterpEnd::Unterminated => return Err(()),
            InterpEnd::Close => None,
            InterpEnd::Colon => {
                self.pos += 1;
                let spec_start = self.pos;
                loop {
                    match self.byte(0) {
                        Some(b'}') => break,
                        None | Some(b'\n') => return Err(()),
                        Some(b'\r') if self.byte(1) == Some(b'\n') => return Err(()),
                        Some(b'"') => {
                            let at = Span::new(self.pos as u32, self.pos as u32 + 1);
                            self.error(SyntaxErrorKind::Expected { expected: "`}`", found: "`\"`" }, at);
                            let spec = self.src[spec_start..self.pos].to_string();
                            return Ok(Some(StrSegment::Interp {
                                tokens,
                                spec: Some(spec),
                                span: self.span_from(open),
                            }));
                        }
                        Some(_) => self.pos += self.char().map_or(1, char::len_utf8),
                    }
                }
                Some(self.src[spec_start..self.pos].to_string())
            }
        };
        self.pos += 1; // the closing `}`
        Ok(Some(StrSegment::Interp { tokens, spec, span: self.span_from(open) }))
    }
}

#[cfg(test)]
mod tests;
