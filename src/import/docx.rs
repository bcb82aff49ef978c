//! Reader for Word .docx files: a zip holding `word/document.xml`. Paragraphs become
//! lines; tables become grids, with merged cells (`w:gridSpan` across, `w:vMerge` down)
//! expanded and their copies marked, as for HTML. Places are counted in paragraphs (a
//! table row counts as one), shown as `file.docx:¶N`.

use std::io::Read;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::ReadError;
use super::doc::{Cell, Doc, LocUnit, Row};

/// The text of `word/document.xml`.
fn document_xml(bytes: &[u8]) -> Result<String, ReadError> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| ReadError::Docx(e.to_string()))?;
    let mut file = zip
        .by_name("word/document.xml")
        .map_err(|e| ReadError::Docx(format!("word/document.xml: {e}")))?;
    if file.size() > 64 * 1024 * 1024 {
        return Err(ReadError::Docx(
            "word/document.xml is larger than 64 MiB".into(),
        ));
    }
    let mut xml = String::new();
    file.read_to_string(&mut xml)
        .map_err(|e| ReadError::Docx(format!("word/document.xml: {e}")))?;
    Ok(xml)
}

#[derive(Default)]
struct TcBuild {
    text: String,
    span: usize,
    /// `Some(true)` starts a vertical merge, `Some(false)` continues the one above.
    vmerge: Option<bool>,
}

#[derive(Default)]
struct TblBuild {
    rows: Vec<(usize, usize, Vec<TcBuild>)>, // (paragraph number, gridBefore, cells)
    row: Option<(usize, usize, Vec<TcBuild>)>,
    cell: Option<TcBuild>,
}

fn val(e: &BytesStart) -> Option<String> {
    e.try_get_attribute("w:val")
        .ok()
        .flatten()
        .map(|a| a.value.into_owned())
}

fn local(e: &BytesStart) -> String {
    e.local_name().as_ref().to_owned()
}

/// Reads a .docx file.
pub fn read(bytes: &[u8]) -> Result<Doc, ReadError> {
    let xml = document_xml(bytes)?;
    let mut reader = Reader::from_str(&xml);
    let mut rows: Vec<Row> = Vec::new();
    let mut tables: Vec<TblBuild> = Vec::new();
    let mut para: Option<String> = None;
    let mut in_text = false;
    let mut counter = 0usize;
    let mut blank_before = true;
    let mut table_count = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| ReadError::Docx(format!("word/document.xml: {e}")))?;
        match event {
            Event::Empty(e)
                if local(&e) == "p" && tables.last().is_none_or(|t| t.cell.is_none()) =>
            {
                counter += 1;
                blank_before = true;
            }
            Event::Empty(e) if local(&e) == "p" => {}
            Event::Start(e) | Event::Empty(e) => match local(&e).as_str() {
                "p" => para = Some(String::new()),
                "t" => in_text = true,
                "tab" => {
                    if let Some(p) = para.as_mut() {
                        p.push(' ');
                    }
                }
                "br" | "cr" => {
                    if let Some(p) = para.as_mut() {
                        p.push('\n');
                    }
                }
                "tbl" => tables.push(TblBuild::default()),
                "tr" => {
                    if let Some(t) = tables.last_mut() {
                        counter += 1;
                        t.row = Some((counter, 0, Vec::new()));
                    }
                }
                "gridBefore" => {
                    if let Some((_, before, _)) = tables.last_mut().and_then(|t| t.row.as_mut()) {
                        *before = val(&e).and_then(|v| v.parse().ok()).unwrap_or(0).min(200);
                    }
                }
                "tc" => {
                    if let Some(t) = tables.last_mut() {
                        t.cell = Some(TcBuild {
                            span: 1,
                            ..TcBuild::default()
                        });
                    }
                }
                "gridSpan" => {
                    if let Some(c) = tables.last_mut().and_then(|t| t.cell.as_mut()) {
                        c.span = val(&e)
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(1)
                            .clamp(1, 200);
                    }
                }
                "vMerge" => {
                    if let Some(c) = tables.last_mut().and_then(|t| t.cell.as_mut()) {
                        c.vmerge = Some(val(&e).as_deref() == Some("restart"));
                    }
                }
                _ => {}
            },
            Event::Text(t) => {
                if in_text && let Some(p) = para.as_mut() {
                    p.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if in_text && let Some(p) = para.as_mut() {
                    let name = r.clone().into_inner();
                    let c = match name.as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => r.resolve_char_ref().ok().flatten(),
                    };
                    if let Some(c) = c {
                        p.push(c);
                    }
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" => {
                    let text = para.take().unwrap_or_default();
                    if let Some(cell) = tables.last_mut().and_then(|t| t.cell.as_mut()) {
                        if !cell.text.is_empty() && !text.trim().is_empty() {
                            cell.text.push(' ');
                        }
                        cell.text.push_str(text.trim());
                    } else if text.trim().is_empty() {
                        counter += 1;
                        blank_before = true;
                    } else {
                        counter += 1;
                        for (k, piece) in text.split('\n').enumerate() {
                            let raw = piece.trim().to_owned();
                            if raw.is_empty() {
                                continue;
                            }
                            rows.push(Row {
                                cells: vec![Cell::new(raw.clone(), 0)],
                                raw,
                                line: counter,
                                blank_before: blank_before || k == 0,
                                ..Row::default()
                            });
                            blank_before = false;
                        }
                        blank_before = true;
                    }
                }
                "tc" => {
                    if let Some(t) = tables.last_mut()
                        && let (Some(cell), Some((_, _, cells))) = (t.cell.take(), t.row.as_mut())
                    {
                        cells.push(cell);
                    }
                }
                "tr" => {
                    if let Some(t) = tables.last_mut()
                        && let Some(row) = t.row.take()
                    {
                        t.rows.push(row);
                    }
                }
                "tbl" => {
                    let Some(done) = tables.pop() else { continue };
                    match tables.last_mut().and_then(|t| t.cell.as_mut()) {
                        // A table inside a cell: its text becomes the cell's text.
                        Some(outer) => {
                            for (_, _, cells) in done.rows {
                                for c in cells {
                                    if !c.text.is_empty() {
                                        outer.text.push(' ');
                                        outer.text.push_str(&c.text);
                                    }
                                }
                            }
                        }
                        None => {
                            table_count += 1;
                            rows.extend(grid(done, table_count));
                            blank_before = true;
                        }
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(Doc {
        rows,
        unit: LocUnit::Paragraph,
        notes: Vec::new(),
    })
}

/// Expands a Word table into rows of grid cells.
fn grid(t: TblBuild, id: usize) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    // For each grid column, whether a vertical merge is running there.
    let mut merging: Vec<bool> = Vec::new();
    for (line, before, cells) in t.rows {
        let mut row = Vec::new();
        let mut c = before;
        for tc in cells {
            let copy_down = tc.vmerge == Some(false) && merging.get(c).copied().unwrap_or(false);
            for dc in 0..tc.span {
                if merging.len() <= c + dc {
                    merging.resize(c + dc + 1, false);
                }
                merging[c + dc] = tc.vmerge.is_some();
                row.push(Cell {
                    text: if dc == 0 && !copy_down {
                        tc.text.clone()
                    } else {
                        String::new()
                    },
                    col: c + dc,
                    copy: dc > 0 || copy_down,
                });
            }
            c += tc.span;
        }
        let raw = row
            .iter()
            .filter(|c| !c.copy && !c.text.is_empty())
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        out.push(Row {
            cells: row,
            raw,
            line,
            blank_before: true,
            table: Some(id),
            ..Row::default()
        });
    }
    out
}
