//! `portalgen import`, driven through the real binary: the published 汾阳 2022 report, a
//! report in each input layout (pdftotext default and -layout, tab-separated, HTML with
//! spans, docx), reports that do not add up, ambiguous and truncated input, partial
//! imports, overwrite protection, several files at once, and a round trip through
//! `portalgen build`.

mod common;

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::Run;
use portalgen::schema::Registry;

/// A block of table 二 for the docx fixture: caption, column labels, rows with their cells.
type Block2<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a [&'a str])]);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/fenyang-2022.txt")
}

fn sample() -> String {
    let path = sample_path();
    fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the published sample should be at {}: {e}", path.display()))
}

fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("portalgen-import-")
        .tempdir()
        .expect("temp dir")
}

/// Runs `portalgen import ARGS… --root ROOT --lang LANG`.
fn import(root: &Path, args: &[&str], lang: &str) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_portalgen"))
        .arg("import")
        .args(args)
        .arg("--root")
        .arg(root)
        .arg("--lang")
        .arg(lang)
        .output()
        .expect("run portalgen");
    Run {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A report file read as the build reads it: metadata and every cell, table by table.
struct Parsed {
    title: String,
    agency: String,
    agency_kind: String,
    year: i32,
    published: String,
    format: String,
    /// Every cell of each table, in the format's row and column order.
    tables: Vec<(String, Vec<String>)>,
    body: String,
}

fn parse(path: &Path) -> Parsed {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let registry = Registry::load(Path::new("/nonexistent")).expect("formats");
    let rel = format!(
        "content/{}",
        path.parent()
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    let rel = format!(
        "{rel}/{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    let source = portalgen::load::parse_source(rel, path, text)
        .unwrap_or_else(|d| panic!("{}", d.render(portalgen::Lang::En)));
    let lib = portalgen::model::build_library(vec![source], &registry).unwrap_or_else(|d| {
        panic!(
            "{} does not load: {}",
            path.display(),
            d.iter()
                .map(|d| d.render(portalgen::Lang::En))
                .collect::<String>()
        )
    });
    let r = &lib.reports[0];
    Parsed {
        title: r.title.clone(),
        agency: r.agency.clone(),
        agency_kind: r.agency_kind.key().to_owned(),
        year: r.year,
        published: r.published.to_string(),
        format: r.format.clone(),
        tables: r
            .tables
            .iter()
            .map(|t| {
                let cells = t
                    .blocks
                    .iter()
                    .flat_map(|b| b.cells().iter())
                    .map(|c| c.value.to_string())
                    .collect();
                (t.key.clone(), cells)
            })
            .collect(),
        body: r.body.clone(),
    }
}

fn cells(p: &Parsed, key: &str) -> Vec<String> {
    p.tables
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, c)| c.clone())
        .unwrap_or_else(|| panic!("no table {key}"))
}

// ---------------------------------------------------------------------------------------
// The report the fixtures hold (示例县, 2022, 2021 format).

const D1_T2: [&str; 10] = ["0", "0", "0", "3", "1", "12", "1254", "37", "2", "12.5"];
const D1_T4: [&str; 15] = [
    "1", "0", "0", "1", "2", "0", "0", "0", "0", "0", "0", "1", "0", "0", "1",
];

fn d1_t3() -> Vec<String> {
    let z = ["0"; 7];
    let rows: Vec<[&str; 7]> = vec![
        ["12", "2", "0", "0", "1", "0", "15"], // 新收
        ["1", "0", "0", "0", "0", "0", "1"],   // 上年结转
        ["6", "1", "0", "0", "0", "0", "7"],   // 予以公开
        ["1", "0", "0", "0", "0", "0", "1"],   // 部分公开
        z,
        z,
        z,
        ["1", "0", "0", "0", "0", "0", "1"], // 保护第三方合法权益
        z,
        z,
        z,
        z,
        ["3", "1", "0", "0", "1", "0", "5"], // 本机关不掌握
        z,
        z,
        ["1", "0", "0", "0", "0", "0", "1"], // 信访举报投诉类
        z,
        z,
        z,
        z,
        z,
        z,
        z,
        ["12", "2", "0", "0", "1", "0", "15"], // 总计
        ["1", "0", "0", "0", "0", "0", "1"],   // 结转下年度
    ];
    rows.into_iter().flatten().map(str::to_owned).collect()
}

fn assert_d1(parsed: &Parsed, what: &str) {
    assert_eq!(
        cells(parsed, "active_disclosure"),
        D1_T2,
        "{what}: table 二"
    );
    assert_eq!(cells(parsed, "applications"), d1_t3(), "{what}: table 三");
    assert_eq!(
        cells(parsed, "review_litigation"),
        D1_T4,
        "{what}: table 四"
    );
    assert_eq!(parsed.format, "cn-2021");
    assert_eq!(parsed.year, 2022);
}

// ---------------------------------------------------------------------------------------

#[test]
fn fenyang_2022_imports_every_cell_and_the_prose() {
    let dir = tmp();
    let run = import(
        dir.path(),
        &[p(&sample_path()), "--agency", "fenyang-gov-office"],
        "en",
    );
    assert!(run.ok(), "{run:?}");
    assert!(run.stdout.contains("imported"), "{}", run.stdout);
    assert!(
        run.stdout.contains("agency_kind department inferred"),
        "the summary says the kind was inferred: {}",
        run.stdout
    );
    let got = parse(&dir.path().join("content/2022/fenyang-gov-office.md"));
    let want =
        parse(&Path::new(env!("CARGO_MANIFEST_DIR")).join("content/2022/fenyang-gov-office.md"));
    let mut total = 0;
    for (key, want_cells) in &want.tables {
        let got_cells = cells(&got, key);
        assert_eq!(got_cells.len(), want_cells.len(), "{key}");
        for (i, (g, w)) in got_cells.iter().zip(want_cells).enumerate() {
            assert_eq!(g, w, "table {key}, cell {i}");
        }
        total += got_cells.len();
    }
    assert_eq!(total, 200, "all 200 cells");
    assert_eq!(
        got.title,
        "汾阳市人民政府办公室2022年政府信息公开工作年度报告"
    );
    assert_eq!(got.agency, "汾阳市人民政府办公室");
    assert_eq!((got.year, got.published.as_str()), (2022, "2023-01-12"));
    assert_eq!(got.agency_kind, "department");
    assert_eq!(got.format, "cn-2021");
    // The prose, verbatim (lines the web page broke mid-sentence joined again), with the
    // sentence the published report repeats.
    assert_eq!(got.body, want.body);
    let repeated = "政策性文件全部采取非文字式图片式解读，与文件同步起草、同步审签、同步公开，及时公布政策解读牵头单位和联系人联系方式，及时为群众释疑解惑，针对性开展补充解读。";
    assert_eq!(got.body.matches(repeated).count(), 2);
    // Rows of 三 are lists in official order with their labels as comments.
    let text =
        fs::read_to_string(dir.path().join("content/2022/fenyang-gov-office.md")).expect("read");
    assert!(text.contains("  r_unable_needs_creation: [0, 0, 0, 0, 0, 0, 0]     # （四）无法提供 2．没有现成信息需要另行制作"), "{text}");
    assert!(text.contains("{amount: 2595.45}"));
    assert!(text.contains(
        "litigation_direct:       {upheld: 0, corrected: 0, other: 0, pending: 1, total: 1}"
    ));
}

#[test]
fn pdftotext_default_layout_one_cell_per_line() {
    let dir = tmp();
    let run = import(
        dir.path(),
        &[p(&fixture("default-2022.txt")), "--agency", "demo-edu"],
        "zh",
    );
    assert!(run.ok(), "{run:?}");
    let got = parse(&dir.path().join("content/2022/demo-edu.md"));
    assert_d1(&got, "default");
    assert_eq!(got.agency, "示例县教育局");
    assert_eq!(got.published, "2023-01-20");
    // “/” and “—” are read as 0, with a warning for each cell, located.
    let src = fs::read_to_string(fixture("default-2022.txt")).expect("fixture");
    let slash = common::line_of(&src, "/");
    assert!(run.stderr.contains("写作“/”，按 0 读取"), "{}", run.stderr);
    assert!(run.stderr.contains("写作“—”，按 0 读取"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("default-2022.txt:{slash}")),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("2 个警告"), "{}", run.stdout);
    // The preamble and the wrapped first paragraph are kept; the page number is not.
    assert!(
        got.body
            .starts_with("根据《中华人民共和国政府信息公开条例》规定，编制本报告。")
    );
    assert!(
        got.body
            .contains("认真贯彻落实《中华人民共和国政府信息公开条例》，全面推进政务公开工作")
    );
    assert!(!got.body.contains("- 2 -"));
}

#[test]
fn pdftotext_layout_spaced_columns() {
    let dir = tmp();
    let run = import(
        dir.path(),
        &[p(&fixture("layout-2022.txt")), "--agency", "demo-edu"],
        "en",
    );
    assert!(run.ok(), "{run:?}");
    let got = parse(&dir.path().join("content/2022/demo-edu.md"));
    assert_d1(&got, "layout");
    assert!(
        got.body
            .contains("二是政策解读形式较为单一。2023年，我局将加强栏目日常维护"),
        "{}",
        got.body
    );
}

#[test]
fn saved_web_page_with_row_and_column_spans() {
    let dir = tmp();
    let run = import(
        dir.path(),
        &[p(&fixture("report-2022.html")), "--agency", "demo-gov"],
        "zh",
    );
    assert!(run.ok(), "{run:?}");
    let got = parse(&dir.path().join("content/2022/demo-gov.md"));
    assert_d1(&got, "html");
    assert_eq!(got.agency, "示例县人民政府");
    assert_eq!(got.agency_kind, "government");
    assert_eq!(got.published, "2023-03-28");
    // 元 converted to 万元; a blank cell, “/” and “—” read as 0, one warning each.
    assert!(run.stderr.contains("换算为 12.5 万元"), "{}", run.stderr);
    assert_eq!(run.stderr.matches("按 0 读取").count(), 3, "{}", run.stderr);
    // The page's navigation and footer are not part of the report.
    assert!(
        !got.body.contains("网站首页") && !got.body.contains("版权所有"),
        "{}",
        got.body
    );
    assert!(got.body.starts_with("本报告由示例县人民政府办公室"));
    assert!(
        got.body
            .trim_end()
            .ends_with("示例县人民政府办公室\n\n2023年3月28日"),
        "{}",
        got.body
    );
}

#[test]
fn tab_separated_2019_trial_format() {
    let dir = tmp();
    let run = import(
        dir.path(),
        &[p(&fixture("tsv-2020.txt")), "--agency", "demo-culture"],
        "zh",
    );
    assert!(run.ok(), "{run:?}");
    let got = parse(&dir.path().join("content/2020/demo-culture.md"));
    assert_eq!(got.format, "cn-2019");
    assert_eq!(got.published, "2021-01-20", "date in Chinese numerals");
    assert_eq!(
        cells(&got, "active_disclosure"),
        [
            "0", "0", "0", "2", "2", "15", "86", "-3", "1024", "12", "2", "310", "40", "0", "57",
            "5", "-1", "3", "3", "0", "6", "251000"
        ]
    );
    let t3 = cells(&got, "applications");
    assert_eq!(t3.len(), 161);
    assert_eq!(&t3[..7], ["12", "2", "0", "0", "1", "0", "15"]);
    assert_eq!(cells(&got, "review_litigation"), D1_T4);
    assert!(run.stderr.contains("原文单位为元"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// docx, made here from XML with the zip crate.

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn para(text: &str) -> String {
    format!(
        "<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
        esc(text)
    )
}

/// A cell: `span` columns wide; `merge` Some("restart") starts a vertical merge,
/// Some("") continues it.
fn tc(text: &str, span: usize, merge: Option<&str>) -> String {
    let mut pr = String::new();
    if span > 1 {
        pr.push_str(&format!("<w:gridSpan w:val=\"{span}\"/>"));
    }
    match merge {
        Some("restart") => pr.push_str("<w:vMerge w:val=\"restart\"/>"),
        Some(_) => pr.push_str("<w:vMerge/>"),
        None => {}
    }
    format!("<w:tc><w:tcPr>{pr}</w:tcPr>{}</w:tc>", para(text))
}

fn tr(cells: &[String]) -> String {
    format!("<w:tr>{}</w:tr>", cells.concat())
}

fn docx_xml() -> String {
    let mut b = String::new();
    b.push_str(&para("示例县某某镇人民政府2022年政府信息公开工作年度报告"));
    b.push_str(&para("一、总体情况"));
    b.push_str(&para(
        "2022年，我镇认真落实政务公开各项要求，全年主动公开信息 120 条。",
    ));
    b.push_str(&para("二、主动公开政府信息情况"));
    let mut t = String::from("<w:tbl>");
    let blocks: [Block2; 4] = [
        (
            "第二十条第（一）项",
            &["本年制发件数", "本年废止件数", "现行有效件数"],
            &[
                ("规章", &["0", "0", "0"]),
                ("行政规范性文件", &["3", "1", "12"]),
            ],
        ),
        (
            "第二十条第（五）项",
            &["本年处理决定数量"],
            &[("行政许可", &["1254"])],
        ),
        (
            "第二十条第（六）项",
            &["本年处理决定数量"],
            &[("行政处罚", &["37"]), ("行政强制", &["2"])],
        ),
        (
            "第二十条第（八）项",
            &["本年收费金额（单位：万元）"],
            &[("行政事业性收费", &["12.5"])],
        ),
    ];
    for (cap, cols, rows) in blocks {
        t.push_str(&tr(&[tc(cap, 4, None)]));
        let span = if cols.len() == 1 { 3 } else { 1 };
        let mut h = vec![tc("信息内容", 1, None)];
        h.extend(cols.iter().map(|c| tc(c, span, None)));
        t.push_str(&tr(&h));
        for (label, vals) in rows {
            let mut r = vec![tc(label, 1, None)];
            r.extend(vals.iter().map(|v| tc(v, span, None)));
            t.push_str(&tr(&r));
        }
    }
    t.push_str("</w:tbl>");
    b.push_str(&t);
    b.push_str(&para("三、收到和处理政府信息公开申请情况"));
    let mut t = String::from("<w:tbl>");
    let note = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）";
    t.push_str(&tr(&[
        tc(note, 3, Some("restart")),
        tc("申请人情况", 7, None),
    ]));
    t.push_str(&tr(&[
        tc("", 3, Some("")),
        tc("自然人", 1, Some("restart")),
        tc("法人或其他组织", 5, None),
        tc("总计", 1, Some("restart")),
    ]));
    let mut h = vec![tc("", 3, Some("")), tc("", 1, Some(""))];
    h.extend(
        [
            "商业企业",
            "科研机构",
            "社会公益组织",
            "法律服务机构",
            "其他",
        ]
        .iter()
        .map(|c| tc(c, 1, None)),
    );
    h.push(tc("", 1, Some("")));
    t.push_str(&tr(&h));
    let values = d1_t3();
    let labels: Vec<(Option<&str>, Option<&str>, &str)> = vec![
        (None, None, "一、本年新收政府信息公开申请数量"),
        (None, None, "二、上年结转政府信息公开申请数量"),
        (Some("三、本年度办理结果"), None, "（一）予以公开"),
        (
            Some(""),
            None,
            "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
        ),
        (Some(""), Some("（三）不予公开"), "1．属于国家秘密"),
        (Some(""), Some(""), "2．其他法律行政法规禁止公开"),
        (Some(""), Some(""), "3．危及“三安全一稳定”"),
        (Some(""), Some(""), "4．保护第三方合法权益"),
        (Some(""), Some(""), "5．属于三类内部事务信息"),
        (Some(""), Some(""), "6．属于四类过程性信息"),
        (Some(""), Some(""), "7．属于行政执法案卷"),
        (Some(""), Some(""), "8．属于行政查询事项"),
        (
            Some(""),
            Some("（四）无法提供"),
            "1．本机关不掌握相关政府信息",
        ),
        (Some(""), Some(""), "2．没有现成信息需要另行制作"),
        (Some(""), Some(""), "3．补正后申请内容仍不明确"),
        (Some(""), Some("（五）不予处理"), "1．信访举报投诉类申请"),
        (Some(""), Some(""), "2．重复申请"),
        (Some(""), Some(""), "3．要求提供公开出版物"),
        (Some(""), Some(""), "4．无正当理由大量反复申请"),
        (
            Some(""),
            Some(""),
            "5．要求行政机关确认或重新出具已获取信息",
        ),
        (
            Some(""),
            Some("（六）其他处理"),
            "1．申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        ),
        (
            Some(""),
            Some(""),
            "2．申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        ),
        (Some(""), Some(""), "3．其他"),
        (Some(""), None, "（七）总计"),
        (None, None, "四、结转下年度继续办理"),
    ];
    for (i, (top, group, label)) in labels.iter().enumerate() {
        let mut r = Vec::new();
        match top {
            None => r.push(tc(label, 3, None)),
            Some(top) => {
                r.push(tc(
                    top,
                    1,
                    Some(if top.is_empty() { "" } else { "restart" }),
                ));
                match group {
                    None => r.push(tc(label, 2, None)),
                    Some(g) => {
                        r.push(tc(g, 1, Some(if g.is_empty() { "" } else { "restart" })));
                        r.push(tc(label, 1, None));
                    }
                }
            }
        }
        r.extend(values[i * 7..i * 7 + 7].iter().map(|v| tc(v, 1, None)));
        t.push_str(&tr(&r));
    }
    t.push_str("</w:tbl>");
    b.push_str(&t);
    b.push_str(&para("四、政府信息公开行政复议、行政诉讼情况"));
    let mut t = String::from("<w:tbl>");
    t.push_str(&tr(&[tc("行政复议", 5, None), tc("行政诉讼", 10, None)]));
    let heads = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"];
    let mut r: Vec<String> = heads.iter().map(|h| tc(h, 1, Some("restart"))).collect();
    r.push(tc("未经复议直接起诉", 5, None));
    r.push(tc("复议后起诉", 5, None));
    t.push_str(&tr(&r));
    let mut r: Vec<String> = heads.iter().map(|_| tc("", 1, Some(""))).collect();
    r.extend(heads.iter().chain(heads.iter()).map(|h| tc(h, 1, None)));
    t.push_str(&tr(&r));
    t.push_str(&tr(&D1_T4
        .iter()
        .map(|v| tc(v, 1, None))
        .collect::<Vec<_>>()));
    t.push_str("</w:tbl>");
    b.push_str(&t);
    b.push_str(&para("五、存在的主要问题及改进情况"));
    b.push_str(&para("公开内容还不够丰富。下一步将加强培训。"));
    b.push_str(&para("六、其他需要报告的事项"));
    b.push_str(&para("无。"));
    b.push_str("<w:p/>");
    b.push_str(&para("示例县某某镇人民政府"));
    b.push_str(&para("2023年3月20日"));
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{b}<w:sectPr/></w:body></w:document>"
    )
}

fn write_docx(path: &Path, document: &str) {
    let file = fs::File::create(path).expect("create docx");
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let content_types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
    for (name, body) in [
        ("[Content_Types].xml", content_types),
        ("word/document.xml", document),
    ] {
        zip.start_file(name, opts).expect("zip entry");
        zip.write_all(body.as_bytes()).expect("zip write");
    }
    zip.finish().expect("zip finish");
}

#[test]
fn word_document_with_merged_cells() {
    let dir = tmp();
    let docx = dir.path().join("report.docx");
    write_docx(&docx, &docx_xml());
    let run = import(dir.path(), &[p(&docx), "--agency", "demo-town"], "zh");
    assert!(run.ok(), "{run:?}");
    let got = parse(&dir.path().join("content/2022/demo-town.md"));
    assert_d1(&got, "docx");
    assert_eq!(got.agency, "示例县某某镇人民政府");
    assert_eq!(got.agency_kind, "township");
    assert_eq!(got.published, "2023-03-20");
    assert!(got.body.contains("全年主动公开信息 120 条。"));
    // A damaged file is refused with the reason.
    let bad = dir.path().join("bad.docx");
    fs::write(&bad, b"not a zip").expect("write");
    let run = import(
        dir.path(),
        &[p(&bad), "--agency", "demo-town", "--year", "2021"],
        "en",
    );
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stdout.contains("refused") && run.stdout.contains("not a Word .docx document"),
        "{}",
        run.stdout
    );
}

// ---------------------------------------------------------------------------------------

#[test]
fn numbers_that_do_not_add_up_are_imported_as_published_and_reported() {
    let dir = tmp();
    let src = dir.path().join("wrong.txt");
    let text = sample().replacen(
        "(七) 总计\t8\t0\t0\t0\t0\t0\t8",
        "(七) 总计\t9\t0\t0\t0\t0\t0\t8",
        1,
    );
    assert_ne!(text, sample());
    fs::write(&src, text).expect("write");
    let run = import(
        dir.path(),
        &[p(&src), "--agency", "fenyang-gov-office"],
        "en",
    );
    assert!(run.ok(), "imported although the checks fail: {run:?}");
    assert!(
        run.stdout.contains("imported with warnings"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("imported as published; the checks found"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("T3-01") || run.stderr.contains("T3-02"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("T3-03"), "{}", run.stderr);
    let written =
        fs::read_to_string(dir.path().join("content/2022/fenyang-gov-office.md")).expect("written");
    assert!(
        written.contains("r_total:                 [9, 0, 0, 0, 0, 0, 8]"),
        "{written}"
    );
}

#[test]
fn numbers_glued_together_are_refused_with_the_place() {
    let dir = tmp();
    let src = dir.path().join("glued.txt");
    let layout = fs::read_to_string(fixture("layout-2022.txt")).expect("fixture");
    let row = layout
        .lines()
        .find(|l| l.contains("（一）予以公开"))
        .expect("row")
        .to_owned();
    // “1       0” printed without a gap: 10 could be one number with a blank cell elsewhere.
    let glued = row.replacen(
        "1       0       0       0       0       7",
        "10       0       0       0       7",
        1,
    );
    assert_ne!(glued, row);
    fs::write(&src, layout.replacen(&row, &glued, 1)).expect("write");
    let line = common::line_of(&layout, "（一）予以公开");
    let run = import(dir.path(), &[p(&src), "--agency", "demo-edu"], "zh");
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(run.stdout.contains("拒绝导入"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("glued.txt:{line}")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("只有 6 个数") && run.stdout.contains("“10”"),
        "{}",
        run.stdout
    );
    assert!(
        !dir.path().join("content/2022/demo-edu.md").exists(),
        "nothing written"
    );

    // With --allow-partial: what is sure is written, the row is marked, and the build
    // refuses the file until a person fills it in.
    let run = import(
        dir.path(),
        &[p(&src), "--agency", "demo-edu", "--allow-partial"],
        "zh",
    );
    assert!(run.ok(), "{run:?}");
    assert!(
        run.stdout.contains("部分导入") && run.stdout.contains("7 个单元格待填写"),
        "{}",
        run.stdout
    );
    let written = fs::read_to_string(dir.path().join("content/2022/demo-edu.md")).expect("written");
    assert!(
        written.contains(
            "r_granted:               [待填写, 待填写, 待填写, 待填写, 待填写, 待填写, 待填写]"
        ),
        "{written}"
    );
    assert!(written.contains("# TODO 待填写"), "{written}");
    assert!(
        written.contains("new_received:            [12, 2, 0, 0, 1, 0, 15] "),
        "{written}"
    );
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("portal.yaml"),
        dir.path().join("portal.yaml"),
    )
    .expect("portal.yaml");
    let check = Command::new(env!("CARGO_BIN_EXE_portalgen"))
        .arg("check")
        .arg("--root")
        .arg(dir.path())
        .output()
        .expect("run check");
    assert_eq!(
        check.status.code(),
        Some(1),
        "the placeholders fail the checks"
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("待填写"));
}

#[test]
fn truncated_and_unplaceable_input_is_refused_with_the_reason() {
    let dir = tmp();
    let text = sample();
    let cut: String = text.lines().take(60).collect::<Vec<_>>().join("\n");
    let src = dir.path().join("cut.txt");
    fs::write(&src, cut).expect("write");
    let run = import(
        dir.path(),
        &[p(&src), "--agency", "fenyang-gov-office"],
        "en",
    );
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(run.stdout.contains("refused: "), "{}", run.stdout);
    assert!(run.stderr.contains("is missing"), "{}", run.stderr);
    assert!(run.stderr.contains("section 四"), "{}", run.stderr);

    // A row label that is no row of the table.
    let src = dir.path().join("odd.txt");
    fs::write(
        &src,
        text.replacen("3. 要求提供公开出版物", "3. 要求提供内部资料", 1),
    )
    .expect("write");
    let run = import(
        dir.path(),
        &[p(&src), "--agency", "fenyang-gov-office"],
        "zh",
    );
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let line = common::line_of(&text, "3. 要求提供公开出版物");
    assert!(
        run.stdout.contains(&format!("odd.txt:{line}")),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("无法识别行标签")
            && run
                .stderr
                .contains("缺少“三、本年度办理结果 （五）不予处理 3．要求提供公开出版物”行"),
        "{}",
        run.stderr
    );
}

#[test]
fn full_width_digits_spaced_labels_and_thousands_separators() {
    let dir = tmp();
    let text = sample()
        .replacen("行政许可\t24523", "行政许可\t２４，５２３", 1)
        .replacen("规章\t0\t0\t0", "规 章\t０\t０\t０", 1)
        .replacen("行政处罚\t1440", "行政处罚\t1,440", 1);
    let src = dir.path().join("wide.txt");
    fs::write(&src, text).expect("write");
    let run = import(
        dir.path(),
        &[p(&src), "--agency", "fenyang-gov-office"],
        "en",
    );
    assert!(run.ok(), "{run:?}");
    let got = parse(&dir.path().join("content/2022/fenyang-gov-office.md"));
    assert_eq!(
        &cells(&got, "active_disclosure")[..8],
        ["0", "0", "0", "4", "0", "4", "24523", "1440"]
    );
}

#[test]
fn existing_files_are_never_overwritten_silently() {
    let dir = tmp();
    let sample = sample_path();
    let args = [p(&sample), "--agency", "fenyang-gov-office"];
    assert!(import(dir.path(), &args, "en").ok());
    let path = dir.path().join("content/2022/fenyang-gov-office.md");
    fs::write(&path, "clerk's edits").expect("write");
    let run = import(dir.path(), &args, "en");
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stdout
            .contains("exists and was not overwritten; add --force"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&path.display().to_string()),
        "{}",
        run.stdout
    );
    assert_eq!(fs::read_to_string(&path).expect("read"), "clerk's edits");
    let mut forced = args.to_vec();
    forced.push("--force");
    assert!(import(dir.path(), &forced, "en").ok());
    assert!(
        fs::read_to_string(&path)
            .expect("read")
            .starts_with("---\nformat: cn-2021")
    );
}

#[test]
fn agency_id_is_asked_for_never_invented() {
    let dir = tmp();
    let run = import(dir.path(), &[p(&sample_path())], "zh");
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stdout.contains("请用 --agency 指定机关标识")
            && run.stdout.contains("汾阳市人民政府办公室"),
        "{}",
        run.stdout
    );
    assert!(!dir.path().join("content").exists());
    let run = import(dir.path(), &[p(&sample_path()), "--agency", "汾阳"], "zh");
    assert_eq!(run.status.code(), Some(2), "not a slug: {run:?}");
}

#[test]
fn several_files_one_summary_line_each() {
    let dir = tmp();
    let out = dir.path().join("elsewhere");
    let run = import(
        dir.path(),
        &[
            p(&fixture("default-2022.txt")),
            p(&fixture("tsv-2020.txt")),
            p(&fixture("layout-2022.txt")),
            "--agency",
            "demo",
            "--out",
            p(&out),
        ],
        "en",
    );
    assert_eq!(run.status.code(), Some(1), "one refused: {run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert!(lines[0].starts_with("imported with warnings: ") && lines[0].contains("2022/demo.md"));
    assert!(lines[1].starts_with("imported: ") && lines[1].contains("2020/demo.md"));
    // The third is the same agency and year as the first: refused, not overwritten.
    assert!(
        lines[2].starts_with("refused: ") && lines[2].contains("already written"),
        "{}",
        lines[2]
    );
    assert_eq!(
        lines[3],
        "3 file(s): 1 imported, 1 imported with warnings, 0 imported in part, 1 refused."
    );
    assert!(out.join("2022/demo.md").exists() && out.join("2020/demo.md").exists());
}

#[test]
fn round_trip_import_build_page_shows_the_source_numbers() {
    let dir = tmp();
    let root = dir.path();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    fs::copy(repo.join("portal.yaml"), root.join("portal.yaml")).expect("portal.yaml");
    common::copy_dir(&repo.join("themes"), &root.join("themes"));
    let run = import(
        root,
        &[
            p(&sample_path()),
            p(&fixture("report-2022.html")),
            "--agency",
            "fenyang-gov-office",
            "--year",
            "2022",
        ],
        "en",
    );
    // Same agency and year twice: the second is refused; import the page under its own id.
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let run = import(
        root,
        &[p(&fixture("report-2022.html")), "--agency", "demo-gov"],
        "en",
    );
    assert!(run.ok(), "{run:?}");
    let out = root.join("public");
    common::build(root, Some(&out)).assert_ok();

    // The sample's numbers in reading order, as a person sees them in the source.
    let mut source_numbers: Vec<String> = Vec::new();
    let text = sample();
    let mut in_tables = false;
    for line in text.lines() {
        if line.trim() == "二、主动公开政府信息情况" {
            in_tables = true;
        }
        if line.trim() == "五、存在的主要问题及改进情况" {
            in_tables = false;
        }
        if in_tables {
            source_numbers.extend(
                line.split('\t')
                    .map(str::trim)
                    .filter(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit() || c == '.'))
                    .map(str::to_owned),
            );
        }
    }
    assert_eq!(source_numbers.len(), 200);
    let page =
        fs::read_to_string(out.join("reports/2022/fenyang-gov-office/index.html")).expect("page");
    let shown: Vec<String> = [
        "t-active-disclosure",
        "t-applications",
        "t-review-litigation",
    ]
    .iter()
    .flat_map(|prefix| common::data_cells(&page, prefix))
    .map(|c| c.value)
    .collect();
    assert_eq!(shown, source_numbers);

    let page = fs::read_to_string(out.join("reports/2022/demo-gov/index.html")).expect("page");
    let shown: Vec<String> = common::data_cells(&page, "t-applications")
        .into_iter()
        .map(|c| c.value)
        .collect();
    assert_eq!(shown, d1_t3());
    let shown: Vec<String> = common::data_cells(&page, "t-active-disclosure")
        .into_iter()
        .map(|c| c.value)
        .collect();
    assert_eq!(shown, D1_T2);
}

#[test]
fn the_portals_agency_registry_gives_the_kind() {
    let dir = tmp();
    let root = dir.path();
    fs::create_dir_all(root.join("content")).expect("mkdir");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    fs::copy(
        repo.join("content/agencies.yaml"),
        root.join("content/agencies.yaml"),
    )
    .expect("agencies.yaml");
    let run = import(
        root,
        &[p(&sample_path()), "--agency", "fenyang-gov-office"],
        "en",
    );
    assert!(run.ok(), "{run:?}");
    assert!(
        !run.stdout.contains("inferred"),
        "the kind comes from the registry: {}",
        run.stdout
    );
    let got = parse(&root.join("content/2022/fenyang-gov-office.md"));
    assert_eq!(got.agency_kind, "department");
    // A report whose agency is not the one the id names is said so.
    let run = import(
        root,
        &[p(&fixture("report-2022.html")), "--agency", "fenyang-gov"],
        "en",
    );
    assert!(run.ok(), "{run:?}");
    assert!(
        run.stderr
            .contains("not the registry's name of fenyang-gov"),
        "{}",
        run.stderr
    );
}
