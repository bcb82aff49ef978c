//! `portal.yaml`: the portal's own settings.

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::error::{Diagnostic, Error};
use crate::yaml::Pos;

/// Name of the settings file at the portal's root.
pub const FILE_NAME: &str = "portal.yaml";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The portal's name, shown in every page's header.
    pub title: String,
    /// A line under the title on the home page.
    #[serde(default)]
    pub description: Option<String>,
    /// BCP 47 tag of the pages' language (`zh-CN`, `en`).
    #[serde(default = "default_language")]
    pub language: String,
    /// Absolute address where the site is published; only for feeds and sitemaps.
    /// Pages always link relatively, so the site works from any folder.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Folder name under `themes/`.
    #[serde(default = "default_theme")]
    pub theme: String,
    /// Keep raw HTML written in report bodies. Off by default: it is escaped and shown as text.
    #[serde(default)]
    pub allow_html: bool,
    /// Values for the theme's settings (logo, colours, footer …), see the theme's theme.yaml.
    #[serde(default)]
    pub theme_settings: std::collections::BTreeMap<String, serde_json::Value>,
    /// Minify the HTML pages.
    #[serde(default = "default_true")]
    pub minify: bool,
    /// Repeat the table, row and column labels and the unit on every line of each
    /// report's `data.csv`. Off by default: the lines hold the keys, and each format's
    /// labels are published once, in `schemas/<format>.cells.csv` (the labels were three
    /// quarters of every report's CSV, a third of a large site's bytes).
    #[serde(default)]
    pub csv_labels: bool,
}

fn default_language() -> String {
    "zh-CN".to_owned()
}
fn default_theme() -> String {
    "default".to_owned()
}
fn default_true() -> bool {
    true
}

impl Config {
    /// Reads `portal.yaml` from the portal's root.
    pub fn load(root: &Path) -> Result<Config, Error> {
        let path = root.join(FILE_NAME);
        let display = FILE_NAME.to_owned();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Diagnostics(vec![
                    Diagnostic::error(
                        &path.display().to_string(),
                        Pos::default(),
                        format!("找不到门户配置文件 {}", path.display()),
                        format!("no portal settings file at {}", path.display()),
                    )
                    .with_help(
                        "在门户根目录运行，或用 --root 指定包含 portal.yaml 的目录",
                        "run in the portal's folder, or pass --root with the folder that holds portal.yaml",
                    ),
                ]));
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        serde_saphyr::from_str::<Config>(&text).map_err(|e| {
            let pos = e
                .location()
                .map(|l| Pos { line: l.line() as usize, column: l.column() as usize })
                .unwrap_or_default();
            let detail = e.without_snippet().to_string();
            Error::Diagnostics(vec![
                Diagnostic::error(
                    &display,
                    pos,
                    format!("门户配置无效：{detail}"),
                    format!("invalid portal settings: {detail}"),
                )
                .with_help(
                    "可用的设置：title、description、language、base_url、theme、theme_settings、allow_html、minify、csv_labels",
                    "known settings: title, description, language, base_url, theme, theme_settings, allow_html, minify, csv_labels",
                )
                .with_source(&text),
            ])
        })
    }
}
