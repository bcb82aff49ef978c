//! Model stage: turn each loaded file into a typed [`Report`] using its format's schema,
//! and gather the reports into a [`Library`] (by year, by agency).
//!
//! Everything the author got wrong in the front matter is reported here, with the
//! position of the offending key or cell: unknown keys (typos must not be ignored),
//! missing fields, values of the wrong type, a year that disagrees with its folder,
//! two reports for the same agency and year.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::decimal::{Decimal, DecimalError};
use crate::error::Diagnostic;
use crate::load::SourceFile;
use crate::schema::{Block, CellType, Per, Registry, Schema, Table};
use crate::yaml::{Node, NodeKind, Pos};

/// Who publishes the report; decides the legal deadline and the year index's grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyKind {
    Government,
    Department,
    Township,
    Other,
}

impl AgencyKind {
    pub const ALL: [AgencyKind; 4] = [
        AgencyKind::Government,
        AgencyKind::Department,
        AgencyKind::Township,
        AgencyKind::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            AgencyKind::Government => "government",
            AgencyKind::Department => "department",
            AgencyKind::Township => "township",
            AgencyKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<AgencyKind> {
        AgencyKind::ALL.into_iter().find(|k| k.key() == s)
    }
}

/// A calendar date (publication dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD` and rejects dates that do not exist.
    pub fn parse(s: &str) -> Option<Date> {
        let mut parts = s.trim().splitn(3, '-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let date = Date {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
            day: d.parse().ok()?,
        };
        let leap = (date.year % 4 == 0 && date.year % 100 != 0) || date.year % 400 == 0;
        let days = match date.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (date.day >= 1 && date.day <= days).then_some(date)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where a cell's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Written by the author at this position.
    Authored(CellPos),
    /// Left out by the author and computed from a `fills` rule.
    Computed,
}

/// A cell's position in its file: a [`Pos`] in half the bytes, as every report keeps one
/// per cell (a cell is 24 bytes; with `usize` positions and an `i128` it was 64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellPos {
    line: u32,
    column: u32,
}

impl From<Pos> for CellPos {
    fn from(p: Pos) -> CellPos {
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        CellPos {
            line: narrow(p.line),
            column: narrow(p.column),
        }
    }
}

impl From<CellPos> for Pos {
    fn from(p: CellPos) -> Pos {
        Pos {
            line: p.line as usize,
            column: p.column as usize,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub value: Decimal,
    pub origin: Origin,
}

/// The cells of one block in the schema's leaf order, row after row in one allocation
/// (a `Vec` per row was 68 allocations per report).
#[derive(Debug, Clone, Default)]
pub struct BlockData {
    width: usize,
    height: usize,
    cells: Vec<Cell>,
}

impl BlockData {
    /// A block from its rows; `None` unless every row has the same number of cells.
    pub fn from_rows<R: IntoIterator<Item = Vec<Cell>>>(rows: R) -> Option<BlockData> {
        let mut block = BlockData::default();
        for (i, row) in rows.into_iter().enumerate() {
            if i == 0 {
                block.width = row.len();
            } else if row.len() != block.width {
                return None;
            }
            block.height += 1;
            block.cells.extend(row);
        }
        Some(block)
    }

    /// The rows, each a slice of `width` cells.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[Cell]> + Clone + '_ {
        (0..self.height).map(|r| &self.cells[r * self.width..(r + 1) * self.width])
    }

    pub fn row(&self, r: usize) -> Option<&[Cell]> {
        (r < self.height).then(|| &self.cells[r * self.width..(r + 1) * self.width])
    }

    pub fn get(&self, r: usize, c: usize) -> Option<&Cell> {
        (c < self.width).then(|| self.row(r)?.get(c)).flatten()
    }

    /// Every cell, row after row.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }
}

#[derive(Debug, Clone)]
pub struct TableData {
    pub key: String,
    /// Position of the table's key in the front matter.
    pub pos: Pos,
    pub blocks: Vec<BlockData>,
}

/// One annual report.
#[derive(Debug, Clone)]
pub struct Report {
    pub file: String,
    pub title: String,
    pub agency: String,
    pub agency_id: String,
    pub agency_kind: AgencyKind,
    pub year: i32,
    pub published: Date,
    /// Id of the format's schema.
    pub format: String,
    /// Invented data, shown as such on the page.
    pub sample: bool,
    /// Tables in the schema's order.
    pub tables: Vec<TableData>,
    pub body: String,
    pub body_line: usize,
    /// The whole file, for the source lines quoted in diagnostics.
    pub text: String,
    /// Warnings the author explains, by rule ID.
    pub explanations: Vec<Explanation>,
    /// Changes after publication, oldest first.
    pub revisions: Vec<Revision>,
    /// Positions of the metadata values, for diagnostics about them.
    pub positions: BTreeMap<String, Pos>,
}

impl Report {
    pub fn table(&self, key: &str) -> Option<&TableData> {
        self.tables.iter().find(|t| t.key == key)
    }
}

/// All reports of a portal, sorted by year (newest first), then agency id.
#[derive(Debug, Clone)]
pub struct Library {
    pub reports: Vec<Report>,
    /// The agency registry (`content/agencies.yaml`), when the portal has one.
    pub agencies: Option<crate::agencies::AgencyRegistry>,
}

impl Library {
    /// Drops what only the checks read: each report's file text and the position of every
    /// value in it. The render stage never reads them, and at 10,000 reports they are a
    /// quarter of a build's memory.
    pub fn drop_check_sources(&mut self) {
        for r in &mut self.reports {
            r.text = String::new();
            r.positions = BTreeMap::new();
        }
    }

    /// Takes every report's Markdown out of the library, in its order (a build drops it
    /// once the report pages are made: 30 MB at 10,000 reports). The reports keep an
    /// empty body.
    pub fn take_bodies(&mut self) -> Vec<String> {
        self.reports
            .iter_mut()
            .map(|r| std::mem::take(&mut r.body))
            .collect()
    }

    /// Years with at least one report, newest first.
    pub fn years(&self) -> Vec<i32> {
        let mut years: Vec<i32> = self.reports.iter().map(|r| r.year).collect();
        years.dedup();
        years
    }

    /// The agency's current name, when the portal has an agency registry.
    pub fn agency_name(&self, id: &str) -> Option<&str> {
        self.agencies
            .as_ref()
            .and_then(|a| a.get(id))
            .map(|a| a.name.as_str())
    }

    /// Agency ids with their reports (newest first), sorted by id.
    pub fn agencies(&self) -> BTreeMap<&str, Vec<&Report>> {
        let mut map: BTreeMap<&str, Vec<&Report>> = BTreeMap::new();
        for r in &self.reports {
            map.entry(r.agency_id.as_str()).or_default().push(r);
        }
        map
    }
}

const META_KEYS: &[&str] = &[
    "explanations",
    "revisions",
    "format",
    "title",
    "agency",
    "agency_id",
    "agency_kind",
    "year",
    "published",
    "sample",
];

/// Builds the library from loaded files. Returns every problem found, in file order.
pub fn build_library(
    files: Vec<SourceFile>,
    registry: &Registry,
) -> Result<Library, Vec<Diagnostic>> {
    build_library_with(files, registry, None)
}

/// Builds the library with the portal's agency registry, if it has one: reports then
/// name their agency by id, and what they say about it is checked against the registry.
///
/// The files are consumed: each report takes its file's text instead of copying it.
pub fn build_library_with(
    files: Vec<SourceFile>,
    registry: &Registry,
    agencies: Option<crate::agencies::AgencyRegistry>,
) -> Result<Library, Vec<Diagnostic>> {
    use rayon::prelude::*;
    let built: Vec<Result<Report, Vec<Diagnostic>>> = files
        .into_par_iter()
        .map(|file| build_report_owned(file, registry, agencies.as_ref()))
        .collect();
    assemble(built, agencies)
}

/// Like [`build_library_with`], reading each file (with `read`) as its report is built, so
/// that only the reports are held and not every file's parsed front matter as well (at
/// 10,000 reports the parsed files were most of a build's peak memory).
pub fn build_library_reading<P: Sync>(
    paths: &[P],
    read: impl Fn(&P) -> Result<SourceFile, Box<Diagnostic>> + Sync,
    registry: &Registry,
    agencies: Option<crate::agencies::AgencyRegistry>,
) -> Result<Library, Vec<Diagnostic>> {
    use rayon::prelude::*;
    let built: Vec<Result<Report, Vec<Diagnostic>>> = paths
        .par_iter()
        .map(|p| {
            let file = read(p).map_err(|d| vec![*d])?;
            build_report_owned(file, registry, agencies.as_ref())
        })
        .collect();
    assemble(built, agencies)
}

/// Like [`build_library_with`], for a caller that keeps its parsed files (`portalgen
/// serve`): nothing is cloned but the text each report keeps. `files` is in the order a
/// full build reads them (path order), which decides which of two duplicates is named first.
pub fn build_library_from(
    files: &[&SourceFile],
    registry: &Registry,
    agencies: Option<crate::agencies::AgencyRegistry>,
) -> Result<Library, Vec<Diagnostic>> {
    use rayon::prelude::*;
    let built: Vec<Result<Report, Vec<Diagnostic>>> = files
        .par_iter()
        .map(|file| build_report(file, registry, agencies.as_ref()))
        .collect();
    assemble(built, agencies)
}

/// Builds one report from its parsed file. The problems are those a full build reports for
/// this file, except the ones that involve other reports (year folder and duplicates: see
/// [`placement_problems`]).
pub fn build_report(
    file: &SourceFile,
    registry: &Registry,
    agencies: Option<&crate::agencies::AgencyRegistry>,
) -> Result<Report, Vec<Diagnostic>> {
    let mut r = build_report_inner(file, registry, agencies)?;
    r.file = file.rel.clone();
    r.body = file.body.clone();
    r.text = file.text.clone();
    Ok(r)
}

fn build_report_owned(
    file: SourceFile,
    registry: &Registry,
    agencies: Option<&crate::agencies::AgencyRegistry>,
) -> Result<Report, Vec<Diagnostic>> {
    let mut r = build_report_inner(&file, registry, agencies)?;
    r.file = file.rel;
    r.body = file.body;
    r.text = file.text;
    Ok(r)
}

/// The library from built reports in file order: placement problems, then the sort.
fn assemble(
    built: Vec<Result<Report, Vec<Diagnostic>>>,
    agencies: Option<crate::agencies::AgencyRegistry>,
) -> Result<Library, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut reports = Vec::with_capacity(built.len());
    for b in built {
        match b {
            Ok(r) => reports.push(r),
            Err(mut d) => problems.append(&mut d),
        }
    }
    problems.extend(placement_problems(&reports));
    if !problems.is_empty() {
        return Err(problems);
    }
    reports.sort_by(library_order);
    Ok(Library { reports, agencies })
}

/// The library's order: year (newest first), then agency id.
pub fn library_order(a: &Report, b: &Report) -> std::cmp::Ordering {
    b.year
        .cmp(&a.year)
        .then_with(|| a.agency_id.cmp(&b.agency_id))
}

/// Problems between reports, for reports given in file order: a year that disagrees
/// with its folder, and a second report for the same agency and year.
pub fn placement_problems(reports: &[Report]) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    check_placement(reports.iter(), &mut problems);
    problems
}

/// Year folders and duplicates: each (agency, year) has one report, in its year's folder.
pub(crate) fn check_placement<'a>(
    reports: impl Iterator<Item = &'a Report>,
    problems: &mut Vec<Diagnostic>,
) {
    let mut seen: std::collections::HashMap<(&str, i32), &Report> =
        std::collections::HashMap::new();
    for r in reports {
        let pos = |key: &str| r.positions.get(key).copied().unwrap_or_default();
        if let Some(folder) = wrong_folder(r) {
            problems.push(Diagnostic::error(
                &r.file,
                pos("year"),
                format!("报告年度 {} 与所在目录 {folder}/ 不一致", r.year),
                format!("the report's year {} disagrees with its folder {folder}/", r.year),
            ).with_help(
                format!("若这是 {folder} 年度的报告，把 year 改为 {folder}；否则把文件移到 content/{}/", r.year),
                format!("if this is the {folder} report, set year: {folder}; otherwise move the file to content/{}/", r.year),
            ));
        }
        if let Some(first) = seen.get(&(r.agency_id.as_str(), r.year)) {
            problems.push(
                Diagnostic::error(
                    &r.file,
                    pos("agency_id"),
                    format!(
                        "{} 的 {} 年度报告已在 {} 中，同一机关同一年度只能有一份报告",
                        r.agency, r.year, first.file
                    ),
                    format!(
                        "{} already has a {} report in {}; an agency has one report a year",
                        r.agency, r.year, first.file
                    ),
                )
                .with_help(
                    "删除重复的文件，或改正其中一份的 agency_id 或 year",
                    "remove the duplicate, or correct the agency_id or year of one of them",
                ),
            );
        } else {
            seen.insert((r.agency_id.as_str(), r.year), r);
        }
    }
}

/// The year folder a report is in (content/<year>/…) when it is not the report's year.
pub(crate) fn wrong_folder(r: &Report) -> Option<&str> {
    let folder = r.file.split('/').nth(1)?;
    (r.file.split('/').count() > 2
        && folder.len() == 4
        && folder.parse::<i32>().is_ok_and(|y| y != r.year))
    .then_some(folder)
}

/// Collects a file's problems with its text attached for snippets.
struct Problems<'a> {
    file: &'a SourceFile,
    list: Vec<Diagnostic>,
}

/// A change made after publication, with its date and reason (no silent edits).
#[derive(Debug, Clone, Serialize)]
pub struct Revision {
    pub date: Date,
    pub change: String,
    pub reason: String,
}

/// An author's explanation of a warning (e.g. Y-02 broken by 机构改革).
#[derive(Debug, Clone)]
pub struct Explanation {
    pub rule: String,
    pub reason: String,
    pub pos: Pos,
}

impl Problems<'_> {
    fn push(&mut self, pos: Pos, zh: String, en: String, help: Option<(String, String)>) {
        let mut d = Diagnostic::error(&self.file.rel, pos, zh, en).with_source(&self.file.text);
        if let Some((hz, he)) = help {
            d = d.with_help(hz, he);
        }
        self.list.push(d);
    }
}

/// Builds the report; `file`, `body` and `text` are left empty for the caller to fill.
fn build_report_inner(
    file: &SourceFile,
    registry: &Registry,
    agencies: Option<&crate::agencies::AgencyRegistry>,
) -> Result<Report, Vec<Diagnostic>> {
    let mut p = Problems {
        file,
        list: Vec::new(),
    };
    let top_pos = Pos { line: 1, column: 1 };
    let Some(map) = file.front.as_map() else {
        p.push(
            file.front.pos,
            format!(
                "前置信息应是“键: 值”形式的映射，而不是{}",
                file.front.type_name()
            ),
            format!(
                "the front matter must be a mapping of `key: value`, not a {}",
                file.front.type_name()
            ),
            None,
        );
        return Err(p.list);
    };
    let get = |key: &str| map.iter().find(|(k, _)| k.as_str() == Some(key));
    let mut positions = BTreeMap::new();
    for (k, v) in map {
        if let Some(name) = k.as_str() {
            positions.insert(name.to_owned(), v.pos);
        }
    }

    let year = match get("year") {
        Some((_, v)) => match v.kind {
            NodeKind::Int(y) if (1990..=2100).contains(&y) => Some(y as i32),
            _ => {
                p.push(
                    v.pos,
                    format!(
                        "year 应为四位数的年度，如 2022，而不是 {}",
                        show(v, &file.yaml)
                    ),
                    format!(
                        "year must be a four-digit year such as 2022, not {}",
                        show(v, &file.yaml)
                    ),
                    None,
                );
                None
            }
        },
        None => {
            missing(
                &mut p,
                top_pos,
                "year",
                "报告年度，如 2022",
                "the report's year, e.g. 2022",
            );
            None
        }
    };

    let schema: Option<&Schema> = match get("format") {
        Some((_, v)) => match v.as_str().and_then(|id| registry.get(id)) {
            Some(s) => Some(s),
            None => {
                let known: Vec<&str> = registry.ids().collect();
                p.push(
                    v.pos,
                    format!("未知的报告格式 {}", show(v, &file.yaml)),
                    format!("unknown report format {}", show(v, &file.yaml)),
                    Some((
                        format!("可用的格式：{}", known.join("、")),
                        format!("known formats: {}", known.join(", ")),
                    )),
                );
                None
            }
        },
        None => year.and_then(|y| {
            crate::schema::BUILTIN
                .iter()
                .filter_map(|(name, _)| registry.get(name.trim_end_matches(".yaml")))
                .find(|s| s.years.contains(y))
        }),
    };

    let title = string_field(&mut p, get("title"), "title", false);
    let agency = string_field(&mut p, get("agency"), "agency", true);
    if agencies.is_none() && agency.is_none() && get("agency").is_none() {
        missing(
            &mut p,
            top_pos,
            "agency",
            "发布机关的全称，如 汾阳市人民政府办公室",
            "the agency's full name",
        );
    }
    let agency_id = match get("agency_id") {
        Some((_, v)) => match v.as_str() {
            Some(id) if is_slug(id) => Some(id.to_owned()),
            _ => {
                p.push(v.pos, format!("agency_id 只能由小写字母、数字和连字符组成，如 fenyang-gov-office，而不是 {}", show(v, &file.yaml)),
                    format!("agency_id may hold only lowercase letters, digits and hyphens (e.g. fenyang-gov-office), not {}", show(v, &file.yaml)), None);
                None
            }
        },
        None => {
            missing(
                &mut p,
                top_pos,
                "agency_id",
                "机关的稳定标识，用于网址，如 fenyang-gov-office",
                "the agency's stable id, used in addresses, e.g. fenyang-gov-office",
            );
            None
        }
    };
    let agency_kind = match get("agency_kind") {
        Some((_, v)) => match v.as_str().and_then(AgencyKind::parse) {
            Some(k) => Some(k),
            None => {
                p.push(v.pos, format!("agency_kind 应为 government（政府）、department（部门）、township（乡镇）或 other（其他），而不是 {}", show(v, &file.yaml)),
                    format!("agency_kind must be government, department, township or other, not {}", show(v, &file.yaml)), None);
                None
            }
        },
        None if agencies.is_some() => None,
        None => {
            missing(
                &mut p,
                top_pos,
                "agency_kind",
                "government、department、township 或 other",
                "government, department, township or other",
            );
            None
        }
    };
    // With an agency registry, the registry names the agency; what the report says must agree.
    let (agency, agency_kind) = match (agencies, agency_id.as_deref(), year) {
        (Some(reg), Some(id), Some(year)) => {
            let pos = |k: &str| positions.get(k).copied().unwrap_or_default();
            let claim = crate::agencies::Claim {
                id,
                id_pos: pos("agency_id"),
                year,
                name: agency.as_deref().map(|n| (n, pos("agency"))),
                kind: agency_kind.map(|k| (k, pos("agency_kind"))),
            };
            match reg.resolve(&claim) {
                Ok((name, kind)) => (Some(agency.unwrap_or(name)), Some(kind)),
                Err(found) => {
                    for x in found {
                        p.push(x.pos, x.zh, x.en, x.help);
                    }
                    (None, None)
                }
            }
        }
        _ => (agency, agency_kind),
    };
    let published = match get("published") {
        Some((_, v)) => match v.as_str().and_then(Date::parse) {
            Some(d) => Some(d),
            None => {
                p.push(v.pos, format!("published 应为公开日期，格式 YYYY-MM-DD，如 2023-01-12，而不是 {}", show(v, &file.yaml)),
                    format!("published must be the publication date as YYYY-MM-DD, e.g. 2023-01-12, not {}", show(v, &file.yaml)), None);
                None
            }
        },
        None => {
            missing(
                &mut p,
                top_pos,
                "published",
                "公开日期，如 2023-01-12",
                "the publication date, e.g. 2023-01-12",
            );
            None
        }
    };
    let sample = match get("sample") {
        Some((_, v)) => match v.kind {
            NodeKind::Bool(b) => b,
            _ => {
                p.push(
                    v.pos,
                    format!("sample 应为 true 或 false，而不是 {}", show(v, &file.yaml)),
                    format!("sample must be true or false, not {}", show(v, &file.yaml)),
                    None,
                );
                false
            }
        },
        None => false,
    };

    // Unknown keys: anything that is neither metadata nor a table of this format.
    let table_keys: Vec<&str> = schema
        .map(|s| s.tables.iter().map(|t| t.key.as_str()).collect())
        .unwrap_or_default();
    for (k, _) in map {
        let Some(name) = k.as_str() else {
            p.push(
                k.pos,
                "键必须是文本".into(),
                "keys must be text".into(),
                None,
            );
            continue;
        };
        if META_KEYS.contains(&name) || table_keys.contains(&name) || schema.is_none() {
            continue;
        }
        let candidates: Vec<&str> = META_KEYS
            .iter()
            .copied()
            .chain(table_keys.iter().copied())
            .collect();
        let fmt_id = schema.map(|s| s.id.as_str()).unwrap_or_default();
        p.push(
            k.pos,
            format!("未知的键 `{name}`（格式 {fmt_id} 中没有此项）"),
            format!("unknown key `{name}` (not part of format {fmt_id})"),
            Some(suggest(name, &candidates)),
        );
    }

    let explanations = parse_explanations(&mut p, get("explanations"));
    let revisions = parse_revisions(&mut p, get("revisions"), published);
    let mut partial = Vec::new();
    let mut tables = Vec::new();
    if let Some(schema) = schema {
        for table in &schema.tables {
            match get(&table.key) {
                Some((k, v)) => {
                    let before = p.list.len();
                    if let Some(t) = build_table(&mut p, table, k.pos, v) {
                        partial.push(t);
                    }
                    // Bad cells break the format's type rule for this table (T3-04 …).
                    let types_rule = schema.rules.iter().find(|r| {
                        r.kind == crate::schema::RuleKind::Types
                            && r.table.as_deref() == Some(table.key.as_str())
                    });
                    if let Some(rule) = types_rule {
                        for d in &mut p.list[before..] {
                            if d.message.starts_with("单元格") {
                                d.rule = Some(rule.id.clone());
                            }
                        }
                    }
                }
                None => {
                    p.push(top_pos, format!("缺少表格 `{}`（{}、{}）", table.key, table.section, table.caption),
                        format!("table `{}` ({}) is missing", table.key, table.caption_en),
                        Some((format!("格式 {} 的每份报告都要填写此表；参照 docs/report-format.md 的示例", schema.id),
                            format!("every report in format {} has this table; see the example in docs/report-format.md", schema.id))));
                }
            }
        }
        if p.list.is_empty() {
            tables = fill_computed(&mut p, schema, partial);
        }
    }

    if !p.list.is_empty() {
        return Err(p.list);
    }
    match (year, schema, agency, agency_id, agency_kind, published) {
        (
            Some(year),
            Some(schema),
            Some(agency),
            Some(agency_id),
            Some(agency_kind),
            Some(published),
        ) => {
            let title =
                title.unwrap_or_else(|| format!("{agency}{year}年政府信息公开工作年度报告"));
            Ok(Report {
                file: String::new(),
                title,
                agency,
                agency_id,
                agency_kind,
                year,
                published,
                format: schema.id.clone(),
                sample,
                tables,
                body: String::new(),
                body_line: file.body_line,
                text: String::new(),
                explanations,
                revisions,
                positions,
            })
        }
        (_, None, ..) if year.is_none() => Err(p.list),
        _ => {
            // Only reachable when a value was rejected without a message; say so rather than panic.
            p.push(
                top_pos,
                "前置信息不完整".into(),
                "the front matter is incomplete".into(),
                None,
            );
            Err(p.list)
        }
    }
}

fn missing(p: &mut Problems, pos: Pos, key: &str, what_zh: &str, what_en: &str) {
    p.push(
        pos,
        format!("缺少必填项 `{key}`"),
        format!("required key `{key}` is missing"),
        Some((
            format!("在前置信息中加上 `{key}:`（{what_zh}）"),
            format!("add `{key}:` to the front matter ({what_en})"),
        )),
    );
}

fn string_field(
    p: &mut Problems,
    entry: Option<&(Node, Node)>,
    key: &str,
    required: bool,
) -> Option<String> {
    let (_, v) = entry?;
    match v.as_str() {
        Some(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(_) if !required => None,
        _ => {
            p.push(
                v.pos,
                format!("`{key}` 应为非空文本，而不是 {}", show(v, &p.file.yaml)),
                format!(
                    "`{key}` must be non-empty text, not {}",
                    show(v, &p.file.yaml)
                ),
                None,
            );
            None
        }
    }
}

pub(crate) fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// How a value looks in a message: its source text for scalars, its type otherwise.
fn show(v: &Node, source: &str) -> String {
    match &v.kind {
        NodeKind::Null => "空值".to_owned(),
        NodeKind::Bool(b) => b.to_string(),
        NodeKind::Str(s) => format!("“{s}”"),
        NodeKind::Int(_) | NodeKind::Float(_) => {
            v.text(source).map(|t| t.into_owned()).unwrap_or_default()
        }
        NodeKind::Seq(_) | NodeKind::Map(_) => v.type_name().to_owned(),
    }
}

/// "Did you mean" for a mistyped key.
pub(crate) fn suggest(name: &str, candidates: &[&str]) -> (String, String) {
    let best = candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min();
    match best {
        Some((_, c)) => (format!("是不是 `{c}`？"), format!("did you mean `{c}`?")),
        None => (
            format!("可用的键：{}", candidates.join("、")),
            format!("known keys: {}", candidates.join(", ")),
        ),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn build_table(p: &mut Problems, table: &Table, pos: Pos, node: &Node) -> Option<PartialTable> {
    let Some(entries) = node.as_map() else {
        p.push(
            node.pos,
            format!(
                "表格 `{}` 应是以行名为键的映射，而不是{}",
                table.key,
                node.type_name()
            ),
            format!(
                "table `{}` must be a mapping of row keys, not a {}",
                table.key,
                node.type_name()
            ),
            None,
        );
        return None;
    };
    let blocks_meta: Vec<_> = table
        .blocks
        .iter()
        .map(|b| (b, b.leaf_rows_ref(), b.leaf_columns_ref()))
        .collect();
    let all_rows: Vec<&str> = blocks_meta
        .iter()
        .flat_map(|(_, rows, _)| rows.iter().map(|r| r.key.as_str()))
        .collect();
    for (k, _) in entries {
        let name = k.as_str().unwrap_or_default();
        if !all_rows.contains(&name) {
            p.push(
                k.pos,
                format!("表格 `{}`（{}）中没有行 `{name}`", table.key, table.caption),
                format!("table `{}` has no row `{name}`", table.key),
                Some(suggest(name, &all_rows)),
            );
        }
    }
    let mut ok = true;
    // A list one number short is read as "总计 left out". When other rows of the same block
    // give the 总计, a short row is much more likely a dropped number, which would shift
    // every later number one column left; refuse it rather than guess.
    for (_, rows, cols) in &blocks_meta {
        let full = cols.len();
        let short = cols.iter().filter(|c| !c.computed).count();
        if short == full {
            continue;
        }
        let lists: Vec<(&str, &Node, usize)> = entries
            .iter()
            .filter(|(k, _)| rows.iter().any(|r| Some(r.key.as_str()) == k.as_str()))
            .filter_map(|(k, v)| match &v.kind {
                NodeKind::Seq(items) => Some((k.as_str().unwrap_or_default(), v, items.len())),
                _ => None,
            })
            .collect();
        if lists.iter().any(|(_, _, n)| *n == full) {
            for (key, v, _) in lists.iter().filter(|(_, _, n)| *n == short) {
                ok = false;
                let labels: Vec<&str> = cols.iter().map(|c| c.label.as_str()).collect();
                p.push(
                    v.pos,
                    format!("行 `{key}` 只有 {short} 个数，而本表其他行有 {full} 个：是否漏填了一个数？"),
                    format!("row `{key}` has {short} numbers while other rows of this table have {full}: is a number missing?"),
                    Some((
                        format!("按顺序填写全部 {full} 列：{}；若要省略总计，则本表所有行都省略", labels.join("、")),
                        format!("give all {full} columns in order; to leave the totals out, leave them out in every row"),
                    )),
                );
            }
        }
    }
    if !ok {
        return None;
    }
    let mut blocks = Vec::new();
    for (block, rows, cols) in &blocks_meta {
        let mut cells = Vec::new();
        for row in rows.iter() {
            let entry = entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(row.key.as_str()));
            match entry {
                Some((_, v)) => {
                    match build_row(p, table, block, row.key.as_str(), &row.label, cols, v) {
                        Some(r) => cells.push(r),
                        None => ok = false,
                    }
                }
                None if row.computed => cells.push(vec![None; cols.len()]),
                None => {
                    ok = false;
                    p.push(
                        pos,
                        format!(
                            "表格 `{}` 缺少行 `{}`（{}）",
                            table.key,
                            row.key,
                            row.path.join(" · ")
                        ),
                        format!(
                            "table `{}` is missing row `{}` ({})",
                            table.key, row.key, row.label_en
                        ),
                        Some((
                            "每一行都要填写，没有的数字填 0".into(),
                            "every row must be given; write 0 where there is nothing".into(),
                        )),
                    );
                }
            }
        }
        blocks.push(cells);
    }
    ok.then(|| PartialTable {
        key: table.key.clone(),
        pos,
        blocks,
    })
}

/// A table whose computed cells may still be missing.
struct PartialTable {
    key: String,
    pos: Pos,
    blocks: Vec<Vec<Vec<Option<Cell>>>>,
}

/// A row is a list in column order, or a mapping of column keys. Computed columns may be left out.
fn build_row(
    p: &mut Problems,
    table: &Table,
    _block: &Block,
    row_key: &str,
    row_label: &str,
    cols: &[crate::schema::LeafCol],
    node: &Node,
) -> Option<Vec<Option<Cell>>> {
    let mut out: Vec<Option<Cell>> = vec![None; cols.len()];
    let mut ok = true;
    let where_zh = |c: &crate::schema::LeafCol| format!("{} · {}", row_label, c.label);
    match &node.kind {
        NodeKind::Seq(items) => {
            let required: Vec<usize> = (0..cols.len()).filter(|&i| !cols[i].computed).collect();
            let slots: Vec<usize> = if items.len() == cols.len() {
                (0..cols.len()).collect()
            } else if items.len() == required.len() {
                required
            } else {
                let labels: Vec<&str> = cols.iter().map(|c| c.label.as_str()).collect();
                let short = if required.len() != cols.len() {
                    format!("或 {} ", required.len())
                } else {
                    String::new()
                };
                let short_en = if required.len() != cols.len() {
                    format!(" or {}", required.len())
                } else {
                    String::new()
                };
                p.push(
                    node.pos,
                    format!(
                        "行 `{row_key}` 有 {} 个数，应为 {} {short}个",
                        items.len(),
                        cols.len()
                    ),
                    format!(
                        "row `{row_key}` has {} numbers; it needs {}{short_en}",
                        items.len(),
                        cols.len()
                    ),
                    Some((
                        format!("按顺序填写：{}", labels.join("、")),
                        format!("in this order: {}", labels.join(", ")),
                    )),
                );
                return None;
            };
            for (item, &slot) in items.iter().zip(&slots) {
                match cell(p, &cols[slot], item, &|| where_zh(&cols[slot])) {
                    Some(c) => out[slot] = Some(c),
                    None => ok = false,
                }
            }
        }
        NodeKind::Map(entries) => {
            let mut given = vec![false; cols.len()];
            for (k, v) in entries {
                let name = k.as_str().unwrap_or_default();
                match cols.iter().position(|c| c.key == name) {
                    Some(i) => {
                        given[i] = true;
                        match cell(p, &cols[i], v, &|| where_zh(&cols[i])) {
                            Some(c) => out[i] = Some(c),
                            None => ok = false,
                        }
                    }
                    None => {
                        ok = false;
                        let keys: Vec<&str> = cols.iter().map(|c| c.key.as_str()).collect();
                        p.push(
                            k.pos,
                            format!("行 `{row_key}` 中没有列 `{name}`"),
                            format!("row `{row_key}` has no column `{name}`"),
                            Some(suggest(name, &keys)),
                        );
                    }
                }
            }
            for (i, c) in cols.iter().enumerate() {
                if !given[i] && !c.computed {
                    ok = false;
                    p.push(
                        node.pos,
                        format!("行 `{row_key}` 缺少列 `{}`（{}）", c.key, c.label),
                        format!(
                            "row `{row_key}` is missing column `{}` ({})",
                            c.key, c.label_en
                        ),
                        Some((
                            "没有的数字填 0".into(),
                            "write 0 where there is nothing".into(),
                        )),
                    );
                }
            }
        }
        _ => {
            let keys: Vec<&str> = cols.iter().map(|c| c.key.as_str()).collect();
            p.push(node.pos, format!("表格 `{}` 的行 `{row_key}` 应是数字列表或映射，而不是{}", table.key, node.type_name()),
                format!("row `{row_key}` of table `{}` must be a list of numbers or a mapping, not a {}", table.key, node.type_name()),
                Some((format!("例如 {{{}}}", keys.iter().map(|k| format!("{k}: 0")).collect::<Vec<_>>().join(", ")),
                    format!("e.g. {{{}}}", keys.iter().map(|k| format!("{k}: 0")).collect::<Vec<_>>().join(", ")))));
            return None;
        }
    }
    if !ok {
        return None;
    }
    Some(out)
}

fn cell(
    p: &mut Problems,
    col: &crate::schema::LeafCol,
    node: &Node,
    where_zh: &dyn Fn() -> String,
) -> Option<Cell> {
    // The cell's labels and its text as written are made only for a message: a portal
    // has millions of cells.
    let source = &p.file.yaml;
    let text: Option<std::borrow::Cow<str>> = match &node.kind {
        NodeKind::Int(_) | NodeKind::Float(_) => node.text(source),
        NodeKind::Str(s) if col.cell_type == CellType::Decimal => Some(s.as_str().into()),
        _ => None,
    };
    let Some(text) = text else {
        let (where_zh, shown) = (where_zh(), show(node, source));
        let (zh, en) = if matches!(node.kind, NodeKind::Null) {
            (
                format!("单元格“{where_zh}”为空"),
                "the cell is empty".to_owned(),
            )
        } else {
            (
                format!("单元格“{where_zh}”应为数字，而不是 {shown}"),
                format!("the cell must be a number, not {shown}"),
            )
        };
        p.push(
            node.pos,
            zh,
            en,
            Some((
                "填写数字；没有的填 0".into(),
                "write a number; 0 where there is nothing".into(),
            )),
        );
        return None;
    };
    let parsed = Decimal::parse(&text);
    let fine = match (col.cell_type, &parsed) {
        (CellType::Decimal, Ok(d)) => !d.is_negative(),
        (CellType::Count, Ok(d)) => !d.is_negative() && !text.contains('.'),
        (CellType::Signed, Ok(_)) => !text.contains('.'),
        _ => false,
    };
    if let (true, Ok(value)) = (fine, &parsed) {
        return Some(Cell {
            value: *value,
            origin: Origin::Authored(node.pos.into()),
        });
    }
    let (where_zh, shown) = (where_zh(), show(node, source));
    let problem: Option<(String, String)> = match (col.cell_type, &parsed) {
        (_, Err(DecimalError::NotANumber)) => Some((
            format!("单元格“{where_zh}”不是有效的数字：{shown}"),
            format!("the cell is not a valid number: {shown}"),
        )),
        (_, Err(DecimalError::TooLarge)) => Some((
            format!(
                "单元格“{where_zh}”的数字过大：{shown}（整数部分最多 {} 位）",
                crate::decimal::MAX_WHOLE_DIGITS
            ),
            format!(
                "the number is too large: {shown} (at most {} digits before the point)",
                crate::decimal::MAX_WHOLE_DIGITS
            ),
        )),
        (CellType::Decimal, Err(DecimalError::TooManyPlaces(n))) => Some((
            format!("单元格“{where_zh}”有 {n} 位小数，金额最多保留 4 位小数（0.0001 万元 = 1 元）"),
            format!(
                "the amount has {n} decimal places; at most 4 are allowed (0.0001 万元 = 1 yuan)"
            ),
        )),
        (_, Err(DecimalError::TooManyPlaces(_))) => Some((
            format!("单元格“{where_zh}”应为整数，而不是 {shown}"),
            format!("the cell must be a whole number, not {shown}"),
        )),
        (CellType::Decimal, Ok(d)) if d.is_negative() => Some((
            format!("单元格“{where_zh}”的金额不能为负数：{shown}"),
            format!("the amount cannot be negative: {shown}"),
        )),
        (CellType::Count | CellType::Signed, Ok(_)) if text.contains('.') => Some((
            format!("单元格“{where_zh}”应为整数，而不是 {shown}"),
            format!("the cell must be a whole number, not {shown}"),
        )),
        (CellType::Count, Ok(d)) if d.is_negative() => Some((
            format!("单元格“{where_zh}”应为非负整数，而不是 {shown}"),
            format!("the cell must be a whole number of zero or more, not {shown}"),
        )),
        _ => None,
    };
    if let Some((zh, en)) = problem {
        p.push(node.pos, zh, en, None);
        return None;
    }
    parsed.ok().map(|value| Cell {
        value,
        origin: Origin::Authored(node.pos.into()),
    })
}

/// Computes the cells that the author may leave out (`computed` in the schema), using the
/// rules marked `fills`, until nothing changes. Cells the author wrote are never replaced.
fn fill_computed(
    p: &mut Problems,
    schema: &Schema,
    mut tables: Vec<PartialTable>,
) -> Vec<TableData> {
    loop {
        let mut changed = false;
        for rule in schema.rules.iter().filter(|r| r.fills) {
            let Some(key) = rule.table.as_deref() else {
                continue;
            };
            let (Some(table), Some(t), Some(per)) = (
                schema.table(key),
                tables.iter_mut().find(|t| t.key == key),
                rule.per,
            ) else {
                continue;
            };
            let Some((bi, block)) = table.rule_block(rule) else {
                continue;
            };
            let (rows, cols) = (block.leaf_rows_ref(), block.leaf_columns_ref());
            let grid = &mut t.blocks[bi];
            let lines = match per {
                Per::Row => rows.len(),
                Per::Column => cols.len(),
            };
            let index = |t: &crate::schema::Term| match per {
                Per::Row => block.column_position(&t.key),
                Per::Column => block.row_position(&t.key),
            };
            let (Some(target), parts) = (
                rule.left_terms_ref().first().and_then(index),
                rule.right_terms_ref()
                    .iter()
                    .filter_map(|t| index(t).map(|i| (i, t.negative)))
                    .collect::<Vec<_>>(),
            ) else {
                continue;
            };
            for line in 0..lines {
                let at = |grid: &Vec<Vec<Option<Cell>>>, i: usize| match per {
                    Per::Row => grid[line][i],
                    Per::Column => grid[i][line],
                };
                if at(grid, target).is_some() {
                    continue;
                }
                let values: Option<Vec<(Cell, bool)>> = parts
                    .iter()
                    .map(|&(i, neg)| at(grid, i).map(|c| (c, neg)))
                    .collect();
                if let Some(values) = values {
                    let sum = values.iter().fold(Decimal::zero(), |acc, (c, neg)| {
                        if *neg { acc - c.value } else { acc + c.value }
                    });
                    let slot = match per {
                        Per::Row => &mut grid[line][target],
                        Per::Column => &mut grid[target][line],
                    };
                    *slot = Some(Cell {
                        value: sum,
                        origin: Origin::Computed,
                    });
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut out = Vec::new();
    for t in tables {
        let mut blocks = Vec::new();
        let mut complete = true;
        for grid in t.blocks {
            let rows: Option<Vec<Vec<Cell>>> = grid
                .into_iter()
                .map(|row| row.into_iter().collect())
                .collect();
            match rows.and_then(BlockData::from_rows) {
                Some(block) => blocks.push(block),
                None => complete = false,
            }
        }
        if complete {
            out.push(TableData {
                key: t.key,
                pos: t.pos,
                blocks,
            });
        } else {
            p.push(
                t.pos,
                format!(
                    "表格 `{}` 中有总计无法计算：计算它所需的单元格也被省略了",
                    t.key
                ),
                format!(
                    "a total in table `{}` cannot be computed because cells it needs were left out",
                    t.key
                ),
                Some((
                    "填写被省略的总计".into(),
                    "write the totals that were left out".into(),
                )),
            );
        }
    }
    out
}

/// `explanations: [{rule: Y-02, reason: …}]`.
fn parse_explanations(p: &mut Problems, entry: Option<&(Node, Node)>) -> Vec<Explanation> {
    let Some((_, node)) = entry else {
        return Vec::new();
    };
    let NodeKind::Seq(items) = &node.kind else {
        p.push(
            node.pos,
            "explanations 应是列表，每项写 rule（检查项编号）和 reason（原因）".into(),
            "explanations must be a list of {rule, reason}".into(),
            Some((
                "例如：- {rule: Y-02, reason: 机构改革后部分文件划转}".into(),
                "e.g. - {rule: Y-02, reason: documents transferred in a reorganisation}".into(),
            )),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Some(map) = item.as_map() else {
            p.push(
                item.pos,
                "每项说明应写 rule 和 reason".into(),
                "each explanation needs rule and reason".into(),
                None,
            );
            continue;
        };
        let mut rule = None;
        let mut reason = None;
        for (k, v) in map {
            match (k.as_str(), v.as_str()) {
                (Some("rule"), Some(s)) if !s.trim().is_empty() => rule = Some(s.trim().to_owned()),
                (Some("reason"), Some(s)) if !s.trim().is_empty() => {
                    reason = Some(s.trim().to_owned())
                }
                (Some(name @ ("rule" | "reason")), _) => p.push(
                    v.pos,
                    format!("`{name}` 应为非空文本"),
                    format!("`{name}` must be non-empty text"),
                    None,
                ),
                (name, _) => {
                    let name = name.unwrap_or_default();
                    p.push(
                        k.pos,
                        format!("说明中没有 `{name}` 这一项"),
                        format!("an explanation has no `{name}`"),
                        Some(suggest(name, &["rule", "reason"])),
                    );
                }
            }
        }
        match (rule, reason) {
            (Some(rule), Some(reason)) => out.push(Explanation {
                rule,
                reason,
                pos: item.pos,
            }),
            (None, _) => p.push(
                item.pos,
                "说明缺少 rule（检查项编号，如 Y-02）".into(),
                "the explanation has no rule (e.g. Y-02)".into(),
                None,
            ),
            (_, None) => p.push(
                item.pos,
                "说明缺少 reason（原因）".into(),
                "the explanation has no reason".into(),
                None,
            ),
        }
    }
    out
}

/// `revisions: [{date: 2023-02-10, change: …, reason: …}]`, dated on or after publication.
fn parse_revisions(
    p: &mut Problems,
    entry: Option<&(Node, Node)>,
    published: Option<Date>,
) -> Vec<Revision> {
    let Some((_, node)) = entry else {
        return Vec::new();
    };
    let example = (
        "例如：- {date: 2023-02-10, change: 更正表三予以公开的数字, reason: 统计错误}".to_owned(),
        "e.g. - {date: 2023-02-10, change: corrected a figure in table 三, reason: counting error}"
            .to_owned(),
    );
    let NodeKind::Seq(items) = &node.kind else {
        p.push(
            node.pos,
            "revisions 应是列表，每项写 date、change、reason".into(),
            "revisions must be a list of {date, change, reason}".into(),
            Some(example),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Some(map) = item.as_map() else {
            p.push(
                item.pos,
                "每项修订应写 date、change、reason".into(),
                "each revision needs date, change and reason".into(),
                Some(example.clone()),
            );
            continue;
        };
        let (mut date, mut change, mut reason) = (None, None, None);
        for (k, v) in map {
            match k.as_str() {
                Some("date") => match v.as_str().and_then(Date::parse) {
                    Some(d) => {
                        if published.is_some_and(|pd| d < pd) {
                            p.push(
                                v.pos,
                                format!("修订日期 {d} 早于公开日期"),
                                format!("revision date {d} is before the publication date"),
                                None,
                            );
                        }
                        date = Some(d);
                    }
                    None => p.push(
                        v.pos,
                        "修订日期应为 YYYY-MM-DD".into(),
                        "the revision date must be YYYY-MM-DD".into(),
                        None,
                    ),
                },
                Some(name @ ("change" | "reason")) => match v.as_str() {
                    Some(s) if !s.trim().is_empty() => {
                        if name == "change" {
                            change = Some(s.trim().to_owned());
                        } else {
                            reason = Some(s.trim().to_owned());
                        }
                    }
                    _ => p.push(
                        v.pos,
                        format!("`{name}` 应为非空文本"),
                        format!("`{name}` must be non-empty text"),
                        None,
                    ),
                },
                other => {
                    let name = other.unwrap_or_default();
                    p.push(
                        k.pos,
                        format!("修订记录中没有 `{name}` 这一项"),
                        format!("a revision has no `{name}`"),
                        Some(suggest(name, &["date", "change", "reason"])),
                    );
                }
            }
        }
        match (date, change, reason) {
            (Some(date), Some(change), Some(reason)) => out.push(Revision {
                date,
                change,
                reason,
            }),
            _ => p.push(
                item.pos,
                "修订记录需要 date、change、reason 三项".into(),
                "a revision needs date, change and reason".into(),
                Some(example.clone()),
            ),
        }
    }
    out.sort_by_key(|r| r.date);
    out
}
