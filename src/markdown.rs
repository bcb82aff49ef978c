//! Markdown stage: split a report body into its numbered sections, find where tables go,
//! and render the prose to HTML with pulldown-cmark.
//!
//! Sections are found by the Chinese ordinal that starts a heading (一、 … 六、), as the
//! headings' wording varies between reports. A table goes where the author writes a
//! marker line `{{ table KEY }}` (KEY is the table's key or its section's ordinal); a
//! table without a marker goes at the end of its section, which is added when missing.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Serialize;

use crate::error::Diagnostic;
use crate::schema::Schema;
use crate::yaml::Pos;

/// A piece of a section: prose, or the place of a table.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    Html {
        html: String,
        /// The text ends with a signature: a short last paragraph with a date (`…日`), which
        /// themes set apart (see [`ends_with_signature`]).
        signed: bool,
    },
    Table {
        key: String,
    },
}

/// Whether prose ends with its signature: the last paragraph ends with `日` and is short
/// (fewer than 24 characters with its closing tag), like `2024年1月31日`. Worked out here
/// rather than in the template, which split every report's text to find it.
pub fn ends_with_signature(html: &str) -> bool {
    let last = html.trim().rsplit("<p>").next().unwrap_or_default();
    last.ends_with("日</p>") && last.chars().count() < 24
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// 一, 二 … ; empty for text before the first numbered heading.
    pub ordinal: String,
    /// The heading as the author wrote it, without the `#`s.
    pub heading: String,
    /// The schema's key for this section, when the heading matches one.
    pub key: Option<String>,
    /// `id` of the heading on the page.
    pub anchor: String,
    /// True when the author did not write this section and it was added for its table.
    pub added: bool,
    pub parts: Vec<Part>,
}

const ORDINALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

/// Splits and renders a report body. Problems (unknown table markers) point into the file.
pub fn render_body(
    file: &str,
    body: &str,
    body_line: usize,
    schema: &Schema,
    allow_html: bool,
) -> Result<Vec<Section>, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut sections: Vec<Section> = Vec::new();
    let mut current = Section {
        ordinal: String::new(),
        heading: String::new(),
        key: None,
        anchor: "preamble".into(),
        added: false,
        parts: Vec::new(),
    };
    let mut chunk = String::new();
    let mut placed: Vec<String> = Vec::new();
    let mut in_fence = false;

    let flush = |chunk: &mut String, section: &mut Section| {
        if !chunk.trim().is_empty() {
            let html = to_html(chunk, allow_html);
            section.parts.push(Part::Html {
                signed: ends_with_signature(&html),
                html,
            });
        }
        chunk.clear();
    };

    for (i, line) in body.split_inclusive('\n').enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
        }
        if !in_fence {
            if let Some(name) = marker(trimmed) {
                flush(&mut chunk, &mut current);
                match schema.table_by_key_or_ordinal(name) {
                    Some(t) if !placed.contains(&t.key) => {
                        placed.push(t.key.clone());
                        current.parts.push(Part::Table { key: t.key.clone() });
                    }
                    Some(t) => problems.push(marker_problem(
                        file,
                        body_line + i,
                        line,
                        format!("表格 `{}` 已经放置过一次", t.key),
                        format!("table `{}` is placed twice", t.key),
                        "删除重复的标记行".into(),
                        "remove the repeated marker line".into(),
                    )),
                    None => {
                        let keys: Vec<&str> =
                            schema.tables.iter().map(|t| t.key.as_str()).collect();
                        let (zh, en) = if keys.is_empty() {
                            (
                                format!("格式 {} 没有表格，请删除此标记行", schema.id),
                                format!(
                                    "format {} has no tables; remove this marker line",
                                    schema.id
                                ),
                            )
                        } else {
                            (
                                format!("可用的表格：{}", keys.join("、")),
                                format!("known tables: {}", keys.join(", ")),
                            )
                        };
                        problems.push(marker_problem(
                            file,
                            body_line + i,
                            line,
                            format!("未知的表格 `{name}`"),
                            format!("unknown table `{name}`"),
                            zh,
                            en,
                        ));
                    }
                }
                continue;
            }
            if let Some((ordinal, heading)) = numbered_heading(trimmed) {
                flush(&mut chunk, &mut current);
                let key = schema
                    .sections
                    .iter()
                    .find(|s| s.ordinal == ordinal)
                    .map(|s| s.key.clone());
                let next = Section {
                    anchor: format!("s{}", sections.len() + 1),
                    ordinal: ordinal.to_owned(),
                    heading: heading.to_owned(),
                    key,
                    added: false,
                    parts: Vec::new(),
                };
                sections.push(std::mem::replace(&mut current, next));
                continue;
            }
        }
        chunk.push_str(line);
    }
    flush(&mut chunk, &mut current);
    sections.push(current);
    if sections.first().is_some_and(|s| s.parts.is_empty()) {
        sections.remove(0);
    }

    // Tables without a marker go at the end of their section.
    for table in &schema.tables {
        if placed.contains(&table.key) {
            continue;
        }
        let part = Part::Table {
            key: table.key.clone(),
        };
        if let Some(s) = sections.iter_mut().find(|s| s.ordinal == table.section) {
            s.parts.push(part);
            continue;
        }
        let rank = |o: &str| ORDINALS.iter().position(|x| *x == o);
        let at = sections
            .iter()
            .position(|s| rank(&s.ordinal).is_some_and(|r| Some(r) > rank(&table.section)))
            .unwrap_or(sections.len());
        let spec = schema.sections.iter().find(|s| s.ordinal == table.section);
        sections.insert(
            at,
            Section {
                ordinal: table.section.clone(),
                heading: format!(
                    "{}、{}",
                    table.section,
                    spec.map_or(table.caption.as_str(), |s| s.title.as_str())
                ),
                key: spec.map(|s| s.key.clone()),
                anchor: String::new(),
                added: true,
                parts: vec![part],
            },
        );
    }
    let mut n = 0;
    for s in &mut sections {
        if !s.ordinal.is_empty() {
            n += 1;
            s.anchor = format!("s{n}");
        }
    }
    if problems.is_empty() {
        Ok(sections)
    } else {
        Err(problems)
    }
}

fn marker_problem(
    file: &str,
    line: usize,
    text: &str,
    zh: String,
    en: String,
    hzh: String,
    hen: String,
) -> Diagnostic {
    let column = text.chars().take_while(|c| c.is_whitespace()).count() + 1;
    let mut d = Diagnostic::error(file, Pos { line, column }, zh, en).with_help(hzh, hen);
    d.source_line = Some(text.trim_end_matches(['\n', '\r']).to_owned());
    d
}

/// `{{ table applications }}` or `{{ table 三 }}` → the name.
fn marker(line: &str) -> Option<&str> {
    let inner = line.strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let name = inner.strip_prefix("table")?;
    if !name.starts_with(char::is_whitespace) {
        return None;
    }
    let name = name.trim();
    (!name.is_empty() && !name.contains(char::is_whitespace)).then_some(name)
}

/// An ATX heading whose text starts with a Chinese ordinal and 、: `## 三、收到和处理…`.
fn numbered_heading(line: &str) -> Option<(&'static str, &str)> {
    let rest = line.strip_prefix('#')?.trim_start_matches('#');
    if !rest.starts_with(' ') {
        return None;
    }
    let text = rest.trim().trim_end_matches('#').trim();
    let ordinal = ORDINALS.iter().find(|o| text.starts_with(**o))?;
    let after = &text[ordinal.len()..];
    (after.starts_with('、') || after.starts_with('．') || after.starts_with('.'))
        .then_some((ordinal, text))
}

/// Markdown to HTML. Headings inside a section start at level 3 (the page has h1 and
/// section h2s). Raw HTML is shown as text unless the portal allows it.
pub fn to_html(markdown: &str, allow_html: bool) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES;
    let parser = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(s) | Event::InlineHtml(s) if !allow_html => Event::Text(s),
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: demote(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(demote(level))),
        Event::Start(Tag::Table(align)) => Event::Start(Tag::Table(align)),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    let _ = CowStr::Borrowed("");
    html
}

fn demote(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 | HeadingLevel::H2 | HeadingLevel::H3 => HeadingLevel::H3,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_dated_last_paragraph_is_a_signature() {
        assert!(ends_with_signature(
            "<p>正文。</p>\n<p>某某县人民政府办公室</p>\n<p>2024年1月31日</p>\n"
        ));
        assert!(!ends_with_signature(""));
        // A long last paragraph that happens to end with 日 is text, not a signature.
        assert!(!ends_with_signature(
            "<p>本机关于本年度内依法受理并办结全部申请，最后一件于12月31日</p>"
        ));
        assert!(!ends_with_signature(
            "<p>2024年1月31日</p><ul><li>x</li></ul>"
        ));
    }
    use crate::schema::Registry;

    fn schema(id: &str) -> Schema {
        Registry::load(std::path::Path::new("/nonexistent"))
            .expect("schemas")
            .get(id)
            .cloned()
            .expect("id")
    }

    #[test]
    fn sections_by_ordinal_and_tables_in_their_section() {
        let body = "前言。\n\n## 一、总体情况\n\n正文。\n\n## 三、收到和处理政府信息公开申请情况\n\n## 五、存在的主要问题及改进情况\n\n问题。\n";
        let s = render_body("f.md", body, 10, &schema("cn-2021"), false).expect("ok");
        let ords: Vec<&str> = s.iter().map(|s| s.ordinal.as_str()).collect();
        assert_eq!(ords, ["", "一", "二", "三", "四", "五"]);
        assert!(
            s[2].added
                && matches!(&s[2].parts[0], Part::Table { key } if key == "active_disclosure")
        );
        assert!(matches!(&s[3].parts[0], Part::Table { key } if key == "applications"));
        assert_eq!(s[3].anchor, "s3");
    }

    #[test]
    fn marker_places_table_and_unknown_marker_is_located() {
        let body = "## 三、申请情况\n\n说明。\n\n{{ table 三 }}\n\n后记。\n";
        let s = render_body("f.md", body, 5, &schema("cn-2021"), false).expect("ok");
        let parts = &s.iter().find(|s| s.ordinal == "三").expect("三").parts;
        assert!(matches!(&parts[1], Part::Table { key } if key == "applications"));
        assert_eq!(parts.len(), 3);
        let err = render_body(
            "f.md",
            "x\n\n  {{ table nope }}\n",
            5,
            &schema("cn-2021"),
            false,
        )
        .expect_err("bad");
        assert_eq!((err[0].line, err[0].column), (7, 3));
    }

    #[test]
    fn raw_html_is_escaped_unless_allowed() {
        assert!(to_html("a <script>x</script>", false).contains("&lt;script&gt;"));
        assert!(to_html("a <b>x</b>", true).contains("<b>x</b>"));
        assert!(to_html("# T", false).contains("<h3>"));
    }
}
