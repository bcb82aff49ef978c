//! The agency registry (`content/agencies.yaml`), through the real binary: reports name
//! their agency by id, take its name and kind from the registry, and are checked against
//! it; a renamed or merged agency keeps one history; without the file nothing changes.

mod common;

use std::fs;

use common::{Portal, Run, main_part, pos_of, tree};

const EDU_2022: &str = "content/2022/fenyang-edu.md";
const REGISTRY: &str = "content/agencies.yaml";

/// Builds and expects failure with an error at `file:line:column` saying each of `says`.
fn assert_error_at(run: &Run, file: &str, (line, column): (usize, usize), says: &[&str]) {
    assert!(!run.ok(), "the build should fail\nstderr:\n{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
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
            "should say {s:?}\nstderr:\n{}",
            run.stderr
        );
    }
}

fn build(portal: &Portal) -> (Run, std::path::PathBuf) {
    let out = portal.out("site");
    (portal.build(&out), out)
}

#[test]
fn an_unknown_agency_id_is_located_with_a_suggestion() {
    let portal = Portal::example();
    portal.replace_once(EDU_2022, "agency: 汾阳市教育局\n", "");
    let text = portal.replace_once(
        EDU_2022,
        "agency_id: fenyang-edu\n",
        "agency_id: fenyang-eud\n",
    );
    let (line, col) = pos_of(&text, "fenyang-eud");
    let (run, _) = build(&portal);
    assert_error_at(
        &run,
        EDU_2022,
        (line, col),
        &["fenyang-eud", "是不是 `fenyang-edu`", REGISTRY],
    );
}

#[test]
fn an_unknown_id_with_a_known_name_points_at_the_registered_id() {
    let portal = Portal::example();
    let text = portal.replace_once(
        EDU_2022,
        "agency_id: fenyang-edu\n",
        "agency_id: edu-bureau\n",
    );
    let (run, _) = build(&portal);
    assert_error_at(
        &run,
        EDU_2022,
        pos_of(&text, "edu-bureau"),
        &["名录中“汾阳市教育局”的标识是 `fenyang-edu`"],
    );
}

#[test]
fn a_name_or_kind_that_disagrees_with_the_registry_is_an_error() {
    let portal = Portal::example();
    // The former name was in use until 2019 only.
    portal.replace_once(
        EDU_2022,
        "agency: 汾阳市教育局\n",
        "agency: 汾阳市教育科技局\n",
    );
    let text = portal.replace_once(
        EDU_2022,
        "agency_kind: department\n",
        "agency_kind: township\n",
    );
    let (run, _) = build(&portal);
    assert_error_at(
        &run,
        EDU_2022,
        pos_of(&text, "汾阳市教育科技局"),
        &[
            "与机关名录中 `fenyang-edu` 的名称不一致",
            "2022 年度应为“汾阳市教育局”",
        ],
    );
    assert_error_at(
        &run,
        EDU_2022,
        pos_of(&text, "township"),
        &["agency_kind township 与机关名录中 `fenyang-edu` 的类别 department 不一致"],
    );
}

#[test]
fn name_and_kind_come_from_the_registry_and_former_names_keep_one_history() {
    let portal = Portal::example();
    // The 2022 report leaves its name and kind to the registry.
    portal.modify(EDU_2022, |t| {
        t.replace("agency: 汾阳市教育局\n", "")
            .replace("agency_kind: department\n", "")
    });
    // A 2019 report of the same agency, under its former name (taken from the registry).
    let office_2020 = portal.read("content/2020/fenyang-gov-office.md");
    let edu_2019 = office_2020
        .replace("agency: 汾阳市人民政府办公室\n", "")
        .replace("agency_id: fenyang-gov-office", "agency_id: fenyang-edu")
        .replace("year: 2020", "year: 2019")
        .replace("published: 2021-01-25", "published: 2020-01-20")
        .replace(
            "title: 汾阳市人民政府办公室2020年政府信息公开工作年度报告\n",
            "",
        )
        .replace("2020年", "2019年");
    portal.write("content/2019/fenyang-edu.md", &edu_2019);
    let (run, out) = build(&portal);
    run.assert_ok();
    let page =
        |rel: &str| fs::read_to_string(out.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let r2019 = page("reports/2019/fenyang-edu/index.html");
    assert!(
        main_part(&r2019).contains("汾阳市教育科技局2019年政府信息公开工作年度报告"),
        "the 2019 report carries the name of 2019"
    );
    let json: serde_json::Value =
        serde_json::from_str(&page("reports/2022/fenyang-edu/data.json")).expect("json");
    assert_eq!(json["agency"], "汾阳市教育局");
    assert_eq!(json["agency_kind"], "department");
    let agency = page("agencies/fenyang-edu/index.html");
    let main = main_part(&agency);
    assert!(
        main.contains("<h1>汾阳市教育局</h1>"),
        "the agency page has the current name"
    );
    assert!(main.contains("曾用名") && main.contains("汾阳市教育科技局"));
    assert!(main.contains("汾阳市人民政府"), "and its parent");
    // One history: 2019 and 2021 have no 2020 between them, so no pair; the years are there.
    assert!(main.contains("2019年") && main.contains("2023年"));
    assert!(!out.join("agencies/fenyang-edu/compare/2019-2020").exists());
    // The parent lists its agencies.
    assert!(main_part(&page("agencies/fenyang-gov/index.html")).contains("所属机关"));
}

#[test]
fn a_merged_agency_keeps_its_history_and_has_no_report_after_the_merge() {
    let portal = Portal::example();
    portal.modify(REGISTRY, |t| {
        format!(
            "{t}\nfenyang-science:\n  name: 汾阳市科学技术局\n  kind: department\n  parent: fenyang-gov\n  merged_into: fenyang-edu\n  merged_on: 2019-03-01\n"
        )
    });
    let (run, out) = build(&portal);
    run.assert_ok();
    let edu = fs::read_to_string(out.join("agencies/fenyang-edu/index.html")).expect("page");
    assert!(main_part(&edu).contains("并入本机关") && main_part(&edu).contains("汾阳市科学技术局"));
    // A report for a year after the merge is refused.
    let report = portal
        .read("content/2021/fenyang-edu.md")
        .replace("agency_id: fenyang-edu", "agency_id: fenyang-science")
        .replace("agency: 汾阳市教育局\n", "");
    portal.write("content/2021/fenyang-science.md", &report);
    let (run, _) = build(&portal);
    assert_error_at(
        &run,
        "content/2021/fenyang-science.md",
        pos_of(&report, "fenyang-science"),
        &["已于 2019-03-01 并入 `fenyang-edu`"],
    );
}

#[test]
fn registry_errors_are_located_in_the_registry() {
    let portal = Portal::example();
    let text = portal.replace_once(REGISTRY, "  kind: township\n", "  kind: town\n");
    let text2 = portal.replace_once(
        REGISTRY,
        "  parent: fenyang-gov\n\nfenyang-edu:",
        "  parnet: fenyang-gov\n\nfenyang-edu:",
    );
    let (run, out) = build(&portal);
    assert_error_at(
        &run,
        REGISTRY,
        pos_of(&text, "town\n"),
        &["kind 应为 government"],
    );
    assert_error_at(
        &run,
        REGISTRY,
        pos_of(&text2, "parnet"),
        &["是不是 `parent`"],
    );
    assert!(!out.exists(), "nothing was written");
}

#[test]
fn without_a_registry_everything_works_as_before() {
    let portal = Portal::example();
    fs::remove_file(portal.path(REGISTRY)).expect("remove registry");
    let (run, out) = build(&portal);
    run.assert_ok();
    let files = tree(&out);
    assert!(files.contains_key("agencies/fenyang-edu/index.html"));
    assert!(files.contains_key("data/portal.json"));
    // Without the registry, a report must name its agency itself.
    portal.modify(EDU_2022, |t| t.replace("agency: 汾阳市教育局\n", ""));
    let (run, _) = build(&portal);
    assert!(!run.ok());
    assert!(run.stderr.contains("缺少必填项 `agency`"), "{}", run.stderr);
}
