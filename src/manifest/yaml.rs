//! YAML (and JSON) documents as a tree of nodes that remember where every scalar was
//! written and whether it was quoted. This is the only file that knows which YAML parser
//! the crate uses.
//!
//! The tree is built from parser events with an explicit stack, so input nesting cannot
//! overflow the call stack; depth and alias expansion are bounded so that hostile input
//! ("billion laughs", 100,000 nested brackets) fails fast with a located error.

use rustc_hash::FxHashMap;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::borrow::Cow;

/// Deepest nesting accepted. Kubernetes objects stay well under 30 levels.
pub const MAX_DEPTH: usize = 256;
/// Most nodes that aliases may copy into one file.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// How a scalar was written. Only plain scalars are subject to YAML 1.1 typing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

#[derive(Clone, Debug)]
pub struct Scalar<'a> {
    /// The parser's text for the scalar. The type allows borrowing from the input;
    /// saphyr-parser 0.3 always hands over a copy of its own.
    pub text: Cow<'a, str>,
    pub style: Style,
    /// An explicit tag (`!!str 4222`) decides the type, not the text.
    pub tagged: bool,
}

#[derive(Clone, Debug)]
pub enum NodeKind<'a> {
    Scalar(Scalar<'a>),
    Sequence(Vec<Node<'a>>),
    Mapping(Vec<(Node<'a>, Node<'a>)>),
}

/// A node and where it starts (1-based line and column, columns counted in characters).
#[derive(Clone, Debug)]
pub struct Node<'a> {
    pub kind: NodeKind<'a>,
    pub line: u32,
    pub column: u32,
    /// Characters the node spans on its first line (for underlining).
    pub width: u32,
}

impl<'a> Node<'a> {
    /// The value under `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match &self.kind {
            NodeKind::Mapping(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The scalar text under `key` when this node is a mapping.
    pub fn str_at(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node<'a>> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn as_scalar(&self) -> Option<&Scalar<'a>> {
        match &self.kind {
            NodeKind::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().map(|scalar| scalar.text.as_ref())
    }

    pub fn entries(&self) -> &[(Node<'a>, Node<'a>)] {
        match &self.kind {
            NodeKind::Mapping(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node<'a>] {
        match &self.kind {
            NodeKind::Sequence(items) => items,
            _ => &[],
        }
    }

    pub fn is_mapping(&self) -> bool {
        matches!(self.kind, NodeKind::Mapping(_))
    }

    /// A boolean as Kubernetes reads one (`optional: true`).
    pub fn as_bool(&self) -> Option<bool> {
        match self.as_str()?.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    fn size(&self) -> usize {
        let mut count = 0;
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            count += 1;
            match &node.kind {
                NodeKind::Scalar(_) => {}
                NodeKind::Sequence(items) => stack.extend(items),
                NodeKind::Mapping(entries) => {
                    for (key, value) in entries {
                        stack.push(key);
                        stack.push(value);
                    }
                }
            }
        }
        count
    }
}

/// A YAML syntax error or a limit that was hit, with its 1-based position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// The documents of one file, and the error that stopped parsing, if any. Documents
/// before the error are kept.
pub struct Parsed<'a> {
    pub documents: Vec<Node<'a>>,
    pub error: Option<YamlError>,
}

/// An open collection. Its children wait on the builder's shared stack from `first` on
/// (keys and values alternating for a mapping), so that each collection is allocated
/// once, at its final size, when it ends.
struct Frame {
    mapping: bool,
    start: (u32, u32, u32),
    anchor: usize,
    first: usize,
}

fn position(span: &Span) -> (u32, u32, u32) {
    let width = if span.end.line() == span.start.line() {
        span.end.index().saturating_sub(span.start.index())
    } else {
        1
    };
    (
        clamp(span.start.line()),
        clamp(span.start.col() + 1),
        clamp(width.max(1)),
    )
}

fn clamp(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Parses every document in `text` (a leading BOM is ignored).
pub fn parse(text: &str) -> Parsed<'_> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut builder = Builder::default();
    for event in Parser::new_from_str(text) {
        let result = match event {
            Ok((event, span)) => builder.event(event, &span),
            Err(error) => Err(YamlError {
                line: clamp(error.marker().line()),
                column: clamp(error.marker().col() + 1),
                message: error.info().to_string(),
            }),
        };
        if let Err(error) = result {
            return Parsed {
                documents: builder.documents,
                error: Some(error),
            };
        }
    }
    Parsed {
        documents: builder.documents,
        error: None,
    }
}

#[derive(Default)]
struct Builder<'a> {
    documents: Vec<Node<'a>>,
    stack: Vec<Frame>,
    children: Vec<Node<'a>>,
    anchors: FxHashMap<usize, (Node<'a>, usize)>,
    alias_nodes: usize,
}

impl<'a> Builder<'a> {
    fn event(&mut self, event: Event<'a>, span: &Span) -> Result<(), YamlError> {
        let (line, column, width) = position(span);
        let too_deep = || YamlError {
            line,
            column,
            message: format!("nesting deeper than {MAX_DEPTH} levels"),
        };
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    ScalarStyle::Literal | ScalarStyle::Folded => Style::Block,
                };
                let node = Node {
                    kind: NodeKind::Scalar(Scalar {
                        text,
                        style,
                        tagged: tag.is_some(),
                    }),
                    line,
                    column,
                    width,
                };
                self.complete(node, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(too_deep());
                }
                self.stack.push(Frame {
                    mapping: false,
                    start: (line, column, 1),
                    anchor,
                    first: self.children.len(),
                });
            }
            Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(too_deep());
                }
                self.stack.push(Frame {
                    mapping: true,
                    start: (line, column, 1),
                    anchor,
                    first: self.children.len(),
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                let kind = {
                    let mut children = self.children.drain(frame.first..);
                    if frame.mapping {
                        let mut entries = Vec::with_capacity(children.len() / 2);
                        while let (Some(key), Some(value)) = (children.next(), children.next()) {
                            entries.push((key, value));
                        }
                        NodeKind::Mapping(entries)
                    } else {
                        NodeKind::Sequence(children.collect())
                    }
                };
                self.complete(node_at(kind, frame.start), frame.anchor);
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id) else {
                    return Err(YamlError {
                        line,
                        column,
                        message: "alias to an unknown anchor".to_string(),
                    });
                };
                self.alias_nodes += size;
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(YamlError {
                        line,
                        column,
                        message: format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?)"
                        ),
                    });
                }
                let mut copy = node.clone();
                copy.line = line;
                copy.column = column;
                self.complete(copy, 0);
            }
            Event::DocumentStart(_) => self.anchors.clear(),
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn complete(&mut self, node: Node<'a>, anchor: usize) {
        if anchor != 0 {
            let size = node.size();
            self.anchors.insert(anchor, (node.clone(), size));
        }
        if self.stack.is_empty() {
            self.documents.push(node);
        } else {
            self.children.push(node);
        }
    }
}

fn node_at<'a>(kind: NodeKind<'a>, (line, column, width): (u32, u32, u32)) -> Node<'a> {
    Node {
        kind,
        line,
        column,
        width,
    }
}

/// The type YAML 1.1 (as Kubernetes' decoder applies it) gives a plain scalar, when it
/// is not a string: `"boolean"`, `"integer"`, `"float"` or `"null"`.
pub fn yaml11_non_string_type(text: &str) -> Option<&'static str> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some("null"),
        "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N" | "no" | "No" | "NO" | "true" | "True"
        | "TRUE" | "false" | "False" | "FALSE" | "on" | "On" | "ON" | "off" | "Off" | "OFF" => {
            return Some("boolean")
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return Some("float"),
        _ => {}
    }
    let plain: String = text.chars().filter(|c| *c != '_').collect();
    let unsigned = plain.strip_prefix(['-', '+']).unwrap_or(&plain);
    if unsigned.is_empty() {
        return None;
    }
    let radix_digits = |prefix: &str, radix: u32| {
        unsigned
            .strip_prefix(prefix)
            .is_some_and(|digits| !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix)))
    };
    if unsigned.chars().all(|c| c.is_ascii_digit())
        || radix_digits("0x", 16)
        || radix_digits("0o", 8)
        || radix_digits("0b", 2)
    {
        return Some("integer");
    }
    if is_yaml_float(unsigned) {
        return Some("float");
    }
    None
}

/// `^(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, the float form Kubernetes' YAML
/// decoder accepts (so `1e3` is a float).
fn is_yaml_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => digits(fraction),
        Some((whole, fraction)) => digits(whole) && fraction.chars().all(|c| c.is_ascii_digit()),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_and_styles() {
        let parsed = parse("a:\n  b: yes\n  c: \"4222\"\n");
        assert!(parsed.error.is_none());
        let doc = &parsed.documents[0];
        let b = doc.path(&["a", "b"]).expect("b");
        assert_eq!((b.line, b.column), (2, 6));
        assert_eq!(b.as_scalar().map(|s| s.style), Some(Style::Plain));
        let c = doc.path(&["a", "c"]).expect("c");
        assert_eq!((c.line, c.column, c.width), (3, 6, 6));
        assert_eq!(c.as_scalar().map(|s| s.style), Some(Style::Quoted));
    }

    #[test]
    fn reads_json_crlf_and_bom() {
        let parsed = parse("\u{feff}{\"kind\": \"List\",\r\n \"items\": []}\r\n");
        assert!(parsed.error.is_none());
        assert_eq!(parsed.documents[0].str_at("kind"), Some("List"));
    }

    #[test]
    fn bounds_alias_bombs_and_depth() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            let prev = (b'a' + level - 1) as char;
            let this = (b'a' + level) as char;
            bomb.push_str(&format!("{this}: &{this} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let error = parse(&bomb).error.expect("bomb rejected");
        assert!(error.message.contains("alias"), "{error:?}");
        let deep = "[".repeat(100_000);
        assert!(parse(&deep).error.is_some());
    }

    #[test]
    fn types_plain_scalars_as_kubernetes_does() {
        for (text, expected) in [
            ("true", Some("boolean")),
            ("yes", Some("boolean")),
            ("on", Some("boolean")),
            ("4222", Some("integer")),
            ("0x1F", Some("integer")),
            ("1e3", Some("float")),
            ("3.5", Some("float")),
            ("null", Some("null")),
            ("~", Some("null")),
            ("nats://x:4222", None),
            ("15m", None),
            ("1.2.3", None),
            ("-", None),
        ] {
            assert_eq!(yaml11_non_string_type(text), expected, "{text}");
        }
    }
}
