//! Comparisons: one agency across its years, two consecutive years cell by cell, and the
//! agencies of one year side by side.
//!
//! What is compared is data of each format: its `figures` (sums of cells), `rates`
//! (ratios of figures, with their formula) and `comparable` (which tables of two formats
//! mean the same, and which rows one format splits). No code here names a row. Figures
//! are computed once per report; every view is then built from those, per agency or per
//! year, so the work grows linearly with the number of reports.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::decimal::Decimal;
use crate::i18n::Translations;
use crate::model::{AgencyKind, BlockData, Cell, Library, Origin, Report, TableData};
use crate::render::{agency_url, kind_label, report_url};
use crate::schema::{Comparable, Registry, Schema, Table, Term};
use crate::tables::{self, HeaderCell};

/// One report's figures and rates, in its format's order.
pub struct Computed<'a> {
    pub report: &'a Report,
    pub schema: Option<&'a Schema>,
    /// Aligned with `schema.figures`; None when the report lacks a cell the figure reads.
    pub figures: Vec<Option<Decimal>>,
    /// Aligned with `schema.rates`: (numerator, denominator).
    pub rates: Vec<Option<(Decimal, Decimal)>>,
}

impl Computed<'_> {
    /// True when the report has numbers to compare (its format defines figures).
    pub fn numeric(&self) -> bool {
        self.figures.iter().any(Option::is_some)
    }

    pub fn figure(&self, key: &str) -> Option<Decimal> {
        let i = self.schema?.figures.iter().position(|f| f.key == key)?;
        self.figures.get(i).copied().flatten()
    }

    pub fn rate(&self, key: &str) -> Option<(Decimal, Decimal)> {
        let i = self.schema?.rates.iter().position(|r| r.key == key)?;
        self.rates.get(i).copied().flatten()
    }
}

fn sum(values: impl IntoIterator<Item = Option<Decimal>>) -> Option<Decimal> {
    values
        .into_iter()
        .try_fold(Decimal::zero(), |acc, v| v.map(|v| acc + v))
}

/// A format's figures and rates with their references resolved once, so that computing
/// a report's figures is looking its cells up: parsing and finding every reference for
/// every report took most of the comparisons' set-up.
pub struct Recipe {
    /// Per figure: its cells as (table, block, row, column, negated), the table by its
    /// place in the format; None when a reference names no cell of the format.
    figures: Vec<Option<Vec<CellRef>>>,
    /// Per rate: its numerator's and denominator's figures as (figure, negated); None
    /// when a term names no figure.
    rates: Vec<Option<RateTerms>>,
}

type RateTerms = (Vec<(usize, bool)>, Vec<(usize, bool)>);

/// A cell a figure reads: (table, block, row, column, negated).
type CellRef = (usize, usize, usize, usize, bool);

impl Recipe {
    pub fn new(schema: &Schema) -> Recipe {
        let cell = |reference: &String| {
            let term = Term::parse(reference);
            let mut parts = term.key.splitn(3, '.');
            let (table, row, col) = (parts.next()?, parts.next()?, parts.next()?);
            let ti = schema.tables.iter().position(|t| t.key == table)?;
            let (bi, ri, ci) = schema.tables[ti].locate(row, col)?;
            Some((ti, bi, ri, ci, term.negative))
        };
        let figure = |text: &String| {
            let t = Term::parse(text);
            let i = schema.figures.iter().position(|f| f.key == t.key)?;
            Some((i, t.negative))
        };
        Recipe {
            figures: schema
                .figures
                .iter()
                .map(|f| f.cells.iter().map(cell).collect())
                .collect(),
            rates: schema
                .rates
                .iter()
                .map(|r| {
                    let n = r.numerator.iter().map(figure).collect::<Option<Vec<_>>>()?;
                    let d = r
                        .denominator
                        .iter()
                        .map(figure)
                        .collect::<Option<Vec<_>>>()?;
                    Some((n, d))
                })
                .collect(),
        }
    }
}

/// Computes a report's figures and rates (`recipe` is its format's).
pub fn compute<'a>(
    report: &'a Report,
    schema: Option<&'a Schema>,
    recipe: Option<&Recipe>,
) -> Computed<'a> {
    let (Some(s), Some(recipe)) = (schema, recipe) else {
        return Computed {
            report,
            schema,
            figures: Vec::new(),
            rates: Vec::new(),
        };
    };
    let tables: Vec<Option<&crate::model::TableData>> =
        s.tables.iter().map(|t| report.table(&t.key)).collect();
    let value = |&(ti, bi, ri, ci, negative): &CellRef| {
        let data: &crate::model::TableData = tables.get(ti).copied().flatten()?;
        let v = data.blocks.get(bi)?.get(ri, ci)?.value;
        Some(if negative { Decimal::zero() - v } else { v })
    };
    let figures: Vec<Option<Decimal>> = recipe
        .figures
        .iter()
        .map(|cells| sum(cells.as_ref()?.iter().map(value)))
        .collect();
    let term = |&(i, negative): &(usize, bool)| {
        let v = figures.get(i).copied().flatten()?;
        Some(if negative { Decimal::zero() - v } else { v })
    };
    let rates = recipe
        .rates
        .iter()
        .map(|r| {
            let (n, d) = r.as_ref()?;
            Some((sum(n.iter().map(term))?, sum(d.iter().map(term))?))
        })
        .collect();
    Computed {
        report,
        schema,
        figures,
        rates,
    }
}

// ---------------------------------------------------------------------------------------
// Numbers as shown: exact decimals, signed differences, percentages with one decimal.

/// `n ÷ d` as a percentage with one decimal place, rounded half away from zero
/// (`"12.5"`); None when `d` is zero.
pub fn percent(n: Decimal, d: Decimal) -> Option<String> {
    let (n, d) = (n.units(), d.units());
    if d == 0 {
        return None;
    }
    let x = n * 1000;
    // 64-bit division when both fit (128-bit division is a library call).
    let (mut q, r) = match (i64::try_from(x), i64::try_from(d)) {
        (Ok(x), Ok(d)) => match (x.checked_div(d), x.checked_rem(d)) {
            (Some(q), Some(r)) => (i128::from(q), i128::from(r)),
            _ => (i128::from(x) / i128::from(d), i128::from(x) % i128::from(d)),
        },
        _ => (x / d, x % d),
    };
    if 2 * r.abs() >= d.abs() {
        if (x < 0) != (d < 0) {
            q -= 1;
        } else {
            q += 1;
        }
    }
    Some(tenths_text(q))
}

/// Tenths as text with one decimal: `-12.5`. Written by hand: agency pages print
/// thousands of percentages.
fn tenths_text(q: i128) -> String {
    let mut out = String::with_capacity(8);
    if q < 0 {
        out.push('-');
    }
    let q = q.unsigned_abs();
    crate::decimal::push_digits(&mut out, q / 10);
    out.push('.');
    out.push(char::from(b'0' + (q % 10) as u8));
    out
}

/// A difference with its sign: `+3`, `-2`, `0`.
pub fn signed(d: Decimal) -> String {
    let mut buf = [0; 24];
    let text = d.format(&mut buf);
    let mut out = String::with_capacity(text.len() + 1);
    if d.units() > 0 {
        out.push('+');
    }
    out.push_str(text);
    out
}

/// A percentage string with its sign: `+12.5`, `-3.0`, `0.0`.
fn signed_pct(p: String) -> String {
    if p.starts_with('-') || p.chars().all(|c| c == '0' || c == '.') {
        p
    } else {
        format!("+{p}")
    }
}

/// Tenths of a percent from a `percent` string, for differences of rates.
fn tenths(p: &str) -> Option<i64> {
    let (int, frac) = p.split_once('.')?;
    let neg = int.starts_with('-');
    let v = int.trim_start_matches('-').parse::<i64>().ok()? * 10 + frac.parse::<i64>().ok()?;
    Some(if neg { -v } else { v })
}

fn from_tenths(t: i64) -> String {
    tenths_text(t.into())
}

/// Up, down or unchanged, for symbols and the words read out instead of them.
fn direction(units: i128) -> &'static str {
    match units.signum() {
        1 => "up",
        -1 => "down",
        _ => "same",
    }
}

// ---------------------------------------------------------------------------------------
// Which formats compare.

/// The declaration that makes formats `a` and `b` comparable, with the format whose rows
/// comparisons use (the one the declaration names). None for the same format.
fn declaration<'s>(a: &'s Schema, b: &'s Schema) -> Option<(&'s Comparable, &'s Schema)> {
    if let Some(c) = a.comparable.iter().find(|c| c.format == b.id) {
        return Some((c, b));
    }
    b.comparable
        .iter()
        .find(|c| c.format == a.id)
        .map(|c| (c, a))
}

/// True when figure `key` of a report in format `a` compares with the same figure of a
/// report in format `b`.
pub fn figure_comparable(a: &Schema, b: &Schema, key: &str) -> bool {
    let (Some(fa), Some(fb)) = (
        a.figures.iter().find(|f| f.key == key),
        b.figures.iter().find(|f| f.key == key),
    ) else {
        return false;
    };
    if a.id == b.id {
        return true;
    }
    let Some((decl, _)) = declaration(a, b) else {
        return false;
    };
    fa.tables()
        .iter()
        .chain(fb.tables().iter())
        .all(|t| decl.tables.iter().any(|d| d == t))
}

/// A report's figure, or a rate's numerator and denominator (see
/// `Comparisons::history_cell`).
#[derive(Clone, Copy)]
enum Number {
    Figure(Option<Decimal>),
    Rate(Option<(Decimal, Decimal)>),
}

impl Number {
    fn is_some(&self) -> bool {
        match self {
            Number::Figure(v) => v.is_some(),
            Number::Rate(r) => r.is_some(),
        }
    }

    /// As the history shows it: the figure, or the rate as a percentage.
    fn text(&self) -> Option<String> {
        match self {
            Number::Figure(v) => v.map(|v| v.to_string()),
            Number::Rate(r) => r.and_then(|(n, d)| percent(n, d)),
        }
    }
}

/// Whether one row's figure or rate compares between two formats, remembered by pair of
/// formats: a row of an agency's history asks once per year, mostly of the same pair.
#[derive(Default)]
struct Comparability(Vec<(*const Schema, *const Schema, bool)>);

impl Comparability {
    fn of(&mut self, a: &Schema, b: &Schema, find: impl FnOnce() -> bool) -> bool {
        let key = (a as *const Schema, b as *const Schema);
        if let Some(&(_, _, known)) = self.0.iter().find(|(x, y, _)| (*x, *y) == key) {
            return known;
        }
        let known = find();
        self.0.push((key.0, key.1, known));
        known
    }
}

/// True when rate `key` compares between formats `a` and `b`.
pub fn rate_comparable(a: &Schema, b: &Schema, key: &str) -> bool {
    let (Some(ra), Some(rb)) = (
        a.rates.iter().find(|r| r.key == key),
        b.rates.iter().find(|r| r.key == key),
    ) else {
        return false;
    };
    ra.numerator
        .iter()
        .chain(&ra.denominator)
        .chain(&rb.numerator)
        .chain(&rb.denominator)
        .all(|t| figure_comparable(a, b, Term::key_of(t)))
}

/// The note pages show when two years in different formats are compared.
#[cfg(test)]
fn cross_format_note(a: &Schema, b: &Schema) -> Option<String> {
    cross_format_note_in(a, b, false)
}

/// The note in English when `english` (and the format has one), else in Chinese.
fn cross_format_note_in(a: &Schema, b: &Schema, english: bool) -> Option<String> {
    if a.id == b.id {
        return None;
    }
    declaration(a, b).map(|(c, _)| {
        if english && !c.note_en.is_empty() {
            c.note_en.clone()
        } else {
            c.note.clone()
        }
    })
}

// ---------------------------------------------------------------------------------------
// Views for templates.

/// A change from the year before.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// `+3`, `-2`, `0`; for rates, percentage points.
    pub diff: String,
    /// Change in percent of last year's value (`+12.5`); None when last year was 0.
    pub pct: Option<String>,
    /// `up`, `down`, `same`.
    pub dir: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryCell {
    pub year: i32,
    /// As shown (`7`, `2595.45`; rates `12.5`); None when that year's format lacks it or a
    /// rate's denominator is 0.
    pub value: Option<String>,
    pub change: Option<Change>,
    /// Why there is no change: `first`, `no_previous`, `incomparable`, `missing`,
    /// `zero_denominator`.
    pub why: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    pub key: String,
    /// The row header's id (`h0r3`: short, as every cell of the row lists it in `headers`).
    pub id: String,
    pub label: String,
    pub label_en: String,
    pub unit: Option<String>,
    pub note: Option<String>,
    pub is_rate: bool,
    pub formula: Option<String>,
    pub formula_en: Option<String>,
    /// The row's cells, year by year. Pages get them made, as `cells_html` (see
    /// `SiteRender::history_cells`), and this list empty.
    pub cells: Vec<HistoryCell>,
    /// Each year's value and change cells (`td`), with their `headers`.
    pub cells_html: String,
}

/// The figures of one table of the format, across the agency's years.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryGroup {
    /// The table's id (`h-applications`).
    pub id: String,
    /// The prefix of its header cells' ids (`h0`: the year headers are `h0y2021`, with
    /// `h0y2021v` over the values and `h0y2021d` over the changes).
    pub hid: String,
    pub caption: String,
    pub rows: Vec<HistoryRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct YearRef {
    pub year: i32,
    pub url: String,
    pub format_name: String,
    /// The year has numbers to compare (a format with tables).
    pub numeric: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairRef {
    pub y1: i32,
    pub y2: i32,
    pub url: String,
    pub cross_format: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgencyRef {
    pub id: String,
    pub name: String,
    /// From the site's top; None when the agency has no page (no reports).
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FormerNameView {
    pub name: String,
    pub from: Option<String>,
    pub until: String,
}

/// What the agency registry says about an agency.
#[derive(Debug, Clone, Serialize)]
pub struct RegistryView {
    pub parent: Option<AgencyRef>,
    pub children: Vec<AgencyRef>,
    pub former_names: Vec<FormerNameView>,
    pub merged_into: Option<AgencyRef>,
    pub merged_on: Option<String>,
    pub merged_from: Vec<MergedFrom>,
}

/// An agency merged into this one, and when.
#[derive(Debug, Clone, Serialize)]
pub struct MergedFrom {
    pub agency: AgencyRef,
    pub date: String,
}

/// One agency's history: the agency page's comparison section.
#[derive(Debug, Clone, Serialize)]
pub struct AgencyHistory {
    pub id: String,
    pub name: String,
    pub registry: Option<RegistryView>,
    /// Every year with a report, oldest first.
    pub years: Vec<YearRef>,
    /// Years whose reports have numbers, oldest first: the columns of the tables.
    pub numeric_years: Vec<i32>,
    /// Years before the national tables: listed, not compared.
    pub legacy_years: Vec<i32>,
    pub groups: Vec<HistoryGroup>,
    pub chart: Option<Chart>,
    pub pairs: Vec<PairRef>,
    /// Notes on comparisons across formats.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChartSeries {
    pub key: String,
    pub label: String,
    pub label_en: String,
    /// One per year of `Chart::years`.
    pub values: Vec<Option<String>>,
}

/// The chart of an agency's main series, and the same numbers as a table.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub svg: String,
    pub years: Vec<i32>,
    pub series: Vec<ChartSeries>,
}

/// A body row of a cell-by-cell comparison.
#[derive(Debug, Clone)]
pub struct CompareRow {
    /// The row's header cells (templates get them made, in `body_html`).
    pub stubs: Vec<HeaderCell>,
    /// The row's header cells as HTML, rendered once per format's table by the render
    /// stage (`partials/table_stubs.html`).
    pub stubs_html: tables::Html,
    /// The row's data cells as HTML: each official cell is three `td`, the first year's
    /// value, the second year's and the difference (class `up`, `down` or `same`), under
    /// the sub-headers of its leaf column (ids `{leaf}a`, `{leaf}b`, `{leaf}d`) and its
    /// official row and column headers. Made here, not in the template: 9,000 pages of
    /// about 600 cells each at 10,000 reports took Tera 4 s of CPU; made here, a fraction.
    pub cells_html: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompareBlock {
    pub id: String,
    pub caption: Option<String>,
    /// The official header rows, each column header three columns wide (first year,
    /// second year, change) and the corner one row taller, for the row of `leaves`
    /// (templates get them made, as `head_html`).
    #[serde(skip)]
    pub header_rows: Vec<Vec<HeaderCell>>,
    /// The header rows as HTML, rendered once per format's table by the render stage
    /// (`partials/table_head.html`).
    pub head_html: tables::Html,
    /// The ids of the leaf column headers, in order: the last header row has the year and
    /// change sub-headers of each.
    pub leaves: Vec<String>,
    /// The body rows; the render stage prints them into `body_html` (their stubs are the
    /// theme's) and empties this.
    #[serde(skip)]
    pub rows: Vec<CompareRow>,
    /// The last header row as HTML (`<tr>`, then per leaf column its first year's,
    /// second year's and change's `th`, with ids `{leaf}a`, `{leaf}b`, `{leaf}d`), made by
    /// the render stage in the theme's words (`common.year`, `compare.change`).
    pub years_html: String,
    /// The body rows as HTML, made by the render stage: per row, `<tr>`, its stubs and
    /// `cells_html`. Made in Rust, not in the template: at 10,000 reports the loops over
    /// the rows and the leaf columns were most of these 9,000 pages' template time.
    pub body_html: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompareTable {
    pub key: String,
    pub id: String,
    pub section: String,
    pub caption: String,
    pub unit: Option<String>,
    /// The blocks: what `partials/compare_table.html` loops over. Pages get the table
    /// made, as `html`, not the blocks.
    #[serde(skip)]
    pub blocks: Vec<CompareBlock>,
    /// The whole table, made by the render stage (`partials/compare_table.html` once per
    /// format's table and pair of years, with the page's body rows put in): templates
    /// print its mark, replaced by the table once the page is rendered.
    pub html: crate::tables::Mark,
    pub cells: usize,
    pub changed: usize,
    /// The layout this table was filled in (its header rows and stubs).
    #[serde(skip)]
    pub layout: Option<Arc<PairLayout>>,
}

/// A table's cell-by-cell layout in one format, the same for every pair of its reports:
/// the header rows (three columns per official column), the row stubs and each cell's
/// headers. Made once per format and table; a pair fills in its numbers.
#[derive(Debug)]
pub struct PairLayout {
    /// The format, and the table's place in it: which layout this is.
    pub format: String,
    pub index: usize,
    /// The table with its header rows and stubs, and no cells.
    pub table: CompareTable,
    /// Each block's rows' cells: the start of their three `td`s, up to the years' numbers and
    /// the change's class, the second and third after the end of the one before (see
    /// [`pair_layout`]).
    cells: Vec<Vec<Vec<[String; 3]>>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotCompared {
    pub section: String,
    pub caption: String,
}

/// Two consecutive years of one agency, cell by cell.
#[derive(Debug, Clone, Serialize)]
pub struct PairView {
    pub agency_id: String,
    pub agency: String,
    pub agency_url: String,
    pub y1: i32,
    pub y2: i32,
    pub url1: String,
    pub url2: String,
    pub format1: String,
    pub format2: String,
    pub note: Option<String>,
    pub tables: Vec<CompareTable>,
    pub not_compared: Vec<NotCompared>,
    pub previous: Option<PairRef>,
    pub next: Option<PairRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerColumn {
    pub key: String,
    pub id: String,
    pub label: String,
    pub label_en: String,
    pub unit: Option<String>,
    pub is_rate: bool,
    pub formula: Option<String>,
    pub formula_en: Option<String>,
    /// The rows are in this column's order, largest first (`aria-sort`); readers re-sort
    /// by any column with the theme's sort script.
    pub sorted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerCell {
    pub key: String,
    pub value: Option<String>,
    /// The agency's format has the figure, but it does not compare with the column's.
    pub incomparable: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerRow {
    pub agency_id: String,
    pub id: String,
    pub name: String,
    pub agency_url: String,
    pub report_url: String,
    /// One per column (templates get them made, as `cells_html`).
    #[serde(skip)]
    pub cells: Vec<PeerCell>,
    /// The cells as HTML, made by the render stage in the theme's words: a `td` per
    /// column (the value, `%` for a rate, or why there is none). A peer page has a row
    /// per agency of the year; made in the template, its cells were most of its time.
    pub cells_html: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerGroup {
    pub kind: AgencyKind,
    pub id: String,
    pub label: String,
    pub rows: Vec<PeerRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerTable {
    pub id: String,
    pub caption: String,
    pub columns: Vec<PeerColumn>,
    pub groups: Vec<PeerGroup>,
    /// The total of each column (templates get them made, as `total_html`).
    #[serde(skip)]
    pub total: Vec<PeerCell>,
    /// The total row's cells as HTML, made as a row's `cells_html` is.
    pub total_html: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportRef {
    pub agency_id: String,
    pub agency: String,
    pub title: String,
    pub url: String,
    pub format_name: String,
}

/// Every agency of one year side by side: one page per year. Rows are grouped by kind of
/// agency, by agency id within a kind; the theme's script sorts them by any column.
#[derive(Debug, Clone, Serialize)]
pub struct PeersView {
    pub year: i32,
    pub url: String,
    /// The figure the rows are ordered by, largest first, when not the default order.
    pub order: Option<String>,
    pub order_label: Option<String>,
    pub order_label_en: Option<String>,
    pub tables: Vec<PeerTable>,
    /// Reports of the year without numbers (before 2019): listed, not compared.
    pub unnumbered: Vec<ReportRef>,
    pub count: usize,
    pub notes: Vec<String>,
}

// ---------------------------------------------------------------------------------------

/// Every report's figures, indexed by agency and by year.
pub struct Comparisons<'a> {
    lib: &'a Library,
    registry: &'a Registry,
    computed: Vec<Computed<'a>>,
    index: HashMap<(&'a str, i32), usize, crate::fingerprint::FxBuild>,
    /// Each agency's reports, oldest first.
    by_agency: BTreeMap<&'a str, Vec<usize>>,
    /// Each year's reports, in library order (by agency id).
    by_year: BTreeMap<i32, Vec<usize>>,
    /// How many times a report's figures were looked at, to show the work is linear.
    visits: AtomicUsize,
    /// The interface's words (kinds of agency, the chart's texts).
    words: Arc<Translations>,
    /// Tables laid out for comparison, by (format, table).
    pair_layouts: std::sync::Mutex<HashMap<(String, usize), Arc<PairLayout>>>,
}

pub fn pair_url(id: &str, y1: i32, y2: i32) -> String {
    format!("agencies/{id}/compare/{y1}-{y2}/index.html")
}

pub fn peers_url(year: i32, order: Option<&str>) -> String {
    match order {
        None => format!("years/{year}/compare/index.html"),
        Some(k) => format!("years/{year}/compare/by-{}/index.html", k.replace('_', "-")),
    }
}

fn slug(key: &str) -> String {
    key.replace('_', "-")
}

impl<'a> Comparisons<'a> {
    /// Computes every report's figures once.
    pub fn new(lib: &'a Library, registry: &'a Registry) -> Comparisons<'a> {
        let recipes: HashMap<&str, Recipe> = registry
            .all()
            .map(|s| (s.id.as_str(), Recipe::new(s)))
            .collect();
        let computed: Vec<Computed> = lib
            .reports
            .par_iter()
            .map(|r| {
                let schema = registry.get(&r.format);
                compute(r, schema, schema.and_then(|s| recipes.get(s.id.as_str())))
            })
            .collect();
        let mut index = HashMap::default();
        let mut by_agency: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut by_year: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
        for (i, r) in lib.reports.iter().enumerate() {
            index.insert((r.agency_id.as_str(), r.year), i);
            by_agency.entry(r.agency_id.as_str()).or_default().push(i);
            by_year.entry(r.year).or_default().push(i);
        }
        for list in by_agency.values_mut() {
            list.sort_by_key(|&i| lib.reports[i].year);
        }
        Comparisons {
            lib,
            registry,
            computed,
            index,
            by_agency,
            by_year,
            visits: AtomicUsize::new(0),
            pair_layouts: Default::default(),
            words: Arc::new(Translations::builtin(crate::i18n::DEFAULT)),
        }
    }

    /// Uses the theme's words in the portal's language (default: the built-in Chinese).
    pub fn with_words(mut self, words: Arc<Translations>) -> Self {
        self.words = words;
        self
    }

    fn english(&self) -> bool {
        !self.words.is_chinese()
    }

    /// Every report's figures, in library order.
    pub fn computed(&self) -> impl Iterator<Item = &Computed<'a>> + '_ {
        (0..self.computed.len()).map(|i| self.at(i))
    }

    fn at(&self, i: usize) -> &Computed<'a> {
        self.visits.fetch_add(1, Ordering::Relaxed);
        &self.computed[i]
    }

    /// How many times views have looked at a report's figures so far. Every view is built
    /// per agency or per year from the figures computed once, so building all of them
    /// visits each report a bounded number of times: the work is linear in the reports.
    pub fn visits(&self) -> usize {
        self.visits.load(Ordering::Relaxed)
    }

    pub fn get(&self, agency: &str, year: i32) -> Option<&Computed<'a>> {
        self.index.get(&(agency, year)).map(|&i| self.at(i))
    }

    /// An agency's reports, oldest first.
    pub fn of_agency(&self, id: &str) -> Vec<&Computed<'a>> {
        self.by_agency
            .get(id)
            .map(|l| l.iter().map(|&i| self.at(i)).collect())
            .unwrap_or_default()
    }

    /// A year's reports, by agency id.
    pub fn of_year(&self, year: i32) -> Vec<&Computed<'a>> {
        self.by_year
            .get(&year)
            .map(|l| l.iter().map(|&i| self.at(i)).collect())
            .unwrap_or_default()
    }

    /// Agency ids with reports, sorted.
    pub fn agency_ids(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.by_agency.keys().copied()
    }

    /// Years with reports, oldest first.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.by_year.keys().copied()
    }

    fn format_name(&self, r: &Report) -> String {
        self.registry
            .get(&r.format)
            .map_or_else(|| r.format.clone(), |s| s.name.clone())
    }

    fn agency_ref(&self, id: &str) -> AgencyRef {
        let newest = self.newest(id);
        let has_page = newest.is_some();
        let name = self
            .lib
            .agency_name(id)
            .map(str::to_owned)
            .or_else(|| newest.map(|c| c.report.agency.clone()))
            .unwrap_or_else(|| id.to_owned());
        AgencyRef {
            id: id.to_owned(),
            name,
            url: has_page.then(|| agency_url(id)),
        }
    }

    /// The agency's current name: the registry's, else its newest report's.
    fn agency_name(&self, id: &str, newest: &Report) -> String {
        self.lib
            .agency_name(id)
            .unwrap_or(&newest.agency)
            .to_owned()
    }

    /// Consecutive years of one agency that compare, oldest first.
    pub fn pairs(&self, id: &str) -> Vec<PairRef> {
        let years: Vec<i32> = self
            .by_agency
            .get(id)
            .map(|l| l.iter().map(|&i| self.lib.reports[i].year).collect())
            .unwrap_or_default();
        let mut out: Vec<PairRef> = years
            .into_iter()
            .filter_map(|y| self.pair_ref(id, y))
            .collect();
        out.sort_by_key(|p| p.y1);
        out
    }

    /// Years `y` and `y + 1` of an agency, when both have numbers and their formats compare.
    fn pair_ref(&self, id: &str, y: i32) -> Option<PairRef> {
        let (a, b) = (self.get(id, y)?, self.get(id, y + 1)?);
        let (sa, sb) = (a.schema?, b.schema?);
        if !a.numeric() || !b.numeric() || (sa.id != sb.id && declaration(sa, sb).is_none()) {
            return None;
        }
        Some(PairRef {
            y1: y,
            y2: y + 1,
            url: pair_url(id, y, y + 1),
            cross_format: sa.id != sb.id,
        })
    }

    /// The agency's newest report.
    fn newest(&self, id: &str) -> Option<&Computed<'a>> {
        self.by_agency
            .get(id)
            .and_then(|l| l.last())
            .map(|&i| self.at(i))
    }

    /// The comparison section of an agency's page.
    pub fn agency(&self, id: &str) -> Option<AgencyHistory> {
        let ordered = self.of_agency(id);
        let newest = ordered.last()?.report;
        let years: Vec<YearRef> = ordered
            .iter()
            .map(|c| YearRef {
                year: c.report.year,
                url: report_url(c.report),
                format_name: self.format_name(c.report),
                numeric: c.numeric(),
            })
            .collect();
        let numeric: Vec<&Computed> = ordered.iter().copied().filter(|c| c.numeric()).collect();
        let numeric_years: Vec<i32> = numeric.iter().map(|c| c.report.year).collect();
        let legacy_years = ordered
            .iter()
            .filter(|c| !c.numeric())
            .map(|c| c.report.year)
            .collect();
        let mut notes = Vec::new();
        let groups = self.history_groups(id, &numeric, &mut notes);
        let pairs = self.pairs(id);
        let chart = chart(id, &self.agency_name(id, newest), &numeric, &self.words);
        Some(AgencyHistory {
            id: id.to_owned(),
            name: self.agency_name(id, newest),
            registry: self.registry_view(id),
            years,
            numeric_years,
            legacy_years,
            groups,
            chart,
            pairs,
            notes,
        })
    }

    fn registry_view(&self, id: &str) -> Option<RegistryView> {
        let reg = self.lib.agencies.as_ref()?;
        let a = reg.get(id)?;
        Some(RegistryView {
            parent: a.parent.as_deref().map(|p| self.agency_ref(p)),
            children: reg
                .children(id)
                .iter()
                .map(|c| self.agency_ref(&c.id))
                .collect(),
            former_names: a
                .former_names
                .iter()
                .map(|f| FormerNameView {
                    name: f.name.clone(),
                    from: f.from.clone(),
                    until: f.until.clone(),
                })
                .collect(),
            merged_into: a.merged_into.as_ref().map(|m| self.agency_ref(&m.into)),
            merged_on: a.merged_into.as_ref().map(|m| m.date.clone()),
            merged_from: reg
                .merged_from(id)
                .iter()
                .map(|m| MergedFrom {
                    agency: self.agency_ref(&m.id),
                    date: m
                        .merged_into
                        .as_ref()
                        .map(|x| x.date.clone())
                        .unwrap_or_default(),
                })
                .collect(),
        })
    }

    /// Figures and rates of an agency, grouped by the table they come from, with the
    /// change from the year before.
    fn history_groups(
        &self,
        id: &str,
        numeric: &[&Computed],
        notes: &mut Vec<String>,
    ) -> Vec<HistoryGroup> {
        // Rows: every figure and rate of the agency's formats, newest format first.
        let mut figure_keys: Vec<(String, &Schema)> = Vec::new();
        let mut rate_keys: Vec<(String, &Schema)> = Vec::new();
        for c in numeric.iter().rev() {
            let Some(s) = c.schema else { continue };
            for f in &s.figures {
                if !figure_keys.iter().any(|(k, _)| *k == f.key) {
                    figure_keys.push((f.key.clone(), s));
                }
            }
            for r in &s.rates {
                if !rate_keys.iter().any(|(k, _)| *k == r.key) {
                    rate_keys.push((r.key.clone(), s));
                }
            }
        }
        for pair in numeric.windows(2) {
            if let (Some(a), Some(b)) = (pair[0].schema, pair[1].schema)
                && pair[1].report.year == pair[0].report.year + 1
                && let Some(note) = cross_format_note_in(a, b, self.english())
                && !notes.contains(&note)
            {
                notes.push(note);
            }
        }
        let mut groups: Vec<HistoryGroup> = Vec::new();
        let group_of = |schema: &Schema, table: &str| -> (String, String) {
            let caption = schema
                .table(table)
                .map(|t| format!("{}、{}", t.section, t.caption))
                .unwrap_or_else(|| table.to_owned());
            (format!("h-{}", slug(table)), caption)
        };
        let mut push = |gid: String, caption: String, row: HistoryRow| match groups
            .iter_mut()
            .find(|g| g.id == gid)
        {
            Some(g) => g.rows.push(row),
            None => groups.push(HistoryGroup {
                id: gid,
                hid: String::new(),
                caption,
                rows: vec![row],
            }),
        };
        for (key, schema) in &figure_keys {
            let Some(f) = schema.figures.iter().find(|f| f.key == *key) else {
                continue;
            };
            let table = f
                .tables()
                .first()
                .map(|t| (*t).to_owned())
                .unwrap_or_default();
            let (gid, caption) = group_of(schema, &table);
            let mut comparable = Comparability::default();
            let cells = numeric
                .iter()
                .map(|c| self.history_cell(id, c, key, false, &mut comparable))
                .collect();
            push(
                gid.clone(),
                caption,
                HistoryRow {
                    key: key.clone(),
                    id: String::new(),
                    label: f.label.clone(),
                    label_en: f.label_en.clone(),
                    unit: f.unit.clone(),
                    note: f.note.clone(),
                    is_rate: false,
                    formula: None,
                    formula_en: None,
                    cells,
                    cells_html: String::new(),
                },
            );
        }
        for (key, schema) in &rate_keys {
            let Some(r) = schema.rates.iter().find(|r| r.key == *key) else {
                continue;
            };
            let first = r
                .numerator
                .first()
                .map(|t| Term::key_of(t))
                .unwrap_or_default();
            let table = schema
                .figures
                .iter()
                .find(|f| f.key == first)
                .and_then(|f| f.tables().first().map(|t| (*t).to_owned()))
                .unwrap_or_default();
            let (gid, caption) = group_of(schema, &table);
            let mut comparable = Comparability::default();
            let cells = numeric
                .iter()
                .map(|c| self.history_cell(id, c, key, true, &mut comparable))
                .collect();
            push(
                gid.clone(),
                caption,
                HistoryRow {
                    key: key.clone(),
                    id: String::new(),
                    label: r.label.clone(),
                    label_en: r.label_en.clone(),
                    unit: Some("%".into()),
                    note: None,
                    is_rate: true,
                    formula: Some(r.formula.clone()),
                    formula_en: Some(r.formula_en.clone()),
                    cells,
                    cells_html: String::new(),
                },
            );
        }
        for (gi, g) in groups.iter_mut().enumerate() {
            g.hid = format!("h{gi}");
            for (ri, row) in g.rows.iter_mut().enumerate() {
                row.id = format!("h{gi}r{ri}");
            }
        }
        groups
    }

    fn history_cell(
        &self,
        id: &str,
        c: &Computed,
        key: &str,
        is_rate: bool,
        comparable: &mut Comparability,
    ) -> HistoryCell {
        let year = c.report.year;
        // Each year's number, looked up once (a lookup is a search of the format's list).
        let number = |c: &Computed| -> Number {
            if is_rate {
                Number::Rate(c.rate(key))
            } else {
                Number::Figure(c.figure(key))
            }
        };
        let now = number(c);
        let mut cell = HistoryCell {
            year,
            value: now.text(),
            change: None,
            why: None,
        };
        if !now.is_some() {
            cell.why = Some("missing");
            return cell;
        }
        if is_rate && cell.value.is_none() {
            cell.why = Some("zero_denominator");
            return cell;
        }
        let Some(prev) = self.get(id, year - 1).filter(|p| p.numeric()) else {
            cell.why = Some("no_previous");
            return cell;
        };
        let (Some(sa), Some(sb)) = (prev.schema, c.schema) else {
            cell.why = Some("no_previous");
            return cell;
        };
        let comparable = comparable.of(sa, sb, || {
            if is_rate {
                rate_comparable(sa, sb, key)
            } else {
                figure_comparable(sa, sb, key)
            }
        });
        let before = number(prev);
        if !before.is_some() {
            cell.why = Some("missing");
            return cell;
        }
        if !comparable {
            cell.why = Some("incomparable");
            return cell;
        }
        match (now, before) {
            (Number::Rate(_), before) => {
                let (Some(now), Some(before)) =
                    (cell.value.as_deref().and_then(tenths), before.text())
                else {
                    cell.why = Some("zero_denominator");
                    return cell;
                };
                let Some(before) = tenths(&before) else {
                    cell.why = Some("zero_denominator");
                    return cell;
                };
                let d = now - before;
                cell.change = Some(Change {
                    diff: signed_pct(from_tenths(d)),
                    pct: None,
                    dir: direction(d.into()),
                });
            }
            (Number::Figure(Some(now)), Number::Figure(Some(before))) => {
                let d = now - before;
                cell.change = Some(Change {
                    diff: signed(d),
                    pct: percent(d, before).map(signed_pct),
                    dir: direction(d.units()),
                });
            }
            _ => {}
        }
        cell
    }

    /// Two consecutive years of an agency, cell by cell, in the tables both formats share.
    /// The comparison layout of `base`'s table `t` (see [`PairLayout`]), made once.
    fn pair_layout(
        &self,
        base: &Schema,
        t: &Table,
        index: usize,
        d: &TableData,
    ) -> Arc<PairLayout> {
        let key = (base.id.clone(), index);
        if let Some(layout) = self
            .pair_layouts
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return layout;
        }
        let layout = Arc::new(pair_layout(&base.id, t, index, d));
        if let Ok(mut m) = self.pair_layouts.lock() {
            return m.entry(key).or_insert(layout).clone();
        }
        layout
    }

    pub fn pair(&self, id: &str, y1: i32, y2: i32) -> Option<PairView> {
        let (a, b) = (self.get(id, y1)?, self.get(id, y2)?);
        let (sa, sb) = (a.schema?, b.schema?);
        let mut tables_out = Vec::new();
        let mut not_compared = Vec::new();
        // The layout: the common format, or the format the declaration names.
        let (base, decl) = if sa.id == sb.id {
            (sa, None)
        } else {
            let (decl, base) = declaration(sa, sb)?;
            (base, Some(decl))
        };
        for (ti, t) in base.tables.iter().enumerate() {
            let shared = decl.is_none_or(|d| d.tables.contains(&t.key));
            let data = shared
                .then(|| Some((in_layout(a, base, t, decl)?, in_layout(b, base, t, decl)?)))
                .flatten();
            match data {
                Some((d1, d2)) => {
                    let layout = self.pair_layout(base, t, ti, &d2);
                    tables_out.push(fill_pair(&layout, &d1, &d2));
                }
                None => not_compared.push(NotCompared {
                    section: t.section.clone(),
                    caption: t.caption.clone(),
                }),
            }
        }
        let newest = self.newest(id)?.report;
        Some(PairView {
            agency_id: id.to_owned(),
            agency: self.agency_name(id, newest),
            agency_url: agency_url(id),
            y1,
            y2,
            url1: report_url(a.report),
            url2: report_url(b.report),
            format1: sa.name.clone(),
            format2: sb.name.clone(),
            note: cross_format_note_in(sa, sb, self.english()),
            tables: tables_out,
            not_compared,
            previous: self.pair_ref(id, y1 - 1),
            next: self.pair_ref(id, y2),
        })
    }

    /// Every agency of one year side by side, grouped by kind of agency; within a kind by
    /// agency id, or by `order` (a figure of the year's formats), largest first. The site
    /// renders the default order only: readers sort the table with the theme's script.
    pub fn peers(&self, year: i32, order: Option<&str>) -> PeersView {
        let in_year = self.of_year(year);
        let numeric: Vec<&Computed> = in_year.iter().copied().filter(|c| c.numeric()).collect();
        let unnumbered = in_year
            .iter()
            .filter(|c| !c.numeric())
            .map(|c| ReportRef {
                agency_id: c.report.agency_id.clone(),
                agency: c.report.agency.clone(),
                title: c.report.title.clone(),
                url: report_url(c.report),
                format_name: self.format_name(c.report),
            })
            .collect();
        // The newest format of the year defines each column; others join when comparable.
        let mut schemas: Vec<&Schema> = Vec::new();
        for c in &numeric {
            if let Some(s) = c.schema
                && !schemas.iter().any(|x| x.id == s.id)
            {
                schemas.push(s);
            }
        }
        schemas.sort_by_key(|s| {
            (
                std::cmp::Reverse(s.years.from.unwrap_or(i32::MIN)),
                s.id.clone(),
            )
        });
        let mut notes = Vec::new();
        for (i, a) in schemas.iter().enumerate() {
            for b in &schemas[i + 1..] {
                if let Some(n) = cross_format_note_in(a, b, self.english()) {
                    notes.push(n);
                }
            }
        }
        let mut columns: Vec<(String, bool, &Schema)> = Vec::new();
        for s in &schemas {
            for f in &s.figures {
                if !columns.iter().any(|(k, r, _)| k == &f.key && !r) {
                    columns.push((f.key.clone(), false, s));
                }
            }
        }
        for s in &schemas {
            for r in &s.rates {
                if !columns.iter().any(|(k, rate, _)| k == &r.key && *rate) {
                    columns.push((r.key.clone(), true, s));
                }
            }
        }
        let order = order.filter(|k| {
            schemas
                .iter()
                .any(|s| s.figures.iter().any(|f| f.key == *k))
        });
        // Group columns by the table their figure reads.
        let table_of = |key: &str, is_rate: bool, s: &Schema| -> String {
            let fkey = if is_rate {
                s.rates
                    .iter()
                    .find(|r| r.key == key)
                    .and_then(|r| r.numerator.first())
                    .map(|t| Term::key_of(t))
                    .unwrap_or_default()
            } else {
                key
            };
            s.figures
                .iter()
                .find(|f| f.key == fkey)
                .and_then(|f| f.tables().first().map(|t| (*t).to_owned()))
                .unwrap_or_default()
        };
        let mut table_keys: Vec<(String, &Schema)> = Vec::new();
        for (k, r, s) in &columns {
            let t = table_of(k, *r, s);
            if !table_keys.iter().any(|(x, _)| *x == t) {
                table_keys.push((t, s));
            }
        }
        let value = |c: &Computed, key: &str, is_rate: bool, col_schema: &Schema| -> PeerCell {
            let Some(s) = c.schema else {
                return PeerCell {
                    key: key.to_owned(),
                    value: None,
                    incomparable: false,
                };
            };
            let comparable = if is_rate {
                rate_comparable(s, col_schema, key)
            } else {
                figure_comparable(s, col_schema, key)
            };
            let has = if is_rate {
                s.rates.iter().any(|r| r.key == key)
            } else {
                s.figures.iter().any(|f| f.key == key)
            };
            let v = if !comparable {
                None
            } else if is_rate {
                c.rate(key).and_then(|(n, d)| percent(n, d))
            } else {
                c.figure(key).map(|v| v.to_string())
            };
            PeerCell {
                key: key.to_owned(),
                value: v,
                incomparable: has && !comparable,
            }
        };
        // Sorting within each kind: by the order figure, largest first; then by id.
        let sort_value = |c: &Computed| -> Option<i128> {
            let key = order?;
            let s = schemas
                .iter()
                .find(|s| s.figures.iter().any(|f| f.key == key))?;
            let cs = c.schema?;
            figure_comparable(cs, s, key)
                .then(|| c.figure(key).map(|v| v.units()))
                .flatten()
        };
        let mut tables_out = Vec::new();
        for (tkey, tschema) in &table_keys {
            let tid = format!("p-{}", slug(tkey));
            let caption = tschema
                .table(tkey)
                .map(|t| format!("{}、{}", t.section, t.caption))
                .unwrap_or_else(|| tkey.clone());
            let cols: Vec<&(String, bool, &Schema)> = columns
                .iter()
                .filter(|(k, r, s)| table_of(k, *r, s) == *tkey)
                .collect();
            let column_views: Vec<PeerColumn> = cols
                .iter()
                .map(|(k, r, s)| {
                    let (label, label_en, unit, formula, formula_en) = if *r {
                        let rate = s.rates.iter().find(|x| x.key == *k);
                        (
                            rate.map(|x| x.label.clone()).unwrap_or_default(),
                            rate.map(|x| x.label_en.clone()).unwrap_or_default(),
                            Some("%".to_owned()),
                            rate.map(|x| x.formula.clone()),
                            rate.map(|x| x.formula_en.clone()),
                        )
                    } else {
                        let f = s.figures.iter().find(|x| x.key == *k);
                        (
                            f.map(|x| x.label.clone()).unwrap_or_default(),
                            f.map(|x| x.label_en.clone()).unwrap_or_default(),
                            f.and_then(|x| x.unit.clone()),
                            None,
                            None,
                        )
                    };
                    PeerColumn {
                        key: k.clone(),
                        id: format!("{tid}-{}{}", if *r { "r-" } else { "f-" }, slug(k)),
                        label,
                        label_en,
                        unit,
                        is_rate: *r,
                        formula,
                        formula_en,
                        sorted: !*r && order == Some(k.as_str()),
                    }
                })
                .collect();
            let mut groups = Vec::new();
            for kind in AgencyKind::ALL {
                let mut members: Vec<&&Computed> = numeric
                    .iter()
                    .filter(|c| c.report.agency_kind == kind)
                    .collect();
                if members.is_empty() {
                    continue;
                }
                members.sort_by(|a, b| {
                    sort_value(b)
                        .cmp(&sort_value(a))
                        .then_with(|| a.report.agency_id.cmp(&b.report.agency_id))
                });
                let rows = members
                    .iter()
                    .map(|c| PeerRow {
                        agency_id: c.report.agency_id.clone(),
                        id: format!("{tid}-a-{}", c.report.agency_id),
                        name: c.report.agency.clone(),
                        agency_url: agency_url(&c.report.agency_id),
                        report_url: report_url(c.report),
                        cells: cols.iter().map(|(k, r, s)| value(c, k, *r, s)).collect(),
                        cells_html: String::new(),
                    })
                    .collect();
                groups.push(PeerGroup {
                    kind,
                    id: format!("{tid}-k-{}", kind.key()),
                    label: kind_label(&self.words, kind),
                    rows,
                });
            }
            // The total row: sums of the comparable figures; rates of the sums.
            let total_figure = |key: &str, s: &Schema| -> Option<Decimal> {
                let vals: Vec<Decimal> = numeric
                    .iter()
                    .filter(|c| c.schema.is_some_and(|cs| figure_comparable(cs, s, key)))
                    .filter_map(|c| c.figure(key))
                    .collect();
                (!vals.is_empty()).then(|| vals.into_iter().fold(Decimal::zero(), |a, v| a + v))
            };
            let total = cols
                .iter()
                .map(|(k, r, s)| {
                    let value = if *r {
                        s.rates.iter().find(|x| x.key == *k).and_then(|rate| {
                            let side = |terms: &[String]| {
                                sum(terms.iter().map(|t| {
                                    let t = Term::parse(t);
                                    total_figure(&t.key, s)
                                        .map(|v| if t.negative { Decimal::zero() - v } else { v })
                                }))
                            };
                            percent(side(&rate.numerator)?, side(&rate.denominator)?)
                        })
                    } else {
                        total_figure(k, s).map(|v| v.to_string())
                    };
                    PeerCell {
                        key: k.clone(),
                        value,
                        incomparable: false,
                    }
                })
                .collect();
            tables_out.push(PeerTable {
                id: tid,
                caption,
                columns: column_views,
                groups,
                total,
                total_html: String::new(),
            });
        }
        let order_figure = order.and_then(|k| {
            schemas
                .iter()
                .find_map(|s| s.figures.iter().find(|f| f.key == k))
        });
        let order_label = order_figure.map(|f| f.label.clone());
        let order_label_en = order_figure.map(|f| f.label_en.clone());
        PeersView {
            year,
            url: peers_url(year, order),
            order: order.map(str::to_owned),
            order_label,
            order_label_en,
            tables: tables_out,
            unnumbered,
            count: numeric.len(),
            notes,
        }
    }

    /// Every comparison page: agency pairs, then one peer page per year.
    pub fn jobs(&self) -> Vec<Job> {
        let mut jobs: Vec<Job> = Vec::new();
        for id in self.agency_ids() {
            for p in self.pairs(id) {
                jobs.push(Job::Pair(id.to_owned(), p.y1, p.y2));
            }
        }
        for year in self.years() {
            jobs.push(Job::Peers(year));
        }
        jobs
    }

    /// The view one comparison page is rendered from; `None` when its agency or years no
    /// longer compare.
    pub fn view(&self, job: &Job) -> Option<JobView> {
        match job {
            Job::Pair(id, y1, y2) => self.pair(id, *y1, *y2).map(JobView::Pair),
            Job::Peers(year) => Some(JobView::Peers(self.peers(*year, None))),
        }
    }
}

/// A comparison page's view: `compare` in `agency_compare.html`, `peers` in
/// `year_compare.html`.
pub enum JobView {
    Pair(PairView),
    Peers(PeersView),
}

/// One comparison page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Job {
    /// An agency's two consecutive years.
    Pair(String, i32, i32),
    /// A year's agencies side by side (readers sort them with the theme's script).
    Peers(i32),
}

impl Job {
    /// The page's path in the site.
    pub fn path(&self) -> String {
        match self {
            Job::Pair(id, y1, y2) => pair_url(id, *y1, *y2),
            Job::Peers(year) => peers_url(*year, None),
        }
    }
}

/// A report's table in the layout of `base`'s table `t`: its own data when the report is
/// in that format, else its cells summed as the declaration says (rows it splits are
/// added up). None when a cell cannot be found.
fn in_layout<'c>(
    c: &Computed<'c>,
    base: &Schema,
    t: &Table,
    decl: Option<&'c Comparable>,
) -> Option<std::borrow::Cow<'c, TableData>> {
    let schema = c.schema?;
    let own = c.report.table(&t.key)?;
    if schema.id == base.id {
        return Some(std::borrow::Cow::Borrowed(own));
    }
    let mine = schema.table(&t.key)?;
    let map = decl.and_then(|d| d.rows.get(&t.key));
    let mut blocks = Vec::new();
    for block in &t.blocks {
        let cols = block.leaf_columns_ref();
        let mut rows = Vec::new();
        for row in block.leaf_rows_ref() {
            let parts = map
                .and_then(|m| m.get(&row.key))
                .cloned()
                .unwrap_or_else(|| vec![row.key.clone()]);
            let mut cells = Vec::new();
            for col in cols {
                let mut value = Decimal::zero();
                let mut origin = Origin::Computed;
                for part in &parts {
                    let (bi, ri, ci) = mine.locate(part, &col.key)?;
                    let cell = own.blocks.get(bi)?.get(ri, ci)?;
                    value = value + cell.value;
                    if parts.len() == 1 {
                        origin = cell.origin;
                    }
                }
                cells.push(Cell { value, origin });
            }
            rows.push(cells);
        }
        blocks.push(BlockData::from_rows(rows)?);
    }
    Some(std::borrow::Cow::Owned(TableData {
        key: t.key.clone(),
        pos: own.pos,
        blocks,
    }))
}

/// Lays out a table for comparing two years under its official headers, cell by cell
/// (`d` is any report's data in the format: the layout does not depend on it).
fn pair_layout(format: &str, t: &Table, index: usize, d: &TableData) -> PairLayout {
    let view = tables::view(t, index, d);
    let mut cells = Vec::new();
    let blocks = view
        .blocks
        .into_iter()
        .enumerate()
        .map(|(bi, block)| {
            let mut leaves: Vec<String> = Vec::new();
            let mut block_cells = Vec::new();
            let rows = block
                .rows
                .into_iter()
                .map(|row| {
                    if leaves.is_empty() {
                        leaves = row
                            .cells
                            .iter()
                            .map(|cell| {
                                let leaf = cell.headers.split(' ').next_back();
                                leaf.unwrap_or_default().to_owned()
                            })
                            .collect();
                    }
                    // Each cell's three `td`s, with their `headers` (the official headers
                    // and the leaf column's year or change sub-header).
                    let row_cells: Vec<[String; 3]> = row
                        .cells
                        .iter()
                        .map(|cell| {
                            let leaf = cell.headers.split(' ').next_back().unwrap_or_default();
                            // The years' cells whole up to their number, the change's up
                            // to its class.
                            [
                                format!("<td headers=\"{} {leaf}a\">", cell.headers),
                                format!("</td><td headers=\"{} {leaf}b\">", cell.headers),
                                format!("</td><td headers=\"{} {leaf}d\" class=\"", cell.headers),
                            ]
                        })
                        .collect();
                    block_cells.push(row_cells);
                    CompareRow {
                        stubs: row.stubs,
                        stubs_html: tables::Html::default(),
                        cells_html: String::new(),
                    }
                })
                .collect::<Vec<CompareRow>>();
            cells.push(block_cells);
            // Each official column becomes three (first year, second year, change), under
            // one more header row; the corner (the row headers' column) reaches down to it.
            let corner = tables::header_id(index, bi, t.blocks.len(), 0);
            let header_rows = block
                .header_rows
                .into_iter()
                .map(|hrow| {
                    hrow.into_iter()
                        .map(|mut h| {
                            if h.id == corner {
                                h.rowspan += 1;
                            } else {
                                h.colspan *= 3;
                            }
                            h
                        })
                        .collect()
                })
                .collect();
            CompareBlock {
                id: format!("{}-b{bi}", view.id),
                caption: block.caption,
                header_rows,
                head_html: tables::Html::default(),
                leaves,
                rows,
                years_html: String::new(),
                body_html: String::new(),
            }
        })
        .collect();
    PairLayout {
        format: format.to_owned(),
        index,
        table: CompareTable {
            key: t.key.clone(),
            id: view.id.clone(),
            section: t.section.clone(),
            caption: t.caption.clone(),
            unit: t.unit.clone(),
            blocks,
            html: crate::tables::Mark::default(),
            cells: 0,
            changed: 0,
            layout: None,
        },
        cells,
    }
}

/// Two years of one table in its layout: each cell three `td` (see [`CompareRow`]).
fn fill_pair(layout: &Arc<PairLayout>, d1: &TableData, d2: &TableData) -> CompareTable {
    let mut cells_total = 0;
    let mut changed = 0;
    let blocks = layout
        .table
        .blocks
        .iter()
        .zip(&layout.cells)
        .zip(d1.blocks.iter().zip(&d2.blocks))
        .map(|((block, cells), (b1, b2))| {
            let mut values = b1.cells().iter().zip(b2.cells());
            let rows = block
                .rows
                .iter()
                .zip(cells)
                .map(|(_, row_cells)| {
                    let mut html = String::with_capacity(row_cells.len() * 3 * 48);
                    for starts in row_cells {
                        let Some((c1, c2)) = values.next() else {
                            break;
                        };
                        let d = c2.value - c1.value;
                        cells_total += 1;
                        if d.units() != 0 {
                            changed += 1;
                        }
                        let mut b = [0; 24];
                        // Numbers need no escaping: digits, a sign and a point. The
                        // openings after the first close the cell before.
                        html.push_str(&starts[0]);
                        html.push_str(c1.value.format(&mut b));
                        html.push_str(&starts[1]);
                        html.push_str(c2.value.format(&mut b));
                        html.push_str(&starts[2]);
                        html.push_str(match d.units().signum() {
                            1 => "up\">+",
                            -1 => "down\">",
                            _ => "same\">",
                        });
                        html.push_str(d.format(&mut b));
                        html.push_str("</td>");
                    }
                    CompareRow {
                        stubs: Vec::new(),
                        stubs_html: tables::Html::default(),
                        cells_html: html,
                    }
                })
                .collect();
            // The rest of a block is the layout's (`PairLayout::table`).
            CompareBlock {
                id: String::new(),
                caption: None,
                header_rows: Vec::new(),
                head_html: Default::default(),
                leaves: Vec::new(),
                rows,
                years_html: String::new(),
                body_html: String::new(),
            }
        })
        .collect();
    let t = &layout.table;
    CompareTable {
        key: t.key.clone(),
        id: t.id.clone(),
        section: t.section.clone(),
        caption: t.caption.clone(),
        unit: t.unit.clone(),
        blocks,
        html: crate::tables::Mark::default(),
        cells: cells_total,
        changed,
        layout: Some(layout.clone()),
    }
}

// ---------------------------------------------------------------------------------------
// The chart: inline SVG, readable without colour.

/// Line styles and markers, one per series; black and greys only.
const STYLES: &[(&str, &str, &str)] = &[
    ("", "circle", "#000000"),
    ("8 4", "square", "#333333"),
    ("2 3", "triangle", "#555555"),
    ("10 3 2 3", "diamond", "#222222"),
];

use crate::html::escape as esc;

fn as_f64(d: Decimal) -> f64 {
    d.units() as f64 / 10_000.0
}

/// A step of 1, 2 or 5 × 10ⁿ (at least 1) giving about four intervals up to `max`.
fn nice_step(max: f64) -> f64 {
    let raw = (max / 4.0).max(1.0);
    let exp = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * exp)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * exp)
}

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// Appends a series' marker at (x, y): its outline in `colour`.
fn marker(out: &mut String, kind: &str, x: f64, y: f64, colour: &str) {
    let at = |out: &mut String, text: &str, v: f64| {
        out.push_str(text);
        push_tenth(out, v);
    };
    let stroked = match kind {
        "square" => {
            at(out, r#"<rect x=""#, x - 4.0);
            at(out, r#"" y=""#, y - 4.0);
            out.push_str(r#"" width="8" height="8" fill=""#);
            false
        }
        "triangle" => {
            at(out, r#"<path d="M"#, x);
            at(out, " ", y - 5.0);
            at(out, "L", x + 5.0);
            at(out, " ", y + 4.0);
            at(out, "L", x - 5.0);
            at(out, " ", y + 4.0);
            out.push_str(r##"Z" fill="#ffffff" stroke=""##);
            true
        }
        "diamond" => {
            at(out, r#"<path d="M"#, x);
            at(out, " ", y - 5.0);
            at(out, "L", x + 5.0);
            at(out, " ", y);
            at(out, "L", x);
            at(out, " ", y + 5.0);
            at(out, "L", x - 5.0);
            at(out, " ", y);
            out.push_str(r#"Z" fill=""#);
            false
        }
        _ => {
            at(out, r#"<circle cx=""#, x);
            at(out, r#"" cy=""#, y);
            out.push_str(r##"" r="4" fill="#ffffff" stroke=""##);
            true
        }
    };
    out.push_str(colour);
    out.push_str(if stroked {
        r#"" stroke-width="2"/>"#
    } else {
        r#""/>"#
    });
}

/// Appends a chart coordinate as `{:.1}` prints it, without the float formatter in the
/// common case (an agency page's chart has a few hundred). Exact: a value whose tenths lie
/// near a half (where `{:.1}` rounds the exact binary value to even), a negative zero, or a
/// value out of range goes to `{:.1}` itself.
fn push_tenth(out: &mut String, v: f64) {
    let t = v * 10.0;
    if v.is_finite() && v.abs() < 1e9 {
        let r = t.round();
        let tie = ((t - t.trunc()).abs() - 0.5).abs() < 1e-6;
        let negative_zero = r == 0.0 && v.is_sign_negative();
        if !(tie || negative_zero) {
            let r = r as i64;
            if r < 0 {
                out.push('-');
            }
            let a = r.unsigned_abs();
            crate::decimal::push_digits(out, u128::from(a / 10));
            out.push('.');
            out.push(char::from(b'0' + (a % 10) as u8));
            return;
        }
    }
    let _ = write!(out, "{v:.1}");
}

/// The chart of the series marked `chart: true`, when two or more years have numbers.
fn chart(id: &str, name: &str, numeric: &[&Computed], words: &Translations) -> Option<Chart> {
    let english = !words.is_chinese();
    if numeric.len() < 2 {
        return None;
    }
    // (key, label, English label); the chart draws the interface's.
    let mut keys: Vec<(String, String, String)> = Vec::new();
    for c in numeric.iter().rev() {
        for f in c
            .schema
            .iter()
            .flat_map(|s| s.figures.iter())
            .filter(|f| f.chart)
        {
            if !keys.iter().any(|(k, _, _)| *k == f.key) {
                keys.push((f.key.clone(), f.label.clone(), f.label_en.clone()));
            }
        }
    }
    keys.truncate(STYLES.len());
    if keys.is_empty() {
        return None;
    }
    let years: Vec<i32> = numeric.iter().map(|c| c.report.year).collect();
    let series: Vec<ChartSeries> = keys
        .iter()
        .map(|(k, label, label_en)| ChartSeries {
            key: k.clone(),
            label: label.clone(),
            label_en: label_en.clone(),
            values: numeric
                .iter()
                .map(|c| c.figure(k).map(|v| v.to_string()))
                .collect(),
        })
        .collect();
    let max = numeric
        .iter()
        .flat_map(|c| keys.iter().filter_map(|(k, _, _)| c.figure(k)))
        .map(as_f64)
        .fold(0.0, f64::max);
    let step = nice_step(max);
    let top = ((max / step).ceil().max(1.0)) * step;
    let (w, h) = (640.0, 300.0);
    let (left, right, up, down) = (56.0, 150.0, 20.0, 44.0);
    let (first, last) = (years[0], years[years.len() - 1]);
    let span = f64::from((last - first).max(1));
    let x = |y: i32| left + (w - left - right) * f64::from(y - first) / span;
    let y = |v: f64| up + (h - up - down) * (1.0 - v / top);
    let title_id = format!("chart-{id}-title");
    let desc_id = format!("chart-{id}-desc");
    let (first_s, last_s) = (first.to_string(), last.to_string());
    let title = words.text(
        "chart.title",
        &[("agency", name), ("first", &first_s), ("last", &last_s)],
    );
    let year_text = |yr: &i32| words.text("chart.year", &[("year", &yr.to_string())]);
    let no_data = words.text("chart.no_data", &[]);
    let list_sep = words.text("chart.list_sep", &[]);
    let desc = series
        .iter()
        .map(|s| {
            let vals: Vec<String> = years
                .iter()
                .zip(&s.values)
                .map(|(yr, v)| format!("{} {}", year_text(yr), v.as_deref().unwrap_or(&no_data)))
                .collect();
            let label = if english { &s.label_en } else { &s.label };
            words.text(
                "chart.item",
                &[("label", label), ("values", &vals.join(&list_sep))],
            )
        })
        .collect::<Vec<_>>()
        .join(if english { "; " } else { "；" });
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-labelledby="{title_id} {desc_id}"><title id="{title_id}">{}</title><desc id="{desc_id}">{}{}</desc>"#,
        esc(&title),
        esc(&desc),
        if english { "." } else { "。" }
    );
    svg.push_str(r##"<rect x="0" y="0" width="640" height="300" fill="#ffffff"/>"##);
    // Grid lines and their values.
    let at = |out: &mut String, text: &str, v: f64| {
        out.push_str(text);
        push_tenth(out, v);
    };
    let mut v = 0.0;
    while v <= top + 1e-9 {
        let yy = y(v);
        let _ = write!(svg, r#"<line x1="{left}""#);
        at(&mut svg, r#" y1=""#, yy);
        at(&mut svg, r#"" x2=""#, w - right);
        at(&mut svg, r#"" y2=""#, yy);
        at(
            &mut svg,
            r##"" stroke="#bbbbbb" stroke-width="1"/><text x=""##,
            left - 6.0,
        );
        at(&mut svg, r#"" y=""#, yy + 4.0);
        svg.push_str(r##"" text-anchor="end" font-size="12" fill="#000000">"##);
        svg.push_str(&fmt_num(v));
        svg.push_str("</text>");
        v += step;
    }
    for yr in &years {
        at(&mut svg, r#"<text x=""#, x(*yr));
        at(&mut svg, r#"" y=""#, h - down + 20.0);
        svg.push_str(r##"" text-anchor="middle" font-size="12" fill="#000000">"##);
        crate::html::escape_into(&mut svg, &year_text(yr));
        svg.push_str("</text>");
    }
    let _ = write!(svg, r#"<line x1="{left}""#);
    at(&mut svg, r#" y1=""#, y(0.0));
    at(&mut svg, r#"" x2=""#, w - right);
    at(&mut svg, r#"" y2=""#, y(0.0));
    svg.push_str(r##"" stroke="#000000" stroke-width="1"/>"##);
    // Lines, markers, and a label at each line's last point.
    let mut labels: Vec<(f64, String, &str)> = Vec::new();
    for (si, (k, label, label_en)) in keys.iter().enumerate() {
        let label = if english { label_en } else { label };
        let (dash, mark, colour) = STYLES[si];
        let points: Vec<(i32, f64, &Computed)> = numeric
            .iter()
            .filter_map(|c| c.figure(k).map(|v| (c.report.year, as_f64(v), *c)))
            .collect();
        svg.push_str(r#"<path d=""#);
        for (i, (yr, v, c)) in points.iter().enumerate() {
            let joined = i > 0 && {
                let (_, _, p) = points[i - 1];
                match (p.schema, c.schema) {
                    (Some(a), Some(b)) => figure_comparable(a, b, k),
                    _ => false,
                }
            };
            at(&mut svg, if joined { "L" } else { "M" }, x(*yr));
            at(&mut svg, " ", y(*v));
        }
        let _ = write!(svg, r#"" fill="none" stroke="{colour}" stroke-width="2""#);
        if !dash.is_empty() {
            let _ = write!(svg, r#" stroke-dasharray="{dash}""#);
        }
        svg.push_str("/>");
        for (yr, v, _) in &points {
            marker(&mut svg, mark, x(*yr), y(*v), colour);
        }
        if let Some((_, v, c)) = points.last() {
            let shown = c.figure(k).map(|d| d.to_string()).unwrap_or_default();
            labels.push((y(*v), format!("{label} {shown}"), mark));
        }
    }
    // Direct labels, moved apart so that they never overlap.
    labels.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut last_y = f64::MIN;
    for (yy, text, mark) in labels {
        let yy = yy.max(last_y + 15.0);
        last_y = yy;
        let lx = w - right + 10.0;
        marker(&mut svg, mark, lx + 4.0, yy - 4.0, "#000000");
        at(&mut svg, r#"<text x=""#, lx + 14.0);
        at(&mut svg, r#"" y=""#, yy);
        svg.push_str(r##"" font-size="12" fill="#000000">"##);
        crate::html::escape_into(&mut svg, &text);
        svg.push_str("</text>");
    }
    svg.push_str("</svg>");
    Some(Chart {
        id: format!("chart-{id}"),
        title,
        svg,
        years,
        series,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenths_print_as_the_float_formatter_prints_them() {
        let mut values = vec![
            0.0,
            -0.0,
            0.04,
            -0.04,
            0.05,
            0.15,
            0.25,
            0.35,
            -0.25,
            1.45,
            2.5,
            42.25,
            99.95,
            -12.34,
            1e9,
            1e12,
            -1e12,
            f64::NAN,
            f64::INFINITY,
            300.0 - 1e-12,
        ];
        // Coordinates as a chart makes them.
        let mut v = 0.001;
        while v < 700.0 {
            values.push(v);
            values.push(-v);
            values.push(40.0 + v * 560.0 / 9.0);
            v = v * 1.37 + 0.011;
        }
        for v in values {
            let mut out = String::new();
            push_tenth(&mut out, v);
            assert_eq!(out, format!("{v:.1}"), "{v:?}");
        }
    }

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).expect("decimal")
    }

    #[test]
    fn percentages_round_half_away_from_zero() {
        assert_eq!(percent(d("1"), d("8")).as_deref(), Some("12.5"));
        assert_eq!(percent(d("1"), d("3")).as_deref(), Some("33.3"));
        assert_eq!(percent(d("2"), d("3")).as_deref(), Some("66.7"));
        assert_eq!(percent(d("-1"), d("16")).as_deref(), Some("-6.3"));
        assert_eq!(percent(d("0"), d("5")).as_deref(), Some("0.0"));
        assert_eq!(percent(d("-1"), d("3")).as_deref(), Some("-33.3"));
        assert_eq!(percent(d("1"), d("-2000")).as_deref(), Some("-0.1"));
        assert_eq!(percent(d("1"), d("3000")).as_deref(), Some("0.0"));
        // Beyond 64 bits the exact path gives the same text.
        assert_eq!(
            percent(d("99999999999999"), d("0.0001")).as_deref(),
            Some("99999999999999000000.0")
        );
        assert_eq!(percent(d("1"), d("0")), None);
        assert_eq!(percent(d("595.45"), d("2000")).as_deref(), Some("29.8"));
        assert_eq!(signed(d("3") - d("1")), "+2");
        assert_eq!(signed(d("1") - d("3")), "-2");
        assert_eq!(signed(d("2595.45") - d("2000")), "+595.45");
        assert_eq!(signed_pct("0.0".into()), "0.0");
        assert_eq!(signed_pct("4.5".into()), "+4.5");
        assert_eq!(tenths("-12.5"), Some(-125));
        assert_eq!(from_tenths(-5), "-0.5");
    }

    #[test]
    fn formats_compare_on_declared_tables_only() {
        let reg = Registry::load(std::path::Path::new("/none")).expect("schemas");
        let (a, b) = (
            reg.get("cn-2019").expect("2019"),
            reg.get("cn-2021").expect("2021"),
        );
        assert!(figure_comparable(a, b, "other_handling"));
        assert!(figure_comparable(b, a, "new_received"));
        assert!(figure_comparable(a, b, "review_total"));
        assert!(
            !figure_comparable(a, b, "licensing"),
            "table 二 changed meaning"
        );
        assert!(figure_comparable(b, b, "licensing"));
        assert!(!figure_comparable(a, b, "admin_fees"), "not in 2019");
        assert!(rate_comparable(a, b, "granted_share"));
        let legacy = reg.get("cn-legacy").expect("legacy");
        assert!(!figure_comparable(legacy, b, "new_received"));
        assert!(cross_format_note(a, b).is_some_and(|n| n.contains("（六）其他处理")));
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(16.0), 5.0);
        assert_eq!(nice_step(2.0), 1.0);
        assert_eq!(nice_step(24523.0), 10000.0);
    }
}
