//! Findings: what a rule reports, where, and how to fix it. Findings are data;
//! only `report/` turns them into text.

use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// How bad a finding is. Ordered so that `Error > Warning > Info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A position in an input: the file as the user named it, and a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
}

impl Location {
    pub fn new(file: &Arc<str>, line: u32, column: u32) -> Self {
        Location {
            file: Arc::clone(file),
            line,
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// The Kubernetes object (or compose service, or env file) a finding belongs to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// A second place involved in a finding ("Service defined here", "used by").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub location: Location,
    pub label: String,
}

/// One problem found by a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    pub location: Location,
    /// Width of the offending text on its line, for underlining (at least 1).
    pub width: u32,
    pub object: Option<ObjectRef>,
    pub container: Option<String>,
    pub variable: Option<String>,
    /// The path of the value in its object (`spec.servers[0]`) when it is a field of a
    /// custom resource, not an env variable.
    pub field: Option<String>,
    pub help: Option<String>,
    pub runbook: Option<String>,
    /// Workloads that consume a value defined elsewhere (a ConfigMap key, an env file).
    /// Shared by every finding at the same value: a value read by thousands of
    /// workloads may have a finding for each of its servers.
    pub used_by: Arc<[ObjectRef]>,
    pub related: Vec<Related>,
    /// The source line must not be shown (it holds Secret data).
    pub hide_source: bool,
}

impl Finding {
    /// Points at a second place that explains the finding ("Service defined here").
    pub fn relate(&mut self, location: &Location, label: &str) {
        self.related.push(Related {
            location: location.clone(),
            label: label.to_string(),
        });
    }
}

/// An input that could not be read or parsed. Reported, and the run goes on (exit 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub file: Arc<str>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

/// Something the user should know about an input that is not an error: a chart that was
/// not rendered, an `env_file` that does not exist. Reported on standard error; the exit
/// code does not change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub file: Arc<str>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}
