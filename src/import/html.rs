//! Reader for web pages saved from a browser. `html5gum` tokenises (entities, comments,
//! `<script>` and `<style>` as the HTML standard says); a small tree builder here closes
//! what pages leave open (`<p>`, `<td>`, `<tr>`, `<li>`), and tables become grids with
//! their `rowspan` and `colspan` expanded (the copies marked, so a label spanning three
//! columns is read once). Layout tables (tables holding other tables, or a single column)
//! are read as text. Each row remembers the elements around it, so that the page's
//! navigation and footer can be told from the report.

use html5gum::{DefaultEmitter, Token, Tokenizer};

use super::ReadError;
use super::doc::{Cell, Doc, LocUnit, Row};

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];
const SKIP: &[&str] = &[
    "script", "style", "head", "title", "noscript", "template", "svg", "select", "button",
    "textarea", "iframe", "object",
];
const BLOCK: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "section",
    "article",
    "blockquote",
    "center",
    "pre",
    "dd",
    "dt",
    "dl",
    "form",
    "header",
    "footer",
    "nav",
    "main",
    "address",
    "figure",
    "figcaption",
    "caption",
    "table",
    "tr",
    "td",
    "th",
    "hr",
    "aside",
    "body",
    "html",
    "tbody",
    "thead",
    "tfoot",
];
/// Start tags that close an open `<p>`.
const P_CLOSERS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "table",
    "pre",
    "blockquote",
    "hr",
    "section",
    "article",
    "center",
    "dl",
    "form",
    "header",
    "footer",
    "nav",
    "address",
];

/// Decodes the page (BOM, UTF-8, the charset it declares, else GB18030) and reads it.
pub fn read_bytes(bytes: &[u8]) -> Result<Doc, ReadError> {
    let (text, note) = decode(bytes)?;
    let mut doc = read(&text);
    doc.notes.extend(note);
    Ok(doc)
}

fn declared_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let at = lower.windows(8).position(|w| w == b"charset=")?;
    let rest = &lower[at + 8..];
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| String::from_utf8_lossy(&rest[..end]).into_owned())
}

fn decode(bytes: &[u8]) -> Result<(String, Option<(String, String)>), ReadError> {
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _, bad) = enc.decode(bytes);
        return if bad {
            Err(ReadError::Encoding)
        } else {
            Ok((text.into_owned(), None))
        };
    }
    if let Ok(t) = std::str::from_utf8(bytes) {
        return Ok((t.to_owned(), None));
    }
    let (enc, declared) = match declared_charset(bytes) {
        Some(label) => match encoding_rs::Encoding::for_label(label.as_bytes()) {
            Some(e) => (e, Some(label)),
            None => return Err(ReadError::Charset(label)),
        },
        None => (encoding_rs::GB18030, None),
    };
    let text = enc
        .decode_without_bom_handling_and_without_replacement(bytes)
        .ok_or(ReadError::Encoding)?;
    let note = match declared {
        Some(l) => (
            format!("网页按其声明的字符集 {l} 读取"),
            format!("the page was read in the character set it declares, {l}"),
        ),
        None => (
            "网页不是 UTF-8 编码且未声明字符集，已按 GB18030（GBK）读取".into(),
            "the page is not UTF-8 and declares no character set; read as GB18030 (GBK)".into(),
        ),
    };
    Ok((text.into_owned(), Some(note)))
}

#[derive(Debug)]
enum Child {
    El(usize),
    Text(String, usize),
}

#[derive(Debug)]
struct Node {
    name: String,
    colspan: usize,
    rowspan: usize,
    line: usize,
    children: Vec<Child>,
}

struct Tree {
    nodes: Vec<Node>,
}

fn span_attr(tag: &html5gum::StartTag<usize>, name: &[u8]) -> usize {
    tag.attributes
        .get(name)
        .and_then(|v| {
            String::from_utf8_lossy(&v.value)
                .trim()
                .parse::<usize>()
                .ok()
        })
        .map_or(1, |n| n.clamp(1, 200))
}

fn build(html: &str) -> Tree {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(html.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |off: usize| line_starts.partition_point(|&s| s <= off).max(1);
    let mut nodes = vec![Node {
        name: "#document".into(),
        colspan: 1,
        rowspan: 1,
        line: 1,
        children: Vec::new(),
    }];
    let mut stack: Vec<usize> = vec![0];
    let mut emitter = DefaultEmitter::<usize>::new_with_span();
    emitter.naively_switch_states(true);
    let name_of = |nodes: &Vec<Node>, i: usize| nodes[i].name.clone();
    // Pops up to and including the nearest open `target`, if it is open below a boundary.
    let close = |nodes: &Vec<Node>, stack: &mut Vec<usize>, targets: &[&str], boundary: &[&str]| {
        for depth in (1..stack.len()).rev() {
            let n = name_of(nodes, stack[depth]);
            if targets.contains(&n.as_str()) {
                stack.truncate(depth);
                return;
            }
            if boundary.contains(&n.as_str()) {
                return;
            }
        }
    };
    for token in Tokenizer::new_with_emitter(html, emitter).flatten() {
        match token {
            Token::StartTag(tag) => {
                let name = String::from_utf8_lossy(&tag.name).to_ascii_lowercase();
                match name.as_str() {
                    "td" | "th" => close(&nodes, &mut stack, &["td", "th"], &["tr", "table"]),
                    "tr" => close(&nodes, &mut stack, &["tr"], &["table"]),
                    "tbody" | "thead" | "tfoot" => {
                        close(&nodes, &mut stack, &["tbody", "thead", "tfoot"], &["table"])
                    }
                    "li" => close(&nodes, &mut stack, &["li"], &["ul", "ol", "table"]),
                    _ => {}
                }
                if P_CLOSERS.contains(&name.as_str()) {
                    close(
                        &nodes,
                        &mut stack,
                        &["p"],
                        &["div", "td", "th", "table", "li", "body"],
                    );
                }
                let node = Node {
                    colspan: span_attr(&tag, b"colspan"),
                    rowspan: span_attr(&tag, b"rowspan"),
                    line: line_of(tag.span.start),
                    name: name.clone(),
                    children: Vec::new(),
                };
                let id = nodes.len();
                nodes.push(node);
                let parent = *stack.last().unwrap_or(&0);
                nodes[parent].children.push(Child::El(id));
                if !VOID.contains(&name.as_str()) && !tag.self_closing {
                    stack.push(id);
                }
            }
            Token::EndTag(tag) => {
                let name = String::from_utf8_lossy(&tag.name).to_ascii_lowercase();
                if name == "br" {
                    let id = nodes.len();
                    nodes.push(Node {
                        name,
                        colspan: 1,
                        rowspan: 1,
                        line: line_of(tag.span.start),
                        children: Vec::new(),
                    });
                    let parent = *stack.last().unwrap_or(&0);
                    nodes[parent].children.push(Child::El(id));
                    continue;
                }
                let boundary: &[&str] = if name == "table" { &[] } else { &["table"] };
                close(&nodes, &mut stack, &[name.as_str()], boundary);
            }
            Token::String(s) => {
                let text = String::from_utf8_lossy(&s.value).into_owned();
                let parent = *stack.last().unwrap_or(&0);
                nodes[parent]
                    .children
                    .push(Child::Text(text, line_of(s.span.start)));
            }
            Token::Comment(_) | Token::Doctype(_) | Token::Error(_) => {}
        }
    }
    Tree { nodes }
}

/// Collapses HTML whitespace (not the ideographic space or no-break space, which are text).
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{c}') {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    if space && !out.is_empty() {
        out.push(' ');
    }
    out
}

struct Walker<'t> {
    tree: &'t Tree,
    rows: Vec<Row>,
    cur: String,
    cur_line: usize,
    cur_scope: Vec<u32>,
    tables: usize,
}

impl Walker<'_> {
    fn flush(&mut self) {
        let text = self.cur.trim().to_owned();
        if !text.is_empty() {
            self.rows.push(Row {
                cells: vec![Cell::new(text.clone(), 0)],
                raw: text,
                line: self.cur_line,
                blank_before: true,
                scope: self.cur_scope.clone(),
                ..Row::default()
            });
        }
        self.cur.clear();
    }

    fn push_text(&mut self, text: &str, line: usize, scope: &[u32]) {
        let t = collapse(text);
        if t.trim().is_empty() {
            if !self.cur.is_empty() && !self.cur.ends_with(' ') && !t.is_empty() {
                self.cur.push(' ');
            }
            return;
        }
        if self.cur.trim().is_empty() {
            self.cur_line = line;
            self.cur_scope = scope.to_vec();
        }
        if self.cur.ends_with(' ') && t.starts_with(' ') {
            self.cur.push_str(&t[1..]);
        } else {
            self.cur.push_str(&t);
        }
    }

    fn walk(&mut self, id: usize, scope: &mut Vec<u32>) {
        let node = &self.tree.nodes[id];
        let name = node.name.as_str();
        if SKIP.contains(&name) {
            return;
        }
        if name == "br" || name == "hr" {
            self.flush();
            return;
        }
        if name == "table" && self.is_data_table(id) {
            self.flush();
            self.grid(id, scope);
            return;
        }
        let block = BLOCK.contains(&name);
        if block {
            self.flush();
        }
        scope.push(id as u32);
        for child in &node.children {
            match child {
                Child::El(c) => self.walk(*c, scope),
                Child::Text(t, line) => self.push_text(t, *line, scope),
            }
        }
        scope.pop();
        if block {
            self.flush();
        }
    }

    fn descendants(&self, id: usize, name: &str, stop_at_tables: bool, out: &mut Vec<usize>) {
        for child in &self.tree.nodes[id].children {
            if let Child::El(c) = child {
                let n = self.tree.nodes[*c].name.as_str();
                if n == name {
                    out.push(*c);
                }
                if !(stop_at_tables && n == "table") {
                    self.descendants(*c, name, stop_at_tables, out);
                }
            }
        }
    }

    fn rows_of(&self, table: usize) -> Vec<usize> {
        let mut trs = Vec::new();
        self.descendants(table, "tr", true, &mut trs);
        trs
    }

    fn cells_of(&self, tr: usize) -> Vec<usize> {
        self.tree.nodes[tr]
            .children
            .iter()
            .filter_map(|c| match c {
                Child::El(c) if matches!(self.tree.nodes[*c].name.as_str(), "td" | "th") => {
                    Some(*c)
                }
                _ => None,
            })
            .collect()
    }

    /// A table of data: no table inside it, and more than one column.
    fn is_data_table(&self, id: usize) -> bool {
        let mut inner = Vec::new();
        self.descendants(id, "table", false, &mut inner);
        inner.is_empty()
            && self.rows_of(id).iter().any(|&tr| {
                self.cells_of(tr)
                    .iter()
                    .map(|&c| self.tree.nodes[c].colspan)
                    .sum::<usize>()
                    > 1
            })
    }

    fn cell_text(&self, id: usize) -> String {
        fn gather(tree: &Tree, id: usize, out: &mut String) {
            for child in &tree.nodes[id].children {
                match child {
                    Child::Text(t, _) => out.push_str(&collapse(t)),
                    Child::El(c) => {
                        let n = tree.nodes[*c].name.as_str();
                        if SKIP.contains(&n) {
                            continue;
                        }
                        if n == "br" || BLOCK.contains(&n) {
                            out.push(' ');
                        }
                        gather(tree, *c, out);
                        if BLOCK.contains(&n) {
                            out.push(' ');
                        }
                    }
                }
            }
        }
        let mut s = String::new();
        gather(self.tree, id, &mut s);
        collapse(&s).trim().to_owned()
    }

    fn grid(&mut self, table: usize, scope: &mut Vec<u32>) {
        self.tables += 1;
        let table_id = self.tables;
        let trs = self.rows_of(table);
        let mut grid: Vec<Vec<Cell>> = vec![Vec::new(); trs.len()];
        let mut taken: Vec<Vec<bool>> = vec![Vec::new(); trs.len()];
        let is_taken =
            |taken: &Vec<Vec<bool>>, r: usize, c: usize| taken[r].get(c).copied().unwrap_or(false);
        for (r, &tr) in trs.iter().enumerate() {
            let mut c = 0;
            for td in self.cells_of(tr) {
                while is_taken(&taken, r, c) {
                    c += 1;
                }
                let node = &self.tree.nodes[td];
                let (cs, rs) = (node.colspan, node.rowspan.min(trs.len() - r));
                let text = self.cell_text(td);
                for dr in 0..rs {
                    for dc in 0..cs {
                        let row = &mut taken[r + dr];
                        if row.len() <= c + dc {
                            row.resize(c + dc + 1, false);
                        }
                        row[c + dc] = true;
                        let cell = Cell {
                            text: if dr == 0 && dc == 0 {
                                text.clone()
                            } else {
                                String::new()
                            },
                            col: c + dc,
                            copy: dr > 0 || dc > 0,
                        };
                        grid[r + dr].push(cell);
                    }
                }
                c += cs;
            }
        }
        scope.push(table as u32);
        for (r, mut cells) in grid.into_iter().enumerate() {
            cells.sort_by_key(|c| c.col);
            let raw = cells
                .iter()
                .filter(|c| !c.copy && !c.text.is_empty())
                .map(|c| c.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            self.rows.push(Row {
                cells,
                raw,
                line: self.tree.nodes[trs[r]].line,
                blank_before: true,
                table: Some(table_id),
                scope: scope.clone(),
                ..Row::default()
            });
        }
        scope.pop();
    }
}

/// Reads a page that is already text.
pub fn read(html: &str) -> Doc {
    let tree = build(html);
    let mut w = Walker {
        tree: &tree,
        rows: Vec::new(),
        cur: String::new(),
        cur_line: 1,
        cur_scope: Vec::new(),
        tables: 0,
    };
    w.walk(0, &mut Vec::new());
    w.flush();
    Doc {
        rows: w.rows,
        unit: LocUnit::Line,
        notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(doc: &Doc) -> Vec<Vec<String>> {
        doc.rows
            .iter()
            .map(|r| {
                r.cells
                    .iter()
                    .map(|c| {
                        if c.copy {
                            "^".to_owned()
                        } else {
                            c.text.clone()
                        }
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn spans_expand_and_unclosed_cells_close() {
        let doc = read(
            "<html><head><title>x</title><script>var a='<td>';</script></head><body>\n<p>一、总体情况<p>正文&nbsp;内容\n<table border=1>\n<tr><td rowspan=2>三、本年度办理结果<td colspan=2>（一）予以公开<td>1\n<tr><td>（二）<td>部分公开<td>0</table></body></html>",
        );
        let t = texts(&doc);
        assert_eq!(t[0], ["一、总体情况"]);
        assert_eq!(t[1], ["正文\u{a0}内容"]);
        assert_eq!(t[2], ["三、本年度办理结果", "（一）予以公开", "^", "1"]);
        assert_eq!(t[3], ["^", "（二）", "部分公开", "0"]);
        assert_eq!(doc.rows[2].line, 4);
        assert!(doc.rows[2].table.is_some() && doc.rows[0].table.is_none());
    }

    #[test]
    fn layout_tables_are_read_as_text() {
        let doc = read(
            "<table><tr><td><p>一、总体情况</p><table><tr><td>规章</td><td>0</td></tr></table></td></tr></table>",
        );
        let t = texts(&doc);
        assert_eq!(
            t,
            [
                vec!["一、总体情况".to_owned()],
                vec!["规章".into(), "0".into()]
            ]
        );
    }

    #[test]
    fn declared_gbk_is_decoded() {
        let (body, _, _) = encoding_rs::GBK.encode("<meta charset=\"gbk\"><p>一、总体情况</p>");
        let doc = read_bytes(&body).expect("reads");
        assert_eq!(texts(&doc)[0], ["一、总体情况"]);
        assert!(!doc.notes.is_empty());
    }
}
