//! `portalgen new`: the next report's file, written from the format's schema.
//!
//! Every table is in place with zeros and each row's official label as a comment; the
//! cells that cross-year rules tie to last year's report (上年结转 = last year's 结转下年度,
//! 现行有效 rolled forward) are pre-filled from it; the body has the format's section
//! headings with 【请填写】 markers, which the placeholder check flags until replaced.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::decimal::Decimal;
use crate::error::Error;
use crate::model::{AgencyKind, Report};
use crate::schema::{Layout, Per, Registry, RuleKind, Schema};
use crate::{load, model};

/// What to scaffold.
#[derive(Debug, Clone)]
pub struct NewOptions {
    pub root: PathBuf,
    pub agency_id: String,
    pub year: i32,
    /// Needed when the agency has no earlier report.
    pub agency_name: Option<String>,
    pub agency_kind: Option<String>,
    /// Format id; by default the built-in format for the year.
    pub format: Option<String>,
}

/// Writes `content/<year>/<agency>.md` and returns its path. Refuses to overwrite.
pub fn new_report(opts: &NewOptions) -> Result<PathBuf, Error> {
    let root = &opts.root;
    let registry = Registry::load(&root.join("schemas"))?;
    let schema = match &opts.format {
        Some(id) => registry.get(id).ok_or_else(|| {
            Error::Usage(format!(
                "错误：未知的报告格式 {id}（可用：{}）\nerror: unknown format {id}",
                registry.ids().collect::<Vec<_>>().join("、")
            ))
        })?,
        None => crate::schema::BUILTIN
            .iter()
            .filter_map(|(name, _)| registry.get(name.trim_end_matches(".yaml")))
            .find(|s| s.years.contains(opts.year))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "错误：没有适用于 {} 年的报告格式\nerror: no format for {}",
                    opts.year, opts.year
                ))
            })?,
    };

    // Every report of the agency that reads cleanly; other files' problems are not ours.
    let agencies = crate::agencies::load(root).map_err(Error::Diagnostics)?;
    let mut reports: Vec<Report> = Vec::new();
    for path in load::find_reports(root, &root.join("content"))? {
        if let Ok(src) = load::read_report(root, &path)
            && let Ok(lib) = model::build_library_with(vec![src], &registry, agencies.clone())
        {
            reports.extend(
                lib.reports
                    .into_iter()
                    .filter(|r| r.agency_id == opts.agency_id),
            );
        }
    }
    if let Some(existing) = reports.iter().find(|r| r.year == opts.year) {
        return Err(Error::Usage(format!(
            "错误：{} 的 {} 年度报告已存在：{}，不会覆盖。\nerror: the {} report of {} already exists: {}; not overwriting it.",
            opts.agency_id, opts.year, existing.file, opts.year, opts.agency_id, existing.file
        )));
    }
    let path = root
        .join("content")
        .join(opts.year.to_string())
        .join(format!("{}.md", opts.agency_id));
    if path.exists() {
        return Err(Error::Usage(format!(
            "错误：{} 已存在，不会覆盖。\nerror: {} already exists; not overwriting it.",
            path.display(),
            path.display()
        )));
    }
    let previous = reports.iter().find(|r| r.year == opts.year - 1);
    let latest = reports.iter().max_by_key(|r| r.year);
    // The registry, when the portal has one, knows the agency's name and kind.
    let known = agencies.as_ref().and_then(|a| a.get(&opts.agency_id));
    let name = opts
        .agency_name
        .clone()
        .or_else(|| known.map(|a| a.name.clone()))
        .or_else(|| latest.map(|r| r.agency.clone()))
        .ok_or_else(|| {
        Error::Usage(format!(
            "错误：{} 还没有报告，请用 --name 给出机关全称、--kind 给出机关类别\nerror: {} has no report yet; give --name and --kind",
            opts.agency_id, opts.agency_id
        ))
    })?;
    let kind = match (&opts.agency_kind, known, latest) {
        (Some(k), _, _) => k.clone(),
        (None, Some(a), _) => a.kind.key().to_owned(),
        (None, None, Some(r)) => r.agency_kind.key().to_owned(),
        (None, None, None) => {
            return Err(Error::Usage(
                "错误：请用 --kind 给出机关类别（government、department、township、other）\nerror: give --kind (government, department, township or other)".into(),
            ));
        }
    };
    if !AgencyKind::ALL.iter().any(|k| k.key() == kind) {
        return Err(Error::Usage(format!(
            "错误：--kind 应为 government、department、township 或 other，而不是 {kind}\nerror: --kind must be government, department, township or other"
        )));
    }
    // A registry without this agency gets it appended (the file is only added to).
    if agencies.is_some() && known.is_none() {
        let reg = root.join(crate::agencies::FILE);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&reg)
            .map_err(|e| Error::io(&reg, e))?;
        let entry = format!("\n{}:\n  name: {name}\n  kind: {kind}\n", opts.agency_id);
        std::io::Write::write_all(&mut f, entry.as_bytes()).map_err(|e| Error::io(&reg, e))?;
    }
    let text = render_new(schema, &registry, opts, &name, &kind, previous);
    let dir = path.parent().unwrap_or(root);
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    // create_new: never clobber a file that appeared since the check above.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}

/// The deadline the format's deadline rule gives for this kind, as YYYY-MM-DD.
fn deadline(schema: &Schema, kind: &str, year: i32) -> Option<String> {
    schema
        .rules
        .iter()
        .filter(|r| r.kind == RuleKind::Deadline)
        .find_map(|r| r.deadlines.get(kind))
        .map(|mmdd| format!("{}-{mmdd}", year + 1))
}

/// The value a cross-year rule gives a cell of the new report, when this year's other
/// terms are zero: e.g. carried_in = previous.carried_out; in_force = previous.in_force.
fn carried(
    schema: &Schema,
    previous: Option<&Report>,
    registry: &Registry,
    table: &str,
    row: &str,
    col: &str,
) -> Option<Decimal> {
    let prev = previous?;
    let prev_schema = registry.get(&prev.format)?;
    for rule in schema.rules.iter().filter(|r| {
        r.kind == RuleKind::Sum && r.is_cross_year() && r.table.as_deref() == Some(table)
    }) {
        let left = rule.left_terms();
        let [target] = left.as_slice() else { continue };
        let (line_key, target_key) = match rule.per? {
            Per::Row => (row, col),
            Per::Column => (col, row),
        };
        if target.previous || target.key != target_key {
            continue;
        }
        if !rule.only.is_empty() && !rule.only.iter().any(|o| o == line_key) {
            continue;
        }
        let mut sum = Decimal::zero();
        for t in rule.right_terms().iter().filter(|t| t.previous) {
            let (r, c) = match rule.per? {
                Per::Row => (row, t.key.as_str()),
                Per::Column => (t.key.as_str(), col),
            };
            let pt = prev_schema.table(table)?;
            let (b, ri, ci) = pt.locate(r, c)?;
            let v = prev.table(table)?.blocks.get(b)?.get(ri, ci)?.value;
            sum = if t.negative { sum - v } else { sum + v };
        }
        return Some(sum);
    }
    None
}

fn render_new(
    schema: &Schema,
    registry: &Registry,
    opts: &NewOptions,
    name: &str,
    kind: &str,
    previous: Option<&Report>,
) -> String {
    let mut out = String::from("---\n");
    let _ = writeln!(
        out,
        "format: {}                 # {}",
        schema.id, schema.name
    );
    let _ = writeln!(out, "agency: {name}");
    let _ = writeln!(out, "agency_id: {}", opts.agency_id);
    let _ = writeln!(out, "agency_kind: {kind}");
    let _ = writeln!(out, "year: {}", opts.year);
    match deadline(schema, kind, opts.year) {
        Some(d) => {
            let _ = writeln!(
                out,
                "published: {d}            # 请改为实际公开日期；法定期限 {d}"
            );
        }
        None => {
            let _ = writeln!(
                out,
                "published: {}-01-31            # 请改为实际公开日期",
                opts.year + 1
            );
        }
    }
    if let Some(p) = previous {
        let _ = writeln!(
            out,
            "# 上年结转、现行有效等项已按上一年度报告 {} 预填。",
            p.file
        );
    }
    for table in &schema.tables {
        let _ = writeln!(
            out,
            "{}:   # {}、{}",
            table.key, table.section, table.caption
        );
        let width = table
            .blocks
            .iter()
            .flat_map(|b| b.leaf_rows())
            .map(|r| r.key.len())
            .max()
            .unwrap_or(0)
            + 1;
        for block in &table.blocks {
            let cols = block.leaf_columns();
            let rows = block.leaf_rows();
            let as_list = table.layout == Layout::Grid && cols.len() > 3;
            if as_list {
                let labels: Vec<&str> = cols.iter().map(|c| c.label.as_str()).collect();
                let _ = writeln!(out, "  # 每行按列顺序：{}", labels.join("、"));
            }
            for row in &rows {
                let values: Vec<String> = cols
                    .iter()
                    .map(|c| {
                        carried(schema, previous, registry, &table.key, &row.key, &c.key)
                            .map_or("0".to_owned(), |v| v.to_string())
                    })
                    .collect();
                let label = match &block.caption {
                    Some(cap) => format!("{cap} · {}", row.path.join(" · ")),
                    None => row.path.join(" · "),
                };
                let value = if as_list {
                    format!("[{}]", values.join(", "))
                } else {
                    let pairs: Vec<String> = cols
                        .iter()
                        .zip(&values)
                        .map(|(c, v)| format!("{}: {v}", c.key))
                        .collect();
                    format!("{{{}}}", pairs.join(", "))
                };
                let _ = writeln!(
                    out,
                    "  {:<width$} {value}   # {label}",
                    format!("{}:", row.key)
                );
            }
        }
    }
    out.push_str("---\n");
    for s in &schema.sections {
        let _ = writeln!(out, "## {}、{}\n", s.ordinal, s.title);
        if s.table.is_none() {
            let _ = writeln!(out, "【请填写：{}】\n", s.title);
        }
    }
    if schema.sections.is_empty() {
        out.push_str("【请填写报告正文】\n\n");
    }
    let _ = writeln!(out, "{name}\n");
    out
}

/// The path the CLI prints, relative to the root when possible.
pub fn display(root: &Path, path: &Path) -> String {
    load::rel_path(root, path)
}

/// The settings file `portalgen init` writes: every setting, commented.
fn portal_yaml(title: &str, theme: &str) -> String {
    format!(
        r##"# portalgen portal settings. Every setting is listed; the commented ones show their default.

# The portal's name, shown on every page (required).
title: {title}

# A line under the title on the home page.
# description: 本门户集中公开本地区各机关的政府信息公开工作年度报告。

# Language of the pages and messages: zh-CN or en.
language: zh-CN

# The address where the site is published. Pages always link relatively and work from
# any folder; this is only used for the feed and sitemap.xml (skipped without it).
# base_url: https://www.example.gov.cn/xxgk/ndbg/

# The theme: a folder under themes/, or a built-in theme ({builtin}).
theme: {theme}

# Values for the theme's settings (see its theme.yaml; `portalgen theme eject` copies it).
# theme_settings:
#   logo: static/emblem.svg       # put the file in static/ next to content/
#   logo_alt: 某某市人民政府
#   accent: "#9b1c1c"
#   footer: 主办单位：某某市人民政府办公室
#   links:
#     - {{title: 中国政府网, url: "https://www.gov.cn/"}}

# Keep raw HTML written in report bodies (default false: it is shown as text).
# allow_html: false

# Minify the HTML pages (default true).
# minify: true

# Repeat the table, row and column labels on every line of each report's data.csv
# (default false: the lines hold keys, and schemas/<format>.cells.csv gives their labels).
# csv_labels: false
"##,
        builtin = crate::theme::builtin_names().join(", ")
    )
}

const AGENCIES_YAML: &str = r##"# The agency registry: every agency that publishes reports on this portal, by a stable
# id (lowercase letters, digits, hyphens). Reports refer to it with `agency_id`.
#
# some-agency-id:
#   name: 某某市人民政府办公室
#   kind: department            # government | department | township | other
#   parent: some-government-id  # optional
#   former_names:               # optional: earlier names, so the history stays one
#     - {name: 某某市人民政府办公厅, until: 2019}
#   merged_into: other-id       # optional, with merged_on: YYYY-MM-DD
"##;

/// `portalgen init DIR`: a new portal that builds at once. Refuses to write over one.
pub fn init(dir: &Path, title: &str, theme: &str) -> Result<Vec<PathBuf>, Error> {
    if !crate::theme::builtin_names().contains(&theme) && !dir.join("themes").join(theme).is_dir() {
        return Err(Error::Usage(format!(
            "错误：没有名为 {theme} 的主题（内置主题：{}）\nerror: no theme named {theme} (built-in: {})",
            crate::theme::builtin_names().join("、"),
            crate::theme::builtin_names().join(", ")
        )));
    }
    let settings = dir.join(crate::config::FILE_NAME);
    if settings.exists() {
        return Err(Error::Usage(format!(
            "错误：{} 已存在：这里已经是一个门户，不会覆盖。\nerror: {} exists: this is already a portal; not overwriting it.",
            settings.display(),
            settings.display()
        )));
    }
    let content = dir.join("content");
    std::fs::create_dir_all(&content).map_err(|e| Error::io(&content, e))?;
    let mut written = Vec::new();
    for (path, text) in [
        (settings, portal_yaml(title, theme)),
        (content.join("agencies.yaml"), AGENCIES_YAML.to_owned()),
    ] {
        if path.exists() {
            continue;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        std::io::Write::write_all(&mut f, text.as_bytes()).map_err(|e| Error::io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}
