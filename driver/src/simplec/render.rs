//! Rendering diagnostics: rustc-style text, or one JSON object per line.

use std::io::{IsTerminal, Write};

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
use simple_compiler::diagnostics::{self, Diagnostic};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ErrorFormat {
    #[default]
    Human,
    Json,
}

/// Writes diagnostics to stderr. `text_of` gives a file's source text.
pub fn emit(diags: &[Diagnostic], format: ErrorFormat, text_of: &dyn Fn(&std::path::Path) -> Option<String>) {
    let stderr = std::io::stderr();
    let mut out = stderr.lock();
    let styled = format == ErrorFormat::Human && stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for d in diags {
        let text = text_of(&d.path).unwrap_or_default();
        let line = match format {
            ErrorFormat::Human => human(d, &text, styled) + "\n",
            ErrorFormat::Json => json(d, &text),
        };
        // A closed stderr is not worth a panic.
        let _ = writeln!(out, "{line}");
    }
    if format == ErrorFormat::Human {
        let errors = diags.iter().filter(|d| d.level == diagnostics::Level::Error).count();
        if errors > 0 {
            let s = if errors == 1 { "" } else { "s" };
            let _ = writeln!(out, "error: aborting due to {errors} previous error{s}");
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text.get(line_start..offset).map_or(offset - line_start, |s| s.chars().count()) + 1;
    (line, col)
}

fn clamp_span(d: &Diagnostic, text: &str) -> std::ops::Range<usize> {
    let len = text.len();
    let mut start = (d.span.start as usize).min(len);
    let mut end = (d.span.end as usize).clamp(start, len);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    // A span that runs past the end of its first line (a newline token, a
    // block) is shown on its first line only.
    if let Some(newline) = text[start..end].find('\n') {
        end = start + newline;
    }
    start..end
}

fn human(d: &Diagnostic, text: &str, styled: bool) -> String {
    let level = match d.level {
        diagnostics::Level::Error => Level::ERROR,
        diagnostics::Level::Warning => Level::WARNING,
    };
    let path = d.path.display().to_string();
    let mut annotation = AnnotationKind::Primary.span(clamp_span(d, text));
    if let Some(label) = &d.label {
        annotation = annotation.label(label.as_str());
    }
    let mut group = level
        .primary_title(d.message.as_str())
        .element(Snippet::source(text).path(path.as_str()).fold(true).annotation(annotation));
    if let Some(help) = &d.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    let renderer = if styled { Renderer::styled() } else { Renderer::plain() };
    renderer.render(&[group]).to_string()
}

fn json(d: &Diagnostic, text: &str) -> String {
    let span = clamp_span(d, text);
    let (line, column) = line_col(text, span.start);
    let (end_line, end_column) = line_col(text, span.end);
    serde_json::json!({
        "level": d.level.to_string(),
        "message": d.message,
        "file": d.path.display().to_string(),
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "label": d.label,
        "help": d.help,
    })
    .to_string()
}
