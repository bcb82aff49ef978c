//! Open data: the portal's numbers as files anyone can reuse. Next to each report's page,
//! `data.csv` (one row per cell; `data.json` is written by the render stage); per year,
//! `years/<y>/figures.csv` (every agency's figures and rates); and `data/portal.json`
//! (agencies, reports with metadata, tables and figures). Columns are documented in
//! docs/open-data.md.
//!
//! CSV files are UTF-8 with a byte-order mark (so spreadsheet programs read the Chinese
//! text), CRLF line ends and RFC 4180 quoting. Numbers are exactly as in the source:
//! decimals keep the places the author wrote, nothing is rounded except the rates, whose
//! rounding is documented.

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};

use crate::compare::{Comparisons, Computed, percent};
use crate::config::Config;
use crate::decimal::Decimal;
use crate::error::Error;
use crate::model::{AgencyKind, Library, Report};
use crate::render::{Page, report_url};
use crate::schema::{Axis, CellType, Registry, Schema};

/// Columns of a report's `data.csv` with `csv_labels: true` in portal.yaml.
pub const REPORT_CSV_COLUMNS_LABELLED: &[&str] = &[
    "table",
    "table_label",
    "row",
    "row_label",
    "column",
    "column_label",
    "unit",
    "value",
    "computed",
];

/// Columns of a report's `data.csv` (by default): keys and values. The keys' labels are
/// in the format's codebook, [`CELLS_CSV_COLUMNS`].
pub const REPORT_CSV_COLUMNS: &[&str] = &["table", "row", "column", "value", "computed"];

/// Columns of a format's codebook, `schemas/<format>.cells.csv`: one line per cell of
/// its tables, with the labels a report's `data.csv` leaves out.
pub const CELLS_CSV_COLUMNS: &[&str] = &[
    "table",
    "table_label",
    "row",
    "row_label",
    "column",
    "column_label",
    "unit",
];

/// Where a format's codebook is published, from the site's top.
pub fn cells_csv_path(format: &str) -> String {
    format!("schemas/{format}.cells.csv")
}

/// Columns of a year's `figures.csv`.
pub const FIGURES_CSV_COLUMNS: &[&str] = &[
    "year",
    "agency_id",
    "agency",
    "agency_kind",
    "format",
    "measure",
    "key",
    "label",
    "value",
    "unit",
    "numerator",
    "denominator",
];

/// A CSV document being written: BOM, RFC 4180 quoting, CRLF.
pub struct Csv {
    out: String,
}

impl Csv {
    pub fn new(header: &[&str]) -> Csv {
        let mut csv = Csv {
            out: String::from('\u{feff}'),
        };
        csv.row(header.iter().copied());
        csv
    }

    pub fn row<'a>(&mut self, fields: impl IntoIterator<Item = &'a str>) {
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            push_quoted(&mut self.out, f);
        }
        self.out.push_str("\r\n");
    }

    /// Appends text that is already CSV (fields made with [`quote`]): the start of a row
    /// that many rows share.
    pub fn raw(&mut self, text: &str) {
        self.out.push_str(text);
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.out.into_bytes()
    }
}

/// A field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break,
/// with quotes doubled.
pub fn quote(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    push_quoted(&mut out, field);
    out
}

fn push_quoted(out: &mut String, field: &str) {
    // The four are ASCII, so a byte scan finds them (a `char` pattern decoded every
    // field's UTF-8: 1.4 % of a build's instructions at 10,000 reports).
    if field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// The labels from the top of a tree down to each leaf, in leaf order.
fn leaf_paths(nodes: &[Axis]) -> Vec<Vec<String>> {
    fn walk(nodes: &[Axis], path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        for n in nodes {
            path.push(n.label.clone());
            if n.children.is_empty() {
                out.push(path.clone());
            } else {
                walk(&n.children, path, out);
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(nodes, &mut Vec::new(), &mut out);
    out
}

/// What the data files take from each format of the registry, made once: a report's
/// files add its numbers.
pub struct Formats(std::collections::HashMap<String, Format>);

struct Format {
    csv: CsvLayout,
    json: JsonLayout,
    amounts: Amounts,
}

impl Formats {
    /// `labels`: whether each line of a report's CSV repeats its labels (`csv_labels`).
    pub fn new(registry: &Registry, labels: bool) -> Formats {
        Formats(
            registry
                .all()
                .map(|s| {
                    let format = Format {
                        csv: CsvLayout::new(s, labels),
                        json: JsonLayout::new(s),
                        amounts: Amounts::new(s),
                    };
                    (s.id.clone(), format)
                })
                .collect(),
        )
    }

    fn get(&self, format: &str) -> Option<&Format> {
        self.0.get(format)
    }
}

/// What a report's `data.csv` takes from its format: each cell's line up to its value
/// (table, row and column keys, and with labels their labels and the unit), quoted, in
/// the format's order. Made once per format; a report adds its numbers.
struct CsvLayout {
    /// The header line's columns.
    columns: &'static [&'static str],
    /// Per table: its key and its blocks.
    tables: Vec<(String, Vec<CsvBlock>)>,
    /// The bytes of every start of line together: a report's file is about this long.
    len: usize,
}

/// A block's column count and each cell's start of line, row by row.
type CsvBlock = (usize, Vec<String>);

/// One cell of a format's tables, with its labels, in the format's order.
struct CellLabels<'s> {
    table: &'s str,
    table_label: &'s str,
    row: &'s str,
    row_label: &'s str,
    column: &'s str,
    column_label: &'s str,
    unit: &'s str,
}

/// Hands every cell of a format's tables to `each`, with its table's and block's places
/// and its labels, table by table, block by block, row by row.
fn walk_cells(schema: &Schema, mut each: impl FnMut(usize, usize, CellLabels<'_>)) {
    for (ti, table) in schema.tables.iter().enumerate() {
        let table_label = format!("{}、{}", table.section, table.caption);
        for (bi, block) in table.blocks.iter().enumerate() {
            let columns: Vec<(&str, String, &str)> = block
                .leaf_columns_ref()
                .iter()
                .zip(leaf_paths(&block.columns))
                .map(|(col, path)| {
                    let unit = col.unit.as_ref().or(table.unit.as_ref());
                    (
                        col.key.as_str(),
                        path.join(" · "),
                        unit.map_or("", String::as_str),
                    )
                })
                .collect();
            for row in block.leaf_rows_ref() {
                let mut row_label = row.path.clone();
                if let Some(c) = &block.caption {
                    row_label.insert(0, c.clone());
                }
                let row_label = row_label.join(" · ");
                for (column, column_label, unit) in &columns {
                    each(
                        ti,
                        bi,
                        CellLabels {
                            table: &table.key,
                            table_label: &table_label,
                            row: &row.key,
                            row_label: &row_label,
                            column,
                            column_label,
                            unit,
                        },
                    );
                }
            }
        }
    }
}

impl CsvLayout {
    fn new(schema: &Schema, labels: bool) -> CsvLayout {
        let mut tables: Vec<(String, Vec<CsvBlock>)> = schema
            .tables
            .iter()
            .map(|t| {
                let blocks = t
                    .blocks
                    .iter()
                    .map(|b| (b.leaf_columns_ref().len(), Vec::new()))
                    .collect();
                (t.key.clone(), blocks)
            })
            .collect();
        let mut len = 0;
        walk_cells(schema, |ti, bi, c| {
            let start = if labels {
                format!(
                    "{},{},{},{},{},{},{},",
                    quote(c.table),
                    quote(c.table_label),
                    quote(c.row),
                    quote(c.row_label),
                    quote(c.column),
                    quote(c.column_label),
                    quote(c.unit)
                )
            } else {
                format!("{},{},{},", quote(c.table), quote(c.row), quote(c.column))
            };
            len += start.len() + 16;
            tables[ti].1[bi].1.push(start);
        });
        let columns = if labels {
            REPORT_CSV_COLUMNS_LABELLED
        } else {
            REPORT_CSV_COLUMNS
        };
        CsvLayout {
            columns,
            tables,
            len,
        }
    }
}

/// A format's codebook (`schemas/<format>.cells.csv`): every cell of its tables with the
/// labels of its table, row and column and its unit, in the order of a report's
/// `data.csv`, whose lines it explains by their keys.
pub fn cells_csv(schema: &Schema) -> Vec<u8> {
    let mut csv = Csv::new(CELLS_CSV_COLUMNS);
    walk_cells(schema, |_, _, c| {
        csv.row([
            c.table,
            c.table_label,
            c.row,
            c.row_label,
            c.column,
            c.column_label,
            c.unit,
        ]);
    });
    csv.into_bytes()
}

/// A report's `data.csv`: one line per cell of every table, in the format's order (a
/// report without a known format has the header line only).
pub fn report_csv(r: &Report, formats: &Formats) -> Vec<u8> {
    let Some(layout) = formats.get(&r.format).map(|f| &f.csv) else {
        return Csv::new(REPORT_CSV_COLUMNS).into_bytes();
    };
    let mut csv = Csv::new(layout.columns);
    csv.out.reserve(layout.len);
    for (key, blocks) in &layout.tables {
        let Some(data) = r.table(key) else {
            continue;
        };
        for ((columns, starts), cells) in blocks.iter().zip(&data.blocks) {
            for (row_starts, values) in starts.chunks((*columns).max(1)).zip(cells.rows()) {
                for (start, cell) in row_starts.iter().zip(values) {
                    csv.raw(start);
                    // A number needs no quotes: digits, a sign and a point.
                    csv.raw(cell.value.format(&mut [0; 24]));
                    let computed = matches!(cell.origin, crate::model::Origin::Computed);
                    csv.raw(if computed { ",true\r\n" } else { ",false\r\n" });
                }
            }
        }
    }
    csv.into_bytes()
}

/// Whether a figure reads a decimal cell (money): then its value is text in JSON.
fn figure_is_decimal(schema: &Schema, cells: &[String]) -> bool {
    cells.iter().any(|c| {
        let mut parts = c.trim().trim_start_matches('-').trim().splitn(3, '.');
        let (Some(t), Some(row), Some(col)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let _ = row;
        schema.table(t).is_some_and(|t| {
            t.blocks.iter().any(|b| {
                b.leaf_columns_ref()
                    .iter()
                    .any(|x| x.key == col && x.cell_type == CellType::Decimal)
            })
        })
    })
}

/// A value in JSON: a count as a number, an amount (`true`: its format calls it one) or
/// anything not whole as its exact text. Written from a stack buffer, not a `Value`.
struct Number(Decimal, bool);

impl Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 24];
        let text = self.0.format(&mut buf);
        match (self.1, text.parse::<i64>()) {
            (false, Ok(n)) => s.serialize_i64(n),
            _ => s.serialize_str(text),
        }
    }
}

/// A year's `figures.csv`: every agency's figures, then its rates.
pub fn figures_csv(year: i32, computed: &[&Computed]) -> Vec<u8> {
    let mut csv = Csv::new(FIGURES_CSV_COLUMNS);
    let year = year.to_string();
    let mut buf = [[0u8; 24]; 2];
    for c in computed {
        let Some(s) = c.schema else { continue };
        let r = c.report;
        // The report's five columns, quoted once and shared by its rows.
        let head = [
            year.as_str(),
            r.agency_id.as_str(),
            r.agency.as_str(),
            r.agency_kind.key(),
            r.format.as_str(),
        ]
        .map(quote)
        .join(",")
            + ",";
        for (f, v) in s.figures.iter().zip(&c.figures) {
            let Some(v) = v else { continue };
            csv.raw(&head);
            csv.row([
                "figure",
                f.key.as_str(),
                f.label.as_str(),
                v.format(&mut buf[0]),
                f.unit.as_deref().unwrap_or_default(),
                "",
                "",
            ]);
        }
        for (rate, v) in s.rates.iter().zip(&c.rates) {
            let Some((n, d)) = v else { continue };
            let [nb, db] = &mut buf;
            csv.raw(&head);
            csv.row([
                "rate",
                rate.key.as_str(),
                rate.label.as_str(),
                percent(*n, *d).unwrap_or_default().as_str(),
                "%",
                n.format(nb),
                d.format(db),
            ]);
        }
    }
    csv.into_bytes()
}

/// What a report's tables in JSON take from its format: each table's, row's and column's
/// key as a JSON string, and whether a column holds amounts. Made once per format.
struct JsonLayout {
    tables: Vec<JsonTable>,
}

struct JsonTable {
    key: String,
    /// The key as JSON (quoted and escaped).
    json_key: String,
    blocks: Vec<JsonBlock>,
}

/// A block's rows' keys and its columns' keys as JSON, with whether a column holds
/// amounts (written as text).
type JsonBlock = (Vec<String>, Vec<(String, bool)>);

impl JsonLayout {
    fn new(schema: &Schema) -> JsonLayout {
        let json = |key: &str| serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""));
        JsonLayout {
            tables: schema
                .tables
                .iter()
                .map(|t| JsonTable {
                    key: t.key.clone(),
                    json_key: json(&t.key),
                    blocks: t
                        .blocks
                        .iter()
                        .map(|b| {
                            let rows = b.leaf_rows_ref().iter().map(|r| json(&r.key)).collect();
                            let cols = b
                                .leaf_columns_ref()
                                .iter()
                                .map(|c| (json(&c.key), c.cell_type == CellType::Decimal))
                                .collect();
                            (rows, cols)
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Where a report's tables go in a document that `serde_json` writes: the value of its
/// `tables` field is this marker until [`splice_tables`] puts them there. (A JSON string
/// cannot hold an unescaped quote, so `"tables": "@tables@"` is only ever this.)
const TABLES_MARK: &str = "@tables@";
const TABLES_FIELD: &[u8] = b"\"tables\":\"@tables@\"";

/// Replaces the marker in `doc` (compact JSON) by the tables.
fn splice_tables(doc: Vec<u8>, r: &Report, layout: Option<&JsonLayout>) -> Vec<u8> {
    let Some(at) = (0..doc.len())
        .filter(|&i| doc[i] == b'"')
        .find(|&i| doc[i..].starts_with(TABLES_FIELD))
    else {
        return doc;
    };
    let value = at + TABLES_FIELD.len() - TABLES_MARK.len() - 2;
    let mut out = Vec::with_capacity(doc.len() + 8 * 1024);
    out.extend_from_slice(&doc[..value]);
    push_tables_json(&mut out, r, layout);
    out.extend_from_slice(&doc[at + TABLES_FIELD.len()..]);
    out
}

/// A report's tables, `{table: {row: {column: value}}}` (counts as numbers, amounts as
/// exact text), byte for byte as `serde_json` writes them. Written straight from the
/// report with its format's keys made once: through serde this was a tenth of the open
/// data's time.
fn push_tables_json(out: &mut Vec<u8>, r: &Report, layout: Option<&JsonLayout>) {
    // Opens an entry of an object: a comma before all but the first.
    let entry = |out: &mut Vec<u8>, first: &mut bool, key: &str| {
        if !std::mem::take(first) {
            out.push(b',');
        }
        out.extend_from_slice(key.as_bytes());
        out.push(b':');
    };
    out.push(b'{');
    let mut first_table = true;
    for t in layout.iter().flat_map(|l| &l.tables) {
        let Some(data) = r.table(&t.key) else {
            continue;
        };
        entry(out, &mut first_table, &t.json_key);
        out.push(b'{');
        let mut first_row = true;
        for ((rows, cols), cells) in t.blocks.iter().zip(&data.blocks) {
            for (row, values) in rows.iter().zip(cells.rows()) {
                entry(out, &mut first_row, row);
                out.push(b'{');
                let mut first_col = true;
                for ((col, decimal), cell) in cols.iter().zip(values) {
                    entry(out, &mut first_col, col);
                    let mut buf = [0; 24];
                    let text = cell.value.format(&mut buf);
                    // Digits, a sign and a point: nothing to escape.
                    if *decimal || cell.value.whole().is_none() {
                        out.push(b'"');
                        out.extend_from_slice(text.as_bytes());
                        out.push(b'"');
                    } else {
                        out.extend_from_slice(text.as_bytes());
                    }
                }
                out.push(b'}');
            }
        }
        out.push(b'}');
    }
    out.push(b'}');
}

/// `data.json` next to a report's page: its metadata and every cell.
pub fn report_json(r: &Report, formats: &Formats) -> Result<Vec<u8>, Error> {
    #[derive(Serialize)]
    struct Doc<'r> {
        title: &'r str,
        agency: &'r str,
        agency_id: &'r str,
        agency_kind: AgencyKind,
        year: i32,
        published: String,
        format: &'r str,
        sample: bool,
        tables: &'static str,
    }
    let doc = Doc {
        title: &r.title,
        agency: &r.agency,
        agency_id: &r.agency_id,
        agency_kind: r.agency_kind,
        year: r.year,
        published: r.published.to_string(),
        format: &r.format,
        sample: r.sample,
        tables: TABLES_MARK,
    };
    let doc = serde_json::to_vec(&doc).map_err(|e| Error::Usage(e.to_string()))?;
    let mut out = splice_tables(doc, r, formats.get(&r.format).map(|f| &f.json));
    out.push(b'\n');
    Ok(out)
}

/// Which of a format's figures and rates are amounts (written as text in JSON).
struct Amounts {
    figures: Vec<bool>,
    rates: Vec<bool>,
}

impl Amounts {
    fn new(s: &Schema) -> Amounts {
        Amounts {
            figures: s
                .figures
                .iter()
                .map(|f| figure_is_decimal(s, &f.cells))
                .collect(),
            rates: s
                .rates
                .iter()
                .map(|r| {
                    r.numerator
                        .iter()
                        .chain(&r.denominator)
                        .filter_map(|t| {
                            let key = crate::schema::Term::key_of(t);
                            s.figures.iter().find(|f| f.key == key)
                        })
                        .any(|f| figure_is_decimal(s, &f.cells))
                })
                .collect(),
        }
    }
}

/// A report's figures (`key: value`) and rates (`key: {percent, numerator,
/// denominator}`) as JSON objects, in its format's order, written straight from the
/// computed values (`amounts`: its format's, made once). A `serde_json::Map` per report
/// cost a hashed insert and a `String` per figure. The keys are unique: the format's
/// check refuses a figure or rate key used twice.
struct FiguresJson<'a> {
    c: &'a Computed<'a>,
    amounts: Option<&'a Amounts>,
}

struct RatesJson<'a>(FiguresJson<'a>);

impl Serialize for FiguresJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (Some(schema), Some(amounts)) = (self.c.schema, self.amounts) else {
            return s.collect_map(std::iter::empty::<(&str, Number)>());
        };
        let figures = schema.figures.iter().zip(&self.c.figures);
        s.collect_map(
            figures
                .zip(&amounts.figures)
                .filter_map(|((f, v), decimal)| Some((f.key.as_str(), Number((*v)?, *decimal)))),
        )
    }
}

impl Serialize for RatesJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Rate {
            percent: Option<String>,
            numerator: Number,
            denominator: Number,
        }
        let FiguresJson { c, amounts } = self.0;
        let (Some(schema), Some(amounts)) = (c.schema, amounts) else {
            return s.collect_map(std::iter::empty::<(&str, Rate)>());
        };
        let rates = schema.rates.iter().zip(&c.rates);
        s.collect_map(rates.zip(&amounts.rates).filter_map(|((r, v), &decimal)| {
            let (n, d) = (*v)?;
            let rate = Rate {
                percent: percent(n, d),
                numerator: Number(n, decimal),
                denominator: Number(d, decimal),
            };
            Some((r.key.as_str(), rate))
        }))
    }
}

/// `data/portal.json`: the whole portal in one file.
pub fn portal_json(
    lib: &Library,
    registry: &Registry,
    cmp: &Comparisons,
    config: &Config,
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    write_portal_json(lib, registry, cmp, config, &mut out)?;
    Ok(out)
}

/// Writes `data/portal.json` to `out` as it is made: at 10,000 reports it is 90 MB, and
/// the build streams it to its file rather than holding it.
pub fn write_portal_json(
    lib: &Library,
    registry: &Registry,
    cmp: &Comparisons,
    config: &Config,
    out: &mut dyn std::io::Write,
) -> Result<(), Error> {
    let io = |e: std::io::Error| Error::Usage(format!("data/portal.json: {e}"));
    let formats: Vec<Value> = registry
        .all()
        .map(|s| {
            json!({
                "id": s.id,
                "name": s.name,
                "name_en": s.name_en,
                "source": s.source,
                "years": {"from": s.years.from, "to": s.years.to},
                "figures": s.figures,
                "rates": s.rates,
                "comparable": s.comparable,
                "schema": format!("schemas/{}.json", s.id),
                "cells_csv": cells_csv_path(&s.id),
            })
        })
        .collect();
    let by_agency = lib.agencies();
    let years_of =
        |id: &str| -> Vec<i32> { cmp.of_agency(id).iter().map(|c| c.report.year).collect() };
    let agencies: Vec<Value> = match &lib.agencies {
        Some(reg) => reg
            .all()
            .map(|a| {
                json!({
                    "id": a.id,
                    "name": a.name,
                    "kind": a.kind,
                    "parent": a.parent,
                    "former_names": a.former_names,
                    "merged_into": a.merged_into,
                    "report_years": years_of(&a.id),
                })
            })
            .collect(),
        None => by_agency
            .iter()
            .map(|(id, reports)| {
                json!({
                    "id": id,
                    "name": reports[0].agency,
                    "kind": reports[0].agency_kind,
                    "parent": Value::Null,
                    "former_names": [],
                    "merged_into": Value::Null,
                    "report_years": years_of(id),
                })
            })
            .collect(),
    };
    // Every report's part in parallel: at 10,000 reports this one file is the build's
    // longest single job. Each part is written compact, on a line of its own (the file
    // reads a report a line; pretty printing made it 90 MB instead of 48 at 10,000
    // reports), and joined into the document. Made a chunk at a time, so that only the
    // text is held, not every report's JSON tree as well (that was 470 MiB at 10,000
    // reports).
    #[derive(Serialize)]
    struct Part<'r> {
        year: i32,
        agency_id: &'r str,
        agency: &'r str,
        agency_kind: AgencyKind,
        title: &'r str,
        published: String,
        format: &'r str,
        sample: bool,
        page: String,
        data_json: String,
        data_csv: String,
        tables: &'static str,
        figures: FiguresJson<'r>,
        rates: RatesJson<'r>,
    }
    let per_format = Formats::new(registry, config.csv_labels);
    let part = |c: &&Computed| -> Vec<u8> {
        let r = c.report;
        let page = report_url(r);
        let dir = page.trim_end_matches("index.html");
        let format = per_format.get(&r.format);
        let figures = || FiguresJson {
            c,
            amounts: format.map(|f| &f.amounts),
        };
        let value = Part {
            year: r.year,
            agency_id: &r.agency_id,
            agency: &r.agency,
            agency_kind: r.agency_kind,
            title: &r.title,
            published: r.published.to_string(),
            format: &r.format,
            sample: r.sample,
            data_json: format!("{dir}data.json"),
            data_csv: format!("{dir}data.csv"),
            page,
            tables: TABLES_MARK,
            figures: figures(),
            rates: RatesJson(figures()),
        };
        splice_tables(
            serde_json::to_vec(&value).unwrap_or_default(),
            r,
            format.map(|f| &f.json),
        )
    };
    let computed: Vec<&Computed> = cmp.computed().collect();
    let doc = json!({
        "portal": {"title": config.title, "language": config.language},
        "formats": formats,
        "agencies": agencies,
        "reports": [],
    });
    // The head compact, each of its parts on a line: portal, formats, agencies.
    let head = {
        let Value::Object(fields) = &doc else {
            return Err(Error::Usage("portal.json: unexpected layout".into()));
        };
        let mut head = b"{".to_vec();
        for (i, (key, value)) in fields.iter().enumerate() {
            head.extend_from_slice(if i > 0 { b",\n" } else { b"\n" });
            serde_json::to_writer(&mut head, key).map_err(|e| Error::Usage(e.to_string()))?;
            head.push(b':');
            serde_json::to_writer(&mut head, value).map_err(|e| Error::Usage(e.to_string()))?;
        }
        head.extend_from_slice(b"\n}");
        head
    };
    let tail: &[u8] = b"\"reports\":[]\n}";
    let Some(at) = head
        .len()
        .checked_sub(tail.len())
        .filter(|&at| &head[at..] == tail)
    else {
        return Err(Error::Usage("portal.json: unexpected layout".into()));
    };
    out.write_all(&head[..at]).map_err(io)?;
    if computed.is_empty() {
        out.write_all(b"\"reports\":[]").map_err(io)?;
    } else {
        out.write_all(b"\"reports\":[\n").map_err(io)?;
        for (n, chunk) in computed.chunks(256).enumerate() {
            let written: Vec<Vec<u8>> = chunk.par_iter().map(part).collect();
            for (i, r) in written.iter().enumerate() {
                if n > 0 || i > 0 {
                    out.write_all(b",\n").map_err(io)?;
                }
                out.write_all(r).map_err(io)?;
            }
        }
        out.write_all(b"\n]").map_err(io)?;
    }
    out.write_all(b"\n}\n").map_err(io)?;
    Ok(())
}

/// Every open-data file of the site.
pub fn files(
    lib: &Library,
    registry: &Registry,
    cmp: &Comparisons,
    config: &Config,
) -> Result<Vec<Page>, Error> {
    let mut pages = Vec::new();
    let formats = Formats::new(registry, config.csv_labels);
    for c in cmp.computed() {
        let r = c.report;
        pages.push(Page {
            path: format!("reports/{}/{}/data.csv", r.year, r.agency_id),
            content: report_csv(r, &formats),
        });
    }
    for year in cmp.years() {
        let mut in_year = cmp.of_year(year);
        in_year.sort_by_key(|c| {
            (
                AgencyKind::ALL
                    .iter()
                    .position(|k| *k == c.report.agency_kind),
                c.report.agency_id.clone(),
            )
        });
        pages.push(Page {
            path: format!("years/{year}/figures.csv"),
            content: figures_csv(year, &in_year),
        });
    }
    for schema in registry.all() {
        pages.push(Page {
            path: cells_csv_path(&schema.id),
            content: cells_csv(schema),
        });
    }
    pages.push(Page {
        path: "data/portal.json".into(),
        content: portal_json(lib, registry, cmp, config)?,
    });
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious way to write a value ([`Number`] writes the same without a `Value`).
    fn number(text: String, decimal: bool) -> Value {
        if decimal {
            return Value::String(text);
        }
        text.parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::String(text))
    }

    #[test]
    fn a_number_is_written_as_its_value_would_be() {
        for text in [
            "0",
            "7",
            "-3",
            "120000",
            "1.5",
            "-0.25",
            "2595.45",
            "900719925474",
        ] {
            let v = Decimal::parse(text).expect("decimal");
            for decimal in [false, true] {
                let fast = serde_json::to_string(&Number(v, decimal)).expect("json");
                let slow = serde_json::to_string(&number(v.to_string(), decimal)).expect("json");
                assert_eq!(fast, slow, "{text} {decimal}");
            }
        }
        assert_eq!(
            serde_json::to_string(&Number(Decimal::parse("12").expect("12"), false))
                .ok()
                .as_deref(),
            Some("12")
        );
        assert_eq!(
            serde_json::to_string(&Number(Decimal::parse("12").expect("12"), true))
                .ok()
                .as_deref(),
            Some("\"12\"")
        );
    }

    /// The tables are written by hand, for speed: as serde_json would,
    /// for every format's example in this repository (counts, amounts, computed cells,
    /// blocks, and no tables at all).
    #[test]
    fn tables_json_is_what_serde_json_writes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let registry = Registry::load(&root.join("schemas")).expect("schemas");
        let mut seen = 0;
        for entry in walkdir::WalkDir::new(root.join("content")) {
            let path = entry.expect("walk").into_path();
            if path.extension().is_none_or(|e| e != "md") {
                continue;
            }
            let file = crate::load::read_report(root, &path).expect("read");
            let r = crate::model::build_report(&file, &registry, None).expect("report");
            let layout = registry.get(&r.format).map(JsonLayout::new);
            let mut tables = serde_json::Map::new();
            for t in registry.get(&r.format).iter().flat_map(|s| &s.tables) {
                let Some(data) = r.table(&t.key) else {
                    continue;
                };
                let mut rows = serde_json::Map::new();
                for (block, cells) in t.blocks.iter().zip(&data.blocks) {
                    for (row, values) in block.leaf_rows_ref().iter().zip(cells.rows()) {
                        let mut cols = serde_json::Map::new();
                        for (c, cell) in block.leaf_columns_ref().iter().zip(values) {
                            let text = cell.value.to_string();
                            let decimal = c.cell_type == CellType::Decimal;
                            cols.insert(c.key.clone(), number(text, decimal));
                        }
                        rows.insert(row.key.clone(), Value::Object(cols));
                    }
                }
                tables.insert(t.key.clone(), Value::Object(rows));
            }
            let expected = serde_json::to_vec(&json!({ "tables": tables })).expect("json");
            let mut doc = b"{\"tables\":\"@tables@\"}".to_vec();
            doc = splice_tables(doc, &r, layout.as_ref());
            assert_eq!(
                String::from_utf8_lossy(&doc),
                String::from_utf8_lossy(&expected),
                "{}",
                path.display()
            );
            seen += 1;
        }
        assert!(seen > 5, "the example has reports of every format");
    }

    /// The labelled `data.csv` is the codebook's columns and then the value's.
    #[test]
    fn labelled_csv_columns_are_the_codebook_and_the_value() {
        assert_eq!(
            REPORT_CSV_COLUMNS_LABELLED[..CELLS_CSV_COLUMNS.len()],
            *CELLS_CSV_COLUMNS
        );
        assert_eq!(
            REPORT_CSV_COLUMNS_LABELLED[CELLS_CSV_COLUMNS.len()..],
            REPORT_CSV_COLUMNS[3..]
        );
    }

    #[test]
    fn csv_quotes_as_rfc_4180_says() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\nlines"), "\"two\nlines\"");
        assert_eq!(quote("cr\rhere"), "\"cr\rhere\"");
        // Chinese text: no byte of a multi-byte character is taken for one of the four.
        assert_eq!(quote("主动公开，政府信息"), "主动公开，政府信息");
        assert_eq!(quote("依申请公开,\"件\""), "\"依申请公开,\"\"件\"\"\"");
        let mut csv = Csv::new(&["a", "b"]);
        csv.row(["1", "x,y"]);
        assert_eq!(
            String::from_utf8(csv.into_bytes()).expect("utf-8"),
            "\u{feff}a,b\r\n1,\"x,y\"\r\n"
        );
    }
}
