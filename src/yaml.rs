//! A YAML tree that remembers where every value was written.
//!
//! Report tables are described by schema files, not by Rust types, so the front matter
//! cannot be deserialized into a fixed struct. It is read into this generic tree instead;
//! every node keeps its line and column (for diagnostics that point at a cell) and, for
//! scalars, the exact source text (so that `2595.45` stays a decimal and never passes
//! through a float).

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A position in a source file, 1-based, counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// One YAML node and where it starts.
#[derive(Debug, Clone)]
pub struct Node {
    pub kind: NodeKind,
    pub pos: Pos,
    /// Byte range of the node in the parsed text, when the parser knows it.
    /// 32-bit offsets keep the node small (front matter is far below 4 GiB).
    span: Option<(u32, u32)>,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Null,
    Bool(bool),
    /// Any number; `Node::text` gives its digits as written.
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order. Keys are kept as nodes so they can be pointed at too.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// A short name of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "空值 (null)",
            NodeKind::Bool(_) => "布尔值 (bool)",
            NodeKind::Int(_) => "整数 (integer)",
            NodeKind::Float(_) => "小数 (decimal)",
            NodeKind::Str(_) => "文本 (string)",
            NodeKind::Seq(_) => "列表 (list)",
            NodeKind::Map(_) => "映射 (mapping)",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The scalar as written in the source (for numbers), or its value (for strings).
    /// `source` must be the text the tree was parsed from.
    pub fn text<'a>(&'a self, source: &'a str) -> Option<std::borrow::Cow<'a, str>> {
        use std::borrow::Cow;
        match &self.kind {
            NodeKind::Str(s) => Some(Cow::Borrowed(s)),
            NodeKind::Int(_) | NodeKind::Float(_) => {
                if let Some((start, len)) = self.span
                    && let (start, len) = (start as usize, len as usize)
                    && let Some(raw) = source.get(start..start + len)
                {
                    return Some(Cow::Borrowed(raw.trim()));
                }
                match &self.kind {
                    NodeKind::Int(i) => Some(Cow::Owned(i.to_string())),
                    NodeKind::Float(f) => Some(Cow::Owned(f.to_string())),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// Parses one YAML document. Duplicate keys are errors.
///
/// Front matter is nearly always plain `key: value` lines, flow lists of numbers and
/// `{key: value}` rows; those are read by a small parser of that subset. Anything else
/// (comments after values, anchors, tags, block lists, quoting with escapes, a value whose
/// type is not obvious, any error) goes to the full YAML parser, so the result is
/// exactly what that parser would give.
pub fn parse(source: &str) -> Result<Node, YamlError> {
    if let Some(node) = fast::parse(source) {
        return Ok(node);
    }
    parse_full(source)
}

/// Parses with the full YAML parser.
fn parse_full(source: &str) -> Result<Node, YamlError> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
    };
    match serde_saphyr::from_str_with_options::<Option<Node>>(source, options) {
        Ok(Some(node)) => Ok(node),
        Ok(None) => Ok(Node {
            kind: NodeKind::Map(Vec::new()),
            pos: Pos { line: 1, column: 1 },
            span: None,
        }),
        Err(err) => {
            let pos = err
                .location()
                .map(|l| Pos {
                    line: l.line() as usize,
                    column: l.column() as usize,
                })
                .unwrap_or(Pos { line: 1, column: 1 });
            let message = err.without_snippet().to_string();
            Err(YamlError { pos, message })
        }
    }
}

/// The subset parser. Every function returns `None` for input outside the subset.
mod fast {
    use super::{Node, NodeKind, Pos};

    struct Line<'a> {
        /// Byte offset of the line in the source.
        start: usize,
        /// 1-based line number.
        number: usize,
        /// Leading spaces.
        indent: usize,
        /// The line after its indentation, without trailing spaces.
        content: &'a str,
        /// Whether `content` is ASCII: then a column is a byte offset.
        ascii: bool,
    }

    pub(super) fn parse(source: &str) -> Option<Node> {
        let mut lines = Vec::new();
        let mut start = 0;
        for (i, raw) in source.split('\n').enumerate() {
            let line_start = start;
            start += raw.len() + 1;
            if raw.bytes().any(|b| b == b'\t' || b == b'\r') {
                return None;
            }
            let content = raw.trim_start_matches(' ');
            let indent = raw.len() - content.len();
            let content = content.trim_end_matches(' ');
            // Blank lines and whole-line comments do not count.
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            // Document markers and directives.
            if indent == 0
                && (content.starts_with("---")
                    || content.starts_with("...")
                    || content.starts_with('%'))
            {
                return None;
            }
            lines.push(Line {
                start: line_start,
                number: i + 1,
                indent,
                content,
                ascii: content.is_ascii(),
            });
        }
        let first = lines.first()?;
        if first.indent != 0 {
            return None;
        }
        let mut p = Parser {
            source,
            lines,
            at: 0,
            entries: Vec::new(),
        };
        let node = p.block_map(0)?;
        (p.at == p.lines.len()).then_some(node)
    }

    struct Parser<'a> {
        source: &'a str,
        lines: Vec<Line<'a>>,
        at: usize,
        /// The entries of the block mappings being read, innermost last: each mapping
        /// takes its own off the top in one allocation of the right size, instead of
        /// growing a vector of its own (a report has thousands of small mappings).
        entries: Vec<(Node, Node)>,
    }

    impl<'a> Parser<'a> {
        fn pos(&self, line: &Line, byte_in_content: usize) -> Pos {
            let prefix = &line.content[..byte_in_content];
            let chars = if line.ascii {
                prefix.len()
            } else {
                prefix.chars().count()
            };
            Pos {
                line: line.number,
                column: line.indent + chars + 1,
            }
        }

        /// A block mapping whose keys are at `indent`.
        fn block_map(&mut self, indent: usize) -> Option<Node> {
            let first = &self.lines[self.at];
            let map_pos = Pos {
                line: first.number,
                column: indent + 1,
            };
            let base = self.entries.len();
            while let Some(line) = self.lines.get(self.at) {
                if line.indent < indent {
                    break;
                }
                if line.indent > indent {
                    return None;
                }
                let content = line.content;
                let key_len = key_length(content)?;
                let key_text = &content[..key_len];
                if self.entries[base..]
                    .iter()
                    .any(|(k, _)| k.as_str() == Some(key_text))
                {
                    return None;
                }
                let key = Node {
                    kind: NodeKind::Str(key_text.to_owned()),
                    pos: self.pos(line, 0),
                    span: None,
                };
                // `key:` then a space or the end of the line.
                let after = &content[key_len + 1..];
                let value_off = key_len + 1 + (after.len() - after.trim_start_matches(' ').len());
                if !after.is_empty() && !after.starts_with(' ') {
                    return None;
                }
                let this = self.at;
                self.at += 1;
                let value = if value_off == content.len() {
                    // A nested block mapping, indented further.
                    let next = self.lines.get(self.at)?;
                    if next.indent <= indent || next.content.starts_with('-') {
                        return None;
                    }
                    let nested_indent = next.indent;
                    self.block_map(nested_indent)?
                } else {
                    let line = &self.lines[this];
                    let node = self.inline_value(line, value_off)?;
                    // A following line indented further would continue this value.
                    if self.lines.get(self.at).is_some_and(|n| n.indent > indent) {
                        return None;
                    }
                    node
                };
                self.entries.push((key, value));
            }
            Some(Node {
                kind: NodeKind::Map(self.entries.drain(base..).collect()),
                pos: map_pos,
                span: None,
            })
        }

        /// The value after `key: `, which must end on this line.
        fn inline_value(&self, line: &Line, off: usize) -> Option<Node> {
            let text = &line.content[off..];
            match text.as_bytes()[0] {
                b'[' | b'{' => {
                    let (node, used) = self.flow(line, off)?;
                    (used == line.content.len()).then_some(node)
                }
                _ => {
                    let (node, used) = self.scalar(line, off, false)?;
                    (used == line.content.len()).then_some(node)
                }
            }
        }

        /// A flow list or mapping starting at `off`; returns it and where it ends.
        fn flow(&self, line: &Line, off: usize) -> Option<(Node, usize)> {
            let content = line.content;
            let bytes = content.as_bytes();
            let open = bytes[off];
            let close = if open == b'[' { b']' } else { b'}' };
            let pos = self.pos(line, off);
            let mut i = skip_spaces(bytes, off + 1);
            let mut items = Vec::new();
            let mut entries: Vec<(Node, Node)> = Vec::new();
            if bytes.get(i) == Some(&close) {
                i += 1;
            } else {
                loop {
                    if open == b'[' {
                        let (item, end) = self.scalar(line, i, true)?;
                        items.push(item);
                        i = end;
                    } else {
                        let key_len = key_length(&content[i..])?;
                        let key_text = &content[i..i + key_len];
                        if entries.iter().any(|(k, _)| k.as_str() == Some(key_text)) {
                            return None;
                        }
                        let key = Node {
                            kind: NodeKind::Str(key_text.to_owned()),
                            pos: self.pos(line, i),
                            span: None,
                        };
                        i += key_len + 1;
                        if bytes.get(i) != Some(&b' ') {
                            return None;
                        }
                        i = skip_spaces(bytes, i);
                        let (value, end) = self.scalar(line, i, true)?;
                        entries.push((key, value));
                        i = end;
                    }
                    i = skip_spaces(bytes, i);
                    match bytes.get(i) {
                        Some(b',') => {
                            i = skip_spaces(bytes, i + 1);
                            // A trailing comma or an empty entry.
                            if matches!(bytes.get(i), Some(b',' | b']' | b'}') | None) {
                                return None;
                            }
                        }
                        Some(&c) if c == close => {
                            i += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
            }
            let kind = if open == b'[' {
                NodeKind::Seq(items)
            } else {
                NodeKind::Map(entries)
            };
            Some((
                Node {
                    kind,
                    pos,
                    span: None,
                },
                i,
            ))
        }

        /// A plain or simply quoted scalar at `off`; in a flow collection it ends before
        /// `,`, `]` or `}`. Returns it and the offset just after it (before any spaces).
        fn scalar(&self, line: &Line, off: usize, in_flow: bool) -> Option<(Node, usize)> {
            let content = line.content;
            let rest = &content[off..];
            let first = *rest.as_bytes().first()?;
            let pos = self.pos(line, off);
            if first == b'"' || first == b'\'' {
                let body = &rest[1..];
                let end = body.find(first as char)?;
                let value = &body[..end];
                // Escapes and doubled quotes, and a quote right after the closing one.
                if value.contains(['\\', '"', '\'']) || body[end + 1..].starts_with(first as char) {
                    return None;
                }
                let used = off + 1 + end + 1;
                return Some((
                    Node {
                        kind: NodeKind::Str(value.to_owned()),
                        pos,
                        span: None,
                    },
                    used,
                ));
            }
            let len = if in_flow {
                rest.find([',', ']', '}']).unwrap_or(rest.len())
            } else {
                rest.len()
            };
            let text = rest[..len].trim_end_matches(' ');
            if text.is_empty() {
                return None;
            }
            let kind = plain_kind(text, in_flow)?;
            let span_start = line.start + line.indent + off;
            let span = matches!(kind, NodeKind::Int(_) | NodeKind::Float(_))
                .then(|| {
                    Some((
                        u32::try_from(span_start).ok()?,
                        u32::try_from(text.len()).ok()?,
                    ))
                })
                .flatten();
            debug_assert!(self.source.get(span_start..span_start + text.len()) == Some(text));
            Some((Node { kind, pos, span }, off + text.len()))
        }
    }

    /// Length of a `key` followed by `:`, for keys of letters, digits, `_` and `-` that
    /// start with a letter or `_` and are not words YAML reads as something else.
    fn key_length(text: &str) -> Option<usize> {
        let len = text
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))?;
        let key = &text[..len];
        let first = *key.as_bytes().first()?;
        if !(first.is_ascii_alphabetic() || first == b'_') || special_word(key) {
            return None;
        }
        (text.as_bytes()[len] == b':').then_some(len)
    }

    fn skip_spaces(bytes: &[u8], mut i: usize) -> usize {
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    }

    /// Words some YAML schemas read as booleans, nulls or special numbers.
    fn special_word(text: &str) -> bool {
        const WORDS: &[&str] = &[
            "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
        ];
        text.len() <= 5 && WORDS.iter().any(|w| w.eq_ignore_ascii_case(text))
    }

    /// The type of a plain scalar, when it is plainly a string, a whole number, a decimal,
    /// `true`, `false` or `null`.
    fn plain_kind(text: &str, in_flow: bool) -> Option<NodeKind> {
        let bytes = text.as_bytes();
        // Most scalars of a report are cells: digits alone, a number (as below, sooner).
        if (1..=18).contains(&bytes.len())
            && (bytes.len() == 1 || bytes[0] != b'0')
            && bytes.iter().all(u8::is_ascii_digit)
        {
            let n = bytes
                .iter()
                .fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
            return Some(NodeKind::Int(n.into()));
        }
        // Indicators that start other kinds of node, and text that a plain scalar cannot hold.
        if matches!(
            bytes[0],
            b'-' | b'?'
                | b':'
                | b','
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'#'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
                | b'+'
                | b'.'
                | b'~'
        ) && !is_number(text)
        {
            return None;
        }
        if text.contains(": ") || text.contains(" #") || text.ends_with(':') {
            return None;
        }
        if in_flow && text.contains(['[', '{', ':']) {
            return None;
        }
        match text {
            "true" => return Some(NodeKind::Bool(true)),
            "false" => return Some(NodeKind::Bool(false)),
            "null" => return Some(NodeKind::Null),
            _ => {}
        }
        if special_word(text) {
            return None;
        }
        if is_number(text) {
            let digits = text.strip_prefix('-').unwrap_or(text);
            return if digits.contains('.') {
                text.parse::<f64>().ok().map(NodeKind::Float)
            } else {
                text.parse::<i64>().ok().map(|i| NodeKind::Int(i.into()))
            };
        }
        // Other text that starts like a number is a string only when it is groups of digits
        // joined by hyphens (dates, phone numbers): `007` is a number to the full parser.
        if bytes[0].is_ascii_digit()
            && !(text.contains('-')
                && text
                    .split('-')
                    .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())))
        {
            return None;
        }
        Some(NodeKind::Str(text.to_owned()))
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, at most 18 digits before the point.
    fn is_number(text: &str) -> bool {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (int, frac) = match digits.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (digits, None),
        };
        let int_ok = !int.is_empty()
            && int.len() <= 18
            && int.bytes().all(|b| b.is_ascii_digit())
            && (int == "0" || !int.starts_with('0'));
        let frac_ok = frac.is_none_or(|f| {
            !f.is_empty() && f.len() <= 18 && f.bytes().all(|b| b.is_ascii_digit())
        });
        int_ok && frac_ok
    }
}

/// A YAML syntax error and where the parser found it.
#[derive(Debug, Clone)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<NodeKind>::deserialize(deserializer)?;
        let loc = spanned.referenced;
        let span = loc.span();
        let span = match (span.byte_offset(), span.byte_len()) {
            (Some(o), Some(l)) => u32::try_from(o).ok().zip(u32::try_from(l).ok()),
            _ => None,
        };
        Ok(Node {
            kind: spanned.value,
            pos: Pos {
                line: loc.line() as usize,
                column: loc.column() as usize,
            },
            span,
        })
    }
}

impl<'de> Deserialize<'de> for NodeKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = NodeKind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<NodeKind, E> {
        Ok(NodeKind::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<NodeKind, E> {
        Ok(NodeKind::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<NodeKind, D::Error> {
        d.deserialize_any(KindVisitor)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<NodeKind, E> {
        Ok(NodeKind::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<NodeKind, E> {
        Ok(NodeKind::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<NodeKind, E> {
        Ok(NodeKind::Int(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<NodeKind, E> {
        Ok(NodeKind::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<NodeKind, E> {
        Ok(NodeKind::Int(i128::try_from(v).unwrap_or(i128::MAX)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<NodeKind, E> {
        Ok(NodeKind::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<NodeKind, E> {
        Ok(NodeKind::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<NodeKind, E> {
        Ok(NodeKind::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(NodeKind::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeKind, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<Node, Node>()? {
            entries.push((k, v));
        }
        Ok(NodeKind::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_and_decimal_text() {
        let src = "a: 1\nb:\n  c: [1, 2]\n  d: 2595.45\n";
        let node = parse(src).expect("parses");
        let map = node.as_map().expect("map");
        assert_eq!(map[0].0.as_str(), Some("a"));
        assert_eq!(map[0].1.pos, Pos { line: 1, column: 4 });
        let b = map[1].1.as_map().expect("map");
        let NodeKind::Seq(items) = &b[0].1.kind else {
            panic!("seq")
        };
        assert_eq!(
            items[1].pos,
            Pos {
                line: 3,
                column: 10
            }
        );
        assert_eq!(b[1].1.text(src).as_deref(), Some("2595.45"));
    }

    #[test]
    fn reports_syntax_errors_with_position() {
        let err = parse("a: [1, 2\nb: 3\n").expect_err("bad yaml");
        assert!(err.pos.line >= 1);
    }

    #[test]
    fn duplicate_keys_are_errors() {
        assert!(parse("a: 1\na: 2\n").is_err());
        assert!(parse("a: {b: 1, b: 2}\n").is_err());
    }

    /// Asserts that the two trees are the same: kinds, values, positions, number spans.
    fn assert_same(fast: &Node, full: &Node, source: &str, path: &str) {
        assert_eq!(fast.pos, full.pos, "position of {path} in {source:?}");
        match (&fast.kind, &full.kind) {
            (NodeKind::Seq(a), NodeKind::Seq(b)) => {
                assert_eq!(a.len(), b.len(), "{path} in {source:?}");
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    assert_same(x, y, source, &format!("{path}[{i}]"));
                }
            }
            (NodeKind::Map(a), NodeKind::Map(b)) => {
                assert_eq!(a.len(), b.len(), "{path} in {source:?}");
                for ((ka, va), (kb, vb)) in a.iter().zip(b) {
                    let name = format!("{path}.{}", kb.as_str().unwrap_or("?"));
                    assert_same(ka, kb, source, &format!("{name} (key)"));
                    assert_same(va, vb, source, &name);
                }
            }
            (NodeKind::Float(a), NodeKind::Float(b)) => {
                assert_eq!(a.to_bits(), b.to_bits(), "{path} in {source:?}");
                assert_eq!(fast.text(source), full.text(source), "{path} in {source:?}");
            }
            (NodeKind::Int(a), NodeKind::Int(b)) => {
                assert_eq!(a, b, "{path} in {source:?}");
                assert_eq!(fast.text(source), full.text(source), "{path} in {source:?}");
            }
            (NodeKind::Str(a), NodeKind::Str(b)) => assert_eq!(a, b, "{path} in {source:?}"),
            (NodeKind::Bool(a), NodeKind::Bool(b)) => assert_eq!(a, b, "{path} in {source:?}"),
            (NodeKind::Null, NodeKind::Null) => {}
            (a, b) => panic!("{path} in {source:?}: {a:?} vs {b:?}"),
        }
    }

    /// The subset parser gives what the full parser gives, or leaves the text to it.
    fn differential(source: &str) -> bool {
        let fast = fast::parse(source);
        let full = parse_full(source);
        match (&fast, &full) {
            (Some(f), Ok(g)) => {
                assert_same(f, g, source, "");
                true
            }
            (Some(f), Err(e)) => {
                panic!("subset parser accepted {source:?} as {f:?}; full parser: {e:?}")
            }
            (None, _) => false,
        }
    }

    #[test]
    fn subset_parser_agrees_with_the_full_parser() {
        let accepted = [
            "\na: 1\nb: x\n",
            "a: 1\nb:\n  c: [1, 2, -3, 0]\n  d: 2595.45\n",
            "a:\n    deep: {x: 1, w: 0.5, z: -2.25}\n    more: {}\nb: []\n",
            "title: 东城区人力资源和社会保障局（10）\npublished: 2023-01-17\nformat: cn-2021\n",
            "k: [1,2 ,3 ]\nm: {a: 东城, b: \"引号\", c: \'单\'}\n",
            "sample: true\nother: false\nnothing: null\n",
            "# comment\n\na: 1\n\n# another\nb:   spaced   \n",
            "a: 123456789012345678\nb: 10.00\nc: 0.0001\nd: 0\ne: -0.5\n",
            "phone: 0358-1234567\nid: dept-10\nrule_x: abc#def\n",
            "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n",
        ];
        for src in accepted {
            assert!(
                differential(src),
                "expected the subset parser to take {src:?}"
            );
        }
        let left_to_full = [
            "a: 1 # note\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a:\n  - 1\n  - 2\n",
            "a: yes\nb: No\n",
            "a: 0x1F\n",
            "a: 1e3\n",
            "a: .5\n",
            "a: 007\n",
            "a: +1\n",
            "a: 1_000\n",
            "a: 0012\n",
            "a: 2023-\n",
            "a: True\n",
            "a: ~\n",
            "a:\n",
            "a: [1, 2,]\n",
            "a: [1, 2\n",
            "a: \"x\\ny\"\n",
            "a: b: c\n",
            "a: x\n  y\n",
            "a:\tb\n",
            "a: 1\r\n",
            "2022: x\n",
            "a: 1\na: 2\n",
            "a: {b: 1, b: 2}\n",
            "---\na: 1\n",
            "a: [http://x]\n",
            "a: 12:30\n",
            "a: 2023-01-17T10:00\n",
        ];
        for src in left_to_full {
            assert!(
                !differential(src),
                "expected the full parser to take {src:?}"
            );
        }
    }

    #[test]
    fn subset_parser_agrees_on_generated_reports() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path().join("portal");
        crate::synth::generate(&root, 60).expect("generate");
        let mut seen = 0;
        let mut fast_count = 0;
        for entry in walkdir::WalkDir::new(&root) {
            let entry = entry.expect("walk");
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.file_type().is_file() || !(name.ends_with(".md") || name.ends_with(".yaml")) {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).expect("read");
            let yaml = match text
                .strip_prefix("---\n")
                .and_then(|t| t.split_once("\n---\n"))
            {
                Some((front, _)) => format!("\n{front}\n"),
                None => text,
            };
            seen += 1;
            fast_count += usize::from(differential(&yaml));
        }
        assert!(
            seen > 50 && fast_count * 10 >= seen * 9,
            "{fast_count} of {seen} read by the subset parser"
        );
    }
}
