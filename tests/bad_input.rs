//! Broken input: each test copies the example portal, builds it once, breaks one file,
//! builds again into the same output, and checks that the build fails with a located,
//! useful message, without a panic, leaving the previous output exactly as it was.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use common::{Portal, Run, entries, front_matter_end, line_of, pos_at, pos_of, tree};

/// The report most cases break: the real 汾阳市人民政府办公室 2022 report.
const REPORT: &str = "content/2022/fenyang-gov-office.md";

/// A portal that was built once successfully, with a record of its output.
struct Case {
    portal: Portal,
    out: PathBuf,
    before: BTreeMap<String, Vec<u8>>,
    base_entries: Vec<String>,
}

impl Case {
    fn new() -> Case {
        let portal = Portal::example();
        let out = portal.out("public");
        portal.build(&out).assert_ok();
        let before = tree(&out);
        assert!(
            before.contains_key("index.html") && before.len() > 10,
            "first build wrote a site: {:?}",
            before.keys().collect::<Vec<_>>()
        );
        let base_entries = entries(portal.base());
        Case {
            portal,
            out,
            before,
            base_entries,
        }
    }

    fn rebuild(&self) -> Run {
        self.portal.build(&self.out)
    }

    /// The build failed cleanly and the previous output is untouched.
    fn assert_failed_cleanly(&self, run: &Run) {
        assert!(
            !run.ok(),
            "the build should fail\nstdout:\n{}\nstderr:\n{}",
            run.stdout,
            run.stderr
        );
        assert!(
            !run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"),
            "portalgen panicked:\n{}",
            run.stderr
        );
        let after = tree(&self.out);
        assert_eq!(
            after.keys().collect::<Vec<_>>(),
            self.before.keys().collect::<Vec<_>>(),
            "the failed build changed the output's file list\nstderr:\n{}",
            run.stderr
        );
        for (path, bytes) in &self.before {
            assert!(
                &after[path] == bytes,
                "the failed build changed {path}\nstderr:\n{}",
                run.stderr
            );
        }
        assert_eq!(
            entries(self.portal.base()),
            self.base_entries,
            "the failed build left files next to the output"
        );
    }

    /// Fails cleanly, points at `file:line:column`, and says each of `says`.
    fn assert_error_at(
        &self,
        run: &Run,
        file: &str,
        (line, column): (usize, usize),
        says: &[&str],
    ) {
        self.assert_failed_cleanly(run);
        let want = format!("{file}:{line}:{column}");
        assert!(
            run.locations().contains(&want),
            "expected an error at {want}; got {:?}\nstderr:\n{}",
            run.locations(),
            run.stderr
        );
        for s in says {
            assert!(
                run.stderr.contains(s),
                "the message should say {s:?}\nstderr:\n{}",
                run.stderr
            );
        }
        self.assert_snippet(run, file, line);
    }

    /// When stderr quotes the source line `N | text` under the location, it is the file's
    /// line N.
    fn assert_snippet(&self, run: &Run, file: &str, line: usize) {
        let Ok(text) = fs::read(self.portal.path(file)) else {
            return;
        };
        let text = String::from_utf8_lossy(&text);
        let Some(source) = text.lines().nth(line - 1) else {
            return;
        };
        let prefix = format!("{line} | ");
        let shown = |l: &str| {
            l.strip_prefix(&prefix)
                .is_some_and(|shown| shown.trim_end() == source.trim_end())
        };
        if run.stderr.lines().any(shown) {
            return;
        }
        // No snippet for this line is fine; a snippet of another text is not.
        let loc = format!("{file}:{line}:");
        let mut lines = run.stderr.lines();
        while let Some(l) = lines.next() {
            if l.trim_start()
                .strip_prefix("--> ")
                .is_some_and(|x| x.starts_with(&loc))
            {
                let _bar = lines.next();
                if let Some(quoted) = lines.next().and_then(|l| l.strip_prefix(&prefix)) {
                    panic!("the snippet for {loc} shows {quoted:?}, but line {line} is {source:?}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------

#[test]
fn invalid_yaml_is_located_in_the_front_matter() {
    let case = Case::new();
    let text = case.portal.replace_once(
        REPORT,
        "[7, 0, 0, 0, 0, 0, 7]     # 一、本年新收政府信息公开申请数量",
        "[1, 2",
    );
    let broken_line = line_of(&text, "new_received:            [1, 2");
    let end = front_matter_end(&text);
    let run = case.rebuild();
    case.assert_failed_cleanly(&run);
    assert!(
        run.stderr.contains("YAML"),
        "says it is YAML:\n{}",
        run.stderr
    );
    let loc = run
        .locations()
        .into_iter()
        .find(|l| l.starts_with(&format!("{REPORT}:")))
        .unwrap_or_else(|| panic!("no location in {REPORT}:\n{}", run.stderr));
    let mut nums = loc[REPORT.len() + 1..]
        .split(':')
        .map(|n| n.parse::<usize>());
    let (Some(Ok(line)), Some(Ok(column))) = (nums.next(), nums.next()) else {
        panic!("bad location {loc}:\n{}", run.stderr);
    };
    assert!(
        (broken_line..end).contains(&line) && column >= 1,
        "the syntax error at {loc} should be between the broken row (line {broken_line}) and the end of the front matter (line {end})\nstderr:\n{}",
        run.stderr
    );
    case.assert_snippet(&run, REPORT, line);
}

#[test]
fn missing_required_field_is_named() {
    let case = Case::new();
    let text = case.portal.modify(REPORT, |s| {
        s.lines()
            .filter(|l| !l.starts_with("published:"))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let end = front_matter_end(&text);
    let run = case.rebuild();
    case.assert_failed_cleanly(&run);
    assert!(
        run.stderr.contains("`published`"),
        "names the field:\n{}",
        run.stderr
    );
    // A missing key has no place of its own; the error points into the front matter
    // (currently at its opening `---`, 1:1).
    let ok = run.locations().iter().any(|l| {
        l.strip_prefix(&format!("{REPORT}:"))
            .and_then(|rest| rest.split(':').next()?.parse::<usize>().ok())
            .is_some_and(|line| (1..=end).contains(&line))
    });
    assert!(
        ok,
        "points into the front matter of {REPORT}:\n{}",
        run.stderr
    );
}

#[test]
fn year_of_the_wrong_type_is_pointed_at() {
    let case = Case::new();
    let text = case
        .portal
        .replace_once(REPORT, "\nyear: 2022\n", "\nyear: 二〇二二\n");
    let run = case.rebuild();
    case.assert_error_at(
        &run,
        REPORT,
        pos_of(&text, "二〇二二"),
        &["year", "二〇二二"],
    );
}

#[test]
fn cell_that_is_not_a_number_is_pointed_at() {
    let case = Case::new();
    let text = case.portal.replace_once(
        REPORT,
        "new_received:            [7, 0, 0, 0, 0, 0, 7]",
        "new_received:            [7, 0, abc, 0, 0, 0, 7]",
    );
    let run = case.rebuild();
    case.assert_error_at(&run, REPORT, pos_of(&text, "abc"), &["abc", "科研机构"]);
}

#[test]
fn invalid_publication_date_is_pointed_at() {
    let case = Case::new();
    let text = case
        .portal
        .replace_once(REPORT, "published: 2023-01-12", "published: 2023-02-30");
    let run = case.rebuild();
    case.assert_error_at(
        &run,
        REPORT,
        pos_of(&text, "2023-02-30"),
        &["published", "2023-02-30"],
    );
}

#[test]
fn unknown_key_suggests_the_right_one() {
    let case = Case::new();
    let text = case
        .portal
        .replace_once(REPORT, "\napplications:", "\naplications:");
    let run = case.rebuild();
    let at = (line_of(&text, "aplications:"), 1);
    case.assert_error_at(&run, REPORT, at, &["`aplications`"]);
    let help = run
        .stderr
        .lines()
        .find(|l| l.contains("帮助") && l.contains("`applications`"));
    assert!(help.is_some(), "suggests `applications`:\n{}", run.stderr);
}

#[test]
fn unknown_key_in_an_english_portal() {
    let case = Case::new();
    case.portal
        .replace_once("portal.yaml", "language: zh-CN", "language: en");
    let text = case
        .portal
        .replace_once(REPORT, "\napplications:", "\naplications:");
    let run = case.rebuild();
    case.assert_error_at(
        &run,
        REPORT,
        (line_of(&text, "aplications:"), 1),
        &[
            "error: unknown key `aplications`",
            "did you mean `applications`?",
        ],
    );
}

#[test]
fn year_that_disagrees_with_its_folder_is_pointed_at() {
    let case = Case::new();
    // An agency with no 2021 report, so that the only problem is the folder.
    let file = "content/2022/jiajiazhuang-town.md";
    let text = case
        .portal
        .replace_once(file, "\nyear: 2022\n", "\nyear: 2021\n");
    let at = value_pos(&text, "year");
    let run = case.rebuild();
    case.assert_error_at(&run, file, at, &["2021", "2022/"]);
    assert_eq!(run.locations().len(), 1, "one problem:\n{}", run.stderr);
}

#[test]
fn two_reports_for_the_same_agency_and_year_name_both_files() {
    let case = Case::new();
    let copy = "content/2022/copy.md";
    let text = case.portal.read(REPORT);
    case.portal.write(copy, &text);
    let run = case.rebuild();
    case.assert_failed_cleanly(&run);
    for f in [REPORT, copy] {
        assert!(run.stderr.contains(f), "names {f}:\n{}", run.stderr);
    }
    // Points at the agency_id (or year) of one of them.
    let (id_at, year_at) = (value_pos(&text, "agency_id"), value_pos(&text, "year"));
    let candidates: Vec<String> = [REPORT, copy]
        .iter()
        .flat_map(|f| [id_at, year_at].map(|(l, c)| format!("{f}:{l}:{c}")))
        .collect();
    assert!(
        run.locations().iter().any(|l| candidates.contains(l)),
        "points at the agency_id or year of one of the two files ({candidates:?}):\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("2022"), "{}", run.stderr);
}

/// Position of the value of the top-level key `key` (`key: value` at the start of a line).
fn value_pos(text: &str, key: &str) -> (usize, usize) {
    let needle = format!("\n{key}: ");
    let at = text
        .find(&needle)
        .unwrap_or_else(|| panic!("no top-level {key}"));
    pos_at(text, at + needle.len())
}

/// The position of the first byte of `bad` once inserted at byte `at` of `text`.
fn insert_bytes(case: &Case, file: &str, text: &str, at: usize, bad: &[u8]) -> (usize, usize) {
    let mut bytes = text.as_bytes()[..at].to_vec();
    bytes.extend_from_slice(bad);
    bytes.extend_from_slice(&text.as_bytes()[at..]);
    case.portal.write(file, bytes);
    pos_at(text, at)
}

#[test]
fn gbk_bytes_in_the_front_matter_are_located() {
    let case = Case::new();
    let text = case.portal.read(REPORT);
    // 0xB2 0xBB is 不 in GBK, after "title: 汾阳" (CJK before it: columns count characters).
    let at = text.find("title: 汾阳").expect("title") + "title: 汾阳".len();
    let pos = insert_bytes(&case, REPORT, &text, at, &[0xB2, 0xBB]);
    let run = case.rebuild();
    case.assert_error_at(&run, REPORT, pos, &["UTF-8"]);
}

#[test]
fn gbk_bytes_in_the_body_are_located() {
    let case = Case::new();
    let text = case.portal.read(REPORT);
    let line = front_matter_end(&text) + 3;
    let at: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum::<usize>()
        + text
            .lines()
            .nth(line - 1)
            .and_then(|l| l.char_indices().nth(5).map(|(i, _)| i))
            .unwrap_or(0);
    let pos = insert_bytes(&case, REPORT, &text, at, &[0xB2, 0xBB, b' ', 0xFF]);
    assert_eq!(pos.0, line);
    let run = case.rebuild();
    case.assert_error_at(&run, REPORT, pos, &["UTF-8"]);
}

#[test]
fn fee_with_five_decimal_places_is_rejected() {
    let case = Case::new();
    let text = case
        .portal
        .replace_once(REPORT, "amount: 2595.45}", "amount: 2595.45001}");
    let run = case.rebuild();
    case.assert_error_at(
        &run,
        REPORT,
        pos_of(&text, "2595.45001"),
        &["5 位小数", "4 位"],
    );
}

#[test]
fn count_too_large_to_hold_is_rejected() {
    let case = Case::new();
    let text = case.portal.replace_once(
        REPORT,
        "new_received:            [7, 0, 0, 0, 0, 0, 7]",
        "new_received:            [700000000000000000000, 0, 0, 0, 0, 0, 7]",
    );
    let run = case.rebuild();
    case.assert_error_at(
        &run,
        REPORT,
        pos_of(&text, "700000000000000000000"),
        &["数字过大", "14 位"],
    );
}

#[test]
fn negative_count_is_rejected() {
    let case = Case::new();
    let text = case.portal.replace_once(
        REPORT,
        "new_received:            [7, 0, 0, 0, 0, 0, 7]",
        "new_received:            [-7, 0, 0, 0, 0, 0, 7]",
    );
    let run = case.rebuild();
    case.assert_error_at(&run, REPORT, pos_of(&text, "-7"), &["-7", "非负"]);
}

#[test]
fn negative_fee_is_rejected() {
    let case = Case::new();
    let text = case
        .portal
        .replace_once(REPORT, "amount: 2595.45}", "amount: -2595.45}");
    let run = case.rebuild();
    case.assert_error_at(
        &run,
        REPORT,
        pos_of(&text, "-2595.45"),
        &["-2595.45", "负数"],
    );
}

#[test]
fn row_with_too_many_values_is_rejected() {
    let case = Case::new();
    let row = "[7, 0, 0, 0, 0, 0, 7, 1]";
    let text = case.portal.replace_once(
        REPORT,
        "[7, 0, 0, 0, 0, 0, 7]     # 一",
        &format!("{row}     # 一"),
    );
    let run = case.rebuild();
    case.assert_error_at(&run, REPORT, pos_of(&text, row), &["new_received", "8"]);
}

#[test]
fn row_with_too_few_values_is_rejected() {
    let case = Case::new();
    // Six values would be read as "total left out"; five is wrong in any case.
    let row = "[1, 0, 0, 0, 1]";
    let text = case.portal.replace_once(
        REPORT,
        "[1, 0, 0, 0, 0, 0, 1]     # 二",
        &format!("{row}     # 二"),
    );
    let run = case.rebuild();
    case.assert_error_at(&run, REPORT, pos_of(&text, row), &["carried_in", "5"]);
}

#[test]
fn row_one_number_short_among_full_rows_is_rejected() {
    let case = Case::new();
    // A dropped number must not be read as "总计 left out" and shift the columns.
    let row = "[7, 0, 0, 0, 0, 7]";
    let text = case.portal.replace_once(
        REPORT,
        "[7, 0, 0, 0, 0, 0, 7]     # 一",
        &format!("{row}     # 一"),
    );
    let run = case.rebuild();
    case.assert_error_at(&run, REPORT, pos_of(&text, row), &["new_received", "漏填"]);
}

#[test]
fn unknown_table_marker_is_located() {
    let case = Case::new();
    let text = case.portal.replace_once(
        REPORT,
        "\n## 五、存在的主要问题及改进情况\n",
        "\n  {{ table nope }}\n\n## 五、存在的主要问题及改进情况\n",
    );
    let run = case.rebuild();
    let at = (line_of(&text, "{{ table nope }}"), 3);
    case.assert_error_at(&run, REPORT, at, &["nope", "applications"]);
}

#[test]
fn existing_folder_without_marker_is_not_replaced() {
    let portal = Portal::example();
    let out = portal.out("site");
    fs::create_dir_all(out.join("docs")).expect("mkdir");
    fs::write(out.join("notes.txt"), "my own notes\n").expect("write");
    fs::write(out.join("docs/index.html"), "<p>mine</p>\n").expect("write");
    let before = tree(&out);
    let base_before = entries(portal.base());
    let run = portal.build(&out);
    assert!(!run.ok(), "must refuse\nstdout:\n{}", run.stdout);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(
        run.stderr.contains(".portalgen-output") && run.stderr.contains("site"),
        "says why and which folder:\n{}",
        run.stderr
    );
    assert!(tree(&out) == before, "the user's files are untouched");
    assert_eq!(
        entries(portal.base()),
        base_before,
        "no temporary folders left"
    );

    // An empty folder is fine to build into.
    let empty = portal.out("empty");
    fs::create_dir_all(&empty).expect("mkdir");
    portal.build(&empty).assert_ok();
    assert!(empty.join("index.html").is_file());
}

#[test]
fn build_refuses_a_report_whose_sums_do_not_add_up() {
    let case = Case::new();
    // 予以公开 自然人 1 → 2: the row's 总计 (T3-03) and the column's （七）总计 (T3-02) break.
    let row = "[2, 0, 0, 0, 0, 0, 1]";
    let text = case.portal.replace_once(
        REPORT,
        "r_granted:               [1, 0, 0, 0, 0, 0, 1]",
        &format!("r_granted:               {row}"),
    );
    let run = case.rebuild();
    let (line, column) = pos_of(&text, row);
    // The T3-03 diagnostic points at the row's 总计 cell, the seventh number.
    case.assert_error_at(&run, REPORT, (line, column + 19), &["T3-03", "总计"]);
    assert!(run.stderr.contains("[T3-02]"), "{}", run.stderr);
}
