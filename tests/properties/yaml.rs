//! The YAML reader (`manifest::yaml::documents`): on any text it ends, every error and
//! every node is at a place inside the input, and the limits (depth, alias expansion,
//! the node budget) hold exactly where they are documented.

use crate::strategies::{
    apply, config, double_quoted, edit, heavy_config, hostile_string, inside, shown_lines,
};
use nats_doctor::manifest::yaml::{
    documents, Node, NodeKind, YamlError, MAX_ALIAS_NODES, MAX_DEPTH, MAX_NODES,
};
use proptest::prelude::*;

/// A YAML value to write out in one of several styles.
#[derive(Clone, Debug)]
enum Tree {
    Scalar(String),
    Sequence(Vec<Tree>),
    Mapping(Vec<(String, Tree)>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let scalar = prop_oneof![
        "[a-zA-Z0-9_./:-]{0,12}",
        hostile_string(8),
        prop::sample::select(&["yes", "4222", "~", "", "nats://u:p@h:4222", "0x1F"][..])
            .prop_map(str::to_string),
    ];
    scalar
        .prop_map(Tree::Scalar)
        .prop_recursive(5, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Tree::Sequence),
                prop::collection::vec(("[a-zA-Z_][a-zA-Z0-9_.-]{0,8}", inner), 0..6)
                    .prop_map(Tree::Mapping),
            ]
        })
}

/// How scalars are quoted.
#[derive(Clone, Copy, Debug)]
enum Quote {
    Plain,
    Single,
    Double,
}

/// `text` in the style asked for when that style can hold it, double-quoted otherwise.
fn scalar_text(text: &str, quote: Quote) -> String {
    let plain_safe = text.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:-@~".contains(c))
        && !text.ends_with(':');
    let single_safe = text.chars().all(|c| (' '..='~').contains(&c));
    match quote {
        Quote::Plain if plain_safe => text.to_string(),
        Quote::Single if single_safe => format!("'{}'", text.replace('\'', "''")),
        Quote::Plain | Quote::Single => double_quoted(text),
        Quote::Double => double_quoted(text),
    }
}

/// Block style, indented by `indent` spaces.
fn block(tree: &Tree, indent: usize, quote: Quote, out: &mut String) {
    let pad = " ".repeat(indent);
    match tree {
        Tree::Scalar(text) => {
            out.push(' ');
            out.push_str(&scalar_text(text, quote));
            out.push('\n');
        }
        Tree::Sequence(items) if items.is_empty() => out.push_str(" []\n"),
        Tree::Mapping(entries) if entries.is_empty() => out.push_str(" {}\n"),
        Tree::Sequence(items) => {
            out.push('\n');
            for item in items {
                out.push_str(&pad);
                out.push('-');
                block(item, indent + 2, quote, out);
            }
        }
        Tree::Mapping(entries) => {
            out.push('\n');
            for (key, value) in entries {
                out.push_str(&pad);
                out.push_str(key);
                out.push(':');
                block(value, indent + 2, quote, out);
            }
        }
    }
}

/// Flow style (JSON-like).
fn flow(tree: &Tree, quote: Quote, out: &mut String) {
    match tree {
        Tree::Scalar(text) => out.push_str(&scalar_text(text, quote)),
        Tree::Sequence(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                flow(item, quote, out);
            }
            out.push(']');
        }
        Tree::Mapping(entries) => {
            out.push('{');
            for (index, (key, value)) in entries.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                out.push_str(&scalar_text(key, Quote::Double));
                out.push_str(": ");
                flow(value, quote, out);
            }
            out.push('}');
        }
    }
}

/// A file of one or more documents written from generated trees.
fn yaml_text() -> impl Strategy<Value = String> {
    let quote = prop::sample::select(&[Quote::Plain, Quote::Single, Quote::Double][..]);
    let document = (tree(), quote, any::<bool>()).prop_map(|(tree, quote, as_flow)| {
        let mut out = String::new();
        if as_flow {
            flow(&tree, quote, &mut out);
            out.push('\n');
        } else {
            out.push_str("root:");
            block(&tree, 2, quote, &mut out);
        }
        out
    });
    (prop::collection::vec(document, 1..4), any::<bool>()).prop_map(|(documents, crlf)| {
        let text = documents.join("---\n");
        if crlf {
            text.replace('\n', "\r\n")
        } else {
            text
        }
    })
}

/// Every node of a tree, depth first (keys included).
fn each_node<'n>(node: &'n Node, visit: &mut dyn FnMut(&'n Node)) {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        visit(node);
        match &node.kind {
            NodeKind::Scalar(_) => {}
            NodeKind::Sequence(items) => stack.extend(items.iter()),
            NodeKind::Mapping(entries) => {
                for (key, value) in entries.iter() {
                    stack.push(key);
                    stack.push(value);
                }
            }
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    let mut count = 0;
    each_node(node, &mut |_| count += 1);
    count
}

/// Reads every document of `text` and checks that every place it reports is inside it.
/// Returns the documents' node counts and the error, when there was one.
fn read_checked(text: &str) -> Result<(Vec<usize>, Option<YamlError>), TestCaseError> {
    let lines = shown_lines(text);
    let mut counts = Vec::new();
    let mut error = None;
    // A document is at least one byte of input: more items than that is a loop.
    let mut items = 0;
    for document in documents(text) {
        items += 1;
        prop_assert!(items <= text.len() + 2, "documents() does not end");
        prop_assert!(error.is_none(), "a document after an error");
        match document {
            Ok(document) => {
                let mut outside = None;
                each_node(&document.root, &mut |node| {
                    let end = node.column.saturating_add(node.width.saturating_sub(1));
                    if outside.is_none()
                        && (node.width == 0
                            || !inside(&lines, node.line, node.column)
                            || !inside(&lines, node.line, end))
                    {
                        outside = Some(format!("{node:?}"));
                    }
                });
                prop_assert!(
                    outside.is_none(),
                    "node outside the input: {outside:?} ({} lines)",
                    lines.len()
                );
                for duplicate in &document.duplicate_keys {
                    prop_assert!(inside(&lines, duplicate.line, duplicate.column));
                    prop_assert!(inside(&lines, duplicate.first_line, duplicate.first_column));
                }
                counts.push(count_nodes(&document.root));
            }
            Err(problem) => {
                prop_assert!(
                    inside(&lines, problem.line, problem.column),
                    "error outside the input ({} lines): {problem:?}",
                    lines.len()
                );
                prop_assert!(!problem.message.is_empty());
                error = Some(problem);
            }
        }
    }
    Ok((counts, error))
}

proptest! {
    #![proptest_config(config(4096))]

    /// Any text at all: the reader ends, and every place it names is in the text.
    #[test]
    fn any_text_is_read_or_rejected_at_a_place_inside_it(text in hostile_string(300)) {
        read_checked(&text)?;
    }

    /// Generated YAML, well formed or broken by a few edits.
    #[test]
    fn generated_yaml_keeps_its_places_inside_the_input(
        text in yaml_text(),
        edits in prop::collection::vec(edit(), 0..4),
    ) {
        let text = apply(&text, &edits);
        let (_, error) = read_checked(&text)?;
        if edits.is_empty() {
            prop_assert!(error.is_none(), "generated YAML rejected: {error:?}");
        }
    }
}

/// One level of nesting.
#[derive(Clone, Copy, Debug)]
enum Level {
    BlockMapping,
    BlockSequence,
    FlowSequence,
    FlowMapping,
}

/// `block` levels of block collections, then `flow` levels of flow collections, with a
/// scalar at the bottom.
fn nested(block: &[Level], flow: &[Level]) -> String {
    let mut out = String::new();
    for (depth, level) in block.iter().enumerate() {
        out.push_str(&" ".repeat(depth));
        out.push_str(match level {
            Level::BlockSequence => "-\n",
            _ => "k:\n",
        });
    }
    out.push_str(&" ".repeat(block.len()));
    for level in flow {
        out.push_str(match level {
            Level::FlowMapping | Level::BlockMapping => "{k: ",
            _ => "[",
        });
    }
    out.push('x');
    for level in flow.iter().rev() {
        out.push(match level {
            Level::FlowMapping | Level::BlockMapping => '}',
            _ => ']',
        });
    }
    out.push('\n');
    out
}

fn levels(kinds: &'static [Level], max: usize) -> impl Strategy<Value = Vec<Level>> {
    prop::collection::vec(prop::sample::select(kinds), 0..=max)
}

proptest! {
    #![proptest_config(config(256))]

    /// Nesting is read up to `MAX_DEPTH` collections deep, block and flow alike, and
    /// rejected at a place inside the input beyond.
    #[test]
    fn nesting_is_read_up_to_the_depth_limit(
        block in levels(&[Level::BlockMapping, Level::BlockSequence], 200),
        flow in levels(&[Level::FlowMapping, Level::FlowSequence], 200),
    ) {
        let text = nested(&block, &flow);
        let depth = block.len() + flow.len();
        let (_, error) = read_checked(&text)?;
        match error {
            None => prop_assert!(depth <= MAX_DEPTH, "{depth} levels were read"),
            Some(error) => {
                prop_assert!(depth > MAX_DEPTH, "{depth} levels rejected: {error:?}");
                prop_assert!(error.message.contains("nesting deeper"), "{error:?}");
            }
        }
    }

    /// Aliases copy at most `MAX_ALIAS_NODES` nodes into a file: a chain of anchors,
    /// each a list of aliases to the one before, is read exactly when its expansion is
    /// within the limit, and the copies are whole.
    #[test]
    fn aliases_expand_up_to_the_alias_limit(
        fan_out in 1usize..12,
        levels in 1usize..8,
        scalar_anchor in any::<bool>(),
    ) {
        // Level 0 is a list of `fan_out` scalars (or aliases to one anchored scalar).
        let mut text = String::new();
        let mut alias_copies = 0usize;
        let mut size = fan_out + 1;
        if scalar_anchor {
            text.push_str("s: &s x\n");
            text.push_str(&format!("a0: &a0 [{}]\n", vec!["*s"; fan_out].join(", ")));
            alias_copies += fan_out;
        } else {
            text.push_str(&format!("a0: &a0 [{}]\n", vec!["x"; fan_out].join(", ")));
        }
        for level in 1..levels {
            let aliases = vec![format!("*a{}", level - 1); fan_out].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{aliases}]\n"));
            alias_copies += fan_out * size;
            size = fan_out * size + 1;
        }
        let (counts, error) = read_checked(&text)?;
        match error {
            None => {
                prop_assert!(alias_copies <= MAX_ALIAS_NODES, "{alias_copies} copies were read");
                // The root mapping, its keys, and each level's list.
                let mut expected = 1 + levels + usize::from(scalar_anchor) * 2;
                let mut level_size = fan_out + 1;
                for _ in 0..levels {
                    expected += level_size;
                    level_size = fan_out * level_size + 1;
                }
                prop_assert_eq!(counts, vec![expected]);
            }
            Some(error) => {
                prop_assert!(alias_copies > MAX_ALIAS_NODES, "{alias_copies} copies rejected: {error:?}");
                prop_assert!(error.message.contains("alias"), "{error:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(heavy_config(4))]

    /// At most `MAX_NODES` nodes in one file, all its documents together: the file is
    /// read exactly when its documents hold no more, and the error is in the document
    /// that crosses the budget.
    #[test]
    fn the_node_budget_counts_every_document_of_a_file(
        shares in prop::collection::vec(1u32..100, 1..4),
        over in -3i64..=3,
    ) {
        // Documents of flow lists whose nodes (items and the lists) add up to the
        // budget plus `over`.
        let total: u64 = shares.iter().map(|share| u64::from(*share)).sum();
        let target = MAX_NODES as i64 + over;
        let mut sizes: Vec<i64> = shares
            .iter()
            .map(|share| target * i64::from(*share) / total as i64)
            .collect();
        let last = sizes.len() - 1;
        sizes[last] += target - sizes.iter().sum::<i64>();
        let mut text = String::with_capacity(2 * MAX_NODES + 64);
        for (index, nodes) in sizes.iter().enumerate() {
            if index > 0 {
                text.push_str("---\n");
            }
            let items = usize::try_from(nodes - 1).unwrap_or(0);
            text.push('[');
            for item in 0..items {
                text.push_str(if item + 1 == items { "1" } else { "1," });
            }
            text.push_str("]\n");
        }
        let (counts, error) = read_checked(&text)?;
        let read: usize = counts.iter().sum();
        match error {
            None => {
                prop_assert!(target <= MAX_NODES as i64, "{target} nodes were read");
                prop_assert_eq!(read as i64, target);
            }
            Some(error) => {
                prop_assert!(target > MAX_NODES as i64, "{target} nodes rejected: {error:?}");
                prop_assert!(error.message.contains("node budget"), "{error:?}");
                prop_assert_eq!(counts.len(), sizes.len() - 1, "the error is in the last document");
            }
        }
    }
}
