//! Parser tests in expect style: source text in, `dump_ast` text out.

use super::parse;
use crate::print::dump_ast;

mod constructs;
mod errors;
mod robustness;
mod spans;

/// Remove the common indentation of a multi-line expected string.
fn dedent(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let indent = lines.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min();
    let indent = indent.unwrap_or(0);
    let lines: Vec<&str> = lines.iter().map(|l| l.get(indent..).unwrap_or("")).collect();
    lines.join("\n")
}

/// The errors of a parse as `LINE:COL: message` lines.
fn error_lines(text: &str, errors: &[crate::SyntaxError]) -> String {
    let lines: Vec<String> = errors
        .iter()
        .map(|e| {
            let before = &text[..e.span.start as usize];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("{line}:{col}: {e}")
        })
        .collect();
    lines.join("\n")
}

/// Parse without errors and compare the tree with `expected`.
#[track_caller]
fn check(text: &str, expected: &str) {
    let parse = parse(text);
    let errors = error_lines(text, &parse.errors);
    assert!(errors.is_empty(), "unexpected errors for {text:?}:\n{errors}");
    let actual = dump_ast(&parse.file);
    let expected = dedent(expected);
    assert_eq!(actual.trim_end(), expected, "\n--- source ---\n{text}\n--- actual ---\n{actual}");
}

/// Parse with errors; compare the errors and the recovered tree.
#[track_caller]
fn check_errors(text: &str, expected_errors: &str, expected_tree: &str) {
    let parse = parse(text);
    let errors = error_lines(text, &parse.errors);
    let actual = dump_ast(&parse.file);
    assert_eq!(errors, dedent(expected_errors), "\n--- source ---\n{text}\n--- tree ---\n{actual}");
    assert_eq!(actual.trim_end(), dedent(expected_tree), "\n--- source ---\n{text}");
}
