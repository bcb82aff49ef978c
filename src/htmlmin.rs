//! Whitespace minification of Tera templates that make HTML, and of HTML.
//!
//! Minifying every rendered page with minify-html was half of a build's CPU time (19 s of
//! 38 at 10,000 reports), spent removing the same template indentation from tens of
//! thousands of pages. So the theme's templates are minified once, when the theme is
//! loaded ([`template`]), and each report's Markdown HTML once, when it is rendered
//! ([`html`]); pages come out of Tera minified.
//!
//! Only whitespace that minify-html itself would remove is removed, following its model:
//! runs collapse to one space; whitespace at the start or end of an element that trims
//! (`p`, `li`, `td`, `div`, `ul`…) goes, and so does whitespace between two tags whose
//! parent must be a layout element (`</li> <li>`, `</td> <td>`, `<meta> <meta>`).
//! Where a Tera tag hides the neighbour that decides, one space is kept. HTML comments go;
//! `pre`, `code`, `textarea`, `script`, `style` and `title` are kept byte for byte.
//! A test holds the pass to minify-html: minifying a page made from the minified
//! templates gives the same bytes as minifying the page made from the originals.

/// Minifies a Tera template's HTML, keeping every Tera tag as it is.
pub fn template(src: &str) -> String {
    minify(src, true)
}

/// Minifies HTML that fills an element which trims (the output of the Markdown renderer,
/// put in a `div`): whitespace at its start and end goes too.
pub fn html(src: &str) -> String {
    minify(src, false)
}

/// What is on one side of a run of whitespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side<'a> {
    /// The start or the end of the source.
    Edge,
    Text,
    /// `{{ … }}`: text of unknown content at run time.
    Expr,
    /// `{% … %}`: no output of its own, so the neighbour at run time is unknown.
    Stmt,
    Open(&'a str),
    Close(&'a str),
    /// An element without content (`<meta>`, `<br>`, `<rect/>`).
    Void(&'a str),
}

/// Elements whose content minify-html trims at both ends (its content, content-first and
/// layout elements).
const TRIMS: &[&str] = &[
    "address",
    "audio",
    "button",
    "canvas",
    "caption",
    "figcaption",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "legend",
    "meter",
    "object",
    "option",
    "p",
    "summary",
    "video",
    "dd",
    "details",
    "dt",
    "iframe",
    "label",
    "li",
    "noscript",
    "output",
    "progress",
    "slot",
    "td",
    "template",
    "th",
    "article",
    "aside",
    "blockquote",
    "body",
    "colgroup",
    "datalist",
    "dialog",
    "div",
    "dl",
    "fieldset",
    "figure",
    "footer",
    "form",
    "head",
    "header",
    "hgroup",
    "html",
    "main",
    "map",
    "menu",
    "nav",
    "ol",
    "optgroup",
    "picture",
    "section",
    "select",
    "table",
    "tbody",
    "tfoot",
    "thead",
    "tr",
    "ul",
];

/// Elements whose parent is always a layout element (`li` in a list, `td` in a row, `meta`
/// in the head), so whitespace alone between them and another tag is dropped.
const IN_LAYOUT: &[&str] = &[
    "li", "tr", "td", "th", "thead", "tbody", "tfoot", "caption", "colgroup", "col", "dt", "dd",
    "option", "optgroup", "head", "body", "meta", "link", "base", "title", "!doctype",
];

/// Elements whose content is kept byte for byte.
const VERBATIM: &[&str] = &["pre", "code", "textarea", "script", "style", "title"];

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "!doctype",
];

fn trims(name: &str) -> bool {
    TRIMS.contains(&name)
}

fn in_layout(name: &str) -> bool {
    IN_LAYOUT.contains(&name)
}

/// Whether a run of whitespace between `left` and `right` renders as nothing.
fn removable(left: Side, right: Side) -> bool {
    let tagish = |s: Side| !matches!(s, Side::Text | Side::Expr);
    match (left, right) {
        // Leading and trailing whitespace of an element that trims.
        (Side::Open(x), _) if trims(x) => true,
        (_, Side::Close(y)) if trims(y) => true,
        // Whitespace alone between two tags in a layout element.
        (Side::Close(x) | Side::Void(x), r) if in_layout(x) && tagish(r) => true,
        (l, Side::Open(y) | Side::Void(y)) if in_layout(y) && tagish(l) => true,
        _ => false,
    }
}

fn minify(src: &str, tera: bool) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    // A tag's minified text, reused from tag to tag.
    let mut tag = String::new();
    let mut last = Side::Edge;
    let mut pending = false;
    let flush = |out: &mut String, pending: &mut bool, left: Side, right: Side| {
        let at_edge = !tera && (left == Side::Edge || right == Side::Edge);
        if *pending && !at_edge && !removable(left, right) {
            out.push(' ');
        }
        *pending = false;
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            pending = true;
            i += 1;
            continue;
        }
        if tera && c == b'{' && matches!(b.get(i + 1), Some(b'{' | b'%' | b'#')) {
            let end = tera_end(b, i);
            let tok = &src[i..end];
            if b[i + 1] == b'#' && !tok.starts_with("{#-") && !tok.ends_with("-#}") {
                // A comment makes no output: the whitespace around it is one run.
                i = end;
                continue;
            }
            let side = if b[i + 1] == b'{' {
                Side::Expr
            } else {
                Side::Stmt
            };
            flush(&mut out, &mut pending, last, side);
            out.push_str(tok);
            i = end;
            last = side;
            if side == Side::Stmt && is_raw_start(tok) {
                // `{% raw %}`: its text is printed as it is, Tera syntax and all.
                let stop = find_from(b, end, b"endraw").map_or(b.len(), |p| {
                    b[..p].iter().rposition(|&c| c == b'{').unwrap_or(p)
                });
                out.push_str(&src[end..stop]);
                i = stop;
                last = Side::Text;
            }
            continue;
        }
        if c == b'<' {
            if b[i..].starts_with(b"<!--") {
                let end = find_from(b, i + 4, b"-->").map_or(b.len(), |p| p + 3);
                let body = &src[i..end];
                let tera_inside = tera && (body.contains("{{") || body.contains("{%"));
                if tera_inside || body.starts_with("<!--[if") {
                    flush(&mut out, &mut pending, last, Side::Stmt);
                    out.push_str(body);
                    last = Side::Stmt;
                }
                i = end;
                continue;
            }
            let closing = b.get(i + 1) == Some(&b'/');
            let name_start = if closing { i + 2 } else { i + 1 };
            let is_name_start = b
                .get(name_start)
                .is_some_and(|c| c.is_ascii_alphabetic() || (*c == b'!' && !closing));
            if is_name_start {
                let mut name_end = name_start + 1;
                while name_end < b.len()
                    && (b[name_end].is_ascii_alphanumeric() || b[name_end] == b'-')
                {
                    name_end += 1;
                }
                let name = &src[name_start..name_end];
                let lower;
                let name = if name.bytes().any(|c| c.is_ascii_uppercase()) {
                    lower = name.to_ascii_lowercase();
                    intern(&lower).unwrap_or(name)
                } else {
                    name
                };
                let (end, self_closing) = scan_tag(src, i, name_end, tera, &mut tag);
                let side = if closing {
                    Side::Close(name)
                } else if self_closing || VOID.contains(&name) {
                    Side::Void(name)
                } else {
                    Side::Open(name)
                };
                flush(&mut out, &mut pending, last, side);
                out.push_str(&tag);
                i = end;
                last = side;
                if !closing && !self_closing && VERBATIM.contains(&name) {
                    let stop = find_close(b, end, name).unwrap_or(b.len());
                    if stop > end {
                        out.push_str(&src[end..stop]);
                        last = Side::Text;
                    }
                    i = stop;
                }
                continue;
            }
        }
        flush(&mut out, &mut pending, last, Side::Text);
        // Text up to the next byte that may start something else, copied at once: most
        // of a report's bytes are its prose.
        let run = b[i + 1..]
            .iter()
            .position(|&c| c.is_ascii_whitespace() || c == b'<' || (tera && c == b'{'))
            .map_or(b.len(), |p| i + 1 + p);
        out.push_str(&src[i..run]);
        last = Side::Text;
        i = run;
    }
    flush(&mut out, &mut pending, last, Side::Edge);
    out
}

/// The static name for a tag name in upper case (`<TD>`), when it is one the pass knows.
fn intern(lower: &str) -> Option<&'static str> {
    [TRIMS, IN_LAYOUT, VERBATIM, VOID]
        .iter()
        .flat_map(|l| l.iter())
        .find(|n| **n == lower)
        .copied()
}

/// Copies a tag from `<` to `>`: whitespace between attributes becomes one space and goes
/// before `>`; quoted values and Tera tags are kept. Returns the tag, the index after it and
/// whether it closes itself (`/>`).
fn scan_tag(src: &str, start: usize, mut i: usize, tera: bool, tag: &mut String) -> (usize, bool) {
    // Copied in slices cut at ASCII bytes, so it stays text.
    let b = src.as_bytes();
    tag.clear();
    tag.push_str(&src[start..i]);
    let mut space = false;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            space = true;
            i += 1;
            continue;
        }
        if c == b'>' {
            tag.push('>');
            let self_closing = tag.ends_with("/>");
            return (i + 1, self_closing);
        }
        if space && !(c == b'/' && b.get(i + 1) == Some(&b'>')) {
            tag.push(' ');
        }
        space = false;
        if tera && c == b'{' && matches!(b.get(i + 1), Some(b'{' | b'%' | b'#')) {
            let end = tera_end(b, i);
            tag.push_str(&src[i..end]);
            i = end;
        } else if c == b'"' || c == b'\'' {
            // A quoted value, with any Tera tags in it, as it is.
            let mut j = i + 1;
            while j < b.len() && b[j] != c {
                if tera && b[j] == b'{' && matches!(b.get(j + 1), Some(b'{' | b'%' | b'#')) {
                    j = tera_end(b, j);
                } else {
                    j += 1;
                }
            }
            let end = (j + 1).min(b.len());
            let value = &b[i + 1..j.min(b.len())];
            // A literal value that needs no quotes loses them, as minify-html does.
            let bare = tag.ends_with('=')
                && j < b.len()
                && !value.is_empty()
                && value
                    .iter()
                    .all(|c| !c.is_ascii_whitespace() && !b"\"'=<>`{}".contains(c))
                && !value.ends_with(b"/")
                && !matches!(b.get(end), Some(b'/'));
            if bare {
                tag.push_str(&src[i + 1..j.min(b.len())]);
            } else {
                tag.push_str(&src[i..end]);
            }
            i = end;
        } else {
            // A name or an unquoted value, up to the next byte that means something.
            let run = b[i + 1..]
                .iter()
                .position(|&c| c.is_ascii_whitespace() || matches!(c, b'>' | b'"' | b'\'' | b'{'))
                .map_or(b.len(), |p| i + 1 + p);
            tag.push_str(&src[i..run]);
            i = run;
        }
    }
    (b.len(), false)
}

/// The index just after the Tera tag that starts at `start` (`{{`, `{%` or `{#`), skipping
/// string literals inside it.
fn tera_end(b: &[u8], start: usize) -> usize {
    let close = match b[start + 1] {
        b'{' => b'}',
        b'%' => b'%',
        _ => b'#',
    };
    let mut i = start + 2;
    while i < b.len() {
        let c = b[i];
        if close != b'#' && matches!(c, b'"' | b'\'' | b'`') {
            i += 1;
            while i < b.len() && b[i] != c {
                i += 1;
            }
            i += 1;
            continue;
        }
        if c == close && b.get(i + 1) == Some(&b'}') {
            return i + 2;
        }
        i += 1;
    }
    b.len()
}

fn is_raw_start(tok: &str) -> bool {
    let inner = tok
        .trim_start_matches("{%")
        .trim_end_matches("%}")
        .trim_matches('-')
        .trim();
    inner == "raw"
}

fn find_from(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Where `</name` starts (in any case), from `from` on.
fn find_close(b: &[u8], from: usize, name: &str) -> Option<usize> {
    let n = name.len();
    let mut i = from;
    while let Some(p) = find_from(b, i, b"</") {
        if b.get(p + 2..p + 2 + n)
            .is_some_and(|w| w.eq_ignore_ascii_case(name.as_bytes()))
        {
            return Some(p);
        }
        i = p + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indentation_between_block_tags_goes() {
        let src = "<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>\n";
        assert_eq!(html(src), "<ul><li>a</li><li>b</li></ul>");
    }

    #[test]
    fn space_between_inline_elements_stays() {
        assert_eq!(
            html("<p>\n  <a href=\"x\">a</a>\n  <a>b</a>\n</p>"),
            "<p><a href=x>a</a> <a>b</a></p>"
        );
        assert_eq!(html("a   b\n c"), "a b c");
    }

    #[test]
    fn tera_tags_are_kept_and_hide_their_neighbours() {
        let src = "<ul>\n{% for x in xs %}\n  <li class=\"{{ x.c }}\">{{ x.v }}</li>\n{% endfor %}\n</ul>";
        assert_eq!(
            template(src),
            "<ul>{% for x in xs %}<li class=\"{{ x.c }}\">{{ x.v }}</li>{% endfor %}</ul>"
        );
        // A loop of inline elements: the neighbour at run time is unknown, so a space stays.
        assert_eq!(
            template("<p>{% for t in ts %}\n<span>{{ t }}</span>\n{% endfor %}</p>"),
            "<p>{% for t in ts %} <span>{{ t }}</span> {% endfor %}</p>"
        );
    }

    #[test]
    fn tera_syntax_inside_tags_and_strings_is_untouched() {
        let src = "<li{% if a %} class=\"x  y\"{% endif %}\n    data-k='{{ \"%}\" }}'>z</li>";
        assert_eq!(
            template(src),
            "<li{% if a %} class=\"x  y\"{% endif %} data-k='{{ \"%}\" }}'>z</li>"
        );
    }

    #[test]
    fn literal_attribute_values_lose_quotes_they_do_not_need() {
        assert_eq!(
            template("<th scope=\"col\" class=\"a b\" id=\"{{ i }}\" alt=\"\" href=\"x/y\">"),
            "<th scope=col class=\"a b\" id=\"{{ i }}\" alt=\"\" href=x/y>"
        );
        // Characters beyond ASCII in a tag are copied whole.
        assert_eq!(
            html("<p  data-x=标题   title=\"说明\">文\n\n字</p>"),
            "<p data-x=标题 title=说明>文 字</p>"
        );
    }

    #[test]
    fn comments_go_and_verbatim_elements_stay() {
        assert_eq!(template("<p>a {# note #}\n b</p>"), "<p>a b</p>");
        assert_eq!(
            html("<div><!-- x -->\n<p>a</p></div>"),
            "<div><p>a</p></div>"
        );
        let pre = "<pre>\n  a\n    b\n</pre>";
        assert_eq!(html(pre), pre);
        let style = "<style>\n a { b: c }\n</style>";
        assert_eq!(html(style), style);
        assert_eq!(
            template("{% raw %}\n  {{ x }}\n{% endraw %}"),
            "{% raw %}\n  {{ x }}\n{% endraw %}"
        );
    }

    #[test]
    fn whitespace_at_the_edges_of_a_partial_is_kept_as_one_space() {
        assert_eq!(template("\n  {{ x }}\n"), " {{ x }} ");
    }

    #[test]
    fn chinese_text_is_kept() {
        assert_eq!(html("<p>\n  政府信息公开\n</p>\n"), "<p>政府信息公开</p>");
    }
}
