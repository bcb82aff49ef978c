//! Render stage: every page of the site, from the library, through the theme's Tera
//! templates, optionally minified. Pages are returned in memory; writing them is the
//! write stage's job. Links are relative (`root` is the way back to the site's top
//! from each page), so the output works from any folder and from disk.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;
use tera::{Context, Tera};

use std::collections::HashMap;

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
];

pub(crate) fn register_filters(tera: &mut Tera) {
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
    passed: &'a [crate::check::RuleRef],
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
struct KindGroup<'a> {
    kind: AgencyKind,
    label: String,
    reports: Vec<Summary<'a>>,
}

#[derive(Serialize)]
struct YearView<'a> {
    year: i32,
    url: String,
    count: usize,
    groups: Vec<KindGroup<'a>>,
}

#[derive(Serialize)]
struct AgencyView<'a> {
    id: &'a str,
    name: &'a str,
    kind: AgencyKind,
    kind_label: String,
    url: String,
    reports: Vec<Summary<'a>>,
}

#[derive(Serialize)]
struct ReportView<'a> {
    #[serde(flatten)]
    summary: Summary<'a>,
    format_source: &'a str,
    sections: Vec<Section>,
    tables: BTreeMap<String, TableView>,
    data_url: String,
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

fn agency_url(id: &str) -> String {
    format!("agencies/{id}/index.html")
}

fn year_url(year: i32) -> String {
    format!("years/{year}/index.html")
}

/// A partial render, for the live preview (`portalgen serve`): only some reports' pages
/// are rendered; every other page (indexes, agencies, comparisons, data) is rendered as
/// usual. The search index needs every report's text, so the documents of earlier renders
/// are kept here, by report URL, and updated with those rendered now.
#[derive(Default)]
pub struct RenderScope {
    /// Report files (`Report::file`) whose pages are rendered; `None`: every report.
    pub reports: Option<std::collections::HashSet<String>>,
    /// Search documents by report URL (`report_url`), from this and earlier renders.
    pub search_docs: HashMap<String, SearchDoc>,
}

/// Renders every page of the site. Report bodies are parsed here; their problems are
/// returned together so that the author sees all of them.
pub fn render_site(
    lib: &Library,
    checks: &[ReportChecks],
    config: &Config,
    registry: &Registry,
    theme: &Theme,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<Page>, Error> {
    render_site_scoped(lib, checks, config, registry, theme, progress, None)
}

/// [`render_site`], with the report pages limited to `scope.reports` when a scope is
/// given. The pages of reports outside the scope are left out of the result: the caller
/// keeps them from an earlier render.
pub fn render_site_scoped(
    lib: &Library,
    checks: &[ReportChecks],
    config: &Config,
    registry: &Registry,
    theme: &Theme,
    progress: &(dyn Fn(usize) + Sync),
    scope: Option<&mut RenderScope>,
) -> Result<Vec<Page>, Error> {
    let only = scope.as_ref().and_then(|s| s.reports.clone());
    // In a partial render, the agencies and years of the reports rendered: only their
    // agency, year and comparison pages are rendered too.
    use std::collections::HashSet;
    type Touched = (HashSet<String>, HashSet<i32>);
    let touched: Option<Touched> = only.as_ref().map(|set| {
        let in_scope = lib.reports.iter().filter(|r| set.contains(&r.file));
        (
            in_scope.clone().map(|r| r.agency_id.clone()).collect(),
            in_scope.map(|r| r.year).collect(),
        )
    });
    let rendered = std::sync::atomic::AtomicUsize::new(0);
    let lang = Lang::from_tag(&config.language);
    let portal = PortalView {
        title: &config.title,
        description: config.description.as_deref(),
        language: &config.language,
    };
    let by_file: HashMap<&str, &ReportChecks> = lib
        .reports
        .iter()
        .map(|r| r.file.as_str())
        .zip(checks.iter())
        .collect();
    fn summary<'a>(
        r: &'a Report,
        registry: &'a Registry,
        by_file: &HashMap<&str, &ReportChecks>,
        words: &crate::i18n::Translations,
    ) -> Summary<'a> {
        let schema = registry.get(&r.format);
        let checks = by_file.get(r.file.as_str());
        let status = checks.map_or_else(Status::default, |c| Status {
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
            kind_label: kind_label(words, r.agency_kind),
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
    let summary = |r| summary(r, registry, &by_file, &theme.words);
    let base = |root: &str, kind: &str| -> Context {
        let mut ctx = Context::new();
        ctx.insert("portal", &portal);
        ctx.insert("lang", &config.language);
        ctx.insert("root", root);
        ctx.insert("page_kind", kind);
        ctx.insert("theme", &theme.settings);
        ctx
    };

    // Report pages: the bulk of the work, in parallel.
    let report_pages: Vec<Result<(Page, SearchDoc), Error>> = lib
        .reports
        .par_iter()
        .filter(|r| only.as_ref().is_none_or(|set| set.contains(&r.file)))
        .map(|r| {
            let schema = registry
                .get(&r.format)
                .ok_or_else(|| Error::Usage(format!("unknown format {}", r.format)))?;
            let sections =
                markdown::render_body(&r.file, &r.body, r.body_line, schema, config.allow_html)
                    .map_err(Error::Diagnostics)?;
            let tables = schema
                .tables
                .iter()
                .enumerate()
                .filter_map(|(i, t)| {
                    r.table(&t.key)
                        .map(|d| (t.key.clone(), tables::view(t, i, d)))
                })
                .collect();
            let search_doc = SearchDoc::new(r, &sections);
            let view = ReportView {
                summary: summary(r),
                format_source: &schema.source,
                sections,
                tables,
                data_url: "data.json".into(),
                revisions: &r.revisions,
                checks: by_file.get(r.file.as_str()).map(|c| ChecksView {
                    passed: &c.passed,
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
            let mut ctx = base("../../../", "report");
            ctx.insert("report", &view);
            let html = render(theme, config, "report.html", &ctx)?;
            let done = rendered.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if done.is_multiple_of(100) {
                progress(done);
            }
            Ok((
                Page {
                    path: report_url(r),
                    content: html,
                },
                search_doc,
            ))
        })
        .collect();
    let mut pages = Vec::new();
    let mut search_docs = Vec::new();
    let mut problems: Vec<Diagnostic> = Vec::new();
    for p in report_pages {
        match p {
            Ok((p, doc)) => {
                pages.push(p);
                search_docs.push(doc);
            }
            Err(Error::Diagnostics(mut d)) => problems.append(&mut d),
            Err(e) => return Err(e),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Diagnostics(problems));
    }
    for r in &lib.reports {
        if only.as_ref().is_some_and(|set| !set.contains(&r.file)) {
            continue;
        }
        pages.push(Page {
            path: format!("reports/{}/{}/data.json", r.year, r.agency_id),
            content: report_json(r, registry)?,
        });
    }

    // Year indexes, grouped by agency kind.
    let years: Vec<YearView> = lib
        .years()
        .into_iter()
        .map(|year| {
            let in_year: Vec<&Report> = lib.reports.iter().filter(|r| r.year == year).collect();
            let groups = AgencyKind::ALL
                .into_iter()
                .filter_map(|kind| {
                    let reports: Vec<Summary> = in_year
                        .iter()
                        .filter(|r| r.agency_kind == kind)
                        .map(|r| summary(r))
                        .collect();
                    (!reports.is_empty()).then_some(KindGroup {
                        kind,
                        label: kind_label(&theme.words, kind),
                        reports,
                    })
                })
                .collect();
            YearView {
                year,
                url: year_url(year),
                count: in_year.len(),
                groups,
            }
        })
        .collect();
    for y in &years {
        if touched.as_ref().is_some_and(|(_, t)| !t.contains(&y.year)) {
            continue;
        }
        let mut ctx = base("../../", "year");
        ctx.insert("year", y);
        ctx.insert("years", &years);
        pages.push(Page {
            path: y.url.clone(),
            content: render(theme, config, "year.html", &ctx)?,
        });
    }
    let mut ctx = base("../", "years");
    ctx.insert("years", &years);
    pages.push(Page {
        path: "years/index.html".into(),
        content: render(theme, config, "years.html", &ctx)?,
    });

    // Comparisons: every report's figures, computed once (agency history, pairs, peers).
    let compared = crate::compare::Comparisons::new(lib, registry).with_words(theme.words.clone());

    // Agencies: the registry, else the newest report, gives the current name and kind.
    let agencies: Vec<AgencyView> = lib
        .agencies()
        .into_iter()
        .map(|(id, reports)| AgencyView {
            id,
            name: lib.agency_name(id).unwrap_or(&reports[0].agency),
            kind: reports[0].agency_kind,
            kind_label: kind_label(&theme.words, reports[0].agency_kind),
            url: agency_url(id),
            reports: reports.iter().map(|r| summary(r)).collect(),
        })
        .collect();
    for a in &agencies {
        if touched.as_ref().is_some_and(|(t, _)| !t.contains(a.id)) {
            continue;
        }
        let mut ctx = base("../../", "agency");
        ctx.insert("agency", a);
        ctx.insert("history", &compared.agency(a.id));
        pages.push(Page {
            path: a.url.clone(),
            content: render(theme, config, "agency.html", &ctx)?,
        });
    }
    let mut ctx = base("../", "agencies");
    ctx.insert("agencies", &agencies);
    pages.push(Page {
        path: "agencies/index.html".into(),
        content: render(theme, config, "agencies.html", &ctx)?,
    });

    // Home: the newest year's reports and the ways in.
    let mut ctx = base("", "home");
    ctx.insert("latest", &years.first());
    ctx.insert("years", &years);
    ctx.insert("agency_count", &agencies.len());
    ctx.insert("report_count", &lib.reports.len());
    pages.push(Page {
        path: "index.html".into(),
        content: render(theme, config, "index.html", &ctx)?,
    });

    // Not-found page. Hosts serve it at any depth, so its links go from the base address
    // when there is one, and from the top of the site otherwise.
    let not_found_root = config.base_url.as_ref().map_or(String::new(), |b| {
        if b.ends_with('/') {
            b.clone()
        } else {
            format!("{b}/")
        }
    });
    let ctx = base(&not_found_root, "not_found");
    pages.push(Page {
        path: "404.html".into(),
        content: render(theme, config, "404.html", &ctx)?,
    });

    // Search: the index and the page whose script reads it.
    let search_docs = match scope {
        Some(s) => {
            for d in search_docs {
                s.search_docs.insert(d.url.clone(), d);
            }
            lib.reports
                .iter()
                .filter_map(|r| s.search_docs.get(&report_url(r)).cloned())
                .collect()
        }
        None => search_docs,
    };
    pages.push(crate::search::index(&search_docs));
    let ctx = base("../", "search");
    pages.push(Page {
        path: "search/index.html".into(),
        content: render(theme, config, "search.html", &ctx)?,
    });

    // Discovery: feed, sitemap (needs base_url), robots.txt.
    pages.push(crate::feeds::atom(lib, config));
    if let Some(sitemap) = crate::feeds::sitemap(&pages, config) {
        pages.push(sitemap);
    }
    pages.push(crate::feeds::robots(config));

    // Comparison pages and open data (CSV per report and year, the portal as JSON).
    pages.extend(compared.pages_for(
        &|name, root, kind, extra| {
            let mut ctx = base(root, kind);
            ctx.extend(extra);
            render(theme, config, name, &ctx)
        },
        touched.as_ref().map(|(a, _)| a),
        touched.as_ref().map(|(_, y)| y),
    )?);
    pages.extend(crate::opendata::files(lib, registry, &compared, config)?);

    // The formats' JSON Schemas, for editors and for anyone reusing the data.
    for schema in registry.all() {
        pages.push(Page {
            path: format!("schemas/{}.json", schema.id),
            content: crate::schema_json::to_text(schema).into_bytes(),
        });
    }
    pages.extend(theme.assets.iter().cloned());
    pages.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(pages)
}

fn render(theme: &Theme, config: &Config, name: &str, ctx: &Context) -> Result<Vec<u8>, Error> {
    let html = theme.tera.render(name, ctx).map_err(|e| theme.error(e))?;
    if !config.minify {
        return Ok(html.into_bytes());
    }
    let mut cfg = minify_html::Cfg::new();
    cfg.keep_closing_tags = true;
    cfg.keep_html_and_head_opening_tags = true;
    cfg.minify_css = true;
    Ok(minify_html::minify(html.as_bytes(), &cfg))
}

/// The report's metadata and every cell, for download: `{table: {row: {column: value}}}`.
fn report_json(r: &Report, registry: &Registry) -> Result<Vec<u8>, Error> {
    use serde_json::{Map, Value, json};
    let mut tables = Map::new();
    if let Some(schema) = registry.get(&r.format) {
        for t in &schema.tables {
            let Some(data) = r.table(&t.key) else {
                continue;
            };
            let mut rows = Map::new();
            for (block, cells) in t.blocks.iter().zip(&data.blocks) {
                let cols = block.leaf_columns();
                for (row, values) in block.leaf_rows().iter().zip(&cells.cells) {
                    let mut m = Map::new();
                    for (c, cell) in cols.iter().zip(values) {
                        let v = match c.cell_type {
                            crate::schema::CellType::Decimal => {
                                Value::String(cell.value.to_string())
                            }
                            _ => cell
                                .value
                                .to_string()
                                .parse::<i64>()
                                .map(Value::from)
                                .unwrap_or(Value::Null),
                        };
                        m.insert(c.key.clone(), v);
                    }
                    rows.insert(row.key.clone(), Value::Object(m));
                }
            }
            tables.insert(t.key.clone(), Value::Object(rows));
        }
    }
    let doc = json!({
        "title": r.title,
        "agency": r.agency,
        "agency_id": r.agency_id,
        "agency_kind": r.agency_kind,
        "year": r.year,
        "published": r.published.to_string(),
        "format": r.format,
        "sample": r.sample,
        "tables": tables,
    });
    let mut out = serde_json::to_vec_pretty(&doc).map_err(|e| Error::Usage(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}
