//! Inputs of `lint`: finds the files (`walk`), decides which are judged (`judge`),
//! renders charts and overlays (`render`), reads and decodes every input on several
//! threads and keeps the facts in an [`Inventory`] (`read`, `decode`). A file that cannot
//! be read or parsed becomes an [`InputError`] with its location; the others are still
//! read.

pub mod compose;
pub mod decode;
pub mod dotenv;
pub mod integrations;
pub mod judge;
pub mod k8s;
pub mod model;
pub(crate) mod read;
pub mod render;
pub mod walk;
pub mod yaml;

use crate::diagnostic::{Finding, InputError, Location, Note};
use crate::files;
use crate::manifest::judge::{SkipReason, Skipped};
use crate::manifest::model::{EnvSource, EnvVar, Inventory, Platform, Value, Workload};
use crate::manifest::read::Input;
use crate::manifest::render::helm::HelmOptions;
use crate::manifest::render::{kustomize, Placement, Rendered};
use rayon::prelude::*;
use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest file read. Bigger inputs are reported, not read.
pub const MAX_FILE_BYTES: u64 = files::MAX_INPUT_BYTES;

/// The name shown for standard input.
pub const STDIN_NAME: &str = "<stdin>";
/// The name shown for the process environment (`--env`).
pub const ENVIRONMENT_NAME: &str = "<environment>";

pub use walk::is_env_file;

pub struct LoadOptions<'a> {
    pub default_namespace: &'a str,
    /// 1 reads and renders on the calling thread alone; more uses rayon's pool (one
    /// thread per core), and sizes the runs of inputs for that many threads.
    pub threads: usize,
    /// Honour `.gitignore` and `.ignore` in walks (off with `--no-ignore`).
    pub honour_ignore_files: bool,
    /// A chart or overlay that cannot be rendered is an input error, not a note.
    pub require_render: bool,
    pub helm: HelmOptions,
}

impl Default for LoadOptions<'_> {
    fn default() -> Self {
        LoadOptions {
            default_namespace: model::GROUP_NAMESPACE,
            threads: 1,
            honour_ignore_files: true,
            require_render: false,
            helm: HelmOptions::default(),
        }
    }
}

/// Everything read from the inputs.
#[derive(Default)]
pub struct Loaded {
    pub inventory: Inventory,
    pub errors: Vec<InputError>,
    pub notes: Vec<Note>,
    /// Walked files that were not judged, in walk order.
    pub skipped: Vec<Skipped>,
    /// Inputs judged: files, standard input, rendered charts and overlays.
    pub files: usize,
    /// Standard input, kept so that reports can show its lines.
    pub stdin: Option<String>,
    placements: Vec<Placement>,
}

impl Loaded {
    /// Moves findings and input errors located in rendered charts and overlays to the
    /// files that wrote them.
    pub fn place(&mut self, findings: &mut Vec<Finding>) {
        render::place(&self.placements, findings, &mut self.errors);
    }
}

/// Reads every path (`-` is standard input; directories are walked).
pub fn load(paths: &[PathBuf], options: &LoadOptions<'_>) -> Loaded {
    let mut loaded = Loaded::default();
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if path.is_dir() {
            walk_directory(path, options, &mut inputs, &mut loaded);
        } else if path.exists() || files::kind(path) != files::FileKind::Missing {
            inputs.push(Input::File {
                path: path.clone(),
                named: true,
            });
        } else {
            loaded.errors.push(InputError {
                file: Arc::from(path.display().to_string()),
                line: None,
                column: None,
                message: "no such file or directory".to_string(),
            });
        }
    }
    let results = read::read_all(&inputs, options);
    loaded
        .inventory
        .reserve(results.iter().map(|result| &result.inventory));
    for result in results {
        loaded.inventory.append(result.inventory);
        loaded.errors.extend(result.errors);
        loaded.notes.extend(result.notes);
        loaded.skipped.extend(result.skipped);
        loaded.placements.extend(result.placements);
        loaded.files += result.files;
        if result.stdin.is_some() {
            loaded.stdin = result.stdin;
        }
    }
    loaded
}

/// Walks one directory: its plain files become inputs, its charts and overlays are
/// rendered, and every file of theirs is skipped.
fn walk_directory(
    root: &Path,
    options: &LoadOptions<'_>,
    inputs: &mut Vec<Input>,
    loaded: &mut Loaded,
) {
    let mut walked = walk::Walked::default();
    walk::walk(root, options.honour_ignore_files, &mut walked);
    for (path, message) in walked.problems {
        loaded.errors.push(InputError {
            file: Arc::from(path.display().to_string()),
            line: None,
            column: None,
            message,
        });
    }
    for (path, what) in walked.special {
        loaded.skipped.push(Skipped {
            file: path.display().to_string(),
            reason: SkipReason::NotARegularFile,
            detail: Some(format!("a {what}")),
        });
    }
    // A chart inside another chart is a subchart: rendered with its parent (the walk
    // sorts them, parents first).
    let mut charts: Vec<PathBuf> = Vec::new();
    for chart in walked.charts {
        if !charts.iter().any(|outer| chart.starts_with(outer)) {
            charts.push(chart);
        }
    }
    let chart_set: HashSet<&Path> = charts.iter().map(PathBuf::as_path).collect();
    let chart_of = |file: &Path| chart_containing(&chart_set, file);
    walked
        .kustomizations
        .retain(|file| chart_of(file).is_none());
    let plan = kustomize::plan(&walked.kustomizations);
    let builder = (!plan.overlays.is_empty())
        .then(kustomize_builder)
        .flatten();
    let helm = (!charts.is_empty())
        .then(|| render::find_program("helm"))
        .flatten();
    for file in walked.files {
        if let Some(chart) = chart_of(&file) {
            loaded.skipped.push(Skipped {
                file: file.display().to_string(),
                reason: SkipReason::Chart,
                detail: Some(match helm {
                    Some(_) => format!("{} is linted through helm template", chart.display()),
                    None => format!("{} is not linted: helm is not on PATH", chart.display()),
                }),
            });
            continue;
        }
        if !plan.tree.is_empty() {
            let normal = kustomize::normalize(&file);
            let detail = match builder {
                Some(_) if plan.tree.contains(&normal) => {
                    Some("linted through the build of its overlay")
                }
                None if plan.patches.contains(&normal) => {
                    Some("a patch or kustomization; the overlay is not built")
                }
                _ => None,
            };
            if let Some(detail) = detail {
                loaded.skipped.push(Skipped {
                    file: file.display().to_string(),
                    reason: SkipReason::Kustomize,
                    detail: Some(detail.to_string()),
                });
                continue;
            }
        }
        inputs.push(Input::File {
            path: file,
            named: false,
        });
    }
    render_all(
        &charts,
        helm.as_deref(),
        &plan.overlays,
        builder.as_ref(),
        options,
        inputs,
        loaded,
    );
}

/// The chart whose directory holds `file`.
fn chart_containing<'c>(charts: &HashSet<&'c Path>, file: &Path) -> Option<&'c Path> {
    if charts.is_empty() {
        return None;
    }
    file.ancestors()
        .skip(1)
        .find_map(|dir| charts.get(dir).copied())
}

/// The program that builds overlays: `kustomize build`, else `kubectl kustomize`.
fn kustomize_builder() -> Option<(PathBuf, &'static str)> {
    render::find_program("kustomize")
        .map(|program| (program, "build"))
        .or_else(|| render::find_program("kubectl").map(|program| (program, "kustomize")))
}

enum Job<'a> {
    Chart(&'a Path),
    Overlay(&'a Path),
}

/// Renders charts and builds overlays, several at a time; each becomes one input.
fn render_all(
    charts: &[PathBuf],
    helm: Option<&Path>,
    overlays: &[PathBuf],
    builder: Option<&(PathBuf, &'static str)>,
    options: &LoadOptions<'_>,
    inputs: &mut Vec<Input>,
    loaded: &mut Loaded,
) {
    let mut jobs = Vec::new();
    for chart in charts {
        if helm.is_some() {
            jobs.push(Job::Chart(chart));
            continue;
        }
        let command = render::helm::command_line(chart, &options.helm);
        let message = format!(
            "Helm chart not linted: helm is not on PATH; to lint it: {command} | nats-doctor lint -"
        );
        not_rendered(&chart.join("Chart.yaml"), chart, message, options, loaded);
    }
    for overlay in overlays {
        if builder.is_some() {
            jobs.push(Job::Overlay(overlay));
            continue;
        }
        let message = format!(
            "Kustomize overlay not built: neither kustomize nor kubectl is on PATH; its resources are linted as plain files and its patches skipped; to lint the build: kustomize build {} | nats-doctor lint -",
            overlay.display()
        );
        let file = kustomize::kustomization_file(overlay).unwrap_or_else(|| overlay.to_path_buf());
        not_rendered(&file, overlay, message, options, loaded);
    }
    if jobs.is_empty() {
        return;
    }
    let render = |job: &Job| match job {
        Job::Chart(chart) => helm.map(|helm| render::helm::render(helm, chart, &options.helm)),
        Job::Overlay(overlay) => {
            builder.map(|(program, verb)| build_overlay(program, verb, overlay))
        }
    };
    let threads = options.threads.clamp(1, jobs.len());
    let mut results: Vec<Result<Rendered, InputError>> = if threads == 1 {
        jobs.iter().filter_map(render).collect()
    } else {
        jobs.par_iter().filter_map(render).collect()
    };
    // The same order on every run, whichever thread finished first.
    results.sort_by_key(render_key);
    for result in results {
        match result {
            Ok(rendered) => inputs.push(Input::Rendered(Box::new(rendered))),
            Err(error) => loaded.errors.push(error),
        }
    }
}

fn render_key(result: &Result<Rendered, InputError>) -> String {
    match result {
        Ok(rendered) => rendered.name.to_string(),
        Err(error) => error.file.to_string(),
    }
}

/// The note (or with `--require-render`, the input error) for a chart or overlay that
/// could not be rendered.
fn not_rendered(
    file: &Path,
    directory: &Path,
    message: String,
    options: &LoadOptions<'_>,
    loaded: &mut Loaded,
) {
    if options.require_render {
        loaded.errors.push(InputError {
            file: Arc::from(file.display().to_string()),
            line: None,
            column: None,
            message: format!("{message} (--require-render)"),
        });
    } else {
        loaded.notes.push(Note {
            file: Arc::from(directory.display().to_string()),
            line: None,
            column: None,
            message,
        });
    }
}

/// Builds an overlay; an error is located at its kustomization file.
fn build_overlay(program: &Path, verb: &str, directory: &Path) -> Result<Rendered, InputError> {
    let args: Vec<OsString> = vec![verb.into(), directory.into()];
    let overlay = kustomize::Overlay::read(directory);
    match render::run_tool(program, &args) {
        Ok(text) => Ok(Rendered {
            name: Arc::from(format!("<kustomize build {}>", directory.display())),
            text,
            source: render::Source::Kustomize(overlay),
        }),
        Err(error) => Err(InputError {
            file: Arc::clone(&overlay.kustomization),
            line: None,
            column: None,
            message: error.to_string(),
        }),
    }
}

/// Adds the process environment as one more input.
pub fn load_environment(loaded: &mut Loaded) {
    let file = crate::diagnostic::FileName::from(ENVIRONMENT_NAME);
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    let env = vars
        .into_iter()
        .enumerate()
        .map(|(index, (name, text))| {
            let location = Location::new(&file, u32::try_from(index + 1).unwrap_or(u32::MAX), 1);
            EnvVar {
                name_width: u32::try_from(name.len()).unwrap_or(1),
                name: name.into(),
                name_location: location.clone(),
                source: EnvSource::Value(Value {
                    width: u32::try_from(text.chars().count().max(1)).unwrap_or(1),
                    text: text.into(),
                    location,
                    style: None,
                    not_scalar: false,
                }),
            }
        })
        .collect();
    loaded.files += 1;
    loaded.inventory.workloads.push(Workload::environment(
        &file,
        "process environment",
        file.to_string(),
        String::new(),
        Platform::ProcessEnv,
        env,
    ));
}
