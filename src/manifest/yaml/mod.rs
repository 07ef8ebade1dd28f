//! YAML (and JSON) documents as trees of nodes that remember where every scalar was
//! written and how. The events come from libyaml (`events`), the parser whose Go port
//! kubectl decodes manifests with, so an input is accepted or rejected exactly as
//! kubectl accepts or rejects it. This module is the only one that knows the parser.
//!
//! Documents are handed out one at a time ([`documents`]) and the caller drops each
//! before the next is built. The tree is built from events with an explicit stack, so
//! no input can overflow the call stack, and reading stops with a located error at the
//! limits below: they bound the memory and time one input can take, whatever it holds.

mod build;
mod events;

use compact_str::CompactString;

pub use build::{documents, Documents};

/// Deepest nesting accepted, flow (`[[[`) and block alike. Kubernetes objects stay well
/// under 30 levels. libyaml itself has no limit.
pub const MAX_DEPTH: usize = 256;
/// Most nodes that aliases may copy into one file.
pub const MAX_ALIAS_NODES: usize = 100_000;
/// Most nodes one file may hold, all its documents together (the node budget). The
/// largest real manifests seen hold 35,000 nodes in 1 MB, and a 16 MiB file (the input
/// limit) of ordinary YAML about 560,000. A file's tree then stays under about 150 MB
/// even when every node is two bytes of input (`[1,1,1,…]`), and what the linter keeps
/// and reports of it stays well inside 512 MB.
pub const MAX_NODES: usize = 1_000_000;

/// How a scalar was written. Only plain scalars are subject to YAML 1.1 typing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

#[derive(Clone, Debug)]
pub struct Scalar {
    /// The scalar's value, escapes and folding applied. Up to 24 bytes are kept inline.
    pub text: CompactString,
    pub style: Style,
    /// An explicit tag (`!!str 4222`) decides the type, not the text.
    pub tagged: bool,
}

#[derive(Clone, Debug)]
pub enum NodeKind {
    Scalar(Scalar),
    Sequence(Box<[Node]>),
    Mapping(Box<[(Node, Node)]>),
}

/// A node and where it starts (1-based line and column, columns counted in characters).
#[derive(Clone, Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub line: u32,
    pub column: u32,
    /// Characters the node spans on its first line (for underlining).
    pub width: u32,
}

impl Node {
    /// The value under `key` when this node is a mapping. When the key is repeated the
    /// last one counts, as in the decoders that accept repeated keys.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, value)| value)
    }

    /// The key and value under `key` when this node is a mapping (the last, when the
    /// key is repeated).
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.entries()
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// The scalar text under `key` when this node is a mapping.
    pub fn str_at(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().map(|scalar| scalar.text.as_str())
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.kind {
            NodeKind::Mapping(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
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
        let text = self.as_str()?;
        if text.eq_ignore_ascii_case("true") {
            Some(true)
        } else if text.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            None
        }
    }
}

/// One document of an input, and the keys repeated in its mappings.
#[derive(Debug)]
pub struct Document {
    pub root: Node,
    pub duplicate_keys: Vec<DuplicateKey>,
}

/// A key written a second (or third, …) time in one mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    pub key: CompactString,
    /// Where the key is written first.
    pub first_line: u32,
    pub first_column: u32,
    /// Where it is written again.
    pub line: u32,
    pub column: u32,
    pub width: u32,
    /// The keys and indexes that lead from the document's root to the mapping.
    pub path: Vec<PathSegment>,
}

/// One step from a node to a child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSegment {
    /// The value under this key of a mapping.
    Key(CompactString),
    /// This item of a sequence.
    Index(usize),
    /// A key that is itself a mapping or a sequence (`? [a, b]`), or the value under it.
    Complex,
}

/// A YAML syntax error or a limit that was hit, with its 1-based position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub line: u32,
    pub column: u32,
    pub message: String,
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
#[cfg(test)]
mod tests {
    use super::*;

    fn first(text: &str) -> Document {
        documents(text)
            .next()
            .expect("a document")
            .expect("valid YAML")
    }

    fn error(text: &str) -> YamlError {
        documents(text).find_map(Result::err).expect("an error")
    }

    #[test]
    fn keeps_positions_and_styles() {
        let doc = first("a:\n  b: yes\n  c: \"4222\"\n  d: |\n    x\n  e: é'x'\n").root;
        let b = doc.path(&["a", "b"]).expect("b");
        assert_eq!((b.line, b.column, b.width), (2, 6, 3));
        assert_eq!(b.as_scalar().map(|s| s.style), Some(Style::Plain));
        let c = doc.path(&["a", "c"]).expect("c");
        assert_eq!((c.line, c.column, c.width), (3, 6, 6));
        assert_eq!(c.as_scalar().map(|s| s.style), Some(Style::Quoted));
        let d = doc.path(&["a", "d"]).expect("d");
        assert_eq!((d.line, d.as_str()), (4, Some("x\n")));
        assert_eq!(d.as_scalar().map(|s| s.style), Some(Style::Block));
        let e = doc.path(&["a", "e"]).expect("e");
        assert_eq!((e.column, e.width, e.as_str()), (6, 4, Some("é'x'")));
        let (key, _) = doc.get("a").expect("a").entry("e").expect("e");
        assert_eq!((key.line, key.column), (6, 3));
    }

    #[test]
    fn columns_count_characters_and_multi_line_widths_end_with_the_line() {
        let doc = first("ü: [é, 'x\n  y']\n").root;
        let items = doc.get("ü").expect("list").items();
        assert_eq!((items[0].column, items[0].width), (5, 1));
        assert_eq!(
            (items[1].column, items[1].width, items[1].as_str()),
            (8, 2, Some("x y"))
        );
    }

    #[test]
    fn reads_json_crlf_and_bom() {
        let doc = first("\u{feff}{\"kind\": \"List\",\r\n \"items\": [1]}\r\n").root;
        assert_eq!(doc.str_at("kind"), Some("List"));
        let item = &doc.get("items").expect("items").items()[0];
        assert_eq!((item.line, item.column), (2, 12));
        let crlf = first("a: 1\r\nb: x\r\n").root;
        let b = crlf.get("b").expect("b");
        assert_eq!(
            (b.line, b.column, b.width, b.as_str()),
            (2, 4, 1, Some("x"))
        );
    }

    #[test]
    fn lines_are_counted_at_line_feeds_only() {
        // libyaml also breaks lines at a lone CR, NEL, LS and PS; the lines shown and
        // counted everywhere else break at `\n` only.
        for text in [
            "a: \"x\u{2028}y\"\nb: c\n",
            "a: \"x\u{85}y\"\nb: c\n",
            "# x\u{2029}\nb: c\n",
            "# x\r# y\nb: c\n",
        ] {
            let b = first(text).root;
            let (key, value) = b.entry("b").expect("b");
            assert_eq!((key.line, key.column), (2, 1), "{text:?}");
            assert_eq!(
                (value.line, value.column, value.width),
                (2, 4, 1),
                "{text:?}"
            );
        }
        let unfinished = error("a: \"x\u{2028}y\"\nb: [\n");
        assert_eq!(
            (unfinished.line, unfinished.column),
            (3, 1),
            "{unfinished:?}"
        );
        let unclosed = error("a: [é,\u{2028}");
        assert_eq!((unclosed.line, unclosed.column), (1, 8), "{unclosed:?}");
    }

    #[test]
    fn the_end_of_a_text_without_a_final_line_break_is_on_its_last_line() {
        let unfinished = error("root: []\nroot:! ");
        assert_eq!(
            (unfinished.line, unfinished.column),
            (2, 8),
            "{unfinished:?}"
        );
        let unclosed = error("a: [1,\n  2");
        assert_eq!((unclosed.line, unclosed.column), (2, 4), "{unclosed:?}");
        let ended = error("a: [1,\n  2\n");
        assert_eq!((ended.line, ended.column), (3, 1), "{ended:?}");
        let key = first("a: 1\n?").root;
        let (empty, _) = &key.entries()[1];
        assert_eq!((empty.line, empty.column, empty.width), (2, 2, 1));
    }

    #[test]
    fn hands_out_documents_one_at_a_time_and_stops_at_an_error() {
        let mut all = documents("a: 1\n---\nb: 2\n---\nc: [\n");
        assert_eq!(
            all.next().expect("1").expect("ok").root.str_at("a"),
            Some("1")
        );
        assert_eq!(
            all.next().expect("2").expect("ok").root.str_at("b"),
            Some("2")
        );
        let error = all.next().expect("3").expect_err("unterminated");
        assert_eq!(error.line, 6, "{error:?}");
        assert!(all.next().is_none());
        let empty: Vec<_> = documents("").collect();
        assert!(empty.is_empty());
    }

    #[test]
    fn accepts_what_libyaml_accepts() {
        // A multi-line quoted scalar continued at the key's own indentation, and a flow
        // sequence closed at the key's indentation: both are read by libyaml and kubectl.
        let crd = "spec:\n  description: 'A long\n  description'\n";
        assert_eq!(
            first(crd)
                .root
                .path(&["spec", "description"])
                .and_then(Node::as_str),
            Some("A long description")
        );
        let args = "spec:\n    args: [\n        '--port=4222',\n    ]\n";
        assert_eq!(
            first(args)
                .root
                .path(&["spec", "args"])
                .map(|n| n.items().len()),
            Some(1)
        );
    }

    #[test]
    fn reports_where_libyaml_stops() {
        let unclosed = error("a:\n  b: \"x\n  c: \"y\"\n");
        assert_eq!((unclosed.line, unclosed.column), (3, 7), "{unclosed:?}");
        assert!(
            unclosed
                .message
                .contains("block mapping at line 2, column 3"),
            "{unclosed:?}"
        );
        let control = error("a: b\u{1}\n");
        assert_eq!((control.line, control.column), (1, 5), "{control:?}");
        assert!(control.message.contains("#x01"), "{control:?}");
        let alias = error("a: *nowhere\n");
        assert_eq!((alias.line, alias.column), (1, 4));
        let across = error("a: &x 1\n---\nb: *x\n");
        assert_eq!(across.line, 3, "anchors belong to their document");
    }

    #[test]
    fn repeated_keys_are_reported_with_both_places_and_the_last_one_counts() {
        let doc = first("kind: A\nmetadata:\n  name: a\n  name: b\nitems:\n- {x: 1, y: 2, x: 3}\n");
        assert_eq!(
            doc.root.path(&["metadata", "name"]).and_then(Node::as_str),
            Some("b")
        );
        assert_eq!(doc.duplicate_keys.len(), 2);
        let name = &doc.duplicate_keys[0];
        assert_eq!(name.key, "name");
        assert_eq!(
            (
                name.first_line,
                name.first_column,
                name.line,
                name.column,
                name.width
            ),
            (3, 3, 4, 3, 4)
        );
        assert_eq!(name.path, vec![PathSegment::Key("metadata".into())]);
        let x = &doc.duplicate_keys[1];
        assert_eq!((x.first_column, x.column), (4, 16));
        assert_eq!(
            x.path,
            vec![PathSegment::Key("items".into()), PathSegment::Index(0)]
        );
        let mut large = String::new();
        for index in 0..40 {
            large.push_str(&format!("k{index}: v\n"));
        }
        large.push_str("k7: again\nk7: thrice\n");
        let repeated: Vec<_> = first(&large)
            .duplicate_keys
            .iter()
            .map(|d| (d.first_line, d.line))
            .collect();
        assert_eq!(repeated, vec![(8, 41), (8, 42)]);
    }

    #[test]
    fn bounds_alias_bombs_depth_and_the_node_budget() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            let prev = (b'a' + level - 1) as char;
            let this = (b'a' + level) as char;
            bomb.push_str(&format!("{this}: &{this} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let error_bomb = error(&bomb);
        assert!(error_bomb.message.contains("alias"), "{error_bomb:?}");
        assert_eq!(error_bomb.line, 5, "{error_bomb:?}");
        let aliased = first("a: &a {b: 1}\nc: *a\n").root;
        let copy = aliased.get("c").expect("c");
        assert_eq!((copy.line, copy.column, copy.width), (2, 4, 2));
        assert_eq!(copy.str_at("b"), Some("1"));

        let deep = error(&"[".repeat(100_000));
        assert_eq!(
            (deep.line, deep.column),
            (1, MAX_DEPTH as u32 + 1),
            "{deep:?}"
        );
        let mut block = String::new();
        for depth in 0..300 {
            block.push_str(&" ".repeat(depth));
            block.push_str("a:\n");
        }
        assert!(error(&block).message.contains("nesting deeper"));
        let fine = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(documents(&fine).all(|d| d.is_ok()));

        let wide = format!("[{}]", "1,".repeat(MAX_NODES));
        let budget = error(&wide);
        assert!(budget.message.contains("node budget"), "{budget:?}");
        assert_eq!(
            (budget.line, budget.column),
            (1, 2 * MAX_NODES as u32),
            "{budget:?}"
        );
    }

    #[test]
    fn tags_decide_the_type() {
        let doc = first("a: !!str 4222\nb: 4222\n").root;
        assert_eq!(
            doc.get("a").and_then(Node::as_scalar).map(|s| s.tagged),
            Some(true)
        );
        assert_eq!(
            doc.get("b").and_then(Node::as_scalar).map(|s| s.tagged),
            Some(false)
        );
    }

    #[test]
    fn nodes_stay_small() {
        assert!(
            std::mem::size_of::<Node>() <= 48,
            "{}",
            std::mem::size_of::<Node>()
        );
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
