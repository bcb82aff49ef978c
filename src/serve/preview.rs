//! The preview's build: the portal built into memory, kept between saves, and rebuilt
//! by parts. No HTTP here, so the incremental logic is tested on its own.
//!
//! What is kept between rebuilds:
//! - the settings, the formats and the compiled theme, reloaded only when their files change;
//! - every report file as parsed (`SourceFile`), by path, re-read only when it changed;
//! - every page of the last good build, and each report's search document.
//!
//! What a rebuild does: re-read the changed report files; build the model and run every
//! check again over all reports (cheap, and cross-year rules need the neighbours); then
//! render only the report pages of the agencies the change touched (a report's checks
//! depend on its agency's other years) plus every page that lists or compares reports
//! (indexes, agency and year pages, comparisons, open data, feeds, search index). A theme
//! change re-renders every page without re-reading a report; `portal.yaml` or a schema
//! change rebuilds everything.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::config::Config;
use crate::error::{Diagnostic, Error, Lang};
use crate::load::{self, SourceFile};
use crate::render::{self, RenderScope, Theme};
use crate::schema::{Registry, Severity};

/// What changed on disk, sorted by what it invalidates.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// `portal.yaml` or `schemas/`: everything is rebuilt.
    pub everything: bool,
    /// `themes/`, `templates/`, `static/`: the theme is reloaded, every page re-rendered.
    pub theme: bool,
    /// Report files (absolute paths) that were written, created, renamed or deleted.
    pub reports: BTreeSet<PathBuf>,
    /// Something else under `content/` (the agency registry, a folder): re-read the list.
    pub content: bool,
}

impl Changes {
    /// Everything, as for the first build.
    pub fn all() -> Changes {
        Changes {
            everything: true,
            ..Changes::default()
        }
    }

    /// Sorts changed paths (absolute, under `root`) by what they invalidate. Paths the
    /// preview does not read (e.g. `public/`, editors' swap files outside the watched
    /// folders) are ignored.
    pub fn classify<'a>(root: &Path, paths: impl IntoIterator<Item = &'a Path>) -> Changes {
        let mut out = Changes::default();
        for path in paths {
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let first = rel
                .components()
                .next()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .unwrap_or_default();
            match first.as_str() {
                "portal.yaml" | "schemas" => out.everything = true,
                "themes" | "templates" | "static" => out.theme = true,
                "content" => {
                    let name = rel
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if name.ends_with(".md") && rel.components().count() > 1 {
                        out.reports.insert(path.to_owned());
                    } else {
                        out.content = true;
                    }
                }
                _ => {}
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }
}

/// What the server shows: the pages of the last good build and the current problems.
#[derive(Default)]
pub struct Site {
    /// Path in the site (`reports/2023/x/index.html`) → content.
    pub pages: HashMap<String, Arc<Vec<u8>>>,
    /// Problems shown on every page (settings, theme, files without a page), rendered.
    pub global_errors: Vec<String>,
    /// Problems of one report, shown on its page (and on the home page), rendered.
    pub page_errors: HashMap<String, Vec<String>>,
    /// Counts up at each rebuild; pages reload when it changes.
    pub generation: u64,
}

impl Site {
    /// The problems to show on `path`: the global ones, the page's own, and on the home
    /// page every report's.
    pub fn errors_for(&self, path: &str) -> Vec<&str> {
        let mut out: Vec<&str> = self.global_errors.iter().map(String::as_str).collect();
        if path == "index.html" {
            let mut pages: Vec<_> = self.page_errors.iter().collect();
            pages.sort_by(|a, b| a.0.cmp(b.0));
            out.extend(
                pages
                    .into_iter()
                    .flat_map(|(_, e)| e.iter().map(String::as_str)),
            );
        } else if let Some(e) = self.page_errors.get(path) {
            out.extend(e.iter().map(String::as_str));
        }
        out
    }
}

/// What one rebuild did, for the terminal and the benchmark.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Report files read from disk.
    pub files_read: usize,
    /// Report pages rendered (the rest were kept).
    pub reports_rendered: usize,
    /// Pages replaced in the site.
    pub pages_rendered: usize,
    pub pages_total: usize,
    /// The problems found (errors only), rendered as `portalgen check` prints them.
    pub errors: Vec<String>,
    pub millis: f64,
}

/// The portal, built in memory and kept up to date.
pub struct Preview {
    root: PathBuf,
    lang: Lang,
    config: Option<Arc<Config>>,
    registry: Option<Arc<Registry>>,
    theme: Option<Arc<Theme>>,
    /// Report files by absolute path: parsed, or the problem reading them.
    sources: BTreeMap<PathBuf, Result<SourceFile, Box<Diagnostic>>>,
    scope: RenderScope,
    pages: HashMap<String, Arc<Vec<u8>>>,
    /// Report file (relative) → its page and agency, from the last good build.
    known: HashMap<String, (String, String)>,
    /// Since the last good render: every report page must be rendered again.
    pending_all: bool,
    /// Since the last good render: agencies (ids) and files whose pages must be rendered.
    pending_agencies: HashSet<String>,
    pending_files: HashSet<String>,
    global_errors: Vec<String>,
    page_errors: HashMap<String, Vec<String>>,
    generation: u64,
}

impl Preview {
    pub fn new(root: &Path) -> Preview {
        Preview {
            root: root.to_owned(),
            lang: crate::site::portal_lang(root),
            config: None,
            registry: None,
            theme: None,
            sources: BTreeMap::new(),
            scope: RenderScope::default(),
            pages: HashMap::new(),
            known: HashMap::new(),
            pending_all: true,
            pending_agencies: HashSet::new(),
            pending_files: HashSet::new(),
            global_errors: Vec::new(),
            page_errors: HashMap::new(),
            generation: 0,
        }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// A snapshot for the server.
    pub fn site(&self) -> Site {
        Site {
            pages: self.pages.clone(),
            global_errors: self.global_errors.clone(),
            page_errors: self.page_errors.clone(),
            generation: self.generation,
        }
    }

    /// Rebuilds what `changes` touches. Never fails: problems are kept, shown, and the
    /// last good pages stay.
    pub fn rebuild(&mut self, changes: &Changes) -> Outcome {
        let started = Instant::now();
        let mut outcome = Outcome {
            files_read: 0,
            reports_rendered: 0,
            pages_rendered: 0,
            pages_total: 0,
            errors: Vec::new(),
            millis: 0.0,
        };
        self.generation += 1;
        self.global_errors.clear();
        self.page_errors.clear();
        match self.try_rebuild(changes, &mut outcome) {
            Ok(()) => {}
            Err(problems) => {
                self.show(problems, &mut outcome);
            }
        }
        outcome.pages_total = self.pages.len();
        outcome.millis = started.elapsed().as_secs_f64() * 1000.0;
        outcome
    }

    fn show(&mut self, problems: Problems, outcome: &mut Outcome) {
        let lang = self.lang;
        match problems {
            Problems::Fatal(e) => {
                let text = match &e {
                    Error::Diagnostics(list) => list.iter().map(|d| d.render(lang)).collect(),
                    other => vec![other.render(lang)],
                };
                outcome.errors.extend(text.iter().cloned());
                self.global_errors = text;
            }
            Problems::Located(list) => {
                for d in list.iter().filter(|d| d.severity == Severity::Error) {
                    let text = d.render(lang);
                    outcome.errors.push(text.clone());
                    match self.known.get(&d.file) {
                        Some((url, _)) => {
                            self.page_errors.entry(url.clone()).or_default().push(text)
                        }
                        None => self.global_errors.push(text),
                    }
                }
            }
        }
    }

    fn try_rebuild(&mut self, changes: &Changes, outcome: &mut Outcome) -> Result<(), Problems> {
        let root = self.root.clone();
        let fatal = Problems::Fatal;
        if changes.everything || self.config.is_none() || self.registry.is_none() {
            self.config = None;
            self.registry = None;
            self.theme = None;
            self.pending_all = true;
            self.scope = RenderScope::default();
            self.sources.clear();
            let config = Config::load(&root).map_err(fatal)?;
            self.lang = Lang::from_tag(&config.language);
            self.config = Some(Arc::new(config));
            self.registry = Some(Arc::new(
                Registry::load(&root.join("schemas")).map_err(fatal)?,
            ));
        }
        if changes.theme || self.theme.is_none() {
            self.theme = None;
            self.pending_all = true;
            if let Some(config) = &self.config {
                self.theme = Some(Arc::new(Theme::load(&root, config).map_err(fatal)?));
            }
        }
        let (Some(config), Some(registry), Some(theme)) = (
            self.config.clone(),
            self.registry.clone(),
            self.theme.clone(),
        ) else {
            return Err(Problems::Fatal(Error::Usage("no settings".into())));
        };

        // Report files: the list from disk; re-read what is new or changed.
        let listed = load::find_reports(&root, &root.join("content")).map_err(fatal)?;
        let listed_set: HashSet<&PathBuf> = listed.iter().collect();
        let gone: Vec<PathBuf> = self
            .sources
            .keys()
            .filter(|p| !listed_set.contains(p))
            .cloned()
            .collect();
        for p in gone {
            self.sources.remove(&p);
            self.pending_files.insert(load::rel_path(&root, &p));
        }
        let to_read: Vec<&PathBuf> = listed
            .iter()
            .filter(|p| changes.reports.contains(*p) || !self.sources.contains_key(*p))
            .collect();
        outcome.files_read = to_read.len();
        let read: Vec<_> = to_read
            .par_iter()
            .map(|p| ((*p).clone(), load::read_report(&root, p)))
            .collect();
        for (p, r) in read {
            self.pending_files.insert(load::rel_path(&root, &p));
            self.sources.insert(p, r);
        }

        // Model and checks, over every report.
        let mut problems: Vec<Diagnostic> = Vec::new();
        let mut good = Vec::with_capacity(self.sources.len());
        for s in self.sources.values() {
            match s {
                Ok(s) => good.push(s.clone()),
                Err(d) => problems.push((**d).clone()),
            }
        }
        let agencies = crate::agencies::load(&root);
        let library = match agencies {
            Ok(agencies) => match crate::model::build_library_with(good, &registry, agencies) {
                Ok(lib) => Some(lib),
                Err(more) => {
                    problems.extend(more);
                    None
                }
            },
            Err(more) => {
                problems.extend(more);
                None
            }
        };
        let Some(library) = library else {
            problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
            return Err(Problems::Located(problems));
        };
        // Pages of reports that are new since the last good build can show their problems.
        for r in &library.reports {
            self.known
                .entry(r.file.clone())
                .or_insert_with(|| (render::report_url(r), r.agency_id.clone()));
        }
        let checks = crate::check::check_library(&library, &registry);
        problems.extend(
            checks
                .iter()
                .flat_map(|c| c.diagnostics.iter())
                .filter(|d| d.severity == Severity::Error)
                .cloned(),
        );
        if !problems.is_empty() {
            return Err(Problems::Located(problems));
        }

        // Which report pages to render: the agencies of every changed file, before and after.
        let scope = if self.pending_all {
            None
        } else {
            let mut agencies = std::mem::take(&mut self.pending_agencies);
            for f in &self.pending_files {
                if let Some((_, agency)) = self.known.get(f) {
                    agencies.insert(agency.clone());
                }
            }
            for r in &library.reports {
                if self.pending_files.contains(&r.file)
                    || !self.pages.contains_key(&render::report_url(r))
                {
                    agencies.insert(r.agency_id.clone());
                }
            }
            let files: HashSet<String> = library
                .reports
                .iter()
                .filter(|r| agencies.contains(&r.agency_id))
                .map(|r| r.file.clone())
                .collect();
            // Keep the agencies for a later try if this render fails.
            self.pending_agencies = agencies;
            Some(files)
        };
        outcome.reports_rendered = scope.as_ref().map_or(library.reports.len(), HashSet::len);
        self.scope.reports = scope.clone();
        let rendered = render::render_site_scoped(
            &library,
            &checks,
            &config,
            &registry,
            &theme,
            &|_| {},
            Some(&mut self.scope),
        )
        .map_err(|e| match e {
            Error::Diagnostics(d) => Problems::Located(d),
            other => Problems::Fatal(other),
        })?;

        // The new site: the pages kept from before, less those of the agencies and years
        // rendered now (a deleted report's pages go), plus what was rendered.
        let mut pages = match &scope {
            None => HashMap::with_capacity(rendered.len()),
            Some(files) => {
                let mut kept = std::mem::take(&mut self.pages);
                let agencies = &self.pending_agencies;
                let years: HashSet<i32> = library
                    .reports
                    .iter()
                    .filter(|r| files.contains(&r.file))
                    .map(|r| r.year)
                    .collect();
                kept.retain(|path, _| !stale(path, agencies, &years));
                kept
            }
        };
        outcome.pages_rendered = rendered.len();
        for p in rendered {
            pages.insert(p.path, Arc::new(p.content));
        }
        self.pages = pages;
        self.known = library
            .reports
            .iter()
            .map(|r| (r.file.clone(), (render::report_url(r), r.agency_id.clone())))
            .collect();
        self.pending_all = false;
        self.pending_agencies.clear();
        self.pending_files.clear();
        Ok(())
    }
}

/// Whether a page belongs to one of `agencies` or `years` (and is rendered again).
fn stale(path: &str, agencies: &HashSet<String>, years: &HashSet<i32>) -> bool {
    let mut parts = path.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("agencies"), Some(id), Some(_)) => agencies.contains(id),
        (Some("reports"), Some(_), Some(id)) => agencies.contains(id),
        (Some("years"), Some(y), Some(_)) => y.parse().is_ok_and(|y: i32| years.contains(&y)),
        _ => false,
    }
}

enum Problems {
    /// The portal could not be read or rendered at all (settings, theme, a folder).
    Fatal(Error),
    /// Problems in report files, each located.
    Located(Vec<Diagnostic>),
}
