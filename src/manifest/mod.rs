//! Inputs of `lint`: finds the files, reads them (in parallel), parses them as YAML,
//! JSON, compose or env files, and keeps the facts in an [`Inventory`]. A file that
//! cannot be read or parsed becomes an [`InputError`] with its location; the others are
//! still read.

pub mod compose;
pub mod dotenv;
pub mod k8s;
pub mod model;
pub mod yaml;

use crate::diagnostic::{InputError, Location};
use crate::files;
use crate::manifest::model::{EnvSource, EnvVar, Inventory, Platform, Value, Workload};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Largest file read. Bigger inputs are reported, not read.
pub const MAX_FILE_BYTES: u64 = files::MAX_INPUT_BYTES;

/// Runs of consecutive files per thread on a large input, so that threads finishing at
/// different speeds still end together.
const RUNS_PER_THREAD: usize = 16;
/// Most files in one run.
const MAX_RUN_LENGTH: usize = 64;

/// The name shown for standard input.
pub const STDIN_NAME: &str = "<stdin>";
/// The name shown for the process environment (`--env`).
pub const ENVIRONMENT_NAME: &str = "<environment>";

pub struct LoadOptions<'a> {
    pub default_namespace: &'a str,
    pub threads: usize,
}

/// Everything read from the inputs.
#[derive(Default)]
pub struct Loaded {
    pub inventory: Inventory,
    pub errors: Vec<InputError>,
    pub files: usize,
    /// Standard input, kept so that reports can show its lines.
    pub stdin: Option<String>,
}

enum Input {
    File(PathBuf),
    Stdin,
}

/// Reads every path (`-` is standard input; directories are walked).
pub fn load(paths: &[PathBuf], options: &LoadOptions<'_>) -> Loaded {
    let mut loaded = Loaded::default();
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found, &mut loaded.errors);
            found.sort();
            inputs.extend(found.into_iter().map(Input::File));
        } else if path.exists() {
            inputs.push(Input::File(path.clone()));
        } else {
            loaded.errors.push(InputError {
                file: Arc::from(path.display().to_string()),
                line: None,
                column: None,
                message: "no such file or directory".to_string(),
            });
        }
    }
    loaded.files = inputs.len();

    // The inputs are cut into runs of consecutive files. Each thread, this one included,
    // takes the next run and gathers its facts; the runs are joined in input order at the
    // end. No thread waits on another, and the inventory is the same on every run.
    let threads = options.threads.clamp(1, inputs.len().max(1));
    let run_length = (inputs.len() / (threads * RUNS_PER_THREAD)).clamp(1, MAX_RUN_LENGTH);
    let runs: Vec<&[Input]> = inputs.chunks(run_length).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(run) = runs.get(index) else {
                break done;
            };
            let mut result = RunResult::default();
            for input in *run {
                read_input(input, options, &mut result);
            }
            done.push((index, result));
        }
    };
    let mut results = std::thread::scope(|scope| {
        let others: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut results = work();
        for other in others {
            results.extend(
                other
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        results
    });
    results.sort_unstable_by_key(|(index, _)| *index);
    loaded
        .inventory
        .reserve(results.iter().map(|(_, result)| &result.inventory));
    for (_, result) in results {
        loaded.merge(result);
    }
    loaded
}

/// Adds the process environment as one more input.
pub fn load_environment(loaded: &mut Loaded) {
    let file: Arc<str> = Arc::from(ENVIRONMENT_NAME);
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

/// Whether a file name is an env file (`.env`, `.env.local`, `app.env`).
pub fn is_env_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name == ".env" || name.starts_with(".env.") || name.ends_with(".env")
}

fn is_manifest_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    ) || is_env_file(path)
}

/// Walks a directory without following symbolic links, skipping hidden directories.
fn walk(root: &Path, found: &mut Vec<PathBuf>, errors: &mut Vec<InputError>) {
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) => {
                errors.push(InputError {
                    file: Arc::from(dir.display().to_string()),
                    line: None,
                    column: None,
                    message: format!("cannot read directory: {error}"),
                });
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if file_type.is_dir() {
                if !hidden {
                    pending.push(path);
                }
            } else if is_manifest_file(&path)
                && (file_type.is_file()
                    // A link is read when it leads to a regular file: never a device or
                    // a FIFO, which would never end or never answer.
                    || (file_type.is_symlink()
                        && files::kind(&path) == files::FileKind::Regular))
            {
                found.push(path);
            }
        }
    }
}

impl Loaded {
    fn merge(&mut self, result: RunResult) {
        self.inventory.append(result.inventory);
        self.errors.extend(result.errors);
        if result.stdin.is_some() {
            self.stdin = result.stdin;
        }
    }
}

/// The facts and errors of one run of consecutive files.
#[derive(Default)]
struct RunResult {
    inventory: Inventory,
    errors: Vec<InputError>,
    stdin: Option<String>,
}

/// Reads one input and adds its facts and errors to `result`.
fn read_input(input: &Input, options: &LoadOptions<'_>, result: &mut RunResult) {
    let (name, path, bytes) = match input {
        Input::Stdin => (
            STDIN_NAME.to_string(),
            None,
            files::read_stream(std::io::stdin().lock(), MAX_FILE_BYTES, 0),
        ),
        Input::File(path) => (
            path.display().to_string(),
            Some(path.as_path()),
            files::read(path, MAX_FILE_BYTES),
        ),
    };
    let file: Arc<str> = Arc::from(name);
    let error = |line: Option<u32>, column: Option<u32>, message: String| InputError {
        file: Arc::clone(&file),
        line,
        column,
        message,
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(read) => {
            result.errors.push(error(None, None, read.to_string()));
            return;
        }
    };
    if bytes.contains(&0) {
        result.errors.push(error(
            None,
            None,
            "binary file (contains NUL bytes); not read".to_string(),
        ));
        return;
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(invalid) => {
            let at = invalid.utf8_error().valid_up_to();
            let line = invalid.as_bytes()[..at]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            result.errors.push(error(
                Some(u32::try_from(line).unwrap_or(u32::MAX)),
                None,
                format!("not UTF-8 text (invalid byte at offset {at})"),
            ));
            return;
        }
    };
    if path.is_some_and(is_env_file) {
        let (vars, problems) = dotenv::parse(&file, &text);
        result.errors.extend(
            problems
                .into_iter()
                .map(|p| error(Some(p.line), None, p.message)),
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
    if let Some(line) = helm_template_line(&text) {
        result.errors.push(error(
            Some(line),
            None,
            "unrendered Helm template (`{{ ... }}`); render it first: helm template RELEASE CHART | nats-doctor lint -".to_string(),
        ));
        return;
    }
    // One document at a time: each is dropped before the next is built.
    for document in yaml::documents(&text) {
        let document = match document {
            Ok(document) => document,
            Err(problem) => {
                result.errors.push(error(
                    Some(problem.line),
                    Some(problem.column),
                    format!("invalid YAML: {}", problem.message),
                ));
                break;
            }
        };
        if compose::is_compose(&document.root) {
            compose::extract(
                &file,
                path,
                &document,
                &mut result.inventory,
                &mut result.errors,
            );
        } else {
            k8s::Extractor {
                file: &file,
                default_namespace: options.default_namespace,
                inventory: &mut result.inventory,
            }
            .document(&document);
        }
    }
    if matches!(input, Input::Stdin) {
        result.stdin = Some(text);
    }
}

/// The first line holding a Helm action (`{{ ... }}`) outside a comment.
fn helm_template_line(text: &str) -> Option<u32> {
    // One scan of the whole text first: almost every input has no `{{` at all.
    if !text.contains("{{") {
        return None;
    }
    text.lines().enumerate().find_map(|(index, line)| {
        let code = line.trim_start();
        let open = code.find("{{")?;
        (!code.starts_with('#') && code[open..].contains("}}"))
            .then(|| u32::try_from(index + 1).unwrap_or(u32::MAX))
    })
}
