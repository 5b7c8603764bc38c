//! Byte spans into one source text, and the line index that turns them into
//! the 1-based line/column pairs every output format needs.

use serde::Serialize;

/// A half-open byte range `start..end` into one source text.
///
/// Offsets are `u32` so that every syntax node and model element stays small;
/// inputs larger than 4 GiB are rejected before parsing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end == self.start
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The text this span covers, or the empty string when the span does not
    /// fall on character boundaries of `text` (which would be a bug upstream,
    /// but must never turn into a panic in an emitter).
    pub fn slice(self, text: &str) -> &str {
        text.get(self.range()).unwrap_or("")
    }
}

/// A value together with the span it was read from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// A 1-based line and a 1-based column counted in characters (not bytes),
/// which is what editors, SARIF and the JSON output expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// Start offsets of every line, for offset -> line/column conversion in
/// `O(log lines)`, plus a running count of characters every
/// [`CHAR_BLOCK`] bytes, so that a character column costs at most a block's
/// worth of counting however long its line is.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<u32>,
    /// `chars_before[i]` is the number of characters in the first
    /// `i * CHAR_BLOCK` bytes of the text.
    chars_before: Vec<u32>,
}

/// The spacing of [`LineIndex`]'s character counts. Counting characters from
/// the start of the line for every finding made many findings on one long
/// line quadratic (a 20 MB line took minutes); with a count every 4 KiB a
/// column costs at most 8 KiB of counting.
const CHAR_BLOCK: usize = 4096;

/// The number of characters in `bytes`, which must start on a character
/// boundary: every byte that does not continue a multi-byte character
/// starts one.
fn chars_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        let chars_before = std::iter::once(0)
            .chain(
                text.as_bytes()
                    .chunks(CHAR_BLOCK)
                    .scan(0u32, |total, block| {
                        *total += chars_in(block) as u32;
                        Some(*total)
                    }),
            )
            .collect();
        LineIndex {
            line_starts,
            chars_before,
        }
    }

    /// The number of characters in `text[..offset]`, where `offset` is a
    /// character boundary, from the nearest block count below it.
    fn chars_up_to(&self, text: &str, offset: usize) -> usize {
        let block = offset / CHAR_BLOCK;
        let counted = self.chars_before.get(block).copied().unwrap_or(0) as usize;
        let from = (block * CHAR_BLOCK).min(offset);
        counted + text.as_bytes().get(from..offset).map_or(0, chars_in)
    }

    /// Converts a byte offset to a line and a character column. Offsets past
    /// the end, or inside a multi-byte character, are clamped rather than
    /// trusted.
    pub fn line_col(&self, text: &str, offset: u32) -> LineCol {
        let offset = offset.min(text.len() as u32);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let mut end = offset as usize;
        while end > start && !text.is_char_boundary(end) {
            end -= 1;
        }
        let column = self.chars_up_to(text, end) - self.chars_up_to(text, start.min(end)) + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }

    /// The byte offset where 1-based `line` starts, if the text has it.
    pub fn line_start(&self, line: usize) -> Option<u32> {
        self.line_starts.get(line.checked_sub(1)?).copied()
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "ab\n日本 x\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), LineCol { line: 1, column: 1 });
        assert_eq!(idx.line_col(text, 3), LineCol { line: 2, column: 1 });
        // "x" sits after two 3-byte characters and a space.
        assert_eq!(idx.line_col(text, 10), LineCol { line: 2, column: 4 });
        // Past the end clamps to the end.
        assert_eq!(idx.line_col(text, 99), LineCol { line: 3, column: 1 });
    }

    #[test]
    fn offsets_inside_a_character_clamp_backwards() {
        let text = "日";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 1), LineCol { line: 1, column: 1 });
    }

    #[test]
    fn columns_on_a_long_multibyte_line_match_a_plain_count() {
        // Characters of one, two, three and four bytes, so that the block
        // counts fall inside characters as well as between them.
        let line: String = "aé日😀".repeat(5_000);
        let text = format!("x\n{line}\ny");
        let idx = LineIndex::new(&text);
        for (offset, _) in text.char_indices().step_by(997) {
            let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let expected = text[line_start..offset].chars().count() + 1;
            assert_eq!(
                idx.line_col(&text, offset as u32).column,
                expected,
                "at {offset}"
            );
        }
    }
}
