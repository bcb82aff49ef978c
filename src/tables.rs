//! Render stage, tables: lay out a table's data under the official multi-level headers.
//!
//! The header rows and row stubs are computed from the schema's label trees (colspan =
//! leaves below a label, rowspan = levels it stands for), so any format's table renders
//! the way its official form prints it. Every data cell lists the ids of all header cells
//! above and beside it (`headers`), so a screen reader announces each number with its
//! full row and column labels.

use serde::Serialize;

use crate::model::{Origin, TableData};
use crate::schema::{Axis, CellType, Layout, Table};

#[derive(Debug, Clone, Serialize)]
pub struct TableView {
    pub key: String,
    pub id: String,
    pub section: String,
    pub caption: String,
    pub caption_en: String,
    pub note: Option<String>,
    pub note_en: Option<String>,
    pub unit: Option<String>,
    /// The blocks: what `partials/table.html` loops over. Pages get the table made, as
    /// [`TableView::html`], not the blocks.
    #[serde(skip)]
    pub blocks: Vec<BlockView>,
    /// True when some cell was computed rather than written by the author.
    pub has_computed: bool,
    /// The whole table: `partials/table.html`, rendered once per format's table, with the
    /// page's body rows put in. Templates print a [`Mark`], replaced by the table once the
    /// page is rendered (empty in a layout).
    pub html: Mark,
}

#[derive(Debug, Clone, Serialize)]
pub struct BlockView {
    pub caption: Option<String>,
    pub caption_en: Option<String>,
    pub columns: usize,
    /// The header rows (templates get them made, as [`BlockView::head_html`]).
    #[serde(skip)]
    pub header_rows: Vec<Vec<HeaderCell>>,
    /// The header rows as HTML: `partials/table_head.html`, rendered once per format's
    /// table (see [`TableView::fill`]).
    pub head_html: Html,
    /// The body rows of the layout (its stubs and each cell's headers); a filled view
    /// has none, and gives them made instead, as [`BlockView::body_html`].
    #[serde(skip)]
    pub rows: Vec<BodyRow>,
    /// The body rows as HTML, made by [`TableView::fill`]: per row, `<tr>`, its stubs
    /// (`partials/table_stubs.html`) and its data cells. Made here rather than in the
    /// template: a loop over the rows was a quarter of a report page's template time.
    pub body_html: String,
}

/// A piece of HTML made once and shared by every page that shows it.
#[derive(Debug, Clone, Default)]
pub struct Html(pub std::sync::Arc<str>);

impl Serialize for Html {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HeaderCell {
    pub id: String,
    pub label: String,
    pub label_en: String,
    pub colspan: usize,
    pub rowspan: usize,
    /// `col`, `colgroup`, `row`, `rowgroup`, or empty for the blank corner.
    pub scope: String,
    /// `th` for headers; `td` for the blank corner cell.
    pub tag: String,
}

#[derive(Debug, Clone)]
pub struct BodyRow {
    /// The row's header cells (templates get them made, as [`BodyRow::stubs_html`]).
    pub stubs: Vec<HeaderCell>,
    /// The row's header cells as HTML: `partials/table_stubs.html`, rendered once per
    /// format's table.
    pub stubs_html: Html,
    /// The data cells, with their `headers` (a filled view prints them, see
    /// [`TableView::fill`]).
    pub cells: Vec<DataCell>,
}

/// The words a computed cell is marked with (the theme's `table.computed_mark` and
/// `table.computed`).
pub struct CellMarks<'w> {
    /// Shown after the number, hidden from screen readers.
    pub mark: &'w str,
    /// Read by screen readers instead of the mark.
    pub spoken: &'w str,
}

impl TableView {
    /// This table's layout (a view of any report of the format, with its header rows,
    /// stubs and their HTML) filled with `data`: the page's view. The headers and every
    /// cell's `headers` are the same for every report of a format, so they are laid out
    /// and rendered once per format and table; a page adds its numbers.
    pub fn fill(&self, data: &TableData, marks: &CellMarks) -> TableView {
        let mut values = data.blocks.iter();
        let mut has_computed = false;
        let blocks = self
            .blocks
            .iter()
            .map(|block| {
                let mut cells = values.next().map(|b| b.cells().iter());
                // A data cell is about 60 bytes, a row's stubs a few hundred.
                let size: usize = block
                    .rows
                    .iter()
                    .map(|r| 16 + r.stubs_html.0.len() + r.cells.len() * 64)
                    .sum();
                let mut body = String::with_capacity(size);
                for row in &block.rows {
                    body.push_str("<tr>");
                    body.push_str(&row.stubs_html.0);
                    for layout in &row.cells {
                        let Some(c) = cells.as_mut().and_then(|c| c.next()) else {
                            break;
                        };
                        let computed = matches!(c.origin, Origin::Computed);
                        has_computed |= computed;
                        push_cell(
                            &mut body,
                            &layout.headers,
                            c.value.format(&mut [0; 24]),
                            computed,
                            marks,
                        );
                    }
                    body.push_str("</tr>");
                }
                BlockView {
                    caption: block.caption.clone(),
                    caption_en: block.caption_en.clone(),
                    columns: block.columns,
                    header_rows: Vec::new(),
                    head_html: block.head_html.clone(),
                    rows: Vec::new(),
                    body_html: body,
                }
            })
            .collect();
        TableView {
            key: self.key.clone(),
            id: self.id.clone(),
            section: self.section.clone(),
            caption: self.caption.clone(),
            caption_en: self.caption_en.clone(),
            note: self.note.clone(),
            note_en: self.note_en.clone(),
            unit: self.unit.clone(),
            blocks,
            has_computed,
            html: Mark::default(),
        }
    }
}

/// One data cell's `td`: the number, its `headers`, and the computed mark when the
/// author left the cell out.
fn push_cell(html: &mut String, headers: &str, text: &str, computed: bool, marks: &CellMarks) {
    use crate::html::escape_into;
    html.push_str("<td headers=\"");
    // Header ids are made by `header_id`: letters and digits, nothing to escape.
    html.push_str(headers);
    html.push_str(if computed {
        "\" class=\"num computed\">"
    } else {
        "\" class=\"num\">"
    });
    // A number: digits, a sign and a point.
    html.push_str(text);
    if computed {
        html.push_str("<span class=\"computed-mark\" aria-hidden=\"true\">");
        escape_into(html, marks.mark);
        html.push_str("</span><span class=\"visually-hidden\">");
        escape_into(html, marks.spoken);
        html.push_str("</span>");
    }
    html.push_str("</td>");
}

#[derive(Debug, Clone, Serialize)]
pub struct DataCell {
    pub text: String,
    /// Space-separated ids of the header cells that describe this cell.
    pub headers: String,
    pub computed: bool,
    pub decimal: bool,
}

/// The id of header cell `n` (0 is the corner) of block `block` of a format's table
/// `table` (its place in the format), of `blocks` blocks. Every data cell lists several
/// of these in `headers`, hundreds of times a page, so they are short: an upper-case
/// letter for the table, a lower-case one for the block when there are several, and the
/// cell's number (`B12`, `Ac3`). No id of a page's text starts with an upper-case letter,
/// and every one ends with a digit, so a sub-header may add a letter (the comparison
/// pages' `B12a`, `B12b`, `B12d`). Ids need no escaping.
pub fn header_id(table: usize, block: usize, blocks: usize, n: usize) -> String {
    match (u8::try_from(table), u8::try_from(block)) {
        (Ok(t), Ok(b)) if t < 26 && b < 26 => {
            let t = char::from(b'A' + t);
            if blocks > 1 {
                format!("{t}{}{n}", char::from(b'a' + b))
            } else {
                format!("{t}{n}")
            }
        }
        _ => format!("t{table}b{block}n{n}"),
    }
}

/// Builds the view of one table. `data` must come from the same schema table; `index`
/// is the table's place in its format, which keeps the header cells' ids short and
/// unique on a page of one format's tables (see [`header_id`]).
pub fn view(table: &Table, index: usize, data: &TableData) -> TableView {
    let prefix = format!("t-{}", table.key.replace('_', "-"));
    let mut has_computed = false;
    let blocks = table
        .blocks
        .iter()
        .zip(&data.blocks)
        .enumerate()
        .map(|(bi, (block, cells))| {
            let id = |n: usize| header_id(index, bi, table.blocks.len(), n);
            let leaf_cols = block.leaf_columns();
            let fmt = |ci: usize, c: &crate::model::Cell| DataCell {
                text: c.value.to_string(),
                headers: String::new(),
                computed: matches!(c.origin, Origin::Computed),
                decimal: leaf_cols
                    .get(ci)
                    .is_some_and(|l| l.cell_type == CellType::Decimal),
            };
            match table.layout {
                Layout::Grid => {
                    let col_depth = depth(&block.columns);
                    let stub_depth = depth(&block.rows);
                    let mut counter = 0;
                    let mut header_rows = vec![Vec::new(); col_depth];
                    let corner = HeaderCell {
                        id: id(0),
                        label: block.stub.clone().unwrap_or_default(),
                        label_en: block.stub_en.clone().unwrap_or_default(),
                        colspan: stub_depth,
                        rowspan: col_depth,
                        scope: if block.stub.is_some() {
                            "col".into()
                        } else {
                            String::new()
                        },
                        tag: if block.stub.is_some() {
                            "th".into()
                        } else {
                            "td".into()
                        },
                    };
                    header_rows[0].push(corner);
                    let mut col_headers: Vec<Vec<String>> = Vec::new();
                    lay_columns(
                        &block.columns,
                        0,
                        col_depth,
                        &mut Vec::new(),
                        &mut header_rows,
                        &mut col_headers,
                        &mut counter,
                        &id,
                    );
                    let mut rows = Vec::new();
                    let mut path_ids: Vec<String> = Vec::new();
                    let mut leaf = 0;
                    lay_rows(
                        &block.rows,
                        0,
                        stub_depth,
                        &mut path_ids,
                        &mut Vec::new(),
                        &mut rows,
                        &mut leaf,
                        &mut counter,
                        &id,
                    );
                    for (ri, row) in rows.iter_mut().enumerate() {
                        let row_ids = row.1.clone();
                        row.0.cells = cells
                            .row(ri)
                            .unwrap_or_default()
                            .iter()
                            .enumerate()
                            .map(|(ci, c)| {
                                let mut d = fmt(ci, c);
                                let mut ids = row_ids.clone();
                                ids.extend(col_headers[ci].iter().cloned());
                                d.headers = ids.join(" ");
                                has_computed |= d.computed;
                                d
                            })
                            .collect();
                    }
                    BlockView {
                        caption: block.caption.clone(),
                        caption_en: block.caption_en.clone(),
                        columns: stub_depth + col_headers.len(),
                        header_rows,
                        head_html: Html::default(),
                        rows: rows.into_iter().map(|r| r.0).collect(),
                        body_html: String::new(),
                    }
                }
                Layout::Flat => {
                    // Rows become the top of the header; every leaf row carries the column tree.
                    let tree = graft(&block.rows, &block.columns);
                    let col_depth = depth(&tree);
                    let mut counter = 0;
                    let mut header_rows = vec![Vec::new(); col_depth];
                    let mut col_headers = Vec::new();
                    lay_columns(
                        &tree,
                        0,
                        col_depth,
                        &mut Vec::new(),
                        &mut header_rows,
                        &mut col_headers,
                        &mut counter,
                        &id,
                    );
                    let n_cols = leaf_cols.len().max(1);
                    let cells: Vec<DataCell> = cells
                        .cells()
                        .iter()
                        .enumerate()
                        .map(|(i, c)| {
                            let mut d = fmt(i % n_cols, c);
                            d.headers = col_headers.get(i).map(|h| h.join(" ")).unwrap_or_default();
                            has_computed |= d.computed;
                            d
                        })
                        .collect();
                    BlockView {
                        caption: block.caption.clone(),
                        caption_en: block.caption_en.clone(),
                        columns: cells.len(),
                        header_rows,
                        head_html: Html::default(),
                        rows: vec![BodyRow {
                            stubs: Vec::new(),
                            stubs_html: Html::default(),
                            cells,
                        }],
                        body_html: String::new(),
                    }
                }
            }
        })
        .collect();
    TableView {
        key: table.key.clone(),
        id: prefix,
        section: table.section.clone(),
        caption: table.caption.clone(),
        caption_en: table.caption_en.clone(),
        note_en: table.note_en.clone(),
        note: table.note.clone(),
        unit: table.unit.clone(),
        blocks,
        has_computed,
        html: Mark::default(),
    }
}

/// A table's HTML as its partial printed it for a format (see [`Spliced::of`]): text, and
/// where each block's body rows go.
#[derive(Debug, Clone, Default)]
pub struct Spliced {
    pieces: Vec<Piece>,
    /// A hash of the pieces: what a page's key takes for the table's own text.
    key: u64,
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Body(usize),
}

/// What a layout's block has as `body_html` while its partial is rendered once: a mark
/// that [`Spliced::of`] finds in the output, as private-use characters no page prints.
pub fn body_mark(block: usize) -> String {
    format!("\u{E000}{block}\u{E001}")
}

impl Spliced {
    /// Splits a table's HTML, rendered with each block's body rows as its
    /// [`body_mark`], at the marks (of blocks below `blocks`).
    pub fn of(html: &str, blocks: usize) -> Spliced {
        let mut pieces = Vec::new();
        let mut rest = html;
        let mut text = String::new();
        while let Some(at) = rest.find('\u{E000}') {
            let after = &rest[at + '\u{E000}'.len_utf8()..];
            let mark = after.split_once('\u{E001}').and_then(|(n, tail)| {
                let n = n.parse::<usize>().ok().filter(|&n| n < blocks)?;
                Some((n, tail))
            });
            match mark {
                Some((n, tail)) => {
                    text.push_str(&rest[..at]);
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                    pieces.push(Piece::Body(n));
                    rest = tail;
                }
                None => {
                    let end = at + '\u{E000}'.len_utf8();
                    text.push_str(&rest[..end]);
                    rest = &rest[end..];
                }
            }
        }
        text.push_str(rest);
        pieces.push(Piece::Text(text));
        pieces.retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
        let mut h = crate::fingerprint::hasher();
        for p in &pieces {
            match p {
                Piece::Text(t) => std::hash::Hash::hash(t, &mut h),
                Piece::Body(n) => std::hash::Hash::hash(n, &mut h),
            }
        }
        Spliced {
            pieces,
            key: std::hash::Hasher::finish(&h),
        }
    }

    /// The table's HTML with each block's body rows (`body(block)`, a filled view's) put
    /// in, added to `out`; a block without any gets none.
    pub fn write<'b>(&self, out: &mut Vec<u8>, body: impl Fn(usize) -> Option<&'b str>) {
        // `put_tables` has reserved the whole page.
        let body = |n: usize| body(n).unwrap_or_default();
        for p in &self.pieces {
            out.extend_from_slice(
                match p {
                    Piece::Text(t) => t,
                    Piece::Body(n) => body(*n),
                }
                .as_bytes(),
            );
        }
    }

    pub fn key(&self) -> u64 {
        self.key
    }
}

/// What a page's view has for a table, for its template to print (`{{ … | safe }}`): a mark,
/// which the render stage replaces with the table once the page is rendered
/// ([`put_tables`]). Tera would otherwise copy each table into its values and then into
/// the page; the tables are most of a report's or a comparison's page.
///
/// The mark holds a number chosen when portalgen starts, so no report's text can hold
/// one. It is not part of a page's key: the page hashes the table instead (see
/// [`crate::fingerprint::UNHASHED`]).
#[derive(Debug, Clone, Default)]
pub struct Mark(String);

impl Mark {
    fn new(n: usize) -> Mark {
        Mark(format!("{}{n}\u{E003}", mark_prefix()))
    }
}

impl Serialize for Mark {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(crate::fingerprint::UNHASHED, &self.0)
    }
}

/// The start of every mark: a private-use character and the process's number.
fn mark_prefix() -> &'static str {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PREFIX.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        // Digits, which filters that change case leave as they are.
        format!("\u{E002}{:020}", h.finish())
    })
}

/// The tables of one page, in the order of their marks.
#[derive(Default)]
pub struct Fills {
    tables: Vec<(std::sync::Arc<Spliced>, Vec<String>)>,
}

impl Fills {
    /// Keeps a table (made once per format, and the page's body rows of each block) for
    /// the page, and gives the mark its view prints.
    pub fn add(&mut self, table: std::sync::Arc<Spliced>, bodies: Vec<String>) -> Mark {
        self.tables.push((table, bodies));
        Mark::new(self.tables.len() - 1)
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

/// A page with each table put where its template printed the table's [`Mark`]. A mark
/// found changed (a template that filtered a table's `html`) is an error: the byte offset
/// where it starts.
pub fn put_tables(page: &[u8], fills: &Fills) -> Result<Vec<u8>, usize> {
    const END: &str = "\u{E003}";
    let prefix = mark_prefix().as_bytes();
    let size: usize = fills
        .tables
        .iter()
        .map(|(t, bodies)| {
            t.pieces
                .iter()
                .map(|p| match p {
                    Piece::Text(t) => t.len(),
                    Piece::Body(n) => bodies.get(*n).map_or(0, String::len),
                })
                .sum::<usize>()
        })
        .sum();
    let mut out = Vec::with_capacity(page.len() + size);
    let mut last = 0;
    for at in memchr::memmem::find_iter(page, prefix) {
        if at < last {
            continue;
        }
        let rest = &page[at + prefix.len()..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let n = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|d| d.parse::<usize>().ok())
            .filter(|n| *n < fills.tables.len() && rest[digits..].starts_with(END.as_bytes()));
        let Some(n) = n else { return Err(at) };
        out.extend_from_slice(&page[last..at]);
        let (table, bodies) = &fills.tables[n];
        table.write(&mut out, |b| bodies.get(b).map(String::as_str));
        last = at + prefix.len() + digits + END.len();
    }
    out.extend_from_slice(&page[last..]);
    Ok(out)
}

fn depth(nodes: &[Axis]) -> usize {
    nodes
        .iter()
        .map(|n| 1 + depth(&n.children))
        .max()
        .unwrap_or(0)
}

fn leaves(node: &Axis) -> usize {
    if node.children.is_empty() {
        1
    } else {
        node.children.iter().map(leaves).sum()
    }
}

/// Copies the column tree under every leaf of the row tree.
fn graft(rows: &[Axis], columns: &[Axis]) -> Vec<Axis> {
    rows.iter()
        .map(|r| {
            let mut r = r.clone();
            r.children = if r.children.is_empty() {
                columns.to_vec()
            } else {
                graft(&r.children, columns)
            };
            r
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn lay_columns(
    nodes: &[Axis],
    level: usize,
    depth: usize,
    path: &mut Vec<String>,
    header_rows: &mut [Vec<HeaderCell>],
    leaf_headers: &mut Vec<Vec<String>>,
    counter: &mut usize,
    id: &dyn Fn(usize) -> String,
) {
    for n in nodes {
        *counter += 1;
        let cell_id = id(*counter);
        let is_leaf = n.children.is_empty();
        header_rows[level].push(HeaderCell {
            id: cell_id.clone(),
            label: n.label.clone(),
            label_en: n.label_en.clone(),
            colspan: leaves(n),
            rowspan: if is_leaf { depth - level } else { 1 },
            scope: if is_leaf {
                "col".into()
            } else {
                "colgroup".into()
            },
            tag: "th".into(),
        });
        path.push(cell_id);
        if is_leaf {
            leaf_headers.push(path.clone());
        } else {
            lay_columns(
                &n.children,
                level + 1,
                depth,
                path,
                header_rows,
                leaf_headers,
                counter,
                id,
            );
        }
        path.pop();
    }
}

/// Emits one body row per leaf; a group's stub cell goes on the row of its first leaf.
#[allow(clippy::too_many_arguments)]
fn lay_rows(
    nodes: &[Axis],
    level: usize,
    depth: usize,
    path: &mut Vec<String>,
    pending: &mut Vec<HeaderCell>,
    rows: &mut Vec<(BodyRow, Vec<String>)>,
    leaf: &mut usize,
    counter: &mut usize,
    id: &dyn Fn(usize) -> String,
) {
    for n in nodes {
        *counter += 1;
        let cell_id = id(*counter);
        let is_leaf = n.children.is_empty();
        pending.push(HeaderCell {
            id: cell_id.clone(),
            label: n.label.clone(),
            label_en: n.label_en.clone(),
            colspan: if is_leaf { depth - level } else { 1 },
            rowspan: leaves(n),
            scope: if is_leaf {
                "row".into()
            } else {
                "rowgroup".into()
            },
            tag: "th".into(),
        });
        path.push(cell_id);
        if is_leaf {
            rows.push((
                BodyRow {
                    stubs: std::mem::take(pending),
                    stubs_html: Html::default(),
                    cells: Vec::new(),
                },
                path.clone(),
            ));
            *leaf += 1;
        } else {
            lay_rows(
                &n.children,
                level + 1,
                depth,
                path,
                pending,
                rows,
                leaf,
                counter,
                id,
            );
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_made_once_gets_each_pages_body_rows_where_its_marks_were() {
        let html = format!(
            "<table>{}</table><p>\u{E000}x\u{E001}\u{E000}9\u{E001}</p><table>{}{}</table>",
            body_mark(0),
            body_mark(1),
            body_mark(0)
        );
        let spliced = Spliced::of(&html, 2);
        let block = |body: &str| BlockView {
            caption: None,
            caption_en: None,
            columns: 1,
            header_rows: Vec::new(),
            head_html: Html::default(),
            rows: Vec::new(),
            body_html: body.to_owned(),
        };
        // A mark printed twice gets the rows twice; text that only looks like a mark (or
        // names a block the table does not have) stays as it is.
        let two = [block("<tr>甲</tr>"), block("<tr>乙</tr>")];
        let one = [block("<tr>甲</tr>")];
        let fill = |spliced: &Spliced, blocks: &[BlockView]| {
            let mut out = Vec::new();
            spliced.write(&mut out, |n| blocks.get(n).map(|b| b.body_html.as_str()));
            String::from_utf8(out).unwrap()
        };
        let bodies = |blocks: &[BlockView]| fill(&spliced, blocks);
        assert_eq!(
            bodies(&two),
            "<table><tr>甲</tr></table><p>\u{E000}x\u{E001}\u{E000}9\u{E001}</p><table><tr>乙</tr><tr>甲</tr></table>"
        );
        // A page with fewer blocks than the layout gets nothing for the missing ones.
        assert_eq!(
            bodies(&one),
            "<table><tr>甲</tr></table><p>\u{E000}x\u{E001}\u{E000}9\u{E001}</p><table><tr>甲</tr></table>"
        );
        assert_eq!(fill(&Spliced::of("无表", 0), &[]), "无表");
    }
    use crate::decimal::Decimal;
    use crate::model::{BlockData, Cell};
    use crate::schema::Registry;
    use crate::yaml::Pos;

    fn data(table: &Table) -> TableData {
        let blocks = table
            .blocks
            .iter()
            .filter_map(|b| {
                BlockData::from_rows(vec![
                    vec![
                        Cell {
                            value: Decimal::from_int(1),
                            origin: Origin::Authored(Pos::default().into())
                        };
                        b.leaf_columns().len()
                    ];
                    b.leaf_rows().len()
                ])
            })
            .collect();
        TableData {
            key: table.key.clone(),
            pos: Pos::default(),
            blocks,
        }
    }

    #[test]
    fn header_ids_are_short_unique_and_listed() {
        let reg = Registry::load(std::path::Path::new("/none")).expect("schemas");
        for schema in reg.all() {
            // A report page holds every table of its format.
            let mut ids = std::collections::HashSet::new();
            for (i, t) in schema.tables.iter().enumerate() {
                for b in view(t, i, &data(t)).blocks {
                    let heads = b.header_rows.iter().flatten();
                    let stubs = b.rows.iter().flat_map(|r| &r.stubs);
                    let here: Vec<&str> = heads.chain(stubs).map(|h| h.id.as_str()).collect();
                    for id in &here {
                        assert!(ids.insert(id.to_string()), "{} repeats {id}", schema.id);
                        assert!(id.starts_with(|c: char| c.is_ascii_uppercase()), "{id}");
                        assert!(id.ends_with(|c: char| c.is_ascii_digit()), "{id}");
                        assert!(id.len() <= 4, "{id}");
                    }
                    for cell in b.rows.iter().flat_map(|r| &r.cells) {
                        assert!(cell.headers.split(' ').all(|h| here.contains(&h)));
                    }
                }
            }
        }
        assert_eq!(header_id(1, 0, 1, 12), "B12");
        assert_eq!(header_id(0, 2, 4, 3), "Ac3");
        assert_eq!(header_id(30, 0, 1, 3), "t30b0n3");
    }

    #[test]
    fn table_three_has_the_official_spans() {
        let reg = Registry::load(std::path::Path::new("/none")).expect("schemas");
        let t = reg
            .get("cn-2021")
            .and_then(|s| s.table("applications"))
            .expect("t");
        let v = view(t, 0, &data(t));
        let b = &v.blocks[0];
        assert_eq!(b.header_rows.len(), 3);
        let corner = &b.header_rows[0][0];
        assert_eq!(
            (corner.colspan, corner.rowspan, corner.tag.as_str()),
            (3, 3, "td")
        );
        assert_eq!(
            (
                b.header_rows[0][1].label.as_str(),
                b.header_rows[0][1].colspan
            ),
            ("申请人情况", 7)
        );
        let natural = &b.header_rows[1][0];
        assert_eq!((natural.label.as_str(), natural.rowspan), ("自然人", 2));
        assert_eq!(b.rows.len(), 25);
        let outcome = &b.rows[2].stubs[0];
        assert_eq!(
            (outcome.label.as_str(), outcome.rowspan),
            ("三、本年度办理结果", 22)
        );
        assert_eq!(b.rows[0].stubs[0].colspan, 3);
        assert_eq!(b.rows[2].stubs[1].colspan, 2);
        // Each number is tied to its row path and column path.
        let headers = &b.rows[4].cells[1].headers;
        assert_eq!(headers.split(' ').count(), 3 + 3);
    }

    #[test]
    fn table_four_is_one_row_under_three_header_levels() {
        let reg = Registry::load(std::path::Path::new("/none")).expect("schemas");
        let t = reg
            .get("cn-2021")
            .and_then(|s| s.table("review_litigation"))
            .expect("t");
        let v = view(t, 0, &data(t));
        let b = &v.blocks[0];
        assert_eq!(b.header_rows.len(), 3);
        assert_eq!(
            b.header_rows[0]
                .iter()
                .map(|h| h.colspan)
                .collect::<Vec<_>>(),
            [5, 10]
        );
        assert_eq!(b.header_rows[1][0].rowspan, 2);
        assert_eq!(b.rows.len(), 1);
        assert_eq!(b.rows[0].cells.len(), 15);
    }

    #[test]
    fn a_page_gets_its_tables_where_its_template_printed_their_marks() {
        let table =
            std::sync::Arc::new(Spliced::of(&format!("<table>{}</table>", body_mark(0)), 1));
        let mut fills = Fills::default();
        let first = fills.add(table.clone(), vec!["<tr>甲</tr>".into()]);
        let second = fills.add(table, vec!["<tr>乙</tr>".into()]);
        // Marks are printed in any order, twice or not at all; text that only looks like
        // one (a report's private-use characters) stays.
        let page = format!(
            "<p>\u{E002}0\u{E003}</p>{}{}{}",
            second.0, first.0, second.0
        );
        assert_eq!(
            String::from_utf8(put_tables(page.as_bytes(), &fills).unwrap()).unwrap(),
            "<p>\u{E002}0\u{E003}</p><table><tr>乙</tr></table><table><tr>甲</tr></table><table><tr>乙</tr></table>"
        );
        // A mark a template changed is an error, not a page with the mark in it.
        let cut = &second.0[..second.0.len() - 4];
        assert_eq!(put_tables(format!("ab{cut}").as_bytes(), &fills), Err(2));
        let other = format!("{}9\u{E003}", mark_prefix());
        assert_eq!(put_tables(other.as_bytes(), &fills), Err(0));
        // Marks are not part of a page's key.
        let mut a = crate::fingerprint::hasher();
        crate::fingerprint::feed(&mut a, &(1, &first));
        let mut b = crate::fingerprint::hasher();
        crate::fingerprint::feed(&mut b, &(1, &second));
        assert_eq!(std::hash::Hasher::finish(&a), std::hash::Hasher::finish(&b));
    }
}
