//! The preview's build: the portal built into memory, kept between saves, and rebuilt
//! by parts. No HTTP here, so the incremental logic is tested on its own.
//!
//! What is kept between rebuilds:
//! - the settings, the formats and the compiled theme, reloaded only when their files change;
//! - every report file as parsed (`SourceFile`), by path, re-read only when it changed.
//!
//! What a rebuild does: re-read the changed report files, build the model and run the
//! checks; the reload event goes out then. Pages are rendered when the browser asks for
//! them, once per build ([`Pages`]), so a save costs the same whether the portal has ten
//! reports or ten thousand pages. A theme change reloads the theme without re-reading a
//! report; `portal.yaml` or a schema change rebuilds everything.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use rayon::prelude::*;

use crate::check::LiveLibrary;
use crate::config::Config;
use crate::error::{Diagnostic, Error, Lang};
use crate::load::{self, SourceFile};
use crate::render::{self, Planned, SiteRender, Theme};
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
    /// The last good build's pages, rendered when asked for; `None` before the first.
    pub pages: Option<Arc<Pages>>,
    /// Problems shown on every page (settings, theme, files without a page), rendered.
    pub global_errors: Vec<String>,
    /// Problems of one report, shown on its page (and on the home page), rendered.
    pub page_errors: HashMap<String, Vec<String>>,
    /// Counts up at each rebuild; pages reload when it changes.
    pub generation: u64,
}

impl Site {
    /// The page at `path` (`reports/2023/x/index.html`). `Err` holds a problem found while
    /// rendering it (a template error), rendered for the overlay.
    pub fn page(&self, path: &str) -> Result<Option<Arc<Vec<u8>>>, String> {
        match &self.pages {
            Some(p) => p.get(path),
            None => Ok(None),
        }
    }

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

/// Everything the pages are made from.
struct Model {
    live: LiveLibrary,
    config: Arc<Config>,
    registry: Arc<Registry>,
    theme: Arc<Theme>,
}

type Rendered = Result<Option<Arc<Vec<u8>>>, String>;

/// What the render thread is asked.
enum Request {
    Page(String, mpsc::Sender<Rendered>),
    /// Stop and hand the model back, for the next rebuild to update in place.
    Stop(mpsc::Sender<Model>),
}

/// What [`Pages::get`] says when the renderer stopped for a rebuild: ask the newer site.
pub const STOPPED: &str = "the preview's renderer stopped";

/// The pages of one build, rendered on request and kept. A rebuild therefore costs the
/// model and the checks only; the browser then asks for the few pages it shows, as Hugo's
/// fast render mode does. A thread owns the model (the renderer borrows it) and answers
/// requests in turn; a rebuild stops it and takes the model back to update it in place.
pub struct Pages {
    requests: Mutex<mpsc::Sender<Request>>,
}

impl Pages {
    fn start(model: Model) -> Result<Pages, Error> {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("portalgen-render".into())
            .spawn(move || serve_pages(model, &rx))
            .map_err(|e| Error::Usage(format!("cannot start the preview's renderer: {e}")))?;
        Ok(Pages {
            requests: Mutex::new(tx),
        })
    }

    fn send(&self, request: Request) -> bool {
        match self.requests.lock() {
            Ok(s) => s.send(request).is_ok(),
            Err(poisoned) => poisoned.into_inner().send(request).is_ok(),
        }
    }

    /// The page at `path`, rendered now if it was not yet. `Err(STOPPED)` when a rebuild
    /// has taken the model.
    pub fn get(&self, path: &str) -> Rendered {
        let (tx, rx) = mpsc::channel();
        if !self.send(Request::Page(path.to_owned(), tx)) {
            return Err(STOPPED.to_owned());
        }
        rx.recv().unwrap_or_else(|_| Err(STOPPED.to_owned()))
    }

    /// Stops the renderer (after the request it is answering) and returns the model.
    fn stop(&self) -> Option<Model> {
        let (tx, rx) = mpsc::channel();
        if !self.send(Request::Stop(tx)) {
            return None;
        }
        rx.recv().ok()
    }
}

/// The render thread: pages by path, each rendered once, until told to stop.
fn serve_pages(model: Model, requests: &mpsc::Receiver<Request>) {
    let stop = {
        let m = &model;
        let site = SiteRender::new(
            m.live.library(),
            m.live.checks(),
            &m.config,
            &m.registry,
            &m.theme,
        );
        let lang = Lang::from_tag(&m.config.language);
        // Reports, indexes and data first: finding a report page must not wait for every
        // report's figures, which only the comparison pages need.
        let mut basic: Option<HashMap<String, Planned>> = None;
        let mut full: Option<HashMap<String, Planned>> = None;
        let mut done: HashMap<String, Rendered> = HashMap::new();
        let index = |plan: Vec<Planned>| -> HashMap<String, Planned> {
            plan.into_iter().map(|p| (p.path.clone(), p)).collect()
        };
        loop {
            let (path, reply) = match requests.recv() {
                Ok(Request::Page(path, reply)) => (path, reply),
                Ok(Request::Stop(back)) => break Some(back),
                Err(_) => break None,
            };
            if let Some(r) = done.get(&path) {
                let _ = reply.send(r.clone());
                continue;
            }
            let basic = basic.get_or_insert_with(|| index(site.plan_without_comparisons()));
            let planned = match basic.get(&path) {
                Some(p) => Some(p),
                None => full.get_or_insert_with(|| index(site.plan())).get(&path),
            };
            let result = match planned {
                None => Ok(None),
                Some(p) => site
                    .render(p)
                    .map(|o| o.map(Arc::new))
                    .map_err(|e| match e {
                        Error::Diagnostics(list) => list
                            .iter()
                            .map(|d| d.render(lang))
                            .collect::<Vec<_>>()
                            .join("\n"),
                        other => other.render(lang),
                    }),
            };
            done.insert(path, result.clone());
            let _ = reply.send(result);
        }
    };
    if let Some(back) = stop {
        let _ = back.send(model);
    }
}

/// What one rebuild did, for the terminal and the benchmark.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Report files read from disk.
    pub files_read: usize,
    /// Reports in the portal.
    pub reports: usize,
    /// Reports whose checks ran again.
    pub checked: usize,
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
    /// Every report file as last read successfully, by absolute path. A file that does not
    /// parse any more keeps its last good version here (its page stays, under the overlay).
    sources: BTreeMap<PathBuf, SourceFile>,
    /// Files that do not parse now, with the problem.
    unreadable: BTreeMap<PathBuf, Diagnostic>,
    /// The pages, from the model of the last rebuild.
    pages: Option<Arc<Pages>>,
    /// Report file (relative) → its page.
    known: HashMap<String, String>,
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
            unreadable: BTreeMap::new(),
            pages: None,
            known: HashMap::new(),
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

    /// Rebuilds what `changes` touches. Never fails: problems are kept and shown.
    pub fn rebuild(&mut self, changes: &Changes) -> Outcome {
        let started = Instant::now();
        let mut outcome = Outcome {
            files_read: 0,
            reports: 0,
            checked: 0,
            errors: Vec::new(),
            millis: 0.0,
        };
        self.generation += 1;
        self.global_errors.clear();
        self.page_errors.clear();
        if let Err(problems) = self.try_rebuild(changes, &mut outcome) {
            self.show(problems, &mut outcome);
        }
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
                        Some(url) => self.page_errors.entry(url.clone()).or_default().push(text),
                        None => self.global_errors.push(text),
                    }
                }
            }
        }
    }

    fn try_rebuild(&mut self, changes: &Changes, outcome: &mut Outcome) -> Result<(), Problems> {
        let root = self.root.clone();
        let fatal = Problems::Fatal;
        // The renderer gives the model back; everything below updates it or starts anew.
        let mut model = self.pages.take().and_then(|p| p.stop());
        let mut fresh = model.is_none() || changes.content;
        if changes.everything || self.config.is_none() || self.registry.is_none() {
            self.config = None;
            self.registry = None;
            self.theme = None;
            self.sources.clear();
            self.unreadable.clear();
            fresh = true;
            let config = Config::load(&root).map_err(fatal)?;
            self.lang = Lang::from_tag(&config.language);
            self.config = Some(Arc::new(config));
            self.registry = Some(Arc::new(
                Registry::load(&root.join("schemas")).map_err(fatal)?,
            ));
        }
        if changes.theme || self.theme.is_none() {
            self.theme = None;
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

        // Report files: what is new, changed or gone. Only a change under content/ other
        // than a report file (a folder, the registry) or a fresh start lists the folder: at
        // 10,000 reports the walk alone would take most of a save's budget.
        let (to_read, gone): (Vec<PathBuf>, Vec<PathBuf>) = if fresh {
            let listed = load::find_reports(&root, &root.join("content")).map_err(fatal)?;
            let listed_set: HashSet<&PathBuf> = listed.iter().collect();
            let gone = self
                .sources
                .keys()
                .filter(|p| !listed_set.contains(p))
                .cloned()
                .collect();
            self.unreadable.retain(|p, _| listed_set.contains(p));
            let to_read = listed
                .iter()
                .filter(|p| {
                    changes.reports.contains(*p)
                        || !(self.sources.contains_key(*p) || self.unreadable.contains_key(*p))
                })
                .cloned()
                .collect();
            (to_read, gone)
        } else {
            let (present, gone): (Vec<PathBuf>, Vec<PathBuf>) =
                changes.reports.iter().cloned().partition(|p| p.is_file());
            for p in &gone {
                self.unreadable.remove(p);
            }
            (present, gone)
        };
        outcome.files_read = to_read.len();
        let read: Vec<_> = to_read
            .par_iter()
            .map(|p| (p.clone(), load::read_report(&root, p)))
            .collect();
        let mut updated: Vec<PathBuf> = Vec::new();
        for (p, r) in read {
            match r {
                Ok(source) => {
                    self.unreadable.remove(&p);
                    self.sources.insert(p.clone(), source);
                    updated.push(p);
                }
                Err(d) => {
                    self.unreadable.insert(p, *d);
                }
            }
        }
        let mut removed: Vec<String> = Vec::new();
        for p in gone {
            if let Some(s) = self.sources.remove(&p) {
                removed.push(s.rel);
            }
        }

        // Model and checks: from scratch, or only what the change can affect.
        let live = match model.take() {
            Some(mut m) if !fresh => {
                let mut list: Vec<(&str, Option<&SourceFile>)> = updated
                    .iter()
                    .filter_map(|p| self.sources.get(p))
                    .map(|s| (s.rel.as_str(), Some(s)))
                    .collect();
                list.extend(removed.iter().map(|rel| (rel.as_str(), None)));
                outcome.checked = m.live.update(&list, &registry).len();
                m.live
            }
            _ => {
                let agencies = crate::agencies::load(&root).map_err(Problems::Located)?;
                let files: Vec<&SourceFile> = self.sources.values().collect();
                let live = LiveLibrary::new(&files, &registry, agencies);
                outcome.checked = live.library().reports.len();
                live
            }
        };
        outcome.reports = live.library().reports.len();
        if fresh {
            self.known = live
                .library()
                .reports
                .iter()
                .map(|r| (r.file.clone(), render::report_url(r)))
                .collect();
        } else {
            for rel in &removed {
                self.known.remove(rel);
            }
            for p in &updated {
                let Some(rel) = self.sources.get(p).map(|s| s.rel.as_str()) else {
                    continue;
                };
                if let Some(r) = live.library().reports.iter().find(|r| r.file == rel) {
                    self.known.insert(r.file.clone(), render::report_url(r));
                }
            }
        }
        let mut problems: Vec<Diagnostic> = self.unreadable.values().cloned().collect();
        problems.extend(live.problems());
        let pages = Pages::start(Model {
            live,
            config,
            registry,
            theme,
        })
        .map_err(fatal)?;
        self.pages = Some(Arc::new(pages));
        if problems.is_empty() {
            Ok(())
        } else {
            problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
            Err(Problems::Located(problems))
        }
    }
}

enum Problems {
    /// The portal could not be read or rendered at all (settings, theme, a folder).
    Fatal(Error),
    /// Problems in report files, each located.
    Located(Vec<Diagnostic>),
}
