//! A lint run: loads the inputs, builds the context and runs the selected rules over
//! it. Analysis only: it returns findings and input errors, and never prints.

use super::{schedule, Rule, RULES};
use crate::diagnostic::{Finding, InputError, Note};
use crate::lint::context::{Context, LintOptions};
use crate::manifest::judge::Skipped;
use crate::manifest::{self, LoadOptions};
use std::path::PathBuf;

/// What a lint run found.
pub struct LintOutcome {
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    /// What the user should know that is not an error (a chart that was not rendered).
    pub notes: Vec<Note>,
    /// Walked files that were not judged, and why.
    pub skipped: Vec<Skipped>,
    pub files: usize,
    pub objects: usize,
    /// Standard input as read, for showing source lines.
    pub stdin: Option<String>,
}

/// Which rules run.
pub struct Selection {
    pub rules: Vec<&'static Rule>,
}

impl Selection {
    pub fn all() -> Self {
        Selection {
            rules: RULES.to_vec(),
        }
    }
}

/// Lints `paths` (and the process environment when `environment` is set).
pub fn run(
    paths: &[PathBuf],
    environment: bool,
    options: &LintOptions,
    load: &LoadOptions<'_>,
    selection: &Selection,
) -> LintOutcome {
    let mut loaded = manifest::load(paths, load);
    if environment {
        manifest::load_environment(&mut loaded);
    }
    let (mut findings, errors) = analyse(&loaded.inventory, options, selection);
    // Where the analysis reached a limit, as input errors: placed like the others.
    loaded.errors.extend(errors);
    // Findings in rendered charts and overlays, moved to the files that wrote them.
    loaded.place(&mut findings);
    let objects = loaded.inventory.objects;
    // Freeing the facts of a large input takes tens of milliseconds: a thread of its own
    // does it while the report is written. Should no thread be available, the inventory
    // is freed here instead.
    let inventory = std::mem::take(&mut loaded.inventory);
    let _freeing = std::thread::Builder::new().spawn(move || drop(inventory));
    LintOutcome {
        findings,
        errors: loaded.errors,
        notes: loaded.notes,
        skipped: loaded.skipped,
        files: loaded.files,
        objects,
        stdin: loaded.stdin,
    }
}

/// Runs the selected rules over an inventory; findings sorted by place, then code. For
/// an inventory that cannot reach the limits of the analysis (one value, as `check`
/// lints it); [`analyse`] also returns where an input reached them.
pub fn check(
    inventory: &manifest::model::Inventory,
    options: &LintOptions,
    selection: &Selection,
) -> Vec<Finding> {
    analyse(inventory, options, selection).0
}

/// Runs the selected rules over an inventory: the findings, sorted by place, then code,
/// and the places where the input reached a limit of the analysis.
pub fn analyse(
    inventory: &manifest::model::Inventory,
    options: &LintOptions,
    selection: &Selection,
) -> (Vec<Finding>, Vec<InputError>) {
    let mut context = Context::new(inventory, options);
    let mut errors = std::mem::take(&mut context.errors);
    let mut findings = schedule::run(&selection.rules, &context);
    findings
        .sort_by(|a, b| (&a.location, a.code, &a.message).cmp(&(&b.location, b.code, &b.message)));
    findings
        .dedup_by(|a, b| a.location == b.location && a.code == b.code && a.message == b.message);
    errors.extend(context.take_limits());
    (findings, errors)
}
