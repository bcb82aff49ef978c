//! Errors of the library, and diagnostics that a person can act on.
//!
//! Library functions return [`Error`]; the CLI renders it. Problems in the user's files are
//! [`Diagnostic`]s: each names the file, line and column, says what is wrong in Chinese and
//! English, and what to do about it. All diagnostics of a run are collected, not just the
//! first, so a clerk fixes a report in one pass.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::schema::Severity;
use crate::yaml::Pos;

/// The language diagnostics are shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// `zh`, `zh-CN`, `zh-Hans` … are Chinese; anything starting with `en` is English.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
}

/// One problem in one place of one file.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Rule ID for check diagnostics (T3-01 …); None for input errors.
    pub rule: Option<String>,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub message_en: String,
    pub help: Option<String>,
    pub help_en: Option<String>,
    /// The source line the position is on, for the snippet.
    pub source_line: Option<String>,
}

impl Diagnostic {
    pub fn error(file: &str, pos: Pos, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            rule: None,
            file: file.to_owned(),
            line: pos.line,
            column: pos.column,
            message: zh.into(),
            message_en: en.into(),
            help: None,
            help_en: None,
            source_line: None,
        }
    }

    pub fn with_help(mut self, zh: impl Into<String>, en: impl Into<String>) -> Self {
        self.help = Some(zh.into());
        self.help_en = Some(en.into());
        self
    }

    /// Attaches the line of `text` that the diagnostic points at.
    pub fn with_source(mut self, text: &str) -> Self {
        if self.line > 0 {
            self.source_line = text.lines().nth(self.line - 1).map(str::to_owned);
        }
        self
    }

    /// `file:line:column`, or just the file when the position is unknown.
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.clone()
        } else {
            format!("{}:{}:{}", self.file, self.line, self.column)
        }
    }

    /// Renders the diagnostic like rustc does: headline, location, snippet with a caret, help.
    pub fn render(&self, lang: Lang) -> String {
        let (msg, help) = match lang {
            Lang::Zh => (&self.message, &self.help),
            Lang::En => (&self.message_en, &self.help_en),
        };
        let level = match (self.severity, lang) {
            (Severity::Error, Lang::Zh) => "错误",
            (Severity::Error, Lang::En) => "error",
            (Severity::Warning, Lang::Zh) => "警告",
            (Severity::Warning, Lang::En) => "warning",
            (Severity::Info, Lang::Zh) => "提示",
            (Severity::Info, Lang::En) => "info",
        };
        let mut out = String::new();
        match &self.rule {
            Some(rule) => {
                let _ = writeln!(out, "{level}[{rule}]: {msg}");
            }
            None => {
                let _ = writeln!(out, "{level}: {msg}");
            }
        }
        let _ = writeln!(out, "  --> {}", self.location());
        if let Some(src) = &self.source_line {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            // Columns count characters; CJK characters take two cells on a terminal.
            let caret_pad: String = src
                .chars()
                .take(self.column.saturating_sub(1))
                .map(|c| {
                    if c == '\t' {
                        "\t"
                    } else if is_wide(c) {
                        "  "
                    } else {
                        " "
                    }
                })
                .collect();
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{num} | {src}");
            let _ = writeln!(out, "{pad} | {caret_pad}^");
        }
        if let Some(help) = help {
            let label = if lang == Lang::Zh { "帮助" } else { "help" };
            let _ = writeln!(out, "  = {label}: {help}");
        }
        out
    }
}

fn is_wide(c: char) -> bool {
    matches!(c as u32, 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

/// Everything that can stop a build.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Problems in the portal's own files; each one is located.
    #[error("{} problem(s) in the portal's files", .0.len())]
    Diagnostics(Vec<Diagnostic>),
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("template error: {0}")]
    Template(String),
    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// The error as a person should read it.
    pub fn render(&self, lang: Lang) -> String {
        match self {
            Error::Diagnostics(list) => {
                let mut out = String::new();
                for d in list {
                    out.push_str(&d.render(lang));
                    out.push('\n');
                }
                let errors = list
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count();
                let _ = match lang {
                    Lang::Zh => writeln!(
                        out,
                        "发现 {errors} 个错误，未生成网站；原有输出目录保持不变。"
                    ),
                    Lang::En => writeln!(
                        out,
                        "{errors} error(s); nothing was published and the previous output is unchanged."
                    ),
                };
                out
            }
            Error::Io { path, source } => match lang {
                Lang::Zh => format!("错误：无法读写 {}：{source}\n", path.display()),
                Lang::En => format!("error: cannot read or write {}: {source}\n", path.display()),
            },
            Error::Template(msg) => match lang {
                Lang::Zh => format!("模板错误：\n{msg}\n"),
                Lang::En => format!("template error:\n{msg}\n"),
            },
            Error::Usage(msg) => format!("{msg}\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_snippet_and_caret_under_wide_text() {
        let text = "a: 1\n名称: [x]\n";
        let d = Diagnostic::error("c.md", Pos { line: 2, column: 5 }, "错", "wrong")
            .with_help("改", "fix")
            .with_source(text);
        let out = d.render(Lang::En);
        assert!(out.contains("error: wrong"));
        assert!(out.contains("--> c.md:2:5"));
        assert!(out.contains("2 | 名称: [x]"));
        assert!(out.contains("  |       ^"), "{out}");
        assert!(out.contains("= help: fix"));
    }
}
