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
use serde_json::{Map, Value, json};

use crate::compare::{Comparisons, Computed, percent};
use crate::config::Config;
use crate::error::Error;
use crate::model::{AgencyKind, Library, Report};
use crate::render::{Page, report_url};
use crate::schema::{Axis, CellType, Registry, Schema};

/// Columns of a report's `data.csv`.
pub const REPORT_CSV_COLUMNS: &[&str] = &[
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
            self.out.push_str(&quote(f));
        }
        self.out.push_str("\r\n");
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.out.into_bytes()
    }
}

/// A field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break,
/// with quotes doubled.
pub fn quote(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
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

/// A report's `data.csv`: one row per cell of every table, in the format's order.
pub fn report_csv(r: &Report, schema: Option<&Schema>) -> Vec<u8> {
    let mut csv = Csv::new(REPORT_CSV_COLUMNS);
    for table in schema.iter().flat_map(|s| s.tables.iter()) {
        let Some(data) = r.table(&table.key) else {
            continue;
        };
        let table_label = format!("{}、{}", table.section, table.caption);
        for (block, cells) in table.blocks.iter().zip(&data.blocks) {
            let cols = block.leaf_columns();
            let col_paths = leaf_paths(&block.columns);
            let rows = block.leaf_rows();
            for (row, values) in rows.iter().zip(&cells.cells) {
                let mut row_label = row.path.clone();
                if let Some(c) = &block.caption {
                    row_label.insert(0, c.clone());
                }
                let row_label = row_label.join(" · ");
                for ((col, path), cell) in cols.iter().zip(&col_paths).zip(values) {
                    let unit = col.unit.clone().or_else(|| table.unit.clone());
                    let value = cell.value.to_string();
                    let computed = matches!(cell.origin, crate::model::Origin::Computed);
                    csv.row([
                        table.key.as_str(),
                        table_label.as_str(),
                        row.key.as_str(),
                        row_label.as_str(),
                        col.key.as_str(),
                        path.join(" · ").as_str(),
                        unit.as_deref().unwrap_or_default(),
                        value.as_str(),
                        if computed { "true" } else { "false" },
                    ]);
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
                b.leaf_columns()
                    .iter()
                    .any(|x| x.key == col && x.cell_type == CellType::Decimal)
            })
        })
    })
}

/// A count as a JSON number, an amount (or anything not whole) as exact text.
fn number(text: String, decimal: bool) -> Value {
    if decimal {
        return Value::String(text);
    }
    text.parse::<i64>()
        .map(Value::from)
        .unwrap_or(Value::String(text))
}

/// A year's `figures.csv`: every agency's figures, then its rates.
pub fn figures_csv(year: i32, computed: &[&Computed]) -> Vec<u8> {
    let mut csv = Csv::new(FIGURES_CSV_COLUMNS);
    for c in computed {
        let Some(s) = c.schema else { continue };
        let r = c.report;
        let year = year.to_string();
        for (f, v) in s.figures.iter().zip(&c.figures) {
            let Some(v) = v else { continue };
            csv.row([
                year.as_str(),
                r.agency_id.as_str(),
                r.agency.as_str(),
                r.agency_kind.key(),
                r.format.as_str(),
                "figure",
                f.key.as_str(),
                f.label.as_str(),
                v.to_string().as_str(),
                f.unit.as_deref().unwrap_or_default(),
                "",
                "",
            ]);
        }
        for (rate, v) in s.rates.iter().zip(&c.rates) {
            let Some((n, d)) = v else { continue };
            csv.row([
                year.as_str(),
                r.agency_id.as_str(),
                r.agency.as_str(),
                r.agency_kind.key(),
                r.format.as_str(),
                "rate",
                rate.key.as_str(),
                rate.label.as_str(),
                percent(*n, *d).unwrap_or_default().as_str(),
                "%",
                n.to_string().as_str(),
                d.to_string().as_str(),
            ]);
        }
    }
    csv.into_bytes()
}

/// `{table: {row: {column: value}}}`, the shape of `data.json`.
pub fn tables_json(r: &Report, schema: Option<&Schema>) -> Value {
    let mut tables = Map::new();
    for t in schema.iter().flat_map(|s| s.tables.iter()) {
        let Some(data) = r.table(&t.key) else {
            continue;
        };
        let mut rows = Map::new();
        for (block, cells) in t.blocks.iter().zip(&data.blocks) {
            let cols = block.leaf_columns();
            for (row, values) in block.leaf_rows().iter().zip(&cells.cells) {
                let mut m = Map::new();
                for (c, cell) in cols.iter().zip(values) {
                    m.insert(
                        c.key.clone(),
                        number(cell.value.to_string(), c.cell_type == CellType::Decimal),
                    );
                }
                rows.insert(row.key.clone(), Value::Object(m));
            }
        }
        tables.insert(t.key.clone(), Value::Object(rows));
    }
    Value::Object(tables)
}

fn figures_json(c: &Computed) -> (Value, Value) {
    let (mut figures, mut rates) = (Map::new(), Map::new());
    if let Some(s) = c.schema {
        for (f, v) in s.figures.iter().zip(&c.figures) {
            if let Some(v) = v {
                figures.insert(
                    f.key.clone(),
                    number(v.to_string(), figure_is_decimal(s, &f.cells)),
                );
            }
        }
        for (r, v) in s.rates.iter().zip(&c.rates) {
            if let Some((n, d)) = v {
                let decimal = r
                    .numerator
                    .iter()
                    .chain(&r.denominator)
                    .filter_map(|t| {
                        let key = crate::schema::Term::parse(t).key;
                        s.figures.iter().find(|f| f.key == key)
                    })
                    .any(|f| figure_is_decimal(s, &f.cells));
                rates.insert(
                    r.key.clone(),
                    json!({
                        "percent": percent(*n, *d),
                        "numerator": number(n.to_string(), decimal),
                        "denominator": number(d.to_string(), decimal),
                    }),
                );
            }
        }
    }
    (Value::Object(figures), Value::Object(rates))
}

/// `data/portal.json`: the whole portal in one file.
pub fn portal_json(
    lib: &Library,
    registry: &Registry,
    cmp: &Comparisons,
    config: &Config,
) -> Result<Vec<u8>, Error> {
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
    // longest single job. Each part is written as soon as it is made, indented as it
    // would be in place (two levels, 4 spaces), and joined into the document: the same
    // bytes as writing it whole. Made a chunk at a time, so that only the text is held,
    // not every report's JSON tree as well (that was 470 MiB at 10,000 reports).
    let part = |c: &&Computed| -> Vec<u8> {
        let r = c.report;
        let page = report_url(r);
        let dir = page.trim_end_matches("index.html");
        let (figures, rates) = figures_json(c);
        let value = json!({
            "year": r.year,
            "agency_id": r.agency_id,
            "agency": r.agency,
            "agency_kind": r.agency_kind,
            "title": r.title,
            "published": r.published.to_string(),
            "format": r.format,
            "sample": r.sample,
            "page": page,
            "data_json": format!("{dir}data.json"),
            "data_csv": format!("{dir}data.csv"),
            "tables": tables_json(r, c.schema),
            "figures": figures,
            "rates": rates,
        });
        let text = serde_json::to_vec_pretty(&value).unwrap_or_default();
        let mut out = Vec::with_capacity(text.len() + text.len() / 8);
        out.extend_from_slice(b"    ");
        for &b in &text {
            out.push(b);
            if b == b'\n' {
                out.extend_from_slice(b"    ");
            }
        }
        out
    };
    let computed: Vec<&Computed> = cmp.computed().collect();
    let doc = json!({
        "portal": {"title": config.title, "language": config.language},
        "formats": formats,
        "agencies": agencies,
        "reports": [],
    });
    let head = serde_json::to_vec_pretty(&doc).map_err(|e| Error::Usage(e.to_string()))?;
    let tail: &[u8] = b"\"reports\": []\n}";
    let Some(at) = head
        .len()
        .checked_sub(tail.len())
        .filter(|&at| &head[at..] == tail)
    else {
        return Err(Error::Usage("portal.json: unexpected layout".into()));
    };
    let mut out = Vec::with_capacity(head.len() + computed.len() * 9 * 1024);
    out.extend_from_slice(&head[..at]);
    if computed.is_empty() {
        out.extend_from_slice(b"\"reports\": []");
    } else {
        out.extend_from_slice(b"\"reports\": [\n");
        for (n, chunk) in computed.chunks(256).enumerate() {
            let written: Vec<Vec<u8>> = chunk.par_iter().map(part).collect();
            for (i, r) in written.iter().enumerate() {
                if n > 0 || i > 0 {
                    out.extend_from_slice(b",\n");
                }
                out.extend_from_slice(r);
            }
        }
        out.extend_from_slice(b"\n  ]");
    }
    out.extend_from_slice(b"\n}\n");
    Ok(out)
}

/// Every open-data file of the site.
pub fn files(
    lib: &Library,
    registry: &Registry,
    cmp: &Comparisons,
    config: &Config,
) -> Result<Vec<Page>, Error> {
    let mut pages = Vec::new();
    for c in cmp.computed() {
        let r = c.report;
        pages.push(Page {
            path: format!("reports/{}/{}/data.csv", r.year, r.agency_id),
            content: report_csv(r, c.schema),
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
    pages.push(Page {
        path: "data/portal.json".into(),
        content: portal_json(lib, registry, cmp, config)?,
    });
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_as_rfc_4180_says() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\nlines"), "\"two\nlines\"");
        let mut csv = Csv::new(&["a", "b"]);
        csv.row(["1", "x,y"]);
        assert_eq!(
            String::from_utf8(csv.into_bytes()).expect("utf-8"),
            "\u{feff}a,b\r\n1,\"x,y\"\r\n"
        );
    }
}
