//! Byte offset → (line, column) for a piece of text.

/// Line starts of a text. Columns count characters, 1-based when reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i as u32 + 1));
        LineIndex { starts }
    }

    /// 0-based line and 0-based character column of `offset` in `text`
    /// (the text this index was built from). Offsets past the end clamp.
    pub fn line_col(&self, text: &str, offset: u32) -> (u32, u32) {
        let offset = offset.min(text.len() as u32);
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line] as usize;
        let end = (offset as usize).max(start);
        // Spans come from the lexer and sit on char boundaries; fall back to
        // bytes if one does not, rather than panic.
        let col = text.get(start..end).map_or(end - start, |s| s.chars().count());
        (line as u32, col as u32)
    }

    /// The text of line `line` (0-based), without its newline.
    pub fn line_text<'t>(&self, text: &'t str, line: u32) -> &'t str {
        let Some(&start) = self.starts.get(line as usize) else { return "" };
        let end = self.starts.get(line as usize + 1).map_or(text.len(), |&e| e as usize);
        text.get(start as usize..end).unwrap_or("").trim_end_matches(['\n', '\r'])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "ab\nçd\n\nx";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 0), (0, 0));
        assert_eq!(index.line_col(text, 3), (1, 0));
        assert_eq!(index.line_col(text, 5), (1, 1)); // after the two-byte ç
        assert_eq!(index.line_col(text, 8), (3, 0));
        assert_eq!(index.line_col(text, 99), (3, 1));
        assert_eq!(index.line_text(text, 1), "çd");
        assert_eq!(index.line_text(text, 9), "");
    }
}
