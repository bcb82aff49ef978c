//! Synthetic portals for benchmarks and scale tests: N reports of N/10 agencies over ten
//! years, in the 2021 format, with realistic Chinese prose (headings, lists, 3 KB or so),
//! every table cell filled so that every check passes, and a few deliberate warnings
//! (late publication, a repeated paragraph) so the warning paths are exercised too.
//! Deterministic: the same N gives the same portal. [`generate`] returns a [`Summary`] of
//! what it wrote, including the warnings it planted, so a test can tell them from real
//! ones.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use crate::error::Error;

/// First year of the generated reports.
pub const FIRST_YEAR: i32 = 2021;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const PLACES: &[&str] = &[
    "东城", "西城", "南山", "北湖", "清河", "石桥", "柳林", "云岭", "安平", "永和",
];
const DEPTS: &[&str] = &[
    "教育局",
    "财政局",
    "民政局",
    "卫生健康局",
    "交通运输局",
    "自然资源局",
    "生态环境局",
    "住房和城乡建设局",
    "农业农村局",
    "市场监督管理局",
    "人力资源和社会保障局",
    "司法局",
];
const SUBJECTS: &[&str] = &[
    "政务公开",
    "政策解读",
    "依申请公开",
    "政府信息管理",
    "公开平台建设",
    "监督保障",
    "基层政务公开",
    "政务新媒体",
    "政府网站",
    "公开目录",
];
const VERBS: &[&str] = &[
    "深入推进",
    "持续完善",
    "全面加强",
    "扎实做好",
    "着力提升",
    "不断规范",
    "积极探索",
    "统筹推进",
];
const OBJECTS: &[&str] = &[
    "工作机制",
    "标准化规范化建设",
    "信息发布审核流程",
    "公开事项清单",
    "解读回应质量",
    "平台集约化水平",
    "业务培训",
    "考核评议制度",
];
const RESULTS: &[&str] = &[
    "取得明显成效",
    "群众满意度进一步提高",
    "公开质量稳步提升",
    "制度体系更加健全",
    "工作基础不断夯实",
    "服务能力持续增强",
];
const PROBLEMS: &[&str] = &[
    "政策解读形式较为单一",
    "信息发布及时性有待提高",
    "工作人员业务能力参差不齐",
    "基层公开标准化程度不高",
    "依申请公开答复规范性仍需加强",
];

fn sentence(rng: &mut Rng, year: i32, n: usize) -> String {
    match rng.below(4) {
        0 => format!(
            "{}年，本机关{}{}{}，{}。",
            year,
            rng.pick(VERBS),
            rng.pick(SUBJECTS),
            rng.pick(OBJECTS),
            rng.pick(RESULTS)
        ),
        1 => format!(
            "围绕{}，{}{}，全年累计发布相关信息{}条，{}。",
            rng.pick(SUBJECTS),
            rng.pick(VERBS),
            rng.pick(OBJECTS),
            50 + rng.below(5000),
            rng.pick(RESULTS)
        ),
        2 => format!(
            "第{}项举措是{}{}，组织专题培训{}场次，参训人员{}人次。",
            n + 1,
            rng.pick(VERBS),
            rng.pick(OBJECTS),
            1 + rng.below(20),
            20 + rng.below(900)
        ),
        _ => format!(
            "在{}方面，本机关{}{}，确保各项要求落到实处，第{}个工作节点按期完成。",
            rng.pick(SUBJECTS),
            rng.pick(VERBS),
            rng.pick(OBJECTS),
            n + 2
        ),
    }
}

/// A paragraph of distinct sentences (the report keeps track across paragraphs).
fn paragraph(rng: &mut Rng, year: i32, seen: &mut BTreeSet<String>, count: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    while n < count {
        let s = sentence(rng, year, seen.len());
        if seen.insert(s.clone()) {
            out.push_str(&s);
            n += 1;
        }
    }
    out
}

fn list(values: &[u64]) -> String {
    let total: u64 = values.iter().sum();
    let mut parts: Vec<String> = values.iter().map(u64::to_string).collect();
    parts.push(total.to_string());
    format!("[{}]", parts.join(", "))
}

/// State carried from one year to the next for an agency.
#[derive(Clone, Default)]
struct Carry {
    carried_out: [u64; 6],
    in_force: [u64; 2],
}

const RESULT_ROWS: &[&str] = &[
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
    "r_other_no_correction",
    "r_other_fee_unpaid",
    "r_other_other",
];

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Every report, by agency then year.
    pub reports: Vec<Generated>,
    /// The warnings planted on purpose, by agency then year; `check` should find these and
    /// nothing else.
    pub planted: Vec<Planted>,
}

/// One generated report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// Relative to the portal's folder, `/`-separated: `content/2021/gov-0.md`.
    pub file: String,
    pub agency_id: String,
    /// The agency's name, as in the registry and the front matter.
    pub agency: String,
    /// `government`, `township` or `department`.
    pub kind: &'static str,
    pub year: i32,
}

/// A warning planted on purpose.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Planted {
    /// Relative to the portal's folder, `/`-separated, as `check` reports it.
    pub file: String,
    /// The rule expected to fire: `D-01` (late publication) or `TX-03` (repeated text).
    pub rule: &'static str,
    /// 1-based line where the warning points: the `published:` line, or the line of the
    /// repeated paragraph (`TX-03` fires once for each of its sentences, all on that line).
    pub line: usize,
}

/// Rule of a late publication.
pub const LATE_RULE: &str = "D-01";
/// Rule of a repeated sentence or paragraph.
pub const REPEAT_RULE: &str = "TX-03";

/// 1-based number of the line that the next write to `text` starts.
fn next_line(text: &str) -> usize {
    text.matches('\n').count() + 1
}

/// A report's text, with the lines of its planted warnings.
struct Written {
    text: String,
    /// The `published:` line when the report is late.
    late_line: Option<usize>,
    /// The line of the repeated paragraph.
    repeat_line: Option<usize>,
}

#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename the list
fn report(
    rng: &mut Rng,
    id: &str,
    name: &str,
    kind: &str,
    year: i32,
    carry: &mut Carry,
    late: bool,
    repeat: bool,
) -> Written {
    let mut y = String::new();
    let deadline_month = if kind == "government" { 3 } else { 1 };
    let published = if late {
        format!("{}-04-{:02}", year + 1, 1 + rng.below(20))
    } else {
        format!(
            "{}-{:02}-{:02}",
            year + 1,
            deadline_month,
            10 + rng.below(18)
        )
    };
    let _ = writeln!(
        y,
        "---\nformat: cn-2021\nagency: {name}\nagency_id: {id}\nagency_kind: {kind}\nyear: {year}"
    );
    let late_line = late.then(|| next_line(&y));
    let _ = writeln!(y, "published: {published}");
    // 二: the roll-forward of documents in force holds year to year.
    y.push_str("active_disclosure:\n");
    for (i, row) in ["regulations", "normative_documents"].iter().enumerate() {
        let issued = rng.below(6);
        let repealed = rng.below(carry.in_force[i] + issued + 1).min(2);
        let in_force = carry.in_force[i] + issued - repealed;
        carry.in_force[i] = in_force;
        let _ = writeln!(
            y,
            "  {row}: {{issued: {issued}, repealed: {repealed}, in_force: {in_force}}}"
        );
    }
    let _ = writeln!(
        y,
        "  licensing: {{decisions: {}}}\n  penalty: {{decisions: {}}}\n  coercion: {{decisions: {}}}\n  admin_fees: {{amount: {}.{:02}}}",
        rng.below(30000),
        rng.below(3000),
        rng.below(100),
        rng.below(5000),
        rng.below(100)
    );
    // 三: per column, 一 + 二 = （七） + 四, and （七） is the sum of the outcomes.
    let mut new = [0u64; 6];
    let mut out = [0u64; 6];
    let mut leaves = vec![[0u64; 6]; RESULT_ROWS.len()];
    for c in 0..6 {
        new[c] = if c == 0 {
            5 + rng.below(60)
        } else {
            rng.below(8)
        };
        let available = new[c] + carry.carried_out[c];
        out[c] = rng.below(available / 5 + 1);
        let mut left = available - out[c];
        while left > 0 {
            let r = if rng.below(3) == 0 {
                rng.below(RESULT_ROWS.len() as u64) as usize
            } else {
                [0, 1, 10, 13][rng.below(4) as usize]
            };
            let take = 1 + rng.below(left);
            leaves[r][c] += take;
            left -= take;
        }
    }
    y.push_str("applications:\n");
    let _ = writeln!(y, "  new_received: {}", list(&new));
    let _ = writeln!(y, "  carried_in: {}", list(&carry.carried_out));
    let mut total = [0u64; 6];
    for (key, values) in RESULT_ROWS.iter().zip(&leaves) {
        for c in 0..6 {
            total[c] += values[c];
        }
        let _ = writeln!(y, "  {key}: {}", list(values));
    }
    let _ = writeln!(y, "  r_total: {}", list(&total));
    let _ = writeln!(y, "  carried_out: {}", list(&out));
    carry.carried_out = out;
    y.push_str("review_litigation:\n");
    for group in ["review", "litigation_direct", "litigation_after_review"] {
        let v = [rng.below(4), rng.below(2), rng.below(2), rng.below(2)];
        let _ = writeln!(
            y,
            "  {group}: {{upheld: {}, corrected: {}, other: {}, pending: {}, total: {}}}",
            v[0],
            v[1],
            v[2],
            v[3],
            v.iter().sum::<u64>()
        );
    }
    y.push_str("---\n");

    let mut seen = BTreeSet::new();
    let received: u64 = new.iter().sum();
    let _ = writeln!(
        y,
        "本报告根据《中华人民共和国政府信息公开条例》编制，数据统计期限为{year}年1月1日至12月31日。\n"
    );
    let _ = writeln!(
        y,
        "## 一、总体情况\n\n{}\n",
        paragraph(rng, year, &mut seen, 4)
    );
    for (i, title) in ["主动公开", "依申请公开", "政府信息管理", "平台建设"]
        .iter()
        .enumerate()
    {
        let _ = writeln!(
            y,
            "### （{}）{title}\n\n{}\n",
            ["一", "二", "三", "四"][i],
            paragraph(rng, year, &mut seen, 3)
        );
    }
    let _ = writeln!(
        y,
        "全年共收到政府信息公开申请{received}件，均已按期答复。\n"
    );
    let _ = writeln!(
        y,
        "## 二、主动公开政府信息情况\n\n## 三、收到和处理政府信息公开申请情况\n\n## 四、政府信息公开行政复议、行政诉讼情况\n"
    );
    let _ = writeln!(
        y,
        "## 五、存在的主要问题及改进情况\n\n{year}年工作中仍存在一些不足："
    );
    let mut items = 0;
    while items < 3 {
        let item = format!(
            "{}，下一步将{}{}。",
            rng.pick(PROBLEMS),
            rng.pick(VERBS),
            rng.pick(OBJECTS)
        );
        if seen.insert(item.clone()) {
            items += 1;
            let _ = writeln!(y, "{items}. {item}");
        }
    }
    let last = paragraph(rng, year, &mut seen, 3);
    let _ = writeln!(y, "\n{last}\n");
    let repeat_line = repeat.then(|| next_line(&y));
    if repeat {
        let _ = writeln!(y, "{last}\n");
    }
    let _ = writeln!(
        y,
        "## 六、其他需要报告的事项\n\n本年度未收取信息处理费。\n\n{name}\n"
    );
    Written {
        text: y,
        late_line,
        repeat_line,
    }
}

/// Writes a portal of `n` reports (rounded up to a multiple of ten) into `dir`, which
/// must not exist yet. Returns what it wrote: the reports and the planted warnings.
pub fn generate(dir: &Path, n: usize) -> Result<Summary, Error> {
    if dir.exists() {
        return Err(Error::Usage(format!(
            "{} already exists; choose a new folder",
            dir.display()
        )));
    }
    let agencies = n.div_ceil(10).max(1);
    let content = dir.join("content");
    std::fs::create_dir_all(&content).map_err(|e| Error::io(&content, e))?;
    let settings = dir.join("portal.yaml");
    std::fs::write(
        &settings,
        format!(
            "title: 合成门户（{} 份报告）\nlanguage: zh-CN\n",
            agencies * 10
        ),
    )
    .map_err(|e| Error::io(&settings, e))?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut registry = String::new();
    let mut summary = Summary {
        reports: Vec::with_capacity(agencies * 10),
        planted: Vec::new(),
    };
    for a in 0..agencies {
        let place = PLACES[a % PLACES.len()];
        let (id, name, kind) = match a % 12 {
            0 => (
                format!("gov-{a}"),
                format!("{place}区人民政府（{a}）"),
                "government",
            ),
            1 => (
                format!("town-{a}"),
                format!("{place}镇人民政府（{a}）"),
                "township",
            ),
            _ => (
                format!("dept-{a}"),
                format!("{place}区{}（{a}）", DEPTS[a % DEPTS.len()]),
                "department",
            ),
        };
        let _ = writeln!(registry, "{id}:\n  name: {name}\n  kind: {kind}");
        let mut carry = Carry::default();
        for k in 0..10 {
            let year = FIRST_YEAR + k;
            let late = (a * 10 + k as usize) % 50 == 7;
            let repeat = (a * 10 + k as usize) % 100 == 3;
            let written = report(&mut rng, &id, &name, kind, year, &mut carry, late, repeat);
            let folder = content.join(year.to_string());
            std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
            let path = folder.join(format!("{id}.md"));
            std::fs::write(&path, &written.text).map_err(|e| Error::io(&path, e))?;
            let file = format!("content/{year}/{id}.md");
            for (line, rule) in [
                (written.late_line, LATE_RULE),
                (written.repeat_line, REPEAT_RULE),
            ] {
                if let Some(line) = line {
                    summary.planted.push(Planted {
                        file: file.clone(),
                        rule,
                        line,
                    });
                }
            }
            summary.reports.push(Generated {
                file,
                agency_id: id.clone(),
                agency: name.clone(),
                kind,
                year,
            });
        }
    }
    let reg = content.join("agencies.yaml");
    std::fs::write(&reg, registry).map_err(|e| Error::io(&reg, e))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file under `dir`, relative, with its bytes.
    fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
            .into_iter()
            .map(|e| e.expect("walk"))
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e.path().strip_prefix(dir).expect("under dir");
                (
                    rel.to_string_lossy().replace('\\', "/"),
                    std::fs::read(e.path()).expect("read"),
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_same_size_gives_the_same_portal() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        let sa = generate(&a, 30).expect("generate a");
        let sb = generate(&b, 30).expect("generate b");
        assert_eq!(sa, sb);
        let (fa, fb) = (files(&a), files(&b));
        assert_eq!(fa.len(), 30 + 2, "30 reports, agencies.yaml, portal.yaml");
        assert!(fa == fb, "two portals of the same size differ");
    }

    #[test]
    fn an_existing_folder_is_refused() {
        let tmp = tempfile::tempdir().expect("temp dir");
        assert!(matches!(generate(tmp.path(), 10), Err(Error::Usage(_))));
    }

    #[test]
    fn the_summary_lists_what_was_written() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("p");
        let summary = generate(&dir, 195).expect("generate");
        // Rounded up to whole agencies of ten years.
        assert_eq!(summary.reports.len(), 200);
        let on_disk: Vec<String> = files(&dir.join("content"))
            .into_iter()
            .map(|(rel, _)| format!("content/{rel}"))
            .filter(|rel| rel.ends_with(".md"))
            .collect();
        let mut listed: Vec<String> = summary.reports.iter().map(|r| r.file.clone()).collect();
        listed.sort();
        assert_eq!(listed, on_disk);
        for r in &summary.reports {
            let text = std::fs::read_to_string(dir.join(&r.file)).expect("read report");
            assert!(
                text.contains(&format!("\nagency: {}\n", r.agency)),
                "{}",
                r.file
            );
            assert!(text.contains(&format!("\nagency_id: {}\n", r.agency_id)));
            assert!(text.contains(&format!("\nagency_kind: {}\n", r.kind)));
            assert!(text.contains(&format!("\nyear: {}\n", r.year)));
            assert_eq!(r.file, format!("content/{}/{}.md", r.year, r.agency_id));
        }
        // Every 50th report is late and every 100th repeats a paragraph.
        let count = |rule| summary.planted.iter().filter(|p| p.rule == rule).count();
        assert_eq!((count(LATE_RULE), count(REPEAT_RULE)), (4, 2));
        for p in &summary.planted {
            let text = std::fs::read_to_string(dir.join(&p.file)).expect("read report");
            let lines: Vec<&str> = text.lines().collect();
            let line = lines[p.line - 1];
            match p.rule {
                LATE_RULE => {
                    let year: i32 = p.file[8..12].parse().expect("year in path");
                    let month = format!("published: {}-04-", year + 1);
                    assert!(line.starts_with(&month), "{}:{}: {line}", p.file, p.line);
                }
                _ => {
                    assert!(line.len() > 60, "{}:{}: {line}", p.file, p.line);
                    let earlier = lines[..p.line - 1].iter().filter(|l| **l == line).count();
                    assert_eq!(earlier, 1, "{}:{} repeats an earlier line", p.file, p.line);
                }
            }
        }
    }
}
