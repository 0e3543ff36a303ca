//! Lexer tests: each token is written as its text (identifiers, operators,
//! keywords), `int:V`, `float:V`, `str:[...]` or a layout name.

use super::lex;
use crate::token::{StrSegment, Token, TokenKind, int_value};

fn summary(text: &str, tokens: &[Token]) -> String {
    let words: Vec<String> = tokens.iter().map(|t| token_summary(text, t)).collect();
    words.join(" ")
}

fn token_summary(text: &str, token: &Token) -> String {
    match &token.kind {
        TokenKind::Ident => text[token.span.start as usize..token.span.end as usize].to_string(),
        TokenKind::Int => format!("int:{}", int_value(&text[token.span.start as usize..token.span.end as usize])),
        TokenKind::Float(v) => format!("float:{:?}", v.value()),
        TokenKind::Str(parts) => {
            let parts: Vec<String> = parts
                .iter()
                .map(|p| match p {
                    StrSegment::Text(t) => format!("{t:?}"),
                    StrSegment::Interp { tokens, spec, .. } => {
                        let inner = summary(text, tokens);
                        match spec {
                            Some(spec) => format!("{{{inner} :{spec}}}"),
                            None => format!("{{{inner}}}"),
                        }
                    }
                })
                .collect();
            format!("str:[{}]", parts.join(", "))
        }
        other => other.dump_name().to_string(),
    }
}

/// Lex `text`; compare the token summary and the error messages.
#[track_caller]
fn check(text: &str, expected: &str) {
    let (tokens, errors) = lex(text);
    let mut actual = summary(text, &tokens);
    for error in errors {
        actual.push_str(&format!(" | {}..{}: {}", error.span.start, error.span.end, error));
    }
    assert_eq!(actual, expected, "\ninput: {text:?}");
}

#[test]
fn empty_input() {
    check("", "EOF");
    check("\n\n   \n# only a comment\n", "EOF");
}

#[test]
fn simple_statement_without_final_newline() {
    check("x = 1", "x = int:1 NEWLINE EOF");
    check("x = 1\n", "x = int:1 NEWLINE EOF");
}

#[test]
fn indentation_opens_and_closes_blocks() {
    check(
        "if x:\n    y\n    if z:\n        w\nv\n",
        "if x : NEWLINE INDENT y NEWLINE if z : NEWLINE INDENT w NEWLINE DEDENT DEDENT v NEWLINE EOF",
    );
}

#[test]
fn open_blocks_close_at_end_of_file() {
    check("if x:\n    if y:\n        z", "if x : NEWLINE INDENT if y : NEWLINE INDENT z NEWLINE DEDENT DEDENT EOF");
}

#[test]
fn tab_advances_to_next_multiple_of_four() {
    // A tab and four spaces are the same level; so are "  \t" and "\t".
    check("if x:\n\ty\n    z\n", "if x : NEWLINE INDENT y NEWLINE z NEWLINE DEDENT EOF");
    check("if x:\n  \ty\n\tz\n", "if x : NEWLINE INDENT y NEWLINE z NEWLINE DEDENT EOF");
    check("if x:\n\t\ty\n        z\n", "if x : NEWLINE INDENT y NEWLINE z NEWLINE DEDENT EOF");
}

#[test]
fn blank_and_comment_lines_never_matter() {
    check(
        "if x:\n\n  # odd comment\n        \n    y # trailing\n# col 0 comment\n    z\n",
        "if x : NEWLINE INDENT y NEWLINE z NEWLINE DEDENT EOF",
    );
}

#[test]
fn dedent_to_unknown_level_is_an_error() {
    check(
        "if x:\n        y\n    z\nw\n",
        "if x : NEWLINE INDENT y NEWLINE z NEWLINE DEDENT w NEWLINE EOF \
         | 16..20: unindent does not match any outer indentation level",
    );
}

#[test]
fn deeper_line_without_header_is_an_indent_token() {
    // The parser reports "unexpected indent".
    check("x\n    y\n", "x NEWLINE INDENT y NEWLINE DEDENT EOF");
}

#[test]
fn backslash_continues_the_line() {
    check("x = 1 + \\\n        2\ny\n", "x = int:1 + int:2 NEWLINE y NEWLINE EOF");
    check("x = 1 + \\   \r\n2", "x = int:1 + int:2 NEWLINE EOF");
}

#[test]
fn brackets_suppress_layout() {
    check(
        "f(1,\n        2,\n  [3,\n4], {5:\n 6})\nx\n",
        "f ( int:1 , int:2 , [ int:3 , int:4 ] , { int:5 : int:6 } ) NEWLINE x NEWLINE EOF",
    );
}

#[test]
fn forgotten_bracket_ends_at_a_statement_keyword() {
    check("fn f(a: i64:\n    let x = 1\n", "fn f ( a : i64 : NEWLINE INDENT let x = int:1 NEWLINE DEDENT EOF");
    // `fn(` is a type and does not end the brackets.
    check("f(a,\nfn(i64) -> i64)\n", "f ( a , fn ( i64 ) -> i64 ) NEWLINE EOF");
}

#[test]
fn crlf_line_endings() {
    check("if x:\r\n    y\r\nz\r\n", "if x : NEWLINE INDENT y NEWLINE DEDENT z NEWLINE EOF");
}

#[test]
fn lambda_backslash_is_a_token() {
    check("\\x: x", "\\ x : x NEWLINE EOF");
}

#[test]
fn integers() {
    check(
        "42 1_000_000 0xff 0o17 0b1010 0XFF 007",
        "int:42 int:1000000 int:255 int:15 int:10 int:255 int:7 NEWLINE EOF",
    );
}

#[test]
fn huge_integer_saturates() {
    check("99999999999999999999999999999999999999999", "int:340282366920938463463374607431768211455 NEWLINE EOF");
    check("9223372036854775808", "int:9223372036854775808 NEWLINE EOF");
}

#[test]
fn floats() {
    check(
        "3.14 2.5e-3 1e9 1.0 1E+2 1_0.5",
        "float:3.14 float:0.0025 float:1000000000.0 float:1.0 float:100.0 float:10.5 NEWLINE EOF",
    );
}

#[test]
fn range_is_not_a_float() {
    check("1..3 1..=3 a..b", "int:1 .. int:3 int:1 ..= int:3 a .. b NEWLINE EOF");
}

#[test]
fn tuple_fields_after_dot_are_integers() {
    check("t.0.1", "t . int:0 . int:1 NEWLINE EOF");
    check("1.foo", "int:1 . foo NEWLINE EOF");
}

#[test]
fn malformed_numbers() {
    check("0x", "int:0 NEWLINE EOF | 0..2: malformed number literal");
    check("0b102", "int:0 NEWLINE EOF | 0..5: malformed number literal");
    check("12abc + 1", "int:12 + int:1 NEWLINE EOF | 0..5: malformed number literal");
    check("1e", "int:1 NEWLINE EOF | 0..2: malformed number literal");
}

#[test]
fn operators() {
    check(
        "+ - * / // % ** & | ^ ~ << >> == != < > <= >= && || ! ? ?? = += -= *= /= //= %= **= &= |= ^= <<= >>= . .. ..= : :: , -> =>",
        "+ - * / // % ** & | ^ ~ << >> == != < > <= >= && || ! ? ?? = += -= *= /= //= %= **= &= |= ^= <<= >>= . .. ..= : :: , -> => NEWLINE EOF",
    );
}

#[test]
fn keywords_and_contextual_words() {
    check(
        "fn let mut val var const if elif else for in while loop break continue return match case",
        "fn let mut val var const if elif else for in while loop break continue return match case NEWLINE EOF",
    );
    check(
        "struct class enum trait impl actor pub import from as is not and or spawn new self extern static type true false nil",
        "struct class enum trait impl actor pub import from as is not and or spawn new self extern static type true false nil NEWLINE EOF",
    );
    let (tokens, _) = lex("send on state dyn move handle_pool Self");
    assert!(tokens[..7].iter().all(|t| t.kind == TokenKind::Ident));
}

#[test]
fn string_escapes() {
    check(r#""a\nb\t\r\\\"\0""#, r#"str:["a\nb\t\r\\\"\0"] NEWLINE EOF"#);
    check(r#""\u{1F600}\u{41}""#, r#"str:["😀A"] NEWLINE EOF"#);
}

#[test]
fn bad_escapes() {
    check(r#""a\qb""#, r#"str:["aqb"] NEWLINE EOF | 2..4: invalid escape sequence `\q`"#);
    check(r#""\u{110000}""#, r#"str:[""] NEWLINE EOF | 1..11: invalid unicode escape"#);
    check(r#""\u41""#, r#"str:["41"] NEWLINE EOF | 1..3: invalid unicode escape"#);
}

#[test]
fn raw_strings_have_no_escapes_or_interpolation() {
    check(r"'a\n{x}'", r#"str:["a\\n{x}"] NEWLINE EOF"#);
    check("''", r#"str:[""] NEWLINE EOF"#);
}

#[test]
fn interpolation() {
    check(r#""hello, {name}!""#, r#"str:["hello, ", {name EOF}, "!"] NEWLINE EOF"#);
    check(r#""{a + b * 2}""#, r#"str:[{a + b * int:2 EOF}] NEWLINE EOF"#);
    check(r#""{{literal}} {x}""#, r#"str:["{literal} ", {x EOF}] NEWLINE EOF"#);
}

#[test]
fn interpolation_with_format_spec() {
    check(
        r#""{x:.9f}|{n:>8}|{d[k]:08}""#,
        r#"str:[{x EOF :.9f}, "|", {n EOF :>8}, "|", {d [ k ] EOF :08}] NEWLINE EOF"#,
    );
    // `::` is a path, not a spec.
    check(r#""{Shape::Empty}""#, r#"str:[{Shape :: Empty EOF}] NEWLINE EOF"#);
}

#[test]
fn interpolation_holding_strings_and_braces() {
    check(r#""{"a" + b}""#, r#"str:[{str:["a"] + b EOF}] NEWLINE EOF"#);
    check(r#""{f({"k": 1})}""#, r#"str:[{f ( { str:["k"] : int:1 } ) EOF}] NEWLINE EOF"#);
    check(r#""{"{"in"}"}""#, r#"str:[{str:[{str:["in"] EOF}] EOF}] NEWLINE EOF"#);
}

#[test]
fn interpolation_token_spans_are_absolute() {
    let text = r#"x = "ab{cd + 1}""#;
    let (tokens, errors) = lex(text);
    assert!(errors.is_empty());
    let TokenKind::Str(parts) = &tokens[2].kind else { panic!("not a string: {:?}", tokens[2]) };
    let StrSegment::Interp { tokens: inner, span, .. } = &parts[1] else { panic!("not an interpolation") };
    assert_eq!(&text[span.start as usize..span.end as usize], "{cd + 1}");
    assert_eq!(&text[inner[0].span.start as usize..inner[0].span.end as usize], "cd");
    assert_eq!(&text[inner[2].span.start as usize..inner[2].span.end as usize], "1");
}

#[test]
fn unterminated_strings() {
    check("x = \"abc\ny", r#"x = str:["abc"] NEWLINE y NEWLINE EOF | 4..8: unterminated string"#);
    check("'abc", r#"str:["abc"] NEWLINE EOF | 0..4: unterminated string"#);
    check("\"a{x", r#"str:["a"] NEWLINE EOF | 0..4: unterminated string"#);
    // Reported once, for the inner string.
    check("\"{\"a", r#"str:[""] NEWLINE EOF | 2..4: unterminated string"#);
}

#[test]
fn invalid_characters() {
    check("a $ b", "a b NEWLINE EOF | 2..3: invalid character `$`");
    check("é", "EOF | 0..2: invalid character `é`");
}

#[test]
fn token_positions_in_dump() {
    let text = "fn f():\n\tx = \"a\"\n";
    let (tokens, _) = lex(text);
    assert_eq!(
        crate::print::dump_tokens(text, &tokens),
        "1:1 fn fn\n1:4 IDENT f\n1:5 ( (\n1:6 ) )\n1:7 : :\n1:8 NEWLINE\n2:1 INDENT\n2:2 IDENT x\n\
         2:4 = =\n2:6 STR \"a\"\n2:9 NEWLINE\n3:1 DEDENT\n3:1 EOF\n"
    );
}

#[test]
fn deeply_nested_interpolations_do_not_overflow() {
    let mut text = String::new();
    for _ in 0..200 {
        text.push_str("\"{");
    }
    let (_, errors) = lex(&text);
    assert!(errors.iter().any(|e| e.to_string() == "expression nested too deeply"));
}
