//! Escaping text for HTML, for the few pieces of HTML made in Rust rather than in the
//! theme's templates (comparison cells, the chart, translated words, the preview's pages).

/// Appends `s` to `out`, escaped for HTML text and double-quoted attribute values: the
/// same characters as Tera's escaping (`&`, `<`, `>`, `"`), so a cell made here reads the
/// same as one a template makes.
pub fn escape_into(out: &mut String, s: &str) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let with = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(with);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// `s` escaped for HTML (see [`escape_into`]).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes_only() {
        assert_eq!(escape("a<b>&\"c'd 政务"), "a&lt;b&gt;&amp;&quot;c'd 政务");
    }
}
