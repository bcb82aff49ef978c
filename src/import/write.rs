//! Writes an imported report in the format of docs/report-format.md: front matter with the
//! metadata and every table (list rows for single-block grid tables such as 三, mappings
//! for the others), each row followed by a comment with its official label; then the body.
//!
//! What the importer was not sure of is written as `待填写` (or `~` for text) with a
//! `# TODO 待填写` comment: a value the build refuses, so nothing unsure is published.

use std::fmt::Write as _;

use super::tables::{CellOut, TableOut};
use crate::model::Date;
use crate::schema::{Layout, Schema, Table};

/// The placeholder for a number to fill in; not a number, so the build fails on it.
pub const TODO: &str = "待填写";

/// The metadata to write. `None` fields are written as placeholders.
#[derive(Debug, Clone)]
pub struct Meta {
    pub format: String,
    pub title: Option<String>,
    pub agency: Option<String>,
    pub agency_id: String,
    pub agency_kind: Option<&'static str>,
    pub year: i32,
    pub published: Option<Date>,
}

/// A YAML scalar for text: plain when that is unambiguous, double-quoted otherwise.
pub fn yaml_str(s: &str) -> String {
    let special_start = s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`~ ".contains(c));
    let reserved = matches!(
        s.to_ascii_lowercase().as_str(),
        "" | "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "~"
    ) || s.parse::<f64>().is_ok();
    if special_start
        || reserved
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.ends_with(' ')
        || s.contains(|c: char| c.is_control())
    {
        let mut q = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => q.push_str("\\\""),
                '\\' => q.push_str("\\\\"),
                '\n' => q.push_str("\\n"),
                '\t' => q.push_str("\\t"),
                c if c.is_control() => {
                    let _ = write!(q, "\\u{:04x}", c as u32);
                }
                c => q.push(c),
            }
        }
        q.push('"');
        q
    } else {
        s.to_owned()
    }
}

/// Does this table use list rows (one number per column, in order)?
fn list_rows(table: &Table) -> bool {
    table.layout == Layout::Grid && table.blocks.len() == 1
}

fn cell_text(c: &CellOut) -> &str {
    match c {
        CellOut::Value(v) => v,
        CellOut::Todo(_) => TODO,
    }
}

/// The front matter and body of the report file.
pub fn report(meta: &Meta, schema: &Schema, tables: &[TableOut], body: &str) -> String {
    let mut out = String::from("---\n");
    let _ = writeln!(out, "format: {}", yaml_str(&meta.format));
    if let Some(t) = &meta.title {
        let _ = writeln!(out, "title: {}", yaml_str(t));
    }
    match &meta.agency {
        Some(a) => {
            let _ = writeln!(out, "agency: {}", yaml_str(a));
        }
        None => out.push_str("agency: ~  # TODO 待填写：机关全称（原文中找不到）\n"),
    }
    let _ = writeln!(out, "agency_id: {}", yaml_str(&meta.agency_id));
    match meta.agency_kind {
        Some(k) => {
            let _ = writeln!(out, "agency_kind: {k}");
        }
        None => out
            .push_str("agency_kind: ~  # TODO 待填写：government、department、township 或 other\n"),
    }
    let _ = writeln!(out, "year: {}", meta.year);
    match meta.published {
        Some(d) => {
            let _ = writeln!(out, "published: {d}");
        }
        None => {
            let _ = writeln!(
                out,
                "published: {TODO}  # TODO 待填写：公开日期 YYYY-MM-DD（原文中找不到）"
            );
        }
    }
    for (table, data) in schema.tables.iter().zip(tables) {
        write_table(&mut out, table, data);
    }
    out.push_str("---\n");
    out.push_str(body);
    out
}

fn write_table(out: &mut String, table: &Table, data: &TableOut) {
    let list = list_rows(table);
    let mut lines: Vec<(String, String, String)> = Vec::new();
    let mut skipped: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    for block in &table.blocks {
        let cols = block.leaf_columns();
        for row in block.leaf_rows() {
            let Some(got) = data.rows.get(i) else { break };
            i += 1;
            let label = if list {
                if row.path.len() > 1 {
                    row.path[1..].join(" ")
                } else {
                    row.label.clone()
                }
            } else {
                let mut parts: Vec<String> = block.caption.iter().cloned().collect();
                parts.extend(row.path.iter().cloned());
                parts.join(" ")
            };
            let Some(cells) = &got.cells else {
                skipped.push((row.key.clone(), got.note.clone().unwrap_or_default()));
                continue;
            };
            let value = if list {
                let v: Vec<&str> = cells.iter().map(cell_text).collect();
                format!("[{}]", v.join(", "))
            } else {
                let v: Vec<String> = cols
                    .iter()
                    .zip(cells)
                    .map(|(c, v)| format!("{}: {}", c.key, cell_text(v)))
                    .collect();
                format!("{{{}}}", v.join(", "))
            };
            let mut reasons: Vec<&str> = cells
                .iter()
                .filter_map(|c| match c {
                    CellOut::Todo(r) => Some(r.as_str()),
                    CellOut::Value(_) => None,
                })
                .collect();
            reasons.dedup();
            let comment = if reasons.is_empty() {
                label
            } else {
                format!("TODO 待填写：{} — {label}", reasons.join("；"))
            };
            lines.push((row.key.clone(), value, comment));
        }
    }
    let header = if list {
        let cols: Vec<String> = table.blocks[0]
            .leaf_columns()
            .into_iter()
            .map(|c| c.label)
            .collect();
        format!("{}:              # {}", table.key, cols.join(", "))
    } else {
        format!("{}:", table.key)
    };
    let _ = writeln!(out, "{header}");
    let key_w = lines.iter().map(|(k, _, _)| k.len()).max().unwrap_or(0) + 1;
    let val_w = lines
        .iter()
        .map(|(_, v, _)| v.chars().count())
        .max()
        .unwrap_or(0);
    for (key, value, comment) in &lines {
        let pad = val_w - value.chars().count();
        let _ = writeln!(
            out,
            "  {:<key_w$} {value}{}     # {comment}",
            format!("{key}:"),
            " ".repeat(pad)
        );
    }
    for (key, note) in skipped {
        let _ = writeln!(out, "  # {key}: {note}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_only_when_needed() {
        assert_eq!(yaml_str("汾阳市人民政府办公室"), "汾阳市人民政府办公室");
        assert_eq!(yaml_str("报告：2022"), "报告：2022");
        assert_eq!(yaml_str("a: b"), "\"a: b\"");
        assert_eq!(yaml_str("2022"), "\"2022\"");
        assert_eq!(yaml_str("#x"), "\"#x\"");
        assert_eq!(yaml_str("say \"hi\": x"), "\"say \\\"hi\\\": x\"");
    }
}
