//! Kustomize: which directories are overlays to build, which files belong to them, and
//! where each object of a build came from.
//!
//! An overlay is a directory with a `kustomization.yaml` that no other kustomization of
//! the walk uses as a base, resource or component: bases are linted as part of the
//! overlays that use them. Its tree is every file its kustomizations name (resources,
//! patches, generator files) and the kustomizations themselves; those files are not
//! linted again on their own, since a patch is a partial object. The build is read by
//! `kustomize build` or `kubectl kustomize`. Its objects carry no note of their origin
//! with every kustomize version, so each object is matched to the resource of the same
//! kind and name (the name may have a prefix or suffix added), and each value to the
//! same path in it, or else to the patch or generator line that holds the value.

use crate::diagnostic::{FileName, Location};
use crate::files;
use crate::manifest::decode;
use crate::manifest::render::{parse_all, Entry, Placement, Rendered};
use crate::manifest::walk::KUSTOMIZATION_NAMES;
use crate::manifest::yaml::{Node, NodeKind};
use std::collections::{BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// What one kustomization file names, as paths relative to where lint runs.
#[derive(Debug, Default)]
pub(crate) struct Kustomization {
    pub file: PathBuf,
    /// Files of objects (`resources:` entries that are files, `crds:`).
    pub resources: Vec<PathBuf>,
    /// Directories of other kustomizations (`bases:`, `resources:` entries that are
    /// directories, `components:`).
    pub directories: Vec<PathBuf>,
    /// Patches: partial objects.
    pub patches: Vec<PathBuf>,
    /// Files that generators read (`configMapGenerator` `envs`/`files`, …).
    pub generator_files: Vec<PathBuf>,
}

/// The kustomization file of a directory, if it has one.
pub fn kustomization_file(directory: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_NAMES
        .iter()
        .map(|name| directory.join(name))
        .find(|path| files::kind(path) == files::FileKind::Regular)
}

/// `a/b/../c` as `a/c`, keeping a leading `./`, so that paths from different
/// kustomizations compare equal to the walk's.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    let mut normal = 0;
    for component in path.components() {
        match component {
            Component::ParentDir if normal > 0 => {
                out.pop();
                normal -= 1;
            }
            Component::CurDir if out.as_os_str().is_empty() => out.push("."),
            Component::CurDir => {}
            Component::Normal(part) => {
                out.push(part);
                normal += 1;
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

impl Kustomization {
    /// Reads a kustomization file. Unreadable files name nothing (the build reports them).
    pub fn read(file: &Path) -> Kustomization {
        let mut kustomization = Kustomization {
            file: normalize(file),
            ..Kustomization::default()
        };
        let Some(text) = read_text(file) else {
            return kustomization;
        };
        let directory = file.parent().unwrap_or(Path::new("."));
        let documents = parse_all(&text);
        let Some(document) = documents.first() else {
            return kustomization;
        };
        let local = |node: &Node| -> Option<PathBuf> {
            let text = node.as_str()?;
            // Remote bases (URLs, `github.com/…`) and inline patches are not files here.
            if text.contains("://") || text.contains('\n') || text.starts_with("github.com/") {
                return None;
            }
            Some(normalize(&directory.join(text)))
        };
        let strings = |key: &str| document.get(key).map(Node::items).unwrap_or_default();
        for node in strings("resources").iter().chain(strings("crds")) {
            if let Some(path) = local(node) {
                if files::kind(&path) == files::FileKind::Directory {
                    kustomization.directories.push(path);
                } else {
                    kustomization.resources.push(path);
                }
            }
        }
        for node in strings("bases").iter().chain(strings("components")) {
            kustomization.directories.extend(local(node));
        }
        for node in strings("patchesStrategicMerge") {
            kustomization.patches.extend(local(node));
        }
        for node in strings("patches")
            .iter()
            .chain(strings("patchesJson6902"))
            .chain(strings("replacements"))
        {
            kustomization
                .patches
                .extend(node.get("path").and_then(&local));
        }
        for generator in strings("configMapGenerator")
            .iter()
            .chain(strings("secretGenerator"))
        {
            for key in ["envs", "files"] {
                for entry in generator.get(key).map(Node::items).unwrap_or_default() {
                    // `files:` entries may be `key=path`.
                    let Some(text) = entry.as_str() else { continue };
                    let path = text.split_once('=').map_or(text, |(_, path)| path);
                    kustomization
                        .generator_files
                        .push(normalize(&directory.join(path)));
                }
            }
            if let Some(env) = generator.get("env") {
                kustomization.generator_files.extend(local(env));
            }
        }
        kustomization
    }
}

fn read_text(path: &Path) -> Option<String> {
    let bytes = files::read(path, files::MAX_INPUT_BYTES).ok()?;
    decode::decode(bytes).ok()
}

/// The overlays of a walk and the files of their trees.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Overlays to build: their directories.
    pub overlays: Vec<PathBuf>,
    /// Every file of every overlay's tree, kustomizations included.
    pub tree: HashSet<PathBuf>,
    /// The patches and kustomization files of the trees (what is skipped when the
    /// overlays cannot be built).
    pub patches: HashSet<PathBuf>,
}

/// Works out the overlays among `kustomization_files` (found by a walk).
pub(crate) fn plan(kustomization_files: &[PathBuf]) -> Plan {
    let mut plan = Plan::default();
    let mut read: Vec<Kustomization> = Vec::new();
    let mut pending: Vec<PathBuf> = kustomization_files.iter().map(|f| normalize(f)).collect();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    // The kustomizations of the walk and every one they name, once each.
    while let Some(file) = pending.pop() {
        if !seen.insert(file.clone()) {
            continue;
        }
        let kustomization = Kustomization::read(&file);
        for directory in &kustomization.directories {
            if let Some(file) = kustomization_file(directory) {
                pending.push(normalize(&file));
            }
        }
        read.push(kustomization);
    }
    let used: HashSet<PathBuf> = read
        .iter()
        .flat_map(|k| k.directories.iter().cloned())
        .collect();
    let mut overlays: BTreeSet<PathBuf> = BTreeSet::new();
    for file in kustomization_files {
        let file = normalize(file);
        let directory = file.parent().map(Path::to_path_buf).unwrap_or_default();
        if !used.contains(&directory) {
            overlays.insert(directory);
        }
    }
    for kustomization in &read {
        plan.tree.insert(kustomization.file.clone());
        plan.patches.insert(kustomization.file.clone());
        plan.tree.extend(kustomization.resources.iter().cloned());
        plan.tree
            .extend(kustomization.generator_files.iter().cloned());
        plan.tree.extend(kustomization.patches.iter().cloned());
        plan.patches.extend(kustomization.patches.iter().cloned());
    }
    plan.overlays = overlays.into_iter().collect();
    plan
}

/// An overlay's files, read for placing the objects of its build.
pub(crate) struct Overlay {
    pub kustomization: FileName,
    /// Resource files: where objects are written whole.
    pub resources: Vec<(FileName, String)>,
    /// Patches, kustomizations and generator files: where values may be written.
    pub others: Vec<(FileName, String)>,
}

impl Overlay {
    /// Reads the files of the tree of the overlay in `directory`.
    pub fn read(directory: &Path) -> Overlay {
        let kustomization = kustomization_file(directory)
            .map(|file| normalize(&file))
            .unwrap_or_else(|| normalize(&directory.join("kustomization.yaml")));
        let mut overlay = Overlay {
            kustomization: FileName::from(kustomization.display().to_string()),
            resources: Vec::new(),
            others: Vec::new(),
        };
        let mut pending = vec![kustomization];
        let mut seen = HashSet::new();
        let add = |list: &mut Vec<(FileName, String)>, path: &Path| {
            if let Some(text) = read_text(path) {
                list.push((FileName::from(path.display().to_string()), text));
            }
        };
        while let Some(file) = pending.pop() {
            if !seen.insert(file.clone()) {
                continue;
            }
            let kustomization = Kustomization::read(&file);
            add(&mut overlay.others, &file);
            for path in &kustomization.resources {
                add(&mut overlay.resources, path);
            }
            for path in kustomization
                .patches
                .iter()
                .chain(&kustomization.generator_files)
            {
                add(&mut overlay.others, path);
            }
            for directory in &kustomization.directories {
                pending.extend(kustomization_file(directory).map(|f| normalize(&f)));
            }
        }
        overlay
    }
}

/// One step of a path into an object: a key, a list item by its `name`, or by index.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step<'a> {
    Key(&'a str),
    Named(&'a str),
    Index(usize),
}

/// Places the objects of one build, document by document.
pub(crate) struct Matcher<'a> {
    overlay: &'a Overlay,
    resources: Vec<(FileName, Vec<Node>)>,
    others: Vec<(FileName, Vec<Node>)>,
    fallback: Location,
    entries: Vec<Entry>,
}

impl<'a> Matcher<'a> {
    pub fn new(overlay: &'a Overlay) -> Matcher<'a> {
        let parse = |list: &'a [(FileName, String)]| {
            list.iter()
                .map(|(name, text)| (name.clone(), parse_all(text)))
                .collect()
        };
        Matcher {
            overlay,
            resources: parse(&overlay.resources),
            others: parse(&overlay.others),
            fallback: Location::new(&overlay.kustomization, 1, 1),
            entries: Vec::new(),
        }
    }

    /// Places every node of a rendered object.
    pub fn document(&mut self, document: &Node) {
        let kind = document.str_at("kind");
        let name = document.path(&["metadata", "name"]).and_then(Node::as_str);
        let origin = kind.and_then(|kind| find_object(&self.resources, kind, name));
        let patches: Vec<(&FileName, &Node)> = match kind {
            Some(kind) => self
                .others
                .iter()
                .flat_map(|(file, documents)| documents.iter().map(move |doc| (file, doc)))
                .filter(|(_, doc)| doc.str_at("kind") == Some(kind))
                .collect(),
            None => Vec::new(),
        };
        let start = match origin {
            Some((file, node)) => Location::new(file, node.line, node.column),
            None => self.fallback.clone(),
        };
        let mut path = Vec::new();
        let mut entries = Vec::new();
        visit(document, &mut path, &mut |node, path| {
            entries.push(self.place_node(node, path, origin, &patches, &start));
        });
        self.entries.extend(entries);
    }

    fn place_node(
        &self,
        node: &Node,
        path: &[Step<'_>],
        origin: Option<(&FileName, &Node)>,
        patches: &[(&FileName, &Node)],
        start: &Location,
    ) -> Entry {
        let entry = |target: Location, source: &Node| Entry {
            line: node.line,
            column: node.column,
            target,
            shift: source.width == node.width,
            width: Some(source.width),
            values_path: None,
        };
        let same = |source: &Node| match (source.as_str(), node.as_str()) {
            (Some(a), Some(b)) => a == b,
            (None, None) => true,
            _ => false,
        };
        // The same path in the resource, then in a patch of the same kind.
        let mut deepest = None;
        if let Some((file, object)) = origin {
            let (found, reached) = lookup(object, path);
            if let Some(source) = found.filter(|source| same(source)) {
                return entry(Location::new(file, source.line, source.column), source);
            }
            deepest = Some((file, reached));
        }
        for (file, patch) in patches {
            if let (Some(source), _) = lookup(patch, path) {
                if same(source) && source.as_str().is_some() {
                    return entry(Location::new(file, source.line, source.column), source);
                }
            }
        }
        // A value a patch or generator wrote: the line that holds it.
        if let Some(text) = node.as_str().filter(|text| text.chars().count() >= 4) {
            if let Some(location) = self.find_literal(text) {
                return Entry {
                    line: node.line,
                    column: node.column,
                    target: location,
                    shift: false,
                    width: Some(u32::try_from(text.chars().count()).unwrap_or(1)),
                    values_path: None,
                };
            }
        }
        let (target, width) = match deepest {
            Some((file, reached)) => (
                Location::new(file, reached.line, reached.column),
                reached.width,
            ),
            None => (start.clone(), 1),
        };
        Entry {
            line: node.line,
            column: node.column,
            target,
            shift: false,
            width: Some(width),
            values_path: None,
        }
    }

    /// The first line of a patch, kustomization or generator file that holds `text`.
    fn find_literal(&self, text: &str) -> Option<Location> {
        self.overlay.others.iter().find_map(|(file, content)| {
            content.lines().enumerate().find_map(|(index, line)| {
                if line.trim_start().starts_with('#') {
                    return None;
                }
                let at = line.find(text)?;
                Some(Location::new(
                    file,
                    u32::try_from(index + 1).unwrap_or(u32::MAX),
                    u32::try_from(line[..at].chars().count() + 1).unwrap_or(1),
                ))
            })
        })
    }

    pub fn finish(mut self, rendered: &Rendered) -> Placement {
        self.entries.sort_by_key(|entry| (entry.line, entry.column));
        self.entries
            .dedup_by_key(|entry| (entry.line, entry.column));
        Placement {
            name: Arc::clone(&rendered.name),
            entries: self.entries,
            fallback: self.fallback,
            rendered_lines: Vec::new(),
            values_files: Vec::new(),
        }
    }
}

/// The resource document of `kind` named `name`, or whose name the rendered name holds
/// (a `namePrefix` or `nameSuffix` was added): the longest such name.
fn find_object<'p>(
    resources: &'p [(FileName, Vec<Node>)],
    kind: &str,
    name: Option<&str>,
) -> Option<(&'p FileName, &'p Node)> {
    let name = name?;
    let mut best: Option<(usize, &FileName, &Node)> = None;
    for (file, documents) in resources {
        for document in documents {
            let objects: Vec<&Node> =
                if document.str_at("kind").is_some_and(|k| k.ends_with("List")) {
                    document
                        .get("items")
                        .map(Node::items)
                        .unwrap_or_default()
                        .iter()
                        .collect()
                } else {
                    vec![document]
                };
            for object in objects {
                if object.str_at("kind") != Some(kind) {
                    continue;
                }
                let Some(source) = object.path(&["metadata", "name"]).and_then(Node::as_str) else {
                    continue;
                };
                if !source.is_empty()
                    && name.contains(source)
                    && best.is_none_or(|(length, _, _)| source.len() > length)
                {
                    best = Some((source.len(), file, object));
                }
            }
        }
    }
    best.map(|(_, file, object)| (file, object))
}

/// Calls `each` for every node of `node`, with its path.
fn visit<'n>(node: &'n Node, path: &mut Vec<Step<'n>>, each: &mut dyn FnMut(&Node, &[Step<'n>])) {
    each(node, path);
    match &node.kind {
        NodeKind::Scalar(_) => {}
        NodeKind::Mapping(entries) => {
            for (key, value) in entries {
                let Some(name) = key.as_str() else { continue };
                path.push(Step::Key(name));
                each(key, path);
                visit(value, path, each);
                path.pop();
            }
        }
        NodeKind::Sequence(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(match item.str_at("name") {
                    Some(name) => Step::Named(name),
                    None => Step::Index(index),
                });
                visit(item, path, each);
                path.pop();
            }
        }
    }
}

/// The node at `path` in `node`, and the deepest node reached on the way.
fn lookup<'n>(node: &'n Node, path: &[Step<'_>]) -> (Option<&'n Node>, &'n Node) {
    let mut current = node;
    for step in path {
        let next = match step {
            Step::Key(key) => current.get(key),
            Step::Named(name) => current
                .items()
                .iter()
                .find(|item| item.str_at("name") == Some(*name)),
            Step::Index(index) => current.items().get(*index),
        };
        match next {
            Some(next) => current = next,
            None => return (None, current),
        }
    }
    (Some(current), current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_as_the_walk_spells_them() {
        assert_eq!(
            normalize(Path::new("./overlays/prod/../../base/app.yaml")),
            PathBuf::from("./base/app.yaml")
        );
        assert_eq!(normalize(Path::new("a/./b/../c")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("../x/y")), PathBuf::from("../x/y"));
    }
}
