//! Check stage: the rules of each report's format, applied to the library.
//!
//! Each rule *kind* is implemented once here; the rules themselves (which cells, which
//! patterns, which severity, which message) are data in the format's schema file. A
//! diagnostic points at the cell or word the author wrote, names the official labels, and
//! shows what was expected and why. A report may explain a warning in its front matter;
//! the warning is then shown as explained instead of raised. Errors cannot be explained away.

use std::collections::{BTreeMap, HashMap};

use regex::Regex;
use serde::Serialize;

use crate::decimal::Decimal;
use crate::error::Diagnostic;
use crate::model::{AgencyKind, Cell, Library, Origin, Report, TableData};
use crate::schema::{Per, Registry, Rule, RuleKind, Schema, Severity, Table, Term};
use crate::yaml::Pos;

/// The outcome of checking one report.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ReportChecks {
    /// Problems still raised (errors, warnings, notes), in rule order.
    pub diagnostics: Vec<Diagnostic>,
    /// Warnings the report explains, with the author's reason.
    pub explained: Vec<Explained>,
    /// Rules that were applied and found nothing.
    pub passed: Vec<RuleRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Explained {
    pub rule: String,
    pub reason: String,
    pub message: String,
    pub message_en: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleRef {
    pub id: String,
    pub message: String,
    pub message_en: String,
}

impl ReportChecks {
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }
    pub fn warnings(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }
}

/// Checks every report; the result is in the library's report order.
pub fn check_library(lib: &Library, registry: &Registry) -> Vec<ReportChecks> {
    use rayon::prelude::*;
    let by_key: HashMap<(&str, i32), &Report> = lib
        .reports
        .iter()
        .map(|r| (r.agency_id.as_str(), r.year))
        .zip(&lib.reports)
        .collect();
    let compiled = Compiled::new(registry);
    lib.reports
        .par_iter()
        .map(|r| {
            let previous = by_key.get(&(r.agency_id.as_str(), r.year - 1)).copied();
            match registry.get(&r.format) {
                Some(schema) => check_report(r, previous, schema, registry, &compiled),
                None => ReportChecks::default(),
            }
        })
        .collect()
}

/// Every pattern of every rule, compiled. The patterns live with their rules (compiled
/// on first use); this compiles them all up front, before the per-report work starts.
pub struct Compiled {
    _private: (),
}

impl Compiled {
    pub fn new(registry: &Registry) -> Compiled {
        for schema in registry.all() {
            for rule in &schema.rules {
                rule.regexes();
                rule.is_cross_year();
            }
        }
        Compiled { _private: () }
    }

    fn get<'a>(&self, _schema: &Schema, rule: &'a Rule) -> &'a [Regex] {
        rule.regexes()
    }
}

/// Checks one report against its format's rules. `previous` is the same agency's report
/// for the year before, if there is one.
pub fn check_report(
    report: &Report,
    previous: Option<&Report>,
    schema: &Schema,
    registry: &Registry,
    compiled: &Compiled,
) -> ReportChecks {
    let prose = Prose::of(report);
    let mut raised: Vec<Diagnostic> = Vec::new();
    let mut passed = Vec::new();
    for rule in &schema.rules {
        let before = raised.len();
        let applied = match rule.kind {
            RuleKind::Sum => check_sum(report, previous, schema, registry, rule, &mut raised),
            // Cell types are enforced while loading; a bad cell never reaches this stage.
            RuleKind::Types => true,
            RuleKind::TextNumber => {
                check_text_number(report, &prose, schema, rule, compiled, &mut raised)
            }
            RuleKind::StaleYear => check_stale_year(report, &prose, rule, &mut raised),
            RuleKind::DuplicateText => check_duplicates(report, &prose, rule, &mut raised),
            RuleKind::Placeholder => {
                check_placeholders(report, &prose, schema, rule, compiled, &mut raised)
            }
            RuleKind::Deadline => check_deadline(report, rule, &mut raised),
        };
        for d in &mut raised[before..] {
            d.rule = Some(rule.id.clone());
            d.severity = rule.severity;
        }
        if applied && raised.len() == before {
            passed.push(RuleRef {
                id: rule.id.clone(),
                message: rule.message.clone(),
                message_en: rule.message_en.clone(),
            });
        }
    }

    // Explanations: a warning the author explains is shown with the reason instead.
    let mut explained = Vec::new();
    for ex in &report.explanations {
        let rule = schema.rules.iter().find(|r| r.id == ex.rule);
        match rule {
            Some(rule) if rule.severity == Severity::Error => raised.push(
                Diagnostic::error(
                    &report.file,
                    ex.pos,
                    format!("{} 是错误，不能以说明消除；请改正数据", ex.rule),
                    format!(
                        "{} is an error and cannot be explained away; correct the data",
                        ex.rule
                    ),
                )
                .with_source(&report.text),
            ),
            Some(rule) => {
                let before = raised.len();
                raised.retain(|d| d.rule.as_deref() != Some(ex.rule.as_str()));
                if raised.len() == before {
                    let mut d = Diagnostic::error(
                        &report.file,
                        ex.pos,
                        format!("说明了 {}，但本报告并未触发该项检查；可删除此说明", ex.rule),
                        format!("explains {}, which this report does not trigger; the explanation can go", ex.rule),
                    )
                    .with_source(&report.text);
                    d.severity = Severity::Info;
                    raised.push(d);
                } else {
                    passed.retain(|p: &RuleRef| p.id != ex.rule);
                    explained.push(Explained {
                        rule: ex.rule.clone(),
                        reason: ex.reason.clone(),
                        message: rule.message.clone(),
                        message_en: rule.message_en.clone(),
                    });
                }
            }
            None => {
                let ids: Vec<&str> = schema.rules.iter().map(|r| r.id.as_str()).collect();
                raised.push(
                    Diagnostic::error(
                        &report.file,
                        ex.pos,
                        format!("格式 {} 中没有检查项 {}", schema.id, ex.rule),
                        format!("format {} has no rule {}", schema.id, ex.rule),
                    )
                    .with_help(
                        format!("检查项：{}", ids.join("、")),
                        format!("rules: {}", ids.join(", ")),
                    )
                    .with_source(&report.text),
                );
            }
        }
    }
    // Diagnostics about an explanation carry the rule it names, so tools can filter them.
    for ex in &report.explanations {
        for d in raised
            .iter_mut()
            .filter(|d| d.rule.is_none() && d.line == ex.pos.line && d.column == ex.pos.column)
        {
            d.rule = Some(ex.rule.clone());
        }
    }
    ReportChecks {
        diagnostics: raised,
        explained,
        passed,
    }
}

/// A term's cell on one line of a sum rule, with its labels (zh, en), sign and year.
type TermValue = (Cell, String, String, bool, bool);

/// A cell of a table, looked up by row and column key.
fn cell_at(data: &TableData, table: &Table, row: &str, col: &str) -> Option<Cell> {
    let (b, r, c) = table.locate(row, col)?;
    data.blocks.get(b)?.cells.get(r)?.get(c).copied()
}

/// Σ left = Σ right along every row or column. Returns false when the rule could not be
/// applied (a cross-year rule without last year's report or without the cells it needs).
fn check_sum<'a>(
    report: &Report,
    previous: Option<&Report>,
    schema: &'a Schema,
    registry: &Registry,
    rule: &'a Rule,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let (Some(key), Some(per)) = (rule.table.as_deref(), rule.per) else {
        return false;
    };
    let (Some(table), Some(data)) = (schema.table(key), report.table(key)) else {
        return false;
    };
    let Some((bi, block)) = table.rule_block(rule) else {
        return false;
    };
    let prev = if rule.is_cross_year() {
        let Some(p) = previous else { return false };
        let Some(ps) = registry.get(&p.format) else {
            return false;
        };
        let (Some(pt), Some(pd)) = (ps.table(key), p.table(key)) else {
            return false;
        };
        Some((p, ps, pt, pd))
    } else {
        None
    };
    let rows = block.leaf_rows_ref();
    let cols = block.leaf_columns_ref();
    let lines: Vec<usize> = match per {
        Per::Row => (0..rows.len())
            .filter(|&i| rule.only.is_empty() || rule.only.contains(&rows[i].key))
            .collect(),
        Per::Column => (0..cols.len())
            .filter(|&i| rule.only.is_empty() || rule.only.contains(&cols[i].key))
            .collect(),
    };
    let grid = &data.blocks[bi];
    let left = rule.left_terms_ref();
    let right = rule.right_terms_ref();
    // Where each term sits across the line: a column (per row) or a row (per column).
    let across = |t: &Term| match per {
        Per::Row => block.column_position(&t.key),
        Per::Column => block.row_position(&t.key),
    };
    let left_at: Vec<Option<usize>> = left.iter().map(across).collect();
    let right_at: Vec<Option<usize>> = right.iter().map(across).collect();
    let mut applied = false;
    let mut lcells: Vec<Cell> = Vec::with_capacity(left.len());
    let mut rcells: Vec<Cell> = Vec::with_capacity(right.len());
    for line in lines {
        // The (row, column) keys of a term on this line.
        let keys = |t: &'a Term| -> (&'a str, &'a str) {
            match per {
                Per::Row => (rows[line].key.as_str(), t.key.as_str()),
                Per::Column => (t.key.as_str(), cols[line].key.as_str()),
            }
        };
        let value = |t: &'a Term, at: Option<usize>| -> Option<Cell> {
            match (&prev, t.previous) {
                (Some((_, _, pt, pd)), true) => {
                    let (r, c) = keys(t);
                    cell_at(pd, pt, r, c)
                }
                _ => {
                    let (ri, ci) = match per {
                        Per::Row => (line, at?),
                        Per::Column => (at?, line),
                    };
                    Some(grid.cells[ri][ci])
                }
            }
        };
        let resolve = |terms: &'a [Term], at: &[Option<usize>], out: &mut Vec<Cell>| -> bool {
            out.clear();
            for (t, &a) in terms.iter().zip(at) {
                match value(t, a) {
                    Some(c) => out.push(c),
                    None => return false,
                }
            }
            true
        };
        if !resolve(left, &left_at, &mut lcells) || !resolve(right, &right_at, &mut rcells) {
            continue;
        }
        applied = true;
        // Cells this rule filled in agree by construction.
        if lcells.iter().all(|c| c.origin == Origin::Computed) {
            continue;
        }
        let sum = |cells: &[Cell], terms: &[Term]| {
            cells.iter().zip(terms).fold(Decimal::zero(), |acc, (c, t)| {
                if t.negative { acc - c.value } else { acc + c.value }
            })
        };
        let (ls, rs) = (sum(&lcells, left), sum(&rcells, right));
        if ls == rs {
            continue;
        }
        // A mismatch: now the labels of every term, for the message.
        let labelled = |t: &'a Term, cell: Cell| -> TermValue {
            let (r, c) = keys(t);
            let (ri, ci) = (block.row_position(r), block.column_position(c));
            let row_label = ri
                .map(|i| rows[i].path.join(""))
                .unwrap_or_else(|| r.to_owned());
            let col_label = ci
                .map(|i| cols[i].label.clone())
                .unwrap_or_else(|| c.to_owned());
            let zh = match (per, t.previous) {
                (Per::Row, false) => col_label,
                (Per::Row, true) => format!("上年{col_label}"),
                (Per::Column, false) => row_label,
                (Per::Column, true) => format!("上年{row_label}"),
            };
            let en_label = match per {
                Per::Row => ci.map(|i| cols[i].label_en.clone()),
                Per::Column => ri.map(|i| rows[i].label_en.clone()),
            }
            .unwrap_or_default();
            let en = if t.previous {
                format!("last year's {en_label}")
            } else {
                en_label
            };
            (cell, zh, en, t.negative, t.previous)
        };
        let lv: Vec<TermValue> = left.iter().zip(&lcells).map(|(t, c)| labelled(t, *c)).collect();
        let rv: Vec<TermValue> = right.iter().zip(&rcells).map(|(t, c)| labelled(t, *c)).collect();
        let show = |v: &[TermValue], en: bool| -> String {
            let long = v.len() > 4;
            let shown: Vec<String> = v
                .iter()
                .enumerate()
                .filter(|(_, (c, ..))| !long || c.value != Decimal::zero())
                .map(|(i, (c, zh, e, neg, _))| {
                    let sign = if *neg {
                        " − "
                    } else if i == 0 {
                        ""
                    } else {
                        " + "
                    };
                    format!("{sign}{} {}", if en { e } else { zh }, c.value)
                })
                .collect();
            let mut s = shown.join("").trim_start_matches(" + ").to_owned();
            let rest = v.len() - shown.len();
            if rest > 0 {
                s = match (s.is_empty(), en) {
                    (true, false) => format!("{rest} 项均为 0"),
                    (true, true) => format!("{rest} cells, all 0"),
                    (false, false) => format!("{s}（其余 {rest} 项为 0）"),
                    (false, true) => format!("{s} (the other {rest} are 0)"),
                };
            }
            s
        };
        // Point at the first cell of this report the author wrote: left side first.
        let pointed = lv
            .iter()
            .chain(&rv)
            .zip(left.iter().chain(right))
            .find_map(|((c, ..), t)| match c.origin {
                Origin::Authored(p) if !t.previous => Some((p, t.clone())),
                _ => None,
            });
        let pos = pointed.as_ref().map_or(data.pos, |(p, _)| *p);
        // The official labels of the cell pointed at, in both languages.
        let (cell_label, cell_label_en) = match &pointed {
            Some((_, t)) => {
                let (ri, ci) = match per {
                    Per::Row => (Some(line), cols.iter().position(|x| x.key == t.key)),
                    Per::Column => (rows.iter().position(|x| x.key == t.key), Some(line)),
                };
                let (r, r_en) = ri.map_or_else(Default::default, |i| {
                    (rows[i].path.join(""), rows[i].label_en.clone())
                });
                let (c, c_en) = ci.map_or_else(Default::default, |i| {
                    (cols[i].label.clone(), cols[i].label_en.clone())
                });
                (
                    format!("{}、{r} · {c}", table.section),
                    format!("{} · {r_en} · {c_en}", table.caption_en),
                )
            }
            None => (
                format!("{}、{}", table.section, table.caption),
                table.caption_en.clone(),
            ),
        };
        let prev_note = match &prev {
            Some((p, ..)) => (
                format!("；上年报告：{}", p.file),
                format!("; last year's report: {}", p.file),
            ),
            None => (String::new(), String::new()),
        };
        out.push(
            Diagnostic::error(
                &report.file,
                pos,
                format!(
                    "{}（{cell_label}）：{} = {ls}，而 {} = {rs}{}",
                    rule.message,
                    show(&lv, false),
                    show(&rv, false),
                    prev_note.0
                ),
                format!(
                    "{} ({}): {} = {ls}, but {} = {rs}{}",
                    rule.message_en,
                    cell_label_en,
                    show(&lv, true),
                    show(&rv, true),
                    prev_note.1
                ),
            )
            .with_help(
                format!("核对这些单元格，使两边相等（相差 {}）", ls.abs_diff(rs)),
                format!(
                    "check these cells so that both sides are equal (they differ by {})",
                    ls.abs_diff(rs)
                ),
            )
            .with_source(&report.text),
        );
    }
    applied
}

/// The report's prose, line by line with file line numbers: no table markers, no code.
struct Prose<'a> {
    lines: Vec<(usize, &'a str)>,
}

impl<'a> Prose<'a> {
    fn of(report: &'a Report) -> Prose<'a> {
        let mut lines = Vec::new();
        let mut fence = false;
        for (i, line) in report.body.lines().enumerate() {
            let t = line.trim();
            if t.starts_with("```") || t.starts_with("~~~") {
                fence = !fence;
                continue;
            }
            if fence || (t.starts_with("{{") && t.ends_with("}}")) || t.starts_with('|') {
                continue;
            }
            lines.push((report.body_line + i, line));
        }
        Prose { lines }
    }

    /// Sentences of at least one character: (line, column of the first char, text).
    fn sentences(&self) -> Vec<(usize, usize, String)> {
        let mut out = Vec::new();
        for (line_no, line) in &self.lines {
            if line.trim_start().starts_with('#') {
                continue;
            }
            let mut start_col = 1;
            let mut current = String::new();
            for (i, ch) in line.chars().enumerate() {
                if current.is_empty() && ch.is_whitespace() {
                    start_col = i + 2;
                    continue;
                }
                if current.is_empty() {
                    start_col = i + 1;
                }
                current.push(ch);
                if matches!(ch, '。' | '！' | '？' | '；') {
                    out.push((*line_no, start_col, std::mem::take(&mut current)));
                }
            }
            if !current.trim().is_empty() {
                out.push((*line_no, start_col, current));
            }
        }
        out
    }
}

fn char_col(line: &str, byte: usize) -> usize {
    line[..byte].chars().count() + 1
}

fn check_text_number(
    report: &Report,
    prose: &Prose,
    schema: &Schema,
    rule: &Rule,
    compiled: &Compiled,
    out: &mut Vec<Diagnostic>,
) -> bool {
    // The sums the prose may quote, each with its cells (labelled only for a message).
    let mut choices: Vec<(Decimal, Vec<(&Table, &str, &str, Cell)>)> = Vec::new();
    for alt in &rule.cells {
        let mut sum = Decimal::zero();
        let mut cells = Vec::with_capacity(alt.len());
        for reference in alt {
            let mut parts = reference.split('.');
            let (Some(t), Some(r), Some(c), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return false;
            };
            let (Some(table), Some(data)) = (schema.table(t), report.table(t)) else {
                return false;
            };
            let Some(cell) = cell_at(data, table, r, c) else {
                return false;
            };
            sum = sum + cell.value;
            cells.push((table, r, c, cell));
        }
        choices.push((sum, cells));
    }
    let labels = |cells: &[(&Table, &str, &str, Cell)]| -> String {
        let labels: Vec<String> = cells
            .iter()
            .map(|(table, r, c, cell)| {
                let label = table
                    .locate(r, c)
                    .map(|(b, ri, ci)| {
                        let blk = &table.blocks[b];
                        format!(
                            "{}、{} · {}",
                            table.section,
                            blk.leaf_rows_ref()[ri].label,
                            blk.leaf_columns_ref()[ci].label
                        )
                    })
                    .unwrap_or_default();
                format!("{label} {}", cell.value)
            })
            .collect();
        labels.join(" + ")
    };
    for (line_no, line) in &prose.lines {
        for re in compiled.get(schema, rule) {
            for caps in re.captures_iter(line) {
                let Some(n) = caps.name("n") else { continue };
                let Ok(found) = Decimal::parse(n.as_str()) else {
                    continue;
                };
                if choices.iter().any(|(v, _)| *v == found) {
                    continue;
                }
                let whole = caps.get(0).map_or("", |m| m.as_str());
                let expected: Vec<String> =
                    choices.iter().map(|(v, l)| format!("{v}（{}）", labels(l))).collect();
                out.push(
                    Diagnostic::error(
                        &report.file,
                        Pos {
                            line: *line_no,
                            column: char_col(line, n.start()),
                        },
                        format!(
                            "{}：正文写“{whole}”，但表格中为 {}",
                            rule.message,
                            expected.join(" 或 ")
                        ),
                        format!(
                            "{}: the text says “{whole}”, but the tables give {}",
                            rule.message_en,
                            choices
                                .iter()
                                .map(|(v, _)| v.to_string())
                                .collect::<Vec<_>>()
                                .join(" or ")
                        ),
                    )
                    .with_help(
                        "改正正文或表格中的数字，使两者一致",
                        "correct the number in the text or in the table so they agree",
                    )
                    .with_source(&report.text),
                );
            }
        }
    }
    true
}

fn check_stale_year(
    report: &Report,
    prose: &Prose,
    rule: &Rule,
    out: &mut Vec<Diagnostic>,
) -> bool {
    for (line_no, line) in &prose.lines {
        // Sentence by sentence, so a comparison word elsewhere on the line does not excuse it.
        let mut offset = 0;
        for sentence in line.split_inclusive(['。', '！', '？', '；']) {
            let allowed = rule.allows(sentence);
            if !allowed {
                for (i, _) in sentence.match_indices('年') {
                    let before = sentence[..i].trim_end();
                    let digits: String = before
                        .chars()
                        .rev()
                        .take_while(|c| c.is_ascii_digit())
                        .collect();
                    if digits.len() != 4 {
                        continue;
                    }
                    let year: i32 = digits
                        .chars()
                        .rev()
                        .collect::<String>()
                        .parse()
                        .unwrap_or(0);
                    if year >= 1990 && year < report.year {
                        let start = offset + before.len() - 4;
                        out.push(
                            Diagnostic::error(
                                &report.file,
                                Pos { line: *line_no, column: char_col(line, start) },
                                format!("{}：{} 年度的报告中出现“{year}年”，且不是比较或回顾", rule.message, report.year),
                                format!("{}: “{year}年” in the {} report, not in a comparison", rule.message_en, report.year),
                            )
                            .with_help(
                                format!("若是沿用往年的文字，请改为 {} 年的情况；若是有意比较，写明“同比”“较上年”等", report.year),
                                format!("if this text was carried over, update it to {}; if it compares, say so (同比, 较上年)", report.year),
                            )
                            .with_source(&report.text),
                        );
                    }
                }
            }
            offset += sentence.len();
        }
    }
    true
}

fn check_duplicates(
    report: &Report,
    prose: &Prose,
    rule: &Rule,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let min = rule.min_chars.unwrap_or(12);
    let mut seen: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (line, col, text) in prose.sentences() {
        let key: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '*' && *c != '_')
            .collect();
        if key.chars().count() < min {
            continue;
        }
        match seen.get(&key) {
            Some(&(first_line, first_col)) => out.push(
                Diagnostic::error(
                    &report.file,
                    Pos { line, column: col },
                    format!("{}：这句话在第 {first_line} 行第 {first_col} 列已经出现过：“{}”", rule.message, text.trim()),
                    format!("{}: this sentence already appears at line {first_line}, column {first_col}", rule.message_en),
                )
                .with_help("删除重复的句子或段落", "remove the repeated sentence or paragraph")
                .with_source(&report.text),
            ),
            None => {
                seen.insert(key, (line, col));
            }
        }
    }
    true
}

fn check_placeholders(
    report: &Report,
    prose: &Prose,
    schema: &Schema,
    rule: &Rule,
    compiled: &Compiled,
    out: &mut Vec<Diagnostic>,
) -> bool {
    for (line_no, line) in &prose.lines {
        for re in compiled.get(schema, rule) {
            for m in re.find_iter(line) {
                out.push(
                    Diagnostic::error(
                        &report.file,
                        Pos {
                            line: *line_no,
                            column: char_col(line, m.start()),
                        },
                        format!("{}：“{}”", rule.message, m.as_str()),
                        format!("{}: “{}”", rule.message_en, m.as_str()),
                    )
                    .with_help(
                        "填上数字或删除这句话",
                        "fill in the number or remove the sentence",
                    )
                    .with_source(&report.text),
                );
            }
        }
    }
    true
}

fn check_deadline(report: &Report, rule: &Rule, out: &mut Vec<Diagnostic>) -> bool {
    let kind = match report.agency_kind {
        AgencyKind::Government => "government",
        AgencyKind::Department => "department",
        AgencyKind::Township => "township",
        AgencyKind::Other => "other",
    };
    let Some(mmdd) = rule.deadlines.get(kind) else {
        return false;
    };
    let Some(deadline) = crate::model::Date::parse(&format!("{}-{mmdd}", report.year + 1)) else {
        return false;
    };
    if report.published > deadline {
        let pos = report
            .positions
            .get("published")
            .copied()
            .unwrap_or_default();
        out.push(
            Diagnostic::error(
                &report.file,
                pos,
                format!(
                    "{}：公开日期 {} 晚于法定期限 {deadline}",
                    rule.message, report.published
                ),
                format!(
                    "{}: published {} after the legal deadline {deadline}",
                    rule.message_en, report.published
                ),
            )
            .with_help(
                "核对公开日期；逾期公开会被评估扣分",
                "check the publication date; late publication is penalised by evaluators",
            )
            .with_source(&report.text),
        );
    }
    true
}
