//! Languages: the theme's words come from translation files. The English interface shows
//! no Chinese theme words and the Chinese one no English, apart from content (the reports'
//! own words, agency names, official table labels), which is marked with its language.

mod common;

use std::fs;
use std::path::Path;

use common::{Portal, build, tags};

/// Elements whose text is not shown on the page, or is not the theme's words: scripts and
/// styles, the document's <title> (it carries the report's title), an SVG's title and desc
/// (the chart's accessible name, with the agency's name in it).
const HIDDEN: &[&str] = &["script", "style", "title", "desc"];
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];
/// Attributes people read or hear.
const READ_ATTRS: &[&str] = &[
    "aria-label",
    "alt",
    "title",
    "placeholder",
    "data-found",
    "data-none",
    "data-loading",
    "data-failed",
    "data-year",
    "data-sorted-desc",
    "data-sorted-asc",
];

/// The theme's own text on a page: text and read attributes outside elements marked
/// `lang=<other>` (content in the other language, marked for browsers and screen readers).
fn theme_text(html: &str, other: &str) -> String {
    let mut out = String::new();
    // For each open element: is its text skipped?
    let mut stack: Vec<(String, bool)> = Vec::new();
    let all = tags(html);
    for (i, tag) in all.iter().enumerate() {
        let skipping = stack.last().is_some_and(|(_, s)| *s);
        if let Some(name) = tag.name.strip_prefix('/') {
            if let Some(pos) = stack.iter().rposition(|(n, _)| n == name) {
                stack.truncate(pos);
            }
        } else {
            let skip =
                skipping || tag.attr("lang") == Some(other) || HIDDEN.contains(&tag.name.as_str());
            if !skip {
                for a in READ_ATTRS {
                    if let Some(v) = tag.attr(a) {
                        out.push_str(v);
                        out.push('\n');
                    }
                }
            }
            if !VOID.contains(&tag.name.as_str()) && !html[..tag.end].ends_with("/>") {
                stack.push((tag.name.clone(), skip));
            }
        }
        let skipping = stack.last().is_some_and(|(_, s)| *s);
        let next = all.get(i + 1).map_or(html.len(), |t| t.start);
        if !skipping && tag.end <= next {
            out.push_str(&common::decode_entities(&html[tag.end..next]));
            out.push('\n');
        }
    }
    out
}

fn without_placeholders(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        match rest[i..].find('}') {
            Some(j) => rest = &rest[i + j + 1..],
            None => {
                rest = &rest[i..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

fn html_lang(html: &str) -> Option<String> {
    tags(html)
        .into_iter()
        .find(|t| t.name == "html")
        .and_then(|t| t.attr("lang").map(str::to_owned))
}

fn html_pages(dir: &Path) -> Vec<(String, String)> {
    common::tree(dir)
        .into_iter()
        .filter(|(p, _)| p.ends_with(".html"))
        .map(|(p, b)| (p, String::from_utf8(b).expect("utf-8")))
        .collect()
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{ff00}'..='\u{ffef}')
}

/// Official table numbers (表三) appear in English check messages as the tables' names.
const OFFICIAL_NUMERALS: &str = "一二三四五六七八九十";
/// Proper nouns and names of formats the Chinese interface may write in Latin letters.
const LATIN_ALLOWED: &[&str] = &["JSON", "CSV", "JavaScript", "portalgen"];

#[test]
fn english_and_chinese_interfaces_keep_to_their_language() {
    let portal = Portal::example();

    // Chinese interface (the example portal's own setting).
    let zh = portal.out("zh");
    build(&portal.root(), Some(&zh)).assert_ok();
    let mut problems = Vec::new();
    for (path, html) in html_pages(&zh) {
        assert_eq!(
            html_lang(&html).as_deref(),
            Some("zh-CN"),
            "{path}: html lang"
        );
        assert!(
            !html.contains("label-en") && !html.contains("caption-en"),
            "{path}: English second labels belong only to a non-Chinese interface"
        );
        let text = theme_text(&html, "en");
        // The search page hands its words to search.js with `{count}`-style placeholders.
        let text = without_placeholders(&text);
        // Words of Latin letters; identifiers with digits (rule IDs such as T3-01, years) are codes.
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
            if word.chars().any(|c| c.is_ascii_digit()) {
                continue;
            }
            let letters: String = word.chars().filter(char::is_ascii_alphabetic).collect();
            if letters.len() >= 2 && !LATIN_ALLOWED.contains(&word) {
                problems.push(format!("{path}: {word}"));
            }
        }
    }
    problems.dedup();
    assert!(
        problems.is_empty(),
        "English words in the Chinese interface:\n{}",
        problems.join("\n")
    );

    // English interface: the portal's own title in English too (it is the portal's text).
    portal.modify("portal.yaml", |t| {
        t.replace("language: zh-CN", "language: en")
            .lines()
            .map(|l| {
                if l.starts_with("title:") {
                    "title: Fenyang annual reports (example)"
                } else if l.starts_with("description:") {
                    "description: An example portal."
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    let en = portal.out("en");
    build(&portal.root(), Some(&en)).assert_ok();
    let mut problems = Vec::new();
    for (path, html) in html_pages(&en) {
        assert_eq!(html_lang(&html).as_deref(), Some("en"), "{path}: html lang");
        let text = theme_text(&html, "zh-CN");
        for line in text.lines() {
            if line
                .chars()
                .any(|c| is_cjk(c) && !OFFICIAL_NUMERALS.contains(c))
            {
                problems.push(format!("{path}: {}", line.trim()));
            }
        }
    }
    problems.dedup();
    assert!(
        problems.is_empty(),
        "Chinese theme words in the English interface:\n{}",
        problems.join("\n")
    );

    // Official labels stay Chinese, with the format's English label as a second line.
    let report =
        fs::read_to_string(en.join("reports/2022/fenyang-gov/index.html")).expect("report");
    assert!(
        tags(&report).iter().any(|t| t.has_class("label-en")),
        "English second labels"
    );
    assert!(
        tags(&report)
            .iter()
            .any(|t| t.attr("lang") == Some("zh-CN")),
        "Chinese content is marked"
    );
    assert!(report.contains("Data checks"), "theme words in English");
    let zh_report =
        fs::read_to_string(zh.join("reports/2022/fenyang-gov/index.html")).expect("report");
    assert!(zh_report.contains("数据检查"));
}

#[test]
fn a_portal_overrides_one_word_and_may_add_a_language() {
    let portal = Portal::example();
    portal.write("i18n/zh-CN.yaml", "nav.home: 门户首页\n");
    let out = portal.out("site");
    build(&portal.root(), Some(&out)).assert_ok();
    let index = fs::read_to_string(out.join("index.html")).expect("index");
    assert!(index.contains(">门户首页<"), "the portal's word is used");
    assert!(
        index.contains(">年报专栏<"),
        "other words still come from the theme"
    );

    // A language the theme lacks: the portal's words, English for the rest.
    portal.write("i18n/fr.yaml", "nav.home: Accueil\n");
    portal.replace_once("portal.yaml", "language: zh-CN", "language: fr");
    let fr = portal.out("fr");
    build(&portal.root(), Some(&fr)).assert_ok();
    let index = fs::read_to_string(fr.join("index.html")).expect("index");
    assert!(index.contains(">Accueil<"));
    assert!(index.contains(">Annual reports<"));

    // A language nobody translated: an error that says how to add it.
    portal.replace_once("portal.yaml", "language: fr", "language: de");
    let run = build(&portal.root(), Some(&portal.out("de")));
    assert!(!run.ok());
    assert!(run.stderr.contains("i18n/de.yaml"), "{}", run.stderr);
}

#[test]
fn en_us_falls_back_to_en() {
    let portal = Portal::example();
    portal.replace_once("portal.yaml", "language: zh-CN", "language: en-US");
    let out = portal.out("site");
    build(&portal.root(), Some(&out)).assert_ok();
    let index = fs::read_to_string(out.join("index.html")).expect("index");
    assert_eq!(html_lang(&index).as_deref(), Some("en-US"));
    assert!(index.contains(">Annual reports<"));
}

#[test]
fn an_unknown_key_fails_the_build_naming_key_and_template() {
    let portal = Portal::example();
    fs::create_dir_all(portal.path("templates")).expect("mkdir");
    portal.write(
        "templates/404.html",
        "{% extends \"base.html\" %}{% block content %}<h1>{{ t(key=\"notfound.headnig\") }}</h1>{% endblock content %}",
    );
    let run = build(&portal.root(), Some(&portal.out("site")));
    assert!(!run.ok(), "an unknown key must fail the build");
    assert!(run.stderr.contains("notfound.headnig"), "{}", run.stderr);
    assert!(run.stderr.contains("404.html"), "{}", run.stderr);

    // A key computed while rendering is checked then.
    portal.write(
        "templates/404.html",
        "{% extends \"base.html\" %}{% block content %}<h1>{{ t(key=\"kind.\" ~ \"nope\") }}</h1>{% endblock content %}",
    );
    let run = build(&portal.root(), Some(&portal.out("site2")));
    assert!(!run.ok(), "an unknown computed key must fail the build");
    assert!(run.stderr.contains("kind.nope"), "{}", run.stderr);
    assert!(run.stderr.contains("404.html"), "{}", run.stderr);
}
