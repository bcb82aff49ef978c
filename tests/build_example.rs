//! Builds the example portal with the real binary and checks the site it produces.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Component, Path, PathBuf};

use common::{Portal, data_cells, main_part, report_files, table_ids, tags, tree};

/// Builds a fresh copy of the example portal into `<tmp>/site`.
fn built() -> (Portal, PathBuf) {
    let portal = Portal::example();
    let out = portal.out("site");
    portal.build(&out).assert_ok();
    (portal, out)
}

fn page(out: &Path, rel: &str) -> String {
    fs::read_to_string(out.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

#[test]
fn every_page_type_exists() {
    let (portal, out) = built();
    let reports = report_files(&portal.root());
    assert!(
        reports.len() >= 5,
        "example portal has reports: {reports:?}"
    );
    let mut expected: Vec<String> = vec![
        "index.html".into(),
        "years/index.html".into(),
        "agencies/index.html".into(),
    ];
    let years: BTreeSet<&str> = reports.iter().map(|r| r.year.as_str()).collect();
    let agencies: BTreeSet<&str> = reports.iter().map(|r| r.agency_id.as_str()).collect();
    // Every year folder under content/ has its year page too.
    for entry in fs::read_dir(portal.path("content")).expect("ls content") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.len() == 4 && name.parse::<u32>().is_ok() {
            assert!(
                years.contains(name.as_str()),
                "content/{name}/ holds no report"
            );
        }
    }
    for y in &years {
        expected.push(format!("years/{y}/index.html"));
    }
    for a in &agencies {
        expected.push(format!("agencies/{a}/index.html"));
    }
    for r in &reports {
        expected.push(format!("reports/{}/{}/index.html", r.year, r.agency_id));
        expected.push(format!("reports/{}/{}/data.json", r.year, r.agency_id));
    }
    let missing: Vec<&String> = expected
        .iter()
        .filter(|p| !out.join(p.as_str()).is_file())
        .collect();
    assert!(missing.is_empty(), "missing pages: {missing:?}");
    for p in expected.iter().filter(|p| p.ends_with(".html")) {
        let html = page(&out, p);
        assert!(
            html.trim_start()
                .to_ascii_lowercase()
                .starts_with("<!doctype html>"),
            "{p} is not an HTML page"
        );
    }
    for r in &reports {
        let json = page(
            &out,
            &format!("reports/{}/{}/data.json", r.year, r.agency_id),
        );
        assert!(
            json.contains(&format!("\"agency_id\":\"{}\"", r.agency_id)),
            "data.json of {} names its agency:\n{json}",
            r.rel
        );
    }
    assert!(
        out.join(".portalgen-output").is_file(),
        "output carries the marker"
    );
}

// ---------------------------------------------------------------------------------------
// Link walker

/// Percent-decodes a URL path (`%E6%B1%BE` → 汾).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolves `link` (no fragment) against the folder of `page` (both relative to the
/// output root). None when it climbs above the root.
fn resolve(page: &str, link: &str) -> Option<String> {
    let mut parts: Vec<String> = page.split('/').map(str::to_owned).collect();
    parts.pop(); // the page's own file name
    for c in Path::new(link).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

#[test]
fn internal_links_resolve() {
    let (_portal, out) = built();
    let files = tree(&out);
    let html_pages: Vec<&String> = files.keys().filter(|p| p.ends_with(".html")).collect();
    assert!(!html_pages.is_empty());
    let mut id_cache: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut ids_of = |rel: &str| -> BTreeSet<String> {
        id_cache
            .entry(rel.to_owned())
            .or_insert_with(|| {
                let html = String::from_utf8_lossy(&files[rel]).into_owned();
                common::ids(&html).into_iter().collect()
            })
            .clone()
    };
    let mut broken = Vec::new();
    let (mut checked, mut fragments) = (0, 0);
    for page_rel in &html_pages {
        let html = String::from_utf8_lossy(&files[page_rel.as_str()]).into_owned();
        for tag in tags(&html) {
            for attr in ["href", "src"] {
                let Some(link) = tag.attr(attr) else { continue };
                let link = link.trim();
                let lower = link.to_ascii_lowercase();
                if ["http:", "https:", "mailto:", "tel:", "data:"]
                    .iter()
                    .any(|s| lower.starts_with(s))
                    || lower.starts_with("//")
                {
                    continue;
                }
                checked += 1;
                let (path, fragment) = match link.split_once('#') {
                    Some((p, f)) => (p, Some(f)),
                    None => (link, None),
                };
                let path = path.split('?').next().unwrap_or_default();
                let target = if path.is_empty() {
                    page_rel.to_string()
                } else if path.starts_with('/') {
                    broken.push(format!(
                        "{page_rel}: <{} {attr}={link}> is root-absolute; the site must work from any folder",
                        tag.name
                    ));
                    continue;
                } else {
                    match resolve(page_rel, &percent_decode(path)) {
                        Some(t) => t,
                        None => {
                            broken.push(format!("{page_rel}: {link} leaves the site"));
                            continue;
                        }
                    }
                };
                if !files.contains_key(&target) {
                    broken.push(format!(
                        "{page_rel}: <{} {attr}={link}> → {target} does not exist",
                        tag.name
                    ));
                    continue;
                }
                if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
                    fragments += 1;
                    let fragment = percent_decode(fragment);
                    if !target.ends_with(".html") {
                        broken.push(format!("{page_rel}: {link} has a fragment into a non-page"));
                    } else if !ids_of(&target).contains(&fragment) {
                        broken.push(format!(
                            "{page_rel}: {link} → no element with id {fragment:?} in {target}"
                        ));
                    }
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "{} broken link(s) of {checked}:\n{}",
        broken.len(),
        broken.join("\n")
    );
    assert!(checked >= 100, "only {checked} internal links were checked");
    assert!(
        fragments >= 5,
        "only {fragments} #fragment links were checked"
    );
}

#[test]
fn link_walker_helpers() {
    assert_eq!(
        resolve("reports/2022/a/index.html", "../../../index.html").as_deref(),
        Some("index.html")
    );
    assert_eq!(
        resolve("reports/2022/a/index.html", "data.json").as_deref(),
        Some("reports/2022/a/data.json")
    );
    assert_eq!(resolve("index.html", "../x.html"), None);
    assert_eq!(percent_decode("a%20b%E6%B1%BE"), "a b汾");
    let html = r#"<!doctype html><a href=../x/index.html class="a b">t</a><td headers="h1 h2" class=num>2595.45<span>x</span></td><img src='p.png'/><p id=s1>"#;
    let t = tags(html);
    assert_eq!(t[0].attr("href"), Some("../x/index.html"));
    assert!(t[0].has_class("b"));
    assert_eq!(t[2].attr("headers"), Some("h1 h2"));
    assert_eq!(common::text_after(html, &t[2]), "2595.45");
    assert!(t.iter().any(|t| t.attr("src") == Some("p.png")));
    assert_eq!(common::ids(html), ["s1"]);
}

// ---------------------------------------------------------------------------------------

#[test]
fn build_is_deterministic() {
    let portal = Portal::example();
    let (a, b) = (portal.out("one"), portal.out("two"));
    portal.build(&a).assert_ok();
    portal.build(&b).assert_ok();
    let (ta, tb) = (tree(&a), tree(&b));
    assert_eq!(
        ta.keys().collect::<Vec<_>>(),
        tb.keys().collect::<Vec<_>>(),
        "same file list"
    );
    // The marker holds the write stage's manifest (files' times); the site is the rest.
    let site = |t: &std::collections::BTreeMap<String, Vec<u8>>| {
        let mut t = t.clone();
        assert!(
            t.remove(".portalgen-output").is_some(),
            "the output is marked"
        );
        t
    };
    let (ta, tb) = (site(&ta), site(&tb));
    for (path, bytes) in &ta {
        assert!(bytes == &tb[path], "{path} differs between two builds");
    }
    // Rebuilding over a previous output gives the same tree again.
    portal.build(&a).assert_ok();
    assert!(
        site(&tree(&a)) == ta,
        "rebuilding into the same folder changed the site"
    );
}

// ---------------------------------------------------------------------------------------
// 汾阳市人民政府办公室 2022: the one real report of the example portal.

const FENYANG_2022: &str = "reports/2022/fenyang-gov-office/index.html";

/// The 200 numbers of the published report, in the official order, transcribed from
/// shared/samples/fenyang-2022.txt (汾阳市人民政府办公室2022年政府信息公开工作年度报告).
const TABLE_2: [&str; 10] = [
    "0", "0", "0", // 规章: 本年制发, 本年废止, 现行有效
    "4", "0", "4",       // 行政规范性文件
    "24523",   // 行政许可
    "1440",    // 行政处罚
    "38",      // 行政强制
    "2595.45", // 行政事业性收费（万元）
];

/// Table 三: 25 rows × (自然人, 商业企业, 科研机构, 社会公益组织, 法律服务机构, 其他, 总计).
const TABLE_3: [[&str; 7]; 25] = [
    ["7", "0", "0", "0", "0", "0", "7"], // 一、本年新收
    ["1", "0", "0", "0", "0", "0", "1"], // 二、上年结转
    ["1", "0", "0", "0", "0", "0", "1"], // （一）予以公开
    ["0", "0", "0", "0", "0", "0", "0"], // （二）部分公开
    ["0", "0", "0", "0", "0", "0", "0"], // （三）1 国家秘密
    ["0", "0", "0", "0", "0", "0", "0"], // （三）2 法律行政法规禁止
    ["0", "0", "0", "0", "0", "0", "0"], // （三）3 三安全一稳定
    ["0", "0", "0", "0", "0", "0", "0"], // （三）4 第三方合法权益
    ["0", "0", "0", "0", "0", "0", "0"], // （三）5 内部事务
    ["0", "0", "0", "0", "0", "0", "0"], // （三）6 过程性信息
    ["0", "0", "0", "0", "0", "0", "0"], // （三）7 行政执法案卷
    ["0", "0", "0", "0", "0", "0", "0"], // （三）8 行政查询事项
    ["7", "0", "0", "0", "0", "0", "7"], // （四）1 本机关不掌握
    ["0", "0", "0", "0", "0", "0", "0"], // （四）2 需要另行制作
    ["0", "0", "0", "0", "0", "0", "0"], // （四）3 补正后仍不明确
    ["0", "0", "0", "0", "0", "0", "0"], // （五）1 信访举报投诉
    ["0", "0", "0", "0", "0", "0", "0"], // （五）2 重复申请
    ["0", "0", "0", "0", "0", "0", "0"], // （五）3 公开出版物
    ["0", "0", "0", "0", "0", "0", "0"], // （五）4 大量反复申请
    ["0", "0", "0", "0", "0", "0", "0"], // （五）5 确认或重新出具
    ["0", "0", "0", "0", "0", "0", "0"], // （六）1 逾期不补正
    ["0", "0", "0", "0", "0", "0", "0"], // （六）2 逾期未缴费
    ["0", "0", "0", "0", "0", "0", "0"], // （六）3 其他
    ["8", "0", "0", "0", "0", "0", "8"], // （七）总计
    ["0", "0", "0", "0", "0", "0", "0"], // 四、结转下年度继续办理
];

/// Table 四: 行政复议, 行政诉讼·未经复议直接起诉, 行政诉讼·复议后起诉 ×
/// (结果维持, 结果纠正, 其他结果, 尚未审结, 总计).
const TABLE_4: [&str; 15] = [
    "0", "0", "0", "0", "0", // 行政复议
    "0", "0", "0", "1", "1", // 未经复议直接起诉
    "0", "0", "0", "0", "0", // 复议后起诉
];

fn expected_tables() -> [(&'static str, Vec<String>); 3] {
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    [
        ("t-active-disclosure", owned(&TABLE_2)),
        ("t-applications", owned(&TABLE_3.concat())),
        ("t-review-litigation", owned(&TABLE_4)),
    ]
}

/// The numbers of sections 二, 三 and 四 of the sample text: every tab-separated field that
/// is a plain number, between the section headings.
fn numbers_in_sample(text: &str) -> Vec<Vec<String>> {
    let headings = [
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况",
        "五、存在的主要问题及改进情况",
    ];
    let lines: Vec<&str> = text.lines().collect();
    let at: Vec<usize> = headings
        .iter()
        .map(|h| {
            lines
                .iter()
                .position(|l| l.trim() == *h)
                .unwrap_or_else(|| panic!("sample has no heading {h}"))
        })
        .collect();
    let is_number = |f: &str| {
        let mut parts = f.splitn(2, '.');
        let int = parts.next().unwrap_or_default();
        let frac = parts.next();
        !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
    };
    at.windows(2)
        .map(|w| {
            lines[w[0] + 1..w[1]]
                .iter()
                .flat_map(|l| l.split('\t'))
                .map(str::trim)
                .filter(|f| is_number(f))
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

#[test]
fn expected_numbers_match_the_published_sample() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/fenyang-2022.txt");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the published report sample should be at {}: {e}",
            path.display()
        )
    });
    let found = numbers_in_sample(&text);
    let expected = expected_tables();
    assert_eq!(found.len(), 3);
    for ((name, want), got) in expected.iter().zip(&found) {
        assert_eq!(got, want, "numbers of {name} in {}", path.display());
    }
    assert_eq!(found.iter().map(Vec::len).sum::<usize>(), 200);
}

#[test]
fn fenyang_2022_shows_the_published_numbers() {
    let (_portal, out) = built();
    let html = page(&out, FENYANG_2022);
    let mut total = 0;
    for (prefix, want) in expected_tables() {
        let cells = data_cells(&html, prefix);
        let got: Vec<&str> = cells.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(
            got, want,
            "data cells of the {prefix}* tables on {FENYANG_2022}"
        );
        assert!(
            cells
                .iter()
                .all(|c| !c.computed && !c.headers.trim().is_empty()),
            "{prefix}: every cell was written by the author and names its headers"
        );
        total += cells.len();
    }
    assert_eq!(total, 200);
    // Every data cell's headers point at header cells of the page.
    let ids: BTreeSet<String> = common::ids(&html).into_iter().collect();
    for prefix in [
        "t-active-disclosure",
        "t-applications",
        "t-review-litigation",
    ] {
        for c in data_cells(&html, prefix) {
            for h in c.headers.split_ascii_whitespace() {
                assert!(ids.contains(h), "{prefix}: headers={h} names no element");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------

#[test]
fn sample_reports_say_so_and_the_real_one_does_not() {
    let (portal, out) = built();
    let reports = report_files(&portal.root());
    let real = reports
        .iter()
        .find(|r| r.rel == "content/2022/fenyang-gov-office.md")
        .expect("the real 2022 report");
    assert!(!real.sample, "{} must not be marked sample", real.rel);
    assert!(
        reports.iter().any(|r| r.sample),
        "the example portal has invented reports"
    );
    for r in &reports {
        let rel = format!("reports/{}/{}/index.html", r.year, r.agency_id);
        let html = page(&out, &rel);
        // The portal's description (in <head>) mentions 示例数据 on every page, so look
        // at the page's own content only.
        let main = main_part(&html);
        assert_eq!(
            main.contains("示例数据"),
            r.sample,
            "{rel} ({}): sample={} but the notice is {}",
            r.rel,
            r.sample,
            if main.contains("示例数据") {
                "shown"
            } else {
                "absent"
            }
        );
        let json = page(
            &out,
            &format!("reports/{}/{}/data.json", r.year, r.agency_id),
        );
        assert!(
            json.contains(&format!("\"sample\":{}", r.sample)),
            "data.json of {} says sample: {}",
            r.rel,
            r.sample
        );
    }
    assert!(!main_part(&page(&out, FENYANG_2022)).contains("示例数据"));
}

#[test]
fn older_formats_render() {
    let (portal, out) = built();
    let reports = report_files(&portal.root());
    let of = |format: &str| -> Vec<&common::ReportFile> {
        reports.iter().filter(|r| r.format == format).collect()
    };
    let f2019 = of("cn-2019");
    let legacy = of("cn-legacy");
    assert!(!f2019.is_empty(), "the example has a cn-2019 report");
    assert!(!legacy.is_empty(), "the example has a cn-legacy report");
    for r in f2019 {
        let html = page(
            &out,
            &format!("reports/{}/{}/index.html", r.year, r.agency_id),
        );
        let tables = table_ids(&html);
        for prefix in [
            "t-active-disclosure",
            "t-applications",
            "t-review-litigation",
        ] {
            assert!(
                tables.iter().any(|t| t.starts_with(prefix)),
                "{}: no {prefix} table in {tables:?}",
                r.rel
            );
        }
        // The 2019 form has 政府集中采购 with a 采购总金额 column, in a table header.
        let headers: Vec<String> = tags(&html)
            .iter()
            .filter(|t| t.name == "th")
            .map(|t| common::text_after(&html, t))
            .collect();
        assert!(
            headers.iter().any(|h| h.contains("采购总金额")),
            "{}: no 采购总金额 column header",
            r.rel
        );
        assert!(!data_cells(&html, "t-active-disclosure").is_empty());
    }
    for r in legacy {
        let html = page(
            &out,
            &format!("reports/{}/{}/index.html", r.year, r.agency_id),
        );
        let tables = table_ids(&html);
        assert!(
            !tables.iter().any(|t| t.starts_with("t-applications")),
            "{}: a pre-2019 report has no national tables, found {tables:?}",
            r.rel
        );
        assert!(
            data_cells(&html, "t-").is_empty(),
            "{}: no data cells",
            r.rel
        );
        let source = portal.read(&r.rel);
        let heading = source
            .lines()
            .find_map(|l| l.strip_prefix("## "))
            .expect("legacy report has a heading");
        assert!(
            main_part(&html).contains(heading.trim()),
            "{}: heading {heading:?} is rendered",
            r.rel
        );
    }
}

#[test]
fn omitted_totals_are_computed_and_marked() {
    let (portal, out) = built();
    let source = portal.read("content/2023/fenyang-edu.md");
    let row = source
        .lines()
        .find(|l| l.trim_start().starts_with("new_received:"))
        .expect("new_received row");
    let list = row
        .split('[')
        .nth(1)
        .and_then(|r| r.split(']').next())
        .expect("a list");
    assert_eq!(
        list.split(',').count(),
        6,
        "the example omits the total: {row}"
    );

    let html = page(&out, "reports/2023/fenyang-edu/index.html");
    let cells = data_cells(&html, "t-applications");
    assert_eq!(cells.len(), 25 * 7);
    let value = |c: &common::DataCell| -> i64 {
        c.value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {:?}", c.value))
    };
    let rows: Vec<&[common::DataCell]> = cells.chunks(7).collect();
    for (i, r) in rows.iter().enumerate() {
        assert!(r[6].computed, "row {i}: the omitted total is computed");
        assert_eq!(
            value(&r[6]),
            r[..6].iter().map(value).sum::<i64>(),
            "row {i}: total = sum of the six applicant columns"
        );
    }
    // （七）总计 (row 24 of 25) is the sum of the 21 outcome rows (rows 3–23).
    for col in 0..7 {
        let sum: i64 = rows[2..23].iter().map(|r| value(&r[col])).sum();
        assert_eq!(value(&rows[23][col]), sum, "（七）总计, column {col}");
        assert!(rows[23][col].computed);
    }
    assert!(
        rows[0][..6].iter().all(|c| !c.computed),
        "authored cells are not marked"
    );
    for c in cells.iter().filter(|c| c.computed) {
        assert!(
            c.inner.contains("自动计算"),
            "computed cell lacks the mark: {:?}",
            c.inner
        );
    }
    for c in cells.iter().filter(|c| !c.computed) {
        assert!(
            !c.inner.contains("自动计算"),
            "authored cell marked: {:?}",
            c.inner
        );
    }
    let review = data_cells(&html, "t-review-litigation");
    assert_eq!(review.len(), 15);
    for (i, group) in review.chunks(5).enumerate() {
        assert!(
            group[4].computed,
            "review/litigation group {i}: total computed"
        );
        assert_eq!(value(&group[4]), group[..4].iter().map(value).sum::<i64>());
    }
    assert!(main_part(&html).contains("自动计算"));

    // A report that writes its totals shows no computed cell.
    let real = page(&out, FENYANG_2022);
    assert!(
        !real.contains("自动计算"),
        "{FENYANG_2022} has no computed cells"
    );
}

/// Modification times of every file in a built site, by path.
fn times(dir: &std::path::Path) -> std::collections::BTreeMap<String, std::time::SystemTime> {
    tree(dir)
        .keys()
        .map(|p| {
            let t = std::fs::metadata(dir.join(p))
                .and_then(|m| m.modified())
                .expect("mtime");
            (p.clone(), t)
        })
        .collect()
}

#[test]
fn a_rebuild_writes_only_what_changed() {
    let portal = Portal::example();
    let out = portal.out("site");
    portal.build(&out).assert_ok();
    let first = tree(&out);
    let before = times(&out);

    // Nothing changed: nothing is written.
    let run = portal.build(&out);
    run.assert_ok();
    assert!(
        run.stdout.contains("（0 个有变化，0 个删除）"),
        "{}",
        run.stdout
    );
    assert_eq!(times(&out), before, "no file was touched");

    // A file edited by hand in the output is put back; a stray file goes.
    std::fs::write(out.join("index.html"), "tampered").expect("write");
    std::fs::write(out.join("stray.html"), "x").expect("write");
    let run = portal.build(&out);
    run.assert_ok();
    assert!(
        run.stdout.contains("（1 个有变化，1 个删除）"),
        "{}",
        run.stdout
    );
    let site = |mut t: std::collections::BTreeMap<String, Vec<u8>>| {
        t.remove(".portalgen-output");
        t
    };
    assert!(
        site(tree(&out)) == site(first),
        "the site is as the first build made it"
    );

    // One report's prose changes: its page is written again, an unrelated one is not.
    let before = times(&out);
    let index = "search/index.json";
    let new_word = "\"试新\""; // a bigram of the sentence added below
    let read = |rel: &str| std::fs::read_to_string(out.join(rel)).expect("read");
    assert!(!read(index).contains(new_word));
    portal.replace_once(
        "content/2023/fenyang-edu.md",
        "## 一、总体情况\n",
        "## 一、总体情况\n\n本段为测试新增。\n",
    );
    let run = portal.build(&out);
    run.assert_ok();
    let after = times(&out);
    let page = "reports/2023/fenyang-edu/index.html";
    assert_ne!(
        after[page], before[page],
        "the changed report's page is rewritten"
    );
    assert!(
        std::fs::read_to_string(out.join(page))
            .expect("read")
            .contains("本段为测试新增")
    );
    let other = "reports/2022/fenyang-gov/index.html";
    assert_eq!(
        after[other], before[other],
        "another report's page is left alone"
    );
    // The search index is made again only when its documents change: here they did.
    assert_ne!(after[index], before[index], "the search index is rewritten");
    assert!(
        read(index).contains(new_word),
        "the new words are in the index"
    );
    // The report's numbers did not change, so neither did its data files.
    for data in ["reports/2023/fenyang-edu/data.json", "data/portal.json"] {
        assert_eq!(after[data], before[data], "{data} is left alone");
    }
    let changed = after
        .iter()
        .filter(|(p, t)| before.get(*p) != Some(*t))
        .count();
    assert!(
        changed < after.len() / 4,
        "{changed} of {} files rewritten",
        after.len()
    );

    // The agency registry changes: the open data made from it is made again.
    portal.replace_once(
        "content/agencies.yaml",
        "fenyang-gov:\n  name: 汾阳市人民政府\n  kind: government\n",
        "fenyang-gov:\n  name: 汾阳市人民政府\n  kind: government\n  former_names:\n    - {name: 汾阳县人民政府, until: 1996}\n",
    );
    portal.build(&out).assert_ok();
    assert!(read("data/portal.json").contains("汾阳县人民政府"));
}
