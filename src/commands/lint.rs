//! `nats-doctor lint [PATH ...]`: flags to lint options, the run, the report in the
//! chosen format (input errors, notes and skipped files on standard error in every
//! format), and the exit code: 2 for an input that could not be read, 1 for findings
//! at or above `--fail-on`, else 0.

use super::{Stdout, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::cli::{FailOn, LintArgs, LintFormat};
use crate::diagnostic::Severity;
use crate::lint::context::LintOptions;
use crate::report::{self, Output};
use crate::rules::Selection;
use crate::{manifest, rules};
use anyhow::Context as _;
use std::io;

pub(super) fn run(args: &LintArgs, quiet: bool, out: &mut Stdout) -> anyhow::Result<u8> {
    let selection = selection(args)?;
    let options = LintOptions {
        default_namespace: args.namespace.clone().filter(|ns| !ns.is_empty()),
        cluster_domain: args.cluster_domain.trim_end_matches('.').to_string(),
        known_namespaces: args.known_namespaces.clone(),
        url_vars: args.url_vars.clone(),
        strict_refs: args.strict_refs,
        nats_service: args.nats_service.clone(),
    };
    let load = manifest::LoadOptions {
        default_namespace: options
            .default_namespace
            .as_deref()
            .unwrap_or(manifest::model::GROUP_NAMESPACE),
        threads: std::thread::available_parallelism().map_or(1, usize::from),
        honour_ignore_files: !args.no_ignore,
        require_render: args.require_render,
        helm: manifest::render::helm::HelmOptions {
            values: args.helm_values.clone(),
            set: args.helm_set.clone(),
            release_name: args.release_name.clone(),
            namespace: args.namespace.clone(),
        },
    };
    let outcome = rules::run(&args.paths, args.env, &options, &load, &selection);
    let mut err = Output::new(io::stderr().lock());
    let diagnostics = report::lint::write_diagnostics(&mut err, &outcome, args.verbose);
    err.done(diagnostics).context("writing the report")?;
    let written = match args.format {
        LintFormat::Text => report::lint::text::write_lint(out, &outcome, quiet),
        LintFormat::Json => report::lint::json::write_lint(out, &outcome),
        LintFormat::Github => report::lint::github::write_lint(out, &outcome),
        LintFormat::Sarif => report::lint::sarif::write_lint(out, &outcome),
    };
    out.done(written).context("writing the report")?;
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    Ok(if !outcome.errors.is_empty() {
        EXIT_ERROR
    } else if threshold.is_some_and(|t| outcome.findings.iter().any(|f| f.severity >= t)) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// `--enable` and `--disable`, by code or name; `--disable` wins.
fn selection(args: &LintArgs) -> anyhow::Result<Selection> {
    let lookup = |names: &[String]| -> anyhow::Result<Vec<&'static rules::Rule>> {
        names
            .iter()
            .filter(|name| !name.trim().is_empty())
            .map(|name| {
                rules::find(name.trim())
                    .with_context(|| format!("unknown rule `{name}` (see `nats-doctor rules`)"))
            })
            .collect()
    };
    let enabled = lookup(&args.enable)?;
    let disabled = lookup(&args.disable)?;
    let mut selection = Selection::all();
    selection.rules.retain(|rule| {
        (enabled.is_empty() || enabled.iter().any(|r| r.code == rule.code))
            && !disabled.iter().any(|r| r.code == rule.code)
    });
    Ok(selection)
}
