//! Shared helpers for the integration tests: a private copy of the example portal, running
//! the real `portalgen` binary, reading output trees, and a small HTML tag scanner.
//!
//! Each test file uses only part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

/// The repository root (holds the example portal).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A private copy of the example portal in a temporary folder. Outputs go next to the
/// portal (`<tmp>/<name>`), never into the repository.
pub struct Portal {
    dir: tempfile::TempDir,
}

impl Portal {
    /// Copies `portal.yaml`, `content/` and `themes/` from the repository root.
    pub fn example() -> Portal {
        let dir = tempfile::Builder::new()
            .prefix("portalgen-test-")
            .tempdir()
            .expect("create temp dir");
        let root = dir.path().join("portal");
        fs::create_dir_all(&root).expect("mkdir portal");
        let src = repo_root();
        fs::copy(src.join("portal.yaml"), root.join("portal.yaml")).expect("copy portal.yaml");
        copy_dir(&src.join("content"), &root.join("content"));
        copy_dir(&src.join("themes"), &root.join("themes"));
        Portal { dir }
    }

    /// The portal's folder (pass as `--root`).
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("portal")
    }

    /// A path next to the portal, for `--output`.
    pub fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The temporary folder that holds the portal and its outputs.
    pub fn base(&self) -> &Path {
        self.dir.path()
    }

    /// Absolute path of a file given relative to the portal root (`content/2022/x.md`).
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {rel}: {e}"));
    }

    /// Rewrites a text file with `f`, asserting that `f` changed it.
    pub fn modify(&self, rel: &str, f: impl FnOnce(&str) -> String) -> String {
        let before = self.read(rel);
        let after = f(&before);
        assert_ne!(before, after, "modification of {rel} changed nothing");
        self.write(rel, &after);
        after
    }

    /// Replaces exactly one occurrence of `from` with `to` in a file; returns the new text.
    pub fn replace_once(&self, rel: &str, from: &str, to: &str) -> String {
        self.modify(rel, |s| {
            assert_eq!(
                s.matches(from).count(),
                1,
                "expected exactly one {from:?} in {rel}"
            );
            s.replacen(from, to, 1)
        })
    }

    /// Runs `portalgen build --root <portal> --output <out>`.
    pub fn build(&self, out: &Path) -> Run {
        build(&self.root(), Some(out))
    }
}

/// What a run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.status.success()
    }

    /// Panics with both streams when the build failed.
    pub fn assert_ok(&self) -> &Self {
        assert!(
            self.ok(),
            "build failed ({})\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    /// The `file:line:column` locations of the `  --> …` lines in stderr.
    pub fn locations(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("--> "))
            .map(|l| l.trim().to_owned())
            .collect()
    }
}

/// Runs the real binary: `portalgen build --root ROOT [--output OUT]`.
pub fn build(root: &Path, output: Option<&Path>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portalgen"));
    cmd.arg("build").arg("--root").arg(root);
    if let Some(out) = output {
        cmd.arg("--output").arg(out);
    }
    let out = cmd.output().expect("run portalgen");
    Run {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Recursive copy of a folder.
pub fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap_or_else(|e| panic!("mkdir {}: {e}", dst.display()));
    for entry in fs::read_dir(src).unwrap_or_else(|e| panic!("ls {}: {e}", src.display())) {
        let entry = entry.expect("dir entry");
        let from = entry.path();
        let to = dst.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&from, &to);
        } else {
            fs::copy(&from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
        }
    }
}

/// Every file under `dir` (relative, `/`-separated) with its bytes.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("ls {}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .expect("under base")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(rel, fs::read(&path).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Names of the entries directly in `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("ls {}: {e}", dir.display()))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A report file of the example portal, as the tests need it.
#[derive(Debug, Clone)]
pub struct ReportFile {
    /// Relative to the portal root, e.g. `content/2022/fenyang-gov-office.md`.
    pub rel: String,
    pub year: String,
    pub agency_id: String,
    /// `format:` as written (empty when the file leaves it to the year).
    pub format: String,
    pub sample: bool,
}

/// The report files under `<root>/content`, read with a minimal front-matter scan
/// (top-level `year:`, `agency_id:`, `format:` and `sample:` lines).
pub fn report_files(root: &Path) -> Vec<ReportFile> {
    let content = root.join("content");
    let mut out = Vec::new();
    for (rel, bytes) in tree(&content) {
        let name = rel.rsplit('/').next().unwrap_or_default();
        if !rel.ends_with(".md") || rel.split('/').any(|p| p.starts_with('.')) || name.is_empty() {
            continue;
        }
        let text = String::from_utf8(bytes).expect("example content is UTF-8");
        let mut lines = text.lines();
        assert_eq!(
            lines.next().map(str::trim_end),
            Some("---"),
            "{rel}: front matter"
        );
        let mut year = None;
        let mut agency_id = None;
        let mut sample = false;
        let mut format = String::new();
        for line in lines {
            if line.trim_end() == "---" {
                break;
            }
            let value = |key: &str| {
                line.strip_prefix(key).map(|v| {
                    let v = v.split(" #").next().unwrap_or_default().trim();
                    v.trim_matches(|c| c == '"' || c == '\'').to_owned()
                })
            };
            if let Some(v) = value("year:") {
                year = Some(v);
            } else if let Some(v) = value("agency_id:") {
                agency_id = Some(v);
            } else if let Some(v) = value("format:") {
                format = v;
            } else if let Some(v) = value("sample:") {
                sample = v == "true";
            }
        }
        out.push(ReportFile {
            rel: format!("content/{rel}"),
            year: year.unwrap_or_else(|| panic!("{rel}: no year")),
            agency_id: agency_id.unwrap_or_else(|| panic!("{rel}: no agency_id")),
            format,
            sample,
        });
    }
    out
}

/// 1-based line number of the first line of `text` containing `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not found"))
        + 1
}

/// 1-based `(line, column)` of the first occurrence of `needle`, columns counted in
/// characters (as portalgen reports them).
pub fn pos_of(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not found"));
    pos_at(text, at)
}

/// 1-based `(line, column)` of byte offset `at`, columns counted in characters.
pub fn pos_at(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    (line, column)
}

/// 1-based line of the `---` that closes the front matter.
pub fn front_matter_end(text: &str) -> usize {
    text.lines()
        .enumerate()
        .skip(1)
        .find(|(_, l)| l.trim_end() == "---")
        .map(|(i, _)| i + 1)
        .expect("closing ---")
}

// ---------------------------------------------------------------------------------------
// A small HTML scanner: enough to find tags, their attributes (quoted or not, as minified
// HTML writes them) and the text right after a tag.

#[derive(Debug, Clone)]
pub struct Tag {
    /// Lowercase name; closing tags are `/name`.
    pub name: String,
    pub attrs: Vec<(String, String)>,
    /// Byte offset of `<`.
    pub start: usize,
    /// Byte offset just after `>`.
    pub end: usize,
}

impl Tag {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split_ascii_whitespace().any(|x| x == class))
    }
}

/// Decodes the few character references that appear in attribute values and numbers.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ if name.starts_with("#x") || name.starts_with("#X") => {
                    u32::from_str_radix(&name[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                }
                _ if name.starts_with('#') => name[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// All start and end tags of a document, in order. Comments, doctypes and the contents of
/// `<script>`/`<style>` are skipped.
pub fn tags(html: &str) -> Vec<Tag> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let start = i + off;
        let rest = &html[start..];
        if rest.starts_with("<!--") {
            i = html[start..]
                .find("-->")
                .map_or(html.len(), |e| start + e + 3);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            i = html[start..]
                .find('>')
                .map_or(html.len(), |e| start + e + 1);
            continue;
        }
        let mut j = start + 1;
        let closing = b.get(j) == Some(&b'/');
        if closing {
            j += 1;
        }
        if !b.get(j).is_some_and(|c| c.is_ascii_alphabetic()) {
            i = start + 1;
            continue;
        }
        let name_start = j;
        while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' && b[j] != b'/' {
            j += 1;
        }
        let name = html[name_start..j].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if j >= b.len() {
                break;
            }
            if b[j] == b'>' {
                j += 1;
                break;
            }
            if b[j] == b'/' {
                j += 1;
                continue;
            }
            let an_start = j;
            while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'=' && b[j] != b'>' {
                if b[j] == b'/' && b.get(j + 1) == Some(&b'>') {
                    break;
                }
                j += 1;
            }
            let attr_name = html[an_start..j].to_ascii_lowercase();
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let mut value = String::new();
            if b.get(j) == Some(&b'=') {
                j += 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                match b.get(j) {
                    Some(&q) if q == b'"' || q == b'\'' => {
                        let v_start = j + 1;
                        let v_end = html[v_start..]
                            .find(q as char)
                            .map_or(html.len(), |e| v_start + e);
                        value = decode_entities(&html[v_start..v_end]);
                        j = (v_end + 1).min(html.len());
                    }
                    _ => {
                        let v_start = j;
                        while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                            j += 1;
                        }
                        value = decode_entities(&html[v_start..j]);
                    }
                }
            }
            if !attr_name.is_empty() {
                attrs.push((attr_name, value));
            }
        }
        let end = j.min(html.len());
        let raw_text = !closing && (name == "script" || name == "style");
        out.push(Tag {
            name: if closing {
                format!("/{name}")
            } else {
                name.clone()
            },
            attrs,
            start,
            end,
        });
        i = end;
        if raw_text {
            let close = format!("</{name}");
            i = html[end..]
                .to_ascii_lowercase()
                .find(&close)
                .map_or(html.len(), |e| end + e);
        }
    }
    out
}

/// The text between the end of `tag` and the next `<`, entity-decoded and trimmed.
pub fn text_after(html: &str, tag: &Tag) -> String {
    let rest = &html[tag.end..];
    let text = &rest[..rest.find('<').unwrap_or(rest.len())];
    decode_entities(text).trim().to_owned()
}

/// Every `id` attribute of a document.
pub fn ids(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for t in tags(html) {
        if let Some(id) = t.attr("id") {
            out.push(id.to_owned());
        }
        if t.name == "a"
            && let Some(name) = t.attr("name")
        {
            out.push(name.to_owned());
        }
    }
    out
}

/// One numeric data cell of a rendered report table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataCell {
    pub value: String,
    pub computed: bool,
    /// The `headers` attribute.
    pub headers: String,
    /// The cell's inner HTML (up to its `</td>`).
    pub inner: String,
}

/// The data cells (`<td headers=… class="num…">`) of the tables whose id starts with
/// `id_prefix` (all blocks of a table, in page order).
pub fn data_cells(html: &str, id_prefix: &str) -> Vec<DataCell> {
    let all = tags(html);
    let mut out = Vec::new();
    let mut inside = false;
    let mut depth = 0usize;
    for t in &all {
        match t.name.as_str() {
            "table" if inside => depth += 1,
            "table" if t.attr("id").is_some_and(|id| id.starts_with(id_prefix)) => {
                inside = true;
                depth = 0;
            }
            "/table" if inside => {
                if depth == 0 {
                    inside = false;
                } else {
                    depth -= 1;
                }
            }
            "td" if inside && t.attr("headers").is_some() && t.has_class("num") => {
                out.push(DataCell {
                    value: text_after(html, t),
                    computed: t.has_class("computed"),
                    headers: t.attr("headers").unwrap_or_default().to_owned(),
                    inner: {
                        // Minifiers may drop `</td>`; the next cell or row ends it too.
                        let rest = &html[t.end..];
                        let end = ["</td", "<td", "</tr", "<tr", "</table"]
                            .iter()
                            .filter_map(|m| rest.find(m))
                            .min()
                            .unwrap_or(rest.len());
                        rest[..end].to_owned()
                    },
                });
            }
            _ => {}
        }
    }
    out
}

/// `id`s of the `<table>` elements of a page.
pub fn table_ids(html: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .filter(|t| t.name == "table")
        .filter_map(|t| t.attr("id").map(str::to_owned))
        .collect()
}

/// The part of a page inside `<main …>…</main>` (the whole page when there is no main).
pub fn main_part(html: &str) -> &str {
    let all = tags(html);
    let start = all.iter().find(|t| t.name == "main").map(|t| t.end);
    let end = all
        .iter()
        .rev()
        .find(|t| t.name == "/main")
        .map(|t| t.start);
    match (start, end) {
        (Some(s), Some(e)) if s <= e => &html[s..e],
        _ => html,
    }
}
