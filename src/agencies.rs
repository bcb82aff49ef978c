//! The agency registry, `content/agencies.yaml`: every agency by its stable id, with its
//! name, kind, parent, former names and merges, so that a renamed or merged agency keeps
//! one history. Read in the model stage; reports then refer to agencies by `agency_id`,
//! and `agency`/`agency_kind` in a report become optional (taken from here, and checked
//! against here when given). A portal without the file works as before.
//!
//! ```yaml
//! fenyang-edu:
//!   name: 汾阳市教育局
//!   kind: department
//!   parent: fenyang-gov
//!   former_names:
//!     - {name: 汾阳市教育科技局, until: 2019}
//! fenyang-science:
//!   name: 汾阳市科学技术局
//!   kind: department
//!   merged_into: fenyang-edu
//!   merged_on: 2019-03-01
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::error::Diagnostic;
use crate::model::{AgencyKind, Date};
use crate::yaml::{self, Node, NodeKind, Pos};

/// Where the registry lives, relative to the portal's root.
pub const FILE: &str = "content/agencies.yaml";

const ENTRY_KEYS: &[&str] = &[
    "name",
    "kind",
    "parent",
    "former_names",
    "merged_into",
    "merged_on",
];

/// One agency of the registry.
#[derive(Debug, Clone, Serialize)]
pub struct Agency {
    pub id: String,
    /// The current name.
    pub name: String,
    pub kind: AgencyKind,
    pub parent: Option<String>,
    /// Earlier names, oldest first.
    pub former_names: Vec<FormerName>,
    /// When the agency was merged into another one.
    pub merged_into: Option<Merge>,
}

/// A name the agency had until `until` (and from `from`, when known).
#[derive(Debug, Clone, Serialize)]
pub struct FormerName {
    pub name: String,
    /// As written: a year (`2016`) or a date (`2016-03-01`).
    pub from: Option<String>,
    pub until: String,
    #[serde(skip)]
    from_date: Option<Date>,
    #[serde(skip)]
    until_date: Date,
}

#[derive(Debug, Clone, Serialize)]
pub struct Merge {
    /// The id of the agency it became part of.
    pub into: String,
    pub date: String,
    #[serde(skip)]
    on: Date,
}

impl Merge {
    pub fn year(&self) -> i32 {
        self.on.year
    }
}

impl Agency {
    /// Every name the agency may carry in a report for `year`: the current name, and each
    /// former name in use at some time during that year.
    pub fn names_in(&self, year: i32) -> Vec<&str> {
        let mut out = vec![self.name.as_str()];
        for f in &self.former_names {
            if f.valid_in(year) {
                out.push(&f.name);
            }
        }
        out
    }

    /// The name the agency had at the end of `year`: the name its report for that year
    /// is shown under when the report does not say.
    pub fn name_in(&self, year: i32) -> &str {
        let end = Date {
            year,
            month: 12,
            day: 31,
        };
        self.former_names
            .iter()
            .filter(|f| f.until_date >= end && f.from_date.is_none_or(|d| d <= end))
            .min_by_key(|f| f.until_date)
            .map_or(self.name.as_str(), |f| f.name.as_str())
    }
}

impl FormerName {
    fn valid_in(&self, year: i32) -> bool {
        self.until_date.year >= year && self.from_date.is_none_or(|d| d.year <= year)
    }
}

/// Every agency of the portal, by id.
#[derive(Debug, Clone, Default)]
pub struct AgencyRegistry {
    /// A hash of the registry's file: part of the key of every file made from what it says.
    pub fingerprint: u64,
    agencies: BTreeMap<String, Agency>,
    /// Parent id → the ids of its agencies, sorted.
    children: BTreeMap<String, Vec<String>>,
    /// Id → the ids of the agencies merged into it, sorted.
    merged: BTreeMap<String, Vec<String>>,
}

/// A problem with a report's agency, located in the report.
#[derive(Debug, Clone)]
pub struct Problem {
    pub pos: Pos,
    pub zh: String,
    pub en: String,
    pub help: Option<(String, String)>,
}

/// What a report says about its agency.
pub struct Claim<'a> {
    pub id: &'a str,
    pub id_pos: Pos,
    pub year: i32,
    pub name: Option<(&'a str, Pos)>,
    pub kind: Option<(AgencyKind, Pos)>,
}

impl AgencyRegistry {
    pub fn get(&self, id: &str) -> Option<&Agency> {
        self.agencies.get(id)
    }

    /// Every agency, by id.
    pub fn all(&self) -> impl Iterator<Item = &Agency> {
        self.agencies.values()
    }

    /// The agencies whose parent is `id`, by id.
    pub fn children(&self, id: &str) -> Vec<&Agency> {
        self.children
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|c| self.get(c))
            .collect()
    }

    /// The agencies merged into `id`, by id.
    pub fn merged_from(&self, id: &str) -> Vec<&Agency> {
        self.merged
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|c| self.get(c))
            .collect()
    }

    /// The name and kind of a report's agency, from the registry, after checking what the
    /// report says against it.
    pub fn resolve(&self, claim: &Claim) -> Result<(String, AgencyKind), Vec<Problem>> {
        let Some(agency) = self.get(claim.id) else {
            let ids: Vec<&str> = self.agencies.keys().map(String::as_str).collect();
            // A name the registry knows points at its id better than spelling does.
            let by_name = claim.name.and_then(|(name, _)| {
                self.all()
                    .find(|a| a.name == name || a.former_names.iter().any(|f| f.name == name))
            });
            let help = match by_name {
                Some(a) => (
                    format!("名录中“{}”的标识是 `{}`", a.name, a.id),
                    format!("the registry lists “{}” as `{}`", a.name, a.id),
                ),
                None => crate::model::suggest(claim.id, &ids),
            };
            return Err(vec![Problem {
                pos: claim.id_pos,
                zh: format!("机关名录 {FILE} 中没有标识为 `{}` 的机关", claim.id),
                en: format!("the agency registry {FILE} has no agency `{}`", claim.id),
                help: Some((
                    format!("{}；新机关须先加入 {FILE}", help.0),
                    format!("{}; a new agency must first be added to {FILE}", help.1),
                )),
            }]);
        };
        let mut problems = Vec::new();
        if let Some((name, pos)) = claim.name {
            let valid = agency.names_in(claim.year);
            if !valid.contains(&name) {
                let list_zh = valid
                    .iter()
                    .map(|n| format!("“{n}”"))
                    .collect::<Vec<_>>()
                    .join("或");
                let list_en = valid
                    .iter()
                    .map(|n| format!("“{n}”"))
                    .collect::<Vec<_>>()
                    .join(" or ");
                problems.push(Problem {
                    pos,
                    zh: format!(
                        "agency “{name}”与机关名录中 `{}` 的名称不一致：{} 年度应为{list_zh}",
                        agency.id, claim.year
                    ),
                    en: format!(
                        "agency “{name}” disagrees with the registry's name for `{}`: in {} it is {list_en}",
                        agency.id, claim.year
                    ),
                    help: Some((
                        format!("改正名称，或删去 agency 一项（名称取自 {FILE}）；机关更名时在名录的 former_names 中记下旧名称及其使用期限"),
                        format!("correct the name, or leave `agency` out (the registry gives it); when an agency is renamed, record the old name and its dates under former_names in {FILE}"),
                    )),
                });
            }
        }
        if let Some((kind, pos)) = claim.kind
            && kind != agency.kind
        {
            problems.push(Problem {
                pos,
                zh: format!(
                    "agency_kind {} 与机关名录中 `{}` 的类别 {} 不一致",
                    kind.key(),
                    agency.id,
                    agency.kind.key()
                ),
                en: format!(
                    "agency_kind {} disagrees with the registry's kind for `{}`, {}",
                    kind.key(),
                    agency.id,
                    agency.kind.key()
                ),
                help: Some((
                    format!("改为 {}，或删去 agency_kind 一项", agency.kind.key()),
                    format!("write {}, or leave agency_kind out", agency.kind.key()),
                )),
            });
        }
        if let Some(m) = &agency.merged_into
            && claim.year > m.year()
        {
            problems.push(Problem {
                pos: claim.id_pos,
                zh: format!(
                    "`{}` 已于 {} 并入 `{}`，不应再有 {} 年度的报告",
                    agency.id, m.date, m.into, claim.year
                ),
                en: format!(
                    "`{}` was merged into `{}` on {}; it has no report for {}",
                    agency.id, m.into, m.date, claim.year
                ),
                help: Some((
                    format!("以 `{}` 的名义发布此报告，或改正名录中的 merged_on", m.into),
                    format!(
                        "publish this report as `{}`, or correct merged_on in the registry",
                        m.into
                    ),
                )),
            });
        }
        if problems.is_empty() {
            Ok((agency.name_in(claim.year).to_owned(), agency.kind))
        } else {
            Err(problems)
        }
    }
}

/// Reads `content/agencies.yaml` under `root`; `Ok(None)` when the portal has none.
pub fn load(root: &Path) -> Result<Option<AgencyRegistry>, Vec<Diagnostic>> {
    let path = root.join(FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(vec![Diagnostic::error(
                FILE,
                Pos::default(),
                format!("无法读取机关名录：{e}"),
                format!("cannot read the agency registry: {e}"),
            )]);
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(vec![
            Diagnostic::error(
                FILE,
                Pos { line: 1, column: 1 },
                "机关名录不是 UTF-8 编码",
                "the agency registry is not UTF-8 text",
            )
            .with_help("以 UTF-8 编码另存此文件", "save the file as UTF-8"),
        ]);
    };
    parse(FILE, &text).map(Some)
}

/// Parses a registry's text; `rel` names the file in diagnostics.
pub fn parse(rel: &str, text: &str) -> Result<AgencyRegistry, Vec<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = yaml::parse(text).map_err(|e| {
        vec![
            Diagnostic::error(
                rel,
                e.pos,
                format!("YAML 语法错误：{}", e.message),
                format!("YAML syntax error: {}", e.message),
            )
            .with_source(text),
        ]
    })?;
    let mut p = Parser {
        rel,
        text,
        list: Vec::new(),
    };
    let mut agencies: BTreeMap<String, Agency> = BTreeMap::new();
    let mut positions: BTreeMap<String, (Option<Pos>, Option<Pos>)> = BTreeMap::new();
    let Some(entries) = root.as_map() else {
        p.push(
            root.pos,
            format!(
                "机关名录应是“机关标识: 机关信息”形式的映射，而不是{}",
                root.type_name()
            ),
            format!(
                "the agency registry must be a mapping of `id: agency`, not a {}",
                root.type_name()
            ),
            Some((
                "例如：fenyang-gov: {name: 汾阳市人民政府, kind: government}".into(),
                "e.g. fenyang-gov: {name: 汾阳市人民政府, kind: government}".into(),
            )),
        );
        return Err(p.list);
    };
    for (k, v) in entries {
        let Some(id) = k.as_str().filter(|id| crate::model::is_slug(id)) else {
            p.push(
                k.pos,
                format!(
                    "机关标识只能由小写字母、数字和连字符组成，如 fenyang-gov-office，而不是 {}",
                    shown(k)
                ),
                format!(
                    "an agency id may hold only lowercase letters, digits and hyphens (e.g. fenyang-gov-office), not {}",
                    shown(k)
                ),
                None,
            );
            continue;
        };
        if let Some((agency, parent_pos, merge_pos)) = p.entry(id, v) {
            positions.insert(id.to_owned(), (parent_pos, merge_pos));
            agencies.insert(id.to_owned(), agency);
        }
    }
    // References between agencies: parents and merges name known agencies, without cycles.
    let ids: Vec<&str> = agencies.keys().map(String::as_str).collect();
    for (id, a) in &agencies {
        let (parent_pos, merge_pos) = positions.get(id).copied().unwrap_or_default();
        let refs = [
            ("parent", a.parent.as_deref(), parent_pos),
            (
                "merged_into",
                a.merged_into.as_ref().map(|m| m.into.as_str()),
                merge_pos,
            ),
        ];
        for (key, target, pos) in refs {
            let (Some(target), Some(pos)) = (target, pos) else {
                continue;
            };
            if target == id {
                p.push(
                    pos,
                    format!("`{id}` 的 {key} 不能是它自己"),
                    format!("the {key} of `{id}` cannot be itself"),
                    None,
                );
            } else if !agencies.contains_key(target) {
                p.push(
                    pos,
                    format!("{key} 指向的机关 `{target}` 不在名录中"),
                    format!("{key} names `{target}`, which is not in the registry"),
                    Some(crate::model::suggest(target, &ids)),
                );
            } else {
                // Follow the chain; coming back to `id` is a cycle.
                let mut seen = vec![id.as_str()];
                let mut at = target;
                loop {
                    if seen.contains(&at) {
                        if at == id {
                            p.push(
                                pos,
                                format!("{key} 形成循环：{} → {at}", seen.join(" → ")),
                                format!("{key} forms a cycle: {} → {at}", seen.join(" → ")),
                                None,
                            );
                        }
                        break;
                    }
                    seen.push(at);
                    let next = agencies.get(at).and_then(|x| match key {
                        "parent" => x.parent.as_deref(),
                        _ => x.merged_into.as_ref().map(|m| m.into.as_str()),
                    });
                    match next {
                        Some(n) => at = n,
                        None => break,
                    }
                }
            }
        }
    }
    if p.list.is_empty() {
        let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut merged: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for a in agencies.values() {
            if let Some(parent) = &a.parent {
                children
                    .entry(parent.clone())
                    .or_default()
                    .push(a.id.clone());
            }
            if let Some(m) = &a.merged_into {
                merged.entry(m.into.clone()).or_default().push(a.id.clone());
            }
        }
        Ok(AgencyRegistry {
            fingerprint: crate::fingerprint::of_bytes(text.as_bytes()),
            agencies,
            children,
            merged,
        })
    } else {
        Err(p.list)
    }
}

struct Parser<'a> {
    rel: &'a str,
    text: &'a str,
    list: Vec<Diagnostic>,
}

fn shown(v: &Node) -> String {
    match &v.kind {
        NodeKind::Str(s) => format!("“{s}”"),
        NodeKind::Int(i) => i.to_string(),
        _ => v.type_name().to_owned(),
    }
}

impl Parser<'_> {
    fn push(&mut self, pos: Pos, zh: String, en: String, help: Option<(String, String)>) {
        let mut d = Diagnostic::error(self.rel, pos, zh, en).with_source(self.text);
        if let Some((hz, he)) = help {
            d = d.with_help(hz, he);
        }
        self.list.push(d);
    }

    /// One agency's entry; the positions of its parent and merged_into values.
    fn entry(&mut self, id: &str, node: &Node) -> Option<(Agency, Option<Pos>, Option<Pos>)> {
        let Some(map) = node.as_map() else {
            self.push(
                node.pos,
                format!("机关 `{id}` 应是映射，至少写 name 和 kind"),
                format!("agency `{id}` must be a mapping with at least name and kind"),
                Some((
                    format!("例如：{id}: {{name: 汾阳市人民政府, kind: government}}"),
                    format!("e.g. {id}: {{name: 汾阳市人民政府, kind: government}}"),
                )),
            );
            return None;
        };
        let before = self.list.len();
        let get = |key: &str| map.iter().find(|(k, _)| k.as_str() == Some(key));
        for (k, _) in map {
            let name = k.as_str().unwrap_or_default();
            if !ENTRY_KEYS.contains(&name) {
                self.push(
                    k.pos,
                    format!("机关 `{id}` 中没有 `{name}` 这一项"),
                    format!("an agency has no `{name}`"),
                    Some(crate::model::suggest(name, ENTRY_KEYS)),
                );
            }
        }
        let name = match get("name") {
            Some((_, v)) => self.text_value(v, "name"),
            None => {
                self.push(
                    node.pos,
                    format!("机关 `{id}` 缺少 name（机关全称）"),
                    format!("agency `{id}` has no name"),
                    None,
                );
                None
            }
        };
        let kind = match get("kind") {
            Some((_, v)) => match v.as_str().and_then(AgencyKind::parse) {
                Some(k) => Some(k),
                None => {
                    self.push(
                        v.pos,
                        format!("kind 应为 government（政府）、department（部门）、township（乡镇）或 other（其他），而不是 {}", shown(v)),
                        format!("kind must be government, department, township or other, not {}", shown(v)),
                        None,
                    );
                    None
                }
            },
            None => {
                self.push(
                    node.pos,
                    format!("机关 `{id}` 缺少 kind（机关类别）"),
                    format!("agency `{id}` has no kind"),
                    Some((
                        "government、department、township 或 other".into(),
                        "government, department, township or other".into(),
                    )),
                );
                None
            }
        };
        let parent =
            get("parent").and_then(|(_, v)| self.text_value(v, "parent").map(|s| (s, v.pos)));
        let former_names = match get("former_names") {
            Some((_, v)) => self.former_names(v),
            None => Vec::new(),
        };
        let merged_into = get("merged_into")
            .and_then(|(_, v)| self.text_value(v, "merged_into").map(|s| (s, v.pos)));
        let merged_on = get("merged_on").and_then(|(_, v)| self.date(v, false));
        let merge = match (merged_into, merged_on, get("merged_on")) {
            (Some((into, pos)), Some((date, on)), _) => Some((Merge { into, date, on }, pos)),
            (Some((_, pos)), None, None) => {
                self.push(
                    pos,
                    "merged_into 需要同时写 merged_on（并入日期）".into(),
                    "merged_into needs merged_on (the date of the merge)".into(),
                    Some((
                        "例如：merged_on: 2019-03-01".into(),
                        "e.g. merged_on: 2019-03-01".into(),
                    )),
                );
                None
            }
            (None, _, Some((k, _))) => {
                self.push(
                    k.pos,
                    "merged_on 只能与 merged_into 一起使用".into(),
                    "merged_on goes with merged_into".into(),
                    None,
                );
                None
            }
            _ => None,
        };
        if self.list.len() > before {
            return None;
        }
        let (name, kind) = (name?, kind?);
        Some((
            Agency {
                id: id.to_owned(),
                name,
                kind,
                parent: parent.as_ref().map(|(s, _)| s.clone()),
                former_names,
                merged_into: merge.as_ref().map(|(m, _)| m.clone()),
            },
            parent.map(|(_, p)| p),
            merge.map(|(_, p)| p),
        ))
    }

    fn text_value(&mut self, v: &Node, key: &str) -> Option<String> {
        match v.as_str() {
            Some(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            _ => {
                self.push(
                    v.pos,
                    format!("`{key}` 应为非空文本，而不是 {}", shown(v)),
                    format!("`{key}` must be non-empty text, not {}", shown(v)),
                    None,
                );
                None
            }
        }
    }

    /// A year (`2019`) or a date (`2019-03-01`); a year stands for its first day
    /// (`start`) or its last.
    fn date(&mut self, v: &Node, start: bool) -> Option<(String, Date)> {
        let parsed = match &v.kind {
            NodeKind::Int(y) if (1949..=2100).contains(y) => {
                let year = *y as i32;
                Some((
                    year.to_string(),
                    if start {
                        Date {
                            year,
                            month: 1,
                            day: 1,
                        }
                    } else {
                        Date {
                            year,
                            month: 12,
                            day: 31,
                        }
                    },
                ))
            }
            NodeKind::Str(s) => Date::parse(s).map(|d| (d.to_string(), d)),
            _ => None,
        };
        if parsed.is_none() {
            self.push(
                v.pos,
                format!(
                    "日期应为年份（如 2019）或 YYYY-MM-DD（如 2019-03-01），而不是 {}",
                    shown(v)
                ),
                format!(
                    "a date must be a year (2019) or YYYY-MM-DD (2019-03-01), not {}",
                    shown(v)
                ),
                None,
            );
        }
        parsed
    }

    fn former_names(&mut self, node: &Node) -> Vec<FormerName> {
        let example = (
            "例如：former_names: [{name: 汾阳市教育科技局, until: 2019}]".to_owned(),
            "e.g. former_names: [{name: 汾阳市教育科技局, until: 2019}]".to_owned(),
        );
        let NodeKind::Seq(items) = &node.kind else {
            self.push(
                node.pos,
                "former_names 应是列表，每项写 name、until（可加 from）".into(),
                "former_names must be a list of {name, until} (from is optional)".into(),
                Some(example),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let Some(map) = item.as_map() else {
                self.push(
                    item.pos,
                    "每个旧名称应写 name 和 until".into(),
                    "each former name needs name and until".into(),
                    Some(example.clone()),
                );
                continue;
            };
            let (mut name, mut from, mut until) = (None, None, None);
            for (k, v) in map {
                match k.as_str() {
                    Some("name") => name = self.text_value(v, "name"),
                    Some("from") => from = self.date(v, true),
                    Some("until") => until = self.date(v, false).map(|d| (d, v.pos)),
                    other => {
                        let other = other.unwrap_or_default();
                        self.push(
                            k.pos,
                            format!("旧名称中没有 `{other}` 这一项"),
                            format!("a former name has no `{other}`"),
                            Some(crate::model::suggest(other, &["name", "from", "until"])),
                        );
                    }
                }
            }
            match (name, until) {
                (Some(name), Some(((until, until_date), pos))) => {
                    if let Some((_, f)) = &from
                        && *f > until_date
                    {
                        self.push(
                            pos,
                            "旧名称的 until 早于 from".into(),
                            "a former name's until is before its from".into(),
                            None,
                        );
                    }
                    out.push(FormerName {
                        name,
                        from_date: from.as_ref().map(|(_, d)| *d),
                        from: from.map(|(s, _)| s),
                        until,
                        until_date,
                    });
                }
                (None, _) if !map.iter().any(|(k, _)| k.as_str() == Some("name")) => self.push(
                    item.pos,
                    "旧名称缺少 name".into(),
                    "a former name has no name".into(),
                    Some(example.clone()),
                ),
                (_, None) if !map.iter().any(|(k, _)| k.as_str() == Some("until")) => self.push(
                    item.pos,
                    "旧名称缺少 until（停止使用的年份或日期）".into(),
                    "a former name has no until (the year or date it was last used)".into(),
                    Some(example.clone()),
                ),
                _ => {}
            }
        }
        out.sort_by_key(|f| f.until_date);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTRY: &str = "\
gov:
  name: 某市人民政府
  kind: government
edu:
  name: 某市教育局
  kind: department
  parent: gov
  former_names:
    - {name: 某市教育科技局, until: 2019}
    - {name: 某市教育委员会, from: 2001, until: 2009-06-30}
sci:
  name: 某市科学技术局
  kind: department
  parent: gov
  merged_into: edu
  merged_on: 2019-03-01
";

    fn claim<'a>(id: &'a str, year: i32, name: Option<&'static str>) -> Claim<'a> {
        Claim {
            id,
            id_pos: Pos {
                line: 3,
                column: 12,
            },
            year,
            name: name.map(|n| (n, Pos { line: 2, column: 9 })),
            kind: None,
        }
    }

    #[test]
    fn names_follow_the_years() {
        let reg = parse("agencies.yaml", REGISTRY).expect("valid");
        let edu = reg.get("edu").expect("edu");
        assert_eq!(edu.name_in(2018), "某市教育科技局");
        assert_eq!(edu.name_in(2019), "某市教育科技局");
        assert_eq!(edu.name_in(2020), "某市教育局");
        assert_eq!(edu.name_in(2005), "某市教育委员会");
        assert_eq!(
            edu.names_in(2009),
            ["某市教育局", "某市教育委员会", "某市教育科技局"]
        );
        assert_eq!(edu.names_in(2021), ["某市教育局"]);
        assert_eq!(reg.children("gov").len(), 2);
        assert_eq!(reg.merged_from("edu")[0].id, "sci");
    }

    #[test]
    fn reports_are_checked_against_the_registry() {
        let reg = parse("agencies.yaml", REGISTRY).expect("valid");
        let ok = reg.resolve(&claim("edu", 2019, None)).expect("resolves");
        assert_eq!(ok, ("某市教育科技局".to_owned(), AgencyKind::Department));
        assert!(reg.resolve(&claim("edu", 2019, Some("某市教育局"))).is_ok());
        let wrong = reg
            .resolve(&claim("edu", 2021, Some("某市教育科技局")))
            .expect_err("old name after the rename");
        assert_eq!(wrong[0].pos, Pos { line: 2, column: 9 });
        assert!(wrong[0].zh.contains("某市教育局"), "{}", wrong[0].zh);
        let unknown = reg
            .resolve(&claim("edo", 2021, None))
            .expect_err("unknown id");
        assert_eq!(
            unknown[0].pos,
            Pos {
                line: 3,
                column: 12
            }
        );
        assert!(
            unknown[0]
                .help
                .as_ref()
                .is_some_and(|h| h.1.contains("`edu`"))
        );
        let by_name = reg
            .resolve(&claim("education", 2021, Some("某市教育局")))
            .expect_err("unknown id");
        assert!(
            by_name[0]
                .help
                .as_ref()
                .is_some_and(|h| h.0.contains("edu"))
        );
        let kind = reg
            .resolve(&Claim {
                kind: Some((
                    AgencyKind::Township,
                    Pos {
                        line: 4,
                        column: 14,
                    },
                )),
                ..claim("edu", 2021, None)
            })
            .expect_err("kind");
        assert_eq!(kind[0].pos.line, 4);
        assert!(reg.resolve(&claim("sci", 2019, None)).is_ok());
        assert!(reg.resolve(&claim("sci", 2020, None)).is_err());
    }

    #[test]
    fn registry_errors_are_located() {
        let text = "gov:\n  name: 某市人民政府\n  kind: govt\nedu:\n  name: 某市教育局\n  kind: department\n  parnet: gov\nsci:\n  name: x\n  kind: other\n  parent: gob\n";
        let errs = parse("agencies.yaml", text).expect_err("invalid");
        let at: Vec<(usize, usize)> = errs.iter().map(|d| (d.line, d.column)).collect();
        assert!(at.contains(&(3, 9)), "{at:?}");
        assert!(at.contains(&(7, 3)), "{at:?}");
        assert!(
            errs.iter()
                .any(|d| d.help_en.as_deref() == Some("did you mean `parent`?"))
        );
        let cycle = "a:\n  name: A\n  kind: other\n  parent: b\nb:\n  name: B\n  kind: other\n  parent: a\n";
        let errs = parse("agencies.yaml", cycle).expect_err("cycle");
        assert!(errs.iter().any(|d| d.message_en.contains("cycle")));
        let missing = "a:\n  name: A\n  kind: other\n  merged_into: b\n";
        assert!(parse("agencies.yaml", missing).is_err());
        let unknown = "a:\n  name: A\n  kind: other\nb:\n  name: B\n  kind: other\n  parent: c\n";
        let errs = parse("agencies.yaml", unknown).expect_err("unknown parent");
        assert_eq!((errs[0].line, errs[0].column), (7, 11));
    }
}
