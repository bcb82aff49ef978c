//! The common intermediate form that every reader (text, HTML, docx) produces: a list of
//! rows in reading order. A prose line is a row of one cell; a table row has one cell per
//! table cell. Every row keeps where it came from, so that every message can say
//! `file:line`.

/// One cell of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The text as read (not normalised).
    pub text: String,
    /// Horizontal position: the grid column for HTML and docx tables, the field number
    /// for tab-separated lines, the character offset for `pdftotext -layout` lines.
    pub col: usize,
    /// A copy made by expanding a row or column span; its text belongs to the origin cell.
    pub copy: bool,
}

impl Cell {
    pub fn new(text: impl Into<String>, col: usize) -> Cell {
        Cell {
            text: text.into(),
            col,
            copy: false,
        }
    }
}

/// One line of text, or one table row.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub cells: Vec<Cell>,
    /// The line as written, without leading and trailing whitespace: what goes into the
    /// body when the row is prose.
    pub raw: String,
    /// 1-based line of the source (paragraph number for docx).
    pub line: usize,
    /// A paragraph break (blank line, block element) comes before this row; otherwise the
    /// row continues the previous line (a line wrapped by `pdftotext`).
    pub blank_before: bool,
    /// Leading whitespace of the line, in characters (text inputs only).
    pub indent: usize,
    /// Id of the source table for rows of an HTML or docx table.
    pub table: Option<usize>,
    /// HTML: ids of the elements that contain this row, outermost first. Used to keep a
    /// saved page's navigation and footer out of the report.
    pub scope: Vec<u32>,
}

impl Row {
    /// The cells that carry text of their own (span copies and empty cells left out).
    pub fn texts(&self) -> impl Iterator<Item = &Cell> {
        self.cells
            .iter()
            .filter(|c| !c.copy && !c.text.trim().is_empty())
    }

    /// The row as one line of text: its cells joined by a space.
    pub fn text(&self) -> String {
        let parts: Vec<&str> = self.texts().map(|c| c.text.trim()).collect();
        parts.join(" ")
    }

    /// True for a row with more than one cell that carries text, i.e. a table row.
    pub fn is_multi(&self) -> bool {
        self.texts().count() > 1
    }

    pub fn is_blank(&self) -> bool {
        self.texts().next().is_none()
    }
}

/// How a reader names a place in its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocUnit {
    /// Text and HTML: lines.
    Line,
    /// docx: paragraphs and table rows of the document, counted from 1.
    Paragraph,
}

/// What a reader produced.
#[derive(Debug, Clone)]
pub struct Doc {
    pub rows: Vec<Row>,
    pub unit: LocUnit,
    /// The reader's own findings (encoding used, …), reported with the file.
    pub notes: Vec<(String, String)>,
}
