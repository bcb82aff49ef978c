//! Render stage: every page of the site, from the library, through the theme's Tera
//! templates, optionally minified. Pages are returned in memory; writing them is the
//! write stage's job. Links are relative (`root` is the way back to the site's top
//! from each page), so the output works from any folder and from disk.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;
use tera::{Context, Tera};

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::check::ReportChecks;
use crate::config::Config;
use crate::error::{Diagnostic, Error, Lang};
use crate::markdown::{self, Section};
use crate::model::{AgencyKind, Library, Report};
use crate::schema::Registry;
use crate::search::SearchDoc;
use crate::tables::{self, TableView};
pub use crate::theme::Theme;

/// One output file, relative to the output folder.
#[derive(Debug, Clone)]
pub struct Page {
    pub path: String,
    pub content: Vec<u8>,
}

/// The templates every theme provides.
pub const TEMPLATES: &[&str] = &[
    "404.html",
    "search.html",
    "index.html",
    "years.html",
    "year.html",
    "agencies.html",
    "agency.html",
    "report.html",
    "agency_compare.html",
    "year_compare.html",
    // Rendered once per format's table, not per page (see `SiteRender::table_layout`).
    "partials/table.html",
    "partials/compare_table.html",
    "partials/table_head.html",
    "partials/table_stubs.html",
];

pub(crate) fn register_filters(tera: &mut Tera) {
    // Tera's own `safe` copies the string into a new value. Pages print their made HTML
    // (tables, prose: tens of kilobytes a page) through it, so the copy was 1 % of a
    // build; a string value shares its text, so marking the same text safe copies nothing.
    tera.register_filter(
        "safe",
        |v: &tera::Value, _: tera::Kwargs, _: &tera::State| -> tera::Value {
            if v.as_str().is_some() {
                v.clone().mark_safe()
            } else {
                tera::Value::safe_string(&v.to_string())
            }
        },
    );
    // `{{ 24523 | thousands }}` → 24,523 for reading long numbers; tables keep plain digits.
    tera.register_filter(
        "thousands",
        |v: &tera::Value, _: tera::Kwargs, _: &tera::State| -> String {
            let s = v.to_string();
            let (int, frac) = s
                .split_once('.')
                .map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
            let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            match frac {
                Some(f) => format!("{sign}{out}.{f}"),
                None => format!("{sign}{out}"),
            }
        },
    );
}

#[derive(Serialize)]
struct PortalView<'a> {
    title: &'a str,
    description: Option<&'a str>,
    language: &'a str,
}

/// A report as listed in indexes.
#[derive(Serialize, Clone)]
struct Summary<'a> {
    title: &'a str,
    agency: &'a str,
    agency_id: &'a str,
    agency_kind: AgencyKind,
    kind_label: String,
    year: i32,
    published: String,
    format: &'a str,
    format_name: &'a str,
    sample: bool,
    /// From the site's top.
    url: String,
    agency_url: String,
    status: Status,
}

/// A report's check results in brief, for indexes.
#[derive(Serialize, Clone, Default)]
struct Status {
    errors: usize,
    warnings: usize,
    infos: usize,
    explained: usize,
    passed: usize,
}

/// A report's check results in full, for its page.
#[derive(Serialize)]
struct ChecksView<'a> {
    /// The passed rules, each frozen once per format (see [`SiteRender::rule_refs`]).
    passed: Vec<&'a Frozen>,
    explained: &'a [crate::check::Explained],
    /// Warnings and notes: rule, message, `file:line:column`.
    findings: Vec<Finding>,
}

#[derive(Serialize)]
struct Finding {
    rule: String,
    severity: &'static str,
    message: String,
    location: String,
}

#[derive(Serialize)]
struct KindGroup {
    kind: AgencyKind,
    label: String,
    reports: Vec<Frozen>,
}

#[derive(Serialize)]
struct YearView {
    year: i32,
    url: String,
    count: usize,
    groups: Vec<KindGroup>,
}

#[derive(Serialize)]
struct AgencyView<'a> {
    id: &'a str,
    name: &'a str,
    kind: AgencyKind,
    kind_label: String,
    url: String,
    /// Each report's summary, made into Tera's value once for its agency's and its
    /// year's views.
    reports: Vec<Frozen>,
}

#[derive(Serialize)]
struct ReportView<'a> {
    #[serde(flatten)]
    summary: Summary<'a>,
    format_source: &'a str,
    sections: Vec<Section>,
    tables: BTreeMap<String, TableView>,
    data_url: String,
    /// The format's codebook for the keys in `data.csv`, when its lines do not carry
    /// their labels (`csv_labels: false`).
    cells_url: Option<String>,
    checks: Option<ChecksView<'a>>,
    revisions: &'a [crate::model::Revision],
}

/// The name of a kind of agency in the interface's language (`kind.government` …).
pub fn kind_label(words: &crate::i18n::Translations, kind: AgencyKind) -> String {
    words.text(&format!("kind.{}", kind.key()), &[])
}

pub fn report_url(r: &Report) -> String {
    format!("reports/{}/{}/index.html", r.year, r.agency_id)
}

pub fn agency_url(id: &str) -> String {
    format!("agencies/{id}/index.html")
}

/// Appends a year's digits without allocating (agency pages print one per cell id).
fn push_year(out: &mut String, year: i32) {
    match u128::try_from(year) {
        Ok(y) => crate::decimal::push_digits(out, y),
        Err(_) => out.push_str(&year.to_string()),
    }
}

fn year_url(year: i32) -> String {
    format!("years/{year}/index.html")
}

/// One page or file of the site, before it is rendered.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PageKind {
    /// A report's page, by its index in the library.
    Report(usize),
    ReportJson(usize),
    ReportCsv(usize),
    Year(i32),
    Years,
    Agency(String),
    Agencies,
    Home,
    NotFound,
    Search,
    SearchIndex,
    Feed,
    Sitemap,
    /// A part of a sitemap too long for one file, by its place (from 0).
    SitemapPart(usize),
    Robots,
    Compare(crate::compare::Job),
    FiguresCsv(i32),
    PortalJson,
    /// A format's JSON Schema, by its place in the registry.
    Schema(usize),
    /// A format's codebook: the labels of the keys in reports' `data.csv`.
    Cells(usize),
    /// A theme's static file, by its place in the theme's list.
    Asset(usize),
}

impl PageKind {
    /// Whether the page is made from many reports (a year's or the whole portal's): one
    /// long job each, which a parallel build starts first so that they do not finish last.
    pub fn is_long(&self) -> bool {
        matches!(
            self,
            PageKind::PortalJson
                | PageKind::SearchIndex
                | PageKind::Compare(crate::compare::Job::Peers(..))
                | PageKind::Years
                | PageKind::Agencies
                | PageKind::FiguresCsv(_)
                | PageKind::Sitemap
                | PageKind::SitemapPart(_)
                | PageKind::Feed
                | PageKind::Year(_)
        )
    }

    /// A name for the kind of page (for timings).
    pub fn name(&self) -> &'static str {
        match self {
            PageKind::Report(_) => "report",
            PageKind::ReportJson(_) => "report json",
            PageKind::ReportCsv(_) => "report csv",
            PageKind::Year(_) => "year",
            PageKind::Years => "years",
            PageKind::Agency(_) => "agency",
            PageKind::Agencies => "agencies",
            PageKind::Home => "home",
            PageKind::NotFound => "404",
            PageKind::Search => "search page",
            PageKind::SearchIndex => "search index",
            PageKind::Feed => "feed",
            PageKind::Sitemap => "sitemap",
            PageKind::SitemapPart(_) => "sitemap part",
            PageKind::Robots => "robots",
            PageKind::Compare(crate::compare::Job::Pair(..)) => "compare pair",
            PageKind::Compare(crate::compare::Job::Peers(..)) => "compare peers",
            PageKind::FiguresCsv(_) => "figures csv",
            PageKind::PortalJson => "portal json",
            PageKind::Schema(_) => "schema",
            PageKind::Cells(_) => "cells csv",
            PageKind::Asset(_) => "asset",
        }
    }
}

/// Makes a file's bytes when they are needed (see [`Prepared::Lazy`]).
pub type MakeBytes<'s> = Box<dyn FnOnce() -> Result<Vec<u8>, Error> + 's>;

/// Writes a file as it is made (see [`Prepared::Stream`]).
pub type WriteStream<'s> = Box<dyn FnOnce(&mut dyn std::io::Write) -> Result<(), Error> + 's>;

/// A page ready to be made: a template with its context, or bytes made directly.
pub enum Prepared<'s> {
    Template {
        name: &'static str,
        ctx: PageContext<'s>,
    },
    Bytes(Vec<u8>),
    /// A file made only when its key, a hash of everything it is made from, changed since
    /// the last build (the search index: its key is its documents').
    Lazy {
        key: u64,
        make: MakeBytes<'s>,
    },
    /// A large file written as it is made (`data/portal.json`), never held whole: the
    /// build streams it to disk (`Staging::put_streamed`). The key is a hash of everything
    /// it is made from, known before it is made.
    Stream(u64, WriteStream<'s>),
    /// The page has nothing to show any more.
    Missing,
}

impl Prepared<'_> {
    /// A hash of everything the page is made from (with the theme's fingerprint, which
    /// the caller adds): equal keys, equal pages.
    pub fn key(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = crate::fingerprint::hasher();
        match self {
            Prepared::Template { name, ctx } => (name, ctx.key()).hash(&mut h),
            Prepared::Bytes(bytes) => crate::fingerprint::of_bytes(bytes).hash(&mut h),
            Prepared::Lazy { key, .. } | Prepared::Stream(key, _) => key.hash(&mut h),
            Prepared::Missing => {}
        }
        h.finish()
    }
}

/// Puts one value into a template's context.
type ContextPart<'s> = Box<dyn FnOnce(&mut Context) + 's>;

/// A template's context before it is built: the values, and a hash of them (the page's
/// key, fed by [`crate::fingerprint::feed`]). Tera's own context is built only when the page is rendered, so a page
/// whose key did not change since the last build costs its views and a hash, no more.
pub struct PageContext<'s> {
    hasher: Box<crate::fingerprint::Hasher>,
    parts: Vec<ContextPart<'s>>,
    /// The page's tables, put in where the template printed their marks.
    fills: tables::Fills,
}

impl<'s> PageContext<'s> {
    fn new() -> PageContext<'s> {
        PageContext {
            hasher: Box::new(crate::fingerprint::hasher()),
            parts: Vec::new(),
            fills: tables::Fills::default(),
        }
    }

    /// A table for the page (see [`tables::Mark`]): made once per format (`table`), with
    /// the page's body rows of each block. The view gets the mark; the key, the table.
    fn splice(
        &mut self,
        table: std::sync::Arc<tables::Spliced>,
        bodies: Vec<String>,
    ) -> tables::Mark {
        use std::hash::Hash;
        table.key().hash(&mut self.hasher);
        bodies.hash(&mut self.hasher);
        self.fills.add(table, bodies)
    }

    fn insert<T: Serialize + 's>(&mut self, key: &'static str, value: T) {
        use std::hash::Hash;
        key.hash(&mut self.hasher);
        // Views serialize in a fixed order (structs, lists, ordered maps), so equal views
        // feed equal bytes.
        crate::fingerprint::feed(&mut self.hasher, &value);
        self.parts
            .push(Box::new(move |ctx| ctx.insert(key, &value)));
    }

    /// Puts in the values every page has (a [`Frozen`] is hashed by its hash and cloned).
    fn insert_shared(&mut self, shared: &'s Shared) {
        for (key, value) in &shared.values {
            self.insert(key, value);
        }
    }

    fn key(&self) -> u64 {
        std::hash::Hasher::finish(&self.hasher)
    }

    /// Tera's context, and the tables to put in the rendered page.
    fn build(self) -> (Context, tables::Fills) {
        let mut ctx = Context::new();
        for part in self.parts {
            part(&mut ctx);
        }
        (ctx, self.fills)
    }
}

/// Values every page's context has, made once (see [`SiteRender::base`]).
struct Shared {
    values: Vec<(&'static str, Frozen)>,
}

impl Shared {
    fn new(portal: &PortalView<'_>, lang: &str, theme: &impl Serialize) -> Shared {
        Shared {
            values: vec![
                ("portal", Frozen::new(portal)),
                ("lang", Frozen::new(lang)),
                ("theme", Frozen::new(theme)),
            ],
        }
    }
}

/// A view made into Tera's value once, with its hash, for a view that several pages
/// print: Tera's values share their contents, so each page clones it instead of
/// converting it again (the agency list, the year list and the year pages converted
/// report summaries that other pages had converted already: at 10,000 reports, about
/// 0.3 s of CPU, the site byte for byte the same).
#[derive(Clone)]
struct Frozen {
    key: u64,
    value: tera::Value,
}

/// A frozen value in a view: Tera clones it, a page key takes its hash.
impl Serialize for Frozen {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::fingerprint::serialize_keyed(self.key, &self.value, serializer)
    }
}

impl Frozen {
    fn new<T: Serialize + ?Sized>(view: &T) -> Frozen {
        let mut h = crate::fingerprint::hasher();
        crate::fingerprint::feed(&mut h, view);
        Frozen {
            key: std::hash::Hasher::finish(&h),
            value: tera::Value::from_serializable(view),
        }
    }
}

/// A view, and its Tera value once a page asks for it (the preview renders one agency's
/// page without converting every agency).
struct Freezable<V> {
    view: V,
    frozen: OnceLock<Frozen>,
}

impl<V: Serialize> Freezable<V> {
    fn new(view: V) -> Freezable<V> {
        Freezable {
            view,
            frozen: OnceLock::new(),
        }
    }

    fn frozen(&self) -> &Frozen {
        self.frozen.get_or_init(|| Frozen::new(&self.view))
    }
}

/// A page of the plan: where it goes and what it is.
#[derive(Debug, Clone)]
pub struct Planned {
    pub path: String,
    pub kind: PageKind,
}

/// A year in the navigation: enough for links and counts, without its reports.
#[derive(Serialize)]
struct YearNav {
    year: i32,
    url: String,
    count: usize,
}

/// The site, ready to render page by page. Everything shared between pages (summaries,
/// indexes, every report's figures) is computed at most once, when a page first needs
/// it, so the live preview can render one page without preparing the others.
pub struct SiteRender<'a> {
    lib: &'a Library,
    config: &'a Config,
    registry: &'a Registry,
    theme: &'a Theme,
    lang: Lang,
    /// What every page's context has the same (`portal`, `lang`, `theme`), made into
    /// Tera's values once, with their hash: Tera's values share their contents, and
    /// converting the theme's settings for each page was 1 % of a build.
    shared: Shared,
    by_file: HashMap<&'a str, &'a ReportChecks>,
    /// Each format's rules (by format id, in the format's order) as a report's page lists
    /// those that passed, made into Tera's values once: a page lists dozens, and
    /// converting them for each page was 1 % of a build.
    rule_refs: HashMap<&'a str, Vec<Frozen>>,
    /// Report indexes by year, newest year first; each year's in library order.
    by_year: Vec<(i32, Vec<usize>)>,
    /// Each year's view (newest first) and each agency's (in id order), each made into
    /// Tera's value once: the year pages, the year list and the home page print the same
    /// years, the agency pages and the agency list the same agencies.
    years: OnceLock<Vec<Freezable<YearView>>>,
    agencies: OnceLock<Vec<Freezable<AgencyView<'a>>>>,
    /// Each report's summary (by index), frozen for the years' and agencies' views.
    summaries: Vec<OnceLock<Frozen>>,
    compared: OnceLock<crate::compare::Comparisons<'a>>,
    search_docs: OnceLock<Vec<SearchDoc>>,
    /// The search documents a full build gathered from its report pages, until the index
    /// takes them (they are the reports' whole text: 38 MB at 10,000 reports, held to the
    /// end of the build otherwise).
    gathered_docs: std::sync::Mutex<Option<Vec<SearchDoc>>>,
    /// Each format's tables laid out, with their headers rendered, and made by
    /// `partials/table.html`, by (format, table).
    layouts: std::sync::Mutex<HashMap<(String, usize), TableLayout>>,
    /// Each report's data hashed, by library index (see `report_data_key`).
    data_keys: Vec<OnceLock<u64>>,
    /// What the reports' `data.csv` and `data.json` take from their format.
    formats: crate::opendata::Formats,
    /// The same for comparisons of two years: each block's header rows and row stubs.
    #[allow(clippy::type_complexity)]
    pair_html: std::sync::Mutex<
        HashMap<(String, usize), std::sync::Arc<Vec<(tables::Html, Vec<tables::Html>)>>>,
    >,
    /// Comparison tables made by `partials/compare_table.html`, by (format, table, first
    /// year, second year): the same for every agency's pair of those years.
    #[allow(clippy::type_complexity)]
    pair_tables:
        std::sync::Mutex<HashMap<(String, usize, i32, i32), std::sync::Arc<tables::Spliced>>>,
}

/// What `partials/table_head.html` sees as `block`.
#[derive(Serialize)]
struct Head<'v> {
    header_rows: &'v [Vec<tables::HeaderCell>],
}

/// A format's table laid out (see [`SiteRender::table_layout`]), and made by
/// `partials/table.html` without and with computed cells.
type TableLayout = (
    std::sync::Arc<TableView>,
    [std::sync::Arc<tables::Spliced>; 2],
);

/// What `partials/table.html` sees as `table`: a format's table with its blocks, each
/// block's body rows a mark for the page's (see [`tables::Spliced`]).
#[derive(Serialize)]
struct LayoutTable<'v> {
    #[serde(flatten)]
    table: &'v TableView,
    blocks: &'v [tables::BlockView],
}

/// What `partials/table_stubs.html` sees as `row`.
#[derive(Serialize)]
struct Stubs<'v> {
    stubs: &'v [tables::HeaderCell],
}

impl<'a> SiteRender<'a> {
    pub fn new(
        lib: &'a Library,
        checks: &'a [ReportChecks],
        config: &'a Config,
        registry: &'a Registry,
        theme: &'a Theme,
    ) -> SiteRender<'a> {
        let by_file = lib
            .reports
            .iter()
            .map(|r| r.file.as_str())
            .zip(checks.iter())
            .collect();
        let mut by_year: Vec<(i32, Vec<usize>)> = Vec::new();
        let mut slot: HashMap<i32, usize> = HashMap::new();
        for (i, r) in lib.reports.iter().enumerate() {
            let at = *slot.entry(r.year).or_insert_with(|| {
                by_year.push((r.year, Vec::new()));
                by_year.len() - 1
            });
            by_year[at].1.push(i);
        }
        by_year.sort_by_key(|y| std::cmp::Reverse(y.0));
        SiteRender {
            lib,
            config,
            registry,
            theme,
            lang: Lang::from_tag(&config.language),
            shared: Shared::new(
                &PortalView {
                    title: &config.title,
                    description: config.description.as_deref(),
                    language: &config.language,
                },
                &config.language,
                &theme.settings,
            ),
            by_file,
            rule_refs: registry
                .all()
                .map(|s| {
                    let refs = s.rules.iter().map(crate::check::RuleRef::of);
                    (s.id.as_str(), refs.map(|r| Frozen::new(&r)).collect())
                })
                .collect(),
            by_year,
            years: OnceLock::new(),
            agencies: OnceLock::new(),
            summaries: (0..lib.reports.len()).map(|_| OnceLock::new()).collect(),
            compared: OnceLock::new(),
            search_docs: OnceLock::new(),
            gathered_docs: std::sync::Mutex::new(None),
            layouts: Default::default(),
            data_keys: (0..lib.reports.len()).map(|_| OnceLock::new()).collect(),
            formats: crate::opendata::Formats::new(registry, config.csv_labels),
            pair_html: Default::default(),
            pair_tables: Default::default(),
        }
    }

    /// Every page of the site, in a fixed order: report pages first (they give the search
    /// documents), then the indexes, comparisons and data.
    pub fn plan(&self) -> Vec<Planned> {
        let mut out = self.plan_without_comparisons();
        let at = out
            .iter()
            .position(|p| p.kind == PageKind::PortalJson)
            .unwrap_or(out.len());
        let jobs: Vec<Planned> = self
            .compared()
            .jobs()
            .into_iter()
            .map(|job| Planned {
                path: job.path(),
                kind: PageKind::Compare(job),
            })
            .collect();
        out.splice(at..at, jobs);
        // A sitemap's parts depend on how many pages there are, comparisons included.
        if let Some(at) = out.iter().position(|p| p.kind == PageKind::Sitemap) {
            let parts = crate::feeds::sitemap_part_paths(
                out.iter().map(|p| p.path.as_str()),
                crate::feeds::SITEMAP_URLS,
            );
            out.splice(
                at + 1..at + 1,
                parts.into_iter().enumerate().map(|(i, path)| Planned {
                    path,
                    kind: PageKind::SitemapPart(i),
                }),
            );
        }
        out
    }

    /// [`SiteRender::plan`] without the comparison pages, which need every report's
    /// figures: enough to find any other page quickly.
    pub fn plan_without_comparisons(&self) -> Vec<Planned> {
        let mut out = Vec::with_capacity(self.lib.reports.len() * 5 + 64);
        let mut push = |path: String, kind: PageKind| out.push(Planned { path, kind });
        for (i, r) in self.lib.reports.iter().enumerate() {
            push(report_url(r), PageKind::Report(i));
        }
        for (i, r) in self.lib.reports.iter().enumerate() {
            let dir = format!("reports/{}/{}", r.year, r.agency_id);
            push(format!("{dir}/data.json"), PageKind::ReportJson(i));
            push(format!("{dir}/data.csv"), PageKind::ReportCsv(i));
        }
        for (year, _) in &self.by_year {
            push(year_url(*year), PageKind::Year(*year));
            push(
                format!("years/{year}/figures.csv"),
                PageKind::FiguresCsv(*year),
            );
        }
        push("years/index.html".into(), PageKind::Years);
        for id in self.lib.agencies().keys() {
            push(agency_url(id), PageKind::Agency((*id).to_owned()));
        }
        push("agencies/index.html".into(), PageKind::Agencies);
        push("index.html".into(), PageKind::Home);
        push("404.html".into(), PageKind::NotFound);
        push("search/index.html".into(), PageKind::Search);
        push(crate::search::INDEX_PATH.into(), PageKind::SearchIndex);
        push(crate::feeds::ATOM_PATH.into(), PageKind::Feed);
        if self.config.base_url.is_some() {
            push("sitemap.xml".into(), PageKind::Sitemap);
        }
        push("robots.txt".into(), PageKind::Robots);
        push("data/portal.json".into(), PageKind::PortalJson);
        for (i, schema) in self.registry.all().enumerate() {
            push(format!("schemas/{}.json", schema.id), PageKind::Schema(i));
            push(
                crate::opendata::cells_csv_path(&schema.id),
                PageKind::Cells(i),
            );
        }
        for (i, a) in self.theme.assets.iter().enumerate() {
            push(a.path.clone(), PageKind::Asset(i));
        }
        out
    }

    /// Renders one page of the plan. `None`: the page has nothing to show any more (a
    /// comparison whose years no longer compare).
    pub fn render(&self, page: &Planned) -> Result<Option<Vec<u8>>, Error> {
        self.complete(self.prepare(page)?)
    }

    /// Renders a prepared page: its template, when it has one.
    pub fn complete(&self, prepared: Prepared) -> Result<Option<Vec<u8>>, Error> {
        match prepared {
            Prepared::Template { name, ctx } => {
                let (ctx, fills) = ctx.build();
                let page = self.tera(&ctx, name)?;
                drop(ctx);
                if fills.is_empty() {
                    return Ok(Some(page));
                }
                tables::put_tables(&page, &fills).map(Some).map_err(|_| {
                    Error::Template(format!(
                        "templates/{name}: a table's `html` was changed (by a filter?) before it was printed; print it as it is, `{{{{ … .html | safe }}}}`"
                    ))
                })
            }
            Prepared::Bytes(bytes) => Ok(Some(bytes)),
            Prepared::Lazy { make, .. } => make().map(Some),
            Prepared::Stream(_, write) => {
                let mut bytes = Vec::new();
                write(&mut bytes)?;
                Ok(Some(bytes))
            }
            Prepared::Missing => Ok(None),
        }
    }

    /// Everything one page is made from, short of rendering its template.
    pub fn prepare(&self, page: &Planned) -> Result<Prepared<'_>, Error> {
        fn template<'s>(ctx: PageContext<'s>, name: &'static str) -> Prepared<'s> {
            Prepared::Template { name, ctx }
        }
        Ok(Prepared::Bytes(match &page.kind {
            PageKind::Report(i) => {
                let r = &self.lib.reports[*i];
                return self.report_page(r, &r.body).map(|p| p.0);
            }
            PageKind::ReportJson(i) => {
                let r = &self.lib.reports[*i];
                return Ok(Prepared::Lazy {
                    key: self.report_data_key(*i, "json"),
                    make: Box::new(move || crate::opendata::report_json(r, &self.formats)),
                });
            }
            PageKind::ReportCsv(i) => {
                let r = &self.lib.reports[*i];
                return Ok(Prepared::Lazy {
                    key: self.report_data_key(*i, "csv"),
                    make: Box::new(move || Ok(crate::opendata::report_csv(r, &self.formats))),
                });
            }
            PageKind::Year(year) => {
                let Some(y) = self.years().iter().find(|y| y.view.year == *year) else {
                    return Ok(Prepared::Missing);
                };
                let mut ctx = self.base("../../", "year");
                ctx.insert("year", y.frozen());
                ctx.insert("years", self.years_nav());
                return Ok(template(ctx, "year.html"));
            }
            PageKind::Years => {
                let mut ctx = self.base("../", "years");
                let all: Vec<&Frozen> = self.years().iter().map(Freezable::frozen).collect();
                ctx.insert("years", all);
                return Ok(template(ctx, "years.html"));
            }
            PageKind::Agency(id) => {
                // The agencies are in id order (a search per page made the pages
                // quadratic in agencies).
                let agencies = self.agencies();
                let Ok(at) = agencies.binary_search_by(|a| a.view.id.cmp(id.as_str())) else {
                    return Ok(Prepared::Missing);
                };
                let a = &agencies[at];
                let mut ctx = self.base("../../", "agency");
                ctx.insert("agency", a.frozen());
                let mut history = self.compared().agency(a.view.id);
                if let Some(h) = &mut history {
                    self.history_cells(h);
                }
                ctx.insert("history", history);
                return Ok(template(ctx, "agency.html"));
            }
            PageKind::Agencies => {
                let mut ctx = self.base("../", "agencies");
                let all: Vec<&Frozen> = self.agencies().iter().map(Freezable::frozen).collect();
                ctx.insert("agencies", all);
                return Ok(template(ctx, "agencies.html"));
            }
            PageKind::Home => {
                let mut ctx = self.base("", "home");
                ctx.insert("latest", self.years().first().map(Freezable::frozen));
                ctx.insert("years", self.years_nav());
                ctx.insert("agency_count", self.lib.agencies().len());
                ctx.insert("report_count", self.lib.reports.len());
                return Ok(template(ctx, "index.html"));
            }
            PageKind::NotFound => {
                // Hosts serve it at any depth, so its links go from the base address when
                // there is one, and from the top of the site otherwise.
                let root = self.config.base_url.as_ref().map_or(String::new(), |b| {
                    if b.ends_with('/') {
                        b.clone()
                    } else {
                        format!("{b}/")
                    }
                });
                return Ok(template(self.base(&root, "not_found"), "404.html"));
            }
            PageKind::Search => return Ok(template(self.base("../", "search"), "search.html")),
            PageKind::SearchIndex => {
                // The index is a function of its documents: a rebuild whose documents did
                // not change does not make it again. A build's gathered documents go with
                // the index, and are dropped when it is written.
                let gathered = self.gathered_docs.lock().ok().and_then(|mut d| d.take());
                let docs = match gathered {
                    Some(d) => std::borrow::Cow::Owned(d),
                    None => std::borrow::Cow::Borrowed(self.search_docs()?),
                };
                let mut h = crate::fingerprint::hasher();
                std::hash::Hash::hash(&*docs, &mut h);
                return Ok(Prepared::Stream(
                    std::hash::Hasher::finish(&h),
                    Box::new(move |out| {
                        crate::search::write_index(&docs, out).map_err(|e| {
                            Error::io(std::path::Path::new(crate::search::INDEX_PATH), e)
                        })
                    }),
                ));
            }
            PageKind::Feed => crate::feeds::atom(self.lib, self.config).content,
            PageKind::Sitemap | PageKind::SitemapPart(_) => {
                let plan = self.plan();
                let paths = plan.iter().map(|p| p.path.as_str());
                let per_file = crate::feeds::SITEMAP_URLS;
                let file = match page.kind {
                    PageKind::SitemapPart(i) => {
                        crate::feeds::sitemap_part(paths, self.config, per_file, i)
                    }
                    _ => crate::feeds::sitemap(paths, self.config, per_file),
                };
                match file {
                    Some(p) => p.content,
                    None => return Ok(Prepared::Missing),
                }
            }
            PageKind::Robots => crate::feeds::robots(self.config).content,
            PageKind::Compare(job) => {
                use crate::compare::JobView;
                return Ok(match self.compared().view(job) {
                    Some(JobView::Pair(mut view)) => {
                        let mut ctx = self.base("../../../../", "agency_compare");
                        self.pair_fragments(&mut view, &mut ctx)?;
                        ctx.insert("compare", view);
                        template(ctx, "agency_compare.html")
                    }
                    Some(JobView::Peers(mut view)) => {
                        self.peer_cells(&mut view);
                        let mut ctx = self.base("../../../", "year_compare");
                        ctx.insert("peers", view);
                        template(ctx, "year_compare.html")
                    }
                    None => Prepared::Missing,
                });
            }
            PageKind::FiguresCsv(year) => {
                let cmp = self.compared();
                let mut in_year = cmp.of_year(*year);
                in_year.sort_by_key(|c| {
                    (
                        AgencyKind::ALL
                            .iter()
                            .position(|k| *k == c.report.agency_kind),
                        c.report.agency_id.clone(),
                    )
                });
                crate::opendata::figures_csv(*year, &in_year)
            }
            PageKind::PortalJson => {
                // Made from every report, its format and the agency registry, and the
                // portal's title and language: nothing else.
                use std::hash::Hash;
                let mut h = crate::fingerprint::hasher();
                for i in 0..self.lib.reports.len() {
                    self.report_data_key(i, "portal").hash(&mut h);
                }
                for s in self.registry.all() {
                    s.fingerprint.hash(&mut h);
                }
                (&self.config.title, &self.config.language).hash(&mut h);
                return Ok(Prepared::Stream(
                    std::hash::Hasher::finish(&h),
                    Box::new(|out| {
                        let cmp = self.compared();
                        crate::opendata::write_portal_json(
                            self.lib,
                            self.registry,
                            cmp,
                            self.config,
                            out,
                        )
                    }),
                ));
            }
            PageKind::Schema(i) => match self.registry.all().nth(*i) {
                Some(schema) => crate::schema_json::to_text(schema).into_bytes(),
                None => return Ok(Prepared::Missing),
            },
            PageKind::Cells(i) => match self.registry.all().nth(*i) {
                Some(schema) => crate::opendata::cells_csv(schema),
                None => return Ok(Prepared::Missing),
            },
            PageKind::Asset(i) => match self.theme.assets.get(*i) {
                Some(a) => a.content.clone(),
                None => return Ok(Prepared::Missing),
            },
        }))
    }

    /// The search documents, made from every report's text and kept (the preview asks for
    /// the index again); a full build gathers them from its report pages instead
    /// ([`SiteRender::render_reports`]).
    fn search_docs(&self) -> Result<&Vec<SearchDoc>, Error> {
        if let Some(d) = self.search_docs.get() {
            return Ok(d);
        }
        let docs: Result<Vec<SearchDoc>, Error> = self
            .lib
            .reports
            .par_iter()
            .map(|r| {
                let sections = self.sections(r, &r.body)?;
                Ok(SearchDoc::new(r, &sections))
            })
            .collect();
        Ok(self.search_docs.get_or_init(|| docs.unwrap_or_default()))
    }

    /// Prepares every report page (in parallel, passing each to `sink`) and keeps their
    /// search documents. Every report's Markdown problems are returned together.
    /// `bodies`, when given, are the reports' Markdown in library order, taken out of the
    /// library by a build ([`crate::model::Library::take_bodies`]) so that it can drop
    /// them once the pages are made; else each report's own is read.
    pub fn render_reports(
        &self,
        plan: &[Planned],
        sink: &(dyn Fn(&Planned, Prepared) -> Result<(), Error> + Sync),
        bodies: Option<&[String]>,
    ) -> Result<(), Error> {
        let results: Vec<Result<Option<SearchDoc>, Error>> = plan
            .par_iter()
            .map(|p| match p.kind {
                PageKind::Report(i) => {
                    let r = &self.lib.reports[i];
                    let body = bodies.and_then(|b| b.get(i)).unwrap_or(&r.body);
                    let (page, doc) = self.report_page(r, body)?;
                    sink(p, page)?;
                    Ok(Some(doc))
                }
                _ => Ok(None),
            })
            .collect();
        let mut docs = Vec::with_capacity(self.lib.reports.len());
        let mut problems: Vec<Diagnostic> = Vec::new();
        for r in results {
            match r {
                Ok(Some(doc)) => docs.push(doc),
                Ok(None) => {}
                Err(Error::Diagnostics(mut d)) => problems.append(&mut d),
                Err(e) => return Err(e),
            }
        }
        if !problems.is_empty() {
            return Err(Error::Diagnostics(problems));
        }
        if let Ok(mut gathered) = self.gathered_docs.lock() {
            *gathered = Some(docs);
        }
        Ok(())
    }

    fn base(&self, root: &str, kind: &'static str) -> PageContext<'_> {
        let mut ctx = PageContext::new();
        ctx.insert_shared(&self.shared);
        ctx.insert("root", root.to_owned());
        ctx.insert("page_kind", kind);
        ctx
    }

    fn tera(&self, ctx: &Context, name: &str) -> Result<Vec<u8>, Error> {
        render(self.theme, name, ctx)
    }

    fn summary(&self, r: &'a Report) -> Summary<'a> {
        let schema = self.registry.get(&r.format);
        let status = self
            .by_file
            .get(r.file.as_str())
            .map_or_else(Status::default, |c| Status {
                errors: c.errors(),
                warnings: c.warnings(),
                infos: c.diagnostics.len() - c.errors() - c.warnings(),
                explained: c.explained.len(),
                passed: c.passed.len(),
            });
        Summary {
            title: &r.title,
            agency: &r.agency,
            agency_id: &r.agency_id,
            agency_kind: r.agency_kind,
            kind_label: kind_label(&self.theme.words, r.agency_kind),
            year: r.year,
            published: r.published.to_string(),
            format: &r.format,
            format_name: schema.map_or("", |s| s.name.as_str()),
            sample: r.sample,
            url: report_url(r),
            agency_url: agency_url(&r.agency_id),
            status,
        }
    }

    /// Report `i`'s summary as Tera's value, made once for the year and agency views.
    fn frozen_summary(&self, i: usize) -> Frozen {
        self.summaries[i]
            .get_or_init(|| Frozen::new(&self.summary(&self.lib.reports[i])))
            .clone()
    }

    /// Year indexes, newest first, grouped by agency kind.
    fn years(&self) -> &Vec<Freezable<YearView>> {
        self.years.get_or_init(|| {
            self.by_year
                .iter()
                .map(|(year, list)| {
                    let groups = AgencyKind::ALL
                        .into_iter()
                        .filter_map(|kind| {
                            let reports: Vec<Frozen> = list
                                .iter()
                                .filter(|&&i| self.lib.reports[i].agency_kind == kind)
                                .map(|&i| self.frozen_summary(i))
                                .collect();
                            (!reports.is_empty()).then_some(KindGroup {
                                kind,
                                label: kind_label(&self.theme.words, kind),
                                reports,
                            })
                        })
                        .collect();
                    let view = YearView {
                        year: *year,
                        url: year_url(*year),
                        count: list.len(),
                        groups,
                    };
                    Freezable::new(view)
                })
                .collect()
        })
    }

    fn years_nav(&self) -> Vec<YearNav> {
        self.by_year
            .iter()
            .map(|(year, list)| YearNav {
                year: *year,
                url: year_url(*year),
                count: list.len(),
            })
            .collect()
    }

    /// Every agency with its reports, in id order: the registry, else the newest report,
    /// gives the current name and kind.
    fn agencies(&self) -> &Vec<Freezable<AgencyView<'a>>> {
        self.agencies.get_or_init(|| {
            // As `Library::agencies`, by index: each report's summary is made once.
            let mut by_agency: std::collections::BTreeMap<&str, Vec<usize>> =
                std::collections::BTreeMap::new();
            for (i, r) in self.lib.reports.iter().enumerate() {
                by_agency.entry(r.agency_id.as_str()).or_default().push(i);
            }
            by_agency
                .into_iter()
                .map(|(id, reports)| {
                    let first = &self.lib.reports[reports[0]];
                    let view = AgencyView {
                        id,
                        name: self.lib.agency_name(id).unwrap_or(&first.agency),
                        kind: first.agency_kind,
                        kind_label: kind_label(&self.theme.words, first.agency_kind),
                        url: agency_url(id),
                        reports: reports.iter().map(|&i| self.frozen_summary(i)).collect(),
                    };
                    Freezable::new(view)
                })
                .collect()
        })
    }

    /// Every report's figures, computed once (agency history, pairs, peers, open data).
    fn compared(&self) -> &crate::compare::Comparisons<'a> {
        self.compared.get_or_init(|| {
            crate::compare::Comparisons::new(self.lib, self.registry)
                .with_words(self.theme.words.clone())
        })
    }

    fn schema(&self, r: &Report) -> Result<&'a crate::schema::Schema, Error> {
        self.registry
            .get(&r.format)
            .ok_or_else(|| Error::Usage(format!("unknown format {}", r.format)))
    }

    /// The layout of a format's table (see [`TableView::fill`]), with its header rows and
    /// stubs rendered by the theme's `partials/table_head.html` and
    /// `partials/table_stubs.html`, and the table itself by `partials/table.html` (where
    /// a page's body rows go marked): made for the first report of the format, shared by
    /// the rest. Those partials see `block` (`header_rows`), `row` (`stubs`) or `table`,
    /// with the portal, `lang` and `theme`, but no page. Rendering the table once rather
    /// than on every page saved 3 % of a build.
    fn table_layout(
        &self,
        format: &str,
        index: usize,
        t: &crate::schema::Table,
        d: &crate::model::TableData,
    ) -> Result<TableLayout, Error> {
        let key = (format.to_owned(), index);
        if let Some(layout) = self.layouts.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(layout);
        }
        let mut view = tables::view(t, index, d);
        for block in &mut view.blocks {
            let head = Head {
                header_rows: &block.header_rows,
            };
            block.head_html = self.fragment("partials/table_head.html", "block", &head)?;
            for row in &mut block.rows {
                let stubs = Stubs { stubs: &row.stubs };
                row.stubs_html = self.fragment("partials/table_stubs.html", "row", &stubs)?;
            }
        }
        let mut marked = view.blocks.clone();
        for (i, b) in marked.iter_mut().enumerate() {
            b.body_html = tables::body_mark(i);
        }
        let mut spliced: [std::sync::Arc<tables::Spliced>; 2] = Default::default();
        for (has_computed, out) in [false, true].into_iter().zip(&mut spliced) {
            let table = TableView {
                has_computed,
                blocks: Vec::new(),
                ..view.clone()
            };
            let (mut ctx, _) = self.base("", "table").build();
            ctx.insert(
                "table",
                &LayoutTable {
                    table: &table,
                    blocks: &marked,
                },
            );
            // Not minified again as HTML: it is printed where the page's template
            // included it before, and gives the same bytes.
            let html = self.theme.render("partials/table.html", &ctx)?;
            *out = std::sync::Arc::new(tables::Spliced::of(&html, marked.len()));
        }
        let layout = (std::sync::Arc::new(view), spliced);
        if let Ok(mut m) = self.layouts.lock() {
            m.entry(key).or_insert_with(|| layout.clone());
        }
        Ok(layout)
    }

    /// Makes the cells of an agency's history tables (`row.cells_html`): two per year, the
    /// value and the change, in the theme's words. Made here rather than in the template:
    /// a page has hundreds, and each took several lookups in Tera (agency pages were the
    /// slowest per page).
    fn history_cells(&self, history: &mut crate::compare::AgencyHistory) {
        use crate::html::escape_into;
        let words = &self.theme.words;
        let word = |key: &str| words.get(key).unwrap_or_default();
        // The theme's words may hold markup (as `t()` prints them); the parentheses are
        // split out of `common.paren` around its placeholder, and escaped.
        let paren = word("common.paren");
        let (open, close) = paren.split_once("{text}").unwrap_or((paren, ""));
        let hidden = |html: &mut String, text: &str| {
            html.push_str("<span class=\"visually-hidden\">");
            html.push_str(text);
            html.push_str("</span>");
        };
        // No number: a dash, and the reason for screen readers. The words are looked up
        // once, not per cell (an agency page has hundreds).
        let dash = |html: &mut String, reason: &str| {
            html.push('—');
            hidden(html, reason);
        };
        let zero_denominator = word("history.zero_denominator");
        let missing = word("history.missing");
        let points = word("compare.percentage_points");
        let incomparable = word("history.incomparable");
        let incomparable_why = word("history.incomparable_why");
        let no_previous = word("history.no_previous");
        let not_comparable = word("history.not_comparable");
        for g in &mut history.groups {
            for row in &mut g.rows {
                let mut html = String::with_capacity(row.cells.len() * 160);
                for c in std::mem::take(&mut row.cells) {
                    let head = |html: &mut String, suffix: char| {
                        html.push_str("<td headers=\"");
                        escape_into(html, &row.id);
                        html.push(' ');
                        for _ in 0..2 {
                            escape_into(html, &g.hid);
                            html.push('y');
                            push_year(html, c.year);
                            html.push(' ');
                        }
                        html.pop();
                        html.push(suffix);
                        html.push('"');
                    };
                    head(&mut html, 'v');
                    html.push('>');
                    match (&c.value, c.why) {
                        (Some(v), _) => {
                            escape_into(&mut html, v);
                            if row.is_rate {
                                html.push('%');
                            }
                        }
                        (None, Some("zero_denominator")) => {
                            dash(&mut html, zero_denominator);
                        }
                        (None, _) => dash(&mut html, missing),
                    }
                    html.push_str("</td>");
                    head(&mut html, 'd');
                    match (&c.change, c.why) {
                        (Some(change), _) => {
                            html.push_str(" class=\"");
                            escape_into(&mut html, change.dir);
                            html.push_str("\">");
                            escape_into(&mut html, &change.diff);
                            if row.is_rate {
                                html.push_str(points);
                            }
                            if let Some(pct) = &change.pct {
                                html.push_str("<small>");
                                escape_into(&mut html, open);
                                escape_into(&mut html, pct);
                                html.push('%');
                                escape_into(&mut html, close);
                                html.push_str("</small>");
                            }
                        }
                        (None, Some("incomparable")) => {
                            html.push('>');
                            html.push_str(incomparable);
                            hidden(&mut html, incomparable_why);
                        }
                        (None, Some("no_previous")) => {
                            html.push('>');
                            dash(&mut html, no_previous);
                        }
                        (None, _) => {
                            html.push('>');
                            dash(&mut html, not_comparable);
                        }
                    }
                    html.push_str("</td>");
                }
                row.cells_html = html;
            }
        }
    }

    /// Makes the cells of a peer page's rows and total (`cells_html`, `total_html`): per
    /// column a `td` with the value (and `%` for a rate), or the theme's words for why
    /// there is none (`compare.incomparable`; a dash and `compare.no_data` for screen
    /// readers).
    fn peer_cells(&self, view: &mut crate::compare::PeersView) {
        use crate::html::escape_into;
        let words = &self.theme.words;
        let incomparable = words.get("compare.incomparable").unwrap_or_default();
        let no_data = words.get("compare.no_data").unwrap_or_default();
        let cells = |cells: &[crate::compare::PeerCell], rates: &[bool]| {
            let mut html = String::with_capacity(cells.len() * 24);
            for (c, is_rate) in cells
                .iter()
                .zip(rates.iter().chain(std::iter::repeat(&false)))
            {
                html.push_str("<td>");
                match &c.value {
                    Some(v) if !v.is_empty() => {
                        escape_into(&mut html, v);
                        if *is_rate {
                            html.push('%');
                        }
                    }
                    _ if c.incomparable => html.push_str(incomparable),
                    _ => {
                        html.push_str("—<span class=\"visually-hidden\">");
                        html.push_str(no_data);
                        html.push_str("</span>");
                    }
                }
                html.push_str("</td>");
            }
            html
        };
        for t in &mut view.tables {
            let rates: Vec<bool> = t.columns.iter().map(|c| c.is_rate).collect();
            for g in &mut t.groups {
                for row in &mut g.rows {
                    row.cells_html = cells(&row.cells, &rates);
                }
            }
            t.total_html = cells(&t.total, &rates);
        }
    }

    /// Puts the header rows and stubs, rendered once per format's table, into a
    /// comparison of two years (see [`crate::compare::PairLayout`]).
    fn pair_fragments(
        &self,
        view: &mut crate::compare::PairView,
        ctx: &mut PageContext<'_>,
    ) -> Result<(), Error> {
        type Made = std::sync::Arc<Vec<(tables::Html, Vec<tables::Html>)>>;
        for table in &mut view.tables {
            let Some(layout) = table.layout.clone() else {
                continue;
            };
            let key = (layout.format.clone(), layout.index);
            let cached: Option<Made> = self
                .pair_html
                .lock()
                .ok()
                .and_then(|m| m.get(&key).cloned());
            let made = match cached {
                Some(made) => made,
                None => {
                    let mut made = Vec::new();
                    for block in &layout.table.blocks {
                        let head = Head {
                            header_rows: &block.header_rows,
                        };
                        let head = self.fragment("partials/table_head.html", "block", &head)?;
                        let stubs = block
                            .rows
                            .iter()
                            .map(|r| {
                                let stubs = Stubs { stubs: &r.stubs };
                                self.fragment("partials/table_stubs.html", "row", &stubs)
                            })
                            .collect::<Result<Vec<_>, Error>>()?;
                        made.push((head, stubs));
                    }
                    let made: Made = std::sync::Arc::new(made);
                    if let Ok(mut m) = self.pair_html.lock() {
                        m.entry(key).or_insert_with(|| made.clone());
                    }
                    made
                }
            };
            let bodies = table
                .blocks
                .iter()
                .zip(made.iter())
                .map(|(block, (_, stubs))| {
                    let size = stubs.iter().map(|h| h.0.len()).sum::<usize>()
                        + block
                            .rows
                            .iter()
                            .map(|r| 9 + r.cells_html.len())
                            .sum::<usize>();
                    let mut body = String::with_capacity(size);
                    for (row, html) in block.rows.iter().zip(stubs) {
                        body.push_str("<tr>");
                        body.push_str(&html.0);
                        body.push_str(&row.cells_html);
                        body.push_str("</tr>");
                    }
                    body
                })
                .collect();
            let spliced = self.pair_table(&layout, table, &made, view.y1, view.y2)?;
            table.blocks = Vec::new();
            table.html = ctx.splice(spliced, bodies);
        }
        Ok(())
    }

    /// A comparison table as `partials/compare_table.html` makes it for a format's table
    /// and two years, with marks where a page's body rows go (as [`Self::table_layout`]
    /// for report tables): made for the first page, shared by the rest. The partial sees
    /// `table` (`{key, id, section, caption, unit, blocks}`, each block `{id, caption,
    /// head_html, leaves, years_html, body_html}`) and `compare` (`{y1, y2}`), with the
    /// portal, `lang` and `theme`. `table` is a page's (with its header rows made).
    fn pair_table(
        &self,
        layout: &crate::compare::PairLayout,
        table: &crate::compare::CompareTable,
        made: &[(tables::Html, Vec<tables::Html>)],
        y1: i32,
        y2: i32,
    ) -> Result<std::sync::Arc<tables::Spliced>, Error> {
        let key = (layout.format.clone(), layout.index, y1, y2);
        if let Some(made) = self
            .pair_tables
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return Ok(made);
        }
        // The words are the theme's (trusted, may hold simple markup), as `t()` gives them.
        let words = &self.theme.words;
        let sub_heads = [
            words.text("common.year", &[("year", &y1.to_string())]),
            words.text("common.year", &[("year", &y2.to_string())]),
            words.text("compare.change", &[]),
        ];
        // The layout's blocks: a page's have their rows only.
        let mut blocks = layout.table.blocks.clone();
        for (i, (b, (head, _))) in blocks.iter_mut().zip(made).enumerate() {
            b.header_rows = Vec::new();
            b.head_html = head.clone();
            b.years_html = years_row(&b.leaves, &sub_heads);
            b.rows = Vec::new();
            b.body_html = tables::body_mark(i);
        }
        #[derive(Serialize)]
        struct Table<'t> {
            key: &'t str,
            id: &'t str,
            section: &'t str,
            caption: &'t str,
            unit: &'t Option<String>,
            blocks: &'t [crate::compare::CompareBlock],
        }
        #[derive(Serialize)]
        struct Years {
            y1: i32,
            y2: i32,
        }
        let (mut ctx, _) = self.base("", "table").build();
        ctx.insert(
            "table",
            &Table {
                key: &table.key,
                id: &table.id,
                section: &table.section,
                caption: &table.caption,
                unit: &table.unit,
                blocks: &blocks,
            },
        );
        ctx.insert("compare", &Years { y1, y2 });
        let html = self.theme.render("partials/compare_table.html", &ctx)?;
        let made = std::sync::Arc::new(tables::Spliced::of(&html, blocks.len()));
        if let Ok(mut m) = self.pair_tables.lock() {
            m.entry(key).or_insert_with(|| made.clone());
        }
        Ok(made)
    }

    /// The key of a file made from report `i`'s data alone (its `data.json`, `data.csv`,
    /// its part of `data/portal.json`): what the report says of itself and every cell
    /// (not its prose, which these files do not hold), its format's file, and the agency
    /// registry's, which names and sorts agencies.
    fn report_data_key(&self, i: usize, what: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        // Three files are made from each report's data: its cells are hashed once.
        let data = self.data_keys[i].get_or_init(|| self.report_data_hash(&self.lib.reports[i]));
        let mut h = crate::fingerprint::hasher();
        (what, data).hash(&mut h);
        h.finish()
    }

    fn report_data_hash(&self, r: &Report) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = crate::fingerprint::hasher();
        (&r.file, &r.title, &r.agency, &r.agency_id, r.agency_kind).hash(&mut h);
        (r.year, r.published, &r.format, r.sample).hash(&mut h);
        // The cells are gathered and hashed in one piece: hashing each value on its own
        // was most of this key's time.
        let mut cells = Vec::with_capacity(4096);
        for t in &r.tables {
            t.key.hash(&mut h);
            cells.clear();
            for block in &t.blocks {
                for row in block.rows() {
                    cells.extend_from_slice(&(row.len() as u32).to_le_bytes());
                    for cell in row {
                        cells.extend_from_slice(&cell.value.key_bytes());
                        cells.push(u8::from(matches!(
                            cell.origin,
                            crate::model::Origin::Computed
                        )));
                    }
                }
                cells.push(b'|');
            }
            cells.hash(&mut h);
        }
        self.registry
            .get(&r.format)
            .map(|s| s.fingerprint)
            .hash(&mut h);
        self.lib
            .agencies
            .as_ref()
            .map(|a| a.fingerprint)
            .hash(&mut h);
        h.finish()
    }

    /// A partial rendered on its own, with `var` set to `value`.
    fn fragment<T: Serialize>(
        &self,
        name: &str,
        var: &'static str,
        value: &T,
    ) -> Result<tables::Html, Error> {
        let (mut ctx, _) = self.base("", "table").build();
        ctx.insert(var, value);
        let html = self.theme.render(name, &ctx)?;
        // Rendered once, so minified as HTML: the whitespace that Tera tags kept goes too.
        let html = if self.config.minify {
            crate::htmlmin::html(&html)
        } else {
            html
        };
        Ok(tables::Html(html.into()))
    }

    fn sections(&self, r: &Report, body: &str) -> Result<Vec<Section>, Error> {
        let schema = self.schema(r)?;
        let mut sections =
            markdown::render_body(&r.file, body, r.body_line, schema, self.config.allow_html)
                .map_err(Error::Diagnostics)?;
        if self.config.minify {
            // The templates are minified once (see `Theme::load`); the text is minified here.
            for part in sections.iter_mut().flat_map(|s| s.parts.iter_mut()) {
                if let markdown::Part::Html { html, signed } = part {
                    *html = crate::htmlmin::html(html);
                    *signed = markdown::ends_with_signature(html);
                }
            }
        }
        Ok(sections)
    }

    /// A report's page, prepared, and its search document.
    fn report_page(&self, r: &'a Report, body: &str) -> Result<(Prepared<'_>, SearchDoc), Error> {
        let schema = self.schema(r)?;
        let sections = self.sections(r, body)?;
        let words = &self.theme.words;
        let marks = tables::CellMarks {
            mark: words.get("table.computed_mark").unwrap_or("*"),
            spoken: words.get("table.computed").unwrap_or_default(),
        };
        let mut ctx = self.base("../../../", "report");
        let tables = schema
            .tables
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                let d = r.table(&t.key)?;
                Some(
                    self.table_layout(&r.format, i, t, d)
                        .map(|(layout, spliced)| {
                            let mut view = layout.fill(d, &marks);
                            let bodies = std::mem::take(&mut view.blocks)
                                .into_iter()
                                .map(|b| b.body_html)
                                .collect();
                            view.html =
                                ctx.splice(spliced[usize::from(view.has_computed)].clone(), bodies);
                            (t.key.clone(), view)
                        }),
                )
            })
            .collect::<Result<_, Error>>()?;
        let search_doc = SearchDoc::new(r, &sections);
        let lang = self.lang;
        let view = ReportView {
            summary: self.summary(r),
            format_source: &schema.source,
            sections,
            tables,
            data_url: "data.json".into(),
            cells_url: (!self.config.csv_labels && !schema.tables.is_empty())
                .then(|| format!("../../../{}", crate::opendata::cells_csv_path(&r.format))),
            revisions: &r.revisions,
            checks: self.by_file.get(r.file.as_str()).map(|c| ChecksView {
                passed: {
                    let refs = self.rule_refs.get(schema.id.as_str());
                    let at = |&i: &u32| refs?.get(i as usize);
                    c.passed.iter().filter_map(at).collect()
                },
                explained: &c.explained,
                findings: c
                    .diagnostics
                    .iter()
                    .map(|d| Finding {
                        rule: d.rule.clone().unwrap_or_default(),
                        severity: d.severity.key(),
                        message: if lang == Lang::En {
                            d.message_en.clone()
                        } else {
                            d.message.clone()
                        },
                        location: d.location(),
                    })
                    .collect(),
            }),
        };
        ctx.insert("report", view);
        Ok((
            Prepared::Template {
                name: "report.html",
                ctx,
            },
            search_doc,
        ))
    }
}

/// A comparison table's last header row: under each leaf column, its first year's,
/// second year's and change's headers (`{leaf}a`, `{leaf}b`, `{leaf}d`, the ids the
/// cells' `headers` name).
fn years_row(leaves: &[String], words: &[String; 3]) -> String {
    let mut row = String::with_capacity(8 + leaves.len() * 120);
    row.push_str("<tr>");
    for leaf in leaves {
        for (sub, word) in ["a", "b", "d"].iter().zip(words) {
            // Leaf ids are made by `tables::header_id`: letters and digits, which need
            // neither escaping nor quotes.
            row.push_str("<th id=");
            row.push_str(leaf);
            row.push_str(sub);
            row.push_str(" scope=col>");
            row.push_str(word);
            row.push_str("</th>");
        }
    }
    row.push_str("</tr>");
    row
}

/// Renders every page of the site into memory (tests and small sites; the build streams
/// pages to disk with [`SiteRender`] instead). Every report's problems are returned
/// together, so that the author sees all of them.
pub fn render_site(
    lib: &Library,
    checks: &[ReportChecks],
    config: &Config,
    registry: &Registry,
    theme: &Theme,
) -> Result<Vec<Page>, Error> {
    let site = SiteRender::new(lib, checks, config, registry, theme);
    let plan = site.plan();
    let pages = std::sync::Mutex::new(Vec::with_capacity(plan.len()));
    let keep = |p: &Planned, prepared: Prepared| {
        let Some(content) = site.complete(prepared)? else {
            return Ok(());
        };
        if let Ok(mut v) = pages.lock() {
            v.push(Page {
                path: p.path.clone(),
                content,
            });
        }
        Ok(())
    };
    site.render_reports(&plan, &keep, None)?;
    plan.par_iter()
        .filter(|p| !matches!(p.kind, PageKind::Report(_)))
        .try_for_each(|p| keep(p, site.prepare(p)?))?;
    let mut pages = pages.into_inner().unwrap_or_default();
    pages.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(pages)
}

/// Renders a template (minified by the theme's templates when the portal asks for it).
fn render(theme: &Theme, name: &str, ctx: &Context) -> Result<Vec<u8>, Error> {
    theme.render_bytes(name, ctx)
}
