//! Walking a directory: the files that may be inputs (`*.yaml`, `*.yml`, `*.json`, env
//! files), the Helm charts (`Chart.yaml`) and the Kustomize directories
//! (`kustomization.yaml`) under it.
//!
//! The walk honours `.gitignore` (also outside a git checkout, and those of the parent
//! directories), `.ignore` and `.git/info/exclude`, as ripgrep does; not the user's
//! global git excludes, so that a CI machine and a laptop see the same files. Hidden
//! directories (`.git`, `.github`, …) are not entered; hidden files such as `.env` are
//! read. Symbolic links to directories are not followed; a link to a regular file is
//! read, and a device, FIFO or socket, or a link to one, is never opened.

use crate::files;
use std::cmp::Ordering;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The names that make a directory a Kustomize directory, as kustomize looks for them.
pub const KUSTOMIZATION_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walked {
    /// Regular files (or links to one) whose names make them possible inputs.
    pub files: Vec<PathBuf>,
    /// Possible inputs that are not regular files: never opened.
    pub special: Vec<(PathBuf, &'static str)>,
    /// Directories holding a `Chart.yaml`.
    pub charts: Vec<PathBuf>,
    /// `kustomization.yaml` files (the file, not its directory).
    pub kustomizations: Vec<PathBuf>,
    /// Directories that could not be read, and broken ignore files.
    pub problems: Vec<(PathBuf, String)>,
}

/// Whether a file name is an env file (`.env`, `.env.local`, `app.env`).
pub fn is_env_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name == ".env" || name.starts_with(".env.") || name.ends_with(".env")
}

/// Whether a walked file may be an input: YAML, JSON or an env file by name.
pub fn is_candidate(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    ) || is_env_file(path)
        || is_kustomization(path)
}

/// Whether a file is a `kustomization.yaml` (or one of its other names).
pub fn is_kustomization(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|name| KUSTOMIZATION_NAMES.contains(&name))
}

/// Walks `root`. `honour_ignore_files` is false for `--no-ignore`.
pub fn walk(root: &Path, honour_ignore_files: bool, walked: &mut Walked) {
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .follow_links(false)
        .hidden(false)
        .parents(honour_ignore_files)
        .ignore(honour_ignore_files)
        .git_ignore(honour_ignore_files)
        .git_exclude(honour_ignore_files)
        .git_global(false)
        .require_git(false)
        // The root is entered whatever its name: the user asked for it.
        .filter_entry(|entry| {
            entry.depth() == 0
                || !(entry.file_type().is_some_and(|t| t.is_dir())
                    && entry.file_name().to_string_lossy().starts_with('.'))
        });
    for result in builder.build() {
        let entry = match result {
            Ok(entry) => entry,
            Err(error) => {
                let path = error_path(&error).unwrap_or_else(|| root.to_path_buf());
                walked.problems.push((path, error_message(&error)));
                continue;
            }
        };
        let Some(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            continue;
        }
        let path = entry.into_path();
        if path.file_name().is_some_and(|name| name == "Chart.yaml") {
            if let Some(directory) = path.parent() {
                walked.charts.push(directory.to_path_buf());
            }
        }
        if !is_candidate(&path) {
            continue;
        }
        // A link is read when it leads to a regular file: never a device or a FIFO,
        // which would never end or never answer.
        let kind = if file_type.is_symlink() {
            files::kind(&path)
        } else {
            files::kind_of(&file_type)
        };
        match kind {
            files::FileKind::Regular => {
                if is_kustomization(&path) {
                    walked.kustomizations.push(path.clone());
                }
                walked.files.push(path);
            }
            files::FileKind::Special(what) => walked.special.push((path, what)),
            // A link to a directory is not followed; a dangling link is nothing.
            files::FileKind::Directory | files::FileKind::Missing => {}
        }
    }
    sort(&mut walked.files);
    sort(&mut walked.charts);
}

/// Sorts paths met in one walk as `Path`'s own order does, component by component.
///
/// The paths of one walk are the root as given followed by names joined with single
/// slashes, with no `.` or empty components past the root. For such paths the order of
/// their components is the order of their bytes with `/` taken as lower than every other
/// byte: a shorter component sorts first, as a path ends or a slash follows it. Comparing
/// bytes that way is faster than `Path::cmp`, which parses components: the 20,001 files of
/// the shared benchmark corpus, in the order the walk meets them, sort in 2.4 ms instead
/// of 11.7 ms, in a walk of 15 ms.
fn sort(paths: &mut [PathBuf]) {
    paths.sort_unstable_by(|a, b| component_order(a, b));
}

fn component_order(a: &Path, b: &Path) -> Ordering {
    let (a, b) = (a.as_os_str().as_bytes(), b.as_os_str().as_bytes());
    let rank = |byte: u8| if byte == b'/' { 0 } else { u16::from(byte) + 1 };
    // The paths of one walk share long beginnings: the first difference is looked for
    // eight bytes at a time.
    let shorter = a.len().min(b.len());
    let mut at = 0;
    while at + 8 <= shorter && a[at..at + 8] == b[at..at + 8] {
        at += 8;
    }
    while at < shorter && a[at] == b[at] {
        at += 1;
    }
    if at == shorter {
        a.len().cmp(&b.len())
    } else {
        rank(a[at]).cmp(&rank(b[at]))
    }
}

fn error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Partial(errors) => errors.first().and_then(error_path),
        _ => None,
    }
}

/// The message without the path, which is reported beside it.
fn error_message(error: &ignore::Error) -> String {
    match error {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            error_message(err)
        }
        ignore::Error::Io(io) => format!("cannot read directory: {io}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(paths: &[PathBuf], root: &Path) -> Vec<String> {
        let mut names: Vec<String> = paths
            .iter()
            .map(|p| {
                p.strip_prefix(root)
                    .expect("under root")
                    .display()
                    .to_string()
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn honours_ignore_files_and_skips_hidden_directories() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for (path, text) in [
            (".gitignore", "node_modules/\n/build\n*.generated.yaml\n"),
            ("deploy/app.yaml", "kind: ConfigMap\n"),
            ("deploy/app.generated.yaml", "kind: ConfigMap\n"),
            ("node_modules/pkg/package.json", "{}\n"),
            ("build/out.yaml", "kind: ConfigMap\n"),
            ("vendor/.ignore", "*.yaml\n"),
            ("vendor/x.yaml", "kind: ConfigMap\n"),
            (".github/workflows/ci.yaml", "on: push\n"),
            (".env", "NATS_URL=nats://a:4222\n"),
            ("chart/Chart.yaml", "name: c\n"),
            ("overlay/kustomization.yaml", "resources: []\n"),
            ("README.md", "# x\n"),
        ] {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        let mut walked = Walked::default();
        walk(root, true, &mut walked);
        assert_eq!(
            names(&walked.files, root),
            [
                ".env",
                "chart/Chart.yaml",
                "deploy/app.yaml",
                "overlay/kustomization.yaml"
            ]
        );
        assert_eq!(names(&walked.charts, root), ["chart"]);
        assert_eq!(
            names(&walked.kustomizations, root),
            ["overlay/kustomization.yaml"]
        );
        let mut everything = Walked::default();
        walk(root, false, &mut everything);
        assert_eq!(
            names(&everything.files, root),
            [
                ".env",
                "build/out.yaml",
                "chart/Chart.yaml",
                "deploy/app.generated.yaml",
                "deploy/app.yaml",
                "node_modules/pkg/package.json",
                "overlay/kustomization.yaml",
                "vendor/x.yaml"
            ],
            "--no-ignore still skips hidden directories"
        );
        // A hidden directory named as the root is walked.
        let mut hidden = Walked::default();
        walk(&root.join(".github"), true, &mut hidden);
        assert_eq!(
            names(&hidden.files, &root.join(".github")),
            ["workflows/ci.yaml"]
        );
    }

    #[test]
    fn paths_sort_as_path_orders_them() {
        let names = [
            "a",
            "a/b",
            "a-b",
            "a.b",
            "a b",
            "a/b/c",
            "a/b.yaml",
            "a/b-c",
            "a/bc",
            "a0",
            "b",
            "ab/c",
            "a/é",
            "a/z",
            "A",
            "a/b/c/d",
            ".env",
            "a/.env",
            "team-10/extractor-1.yaml",
            "team-10/extractor-1/x.yaml",
            "team-10/extractor-10.yaml",
            "team-1/extractor-1.yaml",
            "team-10-old/a.yaml",
            "team-10/extractor-1-b.yaml",
        ];
        let mut paths: Vec<PathBuf> = names.iter().map(|n| Path::new("root").join(n)).collect();
        let mut expected = paths.clone();
        expected.sort();
        paths.reverse();
        sort(&mut paths);
        assert_eq!(paths, expected);
    }

    #[test]
    fn links_to_devices_and_fifos_are_never_opened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::write(root.join("real.yaml"), "kind: ConfigMap\n").expect("write");
        std::os::unix::fs::symlink("/dev/zero", root.join("zero.yaml")).expect("link");
        std::os::unix::fs::symlink(root.join("real.yaml"), root.join("link.yaml")).expect("link");
        let fifo = root.join("fifo.yaml");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
        std::os::unix::fs::symlink(&fifo, root.join("to-fifo.yaml")).expect("link");
        let mut walked = Walked::default();
        walk(root, true, &mut walked);
        assert_eq!(names(&walked.files, root), ["link.yaml", "real.yaml"]);
        let mut special: Vec<(String, &str)> = walked
            .special
            .iter()
            .map(|(p, what)| (p.file_name().expect("name").to_string_lossy().into(), *what))
            .collect();
        special.sort();
        assert_eq!(
            special,
            [
                ("fifo.yaml".to_string(), "FIFO"),
                ("to-fifo.yaml".to_string(), "FIFO"),
                ("zero.yaml".to_string(), "character device"),
            ]
        );
    }
}
