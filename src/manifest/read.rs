//! Reading inputs into facts: each input is read, decoded, judged and parsed, and its
//! documents are handed one at a time to the extractors (Kubernetes, compose). The inputs
//! are read on several threads in runs of consecutive inputs, and the runs' facts are
//! joined in input order.
//!
//! The threads are rayon's: its work stealing replaced a hand-written loop over an
//! atomic run counter (and the same loop for chart and overlay renders, and the
//! scoped threads of the rule schedule and the environment resolution). Measured
//! before the change, release builds: on the shared benchmark corpus (20,000
//! applications, 60,002 objects), interleaved runs gave a median of 647 ms with the
//! hand-written threads and 653 ms with rayon (user time 926 and 918 ms, peak RSS
//! 110 MB both), and callgrind counts 1,505 and 1,503 million instructions on the
//! 2,000-application corpus, 1.911 and 1.897 million on one small file; the binary
//! grows by 55 KB. Not slower, and less code that can go wrong.

use crate::diagnostic::{FileName, InputError, Note};
use crate::files;
use crate::manifest::decode;
use crate::manifest::judge::{self, DocumentKind, SkipReason, Skipped};
use crate::manifest::model::{Inventory, Platform, Workload};
use crate::manifest::render::{Placement, Rendered};
use crate::manifest::{compose, dotenv, k8s, walk, yaml, LoadOptions, MAX_FILE_BYTES, STDIN_NAME};
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

/// Runs of consecutive inputs per thread on a large input, so that threads finishing at
/// different speeds still end together.
const RUNS_PER_THREAD: usize = 16;
/// Most inputs in one run.
const MAX_RUN_LENGTH: usize = 64;

/// One input to read.
pub(crate) enum Input {
    /// A file; `named` when it was named on the command line rather than met in a walk.
    File {
        path: PathBuf,
        named: bool,
    },
    Stdin,
    /// The output of `helm template` or `kustomize build`.
    Rendered(Box<Rendered>),
}

/// The facts, errors and notes of a run of consecutive inputs.
#[derive(Default)]
pub(crate) struct RunResult {
    pub inventory: Inventory,
    pub errors: Vec<InputError>,
    pub notes: Vec<Note>,
    pub skipped: Vec<Skipped>,
    pub placements: Vec<Placement>,
    /// Inputs judged (the others were skipped).
    pub files: usize,
    pub stdin: Option<String>,
}

/// Reads every input, on rayon's threads unless `threads` is 1; the results are in
/// input order.
pub(crate) fn read_all(inputs: &[Input], options: &LoadOptions<'_>) -> Vec<RunResult> {
    // The inputs are cut into runs of consecutive inputs. Each thread takes a run and
    // gathers its facts; the runs are joined in input order at the end. No thread waits
    // on another, and the inventory is the same on every run.
    let threads = options.threads.clamp(1, inputs.len().max(1));
    let run_length = (inputs.len() / (threads * RUNS_PER_THREAD)).clamp(1, MAX_RUN_LENGTH);
    let runs: Vec<&[Input]> = inputs.chunks(run_length).collect();
    let read_run = |run: &&[Input]| {
        let mut result = RunResult::default();
        for input in *run {
            read_input(input, options, &mut result);
        }
        result
    };
    if threads == 1 {
        return runs.iter().map(read_run).collect();
    }
    runs.par_iter().map(read_run).collect()
}

/// How an input came: what decides whether a file that fails is an error or skipped.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Named on the command line, or standard input: always judged.
    Named,
    /// Met in a walk: judged when it is a manifest.
    Walked,
    /// Rendered from a chart or an overlay: judged, and never a template.
    Rendered,
}

/// Reads one input and adds its facts, errors and skips to `result`. Every input that
/// is not skipped counts, whether or not it could be read.
fn read_input(input: &Input, options: &LoadOptions<'_>, result: &mut RunResult) {
    let skipped = result.skipped.len();
    read_one(input, options, result);
    if result.skipped.len() == skipped {
        result.files += 1;
    }
}

fn read_one(input: &Input, options: &LoadOptions<'_>, result: &mut RunResult) {
    let (name, path, origin, bytes) = match input {
        Input::Stdin => (
            STDIN_NAME.to_string(),
            None,
            Origin::Named,
            files::read_stream(std::io::stdin().lock(), MAX_FILE_BYTES, 0),
        ),
        Input::File { path, named } => (
            files::display_name(path),
            Some(path.as_path()),
            if *named {
                Origin::Named
            } else {
                Origin::Walked
            },
            files::read(path, MAX_FILE_BYTES),
        ),
        Input::Rendered(rendered) => {
            read_rendered(rendered, options, result);
            return;
        }
    };
    let file = FileName::from(name);
    let error = |line: Option<u32>, column: Option<u32>, message: String| InputError {
        file: Arc::clone(&file),
        line,
        column,
        message,
    };
    let skip = |result: &mut RunResult, reason: SkipReason, detail: Option<String>| {
        result.skipped.push(Skipped {
            file: file.to_string(),
            reason,
            detail,
        });
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(read) => {
            result.errors.push(error(None, None, read.to_string()));
            return;
        }
    };
    let env_file = path.is_some_and(walk::is_env_file);
    let text = match decode::decode(bytes) {
        Ok(text) => text,
        Err(problem) => {
            // A walked file that is not text is a manifest only if its name says so.
            if origin == Origin::Walked && !env_file {
                skip(result, SkipReason::Unparsable, Some(problem.to_string()));
            } else {
                let (line, column) = problem.position();
                result
                    .errors
                    .push(error(Some(line), Some(column), problem.to_string()));
            }
            return;
        }
    };
    if env_file {
        let (vars, problems) = dotenv::parse(&file, &text);
        result.errors.extend(
            problems
                .into_iter()
                .map(|p| error(Some(p.line), Some(p.column), p.message)),
        );
        result.inventory.objects += 1;
        result.inventory.workloads.push(Workload::environment(
            &file,
            "env file",
            file.to_string(),
            String::new(),
            Platform::EnvFile,
            vars,
        ));
        return;
    }
    // A file that only a Helm chart could have written is a template, whether or not it
    // happens to be valid YAML: its values are not what is deployed.
    if let Some((line, column)) = judge::helm_action(&text) {
        match origin {
            Origin::Walked => skip(result, SkipReason::Template, None),
            _ => result.errors.push(unrendered(&file, line, column)),
        }
        return;
    }
    // A walked file with template actions may turn out to be a template further down:
    // its facts are kept aside until the whole file has parsed.
    let template = judge::template_action(&text);
    let mut aside = RunResult::default();
    let target = if origin == Origin::Walked && template.is_some() {
        &mut aside
    } else {
        &mut *result
    };
    let mut documents = Documents {
        file: &file,
        text: &text,
        path,
        origin,
        options,
        result: target,
        judged: 0,
    };
    // One document at a time: each is dropped before the next is built.
    let mut error = None;
    for document in yaml::documents(&text) {
        match document {
            Ok(document) => documents.document(&document),
            Err(problem) => error = Some(problem),
        }
    }
    let judged = documents.judged;
    match error {
        Some(problem) => {
            if origin == Origin::Named {
                result.errors.push(match template {
                    Some((line, column)) => unrendered(&file, line, column),
                    None => invalid_yaml(&file, &problem),
                });
            } else if template.is_some() {
                skip(result, SkipReason::Template, None);
            } else if judged > 0 || judge::looks_like_manifest(&text) {
                result.errors.push(invalid_yaml(&file, &problem));
            } else {
                skip(
                    result,
                    SkipReason::Unparsable,
                    Some(format!(
                        "{}:{}: {}",
                        problem.line, problem.column, problem.message
                    )),
                );
            }
        }
        None if judged == 0 && origin == Origin::Walked => {
            skip(result, SkipReason::NotAManifest, None);
        }
        None => {
            result.inventory.append(aside.inventory);
            result.errors.append(&mut aside.errors);
            result.notes.append(&mut aside.notes);
        }
    }
    if matches!(input, Input::Stdin) {
        result.stdin = Some(text);
    }
}

fn unrendered(file: &Arc<str>, line: u32, column: u32) -> InputError {
    InputError {
        file: Arc::clone(file),
        line: Some(line),
        column: Some(column),
        message: "unrendered template (`{{ ... }}`); render it first: helm template RELEASE CHART | nats-doctor lint -".to_string(),
    }
}

fn invalid_yaml(file: &Arc<str>, problem: &yaml::YamlError) -> InputError {
    InputError {
        file: Arc::clone(file),
        line: Some(problem.line),
        column: Some(problem.column),
        message: format!("invalid YAML: {}", problem.message),
    }
}

/// Reads the output of a chart or an overlay. Its documents are located in the
/// rendered text first; the placement moves every location to the source afterwards.
fn read_rendered(rendered: &Rendered, options: &LoadOptions<'_>, result: &mut RunResult) {
    let file = FileName::new(&rendered.name);
    let mut placement = rendered.placement();
    let mut documents = Documents {
        file: &file,
        text: &rendered.text,
        path: None,
        origin: Origin::Rendered,
        options,
        result,
        judged: 0,
    };
    for document in yaml::documents(&rendered.text) {
        match document {
            Ok(document) => {
                documents.document(&document);
                placement.document(&document.root);
            }
            Err(problem) => documents.result.errors.push(invalid_yaml(&file, &problem)),
        }
    }
    result.placements.push(placement.finish());
}

/// Takes the documents of one input, one at a time, to the extractors.
struct Documents<'a, 'r> {
    file: &'a FileName,
    /// The text the documents are parsed from.
    text: &'a str,
    /// The file's path, for compose's `env_file` (relative to the compose file).
    path: Option<&'a std::path::Path>,
    origin: Origin,
    options: &'a LoadOptions<'a>,
    result: &'r mut RunResult,
    /// Documents judged so far.
    judged: usize,
}

impl Documents<'_, '_> {
    fn document(&mut self, document: &yaml::Document) {
        let kind = judge::document_kind(&document.root);
        match kind {
            DocumentKind::Compose => {
                self.judged += 1;
                compose::extract(
                    self.file,
                    self.path,
                    document,
                    &mut self.result.inventory,
                    &mut self.result.errors,
                    &mut self.result.notes,
                );
            }
            // A named file is read as it always was: any object with a `kind`.
            DocumentKind::Kubernetes | DocumentKind::Other
                if kind == DocumentKind::Kubernetes || self.origin != Origin::Walked =>
            {
                self.judged += usize::from(kind == DocumentKind::Kubernetes);
                k8s::Extractor {
                    file: self.file,
                    text: Some(self.text),
                    default_namespace: self.options.default_namespace,
                    inventory: &mut self.result.inventory,
                }
                .document(document);
            }
            DocumentKind::Kubernetes | DocumentKind::Other => {}
        }
    }
}
