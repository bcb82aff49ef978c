//! The check stage, rule by rule, through the real binary.
//!
//! Each rule test copies the example portal, changes one cell, sentence or date of a
//! report that passes every check (sometimes a second cell, to keep another relation
//! intact, so that exactly the intended rule breaks), runs `portalgen check --format json`
//! and asserts the rule ID, the severity and the exact `file:line:column` reported. The
//! expected positions are computed from the edited text (columns count characters, from 1).
//!
//! Where a sum rule points: at the first cell of the report the author wrote on the rule's
//! left side, else on its right side (never at last year's report, never at a computed
//! cell). So a diagnostic does not always point at the edited cell; each test says which
//! cell it expects.
//!
//! The end of the file runs the same engine on a portal with its own report format
//! (`tests/fixtures/foia`, a US annual FOIA report): rules are data.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{Portal, copy_dir, pos_at, pos_of, repo_root, tree};
use serde_json::Value;

/// The real 汾阳市人民政府办公室 2022 report (passes every arithmetic check; one TX-03 warning).
const GOV_2022: &str = "content/2022/fenyang-gov-office.md";
/// The same agency's report for 2021 (the previous year of `GOV_2022`).
const GOV_2021: &str = "content/2021/fenyang-gov-office.md";
/// 汾阳市教育局: 2021 → 2022 → 2023; clean reports; 2023 leaves every 总计 to be computed.
const EDU_2022: &str = "content/2022/fenyang-edu.md";
const EDU_2023: &str = "content/2023/fenyang-edu.md";

/// The sentence the 汾阳 2022 report repeats in §一(二).
const REPEATED: &str = "政策性文件全部采取非文字式图片式解读，与文件同步起草、同步审签、同步公开，及时公布政策解读牵头单位和联系人联系方式，及时为群众释疑解惑，针对性开展补充解读。";

// ---------------------------------------------------------------------------------------
// Running `portalgen check` and reading its JSON lines.

/// One diagnostic line of `portalgen check --format json`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Diag {
    severity: String,
    rule: Option<String>,
    file: String,
    line: usize,
    column: usize,
    message: String,
    message_en: String,
    help: Option<String>,
    help_en: Option<String>,
    source_line: Option<String>,
}

impl Diag {
    /// (severity, rule, file, line, column): what the rule tests compare.
    fn key(&self) -> Key {
        (
            self.severity.clone(),
            self.rule.clone().unwrap_or_default(),
            self.file.clone(),
            self.line,
            self.column,
        )
    }
}

type Key = (String, String, String, usize, usize);

/// Reads one JSON line; every field must be present with its type.
fn parse_diag(line: &str) -> Diag {
    let v: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("not a JSON object: {line}"));
    for field in [
        "severity",
        "rule",
        "file",
        "line",
        "column",
        "message",
        "message_en",
        "help",
        "help_en",
        "source_line",
    ] {
        assert!(obj.contains_key(field), "no field {field:?} in {line}");
    }
    let text = |k: &str| -> String {
        obj[k]
            .as_str()
            .unwrap_or_else(|| panic!("{k} is not a string in {line}"))
            .to_owned()
    };
    let opt = |k: &str| -> Option<String> {
        match &obj[k] {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => panic!("{k} is neither null nor a string ({other}) in {line}"),
        }
    };
    let num = |k: &str| -> usize {
        obj[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} is not a number in {line}")) as usize
    };
    let d = Diag {
        severity: text("severity"),
        rule: opt("rule"),
        file: text("file"),
        line: num("line"),
        column: num("column"),
        message: text("message"),
        message_en: text("message_en"),
        help: opt("help"),
        help_en: opt("help_en"),
        source_line: opt("source_line"),
    };
    assert!(
        ["error", "warning", "info"].contains(&d.severity.as_str()),
        "severity {:?} in {line}",
        d.severity
    );
    d
}

/// What a run of `portalgen check` produced.
#[derive(Debug)]
struct Checked {
    code: i32,
    stdout: String,
    stderr: String,
    diags: Vec<Diag>,
}

impl Checked {
    /// The diagnostics of one file.
    fn of(&self, file: &str) -> Vec<&Diag> {
        self.diags.iter().filter(|d| d.file == file).collect()
    }

    fn dump(&self) -> String {
        format!(
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `portalgen check --root ROOT ARGS…` and reads stdout as JSON lines when `--format
/// json` is among the arguments.
fn run_check(root: &Path, args: &[&str]) -> Checked {
    let out = Command::new(env!("CARGO_BIN_EXE_portalgen"))
        .arg("check")
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .expect("run portalgen check");
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "portalgen panicked:\n{stderr}"
    );
    let json = args.windows(2).any(|w| w == ["--format", "json"]);
    let diags = if json {
        stdout.lines().map(parse_diag).collect()
    } else {
        Vec::new()
    };
    Checked {
        code: out.status.code().expect("exit code"),
        stdout,
        stderr,
        diags,
    }
}

fn check_json(root: &Path) -> Checked {
    run_check(root, &["--format", "json"])
}

/// The diagnostics of the untouched example portal, computed once.
fn baseline() -> &'static [Diag] {
    static BASE: OnceLock<Vec<Diag>> = OnceLock::new();
    BASE.get_or_init(|| {
        let portal = Portal::example();
        let run = check_json(&portal.root());
        assert_eq!(run.code, 0, "{}", run.dump());
        run.diags
    })
}

/// Asserts the exit code and that the diagnostics the edit added to the example's are
/// exactly `want` (severity, rule, file, (line, column)), each quoting the line it points
/// at. Returns the added diagnostics.
fn assert_added(
    portal: &Portal,
    run: &Checked,
    code: i32,
    want: &[(&str, &str, &str, (usize, usize))],
) -> Vec<Diag> {
    let base: Vec<Key> = baseline().iter().map(Diag::key).collect();
    let added: Vec<Diag> = run
        .diags
        .iter()
        .filter(|d| !base.contains(&d.key()))
        .cloned()
        .collect();
    let mut got: Vec<Key> = added.iter().map(Diag::key).collect();
    let mut expected: Vec<Key> = want
        .iter()
        .map(|(sev, rule, file, (line, column))| {
            (
                (*sev).to_owned(),
                (*rule).to_owned(),
                (*file).to_owned(),
                *line,
                *column,
            )
        })
        .collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "added diagnostics\n{}", run.dump());
    assert_eq!(run.code, code, "exit code\n{}", run.dump());
    for d in &added {
        let text = portal.read(&d.file);
        assert_eq!(
            d.source_line.as_deref(),
            text.lines().nth(d.line - 1),
            "quotes the line it points at: {d:?}"
        );
    }
    added
}

// ---------------------------------------------------------------------------------------
// Positions in the edited text.

/// The line (1-based) of the front-matter row `key:` and its text.
fn row_line<'a>(text: &'a str, key: &str) -> (usize, &'a str) {
    let prefix = format!("{key}:");
    let found: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("  ") && l.trim_start().starts_with(&prefix))
        .collect();
    assert_eq!(found.len(), 1, "expected one row {key:?}");
    (found[0].0 + 1, found[0].1)
}

/// Position of the `index`-th number (from 0) of the list row `key: [a, b, …]`.
fn list_cell(text: &str, key: &str, index: usize) -> (usize, usize) {
    let (line, l) = row_line(text, key);
    let open = l.find('[').expect("a list row");
    let close = l.find(']').expect("a list row");
    let mut start = open + 1;
    for (i, item) in l[open + 1..close].split(',').enumerate() {
        if i == index {
            let lead = item.len() - item.trim_start().len();
            return (line, l[..start + lead].chars().count() + 1);
        }
        start += item.len() + 1;
    }
    panic!("row {key:?} has no item {index}");
}

/// Position of the value of `col` in the map row `key: {col: v, …}`.
fn map_cell(text: &str, key: &str, col: &str) -> (usize, usize) {
    let (line, l) = row_line(text, key);
    let open = l.find('{').expect("a map row");
    let at = [format!("{{{col}: "), format!(" {col}: ")]
        .iter()
        .filter_map(|n| l[open..].find(n.as_str()).map(|i| open + i + n.len()))
        .min()
        .unwrap_or_else(|| panic!("row {key:?} has no column {col:?}"));
    (line, l[..at].chars().count() + 1)
}

/// Position of the value of the top-level key `key`.
fn value_pos(text: &str, key: &str) -> (usize, usize) {
    let needle = format!("\n{key}: ");
    let at = text
        .find(&needle)
        .unwrap_or_else(|| panic!("no top-level {key}"));
    pos_at(text, at + needle.len())
}

/// Position of the `n`-th occurrence (from 0) of `needle`.
fn nth_pos(text: &str, needle: &str, n: usize) -> (usize, usize) {
    let (at, _) = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("{needle:?} does not occur {} times", n + 1));
    pos_at(text, at)
}

// ---------------------------------------------------------------------------------------
// The example portal as it is.

#[test]
fn example_portal_has_exactly_the_duplicated_sentence_warning() {
    let portal = Portal::example();
    let text = portal.read(GOV_2022);
    let run = check_json(&portal.root());
    assert_eq!(run.code, 0, "warnings only: exit 0\n{}", run.dump());
    // §一(二) says the sentence twice on one line; TX-03 points at the second copy and
    // names the first.
    let first = nth_pos(&text, REPEATED, 0);
    let second = nth_pos(&text, REPEATED, 1);
    assert_eq!(first.0, second.0, "both copies are on one line");
    assert_eq!(
        run.diags.len(),
        1,
        "the whole example portal has one diagnostic\n{}",
        run.dump()
    );
    let d = &run.diags[0];
    assert_eq!(
        d.key(),
        (
            "warning".to_owned(),
            "TX-03".to_owned(),
            GOV_2022.to_owned(),
            second.0,
            second.1
        ),
        "{}",
        run.dump()
    );
    assert!(
        d.message
            .contains(&format!("第 {} 行第 {} 列已经出现过", first.0, first.1)),
        "{}",
        d.message
    );
    assert!(
        d.message_en
            .contains(&format!("line {}, column {}", first.0, first.1)),
        "{}",
        d.message_en
    );
    assert_eq!(
        d.source_line.as_deref(),
        text.lines().nth(second.0 - 1),
        "quotes the line"
    );
    assert!(d.help.is_some() && d.help_en.is_some());
    // Every other report of the example is clean.
    for r in common::report_files(&portal.root()) {
        if r.rel != GOV_2022 {
            assert!(run.of(&r.rel).is_empty(), "{}: {}", r.rel, run.dump());
        }
    }
}

#[test]
fn text_output_names_rule_and_location() {
    let portal = Portal::example();
    let text = portal.read(GOV_2022);
    let second = nth_pos(&text, REPEATED, 1);
    let run = run_check(&portal.root(), &[]);
    assert_eq!(run.code, 0, "{}", run.dump());
    assert!(
        run.stdout.contains("警告[TX-03]: 重复的句子或段落"),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l == format!("  --> {GOV_2022}:{}:{}", second.0, second.1)),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout.contains("检查完毕：0 个错误，1 个警告或提示。"),
        "{}",
        run.dump()
    );
}

// ---------------------------------------------------------------------------------------
// One test per rule.

#[test]
fn t3_01_items_one_and_two_equal_items_three_and_four() {
    let portal = Portal::example();
    // The 2023 教育局 report leaves every 总计 to be computed, so changing one cell of a
    // leaf column breaks only T3-01 (the row's total follows the change). 结转下年度 自然人
    // 1 → 2: in the 自然人 column 17 + 0 ≠ 16 + 2. The diagnostic points at the first
    // authored cell of the left side: 一、本年新收 · 自然人.
    let text = portal.replace_once(
        EDU_2023,
        "carried_out:             [1, 0, 0, 0, 0, 0]",
        "carried_out:             [2, 0, 0, 0, 0, 0]",
    );
    let run = check_json(&portal.root());
    let added = assert_added(
        &portal,
        &run,
        1,
        &[(
            "error",
            "T3-01",
            EDU_2023,
            list_cell(&text, "new_received", 0),
        )],
    );
    let d = &added[0];
    assert!(
        d.message
            .contains("第一项加第二项之和应等于第三项加第四项之和")
    );
    assert!(d.message.contains("自然人"), "{}", d.message);
    assert!(
        d.message.contains("= 17") && d.message.contains("= 18"),
        "{}",
        d.message
    );
    assert!(
        d.message_en.contains("Item 1 plus item 2"),
        "{}",
        d.message_en
    );
}

#[test]
fn t3_01_with_authored_totals_is_raised_in_each_broken_column() {
    let portal = Portal::example();
    // 汾阳 2022 writes every total: 结转下年度 [0 …] → [1, 0, 0, 0, 0, 0, 1] keeps the row's
    // 总计 right (T3-03 holds) and breaks T3-01 in the 自然人 and 总计 columns; both point
    // at 一、本年新收 (the left side).
    let text = portal.replace_once(
        GOV_2022,
        "carried_out:             [0, 0, 0, 0, 0, 0, 0]",
        "carried_out:             [1, 0, 0, 0, 0, 0, 1]",
    );
    let run = check_json(&portal.root());
    assert_added(
        &portal,
        &run,
        1,
        &[
            (
                "error",
                "T3-01",
                GOV_2022,
                list_cell(&text, "new_received", 0),
            ),
            (
                "error",
                "T3-01",
                GOV_2022,
                list_cell(&text, "new_received", 6),
            ),
        ],
    );
}

#[test]
fn t3_02_outcome_total_equals_sum_of_outcomes() {
    let portal = Portal::example();
    // （一）予以公开 自然人 1 → 2 with its row 总计 1 → 2 (T3-03 holds). （七）总计 is now
    // short by one in the 自然人 and 总计 columns; T3-02 points at （七）总计 (its left side).
    // T3-01 uses （七）总计 as written, so it still holds.
    let text = portal.replace_once(
        GOV_2022,
        "r_granted:               [1, 0, 0, 0, 0, 0, 1]",
        "r_granted:               [2, 0, 0, 0, 0, 0, 2]",
    );
    let run = check_json(&portal.root());
    let added = assert_added(
        &portal,
        &run,
        1,
        &[
            ("error", "T3-02", GOV_2022, list_cell(&text, "r_total", 0)),
            ("error", "T3-02", GOV_2022, list_cell(&text, "r_total", 6)),
        ],
    );
    for d in &added {
        assert!(
            d.message.contains("（七）总计应等于各项办理结果之和"),
            "{}",
            d.message
        );
        assert!(
            d.help.as_deref().is_some_and(|h| h.contains("相差 1")),
            "{d:?}"
        );
    }
}

#[test]
fn t3_03_row_total_equals_sum_of_applicants() {
    let portal = Portal::example();
    // One request moved from 无法提供 1 to 予以公开 in the 自然人 column, row totals left as
    // they were: the column sums still agree (T3-01, T3-02 hold), the two rows' 总计 do not.
    // T3-03 points at each row's 总计 cell (its left side), the seventh number.
    portal.replace_once(
        GOV_2022,
        "r_granted:               [1, 0, 0, 0, 0, 0, 1]",
        "r_granted:               [2, 0, 0, 0, 0, 0, 1]",
    );
    let text = portal.replace_once(
        GOV_2022,
        "r_unable_not_held:       [7, 0, 0, 0, 0, 0, 7]",
        "r_unable_not_held:       [6, 0, 0, 0, 0, 0, 7]",
    );
    let run = check_json(&portal.root());
    let added = assert_added(
        &portal,
        &run,
        1,
        &[
            ("error", "T3-03", GOV_2022, list_cell(&text, "r_granted", 6)),
            (
                "error",
                "T3-03",
                GOV_2022,
                list_cell(&text, "r_unable_not_held", 6),
            ),
        ],
    );
    assert!(
        added
            .iter()
            .all(|d| d.message.contains("总计列应等于六类申请人之和"))
    );
}

#[test]
fn t4_01_review_total_equals_sum_of_outcomes() {
    let portal = Portal::example();
    // 未经复议直接起诉: total 1 → 2 while 尚未审结 is 1. T4-01 points at the total (left side).
    let text = portal.replace_once(GOV_2022, "pending: 1, total: 1}", "pending: 1, total: 2}");
    let run = check_json(&portal.root());
    let added = assert_added(
        &portal,
        &run,
        1,
        &[(
            "error",
            "T4-01",
            GOV_2022,
            map_cell(&text, "litigation_direct", "total"),
        )],
    );
    assert!(
        added[0].message.contains("未经复议直接起诉"),
        "{}",
        added[0].message
    );
    assert!(
        added[0]
            .message_en
            .contains("Total must equal upheld + corrected + other + pending")
    );
}

#[test]
fn t2_01_fee_with_five_decimal_places() {
    let portal = Portal::example();
    let text = portal.replace_once(GOV_2022, "amount: 2595.45}", "amount: 2595.45001}");
    let run = check_json(&portal.root());
    let added = assert_added(
        &portal,
        &run,
        1,
        &[("error", "T2-01", GOV_2022, pos_of(&text, "2595.45001"))],
    );
    assert!(
        added[0].message.contains("5 位小数"),
        "{}",
        added[0].message
    );
}

#[test]
fn t2_01_negative_count_in_table_two() {
    let portal = Portal::example();
    // 行政规范性文件 本年制发件数 4 → -4 (a type error: nothing else is checked).
    let text = portal.replace_once(
        GOV_2022,
        "{issued: 4, repealed: 0, in_force: 4}",
        "{issued: -4, repealed: 0, in_force: 4}",
    );
    let run = check_json(&portal.root());
    let added = assert_added(
        &portal,
        &run,
        1,
        &[(
            "error",
            "T2-01",
            GOV_2022,
            map_cell(&text, "normative_documents", "issued"),
        )],
    );
    assert!(added[0].message.contains("-4"), "{}", added[0].message);
}

#[test]
fn t3_04_fractional_count_in_table_three() {
    let portal = Portal::example();
    let text = portal.replace_once(
        GOV_2022,
        "new_received:            [7, 0, 0, 0, 0, 0, 7]",
        "new_received:            [7, 0, 0, 0, 0, 0.5, 7]",
    );
    let run = check_json(&portal.root());
    let added = assert_added(
        &portal,
        &run,
        1,
        &[(
            "error",
            "T3-04",
            GOV_2022,
            list_cell(&text, "new_received", 5),
        )],
    );
    assert!(added[0].message.contains("0.5"), "{}", added[0].message);
}

#[test]
fn t3_04_negative_count_in_table_three() {
    let portal = Portal::example();
    let text = portal.replace_once(
        GOV_2022,
        "r_unable_not_held:       [7, 0, 0, 0, 0, 0, 7]",
        "r_unable_not_held:       [7, 0, -1, 0, 0, 0, 7]",
    );
    let run = check_json(&portal.root());
    assert_added(
        &portal,
        &run,
        1,
        &[(
            "error",
            "T3-04",
            GOV_2022,
            list_cell(&text, "r_unable_not_held", 2),
        )],
    );
}

#[test]
fn t4_02_negative_count_in_table_four() {
    let portal = Portal::example();
    let text = portal.replace_once(
        GOV_2022,
        "review:                  {upheld: 0, corrected: 0, other: 0, pending: 0, total: 0}",
        "review:                  {upheld: 0, corrected: 0, other: -1, pending: 0, total: 0}",
    );
    let run = check_json(&portal.root());
    assert_added(
        &portal,
        &run,
        1,
        &[(
            "error",
            "T4-02",
            GOV_2022,
            map_cell(&text, "review", "other"),
        )],
    );
}

#[test]
fn y_01_carried_in_equals_last_years_carried_out() {
    let portal = Portal::example();
    // 汾阳 2021 carried 1 request (自然人) over; 2022 now says 2 came in and, so that T3-01
    // still holds, 1 goes out. Y-01 breaks in the 自然人 and 总计 columns and points at this
    // year's 上年结转 cells (its left side), naming last year's report.
    portal.replace_once(
        GOV_2022,
        "carried_in:              [1, 0, 0, 0, 0, 0, 1]",
        "carried_in:              [2, 0, 0, 0, 0, 0, 2]",
    );
    let text = portal.replace_once(
        GOV_2022,
        "carried_out:             [0, 0, 0, 0, 0, 0, 0]",
        "carried_out:             [1, 0, 0, 0, 0, 0, 1]",
    );
    let run = check_json(&portal.root());
    let added = assert_added(
        &portal,
        &run,
        0,
        &[
            (
                "warning",
                "Y-01",
                GOV_2022,
                list_cell(&text, "carried_in", 0),
            ),
            (
                "warning",
                "Y-01",
                GOV_2022,
                list_cell(&text, "carried_in", 6),
            ),
        ],
    );
    for d in &added {
        assert!(
            d.message.contains(&format!("上年报告：{GOV_2021}")),
            "{}",
            d.message
        );
        assert!(
            d.message_en
                .contains(&format!("last year's report: {GOV_2021}"))
        );
    }
}

#[test]
fn y_02_in_force_follows_last_years_in_force() {
    let portal = Portal::example();
    // 教育局: 2022 in force 6; 2023 issued 3, repealed 1 → in force 8. Repealed 1 → 2: the
    // right side is 6 + 3 − 2 = 7. Y-02 points at 现行有效件数 (its left side), not at the
    // edited cell.
    let text = portal.replace_once(
        EDU_2023,
        "{issued: 3, repealed: 1, in_force: 8}",
        "{issued: 3, repealed: 2, in_force: 8}",
    );
    let run = check_json(&portal.root());
    let added = assert_added(
        &portal,
        &run,
        0,
        &[(
            "warning",
            "Y-02",
            EDU_2023,
            map_cell(&text, "normative_documents", "in_force"),
        )],
    );
    let d = &added[0];
    assert!(
        d.message.contains("= 8") && d.message.contains("= 7"),
        "{}",
        d.message
    );
    assert!(d.message.contains("上年现行有效件数 6"), "{}", d.message);
    assert!(d.message.contains(EDU_2022), "{}", d.message);
}

#[test]
fn tx_01_requests_quoted_in_the_text() {
    let portal = Portal::example();
    // The text may quote 本年新收 (20) or 本年新收 + 上年结转 (21); 22 is neither.
    let text = portal.replace_once(
        EDU_2022,
        "新收政府信息公开申请20件",
        "新收政府信息公开申请22件",
    );
    let run = check_json(&portal.root());
    let added = assert_added(
        &portal,
        &run,
        0,
        &[("warning", "TX-01", EDU_2022, pos_of(&text, "22件"))],
    );
    assert!(
        added[0].message.contains("申请22件"),
        "{}",
        added[0].message
    );
    assert!(
        added[0].message.contains("20") && added[0].message.contains("21"),
        "names both sums: {}",
        added[0].message
    );
}

#[test]
fn tx_01b_reviews_quoted_in_the_text() {
    let portal = Portal::example();
    let text = portal.replace_once(EDU_2022, "被申请行政复议2件", "被申请行政复议3件");
    let run = check_json(&portal.root());
    assert_added(
        &portal,
        &run,
        0,
        &[(
            "warning",
            "TX-01b",
            EDU_2022,
            pos_of(&text, "3件，其中1件维持"),
        )],
    );
}

#[test]
fn tx_01c_lawsuits_quoted_in_the_text() {
    let portal = Portal::example();
    let text = portal.replace_once(EDU_2022, "被提起行政诉讼1件", "被提起行政诉讼4件");
    let run = check_json(&portal.root());
    assert_added(
        &portal,
        &run,
        0,
        &[(
            "warning",
            "TX-01c",
            EDU_2022,
            pos_of(&text, "4件，尚未审结"),
        )],
    );
}

#[test]
fn tx_02_last_years_date_without_a_comparison() {
    let portal = Portal::example();
    // In §一(一) of the 2022 report: "2022 年协调各部门…" → "2021 年协调各部门…".
    let text = portal.replace_once(GOV_2022, "2022 年协调各部门", "2021 年协调各部门");
    let run = check_json(&portal.root());
    let added = assert_added(
        &portal,
        &run,
        0,
        &[("warning", "TX-02", GOV_2022, pos_of(&text, "2021 年协调"))],
    );
    assert!(added[0].message.contains("2021年"), "{}", added[0].message);
}

#[test]
fn tx_02_is_not_excused_by_words_that_merely_contain_a_comparison_word() {
    let portal = Portal::example();
    // Two sentences of 教育局 2022 that compare nothing, each given last year's date, as
    // text carried over from the 2021 report would be. "被提起" contains 起 and "较强"
    // contains 较, both on TX-02's allow list (meant for 自…年起 and 较上年), so neither
    // sentence is flagged today.
    portal.replace_once(EDU_2022, "；被提起行政诉讼1件", "；2021年被提起行政诉讼1件");
    let text = portal.replace_once(
        EDU_2022,
        "二是部分政策解读专业性较强",
        "二是2021年部分政策解读专业性较强",
    );
    let run = check_json(&portal.root());
    assert_added(
        &portal,
        &run,
        0,
        &[
            ("warning", "TX-02", EDU_2022, pos_of(&text, "2021年被提起")),
            ("warning", "TX-02", EDU_2022, pos_of(&text, "2021年部分")),
        ],
    );
}

#[test]
fn tx_03_repeated_sentence() {
    let portal = Portal::example();
    // §一(四) of 教育局 2022 now says a sentence of §一(三) again.
    let sentence = "公开办事咨询电话和监督电话，畅通群众咨询渠道。";
    let text = portal.replace_once(
        EDU_2022,
        "将政府信息公开纳入局机关股室年度目标考核，对发布信息出现差错、栏目长期未更新的责任股室予以通报。",
        sentence,
    );
    let (first, second) = (nth_pos(&text, sentence, 0), nth_pos(&text, sentence, 1));
    assert_ne!(first.0, second.0);
    let run = check_json(&portal.root());
    let added = assert_added(&portal, &run, 0, &[("warning", "TX-03", EDU_2022, second)]);
    assert!(
        added[0]
            .message
            .contains(&format!("第 {} 行第 {} 列", first.0, first.1)),
        "{}",
        added[0].message
    );
}

#[test]
fn tx_04_unfilled_placeholder() {
    let portal = Portal::example();
    let text = portal.replace_once(EDU_2022, "各类教育信息1572条", "各类教育信息XX条");
    let run = check_json(&portal.root());
    assert_added(
        &portal,
        &run,
        0,
        &[("warning", "TX-04", EDU_2022, pos_of(&text, "XX条"))],
    );
}

#[test]
fn d_01_published_after_the_deadline() {
    let portal = Portal::example();
    // A department publishes by 31 January of the following year: on the day is in time.
    portal.replace_once(GOV_2022, "published: 2023-01-12", "published: 2023-01-31");
    assert_added(&portal, &check_json(&portal.root()), 0, &[]);
    let text = portal.replace_once(GOV_2022, "published: 2023-01-31", "published: 2023-02-01");
    let run = check_json(&portal.root());
    let added = assert_added(
        &portal,
        &run,
        0,
        &[("warning", "D-01", GOV_2022, value_pos(&text, "published"))],
    );
    assert!(
        added[0].message.contains("2023-01-31"),
        "{}",
        added[0].message
    );
}

// ---------------------------------------------------------------------------------------
// Exit codes, output formats, languages.

#[test]
fn exit_codes_0_warnings_1_errors_2_no_portal() {
    // Warnings only: 0 (the example portal).
    let portal = Portal::example();
    assert_eq!(check_json(&portal.root()).code, 0);
    assert_eq!(run_check(&portal.root(), &[]).code, 0);

    // One error: 1, in both formats.
    portal.replace_once(GOV_2022, "pending: 1, total: 1}", "pending: 1, total: 2}");
    assert_eq!(check_json(&portal.root()).code, 1);
    assert_eq!(run_check(&portal.root(), &[]).code, 1);

    // No portal.yaml: 2, nothing on stdout in JSON, a message on stderr.
    let empty = tempfile::tempdir().expect("tmp");
    for args in [&["--format", "json"][..], &[][..]] {
        let run = run_check(empty.path(), args);
        assert_eq!(run.code, 2, "{}", run.dump());
        assert!(run.stderr.contains("portal.yaml"), "{}", run.dump());
        if !args.is_empty() {
            assert!(run.stdout.is_empty(), "{}", run.dump());
        }
    }
}

#[test]
fn json_output_is_one_object_per_line() {
    let portal = Portal::example();
    // Several kinds at once: an error, warnings, an explanation note.
    portal.replace_once(GOV_2022, "pending: 1, total: 1}", "pending: 1, total: 2}");
    portal.replace_once(EDU_2022, "各类教育信息1572条", "各类教育信息XX条");
    portal.replace_once(
        EDU_2022,
        "sample: true\n",
        "sample: true\nexplanations:\n  - {rule: Y-02, reason: 测试}\n",
    );
    let run = check_json(&portal.root());
    assert_eq!(run.code, 1, "{}", run.dump());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), run.diags.len());
    assert!(lines.len() >= 4, "{}", run.dump());
    assert!(run.stdout.ends_with('\n'));
    for (line, d) in lines.iter().zip(&run.diags) {
        assert!(!line.trim().is_empty() && !line.contains('\n'));
        let text = portal.read(&d.file);
        assert_eq!(
            d.source_line.as_deref(),
            text.lines().nth(d.line - 1),
            "source_line is the line pointed at: {line}"
        );
        assert!(d.column >= 1);
    }
    let severities: Vec<&str> = run.diags.iter().map(|d| d.severity.as_str()).collect();
    for s in ["error", "warning", "info"] {
        assert!(severities.contains(&s), "{s} in {}", run.dump());
    }
}

#[test]
fn english_messages_with_lang_en() {
    let portal = Portal::example();
    let text = portal.replace_once(GOV_2022, "pending: 1, total: 1}", "pending: 1, total: 2}");
    let at = map_cell(&text, "litigation_direct", "total");
    let run = run_check(&portal.root(), &["--lang", "en"]);
    assert_eq!(run.code, 1, "{}", run.dump());
    let out = &run.stdout;
    assert!(
        out.contains("error[T4-01]: Total must equal upheld + corrected + other + pending"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l == format!("  --> {GOV_2022}:{}:{}", at.0, at.1)),
        "{out}"
    );
    assert!(
        out.contains("warning[TX-03]: Repeated sentence or paragraph"),
        "{out}"
    );
    assert!(
        out.contains("= help: check these cells so that both sides are equal"),
        "{out}"
    );
    assert!(
        out.contains("checked: 1 error(s), 1 warning(s) or note(s)."),
        "{out}"
    );
    for zh in ["错误", "警告", "帮助", "检查完毕"] {
        assert!(!out.contains(zh), "no {zh} in English output:\n{out}");
    }
    // The same in Chinese (the portal's language) by default.
    let zh = run_check(&portal.root(), &[]);
    assert!(
        zh.stdout.contains("错误[T4-01]: 总计应等于结果维持"),
        "{}",
        zh.dump()
    );
    assert!(
        zh.stdout.contains("检查完毕：1 个错误，1 个警告或提示。"),
        "{}",
        zh.dump()
    );
}

#[test]
fn english_sum_messages_name_the_line_that_broke() {
    let portal = Portal::example();
    // As in t3_01_with_authored_totals_is_raised_in_each_broken_column: T3-01 breaks in the
    // 自然人 and the 总计 columns. The Chinese messages say which (“… · 自然人”, “… · 总计”);
    // the English ones are identical, naming only the table.
    portal.replace_once(
        GOV_2022,
        "carried_out:             [0, 0, 0, 0, 0, 0, 0]",
        "carried_out:             [1, 0, 0, 0, 0, 0, 1]",
    );
    let run = check_json(&portal.root());
    let t3: Vec<&Diag> = run
        .diags
        .iter()
        .filter(|d| d.rule.as_deref() == Some("T3-01"))
        .collect();
    assert_eq!(t3.len(), 2, "{}", run.dump());
    let natural = t3.iter().min_by_key(|d| d.column).expect("two");
    assert!(natural.message.contains("· 自然人"), "{}", natural.message);
    assert!(
        natural.message_en.contains("Natural persons"),
        "the English message names the column: {}",
        natural.message_en
    );
    assert_ne!(t3[0].message_en, t3[1].message_en, "{}", run.dump());
}

// ---------------------------------------------------------------------------------------
// Build refuses errors.

#[test]
fn build_with_an_error_names_report_and_rule_and_keeps_public() {
    let portal = Portal::example();
    let root = portal.root();
    common::build(&root, None).assert_ok();
    let public = root.join("public");
    let before = tree(&public);
    assert!(before.contains_key("index.html"));

    let text = portal.replace_once(GOV_2022, "pending: 1, total: 1}", "pending: 1, total: 2}");
    let at = map_cell(&text, "litigation_direct", "total");
    let run = common::build(&root, None);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(run.stderr.contains("错误[T4-01]"), "{}", run.stderr);
    assert!(
        run.locations()
            .contains(&format!("{GOV_2022}:{}:{}", at.0, at.1)),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("发现 1 个错误"), "{}", run.stderr);
    assert!(tree(&public) == before, "public/ is unchanged");
}

// ---------------------------------------------------------------------------------------
// Explanations.

/// Adds `explanations:` with `items` (YAML lines) after `published:` of `GOV_2022`.
fn explain(portal: &Portal, items: &[&str]) -> String {
    let list: String = items.iter().map(|i| format!("  - {i}\n")).collect();
    portal.replace_once(
        GOV_2022,
        "published: 2023-01-12\n",
        &format!("published: 2023-01-12\nexplanations:\n{list}"),
    )
}

#[test]
fn explained_warning_disappears_and_the_page_shows_the_reason() {
    let portal = Portal::example();
    let reason = "原文如此：公开的原件重复了这句话，照录不改。";
    explain(&portal, &[&format!("{{rule: TX-03, reason: {reason}}}")]);
    let run = check_json(&portal.root());
    assert_eq!(run.code, 0, "{}", run.dump());
    assert!(run.diags.is_empty(), "no diagnostic left\n{}", run.dump());

    let out = portal.out("site");
    portal.build(&out).assert_ok();
    let page = std::fs::read_to_string(out.join("reports/2022/fenyang-gov-office/index.html"))
        .expect("report page");
    assert!(page.contains(reason), "the page shows the explanation");
    let explained = page
        .find("class=explained")
        .or_else(|| page.find("class=\"explained\""));
    let at = explained.expect("an explained list");
    assert!(page[at..].contains("TX-03") && page[at..].contains(reason));
    assert!(
        !page.contains("status-warning"),
        "no warning left on the page"
    );
}

#[test]
fn explaining_an_error_rule_is_an_error_at_the_explanation() {
    let portal = Portal::example();
    let text = explain(&portal, &["{rule: T3-01, reason: 数据有误}"]);
    let run = check_json(&portal.root());
    assert_eq!(run.code, 1, "{}", run.dump());
    let at = pos_of(&text, "{rule: T3-01");
    let d = run
        .of(GOV_2022)
        .into_iter()
        .find(|d| d.severity == "error")
        .cloned()
        .unwrap_or_else(|| panic!("an error\n{}", run.dump()));
    assert_eq!((d.line, d.column), at, "{}", run.dump());
    assert!(
        d.message.contains("T3-01") && d.message.contains("不能以说明消除"),
        "{d:?}"
    );
    assert_eq!(
        run.diags.iter().filter(|d| d.severity == "error").count(),
        1,
        "{}",
        run.dump()
    );
}

#[test]
fn explaining_a_rule_not_triggered_is_a_note() {
    let portal = Portal::example();
    let text = explain(&portal, &["{rule: Y-02, reason: 机构改革}"]);
    let run = check_json(&portal.root());
    assert_eq!(run.code, 0, "{}", run.dump());
    let at = pos_of(&text, "{rule: Y-02");
    let infos: Vec<&Diag> = run.diags.iter().filter(|d| d.severity == "info").collect();
    assert_eq!(infos.len(), 1, "{}", run.dump());
    assert_eq!(
        (infos[0].file.as_str(), infos[0].line, infos[0].column),
        (GOV_2022, at.0, at.1)
    );
    assert!(infos[0].message.contains("Y-02"), "{:?}", infos[0]);
    // The TX-03 warning is still there (only its line moved).
    assert!(run.diags.iter().any(|d| d.rule.as_deref() == Some("TX-03")));
}

#[test]
fn explaining_an_unknown_rule_is_an_error() {
    let portal = Portal::example();
    let text = explain(&portal, &["{rule: T9-99, reason: 不存在}"]);
    let run = check_json(&portal.root());
    assert_eq!(run.code, 1, "{}", run.dump());
    let at = pos_of(&text, "{rule: T9-99");
    let errors: Vec<&Diag> = run.diags.iter().filter(|d| d.severity == "error").collect();
    assert_eq!(errors.len(), 1, "{}", run.dump());
    assert_eq!((errors[0].line, errors[0].column), at);
    assert!(errors[0].message.contains("T9-99"), "{:?}", errors[0]);
    assert!(
        errors[0]
            .help
            .as_deref()
            .is_some_and(|h| h.contains("TX-03")),
        "lists the known rules: {:?}",
        errors[0]
    );
}

// ---------------------------------------------------------------------------------------
// A portal's own format: tests/fixtures/foia (a US annual FOIA report).

const DOJ_2023: &str = "content/2023/doj.md";
const DOJ_2024: &str = "content/2024/doj.md";

/// A private copy of the FOIA test portal.
struct Foia {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Foia {
    fn new() -> Foia {
        let dir = tempfile::Builder::new()
            .prefix("portalgen-foia-")
            .tempdir()
            .expect("tmp");
        let root = dir.path().join("portal");
        copy_dir(&repo_root().join("tests/fixtures/foia"), &root);
        Foia { _dir: dir, root }
    }

    fn replace_once(&self, rel: &str, from: &str, to: &str) -> String {
        let path = self.root.join(rel);
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.matches(from).count(), 1, "one {from:?} in {rel}");
        let text = text.replacen(from, to, 1);
        std::fs::write(&path, &text).expect("write");
        text
    }
}

#[test]
fn foia_portal_checks_clean() {
    let foia = Foia::new();
    let run = check_json(&foia.root);
    assert_eq!(run.code, 0, "{}", run.dump());
    assert!(run.diags.is_empty(), "{}", run.dump());
    // The portal's language is English.
    let text = run_check(&foia.root, &[]);
    assert_eq!(
        text.stdout.trim(),
        "checked: 0 error(s), 0 warning(s) or note(s).",
        "{}",
        text.dump()
    );
}

#[test]
fn foia_1_pending_at_end_follows_the_years_flow() {
    let foia = Foia::new();
    // FBI 2024: 8620 + 32115 − 33090 = 7645; written 7646. FOIA-1 points at pending_end,
    // its left side.
    let text = foia.replace_once(DOJ_2024, "pending_end: 7645}", "pending_end: 7646}");
    let run = check_json(&foia.root);
    assert_eq!(run.code, 1, "{}", run.dump());
    let got: Vec<Key> = run.diags.iter().map(Diag::key).collect();
    let (line, column) = map_cell(&text, "fbi", "pending_end");
    assert_eq!(
        got,
        vec![(
            "error".to_owned(),
            "FOIA-1".to_owned(),
            DOJ_2024.to_owned(),
            line,
            column
        )],
        "{}",
        run.dump()
    );
    let d = &run.diags[0];
    assert!(
        d.message_en.contains("7646") && d.message_en.contains("7645"),
        "{}",
        d.message_en
    );
    // The cell's labels come from the portal's schema file. (Only the Chinese message names
    // the row today; see english_sum_messages_name_the_line_that_broke.)
    assert!(
        d.message
            .contains("Federal Bureau of Investigation · Pending at end of fiscal year"),
        "{d:?}"
    );
    // English by default (language: en), with the rule ID from the portal's schema file.
    let text_run = run_check(&foia.root, &[]);
    assert!(
        text_run
            .stdout
            .contains("error[FOIA-1]: Pending at the end must equal pending at the start plus received minus processed"),
        "{}",
        text_run.dump()
    );
    assert!(
        text_run
            .stdout
            .lines()
            .any(|l| l == format!("  --> {DOJ_2024}:{line}:{column}")),
        "{}",
        text_run.dump()
    );
}

#[test]
fn foia_2_pending_at_start_equals_last_years_pending_at_end() {
    let foia = Foia::new();
    // Criminal Division 2024 starts with 356 pending (2023 ended with 355); one fewer
    // received keeps FOIA-1 true. FOIA-2 (a warning) points at pending_start, its left side,
    // and names last year's report.
    let text = foia.replace_once(
        DOJ_2024,
        "{pending_start: 355, received: 1604,",
        "{pending_start: 356, received: 1603,",
    );
    let run = check_json(&foia.root);
    assert_eq!(run.code, 0, "a warning only\n{}", run.dump());
    let got: Vec<Key> = run.diags.iter().map(Diag::key).collect();
    let (line, column) = map_cell(&text, "crm", "pending_start");
    assert_eq!(
        got,
        vec![(
            "warning".to_owned(),
            "FOIA-2".to_owned(),
            DOJ_2024.to_owned(),
            line,
            column
        )],
        "{}",
        run.dump()
    );
    let d = &run.diags[0];
    assert!(d.message_en.contains(DOJ_2023), "{}", d.message_en);
    assert!(d.message.contains(DOJ_2023), "{}", d.message);
}

#[test]
fn foia_fixture_has_two_years_of_one_agency_in_its_own_format() {
    // Guards the fixture itself: two consecutive years of one agency, in its own format.
    let files: BTreeMap<String, Vec<u8>> = tree(&repo_root().join("tests/fixtures/foia"));
    for f in ["portal.yaml", "schemas/us-foia.yaml", DOJ_2023, DOJ_2024] {
        assert!(
            files.contains_key(f),
            "{f} in the fixture: {:?}",
            files.keys()
        );
    }
    for f in [DOJ_2023, DOJ_2024] {
        let text = String::from_utf8(files[f].clone()).expect("UTF-8");
        assert!(text.contains("\nformat: us-foia\n"), "{f}");
    }
}
