//! Write stage: put the rendered site on disk, all or nothing.
//!
//! Pages are staged as they are rendered, and reach the output only when every page has
//! succeeded, so a failed build leaves the previous output untouched. Into a new (or
//! empty) output folder the whole staging folder is renamed at once. Over a previous
//! build, only the files whose bytes changed are staged and then renamed into place one
//! by one (each rename is atomic, as with rsync's `--delay-updates`), and files the build
//! no longer makes are removed: a rebuild that changes one report rewrites a few files,
//! not tens of thousands, and a static host's caches stay valid. The marker file keeps,
//! for each file, a key given by the render stage (a hash of everything the page is made
//! from: its template's context and the theme) and the file's size and time: a page whose
//! key did not change is neither rendered nor compared again. A folder that portalgen
//! did not write is never touched: the output carries a marker file, and an existing
//! folder without it is refused.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::error::Error;
use crate::render::Page;

/// Name of the file that marks a folder as portalgen's output.
pub const MARKER: &str = ".portalgen-output";

const MARKER_TEXT: &str = "This folder is written by portalgen and replaced on every build.\n";

/// The manifest's first line after the text; a manifest from another version is ignored.
const MANIFEST_HEADER: &str = concat!("portalgen-manifest 1 ", env!("CARGO_PKG_VERSION"));

/// What the manifest knows of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    /// The file's key: a hash of what it was made from (see [`Staging::put_keyed`]).
    source: u64,
    len: u64,
    /// Modification time in nanoseconds since the epoch.
    mtime: u128,
}

fn hash(bytes: &[u8]) -> u64 {
    crate::fingerprint::of_bytes(bytes)
}

fn stat(path: &Path) -> Option<(u64, u128)> {
    seen(&fs::metadata(path).ok()?)
}

/// A file's size and time, as the marker keeps them.
fn seen(m: &fs::Metadata) -> Option<(u64, u128)> {
    let mtime = m
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((m.len(), mtime))
}

/// Files by path. Hashed with Fx, not SipHash: tens of thousands of paths a build, none
/// chosen by an attacker.
type Files = HashMap<String, Entry, crate::fingerprint::FxBuild>;

fn read_manifest(output: &Path) -> Files {
    let Ok(text) = fs::read_to_string(output.join(MARKER)) else {
        return Files::default();
    };
    let mut lines = text.lines().skip_while(|l| *l != MANIFEST_HEADER);
    if lines.next().is_none() {
        return Files::default();
    }
    lines
        .filter_map(|l| {
            let mut f = l.splitn(4, '\t');
            let source = u64::from_str_radix(f.next()?, 16).ok()?;
            let len = f.next()?.parse().ok()?;
            let mtime = f.next()?.parse().ok()?;
            Some((f.next()?.to_owned(), Entry { source, len, mtime }))
        })
        .collect()
}

fn manifest_text(entries: &Files) -> String {
    use std::fmt::Write as _;
    // Sorted by path (in parallel: 40,000 paths at 10,000 reports, at the end of a build
    // when nothing else runs), each line written without a second lookup.
    let mut rows: Vec<(&str, &Entry)> = entries.iter().map(|(p, e)| (p.as_str(), e)).collect();
    rows.par_sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut out = String::with_capacity(MARKER_TEXT.len() + entries.len() * 80);
    out.push_str(MARKER_TEXT);
    out.push_str(MANIFEST_HEADER);
    out.push('\n');
    for (p, e) in rows {
        let _ = write!(out, "{:016x}\t", e.source);
        crate::decimal::push_digits(&mut out, e.len.into());
        out.push('\t');
        crate::decimal::push_digits(&mut out, e.mtime);
        out.push('\t');
        out.push_str(p);
        out.push('\n');
    }
    out
}

/// Writes `pages` to `output`, replacing what a previous build left there.
pub fn write_site(output: &Path, pages: &[Page]) -> Result<(), Error> {
    let staging = Staging::begin(output)?;
    pages
        .par_iter()
        .try_for_each(|p| staging.put(&p.path, &p.content))?;
    staging.commit().map(|_| ())
}

/// What a commit changed in the output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Files written because they are new or their bytes changed.
    pub changed: usize,
    /// Files left as they were, byte for byte the same.
    pub unchanged: usize,
    /// Files of the previous build that this one no longer makes.
    pub removed: usize,
}

/// A site being written (see the module's documentation). Pages are put as they are
/// rendered, from any thread, so the site is never held in memory whole. Dropped without
/// a [`Staging::commit`] (an error, a panic), the staging folder is removed and the
/// output stays as it was.
pub struct Staging {
    output: PathBuf,
    tmp: PathBuf,
    /// Whether a previous build is updated in place (else the staging folder becomes it).
    update: bool,
    /// The previous build's files, from its marker.
    previous: Files,
    /// Every file of the new site, by path.
    produced: Mutex<Files>,
    /// Files staged because they differ from the output's.
    changed: Mutex<Vec<String>>,
    /// Folders made in the staging folder: a file's folder is made before its first file
    /// is opened, rather than after an open fails (at 10,000 reports that was 20,000
    /// failed opens and as many failed `mkdir`s).
    /// By the path's bytes: `Path`'s own hash walks its components (3,000 instructions
    /// a folder with SipHash).
    folders: Mutex<HashSet<std::ffi::OsString, crate::fingerprint::FxBuild>>,
    committed: bool,
}

impl Staging {
    /// Checks that `output` may be written and opens an empty staging folder beside it.
    pub fn begin(output: &Path) -> Result<Staging, Error> {
        let name = output
            .file_name()
            .ok_or_else(|| {
                Error::Usage(format!(
                    "错误：输出目录 {} 无效\nerror: invalid output folder {}",
                    output.display(),
                    output.display()
                ))
            })?
            .to_string_lossy()
            .into_owned();
        let parent = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let mut update = false;
        if output.exists() {
            let is_ours = output.join(MARKER).is_file();
            let is_empty = output.is_dir()
                && fs::read_dir(output)
                    .map(|mut d| d.next().is_none())
                    .unwrap_or(false);
            if !is_ours && !is_empty {
                return Err(Error::Usage(format!(
                    "错误：输出目录 {0} 已存在，但不是 portalgen 生成的（缺少 {1}），为免覆盖其中的文件，构建已停止。\n  = 帮助：换一个 --output 目录，或确认后手动删除 {0}\nerror: {0} exists and was not written by portalgen (no {1}); refusing to replace it. Choose another --output or remove it yourself.",
                    output.display(),
                    MARKER
                )));
            }
            update = is_ours;
        }
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(Staging {
            output: output.to_owned(),
            tmp,
            update,
            previous: if update {
                read_manifest(output)
            } else {
                Files::default()
            },
            produced: Mutex::new(Files::default()),
            changed: Mutex::new(Vec::new()),
            folders: Mutex::new(HashSet::default()),
            committed: false,
        })
    }

    /// Puts one file of the site (`path` relative to its top). Safe to call from many
    /// threads; folders are made on first use.
    pub fn put(&self, path: &str, content: &[u8]) -> Result<(), Error> {
        self.put_keyed(path, hash(content), || Ok(Some(content.to_vec())))
    }

    /// Puts one file that `make` makes, known by `key`: a hash of everything it is made
    /// from. When the previous build made this file with the same key and the file is as
    /// it left it, `make` is not called and nothing is written. `make` may find that
    /// there is no file to put (`None`).
    pub fn put_keyed(
        &self,
        path: &str,
        key: u64,
        make: impl FnOnce() -> Result<Option<Vec<u8>>, Error>,
    ) -> Result<(), Error> {
        let target = self.output.join(path);
        if self.kept(path, key) {
            return Ok(());
        }
        let Some(content) = make()? else {
            return Ok(());
        };
        if self.update && same_bytes(&target, &content) {
            if let Some(seen) = stat(&target) {
                self.record(path, key, seen);
            }
            return Ok(());
        }
        let staged = self.tmp.join(path);
        let seen = self.write_file(&staged, &content)?;
        self.staged(path, key, seen);
        Ok(())
    }

    /// Whether the previous build made `path` with `key` and the file is as it left it;
    /// if so, it is part of this build as it is.
    fn kept(&self, path: &str, key: u64) -> bool {
        if self.update
            && let Some(old) = self.previous.get(path)
            && old.source == key
            && stat(&self.output.join(path)) == Some((old.len, old.mtime))
        {
            self.produced(path, *old);
            return true;
        }
        false
    }

    /// Records a file written to the staging folder, of size and time `seen`; returns
    /// its size. A rename keeps the time, so the staged file's is the one the output
    /// will have.
    fn staged(&self, path: &str, key: u64, (len, mtime): (u64, u128)) -> u64 {
        self.record(path, key, (len, mtime));
        if self.update
            && let Ok(mut c) = self.changed.lock()
        {
            c.push(path.to_owned());
        }
        len
    }

    /// Puts one file that `write` writes as it is made, for a file too large to hold (the
    /// portal's JSON), known by `key` (a hash of everything it is made from). When the
    /// previous build made it with the same key and the file is as it left it, `write` is
    /// not called. Returns the file's size.
    pub fn put_streamed(
        &self,
        path: &str,
        key: u64,
        write: impl FnOnce(&mut dyn Write) -> Result<(), Error>,
    ) -> Result<u64, Error> {
        if self.kept(path, key) {
            return Ok(0);
        }
        let staged = self.tmp.join(path);
        self.folder_of(&staged)?;
        let file = fs::File::create(&staged).map_err(|e| Error::io(&staged, e))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        write(&mut out)?;
        out.flush().map_err(|e| Error::io(&staged, e))?;
        let seen = out.get_ref().metadata().ok().as_ref().and_then(seen);
        drop(out);
        Ok(self.staged(path, key, seen.unwrap_or((0, 0))))
    }

    /// Makes the folder of `file` in the staging folder, unless this build made it already.
    fn folder_of(&self, file: &Path) -> Result<(), Error> {
        let Some(dir) = file.parent() else {
            return Ok(());
        };
        if self
            .folders
            .lock()
            .is_ok_and(|f| f.contains(dir.as_os_str()))
        {
            return Ok(());
        }
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        if let Ok(mut f) = self.folders.lock() {
            f.insert(dir.as_os_str().to_owned());
        }
        Ok(())
    }

    /// Writes a staged file, making its folder on first use; returns its size and time
    /// (read from the open file, not looked up again by its path).
    fn write_file(&self, full: &Path, content: &[u8]) -> Result<(u64, u128), Error> {
        self.folder_of(full)?;
        let mut file = fs::File::create(full).map_err(|e| Error::io(full, e))?;
        file.write_all(content).map_err(|e| Error::io(full, e))?;
        let m = file.metadata().map_err(|e| Error::io(full, e))?;
        Ok(seen(&m).unwrap_or((content.len() as u64, 0)))
    }

    /// Records that this build makes `path` with `key`, its file of size and time `seen`.
    fn record(&self, path: &str, key: u64, (len, mtime): (u64, u128)) {
        self.produced(
            path,
            Entry {
                source: key,
                len,
                mtime,
            },
        );
    }

    fn produced(&self, path: &str, entry: Entry) {
        if let Ok(mut p) = self.produced.lock() {
            p.insert(path.to_owned(), entry);
        }
    }

    /// Makes the staged site the output: renames the staging folder into place, or, over
    /// a previous build, moves the changed files in and removes the files no longer made.
    pub fn commit(mut self) -> Result<Written, Error> {
        let produced = std::mem::take(self.produced.get_mut().unwrap_or_else(|e| e.into_inner()));
        let mut written = Written {
            changed: produced.len(),
            ..Written::default()
        };
        let manifest = manifest_text(&produced);
        if !self.update {
            self.write_file(&self.tmp.join(MARKER), manifest.as_bytes())?;
            if self.output.exists() {
                // An empty folder (checked in `begin`): make way for the new site.
                fs::remove_dir(&self.output).map_err(|e| Error::io(&self.output, e))?;
            }
            fs::rename(&self.tmp, &self.output).map_err(|e| Error::io(&self.output, e))?;
            self.committed = true;
            return Ok(written);
        }
        let changed = std::mem::take(self.changed.get_mut().unwrap_or_else(|e| e.into_inner()));
        written.changed = changed.len();
        written.unchanged = produced.len() - changed.len();
        for path in &changed {
            let (from, to) = (self.tmp.join(path), self.output.join(path));
            if let Err(e) = fs::rename(&from, &to) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(Error::io(&to, e));
                }
                if let Some(dir) = to.parent() {
                    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                }
                fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
            }
        }
        // What the previous build made and this one does not; then the folders left empty.
        let mut dirs = Vec::new();
        for entry in walkdir::WalkDir::new(&self.output)
            .min_depth(1)
            .into_iter()
            .flatten()
        {
            let Ok(rel) = entry.path().strip_prefix(&self.output) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if entry.file_type().is_dir() {
                dirs.push(entry.into_path());
            } else if rel != MARKER && !produced.contains_key(&rel) {
                fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
                written.removed += 1;
            }
        }
        // Only folders that hold none of this build's files are tried (trying all of them,
        // each failing for the folders that still hold files, was 20,000 failed calls at
        // 10,000 reports).
        let mut live: HashSet<&str, crate::fingerprint::FxBuild> = HashSet::default();
        for path in produced.keys() {
            let mut at = path.as_str();
            while let Some(cut) = at.rfind('/') {
                at = &at[..cut];
                if !live.insert(at) {
                    break;
                }
            }
        }
        for dir in dirs.iter().rev() {
            let Ok(rel) = dir.strip_prefix(&self.output) else {
                continue;
            };
            if !live.contains(rel.to_string_lossy().replace('\\', "/").as_str()) {
                // Fails, as it should, if something still in it could not be removed.
                let _ = fs::remove_dir(dir);
            }
        }
        let marker = self.output.join(MARKER);
        if !same_bytes(&marker, manifest.as_bytes()) {
            let staged = self.tmp.join(MARKER);
            self.write_file(&staged, manifest.as_bytes())?;
            fs::rename(&staged, &marker).map_err(|e| Error::io(&marker, e))?;
        }
        self.committed = true;
        let _ = fs::remove_dir_all(&self.tmp);
        Ok(written)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Whether the file at `path` holds exactly `content` (a missing file does not).
fn same_bytes(path: &Path, content: &[u8]) -> bool {
    use std::io::Read;
    let Ok(mut f) = fs::File::open(path) else {
        return false;
    };
    if f.metadata().map(|m| m.len()).ok() != Some(content.len() as u64) {
        return false;
    }
    let mut old = Vec::with_capacity(content.len());
    f.read_to_end(&mut old).is_ok() && old == content
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(path: &str, text: &str) -> Page {
        Page {
            path: path.into(),
            content: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn replaces_previous_output_and_leaves_no_temporary_folders() {
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("public");
        write_site(&out, &[page("a/index.html", "1"), page("old.html", "x")]).expect("first");
        write_site(&out, &[page("a/index.html", "2")]).expect("second");
        assert_eq!(
            fs::read_to_string(out.join("a/index.html")).expect("read"),
            "2"
        );
        assert!(!out.join("old.html").exists());
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("e").file_name())
            .collect();
        assert_eq!(names, ["public"]);
    }

    #[test]
    fn refuses_to_replace_a_folder_it_did_not_write() {
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("docs");
        fs::create_dir(&out).expect("mkdir");
        fs::write(out.join("mine.txt"), "keep").expect("write");
        assert!(write_site(&out, &[page("index.html", "x")]).is_err());
        assert_eq!(
            fs::read_to_string(out.join("mine.txt")).expect("read"),
            "keep"
        );
    }

    #[test]
    fn a_staging_dropped_without_commit_leaves_the_previous_site() {
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("public");
        write_site(&out, &[page("index.html", "old")]).expect("first");
        {
            let staging = Staging::begin(&out).expect("begin");
            staging.put("a/b/index.html", b"new").expect("put");
            staging.put("index.html", b"new").expect("put");
        }
        assert_eq!(
            fs::read_to_string(out.join("index.html")).expect("read"),
            "old"
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("e").file_name())
            .collect();
        assert_eq!(names, ["public"]);
    }
}
