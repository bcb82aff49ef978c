//! `init`, `new`, feeds and discovery files, revisions: driven through the real binary.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{Portal, Run, build};

fn portalgen(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_portalgen"))
        .args(args)
        .output()
        .expect("run portalgen");
    Run {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn init_makes_a_portal_that_builds_at_once_and_new_fills_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("portal");
    portalgen(&["init", s(&dir), "--title", "测试门户"]).assert_ok();
    let settings = fs::read_to_string(dir.join("portal.yaml")).expect("portal.yaml");
    for key in [
        "title:",
        "# description:",
        "language:",
        "# base_url:",
        "theme:",
        "# theme_settings:",
        "# allow_html:",
        "# minify:",
    ] {
        assert!(settings.contains(key), "portal.yaml documents {key}");
    }
    assert!(dir.join("content/agencies.yaml").is_file());
    assert!(
        !dir.join("themes").exists(),
        "the built-in theme is used by reference"
    );
    build(&dir, None).assert_ok();
    assert!(dir.join("public/index.html").is_file());

    // A second init refuses to overwrite.
    let again = portalgen(&["init", s(&dir)]);
    assert!(
        !again.ok() && again.stderr.contains("portal.yaml"),
        "{}",
        again.stderr
    );

    // The first report of a new agency: it joins the registry and the portal still builds.
    portalgen(&[
        "new",
        "--root",
        s(&dir),
        "--agency",
        "test-office",
        "--year",
        "2025",
        "--name",
        "某某市人民政府办公室",
        "--kind",
        "department",
    ])
    .assert_ok();
    let report = fs::read_to_string(dir.join("content/2025/test-office.md")).expect("new report");
    assert!(
        report.contains("published: 2026-01-31"),
        "deadline of a department: {report}"
    );
    assert!(
        report.contains("# 一、本年新收政府信息公开申请数量"),
        "row labels as comments"
    );
    assert!(report.contains("## 六、其他需要报告的事项"));
    let registry = fs::read_to_string(dir.join("content/agencies.yaml")).expect("registry");
    assert!(
        registry.contains("test-office:\n  name: 某某市人民政府办公室\n  kind: department"),
        "{registry}"
    );
    let run = build(&dir, None);
    run.assert_ok();
    assert!(
        run.stderr.contains("[TX-04]"),
        "unfilled sections are flagged: {}",
        run.stderr
    );
}

#[test]
fn new_prefills_from_last_year_and_refuses_to_overwrite() {
    let portal = Portal::example();
    let root = portal.root();
    // 2023 of 汾阳市教育局 exists: a 2024 report carries its numbers forward.
    portalgen(&[
        "new",
        "--root",
        s(&root),
        "--agency",
        "fenyang-edu",
        "--year",
        "2024",
    ])
    .assert_ok();
    let text = portal.read("content/2024/fenyang-edu.md");
    let last = portal.read("content/2023/fenyang-edu.md");
    let row = |text: &str, key: &str| -> String {
        text.lines()
            .find(|l| l.trim_start().starts_with(&format!("{key}:")))
            .map(|l| {
                l.split('#')
                    .next()
                    .unwrap_or("")
                    .split_once(':')
                    .map(|x| x.1.trim().to_owned())
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    };
    let numbers = |v: &str| -> Vec<i64> {
        v.trim_matches(|c| c == '[' || c == ']' || c == '{' || c == '}')
            .split(',')
            .filter_map(|x| x.split(':').next_back().and_then(|n| n.trim().parse().ok()))
            .collect()
    };
    let carried_out = numbers(&row(&last, "carried_out"));
    let carried_in = numbers(&row(&text, "carried_in"));
    assert_eq!(
        &carried_in[..carried_out.len().min(6)],
        &carried_out[..carried_out.len().min(6)],
        "上年结转 = last year's 结转下年度"
    );
    let in_force_last = numbers(&row(&last, "normative_documents"))[2];
    assert_eq!(
        numbers(&row(&text, "normative_documents")),
        vec![0, 0, in_force_last],
        "现行有效 rolled forward"
    );
    assert!(text.contains("agency: 汾阳市教育局") && text.contains("agency_kind: department"));

    let before = portal.read("content/2023/fenyang-edu.md");
    let again = portalgen(&[
        "new",
        "--root",
        s(&root),
        "--agency",
        "fenyang-edu",
        "--year",
        "2023",
    ]);
    assert!(!again.ok(), "refuses");
    assert!(
        again.stderr.contains("content/2023/fenyang-edu.md") && again.stderr.contains("不会覆盖"),
        "{}",
        again.stderr
    );
    assert_eq!(
        portal.read("content/2023/fenyang-edu.md"),
        before,
        "the existing report is untouched"
    );
}

#[test]
fn feed_sitemap_robots_and_404() {
    let portal = Portal::example();
    let out = portal.out("site");
    build(&portal.root(), Some(&out)).assert_ok();
    let feed = fs::read_to_string(out.join("feed.xml")).expect("feed");
    assert!(
        feed.starts_with("<?xml") && feed.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\"")
    );
    assert!(feed.contains("汾阳市人民政府办公室2022年政府信息公开工作年度报告"));
    assert!(
        feed.contains("修订："),
        "the revision of the 2021 government report is announced"
    );
    assert_well_formed(&feed);
    assert!(
        !out.join("sitemap.xml").exists(),
        "no sitemap without base_url"
    );
    assert!(
        fs::read_to_string(out.join("robots.txt"))
            .expect("robots")
            .contains("User-agent: *")
    );
    assert!(
        fs::read_to_string(out.join("404.html"))
            .expect("404")
            .contains("index.html")
    );

    portal.modify("portal.yaml", |t| {
        format!("{t}base_url: https://example.gov.cn/nb\n")
    });
    build(&portal.root(), Some(&out)).assert_ok();
    let sitemap = fs::read_to_string(out.join("sitemap.xml")).expect("sitemap");
    assert_well_formed(&sitemap);
    assert!(sitemap.contains(
        "<loc>https://example.gov.cn/nb/reports/2022/fenyang-gov-office/index.html</loc>"
    ));
    assert!(
        fs::read_to_string(out.join("robots.txt"))
            .expect("robots")
            .contains("Sitemap: https://example.gov.cn/nb/sitemap.xml")
    );
    let feed = fs::read_to_string(out.join("feed.xml")).expect("feed");
    assert!(
        feed.contains(
            "href=\"https://example.gov.cn/nb/reports/2022/fenyang-gov-office/index.html\""
        )
    );
}

#[test]
fn revisions_are_shown_and_validated() {
    let portal = Portal::example();
    let out = portal.out("site");
    build(&portal.root(), Some(&out)).assert_ok();
    let page = fs::read_to_string(out.join("reports/2021/fenyang-gov/index.html")).expect("page");
    assert!(page.contains("修订记录") && page.contains("2022-04-15"));

    let text = portal.replace_once(
        "content/2021/fenyang-gov.md",
        "date: 2022-04-15",
        "date: 2022-01-15",
    );
    let run = build(&portal.root(), Some(&out));
    let (line, col) = common::pos_of(&text, "2022-01-15");
    assert!(!run.ok());
    assert!(
        run.locations()
            .contains(&format!("content/2021/fenyang-gov.md:{line}:{col}")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("早于公开日期"), "{}", run.stderr);
}

/// The document parses as XML from start to end (quick-xml checks that tags match).
fn assert_well_formed(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed XML at {}: {e}", reader.buffer_position()),
        }
    }
    assert_eq!(depth, 0, "unclosed elements");
}

/// The search page's algorithm (static/search.js), applied to the built index.
fn search(index: &serde_json::Value, query: &str) -> Vec<(String, String)> {
    let tokens = portalgen::search::tokens(query);
    let mut hits: Option<Vec<u64>> = None;
    for t in tokens {
        let Some(p) = index["tokens"][&t].as_str() else {
            return Vec::new();
        };
        let mut prev = 0;
        let ids: Vec<u64> = p
            .split(',')
            .map(|d| {
                prev += u64::from_str_radix(d, 36).expect("base36");
                prev
            })
            .collect();
        hits = Some(match hits {
            None => ids,
            Some(h) => h.into_iter().filter(|id| ids.contains(id)).collect(),
        });
    }
    hits.unwrap_or_default()
        .into_iter()
        .map(|id| {
            let doc = &index["docs"][(id / 64) as usize];
            let section = &doc[4][(id % 64) as usize];
            (
                doc[1].as_str().unwrap_or_default().to_owned(),
                section[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn search_finds_reports_by_a_chinese_word_and_by_agency() {
    let portal = Portal::example();
    let out = portal.out("site");
    build(&portal.root(), Some(&out)).assert_ok();
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("search/index.json")).expect("index"))
            .expect("json");
    // A two-character word of the 汾阳 2022 prose (§一), found in its section.
    let hits = search(&index, "公报");
    assert!(
        hits.contains(&(
            "reports/2022/fenyang-gov-office/index.html".to_owned(),
            "s1".to_owned()
        )),
        "{hits:?}"
    );
    // By agency name.
    let hits = search(&index, "教育局");
    for year in [2021, 2022, 2023] {
        assert!(
            hits.iter()
                .any(|(u, _)| u == &format!("reports/{year}/fenyang-edu/index.html")),
            "{hits:?}"
        );
    }
    assert!(search(&index, "不存在的词语组合").is_empty());
    // The page links the script, and the index stays small next to the site.
    let page = fs::read_to_string(out.join("search/index.html")).expect("page");
    assert!(page.contains("static/search.js"));
    let site: u64 = common::tree(&out).values().map(|b| b.len() as u64).sum();
    let size = fs::metadata(out.join("search/index.json"))
        .expect("meta")
        .len();
    assert!(size * 10 < site, "index {size} bytes vs site {site}");
}
