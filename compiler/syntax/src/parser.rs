//! Tokens → AST, by recursive descent (Pratt parsing for binary operators).
//!
//! Assumes the token stream of [`crate::lexer::lex`]: INDENT/DEDENT balance,
//! a NEWLINE precedes every DEDENT, and the stream ends with EOF.
//!
//! Guarantees:
//! - Spans inside a [`TopItem`] are relative to its `base` (the start of the
//!   line where the item begins); error spans are absolute.
//! - Every input produces a tree; errors become values with a span and
//!   [`ExprKind::Error`] placeholders. After an error, further errors are
//!   suppressed until the parser resynchronises at the end of the statement
//!   (skipping to the next NEWLINE of the current block) or at the start of
//!   an indented block, so one file reports one error per broken statement.
//! - No panics, no infinite loops (every loop consumes a token or exits), and
//!   nesting deeper than [`MAX_DEPTH`] is an error instead of a stack overflow.
//!
//! Error placeholders outside expressions: a missing name is a [`Name`] with
//! empty text, a missing type is `TypeExprKind::Named` with one empty-text
//! segment, a missing pattern is `PatternKind::Wildcard`.

use std::sync::Arc;

use crate::Span;
use crate::ast::*;
use crate::error::{SyntaxError, SyntaxErrorKind};
use crate::lexer::lex;
use crate::token::{StrSegment, Token, TokenKind as T, int_value};

/// How deeply expressions, types, patterns and blocks may nest. This bounds
/// both the parser's recursion and the depth of the tree it builds (each
/// operator of a chain `a + b + c` or `a.b().c` counts as a level), so code
/// that walks the tree recursively is safe too. A level costs at most about
/// 4 KB of stack in a debug build (about 1 MB at the limit), half in release.
pub const MAX_DEPTH: u32 = 256;

/// The result of parsing a file: a tree (always) and the errors (lexical and
/// syntactic, sorted by position).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Parse {
    pub file: SourceFile,
    pub errors: Vec<SyntaxError>,
}

/// Parse a whole file.
pub fn parse(text: &str) -> Parse {
    let (tokens, lex_errors) = lex(text);
    let mut parser = Parser::new(text, tokens);
    let file = parser.source_file();
    let mut errors = lex_errors;
    errors.extend(parser.errors);
    errors.sort_by_key(|e| (e.span.start, e.span.end));
    Parse { file, errors }
}

// Binding powers, loosest to tightest (LANGUAGE.md, "Operators").
const BP_COALESCE: u8 = 1;
const BP_OR: u8 = 2;
const BP_AND: u8 = 3;
// `not`/`!` sit here: their operand is parsed at `BP_EQ`.
const BP_EQ: u8 = 5;
const BP_REL: u8 = 6;
const BP_RANGE: u8 = 7;
const BP_BITOR: u8 = 8;
const BP_BITXOR: u8 = 9;
const BP_BITAND: u8 = 10;
const BP_SHIFT: u8 = 11;
const BP_ADD: u8 = 12;
const BP_MUL: u8 = 13;
const BP_UNARY: u8 = 14;
const BP_POW: u8 = 15;
const BP_AS: u8 = 16;

fn is_capitalised(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_uppercase())
}

fn starts_expr(kind: &T) -> bool {
    matches!(
        kind,
        T::Ident
            | T::Int
            | T::Float(_)
            | T::Str(_)
            | T::True
            | T::False
            | T::Nil
            | T::SelfKw
            | T::LParen
            | T::LBracket
            | T::LBrace
            | T::Backslash
            | T::If
            | T::Match
            | T::Spawn
            | T::New
            | T::Amp
            | T::AmpAmp
            | T::Minus
            | T::Tilde
            | T::Not
            | T::Bang
    )
}

fn assign_op(kind: &T) -> Option<Option<BinOp>> {
    Some(match kind {
        T::Eq => None,
        T::PlusEq => Some(BinOp::Add),
        T::MinusEq => Some(BinOp::Sub),
        T::StarEq => Some(BinOp::Mul),
        T::SlashEq => Some(BinOp::Div),
        T::SlashSlashEq => Some(BinOp::FloorDiv),
        T::PercentEq => Some(BinOp::Rem),
        T::StarStarEq => Some(BinOp::Pow),
        T::AmpEq => Some(BinOp::BitAnd),
        T::PipeEq => Some(BinOp::BitOr),
        T::CaretEq => Some(BinOp::BitXor),
        T::ShlEq => Some(BinOp::Shl),
        T::ShrEq => Some(BinOp::Shr),
        _ => return None,
    })
}

/// A left-associative binary operator and its binding power.
fn simple_binop(kind: &T) -> Option<(u8, BinOp)> {
    Some(match kind {
        T::QuestionQuestion => (BP_COALESCE, BinOp::Coalesce),
        T::Or | T::PipePipe => (BP_OR, BinOp::Or),
        T::And | T::AmpAmp => (BP_AND, BinOp::And),
        T::EqEq => (BP_EQ, BinOp::Eq),
        T::NotEq => (BP_EQ, BinOp::Ne),
        T::In => (BP_EQ, BinOp::In),
        T::Pipe => (BP_BITOR, BinOp::BitOr),
        T::Caret => (BP_BITXOR, BinOp::BitXor),
        T::Amp => (BP_BITAND, BinOp::BitAnd),
        T::Shl => (BP_SHIFT, BinOp::Shl),
        T::Shr => (BP_SHIFT, BinOp::Shr),
        T::Plus => (BP_ADD, BinOp::Add),
        T::Minus => (BP_ADD, BinOp::Sub),
        T::Star => (BP_MUL, BinOp::Mul),
        T::Slash => (BP_MUL, BinOp::Div),
        T::SlashSlash => (BP_MUL, BinOp::FloorDiv),
        T::Percent => (BP_MUL, BinOp::Rem),
        T::StarStar => (BP_POW, BinOp::Pow),
        _ => return None,
    })
}

fn relational_op(kind: &T) -> Option<BinOp> {
    Some(match kind {
        T::Lt => BinOp::Lt,
        T::Gt => BinOp::Gt,
        T::Le => BinOp::Le,
        T::Ge => BinOp::Ge,
        _ => return None,
    })
}

fn is_place(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Name(_) | ExprKind::Field(_) | ExprKind::Index { .. } | ExprKind::Error => true,
        ExprKind::Tuple(items) => items.iter().all(is_place),
        _ => false,
    }
}

/// Whether `{` after `expr` starts a struct literal: `expr` is a
/// Capitalised name or a path (`Shape::Circle`, `geometry.Point`).
fn is_struct_lit_head(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Name(name) => is_capitalised(&name.text),
        ExprKind::Path(_) => true,
        ExprKind::Field(field) => is_capitalised(&field.name.text) && is_name_chain(&field.base),
        _ => false,
    }
}

fn is_name_chain(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Name(_) => true,
        ExprKind::Field(field) => is_name_chain(&field.base),
        _ => false,
    }
}

/// The type path of `Point`, `Shape::Circle` or `geometry.Point` before `{`.
fn struct_lit_path(expr: &Expr) -> Option<Vec<Name>> {
    match &expr.kind {
        ExprKind::Name(name) if is_capitalised(&name.text) => Some(vec![name.clone()]),
        ExprKind::Path(names) => Some(names.clone()),
        ExprKind::Field(field) if is_capitalised(&field.name.text) => {
            let mut path = name_chain(&field.base)?;
            path.push(field.name.clone());
            Some(path)
        }
        _ => None,
    }
}

fn name_chain(expr: &Expr) -> Option<Vec<Name>> {
    match &expr.kind {
        ExprKind::Name(name) => Some(vec![name.clone()]),
        ExprKind::Field(field) => {
            let mut path = name_chain(&field.base)?;
            path.push(field.name.clone());
            Some(path)
        }
        _ => None,
    }
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// Start of the current top-level item; spans are relative to it.
    base: u32,
    errors: Vec<SyntaxError>,
    /// An error was reported and the parser has not resynchronised yet.
    recovering: bool,
    depth: u32,
    /// Absolute end of the last consumed token that is not layout.
    last_end: u32,
    /// The last consumed token was a DEDENT: the construct before it ended
    /// with an indented block, so no operator may continue it.
    prev_dedent: bool,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, tokens: Vec<Token>) -> Parser<'a> {
        Parser {
            text,
            tokens,
            pos: 0,
            base: 0,
            errors: Vec::new(),
            recovering: false,
            depth: 0,
            last_end: 0,
            prev_dedent: false,
        }
    }

    // ----- Token access -------------------------------------------------

    fn nth(&self, n: usize) -> &T {
        self.tokens.get(self.pos + n).map_or(&T::Eof, |t| &t.kind)
    }

    fn at(&self, kind: &T) -> bool {
        self.nth(0) == kind
    }

    fn abs_span(&self, n: usize) -> Span {
        match self.tokens.get(self.pos + n) {
            Some(t) => t.span,
            None => Span::new(self.text.len() as u32, self.text.len() as u32),
        }
    }

    fn rel(&self, abs: Span) -> Span {
        Span::new(abs.start.saturating_sub(self.base), abs.end.saturating_sub(self.base))
    }

    /// Relative span of the current token.
    fn cur_span(&self) -> Span {
        self.rel(self.abs_span(0))
    }

    /// Zero-width relative span at the start of the current token.
    fn here(&self) -> Span {
        let s = self.cur_span();
        Span::new(s.start, s.start)
    }

    fn cur_text(&self) -> &'a str {
        let span = self.abs_span(0);
        self.text.get(span.start as usize..span.end as usize).unwrap_or("")
    }

    fn at_ident(&self, word: &str) -> bool {
        self.at(&T::Ident) && self.cur_text() == word
    }

    /// Consume the current token (EOF is never consumed) and return its
    /// relative span.
    fn bump(&mut self) -> Span {
        let Some(token) = self.tokens.get(self.pos) else {
            return self.here();
        };
        let (abs, is_layout, is_dedent) = (token.span, token.kind.is_layout(), token.kind == T::Dedent);
        if token.kind != T::Eof {
            self.pos += 1;
        }
        self.prev_dedent = is_dedent;
        if !is_layout {
            self.last_end = abs.end;
        }
        self.rel(abs)
    }

    fn eat(&mut self, kind: &T) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// From `start` to the end of the last consumed token.
    fn span_from(&self, start: Span) -> Span {
        let end = self.last_end.saturating_sub(self.base).max(start.start);
        Span::new(start.start, end)
    }

    fn at_line_end(&self) -> bool {
        matches!(self.nth(0), T::Newline | T::Eof | T::Dedent | T::Indent)
    }

    // ----- Errors -------------------------------------------------------

    /// Report an error that needs resynchronisation (suppressed while
    /// already recovering).
    fn error(&mut self, kind: SyntaxErrorKind, rel_span: Span) {
        if self.recovering {
            return;
        }
        self.recovering = true;
        self.report(kind, rel_span);
    }

    /// Report an error that leaves the parser in step.
    fn report(&mut self, kind: SyntaxErrorKind, rel_span: Span) {
        let span = Span::new(rel_span.start.saturating_add(self.base), rel_span.end.saturating_add(self.base));
        self.errors.push(SyntaxError { kind, span });
    }

    /// `expected WHAT, found <current token>`.
    fn expected(&mut self, what: &'static str) {
        let found = self.nth(0).describe();
        self.error(SyntaxErrorKind::Expected { expected: what, found }, self.cur_span());
    }

    fn expect(&mut self, kind: &T, what: &'static str) -> bool {
        if self.eat(kind) {
            true
        } else {
            self.expected(what);
            false
        }
    }

    /// Skip to the end of the current line, over any nested block, without
    /// consuming the NEWLINE or a DEDENT of the current block.
    fn skip_line(&mut self) {
        let mut depth = 0u32;
        loop {
            match self.nth(0) {
                T::Eof => return,
                T::Newline | T::Dedent if depth == 0 => return,
                T::Indent => depth += 1,
                T::Dedent => depth -= 1,
                _ => {}
            }
            self.bump();
        }
    }

    /// At INDENT: skip through the matching DEDENT.
    fn skip_indented(&mut self) {
        let mut depth = 0u32;
        loop {
            match self.nth(0) {
                T::Eof => return,
                T::Indent => depth += 1,
                T::Dedent => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.bump();
                        return;
                    }
                }
                _ => {}
            }
            self.bump();
        }
    }

    /// Resynchronise after an error: skip the rest of the line (and a block
    /// that the broken line opens).
    fn sync(&mut self) {
        self.skip_line();
        if self.eat(&T::Newline) && self.at(&T::Indent) {
            self.skip_indented();
        }
        self.recovering = false;
    }

    /// End a statement (or member): NEWLINE, or nothing after a block or
    /// before a DEDENT/EOF.
    fn finish_stmt(&mut self) {
        if self.recovering {
            self.sync();
            return;
        }
        if self.prev_dedent {
            return;
        }
        match self.nth(0) {
            T::Newline => {
                self.bump();
            }
            T::Eof | T::Dedent => {}
            _ => {
                self.expected("newline");
                self.sync();
            }
        }
    }

    fn too_deep(&mut self) -> bool {
        if self.depth < MAX_DEPTH {
            return false;
        }
        self.error(SyntaxErrorKind::NestedTooDeeply, self.cur_span());
        true
    }

    fn error_expr(&self) -> Expr {
        Expr { kind: ExprKind::Error, span: self.here() }
    }

    fn error_name(&self) -> Name {
        Name { text: Box::default(), span: self.here() }
    }

    fn error_type(&self) -> TypeExpr {
        let span = self.here();
        TypeExpr {
            kind: TypeExprKind::Named { path: vec![Name { text: Box::default(), span }], args: Vec::new() },
            span,
        }
    }

    fn empty_block(&self) -> Block {
        Block { stmts: Box::default(), span: self.here() }
    }

    // ----- Names and lists ----------------------------------------------

    fn name_here(&mut self) -> Name {
        let text = self.cur_text().into();
        let span = self.bump();
        Name { text, span }
    }

    fn ident(&mut self, what: &'static str) -> Name {
        if self.at(&T::Ident) {
            self.name_here()
        } else {
            self.expected(what);
            self.error_name()
        }
    }

    /// A comma-separated list up to `close` (trailing comma allowed), the
    /// opening bracket already consumed.
    fn comma_list<X>(
        &mut self,
        close: &T,
        close_what: &'static str,
        mut element: impl FnMut(&mut Self) -> Option<X>,
    ) -> Vec<X> {
        let mut out = Vec::new();
        loop {
            if self.at(close) || self.at_line_end() {
                break;
            }
            let before = self.pos;
            if let Some(x) = element(self) {
                out.push(x);
            }
            if self.pos == before && !self.at_line_end() {
                self.bump();
            }
            if !self.eat(&T::Comma) {
                break;
            }
        }
        self.expect(close, close_what);
        // The list is final: drop the spare capacity of its growth.
        out.shrink_to_fit();
        out
    }

    /// The members of an indented block, the INDENT already consumed;
    /// consumes the matching DEDENT. `member` parses one line's construct;
    /// this ends it and resynchronises after errors.
    fn block_items(&mut self, mut member: impl FnMut(&mut Self)) {
        let mut extra_indents = 0u32;
        let mut last_failed = false;
        loop {
            match self.nth(0) {
                T::Eof => return,
                T::Dedent => {
                    self.bump();
                    if extra_indents == 0 {
                        return;
                    }
                    extra_indents -= 1;
                }
                T::Newline => {
                    self.bump();
                }
                T::Indent => {
                    if !last_failed {
                        self.report(SyntaxErrorKind::UnexpectedIndent, self.cur_span());
                    }
                    self.bump();
                    extra_indents += 1;
                }
                _ => {
                    let before = self.pos;
                    let errors_before = self.errors.len();
                    member(self);
                    self.finish_stmt();
                    if self.pos == before && !matches!(self.nth(0), T::Eof | T::Dedent) {
                        self.bump();
                    }
                    last_failed = self.errors.len() > errors_before;
                }
            }
        }
    }

    /// At NEWLINE INDENT after a header: consume both; otherwise report
    /// `expected indented block`.
    fn open_block(&mut self) -> bool {
        if self.at(&T::Newline) && self.nth(1) == &T::Indent {
            self.bump();
            self.bump();
            self.recovering = false;
            true
        } else {
            self.expected_indented_block();
            false
        }
    }

    fn expected_indented_block(&mut self) {
        let n = usize::from(self.at(&T::Newline));
        let found = self.nth(n).describe();
        let span = self.rel(self.abs_span(n));
        self.error(SyntaxErrorKind::Expected { expected: "indented block", found }, span);
    }

    /// The `:` ending a block header. If something else is there, report it
    /// and skip to a `:` that ends the line, if any.
    fn header_colon(&mut self) -> bool {
        if self.eat(&T::Colon) {
            return true;
        }
        self.expected("`:`");
        let mut i = self.pos;
        while let Some(token) = self.tokens.get(i) {
            match token.kind {
                T::Newline | T::Eof | T::Indent | T::Dedent => return false,
                T::Colon if self.tokens.get(i + 1).is_some_and(|t| t.kind == T::Newline) => {
                    while self.pos <= i {
                        self.bump();
                    }
                    return true;
                }
                _ => i += 1,
            }
        }
        false
    }

    /// A header's `:` and the block after it.
    fn header_block(&mut self) -> Block {
        if self.header_colon() { self.block_after_colon() } else { self.empty_block() }
    }

    /// After a header's `:`: an indented block, or one statement on the same
    /// line.
    fn block_after_colon(&mut self) -> Block {
        if self.too_deep() {
            if self.at(&T::Newline) && self.nth(1) == &T::Indent {
                self.bump();
                self.skip_indented();
            } else {
                self.skip_line();
            }
            return self.empty_block();
        }
        self.depth += 1;
        let block = if self.at(&T::Newline) { self.indented_block() } else { self.inline_block() };
        self.depth -= 1;
        block
    }

    fn inline_block(&mut self) -> Block {
        let stmt = self.stmt();
        Block { span: stmt.span, stmts: Box::new([stmt]) }
    }

    fn indented_block(&mut self) -> Block {
        if self.nth(1) != &T::Indent {
            self.expected_indented_block();
            return self.empty_block();
        }
        self.bump();
        self.bump();
        self.recovering = false;
        let mut stmts = Vec::new();
        self.block_items(|p| stmts.push(p.stmt()));
        let span = match (stmts.first(), stmts.last()) {
            (Some(first), Some(last)) => first.span.to(last.span),
            _ => self.here(),
        };
        Block { stmts: stmts.into_boxed_slice(), span }
    }

    // ----- File and items -----------------------------------------------

    fn source_file(&mut self) -> SourceFile {
        let mut items = Vec::new();
        let mut last_failed = false;
        loop {
            match self.nth(0) {
                T::Eof => break,
                T::Newline | T::Dedent => {
                    self.bump();
                }
                T::Indent => {
                    if !last_failed {
                        self.base = 0;
                        self.report(SyntaxErrorKind::UnexpectedIndent, self.cur_span());
                    }
                    self.bump();
                }
                _ => {
                    let start = self.abs_span(0).start as usize;
                    let base = self.text.get(..start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1) as u32;
                    self.base = base;
                    let before = self.pos;
                    let errors_before = self.errors.len();
                    let item = self.top_item();
                    self.finish_stmt();
                    if self.pos == before && !self.at(&T::Eof) {
                        self.bump();
                    }
                    let len = self.last_end.saturating_sub(base);
                    items.push(TopItem { base, len, item });
                    last_failed = self.errors.len() > errors_before;
                }
            }
        }
        SourceFile { items }
    }

    fn top_item(&mut self) -> Item {
        if self.at_item_start() {
            return self.item();
        }
        let stmt = self.stmt();
        Item { span: stmt.span, is_pub: false, kind: ItemKind::Stmt(stmt) }
    }

    fn at_item_start(&self) -> bool {
        match self.nth(0) {
            T::Fn | T::Struct | T::Class | T::Enum | T::Trait | T::Impl | T::Actor | T::Import | T::From => true,
            T::Type | T::Extern | T::Static | T::Pub | T::Const => true,
            T::Ident => self.cur_text() == "handle_pool" && self.nth(1) == &T::Ident,
            _ => false,
        }
    }

    fn item(&mut self) -> Item {
        let start = self.cur_span();
        let is_pub = self.eat(&T::Pub);
        let kind = match self.nth(0) {
            T::Fn | T::Static => ItemKind::Fn(Arc::new(self.fn_def(start, is_pub, true))),
            T::Struct => ItemKind::Struct(Box::new(self.struct_def())),
            T::Class => ItemKind::Class(Box::new(self.struct_def())),
            T::Enum => ItemKind::Enum(Box::new(self.enum_def())),
            T::Trait => ItemKind::Trait(Box::new(self.trait_def())),
            T::Impl => ItemKind::Impl(Box::new(self.impl_def())),
            T::Actor => ItemKind::Actor(Box::new(self.actor_def())),
            T::Const => ItemKind::Const(Box::new(self.const_def())),
            T::Import | T::From => ItemKind::Import(Box::new(self.import_def())),
            T::Type => {
                self.bump();
                let name = self.ident("type name");
                self.expect(&T::Eq, "`=`");
                let ty = Box::new(self.type_expr());
                ItemKind::TypeAlias { name, ty }
            }
            T::Extern => {
                self.bump();
                if self.at(&T::Fn) {
                    ItemKind::Extern(Box::new(self.fn_def(start, is_pub, false)))
                } else {
                    self.expected("`fn`");
                    ItemKind::Stmt(Stmt { kind: StmtKind::Expr(self.error_expr()), span: self.here() })
                }
            }
            T::Ident if self.at_ident("handle_pool") => self.handle_pool(),
            _ => {
                self.expected("item after `pub`");
                ItemKind::Stmt(Stmt { kind: StmtKind::Expr(self.error_expr()), span: self.here() })
            }
        };
        Item { kind, is_pub, span: self.span_from(start) }
    }

    /// `[static] fn name[generics](params) [-> T]` and a body (`: expr` or
    /// a block); without `body_required`, a missing body is allowed.
    fn fn_def(&mut self, start: Span, is_pub: bool, body_required: bool) -> FnDef {
        let is_static = self.eat(&T::Static);
        self.expect(&T::Fn, "`fn`");
        // Keywords are accepted as method names (`fn new(...)`).
        let name =
            if self.at(&T::Ident) || self.nth(0).is_keyword() { self.name_here() } else { self.ident("function name") };
        let generics = if self.at(&T::LBracket) { self.generic_params() } else { Vec::new() };
        let params = if self.eat(&T::LParen) {
            self.comma_list(&T::RParen, "`)`", |p| p.param(true))
        } else {
            self.expected("`(`");
            Vec::new()
        };
        let ret = if self.eat(&T::Arrow) { Some(self.type_expr()) } else { None };
        let body = if !body_required && !self.at(&T::Colon) {
            None
        } else if self.header_colon() {
            Some(self.block_after_colon())
        } else {
            None
        };
        FnDef { name, generics, params, ret, body, is_static, is_pub, span: self.span_from(start) }
    }

    fn param(&mut self, require_type: bool) -> Option<Param> {
        let start = self.cur_span();
        if self.at(&T::Mut) && self.nth(1) == &T::SelfKw {
            self.bump();
            let name = self.name_here();
            return Some(Param { name, ty: None, default: None, is_mut: true, span: self.span_from(start) });
        }
        let name = if matches!(self.nth(0), T::SelfKw | T::Ident) {
            self.name_here()
        } else {
            self.expected("parameter");
            return None;
        };
        let ty = if self.eat(&T::Colon) {
            Some(self.type_expr())
        } else {
            if require_type && &*name.text != "self" {
                self.expected("`:`");
            }
            None
        };
        let default = if self.eat(&T::Eq) { Some(self.expr()) } else { None };
        Some(Param { name, ty, default, is_mut: false, span: self.span_from(start) })
    }

    /// `[T: Bound + Other, U]`
    fn generic_params(&mut self) -> Vec<GenericParam> {
        self.bump();
        self.comma_list(&T::RBracket, "`]`", |p| {
            let name = p.ident("type parameter");
            let mut bounds = Vec::new();
            if p.eat(&T::Colon) {
                bounds.push(p.type_expr());
                while p.eat(&T::Plus) {
                    bounds.push(p.type_expr());
                }
            }
            Some(GenericParam { name, bounds })
        })
    }

    fn field_def(&mut self, start: Span, is_pub: bool) -> FieldDef {
        let name = self.ident("field name");
        self.expect(&T::Colon, "`:`");
        let ty = self.type_expr();
        let default = if self.eat(&T::Eq) { Some(self.expr()) } else { None };
        FieldDef { name, ty, default, is_pub, span: self.span_from(start) }
    }

    fn struct_def(&mut self) -> StructDef {
        self.bump();
        let name = self.ident("type name");
        let generics = if self.at(&T::LBracket) { self.generic_params() } else { Vec::new() };
        let mut fields = Vec::new();
        let mut methods = Vec::new();
        // `struct Unit` with no body at all is an empty struct.
        if !self.at_line_end() && self.header_colon() && self.open_block() {
            self.block_items(|p| {
                let start = p.cur_span();
                let is_pub = p.eat(&T::Pub);
                match p.nth(0) {
                    T::Fn | T::Static => methods.push(p.fn_def(start, is_pub, true)),
                    T::Ident if p.nth(1) == &T::Colon => fields.push(p.field_def(start, is_pub)),
                    _ => p.expected("field or method"),
                }
            });
        }
        StructDef { name, generics, fields, methods }
    }

    fn enum_def(&mut self) -> EnumDef {
        self.bump();
        let name = self.ident("type name");
        let generics = if self.at(&T::LBracket) { self.generic_params() } else { Vec::new() };
        let mut variants = Vec::new();
        let mut methods = Vec::new();
        if self.header_colon() && self.open_block() {
            self.block_items(|p| {
                let start = p.cur_span();
                let is_pub = p.eat(&T::Pub);
                match p.nth(0) {
                    T::Fn | T::Static => methods.push(p.fn_def(start, is_pub, true)),
                    T::Ident if !is_pub => variants.push(p.variant()),
                    _ => p.expected("variant or method"),
                }
            });
        }
        EnumDef { name, generics, variants, methods }
    }

    fn variant(&mut self) -> Variant {
        let start = self.cur_span();
        let name = self.name_here();
        let fields = if self.eat(&T::LParen) {
            self.comma_list(&T::RParen, "`)`", |p| {
                if p.at(&T::Ident) && p.nth(1) == &T::Colon {
                    let name = p.name_here();
                    p.bump();
                    Some(VariantField { name: Some(name), ty: p.type_expr() })
                } else {
                    Some(VariantField { name: None, ty: p.type_expr() })
                }
            })
        } else {
            Vec::new()
        };
        Variant { name, fields, span: self.span_from(start) }
    }

    /// The methods of a trait or impl body.
    fn method_block(&mut self, body_required: bool) -> Vec<FnDef> {
        let mut methods = Vec::new();
        if self.header_colon() && self.open_block() {
            self.block_items(|p| {
                let start = p.cur_span();
                let is_pub = p.eat(&T::Pub);
                match p.nth(0) {
                    T::Fn | T::Static => methods.push(p.fn_def(start, is_pub, body_required)),
                    _ => p.expected("method"),
                }
            });
        }
        methods
    }

    fn trait_def(&mut self) -> TraitDef {
        self.bump();
        let name = self.ident("trait name");
        let generics = if self.at(&T::LBracket) { self.generic_params() } else { Vec::new() };
        let methods = self.method_block(false);
        TraitDef { name, generics, methods }
    }

    fn impl_def(&mut self) -> ImplDef {
        self.bump();
        let generics = if self.at(&T::LBracket) { self.generic_params() } else { Vec::new() };
        let first = self.type_expr();
        let (trait_ref, self_ty) = if self.eat(&T::For) { (Some(first), self.type_expr()) } else { (None, first) };
        let methods = self.method_block(true);
        ImplDef { generics, trait_ref, self_ty, methods }
    }

    fn actor_def(&mut self) -> ActorDef {
        self.bump();
        let name = self.ident("actor name");
        let mut state = Vec::new();
        let mut handlers = Vec::new();
        let mut methods = Vec::new();
        if self.header_colon() && self.open_block() {
            self.block_items(|p| {
                let start = p.cur_span();
                let is_pub = p.eat(&T::Pub);
                match p.nth(0) {
                    T::Ident if p.cur_text() == "state" && p.nth(1) == &T::Colon => {
                        p.bump();
                        p.bump();
                        if p.open_block() {
                            p.block_items(|p| {
                                let start = p.cur_span();
                                let is_pub = p.eat(&T::Pub);
                                state.push(p.field_def(start, is_pub));
                            });
                        }
                    }
                    T::Ident if p.cur_text() == "on" && p.nth(1) == &T::Ident => {
                        handlers.push(p.handler(start, is_pub));
                    }
                    T::Ident if p.nth(1) == &T::Colon => state.push(p.field_def(start, is_pub)),
                    T::Fn | T::Static => methods.push(p.fn_def(start, is_pub, true)),
                    _ => p.expected("`state:`, `on` handler or method"),
                }
            });
        }
        ActorDef { name, state, handlers, methods }
    }

    /// `on Msg(args) [-> T]: body`
    fn handler(&mut self, start: Span, is_pub: bool) -> FnDef {
        self.bump();
        let name = self.name_here();
        let params =
            if self.eat(&T::LParen) { self.comma_list(&T::RParen, "`)`", |p| p.param(true)) } else { Vec::new() };
        let ret = if self.eat(&T::Arrow) { Some(self.type_expr()) } else { None };
        let body = if self.header_colon() { Some(self.block_after_colon()) } else { None };
        FnDef { name, generics: Vec::new(), params, ret, body, is_static: false, is_pub, span: self.span_from(start) }
    }

    fn const_def(&mut self) -> ConstDef {
        self.bump();
        let name = self.ident("constant name");
        let ty = if self.eat(&T::Colon) { Some(self.type_expr()) } else { None };
        let value = if self.expect(&T::Eq, "`=`") { self.expr() } else { self.error_expr() };
        ConstDef { name, ty, value }
    }

    fn dotted_path(&mut self) -> Vec<Name> {
        let mut path = vec![self.ident("module name")];
        while self.eat(&T::Dot) {
            path.push(self.ident("module name"));
        }
        path
    }

    fn import_def(&mut self) -> ImportDef {
        if self.eat(&T::Import) {
            let path = self.dotted_path();
            let alias = if self.eat(&T::As) { Some(self.ident("alias")) } else { None };
            return ImportDef::Module { path, alias };
        }
        self.bump(); // `from`
        let path = self.dotted_path();
        self.expect(&T::Import, "`import`");
        let one = |p: &mut Self| {
            let name = p.ident("name");
            let alias = if p.eat(&T::As) { Some(p.ident("alias")) } else { None };
            Some((name, alias))
        };
        let names = if self.eat(&T::LParen) {
            self.comma_list(&T::RParen, "`)`", one)
        } else {
            let mut names = Vec::new();
            loop {
                names.extend(one(self));
                if !self.eat(&T::Comma) {
                    break;
                }
            }
            names
        };
        ImportDef::From { path, names }
    }

    /// `handle_pool Node: capacity: 16`, or the settings in a block.
    fn handle_pool(&mut self) -> ItemKind {
        self.bump();
        let ty = self.ident("type name");
        let mut settings = Vec::new();
        let setting = |p: &mut Self| {
            let name = p.ident("setting name");
            p.expect(&T::Colon, "`:`");
            (name, p.expr())
        };
        if self.header_colon() {
            if self.at(&T::Newline) {
                if self.open_block() {
                    self.block_items(|p| settings.push(setting(p)));
                }
            } else {
                loop {
                    settings.push(setting(self));
                    if !self.eat(&T::Comma) {
                        break;
                    }
                }
            }
        }
        ItemKind::HandlePool { ty, settings: settings.into_boxed_slice() }
    }

    // ----- Statements ---------------------------------------------------

    /// One statement, without its terminating NEWLINE.
    fn stmt(&mut self) -> Stmt {
        let start = self.cur_span();
        // Dispatch through a function pointer: this function is on every
        // recursion path through blocks, so its frame must stay small.
        let handler: fn(&mut Self) -> StmtKind = match self.nth(0) {
            T::Let | T::Val | T::Var => Self::let_stmt,
            T::Return => Self::return_stmt,
            T::Break | T::Continue => Self::jump_stmt,
            T::While => Self::while_stmt,
            T::Loop => Self::loop_stmt,
            T::For => Self::for_stmt,
            _ if self.at_item_start() => Self::item_stmt,
            T::Ident if self.at_send() => Self::send_stmt,
            _ => Self::expr_stmt,
        };
        let kind = handler(self);
        Stmt { kind, span: self.span_from(start) }
    }

    fn return_stmt(&mut self) -> StmtKind {
        self.bump();
        StmtKind::Return(if starts_expr(self.nth(0)) { Some(self.expr()) } else { None })
    }

    fn jump_stmt(&mut self) -> StmtKind {
        let is_break = self.at(&T::Break);
        self.bump();
        if is_break { StmtKind::Break } else { StmtKind::Continue }
    }

    fn loop_stmt(&mut self) -> StmtKind {
        self.bump();
        StmtKind::Loop { body: self.header_block() }
    }

    fn for_stmt(&mut self) -> StmtKind {
        self.bump();
        let pattern = self.pattern();
        self.expect(&T::In, "`in`");
        let iter = self.expr();
        StmtKind::For(Box::new(ForStmt { pattern, iter, body: self.header_block() }))
    }

    fn item_stmt(&mut self) -> StmtKind {
        StmtKind::Item(Box::new(self.item()))
    }

    fn send_stmt(&mut self) -> StmtKind {
        self.bump();
        let target = Box::new(self.expr());
        self.expect(&T::Comma, "`,`");
        let message = Box::new(self.expr());
        StmtKind::Send { target, message }
    }

    /// `send` is a statement keyword only before an operand that cannot
    /// continue an expression named `send`.
    fn at_send(&self) -> bool {
        self.at_ident("send")
            && matches!(
                self.nth(1),
                T::Ident
                    | T::Int
                    | T::Float(_)
                    | T::Str(_)
                    | T::True
                    | T::False
                    | T::Nil
                    | T::SelfKw
                    | T::Spawn
                    | T::New
            )
    }

    fn let_stmt(&mut self) -> StmtKind {
        let keyword = self.nth(0).clone();
        self.bump();
        let mutable = keyword == T::Var || (keyword == T::Let && self.eat(&T::Mut));
        let pattern = self.pattern();
        let ty = if self.eat(&T::Colon) { Some(Box::new(self.type_expr())) } else { None };
        let value = if self.eat(&T::Eq) { Some(self.expr()) } else { None };
        StmtKind::Let(Box::new(LetStmt { pattern, mutable, ty, value }))
    }

    fn while_stmt(&mut self) -> StmtKind {
        self.bump();
        if self.eat(&T::Let) {
            let pattern = self.pattern();
            self.expect(&T::Eq, "`=`");
            let value = self.expr();
            return StmtKind::WhileLet(Box::new(WhileLetStmt { pattern, value, body: self.header_block() }));
        }
        let cond = Box::new(self.expr());
        StmtKind::While { cond, body: self.header_block() }
    }

    fn expr_stmt(&mut self) -> StmtKind {
        let target = self.expr();
        let Some(op) = assign_op(self.nth(0)) else {
            return StmtKind::Expr(target);
        };
        let op_span = self.bump();
        let value = self.expr();
        if !is_place(&target) {
            self.report(SyntaxErrorKind::InvalidAssignTarget, target.span);
        }
        StmtKind::Assign(Box::new(AssignStmt { target, op, op_span, value }))
    }

    // ----- Expressions --------------------------------------------------
    //
    // Every function on a recursion path (`expr_bp`, `prefix`, `primary`,
    // `postfix`, `atom` and the handlers they call) keeps a small frame: it
    // picks a handler through a function pointer instead of inlining every
    // case, so deep nesting costs little stack even in debug builds.

    fn expr(&mut self) -> Expr {
        self.expr_bp(0)
    }

    /// An expression whose operators bind at least as tightly as `min`.
    fn expr_bp(&mut self, min: u8) -> Expr {
        if self.too_deep() {
            let expr = self.error_expr();
            self.skip_line();
            return expr;
        }
        let saved_depth = self.depth;
        self.depth += 1;
        let mut lhs = self.prefix(min);
        while let Some(infix) = self.infix_handler(min) {
            // Each step wraps `lhs` in one more node: count it, so that the
            // tree stays shallow enough for recursive consumers.
            if self.too_deep() {
                self.skip_line();
                break;
            }
            self.depth += 1;
            lhs = infix(self, lhs);
        }
        self.depth = saved_depth;
        lhs
    }

    /// The handler of the binary operator at the current token, if it binds
    /// at least as tightly as `min`.
    fn infix_handler(&self, min: u8) -> Option<fn(&mut Self, Expr) -> Expr> {
        if self.prev_dedent {
            return None;
        }
        let kind = self.nth(0);
        let (bp, handler): (u8, fn(&mut Self, Expr) -> Expr) = match kind {
            T::Lt | T::Gt | T::Le | T::Ge => (BP_REL, Self::comparison_chain),
            T::Not if self.nth(1) == &T::In => (BP_EQ, Self::not_in),
            T::Is => (BP_EQ, Self::is_pattern),
            T::DotDot | T::DotDotEq => (BP_RANGE, Self::range),
            T::As => (BP_AS, Self::cast),
            _ => (simple_binop(kind)?.0, Self::simple_infix),
        };
        (bp >= min).then_some(handler)
    }

    fn simple_infix(&mut self, lhs: Expr) -> Expr {
        let Some((bp, op)) = simple_binop(self.nth(0)) else { return lhs };
        let op_span = self.bump();
        let rhs = match op {
            BinOp::Coalesce => self.expr_bp(BP_COALESCE),
            // The exponent may carry a unary minus: `2 ** -1`.
            BinOp::Pow => self.expr_bp(BP_UNARY),
            _ => self.expr_bp(bp + 1),
        };
        binary(op, op_span, lhs, rhs)
    }

    fn not_in(&mut self, lhs: Expr) -> Expr {
        let not_span = self.bump();
        let op_span = not_span.to(self.bump());
        let rhs = self.expr_bp(BP_EQ + 1);
        binary(BinOp::NotIn, op_span, lhs, rhs)
    }

    fn is_pattern(&mut self, lhs: Expr) -> Expr {
        self.bump();
        let pattern = self.pattern();
        let span = lhs.span.to(pattern.span);
        Expr { kind: ExprKind::Is { expr: Box::new(lhs), pattern: Box::new(pattern) }, span }
    }

    fn range(&mut self, start: Expr) -> Expr {
        let inclusive = self.at(&T::DotDotEq);
        self.bump();
        let end = self.expr_bp(BP_RANGE + 1);
        let span = start.span.to(end.span);
        Expr { kind: ExprKind::Range { start: Box::new(start), end: Box::new(end), inclusive }, span }
    }

    fn cast(&mut self, expr: Expr) -> Expr {
        let as_span = self.bump();
        let ty = self.type_expr();
        let span = expr.span.to(ty.span);
        Expr { kind: ExprKind::Cast { expr: Box::new(expr), ty: Box::new(ty), as_span }, span }
    }

    /// `a < b` is `Binary`; `a < b <= c` is a `Chain`.
    fn comparison_chain(&mut self, first: Expr) -> Expr {
        let mut ops = Vec::new();
        let mut operands = vec![first];
        while !self.prev_dedent {
            let Some(op) = relational_op(self.nth(0)) else { break };
            let op_span = self.bump();
            ops.push((op, op_span));
            operands.push(self.expr_bp(BP_REL + 1));
        }
        if let ([(op, op_span)], [_, _]) = (ops.as_slice(), operands.as_slice()) {
            let (op, op_span) = (*op, *op_span);
            let rhs = operands.pop();
            let lhs = operands.pop();
            if let (Some(lhs), Some(rhs)) = (lhs, rhs) {
                return binary(op, op_span, lhs, rhs);
            }
            return self.error_expr();
        }
        let span = match (operands.first(), operands.last()) {
            (Some(first), Some(last)) => first.span.to(last.span),
            _ => self.here(),
        };
        Expr { kind: ExprKind::Chain(Box::new(ChainExpr { operands, ops })), span }
    }

    fn prefix(&mut self, min: u8) -> Expr {
        let handler: fn(&mut Self, u8) -> Expr = match self.nth(0) {
            T::Not | T::Bang | T::Minus | T::Tilde => Self::unary,
            T::Amp | T::AmpAmp => Self::borrow,
            T::Spawn => Self::spawn,
            T::New => Self::new_expr,
            T::Ident if self.cur_text() == "move" && matches!(self.nth(1), T::Ident | T::SelfKw) => Self::move_expr,
            _ => Self::primary,
        };
        handler(self, min)
    }

    fn unary(&mut self, min: u8) -> Expr {
        let (op, operand_bp) = match self.nth(0) {
            T::Minus => (UnaryOp::Neg, BP_UNARY),
            T::Tilde => (UnaryOp::BitNot, BP_UNARY),
            // `not a == b` is `not (a == b)`.
            _ => (UnaryOp::Not, BP_EQ),
        };
        let start = self.bump();
        let operand = self.expr_bp(min.max(operand_bp));
        Expr { kind: ExprKind::Unary { op, operand: Box::new(operand) }, span: self.span_from(start) }
    }

    /// `&x`, `&mut x`, and `&&x` (a borrow of a borrow).
    fn borrow(&mut self, _min: u8) -> Expr {
        let double = self.at(&T::AmpAmp);
        let start = self.bump();
        let mutable = self.eat(&T::Mut);
        let value = self.expr_bp(BP_UNARY);
        let inner_start = if double { start.start + 1 } else { start.start };
        let span = self.span_from(Span::new(inner_start, inner_start));
        let inner = Expr { kind: ExprKind::Borrow { mutable, value: Box::new(value) }, span };
        if !double {
            return inner;
        }
        Expr { kind: ExprKind::Borrow { mutable: false, value: Box::new(inner) }, span: self.span_from(start) }
    }

    fn spawn(&mut self, _min: u8) -> Expr {
        let start = self.bump();
        let value = self.expr_bp(BP_UNARY);
        Expr { kind: ExprKind::Spawn(Box::new(value)), span: self.span_from(start) }
    }

    /// `new(&) T(...)`, `new* T(...)`, `new+ T(...)`.
    fn new_expr(&mut self, _min: u8) -> Expr {
        let start = self.bump();
        let kind = if self.eat(&T::LParen) {
            self.expect(&T::Amp, "`&`");
            self.expect(&T::RParen, "`)`");
            PointerKind::Unique
        } else if self.eat(&T::Star) {
            PointerKind::Shared
        } else if self.eat(&T::Plus) {
            PointerKind::Handle
        } else {
            self.expected("`(&)`, `*` or `+`");
            PointerKind::Shared
        };
        let value = self.expr_bp(BP_UNARY);
        Expr { kind: ExprKind::New { kind, value: Box::new(value) }, span: self.span_from(start) }
    }

    fn move_expr(&mut self, _min: u8) -> Expr {
        let start = self.bump();
        let value = self.expr_bp(BP_UNARY);
        Expr { kind: ExprKind::Move(Box::new(value)), span: self.span_from(start) }
    }

    fn primary(&mut self, _min: u8) -> Expr {
        let atom = self.atom();
        self.postfix(atom)
    }

    fn postfix(&mut self, mut expr: Expr) -> Expr {
        let saved_depth = self.depth;
        while let Some(handler) = self.postfix_handler(&expr) {
            // As in `expr_bp`: every step deepens the tree.
            if self.too_deep() {
                self.skip_line();
                break;
            }
            self.depth += 1;
            expr = handler(self, expr);
        }
        self.depth = saved_depth;
        expr
    }

    fn postfix_handler(&self, expr: &Expr) -> Option<fn(&mut Self, Expr) -> Expr> {
        if self.prev_dedent {
            return None;
        }
        Some(match self.nth(0) {
            T::LParen => Self::call,
            T::LBracket => Self::index,
            T::Dot => Self::field,
            T::Arrow => Self::functional_update,
            T::LBrace if is_struct_lit_head(expr) => Self::struct_lit,
            T::Backslash => Self::trailing_lambda,
            _ => return None,
        })
    }

    fn call(&mut self, callee: Expr) -> Expr {
        let start = callee.span;
        let errors = self.errors.len();
        let args = self.call_args();
        // A call whose arguments could not be parsed is an error node: its
        // arity and types would only add errors to the one reported.
        let kind = if self.errors.len() > errors {
            ExprKind::Error
        } else {
            ExprKind::Call { callee: Box::new(callee), args: args.into_boxed_slice() }
        };
        Expr { kind, span: self.span_from(start) }
    }

    fn call_args(&mut self) -> Vec<Arg> {
        self.bump();
        self.comma_list(&T::RParen, "`)`", |p| {
            if p.at(&T::Ident) && p.nth(1) == &T::Colon {
                let name = p.name_here();
                p.bump();
                Some(Arg { name: Some(name), value: p.expr() })
            } else {
                Some(Arg { name: None, value: p.expr() })
            }
        })
    }

    /// `base[i]`, `base[a:b]` (either bound optional), `base[i, j]`.
    fn index(&mut self, base: Expr) -> Expr {
        let start = base.span;
        self.bump();
        let base = Box::new(base);
        let first = if self.at(&T::Colon) { None } else { Some(self.expr()) };
        if self.eat(&T::Colon) {
            let end = if self.at(&T::RBracket) { None } else { Some(Box::new(self.expr())) };
            self.expect(&T::RBracket, "`]`");
            let kind = ExprKind::Slice { base, start: first.map(Box::new), end };
            return Expr { kind, span: self.span_from(start) };
        }
        let mut index = first.unwrap_or_else(|| self.error_expr());
        if self.at(&T::Comma) {
            let mut items = vec![index];
            while self.eat(&T::Comma) && !self.at(&T::RBracket) && !self.at_line_end() {
                items.push(self.expr());
            }
            let span = items[0].span.to(items[items.len() - 1].span);
            index = Expr { kind: ExprKind::Tuple(items), span };
        }
        self.expect(&T::RBracket, "`]`");
        Expr { kind: ExprKind::Index { base, index: Box::new(index) }, span: self.span_from(start) }
    }

    /// `.name`, `.0`, and keywords as names (`S.new()`).
    fn field(&mut self, base: Expr) -> Expr {
        let start = base.span;
        self.bump();
        let name = if self.at(&T::Ident) || self.nth(0).is_keyword() || matches!(self.nth(0), T::Int) {
            self.name_here()
        } else {
            self.expected("field name");
            self.error_name()
        };
        Expr { kind: ExprKind::Field(Box::new(FieldExpr { base, name })), span: self.span_from(start) }
    }

    /// `target->method(args)`
    fn functional_update(&mut self, target: Expr) -> Expr {
        let start = target.span;
        self.bump();
        let method = self.ident("method name");
        let args = if self.at(&T::LParen) {
            self.call_args()
        } else {
            self.expected("`(`");
            Vec::new()
        };
        let kind = ExprKind::FunctionalUpdate(Box::new(FunctionalUpdateExpr { target, method, args }));
        Expr { kind, span: self.span_from(start) }
    }

    /// `Point { x: 1.0, y }` after the type path.
    fn struct_lit(&mut self, head: Expr) -> Expr {
        let start = head.span;
        let path = struct_lit_path(&head).unwrap_or_default();
        self.bump();
        let fields = self.comma_list(&T::RBrace, "`}`", |p| {
            let name = p.ident("field name");
            let value = if p.eat(&T::Colon) {
                p.expr()
            } else {
                // Shorthand `Point { x, y }`.
                Expr { span: name.span, kind: ExprKind::Name(name.clone()) }
            };
            Some((name, value))
        });
        Expr { kind: ExprKind::StructLit(Box::new(StructLitExpr { path, fields })), span: self.span_from(start) }
    }

    /// `xs.each \x:` + block: the lambda becomes the call's last argument
    /// (or the only argument of a call without parentheses).
    fn trailing_lambda(&mut self, expr: Expr) -> Expr {
        let start = expr.span;
        let lambda = self.lambda();
        let arg = Arg { name: None, value: lambda };
        let kind = match expr.kind {
            ExprKind::Call { callee, args } => {
                let mut args = args.into_vec();
                args.push(arg);
                ExprKind::Call { callee, args: args.into_boxed_slice() }
            }
            kind => ExprKind::Call { callee: Box::new(Expr { kind, span: expr.span }), args: Box::new([arg]) },
        };
        Expr { kind, span: self.span_from(start) }
    }

    fn atom(&mut self) -> Expr {
        let handler: fn(&mut Self) -> Expr = match self.nth(0) {
            T::Int | T::Float(_) | T::True | T::False | T::Nil => Self::literal_atom,
            T::Str(_) => Self::string_literal,
            T::Ident | T::SelfKw => Self::name_or_path,
            T::LParen => Self::paren,
            T::LBracket => Self::list_literal,
            T::LBrace => Self::dict_literal,
            T::Backslash => Self::lambda,
            T::If => Self::if_expr,
            T::Match => Self::match_expr,
            _ => Self::missing_expr,
        };
        handler(self)
    }

    fn missing_expr(&mut self) -> Expr {
        self.expected("expression");
        self.error_expr()
    }

    /// An int, float, bool or nil literal.
    fn literal_atom(&mut self) -> Expr {
        let kind = match self.nth(0) {
            T::Int => ExprKind::Int(Pu128(int_value(self.cur_text()))),
            T::Float(value) => ExprKind::Float(*value),
            T::True => ExprKind::Bool(true),
            T::False => ExprKind::Bool(false),
            _ => ExprKind::Nil,
        };
        let span = self.bump();
        Expr { kind, span }
    }

    /// `x`, `self`, `Shape::Circle`, `shapes.Shape::Circle`.
    fn name_or_path(&mut self) -> Expr {
        let start = self.cur_span();
        // `a.b.C::D`: the dotted names before a `::` are a module path,
        // not field accesses.
        let mut dots = 0;
        while self.nth(2 * dots + 1) == &T::Dot && self.nth(2 * dots + 2) == &T::Ident {
            dots += 1;
        }
        let name = self.name_here();
        if self.nth(2 * dots) != &T::ColonColon {
            return Expr { span: name.span, kind: ExprKind::Name(name) };
        }
        let mut path = vec![name];
        for _ in 0..dots {
            self.bump();
            path.push(self.name_here());
        }
        while self.eat(&T::ColonColon) {
            path.push(self.ident("identifier"));
        }
        Expr { kind: ExprKind::Path(path), span: self.span_from(start) }
    }

    fn list_literal(&mut self) -> Expr {
        let start = self.bump();
        let items = self.comma_list(&T::RBracket, "`]`", |p| Some(p.expr()));
        Expr { kind: ExprKind::List(items), span: self.span_from(start) }
    }

    fn dict_literal(&mut self) -> Expr {
        let start = self.bump();
        let entries = self.comma_list(&T::RBrace, "`}`", |p| {
            let key = p.expr();
            p.expect(&T::Colon, "`:`");
            Some((key, p.expr()))
        });
        Expr { kind: ExprKind::Dict(entries), span: self.span_from(start) }
    }

    /// `()`, `(e)` (its span widened to the parentheses), `(a, b,)`.
    fn paren(&mut self) -> Expr {
        let start = self.bump();
        if self.eat(&T::RParen) {
            return Expr { kind: ExprKind::Tuple(Vec::new()), span: self.span_from(start) };
        }
        let first = self.expr();
        if !self.at(&T::Comma) {
            self.expect(&T::RParen, "`)`");
            return Expr { kind: first.kind, span: self.span_from(start) };
        }
        let mut items = vec![first];
        while self.eat(&T::Comma) && !self.at(&T::RParen) && !self.at_line_end() {
            items.push(self.expr());
        }
        self.expect(&T::RParen, "`)`");
        Expr { kind: ExprKind::Tuple(items), span: self.span_from(start) }
    }

    fn string_literal(&mut self) -> Expr {
        let segments = match self.tokens.get_mut(self.pos).map(|t| &mut t.kind) {
            // The parser never backtracks, so it can take the parts.
            Some(T::Str(segments)) => std::mem::take(&mut **segments),
            _ => Vec::new(),
        };
        let span = self.bump();
        let end = self.last_end;
        let mut parts = Vec::with_capacity(segments.len());
        for segment in segments {
            match segment {
                StrSegment::Text(text) => parts.push(StrPart::Text(text)),
                StrSegment::Interp { tokens, spec, span } => {
                    let expr = self.interpolation(tokens, span);
                    parts.push(StrPart::Interp { expr, spec });
                }
            }
        }
        self.last_end = end;
        Expr { kind: ExprKind::Str(parts), span }
    }

    /// Parse an interpolation's tokens as one expression.
    fn interpolation(&mut self, tokens: Vec<Token>, braces: Span) -> Expr {
        let saved_tokens = std::mem::replace(&mut self.tokens, tokens);
        let saved_pos = std::mem::replace(&mut self.pos, 0);
        let saved_dedent = std::mem::replace(&mut self.prev_dedent, false);
        let saved_recovering = self.recovering;
        let expr = if self.at(&T::Eof) {
            let span = self.rel(braces);
            self.report(SyntaxErrorKind::EmptyInterpolation, span);
            Expr { kind: ExprKind::Error, span }
        } else {
            let expr = self.expr();
            if !self.at(&T::Eof) {
                self.expected("`}`");
            }
            expr
        };
        self.tokens = saved_tokens;
        self.pos = saved_pos;
        self.prev_dedent = saved_dedent;
        self.recovering = saved_recovering;
        expr
    }

    /// `\x: body`, `\a, b: body`, `\: body`, `\(x: i64) -> i64: body`.
    fn lambda(&mut self) -> Expr {
        let start = self.bump();
        let mut params = Vec::new();
        let mut ret = None;
        if self.eat(&T::LParen) {
            params = self.comma_list(&T::RParen, "`)`", |p| p.param(false));
            if self.eat(&T::Arrow) {
                ret = Some(self.type_expr());
            }
        } else if !self.at(&T::Colon) {
            loop {
                let param_start = self.cur_span();
                let name = self.ident("parameter");
                params.push(Param { name, ty: None, default: None, is_mut: false, span: self.span_from(param_start) });
                if !self.eat(&T::Comma) {
                    break;
                }
            }
        }
        let body = if self.expect(&T::Colon, "`:`") { self.block_after_colon() } else { self.empty_block() };
        Expr { kind: ExprKind::Lambda(Box::new(LambdaExpr { params, ret, body })), span: self.span_from(start) }
    }

    /// An inline body followed on the next line by `elif`/`else`: step over
    /// the NEWLINE.
    fn skip_newline_before(&mut self, continuations: &[T]) {
        if !self.prev_dedent && self.at(&T::Newline) && continuations.contains(self.nth(1)) {
            self.bump();
        }
    }

    /// At `if` (or at `elif`, continuing a chain as a nested `if`).
    fn if_expr(&mut self) -> Expr {
        let start = self.bump();
        if self.eat(&T::Let) {
            return self.if_let(start);
        }
        let cond = self.expr();
        let body = self.header_block();
        let mut branches = vec![(cond, body)];
        let mut else_block = None;
        loop {
            self.skip_newline_before(&[T::Elif, T::Else]);
            if self.at(&T::Elif) && self.nth(1) == &T::Let {
                else_block = Some(self.nested_if());
            } else if self.eat(&T::Elif) {
                let cond = self.expr();
                let body = self.header_block();
                branches.push((cond, body));
                continue;
            } else if self.eat(&T::Else) {
                else_block = Some(if self.at(&T::If) { self.nested_if() } else { self.header_block() });
            }
            break;
        }
        let kind = ExprKind::If { branches: branches.into_boxed_slice(), else_block: else_block.map(Box::new) };
        Expr { kind, span: self.span_from(start) }
    }

    /// `if let pattern = value: ... [elif ...] [else: ...]`, after `let`.
    fn if_let(&mut self, start: Span) -> Expr {
        let pattern = self.pattern();
        self.expect(&T::Eq, "`=`");
        let value = self.expr();
        let then_block = self.header_block();
        self.skip_newline_before(&[T::Elif, T::Else]);
        let else_block = if self.at(&T::Elif) {
            Some(self.nested_if())
        } else if self.eat(&T::Else) {
            Some(if self.at(&T::If) { self.nested_if() } else { self.header_block() })
        } else {
            None
        };
        let kind = ExprKind::IfLet(Box::new(IfLetExpr { pattern, value, then_block, else_block }));
        Expr { kind, span: self.span_from(start) }
    }

    /// An `elif`/`else if` chain as a block holding one `if` expression.
    fn nested_if(&mut self) -> Block {
        let expr = self.if_expr();
        let span = expr.span;
        Block { stmts: Box::new([Stmt { kind: StmtKind::Expr(expr), span }]), span }
    }

    fn match_expr(&mut self) -> Expr {
        let start = self.bump();
        let scrutinee = Box::new(self.expr());
        let mut arms = Vec::new();
        if self.header_colon() && self.open_block() {
            self.block_items(|p| arms.push(p.match_arm()));
        }
        Expr { kind: ExprKind::Match { scrutinee, arms: arms.into_boxed_slice() }, span: self.span_from(start) }
    }

    /// `case PAT [if GUARD]: body` or `PAT [if GUARD] => body`.
    fn match_arm(&mut self) -> MatchArm {
        let start = self.cur_span();
        let is_case = self.eat(&T::Case);
        let pattern = self.pattern();
        let guard = if self.eat(&T::If) { Some(self.expr()) } else { None };
        let body = if is_case {
            self.header_block()
        } else if self.at(&T::FatArrow) {
            self.bump();
            self.block_after_colon()
        } else {
            self.expected("`=>`");
            self.empty_block()
        };
        MatchArm { pattern, guard, body, span: self.span_from(start) }
    }

    // ----- Patterns -----------------------------------------------------

    fn pattern(&mut self) -> Pattern {
        if self.too_deep() {
            let span = self.here();
            self.skip_line();
            return Pattern { kind: PatternKind::Wildcard, span };
        }
        self.depth += 1;
        let first = self.single_pattern();
        let pattern = if self.at(&T::Pipe) {
            let mut alternatives = vec![first];
            while self.eat(&T::Pipe) {
                alternatives.push(self.single_pattern());
            }
            let span = alternatives[0].span.to(alternatives[alternatives.len() - 1].span);
            Pattern { kind: PatternKind::Or(alternatives), span }
        } else {
            first
        };
        self.depth -= 1;
        pattern
    }

    fn at_literal(&self) -> bool {
        match self.nth(0) {
            T::Int | T::Float(_) | T::Str(_) | T::True | T::False | T::Nil => true,
            T::Minus => matches!(self.nth(1), T::Int | T::Float(_)),
            _ => false,
        }
    }

    /// A literal in a pattern, possibly negated.
    fn literal(&mut self) -> Expr {
        if !self.at_literal() {
            self.expected("literal");
            return self.error_expr();
        }
        if self.at(&T::Minus) {
            let start = self.bump();
            let operand = self.atom();
            return Expr {
                kind: ExprKind::Unary { op: UnaryOp::Neg, operand: Box::new(operand) },
                span: self.span_from(start),
            };
        }
        self.atom()
    }

    fn single_pattern(&mut self) -> Pattern {
        let start = self.cur_span();
        let kind = match self.nth(0) {
            T::Ident if self.cur_text() == "_" => {
                self.bump();
                PatternKind::Wildcard
            }
            T::Mut => {
                self.bump();
                PatternKind::Binding { name: self.ident("binding name"), mutable: true }
            }
            _ if self.at_literal() => {
                let lit = self.literal();
                if matches!(self.nth(0), T::DotDot | T::DotDotEq) {
                    let inclusive = self.at(&T::DotDotEq);
                    self.bump();
                    let end = self.literal();
                    PatternKind::Range { start: Box::new(lit), end: Box::new(end), inclusive }
                } else {
                    PatternKind::Literal(Box::new(lit))
                }
            }
            T::LParen => {
                self.bump();
                if self.eat(&T::RParen) {
                    PatternKind::Tuple(Vec::new())
                } else {
                    let first = self.pattern();
                    if self.at(&T::Comma) {
                        let mut items = vec![first];
                        while self.eat(&T::Comma) && !self.at(&T::RParen) && !self.at_line_end() {
                            items.push(self.pattern());
                        }
                        self.expect(&T::RParen, "`)`");
                        PatternKind::Tuple(items)
                    } else {
                        self.expect(&T::RParen, "`)`");
                        first.kind
                    }
                }
            }
            T::Ident | T::SelfKw => {
                let mut path = vec![self.name_here()];
                while matches!(self.nth(0), T::ColonColon | T::Dot) && self.nth(1) == &T::Ident {
                    self.bump();
                    path.push(self.name_here());
                }
                if self.eat(&T::LParen) {
                    let args = self.comma_list(&T::RParen, "`)`", |p| {
                        if p.at(&T::Ident) && p.nth(1) == &T::Colon {
                            let name = p.name_here();
                            p.bump();
                            Some(FieldPattern { name: Some(name), pattern: p.pattern() })
                        } else {
                            Some(FieldPattern { name: None, pattern: p.pattern() })
                        }
                    });
                    PatternKind::Constructor(Box::new(ConstructorPattern { path, args: Some(args) }))
                } else if path.len() > 1 {
                    PatternKind::Constructor(Box::new(ConstructorPattern { path, args: None }))
                } else {
                    let name = path.pop().unwrap_or_else(|| self.error_name());
                    PatternKind::Binding { name, mutable: false }
                }
            }
            _ => {
                self.expected("pattern");
                return Pattern { kind: PatternKind::Wildcard, span: self.here() };
            }
        };
        Pattern { kind, span: self.span_from(start) }
    }

    // ----- Types --------------------------------------------------------

    fn type_expr(&mut self) -> TypeExpr {
        let start = self.cur_span();
        let saved_depth = self.depth;
        let mut ty = self.prefix_type();
        while self.at(&T::Question) || self.at(&T::QuestionQuestion) {
            if self.too_deep() {
                self.skip_line();
                break;
            }
            self.depth += 1;
            // `T??` lexes as one `??` token: two optionals.
            let twice = self.at(&T::QuestionQuestion);
            self.bump();
            ty = TypeExpr { kind: TypeExprKind::Optional(Box::new(ty)), span: self.span_from(start) };
            if twice {
                ty = TypeExpr { kind: TypeExprKind::Optional(Box::new(ty)), span: self.span_from(start) };
            }
        }
        self.depth = saved_depth;
        ty
    }

    fn prefix_type(&mut self) -> TypeExpr {
        if self.too_deep() {
            let ty = self.error_type();
            self.skip_line();
            return ty;
        }
        self.depth += 1;
        let ty = self.prefix_type_inner();
        self.depth -= 1;
        ty
    }

    fn pointer(&mut self, kind: PointerKind) -> TypeExprKind {
        self.bump();
        TypeExprKind::Pointer { kind, inner: Box::new(self.prefix_type()) }
    }

    fn prefix_type_inner(&mut self) -> TypeExpr {
        let start = self.cur_span();
        let kind = match self.nth(0) {
            T::Amp => {
                self.bump();
                if self.eat(&T::Mut) {
                    TypeExprKind::BorrowMut(Box::new(self.prefix_type()))
                } else {
                    TypeExprKind::Pointer { kind: PointerKind::Unique, inner: Box::new(self.prefix_type()) }
                }
            }
            T::AmpAmp => {
                // `&&T` lexes as one token: a unique pointer to a unique pointer.
                let inner_start = start.start + 1;
                self.bump();
                let inner = self.prefix_type();
                let span = self.span_from(Span::new(inner_start, inner_start));
                let kind = TypeExprKind::Pointer { kind: PointerKind::Unique, inner: Box::new(inner) };
                TypeExprKind::Pointer { kind: PointerKind::Unique, inner: Box::new(TypeExpr { kind, span }) }
            }
            T::Star => self.pointer(PointerKind::Shared),
            T::Minus => self.pointer(PointerKind::Weak),
            T::Plus => self.pointer(PointerKind::Handle),
            T::Ident if self.cur_text() == "dyn" && self.nth(1) == &T::Ident => {
                self.bump();
                TypeExprKind::Dyn(Box::new(self.prefix_type()))
            }
            T::Ident | T::Nil | T::SelfKw => {
                let mut path = vec![self.name_here()];
                while matches!(self.nth(0), T::Dot | T::ColonColon) && self.nth(1) == &T::Ident {
                    self.bump();
                    path.push(self.name_here());
                }
                let args = if self.eat(&T::LBracket) {
                    self.comma_list(&T::RBracket, "`]`", |p| Some(p.type_expr()))
                } else {
                    Vec::new()
                };
                TypeExprKind::Named { path, args }
            }
            T::LBracket => {
                self.bump();
                let element = self.type_expr();
                self.expect(&T::RBracket, "`]`");
                TypeExprKind::List(Box::new(element))
            }
            T::LBrace => {
                self.bump();
                let key = self.type_expr();
                self.expect(&T::Colon, "`:`");
                let value = self.type_expr();
                self.expect(&T::RBrace, "`}`");
                TypeExprKind::Dict(Box::new(key), Box::new(value))
            }
            T::LParen => {
                self.bump();
                let mut items = Vec::new();
                let mut trailing_comma = false;
                while !self.at(&T::RParen) && !self.at_line_end() {
                    let before = self.pos;
                    items.push(self.type_expr());
                    trailing_comma = self.eat(&T::Comma);
                    if !trailing_comma || self.pos == before {
                        break;
                    }
                }
                self.expect(&T::RParen, "`)`");
                if items.len() == 1 && !trailing_comma {
                    let inner = items.pop().map(|t| t.kind).unwrap_or(TypeExprKind::Tuple(Vec::new()));
                    return TypeExpr { kind: inner, span: self.span_from(start) };
                }
                TypeExprKind::Tuple(items)
            }
            T::Fn => {
                self.bump();
                let params = if self.eat(&T::LParen) {
                    self.comma_list(&T::RParen, "`)`", |p| Some(p.type_expr()))
                } else {
                    self.expected("`(`");
                    Vec::new()
                };
                let ret = if self.eat(&T::Arrow) { Some(Box::new(self.type_expr())) } else { None };
                TypeExprKind::Fn { params, ret }
            }
            _ => {
                self.expected("type");
                return self.error_type();
            }
        };
        TypeExpr { kind, span: self.span_from(start) }
    }
}

fn binary(op: BinOp, op_span: Span, lhs: Expr, rhs: Expr) -> Expr {
    let span = lhs.span.to(rhs.span);
    Expr { kind: ExprKind::Binary { op, op_span, lhs: Box::new(lhs), rhs: Box::new(rhs) }, span }
}

#[cfg(test)]
mod tests;
