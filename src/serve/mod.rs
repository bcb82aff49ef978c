//! `portalgen serve`: a live preview. The portal is built into memory (never into
//! `public/`), served over HTTP on the loopback address, and rebuilt by parts at each save;
//! open pages reload by themselves and show the problems of a broken report above its
//! last good render. See docs/serve.md.

pub mod http;
pub mod preview;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use notify_debouncer_full::notify::event::{AccessKind, AccessMode, EventKind};
use notify_debouncer_full::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache};

use crate::error::{Error, Lang};
pub use preview::{Changes, Outcome, Preview, Site};

/// The folders the preview reads, under the portal's root.
pub const WATCHED: &[&str] = &[
    "content",
    "themes",
    "templates",
    "static",
    "i18n",
    "schemas",
];

/// How long the watcher waits for a burst of file events (an editor's save) to settle.
pub const DEBOUNCE: Duration = Duration::from_millis(20);

/// What `portalgen serve` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    pub root: PathBuf,
    /// 0: any free port.
    pub port: u16,
    pub bind: IpAddr,
    /// Open the home page in the browser.
    pub open: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            root: PathBuf::from("."),
            port: 8000,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            open: false,
        }
    }
}

/// Binds the port asked for; when it is taken (and not 0), the next free one of the ten
/// after it. Says which on stderr.
pub fn bind(addr: IpAddr, port: u16) -> Result<TcpListener, Error> {
    let tries = if port == 0 { 1 } else { 11 };
    let mut last = None;
    for i in 0..tries {
        let Some(p) = port.checked_add(i) else { break };
        match TcpListener::bind(SocketAddr::new(addr, p)) {
            Ok(l) => {
                if i > 0 {
                    eprintln!("port {port} is in use; serving on port {p} instead");
                }
                return Ok(l);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => {
                return Err(Error::Usage(format!("cannot listen on {addr}:{p}: {e}")));
            }
        }
    }
    Err(Error::Usage(format!(
        "port {port} and the ten after it are in use ({}); choose another with --port N, or --port 0 for any free port",
        last.map_or_else(String::new, |e| e.to_string())
    )))
}

/// Runs the preview until the process is stopped (Ctrl-C).
pub fn run(opts: &Options) -> Result<(), Error> {
    let root = opts.root.clone();
    if !root.join("portal.yaml").is_file() {
        return Err(Error::Usage(format!(
            "{} has no portal.yaml: give the portal's folder with --root DIR",
            root.display()
        )));
    }
    // Events name absolute paths; compare them with an absolute root.
    let root = std::fs::canonicalize(&root).map_err(|e| Error::io(&root, e))?;

    let listener = bind(opts.bind, opts.port)?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Usage(format!("cannot read the listening address: {e}")))?;

    // Watch first, so that no save between the first build and the watch is lost.
    let (tx, rx) = mpsc::channel();
    let mut debouncer = notify_debouncer_full::new_debouncer(DEBOUNCE, None, tx)
        .map_err(|e| Error::Usage(format!("cannot watch files: {e}")))?;
    let mut watched: Vec<PathBuf> = Vec::new();
    watch_dirs(&mut debouncer, &root, &mut watched)?;

    let mut preview = Preview::new(&root);
    let first = preview.rebuild(&Changes::all());
    let lang = preview.lang();
    report(&first, lang, true);
    let shared = Arc::new(http::Shared::new(preview.site()));

    let url = format!("http://{local}/");
    println!("serving {url} (press Ctrl-C to stop)");
    if !opts.bind.is_loopback() {
        eprintln!(
            "warning: listening on {}, not on the loopback address: other machines on the network can see the preview",
            opts.bind
        );
    }
    let server = shared.clone();
    std::thread::Builder::new()
        .name("portalgen-accept".into())
        .spawn(move || http::serve(listener, server))
        .map_err(|e| Error::Usage(format!("cannot start the server: {e}")))?;
    if opts.open {
        open_browser(&url);
    }

    while let Ok(batch) = rx.recv() {
        let mut paths = changed_paths(batch);
        // More saves may have come while this batch was waiting.
        while let Ok(more) = rx.try_recv() {
            paths.extend(changed_paths(more));
        }
        // A watched folder created after the start (e.g. templates/) is watched from now on.
        if paths.iter().any(|p| p.parent() == Some(root.as_path())) {
            watch_dirs(&mut debouncer, &root, &mut watched)?;
        }
        let changes = Changes::classify(&root, paths.iter().map(PathBuf::as_path));
        if changes.is_empty() {
            continue;
        }
        let outcome = preview.rebuild(&changes);
        shared.publish(preview.site());
        report(&outcome, preview.lang(), false);
    }
    Ok(())
}

/// The paths of a batch of file events that may have changed a file: reads (which the
/// rebuild itself causes) are left out.
fn changed_paths(batch: DebounceEventResult) -> Vec<PathBuf> {
    match batch {
        Ok(events) => events
            .into_iter()
            .filter(|e| match e.event.kind {
                EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
                EventKind::Access(_) => false,
                _ => true,
            })
            .flat_map(|e| e.event.paths)
            .collect(),
        Err(errors) => {
            for e in errors {
                eprintln!("watch error: {e}");
            }
            Vec::new()
        }
    }
}

type Watch = Debouncer<RecommendedWatcher, RecommendedCache>;

/// Watches `portal.yaml`'s folder (not recursively) and each watched folder that exists.
fn watch_dirs(w: &mut Watch, root: &Path, watched: &mut Vec<PathBuf>) -> Result<(), Error> {
    if watched.is_empty() {
        w.watch(root, RecursiveMode::NonRecursive)
            .map_err(|e| Error::Usage(format!("cannot watch {}: {e}", root.display())))?;
        watched.push(root.to_owned());
    }
    for name in WATCHED {
        let dir = root.join(name);
        if dir.is_dir() && !watched.contains(&dir) {
            w.watch(&dir, RecursiveMode::Recursive)
                .map_err(|e| Error::Usage(format!("cannot watch {}: {e}", dir.display())))?;
            watched.push(dir);
        }
    }
    Ok(())
}

/// One line per rebuild on stdout; the problems, as `portalgen check` prints them, on stderr.
fn report(o: &Outcome, lang: Lang, first: bool) {
    if o.errors.is_empty() {
        let what = if first { "built" } else { "rebuilt" };
        println!(
            "{what} in {:.0} ms: {} file(s) read, {} of {} report(s) checked; pages are rendered as they are opened",
            o.millis, o.files_read, o.checked, o.reports
        );
    } else {
        for e in &o.errors {
            eprintln!("{e}");
        }
        match lang {
            Lang::Zh => eprintln!(
                "发现 {} 个错误；预览显示上次成功生成的页面，修正后自动刷新。",
                o.errors.len()
            ),
            Lang::En => eprintln!(
                "{} error(s); the preview shows the last good pages until they are fixed.",
                o.errors.len()
            ),
        }
    }
}

fn open_browser(url: &str) {
    let cmd = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(cmd)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("cannot open a browser ({cmd}: {e}); open {url}");
    }
}

use crate::html::escape;

/// The problems, above the page: the same text as `portalgen check`.
pub fn overlay(errors: &[&str]) -> String {
    let mut text = String::new();
    for e in errors {
        text.push_str(&escape(e));
        text.push('\n');
    }
    format!(
        concat!(
            r#"<div id="portalgen-overlay" role="alert" style="position:fixed;inset:0;z-index:2147483647;overflow:auto;background:rgba(20,20,20,.92);color:#fff;padding:2em;font:14px/1.5 monospace">"#,
            r#"<p style="margin:0 0 1em;font-weight:bold;color:#ff8a80">portalgen: 未能生成（以下为上次成功生成的页面）/ build failed — the page below is the last good render</p>"#,
            r#"<pre style="white-space:pre-wrap;margin:0">{}</pre>"#,
            r#"<button type="button" onclick="this.parentNode.remove()" style="margin-top:1em">关闭 / close</button></div>"#
        ),
        text
    )
}

/// Reloads the page after each rebuild, where it was scrolled to.
pub fn reload_script(generation: u64) -> String {
    format!(
        concat!(
            "<script>(function(){{var g={gen},k='portalgen-scroll:'+location.pathname,y=sessionStorage.getItem(k);",
            "if(y!==null){{sessionStorage.removeItem(k);window.addEventListener('load',function(){{window.scrollTo(0,+y);}});window.scrollTo(0,+y);}}",
            "if(!window.EventSource)return;var es=new EventSource('{events}');",
            "function go(){{sessionStorage.setItem(k,String(window.scrollY));es.close();location.reload();}}",
            "es.addEventListener('hello',function(e){{if(+e.data!==g)go();}});",
            "es.addEventListener('reload',go);}})();</script>"
        ),
        gen = generation,
        events = http::EVENTS
    )
}
