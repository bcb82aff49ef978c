//! Tables: find each of the format's tables in its section, cut it into rows, place every
//! row by its label and every number by its column.
//!
//! Nothing here names a row: the row and column labels, the groups they sit in and the
//! order of the columns all come from the format's schema file. A row is placed when its
//! label, once normalised, is exactly one leaf label of the schema (group labels such as
//! “（三）不予公开” may be written around it, in any order, and a label may be split over
//! several lines or cells). Numbers are taken in the official column order; where that
//! order cannot be known for sure (a cell too few, blanks that could be in more than one
//! place, numbers glued together in more than one way), the row is not read but reported.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use super::doc::Row;
use super::normalize::{self, CellKind, Token, Unit};
use super::{Finding, Level};
use crate::schema::{Axis, CellType, Layout, LeafCol, Schema, Table};

/// What was read for one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellOut {
    /// The number as it will be written (`2595.45`, `-3`).
    Value(String),
    /// Not known for sure: written as a placeholder that fails the build until filled.
    Todo(String),
}

/// One row of the schema with what was read for it.
#[derive(Debug, Clone)]
pub struct RowOut {
    /// None when the row was not found (or left out, for a computed row).
    pub cells: Option<Vec<CellOut>>,
    /// Why the row is a placeholder or left out, for the file's comment.
    pub note: Option<String>,
}

/// A table of the schema with what was read for it, rows in the schema's leaf order
/// (block by block).
#[derive(Debug, Clone)]
pub struct TableOut {
    pub key: String,
    pub rows: Vec<RowOut>,
}

impl TableOut {
    pub fn todo_cells(&self) -> usize {
        self.rows
            .iter()
            .flat_map(|r| r.cells.iter().flatten())
            .filter(|c| matches!(c, CellOut::Todo(_)))
            .count()
    }

    pub fn value_cells(&self) -> usize {
        self.rows
            .iter()
            .flat_map(|r| r.cells.iter().flatten())
            .filter(|c| matches!(c, CellOut::Value(_)))
            .count()
    }
}

static ORDINAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[0-9]{1,2}\.|\([一二三四五六七八九十]{1,3}\)|[一二三四五六七八九十]{1,3}、)")
        .expect("valid regex")
});

/// A leaf row of a table, with its labels normalised for matching.
#[derive(Debug, Clone)]
struct Leaf {
    block: usize,
    label: String,
    full: Vec<char>,
    bare: Vec<char>,
    ordinal_len: usize,
    computed: bool,
}

/// A table of the schema prepared for matching.
pub struct Spec<'s> {
    pub table: &'s Table,
    leaves: Vec<Leaf>,
    cols: Vec<Vec<LeafCol>>,
    /// Labels that may surround a row label: group labels (whole, ordinal alone, text
    /// alone), block captions and stubs.
    skips: Vec<Vec<char>>,
    /// Every label of the table, normalised: what tells a table row from prose.
    pub labels: BTreeSet<String>,
}

impl<'s> Spec<'s> {
    pub fn new(table: &'s Table) -> Spec<'s> {
        let mut leaves = Vec::new();
        let mut cols = Vec::new();
        let mut skips: BTreeSet<String> = BTreeSet::new();
        let mut labels = BTreeSet::new();
        let add_label = |l: &str, labels: &mut BTreeSet<String>| {
            let n = normalize::label(l);
            let (stripped, _) = normalize::split_unit_note(&n);
            if let Some(m) = ORDINAL.find(&n) {
                labels.insert(n[m.end()..].to_owned());
            }
            labels.insert(stripped);
            labels.insert(n);
        };
        add_label(&table.caption, &mut labels);
        if let Some(note) = &table.note {
            add_label(note, &mut labels);
        }
        fn inner(nodes: &[Axis], out: &mut Vec<String>) {
            for n in nodes {
                if !n.children.is_empty() {
                    out.push(n.label.clone());
                    inner(&n.children, out);
                }
            }
        }
        fn all(nodes: &[Axis], out: &mut Vec<String>) {
            for n in nodes {
                out.push(n.label.clone());
                all(&n.children, out);
            }
        }
        for (b, block) in table.blocks.iter().enumerate() {
            let mut groups = Vec::new();
            inner(&block.rows, &mut groups);
            for g in &groups {
                let n = normalize::label(g);
                if let Some(m) = ORDINAL.find(&n) {
                    skips.insert(n[..m.end()].to_owned());
                    if m.end() < n.len() {
                        skips.insert(n[m.end()..].to_owned());
                    }
                }
                skips.insert(n);
            }
            for extra in [&block.caption, &block.stub].into_iter().flatten() {
                skips.insert(normalize::label(extra));
                add_label(extra, &mut labels);
            }
            let mut names = Vec::new();
            all(&block.rows, &mut names);
            all(&block.columns, &mut names);
            for l in &names {
                add_label(l, &mut labels);
            }
            for row in block.leaf_rows() {
                let full = normalize::label(&row.label);
                let ordinal_len = ORDINAL.find(&full).map_or(0, |m| m.end());
                leaves.push(Leaf {
                    block: b,
                    label: row.path.join(" "),
                    bare: full[ordinal_len..].chars().collect(),
                    ordinal_len: full[..ordinal_len].chars().count(),
                    full: full.chars().collect(),
                    computed: row.computed,
                });
            }
            cols.push(block.leaf_columns());
        }
        labels.remove("");
        skips.remove("");
        Spec {
            table,
            leaves,
            cols,
            skips: skips.into_iter().map(|s| s.chars().collect()).collect(),
            labels,
        }
    }

    /// True when the row is part of this table: a cell is one of its labels, or the row
    /// holds numbers (and no long text).
    pub fn belongs(&self, row: &Row) -> bool {
        let mut has_values = false;
        for c in row.texts() {
            match normalize::classify(&c.text) {
                CellKind::Values(_) | CellKind::Unreadable(_) => has_values = true,
                CellKind::Label => {
                    let n = normalize::label(&c.text);
                    let (stripped, _) = normalize::split_unit_note(&n);
                    if self.labels.contains(&n) || self.labels.contains(&stripped) {
                        return true;
                    }
                    if n.chars().count() > 60 {
                        return false;
                    }
                }
                CellKind::Empty => {}
            }
        }
        has_values
    }
}

/// The labels by which each candidate format is told apart from the others: labels that
/// only this format's tables have.
pub fn distinguishing_labels<'a>(schemas: &[&'a Schema]) -> Vec<(&'a Schema, BTreeSet<String>)> {
    let sets: Vec<BTreeSet<String>> = schemas
        .iter()
        .map(|s| {
            s.tables
                .iter()
                .flat_map(|t| Spec::new(t).labels.into_iter())
                .collect()
        })
        .collect();
    schemas
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let own: BTreeSet<String> = sets[i]
                .iter()
                .filter(|l| {
                    l.chars().count() >= 2
                        && sets
                            .iter()
                            .enumerate()
                            .all(|(j, other)| j == i || !other.contains(*l))
                })
                .cloned()
                .collect();
            (*s, own)
        })
        .collect()
}

/// A label cell of a logical row.
#[derive(Debug, Clone)]
struct LCell {
    norm: String,
    col: usize,
    line: usize,
}

/// A place for one number, in the order the row gives them.
#[derive(Debug, Clone)]
enum Slot {
    /// An empty cell: structure, or a blank value.
    Empty {
        line: usize,
    },
    Tok {
        tok: Token,
        line: usize,
    },
    Bad {
        text: String,
        line: usize,
    },
}

impl Slot {
    fn line(&self) -> usize {
        match self {
            Slot::Empty { line } | Slot::Tok { line, .. } | Slot::Bad { line, .. } => *line,
        }
    }
}

/// A row as labels followed by numbers. In a grid (tabs, spaced columns, HTML, docx) it
/// is one row of the source; in `pdftotext`'s one-cell-per-line output it is a run of
/// label lines followed by a run of number lines.
#[derive(Debug, Clone, Default)]
struct LRow {
    labels: Vec<LCell>,
    slots: Vec<Slot>,
    line: usize,
    /// A number written before a label in the same row.
    stray: Option<(usize, String)>,
    /// The source row is one row of an HTML or docx table: positions are grid columns,
    /// comparable across rows.
    exact: bool,
}

impl LRow {
    fn is_data(&self) -> bool {
        self.slots.iter().any(|s| !matches!(s, Slot::Empty { .. }))
    }
}

fn logical_rows(rows: &[&Row]) -> Vec<LRow> {
    let grid = rows.iter().any(|r| r.cells.len() > 1);
    let mut out: Vec<LRow> = Vec::new();
    if grid {
        for r in rows {
            let cells: Vec<_> = r.cells.iter().filter(|c| !c.copy).collect();
            let kinds: Vec<CellKind> = cells.iter().map(|c| normalize::classify(&c.text)).collect();
            let last_label = kinds.iter().rposition(|k| *k == CellKind::Label);
            let mut lrow = LRow {
                line: r.line,
                exact: r.table.is_some(),
                ..LRow::default()
            };
            for (i, (c, k)) in cells.iter().zip(&kinds).enumerate() {
                let after = last_label.is_none_or(|l| i > l);
                match k {
                    CellKind::Label => lrow.labels.push(LCell {
                        norm: normalize::label(&c.text),
                        col: c.col,
                        line: r.line,
                    }),
                    CellKind::Empty if after => lrow.slots.push(Slot::Empty { line: r.line }),
                    CellKind::Empty => {}
                    CellKind::Values(toks) if after => {
                        for t in toks {
                            lrow.slots.push(Slot::Tok {
                                tok: t.clone(),
                                line: r.line,
                            });
                        }
                    }
                    CellKind::Unreadable(t) if after => lrow.slots.push(Slot::Bad {
                        text: t.clone(),
                        line: r.line,
                    }),
                    CellKind::Values(_) | CellKind::Unreadable(_) => {
                        if lrow.stray.is_none() {
                            lrow.stray = Some((r.line, c.text.trim().to_owned()));
                        }
                    }
                }
            }
            out.push(lrow);
        }
    } else {
        let mut cur = LRow::default();
        for r in rows {
            let Some(c) = r.texts().next() else { continue };
            match normalize::classify(&c.text) {
                CellKind::Label => {
                    if cur.is_data() {
                        out.push(std::mem::take(&mut cur));
                    }
                    if cur.labels.is_empty() {
                        cur.line = r.line;
                    }
                    cur.labels.push(LCell {
                        norm: normalize::label(&c.text),
                        col: c.col,
                        line: r.line,
                    });
                }
                CellKind::Values(toks) => {
                    if cur.labels.is_empty() && cur.slots.is_empty() {
                        cur.line = r.line;
                    }
                    for t in toks {
                        cur.slots.push(Slot::Tok {
                            tok: t,
                            line: r.line,
                        });
                    }
                }
                CellKind::Unreadable(t) => cur.slots.push(Slot::Bad {
                    text: t,
                    line: r.line,
                }),
                CellKind::Empty => {}
            }
        }
        if !cur.labels.is_empty() || !cur.slots.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// How a string of label text matches a leaf label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    Exact,
    /// The text is the start of the label (this many characters of it).
    Prefix(usize),
    None,
}

/// Does `s` spell `t`, possibly with skip pieces (group labels) inserted anywhere?
fn fit(s: &[char], t: &[char], skips: &[Vec<char>]) -> Fit {
    let n = s.len();
    // skip_at[i]: lengths of the skip pieces that start at s[i].
    let skip_at: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            skips
                .iter()
                .filter(|p| !p.is_empty() && s[i..].starts_with(p))
                .map(Vec::len)
                .collect()
        })
        .collect();
    let m = t.len();
    let mut reach = vec![vec![false; m + 1]; n + 1];
    reach[0][0] = true;
    for i in 0..=n {
        for j in 0..=m {
            if !reach[i][j] || i == n {
                continue;
            }
            if j < m && s[i] == t[j] {
                reach[i + 1][j + 1] = true;
            }
            for &len in &skip_at[i] {
                reach[i + len][j] = true;
            }
        }
    }
    if reach[n][m] {
        return Fit::Exact;
    }
    match (1..m).rev().find(|&j| reach[n][j]) {
        Some(j) => Fit::Prefix(j),
        None => Fit::None,
    }
}

/// The leaves a piece of label text names exactly.
fn exact_leaves(spec: &Spec, text: &str) -> Vec<usize> {
    let s: Vec<char> = text.chars().collect();
    if s.is_empty() {
        return Vec::new();
    }
    spec.leaves
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            fit(&s, &l.full, &spec.skips) == Fit::Exact
                || (l.ordinal_len > 0 && fit(&s, &l.bare, &spec.skips) == Fit::Exact)
        })
        .map(|(i, _)| i)
        .collect()
}

/// The one leaf whose label starts with this text (a label cut short), if there is one.
fn prefix_leaf(spec: &Spec, text: &str) -> Option<usize> {
    let s: Vec<char> = text.chars().collect();
    let hits: Vec<usize> = spec
        .leaves
        .iter()
        .enumerate()
        .filter(|(_, l)| match fit(&s, &l.full, &spec.skips) {
            Fit::Prefix(j) => j >= l.ordinal_len + 4,
            _ => false,
        })
        .map(|(i, _)| i)
        .collect();
    (hits.len() == 1).then(|| hits[0])
}

fn concat(cells: &[LCell]) -> String {
    cells.iter().map(|c| c.norm.as_str()).collect()
}

/// Which leaf a data row is, and how many of its own label cells (from the end) name it.
enum Placed {
    Leaf { leaf: usize, used: usize, cut: bool },
    Ambiguous(Vec<usize>),
    Unknown,
}

fn place(spec: &Spec, own: &[LCell], before: &[LCell], after: &[LCell]) -> Placed {
    let decide = |hits: Vec<usize>, used: usize| -> Option<Placed> {
        let mut hits = hits;
        hits.dedup();
        match hits.len() {
            0 => None,
            1 => Some(Placed::Leaf {
                leaf: hits[0],
                used,
                cut: false,
            }),
            _ => Some(Placed::Ambiguous(hits)),
        }
    };
    for k in 1..=own.len() {
        if let Some(p) = decide(exact_leaves(spec, &concat(&own[own.len() - k..])), k) {
            return p;
        }
    }
    let (nb, na) = (before.len().min(4), after.len().min(4));
    for total in 1..=(nb + na) {
        let mut hits = Vec::new();
        for a in 0..=total.min(nb) {
            let b = total - a;
            if b > na {
                continue;
            }
            let text = format!(
                "{}{}{}",
                concat(&before[before.len() - a..]),
                concat(own),
                concat(&after[..b])
            );
            hits.extend(exact_leaves(spec, &text));
        }
        hits.sort_unstable();
        if let Some(p) = decide(hits, own.len()) {
            return p;
        }
    }
    for k in 1..=own.len() {
        if let Some(leaf) = prefix_leaf(spec, &concat(&own[own.len() - k..])) {
            return Placed::Leaf {
                leaf,
                used: k,
                cut: true,
            };
        }
    }
    Placed::Unknown
}

/// Context for the messages about one table.
struct Ctx<'a> {
    spec: &'a Spec<'a>,
    findings: &'a mut Vec<Finding>,
}

impl Ctx<'_> {
    fn push(&mut self, level: Level, line: usize, zh: String, en: String) {
        self.findings.push(Finding {
            level,
            line: (line > 0).then_some(line),
            zh,
            en,
        });
    }

    fn where_zh(&self) -> String {
        format!(
            "表{}（{}）",
            self.spec.table.section, self.spec.table.caption
        )
    }
}

/// Reads one table from the rows of its section. `heading_line` is where the section
/// starts (for messages when the table is not there at all). Returns what was read and
/// the range of rows (indexes into `rows`) the table took.
pub fn read_table(
    spec: &Spec,
    rows: &[&Row],
    heading_line: usize,
    findings: &mut Vec<Finding>,
) -> (TableOut, Option<(usize, usize)>) {
    let mut ctx = Ctx { spec, findings };
    let mut out = TableOut {
        key: spec.table.key.clone(),
        rows: spec
            .leaves
            .iter()
            .map(|_| RowOut {
                cells: None,
                note: None,
            })
            .collect(),
    };
    let first = rows.iter().position(|r| spec.belongs(r));
    let last = rows.iter().rposition(|r| spec.belongs(r));
    let (Some(first), Some(last)) = (first, last) else {
        let w = ctx.where_zh();
        ctx.push(
            Level::Unsure,
            heading_line,
            format!("在第{}部分中找不到{w}", spec.table.section),
            format!(
                "table {} ({}) is not in section {}",
                spec.table.section, spec.table.caption_en, spec.table.section
            ),
        );
        fill_todo(spec, &mut out, "原文中找不到此表");
        return (out, None);
    };
    let region: Vec<&Row> = rows[first..=last].to_vec();
    let lrows = logical_rows(&region);
    let data: Vec<usize> = (0..lrows.len()).filter(|&i| lrows[i].is_data()).collect();
    for lr in &lrows {
        if let Some((line, text)) = &lr.stray {
            let w = ctx.where_zh();
            ctx.push(
                Level::Unsure,
                *line,
                format!("{w}：数字“{text}”写在标签之前，无法确定它属于哪一行哪一列"),
                format!(
                    "the number “{text}” stands before a label; its row and column cannot be told"
                ),
            );
        }
    }

    // The flat layout (表四): one row of every cell, under a header naming the rows.
    let total: usize = spec.cols.iter().map(Vec::len).sum::<usize>() * spec.leaves.len()
        / spec.table.blocks.len().max(1);
    if spec.table.layout == Layout::Flat && data.len() == 1 {
        let lr = &lrows[data[0]];
        if lr
            .slots
            .iter()
            .filter(|s| !matches!(s, Slot::Empty { .. }))
            .count()
            > spec.cols[0].len()
        {
            let header: Vec<LCell> = lrows[..data[0]]
                .iter()
                .flat_map(|r| r.labels.iter().cloned())
                .chain(lr.labels.iter().cloned())
                .collect();
            let seq: Vec<&LeafCol> = spec
                .leaves
                .iter()
                .flat_map(|l| spec.cols[l.block].iter())
                .collect();
            let units = check_header(&mut ctx, &header, &seq, lr.line, lr.exact);
            match take(&mut ctx, &lr.slots, total, lr.line) {
                Some(slots) => {
                    let mut it = slots.into_iter();
                    for (i, leaf) in spec.leaves.iter().enumerate() {
                        let cols = &spec.cols[leaf.block];
                        let mine: Vec<Slot> = it.by_ref().take(cols.len()).collect();
                        out.rows[i].cells =
                            Some(convert(&mut ctx, leaf, cols, &mine, &units[..cols.len()]));
                    }
                }
                None => fill_todo(spec, &mut out, "此表的数字无法逐格确定"),
            }
            return (out, Some((first, last)));
        }
    }

    // Place every data row by its label.
    let mut placed: Vec<Vec<(usize, usize)>> = vec![Vec::new(); spec.leaves.len()];
    let mut used_own = vec![0usize; lrows.len()];
    for (n, &i) in data.iter().enumerate() {
        let prev = if n == 0 { 0 } else { data[n - 1] + 1 };
        let next = data.get(n + 1).copied().unwrap_or(lrows.len());
        let before: Vec<LCell> = lrows[prev..i]
            .iter()
            .flat_map(|r| r.labels.iter().cloned())
            .collect();
        let after: Vec<LCell> = lrows[i + 1..next]
            .iter()
            .flat_map(|r| r.labels.iter().cloned())
            .collect();
        let lr = &lrows[i];
        match place(spec, &lr.labels, &before, &after) {
            Placed::Leaf { leaf, used, cut } => {
                used_own[i] = used;
                placed[leaf].push((i, lr.line));
                if cut {
                    let w = ctx.where_zh();
                    let label = spec.leaves[leaf].label.clone();
                    ctx.push(
                        Level::Warning,
                        lr.line,
                        format!("{w}：行标签不完整，按唯一相符的“{label}”读取"),
                        format!("{w}: the row label is cut short; read as the only row it can be, “{label}”"),
                    );
                }
            }
            Placed::Ambiguous(hits) => {
                let names: Vec<&str> = hits
                    .iter()
                    .map(|&h| spec.leaves[h].label.as_str())
                    .collect();
                let w = ctx.where_zh();
                let text = concat(&lr.labels);
                ctx.push(
                    Level::Unsure,
                    lr.line,
                    format!("{w}：行标签“{text}”可对应多行：{}", names.join("；")),
                    format!(
                        "the row label “{text}” fits several rows: {}",
                        names.join("; ")
                    ),
                );
            }
            Placed::Unknown => {
                let w = ctx.where_zh();
                let text = concat(&lr.labels);
                let (zh, en) = if text.is_empty() {
                    (
                        format!("{w}：这一行数字没有行标签，无法确定是哪一行"),
                        "this row of numbers has no label; which row it is cannot be told"
                            .to_owned(),
                    )
                } else {
                    (
                        format!("{w}：无法识别行标签“{text}”，它不是此表的任何一行"),
                        format!("the row label “{text}” is not a row of this table"),
                    )
                };
                ctx.push(Level::Unsure, lr.line, zh, en);
            }
        }
    }

    // Column headers, block by block: the labels between the previous block's rows and
    // this block's first row.
    let mut units: Vec<Vec<Option<Unit>>> = spec.cols.iter().map(|c| vec![None; c.len()]).collect();
    let mut start = 0;
    for (b, cols) in spec.cols.iter().enumerate() {
        let first_row = spec
            .leaves
            .iter()
            .enumerate()
            .filter(|(_, l)| l.block == b)
            .filter_map(|(i, _)| placed[i].first().map(|p| p.0))
            .min();
        let Some(first_row) = first_row else { continue };
        let from = start.min(first_row);
        let mut header: Vec<LCell> = lrows[from..first_row]
            .iter()
            .flat_map(|r| r.labels.iter().cloned())
            .collect();
        let own = &lrows[first_row].labels;
        header.extend(
            own[..own.len() - used_own[first_row].min(own.len())]
                .iter()
                .cloned(),
        );
        let seq: Vec<&LeafCol> = cols.iter().collect();
        units[b] = check_header(
            &mut ctx,
            &header,
            &seq,
            lrows[first_row].line,
            lrows[first_row].exact,
        );
        start = spec
            .leaves
            .iter()
            .enumerate()
            .filter(|(_, l)| l.block == b)
            .filter_map(|(i, _)| placed[i].iter().map(|p| p.0).max())
            .max()
            .map_or(start, |m| m + 1);
    }

    // Every leaf: one row, its numbers in column order.
    for (i, leaf) in spec.leaves.iter().enumerate() {
        let cols = &spec.cols[leaf.block];
        let w = ctx.where_zh();
        match placed[i].as_slice() {
            [] => {
                // A label with no numbers, if the source has one, says where.
                let line = lrows
                    .iter()
                    .filter(|r| !r.is_data())
                    .find(|r| {
                        (1..=r.labels.len()).any(|k| {
                            exact_leaves(spec, &concat(&r.labels[r.labels.len() - k..])) == [i]
                        })
                    })
                    .map(|r| r.line);
                if leaf.computed && line.is_none() {
                    ctx.push(
                        Level::Warning,
                        region.first().map_or(heading_line, |r| r.line),
                        format!(
                            "{w}：原文没有“{}”行，导入文件省略此行，由程序计算",
                            leaf.label
                        ),
                        format!(
                            "the source has no row “{}”; it is left out and computed",
                            leaf.label
                        ),
                    );
                    out.rows[i].note = Some("原文没有此行，由程序计算".into());
                    continue;
                }
                let (zh, en) = match line {
                    Some(_) => (
                        format!("{w}：“{}”行没有数字", leaf.label),
                        format!("the row “{}” has no numbers", leaf.label),
                    ),
                    None => (
                        format!("{w}：缺少“{}”行", leaf.label),
                        format!("the row “{}” is missing", leaf.label),
                    ),
                };
                ctx.push(
                    Level::Unsure,
                    line.unwrap_or_else(|| region.last().map_or(heading_line, |r| r.line)),
                    zh,
                    en,
                );
                out.rows[i].cells =
                    Some(vec![CellOut::Todo("原文缺少此行".into()); cols.len()]);
            }
            [(lr, _)] => {
                let lr = &lrows[*lr];
                let header_units = units[leaf.block].clone();
                out.rows[i].cells = Some(match take(&mut ctx, &lr.slots, cols.len(), lr.line) {
                    Some(slots) => convert(&mut ctx, leaf, cols, &slots, &header_units),
                    None => {
                        vec![CellOut::Todo("此行的数字无法逐格确定".into()); cols.len()]
                    }
                });
            }
            many => {
                let lines: Vec<String> = many.iter().map(|(_, l)| l.to_string()).collect();
                ctx.push(
                    Level::Unsure,
                    many[1].1,
                    format!(
                        "{w}：“{}”行出现了 {} 次（第 {} 行）",
                        leaf.label,
                        many.len(),
                        lines.join("、")
                    ),
                    format!(
                        "the row “{}” appears {} times (lines {})",
                        leaf.label,
                        many.len(),
                        lines.join(", ")
                    ),
                );
                out.rows[i].cells = Some(vec![
                    CellOut::Todo("原文此行出现多次".into());
                    cols.len()
                ]);
            }
        }
    }
    (out, Some((first, last)))
}

fn fill_todo(spec: &Spec, out: &mut TableOut, why: &str) {
    for (i, leaf) in spec.leaves.iter().enumerate() {
        out.rows[i].cells = Some(vec![
            CellOut::Todo(why.to_owned());
            spec.cols[leaf.block].len()
        ]);
    }
}

/// Checks that the header names the columns in the official order; returns the unit that
/// the header gives each column (e.g. 元 where the format says 万元).
fn check_header(
    ctx: &mut Ctx,
    header: &[LCell],
    seq: &[&LeafCol],
    line: usize,
    exact: bool,
) -> Vec<Option<Unit>> {
    let names: Vec<(String, Option<Unit>)> = seq
        .iter()
        .map(|c| normalize::split_unit_note(&normalize::label(&c.label)))
        .collect();
    let mut units = vec![None; seq.len()];
    let mut found = vec![false; seq.len()];
    // hits[k]: header cells naming column k of the sequence.
    let mut hits: Vec<Vec<&LCell>> = vec![Vec::new(); seq.len()];
    for cell in header {
        let (name, unit) = normalize::split_unit_note(&cell.norm);
        for (k, (n, _)) in names.iter().enumerate() {
            if *n == name {
                found[k] = true;
                hits[k].push(cell);
                if unit.is_some() {
                    units[k] = unit;
                }
            }
        }
    }
    let w = ctx.where_zh();
    let distinct: BTreeSet<&str> = seq.iter().map(|c| c.label.as_str()).collect();
    if found.iter().all(|f| !f) {
        if distinct.len() > 1 {
            ctx.push(
                Level::Unsure,
                line,
                format!(
                    "{w}：找不到表头（{}），无法确认各列的顺序",
                    seq.iter()
                        .map(|c| c.label.as_str())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
                "the column header is not there; the order of the columns cannot be confirmed"
                    .to_owned(),
            );
        }
        return units;
    }
    let missing: BTreeSet<&str> = seq
        .iter()
        .zip(&found)
        .filter(|(_, f)| !**f)
        .map(|(c, _)| c.label.as_str())
        .collect();
    if !missing.is_empty() {
        let m: Vec<&str> = missing.into_iter().collect();
        ctx.push(
            Level::Warning,
            line,
            format!("{w}：表头中找不到列“{}”，按官方列序读取", m.join("”“")),
            format!(
                "the header does not name the column(s) “{}”; read in the official order",
                m.join("”, “")
            ),
        );
    }
    // Within each source row, the column labels must come in the official order; in a
    // grid, across rows as well (by position).
    let mut lines: Vec<usize> = header.iter().map(|c| c.line).collect();
    lines.dedup();
    let in_order = |cells: &[&LCell]| -> bool {
        // Greedy: each header cell must be matched by a later position of the sequence.
        let mut at = 0;
        for cell in cells {
            let (name, _) = normalize::split_unit_note(&cell.norm);
            match (at..names.len()).find(|&k| names[k].0 == name) {
                Some(k) => at = k + 1,
                None => return false,
            }
        }
        true
    };
    for l in &lines {
        let cells: Vec<&LCell> = header
            .iter()
            .filter(|c| {
                c.line == *l
                    && names
                        .iter()
                        .any(|(n, _)| *n == normalize::split_unit_note(&c.norm).0)
            })
            .collect();
        if !in_order(&cells) {
            ctx.push(
                Level::Unsure,
                *l,
                format!("{w}：表头各列的顺序与官方格式不同，无法确定每个数属于哪一列"),
                "the columns of the header are not in the official order; which number belongs to which column cannot be told".to_owned(),
            );
            return units;
        }
    }
    if exact && lines.len() > 1 {
        // Across rows: there must be one position per column, increasing.
        let mut last: Option<usize> = None;
        let mut ok = true;
        for hit in &hits {
            if hit.is_empty() {
                continue;
            }
            let next = hit
                .iter()
                .map(|c| c.col)
                .filter(|&c| last.is_none_or(|l| c > l))
                .min();
            match next {
                Some(c) => last = Some(c),
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            ctx.push(
                Level::Unsure,
                line,
                format!("{w}：表头各列的位置与官方列序不符，无法确定每个数属于哪一列"),
                "the header's columns are not placed in the official order; which number belongs to which column cannot be told".to_owned(),
            );
        }
    }
    units
}

/// Picks `n` numbers from a row's slots. Empty cells at either end are structure when
/// exactly one choice of `n` consecutive slots leaves only empty cells out; numbers glued
/// together (`00`) are split when there is exactly one way to. Anything else is refused.
fn take(ctx: &mut Ctx, slots: &[Slot], n: usize, line: usize) -> Option<Vec<Slot>> {
    let w = ctx.where_zh();
    let l = slots.len();
    let shown = || -> String {
        slots
            .iter()
            .map(|s| match s {
                Slot::Empty { .. } => "□".to_owned(),
                Slot::Tok {
                    tok: Token::Number { text, .. },
                    ..
                } => text.clone(),
                Slot::Tok {
                    tok: Token::Placeholder(p),
                    ..
                } => p.clone(),
                Slot::Bad { text, .. } => text.clone(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    if l >= n {
        let windows: Vec<usize> = (0..=l - n)
            .filter(|&s| {
                slots[..s]
                    .iter()
                    .chain(&slots[s + n..])
                    .all(|x| matches!(x, Slot::Empty { .. }))
            })
            .collect();
        return match windows.as_slice() {
            [s] => Some(slots[*s..*s + n].to_vec()),
            [] => {
                let count = slots
                    .iter()
                    .filter(|s| !matches!(s, Slot::Empty { .. }))
                    .count();
                ctx.push(
                    Level::Unsure,
                    line,
                    format!("{w}：这一行有 {count} 个数（{}），应为 {n} 个", shown()),
                    format!(
                        "this row has {count} numbers ({}); it should have {n}",
                        shown()
                    ),
                );
                None
            }
            _ => {
                ctx.push(
                    Level::Unsure,
                    line,
                    format!(
                        "{w}：这一行有空白单元格（{}），无法确定空白的是哪一列",
                        shown()
                    ),
                    format!(
                        "this row has blank cells ({}); which columns are blank cannot be told",
                        shown()
                    ),
                );
                None
            }
        };
    }
    // Too few: cells glued together without a separator.
    let glued: Vec<usize> = (0..l)
        .filter(|&i| matches!(&slots[i], Slot::Tok { tok: Token::Number { text, .. }, .. } if normalize::is_glued(text)))
        .collect();
    let need = n - l;
    let mut ways: Vec<Vec<(usize, Vec<String>)>> = Vec::new();
    fn search(
        slots: &[Slot],
        glued: &[usize],
        need: usize,
        acc: &mut Vec<(usize, Vec<String>)>,
        ways: &mut Vec<Vec<(usize, Vec<String>)>>,
    ) {
        if ways.len() > 8 {
            return;
        }
        let Some((&g, rest)) = glued.split_first() else {
            if need == 0 {
                ways.push(acc.clone());
            }
            return;
        };
        let Slot::Tok {
            tok: Token::Number { text, .. },
            ..
        } = &slots[g]
        else {
            return;
        };
        for extra in 1..=need {
            for parts in normalize::splits(text, extra + 1) {
                acc.push((g, parts));
                search(slots, rest, need - extra, acc, ways);
                acc.pop();
            }
        }
    }
    if !glued.is_empty() {
        search(slots, &glued, need, &mut Vec::new(), &mut ways);
    }
    match ways.len() {
        1 => {
            let way = &ways[0];
            let mut out = Vec::new();
            let mut desc = Vec::new();
            for (i, s) in slots.iter().enumerate() {
                match way.iter().find(|(g, _)| *g == i) {
                    Some((_, parts)) => {
                        if let Slot::Tok {
                            tok: Token::Number { text, unit },
                            line,
                        } = s
                        {
                            desc.push(format!("“{text}”→{}", parts.join(" ")));
                            for p in parts {
                                out.push(Slot::Tok {
                                    tok: Token::Number {
                                        text: p.clone(),
                                        unit: *unit,
                                    },
                                    line: *line,
                                });
                            }
                        }
                    }
                    None => out.push(s.clone()),
                }
            }
            ctx.push(
                Level::Warning,
                line,
                format!("{w}：粘连的数字只有一种拆法，已拆开：{}", desc.join("，")),
                format!(
                    "numbers glued together split the only way they can: {}",
                    desc.join(", ")
                ),
            );
            Some(out)
        }
        0 => {
            let count = slots
                .iter()
                .filter(|s| !matches!(s, Slot::Empty { .. }))
                .count();
            let multi: Vec<String> = slots
                .iter()
                .filter_map(|s| match s {
                    Slot::Tok {
                        tok: Token::Number { text, .. },
                        ..
                    } if text.trim_start_matches('-').len() > 1 && !text.contains('.') => {
                        Some(text.clone())
                    }
                    _ => None,
                })
                .collect();
            let (hint_zh, hint_en) = if multi.is_empty() {
                (String::new(), String::new())
            } else {
                (
                    format!("；若“{}”是几个数粘连在一起，拆法不止一种", multi.join("”“")),
                    format!(
                        "; if “{}” is several numbers glued together, they split in more than one way",
                        multi.join("”, “")
                    ),
                )
            };
            ctx.push(
                Level::Unsure,
                line,
                format!(
                    "{w}：这一行只有 {count} 个数（{}），应为 {n} 个{hint_zh}",
                    shown()
                ),
                format!(
                    "this row has only {count} numbers ({}); it should have {n}{hint_en}",
                    shown()
                ),
            );
            None
        }
        _ => {
            let alts: Vec<String> = ways
                .iter()
                .take(3)
                .map(|way| {
                    way.iter()
                        .map(|(_, p)| p.join(" "))
                        .collect::<Vec<_>>()
                        .join(" / ")
                })
                .collect();
            ctx.push(
                Level::Unsure,
                line,
                format!(
                    "{w}：数字粘连在一起（{}），可拆成多种结果（如 {}），无法确定",
                    shown(),
                    alts.join("；")
                ),
                format!(
                    "numbers are glued together ({}) and split in several ways (e.g. {})",
                    shown(),
                    alts.join("; ")
                ),
            );
            None
        }
    }
}

/// Turns the slots of one row into cells of the columns' types.
fn convert(
    ctx: &mut Ctx,
    leaf: &Leaf,
    cols: &[LeafCol],
    slots: &[Slot],
    header_units: &[Option<Unit>],
) -> Vec<CellOut> {
    let w = ctx.where_zh();
    let mut out = Vec::new();
    for (k, (col, slot)) in cols.iter().zip(slots).enumerate() {
        let place_zh = format!("{w}“{}”行“{}”列", leaf.label, col.label);
        let place_en = format!("row “{}”, column “{}”", leaf.label, col.label_en);
        let line = slot.line();
        let cell = match slot {
            Slot::Empty { .. } => {
                ctx.push(
                    Level::Warning,
                    line,
                    format!("{place_zh}为空白，按 0 读取"),
                    format!("{place_en} is blank; read as 0"),
                );
                CellOut::Value("0".into())
            }
            Slot::Tok {
                tok: Token::Placeholder(p),
                ..
            } => {
                ctx.push(
                    Level::Warning,
                    line,
                    format!("{place_zh}写作“{p}”，按 0 读取"),
                    format!("{place_en} says “{p}”; read as 0"),
                );
                CellOut::Value("0".into())
            }
            Slot::Bad { text, .. } => {
                ctx.push(
                    Level::Unsure,
                    line,
                    format!("{place_zh}：无法读取数字“{text}”"),
                    format!("{place_en}: “{text}” is not a number that can be read"),
                );
                CellOut::Todo(format!("原文“{text}”无法读取"))
            }
            Slot::Tok {
                tok: Token::Number { text, unit },
                ..
            } => number(
                ctx,
                col,
                text,
                unit.or(header_units.get(k).copied().flatten()),
                line,
                &place_zh,
                &place_en,
            ),
        };
        out.push(cell);
    }
    out
}

fn number(
    ctx: &mut Ctx,
    col: &LeafCol,
    text: &str,
    unit: Option<Unit>,
    line: usize,
    place_zh: &str,
    place_en: &str,
) -> CellOut {
    let bad = |ctx: &mut Ctx, zh: String, en: String| {
        ctx.push(
            Level::Unsure,
            line,
            format!("{place_zh}：{zh}"),
            format!("{place_en}: {en}"),
        );
        CellOut::Todo(zh)
    };
    let negative = text.starts_with('-');
    let digits = text.trim_start_matches('-');
    if digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.") {
        return bad(
            ctx,
            format!("“{text}”以 0 开头，不是一个完整的数"),
            format!("“{text}” starts with 0; it is not one number"),
        );
    }
    match col.cell_type {
        CellType::Count | CellType::Signed => {
            if matches!(unit, Some(Unit::Yuan | Unit::WanYuan)) {
                return bad(
                    ctx,
                    format!(
                        "此列为件数，原文却写了金额单位（{text}{}）",
                        unit.map_or("", Unit::name)
                    ),
                    "this column counts items but the source gives a money unit".into(),
                );
            }
            if text.contains('.') {
                return bad(
                    ctx,
                    format!("“{text}”不是整数"),
                    format!("“{text}” is not a whole number"),
                );
            }
            if negative && col.cell_type == CellType::Count {
                return bad(
                    ctx,
                    format!("“{text}”为负数，此列只能是 0 或正整数"),
                    format!("“{text}” is negative; this column counts"),
                );
            }
            CellOut::Value(text.to_owned())
        }
        CellType::Decimal => {
            if negative {
                return bad(
                    ctx,
                    format!("金额“{text}”为负数"),
                    format!("the amount “{text}” is negative"),
                );
            }
            let wants = col.unit.as_deref();
            let value = match (wants, unit) {
                (Some("万元"), Some(Unit::Yuan)) => match normalize::yuan_to_wan(text) {
                    Some(v) => {
                        ctx.push(
                            Level::Warning,
                            line,
                            format!("{place_zh}：原文以元为单位（{text} 元），换算为 {v} 万元"),
                            format!("{place_en}: the source gives yuan ({text}); converted to {v} (10,000 yuan)"),
                        );
                        v
                    }
                    None => {
                        return bad(
                            ctx,
                            format!("{text} 元换算为万元需超过 4 位小数"),
                            format!("{text} yuan needs more than 4 decimal places in 10,000 yuan"),
                        );
                    }
                },
                (None, Some(u @ (Unit::Yuan | Unit::WanYuan))) => {
                    ctx.push(
                        Level::Note,
                        line,
                        format!("{place_zh}：原文单位为{}，格式未规定单位，按原数 {text} 填写", u.name()),
                        format!("{place_en}: the source gives {}; the format sets no unit, so {text} is kept as written", u.name()),
                    );
                    text.to_owned()
                }
                _ => text.to_owned(),
            };
            let places = value.split_once('.').map_or(0, |(_, f)| f.len());
            if places > 4 {
                return bad(
                    ctx,
                    format!("金额“{value}”有 {places} 位小数，最多 4 位"),
                    format!("the amount “{value}” has {places} decimal places; at most 4"),
                );
            }
            CellOut::Value(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::doc::Cell;
    use crate::schema::Registry;

    fn schema(id: &str) -> Schema {
        Registry::load(std::path::Path::new("/nonexistent"))
            .expect("schemas")
            .get(id)
            .cloned()
            .expect("format")
    }

    fn rows(lines: &[&str]) -> Vec<Row> {
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| Row {
                cells: l
                    .split('\t')
                    .enumerate()
                    .map(|(c, t)| Cell::new(t, c))
                    .collect(),
                raw: l.to_string(),
                line: i + 1,
                ..Row::default()
            })
            .collect()
    }

    fn read(s: &Schema, key: &str, lines: &[&str]) -> (TableOut, Vec<Finding>) {
        let t = s.table(key).expect("table");
        let spec = Spec::new(t);
        let rows = rows(lines);
        let refs: Vec<&Row> = rows.iter().collect();
        let mut f = Vec::new();
        let (out, _) = read_table(&spec, &refs, 1, &mut f);
        (out, f)
    }

    fn values(t: &TableOut, i: usize) -> Vec<String> {
        t.rows[i]
            .cells
            .as_ref()
            .expect("row")
            .iter()
            .map(|c| match c {
                CellOut::Value(v) => v.clone(),
                CellOut::Todo(_) => "TODO".into(),
            })
            .collect()
    }

    #[test]
    fn fit_allows_group_labels_around_and_inside() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        let skips = vec![c("(四)"), c("无法提供"), c("(四)无法提供")];
        let t = c("2.没有现成信息需要另行制作");
        assert_eq!(
            fit(&c("2.没有现成信息需要无法提供另行制作"), &t, &skips),
            Fit::Exact
        );
        assert_eq!(
            fit(&c("(四)无法提供2.没有现成信息需要另行制作"), &t, &skips),
            Fit::Exact
        );
        assert_eq!(fit(&c("2.没有现成信息需要"), &t, &skips), Fit::Prefix(10));
        assert_eq!(fit(&c("3.没有现成信息需要另行制作"), &t, &skips), Fit::None);
    }

    #[test]
    fn spaced_labels_and_split_labels_are_placed() {
        let s = schema("cn-2021");
        let mut lines = vec![
            "（三）不予公开\t1. 属于国家秘密\t0\t0\t0\t0\t0\t0\t0",
            "\t\t2. 其他法律行政法规禁止公开\t0\t0\t0\t0\t0\t0\t0",
        ];
        let (t, f) = read(&s, "applications", &lines);
        assert_eq!(values(&t, 4), vec!["0"; 7]);
        assert_eq!(values(&t, 5), vec!["0"; 7]);
        // Only two rows given: the rest are missing and said so.
        assert!(
            f.iter()
                .any(|f| f.level == Level::Unsure && f.zh.contains("缺少"))
        );
        lines.clear();
    }

    #[test]
    fn blank_cells_at_the_ends_are_refused_when_their_place_is_unsure() {
        let s = schema("cn-2021");
        let (t, f) = read(
            &s,
            "applications",
            &["一、本年新收政府信息公开申请数量\t\t7\t0\t0\t0\t0\t0\t\t"],
        );
        assert!(values(&t, 0).iter().all(|v| v == "TODO"));
        assert!(
            f.iter().any(|f| f.zh.contains("无法确定空白的是哪一列")),
            "{f:?}"
        );
        let (t, f) = read(
            &s,
            "applications",
            &["一、本年新收政府信息公开申请数量\t\t7\t0\t\t0\t0\t0\t7\t"],
        );
        assert_eq!(values(&t, 0), ["7", "0", "0", "0", "0", "0", "7"]);
        assert!(
            f.iter()
                .any(|f| f.level == Level::Warning && f.zh.contains("空白"))
        );
    }

    #[test]
    fn glued_numbers_split_only_when_unique() {
        let s = schema("cn-2021");
        let (t, f) = read(
            &s,
            "applications",
            &["一、本年新收政府信息公开申请数量\t7 00 0 0 0 7"],
        );
        assert_eq!(values(&t, 0), ["7", "0", "0", "0", "0", "0", "7"]);
        assert!(f.iter().any(|f| f.zh.contains("粘连")));
        let (t, f) = read(
            &s,
            "applications",
            &["一、本年新收政府信息公开申请数量\t7 0 0 0 0 17"],
        );
        assert!(values(&t, 0).iter().all(|v| v == "TODO"));
        assert!(
            f.iter()
                .any(|f| f.level == Level::Unsure && f.zh.contains("只有 6 个数")),
            "{f:?}"
        );
    }

    #[test]
    fn yuan_amounts_become_wan_yuan() {
        let s = schema("cn-2021");
        let (t, f) = read(
            &s,
            "active_disclosure",
            &[
                "第二十条第（八）项",
                "信息内容\t本年收费金额（单位：元）",
                "行政事业性收费\t25954500",
            ],
        );
        assert_eq!(values(&t, 5), ["2595.45"]);
        assert!(f.iter().any(|f| f.zh.contains("换算")));
    }

    #[test]
    fn the_two_formats_have_labels_of_their_own() {
        let (a, b) = (schema("cn-2021"), schema("cn-2019"));
        let d = distinguishing_labels(&[&a, &b]);
        assert!(d[0].1.contains("本年制发件数") && !d[0].1.contains("规范性文件"));
        assert!(d[1].1.contains("规范性文件") && d[1].1.contains("采购总金额"));
        assert!(!d[0].1.contains("规章") && !d[1].1.contains("规章"));
    }
}
