//! Diagnostics as values.
//!
//! Queries return diagnostics whose spans are relative to a part of an item
//! ([`RelSpan`]), so a diagnostic inside a function does not change when lines
//! are inserted above it. The `diagnostics` query makes them absolute
//! ([`Diagnostic`]) for rendering.

use std::fmt;

use simple_syntax::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Level {
    Error,
    Warning,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Error => "error",
            Level::Warning => "warning",
        })
    }
}

/// A span relative to one part of a function's source. Most functions have
/// one part (their item); the implicit `main` of a script has one part per
/// top-level statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct RelSpan {
    pub part: u32,
    pub span: Span,
}

/// A diagnostic as a query produces it: relative to its anchor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct RelDiagnostic {
    pub level: Level,
    pub message: String,
    pub span: RelSpan,
    /// Text under the caret.
    pub label: Option<String>,
    pub help: Option<String>,
}

impl RelDiagnostic {
    pub fn error(span: RelSpan, message: impl Into<String>) -> RelDiagnostic {
        RelDiagnostic { level: Level::Error, message: message.into(), span, label: None, help: None }
    }

    pub fn warning(span: RelSpan, message: impl Into<String>) -> RelDiagnostic {
        RelDiagnostic { level: Level::Warning, message: message.into(), span, label: None, help: None }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> RelDiagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> RelDiagnostic {
        self.help = Some(help.into());
        self
    }
}

/// A diagnostic with an absolute position in a file, ready to render.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    pub level: Level,
    pub message: String,
    pub path: std::path::PathBuf,
    /// Absolute byte range in the file's text.
    pub span: Span,
    pub label: Option<String>,
    pub help: Option<String>,
}
