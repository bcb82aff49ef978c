//! Report formats as data.
//!
//! A format (the 2021 national format, the 2019 trial format, reports before 2019, or a
//! portal's own kind of report) is one YAML file: its sections, its tables as trees of
//! row and column labels, the type of every cell and the relations between cells. The
//! built-in formats are embedded in the binary; a portal may add its own in `schemas/`.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::OnceLock;

use crate::error::{Diagnostic, Error};
use crate::yaml::Pos;

/// The formats that ship with portalgen, as (file name, text).
pub const BUILTIN: &[(&str, &str)] = &[
    ("cn-2021.yaml", include_str!("schemas/cn-2021.yaml")),
    ("cn-2019.yaml", include_str!("schemas/cn-2019.yaml")),
    ("cn-legacy.yaml", include_str!("schemas/cn-legacy.yaml")),
];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// A hash of the format's file: part of the key of every file made from it.
    #[serde(skip)]
    pub fingerprint: u64,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub years: YearRange,
    #[serde(default)]
    pub sections: Vec<Section>,
    #[serde(default)]
    pub tables: Vec<Table>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Numbers derived from the tables for comparisons (agency history, peers, open data).
    #[serde(default)]
    pub figures: Vec<Figure>,
    /// Ratios of figures, with the formula shown to readers.
    #[serde(default)]
    pub rates: Vec<Rate>,
    /// Other formats whose tables mean the same, so that years in the two formats compare.
    #[serde(default)]
    pub comparable: Vec<Comparable>,
}

/// A number derived from one report: the sum of `cells` (`table.row.column`, a term may
/// be negated with a leading `-`). A figure compares across two formats only when both
/// define it and every table it reads is declared comparable between them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Figure {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub label_en: String,
    pub cells: Vec<String>,
    #[serde(default)]
    pub unit: Option<String>,
    /// One of the main series: drawn in an agency's chart.
    #[serde(default)]
    pub chart: bool,
    /// Peer pages offer an order by this figure.
    #[serde(default)]
    pub main: bool,
    /// How the figure is made, when its label does not say it all.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub note_en: Option<String>,
}

impl Figure {
    /// The tables the figure reads.
    pub fn tables(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .cells
            .iter()
            .filter_map(|c| c.trim().trim_start_matches('-').trim().split('.').next())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// `numerator ÷ denominator`, each a sum of figure keys (`-key` subtracts).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub label_en: String,
    pub numerator: Vec<String>,
    pub denominator: Vec<String>,
    /// The formula in words, shown next to the rate.
    pub formula: String,
    #[serde(default)]
    pub formula_en: String,
}

/// Declares that `tables` of this format and of `format` mean the same. A row of the
/// other format's table that this format splits is listed in `rows` (table → that row →
/// the rows of this format that sum to it); comparisons then use the other format's rows.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Comparable {
    pub format: String,
    pub tables: Vec<String>,
    #[serde(default)]
    pub rows: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// Said on every page that compares a year in one format with a year in the other.
    pub note: String,
    #[serde(default)]
    pub note_en: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct YearRange {
    pub from: Option<i32>,
    pub to: Option<i32>,
}

impl YearRange {
    pub fn contains(&self, year: i32) -> bool {
        self.from.is_none_or(|f| year >= f) && self.to.is_none_or(|t| year <= t)
    }
}

/// One of the report's numbered sections (一、总体情况 …).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// The Chinese ordinal that starts the heading: 一, 二 …
    pub ordinal: String,
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub title_en: String,
    /// Words that identify the heading when its wording varies between reports.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The table that belongs in this section, if any.
    #[serde(default)]
    pub table: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Rows down the side, columns across the top.
    #[default]
    Grid,
    /// All cells on one line; the rows become the top level of the column header.
    Flat,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// The front-matter key that holds this table.
    pub key: String,
    /// The section ordinal the table belongs to.
    pub section: String,
    pub caption: String,
    #[serde(default)]
    pub caption_en: String,
    /// A note printed with the table (e.g. the official 勾稽关系 note).
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub note_en: Option<String>,
    /// Unit of every cell unless a column says otherwise.
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub layout: Layout,
    pub blocks: Vec<Block>,
}

/// A rectangular part of a table: row tree × column tree. Table 二 stacks several.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub caption_en: Option<String>,
    /// Header of the row-label column (e.g. 信息内容).
    #[serde(default)]
    pub stub: Option<String>,
    #[serde(default)]
    pub stub_en: Option<String>,
    pub columns: Vec<Axis>,
    pub rows: Vec<Axis>,
    /// Leaf rows and columns, derived once (schemas do not change after loading).
    #[serde(skip)]
    leaves: OnceLock<Leaves>,
}

/// A block's leaves and where each key sits.
#[derive(Debug, Clone)]
struct Leaves {
    rows: Vec<LeafRow>,
    columns: Vec<LeafCol>,
    /// First position of each key. Looked up for every cell of every report (loading,
    /// checks, open data), so with a hasher for short keys.
    row_index: KeyIndex,
    column_index: KeyIndex,
}

type KeyIndex = HashMap<String, usize, crate::fingerprint::FxBuild>;

/// A node of a row or column tree. Leaves have a key; inner nodes only group.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    #[serde(default)]
    pub key: Option<String>,
    pub label: String,
    #[serde(default)]
    pub label_en: String,
    /// Cell type, for columns.
    #[serde(default, rename = "type")]
    pub cell_type: Option<CellType>,
    #[serde(default)]
    pub unit: Option<String>,
    /// The author may leave these cells out; a `fills` rule computes them.
    #[serde(default)]
    pub computed: bool,
    #[serde(default)]
    pub children: Vec<Axis>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CellType {
    /// A non-negative whole number.
    Count,
    /// A whole number that may be negative (2019 本年增/减).
    Signed,
    /// A non-negative exact decimal with at most four places.
    Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Σ left = Σ right, in every row (`per: row`) or column (`per: column`) of a table.
    /// Terms may be negated (`-repealed`) or taken from the agency's previous report
    /// (`previous.carried_out`); a rule with such terms is a cross-year rule.
    Sum,
    /// Every cell of `table` has its column's type (counts ≥ 0, decimals with ≤ 4 places).
    Types,
    /// A number quoted in the prose (a `patterns` match, group `n`) equals one of the sums
    /// listed in `cells` (each a list of `table.row.column` references).
    TextNumber,
    /// A year before the report's year in a sentence without a comparison word (`allow`).
    StaleYear,
    /// A sentence (of at least `min_chars` characters) that appears twice.
    DuplicateText,
    /// A template placeholder left unfilled (`patterns`).
    Placeholder,
    /// Publication after the legal deadline for the agency's kind (`deadlines`, MM-DD of
    /// the year after the report's year).
    Deadline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Per {
    Row,
    Column,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn key(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub kind: RuleKind,
    #[serde(default)]
    pub table: Option<String>,
    #[serde(default)]
    pub per: Option<Per>,
    #[serde(default)]
    pub left: Vec<String>,
    #[serde(default)]
    pub right: Vec<String>,
    /// Limit a sum rule to these rows (`per: row`) or columns (`per: column`).
    #[serde(default)]
    pub only: Vec<String>,
    /// When `left` is one computed cell that the author left out, compute it from `right`.
    #[serde(default)]
    pub fills: bool,
    /// Regular expressions for text rules.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// For `text_number`: the sums a quoted number may equal.
    #[serde(default)]
    pub cells: Vec<Vec<String>>,
    /// For `stale_year`: words that make an older year legitimate (comparisons, history).
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub min_chars: Option<usize>,
    /// For `deadline`: agency kind → `MM-DD` of the following year.
    #[serde(default)]
    pub deadlines: BTreeMap<String, String>,
    pub severity: Severity,
    /// official (printed in the format), structural (implied by a 总计 label), cross_year,
    /// legal (the regulation), heuristic.
    pub source: String,
    pub message: String,
    #[serde(default)]
    pub message_en: String,
    /// Parsed terms and compiled patterns, derived once.
    #[serde(skip)]
    derived: OnceLock<RuleDerived>,
}

#[derive(Debug, Clone)]
struct RuleDerived {
    left: Vec<Term>,
    right: Vec<Term>,
    cross_year: bool,
    /// `patterns` that compile, in order (one that does not is skipped).
    regexes: Vec<regex_automata::meta::Regex>,
    /// The same patterns for a whole text at once (see [`Rule::text_regexes`]).
    text_regexes: Vec<Option<regex_automata::meta::Regex>>,
    /// One matcher for all `allow` words; None when there are none.
    allow: Option<regex::Regex>,
}

/// `pattern` compiled for [`Rule::text_regexes`].
pub(crate) fn text_regex(pattern: &str) -> Option<regex_automata::meta::Regex> {
    let flag_off = pattern.match_indices("(?").any(|(at, _)| {
        pattern[at + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic() || *c == '-')
            .any(|c| c == '-')
    });
    if flag_off || pattern.contains("\\A") || pattern.contains("\\z") {
        return None;
    }
    regex_automata::meta::Builder::new()
        .syntax(
            regex_automata::util::syntax::Config::new()
                .multi_line(true)
                .crlf(true),
        )
        .build(pattern)
        .ok()
}

/// One term of a sum rule: `key`, `-key`, `previous.key`, `-previous.key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub negative: bool,
    pub previous: bool,
    pub key: String,
}

impl Term {
    /// The key a term names, without its sign or `previous.`: [`Term::parse`]'s `key`,
    /// not copied (figures are looked up by it for every report).
    pub fn key_of(text: &str) -> &str {
        let rest = match text.trim().strip_prefix('-') {
            Some(r) => r.trim(),
            None => text.trim(),
        };
        rest.strip_prefix("previous.").unwrap_or(rest)
    }

    pub fn parse(text: &str) -> Term {
        let (negative, rest) = match text.trim().strip_prefix('-') {
            Some(r) => (true, r.trim()),
            None => (false, text.trim()),
        };
        let (previous, key) = match rest.strip_prefix("previous.") {
            Some(k) => (true, k),
            None => (false, rest),
        };
        Term {
            negative,
            previous,
            key: key.to_owned(),
        }
    }
}

impl Rule {
    fn derived(&self) -> &RuleDerived {
        self.derived.get_or_init(|| {
            let left: Vec<Term> = self.left.iter().map(|t| Term::parse(t)).collect();
            let right: Vec<Term> = self.right.iter().map(|t| Term::parse(t)).collect();
            let cross_year = left.iter().chain(&right).any(|t| t.previous);
            let (regexes, text_regexes) = self
                .patterns
                .iter()
                .filter_map(|p| {
                    let re = regex_automata::meta::Regex::new(p).ok()?;
                    Some((re, text_regex(p)))
                })
                .unzip();
            let allow = (!self.allow.is_empty())
                .then(|| {
                    let words: Vec<String> = self.allow.iter().map(|w| regex::escape(w)).collect();
                    regex::Regex::new(&words.join("|")).ok()
                })
                .flatten();
            RuleDerived {
                left,
                right,
                cross_year,
                regexes,
                text_regexes,
                allow,
            }
        })
    }

    pub fn left_terms(&self) -> Vec<Term> {
        self.left_terms_ref().to_vec()
    }

    pub fn right_terms(&self) -> Vec<Term> {
        self.right_terms_ref().to_vec()
    }

    /// The parsed `left` terms, computed once.
    pub fn left_terms_ref(&self) -> &[Term] {
        &self.derived().left
    }

    /// The parsed `right` terms, computed once.
    pub fn right_terms_ref(&self) -> &[Term] {
        &self.derived().right
    }

    /// True when the rule compares with the agency's previous report.
    pub fn is_cross_year(&self) -> bool {
        self.derived().cross_year
    }

    /// The rule's `patterns`, compiled once; patterns that do not compile are left out.
    pub fn regexes(&self) -> &[regex_automata::meta::Regex] {
        &self.derived().regexes
    }

    /// For each of [`Rule::regexes`], the pattern compiled to search a whole text, whose
    /// lines are matched one by one, at once: `^` and `$` match at each line's start and
    /// end (`\n` or `\r\n`). A line with a match has a match of this one touching it,
    /// so only those lines need a search of their own (see `check::Matcher`). `None` for
    /// a pattern where that does not hold: one with `\A` or `\z` (a line's start and
    /// end, but the text's here) or a flag turned off (`(?-m)`).
    pub fn text_regexes(&self) -> &[Option<regex_automata::meta::Regex>] {
        &self.derived().text_regexes
    }

    /// True when `text` contains one of the `allow` words.
    pub fn allows(&self, text: &str) -> bool {
        match &self.derived().allow {
            Some(re) => re.is_match(text),
            // An `allow` word that cannot be matched by a pattern: look for it plainly.
            None => self.allow.iter().any(|w| text.contains(w.as_str())),
        }
    }
}

/// A leaf column with its position and the labels above it.
#[derive(Debug, Clone, Serialize)]
pub struct LeafCol {
    pub key: String,
    pub label: String,
    pub label_en: String,
    pub cell_type: CellType,
    pub unit: Option<String>,
    pub computed: bool,
}

/// A leaf row with the labels of the groups it sits in.
#[derive(Debug, Clone, Serialize)]
pub struct LeafRow {
    pub key: String,
    pub label: String,
    pub label_en: String,
    pub computed: bool,
    /// Labels from the outermost group down to this row, e.g. [三、本年度办理结果, （三）不予公开, 1．属于国家秘密].
    pub path: Vec<String>,
}

impl Block {
    fn leaves(&self) -> &Leaves {
        self.leaves.get_or_init(|| {
            let rows = self.walk_rows();
            let columns = self.walk_columns();
            let mut row_index = KeyIndex::default();
            for (i, r) in rows.iter().enumerate() {
                row_index.entry(r.key.clone()).or_insert(i);
            }
            let mut column_index = KeyIndex::default();
            for (i, c) in columns.iter().enumerate() {
                column_index.entry(c.key.clone()).or_insert(i);
            }
            Leaves {
                rows,
                columns,
                row_index,
                column_index,
            }
        })
    }

    /// The leaf rows, computed once per block.
    pub fn leaf_rows_ref(&self) -> &[LeafRow] {
        &self.leaves().rows
    }

    /// The leaf columns, computed once per block.
    pub fn leaf_columns_ref(&self) -> &[LeafCol] {
        &self.leaves().columns
    }

    /// Index of the first leaf row with this key.
    pub fn row_position(&self, key: &str) -> Option<usize> {
        self.leaves().row_index.get(key).copied()
    }

    /// Index of the first leaf column with this key.
    pub fn column_position(&self, key: &str) -> Option<usize> {
        self.leaves().column_index.get(key).copied()
    }

    pub fn leaf_columns(&self) -> Vec<LeafCol> {
        self.leaf_columns_ref().to_vec()
    }

    pub fn leaf_rows(&self) -> Vec<LeafRow> {
        self.leaf_rows_ref().to_vec()
    }

    fn walk_columns(&self) -> Vec<LeafCol> {
        let mut out = Vec::new();
        fn walk(nodes: &[Axis], unit: Option<&String>, out: &mut Vec<LeafCol>) {
            for n in nodes {
                let unit = n.unit.as_ref().or(unit);
                if n.children.is_empty() {
                    out.push(LeafCol {
                        key: n.key.clone().unwrap_or_default(),
                        label: n.label.clone(),
                        label_en: n.label_en.clone(),
                        cell_type: n.cell_type.unwrap_or(CellType::Count),
                        unit: unit.cloned(),
                        computed: n.computed,
                    });
                } else {
                    walk(&n.children, unit, out);
                }
            }
        }
        walk(&self.columns, None, &mut out);
        out
    }

    fn walk_rows(&self) -> Vec<LeafRow> {
        let mut out = Vec::new();
        fn walk(nodes: &[Axis], path: &mut Vec<String>, out: &mut Vec<LeafRow>) {
            for n in nodes {
                path.push(n.label.clone());
                if n.children.is_empty() {
                    out.push(LeafRow {
                        key: n.key.clone().unwrap_or_default(),
                        label: n.label.clone(),
                        label_en: n.label_en.clone(),
                        computed: n.computed,
                        path: path.clone(),
                    });
                } else {
                    walk(&n.children, path, out);
                }
                path.pop();
            }
        }
        walk(&self.rows, &mut Vec::new(), &mut out);
        out
    }
}

impl Table {
    /// The block whose axis (columns for `per: row`, rows for `per: column`) holds every
    /// key the rule names.
    pub fn rule_block(&self, rule: &Rule) -> Option<(usize, &Block)> {
        let per = rule.per?;
        let terms = rule.left_terms_ref().iter().chain(rule.right_terms_ref());
        self.blocks.iter().enumerate().find(|(_, b)| {
            terms.clone().all(|t| match per {
                Per::Row => b.column_position(&t.key).is_some(),
                Per::Column => b.row_position(&t.key).is_some(),
            })
        })
    }

    /// Finds the cell `row.column` in whichever block has it: (block, row index, column index).
    pub fn locate(&self, row: &str, column: &str) -> Option<(usize, usize, usize)> {
        self.blocks.iter().enumerate().find_map(|(bi, b)| {
            let r = b.row_position(row)?;
            let c = b.column_position(column)?;
            Some((bi, r, c))
        })
    }
}

impl Schema {
    pub fn table(&self, key: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.key == key)
    }

    /// Finds a table by its key or by the ordinal of its section (二, 三, 四).
    pub fn table_by_key_or_ordinal(&self, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.key == name || t.section == name)
    }

    /// Checks that the file is consistent in itself: unique keys, leaves with keys,
    /// rules that name existing cells. A schema error is the schema author's, so it is
    /// reported against the schema file.
    fn validate(&self, file: &str) -> Result<(), Vec<Diagnostic>> {
        let mut problems = Vec::new();
        let mut bad = |msg: String| {
            problems.push(Diagnostic::error(file, Pos::default(), msg.clone(), msg));
        };
        for table in &self.tables {
            if !self.sections.iter().any(|s| s.ordinal == table.section) {
                bad(format!(
                    "table `{}` names section `{}`, which is not declared",
                    table.key, table.section
                ));
            }
            let mut row_keys = BTreeMap::new();
            for block in &table.blocks {
                for row in block.leaf_rows() {
                    if row.key.is_empty() {
                        bad(format!(
                            "table `{}`: row `{}` has no key",
                            table.key, row.label
                        ));
                    } else if row_keys.insert(row.key.clone(), ()).is_some() {
                        bad(format!(
                            "table `{}`: row key `{}` is used twice",
                            table.key, row.key
                        ));
                    }
                }
                let mut col_keys = BTreeMap::new();
                for col in block.leaf_columns() {
                    if col.key.is_empty() {
                        bad(format!(
                            "table `{}`: column `{}` has no key",
                            table.key, col.label
                        ));
                    } else if col_keys.insert(col.key.clone(), ()).is_some() {
                        bad(format!(
                            "table `{}`: column key `{}` is used twice",
                            table.key, col.key
                        ));
                    }
                }
            }
        }
        let mut ids = BTreeMap::new();
        for rule in &self.rules {
            if ids.insert(rule.id.clone(), ()).is_some() {
                bad(format!("rule id {} is used twice", rule.id));
            }
            let table = match &rule.table {
                Some(t) => match self.table(t) {
                    Some(t) => Some(t),
                    None => {
                        bad(format!(
                            "rule {} names table `{t}`, which is not declared",
                            rule.id
                        ));
                        continue;
                    }
                },
                None => None,
            };
            match rule.kind {
                RuleKind::Sum => {
                    let (Some(table), Some(_)) = (table, rule.per) else {
                        bad(format!(
                            "rule {}: a sum rule needs `table` and `per`",
                            rule.id
                        ));
                        continue;
                    };
                    if rule.left.is_empty() || rule.right.is_empty() {
                        bad(format!(
                            "rule {}: a sum rule needs `left` and `right`",
                            rule.id
                        ));
                    }
                    if table.rule_block(rule).is_none() {
                        bad(format!(
                            "rule {}: no block of table `{}` has all of {:?} as its {}",
                            rule.id,
                            table.key,
                            rule.left.iter().chain(&rule.right).collect::<Vec<_>>(),
                            if rule.per == Some(Per::Row) {
                                "columns"
                            } else {
                                "rows"
                            }
                        ));
                    }
                    if rule.fills && (rule.left.len() != 1 || rule.is_cross_year()) {
                        bad(format!(
                            "rule {}: `fills` needs exactly one cell of this report on the left",
                            rule.id
                        ));
                    }
                }
                RuleKind::Types if table.is_none() => {
                    bad(format!("rule {}: a types rule needs `table`", rule.id));
                }
                RuleKind::TextNumber => {
                    if rule.patterns.is_empty() || rule.cells.is_empty() {
                        bad(format!(
                            "rule {}: a text_number rule needs `patterns` and `cells`",
                            rule.id
                        ));
                    }
                    for reference in rule.cells.iter().flatten() {
                        let parts: Vec<&str> = reference.split('.').collect();
                        let found = parts.len() == 3
                            && self
                                .table(parts[0])
                                .and_then(|t| t.locate(parts[1], parts[2]))
                                .is_some();
                        if !found {
                            bad(format!(
                                "rule {}: `{reference}` is not a table.row.column of this format",
                                rule.id
                            ));
                        }
                    }
                }
                RuleKind::Placeholder if rule.patterns.is_empty() => {
                    bad(format!(
                        "rule {}: a placeholder rule needs `patterns`",
                        rule.id
                    ));
                }
                RuleKind::Deadline => {
                    for (kind, date) in &rule.deadlines {
                        let ok = date.len() == 5
                            && date.as_bytes()[2] == b'-'
                            && date[..2]
                                .parse::<u32>()
                                .is_ok_and(|m| (1..=12).contains(&m))
                            && date[3..]
                                .parse::<u32>()
                                .is_ok_and(|d| (1..=31).contains(&d));
                        if !ok {
                            bad(format!(
                                "rule {}: deadline `{date}` for `{kind}` is not MM-DD",
                                rule.id
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        self.validate_figures(&mut bad);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Figures name cells of this format, rates name figures, comparable tables exist.
    fn validate_figures(&self, bad: &mut impl FnMut(String)) {
        let mut keys = BTreeMap::new();
        for f in &self.figures {
            if keys.insert(f.key.as_str(), ()).is_some() {
                bad(format!("figure `{}` is declared twice", f.key));
            }
            if f.cells.is_empty() {
                bad(format!("figure `{}` has no cells", f.key));
            }
            for reference in &f.cells {
                let parts: Vec<&str> = reference
                    .trim()
                    .trim_start_matches('-')
                    .trim()
                    .split('.')
                    .collect();
                let found = parts.len() == 3
                    && self
                        .table(parts[0])
                        .and_then(|t| t.locate(parts[1], parts[2]))
                        .is_some();
                if !found {
                    bad(format!(
                        "figure `{}`: `{reference}` is not a table.row.column of this format",
                        f.key
                    ));
                }
            }
        }
        for r in &self.rates {
            if keys.insert(r.key.as_str(), ()).is_some() {
                bad(format!("rate `{}`: the key is already used", r.key));
            }
            if r.numerator.is_empty() || r.denominator.is_empty() {
                bad(format!(
                    "rate `{}` needs a numerator and a denominator",
                    r.key
                ));
            }
            for term in r.numerator.iter().chain(&r.denominator) {
                let t = Term::parse(term);
                if t.previous || !self.figures.iter().any(|f| f.key == t.key) {
                    bad(format!(
                        "rate `{}`: `{term}` is not a figure of this format",
                        r.key
                    ));
                }
            }
        }
        for c in &self.comparable {
            for t in &c.tables {
                if self.table(t).is_none() {
                    bad(format!(
                        "comparable with {}: table `{t}` is not declared",
                        c.format
                    ));
                }
            }
            for (t, rows) in &c.rows {
                let Some(table) = self.table(t).filter(|_| c.tables.contains(t)) else {
                    bad(format!(
                        "comparable with {}: `rows` names table `{t}`, which is not one of its tables",
                        c.format
                    ));
                    continue;
                };
                let own: Vec<String> = table
                    .blocks
                    .iter()
                    .flat_map(|b| b.leaf_rows().into_iter().map(|r| r.key))
                    .collect();
                for (other, parts) in rows {
                    for part in parts {
                        if !own.contains(part) {
                            bad(format!(
                                "comparable with {}: row `{part}` (for `{other}`) is not a row of table `{t}`",
                                c.format
                            ));
                        }
                    }
                }
            }
        }
    }
}

/// Checks what one format says about another: the other format exists, has the tables,
/// and every row and column of its comparable tables can be found in this format (by key,
/// or through `rows`).
fn validate_comparisons(schemas: &BTreeMap<String, Schema>) -> Vec<String> {
    let mut out = Vec::new();
    for schema in schemas.values() {
        for c in &schema.comparable {
            let Some(other) = schemas.get(&c.format) else {
                out.push(format!(
                    "format {}: comparable with unknown format `{}`",
                    schema.id, c.format
                ));
                continue;
            };
            for t in &c.tables {
                let (Some(mine), Some(theirs)) = (schema.table(t), other.table(t)) else {
                    out.push(format!(
                        "format {}: table `{t}` is not in format {}",
                        schema.id, other.id
                    ));
                    continue;
                };
                let mapped = c.rows.get(t);
                for block in &theirs.blocks {
                    for row in block.leaf_rows() {
                        let parts = mapped
                            .and_then(|m| m.get(&row.key))
                            .cloned()
                            .unwrap_or_else(|| vec![row.key.clone()]);
                        for col in block.leaf_columns() {
                            for part in &parts {
                                if mine.locate(part, &col.key).is_none() {
                                    out.push(format!(
                                        "format {}: cell {t}.{}.{} of format {} has no counterpart `{t}.{part}.{}`",
                                        schema.id, row.key, col.key, other.id, col.key
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// Every format a portal can use, by id.
#[derive(Debug, Clone)]
pub struct Registry {
    schemas: BTreeMap<String, Schema>,
}

impl Registry {
    /// The built-in formats plus the portal's own `schemas/*.yaml`, if that folder exists.
    pub fn load(portal_schemas: &Path) -> Result<Registry, Error> {
        let mut sources: Vec<(String, String)> = BUILTIN
            .iter()
            .map(|(name, text)| (format!("<built-in>/{name}"), (*text).to_owned()))
            .collect();
        if portal_schemas.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(portal_schemas)
                .map_err(|e| Error::io(portal_schemas, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            files.sort();
            for path in files {
                let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                sources.push((path.display().to_string(), text));
            }
        }
        let mut schemas = BTreeMap::new();
        let mut problems = Vec::new();
        for (file, text) in sources {
            match Self::parse_one(&file, &text) {
                Ok(schema) => {
                    if schemas.contains_key(&schema.id) {
                        let msg = format!("format id `{}` is declared twice", schema.id);
                        problems.push(Diagnostic::error(&file, Pos::default(), msg.clone(), msg));
                    } else {
                        schemas.insert(schema.id.clone(), schema);
                    }
                }
                Err(mut d) => problems.append(&mut d),
            }
        }
        for msg in validate_comparisons(&schemas) {
            problems.push(Diagnostic::error(
                "<formats>",
                Pos::default(),
                msg.clone(),
                msg,
            ));
        }
        if problems.is_empty() {
            Ok(Registry { schemas })
        } else {
            Err(Error::Diagnostics(problems))
        }
    }

    fn parse_one(file: &str, text: &str) -> Result<Schema, Vec<Diagnostic>> {
        let schema: Schema = serde_saphyr::from_str(text).map_err(|e| {
            let pos = e
                .location()
                .map(|l| Pos {
                    line: l.line() as usize,
                    column: l.column() as usize,
                })
                .unwrap_or_default();
            let msg = format!("invalid format file: {}", e.without_snippet());
            vec![Diagnostic::error(file, pos, msg.clone(), msg)]
        })?;
        schema.validate(file)?;
        Ok(Schema {
            fingerprint: crate::fingerprint::of_bytes(text.as_bytes()),
            ..schema
        })
    }

    pub fn get(&self, id: &str) -> Option<&Schema> {
        self.schemas.get(id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.schemas.keys().map(String::as_str)
    }

    pub fn all(&self) -> impl Iterator<Item = &Schema> {
        self.schemas.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_formats_load_and_have_the_official_cell_counts() {
        let reg = Registry::load(Path::new("/nonexistent")).expect("built-in schemas are valid");
        let count = |id: &str, table: &str| -> usize {
            let t = reg.get(id).and_then(|s| s.table(table)).expect("table");
            t.blocks
                .iter()
                .map(|b| b.leaf_rows().len() * b.leaf_columns().len())
                .sum()
        };
        assert_eq!(count("cn-2021", "active_disclosure"), 10);
        assert_eq!(count("cn-2021", "applications"), 175);
        assert_eq!(count("cn-2021", "review_litigation"), 15);
        assert_eq!(count("cn-2019", "active_disclosure"), 22);
        assert_eq!(count("cn-2019", "applications"), 161);
        assert_eq!(count("cn-2019", "review_litigation"), 15);
        assert!(reg.get("cn-legacy").is_some_and(|s| s.tables.is_empty()));
    }
}
