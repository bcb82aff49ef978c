//! `portalgen import`: turns published reports (text copied from a web page or extracted
//! from a PDF, saved HTML pages, Word .docx files) into portalgen report files, then runs
//! the checks on them.
//!
//! One module per job: the readers ([`text`], [`html`], [`docx`]) turn a file into the
//! same intermediate form ([`doc`]); [`normalize`] reads what reports write (full-width
//! digits, spaced labels, units, placeholders, dates); [`sections`] finds the headings,
//! title, signature and prose; [`tables`] places every row and number against the
//! format's schema; [`write`] writes the file. This module runs them per file, decides
//! whether the file can be written, and summarises.
//!
//! The importer never guesses: what it cannot read for sure stops that file, with the
//! place and the reason; with `--allow-partial` it is written as a placeholder that the
//! build refuses until a person fills it in. Numbers that do not add up are imported as
//! published, and the checks report them.

pub mod doc;
pub mod docx;
pub mod html;
pub mod normalize;
pub mod sections;
pub mod tables;
pub mod text;
pub mod write;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, Error, Lang};
use crate::schema::{Registry, Schema, Severity};
use doc::{Doc, LocUnit, Row};
use tables::{Spec, TableOut};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The file cannot be imported at all.
    Fatal,
    /// Something the importer is not sure of: the file is refused, or with
    /// `--allow-partial` written with a placeholder to fill in.
    Unsure,
    /// Imported, but a person should know (a blank read as 0, a unit converted).
    Warning,
    /// For information (how the format was recognised, a value inferred).
    Note,
}

/// Something the importer has to say about a file, with its place in the file.
#[derive(Debug, Clone)]
pub struct Finding {
    pub level: Level,
    /// Line (paragraph for docx) of the source, when known.
    pub line: Option<usize>,
    pub zh: String,
    pub en: String,
}

impl Finding {
    fn new(level: Level, line: usize, zh: impl Into<String>, en: impl Into<String>) -> Finding {
        Finding {
            level,
            line: (line > 0).then_some(line),
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is neither UTF-8 nor GB18030 text")]
    Encoding,
    #[error("the page declares the character set `{0}`, which is not known")]
    Charset(String),
    #[error("not a Word .docx document: {0}")]
    Docx(String),
}

impl ReadError {
    fn zh(&self) -> String {
        match self {
            ReadError::Io(e) => format!("无法读取文件：{e}"),
            ReadError::Encoding => "文件既不是 UTF-8 也不是 GB18030 编码的文本".into(),
            ReadError::Charset(c) => format!("网页声明的字符集“{c}”无法识别"),
            ReadError::Docx(e) => format!("不是有效的 Word .docx 文档：{e}"),
        }
    }
}

/// What to import and where.
#[derive(Debug, Clone)]
pub struct Options {
    pub files: Vec<PathBuf>,
    /// The agency's id (`agency_id`); required to write a file.
    pub agency: Option<String>,
    /// The report's year, when the file does not say it (or says it wrongly).
    pub year: Option<i32>,
    /// Where report files go: `<out>/<year>/<agency_id>.md`. Default: `<root>/content`.
    pub out: Option<PathBuf>,
    /// The portal (for its own formats in `schemas/`, and the default `out`).
    pub root: PathBuf,
    /// Replace existing report files.
    pub force: bool,
    /// Write what is sure, with placeholders for the rest.
    pub allow_partial: bool,
}

/// How the import of one file ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Imported,
    /// Imported; warnings or check errors to look at.
    Warnings,
    /// Written with placeholders to fill in (`--allow-partial`).
    Partial,
    Refused,
}

/// The import of one file.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub input: PathBuf,
    pub output: Option<PathBuf>,
    pub status: Status,
    pub format: Option<String>,
    pub findings: Vec<Finding>,
    /// The checks run on the written file (model errors, 勾稽 rules).
    pub checks: Vec<Diagnostic>,
    /// Cells read, and cells left to fill in.
    pub cells: usize,
    pub todo: usize,
    /// `agency_kind` when it was inferred from the agency's name.
    pub inferred_kind: Option<&'static str>,
    pub unit: LocUnit,
}

impl Outcome {
    fn new(input: &Path) -> Outcome {
        Outcome {
            input: input.to_owned(),
            output: None,
            status: Status::Refused,
            format: None,
            findings: Vec::new(),
            checks: Vec::new(),
            cells: 0,
            todo: 0,
            inferred_kind: None,
            unit: LocUnit::Line,
        }
    }

    fn fatal(mut self, zh: impl Into<String>, en: impl Into<String>) -> Outcome {
        self.findings.push(Finding::new(Level::Fatal, 0, zh, en));
        self.status = Status::Refused;
        self
    }

    /// Errors found by the checks on the written file.
    pub fn check_errors(&self) -> usize {
        self.checks
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }
}

/// True for an agency id: lowercase ASCII letters, digits and inner hyphens.
pub fn is_agency_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// `agency_kind` from the agency's name: a 乡, 镇 or 街道 is a township; another 人民政府 a
/// government; anything else a department.
pub fn infer_kind(agency: &str) -> &'static str {
    let core = agency
        .trim_end_matches("人民政府")
        .trim_end_matches("办事处");
    if core.ends_with('乡') || core.ends_with('镇') || core.ends_with("街道") {
        "township"
    } else if agency.ends_with("人民政府") {
        "government"
    } else {
        "department"
    }
}

/// Imports every file. `Err` only when the portal's formats cannot be loaded.
pub fn run(opts: &Options) -> Result<Vec<Outcome>, Error> {
    if let Some(id) = &opts.agency
        && !is_agency_id(id)
    {
        return Err(Error::Usage(format!(
            "--agency `{id}`：机关标识只能由小写字母、数字和连字符组成，如 fenyang-gov-office / \
             the agency id may hold only lowercase letters, digits and hyphens, e.g. fenyang-gov-office"
        )));
    }
    let registry = Registry::load(&opts.root.join("schemas"))?;
    let out_dir = opts
        .out
        .clone()
        .unwrap_or_else(|| opts.root.join("content"));
    // The portal's agency registry, when it has one: the kind (and the name, when the
    // report lacks it) come from there instead of being inferred.
    let agencies = crate::agencies::load(&opts.root).map_err(Error::Diagnostics)?;
    let mut written: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    let mut outcomes = Vec::new();
    for file in &opts.files {
        let ctx = Ctx {
            opts,
            registry: &registry,
            agencies: agencies.as_ref(),
            out_dir: &out_dir,
        };
        let outcome = import_one(file, &ctx, &mut written);
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// Reads a file with the reader its name calls for.
pub fn read_file(path: &Path) -> Result<Doc, ReadError> {
    let bytes = std::fs::read(path)?;
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "docx" => docx::read(&bytes),
        "html" | "htm" | "xhtml" | "shtml" => html::read_bytes(&bytes),
        _ => {
            let (text, note) = decode_text(&bytes)?;
            let mut doc = text::read(&text);
            doc.notes.extend(note);
            Ok(doc)
        }
    }
}

/// UTF-8 (with or without BOM), UTF-16 with a BOM, or GB18030 (which Chinese Windows
/// editors save as “ANSI”) when the bytes are valid GB18030 and not valid UTF-8.
fn decode_text(bytes: &[u8]) -> Result<(String, Option<(String, String)>), ReadError> {
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _, bad) = enc.decode(bytes);
        if bad {
            return Err(ReadError::Encoding);
        }
        return Ok((text.into_owned(), None));
    }
    match std::str::from_utf8(bytes) {
        Ok(t) => Ok((t.to_owned(), None)),
        Err(_) => {
            match encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
                Some(t) => Ok((
                    t.into_owned(),
                    Some((
                        "文件不是 UTF-8 编码，已按 GB18030（GBK）读取".into(),
                        "the file is not UTF-8; read as GB18030 (GBK)".into(),
                    )),
                )),
                None => Err(ReadError::Encoding),
            }
        }
    }
}

/// Chooses the format by the labels only its tables have; by the year when no label
/// tells.
fn detect_format<'r>(
    doc: &Doc,
    registry: &'r Registry,
    year: Option<i32>,
    findings: &mut Vec<Finding>,
) -> Option<&'r Schema> {
    let candidates: Vec<&Schema> = registry.all().filter(|s| !s.tables.is_empty()).collect();
    let own = tables::distinguishing_labels(&candidates);
    let cells: Vec<String> = doc
        .rows
        .iter()
        .flat_map(|r| r.texts())
        .map(|c| normalize::label(&c.text))
        .collect();
    let mut hits: Vec<(&Schema, Vec<&str>)> = Vec::new();
    for (schema, labels) in &own {
        let mut found: Vec<&str> = cells
            .iter()
            .filter(|c| labels.contains(*c) || labels.contains(&normalize::split_unit_note(c).0))
            .map(String::as_str)
            .collect();
        found.dedup();
        if !found.is_empty() {
            hits.push((schema, found));
        }
    }
    match hits.as_slice() {
        [(schema, found)] => {
            findings.push(Finding::new(
                Level::Note,
                0,
                format!(
                    "按表格标签识别为格式 {}（{}；如“{}”）",
                    schema.id, schema.name, found[0]
                ),
                format!(
                    "recognised as format {} by its table labels (e.g. “{}”)",
                    schema.id, found[0]
                ),
            ));
            Some(schema)
        }
        [] => {
            let by_year: Vec<&Schema> = candidates
                .iter()
                .copied()
                .filter(|s| year.is_some_and(|y| s.years.contains(y)))
                .collect();
            match (by_year.as_slice(), year) {
                ([s], Some(y)) => {
                    findings.push(Finding::new(
                        Level::Warning,
                        0,
                        format!("表格标签不足以区分格式，按年度 {y} 采用格式 {}", s.id),
                        format!("the table labels do not tell the format; format {} is used for the year {y}", s.id),
                    ));
                    Some(s)
                }
                _ => {
                    findings.push(Finding::new(
                        Level::Fatal,
                        0,
                        "找不到任何格式的表格标签，无法判断报告格式（2021 年版或 2019 年试行版）",
                        "no table label of any format was found; the report's format (2021 or 2019 trial) cannot be told",
                    ));
                    None
                }
            }
        }
        many => {
            let list: Vec<String> = many
                .iter()
                .map(|(s, f)| format!("{}（如“{}”）", s.id, f[0]))
                .collect();
            findings.push(Finding::new(
                Level::Fatal,
                0,
                format!(
                    "表格中同时有几种格式特有的标签：{}，无法确定报告格式",
                    list.join("、")
                ),
                format!(
                    "the tables have labels of several formats: {}; the format cannot be told",
                    list.join(", ")
                ),
            ));
            None
        }
    }
}

/// What every file's import shares.
struct Ctx<'a> {
    opts: &'a Options,
    registry: &'a Registry,
    agencies: Option<&'a crate::agencies::AgencyRegistry>,
    out_dir: &'a Path,
}

fn import_one(file: &Path, ctx: &Ctx, written: &mut BTreeMap<PathBuf, PathBuf>) -> Outcome {
    let (opts, registry, out_dir) = (ctx.opts, ctx.registry, ctx.out_dir);
    let mut o = Outcome::new(file);
    let doc = match read_file(file) {
        Ok(d) => d,
        Err(e) => {
            let en = e.to_string();
            return o.fatal(e.zh(), en);
        }
    };
    o.unit = doc.unit;
    for (zh, en) in &doc.notes {
        o.findings
            .push(Finding::new(Level::Note, 0, zh.clone(), en.clone()));
    }
    if doc.rows.is_empty() {
        return o.fatal("文件中没有文字", "the file holds no text");
    }
    let mut f: Vec<Finding> = Vec::new();

    // The year first (it may decide the format), from --year or the title.
    let prelim_heads_end = doc.rows.len().min(40);
    let all_inside = vec![true; doc.rows.len()];
    let prelim_title = sections::title(&doc, prelim_heads_end, &all_inside);
    let Some(schema) = detect_format(&doc, registry, opts.year.or(prelim_title.year), &mut f)
    else {
        o.findings.extend(f);
        return o;
    };
    o.format = Some(schema.id.clone());

    let heads = sections::headings(&doc, schema);
    if heads.is_empty() {
        o.findings.extend(f);
        return o.fatal(
            "找不到任何章节标题（如“一、总体情况”），无法按年度报告的结构读取",
            "no section heading (such as “一、总体情况”) was found; the file cannot be read as an annual report",
        );
    }
    let inside = sections::in_content(&doc, &heads);
    let title = sections::title(&doc, heads[0].row, &inside);
    let last_head = heads.last().map_or(0, |h| h.row);
    let sig = sections::signature(&doc, last_head, &inside);

    // Year.
    let year = match (opts.year, title.year) {
        (Some(y), Some(t)) if y != t => {
            f.push(Finding::new(
                Level::Warning,
                title.line,
                format!("标题中的年度是 {t}，按 --year 采用 {y}"),
                format!("the title says {t}; --year {y} is used"),
            ));
            Some(y)
        }
        (Some(y), _) => Some(y),
        (None, t) => t,
    };
    let Some(year) = year else {
        o.findings.extend(f);
        return o.fatal(
            "找不到报告年度（标题中没有“某年”），请用 --year 指定",
            "the report's year is not in its title; give it with --year",
        );
    };
    if !schema.years.contains(year) {
        f.push(Finding::new(
            Level::Warning,
            0,
            format!("{year} 年度的报告按标签识别为格式 {}，该格式适用于其他年度；请核对", schema.id),
            format!("the {year} report has the labels of format {}, which is meant for other years; please check", schema.id),
        ));
    }

    // Agency and its kind.
    let agency = match (&title.agency, &sig.agency) {
        (Some(t), Some(s)) if t != s => {
            f.push(Finding::new(
                Level::Note,
                sig.line.saturating_sub(1),
                format!("落款机关“{s}”与标题中的“{t}”不同，采用标题中的名称"),
                format!("the signature names “{s}”, the title “{t}”; the title's name is used"),
            ));
            Some(t.clone())
        }
        (Some(t), _) => Some(t.clone()),
        (None, Some(s)) => Some(s.clone()),
        (None, None) => {
            f.push(Finding::new(
                Level::Unsure,
                title.line,
                "找不到机关名称（标题和落款中都没有）",
                "the agency's name is neither in the title nor in the signature",
            ));
            None
        }
    };
    let listed = opts
        .agency
        .as_deref()
        .and_then(|id| ctx.agencies.and_then(|r| r.get(id)));
    let (agency, kind) = match listed {
        Some(a) => {
            match &agency {
                Some(name) if !a.names_in(year).contains(&name.as_str()) => {
                    f.push(Finding::new(
                        Level::Warning,
                        title.line,
                        format!(
                            "报告中的机关名称“{name}”不是机关名录中 {} 在 {year} 年的名称“{}”，请核对 --agency",
                            a.id,
                            a.name_in(year)
                        ),
                        format!(
                            "the report names “{name}”, which is not the registry's name of {} in {year} (“{}”); check --agency",
                            a.id,
                            a.name_in(year)
                        ),
                    ));
                }
                None => {
                    f.retain(|x| !(x.level == Level::Unsure && x.zh.starts_with("找不到机关名称")))
                }
                Some(_) => {}
            }
            let name = agency.unwrap_or_else(|| a.name_in(year).to_owned());
            (Some(name), Some(a.kind.key()))
        }
        None => {
            let kind = agency.as_deref().map(infer_kind);
            o.inferred_kind = kind;
            (agency, kind)
        }
    };

    // Publication date: the signature's date, else a date the page states.
    let published = match sig.date {
        Some(d) => Some(d),
        None => match sections::stated_date(&doc) {
            Some((d, line)) => {
                f.push(Finding::new(
                    Level::Note,
                    line,
                    format!("报告末尾没有落款日期，采用页面标明的日期 {d}"),
                    format!("no date under the report; the date the page states, {d}, is used"),
                ));
                Some(d)
            }
            None => {
                f.push(Finding::new(
                    Level::Unsure,
                    doc.rows.last().map_or(0, |r| r.line),
                    "找不到公开日期（报告末尾的落款日期）",
                    "the publication date (under the signature) is not there",
                ));
                None
            }
        },
    };
    if let Some(d) = published
        && d.year < year
    {
        f.push(Finding::new(
            Level::Warning,
            sig.line,
            format!("公开日期 {d} 早于报告年度 {year} 结束，请核对"),
            format!("the publication date {d} is before the end of the report's year {year}; please check"),
        ));
    }

    // Sections, tables and prose.
    for (i, sec) in schema.sections.iter().enumerate() {
        if heads.iter().all(|h| h.index != i) && sec.table.is_none() {
            f.push(Finding::new(
                Level::Warning,
                0,
                format!("找不到第{}部分（{}）的标题", sec.ordinal, sec.title),
                format!(
                    "the heading of section {} ({}) is not there",
                    sec.ordinal, sec.title_en
                ),
            ));
        }
    }
    let section_rows = |h: usize| -> Vec<usize> {
        let start = heads[h].row + 1;
        let end = heads.get(h + 1).map_or(doc.rows.len(), |n| n.row);
        (start..end).filter(|&i| inside[i]).collect()
    };
    let mut outs: Vec<TableOut> = Vec::new();
    let mut regions: BTreeMap<usize, (String, usize, usize)> = BTreeMap::new();
    for table in &schema.tables {
        let spec = Spec::new(table);
        let h = heads.iter().position(|h| h.ordinal == table.section);
        let (rows_idx, heading_line) = match h {
            Some(h) => (section_rows(h), heads[h].line),
            None => {
                f.push(Finding::new(
                    Level::Unsure,
                    0,
                    format!(
                        "找不到第{}部分的标题，无法找到{}表",
                        table.section, table.caption
                    ),
                    format!(
                        "the heading of section {} is not there, so its table cannot be found",
                        table.section
                    ),
                ));
                (Vec::new(), 0)
            }
        };
        let rows: Vec<&Row> = rows_idx.iter().map(|&i| &doc.rows[i]).collect();
        let (out, region) = tables::read_table(&spec, &rows, heading_line, &mut f);
        if let (Some(h), Some((a, b))) = (h, region) {
            regions.insert(h, (table.key.clone(), a, b));
        }
        outs.push(out);
    }
    let mut body: Vec<String> = Vec::new();
    let pre_from = title.rows.last().map_or(0, |r| r + 1);
    let dropped = (0..pre_from.min(heads[0].row))
        .filter(|&i| inside[i] && !title.rows.contains(&i))
        .count();
    if dropped > 0 && !title.rows.is_empty() {
        f.push(Finding::new(
            Level::Note,
            doc.rows[0].line,
            format!("标题之前的 {dropped} 行不属于报告，未导入"),
            format!(
                "{dropped} line(s) before the title are not part of the report and were left out"
            ),
        ));
    }
    let pre: Vec<&Row> = (pre_from..heads[0].row)
        .filter(|&i| inside[i])
        .map(|i| &doc.rows[i])
        .collect();
    body.extend(sections::paragraphs(&pre));
    for (h, head) in heads.iter().enumerate() {
        body.push(format!("## {}", head.text));
        let idx = section_rows(h);
        let rows: Vec<&Row> = idx.iter().map(|&i| &doc.rows[i]).collect();
        match regions.get(&h) {
            Some((key, a, b)) => {
                body.extend(sections::paragraphs(&rows[..*a]));
                if b + 1 < rows.len() {
                    body.push(format!("{{{{ table {key} }}}}"));
                    body.extend(sections::paragraphs(&rows[b + 1..]));
                }
            }
            None => body.extend(sections::paragraphs(&rows)),
        }
    }
    let body = format!("{}\n", body.join("\n\n"));

    o.cells = outs.iter().map(TableOut::value_cells).sum();
    o.todo = outs.iter().map(TableOut::todo_cells).sum();
    o.findings.extend(f);

    let Some(agency_id) = opts.agency.clone() else {
        let found = agency.as_deref().unwrap_or("（未找到）");
        return o.fatal(
            format!("请用 --agency 指定机关标识（小写字母、数字和连字符，如 fenyang-gov-office）；本文件的机关是“{found}”"),
            format!("give the agency's id with --agency (lowercase letters, digits, hyphens, e.g. fenyang-gov-office); this file's agency is “{found}”"),
        );
    };
    let unsure = o
        .findings
        .iter()
        .filter(|x| x.level == Level::Unsure)
        .count();
    if o.findings.iter().any(|x| x.level == Level::Fatal) {
        o.status = Status::Refused;
        return o;
    }
    if unsure > 0 && !opts.allow_partial {
        o.status = Status::Refused;
        return o;
    }

    let path = out_dir
        .join(year.to_string())
        .join(format!("{agency_id}.md"));
    if let Some(first) = written.get(&path) {
        return o.fatal(
            format!(
                "{} 已由本次导入的 {} 写入；同一机关同一年度只能有一份报告",
                path.display(),
                first.display()
            ),
            format!(
                "{} was already written from {} in this run; an agency has one report a year",
                path.display(),
                first.display()
            ),
        );
    }
    if path.exists() && !opts.force {
        return o.fatal(
            format!("{} 已存在，未覆盖；确需替换请加 --force", path.display()),
            format!(
                "{} exists and was not overwritten; add --force to replace it",
                path.display()
            ),
        );
    }
    let meta = write::Meta {
        format: schema.id.clone(),
        title: title.text.clone(),
        agency,
        agency_id,
        agency_kind: kind,
        year,
        published,
    };
    let text = write::report(&meta, schema, &outs, &body);
    if let Err(e) = write_file(&path, &text, opts.force) {
        return o.fatal(
            format!("无法写入 {}：{e}", path.display()),
            format!("cannot write {}: {e}", path.display()),
        );
    }
    written.insert(path.clone(), file.to_owned());
    o.output = Some(path.clone());
    let previous = out_dir
        .join((year - 1).to_string())
        .join(format!("{}.md", meta.agency_id));
    // Messages name the file relative to the portal, or to the folder above `--out`.
    let base = if path.starts_with(&opts.root) {
        opts.root.clone()
    } else {
        out_dir
            .parent()
            .map_or_else(|| opts.root.clone(), Path::to_path_buf)
    };
    o.checks = check_written(&base, &path, &previous, registry, ctx.agencies);
    let metadata_todo = meta_todo(&meta);
    o.status = if o.todo > 0 || metadata_todo {
        Status::Partial
    } else if o.findings.iter().any(|x| x.level <= Level::Warning) || o.check_errors() > 0 {
        Status::Warnings
    } else {
        Status::Imported
    };
    o
}

fn meta_todo(meta: &write::Meta) -> bool {
    meta.agency.is_none() || meta.agency_kind.is_none() || meta.published.is_none()
}

/// Writes the file; without `force`, only if it does not exist yet (checked atomically).
fn write_file(path: &Path, text: &str, force: bool) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = if force {
        std::fs::File::create(path)?
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?
    };
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Reads the written file back as the build would, and runs the format's checks on it:
/// with the agency's report for the year before, when there is one next to it, so that
/// the cross-year rules run too.
fn check_written(
    root: &Path,
    path: &Path,
    previous: &Path,
    registry: &Registry,
    agencies: Option<&crate::agencies::AgencyRegistry>,
) -> Vec<Diagnostic> {
    let me = match crate::load::read_report(root, path) {
        Ok(s) => s,
        Err(d) => return vec![*d],
    };
    let rel = me.rel.clone();
    let prev = previous
        .exists()
        .then(|| crate::load::read_report(root, previous).ok())
        .flatten();
    let run = |sources: Vec<crate::load::SourceFile>| match crate::model::build_library_with(
        sources,
        registry,
        agencies.cloned(),
    ) {
        Ok(lib) => Ok(crate::check::check_library(&lib, registry)
            .into_iter()
            .zip(&lib.reports)
            .filter(|(_, r)| r.file == rel)
            .flat_map(|(c, _)| c.diagnostics)
            .collect::<Vec<_>>()),
        Err(problems) => Err(problems),
    };
    if let Some(prev) = prev
        && let Ok(d) = run(vec![prev, me.clone()])
    {
        return d;
    }
    run(vec![me]).unwrap_or_else(|problems| problems)
}

fn where_(o: &Outcome, line: Option<usize>) -> String {
    match (line, o.unit) {
        (Some(l), LocUnit::Line) => format!("{}:{l}", o.input.display()),
        (Some(l), LocUnit::Paragraph) => format!("{}:¶{l}", o.input.display()),
        (None, _) => o.input.display().to_string(),
    }
}

/// Every finding and check diagnostic of every file, for a person to read.
pub fn render_details(outcomes: &[Outcome], lang: Lang, partial: bool) -> String {
    let mut out = String::new();
    for o in outcomes {
        let mut findings = o.findings.clone();
        findings.sort_by_key(|f| (f.level, f.line));
        for f in &findings {
            let level = match (f.level, lang, partial) {
                (Level::Fatal, Lang::Zh, _) => "错误",
                (Level::Fatal, Lang::En, _) => "error",
                (Level::Unsure, Lang::Zh, true) if o.output.is_some() => "待填写",
                (Level::Unsure, Lang::En, true) if o.output.is_some() => "to fill in",
                (Level::Unsure, Lang::Zh, _) => "错误",
                (Level::Unsure, Lang::En, _) => "error",
                (Level::Warning, Lang::Zh, _) => "警告",
                (Level::Warning, Lang::En, _) => "warning",
                (Level::Note, Lang::Zh, _) => "提示",
                (Level::Note, Lang::En, _) => "note",
            };
            let msg = if lang == Lang::Zh { &f.zh } else { &f.en };
            let _ = writeln!(out, "{level}: {msg}\n  --> {}", where_(o, f.line));
        }
        for d in &o.checks {
            out.push_str(&d.render(lang));
        }
    }
    out
}

/// One summary line per file, and a total.
pub fn render_summary(outcomes: &[Outcome], lang: Lang) -> String {
    let mut out = String::new();
    let zh = lang == Lang::Zh;
    for o in outcomes {
        let input = o.input.display();
        let output = o
            .output
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let warnings = o
            .findings
            .iter()
            .filter(|f| f.level == Level::Warning)
            .count();
        let checks = o.check_errors();
        let mut extra: Vec<String> = Vec::new();
        if let Some(fmt) = &o.format {
            extra.push(fmt.clone());
        }
        if o.output.is_some() {
            extra.push(if zh {
                format!("{} 个单元格", o.cells)
            } else {
                format!("{} cells", o.cells)
            });
            if o.todo > 0 {
                extra.push(if zh {
                    format!("{} 个单元格待填写（TODO 待填写）", o.todo)
                } else {
                    format!("{} cells to fill in (TODO 待填写)", o.todo)
                });
            }
            if warnings > 0 {
                extra.push(if zh {
                    format!("{warnings} 个警告")
                } else {
                    format!("{warnings} warning(s)")
                });
            }
            if o.status != Status::Partial && checks > 0 {
                extra.push(if zh {
                    format!("照原样导入，勾稽检查发现 {checks} 个错误")
                } else {
                    format!("imported as published; the checks found {checks} error(s)")
                });
            }
            if let Some(k) = o.inferred_kind {
                extra.push(if zh {
                    format!("机关类型 agency_kind: {k} 系根据机关名称推断")
                } else {
                    format!("agency_kind {k} inferred from the agency's name")
                });
            }
        }
        let line = match o.status {
            Status::Refused => {
                let reasons: Vec<String> = o
                    .findings
                    .iter()
                    .filter(|f| f.level <= Level::Unsure)
                    .take(3)
                    .map(|f| {
                        let msg = if zh { &f.zh } else { &f.en };
                        format!("{msg}（{}）", where_(o, f.line))
                    })
                    .collect();
                let more = o
                    .findings
                    .iter()
                    .filter(|f| f.level <= Level::Unsure)
                    .count()
                    .saturating_sub(3);
                let mut r = reasons.join("；");
                if more > 0 {
                    let _ = write!(
                        r,
                        "{}",
                        if zh {
                            format!("；另有 {more} 处")
                        } else {
                            format!("; and {more} more")
                        }
                    );
                }
                if zh {
                    format!("拒绝导入  {input}：{r}")
                } else {
                    format!("refused: {input}: {r}")
                }
            }
            s => {
                let word = match (s, zh) {
                    (Status::Imported, true) => "已导入",
                    (Status::Imported, false) => "imported",
                    (Status::Warnings, true) => "已导入（有警告）",
                    (Status::Warnings, false) => "imported with warnings",
                    (Status::Partial, true) => "部分导入",
                    (_, false) => "imported in part",
                    (_, true) => "部分导入",
                };
                if zh {
                    format!("{word}  {input} → {output}（{}）", extra.join("；"))
                } else {
                    format!("{word}: {input} -> {output} ({})", extra.join("; "))
                }
            }
        };
        let _ = writeln!(out, "{line}");
    }
    let count = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
    let (ok, warn, part, refused) = (
        count(Status::Imported),
        count(Status::Warnings),
        count(Status::Partial),
        count(Status::Refused),
    );
    let _ = if zh {
        writeln!(
            out,
            "共 {} 个文件：{ok} 个已导入，{warn} 个已导入但有警告，{part} 个部分导入，{refused} 个拒绝导入。",
            outcomes.len()
        )
    } else {
        writeln!(
            out,
            "{} file(s): {ok} imported, {warn} imported with warnings, {part} imported in part, {refused} refused.",
            outcomes.len()
        )
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_kind_from_the_name() {
        assert_eq!(infer_kind("汾阳市人民政府"), "government");
        assert_eq!(infer_kind("汾阳市贾家庄镇人民政府"), "township");
        assert_eq!(infer_kind("汾阳市文峰街道办事处"), "township");
        assert_eq!(infer_kind("某某乡人民政府"), "township");
        assert_eq!(infer_kind("汾阳市人民政府办公室"), "department");
        assert_eq!(infer_kind("汾阳市教育局"), "department");
    }

    #[test]
    fn agency_ids_are_slugs() {
        assert!(is_agency_id("fenyang-gov-office"));
        assert!(!is_agency_id("Fenyang") && !is_agency_id("-a") && !is_agency_id("汾阳"));
    }

    #[test]
    fn gb18030_text_is_read_with_a_note() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("一、总体情况");
        let (text, note) = decode_text(&bytes).expect("decodes");
        assert_eq!(text, "一、总体情况");
        assert!(note.is_some());
        assert!(
            decode_text("一、总体情况".as_bytes())
                .expect("utf8")
                .1
                .is_none()
        );
    }
}
