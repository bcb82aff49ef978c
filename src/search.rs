//! Render stage, search: a static index for the search page's small script.
//!
//! Chinese has no spaces between words, so text is indexed by overlapping character
//! pairs (bigrams); Latin text and numbers by lowercased words. A query matches when
//! all of its bigrams and words occur in one section of a report. Postings are
//! (report, section) pairs, delta-encoded in base 36, which keeps the index a few
//! percent of the site's size.

use rayon::prelude::*;

use crate::markdown::{Part, Section};
use crate::model::Report;
use crate::render::{Page, report_url};

/// One report's searchable text: its title and agency, then each section's text.
#[derive(Clone, Hash)]
pub struct SearchDoc {
    pub title: String,
    pub url: String,
    pub agency: String,
    pub year: i32,
    /// (heading, anchor, plain text) per section.
    pub sections: Vec<(String, String, String)>,
}

impl SearchDoc {
    pub fn new(report: &Report, sections: &[Section]) -> SearchDoc {
        let mut out = vec![(
            report.title.clone(),
            String::new(),
            format!("{} {}", report.title, report.agency),
        )];
        for s in sections {
            let mut text = s.heading.clone();
            for p in &s.parts {
                if let Part::Html { html, .. } = p {
                    text.push(' ');
                    text.push_str(&strip_tags(html));
                }
            }
            out.push((s.heading.clone(), s.anchor.clone(), text));
        }
        SearchDoc {
            title: report.title.clone(),
            url: report_url(report),
            agency: report.agency.clone(),
            year: report.year,
            sections: out,
        }
    }
}

/// Text of an HTML fragment, entities decoded where they matter for search (the ones
/// Markdown rendering writes), in one pass.
fn strip_tags(html: &str) -> String {
    const ENTITIES: [(&str, char); 5] = [
        ("&amp;", '&'),
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&quot;", '"'),
        ("&#39;", '\''),
    ];
    let mut out = String::with_capacity(html.len());
    let b = html.as_bytes();
    let mut i = 0;
    // Text is copied a run at a time, up to the next `<`, `>` or `&` (ASCII, so every
    // cut is at a character's boundary).
    while i < b.len() {
        let Some(at) = b[i..]
            .iter()
            .position(|c| matches!(c, b'<' | b'>' | b'&'))
            .map(|p| i + p)
        else {
            out.push_str(&html[i..]);
            break;
        };
        out.push_str(&html[i..at]);
        match b[at] {
            b'<' => {
                // A tag: nothing of it is kept, and its end is a space.
                let Some(end) = b[at..].iter().position(|&c| c == b'>') else {
                    break;
                };
                out.push(' ');
                i = at + end + 1;
            }
            b'>' => {
                out.push(' ');
                i = at + 1;
            }
            _ => {
                let rest = &html[at..];
                match ENTITIES.iter().find(|(e, _)| rest.starts_with(e)) {
                    Some((e, decoded)) => {
                        out.push(*decoded);
                        i = at + e.len();
                    }
                    None => {
                        out.push('&');
                        i = at + 1;
                    }
                }
            }
        }
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// The tokens of a text: CJK bigrams (and single characters of one-character runs) and
/// lowercased ASCII words. The search page's script tokenises queries the same way.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    each_token(text, |t| {
        out.push(match t {
            Tok::Chars(n) => chars_text(n),
            Tok::Word(w) => w.to_owned(),
        })
    });
    out
}

/// A token as [`each_token`] finds it: one or two Chinese characters packed in a number
/// (the second 0 when there is one), so that they hash as an integer and need no
/// allocation, or a word, lent.
enum Tok<'w> {
    Chars(u64),
    Word(&'w str),
}

fn one(a: char) -> u64 {
    u64::from(a) << 32
}

fn two(a: char, b: char) -> u64 {
    u64::from(a) << 32 | u64::from(b)
}

/// The text of a token of one or two characters (see [`one`] and [`two`]).
fn chars_text(n: u64) -> String {
    [n >> 32, n & 0xFFFF_FFFF]
        .into_iter()
        .filter_map(|c| char::from_u32(c as u32))
        .filter(|&c| c != '\0')
        .collect()
}

/// The common punctuation of Chinese text, none of it a letter or digit: known without
/// Unicode's tables, which `char::is_alphanumeric` searches for every non-ASCII character
/// (a tenth of the tokenising).
fn is_punctuation(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '（'
            | '）'
            | '“'
            | '”'
            | '‘'
            | '’'
            | '《'
            | '》'
            | '！'
            | '？'
            | '—'
            | '…'
            | '·'
            | '【'
            | '】'
            | '　'
    )
}

/// Calls `f` with each token of `text`, in order (see [`tokens`]). One pass, without a
/// buffer for a run of Chinese characters: each character makes a pair with the one
/// before it, and a run of one character is that character.
fn each_token(text: &str, mut f: impl FnMut(Tok<'_>)) {
    // The last character of the current run of CJK characters, and whether the run has
    // made a pair yet.
    let mut run: Option<(char, bool)> = None;
    let mut word = String::new();
    let end_run = |run: &mut Option<(char, bool)>, f: &mut dyn FnMut(Tok<'_>)| {
        if let Some((c, false)) = run.take() {
            f(Tok::Chars(one(c)));
        }
    };
    for c in text.chars() {
        if is_cjk(c) {
            if !word.is_empty() {
                f(Tok::Word(&word));
                word.clear();
            }
            run = Some(match run {
                Some((prev, _)) => {
                    f(Tok::Chars(two(prev, c)));
                    (c, true)
                }
                None => (c, false),
            });
        } else if !is_punctuation(c) && c.is_alphanumeric() {
            end_run(&mut run, &mut f);
            if c.is_ascii() {
                word.push(c.to_ascii_lowercase());
            } else {
                word.extend(c.to_lowercase());
            }
        } else {
            end_run(&mut run, &mut f);
            if !word.is_empty() {
                f(Tok::Word(&word));
                word.clear();
            }
        }
    }
    end_run(&mut run, &mut f);
    if !word.is_empty() {
        f(Tok::Word(&word));
    }
}

/// Appends `n` in base 36 (digits, then lowercase letters), as bytes: a list's text is
/// checked as UTF-8 once, when it is complete, not once per posting.
fn push_base36(out: &mut Vec<u8>, mut n: u64) {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    // Most postings are a section or a few after the last: one digit.
    if n < 36 {
        out.push(DIGITS[n as usize]);
        return;
    }
    let mut buf = [0u8; 13];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = DIGITS[(n % 36) as usize];
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
fn base36(n: u64) -> String {
    let mut s = Vec::new();
    push_base36(&mut s, n);
    String::from_utf8(s).unwrap_or_default()
}

/// Where the index goes in the site.
pub const INDEX_PATH: &str = "search/index.json";

/// `search/index.json`: the documents and the token → postings map.
pub fn index(docs: &[SearchDoc]) -> Page {
    let mut content = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write_index(docs, &mut content);
    Page {
        path: INDEX_PATH.into(),
        content,
    }
}

/// Writes `search/index.json` to `out` as it is serialized: held whole, its buffer grew
/// by doubling to 32 MiB at 10,000 reports, with the old one still held while copying.
pub fn write_index(docs: &[SearchDoc], out: &mut dyn std::io::Write) -> std::io::Result<()> {
    // Posting = report index × 64 + section index (reports have far fewer than 64 sections).
    // Reports are taken a chunk at a time: a chunk's tokens are found in parallel, then
    // appended to each token's list, delta-encoded at once (ids only grow, so a token met
    // twice in a section is its list's last id), so memory stays near the size of the
    // index itself. At 10,000 reports, holding every posting first took 250 MiB.
    #[derive(Default)]
    struct List {
        /// Base-36 digits and commas (ASCII).
        encoded: Vec<u8>,
        last: u64,
    }
    impl List {
        fn add(&mut self, id: u64) {
            if !self.encoded.is_empty() {
                // A token met again in the same section: one posting is enough.
                if self.last == id {
                    return;
                }
                self.encoded.push(b',');
            }
            push_base36(&mut self.encoded, id - self.last);
            self.last = id;
        }
    }
    const CHUNK: usize = 64;
    // Chinese tokens (most) by their number, words by their text.
    let mut by_chars: std::collections::HashMap<u64, List, crate::fingerprint::FxBuild> =
        std::collections::HashMap::default();
    let mut by_word: std::collections::HashMap<String, List, crate::fingerprint::FxBuild> =
        std::collections::HashMap::default();
    for (c, chunk) in docs.chunks(CHUNK).enumerate() {
        #[allow(clippy::type_complexity)]
        let per_doc: Vec<(Vec<(u64, u64)>, Vec<(String, u64)>)> = chunk
            .par_iter()
            .enumerate()
            .map(|(d, doc)| {
                let (mut chars, mut words) = (Vec::with_capacity(1024), Vec::new());
                for (s, (_, _, text)) in doc.sections.iter().enumerate().take(64) {
                    let id = (c * CHUNK + d) as u64 * 64 + s as u64;
                    each_token(text, |t| match t {
                        Tok::Chars(n) => chars.push((n, id)),
                        Tok::Word(w) => words.push((w.to_owned(), id)),
                    });
                }
                (chars, words)
            })
            .collect();
        for (chars, words) in per_doc {
            for (token, id) in chars {
                by_chars.entry(token).or_default().add(id);
            }
            for (token, id) in words {
                by_word.entry(token).or_default().add(id);
            }
        }
    }
    // Written in the tokens' text order, so the index is the same in every build.
    let text = |list: List| String::from_utf8(list.encoded).unwrap_or_default();
    let mut postings: Vec<(String, String)> = by_chars
        .into_iter()
        .map(|(t, list)| (chars_text(t), text(list)))
        .chain(by_word.into_iter().map(|(t, list)| (t, text(list))))
        .collect();
    postings.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    // Serialized straight from the lists, without a JSON tree of the whole index.
    struct Tokens(Vec<(String, String)>);
    impl serde::Serialize for Tokens {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|(t, l)| (t, l)))
        }
    }
    struct Doc<'d>(&'d SearchDoc);
    impl serde::Serialize for Doc<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let d = self.0;
            let sections: Vec<(&str, &str)> = d
                .sections
                .iter()
                .map(|(h, a, _)| (h.as_str(), a.as_str()))
                .collect();
            (&d.title, &d.url, &d.agency, d.year, sections).serialize(s)
        }
    }
    #[derive(serde::Serialize)]
    struct Body<'d> {
        version: u32,
        docs: Vec<Doc<'d>>,
        tokens: Tokens,
    }
    let body = Body {
        version: 1,
        docs: docs.iter().map(Doc).collect(),
        tokens: Tokens(postings),
    };
    serde_json::to_writer(out, &body).map_err(std::io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_punctuation_known_without_tables_is_not_alphanumeric() {
        for c in "，。、；：（）“”‘’《》！？—…·【】　".chars() {
            assert!(is_punctuation(c) && !c.is_alphanumeric(), "{c}");
        }
    }

    #[test]
    fn chinese_is_indexed_by_bigrams_and_latin_by_words() {
        assert_eq!(
            tokens("政务公开 FOIA-2024"),
            ["政务", "务公", "公开", "foia", "2024"]
        );
        assert_eq!(tokens("（一）予"), ["一", "予"]);
    }

    #[test]
    fn text_is_taken_from_html_with_entities_decoded_once() {
        assert_eq!(
            strip_tags("<p>A &amp; B &lt;C&gt; &quot;D&quot; &#39;E&#39; &amp;lt; &copy;</p>"),
            " A & B <C> \"D\" 'E' &lt; &copy; "
        );
        assert_eq!(strip_tags("<a href=\"?a=1&amp;b\">链接</a>"), " 链接 ");
        assert_eq!(strip_tags("甲 > 乙 <b <i>丙</i> &x <p"), "甲   乙  丙  &x ");
    }

    #[test]
    fn postings_are_delta_encoded() {
        assert_eq!(base36(0), "0");
        assert_eq!(base36(71), "1z");
    }
}
