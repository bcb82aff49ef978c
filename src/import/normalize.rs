//! Normalisation of what published reports write: full-width digits and punctuation,
//! spaces inside labels (“不 予 公 开”), thousands separators, units (元 / 万元), blank
//! and placeholder cells, numbers glued together, dates in Arabic or Chinese numerals.
//!
//! Labels are normalised only to be compared with the schema's labels; prose is never
//! changed.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::Date;

/// Full-width ASCII (U+FF01–U+FF5E) to ASCII, the ideographic space and no-break spaces to
/// a space, the minus sign to `-`.
pub fn fold_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' | '\u{00A0}' | '\u{2002}'..='\u{200B}' | '\u{FEFF}' => ' ',
            '\u{2212}' => '-',
            _ => c,
        })
        .collect()
}

static DIGIT_ORDINAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(^|[^0-9.])([0-9]{1,2})[、,]").expect("valid regex"));
static CN_ORDINAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([一二三四五六七八九十]{1,3})[.,]").expect("valid regex"));
static UNIT_NOTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\((?:单位:?)?(万元|元|件|个)\)$|单位:(万元|元|件|个)$").expect("valid regex")
});

/// A label as compared with the schema: full-width folded, without whitespace, quotes or
/// Markdown emphasis, item ordinals written `1.`, section ordinals written `三、`.
pub fn label(s: &str) -> String {
    let folded = fold_width(s);
    let kept: String = folded
        .chars()
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '"' | '\''
                        | '“'
                        | '”'
                        | '‘'
                        | '’'
                        | '「'
                        | '」'
                        | '『'
                        | '』'
                        | '*'
                        | '\u{200B}'
                )
        })
        .collect();
    let kept = DIGIT_ORDINAL.replace_all(&kept, "$1$2.");
    CN_ORDINAL.replace(&kept, "$1、").into_owned()
}

/// A unit written in a label or a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Yuan,
    WanYuan,
    /// 件, 个, 项 …: counts; nothing to convert.
    Count,
}

impl Unit {
    fn parse(s: &str) -> Option<Unit> {
        match s {
            "万元" => Some(Unit::WanYuan),
            "元" => Some(Unit::Yuan),
            "" => None,
            _ => Some(Unit::Count),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Unit::Yuan => "元",
            Unit::WanYuan => "万元",
            Unit::Count => "件",
        }
    }
}

/// A normalised label without a trailing unit note (`（单位：万元）`), and that unit.
pub fn split_unit_note(label: &str) -> (String, Option<Unit>) {
    match UNIT_NOTE.captures(label) {
        Some(c) => {
            let unit = c.get(1).or_else(|| c.get(2)).map(|m| m.as_str());
            let start = c.get(0).map_or(label.len(), |m| m.start());
            (label[..start].to_owned(), unit.and_then(Unit::parse))
        }
        None => (label.to_owned(), None),
    }
}

/// One value written in a table cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A number as written, without thousands separators or `+`; `unit` when the cell
    /// says one.
    Number { text: String, unit: Option<Unit> },
    /// "/", "—", "-", "无": nothing written; read as 0 with a warning.
    Placeholder(String),
}

/// What a table cell holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellKind {
    Empty,
    /// One or more values (several when a cell holds numbers separated by spaces).
    Values(Vec<Token>),
    /// Looks like a number but is not one (`1,23`, `12.`).
    Unreadable(String),
    Label,
}

static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^([+-]?)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]+)?(万元|元|件|个|项|次|条|宗|人次)?$",
    )
    .expect("valid regex")
});
static NUMERIC_ISH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[+-]?[0-9][0-9,.]*(万元|元|件|个|项|次|条|宗|人次)?$").expect("valid regex")
});
static ORDINAL_ONLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9]{1,2}[.、]$").expect("valid regex"));

const PLACEHOLDERS: &[&str] = &[
    "/", "\\", "-", "--", "—", "——", "–", "―", "‐", "－", "无", "空",
];

/// Classifies a cell: empty, values, unreadable number, or a label.
pub fn classify(cell: &str) -> CellKind {
    let folded = fold_width(cell);
    let t = folded.trim();
    if t.is_empty() {
        return CellKind::Empty;
    }
    let mut tokens = Vec::new();
    for part in t.split_whitespace() {
        if PLACEHOLDERS.contains(&part) {
            tokens.push(Token::Placeholder(part.to_owned()));
            continue;
        }
        if ORDINAL_ONLY.is_match(part) {
            return CellKind::Label;
        }
        if let Some(c) = NUMBER.captures(part) {
            let sign = if c.get(1).is_some_and(|m| m.as_str() == "-") {
                "-"
            } else {
                ""
            };
            let int = c.get(2).map_or("", |m| m.as_str()).replace(',', "");
            let frac = c.get(3).map_or("", |m| m.as_str());
            let unit = c.get(4).and_then(|m| Unit::parse(m.as_str()));
            tokens.push(Token::Number {
                text: format!("{sign}{int}{frac}"),
                unit,
            });
            continue;
        }
        if NUMERIC_ISH.is_match(part) {
            return CellKind::Unreadable(part.to_owned());
        }
        return CellKind::Label;
    }
    CellKind::Values(tokens)
}

/// True for a number that cannot stand alone because it starts with a 0 (`00`, `05`):
/// in a text layout, two cells glued together.
pub fn is_glued(text: &str) -> bool {
    let digits = text.trim_start_matches('-');
    digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.")
}

/// The ways to cut `digits` into `parts` numbers without leading zeros.
pub fn splits(digits: &str, parts: usize) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    if parts == 0 || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return out;
    }
    if parts == 1 {
        if digits == "0" || !digits.starts_with('0') {
            out.push(vec![digits.to_owned()]);
        }
        return out;
    }
    for cut in 1..digits.len() {
        let head = &digits[..cut];
        if head.len() > 1 && head.starts_with('0') {
            continue;
        }
        for mut rest in splits(&digits[cut..], parts - 1) {
            rest.insert(0, head.to_owned());
            out.push(rest);
        }
    }
    out
}

/// 万元 from an amount in 元, exactly: `25954500` → `2595.45`. None when the result would
/// need more than four decimal places.
pub fn yuan_to_wan(text: &str) -> Option<String> {
    let (neg, t) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let frac = frac.trim_end_matches('0');
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let padded = format!("{int:0>5}");
    let (w, rest) = padded.split_at(padded.len() - 4);
    let w = w.trim_start_matches('0');
    let w = if w.is_empty() { "0" } else { w };
    let places = format!("{rest}{frac}");
    let places = places.trim_end_matches('0');
    if places.len() > 4 {
        return None;
    }
    let sign = if neg { "-" } else { "" };
    Some(if places.is_empty() {
        format!("{sign}{w}")
    } else {
        format!("{sign}{w}.{places}")
    })
}

static DATE_ARABIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([0-9]{4})\s*(?:年|-|\.|/)\s*([0-9]{1,2})\s*(?:月|-|\.|/)\s*([0-9]{1,2})\s*日?$")
        .expect("valid regex")
});
static DATE_CN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,2})月([一二三四五六七八九十]{1,3})日$")
        .expect("valid regex")
});
static DATE_INSIDE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([0-9]{4})\s*(?:年|-|\.|/)\s*([0-9]{1,2})\s*(?:月|-|\.|/)\s*([0-9]{1,2})\s*日?")
        .expect("valid regex")
});

fn cn_digit(c: char) -> Option<u32> {
    "〇一二三四五六七八九"
        .chars()
        .position(|d| d == c)
        .or(match c {
            '○' | '零' => Some(0),
            _ => None,
        })
        .map(|p| p as u32)
}

/// 一 … 三十一.
fn cn_small(s: &str) -> Option<u32> {
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        ['十'] => Some(10),
        ['十', d] => Some(10 + cn_digit(*d)?),
        [t, '十'] => Some(cn_digit(*t)? * 10),
        [t, '十', d] => Some(cn_digit(*t)? * 10 + cn_digit(*d)?),
        [d] => cn_digit(*d),
        _ => None,
    }
}

/// A line that is a date and nothing else: `2023年1月12日`, `2023-01-12`,
/// `二〇二三年一月十二日`. Dates that do not exist are not dates.
pub fn date_line(line: &str) -> Option<Date> {
    let t = fold_width(line);
    let t: String = t.trim().chars().filter(|c| !c.is_whitespace()).collect();
    let (y, m, d) = if let Some(c) = DATE_ARABIC.captures(&t) {
        (c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?)
    } else if let Some(c) = DATE_CN.captures(&t) {
        let y = c[1]
            .chars()
            .try_fold(0i32, |acc, ch| cn_digit(ch).map(|v| acc * 10 + v as i32))?;
        (y, cn_small(&c[2])?, cn_small(&c[3])?)
    } else {
        return None;
    };
    Date::parse(&format!("{y:04}-{m:02}-{d:02}"))
}

/// A date written anywhere in a line (`发布日期：2023-01-12`).
pub fn date_in(line: &str) -> Option<Date> {
    let t = fold_width(line);
    let c = DATE_INSIDE.captures(&t)?;
    let (y, m, d): (i32, u32, u32) = (c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
    Date::parse(&format!("{y:04}-{m:02}-{d:02}"))
}

/// A CJK ideograph (the characters Chinese prose is written in).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// Dice coefficient of the character bigrams of two normalised strings.
pub fn similarity(a: &str, b: &str) -> f64 {
    let grams = |s: &str| -> Vec<(char, char)> {
        let c: Vec<char> = s.chars().collect();
        c.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let (ga, mut gb) = (grams(a), grams(b));
    if ga.is_empty() || gb.is_empty() {
        return 0.0;
    }
    let total = ga.len() + gb.len();
    let mut common = 0;
    for g in &ga {
        if let Some(i) = gb.iter().position(|x| x == g) {
            gb.swap_remove(i);
            common += 1;
        }
    }
    2.0 * common as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_fold_width_spaces_quotes_and_ordinals() {
        assert_eq!(label("（三） 不 予 公 开"), "(三)不予公开");
        assert_eq!(label("1．属于国家秘密"), "1.属于国家秘密");
        assert_eq!(label("1、属于国家秘密"), "1.属于国家秘密");
        assert_eq!(label("三、 本 年 度 办 理 结 果"), "三、本年度办理结果");
        assert_eq!(label("三. 本年度办理结果"), "三、本年度办理结果");
        assert_eq!(
            label("3．危及“三安全一稳定”"),
            label("3. 危及\"三安全一稳定\"")
        );
        assert_eq!(label("结果 维持"), "结果维持");
        assert_eq!(label("２．重复申请"), "2.重复申请");
    }

    #[test]
    fn unit_notes_are_split_off() {
        assert_eq!(
            split_unit_note(&label("本年收费金额（单位：万元）")),
            ("本年收费金额".to_owned(), Some(Unit::WanYuan))
        );
        assert_eq!(
            split_unit_note(&label("本年收费金额(元)")),
            ("本年收费金额".to_owned(), Some(Unit::Yuan))
        );
        assert_eq!(split_unit_note("规章"), ("规章".to_owned(), None));
    }

    #[test]
    fn cells_are_values_placeholders_labels_or_unreadable() {
        let num = |t: &str| Token::Number {
            text: t.to_owned(),
            unit: None,
        };
        assert_eq!(classify(" "), CellKind::Empty);
        assert_eq!(
            classify("２４，５２３"),
            CellKind::Values(vec![num("24523")])
        );
        assert_eq!(classify("2,595.45"), CellKind::Values(vec![num("2595.45")]));
        assert_eq!(
            classify("7 0  0"),
            CellKind::Values(vec![num("7"), num("0"), num("0")])
        );
        assert_eq!(
            classify("2595.45万元"),
            CellKind::Values(vec![Token::Number {
                text: "2595.45".into(),
                unit: Some(Unit::WanYuan)
            }])
        );
        assert_eq!(classify("－12"), CellKind::Values(vec![num("-12")]));
        assert_eq!(
            classify("—"),
            CellKind::Values(vec![Token::Placeholder("—".into())])
        );
        assert_eq!(
            classify("／"),
            CellKind::Values(vec![Token::Placeholder("/".into())])
        );
        assert_eq!(classify("1,23"), CellKind::Unreadable("1,23".into()));
        assert_eq!(classify("1."), CellKind::Label);
        assert_eq!(classify("2. 重复申请"), CellKind::Label);
        assert_eq!(classify("行政许可"), CellKind::Label);
    }

    #[test]
    fn glued_numbers_split_every_possible_way() {
        assert!(is_glued("00") && is_glued("05") && !is_glued("0") && !is_glued("10"));
        assert_eq!(splits("00", 2), vec![vec!["0", "0"]]);
        assert_eq!(splits("100", 2), vec![vec!["10", "0"]]);
        assert_eq!(splits("110", 2).len(), 2);
        assert!(splits("05", 1).is_empty());
    }

    #[test]
    fn yuan_become_wan_yuan_exactly() {
        assert_eq!(yuan_to_wan("25954500").as_deref(), Some("2595.45"));
        assert_eq!(yuan_to_wan("251000").as_deref(), Some("25.1"));
        assert_eq!(yuan_to_wan("10000").as_deref(), Some("1"));
        assert_eq!(yuan_to_wan("400").as_deref(), Some("0.04"));
        assert_eq!(yuan_to_wan("1").as_deref(), Some("0.0001"));
        assert_eq!(yuan_to_wan("0.5"), None);
    }

    #[test]
    fn dates_in_arabic_and_chinese_numerals() {
        let d = |s: &str| date_line(s).map(|d| d.to_string());
        assert_eq!(d("2023年1月12日").as_deref(), Some("2023-01-12"));
        assert_eq!(d("２０２３年１月１２日").as_deref(), Some("2023-01-12"));
        assert_eq!(d("2023 年 1 月 12 日").as_deref(), Some("2023-01-12"));
        assert_eq!(d("2023-01-12").as_deref(), Some("2023-01-12"));
        assert_eq!(d("二〇二三年一月十二日").as_deref(), Some("2023-01-12"));
        assert_eq!(d("二〇二三年十二月三十一日").as_deref(), Some("2023-12-31"));
        assert_eq!(d("2023年2月30日"), None);
        assert_eq!(d("2023年1月12日发布"), None);
        assert_eq!(
            date_in("发布日期：2023-01-12 来源：")
                .map(|d| d.to_string())
                .as_deref(),
            Some("2023-01-12")
        );
    }

    #[test]
    fn similarity_of_headings() {
        assert!(similarity("其它需要报告的事项", "其他需要报告的事项") > 0.7);
        assert!(similarity("上年结转政府信息公开申请数量", "主动公开政府信息情况") < 0.5);
    }
}
