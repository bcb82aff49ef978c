//! Load stage: find the report files under `content/` and split each into its YAML front
//! matter (parsed into a located tree) and its Markdown body. Nothing here knows what a
//! report contains; that is the model stage's job.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::error::{Diagnostic, Error};
use crate::yaml::{self, Node, Pos};

/// A report file as read from disk.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the portal root, with `/` separators, for messages and URLs.
    pub rel: String,
    pub path: PathBuf,
    pub text: String,
    pub front: Node,
    /// The YAML text `front` was parsed from; node spans index into it.
    pub yaml: String,
    /// The Markdown after the closing `---`.
    pub body: String,
    /// 1-based line of the file where the body starts.
    pub body_line: usize,
}

/// Lists the Markdown files under `content_dir` in a stable order. Hidden files and
/// editors' backup files are skipped.
pub fn find_reports(root: &Path, content_dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    if !content_dir.is_dir() {
        return Ok(files);
    }
    let walker = WalkDir::new(content_dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(root).to_owned();
            Error::io(&path, e.into())
        })?;
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file() && name.ends_with(".md") && !name.ends_with('~') {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

/// The path as shown to people and used in messages: relative to the root, `/`-separated.
pub fn rel_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Reads one report file: UTF-8 check, front matter split, YAML parse.
pub fn read_report(root: &Path, path: &Path) -> Result<SourceFile, Box<Diagnostic>> {
    let rel = rel_path(root, path);
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::error(
            &rel,
            Pos::default(),
            format!("无法读取文件：{e}"),
            format!("cannot read the file: {e}"),
        )
    })?;
    // simdutf8 checks valid text several times faster than std (whose check of Chinese
    // text was a tenth of the load stage); a copy of the checked text costs less than
    // std's check. std, which says where the first bad byte is, runs only on a bad file.
    let checked = simdutf8::basic::from_utf8(&bytes)
        .map(str::to_owned)
        .or_else(|_| std::str::from_utf8(&bytes).map(str::to_owned));
    let text = match checked {
        Ok(t) => t,
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let line = valid.matches('\n').count() + 1;
            let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            return Err(Box::new(
                Diagnostic::error(
                    &rel,
                    Pos { line, column },
                    "文件不是 UTF-8 编码",
                    "the file is not UTF-8 text",
                )
                .with_help(
                    "用编辑器以 UTF-8 编码另存此文件（GBK/GB18030 编码的文件需要转换）",
                    "save the file as UTF-8 (files in GBK/GB18030 must be converted)",
                ),
            ));
        }
    };
    parse_source(rel, path, text)
}

/// Splits and parses a report's text; `rel` names it in diagnostics.
pub fn parse_source(rel: String, path: &Path, text: String) -> Result<SourceFile, Box<Diagnostic>> {
    let text = match text.strip_prefix('\u{feff}') {
        Some(t) => t.to_owned(),
        None => text,
    };
    let (front_text, body, body_line) = split_front_matter(&text).ok_or_else(|| {
        Diagnostic::error(
            &rel,
            Pos { line: 1, column: 1 },
            "缺少 YAML 前置信息：文件应以单独一行 `---` 开头，并以另一行 `---` 结束前置信息",
            "no YAML front matter: the file must start with a line `---` and close it with another `---` line",
        )
        .with_help(
            "参照 docs/report-format.md 中的完整示例",
            "see the complete example in docs/report-format.md",
        )
        .with_source(&text)
    })?;
    // Parse the front matter in place (padded with blank lines) so positions are file positions.
    let padded = format!("\n{front_text}");
    let front = yaml::parse(&padded).map_err(|e| {
        Diagnostic::error(
            &rel,
            e.pos,
            format!("YAML 语法错误：{}", e.message),
            format!("YAML syntax error: {}", e.message),
        )
        .with_help(
            "检查这一行附近的缩进、冒号和括号是否配对",
            "check indentation, colons and brackets around this line",
        )
        .with_source(&text)
    })?;
    let body = body.to_owned();
    Ok(SourceFile {
        rel,
        path: path.to_owned(),
        front,
        yaml: padded,
        body,
        body_line,
        text,
    })
}

/// Splits `---\n<yaml>\n---\n<body>`. Returns the YAML, the body and the body's first line.
fn split_front_matter(text: &str) -> Option<(&str, &str, usize)> {
    let mut lines = text.split_inclusive('\n');
    let first = lines.next()?;
    if first.trim_end() != "---" {
        return None;
    }
    let start = first.len();
    let mut offset = start;
    let mut line_no = 1;
    for line in lines {
        line_no += 1;
        if line.trim_end() == "---" {
            let yaml = &text[start..offset];
            let body = &text[offset + line.len()..];
            return Some((yaml, body, line_no + 1));
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_byte_past_the_simd_blocks_is_located_and_good_text_is_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("r.md");
        // Long enough for simdutf8's vector path: 40 lines of Chinese, then a GBK byte.
        let good = "政府信息公开工作年度报告\n".repeat(40);
        let mut bytes = good.clone().into_bytes();
        bytes.extend_from_slice(b"ab\xB2\xBB");
        std::fs::write(&path, &bytes).expect("write");
        let Err(err) = read_report(dir.path(), &path) else {
            panic!("a file with GBK bytes was read as UTF-8");
        };
        assert_eq!((err.line, err.column), (41, 3));
        std::fs::write(&path, format!("---\ntitle: 甲\n---\n{good}")).expect("write");
        let read = match read_report(dir.path(), &path) {
            Ok(read) => read,
            Err(e) => panic!("UTF-8 text was refused: {}", e.message_en),
        };
        assert!(read.text.ends_with(&good));
    }

    #[test]
    fn splits_front_matter_and_counts_lines() {
        let (y, b, l) = split_front_matter("---\na: 1\n---\nbody\n").expect("split");
        assert_eq!(y, "a: 1\n");
        assert_eq!(b, "body\n");
        assert_eq!(l, 4);
        assert!(split_front_matter("no front matter").is_none());
        assert!(split_front_matter("---\nnever closed\n").is_none());
    }

    #[test]
    fn yaml_positions_are_file_positions() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("r.md");
        std::fs::write(&p, "---\nyear: 2022\nagency: x\n---\ntext\n").expect("write");
        let f = read_report(dir.path(), &p).expect("read");
        let map = f.front.as_map().expect("map");
        assert_eq!(map[1].0.pos, Pos { line: 3, column: 1 });
        assert_eq!(f.body_line, 5);
    }
}
