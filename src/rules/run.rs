//! A lint run: loads the inputs, builds the context and runs the selected rules over
//! it. Analysis only: it returns findings and input errors, and never prints.

use super::{schedule, Rule, RULES};
use crate::diagnostic::{Finding, InputError, Note};
use crate::lint::context::{Context, LintOptions};
use crate::manifest::judge::Skipped;
use crate::manifest::{self, LoadOptions};
use std::path::PathBuf;
use std::sync::Arc;

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
#[derive(Clone)]
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
    let objects = loaded.inventory.objects;
    let inventory = std::mem::take(&mut loaded.inventory);
    let (mut findings, errors) = analyse_and_free(inventory, options, selection);
    // Where the analysis reached a limit, as input errors: placed like the others.
    loaded.errors.extend(errors);
    // Findings in rendered charts and overlays, moved to the files that wrote them.
    loaded.place(&mut findings);
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

/// [`analyse`], on a thread of its own for a large input, which hands the findings over
/// and then frees the context and the inventory: on the shared benchmark corpus that
/// takes 5 ms for the context and 10 ms for the facts, which the caller does not wait
/// for (lint's process writes its report meanwhile, and exits). A small input, or one
/// for which no thread can be had, is analysed and freed here.
fn analyse_and_free(
    inventory: manifest::model::Inventory,
    options: &LintOptions,
    selection: &Selection,
) -> (Vec<Finding>, Vec<InputError>) {
    if inventory.workloads.len() < crate::lint::context::PARALLEL_WORKLOADS {
        return analyse(&inventory, options, selection);
    }
    let inventory = Arc::new(inventory);
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    let spawned = {
        let inventory = Arc::clone(&inventory);
        let options = options.clone();
        let selection = selection.clone();
        std::thread::Builder::new()
            .name("lint".to_string())
            .spawn(move || {
                let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut context = Context::new(&inventory, &options);
                    let found = findings_of(&mut context, &selection);
                    (found, context)
                }));
                match caught {
                    Ok((found, context)) => {
                        // The findings own what they show: the context and the facts
                        // are freed after they are handed over.
                        let _ = sender.send(Ok(found));
                        drop(context);
                    }
                    Err(panic) => {
                        let _ = sender.send(Err(panic));
                    }
                }
            })
    };
    if spawned.is_err() {
        return analyse(&inventory, options, selection);
    }
    // The thread holds the only other handle: the facts are freed there.
    drop(inventory);
    match receiver.recv() {
        Ok(Ok(found)) => found,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        // The thread sends before it ends, whatever happens in the analysis.
        Err(std::sync::mpsc::RecvError) => unreachable!("the lint thread ended without sending"),
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
    findings_of(&mut context, selection)
}

/// The findings of the selected rules over a context, sorted by place, then code, and
/// the places where the input reached a limit of the analysis.
fn findings_of(
    context: &mut Context<'_>,
    selection: &Selection,
) -> (Vec<Finding>, Vec<InputError>) {
    let mut errors = std::mem::take(&mut context.errors);
    let mut findings = schedule::run(&selection.rules, context);
    findings
        .sort_by(|a, b| (&a.location, a.code, &a.message).cmp(&(&b.location, b.code, &b.message)));
    findings
        .dedup_by(|a, b| a.location == b.location && a.code == b.code && a.message == b.message);
    errors.extend(context.take_limits());
    (findings, errors)
}
