//! Helm charts: `helm template` renders a chart, and each rendered line is matched back
//! to the template line that wrote it.
//!
//! `helm template` heads each document with `# Source: CHART/templates/FILE`. Within a
//! document, the lines of the template appear in order, with actions (`{{ ... }}`)
//! replaced by what they produce: a line of the output is matched to the template line
//! that is the same text, or whose literal parts it holds in order around the actions'
//! output. Lines written by an action of their own (`toYaml`, `include`) go to that
//! action's line. A value read from `.Values.a.b` is also found in the values files, when
//! the value appears there as it was rendered.

use crate::diagnostic::{FileName, InputError, Location};
use crate::files;
use crate::manifest::decode;
use crate::manifest::render::{self, display_join, Entry, Placement, Rendered, Source, ToolError};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How charts are rendered (`--helm-values`, `--helm-set`, `--release-name`,
/// `--namespace`).
#[derive(Clone, Debug, Default)]
pub struct HelmOptions {
    pub values: Vec<PathBuf>,
    pub set: Vec<String>,
    pub release_name: Option<String>,
    pub namespace: Option<String>,
}

/// A rendered chart: what its findings are placed with.
pub(crate) struct Chart {
    pub directory: PathBuf,
    /// `CHART/Chart.yaml`, where what cannot be placed goes.
    pub chart_file: FileName,
    /// `--helm-values` files, the one that wins (the last) first.
    pub values: Vec<PathBuf>,
}

/// The release name `helm template` is given: the chart's name when it is a valid
/// release name (so the usual `fullname` helper gives the chart's name), otherwise
/// `release-name`, as `helm template` without a name.
pub fn release_name(chart_name: Option<&str>) -> String {
    chart_name
        .filter(|name| {
            !name.is_empty()
                && name.len() <= 53
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !name.starts_with('-')
                && !name.ends_with('-')
        })
        .unwrap_or("release-name")
        .to_string()
}

/// The `name:` of a chart's `Chart.yaml`.
pub fn chart_name(directory: &Path) -> Option<String> {
    let bytes = files::read(&directory.join("Chart.yaml"), files::MAX_INPUT_BYTES).ok()?;
    let text = decode::decode(bytes).ok()?;
    render::parse_all(&text)
        .first()
        .and_then(|document| document.str_at("name"))
        .map(str::to_string)
}

/// The command line that renders a chart, for the note when helm is missing.
pub fn command_line(directory: &Path, options: &HelmOptions) -> String {
    let mut line = format!(
        "helm template {} {}",
        options
            .release_name
            .clone()
            .unwrap_or_else(|| release_name(chart_name(directory).as_deref())),
        directory.display()
    );
    if let Some(namespace) = &options.namespace {
        line.push_str(&format!(" --namespace {namespace}"));
    }
    for values in &options.values {
        line.push_str(&format!(" -f {}", values.display()));
    }
    for set in &options.set {
        line.push_str(&format!(" --set {set}"));
    }
    line
}

/// Renders the chart in `directory` with `helm`.
pub(crate) fn render(
    helm: &Path,
    directory: &Path,
    options: &HelmOptions,
) -> Result<Rendered, InputError> {
    let chart_file = FileName::from(display_join(directory, "Chart.yaml"));
    let release = options
        .release_name
        .clone()
        .unwrap_or_else(|| release_name(chart_name(directory).as_deref()));
    let mut args: Vec<OsString> = vec!["template".into(), release.into(), directory.into()];
    // Without `--namespace` the release goes into a namespace chosen at deploy time: a
    // name of its own, not Helm's `default`, keeps its objects in the group.
    let namespace = options
        .namespace
        .as_deref()
        .unwrap_or(crate::manifest::model::RELEASE_NAMESPACE);
    args.extend(["--namespace".into(), namespace.into()]);
    for values in &options.values {
        args.extend(["-f".into(), values.into()]);
    }
    for set in &options.set {
        args.extend(["--set".into(), set.into()]);
    }
    let text = render::run_tool(helm, &args).map_err(|error| {
        let chart = Chart {
            directory: directory.to_path_buf(),
            chart_file: chart_file.clone(),
            values: Vec::new(),
        };
        chart.render_error(&error)
    })?;
    Ok(Rendered {
        name: Arc::from(format!("<helm template {}>", directory.display())),
        text,
        source: Source::Helm(Chart {
            directory: directory.to_path_buf(),
            chart_file,
            values: options.values.iter().rev().cloned().collect(),
        }),
    })
}

impl Chart {
    /// The file a `# Source:` path names, relative to where lint runs: the first part is
    /// the chart's name, the rest a path in the chart's directory.
    fn source_file(&self, source: &str) -> Option<String> {
        let (_, relative) = source.split_once('/')?;
        let path = self.directory.join(relative);
        (files::kind(&path) == files::FileKind::Regular)
            .then(|| display_join(&self.directory, relative))
    }

    /// An input error for a failed render, at the template line helm names when it
    /// names one (`template: CHART/templates/x.yaml:12:5: executing …`, or without the
    /// `template:` in Helm 4).
    fn render_error(&self, error: &ToolError) -> InputError {
        let message = error.to_string();
        let located = message.split_whitespace().find_map(|token| {
            let token = token.trim_end_matches(':').trim_start_matches('(');
            let token = token.trim_end_matches(')');
            let mut parts = token.splitn(3, ':');
            let source = parts.next()?;
            let line = parts.next()?.parse::<u32>().ok()?;
            let column = parts.next().and_then(|c| c.parse::<u32>().ok());
            Some((self.source_file(source)?, line, column))
        });
        match located {
            Some((file, line, column)) => InputError {
                file: Arc::from(file),
                line: Some(line),
                column: column.or(Some(1)),
                message,
            },
            None => InputError {
                file: Arc::clone(&self.chart_file),
                line: None,
                column: None,
                message,
            },
        }
    }

    /// Matches every rendered line to the template line that wrote it.
    pub(crate) fn placement(&self, rendered: &Rendered) -> Placement {
        let lines: Vec<&str> = rendered
            .text
            .lines()
            .map(|line| line.trim_end_matches('\r'))
            .collect();
        let mut entries = Vec::new();
        let mut templates: HashMap<String, Option<Template>> = HashMap::new();
        let mut index = 0;
        while index < lines.len() {
            let Some(source) = lines[index].strip_prefix("# Source: ") else {
                index += 1;
                continue;
            };
            let start = index + 1;
            let end = lines[start..]
                .iter()
                .position(|line| line.starts_with("# Source: "))
                .map_or(lines.len(), |offset| start + offset);
            let source = source.trim();
            let template = templates
                .entry(source.to_string())
                .or_insert_with(|| Template::read(self, source));
            match template {
                Some(template) => {
                    template.align(&lines[start..end], start, &mut entries);
                }
                None => entries.push(Entry {
                    line: line_number(start),
                    column: 1,
                    target: Location::new(&self.chart_file, 1, 1),
                    shift: false,
                    width: None,
                    values_path: None,
                }),
            }
            index = end;
        }
        entries.sort_by_key(|entry| (entry.line, entry.column));
        let mut values_files: Vec<PathBuf> = self.values.clone();
        let own = self.directory.join("values.yaml");
        if files::kind(&own) == files::FileKind::Regular {
            values_files.push(own);
        }
        Placement {
            name: Arc::clone(&rendered.name),
            entries,
            fallback: Location::new(&self.chart_file, 1, 1),
            rendered_lines: lines.iter().map(|line| Box::from(*line)).collect(),
            values_files,
        }
    }
}

fn line_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// A template file, split into its lines and the lines into literal text and actions.
struct Template {
    file: FileName,
    lines: Vec<TemplateLine>,
    /// Where each document (`---`) of the file starts, as line indexes.
    segments: Vec<std::ops::Range<usize>>,
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum LineKind {
    /// Only literal text: written as it is.
    Literal,
    /// Literal text around actions.
    Pattern,
    /// Actions that write something, and no other text (`{{ toYaml .x | nindent 4 }}`).
    Expansion,
    /// Actions that write nothing (`{{- if }}`, `{{- end }}`, comments), or a blank line.
    Silent,
}

#[derive(Debug)]
struct Piece {
    literal: bool,
    /// The literal text, less the white space that `{{-` and `-}}` trim.
    text: String,
    /// Column (in characters, 1-based) and width of the piece in the template line.
    column: u32,
    width: u32,
    values_path: Option<Box<str>>,
}

struct TemplateLine {
    text: String,
    kind: LineKind,
    pieces: Vec<Piece>,
}

impl Template {
    fn read(chart: &Chart, source: &str) -> Option<Template> {
        let file = chart.source_file(source)?;
        let bytes = files::read(Path::new(&file), files::MAX_INPUT_BYTES).ok()?;
        let text = decode::decode(bytes).ok()?;
        let lines: Vec<TemplateLine> = text
            .lines()
            .map(|line| TemplateLine::parse(line.trim_end_matches('\r')))
            .collect();
        let mut segments = Vec::new();
        let mut start = 0;
        for (index, line) in lines.iter().enumerate() {
            if line.text.trim_end() == "---" || line.text.starts_with("--- ") {
                segments.push(start..index);
                start = index + 1;
            }
        }
        segments.push(start..lines.len());
        segments.retain(|segment| {
            lines[segment.clone()]
                .iter()
                .any(|line| line.kind != LineKind::Silent)
        });
        if segments.is_empty() {
            segments.push(0..lines.len());
        }
        Some(Template {
            file: FileName::from(file),
            lines,
            segments,
        })
    }

    /// Adds the entries of one rendered document (`rendered` starts at line index
    /// `first` of the rendered text). The template's document that matches most of its
    /// lines is the one that wrote it.
    fn align(&self, rendered: &[&str], first: usize, entries: &mut Vec<Entry>) {
        let mut best: Option<(usize, Vec<Entry>)> = None;
        for segment in &self.segments {
            let mut candidate = Vec::new();
            let matched = self.align_segment(segment.clone(), rendered, first, &mut candidate);
            if best.as_ref().is_none_or(|(score, _)| matched > *score) {
                best = Some((matched, candidate));
            }
        }
        if let Some((_, found)) = best {
            entries.extend(found);
        }
    }

    fn align_segment(
        &self,
        segment: std::ops::Range<usize>,
        rendered: &[&str],
        first: usize,
        entries: &mut Vec<Entry>,
    ) -> usize {
        let mut next = segment.start;
        let mut last_matched: Option<usize> = None;
        let mut matched = 0;
        let at = |template_line: usize, column: u32| {
            Location::new(&self.file, line_number(template_line), column)
        };
        for (offset, line) in rendered.iter().enumerate() {
            let rendered_line = line_number(first + offset);
            if line.trim().is_empty() || line.trim_end() == "---" {
                continue;
            }
            // The first template line from the last match on that writes this line, or
            // failing that one before it (a `range` writes its lines again).
            let found = (next..segment.end)
                .chain(segment.start..next)
                .find_map(|index| self.lines[index].matches(line).map(|spans| (index, spans)));
            if let Some((index, spans)) = found {
                matched += 1;
                last_matched = Some(index);
                next = index + 1;
                let template_line = &self.lines[index];
                if spans.is_empty() {
                    entries.push(Entry {
                        line: rendered_line,
                        column: 1,
                        target: at(index, 1),
                        shift: true,
                        width: None,
                        values_path: None,
                    });
                }
                for (piece, start) in spans {
                    let piece = &template_line.pieces[piece];
                    entries.push(Entry {
                        line: rendered_line,
                        column: start,
                        target: at(index, piece.column),
                        shift: piece.literal,
                        width: (!piece.literal).then_some(piece.width),
                        values_path: piece.values_path.clone(),
                    });
                }
                continue;
            }
            // Written by an action of its own: the first such line after the last match.
            let from = last_matched.map_or(segment.start, |index| index + 1);
            let expansion = (from..segment.end)
                .find(|index| self.lines[*index].kind == LineKind::Expansion)
                .or(last_matched);
            if let Some(index) = expansion {
                let action = self.lines[index].pieces.iter().find(|piece| !piece.literal);
                entries.push(Entry {
                    line: rendered_line,
                    column: 1,
                    target: at(index, action.map_or(1, |piece| piece.column)),
                    shift: false,
                    width: action.map(|piece| piece.width),
                    values_path: action.and_then(|piece| piece.values_path.clone()),
                });
            }
        }
        matched
    }
}

impl TemplateLine {
    fn parse(text: &str) -> TemplateLine {
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut consumed = 0;
        let mut trim_next = false;
        let mut silent_only = true;
        let mut has_action = false;
        let column_of = |byte: usize| u32::try_from(text[..byte].chars().count() + 1).unwrap_or(1);
        while let Some(open) = rest.find("{{") {
            let Some(close) = rest[open..].find("}}") else {
                // An action that goes on over the next lines: nothing here can be matched.
                return TemplateLine {
                    text: text.to_string(),
                    kind: LineKind::Silent,
                    pieces: Vec::new(),
                };
            };
            let close = open + close + 2;
            let action = &rest[open..close];
            let trim_before = action.starts_with("{{-");
            let mut literal = rest[..open].to_string();
            if trim_next {
                literal = literal.trim_start().to_string();
            }
            if trim_before {
                literal = literal.trim_end().to_string();
            }
            pieces.push(Piece {
                literal: true,
                column: column_of(consumed),
                width: u32::try_from(rest[..open].chars().count()).unwrap_or(0),
                text: literal,
                values_path: None,
            });
            let inner = action
                .trim_start_matches("{{")
                .trim_end_matches("}}")
                .trim_start_matches('-')
                .trim_end_matches('-')
                .trim();
            has_action = true;
            silent_only &= is_silent(inner);
            pieces.push(Piece {
                literal: false,
                text: String::new(),
                column: column_of(consumed + open),
                width: u32::try_from(action.chars().count()).unwrap_or(1),
                values_path: values_path(inner),
            });
            trim_next = action.ends_with("-}}");
            consumed += close;
            rest = &rest[close..];
        }
        let mut tail = rest.to_string();
        if trim_next {
            tail = tail.trim_start().to_string();
        }
        pieces.push(Piece {
            literal: true,
            column: column_of(consumed),
            width: u32::try_from(rest.chars().count()).unwrap_or(0),
            text: tail,
            values_path: None,
        });
        let literal_text = pieces
            .iter()
            .filter(|piece| piece.literal)
            .any(|piece| !piece.text.trim().is_empty());
        let kind = match (has_action, literal_text) {
            (false, false) => LineKind::Silent,
            (false, true) => LineKind::Literal,
            (true, true) => LineKind::Pattern,
            (true, false) if silent_only => LineKind::Silent,
            (true, false) => LineKind::Expansion,
        };
        TemplateLine {
            text: text.to_string(),
            kind,
            pieces,
        }
    }

    /// Whether this template line wrote `rendered`: the spans of its pieces in the
    /// rendered line (piece index, rendered column), empty for a literal line.
    fn matches(&self, rendered: &str) -> Option<Vec<(usize, u32)>> {
        match self.kind {
            LineKind::Silent | LineKind::Expansion => None,
            LineKind::Literal => (self.text.trim_end() == rendered.trim_end()).then(Vec::new),
            LineKind::Pattern => self.match_pattern(rendered),
        }
    }

    fn match_pattern(&self, rendered: &str) -> Option<Vec<(usize, u32)>> {
        let column_of =
            |byte: usize| u32::try_from(rendered[..byte].chars().count() + 1).unwrap_or(1);
        let mut spans = Vec::new();
        let mut position = 0;
        let last = self.pieces.len() - 1;
        for (index, piece) in self.pieces.iter().enumerate() {
            if !piece.literal {
                spans.push((index, column_of(position.min(rendered.len()))));
                continue;
            }
            let text = if index == last {
                piece.text.trim_end()
            } else {
                piece.text.as_str()
            };
            if index == 0 {
                // The line may end where the first action wrote nothing.
                let cut_short = index + 1 < last
                    && text.trim_end() == rendered.trim_end()
                    && !text.trim().is_empty();
                if !(rendered.starts_with(text) || cut_short) {
                    return None;
                }
                if !text.is_empty() {
                    spans.push((index, 1));
                }
                position = text.len().min(rendered.len());
            } else if index == last {
                // Trailing white space is not compared: an action that wrote nothing
                // leaves the space before it at the end of the line.
                let trimmed = rendered.trim_end();
                let rest = trimmed
                    .get(position.min(trimmed.len())..)
                    .unwrap_or_default();
                if !rest.ends_with(text) {
                    return None;
                }
                let start = trimmed.len() - text.len();
                if !text.is_empty() {
                    spans.push((index, column_of(start)));
                }
                position = rendered.len();
            } else {
                let found = rendered[position..].find(text)? + position;
                if !text.is_empty() {
                    spans.push((index, column_of(found)));
                }
                position = found + text.len();
            }
        }
        // An action that wrote nothing has no place of its own.
        let written: Vec<(usize, u32)> = spans
            .iter()
            .enumerate()
            .filter(|(at, span)| {
                self.pieces[span.0].literal || spans.get(at + 1).is_none_or(|next| next.1 != span.1)
            })
            .map(|(_, span)| *span)
            .collect();
        let spans = written;
        Some(spans)
    }
}

/// Actions that write nothing: control structure, assignments and comments.
fn is_silent(inner: &str) -> bool {
    let word = inner.split_whitespace().next().unwrap_or_default();
    inner.starts_with("/*")
        || matches!(
            word,
            "if" | "else" | "end" | "range" | "with" | "define" | "break" | "continue"
        )
        || (word.starts_with('$') && (inner.contains(":=") || inner.contains(" = ")))
}

/// `a.b` for an action that reads `.Values.a.b`.
fn values_path(inner: &str) -> Option<Box<str>> {
    let at = inner.find(".Values.")?;
    let path: String = inner[at + ".Values.".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.' || *c == '-')
        .collect();
    let path = path.trim_end_matches('.');
    (!path.is_empty()).then(|| Box::from(path))
}

/// Where a rendered value is written in the values files (the file that wins first):
/// at `.Values.PATH` when the template read one and it holds the value, otherwise the
/// first line that holds the value literally. Short values (`true`, `4222`) are only
/// found through their path.
pub(crate) fn values_location(
    values_files: &[PathBuf],
    path: Option<&str>,
    text: Option<&str>,
) -> Option<Location> {
    let text = text.map(str::trim).filter(|text| !text.is_empty());
    let read = |file: &PathBuf| {
        files::read(file, files::MAX_INPUT_BYTES)
            .ok()
            .and_then(|bytes| decode::decode(bytes).ok())
    };
    let texts: Vec<(FileName, String)> = values_files
        .iter()
        .filter_map(|file| Some((FileName::from(file.display().to_string()), read(file)?)))
        .collect();
    if let Some(path) = path {
        for (name, content) in &texts {
            let documents = render::parse_all(content);
            let Some(document) = documents.first() else {
                continue;
            };
            let keys: Vec<&str> = path.split('.').collect();
            let Some(node) = document.path(&keys) else {
                continue;
            };
            let holds = match (node.as_str(), text) {
                (Some(value), Some(text)) => !value.is_empty() && text.contains(value),
                (Some(_), None) => true,
                (None, _) => false,
            };
            if holds {
                return Some(Location::new(name, node.line, node.column));
            }
        }
    }
    let text = text.filter(|text| text.chars().count() >= 6)?;
    texts.iter().find_map(|(name, content)| {
        content.lines().enumerate().find_map(|(index, line)| {
            if line.trim_start().starts_with('#') {
                return None;
            }
            let at = line.find(text)?;
            Some(Location::new(
                name,
                line_number(index),
                u32::try_from(line[..at].chars().count() + 1).unwrap_or(1),
            ))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_lines_are_split_into_text_and_actions() {
        let line = TemplateLine::parse("          value: {{ .Values.nats.url | quote }}");
        assert_eq!(line.kind, LineKind::Pattern);
        assert_eq!(line.pieces[1].column, 18);
        assert_eq!(line.pieces[1].values_path.as_deref(), Some("nats.url"));
        let spans = line
            .matches("          value: \"nats://10.0.0.1:4222\"")
            .expect("matches");
        assert_eq!(spans, [(0, 1), (1, 18)]);
        assert!(line.matches("          name: x").is_none());
        // The action wrote nothing, and the space before it may have been trimmed.
        assert_eq!(
            line.matches("          value: "),
            Some(vec![(0, 1), (1, 18)])
        );
        assert_eq!(
            line.matches("          value:"),
            Some(vec![(0, 1), (1, 17)])
        );
        assert_eq!(
            TemplateLine::parse("{{- if .Values.x }}").kind,
            LineKind::Silent
        );
        assert_eq!(
            TemplateLine::parse("  {{- /* a comment */}}").kind,
            LineKind::Silent
        );
        assert_eq!(
            TemplateLine::parse("    {{- toYaml .Values.env | nindent 12 }}").kind,
            LineKind::Expansion
        );
        assert_eq!(
            TemplateLine::parse("{{- $x := .Values.y }}").kind,
            LineKind::Silent
        );
        let trimmed = TemplateLine::parse("  name: {{ .Release.Name }}-{{ .Chart.Name -}}  ");
        assert!(trimmed.matches("  name: nats-nats").is_some());
    }

    #[test]
    fn release_names_follow_helm() {
        assert_eq!(release_name(Some("nats")), "nats");
        assert_eq!(release_name(Some("My_Chart")), "release-name");
        assert_eq!(release_name(None), "release-name");
    }
}
