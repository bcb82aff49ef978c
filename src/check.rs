//! Check stage: the rules of each report's format, applied to the library.
//!
//! Each rule *kind* is implemented once here; the rules themselves (which cells, which
//! patterns, which severity, which message) are data in the format's schema file. A
//! diagnostic points at the cell or word the author wrote, names the official labels, and
//! shows what was expected and why. A report may explain a warning in its front matter;
//! the warning is then shown as explained instead of raised. Errors cannot be explained away.

use std::collections::{BTreeMap, HashMap};

use regex_automata::meta::Regex;
use regex_automata::util::captures::Captures;
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
    /// Rules that were applied and found nothing: their indexes in the format's rules
    /// ([`ReportChecks::passed_rules`] names them). Indexes, not copies of the rules'
    /// texts: every report passes dozens of rules, which were 30 MB at 10,000 reports.
    pub passed: Vec<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Explained {
    pub rule: String,
    pub reason: String,
    pub message: String,
    pub message_en: String,
}

/// A rule named on a report's page.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RuleRef<'s> {
    pub id: &'s str,
    pub message: &'s str,
    pub message_en: &'s str,
}

impl<'s> RuleRef<'s> {
    pub fn of(rule: &'s Rule) -> RuleRef<'s> {
        RuleRef {
            id: &rule.id,
            message: &rule.message,
            message_en: &rule.message_en,
        }
    }
}

impl ReportChecks {
    /// The rules that passed, from the report's format (the one it was checked against).
    pub fn passed_rules<'s>(&self, schema: &'s Schema) -> Vec<RuleRef<'s>> {
        self.passed
            .iter()
            .filter_map(|&i| schema.rules.get(i as usize))
            .map(RuleRef::of)
            .collect()
    }

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

/// Every pattern of every rule, compiled up front, before the per-report work starts,
/// with spare search caches for the threads that check reports.
pub struct Compiled {
    patterns: Vec<Pattern>,
    /// Caches not in use: a report's checks take a set and give it back, so a thread's
    /// caches stay warm from report to report.
    spare: std::sync::Mutex<Vec<Scratch>>,
}

/// A pattern of rule `rule` (its place among its format's rules) of format `format`,
/// and the same for a whole text (see [`Rule::text_regexes`]).
struct Pattern {
    format: String,
    rule: usize,
    re: Regex,
    text: Option<Regex>,
}

/// A search cache and captures for each of [`Compiled`]'s patterns, made when first
/// needed. A cache holds the states the pattern's lazy DFA has built: a fresh one per
/// report built them again for each (the checks took longer than with `regex`'s pool).
#[derive(Default)]
pub struct Scratch(Vec<Option<Slot>>);

/// A pattern's search cache and captures, and its whole-text pattern's cache.
type Slot = (
    regex_automata::meta::Cache,
    Captures,
    Option<regex_automata::meta::Cache>,
);

impl Compiled {
    pub fn new(registry: &Registry) -> Compiled {
        let mut patterns = Vec::new();
        for schema in registry.all() {
            for (rule, r) in schema.rules.iter().enumerate() {
                r.is_cross_year();
                for (re, text) in r.regexes().iter().zip(r.text_regexes()) {
                    patterns.push(Pattern {
                        format: schema.id.clone(),
                        rule,
                        re: re.clone(),
                        text: text.clone(),
                    });
                }
            }
        }
        Compiled {
            patterns,
            spare: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn take_scratch(&self) -> Scratch {
        self.spare
            .lock()
            .ok()
            .and_then(|mut s| s.pop())
            .unwrap_or_default()
    }

    fn give_back(&self, scratch: Scratch) {
        if let Ok(mut s) = self.spare.lock() {
            s.push(scratch);
        }
    }

    /// The patterns of rule `index` of `schema`, each with its cache from `scratch`. A
    /// rule these were not compiled from (another registry's) gets its own patterns
    /// with fresh caches.
    fn matchers<'s>(
        &'s self,
        schema: &Schema,
        index: usize,
        rule: &'s Rule,
        scratch: &'s mut Scratch,
    ) -> Vec<Matcher<'s>> {
        if scratch.0.len() < self.patterns.len() {
            scratch.0.resize_with(self.patterns.len(), || None);
        }
        let found: Vec<Matcher<'s>> = self
            .patterns
            .iter()
            .zip(scratch.0.iter_mut())
            .filter(|(p, _)| p.rule == index && p.format == schema.id)
            .map(|(p, slot)| Matcher::new(&p.re, p.text.as_ref(), slot))
            .collect();
        if found.is_empty() && !rule.regexes().is_empty() {
            return rule.regexes().iter().map(Matcher::owned).collect();
        }
        found
    }
}

/// A rule's pattern with a search cache and captures of its own, used on each line of a
/// report. `regex`'s iterators take a cache from the pattern's shared pool and make
/// captures (sharing a counted reference with every thread) on each call: once per
/// line, pattern and report, the two threads spent much of the checks' time handing
/// those back and forth.
struct Matcher<'s> {
    re: &'s Regex,
    /// The pattern for the whole text, which finds the lines to search.
    text: Option<&'s Regex>,
    state: MatcherState<'s>,
}

enum MatcherState<'s> {
    Shared(&'s mut Option<Slot>),
    Owned(Box<Slot>),
}

impl<'s> Matcher<'s> {
    fn new(re: &'s Regex, text: Option<&'s Regex>, slot: &'s mut Option<Slot>) -> Self {
        Matcher {
            re,
            text,
            state: MatcherState::Shared(slot),
        }
    }

    fn owned(re: &'s Regex) -> Self {
        Matcher {
            re,
            text: None,
            state: MatcherState::Owned(Box::new((re.create_cache(), re.create_captures(), None))),
        }
    }

    /// This pattern's caches and captures, made on first use.
    fn slot(&mut self) -> &mut Slot {
        match &mut self.state {
            MatcherState::Shared(slot) => {
                let re = self.re;
                slot.get_or_insert_with(|| (re.create_cache(), re.create_captures(), None))
            }
            MatcherState::Owned(state) => state,
        }
    }

    /// The lines of `lines` (slices of `body`) that may hold a match: those that a match
    /// of the whole-text pattern in `body` touches (see [`Rule::text_regexes`]), or all.
    /// Most lines hold none, and one search of the text costs less than one per line.
    fn lines<'b>(&mut self, body: &'b str, lines: &[(usize, &'b str)]) -> Vec<(usize, &'b str)> {
        let Some(text) = self.text else {
            return lines.to_vec();
        };
        let cache = self.slot().2.get_or_insert_with(|| text.create_cache());
        let mut found = Vec::new();
        let mut at = 0;
        while at <= body.len() {
            let Some(m) = text.search_with(cache, &regex_automata::Input::new(body).range(at..))
            else {
                break;
            };
            found.push((m.start(), m.end()));
            at = next_search(body, m);
        }
        let base = body.as_ptr() as usize;
        let mut next = 0;
        lines
            .iter()
            .filter(|(_, line)| {
                let Some(start) = (line.as_ptr() as usize)
                    .checked_sub(base)
                    .filter(|s| s + line.len() <= body.len())
                else {
                    // Not a slice of the body: searched on its own.
                    return true;
                };
                let end = start + line.len();
                while found.get(next).is_some_and(|&(_, e)| e < start) {
                    next += 1;
                }
                found.get(next).is_some_and(|&(s, _)| s <= end)
            })
            .copied()
            .collect()
    }

    /// The matches in `line`, leftmost first and not overlapping, as `find_iter` gives
    /// them (an empty match moves on by one character, and none follows a match).
    fn all<'m>(&'m mut self, line: &'m str) -> impl Iterator<Item = Captures> + 'm {
        let re = self.re;
        let (cache, caps, _) = self.slot();
        let mut at = 0;
        let mut last_end = None;
        std::iter::from_fn(move || {
            loop {
                if at > line.len() {
                    return None;
                }
                let input = regex_automata::Input::new(line).range(at..);
                re.search_captures_with(cache, &input, caps);
                let m = caps.get_match()?;
                at = next_search(line, m);
                // As `find_iter`: an empty match right after a match is not one.
                if m.is_empty() && last_end == Some(m.start()) {
                    continue;
                }
                last_end = Some(m.end());
                break;
            }
            Some(caps.clone())
        })
    }
}

/// Where the search after match `m` in `text` starts, as `find_iter` steps: at its end, or
/// one character on after an empty match.
fn next_search(text: &str, m: regex_automata::Match) -> usize {
    if m.is_empty() {
        m.end() + text[m.end()..].chars().next().map_or(1, char::len_utf8)
    } else {
        m.end()
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
    let mut scratch = compiled.take_scratch();
    for (index, rule) in schema.rules.iter().enumerate() {
        let before = raised.len();
        let applied = match rule.kind {
            RuleKind::Sum => check_sum(report, previous, schema, registry, rule, &mut raised),
            // Cell types are enforced while loading; a bad cell never reaches this stage.
            RuleKind::Types => true,
            RuleKind::TextNumber => {
                let matchers = compiled.matchers(schema, index, rule, &mut scratch);
                check_text_number(report, &prose, schema, rule, matchers, &mut raised)
            }
            RuleKind::StaleYear => check_stale_year(report, &prose, rule, &mut raised),
            RuleKind::DuplicateText => check_duplicates(report, &prose, rule, &mut raised),
            RuleKind::Placeholder => {
                let matchers = compiled.matchers(schema, index, rule, &mut scratch);
                check_placeholders(report, &prose, rule, matchers, &mut raised)
            }
            RuleKind::Deadline => check_deadline(report, rule, &mut raised),
        };
        for d in &mut raised[before..] {
            d.rule = Some(rule.id.clone());
            d.severity = rule.severity;
        }
        if applied && raised.len() == before {
            passed.push(index as u32);
        }
    }
    compiled.give_back(scratch);

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
                    passed
                        .retain(|&i| schema.rules.get(i as usize).is_none_or(|r| r.id != ex.rule));
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
    data.blocks.get(b)?.get(r, c).copied()
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
                    grid.get(ri, ci).copied()
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
            cells
                .iter()
                .zip(terms)
                .fold(Decimal::zero(), |acc, (c, t)| {
                    if t.negative {
                        acc - c.value
                    } else {
                        acc + c.value
                    }
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
        let lv: Vec<TermValue> = left
            .iter()
            .zip(&lcells)
            .map(|(t, c)| labelled(t, *c))
            .collect();
        let rv: Vec<TermValue> = right
            .iter()
            .zip(&rcells)
            .map(|(t, c)| labelled(t, *c))
            .collect();
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
        let pointed =
            lv.iter()
                .chain(&rv)
                .zip(left.iter().chain(right))
                .find_map(|((c, ..), t)| match c.origin {
                    Origin::Authored(p) if !t.previous => Some((p, t.clone())),
                    _ => None,
                });
        let pos = pointed.as_ref().map_or(data.pos, |(p, _)| (*p).into());
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
    /// Slices of the lines, not copies: every report's prose passes through here.
    fn sentences(&self) -> Vec<(usize, usize, &'a str)> {
        let mut out = Vec::new();
        for &(line_no, line) in &self.lines {
            if line.trim_start().starts_with('#') {
                continue;
            }
            // The current sentence's first byte and column, once it has a character.
            let mut start: Option<(usize, usize)> = None;
            for (col, (at, ch)) in line.char_indices().enumerate() {
                let (from, col) = match start {
                    Some(s) => s,
                    None if ch.is_whitespace() => continue,
                    None => *start.insert((at, col + 1)),
                };
                if matches!(ch, '。' | '！' | '？' | '；') {
                    out.push((line_no, col, &line[from..at + ch.len_utf8()]));
                    start = None;
                }
            }
            if let Some((from, col)) = start
                && !line[from..].trim().is_empty()
            {
                out.push((line_no, col, &line[from..]));
            }
        }
        out
    }
}

fn char_col(line: &str, byte: usize) -> usize {
    line[..byte].chars().count() + 1
}

/// A cell a quoted number may be made of: its table, row and column keys, and value.
type QuotedCell<'a> = (&'a Table, &'a str, &'a str, Cell);

fn check_text_number(
    report: &Report,
    prose: &Prose,
    schema: &Schema,
    rule: &Rule,
    matchers: Vec<Matcher>,
    out: &mut Vec<Diagnostic>,
) -> bool {
    // The sums the prose may quote, each with its cells (labelled only for a message).
    let mut choices: Vec<(Decimal, Vec<QuotedCell>)> = Vec::new();
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
    let labels = |cells: &[QuotedCell]| -> String {
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
    for mut matcher in matchers {
        for (line_no, line) in &matcher.lines(&report.body, &prose.lines) {
            for caps in matcher.all(line) {
                let Some(n) = caps.get_group_by_name("n") else {
                    continue;
                };
                let Ok(found) = Decimal::parse(&line[n.range()]) else {
                    continue;
                };
                if choices.iter().any(|(v, _)| *v == found) {
                    continue;
                }
                let whole = caps.get_match().map_or("", |m| &line[m.range()]);
                let expected: Vec<String> = choices
                    .iter()
                    .map(|(v, l)| format!("{v}（{}）", labels(l)))
                    .collect();
                out.push(
                    Diagnostic::error(
                        &report.file,
                        Pos {
                            line: *line_no,
                            column: char_col(line, n.start),
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
        // Most lines write no year: they are not split into sentences.
        if !line.contains('年') || four_digit_years(line).is_empty() {
            continue;
        }
        // Sentence by sentence, so a comparison word elsewhere on the line does not excuse it.
        let mut offset = 0;
        for sentence in line.split_inclusive(['。', '！', '？', '；']) {
            // Years written `2023年` (spaces allowed before 年): a run of exactly four
            // digits followed by 年. The sentence's allowed words are looked for only
            // when there is one.
            let years = if sentence.contains('年') {
                four_digit_years(sentence)
            } else {
                Vec::new()
            };
            if !years.is_empty() && !rule.allows(sentence) {
                for (at, year) in years {
                    if year >= 1990 && year < report.year {
                        let start = offset + at;
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

/// The years a sentence writes as exactly four ASCII digits followed by 年 (spaces may
/// come between): each one's byte offset and value. Found from each 年 back (memmem
/// finds them in a few instructions a line; a scan for digits looked at every byte).
fn four_digit_years(sentence: &str) -> Vec<(usize, i32)> {
    // Made once: a searcher's set-up cost as much as a line's search.
    static NIAN: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("年"));
    let mut out = Vec::new();
    for at in NIAN.find_iter(sentence.as_bytes()) {
        let before = sentence[..at].trim_end().as_bytes();
        let digits = before
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 4 {
            let start = before.len() - 4;
            let year = before[start..]
                .iter()
                .fold(0, |n, d| n * 10 + i32::from(d - b'0'));
            out.push((start, year));
        }
    }
    out
}

fn check_duplicates(
    report: &Report,
    prose: &Prose,
    rule: &Rule,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let min = rule.min_chars.unwrap_or(12);
    // Sized for the prose's sentences (about 60 bytes or more each in Chinese), so the
    // map does not grow and hash every sentence again as it fills.
    let bytes: usize = prose.lines.iter().map(|(_, l)| l.len()).sum();
    let mut seen: HashMap<std::borrow::Cow<str>, (usize, usize), xxhash_rust::xxh3::Xxh3Builder> =
        HashMap::with_capacity_and_hasher(bytes / 60, Default::default());
    for (line, col, text) in prose.sentences() {
        // Spaces and emphasis marks do not make a sentence new.
        let skip = |c: char| c.is_whitespace() || c == '*' || c == '_';
        let key: std::borrow::Cow<str> = if text.contains(skip) {
            text.chars()
                .filter(|c| !skip(*c))
                .collect::<String>()
                .into()
        } else {
            text.into()
        };
        // At most four bytes a character: only a key of between `min` and `4 × min`
        // bytes needs counting.
        if key.len() < min || (key.len() < 4 * min && key.chars().count() < min) {
            continue;
        }
        match seen.entry(key) {
            std::collections::hash_map::Entry::Occupied(first) => {
                let &(first_line, first_col) = first.get();
                out.push(
                Diagnostic::error(
                    &report.file,
                    Pos { line, column: col },
                    format!("{}：这句话在第 {first_line} 行第 {first_col} 列已经出现过：“{}”", rule.message, text.trim()),
                    format!("{}: this sentence already appears at line {first_line}, column {first_col}", rule.message_en),
                )
                .with_help("删除重复的句子或段落", "remove the repeated sentence or paragraph")
                .with_source(&report.text),
                );
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert((line, col));
            }
        }
    }
    true
}

fn check_placeholders(
    report: &Report,
    prose: &Prose,
    rule: &Rule,
    matchers: Vec<Matcher>,
    out: &mut Vec<Diagnostic>,
) -> bool {
    for mut matcher in matchers {
        for (line_no, line) in &matcher.lines(&report.body, &prose.lines) {
            for caps in matcher.all(line) {
                let Some(m) = caps.get_match() else { continue };
                let text = &line[m.range()];
                out.push(
                    Diagnostic::error(
                        &report.file,
                        Pos {
                            line: *line_no,
                            column: char_col(line, m.start()),
                        },
                        format!("{}：“{text}”", rule.message),
                        format!("{}: “{text}”", rule.message_en),
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

/// A report's place among other reports: agency id and year.
type Key<'a> = (&'a str, i32);

/// The reports whose checks can change when the report with `key` is added, edited or
/// removed: its own (any report with that key) and the same agency's report for the next
/// year, whose cross-year sum rules (`previous.` terms) read it and name its file. No other
/// rule reads another report: text, stale-year, duplicate-text, placeholder and deadline
/// rules, and explanations, depend on the report alone.
pub fn affected_keys(agency_id: &str, year: i32) -> [(&str, i32); 2] {
    [(agency_id, year), (agency_id, year + 1)]
}

/// Files in the order a full build reads them: path order, component by component.
fn file_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.split('/').cmp(b.split('/'))
}

/// The index of the first report with `key` in a library sorted in library order.
fn first_with(reports: &[Report], key: Key) -> Option<usize> {
    let (id, year) = key;
    let i =
        reports.partition_point(|r| r.year > year || (r.year == year && r.agency_id.as_str() < id));
    reports
        .get(i)
        .filter(|r| r.year == year && r.agency_id == id)
        .map(|_| i)
}

/// A library and its checks, kept up to date file by file, for `portalgen serve`.
///
/// [`LiveLibrary::new`] builds and checks everything once; [`LiveLibrary::update`] then
/// rebuilds only the files that changed and re-checks only the reports a change can affect
/// (see [`affected_keys`]), reusing every other report's [`ReportChecks`]. Whenever
/// [`LiveLibrary::problems`] is empty, [`LiveLibrary::library`] and [`LiveLibrary::checks`]
/// are exactly what `model::build_library_with` and [`check_library`] give for the same
/// files. Start again with `new` when the formats, the agency registry or the settings change.
#[derive(Debug, Clone)]
pub struct LiveLibrary {
    /// Every report that built, in library order (duplicates kept while they are a problem).
    library: Library,
    /// Aligned with `library.reports`.
    checks: Vec<ReportChecks>,
    /// Problems of the files that did not build, by file (relative path).
    failed: BTreeMap<String, Vec<Diagnostic>>,
}

impl LiveLibrary {
    /// Builds and checks `files`, given in path order (the order a full build reads them).
    pub fn new(
        files: &[&crate::load::SourceFile],
        registry: &Registry,
        agencies: Option<crate::agencies::AgencyRegistry>,
    ) -> LiveLibrary {
        use rayon::prelude::*;
        let built: Vec<_> = files
            .par_iter()
            .map(|f| {
                (
                    f.rel.as_str(),
                    crate::model::build_report(f, registry, agencies.as_ref()),
                )
            })
            .collect();
        let mut reports = Vec::with_capacity(built.len());
        let mut failed = BTreeMap::new();
        for (rel, b) in built {
            match b {
                Ok(r) => reports.push(r),
                Err(d) => {
                    failed.insert(rel.to_owned(), d);
                }
            }
        }
        // Stable, so duplicates stay in file order as in a full build.
        reports.sort_by(crate::model::library_order);
        let library = Library { reports, agencies };
        let checks = check_library(&library, registry);
        LiveLibrary {
            library,
            checks,
            failed,
        }
    }

    /// Applies changed files: `(relative path, Some(parsed file))` for a file that is new or
    /// was edited, `(relative path, None)` for one that is gone or can no longer be parsed.
    /// Returns the indexes (in [`LiveLibrary::library`]'s order, after the update) of the
    /// reports whose checks were recomputed.
    pub fn update(
        &mut self,
        changes: &[(&str, Option<&crate::load::SourceFile>)],
        registry: &Registry,
    ) -> Vec<usize> {
        let mut touched: Vec<(String, i32)> = Vec::new();
        for (rel, file) in changes {
            self.failed.remove(*rel);
            if let Some(i) = self.library.reports.iter().position(|r| r.file == *rel) {
                let old = self.library.reports.remove(i);
                self.checks.remove(i);
                touched.push((old.agency_id, old.year));
            }
            let Some(file) = file else { continue };
            match crate::model::build_report(file, registry, self.library.agencies.as_ref()) {
                Ok(report) => {
                    let at = self.library.reports.partition_point(|r| {
                        crate::model::library_order(r, &report)
                            .then_with(|| file_order(&r.file, &report.file))
                            .is_lt()
                    });
                    touched.push((report.agency_id.clone(), report.year));
                    self.library.reports.insert(at, report);
                    self.checks.insert(at, ReportChecks::default());
                }
                Err(d) => {
                    self.failed.insert((*rel).to_owned(), d);
                }
            }
        }
        // Every report a change can affect, each once.
        let mut redo: Vec<usize> = Vec::new();
        for (id, year) in &touched {
            for key in affected_keys(id, *year) {
                if let Some(first) = first_with(&self.library.reports, key) {
                    let same = self.library.reports[first..]
                        .iter()
                        .take_while(|r| r.year == key.1 && r.agency_id == key.0)
                        .count();
                    redo.extend(first..first + same);
                }
            }
        }
        redo.sort_unstable();
        redo.dedup();
        let compiled = Compiled::new(registry);
        let reports = &self.library.reports;
        for &i in &redo {
            let r = &reports[i];
            let previous =
                first_with(reports, (r.agency_id.as_str(), r.year - 1)).map(|p| &reports[p]);
            self.checks[i] = match registry.get(&r.format) {
                Some(schema) => check_report(r, previous, schema, registry, &compiled),
                None => ReportChecks::default(),
            };
        }
        redo
    }

    /// The problems a full build would stop at, in its order: the files that did not
    /// build (in path order), then reports in the wrong year folder and duplicates.
    pub fn problems(&self) -> Vec<Diagnostic> {
        let mut failed: Vec<(&String, &Vec<Diagnostic>)> = self.failed.iter().collect();
        failed.sort_by(|a, b| file_order(a.0, b.0));
        let mut out: Vec<Diagnostic> = failed
            .into_iter()
            .flat_map(|(_, d)| d.iter().cloned())
            .collect();
        // Placement problems need the reports in file order; most of the time there are none.
        let reports = &self.library.reports;
        let duplicates = reports
            .windows(2)
            .any(|w| w[0].year == w[1].year && w[0].agency_id == w[1].agency_id);
        let misplaced = || {
            reports
                .iter()
                .any(|r| crate::model::wrong_folder(r).is_some())
        };
        if duplicates || misplaced() {
            let mut in_files: Vec<&Report> = reports.iter().collect();
            in_files.sort_by(|a, b| file_order(&a.file, &b.file));
            crate::model::check_placement(in_files.into_iter(), &mut out);
        }
        out
    }

    /// The reports that built, in library order, with the portal's agency registry.
    pub fn library(&self) -> &Library {
        &self.library
    }

    /// The checks of [`LiveLibrary::library`]'s reports, in the same order.
    pub fn checks(&self) -> &[ReportChecks] {
        &self.checks
    }
}

#[cfg(test)]
mod live_tests {
    use super::*;
    use crate::load::{self, SourceFile};
    use std::path::Path;

    /// What a full build and check give: the problems, or each report's file and checks.
    fn full(
        files: &[&SourceFile],
        registry: &Registry,
        root: &Path,
    ) -> Result<Vec<String>, Vec<String>> {
        let agencies = crate::agencies::load(root).expect("agencies");
        match crate::model::build_library_from(files, registry, agencies) {
            Ok(lib) => Ok(check_library(&lib, registry)
                .iter()
                .zip(&lib.reports)
                .map(|(c, r)| format!("{} {}", r.file, serde_json::to_string(c).expect("json")))
                .collect()),
            Err(problems) => Err(problems.iter().map(|d| d.render(crate::Lang::En)).collect()),
        }
    }

    fn live(l: &LiveLibrary) -> Result<Vec<String>, Vec<String>> {
        let problems = l.problems();
        if !problems.is_empty() {
            return Err(problems.iter().map(|d| d.render(crate::Lang::En)).collect());
        }
        Ok(l.checks()
            .iter()
            .zip(&l.library().reports)
            .map(|(c, r)| format!("{} {}", r.file, serde_json::to_string(c).expect("json")))
            .collect())
    }

    #[test]
    fn incremental_checks_equal_a_full_check() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path().join("portal");
        crate::synth::generate(&root, 40).expect("generate");
        let registry = Registry::load(&root.join("schemas")).expect("registry");
        let mut files: Vec<SourceFile> = load::find_reports(&root, &root.join("content"))
            .expect("find")
            .iter()
            .map(|p| load::read_report(&root, p).expect("read"))
            .collect();
        files.sort_by(|a, b| file_order(&a.rel, &b.rel));
        let refs: Vec<&SourceFile> = files.iter().collect();
        let agencies = crate::agencies::load(&root).expect("agencies");
        let mut l = LiveLibrary::new(&refs, &registry, agencies);
        assert_eq!(live(&l), full(&refs, &registry, &root));
        assert!(live(&l).is_ok());

        // A report with a next year's report: its numbers feed that report's cross-year rules.
        let agency = files[0].rel.rsplit('/').next().expect("name").to_owned();
        let year_of = |f: &SourceFile| f.rel.split('/').nth(1).and_then(|y| y.parse::<i32>().ok());
        let target = files
            .iter()
            .position(|f| {
                f.rel.ends_with(&agency)
                    && files.iter().any(|g| {
                        g.rel.ends_with(&agency) && year_of(g) == year_of(f).map(|y| y + 1)
                    })
            })
            .expect("a report with a successor");
        let original = files[target].text.clone();
        let rel = files[target].rel.clone();
        let year = year_of(&files[target]).expect("year");
        let edits: Vec<Option<String>> = vec![
            // Numbers: breaks sums here and the next year's carried-in check.
            Some(original.replacen("carried_out: [", "carried_out: [7", 1)),
            Some(original.replacen("carried_out: [", "carried_out: [9", 1)),
            // Prose: a stale year and a placeholder-like repeat.
            Some(original.replacen(
                "\n## ",
                "\n2001年，本机关工作正常推进并取得成效。\n\n## ",
                1,
            )),
            // Another year: a folder problem and a duplicate.
            Some(original.replacen(&format!("year: {year}"), &format!("year: {}", year + 1), 1)),
            // A model error.
            Some(original.replacen("agency_kind: ", "agency_kind: x", 1)),
            // Gone, then back.
            None,
            Some(original.clone()),
        ];
        let initial = live(&l).expect("clean");
        let successor = files
            .iter()
            .find(|g| g.rel.ends_with(&agency) && year_of(g) == Some(year + 1))
            .map(|g| g.rel.clone())
            .expect("successor");
        for (step, edit) in edits.into_iter().enumerate() {
            match &edit {
                Some(text) => {
                    let parsed = load::parse_source(rel.clone(), Path::new(&rel), text.clone())
                        .expect("parses");
                    match files.iter().position(|f| f.rel == rel) {
                        Some(i) => files[i] = parsed,
                        None => {
                            files.push(parsed);
                            files.sort_by(|a, b| file_order(&a.rel, &b.rel));
                        }
                    }
                }
                None => files.retain(|f| f.rel != rel),
            }
            let current = files.iter().find(|f| f.rel == rel);
            l.update(&[(rel.as_str(), current)], &registry);
            let refs: Vec<&SourceFile> = files.iter().collect();
            assert_eq!(live(&l), full(&refs, &registry, &root), "after edit {step}");
            if step == 0 {
                // The next year's report was re-checked and now differs.
                let now = live(&l).expect("checks");
                let line = |v: &[String]| v.iter().find(|s| s.starts_with(&successor)).cloned();
                assert_ne!(line(&now), line(&initial));
            }
        }
        assert_eq!(live(&l).expect("clean"), initial);
        assert!(live(&l).is_ok());
    }
}

#[cfg(test)]
mod prose_tests {
    use super::*;

    /// The lines a search of the whole text picks hold every match that searching each
    /// line finds: patterns that match across lines, at a line's start or end, empty, at
    /// a `\r\n`, or with flags.
    #[test]
    fn lines_picked_from_the_whole_text_hold_every_match() {
        let patterns = [
            r"(?P<n>[0-9]+)件",
            r"^共",
            r"件$",
            r"^$",
            r"x*",
            r"\s*共",
            r"【[^】]{0,40}】",
            r"(?s)申.*件",
            r"(?:XX|ＸＸ)+",
            r"\b12\b",
            r"(?-m)^共",
            r"\A共",
            r"件\z",
        ];
        let body = "收到申请12件，办结3件；共5件\r\n共计【单位\n名称】共XXＸＸ件\n\n中文x文xx\n【未完\n共 12 件\n| 表 | 格 |\n共";
        let lines: Vec<(usize, &str)> = body.lines().enumerate().collect();
        for p in patterns {
            let re = Regex::new(p).expect("pattern");
            let text = crate::schema::text_regex(p);
            assert_eq!(
                text.is_none(),
                p.contains("(?-") || p.contains("\\A") || p.contains("\\z"),
                "{p}"
            );
            let mut slot = None;
            let mut matcher = Matcher::new(&re, text.as_ref(), &mut slot);
            let all = |m: &mut Matcher, lines: &[(usize, &str)]| -> Vec<(usize, usize, usize)> {
                lines
                    .iter()
                    .flat_map(|&(no, line)| {
                        m.all(line)
                            .filter_map(|c| c.get_match().map(|x| (no, x.start(), x.end())))
                            .collect::<Vec<_>>()
                    })
                    .collect()
            };
            let want = all(&mut matcher, &lines);
            let picked = matcher.lines(body, &lines);
            assert_eq!(all(&mut matcher, &picked), want, "{p}");
            // Twice, with the caches warm.
            let picked = matcher.lines(body, &lines);
            assert_eq!(all(&mut matcher, &picked), want, "{p}");
        }
        // Most lines are not searched on their own: here only the two lines a match
        // across them touches (neither holds one of its own).
        let re = Regex::new(r"【[^】]{0,8}】").expect("pattern");
        let text = crate::schema::text_regex(r"【[^】]{0,8}】");
        let mut slot = None;
        let mut matcher = Matcher::new(&re, text.as_ref(), &mut slot);
        assert_eq!(matcher.lines(body, &lines), vec![lines[1], lines[2]]);
    }

    /// The matcher finds what `regex`'s `find_iter` finds, on line after line with the
    /// same cache: several matches a line, anchors at the line's start only, empty
    /// matches stepping over multi-byte characters.
    #[test]
    fn matcher_matches_like_find_iter() {
        let patterns = [
            r"(?P<n>[0-9]+)件",
            r"^共",
            r"x*",
            r"【[^】]{0,40}】",
            r"(?:XX|ＸＸ)+",
        ];
        let lines = [
            "收到申请12件，办结3件；共5件",
            "共计【单位名称】共XXＸＸ件",
            "",
            "中文x文xx",
        ];
        for p in patterns {
            let re = Regex::new(p).expect("pattern");
            let reference = regex::Regex::new(p).expect("pattern");
            let mut slot = None;
            let mut matcher = Matcher::new(&re, None, &mut slot);
            for line in lines {
                let got: Vec<(usize, usize)> = matcher
                    .all(line)
                    .filter_map(|c| c.get_match().map(|m| (m.start(), m.end())))
                    .collect();
                let want: Vec<(usize, usize)> = reference
                    .find_iter(line)
                    .map(|m| (m.start(), m.end()))
                    .collect();
                assert_eq!(got, want, "{p} on {line:?}");
            }
        }
    }

    #[test]
    fn years_are_found_from_nian_as_a_scan_for_digits_finds_them() {
        // The scan this replaced, from the digits forward.
        fn by_digits(sentence: &str) -> Vec<(usize, i32)> {
            let b = sentence.as_bytes();
            let (mut out, mut i) = (Vec::new(), 0);
            while i < b.len() {
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if i == start {
                    i += 1;
                } else if i - start == 4 && sentence[i..].trim_start().starts_with('年') {
                    out.push((start, sentence[start..i].parse().unwrap_or(0)));
                }
            }
            out
        }
        for s in [
            "2023年、 2022 年，12345年，123年，2021　年底，2020",
            "年2024年年 1999\t\n年x0000年",
            "９９９９年 20245年 2024 2025年 a2026年 年",
            "",
            "2024",
            "第2024 号　 年度",
        ] {
            assert_eq!(four_digit_years(s), by_digits(s), "{s}");
        }
    }

    #[test]
    fn years_are_four_digits_before_nian() {
        assert_eq!(
            four_digit_years("2023年、 2022 年，12345年，123年，2021　年底，2020"),
            [(0, 2023), (11, 2022), (42, 2021)]
        );
    }

    #[test]
    fn sentences_are_slices_with_their_first_column() {
        let prose = Prose {
            lines: vec![(3, "  甲乙。 丙丁！戊"), (4, "# 标题。"), (5, "己；   ")],
        };
        assert_eq!(
            prose.sentences(),
            [
                (3, 3, "甲乙。"),
                (3, 7, "丙丁！"),
                (3, 10, "戊"),
                (5, 1, "己；"),
            ]
        );
    }
}
