//! Write stage: put the rendered site on disk atomically.
//!
//! The site is written into a temporary folder next to the output and swapped in at the
//! end, so a failed build leaves the previous output untouched and a web server never
//! serves half a site. A folder that portalgen did not write is never replaced: the
//! output carries a marker file, and an existing folder without it is refused.

use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::Error;
use crate::render::Page;

/// Name of the file that marks a folder as portalgen's output.
pub const MARKER: &str = ".portalgen-output";

/// Writes `pages` to `output`, replacing what a previous build left there.
pub fn write_site(output: &Path, pages: &[Page]) -> Result<(), Error> {
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
    }
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.tmp-{pid}"));
    let old = parent.join(format!(".{name}.old-{pid}"));
    let _ = fs::remove_dir_all(&tmp);
    if let Err(e) = write_tree(&tmp, pages) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if output.exists() {
        fs::rename(output, &old).map_err(|e| {
            let _ = fs::remove_dir_all(&tmp);
            Error::io(output, e)
        })?;
    }
    if let Err(e) = fs::rename(&tmp, output) {
        // Put the previous site back rather than leave nothing.
        if old.exists() {
            let _ = fs::rename(&old, output);
        }
        let _ = fs::remove_dir_all(&tmp);
        return Err(Error::io(output, e));
    }
    if old.exists() {
        fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
    }
    Ok(())
}

fn write_tree(dir: &Path, pages: &[Page]) -> Result<(), Error> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut dirs: Vec<PathBuf> = pages
        .iter()
        .filter_map(|p| dir.join(&p.path).parent().map(Path::to_owned))
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
    }
    pages.par_iter().try_for_each(|p| {
        let path = dir.join(&p.path);
        fs::write(&path, &p.content).map_err(|e| Error::io(&path, e))
    })?;
    let marker = dir.join(MARKER);
    fs::write(
        &marker,
        "This folder is written by portalgen and replaced on every build.\n",
    )
    .map_err(|e| Error::io(&marker, e))
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
}
