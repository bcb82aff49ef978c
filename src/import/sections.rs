//! The report's structure: the six section headings (found by their ordinal and the
//! format's keywords, since their wording varies), the title with the agency and year, the
//! signature and date, and the prose of each section as Markdown paragraphs.

use std::sync::LazyLock;

use regex::Regex;

use super::doc::{Doc, Row};
use super::normalize::{self, date_line, fold_width, is_cjk};
use crate::model::Date;
use crate::schema::Schema;

/// A section heading found in the source.
#[derive(Debug, Clone)]
pub struct Heading {
    /// Index of the heading row in the document.
    pub row: usize,
    /// Index of the section in the schema.
    pub index: usize,
    pub ordinal: String,
    /// The heading as written, with its separator made `、`: `一、总体情况`.
    pub text: String,
    pub line: usize,
}

static MD_WRAP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^#+\s*|^\*\*|\*\*$").expect("valid regex"));

/// The text of a row that may be a heading: one cell, Markdown marks taken off.
fn heading_text(row: &Row) -> Option<String> {
    if row.is_multi() {
        return None;
    }
    let t = row
        .raw
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
    let t = MD_WRAP.replace_all(t, "");
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Finds the numbered section headings in order. A heading starts with its section's
/// ordinal and a separator, is short, and its wording has one of the section's keywords
/// or resembles the section's official title. Headings must come in order: a line that
/// starts with an ordinal already passed (“二、上年结转…” inside table 三) is not one.
pub fn headings(doc: &Doc, schema: &Schema) -> Vec<Heading> {
    let mut out: Vec<Heading> = Vec::new();
    for (i, row) in doc.rows.iter().enumerate() {
        let Some(text) = heading_text(row) else {
            continue;
        };
        let from = out.last().map_or(0, |h| h.index + 1);
        for (index, sec) in schema.sections.iter().enumerate().skip(from) {
            let Some(rest) = text.strip_prefix(sec.ordinal.as_str()) else {
                continue;
            };
            let Some(sep) = rest.chars().next() else {
                continue;
            };
            if !matches!(
                sep,
                '、' | '.' | '．' | ',' | '，' | ':' | '：' | ' ' | '\u{3000}'
            ) {
                continue;
            }
            let words =
                rest[sep.len_utf8()..].trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
            let norm = normalize::label(words);
            let body = norm.trim_end_matches('。');
            if body.is_empty() || body.chars().count() > 40 || body.contains('。') {
                continue;
            }
            let keyword = sec
                .keywords
                .iter()
                .any(|k| body.contains(&normalize::label(k)));
            if !keyword && normalize::similarity(body, &normalize::label(&sec.title)) < 0.5 {
                continue;
            }
            out.push(Heading {
                row: i,
                index,
                ordinal: sec.ordinal.clone(),
                text: format!("{}、{}", sec.ordinal, words),
                line: row.line,
            });
            break;
        }
    }
    out
}

/// The rows that belong to the report itself. For a saved web page, that is the element
/// holding all the section headings (the page's navigation and footer are outside it);
/// for other inputs, every row.
pub fn in_content(doc: &Doc, heads: &[Heading]) -> Vec<bool> {
    let scopes: Vec<&Vec<u32>> = heads.iter().map(|h| &doc.rows[h.row].scope).collect();
    let Some(first) = scopes.first() else {
        return vec![true; doc.rows.len()];
    };
    let mut common: &[u32] = first;
    for s in &scopes[1..] {
        let n = common
            .iter()
            .zip(s.iter())
            .take_while(|(a, b)| a == b)
            .count();
        common = &common[..n];
    }
    if heads.len() < 2 || common.is_empty() {
        return vec![true; doc.rows.len()];
    }
    doc.rows
        .iter()
        .map(|r| r.scope.starts_with(common))
        .collect()
}

/// What the first lines say about the report.
#[derive(Debug, Clone, Default)]
pub struct Title {
    pub text: Option<String>,
    pub agency: Option<String>,
    pub year: Option<i32>,
    /// Rows taken by the title.
    pub rows: Vec<usize>,
    pub line: usize,
}

static YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([0-9]{4}|[〇○零一二三四五六七八九]{4})\s*年").expect("valid regex")
});

fn year_of(s: &str) -> Option<(usize, i32)> {
    let folded = fold_width(s);
    let c = YEAR.captures(&folded)?;
    let m = c.get(1)?;
    let y: i32 = if m.as_str().bytes().all(|b| b.is_ascii_digit()) {
        m.as_str().parse().ok()?
    } else {
        m.as_str().chars().try_fold(0i32, |acc, ch| {
            "〇一二三四五六七八九"
                .chars()
                .position(|d| d == ch)
                .or(matches!(ch, '○' | '零').then_some(0))
                .map(|v| acc * 10 + v as i32)
        })?
    };
    // Byte offset in `s` of the match: count the characters before it in the folded text.
    let chars_before = folded[..c.get(0)?.start()].chars().count();
    let at = s
        .char_indices()
        .nth(chars_before)
        .map_or(s.len(), |(i, _)| i);
    (1990..=2100).contains(&y).then_some((at, y))
}

fn has_sentence_punct(s: &str) -> bool {
    s.contains(['。', '，', '；', '！', '？'])
}

/// Finds the title among the rows before the first heading: the last short line that says
/// 年度报告, with the line before it when that names the agency (titles are often set on
/// two lines: agency, then “2022年政府信息公开工作年度报告”).
pub fn title(doc: &Doc, first_heading: usize, inside: &[bool]) -> Title {
    let candidates = |only_inside: bool| {
        (0..first_heading).rev().find(|&i| {
            let t = doc.rows[i].raw.as_str();
            (!only_inside || inside[i])
                && !doc.rows[i].is_multi()
                && (t.contains("年度报告") || t.contains("年报"))
                && !has_sentence_punct(t)
                && t.chars().count() <= 60
        })
    };
    let Some(at) = candidates(true).or_else(|| candidates(false)) else {
        return Title::default();
    };
    let mut rows = vec![at];
    let mut text: String = doc.rows[at]
        .raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
        .collect();
    let starts_with_year = year_of(&text).is_some_and(|(p, _)| p == 0);
    if (starts_with_year || year_of(&text).is_none()) && at > 0 {
        let prev = &doc.rows[at - 1];
        let p = prev.raw.trim();
        if !prev.is_multi()
            && !has_sentence_punct(p)
            && !p.contains(['：', ':'])
            && p.chars().count() <= 30
            && date_line(p).is_none()
            && p.chars().any(is_cjk)
        {
            rows.insert(0, at - 1);
            let prefix: String = p
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
                .collect();
            text = format!("{prefix}{text}");
        }
    }
    let text = text.replace("**", "");
    let (agency, year) = match year_of(&text) {
        Some((p, y)) => {
            let a = text[..p].trim_matches(|c: char| c.is_whitespace() || "，,：:《》".contains(c));
            ((!a.is_empty()).then(|| a.to_owned()), Some(y))
        }
        None => (None, None),
    };
    Title {
        line: doc.rows[at].line,
        text: Some(text),
        agency,
        year,
        rows,
    }
}

/// The signature at the end: the last date line of the report, and the agency name on the
/// line before it.
#[derive(Debug, Clone, Default)]
pub struct Signature {
    pub date: Option<Date>,
    pub agency: Option<String>,
    pub line: usize,
}

pub fn signature(doc: &Doc, from: usize, inside: &[bool]) -> Signature {
    let rows: Vec<usize> = (from..doc.rows.len()).filter(|&i| inside[i]).collect();
    for (n, &i) in rows.iter().enumerate().rev().take(6) {
        let Some(date) = date_line(&doc.rows[i].raw) else {
            continue;
        };
        let agency = n
            .checked_sub(1)
            .map(|p| doc.rows[rows[p]].raw.trim().to_owned())
            .filter(|a| {
                !a.is_empty()
                    && !has_sentence_punct(a)
                    && a.chars().count() <= 40
                    && a.chars().any(is_cjk)
            });
        return Signature {
            date: Some(date),
            agency,
            line: doc.rows[i].line,
        };
    }
    Signature::default()
}

static PUBLISHED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(发布|公开|成文|印发)(日期|时间)").expect("valid regex"));

/// A publication date given anywhere, as a web page's `发布日期：2023-01-12`.
pub fn stated_date(doc: &Doc) -> Option<(Date, usize)> {
    doc.rows.iter().find_map(|r| {
        let t = r.text();
        PUBLISHED
            .find(&t)
            .and_then(|m| normalize::date_in(&t[m.end()..]))
            .map(|d| (d, r.line))
    })
}

static PARA_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[（(][一二三四五六七八九十0-9]+[）)]|[一二三四五六七八九十]+[、是]|第[一二三四五六七八九十]+|[0-9]+[.、．]|[•·\-*#>])")
        .expect("valid regex")
});

fn terminal(c: char) -> bool {
    "。！？；：…!?;:".contains(c)
}

/// Prose rows as Markdown paragraphs. Lines that a PDF wrapped, and paragraphs a web page
/// broke in the middle of a sentence, are joined again; nothing else is changed.
pub fn paragraphs(rows: &[&Row]) -> Vec<String> {
    let min_indent = rows.iter().map(|r| r.indent).min().unwrap_or(0);
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        let text = r
            .raw
            .trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
        if text.is_empty() {
            continue;
        }
        if let Some(prev) = out.last_mut()
            && continues(prev, r, text, min_indent)
        {
            // English words wrapped by a PDF lost a space; Chinese text and numbers did not.
            let glue = prev.chars().last().is_some_and(|c| c.is_ascii_alphabetic())
                && text.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
            if glue {
                prev.push(' ');
            }
            prev.push_str(text);
            continue;
        }
        out.push(text.to_owned());
    }
    for p in &mut out {
        if p.starts_with('#') {
            p.insert(0, '\\');
        }
    }
    out
}

fn continues(prev: &str, row: &Row, next: &str, min_indent: usize) -> bool {
    if PARA_START.is_match(next) || row.indent > min_indent + 1 || date_line(next).is_some() {
        return false;
    }
    let Some(last) = prev.chars().last() else {
        return false;
    };
    if terminal(last) {
        return false;
    }
    let len = prev.chars().count();
    let prose = prev.contains(['。', '，', '、', '；', '：', ',', ';']);
    if !row.blank_before {
        return prose || len >= 20;
    }
    (is_cjk(last) || "，、“《（".contains(last))
        && prose
        && len >= 15
        && next
            .chars()
            .next()
            .is_some_and(|c| is_cjk(c) || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::text;
    use crate::schema::Registry;

    fn schema() -> Schema {
        Registry::load(std::path::Path::new("/nonexistent"))
            .expect("schemas")
            .get("cn-2021")
            .cloned()
            .expect("format")
    }

    #[test]
    fn headings_by_ordinal_and_keyword_in_order() {
        let doc = text::read(
            "一、 总体情况\n正文\n二. 主动公开政府信息情况\n三、收到和处理政府信息公开申请情况\n二、上年结转政府信息公开申请数量\n三、本年度办理结果\n四、结转下年度继续办理\n四、政府信息公开行政复议行政诉讼情况\n五、存在问题及改进情况\n六、其它需要报告的事项\n",
        );
        let h = headings(&doc, &schema());
        let got: Vec<(&str, usize)> = h.iter().map(|h| (h.text.as_str(), h.line)).collect();
        assert_eq!(
            got,
            [
                ("一、总体情况", 1),
                ("二、主动公开政府信息情况", 3),
                ("三、收到和处理政府信息公开申请情况", 4),
                ("四、政府信息公开行政复议行政诉讼情况", 8),
                ("五、存在问题及改进情况", 9),
                ("六、其它需要报告的事项", 10),
            ]
        );
    }

    #[test]
    fn title_on_two_lines_gives_agency_and_year() {
        let doc = text::read(
            "\n汾阳市人民政府办公室\n\n2022 年政府信息公开工作年度报告\n\n一、总体情况\n",
        );
        let t = title(&doc, 2, &[true; 3]);
        assert_eq!(
            t.text.as_deref(),
            Some("汾阳市人民政府办公室2022年政府信息公开工作年度报告")
        );
        assert_eq!(t.agency.as_deref(), Some("汾阳市人民政府办公室"));
        assert_eq!(t.year, Some(2022));
        let doc = text::read("某某县教育局二〇二一年度政府信息公开工作年度报告\n一、总体情况\n");
        let t = title(&doc, 1, &[true; 2]);
        assert_eq!(
            (t.agency.as_deref(), t.year),
            (Some("某某县教育局"), Some(2021))
        );
    }

    #[test]
    fn wrapped_lines_join_and_paragraphs_stay() {
        let doc = text::read(
            "按照“谁\n\n制作、谁负责”的原则，全年共制发公文 73 个。\n第二段开始，这一行被\nPDF 折行了。\n（一）新段落。\n\n汾阳市人民政府办公室\n\n2023年1月12日\n",
        );
        let rows: Vec<&Row> = doc.rows.iter().collect();
        let p = paragraphs(&rows);
        assert_eq!(p[0], "按照“谁");
        assert_eq!(p[1], "制作、谁负责”的原则，全年共制发公文 73 个。");
        assert_eq!(p[2], "第二段开始，这一行被PDF 折行了。");
        assert_eq!(p[3], "（一）新段落。");
        assert_eq!(&p[4..], ["汾阳市人民政府办公室", "2023年1月12日"]);
        let doc = text::read(
            "（二）规范公文公开管理。一是严格公文属性界定。按照“谁\n\n制作、谁提出”。\n",
        );
        let rows: Vec<&Row> = doc.rows.iter().collect();
        assert_eq!(paragraphs(&rows).len(), 1);
    }
}
