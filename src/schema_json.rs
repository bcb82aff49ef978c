//! A JSON Schema for each report format, generated from the format's schema file, so that
//! editors can autocomplete the front matter and show each key's Chinese label.

use serde_json::{Map, Value, json};

use crate::schema::{CellType, LeafCol, Schema};

fn cell_schema(col: &LeafCol) -> Value {
    let title = format!("{}（{}）", col.label, col.label_en);
    match col.cell_type {
        CellType::Count => json!({"title": title, "type": "integer", "minimum": 0}),
        CellType::Signed => json!({"title": title, "type": "integer"}),
        CellType::Decimal => json!({
            "title": title,
            "description": "精确小数，最多 4 位小数 / exact decimal, at most 4 places",
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,4})?$"}
            ]
        }),
    }
}

/// The JSON Schema (draft 2020-12) of a report's front matter in this format.
pub fn generate(schema: &Schema) -> Value {
    let mut props = Map::new();
    props.insert(
        "format".into(),
        json!({"title": "报告格式 (format)", "const": schema.id, "description": schema.name}),
    );
    props.insert("title".into(), json!({"title": "报告标题 (title)", "type": "string", "description": "省略时为“机关名称+年度+年政府信息公开工作年度报告”"}));
    props.insert(
        "agency".into(),
        json!({"title": "发布机关 (agency)", "type": "string", "minLength": 1}),
    );
    props.insert("agency_id".into(), json!({"title": "机关标识 (agency_id)", "type": "string", "pattern": "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", "description": "小写字母、数字和连字符，用于网址"}));
    props.insert("agency_kind".into(), json!({"title": "机关类别 (agency_kind)", "enum": ["government", "department", "township", "other"],
        "description": "government 人民政府（3月31日前公开）; department 政府部门（1月31日前公开）; township 乡镇（街道）; other 其他"}));
    props.insert(
        "year".into(),
        json!({"title": "报告年度 (year)", "type": "integer", "minimum": 1990, "maximum": 2100}),
    );
    props.insert(
        "published".into(),
        json!({"title": "公开日期 (published)", "type": "string", "format": "date"}),
    );
    props.insert("explanations".into(), json!({"title": "检查说明 (explanations)", "type": "array",
        "description": "对某项警告的说明，如机构改革导致 Y-02 不成立；错误不能以说明消除",
        "items": {"type": "object", "additionalProperties": false, "required": ["rule", "reason"],
            "properties": {"rule": {"title": "检查项编号 (rule)", "type": "string", "enum": schema.rules.iter().filter(|r| r.severity != crate::schema::Severity::Error).map(|r| r.id.clone()).collect::<Vec<_>>()},
                "reason": {"title": "原因 (reason)", "type": "string", "minLength": 1}}}}));
    props.insert("revisions".into(), json!({"title": "修订记录 (revisions)", "type": "array",
        "description": "公开后的修改：日期、修改内容、原因",
        "items": {"type": "object", "additionalProperties": false, "required": ["date", "change", "reason"],
            "properties": {"date": {"title": "修订日期 (date)", "type": "string", "format": "date"},
                "change": {"title": "修改内容 (change)", "type": "string", "minLength": 1},
                "reason": {"title": "原因 (reason)", "type": "string", "minLength": 1}}}}));
    props.insert("sample".into(), json!({"title": "示例数据 (sample)", "type": "boolean", "description": "虚构的演示报告设为 true"}));
    // agency and agency_kind may come from the agency registry (content/agencies.yaml).
    let mut required: Vec<Value> = ["agency_id", "year", "published"]
        .iter()
        .map(|s| json!(s))
        .collect();
    for table in &schema.tables {
        let mut rows = Map::new();
        let mut row_required = Vec::new();
        for block in &table.blocks {
            let cols = block.leaf_columns();
            let needed: Vec<&LeafCol> = cols.iter().filter(|c| !c.computed).collect();
            let mut col_props = Map::new();
            for c in &cols {
                col_props.insert(c.key.clone(), cell_schema(c));
            }
            let list_items: Vec<Value> = cols.iter().map(cell_schema).collect();
            for row in block.leaf_rows() {
                let title = format!("{}（{}）", row.path.join(" · "), row.label_en);
                let mut forms = vec![json!({
                    "type": "object",
                    "additionalProperties": false,
                    "properties": col_props,
                    "required": needed.iter().map(|c| c.key.clone()).collect::<Vec<_>>(),
                })];
                let order: Vec<&str> = cols.iter().map(|c| c.label.as_str()).collect();
                forms.push(json!({
                    "type": "array",
                    "description": format!("按列顺序：{}", order.join("、")),
                    "prefixItems": list_items,
                    "minItems": needed.len(),
                    "maxItems": cols.len(),
                }));
                rows.insert(row.key.clone(), json!({"title": title, "anyOf": forms}));
                if !row.computed {
                    row_required.push(row.key.clone());
                }
            }
        }
        props.insert(
            table.key.clone(),
            json!({
                "title": format!("{}、{}", table.section, table.caption),
                "description": table.caption_en,
                "type": "object",
                "additionalProperties": false,
                "properties": rows,
                "required": row_required,
            }),
        );
        required.push(json!(table.key));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{}.json", schema.id),
        "title": format!("{}（{}）", schema.name, schema.id),
        "description": format!("{} · {}", schema.name_en, schema.source),
        "type": "object",
        "additionalProperties": false,
        "properties": props,
        "required": required,
    })
}

/// The schema as pretty JSON text with a final newline.
pub fn to_text(schema: &Schema) -> String {
    let mut s = serde_json::to_string_pretty(&generate(schema)).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Registry;

    #[test]
    fn committed_json_schemas_are_current() {
        let reg = Registry::load(std::path::Path::new("/none")).expect("schemas");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schemas");
        for schema in reg.all() {
            let path = dir.join(format!("{}.json", schema.id));
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == to_text(schema),
                "{} is out of date: run `portalgen json-schema --out docs/schemas`",
                path.display()
            );
        }
    }

    #[test]
    fn table_three_rows_have_chinese_titles_and_both_forms() {
        let reg = Registry::load(std::path::Path::new("/none")).expect("schemas");
        let v = generate(reg.get("cn-2021").expect("2021"));
        let row = &v["properties"]["applications"]["properties"]["r_deny_state_secret"];
        assert_eq!(
            row["title"],
            "三、本年度办理结果 · （三）不予公开 · 1．属于国家秘密（1. State secret）"
        );
        assert_eq!(row["anyOf"][1]["minItems"], 6);
        assert_eq!(row["anyOf"][1]["maxItems"], 7);
        let req = v["properties"]["applications"]["required"]
            .as_array()
            .expect("req");
        assert!(!req.contains(&json!("r_total")));
    }
}
