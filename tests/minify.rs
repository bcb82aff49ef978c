//! Pages are minified by minifying the theme's templates once (`src/htmlmin.rs`), not by
//! running minify-html over every page. These tests hold that pass to minify-html: for
//! every HTML page of a portal, minify-html gives the same bytes for the page built with
//! `minify: true` as for the page built with `minify: false`. So the pass removes only what
//! minify-html would remove, and the pages still say the same.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use common::{Portal, tree};

fn reference(html: &[u8]) -> Vec<u8> {
    let mut cfg = minify_html::Cfg::new();
    cfg.keep_closing_tags = true;
    cfg.keep_html_and_head_opening_tags = true;
    cfg.minify_css = true;
    minify_html::minify(html, &cfg)
}

fn set_minify(root: &Path, on: bool) {
    let yaml = root.join("portal.yaml");
    let text = fs::read_to_string(&yaml).expect("read portal.yaml");
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("minify:"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&yaml, format!("{kept}minify: {on}\n")).expect("write portal.yaml");
}

/// Builds the portal both ways and compares every HTML page through minify-html. Returns
/// the HTML bytes: minified, as written, and as minify-html makes them.
fn assert_same_after_reference(portal: &Portal) -> (usize, usize, usize) {
    let root = portal.root();
    set_minify(&root, true);
    portal.build(&portal.out("min")).assert_ok();
    set_minify(&root, false);
    portal.build(&portal.out("full")).assert_ok();
    let min = tree(&portal.out("min"));
    let full = tree(&portal.out("full"));
    let html = |t: &BTreeMap<String, Vec<u8>>| -> Vec<String> {
        t.keys().filter(|k| k.ends_with(".html")).cloned().collect()
    };
    assert_eq!(html(&min), html(&full), "both builds make the same pages");
    let (mut min_bytes, mut full_bytes, mut ref_bytes) = (0, 0, 0);
    let mut differ = Vec::new();
    for path in html(&min) {
        let (a, b) = (&min[&path], &full[&path]);
        min_bytes += a.len();
        full_bytes += b.len();
        ref_bytes += reference(b).len();
        if reference(a) != reference(b) {
            differ.push(path);
        }
    }
    if let Some(first) = differ.first() {
        let (a, b) = (reference(&min[first]), reference(&full[first]));
        let at = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(0);
        let show = |v: &[u8]| {
            String::from_utf8_lossy(&v[at.saturating_sub(150)..(at + 150).min(v.len())])
                .into_owned()
        };
        panic!(
            "{} pages differ after minify-html, first {first} at byte {at}:\nminified templates: {}\nas written:         {}",
            differ.len(),
            show(&a),
            show(&b)
        );
    }
    eprintln!("HTML bytes: as written {full_bytes}, minified {min_bytes}, minify-html {ref_bytes}");
    (min_bytes, full_bytes, ref_bytes)
}

#[test]
fn minified_templates_make_the_same_pages_as_minify_html() {
    let portal = Portal::example();
    let (min, full, reference) = assert_same_after_reference(&portal);
    // And it does minify: it saves at least two thirds of what minify-html saves.
    assert!(
        (full - min) * 3 >= (full - reference) * 2,
        "as written {full} bytes, minified {min}, minify-html {reference}"
    );
}

#[test]
fn so_does_the_compact_theme() {
    let portal = Portal::example();
    let yaml = portal.root().join("portal.yaml");
    let text = fs::read_to_string(&yaml).expect("read portal.yaml");
    fs::write(&yaml, text.replace("theme: default", "theme: compact")).expect("write");
    assert_same_after_reference(&portal);
}
