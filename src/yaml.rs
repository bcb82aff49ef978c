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
    span: Option<(usize, usize)>,
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
pub fn parse(source: &str) -> Result<Node, YamlError> {
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
            (Some(o), Some(l)) => Some((o as usize, l as usize)),
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
    }
}
