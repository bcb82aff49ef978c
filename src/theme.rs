//! Themes: where a portal's templates and static files come from.
//!
//! A theme is a folder `themes/NAME/` with `templates/`, `static/` and a `theme.yaml`
//! (name, description, settings with defaults, and optionally `extends: OTHER` to inherit
//! every file it does not have). The bundled themes are also built into the binary, so a
//! portal without a themes/ folder builds. A portal may put its own `templates/` and
//! `static/` next to `content/`: a file there replaces the theme's file of the same name.
//! Theme settings (logo, colours, footer, links) are set in portal.yaml under
//! `theme_settings`, without touching templates.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use tera::Tera;

use crate::config::Config;
use crate::error::Error;
use crate::render::{Page, TEMPLATES};

include!(concat!(env!("OUT_DIR"), "/builtin_themes.rs"));

/// A theme ready to render: compiled templates, static files and settings.
pub struct Theme {
    /// The templates pages are rendered with: minified (see [`crate::htmlmin`]) when the
    /// portal asks for minified pages.
    pub(crate) tera: Tera,
    /// The templates as written, kept when `tera` holds minified ones: an error is reported
    /// from these, so that its line and column are those of the file.
    written: Option<Tera>,
    pub(crate) assets: Vec<Page>,
    /// Setting name → value (the portal's, else the theme's default), for templates as `theme`.
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Where each file came from, for messages (`templates/report.html` → a path or `<built-in>`).
    pub origins: BTreeMap<String, String>,
    /// The theme's words in the portal's language (templates use them through `t()`).
    pub words: Arc<crate::i18n::Translations>,
    /// A hash of everything above (every template and static file, the words, the
    /// settings): a page rendered with the same context by a theme with the same
    /// fingerprint is the same page.
    pub fingerprint: u64,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ThemeInfo {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A theme whose files this one inherits.
    #[serde(default)]
    pub extends: Option<String>,
    #[serde(default)]
    pub settings: BTreeMap<String, Setting>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    pub default: serde_json::Value,
    #[serde(default)]
    pub description: String,
}

/// One file of a theme: its content and where it came from.
struct File {
    content: Vec<u8>,
    origin: String,
}

/// Names of the bundled themes.
pub fn builtin_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = BUILTIN_THEMES.iter().map(|(t, _, _)| *t).collect();
    names.dedup();
    names
}

/// The files of theme `name`: the portal's `themes/NAME/` if it exists, else the bundled one.
fn theme_files(root: &Path, name: &str) -> Result<Option<BTreeMap<String, File>>, Error> {
    let dir = root.join("themes").join(name);
    if dir.is_dir() {
        return read_tree(&dir, &format!("themes/{name}")).map(Some);
    }
    let files: BTreeMap<String, File> = BUILTIN_THEMES
        .iter()
        .filter(|(t, _, _)| *t == name)
        .map(|(_, path, content)| {
            (
                (*path).to_owned(),
                File {
                    content: content.to_vec(),
                    origin: format!("<built-in {name}>/{path}"),
                },
            )
        })
        .collect();
    Ok((!files.is_empty()).then_some(files))
}

fn read_tree(dir: &Path, shown: &str) -> Result<BTreeMap<String, File>, Error> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::io(dir, e.into()))?;
        let name = entry.file_name().to_string_lossy();
        if !entry.file_type().is_file() || name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let rel = crate::load::rel_path(dir, entry.path());
        let content = std::fs::read(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        out.insert(
            rel.clone(),
            File {
                content,
                origin: format!("{shown}/{rel}"),
            },
        );
    }
    Ok(out)
}

fn parse_info(file: &File) -> Result<ThemeInfo, Error> {
    let text = String::from_utf8_lossy(&file.content);
    serde_saphyr::from_str::<ThemeInfo>(&text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        Error::Template(format!(
            "{}{at}: theme.yaml 无效 / invalid theme.yaml: {}",
            file.origin,
            e.without_snippet()
        ))
    })
}

/// A theme's files, its declared settings and its translations, after inheritance.
type Resolved = (
    BTreeMap<String, File>,
    BTreeMap<String, Setting>,
    crate::i18n::Files,
);

/// Resolves `name` and everything it extends into one set of files, plus its settings.
fn resolve(root: &Path, name: &str) -> Result<Resolved, Error> {
    let mut chain: Vec<String> = Vec::new();
    let mut layers = Vec::new();
    let mut next = Some(name.to_owned());
    while let Some(current) = next.take() {
        if chain.contains(&current) {
            return Err(Error::Template(format!(
                "主题继承出现循环：{} → {current}\ntheme inheritance loops: {} → {current}",
                chain.join(" → "),
                chain.join(" → ")
            )));
        }
        let Some(files) = theme_files(root, &current)? else {
            let mut known = builtin_names()
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>();
            if let Ok(dir) = std::fs::read_dir(root.join("themes")) {
                known.extend(
                    dir.filter_map(|e| e.ok())
                        .filter(|e| e.path().is_dir())
                        .map(|e| e.file_name().to_string_lossy().into_owned()),
                );
            }
            known.sort();
            known.dedup();
            return Err(Error::Usage(format!(
                "错误：找不到主题 {current}（portal.yaml 的 theme）\n  = 帮助：可用的主题：{}\nerror: no theme named {current}; available: {}",
                known.join("、"),
                known.join(", ")
            )));
        };
        let info = match files.get("theme.yaml") {
            Some(f) => parse_info(f)?,
            None => ThemeInfo {
                name: current.clone(),
                ..ThemeInfo::default()
            },
        };
        next = info.extends.clone();
        chain.push(current);
        layers.push((files, info.settings));
    }
    // The base theme first; each extending theme's files and settings win.
    let mut files = BTreeMap::new();
    let mut settings = BTreeMap::new();
    let mut words = crate::i18n::Files::new();
    for (f, s) in layers.into_iter().rev() {
        // Translation files are inherited key by key, not file by file.
        merge_words(&mut words, &f)?;
        files.extend(f);
        settings.extend(s);
    }
    Ok((files, settings, words))
}

/// Adds the translation files (`i18n/LANG.yaml`) among `files` to `words`, key by key.
fn merge_words(
    words: &mut crate::i18n::Files,
    files: &BTreeMap<String, File>,
) -> Result<(), Error> {
    for (rel, file) in files {
        if let Some(lang) = crate::i18n::file_lang(rel) {
            let text = String::from_utf8_lossy(&file.content);
            let map = crate::i18n::parse(&text, &file.origin)?;
            words.entry(lang.to_owned()).or_default().extend(map);
        }
    }
    Ok(())
}

impl Theme {
    /// Loads the theme portal.yaml names, with the portal's own overrides and settings.
    pub fn load(root: &Path, config: &Config) -> Result<Theme, Error> {
        let (mut files, declared, mut words) = resolve(root, &config.theme)?;
        // The portal's own translation files override the theme's words key by key.
        let own = root.join("i18n");
        if own.is_dir() {
            let own: BTreeMap<String, File> = read_tree(&own, "i18n")?
                .into_iter()
                .map(|(rel, f)| (format!("i18n/{rel}"), f))
                .collect();
            merge_words(&mut words, &own)?;
        }
        let words = Arc::new(crate::i18n::Translations::choose(&config.language, &words)?);
        for (dir, prefix) in [("templates", "templates/"), ("static", "static/")] {
            let own = root.join(dir);
            if own.is_dir() {
                for (rel, file) in read_tree(&own, dir)? {
                    files.insert(format!("{prefix}{rel}"), file);
                }
            }
        }

        let mut settings = serde_json::Map::new();
        for (key, s) in &declared {
            settings.insert(key.clone(), s.default.clone());
        }
        for (key, value) in &config.theme_settings {
            if !declared.contains_key(key) {
                let known: Vec<&str> = declared.keys().map(String::as_str).collect();
                return Err(Error::Usage(format!(
                    "错误：portal.yaml 的 theme_settings 中有未知的设置 `{key}`（主题 {} 的设置：{}）\nerror: unknown theme setting `{key}` in portal.yaml (theme {} has: {})",
                    config.theme,
                    known.join("、"),
                    config.theme,
                    known.join(", ")
                )));
            }
            settings.insert(key.clone(), value.clone());
        }

        let fingerprint = {
            use std::hash::{Hash, Hasher};
            let mut h = crate::fingerprint::hasher();
            for (rel, file) in &files {
                rel.hash(&mut h);
                file.content.hash(&mut h);
            }
            format!("{words:?}").hash(&mut h);
            serde_json::to_string(&settings)
                .unwrap_or_default()
                .hash(&mut h);
            h.finish()
        };
        let mut sources = Vec::new();
        let mut assets = Vec::new();
        let mut origins = BTreeMap::new();
        for (rel, file) in files {
            origins.insert(rel.clone(), file.origin.clone());
            if let Some(name) = rel.strip_prefix("templates/") {
                let text = String::from_utf8(file.content).map_err(|_| {
                    Error::Template(format!("{} 不是 UTF-8 文本 / is not UTF-8", file.origin))
                })?;
                sources.push((name.to_owned(), text));
            } else if rel.starts_with("static/") {
                assets.push(Page {
                    path: rel,
                    content: file.content,
                });
            }
        }
        crate::i18n::check_templates(&words, &sources)?;
        let compile = |sources: &[(String, String)]| {
            let mut tera = Tera::new();
            crate::render::register_filters(&mut tera);
            crate::i18n::register(&mut tera, words.clone());
            tera.add_raw_templates(sources.iter().map(|(n, t)| (n.as_str(), t.as_str())))
                .map_err(|e| template_error(&origins, e))?;
            Ok::<_, Error>(tera)
        };
        // Compiled as written first, so that a syntax error points into the file. Pages
        // are rendered from the templates with their words filled in (see
        // `i18n::fold_words`) and minified; an error is reported from those as written.
        let mut tera = compile(&sources)?;
        let rendering: Vec<(String, String)> = sources
            .iter()
            .map(|(n, t)| {
                let folded = crate::i18n::fold_words(&words, t);
                let text = if config.minify {
                    crate::htmlmin::template(&folded)
                } else {
                    folded
                };
                (n.clone(), text)
            })
            .collect();
        let mut written = None;
        if rendering != sources {
            written = Some(std::mem::replace(&mut tera, compile(&rendering)?));
        }
        for required in TEMPLATES {
            if !tera.contains_template(required) {
                return Err(Error::Template(format!(
                    "主题 {} 缺少模板 {required}\ntheme {} has no template {required}",
                    config.theme, config.theme
                )));
            }
        }
        Ok(Theme {
            tera,
            written,
            assets,
            settings,
            origins,
            words,
            fingerprint,
        })
    }

    /// A Tera error, with the file each template came from.
    pub fn error(&self, e: tera::Error) -> Error {
        template_error(&self.origins, e)
    }

    /// Renders template `name`. An error is reported as the templates as written give it
    /// (the minified ones would give other lines and columns).
    pub fn render(&self, name: &str, ctx: &tera::Context) -> Result<String, Error> {
        self.tera
            .render(name, ctx)
            .map_err(|e| self.render_error(name, ctx, e))
    }

    /// Renders template `name` to bytes: a page, which is not checked again for UTF-8 (its
    /// template and values are text already; the check was 3 % of a build).
    pub fn render_bytes(&self, name: &str, ctx: &tera::Context) -> Result<Vec<u8>, Error> {
        // Most pages fit: growing a page of 40 KB from a smaller buffer copied it twice.
        let mut out = Vec::with_capacity(64 * 1024);
        self.tera
            .render_to(name, ctx, &mut out)
            .map_err(|e| self.render_error(name, ctx, e))?;
        Ok(out)
    }

    fn render_error(&self, name: &str, ctx: &tera::Context, e: tera::Error) -> Error {
        let e = match &self.written {
            Some(written) => written.render(name, ctx).err().unwrap_or(e),
            None => e,
        };
        self.error(e)
    }
}

/// Tera's report names the template (`report.html:12:5`); add which file that is.
fn template_error(origins: &BTreeMap<String, String>, e: tera::Error) -> Error {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(&format!("\n{s}"));
        source = s.source();
    }
    let mut files: Vec<String> = origins
        .iter()
        .filter_map(|(rel, origin)| rel.strip_prefix("templates/").map(|name| (name, origin)))
        .filter(|(name, _)| msg.contains(&format!("{name}:")) || msg.contains(&format!("'{name}'")))
        .map(|(name, origin)| format!("  {name} = {origin}"))
        .collect();
    files.dedup();
    if !files.is_empty() {
        msg.push_str(&format!(
            "\n模板文件 / template files:\n{}",
            files.join("\n")
        ));
    }
    Error::Template(msg)
}

/// Copies theme `name` (with what it extends) into `root/themes/NAME/` for full
/// customisation. Refuses to overwrite any existing file.
pub fn eject(root: &Path, name: &str) -> Result<Vec<PathBuf>, Error> {
    let target = root.join("themes").join(name);
    if target.exists() {
        return Err(Error::Usage(format!(
            "错误：{} 已存在，不会覆盖。\nerror: {} already exists; not overwriting it.",
            target.display(),
            target.display()
        )));
    }
    let mut files = Vec::new();
    let mut chain = Vec::new();
    let mut next = Some(name.to_owned());
    let mut merged: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    while let Some(current) = next.take() {
        if chain.contains(&current) {
            break;
        }
        let layer: BTreeMap<String, Vec<u8>> = BUILTIN_THEMES
            .iter()
            .filter(|(t, _, _)| *t == current)
            .map(|(_, p, c)| ((*p).to_owned(), c.to_vec()))
            .collect();
        if layer.is_empty() {
            return Err(Error::Usage(format!(
                "错误：没有名为 {current} 的内置主题\nerror: no built-in theme named {current}"
            )));
        }
        next = layer
            .get("theme.yaml")
            .and_then(|y| serde_saphyr::from_str::<ThemeInfo>(&String::from_utf8_lossy(y)).ok())
            .and_then(|i| i.extends);
        for (p, c) in layer {
            merged.entry(p).or_insert(c);
        }
        chain.push(current);
    }
    // The ejected copy stands alone: it no longer extends anything, and it declares the
    // settings of the themes it extended (the bundled theme.yaml files end with `settings:`).
    let settings_of = |theme: &str| -> String {
        BUILTIN_THEMES
            .iter()
            .find(|(t, p, _)| *t == theme && *p == "theme.yaml")
            .map(|(_, _, c)| String::from_utf8_lossy(c).into_owned())
            .and_then(|text| {
                text.split_once("\nsettings:\n")
                    .map(|(_, rest)| rest.to_owned())
            })
            .unwrap_or_default()
    };
    if let Some(yaml) = merged.get_mut("theme.yaml") {
        let mut text = String::from_utf8_lossy(yaml)
            .lines()
            .filter(|l| !l.trim_start().starts_with("extends:"))
            .collect::<Vec<_>>()
            .join("\n");
        text.push('\n');
        if !text.contains("\nsettings:\n") {
            text.push_str("settings:\n");
        }
        // Each setting is a block starting with a line indented by two spaces; a
        // descendant's own declaration of a setting wins over its ancestors'.
        let mut declared: Vec<String> = serde_saphyr::from_str::<ThemeInfo>(&text)
            .map(|i| i.settings.into_keys().collect())
            .unwrap_or_default();
        for ancestor in chain.iter().skip(1) {
            let block = settings_of(ancestor);
            let mut keep = false;
            for line in block.lines() {
                let starts_entry = line.starts_with("  ") && !line.starts_with("   ");
                if starts_entry {
                    let key = line.trim().trim_end_matches(':').to_owned();
                    keep = !declared.contains(&key);
                    if keep {
                        declared.push(key);
                    }
                }
                if keep {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
        *yaml = text.into_bytes();
    }
    for (rel, content) in merged {
        let path = target.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        std::fs::write(&path, content).map_err(|e| Error::io(&path, e))?;
        files.push(path);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_theme_is_built_in_with_every_template() {
        assert!(builtin_names().contains(&"default"));
        for t in TEMPLATES {
            let path = format!("templates/{t}");
            assert!(
                BUILTIN_THEMES
                    .iter()
                    .any(|(n, p, _)| *n == "default" && *p == path),
                "{path}"
            );
        }
    }
}
