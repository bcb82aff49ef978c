//! The theme's own words in the portal's language.
//!
//! Each theme ships translation files `i18n/LANG.yaml` (flat `key: text` maps, with
//! `{name}` placeholders); a theme that `extends` another inherits its files key by key,
//! and a portal's own `i18n/LANG.yaml` next to `content/` overrides keys or adds a
//! language. Templates print a word with `{{ t(key="nav.home") }}` (placeholders as more
//! arguments: `t(key="index.count", reports=3)`); an unknown key fails the build.
//! Official table labels are not translated: they are content, with the format's English
//! label as a second line in a non-Chinese interface.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::Error;

/// Language of the built-in words every theme has: used when no file fits better.
pub const DEFAULT: &str = "zh-CN";
/// Language whose words fill keys a portal's own language file leaves out.
pub const FALLBACK: &str = "en";

/// The words of one language, after inheritance and the portal's overrides.
#[derive(Debug, Clone, Default)]
pub struct Translations {
    /// The language of the words (`zh-CN`, `en`, or a portal's own).
    pub lang: String,
    words: BTreeMap<String, String>,
}

/// Language → key → text, as read from the translation files.
pub type Files = BTreeMap<String, BTreeMap<String, String>>;

impl Translations {
    /// Picks the language for `requested` (portal.yaml `language`) among `files`, and
    /// merges the words: the language's own, then English for keys it lacks.
    pub fn choose(requested: &str, files: &Files) -> Result<Translations, Error> {
        let Some(lang) = pick(requested, files.keys().map(String::as_str)) else {
            let known: Vec<&str> = files.keys().map(String::as_str).collect();
            return Err(Error::Usage(format!(
                "错误：主题没有语言 {requested} 的翻译文件（portal.yaml 的 language）\n  = 帮助：已有的语言：{}；可在门户根目录添加 i18n/{requested}.yaml\nerror: no translation file for language {requested} (portal.yaml `language`); available: {}; a portal may add i18n/{requested}.yaml",
                known.join("、"),
                known.join(", ")
            )));
        };
        let mut words = BTreeMap::new();
        if lang != DEFAULT
            && let Some(base) = files.get(FALLBACK)
        {
            words.extend(base.clone());
        }
        words.extend(files[&lang].clone());
        Ok(Translations { lang, words })
    }

    /// The built-in default theme's words in `lang` (for code that has no theme).
    pub fn builtin(lang: &str) -> Translations {
        let mut files = Files::new();
        for (theme, path, content) in crate::theme::BUILTIN_THEMES {
            if let (true, Some(l)) = (*theme == "default", file_lang(path))
                && let Ok(map) = parse(&String::from_utf8_lossy(content), path)
            {
                files.insert(l.to_owned(), map);
            }
        }
        Translations::choose(lang, &files).unwrap_or_default()
    }

    /// The text of `key`, if there is one.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.words.get(key).map(String::as_str)
    }

    /// The text of `key` with `{name}` placeholders filled; the key itself when unknown
    /// (for Rust callers, whose keys are tested; templates get an error instead).
    pub fn text(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.get(key).unwrap_or(key).to_owned();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// True for a Chinese interface: official labels need no second language there.
    pub fn is_chinese(&self) -> bool {
        self.lang.to_ascii_lowercase().starts_with("zh")
    }
}

/// The available language that fits a BCP 47 tag: the same tag; Chinese (`zh`, `zh-Hans`,
/// `zh-CN` …) → `zh-CN`; else the same primary language (`en-US` → `en`).
pub fn pick<'a>(
    requested: &str,
    available: impl Iterator<Item = &'a str> + Clone,
) -> Option<String> {
    let req = requested.trim().to_ascii_lowercase().replace('_', "-");
    if let Some(l) = available.clone().find(|l| l.to_ascii_lowercase() == req) {
        return Some(l.to_owned());
    }
    let primary = req.split('-').next().unwrap_or_default();
    let simplified = primary == "zh"
        && !["hant", "tw", "hk", "mo"]
            .iter()
            .any(|s| req.split('-').skip(1).any(|p| p == *s));
    if simplified && let Some(l) = available.clone().find(|l| *l == DEFAULT) {
        return Some(l.to_owned());
    }
    // A language whose every subtag the request has (`zh-Hant-TW` → `zh-TW`), else any of
    // the same primary language.
    let parts: Vec<&str> = req.split('-').collect();
    let same_primary = |l: &&str| l.to_ascii_lowercase().split('-').next() == Some(primary);
    available
        .clone()
        .filter(same_primary)
        .find(|l| {
            l.to_ascii_lowercase()
                .split('-')
                .all(|p| parts.contains(&p))
        })
        .or_else(|| available.clone().find(same_primary))
        .map(str::to_owned)
}

/// Reads one translation file: a flat map from key to text.
pub fn parse(text: &str, origin: &str) -> Result<BTreeMap<String, String>, Error> {
    serde_saphyr::from_str::<BTreeMap<String, String>>(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        Error::Template(format!(
            "{origin}{at}: 翻译文件无效（应为“键: 文字”的列表） / invalid translation file (a flat map of key: text): {}",
            e.without_snippet()
        ))
    })
}

/// The language of a translation file path (`i18n/en.yaml` → `en`).
pub fn file_lang(rel: &str) -> Option<&str> {
    rel.strip_prefix("i18n/")?
        .strip_suffix(".yaml")
        .or_else(|| rel.strip_prefix("i18n/")?.strip_suffix(".yml"))
        .filter(|l| !l.contains('/') && !l.is_empty())
}

/// Keys written literally in templates (`t(key="nav.home")`) that have no text: found
/// before rendering, so that a misspelt key fails every build, not only pages that use it.
pub fn check_templates(tr: &Translations, sources: &[(String, String)]) -> Result<(), Error> {
    let mut missing = Vec::new();
    for (name, text) in sources {
        for (line_no, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("t(key=") {
                let before_ok = at == 0 || {
                    let c = rest.as_bytes()[at - 1];
                    !(c.is_ascii_alphanumeric() || c == b'_')
                };
                rest = &rest[at + 6..];
                let quote = rest.chars().next();
                if !before_ok || !matches!(quote, Some('"' | '\'')) {
                    continue;
                }
                let q = quote.unwrap_or('"');
                let Some(end) = rest[1..].find(q) else {
                    continue;
                };
                let key = &rest[1..=end];
                // A computed key (`"kind." ~ k`) is checked when the page renders.
                let computed = rest[end + 2..].trim_start().starts_with('~');
                if !computed && tr.get(key).is_none() {
                    missing.push(format!("  {name}:{}: {key}", line_no + 1));
                }
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::Template(format!(
        "模板使用了翻译文件（语言 {}）中没有的键：\nerror: templates use keys missing from the translation files (language {}):\n{}",
        tr.lang,
        tr.lang,
        missing.join("\n")
    )))
}

/// The template with each `{{ t(key="…", name=value …) }}` that names its word literally
/// replaced by what the call prints, as the language is fixed for a build: the word's text,
/// with each placeholder given a value as `{{ (value) | t_value }}` (the filter fills it as
/// `t` does). A call costs microseconds (Tera builds its arguments into a map, `t` looks
/// the word up), a placeholder filled by the filter a tenth of that, and a page makes
/// dozens of calls (navigation, headings, labels, counts). Calls with computed keys,
/// inside `{% raw %}` or comments, with whitespace control (`{{-`), followed by a filter,
/// or of a key without a text (an error when the page renders) stay.
pub fn fold_words(tr: &Translations, source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // The length of what is copied as it is: a comment, a tag (a raw block whole),
        // an expression that is not folded, or a lone brace. An unclosed one (which
        // does not compile) ends the scan.
        let keep = match rest.as_bytes().get(1) {
            Some(b'#') => rest.find("#}").map(|e| e + 2),
            Some(b'%') => tag_end(rest, "%}").map(|end| {
                if tag_name(&rest[..end]) == "raw" {
                    raw_end(rest, end).unwrap_or(rest.len())
                } else {
                    end
                }
            }),
            Some(b'{') => tag_end(rest, "}}").map(|end| {
                let folded = literal_call(&rest[2..end - 2])
                    .and_then(|(key, args)| Some((tr.get(key)?, args)))
                    .filter(|_| !out.ends_with('{'))
                    .and_then(|(text, args)| folded_call(text, &args));
                match folded {
                    Some(folded) => {
                        out.push_str(&folded);
                        rest = &rest[end..];
                        0
                    }
                    None => end,
                }
            }),
            _ => Some(1),
        };
        let keep = keep.unwrap_or(rest.len());
        out.push_str(&rest[..keep]);
        rest = &rest[keep..];
    }
    out.push_str(rest);
    out
}

/// What `{{ t(…) }}` of `text` with `args` prints, as template source: the literal parts
/// (kept from being read as Tera when they hold a brace) and a filtered expression per
/// placeholder given. `None` when a part cannot be kept literal.
fn folded_call(text: &str, args: &[(&str, &str)]) -> Option<String> {
    let parts = Word::split(text);
    // A call whose arguments are not all placeholders of the word stays a call: Tera
    // evaluates every argument (a broken one is an error) and a folded call would not.
    if !args
        .iter()
        .all(|(name, _)| parts.iter().skip(1).step_by(2).any(|p| p == name))
    {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 32);
    // Literal text, up to the next filled placeholder.
    let mut literal = String::new();
    let flush = |out: &mut String, literal: &mut String| -> Option<()> {
        if literal.contains("endraw") {
            return None;
        }
        if literal.contains('{') {
            out.push_str("{% raw %}");
            out.push_str(literal);
            out.push_str("{% endraw %}");
        } else {
            out.push_str(literal);
        }
        literal.clear();
        Some(())
    };
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 0 {
            literal.push_str(part);
            continue;
        }
        // `key` names the word itself: `{key}` in a text is not filled with it.
        match args.iter().find(|(name, _)| name == part && *name != "key") {
            Some((_, value)) => {
                flush(&mut out, &mut literal)?;
                out.push_str("{{ (");
                out.push_str(value);
                out.push_str(") | t_value }}");
            }
            None => {
                literal.push('{');
                literal.push_str(part);
                literal.push('}');
            }
        }
    }
    flush(&mut out, &mut literal)?;
    Some(out)
}

/// The key and the other arguments (`name`, expression as written) of an expression that
/// is exactly a call `t(key="key", name=value …)` (the key quoted with `"` or `'`).
fn literal_call(expr: &str) -> Option<(&str, Vec<(&str, &str)>)> {
    if expr.starts_with('-') || expr.ends_with('-') {
        return None;
    }
    let inner = expr.trim().strip_prefix("t(")?;
    // The call's closing parenthesis must end the expression.
    let close = closing_paren(inner)?;
    if !inner[close + 1..].trim().is_empty() {
        return None;
    }
    let mut key = None;
    let mut args = Vec::new();
    let pieces = split_args(&inner[..close])?;
    for piece in pieces {
        let eq = piece.find('=')?;
        let (name, value) = (piece[..eq].trim(), piece[eq + 1..].trim());
        if name.is_empty()
            || !name.chars().all(|c| c.is_alphanumeric() || c == '_')
            || value.is_empty()
            || value.starts_with('=')
        {
            return None;
        }
        if name == "key" {
            let q = value.chars().next().filter(|c| matches!(c, '"' | '\''))?;
            let k = value.strip_prefix(q)?.strip_suffix(q)?;
            if k.contains(['"', '\'', '\\']) || key.is_some() {
                return None;
            }
            key = Some(k);
        } else {
            args.push((name, value));
        }
    }
    Some((key?, args))
}

/// What [`scan`] finds in an expression's text.
struct Scan {
    /// The commas outside strings and brackets.
    commas: Vec<usize>,
    /// The first closing bracket that closes none opened in the text.
    end: Option<usize>,
    /// Whether a string or bracket is still open at the end.
    open: bool,
}

/// Reads `src` byte by byte, keeping track of strings and brackets (enough of Tera's
/// syntax to find a call's arguments).
fn scan(src: &str) -> Scan {
    let (mut depth, mut quote) = (0usize, None);
    let mut commas = Vec::new();
    for (i, c) in src.bytes().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'"' | b'\'' | b'`' => quote = Some(c),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' if depth == 0 => {
                    return Scan {
                        commas,
                        end: Some(i),
                        open: false,
                    };
                }
                b')' | b']' | b'}' => depth -= 1,
                b',' if depth == 0 => commas.push(i),
                _ => {}
            },
        }
    }
    Scan {
        commas,
        end: None,
        open: quote.is_some() || depth != 0,
    }
}

/// Where the parenthesis that `src` is inside closes (outside strings), by byte.
fn closing_paren(src: &str) -> Option<usize> {
    scan(src).end.filter(|&i| src.as_bytes()[i] == b')')
}

/// A call's arguments split at the commas between them (outside strings and brackets);
/// `None` for an empty argument (other than after the last comma).
fn split_args(src: &str) -> Option<Vec<&str>> {
    let found = scan(src);
    if found.end.is_some() || found.open {
        return None;
    }
    let mut out = Vec::new();
    let mut start = 0;
    for &comma in &found.commas {
        out.push(&src[start..comma]);
        start = comma + 1;
    }
    let last = &src[start..];
    if !last.trim().is_empty() {
        out.push(last);
    }
    (!out.iter().any(|p| p.trim().is_empty())).then_some(out)
}

/// The end of the tag that starts `src` (with `{{` or `{%`): past the first `close`
/// outside a string.
fn tag_end(src: &str, close: &str) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut quote = None;
    let mut i = 2;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, b'"' | b'\'' | b'`') => quote = Some(c),
            None if bytes[i..].starts_with(close.as_bytes()) => return Some(i + close.len()),
            None => {}
        }
        i += 1;
    }
    None
}

/// The statement of a `{% … %}` tag, without its whitespace control: `raw`, `endraw` …
fn tag_name(tag: &str) -> &str {
    tag[2..tag.len() - 2].trim_matches('-').trim()
}

/// The end of the `{% endraw %}` that closes the raw block opened by `src[..open]`.
fn raw_end(src: &str, open: usize) -> Option<usize> {
    let mut from = open;
    while let Some(at) = src[from..].find("{%") {
        let start = from + at;
        let end = start + tag_end(&src[start..], "%}")?;
        if tag_name(&src[start..end]) == "endraw" {
            return Some(end);
        }
        from = end;
    }
    None
}

/// Registers `t(key=…, name=value …)`, the filter `zh` and the globals `ui_lang` (the
/// words' language) and `ui_chinese`.
pub fn register(tera: &mut tera::Tera, tr: Arc<Translations>) {
    tera.global_context().insert("ui_lang", &tr.lang);
    // In a Chinese interface the page's own language says it: `zh` leaves the text as it is.
    let chinese = tr.is_chinese();
    tera.global_context().insert("ui_chinese", &chinese);
    // Every page calls `t` dozens of times (8 % of a build's CPU at 10,000 reports when
    // each call looked its text up in a tree and filled placeholders with `replace`): the
    // words are split at their placeholders once, and a word without any is a ready value.
    let words: std::collections::HashMap<String, Word> = tr
        .words
        .iter()
        .map(|(k, text)| (k.clone(), Word::new(text)))
        .collect();
    tera.register_function(
        "t",
        move |kwargs: tera::Kwargs, _: &tera::State| -> tera::TeraResult<tera::Value> {
            let key: &str = kwargs.must_get("key")?;
            let Some(word) = words.get(key) else {
                return Err(tera::Error::message(format!(
                    "翻译文件（语言 {lang}）中没有键 `{key}` / no key `{key}` in the translation files (language {lang})",
                    lang = tr.lang,
                )));
            };
            // The words are the theme's (trusted, may hold simple markup); the values
            // put into them are escaped.
            word.fill(&kwargs)
        },
    );
    // A placeholder of a folded call (see `fold_words`), filled as `t` fills it.
    tera.register_filter(
        "t_value",
        |v: &tera::Value, _: tera::Kwargs, _: &tera::State| -> tera::Value {
            let mut out = String::new();
            push_value(&mut out, v);
            tera::Value::safe_string(&out)
        },
    );
    // `{{ report.title | zh }}`: Chinese content (official labels, the reports' own words)
    // marked as such, so that browsers and screen readers read it right in any interface.
    tera.register_filter(
        "zh",
        move |v: &tera::Value, _: tera::Kwargs, _: &tera::State| -> tera::Value {
            let text = match v.as_str() {
                Some(s) if v.is_safe() => s.to_owned(),
                Some(s) => escape(s),
                None => escape(&v.to_string()),
            };
            if chinese {
                return tera::Value::safe_string(&text);
            }
            tera::Value::safe_string(&format!("<span lang=\"zh-CN\">{text}</span>"))
        },
    );
}

use crate::html::{escape, escape_into};

/// A word split at its `{name}` placeholders, for the templates' `t`.
struct Word {
    /// The whole text as a safe value, for the words without placeholders.
    plain: tera::Value,
    /// Literal text and placeholder names, alternating: `[text, name, text, …]`.
    parts: Vec<String>,
}

impl Word {
    fn new(text: &str) -> Word {
        Word {
            plain: tera::Value::safe_string(text),
            parts: Word::split(text),
        }
    }

    /// Literal text and placeholder names, alternating: `[text, name, text, …]`.
    fn split(text: &str) -> Vec<String> {
        let mut parts = Vec::new();
        let mut rest = text;
        loop {
            // A placeholder is `{name}` with a name of letters, digits and `_`.
            let found = rest.match_indices('{').find_map(|(at, _)| {
                let len = rest[at + 1..].find('}')?;
                let name = &rest[at + 1..at + 1 + len];
                (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
                    .then_some((at, name))
            });
            let Some((at, name)) = found else {
                parts.push(rest.to_owned());
                return parts;
            };
            parts.push(rest[..at].to_owned());
            parts.push(name.to_owned());
            rest = &rest[at + name.len() + 2..];
        }
    }

    /// The text with each placeholder given in `kwargs` filled (see [`push_value`]); a
    /// placeholder not given stays as written.
    fn fill(&self, kwargs: &tera::Kwargs) -> tera::TeraResult<tera::Value> {
        if self.parts.len() == 1 {
            return Ok(self.plain.clone());
        }
        let mut out = String::with_capacity(self.parts.iter().map(String::len).sum::<usize>() + 32);
        for (i, part) in self.parts.iter().enumerate() {
            if i % 2 == 0 {
                out.push_str(part);
                continue;
            }
            // `key` names the word itself; `{key}` in a text is not filled with it.
            let given = match part.as_str() {
                "key" => None,
                name => kwargs.get::<&tera::Value>(name)?,
            };
            match given {
                Some(value) => push_value(&mut out, value),
                None => {
                    out.push('{');
                    out.push_str(part);
                    out.push('}');
                }
            }
        }
        Ok(tera::Value::safe_string(&out))
    }
}

/// Appends a value as a placeholder shows it: escaped unless it is marked safe (the words
/// are the theme's, trusted and may hold simple markup; the values put into them are not).
/// `t` fills its placeholders with it, and the filter `t_value` (what folded calls use,
/// see [`fold_words`]) prints a value with it.
fn push_value(out: &mut String, value: &tera::Value) {
    // Numbers (years, counts) without the formatting machinery.
    if let Some(n) = value.as_i64() {
        push_int(out, n);
        return;
    }
    let shown = value
        .as_str()
        .map_or_else(|| value.to_string().into(), std::borrow::Cow::Borrowed);
    if value.is_safe() {
        out.push_str(&shown);
    } else {
        escape_into(out, &shown);
    }
}

/// Appends `n` in decimal digits.
fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    crate::decimal::push_digits(out, n.unsigned_abs().into());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(pairs: &[(&str, &str)]) -> Translations {
        Translations {
            lang: "zh-CN".into(),
            words: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn constant_words_are_folded_into_the_template() {
        let tr = words(&[
            ("nav.home", "首页"),
            ("a.b", "<b>粗</b>"),
            ("p.x", "括号{text}"),
            ("p.y", "{a}{b}{key}"),
            ("brace", "{{ x }}"),
        ]);
        let fold = |src: &str| fold_words(&tr, src);
        // A call with a literal key and nothing else becomes its text, markup and all.
        assert_eq!(fold(r#"<a>{{ t(key="nav.home") }}</a>"#), "<a>首页</a>");
        assert_eq!(fold(r#"{{t( key = 'a.b' )}}"#), "<b>粗</b>");
        assert_eq!(
            fold(r#"<p title="{{ t(key="nav.home") }}">"#),
            r#"<p title="首页">"#
        );
        // A text with braces is kept from being read as Tera.
        assert_eq!(
            fold(r#"{{ t(key="p.x") }}"#),
            "{% raw %}括号{text}{% endraw %}"
        );
        assert_eq!(
            fold(r#"{{ t(key="brace") }}"#),
            "{% raw %}{{ x }}{% endraw %}"
        );
        // Placeholders become expressions that print their values as `t` does.
        assert_eq!(
            fold(r#"{{ t(key="p.x", text=a.b | zh) }}"#),
            "括号{{ (a.b | zh) | t_value }}"
        );
        assert_eq!(
            fold(r#"{{ t(key="p.x", text=t(key="kind." ~ k, n=f(a, b)),) }}"#),
            r#"括号{{ (t(key="kind." ~ k, n=f(a, b))) | t_value }}"#
        );
        assert_eq!(
            fold(r#"{{ t(key="p.x", text="),(" ~ a == b) }}"#),
            r#"括号{{ ("),(" ~ a == b) | t_value }}"#
        );
        // A placeholder without an argument stays.
        assert_eq!(
            fold(r#"{{ t(key="p.y", a=x) }}"#),
            "{{ (x) | t_value }}{% raw %}{b}{key}{% endraw %}"
        );
        // Everything else stays as written.
        for kept in [
            r#"{{ t(key="p.x", text=a) ~ "}" }}"#,
            // An argument that is not a placeholder is still evaluated by the call.
            r#"{{ t(key="nav.home", n=3) }}"#,
            r#"{{ t(key="p.x", text=a, other=b) }}"#,
            r#"{{ t(key="p.x", text=a) | upper }}"#,
            r#"{{ t(key="p.x", key="p.x") }}"#,
            r#"{{ t(key="p.x", text) }}"#,
            r#"{{ t(key="p.x", , text=a) }}"#,
            r#"{{ t(key="kind." ~ k) }}"#,
            r#"{{- t(key="nav.home") }}"#,
            r#"{{ t(key="nav.home") -}}"#,
            r#"{{ t(key="missing") }}"#,
            r#"{{ t(key="nav.home") | upper }}"#,
            r#"{# {{ t(key="nav.home") }} #}"#,
            r#"{% raw %}{{ t(key="nav.home") }}{% endraw %}"#,
            r#"{%- raw -%}{{ t(key="nav.home") }}{%- endraw -%}"#,
            r#"{% set x = t(key="nav.home") %}"#,
            r#"{% if a == "}}" %}{{ b }}{% endif %}"#,
            "{ 中文 {{ 未闭合",
        ] {
            assert_eq!(fold(kept), kept);
        }
        // After a raw block, folding goes on.
        assert_eq!(
            fold(r#"{% raw %}{{ t(key="nav.home") }}{% endraw %}{{ t(key="nav.home") }}"#),
            r#"{% raw %}{{ t(key="nav.home") }}{% endraw %}首页"#
        );
    }

    /// The default theme renders the same with its words folded in as with `t()`.
    #[test]
    fn folded_templates_render_as_the_calls_do() {
        let tr = Arc::new(Translations::builtin("zh-CN"));
        // Placeholders given numbers, text with markup, safe text, nothing, a list, a
        // nested call, an expression with a filter.
        let src = concat!(
            r#"<nav aria-label="{{ t(key="nav.label") }}">{{ t(key="nav.home") }}·{{ t(key="common.paren") }}</nav>"#,
            r#"{{ t(key="common.year", year=y) }}{{ t(key="common.year", year=-3) }}{{ t(key="common.year", year=1.5) }}"#,
            r#"{{ t(key="common.paren", text=s) }}{{ t(key="common.paren", text=s | safe) }}{{ t(key="common.paren", text=none) }}"#,
            r#"{{ t(key="common.paren", text=list) }}{{ t(key="common.paren", text=t(key="common.year", year=y)) }}"#,
            r#"{{ t(key="common.paren", text=s ~ "）" | upper) }}"#,
        );
        let render = |text: &str| {
            let mut tera = tera::Tera::new();
            register(&mut tera, tr.clone());
            tera.add_raw_template("x.html", text).expect("compiles");
            let mut ctx = tera::Context::new();
            ctx.insert("y", &2024);
            ctx.insert("s", "<b>甲 & \"乙\"</b>");
            ctx.insert("list", &[1, 2]);
            tera.render("x.html", &ctx).expect("renders")
        };
        assert_eq!(render(&fold_words(&tr, src)), render(src));
        assert_ne!(fold_words(&tr, src), src);
    }

    #[test]
    fn words_fill_their_placeholders() {
        let fill = |text: &str, args: Vec<(&'static str, tera::Value)>| {
            let kwargs = tera::Kwargs::new(Arc::new(
                args.into_iter()
                    .map(|(k, v)| (tera::value::Key::Str(k), v))
                    .collect(),
            ));
            Word::new(text)
                .fill(&kwargs)
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .expect("filled")
        };
        assert_eq!(fill("首页", vec![]), "首页");
        assert_eq!(
            fill(
                "{year}年 {n} 份",
                vec![("year", 2024.into()), ("n", 3.into())]
            ),
            "2024年 3 份"
        );
        assert_eq!(
            fill(
                "{a}/{b}/{c}",
                vec![
                    ("a", 0.into()),
                    ("b", (-120).into()),
                    ("c", i64::MIN.into())
                ]
            ),
            "0/-120/-9223372036854775808"
        );
        // Values are escaped unless marked safe; the word's own markup is kept.
        assert_eq!(
            fill(
                "<b>{a}</b>{b}",
                vec![
                    ("a", "<i>".into()),
                    ("b", tera::Value::safe_string("<i>x</i>"))
                ]
            ),
            "<b>&lt;i&gt;</b><i>x</i>"
        );
        // Placeholders not given, `{key}`, and braces that are not placeholders stay.
        assert_eq!(
            fill("{missing} {key} { x} {} {a", vec![("key", "k".into())]),
            "{missing} {key} { x} {} {a"
        );
        assert_eq!(fill("{a}{a}", vec![("a", "1".into())]), "11");
    }

    #[test]
    fn picks_languages_with_fallback() {
        let avail = ["en", "zh-CN"];
        let p = |r: &str| pick(r, avail.iter().copied());
        assert_eq!(p("zh-CN").as_deref(), Some("zh-CN"));
        assert_eq!(p("zh").as_deref(), Some("zh-CN"));
        assert_eq!(p("zh-Hans").as_deref(), Some("zh-CN"));
        assert_eq!(p("en-US").as_deref(), Some("en"));
        assert_eq!(p("EN").as_deref(), Some("en"));
        assert_eq!(p("fr"), None);
        // No Traditional Chinese file: the same primary language is still the best fit.
        assert_eq!(p("zh-Hant-TW").as_deref(), Some("zh-CN"));
        assert_eq!(
            pick("zh-Hant-TW", ["zh-CN", "zh-TW"].into_iter()).as_deref(),
            Some("zh-TW")
        );
        assert_eq!(file_lang("i18n/en.yaml"), Some("en"));
        assert_eq!(file_lang("templates/x.yaml"), None);
    }
}
