//! The renderers the chart and overlay tests put on PATH: Helm's Go library (the PyPI
//! package helm-python-sdk, in target/test-venv) behind a `helm` script, and the
//! `kustomize` or `kubectl` of the machine. A test that needs one and cannot find it
//! fails and says how to install it.

use std::path::Path;
use std::process::{Command, Stdio};

pub const INSTALL_HELM: &str = "python3 -m venv target/test-venv && target/test-venv/bin/pip install helm-python-sdk==0.2.2   (scripts/install-test-tools does this)";

/// A directory with `helm` in it: `tests/tools/helm_template.py`, a `helm template` on
/// Helm's Go library.
pub fn helm_directory() -> tempfile::TempDir {
    let root = super::root();
    let python = root.join("target/test-venv/bin/python3");
    let found = python.exists()
        && Command::new(&python)
            .args(["-c", "import helm_python"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
    assert!(
        found,
        "charts are rendered with Helm's Go library from the PyPI package helm-python-sdk, \
         which is not installed in target/test-venv; install it with:\n  {INSTALL_HELM}"
    );
    let directory = tempfile::tempdir().expect("tempdir");
    let helm = directory.path().join("helm");
    std::fs::write(
        &helm,
        format!(
            "#!/bin/sh\nexec '{}' '{}' \"$@\"\n",
            python.display(),
            root.join("tests/tools/helm_template.py").display()
        ),
    )
    .expect("write helm");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    directory
}

/// PATH with `first` before the usual one.
pub fn path_with(first: &Path) -> String {
    format!(
        "{}:{}",
        first.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}
