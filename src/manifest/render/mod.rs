//! Charts and overlays: rendered by the tools their users deploy them with (`helm
//! template`, `kustomize build` or `kubectl kustomize`, found on PATH), then linted as
//! one input each. Their findings are moved afterwards from the rendered text to the
//! files that wrote them ([`Placement`]): the template line and the values file for a
//! chart, the resource, patch or kustomization file for an overlay.

pub mod helm;
pub mod kustomize;

use crate::diagnostic::{Finding, InputError, Location};
use crate::files;
use crate::manifest::yaml::Node;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest a render may take. A chart renders in well under a second; a tool that
/// takes longer than this is stuck.
pub const RENDER_TIME_LIMIT: Duration = Duration::from_secs(120);
/// Most of a tool's standard error kept for its error message.
const MAX_TOOL_STDERR: u64 = 64 * 1024;

/// The output of a chart or an overlay, to be read as one input.
pub(crate) struct Rendered {
    /// The name its documents are located in until they are placed: never a real path.
    pub name: Arc<str>,
    pub text: String,
    pub source: Source,
}

/// What was rendered, and what is needed to place its findings.
pub(crate) enum Source {
    Helm(helm::Chart),
    Kustomize(kustomize::Overlay),
}

impl Rendered {
    pub fn placement(&self) -> PlacementBuilder<'_> {
        match &self.source {
            Source::Helm(chart) => PlacementBuilder::Helm(self, chart),
            Source::Kustomize(overlay) => {
                PlacementBuilder::Kustomize(self, kustomize::Matcher::new(overlay))
            }
        }
    }
}

/// Builds the placement of a rendered input while its documents are read.
pub(crate) enum PlacementBuilder<'a> {
    Helm(&'a Rendered, &'a helm::Chart),
    Kustomize(&'a Rendered, kustomize::Matcher<'a>),
}

impl PlacementBuilder<'_> {
    /// Takes one rendered document (overlays place node by node).
    pub fn document(&mut self, document: &Node) {
        if let PlacementBuilder::Kustomize(_, matcher) = self {
            matcher.document(document);
        }
    }

    pub fn finish(self) -> Placement {
        match self {
            PlacementBuilder::Helm(rendered, chart) => chart.placement(rendered),
            PlacementBuilder::Kustomize(rendered, matcher) => matcher.finish(rendered),
        }
    }
}

/// Where a place of the rendered text was written.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// Where it starts in the rendered text.
    pub line: u32,
    pub column: u32,
    /// Where it was written.
    pub target: Location,
    /// A literal part of a template line: a column further right in the rendered text is
    /// as far right in the source. Otherwise the whole place maps to the target.
    pub shift: bool,
    /// The width to underline in the source (the template action), when it differs.
    pub width: Option<u32>,
    /// For a template action that reads `.Values.a.b`: `a.b`.
    pub values_path: Option<Box<str>>,
}

/// Moves locations of a rendered text to its sources.
pub(crate) struct Placement {
    pub name: Arc<str>,
    /// Sorted by line and column.
    pub entries: Vec<Entry>,
    /// Where a location before every entry goes (the chart's `Chart.yaml`, the
    /// overlay's kustomization).
    pub fallback: Location,
    /// The rendered lines, to read a value that may come from a values file.
    pub rendered_lines: Vec<Box<str>>,
    /// Values files, the one that wins first (a chart's; none for an overlay).
    pub values_files: Vec<PathBuf>,
}

impl Placement {
    /// Where `location` (of width `width`) was written, its width there, and the place
    /// in a values file the value came from when it appears there.
    fn place(&self, location: &Location, width: u32) -> (Location, u32, Option<Location>) {
        let key = (location.line, location.column);
        let at = self
            .entries
            .partition_point(|entry| (entry.line, entry.column) <= key);
        let Some(entry) = at.checked_sub(1).map(|index| &self.entries[index]) else {
            return (self.fallback.clone(), 1, None);
        };
        let mut target = entry.target.clone();
        let mut placed_width = entry.width.unwrap_or(width);
        if entry.line == location.line && entry.shift {
            target.column += location.column - entry.column;
            placed_width = width;
        } else if entry.line != location.line {
            // A line of its own with no entry (the output of `toYaml`, `include`): the
            // nearest line before it that has one.
            placed_width = entry.width.unwrap_or(1);
        }
        let value = if self.values_files.is_empty() {
            None
        } else {
            let text = self.rendered_text(location, width);
            helm::values_location(
                &self.values_files,
                entry.values_path.as_deref(),
                text.as_deref(),
            )
        };
        (target, placed_width.max(1), value)
    }

    /// The rendered text at a location, without quotes.
    fn rendered_text(&self, location: &Location, width: u32) -> Option<String> {
        let line = self
            .rendered_lines
            .get(usize::try_from(location.line).ok()?.checked_sub(1)?)?;
        let skip = usize::try_from(location.column.saturating_sub(1)).ok()?;
        let text: String = line
            .chars()
            .skip(skip)
            .take(usize::try_from(width).ok()?)
            .collect();
        let unquoted = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .or_else(|| text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))
            .unwrap_or(&text);
        Some(unquoted.to_string())
    }
}

/// Moves the findings and input errors located in rendered inputs to their sources, and
/// sorts the findings again by place.
pub(crate) fn place(
    placements: &[Placement],
    findings: &mut Vec<Finding>,
    errors: &mut [InputError],
) {
    if placements.is_empty() {
        return;
    }
    let find = |file: &str| placements.iter().find(|p| &*p.name == file);
    for finding in findings.iter_mut() {
        if let Some(placement) = find(&finding.location.file) {
            let (target, width, value) = placement.place(&finding.location, finding.width);
            finding.location = target;
            finding.width = width;
            if let Some(value) = value {
                if value != finding.location {
                    finding.relate(&value, "the value comes from here");
                }
            }
        }
        for related in &mut finding.related {
            if let Some(placement) = find(&related.location.file) {
                related.location = placement.place(&related.location, 1).0;
            }
        }
    }
    for error in errors.iter_mut() {
        if let Some(placement) = find(&error.file) {
            let location = Location::new(
                &crate::diagnostic::FileName::new(&error.file),
                error.line.unwrap_or(1),
                error.column.unwrap_or(1),
            );
            let (target, _, _) = placement.place(&location, 1);
            error.file = Arc::clone(&target.file);
            error.line = Some(target.line);
            error.column = Some(target.column);
        }
    }
    findings
        .sort_by(|a, b| (&a.location, a.code, &a.message).cmp(&(&b.location, b.code, &b.message)));
    findings
        .dedup_by(|a, b| a.location == b.location && a.code == b.code && a.message == b.message);
}

/// A program on PATH.
pub fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|directory| directory.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Why a tool gave no output.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("cannot run {program}: {error}")]
    Start {
        program: String,
        error: std::io::Error,
    },
    #[error("{program} failed: {message}")]
    Failed { program: String, message: String },
    #[error("{program} did not finish within {} s; stopped", RENDER_TIME_LIMIT.as_secs())]
    TimedOut { program: String },
    #[error("the output of {program} is {error}")]
    Output {
        program: String,
        error: files::ReadError,
    },
}

/// Runs a tool and returns its standard output as text. Standard output is read within
/// the input size limit, and the tool is stopped after [`RENDER_TIME_LIMIT`].
pub fn run_tool(program: &Path, args: &[OsString]) -> Result<String, ToolError> {
    let name = program.file_name().map_or_else(
        || program.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| ToolError::Start {
            program: name.clone(),
            error,
        })?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let (stdout, stderr, status) = std::thread::scope(|scope| {
        let out =
            scope.spawn(|| stdout.map(|pipe| files::read_stream(pipe, files::MAX_INPUT_BYTES, 0)));
        let err = scope.spawn(|| {
            let mut text = Vec::new();
            if let Some(pipe) = stderr {
                // Kept within a bound, and the rest drained so that the tool never blocks.
                let mut pipe = pipe;
                let _ = (&mut pipe).take(MAX_TOOL_STDERR).read_to_end(&mut text);
                let _ = std::io::copy(&mut pipe, &mut std::io::sink());
            }
            String::from_utf8_lossy(&text).into_owned()
        });
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if started.elapsed() < RENDER_TIME_LIMIT => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        let stdout = out.join().unwrap_or(None);
        let stderr = err.join().unwrap_or_default();
        (stdout, stderr, status)
    });
    let Some(status) = status else {
        return Err(ToolError::TimedOut { program: name });
    };
    let stdout = match stdout {
        Some(Ok(bytes)) => bytes,
        Some(Err(error)) => {
            // Over the limit: the reader stopped, so the tool may still be writing.
            return Err(ToolError::Output {
                program: name,
                error,
            });
        }
        None => Vec::new(),
    };
    if !status.success() {
        let message = stderr
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        return Err(ToolError::Failed {
            program: name,
            message: if message.is_empty() {
                format!("exit status {status}")
            } else {
                message
            },
        });
    }
    crate::manifest::decode::decode(stdout).map_err(|error| ToolError::Failed {
        program: name,
        message: error.to_string(),
    })
}

/// The documents of a small file (a kustomization, a values file, `Chart.yaml`) up to
/// the first error.
pub(crate) fn parse_all(text: &str) -> Vec<Node> {
    crate::manifest::yaml::documents(text)
        .map_while(Result::ok)
        .map(|document| document.root)
        .collect()
}

/// A path shown relative to where lint runs, as the walk shows them: `dir/file`.
pub(crate) fn display_join(directory: &Path, relative: &str) -> String {
    directory.join(relative).display().to_string()
}
