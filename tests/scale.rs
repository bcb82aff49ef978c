//! Issue 8: a generated portal of 2,000 reports (`portalgen::synth`: 200 agencies × 10
//! years) checks clean but for the warnings the generator planted on purpose, and builds
//! every page it should. Not timed: this keeps the generator and the build correct at
//! scale; `bench/run` measures speed.
//!
//! The expected pages are derived from the generated content (the report files' front
//! matter), never from the build's own output.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::{Tag, decode_entities, tags, text_after};
use portalgen::synth;

/// Reports in the portal.
const N: usize = 2000;

/// A report as its file says: read back from the front matter, not taken from the
/// generator's summary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Report {
    /// `content/<year>/<agency_id>.md`.
    file: String,
    year: i32,
    agency_id: String,
    agency: String,
    published: String,
}

/// The report files under `<root>/content`, read with a plain scan of the front matter.
fn read_reports(root: &Path) -> Vec<Report> {
    let mut out = Vec::new();
    for r in common::report_files(root) {
        let text = fs::read_to_string(root.join(&r.rel)).expect("read report");
        let front = text.split("\n---").next().expect("front matter").to_owned();
        let field = |key: &str| {
            front
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .unwrap_or_else(|| panic!("{}: no {key}", r.rel))
                .trim()
                .to_owned()
        };
        out.push(Report {
            file: r.rel.clone(),
            year: r.year.parse().expect("year"),
            agency_id: r.agency_id.clone(),
            agency: field("agency:"),
            published: field("published:"),
        });
    }
    out.sort();
    out
}

/// Runs the real binary with `args` and returns (exit code, stdout, stderr).
fn portalgen(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_portalgen"))
        .args(args)
        .output()
        .expect("run portalgen");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "portalgen panicked:\n{stderr}"
    );
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr,
    )
}

/// The text of an element: everything between `open` and its closing tag, tags removed.
fn inner_text(html: &str, all: &[Tag], open: usize) -> String {
    let close = format!("/{}", all[open].name);
    let end = all[open + 1..]
        .iter()
        .find(|t| t.name == close)
        .map_or(html.len(), |t| t.start);
    let mut text = String::new();
    let mut rest = &html[all[open].end..end];
    while let Some(i) = rest.find('<') {
        text.push_str(&rest[..i]);
        rest = rest[i..].find('>').map_or("", |j| &rest[i + j + 1..]);
    }
    text.push_str(rest);
    decode_entities(&text).trim().to_owned()
}

/// What the checks section of a report page shows.
#[derive(Debug, Default)]
struct Checks {
    /// Texts of the `status status-ok` badges ("✓ 通过全部 N 项检查").
    ok: Vec<String>,
    /// Classes of the other status badges (`status status-warning`, …).
    other: Vec<String>,
    /// Rules listed as findings.
    findings: Vec<String>,
    /// Rules listed as passed.
    passed: Vec<String>,
}

/// Reads the `<section class="checks">` of a report page; `None` when there is none.
fn checks_section(html: &str, all: &[Tag]) -> Option<Checks> {
    let start = all
        .iter()
        .position(|t| t.name == "section" && t.has_class("checks"))?;
    let mut checks = Checks::default();
    let mut list = "";
    for t in &all[start + 1..] {
        match t.name.as_str() {
            "/section" => break,
            "ul" if t.has_class("findings") => list = "findings",
            "ul" if t.has_class("passed") => list = "passed",
            "/ul" => list = "",
            "span" if t.has_class("status") => {
                if t.has_class("status-ok") {
                    checks.ok.push(text_after(html, t));
                } else {
                    checks
                        .other
                        .push(t.attr("class").unwrap_or_default().to_owned());
                }
            }
            "strong" if list == "findings" => checks.findings.push(text_after(html, t)),
            "strong" if list == "passed" => checks.passed.push(text_after(html, t)),
            _ => {}
        }
    }
    Some(checks)
}

/// The rules that every generated report passes: the sums of tables 三 and 四.
const CORE_RULES: &[&str] = &["T3-01", "T3-02", "T3-03", "T4-01"];

#[test]
fn a_generated_portal_of_2000_reports_checks_and_builds() {
    let started = Instant::now();
    let tmp = tempfile::Builder::new()
        .prefix("portalgen-scale-")
        .tempdir()
        .expect("temp dir");
    let root = tmp.path().join("portal");
    let summary = synth::generate(&root, N).expect("generate the portal");
    // Minifying 2,000 reports' pages takes half the build in a debug binary (about 75 of
    // 150 s on 2 cores); the other tests cover minified output.
    let settings = root.join("portal.yaml");
    let yaml = fs::read_to_string(&settings).expect("read portal.yaml");
    fs::write(&settings, format!("{yaml}minify: false\n")).expect("write portal.yaml");
    eprintln!("scale: generated in {:.1?}", started.elapsed());

    // What the files say agrees with what the generator says it wrote.
    let reports = read_reports(&root);
    assert_eq!(reports.len(), N, "report files in content/");
    let mut listed: Vec<(String, i32, String, String)> = summary
        .reports
        .iter()
        .map(|r| {
            (
                r.file.clone(),
                r.year,
                r.agency_id.clone(),
                r.agency.clone(),
            )
        })
        .collect();
    listed.sort();
    let read: Vec<(String, i32, String, String)> = reports
        .iter()
        .map(|r| {
            (
                r.file.clone(),
                r.year,
                r.agency_id.clone(),
                r.agency.clone(),
            )
        })
        .collect();
    assert!(
        listed == read,
        "the generator's summary differs from the files it wrote"
    );
    let years: BTreeSet<i32> = reports.iter().map(|r| r.year).collect();
    let mut agencies: BTreeMap<&str, (&str, BTreeSet<i32>)> = BTreeMap::new();
    for r in &reports {
        agencies
            .entry(&r.agency_id)
            .or_insert((&r.agency, BTreeSet::new()))
            .1
            .insert(r.year);
    }
    assert_eq!(years.len(), 10, "ten years");
    assert_eq!(agencies.len(), N / 10, "N/10 agencies");
    // The deliberate warnings: a late report in 50 and a repeated paragraph in 100.
    let planted: BTreeSet<(String, String, usize)> = summary
        .planted
        .iter()
        .map(|p| (p.file.clone(), p.rule.to_owned(), p.line))
        .collect();
    assert_eq!(planted.len(), summary.planted.len(), "planted twice");
    let count = |rule: &str| planted.iter().filter(|p| p.1 == rule).count();
    assert_eq!(count(synth::LATE_RULE), N / 50);
    assert_eq!(count(synth::REPEAT_RULE), N / 100);

    // ---- check: no errors, and exactly the planted warnings.
    let t = Instant::now();
    let (code, stdout, stderr) = portalgen(&[
        "check".as_ref(),
        "--root".as_ref(),
        root.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    eprintln!("scale: checked in {:.1?}", t.elapsed());
    assert_eq!(code, 0, "check failed:\n{stderr}");
    let mut found = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for line in stdout.lines() {
        let d: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON diagnostic ({e}): {line}"));
        let s = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
        let n = |k: &str| d[k].as_u64().unwrap_or_default() as usize;
        assert_eq!(s("severity"), "warning", "not a warning: {line}");
        let key = (s("file"), s("rule"), n("line"));
        assert!(
            planted.contains(&key),
            "a warning the generator did not plant: {line}"
        );
        assert!(
            seen.insert((key.clone(), n("column"))),
            "reported twice: {line}"
        );
        found.insert(key);
    }
    let missed: Vec<_> = planted.difference(&found).collect();
    assert!(
        missed.is_empty(),
        "planted warnings not reported: {missed:?}"
    );

    // ---- build.
    let out = tmp.path().join("site");
    let t = Instant::now();
    let (code, _, stderr) = portalgen(&[
        "build".as_ref(),
        "--root".as_ref(),
        root.as_os_str(),
        "--output".as_ref(),
        out.as_os_str(),
    ]);
    eprintln!("scale: built in {:.1?}", t.elapsed());
    assert_eq!(code, 0, "build failed:\n{stderr}");

    // Every page that the content calls for.
    let mut expected: Vec<String> = [
        "index.html",
        "404.html",
        "feed.xml",
        "years/index.html",
        "agencies/index.html",
        "search/index.html",
    ]
    .iter()
    .map(|p| (*p).to_owned())
    .collect();
    for y in &years {
        expected.push(format!("years/{y}/index.html"));
        // Peers of the year: one page, sorted in the browser.
        expected.push(format!("years/{y}/compare/index.html"));
    }
    for (id, (_, ys)) in &agencies {
        expected.push(format!("agencies/{id}/index.html"));
        for y in ys {
            if ys.contains(&(y + 1)) {
                expected.push(format!("agencies/{id}/compare/{y}-{}/index.html", y + 1));
            }
        }
    }
    for r in &reports {
        for f in ["index.html", "data.json", "data.csv"] {
            expected.push(format!("reports/{}/{}/{f}", r.year, r.agency_id));
        }
    }
    assert_eq!(
        expected.len(),
        6 + 2 * 10 + (N / 10) * (1 + 9) + 3 * N,
        "expected pages, counted"
    );
    let missing: Vec<&String> = expected
        .iter()
        .filter(|p| !out.join(p.as_str()).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} pages missing, first: {:?}",
        missing.len(),
        expected.len(),
        &missing[..missing.len().min(10)]
    );

    // Exactly one report page per report, no extras.
    let subdirs = |dir: &Path| -> Vec<std::path::PathBuf> {
        common::entries(dir)
            .into_iter()
            .map(|e| dir.join(e))
            .filter(|p| p.is_dir())
            .collect()
    };
    let report_pages = subdirs(&out.join("reports"))
        .iter()
        .flat_map(|year| subdirs(year))
        .filter(|agency| agency.join("index.html").is_file())
        .count();
    assert_eq!(report_pages, N, "report pages in reports/");
    let agency_pages = subdirs(&out.join("agencies"))
        .iter()
        .filter(|a| a.join("index.html").is_file())
        .count();
    assert_eq!(agency_pages, N / 10, "agency pages in agencies/");

    // Each report page: its agency and year, and its checks passed (with only the planted
    // warnings listed as findings).
    let t = Instant::now();
    let mut planted_rules: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for p in &summary.planted {
        planted_rules.entry(&p.file).or_default().insert(p.rule);
    }
    for r in &reports {
        let dir = format!("reports/{}/{}", r.year, r.agency_id);
        let html = fs::read_to_string(out.join(&dir).join("index.html")).expect("read page");
        let all = tags(&html);
        let h1 = all
            .iter()
            .position(|t| t.name == "h1")
            .unwrap_or_else(|| panic!("{dir}: no h1"));
        let title = inner_text(&html, &all, h1);
        assert!(
            title.contains(&r.agency) && title.contains(&format!("{}年", r.year)),
            "{dir}: the heading {title:?} names neither {} nor {}",
            r.agency,
            r.year
        );
        let checks = checks_section(&html, &all).unwrap_or_else(|| panic!("{dir}: no checks"));
        let expected_findings = planted_rules.get(r.file.as_str());
        if let Some(rules) = expected_findings {
            assert!(checks.ok.is_empty(), "{dir}: all passed despite {rules:?}");
            let listed: BTreeSet<&str> = checks.findings.iter().map(String::as_str).collect();
            assert_eq!(&listed, rules, "{dir}: findings");
            assert!(
                checks.other.iter().all(|c| c == "status status-warning"),
                "{dir}: {:?}",
                checks.other
            );
        } else {
            assert!(
                checks.findings.is_empty() && checks.other.is_empty(),
                "{dir}: findings {:?} {:?}",
                checks.findings,
                checks.other
            );
            let passed = checks.passed.len();
            assert_eq!(
                checks.ok,
                [format!("✓ 通过全部 {passed} 项检查")],
                "{dir}: the all-passed status"
            );
        }
        for rule in CORE_RULES {
            assert!(
                checks.passed.iter().any(|p| p == rule),
                "{dir}: {rule} not among the passed checks {:?}",
                checks.passed
            );
        }

        let data: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join(&dir).join("data.json")).unwrap())
                .unwrap_or_else(|e| panic!("{dir}/data.json: {e}"));
        assert_eq!(data["agency_id"], r.agency_id.as_str(), "{dir}/data.json");
        assert_eq!(data["agency"], r.agency.as_str(), "{dir}/data.json");
        assert_eq!(data["year"], r.year, "{dir}/data.json");
        assert_eq!(data["published"], r.published.as_str(), "{dir}/data.json");
        let csv = fs::read_to_string(out.join(&dir).join("data.csv")).unwrap();
        assert!(
            csv.lines().count() > 100,
            "{dir}/data.csv: {} lines",
            csv.lines().count()
        );
    }
    // Each agency page names its agency and links to its reports; each year page, its own.
    for (id, (name, ys)) in &agencies {
        let html = fs::read_to_string(out.join(format!("agencies/{id}/index.html"))).unwrap();
        assert!(html.contains(name), "agencies/{id}: no {name}");
        for y in ys {
            let link = format!("reports/{y}/{id}/index.html");
            assert!(html.contains(&link), "agencies/{id}: no link to {link}");
        }
    }
    for y in &years {
        let html = fs::read_to_string(out.join(format!("years/{y}/index.html"))).unwrap();
        for r in reports.iter().filter(|r| r.year == *y) {
            let link = format!("reports/{y}/{}/index.html", r.agency_id);
            assert!(html.contains(&link), "years/{y}: no link to {link}");
        }
    }
    eprintln!("scale: pages read in {:.1?}", t.elapsed());
    eprintln!("scale: total {:.1?}", started.elapsed());
}
