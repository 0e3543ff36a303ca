//! Spans: relative to the item, stable under edits above it, covering what
//! they should.

use crate::Span;
use crate::ast::*;
use crate::parse;

/// The text of a relative span inside `item`.
fn text_of<'t>(text: &'t str, item: &TopItem, span: Span) -> &'t str {
    let abs = span.offset(item.base);
    &text[abs.start as usize..abs.end as usize]
}

/// The right side of the assignment statement `item`.
fn assigned_value(item: &TopItem) -> &Expr {
    let ItemKind::Stmt(Stmt { kind: StmtKind::Assign(assign), .. }) = &item.item.kind else { panic!() };
    &assign.value
}

const PROGRAM: &str = "\
fn add(a: i64, b: i64 = 2) -> i64:
    let s = \"sum {a + b:>4}\"
    if a < b < 10:
        return (a + b) * 2
    match a:
        case Shape::Circle(r) if r > 0.0: r as i64
        case _: 0

struct Point:
    x: f64

main = add(1) # trailing comment
";

#[test]
fn items_are_identical_after_inserting_lines_above() {
    let first = parse(PROGRAM);
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    let shifted_text = format!("\n\n# a new comment\n   \n{PROGRAM}");
    let shifted = parse(&shifted_text);
    assert!(shifted.errors.is_empty());
    assert_eq!(first.file.items.len(), 3);
    assert_eq!(first.file.items.len(), shifted.file.items.len());
    for (a, b) in first.file.items.iter().zip(&shifted.file.items) {
        assert_eq!(a.item, b.item, "an item changed when lines were inserted above it");
        assert_eq!(a.len, b.len);
        assert_eq!(b.base, a.base + 22);
    }
}

#[test]
fn items_are_identical_after_editing_an_earlier_item() {
    let edited_text = PROGRAM.replace("return (a + b) * 2", "return (a + b) * 2 + 1000\n        print(1)");
    let first = parse(PROGRAM);
    let edited = parse(&edited_text);
    assert!(edited.errors.is_empty());
    assert_ne!(first.file.items[0].item, edited.file.items[0].item);
    assert_eq!(first.file.items[1].item, edited.file.items[1].item);
    assert_eq!(first.file.items[2].item, edited.file.items[2].item);
}

#[test]
fn item_base_and_len_cover_its_text() {
    let parse = parse(PROGRAM);
    let texts: Vec<&str> =
        parse.file.items.iter().map(|i| &PROGRAM[i.base as usize..(i.base + i.len) as usize]).collect();
    assert!(texts[0].starts_with("fn add(") && texts[0].ends_with("case _: 0"));
    assert_eq!(texts[1], "struct Point:\n    x: f64");
    assert_eq!(texts[2], "main = add(1)");
}

#[test]
fn item_spans_start_at_column_of_first_token() {
    let parse = parse("pub fn f(): nil\n");
    let item = &parse.file.items[0];
    assert_eq!(item.base, 0);
    assert_eq!(item.item.span, Span::new(0, 15));
}

#[test]
fn binary_and_cast_operator_spans() {
    let text = "x = a + b * c as f64\n";
    let parse = parse(text);
    let item = &parse.file.items[0];
    let value = assigned_value(item);
    assert_eq!(text_of(text, item, value.span), "a + b * c as f64");
    let ExprKind::Binary { op_span, rhs, .. } = &value.kind else { panic!() };
    assert_eq!(text_of(text, item, *op_span), "+");
    let ExprKind::Binary { op_span, rhs, .. } = &rhs.kind else { panic!() };
    assert_eq!(text_of(text, item, *op_span), "*");
    let ExprKind::Cast { as_span, .. } = &rhs.kind else { panic!() };
    assert_eq!(text_of(text, item, *as_span), "as");
    assert_eq!(text_of(text, item, rhs.span), "c as f64");
}

#[test]
fn chain_and_not_in_spans() {
    let text = "y = 0 <= i < n and k not in d\n";
    let parse = parse(text);
    let item = &parse.file.items[0];
    let value = assigned_value(item);
    let ExprKind::Binary { lhs, rhs, .. } = &value.kind else { panic!() };
    let ExprKind::Chain(chain) = &lhs.kind else { panic!() };
    assert_eq!(text_of(text, item, chain.ops[0].1), "<=");
    assert_eq!(text_of(text, item, chain.ops[1].1), "<");
    assert_eq!(text_of(text, item, lhs.span), "0 <= i < n");
    let ExprKind::Binary { op_span, .. } = &rhs.kind else { panic!() };
    assert_eq!(text_of(text, item, *op_span), "not in");
}

#[test]
fn expression_spans_cover_all_tokens() {
    let text = "z = (a + b)\nw = f(1, x: 2).g[3]\nv = Point { x: 1 }\nu = -x\nt = \\a: a\n";
    let parse = parse(text);
    let values: Vec<&str> = parse
        .file
        .items
        .iter()
        .map(|item| {
            let value = assigned_value(item);
            text_of(text, item, value.span)
        })
        .collect();
    assert_eq!(values, ["(a + b)", "f(1, x: 2).g[3]", "Point { x: 1 }", "-x", "\\a: a"]);
}

#[test]
fn interpolation_spans_point_into_the_string() {
    let text = "\n\ns = \"ab {x + 1:>3} {y}\"\n";
    let parse = parse(text);
    let item = &parse.file.items[0];
    let value = assigned_value(item);
    let ExprKind::Str(parts) = &value.kind else { panic!() };
    let StrPart::Interp { expr, spec } = &parts[1] else { panic!() };
    assert_eq!(text_of(text, item, expr.span), "x + 1");
    assert_eq!(spec.as_deref(), Some(">3"));
    let StrPart::Interp { expr, .. } = &parts[3] else { panic!() };
    assert_eq!(text_of(text, item, expr.span), "y");
}

#[test]
fn name_and_param_spans() {
    let text = "fn f(a: i64, b: str = \"x\") -> i64: 1\n";
    let parse = parse(text);
    let item = &parse.file.items[0];
    let ItemKind::Fn(def) = &item.item.kind else { panic!() };
    assert_eq!(text_of(text, item, def.name.span), "f");
    assert_eq!(text_of(text, item, def.params[1].span), "b: str = \"x\"");
    assert_eq!(text_of(text, item, def.ret.as_ref().unwrap().span), "i64");
    assert_eq!(text_of(text, item, def.span), text.trim_end());
}

#[test]
fn error_spans_are_absolute() {
    let text = "x = 1\n\n\ny = (1 +)\n";
    let parse = parse(text);
    assert_eq!(parse.errors.len(), 1);
    let span = parse.errors[0].span;
    assert_eq!(&text[span.start as usize..span.end as usize], ")");
}
