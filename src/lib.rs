//! nats-doctor: will this service reach NATS, and if not, why?
//!
//! `run` dispatches a parsed command line to its command and returns the exit code:
//! 0 (nothing to report / all passed), 1 (findings / a failed step), 2 (usage or input
//! errors).

pub mod cli;
pub mod connection;
pub mod diagnostic;
pub mod events;
pub mod files;
pub mod lint;
pub mod manifest;
pub mod messaging;
pub mod nats;
pub mod natsurl;
pub mod probe;
pub mod report;
pub mod rfc3339;
pub mod rules;
pub mod runbook;
pub mod secret;

use anyhow::{bail, Context as _};
use cli::{CheckArgs, Cli, ColorChoice, Command, FailOn, LintArgs};
use diagnostic::Severity;
use lint::context::LintOptions;
use lint::Selection;
use std::io::{IsTerminal, Write};

pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// Runs a command and returns its exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    configure_color(cli.color);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let code = match &cli.command {
        Command::Check(args) => check_command(args, cli.quiet, &mut out)?,
        Command::Completions(args) => {
            unless_closed(report::completions::write(&mut out, args.shell))
                .context("writing the completion script")?;
            EXIT_OK
        }
        Command::Lint(args) => lint_command(args, cli.quiet, &mut out)?,
        Command::Man(args) => match report::man::write(&mut out, args.command.as_deref())
            .or_else(|error| unless_closed(Err(error)).map(|()| Some(())))
            .context("writing the man page")?
        {
            Some(()) => EXIT_OK,
            None => bail!(
                "no command `{}` (one of: {})",
                args.command.as_deref().unwrap_or_default(),
                report::man::commands().join(", ")
            ),
        },
        Command::Rules(args) => {
            report::rules::write_list(&mut out, args.format)?;
            EXIT_OK
        }
        Command::Explain(args) => match rules::find(&args.rule) {
            Some(rule) => {
                report::rules::write_explanation(&mut out, rule)?;
                EXIT_OK
            }
            None => bail!("unknown rule `{}` (see `nats-doctor rules`)", args.rule),
        },
        Command::TestMessaging(args) => {
            messaging::commands::test_messaging(args, cli.quiet, &mut out)?
        }
        Command::Watch(args) => {
            // watch streams: it writes through its own handle and flushes as it goes.
            out.flush().context("writing output")?;
            messaging::commands::watch(args, cli.quiet)?
        }
    };
    match out.flush() {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.context("writing output")?,
    }
    Ok(code)
}

/// A write error, unless it is the reader going away (`| head`), which is not one.
fn unless_closed(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn configure_color(choice: ColorChoice) {
    let enabled = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    colored::control::set_override(enabled);
}

/// Exit code of `check --format nagios` when the check could not run.
pub const EXIT_NAGIOS_UNKNOWN: u8 = 3;

fn check_command(args: &CheckArgs, quiet: bool, out: &mut dyn Write) -> anyhow::Result<u8> {
    let environment = connection::process_environment;
    let prepared = (|| -> anyhow::Result<connection::Connection> {
        // `check URL` is `check --url URL` (clap refuses both).
        let mut connect = args.connect.clone();
        if let Some(server) = &args.server {
            connect.url = Some(server.clone());
        }
        let connection = connection::resolve(&connect, &environment)?;
        if let Some(subject) = &args.subject {
            if subject.is_empty()
                || subject.contains([' ', '*', '>'])
                || subject.split('.').any(str::is_empty)
            {
                bail!("--subject `{subject}` is not a subject one can publish to");
            }
        }
        Ok(connection)
    })();
    let connection = match (prepared, args.format) {
        (Ok(connection), _) => connection,
        // A monitoring system reads the first line and the exit code, not stderr.
        (Err(error), cli::CheckFormat::Nagios) => {
            report::check_nagios::write_unknown(out, &format!("{error:#}"))
                .context("writing the report")?;
            return Ok(EXIT_NAGIOS_UNKNOWN);
        }
        (Err(error), _) => return Err(error),
    };
    let options = probe::CheckOptions {
        resolv_conf: args.resolv_conf.clone(),
        nameserver: args.nameserver,
        system_resolver: !args.no_system_resolver,
        count: usize::try_from(args.count).unwrap_or(usize::MAX),
        subject: args.subject.clone(),
        namespace: probe::pod_namespace(&environment),
        cluster_domain: args.cluster_domain.trim_end_matches('.').to_string(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(probe::run(&connection, &options));
    // A blocking task still running (a name lookup that never returns) would otherwise
    // keep the process alive after the report: the runtime waits for its blocking pool
    // when dropped.
    runtime.shutdown_background();
    let verdict = report::check_measures::verdict(&report, &args.thresholds);
    let mut file_contents = Vec::new();
    let target: &mut dyn Write = match &args.output {
        Some(_) => {
            // A file is read by programs, not by people at a terminal.
            colored::control::set_override(false);
            &mut file_contents
        }
        None => out,
    };
    let written = match args.format {
        cli::CheckFormat::Json => report::check_json::write(target, &report),
        cli::CheckFormat::Nagios => report::check_nagios::write(target, &verdict),
        cli::CheckFormat::Prometheus => report::check_prometheus::write(target, &report, &verdict),
        cli::CheckFormat::Text => report::check_text::write(target, &report, quiet),
    };
    match written {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the report")?,
    }
    if let Some(path) = &args.output {
        write_atomically(path, &file_contents)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(match args.format {
        cli::CheckFormat::Nagios => verdict.status.code(),
        // As natscli: the metrics carry the verdict, so that `> f.tmp && mv f.tmp f.prom`
        // also publishes a failed check.
        cli::CheckFormat::Prometheus => EXIT_OK,
        cli::CheckFormat::Json | cli::CheckFormat::Text => {
            if report.ok() {
                EXIT_OK
            } else {
                EXIT_FINDINGS
            }
        }
    })
}

/// Writes `contents` to a temporary file next to `path`, then renames it over `path`, so
/// that a reader (the textfile collector) never sees a half-written file.
fn write_atomically(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(temporary_name);
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

fn lint_command(args: &LintArgs, quiet: bool, out: &mut dyn Write) -> anyhow::Result<u8> {
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
    let outcome = lint::run(&args.paths, args.env, &options, &load, &selection);
    let result = report::write_lint(out, &outcome, args.format, quiet, args.verbose);
    match result {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the report")?,
    }
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
