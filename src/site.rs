//! The whole build, stage by stage: load → model → render → write.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::config::Config;
use crate::error::{Diagnostic, Error, Lang};
use crate::model::Library;
use crate::render::{self, Theme};
use crate::schema::Registry;
use crate::schema::Severity;
use crate::{load, model, write};

/// Told how far a long build has come: (stage, done, total).
pub type ProgressFn = std::sync::Arc<dyn Fn(Stage, usize, usize) + Send + Sync>;

/// The parts of a build that report progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Reading,
    Rendering,
}

/// What to build and where.
#[derive(Clone, Default)]
pub struct BuildOptions {
    /// The portal's folder (holds portal.yaml, content/, themes/).
    pub root: PathBuf,
    /// Where the site goes; `public/` under the root when not given.
    pub output: Option<PathBuf>,
    /// Called as the build goes; the CLI shows it on a terminal.
    pub progress: Option<ProgressFn>,
}

/// What a finished build did.
#[derive(Debug, Clone)]
pub struct BuildSummary {
    pub reports: usize,
    pub pages: usize,
    pub output: PathBuf,
    pub seconds: f64,
    /// What changed in the output folder.
    pub written: write::Written,
    /// Check findings that do not stop publication.
    pub warnings: Vec<crate::error::Diagnostic>,
    /// Things the webmaster should know (e.g. no sitemap without base_url).
    pub notes: Vec<String>,
}

/// The portal's language for messages, or Chinese when the settings cannot be read.
pub fn portal_lang(root: &Path) -> Lang {
    Config::load(root)
        .map(|c| Lang::from_tag(&c.language))
        .unwrap_or_default()
}

/// Reads every report and builds the library. `Ok(Err(..))` holds the problems in the
/// portal's files (sorted by place); `Err` means the portal could not be read at all.
fn load_library(
    root: &Path,
    registry: &Registry,
) -> Result<Result<Library, Vec<Diagnostic>>, Error> {
    let files = load::find_reports(root, &root.join("content"))?;
    let read = |p: &std::path::PathBuf| load::read_report(root, p);
    // The agency registry comes first: reports are read against it.
    let mut problems = Vec::new();
    match crate::agencies::load(root) {
        Ok(agencies) => match model::build_library_reading(&files, read, registry, agencies) {
            Ok(lib) => return Ok(Ok(lib)),
            Err(more) => problems.extend(more),
        },
        Err(more) => {
            problems.extend(more);
            // Without the registry no report is built, but every file's own problems
            // are still worth saying at once.
            let unreadable: Vec<Diagnostic> = files
                .par_iter()
                .filter_map(|p| read(p).err().map(|d| *d))
                .collect();
            problems.extend(unreadable);
        }
    }
    problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    Ok(Err(problems))
}

/// Loads the portal and runs every check; returns all diagnostics (errors and warnings).
/// `Err` means the portal could not be read at all.
pub fn check(root: &Path) -> Result<Vec<Diagnostic>, Error> {
    Config::load(root)?;
    let registry = Registry::load(&root.join("schemas"))?;
    Ok(match load_library(root, &registry)? {
        Ok(lib) => crate::check::check_library(&lib, &registry)
            .into_iter()
            .flat_map(|c| c.diagnostics)
            .collect(),
        Err(problems) => problems,
    })
}

/// Builds the portal at `opts.root` into its output folder. Nothing is written unless
/// every stage succeeds.
pub fn build(opts: &BuildOptions) -> Result<BuildSummary, Error> {
    let started = Instant::now();
    let root = &opts.root;
    let config = Config::load(root)?;
    let registry = Registry::load(&root.join("schemas"))?;

    let timings = Timings::new(started);
    let mut library = load_library(root, &registry)?.map_err(Error::Diagnostics)?;
    timings.stage("load and model");
    let total = library.reports.len();
    if let Some(p) = &opts.progress {
        p(Stage::Reading, total, total);
    }

    // The theme (its templates compiled) is loaded while the reports are checked.
    let (checks, theme) = rayon::join(
        || crate::check::check_library(&library, &registry),
        || Theme::load(root, &config),
    );
    let diagnostics: Vec<Diagnostic> = checks
        .iter()
        .flat_map(|c| c.diagnostics.iter().cloned())
        .collect();
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        return Err(Error::Diagnostics(diagnostics));
    }
    library.drop_check_sources();
    // Only the report pages read the Markdown: it is dropped once they are made.
    let bodies = library.take_bodies();
    let theme = theme?;
    timings.stage("checks and theme");

    let output = opts.output.clone().unwrap_or_else(|| root.join("public"));
    // Pages go to disk as they are rendered; the staging folder is swapped in only when
    // every page succeeded (dropped on an error, it is removed).
    let site = render::SiteRender::new(&library, &checks, &config, &registry, &theme);
    let plan = site.plan();
    let staging = write::Staging::begin(&output)?;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let files = std::sync::atomic::AtomicUsize::new(0);
    // A page's key: everything it is made from, and what makes pages (the theme, the
    // settings that change output, this version of portalgen).
    let site_key = {
        use std::hash::{Hash, Hasher};
        let mut h = crate::fingerprint::hasher();
        (
            theme.fingerprint,
            config.minify,
            config.csv_labels,
            env!("CARGO_PKG_VERSION"),
        )
            .hash(&mut h);
        h.finish()
    };
    let sink = |p: &render::Planned, prepared: render::Prepared| {
        if matches!(p.kind, render::PageKind::Report(_)) {
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if n.is_multiple_of(100)
                && let Some(progress) = &opts.progress
            {
                progress(Stage::Rendering, n, total);
            }
        }
        if matches!(prepared, render::Prepared::Missing) {
            return Ok(());
        }
        files.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let render::Prepared::Stream(key, write) = prepared {
            return timings.stream(p.kind.name(), || {
                staging.put_streamed(&p.path, key ^ site_key, write)
            });
        }
        let key = prepared.key() ^ site_key;
        staging.put_keyed(&p.path, key, || {
            timings.page(p.kind.name(), || site.complete(prepared))
        })
    };
    timings.stage("plan");
    site.render_reports(&plan, &sink, Some(&bodies))?;
    drop(bodies);
    timings.stage("report pages");
    let mut rest: Vec<&render::Planned> = plan
        .iter()
        .filter(|p| !matches!(p.kind, render::PageKind::Report(_)))
        .collect();
    rest.sort_by_key(|p| !p.kind.is_long());
    rest.par_iter()
        .with_max_len(1)
        .try_for_each(|p| sink(p, timings.prepare(p.kind.name(), || site.prepare(p))?))?;
    timings.stage("other pages");
    let written = staging.commit()?;
    timings.stage("swap");
    timings.print();
    let mut notes = Vec::new();
    if config.base_url.is_none() {
        notes.push(match Lang::from_tag(&config.language) {
            Lang::Zh => "提示：portal.yaml 未设置 base_url，未生成 sitemap.xml。".to_owned(),
            Lang::En => {
                "note: no base_url in portal.yaml, so no sitemap.xml was written.".to_owned()
            }
        });
    }
    let summary = BuildSummary {
        reports: library.reports.len(),
        pages: files.into_inner(),
        written,
        output,
        seconds: started.elapsed().as_secs_f64(),
        warnings: diagnostics,
        notes,
    };
    // Freeing every report's tables and checks (millions of allocations) took 1 % of a
    // build at its end, on one thread; it is done beside whatever comes next (printing
    // the summary and exiting, in the command line).
    drop(site);
    std::thread::spawn(move || drop((library, checks)));
    Ok(summary)
}

/// Where a build's time goes, printed to stderr when `PORTALGEN_TIMINGS` is set: wall
/// time per stage, and per kind of page the count, bytes and time spent rendering
/// (summed over threads). The benchmark's README is written from it.
struct Timings {
    on: bool,
    /// When the last stage ended, and the process's CPU ms by then.
    last: std::sync::Mutex<(Instant, f64)>,
    /// Per stage: wall ms, CPU ms of every thread (user and system), peak MiB so far.
    stages: std::sync::Mutex<Vec<(&'static str, f64, f64, u64)>>,
    pages: std::sync::Mutex<std::collections::BTreeMap<&'static str, (usize, usize, f64)>>,
    /// Per kind of page: count and time spent preparing (views, data files, keys).
    prepared: std::sync::Mutex<std::collections::BTreeMap<&'static str, (usize, f64)>>,
}

impl Timings {
    fn new(started: Instant) -> Timings {
        Timings {
            on: std::env::var_os("PORTALGEN_TIMINGS").is_some(),
            last: std::sync::Mutex::new((started, 0.0)),
            stages: Default::default(),
            pages: Default::default(),
            prepared: Default::default(),
        }
    }

    fn stage(&self, name: &'static str) {
        if let (true, Ok(mut last), Ok(mut stages)) =
            (self.on, self.last.lock(), self.stages.lock())
        {
            let cpu = cpu_ms();
            stages.push((
                name,
                last.0.elapsed().as_secs_f64() * 1000.0,
                cpu - last.1,
                peak_memory_mib(),
            ));
            *last = (Instant::now(), cpu);
        }
    }

    fn page(
        &self,
        kind: &'static str,
        render: impl FnOnce() -> Result<Option<Vec<u8>>, Error>,
    ) -> Result<Option<Vec<u8>>, Error> {
        if !self.on {
            return render();
        }
        let t0 = Instant::now();
        let out = render();
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        if let (Ok(Some(bytes)), Ok(mut pages)) = (&out, self.pages.lock()) {
            let e = pages.entry(kind).or_default();
            e.0 += 1;
            e.1 += bytes.len();
            e.2 += ms;
        }
        out
    }

    /// Times a file written as it is made (see [`render::Prepared::Stream`]).
    fn stream(
        &self,
        kind: &'static str,
        write: impl FnOnce() -> Result<u64, Error>,
    ) -> Result<(), Error> {
        let t0 = Instant::now();
        let len = write()?;
        if let (true, Ok(mut pages)) = (self.on, self.pages.lock()) {
            let e = pages.entry(kind).or_default();
            e.0 += 1;
            e.1 += len as usize;
            e.2 += t0.elapsed().as_secs_f64() * 1000.0;
        }
        Ok(())
    }

    fn prepare<T>(&self, kind: &'static str, prepare: impl FnOnce() -> T) -> T {
        if !self.on {
            return prepare();
        }
        let t0 = Instant::now();
        let out = prepare();
        if let Ok(mut p) = self.prepared.lock() {
            let e = p.entry(kind).or_default();
            e.0 += 1;
            e.1 += t0.elapsed().as_secs_f64() * 1000.0;
        }
        out
    }

    fn print(&self) {
        if !self.on {
            return;
        }
        if let Ok(stages) = self.stages.lock() {
            for (name, ms, cpu, peak) in stages.iter() {
                eprintln!(
                    "timing: {name:<16} {ms:>9.1} ms wall {cpu:>7.0} ms cpu  peak memory so far {peak:>6} MiB"
                );
            }
        }
        if let Ok(pages) = self.pages.lock() {
            let mut rows: Vec<_> = pages.iter().collect();
            rows.sort_by(|a, b| b.1.2.total_cmp(&a.1.2));
            for (kind, (n, bytes, ms)) in rows {
                eprintln!(
                    "timing: {kind:<16} {ms:>9.1} ms cpu  {n:>6} files  {:>8.1} MB rendered",
                    *bytes as f64 / 1e6
                );
            }
        }
        if let Ok(prepared) = self.prepared.lock() {
            let mut rows: Vec<_> = prepared.iter().collect();
            rows.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
            for (kind, (n, ms)) in rows {
                eprintln!("timing: {kind:<16} {ms:>9.1} ms cpu  {n:>6} files prepared");
            }
        }
    }
}

/// Writes `<format>.json` JSON Schemas for every format the portal knows into `out`.
pub fn write_json_schemas(root: &Path, out: &Path) -> Result<Vec<PathBuf>, Error> {
    let registry = Registry::load(&root.join("schemas"))?;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut written = Vec::new();
    for schema in registry.all() {
        let path = out.join(format!("{}.json", schema.id));
        std::fs::write(&path, crate::schema_json::to_text(schema))
            .map_err(|e| Error::io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

/// Checks one report given as text, against the built-in formats, without a portal:
/// every input error and every rule's finding. Cross-year rules need the previous
/// report, given as `previous` (text of the same agency's report for the year before).
pub fn check_text(rel: &str, text: &str, previous: Option<(&str, &str)>) -> Vec<Diagnostic> {
    // The built-in formats and their compiled patterns, loaded once per process.
    static BUILTIN: std::sync::OnceLock<
        Result<(Registry, crate::check::Compiled), Vec<Diagnostic>>,
    > = std::sync::OnceLock::new();
    let loaded =
        BUILTIN.get_or_init(
            || match Registry::load(Path::new("/nonexistent-portal/schemas")) {
                Ok(r) => {
                    let compiled = crate::check::Compiled::new(&r);
                    Ok((r, compiled))
                }
                Err(Error::Diagnostics(d)) => Err(d),
                Err(e) => Err(vec![Diagnostic::error(
                    "<built-in>",
                    Default::default(),
                    e.to_string(),
                    e.to_string(),
                )]),
            },
        );
    let (registry, compiled) = match loaded {
        Ok(x) => x,
        Err(d) => return d.clone(),
    };
    let mut sources = Vec::new();
    for (name, body) in previous.into_iter().chain([(rel, text)]) {
        match load::parse_source(name.to_owned(), Path::new(name), body.to_owned()) {
            Ok(s) => sources.push(s),
            Err(d) => return vec![*d],
        }
    }
    match model::build_library(sources, registry) {
        Ok(lib) => lib
            .reports
            .iter()
            .filter(|r| r.file == rel)
            .filter_map(|r| {
                let previous = lib
                    .reports
                    .iter()
                    .find(|p| p.agency_id == r.agency_id && p.year == r.year - 1);
                registry
                    .get(&r.format)
                    .map(|s| crate::check::check_report(r, previous, s, registry, compiled))
            })
            .flat_map(|c| c.diagnostics)
            .collect(),
        Err(d) => d,
    }
}

/// CPU time of the whole process so far (every thread, user and system), from
/// /proc/self/stat in clock ticks (100 per second on Linux); 0 elsewhere.
fn cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| cpu_ms_of(&s))
        .unwrap_or(0.0)
}

/// utime + stime of a /proc/PID/stat line, in ms.
fn cpu_ms_of(stat: &str) -> Option<f64> {
    // The fields after the command's name, which is in parentheses and may hold spaces
    // and parentheses; utime and stime are the 14th and 15th fields.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut f = rest.split(' ').skip(11);
    let utime: f64 = f.next()?.parse().ok()?;
    let stime: f64 = f.next()?.parse().ok()?;
    Some((utime + stime) * 10.0)
}

/// The process's peak resident memory so far, in MiB (Linux; 0 elsewhere): where in a
/// build the memory goes.
fn peak_memory_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_past_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (a b) (c)) R 1 4242 4242 0 -1 4194304 100 0 0 0 37 5 0 0 20 0 3 0";
        assert_eq!(cpu_ms_of(stat), Some(420.0));
        assert_eq!(cpu_ms_of("4242 (x)"), None);
        assert_eq!(cpu_ms_of("no parentheses"), None);
    }
}
