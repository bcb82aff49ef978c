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

/// sitemap.xml lists absolute addresses, so it needs `base_url`; None without one.
pub fn sitemap(paths: &[String], config: &Config) -> Option<Page> {
    let base = base(config)?;
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut html: Vec<&String> = paths
        .iter()
        .filter(|p| p.ends_with(".html") && p.as_str() != "404.html")
        .collect();
    html.sort();
    for p in html {
        let _ = writeln!(
            x,
            "  <url><loc>{}</loc></url>",
            xml_escape(&format!("{base}{p}"))
        );
    }
    x.push_str("</urlset>\n");
    Some(Page {
        path: "sitemap.xml".into(),
        content: x.into_bytes(),
    })
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

    #[test]
    fn escapes_xml() {
        assert_eq!(xml_escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
