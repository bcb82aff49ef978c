//! Reader for plain text: a page copied from a browser (tables as tab-separated fields),
//! `pdftotext -layout` output (columns separated by runs of spaces) and `pdftotext`'s
//! default output (one table cell per line). All three become rows of cells; which layout
//! a table is in is decided later, per table, from the rows themselves.

use std::sync::LazyLock;

use regex::Regex;

use super::doc::{Cell, Doc, LocUnit, Row};
use super::normalize::{self, CellKind};

static PAGE_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-—－–]\s*[0-9]+\s*[-—－–]|第\s*[0-9]+\s*页(?:\s*[,，/]?\s*共\s*[0-9]+\s*页)?)$",
    )
    .expect("valid regex")
});
static SPACES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r" {2,}").expect("valid regex"));

/// Reads a text file's lines into rows. Blank lines separate paragraphs; page numbers
/// (`- 3 -`, `第 3 页`) and form feeds are dropped.
pub fn read(text: &str) -> Doc {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut blank_before = true;
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.trim_end_matches('\r').replace('\u{c}', "");
        let trimmed = line.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
        if trimmed.is_empty() {
            blank_before = true;
            continue;
        }
        if PAGE_NUMBER.is_match(trimmed) {
            continue;
        }
        let indent: usize = line
            .chars()
            .take_while(|c| c.is_whitespace() || *c == '\u{3000}')
            .map(|c| match c {
                '\t' => 4,
                '\u{3000}' => 2,
                _ => 1,
            })
            .sum();
        let cells = if line.contains('\t') {
            line.split('\t')
                .enumerate()
                .map(|(col, f)| Cell::new(f.trim(), col))
                .collect()
        } else {
            spaced_cells(&line)
        };
        rows.push(Row {
            cells,
            raw: trimmed.to_owned(),
            line: i + 1,
            blank_before,
            indent,
            ..Row::default()
        });
        blank_before = false;
    }
    Doc {
        rows,
        unit: LocUnit::Line,
        notes: Vec::new(),
    }
}

/// Splits a line at runs of two or more spaces (`pdftotext -layout`); a cell that is a
/// label followed by numbers (`规章 0 0 0`) is split too. `col` is the character offset.
fn spaced_cells(line: &str) -> Vec<Cell> {
    let mut cells = Vec::new();
    let mut last = 0;
    let byte_to_col = |b: usize| line[..b].chars().count();
    let push = |start: usize, end: usize, cells: &mut Vec<Cell>| {
        let piece = &line[start..end];
        let lead = piece.len() - piece.trim_start().len();
        let piece_t = piece.trim();
        if piece_t.is_empty() {
            return;
        }
        let at = start + lead;
        // Trailing numbers after a label, separated by single spaces.
        let parts: Vec<(usize, &str)> = piece_t
            .split(' ')
            .scan(0usize, |off, p| {
                let here = *off;
                *off += p.len() + 1;
                Some((here, p))
            })
            .filter(|(_, p)| !p.is_empty())
            .collect();
        let values_from = parts
            .iter()
            .rposition(|(_, p)| !matches!(normalize::classify(p), CellKind::Values(_)))
            .map_or(0, |i| i + 1);
        if values_from == 0 || values_from == parts.len() {
            cells.push(Cell::new(piece_t, byte_to_col(at)));
            return;
        }
        let split_at = parts[values_from].0;
        cells.push(Cell::new(piece_t[..split_at].trim_end(), byte_to_col(at)));
        for (off, p) in &parts[values_from..] {
            cells.push(Cell::new(*p, byte_to_col(at + off)));
        }
    };
    for m in SPACES.find_iter(line) {
        push(last, m.start(), &mut cells);
        last = m.end();
    }
    push(last, line.len(), &mut cells);
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_spaces_and_single_cells() {
        let doc = read(
            "标题\n\n规章\t0\t0\t0\n   行政规范性文件     4    0  4\n规章 1 2 3\n- 2 -\n\u{c}续\n",
        );
        let texts: Vec<Vec<&str>> = doc
            .rows
            .iter()
            .map(|r| r.cells.iter().map(|c| c.text.as_str()).collect())
            .collect();
        assert_eq!(texts[0], ["标题"]);
        assert_eq!(texts[1], ["规章", "0", "0", "0"]);
        assert_eq!(texts[2], ["行政规范性文件", "4", "0", "4"]);
        assert_eq!(texts[3], ["规章", "1", "2", "3"]);
        assert_eq!(texts[4], ["续"]);
        assert_eq!(doc.rows[1].line, 3);
        assert!(doc.rows[1].blank_before && !doc.rows[2].blank_before);
        assert_eq!(doc.rows[2].cells[0].col, 3);
        assert_eq!(doc.rows[2].indent, 3);
    }
}
