//! The preview's HTTP server: std::net, one thread per connection, `Connection: close`.
//!
//! Only the built site is served, from memory: a request path is decoded, refused when it
//! could name anything outside the site (`..`, `.`, backslashes, NUL, empty segments,
//! absolute-form targets), then looked up in the page map; nothing is read from disk.
//! `/__portalgen/events` is a server-sent-events stream that says `reload` after each
//! rebuild; it holds its own thread, so open pages never block other requests.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::Duration;

use super::preview::Site;

/// The address of the reload stream.
pub const EVENTS: &str = "/__portalgen/events";

/// What the server threads share with the rebuild loop.
pub struct Shared {
    site: RwLock<Arc<Site>>,
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Shared {
    pub fn new(site: Site) -> Shared {
        let generation = site.generation;
        Shared {
            site: RwLock::new(Arc::new(site)),
            generation: Mutex::new(generation),
            changed: Condvar::new(),
        }
    }

    /// Shows a new build and tells every open page to reload.
    pub fn publish(&self, site: Site) {
        let generation = site.generation;
        match self.site.write() {
            Ok(mut s) => *s = Arc::new(site),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(site),
        }
        let mut g = self
            .generation
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *g = generation;
        self.changed.notify_all();
    }

    fn site(&self) -> Arc<Site> {
        match self.site.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn generation(&self) -> u64 {
        *self
            .generation
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits until the generation differs from `seen`, or `timeout` passes.
    fn wait_change(&self, seen: u64, timeout: Duration) -> u64 {
        let g = self
            .generation
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (g, _) = self
            .changed
            .wait_timeout_while(g, timeout, |g| *g == seen)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *g
    }
}

/// Accepts connections forever, a thread each.
pub fn serve(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("portalgen-http".into())
            .spawn(move || handle(stream, &shared));
        if let Err(e) = spawned {
            eprintln!("portalgen serve: cannot start a thread: {e}");
        }
    }
}

/// A decoded request target: the page to look up, or why it is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// A path in the site (`index.html`, `reports/2023/x/index.html`); `dir` when the
    /// request named a folder without its trailing slash (`/years`), to redirect.
    Page {
        path: String,
        dir_without_slash: bool,
    },
    Events,
    Bad,
}

/// Decodes and vets a request target (the part after the method).
pub fn parse_target(raw: &str) -> Target {
    let path = raw.split(['?', '#']).next().unwrap_or_default();
    // Origin-form only: `/…`, never `//host…`, `http://…` or `*`.
    if !path.starts_with('/') || path.starts_with("//") || path.contains('\\') {
        return Target::Bad;
    }
    let Some(decoded) = percent_decode(path) else {
        return Target::Bad;
    };
    if decoded == EVENTS {
        return Target::Events;
    }
    let inner = &decoded[1..];
    let trailing = inner.is_empty() || inner.ends_with('/');
    let body = inner.strip_suffix('/').unwrap_or(inner);
    if !body.is_empty() {
        for seg in body.split('/') {
            if seg.is_empty()
                || seg == "."
                || seg == ".."
                || seg.contains(['\\', '\0', ':'])
                || seg.chars().any(char::is_control)
            {
                return Target::Bad;
            }
        }
    }
    if trailing {
        Target::Page {
            path: format!("{inner}index.html"),
            dir_without_slash: false,
        }
    } else {
        Target::Page {
            path: body.to_owned(),
            dir_without_slash: true,
        }
    }
}

/// `%XX` decoding; `None` for a malformed escape or text that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The content type of a site file, by its extension.
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        "xml" => "application/xml",
        "atom" => "application/atom+xml",
        "svg" => "image/svg+xml",
        "txt" => "text/plain; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

fn handle(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.len() > 8192 {
        return;
    }
    // Skip the headers (bounded): nothing in them changes the answer.
    let mut header = String::new();
    for _ in 0..100 {
        header.clear();
        match reader.read_line(&mut header) {
            Ok(0) => break,
            Ok(_) if header.trim_end().is_empty() => break,
            Ok(n) if n > 8192 => return,
            Ok(_) => {}
            Err(_) => return,
        }
    }
    let mut parts = line.split_ascii_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        let _ = respond(
            &stream,
            "400 Bad Request",
            "text/plain",
            b"bad request\n",
            true,
        );
        return;
    };
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        let _ = respond(
            &stream,
            "405 Method Not Allowed",
            "text/plain",
            b"method not allowed\n",
            !head_only,
        );
        return;
    }
    match parse_target(target) {
        Target::Bad => {
            let _ = respond(
                &stream,
                "400 Bad Request",
                "text/plain",
                b"bad request\n",
                true,
            );
        }
        Target::Events => events(stream, shared),
        Target::Page {
            path,
            dir_without_slash,
        } => {
            // A rebuild stops the renderer of the site being shown: ask the newer one.
            let mut site = shared.site();
            let mut result = site.page(&path);
            for _ in 0..400 {
                if !matches!(&result, Err(e) if e == super::preview::STOPPED) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
                site = shared.site();
                result = site.page(&path);
            }
            let page = match result {
                Ok(page) => page,
                Err(problem) => {
                    // A template error: show it over an empty page rather than fail.
                    let body = decorate_with(
                        &site,
                        &path,
                        b"<!doctype html><title>portalgen</title><body></body>",
                        Some(&problem),
                    );
                    let _ = respond(
                        &stream,
                        "500 Internal Server Error",
                        "text/html; charset=utf-8",
                        &body,
                        !head_only,
                    );
                    return;
                }
            };
            if let Some(body) = page {
                let body = decorate(&site, &path, &body);
                let _ = respond(&stream, "200 OK", content_type(&path), &body, !head_only);
            } else if dir_without_slash
                && matches!(site.page(&format!("{path}/index.html")), Ok(Some(_)))
            {
                let location = format!("/{path}/");
                let head = format!(
                    "HTTP/1.1 301 Moved Permanently\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let mut s = &stream;
                let _ = s.write_all(head.as_bytes());
            } else {
                let body = match site.page("404.html") {
                    Ok(Some(p)) => decorate(&site, "404.html", &p),
                    _ => decorate(
                        &site,
                        "404.html",
                        b"<!doctype html><title>404</title><body><h1>404</h1></body>",
                    ),
                };
                let _ = respond(
                    &stream,
                    "404 Not Found",
                    "text/html; charset=utf-8",
                    &body,
                    !head_only,
                );
            }
        }
    }
}

fn respond(
    stream: &TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    with_body: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut s = stream;
    s.write_all(head.as_bytes())?;
    if with_body {
        s.write_all(body)?;
    }
    s.flush()
}

/// HTML pages get the reload script and, while there are problems, the overlay.
fn decorate(site: &Site, path: &str, body: &[u8]) -> Vec<u8> {
    decorate_with(site, path, body, None)
}

/// [`decorate`], with one more problem to show (a page that could not be rendered).
fn decorate_with(site: &Site, path: &str, body: &[u8], problem: Option<&str>) -> Vec<u8> {
    if problem.is_none() && !content_type(path).starts_with("text/html") {
        return body.to_vec();
    }
    let mut extra = String::new();
    let mut errors = site.errors_for(path);
    errors.extend(problem);
    if !errors.is_empty() {
        extra.push_str(&super::overlay(&errors));
    }
    extra.push_str(&super::reload_script(site.generation));
    let html = String::from_utf8_lossy(body);
    let at = html.rfind("</body>").unwrap_or(html.len());
    let mut out = String::with_capacity(html.len() + extra.len());
    out.push_str(&html[..at]);
    out.push_str(&extra);
    out.push_str(&html[at..]);
    out.into_bytes()
}

/// The reload stream: `hello` with the current generation at once, `reload` after each
/// rebuild, a comment every 15 s so a closed page frees its thread.
fn events(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(None);
    let mut s = &stream;
    let mut seen = shared.generation();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n\r\nretry: 500\nevent: hello\ndata: {seen}\n\n"
    );
    if s.write_all(head.as_bytes())
        .and_then(|()| s.flush())
        .is_err()
    {
        return;
    }
    loop {
        let now = shared.wait_change(seen, Duration::from_secs(15));
        let msg = if now == seen {
            ": ping\n\n".to_owned()
        } else {
            seen = now;
            format!("event: reload\ndata: {now}\n\n")
        };
        if s.write_all(msg.as_bytes())
            .and_then(|()| s.flush())
            .is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(p: &str) -> Target {
        Target::Page {
            path: p.to_owned(),
            dir_without_slash: false,
        }
    }

    #[test]
    fn targets() {
        assert_eq!(parse_target("/"), page("index.html"));
        assert_eq!(parse_target("/?x=1"), page("index.html"));
        assert_eq!(parse_target("/years/"), page("years/index.html"));
        assert_eq!(
            parse_target("/static/style.css"),
            Target::Page {
                path: "static/style.css".into(),
                dir_without_slash: true
            }
        );
        assert_eq!(parse_target(EVENTS), Target::Events);
        assert_eq!(parse_target("/%E5%B9%B4/"), page("年/index.html"));
        for bad in [
            "/../",
            "/..",
            "/%2e%2e/",
            "/%2E%2E%2F",
            "/%2e%2e%2f",
            "/..%2fportal.yaml",
            "/a/../../portal.yaml",
            "//etc/passwd",
            "/%2f%2fetc/passwd",
            "/%2fetc/passwd",
            "/a//b",
            "/..\\portal.yaml",
            "/%5c..%5cportal.yaml",
            "/a/%00",
            "/%zz",
            "/%e5",
            "http://example.com/",
            "*",
            "/./index.html",
            "/C:/x",
        ] {
            assert_eq!(parse_target(bad), Target::Bad, "{bad}");
        }
    }

    #[test]
    fn types() {
        assert!(content_type("a/index.html").starts_with("text/html"));
        assert!(content_type("static/style.css").starts_with("text/css"));
        assert!(content_type("search/search.js").starts_with("text/javascript"));
        assert_eq!(content_type("data.json"), "application/json");
        assert!(content_type("x.csv").starts_with("text/csv"));
        assert_eq!(content_type("feed.xml"), "application/xml");
        assert_eq!(content_type("logo.svg"), "image/svg+xml");
        assert!(content_type("robots.txt").starts_with("text/plain"));
    }
}
