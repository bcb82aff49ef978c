//! Comparison pages and open data, through the real binary.
//!
//! Every number these tests expect is recomputed here from the source: each report's front
//! matter and each format's schema file are parsed independently (serde_saphyr into
//! serde_json values), totals the author left out are filled from the schema's `fills`
//! rules, and figures, rates and comparability are read from the schema's `figures`,
//! `rates` and `comparable`. The pages are then read back as a reader gets them: each data
//! cell's text, and what its header cells say (through `headers`, or the column and row it
//! is in), must agree with the source, number for number.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use common::{Portal, Tag, repo_root, report_files, tags};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Exact numbers: units of 1/10000, as the source writes them.

fn units_of(text: &str) -> i128 {
    let (neg, t) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let mut frac = frac.to_owned();
    assert!(frac.len() <= 4, "too many places: {text}");
    while frac.len() < 4 {
        frac.push('0');
    }
    let v = int
        .parse::<i128>()
        .unwrap_or_else(|_| panic!("not a number: {text}"))
        * 10_000
        + frac.parse::<i128>().unwrap_or(0);
    if neg { -v } else { v }
}

fn number_text(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => panic!("not a number: {other}"),
    }
}

/// `n ÷ d` in percent, one decimal, rounded half away from zero.
fn pct(n: i128, d: i128) -> Option<String> {
    if d == 0 {
        return None;
    }
    let x = n * 1000;
    let q = (2 * x.abs() + d.abs()) / (2 * d.abs());
    let neg = q != 0 && ((x < 0) != (d < 0));
    Some(format!(
        "{}{}.{}",
        if neg { "-" } else { "" },
        q / 10,
        q % 10
    ))
}

fn tenths(p: &str) -> i128 {
    units_of(p) / 1000
}

fn with_sign_tenths(t: i128) -> String {
    let s = format!("{}.{}", t.abs() / 10, t.abs() % 10);
    match t.signum() {
        1 => format!("+{s}"),
        -1 => format!("-{s}"),
        _ => s,
    }
}

fn with_sign_pct(p: String) -> String {
    let t = tenths(&p);
    with_sign_tenths(t)
}

/// A whole or decimal number of units, as a signed difference (`+3`, `-2`, `0`).
fn signed_units(u: i128) -> String {
    let abs = u.abs();
    let mut s = (abs / 10_000).to_string();
    let frac = abs % 10_000;
    if frac != 0 {
        let f = format!("{frac:04}");
        s = format!("{s}.{}", f.trim_end_matches('0'));
    }
    match u.signum() {
        1 => format!("+{s}"),
        -1 => format!("-{s}"),
        _ => s,
    }
}

// ---------------------------------------------------------------------------------------
// The formats, read from their schema files.

struct Format {
    id: String,
    v: Value,
}

fn formats() -> BTreeMap<String, Format> {
    let dir = repo_root().join("src/schemas");
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(&dir).expect("ls schemas") {
        let path = entry.expect("entry").path();
        let text = fs::read_to_string(&path).expect("read schema");
        let v: Value = serde_saphyr::from_str(&text).expect("schema parses");
        let id = v["id"].as_str().expect("id").to_owned();
        out.insert(id.clone(), Format { id, v });
    }
    out
}

/// Leaf keys of a row or column tree, with their `computed` flag.
fn leaves(nodes: &Value) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for n in nodes.as_array().into_iter().flatten() {
        match n.get("children").and_then(Value::as_array) {
            Some(c) if !c.is_empty() => out.extend(leaves(&n["children"])),
            _ => out.push((
                n["key"].as_str().expect("leaf key").to_owned(),
                n.get("computed").and_then(Value::as_bool).unwrap_or(false),
            )),
        }
    }
    out
}

struct BlockShape {
    rows: Vec<(String, bool)>,
    cols: Vec<(String, bool)>,
}

impl Format {
    fn table(&self, key: &str) -> Option<&Value> {
        self.v["tables"]
            .as_array()?
            .iter()
            .find(|t| t["key"] == key)
    }

    fn table_keys(&self) -> Vec<String> {
        self.v["tables"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| t["key"].as_str().expect("key").to_owned())
            .collect()
    }

    fn blocks(&self, table: &str) -> Vec<BlockShape> {
        self.table(table)
            .map(|t| {
                t["blocks"]
                    .as_array()
                    .expect("blocks")
                    .iter()
                    .map(|b| BlockShape {
                        rows: leaves(&b["rows"]),
                        cols: leaves(&b["columns"]),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn figures(&self) -> Vec<&Value> {
        self.v["figures"].as_array().into_iter().flatten().collect()
    }

    fn figure(&self, key: &str) -> Option<&Value> {
        self.figures().into_iter().find(|f| f["key"] == key)
    }

    fn rates(&self) -> Vec<&Value> {
        self.v["rates"].as_array().into_iter().flatten().collect()
    }

    fn rate(&self, key: &str) -> Option<&Value> {
        self.rates().into_iter().find(|r| r["key"] == key)
    }

    fn contains_year(&self, year: i64) -> bool {
        let y = &self.v["years"];
        y["from"].as_i64().is_none_or(|f| year >= f) && y["to"].as_i64().is_none_or(|t| year <= t)
    }
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

fn figure_tables(f: &Value) -> BTreeSet<String> {
    strs(&f["cells"])
        .iter()
        .map(|c| {
            c.trim_start_matches('-')
                .split('.')
                .next()
                .expect("table")
                .to_owned()
        })
        .collect()
}

/// The `comparable` entry between two formats, and the format it names (the layout).
fn declaration<'a>(a: &'a Format, b: &'a Format) -> Option<(&'a Value, &'a Format)> {
    for (x, y) in [(a, b), (b, a)] {
        if let Some(c) = x.v["comparable"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["format"] == y.id.as_str())
        {
            return Some((c, y));
        }
    }
    None
}

fn figure_comparable(a: &Format, b: &Format, key: &str) -> bool {
    let (Some(fa), Some(fb)) = (a.figure(key), b.figure(key)) else {
        return false;
    };
    if a.id == b.id {
        return true;
    }
    let Some((decl, _)) = declaration(a, b) else {
        return false;
    };
    let tables: BTreeSet<String> = strs(&decl["tables"]).into_iter().collect();
    figure_tables(fa)
        .union(&figure_tables(fb))
        .all(|t| tables.contains(t))
}

fn rate_comparable(a: &Format, b: &Format, key: &str) -> bool {
    let (Some(ra), Some(rb)) = (a.rate(key), b.rate(key)) else {
        return false;
    };
    [ra, rb]
        .iter()
        .flat_map(|r| {
            strs(&r["numerator"])
                .into_iter()
                .chain(strs(&r["denominator"]))
        })
        .all(|t| figure_comparable(a, b, t.trim_start_matches('-')))
}

// ---------------------------------------------------------------------------------------
// The reports, read from their files.

struct Source {
    rel: String,
    year: i32,
    agency_id: String,
    format: String,
    front: Value,
}

fn front_matter(text: &str) -> Value {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("---"));
    let yaml: Vec<&str> = lines.take_while(|l| l.trim_end() != "---").collect();
    serde_saphyr::from_str(&yaml.join("\n")).expect("front matter parses")
}

fn sources(root: &Path, formats: &BTreeMap<String, Format>) -> Vec<Source> {
    report_files(root)
        .into_iter()
        .map(|f| {
            let text = fs::read_to_string(root.join(&f.rel)).expect("read report");
            let front = front_matter(&text);
            let year = front["year"].as_i64().expect("year");
            let format = match front["format"].as_str() {
                Some(id) => id.to_owned(),
                None => formats
                    .values()
                    .find(|s| s.v["tables"].as_array().is_some() && s.contains_year(year))
                    .map(|s| s.id.clone())
                    .expect("a format for the year"),
            };
            Source {
                rel: f.rel,
                year: year as i32,
                agency_id: f.agency_id,
                format,
                front,
            }
        })
        .collect()
}

impl Source {
    /// The value of a cell, filling left-out totals from the format's `fills` rules.
    fn cell(&self, fmt: &Format, table: &str, row: &str, col: &str) -> Option<i128> {
        let block = fmt
            .blocks(table)
            .into_iter()
            .find(|b| b.rows.iter().any(|r| r.0 == row) && b.cols.iter().any(|c| c.0 == col))?;
        let ci = block.cols.iter().position(|c| c.0 == col)?;
        let written = match &self.front[table][row] {
            Value::Array(items) => {
                if items.len() == block.cols.len() {
                    items.get(ci).map(number_text)
                } else {
                    let required: Vec<usize> = (0..block.cols.len())
                        .filter(|&i| !block.cols[i].1)
                        .collect();
                    required
                        .iter()
                        .position(|&i| i == ci)
                        .and_then(|k| items.get(k))
                        .map(number_text)
                }
            }
            Value::Object(m) => m.get(col).map(number_text),
            _ => None,
        };
        if let Some(t) = written {
            return Some(units_of(&t));
        }
        // Left out: the rule that fills it.
        for rule in fmt.v["rules"].as_array().into_iter().flatten() {
            if rule["fills"] != true || rule["table"] != table {
                continue;
            }
            let left = strs(&rule["left"]);
            let right = strs(&rule["right"]);
            match rule["per"].as_str() {
                Some("row") if left == [col] => {
                    return right
                        .iter()
                        .map(|c| self.cell(fmt, table, row, c))
                        .sum::<Option<i128>>();
                }
                Some("column") if left == [row] => {
                    return right
                        .iter()
                        .map(|r| self.cell(fmt, table, r, col))
                        .sum::<Option<i128>>();
                }
                _ => {}
            }
        }
        None
    }

    fn reference(&self, fmt: &Format, reference: &str) -> Option<i128> {
        let (neg, r) = match reference.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, reference),
        };
        let mut p = r.split('.');
        let (t, row, col) = (p.next()?, p.next()?, p.next()?);
        let v = self.cell(fmt, t, row, col)?;
        Some(if neg { -v } else { v })
    }

    fn figure(&self, fmt: &Format, key: &str) -> Option<i128> {
        let f = fmt.figure(key)?;
        strs(&f["cells"])
            .iter()
            .map(|c| self.reference(fmt, c))
            .sum()
    }

    fn side(&self, fmt: &Format, terms: &Value) -> Option<i128> {
        strs(terms)
            .iter()
            .map(|t| match t.strip_prefix('-') {
                Some(k) => self.figure(fmt, k).map(|v| -v),
                None => self.figure(fmt, t),
            })
            .sum()
    }

    fn rate(&self, fmt: &Format, key: &str) -> Option<(i128, i128)> {
        let r = fmt.rate(key)?;
        Some((
            self.side(fmt, &r["numerator"])?,
            self.side(fmt, &r["denominator"])?,
        ))
    }

    fn numeric(&self, fmt: &Format) -> bool {
        !fmt.figures().is_empty()
    }
}

// ---------------------------------------------------------------------------------------

struct Site {
    _portal: Portal,
    root: PathBuf,
    out: PathBuf,
    formats: BTreeMap<String, Format>,
    sources: Vec<Source>,
}

fn built() -> Site {
    built_with(|_| {})
}

/// The example portal, changed by `edit` before it is built.
fn built_with(edit: impl FnOnce(&Portal)) -> Site {
    let portal = Portal::example();
    edit(&portal);
    let out = portal.out("site");
    portal.build(&out).assert_ok();
    let formats = formats();
    let root = portal.root();
    let sources = sources(&root, &formats);
    Site {
        _portal: portal,
        root,
        out,
        formats,
        sources,
    }
}

impl Site {
    fn page(&self, rel: &str) -> String {
        fs::read_to_string(self.out.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    fn fmt(&self, s: &Source) -> &Format {
        &self.formats[&s.format]
    }

    fn get(&self, agency: &str, year: i32) -> Option<&Source> {
        self.sources
            .iter()
            .find(|s| s.agency_id == agency && s.year == year)
    }

    fn agencies(&self) -> BTreeMap<&str, Vec<&Source>> {
        let mut m: BTreeMap<&str, Vec<&Source>> = BTreeMap::new();
        for s in &self.sources {
            m.entry(&s.agency_id).or_default().push(s);
        }
        for v in m.values_mut() {
            v.sort_by_key(|s| s.year);
        }
        m
    }

    fn years(&self) -> BTreeSet<i32> {
        self.sources.iter().map(|s| s.year).collect()
    }

    /// Consecutive years of an agency whose reports both have numbers and compare.
    fn pairs(&self, agency: &str) -> Vec<(i32, i32)> {
        let mut out = Vec::new();
        for s in self.agencies().get(agency).into_iter().flatten() {
            if let Some(n) = self.get(agency, s.year + 1) {
                let (a, b) = (self.fmt(s), self.fmt(n));
                if s.numeric(a) && n.numeric(b) && (a.id == b.id || declaration(a, b).is_some()) {
                    out.push((s.year, s.year + 1));
                }
            }
        }
        out
    }
}

fn attr<'a>(t: &'a Tag, name: &str) -> Option<&'a str> {
    t.attr(name)
}

/// The markup inside an element: from the end of its start tag to its closing tag (the
/// cells read here hold no nested element of their own name).
fn inner<'a>(html: &'a str, t: &Tag) -> &'a str {
    let rest = &html[t.end..];
    &rest[..rest.find(&format!("</{}", t.name)).unwrap_or(rest.len())]
}

/// Text of markup, tags removed, entities decoded, trimmed; with `hidden`, the visually
/// hidden words too (what a screen reader reads), else only what is seen.
fn text_of(markup: &str, hidden: bool) -> String {
    let mut out = String::new();
    let mut rest = markup;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('>').map_or(rest.len(), |e| i + e + 1);
        let tag = &rest[i..end];
        rest = &rest[end..];
        if !hidden && tag.contains("visually-hidden") {
            rest = &rest[rest.find("</span>").map_or(rest.len(), |e| e + 7)..];
        }
    }
    out.push_str(rest);
    common::decode_entities(&out).trim().to_owned()
}

/// Every header cell of a page: id → its visible text.
fn header_texts(html: &str) -> BTreeMap<String, String> {
    tags(html)
        .iter()
        .filter(|t| t.name == "th")
        .filter_map(|t| Some((attr(t, "id")?.to_owned(), text_of(inner(html, t), false))))
        .collect()
}

/// The texts of the header cells a data cell names in `headers`; every one must exist.
fn headers_of(cell: &Tag, heads: &BTreeMap<String, String>, what: &str) -> Vec<String> {
    let list = attr(cell, "headers").unwrap_or_else(|| panic!("{what}: a cell without headers"));
    list.split_whitespace()
        .map(|id| {
            heads
                .get(id)
                .unwrap_or_else(|| panic!("{what}: headers names {id}, which is no header cell"))
                .clone()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------

#[test]
fn every_agency_and_year_has_its_comparison_pages() {
    let site = built();
    let agencies = site.agencies();
    assert!(agencies.values().any(|v| v.len() >= 2));
    let mut pair_pages = 0;
    for (id, reports) in &agencies {
        let html = site.page(&format!("agencies/{id}/index.html"));
        assert!(html.contains("历年数据对比"), "agency {id} has its history");
        if reports.len() >= 2 && reports.iter().filter(|s| s.numeric(site.fmt(s))).count() >= 2 {
            let page_tags = tags(&html);
            let svg = page_tags
                .iter()
                .find(|t| t.name == "svg")
                .unwrap_or_else(|| panic!("agency {id} has a chart"));
            assert_eq!(attr(svg, "role"), Some("img"));
            let named_by: Vec<&str> = attr(svg, "aria-labelledby")
                .unwrap_or_default()
                .split_whitespace()
                .collect();
            assert_eq!(named_by.len(), 2, "title and desc name the chart");
            for (tag, id) in ["title", "desc"].iter().zip(&named_by) {
                assert!(
                    page_tags
                        .iter()
                        .any(|t| t.name == *tag && attr(t, "id") == Some(*id)),
                    "agency {id}: the chart's <{tag}>"
                );
            }
            assert!(
                page_tags
                    .iter()
                    .any(|t| t.name == "table" && t.has_class("chart-table")),
                "the chart's numbers are also a table"
            );
        }
        for (y1, y2) in site.pairs(id) {
            let rel = format!("agencies/{id}/compare/{y1}-{y2}/index.html");
            let page = site.page(&rel);
            assert!(
                page.contains(&format!("href=../../../../agencies/{id}/index.html"))
                    || page.contains(&format!("href=\"../../../../agencies/{id}/index.html\"")),
                "{rel} links back to the agency"
            );
            assert!(
                html.contains(&format!("compare/{y1}-{y2}/index.html")),
                "agency page of {id} links to {rel}"
            );
            pair_pages += 1;
        }
    }
    assert!(pair_pages >= 4, "pair pages: {pair_pages}");
    // The 2020 (2019 trial format) → 2021 pair of the 汾阳市人民政府办公室 crosses formats.
    let cross = site.page("agencies/fenyang-gov-office/compare/2020-2021/index.html");
    assert!(
        cross.contains("比较时把这三项相加"),
        "the page says the （六） rows are summed"
    );
    assert!(
        cross.contains("不作比较"),
        "the page says table 二 is not compared"
    );
    // Legacy years are listed, never compared.
    assert!(
        !site
            .out
            .join("agencies/fenyang-gov/compare/2018-2019")
            .exists()
    );
    for year in site.years() {
        let rel = format!("years/{year}/compare/index.html");
        let page = site.page(&rel);
        assert!(page.contains(&format!("{year}年度各机关数据对比")), "{rel}");
        assert!(
            site.page(&format!("years/{year}/index.html"))
                .contains("compare/index.html"),
            "year {year} links to its peers"
        );
        assert!(site.out.join(format!("years/{year}/figures.csv")).is_file());
        let numeric: Vec<&Source> = site
            .sources
            .iter()
            .filter(|s| s.year == year && s.numeric(site.fmt(s)))
            .collect();
        if numeric.is_empty() {
            assert!(
                page.contains("不作数字比较"),
                "{rel} says why there are no numbers"
            );
            continue;
        }
        // One page per year, without pages per order.
        assert!(
            !site
                .out
                .join(format!("years/{year}/compare/by-new-received"))
                .exists()
        );
    }
    assert!(site.page("index.html").contains("data/portal.json"));
}

#[test]
fn agency_pages_show_figures_changes_and_rates_from_the_source() {
    let site = built();
    let mut checked = (0, 0, 0, 0);
    for (id, reports) in site.agencies() {
        let html = site.page(&format!("agencies/{id}/index.html"));
        let cells = history_cells(&html);
        let find = |key: &str, year: i32, kind: &str| -> Option<&Tag> {
            cells.get(&(key.to_owned(), year, kind.to_owned()))
        };
        for s in reports.iter().filter(|s| s.numeric(site.fmt(s))) {
            let fmt = site.fmt(s);
            let prev = site.get(id, s.year - 1).filter(|p| p.numeric(site.fmt(p)));
            for f in fmt.figures() {
                let key = f["key"].as_str().expect("key");
                let want = s.figure(fmt, key).expect("figure computes");
                let cell = find(key, s.year, "value")
                    .unwrap_or_else(|| panic!("{id} {} {key}: no value cell", s.year));
                assert_eq!(
                    shown_value(&html, cell).as_deref().map(units_of),
                    Some(want),
                    "{id} {} {key}",
                    s.year
                );
                checked.0 += 1;
                let change = find(key, s.year, "change").expect("change cell");
                match prev {
                    Some(p) if figure_comparable(site.fmt(p), fmt, key) => {
                        let before = p.figure(site.fmt(p), key).expect("previous figure");
                        let d = want - before;
                        assert_eq!(
                            shown_diff(&html, change),
                            Some(signed_units(d)),
                            "{id} {} {key}: change",
                            s.year
                        );
                        assert_eq!(
                            shown_pct(&html, change),
                            pct(d, before).map(with_sign_pct),
                            "{id} {} {key}: change in percent",
                            s.year
                        );
                        checked.1 += 1;
                    }
                    Some(p) if site.fmt(p).figure(key).is_some() => {
                        assert_eq!(shown_diff(&html, change), None);
                        assert!(
                            text_of(inner(&html, change), false).starts_with("不可比"),
                            "{id} {} {key}: formats differ, so 不可比",
                            s.year
                        );
                        checked.3 += 1;
                    }
                    _ => assert_eq!(shown_diff(&html, change), None, "{id} {} {key}", s.year),
                }
            }
            for r in fmt.rates() {
                let key = r["key"].as_str().expect("key");
                let (n, d) = s.rate(fmt, key).expect("rate computes");
                let cell = find(key, s.year, "value").expect("rate cell");
                assert_eq!(shown_value(&html, cell), pct(n, d), "{id} {} {key}", s.year);
                let change = find(key, s.year, "change").expect("rate change cell");
                match (prev, pct(n, d)) {
                    (Some(p), Some(now)) if rate_comparable(site.fmt(p), fmt, key) => {
                        let (pn, pd) = p.rate(site.fmt(p), key).expect("previous rate");
                        let want = pct(pn, pd)
                            .map(|before| with_sign_tenths(tenths(&now) - tenths(&before)));
                        assert_eq!(
                            shown_diff(&html, change),
                            want,
                            "{id} {} {key}: change in points",
                            s.year
                        );
                        if want.is_some() {
                            assert!(text_of(inner(&html, change), false).contains("个百分点"));
                        }
                    }
                    _ => assert_eq!(shown_diff(&html, change), None),
                }
                checked.2 += 1;
            }
        }
    }
    assert!(
        checked.0 >= 100 && checked.1 >= 50 && checked.2 >= 20 && checked.3 >= 3,
        "{checked:?}"
    );
    // The formula of each rate is shown with it.
    let gov = site.page("agencies/fenyang-gov/index.html");
    assert!(gov.contains("结果纠正 ÷ 已审结（总计 − 尚未审结）"));
}

/// The value and change cells of an agency page's history tables, by (figure, year, `value`
/// or `change`): the figure from the row, the year and the kind from what the cell's
/// header cells say.
fn history_cells(html: &str) -> BTreeMap<(String, i32, String), Tag> {
    let heads = header_texts(html);
    let mut out = BTreeMap::new();
    let mut in_history = false;
    let mut figure: Option<String> = None;
    for t in tags(html) {
        match t.name.as_str() {
            "table" => in_history = t.has_class("history-table"),
            "tr" => figure = attr(&t, "data-figure").map(str::to_owned),
            "td" if in_history => {
                let key = figure.clone().expect("a history row names its figure");
                let said = headers_of(&t, &heads, &key);
                assert_eq!(said.len(), 3, "{key}: row, year and kind: {said:?}");
                let year: i32 = said[1]
                    .trim_end_matches('年')
                    .parse()
                    .unwrap_or_else(|_| panic!("{key}: a year header: {said:?}"));
                let kind = match said[2].as_str() {
                    "数值" => "value",
                    "较上年" => "change",
                    other => panic!("{key}: {other}"),
                };
                let prev = out.insert((key.clone(), year, kind.to_owned()), t);
                assert!(prev.is_none(), "{key} {year} {kind}: one cell");
            }
            _ => {}
        }
    }
    out
}

/// The number a value cell shows (without `%`); None for a dash.
fn shown_value(html: &str, cell: &Tag) -> Option<String> {
    let text = text_of(inner(html, cell), false);
    let text = text.trim_end_matches('%');
    (!text.starts_with('—')).then(|| text.to_owned())
}

/// The signed difference a change cell shows; None when it shows none. Its class says the
/// same direction as its sign.
fn shown_diff(html: &str, cell: &Tag) -> Option<String> {
    let markup = inner(html, cell);
    let before_pct = &markup[..markup.find("<small").unwrap_or(markup.len())];
    let text = text_of(before_pct, false);
    let diff = text.split_whitespace().next()?.to_owned();
    if !diff.starts_with(['+', '-', '0']) {
        return None;
    }
    let dir = if diff.starts_with('+') {
        "up"
    } else if diff.starts_with('-') {
        "down"
    } else {
        "same"
    };
    assert!(cell.has_class(dir), "a change of {diff} is marked {dir}");
    Some(diff)
}

/// The change in percent a change cell shows in brackets (`+86.8`).
fn shown_pct(html: &str, cell: &Tag) -> Option<String> {
    let markup = inner(html, cell);
    let small = &markup[markup.find("<small")?..];
    let text = text_of(&small[..small.find("</small>")?], false);
    Some(text.trim_matches(['（', '）', '%']).to_owned())
}

/// The cells of the compare tables of a pair page of years `y1` and `y2`, by table key, in
/// page order: (first year's value, second year's, difference). Each official cell is three
/// table cells, whose header cells say `{y1}年`, `{y2}年` and `变化` after the official
/// headers; the difference's class says its direction.
fn compare_cells(html: &str, y1: i32, y2: i32) -> BTreeMap<String, Vec<(String, String, String)>> {
    let heads = header_texts(html);
    let want = [format!("{y1}年"), format!("{y2}年"), "变化".to_owned()];
    let mut out: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    let mut table = None;
    let mut official: Option<Vec<String>> = None;
    let mut three: Vec<String> = Vec::new();
    for t in tags(html) {
        if t.name == "table" && t.has_class("compare-table") {
            let id = attr(&t, "id").expect("table id");
            // t-review-litigation-b0 → review_litigation
            let key = id
                .trim_start_matches("t-")
                .rsplit_once("-b")
                .map(|(k, _)| k.replace('-', "_"))
                .expect("block suffix");
            table = Some(key);
        } else if t.name == "/table" {
            table = None;
        } else if t.name == "td"
            && let Some(key) = &table
        {
            let mut said = headers_of(&t, &heads, key);
            let last = said.pop().expect("headers");
            assert_eq!(last, want[three.len()], "{key}: the cell's sub-header");
            assert!(!said.is_empty(), "{key}: the official headers too");
            // The three cells of one official cell share its official headers.
            match &official {
                Some(o) if !three.is_empty() => assert_eq!(o, &said, "{key}"),
                _ => official = Some(said),
            }
            let text = text_of(inner(html, &t), true);
            if three.len() == 2 {
                let dir = match text.chars().next() {
                    Some('+') => "up",
                    Some('-') => "down",
                    _ => "same",
                };
                assert!(
                    t.has_class(dir),
                    "{key}: a change of {text} is marked {dir}"
                );
                let (v1, v2) = (three.remove(0), three.remove(0));
                out.entry(key.clone()).or_default().push((v1, v2, text));
            } else {
                three.push(text);
            }
        }
    }
    assert!(three.is_empty(), "cells come in threes");
    out
}

#[test]
fn pair_pages_compare_every_cell_from_the_source() {
    let total = check_pairs(&built());
    assert!(total >= 4 * 175, "cells compared: {total}");
}

/// Across formats, the three 2021 （六） rows are added up to meet the 2019 row: move two
/// requests of the 2021 report into them (keeping every sum) and compare again.
#[test]
fn across_formats_the_2021_other_rows_are_summed() {
    let site = built_with(|portal| {
        let rel = "content/2021/fenyang-gov-office.md";
        portal.replace_once(
            rel,
            "r_unable_not_held:       [4, 0, 0, 0, 0, 0, 4]",
            "r_unable_not_held:       [2, 0, 0, 0, 0, 0, 2]",
        );
        portal.replace_once(
            rel,
            "r_other_no_correction:   [0, 0, 0, 0, 0, 0, 0]",
            "r_other_no_correction:   [1, 0, 0, 0, 0, 0, 1]",
        );
        portal.replace_once(
            rel,
            "r_other_other:           [0, 0, 0, 0, 0, 0, 0]",
            "r_other_other:           [1, 0, 0, 0, 0, 0, 1]",
        );
    });
    check_pairs(&site);
    let html = site.page("agencies/fenyang-gov-office/compare/2020-2021/index.html");
    let cells = compare_cells(&html, 2020, 2021);
    // 2019 trial format rows: r_other is row 20 of 23 (after 2 + 2 + 8 + 3 + 5 rows).
    let r_other: Vec<&(String, String, String)> =
        cells["applications"][20 * 7..21 * 7].iter().collect();
    assert_eq!(
        (
            r_other[0].0.as_str(),
            r_other[0].1.as_str(),
            r_other[0].2.as_str()
        ),
        ("1", "2", "+1"),
        "自然人: 2020 r_other 1 → 2021 （六）1 + 2 + 3 = 2"
    );
    assert_eq!(r_other[6].1, "2", "总计");
    let agency = site.page("agencies/fenyang-gov-office/index.html");
    let cells = history_cells(&agency);
    let cell = cells
        .get(&("other_handling".to_owned(), 2021, "value".to_owned()))
        .expect("other_handling 2021");
    assert_eq!(shown_value(&agency, cell).as_deref(), Some("2"));
}

fn check_pairs(site: &Site) -> usize {
    let mut total = 0;
    for (id, _) in site.agencies() {
        for (y1, y2) in site.pairs(id) {
            let (a, b) = (site.get(id, y1).expect("y1"), site.get(id, y2).expect("y2"));
            let (fa, fb) = (site.fmt(a), site.fmt(b));
            let rel = format!("agencies/{id}/compare/{y1}-{y2}/index.html");
            let html = site.page(&rel);
            let got = compare_cells(&html, y1, y2);
            // The layout: the common format, or the one the declaration names.
            let (base, decl) = if fa.id == fb.id {
                (fa, None)
            } else {
                let (d, base) = declaration(fa, fb).expect("declared");
                (base, Some(d))
            };
            let shared: Vec<String> = match decl {
                None => base.table_keys(),
                Some(d) => strs(&d["tables"]),
            };
            assert_eq!(
                got.keys().cloned().collect::<BTreeSet<_>>(),
                shared.iter().cloned().collect::<BTreeSet<_>>(),
                "{rel}: compared tables"
            );
            let value = |s: &Source, f: &Format, t: &str, row: &str, col: &str| -> i128 {
                let parts: Vec<String> = decl
                    .filter(|_| f.id != base.id)
                    .and_then(|d| d["rows"][t][row].as_array().cloned())
                    .map(|a| {
                        a.iter()
                            .map(|x| x.as_str().expect("row").to_owned())
                            .collect()
                    })
                    .unwrap_or_else(|| vec![row.to_owned()]);
                parts
                    .iter()
                    .map(|p| {
                        s.cell(f, t, p, col)
                            .unwrap_or_else(|| panic!("{} {t}.{p}.{col}", s.rel))
                    })
                    .sum()
            };
            for t in &shared {
                let mut want = Vec::new();
                for block in base.blocks(t) {
                    for (row, _) in &block.rows {
                        for (col, _) in &block.cols {
                            let (v1, v2) = (value(a, fa, t, row, col), value(b, fb, t, row, col));
                            want.push((v1, v2, v2 - v1));
                        }
                    }
                }
                let cells = &got[t];
                assert_eq!(cells.len(), want.len(), "{rel} {t}: number of cells");
                for (i, ((v1, v2, d), (w1, w2, wd))) in cells.iter().zip(&want).enumerate() {
                    assert_eq!(
                        (units_of(v1), units_of(v2), d.as_str()),
                        (*w1, *w2, signed_units(*wd).as_str()),
                        "{rel} {t} cell {i}"
                    );
                }
                total += cells.len();
            }
            // The page says how to read the three columns and the signs.
            assert!(
                html.contains("正数为增加，负数为减少"),
                "{rel} explains the signs"
            );
        }
    }
    total
}

/// The cells of a peer page: (agency id or `_total`, column key, number shown — without
/// `%`, None for a dash or 不可比). The agency comes from its row's link to its report, the
/// key from the column's header (`data-key`), the kind of agency from the row group.
fn peer_cells(html: &str) -> Vec<(String, String, Option<String>, String)> {
    let mut out = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    let (mut in_head, mut in_foot) = (false, false);
    let mut agency: Option<String> = None;
    let mut kind = String::new();
    let mut col = 0;
    let all = tags(html);
    for (i, t) in all.iter().enumerate() {
        match t.name.as_str() {
            "table" if t.has_class("peers-table") => keys.clear(),
            "thead" => in_head = true,
            "/thead" => in_head = false,
            "tfoot" => in_foot = true,
            "/tfoot" => in_foot = false,
            "tr" => {
                col = 0;
                agency = in_foot.then(|| "_total".to_owned());
            }
            "th" if in_head => {
                if let Some(k) = attr(t, "data-key") {
                    keys.push(k.to_owned());
                }
            }
            "th" if attr(t, "scope") == Some("rowgroup") => kind = text_of(inner(html, t), false),
            "a" if agency.is_none()
                && all.get(i.wrapping_sub(1)).is_some_and(|p| p.name == "th") =>
            {
                // …/reports/2022/fenyang-gov/index.html
                let href = attr(t, "href").expect("href");
                let mut parts = href.rsplit('/');
                parts.next();
                agency = parts.next().map(str::to_owned);
            }
            "td" if !keys.is_empty() => {
                let text = text_of(inner(html, t), false);
                let shown = (!text.starts_with('—') && text != "不可比")
                    .then(|| text.trim_end_matches('%').to_owned());
                let key = keys.get(col).expect("a column for every cell").clone();
                out.push((
                    agency.clone().expect("row's agency"),
                    key,
                    shown,
                    kind.clone(),
                ));
                col += 1;
            }
            _ => {}
        }
    }
    out
}

#[test]
fn peer_pages_match_the_source() {
    let site = built();
    for year in site.years() {
        let numeric: Vec<&Source> = site
            .sources
            .iter()
            .filter(|s| s.year == year && s.numeric(site.fmt(s)))
            .collect();
        if numeric.is_empty() {
            continue;
        }
        // One page per year: the orders are the sort script's, not pages of their own.
        let dir = site.out.join(format!("years/{year}/compare"));
        for e in fs::read_dir(&dir).expect("ls compare") {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            assert_eq!(name, "index.html", "{year}: only the one peer page");
        }
        {
            let rel = format!("years/{year}/compare/index.html");
            let html = site.page(&rel);
            let cells = peer_cells(&html);
            assert!(!cells.is_empty(), "{rel}");
            let mut seen = 0;
            for (agency, key, shown, _) in &cells {
                let (agency, key, shown) = (agency.as_str(), key.as_str(), shown.as_deref());
                let want: Option<String> = if agency == "_total" {
                    let fmts: Vec<&Format> = numeric.iter().map(|s| site.fmt(s)).collect();
                    let fmt = fmts[0];
                    if fmt.rate(key).is_some() {
                        let r = fmt.rate(key).expect("rate");
                        let side = |terms: &Value| -> i128 {
                            strs(terms)
                                .iter()
                                .map(|t| {
                                    let (neg, k) = t
                                        .strip_prefix('-')
                                        .map_or((false, t.as_str()), |k| (true, k));
                                    let v: i128 = numeric
                                        .iter()
                                        .filter_map(|s| s.figure(site.fmt(s), k))
                                        .sum();
                                    if neg { -v } else { v }
                                })
                                .sum()
                        };
                        pct(side(&r["numerator"]), side(&r["denominator"]))
                    } else {
                        let vals: Vec<i128> = numeric
                            .iter()
                            .filter_map(|s| s.figure(site.fmt(s), key))
                            .collect();
                        (!vals.is_empty()).then(|| {
                            signed_units(vals.iter().sum())
                                .trim_start_matches('+')
                                .to_owned()
                        })
                    }
                } else {
                    let s = numeric
                        .iter()
                        .find(|s| s.agency_id == agency)
                        .unwrap_or_else(|| panic!("{rel}: {agency} has no {year} report"));
                    let fmt = site.fmt(s);
                    if fmt.rate(key).is_some() {
                        s.rate(fmt, key).and_then(|(n, d)| pct(n, d))
                    } else {
                        s.figure(fmt, key)
                            .map(|v| signed_units(v).trim_start_matches('+').to_owned())
                    }
                };
                match (&want, shown) {
                    (Some(w), Some(s)) if w.contains('.') || s.contains('.') => {
                        assert_eq!(units_of(s), units_of(w), "{rel} {agency} {key}")
                    }
                    _ => assert_eq!(shown, want.as_deref(), "{rel} {agency} {key}"),
                }
                seen += 1;
            }
            // Every agency of the year is on the page, once per table row.
            let agencies: BTreeSet<&str> = cells
                .iter()
                .map(|c| c.0.as_str())
                .filter(|a| *a != "_total")
                .collect();
            assert_eq!(agencies.len(), numeric.len(), "{rel}");
            assert!(seen > numeric.len());
            // The default order: by kind (one row group per kind, each agency in its own
            // kind's group), then by agency id. No column claims an order.
            assert!(!html.contains("aria-sort"), "{rel}: the default order");
            let mut groups: BTreeMap<&str, (String, Vec<&str>)> = BTreeMap::new();
            let mut last: Option<(&str, &str)> = None;
            let first_key = &cells[0].1;
            for (agency, _, _, kind) in cells
                .iter()
                .filter(|c| c.0 != "_total" && c.1 == *first_key)
            {
                let front_kind = site
                    .get(agency, year)
                    .and_then(|s| s.front["agency_kind"].as_str())
                    .unwrap_or("government");
                let g = groups
                    .entry(front_kind)
                    .or_insert_with(|| (kind.clone(), Vec::new()));
                assert_eq!(&g.0, kind, "{rel}: {agency} is in its kind's group");
                if let Some((before, k)) = last
                    && k == kind.as_str()
                {
                    assert!(before < agency.as_str(), "{rel}: {agency} is out of order");
                }
                g.1.push(agency);
                last = Some((agency, kind));
            }
        }
    }
}

/// The peer page is sortable by a script, as an enhancement: the page is complete without
/// it. Every figure and rate column says how it sorts (`data-sort`), the agency column
/// sorts by name, the table carries the words the script announces, and the script makes
/// buttons in the headers and sets `aria-sort`. (tests/a11y/audit.js presses the buttons
/// in a browser.)
#[test]
fn peer_pages_carry_the_sort_script_and_its_markup() {
    let site = built();
    let script = fs::read_to_string(site.out.join("static/sort.js")).expect("static/sort.js");
    for needle in [
        "createElement(\"button\")",
        "aria-sort",
        "role\", \"status",
        "tBodies",
        "data-sorted-desc",
    ] {
        assert!(script.contains(needle), "sort.js: {needle}");
    }
    let mut checked = 0;
    for year in site.years() {
        let rel = format!("years/{year}/compare/index.html");
        let html = site.page(&rel);
        if !html.contains("peers-table") {
            continue;
        }
        let all = tags(&html);
        assert!(
            all.iter().any(|t| t.name == "script"
                && attr(t, "src") == Some("../../../static/sort.js")
                && attr(t, "defer").is_some()),
            "{rel} loads the sort script"
        );
        // No links to pages per order remain.
        assert!(!html.contains("/by-"), "{rel}: a link to an order page");
        for table in all
            .iter()
            .filter(|t| t.name == "table" && t.has_class("peers-table"))
        {
            assert!(attr(table, "data-sortable").is_some(), "{rel}");
            for words in ["data-sorted-desc", "data-sorted-asc"] {
                assert!(
                    attr(table, words).is_some_and(|w| w.contains("{label}")),
                    "{rel}: {words}"
                );
            }
        }
        let heads: Vec<&Tag> = all
            .iter()
            .filter(|t| t.name == "th" && attr(t, "scope") == Some("col"))
            .collect();
        // Per table: the agency column by name, then a number column per figure or rate.
        let sorts: Vec<&str> = heads.iter().filter_map(|t| attr(t, "data-sort")).collect();
        assert_eq!(sorts.len(), heads.len(), "{rel}: every column sorts");
        assert!(sorts.iter().all(|s| *s == "num" || *s == "text"));
        let text_cols = sorts.iter().filter(|s| **s == "text").count();
        assert!(text_cols >= 1);
        assert_eq!(
            heads
                .iter()
                .filter(|t| attr(t, "data-key").is_some())
                .count(),
            sorts.len() - text_cols,
            "{rel}: each number column names its figure"
        );
        // No button without the script: the headers are plain text.
        assert!(!all.iter().any(|t| t.name == "button"), "{rel}");
        checked += 1;
    }
    assert!(checked >= 2, "peer pages checked: {checked}");
}

// ---------------------------------------------------------------------------------------
// Open data.

/// An RFC 4180 reader: quoted fields, doubled quotes, CRLF.
fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("CSV is UTF-8");
    let text = text
        .strip_prefix('\u{feff}')
        .expect("CSV starts with a BOM");
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "lines end with CRLF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            '\n' => panic!("a bare LF ends a line"),
            _ => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the last line ends with CRLF"
    );
    rows
}

/// With `csv_labels: true` every line of a report's CSV carries its labels and unit, as
/// the format's codebook gives them, and the page links no codebook.
#[test]
fn csv_labels_puts_the_labels_on_every_line() {
    let site = built_with(|p| {
        p.modify("portal.yaml", |t| format!("{t}csv_labels: true\n"));
    });
    let dir = "reports/2022/fenyang-gov-office";
    let csv = parse_csv(&fs::read(site.out.join(format!("{dir}/data.csv"))).expect("csv"));
    assert_eq!(
        csv[0],
        [
            "table",
            "table_label",
            "row",
            "row_label",
            "column",
            "column_label",
            "unit",
            "value",
            "computed"
        ]
    );
    let cells = parse_csv(&fs::read(site.out.join("schemas/cn-2021.cells.csv")).expect("csv"));
    assert_eq!(csv.len(), cells.len());
    for (line, labels) in csv.iter().zip(&cells).skip(1) {
        assert_eq!(
            line[..7],
            labels[..],
            "{dir}/data.csv: the codebook's labels"
        );
    }
    assert!(
        csv.iter()
            .any(|l| l[2] == "admin_fees" && l[7] == "2595.45" && l[6] == "万元")
    );
    assert!(
        !site
            .page(&format!("{dir}/index.html"))
            .contains("cells.csv")
    );
}

#[test]
fn open_data_matches_the_source_cell_for_cell() {
    let site = built();
    let portal: Value = serde_json::from_str(&site.page("data/portal.json")).expect("portal.json");
    let reports = portal["reports"].as_array().expect("reports");
    assert_eq!(reports.len(), site.sources.len());
    let mut cells_checked = 0;
    for s in &site.sources {
        let fmt = site.fmt(s);
        let dir = format!("reports/{}/{}", s.year, s.agency_id);
        let report_page = site.page(&format!("{dir}/index.html"));
        assert!(
            report_page.contains("data.csv"),
            "{dir}: the page links its CSV"
        );
        let csv = parse_csv(&fs::read(site.out.join(format!("{dir}/data.csv"))).expect("data.csv"));
        assert_eq!(csv[0], ["table", "row", "column", "value", "computed"]);
        // The codebook the page links gives every line's labels and unit, line for line.
        let cells_path = format!("schemas/{}.cells.csv", s.format);
        let cells = parse_csv(&fs::read(site.out.join(&cells_path)).expect("cells.csv"));
        assert_eq!(
            cells[0],
            [
                "table",
                "table_label",
                "row",
                "row_label",
                "column",
                "column_label",
                "unit"
            ]
        );
        if csv.len() > 1 {
            assert!(
                report_page.contains(&format!("../../../{cells_path}")),
                "{dir}: the page links its format's codebook"
            );
            assert_eq!(cells.len(), csv.len(), "{dir}: a codebook line per cell");
        }
        for (line, labels) in csv.iter().zip(&cells).skip(1) {
            assert_eq!(
                [&line[0], &line[1], &line[2]],
                [&labels[0], &labels[2], &labels[4]],
                "{dir}/data.csv and {cells_path} in the same order"
            );
            assert!(!labels[1].is_empty() && !labels[3].is_empty() && !labels[5].is_empty());
        }
        let json: Value =
            serde_json::from_str(&site.page(&format!("{dir}/data.json"))).expect("data.json");
        let entry = reports
            .iter()
            .find(|r| r["agency_id"] == s.agency_id.as_str() && r["year"] == s.year)
            .expect("report in portal.json");
        let mut expected = 0;
        for t in fmt.table_keys() {
            for block in fmt.blocks(&t) {
                for (row, _) in &block.rows {
                    for (col, _) in &block.cols {
                        let want = s.cell(fmt, &t, row, col).expect("cell");
                        let line = csv
                            .iter()
                            .find(|l| l[0] == t && l[1] == *row && l[2] == *col)
                            .unwrap_or_else(|| panic!("{dir}/data.csv has no {t}.{row}.{col}"));
                        assert_eq!(units_of(&line[3]), want, "{dir}/data.csv {t}.{row}.{col}");
                        // Written cells appear exactly as the author wrote them.
                        let written = &s.front[&t][row];
                        if let Value::Object(m) = written
                            && let Some(v) = m.get(col)
                        {
                            assert_eq!(line[3], number_text(v), "{dir} {t}.{row}.{col} as written");
                        }
                        for (name, doc) in [
                            ("data.json", &json["tables"]),
                            ("portal.json", &entry["tables"]),
                        ] {
                            assert_eq!(
                                units_of(&number_text(&doc[&t][row][col])),
                                want,
                                "{dir} {name} {t}.{row}.{col}"
                            );
                        }
                        expected += 1;
                    }
                }
            }
        }
        assert_eq!(csv.len() - 1, expected, "{dir}/data.csv: one row per cell");
        cells_checked += expected;
        for f in fmt.figures() {
            let key = f["key"].as_str().expect("key");
            assert_eq!(
                units_of(&number_text(&entry["figures"][key])),
                s.figure(fmt, key).expect("figure"),
                "portal.json {dir} figure {key}"
            );
        }
        for r in fmt.rates() {
            let key = r["key"].as_str().expect("key");
            let (n, d) = s.rate(fmt, key).expect("rate");
            assert_eq!(
                entry["rates"][key]["percent"].as_str().map(str::to_owned),
                pct(n, d)
            );
            assert_eq!(units_of(&number_text(&entry["rates"][key]["numerator"])), n);
            assert_eq!(
                units_of(&number_text(&entry["rates"][key]["denominator"])),
                d
            );
        }
    }
    assert!(cells_checked >= 7 * 200, "{cells_checked}");
    // The real 2022 report's amount stays exactly 2595.45, in every file.
    let real = parse_csv(
        &fs::read(site.out.join("reports/2022/fenyang-gov-office/data.csv")).expect("csv"),
    );
    assert!(
        real.iter()
            .any(|l| l[1] == "admin_fees" && l[3] == "2595.45")
    );
    let cells = parse_csv(&fs::read(site.out.join("schemas/cn-2021.cells.csv")).expect("csv"));
    assert!(cells.iter().any(|l| l[2] == "admin_fees" && l[6] == "万元"));
    // Each year's figures.csv: every agency's figures and rates.
    for year in site.years() {
        let csv = parse_csv(
            &fs::read(site.out.join(format!("years/{year}/figures.csv"))).expect("figures.csv"),
        );
        assert_eq!(
            csv[0],
            [
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
                "denominator"
            ]
        );
        let mut rows = 0;
        for s in site.sources.iter().filter(|s| s.year == year) {
            let fmt = site.fmt(s);
            for f in fmt.figures() {
                let key = f["key"].as_str().expect("key");
                let line = csv
                    .iter()
                    .find(|l| l[1] == s.agency_id && l[5] == "figure" && l[6] == key)
                    .unwrap_or_else(|| panic!("figures.csv {year}: no {} {key}", s.agency_id));
                assert_eq!(units_of(&line[8]), s.figure(fmt, key).expect("figure"));
                rows += 1;
            }
            for r in fmt.rates() {
                let key = r["key"].as_str().expect("key");
                let (n, d) = s.rate(fmt, key).expect("rate");
                let line = csv
                    .iter()
                    .find(|l| l[1] == s.agency_id && l[5] == "rate" && l[6] == key)
                    .expect("rate row");
                assert_eq!(Some(line[8].clone()).filter(|v| !v.is_empty()), pct(n, d));
                assert_eq!((units_of(&line[10]), units_of(&line[11])), (n, d));
                rows += 1;
            }
        }
        assert_eq!(csv.len() - 1, rows, "figures.csv {year}: nothing more");
    }
    // portal.json lists the agencies of the registry, with their history.
    let agencies = portal["agencies"].as_array().expect("agencies");
    let edu = agencies
        .iter()
        .find(|a| a["id"] == "fenyang-edu")
        .expect("fenyang-edu");
    assert_eq!(edu["parent"], "fenyang-gov");
    assert_eq!(edu["former_names"][0]["name"], "汾阳市教育科技局");
    assert_eq!(edu["report_years"], serde_json::json!([2021, 2022, 2023]));
    assert!(
        fs::read_to_string(site.root.join("content/agencies.yaml")).is_ok(),
        "the example has a registry"
    );
}

#[test]
fn csv_quoting_survives_commas_quotes_and_line_breaks() {
    // A report whose labels are plain still needs quoting for its prose-free cells only
    // when they hold separators; build a portal whose agency name holds a comma and quotes.
    let portal = Portal::example();
    portal.replace_once(
        "content/agencies.yaml",
        "  name: 汾阳市贾家庄镇人民政府\n",
        "  name: \"汾阳市贾家庄镇人民政府, \\\"示例\\\"\"\n",
    );
    portal.modify("content/2022/jiajiazhuang-town.md", |t| {
        t.replace("agency: 汾阳市贾家庄镇人民政府\n", "")
    });
    let out = portal.out("site");
    portal.build(&out).assert_ok();
    let bytes = fs::read(out.join("years/2022/figures.csv")).expect("figures.csv");
    let text = String::from_utf8(bytes.clone()).expect("utf-8");
    assert!(
        text.contains("\"汾阳市贾家庄镇人民政府, \"\"示例\"\"\""),
        "quoted as RFC 4180 says"
    );
    let rows = parse_csv(&bytes);
    assert!(
        rows.iter()
            .any(|r| r[2] == "汾阳市贾家庄镇人民政府, \"示例\"")
    );
}

// ---------------------------------------------------------------------------------------
// The work is linear: each view looks at each report a bounded number of times.

fn synthetic(
    agencies: usize,
    years: std::ops::Range<i32>,
) -> (portalgen::model::Library, portalgen::schema::Registry) {
    let registry =
        portalgen::schema::Registry::load(Path::new("/nonexistent/schemas")).expect("formats");
    let template =
        fs::read_to_string(repo_root().join("content/2023/fenyang-edu.md")).expect("template");
    let mut sources = Vec::new();
    for a in 0..agencies {
        for y in years.clone() {
            let text = template
                .replace("agency_id: fenyang-edu", &format!("agency_id: agency-{a}"))
                .replace("year: 2023", &format!("year: {y}"))
                .replace(
                    "agency_kind: department",
                    if a % 3 == 0 {
                        "agency_kind: township"
                    } else {
                        "agency_kind: department"
                    },
                );
            let rel = format!("content/{y}/agency-{a}.md");
            sources.push(
                portalgen::load::parse_source(rel.clone(), Path::new(&rel), text).expect("parses"),
            );
        }
    }
    let lib = portalgen::model::build_library(sources, &registry).expect("library");
    (lib, registry)
}

fn work(agencies: usize, years: usize) -> (usize, usize) {
    let (lib, registry) = synthetic(agencies, 2021..2021 + years as i32);
    let cmp = portalgen::compare::Comparisons::new(&lib, &registry);
    let ids: Vec<&str> = cmp.agency_ids().collect();
    for id in &ids {
        assert!(cmp.agency(id).is_some());
        for p in cmp.pairs(id) {
            assert!(cmp.pair(id, p.y1, p.y2).is_some());
        }
    }
    let all_years: Vec<i32> = cmp.years().collect();
    assert_eq!(all_years.len(), years);
    for y in all_years {
        cmp.peers(y, None);
    }
    let config: portalgen::config::Config = serde_saphyr::from_str("title: t").expect("config");
    let files = portalgen::opendata::files(&lib, &registry, &cmp, &config).expect("open data");
    assert_eq!(
        files.len(),
        lib.reports.len() + years + registry.all().count() + 1
    );
    (lib.reports.len(), cmp.visits())
}

#[test]
fn comparisons_visit_each_report_a_bounded_number_of_times() {
    // Twice the agencies: exactly twice the work (no view scans other agencies' reports).
    let (r1, v1) = work(10, 4);
    let (r2, v2) = work(20, 4);
    assert_eq!(r2, 2 * r1);
    assert!(
        v2 as f64 <= 2.02 * v1 as f64,
        "{v1} visits for {r1} reports, {v2} for {r2}: the work grows faster than the agencies"
    );
    // Four more years each time: the same extra work each time (no view scans every year;
    // the first year of each agency has no previous year, so the steps are compared).
    let (_, a) = work(10, 4);
    let (_, b) = work(10, 8);
    let (_, c) = work(10, 12);
    assert!(
        (c - b) as f64 <= 1.02 * (b - a) as f64,
        "visits for 4, 8, 12 years: {a}, {b}, {c}: the work grows faster than the years"
    );
    assert!(v2 / r2 < 200, "{} visits per report", v2 / r2);
}
