//! Render stage, discovery: the Atom feed of published reports and their revisions,
//! sitemap.xml and robots.txt. Dates come from the reports, never from the clock, so the
//! output stays byte-identical for identical input.

use std::fmt::Write as _;

use crate::config::Config;
use crate::model::{Date, Library};
use crate::render::{Page, report_url};

/// How many entries the feed keeps (newest first).
const FEED_ENTRIES: usize = 50;

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The base address with a trailing slash, if the portal has one.
fn base(config: &Config) -> Option<String> {
    config.base_url.as_ref().map(|b| {
        if b.ends_with('/') {
            b.clone()
        } else {
            format!("{b}/")
        }
    })
}

fn stamp(d: Date) -> String {
    format!("{d}T00:00:00Z")
}

/// Where the feed goes in the site.
pub const ATOM_PATH: &str = "feed.xml";

/// Atom feed: one entry per publication and one per revision, newest first.
pub fn atom(lib: &Library, config: &Config) -> Page {
    let base = base(config);
    let link = |path: &str| match &base {
        Some(b) => format!("{b}{path}"),
        None => path.to_owned(),
    };
    // (date, id, title, summary, path)
    let mut entries: Vec<(Date, String, String, String, String)> = Vec::new();
    for r in &lib.reports {
        let path = report_url(r);
        let id = format!(
            "tag:portalgen,{}:{}/{}",
            r.published.year, r.agency_id, r.year
        );
        entries.push((
            r.published,
            id.clone(),
            r.title.clone(),
            format!("{}发布{}年度政府信息公开工作年度报告。", r.agency, r.year),
            path.clone(),
        ));
        for (i, rev) in r.revisions.iter().enumerate() {
            entries.push((
                rev.date,
                format!("{id}/revision-{}", i + 1),
                format!("修订：{}", r.title),
                format!("{}（原因：{}）", rev.change, rev.reason),
                path.clone(),
            ));
        }
    }
    entries.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    entries.truncate(FEED_ENTRIES);
    let updated = entries
        .first()
        .map_or_else(|| "1970-01-01T00:00:00Z".to_owned(), |e| stamp(e.0));
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let _ = writeln!(
        x,
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">",
        xml_escape(&config.language)
    );
    let _ = writeln!(x, "  <title>{}</title>", xml_escape(&config.title));
    let _ = writeln!(
        x,
        "  <id>{}</id>",
        xml_escape(
            &base
                .clone()
                .unwrap_or_else(|| format!("tag:portalgen,2024:{}", config.title))
        )
    );
    let _ = writeln!(x, "  <updated>{updated}</updated>");
    let _ = writeln!(
        x,
        "  <link rel=\"self\" href=\"{}\"/>",
        xml_escape(&link(ATOM_PATH))
    );
    let _ = writeln!(
        x,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        xml_escape(&link("index.html"))
    );
    let _ = writeln!(
        x,
        "  <author><name>{}</name></author>",
        xml_escape(&config.title)
    );
    for (date, id, title, summary, path) in &entries {
        x.push_str("  <entry>\n");
        let _ = writeln!(x, "    <id>{}</id>", xml_escape(id));
        let _ = writeln!(x, "    <title>{}</title>", xml_escape(title));
        let _ = writeln!(x, "    <updated>{}</updated>", stamp(*date));
        let _ = writeln!(
            x,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            xml_escape(&link(path))
        );
        let _ = writeln!(x, "    <summary>{}</summary>", xml_escape(summary));
        x.push_str("  </entry>\n");
    }
    x.push_str("</feed>\n");
    Page {
        path: ATOM_PATH.into(),
        content: x.into_bytes(),
    }
}

/// The sitemaps protocol's limit of addresses in one file (sitemaps.org). Its other
/// limit, 50 MB, is far off at about 100 bytes an address. A portal with more pages gets
/// `sitemap.xml` as an index of part files.
pub const SITEMAP_URLS: usize = 50_000;

/// The pages a sitemap lists: every HTML page but the 404 page, sorted.
fn sitemap_pages<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut html: Vec<&str> = paths
        .into_iter()
        .filter(|p| p.ends_with(".html") && *p != "404.html")
        .collect();
    html.sort_unstable();
    html
}

/// The part files the sitemap needs beside `sitemap.xml`, `per_file` addresses each:
/// none when one file holds them all. Parts sit at the site's root because a sitemap may
/// only list addresses under its own folder.
pub fn sitemap_part_paths<'a>(
    paths: impl IntoIterator<Item = &'a str>,
    per_file: usize,
) -> Vec<String> {
    let n = sitemap_pages(paths).len();
    if n <= per_file {
        return Vec::new();
    }
    (1..=n.div_ceil(per_file))
        .map(|i| format!("sitemap-{i}.xml"))
        .collect()
}

/// sitemap.xml lists absolute addresses, so it needs `base_url`; None without one. With
/// more than `per_file` pages it is an index of the parts ([`sitemap_part`]).
pub fn sitemap<'a>(
    paths: impl IntoIterator<Item = &'a str>,
    config: &Config,
    per_file: usize,
) -> Option<Page> {
    let base = base(config)?;
    let pages = sitemap_pages(paths);
    let content = if pages.len() <= per_file {
        urlset(&base, &pages)
    } else {
        let mut x = String::from(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
        );
        for part in sitemap_part_paths(pages.iter().copied(), per_file) {
            let _ = writeln!(
                x,
                "  <sitemap><loc>{}</loc></sitemap>",
                xml_escape(&format!("{base}{part}"))
            );
        }
        x.push_str("</sitemapindex>\n");
        x
    };
    Some(Page {
        path: "sitemap.xml".into(),
        content: content.into_bytes(),
    })
}

/// Part `index` (from 0) of a sitemap split `per_file` addresses a file; None without
/// `base_url` or past the last part.
pub fn sitemap_part<'a>(
    paths: impl IntoIterator<Item = &'a str>,
    config: &Config,
    per_file: usize,
    index: usize,
) -> Option<Page> {
    let base = base(config)?;
    let pages = sitemap_pages(paths);
    let chunk = pages.chunks(per_file.max(1)).nth(index)?;
    Some(Page {
        path: format!("sitemap-{}.xml", index + 1),
        content: urlset(&base, chunk).into_bytes(),
    })
}

fn urlset(base: &str, pages: &[&str]) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for p in pages {
        let _ = writeln!(
            x,
            "  <url><loc>{}</loc></url>",
            xml_escape(&format!("{base}{p}"))
        );
    }
    x.push_str("</urlset>\n");
    x
}

pub fn robots(config: &Config) -> Page {
    let mut text = String::from("User-agent: *\nAllow: /\n");
    if let Some(b) = base(config) {
        let _ = writeln!(text, "Sitemap: {b}sitemap.xml");
    }
    Page {
        path: "robots.txt".into(),
        content: text.into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(base_url: Option<&str>) -> Config {
        let mut c: Config = serde_saphyr::from_str("title: t\n").expect("config");
        c.base_url = base_url.map(str::to_owned);
        c
    }

    fn paths(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_sitemap_within_the_limit_is_one_file() {
        let all = paths(&["b/index.html", "a/index.html", "404.html", "data/x.json"]);
        let c = config(Some("https://example.gov.cn/p"));
        let it = || all.iter().map(String::as_str);
        assert!(sitemap_part_paths(it(), 2).is_empty());
        let page = sitemap(it(), &c, 2).expect("sitemap");
        let text = String::from_utf8(page.content).expect("utf-8");
        assert!(text.contains("<urlset "), "{text}");
        let a = text
            .find("https://example.gov.cn/p/a/index.html")
            .expect("a");
        let b = text
            .find("https://example.gov.cn/p/b/index.html")
            .expect("b");
        assert!(a < b, "sorted");
        assert!(
            !text.contains("404.html") && !text.contains("x.json"),
            "{text}"
        );
        assert!(sitemap(it(), &config(None), 2).is_none(), "needs base_url");
    }

    #[test]
    fn a_sitemap_past_the_limit_is_an_index_of_parts() {
        let all = paths(&[
            "e.html", "d.html", "c.html", "b.html", "a.html", "404.html", "f.csv",
        ]);
        let c = config(Some("https://example.gov.cn/"));
        let it = || all.iter().map(String::as_str);
        assert_eq!(
            sitemap_part_paths(it(), 2),
            ["sitemap-1.xml", "sitemap-2.xml", "sitemap-3.xml"]
        );
        let index = String::from_utf8(sitemap(it(), &c, 2).expect("index").content).expect("utf-8");
        assert!(index.contains("<sitemapindex "), "{index}");
        assert!(!index.contains("<urlset"), "{index}");
        for i in 1..=3 {
            assert!(
                index.contains(&format!(
                    "<sitemap><loc>https://example.gov.cn/sitemap-{i}.xml</loc></sitemap>"
                )),
                "{index}"
            );
        }
        // Every page once, in order, at most two a file.
        let mut listed = Vec::new();
        for i in 0..3 {
            let part = sitemap_part(it(), &c, 2, i).expect("part");
            assert_eq!(part.path, format!("sitemap-{}.xml", i + 1));
            let text = String::from_utf8(part.content).expect("utf-8");
            let locs: Vec<&str> = text
                .split("<loc>")
                .skip(1)
                .filter_map(|s| s.split("</loc>").next())
                .collect();
            assert!(!locs.is_empty() && locs.len() <= 2, "{text}");
            listed.extend(locs.into_iter().map(str::to_owned));
        }
        let want: Vec<String> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|p| format!("https://example.gov.cn/{p}.html"))
            .collect();
        assert_eq!(listed, want);
        assert!(sitemap_part(it(), &c, 2, 3).is_none(), "past the last part");
    }

    #[test]
    fn escapes_xml() {
        assert_eq!(xml_escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
