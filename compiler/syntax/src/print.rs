//! Text forms of tokens and trees, for `simple dump` and snapshot tests.
//!
//! The tree is printed as S-expressions: `(fn add (param a i64) (param b i64)
//! -> i64 (block (return (+ a b))))`. A node that fits in [`WIDTH`] columns
//! stays on one line; a longer one keeps its leading atoms (and the subject
//! of an `if`, `call`, `=`, ...) on its first line and puts each further
//! child on its own indented line.
//! Types are printed in surface syntax (`[i64]`, `fn(i64) -> str`, `T?`) and
//! spans are not printed.

use std::fmt::Write;

use crate::ast::*;
use crate::token::{Token, TokenKind, int_value};

const WIDTH: usize = 100;

/// One token per line: `LINE:COL KIND text` (1-based line and column, the
/// column counted in characters).
pub fn dump_tokens(text: &str, tokens: &[Token]) -> String {
    let mut out = String::new();
    // Line and column are advanced incrementally: tokens come in order.
    let (mut pos, mut line, mut col) = (0usize, 1usize, 1usize);
    for token in tokens {
        let start = (token.span.start as usize).min(text.len());
        if start >= pos {
            for c in text.get(pos..start).unwrap_or("").chars() {
                if c == '\n' {
                    line += 1;
                    col = 1;
                } else {
                    col += 1;
                }
            }
            pos = start;
        }
        let source = text.get(start..token.span.end as usize).unwrap_or("");
        let _ = write!(out, "{line}:{col} {}", token.kind.dump_name());
        match &token.kind {
            TokenKind::Newline | TokenKind::Indent | TokenKind::Dedent | TokenKind::Eof => {}
            TokenKind::Int => {
                let _ = write!(out, " {source} = {}", int_value(source));
            }
            TokenKind::Float(value) => {
                let _ = write!(out, " {source} = {:?}", value.value());
            }
            _ => {
                let _ = write!(out, " {source}");
            }
        }
        out.push('\n');
    }
    out
}

/// The whole file, one top-level item after another.
pub fn dump_ast(file: &SourceFile) -> String {
    let mut out = String::new();
    for item in &file.items {
        render(&item_sexp(&item.item), 0, &mut out);
        out.push('\n');
    }
    out
}

/// An S-expression under construction.
enum Sexp {
    Atom(String),
    List(Vec<Sexp>),
}

fn atom(text: impl Into<String>) -> Sexp {
    Sexp::Atom(text.into())
}

fn list(items: Vec<Sexp>) -> Sexp {
    Sexp::List(items)
}

/// `(head children...)`
fn node(head: &str, children: impl IntoIterator<Item = Sexp>) -> Sexp {
    let mut items = vec![atom(head)];
    items.extend(children);
    Sexp::List(items)
}

fn flat(sexp: &Sexp, out: &mut String) {
    match sexp {
        Sexp::Atom(text) => out.push_str(text),
        Sexp::List(items) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                flat(item, out);
            }
            out.push(')');
        }
    }
}

fn render(sexp: &Sexp, indent: usize, out: &mut String) {
    let mut one_line = String::new();
    flat(sexp, &mut one_line);
    let Sexp::List(items) = sexp else {
        out.push_str(&one_line);
        return;
    };
    if indent + one_line.len() <= WIDTH {
        out.push_str(&one_line);
        return;
    }
    // Leading atoms stay on the first line, and so does a list right after
    // the head of a node with a subject (`if` its condition, `call` its callee);
    // each later list child starts a new line, and an atom stays on the line
    // of the child before it.
    let inline_first = match items.first() {
        Some(Sexp::Atom(head)) => !CONTAINER_HEADS.contains(&head.as_str()),
        _ => false,
    };
    out.push('(');
    for (i, item) in items.iter().enumerate() {
        if i > 0 && matches!(item, Sexp::List(_)) && !(i == 1 && inline_first) {
            out.push('\n');
            out.push_str(&" ".repeat(indent + 2));
        } else if i > 0 {
            out.push(' ');
        }
        render(item, indent + 2, out);
    }
    out.push(')');
}

/// Heads whose children are all alike: broken one per line.
const CONTAINER_HEADS: &[&str] = &[
    "fn",
    "pub",
    "static",
    "extern fn",
    "on",
    "struct",
    "class",
    "enum",
    "trait",
    "impl",
    "actor",
    "state",
    "block",
    "list",
    "dict",
    "tuple",
    "str",
    "generics",
    "variant",
    "else",
];

fn name(name: &Name) -> Sexp {
    if name.text.is_empty() { atom("<error>") } else { atom(&*name.text) }
}

fn path_text(path: &[Name]) -> String {
    path.iter().map(|n| &*n.text).collect::<Vec<_>>().join("::")
}

fn item_sexp(item: &Item) -> Sexp {
    let sexp = item_kind_sexp(&item.kind);
    match item.kind {
        // `FnDef::is_pub` already shows it.
        ItemKind::Fn(_) | ItemKind::Extern(_) => sexp,
        _ if item.is_pub => node("pub", [sexp]),
        _ => sexp,
    }
}

fn item_kind_sexp(kind: &ItemKind) -> Sexp {
    match kind {
        ItemKind::Fn(def) => fn_sexp("fn", def),
        ItemKind::Extern(def) => fn_sexp("extern fn", def),
        ItemKind::Struct(def) => struct_sexp("struct", def),
        ItemKind::Class(def) => struct_sexp("class", def),
        ItemKind::Enum(def) => {
            let mut items = vec![atom("enum"), name(&def.name)];
            items.extend(generics_sexp(&def.generics));
            for variant in &def.variants {
                let mut v = vec![atom("variant"), name(&variant.name)];
                for field in &variant.fields {
                    v.push(match &field.name {
                        Some(n) => list(vec![name(n), atom(type_text(&field.ty))]),
                        None => atom(type_text(&field.ty)),
                    });
                }
                items.push(list(v));
            }
            items.extend(def.methods.iter().map(|m| fn_sexp("fn", m)));
            list(items)
        }
        ItemKind::Trait(def) => {
            let mut items = vec![atom("trait"), name(&def.name)];
            items.extend(generics_sexp(&def.generics));
            items.extend(def.methods.iter().map(|m| fn_sexp("fn", m)));
            list(items)
        }
        ItemKind::Impl(def) => {
            let mut items = vec![atom("impl")];
            items.extend(generics_sexp(&def.generics));
            if let Some(trait_ref) = &def.trait_ref {
                items.push(atom(type_text(trait_ref)));
                items.push(atom("for"));
            }
            items.push(atom(type_text(&def.self_ty)));
            items.extend(def.methods.iter().map(|m| fn_sexp("fn", m)));
            list(items)
        }
        ItemKind::Actor(def) => {
            let mut items = vec![atom("actor"), name(&def.name)];
            if !def.state.is_empty() {
                items.push(node("state", def.state.iter().map(field_sexp)));
            }
            items.extend(def.handlers.iter().map(|h| fn_sexp("on", h)));
            items.extend(def.methods.iter().map(|m| fn_sexp("fn", m)));
            list(items)
        }
        ItemKind::Const(def) => {
            let mut items = vec![atom("const"), name(&def.name)];
            if let Some(ty) = &def.ty {
                items.push(atom(":"));
                items.push(atom(type_text(ty)));
            }
            items.push(expr_sexp(&def.value));
            list(items)
        }
        ItemKind::Import(import) => match &**import {
            ImportDef::Module { path, alias } => {
                let mut items = vec![atom("import"), atom(dotted(path))];
                if let Some(alias) = alias {
                    items.push(atom("as"));
                    items.push(name(alias));
                }
                list(items)
            }
            ImportDef::From { path, names } => {
                let mut items = vec![atom("from"), atom(dotted(path)), atom("import")];
                for (n, alias) in names {
                    items.push(match alias {
                        Some(alias) => list(vec![name(n), atom("as"), name(alias)]),
                        None => name(n),
                    });
                }
                list(items)
            }
        },
        ItemKind::TypeAlias { name: n, ty } => list(vec![atom("type"), name(n), atom("="), atom(type_text(ty))]),
        ItemKind::HandlePool { ty, settings } => {
            let mut items = vec![atom("handle_pool"), name(ty)];
            items.extend(settings.iter().map(|(n, e)| list(vec![name(n), expr_sexp(e)])));
            list(items)
        }
        ItemKind::Stmt(stmt) => stmt_sexp(stmt),
    }
}

fn dotted(path: &[Name]) -> String {
    path.iter().map(|n| if n.text.is_empty() { "<error>" } else { &*n.text }).collect::<Vec<_>>().join(".")
}

fn generics_sexp(generics: &[GenericParam]) -> Option<Sexp> {
    if generics.is_empty() {
        return None;
    }
    Some(node(
        "generics",
        generics.iter().map(|g| {
            if g.bounds.is_empty() {
                name(&g.name)
            } else {
                let mut items = vec![name(&g.name)];
                items.extend(g.bounds.iter().map(|b| atom(type_text(b))));
                list(items)
            }
        }),
    ))
}

fn fn_sexp(head: &str, def: &FnDef) -> Sexp {
    let mut items = Vec::new();
    if def.is_pub {
        items.push(atom("pub"));
    }
    if def.is_static {
        items.push(atom("static"));
    }
    items.push(atom(head));
    items.push(name(&def.name));
    items.extend(generics_sexp(&def.generics));
    items.extend(def.params.iter().map(param_sexp));
    if let Some(ret) = &def.ret {
        items.push(atom("->"));
        items.push(atom(type_text(ret)));
    }
    if let Some(body) = &def.body {
        items.push(block_sexp(body));
    }
    list(items)
}

fn param_sexp(param: &Param) -> Sexp {
    let mut items = vec![atom("param")];
    if param.is_mut {
        items.push(atom("mut"));
    }
    items.push(name(&param.name));
    if let Some(ty) = &param.ty {
        items.push(atom(type_text(ty)));
    }
    if let Some(default) = &param.default {
        items.push(atom("="));
        items.push(expr_sexp(default));
    }
    list(items)
}

fn struct_sexp(head: &str, def: &StructDef) -> Sexp {
    let mut items = vec![atom(head), name(&def.name)];
    items.extend(generics_sexp(&def.generics));
    items.extend(def.fields.iter().map(field_sexp));
    items.extend(def.methods.iter().map(|m| fn_sexp("fn", m)));
    list(items)
}

fn field_sexp(field: &FieldDef) -> Sexp {
    let mut items = vec![atom("field")];
    if field.is_pub {
        items.push(atom("pub"));
    }
    items.push(name(&field.name));
    items.push(atom(type_text(&field.ty)));
    if let Some(default) = &field.default {
        items.push(atom("="));
        items.push(expr_sexp(default));
    }
    list(items)
}

/// A type in surface syntax.
pub(crate) fn type_text(ty: &TypeExpr) -> String {
    let mut out = String::new();
    write_type(ty, &mut out);
    out
}

fn write_type(ty: &TypeExpr, out: &mut String) {
    let write_list = |items: &[TypeExpr], out: &mut String| {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_type(item, out);
        }
    };
    match &ty.kind {
        TypeExprKind::Named { path, args } => {
            out.push_str(&dotted(path));
            if !args.is_empty() {
                out.push('[');
                write_list(args, out);
                out.push(']');
            }
        }
        TypeExprKind::Optional(inner) => {
            write_type(inner, out);
            out.push('?');
        }
        TypeExprKind::List(inner) => {
            out.push('[');
            write_type(inner, out);
            out.push(']');
        }
        TypeExprKind::Dict(key, value) => {
            out.push('{');
            write_type(key, out);
            out.push_str(": ");
            write_type(value, out);
            out.push('}');
        }
        TypeExprKind::Tuple(items) => {
            out.push('(');
            write_list(items, out);
            if items.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        TypeExprKind::Fn { params, ret } => {
            out.push_str("fn(");
            write_list(params, out);
            out.push(')');
            if let Some(ret) = ret {
                out.push_str(" -> ");
                write_type(ret, out);
            }
        }
        TypeExprKind::Dyn(inner) => {
            out.push_str("dyn ");
            write_type(inner, out);
        }
        TypeExprKind::Pointer { kind, inner } => {
            out.push_str(match kind {
                PointerKind::Unique => "&",
                PointerKind::Shared => "*",
                PointerKind::Weak => "-",
                PointerKind::Handle => "+",
            });
            write_type(inner, out);
        }
        TypeExprKind::BorrowMut(inner) => {
            out.push_str("&mut ");
            write_type(inner, out);
        }
    }
}

fn block_sexp(block: &Block) -> Sexp {
    node("block", block.stmts.iter().map(stmt_sexp))
}

fn stmt_sexp(stmt: &Stmt) -> Sexp {
    match &stmt.kind {
        StmtKind::Let(binding) => {
            let mut items = vec![atom("let")];
            if binding.mutable {
                items.push(atom("mut"));
            }
            items.push(pattern_sexp(&binding.pattern));
            if let Some(ty) = &binding.ty {
                items.push(atom(":"));
                items.push(atom(type_text(ty)));
            }
            if let Some(value) = &binding.value {
                items.push(expr_sexp(value));
            }
            list(items)
        }
        StmtKind::Assign(assign) => {
            let op = match assign.op {
                Some(op) => format!("{}=", op.symbol()),
                None => "=".to_string(),
            };
            list(vec![atom(op), expr_sexp(&assign.target), expr_sexp(&assign.value)])
        }
        StmtKind::Expr(expr) => expr_sexp(expr),
        StmtKind::Return(value) => node("return", value.iter().map(expr_sexp)),
        StmtKind::Break => list(vec![atom("break")]),
        StmtKind::Continue => list(vec![atom("continue")]),
        StmtKind::While { cond, body } => list(vec![atom("while"), expr_sexp(cond), block_sexp(body)]),
        StmtKind::WhileLet(while_let) => list(vec![
            atom("while"),
            atom("let"),
            pattern_sexp(&while_let.pattern),
            expr_sexp(&while_let.value),
            block_sexp(&while_let.body),
        ]),
        StmtKind::Loop { body } => list(vec![atom("loop"), block_sexp(body)]),
        StmtKind::For(for_loop) => list(vec![
            atom("for"),
            pattern_sexp(&for_loop.pattern),
            atom("in"),
            expr_sexp(&for_loop.iter),
            block_sexp(&for_loop.body),
        ]),
        StmtKind::Send { target, message } => list(vec![atom("send"), expr_sexp(target), expr_sexp(message)]),
        StmtKind::Item(item) => item_sexp(item),
    }
}

/// One small function per kind of expression: this recursion must not use
/// much stack per level, even in debug builds.
fn expr_sexp(expr: &Expr) -> Sexp {
    match &expr.kind {
        ExprKind::Int(value) => atom(value.to_string()),
        ExprKind::Float(bits) => atom(format!("{:?}", bits.value())),
        ExprKind::Str(parts) => str_sexp(parts),
        ExprKind::Bool(value) => atom(value.to_string()),
        ExprKind::Nil => atom("nil"),
        ExprKind::Name(n) => name(n),
        ExprKind::Path(path) => atom(path_text(path)),
        ExprKind::Unary { op, operand } => unary_sexp(*op, operand),
        ExprKind::Binary { op, lhs, rhs, .. } => binary_sexp(*op, lhs, rhs),
        ExprKind::Chain(chain) => chain_sexp(&chain.operands, &chain.ops),
        ExprKind::Cast { expr, ty, .. } => cast_sexp(expr, ty),
        ExprKind::Is { expr, pattern } => is_sexp(expr, pattern),
        ExprKind::Call { callee, args } => call_sexp("call", callee, None, args),
        ExprKind::Field(field) => field_sexp_expr(&field.base, &field.name),
        ExprKind::Index { base, index } => index_sexp(base, index),
        ExprKind::Slice { base, start, end } => slice_sexp(base, start.as_deref(), end.as_deref()),
        ExprKind::If { branches, else_block } => if_sexp(branches, else_block.as_deref()),
        ExprKind::IfLet(if_let) => if_let_sexp(if_let),
        ExprKind::Match { scrutinee, arms } => match_sexp(scrutinee, arms),
        ExprKind::Range { start, end, inclusive } => range_sexp(start, end, *inclusive),
        ExprKind::Tuple(items) => exprs_sexp("tuple", items),
        ExprKind::List(items) => exprs_sexp("list", items),
        ExprKind::Dict(entries) => dict_sexp(entries),
        ExprKind::StructLit(lit) => struct_lit_sexp(&lit.path, &lit.fields),
        ExprKind::Lambda(lambda) => lambda_sexp(&lambda.params, lambda.ret.as_ref(), &lambda.body),
        ExprKind::FunctionalUpdate(update) => call_sexp("->", &update.target, Some(&update.method), &update.args),
        ExprKind::Spawn(value) => wrap_sexp("spawn", value),
        ExprKind::New { kind, value } => {
            let head = match kind {
                PointerKind::Unique => "new(&)",
                PointerKind::Shared => "new*",
                PointerKind::Weak => "new-",
                PointerKind::Handle => "new+",
            };
            wrap_sexp(head, value)
        }
        ExprKind::Borrow { mutable, value } => wrap_sexp(if *mutable { "&mut" } else { "&" }, value),
        ExprKind::Move(value) => wrap_sexp("move", value),
        ExprKind::Error => atom("<error>"),
    }
}

fn str_sexp(parts: &[StrPart]) -> Sexp {
    if let [StrPart::Text(text)] = parts {
        return atom(format!("{text:?}"));
    }
    node(
        "str",
        parts.iter().map(|part| match part {
            StrPart::Text(text) => atom(format!("{text:?}")),
            StrPart::Interp { expr, spec: None } => node("interp", [expr_sexp(expr)]),
            StrPart::Interp { expr, spec: Some(spec) } => node("interp", [expr_sexp(expr), atom(format!("{spec:?}"))]),
        }),
    )
}

fn wrap_sexp(head: &str, value: &Expr) -> Sexp {
    node(head, [expr_sexp(value)])
}

fn unary_sexp(op: UnaryOp, operand: &Expr) -> Sexp {
    let op = match op {
        UnaryOp::Neg => "-",
        UnaryOp::Not => "not",
        UnaryOp::BitNot => "~",
    };
    wrap_sexp(op, operand)
}

fn binary_sexp(op: BinOp, lhs: &Expr, rhs: &Expr) -> Sexp {
    node(op.symbol(), [expr_sexp(lhs), expr_sexp(rhs)])
}

fn chain_sexp(operands: &[Expr], ops: &[(BinOp, crate::Span)]) -> Sexp {
    let mut items = vec![atom("chain")];
    for (i, operand) in operands.iter().enumerate() {
        if let Some((op, _)) = i.checked_sub(1).and_then(|i| ops.get(i)) {
            items.push(atom(op.symbol()));
        }
        items.push(expr_sexp(operand));
    }
    list(items)
}

fn cast_sexp(expr: &Expr, ty: &TypeExpr) -> Sexp {
    list(vec![atom("as"), expr_sexp(expr), atom(type_text(ty))])
}

fn is_sexp(expr: &Expr, pattern: &Pattern) -> Sexp {
    list(vec![atom("is"), expr_sexp(expr), pattern_sexp(pattern)])
}

fn call_sexp(head: &str, callee: &Expr, method: Option<&Name>, args: &[Arg]) -> Sexp {
    let mut items = vec![atom(head), expr_sexp(callee)];
    items.extend(method.map(name));
    for arg in args {
        if let Some(n) = &arg.name {
            items.push(atom(format!("{}:", n.text)));
        }
        items.push(expr_sexp(&arg.value));
    }
    list(items)
}

fn field_sexp_expr(base: &Expr, field: &Name) -> Sexp {
    list(vec![atom("."), expr_sexp(base), name(field)])
}

fn index_sexp(base: &Expr, index: &Expr) -> Sexp {
    list(vec![atom("index"), expr_sexp(base), expr_sexp(index)])
}

fn slice_sexp(base: &Expr, start: Option<&Expr>, end: Option<&Expr>) -> Sexp {
    let bound = |b: Option<&Expr>| b.map_or(atom("_"), expr_sexp);
    list(vec![atom("slice"), expr_sexp(base), bound(start), bound(end)])
}

fn if_sexp(branches: &[(Expr, Block)], else_block: Option<&Block>) -> Sexp {
    let mut items = vec![atom("if")];
    for (i, (cond, body)) in branches.iter().enumerate() {
        if i == 0 {
            items.push(expr_sexp(cond));
            items.push(block_sexp(body));
        } else {
            items.push(list(vec![atom("elif"), expr_sexp(cond), block_sexp(body)]));
        }
    }
    items.extend(else_block.map(|b| node("else", [block_sexp(b)])));
    list(items)
}

fn if_let_sexp(if_let: &IfLetExpr) -> Sexp {
    let IfLetExpr { pattern, value, then_block, else_block } = if_let;
    let mut items = vec![atom("if"), atom("let"), pattern_sexp(pattern), expr_sexp(value), block_sexp(then_block)];
    items.extend(else_block.as_ref().map(|b| node("else", [block_sexp(b)])));
    list(items)
}

fn match_sexp(scrutinee: &Expr, arms: &[MatchArm]) -> Sexp {
    let mut items = vec![atom("match"), expr_sexp(scrutinee)];
    for arm in arms {
        let mut a = vec![atom("case"), pattern_sexp(&arm.pattern)];
        if let Some(guard) = &arm.guard {
            a.push(node("if", [expr_sexp(guard)]));
        }
        a.push(block_sexp(&arm.body));
        items.push(list(a));
    }
    list(items)
}

fn range_sexp(start: &Expr, end: &Expr, inclusive: bool) -> Sexp {
    list(vec![atom(if inclusive { "..=" } else { ".." }), expr_sexp(start), expr_sexp(end)])
}

fn exprs_sexp(head: &str, items: &[Expr]) -> Sexp {
    node(head, items.iter().map(expr_sexp))
}

fn dict_sexp(entries: &[(Expr, Expr)]) -> Sexp {
    node("dict", entries.iter().map(|(k, v)| list(vec![expr_sexp(k), expr_sexp(v)])))
}

fn struct_lit_sexp(path: &[Name], fields: &[(Name, Expr)]) -> Sexp {
    let mut items = vec![atom("struct-lit"), atom(path_text(path))];
    for (n, value) in fields {
        items.push(atom(format!("{}:", n.text)));
        items.push(expr_sexp(value));
    }
    list(items)
}

fn lambda_sexp(params: &[Param], ret: Option<&TypeExpr>, body: &Block) -> Sexp {
    let mut items = vec![atom("lambda")];
    items.extend(params.iter().map(param_sexp));
    if let Some(ret) = ret {
        items.push(atom("->"));
        items.push(atom(type_text(ret)));
    }
    items.push(block_sexp(body));
    list(items)
}

fn pattern_sexp(pattern: &Pattern) -> Sexp {
    match &pattern.kind {
        PatternKind::Wildcard => atom("_"),
        PatternKind::Binding { name: n, mutable: false } => name(n),
        PatternKind::Binding { name: n, mutable: true } => list(vec![atom("mut"), name(n)]),
        PatternKind::Literal(expr) => expr_sexp(expr),
        PatternKind::Range { start, end, inclusive } => {
            list(vec![atom(if *inclusive { "..=" } else { ".." }), expr_sexp(start), expr_sexp(end)])
        }
        PatternKind::Tuple(items) => node("tuple", items.iter().map(pattern_sexp)),
        PatternKind::Or(alternatives) => node("|", alternatives.iter().map(pattern_sexp)),
        PatternKind::Constructor(ctor) => {
            let Some(args) = &ctor.args else { return atom(path_text(&ctor.path)) };
            let mut items = vec![atom(path_text(&ctor.path))];
            for field in args {
                if let Some(n) = &field.name {
                    items.push(atom(format!("{}:", n.text)));
                }
                items.push(pattern_sexp(&field.pattern));
            }
            list(items)
        }
    }
}
