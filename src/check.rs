//! Check stage: the relations between cells that the format's schema declares (勾稽关系).
//!
//! Each rule kind is implemented once; the rules themselves (which cells, which severity,
//! which message) are data in the schema file. A diagnostic points at the cell the author
//! wrote, names its official row and column labels, and shows the expected sum with the
//! cells that make it up.

use crate::decimal::Decimal;
use crate::error::Diagnostic;
use crate::model::{Library, Origin, Report};
use crate::schema::{Per, Registry, Rule, RuleKind, Schema};

/// Checks every report of the library; diagnostics come in report order.
pub fn check_library(lib: &Library, registry: &Registry) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for r in &lib.reports {
        if let Some(schema) = registry.get(&r.format) {
            out.extend(check_report(r, schema));
        }
    }
    out
}

/// Checks one report against its format's rules.
pub fn check_report(report: &Report, schema: &Schema) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rule in &schema.rules {
        match rule.kind {
            RuleKind::Sum => check_sum(report, schema, rule, &mut out),
        }
    }
    out
}

fn check_sum(report: &Report, schema: &Schema, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let (Some(table), Some(data)) = (schema.table(&rule.table), report.table(&rule.table)) else {
        return;
    };
    let (Some(block), Some(grid)) = (table.blocks.first(), data.blocks.first()) else {
        return;
    };
    let rows = block.leaf_rows();
    let cols = block.leaf_columns();
    // Along the rule's axis the names are columns (per row) or rows (per column).
    let (names, lines): (Vec<&str>, usize) = match rule.per {
        Per::Row => (cols.iter().map(|c| c.key.as_str()).collect(), rows.len()),
        Per::Column => (rows.iter().map(|r| r.key.as_str()).collect(), cols.len()),
    };
    let idx = |keys: &[String]| -> Vec<usize> {
        keys.iter()
            .filter_map(|k| names.iter().position(|n| n == k))
            .collect()
    };
    let (left, right) = (idx(&rule.left), idx(&rule.right));
    let short_label = |i: usize| -> (String, String) {
        match rule.per {
            Per::Row => (cols[i].label.clone(), cols[i].label_en.clone()),
            Per::Column => (rows[i].label.clone(), rows[i].label_en.clone()),
        }
    };
    for line in 0..lines {
        let cell = |i: usize| match rule.per {
            Per::Row => grid.cells[line][i],
            Per::Column => grid.cells[i][line],
        };
        // Cells the engine filled from this very rule agree by construction.
        if left.iter().all(|&i| cell(i).origin == Origin::Computed) {
            continue;
        }
        let sum = |ix: &[usize]| {
            ix.iter()
                .fold(Decimal::zero(), |acc, &i| acc + cell(i).value)
        };
        let (lsum, rsum) = (sum(&left), sum(&right));
        if lsum == rsum {
            continue;
        }
        let (line_zh, line_en) = match rule.per {
            Per::Row => (rows[line].path.join(""), rows[line].label_en.clone()),
            Per::Column => (cols[line].label.clone(), cols[line].label_en.clone()),
        };
        // Name the cells that carry a number; long sums of zeros say nothing.
        let terms = |ix: &[usize]| -> (String, String) {
            let shown: Vec<usize> = ix
                .iter()
                .copied()
                .filter(|&i| ix.len() <= 4 || cell(i).value != Decimal::zero())
                .collect();
            let zh: Vec<String> = shown
                .iter()
                .map(|&i| format!("{} {}", short_label(i).0, cell(i).value))
                .collect();
            let en: Vec<String> = shown
                .iter()
                .map(|&i| format!("{} {}", short_label(i).1, cell(i).value))
                .collect();
            let rest = ix.len() - shown.len();
            let (mut zh, mut en) = (zh.join(" + "), en.join(" + "));
            if rest > 0 {
                zh = if zh.is_empty() {
                    format!("{rest} 项均为 0")
                } else {
                    format!("{zh}（其余 {rest} 项为 0）")
                };
                en = if en.is_empty() {
                    format!("{rest} cells, all 0")
                } else {
                    format!("{en} (the other {rest} are 0)")
                };
            }
            (zh, en)
        };
        let (lz, le) = terms(&left);
        let (rz, re) = terms(&right);
        // Point at the first cell the author wrote on the left, else on the right.
        let pos = left
            .iter()
            .chain(&right)
            .find_map(|&i| match cell(i).origin {
                Origin::Authored(p) => Some(p),
                Origin::Computed => None,
            })
            .unwrap_or(data.pos);
        let where_zh = format!("{}、{} · {line_zh}", table.section, table.caption);
        let mut d = Diagnostic::error(
            &report.file,
            pos,
            format!(
                "{}（{where_zh}）：{lz} = {lsum}，而 {rz} = {rsum}",
                rule.message
            ),
            format!(
                "{} ({} · {line_en}): {le} = {lsum}, but {re} = {rsum}",
                rule.message_en, table.caption_en
            ),
        )
        .with_help(
            format!("核对这些单元格，使两边相等（差 {}）", diff(lsum, rsum)),
            format!(
                "check these cells so that both sides are equal (they differ by {})",
                diff(lsum, rsum)
            ),
        );
        d.severity = rule.severity;
        d.rule = Some(rule.id.clone());
        out.push(d.with_source(&report.text));
    }
}

fn diff(a: Decimal, b: Decimal) -> Decimal {
    a.abs_diff(b)
}
