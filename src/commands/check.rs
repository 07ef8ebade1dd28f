//! `nats-doctor check [URL]`: settings (flags, env file, environment), the six steps
//! with their run limit, the report in the chosen format — to standard output, or with
//! `--output FILE` atomically to a file — and the exit code: 0 every step passed, 1 a
//! step failed, 2 settings that cannot be read; `--format nagios` 0/1/2/3 (its
//! verdict), `--format prometheus` 0 once the metrics are written.

use super::{settings, Stdout, EXIT_FINDINGS, EXIT_OK};
use crate::cli::{CheckArgs, CheckFormat, ThresholdArgs};
use crate::connection::ConnectionSettings;
use crate::probe::verdict::{self, Thresholds};
use crate::probe::{self, CheckReport};
use crate::report;
use anyhow::{bail, Context as _};
use std::io::Write;
use std::path::Path;

/// Exit code of `check --format nagios` when the check could not run.
pub const EXIT_NAGIOS_UNKNOWN: u8 = 3;

pub(super) fn run(args: &CheckArgs, quiet: bool, out: &mut Stdout) -> anyhow::Result<u8> {
    let environment = settings::process_environment;
    let connection = match (read_settings(args, &environment), args.format) {
        (Ok(connection), _) => connection,
        // A monitoring system reads the first line and the exit code, not stderr.
        (Err(error), CheckFormat::Nagios) => {
            let written = report::check::nagios::write_unknown(out, &super::error_message(&error));
            out.done(written).context("writing the report")?;
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
        namespace: settings::pod_namespace(&environment),
        pod: settings::pod_name(&environment),
        cluster_domain: args.cluster_domain.trim_end_matches('.').to_string(),
    };
    let runtime = super::runtime()?;
    let report = runtime.block_on(probe::run(&connection, &options));
    // A blocking task still running (a name lookup that never returns) would otherwise
    // keep the process alive after the report: the runtime waits for its blocking pool
    // when dropped.
    runtime.shutdown_background();
    let verdict = verdict::verdict(&report, &thresholds(&args.thresholds));
    let print = |target: &mut dyn Write| match args.format {
        CheckFormat::Json => report::check::json::write(target, &report),
        CheckFormat::Nagios => report::check::nagios::write(target, &verdict),
        CheckFormat::Prometheus => report::check::prometheus::write(target, &report, &verdict),
        CheckFormat::Text => report::check::text::write(target, &report, quiet),
    };
    match &args.output {
        Some(path) => {
            // A file is read by programs, not by people at a terminal.
            colored::control::set_override(false);
            let mut contents = Vec::new();
            print(&mut contents).context("writing the report")?;
            write_atomically(path, &contents)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let written = print(out);
            out.done(written).context("writing the report")?;
        }
    }
    Ok(exit_code(args.format, &report, &verdict))
}

/// The settings, and `check URL` as `check --url URL` (clap refuses both).
fn read_settings(
    args: &CheckArgs,
    environment: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<ConnectionSettings> {
    let mut connect = args.connect.clone();
    if let Some(server) = &args.server {
        connect.url = Some(server.clone());
    }
    let connection = settings::connection(&connect, environment)?;
    if let Some(subject) = &args.subject {
        if crate::subject::publish_problem(subject).is_some() {
            bail!("--subject `{subject}` is not a subject one can publish to");
        }
    }
    Ok(connection)
}

fn thresholds(args: &ThresholdArgs) -> Thresholds {
    Thresholds {
        connect_warn: args.connect_warn,
        connect_critical: args.connect_critical,
        rtt_warn: args.rtt_warn,
        rtt_critical: args.rtt_critical,
    }
}

fn exit_code(format: CheckFormat, report: &CheckReport, verdict: &verdict::Verdict) -> u8 {
    match format {
        CheckFormat::Nagios => verdict.status.code(),
        // As natscli: the metrics carry the verdict, so that `> f.tmp && mv f.tmp f.prom`
        // also publishes a failed check.
        CheckFormat::Prometheus => EXIT_OK,
        CheckFormat::Json | CheckFormat::Text => {
            if report.ok() {
                EXIT_OK
            } else {
                EXIT_FINDINGS
            }
        }
    }
}

/// Writes `contents` to a temporary file next to `path`, then renames it over `path`, so
/// that a reader (the textfile collector) never sees a half-written file.
fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("nats_doctor.prom");
        write_atomically(&path, b"nats_doctor_check_ok 1\n").expect("written");
        assert_eq!(
            std::fs::read(&path).expect("read"),
            b"nats_doctor_check_ok 1\n"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("nats_doctor.prom")]);
        assert!(write_atomically(&dir.path().join("missing/x.prom"), b"").is_err());
    }
}
