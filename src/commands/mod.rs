//! The command edge: the one place that reads settings (flags, the environment, env
//! files), runs a command, prints through `crate::report` and maps the result to an
//! exit code. Each command starts in its own file here; `main.rs` only parses the
//! command line and hands it over.
//!
//! Errors become `anyhow` here and nowhere deeper, and are printed once, by [`run`],
//! through `report::print_error` (credentials masked, control characters escaped).

mod check;
mod completions;
mod explain;
mod lint;
mod man;
mod rules;
pub(crate) mod settings;
mod test_messaging;
mod watch;

use crate::cli::{Cli, ColorChoice, Command};
use crate::report::{self, Output};
use anyhow::Context as _;
use clap::{CommandFactory, Parser};
use std::ffi::OsString;
use std::io::{self, IsTerminal};

/// Nothing to report, every step passed, every case arrived.
pub const EXIT_OK: u8 = 0;
/// Findings, a failed step, a lost case, an invalid event.
pub const EXIT_FINDINGS: u8 = 1;
/// A usage error, settings that cannot be read, an input that cannot be read.
pub const EXIT_ERROR: u8 = 2;

/// Standard output, buffered, through the writer that stops at a closed pipe.
pub(crate) type Stdout = Output<io::BufWriter<io::StdoutLock<'static>>>;

/// Bytes written to standard output at a time. A lint report of a large input runs to
/// megabytes (4 MB for the 5,285 findings of the project's benchmark corpus): written
/// 8 KiB at a time, as `BufWriter` does by default, that is 500 writes into the pipe of
/// a CI job.
const STDOUT_BUFFER: usize = 64 * 1024;

/// The command line as typed. A usage error (or `--help`, `--version`) is printed and
/// ends the process here, with clap's exit code; the values clap would echo are masked
/// and escaped first.
pub fn parse(arguments: &[OsString]) -> Cli {
    let cli = match Cli::try_parse_from(arguments) {
        Ok(cli) => cli,
        Err(error) => report::command_line::sanitize(error, &Cli::command(), arguments).exit(),
    };
    if let Some(flag) = meaningless_global_flag(&cli) {
        let name = cli.command.name();
        Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                format!("`{flag}` means nothing to `nats-doctor {name}`, which does not take it"),
            )
            .exit();
    }
    cli
}

/// `--color` or `-q` given before the name of a command that has no such flag.
fn meaningless_global_flag(cli: &Cli) -> Option<&'static str> {
    let (takes_color, takes_quiet) = match &cli.command {
        Command::Check(_) | Command::Lint(_) | Command::TestMessaging(_) | Command::Watch(_) => {
            (true, true)
        }
        Command::Rules(_) => (true, false),
        Command::Completions(_) | Command::Explain(_) | Command::Man(_) => (false, false),
    };
    if cli.color.is_some() && !takes_color {
        Some("--color")
    } else if cli.quiet && !takes_quiet {
        Some("--quiet")
    } else {
        None
    }
}

/// Runs a command and returns its exit code; an error is printed here.
pub fn run(cli: Cli) -> u8 {
    match dispatch(&cli) {
        Ok(code) => code,
        Err(error) => {
            report::print_error(&error_message(&error));
            EXIT_ERROR
        }
    }
}

/// An error and its causes, joined with `: `, each said once: an error whose message
/// already quotes its cause (`cannot read --tls-ca FILE: No such file…`) is not
/// followed by the cause again.
pub(crate) fn error_message(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty() || message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

fn dispatch(cli: &Cli) -> anyhow::Result<u8> {
    // A flag after the command name wins over one before it.
    let color = match &cli.command {
        Command::Check(args) => args.color.color,
        Command::Lint(args) => args.color.color,
        Command::Rules(args) => args.color.color,
        Command::TestMessaging(args) => args.color.color,
        Command::Watch(args) => args.color.color,
        Command::Completions(_) | Command::Explain(_) | Command::Man(_) => None,
    };
    configure_color(color.or(cli.color).unwrap_or(ColorChoice::Auto));
    let mut out: Stdout = Output::new(io::BufWriter::with_capacity(
        STDOUT_BUFFER,
        io::stdout().lock(),
    ));
    let code = match &cli.command {
        Command::Check(args) => check::run(args, args.quiet || cli.quiet, &mut out)?,
        Command::Completions(args) => completions::run(args, &mut out)?,
        Command::Explain(args) => explain::run(args, &mut out)?,
        Command::Lint(args) => lint::run(args, args.quiet || cli.quiet, &mut out)?,
        Command::Man(args) => man::run(args, &mut out)?,
        Command::Rules(args) => rules::run(args, &mut out)?,
        Command::TestMessaging(args) => {
            test_messaging::run(args, args.quiet || cli.quiet, &mut out)?
        }
        Command::Watch(args) => {
            // watch streams: it writes through its own handle and flushes as it goes.
            out.finish().context("writing output")?;
            drop(out);
            return watch::run(args, args.quiet || cli.quiet);
        }
    };
    out.finish().context("writing output")?;
    Ok(code)
}

fn configure_color(choice: ColorChoice) {
    let enabled = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
        }
    };
    colored::control::set_override(enabled);
}

/// One thread: the network commands wait on the network, and their verdicts rely on a
/// connection's in-order processing, not on parallelism.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
