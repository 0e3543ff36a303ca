//! Error messages and recovery: one file, several errors, a usable tree.

use super::{check_errors, error_lines};
use crate::parse;

#[test]
fn missing_colon_after_header() {
    check_errors(
        "fn f()\n    return 1\nx = 2\n",
        "1:7: expected `:`, found newline",
        "
        (fn f)
        (= x 2)
        ",
    );
}

#[test]
fn junk_before_header_colon_keeps_the_block() {
    check_errors("if x y:\n    a()\nb()\n", "1:6: expected `:`, found identifier", "(if x (block (call a)))\n(call b)");
}

#[test]
fn expected_expression() {
    check_errors(
        "x = )\ny = 1 +\nz = 3\n",
        "1:5: expected expression, found `)`\n2:8: expected expression, found newline",
        "
        (= x <error>)
        (= y (+ 1 <error>))
        (= z 3)
        ",
    );
}

#[test]
fn several_errors_in_one_file() {
    let text = "\
fn f()
    return 1

fn g(a: i64 -> i64:
    let x = (1 +
    return x

let y = 1 +
let z = $ 5
s = \"abc
if x y:
    print(1)
    print(2 +)
  bad = 1
match q r:
    case 1: 2
w = 3
";
    check_errors(
        text,
        "
        1:7: expected `:`, found newline
        4:13: expected `)`, found `->`
        5:17: expected expression, found newline
        8:12: expected expression, found newline
        9:9: invalid character `$`
        10:5: unterminated string
        11:6: expected `:`, found identifier
        13:14: expected expression, found `)`
        14:1: unindent does not match any outer indentation level
        15:9: expected `:`, found identifier
        ",
        r#"
        (fn f)
        (fn g (param a i64) -> i64 (block (let x (+ 1 <error>)) (return x)))
        (let y (+ 1 <error>))
        (let z 5)
        (= s "abc")
        (if x (block (call print 1) <error> (= bad 1)))
        (match q (case 1 (block 2)))
        (= w 3)
        "#,
    );
}

#[test]
fn errors_inside_blocks_resynchronise_at_the_next_statement() {
    check_errors(
        "fn f():\n    a = 1 2\n    b = ]\n    c = 3\nd = 4\n",
        "2:11: expected newline, found integer literal\n3:9: expected expression, found `]`",
        "(fn f (block (= a 1) (= b <error>) (= c 3)))\n(= d 4)",
    );
}

#[test]
fn unexpected_indent() {
    check_errors("x = 1\n    y = 2\nz = 3\n", "2:1: unexpected indent", "(= x 1)\n(= y 2)\n(= z 3)");
    check_errors(
        "fn f():\n    a()\n        b()\n    c()\n",
        "3:1: unexpected indent",
        "(fn f (block (call a) (call b) (call c)))",
    );
}

#[test]
fn missing_indented_block() {
    check_errors("if x:\ny = 1\n", "2:1: expected indented block, found identifier", "(if x (block))\n(= y 1)");
}

#[test]
fn unterminated_string_and_bad_escape() {
    check_errors(
        "a = \"x\\qy\"\nb = \"open\nc = 1\n",
        "1:7: invalid escape sequence `\\q`\n2:5: unterminated string",
        "(= a \"xqy\")\n(= b \"open\")\n(= c 1)",
    );
}

#[test]
fn bad_interpolations() {
    check_errors("s = \"a{}b\"\n", "1:7: empty interpolation `{}`", "(= s (str \"a\" (interp <error>) \"b\"))");
    check_errors("s = \"{a b}\"\nt = 1\n", "1:9: expected `}`, found identifier", "(= s (str (interp a)))\n(= t 1)");
}

#[test]
fn invalid_assignment_target() {
    check_errors(
        "f() = 1\n1 += 2\n",
        "1:1: invalid assignment target\n2:1: invalid assignment target",
        "
        (= (call f) 1)
        (+= 1 2)
        ",
    );
}

#[test]
fn bad_struct_members() {
    check_errors(
        "struct P:\n    x: i64\n    42\n    y i64\n    z: f64\n",
        "3:5: expected field or method, found integer literal\n4:5: expected field or method, found identifier",
        "(struct P (field x i64) (field z f64))",
    );
}

#[test]
fn missing_pattern_and_type() {
    check_errors(
        "let = 1\nlet x: = 2\nfor in xs: f()\n",
        "1:5: expected pattern, found `=`\n2:8: expected type, found `=`\n3:5: expected pattern, found `in`",
        "(let _ 1)\n(let x : <error> 2)\n(for _ in xs (block (call f)))",
    );
}

#[test]
fn pub_before_a_statement() {
    check_errors("pub x = 1\ny = 2\n", "1:5: expected item after `pub`, found identifier", "(pub <error>)\n(= y 2)");
}

#[test]
fn unclosed_bracket_before_next_statement() {
    check_errors(
        "x = foo(1,\ny = 2\nlet z = [1, 2\nreturn z\n",
        "2:3: expected `)`, found `=`\n3:14: expected `]`, found newline",
        "(= x <error>)\n(let z (list 1 2))\n(return z)",
    );
}

#[test]
fn nested_too_deeply_is_an_error_not_a_crash() {
    for (open, close) in [("(", ")"), ("[", "]"), ("-", ""), ("not ", ""), ("\\: ", ""), ("f(", ")")] {
        let text = format!("x = {}1{}\ny = 2\n", open.repeat(1000), close.repeat(1000));
        let parse = parse(&text);
        let errors = error_lines(&text, &parse.errors);
        assert!(errors.contains("expression nested too deeply"), "{open}: {errors}");
        assert_eq!(parse.errors.len(), 1, "{open}: {errors}");
        assert!(crate::dump_ast(&parse.file).ends_with("(= y 2)\n"));
    }
}

#[test]
fn deep_blocks_are_an_error_not_a_crash() {
    let mut text = String::new();
    for depth in 0..400 {
        text.push_str(&" ".repeat(depth));
        text.push_str("while x:\n");
    }
    text.push_str(&" ".repeat(400));
    text.push_str("y()\nz = 1\n");
    let parse = parse(&text);
    let errors = error_lines(&text, &parse.errors);
    assert_eq!(errors.lines().count(), 1, "{errors}");
    assert!(errors.contains("expression nested too deeply"));
    assert!(crate::dump_ast(&parse.file).ends_with("(= z 1)\n"));
}

#[test]
fn deep_types_and_patterns_are_errors_not_crashes() {
    for text in [
        format!("let x: {}i64{} = 1\n", "[".repeat(1000), "]".repeat(1000)),
        format!("let x: {}i64 = 1\n", "&".repeat(1000)),
        format!("let {}a{} = 1\n", "(".repeat(1000), ")".repeat(1000)),
        format!("match x:\n    case {}a{}: 1\n", "S(".repeat(1000), ")".repeat(1000)),
    ] {
        let parse = parse(&text);
        assert!(parse.errors.iter().any(|e| e.to_string() == "expression nested too deeply"), "{text}");
    }
}

#[test]
fn nesting_just_under_the_limit_parses() {
    // Each parenthesis costs one level; leave room for the statement.
    let depth = crate::MAX_DEPTH as usize - 2;
    let text = format!("x = {}1{}\n", "(".repeat(depth), ")".repeat(depth));
    let parse = parse(&text);
    assert!(parse.errors.is_empty(), "{:?}", parse.errors);
}
