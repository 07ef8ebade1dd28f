//! Deciding what an input is and whether it is judged.
//!
//! A walk meets every kind of YAML and JSON: CI workflows, tsconfig, dashboards, Helm
//! values, OpenAPI documents. Only what is deployed is judged: Kubernetes objects
//! (`apiVersion` and `kind`), compose files (a top-level `services:` mapping) and env
//! files by name. Every other file a walk meets is skipped and counted with its
//! [`SkipReason`]. A file named on the command line, or standard input, is always judged.

use crate::manifest::yaml::Node;

/// Why a walked file was not judged. The names are the keys of the JSON summary's
/// `skipped` object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// A file of a Helm chart: the chart is linted through `helm template`, and its
    /// values and helpers are not inputs on their own.
    Chart,
    /// A file of a Kustomize tree: linted through the build, or a patch of an overlay
    /// that could not be built.
    Kustomize,
    /// YAML or JSON that holds no Kubernetes object and no compose file.
    NotAManifest,
    /// A FIFO, a device or a socket, or a link to one: never opened.
    NotARegularFile,
    /// Holds template actions (`{{ ... }}`): a file that a program renders first.
    Template,
    /// Not valid YAML, and nothing in it looks like a manifest (JSON with comments).
    Unparsable,
}

impl SkipReason {
    /// Sorted by name, as the JSON summary lists them.
    pub const ALL: [SkipReason; 6] = [
        SkipReason::Chart,
        SkipReason::Kustomize,
        SkipReason::NotAManifest,
        SkipReason::NotARegularFile,
        SkipReason::Template,
        SkipReason::Unparsable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Chart => "chart",
            SkipReason::Kustomize => "kustomize",
            SkipReason::NotAManifest => "not-a-manifest",
            SkipReason::NotARegularFile => "not-a-regular-file",
            SkipReason::Template => "template",
            SkipReason::Unparsable => "unparsable",
        }
    }

    /// The words shown beside a skipped file with `--verbose`.
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::Chart => "a file of a Helm chart",
            SkipReason::Kustomize => "a file of a Kustomize tree",
            SkipReason::NotAManifest => "no Kubernetes object or compose file in it",
            SkipReason::NotARegularFile => "not a regular file",
            SkipReason::Template => "a template (`{{ ... }}`), not a manifest",
            SkipReason::Unparsable => "not valid YAML, and not a manifest",
        }
    }
}

/// A walked file that was not judged, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub file: String,
    pub reason: SkipReason,
    /// More about the reason: the parse error, the chart or the overlay.
    pub detail: Option<String>,
}

/// What a document is, for judging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    Kubernetes,
    Compose,
    /// Anything else: skipped.
    Other,
}

/// Whether a document is a Kubernetes object, a compose file or neither.
pub fn document_kind(document: &Node) -> DocumentKind {
    if document.get("apiVersion").is_some() && document.get("kind").is_some() {
        DocumentKind::Kubernetes
    } else if crate::manifest::compose::is_compose(document) {
        DocumentKind::Compose
    } else {
        DocumentKind::Other
    }
}

/// Whether a text that failed to parse looks like a manifest all the same: a top-level
/// `apiVersion:` and `kind:`, a top-level `services:`, or the JSON keys `"apiVersion"`
/// and `"kind"`.
pub fn looks_like_manifest(text: &str) -> bool {
    let (mut api_version, mut kind) = (false, false);
    for line in text.lines() {
        if line.starts_with("services:") {
            return true;
        }
        api_version |= line.starts_with("apiVersion:") || line.contains("\"apiVersion\"");
        kind |= line.starts_with("kind:") || line.contains("\"kind\"");
        if api_version && kind {
            return true;
        }
    }
    false
}

/// The line and column of the first template action (`{{ ... }}` on one line) outside
/// a comment.
pub fn template_action(text: &str) -> Option<(u32, u32)> {
    // One scan of the whole text first: almost every input has no `{{` at all.
    if !text.contains("{{") {
        return None;
    }
    text.lines().enumerate().find_map(|(index, line)| {
        let code = line.trim_start();
        if code.starts_with('#') {
            return None;
        }
        let open = line.find("{{")?;
        line[open..].contains("}}").then(|| {
            (
                u32::try_from(index + 1).unwrap_or(u32::MAX),
                u32::try_from(line[..open].chars().count() + 1).unwrap_or(u32::MAX),
            )
        })
    })
}

/// The line and column of the first action that only a Helm chart has: one that reads
/// `.Values`, `.Release`, `.Chart`, `.Capabilities` or `.Files`, or calls `include`.
/// Other tools write `{{ ... }}` in valid manifests (Argo's `{{inputs.parameters.x}}`,
/// Prometheus alerts' `{{ $labels.instance }}`, Alertmanager's `{{ template "x" . }}`);
/// those are not Helm templates.
pub fn helm_action(text: &str) -> Option<(u32, u32)> {
    if !text.contains("{{") {
        return None;
    }
    const HELM: [&str; 6] = [
        ".Values",
        ".Release",
        ".Chart",
        ".Capabilities",
        ".Files",
        "include ",
    ];
    text.lines().enumerate().find_map(|(index, line)| {
        if line.trim_start().starts_with('#') {
            return None;
        }
        let mut rest = line;
        let mut offset = 0;
        while let Some(open) = rest.find("{{") {
            let action_start = offset + open;
            let after = &rest[open + 2..];
            let close = after.find("}}")?;
            let action = &after[..close];
            if HELM.iter().any(|word| action.contains(word)) {
                return Some((
                    u32::try_from(index + 1).unwrap_or(u32::MAX),
                    u32::try_from(line[..action_start].chars().count() + 1).unwrap_or(u32::MAX),
                ));
            }
            offset = action_start + 2 + close + 2;
            rest = &line[offset..];
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_told_from_other_documents() {
        let kind = |text: &str| {
            let document = crate::manifest::yaml::documents(text)
                .next()
                .expect("a document")
                .expect("valid YAML");
            document_kind(&document.root)
        };
        assert_eq!(
            kind("apiVersion: v1\nkind: ConfigMap\n"),
            DocumentKind::Kubernetes
        );
        assert_eq!(kind("services:\n  a: {}\n"), DocumentKind::Compose);
        assert_eq!(kind("{\"compilerOptions\": {}}"), DocumentKind::Other);
        assert_eq!(kind("on: push\njobs: {}\n"), DocumentKind::Other);
        assert_eq!(kind("kind: ConfigMap\n"), DocumentKind::Other);
    }

    #[test]
    fn broken_manifests_are_recognised() {
        assert!(looks_like_manifest(
            "apiVersion: v1\nkind: ConfigMap\ndata: [\n"
        ));
        assert!(looks_like_manifest(
            "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\"\n"
        ));
        assert!(looks_like_manifest("services:\n  a: [\n"));
        assert!(!looks_like_manifest(
            "{\n  // comment\n  \"compilerOptions\": {}\n}\n"
        ));
    }

    #[test]
    fn helm_actions_are_told_from_other_templates() {
        assert_eq!(
            template_action("a: 1\n# {{ x }}\nb: \"{{ .x }}\"\n"),
            Some((3, 5))
        );
        assert_eq!(template_action("a: {{\n"), None);
        assert_eq!(
            helm_action("a: \"{{inputs.parameters.x}}\"\nb: \"{{ .Values.url }}\"\n"),
            Some((2, 5))
        );
        assert_eq!(
            helm_action("summary: \"{{ $labels.instance }} down\"\n"),
            None
        );
        assert_eq!(
            helm_action("text: '{{ template \"slack.title\" . }}'\n"),
            None
        );
        assert_eq!(helm_action("x: '{{ include \"a\" . }}'\n"), Some((1, 5)));
    }
}
