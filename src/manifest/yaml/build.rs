//! Builds documents from libyaml's events: positions and widths, anchors and aliases,
//! the limits (depth, alias expansion, the node budget) and repeated keys.

use super::events::{Event, EventParser, Mark, ParseError, ScalarStyle};
use super::{
    Document, DuplicateKey, Node, NodeKind, PathSegment, Scalar, Style, YamlError, MAX_ALIAS_NODES,
    MAX_DEPTH, MAX_NODES,
};
use compact_str::CompactString;
use rustc_hash::FxHashMap;

/// Repeated keys reported for one file at most: a file of a million repeated keys is
/// reported in bounded memory, and its first hundred say enough.
const MAX_DUPLICATE_KEYS: usize = 100;

/// Mappings with more keys than this look for repeated keys with a hash map; smaller
/// ones compare each key with those before it, which is faster at their size.
const SMALL_MAPPING: usize = 16;

/// The documents of `text` (a leading byte order mark is ignored), one at a time. After
/// an error nothing more is read: the error is the last item.
pub fn documents(text: &str) -> Documents<'_> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (events, failed) = match EventParser::new(text.as_bytes()) {
        Ok(events) => (Some(events), None),
        Err(error) => (None, Some(error)),
    };
    Documents {
        text,
        events,
        failed,
        builder: Builder::default(),
        lines: LineStarts::when_needed(text),
        end: None,
    }
}

/// Where the lines of a text start, kept only for a text in which libyaml counts lines
/// differently from everything else: it also breaks lines at a lone `\r`, at U+0085
/// (NEL) and at U+2028 and U+2029 (line and paragraph separators), while nats-doctor,
/// editors and `grep -n` break them at `\n` only. In such a text every position is
/// counted again from its byte offset, so that it names the line that is shown.
struct LineStarts(Vec<usize>);

impl LineStarts {
    fn when_needed(text: &str) -> Option<LineStarts> {
        let bytes = text.as_bytes();
        // A `\r` or the lead byte of NEL, LS or PS, then whether it is one of them.
        let other_break =
            memchr::memchr3_iter(b'\r', 0xC2, 0xE2, bytes).any(|at| match bytes[at] {
                b'\r' => bytes.get(at + 1) != Some(&b'\n'),
                0xC2 => bytes.get(at + 1) == Some(&0x85),
                _ => {
                    bytes.get(at + 1) == Some(&0x80)
                        && matches!(bytes.get(at + 2), Some(0xA8 | 0xA9))
                }
            });
        if !other_break {
            return None;
        }
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
        Some(LineStarts(starts))
    }

    /// `mark` with its line and column counted from its byte offset.
    fn place(&self, mark: Mark, text: &str) -> Mark {
        let offset = mark.offset.min(text.len());
        let index = self.0.partition_point(|start| *start <= offset) - 1;
        let start = self.0[index];
        let column = text
            .get(start..offset)
            .map_or(mark.column, |before| clamp(before.chars().count() + 1));
        Mark {
            line: clamp(index + 1),
            column,
            offset: mark.offset,
        }
    }
}

fn clamp(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// The documents of one input; see [`documents`].
pub struct Documents<'a> {
    text: &'a str,
    events: Option<EventParser<'a>>,
    /// Set when the parser could not even be created.
    failed: Option<ParseError>,
    builder: Builder,
    lines: Option<LineStarts>,
    /// Where the text ends, counted once: the last events of every file end there.
    end: Option<Mark>,
}

impl Iterator for Documents<'_> {
    type Item = Result<Document, YamlError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.failed.take() {
            return Some(Err(located(error, self.text, self.lines.as_ref())));
        }
        let events = self.events.as_mut()?;
        let result = loop {
            let (event, mut start, mut end) = match events.next_event() {
                Ok(Some(event)) => event,
                Ok(None) => break None,
                Err(error) => break Some(Err(located(error, self.text, self.lines.as_ref()))),
            };
            if let Some(lines) = &self.lines {
                start = lines.place(start, self.text);
                end = lines.place(end, self.text);
            } else if end.offset >= self.text.len() {
                // An empty node at the end of the text (`?`) is on libyaml's line past
                // the last.
                let text = self.text;
                let last = *self.end.get_or_insert_with(|| counted(text, text.len()));
                if start.offset >= self.text.len() {
                    start = last;
                }
                end = last;
            }
            match self.builder.event(event, start, end, self.text) {
                Ok(Some(document)) => break Some(Ok(document)),
                Ok(None) => {}
                Err(error) => break Some(Err(error)),
            }
        };
        if !matches!(result, Some(Ok(_))) {
            // The end, or an error: the parser and what was built are freed now.
            self.events = None;
            self.builder = Builder::default();
        }
        result
    }
}

/// An open collection. Its children wait on the builder's shared list from `first` on
/// (keys and values alternating for a mapping), so that each collection is allocated
/// once, at its final size, when it ends.
struct Frame {
    mapping: bool,
    line: u32,
    column: u32,
    anchor: Option<Box<[u8]>>,
    first: usize,
    /// `Builder::nodes` when the collection started, itself counted.
    nodes_before: usize,
}

/// A node with an anchor, kept for its aliases.
struct Anchored {
    /// `None` when the node is larger than aliases may copy at all.
    node: Option<Node>,
    size: usize,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    children: Vec<Node>,
    root: Option<Node>,
    duplicate_keys: Vec<DuplicateKey>,
    anchors: FxHashMap<Box<[u8]>, Anchored>,
    /// Nodes of the file's trees, aliases' copies included.
    nodes: usize,
    /// Nodes held for anchors (copies of anchored nodes).
    anchor_nodes: usize,
    /// Nodes copied by aliases.
    alias_nodes: usize,
    /// Repeated keys found in the file so far.
    duplicates_found: usize,
}

impl Builder {
    /// Takes one event; returns a document when it is complete.
    fn event(
        &mut self,
        event: Event<'_>,
        start: Mark,
        end: Mark,
        text: &str,
    ) -> Result<Option<Document>, YamlError> {
        let error = |message: String| YamlError {
            line: start.line,
            column: start.column,
            message,
        };
        match event {
            Event::Scalar {
                anchor,
                tagged,
                value,
                style,
            } => {
                self.count(1).map_err(error)?;
                let text_value = std::str::from_utf8(value)
                    .map_err(|_| error("a scalar is not UTF-8".to_string()))?;
                let node = Node {
                    kind: NodeKind::Scalar(Scalar {
                        text: CompactString::from(text_value),
                        style: match style {
                            ScalarStyle::Plain => Style::Plain,
                            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                            ScalarStyle::Literal | ScalarStyle::Folded => Style::Block,
                        },
                        tagged,
                    }),
                    line: start.line,
                    column: start.column,
                    width: width(start, end, text),
                };
                self.complete(node, anchor, 1).map_err(error)?;
            }
            Event::SequenceStart { anchor } | Event::MappingStart { anchor } => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(error(format!("nesting deeper than {MAX_DEPTH} levels")));
                }
                self.count(1).map_err(error)?;
                self.stack.push(Frame {
                    mapping: matches!(event, Event::MappingStart { .. }),
                    line: start.line,
                    column: start.column,
                    anchor: anchor.map(Box::from),
                    first: self.children.len(),
                    nodes_before: self.nodes - 1,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(None);
                };
                if frame.mapping {
                    self.find_duplicate_keys(frame.first);
                }
                let kind = {
                    let mut children = self.children.drain(frame.first..);
                    if frame.mapping {
                        let mut entries = Vec::with_capacity(children.len() / 2);
                        while let (Some(key), Some(value)) = (children.next(), children.next()) {
                            entries.push((key, value));
                        }
                        NodeKind::Mapping(entries.into_boxed_slice())
                    } else {
                        NodeKind::Sequence(children.collect())
                    }
                };
                let node = Node {
                    kind,
                    line: frame.line,
                    column: frame.column,
                    width: 1,
                };
                let size = self.nodes - frame.nodes_before;
                let anchor = frame.anchor.as_deref();
                self.complete(node, anchor, size).map_err(error)?;
            }
            Event::Alias { anchor } => {
                let Some(anchored) = self.anchors.get(anchor) else {
                    return Err(error("alias to an unknown anchor".to_string()));
                };
                let size = anchored.size;
                self.alias_nodes = self.alias_nodes.saturating_add(size);
                let bomb = || {
                    error(format!(
                        "aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?)"
                    ))
                };
                let (Some(node), false) = (&anchored.node, self.alias_nodes > MAX_ALIAS_NODES)
                else {
                    return Err(bomb());
                };
                let mut copy = node.clone();
                copy.line = start.line;
                copy.column = start.column;
                copy.width = width(start, end, text);
                self.count(size).map_err(error)?;
                self.complete(copy, None, size).map_err(error)?;
            }
            Event::DocumentStart => {
                // Anchors belong to their document.
                self.anchors.clear();
                self.anchor_nodes = 0;
            }
            Event::DocumentEnd => {
                if let Some(root) = self.root.take() {
                    return Ok(Some(Document {
                        root,
                        duplicate_keys: std::mem::take(&mut self.duplicate_keys),
                    }));
                }
            }
            Event::Other => {}
        }
        Ok(None)
    }

    /// Counts nodes against the budget of the file.
    fn count(&mut self, nodes: usize) -> Result<(), String> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes.saturating_add(self.anchor_nodes) > MAX_NODES {
            return Err(format!(
                "more than {MAX_NODES} nodes in one file (the node budget)"
            ));
        }
        Ok(())
    }

    /// Places a finished node in its parent (or as the document), and keeps a copy for
    /// its aliases when it has an anchor.
    fn complete(&mut self, node: Node, anchor: Option<&[u8]>, size: usize) -> Result<(), String> {
        if let Some(anchor) = anchor {
            let copy = if size <= MAX_ALIAS_NODES {
                self.anchor_nodes = self.anchor_nodes.saturating_add(size);
                if self.nodes.saturating_add(self.anchor_nodes) > MAX_NODES {
                    return Err(format!(
                        "more than {MAX_NODES} nodes in one file (the node budget)"
                    ));
                }
                Some(node.clone())
            } else {
                None
            };
            self.anchors
                .insert(Box::from(anchor), Anchored { node: copy, size });
        }
        if self.stack.is_empty() {
            self.root = Some(node);
        } else {
            self.children.push(node);
        }
        Ok(())
    }

    /// Records every key of the mapping whose children start at `first` that an earlier
    /// key of the same mapping already has.
    fn find_duplicate_keys(&mut self, first: usize) {
        if self.duplicates_found >= MAX_DUPLICATE_KEYS {
            return;
        }
        let keys = || {
            self.children[first..]
                .iter()
                .step_by(2)
                .enumerate()
                .filter_map(|(index, key)| Some((index, key.as_str()?)))
        };
        let count = (self.children.len() - first) / 2;
        if count < 2 {
            return;
        }
        // (index of the first key, index of the repeated key), in the mapping's order.
        let mut repeated: Vec<(usize, usize)> = Vec::new();
        if count <= SMALL_MAPPING {
            for (index, key) in keys() {
                if let Some((earlier, _)) = keys()
                    .take_while(|(e, _)| *e < index)
                    .find(|(_, k)| *k == key)
                {
                    repeated.push((earlier, index));
                }
            }
        } else {
            let room = MAX_DUPLICATE_KEYS - self.duplicates_found;
            let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
            for (index, key) in keys() {
                match seen.get(key) {
                    Some(&earlier) => repeated.push((earlier, index)),
                    None => {
                        seen.insert(key, index);
                    }
                }
                if repeated.len() == room {
                    break;
                }
            }
        }
        repeated.truncate(MAX_DUPLICATE_KEYS - self.duplicates_found);
        if repeated.is_empty() {
            return;
        }
        self.duplicates_found += repeated.len();
        let path = self.path_to(first);
        for (earlier, index) in repeated {
            let first_key = &self.children[first + 2 * earlier];
            let key = &self.children[first + 2 * index];
            self.duplicate_keys.push(DuplicateKey {
                key: CompactString::from(key.as_str().unwrap_or_default()),
                first_line: first_key.line,
                first_column: first_key.column,
                line: key.line,
                column: key.column,
                width: key.width,
                path: path.clone(),
            });
        }
    }

    /// The path from the document's root to the collection (just closed) whose children
    /// started at `first`.
    fn path_to(&self, first: usize) -> Vec<PathSegment> {
        let mut path = Vec::with_capacity(self.stack.len());
        for (depth, frame) in self.stack.iter().enumerate() {
            let child = self.stack.get(depth + 1).map_or(first, |inner| inner.first);
            let offset = child - frame.first;
            path.push(if !frame.mapping {
                PathSegment::Index(offset)
            } else if offset % 2 == 1 {
                match self.children[child - 1].as_str() {
                    Some(key) => PathSegment::Key(CompactString::from(key)),
                    None => PathSegment::Complex,
                }
            } else {
                PathSegment::Complex
            });
        }
        path
    }
}

/// Characters from `start` to `end` when both are on one line, else from `start` to the
/// end of its line (at least 1).
fn width(start: Mark, end: Mark, text: &str) -> u32 {
    let characters = if start.line == end.line {
        end.column.saturating_sub(start.column) as usize
    } else {
        let rest = text.get(start.offset..).unwrap_or_default();
        let line = rest.split(['\n', '\r']).next().unwrap_or_default();
        line.chars().count()
    };
    u32::try_from(characters.max(1)).unwrap_or(u32::MAX)
}

/// A libyaml error as a located error. A reader error gives a byte offset: its line and
/// column are counted here. So are those of an error at the end of a text that does not
/// end with a line break: libyaml puts the end of the stream on a line of its own, one
/// past the last line.
fn located(error: ParseError, text: &str, lines: Option<&LineStarts>) -> YamlError {
    let place = |mark: Mark| match lines {
        Some(lines) => lines.place(mark, text),
        None if mark.offset >= text.len() => counted(text, text.len()),
        None => mark,
    };
    let mark = match error.mark {
        Some(mark) => place(mark),
        None => counted(text, error.offset),
    };
    let message = match error.context.map(|(context, at)| (context, place(at))) {
        Some((context, at)) => format!(
            "{} ({context} at line {}, column {})",
            error.problem, at.line, at.column
        ),
        _ => error.problem,
    };
    YamlError {
        line: mark.line,
        column: mark.column,
        message,
    }
}

/// The line and column of byte `offset` of `text`, lines broken at `\n`.
fn counted(text: &str, offset: usize) -> Mark {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    Mark {
        // A byte count, which the compiler vectorises; `\n` is never part of a
        // longer UTF-8 sequence.
        line: clamp(before.bytes().filter(|&byte| byte == b'\n').count() + 1),
        column: clamp(before[line_start..].chars().count() + 1),
        offset,
    }
}
