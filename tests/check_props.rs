//! Property test of the check stage: valid reports pass, and every single-cell change to
//! table 三 or 四 is caught.
//!
//! For each of the two formats with tables (cn-2021 and cn-2019), a deterministic
//! generator (xorshift, fixed seeds) writes the front matter of a valid report: table 二
//! with random counts (and decimals, and signed changes for cn-2019), table 三 with random
//! outcome cells and consistent totals (总计 column = the six applicant columns, （七）总计 =
//! the outcome rows, 结转下年度 ≤ 新收 + 上年结转 so that item 1 + item 2 = item 3 + item 4),
//! table 四 with its totals. The check must find nothing. Then one random cell of table
//! 三 or 四 (totals included) changes by a random non-zero amount that keeps it ≥ 0, and
//! the check must return an error on that cell's row.
//!
//! `site::check_text` loads the built-in formats and compiles every rule's patterns on each
//! call (about 50 ms in a debug build), so it runs on the first `VIA_CHECK_TEXT` cases of
//! each format only; every case runs through the same stages (`load::parse_source`,
//! `model::build_library`, `check::check_report`) with the formats loaded once, and the two
//! are asserted to agree wherever both run.

use std::path::Path;
use std::sync::OnceLock;

use portalgen::Diagnostic;
use portalgen::check::{Compiled, check_report};
use portalgen::schema::{Registry, Severity};
use portalgen::site::check_text;
use portalgen::{load, model};

/// Cases per format.
const CASES: usize = 300;
/// Cases per format that also go through `site::check_text`.
const VIA_CHECK_TEXT: usize = 5;

/// The built-in formats and their compiled patterns, loaded once.
struct Engine {
    registry: Registry,
    compiled: Compiled,
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let registry = Registry::load(Path::new("/nonexistent-portal/schemas"))
            .expect("the built-in formats load");
        let compiled = Compiled::new(&registry);
        Engine { registry, compiled }
    })
}

/// What `check_text(rel, text, None)` does, with the formats loaded once.
fn check(rel: &str, text: &str) -> Vec<Diagnostic> {
    let e = engine();
    let source = match load::parse_source(rel.to_owned(), Path::new(rel), text.to_owned()) {
        Ok(s) => s,
        Err(d) => return vec![*d],
    };
    match model::build_library(vec![source], &e.registry) {
        Ok(lib) => lib
            .reports
            .iter()
            .flat_map(|r| {
                let schema = e.registry.get(&r.format).expect("the report's format");
                check_report(r, None, schema, &e.registry, &e.compiled).diagnostics
            })
            .collect(),
        Err(d) => d,
    }
}

/// Checks through `check`, and through `site::check_text` too when `both`; they agree.
fn check_both(rel: &str, text: &str, both: bool) -> Vec<Diagnostic> {
    let found = check(rel, text);
    if both {
        let via = check_text(rel, text, None);
        assert_eq!(show(&via), show(&found), "check_text agrees\n{text}");
    }
    found
}

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Never zero; spread small seeds.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A count as reports have them: mostly 0 or small, sometimes large.
    fn count(&mut self) -> i64 {
        match self.below(10) {
            0..=4 => 0,
            5..=7 => self.range(1, 9),
            8 => self.range(10, 500),
            _ => self.range(500, 40_000),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Cn2021,
    Cn2019,
}

impl Format {
    fn id(self) -> &'static str {
        match self {
            Format::Cn2021 => "cn-2021",
            Format::Cn2019 => "cn-2019",
        }
    }

    /// The outcome rows of table 三 (三、本年度办理结果, without （七）总计).
    fn outcome_rows(self) -> Vec<&'static str> {
        let mut rows = vec![
            "r_granted",
            "r_partial",
            "r_deny_state_secret",
            "r_deny_law_prohibited",
            "r_deny_security",
            "r_deny_third_party",
            "r_deny_internal",
            "r_deny_process",
            "r_deny_enforcement",
            "r_deny_query",
            "r_unable_not_held",
            "r_unable_needs_creation",
            "r_unable_unclear",
            "r_noproc_petition",
            "r_noproc_duplicate",
            "r_noproc_publication",
            "r_noproc_mass_repeat",
            "r_noproc_confirm",
        ];
        match self {
            Format::Cn2021 => rows.extend([
                "r_other_no_correction",
                "r_other_fee_unpaid",
                "r_other_other",
            ]),
            Format::Cn2019 => rows.push("r_other"),
        }
        rows
    }
}

/// The six applicant columns of table 三, then 总计.
const APPLICANTS: usize = 6;
/// Columns of table 四, 总计 last.
const REVIEW_COLS: [&str; 5] = ["upheld", "corrected", "other", "pending", "total"];
const REVIEW_ROWS: [&str; 3] = ["review", "litigation_direct", "litigation_after_review"];

/// A generated report: its metadata, table 二 as text, tables 三 and 四 as numbers.
#[derive(Debug, Clone)]
struct Report {
    format: Format,
    year: i32,
    kind: &'static str,
    active: String,
    /// (row key, seven numbers), in schema order.
    applications: Vec<(&'static str, Vec<i64>)>,
    /// (row key, five numbers).
    review: Vec<(&'static str, Vec<i64>)>,
}

/// An amount in 万元 with 0 to 4 decimal places.
fn amount(rng: &mut Rng) -> String {
    let whole = rng.count();
    match rng.below(5) {
        0 => whole.to_string(),
        places => {
            let frac = rng.below(10u64.pow(places as u32));
            format!("{whole}.{frac:0width$}", width = places as usize)
        }
    }
}

fn active_2021(rng: &mut Rng) -> String {
    let mut out = String::new();
    for row in ["regulations", "normative_documents"] {
        out += &format!(
            "  {row}: {{issued: {}, repealed: {}, in_force: {}}}\n",
            rng.count(),
            rng.count(),
            rng.count()
        );
    }
    for row in ["licensing", "penalty", "coercion"] {
        out += &format!("  {row}: {{decisions: {}}}\n", rng.count());
    }
    out += &format!("  admin_fees: {{amount: {}}}\n", amount(rng));
    out
}

fn active_2019(rng: &mut Rng) -> String {
    let mut out = String::new();
    for row in ["regulations", "normative_documents"] {
        out += &format!(
            "  {row}: {{made: {}, published: {}, total_public: {}}}\n",
            rng.count(),
            rng.count(),
            rng.count()
        );
    }
    for row in ["licensing", "other_services", "penalty", "coercion"] {
        let previous = rng.count();
        // 本年增/减 is signed: anything that keeps the item count ≥ 0.
        let change = rng.range(-previous, 50);
        out += &format!(
            "  {row}: {{previous: {previous}, change: {change}, decisions: {}}}\n",
            rng.count()
        );
    }
    let previous = rng.count();
    out += &format!(
        "  admin_fees: {{previous: {previous}, change: {}}}\n",
        rng.range(-previous, 20)
    );
    out += &format!(
        "  central_procurement: {{projects: {}, amount: {}}}\n",
        rng.count(),
        amount(rng)
    );
    out
}

/// A row of table 三 with its 总计.
fn with_total(six: Vec<i64>) -> Vec<i64> {
    let total = six.iter().sum();
    let mut row = six;
    row.push(total);
    row
}

fn generate(format: Format, rng: &mut Rng) -> Report {
    let year = match format {
        Format::Cn2021 => rng.range(2021, 2025) as i32,
        Format::Cn2019 => 2020,
    };
    let kind = ["government", "department", "township", "other"][rng.below(4) as usize];
    let active = match format {
        Format::Cn2021 => active_2021(rng),
        Format::Cn2019 => active_2019(rng),
    };

    // Table 三: outcomes first; then, per applicant column, 结转下年度 and 上年结转 at random
    // and 新收 = （七）总计 + 结转下年度 − 上年结转 (item 1 + item 2 = item 3 + item 4).
    let outcomes: Vec<(&'static str, Vec<i64>)> = format
        .outcome_rows()
        .into_iter()
        .map(|key| {
            let busy = rng.chance(30);
            let six = (0..APPLICANTS)
                .map(|_| if busy { rng.count() } else { 0 })
                .collect();
            (key, with_total(six))
        })
        .collect();
    let r_total: Vec<i64> = (0..APPLICANTS)
        .map(|c| outcomes.iter().map(|(_, row)| row[c]).sum())
        .collect();
    let mut new_received = Vec::new();
    let mut carried_in = Vec::new();
    let mut carried_out = Vec::new();
    for &done in &r_total {
        let out = if rng.chance(40) { rng.range(0, 20) } else { 0 };
        let total_in = done + out;
        let previous = if rng.chance(40) {
            rng.range(0, total_in)
        } else {
            0
        };
        carried_out.push(out);
        carried_in.push(previous);
        new_received.push(total_in - previous);
    }
    let mut applications = vec![
        ("new_received", with_total(new_received)),
        ("carried_in", with_total(carried_in)),
    ];
    applications.extend(outcomes);
    applications.push(("r_total", with_total(r_total)));
    applications.push(("carried_out", with_total(carried_out)));

    let review = REVIEW_ROWS
        .iter()
        .map(|&key| {
            let four: Vec<i64> = (0..4)
                .map(|_| if rng.chance(50) { rng.range(0, 12) } else { 0 })
                .collect();
            let total = four.iter().sum();
            let mut row = four;
            row.push(total);
            (key, row)
        })
        .collect();

    Report {
        format,
        year,
        kind,
        active,
        applications,
        review,
    }
}

/// The report's text: front matter (lists for 三, maps for 四) and a body without numbers.
fn render(r: &Report) -> String {
    let mut t = String::from("---\n");
    t += &format!("format: {}\n", r.format.id());
    t += "agency: 测试市人民政府办公室\n";
    t += "agency_id: test-office\n";
    t += &format!("agency_kind: {}\n", r.kind);
    t += &format!("year: {}\n", r.year);
    // Within every deadline (31 January for departments).
    t += &format!("published: {}-01-15\n", r.year + 1);
    t += "active_disclosure:\n";
    t += &r.active;
    t += "applications:\n";
    for (key, row) in &r.applications {
        let cells: Vec<String> = row.iter().map(i64::to_string).collect();
        t += &format!("  {key}: [{}]\n", cells.join(", "));
    }
    t += "review_litigation:\n";
    for (key, row) in &r.review {
        let cells: Vec<String> = REVIEW_COLS
            .iter()
            .zip(row)
            .map(|(c, v)| format!("{c}: {v}"))
            .collect();
        t += &format!("  {key}: {{{}}}\n", cells.join(", "));
    }
    t += "---\n";
    for heading in [
        "一、总体情况",
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况",
        "五、存在的主要问题及改进情况",
        "六、其他需要报告的事项",
    ] {
        t += &format!("## {heading}\n\n关于{heading}，本机关依法做好此项工作。\n\n");
    }
    t
}

/// The file name `check_text` sees: in its year's folder.
fn rel(r: &Report) -> String {
    format!("content/{}/test-office.md", r.year)
}

/// 1-based line of the front-matter row `key:`.
fn row_line(text: &str, key: &str) -> usize {
    let prefix = format!("  {key}:");
    text.lines()
        .position(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no row {key}"))
        + 1
}

/// A non-zero change of `value` that keeps it ≥ 0.
fn delta(rng: &mut Rng, value: i64) -> i64 {
    let most = if rng.chance(70) { 3 } else { 1000 };
    let size = rng.range(1, most);
    if value > 0 && rng.chance(50) {
        -size.min(value)
    } else {
        size
    }
}

fn show(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            format!(
                "{:?} {:?} {}:{}:{} {}",
                d.severity, d.rule, d.file, d.line, d.column, d.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One case: the valid report passes; a one-cell change is caught on that cell's row.
/// Returns which kind of cell changed: (in table 三, a total).
fn run_case(format: Format, seed: u64, via_check_text: bool) -> (bool, bool) {
    let mut rng = Rng::new(seed);
    let valid = generate(format, &mut rng);
    let text = render(&valid);
    let file = rel(&valid);
    let found = check_both(&file, &text, via_check_text);
    assert!(
        found.is_empty(),
        "{} seed {seed}: a valid report has diagnostics:\n{}\n{text}",
        format.id(),
        show(&found)
    );

    let mut broken = valid.clone();
    let (row_key, col, before, after, rules): (&str, usize, i64, i64, &[&str]) = if rng.chance(75) {
        let r = rng.below(broken.applications.len() as u64) as usize;
        let c = rng.below(APPLICANTS as u64 + 1) as usize;
        let (key, row) = &mut broken.applications[r];
        let before = row[c];
        row[c] += delta(&mut rng, before);
        (key, c, before, row[c], &["T3-01", "T3-02", "T3-03"])
    } else {
        let r = rng.below(broken.review.len() as u64) as usize;
        let c = rng.below(REVIEW_COLS.len() as u64) as usize;
        let (key, row) = &mut broken.review[r];
        let before = row[c];
        row[c] += delta(&mut rng, before);
        (key, c, before, row[c], &["T4-01"])
    };
    assert!(after >= 0 && after != before);
    let text = render(&broken);
    let line = row_line(&text, row_key);
    let found = check_both(&file, &text, via_check_text);
    let caught = found.iter().any(|d| {
        d.severity == Severity::Error
            && d.line == line
            && d.rule.as_deref().is_some_and(|r| rules.contains(&r))
    });
    assert!(
        caught,
        "{} seed {seed}: {row_key} column {col} {before} → {after} was not caught on line {line}:\n{}\n{text}",
        format.id(),
        show(&found)
    );
    // Nothing but the sum rules speaks up.
    for d in &found {
        assert!(
            d.rule.as_deref().is_some_and(|r| rules.contains(&r)),
            "{} seed {seed}: unexpected {}",
            format.id(),
            show(std::slice::from_ref(d))
        );
    }
    let in_applications = rules.len() > 1;
    let total = if in_applications {
        col == APPLICANTS || row_key == "r_total"
    } else {
        REVIEW_COLS[col] == "total"
    };
    (in_applications, total)
}

/// Runs `CASES` seeds of `format` on a few threads; every kind of cell gets changed.
fn run_all(format: Format, base: u64) {
    let threads = std::thread::available_parallelism()
        .map_or(4, usize::from)
        .clamp(1, 8);
    let kinds: Vec<(bool, bool)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (t..CASES)
                        .step_by(threads)
                        .map(|case| run_case(format, base + case as u64, case < VIA_CHECK_TEXT))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a case panicked"))
            .collect()
    });
    assert_eq!(kinds.len(), CASES);
    for kind in [(true, false), (true, true), (false, false), (false, true)] {
        let n = kinds.iter().filter(|k| **k == kind).count();
        assert!(
            n >= 10,
            "{}: only {n} changes of kind {kind:?}",
            format.id()
        );
    }
}

#[test]
fn cn_2021_valid_reports_pass_and_every_one_cell_change_is_caught() {
    run_all(Format::Cn2021, 20_210_000);
}

#[test]
fn cn_2019_valid_reports_pass_and_every_one_cell_change_is_caught() {
    run_all(Format::Cn2019, 20_190_000);
}

#[test]
fn generator_writes_what_the_format_expects() {
    // The generator itself: the rows and columns of cn-2019 and cn-2021 table 三.
    let mut rng = Rng::new(1);
    let r21 = generate(Format::Cn2021, &mut rng);
    let r19 = generate(Format::Cn2019, &mut rng);
    assert_eq!(r21.applications.len(), 25);
    assert_eq!(r19.applications.len(), 23);
    assert!(render(&r19).contains("\n  r_other: ["));
    assert!(!render(&r21).contains("\n  r_other: ["));
    for r in [&r21, &r19] {
        for (_, row) in &r.applications {
            assert_eq!(row.len(), APPLICANTS + 1);
        }
    }
    // Different seeds give different reports.
    let a = render(&generate(Format::Cn2021, &mut Rng::new(7)));
    let b = render(&generate(Format::Cn2021, &mut Rng::new(8)));
    assert_ne!(a, b);
}
